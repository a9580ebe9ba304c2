"""`edi-bot cases list|show|export|release|ack|triage|assign|close`: incident cases for case
handlers at the command line.

Every use is written to the audit log: reading under the operating-system user who ran it;
changes (case_commands.py) under the case handler named by `--as`, as in Teams.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.cli.privacy import Context, actor, run, say
from bot.config import Settings
from bot.core.clock import today_in_london
from bot.core.content import Content
from bot.db.session import unit_of_work
from bot.incidents import case_commands
from bot.incidents.evidence_store import EvidenceLimits
from bot.incidents.feature import COMMANDS
from bot.incidents.pattern_cli import add_pattern_commands
from bot.incidents.pattern_feature import pattern_config
from bot.incidents.references import find_reference
from bot.incidents.repo import forget_released
from bot.incidents.service import Incidents
from bot.incidents.taxonomy import categories_of


def _incidents(ctx: Context) -> Incidents:
    return Incidents(
        content=Content(ctx.settings.content_dir),
        cipher=ctx.privacy.cipher,
        audit=ctx.privacy.audit,
        pseudonyms=ctx.privacy.pseudonyms,
        outbox=None,
        token_key=ctx.privacy.keys.pseudonym,
        patterns=pattern_config(ctx.settings, ctx.privacy.keys.pseudonym),
        evidence_limits=EvidenceLimits(
            max_bytes=ctx.settings.evidence_max_bytes,
            max_files=ctx.settings.evidence_max_files,
            keep_days=ctx.settings.retention_drafts_days,
        ),
    )


async def cases_list(ctx: Context, args: argparse.Namespace) -> int:
    """One line per case: reference, received, status, deadlines, handler, categories."""
    incidents = _incidents(ctx)
    tax = incidents.taxonomy
    async with unit_of_work(ctx.sessions) as session:
        cases = await (incidents.all_cases(session) if args.all else incidents.open_cases(session))
        await ctx.privacy.audit.append(
            session,
            actor=actor(),
            action="incident.listed",
            object_type="incident",
            detail={"cases": len(cases), "all": bool(args.all)},
        )
    if not cases:
        say("No open cases." if not args.all else "No cases.")
        return 0
    heading = ("REFERENCE", "RECEIVED", "STATUS", "NEXT DUE", "HANDLER")
    say("{:<10} {:<10} {:<12} {:<19} {:<20} CATEGORIES".format(*heading))
    for report in cases:
        parts = categories_of(report)
        say(
            f"{report.reference:<10} {report.received_on.isoformat():<10} {report.status:<12} "
            f"{_next_due(report):<19} {(report.assigned_name or '-')[:20]:<20} "
            f"{tax.labels('motivations', parts['motivations']) or '-'}"
        )
    say(f"{len(cases)} case(s).")
    return 0


def _next_due(report: Any) -> str:
    """The case's next deadline: acknowledgement, then feedback to the reporter."""
    if report.status == "closed":
        return "-"
    if not report.acknowledged_on:
        return f"ack {report.acknowledge_by.isoformat()}"
    if not report.feedback_on:
        return f"reply {report.feedback_by.isoformat()}"
    return "-"


