"""People's words are always shown as plain text: every place a card or message is built with
what a person typed (or their name from Teams), walked end to end with words that would be
links, images, formatting and HTML, and every reply put through the official Adaptive Cards
renderer (tests/js/render_cards.mjs, Markdown as permissive as any Teams client).

What is checked: nothing a person typed becomes a link (written, bare URL, www. name or e-mail
address), an image or formatting, and what they typed reads exactly as typed. The function
that does it is bot.core.content.plain_text; the design is in docs/architecture.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.config import DEFAULT_CONTENT_DIR, Settings
from bot.core.content import WORD_JOINER, Content, ContentError, as_typed, plain_text
from tests import js_tools
from tests.cards import cards, visible_text
from tests.chat import Chat
from tests.connector import StandInConnector
from tests.events.test_events import create_event, organiser, person, set_clock, sign_up
from tests.incidents.test_incidents import deliver, make_handler, receipt_value, walk_to_review
from tests.service import Service
from tests.teams import TeamsUser

pytestmark = pytest.mark.e2e

# Words inside the Markdown: if any of them ends up inside a link, emphasis, list, heading,
# code or HTML element, a person's words were read as Markdown.
MARKERS = ("Zlink", "Zbold", "Zital", "Zhtml", "Zcode", "Zimg", "Zhead", "Zlist", "Zord")


def hostile(who: str, *, lines: bool = True) -> str:
    """What a person might type (or be called): Markdown, HTML and URLs, with markers."""
    words = (
        f"{who} [Zlink](http://evil.example/{who}) **Zbold** _Zital_ <b>Zhtml</b> `Zcode` "
        "![Zimg](http://evil.example/i.png) http://evil.example/x www.evil.com a@evil.com"
    )
    return words + ("\n# Zhead\n- Zlist\n1. Zord" if lines else "")


def shown(text: str) -> str:
    """What a person reads, whitespace run together (the renderer's innerText)."""
    return " ".join(text.replace(WORD_JOINER, "").replace("\u00a0", " ").split())


def _pieces(element: Any) -> list[dict[str, Any]]:
    """Each part of a card that Teams shows as Markdown, as an element of its own."""
    found: list[dict[str, Any]] = []
    if isinstance(element, dict):
        kind = element.get("type")
        if kind == "TextBlock":
            found.append(element)
        elif kind == "FactSet":
            found.extend({"type": "FactSet", "facts": [f]} for f in element.get("facts", []))
        elif kind == "Input.Toggle" or (
            kind == "Input.ChoiceSet" and element.get("style") == "expanded"
        ):
            found.append(element)  # their titles are Markdown too (adaptivecards' default)
        for key, value in element.items():
            if key != "facts":
                found.extend(_pieces(value))
    elif isinstance(element, list):
        for value in element:
            found.extend(_pieces(value))
    return found


def render_replies(replies: list[Any], directory: Path) -> list[dict[str, Any]]:
    """Every message text and card part of the replies, through the official renderer."""
    js_tools.node()
    js_tools.chromium()
    elements: list[dict[str, Any]] = []
    for reply in replies:
        data = reply if isinstance(reply, dict) else reply.serialize()
        if data.get("text"):
            # Teams shows a message's text as Markdown, as it does a TextBlock's.
            elements.append({"type": "TextBlock", "text": data["text"], "wrap": True})
        for card in cards(reply):
            elements.extend(_pieces(card.get("body", [])))
    batch = [
        {"name": str(i), "card": {"type": "AdaptiveCard", "version": "1.5", "body": [e]}}
        for i, e in enumerate(elements)
    ]
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "cards.json").write_text(json.dumps(batch), encoding="utf-8")
    output = js_tools.run_node("render_cards.mjs", str(directory / "cards.json"))
    assert output["pageErrors"] == []
    results: list[dict[str, Any]] = output["results"]
    return results


