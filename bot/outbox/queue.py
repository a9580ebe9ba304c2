"""Enqueueing: a feature's proactive message, sealed, with a delivery row per recipient."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Table, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.people import PersonKey
from bot.db.models import ConversationReferenceRecord, utcnow
from bot.outbox.models import OutboxDelivery, OutboxMessage
from bot.privacy.crypto import FieldCipher

log = logging.getLogger(__name__)
_MESSAGES: Table = OutboxMessage.__table__  # type: ignore[assignment]
_DELIVERIES: Table = OutboxDelivery.__table__  # type: ignore[assignment]
_REFERENCES: Table = ConversationReferenceRecord.__table__  # type: ignore[assignment]


DeliveryStatus = Literal["queued", "sent", "failed", "gone"]


STATUSES: tuple[DeliveryStatus, ...] = ("queued", "sent", "failed", "gone")


# Teams refuses a message over 100 KB (HTTP 413).
MAX_ACTIVITY_BYTES = 100 * 1024


_LOOKUP_CHUNK = 500


_INSERT_CHUNK = 1000


class OutboxError(ValueError):
    """A message that cannot be enqueued as given (not a card or a text, too large, ...)."""


def payload_context(message_id: int) -> str:
    """The associated data a message's payload is sealed with: its own row."""
    return f"outbox_messages:{message_id}"


@dataclass(frozen=True)
class Enqueued:
    """What `Outbox.enqueue` did: the message, and how many recipients it can reach."""

    message_id: int
    queued: int  # recipients with an active conversation reference
    unreachable: int  # recipients with none (never installed / gone)


# Called in the transaction that marks a delivery sent: (session, message subject, person).
SentHook = Callable[[AsyncSession, str | None, PersonKey], Awaitable[None]]


class Outbox:
    """Writes proactive messages to the outbox; the worker sends them."""

    def __init__(self, cipher: FieldCipher) -> None:
        self._cipher = cipher
        self._on_sent: dict[str, list[SentHook]] = {}

    @property
    def cipher(self) -> FieldCipher:
        """The cipher payloads are sealed with."""
        return self._cipher

    def on_sent(self, kind: str, hook: SentHook) -> None:
        """Run `hook` in the same transaction that marks a delivery of `kind` sent."""
        self._on_sent.setdefault(kind, []).append(hook)

    def sent_hooks(self, kind: str) -> Sequence[SentHook]:
        """The hooks registered for `kind`."""
        return self._on_sent.get(kind, ())

    async def enqueue(
        self,
        session: AsyncSession,
        *,
        kind: str,
        recipients: Iterable[PersonKey],
        message: dict[str, Any],
        dedupe_key: str | None = None,
        not_before: datetime | None = None,
        subject: str | None = None,
    ) -> Enqueued:
        """Queue `message` for every recipient with an active reference, in `session`'s
        transaction. The same `dedupe_key` again returns the first message's result."""
        document = _checked_message(message)
        not_before = _checked_fields(kind, dedupe_key, subject, not_before)
        now = utcnow()
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        statement = insert(_MESSAGES).values(
            kind=kind,
            subject=subject,
            dedupe_key=dedupe_key,
            payload="",
            key_id=self._cipher.active_id,
            not_before=not_before,
            unreachable=0,
            created_at=now,
        )
        if dedupe_key is not None:
            statement = statement.on_conflict_do_nothing(index_elements=[_MESSAGES.c.dedupe_key])
        message_id = (
            await session.execute(statement.returning(_MESSAGES.c.id))
        ).scalar_one_or_none()
        if message_id is None:
            return await _existing(session, dedupe_key or "")
        sealed = self._cipher.seal(document, context=payload_context(message_id))
        people = list(dict.fromkeys(recipients))
        reference_ids = await _active_reference_ids(session, people)
        await _add_deliveries(session, message_id, reference_ids, due=not_before or now, now=now)
        unreachable = len(people) - len(reference_ids)
        await session.execute(
            update(_MESSAGES)
            .where(_MESSAGES.c.id == message_id)
            .values(payload=sealed.token, key_id=sealed.key_id, unreachable=unreachable)
        )
        log.info(
            "outbox.enqueued",
            extra={"kind": kind, "queued": len(reference_ids), "unreachable": unreachable},
        )
        return Enqueued(message_id, len(reference_ids), unreachable)


