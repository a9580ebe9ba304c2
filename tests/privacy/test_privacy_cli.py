"""`edi-bot keys|roles|audit|retention` as an operator runs them."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channel.storage import SqlStorage
from bot.config import Settings
from bot.core.people import PersonKey
from bot.db.engine import create_sessionmaker
from bot.db.models import utcnow
from bot.privacy.keys import parse_encryption_keys, parse_pseudonym_key
from tests.cli_runner import run_cli
from tests.harness import TEST_ENCRYPTION_KEYS, TEST_PSEUDONYM_KEY, BotHarness
from tests.privacy.test_privacy import KEY_A, cipher_for
from tests.test_process import _env


def env_for(database_url: str, keys: str = TEST_ENCRYPTION_KEYS) -> dict[str, str]:
    return _env(
        EDI_DATABASE_URL=database_url,
        EDI_ENCRYPTION_KEYS=keys,
        EDI_PSEUDONYM_KEY=TEST_PSEUDONYM_KEY,
    )


async def test_keys_generate_prints_settings_that_load(tmp_path: object) -> None:
    code, out, _ = await run_cli("keys", "generate", env=_env())
    assert code == 0
    values = dict(line.split("=", 1) for line in out.splitlines() if not line.startswith("#"))
    keys, active = parse_encryption_keys(values["EDI_ENCRYPTION_KEYS"])
    assert len(keys[active]) == 32
    assert len(parse_pseudonym_key(values["EDI_PSEUDONYM_KEY"])) == 32


async def test_commands_refuse_an_old_schema(database_url: str) -> None:
    assert await run_cli("roles", "list", env=env_for(database_url)) == (
        2,
        "edi-bot: the database schema is behind; run `edi-bot db upgrade` first\n",
        "",
    )


async def test_roles_grant_list_revoke_are_audited(engine: AsyncEngine, database_url: str) -> None:
    env = env_for(database_url)
    assert (await run_cli("roles", "grant", "hr", "Pat.Lee@council.example", env=env))[:2] == (
        0,
        "Pat.Lee@council.example now holds the hr role\n",
    )
    assert (await run_cli("roles", "grant", "hr", "pat.lee@council.example", env=env))[1] == (
        "pat.lee@council.example already held the hr role\n"
    )
    code, out, _ = await run_cli("roles", "list", env=env)
    assert code == 0
    assert out.startswith("hr            pat.lee@council.example (by UPN: binds when they next")
    assert (await run_cli("roles", "grant", "wizard", "x", env=env))[:2] == (
        2,
        "edi-bot: unknown role 'wizard'; choose one of: admin, hr, case_handler, "
        "organiser, action_lead, board_chair\n",
    )
    assert (await run_cli("roles", "revoke", "hr", "pat.lee@council.example", env=env))[:2] == (
        0,
        "pat.lee@council.example no longer holds the hr role\n",
    )
    code, out, _ = await run_cli("audit", "show", env=env)
    actions = [line.split()[4] for line in out.splitlines()]
    assert actions == ["roles.grant", "roles.revoke"]
    assert "cli:" in out
    assert await run_cli("audit", "verify", env=env) == (0, "audit chain intact: 2 entries\n", "")
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE audit_log SET detail = '{}' WHERE id = 1"))
    assert await run_cli("audit", "verify", env=env) == (
        1,
        "audit chain BROKEN (1 problems in 2 entries):\n  entry #1 was altered\n",
        "",
    )


async def test_keys_rotate_shows_progress_and_status_says_when_a_key_can_go(
    engine: AsyncEngine, database_url: str
) -> None:
    storage = SqlStorage(engine, create_sessionmaker(engine), cipher_for(KEY_A))
    for n in range(3):
        await storage.write({f"conv/{n}": {"answer": n}})
    env = env_for(database_url, keys=f"{TEST_ENCRYPTION_KEYS},{KEY_A}")
    code, out, _ = await run_cli("keys", "status", env=env)
    # Every encrypted column is listed; only the conversation state holds values here.
    assert [line for line in out.splitlines()[1:] if not line.endswith(": empty")] == [
        "bot_state.document: kA: 3",
        "3 values are not on the active key: run `edi-bot keys rotate`",
    ]
    assert "incident_reports.details: empty" in out
    code, out, _ = await run_cli("keys", "rotate", "--batch-size", "2", env=env)
    assert code == 0
    assert [line for line in out.splitlines() if "0 re-encrypted, 0 skipped" not in line] == [
        "re-encrypting under key ktest1 in batches of 2",
        "bot_state.document: 2 of 3 re-encrypted",
        "bot_state.document: 3 of 3 re-encrypted",
        "bot_state.document: 3 re-encrypted, 0 skipped",
    ]
    code, out, _ = await run_cli("keys", "status", env=env)
    assert [line for line in out.splitlines()[1:] if not line.endswith(": empty")] == [
        "bot_state.document: ktest1: 3",
        "no value uses kA any more: it can be removed from settings",
    ]


async def test_retention_purge_now(engine: AsyncEngine, database_url: str) -> None:
    storage = SqlStorage(engine, create_sessionmaker(engine), cipher_for(TEST_ENCRYPTION_KEYS))
    await storage.write({"stale": {"n": 1}, "fresh": {"n": 2}})
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE bot_state SET updated_at = :t WHERE key = 'stale'"),
            {"t": utcnow() - timedelta(days=45)},
        )
    code, out, _ = await run_cli("retention", "purge", env=env_for(database_url))
    lines = out.splitlines()
    assert code == 0
    assert lines[:3] == [
        "rule drafts: unfinished conversations, 30 days after last use",
        "rule audit: audit entries, 7 years after writing",
        "rule outbox: proactive messages and who they went to, 90 days after queueing once "
        "nothing is left to send",
    ]
    assert (
        "rule incidents: hate-incident reports, their messages and history, 6 years after "
        "the case was closed"
    ) in lines
    assert all(line.startswith("rule ") for line in lines[:-1])
    assert lines[-1].startswith("deleted: drafts 1, audit 0, outbox 0, incidents 0")


async def test_a_person_can_be_exported_and_erased(
    engine: AsyncEngine, database_url: str, settings: Settings
) -> None:
    chat = BotHarness(settings, engine)
    await chat.send(chat.user.installed(chat.SERVICE_URL))
    await chat.say("about")  # an unfinished conversation
    env = env_for(database_url)
    user = chat.user
    await run_cli("roles", "grant", "organiser", user.aad_object_id, env=env)

    code, out, _ = await run_cli(
        "person", "export", user.aad_object_id, "--tenant", user.tenant_id, env=env
    )
    exported = json.loads(out)
    assert code == 0
    assert exported["pseudonym"] == chat.runtime.privacy.pseudonyms.of(
        PersonKey(user.tenant_id, user.aad_object_id)
    )
    assert [r["conversation_id"] for r in exported["conversation_references"]] == [
        user.conversation_id
    ]
    [state] = exported["unfinished_conversations"]
    assert "AboutEdiDialog" in state["unfinished_conversation"]  # decrypted for the person
    assert [g["role"] for g in exported["roles"]] == ["organiser"]

    assert (
        await run_cli("person", "erase", user.aad_object_id, "--tenant", user.tenant_id, env=env)
    )[:2] == (2, "this deletes the person's data for good; run again with --yes to confirm\n")
    code, out, err = await run_cli(
        "person", "erase", user.aad_object_id, "--tenant", user.tenant_id, "--yes", env=env
    )
    assert code == 0, err
    deleted = dict(
        part.rsplit(" ", 1) for part in out.removeprefix("deleted: ").strip().split(", ")
    )
    assert {k: deleted[k] for k in ("unfinished_conversations", "conversation_references")} == {
        "unfinished_conversations": "1",
        "conversation_references": "1",
    }
    assert deleted["roles"] == "1" and deleted["incident_reports_unlinked"] == "0"
    code, out, _ = await run_cli(
        "person", "export", user.aad_object_id, "--tenant", user.tenant_id, env=env
    )
    after = json.loads(out)
    assert after["conversation_references"] == after["unfinished_conversations"] == []
    assert after["roles"] == []
    code, out, _ = await run_cli("audit", "show", env=env)
    assert "person.erase pseudonym:" + exported["pseudonym"] in out
    assert user.aad_object_id not in out.split("person.erase")[1]


async def test_roles_granted_to_a_upn_not_yet_used_are_exported_and_erased_with_upn(
    engine: AsyncEngine, database_url: str
) -> None:
    """A role granted by UPN binds to the object id only when its holder next uses the bot;
    until then `--upn` brings it into the person's export and erasure."""
    env = env_for(database_url)
    person = ["person", "export", "aad-of-sam", "--tenant", "t1"]
    await run_cli("roles", "grant", "case_handler", "Sam.Patel@leics.example", env=env)
    await run_cli("roles", "grant", "hr", "someone.else@leics.example", env=env)
    code, out, _ = await run_cli(*person, env=env)
    assert code == 0 and json.loads(out)["roles"] == []  # by object id alone: not found
    code, out, _ = await run_cli(*person, "--upn", "sam.patel@leics.example", env=env)
    assert code == 0 and [g["role"] for g in json.loads(out)["roles"]] == ["case_handler"]
    code, out, _ = await run_cli(
        "person",
        "erase",
        "aad-of-sam",
        "--tenant",
        "t1",
        "--upn",
        "SAM.PATEL@leics.example",
        "--yes",
        env=env,
    )
    assert code == 0 and "roles 1" in out
    code, out, _ = await run_cli("roles", "list", env=env)
    assert "sam.patel" not in out.lower() and "someone.else@leics.example" in out