def assert_as_typed(replies: list[Any], typed: list[str], directory: Path) -> None:
    """No link, image or formatting came from `typed` in `replies`; each reads as typed."""
    results = render_replies(replies, directory)
    problems = []
    for result in results:
        bad_links = [u for u in result["links"] + result["linkified"] if "evil" in u]
        formatted = [(t, s) for t, s in result["formatted"] if any(m in s for m in MARKERS)]
        if bad_links or result["images"] or formatted:
            problems.append(
                f"{result['text'][:120]!r}: links {bad_links}, images {result['images']}, "
                f"formatting {formatted}"
            )
    visible = [shown(result["text"]) for result in results]
    for words in typed:
        if not any(shown(words) in text for text in visible):
            problems.append(f"{words!r} is not shown as typed")
    assert not problems, "\n".join(problems)


# ---- events: organisers' words, attendees' names and adjustment notes ----------------------


async def test_events_show_organisers_and_attendees_words_as_typed(
    service: Service, connector: StandInConnector, tmp_path: Path
) -> None:
    set_clock(service)
    boss = await organiser(service, connector, "Olu Organiser", ("big_conversation",))
    title = hostile("title", lines=False)[:200]
    slug = await create_event(
        service,
        title=title,
        description=hostile("description"),
        location=hostile("location", lines=False),
        accessibility=hostile("accessibility"),
        capacity=5,
    )
    name = hostile("name", lines=False)
    came = await person(service, connector, name)
    details = hostile("details")

    # The attendee reads the event, signs up (with a note), and signs up again.
    await came.tap({"command": "event details", "event": slug})
    replies = list(came.last)
    await sign_up(came, slug, needs="captions,other", details=details)
    replies += came.last
    await sign_up(came, slug)
    replies += came.last
    # The organiser sees who is coming, with names, needs and attendance toggles.
    await boss.say("organise events")
    replies += boss.last
    await boss.tap({"choice": "attendees", "event": slug})
    replies += boss.last
    await boss.tap({"choice": "cancel event", "event": slug})
    replies += boss.last
    await boss.tap({"choice": "confirm cancel", "event": slug})
    replies += boss.last
    assert_as_typed(
        replies,
        [
            title,
            hostile("description"),
            hostile("location", lines=False),
            hostile("accessibility"),
            name,
            details,
        ],
        tmp_path,
    )


# ---- incidents: the reporter's review and receipt, the case card, their messages ------------


async def _report(chat: Chat, narrative: str, impact: str) -> list[Any]:
    """A confidential report with these words; the replies up to and with the receipt."""
    await walk_to_review(chat, "Confidentially", narrative=narrative, impact=impact)
    replies = list(chat.last)  # the review card
    await chat.press("Submit my report")
    return replies + chat.last  # and the receipt


async def test_the_reporters_review_and_receipt_show_their_words_as_typed(
    service: Service, connector: StandInConnector, tmp_path: Path
) -> None:
    chat = Chat(service, connector, TeamsUser(name="Rosa Reporter"))
    await chat.install()
    narrative, impact = hostile("narrative"), hostile("impact")
    replies = await _report(chat, narrative, impact)
    assert_as_typed(replies, [narrative, impact], tmp_path)


async def test_the_case_handlers_see_reporters_words_and_names_as_typed(
    service: Service, connector: StandInConnector, settings: Settings, tmp_path: Path
) -> None:
    handler = await make_handler(service, connector, hostile("handler", lines=False))
    name = hostile("reporter", lines=False)
    chat = Chat(service, connector, TeamsUser(name=name))
    await chat.install()
    narrative, impact = hostile("narrative"), hostile("impact")
    reference = receipt_value("\n".join(await _text(chat, narrative, impact)), "Your reference")
    await deliver(service, settings)
    handler.last = connector.replies(handler.user.conversation_id)
    await handler.press(f"Open {reference}")
    replies = list(handler.last)
    assert_as_typed(replies, [narrative, impact, name], tmp_path)


async def test_messages_between_handler_and_reporter_show_as_typed(
    service: Service, connector: StandInConnector, settings: Settings, tmp_path: Path
) -> None:
    handler = await make_handler(service, connector, "Casey Handler")
    chat = Chat(service, connector, TeamsUser(name="Rosa Reporter"))
    await chat.install()
    reference = receipt_value(
        "\n".join(await _text(chat, "A visitor shouted abuse.", "")), "Your reference"
    )
    await deliver(service, settings)
    handler.last = connector.replies(handler.user.conversation_id)
    await handler.press(f"Open {reference}")
    await handler.press("Message the reporter")
    body = hostile("handler")
    await handler.press("Save", body=body)
    await deliver(service, settings)
    await chat.say("check report")
    await chat.say(reference)
    replies = list(chat.last)
    note = hostile("note")
    await chat.press("Add to my report", note=note)
    await deliver(service, settings)
    await handler.say(reference)
    replies += handler.last
    replies += connector.replies(chat.user.conversation_id)
    assert_as_typed(replies, [body, note], tmp_path)


