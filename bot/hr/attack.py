"""The differencing attack `protect` runs on its own output: what an outsider can work out
from every released figure and every way they add up (interval reasoning to a fixed point)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Literal

from bot.hr.dataset import INF, PROTECTS, TOO_FEW, Dataset, Release, Rules, Shown, Sum

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
