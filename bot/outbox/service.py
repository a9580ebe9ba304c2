"""The outbox: the one way a proactive message leaves the bot.

A feature calls `Outbox.enqueue` inside its own transaction: one `outbox_messages` row (the
activity, sealed) and one `outbox_deliveries` row per recipient who has an active stored
conversation reference. Nothing is sent then. `OutboxWorker`s claim due deliveries, send
each through the adapter's `continue_conversation` within one rate limit, and mark them.

Delivery guarantees (docs/outbox.md has the whole argument):

* A claim is a lease (`claim_token`, `lease_until`) taken in one short transaction:
  `FOR UPDATE SKIP LOCKED` on PostgreSQL; on SQLite every write transaction is
  `BEGIN IMMEDIATE`, so claims are serialised. Two workers never hold the same row.
* Outcomes are written in batches (every `flush_seconds`, 50 ms, or 50 outcomes), each row
  only if the writer still holds its claim. A worker that dies leaves its unsent rows claimed
  until the lease expires; then another worker takes them. Nobody is missed.
* The window that cannot be closed from this side: the connector accepted a POST and the
  worker died before that outcome was written (at most ~50 ms of sends plus those in flight),
  or the POST timed out after Teams received it. Those deliveries are sent again
  (at-least-once). The Bot Connector API has no idempotency key. A stop or a cancellation
  (shutdown) writes what was sent before giving up, so only a hard kill leaves that window.
* A worker starts a send only while its lease has at least the send timeout left, so a lease
  never expires under a send in progress; what it could not start in time it releases.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import random
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

import aiohttp
import requests
from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ConversationReference
from sqlalchemy import Table, bindparam, delete, func, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channel.replies import ReplyNotDelivered, ReplySender
from bot.channel.replies import _seconds as retry_after_seconds
from bot.channel.wire import from_wire
from bot.config import Settings
from bot.core.logs import describe_exception
from bot.core.people import PersonKey
from bot.db import references as repo_references
from bot.db.models import ConversationReferenceRecord, utcnow
from bot.db.session import unit_of_work
from bot.outbox.models import OutboxDelivery, OutboxMessage, OutboxSendSlot
from bot.privacy.crypto import DecryptionError, FieldCipher, Sealed

log = logging.getLogger(__name__)

DeliveryStatus = Literal["queued", "sent", "failed", "gone"]
STATUSES: tuple[DeliveryStatus, ...] = ("queued", "sent", "failed", "gone")
# Teams refuses a message over 100 KB (HTTP 413).
MAX_ACTIVITY_BYTES = 100 * 1024
# Statuses worth another attempt: throttled, a precondition race, the service briefly down.
RETRYABLE_STATUSES = frozenset({412, 429, 502, 503, 504})
# The app was uninstalled, the person left, or the conversation no longer exists.
GONE_STATUSES = frozenset({403, 404})
_LOOKUP_CHUNK = 500
_INSERT_CHUNK = 1000

_MESSAGES: Table = OutboxMessage.__table__  # type: ignore[assignment]
_DELIVERIES: Table = OutboxDelivery.__table__  # type: ignore[assignment]
_REFERENCES: Table = ConversationReferenceRecord.__table__  # type: ignore[assignment]
_SLOTS: Table = OutboxSendSlot.__table__  # type: ignore[assignment]


class OutboxError(ValueError):
    """A message that cannot be enqueued as given (not an activity, too large, ...)."""


def payload_context(message_id: int) -> str:
    """The associated data a message's payload is sealed with: its own row."""
    return f"outbox_messages:{message_id}"


@dataclass(frozen=True)
class Enqueued:
    """What `Outbox.enqueue` did: the message, and how many recipients it can reach."""

    message_id: int
    queued: int  # recipients with an active conversation reference
    unreachable: int  # recipients with none (never installed / gone)


# Called in the transaction that marks a delivery sent: (session, message subject, person).
SentHook = Callable[[AsyncSession, str | None, PersonKey], Awaitable[None]]


