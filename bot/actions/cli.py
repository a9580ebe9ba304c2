"""`edi-bot actions validate|list|show|progress|report` and `edi-bot leads assign|list|remove`.

`validate` and `list` read only the plan files; the others open the database. Lead
changes are audited as `cli:<os user>`.
"""

from __future__ import annotations

import argparse
import asyncio
import re
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.actions import repo
from bot.actions.deadlines import AnnualReview
from bot.actions.feature import COMMANDS
from bot.actions.plans import Action, Plan, Plans, load_plans, plans_directory, team_key
from bot.actions.progress import plan_statuses, status_of, summary_counts
from bot.actions.records import LeadIndex
from bot.actions.repo import ACTION, NOT_MINE, TEAM
from bot.actions.report import Report, render_report, report_context
from bot.actions.service import ActionsService
from bot.cli.privacy import Command, Context, actor, run, say
from bot.config import Settings
from bot.core.content import Content
from bot.db.session import unit_of_work
from bot.outbox.queue import Outbox
from bot.privacy.names_repo import names_of
from bot.privacy.roles import RoleError, parse_person


def _plans(settings: Settings) -> Plans:
    return load_plans(
        plans_directory(settings.content_dir),
        annual=AnnualReview.parse(settings.actions_annual_review),
    )


def _state_of(plan: Plan) -> str:
    """How a plan's heading line ends: "" for an active plan, "(closed on ...)" otherwise."""
    return f" (closed on {plan.closed_on:%-d %B %Y}: not nudged)" if plan.closed_on else ""


def _service(ctx: Context) -> ActionsService:
    return ActionsService(
        content=Content(ctx.settings.content_dir),
        settings=ctx.settings,
        outbox=Outbox(ctx.privacy.cipher),
        audit=ctx.privacy.audit,
        sessions=ctx.sessions,
    )


def actions_validate(settings: Settings, args: argparse.Namespace) -> int:
    """Check every plan file: errors (exit 1) and notes waiting for confirmation."""
    plans = _plans(settings)
    for plan in plans.plans.values():
        dated = sum(1 for a in plan.actions.values() if a.deadline is not None)
        say(
            f"{plan.id}: {plan.title} ({plan.source.name}): {len(plan.actions)} actions, "
            f"{dated} with deadlines the bot understands{_state_of(plan)}"
        )
    for problem in plans.problems:
        say(f"  {problem}")
    errors = len(plans.errors)
    confirm = len(plans.problems) - errors
    say(f"{errors} error(s), {confirm} item(s) to confirm with the policy team")
    return 1 if errors else 0


def actions_list(settings: Settings, args: argparse.Namespace) -> int:
    """Every action: number, deadline as written and as read, lead teams."""
    plans = _plans(settings)
    chosen = [plans.plan(args.plan)] if args.plan else list(plans.plans.values())
    if args.plan and chosen[0] is None:
        say(f"no plan {args.plan!r}; plans: {', '.join(plans.plans)}")
        return 2
    for plan in chosen:
        assert plan is not None
        say(f"{plan.id}: {plan.title}{_state_of(plan)}")
        for action in plan.actions.values():
            reading = action.deadline.describe if action.deadline else "NOT UNDERSTOOD"
            say(f"  {action.number:<5} {action.text[:70]}")
            say(f"        by: {action.deadline_text or '(none)'} → {reading}")
            say(f"        lead: {'; '.join(action.leads)}")
    return 0


async def _names(session: AsyncSession, ctx: Context, index: LeadIndex) -> dict[str, str]:
    """The display names Teams last showed for the leads, by object id."""
    return await names_of(session, ctx.privacy.cipher, index.resolved.values())


def _person(index: LeadIndex, names: dict[str, str], person: str) -> str:
    """A lead as operators read them: "Sam Patel (sam@council.example)", or as assigned
    (a UPN or an object id) while the bot has not seen their name."""
    aad = index.resolved.get(person, person).lower()
    name = names.get(aad)
    return f"{name} ({person})" if name else person


def _action_arg(plans: Plans, text: str) -> Action | None:
    plan_id, _, number = text.replace(" ", "/").partition("/")
    return plans.action(plan_id, number) if number else None


