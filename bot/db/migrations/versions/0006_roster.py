"""Workforce roster (denominators, by pseudonym only) and HR report history (issue 6).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "roster_people",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("pseudonym", sa.String(64), nullable=True),
        sa.Column("upn_key", sa.String(64), nullable=True),
        sa.Column("department", sa.String(120), nullable=False),
        sa.Column("grade_band", sa.String(32), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("imported_on", sa.Date(), nullable=False),
    )
    op.create_index("ix_roster_people_pseudonym", "roster_people", ["pseudonym"])
    op.create_index("ix_roster_people_upn_key", "roster_people", ["upn_key"])
    op.create_index("ix_roster_people_department", "roster_people", ["department"])
    op.create_table(
        "roster_upn_links",
        sa.Column("upn_key", sa.String(64), primary_key=True),
        sa.Column("pseudonym", sa.String(64), nullable=False),
        sa.Column("linked_on", sa.Date(), nullable=False),
    )
    op.create_index("ix_roster_upn_links_pseudonym", "roster_upn_links", ["pseudonym"])
    op.create_table(
        "hr_snapshots",
        sa.Column("quarter", sa.String(7), primary_key=True),
        sa.Column("taken_on", sa.Date(), nullable=False),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("hr_snapshots")
    op.drop_index("ix_roster_upn_links_pseudonym", table_name="roster_upn_links")
    op.drop_table("roster_upn_links")
    op.drop_index("ix_roster_people_department", table_name="roster_people")
    op.drop_index("ix_roster_people_upn_key", table_name="roster_people")
    op.drop_index("ix_roster_people_pseudonym", table_name="roster_people")
    op.drop_table("roster_people")
