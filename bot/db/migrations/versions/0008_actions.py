"""EDI action plans: leads, progress, nudges (issue 9).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "action_leads",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("scope_kind", sa.String(16), nullable=False),
        sa.Column("scope", sa.String(300), nullable=False),
        sa.Column("person", sa.String(256), nullable=False),
        sa.Column("tenant_id", sa.String(128), nullable=True),
        sa.Column("assigned_by", sa.String(256), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("scope_kind", "scope", "person", name="uq_action_leads_scope_person"),
    )
    op.create_index("ix_action_leads_person", "action_leads", ["person"])
    op.create_table(
        "action_updates",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("plan", sa.String(16), nullable=False),
        sa.Column("number", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("rag", sa.String(8), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("author", sa.String(256), nullable=False),
        sa.Column("author_name", sa.String(200), nullable=True),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_action_updates_action", "action_updates", ["plan", "number", "id"])
    op.create_table(
        "action_snoozes",
        sa.Column("plan", sa.String(16), primary_key=True),
        sa.Column("number", sa.String(16), primary_key=True),
        sa.Column("person", sa.String(300), primary_key=True),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "action_nudges",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("plan", sa.String(16), nullable=False),
        sa.Column("number", sa.String(16), nullable=False),
        sa.Column("milestone", sa.Date(), nullable=False),
        sa.Column("label", sa.String(32), nullable=False),
        sa.Column("person", sa.String(300), nullable=False),
        sa.Column("queued_on", sa.Date(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.UniqueConstraint(
            "plan", "number", "milestone", "label", "person", name="uq_action_nudges_once"
        ),
    )
    op.create_index("ix_action_nudges_queued_on", "action_nudges", ["queued_on"])
    op.create_table(
        "action_claims",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("plan", sa.String(16), nullable=False),
        sa.Column("number", sa.String(16), nullable=False),
        sa.Column("tenant_id", sa.String(128), nullable=False),
        sa.Column("aad_object_id", sa.String(128), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(256), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_action_claims_person", "action_claims", ["aad_object_id"])


def downgrade() -> None:
    op.drop_index("ix_action_claims_person", table_name="action_claims")
    op.drop_table("action_claims")
    op.drop_index("ix_action_nudges_queued_on", table_name="action_nudges")
    op.drop_table("action_nudges")
    op.drop_table("action_snoozes")
    op.drop_index("ix_action_updates_action", table_name="action_updates")
    op.drop_table("action_updates")
    op.drop_index("ix_action_leads_person", table_name="action_leads")
    op.drop_table("action_leads")
