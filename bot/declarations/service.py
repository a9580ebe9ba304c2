"""Self-declaration for one person: what is held, saving, objecting, withdrawing, exporting.

Every operation starts from the person as Teams identifies them and turns that into their
keyed pseudonym here; nothing below this line sees an Entra id. Self-descriptions are sealed
with AES-256-GCM, each bound to its own row.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.people import PersonKey
from bot.declarations import repo
from bot.declarations.repo import StoredChange, description_context
from bot.declarations.taxonomy import Answer, Problem, Taxonomy
from bot.privacy.crypto import FieldCipher
from bot.privacy.pseudonym import Pseudonymiser

log = logging.getLogger(__name__)


def today_utc() -> date:
    """Today's date in UTC: declarations keep days, never times."""
    return datetime.now(UTC).date()


class InvalidAnswers(ValueError):
    """Answers that cannot be saved; nothing was written. `problems` says which and why."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} answer(s) cannot be saved")
        self.problems = problems


@dataclass(frozen=True, slots=True)
class HeldAnswer:
    """One answer as held, description decrypted."""

    code: str
    taxonomy_version: str
    answered_on: date
    description: str | None


@dataclass(frozen=True)
class HeldDeclaration:
    """Everything held for one person's declaration, as they may see it."""

    pseudonym: str
    declared_on: date
    changed_on: date
    reviewed_on: date
    objected_on: date | None
    answers: dict[str, HeldAnswer]

    @property
    def objecting(self) -> bool:
        """True while the person objects to their answers being counted."""
        return self.objected_on is not None


@dataclass(frozen=True, slots=True)
class SaveOutcome:
    """What a save did: whether the declaration is new, and which questions changed."""

    created: bool
    changed: tuple[str, ...]


def _open_answers(cipher: FieldCipher, stored: repo.StoredDeclaration) -> dict[str, HeldAnswer]:
    held: dict[str, HeldAnswer] = {}
    for question, answer in stored.answers.items():
        description = None
        if answer.description is not None and answer.description_id is not None:
            description = cipher.open(
                answer.description, context=description_context(answer.description_id)
            )
        held[question] = HeldAnswer(
            answer.code, answer.taxonomy_version, answer.answered_on, description
        )
    return held


