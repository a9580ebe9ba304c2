"""The shape of content/hr/report.yaml: the workforce targets, grade bands and words (pydantic).

A key misspelt, missing or of the wrong kind is reported with the file and line by
`bot.core.content.load_model`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from bot.core.content import ContentModel


class TargetEntry(ContentModel):
    """One representative workforce target (2020-21 action D4)."""

    id: str = Field(min_length=1)
    label: str = Field(min_length=1)
    # The plan's words, kept beside the reading of them.
    seed_wording: str
    question: str = Field(min_length=1)
    codes: list[str] = Field(min_length=1)
    denominator: Literal["answered", "headcount"] = "answered"
    # Who is counted below the line, when not everyone who answered `question`.
    denominator_question: str | None = None
    percent: dict[Literal["overall", "senior"], float] = Field(min_length=1)
    confirm: str | None = None


class GradeBandEntry(ContentModel):
    """A grade band on the roster: its code, label, grades (low, high) and seniority."""

    code: str = Field(min_length=1)
    label: str = Field(min_length=1)
    grades: tuple[int, int] | None = None
    senior: bool = False

    @model_validator(mode="after")
    def _in_order(self) -> GradeBandEntry:
        if self.grades is not None and self.grades[0] > self.grades[1]:
            raise ValueError(f"grades run low to high, e.g. [9, 12] (got {list(self.grades)})")
        return self


class HrReportFile(ContentModel):
    """The whole file."""

    targets: list[TargetEntry] = Field(min_length=1)
    grade_bands: list[GradeBandEntry] = Field(min_length=1)
    # Refuse a roster that would drop more than this share of people (ask for a flag).
    max_leaver_share: float = Field(default=0.2, gt=0, le=1)
    trend_quarters: int = Field(default=8, ge=1)
    # The report's sentences (looked up by dotted key as "text.<key>").
    text: dict[str, Any]
