"""Shared fixtures: every database test runs on SQLite and on PostgreSQL; no test goes online.

PostgreSQL comes from EDI_TEST_POSTGRES_URL (default: the local trust-auth server, database
`test`); each test gets a database of its own, created and dropped around it. When
EDI_REQUIRE_POSTGRES is set (CI), an unreachable server fails the run instead of skipping.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.db import migrate
from bot.db.engine import create_engine
from tests.connector import StandInConnector
from tests.harness import dev_settings
from tests.service import Service, start_service, stop_service

POSTGRES_URL = os.environ.get(
    "EDI_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = bool(os.environ.get("EDI_REQUIRE_POSTGRES"))
BACKENDS = ["sqlite", "postgresql"]

# ---- no test reaches beyond this machine -----------------------------------------------------

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


def _is_local(host: Any) -> bool:
    if not isinstance(host, str):
        return False
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
        raise OSError(f"tests may not reach the network beyond loopback (tried {address[0]})")
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> Any:
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
        raise OSError(f"tests may not reach the network beyond loopback (tried {address[0]})")
    return _real_connect_ex(self, address)


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    name = host.decode() if isinstance(host, bytes) else host
    if name is not None and not _is_local(name):
        raise OSError(f"tests may not resolve names beyond loopback (tried {name})")
    return _real_getaddrinfo(host, *args, **kwargs)


@pytest.fixture(autouse=True, scope="session")
def _offline() -> Iterator[None]:
    """Fail any test that tries to reach the internet."""
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign,assignment]
    socket.getaddrinfo = _guarded_getaddrinfo
    try:
        yield
    finally:
        socket.socket.connect = _real_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = _real_connect_ex  # type: ignore[method-assign]
        socket.getaddrinfo = _real_getaddrinfo


# ---- databases ------------------------------------------------------------------------------


def _admin_dsn() -> str:
    url = make_url(POSTGRES_URL).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


async def _postgres_reachable() -> str | None:
    import asyncpg

    try:
        connection = await asyncpg.connect(_admin_dsn(), timeout=3)
    except (TimeoutError, OSError, asyncpg.PostgresError) as error:
        return f"{type(error).__name__}: {error}"
    await connection.close()
    return None


_postgres_checked: dict[str, str | None] = {}


async def postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used for tests, or None when it can (checked once)."""
    if "result" not in _postgres_checked:
        _postgres_checked["result"] = await _postgres_reachable()
    return _postgres_checked["result"]


async def _create_database(name: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(_admin_dsn())
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def _drop_database(name: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(_admin_dsn())
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database on each backend: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'edi-bot.db'}"
        return
    problem = await postgres_problem()
    if problem is not None:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required (EDI_REQUIRE_POSTGRES) but: {problem}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {problem}")
    name = f"edi_test_{uuid.uuid4().hex[:12]}"
    await _create_database(name)
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        await _drop_database(name)


# ---- migrated databases, copied from one template per test process ---------------------------
#
# Running every migration for each test costs about 0.1 s on SQLite and 0.25 s on PostgreSQL;
# copying a database this process migrated once costs a few milliseconds (a file copy) or
# about 0.07 s (CREATE DATABASE ... TEMPLATE). tests/test_migrations.py still migrates from
# nothing, and `database_url` alone is still an empty database.

_templates: dict[str, str] = {}


async def _sqlite_template(folder: Path) -> Path:
    if "sqlite" not in _templates:
        path = folder / f"template-{uuid.uuid4().hex[:8]}.db"
        db = create_engine(f"sqlite+aiosqlite:///{path}")
        await migrate.upgrade(db)
        await db.dispose()
        _templates["sqlite"] = str(path)
    return Path(_templates["sqlite"])


async def _postgres_template() -> str:
    if "postgresql" not in _templates:
        name = f"edi_template_{uuid.uuid4().hex[:12]}"
        await _create_database(name)
        db = create_engine(make_url(POSTGRES_URL).set(database=name).render_as_string(False))
        await migrate.upgrade(db)
        await db.dispose()
        _templates["postgresql"] = name
    return _templates["postgresql"]


async def _copy_migrated(database_url: str, folder: Path) -> None:
    """Make the (empty, unused) database at `database_url` a copy of the migrated template."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        shutil.copyfile(await _sqlite_template(folder), str(url.database))
        return
    template = await _postgres_template()
    import asyncpg

    connection = await asyncpg.connect(_admin_dsn())
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{url.database}"')
        await connection.execute(f'CREATE DATABASE "{url.database}" TEMPLATE "{template}"')
    finally:
        await connection.close()


@pytest.fixture(scope="session", autouse=True)
def _drop_templates() -> Iterator[None]:
    """The PostgreSQL template goes when the test process ends."""
    yield
    name = _templates.pop("postgresql", None)
    if name is not None:
        asyncio.run(_drop_database(name))


@pytest.fixture
async def engine(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[AsyncEngine]:
    """An engine on a migrated, empty database."""
    await _copy_migrated(database_url, tmp_path_factory.getbasetemp())
    db = create_engine(database_url)
    try:
        yield db
    finally:
        await db.dispose()


@pytest.fixture
async def connector() -> AsyncIterator[StandInConnector]:
    """A stand-in Bot Connector on a loopback port; put its `url` on activities."""
    stand_in = await StandInConnector().start()
    try:
        yield stand_in
    finally:
        await stand_in.stop()


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Development-mode settings pointing at the test database, ignoring any .env file."""
    return dev_settings(database_url=database_url)


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Say at the top of the run whether PostgreSQL tests will run."""
    problem = asyncio.run(postgres_problem())
    if problem is None:
        return [f"PostgreSQL: {POSTGRES_URL}"]
    verdict = "REQUIRED and missing" if REQUIRE_POSTGRES else "skipped"
    return [f"PostgreSQL: {verdict}: {problem}"]


@pytest.fixture
async def service(settings: Settings, engine: AsyncEngine) -> AsyncIterator[Service]:
    """The app from its factory on a real port, with `settings` (a module may override them)."""
    running = await start_service(settings, engine)
    try:
        yield running
    finally:
        await stop_service(running)
