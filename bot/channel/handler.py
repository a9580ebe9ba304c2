"""The activity handler: one turn = one transaction; routes commands, cards and dialogs.

A turn loads the conversation's state, runs, and saves the state in the same database
transaction as anything the turn stored. Replies are held until that commits. If another
process advanced the same conversation meanwhile, the save is refused and the whole turn is
run again on the fresh state (up to `turn_attempts` times), so nothing is applied twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from botbuilder.core import (
    ActivityHandler,
    ConversationState,
    InvokeResponse,
    MessageFactory,
    TurnContext,
)
from botbuilder.dialogs import (
    Dialog,
    DialogContext,
    DialogInstance,
    DialogReason,
    DialogSet,
    DialogTurnStatus,
)
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channel.adapter import ReplyBuffer
from bot.channel.interrupted import Interrupted
from bot.channel.own_words import OwnWords, Waiting, switch_card
from bot.channel.sent import FILES, FORM, TOO_BIG, UNREADABLE, what_was_sent
from bot.channel.sent import MAX_TEXT_CHARS as MAX_TEXT_CHARS  # the limit, for tests
from bot.channel.storage import StateConflictError
from bot.channel.teams import (
    card_message,
    is_personal,
    normalise_command,
    person_of,
    reference_of,
    upn_lookup,
)
from bot.core.content import Content, MenuEntry
from bot.core.logs import describe_exception, sensitive
from bot.core.people import PersonKey
from bot.core.understanding import REPORT
from bot.db import references as repo_references
from bot.db.session import current_session, unit_of_work
from bot.privacy.audit import AuditLog
from bot.privacy.roles import Role, RoleChecker

log = logging.getLogger(__name__)

# Called when a person is first seen in a day: (session, who, ask for their UPN, their name).
SeenHook = Callable[
    [AsyncSession, PersonKey, Callable[[], Awaitable[str | None]], str | None], Awaitable[object]
]

# The "Carry on with …" button of the offer to switch conversations (see `_offer_switch`).
CARRY_ON = "carry on"
MENU_WORDS = frozenset({"hi", "hello", "hey", "help", "menu", "start", "home", "?"})
CANCEL_WORDS = frozenset({"cancel", "stop", "quit", "exit", "abort", "never mind", "nevermind"})


@dataclass(frozen=True)
class Conversation:
    """A conversation the menu offers: its command, the words for it, and its dialog."""

    entry: MenuEntry
    dialog: Dialog

    @property
    def role(self) -> Role | None:
        """The role a person needs for this feature, if any."""
        return Role(self.entry.role) if self.entry.role else None


class EdiBot(ActivityHandler):
    """Routes each activity: shell commands, the active dialog, feature commands, or help."""

    def __init__(
        self,
        *,
        conversation_state: ConversationState,
        sessions: async_sessionmaker[AsyncSession],
        content: Content,
        features: list[Conversation],
        roles: RoleChecker,
        audit: AuditLog,
        turn_attempts: int = 3,
        on_seen: SeenHook | None = None,
        own_words: OwnWords | None = None,
    ) -> None:
        super().__init__()
        self._own_words = own_words
        self._on_seen = on_seen
        self._state = conversation_state
        self._sessions = sessions
        self._content = content
        self._texts = content.texts
        self._features = features
        # The welcome card lists entries in content/<feature>/menu.yaml's order, whatever order the
        # features were built in.
        menu_order = {entry.command: n for n, entry in enumerate(content.menu_entries())}
        self._menu = sorted(
            (c for c in features if not c.entry.hidden),
            key=lambda c: menu_order.get(c.entry.command, len(menu_order)),
        )
        self._roles = roles
        self._audit = audit
        self._attempts = turn_attempts
        self._role_of_dialog = {f.dialog.id: f.role for f in features if f.role is not None}
        self._known_references: OrderedDict[PersonKey, bytes] = OrderedDict()
        self._dialogs = DialogSet(conversation_state.create_property("DialogState"))
        self._dialogs.add(Interrupted(self._resume))
        self._by_word: dict[str, Conversation] = {}
        self._titles: dict[str, str] = {}
        for feature in features:
            self._dialogs.add(feature.dialog)
            self._titles[feature.dialog.id] = feature.entry.title
            for word in (feature.entry.command, *feature.entry.words):
                self._by_word[normalise_command(word)] = feature

    # ---- the turn ---------------------------------------------------------------------

    async def on_turn(self, turn_context: TurnContext) -> None:
        """Run the turn in one transaction, retrying it when it lost a race on its state."""
        sensitive(turn_context.activity.text, turn_context.activity.value)
        buffer = ReplyBuffer(turn_context)
        for attempt in range(1, self._attempts + 1):
            buffer.start()
            try:
                async with unit_of_work(self._sessions):
                    await self._state.load(turn_context, force=True)
                    await super().on_turn(turn_context)
                    await self._state.save_changes(turn_context)
            except StateConflictError:
                buffer.discard()
                log.info("turn.state_conflict", extra={"attempt": attempt})
                continue
            except BaseException:
                buffer.discard()
                raise
            self._committed(turn_context)
            try:
                await buffer.flush()
            except Exception as error:  # noqa: BLE001 - the turn itself succeeded
                # The state is committed and correct; only the replies did not reach Teams.
                # Resetting the conversation (the error handler's job) would lose real work.
                log.error("turn.replies_undelivered", extra={"error": describe_exception(error)})
            return
        await turn_context.send_activity(self._texts("shell.crossed"))

    # ---- messages -----------------------------------------------------------------------

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        """Typed text or a card's Action.Submit."""
        await self._remember(turn_context)
        activity = turn_context.activity
        submitted = what_was_sent(activity)
        if submitted is UNREADABLE:
            await self._say(turn_context, "shell.unreadable_card")
            return
        if submitted is TOO_BIG:
            await self._say(turn_context, "shell.too_long", limit=f"{MAX_TEXT_CHARS:,}")
            return
        if submitted is FILES:
            # Files with no words are for the conversation under way (a report), if any.
            activity.text = ""
            dialog_context = await self._dialogs.create_context(turn_context)
            active = dialog_context.active_dialog
            if active is None or not await self._continue(turn_context, dialog_context, active.id):
                await self._say(turn_context, "shell.text_only")
            return
        if submitted is FORM:
            # A form's inputs are for the dialog that sent the form; it reads activity.value.
            activity.text = ""
            await self._route(turn_context, "", from_card=True)
            return
        if isinstance(submitted, str):
            # A card button says what a person could have typed: treat it the same way.
            activity.text = submitted
        elif not activity.text:
            await self._say(turn_context, "shell.text_only")
            return
        if len(activity.text) > MAX_TEXT_CHARS:
            await self._say(turn_context, "shell.too_long", limit=f"{MAX_TEXT_CHARS:,}")
            return
        button = isinstance(activity.value, dict) and isinstance(activity.value.get("command"), str)
        await self._route(
            turn_context,
            normalise_command(activity.text),
            from_card=bool(submitted),
            button=button,
        )

    async def _route(
        self, turn_context: TurnContext, command: str, *, from_card: bool, button: bool = False
    ) -> None:
        """Shell words first, then another feature named mid-conversation, then the active
        dialog, then a feature's command word; otherwise the words are read (`_understand`)."""
        dialog_context = await self._dialogs.create_context(turn_context)
        active = dialog_context.active_dialog
        if command in CANCEL_WORDS:
            await self._cancel(turn_context, dialog_context)
            return
        if command in MENU_WORDS:
            if active is not None:
                await self._step_aside(turn_context, dialog_context)
            await self.send_welcome(turn_context)
            return
        if button and command == CARRY_ON:
            # "Carry on with …" on the offer to switch: ask the waiting question again.
            if active is None:
                await self._say(turn_context, "shell.stale_card")
            else:
                await dialog_context.reprompt_dialog()
            return
        feature = self._by_word.get(command)
        if (
            active is not None
            and feature is not None
            and all(instance.id != feature.dialog.id for instance in dialog_context.stack)
        ):
            if self._settled(active):
                # What waits had finished its work (a report's status, the bulletin, shown):
                # nothing to lose, so the feature asked for simply starts.
                await dialog_context.cancel_all_dialogs()
                await self._start(turn_context, dialog_context, feature)
                return
            if not from_card and (
                feature.role is None or await self._holds(turn_context, feature.role)
            ):
                # Typed mid-conversation, another feature's name is more likely a change of
                # mind than an answer: ask, rather than guess either way (nothing is lost).
                await self._offer_switch(turn_context, active.id, feature)
                return
            if button:
                # A button on an earlier card (a bulletin, a reminder, the menu) means what it
                # says even mid-conversation: run it, then come back to the waiting question.
                await self._start(turn_context, dialog_context, feature, interrupting=True)
                return
        if active is not None and await self._continue(turn_context, dialog_context, active.id):
            return
        if feature is not None:
            await self._start(turn_context, dialog_context, feature)
            return
        if from_card:
            await self._say(turn_context, "shell.stale_card")
            return
        await self._understand(turn_context, dialog_context)

    async def _step_aside(self, turn_context: TurnContext, dialog_context: DialogContext) -> None:
        """On "menu" mid-conversation: stop it, saying whether its answers were kept."""
        active: DialogInstance = dialog_context.active_dialog
        dialog = self._dialogs.find_dialog(active.id)
        settled = self._settled(active)
        await dialog_context.cancel_all_dialogs()
        if settled:  # it had finished its work: nothing to say
            return
        title = self._title(active.id)
        if getattr(dialog, "discard_draft", None) is None:
            await self._say(turn_context, "shell.cancelled", activity=title)
            return
        # Its draft lives outside the dialog stack: it is kept, and choosing it again resumes.
        command = next((c.entry.command for c in self._features if c.dialog is dialog), "")
        await self._say(turn_context, "shell.kept", activity=title, command=command)

    async def _understand(self, turn_context: TurnContext, dialog_context: DialogContext) -> None:
        """Typed words no command and no waiting question claimed: read them, then start what
        they clearly ask for, or offer the best guesses (never a dead end)."""
        active = dialog_context.active_dialog
        if self._own_words is None:
            await self.send_welcome(turn_context)
            return
        usable = await self._usable(turn_context)
        reading = self._own_words.read(turn_context.activity.text or "", usable)
        waiting = None
        if active is not None:
            waiting = Waiting(title=self._title(active.id), carry_on=CARRY_ON)
        kind = reading.small_talk
        if kind is not None:
            card = self._own_words.small_talk(kind, waiting)
            if card is None:
                answer = self._own_words.small_talk_answer(kind)
                await turn_context.send_activity(MessageFactory.text(answer))
                await self.send_welcome(turn_context)
            else:
                await turn_context.send_activity(card_message(card))
            return
        chosen = usable.get(reading.chosen or "")
        # Words that sound like harm are the start of what happened: the report keeps them.
        said = {"said": turn_context.activity.text} if reading.harm else {}
        if chosen is not None and active is None:
            options = said if chosen.entry.command == REPORT else None
            await self._start(turn_context, dialog_context, chosen, options=options)
            return
        if chosen is not None and active is not None:
            if all(instance.id != chosen.dialog.id for instance in dialog_context.stack):
                await self._offer_switch(turn_context, active.id, chosen)
            else:  # they asked for what we are already doing: ask its question again
                await self._say(turn_context, "shell.resumed", activity=self._title(active.id))
                await dialog_context.reprompt_dialog()
            return
        guesses = [usable[c].entry for c in reading.guesses if c in usable]
        if active is not None:
            guesses = [g for g in guesses if usable[g.command].dialog.id != active.id]
        card = self._own_words.guesses_card(reading, guesses, waiting, carry=said)
        await turn_context.send_activity(card_message(card))

    async def _usable(self, turn_context: TurnContext) -> dict[str, Conversation]:
        """The menu's features this person may use, by command (roles checked here)."""
        held = await self._held(turn_context, {c.role for c in self._menu if c.role is not None})
        return {c.entry.command: c for c in self._menu if c.role is None or c.role in held}

    async def _cancel(self, turn_context: TurnContext, dialog_context: DialogContext) -> None:
        """On "cancel": stop what is running (only what a button started, if it interrupted
        something) and throw its draft away."""
        active = dialog_context.active_dialog
        if active is None:
            await self._say(turn_context, "shell.nothing_to_cancel")
            return
        interrupting = self._interrupting(dialog_context)
        if interrupting:
            # Stop only what the button started; the interrupted conversation carries on.
            await dialog_context.end_active_dialog(DialogReason.CancelCalled)
        else:
            await dialog_context.cancel_all_dialogs()
        await self._say(turn_context, "shell.cancelled", activity=self._title(active.id))
        discard = getattr(self._dialogs.find_dialog(active.id), "discard_draft", None)
        if discard is not None:
            # "cancel" means throw it away; "menu" only steps aside (the draft is kept).
            await discard(turn_context)
        if interrupting:
            await dialog_context.continue_dialog()  # the marker hands back and re-asks

    async def _continue(
        self, turn_context: TurnContext, dialog_context: DialogContext, active_id: str
    ) -> bool:
        """Hand the turn to the active dialog; False if it had nothing to say to it."""
        needed = self._role_of_dialog.get(active_id)
        if needed is not None and not await self._holds(turn_context, needed):
            # The role was taken away mid-conversation: stop, and say why.
            await dialog_context.cancel_all_dialogs()
            await self._refuse(turn_context, needed, active_id)
            return True
        result = await dialog_context.continue_dialog()
        return bool(result.status != DialogTurnStatus.Empty)

    async def _start(
        self,
        turn_context: TurnContext,
        dialog_context: DialogContext,
        feature: Conversation,
        *,
        interrupting: bool = False,
        options: dict[str, Any] | None = None,
    ) -> None:
        """Begin a feature's dialog (on top of the waiting one when `interrupting`)."""
        if feature.role is not None and not await self._holds(turn_context, feature.role):
            await self._refuse(turn_context, feature.role, feature.dialog.id)
            return
        if interrupting:
            await dialog_context.begin_dialog(Interrupted.ID)
        await dialog_context.begin_dialog(feature.dialog.id, options)

    # ---- installs and membership ----------------------------------------------------------

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        """The bot was installed (or reinstalled) for someone: store where to reach them."""
        await self._remember(turn_context, always=True)

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        """The bot was uninstalled: never message that person proactively again."""
        await self._forget(turn_context)

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        """Welcome a person when the bot joins their personal chat (or welcome them back)."""
        bot_id = getattr(turn_context.activity.recipient, "id", None)
        if any(getattr(member, "id", None) == bot_id for member in members_added or []):
            await self._remember(turn_context)
            if not is_personal(turn_context.activity):
                return
            dialog_context = await self._dialogs.create_context(turn_context)
            active = dialog_context.active_dialog
            if active is None:
                await self.send_welcome(turn_context)
                return
            # Mid-conversation (a reinstall, or the chat reopened): pick up where we were
            # rather than show a menu whose buttons would land in the waiting question.
            await self._say(turn_context, "shell.welcome_back", activity=self._title(active.id))
            await dialog_context.reprompt_dialog()

    async def on_members_removed_activity(
        self, members_removed: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        """The bot left the chat: its reference is no longer usable."""
        bot_id = getattr(turn_context.activity.recipient, "id", None)
        if any(getattr(member, "id", None) == bot_id for member in members_removed or []):
            await self._forget(turn_context)

    # ---- invokes --------------------------------------------------------------------------

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        """Action.Execute from a card is handled like Action.Submit; other invokes are refused."""
        activity = turn_context.activity
        if activity.name == "adaptiveCard/action" and isinstance(activity.value, dict):
            action = activity.value.get("action")
            data = action.get("data") if isinstance(action, dict) else None
            message = Activity(
                type=ActivityTypes.message, value=data if isinstance(data, dict) else {}
            )
            for field in ("id", "channel_id", "conversation", "from_property", "recipient"):
                setattr(message, field, getattr(activity, field))
            message.service_url = activity.service_url
            message.channel_data = activity.channel_data
            turn_context._activity = message
            try:
                await self.on_message_activity(turn_context)
            finally:
                turn_context._activity = activity
            # Answering with a plain InvokeResponse avoids botbuilder 4.17.1 serialising an
            # AdaptiveCardInvokeResponse twice (HTTP 500); see shared/notes/agents-playground.md.
            return InvokeResponse(
                status=200,
                body={
                    "statusCode": 200,
                    "type": "application/vnd.microsoft.activity.message",
                    "value": "",
                },
            )
        return InvokeResponse(status=400, body={"error": "This bot does not handle that invoke."})

    # ---- what the bot says ------------------------------------------------------------------

    async def send_welcome(self, turn_context: TurnContext) -> None:
        """The welcome card: what the bot can do for this person, each entry a button."""
        menu = self._content.menu
        shown = self._menu
        held = await self._held(turn_context, {c.role for c in shown if c.role is not None})
        entries = [c.entry for c in shown if c.role is None or c.role in held]
        card = self._content.card(
            "welcome", title=menu["title"], intro=menu["intro"], tips=menu["tips"], entries=entries
        )
        await turn_context.send_activity(card_message(card))

    # ---- roles -------------------------------------------------------------------------------

    async def _holds(self, turn_context: TurnContext, role: Role) -> bool:
        """Whether the sender holds `role`, decided here on the server from stored grants."""
        person = person_of(turn_context.activity)
        session = current_session()
        if person is None or session is None:
            return False
        return await self._roles.holds(
            session, person=person, role=role, lookup_upn=upn_lookup(turn_context)
        )

    async def _held(self, turn_context: TurnContext, roles: set[Role]) -> set[Role]:
        """Which of `roles` the sender holds (one query for all of them)."""
        person = person_of(turn_context.activity)
        session = current_session()
        if person is None or session is None or not roles:
            return set()
        return await self._roles.held(
            session, person=person, roles=roles, lookup_upn=upn_lookup(turn_context)
        )

    async def _refuse(self, turn_context: TurnContext, role: Role, what: str) -> None:
        log.warning("access.refused", extra={"role": role.value, "feature": what})
        person = person_of(turn_context.activity)
        session = current_session()
        if session is not None:
            actor = f"teams:{person.tenant_id}/{person.aad_object_id}" if person else "unknown"
            await self._audit.append(
                session,
                actor=actor,
                action="access.refused",
                object_type="feature",
                object_id=what,
                detail={"role_needed": role.value},
            )
        await self._say(turn_context, "shell.not_allowed", role=role.value.replace("_", " "))

    async def _say(self, turn_context: TurnContext, key: str, **fields: object) -> None:
        await turn_context.send_activity(MessageFactory.text(self._texts(key, **fields)))

    async def _offer_switch(
        self, turn_context: TurnContext, active_id: str, to: Conversation
    ) -> None:
        waiting = Waiting(title=self._title(active_id), carry_on=CARRY_ON)
        card = switch_card(self._content, waiting, to.entry)
        await turn_context.send_activity(card_message(card))

    @staticmethod
    def _interrupting(dialog_context: DialogContext) -> bool:
        """Whether the active dialog was started by a button over another conversation."""
        stack: list[DialogInstance] = dialog_context.stack
        return len(stack) > 1 and stack[1].id == Interrupted.ID

    def _settled(self, instance: DialogInstance) -> bool:
        """Whether a waiting dialog says it has finished its work (its `settled(state)`)."""
        settled = getattr(self._dialogs.find_dialog(instance.id), "settled", None)
        return bool(settled is not None and settled(instance.state))

    async def _resume(self, dialog_context: DialogContext) -> None:
        active = dialog_context.active_dialog
        if active is not None and self._settled(active):
            # What was interrupted had finished its work (e.g. a report's status was shown):
            # nothing to go back to, so it ends quietly.
            await dialog_context.end_dialog()
            return
        if active is not None:
            title = self._title(active.id)
            await self._say(dialog_context.context, "shell.resumed", activity=title)
            await dialog_context.reprompt_dialog()

    def _title(self, dialog_id: str) -> str:
        return f"“{self._titles.get(dialog_id, 'what we were doing')}”"

    # ---- cards and references ---------------------------------------------------------------

    async def _remember(self, turn_context: TurnContext, *, always: bool = False) -> None:
        activity = turn_context.activity
        person = person_of(activity)
        service_url = activity.service_url or ""
        if person is None or not is_personal(activity):
            return
        if not service_url.startswith(("https://", "http://")):
            return
        session = current_session()
        if session is None:
            return
        reference = reference_of(activity)
        # Stored references almost never change, and writing one on every message was a
        # twelfth of a turn's CPU: skip it when this process stored the same one today.
        # (Daily, so a reference deleted elsewhere, e.g. by erasure, comes back within a day.)
        digest = hashlib.sha256(
            f"{date.today().isoformat()}|{json.dumps(reference, sort_keys=True)}".encode()
        ).digest()
        if not always and self._known_references.get(person) == digest:
            return
        await repo_references.upsert_reference(
            session,
            person=person,
            conversation_id=activity.conversation.id,
            service_url=service_url,
            reference=reference,
        )
        turn_context.turn_state[_STORED_REFERENCE] = (person, digest)
        if self._on_seen is not None:
            # Once a day per person and process: their name, the roster's UPN link, ...
            name = activity.from_property.name if activity.from_property else None
            await self._on_seen(session, person, upn_lookup(turn_context), name)

    def _committed(self, turn_context: TurnContext) -> None:
        """What a committed turn stored may now be relied on."""
        stored = turn_context.turn_state.pop(_STORED_REFERENCE, None)
        if stored is not None:
            person, digest = stored
            self._known_references[person] = digest
            self._known_references.move_to_end(person)
            while len(self._known_references) > _KNOWN_REFERENCES_MAX:
                self._known_references.popitem(last=False)

    async def _forget(self, turn_context: TurnContext) -> None:
        person = person_of(turn_context.activity)
        if person is not None:
            self._known_references.pop(person, None)
        session = current_session()
        if person is not None and session is not None:
            await repo_references.mark_gone(session, person=person)


_STORED_REFERENCE = "edi.stored_reference"
_KNOWN_REFERENCES_MAX = 50_000
