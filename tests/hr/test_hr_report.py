"""The quarterly HR report: SQL counts (with cell keys) through disclosure control into CSV,
HTML (rendered in headless Chromium), the chat card for HR only, and the quarterly card sent
once. On SQLite and PostgreSQL.

Figures carry the cell key method's noise, so a test works out what a figure must be shown
as from the people in it: their record keys (as `RecordKeys.of` computes them, independently
of the SQL that sums them), the release's perturbation and the rounding rule."""

from __future__ import annotations

import csv
import os
import random
import shutil
import subprocess
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.app import RUNTIME_KEY
from bot.config import DEFAULT_CONTENT_DIR, PROJECT_ROOT, Settings
from bot.core.clock import today_in_london
from bot.core.content import Content
from bot.core.people import PersonKey
from bot.db.engine import create_sessionmaker
from bot.db.models import AuditEntry
from bot.db.session import unit_of_work
from bot.declarations.models import Declaration, DeclarationAnswer
from bot.features import FEATURES
from bot.hr.cellkey import KEY_RANGE
from bot.hr.dataset import PROTECTS, TOO_FEW, Release
from bot.hr.factory import build_hr_reports, record_keys_of
from bot.hr.quarters import Quarter
from bot.hr.repo import RosterRow, replace_roster
from bot.hr.report import render_html, write_csv, write_html
from bot.hr.service import HrReports, QuarterReport, QuarterUnavailable
from bot.incidents.models import IncidentReport
from bot.outbox.models import OutboxDelivery, OutboxMessage
from bot.privacy.core import build_privacy
from bot.privacy.roles import Role, grant_role
from bot.runtime import Runtime
from scheduler.jobs import hr_quarterly_report
from tests.cards import cards, visible_text
from tests.chat import converse
from tests.cli_runner import run_cli
from tests.connector import StandInConnector
from tests.harness import dev_settings
from tests.privacy.test_privacy_cli import env_for
from tests.service import Service, start_service, stop_service
from tests.teams import TeamsUser

TENANT = "tenant-one"
QUARTER = Quarter(2026, 3)
AFTER = date(2026, 10, 5)
DEPARTMENTS = {
    "Adults and Communities": 120,
    "Children and Family Services": 90,
    "Chief Executive's": 12,
    "Public Health": 30,
}
ARTIFACTS = PROJECT_ROOT / "var" / "test-artifacts"


def reports(settings: Settings | None = None) -> HrReports:
    settings = settings or dev_settings()
    return build_hr_reports(settings, Content(DEFAULT_CONTENT_DIR), build_privacy(settings))


async def seed_workforce(engine: AsyncEngine, *, seed: int = 3) -> dict[str, list[str]]:
    """A roster of 252 people, about two-thirds declared, and a few incident reports.
    Returns who is in some of the counts (pseudonyms), to compare the release with."""
    rng = random.Random(seed)
    pseudonyms = build_privacy(dev_settings()).pseudonyms
    rows: list[RosterRow] = []
    answers: list[dict[str, object]] = []
    truth: dict[str, list[str]] = {"head": [], "female": [], "declared": []}
    bands = ["grade_1_4", "grade_5_8", "grade_9_12", "grade_13_15"]
    for department, size in DEPARTMENTS.items():
        for n in range(size):
            pseudonym = pseudonyms.of(PersonKey(TENANT, f"{department}-{n}"))
            band = rng.choice(bands)
            rows.append(RosterRow(pseudonym, None, department, band, None))
            truth["head"].append(pseudonym)
            truth.setdefault(f"head|d={department}", []).append(pseudonym)
            if rng.random() < 0.65:
                truth["declared"].append(pseudonym)
                sex = rng.choice(["female", "female", "male", "prefer_not_to_say"])
                ethnic = rng.choice(["white_british"] * 8 + ["asian_indian", "black_african"])
                if sex == "female":
                    truth["female"].append(pseudonym)
                truth.setdefault(f"ethnic_group|{ethnic}", []).append(pseudonym)
                for question, code in (("sex", sex), ("ethnic_group", ethnic)):
                    answers.append(
                        {
                            "pseudonym": pseudonym,
                            "question": question,
                            "code": code,
                            "taxonomy_version": "2026.1",
                            "answered_on": AFTER,
                        }
                    )
    async with unit_of_work(create_sessionmaker(engine)) as session:
        await replace_roster(session, rows=rows, today=AFTER)
        declared = sorted({str(a["pseudonym"]) for a in answers})
        await session.execute(
            insert(Declaration),
            [
                {"pseudonym": p, "declared_on": AFTER, "changed_on": AFTER, "reviewed_on": AFTER}
                for p in declared
            ],
        )
        await session.execute(insert(DeclarationAnswer), answers)
        for n, motivation in enumerate(["race", "race", "religion"]):
            session.add(
                IncidentReport(
                    reference=f"TEST-{n:04d}",
                    mode="anonymous",
                    relationship="victim",
                    received_on=date(2026, 8, 3),
                    motivations=motivation,
                    kinds="verbal",
                    location="workplace",
                    details="x",
                    details_key="k",
                    acknowledge_by=date(2026, 8, 10),
                    feedback_by=date(2026, 11, 3),
                )
            )
    return truth


