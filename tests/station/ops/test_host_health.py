"""The Pi's health readings: kernel file formats, missing files, and this machine's own."""

from __future__ import annotations

import os
from pathlib import Path

from station.ops.host_health import (
    HostProbe,
    parse_first_float,
    parse_meminfo,
    parse_millidegrees,
    parse_status_rss,
)


def test_parsers_read_the_kernel_formats() -> None:
    assert parse_millidegrees("48312\n") == 48.3
    assert parse_millidegrees("-1500") == -1.5
    assert parse_millidegrees("") is None and parse_millidegrees("hot") is None
    info = parse_meminfo("MemTotal:  3884000 kB\nMemAvailable:   2048 kB\nHugePages_Total: 0\n")
    assert info == {"MemTotal": 3884000 * 1024, "MemAvailable": 2048 * 1024, "HugePages_Total": 0}
    assert parse_status_rss("Name:\tstation\nVmRSS:\t  51200 kB\n") == 51200 * 1024
    assert parse_status_rss("Name:\tstation\n") is None
    assert parse_first_float("12345.67 2345.60\n") == 12345.67
    assert parse_first_float("0.52 0.40 0.31 1/123 4567") == 0.52
    assert parse_first_float(None) is None and parse_first_float("x y") is None


def test_a_pi_like_tree(tmp_path: Path) -> None:
    sys_root, proc = tmp_path / "sys", tmp_path / "proc"
    zone = sys_root / "class" / "thermal" / "thermal_zone0"
    zone.mkdir(parents=True)
    (zone / "temp").write_text("61234\n")
    (proc / "4242").mkdir(parents=True)
    (proc / "4242" / "status").write_text("Name:\tpython3\nVmRSS:\t   80000 kB\n")
    (proc / "meminfo").write_text("MemTotal:  3884000 kB\nMemAvailable:  1000000 kB\n")
    (proc / "uptime").write_text("86400.5 170000.2\n")
    (proc / "loadavg").write_text("0.25 0.20 0.10 1/200 4242\n")
    health = HostProbe(tmp_path, sys_root=sys_root, proc_root=proc, pid=4242).read()
    assert health.cpu_temp_c == 61.2
    assert health.rss_bytes == 80000 * 1024
    assert health.mem_available_bytes == 1_000_000 * 1024
    assert health.mem_total_bytes == 3_884_000 * 1024
    assert health.system_uptime_s == 86400.5 and health.load1 == 0.25
    assert health.disk_total_bytes and 0 < health.disk_free_bytes <= health.disk_total_bytes


def test_missing_files_give_none_not_an_error(tmp_path: Path) -> None:
    health = HostProbe(
        tmp_path / "gone", sys_root=tmp_path / "nosys", proc_root=tmp_path / "noproc"
    ).read()
    assert set(health.to_dict().values()) == {None}


def test_this_machine() -> None:
    health = HostProbe(Path("."), pid=os.getpid()).read()
    assert health.rss_bytes and health.rss_bytes > 1_000_000
    assert health.mem_available_bytes and health.system_uptime_s
    if Path("/sys/class/thermal/thermal_zone0/temp").exists():
        assert health.cpu_temp_c is not None
