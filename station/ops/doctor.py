"""`station doctor`: one command that tells a technician on site what is wrong and how to fix it.

Every check returns a line (OK / WARN / FAIL and what to do) instead of raising, so one broken
part never hides the state of the others. While the daemon runs it owns the serial ports
(opened exclusively) and the GPIO pins, so the doctor then asks the daemon's API about the
boards instead of opening the hardware itself.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from drivers.lockboard.port import DoorReading
from drivers.lockboard.serial_bus import BusRegistry
from station.clock import kernel_clock_synced
from station.config import BoardConfig, ConfigError, StationConfig, load_config
from station.doors.boards import LearnedAnswers, bus_timing, open_bus_board, sim_request
from station.ops.config_audit import secret_problems
from station.ops.secret_layout import layout_problems
from station.secret_files import KIOSK_USER
from station.sound import CARDS_FILE, probe_sound

Status = Literal["OK", "WARN", "FAIL"]


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str


@dataclass
class DoctorOptions:
    """Thresholds and seams; defaults suit a Pi with a 16-32 GB card."""

    warn_free_mb: float = 200.0
    warn_free_pct: float = 5.0
    fail_free_mb: float = 50.0
    """Below this the database may fail to write at all: events would be lost."""
    daemon_url: str | None = None
    """The daemon's base URL; default http://<api.bind>:<api.port>."""
    timeout_s: float = 2.0
    radar_wait_s: float = 1.0
    pin_factory: Any = None
    """A gpiozero pin factory to probe pins with; default: gpiozero's own choice."""
    disk_usage: Callable[[str], Any] = field(default=shutil.disk_usage)
    etc: Path = Path("/etc")
    """Where the passwd and group files are that say who may read the secret files."""
    sound_cards_file: Path = CARDS_FILE
    """Where ALSA lists the sound cards."""


def format_report(checks: list[Check]) -> str:
    width = max((len(c.name) for c in checks), default=0)
    lines = [f"{c.status:<4}  {c.name:<{width}}  {c.detail}" for c in checks]
    fails = sum(c.status == "FAIL" for c in checks)
    warns = sum(c.status == "WARN" for c in checks)
    lines.append(f"{fails} failure(s), {warns} warning(s)")
    return "\n".join(lines)


def exit_code(checks: list[Check]) -> int:
    return 1 if any(c.status == "FAIL" for c in checks) else 0


async def diagnose(config_path: str, options: DoctorOptions | None = None) -> list[Check]:
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        return [Check("config", "FAIL", f"{exc} (fix it, then `station check-config`)")]
    options = options or DoctorOptions()
    checks = [Check("config", "OK", f"{config_path}: station {config.station.id}")]
    checks.append(check_secret_files(Path(config_path), options))
    return checks + await diagnose_config(config, options)


async def diagnose_config(config: StationConfig, options: DoctorOptions) -> list[Check]:
    checks = [check_data_dir(config, options), check_secrets(config)]
    running = await _daemon_url_if_running(config, options)
    if running is not None:
        url, health = running
        checks.append(Check("daemon", "OK", f"running, answering at {url}"))
        checks += await boards_via_daemon(config, url, options, health)
    else:
        checks.append(
            Check(
                "daemon", "WARN", "not running (start: systemctl start station); probing hardware"
            )
        )
        for bc in config.boards:
            checks.append(await check_board(config, bc, options))
    checks.append(check_gpio(config, options, daemon_running=running is not None))
    checks.append(await check_radar(config, options, daemon_running=running is not None))
    checks.append(check_reader(config, daemon_running=running is not None))
    checks.append(check_clock())
    checks.append(check_sound(config, options))
    checks += await check_central(config, options)
    return checks


# --- secrets and limits in the config -----------------------------------------------------------


def check_secrets(config: StationConfig) -> Check:
    problems = secret_problems(config)
    if problems:
        return Check("secrets", "FAIL", "; ".join(problems))
    return Check("secrets", "OK", "tokens and keys are distinct and not guessable")


