"""The full quarterly HR report on a large workforce: SQL grouping, disclosure control and
writing the CSV and HTML files, timed at several roster sizes to show how cost grows.

Run: `python -m bench.hr_aggregates [--people 100000] [--steps 4] [--database URL]`
(`EDI_BENCH_POSTGRES_URL`, else the test server `EDI_TEST_POSTGRES_URL`, else
postgresql+asyncpg://postgres@127.0.0.1:5432/test; a scratch database is created on that
server and dropped afterwards). Target: the full report for 100,000 people in at most 1 s,
with cost growing linearly in rows.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import delete, insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import DEFAULT_CONTENT_DIR, Settings
from bot.core.content import Content
from bot.db import migrate
from bot.db.engine import create_engine, create_sessionmaker
from bot.db.session import unit_of_work
from bot.declarations.models import Declaration, DeclarationAnswer
from bot.declarations.taxonomy import Taxonomy
from bot.hr.factory import build_hr_reports
from bot.hr.models import HrSnapshot, RosterPerson
from bot.hr.quarters import Quarter
from bot.hr.report import write_csv, write_html
from bot.privacy.core import build_privacy

DEPARTMENTS = {
    "Adults and Communities": 0.28,
    "Children and Family Services": 0.30,
    "Chief Executive's": 0.03,
    "Corporate Resources": 0.17,
    "Environment and Transport": 0.19,
    "Public Health": 0.03,
}
BANDS = {
    "grade_1_4": 0.3,
    "grade_5_8": 0.35,
    "grade_9_12": 0.22,
    "grade_13_15": 0.1,
    "grade_16_plus": 0.025,
    "chief_officer": 0.005,
}
QUARTER = Quarter(2026, 3)
TODAY = date(2026, 10, 5)
CHUNK = 20_000


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _settings(database: str) -> Settings:
    keys = "kbench:" + base64.b64encode(bytes(range(32))).decode()
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=database,
        encryption_keys=SecretStr(keys),
        pseudonym_key=SecretStr(base64.b64encode(bytes(range(32, 64))).decode()),
    )


async def _admin(url: str, statement: str) -> None:
    import asyncpg

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def _grow(
    sessions: async_sessionmaker[AsyncSession],
    start: int,
    stop: int,
    rng: random.Random,
    taxonomy: Taxonomy,
) -> None:
    """Add people start..stop-1 to the roster, about two-thirds of them declared."""
    departments, dweights = zip(*DEPARTMENTS.items(), strict=True)
    bands, bweights = zip(*BANDS.items(), strict=True)
    questions = [(q.id, [o.code for o in q.options]) for q in taxonomy.questions]
    for first in range(start, stop, CHUNK):
        last = min(first + CHUNK, stop)
        roster, declarations, answers = [], [], []
        for n in range(first, last):
            pseudonym = f"{n:064x}"
            roster.append(
                {
                    "pseudonym": pseudonym,
                    "upn_key": None,
                    "department": rng.choices(departments, dweights)[0],
                    "grade_band": rng.choices(bands, bweights)[0],
                    "start_date": None,
                    "imported_on": TODAY,
                }
            )
            if rng.random() < 0.65:
                declarations.append(
                    {
                        "pseudonym": pseudonym,
                        "declared_on": TODAY,
                        "changed_on": TODAY,
                        "reviewed_on": TODAY,
                    }
                )
                for question, codes in questions:
                    if rng.random() < 0.9:
                        answers.append(
                            {
                                "pseudonym": pseudonym,
                                "question": question,
                                "code": codes[min(int(rng.expovariate(1.2)), len(codes) - 1)],
                                "taxonomy_version": taxonomy.version,
                                "answered_on": TODAY,
                            }
                        )
        async with unit_of_work(sessions) as session:
            await session.execute(insert(RosterPerson), roster)
            if declarations:
                await session.execute(insert(Declaration), declarations)
            for i in range(0, len(answers), CHUNK):
                await session.execute(insert(DeclarationAnswer), answers[i : i + CHUNK])
        _say(f"  built {last:,} people")


async def run(people: int, steps: int, database: str | None) -> None:
    """Build the workforce in `steps` equal steps and time the full report after each."""
    base = (
        database
        or os.environ.get("EDI_BENCH_POSTGRES_URL")
        or os.environ.get("EDI_TEST_POSTGRES_URL")
        or "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
    )
    scratch_name = f"edi_bench_hr_{uuid.uuid4().hex[:8]}"
    postgres = make_url(base).get_backend_name() == "postgresql"
    if postgres:
        await _admin(base, f'CREATE DATABASE "{scratch_name}"')
        url = make_url(base).set(database=scratch_name).render_as_string(hide_password=False)
    else:
        url = base
    engine = create_engine(url)
    out = Path(tempfile.mkdtemp(prefix="hr-bench-"))
    try:
        await migrate.upgrade(engine)
        sessions = create_sessionmaker(engine)
        settings = _settings(url)
        reports = build_hr_reports(settings, Content(DEFAULT_CONTENT_DIR), build_privacy(settings))
        rng = random.Random(6)
        _say(f"backend {engine.dialect.name}; {people:,} people in {steps} steps")
        done = 0
        figures: list[tuple[int, float]] = []
        for step in range(1, steps + 1):
            target = people * step // steps
            await _grow(sessions, done, target, rng, reports.taxonomy)
            done = target
            async with engine.begin() as connection:
                await connection.exec_driver_sql("ANALYZE") if postgres else None
            best = float("inf")
            parts = (0.0, 0.0, 0.0)
            for _ in range(3):
                async with unit_of_work(sessions) as session:
                    await session.execute(delete(HrSnapshot))
                started = time.perf_counter()
                async with unit_of_work(sessions) as session:
                    await reports.counts(session, quarter=QUARTER, today=TODAY)
                grouped = time.perf_counter()
                async with unit_of_work(sessions) as session:
                    report = await reports.report(session, quarter=QUARTER, today=TODAY)
                counted = time.perf_counter()
                write_csv(report, out)
                write_html(report, reports.config, out)
                finished = time.perf_counter()
                if finished - started < best:
                    best = finished - started
                    parts = (grouped - started, counted - grouped, finished - counted)
            figures.append((done, best))
            _say(
                f"{done:>8,} people: full quarterly report {best * 1000:7.0f} ms "
                f"(SQL grouping and freezing {parts[0] * 1000:.0f} ms, tables and disclosure "
                f"control {parts[1] * 1000:.0f} ms, files {parts[2] * 1000:.0f} ms; "
                f"{report.release.secondary} figures hidden to protect others)"
            )
        (first_n, first_t), (last_n, last_t) = figures[0], figures[-1]
        _say(
            f"RESULT: {last_n:,} people in {last_t:.2f} s (target <= 1 s); "
            f"{(last_t / first_t) / (last_n / first_n):.2f}x the time per person of "
            f"{first_n:,} (1.00 = linear)"
        )
    finally:
        await engine.dispose()
        if postgres:
            await _admin(base, f'DROP DATABASE IF EXISTS "{scratch_name}" WITH (FORCE)')


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and run the benchmark."""
    parser = argparse.ArgumentParser(prog="python -m bench.hr_aggregates", description=__doc__)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--database", help="a PostgreSQL (or SQLite) URL")
    args = parser.parse_args(argv)
    asyncio.run(run(args.people, args.steps, args.database))


if __name__ == "__main__":
    main()
