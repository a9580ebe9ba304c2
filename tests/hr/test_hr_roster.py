"""The workforce roster: import by object id or UPN, dry run, problems with line numbers,
atomic replacement, leavers' declarations removed, UPN rows linked when the person is seen.
On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import DEFAULT_CONTENT_DIR
from bot.core.content import Content
from bot.core.people import PersonKey
from bot.db import references as repo_references
from bot.db.engine import create_sessionmaker
from bot.db.models import AuditEntry
from bot.db.session import unit_of_work
from bot.declarations import feature as declarations
from bot.declarations import repo as repo_declarations
from bot.features import FEATURES
from bot.hr.config import load_hr_config
from bot.hr.models import RosterPerson, RosterUpnLink
from bot.hr.roster import RosterLinker, UpnKeys, apply_import, plan_import
from bot.privacy.core import PrivacyCore, build_privacy
from tests.cli_runner import run_cli
from tests.connector import StandInConnector
from tests.harness import dev_settings
from tests.privacy.test_privacy_cli import env_for
from tests.service import Service
from tests.teams import TeamsUser

TENANT = "tenant-one"
TODAY = date(2026, 10, 5)


def privacy() -> PrivacyCore:
    return build_privacy(dev_settings())


async def import_text(engine: AsyncEngine, text: str, *, dry_run: bool = False) -> object:
    core = privacy()
    config = load_hr_config(Content(DEFAULT_CONTENT_DIR))
    async with unit_of_work(create_sessionmaker(engine)) as session:
        plan = await plan_import(
            session,
            text=text,
            tenant_id=TENANT,
            pseudonyms=core.pseudonyms,
            upn_keys=UpnKeys(core.keys.pseudonym),
            config=config,
        )
        if plan.ok and not dry_run:
            await apply_import(
                session,
                plan,
                audit=core.audit,
                pseudonyms=core.pseudonyms,
                actor="cli:test",
                today=TODAY,
            )
    return plan


async def roster_rows(engine: AsyncEngine) -> list[RosterPerson]:
    async with create_sessionmaker(engine)() as session:
        return list((await session.execute(select(RosterPerson))).scalars())


async def declare(engine: AsyncEngine, pseudonym: str) -> None:
    async with unit_of_work(create_sessionmaker(engine)) as session:
        await repo_declarations.create_declaration(session, pseudonym=pseudonym, today=TODAY)
        await repo_declarations.put_answer(
            session,
            pseudonym=pseudonym,
            question="sex",
            code="female",
            taxonomy_version="2026.1",
            today=TODAY,
        )


async def test_a_dry_run_lists_every_problem_by_line_and_writes_nothing(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "Object ID,Department,Grade,Start date,Name\n"
        "aaa,Adults and Communities,7,2020-01-06,Someone\n"
        "bbb,,12,,x\n"
        "AAA,Public Health,14,,y\n"
        "ccc,Public Health,Grade Z,,z\n"
        "ddd,Public Health,3,31/02/2020,w\n"
        "sam.jones@leics.example,Public Health,9,,v\n"
        "Sam Jones,Public Health,9,,u\n",
        encoding="utf-8",
    )
    code, out, _ = await run_cli(
        "roster", "import", str(roster), "--tenant", TENANT, "--dry-run", env=env_for(database_url)
    )
    # An unknown column is one problem among the rest: the rows are still checked, so one
    # run lists everything to fix.
    assert code == 1
    assert "line 1: unknown column 'Name' (column 5)" in out
    assert "line 3: blank department" in out
    assert "line 4: the same person as line 2" in out  # object ids are not case-sensitive
    assert "line 5: grade 'Grade Z' is not a grade number" in out
    assert "line 6: start date is not a date" in out
    # A UPN, or a name, in the object_id column is not taken for an id.
    assert (
        "line 7: the object_id column holds a UPN or e-mail address: put it in a upn column"
    ) in out
    assert "line 8: the object_id is not an Entra object id" in out
    assert "nothing was imported" in out
    assert await roster_rows(engine) == []
    # Without a column that says who the people are, the rows are not read at all.
    roster.write_text("Name,Department,Grade\nSam,Public Health,9\n", encoding="utf-8")
    code, out, _ = await run_cli(
        "roster", "import", str(roster), "--tenant", TENANT, "--dry-run", env=env_for(database_url)
    )
    assert code == 1 and "needs an object_id column, a upn column, or both" in out
    assert "line 2" not in out


async def test_a_dry_run_on_a_new_database_checks_the_file_without_db_upgrade(
    database_url: str, tmp_path: Path
) -> None:
    """`database_url` alone is a new, empty database on each backend."""
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "object_id,department,grade\naaa,Public Health,9\nbbb,Public Health,14\n",
        encoding="utf-8",
    )
    env = env_for(database_url)
    code, out, _ = await run_cli(
        "roster", "import", str(roster), "--tenant", TENANT, "--dry-run", env=env
    )
    assert code == 0, out
    assert "run `edi-bot db upgrade` before the real thing" in out
    assert "People: 2 (2 by object id" in out and "Dry run: nothing was written." in out
    # The real import still needs the schema, and says so.
    code, out, _ = await run_cli("roster", "import", str(roster), "--tenant", TENANT, env=env)
    assert code == 2 and "run `edi-bot db upgrade` first" in out


async def test_import_by_object_id_uses_the_declarations_pseudonym_and_replaces_atomically(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    core = privacy()
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "aad_object_id,directorate,grade_band\n"
        "11111111-aaaa,Adults and Communities,7\n"
        "22222222-bbbb,Chief Executive's,Chief officers\n"
        "33333333-cccc,Public Health,grade_13_15\n",
        encoding="utf-8",
    )
    code, out, _ = await run_cli(
        "roster", "import", str(roster), "--tenant", TENANT, "--dry-run", env=env_for(database_url)
    )
    assert code == 0, out
    assert "People: 3 (3 by object id" in out and "Dry run: nothing was written." in out
    assert await roster_rows(engine) == []
    code, out, _ = await run_cli(
        "roster", "import", str(roster), "--tenant", TENANT, env=env_for(database_url)
    )
    assert code == 0, out
    assert "Imported 3 people" in out
    rows = await roster_rows(engine)
    expected = core.pseudonyms.of(PersonKey(TENANT, "11111111-AAAA"))
    assert expected in {r.pseudonym for r in rows}
    assert {r.grade_band for r in rows} == {"grade_5_8", "chief_officer", "grade_13_15"}
    # Nothing in the table is an object id.
    assert not any("11111111" in (r.pseudonym or "") for r in rows)
    # A file with a problem changes nothing at all.
    roster.write_text("aad_object_id,directorate,grade_band\nx,,7\n", encoding="utf-8")
    code, _, _ = await run_cli(
        "roster", "import", str(roster), "--tenant", TENANT, env=env_for(database_url)
    )
    assert code == 1
    assert len(await roster_rows(engine)) == 3
    async with create_sessionmaker(engine)() as session:
        actions = (await session.execute(select(AuditEntry.action))).scalars().all()
    assert actions.count("roster.imported") == 1


async def test_leavers_lose_their_declarations_and_a_mass_exodus_is_refused(
    engine: AsyncEngine,
) -> None:
    core = privacy()
    people = [f"person-{n}" for n in range(10)]
    lines = "".join(f"{p},Corporate Resources,5\n" for p in people)
    await import_text(engine, "object_id,department,grade\n" + lines)
    pseudonyms = [core.pseudonyms.of(PersonKey(TENANT, p)) for p in people]
    for pseudonym in pseudonyms[:3]:
        await declare(engine, pseudonym)
    outsider = core.pseudonyms.of(PersonKey(TENANT, "never-on-a-roster"))
    await declare(engine, outsider)
    async with unit_of_work(create_sessionmaker(engine)) as session:
        for who in ("person-0", "person-1"):
            await repo_references.upsert_reference(
                session,
                person=PersonKey(TENANT, who),
                conversation_id=f"a:{who}",
                service_url="http://127.0.0.1:1/",
                reference={"conversation": {"id": f"a:{who}"}},
            )
    # Person 0 leaves (10% of the roster): their declaration goes, the others stay.
    plan = await import_text(
        engine, "object_id,department,grade\n" + "".join(lines.splitlines(True)[1:]), dry_run=True
    )
    assert plan.leavers == [pseudonyms[0]] and plan.leaver_declarations == 1  # type: ignore[attr-defined]
    await import_text(engine, "object_id,department,grade\n" + "".join(lines.splitlines(True)[1:]))
    async with create_sessionmaker(engine)() as session:
        left = await repo_declarations.get_declaration(session, pseudonym=pseudonyms[0])
        stayed = await repo_declarations.get_declaration(session, pseudonym=pseudonyms[1])
        never = await repo_declarations.get_declaration(session, pseudonym=outsider)
    assert left is None and stayed is not None and never is not None
    async with create_sessionmaker(engine)() as session:
        reachable = await repo_references.active_people(session)
    assert reachable == [PersonKey(TENANT, "person-1")]  # the leaver's reference went too
    # Half the roster missing looks like a wrong file: refused unless confirmed.
    plan = await import_text(
        engine, "object_id,department,grade\n" + "".join(lines.splitlines(True)[5:]), dry_run=True
    )
    assert plan.too_many_leavers  # type: ignore[attr-defined]


async def test_upn_rows_link_when_the_person_is_seen_and_stay_linked_on_the_next_import(
    engine: AsyncEngine,
) -> None:
    core = privacy()
    upn_keys = UpnKeys(core.keys.pseudonym)
    linker = RosterLinker(pseudonyms=core.pseudonyms, upn_keys=upn_keys)
    plan = await import_text(
        engine,
        "upn,department,grade\n"
        "Sam.Jones@LeicsCC.example,Public Health,9\n"
        "kim.lee@leicscc.example,Public Health,9\n",
    )
    assert plan.by_upn == 2  # type: ignore[attr-defined]
    rows = await roster_rows(engine)
    assert all(r.pseudonym is None and r.upn_key for r in rows)
    assert not any("@" in (r.upn_key or "") for r in rows)
    sam = PersonKey(TENANT, "sam-object-id")
    asked: list[str] = []

    async def lookup() -> str | None:
        asked.append("sam")
        return "sam.jones@leicscc.example"

    sessions = create_sessionmaker(engine)
    async with unit_of_work(sessions) as session:
        assert await linker.seen(session, person=sam, lookup_upn=lookup, today=TODAY)
    async with unit_of_work(sessions) as session:
        # Known now: Teams is not asked again.
        assert not await linker.seen(session, person=sam, lookup_upn=lookup, today=TODAY)
    assert asked == ["sam"]
    rows = await roster_rows(engine)
    assert core.pseudonyms.of(sam) in {r.pseudonym for r in rows}
    # The next roster names Sam by UPN again: linked at import, and Sam's declaration counts.
    await declare(engine, core.pseudonyms.of(sam))
    plan = await import_text(
        engine,
        "upn,department,grade\nsam.jones@leicscc.example,Public Health,9\n"
        "kim.lee@leicscc.example,Public Health,9\n",
    )
    assert plan.upn_linked == 1 and plan.leavers == []  # type: ignore[attr-defined]
    async with sessions() as session:
        answers = declarations.answers_select().subquery()
        counts = (
            await session.execute(
                select(RosterPerson.department, answers.c.question, answers.c.code, func.count())
                .join(answers, answers.c.pseudonym == RosterPerson.pseudonym)
                .group_by(RosterPerson.department, answers.c.question, answers.c.code)
            )
        ).all()
        links = (await session.execute(select(func.count()).select_from(RosterUpnLink))).scalar()
    assert [tuple(row) for row in counts] == [("Public Health", "sex", "female", 1)]
    assert links == 1
    # Someone not on the roster is asked for once (Kim is still unlinked), then never again.
    other = PersonKey(TENANT, "someone-else")

    async def other_lookup() -> str | None:
        asked.append("other")
        return "someone.else@leicscc.example"

    for _ in range(2):
        async with unit_of_work(sessions) as session:
            await linker.seen(session, person=other, lookup_upn=other_lookup, today=TODAY)
    assert asked == ["sam", "other"]


async def test_subject_access_shows_the_roster_row_and_erasure_removes_it(
    engine: AsyncEngine,
) -> None:
    from bot.privacy.subject_access import erase_person, export_person

    core = privacy()
    await import_text(engine, "object_id,department,grade\nalex-1,Public Health,14\n")
    sessions = create_sessionmaker(engine)
    async with unit_of_work(sessions) as session:
        held = await export_person(
            session, core, FEATURES, tenant_id=TENANT, aad_object_id="alex-1"
        )
    assert held["workforce_roster"]["department"] == "Public Health"
    assert held["workforce_roster"]["grade_band"] == "grade_13_15"
    async with unit_of_work(sessions) as session:
        counts, _ = await erase_person(
            session, core, FEATURES, tenant_id=TENANT, aad_object_id="alex-1"
        )
    assert counts["roster_rows"] == 1
    assert await roster_rows(engine) == []


async def test_a_person_on_the_roster_by_upn_is_linked_when_they_first_message_the_bot(
    service: Service, connector: StandInConnector, engine: AsyncEngine
) -> None:
    user = TeamsUser(name="Sam Jones")
    connector.add_member(
        user.user_id,
        name=user.name,
        aad_object_id=user.aad_object_id,
        upn="Sam.Jones@leics.example",
    )
    core = privacy()
    config = load_hr_config(Content(DEFAULT_CONTENT_DIR))
    async with unit_of_work(create_sessionmaker(engine)) as session:
        plan = await plan_import(
            session,
            text="upn,department,grade\nsam.jones@leics.example,Public Health,9\n",
            tenant_id=user.tenant_id,
            pseudonyms=core.pseudonyms,
            upn_keys=UpnKeys(core.keys.pseudonym),
            config=config,
        )
        await apply_import(
            session, plan, audit=core.audit, pseudonyms=core.pseudonyms, actor="cli:t", today=TODAY
        )
    assert [r.pseudonym for r in await roster_rows(engine)] == [None]

    status, _ = await service.post(user.message("hi", connector.url))
    assert status == 201
    person = PersonKey(user.tenant_id, user.aad_object_id)
    assert [r.pseudonym for r in await roster_rows(engine)] == [core.pseudonyms.of(person)]
