"""Builds the bot and its parts once, for the web service and the terminal chat alike."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.actions.service import ActionsService
from bot.bulletins.service import BulletinService
from bot.channel.errors import on_turn_error
from bot.channel.handler import Conversation, EdiBot, SeenHook
from bot.channel.storage import SqlConversationState, SqlStorage
from bot.config import Settings
from bot.core.content import Content
from bot.core.people import PersonKey
from bot.db.engine import create_sessionmaker
from bot.db.session import turn_session
from bot.declarations.factory import build_declaration_service
from bot.events.service import EventService, build_event_service
from bot.features import FEATURES
from bot.hr.factory import build_hr_reports, build_roster_linker
from bot.hr.roster import RosterLinker
from bot.hr.service import HrReports
from bot.incidents.service import Incidents
from bot.outbox.queue import Outbox
from bot.privacy.core import PrivacyCore, build_privacy
from bot.privacy.data_copy import DataCopyLinks
from bot.status import BotStatus, collect_status
from dialogs.actions.my_actions import ActionCardDialog, MyActionsDialog
from dialogs.bulletins.bulletin import BulletinDialog
from dialogs.declarations.declare import DeclarationDialog
from dialogs.declarations.states import DRAFT_PROPERTY
from dialogs.events.event_admin import EventAdminDialog
from dialogs.events.networks import NetworksDialog
from dialogs.events.sign_up import EventsDialog
from dialogs.hr.hr_report import HrReportDialog
from dialogs.incidents.cases import CasesDialog
from dialogs.incidents.check_report import AddToReportDialog, CheckReportDialog
from dialogs.incidents.report_incident import ReportIncidentDialog
from dialogs.shell.about_edi import AboutEdiDialog
from dialogs.shell.admin_status import AdminStatusDialog

log = logging.getLogger(__name__)
LONDON = ZoneInfo("Europe/London")


@dataclass
class Runtime:
    """The bot with the storage and state it runs on."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    storage: SqlStorage
    conversation_state: SqlConversationState
    content: Content
    privacy: PrivacyCore
    bot: EdiBot
    outbox: Outbox
    bulletins: BulletinService
    incidents: Incidents
    actions: ActionsService
    events: EventService
    hr_reports: HrReports
    copy_links: DataCopyLinks

    async def on_turn_error(self, turn_context: Any, error: Exception) -> None:
        """The one error handler (bot/channel/errors.py): log, tell the person, reset."""
        await on_turn_error(
            turn_context,
            error,
            storage=self.storage,
            state=self.conversation_state,
            content=self.content,
        )


def _roster_links(linker: RosterLinker) -> SeenHook:
    """Link a roster row given by UPN to its person when they are first seen in a day."""

    async def seen(
        session: AsyncSession, person: PersonKey, lookup_upn: Callable[[], Awaitable[str | None]]
    ) -> bool:
        today = datetime.now(LONDON).date()
        return await linker.seen(session, person=person, lookup_upn=lookup_upn, today=today)

    return seen


@dataclass(frozen=True)
class Services:
    """Each feature's service, built once."""

    bulletins: BulletinService
    incidents: Incidents
    actions: ActionsService
    events: EventService
    hr_reports: HrReports
    copy_links: DataCopyLinks


def build_services(
    settings: Settings,
    content: Content,
    privacy: PrivacyCore,
    outbox: Outbox,
    sessions: async_sessionmaker[AsyncSession],
) -> Services:
    """The features' services on these settings, content, keys and outbox."""
    return Services(
        bulletins=BulletinService(
            content=content, outbox=outbox, privacy=privacy, sessions=sessions
        ),
        incidents=Incidents(
            content=content,
            cipher=privacy.cipher,
            audit=privacy.audit,
            pseudonyms=privacy.pseudonyms,
            outbox=outbox,
            token_key=privacy.keys.pseudonym,
        ),
        actions=ActionsService(
            content=content,
            settings=settings,
            outbox=outbox,
            audit=privacy.audit,
            sessions=sessions,
        ),
        events=build_event_service(settings, content, privacy, outbox),
        hr_reports=build_hr_reports(settings, content, privacy, outbox),
        copy_links=DataCopyLinks(
            privacy,
            settings.public_base_url or f"http://{settings.host}:{settings.port}",
            content,
            FEATURES,
        ),
    )


