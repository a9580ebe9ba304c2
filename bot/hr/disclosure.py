"""Statistical disclosure control: the ONE step every HR output passes through.

Nothing an HR user sees (card, chat, CSV, HTML) is made from a count directly; it is made
from a `Release`, which only `protect` builds. The rules (docs/hr_reports.md):

- counts: 0 stays 0; 1 to 9 are shown as "<10"; 10 and over are rounded to the nearest 5
  (the ONS 10-5 rule). Thresholds come from settings and are never weaker than this unless
  the explicit override setting is on (`Rules.checked`).
- percentages are worked out from the unrounded counts and hidden when the denominator is
  under 23 (the HESA rule), when their numerator is hidden, or when their denominator is.
- secondary suppression: after the primary rules, `protect` attacks its own output exactly as
  an outsider could, knowing every released figure of every table built from the same data
  and every way they add up (`Dataset.sums`): a shown count v means [v-2, v+2] (and at
  least 10), "<10" means [1, 9], "hidden to protect another cell" means at least 10, a shown
  percentage pins the ratio of its two counts to its rounding interval. Interval reasoning
  over all of that, to a fixed point, subsumes subtracting any table or total from any
  other. Any small count (1-9, released or only derivable, such as "staff below Grade 13 in
  a group" = overall - Grade 13+) left with fewer than `min_candidates` possible values, or
  any hidden figure left with a single value, gets another figure hidden to protect it,
  and the attack is run again until nothing is pinned.
- each hidden figure says why: "too few people" or "hidden to protect another cell".

With a `Perturbation` (the cell key method, bot/hr/cellkey.py; every quarterly release
has one), the primary rules become: each count gets its noise from the p-table first; a
perturbed count under 10, zero included, is shown as "<10"; 10 and over is rounded to the
nearest 5; and every percentage is the shown count over the shown total (hidden when either
is not shown or the shown total is under 23). The attack then reads each shown figure as
every true count the p-table could have turned into it. Without one (quarters frozen before
cell keys, and the rule tests), the rules are as above.
"""

from __future__ import annotations

from collections import defaultdict

from bot.hr.attack import Bounds, attack, candidates
from bot.hr.cellkey import Perturbation
from bot.hr.dataset import PROTECTS, TOO_FEW, AtMost, Dataset, Release, Rules, Shown, Sum


def protect(dataset: Dataset, rules: Rules, perturbation: Perturbation | None = None) -> Release:
    """Apply the primary rules (after the cell key method's noise, given a `perturbation`),
    then hide more until the attack pins nothing down."""
    if perturbation is None:
        counts = {name: _primary(rules, dataset.values[name]) for name in dataset.released}
        release = Release(rules=rules, counts=counts, percents={})
    else:
        if not dataset.keyed:
            raise ValueError("the cell key method needs a dataset with cell keys")
        needed = dataset.released | {name for ratio in dataset.ratios for name in ratio}
        shown = {
            name: _perturbed(
                rules, perturbation.perturbed(dataset.values[name], dataset.keys[name])
            )
            for name in needed
        }
        release = Release(
            rules=rules,
            counts={name: shown[name] for name in dataset.released},
            percents={},
            perturbation=perturbation,
            implied={name: shown[name] for name in needed - dataset.released},
        )
    _percentages(dataset, release)
    neighbours = _neighbours(dataset)
    for rounds in range(1, 10_000):
        release.rounds = rounds
        weak = _weak(dataset, release, attack(dataset, release))
        if not weak:
            return release
        # Percentages are the most useful figures: hide one only when counts alone would
        # not have pinned the cell down.
        without = _weak(dataset, release, attack(dataset, release, use_percents=False))
        hidden_before = release.secondary
        for name in weak:
            choice = None
            if name not in without:
                choice = _choose(dataset, release, name, neighbours, percents=True)
            if choice is None:
                choice = _choose(dataset, release, name, neighbours, percents=False)
            if choice is not None:
                _hide(release, choice)
                release.secondary += 1
        if release.secondary == hidden_before:
            # Nothing near enough to hide: hide everything connected to the weak counts.
            for choice in _connected(dataset, release, weak, neighbours):
                _hide(release, choice)
                release.secondary += 1
            if release.secondary == hidden_before:
                raise AssertionError("secondary suppression found nothing left to hide")
        _percentages(dataset, release)
    raise AssertionError("secondary suppression did not settle")  # pragma: no cover


def _connected(
    dataset: Dataset,
    release: Release,
    weak: list[str],
    neighbours: dict[str, list[tuple[str, bool]]],
) -> list[Choice]:
    """Every shown non-zero count and shown percentage linked, however far, to `weak`."""
    seen = set(weak)
    frontier = list(weak)
    while frontier:
        name = frontier.pop()
        for other, _ in neighbours.get(name, []):
            if other not in seen:
                seen.add(other)
                frontier.append(other)
    found: list[Choice] = [
        ("count", name)
        for name in sorted(seen)
        if (shown := release.counts.get(name)) is not None
        and not shown.hidden
        and dataset.values[name] > 0
    ]
    found += [
        ("percent", f"{num}\x1f{den}")
        for (num, den), shown in sorted(release.percents.items())
        if not shown.hidden and (num in seen or den in seen)
    ]
    return found


def _primary(rules: Rules, value: int) -> Shown:
    if value == 0:
        return Shown("0", value=0)
    if value < rules.min_count:
        return Shown(f"<{rules.min_count}", hidden=True, reason=TOO_FEW)
    rounded = rules.rounded(value)
    return Shown(f"{rounded:,}", value=rounded)


