"""`edi-bot keys|roles|audit|retention`: the privacy core's operator commands.

Every command that changes something is written to the audit log as `cli:<os user>`.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import secrets
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cli.commands import PRIVACY
from bot.config import Settings
from bot.db import migrate
from bot.db.engine import create_engine, create_sessionmaker
from bot.db.models import AuditEntry
from bot.db.session import unit_of_work
from bot.features import FEATURES
from bot.privacy import rotation
from bot.privacy.audit import describe
from bot.privacy.core import PrivacyCore, build_privacy
from bot.privacy.keys import KEY_BYTES, KeyConfigError, encode_key, new_key_id
from bot.privacy.names_repo import label, names_of
from bot.privacy.retention import purge, retention_rules
from bot.privacy.roles import RoleError, grant_role, list_grants, parse_role, revoke_role


def say(line: str = "") -> None:
    """One line to the operator."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def actor() -> str:
    """Who ran this command, as the audit log records it."""
    try:
        return f"cli:{getpass.getuser()}"
    except OSError:
        return "cli:unknown"


@dataclass
class Context:
    """What a command needs: settings, sessions on a current schema, the privacy core."""

    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    privacy: PrivacyCore


Command = Callable[[Context, argparse.Namespace], Awaitable[int]]


def run(
    settings: Settings, args: argparse.Namespace, command: Command, *, scratch: bool = False
) -> int:
    """Open the database (refusing an old schema), build the privacy core, run `command`.

    `scratch` (a check that writes nothing, e.g. `roster import --dry-run`): on a database
    whose schema is behind or new, run against an empty scratch database instead, and say so.
    """

    async def go() -> int:
        try:
            privacy = build_privacy(settings)
        except KeyConfigError as error:
            say(f"edi-bot: {error}")
            return 2
        engine = create_engine(settings.database_url)
        try:
            if await migrate.is_current(engine):
                return await command(Context(settings, create_sessionmaker(engine), privacy), args)
            if not scratch:
                say("edi-bot: the database schema is behind; run `edi-bot db upgrade` first")
                return 2
        finally:
            await engine.dispose()
        say(
            "The database has no current schema yet (run `edi-bot db upgrade` before the real "
            "thing): checking against an empty database instead."
        )
        with tempfile.TemporaryDirectory(prefix="edi-bot-check-") as folder:
            empty = create_engine(f"sqlite+aiosqlite:///{Path(folder) / 'check.db'}")
            try:
                await migrate.upgrade(empty)
                return await command(Context(settings, create_sessionmaker(empty), privacy), args)
            finally:
                await empty.dispose()

    return asyncio.run(go())


# ---- keys --------------------------------------------------------------------------------


def keys_generate() -> int:
    """Print a new encryption key entry and a new pseudonym key."""
    say("# Put the new encryption key FIRST in EDI_ENCRYPTION_KEYS and keep the old ones")
    say("# after it until `edi-bot keys rotate` reports nothing left on them.")
    say(f"EDI_ENCRYPTION_KEYS={new_key_id()}:{encode_key(secrets.token_bytes(KEY_BYTES))}")
    say("# The pseudonym key is set once and never changed: changing it unlinks everyone")
    say("# from their declarations.")
    say(f"EDI_PSEUDONYM_KEY={encode_key(secrets.token_bytes(KEY_BYTES))}")
    return 0


async def keys_status(ctx: Context, args: argparse.Namespace) -> int:
    """How many values each key id holds, per encrypted column."""
    async with ctx.sessions() as session:
        usage = await rotation.key_usage(session, FEATURES)
    active = ctx.privacy.cipher.active_id
    say(f"active key: {active}; configured: {', '.join(ctx.privacy.keys.encryption)}")
    stale = 0
    for column, counts in usage.items():
        shown = ", ".join(f"{kid}: {count:,}" for kid, count in sorted(counts.items())) or "empty"
        say(f"{column}: {shown}")
        stale += sum(c for kid, c in counts.items() if kid != active)
    retirable = [
        kid
        for kid in ctx.privacy.keys.retired_ids
        if not any(kid in counts for counts in usage.values())
    ]
    if stale:
        say(f"{stale:,} values are not on the active key: run `edi-bot keys rotate`")
    if retirable:
        say(f"no value uses {', '.join(retirable)} any more: it can be removed from settings")
    return 0


