"""The privacy core: encryption and rotation, pseudonyms, roles, the audit chain, retention
and log hygiene, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import logging
import os
import stat
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channel.storage import SqlStorage
from bot.config import Settings
from bot.core.logs import REDACTED, configure_logging, sensitive
from bot.core.people import PersonKey
from bot.db.engine import create_sessionmaker
from bot.db.models import utcnow
from bot.db.session import unit_of_work
from bot.features import FEATURES
from bot.privacy import rotation
from bot.privacy.audit import AuditLog, audit_key
from bot.privacy.crypto import DecryptionError, FieldCipher, Sealed
from bot.privacy.keys import (
    KeyConfigError,
    encode_key,
    load_keys,
    parse_encryption_keys,
)
from bot.privacy.pseudonym import Pseudonymiser
from bot.privacy.retention import purge, retention_rules
from bot.privacy.roles import Role, RoleChecker, grant_role, list_grants, revoke_role
from tests.cards import buttons, visible_text
from tests.harness import TEST_ENCRYPTION_KEYS, BotHarness, dev_settings

KEY_A = "kA:" + encode_key(b"A" * 32)
KEY_B = "kB:" + encode_key(b"B" * 32)


def cipher_for(keys: str) -> FieldCipher:
    return FieldCipher(load_keys(dev_settings(encryption_keys=keys)))


# ---- encryption ------------------------------------------------------------------------------


def test_a_sealed_value_round_trips_and_reveals_nothing() -> None:
    cipher = cipher_for(KEY_A)
    sealed = cipher.seal("I was called a slur at the depot", context="report:7")
    assert sealed.key_id == "kA"
    assert "slur" not in sealed.token
    assert cipher.seal("same", context="x").token != cipher.seal("same", context="x").token
    assert cipher.open(sealed, context="report:7") == "I was called a slur at the depot"


@pytest.mark.parametrize(
    "spoil",
    [
        lambda s: (Sealed(s.key_id, s.token), "report:8"),  # moved to another row
        lambda s: (Sealed(s.key_id, s.token[:-4] + "AAA="), "report:7"),  # tampered
        lambda s: (Sealed("k-unknown", s.token), "report:7"),  # key no longer configured
        lambda s: (Sealed(s.key_id, "not base64!"), "report:7"),
    ],
)
def test_a_value_that_was_moved_altered_or_orphaned_does_not_open(spoil: Any) -> None:
    cipher = cipher_for(KEY_A)
    sealed, context = spoil(cipher.seal("secret", context="report:7"))
    with pytest.raises(DecryptionError):
        cipher.open(sealed, context=context)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("kA", "entries must be KEYID:BASE64"),
        ("kA:not-base64", "is not valid base64"),
        ("kA:" + encode_key(b"short"), "is not 32 bytes"),
        (f"{KEY_A},{KEY_A}", "names key 'kA' twice"),
    ],
)
def test_malformed_keys_are_refused_without_echoing_them(setting: str, message: str) -> None:
    with pytest.raises(KeyConfigError, match=message) as raised:
        parse_encryption_keys(setting)
    assert encode_key(b"A" * 32) not in str(raised.value)


def test_development_keys_are_created_once_privately(tmp_path: Path) -> None:
    path = tmp_path / "var" / "keys.json"
    settings = Settings(_env_file=None, keys_file=path)  # type: ignore[call-arg]
    first = load_keys(settings)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_keys(settings) == first


def test_production_without_keys_refuses() -> None:
    settings = Settings(_env_file=None, app_id="app")  # type: ignore[call-arg]
    with pytest.raises(KeyConfigError):
        load_keys(settings)
    assert "EDI_ENCRYPTION_KEYS is required (edi-bot keys generate makes one)" in (
        settings.production_problems()
    )


# ---- pseudonyms -------------------------------------------------------------------------------


def test_pseudonyms_are_stable_distinct_and_keyed() -> None:
    alice = PersonKey("tenant-1", "7A0C2D64-0000-4000-8000-00000000A11C")
    ours = Pseudonymiser(b"K" * 32)
    assert ours.of(alice) == ours.of(PersonKey("TENANT-1", alice.aad_object_id.lower()))
    assert len(ours.of(alice)) == 64
    assert ours.of(alice) != ours.of(PersonKey("tenant-2", alice.aad_object_id))
    assert ours.of(alice) != ours.of(PersonKey("tenant-1", "someone-else"))
    # Without the key, knowing the staff list does not help: another key gives another value.
    assert Pseudonymiser(b"L" * 32).of(alice) != ours.of(alice)
    assert alice.aad_object_id.lower() not in ours.of(alice)


# ---- rotation --------------------------------------------------------------------------------


async def _write_state(engine: AsyncEngine, keys: str, count: int) -> None:
    storage = SqlStorage(engine, create_sessionmaker(engine), cipher_for(keys))
    for n in range(count):
        await storage.write({f"conv/{n}": {"answer": f"private answer {n}"}})


def state_result(results: list[rotation.RotationResult]) -> rotation.RotationResult:
    """The conversation-state column's result (the only column these tests fill)."""
    [result] = [r for r in results if r.column == "bot_state.document"]
    assert all(r.reencrypted == 0 for r in results if r is not result)
    return result


