"""The underlying counts of one quarter's HR report, grouped in SQL.

The result is a flat mapping of count names to whole numbers, and beside it each count's
cell key (the sum of its records' keys modulo 256; bot/hr/cellkey.py): groups, never
people. It is what a quarter's snapshot freezes, and it is never shown to anyone as it is:
`tables.py` turns it into tables, and only `disclosure.protect` releases them.

Record keys are worked out where the records are, by the database, as the same HMAC
`RecordKeys.of` computes (PostgreSQL: with its built-in sha256; SQLite: a function registered
on the connection), once per person, so every grouping still happens in SQL.

Names (`|`-separated; a scope is `all`, `senior`, `below` or `d=<department>`):
  head|<scope>                      people on the roster
  declarants|<scope>                of those, people with a declaration that counts (not objecting)
  ans|<scope>|<question>|<code>     people giving that answer (codes no longer on the list
                                    are counted as `older_list`)
  inc|total, inc|mot|<code>, inc|kind|<code>, inc|loc|<code or none>, incq|<quarter>
  reach|<month>|<scope>             roster people the month's bulletin reached
  fb|<month>|<rating>               bulletin reactions
  member|<network>                  current members of a staff network
  roster|unlinked                   roster rows known only by UPN so far (no pseudonym)
  attend|<kind>|<network or ->      people who attended; every kind and network that held an
                                    event in the quarter is present, zero when nobody came
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, LargeBinary, Select, Subquery, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.bulletins import feature as bulletins
from bot.declarations import feature as declarations
from bot.events import feature as events
from bot.hr.cellkey import KEY_RANGE, RecordKeys
from bot.hr.config import HrConfig
from bot.hr.models import RosterPerson
from bot.hr.quarters import Quarter
from bot.incidents import feature as incidents

if TYPE_CHECKING:
    from bot.declarations.feature import Taxonomy

OLDER_LIST = "older_list"
INCIDENT_QUARTERS = 4
_SQLITE_RECORD_KEY = "edi_hr_record_key"


def scope_of_department(department: str) -> str:
    """The scope name of one department."""
    return f"d={department}"


@dataclass
class Collected:
    """One quarter's counts and their cell keys (empty when there is no roster)."""

    counts: dict[str, int] = field(default_factory=dict)
    keys: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, people: int, key_sum: int) -> None:
        """Count `people` more records under `name`, whose record keys sum to `key_sum`."""
        self.counts[name] = self.counts.get(name, 0) + int(people)
        self.keys[name] = (self.keys.get(name, 0) + int(key_sum)) % KEY_RANGE


RecordKeySql = Callable[[Any], ColumnElement[int]]


async def record_key_sql(session: AsyncSession, record_keys: RecordKeys) -> RecordKeySql:
    """An SQL expression for the record key of an identifier column, on this session's
    database: the same HMAC-SHA256 as `RecordKeys.of`, first byte."""
    inner, outer = record_keys.sql_pads()
    if session.get_bind().dialect.name == "postgresql":

        def postgres(column: Any) -> ColumnElement[int]:
            message = literal(inner, LargeBinary).op("||", return_type=LargeBinary)(
                func.convert_to(column, "UTF8")
            )
            digest = literal(outer, LargeBinary).op("||", return_type=LargeBinary)(
                func.sha256(message)
            )
            return func.get_byte(func.sha256(digest), 0)

        return postgres
    connection = await session.connection()

    def register(sync_connection: Any) -> None:
        sync_connection.connection.dbapi_connection.create_function(
            _SQLITE_RECORD_KEY, 1, _python_record_key(record_keys), deterministic=True
        )

    await connection.run_sync(register)

    def sqlite(column: Any) -> ColumnElement[int]:
        return getattr(func, _SQLITE_RECORD_KEY)(column)  # type: ignore[no-any-return]

    return sqlite


def _python_record_key(record_keys: RecordKeys) -> Callable[[str | None], int | None]:
    def record_key(identifier: str | None) -> int | None:
        return None if identifier is None else record_keys.of(identifier)

    return record_key