async def keys_rotate(ctx: Context, args: argparse.Namespace) -> int:
    """Re-encrypt everything under the active key, with progress; safe to re-run."""
    cipher = ctx.privacy.cipher
    say(f"re-encrypting under key {cipher.active_id} in batches of {args.batch_size:,}")
    results = await rotation.rotate(
        ctx.sessions, cipher, FEATURES, batch_size=args.batch_size, progress=say
    )
    detail = {r.column: {"reencrypted": r.reencrypted, "skipped": r.skipped} for r in results}
    async with unit_of_work(ctx.sessions) as session:
        await ctx.privacy.audit.append(
            session,
            actor=actor(),
            action="keys.rotate",
            object_type="key",
            object_id=cipher.active_id,
            detail=detail,
        )
    for result in results:
        say(f"{result.column}: {result.reencrypted:,} re-encrypted, {result.skipped:,} skipped")
    skipped = sum(r.skipped for r in results)
    if skipped:
        say("some values were skipped: see `edi-bot keys status`; a re-run retries them")
    return 1 if skipped else 0


# ---- roles -------------------------------------------------------------------------------


async def roles_grant(ctx: Context, args: argparse.Namespace) -> int:
    """Give a person a role, and audit it."""
    role = parse_role(args.role)
    async with unit_of_work(ctx.sessions) as session:
        added = await grant_role(
            session, role=role, person=args.user, tenant_id=args.tenant, granted_by=actor()
        )
        if added:
            await ctx.privacy.audit.append(
                session,
                actor=actor(),
                action="roles.grant",
                object_type="person",
                object_id=args.user.strip().lower(),
                detail={"role": role.value},
            )
    say(f"{args.user} {'now holds' if added else 'already held'} the {role.value} role")
    return 0


async def roles_revoke(ctx: Context, args: argparse.Namespace) -> int:
    """Take a role from a person, and audit it."""
    role = parse_role(args.role)
    async with unit_of_work(ctx.sessions) as session:
        removed = await revoke_role(session, role=role, person=args.user)
        if removed:
            await ctx.privacy.audit.append(
                session,
                actor=actor(),
                action="roles.revoke",
                object_type="person",
                object_id=args.user.strip().lower(),
                detail={"role": role.value},
            )
    say(f"{args.user} {'no longer holds' if removed else 'did not hold'} the {role.value} role")
    return 0 if removed else 1


async def roles_list(ctx: Context, args: argparse.Namespace) -> int:
    """Everyone holding a role (bootstrap admins from settings included)."""
    role = parse_role(args.role) if args.role else None
    admins = ctx.settings.bootstrap_admins if role in (None, "admin") else []
    async with ctx.sessions() as session:
        grants = await list_grants(session, role=role)
        ids = [*admins, *(g.aad_object_id for g in grants if g.aad_object_id)]
        names = await names_of(session, ctx.privacy.cipher, ids)
    for admin in admins:
        say(f"admin         {label(names, admin)}  (EDI_BOOTSTRAP_ADMINS)")
    for grant in grants:
        who = label(names, grant.aad_object_id, grant.upn)
        pending = " (by UPN: binds when they next use the bot)" if not grant.aad_object_id else ""
        say(
            f"{grant.role.value:<13} {who}{pending}  granted {grant.granted_at:%Y-%m-%d} "
            f"by {grant.granted_by}"
        )
    if not grants and not ctx.settings.bootstrap_admins:
        say("nobody holds a role yet: `edi-bot roles grant admin USER` to start")
    return 0


# ---- audit and retention ------------------------------------------------------------------


async def audit_verify(ctx: Context, args: argparse.Namespace) -> int:
    """Walk the audit chain; exit 1 and list problems if any link is broken."""
    async with ctx.sessions() as session:
        problems = await ctx.privacy.audit.verify(session)
        count = (await session.execute(select(func.count(AuditEntry.id)))).scalar() or 0
    if problems:
        say(f"audit chain BROKEN ({len(problems)} problems in {count:,} entries):")
        for problem in problems:
            say(f"  {problem}")
        return 1
    say(f"audit chain intact: {count:,} entries")
    return 0


async def audit_show(ctx: Context, args: argparse.Namespace) -> int:
    """The newest entries."""
    async with ctx.sessions() as session:
        records = await ctx.privacy.audit.recent(session, limit=args.limit)
    for line in describe(records) or ["the audit log is empty"]:
        say(line)
    return 0


async def retention_purge(ctx: Context, args: argparse.Namespace) -> int:
    """Apply every retention rule now (the nightly job does the same)."""
    rules = retention_rules(ctx.settings, ctx.privacy.audit, FEATURES)
    for rule in rules:
        say(f"rule {rule.kind}: {rule.policy}")
    counts = await purge(ctx.sessions, rules, ctx.privacy.audit, actor=actor())
    say("deleted: " + ", ".join(f"{kind} {count:,}" for kind, count in counts.items()))
    return 0


