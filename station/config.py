"""The station's configuration: read and checked once at start.

Like Klipper, a config file is either fully valid or the station refuses to start, naming the
file, the key and what was expected. Nothing else in the code reads the file; everything takes
the validated model from the composition root.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationError,
    model_validator,
)

from station.config_paths import DEMO_CONFIG as DEMO_CONFIG
from station.config_paths import STATION_NAME, STATION_NAME_EN, ConfigFileError, read_config_file
from station.config_paths import SYSTEM_CONFIG as SYSTEM_CONFIG
from station.config_paths import default_config_path as default_config_path
from station.occupancy.config import OccupancyConfig
from station.people.config import PeopleConfig, ReaderConfig
from station.secret_files import SecretFileError, resolve_secrets
from station.services.config import ServicesConfig
from station.sync.config import SyncConfig
from station.ui_config import SettingError, UiConfig, ui_section, ui_table

Role = Literal["kiosk", "staff", "central"]
Protocol = Literal["cu", "dip8", "modbus", "gpio", "sim"]
Purpose = Literal["tool", "lost_found", "storage"]


class ConfigError(Exception):
    """A config file that cannot be used; the message is meant for the person who wrote it."""


class Section(BaseModel):
    """Base for every config table: unknown keys are errors, values are never coerced loosely."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class StationInfo(Section):
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")]
    name: str = STATION_NAME
    name_en: str = STATION_NAME_EN
    data_dir: Path = Path("/var/lib/station")
    help_phone: str = ""
    """Number shown to users when something goes wrong (a service number, not a member's)."""


class ApiToken(Section):
    name: Annotated[str, Field(min_length=1)]
    role: Role
    token: str | None = Field(default=None, min_length=16)
    token_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")

    @model_validator(mode="after")
    def _one_secret(self) -> ApiToken:
        if (self.token is None) == (self.token_sha256 is None):
            raise ValueError("give exactly one of 'token' (16+ characters) or 'token_sha256'")
        return self

    def matches(self, presented: str) -> bool:
        digest = hashlib.sha256(presented.encode()).hexdigest()
        expected = self.token_sha256 or hashlib.sha256((self.token or "").encode()).hexdigest()
        return hmac.compare_digest(digest, expected)


class ApiConfig(Section):
    bind: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8470
    tokens: list[ApiToken] = []
    max_body_bytes: Annotated[int, Field(ge=1024)] = 256 * 1024

    @model_validator(mode="after")
    def _unique_names(self) -> ApiConfig:
        dup = [n for n, c in Counter(t.name for t in self.tokens).items() if c > 1]
        if dup:
            raise ValueError(f"token names must be unique; repeated: {', '.join(dup)}")
        return self


class Timeouts(Section):
    """Door and bus timing. Defaults follow the board documents in shared/design/hardware.md."""

    answer_ms: Annotated[int, Field(ge=50, le=10_000)] | None = None
    """How long to wait for a board's answer before calling the command lost, for every board
    that sets none of its own; unset = the protocol's own default (PROTOCOL_ANSWER_MS)."""
    quiet_ms: Annotated[int, Field(ge=5, le=2_000)] = 20
    """The floor of the silence that counts as a resynchronised line after garbage or a
    timeout (a USB adapter hands bytes over in bursts some milliseconds apart)."""
    quiet_chars: Annotated[int, Field(ge=2, le=1_000)] = 10
    """That silence in character times at the bus's baud, when longer than the floor."""
    poll_ms: Annotated[int, Field(ge=20, le=2_000)] = 100
    """How often each board's door status is read; state changes are seen within one poll."""
    open_window_s: Annotated[float, Field(gt=0, le=120)] = 8.0
    """An unlock not followed by the door opening within this window is a jammed door."""
    expected_open_s: Annotated[float, Field(gt=0, le=600)] = 30.0
    """A door opening later than this after its unlock counts as forced."""
    left_open_s: Annotated[float, Field(gt=0, le=86_400)] = 120.0
    """A door open longer than this raises door_left_open."""
    offline_after_failures: Annotated[int, Field(ge=1, le=100)] = 3
    """Consecutive unanswered polls before a board is called offline."""
    reconnect_max_s: Annotated[float, Field(gt=0, le=600)] = 30.0
    """Ceiling of the back-off between attempts to reopen a vanished serial adapter."""


