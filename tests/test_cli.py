"""`edi-bot chat` as a person runs it: a real process, typing on stdin, on both databases."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


def _env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDI_")}
    env["EDI_DATABASE_URL"] = database_url
    return env


def test_chat_runs_the_bot_from_typed_lines(database_url: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--user", "Sam Patel"],
        input="1\n3\ncancel\n/quit\n",
        capture_output=True,
        text=True,
        env=_env(database_url),
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "You are Sam Patel." in result.stdout
    assert "[1] About EDI" in result.stdout
    assert "The Public Sector Equality Duty" in result.stdout
    assert "OK, I've stopped “About EDI”." in result.stdout
    assert result.stdout.endswith("Goodbye.\n")
    assert "Traceback" not in result.stderr
    assert " ERROR " not in result.stderr


def _read_until(process: subprocess.Popen[bytes], text: str, timeout: float = 60) -> str:
    """Read the process's output until `text` appears (a prompt is not followed by a newline)."""
    assert process.stdout is not None
    fd = process.stdout.fileno()
    seen = b""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while text.encode() not in seen:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                pytest.fail(f"never saw {text!r}; got:\n{seen.decode()}")
            chunk = os.read(fd, 4096)
            if not chunk:
                pytest.fail(f"output ended before {text!r}; got:\n{seen.decode()}")
            seen += chunk
    return seen.decode()


def test_ctrl_c_at_the_prompt_says_goodbye_at_once(database_url: str, tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "chat", "--user", "Sam Patel"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(database_url),
        cwd=tmp_path,
    )
    try:
        assert "[1] About EDI" in _read_until(process, "you> ")
        # As a person would, press Ctrl-C while the prompt waits: a signal landing in the
        # microseconds between printing the prompt and reading stdin only counts at Enter.
        time.sleep(0.5)
        process.send_signal(signal.SIGINT)
        # stdin stays open: the prompt must give up on Ctrl-C, not wait for a line.
        code = process.wait(timeout=30)
        assert process.stdout is not None and process.stderr is not None
        rest = process.stdout.read().decode()
        errors = process.stderr.read().decode()
        assert code == 0, errors
        assert rest.endswith("Goodbye.\n")
        assert "Traceback" not in errors
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


@pytest.mark.parametrize("command", [["jobs", "list"], ["actions", "list"]])
def test_a_listing_piped_into_a_reader_that_stops_early_ends_quietly(
    database_url: str, tmp_path: Path, command: list[str]
) -> None:
    """`edi-bot actions list | head -1`: the reader closes the pipe after one line."""
    upgrade = subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade"],
        capture_output=True,
        env=_env(database_url),
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert upgrade.returncode == 0, upgrade.stderr
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(database_url) | {"PYTHONUNBUFFERED": "1"},
        cwd=tmp_path,
    )
    assert process.stdout is not None and process.stderr is not None
    first = process.stdout.readline()
    process.stdout.close()  # as `head -1` does
    errors = process.stderr.read().decode()
    code = process.wait(timeout=120)
    assert first.strip()
    assert "Traceback" not in errors and "BrokenPipe" not in errors, errors
    assert code in (0, 141)
