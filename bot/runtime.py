"""Builds the bot and its parts once, for the web service and the terminal chat alike."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.actions.service import ActionsService
from bot.bulletins.service import BulletinService
from bot.channel.errors import on_turn_error
from bot.channel.handler import Conversation, EdiBot, SeenHook
from bot.channel.own_words import OwnWords, build_understanding
from bot.channel.storage import SqlConversationState, SqlStorage
from bot.config import Settings
from bot.core.clock import today_in_london
from bot.core.content import Content, MenuEntry
from bot.core.people import PersonKey
from bot.core.registry import Kit, load
from bot.core.understanding import Understanding
from bot.db.engine import create_sessionmaker
from bot.db.session import turn_session
from bot.events.service import EventService
from bot.features import FEATURES
from bot.hr.factory import build_roster_linker
from bot.hr.roster import RosterLinker
from bot.hr.service import HrReports
from bot.incidents.service import Incidents
from bot.outbox.queue import Outbox
from bot.privacy.core import PrivacyCore, build_privacy
from bot.privacy.crypto import FieldCipher
from bot.privacy.data_copy import DataCopyLinks
from bot.privacy.names_repo import remember_name
from bot.status import BotStatus, collect_status
from dialogs.shell.about_edi import AboutEdiDialog
from dialogs.shell.admin_status import AdminStatusDialog

log = logging.getLogger(__name__)
T = TypeVar("T")


def typed(services: Mapping[str, object], name: str, kind: type[T]) -> T:
    """Feature `name`'s service, checked to be a `kind`."""
    service = services[name]
    if not isinstance(service, kind):
        raise TypeError(f"the {name} feature's service is a {type(service).__name__}")
    return service


@dataclass(frozen=True)
class Wiring:
    """What a feature's conversations are built from (dialogs/<feature>/wiring.py)."""

    settings: Settings
    content: Content
    privacy: PrivacyCore
    state: SqlConversationState
    services: Mapping[str, object]
    copy_links: DataCopyLinks

    def service(self, name: str, kind: type[T]) -> T:
        """Feature `name`'s service, checked to be a `kind`."""
        return typed(self.services, name, kind)

    @cached_property
    def _entries(self) -> dict[str, MenuEntry]:
        return {entry.command: entry for entry in self.content.menu_entries()}

    def entry(self, command: str) -> MenuEntry:
        """The menu entry (content/<feature>/menu.yaml) for `command`."""
        return self._entries[command]


@dataclass
class Runtime:
    """The bot with the storage and state it runs on, and each feature's service."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    storage: SqlStorage
    conversation_state: SqlConversationState
    content: Content
    privacy: PrivacyCore
    bot: EdiBot
    outbox: Outbox
    services: Mapping[str, object]
    copy_links: DataCopyLinks
    # Reads a typed sentence no command word claimed (bot/core/understanding.py).
    understanding: Understanding

    def service(self, name: str, kind: type[T]) -> T:
        """Feature `name`'s service, checked to be a `kind`."""
        return typed(self.services, name, kind)

    # Typed views for the code (and tests) that name a feature's service.
    @property
    def incidents(self) -> Incidents:
        """The incidents feature's service."""
        return self.service("incidents", Incidents)

    @property
    def bulletins(self) -> BulletinService:
        """The bulletin feature's service."""
        return self.service("bulletins", BulletinService)

    @property
    def events(self) -> EventService:
        """The events feature's service."""
        return self.service("events", EventService)

    @property
    def actions(self) -> ActionsService:
        """The action plans feature's service."""
        return self.service("actions", ActionsService)

    @property
    def hr_reports(self) -> HrReports:
        """The HR feature's service."""
        return self.service("hr", HrReports)

    async def on_turn_error(self, turn_context: Any, error: Exception) -> None:
        """The one error handler (bot/channel/errors.py): log, tell the person, reset."""
        await on_turn_error(
            turn_context,
            error,
            storage=self.storage,
            state=self.conversation_state,
            content=self.content,
        )


def _on_seen(linker: RosterLinker, cipher: FieldCipher) -> SeenHook:
    """When a person is first seen in a day: keep their display name (sealed), and link a
    roster row given by UPN to them."""

    async def seen(
        session: AsyncSession,
        person: PersonKey,
        lookup_upn: Callable[[], Awaitable[str | None]],
        name: str | None,
    ) -> bool:
        await remember_name(session, cipher, person, name)
        today = today_in_london()
        return await linker.seen(session, person=person, lookup_upn=lookup_upn, today=today)

    return seen


def build_runtime(
    settings: Settings,
    engine: AsyncEngine,
    *,
    sessions: async_sessionmaker[AsyncSession] | None = None,
) -> Runtime:
    """Wire storage, state, content, every feature's service and conversations, and the bot.
    `sessions` replaces the engine's own (a job's rehearsal passes sessions it rolls back)."""
    sessions = sessions or create_sessionmaker(engine)
    privacy = build_privacy(settings)
    storage = SqlStorage(engine, sessions, privacy.cipher)
    conversation_state = SqlConversationState(storage)
    content = Content(settings.content_dir, [feature.name for feature in FEATURES])
    outbox = Outbox(privacy.cipher)
    kit = Kit(settings, content, privacy, outbox, sessions)
    services = {f.name: f.service(kit) for f in FEATURES if f.service is not None}
    copy_links = DataCopyLinks(
        privacy,
        settings.public_base_url or f"http://{settings.host}:{settings.port}",
        content,
        FEATURES,
    )
    wiring = Wiring(settings, content, privacy, conversation_state, services, copy_links)
    conversations = _conversations(wiring)
    understanding = build_understanding(content, [c.entry for c in conversations])
    bot = EdiBot(
        conversation_state=conversation_state,
        sessions=sessions,
        content=content,
        features=conversations,
        own_words=OwnWords(content, understanding),
        roles=privacy.roles,
        audit=privacy.audit,
        turn_attempts=settings.turn_attempts,
        on_seen=_on_seen(build_roster_linker(privacy), privacy.cipher),
    )
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=sessions,
        storage=storage,
        conversation_state=conversation_state,
        content=content,
        privacy=privacy,
        bot=bot,
        outbox=outbox,
        services=services,
        copy_links=copy_links,
        understanding=understanding,
    )


def _conversations(wiring: Wiring) -> list[Conversation]:
    """Every conversation the bot can start: the shell's (about, bot status), then each
    feature's, from its dialogs' wiring."""
    privacy = wiring.privacy

    async def status() -> BotStatus:
        return await collect_status(
            turn_session(), active_key_id=privacy.cipher.active_id, settings=wiring.settings
        )

    shell = [
        Conversation(wiring.entry(AboutEdiDialog.COMMAND), AboutEdiDialog(wiring.content)),
        Conversation(
            wiring.entry(AdminStatusDialog.COMMAND), AdminStatusDialog(wiring.content, status)
        ),
    ]
    features = [
        conversation
        for feature in FEATURES
        if feature.conversations is not None
        for conversation in load(feature.conversations)(wiring)
    ]
    return shell + features
