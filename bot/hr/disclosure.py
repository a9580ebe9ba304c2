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

With a `Perturbation` (the cell key method, bot/stats/cellkey.py; every quarterly release
has one), the primary rules become: each count gets its noise from the p-table first; a
perturbed count under 10, zero included, is shown as "<10"; 10 and over is rounded to the
nearest 5; and every percentage is the shown count over the shown total (hidden when either
is not shown or the shown total is under 23). The attack then reads each shown figure as
every true count the p-table could have turned into it. Without one (quarters frozen before
cell keys, and the rule tests), the rules are as above.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from bot.hr.cellkey import KEY_RANGE, Perturbation, PTable

TOO_FEW = "too few people"
PROTECTS = "hidden to protect another cell"

INF = math.inf

# The rule's floor: settings may be stricter, never weaker without the override.
ONS_MIN_COUNT = 10
ONS_ROUNDING = 5
HESA_MIN_DENOMINATOR = 23
# The p-table's largest noise: every count can move by up to this many, before rounding.
CELL_KEY_MAX_NOISE = 5


class DisclosureConfigError(ValueError):
    """Thresholds weaker than the published rules, without the explicit override."""


@dataclass(frozen=True, slots=True)
class Rules:
    """The thresholds. Defaults are the ONS 10-5 rule and HESA's 23."""

    min_count: int = ONS_MIN_COUNT
    rounding: int = ONS_ROUNDING
    min_denominator: int = HESA_MIN_DENOMINATOR
    min_candidates: int = 3
    percent_decimals: int = 1
    max_noise: int = CELL_KEY_MAX_NOISE

    def checked(self, *, allow_weaker: bool = False) -> Rules:
        """These rules, or an error if any is weaker than the published rule (and not allowed)."""
        if self.min_count < 1 or self.rounding < 1 or self.min_denominator < 1:
            raise DisclosureConfigError("disclosure thresholds must be at least 1")
        if self.min_candidates < 2:
            raise DisclosureConfigError("a hidden cell must keep at least 2 possible values")
        if not 0 <= self.percent_decimals <= 2:
            raise DisclosureConfigError("percentages may have 0 to 2 decimal places")
        if not 0 <= self.max_noise <= 50:
            raise DisclosureConfigError("the largest noise must be from 0 to 50")
        weaker = [
            name
            for name, value, floor in (
                ("minimum count", self.min_count, ONS_MIN_COUNT),
                ("rounding base", self.rounding, ONS_ROUNDING),
                ("minimum denominator", self.min_denominator, HESA_MIN_DENOMINATOR),
                ("largest noise", self.max_noise, CELL_KEY_MAX_NOISE),
            )
            if value < floor
        ]
        if weaker and not allow_weaker:
            raise DisclosureConfigError(
                f"{', '.join(weaker)} below the published rule (ONS 10-5, HESA 23, "
                f"noise {CELL_KEY_MAX_NOISE}); "
                "set EDI_HR_ALLOW_WEAKER_DISCLOSURE=true only if the DPO has agreed"
            )
        return self

    def rounded(self, value: int) -> int:
        """`value` rounded half-up to the nearest multiple of the rounding base."""
        base = self.rounding
        return ((2 * value + base) // (2 * base)) * base

    def rounding_interval(self, shown: int) -> tuple[int, int]:
        """Every count that is shown as `shown`."""
        return (
            max(shown - self.rounding // 2, self.min_count),
            shown + (self.rounding - 1) // 2,
        )

    def percent_scaled(self, numerator: int, denominator: int) -> int:
        """100 * numerator / denominator, rounded half-up, times 10**decimals (an integer)."""
        scale: int = 100 * 10**self.percent_decimals
        return (2 * numerator * scale + denominator) // (2 * denominator)

    def ptable(self) -> PTable:
        """The perturbation table these rules use."""
        return PTable(self.max_noise)

    def percent_text(self, scaled: int) -> str:
        """A scaled percentage as text: "12.3%"."""
        if self.percent_decimals == 0:
            return f"{scaled}%"
        whole, part = divmod(scaled, 10**self.percent_decimals)
        return f"{whole}.{part:0{self.percent_decimals}d}%"


# ---- what is released ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sum:
    """`total` equals the sum of `parts` (a public fact about how the tables are built)."""

    total: str
    parts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AtMost:
    """Each of `parts` is at most `total` (a table whose rows overlap, such as categories
    a report may tick several of)."""

    total: str
    parts: tuple[str, ...]


@dataclass
class Dataset:
    """True counts (variables) and how they relate, before anything is released.

    `released` names the counts some table shows; the rest are only there because an
    outsider could derive them (for example staff below Grade 13 = all staff - Grade 13+).
    `keys` holds each count's cell key when the dataset is `keyed` (bot/stats/cellkey.py).
    """

    values: dict[str, int] = field(default_factory=dict)
    released: set[str] = field(default_factory=set)
    sums: list[Sum] = field(default_factory=list)
    at_most: list[AtMost] = field(default_factory=list)
    ratios: set[tuple[str, str]] = field(default_factory=set)
    keys: dict[str, int] = field(default_factory=dict)
    keyed: bool = False

    def count(self, name: str, value: int, *, released: bool = True, key: int = 0) -> str:
        """Add a count with its cell key (or re-declare one; value and key must agree)."""
        if value < 0:
            raise ValueError(f"count {name} is negative")
        known = self.values.setdefault(name, value)
        if known != value:
            raise ValueError(f"count {name} given two values")
        if self.keys.setdefault(name, key % KEY_RANGE) != key % KEY_RANGE:
            raise ValueError(f"count {name} given two cell keys")
        if released:
            self.released.add(name)
        return name

    def add_sum(self, total: str, parts: Iterable[str]) -> None:
        """Declare that `total` is the sum of `parts` (all already added)."""
        parts = tuple(parts)
        self._known(total, *parts)
        if sum(self.values[p] for p in parts) != self.values[total]:
            raise ValueError(f"{total} is not the sum of its parts")
        # The same people make the total and its parts, so their cell keys add up too; a
        # mismatch means the keys were collected wrongly, and the noise would be too.
        if self.keyed and sum(self.keys[p] for p in parts) % KEY_RANGE != self.keys[total]:
            raise ValueError(f"the cell keys of {total} do not add up")
        self.sums.append(Sum(total, parts))

    def add_at_most(self, total: str, parts: Iterable[str]) -> None:
        """Declare that each of `parts` is at most `total`."""
        parts = tuple(parts)
        self._known(total, *parts)
        self.at_most.append(AtMost(total, parts))

    def percent(self, numerator: str, denominator: str) -> tuple[str, str]:
        """Declare a percentage that some table shows."""
        self._known(numerator, denominator)
        self.ratios.add((numerator, denominator))
        return numerator, denominator

    def _known(self, *names: str) -> None:
        missing = [n for n in names if n not in self.values]
        if missing:
            raise KeyError(f"unknown counts: {missing[:3]}")


@dataclass(frozen=True, slots=True)
class Shown:
    """One released figure: its text, and if hidden, why. `value` is for charts only (the
    rounded count or the percentage), None when hidden."""

    text: str
    hidden: bool = False
    reason: str | None = None
    value: float | None = None


@dataclass
class Release:
    """The only thing outputs are made from: every released count and percentage, shown."""

    rules: Rules
    counts: dict[str, Shown]
    percents: dict[tuple[str, str], Shown]
    secondary: int = 0
    rounds: int = 0
    # With the cell key method: the noise, and how each count a percentage is worked out
    # from would be shown (for numerators no table shows, a shown percentage gives it away).
    perturbation: Perturbation | None = None
    implied: dict[str, Shown] = field(default_factory=dict)

    def count(self, name: str) -> Shown:
        """How the count `name` is shown."""
        return self.counts[name]

    def percent(self, numerator: str, denominator: str) -> Shown:
        """How the percentage numerator/denominator is shown."""
        return self.percents[(numerator, denominator)]

    def hidden_counts(self) -> dict[str, str]:
        """Every hidden count and its reason."""
        return {k: s.reason or "" for k, s in self.counts.items() if s.hidden}


# ---- the attack ---------------------------------------------------------------------------

Bounds = dict[str, tuple[float, float]]
Knowledge = Literal["exact", "shown", "too_few", "protects", "unknown"]


def knowledge_of(dataset: Dataset, release: Release, *, use_percents: bool = True) -> Bounds:
    """What an outsider knows of each count from the released figures alone."""
    if release.perturbation is not None:
        return _perturbed_knowledge(dataset, release, use_percents=use_percents)
    rules = release.rules
    bounds: Bounds = {}
    for name in dataset.values:
        shown = release.counts.get(name)
        if shown is None:
            bounds[name] = (0, INF)
        elif shown.hidden:
            bounds[name] = (
                (1, rules.min_count - 1)
                if shown.reason == TOO_FEW
                else (
                    rules.min_count,
                    INF,
                )
            )
        elif shown.value == 0:
            bounds[name] = (0, 0)
        else:
            bounds[name] = rules.rounding_interval(int(shown.value or 0))
    for (num, den), shown in release.percents.items():
        if not shown.hidden:
            continue
        lo, hi = bounds[den]
        if shown.reason == PROTECTS:
            # Had the denominator been under 23 the reason would have said so.
            bounds[den] = (max(lo, rules.min_denominator), hi)
            continue
        num_shown = release.counts.get(num)
        den_shown = release.counts.get(den)
        if num_shown is not None and not num_shown.hidden and den_shown is not None:
            # Too few people behind a percentage whose numerator is shown: a small denominator.
            bounds[den] = (lo, min(hi, rules.min_denominator - 1))
    return bounds


def _perturbed_knowledge(dataset: Dataset, release: Release, *, use_percents: bool) -> Bounds:
    """Every true count the p-table could have turned into what is shown of each count.

    The p-table is public (docs/hr_reports.md); the cell keys are not. A shown v was a
    perturbed count that rounds to v, "<10" one under 10 (zero included), "hidden to protect
    another cell" one of 10 or more; each true count within the noise of those is possible.
    A shown percentage is the shown count over the shown total, so it tells no more than
    they do, except for a numerator no table shows: then it gives that away as if shown.
    """
    rules = release.rules
    ptable = rules.ptable()
    seen = dict(release.counts)
    if use_percents:
        for (num, den), shown in sorted(release.percents.items(), key=lambda p: p[1].hidden):
            for name in (num, den):
                if name in seen or name not in release.implied:
                    continue
                if not shown.hidden:
                    seen[name] = release.implied[name]
                elif shown.reason == PROTECTS:
                    # Hidden only to protect another cell: it would have been shown.
                    seen[name] = Shown("hidden", hidden=True, reason=PROTECTS)
                elif name == num and _shown_at_least(seen.get(den), rules.min_denominator):
                    # Too few people, over a total that is shown and large enough: the
                    # numerator was under the threshold.
                    seen[name] = Shown(f"<{rules.min_count}", hidden=True, reason=TOO_FEW)
    bounds: Bounds = {}
    for name in dataset.values:
        known = seen.get(name)
        if known is None:
            bounds[name] = (0, INF)
        elif known.hidden and known.reason == TOO_FEW:
            bounds[name] = ptable.preimage(0, rules.min_count - 1)
        elif known.hidden:
            bounds[name] = ptable.preimage(rules.min_count, INF)
        else:
            low, high = rules.rounding_interval(int(known.value or 0))
            bounds[name] = ptable.preimage(low, high)
    return bounds


def _shown_at_least(shown: Shown | None, value: int) -> bool:
    return shown is not None and not shown.hidden and (shown.value or 0) >= value


def attack(
    dataset: Dataset, release: Release, *, use_percents: bool = True, max_passes: int = 200
) -> Bounds:
    """Every count's possible range after combining all released figures and sums.

    Interval constraint propagation to a fixed point over every `Sum` (total = parts),
    `AtMost` and shown percentage: the differencing attack, applied to everything at once.
    """
    rules = release.rules
    bounds = knowledge_of(dataset, release, use_percents=use_percents)
    lo = {k: v[0] for k, v in bounds.items()}
    hi = {k: v[1] for k, v in bounds.items()}
    # Perturbed percentages are shown counts over shown totals: nothing about the true ratio.
    ratios = [
        (num, den, round(shown.value * 10**rules.percent_decimals))
        for (num, den), shown in release.percents.items()
        if use_percents
        and release.perturbation is None
        and not shown.hidden
        and shown.value is not None
    ]
    # Which constraints mention each count, so only those touched are looked at again.
    sums_of: dict[str, list[int]] = defaultdict(list)
    for index, relation in enumerate(dataset.sums):
        for name in (relation.total, *relation.parts):
            sums_of[name].append(index)
    pending = set(range(len(dataset.sums)))
    for _ in range(max_passes):
        changed: set[str] = set()
        for index in sorted(pending):
            changed |= _tighten_sum(dataset.sums[index], lo, hi)
        for bound in dataset.at_most:
            for part in bound.parts:
                if hi[bound.total] < hi[part]:
                    hi[part] = hi[bound.total]
                    changed.add(part)
                if lo[part] > lo[bound.total]:
                    lo[bound.total] = lo[part]
                    changed.add(bound.total)
        for num, den, scaled in ratios:
            changed |= _tighten_ratio(rules, num, den, scaled, lo, hi)
        for name in changed:
            if lo[name] > hi[name]:
                raise AssertionError(f"released figures are inconsistent at {name}")
        if not changed:
            break
        pending = {i for name in changed for i in sums_of[name]}
    return {k: (lo[k], hi[k]) for k in lo}


def _tighten_sum(relation: Sum, lo: dict[str, float], hi: dict[str, float]) -> set[str]:
    changed: set[str] = set()
    parts = relation.parts
    total = relation.total
    lo_sum = sum(lo[p] for p in parts)
    hi_sum = sum(hi[p] for p in parts)
    if lo_sum > lo[total]:
        lo[total] = lo_sum
        changed.add(total)
    if hi_sum < hi[total]:
        hi[total] = hi_sum
        changed.add(total)
    for part in parts:
        others_hi = hi_sum - hi[part] if hi[part] != INF else _sum_without(hi, parts, part)
        others_lo = lo_sum - lo[part]
        new_lo = lo[total] - others_hi
        new_hi = hi[total] - others_lo
        if new_lo > lo[part]:
            lo[part] = new_lo
            changed.add(part)
        if new_hi < hi[part]:
            hi[part] = new_hi
            changed.add(part)
    return changed


def _sum_without(values: Mapping[str, float], parts: tuple[str, ...], skip: str) -> float:
    return sum(values[p] for p in parts if p != skip)


def _tighten_ratio(
    rules: Rules, num: str, den: str, scaled: int, lo: dict[str, float], hi: dict[str, float]
) -> set[str]:
    """Keep only (numerator, denominator) pairs that round to the shown percentage."""
    if hi[den] == INF or hi[den] - lo[den] > 5000:
        return set()
    factor = 200 * 10**rules.percent_decimals
    num_lo, num_hi = INF, -INF
    den_lo, den_hi = INF, -INF
    for d in range(max(int(lo[den]), 1), int(hi[den]) + 1):
        # 2*scaled - 1 <= 2*num*factor/2/d < 2*scaled + 1, in integers.
        first = max(-((-(2 * scaled - 1) * d) // factor), lo[num])
        last = min(-((-(2 * scaled + 1) * d) // factor) - 1, hi[num])
        if first <= last:
            num_lo, num_hi = min(num_lo, first), max(num_hi, last)
            den_lo, den_hi = min(den_lo, d), max(den_hi, d)
    changed: set[str] = set()
    for name, new_lo, new_hi in ((num, num_lo, num_hi), (den, den_lo, den_hi)):
        if new_lo == INF:
            raise AssertionError(f"released percentage of {num} is inconsistent")
        if new_lo > lo[name]:
            lo[name] = new_lo
            changed.add(name)
        if new_hi < hi[name]:
            hi[name] = new_hi
            changed.add(name)
    return changed


def candidates(bounds: tuple[float, float]) -> float:
    """How many whole numbers a count could still be."""
    low, high = bounds
    return INF if high == INF else high - low + 1


# ---- the engine -----------------------------------------------------------------------------


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