def in_use(usage: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """Key usage of the columns that hold any value."""
    return {column: counts for column, counts in usage.items() if counts}


async def test_rotation_reencrypts_everything_and_the_old_key_can_go(engine: AsyncEngine) -> None:
    await _write_state(engine, KEY_A, 7)
    sessions = create_sessionmaker(engine)
    rotated = cipher_for(f"{KEY_B},{KEY_A}")
    lines: list[str] = []
    result = state_result(
        await rotation.rotate(sessions, rotated, FEATURES, batch_size=3, progress=lines.append)
    )

    assert (result.reencrypted, result.skipped) == (7, 0)
    assert lines == [
        "bot_state.document: 3 of 7 re-encrypted",
        "bot_state.document: 6 of 7 re-encrypted",
        "bot_state.document: 7 of 7 re-encrypted",
    ]
    async with sessions() as session:
        assert in_use(await rotation.key_usage(session, FEATURES)) == {
            "bot_state.document": {"kB": 7}
        }
    # Key A retired: everything still reads with key B alone.
    storage = SqlStorage(engine, sessions, cipher_for(KEY_B))
    read = await storage.read([f"conv/{n}" for n in range(7)])
    assert sorted(item["answer"] for item in read.values()) == [
        f"private answer {n}" for n in range(7)
    ]


async def test_an_interrupted_rotation_resumes_where_it_stopped(engine: AsyncEngine) -> None:
    await _write_state(engine, KEY_A, 5)
    sessions = create_sessionmaker(engine)
    rotated = cipher_for(f"{KEY_B},{KEY_A}")

    def crash_after_first_batch(line: str) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        await rotation.rotate(
            sessions, rotated, FEATURES, batch_size=2, progress=crash_after_first_batch
        )
    async with sessions() as session:
        assert in_use(await rotation.key_usage(session, FEATURES)) == {
            "bot_state.document": {"kA": 3, "kB": 2}
        }
    result = state_result(await rotation.rotate(sessions, rotated, FEATURES, batch_size=2))
    assert result.reencrypted == 3
    async with sessions() as session:
        assert in_use(await rotation.key_usage(session, FEATURES)) == {
            "bot_state.document": {"kB": 5}
        }


async def test_rotation_seals_values_stored_before_encryption(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO bot_state (key, document, key_id, etag, updated_at) "
                "VALUES ('old', :doc, NULL, 'e', CURRENT_TIMESTAMP)"
            ),
            {"doc": '{"answer":"plain"}'},
        )
    sessions = create_sessionmaker(engine)
    result = state_result(await rotation.rotate(sessions, cipher_for(KEY_A), FEATURES))
    assert result.reencrypted == 1
    async with engine.connect() as connection:
        document = (await connection.execute(text("SELECT document FROM bot_state"))).scalar()
    assert "plain" not in str(document)


# ---- roles -----------------------------------------------------------------------------------

ALICE = PersonKey("tenant-1", "aaaaaaaa-0000-4000-8000-000000000001")


