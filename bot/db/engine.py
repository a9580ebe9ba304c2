"""Builds the async engine, with SQLite tuned for a bot that writes on most turns."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession

from bot.privacy.keys import private_folder

SQLITE_BUSY_TIMEOUT_MS = 10_000


def create_engine(database_url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine for `database_url`; SQLite files get WAL and immediate transactions."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return create_async_engine(url, echo=echo, pool_pre_ping=True, pool_size=10)
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        _private_file(Path(url.database))
    engine = create_async_engine(url, echo=echo)
    _tune_sqlite(engine)
    return engine


def _private_file(database: Path) -> None:
    """Make the database file (and the folders the bot creates for it) readable by the bot's
    user only: 0600 and 0700. SQLite gives its -wal, -shm and -journal files the database's
    own mode, so they follow; older ones left world-readable are narrowed here too."""
    private_folder(database.parent)
    if not database.exists():
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    for path in (database, *(Path(f"{database}{end}") for end in ("-wal", "-shm", "-journal"))):
        # Best effort for files made before this (or by another user, e.g. on a volume).
        with contextlib.suppress(FileNotFoundError, PermissionError):
            os.chmod(path, 0o600)


def _tune_sqlite(engine: AsyncEngine) -> None:
    # pysqlite's own transaction handling begins lazily and upgrades read locks to write locks
    # mid-transaction, which fails instantly under contention. Take the write lock up front
    # instead (BEGIN IMMEDIATE), so concurrent turns queue on busy_timeout rather than fail.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)
