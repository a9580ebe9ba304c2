"""Events for staff: what's on, an event's details, sign up, my events, cancel, claim.

Every action is one turn, so the conversation has no states: the words a person types, or a
card's button sends (`{"command": "<word>", "event": "<slug>"}`, including those on proactive
reminders and offers), name an `Action` (content/events/words.yaml `commands`), and the table
in `EventsDialog.__init__` names what each does. The actions about one event need its slug
(the card's "event"); sign-up reads the adjustment inputs from the card's values
(`Turn.value`). A word no action claims lists the events.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from enum import StrEnum
from typing import Any

from botbuilder.core import MessageFactory, TurnContext
from botbuilder.dialogs import Dialog, DialogContext, DialogTurnResult

from bot.channel.teams import card_message, normalise_command
from bot.channel.turn import Turn
from bot.core.content import Content, MenuEntry, plain_text
from bot.db.session import turn_session
from bot.events.models import Event
from bot.events.networks import BIG_CONVERSATION
from bot.events.records import NEEDS, Attendee, aware, local_text
from bot.events.service import EventService

MAX_NEEDS_VALUE = 200


class Action(StrEnum):
    """What a person can ask for (the keys of words.yaml's `commands`)."""

    LIST = "list"
    MINE = "mine"
    DETAILS = "details"
    SIGNUP = "signup"
    CANCEL = "cancel"
    CLAIM = "claim"


# An action for the person: (the turn's context, who they are).
PersonStep = Callable[[TurnContext, Attendee], Awaitable[None]]


# An action about one event: (the turn's context, who they are, the event's slug).
EventStep = Callable[[TurnContext, Attendee, str], Awaitable[None]]


def attendee_of(turn_context: TurnContext) -> Attendee | None:
    """The sender as the events service names them."""
    turn = Turn.of(turn_context)
    return None if turn.person is None else Attendee(turn.person, turn.name)


def command_words(commands: dict[str, list[str]]) -> dict[str, str]:
    """Each word a person may type (normalised) → the action it asks for."""
    return {normalise_command(word): action for action, words in commands.items() for word in words}


def with_words(entry: MenuEntry, actions: dict[str, str]) -> MenuEntry:
    """A menu entry that also answers to a dialog's own words."""
    extra = tuple(w for w in actions if w != entry.command)
    return replace(entry, words=(*entry.words, *extra))


class EventsDialog(Dialog):
    """Lists events, shows one, and signs people up, off and in from the waitlist."""

    COMMAND = "events"

    def __init__(self, content: Content, events: EventService) -> None:
        super().__init__(EventsDialog.__name__)
        self._content = content
        self._events = events
        self._w: dict[str, Any] = events.words
        self._actions = command_words(self._w["commands"])
        # What each action does (any other lists the events).
        self._on_action: dict[str, PersonStep] = {
            Action.LIST: self._list_asked,
            Action.MINE: self._mine,
        }
        # What each action about one event does, given its slug (without one: the list).
        self._on_event: dict[str, EventStep] = {
            Action.DETAILS: self._details,
            Action.SIGNUP: self._sign_up,
            Action.CANCEL: self._cancel,
            Action.CLAIM: self._claim,
        }

    def menu_entry(self, entry: MenuEntry) -> MenuEntry:
        """The menu's "events" entry with this dialog's other words added."""
        return with_words(entry, self._actions)

    async def begin_dialog(
        self, dialog_context: DialogContext, options: object = None
    ) -> DialogTurnResult:
        """Do what was asked and finish."""
        context = dialog_context.context
        turn = Turn.of(context)
        action = self._actions.get(turn.command, Action.LIST)
        slug = turn.field("event")
        person = attendee_of(context)
        if person is None:
            await self._text(context, "unknown_event")
        elif action in self._on_event and not slug:
            await self._text(context, "choose_event")
            await self._list(context, person, None)
        elif action in self._on_event:
            await self._on_event[action](context, person, slug)
        else:
            await self._on_action.get(action, self._list_asked)(context, person)
        return await dialog_context.end_dialog()

    # ---- views -------------------------------------------------------------------------

    async def _list_asked(self, context: TurnContext, person: Attendee) -> None:
        """The list, of one network's events if the card names a network we know."""
        network = Turn.of(context).field("network", 64) or None
        if network not in (None, BIG_CONVERSATION, *self._events.networks):
            network = None
        await self._list(context, person, network)

    async def _list(self, context: TurnContext, person: Attendee, network: str | None) -> None:
        w = self._w["list"]
        session = turn_session()
        found = await self._events.upcoming(session, network=network)
        sections = []
        for event, places in found:
            status = await self._events.status_of(session, event, person.key)
            left = event.capacity - places.held
            facts = [
                {"title": self._w["facts"]["host"], "value": self._events.host_of(event)},
                {"title": self._w["facts"]["starts"], "value": local_text(event.starts_at)},
                {
                    "title": self._w["facts"]["places"],
                    "value": w["places_left"].format(left=left, capacity=event.capacity)
                    if left > 0
                    else w["full"],
                },
            ]
            if status in w["status"]:
                facts.append(
                    {"title": self._w["facts"]["your_place"], "value": w["status"][status]}
                )
            sections.append(
                {
                    "title": event.title,
                    "facts": facts,
                    "lines": [],
                    "buttons": [
                        {
                            "title": w["details_button"],
                            "data": {"command": "event details", "event": event.slug},
                        }
                    ],
                }
            )
        name = self._events.scope_name(network) if network else None
        filters = [{"title": w["all"], "data": {"command": "events"}}]
        for code in (BIG_CONVERSATION, *self._events.networks):
            filters.append(
                {
                    "title": self._events.scope_name(code),
                    "data": {"command": "events", "network": code},
                }
            )
        filters.append({"title": w["mine"], "data": {"command": "my events"}})
        card = self._content.card(
            "event_card",
            heading=w["heading_filtered"].format(name=name) if name else w["heading"],
            paragraphs=[w["intro"]] if found else [w["intro"], w["none"]],
            facts=[],
            sections=sections,
            inputs=[],
            buttons=filters,
            links=[],
        )
        await context.send_activity(card_message(card))

    async def _details(self, context: TurnContext, person: Attendee, slug: str) -> None:
        session = turn_session()
        event = await self._events.event(session, slug)
        if event is None:
            await self._text(context, "unknown_event")
            return
        w = self._w["details"]
        status = await self._events.status_of(session, event, person.key)
        paragraphs = [plain_text(event.description)] if event.description else []
        if event.accessibility:
            paragraphs.append(w["accessibility"].format(text=plain_text(event.accessibility)))
        inputs: list[dict[str, Any]] = []
        buttons: list[dict[str, Any]] = []
        now = self._events.now()
        if event.status == "cancelled":
            paragraphs.append(
                self._w["replies"]["cancelled_event"].format(title=plain_text(event.title))
            )
        elif status == "confirmed":
            buttons.append(self._button(w["cancel"], "cancel my place", event))
        elif status == "offered":
            buttons.append(self._button(w["claim"], "claim place", event))
            buttons.append(self._button(w["cancel"], "cancel my place", event))
        elif status == "waitlisted":
            buttons.append(self._button(w["leave_waitlist"], "cancel my place", event))
        elif aware(event.signup_deadline) < now or aware(event.starts_at) <= now:
            paragraphs.append(w["closed"])
        else:
            places = (await self._events.places(session, event)).held
            full = places >= event.capacity
            inputs = self._needs_inputs()
            buttons.append(
                {
                    "title": w["join_waitlist"] if full else w["signup"],
                    "data": {"command": "sign up", "event": event.slug},
                }
            )
        card = self._content.card(
            "event_card",
            heading=event.title,
            paragraphs=paragraphs,
            facts=self._events.facts(event),
            sections=[],
            inputs=inputs,
            buttons=buttons,
            links=[],
        )
        await context.send_activity(card_message(card))

    def _needs_inputs(self) -> list[dict[str, Any]]:
        """The sign-up form: adjustment needs, the person's own words, and who sees them."""
        w = self._w["details"]
        return [
            {
                "type": "Input.ChoiceSet",
                "id": "needs",
                "label": w["needs_label"],
                "style": "expanded",
                "isMultiSelect": True,
                "choices": [
                    {"title": str(self._w["needs"][code]), "value": code} for code in NEEDS
                ],
            },
            {
                "type": "Input.Text",
                "id": "details",
                "label": w["details_label"],
                "placeholder": w["details_placeholder"],
                "isMultiline": True,
                "maxLength": 500,
            },
            {
                "type": "TextBlock",
                "text": w["needs_privacy"],
                "wrap": True,
                "isSubtle": True,
                "size": "Small",
            },
        ]

    async def _mine(self, context: TurnContext, person: Attendee) -> None:
        w = self._w["mine"]
        found = await self._events.mine(turn_session(), person.key)
        sections = []
        for event, signup in found:
            buttons = [self._button(self._w["list"]["details_button"], "event details", event)]
            if signup.status == "offered":
                buttons.insert(0, self._button(self._w["details"]["claim"], "claim place", event))
            sections.append(
                {
                    "title": event.title,
                    "facts": [
                        {"title": self._w["facts"]["starts"], "value": local_text(event.starts_at)},
                        {
                            "title": self._w["facts"]["your_place"],
                            "value": self._w["list"]["status"].get(signup.status, signup.status),
                        },
                    ],
                    "lines": [],
                    "buttons": buttons,
                }
            )
        card = self._content.card(
            "event_card",
            heading=w["heading"],
            paragraphs=[] if found else [w["none"]],
            facts=[],
            sections=sections,
            inputs=[],
            buttons=[{"title": self._w["list"]["all"], "data": {"command": "events"}}],
            links=[],
        )
        await context.send_activity(card_message(card))

    # ---- actions -----------------------------------------------------------------------

    async def _sign_up(self, context: TurnContext, person: Attendee, slug: str) -> None:
        value = Turn.of(context).value
        raw_needs = value.get("needs", "")
        details = value.get("details", "")
        if (
            not isinstance(raw_needs, str)
            or len(raw_needs) > MAX_NEEDS_VALUE
            or not isinstance(details, str)
        ):
            await self._text(context, "bad_needs")
            return
        codes = [part.strip() for part in raw_needs.split(",") if part.strip()]
        outcome, event = await self._events.sign_up(
            turn_session(), slug, person, needs=codes, details=details
        )
        if event is None or outcome in ("unknown_event", "bad_needs"):
            await self._text(context, "bad_needs" if outcome == "bad_needs" else "unknown_event")
        elif outcome == "confirmed":
            await self._notice(context, event, "confirmed", "request")
        elif outcome == "waitlisted":
            await self._notice(context, event, "waitlisted", None)
        else:
            await self._text(
                context,
                outcome,
                title=event.title,
                deadline=local_text(event.signup_deadline),
            )

    async def _cancel(self, context: TurnContext, person: Attendee, slug: str) -> None:
        outcome, event = await self._events.cancel_place(turn_session(), slug, person.key)
        if event is None:
            await self._text(context, "unknown_event")
        elif outcome == "cancelled":
            await self._notice(context, event, "place_cancelled", "cancel")
        else:
            await self._text(context, outcome, title=event.title)

    async def _claim(self, context: TurnContext, person: Attendee, slug: str) -> None:
        outcome, event = await self._events.claim(turn_session(), slug, person.key)
        if event is None:
            await self._text(context, "unknown_event")
        elif outcome == "claimed":
            await self._notice(context, event, "claimed", "request")
        elif outcome == "cancelled_event":
            await self._text(context, "cancelled_event_claim", title=event.title)
        else:
            await self._text(context, outcome, title=event.title)

    # ---- helpers -----------------------------------------------------------------------

    @staticmethod
    def _button(title: str, command: str, event: Event) -> dict[str, Any]:
        return {"title": title, "data": {"command": command, "event": event.slug}}

    async def _notice(self, context: TurnContext, event: Event, key: str, method: Any) -> None:
        card = self._events.notice_card(event, key, method=method)
        await context.send_activity(card_message(card))

    async def _text(self, context: TurnContext, key: str, **fields: str) -> None:
        # Teams shows a message's text as Markdown: an event's title is an organiser's words.
        sentence = str(self._w["replies"][key])
        plain = {name: plain_text(value) for name, value in fields.items()}
        await context.send_activity(MessageFactory.text(sentence.format(**plain)))