async def _text(chat: Chat, narrative: str, impact: str) -> list[str]:
    return [visible_text(reply) for reply in await _report(chat, narrative, impact)]


def test_the_checks_would_catch_words_not_escaped(tmp_path: Path) -> None:
    words = hostile("raw")
    raw = {"type": "message", "text": words}
    with pytest.raises(AssertionError, match="Zlink"):
        assert_as_typed([raw], [words], tmp_path / "raw")
    escaped = {"type": "message", "text": plain_text(words)}
    assert_as_typed([escaped], [words], tmp_path / "escaped")


# ---- the function itself ---------------------------------------------------------------------

# Each makes a link, an image, formatting or HTML in markdown-it (the first) or does something
# a person did not type (the rest): a test that they are shown as typed.
SAMPLES = [
    "[click](http://evil.example)",
    "**bold** __bold__ _it_ *it* ~~gone~~ `code`",
    "# heading",
    "Title\n===",
    "Title\n---",
    "- item\n+ item\n* item",
    "1. item\n2) item",
    "> quote",
    "    indented code\n\ttabbed",
    "```\nfenced\n```",
    "<b>x</b> <script>alert(1)</script> <!-- c --> <http://evil.example>",
    "&lt; &amp; &#60; &#x3c; and fish & chips",
    "http://evil.example/x https://evil.example/a_(b)_c ftp://evil.com //evil.com",
    "www.evil.com evil.com EVIL.COM evil.co.uk www.evil.рф evil.com/path?q=1",
    "mailto:a@evil.com a@evil.com xmpp:a@evil.com first_last@evil.com",
    "![img](http://evil.example/i.png)",
    "[x]: http://evil.example\n[x]",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "{{DATE(2027-01-20T10:00:00Z, SHORT)}}",
    "\\ back\\slash \\* \\[x\\](y)",
    "***\n___\n* * *",
    "10:30 on 1.5.2026, e.g. 55_64, action 4.1, -5, #tag, O'Brien (HR) — café 😀",
    "line one\n\n- item\n  \nlast",
]


def test_plain_text_shows_everything_as_typed_in_the_renderer(tmp_path: Path) -> None:
    raw = render_replies([{"type": "message", "text": s} for s in SAMPLES], tmp_path / "raw")
    # Unescaped, each of the first twenty does become something: the renderer is not blind.
    for sample, result in list(zip(SAMPLES, raw, strict=True))[:18]:
        made = result["links"] + result["images"] + result["linkified"] + result["formatted"]
        assert made or shown(result["text"]) != shown(sample), f"{sample!r} did nothing raw"
    escaped = render_replies(
        [{"type": "message", "text": plain_text(s)} for s in SAMPLES], tmp_path / "escaped"
    )
    for sample, result in zip(SAMPLES, escaped, strict=True):
        assert not result["links"] and not result["images"], sample
        assert not result["linkified"] and not result["formatted"], (sample, result)
        assert shown(result["text"]) == shown(sample)


def test_plain_text_is_idempotent_and_as_typed_undoes_it() -> None:
    for sample in SAMPLES:
        once = plain_text(sample)
        assert plain_text(once) is once
        # Leading spaces and tabs come back as spaces (they are sent as no-break spaces).
        assert as_typed(once) == sample.replace("\n\t", "\n ")


def test_a_card_link_is_http_with_its_address_encoded() -> None:
    content = Content(DEFAULT_CONTENT_DIR)
    link = content._templates.filters["link"]
    assert link("More **info**", "https://example.org/a b(c)") == (
        "[More \\*\\*info\\*\\*](https://example.org/a%20b%28c%29)"
    )
    with pytest.raises(ContentError, match="http"):
        link("Click", "javascript:alert(1)")
