"""`edi-bot roster import` and `edi-bot report quarterly`: HR's workforce roster and the
anonymised quarterly report at the command line.

Both are written to the audit log under the operating-system user who ran them. The report
goes through the same disclosure control as everything else HR sees.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from bot.cli.privacy import Command, Context, actor, run, say
from bot.config import Settings
from bot.core.clock import today_in_london
from bot.core.content import Content
from bot.db.session import unit_of_work
from bot.hr.config import load_hr_config
from bot.hr.dataset import DisclosureConfigError
from bot.hr.factory import build_hr_reports
from bot.hr.feature import COMMANDS
from bot.hr.quarters import Quarter
from bot.hr.report import write_csv, write_html
from bot.hr.roster import RosterPlan, UpnKeys, apply_import, plan_import, problem_lines
from bot.hr.service import MAX_VERSIONS, QuarterUnavailable

MAX_ROSTER_BYTES = 200 * 1024 * 1024


def _default_tenant(settings: Settings) -> str | None:
    if settings.app_tenant_id:
        return settings.app_tenant_id
    if len(settings.allowed_tenants) == 1:
        return settings.allowed_tenants[0]
    return None


def _read_roster(path: Path) -> str | None:
    """The file's text, or None after saying why it cannot be read."""
    try:
        if path.stat().st_size > MAX_ROSTER_BYTES:
            say(f"edi-bot: {path} is larger than {MAX_ROSTER_BYTES // (1024 * 1024)} MB")
            return None
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        say(f"edi-bot: cannot read {path}: {type(error).__name__}")
        return None


def _describe(plan: RosterPlan) -> None:
    """What the file holds: people, departments, bands, and who would leave the roster."""
    say(f"Rows read: {plan.lines_read:,}")
    say(
        f"People: {len(plan.rows):,} ({plan.by_object_id:,} by object id, "
        f"{plan.by_upn:,} by UPN of whom {plan.upn_linked:,} already linked)"
    )
    say(f"Departments: {len(plan.departments):,}")
    for department, people in sorted(plan.departments.items()):
        say(f"  {department}: {people:,}")
    say("Grade bands: " + ", ".join(f"{b} {n:,}" for b, n in sorted(plan.bands.items())))
    say(
        f"On the current roster: {plan.previous:,}; leavers: {len(plan.leavers):,} "
        f"(declarations that would be deleted: {plan.leaver_declarations:,})"
    )


async def roster_import(ctx: Context, args: argparse.Namespace) -> int:
    """Check a roster CSV and (unless --dry-run) replace the roster with it."""
    path = Path(args.file)
    text = _read_roster(path)
    if text is None:
        return 2
    config = load_hr_config(Content(ctx.settings.content_dir))
    tenant = args.tenant or _default_tenant(ctx.settings)
    say(f"Reading {path.name} ...")
    started = time.perf_counter()
    async with unit_of_work(ctx.sessions) as session:
        plan = await plan_import(
            session,
            text=text,
            tenant_id=tenant,
            pseudonyms=ctx.privacy.pseudonyms,
            upn_keys=UpnKeys(ctx.privacy.keys.pseudonym),
            config=config,
        )
        _describe(plan)
        if plan.problems:
            say(f"Problems ({len(plan.problems):,}); nothing was imported:")
            for line in problem_lines(plan.problems):
                say(f"  {line}")
            return 1
        if plan.too_many_leavers and not args.allow_many_leavers:
            say(
                f"Refused: {len(plan.leavers):,} of {plan.previous:,} people would leave "
                f"(more than {config.max_leaver_share:.0%}), and their declarations would be "
                "deleted. Check the file; if it is right, run again with --allow-many-leavers."
            )
            return 1
        if args.dry_run:
            say("Dry run: nothing was written.")
            return 0
        result = await apply_import(
            session,
            plan,
            audit=ctx.privacy.audit,
            pseudonyms=ctx.privacy.pseudonyms,
            actor=actor(),
            today=today_in_london(),
            progress=say,
        )
    say(
        f"Imported {result.people:,} people in {time.perf_counter() - started:.1f} s; "
        f"{result.leavers:,} leavers, {result.declarations_removed:,} declarations removed."
    )
    return 0


