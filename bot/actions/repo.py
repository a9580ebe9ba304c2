"""Queries for the action plans' leads, updates, snoozes, nudges and claims."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Table, and_, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.actions.models import ActionClaim, ActionLead, ActionNudge, ActionSnooze, ActionUpdate
from bot.core.people import PersonKey
from bot.db.models import ConversationReferenceRecord, RoleGrant, utcnow

TEAM = "team"
ACTION = "action"
NOT_MINE = "not_mine"
# Nudge records and decided claims are kept this long (long enough that a milestone is
# never nudged twice because its record was purged while it could still be due).


def person_id(person: PersonKey) -> str:
    """How a Teams person is written in snooze and nudge rows: "TENANT/AAD"."""
    return f"{person.tenant_id}/{person.aad_object_id.lower()}"


# ---- leads ------------------------------------------------------------------------------------


async def add_lead(
    session: AsyncSession,
    *,
    scope_kind: str,
    scope: str,
    person: str,
    tenant_id: str | None,
    assigned_by: str,
) -> bool:
    """Record `person` (object id or UPN) against a team or action; False if already there."""
    found = await session.execute(
        select(ActionLead.id).where(
            ActionLead.scope_kind == scope_kind,
            ActionLead.scope == scope,
            ActionLead.person == person,
        )
    )
    if found.first() is not None:
        return False
    session.add(
        ActionLead(
            scope_kind=scope_kind,
            scope=scope,
            person=person,
            tenant_id=tenant_id,
            assigned_by=assigned_by,
            assigned_at=utcnow(),
        )
    )
    await session.flush()
    return True


async def remove_lead(
    session: AsyncSession, *, scope_kind: str, scope: str | None, person: str
) -> int:
    """Remove `person` from a scope (every scope of that kind when `scope` is None)."""
    condition = [ActionLead.scope_kind == scope_kind, ActionLead.person == person]
    if scope is not None:
        condition.append(ActionLead.scope == scope)
    result = await session.execute(
        delete(ActionLead).where(*condition).execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def list_leads(session: AsyncSession) -> list[ActionLead]:
    """Every lead row, by scope then when assigned."""
    rows = await session.execute(
        select(ActionLead).order_by(ActionLead.scope_kind, ActionLead.scope, ActionLead.id)
    )
    return list(rows.scalars())


async def references_by_aad(session: AsyncSession, *, ids: set[str]) -> dict[str, PersonKey]:
    """Active conversation references of these object ids (lower case): id → person."""
    if not ids:
        return {}
    rows = await session.execute(
        select(ConversationReferenceRecord.tenant_id, ConversationReferenceRecord.aad_object_id)
        .where(
            func.lower(ConversationReferenceRecord.aad_object_id).in_(sorted(ids)),
            ConversationReferenceRecord.status == "active",
        )
        .order_by(ConversationReferenceRecord.id)
    )
    return {aad.lower(): PersonKey(tenant, aad) for tenant, aad in rows.all()}


async def bound_upns(session: AsyncSession, *, role: str, upns: set[str]) -> dict[str, str]:
    """UPN → object id, for role grants made by UPN and since bound to a person."""
    if not upns:
        return {}
    rows = await session.execute(
        select(RoleGrant.upn, RoleGrant.aad_object_id).where(
            RoleGrant.role == role,
            RoleGrant.upn.in_(sorted(upns)),
            RoleGrant.aad_object_id.is_not(None),
        )
    )
    return {str(upn): str(aad) for upn, aad in rows.all()}


# ---- updates --------------------------------------------------------------------------------


async def add_update(
    session: AsyncSession,
    *,
    plan: str,
    number: str,
    kind: str,
    rag: str | None,
    note: str | None,
    author: str,
    author_name: str | None,
    on: date,
) -> None:
    """Record a progress update ("progress", "done" or "reopened")."""
    session.add(
        ActionUpdate(
            plan=plan,
            number=number,
            kind=kind,
            rag=rag,
            note=note,
            author=author,
            author_name=author_name,
            on=on,
            at=utcnow(),
        )
    )
    await session.flush()


@dataclass(frozen=True)
class ActionStateRow:
    """An action's current state, from its updates."""

    done_on: date | None
    rag: str | None
    note: str | None
    note_on: date | None
    note_by: str | None
    last_update_on: date | None


