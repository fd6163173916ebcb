"""Which sequence numbers central holds without a gap: the one number a station may trust.

A station sends its log in batches, each a run "after event A come events up to L, nothing
between". Central keeps the highest sequence it holds contiguously from the start (`acked`) and
the runs that arrived ahead of it (a retried batch overtaken by a newer one, a replay, a restore
from backup). A run joins the acknowledged prefix as soon as the prefix reaches its start. Using
the station's own "after" instead of seq + 1 keeps this right even if the log had a gap.
"""

from __future__ import annotations

Run = tuple[int, int]
"""(after, last): events after `after` up to and including `last` are stored, with no gap."""


def advance(acked: int, runs: list[Run]) -> tuple[int, list[Run]]:
    """Fold every run that starts inside the acknowledged prefix into it; keep the rest.

    Runs are taken in order of their start: once one starts beyond the prefix, every later one
    does too, so a single pass is enough.
    """
    pending = sorted(runs)
    kept: list[Run] = []
    for after, last in pending:
        if last <= acked:
            continue
        if after <= acked:
            acked = last
        else:
            kept.append((after, last))
    return acked, _merge(kept)


def _merge(runs: list[Run]) -> list[Run]:
    """Join runs that touch (one starts inside another) so the table stays small."""
    out: list[Run] = []
    for after, last in sorted(runs):
        if out and after <= out[-1][1]:
            prev_after, prev_last = out[-1]
            out[-1] = (prev_after, max(prev_last, last))
        else:
            out.append((after, last))
    return out


def nothing_held(acked: int, runs: list[Run], first: int, last: int) -> bool:
    """Whether central can hold no event numbered first..last: every stored event of a station
    lies in its acknowledged prefix or in one of its runs, so a batch beyond the prefix that
    meets no run is new from end to end (its rows may go straight into the events table)."""
    if first <= acked:
        return False
    return all(run_last < first or run_after >= last for run_after, run_last in runs)
