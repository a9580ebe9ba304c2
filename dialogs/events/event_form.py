"""The organisers' event form (event_admin.py): its inputs, an event's values to fill them,
and what was sent back read into an `EventDraft` with the problems to show."""

from __future__ import annotations

from typing import Any

from bot.core.clock import LONDON
from bot.core.content import plain_text
from bot.events.models import Event
from bot.events.networks import BIG_CONVERSATION
from bot.events.records import EventDraft, aware, parse_local
from bot.events.service import EventService

FIELD_LIMIT = 2000


def form_inputs(
    labels: dict[str, Any], v: dict[str, Any], host_choices: list[dict[str, str]]
) -> list[dict[str, Any]]:
    """The event form's inputs, filled with `v` (an event's values, or what was sent)."""

    def text(
        input_id: str, multiline: bool = False, max_length: int = FIELD_LIMIT
    ) -> dict[str, Any]:
        element: dict[str, Any] = {
            "type": "Input.Text",
            "id": input_id,
            "label": labels[input_id],
            "isMultiline": multiline,
            "maxLength": max_length,
        }
        if v.get(input_id):
            element["value"] = str(v[input_id])
        return element

    def typed(kind: str, input_id: str) -> dict[str, Any]:
        element: dict[str, Any] = {"type": kind, "id": input_id, "label": labels[input_id]}
        if v.get(input_id):
            element["value"] = str(v[input_id])
        return element

    host = {
        "type": "Input.ChoiceSet",
        "id": "host",
        "label": labels["host"],
        "style": "compact",
        "choices": host_choices,
        "value": str(v.get("host") or host_choices[0]["value"]),
    }
    return [
        text("title", max_length=200),
        host,
        text("description", multiline=True),
        typed("Input.Date", "start_date"),
        typed("Input.Time", "start_time"),
        typed("Input.Time", "end_time"),
        typed("Input.Date", "deadline_date"),
        typed("Input.Time", "deadline_time"),
        text("location", max_length=500),
        text("online_url", max_length=1000),
        typed("Input.Number", "capacity"),
        text("accessibility", multiline=True),
    ]


def values_of(events: EventService, event: Event) -> dict[str, Any]:
    """An event's values, as the form shows them (London times)."""
    start = aware(event.starts_at).astimezone(LONDON)
    end = aware(event.ends_at).astimezone(LONDON)
    deadline = aware(event.signup_deadline).astimezone(LONDON)
    return {
        "title": event.title,
        "host": events.scope_of(event),
        "description": event.description,
        "start_date": start.date().isoformat(),
        "start_time": start.strftime("%H:%M"),
        "end_time": end.strftime("%H:%M"),
        "deadline_date": deadline.date().isoformat(),
        "deadline_time": deadline.strftime("%H:%M"),
        "location": event.location or "",
        "online_url": event.online_url or "",
        "capacity": str(event.capacity),
        "accessibility": event.accessibility or "",
    }


def read_draft(
    events: EventService, labels: dict[str, Any], fields: dict[str, Any]
) -> tuple[EventDraft | None, list[str]]:
    """The event the form describes (None if its times cannot be read), and its problems."""
    problems: list[str] = []
    p = events.words["problems"]

    def moment(date_key: str, time_key: str) -> Any:
        try:
            return parse_local(f"{fields[date_key]} {fields[time_key]}")
        except ValueError as error:
            # The parser's message quotes what was typed.
            problems.append(
                p["times"].format(field=labels[time_key], problem=plain_text(str(error)))
            )
            return None

    starts = moment("start_date", "start_time")
    ends = moment("start_date", "end_time")
    deadline = moment("deadline_date", "deadline_time")
    try:
        capacity = int(str(fields["capacity"]).strip())
    except ValueError:
        problems.append(p["capacity"].format(limit="10,000"))
        capacity = 0
    host = str(fields["host"])
    if starts is None or ends is None or deadline is None:
        return None, problems
    draft = EventDraft(
        title=str(fields["title"]),
        kind=BIG_CONVERSATION if host == BIG_CONVERSATION else "network",
        network=None if host == BIG_CONVERSATION else host,
        description=str(fields["description"]),
        starts_at=starts,
        ends_at=ends,
        signup_deadline=deadline,
        capacity=capacity,
        location=str(fields["location"]) or None,
        online_url=str(fields["online_url"]) or None,
        accessibility=str(fields["accessibility"]) or None,
    )
    return draft, problems if problems else []
