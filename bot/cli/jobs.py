"""`edi-bot jobs list|run`: the timed jobs (scheduler/jobs.py), seen, run and rehearsed.

`jobs list` shows each job, its schedule, its last run (when, how it went, its counts) and
its next. `jobs run NAME` runs one now, as the schedule would (recorded like a scheduled run);
with `--dry-run` it is a rehearsal (scheduler/rehearsal.py): it runs, "as of" `--as-of DATE`
if given, and everything it did is rolled back; it prints what would have been sent to whom
(by role and count) and sends nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time
from typing import TYPE_CHECKING

from bot.cli.privacy import actor, say
from bot.core.clock import LONDON
from bot.core.logs import describe_exception
from bot.db.models import utcnow
from scheduler.describe import count_of, last_run_text, next_run, summary_text, when_text

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from bot.config import Settings
    from scheduler.jobs import Job, Summary
    from scheduler.rehearsal import Rehearsal


async def jobs_list(settings: Settings, engine: AsyncEngine, args: argparse.Namespace) -> int:
    """Each job: what it does, when, its last run and its next."""
    from bot.db.engine import create_sessionmaker
    from scheduler.jobs import catalogue
    from scheduler.runs_repo import last_runs

    async with create_sessionmaker(engine)() as session:
        runs = await last_runs(session)
    now = utcnow()
    for job in catalogue():
        last = runs.get(job.id)
        say(f"{job.name}: {job.what}")
        say(f"  when:     {job.when}")
        say(f"  last run: {last_run_text(last)}")
        say(f"  next run: {next_run(job, settings, last, now)}")
    say("")
    say("Jobs run while the bot is running (`edi-bot serve`). `edi-bot jobs run NAME --dry-run`")
    say("rehearses one (add --as-of YYYY-MM-DD for another day): it sends nothing.")
    return 0


def rehearsal_moment(job: Job, as_of: date | None, at: time | None) -> datetime:
    """The moment a rehearsal runs at: `as_of` (default today) at `at` (default the job's
    usual time), in London."""
    from bot.core.clock import today_in_london

    day = as_of or today_in_london()
    return datetime.combine(day, at or job.usual, tzinfo=LONDON)


def print_rehearsal(rehearsal: Rehearsal) -> None:
    """What the rehearsed run would have done and sent."""
    job = rehearsal.job
    say(f"Rehearsal of {job.name} as of {when_text(rehearsal.now)}: nothing is sent or kept.")
    say(f"It would have: {summary_text(rehearsal.summary)}")
    if not rehearsal.messages:
        say("It would send no messages.")
        return
    total = sum(m.reachable for m in rehearsal.messages)
    messages = count_of(len(rehearsal.messages), "message")
    say(f"It would send {messages}, {count_of(total, 'delivery', 'deliveries')} in all:")
    for number, message in enumerate(rehearsal.messages, start=1):
        roles = ", ".join(
            f"{count} {role.replace('_', ' ')}" for role, count in message.roles.items()
        )
        to = count_of(message.reachable, "person", "people") + (f" ({roles})" if roles else "")
        if message.names:
            more = message.reachable - len(message.names)
            to += ": " + ", ".join(message.names) + (f" and {more} more" if more > 0 else "")
        if message.unreachable:
            to += f"; {message.unreachable} more who have not used the bot yet"
        say(f"{number}. {message.kind} to {to}")
        if message.words is None:
            say("   (its words are not shown: a case message or HR's figures)")
            continue
        for line in message.words:
            say(f"   {line}" if line else "")


async def jobs_run(settings: Settings, engine: AsyncEngine, args: argparse.Namespace) -> int:
    """Run one job now (recorded), or rehearse it (--dry-run): see the module's docstring."""
    from bot.runtime import build_runtime
    from scheduler.jobs import catalogue, find_job, run_recorded
    from scheduler.rehearsal import rehearse

    job = find_job(args.name)
    if job is None:
        names = ", ".join(j.name for j in catalogue())
        say(f"edi-bot: there is no job called {args.name!r}; the jobs are: {names}")
        return 2
    if not args.dry_run and (args.as_of is not None or args.at is not None):
        say("edi-bot: --as-of and --at rehearse another moment: add --dry-run (a real run is")
        say("always now, so nothing is sent with the wrong date in it)")
        return 2
    try:
        if args.dry_run:
            moment = rehearsal_moment(job, args.as_of, args.at)
            print_rehearsal(await rehearse(job, settings, engine, moment))
            return 0
        runtime = build_runtime(settings, engine)
        say(f"Running {job.name} now ({actor()}) ...")
        summary: Summary = await run_recorded(job, runtime, by="command")
    except Exception as error:  # noqa: BLE001 - an operator gets a sentence, the log the rest
        log.warning("jobs.run_failed", extra={"job": job.id, "error": describe_exception(error)})
        kept = "nothing was kept" if args.dry_run else "the failure is recorded"
        say(f"edi-bot: {job.name} failed ({type(error).__name__}); {kept}. The log has more.")
        return 1
    say(f"Done: {summary_text(summary)}")
    say("Messages it queued are sent by the running bot's outbox worker")
    say("(or by `edi-bot outbox work --once`).")
    return 0


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2027-03-01") from None


def _time(text: str) -> time:
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a time like 10:10") from None


JobsCommand = Callable[["Settings", "AsyncEngine", argparse.Namespace], Awaitable[int]]


def _run(settings: Settings, args: argparse.Namespace, command: JobsCommand) -> int:
    """Open the database (refusing an old schema) and run `command`."""
    from bot.db import migrate
    from bot.db.engine import create_engine
    from bot.privacy.keys import KeyConfigError, load_keys

    try:
        load_keys(settings)
    except KeyConfigError as error:
        say(f"edi-bot: {error}")
        return 2

    async def go() -> int:
        engine = create_engine(settings.database_url)
        try:
            if not await migrate.is_current(engine):
                say("edi-bot: the database schema is behind; run `edi-bot db upgrade` first")
                return 2
            return await command(settings, engine, args)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def add_commands(commands: argparse._SubParsersAction, settings: Callable[[], Settings]) -> None:  # type: ignore[type-arg]
    """Register `edi-bot jobs list|run`."""
    from bot.cli.commands import JOBS

    jobs = commands.add_parser("jobs", help=JOBS.help["jobs"])
    sub = jobs.add_subparsers(dest="jobs_command", required=True, metavar="ACTION")
    sub.add_parser("list", help="each job, its schedule, its last and next run").set_defaults(
        handler=lambda args: _run(settings(), args, jobs_list)
    )
    run = sub.add_parser(
        "run",
        help="run a job now, or rehearse it with --dry-run",
        description="Run a timed job now, as the schedule would; with --dry-run, rehearse it "
        "(as of another day with --as-of) and print what it would send, sending nothing.",
    )
    run.add_argument("name", help="the job (see `edi-bot jobs list`), e.g. nudges")
    run.add_argument("--dry-run", action="store_true", help="rehearse: send and keep nothing")
    run.add_argument(
        "--as-of", type=_date, metavar="DATE", help="with --dry-run: the day to rehearse"
    )
    run.add_argument(
        "--at",
        type=_time,
        metavar="HH:MM",
        help="with --dry-run: the time of day (London); default the job's usual time",
    )
    run.set_defaults(handler=lambda args: _run(settings(), args, jobs_run))
