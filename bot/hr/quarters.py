"""Calendar quarters ("2026-Q3" = July to September 2026), the unit HR reports come in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

_QUARTER = re.compile(r"^\s*(\d{4})\s*-?\s*[Qq]([1-4])\s*$")


@dataclass(frozen=True, order=True, slots=True)
class Quarter:
    """One calendar quarter."""

    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """A quarter from "2026-Q3" (or "2026Q3", "2026-q3"); ValueError otherwise."""
        match = _QUARTER.match(text or "")
        if match is None:
            raise ValueError(f"not a quarter: {text!r} (write it like 2026-Q3)")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: date) -> Quarter:
        """The quarter `day` falls in."""
        return cls(day.year, (day.month - 1) // 3 + 1)

    @classmethod
    def last_completed(cls, today: date) -> Quarter:
        """The most recent quarter that has ended by `today`."""
        return cls.of(today).previous()

    def __str__(self) -> str:
        return f"{self.year}-Q{self.number}"

    @property
    def start(self) -> date:
        """Its first day."""
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> date:
        """Its last day."""
        return self.next().start - timedelta(days=1)

    @property
    def months(self) -> list[str]:
        """Its three months as "YYYY-MM" (the bulletin's month keys)."""
        first = 3 * self.number - 2
        return [f"{self.year}-{m:02d}" for m in range(first, first + 3)]

    def previous(self) -> Quarter:
        """The quarter before."""
        return (
            Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)
        )

    def next(self) -> Quarter:
        """The quarter after."""
        return (
            Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)
        )

    def back(self, count: int) -> list[Quarter]:
        """The `count` quarters ending with this one, oldest first."""
        found = [self]
        while len(found) < count:
            found.append(found[-1].previous())
        return found[::-1]
