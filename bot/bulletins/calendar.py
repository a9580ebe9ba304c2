"""Working days in England and Wales: weekdays that are not bank holidays.

Bank holidays come from the maintained `holidays` library (GB, subdivision ENG, whose
bank holidays are the same as Wales's), so substitute days ("Boxing Day (observed)") and
one-off holidays are included without a table of our own to keep up to date.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

LONDON = ZoneInfo("Europe/London")


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def is_bank_holiday(day: date) -> bool:
    """True on an England and Wales bank holiday (substitute days included)."""
    return day in _bank_holidays(day.year)


def is_working_day(day: date) -> bool:
    """Monday to Friday, and not a bank holiday."""
    return day.weekday() < 5 and not is_bank_holiday(day)


def first_working_day(year: int, month: int) -> date:
    """The first working day of a month (the 1st, unless a weekend or bank holiday)."""
    day = date(year, month, 1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day
