"""Honest, complete words in the report: 999 before any button, "something else" said in the
person's words, both "when" answers, a receipt that carries every answer and referral,
signposting that never loses 999/101, and no request dropped without asking. Both
databases, real HTTP."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot.incidents.models import IncidentReport
from tests.cards import buttons
from tests.chat import Chat
from tests.connector import StandInConnector
from tests.incidents.test_incidents import (
    NARRATIVE,
    make_handler,
    receipt_value,
    runtime_of,
    settings,  # noqa: F401 - the fixture: outbox drained by hand
    walk_to_review,
)
from tests.service import Service

pytestmark = pytest.mark.e2e

SIGNPOSTS = (
    "call 999",
    "call 101",
    "Victim First",
    "Leicestershire hate incident monitoring project",
    "Employee assistance programme",
)


async def test_the_first_safety_message_shows_999_before_any_button(
    service: Service, connector: StandInConnector
) -> None:
    chat = Chat(service, connector)
    seen = await chat.say("report")
    assert "in danger right now?" in seen
    assert "call **999** now" in seen or "call 999 now" in seen


async def test_something_else_and_roughly_when_are_kept_and_shown_everywhere(
    service: Service, connector: StandInConnector
) -> None:
    handler = await make_handler(service, connector, "Casey Handler")
    chat = Chat(service, connector)
    await chat.say("report")
    await chat.press("No, nobody is in danger now")
    await chat.press("Confidentially")
    await chat.press("It happened to me")
    await chat.press("Next", narrative=NARRATIVE)
    day = date.today() - timedelta(days=3)
    seen = await chat.press(
        "Next",
        motivations="other",
        motivations_other="my accent",
        kinds="other",
        kinds_other="they blocked the doorway",
        location="other",
        location_other="the bus to the depot",
        occurred_on=day.isoformat(),
        occurred_approx="and most Mondays since June",
    )
    seen = await chat.press("Next", consent_monitoring="true")
    assert "Check your report" in seen
    for words in ("my accent", "they blocked the doorway", "the bus to the depot"):
        assert words in seen
    assert "most Mondays since June" in seen and day.strftime("%-d %B %Y") in seen
    seen = await chat.press("Submit my report")
    reference = receipt_value(seen, "Your reference")
    for words in ("my accent", "the bus to the depot", "most Mondays since June"):
        assert words in seen  # the receipt a reporter keeps
    # Encrypted at rest with the narrative: not readable in the row.
    runtime = runtime_of(service)
    async with runtime.sessions() as session:
        row = (await session.execute(select(IncidentReport))).scalar_one()
    assert "accent" not in repr(vars(row)) and "depot" not in repr(vars(row))
    await handler.say("cases")
    shown = await handler.press(f"Open {reference}")
    assert "my accent" in shown and "the bus to the depot" in shown
    assert "most Mondays since June" in shown


async def test_the_receipt_carries_every_answer_and_the_referrals_agreed(
    service: Service, connector: StandInConnector
) -> None:
    chat = Chat(service, connector)
    await walk_to_review(chat, "Confidentially", impact="I stopped using the canteen.")
    seen = await chat.press("Submit my report")
    for fact in ("When:", "Where: At a council workplace", "Who did it: A member of the public"):
        assert fact in seen
    assert "How often: Once" in seen and "Possibly a crime: Not sure" in seen
    assert "Impact: I stopped using the canteen." in seen
    assert "You agree to: Share the details, without your name" in seen
    for signpost in SIGNPOSTS:
        assert signpost in seen


async def test_signposting_keeps_999_101_and_victim_first_when_details_are_skipped(
    service: Service, connector: StandInConnector
) -> None:
    chat = Chat(service, connector)
    await chat.say("report")
    await chat.press("No, nobody is in danger now")
    await chat.press("Anonymously")
    await chat.press("It happened to me")
    await chat.press("Next", narrative=NARRATIVE)
    await chat.say("skip")
    seen = await chat.press("Next")
    assert "Check your report" in seen
    seen = await chat.press("Submit my report")
    for signpost in SIGNPOSTS:
        assert signpost in seen


async def test_switching_to_anonymous_asks_before_dropping_the_request_to_be_contacted(
    service: Service, connector: StandInConnector
) -> None:
    chat = Chat(service, connector)
    await chat.say("report")
    await chat.press("No, nobody is in danger now")
    await chat.press("Confidentially")
    await chat.press("It happened to me")
    await chat.press("Next", narrative=NARRATIVE)
    await chat.say("skip")
    seen = await chat.press("Next", wants_contact="true")
    assert "You'd like to be contacted about support." in seen
    await chat.press("Edit", **_edit("mode", chat))
    seen = await chat.press("Anonymously")
    assert "that request would be dropped" in seen
    seen = await chat.press("No, keep it as it was")
    assert "Check your report" in seen
    assert "You'd like to be contacted about support." in seen
    await chat.press("Edit", **_edit("mode", chat))
    await chat.press("Anonymously")
    seen = await chat.press("Yes, report anonymously")
    assert "Check your report" in seen and "Anonymously" in seen
    assert "You'd like to be contacted" not in seen


def _edit(section: str, chat: Chat) -> dict[str, str]:
    """The review's Edit button for `section` (several share the title)."""
    for reply in chat.last:
        for title, data in buttons(reply):
            if title == "Edit" and data.get("choice") == f"edit {section}":
                return dict(data)
    raise AssertionError(f"no Edit button for {section}")
