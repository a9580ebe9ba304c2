"""`edi-bot content check`: every file under content/ against its model, with file and line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from bot.cli.commands import CONTENT
from bot.config import Settings
from bot.core.content_check import check_content
from bot.features import FEATURES


def _check(settings: Callable[[], Settings], args: argparse.Namespace) -> int:
    """Print each problem on a line of its own; exit 1 if there is any."""
    root = settings().content_dir
    say: Callable[[str], None] = print if args.verbose else (lambda _: None)
    report = check_content(root, FEATURES, progress=say)
    for problem in report.problems:
        print(problem, file=sys.stderr)  # noqa: T201
    count = len(report.checked)
    if report.problems:
        print(  # noqa: T201
            f"{len(report.problems)} problem(s) in {root} ({count} files checked)", file=sys.stderr
        )
        return 1
    print(f"{count} files in {root}: no problems")  # noqa: T201
    return 0


def add_commands(commands: argparse._SubParsersAction, settings: Callable[[], Settings]) -> None:  # type: ignore[type-arg]
    """Register `content check`."""
    content = commands.add_parser("content", help=CONTENT.help["content"])
    sub = content.add_subparsers(dest="action", required=True)
    check = sub.add_parser("check", help="check every file; exit 1 on any problem")
    check.add_argument("-v", "--verbose", action="store_true", help="name each file checked")
    check.set_defaults(handler=lambda args: _check(settings, args))