class DeclarationService:
    """The operations a person can perform on their own declaration."""

    def __init__(
        self, *, taxonomy: Taxonomy, cipher: FieldCipher, pseudonyms: Pseudonymiser
    ) -> None:
        self.taxonomy = taxonomy
        self._cipher = cipher
        self._pseudonyms = pseudonyms

    def pseudonym_of(self, person: PersonKey) -> str:
        """The person's keyed pseudonym (the only key their declaration is stored under)."""
        return self._pseudonyms.of(person)

    async def held(self, session: AsyncSession, *, person: PersonKey) -> HeldDeclaration | None:
        """The person's declaration, or None when they hold none."""
        stored = await repo.get_declaration(session, pseudonym=self.pseudonym_of(person))
        if stored is None:
            return None
        return HeldDeclaration(
            pseudonym=stored.pseudonym,
            declared_on=stored.declared_on,
            changed_on=stored.changed_on,
            reviewed_on=stored.reviewed_on,
            objected_on=stored.objected_on,
            answers=_open_answers(self._cipher, stored),
        )

    async def save(
        self,
        session: AsyncSession,
        *,
        person: PersonKey,
        answers: Mapping[str, Answer],
        today: date | None = None,
    ) -> SaveOutcome:
        """Make `answers` the person's whole declaration; every change goes to their history.

        Checks every answer against the current taxonomy first and raises `InvalidAnswers`
        before writing anything, so a save is all or nothing.
        """
        problems = self.taxonomy.problems(answers)
        if problems:
            raise InvalidAnswers(problems)
        day = today or today_utc()
        pseudonym = self.pseudonym_of(person)
        existing = await repo.get_declaration(session, pseudonym=pseudonym)
        created = existing is None
        held = {} if existing is None else _open_answers(self._cipher, existing)
        if existing is None:
            await repo.create_declaration(session, pseudonym=pseudonym, today=day)
            await repo.add_change(session, pseudonym=pseudonym, today=day, event="declared")
        changed: list[str] = []
        order = [q.id for q in self.taxonomy.questions]
        for question in [*order, *(q for q in held if q not in order)]:
            old, new = held.get(question), answers.get(question)
            if await self._change(session, pseudonym, question, old, new, day):
                changed.append(question)
        await repo.mark_reviewed(session, pseudonym=pseudonym, today=day, changed=bool(changed))
        log.info(
            "declaration.saved", extra={"new_declaration": created, "answers_changed": len(changed)}
        )
        return SaveOutcome(created, tuple(changed))

    async def _change(
        self,
        session: AsyncSession,
        pseudonym: str,
        question: str,
        old: HeldAnswer | None,
        new: Answer | None,
        day: date,
    ) -> bool:
        """Store one question's new answer (or its removal) and its history; False if the same."""
        version = self.taxonomy.version
        if old is None and new is None:
            return False
        old_code: str | None
        new_code: str | None
        if new is None:
            assert old is not None
            await repo.remove_answer(session, pseudonym=pseudonym, question=question)
            event, old_code, new_code = "removed", old.code, None
        elif old is not None and old.code == new.code:
            if (old.description, old.taxonomy_version) == (new.description, version):
                return False
            await self._put(session, pseudonym, question, new, day)
            # Same answer: new own words, or the answer re-recorded on a newer list.
            event = "described" if old.description != new.description else "relisted"
            old_code, new_code = old.code, new.code
        else:
            await self._put(session, pseudonym, question, new, day)
            event = "answered" if old is None else "changed"
            old_code, new_code = (old.code if old else None), new.code
        await repo.add_change(
            session,
            pseudonym=pseudonym,
            today=day,
            event=event,
            question=question,
            old_code=old_code,
            new_code=new_code,
            taxonomy_version=version,
        )
        return True

    async def _put(
        self, session: AsyncSession, pseudonym: str, question: str, answer: Answer, day: date
    ) -> None:
        description_id = sealed = None
        if answer.description:
            description_id = uuid.uuid4().hex
            sealed = self._cipher.seal(
                answer.description, context=description_context(description_id)
            )
        await repo.put_answer(
            session,
            pseudonym=pseudonym,
            question=question,
            code=answer.code,
            taxonomy_version=self.taxonomy.version,
            today=day,
            description_id=description_id,
            description=sealed,
        )

    async def confirm_unchanged(
        self, session: AsyncSession, *, person: PersonKey, today: date | None = None
    ) -> bool:
        """The person checked their answers and they are still right; False if none held."""
        day = today or today_utc()
        pseudonym = self.pseudonym_of(person)
        if not await repo.mark_reviewed(session, pseudonym=pseudonym, today=day, changed=False):
            return False
        await repo.add_change(session, pseudonym=pseudonym, today=day, event="reviewed")
        return True

    async def set_objection(
        self,
        session: AsyncSession,
        *,
        person: PersonKey,
        objecting: bool,
        today: date | None = None,
    ) -> bool:
        """Object to (or stop objecting to) the answers being counted; True if it changed."""
        day = today or today_utc()
        pseudonym = self.pseudonym_of(person)
        changed = await repo.set_objection(
            session, pseudonym=pseudonym, on=day if objecting else None
        )
        if changed:
            event = "objected" if objecting else "counted_again"
            await repo.add_change(session, pseudonym=pseudonym, today=day, event=event)
            # Which way they chose is theirs: the log says only that a choice was recorded.
            log.info("declaration.objection_changed")
        return changed

    async def history(self, session: AsyncSession, *, person: PersonKey) -> list[StoredChange]:
        """The person's history of changes, oldest first."""
        return await repo.list_changes(session, pseudonym=self.pseudonym_of(person))

    async def withdraw(self, session: AsyncSession, *, person: PersonKey) -> dict[str, int]:
        """Delete the person's declaration, answers, descriptions and history, for good."""
        counts = await withdraw_declaration(session, pseudonym=self.pseudonym_of(person))
        log.info("declaration.withdrawn", extra={"rows": sum(counts.values())})
        return counts

    async def export(self, session: AsyncSession, *, person: PersonKey) -> dict[str, Any] | None:
        """Everything held for the person, as plain data (None when nothing is held)."""
        return await export_declaration(session, self._cipher, pseudonym=self.pseudonym_of(person))


async def export_declaration(
    session: AsyncSession, cipher: FieldCipher, *, pseudonym: str
) -> dict[str, Any] | None:
    """Everything held under `pseudonym`, decrypted, as plain data; None when nothing is."""
    stored = await repo.get_declaration(session, pseudonym=pseudonym)
    if stored is None:
        return None
    answers = _open_answers(cipher, stored)
    return {
        "pseudonym": pseudonym,
        "declared_on": stored.declared_on.isoformat(),
        "changed_on": stored.changed_on.isoformat(),
        "reviewed_on": stored.reviewed_on.isoformat(),
        "objected_on": stored.objected_on.isoformat() if stored.objected_on else None,
        "review_prompted_on": (
            stored.review_prompted_on.isoformat() if stored.review_prompted_on else None
        ),
        "answers": {
            question: {
                "code": answer.code,
                "taxonomy_version": answer.taxonomy_version,
                "answered_on": answer.answered_on.isoformat(),
                "description": answer.description,
            }
            for question, answer in answers.items()
        },
        "history": [
            {
                "on": change.changed_on.isoformat(),
                "event": change.event,
                "question": change.question,
                "old_code": change.old_code,
                "new_code": change.new_code,
                "taxonomy_version": change.taxonomy_version,
            }
            for change in await repo.list_changes(session, pseudonym=pseudonym)
        ],
    }


async def withdraw_declaration(session: AsyncSession, *, pseudonym: str) -> dict[str, int]:
    """Delete everything held under `pseudonym`; rows deleted per table."""
    return await repo.delete_declaration(session, pseudonym=pseudonym)
