"""Re-issuing a frozen HR quarter after a late roster, on SQLite and PostgreSQL: a new
version, audited, both kept; every report says which version it is; an earlier version is
shown again exactly as it was released; a quarter can be issued at most three times (each
version is one more release with its own noise), and mistakes get a sentence."""

from __future__ import annotations

import filecmp
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import DEFAULT_CONTENT_DIR
from bot.core.clock import today_in_london
from bot.core.content import Content
from bot.core.people import PersonKey
from bot.db.engine import create_sessionmaker
from bot.db.models import AuditEntry
from bot.db.session import unit_of_work
from bot.features import FEATURES
from bot.hr.factory import build_hr_reports
from bot.hr.quarters import Quarter
from bot.hr.repo import RosterRow, replace_roster
from bot.privacy import rotation
from bot.privacy.core import build_privacy
from tests.cli_runner import run_cli
from tests.harness import dev_settings
from tests.hr.test_hr_report import AFTER, TENANT, current_roster, seed_workforce
from tests.privacy.test_privacy_cli import env_for

pytestmark = pytest.mark.e2e


async def cli(database_url: str, *args: str) -> tuple[int, str]:
    code, out, err = await run_cli("report", *args, env=env_for(database_url))
    assert "Traceback" not in out + err
    return code, out


async def late_joiners(engine: AsyncEngine, count: int) -> None:
    """The roster imported again with `count` more people, as after a late import."""
    pseudonyms = build_privacy(dev_settings()).pseudonyms
    sessions = create_sessionmaker(engine)
    async with unit_of_work(sessions) as session:
        rows = await current_roster(session)
        rows += [
            RosterRow(
                pseudonyms.of(PersonKey(TENANT, f"late-{n}")),
                None,
                "Public Health",
                "grade_5_8",
                None,
            )
            for n in range(count)
        ]
        await replace_roster(session, rows=rows, today=AFTER)


def headcount(folder: Path) -> str:
    [table] = sorted(folder.glob("*_headcount.csv"))
    return table.read_text().splitlines()[1]


async def test_a_quarter_is_reissued_as_a_new_version_and_every_version_is_kept(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    await seed_workforce(engine)
    quarter = str(Quarter.last_completed(today_in_london()))
    code, out = await cli(database_url, "quarterly", "--out", str(tmp_path / "v1"))
    assert code == 0 and f"{quarter}: version 1 (never re-issued)." in out

    await late_joiners(engine, 40)
    code, out = await cli(database_url, "reissue", quarter, "--reason", "late roster import")
    assert code == 2 and "a quarter can be issued at most 3 times" in out and "--yes" in out
    code, out = await cli(
        database_url, "reissue", quarter, "--reason", "late roster import", "--yes"
    )
    assert code == 0 and f"{quarter} re-issued as version 2; version 1 is kept." in out

    code, out = await cli(database_url, "quarterly", "--out", str(tmp_path / "v2"))
    assert code == 0
    assert f"This is version 2 of 2 of the {quarter} figures, frozen on " in out
    assert "Reason given for re-issuing: late roster import." in out
    assert headcount(tmp_path / "v2") != headcount(tmp_path / "v1")  # the late joiners count
    # The HTML says so too, under its heading; version 1 of a quarter never re-issued did not.
    page = (tmp_path / "v2" / f"report-{quarter}.html").read_text(encoding="utf-8")
    assert f"This is version 2 of 2 of the {quarter} figures, frozen on " in page
    first_page = (tmp_path / "v1" / f"report-{quarter}.html").read_text(encoding="utf-8")
    assert "This is version" not in first_page
    # Version 1 is shown again exactly as it was released: the same files, byte for byte.
    code, out = await cli(
        database_url, "quarterly", "--out", str(tmp_path / "again"), "--version", "1"
    )
    assert code == 0 and f"This is version 1 of 2 of the {quarter} figures" in out
    again = (tmp_path / "again" / f"report-{quarter}.html").read_text(encoding="utf-8")
    assert f"This is version 1 of 2 of the {quarter} figures" in again
    for made in sorted((tmp_path / "v1").glob("*.csv")):
        assert filecmp.cmp(made, tmp_path / "again" / made.name, shallow=False), made.name

    # The card says which version it is; the re-issue is audited; rotation covers both.
    settings = dev_settings(database_url=database_url)
    reports = build_hr_reports(settings, Content(DEFAULT_CONTENT_DIR), build_privacy(settings))
    sessions = create_sessionmaker(engine)
    async with unit_of_work(sessions) as session:
        report = await reports.report(
            session, quarter=Quarter.parse(quarter), today=today_in_london()
        )
        audited = (
            (
                await session.execute(
                    select(AuditEntry.object_id).where(AuditEntry.action == "hr.report.reissued")
                )
            )
            .scalars()
            .all()
        )
        usage = await rotation.key_usage(session, FEATURES)
    assert "This is version 2 of 2" in str(reports.summary_card(report))
    assert audited == [quarter]
    assert sum(usage["hr_snapshot_versions.counts"].values()) == 1

    # At most three issues of a quarter; other mistakes get a sentence too.
    code, _ = await cli(database_url, "reissue", quarter, "--reason", "again", "--yes")
    assert code == 0
    code, out = await cli(database_url, "reissue", quarter, "--reason", "more", "--yes")
    assert code == 1 and f"{quarter} has been issued 3 times already, the most allowed." in out
    code, out = await cli(database_url, "reissue", "2024-Q1", "--reason", "x", "--yes")
    assert code == 1 and "2024-Q1 has never been frozen" in out
    code, out = await cli(database_url, "quarterly", "--out", str(tmp_path / "x"), "--version", "7")
    assert code == 1 and f"{quarter} has no such version." in out
    code, out = await cli(database_url, "reissue", "last quarter", "--reason", "x", "--yes")
    assert code == 2
