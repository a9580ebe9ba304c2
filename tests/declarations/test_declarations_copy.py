"""*My data*'s "Get a copy": a sealed, 15-minute link to a file of everything held about the
person, over real HTTP on SQLite and PostgreSQL, and in the terminal chat. The file is the
DPO's subject-access export without the keyed pseudonym; the link works for that person
alone, and a forged, altered, someone else's or old link gets nothing."""

from __future__ import annotations

import base64
import io
import json
import re
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channel.terminal import PROMPT, run_chat
from bot.config import Settings
from bot.core.clock import LONDON
from bot.core.people import PersonKey
from bot.db.models import AuditEntry, utcnow
from bot.db.session import unit_of_work
from bot.events.records import EventDraft
from bot.incidents.records import Person
from bot.privacy.data_copy import LINK_CONTEXT, CopyLinkError, summarise
from bot.privacy.roles import Role, grant_role
from tests.channel.test_terminal import Script, after
from tests.chat import Chat
from tests.connector import StandInConnector
from tests.harness import dev_settings
from tests.incidents.test_incidents import runtime_of
from tests.service import Service, start_service, stop_service
from tests.teams import TeamsUser

pytestmark = pytest.mark.e2e

OWN_WORDS = "Kestrel-5530 Scottish Traveller heritage"
OTHER_WORDS = "Plover-7712 Cornish and proud"
NEEDS = "Osprey-2291 a seat near the door"
COMMENT = "Wren-6604 more on carers please"
NARRATIVE = "Curlew-3375 someone shouted at me in the car park"
NOV_2 = datetime(2026, 11, 2, 9, 0, tzinfo=LONDON)  # the November bulletin is published


@pytest.fixture
def settings(database_url: str) -> Settings:
    return dev_settings(database_url=database_url, outbox_worker=False)


def key_of(chat: Chat) -> PersonKey:
    return PersonKey(chat.user.tenant_id, chat.user.aad_object_id)


def download_link(chat: Chat) -> str:
    """The "Download my data" link on the last card (an Action.OpenUrl, as calendar links)."""
    found = [
        action["url"]
        for reply in chat.last
        for attachment in reply.get("attachments") or []
        for action in attachment["content"].get("actions", [])
        if action.get("type") == "Action.OpenUrl" and action["title"] == "Download my data"
    ]
    assert len(found) == 1, chat.last
    return str(found[0])


async def get(service: Service, path: str) -> tuple[int, dict[str, str], bytes]:
    async with service.http.get(f"{service.base}{path}") as response:
        return response.status, dict(response.headers), await response.read()


async def declare(chat: Chat, words: str, *, sex: str, ethnic_group: str) -> None:
    await chat.say("declare")
    await chat.press("A form for each part")
    await chat.press("Next", age_band="55_64", sex=sex)
    await chat.press("Next", ethnic_group=ethnic_group, ethnic_group_words=words)
    await chat.press("Skip this part")
    await chat.press("Check my answers")
    assert "Saved" in await chat.press("Save my answers")


async def someone_with_everything(service: Service, connector: StandInConnector) -> Chat:
    """A person with a declaration (own words), an event place with needs, a network, a
    bulletin reaction and comment, a confidential report and a role."""
    runtime = runtime_of(service)
    chat = Chat(service, connector, TeamsUser(name="Morgan Reid"))
    await chat.install()
    await declare(chat, OWN_WORDS, sex="female", ethnic_group="white_other")
    soon = utcnow() + timedelta(days=10)
    async with unit_of_work(runtime.sessions) as session:
        event = await runtime.events.create(
            session,
            EventDraft(
                title="Carers' network coffee morning",
                kind="big_conversation",
                network=None,
                description="An informal chat.",
                starts_at=soon,
                ends_at=soon + timedelta(hours=1),
                signup_deadline=soon - timedelta(hours=1),
                capacity=10,
                location="County Hall",
                online_url=None,
                accessibility=None,
            ),
            actor="cli:test",
        )
        slug = event.slug
        await grant_role(
            session,
            role=Role.ORGANISER,
            person=chat.user.aad_object_id,
            tenant_id=chat.user.tenant_id,
            granted_by="cli:test",
        )
        await runtime.incidents.submit(
            session,
            {"mode": "confidential", "relationship": "victim", "narrative": NARRATIVE},
            reporter=Person(key_of(chat), chat.user.name),
            today=date.today(),
        )
    assert "place" in await chat.tap(
        {"command": "sign up", "event": slug, "needs": "other", "details": NEEDS}
    )
    await chat.tap({"command": "join network", "network": "bame"})
    assert await runtime.bulletins.publish_due(NOV_2) is not None
    await chat.tap(
        {
            "command": "bulletin feedback",
            "bulletin": "2026-11",
            "rating": "useful",
            "comment": COMMENT,
        }
    )
    return chat


