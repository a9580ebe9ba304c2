"""Disclosure control (bot/hr/disclosure.py): the 10-5 and percentage rules cell by cell,
the settings guard, the cell key method's p-table and keys (bot/hr/cellkey.py), and a
differencing attack on everything released that recovers no hidden cell, with and without
the noise. (Differencing between releases: tests/hr/test_hr_differencing.py.)

The attack here is written independently of the engine's own check: it reads only what a
reader of the report has (the shown text of every cell and the public fact of which figures
add up to which), subtracts every released table and total from every other until nothing
changes, and for small tables also enumerates every assignment of true values consistent
with what was shown. Criterion (docs/hr_reports.md): every count of 1-9, whether shown as
"<10" or only derivable, keeps at least `min_candidates` (3) possible values, and every
hidden figure at least 2.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import re
from collections import Counter
from dataclasses import dataclass

import pytest

from bot.config import DEFAULT_CONTENT_DIR
from bot.core.content import Content
from bot.declarations.factory import taxonomy_of
from bot.hr.cellkey import KEY_RANGE, Perturbation, RecordKeys, cell_key_secret
from bot.hr.config import load_hr_config
from bot.hr.dataset import PROTECTS, TOO_FEW, Dataset, DisclosureConfigError, Release, Rules
from bot.hr.disclosure import protect
from bot.hr.tables import build
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
    for weaker in (
        Rules(min_count=5),
        Rules(rounding=3),
        Rules(min_denominator=10),
        Rules(max_noise=2),
    ):
        with pytest.raises(DisclosureConfigError, match="below the published rule"):
            weaker.checked()
        assert weaker.checked(allow_weaker=True) is weaker
    with pytest.raises(DisclosureConfigError):
        Rules(min_candidates=1).checked(allow_weaker=True)


def test_settings_below_the_rule_are_refused_without_the_override() -> None:
    from bot.hr.factory import rules_from

    with pytest.raises(DisclosureConfigError):
        rules_from(dev_settings(hr_min_count=5))
    assert rules_from(dev_settings(hr_min_count=5, hr_allow_weaker_disclosure=True)).min_count == 5
    assert rules_from(dev_settings()).min_count == 10
    assert rules_from(dev_settings()).max_noise == 5
    with pytest.raises(DisclosureConfigError):
        rules_from(dev_settings(hr_max_noise=3))
    assert rules_from(dev_settings(hr_max_noise=8)).max_noise == 8


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


def read_shown(text: str, reason: str | None, rules: Rules, noisy: bool = False) -> Seen:
    """A reader's interval for a count from its shown text alone; with the cell key method
    (`noisy`), every true count whose noise could have made it so, from the published noise
    limit: a count n moves by at most min(n, max_noise)."""
    low: float
    high: float
    if text == "0" and not noisy:
        return Seen(0, 0)
    if text.startswith("<"):
        low, high = (0 if noisy else 1), int(text[1:]) - 1
    elif text == "hidden":
        low, high = (rules.min_count, INF) if reason == PROTECTS else (0, INF)
    else:
        value = int(text.replace(",", ""))
        low = max(value - rules.rounding // 2, rules.min_count)
        high = value + (rules.rounding - 1) // 2
    if not noisy or (text == "hidden" and reason != PROTECTS):
        return Seen(low, high)
    # n + min(n, D) >= low and n - min(n, D) <= high.
    first = next(n for n in itertools.count() if n + min(n, rules.max_noise) >= low)
    return Seen(first, high + rules.max_noise)


INF = float("inf")


def reader_attack(data: Dataset, release: Release) -> dict[str, Seen]:
    """Subtract every released total and table from every other, and use every shown
    percentage, until nothing changes: intervals only, from shown text only."""
    rules = release.rules
    noisy = release.perturbation is not None
    known: dict[str, Seen] = {}
    for name in data.values:
        shown = release.counts.get(name)
        known[name] = (
            Seen(0, INF) if shown is None else read_shown(shown.text, shown.reason, rules, noisy)
        )
    percents = []
    for (num, den), shown in release.percents.items():
        match = re.fullmatch(r"(\d+)\.(\d)%", shown.text)
        if noisy:
            # A noisy percentage is the shown count over the shown total: it tells a reader
            # the shown count of a numerator no table shows, and nothing else.
            if match and num not in release.counts:
                known[num] = implied_numerator(shown.text, release.counts[den].text, rules)
            continue
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


def implied_numerator(percent: str, denominator: str, rules: Rules) -> Seen:
    """Every true count behind a numerator whose shown value gives `percent` of the shown
    `denominator` (the union of those shown values' intervals)."""
    den = int(denominator.replace(",", ""))
    seen = [
        read_shown(f"{v:,}", None, rules, noisy=True)
        for v in range(rules.min_count, 2 * den + 10, rules.rounding)
        if rules.percent_text(rules.percent_scaled(min(v, den), den)) == percent
    ]
    assert seen, (percent, denominator)
    return Seen(min(s.low for s in seen), max(s.high for s in seen))


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


def crosstab(
    rng: random.Random, rows: int, columns: int, small: float, *, keyed: bool = False
) -> Dataset:
    """A rows x columns table with row, column and grand totals and percentages of row
    totals, many cells small (`keyed`: each cell with a random cell key, totals the sums)."""
    data = Dataset(keyed=keyed)
    cells = [
        [
            rng.choice([0, 1, 2, 3, 5, 8, 9]) if rng.random() < small else rng.randint(10, 60)
            for _ in range(columns)
        ]
        for _ in range(rows)
    ]
    keys = [[rng.randrange(KEY_RANGE) if keyed else 0 for _ in range(columns)] for _ in cells]
    for r in range(rows):
        for c in range(columns):
            data.count(f"c{r}.{c}", cells[r][c], key=keys[r][c])
        data.count(f"r{r}", sum(cells[r]), key=sum(keys[r]))
        data.add_sum(f"r{r}", [f"c{r}.{c}" for c in range(columns)])
        for c in range(columns):
            data.percent(f"c{r}.{c}", f"r{r}")
    for c in range(columns):
        data.count(f"k{c}", sum(cells[r][c] for r in range(rows)), key=sum(k[c] for k in keys))
        data.add_sum(f"k{c}", [f"c{r}.{c}" for r in range(rows)])
    data.count("all", sum(map(sum, cells)), key=sum(map(sum, keys)))
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


# ---- the cell key method ---------------------------------------------------------------------

PTABLE = RULES.ptable()
RECORD_KEYS = RecordKeys(cell_key_secret(bytes(range(32, 64))))


def perturbation(release: str = "2026-Q3", digest: bytes = b"d" * 32) -> Perturbation:
    """One release's reading of the p-table."""
    return RECORD_KEYS.perturbation(PTABLE, release=release, digest=digest)


def test_the_ptable_adds_at_most_five_with_mean_zero_and_never_goes_below_zero() -> None:
    assert PTABLE.max_noise == 5
    for value in range(0, 40):
        row = PTABLE.row(value)
        assert len(row) == KEY_RANGE
        assert sum(row) == 0  # unbiased: the mean noise is exactly zero
        assert max(abs(noise) for noise in row) == min(value, 5)
        assert min(value + noise for noise in row) >= 0
    assert set(PTABLE.row(0)) == {0}
    # From 5 up, each noise from -5 to +5 has 23 or 24 of the 256 cell keys.
    spread = Counter(PTABLE.row(50))
    assert sorted(spread) == list(range(-5, 6)) and set(spread.values()) == {23, 24}
    assert sum(PTABLE.distribution(7).values()) == pytest.approx(1.0)


def test_the_preimage_is_every_count_the_noise_could_have_shown_so() -> None:
    for low, high in ((0, 9), (10, 12), (13, 17), (23, 27), (1000, 1004), (10, INF)):
        possible = [
            n
            for n in range(0, 1100)
            if any(low <= n + noise <= high for noise in set(PTABLE.row(n)))
        ]
        first, last = PTABLE.preimage(low, high)
        assert first == possible[0]
        assert last == (INF if high == INF else possible[-1])
        assert possible == list(range(possible[0], possible[-1] + 1))  # no gaps


def test_record_keys_are_a_keyed_hmac_of_the_pseudonym_that_sql_can_repeat() -> None:
    pseudonym = "a" * 64
    key = RECORD_KEYS.of(pseudonym)
    assert 0 <= key < KEY_RANGE and RECORD_KEYS.of(pseudonym) == key
    # Derived for this purpose only: not the pseudonym key, and another key gives others.
    assert cell_key_secret(bytes(range(32, 64))) != bytes(range(32, 64))
    other = RecordKeys(cell_key_secret(bytes(range(64, 96))))
    people = [f"{n:064x}" for n in range(200)]
    assert sum(RECORD_KEYS.of(p) == other.of(p) for p in people) < 10
    assert len({RECORD_KEYS.of(p) for p in people}) > 100
    inner, outer = RECORD_KEYS.sql_pads()
    for identifier in (pseudonym, "incident:ABC-123"):
        digest = hashlib.sha256(outer + hashlib.sha256(inner + identifier.encode()).digest())
        assert digest.digest()[0] == RECORD_KEYS.of(identifier)


def test_each_release_reads_the_ptable_through_its_own_shuffle() -> None:
    base = perturbation()
    assert sorted(base.order) == list(range(KEY_RANGE))
    assert perturbation() == base  # the same quarter and snapshot: the same noise
    for other in (perturbation(digest=b"e" * 32), perturbation(release="2026-Q4")):
        assert sorted(other.order) == list(range(KEY_RANGE))
        # Fresh noise: about 1 in 11 cell keys reads the same noise by chance.
        same = sum(base.noise(50, k) == other.noise(50, k) for k in range(KEY_RANGE))
        assert same < 60


def noisy_count(value: int, key: int, rules: Rules = RULES) -> str:
    """How one count with this cell key is shown in the default release."""
    data = Dataset(keyed=True)
    data.count("cell", value, key=key)
    return protect(data, rules, perturbation()).count("cell").text


def test_a_count_under_ten_zero_included_is_always_shown_the_same() -> None:
    # Zero and 1 to 4 can never reach 10; and zero is "<10" like any other small count, so
    # a category that gains its first person does not go from "0" to "<10".
    for value in range(0, 5):
        assert {noisy_count(value, key) for key in range(KEY_RANGE)} == {"<10"}
    data = Dataset(keyed=True)
    data.count("none", 0)
    assert protect(data, RULES, perturbation()).count("none").reason == TOO_FEW
    # Near ten, the noise decides; far above, a count is within 5 (then rounded) of the truth.
    assert {noisy_count(8, key) for key in range(KEY_RANGE)} == {"<10", "10", "15"}
    for key in range(KEY_RANGE):
        assert abs(int(noisy_count(200, key)) - 200) <= 5 + 2


def test_noisy_percentages_are_the_shown_count_over_the_shown_total() -> None:
    rng = random.Random(5)
    for _ in range(200):
        data = Dataset(keyed=True)
        whole = rng.randint(5, 400)
        part = rng.randint(0, whole)
        data.count("part", part, key=rng.randrange(KEY_RANGE))
        data.count("whole", whole, key=rng.randrange(KEY_RANGE))
        data.percent("part", "whole")
        release = protect(data, RULES, perturbation())
        num, den = release.count("part"), release.count("whole")
        shown = release.percent("part", "whole")
        if num.hidden or den.hidden or (den.value or 0) < 23:
            assert shown.hidden and shown.reason == TOO_FEW
        else:
            assert num.value is not None and den.value is not None
            expected = min(100 * num.value / den.value, 100.0)  # noise may put a part above
            assert shown.text == f"{int(expected * 10 + 0.5) / 10:.1f}%"


@pytest.mark.parametrize("seed", range(40))
def test_no_small_count_of_a_random_noisy_crosstab_is_pinned_down(seed: int) -> None:
    rng = random.Random(2000 + seed)
    data = crosstab(
        rng, rng.randint(2, 5), rng.randint(2, 5), small=rng.choice([0.3, 0.6, 0.9]), keyed=True
    )
    release = protect(data, RULES, perturbation(digest=bytes([seed]) * 32))
    assert_nothing_pinned(data, release)
    for shown in release.counts.values():
        assert shown.text != "0"  # zeros are "<10" like the rest


@pytest.mark.parametrize("seed", range(4))
def test_exhaustive_search_of_a_noisy_table_finds_no_small_value(seed: int) -> None:
    """On 2x2 tables with noise, every assignment of true values that some noise could
    have shown as everything shown: each small cell keeps at least 3 possible values."""
    rng = random.Random(3000 + seed)
    data = crosstab(rng, 2, 2, small=0.9, keyed=True)
    release = protect(data, RULES, perturbation(digest=bytes([seed]) * 32))
    cells = [f"c{r}.{c}" for r in range(2) for c in range(2)]
    seen = {
        name: read_shown(s.text, s.reason, RULES, noisy=True) for name, s in release.counts.items()
    }
    ranges = [range(int(seen[n].low), int(min(seen[n].high, 90)) + 1) for n in cells]
    possible: dict[str, set[int]] = {name: set() for name in cells}
    for values in itertools.product(*ranges):
        value = dict(zip(cells, values, strict=True))
        totals = {
            "r0": value["c0.0"] + value["c0.1"],
            "r1": value["c1.0"] + value["c1.1"],
            "k0": value["c0.0"] + value["c1.0"],
            "k1": value["c0.1"] + value["c1.1"],
        }
        totals["all"] = totals["r0"] + totals["r1"]
        if all(seen[n].low <= v <= seen[n].high for n, v in totals.items()):
            for name in cells:
                possible[name].add(value[name])
    for name in cells:
        true = data.values[name]
        assert true in possible[name]
        if 0 < true < RULES.min_count:
            assert len(possible[name]) >= RULES.min_candidates, (name, true, possible[name])


def test_with_noise_secondary_suppression_still_hides_what_sums_would_pin() -> None:
    # 3 people not shown anywhere, but total - B would say how many: with the noise a reader
    # gets about 25 possible values; asking for 30 makes the engine hide B as well.
    data = Dataset(keyed=True)
    data.count("total", 40, key=7)
    data.count("A", 3, released=False, key=100)
    data.count("B", 37, key=163)
    data.add_sum("total", ["A", "B"])
    assert protect(data, RULES, perturbation()).secondary == 0
    assert 3 <= min_room(data, protect(data, RULES, perturbation()))["A"] < 30
    stricter = Rules(min_candidates=30)
    release = protect(data, stricter, perturbation())
    assert release.secondary == 1 and release.count("B").reason == PROTECTS
    assert min_room(data, release)["A"] >= 30


def skewed_workforce(rng: random.Random) -> tuple[dict[str, int], dict[str, int]]:
    """The report's counts and cell keys over a simulated skewed workforce, person by
    person (each with a record key), as `aggregates.collect` sums them."""
    content = Content(DEFAULT_CONTENT_DIR)
    taxonomy = taxonomy_of(content)
    counts: dict[str, int] = {}
    keys: dict[str, int] = {}

    def add(name: str, key: int) -> None:
        counts[name] = counts.get(name, 0) + 1
        keys[name] = (keys.get(name, 0) + key) % KEY_RANGE

    weights = {q.id: [rng.random() ** 3 for _ in q.options] for q in taxonomy.questions}
    departments = {"Adults": 140, "Children": 90, "Chief Executive's": 14, "Public Health": 31}
    for department, people in departments.items():
        for n in range(people):
            key = rng.randrange(KEY_RANGE)
            scopes = ("all", "senior" if n % 6 == 0 else "below", f"d={department}")
            for scope in scopes:
                add(f"head|{scope}", key)
            if rng.random() < 0.7:
                for scope in scopes:
                    add(f"declarants|{scope}", key)
                for question in taxonomy.questions:
                    if rng.random() < 0.8:
                        codes = [o.code for o in question.options]
                        code = rng.choices(codes, weights=weights[question.id])[0]
                        for scope in scopes:
                            add(f"ans|{scope}|{question.id}|{code}", key)
    for name in ("inc|total", "inc|loc|workplace", "roster|unlinked"):
        counts.setdefault(name, 0)
    return counts, keys


@pytest.mark.parametrize("seed", range(3))
def test_the_real_report_tables_with_noise_survive_the_attack(seed: int) -> None:
    content = Content(DEFAULT_CONTENT_DIR)
    counts, keys = skewed_workforce(random.Random(seed))
    built = build(
        counts,
        config=load_hr_config(content),
        taxonomy=taxonomy_of(content),
        incident_labels={"motivations": {}, "kinds": {}, "location": {}},
        quarter="2026-Q3",
        keys=keys,
    )
    release = protect(built.dataset, RULES, perturbation(digest=bytes([seed]) * 32))
    assert_nothing_pinned(built.dataset, release)
    for shown in [*release.counts.values(), *release.percents.values()]:
        assert shown.hidden is (shown.reason in (TOO_FEW, PROTECTS))
    # A figure made of the same people is shown the same wherever it appears: the women at
    # Grade 13+ target counts exactly the women at Grade 13+.
    women = next(f for f in built.targets if f.target.id == "women_senior")
    assert built.dataset.keys[women.numerator] == built.dataset.keys["ans|senior|sex|female"]
    assert release.count(women.numerator) == protect(
        built.dataset, RULES, perturbation(digest=bytes([seed]) * 32)
    ).count(women.numerator)


def test_cell_keys_that_do_not_add_up_are_refused() -> None:
    data = Dataset(keyed=True)
    data.count("a", 3, key=10)
    data.count("b", 4, key=20)
    data.count("total", 7, key=31)
    with pytest.raises(ValueError, match="cell keys"):
        data.add_sum("total", ["a", "b"])
    with pytest.raises(ValueError, match="cell keys"):
        protect(crosstab(random.Random(1), 2, 2, 0.5), RULES, perturbation())
