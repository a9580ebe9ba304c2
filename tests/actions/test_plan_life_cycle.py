"""A plan's life cycle end to end, on SQLite and PostgreSQL: a plan nudged years after its
deadlines tells each lead once and the board chair in one summary; a closed plan is left
alone; an update after the final deadline stops the reminders; the listings end quietly
when their reader stops early."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.actions.models import ActionLead, ActionNudge
from bot.actions.service import ActionsService
from bot.config import DEFAULT_CONTENT_DIR, Settings
from bot.core.clock import LONDON
from bot.core.content import Content
from bot.db.engine import create_sessionmaker
from bot.db.models import utcnow
from bot.db.session import unit_of_work
from bot.outbox.models import OutboxMessage
from bot.outbox.queue import Outbox
from bot.privacy.core import build_privacy
from bot.privacy.roles import Role, grant_role
from tests.actions.test_actions import ADMIN, assign, count, installed, runtime_of
from tests.cards import visible_text
from tests.chat import converse
from tests.cli_runner import run_cli
from tests.connector import StandInConnector
from tests.harness import dev_settings
from tests.privacy.test_privacy_cli import env_for
from tests.service import Service, start_service, stop_service
from tests.teams import TeamsUser

pytestmark = pytest.mark.e2e

# Monday 7 December 2026, 10:00 in London: every deadline of the 2022-23 plan has passed,
# the last (March 2024) 930 working days ago; its quarterly check-ins last fell on 30 Sept.
DEC_7_2026 = datetime(2026, 12, 7, 10, 0, tzinfo=LONDON)
DEC_14_2026 = datetime(2026, 12, 14, 10, 0, tzinfo=LONDON)
ESCALATIONS = OutboxMessage.kind == "actions.escalation"


class Clock:
    """A fixed "now" for the service (what a button press is dated)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def life_settings(database_url: str) -> Settings:
    return dev_settings(
        database_url=database_url,
        outbox_poll_seconds=0.05,
        bootstrap_admins=[ADMIN.aad_object_id],
    )


@pytest.fixture
async def service(life_settings: Settings, engine: AsyncEngine) -> AsyncIterator[Service]:
    running = await start_service(life_settings, engine)
    try:
        yield running
    finally:
        await stop_service(running)


async def make_chair(sessions: async_sessionmaker[AsyncSession], chair: TeamsUser) -> None:
    async with unit_of_work(sessions) as session:
        await grant_role(
            session,
            role=Role.BOARD_CHAIR,
            person=chair.aad_object_id,
            tenant_id=None,
            granted_by="cli:test",
        )


def closed_content(tmp_path: Path) -> Path:
    """A copy of the content with the 2022-23 plan closed, as an admin would write it."""
    root = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT_DIR, root)
    plan = root / "actions" / "plans" / "2022-23.yaml"
    text = plan.read_text(encoding="utf-8")
    closed = text.replace(
        "starts: 2022-04-01\n", "starts: 2022-04-01\nstatus: closed\nclosed_on: 2025-03-31\n"
    )
    assert closed != text
    plan.write_text(closed, encoding="utf-8")
    return root


async def test_a_plan_nudged_years_late_tells_each_lead_once_and_the_chair_in_one_summary(
    service: Service, connector: StandInConnector
) -> None:
    runtime = runtime_of(service)
    [lead, chair] = await installed(service, connector, "Sam Patel", "Chris Chair")
    await assign(runtime.sessions, runtime.actions, lead, action="2022-23/4.1")
    await make_chair(runtime.sessions, chair)
    run = await runtime.actions.run_nudges(DEC_7_2026)
    assert (run.digests, run.items, run.escalations, run.past) == (1, 1, 0, 27)
    [digest] = await connector.wait_for(lead.conversation_id, 1)
    shown = visible_text(digest)
    assert "4.1 Implement Hate Crime Guidance" in shown
    assert (
        "This was due on Friday 31 March 2023. If it's done, mark it done; if not, please "
        "give an update."
    ) in shown
    assert "working days" not in shown and "Overdue" not in shown
    # The chair: one message counting the 27 actions, not 27 escalations.
    [summary] = await connector.wait_for(chair.conversation_id, 1)
    assert summary["summary"] == "EDI action plan: 27 actions past their deadline"
    said = visible_text(summary)
    assert said.startswith(
        "EDI actions past their deadline\n2022-23 plan: 27 actions passed a deadline or "
        "check-in more than 6 weeks ago without being done or updated (1.1, 1.2, "
    )
    assert "rather than a message for each action" in said
    assert await count(runtime.sessions, OutboxMessage, ESCALATIONS) == 1
    # The same day again, and a week on: nothing more to either about what is long past.
    for moment in (DEC_7_2026.replace(hour=11), DEC_14_2026):
        again = await runtime.actions.run_nudges(moment)
        assert (again.digests, again.escalations, again.past) == (0, 0, 0)
    assert await count(runtime.sessions, OutboxMessage, ESCALATIONS) == 1
    assert len(connector.replies(lead.conversation_id)) == 1
    assert len(connector.replies(chair.conversation_id)) == 1
    # "my actions" says the day too, not a count of working days.
    runtime.actions.clock = Clock(DEC_14_2026)
    mine = await converse(service, connector, lead, "my actions")
    assert "This was due on Friday 31 March 2023." in mine and "working days" not in mine


