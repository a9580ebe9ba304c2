"""The bot and Microsoft 365 Agents Playground, started together on this machine.

`make playground` runs this module (`python -m tests.playground`): the bot in development mode
on a SQLite file under var/playground/, the Playground pointed at it, and the URL to open.
tests/channel/test_playground.py starts the same pair on free ports for its walks.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PLAYGROUND_BIN = PROJECT_ROOT / "tests" / "js" / "node_modules" / ".bin" / "agentsplayground"
# The Playground's default mock tenant and signed-in user (Alex Wilber): not GUIDs.
MOCK_TENANT = "00000000-0000-0000-0000-0000000000001"
MOCK_USER = "00000000-0000-0000-0000-0000000000020"


@dataclass(frozen=True, slots=True)
class Running:
    """The two processes, where they listen, and where their logs go."""

    url: str
    bot_url: str
    workdir: Path
    database_url: str
    processes: tuple[subprocess.Popen[bytes], ...]

    def command(self, *args: str) -> dict[str, Any]:
        """An `edi-bot` command line for the driver to run, with this bot's settings."""
        return {
            "argv": [sys.executable, "-m", "bot", *args],
            "env": _bot_env(self.workdir, self.database_url),
            "cwd": str(self.workdir),
        }

    def edi_bot(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run an `edi-bot` command against the same database and keys as the running bot."""
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            env=_bot_env(self.workdir, self.database_url),
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _bot_env(workdir: Path, database_url: str) -> dict[str, str]:
    # Development mode whatever the caller's environment says: no app id, local keys.
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDI_")}
    env.update(
        EDI_DATABASE_URL=database_url,
        EDI_KEYS_FILE=str(workdir / "keys.json"),
        EDI_CONTENT_DIR=str(PROJECT_ROOT / "content"),
        PYTHONPATH=str(PROJECT_ROOT),
    )
    return env


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the process logging to {log} exited {process.returncode}:\n{tail}")
        with (
            contextlib.suppress(OSError, urllib.error.URLError),
            urllib.request.urlopen(url, timeout=2) as answer,
        ):
            if answer.status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s (log: {log})")


def start(workdir: Path, *, bot_port: int, port: int, database_url: str | None = None) -> Running:
    """Start the bot, wait until it is ready, then the Playground pointed at it."""
    workdir.mkdir(parents=True, exist_ok=True)
    database_url = database_url or f"sqlite+aiosqlite:///{workdir / 'bot.db'}"
    bot_log = workdir / "bot.log"
    bot = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(bot_port)],
        env=_bot_env(workdir, database_url),
        cwd=workdir,
        stdout=bot_log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    processes: list[subprocess.Popen[bytes]] = [bot]
    try:
        _wait_for(f"http://127.0.0.1:{bot_port}/readyz", bot, bot_log, timeout=60)
        playground_log = workdir / "playground.log"
        playground = subprocess.Popen(
            [
                str(PLAYGROUND_BIN),
                "-e",
                f"http://127.0.0.1:{bot_port}/api/messages",
                "-c",
                "msteams",
                "-p",
                str(port),
                "--disable-telemetry",
            ],
            # It writes devTools/ into its working directory; never open a browser of its own.
            env={**os.environ, "TEAMSAPPTESTER_BROWSER": "none"},
            cwd=workdir,
            stdout=playground_log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        processes.append(playground)
        _wait_for(f"http://127.0.0.1:{port}/_debug/ping", playground, playground_log, timeout=60)
    except BaseException:
        stop_all(processes)
        raise
    return Running(
        url=f"http://localhost:{port}/",
        bot_url=f"http://127.0.0.1:{bot_port}/api/messages",
        workdir=workdir,
        database_url=database_url,
        processes=tuple(processes),
    )


def stop_all(
    processes: list[subprocess.Popen[bytes]] | tuple[subprocess.Popen[bytes], ...],
) -> None:
    """Stop each process (SIGTERM, then SIGKILL after 10 s), the Playground first."""
    for process in reversed(processes):
        if process.poll() is None:
            process.terminate()
    for process in reversed(processes):
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def running(workdir: Path, *, bot_port: int, port: int) -> Iterator[Running]:
    """The pair, stopped on the way out."""
    pair = start(workdir, bot_port=bot_port, port=port)
    try:
        yield pair
    finally:
        stop_all(pair.processes)


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main() -> int:
    """`make playground`: start both, print the URL, stop both on Ctrl-C."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bot-port", type=int, default=3978)
    parser.add_argument("--port", type=int, default=56150, help="the Playground's port")
    parser.add_argument("--workdir", type=Path, default=PROJECT_ROOT / "var" / "playground")
    args = parser.parse_args()
    if not PLAYGROUND_BIN.exists():
        _say("The Playground is not installed: install Node.js, then `make playground` again.")
        return 2
    with running(args.workdir, bot_port=args.bot_port, port=args.port) as pair:
        _say(f"bot:        {pair.bot_url} (development mode; logs and data in {pair.workdir})")
        _say(f"Playground: {pair.url}  <- open this in a browser; Ctrl-C stops both")
        _say(f"You are the Playground's mock user {MOCK_USER} in tenant {MOCK_TENANT}.")
        stopped = False

        def _stop(*_: object) -> None:
            nonlocal stopped
            stopped = True

        signal.signal(signal.SIGTERM, _stop)
        try:
            while not stopped and all(p.poll() is None for p in pair.processes):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
