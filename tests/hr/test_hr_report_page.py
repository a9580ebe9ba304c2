"""The HR report as HR reads it, from a realistic quarter (3,000 people on the roster, 1,859
declarations, every question, a follow-up question, one bulletin month in three, no events):
what the page says (targets against their goals with the gap, met or not and the trend; the
follow-up out of the people asked; empty sections in words; how to read the figures), and
that it passes axe-core's WCAG 2.2 AA rules at 1280 px with no horizontal overflow and no
colliding chart labels, in Debian's chromium. On SQLite and PostgreSQL."""

from __future__ import annotations

import random
import re
import shutil
from datetime import date
from html import unescape
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.bulletins.models import BulletinFeedback, BulletinReach
from bot.config import DEFAULT_CONTENT_DIR
from bot.core.content import Content
from bot.core.people import PersonKey
from bot.db.engine import create_sessionmaker
from bot.db.session import unit_of_work
from bot.declarations import feature as declarations
from bot.declarations.models import Declaration, DeclarationAnswer
from bot.hr.quarters import Quarter
from bot.hr.repo import RosterRow, replace_roster
from bot.hr.report import render_html, write_html
from bot.hr.service import QuarterReport
from bot.privacy.core import build_privacy
from tests import js_tools
from tests.harness import dev_settings
from tests.hr.test_hr_report import AFTER, QUARTER, TENANT, reports

PEOPLE = 3000
DECLARED = 1859
DEPARTMENTS = {
    "Adults and Communities": 0.3,
    "Children and Family Services": 0.3,
    "Environment and Transport": 0.2,
    "Corporate Resources": 0.12,
    "Public Health": 0.05,
    "Chief Executive's": 0.03,
}
BANDS = ["grade_1_4", "grade_5_8", "grade_9_12", "grade_13_15", "grade_16_plus"]
# Answers that are not spread evenly (the rest of each question's answers are).
WEIGHTS = {
    "sex": {"female": 60, "male": 36},
    "ethnic_group": {"white_british": 78, "asian_indian": 9, "black_african": 3},
    "disability": {"yes": 15, "no": 80},
    "sexual_orientation": {"straight": 85, "gay_lesbian": 3, "bisexual": 2},
}
OTHERS = {"ethnic_group": 0.4}  # each answer not weighted above (default 2, or 10 if none is)


def _answer(rng: random.Random, question_id: str, codes: list[str]) -> str:
    weights = WEIGHTS.get(question_id, {})
    others = OTHERS.get(question_id, 2 if weights else 10)
    return rng.choices(codes, weights=[weights.get(code, others) for code in codes])[0]


async def seed_large_workforce(engine: AsyncEngine, *, seed: int = 18) -> None:
    """3,000 people on the roster, 1,859 of them declared (most questions answered, the
    effect-on-activities question only by those with a long-term condition), and the
    August bulletin delivered to most of them; no bulletin in July or September."""
    rng = random.Random(seed)
    pseudonyms = build_privacy(dev_settings()).pseudonyms
    taxonomy = declarations.taxonomy(Content(DEFAULT_CONTENT_DIR))
    names = list(DEPARTMENTS)
    people = [pseudonyms.of(PersonKey(TENANT, f"person-{n}")) for n in range(PEOPLE)]
    rows = [
        RosterRow(
            p, None, rng.choices(names, list(DEPARTMENTS.values()))[0], rng.choice(BANDS), None
        )
        for p in people
    ]
    declared = rng.sample(people, DECLARED)
    answers: list[dict[str, object]] = []
    for pseudonym in declared:
        given: dict[str, str] = {}
        for question in taxonomy.questions:
            if not question.applies(given) or rng.random() > 0.9:
                continue
            code = _answer(rng, question.id, [o.code for o in question.options])
            given[question.id] = code
            answers.append(
                {
                    "pseudonym": pseudonym,
                    "question": question.id,
                    "code": code,
                    "taxonomy_version": taxonomy.version,
                    "answered_on": AFTER,
                }
            )
    async with unit_of_work(create_sessionmaker(engine)) as session:
        await replace_roster(session, rows=rows, today=AFTER)
        await session.execute(
            insert(Declaration),
            [
                {"pseudonym": p, "declared_on": AFTER, "changed_on": AFTER, "reviewed_on": AFTER}
                for p in declared
            ],
        )
        await session.execute(insert(DeclarationAnswer), answers)
        reached = people[:2400]
        await session.execute(
            insert(BulletinReach),
            [
                {"month": "2026-08", "pseudonym": p, "delivered_on": date(2026, 8, 3)}
                for p in reached
            ],
        )
        await session.execute(
            insert(BulletinFeedback),
            [
                {
                    "month": "2026-08",
                    "pseudonym": p,
                    "rating": "useful" if n % 4 else "not_useful",
                    "updated_on": date(2026, 8, 4),
                }
                for n, p in enumerate(reached[:400])
            ],
        )


