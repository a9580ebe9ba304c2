"""Queries for events, sign-ups, the waitlist and staff networks (keyword-only, explicit session).

For HR aggregates (the disclosure-controlled reports) two row sources, each by pseudonym only
(the same keyed pseudonym declarations use, so they join to declarations and the roster):

* `attendance_rows(session)` / `attendance_select()`: one row per place held at an event that
  has started and was not cancelled: (pseudonym, kind, network, event_date, attended).
  kind is "network" or "big_conversation"; network is the network code (None for a Big
  Conversation); event_date is the Europe/London day it started; attended is True only when
  an organiser marked it.
* `network_membership_rows(session)` / `membership_select()`: (pseudonym, network code) for
  every current member of a staff network.

The `*_select()` builders return SQLAlchemy `Select`s with labelled columns, so a report can
`.subquery()` them and GROUP BY in SQL rather than fetch every row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, case, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import utcnow
from bot.events.models import Event, EventSignup, NetworkMember, NetworkOrganiser
from bot.outbox.models import OutboxMessage

# A place is held by a confirmed person or by someone offered a freed place.
HOLDING = ("confirmed", "offered")


# ---- for HR aggregates ---------------------------------------------------------------------


def attendance_select(*, now: datetime | None = None) -> Select[Any]:
    """(pseudonym, kind, network, event_date, attended) for every place held at an event that
    has started by `now` (default: now) and was not cancelled."""
    moment = now or utcnow()
    return (
        select(
            EventSignup.pseudonym.label("pseudonym"),
            Event.kind.label("kind"),
            Event.network.label("network"),
            Event.local_date.label("event_date"),
            case((EventSignup.attended.is_(True), True), else_=False).label("attended"),
        )
        .join(Event, Event.id == EventSignup.event_id)
        .where(
            Event.status == "scheduled",
            Event.starts_at <= moment,
            EventSignup.status == "confirmed",
        )
    )


async def attendance_rows(session: AsyncSession) -> list[tuple[str, str, str | None, date, bool]]:
    """Every place held at a past, not-cancelled event, by pseudonym: (pseudonym, kind
    "network"|"big_conversation", network code or None, Europe/London date, attended)."""
    rows = await session.execute(attendance_select())
    return [(p, k, n, d, bool(a)) for p, k, n, d, a in rows]


def membership_select() -> Select[str, str]:
    """(pseudonym, network) for every current network membership."""
    return select(
        NetworkMember.pseudonym.label("pseudonym"), NetworkMember.network.label("network")
    )


async def network_membership_rows(session: AsyncSession) -> list[tuple[str, str]]:
    """Every current staff network membership as (pseudonym, network code)."""
    rows = await session.execute(membership_select())
    return [(p, n) for p, n in rows]


# ---- events ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Places:
    """How an event's places stand."""

    held: int  # confirmed + offered
    waiting: int


async def get_event(
    session: AsyncSession,
    *,
    slug: str | None = None,
    event_id: int | None = None,
    lock: bool = False,
) -> Event | None:
    """One event by slug or id; `lock` takes a row lock (FOR UPDATE on PostgreSQL) so
    concurrent sign-ups for it queue behind each other."""
    query = select(Event)
    query = (
        query.where(Event.slug == slug) if slug is not None else query.where(Event.id == event_id)
    )
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def slug_taken(session: AsyncSession, *, slug: str) -> bool:
    """Whether an event already has this slug."""
    found = await session.execute(select(Event.id).where(Event.slug == slug))
    return found.first() is not None


async def upcoming(
    session: AsyncSession, *, now: datetime, network: str | None = None, limit: int = 20
) -> list[Event]:
    """Scheduled events not yet started, soonest first (of one network, if given)."""
    query = select(Event).where(Event.status == "scheduled", Event.starts_at > now)
    if network == "big_conversation":
        query = query.where(Event.kind == "big_conversation")
    elif network is not None:
        query = query.where(Event.network == network)
    return list(
        (await session.execute(query.order_by(Event.starts_at, Event.id).limit(limit))).scalars()
    )


async def all_events(session: AsyncSession, *, since: datetime | None = None) -> list[Event]:
    """Every event (starting after `since`, if given), soonest first."""
    query = select(Event)
    if since is not None:
        query = query.where(Event.starts_at > since)
    return list((await session.execute(query.order_by(Event.starts_at, Event.id))).scalars())


async def places(session: AsyncSession, *, event_id: int) -> Places:
    """Places held and people waiting for one event."""
    rows = await session.execute(
        select(EventSignup.status, func.count())
        .where(EventSignup.event_id == event_id)
        .group_by(EventSignup.status)
    )
    counts = {status: int(n) for status, n in rows}
    return Places(sum(counts.get(s, 0) for s in HOLDING), counts.get("waitlisted", 0))


