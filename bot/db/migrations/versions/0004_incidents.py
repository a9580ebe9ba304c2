"""Hate-incident reports, their case history and follow-up messages.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "incident_reports",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("reference", sa.String(16), nullable=False, unique=True),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("relationship", sa.String(16), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("motivations", sa.String(256), nullable=False),
        sa.Column("kinds", sa.String(256), nullable=False),
        sa.Column("location", sa.String(32), nullable=True),
        sa.Column("perpetrator", sa.String(32), nullable=True),
        sa.Column("frequency", sa.String(32), nullable=True),
        sa.Column("possible_crime", sa.String(16), nullable=True),
        sa.Column("occurred_on", sa.Date(), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("details_key", sa.String(32), nullable=False),
        sa.Column("reporter", sa.Text(), nullable=True),
        sa.Column("reporter_key", sa.String(32), nullable=True),
        sa.Column("reporter_pseudonym", sa.String(64), nullable=True),
        sa.Column("passphrase_hash", sa.String(256), nullable=True),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("wants_contact", sa.Boolean(), nullable=False),
        sa.Column("consent_monitoring", sa.Boolean(), nullable=False),
        sa.Column("consent_police", sa.Boolean(), nullable=False),
        sa.Column("consent_hr", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("assigned_to", sa.String(256), nullable=True),
        sa.Column("assigned_name", sa.String(256), nullable=True),
        sa.Column("risk", sa.String(16), nullable=True),
        sa.Column("classification", sa.String(16), nullable=True),
        sa.Column("acknowledge_by", sa.Date(), nullable=False),
        sa.Column("feedback_by", sa.Date(), nullable=False),
        sa.Column("acknowledged_on", sa.Date(), nullable=True),
        sa.Column("feedback_on", sa.Date(), nullable=True),
        sa.Column("outcome", sa.String(32), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("reminders_sent", sa.String(128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_incident_reports_status", "incident_reports", ["status"])
    op.create_index(
        "ix_incident_reports_reporter_pseudonym", "incident_reports", ["reporter_pseudonym"]
    )
    op.create_index("ix_incident_reports_received_on", "incident_reports", ["received_on"])
    op.create_table(
        "incident_messages",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "report_id",
            sa.Integer(),
            sa.ForeignKey("incident_reports.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("author", sa.String(16), nullable=False),
        sa.Column("written_on", sa.Date(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_key", sa.String(32), nullable=False),
    )
    op.create_index("ix_incident_messages_report_id", "incident_messages", ["report_id"])
    op.create_table(
        "incident_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "report_id",
            sa.Integer(),
            sa.ForeignKey("incident_reports.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("happened_on", sa.Date(), nullable=False),
        sa.Column("what", sa.String(32), nullable=False),
        sa.Column("by_name", sa.String(256), nullable=True),
        sa.Column("note", sa.String(256), nullable=False),
    )
    op.create_index("ix_incident_events_report_id", "incident_events", ["report_id"])


def downgrade() -> None:
    op.drop_index("ix_incident_events_report_id", table_name="incident_events")
    op.drop_table("incident_events")
    op.drop_index("ix_incident_messages_report_id", table_name="incident_messages")
    op.drop_table("incident_messages")
    op.drop_index("ix_incident_reports_received_on", table_name="incident_reports")
    op.drop_index("ix_incident_reports_reporter_pseudonym", table_name="incident_reports")
    op.drop_index("ix_incident_reports_status", table_name="incident_reports")
    op.drop_table("incident_reports")
