"""The cell key method (ONS, as applied to the 2021 Census), for HR figures compared across
releases. docs/hr_reports.md explains it for the Data Protection Officer.

- Every record (a person on the roster, a hate incident report) has a **record key**: the
  first byte of HMAC-SHA256(cell-key secret, "record" + its identifier), a whole number from
  0 to 255. The identifier is the keyed pseudonym the person is already stored under (or the
  keyed UPN hash of a roster row not yet linked, or an incident's reference). The secret is
  derived from the pseudonym key for this purpose only, so no column or table holds a record
  key and nobody without the key can work one out.
- A count's **cell key** is the sum of the record keys of the records it counts, modulo 256.
  Counts derived from others (a total, "not answered" = headcount - answered) get the sum
  (or difference) of their parts' cell keys: the same people always give the same cell key.
- The **perturbation table** (`PTable`) maps a true count and a cell key to a small noise:
  for a count of at least `max_noise` (5) each whole number from -5 to +5 is (almost)
  equally likely over the 256 cell keys; a count below that gets noise from -count to
  +count, so nothing is ever below zero; zero stays zero. The mean noise is exactly zero.
- Each **release** reads the table through its own shuffle of the 256 columns
  (`Perturbation`), keyed by the quarter and a digest of everything frozen for it. Within a
  release the same people always give the same noise (a figure shown in two tables is shown
  the same); a re-run of the same frozen quarter is identical; but two different releases
  (the next quarter, or a quarter re-frozen after the roster changed) draw every figure's
  noise afresh, so the one figure a joiner, leaver or changed answer touched does not stand
  out as the only figure that moved.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from functools import cache

KEY_RANGE = 256
_PURPOSE = b"edi-bot/hr-report/cell-keys/v1"
_RECORD = b"record\x1f"
_RELEASE = b"release\x1f"
_BLOCK = 64  # SHA-256's block size, for HMAC's pads


def cell_key_secret(pseudonym_key: bytes) -> bytes:
    """The secret record keys are made with: derived from the pseudonym key for this purpose
    alone, so it is stable for as long as pseudonyms are and is no use for anything else."""
    return hmac.digest(pseudonym_key, _PURPOSE, "sha256")


class RecordKeys:
    """Record keys, cell keys' perturbations, and the same HMAC for SQL to compute."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 32:
            raise ValueError("the cell-key secret must be at least 32 bytes")
        self._secret = secret

    def of(self, identifier: str) -> int:
        """The record key (0-255) of one record: a pseudonym, a UPN key or an incident."""
        return hmac.digest(self._secret, _RECORD + identifier.encode(), "sha256")[0]

    def sql_pads(self) -> tuple[bytes, bytes]:
        """(inner, outer) prefixes with which SQL computes the same record key as `of`:
        first byte of SHA-256(outer || SHA-256(inner || identifier)), which is HMAC."""
        key = self._secret if len(self._secret) <= _BLOCK else hashlib.sha256(self._secret).digest()
        key = key.ljust(_BLOCK, b"\0")
        inner = bytes(b ^ 0x36 for b in key) + _RECORD
        outer = bytes(b ^ 0x5C for b in key)
        return inner, outer

    def perturbation(self, ptable: PTable, *, release: str, digest: bytes) -> Perturbation:
        """How one release reads the p-table: a keyed shuffle of its columns, fixed by the
        release's name (the quarter) and a digest of everything frozen for it."""
        release_key = hmac.digest(
            self._secret, _RELEASE + release.encode() + b"\x1f" + digest, "sha256"
        )
        order = sorted(
            range(KEY_RANGE),
            key=lambda column: hmac.digest(release_key, column.to_bytes(2, "big"), "sha256"),
        )
        return Perturbation(ptable, tuple(order))


@dataclass(frozen=True, slots=True)
class PTable:
    """The perturbation table: noise for a true count and a cell key.

    Row n (the true count) spreads the 256 cell keys as evenly as they go over the noises
    -d..+d, d = min(n, max_noise); any keys left over go to 0 and to pairs +k/-k, so the
    mean stays exactly zero. Rows for n >= max_noise are all alike.
    """

    max_noise: int
    key_range: int = KEY_RANGE

    def row(self, value: int) -> tuple[int, ...]:
        """The noise for each cell key (0..key_range-1) of a true count `value`."""
        return _row(min(value, self.max_noise), self.key_range)

    def noise(self, value: int, key: int) -> int:
        """The noise added to a true count `value` whose cell key (as read) is `key`."""
        return self.row(value)[key % self.key_range]

    def distribution(self, value: int) -> dict[int, float]:
        """Each possible noise for a true count `value`, with its probability."""
        found: dict[int, float] = {}
        for noise in self.row(value):
            found[noise] = found.get(noise, 0.0) + 1 / self.key_range
        return found

    def spread(self, value: int) -> tuple[int, int]:
        """The lowest and highest perturbed value a true count `value` can become."""
        width = min(value, self.max_noise)
        return value - width, value + width

    def preimage(self, low: float, high: float) -> tuple[float, float]:
        """Every true count that can be perturbed into [low, high] (an interval, because
        both ends of `spread` grow with the count)."""
        width = self.max_noise
        # Below max_noise a count n reaches up to 2n; from there on up to n + max_noise.
        first = max(0, -(-int(low) // 2))
        if first > width:
            first = int(low) - width
        last = high + width if high != float("inf") else float("inf")
        return first, last


@cache
def _row(width: int, key_range: int) -> tuple[int, ...]:
    values = 2 * width + 1
    slots = dict.fromkeys(range(-width, width + 1), key_range // values)
    spare = key_range % values
    if spare % 2:
        slots[0] += 1
        spare -= 1
    for step in range(1, spare // 2 + 1):
        slots[step] += 1
        slots[-step] += 1
    return tuple(noise for noise in range(-width, width + 1) for _ in range(slots[noise]))


@dataclass(frozen=True, slots=True)
class Perturbation:
    """The noise of one release: the p-table, read through that release's column order."""

    ptable: PTable
    order: tuple[int, ...]

    def noise(self, value: int, cell_key: int) -> int:
        """The noise added to a true count `value` with cell key `cell_key`."""
        return self.ptable.noise(value, self.order[cell_key % KEY_RANGE])

    def perturbed(self, value: int, cell_key: int) -> int:
        """The true count plus its noise (never below zero)."""
        return value + self.noise(value, cell_key)
