"""Disclosure control (bot/stats/disclosure.py): the 10-5 and percentage rules cell by cell,
the settings guard, and a differencing attack on everything released that recovers no
hidden cell.

The attack here is written independently of the engine's own check: it reads only what a
reader of the report has (the shown text of every cell and the public fact of which figures
add up to which), subtracts every released table and total from every other until nothing
changes, and for small tables also enumerates every assignment of true values consistent
with what was shown. Criterion (docs/hr_reports.md): every count of 1-9, whether shown as
"<10" or only derivable, keeps at least `min_candidates` (3) possible values, and every
hidden figure at least 2.
"""

from __future__ import annotations

import itertools
import random
import re
from dataclasses import dataclass

import pytest

from bot.config import DEFAULT_CONTENT_DIR
from bot.content import Content
from bot.declarations import taxonomy_of
from bot.stats.config import load_hr_config
from bot.stats.disclosure import (
    PROTECTS,
    TOO_FEW,
    Dataset,
    DisclosureConfigError,
    Release,
    Rules,
    protect,
)
from bot.stats.tables import build
from tests.harness import dev_settings

RULES = Rules()


# ---- the primary rules, cell by cell -------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text", "reason"),
    [
        (0, "0", None),
        (1, "<10", TOO_FEW),
        (5, "<10", TOO_FEW),
        (9, "<10", TOO_FEW),
        (10, "10", None),
        (12, "10", None),
        (13, "15", None),
        (17, "15", None),
        (18, "20", None),
        (22, "20", None),
        (23, "25", None),
        (1234, "1,235", None),
        (1232, "1,230", None),
    ],
)
def test_each_count_follows_the_ons_10_5_rule(value: int, text: str, reason: str | None) -> None:
    data = Dataset()
    data.count("cell", value)
    shown = protect(data, RULES).count("cell")
    assert shown.text == text
    assert shown.hidden is (reason is not None)
    assert shown.reason == reason


@pytest.mark.parametrize(
    ("numerator", "denominator", "text", "reason"),
    [
        (12, 22, "hidden", TOO_FEW),  # denominator under 23
        (0, 22, "hidden", TOO_FEW),
        (11, 23, "47.8%", None),  # from 11/23, not from the rounded 10/25
        (12, 40, "30.0%", None),
        (0, 40, "0.0%", None),
        (1, 400, "hidden", TOO_FEW),  # the numerator is hidden, so is its percentage
        (40, 40, "100.0%", None),
    ],
)
def test_each_percentage_uses_unrounded_counts_and_needs_23_people(
    numerator: int, denominator: int, text: str, reason: str | None
) -> None:
    data = Dataset()
    data.count("num", numerator)
    data.count("den", denominator)
    data.percent("num", "den")
    release = protect(data, RULES)
    shown = release.percent("num", "den")
    assert (shown.text, shown.reason) == (text, reason)


def test_half_way_values_round_up() -> None:
    assert [RULES.rounded(v) for v in (10, 12, 13, 22, 23, 27, 28)] == [10, 10, 15, 20, 25, 25, 30]
    assert RULES.percent_text(RULES.percent_scaled(1, 8)) == "12.5%"
    assert RULES.percent_text(RULES.percent_scaled(1, 3)) == "33.3%"
    assert RULES.percent_text(RULES.percent_scaled(2, 3)) == "66.7%"


def test_stricter_thresholds_apply_and_weaker_ones_need_the_override() -> None:
    strict = Rules(min_count=20, rounding=10, min_denominator=50).checked()
    data = Dataset()
    data.count("a", 15)
    data.count("b", 34)
    data.count("c", 45)
    data.percent("b", "c")
    release = protect(data, strict)
    assert release.count("a").text == "<20"
    assert release.count("b").text == "30"
    assert release.percent("b", "c").reason == TOO_FEW
    for weaker in (Rules(min_count=5), Rules(rounding=3), Rules(min_denominator=10)):
        with pytest.raises(DisclosureConfigError, match="below the published rule"):
            weaker.checked()
        assert weaker.checked(allow_weaker=True) is weaker
    with pytest.raises(DisclosureConfigError):
        Rules(min_candidates=1).checked(allow_weaker=True)


