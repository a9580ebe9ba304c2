"""The aiohttp application: `create_app(settings)` wires everything; no module globals."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channel.http import CHANNEL_KEY, build_channel, messages, problem
from bot.channel.transport import build_worker
from bot.config import Settings
from bot.core.clock import today_in_london
from bot.core.logs import describe_exception
from bot.db import migrate
from bot.db.engine import create_engine
from bot.db.models import utcnow
from bot.db.session import unit_of_work
from bot.events.calendar import LinkError
from bot.hr.links import ReportLinkError, bundle, report_links
from bot.hr.service import QuarterUnavailable
from bot.incidents.evidence_links import EvidenceLinkError, attachment_disposition, evidence_links
from bot.privacy.data_copy import CopyLinkError
from bot.privacy.roles import Role
from bot.runtime import Runtime, build_runtime
from scheduler.jobs import build_scheduler, register_jobs

log = logging.getLogger(__name__)

SETTINGS_KEY = web.AppKey("settings", Settings)
RUNTIME_KEY = web.AppKey("runtime", Runtime)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def event_calendar(request: web.Request) -> web.Response:
    """GET /events/calendar/<token>.ics: an event's invitation (or cancellation) from a
    card's "Add to calendar" link. A forged or malformed link is 404, an expired one 403."""
    events = request.app[RUNTIME_KEY].events
    try:
        slug, method = events.links.check(request.match_info["token"], now=events.now())
    except LinkError as error:
        if error.reason == "expired":
            return problem(403, "This calendar link has expired.")
        return problem(404, "No such calendar file.")
    async with request.app[RUNTIME_KEY].sessions() as session:
        event = await events.event(session, slug)
    if event is None:
        return problem(404, "No such calendar file.")
    return web.Response(
        body=events.ics(event, method),
        content_type="text/calendar",
        charset="utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{slug}.ics"',
            "Cache-Control": "private, no-store",
        },
    )


async def my_data_copy(request: web.Request) -> web.Response:
    """GET /my-data/<token>: a person's copy of everything held about them (JSON), from the
    link *my data* gives them. A forged or altered link is 404, an expired one 403, each with
    a plain sentence saying what to do."""
    runtime = request.app[RUNTIME_KEY]
    copies = runtime.copy_links
    # People's own words are in the file: never cached, never sniffed into a page.
    private = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
    now = utcnow()
    try:
        person = copies.check(request.match_info["token"], now=now)
    except CopyLinkError as error:
        expired = error.reason == "expired"
        words = str(copies.words["expired" if expired else "not_found"])
        return web.Response(
            status=403 if expired else 404,
            text=" ".join(words.format(minutes=copies.minutes).split()),
            headers=private,
        )
    async with unit_of_work(runtime.sessions) as session:
        name, body = await copies.download(session, person, now=now)
    return web.Response(
        body=body,
        content_type="application/json",
        charset="utf-8",
        headers={**private, "Content-Disposition": f'attachment; filename="{name}"'},
    )


async def hr_report_download(request: web.Request) -> web.Response:
    """GET /hr/report/<token>: a quarter's full HR report (HTML and CSV, zipped), from the
    link "hr report" gives someone holding `hr`. The role is checked again here, and each
    download audited. Forged or unknown: 404; expired or the role gone: 403; each with a
    plain sentence saying what to do."""
    runtime = request.app[RUNTIME_KEY]
    reports = runtime.hr_reports
    links = report_links(runtime.settings, runtime.privacy)
    private = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}

    def refuse(status: int, key: str) -> web.Response:
        words = reports.config.texts(f"text.{key}", minutes=links.minutes)
        return web.Response(status=status, text=" ".join(words.split()), headers=private)

    try:
        person, quarter = links.check(request.match_info["token"], now=utcnow())
    except ReportLinkError as error:
        return (
            refuse(403, "link_expired")
            if error.reason == "expired"
            else refuse(404, "link_not_found")
        )
    async with unit_of_work(runtime.sessions) as session:
        if not await runtime.privacy.roles.holds(session, person=person, role=Role.HR):
            return refuse(403, "link_no_role")
        try:
            report = await reports.report(session, quarter=quarter, today=today_in_london())
        except QuarterUnavailable:
            return refuse(404, "link_not_found")
        actor = f"teams:{person.tenant_id}/{person.aad_object_id}"
        await reports.audit_access(session, actor=actor, quarter=quarter, how="download")
    content_dir = runtime.settings.content_dir
    name, body = await asyncio.to_thread(bundle, report, reports.config, content_dir)
    return web.Response(
        body=body,
        content_type="application/zip",
        headers={**private, "Content-Disposition": f'attachment; filename="{name}"'},
    )