async def test_a_closed_plan_gets_no_nudges_and_the_listings_say_it_is_closed(
    service: Service,
    connector: StandInConnector,
    life_settings: Settings,
    engine: AsyncEngine,
    database_url: str,
    tmp_path: Path,
) -> None:
    runtime = runtime_of(service)
    content = closed_content(tmp_path)
    settings = life_settings.model_copy(update={"content_dir": content})
    closed = ActionsService(
        content=Content(content),
        settings=settings,
        outbox=Outbox(build_privacy(settings).cipher),
        audit=runtime.privacy.audit,
        sessions=runtime.sessions,
    )
    [lead, chair] = await installed(service, connector, "Sam Patel", "Chris Chair")
    await assign(runtime.sessions, closed, lead, team="HR")
    await make_chair(runtime.sessions, chair)
    for moment in (DEC_7_2026, datetime(2025, 3, 3, 10, tzinfo=LONDON)):
        run = await closed.run_nudges(moment)
        assert (run.skipped, run.digests, run.items, run.escalations, run.past) == (
            None,
            0,
            0,
            0,
            0,
        )
    assert await count(runtime.sessions, ActionNudge) == 0
    assert await count(runtime.sessions, OutboxMessage) == 0
    # The same people and day with the plan as it is in content today (active): nudged.
    assert (await runtime.actions.run_nudges(DEC_7_2026)).digests == 1
    env = env_for(database_url) | {"EDI_CONTENT_DIR": str(content)}
    code, out, _ = await run_cli("actions", "list", "--plan", "2022-23", env=env)
    assert code == 0 and out.startswith(
        "2022-23: Equality, Diversity and Inclusion Action Plan 2022-2023 "
        "(closed on 31 March 2025: not nudged)\n"
    )
    code, out, _ = await run_cli("actions", "progress", "--plan", "2022-23", env=env)
    assert code == 0 and "on 31 Mar 2025 (closed on 31 March 2025: not nudged)" in out
    code, out, _ = await run_cli(
        "actions", "report", "--year", "2022-23", "--out", str(tmp_path / "report"), env=env
    )
    assert code == 0, out
    report = (tmp_path / "report" / "progress-2022-23.md").read_text(encoding="utf-8")
    assert "**This plan was closed on 31 March 2025.** Its leads are no longer reminded" in report