def test_settings_below_the_rule_are_refused_without_the_override() -> None:
    from bot.stats import rules_from

    with pytest.raises(DisclosureConfigError):
        rules_from(dev_settings(hr_min_count=5))
    assert rules_from(dev_settings(hr_min_count=5, hr_allow_weaker_disclosure=True)).min_count == 5
    assert rules_from(dev_settings()).min_count == 10


# ---- secondary suppression: small, explained cases --------------------------------------------


def test_a_row_total_cannot_give_away_its_only_small_cell() -> None:
    # 11 people: 1 in A, 10 in B. Shown as-is, total "10" and B "10" would mean A <= 2.
    data = Dataset()
    for name, value in (("total", 11), ("A", 1), ("B", 10)):
        data.count(name, value)
    data.add_sum("total", ["A", "B"])
    release = protect(data, RULES)
    assert release.count("A").reason == TOO_FEW
    assert any(release.count(n).reason == PROTECTS for n in ("total", "B"))
    assert min_room(data, release)["A"] >= 3


def test_a_percentage_that_would_pin_a_hidden_cell_is_hidden_too() -> None:
    # B/T = 37/40 = 92.5% pins B = 37 and T = 40, hence A = 3.
    data = Dataset()
    for name, value in (("T", 40), ("A", 3), ("B", 37)):
        data.count(name, value)
    data.add_sum("T", ["A", "B"])
    data.percent("B", "T")
    release = protect(data, RULES)
    assert release.percent("B", "T").reason == PROTECTS
    assert release.count("T").text == "40" and release.count("B").text == "35"
    assert min_room(data, release)["A"] >= 3


def test_linked_tables_cannot_be_subtracted_to_find_a_small_group() -> None:
    # Women overall 12 ("10"), women at Grade 13+ 10 ("10"): below Grade 13 is 0, 1 or 2.
    # Three candidates meet the default; asking for four makes the engine hide more.
    data = Dataset()
    data.count("women", 12)
    data.count("women_senior", 10)
    data.count("women_below", 2, released=False)
    data.add_sum("women", ["women_senior", "women_below"])
    assert protect(data, RULES).secondary == 0
    assert min_room(data, protect(data, RULES))["women_below"] == 3
    stricter = Rules(min_candidates=4)
    release = protect(data, stricter)
    assert release.secondary >= 1
    assert min_room(data, release)["women_below"] >= 4


# ---- the differencing attack -------------------------------------------------------------------


@dataclass
class Seen:
    """What a reader knows of one count from its shown text."""

    low: float
    high: float


