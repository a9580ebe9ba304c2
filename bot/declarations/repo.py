"""Queries on self-declarations. Every function takes a pseudonym, never a person's ids."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.declarations.models import (
    Declaration,
    DeclarationAnswer,
    DeclarationChange,
    DeclarationDescription,
)
from bot.privacy.crypto import Sealed


def description_context(description_id: str) -> str:
    """The associated data a self-description is sealed with: its own row."""
    return f"declaration_descriptions:{description_id}"


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    """One stored answer; the description still sealed."""

    question: str
    code: str
    taxonomy_version: str
    answered_on: date
    description_id: str | None
    description: Sealed | None


@dataclass(frozen=True, slots=True)
class StoredDeclaration:
    """A declaration's dates and its current answers by question."""

    pseudonym: str
    declared_on: date
    changed_on: date
    reviewed_on: date
    objected_on: date | None
    review_prompted_on: date | None
    answers: dict[str, StoredAnswer]


@dataclass(frozen=True, slots=True)
class StoredChange:
    """One entry of a person's history of changes."""

    changed_on: date
    event: str
    question: str | None
    old_code: str | None
    new_code: str | None
    taxonomy_version: str | None


@dataclass(frozen=True, slots=True)
class CountableAnswer:
    """One answer an aggregate may count: its code and the taxonomy version it belongs to."""

    code: str
    taxonomy_version: str


async def get_declaration(session: AsyncSession, *, pseudonym: str) -> StoredDeclaration | None:
    """The declaration held under `pseudonym`, with its answers, or None."""
    row = await session.get(Declaration, pseudonym, populate_existing=True)
    if row is None:
        return None
    query = (
        select(DeclarationAnswer, DeclarationDescription)
        .outerjoin(DeclarationDescription, DeclarationDescription.answer_id == DeclarationAnswer.id)
        .where(DeclarationAnswer.pseudonym == pseudonym)
        .order_by(DeclarationAnswer.id)
    )
    answers = {
        answer.question: StoredAnswer(
            question=answer.question,
            code=answer.code,
            taxonomy_version=answer.taxonomy_version,
            answered_on=answer.answered_on,
            description_id=described.id if described else None,
            description=Sealed(described.key_id, described.text) if described else None,
        )
        for answer, described in (await session.execute(query)).all()
    }
    return StoredDeclaration(
        pseudonym=row.pseudonym,
        declared_on=row.declared_on,
        changed_on=row.changed_on,
        reviewed_on=row.reviewed_on,
        objected_on=row.objected_on,
        review_prompted_on=row.review_prompted_on,
        answers=answers,
    )


async def create_declaration(session: AsyncSession, *, pseudonym: str, today: date) -> None:
    """Start a declaration for `pseudonym` (none may exist yet)."""
    session.add(
        Declaration(pseudonym=pseudonym, declared_on=today, changed_on=today, reviewed_on=today)
    )
    await session.flush()