async def report_quarterly(ctx: Context, args: argparse.Namespace) -> int:
    """Write a quarter's CSV files and HTML report to --out."""
    today = today_in_london()
    try:
        quarter = Quarter.parse(args.quarter) if args.quarter else Quarter.last_completed(today)
    except ValueError as error:
        say(f"edi-bot: {error}")
        return 2
    try:
        reports = build_hr_reports(ctx.settings, Content(ctx.settings.content_dir), ctx.privacy)
    except DisclosureConfigError as error:
        say(f"edi-bot: {error}")
        return 2
    out = Path(args.out)
    say(f"Building the report for {quarter} ...")
    started = time.perf_counter()
    async with unit_of_work(ctx.sessions) as session:
        try:
            report = await reports.report(
                session, quarter=quarter, today=today, version=args.version
            )
        except QuarterUnavailable as error:
            say("edi-bot: " + reports.config.texts(f"text.{error.key}", quarter=str(quarter)))
            return 1
        await reports.audit_access(session, actor=actor(), quarter=quarter, how="cli")
    say(reports.version_line(report) or f"{quarter}: version 1 (never re-issued).")
    say(
        f"Figures frozen on {report.taken_on.isoformat()}; "
        f"{report.release.secondary:,} figures hidden to protect others "
        f"({time.perf_counter() - started:.2f} s)."
    )
    if report.empty:
        say(reports.config.texts("text.no_roster"))
    try:
        files = write_csv(report, out, progress=lambda line: say(f"  {line}"))
        page = write_html(report, reports.config, out, ctx.settings.content_dir)
    except OSError as error:
        say(f"edi-bot: cannot write to {out}: {type(error).__name__}")
        return 2
    say(f"  wrote {page.name}")
    say(f"Done: {len(files) + 1} files in {out}")
    return 0


async def report_reissue(ctx: Context, args: argparse.Namespace) -> int:
    """Freeze a quarter again from the roster and declarations as they stand now."""
    today = today_in_london()
    try:
        quarter = Quarter.parse(args.quarter)
        reports = build_hr_reports(ctx.settings, Content(ctx.settings.content_dir), ctx.privacy)
    except (ValueError, DisclosureConfigError) as error:
        say(f"edi-bot: {error}")
        return 2
    texts = reports.config.texts
    if not args.yes:
        say(texts("text.reissue_plan", quarter=str(quarter), most=MAX_VERSIONS))
        say("Add --yes to re-issue it.")
        return 2
    async with unit_of_work(ctx.sessions) as session:
        try:
            old, new = await reports.reissue(
                session, quarter=quarter, today=today, actor=actor(), reason=args.reason
            )
        except QuarterUnavailable as error:
            say("edi-bot: " + texts(f"text.{error.key}", quarter=str(quarter), most=MAX_VERSIONS))
            return 1
    say(texts("text.reissued", quarter=str(quarter), version=new, before=old))
    return 0


def add_commands(commands: argparse._SubParsersAction, settings: Callable[[], Settings]) -> None:  # type: ignore[type-arg]
    """Register `roster` and `report` on the top-level parser."""

    def runner(command: Command) -> Callable[[argparse.Namespace], int]:
        return lambda args: run(settings(), args, command)

    roster = commands.add_parser("roster", help=COMMANDS.help["roster"])
    roster_sub = roster.add_subparsers(dest="roster_command", required=True, metavar="ACTION")
    importing = roster_sub.add_parser(
        "import", help="replace the roster with a CSV (object_id or upn, department, grade)"
    )
    importing.add_argument("file", help="the roster CSV")
    importing.add_argument("--tenant", help="tenant id of the people (default: the bot's)")
    importing.add_argument(
        "--dry-run", action="store_true", help="report counts and problems; write nothing"
    )
    importing.add_argument(
        "--allow-many-leavers",
        action="store_true",
        help="import even when many people on the current roster are missing from the file",
    )
    # A dry run also works before `db upgrade`: against an empty scratch database.
    importing.set_defaults(
        handler=lambda args: run(settings(), args, roster_import, scratch=args.dry_run)
    )

    report = commands.add_parser("report", help=COMMANDS.help["report"])
    report_sub = report.add_subparsers(dest="report_command", required=True, metavar="ACTION")
    quarterly = report_sub.add_parser(
        "quarterly", help="CSV files and an HTML report for a quarter"
    )
    quarterly.add_argument("--out", required=True, help="directory to write to")
    quarterly.add_argument(
        "--quarter", help="YYYY-QN (calendar quarters); default: the quarter just ended"
    )
    quarterly.add_argument(
        "--version", type=int, help="an earlier version of a re-issued quarter (default: latest)"
    )
    quarterly.set_defaults(handler=runner(report_quarterly))
    reissue = report_sub.add_parser(
        "reissue",
        help="freeze a quarter again after a late roster import (a new version; both kept)",
    )
    reissue.add_argument("quarter", help="YYYY-QN, e.g. 2026-Q3")
    reissue.add_argument("--reason", required=True, help="why, e.g. 'late roster import'")
    reissue.add_argument(
        "--yes", action="store_true", help="do it (without: say what would happen)"
    )
    reissue.set_defaults(handler=runner(report_reissue))