async def test_the_download_is_everything_held_about_that_person_and_nobody_else(
    service: Service, connector: StandInConnector, engine: AsyncEngine
) -> None:
    runtime = runtime_of(service)
    morgan = await someone_with_everything(service, connector)
    sam = Chat(service, connector, TeamsUser(name="Sam Patel"))
    await sam.install()
    await declare(sam, OTHER_WORDS, sex="male", ethnic_group="white_other")
    pseudonyms = {runtime.privacy.pseudonyms.of(key_of(c)) for c in (morgan, sam)}

    shown = await morgan.say("export my data")
    assert shown.startswith("A copy of everything held about you")
    assert "works for 15 minutes" in shown
    link = download_link(morgan)
    path = link.removeprefix("http://127.0.0.1:3978")
    assert re.fullmatch(r"/my-data/[A-Za-z0-9_-]+", path)
    # The token shows nothing of who it is for, even decoded.
    token = path.rsplit("/", 1)[1]
    decoded = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    for secret in (*pseudonyms, morgan.user.aad_object_id, morgan.user.tenant_id):
        assert secret not in link and secret.encode() not in decoded

    status, headers, raw = await get(service, path)
    assert status == 200
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["Cache-Control"] == "private, no-store"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert re.fullmatch(
        r'attachment; filename="edi-bot-my-data-\d{4}-\d{2}-\d{2}\.json"',
        headers["Content-Disposition"],
    )
    text = raw.decode("utf-8")
    held = json.loads(text)
    # Never the pseudonym, anyone's; nothing of the other person.
    for secret in pseudonyms:
        assert secret not in text and secret[:12] not in text
    assert '"pseudonym"' not in text
    assert OTHER_WORDS not in text and sam.user.aad_object_id not in text

    # What it says it is, every section described, in plain words.
    about = held["about_this_file"]
    assert about["what_this_is"].startswith("Everything the Leicestershire County Council")
    assert list(held)[1:] == list(about["sections"])
    assert "Another kind" not in json.dumps(about["sections"])
    # The declaration, own words decrypted, answers in words beside their codes.
    answers = held["equality_declaration"]["answers"]
    assert answers["sex"] == {
        "question": "Sex",
        "answer": "Female",
        "code": "female",
        "taxonomy_version": answers["sex"]["taxonomy_version"],
        "answered_on": date.today().isoformat(),
        "description": None,
    }
    assert answers["ethnic_group"]["description"] == OWN_WORDS
    assert held["equality_declaration"]["history"]
    # Event sign-up with the adjustment needs, decrypted; the network.
    [signup] = held["events"]["event_signups"]
    assert signup["title"] == "Carers' network coffee morning"
    assert signup["adjustment_needs"] == {"needs": ["other"], "details": NEEDS}
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00", signup["starts_at"])
    assert held["events"]["staff_networks"] == ["bame"]
    # The bulletin reaction and comment.
    [feedback] = held["bulletin"]["feedback"]
    assert (feedback["rating"], feedback["comment"]) == ("useful", COMMENT)
    # The confidential report, with what happened.
    [report] = held["incident_reports"]
    assert report["how_reported"] == "confidential"
    assert report["what_happened"]["narrative"] == NARRATIVE
    # Roles, where the bot reaches them, their conversation as kept (JSON, not a string).
    assert [g["role"] for g in held["roles"]] == ["organiser"]
    [reference] = held["conversation_references"]
    assert reference["conversation_id"] == morgan.user.conversation_id
    [state] = held["unfinished_conversations"]
    assert isinstance(state["unfinished_conversation"], dict)

    # The chat's summary counts the same file.
    counts = summarise(held)
    assert counts["event_signups"] == {"count": 1, "needs": 1}
    assert counts["incident_reports"]["count"] == 1
    assert counts["roles"] == {"count": 1, "names": "organiser"}
    shown = await morgan.press("Show a summary here")
    assert "Events you signed up for: 1 (1 with adjustments you asked for)" in shown
    assert "Staff networks you joined: 1" in shown
    assert "Reports you made confidentially or with your name: 1" in shown
    assert "Roles: organiser" in shown
    assert "Your reactions to bulletins: 1 (1 with a comment)" in shown
    assert "Bulletin: You're sent it each month" in shown
    assert OWN_WORDS in shown and NEEDS not in shown and NARRATIVE not in shown

    # Sam's link gives Sam's data, not Morgan's.
    await sam.say("export my data")
    status, _, raw = await get(service, download_link(sam).removeprefix("http://127.0.0.1:3978"))
    assert status == 200
    theirs = raw.decode("utf-8")
    assert OTHER_WORDS in theirs
    for morgans in (OWN_WORDS, NEEDS, COMMENT, NARRATIVE, morgan.user.aad_object_id):
        assert morgans not in theirs
    assert all(p not in theirs for p in pseudonyms)

    # Everything either person saw in the chat: never a pseudonym.
    seen = json.dumps(connector.replies(morgan.user.conversation_id)) + json.dumps(
        connector.replies(sam.user.conversation_id)
    )
    assert all(p not in seen for p in pseudonyms)

    # Each download audited by pseudonym, with no Teams id and no contents.
    async with runtime.sessions() as session:
        entries = (
            (
                await session.execute(
                    select(AuditEntry).where(AuditEntry.action == "person.copy_downloaded")
                )
            )
            .scalars()
            .all()
        )
    assert [(e.actor, e.object_type) for e in entries] == [("subject", "pseudonym")] * 2
    assert {e.object_id for e in entries} == pseudonyms
    assert not any(morgan.user.aad_object_id in json.dumps(e.detail) for e in entries)


