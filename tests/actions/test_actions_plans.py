"""The action plans as content, the deadline parser on every deadline they contain, the
nudge planner's timing (working days, bank holidays, the clock change) and the report."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.actions.deadlines import AnnualReview, DeadlineError, parse_deadline
from bot.actions.nudges import Due, NudgeRules, due_nudges
from bot.actions.plans import Plans, load_plans, plans_directory
from bot.actions.progress import plan_statuses
from bot.actions.repo import ActionStateRow
from bot.actions.report import render_report, report_context
from bot.config import DEFAULT_CONTENT_DIR
from bot.core.content import load_yaml

PLANS = plans_directory(DEFAULT_CONTENT_DIR)
WORDS = load_yaml(DEFAULT_CONTENT_DIR / "actions" / "words.yaml")

# Every deadline wording in the plans, with the first milestones it must give (from the
# plan's start). A wording added to a plan without a row here fails the first test.
QUARTERS_2020 = [date(2020, 6, 30), date(2020, 9, 30), date(2020, 12, 31), date(2021, 3, 31)]
QUARTERS_2022 = [date(2022, 6, 30), date(2022, 9, 30), date(2022, 12, 30), date(2023, 3, 31)]
EXPECTED: dict[tuple[str, str], list[date]] = {
    ("2020-21", "September 2020 March 2021"): [date(2020, 9, 30), date(2021, 3, 31)],
    ("2020-21", "July 2020"): [date(2020, 7, 31)],
    ("2020-21", "April 2021"): [date(2021, 4, 30)],
    ("2020-21", "Ongoing Ongoing"): QUARTERS_2020,
    ("2020-21", "Ongoing"): QUARTERS_2020,
    ("2020-21", "June 2020"): [date(2020, 6, 30)],
    ("2020-21", "March 2021"): [date(2021, 3, 31)],
    ("2020-21", "September 2020"): [date(2020, 9, 30)],
    ("2022-23", "Ongoing"): QUARTERS_2022,  # 31 Dec 2022 is a Saturday
    ("2022-23", "Quarterly"): QUARTERS_2022,
    ("2022-23", "Annually"): [date(2022, 6, 30), date(2023, 6, 30)],
    ("2022-23", "December 2023"): [date(2023, 12, 29)],  # the 31st is a Sunday
    ("2022-23", "March 2023"): [date(2023, 3, 31)],
    ("2022-23", "January 2024"): [date(2024, 1, 31)],
    # 31 March 2024 is Easter Sunday and the 29th Good Friday: the Thursday before.
    ("2022-23", "March 2024"): [date(2024, 3, 28)],
}


@pytest.fixture(scope="module")
def plans() -> Plans:
    return load_plans(PLANS, annual=AnnualReview(6, 30))


def test_every_deadline_in_both_plans_has_a_rule_and_the_right_dates(plans: Plans) -> None:
    seen = set()
    for action in plans.all_actions():
        if not action.deadline_text:
            continue
        seen.add((action.plan, action.deadline_text))
        assert (action.plan, action.deadline_text) in EXPECTED, action.key
        assert action.deadline is not None, action.key
        count = len(EXPECTED[(action.plan, action.deadline_text)])
        first = action.deadline.milestones_until(date(2024, 12, 31))[:count]
        assert [m.on for m in first] == EXPECTED[(action.plan, action.deadline_text)], action.key
    assert seen == set(EXPECTED)


def test_the_plans_are_complete_and_garbled_text_is_marked_not_invented(plans: Plans) -> None:
    assert plans.errors == []
    old, new = plans.plans["2020-21"], plans.plans["2022-23"]
    assert list(old.actions)[:7] == ["D1", "D2", "D3", "D4", "D5", "D6", "D7"]
    assert len(old.actions) == 27 and len(new.actions) == 27
    assert list(new.actions)[-1] == "5.4"
    # 2.2 and 2.3 of 2020-21 are lost in the extraction: not made up, but flagged.
    assert "2.2" not in old.actions and "2.3" not in old.actions
    garbled = old.actions["2.1"]
    assert garbled.deadline is None and garbled.confirm and "2.2 and 2.3" in garbled.confirm
    to_confirm = {(p.plan, p.number) for p in plans.problems if p.kind == "confirm"}
    assert ("2020-21", "2.1") in to_confirm and ("2020-21", "D5") in to_confirm
    action = new.actions["4.1"]
    assert action.leads == ("HR",) and action.deadline_text == "March 2023"
    assert action.success_measures == (
        "All staff fully aware of process and get full support when needed",
    )
    assert new.actions["2.1"].leads == ("HR/BI",)
    assert old.actions["1.2"].leads == ("Policy Team, Chief Executives Dept",)
    assert new.actions["4.4"].leads == ("Anti-racism Task Group",)


@pytest.mark.parametrize(
    "wording", ["Spring 2023", "March", "2023", "31/03/2023", "Mar 2023", "Ongoing March 2023"]
)
def test_wording_without_a_rule_is_refused_never_guessed(wording: str) -> None:
    with pytest.raises(DeadlineError):
        parse_deadline(wording)


def test_validate_names_the_plan_the_action_and_the_wording(tmp_path: Path) -> None:
    source = (PLANS / "2022-23.yaml").read_text()
    broken = source.replace("deadline: January 2024", "deadline: Early 2024").replace(
        'number: "4.5"', 'number: "4.4"'
    )
    (tmp_path / "2022-23.yaml").write_text(broken)
    found = load_plans(tmp_path)
    messages = [str(p) for p in found.errors]
    assert messages == [
        "2022-23 4.4: error: deadline 'Early 2024': no rule for 'Early 2024' in 'Early 2024'",
        "2022-23 4.4: error: duplicate action number (used twice)",
    ]


def test_annual_review_date_is_configurable_and_avoids_weekends() -> None:
    deadline = parse_deadline("Annually", starts=date(2022, 4, 1), annual=AnnualReview(3, 31))
    # 31 March 2024 is Easter Sunday, 29 March Good Friday.
    assert [m.on for m in deadline.milestones_until(date(2024, 12, 31))] == [
        date(2023, 3, 31),
        date(2024, 3, 28),
    ]
    with pytest.raises(ValueError):
        AnnualReview.parse("02-30")


# ---- the nudge planner ----------------------------------------------------------------------

RULES = NudgeRules((30, 14, 7, 1), 7, 10)


def labels(plans: Plans, key: str, today: date, **state: object) -> list[str]:
    action = plans.by_key(key)
    assert action is not None
    dues = due_nudges(
        action,
        today=today,
        done=bool(state.get("done")),
        last_update_on=state.get("last_update_on"),  # type: ignore[arg-type]
        rules=RULES,
    )
    return [f"{d.label}/{d.working_days}" for d in dues]


def test_before_a_deadline_each_offset_on_its_working_day_across_christmas(
    plans: Plans,
) -> None:
    # 4.5 is due "December 2023" → Fri 29 Dec 2023; 25 and 26 Dec are bank holidays.
    key = "2022-23/4.5"
    assert labels(plans, key, date(2023, 11, 15)) == ["before:30/30"]
    assert labels(plans, key, date(2023, 11, 14)) == []  # 31 working days to go
    assert labels(plans, key, date(2023, 12, 7)) == ["before:14/14"]
    assert labels(plans, key, date(2023, 12, 8)) == ["before:14/13"]
    assert labels(plans, key, date(2023, 12, 18)) == ["before:7/7"]
    assert labels(plans, key, date(2023, 12, 15)) == ["before:14/8"]
    assert labels(plans, key, date(2023, 12, 28)) == ["before:1/1"]
    assert labels(plans, key, date(2023, 12, 29)) == ["before:1/0"]  # due today
    assert labels(plans, key, date(2023, 12, 28), done=True) == []


def test_overdue_weekly_then_escalated_across_easter(plans: Plans) -> None:
    # 5.2 "March 2024" → Thu 28 March 2024; Good Friday and Easter Monday are holidays.
    key = "2022-23/5.2"
    assert labels(plans, key, date(2024, 3, 27)) == ["before:1/1"]
    assert labels(plans, key, date(2024, 4, 2)) == ["overdue:0/1"]
    assert labels(plans, key, date(2024, 4, 4)) == ["overdue:0/3"]
    assert labels(plans, key, date(2024, 4, 5)) == ["overdue:1/4"]  # a week on
    assert labels(plans, key, date(2024, 4, 11)) == ["overdue:1/8"]
    assert labels(plans, key, date(2024, 4, 12)) == ["overdue:2/9"]
    assert labels(plans, key, date(2024, 4, 16)) == ["overdue:2/11", "escalate/11"]
    assert labels(plans, key, date(2024, 4, 16), done=True) == []


def test_ongoing_actions_have_quarterly_check_ins_met_by_any_update(plans: Plans) -> None:
    key = "2022-23/3.1"  # Ongoing: check-ins 30 June, 30 Sept, 30 Dec 2022, ...
    # The 30 June check-in is three months past (more than six weeks): "past", said once.
    assert labels(plans, key, date(2022, 9, 29)) == ["before:1/1", "past/63"]
    # An update since the last check-in meets the missed one and the next.
    assert labels(plans, key, date(2022, 9, 29), last_update_on=date(2022, 9, 1)) == []
    assert labels(plans, key, date(2022, 10, 3), last_update_on=date(2022, 9, 1)) == []
    assert labels(plans, key, date(2022, 10, 3), last_update_on=date(2022, 6, 1)) == ["overdue:0/1"]


def test_an_interim_milestone_is_met_by_an_update_the_final_one_only_by_done(
    plans: Plans,
) -> None:
    key = "2020-21/D1"  # "September 2020 March 2021"
    assert labels(plans, key, date(2020, 10, 1)) == ["overdue:0/1"]
    assert labels(plans, key, date(2020, 10, 1), last_update_on=date(2020, 9, 1)) == []
    # Good Friday and Easter Monday 2021 fall between.
    assert labels(plans, key, date(2021, 4, 6), last_update_on=date(2021, 3, 1)) == ["overdue:0/2"]


def test_weekly_reminders_stop_after_six_weeks_and_a_long_past_deadline_is_said_once(
    plans: Plans,
) -> None:
    key = "2022-23/5.2"  # Thu 28 March 2024
    # Six weeks on: still the weekly reminder (and the escalation, recorded once).
    assert labels(plans, key, date(2024, 5, 9)) == ["overdue:5/27", "escalate/27"]
    # From then on "past": one label, so each lead and the chair are told once at most.
    assert labels(plans, key, date(2024, 5, 10)) == ["past/28"]
    assert [d.label for d in dues_of(plans, key, date(2024, 5, 17))] == ["past"]
    assert [d.label for d in dues_of(plans, key, date(2026, 12, 7))] == ["past"]


def test_a_progress_update_on_or_after_the_final_deadline_stops_its_reminders(
    plans: Plans,
) -> None:
    key = "2022-23/5.2"  # Thu 28 March 2024
    before = date(2024, 3, 27)
    assert labels(plans, key, date(2024, 4, 16), last_update_on=before) == [
        "overdue:2/11",
        "escalate/11",
    ]
    for given in (date(2024, 3, 28), date(2024, 4, 2)):
        assert labels(plans, key, date(2024, 4, 16), last_update_on=given) == []
        assert labels(plans, key, date(2026, 12, 7), last_update_on=given) == []
    # An update before the deadline still leaves the deadline to be met by "done".
    assert labels(plans, key, date(2024, 3, 27), last_update_on=before) == ["before:1/1"]


def dues_of(plans: Plans, key: str, today: date) -> list[Due]:
    action = plans.by_key(key)
    assert action is not None
    return due_nudges(action, today=today, done=False, last_update_on=None, rules=RULES)


def test_a_plan_is_closed_in_its_file_with_the_day_it_closed(tmp_path: Path) -> None:
    source = (PLANS / "2022-23.yaml").read_text(encoding="utf-8")
    path = tmp_path / "2022-23.yaml"

    def read(extra: str) -> Plans:
        path.write_text(source.replace("starts: 2022-04-01\n", extra), encoding="utf-8")
        return load_plans(tmp_path)

    plans = read("starts: 2022-04-01\nstatus: closed\nclosed_on: 2025-03-31\n")
    plan = plans.plans["2022-23"]
    assert plans.errors == [] and plan.closed and plan.closed_on == date(2025, 3, 31)
    assert plan.as_of(date(2026, 12, 7)) == date(2025, 3, 31)
    assert not load_plans(PLANS).plans["2022-23"].closed  # active until the admins say so
    for extra, said in (
        ("starts: 2022-04-01\nstatus: closed\n", "closed_on: a closed plan needs closed_on"),
        ("starts: 2022-04-01\nclosed_on: 2025-03-31\n", "closed_on: is given but the plan"),
        ("starts: 2022-04-01\nstatus: shut\nclosed_on: 2025-03-31\n", "status: "),
        ("starts: 2022-04-01\nstatus: closed\nclosed_on: 2021-01-01\n", "before the plan"),
    ):
        found = [str(p) for p in read(extra).errors]
        assert any(said in line for line in found), (extra, found)


# ---- the report ---------------------------------------------------------------------------


def test_the_report_shows_each_action_its_status_notes_and_what_is_overdue(
    plans: Plans,
) -> None:
    plan = plans.plans["2022-23"]
    states = {
        ("2022-23", "4.1"): ActionStateRow(
            date(2023, 3, 20),
            "green",
            "Workshops held in all departments",
            date(2023, 3, 1),
            "Sam Patel",
            date(2023, 3, 20),
        ),
        ("2022-23", "4.3"): ActionStateRow(
            None,
            "red",
            "Waiting for legal advice <draft>",
            date(2023, 3, 10),
            "Jo Smith",
            date(2023, 3, 10),
        ),
        ("2022-23", "2.1"): ActionStateRow(
            None, "amber", "Q3 data late", date(2023, 5, 1), None, date(2023, 5, 1)
        ),
    }
    statuses = plan_statuses(plan, states, today=date(2023, 5, 2))
    context = report_context(
        plan, statuses, today=date(2023, 5, 2), words=WORDS, problems=plans.problems
    )
    report = render_report(DEFAULT_CONTENT_DIR / "actions", context)
    md = report.markdown
    assert md.startswith("# Equality, Diversity and Inclusion Action Plan 2022-2023: progress")
    assert "| Done | 1 |\n| Green | 0 |\n| Amber | 1 |\n| Red | 1 |\n| No update yet | 24 |" in md
    assert "### 4.1 Implement Hate Crime Guidance" in md
    assert "- **Status:** Done on 20 March 2023" in md
    assert "- **Latest note** (1 March 2023, Sam Patel): Workshops held in all departments" in md
    # 4.3 was due March 2023 and is not done: overdue, with its lead and latest note.
    assert (
        "- **4.3** Develop policy and guidance on supporting trans and non-binary service "
        "users and staff — lead: A&C/HR; Policy Team; deadline passed on 31 March 2023; "
        "status: Red"
    ) in md
    # 2.1's check-in on 31 March was met by the update on 1 May: not overdue.
    assert "**2.1**" not in md.split("## Objective 1")[0]
    assert "2022-23 5.4: to confirm:" in md
    html = report.html
    assert "Waiting for legal advice &lt;draft&gt;" in html  # a note cannot inject markup
    assert '<tr class="status-done">' in html and "overdue since 31 March 2023" in html


def test_in_working_hours_follows_london_across_the_clock_change() -> None:
    from bot.actions.service import ActionsService

    in_hours = ActionsService.in_working_hours
    fake = type("S", (), {"_settings": type("C", (), {"actions_working_hours": "09:00-17:00"})})
    # Friday 27 Oct 2023 is BST: 08:00 UTC is 09:00 in London.
    assert in_hours(fake, datetime(2023, 10, 27, 8, 0, tzinfo=UTC))  # type: ignore[arg-type]
    # Monday 30 Oct 2023 is GMT: 08:00 UTC is 08:00 in London, too early; 09:00 UTC is fine.
    assert not in_hours(fake, datetime(2023, 10, 30, 8, 0, tzinfo=UTC))  # type: ignore[arg-type]
    assert in_hours(fake, datetime(2023, 10, 30, 9, 0, tzinfo=UTC))  # type: ignore[arg-type]
    # Monday 27 March 2023 is BST again: 08:00 UTC is 09:00 in London.
    assert in_hours(fake, datetime(2023, 3, 27, 8, 0, tzinfo=UTC))  # type: ignore[arg-type]
    assert not in_hours(fake, datetime(2023, 3, 24, 8, 0, tzinfo=UTC))  # type: ignore[arg-type]
    # Bank holidays and weekends are never working hours (Easter Monday 10 April 2023).
    assert not in_hours(fake, datetime(2023, 4, 10, 10, 0, tzinfo=UTC))  # type: ignore[arg-type]


def test_a_broken_plan_file_is_reported_with_its_line(tmp_path: Path) -> None:
    source = DEFAULT_CONTENT_DIR / "actions" / "plans" / "2022-23.yaml"
    text = source.read_text(encoding="utf-8")
    broken = (
        text.replace('  - number: "1.2"', '  - number: "one point two"', 1)
        .replace("    deadline: Ongoing\n", "    deadlin: Ongoing\n", 1)
        .replace("starts: 2022-04-01", "starts: 2022-04-31")
    )
    path = tmp_path / "2022-23.yaml"
    path.write_text(broken, encoding="utf-8")
    plans = load_plans(tmp_path)
    lines = broken.splitlines()

    def line(needle: str) -> int:
        return next(n for n, text in enumerate(lines, start=1) if needle in text)

    found = [str(p) for p in plans.problems]
    assert f"2022-23: error: {path} line {line('starts:')}: starts: " in found[0]
    unknown = f"line {line('deadlin:')}: actions, item 1, deadlin: is not a key this file has"
    assert any(unknown in p for p in found)
    assert any(
        f"line {line('one point two')}: actions, item 2, number: is written like 4.1 or D1" in p
        for p in found
    )
    assert plans.plans == {}  # nothing from a broken file is used
