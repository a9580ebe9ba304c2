"""Organisers: create, edit and cancel events; see who's coming; mark attendance; see a
network's members.

The handler lets only holders of the `organiser` role in; the service then checks, for each
event, that this organiser runs it (its network is in their scopes, or they created it).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from botbuilder.core import MessageFactory, TurnContext
from botbuilder.dialogs import Dialog, DialogContext, DialogInstance, DialogTurnResult

from bot.channel.teams import card_message
from bot.channel.turn import Turn, text_field
from bot.core.clock import LONDON
from bot.core.content import Content, plain_text
from bot.db.session import turn_session
from bot.events.models import Event
from bot.events.networks import BIG_CONVERSATION
from bot.events.records import Attendee, EventDraft, EventError, aware, local_text, parse_local
from bot.events.repo import Places
from bot.events.service import EventService
from bot.privacy.roles import Role
from dialogs.events.sign_up import attendee_of

FIELD_LIMIT = 2000
# How far back the organiser's list reaches (attendance is marked after the event).
RECENT = timedelta(days=30)


class EventAdminDialog(Dialog):
    """The organiser's list of events, then a form, a list of attendees, or a confirmation."""

    COMMAND = "organise events"
    ROLE = Role.ORGANISER

    def __init__(self, content: Content, events: EventService) -> None:
        super().__init__(EventAdminDialog.__name__)
        self._content = content
        self._events = events
        self._w: dict[str, Any] = events.words["admin"]

    # ---- the Dialog protocol ------------------------------------------------------------

    async def begin_dialog(
        self, dialog_context: DialogContext, options: object = None
    ) -> DialogTurnResult:
        """Open the event a notification's button names, or show the list."""
        context = dialog_context.context
        state = dialog_context.active_dialog.state
        turn = Turn.of(context)
        slug = turn.field("event", 80)
        typed = " ".join(turn.text.lower().split())
        if slug:
            await self._choose(context, state, "attendees", slug, turn.value)
        elif typed in ("new event", "create event"):
            await self._choose(context, state, "new event", "", {})
        else:
            await self._list(context, state)
        return Dialog.end_of_turn

    async def continue_dialog(self, dialog_context: DialogContext) -> DialogTurnResult:
        """A form's answers, a button's choice, or "done"."""
        context = dialog_context.context
        value = Turn.of(context).value
        typed = Turn.of(context).text.lower()
        state = dialog_context.active_dialog.state
        form = value.get("form")
        if form:
            if form == state.get("awaiting"):
                await self._apply_form(context, state, str(form), value)
            else:
                await context.send_activity(MessageFactory.text(self._w["old_button"]))
                await self._list(context, state)
            return Dialog.end_of_turn
        if typed in ("done", "finished", self._w["done"].lower()):
            return await dialog_context.end_dialog()
        await self._choose(context, state, typed, text_field(value, "event", 80), value)
        return Dialog.end_of_turn

    async def reprompt_dialog(self, context: TurnContext, instance: DialogInstance) -> None:
        """Show the list again."""
        await self._list(context, instance.state)

    # ---- choosing ---------------------------------------------------------------------------

    async def _choose(
        self,
        context: TurnContext,
        state: dict[str, Any],
        choice: str,
        slug: str,
        value: dict[str, Any],
    ) -> None:
        person = attendee_of(context)
        if person is None:
            return
        session = turn_session()
        if choice == "new event":
            await self._form(context, state, person, None)
            return
        if choice == "members":
            await self._members(context, person, text_field(value, "network", 64))
            return
        if choice not in ("edit", "attendees", "cancel event", "confirm cancel", "keep"):
            await context.send_activity(MessageFactory.text(self._w["bad_choice"]))
            await self._list(context, state)
            return
        event = await self._events.event(session, slug)
        if event is None:
            await self._say(context, self._events.words["problems"]["unknown"])
            await self._list(context, state)
            return
        if not await self._events.may_organise(session, event, person.key):
            await self._say(context, self._events.words["problems"]["not_yours"])
            await self._list(context, state)
            return
        await self._on_event(context, state, person, choice, event)

    async def _on_event(
        self,
        context: TurnContext,
        state: dict[str, Any],
        person: Attendee,
        choice: str,
        event: Event,
    ) -> None:
        """An organiser's choice about one of their events."""
        session = turn_session()
        if choice == "edit":
            await self._form(context, state, person, event)
        elif choice == "attendees":
            views = await self._events.attendees(session, event, actor=person.actor)
            state["awaiting"] = "attendance"
            await context.send_activity(card_message(self._events.attendee_card(event, views)))
        elif choice == "cancel event":
            await context.send_activity(card_message(self._confirm_cancel_card(event)))
        elif choice == "confirm cancel":
            told = len(
                [
                    v
                    for v in await self._events.attendees(session, event, actor=person.actor)
                    if v.status in ("confirmed", "offered", "waitlisted")
                ]
            )
            await self._events.cancel_event(session, event.slug, actor=person.actor)
            await self._say(
                context, self._w["cancelled"].format(title=plain_text(event.title), told=told)
            )
            await self._list(context, state)
        else:
            await self._say(context, self._w["kept"])
            await self._list(context, state)

    def _confirm_cancel_card(self, event: Event) -> dict[str, Any]:
        return self._content.card(
            "event_card",
            heading=self._w["confirm_cancel"].format(title=event.title),
            paragraphs=[],
            facts=self._events.facts(event),
            sections=[],
            inputs=[],
            buttons=[
                {
                    "title": self._w["confirm_yes"],
                    "data": {"choice": "confirm cancel", "event": event.slug},
                },
                {"title": self._w["confirm_no"], "data": {"choice": "keep", "event": event.slug}},
            ],
            links=[],
        )

    # ---- views --------------------------------------------------------------------------------

    async def _list(self, context: TurnContext, state: dict[str, Any]) -> None:
        state.pop("awaiting", None)
        person = attendee_of(context)
        if person is None:
            return
        session = turn_session()
        scopes = await self._events.scopes_of(session, person.key)
        since = self._events.now() - RECENT
        mine = [
            event
            for event in await self._events.all_events(session, since=since)
            if self._events.scope_of(event) in scopes or event.created_by == person.actor
        ]
        sections = [
            self._event_section(event, await self._events.places(session, event)) for event in mine
        ]
        paragraphs = [self._w["intro"]]
        if not scopes:
            paragraphs.append(self._events.words["problems"]["no_scope"])
        elif not mine:
            paragraphs.append(self._w["none"])
        actions: list[dict[str, Any]] = []
        if scopes:
            actions.append({"title": self._w["new"], "data": {"choice": "new event"}})
        for scope in scopes:
            if scope != BIG_CONVERSATION and scope in self._events.networks:
                actions.append(
                    {
                        "title": self._w["members"].format(name=self._events.scope_name(scope)),
                        "data": {"choice": "members", "network": scope},
                    }
                )
        actions.append({"title": self._w["done"], "data": {"choice": "done"}})
        card = self._content.card(
            "event_card",
            heading=self._w["heading"],
            paragraphs=paragraphs,
            facts=[],
            sections=sections,
            inputs=[],
            buttons=actions,
            links=[],
        )
        await context.send_activity(card_message(card))

    def _event_section(self, event: Event, places: Places) -> dict[str, Any]:
        """One of the organiser's events in their list, with what they can do to it."""
        buttons = [
            {"title": self._w["attendees"], "data": {"choice": "attendees", "event": event.slug}}
        ]
        if event.status == "scheduled" and aware(event.starts_at) > self._events.now():
            buttons += [
                {"title": self._w["edit"], "data": {"choice": "edit", "event": event.slug}},
                {
                    "title": self._w["cancel"],
                    "data": {"choice": "cancel event", "event": event.slug},
                },
            ]
        facts = self._events.words["facts"]
        return {
            "title": event.title + (" (cancelled)" if event.status == "cancelled" else ""),
            "facts": [
                {"title": facts["host"], "value": self._events.host_of(event)},
                {"title": facts["starts"], "value": local_text(event.starts_at)},
                {
                    "title": facts["places"],
                    "value": f"{places.held} / {event.capacity} (+{places.waiting})",
                },
            ],
            "lines": [],
            "buttons": buttons,
        }

    async def _members(self, context: TurnContext, person: Attendee, network: str) -> None:
        names = await self._events.members(turn_session(), network, person.key, actor=person.actor)
        if names is None:
            await self._say(context, self._w["members_refused"])
            return
        name = self._events.scope_name(network)
        card = self._content.card(
            "event_card",
            heading=self._w["members_heading"].format(name=name),
            paragraphs=[self._w["members_note"]] + ([] if names else [self._w["members_none"]]),
            facts=[],
            sections=[{"title": n, "lines": []} for n in names],
            inputs=[],
            buttons=[{"title": self._w["done"], "data": {"choice": "done"}}],
            links=[],
        )
        await context.send_activity(card_message(card))

    async def _form(
        self,
        context: TurnContext,
        state: dict[str, Any],
        person: Attendee,
        event: Event | None,
        *,
        values: dict[str, Any] | None = None,
        problems: list[str] | None = None,
    ) -> None:
        scopes = await self._events.scopes_of(turn_session(), person.key)
        if not scopes:
            await self._say(context, self._events.words["problems"]["no_scope"])
            return
        state["awaiting"] = "event"
        state["event"] = event.slug if event else None
        v = values or (self._values_of(event) if event else {})
        host_choices = [{"title": self._events.scope_name(s), "value": s} for s in scopes]
        if event is not None and self._events.scope_of(event) not in scopes:
            scope = self._events.scope_of(event)
            host_choices.append({"title": self._events.scope_name(scope), "value": scope})
        inputs = self._form_inputs(v, host_choices)
        paragraphs = [self._w["form_note"]]
        if problems:
            paragraphs.append(self._w["fix"])
            paragraphs.extend(f"- {p}" for p in problems)
        card = self._content.card(
            "event_card",
            heading=self._w["form_heading_edit"].format(title=event.title)
            if event
            else self._w["form_heading_new"],
            paragraphs=paragraphs,
            facts=[],
            sections=[],
            inputs=inputs,
            buttons=[
                {"title": self._w["save"], "data": {"form": "event"}},
                {"title": self._w["done"], "data": {"choice": "done"}, "skip_inputs": True},
            ],
            links=[],
        )
        await context.send_activity(card_message(card))

    def _form_inputs(
        self, v: dict[str, Any], host_choices: list[dict[str, str]]
    ) -> list[dict[str, Any]]:
        """The event form's inputs, filled with `v` (an event's values, or what was sent)."""
        f = self._w["fields"]

        def text(
            input_id: str, multiline: bool = False, max_length: int = FIELD_LIMIT
        ) -> dict[str, Any]:
            element: dict[str, Any] = {
                "type": "Input.Text",
                "id": input_id,
                "label": f[input_id],
                "isMultiline": multiline,
                "maxLength": max_length,
            }
            if v.get(input_id):
                element["value"] = str(v[input_id])
            return element

        def typed(kind: str, input_id: str) -> dict[str, Any]:
            element: dict[str, Any] = {"type": kind, "id": input_id, "label": f[input_id]}
            if v.get(input_id):
                element["value"] = str(v[input_id])
            return element

        host = {
            "type": "Input.ChoiceSet",
            "id": "host",
            "label": f["host"],
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

    def _values_of(self, event: Event) -> dict[str, Any]:
        start = aware(event.starts_at).astimezone(LONDON)
        end = aware(event.ends_at).astimezone(LONDON)
        deadline = aware(event.signup_deadline).astimezone(LONDON)
        return {
            "title": event.title,
            "host": self._events.scope_of(event),
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

    # ---- forms ----------------------------------------------------------------------------------

    async def _apply_form(
        self, context: TurnContext, state: dict[str, Any], form: str, value: dict[str, Any]
    ) -> None:
        person = attendee_of(context)
        if person is None:
            return
        session = turn_session()
        if form == "attendance":
            await self._attendance(context, state, person, value)
            return
        slug = state.get("event")
        event = await self._events.event(session, slug) if slug else None
        if slug and (
            event is None or not await self._events.may_organise(session, event, person.key)
        ):
            await self._say(context, self._events.words["problems"]["not_yours"])
            await self._list(context, state)
            return
        fields = {
            key: (value.get(key) if isinstance(value.get(key), str) else "")
            for key in self._w["fields"]
        }
        draft, problems = self._draft(fields)
        scopes = await self._events.scopes_of(session, person.key)
        allowed = set(scopes) | ({self._events.scope_of(event)} if event else set())
        if draft is not None and self._events.scope_of_draft(draft) not in allowed:
            problems.append(self._events.words["problems"]["not_yours"])
        if draft is None or problems:
            await self._form(context, state, person, event, values=fields, problems=problems)
            return
        try:
            if event is None:
                saved = await self._events.create(session, draft, actor=person.actor)
                await self._say(context, self._w["saved_new"].format(title=plain_text(saved.title)))
            else:
                before = event.sequence
                saved = await self._events.edit(session, event.slug, draft, actor=person.actor)
                changed = saved.sequence != before
                await self._say(context, self._w["saved_edit" if changed else "unchanged"])
        except EventError as error:
            await self._form(context, state, person, event, values=fields, problems=error.problems)
            return
        await self._list(context, state)

    def _draft(self, fields: dict[str, Any]) -> tuple[EventDraft | None, list[str]]:
        problems: list[str] = []
        p = self._events.words["problems"]
        labels = self._w["fields"]

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

    async def _attendance(
        self, context: TurnContext, state: dict[str, Any], person: Attendee, value: dict[str, Any]
    ) -> None:
        session = turn_session()
        event = await self._events.event(session, text_field(value, "event", 80))
        if event is None or not await self._events.may_organise(session, event, person.key):
            await self._say(context, self._events.words["problems"]["not_yours"])
            await self._list(context, state)
            return
        attended = set()
        for key, flag in value.items():
            if isinstance(key, str) and key.startswith("attended_") and flag in (True, "true"):
                number = key.removeprefix("attended_")
                if number.isdigit() and len(number) < 12:
                    attended.add(int(number))
        count = await self._events.mark_attendance(session, event, attended, actor=person.actor)
        if count is None:
            await self._say(context, self._w["attendance_too_early"])
        else:
            await self._say(context, self._w["attendance_saved"].format(count=count))
        await self._list(context, state)

    @staticmethod
    async def _say(context: TurnContext, text: str) -> None:
        await context.send_activity(MessageFactory.text(text))
