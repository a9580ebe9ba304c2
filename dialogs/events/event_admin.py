"""Organisers: create, edit and cancel events; see who's coming; mark attendance; see a
network's members.

The conversation's states are what its dialog state's "awaiting" holds:

    LIST        (nothing awaited) the organiser's events, or a card reached from it (a
                cancellation to confirm, a network's members)
    EVENT_FORM  "event": the form to create or edit an event; "event" names the one edited
                (None for a new one)
    ATTENDANCE  "attendance": the attendees, with a toggle each for who came

The tables in `EventAdminDialog.__init__`: a form's Save goes to the step for the state
awaiting it (any other form is an old button); a choice (a button's "choice", or typed) goes
to its step, the choices about one event only once the event is found to be this
organiser's; "done" finishes, in any state.

The handler lets only holders of the `organiser` role in; the service then checks, for each
event, that this organiser runs it (its network is in their scopes, or they created it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from enum import StrEnum
from typing import Any

from botbuilder.core import MessageFactory, TurnContext
from botbuilder.dialogs import Dialog, DialogContext, DialogInstance, DialogTurnResult

from bot.channel.teams import card_message
from bot.channel.turn import Turn, text_field
from bot.core.content import Content, plain_text
from bot.db.session import turn_session
from bot.events.models import Event
from bot.events.networks import BIG_CONVERSATION
from bot.events.records import Attendee, EventDraft, EventError, aware, local_text
from bot.events.repo import Places
from bot.events.service import EventService
from bot.privacy.roles import Role
from dialogs.events.event_form import form_inputs, read_draft, values_of
from dialogs.events.sign_up import attendee_of

# How far back the organiser's list reaches (attendance is marked after the event).
RECENT = timedelta(days=30)


class Awaiting(StrEnum):
    """The states that await a form (the dialog state's "awaiting"; LIST awaits none)."""

    EVENT_FORM = "event"
    ATTENDANCE = "attendance"


# Typed in any state, these finish (as does the cards' "done" button).
DONE_WORDS = ("done", "finished")


# A form's Save, or a choice: (the turn's context, the dialog state, who, the card's values).
Step = Callable[[TurnContext, dict[str, Any], Attendee, dict[str, Any]], Awaitable[None]]


# A choice about one of the organiser's events: (context, dialog state, who, the event).
EventStep = Callable[[TurnContext, dict[str, Any], Attendee, Event], Awaitable[None]]


class EventAdminDialog(Dialog):
    """The organiser's list of events, then a form, a list of attendees, or a confirmation."""

    COMMAND = "organise events"
    ROLE = Role.ORGANISER

    def __init__(self, content: Content, events: EventService) -> None:
        super().__init__(EventAdminDialog.__name__)
        self._content = content
        self._events = events
        self._w: dict[str, Any] = events.words["admin"]
        # A form's Save, by the state that awaits it.
        self._forms: dict[str, Step] = {
            Awaiting.EVENT_FORM: self._save_event,
            Awaiting.ATTENDANCE: self._save_attendance,
        }
        # A choice, in any state.
        self._choices: dict[str, Step] = {
            "new event": self._new_event,
            "members": self._show_members,
        }
        # A choice about one event (the card's "event"), once it is found to be theirs.
        self._on_event: dict[str, EventStep] = {
            "edit": self._edit,
            "attendees": self._show_attendees,
            "cancel event": self._ask_cancel,
            "confirm cancel": self._cancel_event,
            "keep": self._keep,
        }

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
        turn = Turn.of(context)
        typed = turn.text.lower()
        state = dialog_context.active_dialog.state
        form = turn.value.get("form")
        if form:
            await self._answer_form(context, state, form, turn.value)
            return Dialog.end_of_turn
        if typed in (*DONE_WORDS, self._w["done"].lower()):
            return await dialog_context.end_dialog()
        await self._choose(context, state, typed, turn.field("event", 80), turn.value)
        return Dialog.end_of_turn

    async def reprompt_dialog(self, context: TurnContext, instance: DialogInstance) -> None:
        """Show the list again."""
        await self._list(context, instance.state)

    # ---- choosing ---------------------------------------------------------------------------

    async def _answer_form(
        self, context: TurnContext, state: dict[str, Any], form: object, value: dict[str, Any]
    ) -> None:
        """A form's Save: the step for the state awaiting it, or an old button."""
        step = self._forms.get(str(form)) if form == state.get("awaiting") else None
        if step is None:
            await context.send_activity(MessageFactory.text(self._w["old_button"]))
            await self._list(context, state)
            return
        person = attendee_of(context)
        if person is not None:
            await step(context, state, person, value)

    async def _choose(
        self,
        context: TurnContext,
        state: dict[str, Any],
        choice: str,
        slug: str,
        value: dict[str, Any],
    ) -> None:
        """The step for `choice`; a choice about an event once the event is theirs."""
        person = attendee_of(context)
        if person is None:
            return
        step = self._choices.get(choice)
        if step is not None:
            await step(context, state, person, value)
            return
        on_event = self._on_event.get(choice)
        if on_event is None:
            await context.send_activity(MessageFactory.text(self._w["bad_choice"]))
            await self._list(context, state)
            return
        session = turn_session()
        event = await self._events.event(session, slug)
        if event is None:
            await self._say(context, self._events.words["problems"]["unknown"])
            await self._list(context, state)
            return
        if not await self._events.may_organise(session, event, person.key):
            await self._say(context, self._events.words["problems"]["not_yours"])
            await self._list(context, state)
            return
        await on_event(context, state, person, event)

    # ---- the choices' steps ---------------------------------------------------------------

    async def _new_event(
        self, context: TurnContext, state: dict[str, Any], person: Attendee, value: dict[str, Any]
    ) -> None:
        await self._form(context, state, person, None)

    async def _show_members(
        self, context: TurnContext, state: dict[str, Any], person: Attendee, value: dict[str, Any]
    ) -> None:
        await self._members(context, person, text_field(value, "network", 64))

    async def _edit(
        self, context: TurnContext, state: dict[str, Any], person: Attendee, event: Event
    ) -> None:
        await self._form(context, state, person, event)

    async def _show_attendees(
        self, context: TurnContext, state: dict[str, Any], person: Attendee, event: Event
    ) -> None:
        views = await self._events.attendees(turn_session(), event, actor=person.actor)
        state["awaiting"] = Awaiting.ATTENDANCE.value
        await context.send_activity(card_message(self._events.attendee_card(event, views)))

    async def _ask_cancel(
        self, context: TurnContext, state: dict[str, Any], person: Attendee, event: Event
    ) -> None:
        await context.send_activity(card_message(self._confirm_cancel_card(event)))

    async def _cancel_event(
        self, context: TurnContext, state: dict[str, Any], person: Attendee, event: Event
    ) -> None:
        session = turn_session()
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

    async def _keep(
        self, context: TurnContext, state: dict[str, Any], person: Attendee, event: Event
    ) -> None:
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
        state["awaiting"] = Awaiting.EVENT_FORM.value
        state["event"] = event.slug if event else None
        v = values or (values_of(self._events, event) if event else {})
        host_choices = [{"title": self._events.scope_name(s), "value": s} for s in scopes]
        if event is not None and self._events.scope_of(event) not in scopes:
            scope = self._events.scope_of(event)
            host_choices.append({"title": self._events.scope_name(scope), "value": scope})
        inputs = form_inputs(self._w["fields"], v, host_choices)
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

    # ---- forms ----------------------------------------------------------------------------------

    async def _save_event(
        self, context: TurnContext, state: dict[str, Any], person: Attendee, value: dict[str, Any]
    ) -> None:
        """The event form's Save: create or edit, or the form again with what is wrong."""
        session = turn_session()
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
        draft, problems = read_draft(self._events, self._w["fields"], fields)
        scopes = await self._events.scopes_of(session, person.key)
        allowed = set(scopes) | ({self._events.scope_of(event)} if event else set())
        if draft is not None and self._events.scope_of_draft(draft) not in allowed:
            problems.append(self._events.words["problems"]["not_yours"])
        if draft is None or problems:
            await self._form(context, state, person, event, values=fields, problems=problems)
            return
        try:
            await self._store(context, person, event, draft)
        except EventError as error:
            await self._form(context, state, person, event, values=fields, problems=error.problems)
            return
        await self._list(context, state)

    async def _store(
        self, context: TurnContext, person: Attendee, event: Event | None, draft: EventDraft
    ) -> None:
        """Create the event (or edit `event`) and say so (EventError if the service refuses)."""
        session = turn_session()
        if event is None:
            saved = await self._events.create(session, draft, actor=person.actor)
            await self._say(context, self._w["saved_new"].format(title=plain_text(saved.title)))
        else:
            before = event.sequence
            saved = await self._events.edit(session, event.slug, draft, actor=person.actor)
            changed = saved.sequence != before
            await self._say(context, self._w["saved_edit" if changed else "unchanged"])

    async def _save_attendance(
        self, context: TurnContext, state: dict[str, Any], person: Attendee, value: dict[str, Any]
    ) -> None:
        """The attendance form's Save (for the event the form names)."""
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
