"""What disclosure control works on: the rules, the counts and how they add up, and
what is released (see disclosure.py)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

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
    `keys` holds each count's cell key when the dataset is `keyed` (bot/hr/cellkey.py).
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
