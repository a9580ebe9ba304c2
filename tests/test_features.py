"""The feature registry: a feature declared once is exported, erased, purged and rotated.

A fake feature with a table of its own is added here, in the test, and the privacy core's
modules (subject access, retention, rotation) handle it without being touched.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, delete, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.config import Settings
from bot.core.people import PersonKey
from bot.core.registry import EncryptedColumn, Feature, RetentionRule, Subject
from bot.db.engine import create_sessionmaker
from bot.db.models import utcnow
from bot.db.session import unit_of_work
from bot.features import FEATURES
from bot.privacy import rotation
from bot.privacy.core import build_privacy
from bot.privacy.crypto import FieldCipher, Sealed
from bot.privacy.retention import purge, retention_rules
from bot.privacy.subject_access import erase_person, export_person
from tests.harness import TEST_ENCRYPTION_KEYS, dev_settings
from tests.privacy.test_privacy import KEY_B, cipher_for

TENANT = "tenant-1"
NOTES = Table(
    "fake_feature_notes",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("pseudonym", String(64)),
    Column("note", Text),
    Column("note_key", String(32)),
    Column("written_at", DateTime(timezone=True)),
)


def note_context(note_id: object) -> str:
    return f"fake_feature_notes:{note_id}"


async def _export(session: AsyncSession, cipher: FieldCipher, subject: Subject) -> dict[str, Any]:
    rows = await session.execute(
        select(NOTES.c.id, NOTES.c.note, NOTES.c.note_key).where(
            NOTES.c.pseudonym == subject.pseudonym
        )
    )
    notes = [cipher.open(Sealed(key, note), context=note_context(i)) for i, note, key in rows]
    return {"fake_notes": notes}


async def _erase(session: AsyncSession, subject: Subject) -> dict[str, int]:
    result = await session.execute(delete(NOTES).where(NOTES.c.pseudonym == subject.pseudonym))
    return {"fake_note_rows": int(result.rowcount)}  # type: ignore[attr-defined]


def _retention(settings: object) -> list[RetentionRule]:
    async def older(session: AsyncSession, now: datetime) -> int:
        result = await session.execute(
            delete(NOTES).where(NOTES.c.written_at < now - timedelta(days=7))
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    return [RetentionRule("fake_notes", "fake notes, a week after writing", older)]


def _columns() -> list[EncryptedColumn]:
    return [
        EncryptedColumn(
            "fake_feature_notes.note", NOTES.c.id, NOTES.c.note, NOTES.c.note_key, note_context
        )
    ]


FAKE = Feature(
    name="fake",
    models=__name__,
    export=_export,
    erase=_erase,
    retention=_retention,
    encrypted_columns=_columns,
)


async def _write_notes(
    engine: AsyncEngine, cipher: FieldCipher, rows: list[tuple[str, str, datetime]]
) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(NOTES.metadata.create_all)
    sessions = create_sessionmaker(engine)
    async with unit_of_work(sessions) as session:
        for n, (pseudonym, note, at) in enumerate(rows, start=1):
            sealed = cipher.seal(note, context=note_context(n))
            await session.execute(
                NOTES.insert().values(
                    id=n,
                    pseudonym=pseudonym,
                    note=sealed.token,
                    note_key=sealed.key_id,
                    written_at=at,
                )
            )


async def test_a_declared_feature_is_exported_erased_purged_and_rotated(
    engine: AsyncEngine,
) -> None:
    settings = dev_settings()
    privacy = build_privacy(settings)
    features = (*FEATURES, FAKE)
    ana = PersonKey(TENANT, "ana-1")
    ben = PersonKey(TENANT, "ben-2")
    now = utcnow()
    await _write_notes(
        engine,
        privacy.cipher,
        [
            (privacy.pseudonyms.of(ana), "ana's first note", now),
            (privacy.pseudonyms.of(ana), "ana's old note", now - timedelta(days=30)),
            (privacy.pseudonyms.of(ben), "ben's note", now),
        ],
    )
    sessions = create_sessionmaker(engine)

    # Rotation and key usage see the new column through the registry alone.
    rotated = cipher_for(f"{KEY_B},{TEST_ENCRYPTION_KEYS}")
    async with sessions() as session:
        before = await rotation.key_usage(session, features)
    assert before["fake_feature_notes.note"] == {"ktest1": 3}
    results = await rotation.rotate(sessions, rotated, features)
    [fake] = [r for r in results if r.column == "fake_feature_notes.note"]
    assert (fake.reencrypted, fake.skipped) == (3, 0)
    async with sessions() as session:
        assert (await rotation.key_usage(session, features))["fake_feature_notes.note"] == {"kB": 3}
    privacy = dataclasses.replace(privacy, cipher=rotated)

    # The subject-access export holds the person's notes, decrypted, and nobody else's.
    async with sessions() as session:
        held = await export_person(
            session, privacy, features, tenant_id=TENANT, aad_object_id="ana-1"
        )
    assert sorted(held["fake_notes"]) == ["ana's first note", "ana's old note"]

    # Retention purges by the feature's own rule, listed with the core's.
    rules = retention_rules(settings, privacy.audit, features)
    assert "fake_notes" in [rule.kind for rule in rules]
    counts = await purge(sessions, rules, privacy.audit)
    assert counts["fake_notes"] == 1

    # Erasure removes what is left of Ana's and keeps Ben's.
    async with unit_of_work(sessions) as session:
        erased, _ = await erase_person(
            session, privacy, features, tenant_id=TENANT, aad_object_id="ana-1"
        )
    assert erased["fake_note_rows"] == 1
    async with sessions() as session:
        left = (await session.execute(select(NOTES.c.pseudonym))).scalars().all()
    assert left == [privacy.pseudonyms.of(ben)]


def test_the_registry_names_every_feature_package_once() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "bot"
    packages = {path.parent.name for path in root.glob("*/feature.py")}
    assert sorted(f.name for f in FEATURES) == sorted(packages)


async def test_every_feature_brings_its_service_conversations_and_jobs(
    engine: AsyncEngine, settings: Settings
) -> None:
    # The runtime and the app find each feature's parts through FEATURES alone: its service,
    # the conversations its dialogs' wiring returns (each started by a menu entry of the
    # content's menu), and the jobs it registers, each once, under a stable id.
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from bot.core.registry import load
    from bot.runtime import build_runtime
    from scheduler.jobs import register_jobs

    runtime = build_runtime(settings, engine)
    assert sorted(runtime.services) == sorted(f.name for f in FEATURES)
    commands = {entry.command for entry in runtime.content.menu_entries()}
    for feature in FEATURES:
        assert feature.conversations is not None and feature.jobs is not None
        started = load(feature.conversations)(runtime_wiring(runtime))
        assert started, feature.name
        assert {c.entry.command for c in started} <= commands
    scheduler = AsyncIOScheduler()
    register_jobs(scheduler, runtime)
    for feature in FEATURES:
        assert feature.jobs is not None
        assert all(job.feature == feature.name for job in load(feature.jobs))
    assert sorted(job.id for job in scheduler.get_jobs()) == [
        "action_nudges",
        "bulletin_publish",
        "declaration_review_prompts",
        "event_sweep",
        "hr_quarterly_report",
        "incident_sweep",
        "private_records_forget",
        "retention_purge",
    ]


def runtime_wiring(runtime: Any) -> Any:
    """The wiring the runtime built its conversations from, rebuilt from its parts."""
    from bot.runtime import Wiring

    return Wiring(
        runtime.settings,
        runtime.content,
        runtime.privacy,
        runtime.conversation_state,
        runtime.services,
        runtime.copy_links,
    )