PROTOCOL_ANSWER_MS: dict[str, int] = {"cu": 1000, "dip8": 1500, "modbus": 500, "gpio": 1000}
"""How long each protocol's boards may take to answer (shared/design/hardware.md)."""
PROTOCOL_BAUD: dict[str, int] = {"cu": 19200, "dip8": 9600, "modbus": 9600}
"""The factory baud of each protocol's common boards (the KR-CU16 ships at 19200)."""


class BoardConfig(Section):
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
    protocol: Protocol
    port: str | None = None
    """Serial device for cu/dip8: use /dev/serial/by-id/... or a udev symlink."""
    baud: Annotated[int, Field(ge=1200, le=1_000_000)] | None = None
    address: Annotated[int, Field(ge=0, le=255)] = 0
    channels: Annotated[int, Field(ge=1, le=48)] = 16
    feedback: Literal["closed", "open"] = "closed"
    """What a set feedback bit means for this board's wiring."""
    answer_ms: Annotated[int, Field(ge=50, le=10_000)] | None = None
    """This board's answer window; unset = [timeouts] answer_ms, else the protocol's default."""
    # cu
    unlock_answer: Literal["auto", "status", "ack", "none"] = "auto"
    """What the board sends back to an unlock; "auto" learns it (see `station doctor`)."""
    unlock_wait_ms: Annotated[int, Field(ge=20, le=10_000)] = 120
    """How long an unlock waits for its answer before the bus reads the board's status; a
    later answer is still recognised."""
    item_sensor: bool = False
    """The board's compartments have infrared "item present" sensors."""
    # modbus (address is the slave address 1..247)
    modbus_unlock: Literal["coil", "flash"] = "coil"
    """"coil": on, pulse_ms, off by the station; "flash": the board's own pulse function."""
    coil_base: Annotated[int, Field(ge=0, le=0xFFFF)] = 0
    """Coil address of channel 1."""
    flash_base: Annotated[int, Field(ge=0, le=0xFFFF)] = 0x0200
    """Address of channel 1's pulse function (a time in 100 ms units is written there)."""
    flash_function: Literal[5, 6] = 5
    """Which write carries the pulse time: 5 (single coil) or 6 (single register)."""
    inputs: Literal["discrete", "input_register"] = "discrete"
    """Where door feedback is read: discrete inputs (0x02) or input registers (0x04)."""
    input_base: Annotated[int, Field(ge=0, le=0xFFFF)] = 0
    """Input address of channel 1."""
    # gpio
    relay_pins: list[Annotated[int, Field(ge=0, le=27)]] = []
    sensor_pins: list[Annotated[int, Field(ge=0, le=27)]] = []
    relay_active_high: bool = False
    pulse_ms: Annotated[int, Field(ge=50, le=5_000)] = 500
    debounce_ms: Annotated[int, Field(ge=0, le=1_000)] = 50
    # sim
    sim_protocol: Literal["cu", "dip8", "modbus"] = "cu"
    sim_auto_close_s: Annotated[float, Field(ge=0, le=3_600)] = 6.0
    """Simulated doors close by themselves this long after opening; 0 = only when told."""
    sim_wire_time: bool = False
    """Make simulated answers take the time their bytes need at `baud` on a real RS485 line."""
    sim_unlock_answer: Literal["status", "ack", "none"] = "ack"
    """What a simulated cu board sends back to an unlock."""

    @model_validator(mode="after")
    def _fits_protocol(self) -> BoardConfig:
        if self.wire_protocol == "modbus" and not 1 <= self.address <= 247:
            raise ValueError("protocol 'modbus' has slave addresses 1..247 (0 is broadcast)")
        if self.protocol in ("cu", "dip8", "modbus") and not self.port:
            raise ValueError(f"protocol '{self.protocol}' needs 'port' (a serial device path)")
        if self.wire_protocol == "cu" and (self.address > 15 or self.channels > 16):
            raise ValueError("protocol 'cu' has board addresses 0..15 and at most 16 channels")
        if self.wire_protocol != "cu":
            if self.unlock_answer not in ("auto", "ack"):
                raise ValueError(
                    "unlock_answer is a cu setting: dip8 boards always acknowledge an unlock, "
                    "gpio relays have nothing to answer"
                )
            if self.item_sensor:
                raise ValueError("item_sensor is for cu boards (their status frame carries it)")
        if self.protocol == "gpio":
            if len(self.relay_pins) != self.channels:
                raise ValueError(
                    f"protocol 'gpio' needs one relay pin per channel: channels = "
                    f"{self.channels} but relay_pins has {len(self.relay_pins)}"
                )
            if self.sensor_pins and len(self.sensor_pins) != self.channels:
                raise ValueError("sensor_pins must be empty or have one pin per channel")
            pins = self.relay_pins + self.sensor_pins
            dup = sorted({p for p in pins if pins.count(p) > 1})
            if dup:
                raise ValueError(f"GPIO pins used twice: {dup}")
        return self

    @property
    def wire_protocol(self) -> Literal["cu", "dip8", "modbus"] | None:
        """The byte protocol spoken on the wire (a sim board speaks one of the real ones)."""
        if self.protocol in ("cu", "dip8", "modbus"):
            return self.protocol  # type: ignore[return-value]
        if self.protocol == "sim":
            return self.sim_protocol
        return None

    @property
    def effective_baud(self) -> int:
        return self.baud or PROTOCOL_BAUD.get(self.wire_protocol or "", 9600)

    def effective_answer_ms(self, timeouts: Timeouts) -> int:
        """Board's own, else the station-wide override, else its protocol's default."""
        if self.answer_ms is not None:
            return self.answer_ms
        if timeouts.answer_ms is not None:
            return timeouts.answer_ms
        return PROTOCOL_ANSWER_MS[self.wire_protocol or self.protocol]


