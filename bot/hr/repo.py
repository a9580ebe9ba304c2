"""Queries for the workforce roster and the HR aggregates. Grouping happens in SQL: these
functions return counts per group, never a row per person (except the roster's pseudonyms,
which the import needs to find leavers)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, delete, func, insert, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.people import PersonKey
from bot.db.models import ConversationReferenceRecord, PersonName, RoleGrant
from bot.hr.models import HrSnapshot, HrSnapshotVersion, RosterPerson, RosterUpnLink
from bot.privacy.names_repo import person_id

_CHUNK = 5_000


@dataclass(frozen=True, slots=True)
class RosterRow:
    """One person on a roster, by pseudonym or (until linked) by their UPN's keyed hash."""

    pseudonym: str | None
    upn_key: str | None
    department: str
    grade_band: str
    start_date: date | None


def _insert(session: AsyncSession):  # type: ignore[no-untyped-def]
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


# ---- roster --------------------------------------------------------------------------------


async def roster_pseudonyms(session: AsyncSession) -> set[str]:
    """The pseudonyms on the current roster (to find leavers on the next import)."""
    rows = await session.execute(
        select(RosterPerson.pseudonym).where(RosterPerson.pseudonym.is_not(None))
    )
    return {p for p in rows.scalars() if p is not None}


async def replace_roster(session: AsyncSession, *, rows: Sequence[RosterRow], today: date) -> int:
    """Replace the whole roster with `rows`, in the caller's transaction."""
    await session.execute(delete(RosterPerson).execution_options(synchronize_session=False))
    for start in range(0, len(rows), _CHUNK):
        await session.execute(
            insert(RosterPerson),
            [
                {
                    "pseudonym": r.pseudonym,
                    "upn_key": r.upn_key,
                    "department": r.department,
                    "grade_band": r.grade_band,
                    "start_date": r.start_date,
                    "imported_on": today,
                }
                for r in rows[start : start + _CHUNK]
            ],
        )
    return len(rows)


async def upn_links(session: AsyncSession, *, upn_keys: Iterable[str]) -> dict[str, str]:
    """The pseudonym already linked to each of these UPN keys (those that have one)."""
    wanted = list(dict.fromkeys(upn_keys))
    found: dict[str, str] = {}
    for start in range(0, len(wanted), _CHUNK):
        rows = await session.execute(
            select(RosterUpnLink.upn_key, RosterUpnLink.pseudonym).where(
                RosterUpnLink.upn_key.in_(wanted[start : start + _CHUNK])
            )
        )
        found.update({k: p for k, p in rows})
    return found


async def is_linked(session: AsyncSession, *, pseudonym: str) -> bool:
    """Whether the roster or a UPN link already knows this pseudonym."""
    on_roster = select(literal(1)).where(RosterPerson.pseudonym == pseudonym)
    linked = select(literal(1)).where(RosterUpnLink.pseudonym == pseudonym)
    row = await session.execute(select(or_(on_roster.exists(), linked.exists())))
    return bool(row.scalar())


async def any_unlinked(session: AsyncSession) -> bool:
    """Whether any roster row is still known only by its UPN."""
    query = select(literal(1)).where(
        RosterPerson.pseudonym.is_(None), RosterPerson.upn_key.is_not(None)
    )
    return bool((await session.execute(select(query.exists()))).scalar())


async def link_upn(session: AsyncSession, *, upn_key: str, pseudonym: str, today: date) -> int:
    """Record that the person with `pseudonym` uses the UPN behind `upn_key`, and give their
    roster row (if any) the pseudonym. How many roster rows were linked."""
    statement = (
        _insert(session)(RosterUpnLink)
        .values(upn_key=upn_key, pseudonym=pseudonym, linked_on=today)
        .on_conflict_do_update(
            index_elements=[RosterUpnLink.upn_key],
            set_={"pseudonym": pseudonym, "linked_on": today},
        )
    )
    await session.execute(statement)
    result = await session.execute(
        update(RosterPerson)
        .where(RosterPerson.upn_key == upn_key)
        .values(pseudonym=pseudonym)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def forget_links(session: AsyncSession, *, pseudonyms: Iterable[str]) -> int:
    """Delete the UPN links of these people (leavers, erasure)."""
    wanted = list(pseudonyms)
    removed = 0
    for start in range(0, len(wanted), _CHUNK):
        result = await session.execute(
            delete(RosterUpnLink)
            .where(RosterUpnLink.pseudonym.in_(wanted[start : start + _CHUNK]))
            .execution_options(synchronize_session=False)
        )
        removed += int(result.rowcount)  # type: ignore[attr-defined]
    return removed


async def references(session: AsyncSession) -> list[tuple[int, PersonKey]]:
    """Every stored conversation reference's id and person (to find leavers' ones)."""
    ref = ConversationReferenceRecord
    rows = await session.execute(select(ref.id, ref.tenant_id, ref.aad_object_id))
    return [(int(i), PersonKey(t, a)) for i, t, a in rows]


async def delete_references(session: AsyncSession, *, ids: Sequence[int]) -> int:
    """Delete these conversation references, and the names kept for the same people."""
    removed = 0
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start : start + _CHUNK])
        ref = ConversationReferenceRecord
        people = await session.execute(
            select(ref.tenant_id, ref.aad_object_id).where(ref.id.in_(chunk))
        )
        keys = [person_id(tenant, aad) for tenant, aad in people]
        await session.execute(
            delete(PersonName)
            .where(PersonName.person.in_(keys))
            .execution_options(synchronize_session=False)
        )
        result = await session.execute(
            delete(ConversationReferenceRecord)
            .where(ConversationReferenceRecord.id.in_(list(ids[start : start + _CHUNK])))
            .execution_options(synchronize_session=False)
        )
        removed += int(result.rowcount)  # type: ignore[attr-defined]
    return removed