async def actions_show(ctx: Context, args: argparse.Namespace) -> int:
    """One action: as written, its milestones, who leads it, its status and updates."""
    service = _service(ctx)
    action = _action_arg(service.plans, args.action)
    if action is None:
        say(f"no action {args.action!r}; name it as PLAN/NUMBER, e.g. 2022-23/4.1")
        return 2
    plan = service.plans.plans[action.plan]
    today = plan.as_of(service.today())
    async with ctx.sessions() as session:
        index = await service.lead_index(session)
        names = await _names(session, ctx, index)
        states = await repo.action_states(session, plan=action.plan)
    status = status_of(action, states.get((action.plan, action.number)), today=today)
    say(f"{action.plan} action {action.number} (objective {action.objective}){_state_of(plan)}")
    say(f"  {action.text}")
    say(f"  lead teams: {'; '.join(action.leads)}")
    people = sorted(_person(index, names, p) for p in index.named_for(action))
    say(f"  people: {', '.join(people) if people else 'nobody assigned yet'}")
    say(f"  deadline: {action.deadline_text or '(none)'}")
    if action.deadline is not None:
        horizon = max(today, action.deadline.starts.replace(year=action.deadline.starts.year + 1))
        shown = action.deadline.milestones_until(horizon)[-6:]
        say(f"  read as: {action.deadline.describe}")
        say("  milestones: " + ", ".join(f"{m.on:%d %b %Y}" for m in shown))
    for measure in action.success_measures:
        say(f"  success measure: {measure}")
    if action.confirm:
        say(f"  to confirm: {action.confirm}")
    say(f"  status: {service.words['statuses'][status.status]}")
    if status.overdue_since is not None:
        say(f"  overdue: was due on {status.overdue_since.on:%A %-d %B %Y}, not done")
    return 0


async def actions_progress(ctx: Context, args: argparse.Namespace) -> int:
    """The RAG summary of a plan (default: the nudged plans), and what is overdue."""
    service = _service(ctx)
    plan_ids = [args.plan] if args.plan else service.nudged_plans or list(service.plans.plans)
    today = service.today()
    async with ctx.sessions() as session:
        states = await repo.action_states(session)
    labels = service.words["statuses"]
    for plan_id in plan_ids:
        plan = service.plans.plan(plan_id)
        if plan is None:
            say(f"no plan {plan_id!r}")
            return 2
        statuses = plan_statuses(plan, states, today=today)
        counts = summary_counts(statuses)
        on = plan.as_of(today)
        say(f"{plan.id}: {plan.title} on {on:%d %b %Y}{_state_of(plan)}")
        say(
            "  "
            + ", ".join(
                f"{labels[name]} {counts[name]}"
                for name in ("done", "green", "amber", "red", "no_update")
            )
            + f"; overdue {counts['overdue']} of {counts['total']}"
        )
        for status in statuses:
            flag = (
                f"  OVERDUE since {status.overdue_since.on:%d %b %Y}"
                if status.overdue_since
                else ""
            )
            say(f"  {status.action.number:<5} {labels[status.status]:<14}{flag}")
    return 0


async def actions_report(ctx: Context, args: argparse.Namespace) -> int:
    """Draft the annual progress report (report.md and report.html) into --out."""
    service = _service(ctx)
    plan = service.plans.plan(args.year)
    if plan is None:
        say(f"no plan {args.year!r}; plans: {', '.join(service.plans.plans)}")
        return 2
    today = service.today()
    async with ctx.sessions() as session:
        states = await repo.action_states(session, plan=plan.id)
    statuses = plan_statuses(plan, states, today=today)
    context = report_context(
        plan, statuses, today=today, words=service.words, problems=service.plans.problems
    )
    report = render_report(ctx.settings.content_dir / "actions", context)
    out = Path(args.out)
    await asyncio.to_thread(_write, out, plan.id, report)
    counts = summary_counts(statuses)
    say(
        f"wrote {out / f'progress-{plan.id}.md'} and .html: {counts['total']} actions, "
        f"{counts['done']} done, {counts['overdue']} overdue"
    )
    return 0


def _write(out: Path, plan_id: str, report: Report) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / f"progress-{plan_id}.md").write_text(report.markdown, encoding="utf-8")
    (out / f"progress-{plan_id}.html").write_text(report.html, encoding="utf-8")


# ---- leads ----------------------------------------------------------------------------------


def _scope(service: ActionsService, args: argparse.Namespace) -> tuple[str, str] | str:
    """(kind, scope) from --team / --action, or a sentence saying what is wrong."""
    if bool(args.team) == bool(args.action):
        return 'name either --team "TEAM" (as the plan writes it) or --action PLAN/NUMBER'
    if args.action:
        action = _action_arg(service.plans, args.action)
        if action is None:
            return f"no action {args.action!r}; name it as PLAN/NUMBER, e.g. 2022-23/4.1"
        return ACTION, action.key
    teams = service.plans.teams()
    key = team_key(args.team)
    if key not in teams:
        words = set(_words(key))
        close = [name for k, name in sorted(teams.items()) if words & set(_words(k))]
        hint = f"; did you mean: {' | '.join(close[:6])}" if close else ""
        return f"no lead team {args.team!r} in the plans{hint}"
    return TEAM, key


_COMMON_WORDS = frozenset({"and", "team", "dept", "group", "all"})


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[\s/,]+", text) if w and w not in _COMMON_WORDS]


async def leads_assign(ctx: Context, args: argparse.Namespace) -> int:
    """Make USER a lead of a team or an action (and give them the action_lead role)."""
    service = _service(ctx)
    scope = _scope(service, args)
    if isinstance(scope, str):
        say(f"edi-bot: {scope}")
        return 2
    parse_person(args.user)
    async with unit_of_work(ctx.sessions) as session:
        added = await service.assign(
            session,
            scope_kind=scope[0],
            scope=scope[1],
            person=args.user,
            tenant_id=args.tenant,
            by=actor(),
        )
        if scope[0] == ACTION:
            # Assigned by an admin after "not mine": their nudges for it resume.
            await repo.remove_lead(
                session, scope_kind=NOT_MINE, scope=scope[1], person=args.user.strip().lower()
            )
    what = f"{scope[0]} {args.team or scope[1]}"
    say(f"{args.user} {'now leads' if added else 'already led'} {what}")
    return 0