def read_shown(text: str, reason: str | None, rules: Rules) -> Seen:
    """A reader's interval for a count from its shown text alone."""
    if text == "0":
        return Seen(0, 0)
    if text.startswith("<"):
        return Seen(1, int(text[1:]) - 1)
    if text == "hidden":
        return Seen(rules.min_count, float("inf")) if reason == PROTECTS else Seen(0, float("inf"))
    value = int(text.replace(",", ""))
    return Seen(
        max(value - rules.rounding // 2, rules.min_count), value + (rules.rounding - 1) // 2
    )


def reader_attack(data: Dataset, release: Release) -> dict[str, Seen]:
    """Subtract every released total and table from every other, and use every shown
    percentage, until nothing changes: intervals only, from shown text only."""
    rules = release.rules
    known: dict[str, Seen] = {}
    for name in data.values:
        shown = release.counts.get(name)
        known[name] = (
            Seen(0, float("inf")) if shown is None else read_shown(shown.text, shown.reason, rules)
        )
    percents = []
    for (num, den), shown in release.percents.items():
        match = re.fullmatch(r"(\d+)\.(\d)%", shown.text)
        if match:
            percents.append((num, den, int(match.group(1)) * 10 + int(match.group(2))))
        elif shown.reason == PROTECTS:
            known[den].low = max(known[den].low, rules.min_denominator)
    changed = True
    while changed:
        changed = False

        def tighten(name: str, low: float, high: float) -> None:
            nonlocal changed
            seen = known[name]
            if low > seen.low:
                seen.low, changed = low, True
            if high < seen.high:
                seen.high, changed = high, True
            assert seen.low <= seen.high, f"released figures contradict each other at {name}"

        for relation in data.sums:
            members = [relation.total, *relation.parts]
            # total - (every other part) bounds each part, and the parts bound the total.
            tighten(
                relation.total,
                sum(known[p].low for p in relation.parts),
                sum(known[p].high for p in relation.parts),
            )
            for part in relation.parts:
                others = [p for p in relation.parts if p != part]
                tighten(
                    part,
                    known[relation.total].low - sum(known[p].high for p in others),
                    known[relation.total].high - sum(known[p].low for p in others),
                )
            del members
        for bound in data.at_most:
            for part in bound.parts:
                tighten(part, known[part].low, known[bound.total].high)
        for num, den, tenths in percents:
            if known[den].high == float("inf"):
                continue
            pairs = [
                (n, d)
                for d in range(max(int(known[den].low), 1), int(known[den].high) + 1)
                for n in range(int(known[num].low), int(min(known[num].high, d)) + 1)
                if (2 * n * 1000 + d) // (2 * d) == tenths
            ]
            assert pairs, "a shown percentage contradicts the counts"
            tighten(num, min(n for n, _ in pairs), max(n for n, _ in pairs))
            tighten(den, min(d for _, d in pairs), max(d for _, d in pairs))
    return known


def min_room(data: Dataset, release: Release) -> dict[str, float]:
    """How many values each count could still take after the reader's attack."""
    known = reader_attack(data, release)
    return {name: known[name].high - known[name].low + 1 for name in known}


def assert_nothing_pinned(data: Dataset, release: Release) -> None:
    room = min_room(data, release)
    for name, value in data.values.items():
        shown = release.counts.get(name)
        if 0 < value < release.rules.min_count:
            assert room[name] >= release.rules.min_candidates, (name, value, room[name])
        if shown is not None and shown.hidden:
            assert room[name] >= 2, (name, value, room[name])
        # Sanity: the truth is always inside what the reader worked out.
    known = reader_attack(data, release)
    for name, value in data.values.items():
        assert known[name].low <= value <= known[name].high, name


def crosstab(rng: random.Random, rows: int, columns: int, small: float) -> Dataset:
    """A rows x columns table with row, column and grand totals and percentages of row
    totals, many cells small."""
    data = Dataset()
    cells = [
        [
            rng.choice([0, 1, 2, 3, 5, 8, 9]) if rng.random() < small else rng.randint(10, 60)
            for _ in range(columns)
        ]
        for _ in range(rows)
    ]
    for r in range(rows):
        for c in range(columns):
            data.count(f"c{r}.{c}", cells[r][c])
        data.count(f"r{r}", sum(cells[r]))
        data.add_sum(f"r{r}", [f"c{r}.{c}" for c in range(columns)])
        for c in range(columns):
            data.percent(f"c{r}.{c}", f"r{r}")
    for c in range(columns):
        data.count(f"k{c}", sum(cells[r][c] for r in range(rows)))
        data.add_sum(f"k{c}", [f"c{r}.{c}" for r in range(rows)])
    data.count("all", sum(map(sum, cells)))
    data.add_sum("all", [f"r{r}" for r in range(rows)])
    data.add_sum("all", [f"k{c}" for c in range(columns)])
    return data


@pytest.mark.parametrize("seed", range(40))
def test_no_hidden_cell_of_a_random_crosstab_is_pinned_down(seed: int) -> None:
    rng = random.Random(seed)
    data = crosstab(rng, rng.randint(2, 5), rng.randint(2, 5), small=rng.choice([0.3, 0.6, 0.9]))
    release = protect(data, RULES)
    assert_nothing_pinned(data, release)


@pytest.mark.parametrize("seed", range(12))
def test_exhaustive_search_finds_no_hidden_value_either(seed: int) -> None:
    """On 2x2 tables, try every assignment of true values that matches everything shown."""
    rng = random.Random(1000 + seed)
    data = crosstab(rng, 2, 2, small=0.7)
    release = protect(data, RULES)
    known = reader_attack(data, release)
    ranges = []
    for r, c in itertools.product(range(2), range(2)):
        seen = known[f"c{r}.{c}"]
        ranges.append(range(int(seen.low), int(min(seen.high, 80)) + 1))
    possible: dict[str, set[int]] = {f"c{r}.{c}": set() for r in range(2) for c in range(2)}
    for values in itertools.product(*ranges):
        cells = dict(zip(possible, values, strict=True))
        trial = Dataset()
        for r in range(2):
            for c in range(2):
                trial.count(f"c{r}.{c}", cells[f"c{r}.{c}"])
        consistent = True
        derived = {
            **{f"r{r}": cells[f"c{r}.0"] + cells[f"c{r}.1"] for r in range(2)},
            **{f"k{c}": cells[f"c0.{c}"] + cells[f"c1.{c}"] for c in range(2)},
        }
        derived["all"] = derived["r0"] + derived["r1"]
        for name, value in {**cells, **derived}.items():
            shown = release.counts[name]
            seen = read_shown(shown.text, shown.reason, RULES)
            if not seen.low <= value <= seen.high:
                consistent = False
                break
        if consistent:
            for (num, den), shown in release.percents.items():
                if not shown.hidden:
                    n, d = cells[num], derived[den]
                    if d == 0 or RULES.percent_text(RULES.percent_scaled(n, d)) != shown.text:
                        consistent = False
                        break
        if consistent:
            for name, value in cells.items():
                possible[name].add(value)
    for name, value in ((n, data.values[n]) for n in possible):
        assert value in possible[name]
        if 0 < value < RULES.min_count:
            assert len(possible[name]) >= RULES.min_candidates, (name, value, possible[name])


def test_the_real_report_tables_survive_the_attack() -> None:
    """Every table of the quarterly report over one skewed workforce: small departments,
    rare groups, a near-empty Grade 13+."""
    content = Content(DEFAULT_CONTENT_DIR)
    config = load_hr_config(content)
    taxonomy = taxonomy_of(content)
    rng = random.Random(7)
    counts: dict[str, int] = {}

    def add(name: str, value: int) -> None:
        counts[name] = counts.get(name, 0) + value

    departments = {"Adults": 140, "Children": 90, "Chief Executive's": 14, "Public Health": 31}
    for department, people in departments.items():
        for senior in (True, False):
            head = people // 6 if senior else people - people // 6
            scopes = ("all", "senior" if senior else "below", f"d={department}")
            for scope in scopes:
                add(f"head|{scope}", head)
            declarants = int(head * 0.7)
            for scope in scopes:
                add(f"declarants|{scope}", declarants)
            for question in taxonomy.questions:
                answered = rng.randint(declarants // 2, declarants)
                codes = [o.code for o in question.options]
                weights = [rng.random() ** 3 for _ in codes]
                for code in rng.choices(codes, weights=weights, k=answered):
                    for scope in scopes:
                        add(f"ans|{scope}|{question.id}|{code}", 1)
    counts.update(
        {"inc|total": 7, "inc|mot|race": 5, "inc|mot|religion": 3, "inc|loc|workplace": 7}
    )
    counts.update({"incq|2026-Q1": 4, "incq|2026-Q2": 12, "roster|unlinked": 3})
    built = build(
        counts,
        config=config,
        taxonomy=taxonomy,
        incident_labels={"motivations": {}, "kinds": {}, "location": {}},
        quarter="2026-Q3",
    )
    release = protect(built.dataset, RULES)
    assert release.secondary > 0
    assert_nothing_pinned(built.dataset, release)
    # And the engine's output names a reason for every hidden figure.
    for shown in [*release.counts.values(), *release.percents.values()]:
        assert shown.hidden is (shown.reason in (TOO_FEW, PROTECTS))