async def action_states(
    session: AsyncSession, *, plan: str | None = None
) -> dict[tuple[str, str], ActionStateRow]:
    """(plan, number) → its state: done?, the latest RAG and note, the last update's day."""
    query = select(ActionUpdate).order_by(ActionUpdate.id)
    if plan is not None:
        query = query.where(ActionUpdate.plan == plan)
    states: dict[tuple[str, str], ActionStateRow] = {}
    for row in (await session.execute(query)).scalars():
        key = (row.plan, row.number)
        old = states.get(key, ActionStateRow(None, None, None, None, None, None))
        if row.kind == "done":
            states[key] = ActionStateRow(
                row.on, old.rag, old.note, old.note_on, old.note_by, row.on
            )
        elif row.kind == "reopened":
            states[key] = ActionStateRow(
                None, old.rag, old.note, old.note_on, old.note_by, old.last_update_on
            )
        else:
            note = (
                (row.note, row.on, row.author_name)
                if row.note
                else (
                    old.note,
                    old.note_on,
                    old.note_by,
                )
            )
            states[key] = ActionStateRow(old.done_on, row.rag or old.rag, *note, row.on)
    return states


# ---- snoozes -----------------------------------------------------------------------------------


async def snooze(
    session: AsyncSession, *, plan: str, number: str, person: str, until: date
) -> None:
    """No nudges about this action for `person` before `until`."""
    changed = await session.execute(
        update(ActionSnooze)
        .where(
            ActionSnooze.plan == plan, ActionSnooze.number == number, ActionSnooze.person == person
        )
        .values(until=until, set_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if not changed.rowcount:  # type: ignore[attr-defined]
        session.add(ActionSnooze(plan=plan, number=number, person=person, until=until))
        await session.flush()


async def snoozed(session: AsyncSession, *, today: date) -> set[tuple[str, str, str]]:
    """(plan, number, person) snoozed past `today`."""
    rows = await session.execute(
        select(ActionSnooze.plan, ActionSnooze.number, ActionSnooze.person).where(
            ActionSnooze.until > today
        )
    )
    return {(p, n, who) for p, n, who in rows.all()}


# ---- nudges -----------------------------------------------------------------------------------


async def claim_nudges(
    session: AsyncSession, *, rows: list[tuple[str, str, date, str]], person: str, on: date
) -> set[tuple[str, str, date, str]]:
    """Record these (plan, number, milestone, label) nudges for `person`; returns those that
    were not recorded before (by this or any other process). Rows are written in sorted
    order, so two concurrent runs wait on each other instead of deadlocking."""
    if not rows:
        return set()
    table: Table = ActionNudge.__table__  # type: ignore[assignment]
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(table)
        .values(
            [
                {
                    "plan": plan,
                    "number": number,
                    "milestone": milestone,
                    "label": label,
                    "person": person,
                    "queued_on": on,
                }
                for plan, number, milestone, label in sorted(rows)
            ]
        )
        .on_conflict_do_nothing(index_elements=["plan", "number", "milestone", "label", "person"])
        .returning(table.c.plan, table.c.number, table.c.milestone, table.c.label)
    )
    result = await session.execute(statement)
    return {(p, n, m, label) for p, n, m, label in result.all()}


async def told_after(session: AsyncSession, *, plans: list[str]) -> set[tuple[str, str, date, str]]:
    """(plan, number, milestone, person) of every nudge sent after a milestone had passed
    (overdue, escalated or past), for these plans."""
    if not plans:
        return set()
    rows = await session.execute(
        select(ActionNudge.plan, ActionNudge.number, ActionNudge.milestone, ActionNudge.person)
        .where(ActionNudge.plan.in_(plans), ActionNudge.label.not_like("before:%"))
        .distinct()
    )
    return {(p, n, m, who) for p, n, m, who in rows.all()}


async def set_message(session: AsyncSession, *, person: str, on: date, message_id: int) -> None:
    """Note which outbox message carried the nudges queued for `person` on `on`."""
    await session.execute(
        update(ActionNudge)
        .where(
            ActionNudge.person == person,
            ActionNudge.queued_on == on,
            ActionNudge.message_id.is_(None),
        )
        .values(message_id=message_id)
        .execution_options(synchronize_session=False)
    )


# ---- claims -----------------------------------------------------------------------------------


async def pending_claim(
    session: AsyncSession, *, plan: str, number: str, aad_object_id: str
) -> ActionClaim | None:
    """This person's undecided claim on this action, if any."""
    rows = await session.execute(
        select(ActionClaim).where(
            and_(
                ActionClaim.plan == plan,
                ActionClaim.number == number,
                ActionClaim.aad_object_id == aad_object_id,
                ActionClaim.status == "pending",
            )
        )
    )
    return rows.scalars().first()


async def add_claim(
    session: AsyncSession, *, plan: str, number: str, person: PersonKey, name: str
) -> ActionClaim:
    """A new pending claim."""
    claim = ActionClaim(
        plan=plan,
        number=number,
        tenant_id=person.tenant_id,
        aad_object_id=person.aad_object_id.lower(),
        name=name[:200],
        status="pending",
        requested_at=utcnow(),
    )
    session.add(claim)
    await session.flush()
    return claim


async def get_claim(session: AsyncSession, *, claim_id: int) -> ActionClaim | None:
    """A claim by id, locked for the decision on PostgreSQL."""
    rows = await session.execute(
        select(ActionClaim).where(ActionClaim.id == claim_id).with_for_update()
    )
    return rows.scalars().first()


async def decide_claim(
    session: AsyncSession, *, claim: ActionClaim, status: str, by: str, at: datetime
) -> None:
    """Confirm or decline a claim."""
    claim.status = status
    claim.decided_by = by
    claim.decided_at = at
    await session.flush()


# ---- one person's data, and retention ------------------------------------------------------


async def export_person(session: AsyncSession, *, person: PersonKey) -> dict[str, object]:
    """What the action tables hold about one person (subject access)."""
    aad = person.aad_object_id.lower()
    who = person_id(person)
    actor = f"teams:{person.tenant_id}/{aad}"
    leads = await session.execute(
        select(ActionLead.scope_kind, ActionLead.scope, ActionLead.assigned_at).where(
            ActionLead.person == aad
        )
    )
    updates = await session.execute(
        select(ActionUpdate.plan, ActionUpdate.number, ActionUpdate.kind)
        .add_columns(ActionUpdate.rag, ActionUpdate.note, ActionUpdate.on)
        .where(ActionUpdate.author == actor)
        .order_by(ActionUpdate.id)
    )
    snoozes = await session.execute(
        select(ActionSnooze.plan, ActionSnooze.number, ActionSnooze.until).where(
            ActionSnooze.person == who
        )
    )
    claims = await session.execute(
        select(ActionClaim.plan, ActionClaim.number, ActionClaim.status)
        .add_columns(ActionClaim.requested_at)
        .where(ActionClaim.aad_object_id == aad)
    )
    nudges = await session.execute(
        select(func.count()).select_from(ActionNudge).where(ActionNudge.person == who)
    )
    return {
        "leads": [{"kind": k, "scope": s, "assigned_at": at} for k, s, at in leads.all()],
        "updates": [
            {"action": f"{p}/{n}", "kind": k, "rag": r, "note": note, "on": on}
            for p, n, k, r, note, on in updates.all()
        ],
        "snoozes": [{"action": f"{p}/{n}", "until": u} for p, n, u in snoozes.all()],
        "claims": [
            {"action": f"{p}/{n}", "status": s, "requested_at": at} for p, n, s, at in claims.all()
        ],
        "nudges_received": int(nudges.scalar_one()),
    }


async def erase_person(session: AsyncSession, *, person: PersonKey) -> int:
    """Delete the person's lead assignments, snoozes, nudge records and claims; their
    progress updates stay (the plan's record) with their name and id removed."""
    aad = person.aad_object_id.lower()
    who = person_id(person)
    total = 0
    for statement in (
        delete(ActionLead).where(ActionLead.person == aad),
        delete(ActionSnooze).where(ActionSnooze.person == who),
        delete(ActionNudge).where(ActionNudge.person == who),
        delete(ActionClaim).where(ActionClaim.aad_object_id == aad),
        update(ActionUpdate)
        .where(ActionUpdate.author == f"teams:{person.tenant_id}/{aad}")
        .values(author="erased", author_name=None),
    ):
        result = await session.execute(statement.execution_options(synchronize_session=False))
        total += int(result.rowcount)  # type: ignore[attr-defined]
    return total


async def purge_before(session: AsyncSession, *, before: datetime) -> int:
    """Delete nudge records queued, and claims decided, before `before`."""
    nudges = await session.execute(
        delete(ActionNudge)
        .where(ActionNudge.queued_on < before.date())
        .execution_options(synchronize_session=False)
    )
    claims = await session.execute(
        delete(ActionClaim)
        .where(ActionClaim.status != "pending", ActionClaim.decided_at < before)
        .execution_options(synchronize_session=False)
    )
    return int(nudges.rowcount) + int(claims.rowcount)  # type: ignore[attr-defined]
