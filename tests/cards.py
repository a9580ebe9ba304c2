"""Reading what a person sees in a reply: its text, its cards' text and buttons."""

from __future__ import annotations

from typing import Any

from bot.core.content import as_typed


def _activity_dict(activity: Any) -> dict[str, Any]:
    if isinstance(activity, dict):
        return activity
    serialized: dict[str, Any] = activity.serialize()
    return serialized


def _walk(elements: list[Any], out: list[str]) -> None:
    for element in elements or []:
        if not isinstance(element, dict):
            continue
        # People's words reach a card escaped (plain_text); a person sees them as typed.
        if element.get("type") == "TextBlock":
            out.append(as_typed(str(element.get("text", ""))))
        if element.get("type") == "FactSet":
            out.extend(
                f"{as_typed(str(f.get('title')))}: {as_typed(str(f.get('value')))}"
                for f in element.get("facts", [])
            )
        _walk(element.get("items", []), out)
        for column in element.get("columns", []):
            _walk(column.get("items", []), out)


def cards(activity: Any) -> list[dict[str, Any]]:
    """The Adaptive Cards attached to an activity (object or wire JSON)."""
    data = _activity_dict(activity)
    return [
        a["content"]
        for a in data.get("attachments") or []
        if a.get("contentType") == "application/vnd.microsoft.card.adaptive"
    ]


def visible_text(activity: Any) -> str:
    """Everything a person can read in a reply: its text and every TextBlock, one per line."""
    data = _activity_dict(activity)
    lines = [as_typed(str(data["text"]))] if data.get("text") else []
    for card in cards(activity):
        _walk(card.get("body", []), lines)
    return "\n".join(lines)


def buttons(activity: Any) -> list[tuple[str, Any]]:
    """(title, data) of every Action.Submit on the reply's cards."""
    found: list[tuple[str, Any]] = []
    for card in cards(activity):
        actions = list(card.get("actions", []))
        for element in card.get("body", []):
            if isinstance(element, dict) and element.get("type") == "ActionSet":
                actions.extend(element.get("actions", []))
        for action in actions:
            if action.get("type") == "Action.Submit":
                found.append((action.get("title"), action.get("data")))
    return found


def dicts_in(node: Any) -> list[dict[str, Any]]:
    """Every dict inside a card (or any JSON), in order."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found.extend(dicts_in(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(dicts_in(value))
    return found


def elements(activity: Any) -> list[dict[str, Any]]:
    """Every element on a reply's cards, in order: inputs, actions, blocks."""
    return dicts_in(cards(activity))


def inputs(activity: Any) -> list[dict[str, Any]]:
    """Every input on a reply's cards."""
    return [e for e in elements(activity) if str(e.get("type", "")).startswith("Input.")]
