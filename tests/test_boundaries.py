"""The layout's promises, checked: where botbuilder may be imported, who imports whom."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(package: str) -> dict[str, set[str]]:
    """For each .py file under `package`, the top-level modules it imports."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize("package", ["scheduler"])
def test_botbuilder_stays_in_bot_and_dialogs(package: str) -> None:
    offenders = {
        file: names & {"botbuilder", "botframework", "msrest"}
        for file, names in imported_modules(package).items()
        if names & {"botbuilder", "botframework", "msrest"}
    }
    assert offenders == {}


def test_dialogs_and_scheduler_never_import_each_other() -> None:
    assert {f for f, n in imported_modules("dialogs").items() if "scheduler" in n} == set()
    assert {f for f, n in imported_modules("scheduler").items() if "dialogs" in n} == set()


def test_content_is_data_only() -> None:
    assert list((ROOT / "content").rglob("*.py")) == []


def test_botbuilder_is_imported_only_where_allowed_in_bot() -> None:
    # Inside bot/, the SDK belongs to the edge and the wiring; the privacy core, the
    # database layer, configuration and logging must not need it.
    sdk = {"botbuilder", "botframework", "msrest"}
    neutral = (
        "bot/privacy/",
        "bot/db/",
        "bot/config.py",
        "bot/logs.py",
        "bot/status.py",
        "bot/people.py",
        "bot/cli_privacy.py",
    )
    offenders = {
        file
        for file, names in imported_modules("bot").items()
        if file.startswith(neutral) and names & sdk
    }
    assert offenders == set()
