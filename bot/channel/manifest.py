"""The Teams app package: manifest.json, two icons, zipped for the Teams admin centre.

The words come from content/teams/app.yaml and the menu, the icons from content/teams/, and
the ids and URLs from settings. Nothing here reaches the network.
"""

from __future__ import annotations

import json
import re
import struct
import uuid
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.config import Settings
from bot.core.content import Content, ContentError

# The newest generally available Teams manifest schema (tests/channel/test_manifest.py checks
# it is the newest one published in @microsoft/app-manifest, and validates against it).
MANIFEST_VERSION = "1.30"
SCHEMA_URL = (
    "https://developer.microsoft.com/en-us/json-schemas/teams/"
    f"v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
)
COLOR_ICON = "color.png"
OUTLINE_ICON = "outline.png"
ICON_SIZES = {COLOR_ICON: 192, OUTLINE_ICON: 32}
# Teams' limits on the bot's suggested commands.
MAX_COMMANDS = 10
MAX_COMMAND_TITLE = 32
MAX_COMMAND_DESCRIPTION = 128
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# A fixed time inside the zip, so the same inputs give the same package, byte for byte.
ZIP_TIME = (2024, 1, 1, 0, 0, 0)
_DOMAIN = re.compile(r"^(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


class ManifestError(ValueError):
    """A setting or content file the app package needs is missing or wrong."""


@dataclass(frozen=True, slots=True)
class AppPackage:
    """What `write_package` wrote."""

    manifest: Path
    icons: tuple[Path, Path]
    package: Path


def _version(settings: Settings) -> str:
    if settings.teams_app_version:
        return settings.teams_app_version
    return metadata.version("edi-bot")


def _https(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.netloc:
        raise ManifestError(f"EDI_{name.upper()} must be an https:// address (it is {value!r})")
    return value


def _guid(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ManifestError(
            f"EDI_APP_ID must be the Azure Bot's Microsoft App ID, a GUID (it is {value!r})"
        ) from None


def _shorten(text: str, limit: int) -> str:
    """`text` cut at a word boundary to fit `limit` characters, with an ellipsis if cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:.") + "…"


def _commands(content: Content, app: dict[str, Any]) -> list[dict[str, str]]:
    """The commands Teams suggests: menu entries everyone can use, then the extra ones."""
    commands = []
    for entry in content.menu_entries():
        if entry.role is None and not entry.hidden:
            described = f"{entry.title}: {entry.description}"
            fits = len(described) <= MAX_COMMAND_DESCRIPTION
            commands.append(
                {"title": entry.command, "description": described if fits else entry.title}
            )
    commands += [
        {"title": str(item["title"]), "description": str(item["description"])}
        for item in app.get("extra_commands") or []
    ]
    return [
        {
            "title": _shorten(command["title"], MAX_COMMAND_TITLE),
            "description": _shorten(command["description"], MAX_COMMAND_DESCRIPTION),
        }
        for command in commands[:MAX_COMMANDS]
    ]


def _text(app: dict[str, Any], key: str) -> str:
    value = app.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ContentError(f"content/teams/app.yaml needs {key!r}")
    return " ".join(value.split())


def build_manifest(settings: Settings, content: Content) -> dict[str, Any]:
    """The manifest.json for this bot, as a dict."""
    if not settings.app_id:
        raise ManifestError("EDI_APP_ID is not set: the app package names the Azure Bot's app id")
    app_id = _guid(settings.app_id)
    if not settings.teams_privacy_url or not settings.teams_terms_url:
        raise ManifestError(
            "EDI_TEAMS_PRIVACY_URL and EDI_TEAMS_TERMS_URL must be set: Teams shows them to staff"
        )
    for domain in settings.teams_valid_domains:
        if not _DOMAIN.match(domain):
            raise ManifestError(f"EDI_TEAMS_VALID_DOMAINS: {domain!r} is not a domain name")
    app = content.data("teams/app")
    if not isinstance(app, dict):
        raise ContentError("content/teams/app.yaml must be a mapping")
    return {
        "$schema": SCHEMA_URL,
        "manifestVersion": MANIFEST_VERSION,
        "version": _version(settings),
        "id": app_id,
        "developer": {
            "name": _text(app, "developer_name"),
            "websiteUrl": _https("teams_website_url", settings.teams_website_url),
            "privacyUrl": _https("teams_privacy_url", settings.teams_privacy_url),
            "termsOfUseUrl": _https("teams_terms_url", settings.teams_terms_url),
        },
        "name": {"short": _text(app, "short_name"), "full": _text(app, "full_name")},
        "description": {
            "short": _text(app, "short_description"),
            "full": _text(app, "full_description"),
        },
        "icons": {"color": COLOR_ICON, "outline": OUTLINE_ICON},
        "accentColor": _text(app, "accent_color"),
        "bots": [
            {
                "botId": app_id,
                "scopes": ["personal"],
                # People send evidence files with a hate-incident report in their personal
                # chat (bot/channel/files.py: fetched only from Teams' own places).
                "supportsFiles": True,
                "isNotificationOnly": False,
                "commandLists": [{"scopes": ["personal"], "commands": _commands(content, app)}],
            }
        ],
        "validDomains": list(settings.teams_valid_domains),
    }


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG image, from its header."""
    if len(data) < 24 or not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        raise ManifestError("not a PNG image")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def _icon(content: Content, name: str) -> bytes:
    path = content.root / "teams" / name
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ManifestError(f"{path}: {error.strerror}") from None
    size = ICON_SIZES[name]
    try:
        found = png_size(data)
    except ManifestError:
        raise ManifestError(f"{path} is not a PNG image") from None
    if found != (size, size):
        raise ManifestError(f"{path} must be {size}x{size} pixels (it is {found[0]}x{found[1]})")
    return data


def write_package(settings: Settings, content: Content, out_dir: Path) -> AppPackage:
    """Write manifest.json, the icons and the zipped app package into `out_dir`."""
    manifest = build_manifest(settings, content)
    icons = {name: _icon(content, name) for name in (COLOR_ICON, OUTLINE_ICON)}
    manifest_bytes = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "manifest.json").write_bytes(manifest_bytes)
    for name, data in icons.items():
        (out_dir / name).write_bytes(data)
    package = out_dir / f"edi-bot-teams-app-{manifest['version']}.zip"
    with zipfile.ZipFile(package, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in [("manifest.json", manifest_bytes), *icons.items()]:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return AppPackage(
        manifest=out_dir / "manifest.json",
        icons=(out_dir / COLOR_ICON, out_dir / OUTLINE_ICON),
        package=package,
    )
