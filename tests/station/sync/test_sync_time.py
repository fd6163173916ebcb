"""Events written before the clock synchronised reach central with corrected, flagged times."""

from __future__ import annotations

import time
from collections.abc import Callable

from station.store import Store
from station.sync.clock_offsets import first_held
from tests.station.sync.synckit import Central, StepClock, fill, service

TRUE_START = 1_767_225_600.0  # what the time really was when the Pi booted
BOGUS_START = 1_700_000_000.0  # what the Pi's clock said (the last time it saved)


async def test_boot_offset_from_a_later_synced_event(
    central: Central, make_store: Callable[..., Store]
) -> None:
    clock = StepClock(wall=BOGUS_START, synced=False)
    clock.reboot("boot-1", BOGUS_START, synced=False)
    store = make_store(clock)
    fill(store, 3)  # at mono 5.0, clock wrong
    clock.advance(10)
    fill(store, 2)  # at mono 15.0, still wrong
    clock.step(TRUE_START - BOGUS_START)  # NTP steps the clock
    clock.is_synced = True
    clock.advance(5)
    fill(store, 2)  # synced events: wall - mono = TRUE_START - 5.0 + ... exact offset
    # A new boot never synchronised (and no central offset for it: it is not the running boot).
    clock.reboot("boot-2", BOGUS_START + 50, synced=False)
    fill(store, 1)
    clock.reboot("boot-3", TRUE_START + 900, synced=True)

    sync = service(store, central.url, central.token)
    assert (await sync.catch_up()).ok
    await sync.aclose()

    held = {e["seq"]: e for e in central.events()}
    offset = TRUE_START - 5.0  # mono 5.0 at boot-1's start was really TRUE_START
    for seq in (1, 2, 3):
        assert held[seq]["time_source"] == "corrected"
        assert held[seq]["time"] == 5.0 + offset == TRUE_START
        assert held[seq]["ts"] == BOGUS_START  # the measured time is kept
    for seq in (4, 5):
        assert held[seq]["time"] == TRUE_START + 10
    assert {held[6]["time_source"], held[7]["time_source"]} == {"measured"}
    assert held[8]["time_source"] == "unsynced" and held[8]["ts_corrected"] is None
    # on the station too, ts is untouched and ts_corrected filled in
    row = store.query("SELECT ts, ts_corrected FROM events WHERE seq = 1")[0]
    assert row == {"ts": BOGUS_START, "ts_corrected": TRUE_START}


async def test_running_boot_waits_for_a_time_then_uses_centrals(
    central: Central, make_store: Callable[..., Store]
) -> None:
    clock = StepClock()
    clock.reboot("boot-now", BOGUS_START, synced=False)  # NTP blocked, uplink works
    store = make_store(clock)
    fill(store, 4)
    sync = service(store, central.url, central.token)
    first = await sync.sync_once()
    # Nothing of this boot went out uncorrected; the heartbeat taught us central's clock.
    assert first.ok and first.sent == 0 and first.more
    assert central.acked() == 0
    assert (await sync.catch_up()).ok
    await sync.aclose()
    held = central.events()
    assert len(held) == 4 and {e["time_source"] for e in held} == {"corrected"}
    # central's clock is the real one: the corrected time is now, to within the round trip
    assert all(abs(e["time"] - time.time()) < 30 for e in held)
    source = store.query("SELECT source FROM sync_boot_offsets WHERE boot_id = 'boot-now'")
    assert source == [{"source": "central"}]


def test_hold_rule_only_holds_the_running_boot_for_a_while() -> None:
    def row(seq: int, boot: str, synced: bool, corrected: float | None, mono: float) -> tuple:
        return (seq, "i", "t", 0.0, corrected, mono, boot, synced, "a", None, "{}")

    rows = [
        row(1, "old", False, None, 1.0),  # earlier boot: goes uncorrected
        row(2, "now", True, None, 2.0),
        row(3, "now", False, 123.0, 3.0),  # already corrected
        row(4, "now", False, None, 95.0),  # waits
        row(5, "now", True, None, 96.0),
    ]
    assert first_held(rows, "now", now_mono=100.0, hold_s=600) == 3
    assert first_held(rows, "now", now_mono=800.0, hold_s=600) == 5  # waited long enough
    assert first_held(rows, "other", now_mono=100.0, hold_s=600) == 5