async def test_forged_altered_foreign_and_old_links_get_nothing(
    service: Service, connector: StandInConnector
) -> None:
    runtime = runtime_of(service)
    copies = runtime.copy_links
    chat = Chat(service, connector, TeamsUser(name="Kit Moore"))
    await chat.install()
    await declare(chat, OWN_WORDS, sex="female", ethnic_group="white_other")
    person = key_of(chat)
    token = copies.token(person, now=utcnow())
    assert (await get(service, f"/my-data/{token}"))[0] == 200

    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    key_id, sealed = raw.decode().split("|", 1)
    body = base64.b64decode(sealed)
    flipped = body[:-1] + bytes([body[-1] ^ 1])
    altered = base64.urlsafe_b64encode(
        f"{key_id}|{base64.b64encode(flipped).decode()}".encode()
    ).decode()
    # A value sealed by the same keys for somewhere else is not a link either.
    elsewhere = runtime.privacy.cipher.seal(
        json.dumps({"t": person.tenant_id, "a": person.aad_object_id, "e": 2**40}),
        context="bot_state:somewhere",
    )
    transplanted = base64.urlsafe_b64encode(f"{elsewhere.key_id}|{elsewhere.token}".encode())
    # Made up from ids alone (what a signed-but-not-sealed link would carry).
    plain = base64.urlsafe_b64encode(
        json.dumps({"t": person.tenant_id, "a": person.aad_object_id, "e": 2**40}).encode()
    )
    for bad in (
        altered.rstrip("="),
        token[:-4],
        token + "A",
        transplanted.decode().rstrip("="),
        plain.decode().rstrip("="),
        "x" * 40,
        "A" * 5000,
        "%00",
    ):
        status, headers, answer = await get(service, f"/my-data/{bad}")
        assert status == 404, bad
        assert headers["Content-Type"].startswith("text/plain")
        assert headers["Cache-Control"] == "private, no-store"
        assert answer.decode().startswith("No such download.")
        assert OWN_WORDS.encode() not in answer

    old = copies.token(person, now=utcnow() - timedelta(minutes=15, seconds=5))
    status, headers, answer = await get(service, f"/my-data/{old}")
    assert status == 403
    assert headers["Content-Type"].startswith("text/plain")
    assert headers["Cache-Control"] == "private, no-store"
    assert answer.decode() == (
        'This link has expired: links to your data work for 15 minutes. Type "export my '
        'data" in your chat with the EDI bot in Teams for a new one.'
    )
    nearly = copies.token(person, now=utcnow() - timedelta(minutes=14))
    assert (await get(service, f"/my-data/{nearly}"))[0] == 200
    with pytest.raises(CopyLinkError):
        copies.check(old, now=utcnow())
    assert copies.check(nearly, now=utcnow()) == person
    assert LINK_CONTEXT not in token


