"""Events for staff: what's on, an event's details, sign up, my events, cancel, claim.

Every action is one turn, so the conversation has no states: the words a person types, or a
card's button sends (`{"command": "<word>", "event": "<slug>"}`, including those on proactive
reminders and offers), name an `Action` (content/events/words.yaml `commands`), and the table
in `EventsDialog.__init__` names what each does. The actions about one event need its slug
(the card's "event"); sign-up reads the adjustment inputs from the card's values
(`Turn.value`). A word no action claims lists the events.

Cancelling asks first (CANCEL shows what would be given up; CONFIRM_CANCEL gives it up).
After a card asking for adjustment needs (an event's sign-up form, or "change my needs"),
the dialog waits one turn (state "form": which form, for which event): words typed then are
put in the form's box and the form is shown again, so they are not lost; any button or
command is acted on as usual. Nothing else is kept in the dialog's state.
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
from bot.events.models import Event, EventSignup
from bot.events.networks import BIG_CONVERSATION
from bot.events.records import NEEDS, Attendee, aware, local_text
from bot.events.service import EventService

MAX_NEEDS_VALUE = 200
HELD = ("confirmed", "offered", "waitlisted")  # a place, an offer, or a place in the queue


class Action(StrEnum):
    """What a person can ask for (the keys of words.yaml's `commands`)."""

    LIST = "list"
    MINE = "mine"
    DETAILS = "details"
    SIGNUP = "signup"
    CANCEL = "cancel"
    CLAIM = "claim"
    NEEDS = "needs"
    SAVE_NEEDS = "save_needs"
    CONFIRM_CANCEL = "confirm_cancel"


FORM_OUT = "events.form"  # turn state: (form, slug) when a card asking for needs went out
SIGNUP_FORM, NEEDS_FORM = "signup", "needs"


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
            Action.CANCEL: self._ask_cancel,
            Action.CONFIRM_CANCEL: self._cancel,
            Action.CLAIM: self._claim,
            Action.NEEDS: self._needs_form,
            Action.SAVE_NEEDS: self._save_needs,
        }
        # The forms a typed answer can go into, by the "form" the dialog waits on.
        self._forms: dict[str, Callable[[TurnContext, Attendee, str, str], Awaitable[None]]] = {
            SIGNUP_FORM: self._details,
            NEEDS_FORM: self._needs_form,
        }

    def menu_entry(self, entry: MenuEntry) -> MenuEntry:
        """The menu's "events" entry with this dialog's other words added."""
        return with_words(entry, self._actions)

    async def begin_dialog(
        self, dialog_context: DialogContext, options: object = None
    ) -> DialogTurnResult:
        """Do what was asked; finish, or wait a turn after a card asking for needs."""
        await self._act(dialog_context.context)
        return await self._wait_or_end(dialog_context)

    async def continue_dialog(self, dialog_context: DialogContext) -> DialogTurnResult:
        """Words typed after a needs form go into its box; anything else is a new action."""
        context = dialog_context.context
        turn = Turn.of(context)
        waiting = dialog_context.active_dialog.state.get("form")
        person = attendee_of(context)
        if (
            isinstance(waiting, list)
            and waiting[0] in self._forms
            and person is not None
            and turn.text
            and not turn.value
            and turn.command not in self._actions
        ):
            form, slug = waiting
            await self._forms[form](context, person, slug, turn.text)
        else:
            await self._act(context)
        return await self._wait_or_end(dialog_context)

    @staticmethod
    def settled(state: dict[str, Any]) -> bool:
        """Only ever waiting for optional words: another feature may simply start."""
        return True

    async def _wait_or_end(self, dialog_context: DialogContext) -> DialogTurnResult:
        out = dialog_context.context.turn_state.get(FORM_OUT)
        if out is None:
            return await dialog_context.end_dialog()
        dialog_context.active_dialog.state["form"] = list(out)
        return Dialog.end_of_turn

    async def _act(self, context: TurnContext) -> None:
        """What the words or the button ask for (the tables in `__init__`)."""
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
                            "title": self._details_label(status),
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

    def _details_label(self, status: str | None) -> str:
        """ "Details and sign up", or what the person already has there."""
        w = self._w["list"]
        if status in ("confirmed", "offered"):
            return str(w["details_button_place"])
        if status == "waitlisted":
            return str(w["details_button_waiting"])
        return str(w["details_button"])

    async def _details(
        self, context: TurnContext, person: Attendee, slug: str, typed: str = ""
    ) -> None:
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
            buttons.append(self._button(self._w["mine"]["change_needs"], "change needs", event))
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
            inputs = self._needs_inputs(details=typed)
            title = w["join_waitlist"] if full else w["signup"]
            if typed:
                paragraphs.insert(0, w["typed_note"].format(button=title))
            buttons.append({"title": title, "data": {"command": "sign up", "event": event.slug}})
            context.turn_state[FORM_OUT] = (SIGNUP_FORM, event.slug)
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

    def _needs_inputs(
        self, *, codes: list[str] | None = None, details: str = ""
    ) -> list[dict[str, Any]]:
        """The sign-up form: adjustment needs, the person's own words, and who sees them
        (filled with what they gave before, or typed into the chat, if anything)."""
        w = self._w["details"]
        needs: dict[str, Any] = {
            "type": "Input.ChoiceSet",
            "id": "needs",
            "label": w["needs_label"],
            "style": "expanded",
            "isMultiSelect": True,
            "choices": [{"title": str(self._w["needs"][code]), "value": code} for code in NEEDS],
        }
        if codes:
            needs["value"] = ",".join(codes)
        box: dict[str, Any] = {
            "type": "Input.Text",
            "id": "details",
            "label": w["details_label"],
            "placeholder": w["details_placeholder"],
            "isMultiline": True,
            "maxLength": 500,
        }
        if details:
            box["value"] = details
        return [
            needs,
            box,
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
        session = turn_session()
        found = await self._events.mine(session, person.key)
        sections = []
        for event, signup in found:
            label = self._details_label(signup.status)
            buttons = [self._button(label, "event details", event)]
            if signup.status == "offered":
                buttons.insert(0, self._button(self._w["details"]["claim"], "claim place", event))
            buttons.append(self._button(w["change_needs"], "change needs", event))
            sections.append(
                {
                    "title": event.title,
                    "facts": [
                        {"title": self._w["facts"]["starts"], "value": local_text(event.starts_at)},
                        {
                            "title": self._w["facts"]["your_place"],
                            "value": await self._place_words(session, event, person, signup),
                        },
                        {"title": w["needs"], "value": self._needs_words(signup)},
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

    async def _place_words(
        self, session: Any, event: Event, person: Attendee, signup: EventSignup
    ) -> str:
        """Where the person stands: a place, an offer and until when, or their number in the
        queue."""
        w = self._w["mine"]
        if signup.status == "waitlisted":
            _, position = await self._events.my_place(session, event, person.key)
            return str(w["waitlist_place"]).format(position=position or 1)
        if signup.status == "offered" and signup.offer_expires_at is not None:
            return str(w["offered_until"]).format(until=local_text(signup.offer_expires_at))
        return str(self._w["list"]["status"].get(signup.status, signup.status))

    def _needs_words(self, signup: EventSignup) -> str:
        """The adjustment needs the person gave, in words (their own words as typed)."""
        needs = self._events.needs_of(signup)
        said = [self._events.need_labels(needs.get("needs") or [])]
        said.append(str(needs.get("details") or ""))
        return "; ".join(part for part in said if part) or str(self._w["mine"]["no_needs"])

    async def _needs_form(
        self, context: TurnContext, person: Attendee, slug: str, typed: str = ""
    ) -> None:
        """The adjustment needs of a place, to change or clear (typed words in the box)."""
        held = await self._held(context, person, slug)
        if held is None:
            return
        event, signup = held
        w = self._w["needs_form"]
        needs = self._events.needs_of(signup)
        paragraphs = [w["intro"]]
        if typed:
            paragraphs.insert(0, self._w["details"]["typed_note"].format(button=w["save"]))
        card = self._content.card(
            "event_card",
            heading=str(w["heading"]).format(title=event.title),
            paragraphs=paragraphs,
            facts=[],
            sections=[],
            inputs=self._needs_inputs(
                codes=list(needs.get("needs") or []),
                details=typed or str(needs.get("details") or ""),
            ),
            buttons=[
                self._button(w["save"], "save needs", event),
                {"title": w["keep"], "data": {"command": "my events"}, "skip_inputs": True},
            ],
            links=[],
        )
        await context.send_activity(card_message(card))
        context.turn_state[FORM_OUT] = (NEEDS_FORM, event.slug)

        # ---- actions -----------------------------------------------------------------------

    @staticmethod
    def _read_needs(value: dict[str, Any]) -> tuple[list[str], str] | None:
        """The needs chosen and the person's own words, from a form; None if unreadable."""
        raw_needs = value.get("needs", "")
        details = value.get("details", "")
        if (
            not isinstance(raw_needs, str)
            or len(raw_needs) > MAX_NEEDS_VALUE
            or not isinstance(details, str)
        ):
            return None
        return [part.strip() for part in raw_needs.split(",") if part.strip()], details

    async def _save_needs(self, context: TurnContext, person: Attendee, slug: str) -> None:
        read = self._read_needs(Turn.of(context).value)
        if read is None:
            await self._text(context, "bad_needs")
            return
        codes, details = read
        outcome, event = await self._events.change_needs(
            turn_session(), slug, person.key, needs=codes, details=details
        )
        if event is None or outcome in ("unknown_event", "bad_needs"):
            await self._text(context, "bad_needs" if outcome == "bad_needs" else "unknown_event")
        elif outcome != "needs_saved":
            await self._text(context, outcome, title=event.title)
        else:
            said = "; ".join(p for p in (self._events.need_labels(codes), details.strip()) if p)
            key = "needs_saved" if said else "needs_cleared"
            await self._text(context, key, title=event.title, needs=said)

    async def _ask_cancel(self, context: TurnContext, person: Attendee, slug: str) -> None:
        """Before giving up a place (or a queue place, or an offer): say what would go."""
        held = await self._held(context, person, slug)
        if held is None:
            return
        event, signup = held
        w = self._w["confirm_cancel"]
        suffix = {"waitlisted": "_waitlist", "offered": "_offer"}.get(signup.status, "")
        body = w["body_waitlist"] if signup.status == "waitlisted" else w["body"]
        card = self._content.card(
            "event_card",
            heading=str(w[f"heading{suffix}"]).format(title=event.title),
            paragraphs=[str(body).format(when=local_text(event.starts_at))],
            facts=[],
            sections=[],
            inputs=[],
            buttons=[
                self._button(w[f"give_up{suffix}"], "confirm cancel", event),
                {"title": w["keep"], "data": {"command": "my events"}},
            ],
            links=[],
        )
        await context.send_activity(card_message(card))

    async def _sign_up(self, context: TurnContext, person: Attendee, slug: str) -> None:
        read = self._read_needs(Turn.of(context).value)
        if read is None:
            await self._text(context, "bad_needs")
            return
        codes, details = read
        outcome, event = await self._events.sign_up(
            turn_session(), slug, person, needs=codes, details=details
        )
        if event is None or outcome in ("unknown_event", "bad_needs"):
            await self._text(context, "bad_needs" if outcome == "bad_needs" else "unknown_event")
        elif outcome == "confirmed":
            await self._notice(context, event, "confirmed", "request")
        elif outcome == "waitlisted":
            _, position = await self._events.my_place(turn_session(), event, person.key)
            hours = int(self._events.claim_window.total_seconds() // 3600)
            await self._notice(
                context,
                event,
                "waitlisted",
                None,
                position=str(position or 1),
                window=f"{hours} hours",
            )
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

    async def _held(
        self, context: TurnContext, person: Attendee, slug: str
    ) -> tuple[Event, EventSignup] | None:
        """The event and the person's place, offer or queue place there; None (having said
        so) if they have none."""
        session = turn_session()
        event = await self._events.event(session, slug)
        signup = None
        if event is not None:
            signup, _ = await self._events.my_place(session, event, person.key)
        if event is None or signup is None or signup.status not in HELD:
            await self._text(context, "not_signed_up", title=event.title if event else slug)
            return None
        return event, signup

    @staticmethod
    def _button(title: str, command: str, event: Event) -> dict[str, Any]:
        return {"title": title, "data": {"command": command, "event": event.slug}}

    async def _notice(
        self, context: TurnContext, event: Event, key: str, method: Any, **fields: str
    ) -> None:
        card = self._events.notice_card(event, key, method=method, **fields)
        await context.send_activity(card_message(card))

    async def _text(self, context: TurnContext, key: str, **fields: str) -> None:
        # Teams shows a message's text as Markdown: an event's title is an organiser's words.
        sentence = str(self._w["replies"][key])
        plain = {name: plain_text(value) for name, value in fields.items()}
        await context.send_activity(MessageFactory.text(sentence.format(**plain)))
