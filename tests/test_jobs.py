"""The timed jobs as operators see them, on SQLite and PostgreSQL: `edi-bot jobs list` (each
job, its schedule, last and next run), `jobs run NAME` (recorded like a scheduled run) and
`jobs run NAME --as-of DATE --dry-run` (a rehearsal: says what would be sent to whom, and
sends and keeps nothing), and every scheduled run recorded, failures by their class."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.actions.models import ActionNudge
from bot.app import RUNTIME_KEY
from bot.config import Settings
from bot.core.clock import LONDON
from bot.core.people import PersonKey
from bot.db.models import AuditEntry
from bot.db.session import unit_of_work
from bot.hr.models import HrSnapshot
from bot.outbox.models import OutboxMessage
from bot.privacy.roles import Role, grant_role
from bot.runtime import Runtime
from scheduler import runs_repo
from scheduler.jobs import Job, catalogue, register_jobs, run_recorded
from tests.actions.test_actions import assign, installed
from tests.chat import Chat
from tests.cli_runner import run_cli
from tests.connector import StandInConnector
from tests.harness import dev_settings
from tests.privacy.test_privacy_cli import env_for
from tests.service import Service, start_service, stop_service
from tests.teams import TeamsUser

pytestmark = pytest.mark.e2e
ADMIN = TeamsUser(name="Ada Admin")


@pytest.fixture
def jobs_settings(database_url: str) -> Settings:
    return dev_settings(
        database_url=database_url,
        outbox_poll_seconds=0.05,
        bootstrap_admins=[ADMIN.aad_object_id],
    )


@pytest.fixture
async def service(jobs_settings: Settings, engine: AsyncEngine) -> AsyncIterator[Service]:
    running = await start_service(jobs_settings, engine)
    try:
        yield running
    finally:
        await stop_service(running)


def runtime_of(service: Service) -> Runtime:
    return service.runner.app[RUNTIME_KEY]


async def rows(runtime: Runtime, model: Any) -> int:
    async with runtime.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def cli(database_url: str, *args: str) -> tuple[int, str, str]:
    return await run_cli("jobs", *args, env=env_for(database_url))


async def test_a_rehearsal_prints_the_nudges_a_lead_would_get_and_sends_and_keeps_nothing(
    service: Service, connector: StandInConnector, database_url: str
) -> None:
    runtime = runtime_of(service)
    [lead] = await installed(service, connector, "Sam Patel")
    await assign(runtime.sessions, runtime.actions, lead, team="HR")
    audit_before = await rows(runtime, AuditEntry)
    code, out, err = await cli(database_url, "run", "nudges", "--as-of", "2023-03-15", "--dry-run")
    assert code == 0 and "Traceback" not in err
    assert "Rehearsal of nudges as of Wed 15 Mar 2023 10:10: nothing is sent or kept." in out
    assert re.search(r"It would have: digests 1, items \d+, escalations \d+", out)
    assert "It would send 1 message, 1 delivery in all:" in out
    assert "1. actions.nudge to 1 person (1 action lead): Sam Patel" in out
    # What the lead would read, as the terminal chat shows the card.
    assert "4.1 Implement Hate Crime Guidance by providing workshops" in out
    assert "Due Fri 31 Mar 2023: 12 working days to go" in out
    assert "] Save update" in out
    # Nothing kept: no message, no nudge record, no audit entry; nothing reached Teams.
    assert await rows(runtime, OutboxMessage) == 0
    assert await rows(runtime, ActionNudge) == 0
    assert await rows(runtime, AuditEntry) == audit_before
    assert connector.replies(lead.conversation_id) == []
    # Rehearsing again gives the same answer: the first left no trace to find.
    again = await cli(database_url, "run", "nudges", "--as-of", "2023-03-15", "--dry-run")
    assert again[1] == out
    # A Saturday: the schedule sends nothing, and the rehearsal says so.
    code, out, _ = await cli(database_url, "run", "nudges", "--as-of", "2023-03-18", "--dry-run")
    assert code == 0 and "nothing to do (outside working days and hours)" in out


async def test_a_rehearsal_years_after_a_plans_deadlines_shows_one_summary_for_the_chair(
    service: Service, connector: StandInConnector, database_url: str
) -> None:
    """`edi-bot jobs run nudges --as-of 2027-03-01 --dry-run`, the 2022-23 plan still active."""
    runtime = runtime_of(service)
    [lead, chair] = await installed(service, connector, "Sam Patel", "Chris Chair")
    await assign(runtime.sessions, runtime.actions, lead, action="2022-23/4.1")
    async with unit_of_work(runtime.sessions) as session:
        await grant_role(
            session,
            role=Role.BOARD_CHAIR,
            person=chair.aad_object_id,
            tenant_id=None,
            granted_by="test",
        )
    code, out, _ = await cli(database_url, "run", "nudges", "--as-of", "2027-03-01", "--dry-run")
    assert code == 0
    assert "It would have: digests 1, items 1, escalations 0, long past 27" in out
    assert "It would send 2 messages, 2 deliveries in all:" in out
    assert "actions.nudge to 1 person (1 action lead): Sam Patel" in out
    assert "actions.escalation to 1 person (1 board chair): Chris Chair" in out
    # The lead: the day it was due, once; no "930 working days".
    assert "This was due on Friday 31 March 2023." in out
    assert "working days)" not in out and "working days ago" not in out
    # The chair: one summary of the whole plan, not an escalation per action.
    assert "EDI actions past their deadline" in out
    assert re.search(r"2022-23 plan: \d+ actions passed a deadline or check-in", out)
    assert "2022-23 action" not in out  # no item per action
    assert await rows(runtime, OutboxMessage) == 0
    assert await rows(runtime, ActionNudge) == 0
    assert connector.replies(chair.conversation_id) == []


async def test_a_rehearsal_of_hrs_quarter_freezes_nothing_and_shows_no_figures(
    service: Service, connector: StandInConnector, database_url: str
) -> None:
    runtime = runtime_of(service)
    [officer] = await installed(service, connector, "Hana Hr")
    async with unit_of_work(runtime.sessions) as session:
        await grant_role(
            session,
            role=Role.HR,
            person=officer.aad_object_id,
            tenant_id=officer.tenant_id,
            granted_by="test",
        )
    code, out, _ = await cli(
        database_url, "run", "hr-quarterly", "--as-of", "2027-01-04", "--dry-run"
    )
    assert code == 0
    assert "1. hr.quarterly_report to 1 person (1 hr)" in out
    assert "(its words are not shown: a case message or HR's figures)" in out
    assert await rows(runtime, HrSnapshot) == 0  # the quarter is not frozen by a rehearsal
    assert await rows(runtime, OutboxMessage) == 0


async def test_jobs_list_and_bot_status_show_each_job_its_schedule_and_last_and_next_run(
    service: Service, connector: StandInConnector, database_url: str
) -> None:
    code, out, _ = await cli(database_url, "list")
    assert code == 0
    for job in catalogue():
        assert f"{job.name}: {job.what}" in out
        assert f"  when:     {job.when}" in out
    assert out.count("  last run: not yet") == len(catalogue())
    assert "  next run: " in out and "never" not in out
    # A run by hand is recorded like a scheduled one, and shown.
    code, said, _ = await cli(database_url, "run", "events")
    assert code == 0 and said.splitlines()[-3].startswith("Done: lapsed 0, offered 0")
    _, out, _ = await cli(database_url, "list")
    block = out[out.index("events: ") :].splitlines()[:4]
    assert block[2].startswith("  last run: ") and ", by hand: ok; lapsed 0, offered 0" in block[2]
    # An admin sees the same in the chat's bot status.
    assert (await service.post(ADMIN.installed(connector.url)))[0] == 201
    shown = await Chat(service, connector, ADMIN).say("bot status")
    assert "Job: events" in shown and "by hand: ok; lapsed 0" in shown
    assert "Job: nudges" in shown and "last run not yet; next " in shown
    assert "`edi-bot jobs run NAME --dry-run` rehearses one." in shown


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["run", "nudge-everyone"], "there is no job called 'nudge-everyone'; the jobs are: "),
        (["run", "nudges", "--as-of", "2027-03-01"], "--as-of and --at rehearse another moment"),
        (["run", "nudges", "--as-of", "1 March", "--dry-run"], "is not a date like 2027-03-01"),
        (["run", "nudges", "--at", "25:00", "--dry-run"], "is not a time like 10:10"),
    ],
)
async def test_mistakes_get_a_clear_message_and_run_nothing(
    service: Service, database_url: str, args: list[str], said: str
) -> None:
    code, out, err = await cli(database_url, *args)
    assert code == 2 and said in out + err and "Traceback" not in out + err
    assert await rows(runtime_of(service), OutboxMessage) == 0


async def test_every_job_is_scheduled_in_london_and_each_run_is_recorded_failures_by_class(
    service: Service, jobs_settings: Settings
) -> None:
    runtime = runtime_of(service)
    scheduler = AsyncIOScheduler(timezone="Europe/London")
    register_jobs(scheduler, runtime)
    assert sorted(j.id for j in scheduler.get_jobs()) == sorted(j.id for j in catalogue())
    for job in scheduler.get_jobs():
        assert str(job.trigger.timezone) == "Europe/London"

    async def broken(runtime: Runtime, now: datetime | None, rehearsal: bool) -> dict[str, Any]:
        raise ConnectionResetError("the database went away: secret detail")

    [model] = [j for j in catalogue() if j.name == "bulletin"]
    failing = Job(**{**model.__dict__, "id": "broken_job", "run": broken})
    with pytest.raises(ConnectionResetError):
        await run_recorded(failing, runtime)
    async with runtime.sessions() as session:
        last = (await runs_repo.last_runs(session))["broken_job"]
    assert (last.outcome, last.by) == ("failed", "schedule")
    assert json.loads(last.detail) == {"error": "ConnectionResetError"}  # never the text
    summary = await run_recorded(model, runtime, now=datetime(2026, 12, 5, 9, tzinfo=LONDON))
    assert summary == {"skipped": "no bulletin is due today"}  # a Saturday


async def test_a_job_that_fails_by_hand_says_so_in_a_sentence_and_is_recorded(
    service: Service, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.actions.service import ActionsService

    async def broken(self: ActionsService, now: datetime | None = None) -> None:
        raise RuntimeError("private detail from the database")

    monkeypatch.setattr(ActionsService, "run_nudges", broken)
    code, out, err = await cli(database_url, "run", "nudges")
    assert code == 1 and "Traceback" not in out + err
    assert "edi-bot: nudges failed (RuntimeError); the failure is recorded." in out
    assert "private detail" not in out + err
    code, out, _ = await cli(database_url, "run", "nudges", "--dry-run")
    assert code == 1 and "nudges failed (RuntimeError); nothing was kept." in out
    _, listed, _ = await cli(database_url, "list")
    nudges = listed[listed.index("nudges: ") :].splitlines()[2]
    assert ", by hand: failed (RuntimeError; the log has the details)" in nudges


async def test_a_rehearsal_of_the_case_sweep_shows_the_escalations_and_leaves_the_intake_alone(
    service: Service, connector: StandInConnector, database_url: str
) -> None:
    from datetime import date, timedelta

    from bot.incidents.models import IncidentIntake, IncidentReport
    from bot.incidents.records import Person

    runtime = runtime_of(service)
    [handler] = await installed(service, connector, "Cara Handler")
    async with unit_of_work(runtime.sessions) as session:
        await grant_role(
            session,
            role=Role.CASE_HANDLER,
            person=handler.aad_object_id,
            tenant_id=None,
            granted_by="test",
        )
    reporter = TeamsUser(name="Rae Porter")
    story = "A visitor shouted abuse about my headscarf at reception."
    yesterday = date.today() - timedelta(days=1)
    async with unit_of_work(runtime.sessions) as session:
        await runtime.incidents.submit(
            session,
            {"mode": "confidential", "relationship": "victim", "narrative": story},
            reporter=Person(PersonKey(reporter.tenant_id, reporter.aad_object_id), reporter.name),
            today=yesterday,
        )
        await runtime.incidents.submit(
            session,
            {"mode": "anonymous", "relationship": "witness", "narrative": story},
            reporter=None,
            today=yesterday,
        )
    queued = await rows(runtime, OutboxMessage)  # the new report's alert, at submission
    later = (date.today() + timedelta(days=30)).isoformat()
    code, out, _ = await cli(database_url, "run", "incidents", "--as-of", later, "--dry-run")
    assert code == 0
    assert re.search(r"It would have: alerts \d+, reminders \d+, escalations 1", out)
    assert "incident.escalation to 1 person (1 case handler): Cara Handler" in out
    assert "(its words are not shown: a case message or HR's figures)" in out
    assert "headscarf" not in out and "waiting" not in out and "released" not in out
    # Nothing changed: the anonymous report still waits in the intake, unreleased.
    assert await rows(runtime, IncidentIntake) == 1
    assert await rows(runtime, IncidentReport) == 1
    assert await rows(runtime, OutboxMessage) == queued