async def incident_evidence_download(request: web.Request) -> web.Response:
    """GET /incidents/evidence/<token>: one file of one case, from a link "Get links to the
    files" on the case card gave a case handler. The role is checked again here and each
    download audited (a HEAD request is answered, not audited). Forged or unknown: 404;
    expired or the role gone: 403; each with a plain sentence saying what to do. The file
    is always an attachment, in a safe type, never sniffed, never cached."""
    runtime = request.app[RUNTIME_KEY]
    incidents = runtime.incidents
    words = incidents.words["evidence"]
    links = evidence_links(
        runtime.privacy.cipher,
        public_base_url=runtime.settings.public_base_url,
        host=runtime.settings.host,
        port=runtime.settings.port,
    )
    private = {
        "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }

    def refuse(status: int, key: str) -> web.Response:
        said = str(words[key]).format(minutes=links.minutes)
        return web.Response(status=status, text=" ".join(said.split()), headers=private)

    try:
        link = links.check(request.match_info["token"], now=utcnow())
    except EvidenceLinkError as error:
        return (
            refuse(403, "link_expired")
            if error.reason == "expired"
            else refuse(404, "link_not_found")
        )
    async with unit_of_work(runtime.sessions) as session:
        if not await runtime.privacy.roles.holds(
            session, person=link.person, role=Role.CASE_HANDLER
        ):
            return refuse(403, "link_no_role")
        found = await incidents.file_for_handler(session, link)
        if found is None:
            return refuse(404, "link_not_found")
        info, data = found
        if request.method != "HEAD":
            await incidents.audit_access(
                session,
                actor=link.actor,
                action="incident.evidence_downloaded",
                reference=link.reference,
                file=info.id,
            )
    disposition = attachment_disposition(info.name)
    return web.Response(
        body=data,
        content_type=info.kind.media_type,
        charset="utf-8" if info.kind.media_type == "text/plain" else None,
        headers={**private, "Content-Disposition": disposition},
    )


async def healthz(request: web.Request) -> web.Response:
    """GET /healthz: the process is alive."""
    return web.json_response({"status": "alive"})


async def readyz(request: web.Request) -> web.Response:
    """GET /readyz: the database answers and its schema is the one this code expects."""
    engine = request.app[RUNTIME_KEY].engine
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        current = await migrate.current_revision(engine)
    except Exception as error:  # noqa: BLE001 - any failure means not ready
        log.warning("ready.database_unreachable", extra={"error": describe_exception(error)})
        return web.json_response({"status": "not ready", "database": "unreachable"}, status=503)
    head = migrate.head_revision()
    if current != head:
        body = {"status": "not ready", "database": "ok", "schema": current, "expected": head}
        return web.json_response(body, status=503)
    return web.json_response({"status": "ready", "database": "ok", "schema": current})


def _route_of(request: web.Request) -> str:
    """The route a request matched, as written in code ("/events/calendar/{token}")."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def access_log(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Method, path, status and time of each request; a 500 body never shows a trace."""
    started = time.perf_counter()
    try:
        response = await handler(request)
    except web.HTTPException as http_error:
        response = problem(http_error.status, http_error.reason)
    except Exception as error:  # noqa: BLE001 - last line of defence: no trace to clients
        reference = uuid.uuid4().hex[:8].upper()
        log.error(
            "request.unhandled",
            extra={"correlation_id": reference, "error": describe_exception(error)},
        )
        response = problem(500, f"Internal error (ref {reference}).")
    level = logging.DEBUG if response.status < 400 else logging.WARNING
    log.log(
        level,
        "request",
        extra={
            "method": request.method,
            # The route, not the path: a path can hold a link's token or whatever was asked.
            "path": _route_of(request),
            "status": response.status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    return response


def create_app(settings: Settings, *, engine: AsyncEngine | None = None) -> web.Application:
    """The web application for `settings`; `engine` lets tests share one database engine."""
    app = web.Application(client_max_size=settings.max_body_bytes, middlewares=[access_log])
    app[SETTINGS_KEY] = settings

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        own_engine = engine is None
        db = engine if engine is not None else create_engine(settings.database_url)
        try:
            if settings.development_mode:
                await migrate.upgrade(db)
            runtime = build_runtime(settings, db)
            app[RUNTIME_KEY] = runtime
            app[CHANNEL_KEY] = build_channel(settings, runtime.bot.on_turn, runtime.on_turn_error)
            scheduler = build_scheduler()
            register_jobs(scheduler, runtime)
            scheduler.start()
            worker = None
            if settings.outbox_worker:
                worker = build_worker(settings, runtime.outbox, runtime.sessions)
                worker.start()
            try:
                yield
            finally:
                if worker is not None:
                    await worker.stop()
                scheduler.shutdown(wait=False)
                await app[CHANNEL_KEY].adapter.close()
        finally:
            if own_engine:
                await db.dispose()

    app.cleanup_ctx.append(lifecycle)
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/events/calendar/{token}", event_calendar)
    app.router.add_get("/my-data/{token}", my_data_copy)
    app.router.add_get("/hr/report/{token}", hr_report_download)
    app.router.add_get("/incidents/evidence/{token}", incident_evidence_download)
    return app
