"""The outbox's rate limit shared by replicas: one message to N people through one and then
two workers, against a stand-in connector that enforces a limit with 429 + Retry-After.

Run: `python -m bench.outbox_shared_limit [--recipients 3000] [--limit 200] [--database URL]`
(default: a temporary SQLite file). Four runs in one go, so they compare like with like:

* the baseline: one worker, limited in its own process only (as before the shared limit);
* one worker with the shared limit (what a slot claimed through the database costs);
* two workers with per-process limits only (what two replicas did before: over the limit);
* two workers with the shared limit (what two replicas do now).

For each: throughput against the enforced limit, the 429s, and the most requests the
connector saw in any one second.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.outbox_fanout import RATE_SHARE, LimitedConnector, _people, _settings, policy_for
from bot.channel.transport import ConnectorTransport
from bot.db import migrate
from bot.db.engine import create_engine, create_sessionmaker
from bot.db.session import unit_of_work
from bot.outbox.limits import SendSlots
from bot.outbox.queue import Outbox, queued_text
from bot.outbox.repo import delivery_counts
from bot.outbox.worker import OutboxWorker
from bot.privacy.core import build_privacy


class _Unshared(SendSlots):
    """No shared limit: every slot is this worker's (the per-process baseline)."""

    async def take(self) -> None:
        return None

    async def block(self, seconds: float) -> None:
        return None


async def _one_run(
    url: str, recipients: int, limit: int, workers: int, shared: bool, share: float
) -> str:
    engine = create_engine(url)
    await migrate.upgrade(engine)
    sessions = create_sessionmaker(engine)
    settings = _settings(url)
    connector = LimitedConnector(limit)
    await connector.start()
    outbox = Outbox(build_privacy(settings).cipher)
    people = await _people(sessions, connector.url, recipients)
    async with unit_of_work(sessions) as session:
        await outbox.enqueue(session, kind="bench", recipients=people, message=queued_text("B"))
    policy = policy_for(limit, share)
    senders = [
        OutboxWorker(
            outbox,
            sessions,
            ConnectorTransport(settings),
            policy,
            slots=None if shared else _Unshared(sessions, policy.rate_per_second),
        )
        for _ in range(workers)
    ]

    async def send(worker: OutboxWorker) -> None:
        while True:
            await worker.drain()
            async with sessions() as session:
                if (await delivery_counts(session)).queued == 0:
                    return
            await asyncio.sleep(policy.poll_seconds)

    await asyncio.gather(*(send(w) for w in senders))
    for worker in senders:
        await worker.stop()
    times = [at for at, _ in connector.accepted]
    span = times[-1] - times[0]
    busiest = max(sum(1 for t in times[i:] if t < start + 1.0) for i, start in enumerate(times))
    await connector.stop()
    await engine.dispose()
    throughput = len(times) / span
    kind = "shared" if shared else "per-process"
    label = f"{workers} worker{'s' if workers > 1 else ''}, {kind} limit"
    return (
        f"{label:<34} {throughput:7.1f}/s ({100 * throughput / limit:5.1f}% of {limit}/s)"
        f"   429s {connector.throttled:>4}   busiest second {busiest}"
    )


async def run(recipients: int, limit: int, database: str | None, share: float) -> None:
    """The four runs, each on a fresh database, and their figures."""
    print(f"{recipients:,} recipients; workers each set to {limit * share:.0f}/s")
    for workers, shared in ((1, False), (1, True), (2, False), (2, True)):
        with tempfile.TemporaryDirectory() as scratch:
            url = database or f"sqlite+aiosqlite:///{Path(scratch) / 'bench.db'}"
            if database:
                await _reset(url)
            started = time.monotonic()
            line = await _one_run(url, recipients, limit, workers, shared, share)
            print(f"{line}   ({time.monotonic() - started:.0f} s)", flush=True)


async def _reset(url: str) -> None:
    """Empty the benchmark's tables on a shared database between runs."""
    from sqlalchemy import text

    engine = create_engine(url)
    await migrate.upgrade(engine)
    async with engine.begin() as connection:
        for table in ("outbox_deliveries", "outbox_messages", "outbox_send_slots"):
            await connection.execute(text(f"DELETE FROM {table}"))
        await connection.execute(
            text("DELETE FROM conversation_references WHERE tenant_id = 'bench-tenant'")
        )
    await engine.dispose()


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--recipients", type=int, default=3_000)
    parser.add_argument("--limit", type=int, default=200, help="requests/s the connector allows")
    parser.add_argument("--database", help="SQLAlchemy URL (default: a temporary SQLite file)")
    parser.add_argument("--rate-share", type=float, default=RATE_SHARE)
    args = parser.parse_args(argv)
    asyncio.run(run(args.recipients, args.limit, args.database, args.rate_share))


if __name__ == "__main__":
    main()