async def mark_reviewed(
    session: AsyncSession, *, pseudonym: str, today: date, changed: bool
) -> bool:
    """Record that the person saved or confirmed their answers today (and changed them)."""
    values: dict[str, Any] = {"reviewed_on": today}
    if changed:
        values["changed_on"] = today
    result = await session.execute(
        update(Declaration)
        .where(Declaration.pseudonym == pseudonym)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def put_answer(
    session: AsyncSession,
    *,
    pseudonym: str,
    question: str,
    code: str,
    taxonomy_version: str,
    today: date,
    description_id: str | None = None,
    description: Sealed | None = None,
) -> None:
    """Replace the answer to `question` (and its description) with this one."""
    await remove_answer(session, pseudonym=pseudonym, question=question)
    answer = DeclarationAnswer(
        pseudonym=pseudonym,
        question=question,
        code=code,
        taxonomy_version=taxonomy_version,
        answered_on=today,
    )
    session.add(answer)
    await session.flush()
    if description is not None and description_id is not None:
        session.add(
            DeclarationDescription(
                id=description_id,
                answer_id=answer.id,
                text=description.token,
                key_id=description.key_id,
            )
        )
        await session.flush()


async def remove_answer(session: AsyncSession, *, pseudonym: str, question: str) -> bool:
    """Delete the answer to `question` and its description; True if there was one."""
    answer_ids = select(DeclarationAnswer.id).where(
        DeclarationAnswer.pseudonym == pseudonym, DeclarationAnswer.question == question
    )
    await session.execute(
        delete(DeclarationDescription)
        .where(DeclarationDescription.answer_id.in_(answer_ids))
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(
        delete(DeclarationAnswer)
        .where(DeclarationAnswer.pseudonym == pseudonym, DeclarationAnswer.question == question)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def add_change(
    session: AsyncSession,
    *,
    pseudonym: str,
    today: date,
    event: str,
    question: str | None = None,
    old_code: str | None = None,
    new_code: str | None = None,
    taxonomy_version: str | None = None,
) -> None:
    """Append one entry to the person's history of changes."""
    session.add(
        DeclarationChange(
            pseudonym=pseudonym,
            changed_on=today,
            event=event,
            question=question,
            old_code=old_code,
            new_code=new_code,
            taxonomy_version=taxonomy_version,
        )
    )
    await session.flush()


async def list_changes(session: AsyncSession, *, pseudonym: str) -> list[StoredChange]:
    """The person's history of changes, oldest first."""
    rows = await session.execute(
        select(DeclarationChange)
        .where(DeclarationChange.pseudonym == pseudonym)
        .order_by(DeclarationChange.id)
    )
    return [
        StoredChange(
            changed_on=row.changed_on,
            event=row.event,
            question=row.question,
            old_code=row.old_code,
            new_code=row.new_code,
            taxonomy_version=row.taxonomy_version,
        )
        for row in rows.scalars()
    ]


async def set_objection(session: AsyncSession, *, pseudonym: str, on: date | None) -> bool:
    """Record (a date) or lift (None) the person's objection; True if anything changed."""
    currently = (
        Declaration.objected_on.is_(None)
        if on is not None
        else Declaration.objected_on.is_not(None)
    )
    result = await session.execute(
        update(Declaration)
        .where(Declaration.pseudonym == pseudonym, currently)
        .values(objected_on=on)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def delete_declaration(session: AsyncSession, *, pseudonym: str) -> dict[str, int]:
    """Delete everything held under `pseudonym`: descriptions, answers, history, declaration.

    Children first and explicitly, rather than trusting ON DELETE CASCADE to be enforced.
    """
    answer_ids = select(DeclarationAnswer.id).where(DeclarationAnswer.pseudonym == pseudonym)
    counts: dict[str, int] = {}
    for name, statement in (
        (
            "declaration_descriptions",
            delete(DeclarationDescription).where(DeclarationDescription.answer_id.in_(answer_ids)),
        ),
        (
            "declaration_answers",
            delete(DeclarationAnswer).where(DeclarationAnswer.pseudonym == pseudonym),
        ),
        (
            "declaration_history",
            delete(DeclarationChange).where(DeclarationChange.pseudonym == pseudonym),
        ),
        ("declarations", delete(Declaration).where(Declaration.pseudonym == pseudonym)),
    ):
        result = await session.execute(statement.execution_options(synchronize_session=False))
        counts[name] = int(result.rowcount)  # type: ignore[attr-defined]
    return counts


def countable_answers_query() -> Select[str, str, str, str]:
    """(pseudonym, question, code, taxonomy_version) of every answer an aggregate may count.

    Leaves out everyone who has objected (DPA 2018 Sch. 1 para 8(5)); withdrawn declarations
    no longer exist. Self-descriptions are never countable. Use it as a subquery to group by.
    """
    return (
        select(
            DeclarationAnswer.pseudonym,
            DeclarationAnswer.question,
            DeclarationAnswer.code,
            DeclarationAnswer.taxonomy_version,
        )
        .join(Declaration, Declaration.pseudonym == DeclarationAnswer.pseudonym)
        .where(Declaration.objected_on.is_(None))
    )


async def countable_answers(session: AsyncSession) -> dict[str, dict[str, CountableAnswer]]:
    """Per pseudonym, per question: the current answer aggregates may count."""
    found: dict[str, dict[str, CountableAnswer]] = {}
    rows = await session.execute(countable_answers_query().order_by(DeclarationAnswer.pseudonym))
    for pseudonym, question, code, version in rows:
        found.setdefault(pseudonym, {})[question] = CountableAnswer(code, version)
    return found


async def count_declarations(session: AsyncSession) -> dict[str, int]:
    """How many declarations exist, and how many of them are counted (not objected)."""
    total, objecting = (
        await session.execute(
            select(func.count(), func.count(Declaration.objected_on)).select_from(Declaration)
        )
    ).one()
    return {"declarations": int(total), "objecting": int(objecting)}


async def due_for_review(session: AsyncSession, *, cutoff: date, lock: bool = False) -> list[str]:
    """Pseudonyms last reviewed before `cutoff` and not prompted since `cutoff` either.

    With `lock`, the rows stay locked until the transaction ends (PostgreSQL; SQLite
    transactions are serialised anyway), so a second run at the same time waits and then
    finds them already prompted.
    """
    query = (
        select(Declaration.pseudonym)
        .where(
            Declaration.reviewed_on < cutoff,
            or_(Declaration.review_prompted_on.is_(None), Declaration.review_prompted_on < cutoff),
        )
        .order_by(Declaration.pseudonym)
    )
    rows = await session.execute(query.with_for_update() if lock else query)
    return list(rows.scalars())


async def mark_review_prompted(
    session: AsyncSession, *, pseudonyms: Iterable[str], on: date
) -> int:
    """Record that these people were sent the annual review prompt."""
    wanted = list(pseudonyms)
    if not wanted:
        return 0
    result = await session.execute(
        update(Declaration)
        .where(Declaration.pseudonym.in_(wanted))
        .values(review_prompted_on=on)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def countable_declarants_query() -> Select[Any]:
    """(pseudonym) of every declaration an aggregate may count: objectors left out."""
    return select(Declaration.pseudonym.label("pseudonym")).where(Declaration.objected_on.is_(None))


async def count_declared(session: AsyncSession, *, pseudonyms: Sequence[str]) -> int:
    """How many of these people have a declaration."""
    found = 0
    for start in range(0, len(pseudonyms), 500):
        count = await session.execute(
            select(func.count())
            .select_from(Declaration)
            .where(Declaration.pseudonym.in_(list(pseudonyms[start : start + 500])))
        )
        found += int(count.scalar() or 0)
    return found
