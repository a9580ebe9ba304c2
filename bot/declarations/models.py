"""Self-declared protected characteristics, under a keyed pseudonym."""

# Imported at the end of bot/db/models.py, so Base.metadata holds these tables.
#
# No column here holds an Entra object id, a Teams id, a name or an e-mail address: a person
# is their keyed pseudonym (bot/privacy/pseudonym.py). Dates are whole days, so that a row's
# time cannot be lined up with a conversation's activity to undo the pseudonym.

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.models import Base

PSEUDONYM_LENGTH = 64


class Declaration(Base):
    """One person's declaration: when it was made, last changed and last reviewed."""

    __tablename__ = "declarations"

    pseudonym: Mapped[str] = mapped_column(String(PSEUDONYM_LENGTH), primary_key=True)
    declared_on: Mapped[date] = mapped_column(Date)
    changed_on: Mapped[date] = mapped_column(Date)
    # The last time the person saved or confirmed their answers: the annual prompt counts
    # from here.
    reviewed_on: Mapped[date] = mapped_column(Date)
    # Set while the person objects (DPA 2018 Sch. 1 para 8(5)): kept, counted nowhere.
    objected_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    review_prompted_on: Mapped[date | None] = mapped_column(Date, nullable=True)

    __table_args__ = (Index("ix_declarations_reviewed_on", "reviewed_on"),)


class DeclarationAnswer(Base):
    """One current answer: a taxonomy code and the taxonomy version it comes from."""

    __tablename__ = "declaration_answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pseudonym: Mapped[str] = mapped_column(
        String(PSEUDONYM_LENGTH), ForeignKey("declarations.pseudonym", ondelete="CASCADE")
    )
    question: Mapped[str] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(64))
    taxonomy_version: Mapped[str] = mapped_column(String(32))
    answered_on: Mapped[date] = mapped_column(Date)

    __table_args__ = (
        UniqueConstraint("pseudonym", "question", name="uq_declaration_answers_question"),
        Index("ix_declaration_answers_question_code", "question", "code"),
    )


class DeclarationDescription(Base):
    """A person's own words for an answer that allows them, encrypted and bound to its row."""

    __tablename__ = "declaration_descriptions"

    # Random, so the value can be sealed (bound to this id) before the row is written.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    answer_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("declaration_answers.id", ondelete="CASCADE"), unique=True
    )
    # base64 of nonce + AES-256-GCM ciphertext; key_id names the key that sealed it.
    text: Mapped[str] = mapped_column(Text)
    key_id: Mapped[str] = mapped_column(String(32))


class DeclarationChange(Base):
    """One change to a person's declaration, shown to that person alone; gone on withdrawal."""

    __tablename__ = "declaration_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pseudonym: Mapped[str] = mapped_column(
        String(PSEUDONYM_LENGTH), ForeignKey("declarations.pseudonym", ondelete="CASCADE")
    )
    changed_on: Mapped[date] = mapped_column(Date)
    # declared, answered, changed, removed, described, objected, counted_again, reviewed
    event: Mapped[str] = mapped_column(String(32))
    question: Mapped[str | None] = mapped_column(String(64), nullable=True)
    old_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    new_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    taxonomy_version: Mapped[str | None] = mapped_column(String(32), nullable=True)

    __table_args__ = (Index("ix_declaration_history_pseudonym", "pseudonym"),)
