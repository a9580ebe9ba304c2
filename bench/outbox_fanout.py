"""Fan-out through the outbox: one message to N people, against a stand-in connector that
enforces a rate limit with 429 + Retry-After; the sender is killed mid-run and restarted.

Run: `python -m bench.outbox_fanout [--recipients 10000] [--limit 200] [--database URL]`
(`EDI_BENCH_POSTGRES_URL` or `--database postgresql+asyncpg://...` for PostgreSQL; the
default is a temporary SQLite file). Prints throughput against the enforced limit, how many
were missed and how many received it twice, and the 429s seen.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import signal
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from aiohttp import web
from pydantic import SecretStr
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channel.transport import ConnectorTransport
from bot.config import Settings
from bot.core.people import PersonKey
from bot.db import migrate
from bot.db.engine import create_engine, create_sessionmaker
from bot.db.models import ConversationReferenceRecord, utcnow
from bot.db.session import unit_of_work
from bot.outbox.queue import Outbox, queued_text
from bot.outbox.repo import delivery_counts
from bot.outbox.worker import OutboxWorker, WorkerPolicy
from bot.privacy.core import build_privacy

TENANT = "bench-tenant"
RATE_SHARE = 0.98  # the senders' rate as a share of the enforced limit (--rate-share)


class LimitedConnector:
    """Accepts at most `limit` activities in any one-second window; beyond that, 429."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.accepted: list[tuple[float, str]] = []
        self.throttled = 0
        self._window: deque[float] = deque()
        self._runner: web.AppRunner | None = None
        self._target = 0
        self._reached = asyncio.Event()
        self.url = ""

    async def wait_until(self, count: int) -> None:
        """Return once `count` activities have been accepted."""
        self._target = count
        if len(self.accepted) >= count:
            return
        self._reached.clear()
        await self._reached.wait()

    async def start(self) -> None:
        """Listen on a free loopback port."""
        app = web.Application()
        app.router.add_post("/v3/conversations/{cid}/activities", self._post)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}/"

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()

    async def _post(self, request: web.Request) -> web.Response:
        await request.read()
        now = time.monotonic()
        while self._window and now - self._window[0] >= 1.0:
            self._window.popleft()
        if len(self._window) >= self.limit:
            self.throttled += 1
            return web.json_response(
                {"error": "throttled"}, status=429, headers={"Retry-After": "1"}
            )
        self._window.append(now)
        self.accepted.append((now, request.match_info["cid"]))
        if self._target and len(self.accepted) >= self._target:
            self._reached.set()
        return web.json_response({"id": "x"})


def _settings(database: str) -> Settings:
    keys = "kbench:" + base64.b64encode(bytes(range(32))).decode()
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=database,
        encryption_keys=SecretStr(keys),
        pseudonym_key=SecretStr(base64.b64encode(bytes(range(32, 64))).decode()),
    )


async def _people(
    sessions: async_sessionmaker[AsyncSession], url: str, count: int
) -> list[PersonKey]:
    now = utcnow()
    rows = []
    for n in range(count):
        conversation = f"a:bench{n}"
        reference = {
            "bot": {"id": "28:bench", "name": "EDI bot"},
            "channelId": "msteams",
            "conversation": {
                "conversationType": "personal",
                "id": conversation,
                "tenantID": TENANT,
            },
            "serviceUrl": url,
            "user": {"id": f"29:{n}", "aadObjectId": f"aad-{n}"},
        }
        rows.append(
            {
                "tenant_id": TENANT,
                "aad_object_id": f"aad-{n}",
                "conversation_id": conversation,
                "service_url": url,
                "reference": json.dumps(reference),
                "status": "active",
                "created_at": now,
                "updated_at": now,
            }
        )
    async with unit_of_work(sessions) as session:
        for start in range(0, len(rows), 1000):
            await session.execute(insert(ConversationReferenceRecord), rows[start : start + 1000])
    return [PersonKey(TENANT, f"aad-{n}") for n in range(count)]


