"""Private records: keep one, read your own, add to it, mark it reported, delete it.

Every call names the person: a record is found only under their keyed pseudonym, so a card
carrying someone else's record id finds nothing (the same answer as a deleted record). The
answers are the report's free recall and details, as the conversation gathered them; this
service keeps them sealed and never reads them but for the first words of the story.
Nothing here is logged or audited: the record is the person's own, and a log line or audit
entry at the moment a record is deleted for an anonymous report would date that report.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import today_in_london
from bot.core.people import PersonKey
from bot.privacy.crypto import DecryptionError, FieldCipher, Sealed
from bot.privacy.pseudonym import Pseudonymiser
from bot.records import repo
from bot.records.models import PrivateRecord, random_record_id, record_context

log = logging.getLogger("bot.records")

# Ids are random 62-bit numbers; a card's id is read only if it could be one.
_MAX_ID = 2**63 - 1


class RecordError(ValueError):
    """Something the person asked for that can't be done; `code` names the sentence."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Addition:
    """Something added to a record later, and when."""

    at: datetime
    text: str


@dataclass(frozen=True)
class Reported:
    """A report made from the record (confidential or named; an anonymous one deletes it)."""

    on: date
    reference: str
    mode: str


@dataclass(frozen=True)
class Record:
    """One private record, opened."""

    id: int
    written_at: datetime
    updated_at: datetime
    answers: dict[str, Any]
    additions: tuple[Addition, ...]
    reported: tuple[Reported, ...]

    @property
    def first_words(self) -> str:
        """The start of what happened, for a list."""
        story = " ".join(str(self.answers.get("narrative") or "").split())
        return story if len(story) <= 80 else story[:79].rstrip() + "…"


@dataclass(frozen=True)
class RecordLimits:
    """How much one person may keep (content/records/words.yaml, `limits`)."""

    records_per_person: int
    additions_per_record: int
    addition_chars: int
    document_chars: int