def _checked_fields(
    kind: str, dedupe_key: str | None, subject: str | None, not_before: datetime | None
) -> datetime | None:
    """Refuse fields the table cannot hold; `not_before` in UTC."""
    if not kind or len(kind) > 64:
        raise OutboxError("kind must be 1 to 64 characters")
    if dedupe_key is not None and not 0 < len(dedupe_key) <= 200:
        raise OutboxError("dedupe_key must be 1 to 200 characters")
    if subject is not None and len(subject) > 128:
        raise OutboxError("subject must be at most 128 characters")
    if not_before is not None:
        if not_before.tzinfo is None:
            raise OutboxError("not_before must be timezone-aware")
        return not_before.astimezone(UTC)
    return None


async def _add_deliveries(
    session: AsyncSession,
    message_id: int,
    reference_ids: list[int],
    *,
    due: datetime,
    now: datetime,
) -> None:
    """One queued delivery per reference, inserted in chunks."""
    for start in range(0, len(reference_ids), _INSERT_CHUNK):
        await session.execute(
            _DELIVERIES.insert(),
            [
                {
                    "message_id": message_id,
                    "reference_id": reference_id,
                    "status": "queued",
                    "attempts": 0,
                    "next_attempt_at": due,
                    "updated_at": now,
                }
                for reference_id in reference_ids[start : start + _INSERT_CHUNK]
            ],
        )


def queued_card(card: dict[str, Any], *, summary: str | None = None) -> dict[str, Any]:
    """A message carrying one Adaptive Card, for `Outbox.enqueue`: plain data, no activity.

    `summary` is what Teams shows in the notification and chat list (cards have no text).
    The channel's transport (bot/channel/transport.py) makes the activity when it sends.
    """
    message: dict[str, Any] = {"card": card}
    if summary:
        message["summary"] = summary
    return message


def queued_text(text: str) -> dict[str, Any]:
    """A plain text message (Markdown as Teams renders it), for `Outbox.enqueue`."""
    return {"text": text}


def _checked_message(message: dict[str, Any]) -> str:
    """The message as stored: one card (with an optional summary) or one text, as JSON."""
    if not isinstance(message, dict):
        raise OutboxError("a message is a dict: queued_card(...) or queued_text(...)")
    card, text, summary = message.get("card"), message.get("text"), message.get("summary")
    shapes_ok = (isinstance(card, dict)) != (isinstance(text, str))
    if not shapes_ok or set(message) - {"card", "text", "summary"}:
        raise OutboxError("a message holds one card (and a summary) or one text")
    if summary is not None and not isinstance(summary, str):
        raise OutboxError("a message's summary is text")
    try:
        document = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError) as error:
        raise OutboxError(f"message is not JSON: {type(error).__name__}") from None
    if len(document.encode("utf-8")) > MAX_ACTIVITY_BYTES:
        raise OutboxError(f"message is over {MAX_ACTIVITY_BYTES} bytes; Teams would refuse it")
    return document


async def _existing(session: AsyncSession, dedupe_key: str) -> Enqueued:
    row = (
        await session.execute(
            select(_MESSAGES.c.id, _MESSAGES.c.unreachable).where(
                _MESSAGES.c.dedupe_key == dedupe_key
            )
        )
    ).one()
    queued = (
        await session.execute(
            select(func.count()).select_from(_DELIVERIES).where(_DELIVERIES.c.message_id == row.id)
        )
    ).scalar_one()
    return Enqueued(int(row.id), int(queued), int(row.unreachable))


async def _active_reference_ids(session: AsyncSession, people: list[PersonKey]) -> list[int]:
    """Ids of the active references of `people`, in their order; people without one skipped."""
    found: dict[PersonKey, int] = {}
    for start in range(0, len(people), _LOOKUP_CHUNK):
        chunk = people[start : start + _LOOKUP_CHUNK]
        rows = await session.execute(
            select(_REFERENCES.c.id, _REFERENCES.c.tenant_id, _REFERENCES.c.aad_object_id).where(
                _REFERENCES.c.status == "active",
                tuple_(_REFERENCES.c.tenant_id, _REFERENCES.c.aad_object_id).in_(
                    [(p.tenant_id, p.aad_object_id) for p in chunk]
                ),
            )
        )
        for reference_id, tenant_id, aad_object_id in rows:
            found[PersonKey(tenant_id, aad_object_id)] = int(reference_id)
    return [found[p] for p in people if p in found]
