"""The Teams app package: valid against Microsoft's manifest schema, with the right icons."""

from __future__ import annotations

import json
import shutil
import zipfile
from importlib import metadata
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from bot.channel.manifest import MANIFEST_VERSION, ManifestError, build_manifest, write_package
from bot.cli.main import main
from bot.config import DEFAULT_CONTENT_DIR, Settings
from bot.core.content import Content
from tests import js_tools
from tests.harness import dev_settings

APP_ID = "6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
URLS = {
    "teams_privacy_url": "https://www.leicestershire.gov.uk/privacy",
    "teams_terms_url": "https://www.leicestershire.gov.uk/terms",
}


def settings(**values: Any) -> Settings:
    base: dict[str, Any] = {
        "app_id": APP_ID,
        "teams_valid_domains": "www.leicestershire.gov.uk",
        **URLS,
    }
    return dev_settings(**{**base, **values})


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("package")
    return write_package(settings(), Content(DEFAULT_CONTENT_DIR), out).package


def test_package_holds_exactly_the_manifest_and_two_icons_at_its_root(package: Path) -> None:
    with zipfile.ZipFile(package) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest == json.loads((package.parent / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}


def test_manifest_is_valid_against_microsofts_schema_at_the_newest_version(package: Path) -> None:
    js_tools.node()
    result = js_tools.run_node("validate_manifest.mjs", str(package.parent / "manifest.json"))
    assert result["errors"] == []
    assert result["schemaFile"].endswith(f"v{MANIFEST_VERSION}/MicrosoftTeams.schema.json")
    assert result["newest"] == MANIFEST_VERSION, (
        f"@microsoft/app-manifest publishes schema {result['newest']}: move MANIFEST_VERSION"
    )


def test_an_invalid_manifest_is_caught_by_the_schema(tmp_path: Path) -> None:
    js_tools.node()
    manifest = build_manifest(settings(), Content(DEFAULT_CONTENT_DIR))
    manifest["bots"][0]["scopes"] = ["everywhere"]
    (tmp_path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    result = js_tools.run_node("validate_manifest.mjs", str(tmp_path / "manifest.json"))
    assert any("/bots/0/scopes/0" in error for error in result["errors"])


def test_icons_are_192_colour_and_32_white_on_transparent(package: Path) -> None:
    with zipfile.ZipFile(package) as archive:
        color = Image.open(BytesIO(archive.read("color.png")))
        outline = Image.open(BytesIO(archive.read("outline.png")))
    assert (color.format, color.size) == ("PNG", (192, 192))
    assert (outline.format, outline.size) == ("PNG", (32, 32))
    raw = outline.convert("RGBA").tobytes()
    pixels = [tuple(raw[i : i + 4]) for i in range(0, len(raw), 4)]
    assert any(alpha == 0 for *_, alpha in pixels), (
        "the outline icon needs a transparent background"
    )
    assert any(alpha > 0 for *_, alpha in pixels), "the outline icon is empty"
    assert all((r, g, b) == (255, 255, 255) for r, g, b, alpha in pixels if alpha > 0), (
        "the outline icon must be white only"
    )


def test_bot_is_personal_with_the_menus_everyday_commands(package: Path) -> None:
    manifest = json.loads((package.parent / "manifest.json").read_text(encoding="utf-8"))
    (bot,) = manifest["bots"]
    assert bot["botId"] == manifest["id"] == APP_ID
    assert bot["scopes"] == ["personal"]
    titles = [command["title"] for command in bot["commandLists"][0]["commands"]]
    everyday = [
        e.command
        for e in Content(DEFAULT_CONTENT_DIR).menu_entries()
        if not e.role and not e.hidden
    ]
    assert titles[: len(everyday)] == everyday[:10]
    assert "report" in titles and "cases" not in titles and "status" not in titles
    assert manifest["developer"]["privacyUrl"] == URLS["teams_privacy_url"]
    assert manifest["developer"]["termsOfUseUrl"] == URLS["teams_terms_url"]
    assert manifest["validDomains"] == ["www.leicestershire.gov.uk"]
    assert manifest["version"] == metadata.version("edi-bot")


def test_cli_writes_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EDI_APP_ID", APP_ID)
    monkeypatch.setenv("EDI_TEAMS_APP_VERSION", "1.2.3")
    for name, value in URLS.items():
        monkeypatch.setenv(f"EDI_{name.upper()}", value)
    assert main(["manifest", "--out", "package"]) == 0
    assert (tmp_path / "package" / "edi-bot-teams-app-1.2.3.zip").is_file()
    manifest = json.loads((tmp_path / "package" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["version"] == "1.2.3"


def test_cli_says_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EDI_APP_ID", raising=False)
    assert main(["manifest", "--out", "package"]) == 2
    assert "EDI_APP_ID is not set" in capsys.readouterr().err
    monkeypatch.setenv("EDI_APP_ID", APP_ID)
    assert main(["manifest", "--out", "package"]) == 2
    assert "EDI_TEAMS_PRIVACY_URL and EDI_TEAMS_TERMS_URL must be set" in capsys.readouterr().err
    assert not (tmp_path / "package").exists()


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"app_id": "not-a-guid"}, "must be the Azure Bot's Microsoft App ID, a GUID"),
        ({"teams_privacy_url": "http://example.org/privacy"}, "must be an https:// address"),
        ({"teams_valid_domains": "https://example.org/"}, "is not a domain name"),
    ],
)
def test_bad_settings_are_refused_with_a_reason(values: dict[str, str], problem: str) -> None:
    with pytest.raises(ManifestError, match=problem):
        build_manifest(settings(**values), Content(DEFAULT_CONTENT_DIR))


def test_a_replaced_icon_of_the_wrong_size_is_refused(tmp_path: Path) -> None:
    content_dir = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT_DIR, content_dir)
    Image.new("RGBA", (64, 64)).save(content_dir / "teams" / "outline.png")
    with pytest.raises(ManifestError, match=r"outline.png must be 32x32 pixels \(it is 64x64\)"):
        write_package(settings(), Content(content_dir), tmp_path / "out")