@pytest.mark.parametrize("needed", list(Role))
async def test_each_role_is_refused_to_holders_of_every_other_role(
    engine: AsyncEngine, needed: Role
) -> None:
    sessions = create_sessionmaker(engine)
    checker = RoleChecker([])
    async with unit_of_work(sessions) as session:
        for other in Role:
            if other is not needed:
                await grant_role(
                    session,
                    role=other,
                    person=ALICE.aad_object_id,
                    tenant_id=None,
                    granted_by="test",
                )
        assert not await checker.holds(session, person=ALICE, role=needed)
        await grant_role(
            session, role=needed, person=ALICE.aad_object_id, tenant_id=None, granted_by="test"
        )
        assert await checker.holds(session, person=ALICE, role=needed)
        assert await revoke_role(session, role=needed, person=ALICE.aad_object_id) == 1
        assert not await checker.holds(session, person=ALICE, role=needed)


async def test_a_grant_limited_to_a_tenant_does_not_apply_elsewhere(engine: AsyncEngine) -> None:
    sessions = create_sessionmaker(engine)
    async with unit_of_work(sessions) as session:
        await grant_role(
            session,
            role=Role.HR,
            person=ALICE.aad_object_id,
            tenant_id="tenant-1",
            granted_by="test",
        )
        checker = RoleChecker([])
        assert await checker.holds(session, person=ALICE, role=Role.HR)
        elsewhere = PersonKey("tenant-2", ALICE.aad_object_id)
        assert not await checker.holds(session, person=elsewhere, role=Role.HR)


async def test_a_grant_by_upn_binds_to_the_person_who_has_that_upn(engine: AsyncEngine) -> None:
    sessions = create_sessionmaker(engine)
    asked: list[int] = []

    async def upn_is(value: str) -> Any:
        async def lookup() -> str:
            asked.append(1)
            return value

        return lookup

    async with unit_of_work(sessions) as session:
        await grant_role(
            session,
            role=Role.CASE_HANDLER,
            person="Alice.Smith@Council.Example",
            tenant_id=None,
            granted_by="test",
        )
        checker = RoleChecker([])
        bob = PersonKey("tenant-1", "bbbbbbbb-0000-4000-8000-000000000002")
        assert not await checker.holds(
            session,
            person=bob,
            role=Role.CASE_HANDLER,
            lookup_upn=await upn_is("bob@council.example"),
        )
        assert await checker.holds(
            session,
            person=ALICE,
            role=Role.CASE_HANDLER,
            lookup_upn=await upn_is("alice.smith@council.example"),
        )
        [grant] = await list_grants(session)
        assert grant.aad_object_id == ALICE.aad_object_id
        # Bound now: no more lookups needed.
        asked.clear()
        assert await checker.holds(
            session, person=ALICE, role=Role.CASE_HANDLER, lookup_upn=await upn_is("ignored")
        )
        assert asked == []


async def test_bootstrap_admins_hold_admin_only(engine: AsyncEngine) -> None:
    sessions = create_sessionmaker(engine)
    checker = RoleChecker([ALICE.aad_object_id.upper()])
    async with sessions() as session:
        assert await checker.holds(session, person=ALICE, role=Role.ADMIN)
        assert not await checker.holds(session, person=ALICE, role=Role.HR)


async def test_the_roles_a_person_holds_are_found_in_one_go_as_one_by_one(
    engine: AsyncEngine,
) -> None:
    # `held` (the welcome card's one query) must agree with `holds` in every situation:
    # a grant by object id, one limited to another tenant, one by UPN waiting to be bound,
    # a bootstrap admin by UPN, and roles nobody granted.
    sessions = create_sessionmaker(engine)
    other_tenant = PersonKey("tenant-2", ALICE.aad_object_id)

    async def upn() -> str:
        return "alice.smith@council.example"

    async with unit_of_work(sessions) as session:
        await grant_role(
            session, role=Role.HR, person=ALICE.aad_object_id, tenant_id="tenant-1", granted_by="t"
        )
        await grant_role(
            session,
            role=Role.CASE_HANDLER,
            person="alice.smith@council.example",
            tenant_id=None,
            granted_by="t",
        )
        checker = RoleChecker(["Alice.Smith@Council.Example"])
        elsewhere = await checker.held(session, person=other_tenant, roles=set(Role))
        assert elsewhere == {
            role for role in Role if await checker.holds(session, person=other_tenant, role=role)
        }
        assert elsewhere == set()  # the HR grant is for tenant-1; no UPN was asked
        together = await checker.held(session, person=ALICE, roles=set(Role), lookup_upn=upn)
        one_by_one = {
            role
            for role in Role
            if await checker.holds(session, person=ALICE, role=role, lookup_upn=upn)
        }
        assert together == one_by_one == {Role.HR, Role.CASE_HANDLER, Role.ADMIN}
        assert await checker.held(session, person=ALICE, roles={Role.ORGANISER}) == set()