class Outbox:
    """Writes proactive messages to the outbox; the worker sends them."""

    def __init__(self, cipher: FieldCipher) -> None:
        self._cipher = cipher
        self._on_sent: dict[str, list[SentHook]] = {}

    @property
    def cipher(self) -> FieldCipher:
        """The cipher payloads are sealed with."""
        return self._cipher

    def on_sent(self, kind: str, hook: SentHook) -> None:
        """Run `hook` in the same transaction that marks a delivery of `kind` sent."""
        self._on_sent.setdefault(kind, []).append(hook)

    def sent_hooks(self, kind: str) -> Sequence[SentHook]:
        """The hooks registered for `kind`."""
        return self._on_sent.get(kind, ())

    async def enqueue(
        self,
        session: AsyncSession,
        *,
        kind: str,
        recipients: Iterable[PersonKey],
        activity: dict[str, Any],
        dedupe_key: str | None = None,
        not_before: datetime | None = None,
        subject: str | None = None,
    ) -> Enqueued:
        """Queue `activity` for every recipient with an active reference, in `session`'s
        transaction. The same `dedupe_key` again returns the first message's result."""
        document = _checked_activity(activity)
        if not kind or len(kind) > 64:
            raise OutboxError("kind must be 1 to 64 characters")
        if dedupe_key is not None and not 0 < len(dedupe_key) <= 200:
            raise OutboxError("dedupe_key must be 1 to 200 characters")
        if subject is not None and len(subject) > 128:
            raise OutboxError("subject must be at most 128 characters")
        if not_before is not None:
            if not_before.tzinfo is None:
                raise OutboxError("not_before must be timezone-aware")
            not_before = not_before.astimezone(UTC)
        now = utcnow()
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        statement = insert(_MESSAGES).values(
            kind=kind,
            subject=subject,
            dedupe_key=dedupe_key,
            payload="",
            key_id=self._cipher.active_id,
            not_before=not_before,
            unreachable=0,
            created_at=now,
        )
        if dedupe_key is not None:
            statement = statement.on_conflict_do_nothing(index_elements=[_MESSAGES.c.dedupe_key])
        message_id = (
            await session.execute(statement.returning(_MESSAGES.c.id))
        ).scalar_one_or_none()
        if message_id is None:
            return await _existing(session, dedupe_key or "")
        sealed = self._cipher.seal(document, context=payload_context(message_id))
        people = list(dict.fromkeys(recipients))
        reference_ids = await _active_reference_ids(session, people)
        for start in range(0, len(reference_ids), _INSERT_CHUNK):
            await session.execute(
                _DELIVERIES.insert(),
                [
                    {
                        "message_id": message_id,
                        "reference_id": reference_id,
                        "status": "queued",
                        "attempts": 0,
                        "next_attempt_at": not_before or now,
                        "updated_at": now,
                    }
                    for reference_id in reference_ids[start : start + _INSERT_CHUNK]
                ],
            )
        unreachable = len(people) - len(reference_ids)
        await session.execute(
            update(_MESSAGES)
            .where(_MESSAGES.c.id == message_id)
            .values(payload=sealed.token, key_id=sealed.key_id, unreachable=unreachable)
        )
        log.info(
            "outbox.enqueued",
            extra={"kind": kind, "queued": len(reference_ids), "unreachable": unreachable},
        )
        return Enqueued(message_id, len(reference_ids), unreachable)


ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"


def card_activity(card: dict[str, Any], *, summary: str | None = None) -> dict[str, Any]:
    """A wire-format message carrying one Adaptive Card, for `Outbox.enqueue`.

    `summary` is what Teams shows in the notification and chat list (cards have no text).
    """
    activity: dict[str, Any] = {
        "type": "message",
        "attachments": [{"contentType": ADAPTIVE_CARD, "content": card}],
    }
    if summary:
        activity["summary"] = summary
    return activity


def text_activity(text: str) -> dict[str, Any]:
    """A wire-format plain text message (Markdown as Teams renders it), for `Outbox.enqueue`."""
    return {"type": "message", "text": text, "textFormat": "markdown"}


def _checked_activity(activity: dict[str, Any]) -> str:
    if not isinstance(activity, dict) or not isinstance(activity.get("type"), str):
        raise OutboxError("activity must be a wire-format activity dict with a type")
    try:
        document = json.dumps(activity, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError) as error:
        raise OutboxError(f"activity is not JSON: {type(error).__name__}") from None
    if len(document.encode("utf-8")) > MAX_ACTIVITY_BYTES:
        raise OutboxError(f"activity is over {MAX_ACTIVITY_BYTES} bytes; Teams would refuse it")
    return document


async def _existing(session: AsyncSession, dedupe_key: str) -> Enqueued:
    row = (
        await session.execute(
            select(_MESSAGES.c.id, _MESSAGES.c.unreachable).where(
                _MESSAGES.c.dedupe_key == dedupe_key
            )
        )
    ).one()
    queued = (
        await session.execute(
            select(func.count()).select_from(_DELIVERIES).where(_DELIVERIES.c.message_id == row.id)
        )
    ).scalar_one()
    return Enqueued(int(row.id), int(queued), int(row.unreachable))


async def _active_reference_ids(session: AsyncSession, people: list[PersonKey]) -> list[int]:
    """Ids of the active references of `people`, in their order; people without one skipped."""
    found: dict[PersonKey, int] = {}
    for start in range(0, len(people), _LOOKUP_CHUNK):
        chunk = people[start : start + _LOOKUP_CHUNK]
        rows = await session.execute(
            select(_REFERENCES.c.id, _REFERENCES.c.tenant_id, _REFERENCES.c.aad_object_id).where(
                _REFERENCES.c.status == "active",
                tuple_(_REFERENCES.c.tenant_id, _REFERENCES.c.aad_object_id).in_(
                    [(p.tenant_id, p.aad_object_id) for p in chunk]
                ),
            )
        )
        for reference_id, tenant_id, aad_object_id in rows:
            found[PersonKey(tenant_id, aad_object_id)] = int(reference_id)
    return [found[p] for p in people if p in found]


