"""What the bot needs to know about a Teams activity, read in one place."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.schema import Activity

from bot.channel.replies import to_wire
from bot.core.logs import describe_exception
from bot.core.people import PersonKey

log = logging.getLogger(__name__)

_MENTION = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)
_TRAILING = re.compile(r"[\s.!?,;:]+$")


def tenant_of(activity: Activity) -> str | None:
    """The tenant an activity comes from (conversation.tenantId, else channelData.tenant.id)."""
    conversation = getattr(activity, "conversation", None)
    tenant = getattr(conversation, "tenant_id", None)
    if tenant:
        return str(tenant)
    channel_data = getattr(activity, "channel_data", None)
    if isinstance(channel_data, dict):
        tenant_data = channel_data.get("tenant")
        if isinstance(tenant_data, dict) and tenant_data.get("id"):
            return str(tenant_data["id"])
    return None


def person_of(activity: Activity) -> PersonKey | None:
    """Tenant + Entra object id of the sender, when Teams supplied both."""
    tenant = tenant_of(activity)
    sender = getattr(activity, "from_property", None)
    aad_object_id = getattr(sender, "aad_object_id", None)
    if not tenant or not aad_object_id:
        return None
    return PersonKey(tenant_id=tenant, aad_object_id=str(aad_object_id))


def is_personal(activity: Activity) -> bool:
    """True for a one-to-one chat with the bot (or a client that does not say)."""
    conversation = getattr(activity, "conversation", None)
    kind = getattr(conversation, "conversation_type", None)
    return kind in (None, "", "personal")


def normalise_command(text: str | None) -> str:
    """Typed text as a command word: mentions removed, lower case, no closing punctuation."""
    if not text:
        return ""
    without_mentions = _MENTION.sub(" ", text)
    return _TRAILING.sub("", " ".join(without_mentions.split()).lower())


def reference_of(activity: Activity) -> dict[str, Any]:
    """The conversation reference to store for proactive messages: no message id, and no
    display name (proactive messages do not need it; names are kept sealed elsewhere:
    bot/privacy/names_repo.py)."""
    reference = TurnContext.get_conversation_reference(activity)
    reference.activity_id = None
    wire = to_wire(reference)  # the JSON `reference.serialize()` gives, about 15x faster
    user = wire.get("user")
    if isinstance(user, dict):
        user.pop("name", None)
    return wire


def card_message(card: dict[str, Any]) -> Activity:
    """A message carrying one Adaptive Card."""
    return MessageFactory.attachment(CardFactory.adaptive_card(card))


def upn_lookup(turn_context: TurnContext) -> Callable[[], Awaitable[str | None]]:
    """Asks Teams for the sender's UPN, only when called (one connector request)."""

    async def upn() -> str | None:
        if not (turn_context.activity.service_url or "").startswith(("https://", "http://")):
            return None
        try:
            member = await TeamsInfo.get_member(
                turn_context, turn_context.activity.from_property.id
            )
        except Exception as error:  # noqa: BLE001 - no UPN means no UPN-based match
            log.warning("teams.upn_lookup_failed", extra={"error": describe_exception(error)})
            return None
        return getattr(member, "user_principal_name", None)

    return upn
