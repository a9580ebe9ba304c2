"""The bot in Microsoft 365 Agents Playground, Teams' emulator, driven in headless chromium.

The real-client complement of the stand-in connector tests: the bot runs as `edi-bot serve`
(development mode, SQLite), the Playground talks to it over the real Bot Framework protocol
and renders its cards with Teams' renderer, and tests/js/playground.mjs types, fills in and
presses buttons as a person would. Screenshots of every step: var/test-artifacts/playground/.

Every walk runs in one browser session, in order, as the Playground's one mock user; each is
a list of steps (see tests/js/playground.mjs for what a step can do). To cover a new job,
add a Walk to WALKS: a few lines saying what to type or press and what the person must see.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.config import DEFAULT_CONTENT_DIR
from tests import js_tools
from tests.playground import MOCK_TENANT, MOCK_USER, Running, free_port, running

ARTIFACTS = js_tools.ARTIFACTS / "playground"
WELCOME = "Hello, I'm the EDI bot"
LATEST_BULLETIN = max(p.stem for p in (DEFAULT_CONTENT_DIR / "bulletins").glob("*.md"))
BULLETIN_QUESTION = "Was this bulletin useful to you?"
NARRATIVE = "A visitor shouted abuse about my accent at the County Hall reception desk."
# The first thing someone types, in their own words: no command word, no button.
OWN_WORDS = "a visitor shouted abuse about my accent at reception"
TYPED_REPLY = "It happened again today, at the same desk."
EVENT_TITLE = "Big Conversation: race at work"
EVENT_SLUG = "playground-big-conversation"
EVENT_DAY = (date.today() + timedelta(days=14)).isoformat()
NETWORK = "Black, Asian and Minority Ethnic Network"
ROSTER = "roster.csv"  # in the bot's working directory, where `edi_bot` steps run
RECORD = "My team leader made a joke about my hijab in the Monday briefing."
RECORD_ADDED = "It happened again on Thursday."


def say(text: str, *expect: str, **capture: str) -> dict[str, Any]:
    """Type `text`; the bot's replies must contain every `expect`."""
    return {"say": text, "expect": list(expect), "capture": capture}


def press(
    title: str, *expect: str, fill: dict[str, Any] | None = None, **capture: str
) -> dict[str, Any]:
    """Fill fields by label in the newest card with button `title`, then press it."""
    return {"press": title, "fill": fill or {}, "expect": list(expect), "capture": capture}


def edi_bot(*args: str, expect: tuple[str, ...] = ()) -> dict[str, Any]:
    """Run an `edi-bot` command against the running bot's database; wait for what it sends."""
    return {"edi_bot": list(args), "expect": list(expect)}


@dataclass(frozen=True)
class Walk:
    """One thing a person does, step by step, with what they must see."""

    name: str
    steps: list[dict[str, Any]]
    # Roles the Playground's user is granted before the browser opens (they hold them all along).
    roles: tuple[str, ...] = field(default=())


