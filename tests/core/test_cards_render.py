"""Every card template, filled with realistic values, checked against Microsoft's renderer.

Each template in content/*/cards/ needs a sample at tests/card_samples/<template>.yaml (a mapping
of its variables); more samples of one template may be added as <template>.<variant>.yaml.
Each sample is rendered through `Content.card`, then checked: Adaptive Cards version 1.5 or
lower (what Teams renders for bots), the whole message under Teams' practical 80 KB, and the
official `adaptivecards` JavaScript renderer, in headless chromium with Teams' host config,
parses, validates and renders it with no error or warning. Screenshots of every card go to
var/test-artifacts/cards/.
"""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.channel.transport import activity_of
from bot.config import DEFAULT_CONTENT_DIR
from bot.core.content import WORD_JOINER, Content, as_typed, plain_text
from bot.outbox.queue import queued_card
from tests import js_tools

SAMPLES = Path(__file__).resolve().parent.parent / "card_samples"
TEMPLATES = sorted(
    p.name.removesuffix(".json.j2") for p in DEFAULT_CONTENT_DIR.glob("*/cards/*.json.j2")
)
SAMPLE_NAMES = sorted(p.name.removesuffix(".yaml") for p in SAMPLES.glob("*.yaml"))
# Teams refuses messages over about 100 KB; 80 KB is the practical ceiling for the whole activity.
MAX_ACTIVITY_BYTES = 80 * 1024
HIGHEST_VERSION = (1, 5)

# What the Bot Connector wraps around a reply: Teams-length ids, names and the service URL.
ENVELOPE: dict[str, Any] = {
    "type": "message",
    "id": "1:1" + "x" * 60,
    "timestamp": "2026-11-23T09:00:00.000Z",
    "channelId": "msteams",
    "serviceUrl": "https://smba.trafficmanager.net/uk/01234567-89ab-cdef-0123-456789abcdef/",
    "from": {"id": "28:" + "b" * 36, "name": "EDI bot"},
    "conversation": {
        "conversationType": "personal",
        "tenantId": "01234567-89ab-cdef-0123-456789abcdef",
        "id": "a:1" + "c" * 120,
    },
    "recipient": {
        "id": "29:1" + "d" * 120,
        "name": "Firstname Double-Barrelled Surname",
        "aadObjectId": "01234567-89ab-cdef-0123-456789abcdef",
    },
    "replyToId": "1" * 13,
    "locale": "en-GB",
}


def template_of(sample: str) -> str:
    """The template a sample fills: `incident_card.case` fills `incident_card`."""
    return sample.split(".", 1)[0]


@cache
def rendered(sample: str) -> dict[str, Any]:
    """The card a sample renders to, through the bot's own Content.card."""
    values = yaml.safe_load((SAMPLES / f"{sample}.yaml").read_text(encoding="utf-8"))
    assert isinstance(values, dict), f"tests/card_samples/{sample}.yaml must be a mapping"
    return Content(DEFAULT_CONTENT_DIR).card(template_of(sample), **values)


def test_every_template_has_a_sample() -> None:
    missing = [name for name in TEMPLATES if name not in SAMPLE_NAMES]
    assert not missing, (
        "add a realistic sample at tests/card_samples/<name>.yaml for: " + ", ".join(missing)
    )


def test_every_sample_fills_a_template() -> None:
    orphans = [name for name in SAMPLE_NAMES if template_of(name) not in TEMPLATES]
    assert not orphans, f"samples for templates that do not exist: {orphans}"


def _versions(card: Any) -> list[str]:
    """The version of a card and of every card nested in it (Action.ShowCard)."""
    found: list[str] = []
    if isinstance(card, dict):
        if card.get("type") == "AdaptiveCard":
            found.append(str(card.get("version")))
        for value in card.values():
            found.extend(_versions(value))
    elif isinstance(card, list):
        for value in card:
            found.extend(_versions(value))
    return found


@pytest.mark.parametrize("sample", SAMPLE_NAMES)
def test_card_is_teams_sized_and_at_most_version_1_5(sample: str) -> None:
    card = rendered(sample)
    assert card.get("type") == "AdaptiveCard"
    for version in _versions(card):
        major, minor = (int(part) for part in version.split("."))
        assert (major, minor) <= HIGHEST_VERSION, f"{sample}: version {version} is above 1.5"
    queued = queued_card(card, summary="A summary line for the chat list")
    activity = {**ENVELOPE, **activity_of(queued)}
    size = len(json.dumps(activity, ensure_ascii=False).encode("utf-8"))
    assert size < MAX_ACTIVITY_BYTES, f"{sample}: the message is {size} bytes"