def build_runtime(settings: Settings, engine: AsyncEngine) -> Runtime:
    """Wire storage, state, content, services, dialogs and the bot for `engine`."""
    sessions = create_sessionmaker(engine)
    privacy = build_privacy(settings)
    storage = SqlStorage(engine, sessions, privacy.cipher)
    conversation_state = SqlConversationState(storage)
    content = Content(settings.content_dir)
    outbox = Outbox(privacy.cipher)
    services = build_services(settings, content, privacy, outbox, sessions)
    bot = EdiBot(
        conversation_state=conversation_state,
        sessions=sessions,
        content=content,
        features=_conversations(settings, content, privacy, conversation_state, services),
        roles=privacy.roles,
        audit=privacy.audit,
        turn_attempts=settings.turn_attempts,
        on_seen=_roster_links(build_roster_linker(privacy)),
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
        bulletins=services.bulletins,
        incidents=services.incidents,
        actions=services.actions,
        events=services.events,
        hr_reports=services.hr_reports,
        copy_links=services.copy_links,
    )


def _conversations(
    settings: Settings,
    content: Content,
    privacy: PrivacyCore,
    state: SqlConversationState,
    services: Services,
) -> list[Conversation]:
    """Every conversation the bot can start, with the menu entry (and words) that start it."""
    incidents, events = services.incidents, services.events
    drafts = settings.retention_drafts_days

    async def status() -> BotStatus:
        return await collect_status(turn_session(), active_key_id=privacy.cipher.active_id)

    entries = {entry.command: entry for entry in content.menu_entries()}
    bulletin = BulletinDialog(content, services.bulletins)
    action_card = ActionCardDialog(content, services.actions, privacy.roles)
    sign_up = EventsDialog(content, events)
    networks = NetworksDialog(content, events)
    report = ReportIncidentDialog(
        content, incidents, state.create_property("IncidentDraft"), draft_days=drafts
    )
    declare = DeclarationDialog(
        content,
        build_declaration_service(content, privacy),
        state.create_property(DRAFT_PROPERTY),
        draft_days=drafts,
        copy_links=services.copy_links,
    )
    return [
        Conversation(entries[AboutEdiDialog.COMMAND], AboutEdiDialog(content)),
        Conversation(entries[AdminStatusDialog.COMMAND], AdminStatusDialog(content, status)),
        Conversation(entries[ReportIncidentDialog.COMMAND], report),
        Conversation(entries[CheckReportDialog.COMMAND], CheckReportDialog(content, incidents)),
        Conversation(entries[AddToReportDialog.COMMAND], AddToReportDialog(content, incidents)),
        Conversation(entries[CasesDialog.COMMAND], CasesDialog(content, incidents)),
        Conversation(entries[DeclarationDialog.COMMAND], declare),
        Conversation(bulletin.menu_entry(entries[BulletinDialog.COMMAND]), bulletin),
        Conversation(entries[MyActionsDialog.COMMAND], MyActionsDialog(content, services.actions)),
        Conversation(action_card.menu_entry(entries[ActionCardDialog.COMMAND]), action_card),
        Conversation(sign_up.menu_entry(entries[EventsDialog.COMMAND]), sign_up),
        Conversation(networks.menu_entry(entries[NetworksDialog.COMMAND]), networks),
        Conversation(entries[EventAdminDialog.COMMAND], EventAdminDialog(content, events)),
        Conversation(entries[HrReportDialog.COMMAND], HrReportDialog(services.hr_reports)),
    ]
