"""People by name, on SQLite and PostgreSQL: the display name Teams sends is kept sealed when
a person uses the bot (never in plain text, not even in the stored conversation reference),
shown to operators who list people (roles, organisers, a rehearsal's recipients) with the id
beside it, updated when it changes, exported to the person, erased with them and covered by
key rotation; someone not yet seen is shown by id."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.db.engine import create_sessionmaker
from bot.db.session import unit_of_work
from bot.features import FEATURES
from bot.privacy import rotation
from bot.privacy.roles import Role, grant_role
from bot.privacy.subject_access import erase_person, export_person
from tests.cli_runner import run_cli
from tests.harness import BotHarness
from tests.privacy.test_privacy_cli import env_for
from tests.teams import TeamsUser


async def grant(engine: AsyncEngine, role: Role, person: str) -> None:
    async with unit_of_work(create_sessionmaker(engine)) as session:
        await grant_role(session, role=role, person=person, tenant_id=None, granted_by="test")


async def roles_list(database_url: str) -> str:
    code, out, _ = await run_cli("roles", "list", env=env_for(database_url))
    assert code == 0
    return out


async def test_a_name_is_kept_sealed_shown_to_operators_updated_exported_and_erased(
    settings: Settings, engine: AsyncEngine, database_url: str
) -> None:
    priya = TeamsUser(name="Priya Sharma")
    chat = BotHarness(settings, engine, priya)
    await chat.send(priya.installed(chat.SERVICE_URL))
    await chat.say("hello")
    never_seen = "5b0c6a52-0000-4000-8000-00000000abcd"
    await grant(engine, Role.CASE_HANDLER, priya.aad_object_id)
    await grant(engine, Role.CASE_HANDLER, never_seen)

    listed = await roles_list(database_url)
    assert f"case_handler  Priya Sharma ({priya.aad_object_id})" in listed
    assert f"case_handler  {never_seen}  granted" in listed  # not seen yet: the id only

    # Nowhere in plain text: not the name table, not the stored conversation reference.
    async with engine.connect() as connection:
        rows = (await connection.execute(text("SELECT * FROM people_names"))).all()
        references = (
            await connection.execute(text("SELECT reference FROM conversation_references"))
        ).scalars()
        assert len(rows) == 1 and "Priya" not in repr(rows)
        assert all("Priya" not in reference for reference in references)
    async with create_sessionmaker(engine)() as session:
        usage = await rotation.key_usage(session, FEATURES)
    assert sum(usage["people_names.name"].values()) == 1

    # A new name in Teams is the name shown from then on.
    renamed = TeamsUser(
        name="Priya Sharma-Jones",
        aad_object_id=priya.aad_object_id,
        conversation_id=priya.conversation_id,
    )
    await BotHarness(settings, engine, renamed).say("menu")
    assert f"Priya Sharma-Jones ({priya.aad_object_id})" in await roles_list(database_url)

    sessions = create_sessionmaker(engine)
    async with unit_of_work(sessions) as session:
        held = await export_person(
            session,
            chat.runtime.privacy,
            FEATURES,
            tenant_id=priya.tenant_id,
            aad_object_id=priya.aad_object_id,
        )
    assert held["display_name"] == "Priya Sharma-Jones"
    async with unit_of_work(sessions) as session:
        counts, _ = await erase_person(
            session,
            chat.runtime.privacy,
            FEATURES,
            tenant_id=priya.tenant_id,
            aad_object_id=priya.aad_object_id,
        )
    assert counts["display_name"] == 1
    async with engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM people_names"))).scalar() == 0


async def test_a_blank_or_huge_name_is_handled_without_fuss(
    settings: Settings, engine: AsyncEngine, database_url: str
) -> None:
    blank = TeamsUser(name="   ")
    huge = TeamsUser(name="A" * 5000)
    for user in (blank, huge):
        chat = BotHarness(settings, engine, user)
        await chat.send(user.installed(chat.SERVICE_URL))
        await grant(engine, Role.ORGANISER, user.aad_object_id)
    listed = await roles_list(database_url)
    assert f"organiser     {blank.aad_object_id}  granted" in listed
    assert f"organiser     {'A' * 200} ({huge.aad_object_id})" in listed


async def test_a_leaver_taken_off_the_roster_loses_their_name_with_their_reference(
    engine: AsyncEngine, database_url: str
) -> None:
    from bot.core.people import PersonKey
    from bot.db import references as repo_references
    from bot.privacy.names_repo import remember_name
    from tests.hr.test_hr_roster import TENANT, import_text, privacy

    lines = "".join(f"person-{n},Corporate Resources,5\n" for n in range(10))
    await import_text(engine, "object_id,department,grade\n" + lines)
    sessions = create_sessionmaker(engine)
    async with unit_of_work(sessions) as session:
        for who, name in (("person-0", "Lee Leaver"), ("person-1", "Stacey Stayer")):
            person = PersonKey(TENANT, who)
            await repo_references.upsert_reference(
                session,
                person=person,
                conversation_id=f"a:{who}",
                service_url="http://127.0.0.1:1/",
                reference={"conversation": {"id": f"a:{who}"}},
            )
            await remember_name(session, privacy().cipher, person, name)
    for who in ("person-0", "person-1"):
        await grant(engine, Role.ORGANISER, who)
    await import_text(engine, "object_id,department,grade\n" + "".join(lines.splitlines(True)[1:]))
    listed = await roles_list(database_url)
    assert "Stacey Stayer (person-1)" in listed
    assert "Lee Leaver" not in listed and "organiser     person-0  granted" in listed
