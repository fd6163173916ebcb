"""Releases, rollouts and update reports: the same on SQLite and PostgreSQL, and which
version each station is given by the staged rollout."""

from __future__ import annotations

import pytest

from central.releases import station_updates, target_for
from central.storage.base import Storage, UnknownStation
from wire.releases import Manifest, ReleaseFile, RolloutRequest, UpdateReport

H1, H2, H3 = "1" * 64, "2" * 64, "3" * 64


def manifest(version: str) -> Manifest:
    wheel = ReleaseFile(name=f"gongxiang_yizhan-{version}-py3-none-any.whl", size=10, sha256=H1)
    return Manifest(version=version, files=(wheel,))


def report(n: int, station: str, version: str, status: str) -> UpdateReport:
    return UpdateReport(
        id=f"{n:032x}",
        station=station,
        version=version,
        from_version="1.0.0",
        status=status,  # type: ignore[arg-type]
        detail="" if status == "ok" else "not healthy",
        finished_at=100.0 + n,
    )


@pytest.fixture
def st(storage: Storage) -> Storage:
    for n, sid in enumerate(("S001", "S002", "S003")):
        storage.add_station(sid, sid, (H1, H2, H3)[n], 10.0)
    return storage


def test_a_release_is_kept_once_and_never_replaced(st: Storage) -> None:
    assert st.add_release(manifest("1.1.0"), "alice", 20.0) is True
    assert st.add_release(manifest("1.1.0"), "bob", 21.0) is False
    assert st.release("1.1.0") == manifest("1.1.0")
    assert st.release("9.9.9") is None
    (listed,) = st.releases()
    assert (listed["version"], listed["files"], listed["uploaded_by"]) == ("1.1.0", 1, "alice")


def test_reports_are_kept_once_per_id_for_registered_stations(st: Storage) -> None:
    assert st.add_update_report(report(1, "S001", "1.1.0", "ok"), 30.0) is True
    assert st.add_update_report(report(1, "S001", "1.1.0", "ok"), 31.0) is False
    with pytest.raises(UnknownStation):
        st.add_update_report(report(2, "S999", "1.1.0", "ok"), 32.0)
    assert [r["status"] for r in st.update_reports("S001")] == ["ok"]
    assert st.update_reports("S002") == []


def test_canaries_first_then_the_rest_and_a_rollback_halts(st: Storage) -> None:
    for version in ("1.0.0", "1.1.0", "1.2.0"):
        st.add_release(manifest(version), "alice", 20.0)
    st.add_rollout("r1", RolloutRequest(version="1.0.0", stations=("*",)), "alice", 40.0)
    everyone = {"S001", "S002", "S003"}
    assert target_for("S003", st.rollouts(), [], everyone).version == "1.0.0"

    order = RolloutRequest(version="1.1.0", stations=("S002", "S003"), canary=("S001",))
    st.add_rollout("r2", order, "alice", 50.0)
    views = station_updates(st)
    assert (views["S001"]["target"], views["S001"]["stage"]) == ("1.1.0", "canary")
    assert (views["S002"]["target"], views["S002"]["held"]) == ("1.0.0", "1.1.0")
    assert views["S002"]["held_stage"] == "waiting"

    st.add_update_report(report(1, "S001", "1.1.0", "ok"), 60.0)
    views = station_updates(st)
    assert views["S002"]["target"] == views["S003"]["target"] == "1.1.0"
    assert views["S002"]["stage"] == "rollout" and views["S002"]["held"] is None

    st.add_rollout(
        "r3", RolloutRequest(version="1.2.0", stations=("*",), canary=("S002",)), "a", 70.0
    )
    st.add_update_report(report(2, "S002", "1.2.0", "rolled_back"), 80.0)
    views = station_updates(st)
    assert views["S002"]["target"] == "1.2.0"  # the canary keeps it; it will not retry
    assert views["S002"]["last"]["status"] == "rolled_back"
    assert (views["S003"]["target"], views["S003"]["held_stage"]) == ("1.1.0", "halted")
    assert [r["id"] for r in st.rollouts()] == ["r3", "r2", "r1"]