async def test_an_update_after_the_final_deadline_stops_the_reminders_and_the_escalation(
    service: Service, connector: StandInConnector
) -> None:
    runtime = runtime_of(service)
    [updater, silent, chair] = await installed(
        service, connector, "Sam Patel", "Jo Quiet", "Chris Chair"
    )
    # 4.1 and 4.3 are both due "March 2023": Fri 31 March 2023.
    await assign(runtime.sessions, runtime.actions, updater, action="2022-23/4.1")
    await assign(runtime.sessions, runtime.actions, silent, action="2022-23/4.3")
    await make_chair(runtime.sessions, chair)
    first = await runtime.actions.run_nudges(datetime(2023, 4, 3, 10, tzinfo=LONDON))
    assert first.digests == 2
    [nudge] = await connector.wait_for(updater.conversation_id, 1)
    assert "Overdue since Fri 31 Mar 2023 (1 working days)" in visible_text(nudge)
    runtime.actions.clock = Clock(datetime(2023, 4, 5, 11, tzinfo=LONDON))
    said = await converse(
        service,
        connector,
        updater,
        {
            "command": "action progress",
            "plan": "2022-23",
            "number": "4.1",
            "slot": "s0",
            "rag_s0": "amber",
            "note_s0": "Workshops moved to May",
        },
    )
    assert said == "Saved: action 4.1 is now Amber."
    # A week on, only the lead who said nothing is reminded; then the chair hears of 4.3
    # and not of 4.1.
    week = await runtime.actions.run_nudges(datetime(2023, 4, 11, 10, tzinfo=LONDON))
    assert (week.digests, week.items) == (1, 1)
    await connector.wait_for(silent.conversation_id, 2)
    await runtime.actions.run_nudges(datetime(2023, 4, 19, 10, tzinfo=LONDON))
    # (The chair's first message, on 3 April, was the summary of the "Annually" actions.)
    [_, escalation] = await connector.wait_for(chair.conversation_id, 2)
    assert escalation["summary"] == "EDI action plan: 16 overdue actions"  # 17 less 4.1
    assert "2022-23 action 4.3:" in visible_text(escalation)
    assert "2022-23 action 4.1:" not in visible_text(escalation)
    later = await runtime.actions.run_nudges(datetime(2023, 6, 1, 10, tzinfo=LONDON))
    assert later.items == 0  # 4.3 long past (said weekly until then); 4.1 answered
    assert len(connector.replies(updater.conversation_id)) == 2  # the nudge and the reply
    mine = await converse(service, connector, updater, "my actions")
    assert "Status: Amber" in mine and "Overdue" not in mine


async def test_leads_are_listed_by_the_name_teams_showed_with_how_they_were_assigned(
    service: Service, connector: StandInConnector, database_url: str
) -> None:
    runtime = runtime_of(service)
    [lead] = await installed(service, connector, "Sam Patel")
    await assign(runtime.sessions, runtime.actions, lead, team="HR")
    await assign(runtime.sessions, runtime.actions, lead, action="2022-23/4.1")
    env = env_for(database_url)
    code, out, _ = await run_cli(
        "leads", "assign", "drew@council.example", "--action", "2022-23/4.1", env=env
    )
    assert code == 0, out
    code, out, _ = await run_cli("leads", "list", env=env)
    shown = f"Sam Patel ({lead.aad_object_id})"
    assert code == 0 and f"HR: {shown}" in out
    # Someone named by UPN who has never used the bot: as assigned, until Teams names them.
    assert f"action 2022-23/4.1: {shown}, drew@council.example" in out
    code, out, _ = await run_cli("actions", "show", "2022-23/4.1", env=env)
    assert code == 0 and f"people: {shown}, drew@council.example" in out


async def test_the_listings_end_quietly_when_their_reader_stops_early(
    database_url: str, engine: AsyncEngine, tmp_path: Path
) -> None:
    """`edi-bot actions list | head -1` and `edi-bot leads list | head -1`."""
    # Enough leads that `leads list` writes more than a pipe holds (64 KiB).
    async with unit_of_work(create_sessionmaker(engine)) as session:
        session.add_all(
            ActionLead(
                scope_kind="team",
                scope="hr",
                person=f"lead-{n:05d}@council.example",
                tenant_id=None,
                assigned_by="cli:test",
                assigned_at=utcnow(),
            )
            for n in range(3000)
        )
    for command in (["actions", "list"], ["leads", "list"]):
        first, errors, code = await asyncio.to_thread(
            read_one_line_and_close, command, env_for(database_url), tmp_path
        )
        assert first.strip(), command
        assert "Traceback" not in errors and "BrokenPipe" not in errors, (command, errors)
        assert code in (0, 141), (command, code)


def read_one_line_and_close(
    command: list[str], env: dict[str, str], cwd: Path
) -> tuple[bytes, str, int]:
    """Run `edi-bot COMMAND`, read its first line and close the pipe, as `head -1` does."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env | {"PYTHONUNBUFFERED": "1"},
        cwd=cwd,
    )
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline()
    process.stdout.close()
    errors = process.stderr.read().decode()
    return first, errors, process.wait(timeout=120)
