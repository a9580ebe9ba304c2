"""`edi-bot cases patterns status|find|forget|purge`: the pattern check's entries, for the
DPO and the case team's operators.

- `find`: a named person's subject access. Their directory id (or a name) gives the hash, and
  so the entries that name them: the day each was made, whether it was part of an alert,
  and its report. What to tell them is the DPO's decision (docs/privacy.md).
- `forget`: delete the entries naming someone, or a report's entry (an erasure the DPO has
  upheld, or a reporter taking back their consent).
- `purge`: delete every entry (the check turned off for good).

Every use is audited, with counts only; a person searched for by directory id is named by
their pseudonym, as `person export` does.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from bot.cli.privacy import Context, actor, say
from bot.core.people import PersonKey
from bot.db.session import unit_of_work
from bot.incidents import pattern_repo
from bot.incidents.models import IncidentPatternCheck
from bot.incidents.patterns import DIRECTORY, TYPED, is_directory_id, person_hash
from bot.incidents.references import find_reference
from bot.incidents.service import Incidents

Build = Callable[[Context], Incidents]


async def _entries(
    incidents: Incidents, session: Any, args: argparse.Namespace, tenant: str | None
) -> list[tuple[IncidentPatternCheck, str | None]]:
    """The entries the arguments name, with their report's reference."""
    found = [(e, incidents.opened_reference(e)) for e in await pattern_repo.every_check(session)]
    if getattr(args, "report", None):
        wanted_reference = find_reference(args.report)
        return [(entry, ref) for entry, ref in found if ref == wanted_reference]
    if getattr(args, "person", None) or getattr(args, "name", None):
        kind, value = (DIRECTORY, args.person) if args.person else (TYPED, args.name)
        wanted = person_hash(incidents.patterns.key, kind=kind, tenant_id=tenant or "", value=value)
        return [(entry, ref) for entry, ref in found if entry.person_hash == wanted]
    return found


def _problem(ctx: Context, args: argparse.Namespace, words: dict[str, str]) -> str | None:
    """Why the arguments can't be used, if they can't."""
    if getattr(args, "person", None) and not is_directory_id(args.person):
        return words["not_a_directory_id"].format(given=args.person)
    if getattr(args, "report", None) and find_reference(args.report) is None:
        return words["not_a_reference"].format(given=args.report)
    if (getattr(args, "person", None) or getattr(args, "name", None)) and not _tenant(ctx, args):
        return words["no_tenant"]
    return None


def _tenant(ctx: Context, args: argparse.Namespace) -> str | None:
    if getattr(args, "tenant", None):
        return str(args.tenant)
    allowed = ctx.settings.allowed_tenants
    return allowed[0] if len(allowed) == 1 else (ctx.settings.app_tenant_id or None)


async def patterns_status(ctx: Context, args: argparse.Namespace, build: Build) -> int:
    """How many entries are kept, and how many were part of an alert."""
    incidents = build(ctx)
    words = incidents.pattern_words["command_line"]
    async with unit_of_work(ctx.sessions) as session:
        total, alerted = await pattern_repo.count_checks(session)
        await ctx.privacy.audit.append(
            session,
            actor=actor(),
            action="incident.patterns_counted",
            object_type="incident",
            detail={"entries": total, "alerted": alerted},
        )
    state = words["on"] if incidents.patterns.enabled else words["off"]
    say(words["status"].format(state=state, total=total, alerted=alerted))
    return 0


async def patterns_find(ctx: Context, args: argparse.Namespace, build: Build) -> int:
    """The entries naming a person (directory id or name), one line each."""
    incidents = build(ctx)
    words = incidents.pattern_words["command_line"]
    problem = _problem(ctx, args, words)
    if problem:
        say(f"edi-bot: {problem}")
        return 2
    tenant = _tenant(ctx, args)
    async with unit_of_work(ctx.sessions) as session:
        entries = await _entries(incidents, session, args, tenant)
        await ctx.privacy.audit.append(
            session,
            actor=actor(),
            action="incident.patterns_searched",
            object_type="person",
            object_id=_searched(ctx, args, tenant),
            detail={"entries": len(entries), "by": "directory id" if args.person else "name"},
        )
    for entry, reference in entries:
        alerted = words["alerted"] if entry.alerted else words["not_alerted"]
        say(f"{reference or words['unreadable']}  {entry.created_on.isoformat()}  {alerted}")
    say(words["found"].format(count=len(entries)))
    return 0


