"""Patterns across reports, with consent, end to end: real HTTP in, replies at the stand-in
connector, alerts through the outbox, on SQLite and PostgreSQL (docs/incidents.md, "Patterns
across reports").

Two reports by different people who each asked "tell the case team only if someone else
reports the same person" and named the same person raise exactly one alert to the case
handlers, listing both references; one report never does; anonymous reports only after
their release; nothing stored names anyone in clear; with the setting off nothing is asked
and nothing kept."""

from __future__ import annotations

import dataclasses
import io
import json
import uuid
from datetime import date
from typing import Any

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channel.card_text import CardTextRenderer, ask_input
from bot.config import Settings
from bot.db.session import unit_of_work
from bot.incidents.models import IncidentIntake, IncidentPatternCheck, IncidentReport
from dialogs.incidents.report_pattern import people_picker
from tests.cards import buttons, inputs, visible_text
from tests.chat import Chat
from tests.connector import StandInConnector
from tests.harness import dev_settings
from tests.incidents.test_incidents import (
    count,
    deliver,
    make_handler,
    receipt_value,
    runtime_of,
    sweep,
)
from tests.service import Service, start_service, stop_service
from tests.teams import TeamsUser

pytestmark = pytest.mark.e2e

QUESTION = "Do you want to name them so the case team can see if others report the same person?"
ONLY_IF = "Tell the case team only if someone else reports the same person"
STORY = "My line manager made remarks about my accent in the team meeting again."


@pytest.fixture
def settings(database_url: str) -> Settings:
    # The outbox is drained by hand, so each test decides when messages go.
    return dev_settings(database_url=database_url, outbox_worker=False, patterns_enabled=True)


async def to_pattern_question(chat: Chat, mode: str, *, perpetrator: str = "colleague") -> str:
    """Report up to the step after the details."""
    await chat.say("report")
    await chat.press("No, nobody is in danger now")
    await chat.press(mode)
    await chat.press("It happened to me")
    await chat.press("Next", narrative=STORY)
    return await chat.press(
        "Next",
        motivations="race",
        kinds="verbal",
        location="workplace",
        perpetrator=perpetrator,
        frequency="few",
    )


async def report_naming(
    chat: Chat, mode: str, *, person: str = "", name: str = "", submit: bool = True
) -> str:
    """A report whose reporter asks for a pattern check, naming `person` (a directory id,
    as the people picker sends it) or typing `name`; the receipt (or the review)."""
    seen = await to_pattern_question(chat, mode)
    assert QUESTION in seen
    seen = await chat.press(ONLY_IF)
    assert "Who was it?" in seen
    # Without a person chosen, nothing comes from the picker: as from the terminal chat and
    # the Agents Playground, which cannot search a directory.
    chosen = {"pattern_person": person} if person else {}
    seen = await chat.press("Next", pattern_name=name, **chosen)
    assert "Support and what happens next" in seen
    seen = await chat.press("Next")
    assert "Check your report" in seen
    if not submit:
        return seen
    return await chat.press("Submit my report")


def pattern_alerts(connector: StandInConnector, handler: Chat) -> list[str]:
    """What the handler was sent about patterns, as they read it."""
    shown = [visible_text(reply) for reply in connector.replies(handler.user.conversation_id)]
    return [words for words in shown if "Possible pattern" in words]


async def every_row(engine: AsyncEngine) -> dict[str, list[dict[str, Any]]]:
    def read(connection: Any) -> dict[str, list[dict[str, Any]]]:
        return {
            name: [dict(r) for r in connection.execute(text(f'SELECT * FROM "{name}"')).mappings()]
            for name in inspect(connection).get_table_names()
        }

    async with engine.connect() as connection:
        return await connection.run_sync(read)


def mentions(rows: list[dict[str, Any]], needles: list[str]) -> bool:
    flat = json.dumps(rows, default=str).lower()
    return any(needle.lower() in flat for needle in needles)


