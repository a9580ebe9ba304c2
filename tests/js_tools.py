"""Microsoft's own tooling for the tests: Node packages in tests/js/ and Debian's chromium.

`make test` installs them where it can (`npm ci` in tests/js/, `apt-get install chromium` as
root). Where one is still missing, the tests that need it are skipped with the reason; in CI
(`CI` set) they fail instead, so a green CI run always includes them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

JS_DIR = Path(__file__).resolve().parent / "js"
NODE_MODULES = JS_DIR / "node_modules"
ARTIFACTS = Path(__file__).resolve().parent.parent / "var" / "test-artifacts"
CHROMIUM = os.environ.get("EDI_CHROMIUM", "/usr/bin/chromium")
IN_CI = bool(os.environ.get("CI"))


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (required in CI)", pytrace=False)
    pytest.skip(reason)


def node() -> str:
    """The `node` executable and installed tests/js packages, or skip (fail in CI)."""
    found = shutil.which("node")
    if found is None:
        _unavailable("Node.js is not installed (run `make test`, or install nodejs)")
        raise AssertionError("unreachable")
    if not (NODE_MODULES / ".package-lock.json").exists():
        _unavailable("tests/js packages are not installed (run `npm ci` in tests/js)")
    return found


def chromium() -> str:
    """Debian's chromium, or skip (fail in CI)."""
    if not Path(CHROMIUM).exists():
        _unavailable(
            f"{CHROMIUM} is missing (run `make test` as root, or apt-get install chromium)"
        )
    return CHROMIUM


def run_node(script: str, *args: str, timeout: float = 120) -> Any:
    """Run tests/js/<script> with arguments; its standard output parsed as JSON."""
    executable = node()
    result = subprocess.run(
        [executable, str(JS_DIR / script), *args],
        cwd=JS_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "EDI_CHROMIUM": CHROMIUM},
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"{script} exited {result.returncode}:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout)