async def export_roster(session: AsyncSession, *, pseudonym: str) -> dict[str, object] | None:
    """What the roster holds about one person (subject access), or None."""
    row = (
        await session.execute(select(RosterPerson).where(RosterPerson.pseudonym == pseudonym))
    ).scalar_one_or_none()
    linked = await session.execute(
        select(func.count()).select_from(RosterUpnLink).where(RosterUpnLink.pseudonym == pseudonym)
    )
    if row is None and not linked.scalar():
        return None
    return {
        "department": row.department if row else None,
        "grade_band": row.grade_band if row else None,
        "start_date": row.start_date if row else None,
        "imported_on": row.imported_on if row else None,
        "upn_linked": True if row is None else row.upn_key is not None,
    }


async def erase_roster(session: AsyncSession, *, pseudonym: str) -> int:
    """Delete one person's roster row and UPN link (erasure); rows deleted."""
    result = await session.execute(
        delete(RosterPerson)
        .where(RosterPerson.pseudonym == pseudonym)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount) + await forget_links(session, pseudonyms=[pseudonym])  # type: ignore[attr-defined]


# ---- aggregates ------------------------------------------------------------------------------


# ---- snapshots -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredSnapshot:
    """One quarter's sealed counts."""

    quarter: str
    taken_on: date
    counts: str
    key_id: str
    version: int = 1
    reason: str | None = None


async def get_snapshot(
    session: AsyncSession, *, quarter: str, version: int | None = None
) -> StoredSnapshot | None:
    """The frozen counts of `quarter` (its current version, or `version`), sealed, or None."""
    row = await session.get(HrSnapshot, quarter, populate_existing=True)
    if row is None:
        return None
    current = StoredSnapshot(
        row.quarter, row.taken_on, row.counts, row.key_id, row.version, row.reason
    )
    if version is None or version == row.version:
        return current
    old = await session.get(HrSnapshotVersion, f"{quarter}/v{version}")
    if old is None:
        return None
    return StoredSnapshot(
        old.quarter, old.taken_on, old.counts, old.key_id, old.version, old.reason
    )


async def snapshot_versions(session: AsyncSession, *, quarter: str) -> list[tuple[int, date]]:
    """(version, frozen on) of every version of `quarter`, oldest first."""
    rows = await session.execute(
        select(HrSnapshotVersion.version, HrSnapshotVersion.taken_on)
        .where(HrSnapshotVersion.quarter == quarter)
        .order_by(HrSnapshotVersion.version)
    )
    found = [(int(v), d) for v, d in rows]
    current = await session.get(HrSnapshot, quarter)
    if current is not None:
        found.append((current.version, current.taken_on))
    return found


async def replace_snapshot(
    session: AsyncSession,
    *,
    quarter: str,
    taken_on: date,
    counts: str,
    key_id: str,
    reason: str,
) -> int:
    """Keep the current version of `quarter` among the earlier ones and put these counts in
    its place, as the next version (under the row's lock); the new version's number."""
    row = await session.get(HrSnapshot, quarter, with_for_update=True, populate_existing=True)
    if row is None:
        raise LookupError(quarter)
    session.add(
        HrSnapshotVersion(
            id=f"{quarter}/v{row.version}",
            quarter=quarter,
            version=row.version,
            taken_on=row.taken_on,
            counts=row.counts,
            key_id=row.key_id,
            reason=row.reason,
            replaced_on=taken_on,
        )
    )
    row.version += 1
    row.taken_on = taken_on
    row.counts = counts
    row.key_id = key_id
    row.reason = reason[:200]
    await session.flush()
    return row.version


async def put_snapshot(
    session: AsyncSession, *, quarter: str, taken_on: date, counts: str, key_id: str
) -> bool:
    """Store `quarter`'s counts unless another run stored them first; True if stored."""
    statement = (
        _insert(session)(HrSnapshot)
        .values(quarter=quarter, taken_on=taken_on, counts=counts, key_id=key_id)
        .on_conflict_do_nothing(index_elements=[HrSnapshot.quarter])
    )
    result = await session.execute(statement)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def snapshot_quarters(session: AsyncSession) -> list[str]:
    """Every quarter with frozen counts, oldest first."""
    rows = await session.execute(select(HrSnapshot.quarter).order_by(HrSnapshot.quarter))
    return list(rows.scalars())


# ---- recipients ------------------------------------------------------------------------------


async def people_holding(session: AsyncSession, *, role: str) -> list[PersonKey]:
    """Everyone holding `role` whom the bot can reach (a grant bound to an object id and an
    active conversation reference), in a stable order."""
    ref = ConversationReferenceRecord
    rows = await session.execute(
        select(ref.tenant_id, ref.aad_object_id)
        .join(
            RoleGrant,
            and_(
                func.lower(ref.aad_object_id) == RoleGrant.aad_object_id,
                or_(RoleGrant.tenant_id.is_(None), RoleGrant.tenant_id == ref.tenant_id),
            ),
        )
        .where(RoleGrant.role == role, ref.status == "active")
        .distinct()
        .order_by(ref.tenant_id, ref.aad_object_id)
    )
    return [PersonKey(t, a) for t, a in rows]
