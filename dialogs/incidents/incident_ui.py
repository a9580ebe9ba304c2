"""Pieces the incident conversations share: reading a reply, building their cards."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from botbuilder.core import MessageFactory, TurnContext
from botbuilder.schema import Activity

from bot.channel.teams import card_message
from bot.channel.turn import Turn
from bot.core.content import Content
from bot.incidents.records import Person
from bot.incidents.taxonomy import Taxonomy


def words_of(text: str) -> str:
    """Lower case, punctuation to spaces: how typed answers are compared."""
    return " ".join(re.findall(r"[a-z0-9']+", text.lower()))


def pick(text: str, options: Mapping[str, Iterable[str]]) -> str | None:
    """The option whose code, number (1-based) or one of whose phrases was typed."""
    typed = words_of(text)
    if not typed:
        return None
    for index, (code, phrases) in enumerate(options.items(), start=1):
        if typed in {code, str(index), *(words_of(p) for p in phrases)}:
            return code
    return None


def person(turn_context: TurnContext) -> Person | None:
    """The sender as the incident service names them."""
    turn = Turn.of(turn_context)
    if turn.person is None:
        return None
    return Person(turn.person, turn.name or "A case handler")


def card(content: Content, **values: Any) -> Activity:
    """The incident card (content/incidents/cards/incident_card.json.j2) as a message."""
    values.setdefault("paragraphs", [])
    values.setdefault("sections", [])
    values.setdefault("inputs", [])
    values.setdefault("buttons", [])
    values.setdefault("note", None)
    return card_message(content.card("incident_card", **values))


def text(message: str) -> Activity:
    """A plain message."""
    return MessageFactory.text(message)


def choice_input(
    input_id: str,
    label: str,
    options: Iterable[Mapping[str, Any]],
    *,
    multi: bool = False,
    value: str | None = None,
) -> dict[str, Any]:
    """An Input.ChoiceSet element (expanded, so every option can be seen)."""
    element: dict[str, Any] = {
        "type": "Input.ChoiceSet",
        "id": input_id,
        "label": label,
        "style": "expanded",
        "isMultiSelect": multi,
        "choices": [{"title": str(o["label"]), "value": str(o["id"])} for o in options],
    }
    if value:
        element["value"] = value
    return element


def text_input(
    input_id: str,
    label: str,
    *,
    multiline: bool = False,
    max_length: int | None = None,
    value: str | None = None,
    placeholder: str | None = None,
    masked: bool = False,
) -> dict[str, Any]:
    """An Input.Text element; `masked` hides what is typed (a passphrase)."""
    element: dict[str, Any] = {
        "type": "Input.Text",
        "id": input_id,
        "label": label,
        "isMultiline": multiline,
    }
    if masked:
        element["style"] = "Password"
    if max_length:
        element["maxLength"] = max_length
    if value:
        element["value"] = value
    if placeholder:
        element["placeholder"] = placeholder
    return element


def toggle_input(input_id: str, label: str, *, value: bool = False) -> dict[str, Any]:
    """An Input.Toggle element submitting "true" or "false"."""
    return {
        "type": "Input.Toggle",
        "id": input_id,
        "title": label,
        "value": "true" if value else "false",
        "valueOn": "true",
        "valueOff": "false",
        "wrap": True,
    }


def date_input(input_id: str, label: str, *, value: str | None, latest: str) -> dict[str, Any]:
    """An Input.Date element that cannot go past `latest`."""
    element: dict[str, Any] = {"type": "Input.Date", "id": input_id, "label": label, "max": latest}
    if value:
        element["value"] = value
    return element


def codes(value: object) -> list[str]:
    """A multi-select's value ("a,b") as a list of codes; anything else as empty."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list):
        return [str(part) for part in value if isinstance(part, str) and part]
    return []


def truthy(value: object) -> bool:
    """A toggle's value."""
    return value is True or (isinstance(value, str) and value.lower() in ("true", "yes", "1"))


def detail_facts(
    tax: Taxonomy, answers: Mapping[str, Any], *, when: str, none: str
) -> list[dict[str, str]]:
    """The details of a report in words, as the review, the receipt and the case card show
    them: every answer given, each "something else" with what it was, and `when` (the date
    and the "roughly when" words together)."""
    others = answers.get("others") or {}

    def with_other(name: str, labels: str) -> str:
        said = others.get(name)
        if not said:
            return labels or none
        return f"{labels} ({said})" if labels else said

    return [
        {
            "title": "Motivation",
            "value": with_other(
                "motivations", tax.labels("motivations", answers.get("motivations") or [])
            ),
        },
        {
            "title": "Kind",
            "value": with_other("kinds", tax.labels("kinds", answers.get("kinds") or [])),
        },
        {"title": "When", "value": when or none},
        {
            "title": "Where",
            "value": with_other("location", tax.label("location", answers.get("location"))),
        },
        {
            "title": "Who did it",
            "value": tax.label("perpetrator", answers.get("perpetrator")) or none,
        },
        {"title": "How often", "value": tax.label("frequency", answers.get("frequency")) or none},
        {
            "title": "Possibly a crime",
            "value": tax.label("possible_crime", answers.get("possible_crime")) or none,
        },
        {"title": "Impact", "value": answers.get("impact") or none},
    ]


def when_text(day: str, approx: str | None) -> str:
    """A date and the "roughly when" words, whichever were given ("3 March 2026; most
    Mondays since June")."""
    return "; ".join(part for part in (day, (approx or "").strip()) if part)
