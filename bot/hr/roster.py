"""The workforce roster: HR's denominators, stored by keyed pseudonym only.

A roster CSV names each person by Entra object id or by UPN, with their department
(directorate), grade and optionally start date. Nothing else is kept, and the ids are not
kept either:

- **by object id**: the row gets the person's keyed pseudonym, HMAC(tenant + object id), the
  very pseudonym their declaration is stored under (`bot/privacy/pseudonym.py`);
- **by UPN**: the bot cannot turn a UPN into an object id without asking Microsoft, so the row
  gets a keyed hash of the lower-cased UPN instead, HMAC("upn" + tenant + UPN), with the same
  key and a different prefix. When the person is next seen in Teams with that UPN (the same
  moment a role granted by UPN is bound, `bot/privacy/roles.py`), `RosterLinker.seen` records
  the pair (UPN hash, pseudonym) in `roster_upn_links` and gives the roster row the
  pseudonym. Later rosters naming them by UPN are then linked at import. Neither side can be
  computed, or reversed, without the pseudonym key.

An import replaces the whole roster in one transaction. People on the old roster and not on
the new one are leavers: their declarations are deleted (docs/declarations.md promised this
to the HR aggregates), and their UPN links forgotten. A dry run reports everything and
writes nothing.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import logging
import re
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.people import PersonKey
from bot.declarations import feature as declarations
from bot.hr import repo as repo_hr
from bot.hr.config import GradeBand, HrConfig
from bot.hr.repo import RosterRow
from bot.privacy.audit import AuditLog
from bot.privacy.pseudonym import Pseudonymiser

log = logging.getLogger(__name__)

# Accepted header names (case, spaces and hyphens ignored) for each column.
COLUMNS: dict[str, tuple[str, ...]] = {
    "object_id": (
        "object_id",
        "aad_object_id",
        "objectid",
        "entra_object_id",
        "azure_ad_object_id",
    ),
    "upn": ("upn", "user_principal_name", "userprincipalname"),
    "department": ("department", "directorate", "dept"),
    "grade": ("grade", "grade_band", "band"),
    "start_date": ("start_date", "startdate", "start"),
    "tenant_id": ("tenant_id", "tenant"),
}
MAX_DEPARTMENT = 120
MAX_PROBLEMS_SHOWN = 50
_DATE_UK = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


class UpnKeys:
    """Keyed hashes of UPNs, for roster rows that name a person by UPN only."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def of(self, tenant_id: str, upn: str) -> str:
        """The UPN's keyed hash: 64 hex characters."""
        message = f"upn\x1f{tenant_id.strip().lower()}\x1f{upn.strip().lower()}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with a roster file, at a line (1 = the header)."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class RosterPlan:
    """What an import would do: the rows, the counts, and any problems."""

    rows: list[RosterRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    lines_read: int = 0
    by_object_id: int = 0
    by_upn: int = 0
    upn_linked: int = 0
    departments: Counter[str] = field(default_factory=Counter)
    bands: Counter[str] = field(default_factory=Counter)
    previous: int = 0
    leavers: list[str] = field(default_factory=list)
    leaver_declarations: int = 0
    too_many_leavers: bool = False

    @property
    def ok(self) -> bool:
        """Whether the import can go ahead."""
        return not self.problems


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import did."""

    people: int
    leavers: int
    declarations_removed: int


def _header_key(text: str) -> str:
    return re.sub(r"[\s\-]+", "_", text.strip().lower())


def _parse_date(text: str) -> date | None:
    value = text.strip()
    if not value:
        return None
    match = _DATE_UK.match(value)
    if match:
        day, month, year = (int(g) for g in match.groups())
        return date(year, month, day)
    return datetime.strptime(value, "%Y-%m-%d").date()


Pending = tuple[int, str | None, str | None, str, str, date | None]


async def plan_import(
    session: AsyncSession,
    *,
    text: str,
    tenant_id: str | None,
    pseudonyms: Pseudonymiser,
    upn_keys: UpnKeys,
    config: HrConfig,
) -> RosterPlan:
    """Read a roster CSV and work out what importing it would do. Writes nothing."""
    plan = RosterPlan()
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    header = next(reader, None)
    if not header or not any(h.strip() for h in header):
        plan.problems.append(Problem(1, "the file is empty or has no header row"))
        return plan
    positions = _columns_of(header, plan)
    if not _readable(positions):
        return plan  # without the person, department and grade columns rows say nothing
    rows = _RowReader(positions, len(header), tenant_id, pseudonyms, upn_keys, config, plan)
    pending = [
        item
        for row in reader
        if any(value.strip() for value in row)
        and (item := rows.read(reader.line_num, row)) is not None
    ]
    await _link_and_count(session, plan, pending)
    old = await repo_hr.roster_pseudonyms(session)
    plan.previous = len(old)
    new = {r.pseudonym for r in plan.rows if r.pseudonym is not None}
    plan.leavers = sorted(old - new)
    if plan.leavers:
        plan.leaver_declarations = await declarations.count_declared(session, plan.leavers)
    plan.too_many_leavers = bool(old) and len(plan.leavers) > config.max_leaver_share * len(old)
    return plan


def _readable(positions: dict[str, int]) -> bool:
    """Whether rows can be checked: the columns that say who, where and what grade are there
    (an unknown or repeated column is a problem, but the rows are still checked, so one run
    shows every problem)."""
    return ("object_id" in positions or "upn" in positions) and {
        "department",
        "grade",
    } <= positions.keys()


def _columns_of(header: list[str], plan: RosterPlan) -> dict[str, int]:
    """Where each known column is; every unknown, repeated or missing column is a problem."""
    aliases = {alias: name for name, names in COLUMNS.items() for alias in names}
    positions: dict[str, int] = {}
    for index, title in enumerate(header):
        name = aliases.get(_header_key(title))
        if name is None:
            plan.problems.append(
                Problem(1, f"unknown column {title.strip()!r} (column {index + 1})")
            )
        elif name in positions:
            plan.problems.append(Problem(1, f"column {title.strip()!r} appears twice"))
        else:
            positions[name] = index
    if "object_id" not in positions and "upn" not in positions:
        plan.problems.append(Problem(1, "needs an object_id column, a upn column, or both"))
    for needed in ("department", "grade"):
        if needed not in positions:
            plan.problems.append(Problem(1, f"needs a {needed} column"))
    return positions


# An Entra object id is a GUID ("3f2a1b4c-..."); letters, digits and dashes are let through
# (test tenants and the Agents Playground use ids that are not strict GUIDs), but not a UPN,
# a name or an e-mail address in the wrong column.
OBJECT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def _not_an_object_id(value: str) -> str:
    """The problem with an object_id cell that is not one."""
    if "@" in value:
        return (
            "the object_id column holds a UPN or e-mail address: put it in a upn column "
            "(object ids look like 3f2a1b4c-5d6e-...)"
        )
    return "the object_id is not an Entra object id (they look like 3f2a1b4c-5d6e-...)"


class _RowReader:
    """Checks one roster row at a time, noting each problem in the plan."""

    def __init__(
        self,
        positions: dict[str, int],
        columns: int,
        tenant_id: str | None,
        pseudonyms: Pseudonymiser,
        upn_keys: UpnKeys,
        config: HrConfig,
        plan: RosterPlan,
    ) -> None:
        self._positions = positions
        self._columns = columns
        self._tenant_id = tenant_id
        self._pseudonyms = pseudonyms
        self._upn_keys = upn_keys
        self._config = config
        self._plan = plan
        self._seen: dict[str, int] = {}

    def _cell(self, row: list[str], name: str) -> str:
        index = self._positions.get(name)
        return row[index].strip() if index is not None and index < len(row) else ""

    def _problem(self, line: int, text: str) -> None:
        self._plan.problems.append(Problem(line, text))

    def read(self, line: int, row: list[str]) -> Pending | None:
        """The row as a pending roster entry, or None if it cannot be one."""
        self._plan.lines_read += 1
        if len(row) > self._columns:
            self._problem(line, f"{len(row)} values but {self._columns} columns")
            return None
        tenant = self._cell(row, "tenant_id") or self._tenant_id
        object_id, upn = self._cell(row, "object_id"), self._cell(row, "upn")
        if not object_id and not upn:
            self._problem(line, "no object id or UPN")
            return None
        if upn and not object_id and "@" not in upn:
            self._problem(line, "the UPN has no @")
            return None
        if object_id and not OBJECT_ID.fullmatch(object_id):
            self._problem(line, _not_an_object_id(object_id))
            return None
        if not tenant:
            self._problem(line, "no tenant: give --tenant or a tenant_id column")
            return None
        department = self._department(line, row)
        band = self._band(line, self._cell(row, "grade"))
        started = self._started(line, row)
        person = self._pseudonyms.of(PersonKey(tenant, object_id)) if object_id else None
        upn_key = None if object_id else self._upn_keys.of(tenant, upn)
        identity = person or f"upn:{upn_key}"
        if identity in self._seen:
            self._problem(line, f"the same person as line {self._seen[identity]}")
            return None
        self._seen[identity] = line
        if not department or band is None:
            return None
        return (line, person, upn_key, department, band.code, started)

    def _department(self, line: int, row: list[str]) -> str:
        department = " ".join(self._cell(row, "department").split())
        if not department:
            self._problem(line, "blank department")
        elif len(department) > MAX_DEPARTMENT:
            self._problem(line, f"department longer than {MAX_DEPARTMENT} characters")
        return department

    def _band(self, line: int, grade: str) -> GradeBand | None:
        band = self._config.band(grade)
        if band is None and grade:
            valid = ", ".join(b.label for b in self._config.bands)
            self._problem(line, f"grade {grade!r} is not a grade number or one of: {valid}")
        elif band is None:
            self._problem(line, "blank grade")
        return band

    def _started(self, line: int, row: list[str]) -> date | None:
        try:
            return _parse_date(self._cell(row, "start_date"))
        except ValueError:
            self._problem(line, "start date is not a date (use YYYY-MM-DD or DD/MM/YYYY)")
            return None


async def _link_and_count(session: AsyncSession, plan: RosterPlan, pending: list[Pending]) -> None:
    """Link UPN-only rows to people already seen in Teams; add every row to the plan."""
    links = await repo_hr.upn_links(
        session, upn_keys=[u for _, p, u, *_ in pending if p is None and u is not None]
    )
    seen_linked: dict[str, int] = {}
    for line, person, upn_key, department, band_code, started in pending:
        if person is None and upn_key is not None and upn_key in links:
            person = links[upn_key]
            plan.upn_linked += 1
        if person is not None:
            if person in seen_linked:
                plan.problems.append(
                    Problem(line, f"the same person as line {seen_linked[person]} (by UPN)")
                )
                continue
            seen_linked[person] = line
        if upn_key is None:
            plan.by_object_id += 1
        else:
            plan.by_upn += 1
        plan.departments[department] += 1
        plan.bands[band_code] += 1
        plan.rows.append(RosterRow(person, upn_key, department, band_code, started))


async def apply_import(
    session: AsyncSession,
    plan: RosterPlan,
    *,
    audit: AuditLog,
    pseudonyms: Pseudonymiser,
    actor: str,
    today: date,
    progress: Callable[[str], None] = lambda _: None,
) -> ImportResult:
    """Replace the roster with the plan's rows and remove leavers' declarations, in the
    caller's transaction (so all of it happens or none of it)."""
    if not plan.ok:
        raise ValueError("a roster with problems cannot be imported")
    people = await repo_hr.replace_roster(session, rows=plan.rows, today=today)
    progress(f"roster replaced: {people:,} people")
    removed = 0
    for done, pseudonym in enumerate(plan.leavers, start=1):
        removed += await declarations.remove_for_leaver(session, pseudonym)
        if done % 1000 == 0:
            progress(f"leavers: {done:,} of {len(plan.leavers):,}")
    await repo_hr.forget_links(session, pseudonyms=plan.leavers)
    references = 0
    if plan.leavers:
        # Leavers cannot be reached any more (docs/privacy.md, retention): their conversation
        # references go too. References hold object ids, so each is pseudonymised to compare.
        leaving = set(plan.leavers)
        gone = [
            reference_id
            for reference_id, person in await repo_hr.references(session)
            if pseudonyms.of(person) in leaving
        ]
        references = await repo_hr.delete_references(session, ids=gone)
    if plan.leavers:
        progress(f"leavers: {len(plan.leavers):,}, declarations removed: {removed:,}")
    await audit.append(
        session,
        actor=actor,
        action="roster.imported",
        object_type="roster",
        detail={
            "people": people,
            "by_upn": plan.by_upn,
            "leavers": len(plan.leavers),
            "declarations_removed": removed,
            "references_removed": references,
        },
    )
    log.info("roster.imported", extra={"people": people, "leavers": len(plan.leavers)})
    return ImportResult(people, len(plan.leavers), removed)


UpnLookup = Callable[[], Awaitable[str | None]]


class RosterLinker:
    """Links roster rows given by UPN to the person's pseudonym when they are seen."""

    def __init__(self, *, pseudonyms: Pseudonymiser, upn_keys: UpnKeys) -> None:
        self._pseudonyms = pseudonyms
        self._upn_keys = upn_keys

    async def seen(
        self,
        session: AsyncSession,
        *,
        person: PersonKey,
        lookup_upn: UpnLookup,
        today: date,
    ) -> bool:
        """Link `person` if the roster may be waiting for them; True if a link was made.

        Costs one query when there is nothing to do; asks Teams for the UPN (`lookup_upn`)
        only while some roster row is unlinked and this person is not yet known.
        """
        pseudonym = self._pseudonyms.of(person)
        if await repo_hr.is_linked(session, pseudonym=pseudonym):
            return False
        if not await repo_hr.any_unlinked(session):
            return False
        upn = (await lookup_upn() or "").strip().lower()
        if not upn:
            return False
        upn_key = self._upn_keys.of(person.tenant_id, upn)
        await repo_hr.link_upn(session, upn_key=upn_key, pseudonym=pseudonym, today=today)
        return True


def problem_lines(problems: Iterable[Problem]) -> list[str]:
    """Problems as lines to print, at most MAX_PROBLEMS_SHOWN and a count of the rest."""
    found = list(problems)
    lines = [str(p) for p in found[:MAX_PROBLEMS_SHOWN]]
    if len(found) > MAX_PROBLEMS_SHOWN:
        lines.append(f"... and {len(found) - MAX_PROBLEMS_SHOWN:,} more")
    return lines