def shown_as(release: Release, records: list[str]) -> str:
    """What a count of these records must be shown as: its cell key from their record keys
    (computed here, not by the SQL under test), the release's noise, then the rules."""
    key = sum(record_keys_of(build_privacy(dev_settings())).of(r) for r in records) % KEY_RANGE
    assert release.perturbation is not None
    noisy = release.perturbation.perturbed(len(records), key)
    rules = release.rules
    return f"<{rules.min_count}" if noisy < rules.min_count else f"{rules.rounded(noisy):,}"


def percent_of(release: Release, numerator: str, denominator: str) -> str:
    """A percentage as the shown numerator over the shown denominator (at most 100%)."""
    num, den = release.count(numerator), release.count(denominator)
    assert num.value is not None and den.value is not None
    value = min(100 * num.value / den.value, 100.0)
    return f"{int(value * 10 + 0.5) / 10:.1f}%"


async def test_the_report_shows_only_protected_figures_and_freezes_its_quarter(
    engine: AsyncEngine,
) -> None:
    truth = await seed_workforce(engine)
    hr = reports()
    sessions = create_sessionmaker(engine)
    async with unit_of_work(sessions) as session:
        report = await hr.report(session, quarter=QUARTER, today=AFTER)
    release = report.release
    # Each count is its people's count plus the noise their cell key reads, rounded: the SQL
    # summed the same record keys as computed here, on either database.
    for name, records in (
        ("head|all", truth["head"]),
        ("ans|all|sex|female", truth["female"]),
        ("declarants|all", truth["declared"]),
        ("ans|all|ethnic_group|white_british", truth["ethnic_group|white_british"]),
        ("ans|all|ethnic_group|asian_indian", truth["ethnic_group|asian_indian"]),
        *((f"head|d={d}", truth[f"head|d={d}"]) for d in DEPARTMENTS),
    ):
        assert release.count(name).text == shown_as(release, records), name
    headcount = release.count("head|all").value
    assert headcount is not None and abs(headcount - len(truth["head"])) <= 5 + 2
    # Chief Executive's has 12 people: its percentages need 23.
    assert release.percent("declarants|d=Chief Executive's", "head|d=Chief Executive's").reason == (
        TOO_FEW
    )
    # Three incident reports: "<10", and so is each category.
    assert release.count("inc|total").text == "<10"
    assert release.count("inc|mot|race").reason == TOO_FEW
    # Every shown percentage is the shown count over the shown total.
    shown_percents = [(k, v) for k, v in release.percents.items() if not v.hidden]
    assert shown_percents
    for (numerator, denominator), shown in shown_percents:
        if numerator in release.counts and denominator in release.counts:
            assert shown.text == percent_of(release, numerator, denominator)
    # Every hidden figure says why.
    for figure in [*release.counts.values(), *release.percents.values()]:
        assert figure.hidden is (figure.reason in (TOO_FEW, PROTECTS))
    # Frozen: a new declaration does not change this quarter's figures, however often asked.
    async with unit_of_work(sessions) as session:
        session.add(
            Declaration(pseudonym="f" * 64, declared_on=AFTER, changed_on=AFTER, reviewed_on=AFTER)
        )
        await session.flush()
        session.add(
            DeclarationAnswer(
                pseudonym="f" * 64,
                question="sex",
                code="female",
                taxonomy_version="2026.1",
                answered_on=AFTER,
            )
        )
    async with unit_of_work(sessions) as session:
        again = await hr.report(session, quarter=QUARTER, today=date(2026, 12, 1))
    assert again.release.counts == release.counts and again.release.percents == release.percents
    # The snapshot holds counts, sealed: no pseudonym and no plain number in the database.
    async with sessions() as session:
        from bot.hr.models import HrSnapshot

        stored = (await session.execute(select(HrSnapshot))).scalar_one()
    assert "head|all" not in stored.counts
    # A quarter not yet over, and an earlier one never frozen, are refused with a reason.
    async with unit_of_work(sessions) as session:
        with pytest.raises(QuarterUnavailable) as future:
            await hr.report(session, quarter=Quarter(2026, 4), today=AFTER)
        with pytest.raises(QuarterUnavailable) as old:
            await hr.report(session, quarter=Quarter(2025, 4), today=AFTER)
    assert (future.value.key, old.value.key) == ("future_quarter", "old_quarter")
    # Next quarter's report carries this one in its trend, exactly as released then.
    async with unit_of_work(sessions) as session:
        later = await hr.report(session, quarter=Quarter(2026, 4), today=date(2027, 1, 4))
    points = later.trends[("bame", "overall")]
    assert [p.quarter for p in points] == ["2026-Q3", "2026-Q4"]
    bame = next(f for f in report.built.targets if (f.target.id, f.scope) == ("bame", "overall"))
    assert points[0].percent == release.percent(bame.numerator, bame.denominator)


