"""How often a typed sentence reaches its feature, and how long reading one takes.

`python -m bench.intents` reads every held-out phrasing in tests/intents/phrasings.yaml (kept
apart from the examples in content/*/menu.yaml) with the bot's matcher, and prints, per
feature and overall, the share reached (the feature started) or offered (among the buttons),
beside the baseline measured in the same run: the old exact command words. The issue's
targets: 90% overall, 95% for reporting (including the phrasings without the words report,
incident or hate), and no small talk sent to a report. Also prints the time to build the
matcher and to read one sentence. A measurement, not a test: it exits 0 whatever the figures
(tests/intents/test_understanding.py holds the floor).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence

from tests.intents.measure import (
    Tally,
    content,
    exact_words,
    load_phrasings,
    matcher,
    measure,
)


def row(name: str, tally: Tally) -> str:
    """One line of the table."""
    return f"{name:<18} {tally.total:>4} {tally.reached:>8} {tally.offered:>8} {tally.rate:>7.1%}"


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and print."""
    parser = argparse.ArgumentParser(prog="python -m bench.intents")
    parser.add_argument("--misses", action="store_true", help="list each phrasing missed")
    args = parser.parse_args(argv)
    shipped = content()
    phrasings = load_phrasings()
    started = time.perf_counter()
    understanding = matcher()
    built = time.perf_counter() - started
    result = measure(understanding, phrasings)
    baseline = exact_words(shipped, phrasings)
    print(f"{len(phrasings)} held-out phrasings; matcher built in {built * 1000:.0f} ms")
    print(f"{'feature':<18} {'n':>4} {'reached':>8} {'offered':>8} {'rate':>7}")
    for name, tally in sorted(result.by_feature.items()):
        print(row(name, tally))
    print(row("report, plain", result.plain_reports))
    print(row("overall", result.overall))
    print(f"baseline (exact command words, same phrasings): {baseline.rate:.1%}")
    print(f"small talk sent to a report: {len(result.small_talk_to_report)}")
    timings = []
    for phrasing in phrasings:
        started = time.perf_counter()
        understanding.read(phrasing.text)
        timings.append(time.perf_counter() - started)
    print(
        f"reading one sentence: median {statistics.median(timings) * 1000:.2f} ms, "
        f"slowest {max(timings) * 1000:.2f} ms"
    )
    if args.misses:
        for name, tally in sorted(result.by_feature.items()):
            for text, got in tally.missed:
                print(f"  missed {name}: {text!r} -> {got or 'nothing'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