def _perturbed(rules: Rules, noisy: int) -> Shown:
    """A perturbed count shown: under the threshold (zero too) "<10", else rounded."""
    if noisy < rules.min_count:
        return Shown(f"<{rules.min_count}", hidden=True, reason=TOO_FEW)
    rounded = rules.rounded(noisy)
    return Shown(f"{rounded:,}", value=rounded)


def _percentages(dataset: Dataset, release: Release) -> None:
    """(Re)derive every percentage from its counts' current state."""
    if release.perturbation is not None:
        _shown_percentages(dataset, release)
        return
    rules = release.rules
    for num, den in sorted(dataset.ratios):
        previous = release.percents.get((num, den))
        if previous is not None and previous.hidden:
            continue  # hidden for its own sake earlier: stays hidden
        numerator, denominator = dataset.values[num], dataset.values[den]
        num_shown = release.counts.get(num)
        den_shown = release.counts.get(den)
        if denominator < rules.min_denominator or (
            num_shown is None and 0 < numerator < rules.min_count
        ):
            # A percentage of a small count would give the count away.
            shown = Shown("hidden", hidden=True, reason=TOO_FEW)
        elif num_shown is not None and num_shown.hidden:
            shown = Shown("hidden", hidden=True, reason=num_shown.reason)
        elif den_shown is not None and den_shown.hidden:
            shown = Shown("hidden", hidden=True, reason=den_shown.reason)
        else:
            scaled = rules.percent_scaled(numerator, denominator)
            shown = Shown(rules.percent_text(scaled), value=scaled / 10**rules.percent_decimals)
        release.percents[(num, den)] = shown


def _shown_percentages(dataset: Dataset, release: Release) -> None:
    """Each percentage as the shown count over the shown total, so that a reader can check
    it and it gives nothing away the counts do not: hidden when either is not shown or the
    shown total is under the minimum denominator; at most 100% (noise can put a part above
    its total)."""
    rules = release.rules
    for num, den in sorted(dataset.ratios):
        previous = release.percents.get((num, den))
        if previous is not None and previous.hidden:
            continue
        numerator = release.counts.get(num) or release.implied[num]
        denominator = release.counts.get(den) or release.implied[den]
        if numerator.hidden:
            shown = Shown("hidden", hidden=True, reason=numerator.reason)
        elif denominator.hidden:
            shown = Shown("hidden", hidden=True, reason=denominator.reason)
        elif (denominator.value or 0) < rules.min_denominator:
            shown = Shown("hidden", hidden=True, reason=TOO_FEW)
        else:
            whole = int(denominator.value or 0)
            scaled = rules.percent_scaled(min(int(numerator.value or 0), whole), whole)
            shown = Shown(rules.percent_text(scaled), value=scaled / 10**rules.percent_decimals)
        release.percents[(num, den)] = shown


def _weak(dataset: Dataset, release: Release, bounds: Bounds) -> list[str]:
    """Counts the attack pins down too far, smallest first."""
    rules = release.rules
    weak = []
    for name, value in dataset.values.items():
        room = candidates(bounds[name])
        shown = release.counts.get(name)
        sensitive = 0 < value < rules.min_count
        # A hidden zero that the tables' structure alone pins (a sum of nothing) gives
        # nobody away: revealing a zero is allowed, and nothing could be hidden to stop it.
        if (sensitive and room < rules.min_candidates) or (
            shown is not None and shown.hidden and room < 2 and value > 0
        ):
            weak.append(name)
    return sorted(weak, key=lambda n: (dataset.values[n], n))


def _neighbours(dataset: Dataset) -> dict[str, list[tuple[str, bool]]]:
    """For each count, the counts it shares a sum with (and whether each is that sum's total)."""
    found: dict[str, list[tuple[str, bool]]] = defaultdict(list)
    relations: list[Sum | AtMost] = [*dataset.sums, *dataset.at_most]
    for relation in relations:
        members = [(relation.total, True), *((p, False) for p in relation.parts)]
        for name, _ in members:
            found[name].extend(m for m in members if m[0] != name)
    return found


Choice = tuple[str, str]  # ("count", name) or ("percent", "num\x1fden")


def _choose(
    dataset: Dataset,
    release: Release,
    weak: str,
    neighbours: dict[str, list[tuple[str, bool]]],
    *,
    percents: bool,
) -> Choice | None:
    """The figure to hide next to protect `weak`: with `percents`, a shown percentage that
    relates to it; otherwise the smallest shown count that shares a sum with it (parts
    before totals), looking further out (sums of sums) when nothing near is left."""
    frontier = [weak]
    seen = {weak}
    for _depth in range(6):
        near: set[str] = set()
        ranked: list[tuple[int, int, str]] = []
        for name in frontier:
            for other, is_total in neighbours.get(name, []):
                if other in seen:
                    continue
                near.add(other)
                shown = release.counts.get(other)
                if shown is not None and not shown.hidden and dataset.values[other] > 0:
                    ranked.append((int(is_total), dataset.values[other], other))
        touching = set(frontier) | near
        if percents:
            for (num, den), shown in sorted(release.percents.items()):
                if not shown.hidden and (num in touching or den in touching):
                    return ("percent", f"{num}\x1f{den}")
        elif ranked:
            return ("count", min(ranked)[2])
        seen |= near
        frontier = sorted(near)
        if not frontier:
            return None
    return None


def _hide(release: Release, choice: Choice) -> None:
    kind, name = choice
    hidden = Shown("hidden", hidden=True, reason=PROTECTS)
    if kind == "count":
        release.counts[name] = hidden
    else:
        num, den = name.split("\x1f")
        release.percents[(num, den)] = hidden
