"""The scheduler and its jobs. Each job is safe to run twice and on two replicas at once."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.actions.records import NudgeRun
from bot.actions.service import ActionsService
from bot.bulletins.service import BulletinService
from bot.core.clock import today_in_london
from bot.core.logs import describe_exception
from bot.db.session import unit_of_work
from bot.declarations.review import ReviewPrompter, ReviewRun
from bot.events.records import SweepCounts
from bot.events.service import EventService
from bot.hr.service import HrReports
from bot.incidents.repo import forget_released
from bot.incidents.service import Incidents
from bot.privacy.audit import AuditLog
from bot.privacy.retention import RetentionRule, purge

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

TIMEZONE = "Europe/London"


async def retention_purge(
    sessions: async_sessionmaker[AsyncSession], rules: list[RetentionRule], audit: AuditLog
) -> dict[str, int]:
    """Delete everything past its retention; the counts go to the audit log and the log."""
    counts = await purge(sessions, rules, audit)
    log.info("job.retention_purge", extra=counts)
    return counts


def build_scheduler(
    sessions: async_sessionmaker[AsyncSession], rules: list[RetentionRule], audit: AuditLog
) -> AsyncIOScheduler:
    """An asyncio scheduler with every job registered (not yet started)."""
    scheduler = AsyncIOScheduler(timezone=TIMEZONE)
    scheduler.add_job(
        retention_purge,
        "cron",
        id="retention_purge",
        hour=2,
        minute=30,
        kwargs={"sessions": sessions, "rules": rules, "audit": audit},
        replace_existing=True,
        coalesce=True,
        misfire_grace_time=3600,
    )
    return scheduler


async def incident_sweep(
    sessions: async_sessionmaker[AsyncSession], incidents: Incidents
) -> dict[str, int]:
    """Release the anonymous intake when it is due (its own transaction, then the database
    is made to forget the released rows); then announce new reports to case handlers and
    remind and escalate deadlines. Safe to repeat: each release claims its rows, and each
    alert and reminder is recorded on its report when it is queued."""
    today = today_in_london()
    async with unit_of_work(sessions) as session:
        released = await incidents.release(session, today=today)
    if released["released_reports"] or released["released_messages"]:
        engine = sessions.kw["bind"]
        try:
            await forget_released(engine)
        except Exception as error:  # noqa: BLE001 - the release itself is committed
            log.warning(
                "job.incident_release_forget_failed", extra={"error": describe_exception(error)}
            )
    async with unit_of_work(sessions) as session:
        counts = await incidents.sweep(session, today=today)
    counts.update(released)
    log.info("job.incident_sweep", extra=counts)
    return counts


def add_incident_jobs(
    scheduler: AsyncIOScheduler,
    sessions: async_sessionmaker[AsyncSession],
    incidents: Incidents,
    *,
    minutes: int,
) -> None:
    """Register the incident sweep, every `minutes`, each run up to a quarter of that early
    or late at random, so releases of the anonymous intake fall at no regular time."""
    scheduler.add_job(
        incident_sweep,
        "interval",
        id="incident_sweep",
        minutes=minutes,
        jitter=minutes * 15,
        kwargs={"sessions": sessions, "incidents": incidents},
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=minutes * 60,
    )


async def declaration_review_prompts(
    sessions: async_sessionmaker[AsyncSession], prompter: ReviewPrompter
) -> ReviewRun:
    """Queue the yearly "check your equality information" prompt for everyone due.

    Safe to repeat and to run on two replicas at once: the people prompted are marked in the
    same transaction, whose rows the other run waits for, and then finds nobody due.
    """
    today = today_in_london()
    async with unit_of_work(sessions) as session:
        run = await prompter.run(session, today=today)
    log.info(
        "job.declaration_review_prompts",
        extra={"due": run.due, "prompted": run.prompted, "unreachable": run.unreachable},
    )
    return run


def add_declaration_jobs(
    scheduler: AsyncIOScheduler,
    sessions: async_sessionmaker[AsyncSession],
    prompter: ReviewPrompter,
) -> None:
    """Register the review prompt: the first Monday of each month, 10:00 Europe/London.

    Monthly rather than daily, so each message goes to everyone who became due that month
    and its recipients cannot be matched one by one with declaration dates.
    """
    scheduler.add_job(
        declaration_review_prompts,
        "cron",
        id="declaration_review_prompts",
        day="1st mon",
        hour=10,
        minute=0,
        kwargs={"sessions": sessions, "prompter": prompter},
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=6 * 3600,
    )


async def bulletin_publish(bulletins: BulletinService) -> str | None:
    """Publish this month's bulletin if today is its day (see `BulletinService.publish_due`).

    Safe to repeat and to run on two replicas at once: a month is published once, whoever
    records it first; the rest find it published and queue nothing.
    """
    result = await bulletins.publish_due()
    if result is None:
        return None
    log.info(
        "job.bulletin_publish",
        extra={"month": result.month, "queued": result.queued, "already": result.already},
    )
    return result.month


def bulletin_trigger() -> CronTrigger:
    """09:00 Europe/London, Monday to Friday (bank holidays are skipped by the job itself)."""
    return CronTrigger(day_of_week="mon-fri", hour=9, minute=0, timezone=TIMEZONE)


def add_bulletin_jobs(scheduler: AsyncIOScheduler, bulletins: BulletinService) -> None:
    """Register the bulletin: each working day at 09:00 it publishes a month's bulletin on
    its publish date (by default the first working day of the month), or the first working
    day after if the file arrived late or the service was down."""
    scheduler.add_job(
        bulletin_publish,
        bulletin_trigger(),
        id="bulletin_publish",
        kwargs={"bulletins": bulletins},
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=6 * 3600,
    )


async def event_sweep(
    sessions: async_sessionmaker[AsyncSession], events: EventService
) -> SweepCounts:
    """Lapse unclaimed waitlist offers and offer the places on; from 09:00 the day before an
    event, remind attendees and send organisers the attendee list.

    Safe to repeat and to run on two replicas at once: offers are made under the event's row
    lock, and every message has an outbox dedupe key (one reminder and one list per event,
    one offer per place held).
    """
    async with unit_of_work(sessions) as session:
        counts = await events.sweep(session)
    log.info(
        "job.event_sweep",
        extra={
            "lapsed": counts.lapsed,
            "offered": counts.offered,
            "reminders": counts.reminders,
            "organiser_lists": counts.organiser_lists,
        },
    )
    return counts


def add_event_jobs(
    scheduler: AsyncIOScheduler, sessions: async_sessionmaker[AsyncSession], events: EventService
) -> None:
    """Register the events sweep: every 15 minutes (adjustment needs are deleted by the
    nightly retention purge, the day after each event)."""
    scheduler.add_job(
        event_sweep,
        CronTrigger(minute="*/15", timezone=TIMEZONE),
        id="event_sweep",
        kwargs={"sessions": sessions, "events": events},
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=15 * 60,
    )


async def action_nudges(actions: ActionsService) -> NudgeRun:
    """Queue today's action-plan nudges and escalations (see `ActionsService.run_nudges`).

    Safe to repeat and to run on two replicas at once: every nudge is recorded under a
    unique constraint in the transaction that queues it, so it goes out once.
    """
    run = await actions.run_nudges()
    if run.skipped is None:
        log.info(
            "job.action_nudges",
            extra={"digests": run.digests, "items": run.items, "escalations": run.escalations},
        )
    return run


def action_nudge_trigger() -> CronTrigger:
    """Hourly at :10, Monday to Friday, 08:00-17:00 Europe/London; the run itself skips
    bank holidays and times outside EDI_ACTIONS_WORKING_HOURS, and sends each nudge once."""
    return CronTrigger(day_of_week="mon-fri", hour="8-17", minute=10, timezone=TIMEZONE)


def add_action_jobs(scheduler: AsyncIOScheduler, actions: ActionsService) -> None:
    """Register the action-plan nudges (the first run in working hours each day sends)."""
    scheduler.add_job(
        action_nudges,
        action_nudge_trigger(),
        id="action_nudges",
        kwargs={"actions": actions},
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=3600,
    )


async def hr_quarterly_report(
    sessions: async_sessionmaker[AsyncSession], reports: HrReports
) -> int:
    """Freeze the quarter just ended and queue its summary card to everyone holding `hr`.

    Safe to repeat and to run on two replicas at once: the quarter's counts are frozen once
    (the first snapshot stored wins; the other run reads it), and the card is queued under
    the dedupe key `hr.quarterly_report:<quarter>`, so each HR user gets it exactly once.
    """
    async with unit_of_work(sessions) as session:
        queued = await reports.send_quarterly(session, today=today_in_london())
    log.info("job.hr_quarterly_report", extra={"queued": queued})
    return queued


def hr_report_trigger() -> CronTrigger:
    """09:30 Europe/London on weekdays in the first week of January, April, July and
    October: the first run each quarter sends; the later ones find it sent."""
    return CronTrigger(
        month="1,4,7,10", day="1-7", day_of_week="mon-fri", hour=9, minute=30, timezone=TIMEZONE
    )


def add_hr_jobs(
    scheduler: AsyncIOScheduler, sessions: async_sessionmaker[AsyncSession], reports: HrReports
) -> None:
    """Register the quarterly HR summary."""
    scheduler.add_job(
        hr_quarterly_report,
        hr_report_trigger(),
        id="hr_quarterly_report",
        kwargs={"sessions": sessions, "reports": reports},
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=6 * 3600,
    )


# ---- each feature's jobs, as its feature.py names them (`Feature.jobs`) ---------------------


def incidents_jobs(scheduler: AsyncIOScheduler, runtime: Runtime) -> None:
    """The incident sweep (release, forget, reminders)."""
    add_incident_jobs(
        scheduler,
        runtime.sessions,
        runtime.incidents,
        minutes=runtime.settings.incident_sweep_minutes,
    )


def declarations_jobs(scheduler: AsyncIOScheduler, runtime: Runtime) -> None:
    """The yearly review prompt."""
    prompter = ReviewPrompter(
        content=runtime.content,
        pseudonyms=runtime.privacy.pseudonyms,
        outbox=runtime.outbox,
        after_days=runtime.settings.declaration_review_days,
    )
    add_declaration_jobs(scheduler, runtime.sessions, prompter)


def bulletins_jobs(scheduler: AsyncIOScheduler, runtime: Runtime) -> None:
    """Publishing the month's bulletin."""
    add_bulletin_jobs(scheduler, runtime.bulletins)


def events_jobs(scheduler: AsyncIOScheduler, runtime: Runtime) -> None:
    """The events sweep (reminders, lapsed offers, organisers' lists)."""
    add_event_jobs(scheduler, runtime.sessions, runtime.events)


def actions_jobs(scheduler: AsyncIOScheduler, runtime: Runtime) -> None:
    """The action-plan nudges."""
    add_action_jobs(scheduler, runtime.actions)


def hr_jobs(scheduler: AsyncIOScheduler, runtime: Runtime) -> None:
    """The quarterly HR summary."""
    add_hr_jobs(scheduler, runtime.sessions, runtime.hr_reports)
