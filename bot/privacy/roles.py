"""Roles: who may do privileged things. Checked on the server for every privileged action,
whatever a card or typed text claims."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.people import PersonKey
from bot.db.models import RoleGrant, utcnow


class Role(StrEnum):
    """The privileged roles."""

    ADMIN = "admin"
    HR = "hr"
    CASE_HANDLER = "case_handler"
    ORGANISER = "organiser"
    ACTION_LEAD = "action_lead"
    BOARD_CHAIR = "board_chair"  # the Equalities Board chair: overdue actions escalate here


class RoleError(ValueError):
    """A role command named an unknown role or an unusable person."""


@dataclass(frozen=True, slots=True)
class Grant:
    """One person holding one role."""

    role: Role
    aad_object_id: str | None
    upn: str | None
    tenant_id: str | None
    granted_by: str
    granted_at: datetime


def parse_role(text: str) -> Role:
    """A role from its name, with a clear error listing the valid ones."""
    try:
        return Role(text.strip().lower())
    except ValueError:
        valid = ", ".join(r.value for r in Role)
        raise RoleError(f"unknown role {text!r}; choose one of: {valid}") from None


def parse_person(text: str) -> tuple[str | None, str | None]:
    """(aad_object_id, upn) from what an operator typed: a UPN has an @."""
    value = text.strip()
    if not value:
        raise RoleError("name a person by Entra object id or UPN")
    return (None, value.lower()) if "@" in value else (value.lower(), None)


async def grant_role(
    session: AsyncSession, *, role: Role, person: str, tenant_id: str | None, granted_by: str
) -> bool:
    """Give `person` (object id or UPN) `role`; False if they already held it."""
    aad, upn = parse_person(person)
    if await _find(session, role=role, aad=aad, upn=upn) is not None:
        return False
    session.add(
        RoleGrant(
            role=role.value,
            aad_object_id=aad,
            upn=upn,
            tenant_id=tenant_id,
            granted_by=granted_by,
            granted_at=utcnow(),
        )
    )
    await session.flush()
    return True


async def revoke_role(session: AsyncSession, *, role: Role, person: str) -> int:
    """Take `role` from `person` (object id or UPN); how many grants were removed."""
    aad, upn = parse_person(person)
    condition = RoleGrant.aad_object_id == aad if aad else RoleGrant.upn == upn
    result = await session.execute(
        delete(RoleGrant)
        .where(RoleGrant.role == role.value, condition)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def list_grants(session: AsyncSession, *, role: Role | None = None) -> list[Grant]:
    """Every grant (of one role, if given), oldest first."""
    query = select(RoleGrant).order_by(RoleGrant.granted_at, RoleGrant.id)
    if role is not None:
        query = query.where(RoleGrant.role == role.value)
    rows = (await session.execute(query)).scalars().all()
    return [
        Grant(Role(r.role), r.aad_object_id, r.upn, r.tenant_id, r.granted_by, r.granted_at)
        for r in rows
    ]


async def _find(
    session: AsyncSession, *, role: Role, aad: str | None, upn: str | None
) -> RoleGrant | None:
    condition = RoleGrant.aad_object_id == aad if aad else RoleGrant.upn == upn
    query = select(RoleGrant).where(RoleGrant.role == role.value, condition).limit(1)
    return (await session.execute(query)).scalar_one_or_none()


UpnLookup = Callable[[], Awaitable[str | None]]


class RoleChecker:
    """Answers "does this person hold this role?" from grants and the bootstrap admins."""

    def __init__(self, bootstrap_admins: list[str]) -> None:
        self._boot_ids = {a.lower() for a in bootstrap_admins if "@" not in a}
        self._boot_upns = {a.lower() for a in bootstrap_admins if "@" in a}

    async def holds(
        self,
        session: AsyncSession,
        *,
        person: PersonKey,
        role: Role,
        lookup_upn: UpnLookup | None = None,
    ) -> bool:
        """True when `person` holds `role`. A grant made by UPN is bound to the person's
        object id the first time they use it (their UPN is asked of Teams only then)."""
        aad = person.aad_object_id.lower()
        if role is Role.ADMIN and aad in self._boot_ids:
            return True
        in_tenant = or_(RoleGrant.tenant_id.is_(None), RoleGrant.tenant_id == person.tenant_id)
        # One query answers both "granted to this object id?" and "any grant still waiting
        # to be bound by UPN?": matching grants sort first.
        first = (
            await session.execute(
                select(RoleGrant.aad_object_id)
                .where(
                    RoleGrant.role == role.value,
                    or_(
                        and_(RoleGrant.aad_object_id == aad, in_tenant),
                        RoleGrant.aad_object_id.is_(None),
                    ),
                )
                .order_by(RoleGrant.aad_object_id.is_(None))
                .limit(1)
            )
        ).first()
        if first is not None and first[0] is not None:
            return True
        upn_admin_possible = role is Role.ADMIN and bool(self._boot_upns)
        has_pending = first is not None
        if lookup_upn is None or not (has_pending or upn_admin_possible):
            return False
        upn = (await lookup_upn() or "").lower()
        if not upn:
            return False
        if role is Role.ADMIN and upn in self._boot_upns:
            return True
        bound = await session.execute(
            update(RoleGrant)
            .where(
                RoleGrant.role == role.value,
                RoleGrant.upn == upn,
                RoleGrant.aad_object_id.is_(None),
            )
            .values(aad_object_id=aad, tenant_id=person.tenant_id)
            .execution_options(synchronize_session=False)
        )
        return bool(bound.rowcount)  # type: ignore[attr-defined]

    async def held(
        self,
        session: AsyncSession,
        *,
        person: PersonKey,
        roles: set[Role],
        lookup_upn: UpnLookup | None = None,
    ) -> set[Role]:
        """Which of `roles` `person` holds: one query for all of them (the welcome card asks
        about every role-gated entry), `holds` only for grants still waiting for a UPN."""
        aad = person.aad_object_id.lower()
        in_tenant = or_(RoleGrant.tenant_id.is_(None), RoleGrant.tenant_id == person.tenant_id)
        rows = await session.execute(
            select(RoleGrant.role, RoleGrant.aad_object_id).where(
                RoleGrant.role.in_(sorted(r.value for r in roles)),
                or_(
                    and_(RoleGrant.aad_object_id == aad, in_tenant),
                    RoleGrant.aad_object_id.is_(None),
                ),
            )
        )
        found = [(Role(role), bound) for role, bound in rows]
        held = {role for role, bound in found if bound is not None}
        if Role.ADMIN in roles and aad in self._boot_ids:
            held.add(Role.ADMIN)
        undecided = {role for role, bound in found if bound is None} - held
        if Role.ADMIN in roles and self._boot_upns and Role.ADMIN not in held:
            undecided.add(Role.ADMIN)
        for role in sorted(undecided, key=lambda r: r.value):
            if await self.holds(session, person=person, role=role, lookup_upn=lookup_upn):
                held.add(role)
        return held
