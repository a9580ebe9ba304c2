"""Every card template, filled with realistic values, checked against Microsoft's renderer.

Each template in content/cards/ needs a sample at tests/card_samples/<template>.yaml (a mapping
of its variables); more samples of one template may be added as <template>.<variant>.yaml.
Each sample is rendered through `Content.card`, then checked: Adaptive Cards version 1.5 or
lower (what Teams renders for bots), the whole message under Teams' practical 80 KB, and the
official `adaptivecards` JavaScript renderer, in headless chromium with Teams' host config,
parses, validates and renders it with no error or warning. Screenshots of every card go to
var/test-artifacts/cards/.
"""

from __future__ import annotations

import json
import shutil
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import DEFAULT_CONTENT_DIR
from bot.content import Content
from bot.outbox import card_activity
from tests import js_tools

SAMPLES = Path(__file__).resolve().parent / "card_samples"
TEMPLATES = sorted(
    p.name.removesuffix(".json.j2") for p in (DEFAULT_CONTENT_DIR / "cards").glob("*.json.j2")
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
    activity = {**ENVELOPE, **card_activity(card, summary="A summary line for the chat list")}
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


@pytest.mark.parametrize("sample", SAMPLE_NAMES)
def test_official_renderer_shows_card_without_errors_or_warnings(
    sample: str, renderer_results: dict[str, Any]
) -> None:
    result = renderer_results[sample]
    assert result["problems"] == [], f"{sample}: {result['problems']}"
    assert (js_tools.ARTIFACTS / "cards" / f"{sample}.png").exists()
    card = rendered(sample)
    # What the renderer shows includes the card's first line, and a button for every action.
    first_text = next(e["text"] for e in card["body"] if e.get("type") == "TextBlock")
    assert first_text.replace("**", "") in result["text"].replace("**", "")
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