@pytest.fixture
def chat(settings: Settings, engine: AsyncEngine) -> BotHarness:
    return BotHarness(settings, engine)


async def test_in_chat_a_non_admin_is_refused_politely_and_the_refusal_audited(
    chat: BotHarness, engine: AsyncEngine
) -> None:
    titles = [title for title, _ in buttons((await chat.say("menu"))[0])]
    assert "About EDI" in titles and "Bot status" not in titles
    [reply] = await chat.say("status")
    assert visible_text(reply) == (
        "Sorry, that's only for people with the admin role. If you think you should have it, "
        "please ask an EDI bot admin."
    )
    # A crafted card submission is checked the same way, whatever it claims.
    [reply] = await chat.tap({"command": "status", "role": "admin", "isAdmin": True})
    assert visible_text(reply).startswith("Sorry, that's only for people with the admin role.")
    async with create_sessionmaker(engine)() as session:
        entries = await chat.runtime.privacy.audit.recent(session)
    assert [(e.action, e.object_id, e.detail) for e in entries] == [
        ("access.refused", "AdminStatusDialog", {"role_needed": "admin"}),
        ("access.refused", "AdminStatusDialog", {"role_needed": "admin"}),
    ]
    assert entries[0].actor == f"teams:{chat.user.tenant_id}/{chat.user.aad_object_id}"


async def test_in_chat_an_admin_sees_counts_and_the_menu_entry(
    chat: BotHarness, engine: AsyncEngine
) -> None:
    async with unit_of_work(create_sessionmaker(engine)) as session:
        await grant_role(
            session,
            role=Role.ADMIN,
            person=chat.user.aad_object_id,
            tenant_id=None,
            granted_by="test",
        )
    await chat.send(chat.user.installed(chat.SERVICE_URL))
    titles = [t for t, _ in buttons((await chat.say("menu"))[0])]
    # Everyone's entries first, then what this person's roles add.
    assert titles[0] == "About EDI"
    assert titles.index("Bot status") > titles.index("Report a hate incident")
    assert "Incident cases" not in titles  # a role of its own
    [reply] = await chat.say("bot status")
    shown = visible_text(reply)
    assert shown.startswith("Bot status")
    facts = {f["title"]: f["value"] for f in reply.attachments[0].content["body"][1]["facts"]}
    assert facts["People the bot can reach"] == "1"
    assert facts["Active encryption key"] == TEST_ENCRYPTION_KEYS.split(":")[0]


# ---- audit -----------------------------------------------------------------------------------


async def _chain(engine: AsyncEngine, count: int) -> AuditLog:
    audit = AuditLog(audit_key(b"P" * 32))
    async with unit_of_work(create_sessionmaker(engine)) as session:
        for n in range(count):
            await audit.append(
                session,
                actor="cli:ops",
                action="roles.grant",
                object_type="person",
                object_id=f"p{n}",
                detail={"role": "hr"},
            )
    return audit


async def verify(engine: AsyncEngine, audit: AuditLog) -> list[str]:
    async with create_sessionmaker(engine)() as session:
        return await audit.verify(session)


async def test_an_untouched_chain_verifies(engine: AsyncEngine) -> None:
    assert await verify(engine, await _chain(engine, 4)) == []


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        ('UPDATE audit_log SET detail = \'{"role":"admin"}\' WHERE id = 2', "entry #2 was altered"),
        ("UPDATE audit_log SET actor = 'cli:someone-else' WHERE id = 4", "entry #4 was altered"),
        ("DELETE FROM audit_log WHERE id = 3", "entries #3-#3 are missing"),
        (
            "DELETE FROM audit_log WHERE id = 1",
            "entries before #2 are missing and no retention purge accounts for them",
        ),
    ],
)
async def test_a_tampered_chain_is_detected(engine: AsyncEngine, tamper: str, problem: str) -> None:
    audit = await _chain(engine, 4)
    async with engine.begin() as connection:
        await connection.execute(text(tamper))
    assert problem in await verify(engine, audit)


async def test_without_the_key_the_chain_cannot_be_rebuilt(engine: AsyncEngine) -> None:
    await _chain(engine, 2)
    assert "entry #1 was altered" in await verify(engine, AuditLog(audit_key(b"Q" * 32)))


