"""The council's clock: today in London, and working days in England and Wales (weekdays
that are not bank holidays).

Bank holidays come from the maintained `holidays` library (GB, subdivision ENG, whose
bank holidays are the same as Wales's), so substitute days ("Boxing Day (observed)") and
one-off holidays are included without a table of our own to keep up to date.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from dateutil.relativedelta import relativedelta

LONDON = ZoneInfo("Europe/London")


def today_in_london(now: datetime | None = None) -> date:
    """The date in the council's time zone (deadlines, quarters and dates shown are London's)."""
    return (now or datetime.now(LONDON)).astimezone(LONDON).date()


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


def last_working_day(year: int, month: int) -> date:
    """The last working day of a month (the last day, unless a weekend or bank holiday)."""
    return working_day_on_or_before(date(year, month, 1) + relativedelta(months=1, days=-1))


def working_day_on_or_before(day: date) -> date:
    """`day` if it is a working day, else the working day before it."""
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


def working_days_between(start: date, end: date) -> int:
    """How many working days fall after `start`, up to and including `end` (0 if none)."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count
