"""The plans' "By when" wording turned into dates, by rule, never by guessing.

- "March 2023" → the last working day of March 2023 (England and Wales).
- "September 2020 March 2021" → one milestone per month named.
- "Quarterly" → the last working day of each quarter (March, June, September, December).
- "Ongoing" → quarterly check-ins, on the same days.
- "Annually" → a review each year on a configured day (or the working day before it).

Anything else raises `DeadlineError`; `edi-bot actions validate` reports it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from bot.core.clock import last_working_day, working_day_on_or_before

MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_MONTH_YEAR = re.compile(r"(" + "|".join(MONTHS) + r")\s+(\d{4})", re.IGNORECASE)
_RECURRING_WORDS = {"ongoing": "ongoing", "quarterly": "quarterly", "annually": "annually"}
QUARTER_END_MONTHS = (3, 6, 9, 12)

Recurrence = Literal["quarterly", "ongoing", "annually"]


class DeadlineError(ValueError):
    """Wording no rule covers; the message says what was not understood."""


@dataclass(frozen=True)
class AnnualReview:
    """The day of the year on which "Annually" actions are reviewed."""

    month: int
    day: int

    @classmethod
    def parse(cls, text: str) -> AnnualReview:
        """From "MM-DD" (e.g. "06-30"), checked to be a real day of a leap year."""
        match = re.fullmatch(r"(\d{1,2})-(\d{1,2})", text.strip())
        if match is None:
            raise ValueError(f"{text!r} is not MM-DD")
        month, day = int(match.group(1)), int(match.group(2))
        date(2024, month, day)  # raises ValueError for 02-30 and the like
        return cls(month, day)

    def on(self, year: int) -> date:
        """This year's review: the day, or the working day before it."""
        day = min(self.day, 28) if (self.month, self.day) == (2, 29) else self.day
        return working_day_on_or_before(date(year, self.month, day))


@dataclass(frozen=True)
class Milestone:
    """A date an action is measured against; `final` when only "done" satisfies it."""

    on: date
    final: bool


@dataclass(frozen=True)
class Deadline:
    """A parsed deadline: fixed dates, or a recurrence counted from the plan's start."""

    text: str
    dates: tuple[date, ...] = ()
    recurrence: Recurrence | None = None
    starts: date = date(2000, 1, 1)
    annual: AnnualReview = AnnualReview(6, 30)

    @property
    def describe(self) -> str:
        """How the bot reads the wording, in words."""
        if self.recurrence == "ongoing":
            return "quarterly check-ins (ongoing)"
        if self.recurrence == "quarterly":
            return "quarter ends"
        if self.recurrence == "annually":
            return f"each year by {date(2024, self.annual.month, self.annual.day):%-d %B}"
        return ", ".join(f"{day:%a %-d %b %Y}" for day in self.dates)

    def milestones_until(self, last: date) -> list[Milestone]:
        """Every milestone up to `last` (fixed dates: all of them), in order."""
        if self.recurrence is None:
            return [Milestone(day, i == len(self.dates) - 1) for i, day in enumerate(self.dates)]
        found: list[Milestone] = []
        for year in range(self.starts.year, last.year + 1):
            for day in self._in_year(year):
                if self.starts <= day <= last:
                    found.append(Milestone(day, False))
        return found

    def previous(self, day: date) -> Milestone | None:
        """The latest milestone strictly before `day`."""
        earlier = [m for m in self.milestones_until(day) if m.on < day]
        return earlier[-1] if earlier else None

    def next_on_or_after(self, day: date) -> Milestone | None:
        """The earliest milestone on or after `day` (None when a fixed list has ended)."""
        horizon = day + timedelta(days=400)
        later = [m for m in self.milestones_until(horizon) if m.on >= day]
        return later[0] if later else None

    def window_start(self, milestone: Milestone) -> date:
        """Updates after this day count towards `milestone` (its check-in period)."""
        before = self.previous(milestone.on)
        if before is not None:
            return before.on
        return milestone.on - timedelta(days=92)

    def _in_year(self, year: int) -> list[date]:
        if self.recurrence == "annually":
            return [self.annual.on(year)]
        return [last_working_day(year, month) for month in QUARTER_END_MONTHS]


def parse_deadline(
    text: str, *, starts: date = date(2000, 1, 1), annual: AnnualReview | None = None
) -> Deadline:
    """The deadline `text` means; DeadlineError if any part of it has no rule."""
    wording = " ".join(str(text or "").split())
    if not wording:
        raise DeadlineError("no deadline given")
    dates: list[date] = []
    recurrences: set[str] = set()
    for token in re.finditer(r"\S+(?:\s+\d{4}(?!\S))?", wording):
        piece = token.group(0)
        month = _MONTH_YEAR.fullmatch(piece)
        if month is not None:
            number = MONTHS.index(month.group(1).lower()) + 1
            dates.append(last_working_day(int(month.group(2)), number))
        elif piece.lower() in _RECURRING_WORDS:
            recurrences.add(_RECURRING_WORDS[piece.lower()])
        else:
            raise DeadlineError(f"no rule for {piece!r} in {wording!r}")
    if recurrences and dates:
        raise DeadlineError(f"{wording!r} mixes dates with a recurring deadline")
    if len(recurrences) > 1:
        raise DeadlineError(f"{wording!r} names more than one recurrence")
    review = annual or AnnualReview(6, 30)
    if recurrences:
        recurrence: Recurrence = recurrences.pop()  # type: ignore[assignment]
        return Deadline(wording, (), recurrence, starts, review)
    return Deadline(wording, tuple(sorted(set(dates))), None, starts, review)
