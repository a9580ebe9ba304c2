"""Every content file has a model, and a mistake in one is reported with its file and line,
by `edi-bot content check` and before `edi-bot serve` lets anyone talk to the bot."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.config import DEFAULT_CONTENT_DIR
from bot.core.content import ContentError, load_model
from bot.core.content_check import check_content, content_files
from bot.core.content_models import ShellMenu
from bot.core.registry import load
from bot.features import FEATURES
from tests.cli_runner import run_cli
from tests.privacy.test_privacy_cli import env_for

NOT_A_KEY = "is not a key this file has (misspelt, or in the wrong place?)"


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A copy of the shipped content to break."""
    root = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT_DIR, root)
    return root


def line_of(path: Path, text: str) -> int:
    """The 1-based line of `path` that contains `text`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, start=1) if text in line)


def test_the_shipped_content_has_no_problems_and_every_file_is_checked() -> None:
    report = check_content(DEFAULT_CONTENT_DIR, FEATURES)
    assert report.problems == []
    data = {p for p in DEFAULT_CONTENT_DIR.rglob("*") if p.suffix in (".yaml", ".md", ".j2")}
    data.discard(DEFAULT_CONTENT_DIR / "README.md")
    assert data <= set(report.checked)
    # Every model or checker the features name exists.
    for item in content_files(FEATURES):
        assert callable(load(item.check)), item


def test_a_misspelt_key_is_reported_with_its_file_and_line(content: Path) -> None:
    words = content / "incidents" / "words.yaml"
    words.write_text(
        words.read_text(encoding="utf-8").replace("  narrative_chars:", "  narative_chars:"),
        encoding="utf-8",
    )
    problems = check_content(content, FEATURES).problems
    typo = line_of(words, "narative_chars")
    assert f"{words} line {typo}: limits.narative_chars: {NOT_A_KEY}" in problems
    # The key it should have been is missing: reported at its section.
    assert f"{words} line {line_of(words, 'limits:')}: limits.narrative_chars: is missing" in (
        problems
    )


def test_a_wrong_kind_of_value_names_the_line(content: Path) -> None:
    menu = content / "events" / "menu.yaml"
    text = menu.read_text(encoding="utf-8")
    menu.write_text(
        text.replace("    words: [staff network", "    words: {staff network", 1).replace(
            "join a network]", "join a network}", 1
        ),
        encoding="utf-8",
    )
    problems = check_content(content, FEATURES).problems
    assert any(
        p.startswith(f"{menu} line {line_of(menu, '{staff network')}: entries, item ")
        for p in problems
    )


def test_broken_yaml_and_a_broken_template_name_their_line(content: Path) -> None:
    text = content / "shell" / "text.yaml"
    text.write_text(text.read_text(encoding="utf-8") + "broken: [oops\n", encoding="utf-8")
    card = content / "events" / "cards" / "event_card.json.j2"
    card.write_text(card.read_text(encoding="utf-8") + "\n{% if %}\n", encoding="utf-8")
    problems = check_content(content, FEATURES).problems
    assert any(p.startswith(f"{text} line ") and "not valid YAML" in p for p in problems)
    last = len(card.read_text(encoding="utf-8").splitlines())
    assert any(p.startswith(f"{card} line {last}:") for p in problems)


def test_a_missing_file_and_a_misplaced_one_are_problems(content: Path) -> None:
    (content / "shell" / "about_edi.yaml").unlink()
    stray = content / "events" / "2031-03-12-big-conversation.yaml"  # not in calendar/
    stray.write_text("title: Big Conversation\n", encoding="utf-8")
    problems = check_content(content, FEATURES).problems
    assert f"{content / 'shell' / 'about_edi.yaml'}: missing" in problems
    assert f"{stray}: no feature reads this file (misnamed or misplaced?)" in problems


def test_load_model_names_the_file_and_every_problem(tmp_path: Path) -> None:
    menu = tmp_path / "menu.yaml"
    menu.write_text("title: Hi\nintro: x\nentries:\n  - command: about\n    title: About\n")
    with pytest.raises(ContentError) as raised:
        load_model(menu, ShellMenu)
    assert str(raised.value).splitlines() == [
        f"{menu} line 1: tips: is missing",
        f"{menu} line 4: entries, item 1, description: is missing",
    ]


async def test_the_cli_checks_and_serve_will_not_start_on_broken_content(
    content: Path, database_url: str
) -> None:
    env = {**env_for(database_url), "EDI_CONTENT_DIR": str(content)}
    code, out, _ = await run_cli("content", "check", env=env)
    assert code == 0 and "no problems" in out
    menu = content / "shell" / "menu.yaml"
    menu.write_text(menu.read_text(encoding="utf-8").replace("tips:", "tipps:"), encoding="utf-8")
    code, _, err = await run_cli("content", "check", env=env)
    assert code == 1
    assert f"{menu} line {line_of(menu, 'tipps:')}: tipps: {NOT_A_KEY}" in err
    code, _, err = await run_cli("serve", "--port", "1", env=env)
    assert code == 2
    assert "cannot start: content has problems" in err and "tipps" in err


def test_an_event_file_and_the_networks_are_checked_where_they_are_wrong(content: Path) -> None:
    example = content / "events" / "calendar" / "_example.yaml"
    event = content / "events" / "calendar" / "2027-01-20-big-conversation.yaml"
    event.write_text(
        example.read_text(encoding="utf-8")
        .replace("capacity: 40", "capacity: forty")
        .replace('start: "2027-01-20 12:30"', 'start: "20 January, half twelve"'),
        encoding="utf-8",
    )
    networks = content / "events" / "networks.yaml"
    text = networks.read_text(encoding="utf-8")
    networks.write_text(text.replace("  - code: bame", "  - code: Bad Code", 1), encoding="utf-8")
    problems = check_content(content, FEATURES).problems
    assert f"{event} line {line_of(event, 'capacity:')}: capacity: must be a whole number" in (
        problems
    )
    assert any(
        p.startswith(f"{event} line {line_of(event, 'start:')}: start: ")
        and "is not a date and time like 2027-01-20 12:30" in p
        for p in problems
    )
    assert any(
        p.startswith(f"{networks} line {line_of(networks, 'Bad Code')}: networks, item 1, code:")
        for p in problems
    )
