"""`edi-bot manifest --out DIR`: build the Teams app package to upload in the Teams admin centre."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from bot.channel.manifest import ManifestError, write_package
from bot.cli.commands import MANIFEST
from bot.config import Settings
from bot.core.content import Content, ContentError
from bot.features import FEATURES


def _manifest(settings: Callable[[], Settings], args: argparse.Namespace) -> int:
    """Write the app package; exit 2 with a one-line reason when a setting is missing."""
    config = settings()
    try:
        package = write_package(
            config, Content(config.content_dir, [f.name for f in FEATURES]), Path(args.out)
        )
    except (ManifestError, ContentError) as error:
        print(f"edi-bot manifest: {error}", file=sys.stderr)  # noqa: T201
        return 2
    except OSError as error:
        print(f"edi-bot manifest: cannot write {args.out}: {error.strerror}", file=sys.stderr)  # noqa: T201
        return 1
    print(f"wrote {package.manifest}, {package.icons[0].name} and {package.icons[1].name}")  # noqa: T201
    print(f"app package: {package.package}")  # noqa: T201
    print("upload it in the Teams admin centre: Teams apps > Manage apps > Upload new app")  # noqa: T201
    return 0


def add_commands(commands: argparse._SubParsersAction, settings: Callable[[], Settings]) -> None:  # type: ignore[type-arg]
    """Register `manifest`."""
    manifest = commands.add_parser("manifest", help=MANIFEST.help["manifest"])
    manifest.add_argument("--out", required=True, help="directory to write into (created)")
    manifest.set_defaults(handler=lambda args: _manifest(settings, args))
