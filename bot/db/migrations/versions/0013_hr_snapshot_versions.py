"""HR quarters that can be re-issued after a late roster: a version on each snapshot, and the
versions a re-issue replaced, kept.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("hr_snapshots") as batch:
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("reason", sa.String(200), nullable=True))
    op.create_table(
        "hr_snapshot_versions",
        sa.Column("id", sa.String(20), primary_key=True),
        sa.Column("quarter", sa.String(7), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("taken_on", sa.Date(), nullable=False),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(200), nullable=True),
        sa.Column("replaced_on", sa.Date(), nullable=False),
    )
    op.create_index("ix_hr_snapshot_versions_quarter", "hr_snapshot_versions", ["quarter"])


def downgrade() -> None:
    op.drop_index("ix_hr_snapshot_versions_quarter", table_name="hr_snapshot_versions")
    op.drop_table("hr_snapshot_versions")
    with op.batch_alter_table("hr_snapshots") as batch:
        batch.drop_column("reason")
        batch.drop_column("version")