def check_secret_files(config_path: Path, options: DoctorOptions) -> Check:
    """The kiosk user reads its own token and nothing of the daemon's (finding 9)."""
    layout = layout_problems(config_path, options.etc)
    if layout.problems:
        return Check("secret files", "FAIL", "; ".join(layout.problems))
    if not layout.installed:
        return Check(
            "secret files",
            "OK",
            f"{layout.files} secret file(s); no user {KIOSK_USER} on this machine (not an "
            "installed station), so only their modes were checked",
        )
    return Check(
        "secret files",
        "OK",
        f"{layout.files} secret file(s); the kiosk user reads its own token and no other secret",
    )


# --- data directory and disk ------------------------------------------------------------------


def check_data_dir(config: StationConfig, options: DoctorOptions) -> Check:
    data_dir = config.station.data_dir
    if not data_dir.is_dir():
        return Check(
            "data directory",
            "FAIL",
            f"{data_dir} does not exist: create it (install.sh does) owned by user station",
        )
    try:
        with tempfile.NamedTemporaryFile(dir=data_dir, prefix=".doctor-"):
            pass
    except OSError as exc:
        return Check(
            "data directory",
            "FAIL",
            f"{data_dir} is not writable ({exc.strerror}): check owner/mode and that the data "
            "partition is mounted read-write",
        )
    usage = options.disk_usage(str(data_dir))
    free_mb = usage.free / 1e6
    pct = 100.0 * usage.free / usage.total if usage.total else 0.0
    where = f"{data_dir}: {free_mb:.0f} MB free ({pct:.1f}%)"
    if free_mb < options.fail_free_mb:
        return Check(
            "data directory",
            "FAIL",
            f"{where}, below {options.fail_free_mb:.0f} MB: the database cannot grow; delete old "
            "backups or logs (journalctl --vacuum-size=50M)",
        )
    if free_mb < options.warn_free_mb or pct < options.warn_free_pct:
        return Check(
            "data directory",
            "WARN",
            f"{where}, below {options.warn_free_mb:.0f} MB or {options.warn_free_pct:.0f}%: "
            "free space soon (old backups, journal)",
        )
    return Check("data directory", "OK", f"{where}, writable")


# --- the daemon and the boards -----------------------------------------------------------------


def daemon_base(config: StationConfig, options: DoctorOptions) -> str:
    if options.daemon_url:
        return options.daemon_url.rstrip("/")
    host = config.api.bind
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{config.api.port}"


async def _daemon_url_if_running(
    config: StationConfig, options: DoctorOptions
) -> tuple[str, dict[str, Any]] | None:
    url = daemon_base(config, options)
    health = await daemon_health(url, options.timeout_s)
    return None if health is None else (url, health)


async def daemon_health(url: str, timeout_s: float = 2.0) -> dict[str, Any] | None:
    """The daemon's /healthz answer, or None when no daemon answers at `url`."""
    import httpx  # only where a check talks HTTP: the daemon imports this module too

    try:
        async with httpx.AsyncClient(timeout=timeout_s) as client:
            r = await client.get(f"{url}/healthz")
        if r.status_code != 200:
            return None
        body = r.json()
    except (httpx.HTTPError, ValueError):
        return None
    return body if isinstance(body, dict) else None


async def daemon_answers(url: str, timeout_s: float = 2.0) -> bool:
    """Whether a station daemon answers at `url` (so it owns the hardware and the database)."""
    return await daemon_health(url, timeout_s) is not None


def _reader_token(config: StationConfig) -> str | None:
    for t in config.api.tokens:
        if t.role in ("kiosk", "staff") and t.token:
            return t.token
    return None