async def run(
    recipients: int, limit: int, database: str | None, kill_at: float, share: float
) -> None:
    """Enqueue, send, kill, restart, and print the figures."""
    scratch = tempfile.TemporaryDirectory()
    url = (
        database
        or os.environ.get("EDI_BENCH_POSTGRES_URL")
        or (f"sqlite+aiosqlite:///{Path(scratch.name) / 'bench.db'}")
    )
    settings = _settings(url)
    engine = create_engine(url)
    await migrate.upgrade(engine)
    sessions = create_sessionmaker(engine)
    connector = LimitedConnector(limit)
    await connector.start()
    outbox = Outbox(build_privacy(settings).cipher)
    people = await _people(sessions, connector.url, recipients)
    started = time.monotonic()
    async with unit_of_work(sessions) as session:
        await outbox.enqueue(
            session, kind="bench", recipients=people, message=queued_text("Bench bulletin")
        )
    took = time.monotonic() - started
    print(f"backend {engine.dialect.name}; enqueued {recipients:,} in {took:.2f} s")
    policy = policy_for(limit, share)

    # The first sender is its own process, killed with SIGKILL: no clean-up of any kind.
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.outbox_fanout",
        "--worker",
        "--limit",
        str(limit),
        "--rate-share",
        str(share),
        env={**os.environ, "EDI_BENCH_DATABASE": url},
    )
    await connector.wait_until(int(recipients * kill_at))
    child.send_signal(signal.SIGKILL)
    await child.wait()
    sent_before = len(connector.accepted)
    # Sending time only: from each sender's first accepted request to its last.
    phase1 = connector.accepted[-1][0] - connector.accepted[0][0]
    print(f"killed (SIGKILL) the sender after {sent_before:,} accepted ({phase1:.1f} s sending)")

    # The restarted sender waits out the dead one's lease; time it only from its first send.
    second = OutboxWorker(
        outbox,
        sessions,
        ConnectorTransport(settings),
        policy,
        clock=lambda: utcnow() + timedelta(seconds=policy.lease_seconds),
    )
    while True:  # until nothing is queued: a 429 leaves a retry due a moment later
        await second.drain()
        async with sessions() as session:
            if (await delivery_counts(session)).queued == 0:
                break
        await asyncio.sleep(policy.poll_seconds)
    await second.stop()
    first_after = (
        next(at for at, _ in connector.accepted[sent_before:])
        if len(connector.accepted) > sent_before
        else time.monotonic()
    )
    phase2 = connector.accepted[-1][0] - first_after
    counts = Counter(cid for _, cid in connector.accepted)
    missed = recipients - len(counts)
    duplicates = sum(n - 1 for n in counts.values())
    delivered = len(connector.accepted)
    throughput = delivered / (phase1 + phase2)
    print(f"accepted {delivered:,}; throttled (429) {connector.throttled:,}")
    print(
        f"throughput {throughput:,.1f}/s against an enforced {limit}/s "
        f"({100 * throughput / limit:.1f}%)"
    )
    print(f"missed {missed:,}; duplicates {duplicates:,}")
    await connector.stop()
    await engine.dispose()
    scratch.cleanup()


def policy_for(limit: int, share: float = RATE_SHARE) -> WorkerPolicy:
    """The senders' policy: production's shape, at the benchmark's rate."""
    return WorkerPolicy(
        # As in production (30 against Teams' 50): a little under the enforced limit, so
        # arrival jitter at the connector does not cost a 429 and a Retry-After pause.
        rate_per_second=limit * share,
        concurrency=32,
        batch_size=500,
        lease_seconds=20.0,
        poll_seconds=0.1,
        backoff_seconds=0.5,
        send_timeout_seconds=5.0,
    )


async def work(limit: int, share: float) -> None:
    """The first sender's process: send until killed."""
    url = os.environ["EDI_BENCH_DATABASE"]
    settings = _settings(url)
    engine = create_engine(url)
    worker = OutboxWorker(
        Outbox(build_privacy(settings).cipher),
        create_sessionmaker(engine),
        ConnectorTransport(settings),
        policy_for(limit, share),
    )
    await worker.run()


def main(argv: Sequence[str] | None = None) -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--limit", type=int, default=200, help="requests/s the connector allows")
    parser.add_argument("--database", help="SQLAlchemy URL (default: a temporary SQLite file)")
    parser.add_argument("--kill-at", type=float, default=0.4, help="fraction sent before the kill")
    parser.add_argument(
        "--rate-share",
        type=float,
        default=RATE_SHARE,
        help="the senders' rate as a share of the limit; above 1 shows the 429 handling",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        asyncio.run(work(args.limit, args.rate_share))
        return
    asyncio.run(run(args.recipients, args.limit, args.database, args.kill_at, args.rate_share))


if __name__ == "__main__":
    main()
