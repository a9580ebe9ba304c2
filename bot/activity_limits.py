"""How big and how deep an inbound activity may be, checked before any turn runs.

Teams' ids are GUIDs and short strings; anything much longer, or JSON nested far deeper than
any real activity, is refused with a 400 and a reason. The id limits come from the columns
they end up in, so a longer id can never reach the database and fail a turn there.
"""

from __future__ import annotations

from typing import Any

from bot.db.models import AuditEntry, BotStateDocument, ConversationReferenceRecord
from bot.db.models_incidents import IncidentEvent, IncidentReport

# Real activities nest about six levels deep (an Adaptive Card's value a few more).
MAX_NESTING = 64


def _length(column: Any) -> int:
    length: int = column.type.length
    return length


CHANNEL_ID_CHARS = 64
# A person is named "teams:<tenant>/<object id>" in the audit log and in case assignments.
_PERSON_CHARS = (_length(AuditEntry.actor) - len("teams:/")) // 2
TENANT_ID_CHARS = min(_length(ConversationReferenceRecord.tenant_id), _PERSON_CHARS)
AAD_OBJECT_ID_CHARS = min(_length(ConversationReferenceRecord.aad_object_id), _PERSON_CHARS)
# The conversation's state is stored under "<channel>/conversations/<conversation id>/".
CONVERSATION_ID_CHARS = min(
    _length(ConversationReferenceRecord.conversation_id),
    _length(BotStateDocument.key) - CHANNEL_ID_CHARS - len("/conversations//"),
)
SERVICE_URL_CHARS = _length(ConversationReferenceRecord.service_url)
# A case handler's name is kept on the cases they take and in their history.
NAME_CHARS = min(_length(IncidentReport.assigned_name), _length(IncidentEvent.by_name))
OTHER_ID_CHARS = 512

# (path in the activity, most characters, how to name it in the reason)
FIELD_LIMITS: tuple[tuple[tuple[str, ...], int], ...] = (
    (("channelId",), CHANNEL_ID_CHARS),
    (("serviceUrl",), SERVICE_URL_CHARS),
    (("conversation", "id"), CONVERSATION_ID_CHARS),
    (("conversation", "tenantId"), TENANT_ID_CHARS),
    (("conversation", "tenantID"), TENANT_ID_CHARS),
    (("channelData", "tenant", "id"), TENANT_ID_CHARS),
    (("from", "id"), OTHER_ID_CHARS),
    (("from", "aadObjectId"), AAD_OBJECT_ID_CHARS),
    (("from", "name"), NAME_CHARS),
    (("recipient", "id"), OTHER_ID_CHARS),
    (("recipient", "name"), NAME_CHARS),
    (("id",), OTHER_ID_CHARS),
    (("replyToId",), OTHER_ID_CHARS),
    (("locale",), 64),
    (("type",), 64),
)


def too_deep(value: Any, limit: int = MAX_NESTING) -> bool:
    """Whether `value` (parsed JSON) nests lists and objects more than `limit` deep."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def oversized_field(body: dict[str, Any]) -> str | None:
    """The reason an activity's id or name is refused (too long, or not text), or None."""
    for path, limit in FIELD_LIMITS:
        node: Any = body
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            continue
        name = ".".join(path)
        if not isinstance(node, str):
            return f"Activity {name} is not a string."
        if len(node) > limit:
            return f"Activity {name} is longer than {limit} characters."
    return None
