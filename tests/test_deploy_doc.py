"""The deployment guide and the Dockerfile name only settings that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import Settings

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = {f"EDI_{name.upper()}" for name in Settings.model_fields}


@pytest.mark.parametrize("document", ["docs/deploy.md", "Dockerfile"])
def test_every_setting_named_is_one_the_bot_reads(document: str) -> None:
    named = set(re.findall(r"\bEDI_[A-Z0-9_]+\b", (ROOT / document).read_text(encoding="utf-8")))
    assert named, f"{document} names no settings"
    assert sorted(named - SETTINGS) == []


def test_the_guide_covers_every_setting_production_mode_requires() -> None:
    guide = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    bare = Settings(_env_file=None, app_id="x", database_url="sqlite+aiosqlite:///x.db")  # type: ignore[call-arg]
    required = set(re.findall(r"\bEDI_[A-Z0-9_]+\b", " ".join(bare.production_problems())))
    assert {"EDI_APP_PASSWORD", "EDI_DATABASE_URL", "EDI_ENCRYPTION_KEYS"} <= required
    assert sorted(name for name in required | {"EDI_APP_ID"} if name not in guide) == []
