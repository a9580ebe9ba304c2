"""Case handling that cannot crash on a missing conversation reference: assigning in the
terminal chat and in Teams, and the `edi-bot cases` changes, on SQLite and PostgreSQL.

Each test does what a hurried case handler would (a reference typed in lower case or without
its dash, acknowledging twice, closing twice, assigning to someone unknown) and asserts what
they see and what is stored and audited."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.db.models import AuditEntry
from bot.db.session import unit_of_work
from bot.incidents.models import IncidentEvent, IncidentReport
from bot.privacy.roles import Role, grant_role
from tests.cards import visible_text
from tests.channel.test_terminal import after, chat_session
from tests.chat import Chat
from tests.cli_runner import run_cli
from tests.connector import StandInConnector
from tests.harness import dev_settings
from tests.incidents.test_incidents import (
    NARRATIVE,
    deliver,
    find_choices,
    make_handler,
    receipt_value,
    runtime_of,
    sweep,
    walk_to_review,
)
from tests.privacy.test_privacy_cli import env_for
from tests.service import Service
from tests.teams import TeamsUser

pytestmark = pytest.mark.e2e

UNREACHABLE = (
    "hasn't used the bot yet, so I couldn't message them; the case is assigned to them and "
    "they'll see it in their case list."
)


@pytest.fixture
def settings(database_url: str) -> Settings:
    # The outbox is drained explicitly, so each test decides when messages go.
    return dev_settings(database_url=database_url, outbox_worker=False)


def terminal_id(name: str) -> str:
    """The Entra object id `edi-bot chat --user NAME` claims."""
    slug = "-".join(name.lower().split())
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"edi-bot-terminal:{slug}"))


async def grant(service: Service, person: str, tenant_id: str | None = None) -> None:
    """`edi-bot roles grant case_handler PERSON`: by object id or UPN, in no tenant by default."""
    async with unit_of_work(runtime_of(service).sessions) as session:
        await grant_role(
            session, role=Role.CASE_HANDLER, person=person, tenant_id=tenant_id, granted_by="test"
        )


async def report_one(service: Service, connector: StandInConnector) -> tuple[Chat, str]:
    """A confidential report by Rosa, who agreed to the monitoring project only."""
    chat = Chat(service, connector, TeamsUser(name="Rosa Reporter"))
    await walk_to_review(chat, "Confidentially")
    return chat, receipt_value(await chat.press("Submit my report"), "Your reference")


async def stored(service: Service, reference: str) -> tuple[IncidentReport, list[Any]]:
    """The case as stored, and its audit entries (action, actor, detail) in order."""
    async with runtime_of(service).sessions() as session:
        report = (
            await session.execute(
                select(IncidentReport).where(IncidentReport.reference == reference)
            )
        ).scalar_one()
        audit = (
            await session.execute(
                select(AuditEntry.action, AuditEntry.actor, AuditEntry.detail)
                .where(AuditEntry.object_id == reference)
                .order_by(AuditEntry.id)
            )
        ).all()
    return report, list(audit)


async def history(service: Service, report: IncidentReport) -> list[tuple[str, str | None, str]]:
    async with runtime_of(service).sessions() as session:
        rows = await session.execute(
            select(IncidentEvent.what, IncidentEvent.by_name, IncidentEvent.note)
            .where(IncidentEvent.report_id == report.id)
            .order_by(IncidentEvent.seq)
        )
    return [(what, by, note) for what, by, note in rows]


# ---- the chat ---------------------------------------------------------------------------------


async def test_assigning_in_the_terminal_chat_is_recorded_and_never_crashes(
    service: Service, connector: StandInConnector, settings: Settings
) -> None:
    _, reference = await report_one(service, connector)
    # Both granted by object id, as `edi-bot roles grant` does; neither has a conversation
    # reference (the terminal keeps none), so the bot can reach neither in Teams.
    casey, drew = terminal_id("Casey Handler"), terminal_id("Drew Handler")
    await grant(service, casey)
    await grant(service, drew)

    typed = ["cases", reference.lower().replace("-", ""), "assign to me", "4", "1", "1"]
    code, transcript = await chat_session(settings, "Casey Handler", *typed, "/quit")
    assert code == 0
    assert "something went wrong" not in transcript and "restart" not in transcript
    assert f"You're now the handler for {reference}." in after(transcript, "assign to me")
    # The colleague list names everyone holding the role, the asker by their own name.
    form = after(transcript, "1")
    assert "1. A case handler (name not yet known)" in form and "2. Casey Handler" in form
    assert f"A case handler (name not yet known) {UNREACHABLE}" in " ".join(transcript.split())

    report, audit = await stored(service, reference)
    assert (report.assigned_to or "").endswith(f"/{drew}")
    assert report.assigned_name == "A case handler (name not yet known)"
    assigned = [(actor, d) for action, actor, d in audit if action == "incident.assigned"]
    assert len(assigned) == 2 and all(actor.endswith(f"/{casey}") for actor, _ in assigned)
    assert [(w, by) for w, by, _ in await history(service, report)] == [
        ("assigned", "Casey Handler"),
        ("assigned", "Casey Handler"),
    ]

    # Acknowledging from the terminal works too, and a second time says so.
    _, transcript = await chat_session(settings, "Casey Handler", reference, "ack", "ack", "/quit")
    assert "Acknowledged. The reporter has been told." in transcript
    assert "That case is already acknowledged." in transcript
    assert "something went wrong" not in transcript


async def test_a_colleague_who_has_never_used_the_bot_is_assigned_and_named_as_such(
    service: Service, connector: StandInConnector, settings: Settings
) -> None:
    casey = await make_handler(service, connector, "Casey Handler")
    never = TeamsUser(name="Nia Newcomer")  # holds the role, has never opened the bot
    await grant(service, never.aad_object_id, never.tenant_id)
    _, reference = await report_one(service, connector)
    await deliver(service, settings)
    connector.forget()

    await casey.say("cases")
    await casey.say(reference)
    await casey.press("Assign to a colleague")
    offered = {c["title"]: c["value"] for c in find_choices(casey)}
    assert set(offered) == {"Casey Handler", "A case handler (name not yet known)"}
    seen = await casey.press("Save", handler=offered["A case handler (name not yet known)"])
    assert f"is now the handler for {reference}. A case handler" in seen
    assert UNREACHABLE in " ".join(seen.split())
    assert "Handler: A case handler (name not yet known)" in seen
    # Assigning to someone who is no handler at all is refused, and the form shown again.
    await casey.press("Assign to a colleague")
    seen = await casey.press("Save", handler=f"teams:{never.tenant_id}/{uuid.uuid4()}")
    assert "isn't a case handler" in seen and "Assign" in seen

    report, audit = await stored(service, reference)
    assert report.assigned_to == f"teams:{never.tenant_id}/{never.aad_object_id}"
    assert [a for a, _, _ in audit].count("incident.assigned") == 1
    # Nothing reaches the newcomer, so the deadline reminder goes to every handler instead.
    await deliver(service, settings)
    assert connector.replies(never.conversation_id) == []
    counts = await sweep(service, report.acknowledge_by)
    assert counts["reminders"] == 1
    await deliver(service, settings)
    assert f"report {reference} must be acknowledged by" in visible_text(
        connector.replies(casey.user.conversation_id)[-1]
    )
    # Once they open the bot, the case is in their list, and the next reminder is theirs.
    nia = Chat(service, connector, never)
    await nia.install()
    assert reference in await nia.say("cases")
    async with unit_of_work(runtime_of(service).sessions) as session:
        report = (await session.execute(select(IncidentReport))).scalar_one()
        report.reminders_sent = "alerted"
    await sweep(service, report.acknowledge_by)
    await deliver(service, settings)
    assert "must be acknowledged by" in visible_text(connector.replies(never.conversation_id)[-1])


# ---- the command line ---------------------------------------------------------------------------


async def cli(env: dict[str, str], *args: str) -> tuple[int, str]:
    """`edi-bot ARGS`: the exit code and what it printed (argparse's usage errors go to
    stderr, which also catches the test service's own noise); never a traceback."""
    code, out, err = await run_cli(*args, env=env)
    assert "Traceback" not in out + err
    return code, out or err


async def test_a_case_run_from_the_command_line_is_audited_as_in_teams(
    service: Service, connector: StandInConnector, settings: Settings, database_url: str
) -> None:
    casey = await make_handler(service, connector, "Casey Handler")
    drew = await make_handler(service, connector, "Drew Handler")
    never = TeamsUser(name="Nia Newcomer")
    await grant(service, never.aad_object_id, never.tenant_id)
    await grant(service, "pat.pending@example.org")  # by UPN; Pat has never used the bot
    reporter, reference = await report_one(service, connector)
    await deliver(service, settings)
    connector.forget()
    env = env_for(database_url)
    me = ("--as", casey.user.aad_object_id)
    hurried = reference.lower().replace("-", "")

    assert await cli(env, "cases", "ack", hurried, *me) == (
        0,
        f"Acknowledged {reference}. The reporter has been told.\n",
    )
    code, out = await cli(env, "cases", "ack", reference, *me)
    assert code == 1 and f"{reference} was already acknowledged on" in out
    assert "nothing was changed" in out
    code, out = await cli(env, "cases", "triage", reference, *me, "--risk", "HIGH",
                          "--classification", "crime")  # fmt: skip
    assert (code, out) == (0, f"Triage recorded for {reference}: risk high; Possible crime.\n")
    code, out = await cli(env, "cases", "triage", reference, *me, "--risk", "severe",
                          "--classification", "crime")  # fmt: skip
    assert (code, out) == (2, "edi-bot: --risk must be one of: low, medium, high\n")

    code, out = await cli(env, "cases", "assign", reference, *me, "--to", "nobody@example.org")
    assert code == 1 and "nobody@example.org doesn't hold the case-handler role" in out
    code, out = await cli(env, "cases", "assign", reference, *me, "--to", "PAT.pending@example.org")
    assert code == 1 and "holds the case-handler role but hasn't used the bot yet" in out
    code, out = await cli(env, "cases", "assign", reference, *me, "--to", never.aad_object_id)
    assert code == 0 and out.endswith(f"{UNREACHABLE}\n") and out.count("\n") == 1
    code, out = await cli(env, "cases", "assign", reference, *me, "--to", drew.user.aad_object_id)
    assert (code, out) == (
        0,
        f"Drew Handler is now the handler for {reference}, and will be told in Teams.\n",
    )

    code, out = await cli(env, "cases", "close", reference, *me, "--outcome", "referred_police")
    assert code == 1 and "did not agree to that referral" in out
    code, out = await cli(env, "cases", "close", reference, *me, "--outcome", "finished")
    assert code == 2 and "--outcome must be one of: resolved, no_further_action" in out
    note = "We met and agreed next steps."
    code, out = await cli(
        env, "cases", "close", reference, *me, "--outcome", "resolved", "--note", note
    )
    assert (code, out) == (
        0,
        f"Case {reference} is closed: Resolved with the reporter. The reporter has been told.\n",
    )
    for again in (("close", "--outcome", "resolved"), ("ack",), ("assign", "--to", "x@y.org")):
        code, out = await cli(env, "cases", again[0], reference, *me, *again[1:])
        assert (code, out) == (1, f"edi-bot: {reference} is already closed; nothing was changed\n")

    # Stored and audited exactly as the chat's buttons are, under Casey's Teams identity.
    report, audit = await stored(service, reference)
    assert (report.status, report.outcome, report.risk) == ("closed", "resolved", "high")
    assert report.assigned_name == "Drew Handler"
    changes = [(a, who, d) for a, who, d in audit if a != "incident.submitted"]
    assert [a for a, _, _ in changes] == [
        "incident.acknowledged",
        "incident.triaged",
        "incident.assigned",
        "incident.assigned",
        "incident.closed",
    ]
    casey_actor = f"teams:{casey.user.tenant_id}/{casey.user.aad_object_id}"
    assert all(who == casey_actor for _, who, _ in changes)
    assert all(json.loads(detail)["via"].startswith("cli:") for _, _, detail in changes)
    assert [w for w, _, _ in await history(service, report)] == [
        "acknowledged",
        "triaged",
        "assigned",
        "assigned",
        "closed",
    ]
    # The reporter is told of each step, and Drew (reachable) of the assignment.
    await deliver(service, settings)
    told = "\n".join(visible_text(r) for r in connector.replies(reporter.user.conversation_id))
    assert f"{reference}: Acknowledged" in told and f"{reference}: Closed" in told
    [assigned] = connector.replies(drew.user.conversation_id)
    assert f"Casey Handler has assigned report {reference} to you" in visible_text(assigned)


async def test_the_command_line_refuses_clearly_and_never_shows_the_narrative(
    service: Service, connector: StandInConnector, database_url: str
) -> None:
    casey = await make_handler(service, connector, "Casey Handler")
    _, reference = await report_one(service, connector)
    env = env_for(database_url)
    me = ("--as", casey.user.aad_object_id.upper())  # object ids in any case

    everything = ""
    for args, code, said in [
        (("ack", "ZZZZ-ZZZZ", *me), 1, "edi-bot: there is no case ZZZZ-ZZZZ\n"),
        (("ack", "nonsense", *me), 2, "edi-bot: 'nonsense' is not a case reference"),
        (("ack", reference, "--as", "rosa@example.org"), 1, "rosa@example.org doesn't hold"),
        (("ack", reference, "--as", " "), 2, "edi-bot: name a person"),
        (("ack", reference), 2, "the following arguments are required: --as"),
        (("triage", reference, *me, "--risk", "low"), 2, "required: --classification"),
        (("close", reference, *me), 2, "required: --outcome"),
        (("assign", reference, *me), 2, "required: --to"),
    ]:
        got, out = await cli(env, "cases", *args)
        everything += out
        assert got == code and said in out, (args, got, out)
    code, out = await cli(env, "cases", "list")
    everything += out
    assert code == 0
    [row] = [line for line in out.splitlines() if line.startswith(reference)]
    report, audit = await stored(service, reference)
    assert "NEXT DUE" in out and row.split()[2:5] == ["new", "ack", str(report.acknowledge_by)]
    assert NARRATIVE not in everything and "Rosa" not in everything

    assert [a for a, _, _ in audit] == ["incident.submitted"]  # nothing was changed
    async with runtime_of(service).sessions() as session:
        refused = (
            await session.execute(
                select(AuditEntry.actor).where(AuditEntry.action == "access.refused")
            )
        ).scalars()
        assert [who.startswith("cli:") for who in refused] == [True]
    assert json.dumps(audit, default=str).count("cli:") == 0
