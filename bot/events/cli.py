"""`edi-bot events create|edit|cancel|list|attendees|load|organisers`: events from the shell.

Everything is audited as `cli:<operator>`. Times are UK time, "YYYY-MM-DD HH:MM".
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

from bot.cli.privacy import Context, actor, run, say
from bot.config import Settings
from bot.core.content import Content, ContentError
from bot.db.session import unit_of_work
from bot.events.feature import COMMANDS
from bot.events.files import event_files, read_event_file
from bot.events.networks import BIG_CONVERSATION
from bot.events.records import EventDraft, EventError, local_text, parse_local
from bot.events.service import EventService, build_event_service
from bot.outbox.queue import Outbox


def _service(ctx: Context) -> EventService:
    return build_event_service(
        ctx.settings, Content(ctx.settings.content_dir), ctx.privacy, Outbox(ctx.privacy.cipher)
    )


def _problems(problems: list[str]) -> int:
    for problem in problems:
        say(f"  - {problem}")
    say("nothing was saved")
    return 1


def _draft_from(args: argparse.Namespace, base: EventDraft | None) -> EventDraft:
    """A draft from the options given, over `base` (edit) or from scratch (create)."""
    values: dict[str, Any] = {}
    for option, field in (
        ("title", "title"),
        ("description", "description"),
        ("place", "location"),
        ("online_url", "online_url"),
        ("accessibility", "accessibility"),
        ("capacity", "capacity"),
    ):
        given = getattr(args, option)
        if given is not None:
            values[field] = given
    if args.network is not None:
        big = args.network == BIG_CONVERSATION
        values["kind"] = BIG_CONVERSATION if big else "network"
        values["network"] = None if big else args.network
    for option, field in (
        ("start", "starts_at"),
        ("end", "ends_at"),
        ("deadline", "signup_deadline"),
    ):
        given = getattr(args, option)
        if given is not None:
            values[field] = parse_local(given)
    if base is not None:
        return replace(base, **values)
    missing = [
        o for o in ("title", "network", "start", "end", "capacity") if getattr(args, o) is None
    ]
    if missing:
        raise EventError([f"--{m.replace('_', '-')} is required" for m in missing])
    starts = values["starts_at"]
    return EventDraft(
        title=values["title"],
        kind=values["kind"],
        network=values["network"],
        description=values.get("description", ""),
        starts_at=starts,
        ends_at=values["ends_at"],
        signup_deadline=values.get("signup_deadline", starts - timedelta(hours=1)),
        capacity=values["capacity"],
        location=values.get("location"),
        online_url=values.get("online_url"),
        accessibility=values.get("accessibility"),
    )


def _unknown_network(service: EventService, network: str | None) -> bool:
    """Say so (with the codes to choose from) if `network` is given and is no network."""
    if network is None or network == BIG_CONVERSATION or network in service.networks:
        return False
    known = ", ".join([BIG_CONVERSATION, *service.networks])
    say(f"unknown network {network!r}; choose one of: {known}")
    return True


async def events_create(ctx: Context, args: argparse.Namespace) -> int:
    """Create an event from options."""
    service = _service(ctx)
    if _unknown_network(service, args.network):
        say("the event was not created")
        return 2
    try:
        draft = _draft_from(args, None)
        async with unit_of_work(ctx.sessions) as session:
            event = await service.create(session, draft, actor=actor(), slug=args.slug)
    except (EventError, ValueError) as error:
        say("the event was not created:")
        return _problems(getattr(error, "problems", [str(error)]))
    say(f"created {event.slug}: {event.title!r}, {local_text(event.starts_at)}")
    return 0


async def events_edit(ctx: Context, args: argparse.Namespace) -> int:
    """Change an event; people signed up are sent the change."""
    service = _service(ctx)
    if _unknown_network(service, args.network):
        say("the event was not changed")
        return 2
    try:
        async with unit_of_work(ctx.sessions) as session:
            event = await service.event(session, args.slug)
            if event is None:
                say(f"no event {args.slug!r}")
                return 1
            before = event.sequence
            event = await service.edit(
                session, args.slug, _draft_from(args, service.draft_of(event)), actor=actor()
            )
            changed = event.sequence != before
    except (EventError, ValueError) as error:
        say("the event was not changed:")
        return _problems(getattr(error, "problems", [str(error)]))
    say(f"{args.slug}: " + ("changed; people signed up will be told" if changed else "no change"))
    return 0


async def events_cancel(ctx: Context, args: argparse.Namespace) -> int:
    """Cancel an event (everyone signed up or waiting is told)."""
    if not args.yes:
        say(f"this cancels {args.slug} and tells everyone signed up; add --yes to do it")
        return 2
    service = _service(ctx)
    try:
        async with unit_of_work(ctx.sessions) as session:
            event = await service.cancel_event(session, args.slug, actor=actor())
    except EventError as error:
        return _problems(error.problems)
    say(f"{event.slug} is cancelled")
    return 0


async def events_list(ctx: Context, args: argparse.Namespace) -> int:
    """Upcoming events (or all, with --all), with places taken and waiting."""
    service = _service(ctx)
    async with ctx.sessions() as session:
        events = await service.all_events(session, since=None if args.all else service.now())
        if not events:
            say("no events" if args.all else "no upcoming events")
        for event in events:
            places = await service.places(session, event)
            state = " CANCELLED" if event.status == "cancelled" else ""
            say(
                f"{event.slug}{state}: {event.title!r} ({service.host_of(event)}), "
                f"{local_text(event.starts_at)}; {places.held}/{event.capacity} places, "
                f"{places.waiting} waiting"
            )
    return 0


async def events_attendees(ctx: Context, args: argparse.Namespace) -> int:
    """Who is coming, with adjustment needs (audited); --attended marks attendance."""
    service = _service(ctx)
    async with unit_of_work(ctx.sessions) as session:
        event = await service.event(session, args.slug)
        if event is None:
            say(f"no event {args.slug!r}")
            return 1
        if args.attended is not None:
            try:
                ids = {int(part) for part in args.attended.split(",") if part.strip()}
            except ValueError:
                say("--attended takes sign-up numbers separated by commas, e.g. 12,15")
                return 2
            count = await service.mark_attendance(session, event, ids, actor=actor())
            if count is None:
                say("attendance can be marked from the day of the event")
                return 1
            say(f"attendance saved: {count} attended")
        views = await service.attendees(session, event, actor=actor())
    say(f"{event.slug}: {event.title!r}, {local_text(event.starts_at)}")
    for view in views:
        needs = service.need_labels(view.needs)
        extra = f"; needs: {needs} {view.details}".rstrip() if needs or view.details else ""
        attended = {True: "; attended", False: "; did not attend"}.get(view.attended, "")  # type: ignore[arg-type]
        say(f"  #{view.signup_id} {view.name} ({view.status}){extra}{attended}")
    if not views:
        say("  nobody has signed up")
    return 0


async def events_load(ctx: Context, args: argparse.Namespace) -> int:
    """Create or update events from files in content/events/calendar/."""
    service = _service(ctx)
    directory = ctx.settings.content_dir / "events" / "calendar"
    paths = [directory / name for name in args.files] if args.files else event_files(directory)
    failed = 0
    for path in paths:
        try:
            item = read_event_file(path)
        except ContentError as error:
            say(str(error))
            failed += 1
            continue
        try:
            async with unit_of_work(ctx.sessions) as session:
                existing = await service.event(session, item.slug)
                if existing is None:
                    await service.create(session, item.draft, actor=actor(), slug=item.slug)
                    say(f"{path.name}: created {item.slug}")
                else:
                    before = existing.sequence
                    saved = await service.edit(session, item.slug, item.draft, actor=actor())
                    verb = "updated" if saved.sequence != before else "unchanged"
                    say(f"{path.name}: {verb} {item.slug}")
        except EventError as error:
            say(f"{path.name}: " + "; ".join(error.problems))
            failed += 1
    say(f"{len(paths) - failed} of {len(paths)} file(s) loaded")
    return 1 if failed else 0


async def organisers_change(ctx: Context, args: argparse.Namespace) -> int:
    """Let a person run a network's events and see its members (or stop them)."""
    service = _service(ctx)
    if _unknown_network(service, args.network):
        return 2
    from bot.events import repo as repo_events

    async with unit_of_work(ctx.sessions) as session:
        if args.organisers_command == "add":
            tenant = args.tenant or (
                ctx.settings.allowed_tenants[0] if len(ctx.settings.allowed_tenants) == 1 else None
            )
            if not tenant:
                say("give --tenant (the person's tenant id)")
                return 2
            changed = await repo_events.add_organiser(
                session,
                network=args.network,
                tenant_id=tenant,
                aad_object_id=args.user,
                granted_by=actor(),
            )
            action = "event.organiser_add"
        else:
            changed = bool(
                await repo_events.remove_organiser(
                    session, network=args.network, aad_object_id=args.user
                )
            )
            action = "event.organiser_remove"
        if changed:
            await ctx.privacy.audit.append(
                session,
                actor=actor(),
                action=action,
                object_type="network",
                object_id=args.network,
                detail={"user": args.user.lower()},
            )
    verb = "now organises" if args.organisers_command == "add" else "no longer organises"
    say(f"{args.user} {verb} {args.network}" if changed else "no change")
    say("they also need the organiser role: edi-bot roles grant organiser USER")
    return 0