def _doors_text(doors: dict[int, str]) -> str:
    opened = [str(ch) for ch, state in sorted(doors.items()) if state == "open"]
    unknown = [str(ch) for ch, state in sorted(doors.items()) if state == "unknown"]
    text = f"{len(doors)} door(s); open: {', '.join(opened) or 'none'}"
    if unknown:
        text += f"; unknown: {', '.join(unknown)}"
    return text


async def boards_via_daemon(
    config: StationConfig, url: str, options: DoctorOptions, health: dict[str, Any]
) -> list[Check]:
    import httpx  # only where a check talks HTTP: the daemon imports this module too

    token = _reader_token(config)
    if token is None:
        # Only hashed tokens in the config: /healthz still counts the boards that answer.
        online, total = health.get("boards_online"), health.get("boards_total")
        text = (
            f"{online} of {total} answer (per /healthz; the config has no plain kiosk/staff "
            "token to ask which doors are open)"
        )
        if online != total:
            return [Check("boards", "FAIL", f"{text}: see the maintenance screen for which")]
        return [Check("boards", "OK", text)]
    try:
        async with httpx.AsyncClient(
            timeout=options.timeout_s, headers={"Authorization": f"Bearer {token}"}
        ) as client:
            r = await client.get(f"{url}/api/v1/lockers")
    except httpx.HTTPError as exc:
        return [Check("boards", "FAIL", f"daemon did not answer /api/v1/lockers: {exc}")]
    if r.status_code != 200:
        return [Check("boards", "FAIL", f"daemon refused /api/v1/lockers: HTTP {r.status_code}")]
    by_board: dict[str, list[dict[str, Any]]] = {}
    for row in r.json():
        by_board.setdefault(row["board"], []).append(row)
    checks = []
    for bc in config.boards:
        rows = by_board.get(bc.id, [])
        name = f"board {bc.id}"
        where = _where(bc)
        if not rows:
            checks.append(Check(name, "WARN", f"{where}: no locker uses this board"))
            continue
        doors = {row["channel"]: row["door"] for row in rows}
        if not all(row["board_online"] for row in rows):
            checks.append(
                Check(
                    name,
                    "FAIL",
                    f"{where}: offline in the daemon (no answer): {_board_fix(bc)}",
                )
            )
        else:
            detail = f"{where}: answers (via daemon); {_doors_text(doors)}"
            if bc.protocol != "gpio":
                detail += f"; {_unlock_answer_text(config, bc)}"
            checks.append(Check(name, "OK", detail))
    return checks


def _where(bc: BoardConfig) -> str:
    if bc.protocol == "gpio":
        return "gpio"
    if bc.protocol == "sim":
        return "simulator"
    return f"{bc.protocol} @{bc.address} on {bc.port}"


def _board_fix(bc: BoardConfig) -> str:
    return (
        "check the board's 12/24 V supply, the RS485 A/B wires, the USB adapter and that "
        f"its address switches say {bc.address}"
    )


async def check_board(config: StationConfig, bc: BoardConfig, options: DoctorOptions) -> Check:
    name = f"board {bc.id}"
    if bc.protocol == "gpio":
        return Check(name, "OK", f"gpio relays on pins {bc.relay_pins} (see the gpio line)")
    sim = None
    port = bc.port
    if bc.protocol == "sim":
        from drivers.sim.lockboard import start_sim_board

        sim, port = start_sim_board(sim_request(bc))
    elif port is None or not _device_present(port):
        return Check(
            name,
            "FAIL",
            f"{_where(bc)}: no such device: plug in the USB-RS485 adapter; if it is a "
            "/dev/station-* link, check /etc/udev/rules.d/99-station.rules (udevadm trigger)",
        )
    buses = BusRegistry(bus_timing(config.timeouts))
    board = open_bus_board(bc, buses, port, config.timeouts)
    try:
        status = await asyncio.wait_for(board.read_status(), options.timeout_s + 1)
    except (Exception, TimeoutError) as exc:
        return Check(name, "FAIL", f"{_where(bc)}: does not answer ({exc}): {_board_fix(bc)}")
    finally:
        await board.close()
        await buses.close()
        if sim is not None:
            sim.stop()
    doors = {
        ch: "open" if reading == DoorReading.OPEN else "closed"
        for ch, reading in status.doors.items()
    }
    return Check(
        name,
        "OK",
        f"{_where(bc)}: answers; {_doors_text(doors)}; {_unlock_answer_text(config, bc)}",
    )


