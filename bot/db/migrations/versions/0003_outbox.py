"""The outbox (one row per message, one per recipient) and the monthly bulletin's issues,
reach, feedback and unsubscriptions.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(128), nullable=True),
        sa.Column("dedupe_key", sa.String(200), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unreachable", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("dedupe_key", name="uq_outbox_messages_dedupe_key"),
    )
    op.create_index("ix_outbox_messages_kind_subject", "outbox_messages", ["kind", "subject"])
    op.create_index("ix_outbox_messages_created_at", "outbox_messages", ["created_at"])
    op.create_table(
        "outbox_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "message_id",
            sa.Integer(),
            sa.ForeignKey(
                "outbox_messages.id", ondelete="CASCADE", name="fk_outbox_deliveries_message"
            ),
            nullable=False,
        ),
        sa.Column(
            "reference_id",
            sa.Integer(),
            sa.ForeignKey(
                "conversation_references.id",
                ondelete="CASCADE",
                name="fk_outbox_deliveries_reference",
            ),
            nullable=False,
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claim_token", sa.String(32), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(64), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("message_id", "reference_id", name="uq_outbox_deliveries_recipient"),
    )
    op.create_index("ix_outbox_deliveries_due", "outbox_deliveries", ["status", "next_attempt_at"])
    op.create_index("ix_outbox_deliveries_reference", "outbox_deliveries", ["reference_id"])
    op.create_table(
        "bulletin_issues",
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(256), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("queued", sa.Integer(), nullable=False),
        sa.Column("unreachable", sa.Integer(), nullable=False),
        sa.Column("unsubscribed", sa.Integer(), nullable=False),
    )
    op.create_table(
        "bulletin_reach",
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("pseudonym", sa.String(64), primary_key=True),
        sa.Column("delivered_on", sa.Date(), nullable=False),
    )
    op.create_index("ix_bulletin_reach_pseudonym", "bulletin_reach", ["pseudonym"])
    op.create_table(
        "bulletin_feedback",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("pseudonym", sa.String(64), nullable=False),
        sa.Column("rating", sa.String(16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("comment_key_id", sa.String(32), nullable=True),
        sa.Column("updated_on", sa.Date(), nullable=False),
        sa.UniqueConstraint("month", "pseudonym", name="uq_bulletin_feedback_person"),
    )
    op.create_index("ix_bulletin_feedback_pseudonym", "bulletin_feedback", ["pseudonym"])
    op.create_table(
        "bulletin_unsubscribes",
        sa.Column("pseudonym", sa.String(64), primary_key=True),
        sa.Column("since", sa.Date(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("bulletin_unsubscribes")
    op.drop_index("ix_bulletin_feedback_pseudonym", "bulletin_feedback")
    op.drop_table("bulletin_feedback")
    op.drop_index("ix_bulletin_reach_pseudonym", "bulletin_reach")
    op.drop_table("bulletin_reach")
    op.drop_table("bulletin_issues")
    op.drop_index("ix_outbox_deliveries_reference", "outbox_deliveries")
    op.drop_index("ix_outbox_deliveries_due", "outbox_deliveries")
    op.drop_table("outbox_deliveries")
    op.drop_index("ix_outbox_messages_created_at", "outbox_messages")
    op.drop_index("ix_outbox_messages_kind_subject", "outbox_messages")
    op.drop_table("outbox_messages")
