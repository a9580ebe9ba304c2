"""`edi-bot ARGS` run in this process, for tests of a command's logic.

A real process costs about a second of imports per command; this runs `bot.cli.main.main`
in a worker thread with the given environment and captured output instead. The wiring (the
entry point, signals, exit codes of a real process) stays covered by tests/test_process.py
and tests/test_cli.py, which start real processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import threading
from collections.abc import Iterator

from bot.cli.main import main

# One command at a time per test process: the environment and sys.stdout are process-wide.
_ONE_AT_A_TIME = threading.Lock()


@contextlib.contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def _logging_restored() -> Iterator[None]:
    """Commands configure the root logger for their own output; put it back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        for handler in list(root.handlers):
            if handler not in handlers:
                root.removeHandler(handler)
        for handler in handlers:
            if handler not in root.handlers:
                root.addHandler(handler)
        root.setLevel(level)


def _run(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with (
        _ONE_AT_A_TIME,
        _environment(env),
        _logging_restored(),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        try:
            code = main(args)
        except SystemExit as exit_:  # argparse's usage errors, and commands that exit early
            if isinstance(exit_.code, int) or exit_.code is None:
                code = exit_.code or 0
            else:
                err.write(f"{exit_.code}\n")
                code = 1
    return code, out.getvalue(), err.getvalue()


async def run_cli(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    """Run `edi-bot ARGS` to completion in this process; exit code, stdout, stderr."""
    return await asyncio.wait_for(asyncio.to_thread(_run, list(args), env), 60)