async def test_two_confidential_reports_naming_the_same_person_raise_one_alert(
    service: Service, connector: StandInConnector, settings: Settings, engine: AsyncEngine
) -> None:
    handler = await make_handler(service, connector, "Casey Handler")
    named = str(uuid.uuid4())
    first = Chat(service, connector, TeamsUser(name="Rosa Reporter"))
    await to_pattern_question(first, "Confidentially")
    assert [title for reply in first.last for title, _ in buttons(reply)] == [
        "No, don't name them",
        "I'll name them in my report",
        ONLY_IF,
    ]
    await first.press(ONLY_IF)
    [picker, typed] = [i for r in first.last for i in inputs(r)]
    assert picker["type"] == "Input.ChoiceSet" and picker["choices"] == []
    assert picker["choices.data"] == {"type": "Data.Query", "dataset": "graph.microsoft.com/users"}
    assert typed["type"] == "Input.Text" and typed["maxLength"] == 100
    await first.press("Next", pattern_person=named, pattern_name="")
    seen = await first.press("Next")
    assert "Named for a pattern check: someone you chose in the directory" in seen
    first_reference = receipt_value(await first.press("Submit my report"), "Your reference")
    await deliver(service, settings)
    assert pattern_alerts(connector, handler) == []
    assert await count(service, IncidentPatternCheck) == 1

    # Someone else names the same person (the picker's id in capitals: the same person).
    second = Chat(service, connector, TeamsUser(name="Sam Second"))
    receipt = await report_naming(second, "With my name", person=named.upper(), name="Jo Bloggs")
    second_reference = receipt_value(receipt, "Your reference")
    await deliver(service, settings)
    [alert] = pattern_alerts(connector, handler)
    assert "Possible pattern: 2 reports name the same person" in alert
    one, two = sorted([first_reference, second_reference])  # oldest first, then by reference
    assert f"Reports {one} and {two} each name the same person" in alert
    assert STORY not in alert and "Jo Bloggs" not in alert
    # The sweep, however often, and a re-run of the check, tell nobody again.
    for _ in range(3):
        assert (await sweep(service, date.today()))["pattern_alerts"] == 0
    async with unit_of_work(runtime_of(service).sessions) as session:
        assert await runtime_of(service).incidents.pattern_alerts(session) == 0
    await deliver(service, settings)
    assert len(pattern_alerts(connector, handler)) == 1

    # Nothing stored names the person in clear, or the reporters, or which reports matched.
    rows = await every_row(engine)
    needles = [named, named.replace("-", ""), "Jo Bloggs", "jo bloggs"]
    assert not any(mentions(table, needles) for table in rows.values())
    checks = rows["incident_pattern_checks"]
    assert len(checks) == 2 and len({c["person_hash"] for c in checks}) == 1
    assert all(c["alerted"] for c in checks)
    who = [first.user.aad_object_id, second.user.aad_object_id, "Rosa", "Sam Second"]
    assert not mentions(checks, [*who, first_reference, second_reference])
    assert set(checks[0]) == {
        "id",
        "person_hash",
        "kind",
        "report",
        "report_key",
        "created_on",
        "alerted",
    }

    # A third report naming them: one new alert, naming all three.
    third = Chat(service, connector, TeamsUser(name="Tam Third"))
    third_reference = receipt_value(
        await report_naming(third, "Confidentially", person=named), "Your reference"
    )
    await deliver(service, settings)
    alerts = pattern_alerts(connector, handler)
    assert len(alerts) == 2
    assert "3 reports name the same person" in alerts[1]
    one, two, three = sorted([first_reference, second_reference, third_reference])
    assert f"Reports {one}, {two} and {three} each name" in alerts[1]


