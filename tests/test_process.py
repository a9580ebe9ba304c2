"""The `edi-bot` command as an operator runs it: real processes, real ports, real kills."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp

from bot.db import migrate
from tests.cards import visible_text
from tests.connector import StandInConnector
from tests.teams import TeamsUser

ROOT = Path(__file__).resolve().parent.parent


def _env(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDI_")}
    env.update(settings)
    return env


async def run_cli(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    """Run `edi-bot ARGS` to completion; exit code, stdout, stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, out.decode(), err.decode()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """`edi-bot serve` in a child process."""

    def __init__(self, database_url: str, log_path: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self._env = _env(
            EDI_DATABASE_URL=database_url,
            EDI_PORT=str(self.port),
            EDI_HOST="127.0.0.1",
            EDI_LOG_LEVEL="INFO",
            # Development keys, generated on first start and kept across the restart.
            EDI_KEYS_FILE=str(log_path.parent / "keys.json"),
        )
        self._log_path = log_path
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        log = self._log_path.open("ab")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "serve",
            env=self._env,
            cwd=ROOT,
            stdout=log,
            stderr=log,
        )
        async with aiohttp.ClientSession() as http:
            for _ in range(200):
                try:
                    async with http.get(f"{self.base}/readyz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                assert self.process.returncode is None, self._log_path.read_text()
                await asyncio.sleep(0.1)
        raise AssertionError(f"server did not become ready:\n{self._log_path.read_text()}")

    async def kill(self) -> None:
        """SIGKILL: no cleanup, no goodbye, as a crash or an OOM kill would do."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def post(self, activity: dict[str, object]) -> int:
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{self.base}/api/messages", json=activity) as response,
        ):
            return response.status


async def test_production_mode_refuses_to_start_with_a_one_line_reason(tmp_path: Path) -> None:
    code, _, err = await run_cli(
        "serve",
        env=_env(
            EDI_APP_ID="3f2b0c1e-0000-4000-8000-000000000001",
            EDI_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/x.db",
        ),
    )
    assert code == 2
    assert err.strip().count("\n") == 0
    assert err.strip() == (
        "edi-bot: cannot start in production mode: EDI_APP_PASSWORD is required for "
        "EDI_APP_TYPE=SingleTenant; EDI_APP_TENANT_ID is required for EDI_APP_TYPE=SingleTenant; "
        "EDI_ALLOWED_TENANTS must list the tenant ids the bot serves; EDI_DATABASE_URL must "
        "point at PostgreSQL (postgresql+asyncpg://...); EDI_ENCRYPTION_KEYS is required "
        "(edi-bot keys generate makes one); EDI_PSEUDONYM_KEY is required (edi-bot keys "
        "generate makes one)"
    )


async def test_invalid_settings_are_named(tmp_path: Path) -> None:
    code, _, err = await run_cli("serve", env=_env(EDI_PORT="not-a-port"))
    assert code == 1
    assert err.startswith("edi-bot: invalid configuration: EDI_PORT:")


async def test_db_commands_report_and_apply_the_schema(database_url: str) -> None:
    env = _env(EDI_DATABASE_URL=database_url)
    head = migrate.head_revision()
    assert await run_cli("db", "current", env=env) == (
        1,
        f"database at revision none: behind (code expects {head})\n",
        "",
    )
    code, out, _ = await run_cli("db", "upgrade", env=env)
    assert (code, out) == (0, f"database at revision {head}: up to date\n")
    assert (await run_cli("db", "current", env=env))[:2] == (
        0,
        f"database at revision {head}: up to date\n",
    )


async def test_killing_the_server_mid_dialog_loses_nothing(
    database_url: str, connector: StandInConnector, tmp_path: Path
) -> None:
    server = Server(database_url, tmp_path / "serve.log")
    await server.start()
    try:
        log = (tmp_path / "serve.log").read_text()
        assert "DEVELOPMENT MODE" in log
        user = TeamsUser()
        assert await server.post(user.message("about", connector.url)) == 201
        assert "What would you like to know about?" in visible_text(
            connector.replies(user.conversation_id)[-1]
        )
        await server.kill()

        await server.start()
        assert await server.post(user.message("duty", connector.url)) == 201
        assert "The Public Sector Equality Duty" in visible_text(
            connector.replies(user.conversation_id)[-1]
        )
    finally:
        if server.process is not None and server.process.returncode is None:
            await server.kill()