async def _case_data(incidents: Incidents, session: Any, report: Any) -> dict[str, Any]:
    view = await incidents.view(session, report)
    tax = incidents.taxonomy
    parts = categories_of(report)
    return {
        "reference": report.reference,
        "received_on": report.received_on.isoformat(),
        "written_down": view.written_down or None,
        "status": report.status,
        "how_reported": report.mode,
        "reporter": view.reporter,
        "relationship": tax.label("relationship", report.relationship),
        "motivations": [tax.label("motivations", c) for c in parts["motivations"]],
        "kinds": [tax.label("kinds", c) for c in parts["kinds"]],
        "location": tax.label("location", report.location) or None,
        "perpetrator": tax.label("perpetrator", report.perpetrator) or None,
        "frequency": tax.label("frequency", report.frequency) or None,
        "possible_crime": tax.label("possible_crime", report.possible_crime) or None,
        "occurred_on": report.occurred_on.isoformat() if report.occurred_on else None,
        "occurred_approx": view.occurred_approx or None,
        "what_happened": view.narrative,
        "impact": view.impact or None,
        "wants_contact": report.wants_contact,
        "consents": {
            "monitoring_project": report.consent_monitoring,
            "police": report.consent_police,
            "hr": report.consent_hr,
        },
        "handler": report.assigned_name,
        "risk": report.risk,
        "classification": report.classification,
        "acknowledge_by": report.acknowledge_by.isoformat(),
        "acknowledged_on": report.acknowledged_on.isoformat() if report.acknowledged_on else None,
        "feedback_by": report.feedback_by.isoformat(),
        "feedback_on": report.feedback_on.isoformat() if report.feedback_on else None,
        "outcome": tax.label("outcome", report.outcome) or None,
        "closed_on": report.closed_on.isoformat() if report.closed_on else None,
        "messages": [
            {"from": author, "on": on.isoformat(), "text": body}
            for author, on, body in view.messages
        ],
        "history": [
            {"on": e.happened_on.isoformat(), "what": e.what, "by": e.by_name, "note": e.note}
            for e in view.events
        ],
    }


async def cases_show(ctx: Context, args: argparse.Namespace) -> int:
    """One case in full, as JSON."""
    reference = find_reference(args.reference)
    if reference is None:
        say(f"edi-bot: {args.reference!r} is not a case reference (like ABCD-EFGH)")
        return 2
    incidents = _incidents(ctx)
    async with unit_of_work(ctx.sessions) as session:
        report = await incidents.by_reference(session, reference)
        if report is None:
            say(f"edi-bot: there is no case {reference}")
            return 1
        data = await _case_data(incidents, session, report)
        await incidents.audit_access(
            session, actor=actor(), action="incident.viewed", reference=reference
        )
    say(json.dumps(data, indent=2, ensure_ascii=False))
    return 0


async def cases_export(ctx: Context, args: argparse.Namespace) -> int:
    """Every case (or the open ones) in full, to a JSON file only the owner can read."""
    out = Path(args.out)
    if os.path.exists(out) and not args.force:  # noqa: ASYNC240 - a command-line process
        say(f"edi-bot: {out} exists; choose another file or add --force")
        return 2
    incidents = _incidents(ctx)
    async with unit_of_work(ctx.sessions) as session:
        cases = await (incidents.open_cases(session) if args.open else incidents.all_cases(session))
        exported = []
        for number, report in enumerate(cases, start=1):
            exported.append(await _case_data(incidents, session, report))
            if number % 50 == 0 or number == len(cases):
                say(f"{number:,} of {len(cases):,} cases read")
        await ctx.privacy.audit.append(
            session,
            actor=actor(),
            action="incident.exported",
            object_type="incident",
            detail={"cases": len(exported), "open_only": bool(args.open)},
        )
    descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump({"cases": exported}, handle, indent=2, ensure_ascii=False)
    say(f"Wrote {len(exported):,} case(s) to {out} (readable by you only). Delete it when done.")
    return 0


async def cases_release(ctx: Context, args: argparse.Namespace) -> int:
    """Release waiting anonymous reports into the case list, as the incident job does."""
    incidents = _incidents(ctx)
    async with unit_of_work(ctx.sessions) as session:
        counts = await incidents.release(session, today=today_in_london(), force=args.now)
        released = counts["released_reports"] + counts["released_messages"]
        if args.now:
            await ctx.privacy.audit.append(
                session,
                actor=actor(),
                action="incident.intake_released",
                object_type="incident",
                detail={"reports": counts["released_reports"], "messages": released},
            )
    if released:
        await forget_released(ctx.sessions.kw["bind"])
        say(
            f"Released {counts['released_reports']} anonymous report(s) and "
            f"{counts['released_messages']} message(s) into the case list. The bot's next "
            "incident sweep tells the case handlers."
        )
    else:
        # Neither whether nor how many anonymous items wait is said: read twice, that would
        # tell roughly when one was sent.
        say(
            "Nothing was due for release. Anonymous reports go into the case list in batches, "
            "or at the first run tomorrow; add --now to release whatever waits at once."
        )
    return 0


