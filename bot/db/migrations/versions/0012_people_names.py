"""People's display names, sealed, in a table of their own; none left in plain text in the
stored conversation references.

A conversation reference as botbuilder makes it carries the person's display name
(`user.name`); proactive messages do not need it, so it is taken out of every stored
reference here (and never stored again: bot/channel/teams.py). Names are kept sealed in
`people_names` instead, captured the next time each person uses the bot (a migration has no
keys to seal with).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "people_names",
        sa.Column("person", sa.String(300), primary_key=True),
        sa.Column("tenant_id", sa.String(128), nullable=False),
        sa.Column("aad_object_id", sa.String(128), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_people_names_aad_object_id", "people_names", ["aad_object_id"])
    references = sa.table(
        "conversation_references", sa.column("id", sa.Integer), sa.column("reference", sa.Text)
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(references.c.id, references.c.reference)).all()
    for row_id, document in rows:
        try:
            reference = json.loads(document)
        except ValueError:
            continue
        user = reference.get("user") if isinstance(reference, dict) else None
        if isinstance(user, dict) and "name" in user:
            user.pop("name")
            connection.execute(
                references.update()
                .where(references.c.id == row_id)
                .values(reference=json.dumps(reference, sort_keys=True, separators=(",", ":")))
            )


def downgrade() -> None:
    op.drop_index("ix_people_names_aad_object_id", table_name="people_names")
    op.drop_table("people_names")