# ---- counts -------------------------------------------------------------------------------


@dataclass
class DeliveryCounts:
    """Deliveries by status, and failures by reason class."""

    queued: int = 0
    sent: int = 0
    failed: int = 0
    gone: int = 0
    unreachable: int = 0
    failures: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Every delivery, whatever its status."""
        return self.queued + self.sent + self.failed + self.gone


async def delivery_counts(
    session: AsyncSession,
    *,
    kind: str | None = None,
    subject: str | None = None,
    message_id: int | None = None,
) -> DeliveryCounts:
    """Counts for the messages matching the filters (all messages when none is given)."""
    where = []
    if kind is not None:
        where.append(_MESSAGES.c.kind == kind)
    if subject is not None:
        where.append(_MESSAGES.c.subject == subject)
    if message_id is not None:
        where.append(_MESSAGES.c.id == message_id)
    joined = _DELIVERIES.join(_MESSAGES, _MESSAGES.c.id == _DELIVERIES.c.message_id)
    counts = DeliveryCounts()
    rows = await session.execute(
        select(_DELIVERIES.c.status, _DELIVERIES.c.last_error, func.count())
        .select_from(joined)
        .where(*where)
        .group_by(_DELIVERIES.c.status, _DELIVERIES.c.last_error)
    )
    for status, reason, count in rows:
        if status in STATUSES:
            setattr(counts, status, getattr(counts, status) + int(count))
        if status == "failed":
            counts.failures[reason or "unknown"] = counts.failures.get(
                reason or "unknown", 0
            ) + int(count)
    unreachable = (
        await session.execute(
            select(func.coalesce(func.sum(_MESSAGES.c.unreachable), 0)).where(*where)
        )
    ).scalar_one()
    counts.unreachable = int(unreachable)
    return counts


@dataclass(frozen=True)
class KindCounts:
    """One kind of message: how many messages, and their deliveries by status."""

    kind: str
    messages: int
    counts: DeliveryCounts
    oldest_queued: datetime | None


async def status_by_kind(session: AsyncSession) -> list[KindCounts]:
    """Counts for every kind of message in the outbox, for `edi-bot outbox status`."""
    kinds = (
        await session.execute(
            select(_MESSAGES.c.kind, func.count())
            .group_by(_MESSAGES.c.kind)
            .order_by(_MESSAGES.c.kind)
        )
    ).all()
    found = []
    for kind, messages in kinds:
        oldest = (
            await session.execute(
                select(func.min(_MESSAGES.c.created_at))
                .select_from(
                    _DELIVERIES.join(_MESSAGES, _MESSAGES.c.id == _DELIVERIES.c.message_id)
                )
                .where(_MESSAGES.c.kind == kind, _DELIVERIES.c.status == "queued")
            )
        ).scalar_one_or_none()
        counts = await delivery_counts(session, kind=kind)
        found.append(KindCounts(str(kind), int(messages), counts, oldest))
    return found


async def requeue_failed(session: AsyncSession, *, message_id: int | None = None) -> int:
    """Put failed deliveries back in the queue with fresh attempts; how many."""
    query = (
        update(_DELIVERIES)
        .where(_DELIVERIES.c.status == "failed")
        .values(
            status="queued",
            attempts=0,
            next_attempt_at=utcnow(),
            claim_token=None,
            lease_until=None,
            updated_at=utcnow(),
        )
    )
    if message_id is not None:
        query = query.where(_DELIVERIES.c.message_id == message_id)
    result = await session.execute(query)
    return int(result.rowcount)  # type: ignore[attr-defined]


async def purge_finished_before(session: AsyncSession, before: datetime) -> int:
    """Delete messages created before `before` with nothing left to send (retention)."""
    pending = select(_DELIVERIES.c.id).where(
        _DELIVERIES.c.message_id == _MESSAGES.c.id, _DELIVERIES.c.status == "queued"
    )
    old = select(_MESSAGES.c.id).where(_MESSAGES.c.created_at < before, ~pending.exists())
    ids = [int(i) for (i,) in await session.execute(old)]
    if not ids:
        return 0
    await session.execute(delete(_DELIVERIES).where(_DELIVERIES.c.message_id.in_(ids)))
    await session.execute(delete(_MESSAGES).where(_MESSAGES.c.id.in_(ids)))
    return len(ids)


# ---- sending ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendOutcome:
    """How one POST to the connector went; `reason` is a class, never a message."""

    status: int | None
    reason: str = ""
    retry_after: float | None = None

    @property
    def delivered(self) -> bool:
        """The connector accepted the activity."""
        return self.status is not None and 200 <= self.status < 300


class Transport(Protocol):
    """Sends one activity to one stored conversation reference."""

    async def send(self, reference: dict[str, Any], activity: dict[str, Any]) -> SendOutcome:
        """Send; report the outcome rather than raise."""

    async def close(self) -> None:
        """Release connections."""


class ConnectorTransport:
    """Sends through the Bot Framework adapter's `continue_conversation`, real HTTP to the
    reference's serviceUrl, on its own reply session that does not retry (the worker does)."""

    def __init__(self, settings: Settings) -> None:
        from bot.channel.adapter import EdiCloudAdapter, build_authentication

        self._replies = ReplySender(timeout=settings.outbox_send_timeout_seconds, retries=0)
        self._adapter = EdiCloudAdapter(build_authentication(settings, self._replies))
        self._app_id = settings.app_id

    async def send(self, reference: dict[str, Any], activity: dict[str, Any]) -> SendOutcome:
        """Post `activity` into the conversation `reference` names."""
        try:
            target = from_wire(ConversationReference, reference)
            message = from_wire(Activity, activity)
        except Exception as error:  # noqa: BLE001 - msrest raises many types for bad shapes
            return SendOutcome(None, f"bad_{type(error).__name__}")

        async def deliver(context: TurnContext) -> None:
            # botbuilder gives the continuation activity a made-up id, which would turn the
            # message into a reply to it; a proactive message is a new one in the chat.
            context.activity.id = None
            await context.send_activity(message)

        try:
            await self._adapter.continue_conversation(target, deliver, self._app_id)
        except ReplyNotDelivered as error:
            wait = retry_after_seconds(error.retry_after) if error.retry_after else None
            return SendOutcome(error.status, error.reason, wait)
        except (aiohttp.ClientError, OSError, requests.RequestException) as error:
            return SendOutcome(None, type(error).__name__)
        except Exception as error:  # noqa: BLE001 - one bad delivery must not stop the rest
            return SendOutcome(None, f"error_{type(error).__name__}")
        return SendOutcome(201)

    async def close(self) -> None:
        """Close the HTTP session."""
        await self._replies.close()


