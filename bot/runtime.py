"""Builds the bot and its parts once, for the web service and the terminal chat alike."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from botbuilder.core import ConversationState, MessageFactory, TurnContext
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.actions.service import ActionsService
from bot.bulletins.service import BulletinService
from bot.channel.adapter import ReplyBuffer
from bot.channel.handler import EdiBot, Feature, SeenHook
from bot.channel.storage import SqlConversationState, SqlStorage
from bot.config import Settings
from bot.core.content import Content
from bot.core.logs import describe_exception
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
from bot.outbox.service import Outbox
from bot.privacy.core import PrivacyCore, build_privacy
from bot.privacy.data_copy import DataCopyLinks
from bot.status import BotStatus, collect_status
from dialogs.actions.my_actions import ActionCardDialog, MyActionsDialog
from dialogs.bulletins.bulletin import BulletinDialog
from dialogs.declarations.declaration import DRAFT_PROPERTY, DeclarationDialog
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
    conversation_state: ConversationState
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

    async def on_turn_error(self, turn_context: TurnContext, error: Exception) -> None:
        """The one error handler: log a reference, tell the person, reset the conversation."""
        reference = uuid.uuid4().hex[:8].upper()
        log.error(
            "turn.failed",
            extra={
                "correlation_id": reference,
                "activity_type": getattr(turn_context.activity, "type", None),
                "error": describe_exception(error),
            },
        )
        buffer = ReplyBuffer.of(turn_context)
        if buffer is not None:
            buffer.discard()
        try:
            key = self.conversation_state.get_storage_key(turn_context)
            if key:
                await self.storage.delete([key])
        except Exception as reset_error:  # noqa: BLE001 - the person must still be told
            log.error("turn.reset_failed", extra={"error": describe_exception(reset_error)})
        if turn_context.activity.type in ("message", "invoke", "conversationUpdate"):
            try:
                text = self.content.texts("shell.error", reference=reference)
                await turn_context.send_activity(MessageFactory.text(text))
            except Exception as send_error:  # noqa: BLE001 - nothing more can be done
                log.error(
                    "turn.error_reply_failed", extra={"error": describe_exception(send_error)}
                )


def _roster_links(linker: RosterLinker) -> SeenHook:
    """Link a roster row given by UPN to its person when they are first seen in a day."""

    async def seen(
        session: AsyncSession, person: PersonKey, lookup_upn: Callable[[], Awaitable[str | None]]
    ) -> bool:
        today = datetime.now(LONDON).date()
        return await linker.seen(session, person=person, lookup_upn=lookup_upn, today=today)

    return seen


def build_runtime(settings: Settings, engine: AsyncEngine) -> Runtime:
    """Wire storage, state, content, dialogs and the bot for `engine`."""
    sessions = create_sessionmaker(engine)
    privacy = build_privacy(settings)
    storage = SqlStorage(engine, sessions, privacy.cipher)
    conversation_state = SqlConversationState(storage)
    content = Content(settings.content_dir)
    outbox = Outbox(privacy.cipher)
    bulletins = BulletinService(content=content, outbox=outbox, privacy=privacy, sessions=sessions)
    bulletin_dialog = BulletinDialog(content, bulletins)
    incidents = Incidents(
        content=content,
        cipher=privacy.cipher,
        audit=privacy.audit,
        pseudonyms=privacy.pseudonyms,
        outbox=outbox,
        token_key=privacy.keys.pseudonym,
    )

    events = build_event_service(settings, content, privacy, outbox)
    copy_links = DataCopyLinks(
        privacy,
        settings.public_base_url or f"http://{settings.host}:{settings.port}",
        content,
        FEATURES,
    )
    events_dialog = EventsDialog(content, events)
    networks_dialog = NetworksDialog(content, events)

    actions = ActionsService(
        content=content, settings=settings, outbox=outbox, audit=privacy.audit, sessions=sessions
    )
    action_card_dialog = ActionCardDialog(content, actions, privacy.roles)
    hr_reports = build_hr_reports(settings, content, privacy, outbox)

    async def status() -> BotStatus:
        return await collect_status(turn_session(), active_key_id=privacy.cipher.active_id)

    entries = {entry.command: entry for entry in content.menu_entries()}
    features = [
        Feature(entries[AboutEdiDialog.COMMAND], AboutEdiDialog(content)),
        Feature(entries[AdminStatusDialog.COMMAND], AdminStatusDialog(content, status)),
        Feature(
            entries[ReportIncidentDialog.COMMAND],
            ReportIncidentDialog(
                content,
                incidents,
                conversation_state.create_property("IncidentDraft"),
                draft_days=settings.retention_drafts_days,
            ),
        ),
        Feature(entries[CheckReportDialog.COMMAND], CheckReportDialog(content, incidents)),
        Feature(entries[AddToReportDialog.COMMAND], AddToReportDialog(content, incidents)),
        Feature(entries[CasesDialog.COMMAND], CasesDialog(content, incidents)),
        Feature(
            entries[DeclarationDialog.COMMAND],
            DeclarationDialog(
                content,
                build_declaration_service(content, privacy),
                conversation_state.create_property(DRAFT_PROPERTY),
                draft_days=settings.retention_drafts_days,
                copy_links=copy_links,
            ),
        ),
        Feature(bulletin_dialog.menu_entry(entries[BulletinDialog.COMMAND]), bulletin_dialog),
        Feature(entries[MyActionsDialog.COMMAND], MyActionsDialog(content, actions)),
        Feature(
            action_card_dialog.menu_entry(entries[ActionCardDialog.COMMAND]), action_card_dialog
        ),
        Feature(events_dialog.menu_entry(entries[EventsDialog.COMMAND]), events_dialog),
        Feature(networks_dialog.menu_entry(entries[NetworksDialog.COMMAND]), networks_dialog),
        Feature(entries[EventAdminDialog.COMMAND], EventAdminDialog(content, events)),
        Feature(entries[HrReportDialog.COMMAND], HrReportDialog(hr_reports)),
    ]
    bot = EdiBot(
        conversation_state=conversation_state,
        sessions=sessions,
        content=content,
        features=features,
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
        bulletins=bulletins,
        incidents=incidents,
        actions=actions,
        events=events,
        hr_reports=hr_reports,
        copy_links=copy_links,
    )