# ---- retention -------------------------------------------------------------------------------


async def test_the_purge_removes_exactly_what_is_due_and_audits_counts(
    engine: AsyncEngine, settings: Settings
) -> None:
    sessions = create_sessionmaker(engine)
    audit = await _chain(engine, 3)
    await _write_state(engine, TEST_ENCRYPTION_KEYS, 3)
    now = utcnow()
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE bot_state SET updated_at = :t WHERE key = 'conv/0'"),
            {"t": now - timedelta(days=31)},
        )
        await connection.execute(
            text("UPDATE bot_state SET updated_at = :t WHERE key = 'conv/1'"),
            {"t": now - timedelta(days=29)},
        )
        await connection.execute(
            text("UPDATE audit_log SET at = :t WHERE id <= 2"), {"t": now - timedelta(days=365 * 8)}
        )
    rules = retention_rules(settings, audit, FEATURES)

    first = await purge(sessions, rules, audit)
    assert {kind: first.pop(kind) for kind in ("drafts", "audit")} == {"drafts": 1, "audit": 2}
    assert set(first.values()) <= {0}  # every other kind of data: nothing due
    async with engine.connect() as connection:
        keys = (await connection.execute(text("SELECT key FROM bot_state ORDER BY key"))).all()
    assert [k for (k,) in keys] == ["conv/1", "conv/2"]
    assert set((await purge(sessions, rules, audit)).values()) == {0}
    async with sessions() as session:
        entries = await audit.recent(session)
    assert [
        (e.action, {k: v for k, v in e.detail.items() if k in ("drafts", "audit", "removed")})
        for e in entries
    ] == [
        ("roles.grant", {}),
        ("retention.purge_audit", {"removed": 2}),
        ("retention.purge", {"drafts": 1, "audit": 2}),
        ("retention.purge", {"drafts": 0, "audit": 0}),
    ]
    # The purged head is accounted for, so the chain still verifies.
    assert await verify(engine, audit) == []


# ---- logs ------------------------------------------------------------------------------------


def test_the_log_filter_removes_what_the_turn_received_wherever_it_appears() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    configure_logging("DEBUG", "json", stream=stream)
    try:
        sensitive("my neighbour Zed", {"note": "Zed again", "nested": ["Quill-42 here"]})
        log = logging.getLogger("tests.library")
        log.debug("library echo: %s", "my neighbour Zed")
        log.info("field", extra={"body": {"text": "Quill-42 here"}, "count": 3})
        try:
            int("Zed again")
        except ValueError:
            log.exception("failed")
        logging.getLogger("msrest.http_logger").warning("Request body: my neighbour Zed")
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    joined = stream.getvalue()
    assert "Zed" not in joined and "Quill" not in joined
    assert lines[0]["event"] == f"library echo: {REDACTED}"
    assert lines[1]["count"] == 3
    assert lines[2]["error"].startswith("ValueError at test_privacy.py:")


def test_the_log_filter_never_mangles_the_bots_own_words() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    configure_logging("DEBUG", "json", stream=stream)
    try:
        # What someone typed shares words with event names, file names and codes.
        sensitive("incident", "submit", "py", "request", "on_turn", "Pagan", "I was harassed")
        log = logging.getLogger("bot.incidents")
        log.info("incident.submitted", extra={"mode": "confidential", "kind": "incident.alert"})
        try:
            raise KeyError("I was harassed")
        except KeyError:
            log.exception("request.failed")
        log.info("declaration.saved", extra={"answer": "Pagan", "note": "I was harassed at work"})
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
    first, failed, leaked = (json.loads(line) for line in stream.getvalue().splitlines())
    # The bot's own words are intact...
    assert first["event"] == "incident.submitted" and first["logger"] == "bot.incidents"
    assert first["mode"] == "confidential" and first["kind"] == "incident.alert"
    assert failed["event"] == "request.failed"
    assert failed["error"].startswith("KeyError at test_privacy.py:")
    assert "test_the_log_filter_never_mangles_the_bots_own_words" in failed["error"]
    # ...and what the person typed, put in a field by mistake, is still caught.
    assert leaked["answer"] == REDACTED
    assert leaked["note"] == f"{REDACTED} at work"
    assert "harassed" not in stream.getvalue() and "Pagan" not in stream.getvalue()