def hr_sees(report: QuarterReport) -> dict[tuple[str, str, str], str]:
    """Every table cell as the CSV, HTML and card show it."""
    return {
        (table.id, row, column): report.shown(cell).text
        for table in report.built.tables
        for row, cells in table.rows
        for column, cell in zip(table.columns, cells, strict=True)
    }


def read_csv_tables(folder: Path) -> dict[str, list[list[str]]]:
    """Each table CSV HR gets, by table id, header row first."""
    return {
        path.stem.split("_", 1)[1]: list(csv.reader(path.open(encoding="utf-8")))
        for path in sorted(folder.glob("[0-9][0-9]_*.csv"))
    }


def expected_percent(numerator: str, denominator: str) -> str:
    """The rule HR can check by hand: shown count over shown total, one decimal, half up,
    at most 100%; hidden unless both are numbers and the total is at least 23."""
    if not (numerator.replace(",", "").isdigit() and denominator.replace(",", "").isdigit()):
        return "hidden"
    num, den = int(numerator.replace(",", "")), int(denominator.replace(",", ""))
    if den < 23:
        return "hidden"
    tenths = (2 * 1000 * min(num, den) + den) // (2 * den)
    return f"{tenths // 10}.{tenths % 10}%"


async def test_the_same_roster_gives_the_same_figures_and_percentages_follow_shown_counts(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    from bot.hr.models import HrSnapshot

    await seed_workforce(engine)
    sessions = create_sessionmaker(engine)
    async with unit_of_work(sessions) as session:
        first = await reports().report(session, quarter=QUARTER, today=AFTER)
    write_csv(first, tmp_path / "first")
    # Frozen again from scratch, by another instance: the same people, the same figures.
    async with unit_of_work(sessions) as session:
        await session.execute(delete(HrSnapshot))
    async with unit_of_work(sessions) as session:
        again = await reports().report(session, quarter=QUARTER, today=AFTER)
    write_csv(again, tmp_path / "again")
    assert hr_sees(again) == hr_sees(first)
    for path in sorted((tmp_path / "first").iterdir()):
        assert path.read_bytes() == (tmp_path / "again" / path.name).read_bytes(), path.name
    # Every percentage HR gets is the count beside it over the total it is out of.
    csvs = read_csv_tables(tmp_path / "first")
    headcount = {row[0]: row[1] for row in csvs["headcount"][1:]}
    checked = 0
    for table, rows in csvs.items():
        header, body = rows[0], rows[1:]
        if table.startswith("distribution_"):
            totals = [r for r in body if r[0] in ("Total", "Total asked")]
            assert len(totals) == 1
            total = totals[0][1]
            # A follow-up question is out of the people asked, every other of everyone.
            assert (total == headcount["All staff"]) is (totals[0][0] == "Total")
            for label, count, shown in (r for r in body if r not in totals):
                assert shown == expected_percent(count, total), (table, label)
                checked += 1
        elif table == "declaration_rate":
            assert header[1:] == ["Answered", "Not answered", "Asked", "Declaration rate"]
            for label, declared, _missing, asked, shown in body:
                assert shown == expected_percent(declared, asked), label
                checked += 1
        elif table == "declaration_by_department":
            for label, head, declared, shown, *_ in body:
                assert shown == expected_percent(declared, head), label
                checked += 1
        elif table == "targets":
            assert header[1:4] == ["In the group", "Out of", "Percentage"]
            for label, group, out_of, shown, _goal, _gap, _met in body:
                assert shown == expected_percent(group, out_of), label
                checked += 1
    assert checked > 40
    card = reports().summary_card(first)
    facts = {f["title"]: f["value"] for f in card["body"][2]["facts"]}
    declared, _, rate = facts["Have made a declaration"].partition(" (")
    assert rate.rstrip(")") == expected_percent(declared, facts["Staff on the roster"])
    # One more person on the roster, frozen again: the noise of every figure is drawn
    # afresh, so figures the newcomer is not in move too, and theirs does not stand out.
    async with unit_of_work(sessions) as session:
        await session.execute(delete(HrSnapshot))
        roster = await current_roster(session)
        newcomer = RosterRow("0" * 64, None, "Public Health", "grade_5_8", None)
        await replace_roster(session, rows=[*roster, newcomer], today=AFTER)
    async with unit_of_work(sessions) as session:
        joined = await reports().report(session, quarter=QUARTER, today=AFTER)
    before, after = hr_sees(first), hr_sees(joined)
    # Answer counts: the newcomer has not declared, so they are in none of these.
    untouched = [
        key
        for key in before
        if (
            (key[0].startswith("distribution_") and key[2] == "Headcount")
            or (key[0] == "targets" and key[2] == "In the group")
        )
        and key[1] not in ("Not answered", "Total")
        and before[key] != "<10"
    ]
    moved = [key for key in untouched if before[key] != after[key]]
    # Each moves with a chance of about a half; all staying put would point at the rest.
    assert len(untouched) >= 6 and len(moved) >= 2, (len(untouched), moved)


async def current_roster(session: AsyncSession) -> list[RosterRow]:
    """The roster as stored."""
    from bot.hr.models import RosterPerson

    rows = await session.execute(
        select(RosterPerson.pseudonym, RosterPerson.department, RosterPerson.grade_band)
    )
    return [RosterRow(p, None, d, b, None) for p, d, b in rows]


async def test_the_cli_writes_csv_and_an_offline_html_report_that_chromium_renders(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    await seed_workforce(engine)
    # Freeze the quarter as it would have been on 5 October (the CLI's "today" is real).
    async with unit_of_work(create_sessionmaker(engine)) as session:
        frozen = await reports().report(session, quarter=QUARTER, today=AFTER)
    out = tmp_path / "report"
    code, stdout, _ = await run_cli(
        "report",
        "quarterly",
        "--out",
        str(out),
        "--quarter",
        str(QUARTER),
        env=env_for(database_url),
    )
    assert code == 0, stdout
    assert "Building the report for 2026-Q3" in stdout and "wrote 01_headcount.csv" in stdout
    with (out / "01_headcount.csv").open(encoding="utf-8") as handle:
        rows = {row[0]: row[1:] for row in csv.reader(handle)}
    # Another process, the same frozen quarter: the same figures.
    assert rows["All staff"] == [frozen.release.count("head|all").text]
    assert rows["Chief Executive's"] == [frozen.release.count("head|d=Chief Executive's").text]
    with (out / "hidden_cells.csv").open(encoding="utf-8") as handle:
        hidden = list(csv.DictReader(handle))
    assert hidden and {h["Why"] for h in hidden} <= {TOO_FEW, PROTECTS}
    page = (out / "report-2026-Q3.html").read_text(encoding="utf-8")
    assert (
        "<script" not in page
        and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
        and "https://" not in page
    )
    assert "target 15.5%" in page and "<svg" in page and "@media print" in page
    async with create_sessionmaker(engine)() as session:
        viewed = (
            await session.execute(
                select(func.count()).where(AuditEntry.action == "hr.report.viewed")
            )
        ).scalar()
    assert viewed == 1
    # An unknown quarter is a clear message, not a trace.
    code, stdout, stderr = await run_cli(
        "report", "quarterly", "--out", str(out), "--quarter", "2026-Q9", env=env_for(database_url)
    )
    assert code == 2 and "not a quarter" in stdout and "Traceback" not in stderr
    screenshot(out / "report-2026-Q3.html", tmp_path)


def screenshot(page: Path, tmp_path: Path) -> None:
    """Render the page in headless Chromium; keep the PNG under var/test-artifacts/."""
    browser = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is needed to render the HR report (CI is set)")
        pytest.skip("chromium is not installed")
    png = tmp_path / "hr_report.png"
    result = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'chromium-profile'}",
            "--window-size=1280,2400",
            f"--screenshot={png}",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert png.exists() and png.stat().st_size > 30_000  # a blank page is a few KB
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(png, ARTIFACTS / "hr_report.png")


async def test_an_empty_roster_gives_a_report_that_says_so(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    hr = reports()
    async with unit_of_work(create_sessionmaker(engine)) as session:
        report = await hr.report(session, quarter=QUARTER, today=AFTER)
    assert report.empty
    assert "No workforce roster has been imported yet" in render_html(report, hr.config)
    assert "No workforce roster" in visible_text_of(hr.summary_card(report))
    write_csv(report, tmp_path)
    write_html(report, hr.config, tmp_path)


def visible_text_of(card: dict[str, object]) -> str:
    return visible_text(
        {
            "type": "message",
            "attachments": [
                {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
            ],
        }
    )


# ---- in Teams ---------------------------------------------------------------------------------


@pytest.fixture
def settings(database_url: str) -> Settings:
    return dev_settings(database_url=database_url, outbox_worker=False)


@pytest.fixture
async def service(settings: Settings, engine: AsyncEngine) -> AsyncIterator[Service]:
    running = await start_service(settings, engine)
    try:
        yield running
    finally:
        await stop_service(running)


async def test_only_hr_gets_the_summary_in_chat_and_the_quarterly_card_goes_once(
    service: Service, connector: StandInConnector, engine: AsyncEngine
) -> None:
    runtime: Runtime = service.runner.app[RUNTIME_KEY]
    await seed_workforce(engine)
    hr_user = TeamsUser(name="Harriet HR", tenant_id=TENANT)
    someone = TeamsUser(name="Sam Staff", tenant_id=TENANT)
    for user in (hr_user, someone):
        await converse(service, connector, user, "hello")
    async with unit_of_work(runtime.sessions) as session:
        await grant_role(
            session,
            role=Role.HR,
            person=hr_user.aad_object_id,
            tenant_id=None,
            granted_by="cli:test",
        )
    refused = await converse(service, connector, someone, "hr report")
    assert "hr" in refused.lower() and "Staff on the roster" not in refused
    shown = await converse(service, connector, hr_user, "hr report")
    async with unit_of_work(runtime.sessions) as session:
        today = today_in_london()
        same = await reports().report(session, quarter=Quarter.last_completed(today), today=today)
    headcount = same.release.count("head|all").text
    assert "Workforce equality" in shown and f"Staff on the roster: {headcount}" in shown
    assert "Hate incident reports this quarter: <10" in shown
    assert "target 15.5%" in shown
    card = cards(connector.replies(hr_user.conversation_id)[-1])[0]
    data = card["actions"][0]["data"]
    assert data["command"] == "hr report"
    # The card's button shows the same quarter again; odd values get a plain answer.
    assert await converse(service, connector, hr_user, data) == shown
    odd = await converse(
        service, connector, hr_user, {"command": "hr report", "quarter": "x" * 5000}
    )
    assert "couldn't read that quarter" in odd
    later = await converse(
        service, connector, hr_user, {"command": "hr report", "quarter": "2099-Q1"}
    )
    assert "hasn't finished yet" in later
    # Someone without the role pressing a forwarded button is refused just the same.
    assert "Staff on the roster" not in await converse(service, connector, someone, data)
    async with runtime.sessions() as session:
        audited = (
            await session.execute(select(AuditEntry.action, AuditEntry.actor, AuditEntry.object_id))
        ).all()
    assert ("access.refused", f"teams:{TENANT}/{someone.aad_object_id}", "HrReportDialog") in [
        tuple(row) for row in audited
    ]
    just_ended = str(Quarter.last_completed(today_in_london()))
    assert ("hr.report.viewed", f"teams:{TENANT}/{hr_user.aad_object_id}", just_ended) in [
        tuple(row) for row in audited
    ]
    # The quarterly job: twice (two replicas, a re-run), one message, to HR only.
    for _ in range(2):
        await hr_quarterly_report(runtime.sessions, runtime.hr_reports)
    async with runtime.sessions() as session:
        messages = (
            (
                await session.execute(
                    select(OutboxMessage.id).where(OutboxMessage.kind == "hr.quarterly_report")
                )
            )
            .scalars()
            .all()
        )
        deliveries = (
            await session.execute(
                select(func.count()).where(OutboxDelivery.message_id.in_(messages))
            )
        ).scalar()
    assert len(messages) == 1 and deliveries == 1


async def test_networks_events_and_bulletin_reach_are_counted_through_the_same_rules(
    engine: AsyncEngine,
) -> None:
    from datetime import UTC, datetime

    from bot.bulletins.models import BulletinFeedback, BulletinReach
    from bot.events.models import Event, EventSignup, NetworkMember

    await seed_workforce(engine)
    pseudonyms = build_privacy(dev_settings()).pseudonyms
    adults = [pseudonyms.of(PersonKey(TENANT, f"Adults and Communities-{n}")) for n in range(120)]
    async with unit_of_work(create_sessionmaker(engine)) as session:
        for n, pseudonym in enumerate(adults[:12]):
            session.add(
                NetworkMember(
                    id=f"m{n}",
                    network="bame",
                    pseudonym=pseudonym,
                    who="x",
                    who_key="k",
                    joined_on=AFTER,
                )
            )
        event = Event(
            slug="summer-meetup",
            kind="network",
            network="bame",
            title="Summer meet-up",
            starts_at=datetime(2026, 8, 10, 12, tzinfo=UTC),
            ends_at=datetime(2026, 8, 10, 13, tzinfo=UTC),
            local_date=date(2026, 8, 10),
            signup_deadline=datetime(2026, 8, 9, tzinfo=UTC),
            capacity=50,
            created_by="cli:test",
        )
        session.add(event)
        await session.flush()
        for pseudonym in adults[:4]:
            session.add(
                EventSignup(
                    event_id=event.id,
                    pseudonym=pseudonym,
                    status="confirmed",
                    attended=True,
                    signed_up_on=date(2026, 8, 1),
                )
            )
        for pseudonym in adults[:100]:
            session.add(
                BulletinReach(month="2026-08", pseudonym=pseudonym, delivered_on=date(2026, 8, 3))
            )
        for pseudonym in adults[:30]:
            session.add(
                BulletinFeedback(
                    month="2026-08",
                    pseudonym=pseudonym,
                    rating="useful",
                    updated_on=date(2026, 8, 4),
                )
            )
    async with unit_of_work(create_sessionmaker(engine)) as session:
        report = await reports().report(session, quarter=QUARTER, today=AFTER)
    tables = {t.id: t for t in report.built.tables}

    def row(table: str, label: str) -> list[str]:
        cells = dict(tables[table].rows)[label]
        return [report.shown(cell).text for cell in cells]

    release = report.release
    assert row("network_membership", "Black, Asian and Minority Ethnic Network") == [
        shown_as(release, adults[:12])
    ]
    assert row(
        "event_attendance", "Staff network events: Black, Asian and Minority Ethnic Network"
    ) == ["<10"]  # 4 people: noise of at most 4 keeps it under 10
    # 100 of 120 in Adults and Communities were reached in August: the shown reach over the
    # shown headcount.
    reach = shown_as(release, adults[:100])
    head = release.count("head|d=Adults and Communities").text
    assert head == shown_as(release, adults)
    expected = min(100 * int(reach) / int(head), 100.0)
    assert row("bulletin_reach", "Adults and Communities")[1] == f"{expected:.1f}%"
    assert row("bulletin_reach", "Chief Executive's")[1] == "hidden"  # 12 people: under 23
    # Nobody found it not useful: "<10", as for 1 to 9. The 30 who responded are the 30 who
    # found it useful: the same people, so the same noise.
    useful = shown_as(release, adults[:30])
    assert row("bulletin_feedback", "2026-08") == [useful, "<10", useful]


async def test_a_quarter_frozen_before_cell_keys_is_released_as_it_was(
    engine: AsyncEngine,
) -> None:
    import json

    from bot.hr.repo import put_snapshot
    from bot.hr.service import snapshot_context

    await seed_workforce(engine)
    counts = {"head|all": 252, "head|d=Adults": 252, "head|below": 252, "inc|total": 0}
    cipher = build_privacy(dev_settings()).cipher
    sealed = cipher.seal(json.dumps(counts), context=snapshot_context(str(QUARTER)))
    async with unit_of_work(create_sessionmaker(engine)) as session:
        await put_snapshot(
            session, quarter=str(QUARTER), taken_on=AFTER, counts=sealed.token, key_id=sealed.key_id
        )
    async with unit_of_work(create_sessionmaker(engine)) as session:
        report = await reports().report(session, quarter=QUARTER, today=date(2026, 12, 1))
    # No cell keys, no noise: the old rules, exactly as HR saw them then.
    assert report.release.perturbation is None
    assert report.release.count("head|all").text == "250"
    assert report.release.count("head|senior").text == "0"
    assert report.release.count("inc|total").text == "0"
    page = render_html(report, reports().config)
    assert "frozen before figures were adjusted" in page
    # A quarter frozen now has cell keys, and its page says how its figures are adjusted.
    async with unit_of_work(create_sessionmaker(engine)) as session:
        later = await reports().report(session, quarter=Quarter(2026, 4), today=date(2027, 1, 4))
    assert later.release.perturbation is not None
    assert later.release.count("inc|total").text == "<10"
    assert "(at most 5)" in render_html(later, reports().config)


async def test_key_rotation_reseals_frozen_quarters_and_they_still_read_the_same(
    engine: AsyncEngine,
) -> None:
    import base64

    from bot.privacy import rotation
    from bot.privacy.crypto import FieldCipher
    from bot.privacy.keys import Keys
    from tests.harness import TEST_ENCRYPTION_KEYS

    await seed_workforce(engine)
    hr = reports()
    sessions = create_sessionmaker(engine)
    async with unit_of_work(sessions) as session:
        before = await hr.report(session, quarter=QUARTER, today=AFTER)
    old = build_privacy(dev_settings()).keys
    new_key = base64.b64decode(TEST_ENCRYPTION_KEYS.split(":")[1])[::-1]
    rotated = FieldCipher(
        Keys(
            encryption={"knew": new_key, **old.encryption},
            active_id="knew",
            pseudonym=old.pseudonym,
        )
    )
    await rotation.rotate(sessions, rotated, FEATURES)
    async with sessions() as session:
        usage = await rotation.key_usage(session, FEATURES)
    assert usage["hr_snapshots.counts"] == {"knew": 1}
    after_rotation = HrReports(
        content=hr.content,
        cipher=rotated,
        audit=build_privacy(dev_settings()).audit,
        rules=hr.rules,
        record_keys=record_keys_of(build_privacy(dev_settings())),
    )
    async with unit_of_work(sessions) as session:
        again = await after_rotation.report(session, quarter=QUARTER, today=date(2027, 1, 2))
    assert again.release.counts == before.release.counts


def test_the_quarterly_job_is_registered_for_the_first_week_of_each_quarter() -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from scheduler.jobs import find_job

    job = find_job("hr-quarterly")
    assert job is not None and job.id == "hr_quarterly_report"
    trigger = job.trigger(None)  # type: ignore[arg-type]
    london = ZoneInfo("Europe/London")
    fire = trigger.get_next_fire_time(None, datetime(2026, 11, 22, tzinfo=london))
    assert fire == datetime(2027, 1, 1, 9, 30, tzinfo=london)  # a Friday, the first weekday
    fire = trigger.get_next_fire_time(None, datetime(2027, 3, 31, 12, tzinfo=london))
    assert fire == datetime(2027, 4, 1, 9, 30, tzinfo=london)
