"""The HR report's configuration from content/hr/report.yaml: targets, grade bands, words."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.content import Content, Texts, load_model
from bot.hr.report_file import HrReportFile

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
    """Read and check content/hr/report.yaml (ContentError with each problem's line)."""
    written = load_model(content.root / f"{HR_REPORT}.yaml", HrReportFile)
    targets = tuple(
        Target(
            id=t.id,
            label=t.label,
            seed_wording=t.seed_wording,
            question=t.question,
            codes=tuple(t.codes),
            denominator=t.denominator,
            denominator_question=t.denominator_question or t.question,
            percent={str(scope): value for scope, value in t.percent.items()},
            confirm=t.confirm.strip() if t.confirm else None,
        )
        for t in written.targets
    )
    bands = tuple(
        GradeBand(
            code=b.code,
            label=b.label,
            low=b.grades[0] if b.grades else None,
            high=b.grades[1] if b.grades else None,
            senior=b.senior,
        )
        for b in written.grade_bands
    )
    return HrConfig(
        targets=targets,
        bands=bands,
        max_leaver_share=written.max_leaver_share,
        trend_quarters=written.trend_quarters,
        texts=Texts({"text": written.text}),
    )
