"""The Pi's own health as telemetry reports it: CPU temperature, disk, memory, uptime.

Read straight from the kernel's files (/sys, /proc) rather than through a library: they are the
same on every Pi OS release, cost microseconds, and a file that is missing (no thermal zone on a
PC or in a container) simply gives `None` instead of failing the whole snapshot. The roots are
parameters so tests can point them at a directory tree of their own.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class HostHealth:
    cpu_temp_c: float | None
    """The SoC's temperature; a Pi throttles from 80 °C."""
    disk_free_bytes: int | None
    disk_total_bytes: int | None
    """Of the file system holding the data directory (the SQLite database lives there)."""
    rss_bytes: int | None
    """Resident memory of this daemon."""
    mem_available_bytes: int | None
    mem_total_bytes: int | None
    system_uptime_s: float | None
    load1: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "cpu_temp_c": self.cpu_temp_c,
            "disk_free_bytes": self.disk_free_bytes,
            "disk_total_bytes": self.disk_total_bytes,
            "rss_bytes": self.rss_bytes,
            "mem_available_bytes": self.mem_available_bytes,
            "mem_total_bytes": self.mem_total_bytes,
            "system_uptime_s": self.system_uptime_s,
            "load1": self.load1,
        }


class HostProbe:
    """Reads the host's health; every reading is optional."""

    def __init__(
        self,
        data_dir: Path,
        *,
        sys_root: Path = Path("/sys"),
        proc_root: Path = Path("/proc"),
        pid: int | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.sys_root = Path(sys_root)
        self.proc_root = Path(proc_root)
        self.pid = os.getpid() if pid is None else pid

    def read(self) -> HostHealth:
        free, total = self._disk()
        meminfo = parse_meminfo(_text(self.proc_root / "meminfo"))
        return HostHealth(
            cpu_temp_c=parse_millidegrees(
                _text(self.sys_root / "class" / "thermal" / "thermal_zone0" / "temp")
            ),
            disk_free_bytes=free,
            disk_total_bytes=total,
            rss_bytes=parse_status_rss(_text(self.proc_root / str(self.pid) / "status")),
            mem_available_bytes=meminfo.get("MemAvailable"),
            mem_total_bytes=meminfo.get("MemTotal"),
            system_uptime_s=parse_first_float(_text(self.proc_root / "uptime")),
            load1=parse_first_float(_text(self.proc_root / "loadavg")),
        )

    def _disk(self) -> tuple[int | None, int | None]:
        try:
            usage = shutil.disk_usage(self.data_dir)
        except OSError:
            return None, None
        return usage.free, usage.total


def _text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii", errors="replace")
    except OSError:
        return None


def parse_millidegrees(text: str | None) -> float | None:
    """`/sys/class/thermal/thermal_zone0/temp` holds millidegrees Celsius, e.g. "48312"."""
    if not text:
        return None
    try:
        return round(int(text.strip()) / 1000.0, 1)
    except ValueError:
        return None


def parse_meminfo(text: str | None) -> dict[str, int]:
    """`/proc/meminfo` lines like "MemAvailable:  123456 kB", as bytes."""
    out: dict[str, int] = {}
    for line in (text or "").splitlines():
        name, _, rest = line.partition(":")
        parts = rest.split()
        if not parts or not parts[0].isdigit():
            continue
        scale = 1024 if len(parts) > 1 and parts[1] == "kB" else 1
        out[name.strip()] = int(parts[0]) * scale
    return out


def parse_status_rss(text: str | None) -> int | None:
    """VmRSS from `/proc/<pid>/status`, in bytes."""
    return parse_meminfo(text).get("VmRSS")


def parse_first_float(text: str | None) -> float | None:
    """The first number of `/proc/uptime` ("12345.67 2345.6") or `/proc/loadavg`."""
    if not text or not text.split():
        return None
    try:
        return float(text.split()[0])
    except ValueError:
        return None
