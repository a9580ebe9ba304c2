"""The worker: claims due deliveries under a lease, sends them within the rate limit,
retries what can be retried and writes every outcome (see bot/outbox/__init__.py)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Select, Table, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.core.logs import describe_exception
from bot.core.people import PersonKey
from bot.db import references as repo_references
from bot.db.models import ConversationReferenceRecord, utcnow
from bot.db.session import unit_of_work
from bot.outbox.limits import RateLimiter, SendSlots
from bot.outbox.models import OutboxDelivery, OutboxMessage
from bot.outbox.queue import DeliveryStatus, Outbox, payload_context
from bot.privacy.crypto import DecryptionError, Sealed

log = logging.getLogger(__name__)
_MESSAGES: Table = OutboxMessage.__table__  # type: ignore[assignment]
_DELIVERIES: Table = OutboxDelivery.__table__  # type: ignore[assignment]
_REFERENCES: Table = ConversationReferenceRecord.__table__  # type: ignore[assignment]


# Statuses worth another attempt: throttled, a precondition race, the service briefly down.
RETRYABLE_STATUSES = frozenset({412, 429, 502, 503, 504})


# The app was uninstalled, the person left, or the conversation no longer exists.
GONE_STATUSES = frozenset({403, 404})


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
    """Sends one queued message (a card or a text) to one stored conversation reference."""

    async def send(self, reference: dict[str, Any], message: dict[str, Any]) -> SendOutcome:
        """Send; report the outcome rather than raise."""

    async def close(self) -> None:
        """Release connections."""


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
    message: dict[str, Any] | None  # None when the payload would not decrypt


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
        d = _DELIVERIES
        async with unit_of_work(self._sessions) as session:
            ids = [int(i) for i in await session.scalars(self._due(now))]
            if not ids:
                return [], lease_until
            await session.execute(
                update(d)
                .where(d.c.id.in_(ids))
                .values(claim_token=token, lease_until=lease_until, updated_at=now)
            )
            rows = (await session.execute(_claimed_rows(ids))).all()
        messages: dict[int, dict[str, Any] | None] = {}
        claimed = []
        for row in rows:
            if row.message_id not in messages:
                messages[row.message_id] = self._open(row.message_id, row.payload, row.key_id)
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
                    message=messages[row.message_id],
                )
            )
        return claimed, lease_until

    def _due(self, now: datetime) -> Select[Any]:
        """A batch of deliveries due now and not leased; on PostgreSQL, ones no other worker
        has locked (FOR UPDATE SKIP LOCKED), so replicas never claim the same delivery."""
        d, m = _DELIVERIES, _MESSAGES
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
        return due.with_for_update(of=d, skip_locked=True) if self._postgres else due

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
        if item.message is None:
            return _Outcome(item, "failed", "undecryptable", attempted=False)
        if not self._may_start(lease_until):
            return _Outcome(item, None, None, attempted=False)
        await self._limiter.acquire()  # evenly spaced here ...
        await self._slots.take()  # ... and within the limit of all replicas together
        if not self._may_start(lease_until):
            return _Outcome(item, None, None, attempted=False)
        outcome = await self._transport.send(item.reference, item.message)
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
        async with unit_of_work(self._sessions) as session:
            mine = await self._still_held(session, token, outcomes)
            await _finish(session, [o for o in mine if o.status is not None], now)
            await _retry(
                session, [o for o in mine if o.status is None and o.retry_in is not None], now
            )
            released = [o.item.delivery_id for o in mine if o.status is None and o.retry_in is None]
            if released:
                d = _DELIVERIES
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
            _tally(result, o)

    async def _still_held(
        self, session: AsyncSession, token: str, outcomes: list[_Outcome]
    ) -> list[_Outcome]:
        """The outcomes whose rows this worker still holds (locked on PostgreSQL)."""
        d = _DELIVERIES
        ids = [o.item.delivery_id for o in outcomes]
        held_query = select(d.c.id).where(d.c.id.in_(ids), d.c.claim_token == token)
        if self._postgres:
            held_query = held_query.with_for_update()
        held = {int(i) for (i,) in await session.execute(held_query)}
        if len(held) < len(ids):
            log.warning("outbox.lease_lost", extra={"count": len(ids) - len(held)})
        return [o for o in outcomes if o.item.delivery_id in held]


async def _finish(session: AsyncSession, finished: list[_Outcome], now: datetime) -> None:
    """Write final statuses, one UPDATE per (status, reason, attempted)."""
    d = _DELIVERIES
    groups: dict[tuple[str, str | None, bool], list[int]] = {}
    for o in finished:
        if o.status is not None:
            groups.setdefault((o.status, o.reason, o.attempted), []).append(o.item.delivery_id)
    for (status, reason, attempted), ids in groups.items():
        await session.execute(
            update(d)
            .where(d.c.id.in_(ids))
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


async def _retry(session: AsyncSession, retries: list[_Outcome], now: datetime) -> None:
    """Release deliveries to be tried again, each at its own time."""
    if not retries:
        return
    d = _DELIVERIES
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


def _tally(result: WorkResult, o: _Outcome) -> None:
    """Count one written outcome, and log the ones an operator should see."""
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
            extra={"kind": o.item.kind, "reason": o.reason, "delay_s": round(o.retry_in, 2)},
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


def _claimed_rows(ids: list[int]) -> Select[Any]:
    """What sending a claimed delivery needs: its message and the person's reference."""
    d, m, r = _DELIVERIES, _MESSAGES, _REFERENCES
    return (
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
        .select_from(d.join(m, m.c.id == d.c.message_id).join(r, r.c.id == d.c.reference_id))
        .where(d.c.id.in_(ids))
        .order_by(d.c.id)
    )
