"""Every timed job, in one catalogue (`JOBS`): what it does, when, and how to run it.

The running bot registers each job with APScheduler (`register_jobs`; stable ids, Europe/London
time); `edi-bot jobs list|run` (bot/cli/jobs.py) and bot status read the same catalogue, so a
job an operator can see is exactly a job that runs. Each run is recorded (scheduler/models.py:
when, how it went, its counts; never a person).

Each job is safe to run twice and on two replicas at once (each one's docstring says why), so
running one by hand beside the schedule does no harm. `now` moves a run to another moment: a
rehearsal (scheduler/rehearsal.py) runs a job "as of" a date inside a transaction it then
rolls back.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, time
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.core.clock import today_in_london
from bot.core.logs import describe_exception
from bot.db.models import utcnow
from bot.db.session import unit_of_work
from bot.declarations.review import ReviewPrompter, ReviewRun
from bot.features import FEATURES
from bot.incidents.repo import forget_released
from bot.privacy.retention import purge, retention_rules
from bot.records.repo import forget_deleted
from scheduler import runs_repo

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from bot.config import Settings
    from bot.hr.service import HrReports
    from bot.incidents.service import Incidents
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

TIMEZONE = "Europe/London"
# What a run reports: its counts (numbers), or {"skipped": "why"}; never a person.
Summary = dict[str, Any]


@dataclass(frozen=True)
class Job:
    """One timed job. `name` is what operators type (`edi-bot jobs run nudges`); `id` is the
    scheduler's (stable across releases); `run(runtime, now, rehearsal)` does one run, as of
    `now` (None: the real time). `usual` is the time of day (London) a rehearsal "as of" a
    date runs at unless told otherwise: when the schedule's run that does the work falls."""

    name: str
    id: str
    feature: str
    what: str
    when: str
    trigger: Callable[[Settings], BaseTrigger]
    run: Callable[[Runtime, datetime | None, bool], Awaitable[Summary]]
    usual: time
    grace_seconds: int = 3600


# ---- the runs ----------------------------------------------------------------------------------


async def retention_run(runtime: Runtime, now: datetime | None, rehearsal: bool) -> Summary:
    """Delete everything past its retention; the counts go to the audit log and the log."""
    settings, audit = runtime.settings, runtime.privacy.audit
    rules = retention_rules(settings, audit, FEATURES)
    counts = await purge(runtime.sessions, rules, audit, now=now)
    log.info("job.retention_purge", extra=counts)
    return dict(counts)


async def incident_sweep(
    sessions: async_sessionmaker[AsyncSession],
    incidents: Incidents,
    *,
    now: datetime | None = None,
    rehearsal: bool = False,
) -> dict[str, int]:
    """Release the anonymous intake when it is due (its own transaction, then the database
    is made to forget the released rows); then announce new reports to case handlers and
    remind and escalate deadlines. Safe to repeat: each release claims its rows, and each
    alert and reminder is recorded on its report when it is queued.

    A rehearsal never touches the intake: releases happen at random runs by design, and a
    rehearsal's account of what waits there, asked for at will, would date a submission."""
    today = today_in_london(now)
    released = {"released_reports": 0, "released_messages": 0}
    if not rehearsal:
        async with unit_of_work(sessions) as session:
            released = await incidents.release(session, today=today)
    if released["released_reports"] or released["released_messages"]:
        try:
            await forget_released(sessions.kw["bind"])
        except Exception as error:  # noqa: BLE001 - the release itself is committed
            log.warning(
                "job.incident_release_forget_failed", extra={"error": describe_exception(error)}
            )
    async with unit_of_work(sessions) as session:
        counts = await incidents.sweep(session, today=today)
    counts.update(released)
    # Never how many wait in the intake: a line a run, timestamped, would date submissions.
    log.info("job.incident_sweep", extra={k: v for k, v in counts.items() if k != "waiting"})
    return counts


async def incident_run(runtime: Runtime, now: datetime | None, rehearsal: bool) -> Summary:
    """The incident sweep. Its record keeps what was released, never how many reports wait
    in the intake (runs at known times would otherwise date each submission)."""
    counts = await incident_sweep(runtime.sessions, runtime.incidents, now=now, rehearsal=rehearsal)
    counts.pop("waiting", None)
    if rehearsal:  # the intake is left alone (see `incident_sweep`)
        counts.pop("released_reports", None)
        counts.pop("released_messages", None)
    return dict(counts)


