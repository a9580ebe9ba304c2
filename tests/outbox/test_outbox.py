"""The outbox over real HTTP: enqueue, claim, send through the adapter to the stand-in
connector, retries, gone recipients, crashes and two workers, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from botbuilder.schema import Activity
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.app import RUNTIME_KEY, create_app
from bot.channel.teams import reference_of
from bot.channel.transport import ConnectorTransport
from bot.channel.wire import from_wire
from bot.core.logs import configure_logging
from bot.core.people import PersonKey
from bot.db import references as repo_references
from bot.db.engine import create_sessionmaker
from bot.db.models import utcnow
from bot.db.session import unit_of_work
from bot.features import FEATURES
from bot.outbox.limits import RateLimiter, SendSlots
from bot.outbox.models import OutboxDelivery, OutboxMessage
from bot.outbox.queue import Outbox, OutboxError, payload_context, queued_card, queued_text
from bot.outbox.repo import delivery_counts
from bot.outbox.worker import OutboxWorker, SendOutcome, WorkerPolicy
from bot.privacy.core import build_privacy
from bot.privacy.crypto import Sealed
from bot.privacy.retention import purge, retention_rules
from bot.privacy.subject_access import erase_person, export_person
from tests.cards import visible_text
from tests.cli_runner import run_cli
from tests.connector import StandInConnector
from tests.harness import dev_settings
from tests.privacy.test_privacy_cli import env_for
from tests.teams import TeamsUser

SECRET_TEXT = "Bulletin text that must never reach a log line"
FAST = WorkerPolicy(
    rate_per_second=50.0,
    concurrency=8,
    batch_size=50,
    lease_seconds=60.0,
    max_attempts=4,
    backoff_seconds=0.05,
    backoff_max_seconds=0.2,
    poll_seconds=0.05,
    send_timeout_seconds=5.0,
)


def message(text: str = "Hello from the EDI team") -> dict[str, Any]:
    return queued_text(text)


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)


@pytest.fixture
def outbox() -> Outbox:
    return Outbox(build_privacy(dev_settings()).cipher)


async def staff(
    sessions: async_sessionmaker[AsyncSession], connector: StandInConnector, count: int
) -> list[TeamsUser]:
    """`count` people who installed the bot: their references stored as a turn stores them."""
    people = [TeamsUser(name=f"Person {n}") for n in range(count)]
    async with unit_of_work(sessions) as session:
        for user in people:
            activity = from_wire(Activity, user.installed(connector.url))
            activity.conversation.tenant_id = user.tenant_id
            await repo_references.upsert_reference(
                session,
                person=PersonKey(user.tenant_id, user.aad_object_id),
                conversation_id=user.conversation_id,
                service_url=connector.url,
                reference=reference_of(activity),
            )
    return people


def key(user: TeamsUser) -> PersonKey:
    return PersonKey(user.tenant_id, user.aad_object_id)


async def enqueue(
    sessions: async_sessionmaker[AsyncSession],
    outbox: Outbox,
    people: list[TeamsUser],
    queued: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Any:
    async with unit_of_work(sessions) as session:
        return await outbox.enqueue(
            session,
            kind=kwargs.pop("kind", "test.notice"),
            recipients=[key(p) for p in people],
            message=queued or message(),
            **kwargs,
        )


_opened: list[ConnectorTransport] = []


@pytest.fixture(autouse=True)
async def _close_transports() -> Any:
    yield
    while _opened:
        await _opened.pop().close()


def new_transport() -> ConnectorTransport:
    """A connector transport closed after the test."""
    opened = ConnectorTransport(dev_settings(outbox_send_timeout_seconds=FAST.send_timeout_seconds))
    _opened.append(opened)
    return opened


def worker(
    outbox: Outbox,
    sessions: async_sessionmaker[AsyncSession],
    policy: WorkerPolicy = FAST,
    *,
    transport: Any = None,
    clock: Any = None,
) -> OutboxWorker:
    extra = {"clock": clock} if clock is not None else {}
    return OutboxWorker(outbox, sessions, transport or new_transport(), policy, **extra)


async def settle(work: OutboxWorker, sessions: async_sessionmaker[AsyncSession]) -> None:
    """Run the worker until no delivery is queued (retries wait for their time)."""
    for _ in range(400):
        await work.drain()
        async with sessions() as session:
            if (await delivery_counts(session)).queued == 0:
                return
        await asyncio.sleep(0.02)
    raise AssertionError("deliveries still queued")


async def deliveries(sessions: async_sessionmaker[AsyncSession]) -> list[OutboxDelivery]:
    async with sessions() as session:
        return list(
            (await session.execute(select(OutboxDelivery).order_by(OutboxDelivery.id))).scalars()
        )


def received_per_conversation(connector: StandInConnector) -> dict[str, int]:
    counts: dict[str, int] = {}
    for call in connector.received:
        counts[call.conversation_id] = counts.get(call.conversation_id, 0) + 1
    return counts


# ---- enqueue -----------------------------------------------------------------------------


async def test_enqueue_counts_reachable_people_and_seals_the_payload(
    sessions: async_sessionmaker[AsyncSession], connector: StandInConnector, outbox: Outbox
) -> None:
    people = await staff(sessions, connector, 3)
    async with unit_of_work(sessions) as session:
        await repo_references.mark_gone(session, person=key(people[2]))
    never_installed = TeamsUser()
    result = await enqueue(
        sessions, outbox, [*people, never_installed, people[0]], message(SECRET_TEXT)
    )
    assert (result.queued, result.unreachable) == (2, 2)
    async with sessions() as session:
        stored = (await session.execute(select(OutboxMessage))).scalar_one()
    assert SECRET_TEXT not in stored.payload
    opened = outbox.cipher.open(
        Sealed(stored.key_id, stored.payload), context=payload_context(stored.id)
    )
    assert json.loads(opened)["text"] == SECRET_TEXT
    assert [d.status for d in await deliveries(sessions)] == ["queued", "queued"]


async def test_the_same_dedupe_key_enqueues_once(
    sessions: async_sessionmaker[AsyncSession], connector: StandInConnector, outbox: Outbox
) -> None:
    people = await staff(sessions, connector, 2)
    first = await enqueue(sessions, outbox, people, dedupe_key="bulletin:2026-11")
    again = await enqueue(sessions, outbox, [*people, TeamsUser()], dedupe_key="bulletin:2026-11")
    assert again == first
    assert len(await deliveries(sessions)) == 2
    await settle(worker(outbox, sessions), sessions)
    assert received_per_conversation(connector) == {p.conversation_id: 1 for p in people}


async def test_enqueue_refuses_what_teams_would_refuse(
    sessions: async_sessionmaker[AsyncSession], outbox: Outbox
) -> None:
    async with sessions() as session:
        with pytest.raises(OutboxError, match="one card"):
            await outbox.enqueue(session, kind="x", recipients=[], message={"type": "message"})
        with pytest.raises(OutboxError, match="one card"):
            await outbox.enqueue(
                session, kind="x", recipients=[], message={"card": {}, "text": "both"}
            )
        with pytest.raises(OutboxError, match="bytes"):
            await outbox.enqueue(session, kind="x", recipients=[], message=message("x" * 110_000))
        with pytest.raises(OutboxError, match="timezone"):
            await outbox.enqueue(
                session,
                kind="x",
                recipients=[],
                message=message(),
                not_before=datetime(2026, 12, 1),
            )


# ---- delivery ----------------------------------------------------------------------------


async def test_a_message_queued_as_a_whole_activity_before_the_change_is_still_sent(
    sessions: async_sessionmaker[AsyncSession], connector: StandInConnector, outbox: Outbox
) -> None:
    # Until December 2026 the outbox stored the wire-format activity itself; a row queued
    # then and not yet sent when the new code starts must still go out, unchanged.
    people = await staff(sessions, connector, 2)
    enqueued = await enqueue(sessions, outbox, people, message("placeholder"))
    card = {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [{"type": "TextBlock", "text": "Queued by the old code"}],
    }
    legacy = {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
        ],
    }
    sealed = outbox.cipher.seal(json.dumps(legacy), context=payload_context(enqueued.message_id))
    async with unit_of_work(sessions) as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == enqueued.message_id)
            .values(payload=sealed.token, key_id=sealed.key_id)
        )
    await settle(worker(outbox, sessions), sessions)
    for user in people:
        [reply] = connector.replies(user.conversation_id)
        assert visible_text(reply) == "Queued by the old code"


async def test_each_person_receives_the_message_in_their_personal_chat(
    sessions: async_sessionmaker[AsyncSession], connector: StandInConnector, outbox: Outbox
) -> None:
    people = await staff(sessions, connector, 5)
    card = {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [{"type": "TextBlock", "text": "November bulletin"}],
    }
    await enqueue(sessions, outbox, people, queued_card(card, summary="EDI bulletin"))
    await settle(worker(outbox, sessions), sessions)
    for user in people:
        [reply] = connector.replies(user.conversation_id)
        assert visible_text(reply) == "November bulletin"
        assert reply["recipient"]["id"] == user.user_id  # from the stored reference
        assert reply["conversation"]["id"] == user.conversation_id
        assert "replyToId" not in reply  # a new message, not a reply
        assert reply["summary"] == "EDI bulletin"
    for call in connector.received:
        assert call.path == f"/v3/conversations/{call.conversation_id}/activities"
    stored = await deliveries(sessions)
    assert {d.status for d in stored} == {"sent"}
    assert all(d.sent_at is not None and d.claim_token is None for d in stored)


async def test_nothing_is_sent_before_not_before(
    sessions: async_sessionmaker[AsyncSession], connector: StandInConnector, outbox: Outbox
) -> None:
    people = await staff(sessions, connector, 2)
    later = datetime.now(UTC) + timedelta(hours=1)
    await enqueue(sessions, outbox, people, not_before=later)
    assert (await worker(outbox, sessions).drain()).claimed == 0
    assert connector.received == []
    shifted = worker(outbox, sessions, clock=lambda: later + timedelta(seconds=1))
    assert (await shifted.drain()).sent == 2


async def test_a_sent_hook_runs_once_per_delivery(
    sessions: async_sessionmaker[AsyncSession], connector: StandInConnector, outbox: Outbox
) -> None:
    people = await staff(sessions, connector, 3)
    seen: list[tuple[str | None, PersonKey]] = []

    async def hook(session: AsyncSession, subject: str | None, person: PersonKey) -> None:
        seen.append((subject, person))

    outbox.on_sent("bulletin", hook)
    await enqueue(sessions, outbox, people, kind="bulletin", subject="2026-11")
    await enqueue(sessions, outbox, people, kind="other")
    await settle(worker(outbox, sessions), sessions)
    assert sorted(seen, key=str) == sorted([("2026-11", key(p)) for p in people], key=str)


# ---- failures ----------------------------------------------------------------------------


async def test_429_waits_for_retry_after_then_delivers(
    sessions: async_sessionmaker[AsyncSession], connector: StandInConnector, outbox: Outbox
) -> None:
    [user] = await staff(sessions, connector, 1)
    connector.fail_conversation(user.conversation_id, 429, headers={"Retry-After": "1"})
    await enqueue(sessions, outbox, [user])
    await settle(worker(outbox, sessions), sessions)
    [refused] = connector.refused
    [delivered] = connector.received
    assert refused.status == 429
    assert delivered.at - refused.at >= 1.0
    [row] = await deliveries(sessions)
    assert (row.status, row.attempts) == ("sent", 2)


async def test_5xx_backs_off_exponentially_then_delivers(
    sessions: async_sessionmaker[AsyncSession], connector: StandInConnector, outbox: Outbox
) -> None:
    [user] = await staff(sessions, connector, 1)
    connector.fail_conversation(user.conversation_id, 503)
    connector.fail_conversation(user.conversation_id, 502)
    connector.fail_conversation(user.conversation_id, 412)
    await enqueue(sessions, outbox, [user])
    await settle(worker(outbox, sessions), sessions)
    assert [r.status for r in connector.refused] == [503, 502, 412]
    assert len(connector.received) == 1
    times = [r.at for r in connector.refused] + [connector.received[0].at]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    # Attempt n waits at least half of backoff * 2^(n-1): 0.025, 0.05, 0.1 seconds.
    assert gaps[0] >= 0.025 and gaps[1] >= 0.05 and gaps[2] >= 0.1
    [row] = await deliveries(sessions)
    assert (row.status, row.attempts, row.last_error) == ("sent", 4, None)


async def test_a_final_failure_stays_visible_with_its_reason_class(
    sessions: async_sessionmaker[AsyncSession], connector: StandInConnector, outbox: Outbox
) -> None:
    failing, fine, refused = await staff(sessions, connector, 3)
    connector.fail_conversation(failing.conversation_id, 503, times=10)
    connector.fail_conversation(refused.conversation_id, 400)
    await enqueue(sessions, outbox, [failing, fine, refused])
    await settle(worker(outbox, sessions), sessions)
    async with sessions() as session:
        counts = await delivery_counts(session)
    assert (counts.sent, counts.failed, counts.queued) == (1, 2, 0)
    assert counts.failures == {"http_503": 1, "http_400": 1}
    assert len([r for r in connector.refused if failing.conversation_id in r.path]) == 4
    by_status = {d.status: d for d in await deliveries(sessions) if d.status == "failed"}
    assert by_status["failed"].claim_token is None


async def test_403_and_404_mark_the_person_gone_without_retrying(
    sessions: async_sessionmaker[AsyncSession], connector: StandInConnector, outbox: Outbox
) -> None:
    blocked, uninstalled, present = await staff(sessions, connector, 3)
    connector.fail_conversation(blocked.conversation_id, 403)
    connector.fail_conversation(uninstalled.conversation_id, 404)
    await enqueue(sessions, outbox, [blocked, uninstalled, present])
    await settle(worker(outbox, sessions), sessions)
    assert len(connector.refused) == 2  # each tried once, never again
    async with sessions() as session:
        for user, status in ((blocked, "gone"), (uninstalled, "gone"), (present, "active")):
            stored = await repo_references.get_reference(session, person=key(user))
            assert stored is not None and stored.status == status
        counts = await delivery_counts(session)
    assert (counts.gone, counts.sent) == (2, 1)
    # Nobody gone is queued again by a later message.
    later = await enqueue(sessions, outbox, [blocked, uninstalled, present])
    assert (later.queued, later.unreachable) == (1, 2)


async def test_someone_who_uninstalls_after_enqueue_is_not_sent_to(
    sessions: async_sessionmaker[AsyncSession], connector: StandInConnector, outbox: Outbox
) -> None:
    leaver, stayer = await staff(sessions, connector, 2)
    await enqueue(sessions, outbox, [leaver, stayer])
    async with unit_of_work(sessions) as session:
        await repo_references.mark_gone(session, person=key(leaver))
    await settle(worker(outbox, sessions), sessions)
    assert received_per_conversation(connector) == {stayer.conversation_id: 1}


async def test_an_unreachable_connector_is_retried_then_fails_as_connection(
    sessions: async_sessionmaker[AsyncSession], outbox: Outbox
) -> None:
    stand_in = await StandInConnector().start()
    people = await staff(sessions, stand_in, 1)
    await stand_in.stop()  # the port now refuses connections
    await enqueue(sessions, outbox, people)
    await settle(worker(outbox, sessions), sessions)
    [row] = await deliveries(sessions)
    assert (row.status, row.attempts, row.last_error) == ("failed", 4, "connection")


async def test_logs_carry_neither_message_text_nor_recipient_ids(
    sessions: async_sessionmaker[AsyncSession], connector: StandInConnector, outbox: Outbox
) -> None:
    stream = io.StringIO()
    configure_logging("DEBUG", "text", stream=stream)
    try:
        people = await staff(sessions, connector, 3)
        connector.fail_conversation(people[0].conversation_id, 503, times=10)
        connector.fail_conversation(people[1].conversation_id, 404)
        await enqueue(sessions, outbox, people, message(SECRET_TEXT))
        await settle(worker(outbox, sessions), sessions)
    finally:
        configure_logging("WARNING")
        logging.getLogger().handlers.clear()
    logged = stream.getvalue()
    assert "outbox.retry" in logged and "outbox.failed" in logged
    for secret in [SECRET_TEXT, "SECRET-BODY-TEXT"] + [
        value for p in people for value in (p.aad_object_id, p.conversation_id, p.user_id)
    ]:
        assert secret not in logged


# ---- crashes and concurrency -------------------------------------------------------------


class Crashing:
    """A transport that, after `after` real sends, never returns (the process has died)."""

    def __init__(self, inner: ConnectorTransport, after: int, *, post_first: bool) -> None:
        self.inner = inner
        self.after = after
        self.post_first = post_first  # die after the POST reached the connector, or before
        self.calls = 0
        self.dead = asyncio.Event()

    async def send(self, reference: dict[str, Any], message: dict[str, Any]) -> SendOutcome:
        self.calls += 1
        if self.calls > self.after:
            if self.post_first:
                await self.inner.send(reference, message)
            self.dead.set()
            await asyncio.Event().wait()
        return await self.inner.send(reference, message)

    async def close(self) -> None:
        await self.inner.close()


async def crash_mid_batch(
    sessions: async_sessionmaker[AsyncSession], outbox: Outbox, *, after: int, post_first: bool
) -> None:
    one_at_a_time = WorkerPolicy(**{**vars(FAST), "concurrency": 1})
    transport = Crashing(new_transport(), after, post_first=post_first)
    doomed = worker(outbox, sessions, one_at_a_time, transport=transport)
    task = asyncio.create_task(doomed.run_once())
    await transport.dead.wait()
    task.cancel()  # killed mid-batch: no clean-up runs
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_crash_after_claiming_resumes_when_the_lease_expires_with_nobody_twice(
    sessions: async_sessionmaker[AsyncSession], connector: StandInConnector, outbox: Outbox
) -> None:
    people = await staff(sessions, connector, 10)
    await enqueue(sessions, outbox, people)
    await crash_mid_batch(sessions, outbox, after=4, post_first=False)
    assert len(connector.received) == 4
    # The dead worker's claim still holds: a second worker takes nothing yet.
    assert (await worker(outbox, sessions).drain()).claimed == 0
    after_lease = worker(outbox, sessions, clock=lambda: datetime.now(UTC) + timedelta(minutes=2))
    assert (await after_lease.drain()).sent == 6
    assert received_per_conversation(connector) == {p.conversation_id: 1 for p in people}
    assert {d.status for d in await deliveries(sessions)} == {"sent"}


async def test_a_crash_between_post_and_mark_sends_that_one_again_and_misses_nobody(
    sessions: async_sessionmaker[AsyncSession], connector: StandInConnector, outbox: Outbox
) -> None:
    """The documented at-least-once edge: accepted by Teams, not yet marked, then a crash."""
    people = await staff(sessions, connector, 6)
    await enqueue(sessions, outbox, people)
    await crash_mid_batch(sessions, outbox, after=2, post_first=True)
    after_lease = worker(outbox, sessions, clock=lambda: datetime.now(UTC) + timedelta(minutes=2))
    await after_lease.drain()
    counts = received_per_conversation(connector)
    assert set(counts) == {p.conversation_id for p in people}
    assert sorted(counts.values()) == [1, 1, 1, 1, 1, 2]
    assert counts[people[2].conversation_id] == 2


async def test_two_workers_at_once_send_each_message_once(
    sessions: async_sessionmaker[AsyncSession], connector: StandInConnector, outbox: Outbox
) -> None:
    people = await staff(sessions, connector, 60)
    await enqueue(sessions, outbox, people[:30])
    await enqueue(sessions, outbox, people[10:])
    small_batches = WorkerPolicy(**{**vars(FAST), "batch_size": 7})
    first, second = worker(outbox, sessions, small_batches), worker(outbox, sessions, small_batches)
    a, b = await asyncio.gather(first.drain(), second.drain())
    assert a.sent + b.sent == 80
    assert a.claimed > 0 and b.claimed > 0
    counts = received_per_conversation(connector)
    expected = {p.conversation_id: (2 if 10 <= n < 30 else 1) for n, p in enumerate(people)}
    assert counts == expected


async def test_concurrent_claims_take_disjoint_rows(
    sessions: async_sessionmaker[AsyncSession], connector: StandInConnector, outbox: Outbox
) -> None:
    people = await staff(sessions, connector, 20)
    await enqueue(sessions, outbox, people)
    half = WorkerPolicy(**{**vars(FAST), "batch_size": 10})
    first, second = worker(outbox, sessions, half), worker(outbox, sessions, half)
    (a, _), (b, _) = await asyncio.gather(first.claim("a" * 32), second.claim("b" * 32))
    ids_a, ids_b = {c.delivery_id for c in a}, {c.delivery_id for c in b}
    assert len(ids_a) == len(ids_b) == 10
    assert not ids_a & ids_b
    stored = await deliveries(sessions)
    assert {d.id for d in stored if d.claim_token == "a" * 32} == ids_a
    assert {d.id for d in stored if d.claim_token == "b" * 32} == ids_b


# ---- rate limit --------------------------------------------------------------------------


async def test_the_rate_limit_holds_over_http(
    sessions: async_sessionmaker[AsyncSession], connector: StandInConnector, outbox: Outbox
) -> None:
    people = await staff(sessions, connector, 45)
    await enqueue(sessions, outbox, people)
    limited = WorkerPolicy(**{**vars(FAST), "rate_per_second": 20.0, "concurrency": 10})
    await settle(worker(outbox, sessions, limited), sessions)
    times = sorted(call.at for call in connector.received)
    assert len(times) == 45
    # In any one-second window, at most 20 requests, plus one send slot's worth (2) across
    # the window's edge, plus 1 for arrival jitter on a busy machine.
    for i, start in enumerate(times):
        in_window = sum(1 for t in times[i:] if t < start + 1.0)
        assert in_window <= 23


async def test_two_workers_together_keep_to_one_rate_limit_over_http(
    sessions: async_sessionmaker[AsyncSession], connector: StandInConnector, outbox: Outbox
) -> None:
    people = await staff(sessions, connector, 60)
    await enqueue(sessions, outbox, people)
    limited = WorkerPolicy(**{**vars(FAST), "rate_per_second": 20.0, "batch_size": 10})
    first, second = worker(outbox, sessions, limited), worker(outbox, sessions, limited)
    await asyncio.gather(settle(first, sessions), settle(second, sessions))
    times = sorted(call.at for call in connector.received)
    assert len(times) == 60
    # Two replicas, one budget: at most 20 a second between them, plus one slot's worth (2)
    # across each edge of a window (sends started in one slot may arrive late, on a busy
    # machine), plus 1 for jitter. Unshared, each worker alone would send 20: 40 together.
    for i, start in enumerate(times):
        in_window = sum(1 for t in times[i:] if t < start + 1.0)
        assert in_window <= 25


async def test_send_slots_go_to_one_worker_each_and_a_retry_after_stops_every_worker(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    now = [1_000.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    def slots() -> SendSlots:
        return SendSlots(sessions, 30.0, wall=lambda: now[0], sleep=sleep)

    first, second = slots(), slots()
    assert first.slot_seconds == pytest.approx(0.1)  # 3 sends per tenth of a second
    for _ in range(3):
        await first.take()
    assert now[0] == 1_000.0
    await first.settle()  # the end of its pass: the next slot, claimed ahead, is given back
    await second.take()  # this slot was the first worker's: the second waits for the next
    assert now[0] == pytest.approx(1_000.1, abs=0.001)
    await second.settle()
    await first.take()  # ... and now the first one waits in turn
    assert now[0] == pytest.approx(1_000.2, abs=0.001)
    await first.settle()
    await second.block(2.0)  # a 429 with Retry-After: 2, seen by the second worker
    for _ in range(2):  # what is left of the slot the first worker is in may go ...
        await first.take()
    assert now[0] == pytest.approx(1_000.2, abs=0.001)
    await first.take()  # ... but nothing more until the Retry-After has passed
    assert now[0] == pytest.approx(1_002.3, abs=0.001)


async def test_the_rate_limiter_spaces_pauses_and_never_bursts_after_a_stall() -> None:
    now = [100.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(round(seconds, 6))
        now[0] += seconds

    limiter = RateLimiter(4.0, clock=lambda: now[0], sleep=sleep)
    started = []
    for _ in range(3):
        await limiter.acquire()
        started.append(now[0])
    assert started == [100.0, 100.25, 100.5]
    limiter.pause(2.0)
    await limiter.acquire()
    assert now[0] == 102.5
    # A stall (the clock jumps) does not let the next sends out together.
    now[0] += 10.0
    starts = []
    for _ in range(6):
        await limiter.acquire()
        starts.append(round(now[0], 6))
    assert starts == [112.5, 112.75, 113.0, 113.25, 113.5, 113.75]


# ---- the service and the command line ----------------------------------------------------


async def test_the_service_runs_a_worker_that_delivers_what_a_feature_enqueues(
    engine: AsyncEngine, database_url: str, connector: StandInConnector
) -> None:
    settings = dev_settings(database_url=database_url, outbox_poll_seconds=0.05)
    runner = web.AppRunner(create_app(settings, engine=engine), access_log=None)
    await runner.setup()
    try:
        runtime = runner.app[RUNTIME_KEY]
        [user] = await staff(runtime.sessions, connector, 1)
        await enqueue(runtime.sessions, runtime.outbox, [user], message("Reminder"))
        [reply] = await connector.wait_for(user.conversation_id, 1)
        assert reply["text"] == "Reminder"
    finally:
        await runner.cleanup()


async def test_outbox_commands_show_send_and_requeue(
    sessions: async_sessionmaker[AsyncSession],
    connector: StandInConnector,
    outbox: Outbox,
    database_url: str,
) -> None:
    people = await staff(sessions, connector, 3)
    connector.fail_conversation(people[0].conversation_id, 400)
    await enqueue(sessions, outbox, [*people, TeamsUser()], kind="bulletin")
    env = env_for(database_url)
    code, out, _ = await run_cli("outbox", "status", env=env)
    lines = out.splitlines()
    assert (code, lines[0]) == (
        0,
        "bulletin: 1 message(s); queued 3, sent 0, failed 0, gone 0, unreachable 1",
    )
    assert lines[1].startswith("  oldest message with deliveries still queued: ")
    code, out, err = await run_cli("outbox", "work", "--once", env=env)
    assert (code, out) == (0, "sent 2, retrying later 0, failed 1, gone 0\n")
    assert "outbox.failed kind=bulletin reason=http_400" in err
    code, out, _ = await run_cli("outbox", "status", env=env)
    assert (code, out) == (
        1,
        "bulletin: 1 message(s); queued 0, sent 2, failed 1, gone 0, unreachable 1 "
        "(failures: http_400 1)\n"
        "1 deliveries failed: `edi-bot outbox retry` queues them again\n",
    )
    assert (await run_cli("outbox", "retry", env=env))[:2] == (
        0,
        "1 failed deliveries queued again\n",
    )
    assert (await run_cli("outbox", "work", "--once", env=env))[1] == (
        "sent 1, retrying later 0, failed 0, gone 0\n"
    )
    assert received_per_conversation(connector) == {p.conversation_id: 1 for p in people}


# ---- a person's data ---------------------------------------------------------------------


async def test_export_lists_and_erase_removes_a_persons_deliveries(
    sessions: async_sessionmaker[AsyncSession], connector: StandInConnector, outbox: Outbox
) -> None:
    privacy = build_privacy(dev_settings())
    subject, other = await staff(sessions, connector, 2)
    await enqueue(sessions, outbox, [subject, other], kind="bulletin", subject="2026-11")
    await settle(worker(outbox, sessions), sessions)
    async with unit_of_work(sessions) as session:
        found = await export_person(
            session,
            privacy,
            FEATURES,
            tenant_id=subject.tenant_id,
            aad_object_id=subject.aad_object_id,
        )
        [delivered] = found["proactive_messages"]
        assert (delivered["kind"], delivered["about"], delivered["status"]) == (
            "bulletin",
            "2026-11",
            "sent",
        )
        counts, _ = await erase_person(
            session,
            privacy,
            FEATURES,
            tenant_id=subject.tenant_id,
            aad_object_id=subject.aad_object_id,
        )
    assert counts["proactive_messages"] == 1
    assert len(await deliveries(sessions)) == 1  # the other person's


async def test_retention_deletes_finished_messages_only(
    sessions: async_sessionmaker[AsyncSession], connector: StandInConnector, outbox: Outbox
) -> None:
    people = await staff(sessions, connector, 2)
    await enqueue(sessions, outbox, people[:1])
    await settle(worker(outbox, sessions), sessions)
    await enqueue(sessions, outbox, people[1:], not_before=datetime.now(UTC) + timedelta(days=1))
    settings = dev_settings(retention_outbox_days=30)
    privacy = build_privacy(settings)
    rules = retention_rules(settings, privacy.audit, FEATURES)
    counts = await purge(sessions, rules, privacy.audit, now=utcnow() + timedelta(days=31))
    assert counts["outbox"] == 1
    [left] = await deliveries(sessions)
    assert left.status == "queued"
