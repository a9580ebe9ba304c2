"""The underlying counts of one quarter's HR report, grouped in SQL (bot/db/repo_hr.py).

The result is a flat mapping of count names to whole numbers: groups, never people. It is
what a quarter's snapshot freezes, and it is never shown to anyone as it is: `tables.py`
turns it into tables, and only `disclosure.protect` releases them.

Names (`|`-separated; a scope is `all`, `senior`, `below` or `d=<department>`):
  head|<scope>                      people on the roster
  declarants|<scope>                of those, people with a declaration that counts (not objecting)
  ans|<scope>|<question>|<code>     people giving that answer (codes no longer on the list
                                    are counted as `older_list`)
  inc|total, inc|mot|<code>, inc|kind|<code>, inc|loc|<code or none>, incq|<quarter>
  reach|<month>|<scope>             roster people the month's bulletin reached
  fb|<month>|<rating>               bulletin reactions
  member|<network>, attend|<kind>|<network or ->   staff networks and events
  roster|unlinked                   roster rows known only by UPN so far
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import repo_hr
from bot.declarations.taxonomy import Taxonomy
from bot.stats.config import HrConfig
from bot.stats.quarters import Quarter

OLDER_LIST = "older_list"
INCIDENT_QUARTERS = 4


def scope_of_department(department: str) -> str:
    """The scope name of one department."""
    return f"d={department}"


async def collect(
    session: AsyncSession,
    *,
    quarter: Quarter,
    config: HrConfig,
    taxonomy: Taxonomy,
    now: datetime | None = None,
) -> dict[str, int]:
    """Every count the quarterly report is built from, for `quarter`."""
    counts: Counter[str] = Counter()
    senior_bands = config.senior_bands

    def add(name: str, value: int) -> None:
        counts[name] += value

    for department, senior, people, declared in await repo_hr.headcounts(
        session, senior_bands=senior_bands
    ):
        for scope in ("all", "senior" if senior else "below", scope_of_department(department)):
            add(f"head|{scope}", people)
            add(f"declarants|{scope}", declared)
    if not counts:
        return {}
    prefer_not = taxonomy.prefer_not_to_say
    for department, senior, question_id, code, people in await repo_hr.answer_counts(
        session, senior_bands=senior_bands
    ):
        question = taxonomy.question(question_id)
        if question is None:
            continue  # a question no longer asked: not part of any table
        if code != prefer_not and question.option(code) is None:
            code = OLDER_LIST
        for scope in ("all", "senior" if senior else "below", scope_of_department(department)):
            add(f"ans|{scope}|{question_id}|{code}", people)
    counts["roster|unlinked"] = (await repo_hr.roster_size(session))["unlinked"]
    await _incidents(session, counts, quarter)
    await _bulletins(session, counts, quarter)
    await _events(session, counts, quarter, now=now)
    return dict(counts)


async def _incidents(session: AsyncSession, counts: Counter[str], quarter: Quarter) -> None:
    total = 0
    for motivations, kinds, location, reports in await repo_hr.incident_counts(
        session, start=quarter.start, end=quarter.end
    ):
        total += reports
        for code in {c for c in motivations.split(",") if c}:
            counts[f"inc|mot|{code}"] += reports
        for code in {c for c in kinds.split(",") if c}:
            counts[f"inc|kind|{code}"] += reports
        counts[f"inc|loc|{location or 'none'}"] += reports
    counts["inc|total"] = total
    for earlier in quarter.back(INCIDENT_QUARTERS)[:-1]:
        counts[f"incq|{earlier}"] = await repo_hr.incident_total(
            session, start=earlier.start, end=earlier.end
        )


async def _bulletins(session: AsyncSession, counts: Counter[str], quarter: Quarter) -> None:
    months = quarter.months
    for month in months:
        counts[f"reach|{month}|all"] += 0
    for month, department, people in await repo_hr.bulletin_reach_counts(session, months=months):
        counts[f"reach|{month}|all"] += people
        counts[f"reach|{month}|{scope_of_department(department)}"] += people
    for month, rating, people in await repo_hr.bulletin_feedback_counts(session, months=months):
        counts[f"fb|{month}|{rating}"] += people


async def _events(
    session: AsyncSession, counts: Counter[str], quarter: Quarter, *, now: datetime | None
) -> None:
    """Staff network membership, and people who attended events in the quarter."""
    try:
        from bot.db import repo_events
    except ImportError:  # pragma: no cover - the events feature is not installed
        return
    members = repo_events.membership_select().subquery()
    rows = await session.execute(
        select(members.c.network, func.count(func.distinct(members.c.pseudonym))).group_by(
            members.c.network
        )
    )
    for network, people in rows:
        counts[f"member|{network}"] = int(people)
    places = repo_events.attendance_select(now=now).subquery()
    rows = await session.execute(
        select(places.c.kind, places.c.network, func.count(func.distinct(places.c.pseudonym)))
        .where(
            places.c.attended.is_(True),
            places.c.event_date >= quarter.start,
            places.c.event_date <= quarter.end,
        )
        .group_by(places.c.kind, places.c.network)
    )
    for kind, network, people in rows:
        counts[f"attend|{kind}|{network or '-'}"] = int(people)
