"""How long `edi-bot --help` and a command's `--help` take to start, beside bare Python.

`python -m bench.cli_start` runs each command N times in a fresh process and prints the
median and the fastest wall time. The target (the redesign issue): `edi-bot --help` under
0.3 s on an idle machine. Bare `python -c pass` is measured in the same run as the baseline,
so a busy machine shows up as a slow baseline rather than as a slow CLI.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence

TARGET_SECONDS = 0.3


def timed(command: Sequence[str], runs: int) -> list[float]:
    """Wall-clock seconds of `runs` fresh runs of `command` (output discarded)."""
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        seconds.append(time.perf_counter() - started)
    return seconds


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and print; exit 0 whatever the figures (a measurement, not a test)."""
    parser = argparse.ArgumentParser(prog="python -m bench.cli_start")
    parser.add_argument("--runs", type=int, default=15, help="runs per command (default 15)")
    args = parser.parse_args(argv)
    entry = shutil.which("edi-bot", path=os.path.dirname(sys.executable)) or "edi-bot"
    commands = {
        "python -c pass (baseline)": [sys.executable, "-c", "pass"],
        "edi-bot --help": [entry, "--help"],
        "edi-bot cases --help": [entry, "cases", "--help"],
        "edi-bot report --help": [entry, "report", "--help"],
    }
    print(f"{'command':<28} {'median s':>9} {'fastest s':>10}")
    medians = {}
    for name, command in commands.items():
        seconds = timed(command, args.runs)
        medians[name] = statistics.median(seconds)
        print(f"{name:<28} {medians[name]:>9.3f} {min(seconds):>10.3f}")
    help_median = medians["edi-bot --help"]
    verdict = "met" if help_median < TARGET_SECONDS else "MISSED"
    print(f"target edi-bot --help < {TARGET_SECONDS} s: {verdict} ({help_median:.3f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