class LockerConfig(Section):
    id: Annotated[str, Field(pattern=r"^[A-Z][0-9]{2}$")]
    board: str
    channel: Annotated[int, Field(ge=1, le=48)]
    size: Literal["S", "M", "L"] = "M"
    purpose: Purpose = "tool"


class StationConfig(Section):
    station: StationInfo
    api: ApiConfig = ApiConfig()
    timeouts: Timeouts = Timeouts()
    boards: list[BoardConfig]
    lockers: list[LockerConfig]
    ui: Annotated[UiConfig, PlainValidator(ui_section), PlainSerializer(ui_table)] = UiConfig()
    people: PeopleConfig = PeopleConfig()
    reader: ReaderConfig | None = None
    services: ServicesConfig = ServicesConfig()
    sync: SyncConfig = SyncConfig()
    occupancy: OccupancyConfig = OccupancyConfig()

    @model_validator(mode="after")
    def _consistent(self) -> StationConfig:
        _no_repeats("boards", [b.id for b in self.boards], "board id")
        _no_repeats("lockers", [lk.id for lk in self.lockers], "locker id")
        boards = {b.id: b for b in self.boards}
        for i, lk in enumerate(self.lockers):
            board = boards.get(lk.board)
            if board is None:
                raise ValueError(
                    f"lockers[{i}] ({lk.id}): board '{lk.board}' is not defined; "
                    f"defined boards: {', '.join(boards) or 'none'}"
                )
            if lk.channel > board.channels:
                raise ValueError(
                    f"lockers[{i}] ({lk.id}): channel {lk.channel} is beyond board "
                    f"'{board.id}', which has {board.channels} channels"
                )
        used = Counter((lk.board, lk.channel) for lk in self.lockers)
        for (board_id, channel), n in used.items():
            if n > 1:
                ids = [
                    lk.id for lk in self.lockers if (lk.board, lk.channel) == (board_id, channel)
                ]
                raise ValueError(
                    f"lockers {', '.join(ids)} share board '{board_id}' channel {channel}; "
                    "each channel drives one door"
                )
        claimed = [p for b in self.boards for p in (*b.relay_pins, *b.sensor_pins)]
        claimed += self.occupancy.gpio_pins()
        clash = sorted({p for p in claimed if claimed.count(p) > 1})
        if clash:
            raise ValueError(
                f"GPIO pins claimed twice across boards and [occupancy]: {clash}; "
                "each pin drives or reads one thing"
            )
        families: dict[str, set[str]] = {}
        for b in self.boards:
            if b.port and b.wire_protocol:
                family = "modbus" if b.wire_protocol == "modbus" else "cu/dip8"
                families.setdefault(b.port, set()).add(family)
        for port, found in families.items():
            if len(found) > 1:
                ids = ", ".join(b.id for b in self.boards if b.port == port)
                raise ValueError(
                    f"boards {ids} share {port} but speak modbus and cu/dip8: Modbus RTU and "
                    "the cu/dip8 frames cannot share one adapter; give the Modbus boards an "
                    "adapter of their own"
                )
        on_bus = Counter((b.port, b.address) for b in self.boards if b.port)
        for (port, address), n in on_bus.items():
            if n > 1:
                raise ValueError(
                    f"{n} boards on {port} share address {address}: boards at one address "
                    "both fire, so addresses must be unique"
                )
        return self


