"""The pattern check's entries under the privacy core, on SQLite and PostgreSQL: the named
person's subject access and erasure (`edi-bot cases patterns find|forget`), the DPO ending
the check (`purge`), retention (entries go with their report; unmatched ones after
EDI_PATTERNS_UNMATCHED_YEARS), key rotation; and the hash's own rules."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.core.people import PersonKey
from bot.db.models import AuditEntry, utcnow
from bot.db.session import unit_of_work
from bot.features import FEATURES
from bot.incidents.models import IncidentPatternCheck, IncidentReport, pattern_context
from bot.incidents.patterns import (
    DIRECTORY,
    TYPED,
    is_directory_id,
    normalise_name,
    pattern_key,
    person_hash,
)
from bot.privacy import rotation
from bot.privacy.crypto import Sealed
from bot.privacy.pseudonym import Pseudonymiser
from bot.privacy.retention import purge, retention_rules
from tests.chat import Chat
from tests.cli_runner import run_cli
from tests.connector import StandInConnector
from tests.harness import TEST_ENCRYPTION_KEYS, dev_settings
from tests.incidents.test_incidents import count, receipt_value, runtime_of
from tests.incidents.test_patterns import report_naming
from tests.privacy.test_privacy import KEY_B, cipher_for
from tests.privacy.test_privacy_cli import env_for
from tests.service import Service
from tests.teams import DEFAULT_TENANT, TeamsUser

pytestmark = pytest.mark.e2e


@pytest.fixture
def settings(database_url: str) -> Settings:
    return dev_settings(database_url=database_url, outbox_worker=False, patterns_enabled=True)


async def reports(service: Service, connector: StandInConnector, named: list[str]) -> list[str]:
    """One confidential report per entry of `named` (a directory id or a typed name), each
    by someone else; their references."""
    references = []
    for number, who in enumerate(named):
        chat = Chat(service, connector, TeamsUser(name=f"Reporter {number}"))
        if is_directory_id(who):
            receipt = await report_naming(chat, "Confidentially", person=who)
        else:
            receipt = await report_naming(chat, "Confidentially", name=who)
        references.append(receipt_value(receipt, "Your reference"))
    return references


async def test_the_named_person_can_be_found_and_forgotten_by_the_dpo(
    service: Service, connector: StandInConnector, database_url: str
) -> None:
    named, other = str(uuid.uuid4()), str(uuid.uuid4())
    first, second, third = await reports(service, connector, [named, named, other])
    env = {**env_for(database_url), "EDI_ALLOWED_TENANTS": DEFAULT_TENANT}

    code, out, _ = await run_cli("cases", "patterns", "status", env=env)
    assert code == 0
    assert "The pattern check is off" in out  # EDI_PATTERNS_ENABLED is not set for the CLI
    assert "3 entries kept; 2 were part of an alert." in out

    code, out, _ = await run_cli("cases", "patterns", "find", "--person", named.upper(), env=env)
    assert code == 0
    lines = out.splitlines()
    assert sorted(line.split()[0] for line in lines[:-1]) == sorted([first, second])
    assert all("part of an alert" in line for line in lines[:-1])
    assert lines[-1] == "2 entries found." and third not in out

    # Forgetting: counted first, deleted only with --yes, audited by pseudonym and count.
    code, out, _ = await run_cli("cases", "patterns", "forget", "--person", named, env=env)
    assert (code, out) == (0, "2 entries would be deleted. Add --yes to delete them.\n")
    assert await count(service, IncidentPatternCheck) == 3
    forget = ("cases", "patterns", "forget", "--person", named, "--yes")
    assert (await run_cli(*forget, env=env))[:2] == (0, "2 entries deleted.\n")
    assert await count(service, IncidentPatternCheck) == 1
    code, out, _ = await run_cli("cases", "patterns", "find", "--person", named, env=env)
    assert out == "0 entries found.\n"
    async with runtime_of(service).sessions() as session:
        entries = (
            await session.execute(
                select(AuditEntry).where(AuditEntry.action.like("incident.patterns_%"))
            )
        ).scalars()
        audited = {(e.action, e.object_id) for e in entries}
    pseudonym = runtime_of(service).privacy.pseudonyms.of(PersonKey(DEFAULT_TENANT, named))
    assert ("incident.patterns_forgotten", pseudonym) in audited
    assert ("incident.patterns_searched", pseudonym) in audited

    # A report's own entry (its reporter takes back their consent), then every entry.
    code, out, _ = await run_cli(
        "cases", "patterns", "forget", "--report", third.lower(), "--yes", env=env
    )
    assert (code, out) == (0, "1 entries deleted.\n")
    await reports(service, connector, ["Jo Bloggs"])
    code, out, _ = await run_cli("cases", "patterns", "find", "--name", "JO BLOGGS", env=env)
    assert out.endswith("1 entries found.\n")
    assert (await run_cli("cases", "patterns", "purge", env=env))[1].startswith("1 entries would")
    assert (await run_cli("cases", "patterns", "purge", "--yes", env=env))[:2] == (
        0,
        "1 entries deleted. None are left.\n",
    )
    assert await count(service, IncidentPatternCheck) == 0


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("find", "--person", "sam@leics.gov.uk"), "is not an Entra object id"),
        (("forget", "--report", "nonsense", "--yes"), "is not a case reference"),
        (("find", "--name", "Jo Bloggs"), "can't tell which Microsoft 365 tenant"),
    ],
)
async def test_the_commands_refuse_what_they_cannot_use(
    database_url: str, engine: AsyncEngine, args: tuple[str, ...], says: str
) -> None:
    code, out, _ = await run_cli("cases", "patterns", *args, env=env_for(database_url))
    assert code == 2 and out.startswith("edi-bot: ") and says in out


async def test_entries_go_with_their_report_and_unmatched_ones_after_the_years(
    service: Service, connector: StandInConnector, settings: Settings
) -> None:
    named, alone = str(uuid.uuid4()), str(uuid.uuid4())
    first, _second, lone = await reports(service, connector, [named, named, alone])
    runtime = runtime_of(service)
    rules = retention_rules(settings, runtime.privacy.audit, FEATURES)
    assert any(rule.kind == "incident_patterns" for rule in rules)
    # Nothing is due today.
    counts = await purge(runtime.sessions, rules, runtime.privacy.audit)
    assert counts["incident_patterns"] == 0
    # A report deleted (as the incidents rule deletes closed cases): its entry goes too.
    async with unit_of_work(runtime.sessions) as session:
        await session.execute(delete(IncidentReport).where(IncidentReport.reference == first))
    counts = await purge(runtime.sessions, rules, runtime.privacy.audit)
    assert counts["incident_patterns"] == 1
    assert await count(service, IncidentPatternCheck) == 2
    # Four years on: the entry nobody matched goes; the matched one stays with its report.
    later = utcnow() + timedelta(days=4 * 366)
    counts = await purge(runtime.sessions, rules, runtime.privacy.audit, now=later)
    assert counts["incident_patterns"] == 1
    async with runtime.sessions() as session:
        [left] = (await session.execute(select(IncidentPatternCheck))).scalars()
        assert left.alerted
        assert runtime.incidents.opened_reference(left) not in (first, lone)


async def test_key_rotation_reseals_the_references(
    service: Service, connector: StandInConnector
) -> None:
    named = str(uuid.uuid4())
    references = await reports(service, connector, [named, named])
    runtime = runtime_of(service)
    rotated = cipher_for(f"{KEY_B},{TEST_ENCRYPTION_KEYS}")
    results = await rotation.rotate(runtime.sessions, rotated, FEATURES)
    [result] = [r for r in results if r.column == "incident_pattern_checks.report"]
    assert (result.reencrypted, result.skipped) == (2, 0)
    async with runtime.sessions() as session:
        usage = await rotation.key_usage(session, FEATURES)
        entries = list((await session.execute(select(IncidentPatternCheck))).scalars())
    assert usage["incident_pattern_checks.report"] == {"kB": 2}
    # Key B alone opens them now, each bound to its own row.
    assert sorted(
        cipher_for(KEY_B).open(Sealed(e.report_key, e.report), context=pattern_context(e.id))
        for e in entries
    ) == sorted(references)


def test_the_hash_is_keyed_in_a_domain_of_its_own() -> None:
    key = pattern_key(bytes(range(32, 64)))
    person = str(uuid.uuid4())
    chosen = person_hash(key, kind=DIRECTORY, tenant_id="T-1", value=person)
    # The same person however the id is written; another tenant or key is another hash.
    assert person_hash(key, kind=DIRECTORY, tenant_id="t-1", value=person.upper()) == chosen
    assert person_hash(key, kind=DIRECTORY, tenant_id="t-2", value=person) != chosen
    assert person_hash(pattern_key(b"x" * 32), kind=DIRECTORY, tenant_id="t-1", value=person) != (
        chosen
    )
    # Never the person's pseudonym, nor an unkeyed hash of the id, nor a typed name's hash.
    assert chosen != Pseudonymiser(bytes(range(32, 64))).of(PersonKey("t-1", person))
    assert chosen != hashlib.sha256(person.encode()).hexdigest()
    assert key != bytes(range(32, 64))
    assert chosen != person_hash(key, kind=TYPED, tenant_id="t-1", value=person)
    expected = hmac.new(key, f"pattern-person:t-1:{person}".encode(), hashlib.sha256)
    assert chosen == expected.hexdigest()


def test_typed_names_are_compared_without_case_accents_punctuation_or_spacing() -> None:
    assert normalise_name("  Zoë  O'Neil-Smith. ") == "zoe o neil smith"
    assert normalise_name("ZOE O NEIL SMITH") == "zoe o neil smith"
    assert normalise_name("Joanne Bloggs") != normalise_name("Jo Bloggs")
    assert is_directory_id("0F8FAD5B-D9CB-469F-A165-70867728950E")
    for forged in ("sam@leics.gov.uk", "0f8fad5b", "0f8fad5b-d9cb-469f-a165-70867728950e,x", ""):
        assert not is_directory_id(forged)
