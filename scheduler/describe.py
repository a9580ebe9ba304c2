"""Jobs and their runs in words, for operators (`edi-bot jobs list`, bot status)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from apscheduler.triggers.interval import IntervalTrigger

from bot.core.clock import LONDON

if TYPE_CHECKING:
    from bot.config import Settings
    from scheduler.jobs import Job
    from scheduler.runs_repo import LastRun


def count_of(number: int, thing: str, things: str | None = None) -> str:
    """ "1 person", "3 people"."""
    return f"{number:,} {thing if number == 1 else things or thing + 's'}"


def when_text(moment: datetime) -> str:
    """A moment in London, as operators read it: "Mon 1 Mar 2027 10:10"."""
    local = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(LONDON)
    return f"{local:%a} {local.day} {local:%b %Y %H:%M}"


def summary_text(summary: dict[str, Any]) -> str:
    """A run's counts in words: "digests 2, items 5, escalations 0"."""
    if "skipped" in summary:
        return f"nothing to do ({summary['skipped']})"
    if "error" in summary:
        return f"failed ({summary['error']}; the log has the details)"
    return ", ".join(f"{key.replace('_', ' ')} {value}" for key, value in summary.items()) or "-"


def next_run(job: Job, settings: Settings, last: LastRun | None, now: datetime) -> str:
    """When the schedule runs `job` next (while the bot is running)."""
    trigger = job.trigger(settings)
    if isinstance(trigger, IntervalTrigger):
        every = trigger.interval
        started = last.started_at if last is not None else None
        if started is not None and started.tzinfo is None:
            started = started.replace(tzinfo=UTC)
        base = started + every if started and started + every > now else now + every
        return f"about {when_text(base)} (every {int(every.total_seconds() // 60)} minutes)"
    fire = trigger.get_next_fire_time(None, now.astimezone(LONDON))
    return when_text(fire) if fire is not None else "never"


def last_run_text(last: LastRun | None) -> str:
    """A job's last run in words: "Fri 4 Dec 2026 10:10, on schedule: ok; digests 1, ..."."""
    if last is None:
        return "not yet"
    import json

    by = "by hand" if last.by == "command" else "on schedule"
    summary = json.loads(last.detail)
    result = summary_text(summary)
    if last.outcome == "ok":
        result = f"ok; {result}"
    return f"{when_text(last.started_at)}, {by}: {result}"
