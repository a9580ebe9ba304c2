"""Alembic owns the schema: migrations reach head, match the models, and reverse cleanly."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.db import migrate
from bot.db.engine import create_engine
from bot.features import metadata


async def test_a_fresh_database_is_not_current_until_upgraded(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        assert await migrate.current_revision(engine) is None
        assert not await migrate.is_current(engine)
        await migrate.upgrade(engine)
        assert await migrate.current_revision(engine) == migrate.head_revision()
        await migrate.upgrade(engine)  # a second upgrade is a no-op
        assert await migrate.is_current(engine)
    finally:
        await engine.dispose()


async def test_migrations_produce_exactly_the_models_schema(engine: AsyncEngine) -> None:
    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata()))

    async with engine.connect() as connection:
        assert await connection.run_sync(differences) == []


async def test_downgrade_to_base_removes_every_table(engine: AsyncEngine) -> None:
    def down(connection: Connection) -> list[str]:
        config = migrate.alembic_config(engine.url.render_as_string(hide_password=False))
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
        return [t for t in inspect(connection).get_table_names() if t != "alembic_version"]

    async with engine.begin() as connection:
        assert await connection.run_sync(down) == []


async def test_reports_made_before_the_intake_keep_their_messages_in_order(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine, "0009")
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO incident_reports (id, reference, mode, relationship, "
                    "received_on, motivations, kinds, details, details_key, failed_attempts, "
                    "locked_until, wants_contact, consent_monitoring, consent_police, "
                    "consent_hr, status, acknowledge_by, feedback_by, reminders_sent, "
                    "version, updated_at) VALUES (1, 'ABCD-EFGH', 'anonymous', 'victim', "
                    "'2026-11-02', '', '', 'sealed', 'k1', 4, '2026-11-02 10:00:00+00', "
                    "false, false, false, false, 'new', '2026-11-09', '2027-02-02', '', 1, "
                    "'2026-11-02 00:00:00+00')"
                )
            )
            for message_id, author in ((1, "reporter"), (2, "handler"), (3, "reporter")):
                await connection.execute(
                    text(
                        "INSERT INTO incident_messages (id, report_id, author, written_on, "
                        "body, body_key) VALUES (:id, 1, :author, '2026-11-03', 'x', 'k1')"
                    ),
                    {"id": message_id, "author": author},
                )
        await migrate.upgrade(engine)
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    text("SELECT author, seq FROM incident_messages ORDER BY seq")
                )
            ).all()
            columns = {c["name"] for c in await connection.run_sync(_report_columns)}
        assert [tuple(r) for r in rows] == [("reporter", 1), ("handler", 2), ("reporter", 3)]
        assert not {"failed_attempts", "locked_until"} & columns
    finally:
        await engine.dispose()


def _report_columns(connection: Connection) -> list[Any]:
    return list(inspect(connection).get_columns("incident_reports"))


async def test_display_names_are_taken_out_of_stored_conversation_references(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    reference = (
        '{"bot":{"id":"28:bot","name":"EDI bot"},"channelId":"msteams",'
        '"conversation":{"id":"a:1"},"serviceUrl":"https://smba.example/",'
        '"user":{"aadObjectId":"0000-aad","id":"29:1","name":"Priya Sharma"}}'
    )
    try:
        await migrate.upgrade(engine, "0011")
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO conversation_references (id, tenant_id, aad_object_id, "
                    "conversation_id, service_url, reference, status, created_at, updated_at) "
                    "VALUES (1, 't', '0000-aad', 'a:1', 'https://smba.example/', :reference, "
                    "'active', '2026-11-02 00:00:00+00', '2026-11-02 00:00:00+00')"
                ),
                {"reference": reference},
            )
        await migrate.upgrade(engine)
        async with engine.connect() as connection:
            [stored] = (
                await connection.execute(text("SELECT reference FROM conversation_references"))
            ).scalars()
        assert "Priya Sharma" not in stored
        assert '"aadObjectId":"0000-aad"' in stored and '"name":"EDI bot"' in stored
    finally:
        await engine.dispose()