async def test_anonymous_reports_raise_their_alert_only_after_release(
    service: Service, connector: StandInConnector, settings: Settings, engine: AsyncEngine
) -> None:
    handler = await make_handler(service, connector, "Casey Handler")
    named = str(uuid.uuid4())
    references = []
    for name in ("Ash Anonymous", "Bo Anonymous"):
        reporter = Chat(service, connector, TeamsUser(name=name))
        receipt = await report_naming(reporter, "Anonymously", person=named)
        references.append(receipt_value(receipt, "Your reference"))
    # Nothing is kept beside the reporters' turns: the hash waits inside the sealed intake.
    assert await count(service, IncidentPatternCheck) == 0
    assert await count(service, IncidentIntake) == 2
    await deliver(service, settings)
    assert pattern_alerts(connector, handler) == []

    counts = await sweep(service, date.today())  # the release, then the sweep
    assert counts["alerts"] == 2 and counts["pattern_alerts"] == 1
    await deliver(service, settings)
    [alert] = pattern_alerts(connector, handler)
    first, second = sorted(references)
    assert f"Reports {first} and {second} each name the same person" in alert
    assert (await sweep(service, date.today()))["pattern_alerts"] == 0

    rows = await every_row(engine)
    assert not any(mentions(table, [named, named.replace("-", "")]) for table in rows.values())
    # Like the reports: random ids, the report's day and no time.
    days = {r["received_on"] for r in rows["incident_reports"]}
    for entry in rows["incident_pattern_checks"]:
        assert entry["id"] > 2**32 and entry["created_on"] in days
    if engine.dialect.name == "postgresql":
        # Written by the release, in its transaction: never by a reporter's turn.
        async with engine.connect() as connection:
            written = set(
                (
                    await connection.execute(text("SELECT xmin::text FROM incident_pattern_checks"))
                ).scalars()
            )
            released = set(
                (
                    await connection.execute(
                        text("SELECT xmin::text FROM incident_reports WHERE mode = 'anonymous'")
                    )
                ).scalars()
            )
        assert len(written) == 1 and written == released


async def test_one_report_never_alerts_nor_two_from_one_person(
    service: Service, connector: StandInConnector, settings: Settings
) -> None:
    handler = await make_handler(service, connector, "Casey Handler")
    named = str(uuid.uuid4())
    alone = Chat(service, connector, TeamsUser(name="Lee Alone"))
    await report_naming(alone, "Confidentially", person=named)
    anonymous = Chat(service, connector, TeamsUser(name="Ari Anonymous"))
    await report_naming(anonymous, "Anonymously", person=str(uuid.uuid4()))
    for _ in range(4):
        assert (await sweep(service, date.today()))["pattern_alerts"] == 0
    # The same person again, from the same reporter: still not a pattern.
    await report_naming(alone, "With my name", person=named)
    for _ in range(2):
        assert (await sweep(service, date.today()))["pattern_alerts"] == 0
    await deliver(service, settings)
    assert pattern_alerts(connector, handler) == []
    assert await count(service, IncidentPatternCheck) == 3


async def test_typed_names_match_only_the_same_name_and_the_alert_says_so(
    service: Service, connector: StandInConnector, settings: Settings
) -> None:
    handler = await make_handler(service, connector, "Casey Handler")
    references = []
    for reporter, typed in (("Kim One", "Jo Bloggs"), ("Lou Two", "  jo   BLOGGS.")):
        chat = Chat(service, connector, TeamsUser(name=reporter))
        review = await report_naming(chat, "Confidentially", name=typed, submit=False)
        assert f"Named for a pattern check: {' '.join(typed.split())}" in review
        references.append(receipt_value(await chat.press("Submit my report"), "Your reference"))
    await deliver(service, settings)
    [alert] = pattern_alerts(connector, handler)
    assert "Possible pattern: 2 reports give the same name" in alert
    assert "could be two people who share a name" in alert
    assert "Reports {} and {} each give the same name".format(*sorted(references)) in alert
    # Another name, and the same person chosen in the directory, match neither.
    other = Chat(service, connector, TeamsUser(name="Mo Three"))
    await report_naming(other, "Confidentially", name="Joanne Bloggs")
    await deliver(service, settings)
    assert len(pattern_alerts(connector, handler)) == 1


