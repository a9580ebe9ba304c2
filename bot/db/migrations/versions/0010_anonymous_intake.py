"""Anonymous reports that leave no trail: the intake, random ids, per-person check limits.

- `incident_intake`: anonymous reports and messages wait here, sealed, until a job releases
  them into the case list in a transaction of its own (see bot/incidents/).
- Report, message and history ids become random 62-bit numbers (BIGINT on PostgreSQL; on
  SQLite they already are the rowid), so ids no longer give away the order of arrival.
- The per-report lock-out (`failed_attempts`, `locked_until`) goes: a stranger could pause
  the real reporter with it. Wrong tries are limited per person instead
  (`incident_check_attempts`).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

_ID_COLUMNS = (
    ("incident_reports", "id"),
    ("incident_messages", "id"),
    ("incident_messages", "report_id"),
    ("incident_events", "id"),
    ("incident_events", "report_id"),
)


def upgrade() -> None:
    op.create_table(
        "incident_intake",
        sa.Column("id", RowId, primary_key=True, autoincrement=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("payload_key", sa.String(32), nullable=False),
    )
    op.create_table(
        "incident_check_attempts",
        sa.Column("who", sa.String(64), primary_key=True),
        sa.Column("window", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("failures", sa.Integer(), nullable=False),
    )
    # Plain ALTER TABLE, never a batch copy: on SQLite a copy drops and recreates
    # incident_reports, and with foreign keys on that would delete every message and
    # history entry through ON DELETE CASCADE (SQLite has DROP COLUMN since 3.35).
    op.drop_column("incident_reports", "failed_attempts")
    op.drop_column("incident_reports", "locked_until")
    for table in ("incident_messages", "incident_events"):
        op.add_column(table, sa.Column("seq", sa.Integer(), nullable=False, server_default="0"))
        # Existing rows keep their order: their ids were sequential until now.
        op.execute(
            f"UPDATE {table} SET seq = (SELECT COUNT(*) FROM {table} AS earlier "
            f"WHERE earlier.report_id = {table}.report_id AND earlier.id <= {table}.id)"
        )
    if op.get_bind().dialect.name == "postgresql":
        for table, column in _ID_COLUMNS:
            op.alter_column(table, column, type_=sa.BigInteger(), existing_nullable=False)
        for table in ("incident_reports", "incident_messages", "incident_events"):
            op.alter_column(table, "id", server_default=None)
            op.execute(f"DROP SEQUENCE IF EXISTS {table}_id_seq")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in ("incident_reports", "incident_messages", "incident_events"):
            op.execute(f"CREATE SEQUENCE IF NOT EXISTS {table}_id_seq OWNED BY {table}.id")
            op.alter_column(table, "id", server_default=sa.text(f"nextval('{table}_id_seq')"))
        # Ids made by the intake do not fit in INTEGER: they stay BIGINT.
    for table in ("incident_messages", "incident_events"):
        op.drop_column(table, "seq")
    op.add_column(
        "incident_reports",
        sa.Column("failed_attempts", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column(
        "incident_reports", sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True)
    )
    op.drop_table("incident_check_attempts")
    op.drop_table("incident_intake")
