"""Patterns across incident reports, with the reporters' consent.

- `incident_pattern_checks`: for a report whose reporter asked "tell the case team only if
  someone else reports the same person", a keyed hash of the person named (never their id
  or name), the report's reference sealed, the day it was made and whether case handlers
  have been told of a pattern it is part of (bot/incidents/pattern_checks.py).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "incident_pattern_checks",
        sa.Column("id", RowId, primary_key=True, autoincrement=False),
        sa.Column("person_hash", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("report", sa.Text(), nullable=False),
        sa.Column("report_key", sa.String(32), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.Column("alerted", sa.Boolean(), nullable=False),
    )
    op.create_index(
        "ix_incident_pattern_checks_person_hash", "incident_pattern_checks", ["person_hash"]
    )


def downgrade() -> None:
    op.drop_index("ix_incident_pattern_checks_person_hash", table_name="incident_pattern_checks")
    op.drop_table("incident_pattern_checks")
