"""Staff network events, sign-ups, waitlist, network membership (issue 8).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("slug", sa.String(80), nullable=False, unique=True),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("network", sa.String(64), nullable=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("signup_deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("location", sa.String(500), nullable=True),
        sa.Column("online_url", sa.String(1000), nullable=True),
        sa.Column("accessibility", sa.Text(), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(256), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_events_starts_at", "events", ["starts_at"])
    op.create_index("ix_events_local_date", "events", ["local_date"])
    op.create_table(
        "event_signups",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "event_id",
            sa.Integer(),
            sa.ForeignKey("events.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("pseudonym", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("offer_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("who", sa.Text(), nullable=True),
        sa.Column("who_key", sa.String(32), nullable=True),
        sa.Column("needs", sa.Text(), nullable=True),
        sa.Column("needs_key", sa.String(32), nullable=True),
        sa.Column("attended", sa.Boolean(), nullable=True),
        sa.Column("signed_up_on", sa.Date(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("event_id", "pseudonym", name="uq_event_signups_person"),
    )
    op.create_index("ix_event_signups_pseudonym", "event_signups", ["pseudonym"])
    op.create_index("ix_event_signups_event_status", "event_signups", ["event_id", "status"])
    op.create_table(
        "network_members",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("network", sa.String(64), nullable=False),
        sa.Column("pseudonym", sa.String(64), nullable=False),
        sa.Column("who", sa.Text(), nullable=False),
        sa.Column("who_key", sa.String(32), nullable=False),
        sa.Column("joined_on", sa.Date(), nullable=False),
        sa.UniqueConstraint("network", "pseudonym", name="uq_network_members_person"),
    )
    op.create_index("ix_network_members_pseudonym", "network_members", ["pseudonym"])
    op.create_table(
        "network_organisers",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("network", sa.String(64), nullable=False),
        sa.Column("tenant_id", sa.String(128), nullable=False),
        sa.Column("aad_object_id", sa.String(128), nullable=False),
        sa.Column("granted_by", sa.String(256), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint(
            "network", "tenant_id", "aad_object_id", name="uq_network_organisers_scope"
        ),
    )
    op.create_index("ix_network_organisers_person", "network_organisers", ["aad_object_id"])


def downgrade() -> None:
    op.drop_index("ix_network_organisers_person", table_name="network_organisers")
    op.drop_table("network_organisers")
    op.drop_index("ix_network_members_pseudonym", table_name="network_members")
    op.drop_table("network_members")
    op.drop_index("ix_event_signups_event_status", table_name="event_signups")
    op.drop_index("ix_event_signups_pseudonym", table_name="event_signups")
    op.drop_table("event_signups")
    op.drop_index("ix_events_local_date", table_name="events")
    op.drop_index("ix_events_starts_at", table_name="events")
    op.drop_table("events")