def _unlock_answer_text(config: StationConfig, bc: BoardConfig) -> str:
    """What the board answers to an unlock: as configured, or as the daemon learnt it."""
    if bc.wire_protocol == "modbus":
        return f"unlocks: modbus {bc.modbus_unlock}, answered by the write's echo"
    if bc.wire_protocol != "cu":
        return "unlocks answered: ack (dip8 boards always acknowledge)"
    if bc.unlock_answer != "auto":
        return f"unlocks answered: {bc.unlock_answer} (configured)"
    learnt = LearnedAnswers(config.station.data_dir).get(bc.id)
    if learnt is None:
        return "unlocks answered: auto, not learnt yet (no unlock since the data was made)"
    return f'unlocks answered: {learnt} (learnt; set unlock_answer = "{learnt}" to fix it)'


# --- GPIO, radar, clock --------------------------------------------------------------------------


def _gpio_pins(config: StationConfig) -> list[int]:
    pins: list[int] = []
    for bc in config.boards:
        if bc.protocol == "gpio":
            pins += bc.relay_pins + bc.sensor_pins
    occ = config.occupancy
    for pin in (occ.pir_pin, occ.fan.pin, occ.light.pin):
        if pin is not None:
            pins.append(pin)
    return pins


def check_gpio(config: StationConfig, options: DoctorOptions, *, daemon_running: bool) -> Check:
    pins = _gpio_pins(config)
    if not pins:
        return Check("gpio", "OK", "no GPIO pins configured")
    if daemon_running:
        return Check("gpio", "OK", f"pins {pins} in use by the running daemon")
    try:
        factory = options.pin_factory
        if factory is None:
            from gpiozero import Device

            factory = Device._default_pin_factory()
        for number in pins:
            factory.pin(number).function = "input"
    except Exception as exc:
        return Check(
            "gpio",
            "FAIL",
            f"cannot use pins {pins}: {exc}; install python3-lgpio and make sure user "
            "station is in group gpio",
        )
    return Check("gpio", "OK", f"pins {pins} usable ({type(factory).__name__})")


async def check_radar(
    config: StationConfig, options: DoctorOptions, *, daemon_running: bool
) -> Check:
    port = config.occupancy.radar_port
    if port is None:
        return Check("radar", "OK", "not configured")
    if not _device_present(port):
        return Check(
            "radar",
            "FAIL",
            f"{port}: no such device: plug in the radar's USB-serial adapter; for "
            "/dev/station-radar check the udev rule",
        )
    if daemon_running:
        return Check("radar", "OK", f"{port} present (read by the running daemon)")
    from drivers.radar.reader import RadarReader

    reader = RadarReader(port, baudrate=config.occupancy.radar_baud, silence_reopen_s=None)
    reader.start()
    try:
        got = await asyncio.to_thread(reader.wait_for_report, None, options.radar_wait_s)
    finally:
        await asyncio.to_thread(reader.stop)
    if not got:
        why = f" ({reader.last_error})" if reader.last_error else ""
        return Check(
            "radar",
            "FAIL",
            f"{port}: no frames within {options.radar_wait_s:.1f} s{why}: check its 5 V "
            f"supply, TX/RX crossed, baud {config.occupancy.radar_baud}",
        )
    return Check("radar", "OK", f"{port}: frames arriving")