def record_id_of(value: object) -> int | None:
    """A record id from a card's value (a number, or digits), or None if it can't be one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.isdigit() and len(value) <= 19:
        number = int(value)
    else:
        return None
    return number if 0 < number <= _MAX_ID else None


class PrivateRecords:
    """Private records, in the caller's transaction."""

    def __init__(
        self, *, cipher: FieldCipher, pseudonyms: Pseudonymiser, limits: RecordLimits
    ) -> None:
        self._cipher = cipher
        self._pseudonyms = pseudonyms
        self.limits = limits

    def _owner(self, person: PersonKey) -> str:
        return self._pseudonyms.of(person)

    async def keep(
        self, session: AsyncSession, person: PersonKey, answers: Mapping[str, Any], *, now: datetime
    ) -> Record:
        """Keep a new record, written down `now`. RecordError "empty" without a story,
        "too_many" past the limit per person, "too_long" past the document limit."""
        owner = self._owner(person)
        if not str(answers.get("narrative") or "").strip():
            raise RecordError("empty")
        if await repo.count_of(session, owner=owner) >= self.limits.records_per_person:
            raise RecordError("too_many")
        await repo.secure_delete(session)
        record = Record(random_record_id(), now, now, dict(answers), (), ())
        row = PrivateRecord(id=record.id, owner=owner, created_at=now, updated_at=now)
        self._seal(row, owner, record)
        session.add(row)
        await session.flush()
        return record

    async def mine(self, session: AsyncSession, person: PersonKey) -> list[Record]:
        """The person's records, newest first (any that can't be opened left out)."""
        owner = self._owner(person)
        opened = [self._opened(row, owner) for row in await repo.records_of(session, owner=owner)]
        return [record for record in opened if record is not None]

    async def find(
        self, session: AsyncSession, person: PersonKey, record_id: object
    ) -> Record | None:
        """The person's record with this id; None for an odd id, someone else's, or none."""
        row = await self._row(session, person, record_id)
        return None if row is None else self._opened(row, row.owner)

    async def add(
        self,
        session: AsyncSession,
        person: PersonKey,
        record_id: object,
        text: str,
        *,
        now: datetime,
    ) -> Record | None:
        """Add `text` to the person's record, timestamped; None if there is no such record of
        theirs. RecordError "empty", "too_long" or "too_many_additions"."""
        words = text.strip()
        if not words:
            raise RecordError("empty")
        if len(words) > self.limits.addition_chars:
            raise RecordError("too_long")
        row = await self._row(session, person, record_id)
        record = None if row is None else self._opened(row, row.owner)
        if row is None or record is None:
            return None
        if len(record.additions) >= self.limits.additions_per_record:
            raise RecordError("too_many_additions")
        await repo.secure_delete(session)  # the old version's bytes go as it is replaced
        changed = Record(
            record.id,
            record.written_at,
            now,
            record.answers,
            (*record.additions, Addition(now, words)),
            record.reported,
        )
        self._seal(row, row.owner, changed)
        row.updated_at = now
        await session.flush()
        return changed

    async def mark_reported(
        self,
        session: AsyncSession,
        person: PersonKey,
        record_id: object,
        *,
        reference: str,
        mode: str,
        now: datetime,
    ) -> bool:
        """Note on the person's record that it became report `reference` (confidential or
        named reports only: an anonymous one deletes the record instead)."""
        row = await self._row(session, person, record_id)
        record = None if row is None else self._opened(row, row.owner)
        if row is None or record is None:
            return False
        await repo.secure_delete(session)
        reported = (*record.reported, Reported(today_in_london(now), reference, mode))
        changed = Record(
            record.id, record.written_at, now, record.answers, record.additions, reported
        )
        self._seal(row, row.owner, changed)
        row.updated_at = now
        await session.flush()
        return True

    async def delete(self, session: AsyncSession, person: PersonKey, record_id: object) -> bool:
        """Delete the person's record (its bytes overwritten on SQLite; the database made to
        forget it on PostgreSQL by `forget_deleted`); False if there was none of theirs."""
        number = record_id_of(record_id)
        if number is None:
            return False
        return await repo.delete_record(session, owner=self._owner(person), record_id=number)

    async def _row(
        self, session: AsyncSession, person: PersonKey, record_id: object
    ) -> PrivateRecord | None:
        number = record_id_of(record_id)
        if number is None:
            return None
        return await repo.record_of(session, owner=self._owner(person), record_id=number)

    def _seal(self, row: PrivateRecord, owner: str, record: Record) -> None:
        document = json.dumps(
            {"owner": owner, **_document_of(record)}, ensure_ascii=False, sort_keys=True
        )
        if len(document) > self.limits.document_chars:
            raise RecordError("too_long")
        sealed = self._cipher.seal(document, context=record_context(row.id))
        row.document, row.document_key = sealed.token, sealed.key_id

    def _opened(self, row: PrivateRecord, owner: str) -> Record | None:
        try:
            document = json.loads(
                self._cipher.open(
                    Sealed(row.document_key, row.document), context=record_context(row.id)
                )
            )
        except (DecryptionError, ValueError):
            log.error("records.unreadable")
            return None
        if not isinstance(document, dict) or document.get("owner") != owner:
            # Moved to another owner in the database: it is not theirs to read.
            log.error("records.owner_mismatch")
            return None
        return _record_of(row, document)


def _document_of(record: Record) -> dict[str, Any]:
    """What is sealed: the answers, the additions and the reports made from it."""
    return {
        "answers": record.answers,
        "additions": [{"at": a.at.isoformat(), "text": a.text} for a in record.additions],
        "reported": [
            {"on": r.on.isoformat(), "reference": r.reference, "mode": r.mode}
            for r in record.reported
        ],
    }


def _record_of(row: PrivateRecord, document: dict[str, Any]) -> Record:
    answers = document.get("answers")
    return Record(
        id=row.id,
        written_at=row.created_at,
        updated_at=row.updated_at,
        answers=answers if isinstance(answers, dict) else {},
        additions=tuple(
            Addition(datetime.fromisoformat(a["at"]), str(a["text"]))
            for a in document.get("additions") or []
        ),
        reported=tuple(
            Reported(date.fromisoformat(r["on"]), str(r["reference"]), str(r["mode"]))
            for r in document.get("reported") or []
        ),
    )


async def export_records(
    session: AsyncSession, cipher: FieldCipher, *, owner: str
) -> list[dict[str, Any]]:
    """The person's records, opened, for their copy and a subject access request."""
    exported = []
    for row in await repo.records_of(session, owner=owner):
        document = json.loads(
            cipher.open(Sealed(row.document_key, row.document), context=record_context(row.id))
        )
        document.pop("owner", None)
        exported.append(
            {
                "written_down_at": row.created_at,
                "last_changed_at": row.updated_at,
                "what_happened": document.get("answers") or {},
                "added_later": document.get("additions") or [],
                "reported": document.get("reported") or [],
            }
        )
    return exported