async def collect(
    session: AsyncSession,
    *,
    quarter: Quarter,
    config: HrConfig,
    taxonomy: Taxonomy,
    record_keys: RecordKeys,
    now: datetime | None = None,
) -> Collected:
    """Every count the quarterly report is built from, for `quarter`, with its cell key."""
    found = Collected()
    record_key = await record_key_sql(session, record_keys)
    senior_bands = set(config.senior_bands)

    def scopes(department: str, band: str) -> tuple[str, str, str]:
        level = "senior" if band in senior_bands else "below"
        return ("all", level, scope_of_department(department))

    # One row per roster person on this join (a declaration per person at most), so the
    # record key is worked out once per person.
    declarants = declarations.declarants_select().subquery("declarants")
    declared = declarants.c.pseudonym.is_not(None).label("declared")
    unlinked = RosterPerson.pseudonym.is_(None).label("unlinked")
    rows = await session.execute(
        select(
            RosterPerson.department,
            RosterPerson.grade_band,
            declared,
            unlinked,
            func.count(),
            func.sum(record_key(func.coalesce(RosterPerson.pseudonym, RosterPerson.upn_key))),
        )
        .outerjoin(declarants, declarants.c.pseudonym == RosterPerson.pseudonym)
        .group_by(RosterPerson.department, RosterPerson.grade_band, declared, unlinked)
    )
    for department, band, is_declared, is_unlinked, people, key_sum in rows:
        for scope in scopes(department, band):
            found.add(f"head|{scope}", people, key_sum)
            found.add(
                f"declarants|{scope}", people if is_declared else 0, key_sum if is_declared else 0
            )
        found.add("roster|unlinked", people if is_unlinked else 0, key_sum if is_unlinked else 0)
    if not found.counts:
        return Collected()
    prefer_not = taxonomy.prefer_not_to_say
    for department, band, question_id, code, people, key_sum in await session.execute(
        _answer_counts(record_key)
    ):
        question = taxonomy.question(question_id)
        if question is None:
            continue  # a question no longer asked: not part of any table
        if code != prefer_not and question.option(code) is None:
            code = OLDER_LIST
        for scope in scopes(department, band):
            found.add(f"ans|{scope}|{question_id}|{code}", people, key_sum)
    await _incidents(session, found, quarter, record_keys)
    await _bulletins(session, found, quarter, record_key)
    await _events(session, found, quarter, record_key, now=now)
    return found


def _keyed_roster(record_key: RecordKeySql) -> Subquery:
    """Each roster row with its record key, for joins that give a person several rows:
    grouping by the primary key makes the database work the HMAC out once per person
    rather than once per joined row, and keeps the query parallel (a CTE or a temporary
    table would not)."""
    return (
        select(
            RosterPerson.id,
            RosterPerson.pseudonym,
            RosterPerson.department,
            RosterPerson.grade_band,
            func.min(record_key(func.coalesce(RosterPerson.pseudonym, RosterPerson.upn_key))).label(
                "rk"
            ),
        )
        .group_by(RosterPerson.id)
        .subquery("keyed_roster")
    )


def _answer_counts(record_key: RecordKeySql) -> Select[Any]:
    """(department, grade band, question, code, people, sum of record keys) over the
    countable answers of people on the roster. The record key comes from the declaration
    side (one per declarant, fewer than the roster), grouped as in `_keyed_roster`."""
    answers = declarations.answers_select().subquery()
    declarants = declarations.declarants_select().subquery("declarants")
    keys = (
        select(
            declarants.c.pseudonym,
            func.min(record_key(declarants.c.pseudonym)).label("rk"),
        )
        .group_by(declarants.c.pseudonym)
        .subquery("declarant_keys")
    )
    return (
        select(
            RosterPerson.department,
            RosterPerson.grade_band,
            answers.c.question,
            answers.c.code,
            func.count(),
            func.sum(keys.c.rk),
        )
        .join(answers, answers.c.pseudonym == RosterPerson.pseudonym)
        .join(keys, keys.c.pseudonym == answers.c.pseudonym)
        .group_by(
            RosterPerson.department, RosterPerson.grade_band, answers.c.question, answers.c.code
        )
    )


