"""The layout's promises, checked: where the Teams SDK may be imported, who imports whom.

See docs/architecture.md. A feature package is a folder under bot/ with a `feature.py`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SDK = {"botbuilder", "botframework", "msrest", "jsonpickle"}
FEATURES = sorted(path.parent.name for path in (ROOT / "bot").glob("*/feature.py"))
ROOMS = ("core", "db", "privacy", "outbox")


def imports_of(path: Path) -> set[str]:
    """Every module `path` imports, by full dotted name (`from a import b` gives a.b when b
    is a module, else a)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            folder = ROOT / node.module.replace(".", "/")
            for alias in node.names:
                if (folder / f"{alias.name}.py").exists() or (folder / alias.name).is_dir():
                    names.add(f"{node.module}.{alias.name}")  # a module: from pkg import mod
                else:
                    names.add(node.module)
    return names


def files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


def feature_of(module: str) -> str | None:
    """The feature a dotted module belongs to (bot.<feature>...), if any."""
    parts = module.split(".")
    if len(parts) >= 2 and parts[0] == "bot" and parts[1] in FEATURES:
        return parts[1]
    if module == "bot.features":
        return "*"
    return None


def test_there_are_feature_packages() -> None:
    assert {"incidents", "declarations", "bulletins", "events", "actions", "hr"} <= set(FEATURES)


def test_only_the_channel_and_dialogs_import_the_sdk() -> None:
    offenders = {}
    for folder in ("bot", "scheduler"):
        for path in files(folder):
            if relative(path).startswith("bot/channel/"):
                continue
            found = {name for name in imports_of(path) if name.split(".")[0] in SDK}
            if found:
                offenders[relative(path)] = sorted(found)
    assert offenders == {}


@pytest.mark.parametrize("feature", FEATURES)
def test_a_feature_imports_no_other_feature(feature: str) -> None:
    offenders = {}
    for path in files(f"bot/{feature}"):
        others = {
            name
            for name in imports_of(path)
            if feature_of(name) not in (None, feature)
            # Another feature's data is asked for through its public face, `feature.py`.
            and not name.startswith(f"bot.{feature_of(name)}.feature")
        }
        if others:
            offenders[relative(path)] = sorted(others)
    assert offenders == {}


@pytest.mark.parametrize("room", ROOMS)
def test_the_rooms_import_no_feature(room: str) -> None:
    offenders = {
        relative(path): sorted(n for n in imports_of(path) if feature_of(n) is not None)
        for path in files(f"bot/{room}")
        if any(feature_of(n) is not None for n in imports_of(path))
    }
    assert offenders == {}


def test_the_rooms_and_features_import_no_dialog_or_channel_turn_code() -> None:
    # Services return data and card dicts; only the channel and the wiring know dialogs.
    # A `cli.py` is a command's wiring: it may use the channel's transport (to send) and its
    # card-to-text renderer (to preview), never a dialog or the scheduler.
    offenders = {}
    for folder in [f"bot/{name}" for name in (*ROOMS, *FEATURES)]:
        for path in files(folder):
            barred = (
                ("dialogs", "scheduler")
                if path.name == "cli.py"
                else ("dialogs", "bot.channel", "scheduler")
            )
            found = {n for n in imports_of(path) if n.startswith(barred)}
            if found:
                offenders[relative(path)] = sorted(found)
    assert offenders == {}


def test_dialogs_of_one_feature_do_not_import_another_features_dialogs() -> None:
    offenders = {}
    for path in files("dialogs"):
        parts = path.relative_to(ROOT / "dialogs").parts
        if len(parts) < 2:
            continue
        own = parts[0]
        found = {
            n
            for n in imports_of(path)
            if n.startswith("dialogs.") and n.split(".")[1] not in (own, "common")
        }
        if found:
            offenders[relative(path)] = sorted(found)
    assert offenders == {}


def test_dialogs_and_scheduler_never_import_each_other() -> None:
    assert [
        relative(p)
        for p in files("dialogs")
        if any(n.startswith("scheduler") for n in imports_of(p))
    ] == []
    assert [
        relative(p)
        for p in files("scheduler")
        if any(n.startswith("dialogs") for n in imports_of(p))
    ] == []


def test_content_is_data_only() -> None:
    assert list((ROOT / "content").rglob("*.py")) == []


def test_the_boundary_check_sees_a_violation() -> None:
    # The checks above would pass on an empty tree; this one proves the parser finds imports.
    sample = ROOT / "bot" / "channel" / "adapter.py"
    assert any(name.startswith("botbuilder") for name in imports_of(sample))


def test_dialogs_read_the_turn_through_one_helper() -> None:
    # What the person sent and who they are come from bot/channel/turn.py `Turn`, so the
    # conversations never depend on the SDK's activity fields.
    raw = {"text", "value", "from_property"}
    offenders = {}
    for path in files("dialogs"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found = {
            node.attr
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute)
            and node.attr in raw
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "activity"
        }
        if found:
            offenders[relative(path)] = sorted(found)
    assert offenders == {}


def test_commands_start_without_the_dialogs_or_the_terminal() -> None:
    # `edi-bot --help` imports no command's module, and a command imports only its own:
    # none of them loads a conversation, the terminal chat or the dialog library.
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from bot.cli.main import build_parser, command_groups\n"
        "names = [None] + [n for g in command_groups() for n in g.help]\n"
        "for name in names:\n"
        "    build_parser([name] if name else [])\n"
        "heavy = ('dialogs', 'bot.channel.terminal', 'botbuilder.dialogs', 'bot.runtime')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert found.stdout.strip() == "[]"