def add_commands(commands: argparse._SubParsersAction, settings: Callable[[], Settings]) -> None:  # type: ignore[type-arg]
    """Register `cases` on the top-level parser."""

    def runner(command: Any) -> Callable[[argparse.Namespace], int]:
        return lambda args: run(settings(), args, command)

    cases = commands.add_parser("cases", help=COMMANDS.help["cases"])
    sub = cases.add_subparsers(dest="cases_command", required=True, metavar="ACTION")
    listing = sub.add_parser("list", help="open cases, oldest first")
    listing.add_argument("--all", action="store_true", help="closed cases too")
    listing.set_defaults(handler=runner(cases_list))
    show = sub.add_parser("show", help="one case in full, as JSON")
    show.add_argument("reference", help="the case reference, e.g. ABCD-EFGH")
    show.set_defaults(handler=runner(cases_show))
    export = sub.add_parser("export", help="cases in full to a JSON file (mode 600)")
    export.add_argument("--out", required=True, help="the file to write")
    export.add_argument("--open", action="store_true", help="open cases only")
    export.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    export.set_defaults(handler=runner(cases_export))
    release = sub.add_parser(
        "release",
        help="release waiting anonymous reports into the case list, when due",
        description="Anonymous reports wait in an intake and are released in batches at "
        "random times, so the moment one reaches the case list says nothing about when it "
        "was sent (docs/incidents.md). This does what the incident job does.",
    )
    release.add_argument(
        "--now",
        action="store_true",
        help="release whatever is waiting, even a lone report sent minutes ago (audited); "
        "its release time then tells roughly when it was sent",
    )
    release.set_defaults(handler=runner(cases_release))
    _add_changes(sub, runner)
    add_pattern_commands(sub, runner, _incidents)


def _add_changes(sub: Any, runner: Callable[[Any], Callable[[argparse.Namespace], int]]) -> None:
    """`ack`, `triage`, `assign` and `close`: each as the case handler named by --as."""

    def change(name: str, what: case_commands.Change, help_text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = sub.add_parser(name, help=help_text)
        parser.add_argument("reference", help="the case reference, e.g. ABCD-EFGH")
        parser.add_argument(
            "--as",
            dest="acting_as",
            required=True,
            metavar="UPN_OR_OBJECT_ID",
            help="you: the case handler making the change (the role is checked)",
        )
        parser.set_defaults(
            handler=runner(lambda ctx, args: case_commands.run_change(ctx, args, what))
        )
        return parser

    change("ack", case_commands.acknowledge, "acknowledge a case (the reporter is told)")
    triage = change("triage", case_commands.triage, "record the risk and the classification")
    triage.add_argument("--risk", required=True, help="low, medium or high")
    triage.add_argument(
        "--classification", required=True, help="crime, incident or unclear (not yet clear)"
    )
    assign = change("assign", case_commands.assign, "make a case handler (or you) the handler")
    assign.add_argument(
        "--to", required=True, metavar="UPN_OR_OBJECT_ID", help="the case handler to assign"
    )
    close = change("close", case_commands.close, "close a case with an outcome")
    close.add_argument(
        "--outcome",
        required=True,
        help="resolved, no_further_action, referred_monitoring, referred_police, referred_hr "
        "or withdrawn (a referral needs the reporter's consent)",
    )
    close.add_argument("--note", default="", help="a closing note for the reporter (optional)")
