"""Evidence files in hate-incident reports: images, PDFs and text a reporter sends in the chat.

- `incident_evidence` and `incident_evidence_chunks`: a report's files, each sealed in
  chunks of at most 64 KiB with a sealed description (and, for confidential and named
  reports, the sealed name it was sent with).
- `incident_intake_files` and `incident_intake_chunks`: files waiting to belong to a stored
  report (in a draft, with an anonymous report in the intake, or while `check report` asks
  which report they are for), with nothing readable, released or deleted like the intake.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _chunks(table: str, parent: str, column: str) -> None:
    op.create_table(
        table,
        sa.Column("id", RowId, primary_key=True, autoincrement=False),
        sa.Column(column, RowId, sa.ForeignKey(f"{parent}.id", ondelete="CASCADE"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("data_key", sa.String(32), nullable=False),
    )
    op.create_index(f"ix_{table}_{column}", table, [column])


def upgrade() -> None:
    op.create_table(
        "incident_evidence",
        sa.Column("id", RowId, primary_key=True, autoincrement=False),
        sa.Column(
            "report_id",
            RowId,
            sa.ForeignKey("incident_reports.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("added_on", sa.Date(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("name_key", sa.String(32), nullable=True),
        sa.Column("meta", sa.Text(), nullable=False),
        sa.Column("meta_key", sa.String(32), nullable=False),
    )
    op.create_index("ix_incident_evidence_report_id", "incident_evidence", ["report_id"])
    _chunks("incident_evidence_chunks", "incident_evidence", "evidence_id")
    op.create_table(
        "incident_intake_files",
        sa.Column("id", RowId, primary_key=True, autoincrement=False),
        sa.Column("meta", sa.Text(), nullable=False),
        sa.Column("meta_key", sa.String(32), nullable=False),
    )
    _chunks("incident_intake_chunks", "incident_intake_files", "file_id")


def downgrade() -> None:
    op.drop_index("ix_incident_intake_chunks_file_id", table_name="incident_intake_chunks")
    op.drop_table("incident_intake_chunks")
    op.drop_table("incident_intake_files")
    op.drop_index("ix_incident_evidence_chunks_evidence_id", table_name="incident_evidence_chunks")
    op.drop_table("incident_evidence_chunks")
    op.drop_index("ix_incident_evidence_report_id", table_name="incident_evidence")
    op.drop_table("incident_evidence")