class RateLimiter:
    """At most `per_second` sends in any one-second window, spaced 1/rate apart, shared by
    every task of a worker.

    Each waiter re-checks after it wakes, so a stalled event loop releases its waiters one
    slot at a time instead of in a burst.
    """

    def __init__(
        self,
        per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._interval = 1.0 / per_second
        self._window = max(1, int(per_second))
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0
        self._started: deque[float] = deque()

    async def acquire(self) -> None:
        """Wait until a send may start, and count it."""
        while True:
            now = self._clock()
            while self._started and now - self._started[0] >= 1.0:
                self._started.popleft()
            wait = self._next - now
            if len(self._started) >= self._window:
                wait = max(wait, self._started[0] + 1.0 - now)
            if wait <= 0:
                self._started.append(now)
                # Keep to the schedule when a wake-up is a little late (sleep overshoots by a
                # fraction of a millisecond each time, which would add up), but after a stall
                # or an idle spell start afresh: sends resume at the rate, never in a burst.
                on_time = now - self._next < self._interval
                self._next = (self._next if on_time else now) + self._interval
                return
            await self._sleep(wait)

    def pause(self, seconds: float) -> None:
        """Start no send for `seconds` (the connector said Retry-After)."""
        self._next = max(self._next, self._clock() + seconds)


class SendSlots:
    """The rate limit shared by every worker in every replica, through the database.

    Teams counts requests per app and tenant, whichever replica makes them. Time is cut into
    slots of `chunk / per_second` seconds, each worth `chunk` sends (a tenth of a second at
    the usual rates). A worker sends only in slots it has claimed, and claiming is one
    INSERT that only one worker can win, so all replicas together start at most `per_second`
    sends a second (plus at most one slot's worth across a second's edge). A 429's
    Retry-After claims the slots it covers for nobody, so every replica waits. A slot a
    worker cannot fill is simply lost: the limit errs on the slow side. Replicas compare
    their own clocks, so they need NTP, as the leases already do.
    """

    CLEAN_EVERY = 600  # slots; old rows are deleted about once a minute per worker
    MAX_BLOCK_SLOTS = 6000  # a Retry-After beyond ~10 minutes also pauses locally only

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        per_second: float,
        *,
        wall: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._sessions = sessions
        self._chunk = max(1, -(-int(per_second) // 10))  # ceil(rate / 10), at least 1
        self._per_slot = per_second / self._chunk  # slots per second
        self._length = 1.0 / self._per_slot
        self._wall = wall
        self._sleep = sleep
        self._lock = asyncio.Lock()
        self._slot = -1  # the slot this worker is in, and how many sends it has left there
        self._left = 0
        # The next slot, being claimed while this one is spent, so a claim never waits on
        # the database at a slot's start (which would lose that slot's first sends).
        self._ahead: tuple[int, asyncio.Task[bool]] | None = None
        self._claims = 0
        postgres = sessions.kw["bind"].dialect.name == "postgresql"
        self._insert = pg_insert if postgres else sqlite_insert

    @property
    def slot_seconds(self) -> float:
        """How long one slot lasts."""
        return self._length

    async def take(self) -> None:
        """Wait until this worker may start one send."""
        async with self._lock:
            while True:
                slot = self._current()
                if slot != self._slot:
                    await self._enter(slot)
                if self._left > 0:
                    self._left -= 1
                    return
                # Until the next slot starts (never a zero sleep: rounding must not spin).
                await self._sleep(max(0.0005, (slot + 1) / self._per_slot - self._wall()))

    async def block(self, seconds: float) -> None:
        """Nobody sends for `seconds` (the connector said Retry-After)."""
        first = self._current() + 1
        count = min(self.MAX_BLOCK_SLOTS, math.ceil(seconds * self._per_slot))
        if count <= 0:
            return
        rows = [{"slot": n} for n in range(first, first + count)]
        async with unit_of_work(self._sessions) as session:
            statement = self._insert(_SLOTS).values(rows).on_conflict_do_nothing()
            await session.execute(statement)

    async def settle(self) -> None:
        """At the end of a pass: finish a claim made ahead of time, and give back the slot
        it won, unused, for another worker (no task outlives the pass)."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None and await self._result(ahead[1]):
            async with unit_of_work(self._sessions) as session:
                await session.execute(delete(_SLOTS).where(_SLOTS.c.slot == ahead[0]))

    async def _enter(self, slot: int) -> None:
        """Move into `slot`: with its sends if this worker won it, else with none."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None and ahead[0] == slot:
            won = await self._result(ahead[1])
        else:
            if ahead is not None:
                await asyncio.gather(ahead[1], return_exceptions=True)
            won = await self._claim(slot)
        self._slot, self._left = slot, (self._chunk if won else 0)
        if won:
            claim = asyncio.get_running_loop().create_task(self._claim(slot + 1))
            self._ahead = (slot + 1, claim)

    @staticmethod
    async def _result(task: asyncio.Task[bool]) -> bool:
        try:
            return await task
        except Exception as error:  # noqa: BLE001 - a lost claim only costs a slot
            log.warning("outbox.slot_claim_failed", extra={"error": describe_exception(error)})
            return False

    def _current(self) -> int:
        return int(self._wall() * self._per_slot)

    async def _claim(self, slot: int) -> bool:
        statement = (
            self._insert(_SLOTS).values(slot=slot).on_conflict_do_nothing().returning(_SLOTS.c.slot)
        )
        async with unit_of_work(self._sessions) as session:
            won = (await session.execute(statement)).first() is not None
            self._claims += 1
            if self._claims % self.CLEAN_EVERY == 0:
                await session.execute(delete(_SLOTS).where(_SLOTS.c.slot < slot - self.CLEAN_EVERY))
        return won


@dataclass(frozen=True)
class Claimed:
    """One delivery a worker holds: where to send, what, and how many tries so far."""

    delivery_id: int
    message_id: int
    kind: str
    subject: str | None
    attempts: int
    person: PersonKey
    reference: dict[str, Any]
    reference_active: bool
    activity: dict[str, Any] | None  # None when the payload would not decrypt


@dataclass
class WorkResult:
    """What one pass of the worker did."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    gone: int = 0
    released: int = 0


@dataclass(frozen=True)
class WorkerPolicy:
    """How a worker paces, retries and leases; from settings."""

    rate_per_second: float = 30.0
    concurrency: int = 8
    batch_size: int = 200
    lease_seconds: float = 120.0
    max_attempts: int = 8
    backoff_seconds: float = 2.0
    backoff_max_seconds: float = 600.0
    poll_seconds: float = 2.0
    send_timeout_seconds: float = 15.0
    flush_seconds: float = 0.05  # how often a batch's outcomes are written
    flush_size: int = 50  # ... or sooner, once this many are waiting

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkerPolicy:
        """The policy `EDI_OUTBOX_*` settings describe."""
        return cls(
            rate_per_second=settings.outbox_rate_per_second,
            concurrency=settings.outbox_concurrency,
            batch_size=settings.outbox_batch_size,
            lease_seconds=settings.outbox_lease_seconds,
            max_attempts=settings.outbox_max_attempts,
            backoff_seconds=settings.outbox_backoff_seconds,
            backoff_max_seconds=settings.outbox_backoff_max_seconds,
            poll_seconds=settings.outbox_poll_seconds,
            send_timeout_seconds=settings.outbox_send_timeout_seconds,
        )


class OutboxWorker:
    """Claims due deliveries, sends them within the rate limit, and marks each one."""

    def __init__(
        self,
        outbox: Outbox,
        sessions: async_sessionmaker[AsyncSession],
        transport: Transport,
        policy: WorkerPolicy,
        *,
        limiter: RateLimiter | None = None,
        slots: SendSlots | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._outbox = outbox
        self._sessions = sessions
        self._transport = transport
        self._policy = policy
        self._limiter = limiter or RateLimiter(policy.rate_per_second)
        self._slots = slots or SendSlots(sessions, policy.rate_per_second)
        self._clock = clock
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._postgres = sessions.kw["bind"].dialect.name == "postgresql"

    @property
    def policy(self) -> WorkerPolicy:
        """How this worker paces, retries and leases."""
        return self._policy

    # ---- running ----------------------------------------------------------------------

    def start(self) -> None:
        """Run in the background until `stop()`."""
        if self._task is None or self._task.done():
            self._stopping.clear()
            self._task = asyncio.get_running_loop().create_task(self.run(), name="outbox-worker")

    async def stop(self, *, grace_seconds: float = 30.0) -> None:
        """Finish the sends in flight, release the rest, stop; then close the transport."""
        self._stopping.set()
        task, self._task = self._task, None
        if task is not None:
            try:
                await asyncio.wait_for(task, grace_seconds)
            except TimeoutError:
                log.warning("outbox.stop_timeout")
        await self._transport.close()

    async def run(self) -> None:
        """Work until stopped: a pass, then another at once if it found work, else a pause."""
        while not self._stopping.is_set():
            try:
                result = await self.run_once()
            except Exception as error:  # noqa: BLE001 - a database blip must not end the worker
                log.error("outbox.pass_failed", extra={"error": describe_exception(error)})
                result = WorkResult()
            if result.claimed == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self._policy.poll_seconds)

    async def drain(self) -> WorkResult:
        """Pass after pass until nothing is due now; the totals (for the CLI and tests)."""
        total = WorkResult()
        while True:
            result = await self.run_once()
            for name in vars(total):
                setattr(total, name, getattr(total, name) + getattr(result, name))
            if result.claimed == 0:
                return total

    async def run_once(self) -> WorkResult:
        """Claim one batch, deliver it, and record the outcomes as they come."""
        token = uuid.uuid4().hex
        claimed, lease_until = await self.claim(token)
        result = WorkResult(claimed=len(claimed))
        if not claimed:
            return result
        gate = asyncio.Semaphore(self._policy.concurrency)
        recorder = _Recorder(self, token, result)
        done = asyncio.Event()

        async def one(item: Claimed) -> None:
            async with gate:
                await recorder.add(await self._deliver(item, lease_until))

        async def flush_regularly() -> None:
            while not done.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(done.wait(), self._policy.flush_seconds)
                await recorder.flush()
            await recorder.flush()  # whatever arrived during the last write

        flusher = asyncio.create_task(flush_regularly())
        try:
            outcomes = await asyncio.gather(
                *(one(item) for item in claimed), return_exceptions=True
            )
        finally:
            # Also when cancelled (shutdown): what was sent is recorded before giving up.
            done.set()
            await flusher
            await self._slots.settle()
        for outcome in outcomes:
            if isinstance(outcome, Exception):
                # Its row stays claimed until the lease runs out, then is tried again.
                log.error("outbox.delivery_error", extra={"error": describe_exception(outcome)})
        if result.sent or result.failed or result.gone:
            log.info(
                "outbox.pass",
                extra={
                    "sent": result.sent,
                    "retried": result.retried,
                    "failed": result.failed,
                    "gone": result.gone,
                    "released": result.released,
                },
            )
        return result

    # ---- claiming -----------------------------------------------------------------------

    async def claim(self, token: str) -> tuple[list[Claimed], datetime]:
        """Take up to a batch of due deliveries under a lease named by `token`."""
        now = self._clock()
        lease_until = now + timedelta(seconds=self._policy.lease_seconds)
        d, m, r = _DELIVERIES, _MESSAGES, _REFERENCES
        due = (
            select(d.c.id)
            .select_from(d.join(m, m.c.id == d.c.message_id))
            .where(
                d.c.status == "queued",
                d.c.next_attempt_at <= now,
                or_(d.c.lease_until.is_(None), d.c.lease_until < now),
                or_(m.c.not_before.is_(None), m.c.not_before <= now),
            )
            .order_by(d.c.id)
            .limit(self._policy.batch_size)
        )
        if self._postgres:
            due = due.with_for_update(of=d, skip_locked=True)
        async with unit_of_work(self._sessions) as session:
            ids = [int(i) for (i,) in await session.execute(due)]
            if not ids:
                return [], lease_until
            await session.execute(
                update(d)
                .where(d.c.id.in_(ids))
                .values(claim_token=token, lease_until=lease_until, updated_at=now)
            )
            rows = (
                await session.execute(
                    select(
                        d.c.id,
                        d.c.message_id,
                        d.c.attempts,
                        m.c.kind,
                        m.c.subject,
                        m.c.payload,
                        m.c.key_id,
                        r.c.tenant_id,
                        r.c.aad_object_id,
                        r.c.reference,
                        r.c.status,
                    )
                    .select_from(
                        d.join(m, m.c.id == d.c.message_id).join(r, r.c.id == d.c.reference_id)
                    )
                    .where(d.c.id.in_(ids))
                    .order_by(d.c.id)
                )
            ).all()
        activities: dict[int, dict[str, Any] | None] = {}
        claimed = []
        for row in rows:
            if row.message_id not in activities:
                activities[row.message_id] = self._open(row.message_id, row.payload, row.key_id)
            claimed.append(
                Claimed(
                    delivery_id=int(row.id),
                    message_id=int(row.message_id),
                    kind=str(row.kind),
                    subject=row.subject,
                    attempts=int(row.attempts),
                    person=PersonKey(row.tenant_id, row.aad_object_id),
                    reference=json.loads(row.reference),
                    reference_active=row.status == "active",
                    activity=activities[row.message_id],
                )
            )
        return claimed, lease_until

    def _open(self, message_id: int, payload: str, key_id: str) -> dict[str, Any] | None:
        try:
            plain = self._outbox.cipher.open(
                Sealed(key_id, payload), context=payload_context(message_id)
            )
        except DecryptionError:
            log.error("outbox.payload_unreadable", extra={"message_id": message_id})
            return None
        found: dict[str, Any] = json.loads(plain)
        return found

    # ---- delivering ---------------------------------------------------------------------

    async def _deliver(self, item: Claimed, lease_until: datetime) -> _Outcome:
        """Send one claimed delivery (or decide not to) and say what should be recorded."""
        if not item.reference_active:
            # Uninstalled after it was queued: nothing to send to.
            return _Outcome(item, "gone", "uninstalled", attempted=False)
        if item.activity is None:
            return _Outcome(item, "failed", "undecryptable", attempted=False)
        if not self._may_start(lease_until):
            return _Outcome(item, None, None, attempted=False)
        await self._limiter.acquire()  # evenly spaced here ...
        await self._slots.take()  # ... and within the limit of all replicas together
        if not self._may_start(lease_until):
            return _Outcome(item, None, None, attempted=False)
        outcome = await self._transport.send(item.reference, item.activity)
        if outcome.delivered:
            return _Outcome(item, "sent", None, attempted=True)
        if outcome.status in GONE_STATUSES:
            return _Outcome(item, "gone", f"http_{outcome.status}", attempted=True)
        reason = _reason(outcome)
        if not self._retryable(outcome) or item.attempts + 1 >= self._policy.max_attempts:
            return _Outcome(item, "failed", reason, attempted=True)
        if outcome.status == 429 and outcome.retry_after is not None:
            # Throttling is per app and tenant: every send waits, not only this one.
            self._limiter.pause(outcome.retry_after)
            await self._slots.block(outcome.retry_after)
        delay = self._delay(item.attempts + 1, outcome)
        return _Outcome(item, None, reason, attempted=True, retry_in=delay)

    def _may_start(self, lease_until: datetime) -> bool:
        """A send may start only while the lease outlasts it, and not while stopping."""
        if self._stopping.is_set():
            return False
        margin = timedelta(seconds=self._policy.send_timeout_seconds + 1)
        return self._clock() + margin < lease_until

    @staticmethod
    def _retryable(outcome: SendOutcome) -> bool:
        if outcome.status is None:
            # Not reached, or no answer in time. A timeout may have been delivered: sending
            # again risks a duplicate, not sending risks a miss; the outbox prefers a duplicate.
            return not outcome.reason.startswith(("bad_", "error_"))
        return outcome.status in RETRYABLE_STATUSES

    def _delay(self, attempts: int, outcome: SendOutcome) -> float:
        if outcome.retry_after is not None:
            return outcome.retry_after
        step = min(
            self._policy.backoff_seconds * 2.0 ** (attempts - 1), self._policy.backoff_max_seconds
        )
        return step / 2 + random.uniform(0, step / 2)  # "equal jitter"

    async def _write(self, token: str, outcomes: list[_Outcome], result: WorkResult) -> None:
        """Record outcomes in one transaction, each only if this worker still holds its row."""
        now = self._clock()
        d = _DELIVERIES
        ids = [o.item.delivery_id for o in outcomes]
        async with unit_of_work(self._sessions) as session:
            held_query = select(d.c.id).where(d.c.id.in_(ids), d.c.claim_token == token)
            if self._postgres:
                held_query = held_query.with_for_update()
            held = {int(i) for (i,) in await session.execute(held_query)}
            if len(held) < len(ids):
                log.warning("outbox.lease_lost", extra={"count": len(ids) - len(held)})
            mine = [o for o in outcomes if o.item.delivery_id in held]
            finished: dict[tuple[str, str | None, bool], list[int]] = {}
            for o in mine:
                if o.status is not None:
                    finished.setdefault((o.status, o.reason, o.attempted), []).append(
                        o.item.delivery_id
                    )
            for (status, reason, attempted), group in finished.items():
                await session.execute(
                    update(d)
                    .where(d.c.id.in_(group))
                    .values(
                        status=status,
                        attempts=d.c.attempts + (1 if attempted else 0),
                        last_error=reason,
                        sent_at=now if status == "sent" else None,
                        claim_token=None,
                        lease_until=None,
                        updated_at=now,
                    )
                )
            retries = [o for o in mine if o.status is None and o.retry_in is not None]
            if retries:
                await session.execute(
                    update(d)
                    .where(d.c.id == bindparam("retry_id"))
                    .values(
                        attempts=bindparam("retry_attempts"),
                        last_error=bindparam("retry_reason"),
                        next_attempt_at=bindparam("retry_at"),
                        claim_token=None,
                        lease_until=None,
                        updated_at=now,
                    ),
                    [
                        {
                            "retry_id": o.item.delivery_id,
                            "retry_attempts": o.item.attempts + 1,
                            "retry_reason": o.reason,
                            "retry_at": now + timedelta(seconds=o.retry_in or 0.0),
                        }
                        for o in retries
                    ],
                )
            released = [o.item.delivery_id for o in mine if o.status is None and o.retry_in is None]
            if released:
                await session.execute(
                    update(d)
                    .where(d.c.id.in_(released))
                    .values(claim_token=None, lease_until=None, updated_at=now)
                )
            for o in mine:
                if o.status == "gone" and o.attempted:
                    await repo_references.mark_gone(session, person=o.item.person)
                elif o.status == "sent":
                    for hook in self._outbox.sent_hooks(o.item.kind):
                        await hook(session, o.item.subject, o.item.person)
        for o in mine:
            if o.status == "sent":
                result.sent += 1
            elif o.status == "gone":
                result.gone += 1
            elif o.status == "failed":
                result.failed += 1
                log.warning("outbox.failed", extra={"kind": o.item.kind, "reason": o.reason})
            elif o.retry_in is not None:
                result.retried += 1
                log.info(
                    "outbox.retry",
                    extra={
                        "kind": o.item.kind,
                        "reason": o.reason,
                        "delay_s": round(o.retry_in, 2),
                    },
                )
            else:
                result.released += 1


@dataclass(frozen=True)
class _Outcome:
    """What to record for one claimed delivery: a final status, a retry, or a release."""

    item: Claimed
    status: DeliveryStatus | None  # None: not finished (retry later, or release untouched)
    reason: str | None
    attempted: bool  # a request was made (counts as an attempt)
    retry_in: float | None = None  # seconds until the next attempt


class _Recorder:
    """Outcomes of one batch, written together every `flush_seconds` or `flush_size`.

    Batching the writes is what lets one worker keep up with Teams' limit on SQLite; the
    cost is a wider at-least-once window (see the module docstring).
    """

    def __init__(self, worker: OutboxWorker, token: str, result: WorkResult) -> None:
        self._worker = worker
        self._token = token
        self._result = result
        self._pending: list[_Outcome] = []
        self._lock = asyncio.Lock()

    async def add(self, outcome: _Outcome) -> None:
        """Keep an outcome; write now if enough are waiting."""
        self._pending.append(outcome)
        if len(self._pending) >= self._worker.policy.flush_size:
            await self.flush()

    async def flush(self) -> None:
        """Write what is waiting."""
        async with self._lock:
            taken, self._pending = self._pending, []
            if taken:
                await self._worker._write(self._token, taken, self._result)


def _reason(outcome: SendOutcome) -> str:
    """A failure's class for the status column and logs: never a message or body."""
    if outcome.status is not None:
        return f"http_{outcome.status}"
    reason = outcome.reason or "unknown"
    if reason.startswith(("bad_", "error_")):
        return reason[:64]
    if "Timeout" in reason:
        return "timeout"
    return "connection"


def build_worker(
    settings: Settings, outbox: Outbox, sessions: async_sessionmaker[AsyncSession]
) -> OutboxWorker:
    """A worker sending through the Bot Framework connector, paced by `settings`."""
    return OutboxWorker(
        outbox, sessions, ConnectorTransport(settings), WorkerPolicy.from_settings(settings)
    )


__all__ = [
    "ConnectorTransport",
    "DeliveryCounts",
    "Enqueued",
    "Outbox",
    "OutboxError",
    "OutboxWorker",
    "RateLimiter",
    "SendOutcome",
    "SendSlots",
    "Transport",
    "WorkerPolicy",
    "build_worker",
    "card_activity",
    "delivery_counts",
    "text_activity",
]
