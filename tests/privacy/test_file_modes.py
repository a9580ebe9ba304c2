"""The files and folders the bot creates for its data are its own user's only: the SQLite
database with its -wal and -shm (0600), the folders above them (0700), the development keys."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.db import migrate
from bot.db.engine import create_engine
from bot.privacy.keys import load_keys
from tests.harness import dev_settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def modes_in(folder: Path) -> dict[str, int]:
    return {path.name: mode(path) for path in folder.iterdir()}


def make_readable_by_all(folder: Path) -> None:
    for path in folder.iterdir():
        os.chmod(path, 0o644)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The most permissive umask, so only the bot's own choices decide the modes."""
    saved = os.umask(0)
    try:
        yield
    finally:
        os.umask(saved)


async def test_a_new_database_and_every_folder_made_for_it_are_private(
    tmp_path: Path, open_umask: None
) -> None:
    database = tmp_path / "srv" / "edi" / "var" / "edi-bot.db"
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        await migrate.upgrade(engine)
        async with engine.begin() as connection:  # a write, so the -wal and -shm exist
            await connection.execute(text("CREATE TABLE probe (x INTEGER)"))
            made = modes_in(database.parent)
    finally:
        await engine.dispose()
    assert {"edi-bot.db", "edi-bot.db-wal", "edi-bot.db-shm"} <= set(made)
    assert set(made.values()) == {0o600}, made
    for folder in (tmp_path / "srv", tmp_path / "srv" / "edi", database.parent):
        assert mode(folder) == 0o700, folder


async def test_a_world_readable_database_from_before_is_made_private(
    tmp_path: Path, open_umask: None
) -> None:
    database = tmp_path / "edi-bot.db"
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE probe (x INTEGER)"))
        # As an older version left them: readable by everyone on the machine.
        make_readable_by_all(tmp_path)
        engine_again = create_engine(f"sqlite+aiosqlite:///{database}")
        await engine_again.dispose()
        modes = modes_in(tmp_path)
    await engine.dispose()
    assert {"edi-bot.db", "edi-bot.db-wal", "edi-bot.db-shm"} <= set(modes)
    assert set(modes.values()) == {0o600}, modes


def test_development_keys_are_private_down_to_their_folders(
    tmp_path: Path, open_umask: None
) -> None:
    keys_file = tmp_path / "state" / "var" / "keys.json"
    load_keys(dev_settings(keys_file=keys_file, encryption_keys="", pseudonym_key=""))
    assert mode(keys_file) == 0o600
    assert mode(keys_file.parent) == 0o700 and mode(keys_file.parent.parent) == 0o700