async def leads_remove(ctx: Context, args: argparse.Namespace) -> int:
    """Take USER off a team or an action."""
    service = _service(ctx)
    scope = _scope(service, args)
    if isinstance(scope, str):
        say(f"edi-bot: {scope}")
        return 2
    who = args.user.strip().lower()
    async with unit_of_work(ctx.sessions) as session:
        removed = await repo.remove_lead(session, scope_kind=scope[0], scope=scope[1], person=who)
        if removed:
            await ctx.privacy.audit.append(
                session,
                actor=actor(),
                action="actions.lead_removed",
                object_type="person",
                object_id=who,
                detail={"scope": scope[0]},
            )
    say(f"{args.user} {'no longer leads' if removed else 'did not lead'} {args.team or scope[1]}")
    return 0 if removed else 1


async def leads_list(ctx: Context, args: argparse.Namespace) -> int:
    """Every lead team with its people, teams nobody leads yet, and action assignments."""
    service = _service(ctx)
    async with ctx.sessions() as session:
        index = await service.lead_index(session)
        names = await _names(session, ctx, index)

    def shown(people: set[str]) -> str:
        return ", ".join(sorted(_person(index, names, p) for p in people))

    for key, name in sorted(service.plans.teams().items()):
        people = index.teams.get(key, set())
        say(f"{name}: {shown(people) if people else '(nobody yet)'}")
    for scope, named in sorted(index.actions.items()):
        say(f"action {scope}: {shown(named)}")
    for scope, named in sorted(index.not_mine.items()):
        say(f"action {scope}: said not theirs: {shown(named)}")
    unreachable = {
        p for group in (index.teams, index.actions) for s in group.values() for p in s
    } - {p for p, aad in index.resolved.items() if aad in index.reachable}
    if unreachable:
        say(
            f"{len(unreachable)} of these cannot be reached yet (they have not used the bot, "
            'or were named by UPN and have not opened "my actions")'
        )
    return 0


def add_commands(commands: argparse._SubParsersAction, settings: Callable[[], Settings]) -> None:  # type: ignore[type-arg]
    """Register `edi-bot actions ...` and `edi-bot leads ...`."""
    actions = commands.add_parser("actions", help=COMMANDS.help["actions"])
    sub = actions.add_subparsers(dest="actions_command", required=True, metavar="ACTION")
    sub.add_parser("validate", help="check content/actions/plans/*.yaml").set_defaults(
        handler=lambda args: actions_validate(settings(), args)
    )
    listing = sub.add_parser("list", help="every action with its deadline and leads")
    listing.add_argument("--plan", help="one plan, e.g. 2022-23")
    listing.set_defaults(handler=lambda args: actions_list(settings(), args))
    show = sub.add_parser("show", help="one action, e.g. 2022-23/4.1")
    show.add_argument("action")
    show.set_defaults(handler=lambda args: run(settings(), args, actions_show))
    progress = sub.add_parser("progress", help="the RAG summary of a plan")
    progress.add_argument("--plan", help="default: the nudged plans (EDI_ACTIONS_NUDGE_PLANS)")
    progress.set_defaults(handler=lambda args: run(settings(), args, actions_progress))
    report = sub.add_parser("report", help="draft the annual progress report (Markdown, HTML)")
    report.add_argument("--year", required=True, help="the plan, e.g. 2022-23")
    report.add_argument("--out", required=True, help="directory to write the report into")
    report.set_defaults(handler=lambda args: run(settings(), args, actions_report))

    leads = commands.add_parser("leads", help=COMMANDS.help["leads"])
    leads_sub = leads.add_subparsers(dest="leads_command", required=True, metavar="ACTION")
    for name, text, handler in (
        ("assign", "make USER (object id or UPN) a lead", leads_assign),
        ("remove", "take USER off a team or action", leads_remove),
    ):
        parser = leads_sub.add_parser(name, help=text)
        parser.add_argument("user")
        parser.add_argument("--team", help='a lead team as the plan writes it, e.g. "HR/BI"')
        parser.add_argument("--action", help="one action, e.g. 2022-23/4.1")
        if name == "assign":
            parser.add_argument("--tenant", help="the person's tenant id")
        parser.set_defaults(handler=_runner(settings, handler))
    leads_sub.add_parser("list", help="every lead team and its people").set_defaults(
        handler=_runner(settings, leads_list)
    )


def _runner(
    settings: Callable[[], Settings], command: Command
) -> Callable[[argparse.Namespace], int]:
    def handler(args: argparse.Namespace) -> int:
        try:
            return run(settings(), args, command)
        except RoleError as error:
            say(f"edi-bot: {error}")
            return 2

    return handler