def add_commands(commands: argparse._SubParsersAction, settings: Callable[[], Settings]) -> None:  # type: ignore[type-arg]
    """Register keys, roles, audit and retention on the top-level parser."""

    def runner(command: Command) -> Callable[[argparse.Namespace], int]:
        def handler(args: argparse.Namespace) -> int:
            try:
                return run(settings(), args, command)
            except RoleError as error:
                say(f"edi-bot: {error}")
                return 2

        return handler

    keys = commands.add_parser("keys", help=PRIVACY.help["keys"])
    keys_sub = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    keys_sub.add_parser("generate", help="print new key settings").set_defaults(
        handler=lambda _: keys_generate()
    )
    keys_sub.add_parser("status", help="values per key id").set_defaults(
        handler=runner(keys_status)
    )
    rotate = keys_sub.add_parser("rotate", help="re-encrypt everything under the active key")
    rotate.add_argument("--batch-size", type=int, default=500, help="rows per transaction")
    rotate.set_defaults(handler=runner(keys_rotate))

    roles = commands.add_parser("roles", help=PRIVACY.help["roles"])
    roles_sub = roles.add_subparsers(dest="roles_command", required=True, metavar="ACTION")
    grant = roles_sub.add_parser("grant", help="give USER (object id or UPN) a ROLE")
    grant.add_argument("role")
    grant.add_argument("user")
    grant.add_argument("--tenant", help="limit the grant to one tenant id")
    grant.set_defaults(handler=runner(roles_grant))
    revoke = roles_sub.add_parser("revoke", help="take a ROLE from USER")
    revoke.add_argument("role")
    revoke.add_argument("user")
    revoke.set_defaults(handler=runner(roles_revoke))
    listing = roles_sub.add_parser("list", help="everyone holding a role")
    listing.add_argument("role", nargs="?")
    listing.set_defaults(handler=runner(roles_list))

    audit = commands.add_parser("audit", help=PRIVACY.help["audit"])
    audit_sub = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    audit_sub.add_parser("verify", help="check the hash chain").set_defaults(
        handler=runner(audit_verify)
    )
    show = audit_sub.add_parser("show", help="the newest entries")
    show.add_argument("--limit", type=int, default=50)
    show.set_defaults(handler=runner(audit_show))

    retention = commands.add_parser("retention", help=PRIVACY.help["retention"])
    retention_sub = retention.add_subparsers(
        dest="retention_command", required=True, metavar="ACTION"
    )
    retention_sub.add_parser("purge", help="delete everything past its retention").set_defaults(
        handler=runner(retention_purge)
    )
    add_person_commands(commands, runner)


# ---- a person's data (subject access and erasure) ----------------------------------------


async def person_export(ctx: Context, args: argparse.Namespace) -> int:
    """Everything held about one person, as JSON (for a subject access request)."""
    from bot.privacy.subject_access import export_person

    async with unit_of_work(ctx.sessions) as session:
        found = await export_person(
            session,
            ctx.privacy,
            FEATURES,
            tenant_id=args.tenant,
            aad_object_id=args.aad_object_id,
            upn=args.upn,
        )
        await ctx.privacy.audit.append(
            session,
            actor=actor(),
            action="person.export",
            object_type="pseudonym",
            object_id=found["pseudonym"],
            detail={"sections": sorted(found)},
        )
    say(json.dumps(found, indent=2, default=str))
    return 0


async def person_erase(ctx: Context, args: argparse.Namespace) -> int:
    """Delete what is held about one person; the audit keeps only counts and a pseudonym."""
    from bot.privacy.subject_access import erase_person

    if not args.yes:
        say("this deletes the person's data for good; run again with --yes to confirm")
        return 2
    async with unit_of_work(ctx.sessions) as session:
        counts, pseudonym = await erase_person(
            session,
            ctx.privacy,
            FEATURES,
            tenant_id=args.tenant,
            aad_object_id=args.aad_object_id,
            upn=args.upn,
        )
        await ctx.privacy.audit.append(
            session,
            actor=actor(),
            action="person.erase",
            object_type="pseudonym",
            object_id=pseudonym,
            detail=counts,
        )
    say("deleted: " + ", ".join(f"{kind} {count:,}" for kind, count in counts.items()))
    return 0


def add_person_commands(commands: argparse._SubParsersAction, runner: Any) -> None:  # type: ignore[type-arg]
    """Register `edi-bot person export|erase`."""
    person = commands.add_parser("person", help=PRIVACY.help["person"])
    person_sub = person.add_subparsers(dest="person_command", required=True, metavar="ACTION")
    for name, handler, text in (
        ("export", person_export, "print everything held about a person, as JSON"),
        ("erase", person_erase, "delete everything held about a person"),
    ):
        parser = person_sub.add_parser(name, help=text)
        parser.add_argument("aad_object_id", help="the person's Entra object id")
        parser.add_argument("--tenant", required=True, help="the person's tenant id")
        parser.add_argument(
            "--upn",
            help="their UPN too: roles granted to it that they have not used yet are included",
        )
        if name == "erase":
            parser.add_argument("--yes", action="store_true", help="confirm the deletion")
        parser.set_defaults(handler=runner(handler))