WALKS = [
    Walk("welcome", [{"expect": [WELCOME, "Report a hate incident", "Equality information"]}]),
    Walk("help", [say("help", WELCOME, "About EDI"), say("menu", WELCOME)]),
    Walk(
        "about_edi",
        [
            press("About EDI", "What would you like to know about?"),
            say("menu", WELCOME),
        ],
    ),
    Walk(
        "anonymous_hate_incident_report",
        [
            # Started by a natural sentence: the report, 999 first, and the words kept.
            say(OWN_WORDS, "in danger right now?", "999"),
            press("No, nobody is in danger now", "How would you like to report?"),
            press("Anonymously", "Who did this happen to?"),
            press(
                "It happened to me",
                "In your own words, what happened?",
                "I've started this with what you typed earlier",
            ),
            press(
                "Next",
                "A few more details",
                fill={"In your own words, what happened?": NARRATIVE},
            ),
            press(
                "Next",
                "Support and what happens next",
                fill={
                    "Race or ethnicity (including nationality, skin colour, culture)": True,
                    "Verbal abuse, insults or threats": True,
                    "At a council workplace": True,
                    "A member of the public": True,
                    "Once": True,
                    "Or roughly when": "last Tuesday morning",
                },
            ),
            press(
                "Next",
                "Check your report",
                NARRATIVE,
                "Race or ethnicity",
                fill={"Pass the report to the police through True Vision": False},
            ),
            press(
                "Submit my report",
                "Thank you. Your report has been received",
                "Your passphrase",
                reference=r"Your reference\s*:?\s*([A-Z0-9]{4}-[A-Z0-9]{4})",
                passphrase=r"Your passphrase\s*:?\s*([a-z]+(?:-[a-z0-9]+)+)",
            ),
        ],
    ),
    Walk(
        "check_anonymous_report",
        [
            say("check report", "reference"),
            say("{reference} {passphrase}", "Report {reference}", "reaches the case team"),
            # A reply typed into the chat, not the card's box: kept, and added once confirmed.
            say(TYPED_REPLY, "Add this to your report?"),
            press(
                "Add to my report",
                "I've added that to report {reference}",
                fill={
                    "Reference": "{reference}",
                    "Passphrase (anonymous reports only)": "{passphrase}",
                },
            ),
            say("check report", "reference"),
            say("{reference} {passphrase}", "Report {reference}", TYPED_REPLY),
            press(
                "Add to my report",
                "I've added that to report {reference}",
                fill={"Add information or reply (optional)": "It happened again today."},
            ),
            say("menu", WELCOME),
        ],
    ),
    Walk(
        "case_handler_opens_the_report",
        [
            # The report waits in the anonymous intake until a batch is due; release it now.
            edi_bot("cases", "release", "--now", expect=()),
            say("cases", "Incident cases", "{reference}"),
            press("Open {reference}", "Case {reference}", NARRATIVE, "It happened again today."),
            press("Acknowledge", "Case {reference}"),
            say("menu", WELCOME, "Incident cases"),
        ],
        roles=("case_handler",),
    ),
    Walk(
        "bulletin_feedback",
        [
            # Published now, the bulletin reaches this person through the outbox, proactively.
            edi_bot("bulletin", "publish", "--now", LATEST_BULLETIN, expect=(BULLETIN_QUESTION,)),
            say("bulletin", BULLETIN_QUESTION),
            press(
                "Useful",
                "I've recorded that you found",
                "Your comment has been passed on",
                fill={"Anything you'd like to tell the EDI team about it?": "More on events."},
            ),
        ],
    ),
    Walk(
        "admin_bot_status",
        [say("status", "Bot status", "People the bot can reach")],
        roles=("admin",),
    ),
    Walk(
        "declaration_form",
        [
            say("declare", "Equality information about you"),
            press("A form for each part", "Part 1 of 4"),
            press("Next", "Part 2 of 4", fill={"Age": "55 to 64", "Sex": "Female"}),
            press("Skip this part", "Part 3 of 4"),
            press("Skip this part", "Part 4 of 4"),
            press("Check my answers", "55 to 64", "Female"),
            press("Save my answers", "Saved. Thank you"),
            say("my data", "Your equality information", "55 to 64"),
            say("menu", WELCOME),
        ],
    ),
    Walk(
        "event_sign_up",
        [
            # An organiser's event (made here from the shell); nobody is told about it.
            edi_bot(
                "events",
                "create",
                "--title",
                EVENT_TITLE,
                "--network",
                "big_conversation",
                "--start",
                f"{EVENT_DAY} 12:30",
                "--end",
                f"{EVENT_DAY} 13:30",
                "--capacity",
                "20",
                "--place",
                "County Hall, Glenfield",
                "--slug",
                EVENT_SLUG,
            ),
            say("events", "Upcoming staff network events", EVENT_TITLE, "20 of 20 left"),
            press("Details and sign up", EVENT_TITLE, "Anything we should arrange for you?"),
            press(
                "Sign me up",
                f"You have a place: {EVENT_TITLE}",
                "Add to calendar",
                fill={"Step-free access": True, "Tell us more (optional)": "A seat near the door."},
            ),
            say("my events", "My events", EVENT_TITLE, "You have a place"),
        ],
    ),
    Walk(
        "join_a_staff_network",
        [
            say("networks", "Staff networks", NETWORK),
            press("Join", f"You've joined the {NETWORK}", "You're a member."),
        ],
    ),
    Walk(
        "action_lead_updates_progress",
        [
            edi_bot(
                "leads", "assign", "--action", "2022-23/4.1", MOCK_USER, "--tenant", MOCK_TENANT
            ),
            say("my actions", "My EDI actions", "Actions you lead: 1", "4.1 Implement Hate Crime"),
            press(
                "Save update",
                "Saved: action 4.1 is now Amber",
                fill={
                    "Status (RAG)": "Amber (at risk)",
                    "What has happened? (a short note for the progress report)": (
                        "Workshops booked for two departments."
                    ),
                },
            ),
        ],
    ),
    Walk(
        "hr_workforce_report",
        [
            # A one-person roster (written by the fixture): every count on the card is hidden.
            edi_bot("roster", "import", ROSTER, "--tenant", MOCK_TENANT),
            say(
                "hr report",
                "Workforce equality: 20",
                "Staff on the roster",
                "<10",
                "Representation against the 2020-21 targets",
            ),
        ],
        roles=("hr",),
    ),
    Walk(
        "private_record_becomes_a_report",
        [
            say("keep a record", "A private record is for you alone", "what happened?"),
            press("Next", "A few more details", fill={"In your own words, what happened?": RECORD}),
            press("Skip all of these", "Check your record", RECORD),
            press("Keep my record", "Kept. Only you can see this record", "Written down on"),
            press("My private records", "Your private records", "Written down on"),
            press("Open", "Your private record", RECORD),
            press(
                "Add it",
                "Added to your record",
                RECORD_ADDED,
                fill={"Add to this record (optional); it's timestamped": RECORD_ADDED},
            ),
            press("Turn it into a report", "from your private record written down on"),
            press("Confidentially", "Who did this happen to?"),
            press("It happened to me", "Support and what happens next"),
            press("Next", "Check your report", "Written down", RECORD),
            press("Submit my report", "Your report has been received", "still kept"),
            press("Keep it", "still kept, only for you"),
            say("menu", WELCOME, "Keep a private record", "My private records"),
        ],
    ),
]


