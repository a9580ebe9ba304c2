"""The SQL Storage: botbuilder's conformance suite, e-tag conflicts, atomicity, purging."""

from __future__ import annotations

from datetime import timedelta

import pytest
from botbuilder.testing import StorageBaseTests
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channel.storage import SqlStorage, StateConflictError
from bot.db.engine import create_sessionmaker
from bot.db.models import utcnow
from bot.db.session import unit_of_work
from bot.db.state import purge_state_older_than
from bot.privacy.crypto import DecryptionError, FieldCipher, Sealed
from bot.privacy.keys import load_keys
from tests.harness import dev_settings


@pytest.fixture
def cipher() -> FieldCipher:
    return FieldCipher(load_keys(dev_settings()))


@pytest.fixture
def storage(engine: AsyncEngine, cipher: FieldCipher) -> SqlStorage:
    return SqlStorage(engine, create_sessionmaker(engine), cipher)


@pytest.mark.parametrize(
    "case",
    [
        "return_empty_object_when_reading_unknown_key",
        "handle_null_keys_when_reading",
        "handle_null_keys_when_writing",
        "does_not_raise_when_writing_no_items",
        "create_object",
        "handle_crazy_keys",
        "update_object",
        "delete_object",
        "delete_unknown_object",
        "perform_batch_operations",
        "proceeds_through_waterfall",
    ],
)
async def test_botbuilder_storage_conformance(storage: SqlStorage, case: str) -> None:
    assert await getattr(StorageBaseTests, case)(storage) is True


async def test_read_returns_each_document_with_its_etag(storage: SqlStorage) -> None:
    await storage.write({"conv/1": {"step": 1}})
    item = (await storage.read(["conv/1"]))["conv/1"]
    assert item["step"] == 1
    assert isinstance(item["e_tag"], str) and len(item["e_tag"]) == 32


async def test_stale_etag_is_refused_and_leaves_the_newer_document(storage: SqlStorage) -> None:
    await storage.write({"conv/1": {"step": 1}})
    first_reader = (await storage.read(["conv/1"]))["conv/1"]
    second_reader = (await storage.read(["conv/1"]))["conv/1"]

    second_reader["step"] = 2
    await storage.write({"conv/1": second_reader})
    first_reader["step"] = 99
    with pytest.raises(StateConflictError):
        await storage.write({"conv/1": first_reader})

    assert (await storage.read(["conv/1"]))["conv/1"]["step"] == 2


async def test_write_hands_back_the_new_etag_so_a_second_save_succeeds(
    storage: SqlStorage,
) -> None:
    await storage.write({"conv/1": {"step": 1}})
    item = (await storage.read(["conv/1"]))["conv/1"]
    old = item["e_tag"]
    item["step"] = 2
    await storage.write({"conv/1": item})
    assert item["e_tag"] != old
    item["step"] = 3
    await storage.write({"conv/1": item})
    assert (await storage.read(["conv/1"]))["conv/1"]["step"] == 3


async def test_wildcard_etag_overwrites_whatever_is_stored(storage: SqlStorage) -> None:
    await storage.write({"conv/1": {"step": 1}})
    await storage.write({"conv/1": {"step": 5, "e_tag": "*"}})
    assert (await storage.read(["conv/1"]))["conv/1"]["step"] == 5


async def test_empty_etag_is_an_error(storage: SqlStorage) -> None:
    with pytest.raises(ValueError):
        await storage.write({"conv/1": {"step": 1, "e_tag": ""}})


async def test_a_conflict_in_one_key_writes_none_of_the_batch(storage: SqlStorage) -> None:
    await storage.write({"a": {"n": 1}, "b": {"n": 1}})
    stale_b = (await storage.read(["b"]))["b"]
    fresh_b = (await storage.read(["b"]))["b"]
    fresh_b["n"] = 2
    await storage.write({"b": fresh_b})

    a = (await storage.read(["a"]))["a"]
    a["n"] = 100
    stale_b["n"] = 100
    with pytest.raises(StateConflictError):
        await storage.write({"a": a, "b": stale_b})

    stored = await storage.read(["a", "b"])
    assert stored["a"]["n"] == 1
    assert stored["b"]["n"] == 2


async def test_writes_inside_a_unit_of_work_vanish_when_it_fails(
    storage: SqlStorage, engine: AsyncEngine
) -> None:
    sessions = create_sessionmaker(engine)
    with pytest.raises(RuntimeError):
        async with unit_of_work(sessions):
            await storage.write({"conv/1": {"step": 1}})
            raise RuntimeError("turn failed")
    assert await storage.read(["conv/1"]) == {}

    async with unit_of_work(sessions):
        await storage.write({"conv/1": {"step": 1}})
    assert (await storage.read(["conv/1"]))["conv/1"]["step"] == 1


async def test_documents_are_unreadable_in_the_database_and_bound_to_their_key(
    storage: SqlStorage, engine: AsyncEngine, cipher: FieldCipher
) -> None:
    await storage.write({"conv/1": {"answer": "my manager shouted at me"}})
    async with engine.connect() as connection:
        document, key_id = (
            await connection.execute(
                text("SELECT document, key_id FROM bot_state WHERE key = 'conv/1'")
            )
        ).one()
    assert key_id == "ktest1"
    assert "manager" not in document
    assert "answer" not in document
    assert '"answer":"my manager shouted at me"' in cipher.open(
        Sealed(key_id, document), context="bot_state:conv/1"
    )
    # Copied into another conversation's row, the ciphertext will not open.
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO bot_state (key, document, key_id, etag, updated_at) "
                "SELECT 'conv/2', document, key_id, etag, updated_at FROM bot_state "
                "WHERE key = 'conv/1'"
            )
        )
    with pytest.raises(DecryptionError):
        await storage.read(["conv/2"])


async def test_documents_written_before_encryption_still_read(
    storage: SqlStorage, engine: AsyncEngine
) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO bot_state (key, document, key_id, etag, updated_at) "
                "VALUES ('old', :document, NULL, 'e1', CURRENT_TIMESTAMP)"
            ),
            {"document": '{"step":4}'},
        )
    assert (await storage.read(["old"]))["old"] == {"step": 4, "e_tag": "e1"}


async def test_purge_removes_only_documents_older_than_the_cutoff(
    storage: SqlStorage, engine: AsyncEngine
) -> None:
    await storage.write({"old": {"n": 1}, "new": {"n": 2}})
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE bot_state SET updated_at = :when WHERE key = 'old'"),
            {"when": utcnow() - timedelta(days=31)},
        )
    sessions = create_sessionmaker(engine)
    async with unit_of_work(sessions) as session:
        removed = await purge_state_older_than(session, utcnow() - timedelta(days=30))
    assert removed == 1
    assert set(await storage.read(["old", "new"])) == {"new"}
