"""Hate-incident reporting end to end: real HTTP in, replies at the stand-in connector,
proactive messages through the outbox, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import logging
import random
import statistics
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, inspect, select, text, update

from bot.app import RUNTIME_KEY
from bot.channel.transport import build_worker
from bot.config import Settings
from bot.core.logs import configure_logging
from bot.db.models import AuditEntry, BotStateDocument
from bot.db.session import unit_of_work
from bot.db.state import state_context
from bot.features import FEATURES
from bot.incidents.models import IncidentMessage, IncidentReport
from bot.incidents.records import NOT_FOUND
from bot.privacy.crypto import Sealed
from bot.privacy.retention import purge, retention_rules
from bot.privacy.roles import Role, grant_role
from bot.runtime import Runtime
from scheduler.jobs import incident_sweep
from tests.cards import cards, inputs, visible_text
from tests.chat import Chat
from tests.cli_runner import run_cli
from tests.connector import StandInConnector
from tests.harness import dev_settings
from tests.privacy.test_privacy_cli import env_for
from tests.service import Service
from tests.teams import TeamsUser

pytestmark = pytest.mark.e2e

NARRATIVE = "A visitor at County Hall shouted abuse about my headscarf at reception."


@pytest.fixture
def settings(database_url: str) -> Settings:
    # The outbox is drained explicitly below, so each test decides when messages go.
    return dev_settings(database_url=database_url, outbox_worker=False)


def runtime_of(service: Service) -> Runtime:
    runtime: Runtime = service.runner.app[RUNTIME_KEY]
    return runtime


async def deliver(service: Service, settings: Settings) -> None:
    """Run the outbox until it is empty, as the worker in `edi-bot serve` would."""
    runtime = runtime_of(service)
    await build_worker(settings, runtime.outbox, runtime.sessions).drain()


async def sweep(service: Service, today: date) -> dict[str, int]:
    """The scheduled sweep, with the anonymous intake released whatever its size: alerts
    for released reports, reminders, escalations."""
    runtime = runtime_of(service)
    async with unit_of_work(runtime.sessions) as session:
        await runtime.incidents.release(session, today=today, force=True)
    async with unit_of_work(runtime.sessions) as session:
        return await runtime.incidents.sweep(session, today=today)


async def make_handler(service: Service, connector: StandInConnector, name: str) -> Chat:
    chat = Chat(service, connector, TeamsUser(name=name))
    await chat.install()
    runtime = runtime_of(service)
    async with unit_of_work(runtime.sessions) as session:
        await grant_role(
            session,
            role=Role.CASE_HANDLER,
            person=chat.user.aad_object_id,
            tenant_id=chat.user.tenant_id,
            granted_by="test",
        )
    return chat


async def walk_to_review(
    chat: Chat,
    mode_title: str,
    *,
    who: str = "It happened to me",
    narrative: str = NARRATIVE,
    impact: str = "I felt unsafe at work.",
) -> str:
    """Report up to the review card: safety, mode, who, story, details, consent."""
    seen = await chat.say("report")
    assert "are you, or is anyone else, in danger right now?" in seen
    seen = await chat.press("No, nobody is in danger now")
    assert "How would you like to report?" in seen
    seen = await chat.press(mode_title)
    assert "Who did this happen to?" in seen
    seen = await chat.press(who)
    assert "In your own words, what happened?" in seen
    seen = await chat.press("Next", narrative=narrative)
    assert "A few more details" in seen
    seen = await chat.press(
        "Next",
        motivations="religion,race",
        kinds="verbal",
        location="workplace",
        perpetrator="public",
        frequency="once",
        occurred_on=(date.today() - timedelta(days=2)).isoformat(),
        possible_crime="unsure",
        impact=impact,
    )
    assert "Support and what happens next" in seen
    seen = await chat.press("Next", consent_monitoring="true", consent_police="false")
    assert "Check your report" in seen
    return seen


def receipt_value(seen: str, label: str) -> str:
    for line in seen.splitlines():
        if line.startswith(f"{label}: "):
            return line.split(": ", 1)[1]
    raise AssertionError(f"no {label} in {seen}")


async def count(service: Service, table: type) -> int:
    runtime = runtime_of(service)
    async with runtime.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(table))).scalar() or 0)


# ---- the reporter's paths ---------------------------------------------------------------------


async def test_danger_first_gives_emergency_numbers_and_stores_nothing(
    service: Service, connector: StandInConnector
) -> None:
    chat = Chat(service, connector)
    await chat.say("report")
    seen = await chat.press("Yes, someone is in danger")
    assert "**999**" in seen and "**101**" in seen and "0800 138 1625" in seen
    assert "Nothing has been recorded" in seen
    assert await count(service, IncidentReport) == 0
    # The conversation is over: the next message is not taken as an answer.
    assert "Report a hate incident" in await chat.say("menu")
    seen = await chat.say("report")
    assert "in danger right now" in seen and "carry on" not in seen.lower()


async def test_an_anonymous_report_leaves_no_trace_of_the_reporter(
    service: Service, connector: StandInConnector, settings: Settings
) -> None:
    handler = await make_handler(service, connector, "Casey Handler")
    chat = Chat(service, connector, TeamsUser(name="Rosa Reporter"))
    await chat.install()
    await chat.say("hi")
    runtime = runtime_of(service)
    before = await snapshot(runtime)

    stream = io.StringIO()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    configure_logging("DEBUG", "json", stream=stream)
    try:
        seen = await walk_to_review(chat, "Anonymously")
        assert NARRATIVE in seen
        assert "Religion or belief; Race or ethnicity" in seen
        seen = await chat.press("Submit my report")
        reference = receipt_value(seen, "Your reference")
        passphrase = receipt_value(seen, "Your passphrase")
        assert "This is the only time the passphrase is shown" in seen
        assert "Stop Hate UK" in seen and "Victim First" in seen  # "not sure" if a crime
        assert "Black, Asian and Minority Ethnic Network" in seen
        # Handlers hear of it at the next sweep, not at the moment it was sent.
        await deliver(service, settings)
        assert connector.replies(handler.user.conversation_id) == []
        assert (await sweep(service, date.today()))["alerts"] == 1
        await deliver(service, settings)
        [alert] = connector.replies(handler.user.conversation_id)
        assert f"New hate incident report {reference}" in visible_text(alert)
        assert NARRATIVE not in json.dumps(alert)
    finally:
        root.handlers[:], root.level = saved[0], saved[1]

    after = await snapshot(runtime)
    identifiers = [
        chat.user.aad_object_id,
        chat.user.user_id,
        chat.user.conversation_id,
        chat.user.name,
        chat.user.aad_object_id.replace("-", ""),
    ]
    # Every row the report added or changed is free of the reporter's identifiers...
    changed = [row for table, rows in after.items() for row in rows - before.get(table, set())]
    assert changed, "the report should have stored something"
    for row in changed:
        for identifier in identifiers:
            assert identifier.lower() not in row.lower(), row
    # ...except the conversation's own state row, which is keyed by the conversation; what
    # it holds after submission says nothing about the report.
    async with runtime.sessions() as session:
        for state in (await session.execute(select(BotStateDocument))).scalars():
            document = runtime.privacy.cipher.open(
                Sealed(state.key_id or "", state.document), context=state_context(state.key)
            )
            for secret in (reference, passphrase, NARRATIVE, 'IncidentDraft": {'):
                assert secret not in document
        report = (await session.execute(select(IncidentReport))).scalar_one()
        assert report.reporter is None and report.reporter_pseudonym is None
        assert report.mode == "anonymous"
        audit_actions = (await session.execute(select(AuditEntry.action))).scalars().all()
        assert "incident.submitted" not in audit_actions
    logs = stream.getvalue()
    assert logs, "logging was captured"
    for secret in [*identifiers, reference, passphrase, NARRATIVE]:
        assert secret not in logs


async def snapshot(runtime: Runtime) -> dict[str, set[str]]:
    """Every row of every table except the conversation state, as text."""

    def read(connection: Any) -> dict[str, set[str]]:
        tables = {}
        for name in inspect(connection).get_table_names():
            if name in ("bot_state", "alembic_version"):
                continue
            rows = connection.execute(text(f'SELECT * FROM "{name}"')).mappings().all()
            tables[name] = {json.dumps(dict(row), default=str, sort_keys=True) for row in rows}
        return tables

    async with runtime.engine.connect() as connection:
        return await connection.run_sync(read)


async def test_a_confidential_report_runs_its_whole_case(
    service: Service, connector: StandInConnector, settings: Settings
) -> None:
    handler = await make_handler(service, connector, "Casey Handler")
    chat = Chat(service, connector, TeamsUser(name="Rosa Reporter"))
    await chat.install()
    await walk_to_review(chat, "Confidentially")
    seen = await chat.press("Submit my report")
    reference = receipt_value(seen, "Your reference")
    assert "Your passphrase" not in seen
    assert "you'll hear back here in Teams" in seen

    # The handler is told at once, with categories and no narrative.
    await deliver(service, settings)
    [alert] = connector.replies(handler.user.conversation_id)
    assert "Religion or belief" in visible_text(alert)
    assert NARRATIVE not in json.dumps(alert)

    # The handler opens it from the notification's button.
    handler.last = [alert]
    seen = await handler.press(f"Open {reference}")
    assert NARRATIVE in seen and "Rosa Reporter" in seen
    assert "Consents to: monitoring project" in seen
    seen = await handler.press("Acknowledge")
    assert "Acknowledged. The reporter has been told." in seen
    seen = await handler.press("Triage")
    seen = await handler.press("Save", risk="medium", classification="incident")
    assert "Triage recorded." in seen and "Risk: Medium" in seen
    seen = await handler.press("Message the reporter")
    seen = await handler.press("Save", body="Thank you for telling us. Can we talk on Monday?")
    assert "Message saved. The reporter has been told." in seen

    await deliver(service, settings)
    updates = "\n".join(visible_text(r) for r in connector.replies(chat.user.conversation_id))
    assert f"There's an update on your report {reference}: Acknowledged" in updates
    assert f"You have a new message about your report {reference}" in updates

    # The reporter reads the reply and answers, without a passphrase (it's theirs).
    await chat.say("check report")
    seen = await chat.say(reference)
    assert "Status: Being looked into" in seen
    assert "Can we talk on Monday?" in seen
    seen = await chat.press("Add to my report", note="Yes, Monday morning is fine.")
    assert f"I've added that to report {reference}" in seen
    await deliver(service, settings)
    assert "New information on report" in visible_text(
        connector.replies(handler.user.conversation_id)[-1]
    )

    # A referral the reporter did not agree to is not offered, and a forged one is refused.
    seen = await handler.say(reference)
    seen = await handler.press("Close the case")
    offered = json.dumps(cards(handler.last[-1]))
    assert "referred_police" not in offered and "referred_monitoring" in offered
    seen = await handler.press("Save", outcome="referred_police", note="")
    assert "did not agree to that referral" in seen
    seen = await handler.press("Save", outcome="resolved", note="We met and agreed next steps.")
    assert f"Case {reference} is closed." in seen
    await deliver(service, settings)
    assert f"{reference}: Closed" in visible_text(connector.replies(chat.user.conversation_id)[-1])

    runtime = runtime_of(service)
    async with runtime.sessions() as session:
        actions = (
            (
                await session.execute(
                    select(AuditEntry.action).where(AuditEntry.object_id == reference)
                )
            )
            .scalars()
            .all()
        )
    assert {"incident.submitted", "incident.viewed", "incident.acknowledged"} <= set(actions)
    assert {"incident.triaged", "incident.messaged", "incident.closed"} <= set(actions)
    # Everything free-text is sealed at rest.
    async with runtime.engine.connect() as connection:
        raw = json.dumps(
            [list(r) for r in (await connection.execute(text("SELECT * FROM incident_reports")))],
            default=str,
        ) + json.dumps(
            [list(r) for r in (await connection.execute(text("SELECT * FROM incident_messages")))],
            default=str,
        )
    for plain in (NARRATIVE, "Rosa Reporter", "Monday morning", chat.user.aad_object_id):
        assert plain not in raw


async def test_a_named_report_cannot_be_read_by_someone_else(
    service: Service, connector: StandInConnector
) -> None:
    chat = Chat(service, connector)
    await walk_to_review(chat, "With my name", who="I saw it happen")
    reference = receipt_value(await chat.press("Submit my report"), "Your reference")
    other = Chat(service, connector, TeamsUser(name="Nosy Colleague"))
    await other.say("check report")
    seen = await other.say(reference)
    assert "couldn't find a report with that reference that you can see" in seen
    assert NARRATIVE not in seen


async def test_cancel_deletes_the_draft_and_menu_keeps_it(
    service: Service, connector: StandInConnector
) -> None:
    chat = Chat(service, connector)
    await chat.say("report")
    await chat.press("No, nobody is in danger now")
    await chat.press("Confidentially")
    # Stepping aside keeps the draft; "continue my report" picks it up where it was.
    assert "Hello, I'm the EDI bot" in await chat.say("menu")
    seen = await chat.say("continue my report")
    assert "Picking up where you left off." in seen and "Who did this happen to?" in seen
    await chat.press("I saw it happen")
    # "report" offers the choice.
    await chat.say("menu")
    seen = await chat.say("report")
    assert "Would you like to carry on with it?" in seen
    seen = await chat.press("Carry on")
    assert "In your own words, what happened?" in seen
    # Cancel throws it away.
    seen = await chat.say("cancel")
    assert "Your draft has been deleted. Nothing was sent." in seen
    seen = await chat.say("report")
    assert "in danger right now" in seen and "carry on" not in seen.lower()
    assert await count(service, IncidentReport) == 0


async def test_anonymous_follow_up_needs_the_passphrase_before_and_after_release(
    service: Service, connector: StandInConnector, settings: Settings
) -> None:
    handler = await make_handler(service, connector, "Casey Handler")
    chat = Chat(service, connector)
    await walk_to_review(chat, "Anonymously", who="I'm reporting for someone else")
    seen = await chat.press("Submit my report")
    reference = receipt_value(seen, "Your reference")
    passphrase = receipt_value(seen, "Your passphrase")
    assert "reaches the case team in a batch with others, within a day" in seen

    # Without the passphrase, or with a wrong one: not found (nothing is revealed).
    seen = await chat.say("check report")
    [passphrase_box] = [i for r in chat.last for i in inputs(r) if i["id"] == "passphrase"]
    assert passphrase_box["style"] == "Password"
    seen = await chat.press("Check", reference=reference.lower().replace("-", " "), passphrase="")
    assert "couldn't find a report" in seen
    seen = await chat.press("Check", reference=reference, passphrase="wrong-words-here-at-all-11")
    assert "couldn't find a report" in seen
    # Still in the intake: the reporter sees it, and can add to it, before the case team.
    seen = await chat.say("check report")
    seen = await chat.say(f"{reference} {passphrase.upper().replace('-', ' ')}")
    assert f"Report {reference}" in seen and "reaches the case team within a day" in seen
    send = chat.button("Add to my report")
    seen = await chat.press("Add to my report", note="It happened again today.")
    assert f"I've added that to report {reference}" in seen and "within a day" in seen
    assert await count(service, IncidentReport) == 0
    assert await count(service, IncidentMessage) == 0
    # What they added shows when they look again, though it is not released yet.
    await chat.say("check report")
    seen = await chat.say(f"{reference} {passphrase}")
    assert "It happened again today." in seen
    # The card cannot be replayed once its token has expired or been forged.
    forged = {**send, "token": f"{reference}|99999999999|0000"}
    assert "that card has expired" in await chat.tap({**forged, "note": "x"})

    # Released: the case team is told of the report, and the note is on the case.
    assert (await sweep(service, date.today()))["alerts"] == 1
    await deliver(service, settings)
    assert any(
        f"New hate incident report {reference}" in visible_text(reply)
        for reply in connector.replies(handler.user.conversation_id)
    )
    assert await count(service, IncidentReport) == 1
    assert await count(service, IncidentMessage) == 1
    await chat.say("check report")
    seen = await chat.say(f"{reference} {passphrase}")
    assert "Received, waiting to be acknowledged" in seen and "It happened again today." in seen
    await chat.press("Add to my report", note="One more thing.")
    assert await count(service, IncidentMessage) == 1  # held until the next release
    await sweep(service, date.today())
    assert await count(service, IncidentMessage) == 2
    await handler.say("cases")
    shown = await handler.press(f"Open {reference}")
    assert shown.index("It happened again today.") < shown.index("One more thing.")


async def test_checking_a_report_gives_nothing_away_and_locks_nobody_out(
    service: Service, connector: StandInConnector
) -> None:
    reporter = Chat(service, connector, TeamsUser(name="Rosa Reporter"))
    await walk_to_review(reporter, "Anonymously")
    seen = await reporter.press("Submit my report")
    reference = receipt_value(seen, "Your reference")
    passphrase = receipt_value(seen, "Your passphrase")
    await sweep(service, date.today())
    confidential = Chat(service, connector, TeamsUser(name="Cara Confidential"))
    await walk_to_review(confidential, "Confidentially")
    theirs = receipt_value(await confidential.press("Submit my report"), "Your reference")

    # A stranger: a made-up reference, someone else's confidential report and a wrong
    # passphrase on a real anonymous one all get the very same answer.
    stranger = Chat(service, connector, TeamsUser(name="Sam Stranger"))
    answers = set()
    for tried in (
        f"{'ABCD-EFGH' if reference != 'ABCD-EFGH' else 'ABCD-EFGJ'} otter-plum-1",
        f"{theirs} otter-plum-1",
        f"{reference} otter-plum-1",
    ):
        await stranger.say("cancel")  # each a fresh start, as a prober would
        await stranger.say("check report")
        answers.add(await stranger.say(tried))
    assert len(answers) == 1 and "couldn't find a report" in answers.pop()
    # Past the limit, the stranger is paused whatever they try...
    for _ in range(2):
        await stranger.say("check report")
        await stranger.say(f"{reference} wrong-guess-again-22")
    await stranger.say("check report")
    seen = await stranger.say(f"{reference} {passphrase}")
    assert "checking reports is paused for you for up to 30 minutes" in seen
    await stranger.say("check report")
    assert "paused for you" in await stranger.say("WXYZ-2345 otter-plum-1")
    # ...and the real reporters are not: each still opens their own report.
    await reporter.say("check report")
    assert f"Report {reference}" in await reporter.say(f"{reference} {passphrase}")
    await confidential.say("check report")
    assert f"Report {theirs}" in await confidential.say(theirs)

    # Nothing about the tries is kept beside the report, nor anything that names it.
    runtime = runtime_of(service)
    async with runtime.sessions() as session:
        report = await runtime.incidents.by_reference(session, reference)
        assert report is not None and report.version == 1
        rows = (await session.execute(text("SELECT * FROM incident_check_attempts"))).all()
    assert len(rows) == 1  # the stranger's, under a pseudonym that appears nowhere else
    for row in rows:
        for value in map(str, row):
            assert reference not in value and theirs not in value
            assert stranger.user.aad_object_id not in value


async def test_an_unknown_reference_and_a_wrong_passphrase_take_the_same_time(
    service: Service,
) -> None:
    runtime = runtime_of(service)
    incidents = runtime.incidents
    async with unit_of_work(runtime.sessions) as session:
        draft = {"mode": "anonymous", "relationship": "victim", "narrative": NARRATIVE}
        submitted = await incidents.submit(session, draft, reporter=None, today=date.today())
        await incidents.release(session, today=date.today(), force=True)

    async def one(reference: str, sender: str) -> float:
        async with unit_of_work(runtime.sessions) as session:
            started = time.perf_counter()
            found = await incidents.find_for_reporter(
                session, reference, person=None, sender=sender, passphrase="otter-plum-10"
            )
            elapsed = time.perf_counter() - started
        assert found == NOT_FOUND
        return elapsed

    real, unknown = [], []
    for attempt in range(10):  # interleaved, each from a fresh sender (no pause)
        real.append(await one(submitted.reference, f"probe-real-{attempt}"))
        unknown.append(await one("WXYZ-2345", f"probe-unknown-{attempt}"))
    # A busy machine only ever adds time, so each series' quickest answers are its true cost
    # (the mean of the three quickest, so one lucky sample decides nothing).
    real_cost = statistics.mean(sorted(real)[:3])
    unknown_cost = statistics.mean(sorted(unknown)[:3])
    slow, fast = max(real_cost, unknown_cost), min(real_cost, unknown_cost)
    # Both pay for one passphrase hash (tens of milliseconds); before, an unknown
    # reference answered at once and a real one ~90 ms later.
    assert fast > 0.01
    assert slow / fast < 1.5, (real, unknown)


# ---- bad input ------------------------------------------------------------------------------


async def test_bad_answers_get_clear_messages_and_lose_nothing(
    service: Service, connector: StandInConnector
) -> None:
    chat = Chat(service, connector)
    await chat.say("report")
    await chat.press("No, nobody is in danger now")
    stale = chat.button("Confidentially")
    await chat.press("Confidentially")
    # An old card's button: told, and the current question is asked again.
    seen = await chat.tap(stale)
    assert "That button is from an earlier question" in seen and "Who did this happen to?" in seen
    await chat.press("It happened to me")
    seen = await chat.press("Next", narrative="   ")
    assert "I didn't catch anything there" in seen
    seen = await chat.say("x" * 6001)
    assert "That's 6,001 characters; the limit is 6,000" in seen
    seen = await chat.say(NARRATIVE)
    assert "A few more details" in seen
    future = (date.today() + timedelta(days=3)).isoformat()
    seen = await chat.press("Next", occurred_on=future)
    assert "The date can't be in the future" in seen
    seen = await chat.press("Next", occurred_on="31/02/2026")
    assert "I couldn't read that date" in seen
    seen = await chat.press("Next", motivations="race,martian")
    assert "isn't on the current list" in seen
    skip = chat.button("Skip all of these")
    seen = await chat.say("I'd rather type")
    assert "Please use the card above" in seen
    seen = await chat.tap(skip)
    assert "Support and what happens next" in seen
    seen = await chat.press("Next")
    assert "Check your report" in seen and NARRATIVE in seen
    submit = chat.button("Submit my report")
    seen = await chat.tap(submit)
    assert "Your reference" in seen
    # Pressing Submit again: the card is out of date, and there is still one report.
    seen = await chat.tap(submit)
    assert "That button belongs to a conversation that has already finished" in seen
    assert await count(service, IncidentReport) == 1


async def test_people_without_the_role_cannot_handle_cases(
    service: Service, connector: StandInConnector
) -> None:
    chat = Chat(service, connector)
    await walk_to_review(chat, "Confidentially")
    reference = receipt_value(await chat.press("Submit my report"), "Your reference")
    seen = await chat.say("cases")
    assert "case handler" in seen.lower() and reference not in seen
    seen = await chat.tap({"command": "cases", "open": reference})
    assert NARRATIVE not in seen and "case handler" in seen.lower()
    runtime = runtime_of(service)
    async with runtime.sessions() as session:
        refused = (
            await session.execute(select(func.count()).where(AuditEntry.action == "access.refused"))
        ).scalar()
    assert refused == 2


# ---- deadlines ----------------------------------------------------------------------------


async def test_deadline_reminders_then_escalation_to_every_handler(
    service: Service, connector: StandInConnector, settings: Settings
) -> None:
    first = await make_handler(service, connector, "Casey Handler")
    second = await make_handler(service, connector, "Drew Handler")
    chat = Chat(service, connector)
    await walk_to_review(chat, "Confidentially")
    reference = receipt_value(await chat.press("Submit my report"), "Your reference")
    first.last = []
    await first.say("cases")
    await first.say(reference)
    await first.press("Assign to me")
    await deliver(service, settings)
    connector.forget()

    runtime = runtime_of(service)
    async with unit_of_work(runtime.sessions) as session:
        report = (await session.execute(select(IncidentReport))).scalar_one()
        due = report.acknowledge_by
    # Two days before: a reminder to the assigned handler only.
    counts = await sweep(service, due - timedelta(days=2))
    assert counts["reminders"] == 1 and counts["escalations"] == 0
    await deliver(service, settings)
    assert f"report {reference} must be acknowledged by" in visible_text(
        connector.replies(first.user.conversation_id)[-1]
    )
    assert connector.replies(second.user.conversation_id) == []
    # Again the same day: nothing new.
    assert (await sweep(service, due - timedelta(days=1)))["reminders"] == 0
    # Missed: every handler is told, once.
    counts = await sweep(service, due + timedelta(days=1))
    assert counts["escalations"] == 1
    await deliver(service, settings)
    for handler in (first, second):
        assert "was due to be acknowledged" in visible_text(
            connector.replies(handler.user.conversation_id)[-1]
        )
    assert (await sweep(service, due + timedelta(days=2)))["escalations"] == 0
    # Acknowledging stops the acknowledgement reminders; feedback has its own.
    async with unit_of_work(runtime.sessions) as session:
        await session.execute(
            update(IncidentReport).values(acknowledged_on=due, status="acknowledged")
        )
    counts = await sweep(service, report.feedback_by - timedelta(days=14))
    assert counts == {"alerts": 0, "reminders": 1, "escalations": 0}


async def test_a_handler_assigns_a_case_to_a_colleague_who_is_told(
    service: Service, connector: StandInConnector, settings: Settings
) -> None:
    first = await make_handler(service, connector, "Casey Handler")
    second = await make_handler(service, connector, "Drew Handler")
    chat = Chat(service, connector)
    await walk_to_review(chat, "Confidentially")
    reference = receipt_value(await chat.press("Submit my report"), "Your reference")
    await deliver(service, settings)
    connector.forget()
    first.last = []
    await first.say("cases")
    await first.say(reference)
    seen = await first.press("Assign to a colleague")
    offered = [c["title"] for c in find_choices(first)]
    assert offered == ["Casey Handler", "Drew Handler"]  # every case handler, by name
    seen = await first.press("Save", handler=f"teams:{chat.user.tenant_id}/not-a-handler")
    assert "isn't a case handler" in seen
    drew = f"teams:{second.user.tenant_id}/{second.user.aad_object_id}"
    seen = await first.press("Save", handler=drew)
    assert f"Drew Handler is now the handler for {reference}" in seen
    assert "Handler: Drew Handler" in seen and "assigned by Casey Handler (to Drew Handler)" in seen

    # Drew is told in Teams, with the reference only, and opens the case from the card.
    said_to_casey = len(connector.replies(first.user.conversation_id))
    await deliver(service, settings)
    [told] = connector.replies(second.user.conversation_id)
    assert f"Casey Handler has assigned report {reference} to you" in visible_text(told)
    assert NARRATIVE not in json.dumps(told)
    assert len(connector.replies(first.user.conversation_id)) == said_to_casey
    second.last = [told]
    assert NARRATIVE in await second.press(f"Open {reference}")
    # Later reminders go to Drew, the assigned handler.
    runtime = runtime_of(service)
    async with runtime.sessions() as session:
        report = (await session.execute(select(IncidentReport))).scalar_one()
    assert report.assigned_name == "Drew Handler"


def find_choices(chat: Chat) -> list[dict[str, Any]]:
    """The options of the ChoiceSet on the last card the person saw."""
    for card in cards(chat.last[-1]):
        for element in card.get("body", []):
            if element.get("type") == "Input.ChoiceSet":
                return list(element["choices"])
    raise AssertionError("no choices on the card")


# ---- the command line ----------------------------------------------------------------------


async def test_cases_on_the_command_line_are_audited(
    service: Service, connector: StandInConnector, database_url: str, tmp_path: Path
) -> None:
    chat = Chat(service, connector, TeamsUser(name="Rosa Reporter"))
    await walk_to_review(chat, "Confidentially")
    reference = receipt_value(await chat.press("Submit my report"), "Your reference")
    env = env_for(database_url)

    code, out, _ = await run_cli("cases", "list", env=env)
    assert code == 0
    assert reference in out and "Religion or belief" in out and "1 case(s)." in out
    code, out, _ = await run_cli("cases", "show", reference.lower(), env=env)
    assert code == 0
    shown = json.loads(out)
    assert shown["what_happened"] == NARRATIVE
    assert shown["reporter"]["name"] == "Rosa Reporter"
    assert (await run_cli("cases", "show", "ZZZZ-ZZZZ", env=env))[:2] == (
        1,
        "edi-bot: there is no case ZZZZ-ZZZZ\n",
    )
    assert (await run_cli("cases", "show", "nonsense", env=env))[0] == 2

    out_file = tmp_path / "cases.json"
    code, out, _ = await run_cli("cases", "export", "--out", str(out_file), env=env)
    assert code == 0 and "1 of 1 cases read" in out
    assert oct(out_file.stat().st_mode & 0o777) == "0o600"
    assert json.loads(out_file.read_text())["cases"][0]["reference"] == reference
    code, out, _ = await run_cli("cases", "export", "--out", str(out_file), env=env)
    assert code == 2 and "exists" in out

    runtime = runtime_of(service)
    async with runtime.sessions() as session:
        rows = (
            await session.execute(
                select(AuditEntry.action, AuditEntry.actor).where(
                    AuditEntry.action.in_(
                        ["incident.listed", "incident.viewed", "incident.exported"]
                    )
                )
            )
        ).all()
    assert sorted(action for action, _ in rows) == [
        "incident.exported",
        "incident.listed",
        "incident.viewed",
    ]
    assert all(who.startswith("cli:") for _, who in rows)


async def test_waiting_anonymous_reports_are_released_from_the_command_line(
    service: Service, connector: StandInConnector, database_url: str
) -> None:
    chat = Chat(service, connector)
    await walk_to_review(chat, "Anonymously")
    reference = receipt_value(await chat.press("Submit my report"), "Your reference")
    env = env_for(database_url)

    code, waiting, _ = await run_cli("cases", "release", env=env)
    assert code == 0 and "Nothing was due for release." in waiting and "--now" in waiting
    assert "No open cases." in (await run_cli("cases", "list", env=env))[1]
    code, out, _ = await run_cli("cases", "release", "--now", env=env)
    assert code == 0 and "Released 1 anonymous report(s) and 0 message(s)" in out
    assert reference in (await run_cli("cases", "list", env=env))[1]
    # Whether anything waits is not said: run before and after a report, it reads the same.
    assert (await run_cli("cases", "release", env=env))[1] == waiting
    runtime = runtime_of(service)
    async with runtime.sessions() as session:
        [detail] = (
            await session.execute(
                select(AuditEntry.detail).where(AuditEntry.action == "incident.intake_released")
            )
        ).scalars()
    assert reference not in json.dumps(detail)


async def test_closed_cases_are_purged_six_years_after_closure(
    service: Service, connector: StandInConnector, settings: Settings
) -> None:
    chat = Chat(service, connector)
    for _ in range(2):
        await walk_to_review(chat, "Anonymously")
        await chat.press("Submit my report")
    runtime = runtime_of(service)
    today = date.today()
    await sweep(service, today)  # released into the case list
    async with unit_of_work(runtime.sessions) as session:
        first, second = (await session.execute(select(IncidentReport))).scalars().all()
        await runtime.incidents.add_message(
            session, first, author="handler", body="Closing note", on=today
        )
        first.status, first.closed_on = "closed", today - timedelta(days=365 * 6 + 10)
        second.status, second.closed_on = "closed", today - timedelta(days=365 * 5)
        kept = second.reference
    rules = retention_rules(settings, runtime.privacy.audit, FEATURES)
    counts = await purge(runtime.sessions, rules, runtime.privacy.audit)
    assert counts["incidents"] == 1
    async with runtime.sessions() as session:
        left = (await session.execute(select(IncidentReport.reference))).scalars().all()
        messages = (await session.execute(select(func.count(IncidentMessage.id)))).scalar()
    assert left == [kept] and messages == 0


async def test_the_intake_waits_for_a_batch_or_the_next_day(service: Service) -> None:
    runtime = runtime_of(service)
    incidents = runtime.incidents
    today = date.today()
    draft = {"mode": "anonymous", "relationship": "witness", "narrative": NARRATIVE}

    class Coin(random.Random):
        """A chance that always comes up as `value`."""

        def __init__(self, value: float) -> None:
            super().__init__(0)
            self.value = value

        def random(self) -> float:
            return self.value

    async def submit_and_release(chance: float) -> dict[str, int]:
        async with unit_of_work(runtime.sessions) as session:
            await incidents.submit(session, draft, reporter=None, today=today)
        async with unit_of_work(runtime.sessions) as session:
            return await incidents.release(session, today=today, rng=Coin(chance))

    # Fewer than release_batch (3): held, whatever the chance.
    assert (await submit_and_release(0.0))["waiting"] == 1
    assert (await submit_and_release(0.0))["waiting"] == 2
    # A batch, but the chance says not this run; then it says yes.
    assert (await submit_and_release(0.9))["waiting"] == 3
    async with unit_of_work(runtime.sessions) as session:
        released = await incidents.release(session, today=today, rng=Coin(0.1))
    assert released == {"released_reports": 3, "released_messages": 0, "waiting": 0}
    assert await count(service, IncidentReport) == 3

    # A lone report from an earlier day goes at the scheduled job's next run.
    async with unit_of_work(runtime.sessions) as session:
        await incidents.submit(session, draft, reporter=None, today=today - timedelta(days=1))
    counts = await incident_sweep(runtime.sessions, incidents)
    assert counts["released_reports"] == 1 and counts["waiting"] == 0
    assert await count(service, IncidentReport) == 4
    async with runtime.sessions() as session:
        days = (await session.execute(select(IncidentReport.received_on))).scalars().all()
    assert sorted(days) == [today - timedelta(days=1), today, today, today]