@pytest.fixture(scope="module")
def renderer_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every sample rendered by the official renderer in one chromium page load."""
    js_tools.node()
    js_tools.chromium()
    cards = []
    broken: dict[str, Any] = {}
    for sample in SAMPLE_NAMES:
        try:
            cards.append({"name": sample, "card": rendered(sample)})
        except Exception as error:  # noqa: BLE001 - one broken sample fails only its own test
            broken[sample] = {"problems": [f"does not render: {error!r}"]}
    cards_file = tmp_path_factory.mktemp("cards") / "cards.json"
    cards_file.write_text(json.dumps(cards), encoding="utf-8")
    shots = js_tools.ARTIFACTS / "cards"
    shutil.rmtree(shots, ignore_errors=True)
    output = js_tools.run_node("render_cards.mjs", str(cards_file), str(shots))
    assert output["pageErrors"] == []
    return {**broken, **{result["name"]: result for result in output["results"]}}


# Teams' people picker is an Input.ChoiceSet with `choices.data` (a Data.Query of the
# directory) and no static choices, as Microsoft documents it for Teams cards of version 1.2
# and later ("People Picker in Adaptive Cards"). The official renderer, which cannot search a
# directory, calls the property a 1.6 one and the empty list invalid: on a card with a people
# picker, and only there, those two findings are Teams' extension, not a mistake.
PEOPLE_PICKER_FINDINGS = (
    'Property "choices.data" is supported in version 1.6',
    "An Input.ChoiceSet must have at least one choice defined.",
)


def problems_of(card: dict[str, Any], problems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The renderer's findings on `card`, less those about a Teams people picker on it."""
    pickers = [
        e
        for e in _elements(card)
        if e.get("type") == "Input.ChoiceSet" and isinstance(e.get("choices.data"), dict)
    ]
    if not pickers:
        return problems
    return [p for p in problems if not str(p.get("message", "")).startswith(PEOPLE_PICKER_FINDINGS)]


def _elements(node: Any) -> list[dict[str, Any]]:
    """Every object in a card, nested ones too."""
    if isinstance(node, list):
        return [found for item in node for found in _elements(item)]
    if not isinstance(node, dict):
        return []
    return [node, *(found for value in node.values() for found in _elements(value))]


@pytest.mark.parametrize("sample", SAMPLE_NAMES)
def test_official_renderer_shows_card_without_errors_or_warnings(
    sample: str, renderer_results: dict[str, Any]
) -> None:
    result = renderer_results[sample]
    problems = problems_of(rendered(sample), result["problems"])
    assert problems == [], f"{sample}: {problems}"
    assert (js_tools.ARTIFACTS / "cards" / f"{sample}.png").exists()
    card = rendered(sample)
    # What the renderer shows includes the card's first line, and a button for every action.
    first_text = next(e["text"] for e in card["body"] if e.get("type") == "TextBlock")
    shown = " ".join(result["text"].replace("\u2060", "").replace("\u00a0", " ").split())
    assert " ".join(as_typed(first_text).replace("**", "").split()) in shown
    submit_titles = [
        action["title"]
        for action in _actions(card)
        if action.get("type") in ("Action.Submit", "Action.OpenUrl", "Action.Execute")
    ]
    assert sorted(result["buttons"]) == sorted(submit_titles)


def _actions(node: Any) -> list[dict[str, Any]]:
    """Every action anywhere in a card: its action bar and every ActionSet."""
    if isinstance(node, list):
        return [action for item in node for action in _actions(item)]
    if not isinstance(node, dict):
        return []
    own = [action for action in node.get("actions", []) if isinstance(action, dict)]
    return own + [a for key, value in node.items() if key != "actions" for a in _actions(value)]


# ---- people's words: shown as typed, never as links or formatting ----------------------------
#
# Every TextBlock text and FactSet in a template goes through a filter that says what it holds
# (bot.content, docs/architecture.md "People's words in cards"): `|plain` (plain text: the
# template escapes it), `|plain_facts` (a FactSet, titles and values plain), `|md` (Markdown the
# bot wrote; people's words in it arrive escaped by `plain_text`) or `|link(url)`.

_SLOT = re.compile(r'"(text|facts)":\s*(\{\{.*?\}\})')
_FILTERED = re.compile(r"\|\s*(plain|plain_facts|md|link)\b")