async def events_starting_between(
    session: AsyncSession, *, start: datetime, end: datetime
) -> list[Event]:
    """Scheduled events starting in [start, end)."""
    query = select(Event).where(
        Event.status == "scheduled", Event.starts_at >= start, Event.starts_at < end
    )
    return list((await session.execute(query.order_by(Event.starts_at))).scalars())


# ---- sign-ups ----------------------------------------------------------------------------------


async def signup_of(session: AsyncSession, *, event_id: int, pseudonym: str) -> EventSignup | None:
    """This person's sign-up row for this event, if any (whatever its status)."""
    query = select(EventSignup).where(
        EventSignup.event_id == event_id, EventSignup.pseudonym == pseudonym
    )
    return (await session.execute(query)).scalar_one_or_none()


async def signups(
    session: AsyncSession, *, event_id: int, statuses: Sequence[str] | None = None
) -> list[EventSignup]:
    """An event's sign-ups (of the given statuses), in the order they joined."""
    query = select(EventSignup).where(EventSignup.event_id == event_id)
    if statuses is not None:
        query = query.where(EventSignup.status.in_(statuses))
    return list(
        (await session.execute(query.order_by(EventSignup.queued_at, EventSignup.id))).scalars()
    )


async def next_waiting(session: AsyncSession, *, event_id: int) -> EventSignup | None:
    """The first person on an event's waitlist."""
    query = (
        select(EventSignup)
        .where(EventSignup.event_id == event_id, EventSignup.status == "waitlisted")
        .order_by(EventSignup.queued_at, EventSignup.id)
        .limit(1)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def waitlist_position(session: AsyncSession, *, signup: EventSignup) -> int:
    """Where a waitlisted sign-up stands: 1 is next to be offered a place."""
    ahead = await session.execute(
        select(func.count())
        .select_from(EventSignup)
        .where(
            EventSignup.event_id == signup.event_id,
            EventSignup.status == "waitlisted",
            or_(
                EventSignup.queued_at < signup.queued_at,
                and_(EventSignup.queued_at == signup.queued_at, EventSignup.id < signup.id),
            ),
        )
    )
    return int(ahead.scalar_one()) + 1


async def my_signups(
    session: AsyncSession, *, pseudonym: str, now: datetime
) -> list[tuple[Event, EventSignup]]:
    """A person's places and waitlist entries at events not yet ended, soonest first."""
    query = (
        select(Event, EventSignup)
        .join(EventSignup, EventSignup.event_id == Event.id)
        .where(
            EventSignup.pseudonym == pseudonym,
            EventSignup.status.in_(("confirmed", "offered", "waitlisted")),
            Event.status == "scheduled",
            Event.ends_at > now,
        )
        .order_by(Event.starts_at)
    )
    return [(e, s) for e, s in (await session.execute(query)).all()]


async def lapsed_offers(session: AsyncSession, *, now: datetime) -> list[EventSignup]:
    """Offers of a freed place whose claim window has passed."""
    query = select(EventSignup).where(
        EventSignup.status == "offered", EventSignup.offer_expires_at <= now
    )
    return list((await session.execute(query.order_by(EventSignup.id))).scalars())


async def events_with_waitlist(session: AsyncSession, *, now: datetime) -> list[int]:
    """Ids of events not yet started that have somebody waiting."""
    query = (
        select(Event.id)
        .join(EventSignup, EventSignup.event_id == Event.id)
        .where(
            Event.status == "scheduled",
            Event.starts_at > now,
            EventSignup.status == "waitlisted",
        )
        .distinct()
    )
    return [int(i) for (i,) in await session.execute(query)]


async def delete_needs_before(session: AsyncSession, *, day: date) -> int:
    """Delete adjustment needs for events that ended before `day` (Europe/London); how many."""
    ended = select(Event.id).where(Event.local_date < day).scalar_subquery()
    result = await session.execute(
        update(EventSignup)
        .where(EventSignup.event_id.in_(ended), EventSignup.needs.is_not(None))
        .values(needs=None, needs_key=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def wipe_identities_before(session: AsyncSession, *, day: date) -> int:
    """Wipe the sealed identity of sign-ups for events held before `day`; how many."""
    ended = select(Event.id).where(Event.local_date < day).scalar_subquery()
    result = await session.execute(
        update(EventSignup)
        .where(EventSignup.event_id.in_(ended), EventSignup.who.is_not(None))
        .values(who=None, who_key=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def already_queued(session: AsyncSession, *, dedupe_key: str) -> bool:
    """Whether the outbox already holds a message with this dedupe key."""
    found = await session.execute(
        select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
    )
    return found.first() is not None


# ---- networks ----------------------------------------------------------------------------------


async def membership(session: AsyncSession, *, pseudonym: str) -> list[str]:
    """The networks a person belongs to."""
    rows = await session.execute(
        select(NetworkMember.network).where(NetworkMember.pseudonym == pseudonym)
    )
    return sorted(n for (n,) in rows)


async def member_of(session: AsyncSession, *, network: str, pseudonym: str) -> NetworkMember | None:
    """A person's membership of one network, if any."""
    query = select(NetworkMember).where(
        NetworkMember.network == network, NetworkMember.pseudonym == pseudonym
    )
    return (await session.execute(query)).scalar_one_or_none()


async def members(session: AsyncSession, *, network: str) -> list[NetworkMember]:
    """One network's members, earliest first."""
    query = select(NetworkMember).where(NetworkMember.network == network)
    return list(
        (await session.execute(query.order_by(NetworkMember.joined_on, NetworkMember.pseudonym)))
        .scalars()
        .all()
    )


async def leave(session: AsyncSession, *, network: str, pseudonym: str) -> bool:
    """Remove a membership; False if there was none."""
    result = await session.execute(
        delete(NetworkMember).where(
            NetworkMember.network == network, NetworkMember.pseudonym == pseudonym
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def organiser_scopes(
    session: AsyncSession, *, tenant_id: str, aad_object_id: str
) -> list[str]:
    """The networks (and "big_conversation") this organiser runs."""
    rows = await session.execute(
        select(NetworkOrganiser.network).where(
            NetworkOrganiser.tenant_id == tenant_id,
            NetworkOrganiser.aad_object_id == aad_object_id.lower(),
        )
    )
    return sorted(n for (n,) in rows)


async def organisers_of(session: AsyncSession, *, network: str) -> list[tuple[str, str]]:
    """(tenant, object id) of everyone who runs `network` ("big_conversation" included)."""
    rows = await session.execute(
        select(NetworkOrganiser.tenant_id, NetworkOrganiser.aad_object_id)
        .where(NetworkOrganiser.network == network)
        .order_by(NetworkOrganiser.id)
    )
    return [(t, a) for t, a in rows]


async def add_organiser(
    session: AsyncSession, *, network: str, tenant_id: str, aad_object_id: str, granted_by: str
) -> bool:
    """Let someone run `network`'s events and see its members; False if they already could."""
    existing = await session.execute(
        select(NetworkOrganiser.id).where(
            NetworkOrganiser.network == network,
            NetworkOrganiser.tenant_id == tenant_id,
            NetworkOrganiser.aad_object_id == aad_object_id.lower(),
        )
    )
    if existing.first() is not None:
        return False
    session.add(
        NetworkOrganiser(
            network=network,
            tenant_id=tenant_id,
            aad_object_id=aad_object_id.lower(),
            granted_by=granted_by,
            granted_at=utcnow(),
        )
    )
    await session.flush()
    return True


async def remove_organiser(session: AsyncSession, *, network: str, aad_object_id: str) -> int:
    """Take a network scope away; how many were removed."""
    result = await session.execute(
        delete(NetworkOrganiser).where(
            NetworkOrganiser.network == network,
            NetworkOrganiser.aad_object_id == aad_object_id.lower(),
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def all_organisers(session: AsyncSession) -> list[NetworkOrganiser]:
    """Every network scope, by network."""
    query = select(NetworkOrganiser).order_by(NetworkOrganiser.network, NetworkOrganiser.id)
    return list((await session.execute(query)).scalars())


# ---- one person's data -------------------------------------------------------------------------


async def person_signups(
    session: AsyncSession, *, pseudonym: str
) -> list[tuple[Event, EventSignup]]:
    """Every sign-up a person has, with its event."""
    query = (
        select(Event, EventSignup)
        .join(EventSignup, EventSignup.event_id == Event.id)
        .where(EventSignup.pseudonym == pseudonym)
        .order_by(Event.starts_at)
    )
    return [(e, s) for e, s in (await session.execute(query)).all()]


async def erase_person(
    session: AsyncSession, *, pseudonym: str, tenant_id: str, aad_object_id: str
) -> dict[str, int]:
    """Delete a person's sign-ups, memberships and organiser scopes; rows per table."""
    counts = {}
    for name, statement in (
        ("event_signups", delete(EventSignup).where(EventSignup.pseudonym == pseudonym)),
        ("network_members", delete(NetworkMember).where(NetworkMember.pseudonym == pseudonym)),
        (
            "network_organisers",
            delete(NetworkOrganiser).where(
                and_(
                    NetworkOrganiser.tenant_id == tenant_id,
                    NetworkOrganiser.aad_object_id == aad_object_id.lower(),
                )
            ),
        ),
    ):
        result = await session.execute(statement)
        counts[name] = int(result.rowcount)  # type: ignore[attr-defined]
    return counts


def events_held_select(
    *, start: date, end: date, now: datetime | None = None
) -> Select[str, str | None]:
    """(kind, network) of every scheduled event that started by `now`, dated `start`..`end`."""
    return (
        select(Event.kind.label("kind"), Event.network.label("network"))
        .where(
            Event.status == "scheduled",
            Event.starts_at <= (now or utcnow()),
            Event.local_date >= start,
            Event.local_date <= end,
        )
        .distinct()
    )
