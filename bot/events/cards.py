"""Events' cards: the notices people are sent and the attendee list organisers see."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.content import plain_text
from bot.core.people import PersonKey
from bot.events import repo as repo_events
from bot.events.base import EventBase
from bot.events.calendar import Method
from bot.events.models import Event
from bot.events.records import (
    AttendeeView,
    local_text,
)
from bot.outbox.queue import queued_card


class EventCards(EventBase):
    """Builds event cards from content templates and sends notices through the outbox."""

    def facts(self, event: Event) -> list[dict[str, str]]:
        """The facts shown for an event on every card."""
        f = self.words["facts"]
        facts = [
            {"title": f["host"], "value": self.host_of(event)},
            {"title": f["starts"], "value": local_text(event.starts_at)},
            {"title": f["ends"], "value": local_text(event.ends_at)},
        ]
        if event.location:
            facts.append({"title": f["where"], "value": event.location})
        if event.online_url:
            facts.append({"title": f["online"], "value": event.online_url})
        facts.append({"title": f["deadline"], "value": local_text(event.signup_deadline)})
        return facts

    def notice_card(
        self, event: Event, key: str, *, method: Method | None, **fields: str
    ) -> dict[str, Any]:
        """A card about one event: confirmed, waitlisted, offer, reminder, updated, cancelled."""
        words = self.words["notify"][key]
        # Paragraphs are Markdown: the title (and any field) are an organiser's words.
        plain = {name: plain_text(value) for name, value in fields.items()}
        paragraphs = [
            str(p).format(title=plain_text(event.title), **plain) for p in words["paragraphs"]
        ]
        buttons = [
            {"title": str(b["title"]), "data": {"command": str(b["command"]), "event": event.slug}}
            for b in words.get("buttons", [])
        ]
        return self._content.card(
            "event_card",
            heading=str(words["heading"]).format(title=event.title),
            paragraphs=paragraphs,
            facts=self.facts(event),
            sections=[],
            inputs=[],
            buttons=buttons,
            links=[{"title": self._calendar_title(method), "url": self.links.url(event, method)}]
            if method
            else [],
        )

    def _calendar_title(self, method: Method) -> str:
        """The calendar link says what it does: add the event, or take it out again."""
        return str(self.words["remove_from_calendar" if method == "cancel" else "add_to_calendar"])

    def _attendee_lines(self, view: AttendeeView) -> list[str]:
        """An attendee's status, and their adjustment needs if they gave any."""
        w = self.words["attendees"]
        lines = [str(w["statuses"].get(view.status, view.status))]
        if view.needs or view.details:
            needs = self.need_labels(view.needs) or w["no_codes"]
            lines.append(
                w["needs_line"].format(needs=needs, details=plain_text(view.details or "")).strip()
            )
        return lines

    def _attended_toggle(self, view: AttendeeView) -> dict[str, Any]:
        """The organiser's "attended" toggle for a confirmed place."""
        return {
            "type": "Input.Toggle",
            "id": f"attended_{view.signup_id}",
            # Teams shows a toggle's title as Markdown too.
            "title": self.words["attendees"]["attended_toggle"].format(name=plain_text(view.name)),
            "value": "true" if view.attended else "false",
            "valueOn": "true",
            "valueOff": "false",
            "wrap": True,
        }

    def attendee_card(
        self, event: Event, views: list[AttendeeView], *, for_message: bool = False
    ) -> dict[str, Any]:
        """The organisers' list: names, status, adjustment needs; attendance toggles in chat."""
        w = self.words["attendees"]
        sections = [{"title": view.name, "lines": self._attendee_lines(view)} for view in views]
        inputs = (
            []
            if for_message
            else [self._attended_toggle(view) for view in views if view.status == "confirmed"]
        )
        held = sum(1 for v in views if v.status in repo_events.HOLDING)
        waiting = sum(1 for v in views if v.status == "waitlisted")
        paragraphs = [
            w["summary"].format(held=held, capacity=event.capacity, waiting=waiting),
            w["privacy"],
        ]
        if not views:
            paragraphs.append(w["nobody"])
        buttons = []
        if inputs:
            buttons.append(
                {"title": w["save"], "data": {"form": "attendance", "event": event.slug}}
            )
        if for_message:
            buttons.append(
                {
                    "title": w["open"],
                    "data": {"command": "organise events", "event": event.slug},
                }
            )
        return self._content.card(
            "event_card",
            heading=w["heading"].format(title=event.title),
            paragraphs=paragraphs,
            facts=self.facts(event),
            sections=sections,
            inputs=inputs,
            buttons=buttons,
            links=[],
        )

    async def _send(
        self,
        session: AsyncSession,
        event: Event,
        key: str,
        recipients: list[PersonKey],
        *,
        dedupe: str,
        method: Method | None,
        **fields: str,
    ) -> None:
        card = self.notice_card(event, key, method=method, **fields)
        summary = str(self.words["notify"][key]["summary"]).format(title=event.title)
        await self._outbox.enqueue(
            session,
            kind=f"event.{key}",
            subject=event.slug,
            recipients=recipients,
            message=queued_card(card, summary=summary),
            dedupe_key=dedupe,
        )
