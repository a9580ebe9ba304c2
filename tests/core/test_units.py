"""Pure functions: settings, content rendering, command words, exception descriptions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.channel.teams import normalise_command
from bot.config import DEFAULT_CONTENT_DIR, AppType
from bot.core.content import MAX_CARD_BYTES, Content, ContentError, as_typed
from bot.core.logs import describe_exception
from bot.incidents.references import find_reference
from tests.harness import dev_settings

make_settings = dev_settings


def test_defaults_are_a_runnable_development_setup() -> None:
    settings = make_settings()
    assert settings.development_mode
    assert settings.database_url == "sqlite+aiosqlite:///var/edi-bot.db"
    assert (settings.host, settings.port, settings.app_type) == (
        "127.0.0.1",
        3978,
        AppType.SINGLE_TENANT,
    )
    assert settings.production_problems() == []


def test_environment_variables_use_the_edi_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDI_ALLOWED_TENANTS", " tenant-a, tenant-b ,,")
    monkeypatch.setenv("EDI_LOG_LEVEL", "debug")
    monkeypatch.setenv("EDI_PORT", "8080")
    settings = make_settings()
    assert settings.allowed_tenants == ["tenant-a", "tenant-b"]
    assert settings.log_level == "DEBUG"
    assert settings.port == 8080


def test_production_needs_a_secret_tenant_and_postgres() -> None:
    ready = make_settings(
        app_id="app",
        app_password="secret",
        app_tenant_id="home",
        allowed_tenants="home",
        database_url="postgresql+asyncpg://edi@db/edi",
    )
    assert not ready.development_mode
    assert ready.production_problems() == []
    msi = make_settings(
        app_id="app",
        app_type="UserAssignedMSI",
        app_tenant_id="home",
        allowed_tenants="home",
        database_url="postgresql+asyncpg://edi@db/edi",
    )
    assert msi.production_problems() == []  # a managed identity has no secret
    multi = make_settings(app_id="app", app_type="MultiTenant", allowed_tenants="home")
    assert multi.production_problems() == [
        "EDI_APP_PASSWORD is required for EDI_APP_TYPE=MultiTenant",
        "EDI_DATABASE_URL must point at PostgreSQL (postgresql+asyncpg://...)",
    ]


def test_the_password_never_shows_in_the_settings_repr() -> None:
    assert "hunter2" not in repr(make_settings(app_password="hunter2"))


@pytest.mark.parametrize(
    ("typed", "command"),
    [
        ("Menu", "menu"),
        ("  help!! ", "help"),
        ("<at>EDI bot</at> about", "about"),
        ("never   mind.", "never mind"),
        ("", ""),
        (None, ""),
    ],
)
def test_typed_text_becomes_a_command_word(typed: str | None, command: str) -> None:
    assert normalise_command(typed) == command


def test_cards_are_valid_json_whatever_they_are_filled_with() -> None:
    content = Content(DEFAULT_CONTENT_DIR)
    awkward = 'He said "stop" \\ then }, {"type": "Action.OpenUrl"\n<script>'
    card = content.card(
        "info",
        heading=awkward,
        paragraphs=[awkward],
        bullets=[],
        source=None,
        question=None,
        buttons=[{"title": awkward, "data": {"choice": awkward}}],
    )
    assert as_typed(card["body"][0]["text"]) == awkward  # escaped, and reads as typed
    assert card["actions"] == [
        {"type": "Action.Submit", "title": awkward, "data": {"choice": awkward}}
    ]
    assert card["version"] == "1.5"


def test_every_about_topic_renders_under_the_teams_size_limit() -> None:
    content = Content(DEFAULT_CONTENT_DIR)
    for topic in content.data("shell/about_edi")["topics"]:
        card = content.card(
            "info",
            heading=topic["heading"],
            paragraphs=topic.get("paragraphs", []),
            bullets=topic.get("bullets", []),
            source=topic["source"],
            question="More?",
            buttons=[],
        )
        assert len(json.dumps(card).encode()) < MAX_CARD_BYTES


def test_an_oversized_card_is_refused(tmp_path: Path) -> None:
    (tmp_path / "shell" / "cards").mkdir(parents=True)
    (tmp_path / "shell" / "cards" / "big.json.j2").write_text(
        '{"type": "AdaptiveCard", "x": {{ x }}}'
    )
    with pytest.raises(ContentError, match="over 81920 bytes"):
        Content(tmp_path).card("big", x="a" * MAX_CARD_BYTES)


def test_missing_text_keys_are_named() -> None:
    texts = Content(DEFAULT_CONTENT_DIR).texts
    assert texts("shell.too_long", limit="10").startswith("That message is longer")
    with pytest.raises(ContentError, match=r"text\.yaml has no 'shell\.nope'"):
        texts("shell.nope")


def test_exception_descriptions_never_carry_the_message() -> None:
    try:
        int("my secret words")
    except ValueError as error:
        described = describe_exception(error)
    assert described.startswith("ValueError at test_units.py:")
    assert "secret" not in described


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("ABCD-EFGH", "ABCD-EFGH"),
        ("abcd efgh", "ABCD-EFGH"),
        ("abcdefgh", "ABCD-EFGH"),
        ("my reference is ABCD-EFGH.", "ABCD-EFGH"),
        ("open abcd-efgh", "ABCD-EFGH"),  # a button's words before it
        ("take abcd-efgh", "ABCD-EFGH"),  # "TAKE" is made of reference letters too
        ("take abcd efgh", "ABCD-EFGH"),
        ("abcd-efgh thanks", "ABCD-EFGH"),
        ("abcd efgh thanks", "ABCD-EFGH"),
        ("ABCD-EFGHJ", None),  # too long to be one
        ("ABCD-EF0H", None),  # 0 is never used (it reads as O)
        ("hello", None),
    ],
)
def test_a_report_reference_is_found_in_what_someone_typed(typed: str, found: str | None) -> None:
    assert find_reference(typed) == found