@pytest.fixture(scope="module")
def playground(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The bot and the Playground on free ports, with every walk's roles granted."""
    js_tools.node()
    js_tools.chromium()
    workdir = tmp_path_factory.mktemp("playground")
    (workdir / ROSTER).write_text(
        f"object_id,department,grade\n{MOCK_USER},Corporate Resources,13\n", encoding="utf-8"
    )
    with running(workdir, bot_port=free_port(), port=free_port()) as pair:
        for role in sorted({role for walk in WALKS for role in walk.roles}):
            granted = pair.edi_bot("roles", "grant", role, MOCK_USER, "--tenant", MOCK_TENANT)
            assert granted.returncode == 0, granted.stderr
        yield pair


def _runnable(step: dict[str, Any], playground: Running) -> dict[str, Any]:
    """The step as the driver takes it: an `edi_bot` command as a full command line."""
    if "edi_bot" not in step:
        return step
    rest = {key: value for key, value in step.items() if key != "edi_bot"}
    return {**rest, "run": playground.command(*step["edi_bot"])}


@pytest.fixture(scope="module")
def walked(playground: Running, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every walk, run once by the driver in one chromium page."""
    plan = {
        "url": playground.url,
        "artifacts": str(ARTIFACTS),
        "walks": [
            {"name": walk.name, "steps": [_runnable(step, playground) for step in walk.steps]}
            for walk in WALKS
        ],
    }
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    plan_file = Path(tmp_path_factory.mktemp("plan")) / "plan.json"
    plan_file.write_text(json.dumps(plan), encoding="utf-8")
    result: dict[str, Any] = js_tools.run_node("playground.mjs", str(plan_file), timeout=600)
    (ARTIFACTS / "walks.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    result["by_name"] = {outcome["name"]: outcome for outcome in result["walks"]}
    return result


@pytest.mark.e2e
@pytest.mark.parametrize("walk", [walk.name for walk in WALKS])
def test_walk_in_the_playground(walk: str, walked: dict[str, Any]) -> None:
    outcome = walked["by_name"][walk]
    assert outcome["ok"], (
        f"{walk}: {outcome.get('error')} (screenshot: {ARTIFACTS}/{walk}-failed.png)"
    )
    assert (ARTIFACTS / f"{walk}-01.png").exists()


@pytest.mark.e2e
def test_the_anonymous_reporter_gets_a_reference_and_a_passphrase(walked: dict[str, Any]) -> None:
    assert walked["by_name"]["anonymous_hate_incident_report"]["ok"]
    reference = walked["vars"]["reference"]
    passphrase = walked["vars"]["passphrase"]
    assert reference and passphrase and passphrase not in reference


@pytest.mark.e2e
def test_the_adjustments_ticked_in_the_real_card_reach_the_organisers(
    walked: dict[str, Any], playground: Running
) -> None:
    assert walked["by_name"]["event_sign_up"]["ok"]
    listed = playground.edi_bot("events", "attendees", EVENT_SLUG)
    assert listed.returncode == 0, listed.stderr
    assert "Alex Wilber (confirmed); needs: Step-free access A seat near the door." in listed.stdout


@pytest.mark.e2e
def test_the_page_raised_no_errors(walked: dict[str, Any]) -> None:
    assert walked["pageErrors"] == []


@pytest.mark.e2e
@pytest.mark.skip(
    reason=(
        "Agents Playground 0.2.28 cannot attach a file to a message: its chat box and its "
        "user-message API (/_conversation/v1/conversations/<id>/messages) take text and "
        "cards only. Its custom-activity mock could inject a file.download.info activity, but "
        "that would replay our own JSON, not exercise the Playground. Evidence files are "
        "covered over real HTTP against the stand-in connector instead: "
        "tests/incidents/test_evidence.py (a GPS-tagged photo to the case handler, refused "
        "files, check report, anonymous intake) and tests/incidents/test_evidence_inline.py "
        "(inline images with the bot's token, production mode)."
    )
)
def test_a_file_attached_to_a_report_in_the_playground() -> None:
    """Stands for the walk the Playground cannot do (see the skip reason)."""