async def records_run(runtime: Runtime, now: datetime | None, rehearsal: bool) -> Summary:
    """Make the database forget deleted private records: a record turned into an anonymous
    report is deleted in the turn that sent it, and must not stay on disk beside it
    (docs/privacy.md). Safe to repeat and to run on two replicas at once: rewriting the table
    changes no row, and two rewrites wait for each other's lock. A rehearsal changes nothing.
    It runs at every run, whether or not anything was deleted, so its runs date nothing."""
    if rehearsal:
        return {"skipped": "a rehearsal leaves the database's files alone"}
    await forget_deleted(runtime.engine)
    log.info("job.records_forget")
    return {"tables_rewritten": 1}


async def declaration_review_prompts(
    sessions: async_sessionmaker[AsyncSession],
    prompter: ReviewPrompter,
    *,
    now: datetime | None = None,
) -> ReviewRun:
    """Queue the yearly "check your equality information" prompt for everyone due.

    Safe to repeat and to run on two replicas at once: the people prompted are marked in the
    same transaction, whose rows the other run waits for, and then finds nobody due.
    """
    async with unit_of_work(sessions) as session:
        run = await prompter.run(session, today=today_in_london(now))
    log.info(
        "job.declaration_review_prompts",
        extra={"due": run.due, "prompted": run.prompted, "unreachable": run.unreachable},
    )
    return run


async def declaration_run(runtime: Runtime, now: datetime | None, rehearsal: bool) -> Summary:
    """The yearly review prompt, for everyone due."""
    prompter = ReviewPrompter(
        content=runtime.content,
        pseudonyms=runtime.privacy.pseudonyms,
        outbox=runtime.outbox,
        after_days=runtime.settings.declaration_review_days,
    )
    run = await declaration_review_prompts(runtime.sessions, prompter, now=now)
    return {"due": run.due, "prompted": run.prompted, "unreachable": run.unreachable}


async def bulletin_run(runtime: Runtime, now: datetime | None, rehearsal: bool) -> Summary:
    """Publish this month's bulletin if today is its day (see `BulletinService.publish_due`).

    Safe to repeat and to run on two replicas at once: a month is published once, whoever
    records it first; the rest find it published and queue nothing.
    """
    result = await runtime.bulletins.publish_due(now)
    if result is None:
        return {"skipped": "no bulletin is due today"}
    if result.to_nobody:
        return {"skipped": f"nobody can be sent the {result.month} bulletin yet"}
    counts = {"month": result.month, "queued": result.queued, "already": result.already}
    log.info("job.bulletin_publish", extra=counts)
    return counts


async def event_run(runtime: Runtime, now: datetime | None, rehearsal: bool) -> Summary:
    """Lapse unclaimed waitlist offers and offer the places on; from 09:00 the day before an
    event, remind attendees and send organisers the attendee list.

    Safe to repeat and to run on two replicas at once: offers are made under the event's row
    lock, and every message has an outbox dedupe key (one reminder and one list per event,
    one offer per place held).
    """
    events = runtime.events
    if now is not None:
        moment = now
        events.clock = lambda: moment  # a rehearsal's own runtime, built for this run
    async with unit_of_work(runtime.sessions) as session:
        counts = await events.sweep(session)
    summary = {
        "lapsed": counts.lapsed,
        "offered": counts.offered,
        "reminders": counts.reminders,
        "organiser_lists": counts.organiser_lists,
    }
    log.info("job.event_sweep", extra=summary)
    return summary


async def nudge_run(runtime: Runtime, now: datetime | None, rehearsal: bool) -> Summary:
    """Queue today's action-plan nudges and escalations (see `ActionsService.run_nudges`).

    Safe to repeat and to run on two replicas at once: every nudge is recorded under a
    unique constraint in the transaction that queues it, so it goes out once.
    """
    run = await runtime.actions.run_nudges(now)
    if run.skipped is not None:
        return {"skipped": run.skipped}
    counts = {
        "digests": run.digests,
        "items": run.items,
        "escalations": run.escalations,
        "long_past": run.past,  # actions on the board chair's one summary
    }
    log.info("job.action_nudges", extra=counts)
    return counts