def visible(page: str) -> str:
    """The page's text as a reader sees it: tags gone, entities read, spaces collapsed."""
    without = re.sub(r"<(style|svg)\b.*?</\1>", " ", page, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", without)).split())


def table_rows(report: QuarterReport, table_id: str) -> dict[str, list[str]]:
    """One table's rows as HR sees them: label -> the cells' text."""
    table = next(t for t in report.built.tables if t.id == table_id)
    return {label: [report.shown(cell).text for cell in cells] for label, cells in table.rows}


async def test_a_realistic_quarter_reads_plainly_and_passes_the_accessibility_check(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    await seed_large_workforce(engine)
    hr = reports()
    sessions = create_sessionmaker(engine)
    async with unit_of_work(sessions) as session:
        first = await hr.report(session, quarter=QUARTER, today=AFTER)
    text = visible(render_html(first, hr.config))

    # The follow-up question is out of the people asked, and says so; its rate is like the
    # others', not a few percent.
    rates = table_rows(first, "declaration_rate")
    conditions = table_rows(first, "distribution_disability")
    _answered, _not_answered, asked, rate = rates["Effect on day-to-day activities"]
    assert asked == conditions["Yes"][0] != rates["Sex"][2]
    assert rates["Sex"][2] == table_rows(first, "headcount")["All staff"][0]
    assert 80.0 <= float(rate.rstrip("%")) <= 100.0, rates
    assert 45.0 <= float(rates["Sex"][3].rstrip("%")) <= 65.0
    assert (
        '"Effect on day-to-day activities" is asked only of people who answered "Yes" to '
        '"Long-term health condition", so its figures are out of the people asked, not out of '
        "all staff" in text
    )
    impact = table_rows(first, "distribution_disability_impact")
    assert impact["Total asked"] == [asked, "100%"]
    assert "Effect on day-to-day activities: the people asked" in text
    assert "Effect on day-to-day activities (of those asked)" in text

    # Each target: value, target, gap, met or not; the first frozen quarter has no trend.
    targets = table_rows(first, "targets")
    for label, (group, out_of, value, goal, gap, met) in targets.items():
        shown, target = float(value.rstrip("%")), float(goal.rstrip("%"))
        tenths = round((shown - target) * 10)
        words = f"{abs(tenths) // 10}.{abs(tenths) % 10} points"
        assert gap == (
            "on target" if tenths == 0 else f"{words} {'above' if tenths > 0 else 'below'}"
        ), label
        assert met == ("Met" if tenths >= 0 else "Not met"), label
        row = f"{label} {group} {out_of} {value} {goal} {gap} {met} First quarter: no trend yet"
        assert row in text, row
    assert {"Met", "Not met"} <= {row[5] for row in targets.values()}

    # How to read the figures, beside the tables; empty sections say so in words.
    assert "How to read this" in text and "150 out of 200 is 75.0%" in text
    assert "No bulletin was sent to staff on the roster in 2026-07, 2026-09" in text
    assert "No staff network events or Big Conversations were held this quarter." in text
    assert not re.search(r"(?<![\d.])0\.0%", text)  # no reach of 0.0% for a month without one

    # The next quarter, frozen with the same people: each target's trend since 2026-Q3.
    async with unit_of_work(sessions) as session:
        later = await hr.report(session, quarter=Quarter(2026, 4), today=date(2027, 1, 4))
    page = write_html(later, hr.config, tmp_path)
    text = visible(page.read_text(encoding="utf-8"))
    assert "First quarter: no trend yet" not in text
    trends = re.findall(r"(up|down) (\d+\.\d) points since 2026-Q3|no change since 2026-Q3", text)
    assert len(trends) == len(later.built.targets)
    assert "No bulletin was sent to staff on the roster this quarter" in text

    # In chromium at 1280 px: no axe violation, nothing wider than the window, no label on
    # another or under the target line, no title cut off.
    js_tools.node()
    js_tools.chromium()
    shot = tmp_path / "hr_report_page.png"
    checked = js_tools.run_node("check_report.mjs", str(page), str(shot), "1280")
    assert checked["axe"]["violations"] == [], checked["axe"]["violations"]
    assert checked["axe"]["passes"] > 10
    assert checked["scrollWidth"] <= 1280, checked["scrollWidth"]
    assert checked["collisions"] == [] and checked["crossed"] == [], checked
    assert checked["outside"] == [], checked["outside"]
    assert not [c for c in checked["figcaptions"] if c["cut"]]
    assert "Declaration rate by department" not in checked["scrolling"]
    assert checked["errors"] == []
    assert shot.stat().st_size > 50_000
    js_tools.ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, js_tools.ARTIFACTS / "hr_report_page.png")
