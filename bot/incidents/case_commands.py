"""`edi-bot cases ack|triage|assign|close`: a case handler's changes from the command line.

Each names the acting case handler (`--as`, a UPN or Entra object id), checks they hold the
role, and makes the change through the same service call as the chat's button, so it is
written to the case history and the audit log exactly as in Teams (under the handler's
identity, with `via: cli:<os user>` added). Each prints one line; every refusal is one
"edi-bot: ..." line and a non-zero exit (1: the case or person; 2: what was typed).
Nothing here prints a narrative or anything about the reporter.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.privacy import Context, actor, say
from bot.core.clock import today_in_london
from bot.core.content import Content
from bot.db.session import unit_of_work
from bot.incidents.models import IncidentReport
from bot.incidents.records import Person, ReportError
from bot.incidents.references import find_reference
from bot.incidents.service import Incidents
from bot.outbox.queue import Outbox
from bot.privacy.roles import RoleError


class Refused(Exception):
    """A change that cannot be made, with the line to show and the exit code."""

    def __init__(self, line: str, code: int = 1, *, refused_role: bool = False) -> None:
        super().__init__(line)
        self.line = line
        self.code = code
        self.refused_role = refused_role  # audited as the chat's refusals are


@dataclass(frozen=True)
class Acting:
    """One change in progress: the service, the open case, the handler and today."""

    incidents: Incidents
    session: AsyncSession
    report: IncidentReport
    handler: Person
    words: dict[str, Any]

    def say(self, key: str, **fields: Any) -> str:
        """The command line's line `key`, filled in."""
        return str(self.words[key]).format(reference=self.report.reference, **fields)


Change = Callable[[Acting, argparse.Namespace], Awaitable[str]]


def _tenant(ctx: Context) -> str:
    """The tenant a handler granted the role without one is taken to be in (as the terminal
    chat claims it)."""
    settings = ctx.settings
    return settings.app_tenant_id or next(iter(settings.allowed_tenants), "") or "terminal"


async def run_change(ctx: Context, args: argparse.Namespace, change: Change) -> int:
    """Find the case and the handler, refuse what cannot be done, make `change` in one
    transaction and print its line."""
    content = Content(ctx.settings.content_dir)
    incidents = Incidents(
        content=content,
        cipher=ctx.privacy.cipher,
        audit=ctx.privacy.audit,
        pseudonyms=ctx.privacy.pseudonyms,
        outbox=Outbox(ctx.privacy.cipher),
        token_key=ctx.privacy.keys.pseudonym,
    )
    words: dict[str, Any] = incidents.words["cases"]["command_line"]
    try:
        reference = find_reference(args.reference)
        if reference is None:
            raise Refused(words["not_a_reference"].format(given=repr(args.reference)), 2)
        async with unit_of_work(ctx.sessions) as session:
            handler = await _handler(ctx, incidents, session, args.acting_as, words)
            report = await incidents.by_reference(session, reference)
            if report is None:
                raise Refused(words["no_case"].format(reference=reference))
            acting = Acting(incidents, session, report, handler, words)
            if report.status == "closed":
                raise Refused(acting.say("already_closed"))
            done = await change(acting, args)
    except Refused as refused:
        if refused.refused_role:
            async with unit_of_work(ctx.sessions) as session:
                await ctx.privacy.audit.append(
                    session,
                    actor=actor(),
                    action="access.refused",
                    object_type="feature",
                    object_id="cases",
                    detail={"role_needed": "case_handler"},
                )
        say(f"edi-bot: {refused.line}")
        return refused.code
    except ReportError as problem:
        say(f"edi-bot: {problem}")
        return 1
    say(done)
    return 0


async def _handler(
    ctx: Context, incidents: Incidents, session: AsyncSession, who: str, words: dict[str, Any]
) -> Person:
    """The case handler `--as` names; refused if they are not one."""
    try:
        handler = await incidents.handler_named(session, who, tenant_id=_tenant(ctx), via=actor())
    except RoleError as error:
        raise Refused(str(error), 2) from None
    if handler is None:
        raise Refused(words["not_a_handler"].format(who=who.strip()), refused_role=True)
    return handler