async def test_the_review_shows_the_pattern_check_and_removes_it(
    service: Service, connector: StandInConnector, settings: Settings
) -> None:
    chat = Chat(service, connector, TeamsUser(name="Rae Reporter"))
    review = await report_naming(chat, "Confidentially", name="Jo Bloggs", submit=False)
    assert "Named for a pattern check: Jo Bloggs" in review
    seen = await chat.press("Remove")
    assert "I've taken off the pattern check" in seen
    assert "Pattern check" in seen and "Not asked for." in seen
    assert "Jo Bloggs" not in seen
    # Asked for again from the review, then declined: the report keeps nothing.
    seen = await chat.press("Ask for one")
    assert QUESTION in seen
    seen = await chat.press("No, don't name them")
    assert "Check your report" in seen and "Not asked for." in seen
    await chat.press("Submit my report")
    assert await count(service, IncidentPatternCheck) == 0


async def test_naming_them_in_the_report_keeps_nothing_and_other_perpetrators_are_not_asked(
    service: Service, connector: StandInConnector
) -> None:
    chat = Chat(service, connector, TeamsUser(name="Val Reporter"))
    await to_pattern_question(chat, "Confidentially")
    seen = await chat.press("I'll name them in my report")
    assert "press **Edit** beside it" in seen or "press Edit beside it" in seen
    assert "Support and what happens next" in seen
    public = Chat(service, connector, TeamsUser(name="Wyn Reporter"))
    seen = await to_pattern_question(public, "Confidentially", perpetrator="public")
    assert QUESTION not in seen and "Support and what happens next" in seen
    seen = await public.press("Next")
    assert "Pattern check" not in seen
    await public.press("Submit my report")
    await chat.press("Next")
    await chat.press("Submit my report")
    assert await count(service, IncidentPatternCheck) == 0


@pytest.mark.parametrize(
    ("person", "name", "expected"),
    [
        ("not-a-directory-id", "", "doesn't look like someone from the council's directory"),
        ("<script>alert(1)</script>", "", "doesn't look like someone from the council's"),
        (
            "0f8fad5b-d9cb-469f-a165-70867728950e,7c9e6679-7425-40de-944b-e07fc1f90ae7",
            "",
            "Please choose just one person",
        ),
        ("", "", "Please choose them in the directory or type their name"),
        ("", "J", "at least two letters"),
        ("", "Jo " * 400, "the limit is 100"),
        (["a", "b"], {"x": 1}, "Please choose them in the directory or type their name"),
    ],
    ids=["not-an-id", "markup", "two-people", "nothing", "one-letter", "huge-name", "not-text"],
)
async def test_forged_or_odd_answers_get_a_sentence_and_keep_nothing(
    service: Service, connector: StandInConnector, person: Any, name: Any, expected: str
) -> None:
    chat = Chat(service, connector, TeamsUser(name="Fay Forger"))
    await to_pattern_question(chat, "Confidentially")
    await chat.press(ONLY_IF)
    seen = await chat.press("Next", pattern_person=person, pattern_name=name)
    assert expected in seen
    assert "Who was it?" in seen, "asked again"
    seen = await chat.press("Don't name them")
    assert "Support and what happens next" in seen
    assert await count(service, IncidentPatternCheck) == 0


async def test_choosing_yourself_is_refused(service: Service, connector: StandInConnector) -> None:
    chat = Chat(service, connector, TeamsUser(name="Gus Self"))
    await to_pattern_question(chat, "Confidentially")
    await chat.press(ONLY_IF)
    seen = await chat.press("Next", pattern_person=chat.user.aad_object_id, pattern_name="")
    assert "That's you." in seen and "Who was it?" in seen


