"""Self-declared protected characteristics, under a keyed pseudonym.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "declarations",
        sa.Column("pseudonym", sa.String(64), primary_key=True),
        sa.Column("declared_on", sa.Date(), nullable=False),
        sa.Column("changed_on", sa.Date(), nullable=False),
        sa.Column("reviewed_on", sa.Date(), nullable=False),
        sa.Column("objected_on", sa.Date(), nullable=True),
        sa.Column("review_prompted_on", sa.Date(), nullable=True),
    )
    op.create_index("ix_declarations_reviewed_on", "declarations", ["reviewed_on"])
    op.create_table(
        "declaration_answers",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "pseudonym",
            sa.String(64),
            sa.ForeignKey("declarations.pseudonym", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("question", sa.String(64), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("taxonomy_version", sa.String(32), nullable=False),
        sa.Column("answered_on", sa.Date(), nullable=False),
        sa.UniqueConstraint("pseudonym", "question", name="uq_declaration_answers_question"),
    )
    op.create_index(
        "ix_declaration_answers_question_code", "declaration_answers", ["question", "code"]
    )
    op.create_table(
        "declaration_descriptions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "answer_id",
            sa.Integer(),
            sa.ForeignKey("declaration_answers.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
    )
    op.create_table(
        "declaration_history",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "pseudonym",
            sa.String(64),
            sa.ForeignKey("declarations.pseudonym", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("changed_on", sa.Date(), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("question", sa.String(64), nullable=True),
        sa.Column("old_code", sa.String(64), nullable=True),
        sa.Column("new_code", sa.String(64), nullable=True),
        sa.Column("taxonomy_version", sa.String(32), nullable=True),
    )
    op.create_index("ix_declaration_history_pseudonym", "declaration_history", ["pseudonym"])


def downgrade() -> None:
    op.drop_index("ix_declaration_history_pseudonym", "declaration_history")
    op.drop_table("declaration_history")
    op.drop_table("declaration_descriptions")
    op.drop_index("ix_declaration_answers_question_code", "declaration_answers")
    op.drop_table("declaration_answers")
    op.drop_index("ix_declarations_reviewed_on", "declarations")
    op.drop_table("declarations")
