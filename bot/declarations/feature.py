"""Equality declarations: what the feature declares to the app, CLI and privacy core.

Imports of the feature's modules sit inside the functions: see bot/core/registry.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.core.registry import ContentFile, EncryptedColumn, Feature, Kit, Subject

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy import Select
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.core.content import Content
    from bot.declarations.taxonomy import Taxonomy as Taxonomy
    from bot.privacy.crypto import FieldCipher

SECTION = "equality_declaration"


async def _export(session: AsyncSession, cipher: FieldCipher, subject: Subject) -> dict[str, Any]:
    from bot.declarations.service import export_declaration

    return {SECTION: await export_declaration(session, cipher, pseudonym=subject.pseudonym)}


async def _erase(session: AsyncSession, subject: Subject) -> dict[str, int]:
    from bot.declarations.service import withdraw_declaration

    rows = await withdraw_declaration(session, pseudonym=subject.pseudonym)
    return {"equality_declaration_rows": sum(rows.values())}


def _in_words(content: Content, copy: dict[str, Any]) -> None:
    """Beside each stored code, the question and the answer in words."""
    from bot.declarations.factory import taxonomy_of

    declaration = copy.get(SECTION)
    answers = declaration.get("answers") if isinstance(declaration, dict) else None
    if not isinstance(answers, dict):
        return
    taxonomy = taxonomy_of(content)
    for question_id, answer in answers.items():
        question = taxonomy.question(question_id)
        if question is None or not isinstance(answer, dict):
            continue
        option = question.option(str(answer.get("code")))
        labelled = {"question": question.title}
        if option is not None:
            labelled["answer"] = option.label
        answers[question_id] = {**labelled, **answer}


def _columns() -> list[EncryptedColumn]:
    from bot.declarations.models import DeclarationDescription
    from bot.declarations.repo import description_context

    table = DeclarationDescription.__table__.c
    return [
        EncryptedColumn(
            "declaration_descriptions.text", table.id, table.text, table.key_id, description_context
        )
    ]


def _service(kit: Kit) -> object:
    from bot.declarations.factory import build_declaration_service

    return build_declaration_service(kit.content, kit.privacy)


# ---- for other features (HR's aggregates) ---------------------------------------------------


def declarants_select() -> Select[Any]:
    """(pseudonym) of every declaration that may be counted (objectors left out)."""
    from bot.declarations.repo import countable_declarants_query

    return countable_declarants_query()


def answers_select() -> Select[str, str, str, str]:
    """(pseudonym, question, code, taxonomy_version) of every answer that may be counted."""
    from bot.declarations.repo import countable_answers_query

    return countable_answers_query()


def taxonomy(content: Content) -> Taxonomy:
    """The declaration's questions and answer lists."""
    from bot.declarations.factory import taxonomy_of

    return taxonomy_of(content)


async def count_declared(session: AsyncSession, pseudonyms: Sequence[str]) -> int:
    """How many of these people have a declaration."""
    from bot.declarations import repo

    return await repo.count_declared(session, pseudonyms=pseudonyms)


async def remove_for_leaver(session: AsyncSession, pseudonym: str) -> int:
    """Delete a leaver's declaration (roster import); declarations deleted (0 or 1)."""
    from bot.declarations import repo

    counts = await repo.delete_declaration(session, pseudonym=pseudonym)
    return counts.get("declarations", 0)


DECLARATIONS = Feature(
    name="declarations",
    models="bot.declarations.models",
    service=_service,
    conversations="dialogs.declarations.wiring:conversations",
    jobs="scheduler.jobs:declarations_jobs",
    export=_export,
    erase=_erase,
    in_words=_in_words,
    encrypted_columns=_columns,
    content=(
        ContentFile("declarations/words.yaml", "bot.declarations.content_models:DeclarationWords"),
        ContentFile("declarations/taxonomy.yaml", "bot.declarations.content_models:TaxonomyFile"),
    ),
)