async def organisers_list(ctx: Context, args: argparse.Namespace) -> int:
    """Every organiser scope."""
    from bot.events import repo as repo_events
    from bot.privacy.names_repo import label, names_of

    async with ctx.sessions() as session:
        scopes = await repo_events.all_organisers(session)
        names = await names_of(session, ctx.privacy.cipher, [s.aad_object_id for s in scopes])
    for scope in scopes:
        say(
            f"{scope.network}: {label(names, scope.aad_object_id)} (tenant {scope.tenant_id}), "
            f"by {scope.granted_by}"
        )
    if not scopes:
        say("no organiser scopes yet: edi-bot events organisers add NETWORK OBJECT_ID")
    return 0


def add_commands(commands: argparse._SubParsersAction, settings: Callable[[], Settings]) -> None:  # type: ignore[type-arg]
    """Register `edi-bot events ...`."""
    events = commands.add_parser("events", help=COMMANDS.help["events"])
    sub = events.add_subparsers(dest="events_command", required=True, metavar="ACTION")

    def runner(command: Any) -> Callable[[argparse.Namespace], int]:
        return lambda args: run(settings(), args, command)

    def event_options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--title")
        parser.add_argument("--network", help="a network code, or big_conversation")
        parser.add_argument("--description")
        parser.add_argument("--start", help='UK time, "YYYY-MM-DD HH:MM"')
        parser.add_argument("--end", help='UK time, "YYYY-MM-DD HH:MM"')
        parser.add_argument("--deadline", help="sign-up deadline (default: an hour before)")
        parser.add_argument("--capacity", type=int)
        parser.add_argument("--place", help="where it is held")
        parser.add_argument("--online-url", dest="online_url", help="an https:// link")
        parser.add_argument("--accessibility")

    create = sub.add_parser("create", help="create an event")
    event_options(create)
    create.add_argument("--slug", help="the event's id (default: date and title)")
    create.set_defaults(handler=runner(events_create))
    edit = sub.add_parser("edit", help="change an event (people signed up are told)")
    edit.add_argument("slug")
    event_options(edit)
    edit.set_defaults(handler=runner(events_edit))
    cancel = sub.add_parser("cancel", help="cancel an event (everyone is told)")
    cancel.add_argument("slug")
    cancel.add_argument("--yes", action="store_true", help="really cancel it")
    cancel.set_defaults(handler=runner(events_cancel))
    listing = sub.add_parser("list", help="upcoming events with places and waitlists")
    listing.add_argument("--all", action="store_true", help="past and cancelled events too")
    listing.set_defaults(handler=runner(events_list))
    attendees = sub.add_parser("attendees", help="who is coming (audited); mark attendance")
    attendees.add_argument("slug")
    attendees.add_argument("--attended", help="sign-up numbers that attended, e.g. 12,15")
    attendees.set_defaults(handler=runner(events_attendees))
    load = sub.add_parser(
        "load", help="create or update events from content/events/calendar/*.yaml"
    )
    load.add_argument(
        "files", nargs="*", help="file names in content/events/calendar/ (default: all)"
    )
    load.set_defaults(handler=runner(events_load))

    organisers = sub.add_parser("organisers", help="who runs which network's events")
    org_sub = organisers.add_subparsers(dest="organisers_command", required=True, metavar="ACTION")
    for name, text in (("add", "let USER run NETWORK's events"), ("remove", "stop them")):
        parser = org_sub.add_parser(name, help=text)
        parser.add_argument("network", help="a network code, or big_conversation")
        parser.add_argument("user", help="the person's Entra object id")
        if name == "add":
            parser.add_argument("--tenant", help="their tenant id (default: the only allowed)")
        parser.set_defaults(handler=runner(organisers_change))
    org_sub.add_parser("list", help="every organiser scope").set_defaults(
        handler=runner(organisers_list)
    )
