"""Voluntary self-declaration of protected characteristics.

For the conversation (dialogs/declaration.py): `DeclarationService`, built by
`build_declaration_service`, does everything a person can do to their own declaration.

For the HR aggregates: `countable_answers(session)` gives, per pseudonym, the current answer
to each question as a taxonomy code with its taxonomy version, leaving out everyone who has
objected; withdrawn declarations no longer exist. `countable_answers_query()` is the same as
a SQLAlchemy select, to group by in SQL. See docs/declarations.md.
"""

from __future__ import annotations

from bot.core.content import Content
from bot.declarations.repo import (
    CountableAnswer,
    StoredChange,
    count_declarations,
    countable_answers,
    countable_answers_query,
)
from bot.declarations.service import (
    DeclarationService,
    HeldAnswer,
    HeldDeclaration,
    InvalidAnswers,
    SaveOutcome,
    export_declaration,
    withdraw_declaration,
)
from bot.declarations.taxonomy import (
    MAX_DESCRIPTION_CHARS,
    Answer,
    Option,
    Part,
    Problem,
    Question,
    Taxonomy,
    load_taxonomy,
)
from bot.privacy.core import PrivacyCore

TAXONOMY = "declaration/taxonomy"


def taxonomy_of(content: Content) -> Taxonomy:
    """The questions and answer lists in `content/declaration/taxonomy.yaml`."""
    return load_taxonomy(content.data(TAXONOMY))


def build_declaration_service(content: Content, privacy: PrivacyCore) -> DeclarationService:
    """The declaration service on the content's taxonomy and the privacy core's keys."""
    return DeclarationService(
        taxonomy=taxonomy_of(content), cipher=privacy.cipher, pseudonyms=privacy.pseudonyms
    )


__all__ = [
    "MAX_DESCRIPTION_CHARS",
    "Answer",
    "CountableAnswer",
    "DeclarationService",
    "HeldAnswer",
    "HeldDeclaration",
    "InvalidAnswers",
    "Option",
    "Part",
    "Problem",
    "Question",
    "SaveOutcome",
    "StoredChange",
    "Taxonomy",
    "build_declaration_service",
    "count_declarations",
    "countable_answers",
    "countable_answers_query",
    "export_declaration",
    "load_taxonomy",
    "taxonomy_of",
    "withdraw_declaration",
]
