"""Action-plan nudges end to end, on SQLite and PostgreSQL: one digest per lead per run,
each nudge exactly once (two schedulers at once, and after a restart), snooze, escalation
to the board chair, the card's buttons with their server-side checks, "my actions", claims
confirmed by an admin, and the CLI."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.actions import repo as repo_actions
from bot.actions.models import ActionNudge, ActionUpdate
from bot.actions.repo import ACTION, TEAM
from bot.actions.service import ActionsService
from bot.app import RUNTIME_KEY
from bot.config import DEFAULT_CONTENT_DIR, Settings
from bot.core.clock import LONDON
from bot.core.content import Content
from bot.core.people import PersonKey
from bot.db import references as repo_references
from bot.db.engine import create_sessionmaker
from bot.db.session import unit_of_work
from bot.features import FEATURES
from bot.outbox.models import OutboxMessage
from bot.outbox.queue import Outbox
from bot.privacy.core import build_privacy
from bot.privacy.retention import purge, retention_rules
from bot.privacy.roles import Role, grant_role
from bot.privacy.subject_access import erase_person, export_person
from bot.runtime import Runtime
from tests.cards import cards, dicts_in, elements, inputs, visible_text
from tests.chat import Chat, converse
from tests.cli_runner import run_cli
from tests.connector import StandInConnector
from tests.harness import dev_settings
from tests.privacy.test_privacy_cli import env_for
from tests.service import Service, start_service, stop_service
from tests.teams import TeamsUser

pytestmark = pytest.mark.e2e

# Wednesday 15 March 2023, 09:30 in London (GMT): 4.1 "March 2023" is due Fri 31 March,
# 12 working days away; 5.3 "Ongoing" missed its 30 December check-in.
MAR_15 = datetime(2023, 3, 15, 9, 30, tzinfo=LONDON)
ADMIN = TeamsUser(name="Ada Admin")


@pytest.fixture
def actions_settings(database_url: str) -> Settings:
    return dev_settings(
        database_url=database_url,
        outbox_poll_seconds=0.05,
        bootstrap_admins=[ADMIN.aad_object_id],
    )


@pytest.fixture
async def service(actions_settings: Settings, engine: AsyncEngine) -> AsyncIterator[Service]:
    running = await start_service(actions_settings, engine)
    try:
        yield running
    finally:
        await stop_service(running)


def runtime_of(service: Service) -> Runtime:
    return service.runner.app[RUNTIME_KEY]


async def installed(service: Service, connector: StandInConnector, *names: str) -> list[TeamsUser]:
    people = [TeamsUser(name=name) for name in names]
    for user in people:
        status, _ = await service.post(user.installed(connector.url))
        assert status == 201
    return people


async def assign(
    sessions: async_sessionmaker[AsyncSession],
    actions: ActionsService,
    user: TeamsUser,
    **scope: str,
) -> None:
    kind, value = next(iter(scope.items()))
    scope_kind = TEAM if kind == "team" else ACTION
    async with unit_of_work(sessions) as session:
        await actions.assign(
            session,
            scope_kind=scope_kind,
            scope=value.lower() if scope_kind == TEAM else value,
            person=user.aad_object_id,
            tenant_id=user.tenant_id,
            by="cli:test",
        )


def all_submits(activity: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(title, data) of every Action.Submit anywhere on the cards, show-cards included."""
    found: list[tuple[str, dict[str, Any]]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Action.Submit":
                found.append((node["title"], node["data"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(cards(activity))
    return found


async def count(sessions: async_sessionmaker[AsyncSession], model: Any, *where: Any) -> int:
    async with sessions() as session:
        return int(
            (
                await session.execute(select(func.count()).select_from(model).where(*where))
            ).scalar_one()
        )


# ---- nudges ----------------------------------------------------------------------------------


async def test_a_lead_gets_one_digest_listing_every_due_action_and_each_nudge_once(
    service: Service, connector: StandInConnector, engine: AsyncEngine, actions_settings: Settings
) -> None:
    runtime = runtime_of(service)
    [lead, other] = await installed(service, connector, "Sam Patel", "Not A Lead")
    await assign(runtime.sessions, runtime.actions, lead, team="HR")
    run = await runtime.actions.run_nudges(MAR_15)
    assert (run.digests, run.skipped) == (1, None)
    [digest] = await connector.wait_for(lead.conversation_id, 1)
    shown = visible_text(digest)
    assert digest["summary"] == "EDI action plan: 3 of your actions need attention"
    assert "4.1 Implement Hate Crime Guidance by providing workshops" in shown
    assert "Due Fri 31 Mar 2023: 12 working days to go" in shown
    assert "5.1 Stonewall Workplace Equality Index" in shown
    assert "5.3 Race at Work Charter" in shown
    # The check-in missed on 30 December is more than six weeks past: said once, by its day.
    assert (
        "Check-in due Fri 31 Mar 2023: 12 working days to go · A check-in was due on "
        "Friday 30 December 2022: please give an update."
    ) in shown
    assert "working days ago" not in shown
    titles = [title for title, data in all_submits(digest) if data.get("number") == "4.1"]
    assert titles == [
        "Save update",
        "Mark done",
        "Not mine",
        "Snooze 7 days",
        "Snooze until the date",
    ]
    # The job fires every hour: nothing again today, nor after a restart (fresh objects).
    assert (await runtime.actions.run_nudges(MAR_15 + timedelta(hours=1))).digests == 0
    restarted = ActionsService(
        content=Content(DEFAULT_CONTENT_DIR),
        settings=actions_settings,
        outbox=Outbox(build_privacy(actions_settings).cipher),
        audit=runtime.privacy.audit,
        sessions=create_sessionmaker(engine),
    )
    assert (await restarted.run_nudges(MAR_15 + timedelta(hours=2))).digests == 0
    # A week on: the next offset (7 working days before) for 4.1 and the 5.3 check-in; the
    # check-ins long missed are not said again. Still one card.
    run = await restarted.run_nudges(datetime(2023, 3, 22, 10, 0, tzinfo=LONDON))
    assert (run.digests, run.items) == (1, 2)
    [_, second] = await connector.wait_for(lead.conversation_id, 2)
    assert "Due Fri 31 Mar 2023: 7 working days to go" in visible_text(second)
    assert "was due on" not in visible_text(second)
    assert connector.replies(other.conversation_id) == []


async def test_no_nudges_outside_working_hours_on_weekends_or_bank_holidays(
    service: Service, connector: StandInConnector
) -> None:
    runtime = runtime_of(service)
    [lead] = await installed(service, connector, "Sam Patel")
    await assign(runtime.sessions, runtime.actions, lead, action="2022-23/4.1")
    for moment in (
        datetime(2023, 3, 15, 8, 59, tzinfo=LONDON),  # before hours
        datetime(2023, 3, 15, 17, 0, tzinfo=LONDON),  # after hours
        datetime(2023, 3, 18, 10, 0, tzinfo=LONDON),  # Saturday
        datetime(2023, 4, 10, 10, 0, tzinfo=LONDON),  # Easter Monday
    ):
        assert (await runtime.actions.run_nudges(moment)).skipped is not None
    assert await count(runtime.sessions, ActionNudge) == 0


@pytest.mark.parametrize("replicas", [2, 3])
async def test_schedulers_running_at_once_send_each_nudge_once(
    engine: AsyncEngine, actions_settings: Settings, replicas: int
) -> None:
    privacy = build_privacy(actions_settings)
    services = [
        ActionsService(
            content=Content(DEFAULT_CONTENT_DIR),
            settings=actions_settings,
            outbox=Outbox(privacy.cipher),
            audit=privacy.audit,
            sessions=create_sessionmaker(engine),
        )
        for _ in range(replicas)
    ]
    sessions = create_sessionmaker(engine)
    leads = [TeamsUser(name=f"Lead {n}") for n in range(4)]
    async with unit_of_work(sessions) as session:
        for user in leads:
            await repo_references.upsert_reference(
                session,
                person=PersonKey(user.tenant_id, user.aad_object_id),
                conversation_id=user.conversation_id,
                service_url="https://smba.example/",
                reference={"conversation": {"id": user.conversation_id}},
            )
    for user, team in zip(
        leads, ("HR", "HR/BI", "Policy Team", "Anti-racism Task Group"), strict=True
    ):
        await assign(sessions, services[0], user, team=team)
    runs = await asyncio.gather(*(s.run_nudges(MAR_15) for s in services))
    assert sum(r.digests for r in runs) == 4
    assert await count(sessions, OutboxMessage, OutboxMessage.kind == "actions.nudge") == 4
    first_items = sum(r.items for r in runs)
    assert await count(sessions, ActionNudge, ActionNudge.person != "board_chair") == first_items
    again = await asyncio.gather(*(s.run_nudges(MAR_15 + timedelta(minutes=5)) for s in services))
    assert sum(r.digests for r in again) == 0


async def test_snooze_holds_nudges_until_its_date(
    service: Service, connector: StandInConnector
) -> None:
    runtime = runtime_of(service)
    [lead] = await installed(service, connector, "Sam Patel")
    await assign(runtime.sessions, runtime.actions, lead, action="2022-23/4.1")
    until = (runtime.actions.today() + timedelta(days=30)).isoformat()
    reply = await converse(
        service,
        connector,
        lead,
        {
            "command": "action snooze",
            "plan": "2022-23",
            "number": "4.1",
            "slot": "s0",
            "until_s0": until,
        },
    )
    assert reply.startswith("I won't remind you about action 4.1 until ")
    # The nudges below are in 2023: move the snooze to a date among them.
    async with unit_of_work(runtime.sessions) as session:
        person = repo_actions.person_id(PersonKey(lead.tenant_id, lead.aad_object_id))
        await repo_actions.snooze(
            session, plan="2022-23", number="4.1", person=person, until=date(2023, 3, 24)
        )
    assert (await runtime.actions.run_nudges(MAR_15)).digests == 0
    assert (await runtime.actions.run_nudges(datetime(2023, 3, 23, 10, tzinfo=LONDON))).digests == 0
    run = await runtime.actions.run_nudges(datetime(2023, 3, 24, 10, tzinfo=LONDON))
    assert (run.digests, run.items) == (1, 1)
    await connector.wait_for(lead.conversation_id, 2)
    nudge = connector.replies(lead.conversation_id)[-1]
    assert "Due Fri 31 Mar 2023: 5 working days to go" in visible_text(nudge)


async def test_overdue_actions_escalate_once_to_the_board_chair(
    service: Service, connector: StandInConnector
) -> None:
    runtime = runtime_of(service)
    [lead, chair] = await installed(service, connector, "Sam Patel", "Chris Chair")
    await assign(runtime.sessions, runtime.actions, lead, action="2022-23/4.1")
    async with unit_of_work(runtime.sessions) as session:
        await grant_role(
            session,
            role=Role.BOARD_CHAIR,
            person=chair.aad_object_id,
            tenant_id=None,
            granted_by="t",
        )
    # 31 March + 10 working days (Good Friday and Easter Monday between) = 18 April: 4.1
    # not until the 19th. The six "Annually" actions missed 30 June 2022, long ago: the
    # chair gets one summary of them, not an escalation each.
    run = await runtime.actions.run_nudges(datetime(2023, 4, 18, 10, tzinfo=LONDON))
    assert (run.digests, run.escalations, run.past) == (1, 0, 6)
    [first] = await connector.wait_for(chair.conversation_id, 1)
    assert first["summary"] == "EDI action plan: 6 actions past their deadline"
    assert visible_text(first).startswith(
        "EDI actions past their deadline\n2022-23 plan: 6 actions"
    )
    assert "without being done or updated (2.2, 2.3, 2.4, 2.5, 5.1, 5.4)." in visible_text(first)
    assert "action 4.1" not in visible_text(first)
    run = await runtime.actions.run_nudges(datetime(2023, 4, 19, 10, tzinfo=LONDON))
    # No new nudge for the lead (the weekly one went yesterday); 4.1 and the quarterly
    # check-ins missed on 31 March now go to the chair.
    assert run.digests == 0 and run.escalations == 17
    await connector.wait_for(chair.conversation_id, 2)
    escalation = connector.replies(chair.conversation_id)[-1]
    shown = visible_text(escalation)
    assert escalation["summary"] == "EDI action plan: 17 overdue actions"
    assert "2022-23 action 4.1: Implement Hate Crime Guidance" in shown
    assert "Overdue since Fri 31 Mar 2023 (11 working days)" in shown
    later = await runtime.actions.run_nudges(datetime(2023, 4, 26, 10, tzinfo=LONDON))
    assert (later.escalations, later.past, later.digests) == (0, 0, 1)  # weekly, overdue:3
    await connector.wait_for(lead.conversation_id, 2)
    # Marking it done stops everything.
    reply = await converse(
        service, connector, lead, {"command": "action done", "plan": "2022-23", "number": "4.1"}
    )
    assert reply.startswith("Action 4.1 is marked done.")
    assert (await runtime.actions.run_nudges(datetime(2023, 5, 3, 10, tzinfo=LONDON))).items == 0


# ---- the card's buttons ---------------------------------------------------------------------


async def test_buttons_update_only_your_own_actions_with_clear_answers(
    service: Service, connector: StandInConnector, caplog: pytest.LogCaptureFixture
) -> None:
    runtime = runtime_of(service)
    [lead, stranger] = await installed(service, connector, "Sam Patel", "Pat Other")
    await assign(runtime.sessions, runtime.actions, lead, team="HR")
    ids = {"plan": "2022-23", "number": "4.1"}
    note = "Workshops booked for every department; confidential detail 7731"
    caplog.set_level(logging.DEBUG, logger="bot")
    said = await converse(
        service,
        connector,
        lead,
        {"command": "action progress", "slot": "s2", "rag_s2": "amber", "note_s2": note, **ids},
    )
    assert said == "Saved: action 4.1 is now Amber."
    assert "confidential detail 7731" not in caplog.text
    said = await converse(service, connector, stranger, {"command": "action done", **ids})
    assert said.startswith("Only the lead of action 4.1 can update it.")
    assert (
        await converse(
            service,
            connector,
            lead,
            {"command": "action progress", "slot": "s0", "note_s0": "x", **ids},
        )
        == "Please choose a status (Green, Amber or Red) before saving. Nothing was saved."
    )
    too_long = await converse(
        service,
        connector,
        lead,
        {"command": "action progress", "slot": "s0", "rag_s0": "red", "note_s0": "y" * 1001, **ids},
    )
    assert too_long.startswith("That note is 1,001 characters; please keep it to 1,000")
    past = await converse(
        service,
        connector,
        lead,
        {"command": "action snooze", "slot": "s0", "until_s0": "2020-01-01", **ids},
    )
    assert past == "Wed 1 Jan 2020 has already passed; please choose a date in the future."
    assert (await converse(service, connector, lead, {"command": "action done", **ids})).startswith(
        "Action 4.1 is marked done."
    )
    again = await converse(service, connector, lead, {"command": "action done", **ids})
    assert again.startswith("Action 4.1 was already marked done on ")
    odd = await converse(
        service, connector, lead, {"command": "action done", "plan": ["x"], "number": 4.1}
    )
    assert odd.startswith("I can't find that action")
    async with runtime.sessions() as session:
        kinds = (await session.execute(select(ActionUpdate.kind, ActionUpdate.rag))).all()
    assert [tuple(k) for k in kinds] == [("progress", "amber"), ("done", None)]


async def test_not_mine_goes_to_the_admins_and_stops_that_leads_nudges(
    service: Service, connector: StandInConnector
) -> None:
    runtime = runtime_of(service)
    [lead] = await installed(service, connector, "Sam Patel")
    status, _ = await service.post(ADMIN.installed(connector.url))
    assert status == 201
    await assign(runtime.sessions, runtime.actions, lead, team="HR")
    said = await converse(
        service, connector, lead, {"command": "action not mine", "plan": "2022-23", "number": "4.1"}
    )
    assert said.startswith("Thanks. I've told the admins that action 4.1 isn't yours")
    [notice] = await connector.wait_for(ADMIN.conversation_id, 1)
    assert "Sam Patel says action 4.1 (2022-23) is not theirs" in visible_text(notice)
    assert "edi-bot leads assign --action 2022-23/4.1 USER" in visible_text(notice)
    run = await runtime.actions.run_nudges(MAR_15)
    [digest] = await connector.wait_for(lead.conversation_id, 1)
    assert run.digests == 1 and "4.1 Implement" not in visible_text(digest)


async def test_my_actions_and_a_claim_confirmed_by_an_admin(
    service: Service, connector: StandInConnector
) -> None:
    [claimant] = await installed(service, connector, "Rabinder Lee")
    status, _ = await service.post(ADMIN.installed(connector.url))
    assert status == 201
    refused = await converse(service, connector, claimant, "my actions")
    assert "action lead" in refused
    said = await converse(service, connector, claimant, "I lead action 4.4")
    assert said == (
        "Thanks. I've asked an admin to confirm that you lead action 4.4 (2022-23). "
        "I'll tell you when they have."
    )
    assert (await converse(service, connector, claimant, "i lead action 4.4")).startswith(
        "You've already asked to lead action 4.4"
    )
    [card] = await connector.wait_for(ADMIN.conversation_id, 1)
    assert "Rabinder Lee says they lead action 4.4 (2022-23)" in visible_text(card)
    [(confirm_title, confirm), (_, decline)] = all_submits(card)
    assert confirm_title == "Confirm"
    # Only an admin may decide.
    assert await converse(service, connector, claimant, confirm) == (
        "Only an admin can confirm who leads an action."
    )
    assert await converse(service, connector, ADMIN, confirm) == (
        "Confirmed: Rabinder Lee now leads action 4.4."
    )
    assert (
        await converse(service, connector, ADMIN, decline) == "That request was already confirmed."
    )
    await connector.wait_for(claimant.conversation_id, 5)
    told = connector.replies(claimant.conversation_id)[-1]
    assert visible_text(told).startswith("An admin confirmed that you lead action 4.4 (2022-23).")
    mine = await converse(service, connector, claimant, "my actions")
    assert "My EDI actions" in mine and "4.4 Implement the Anti-racist Action Plan" in mine
    assert "5.3" not in mine


# ---- the command line --------------------------------------------------------------------------


async def test_cli_validates_assigns_leads_and_drafts_the_report(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    env = env_for(database_url)
    code, out, _ = await run_cli("actions", "validate", env=env)
    assert code == 0 and "0 error(s), 5 item(s) to confirm with the policy team" in out
    assert "2020-21 2.1: to confirm: Actions 2.1-2.3 are garbled" in out
    code, out, _ = await run_cli(
        "leads", "assign", "sam@council.example", "--team", "hr/bi", env=env
    )
    assert (code, out) == (0, "sam@council.example now leads team hr/bi\n")
    code, out, _ = await run_cli(
        "leads", "assign", "sam@council.example", "--team", "HR BI team", env=env
    )
    assert code == 2 and "no lead team 'HR BI team' in the plans; did you mean:" in out
    code, out, _ = await run_cli("leads", "list", env=env)
    assert "HR/BI: sam@council.example" in out and "Anti-racism Task Group: (nobody yet)" in out
    code, out, _ = await run_cli("actions", "progress", "--plan", "2022-23", env=env)
    assert code == 0 and "No update yet 27" in out
    code, out, _ = await run_cli(
        "actions", "report", "--year", "2022-23", "--out", str(tmp_path), env=env
    )
    assert code == 0, out
    report = (tmp_path / "progress-2022-23.md").read_text()
    assert "### 4.1 Implement Hate Crime Guidance" in report
    assert (tmp_path / "progress-2022-23.html").read_text().startswith("<!DOCTYPE html>")
    code, out, _ = await run_cli("actions", "show", "2022-23/2.1", env=env)
    assert code == 0 and "people: sam@council.example" in out and "read as: quarter ends" in out


# ---- a person's data --------------------------------------------------------------------------


async def test_a_leads_data_is_exported_and_erased_and_old_nudge_records_expire(
    service: Service, connector: StandInConnector
) -> None:
    runtime = runtime_of(service)
    [lead] = await installed(service, connector, "Sam Patel")
    await assign(runtime.sessions, runtime.actions, lead, action="2022-23/4.1")
    ids = {"plan": "2022-23", "number": "4.1"}
    await runtime.actions.run_nudges(MAR_15)
    await converse(
        service,
        connector,
        lead,
        {
            "command": "action progress",
            "slot": "s0",
            "rag_s0": "green",
            "note_s0": "On track",
            **ids,
        },
    )
    async with unit_of_work(runtime.sessions) as session:
        exported = await export_person(
            session,
            runtime.privacy,
            FEATURES,
            tenant_id=lead.tenant_id,
            aad_object_id=lead.aad_object_id,
        )
    mine = exported["action_plans"]
    assert [lead_row["scope"] for lead_row in mine["leads"]] == ["2022-23/4.1"]
    assert [(u["action"], u["rag"], u["note"]) for u in mine["updates"]] == [
        ("2022-23/4.1", "green", "On track")
    ]
    assert mine["nudges_received"] == 1
    # Records older than two years go with the nightly purge.
    rules = [
        r
        for r in retention_rules(runtime.settings, runtime.privacy.audit, FEATURES)
        if r.kind == "actions"
    ]
    assert (await purge(runtime.sessions, rules, runtime.privacy.audit))["actions"] == 1
    async with unit_of_work(runtime.sessions) as session:
        counts, _ = await erase_person(
            session,
            runtime.privacy,
            FEATURES,
            tenant_id=lead.tenant_id,
            aad_object_id=lead.aad_object_id,
        )
    assert counts["action_plan_rows"] == 2  # the assignment, and the update's name removed
    async with runtime.sessions() as session:
        update = (await session.execute(select(ActionUpdate))).scalar_one()
    assert (update.author, update.author_name, update.note) == ("erased", None, "On track")


async def test_a_progress_note_typed_into_the_chat_goes_into_the_note_box(
    service: Service, connector: StandInConnector
) -> None:
    runtime = runtime_of(service)
    [lead] = await installed(service, connector, "Sam Patel")
    await assign(runtime.sessions, runtime.actions, lead, team="HR")
    chat = Chat(service, connector, lead)
    await chat.say("my actions")
    seen = await chat.say("Workshops booked for every department")
    assert "I've put what you typed in the note box" in seen
    notes = [
        element
        for reply in chat.last
        for element in elements(reply)
        if str(element.get("id", "")).startswith("note_")
    ]
    assert notes and all(n["value"] == "Workshops booked for every department" for n in notes)
    [save, *_] = [
        element["data"]
        for reply in chat.last
        for element in elements(reply)
        if element.get("type") == "Action.Submit" and element.get("title") == "Save update"
    ]
    slot = save["slot"]
    said = await chat.tap({**save, f"rag_{slot}": "amber", f"note_{slot}": notes[0]["value"]})
    assert said.startswith("Saved: action")
    # Another feature simply starts after the list: nothing is waiting to be lost.
    await chat.say("my actions")
    assert "We're in the middle of" not in await chat.say("events")


# ---- a lead's own words ---------------------------------------------------------------------


def note_boxes(chat: Chat) -> dict[str, str]:
    """The numbers of the actions on the last card whose note box holds words, and the words."""
    found: dict[str, str] = {}
    for reply in chat.last:
        for item in elements(reply):
            if item.get("type") != "Container":
                continue
            number = str(item["items"][0]["text"]).split()[0]
            for element in dicts_in(item):
                if str(element.get("id", "")).startswith("note_") and "value" in element:
                    found[number] = str(element["value"])
    return found


async def stored_updates(service: Service) -> list[tuple[str, str, str | None, str | None]]:
    async with runtime_of(service).sessions() as session:
        rows = await session.execute(
            select(ActionUpdate.number, ActionUpdate.kind, ActionUpdate.rag, ActionUpdate.note)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def test_a_note_typed_in_several_messages_is_kept_with_the_status_until_saved(
    service: Service, connector: StandInConnector, caplog: pytest.LogCaptureFixture
) -> None:
    runtime = runtime_of(service)
    [lead] = await installed(service, connector, "Sam Patel")
    await assign(runtime.sessions, runtime.actions, lead, action="2022-23/4.1")
    ids = {"plan": "2022-23", "number": "4.1"}
    caplog.set_level(logging.DEBUG, logger="bot")
    await converse(
        service,
        connector,
        lead,
        {"command": "action progress", "slot": "s0", "rag_s0": "amber", **ids},
    )
    chat = Chat(service, connector, lead)
    await chat.say("my actions")
    await chat.say("Workshops booked for every department")
    seen = await chat.say("Trainers confirmed, private ref 8812")
    assert "I've put what you typed in the note box" in seen
    typed = "Workshops booked for every department\n\nTrainers confirmed, private ref 8812"
    assert note_boxes(chat) == {"4.1": typed}
    [status] = [e for r in chat.last for e in inputs(r) if e.get("id") == "rag_s0"]
    assert status["value"] == "amber"  # as it stands, so Save update keeps it
    # "Carry on" (the shell's way back) shows the card again with the words still in it.
    await chat.tap({"command": "carry on"})
    assert note_boxes(chat) == {"4.1": typed}
    assert await stored_updates(service) == [("4.1", "progress", "amber", None)]
    [save] = [e["data"] for r in chat.last for e in elements(r) if e.get("title") == "Save update"]
    # As in Teams, the card sends what it filled its inputs with.
    assert (await chat.tap({**save, **chat.prefilled("Save update")})) == (
        "Saved: action 4.1 is now Amber."
    )
    assert (await stored_updates(service))[-1] == (
        "4.1",
        "progress",
        "amber",
        "Workshops booked for every department Trainers confirmed, private ref 8812",
    )
    assert "8812" not in caplog.text


async def test_a_note_naming_an_action_goes_in_its_box_and_others_ask_which(
    service: Service, connector: StandInConnector
) -> None:
    runtime = runtime_of(service)
    [lead] = await installed(service, connector, "Sam Patel")
    await assign(runtime.sessions, runtime.actions, lead, team="HR")
    chat = Chat(service, connector, lead)
    await chat.say("my actions")
    seen = await chat.say("5.1: the survey closed with 400 replies")
    assert "I've put what you typed in the note box of action 5.1" in seen
    assert note_boxes(chat) == {"5.1": "5.1: the survey closed with 400 replies"}
    # Words naming no action go in every open action's box, and the card asks which.
    await chat.say("cancel")
    await chat.say("my actions")
    seen = await chat.say("Budget agreed")
    assert "I've put what you typed in the note boxes. Press **Save update** on the" in seen
    boxes = note_boxes(chat)
    assert len(boxes) > 1 and set(boxes.values()) == {"Budget agreed"}
    assert await stored_updates(service) == []


async def test_a_buttons_title_typed_acts_on_the_one_open_action_or_asks_which(
    service: Service, connector: StandInConnector
) -> None:
    runtime = runtime_of(service)
    [lead, team_lead] = await installed(service, connector, "Sam Patel", "Jo Team")
    await assign(runtime.sessions, runtime.actions, lead, action="2022-23/4.1")
    await assign(runtime.sessions, runtime.actions, team_lead, team="HR")
    chat = Chat(service, connector, lead)
    await chat.say("my actions")
    await chat.say("Guidance drafted")
    # No status yet: Save update typed points at the card, the note still in its box.
    seen = await chat.say("Save update")
    assert "Fill in the action below, then press **Save update** on it." in seen
    assert note_boxes(chat) == {"4.1": "Guidance drafted"}
    assert await stored_updates(service) == []
    ids = {"plan": "2022-23", "number": "4.1"}
    await chat.tap({"command": "action progress", "slot": "s0", "rag_s0": "amber", **ids})
    await chat.say("my actions")
    await chat.say("Guidance published")
    assert (await chat.say("save update")) == "Saved: action 4.1 is now Amber."
    await chat.say("my actions")
    assert (await chat.say("Mark done")).startswith("Action 4.1 is marked done.")
    assert await stored_updates(service) == [
        ("4.1", "progress", "amber", None),
        ("4.1", "progress", "amber", "Guidance published"),
        ("4.1", "done", None, None),
    ]
    # Several open: the card again, saying where to press; nothing is done.
    team = Chat(service, connector, team_lead)
    await team.say("my actions")
    await team.say("Quarterly figures sent to the board")
    for title in ("Snooze 7 days", "Save update"):
        seen = await team.say(title.lower())
        assert f"Which action do you mean? Press **{title}** on it below." in seen
        assert set(note_boxes(team).values()) == {"Quarterly figures sent to the board"}
    assert len(await stored_updates(service)) == 3
    # Once the typed words name an action, the title typed is done to that one.
    await team.say("This is about 5.1")
    said = await team.say("Snooze 7 days")
    assert said.startswith("I won't remind you about action 5.1 until ")
    assert said.endswith(
        "The note you typed is not saved. It is still in the box above: press "
        "**Save update** to save it."
    )


async def test_words_carried_to_my_actions_go_in_the_boxes_but_a_request_does_not(
    service: Service, connector: StandInConnector
) -> None:
    runtime = runtime_of(service)
    [lead] = await installed(service, connector, "Sam Patel")
    await assign(runtime.sessions, runtime.actions, lead, action="2022-23/4.1")
    chat = Chat(service, connector, lead)
    await chat.tap({"command": "my actions", "said": "Guidance published on the intranet"})
    assert note_boxes(chat) == {"4.1": "Guidance published on the intranet"}
    # The menu's own example typed while the card is out asks for the list again: not a
    # note, and the words typed before are still in the box.
    await chat.say("my deadlines")
    assert note_boxes(chat) == {"4.1": "Guidance published on the intranet"}
    await chat.say("cancel")
    await chat.say("my deadlines")  # and, starting the list, is only a request for it
    assert "My EDI actions" in chat.seen(chat.last) and note_boxes(chat) == {}
