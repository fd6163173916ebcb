"""The contiguous-sequence rule, against a brute-force model of which events are held."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from central.contiguity import advance, nothing_held


def test_run_starting_in_prefix_extends_it() -> None:
    assert advance(10, [(5, 20)]) == (20, [])
    assert advance(10, [(10, 11)]) == (11, [])


def test_run_ahead_is_kept_until_the_gap_fills() -> None:
    acked, kept = advance(0, [(100, 200)])
    assert (acked, kept) == (0, [(100, 200)])
    assert advance(0, [*kept, (0, 100)]) == (200, [])


def test_touching_runs_merge() -> None:
    assert advance(0, [(10, 20), (20, 30), (50, 60)]) == (0, [(10, 30), (50, 60)])


@given(
    size=st.integers(1, 60),
    cuts=st.lists(st.integers(1, 59), max_size=12),
    order=st.randoms(use_true_random=False),
    repeats=st.integers(0, 3),
)
def test_any_delivery_order_ends_fully_acked(
    size: int, cuts: list[int], order: object, repeats: int
) -> None:
    bounds = sorted({0, size, *(c for c in cuts if c < size)})
    batches = list(itertools.pairwise(bounds))
    deliveries = batches + batches[:repeats]
    order.shuffle(deliveries)  # type: ignore[attr-defined]
    acked, runs = 0, []
    held: set[int] = set()
    for after, last in deliveries:
        held.update(range(after + 1, last + 1))
        acked, runs = advance(acked, [*runs, (after, last)])
        # acked is exactly the longest prefix 1..n that is held
        expect = 0
        while expect + 1 in held:
            expect += 1
        assert acked == expect
    assert acked == size and runs == []


@given(
    acked=st.integers(0, 40),
    runs=st.lists(st.tuples(st.integers(0, 60), st.integers(1, 30)), max_size=5),
    first=st.integers(1, 70),
    length=st.integers(0, 20),
)
def test_nothing_held_matches_the_held_set(
    acked: int, runs: list[tuple[int, int]], first: int, length: int
) -> None:
    """A batch is new end to end exactly when none of its numbers is in the prefix or a run."""
    spans = [(a, a + n) for a, n in runs]
    held = set(range(1, acked + 1)).union(*(range(a + 1, b + 1) for a, b in spans))
    last = first + length
    assert nothing_held(acked, spans, first, last) == held.isdisjoint(range(first, last + 1))