async def test_with_the_setting_off_nothing_is_asked_or_kept(
    database_url: str, connector: StandInConnector, engine: AsyncEngine
) -> None:
    off = dev_settings(database_url=database_url, outbox_worker=False)
    assert off.patterns_enabled is False
    service = await start_service(off, engine)
    try:
        chat = Chat(service, connector, TeamsUser(name="Hal Reporter"))
        seen = await to_pattern_question(chat, "Confidentially")
        assert QUESTION not in seen and "Support and what happens next" in seen
        # A forged answer to the step that is never asked changes nothing.
        seen = await chat.say({"choice": "pattern", "step": "pattern", "draft": "x"})
        assert "That button is from an earlier question" in seen
        seen = await chat.press("Next")
        assert "Pattern check" not in seen
        await chat.press("Submit my report")
        runtime = runtime_of(service)
        async with unit_of_work(runtime.sessions) as session:
            assert "pattern_alerts" not in await runtime.incidents.sweep(
                session, today=date.today()
            )
            assert (await session.execute(select(IncidentPatternCheck))).first() is None
    finally:
        await stop_service(service)


def test_the_terminal_chat_says_the_people_picker_is_for_teams_and_skips_it() -> None:
    picker = people_picker("pattern_person", "Find them in the council's directory (in Teams)")
    card = {"type": "AdaptiveCard", "version": "1.5", "body": [picker], "actions": []}
    lines = CardTextRenderer().render_card(card).lines
    assert " ".join(lines) == (
        "Find them in the council's directory (in Teams): ____ (a person from the directory, "
        "in Teams only)"
    )
    out = io.StringIO()
    asked: list[str] = []

    def ask(prompt: str) -> str:
        asked.append(prompt)
        return "1"

    assert ask_input(picker, ask, out) is None
    assert asked == [], "nothing to type: the typed name below it is asked instead"
    assert "Teams' people picker can't search the directory here." in out.getvalue()


async def test_turned_off_later_the_entries_stay_but_nothing_new_is_kept_or_alerted(
    service: Service, connector: StandInConnector, settings: Settings
) -> None:
    handler = await make_handler(service, connector, "Casey Handler")
    named = str(uuid.uuid4())
    await report_naming(
        Chat(service, connector, TeamsUser(name="On One")), "Confidentially", person=named
    )
    await report_naming(
        Chat(service, connector, TeamsUser(name="On Two")), "Anonymously", person=named
    )
    incidents = runtime_of(service).incidents
    incidents.patterns = dataclasses.replace(incidents.patterns, enabled=False)
    later = Chat(service, connector, TeamsUser(name="Off Three"))
    seen = await to_pattern_question(later, "Confidentially")
    assert QUESTION not in seen
    await later.press("Next")
    await later.press("Submit my report")
    # The anonymous report is released without its entry: nothing new is kept while off.
    counts = await sweep(service, date.today())
    assert "pattern_alerts" not in counts
    assert await count(service, IncidentIntake) == 0 and await count(service, IncidentReport) == 3
    await deliver(service, settings)
    assert pattern_alerts(connector, handler) == []
    assert await count(service, IncidentPatternCheck) == 1


async def test_a_report_made_from_a_private_record_is_asked_about_a_pattern_check_too(
    service: Service, connector: StandInConnector, engine: AsyncEngine
) -> None:
    """The record's story and details are not asked again, but the pattern question (its
    details name a manager) is, and the check is kept with the report."""
    from bot.incidents.models import IncidentPatternCheck
    from tests.records.support import keep_record

    rosa = Chat(service, connector, TeamsUser(name="Rosa Record"))
    await rosa.install()
    await keep_record(rosa)  # who did it: a manager
    await rosa.say("my records")
    await rosa.press("Open")
    await rosa.press("Turn it into a report")
    await rosa.press("Confidentially")
    seen = await rosa.press("It happened to me")
    assert QUESTION in seen and "In your own words" not in seen
    assert "Who was it?" in await rosa.press(ONLY_IF)
    seen = await rosa.press("Next", pattern_name="Pat Manager")
    assert "Support and what happens next" in seen
    seen = await rosa.press("Next")
    assert "Named for a pattern check: Pat Manager" in seen
    assert "Your reference" in await rosa.press("Submit my report")
    rows = (await every_row(engine))[IncidentPatternCheck.__tablename__]
    assert len(rows) == 1 and not mentions(rows, ["Pat Manager", "pat manager"])
