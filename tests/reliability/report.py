"""Figures the reliability suite reports at the end of the run.

Tests run in xdist workers, so a figure cannot live in memory: each record is one JSON line in a
directory the controlling pytest chose (`STATION_RELIABILITY_DIR`), and the controller adds them
up in its terminal summary. Outside pytest (a test module run by hand) records go nowhere.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ENV = "STATION_RELIABILITY_DIR"

COUNTERS = {
    "kills": "power cuts (kill -9) survived",
    "events_checked": "events checked against the log (after power cuts, outages, faults)",
    "events_lost": "events lost",
    "requests_fuzzed": "requests fuzzed",
    "server_errors": "5xx seen",
    "inputs_fuzzed": "decoder inputs fuzzed",
    "attacks_refused": "attack requests refused",
}
"""Summed figures, in the order they are printed."""


def record(metric: str, value: float, *, label: str = "") -> None:
    """Add `value` to a counter, or set a labelled figure (e.g. guesses per day for one target)."""
    if metric not in COUNTERS and metric != "guesses_per_day":
        raise ValueError(f"unknown reliability metric {metric!r}")
    directory = os.environ.get(ENV)
    if not directory:
        return
    line = json.dumps({"metric": metric, "value": value, "label": label})
    with open(Path(directory) / f"{os.getpid()}.jsonl", "a", encoding="utf-8") as f:
        f.write(line + "\n")


@dataclass
class Summary:
    counters: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    guesses: dict[str, float] = field(default_factory=dict)

    @classmethod
    def read(cls, directory: Path) -> Summary:
        summary = cls()
        for path in sorted(directory.glob("*.jsonl")):
            for line in path.read_text(encoding="utf-8").splitlines():
                item = json.loads(line)
                if item["metric"] == "guesses_per_day":
                    summary.guesses[item["label"]] = item["value"]
                else:
                    summary.counters[item["metric"]] += item["value"]
        return summary

    def lines(self) -> list[str]:
        out = []
        for metric, title in COUNTERS.items():
            if metric in self.counters:
                out.append(f"{title}: {self.counters[metric]:g}")
        for label, value in sorted(self.guesses.items()):
            out.append(f"guesses an attacker gets per day, {label}: {value:g}")
        return out