def check_reader(config: StationConfig, *, daemon_running: bool) -> Check:
    """The card reader's device by its udev id; the daemon raises `reader_offline` while it is
    gone, this line says what to plug in or fix. Never reads a card (the daemon owns it)."""
    rc = config.reader
    if rc is None:
        return Check("card reader", "OK", "not configured (members use phone number and PIN)")
    if not _device_present(rc.device):
        where = "/dev/input/by-id/" if rc.kind == "hid" else "/dev/serial/by-id/"
        return Check(
            "card reader",
            "FAIL",
            f"{rc.device}: no such device: plug in the {rc.kind} reader, then find its name "
            f"with `ls -l {where}` and set [reader] device to it",
        )
    if not os.access(rc.device, os.R_OK | os.W_OK if rc.kind == "serial" else os.R_OK):
        return Check(
            "card reader",
            "FAIL",
            f"{rc.device}: present but not readable by this user: add the station user to the "
            f"{'input' if rc.kind == 'hid' else 'dialout'} group (deploy/install.sh does)",
        )
    who = "read by the running daemon" if daemon_running else "the daemon reads it when started"
    return Check("card reader", "OK", f"{rc.device} present ({rc.kind}; {who})")


def _device_present(path: str) -> bool:
    """A serial device node (or the udev link to one) is there; instant, so fine in a coroutine."""
    return os.path.exists(path)


def check_clock() -> Check:
    synced = kernel_clock_synced()
    if synced is None:
        return Check("clock", "WARN", "cannot tell whether the clock is synchronised")
    if not synced:
        return Check(
            "clock",
            "WARN",
            "not synchronised: the Pi has no battery clock; check the network and "
            "`timedatectl timesync-status`",
        )
    return Check("clock", "OK", "synchronised")


def check_sound(config: StationConfig, options: DoctorOptions) -> Check:
    """The kiosk's voice: a WARN, never a FAIL, since a silent kiosk still serves everyone
    (every prompt is also on the screen)."""
    support = probe_sound(config.ui, options.sound_cards_file)
    reason = support.silent_because
    if reason is None or support.muted:
        return Check("sound", "OK", support.describe())
    return Check("sound", "WARN", support.describe())


# --- central ---------------------------------------------------------------------------------


async def check_central(config: StationConfig, options: DoctorOptions) -> list[Check]:
    import httpx  # only where a check talks HTTP: the daemon imports this module too

    sync = config.sync
    if not sync.enabled:
        return [Check("central", "WARN", "[sync] url not set: events stay on this station")]
    url = sync.url.rstrip("/")
    verify: Any = str(sync.ca_file) if sync.ca_file else True
    try:
        async with httpx.AsyncClient(timeout=options.timeout_s + 3, verify=verify) as client:
            r = await client.get(f"{url}/healthz")
            if r.status_code != 200:
                return [Check("central", "FAIL", f"{url}/healthz answered HTTP {r.status_code}")]
            token = sync.read_token()
            if not token:
                return [
                    Check(
                        "central",
                        "FAIL",
                        "reachable, but no token: set [sync] token or token_file "
                        "(from `station central register <id>`)",
                    )
                ]
            r = await client.get(
                f"{url}/api/v1/bundle", headers={"Authorization": f"Bearer {token}"}
            )
    except httpx.HTTPError as exc:
        return [
            Check(
                "central",
                "FAIL",
                f"{url} unreachable ({type(exc).__name__}: {exc}): check the 4G router, DNS "
                "and the clock (TLS needs the right date)",
            )
        ]
    if r.status_code in (401, 403):
        return [
            Check(
                "central",
                "FAIL",
                f"{url} rejected the station's token (HTTP {r.status_code}): register the "
                "station again at the office and put the new token in [sync]",
            )
        ]
    if r.status_code >= 400:
        return [Check("central", "FAIL", f"{url}/api/v1/bundle answered HTTP {r.status_code}")]
    return [Check("central", "OK", f"{url} reachable, token accepted")]


def doctor_main(config_path: str, options: DoctorOptions | None = None) -> int:
    checks = asyncio.run(diagnose(config_path, options))
    print(format_report(checks))
    return exit_code(checks)
