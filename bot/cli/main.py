"""`edi-bot`: one entry point, a subcommand per area."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.cli.commands import CORE
from bot.core.registry import Commands
from bot.features import FEATURES

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger("bot.cli.main")


def _settings() -> Settings:
    from pydantic import ValidationError

    from bot.config import Settings

    try:
        return Settings()
    except ValidationError as error:
        problems = "; ".join(
            f"EDI_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in error.errors()
        )
        raise SystemExit(f"edi-bot: invalid configuration: {problems}") from None


def _serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from bot.app import create_app
    from bot.core.content_check import check_content
    from bot.core.logs import configure_logging
    from bot.privacy.keys import KeyConfigError, load_keys

    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    problems = settings.production_problems()
    if problems:
        print(f"edi-bot: cannot start in production mode: {'; '.join(problems)}", file=sys.stderr)  # noqa: T201
        return 2
    try:
        load_keys(settings)
    except KeyConfigError as error:
        print(f"edi-bot: cannot start: {error}", file=sys.stderr)  # noqa: T201
        return 2
    # Content is checked before anyone talks to the bot: a mistake in a words file would
    # otherwise surface as "something went wrong" in the middle of someone's report.
    content = check_content(settings.content_dir, FEATURES)
    if content.problems:
        lines = "\n".join(content.problems)
        print(f"edi-bot: cannot start: content has problems:\n{lines}", file=sys.stderr)  # noqa: T201
        return 2
    if settings.development_mode:
        log.warning(
            "DEVELOPMENT MODE: EDI_APP_ID is not set, so Bot Framework authentication is OFF "
            "and anyone who can reach this port can talk to the bot. Never expose it."
        )
    host = args.host or settings.host
    port = args.port or settings.port
    log.info("serve.start", extra={"url": f"http://{host}:{port}/api/messages"})
    app = create_app(settings)
    app.on_startup.append(_settle_heap)
    web.run_app(app, host=host, port=port, access_log=None, print=None)
    return 0


async def _settle_heap(app: object) -> None:
    """After start-up, move what was loaded out of the garbage collector's way.

    Everything imported and built at start-up lives as long as the process; freezing it, and
    collecting the young generation less often, removes the long full-collection pauses that
    otherwise dominate the slowest turns (see docs/benchmarks.md).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)


def _chat(args: argparse.Namespace) -> int:
    from bot.channel.terminal import run_chat
    from bot.core.logs import configure_logging

    settings = _settings()
    configure_logging("WARNING", settings.log_format)
    return asyncio.run(run_chat(settings, user=args.user))


def _db(args: argparse.Namespace) -> int:
    from bot.core.logs import configure_logging
    from bot.db import migrate
    from bot.db.engine import create_engine

    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)

    async def run() -> int:
        engine = create_engine(settings.database_url)
        try:
            if args.db_command == "upgrade":
                await migrate.upgrade(engine)
            current = await migrate.current_revision(engine)
        finally:
            await engine.dispose()
        head = migrate.head_revision()
        state = "up to date" if current == head else f"behind (code expects {head})"
        print(f"database at revision {current or 'none'}: {state}")  # noqa: T201
        return 0 if current == head else 1

    return asyncio.run(run())


def command_groups() -> list[Commands]:
    """Every command group: the core's, then each feature's."""
    return [*CORE, *(f.commands for f in FEATURES if f.commands is not None)]


def _command_in(argv: Sequence[str] | None) -> str | None:
    """The subcommand `argv` names (its first word that is not an option), if any."""
    words = sys.argv[1:] if argv is None else argv
    return next((word for word in words if not word.startswith("-")), None)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser: every command listed, and the one `argv` names fully built.

    Only the chosen command's module is imported, so `edi-bot --help` and each command start
    without loading what the others need (the dialogs, the database layer, the SDK).
    """
    parser = argparse.ArgumentParser(
        prog="edi-bot", description="Leicestershire County Council's EDI bot for Microsoft Teams."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the bot's web service (POST /api/messages)")
    serve.add_argument("--host", help="address to listen on (default EDI_HOST)")
    serve.add_argument("--port", type=int, help="port to listen on (default EDI_PORT)")
    serve.set_defaults(handler=_serve)

    chat = commands.add_parser("chat", help="talk to the bot in this terminal")
    chat.add_argument("--user", default="Terminal User", help="the name to chat as")
    chat.set_defaults(handler=_chat)

    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="apply every migration not yet applied")
    db_commands.add_parser("current", help="show the schema revision (exit 1 if behind)")
    db.set_defaults(handler=_db)

    chosen = _command_in(argv)
    for group in command_groups():
        if chosen in group.help:
            group.add_to(commands, _settings)
        else:
            group.add_placeholders(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `edi-bot` command line."""
    args = build_parser(argv).parse_args(argv)
    quiet = {name for group in command_groups() for name in group.help}
    if args.command in quiet:
        from bot.core.logs import configure_logging

        configure_logging("WARNING")
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`edi-bot actions list | head`): stop quietly, as `ls` does.
        _silence_stdout()
        return 141


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so Python's own flush at exit finds no broken pipe."""
    import os

    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


if __name__ == "__main__":
    raise SystemExit(main())
