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
from bot.declarations import repo as repo_declarations
from bot.hr import repo as repo_hr
from bot.hr.config import HrConfig
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
    if not plan.ok:
        return plan

    def cell(row: list[str], name: str) -> str:
        index = positions.get(name)
        return row[index].strip() if index is not None and index < len(row) else ""

    seen_people: dict[str, int] = {}
    pending: list[tuple[int, str | None, str | None, str, str, date | None]] = []
    for row in reader:
        line = reader.line_num
        if not any(value.strip() for value in row):
            continue
        plan.lines_read += 1
        if len(row) > len(header):
            plan.problems.append(Problem(line, f"{len(row)} values but {len(header)} columns"))
            continue
        tenant = cell(row, "tenant_id") or tenant_id
        object_id, upn = cell(row, "object_id"), cell(row, "upn")
        department = " ".join(cell(row, "department").split())
        grade = cell(row, "grade")
        if not object_id and not upn:
            plan.problems.append(Problem(line, "no object id or UPN"))
            continue
        if upn and not object_id and "@" not in upn:
            plan.problems.append(Problem(line, "the UPN has no @"))
            continue
        if not tenant:
            plan.problems.append(Problem(line, "no tenant: give --tenant or a tenant_id column"))
            continue
        if not department:
            plan.problems.append(Problem(line, "blank department"))
        elif len(department) > MAX_DEPARTMENT:
            plan.problems.append(
                Problem(line, f"department longer than {MAX_DEPARTMENT} characters")
            )
        band = config.band(grade)
        if band is None:
            valid = ", ".join(b.label for b in config.bands)
            plan.problems.append(
                Problem(line, f"grade {grade!r} is not a grade number or one of: {valid}")
                if grade
                else Problem(line, "blank grade")
            )
        try:
            started = _parse_date(cell(row, "start_date"))
        except ValueError:
            plan.problems.append(
                Problem(line, "start date is not a date (use YYYY-MM-DD or DD/MM/YYYY)")
            )
            started = None
        if object_id:
            person = pseudonyms.of(PersonKey(tenant, object_id))
            upn_key = None
        else:
            person = None
            upn_key = upn_keys.of(tenant, upn)
        identity = person or f"upn:{upn_key}"
        if identity in seen_people:
            plan.problems.append(Problem(line, f"the same person as line {seen_people[identity]}"))
            continue
        seen_people[identity] = line
        if department and band is not None:
            pending.append((line, person, upn_key, department, band.code, started))
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
    old = await repo_hr.roster_pseudonyms(session)
    plan.previous = len(old)
    new = {r.pseudonym for r in plan.rows if r.pseudonym is not None}
    plan.leavers = sorted(old - new)
    if plan.leavers:
        plan.leaver_declarations = await repo_hr.count_declarations_of(
            session, pseudonyms=plan.leavers
        )
    plan.too_many_leavers = bool(old) and len(plan.leavers) > config.max_leaver_share * len(old)
    return plan


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
        counts = await repo_declarations.delete_declaration(session, pseudonym=pseudonym)
        removed += counts.get("declarations", 0)
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