def _no_repeats(table: str, values: list[str], what: str) -> None:
    dup = [v for v, c in Counter(values).items() if c > 1]
    if dup:
        raise ValueError(f"{table}: {what} repeated: {', '.join(dup)}")


def load_config(path: str | Path, *, kiosk: bool = False) -> StationConfig:
    """Read and check a TOML config file, or raise ConfigError saying what to fix.

    Secrets named by `<key>_file` are read from their files (station/secret_files.py). With
    `kiosk` (the touchscreen) the daemon's secrets are left out unread: the kiosk user may
    read only the kiosk's own token.
    """
    path = Path(path)
    try:
        data = read_config_file(path)
    except ConfigFileError as exc:
        raise ConfigError(str(exc)) from None
    try:
        data = resolve_secrets(data, path.parent, kiosk=kiosk)
    except SecretFileError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return parse_config(data, source=str(path))


def parse_config(data: dict[str, Any], source: str = "<config>") -> StationConfig:
    try:
        return StationConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, source, data)) from None


def format_validation_error(exc: ValidationError, source: str, data: Any = None) -> str:
    lines = [f"{source}: {exc.error_count()} problem(s):"]
    for err in exc.errors():
        loc = tuple(err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        error = err.get("ctx", {}).get("error")
        if isinstance(error, SettingError):  # a section that checks itself names its key
            loc, msg = (*loc, error.key), error.problem
        key = _dotted(loc)
        if err["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
            msg = "unknown key (check the spelling against deploy/station.example.toml)"
        elif err["type"] == "missing":
            msg = "required key is missing"
        shown = ""
        if err["type"] not in ("missing", "model_type") and "input" in err:
            value = err["input"]
            if _is_secret(loc):
                shown = " (the value is a secret, so it is not shown)"
            elif not isinstance(value, dict | list):
                shown = f" (got {value!r})"
        lines.append(f"  {key or '(top level)'}: {msg}{shown}")
    return "\n".join(lines)


SECRET_ENDINGS = ("token", "token_sha256", "_key", "secret", "password")
"""A config key whose name ends so holds a secret: errors never echo its value."""


def _is_secret(loc: tuple[Any, ...]) -> bool:
    names = [str(part).lower() for part in loc if isinstance(part, str)]
    return any(name.endswith(SECRET_ENDINGS) for name in names)


def _dotted(loc: tuple[Any, ...]) -> str:
    """Render a pydantic location the way the TOML author wrote it: boards[1].port."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out