def _choice(acting: Acting, option: str, listed: str, given: str) -> str:
    """`given`, if it is one of the case words' list `listed`; else refused, naming them."""
    choices = [str(o["id"]) for o in acting.incidents.words["cases"][listed]]
    if given not in choices:
        line = acting.words["bad_option"].format(option=option, choices=", ".join(choices))
        raise Refused(line, 2)
    return given


def _told(acting: Acting, told: bool) -> str:
    cases = acting.incidents.words["cases"]
    return str(cases["told_yes"] if told else cases["told_no"])


async def acknowledge(acting: Acting, args: argparse.Namespace) -> str:
    """`cases ack REF`: as the chat's Acknowledge."""
    report = acting.report
    if report.acknowledged_on:
        day = report.acknowledged_on.strftime("%-d %B %Y")
        raise Refused(acting.say("already_acknowledged", day=day))
    done = await acting.incidents.acknowledge(
        acting.session, report, by=acting.handler, today=today_in_london()
    )
    if not done:
        raise Refused(acting.say("changed_meanwhile"))
    return acting.say("acknowledged", told=_told(acting, report.mode != "anonymous"))


async def triage(acting: Acting, args: argparse.Namespace) -> str:
    """`cases triage REF --risk R --classification C`: as the chat's triage form."""
    risk = _choice(acting, "--risk", "risk", args.risk.strip().lower())
    kind = _choice(acting, "--classification", "classification", args.classification.lower())
    done = await acting.incidents.triage(
        acting.session,
        acting.report,
        risk=risk,
        classification=kind,
        by=acting.handler,
        today=today_in_london(),
    )
    if not done:
        raise Refused(acting.say("changed_meanwhile"))
    label = acting.incidents.taxonomy.label
    return acting.say(
        "triaged", risk=label("risk", risk).lower(), classification=label("classification", kind)
    )


async def assign(acting: Acting, args: argparse.Namespace) -> str:
    """`cases assign REF --to WHO`: as the chat's Assign to me / to a colleague."""
    incidents, words = acting.incidents, acting.words
    tenant = acting.handler.key.tenant_id
    try:
        to = await incidents.handler_named(acting.session, args.to, tenant_id=tenant)
    except RoleError as error:
        raise Refused(str(error), 2) from None
    if to is None:
        raise Refused(words["not_a_handler"].format(who=args.to.strip()))
    assigned = await incidents.assign(
        acting.session, acting.report, to=to, by=acting.handler, today=today_in_london()
    )
    if not assigned.done:
        raise Refused(acting.say("changed_meanwhile"))
    if to.key == acting.handler.key:
        return acting.say("taken")
    cases = incidents.words["cases"]
    said = words["assigned"] if assigned.told else cases["assigned_unreachable"]
    return " ".join(said.format(name=to.name, reference=acting.report.reference).split())


async def close(acting: Acting, args: argparse.Namespace) -> str:
    """`cases close REF --outcome O [--note TEXT]`: as the chat's close form."""
    outcome = _choice(acting, "--outcome", "outcomes", args.outcome.strip().lower())
    note = (args.note or "").strip()
    limit = acting.incidents.taxonomy.limits["note_chars"]
    if len(note) > limit:
        raise Refused(acting.say("note_too_long", length=f"{len(note):,}", limit=f"{limit:,}"), 2)
    report = acting.report
    done = await acting.incidents.close(
        acting.session,
        report,
        outcome=outcome,
        note=note,
        by=acting.handler,
        today=today_in_london(),
    )
    if not done:
        raise Refused(acting.say("changed_meanwhile"))
    return acting.say(
        "closed",
        outcome=acting.incidents.taxonomy.label("outcome", outcome),
        told=_told(acting, report.mode != "anonymous"),
    )
