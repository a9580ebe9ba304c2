"""`edi-bot bulletin validate|preview|publish|status|comments MONTH`: the monthly bulletin.

`validate` and `preview` read only the content files; the others open the database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Callable

from bot.bulletins.authoring import BulletinError, check_card, load_bulletin, parse_month
from bot.bulletins.feature import COMMANDS
from bot.bulletins.service import BulletinService
from bot.channel.card_text import CardTextRenderer
from bot.cli.privacy import Context, actor, run, say
from bot.config import Settings
from bot.core.content import Content
from bot.db.session import unit_of_work
from bot.outbox.cli import describe_counts
from bot.outbox.queue import Outbox

WAIT_POLL_SECONDS = 2.0


def _month(text: str) -> str:
    try:
        return parse_month(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _service(ctx: Context) -> BulletinService:
    content = Content(ctx.settings.content_dir)
    return BulletinService(
        content=content,
        outbox=Outbox(ctx.privacy.cipher),
        privacy=ctx.privacy,
        sessions=ctx.sessions,
    )


def bulletin_validate(settings: Settings, args: argparse.Namespace) -> int:
    """Check one bulletin file; every problem with its line number. Exit 1 if any."""
    content = Content(settings.content_dir)
    try:
        bulletin = load_bulletin(content.root / "bulletins", args.month)
        card = check_card(content, bulletin)
    except BulletinError as error:
        say(str(error))
        say(f"{len(error.problems)} problem(s): fix them and validate again")
        return 1
    size = len(json.dumps(card, ensure_ascii=False).encode("utf-8"))
    say(
        f"{bulletin.source}: valid. {bulletin.title!r} for {bulletin.month_label}: "
        f"{len(bulletin.sections)} sections, {len(bulletin.links)} links, "
        f"{len(bulletin.events)} featured events; card {size / 1024:.1f} KB"
    )
    say(f"goes out {bulletin.publish_date:%A %d %B %Y} at 09:00 (Europe/London)")
    return 0


def bulletin_preview(settings: Settings, args: argparse.Namespace) -> int:
    """The exact card staff will receive, as the terminal chat shows it (or its JSON)."""
    content = Content(settings.content_dir)
    try:
        bulletin = load_bulletin(content.root / "bulletins", args.month)
        card = check_card(content, bulletin)
    except BulletinError as error:
        say(str(error))
        return 1
    if args.json:
        say(json.dumps(card, indent=2, ensure_ascii=False))
        return 0
    say(f"Notification: {bulletin.summary}")
    say("")
    for line in CardTextRenderer().render_card(card).lines:
        say(line)
    return 0


async def bulletin_publish(ctx: Context, args: argparse.Namespace) -> int:
    """Queue the bulletin for everyone reachable, with progress; --wait follows delivery."""
    service = _service(ctx)
    try:
        bulletin = service.load(args.month)
    except BulletinError as error:
        say(str(error))
        say("not published: fix the problems above first")
        return 1
    say(f"{bulletin.source}: valid")
    if bulletin.publish_date > service.today() and not args.now:
        say(
            f"the {bulletin.month} bulletin goes out by itself on "
            f"{bulletin.publish_date:%A %d %B %Y} at 09:00; add --now to send it today"
        )
        return 2
    result = await service.publish(args.month, actor=actor(), progress=say)
    if result.to_nobody:
        say(
            f"not published: nobody can be sent it yet, so the {result.month} bulletin is "
            "still unpublished and will go out once people have the bot"
        )
        return 1
    if result.already:
        say(f"{result.month} was already published: {result.queued:,} queued then; nothing new")
    else:
        say(f"queued for {result.queued:,} people (message {result.message_id})")
    if not args.wait:
        say(f"the outbox sends it; follow it with `edi-bot bulletin status {result.month}`")
        return 0
    return await _follow(service, result.month)


async def _follow(service: BulletinService, month: str) -> int:
    """Print delivery progress until nothing is queued."""
    last = ""
    while True:
        status = await service.status(month)
        counts = status.deliveries
        line = (
            f"sent {counts.sent:,} of {counts.total:,}; queued {counts.queued:,}, "
            f"failed {counts.failed:,}, gone {counts.gone:,}"
        )
        if line != last:
            say(line)
            last = line
        if counts.queued == 0:
            return 1 if counts.failed else 0
        await asyncio.sleep(WAIT_POLL_SECONDS)


async def bulletin_status(ctx: Context, args: argparse.Namespace) -> int:
    """Published when, deliveries by status, reach, reactions and comment count."""
    status = await _service(ctx).status(args.month)
    if status.issue is None:
        say(f"{status.month}: not published")
        return 0
    issue = status.issue
    say(
        f"{status.month}: published {issue.published_at:%Y-%m-%d %H:%M} UTC by "
        f"{issue.published_by}; queued for {issue.queued:,} "
        f"({issue.unsubscribed:,} unsubscribed were left out)"
    )
    if status.deliveries.total:
        say(f"deliveries: {describe_counts(status.deliveries)}")
    elif issue.queued:
        say("deliveries: no longer held (outbox retention); reach below still counts them")
    else:
        say("deliveries: none (nobody had the bot installed when it was published)")
    feedback = status.feedback
    people = "person" if feedback.reached == 1 else "people"
    say(f"reached: {feedback.reached:,} {people} (sent, or opened it in chat)")
    say(
        f"reactions: useful {feedback.useful:,}, not useful {feedback.not_useful:,}; "
        f"comments {feedback.comments:,}"
    )
    return 0


async def bulletin_comments(ctx: Context, args: argparse.Namespace) -> int:
    """The comments on a bulletin, decrypted, without who wrote them. Audited."""
    found = await _service(ctx).comments(args.month)
    async with unit_of_work(ctx.sessions) as session:
        await ctx.privacy.audit.append(
            session,
            actor=actor(),
            action="bulletin.comments_read",
            object_type="bulletin",
            object_id=args.month,
            detail={"comments": len(found)},
        )
    if not found:
        say(f"no comments on the {args.month} bulletin")
    for rating, text in found:
        say(f"[{rating.replace('_', ' ')}] {text}")
    return 0


def add_commands(commands: argparse._SubParsersAction, settings: Callable[[], Settings]) -> None:  # type: ignore[type-arg]
    """Register `edi-bot bulletin validate|preview|publish|status|comments MONTH`."""
    bulletin = commands.add_parser("bulletin", help=COMMANDS.help["bulletin"])
    sub = bulletin.add_subparsers(dest="bulletin_command", required=True, metavar="ACTION")

    def month_parser(name: str, text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = sub.add_parser(name, help=text)
        parser.add_argument("month", type=_month, help="YYYY-MM, e.g. 2026-11")
        return parser

    month_parser("validate", "check content/bulletins/MONTH.md").set_defaults(
        handler=lambda args: bulletin_validate(settings(), args)
    )
    preview = month_parser("preview", "show the card exactly as staff will get it")
    preview.add_argument("--json", action="store_true", help="print the Adaptive Card JSON")
    preview.set_defaults(handler=lambda args: bulletin_preview(settings(), args))
    publish = month_parser("publish", "send the bulletin to everyone (through the outbox)")
    publish.add_argument("--now", action="store_true", help="send before its publish date")
    publish.add_argument("--wait", action="store_true", help="follow delivery until done")
    publish.set_defaults(handler=lambda args: run(settings(), args, bulletin_publish))
    month_parser("status", "deliveries, reach, reactions and comments").set_defaults(
        handler=lambda args: run(settings(), args, bulletin_status)
    )
    month_parser("comments", "read the comments (audited)").set_defaults(
        handler=lambda args: run(settings(), args, bulletin_comments)
    )
