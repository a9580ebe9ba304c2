"""The HR report's configuration from content/hr/report.yaml: targets, grade bands, words."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.core.content import Content, ContentError, Texts

HR_REPORT = "hr/report"


@dataclass(frozen=True, slots=True)
class Target:
    """One representative workforce target (2020-21 action D4)."""

    id: str
    label: str
    seed_wording: str
    question: str
    codes: tuple[str, ...]
    denominator: str  # "answered" or "headcount"
    denominator_question: str
    percent: dict[str, float]  # scope ("overall" | "senior") -> target percentage
    confirm: str | None


@dataclass(frozen=True, slots=True)
class GradeBand:
    """A grade band on the roster."""

    code: str
    label: str
    low: int | None
    high: int | None
    senior: bool


@dataclass(frozen=True)
class HrConfig:
    """Everything the HR report reads from content."""

    targets: tuple[Target, ...]
    bands: tuple[GradeBand, ...]
    max_leaver_share: float
    trend_quarters: int
    texts: Texts
    raw: dict[str, Any]

    @property
    def senior_bands(self) -> tuple[str, ...]:
        """Codes of the bands that count as Grade 13 and above."""
        return tuple(b.code for b in self.bands if b.senior)

    def band(self, text: str) -> GradeBand | None:
        """The band a roster's grade column means: a code, a label, or a grade number."""
        value = " ".join(text.split()).lower()
        if not value:
            return None
        for band in self.bands:
            if value in (band.code.lower(), band.label.lower()):
                return band
        number = value.removeprefix("grade").strip()
        if number.isdigit():
            grade = int(number)
            for band in self.bands:
                if (
                    band.low is not None
                    and band.high is not None
                    and band.low <= grade <= band.high
                ):
                    return band
        return None

    def label(self, key: str) -> str:
        """A short label from `text.labels`."""
        return self.texts(f"text.labels.{key}")


def load_hr_config(content: Content) -> HrConfig:
    """Read and check content/hr/report.yaml."""
    data = content.data(HR_REPORT)
    try:
        targets = tuple(
            Target(
                id=str(t["id"]),
                label=str(t["label"]),
                seed_wording=str(t["seed_wording"]),
                question=str(t["question"]),
                codes=tuple(str(c) for c in t["codes"]),
                denominator=str(t.get("denominator", "answered")),
                denominator_question=str(t.get("denominator_question", t["question"])),
                percent={str(k): float(v) for k, v in t["percent"].items()},
                confirm=str(t["confirm"]).strip() if t.get("confirm") else None,
            )
            for t in data["targets"]
        )
        bands = tuple(
            GradeBand(
                code=str(b["code"]),
                label=str(b["label"]),
                low=int(b["grades"][0]) if b.get("grades") else None,
                high=int(b["grades"][1]) if b.get("grades") else None,
                senior=bool(b.get("senior", False)),
            )
            for b in data["grade_bands"]
        )
        config = HrConfig(
            targets=targets,
            bands=bands,
            max_leaver_share=float(data.get("max_leaver_share", 0.2)),
            trend_quarters=int(data.get("trend_quarters", 8)),
            texts=Texts(data),
            raw=data,
        )
    except (KeyError, TypeError, ValueError, IndexError) as error:
        raise ContentError(f"hr_report.yaml: {error!r}") from error
    for target in targets:
        if target.denominator not in ("answered", "headcount"):
            raise ContentError(f"hr_report.yaml: target {target.id}: unknown denominator")
        if not set(target.percent) <= {"overall", "senior"}:
            raise ContentError(f"hr_report.yaml: target {target.id}: scopes are overall, senior")
    return config