async def test_the_terminal_chat_shows_where_the_link_goes_and_it_works(
    settings: Settings, engine: AsyncEngine
) -> None:
    out = io.StringIO()
    code = await run_chat(
        settings, user="Ash Green", ask=Script(out, "export my data", "1", "/quit"), out=out
    )
    assert code == 0
    transcript = out.getvalue()
    card = after(transcript, "export my data")
    assert "A copy of everything held about you" in card
    match = re.search(
        r"\[1\] Download my data \(link:\s+(http://127\.0\.0\.1:3978(/my-data/[\w-]+))\)", card
    )
    assert match, card
    pressed = " ".join(after(transcript, "1").split())
    assert f"Open this link in your browser: {match.group(1)}" in pressed
    assert transcript.count(PROMPT) >= 3

    # With `edi-bot serve` running on the same database and keys, the link downloads.
    service = await start_service(settings, engine)
    try:
        status, _, raw = await get(service, match.group(2))
        runtime = runtime_of(service)
        person = runtime.copy_links.check(match.group(2).rsplit("/", 1)[1], now=utcnow())
        pseudonym = runtime.privacy.pseudonyms.of(person)
    finally:
        await stop_service(service)
    assert status == 200
    held: dict[str, Any] = json.loads(raw)
    assert "about_this_file" in held and pseudonym not in raw.decode()


def test_the_pseudonym_is_withheld_wherever_it_is_and_times_are_iso() -> None:
    from bot.privacy.data_copy import _readable, _withhold

    pseudonym = "6d34" + "ab" * 30
    exported = {
        "pseudonym": pseudonym,
        "equality_declaration": {"pseudonym": pseudonym, "answers": {}},
        "unfinished_conversations": [
            {
                "conversation": "msteams/conversations/a:1",
                "updated_at": datetime(2026, 12, 4, 20, 13, 6, 123456),  # naive, as SQLite
                "unfinished_conversation": json.dumps({"owner": f"x{pseudonym}y"}),
            }
        ],
        "keyed": {pseudonym: [date(2026, 12, 4), (1, None, True)]},
    }
    copy = _readable(_withhold(exported, pseudonym, "(withheld)"))
    assert pseudonym not in json.dumps(copy)
    assert "pseudonym" not in copy and "pseudonym" not in copy["equality_declaration"]
    [state] = copy["unfinished_conversations"]
    assert state["updated_at"] == "2026-12-04T20:13:06+00:00"
    assert state["unfinished_conversation"] == {"owner": "x(withheld)y"}
    assert copy["keyed"] == {"(withheld)": ["2026-12-04", [1, None, True]]}


def test_the_summary_counts_each_kind_of_data() -> None:
    counts = summarise(
        {
            "events": {
                "event_signups": [
                    {"adjustment_needs": {"needs": ["bsl"]}},
                    {"adjustment_needs": None},
                ],
                "staff_networks": ["bame", "carers"],
            },
            "bulletin": {
                "sent_or_opened": [{"month": "2026-11"}],
                "feedback": [{"rating": "useful", "comment": "Good"}, {"rating": "not_useful"}],
                "unsubscribed": [],
            },
            "roles": [{"role": "case_handler"}, {"role": "admin"}],
            "action_plans": {"leads": [{}], "updates": [{}, {}], "nudges_received": 3},
            "workforce_roster": None,
        }
    )
    assert counts["event_signups"] == {"count": 2, "needs": 1}
    assert counts["staff_networks"] == {"count": 2}
    assert counts["bulletins"] == {"count": 1}
    assert counts["bulletin_reactions"] == {"count": 2, "comments": 1}
    assert counts["bulletin_unsubscribed"] == {"count": 0}
    assert counts["roles"] == {"count": 2, "names": "admin, case handler"}
    assert counts["action_plans"] == {"count": 3}
    assert counts["workforce_roster"] == {"count": 0}
    assert counts["incident_reports"] == {"count": 0}