async def hr_quarterly_report(
    sessions: async_sessionmaker[AsyncSession],
    reports: HrReports,
    *,
    now: datetime | None = None,
) -> int:
    """Freeze the quarter just ended and queue its summary card to everyone holding `hr`.

    Safe to repeat and to run on two replicas at once: the quarter's counts are frozen once
    (the first snapshot stored wins; the other run reads it), and the card is queued under
    the dedupe key `hr.quarterly_report:<quarter>`, so each HR user gets it exactly once.
    """
    async with unit_of_work(sessions) as session:
        queued = await reports.send_quarterly(session, today=today_in_london(now))
    log.info("job.hr_quarterly_report", extra={"queued": queued})
    return queued


async def hr_run(runtime: Runtime, now: datetime | None, rehearsal: bool) -> Summary:
    """The quarterly HR summary."""
    return {"queued": await hr_quarterly_report(runtime.sessions, runtime.hr_reports, now=now)}


# ---- when ------------------------------------------------------------------------------------


def retention_trigger(settings: Settings | None = None) -> CronTrigger:
    """02:30 Europe/London, every day."""
    return CronTrigger(hour=2, minute=30, timezone=TIMEZONE)


def incident_trigger(settings: Settings) -> IntervalTrigger:
    """Every EDI_INCIDENT_SWEEP_MINUTES; each run up to a quarter of that early or late at
    random (the job's jitter), so releases of the anonymous intake fall at no regular time."""
    minutes = settings.incident_sweep_minutes
    return IntervalTrigger(minutes=minutes, jitter=minutes * 15, timezone=TIMEZONE)


def records_trigger(settings: Settings) -> IntervalTrigger:
    """Every EDI_INCIDENT_SWEEP_MINUTES, a quarter of that early or late at random, as the
    incident job: a record deleted for an anonymous report leaves the disk as soon as the
    intake that holds the report does, or sooner."""
    minutes = settings.incident_sweep_minutes
    return IntervalTrigger(minutes=minutes, jitter=minutes * 15, timezone=TIMEZONE)


def declaration_trigger(settings: Settings | None = None) -> CronTrigger:
    """The first Monday of each month, 10:00 Europe/London: monthly rather than daily, so each
    message goes to everyone who became due that month and its recipients cannot be matched
    one by one with declaration dates."""
    return CronTrigger(day="1st mon", hour=10, minute=0, timezone=TIMEZONE)


def bulletin_trigger(settings: Settings | None = None) -> CronTrigger:
    """09:00 Europe/London, Monday to Friday (bank holidays are skipped by the job itself)."""
    return CronTrigger(day_of_week="mon-fri", hour=9, minute=0, timezone=TIMEZONE)


def event_trigger(settings: Settings | None = None) -> CronTrigger:
    """Every 15 minutes (adjustment needs are deleted by the nightly retention purge, the day
    after each event)."""
    return CronTrigger(minute="*/15", timezone=TIMEZONE)


def action_nudge_trigger(settings: Settings | None = None) -> CronTrigger:
    """Hourly at :10, Monday to Friday, 08:00-17:00 Europe/London; the run itself skips
    bank holidays and times outside EDI_ACTIONS_WORKING_HOURS, and sends each nudge once."""
    return CronTrigger(day_of_week="mon-fri", hour="8-17", minute=10, timezone=TIMEZONE)


def hr_report_trigger(settings: Settings | None = None) -> CronTrigger:
    """09:30 Europe/London on weekdays in the first week of January, April, July and
    October: the first run each quarter sends; the later ones find it sent."""
    return CronTrigger(
        month="1,4,7,10", day="1-7", day_of_week="mon-fri", hour=9, minute=30, timezone=TIMEZONE
    )


# ---- the catalogue -------------------------------------------------------------------------

