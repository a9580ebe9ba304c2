"""Private records: what a person wrote down about a hate incident, kept for them alone.

- `private_records`: a random id, the owner's keyed pseudonym, one sealed document (the story,
  the details, later additions, reports made from it) bound to its row, and when it was
  written down and last changed. No Entra id, name or conversation id. See docs/records.md.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-18
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RecordId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "private_records",
        sa.Column("id", RecordId, primary_key=True, autoincrement=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("document_key", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_private_records_owner", "private_records", ["owner"])


def downgrade() -> None:
    op.drop_index("ix_private_records_owner", table_name="private_records")
    op.drop_table("private_records")