def test_every_text_slot_says_whether_it_is_plain_text_or_markdown() -> None:
    unfiltered = [
        f"{path.relative_to(DEFAULT_CONTENT_DIR)}:{number}: {match.group(0)}"
        for path in sorted(DEFAULT_CONTENT_DIR.glob("*/cards/*.json.j2"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        for match in _SLOT.finditer(line)
        if not _FILTERED.search(match.group(2))
    ]
    assert not unfiltered, (
        "give every card text a filter: |plain (people's words, or any plain text), "
        "|plain_facts, |md (bot-written Markdown) or |link(url):\n" + "\n".join(unfiltered)
    )


def hostile(marker: str) -> str:
    """A person's words that would be links, images, formatting and HTML if not escaped."""
    return (
        f"{marker} [click](http://evil.example/{marker}) **bold** __strong__ _it_ *it* "
        "<b>x</b> <a href='http://evil.example'>a</a> &lt; &#60; `code` ~~gone~~ \\ "
        "http://evil.example/x www.evil.com evil.co.uk mailto:a@evil.com a@evil.com "
        "![img](http://evil.example/i.png) <http://evil.example> {{DATE(2027-01-20T10:00:00Z)}}\n"
        "# heading\n- item\n1. item\n> quote\n    indented\n---"
    )


def _leaves(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [leaf for value in node.values() for leaf in _leaves(value)]
    if isinstance(node, list):
        return [leaf for value in node for leaf in _leaves(value)]
    return []


def _slots(sample: str) -> tuple[set[int], set[int]]:
    """Which of a sample's strings the template shows as plain text, and which as Markdown."""
    content = Content(DEFAULT_CONTENT_DIR)
    filters = content._templates.filters
    plain_ids: set[int] = set()
    md_ids: set[int] = set()

    def traced(ids: set[int], name: str) -> Any:
        original = filters[name]

        def record(value: Any, *args: Any) -> Any:
            for leaf in _leaves(value) if name == "plain_facts" else [value]:
                ids.add(id(leaf))
            return original(value, *args)

        return record

    filters.update(
        plain=traced(plain_ids, "plain"),
        plain_facts=traced(plain_ids, "plain_facts"),
        link=traced(plain_ids, "link"),
        md=traced(md_ids, "md"),
    )
    content.card(template_of(sample), **_values(sample))
    return plain_ids, md_ids


@cache
def _values_cached(sample: str) -> Any:
    return yaml.safe_load((SAMPLES / f"{sample}.yaml").read_text(encoding="utf-8"))


def _values(sample: str) -> dict[str, Any]:
    values = _values_cached(sample)
    assert isinstance(values, dict)
    return values


def hostile_values(sample: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The sample with a person's hostile words in every text slot, and the words by marker.

    A `|plain` slot gets them raw (the template must escape them); a `|md` slot gets them as
    the code must pass them, through `plain_text`.
    """
    plain_ids, md_ids = _slots(sample)
    typed: dict[str, str] = {}

    def swap(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: swap(value) for key, value in node.items()}
        if isinstance(node, list):
            return [swap(value) for value in node]
        if isinstance(node, str) and node and id(node) in plain_ids | md_ids:
            marker = f"Zq{len(typed)}q"
            typed[marker] = hostile(marker)
            return typed[marker] if id(node) in plain_ids else plain_text(typed[marker])
        return node

    return swap(_values(sample)), typed


def texts_of(card: Any) -> list[dict[str, Any]]:
    """Every TextBlock and every Fact of a card, each as a one-element card of its own."""
    found: list[dict[str, Any]] = []
    if isinstance(card, dict):
        if card.get("type") == "TextBlock":
            found.append({**card, "isVisible": True})
        if card.get("type") == "FactSet":
            found.extend({"type": "FactSet", "facts": [fact]} for fact in card.get("facts", []))
        for key, value in card.items():
            if key != "facts":
                found.extend(texts_of(value))
    elif isinstance(card, list):
        for value in card:
            found.extend(texts_of(value))
    return found


def _one(element: dict[str, Any]) -> dict[str, Any]:
    return {"type": "AdaptiveCard", "version": "1.5", "body": [element]}


def shown(text: str) -> str:
    """What a person reads, whitespace run together (the renderer's innerText)."""
    return " ".join(text.replace(WORD_JOINER, "").replace("\u00a0", " ").split())


def render_many(cards: list[dict[str, Any]], directory: Path) -> dict[str, Any]:
    """Render named cards in one page load; results by name."""
    js_tools.node()
    js_tools.chromium()
    cards_file = directory / "cards.json"
    cards_file.write_text(json.dumps(cards), encoding="utf-8")
    output = js_tools.run_node("render_cards.mjs", str(cards_file))
    assert output["pageErrors"] == []
    return {result["name"]: result for result in output["results"]}


def assert_shown_as_typed(
    name: str, result: dict[str, Any], baseline: dict[str, Any], typed: dict[str, str]
) -> None:
    """Nothing in `result` came from the people's words in it, and they read as typed."""
    visible = shown(result["text"])
    for marker, words in typed.items():
        if marker in result["text"]:
            assert shown(words) in visible, f"{name}: {words!r} is shown as {visible!r}"
    assert not result["images"], f"{name}: images {result['images']}"
    extra_links = Counter(result["links"]) - Counter(baseline["links"])
    assert not extra_links, f"{name}: people's words made links {list(extra_links)}"
    extra_autolinks = Counter(result["linkified"]) - Counter(baseline["linkified"])
    assert not extra_autolinks, f"{name}: a linkifier would find {list(extra_autolinks)}"
    extra = {
        tag: count - baseline["formatting"].get(tag, 0)
        for tag, count in result["formatting"].items()
        if count > baseline["formatting"].get(tag, 0)
    }
    assert not extra, f"{name}: people's words made formatting {extra}"


@pytest.fixture(scope="module")
def hostile_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Each sample's texts, as given and with hostile words, through the official renderer."""
    cards: list[dict[str, Any]] = []
    cases: dict[str, Any] = {}
    for sample in SAMPLE_NAMES:
        values, typed = hostile_values(sample)
        card = Content(DEFAULT_CONTENT_DIR).card(template_of(sample), **values)
        plain, attacked = texts_of(rendered(sample)), texts_of(card)
        assert len(plain) == len(attacked), f"{sample}: hostile words changed the card's shape"
        cards.append({"name": f"{sample}/card", "card": card})
        for index, (before, after) in enumerate(zip(plain, attacked, strict=True)):
            cards.append({"name": f"{sample}/{index}/given", "card": _one(before)})
            cards.append({"name": f"{sample}/{index}/hostile", "card": _one(after)})
        cases[sample] = (typed, len(plain))
    results = render_many(cards, tmp_path_factory.mktemp("hostile"))
    return {"cases": cases, "results": results}


@pytest.mark.parametrize("sample", SAMPLE_NAMES)
def test_peoples_words_show_as_typed_in_every_text_slot(
    sample: str, hostile_results: dict[str, Any]
) -> None:
    typed, count = hostile_results["cases"][sample]
    results = hostile_results["results"]
    assert typed, f"{sample}: no text slot of {template_of(sample)} was filled"
    whole = results[f"{sample}/card"]
    problems = problems_of(rendered(sample), whole["problems"])
    assert problems == [], f"{sample}: {problems}"
    reached: set[str] = set()
    for index in range(count):
        result = results[f"{sample}/{index}/hostile"]
        assert_shown_as_typed(
            f"{sample} text {index}", result, results[f"{sample}/{index}/given"], typed
        )
        reached.update(marker for marker in typed if marker in result["text"])
    assert reached == set(typed), f"{sample}: never shown: {sorted(set(typed) - reached)}"


@pytest.mark.parametrize("sample", SAMPLE_NAMES)
def test_every_card_says_something_where_it_cannot_be_shown(sample: str) -> None:
    """fallbackText: a client that cannot show the card shows its opening words instead."""
    card = rendered(sample)
    fallback = card.get("fallbackText")
    assert isinstance(fallback, str)
    assert fallback.endswith("see all of it and use its buttons.")
    texts = [block["text"] for block in _blocks(card) if block.get("type") == "TextBlock"]
    if texts:
        assert fallback.startswith(texts[0].strip()[:40]), (sample, fallback[:80])
    assert len(fallback) < 700


def _blocks(node: Any) -> list[dict[str, Any]]:
    """Every element of a card, containers and columns included, in reading order."""
    found: list[dict[str, Any]] = []
    items = node.get("body") if isinstance(node, dict) and "body" in node else node
    for element in items if isinstance(items, list) else []:
        if isinstance(element, dict):
            found.append(element)
            for key in ("items", "columns"):
                found.extend(_blocks(element.get(key)))
    return found