async def _incidents(
    session: AsyncSession, found: Collected, quarter: Quarter, record_keys: RecordKeys
) -> None:
    """Reports by category this quarter, and totals for the quarters before: one row per
    report (there are few), keyed by reference."""
    earlier = quarter.back(INCIDENT_QUARTERS)[:-1]
    rows = await session.execute(incidents.received_select(start=earlier[0].start, end=quarter.end))
    found.add("inc|total", 0, 0)
    for before in earlier:
        found.add(f"incq|{before}", 0, 0)
    for reference, received_on, motivations, kinds, location in rows:
        key = record_keys.of(f"incident:{reference}")
        received = Quarter.of(received_on)
        if received != quarter:
            found.add(f"incq|{received}", 1, key)
            continue
        found.add("inc|total", 1, key)
        for code in sorted({c for c in (motivations or "").split(",") if c}):
            found.add(f"inc|mot|{code}", 1, key)
        for code in sorted({c for c in (kinds or "").split(",") if c}):
            found.add(f"inc|kind|{code}", 1, key)
        found.add(f"inc|loc|{location or 'none'}", 1, key)


async def _bulletins(
    session: AsyncSession,
    found: Collected,
    quarter: Quarter,
    record_key: RecordKeySql,
) -> None:
    for month in quarter.months:
        found.add(f"reach|{month}|all", 0, 0)
    roster = _keyed_roster(record_key)
    reached = bulletins.reach_select(quarter.months).subquery("reached")
    reach = await session.execute(
        select(reached.c.month, roster.c.department, func.count(), func.sum(roster.c.rk))
        .join(roster, roster.c.pseudonym == reached.c.pseudonym)
        .group_by(reached.c.month, roster.c.department)
    )
    for month, department, people, key_sum in reach:
        for scope in ("all", scope_of_department(department)):
            found.add(f"reach|{month}|{scope}", people, key_sum)
    reactions = bulletins.feedback_select(quarter.months).subquery("reactions")
    feedback = await session.execute(
        select(
            reactions.c.month,
            reactions.c.rating,
            func.count(),
            func.sum(record_key(reactions.c.pseudonym)),
        ).group_by(reactions.c.month, reactions.c.rating)
    )
    for month, rating, people, key_sum in feedback:
        found.add(f"fb|{month}|{rating}", people, key_sum)


async def _events(
    session: AsyncSession,
    found: Collected,
    quarter: Quarter,
    record_key: RecordKeySql,
    *,
    now: datetime | None,
) -> None:
    """Staff network membership, and people who attended events in the quarter."""
    members = events.membership_select().distinct().subquery()
    rows = await session.execute(
        select(members.c.network, func.count(), func.sum(record_key(members.c.pseudonym))).group_by(
            members.c.network
        )
    )
    for network, people, key_sum in rows:
        found.add(f"member|{network}", people, key_sum)
    # Every kind and network that held an event in the quarter gets its row, even if
    # nobody came: events are public, attendance is not.
    held = await session.execute(
        events.events_held_select(start=quarter.start, end=quarter.end, now=now)
    )
    for kind, network in held:
        found.add(f"attend|{kind}|{network or '-'}", 0, 0)
    places = events.attendance_select(now=now).subquery()
    attended = (
        select(places.c.kind, places.c.network, places.c.pseudonym)
        .where(
            places.c.attended.is_(True),
            places.c.event_date >= quarter.start,
            places.c.event_date <= quarter.end,
        )
        .distinct()
        .subquery()
    )
    rows = await session.execute(
        select(
            attended.c.kind,
            attended.c.network,
            func.count(),
            func.sum(record_key(attended.c.pseudonym)),
        ).group_by(attended.c.kind, attended.c.network)
    )
    for kind, network, people, key_sum in rows:
        found.add(f"attend|{kind}|{network or '-'}", people, key_sum)
