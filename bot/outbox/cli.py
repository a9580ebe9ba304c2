"""`edi-bot outbox status|work|retry`: watch and run the proactive-message queue."""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import Callable

from bot.channel.transport import build_worker
from bot.cli.commands import OUTBOX
from bot.cli.privacy import Context, actor, run, say
from bot.config import Settings
from bot.db.session import unit_of_work
from bot.outbox.queue import Outbox
from bot.outbox.repo import DeliveryCounts, requeue_failed, status_by_kind


def describe_counts(counts: DeliveryCounts) -> str:
    """One line of delivery counts, failures by reason class."""
    line = (
        f"queued {counts.queued:,}, sent {counts.sent:,}, failed {counts.failed:,}, "
        f"gone {counts.gone:,}, unreachable {counts.unreachable:,}"
    )
    if counts.failures:
        reasons = ", ".join(f"{reason} {n:,}" for reason, n in sorted(counts.failures.items()))
        line += f" (failures: {reasons})"
    return line


async def outbox_status(ctx: Context, args: argparse.Namespace) -> int:
    """Deliveries by kind and status; exit 1 when any delivery failed for good."""
    async with ctx.sessions() as session:
        kinds = await status_by_kind(session)
    if not kinds:
        say("the outbox is empty")
        return 0
    failed = 0
    for found in kinds:
        say(f"{found.kind}: {found.messages:,} message(s); {describe_counts(found.counts)}")
        if found.oldest_queued is not None:
            when = f"{found.oldest_queued:%Y-%m-%d %H:%M} UTC"
            say(f"  oldest message with deliveries still queued: {when}")
        failed += found.counts.failed
    if failed:
        say(f"{failed:,} deliveries failed: `edi-bot outbox retry` queues them again")
    return 1 if failed else 0


async def outbox_work(ctx: Context, args: argparse.Namespace) -> int:
    """Run a worker in this process: until Ctrl-C, or with --once until nothing is due."""
    worker = build_worker(ctx.settings, Outbox(ctx.privacy.cipher), ctx.sessions)
    if args.once:
        try:
            done = await worker.drain()
        finally:
            await worker.stop()
        say(
            f"sent {done.sent:,}, retrying later {done.retried:,}, failed {done.failed:,}, "
            f"gone {done.gone:,}"
        )
        return 0
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    say(
        f"outbox worker running at up to {ctx.settings.outbox_rate_per_second:g} sends/s; "
        "Ctrl-C stops it (sends in flight finish first)"
    )
    worker.start()
    await stop.wait()
    await worker.stop()
    say("outbox worker stopped")
    return 0


async def outbox_retry(ctx: Context, args: argparse.Namespace) -> int:
    """Queue failed deliveries again with fresh attempts, and audit it."""
    async with unit_of_work(ctx.sessions) as session:
        count = await requeue_failed(session, message_id=args.message)
        await ctx.privacy.audit.append(
            session,
            actor=actor(),
            action="outbox.retry",
            object_type="outbox_message" if args.message else "outbox",
            object_id=str(args.message) if args.message else None,
            detail={"requeued": count},
        )
    say(f"{count:,} failed deliveries queued again")
    return 0


def add_commands(commands: argparse._SubParsersAction, settings: Callable[[], Settings]) -> None:  # type: ignore[type-arg]
    """Register `edi-bot outbox status|work|retry`."""
    outbox = commands.add_parser("outbox", help=OUTBOX.help["outbox"])
    sub = outbox.add_subparsers(dest="outbox_command", required=True, metavar="ACTION")
    sub.add_parser("status", help="deliveries by kind and status").set_defaults(
        handler=lambda args: run(settings(), args, outbox_status)
    )
    work = sub.add_parser("work", help="send queued messages from this process")
    work.add_argument("--once", action="store_true", help="stop when nothing is due")
    work.set_defaults(handler=lambda args: run(settings(), args, outbox_work))
    retry = sub.add_parser("retry", help="queue failed deliveries again")
    retry.add_argument("--message", type=int, help="only this message id")
    retry.set_defaults(handler=lambda args: run(settings(), args, outbox_retry))