def _searched(ctx: Context, args: argparse.Namespace, tenant: str | None) -> str | None:
    """Who was searched for, as the audit log names a person: their pseudonym (none for a
    typed name, which names nobody for certain)."""
    if not args.person or not tenant:
        return None
    return ctx.privacy.pseudonyms.of(PersonKey(tenant, args.person.strip().lower()))


async def patterns_forget(ctx: Context, args: argparse.Namespace, build: Build) -> int:
    """Delete the entries naming a person, or a report's entry (with --yes)."""
    incidents = build(ctx)
    words = incidents.pattern_words["command_line"]
    problem = _problem(ctx, args, words)
    if problem:
        say(f"edi-bot: {problem}")
        return 2
    async with unit_of_work(ctx.sessions) as session:
        entries = await _entries(incidents, session, args, _tenant(ctx, args))
        if not args.yes:
            say(words["would_forget"].format(count=len(entries)))
            return 0
        deleted = await pattern_repo.delete_checks(session, ids=[e.id for e, _ in entries])
        await ctx.privacy.audit.append(
            session,
            actor=actor(),
            action="incident.patterns_forgotten",
            object_type="person" if args.person else "incident",
            object_id=_searched(ctx, args, _tenant(ctx, args)) or find_reference(args.report or ""),
            detail={"entries": deleted},
        )
    say(words["forgotten"].format(count=deleted))
    return 0


async def patterns_purge(ctx: Context, args: argparse.Namespace, build: Build) -> int:
    """Delete every entry (with --yes)."""
    incidents = build(ctx)
    words = incidents.pattern_words["command_line"]
    async with unit_of_work(ctx.sessions) as session:
        entries = await pattern_repo.every_check(session)
        if not args.yes:
            say(words["would_purge"].format(count=len(entries)))
            return 0
        deleted = await pattern_repo.delete_checks(session, ids=[e.id for e in entries])
        await ctx.privacy.audit.append(
            session,
            actor=actor(),
            action="incident.patterns_purged",
            object_type="incident",
            detail={"entries": deleted},
        )
    say(words["purged"].format(count=deleted))
    return 0


def add_pattern_commands(
    sub: Any, runner: Callable[[Any], Callable[[argparse.Namespace], int]], build: Build
) -> None:
    """`cases patterns ...` under `cases`."""
    patterns = sub.add_parser(
        "patterns",
        help="pattern-check entries: count, find or forget those naming someone, purge",
        description="A report whose reporter asked for a pattern check keeps a keyed hash of "
        "who they named (docs/incidents.md, 'Patterns across reports'). These commands serve "
        "the named person's rights (docs/privacy.md). Audited.",
    )
    actions = patterns.add_subparsers(dest="patterns_command", required=True, metavar="ACTION")

    def command(name: str, what: Any, help_text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = actions.add_parser(name, help=help_text)
        parser.set_defaults(handler=runner(lambda ctx, args: what(ctx, args, build)))
        return parser

    command("status", patterns_status, "how many entries are kept, and how many matched")
    find = command("find", patterns_find, "the entries naming a person (subject access)")
    forget = command("forget", patterns_forget, "delete the entries naming a person, or a report's")
    for parser in (find, forget):
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--person", metavar="OBJECT_ID", help="their Entra object id")
        who.add_argument("--name", help="a typed name, as a reporter might have typed it")
        if parser is forget:
            who.add_argument("--report", metavar="REFERENCE", help="a report's entry")
        parser.add_argument("--tenant", help="their tenant id (default: the only allowed)")
    forget.add_argument("--yes", action="store_true", help="delete (otherwise only count)")
    purge = command("purge", patterns_purge, "delete every entry (the check ended for good)")
    purge.add_argument("--yes", action="store_true", help="delete (otherwise only count)")