RETENTION = Job(
    "retention",
    "retention_purge",
    "privacy",
    "deletes everything past its retention period (the counts go to the audit log)",
    "every day at 02:30",
    retention_trigger,
    retention_run,
    time(2, 30),
)
INCIDENTS = Job(
    "incidents",
    "incident_sweep",
    "incidents",
    "releases held anonymous reports; tells case handlers of new reports; reminds and "
    "escalates case deadlines",
    "every EDI_INCIDENT_SWEEP_MINUTES minutes, at no regular time",
    incident_trigger,
    incident_run,
    time(12, 0),
)
RECORDS = Job(
    "records",
    "private_records_forget",
    "records",
    "makes the database forget deleted private records (VACUUM FULL on PostgreSQL; the "
    "write-ahead log truncated on SQLite)",
    "every EDI_INCIDENT_SWEEP_MINUTES minutes, at no regular time",
    records_trigger,
    records_run,
    time(12, 0),
)
DECLARATIONS = Job(
    "reviews",
    "declaration_review_prompts",
    "declarations",
    'asks people whose equality information is a year old to check it ("check your '
    'equality information")',
    "the first Monday of each month at 10:00",
    declaration_trigger,
    declaration_run,
    time(10, 0),
    grace_seconds=6 * 3600,
)
BULLETIN = Job(
    "bulletin",
    "bulletin_publish",
    "bulletins",
    "publishes the month's bulletin on its publish date (by default the first working day)",
    "working days at 09:00",
    bulletin_trigger,
    bulletin_run,
    time(9, 0),
    grace_seconds=6 * 3600,
)
EVENTS = Job(
    "events",
    "event_sweep",
    "events",
    "offers lapsed waitlist places on; the day before an event, reminds attendees and sends "
    "organisers the attendee list",
    "every 15 minutes",
    event_trigger,
    event_run,
    time(9, 0),
    grace_seconds=15 * 60,
)
NUDGES = Job(
    "nudges",
    "action_nudges",
    "actions",
    "reminds action leads of their EDI action-plan deadlines; tells the board chair of "
    "actions past them",
    "hourly at 10 past, 08:00-17:00, Monday to Friday (the first run each working day sends)",
    action_nudge_trigger,
    nudge_run,
    time(10, 10),
)
HR_QUARTERLY = Job(
    "hr-quarterly",
    "hr_quarterly_report",
    "hr",
    "freezes the quarter just ended and sends its summary card to everyone holding hr",
    "09:30 on the first weekday of January, April, July and October",
    hr_report_trigger,
    hr_run,
    time(9, 30),
    grace_seconds=6 * 3600,
)

# Each feature's jobs, by the name its feature.py gives (`Feature.jobs`).
incidents_jobs = (INCIDENTS,)
records_jobs = (RECORDS,)
declarations_jobs = (DECLARATIONS,)
bulletins_jobs = (BULLETIN,)
events_jobs = (EVENTS,)
actions_jobs = (NUDGES,)
hr_jobs = (HR_QUARTERLY,)


def catalogue() -> list[Job]:
    """Every job: the core's (retention), then each feature's, in FEATURES' order."""
    from bot.core.registry import load

    jobs = [RETENTION]
    for feature in FEATURES:
        if feature.jobs is not None:
            jobs.extend(load(feature.jobs))
    return jobs


def find_job(name: str) -> Job | None:
    """The job an operator named (its name or its scheduler id, any case)."""
    wanted = name.strip().lower().replace("_", "-")
    for job in catalogue():
        if wanted in (job.name, job.id.replace("_", "-")):
            return job
    return None


# ---- running -----------------------------------------------------------------------------------


async def run_recorded(
    job: Job, runtime: Runtime, *, by: str = "schedule", now: datetime | None = None
) -> Summary:
    """One real run of `job`, recorded (when, how it went, its counts); a failure is recorded
    by its class and raised again."""
    started = utcnow()
    outcome, summary = "failed", {}
    try:
        summary = await job.run(runtime, now, False)
        outcome = "skipped" if "skipped" in summary else "ok"
        return summary
    except Exception as error:
        summary = {"error": type(error).__name__}
        raise
    finally:
        await _record(runtime, job, started, outcome, summary, by)


async def _record(
    runtime: Runtime, job: Job, started: datetime, outcome: str, summary: Mapping[str, Any], by: str
) -> None:
    try:
        async with unit_of_work(runtime.sessions) as session:
            await runs_repo.record_run(
                session,
                job=job.id,
                started_at=started,
                finished_at=utcnow(),
                outcome=outcome,
                detail=json.dumps(summary, default=str, sort_keys=True),
                by=by,
            )
    except Exception as error:  # noqa: BLE001 - the run itself has happened
        log.warning("job.record_failed", extra={"job": job.id, "error": describe_exception(error)})


def build_scheduler() -> AsyncIOScheduler:
    """An asyncio scheduler in London time, no jobs yet."""
    return AsyncIOScheduler(timezone=TIMEZONE)


def register_jobs(scheduler: AsyncIOScheduler, runtime: Runtime) -> list[Job]:
    """Add every job in the catalogue to `scheduler` (each run recorded); the jobs added."""
    jobs = catalogue()
    for job in jobs:
        scheduler.add_job(
            run_recorded,
            job.trigger(runtime.settings),
            id=job.id,
            args=[job, runtime],
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=job.grace_seconds,
        )
    return jobs
