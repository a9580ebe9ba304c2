"""How big, how deep and what text an inbound activity may carry, checked before any turn runs.

Teams' ids are GUIDs and short strings; anything much longer, JSON nested far deeper than any
real activity, or text no database can store is refused with a 400 and a reason
(`refusal`). The id limits come from the columns the ids end up in, so a longer id can never
reach the database and fail a turn there:

* the conversation's state is kept under "<channel>/conversations/<conversation id>"
  (`bot_state.key`), and its reference under `conversation_references`;
* a person is named "teams:<tenant>/<object id>" in the audit log and on what they own, so
  tenant and object id together must fit `audit_log.actor`;
* a case handler's display name is kept on the cases they take and in their history.

Anywhere in the body, keys included, a NUL or half of a UTF-16 surrogate pair is refused:
PostgreSQL cannot store the first, and neither database (nor a URL) the second. Ids (and the
activity type, which is logged) may not hold control characters either: they end up in the
connector's URLs and in logs.
"""

from __future__ import annotations

import re
from typing import Any

from bot.db.models import AuditEntry, BotStateDocument, ConversationReferenceRecord
from bot.incidents.models import IncidentEvent, IncidentReport

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
TYPE_CHARS = 64

# (path in the activity, most characters)
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
    (("type",), TYPE_CHARS),
)
# Display names may hold any storable text; every other limited field is an id.
_NAMES = frozenset({("from", "name"), ("recipient", "name")})

# Storable nowhere: NUL (PostgreSQL text) and unpaired surrogates (UTF-8 has no encoding for
# them; json.loads joins a proper pair into one character, so any left are unpaired).
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# A Bot Framework activity type: "message", "conversationUpdate", "installationUpdate"...
_ACTIVITY_TYPE = re.compile(r"[A-Za-z][A-Za-z0-9_./-]*")

TOO_DEEP = f"Activity is nested more than {MAX_NESTING} levels deep."
_UNSTORABLE_TEXT = "Activity holds a NUL or half a surrogate pair, which cannot be stored."


def refusal(body: dict[str, Any]) -> str | None:
    """Why an activity body is refused before any turn runs, or None when it may go on."""
    return _shape(body) or oversized_field(body) or _type_problem(body.get("type"))


def _shape(body: dict[str, Any]) -> str | None:
    """Nesting beyond MAX_NESTING, or unstorable text in any key or string (no recursion)."""
    stack: list[tuple[Any, int]] = [(body, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_NESTING:
            return TOO_DEEP
        if isinstance(node, dict):
            for key, child in node.items():
                if _UNSTORABLE.search(key):
                    return _UNSTORABLE_TEXT
                if isinstance(child, str):
                    if _UNSTORABLE.search(child):
                        return _UNSTORABLE_TEXT
                elif isinstance(child, dict | list):
                    stack.append((child, depth + 1))
        else:
            for child in node:
                if isinstance(child, str):
                    if _UNSTORABLE.search(child):
                        return _UNSTORABLE_TEXT
                elif isinstance(child, dict | list):
                    stack.append((child, depth + 1))
    return None


def oversized_field(body: dict[str, Any]) -> str | None:
    """The reason an activity's id or name is refused (too long, not text, or holding a
    control character), or None."""
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
        if path not in _NAMES and _CONTROL.search(node):
            return f"Activity {name} holds a control character."
    return None


def _type_problem(kind: Any) -> str | None:
    if isinstance(kind, str) and kind.strip() and not _ACTIVITY_TYPE.fullmatch(kind):
        return "Activity type is not an activity type name."
    return None
