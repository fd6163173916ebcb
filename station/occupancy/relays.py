"""When the fan and light relays should switch: the policy, separate from the pins.

Automatic control follows the occupancy state: on while occupied, off once vacant (the hold
time has already passed by then), the light only within its hours. While the state is
`unknown` (a sensor offline) both stay as they are: switching off on a courier who might be
resting in the heat is worse than running a fan for nothing, and staff get the alarm.
A relay that just switched keeps its new position for its minimum on or off time, so a
flickering sensor never makes it chatter. A manual override switches at once (staff chose to)
and holds until it is cleared or its time runs out.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from station.occupancy.config import LightOutputConfig, RelayOutputConfig
from station.occupancy.fusion import State

RelayName = Literal["fan", "light"]
RELAY_NAMES: tuple[RelayName, ...] = ("fan", "light")


@dataclass(frozen=True, slots=True)
class Override:
    on: bool
    until: float
    """Monotonic time the override ends by itself."""
    until_wall: float
    actor: str
    reason: str


@dataclass(frozen=True, slots=True)
class RelayState:
    name: RelayName
    on: bool
    since: float
    """Monotonic time of the last switch (min on/off times count from here)."""
    since_wall: float
    override: Override | None = None


@dataclass(frozen=True, slots=True)
class Switch:
    """A decided change of one relay, with who and why for the usage log."""

    name: RelayName
    on: bool
    actor: str
    reason: str


def automatic_want(
    name: RelayName, state: State, currently_on: bool, light_hours: bool
) -> tuple[bool, str]:
    """What automatic control wants for this relay, and the reason to log if it switches."""
    if name == "light" and not light_hours:
        return False, "outside the light's hours"
    if state == "occupied":
        return True, "occupied"
    if state == "vacant":
        return False, "vacant"
    return currently_on, "occupancy unknown: holding the relay as it is"


def decide(
    relay: RelayState,
    cfg: RelayOutputConfig | LightOutputConfig,
    *,
    now: float,
    state: State,
    light_hours: bool,
) -> Switch | None:
    """The switch to make now, or None (already right, or held by its minimum time)."""
    if relay.override is not None and now < relay.override.until:
        ov = relay.override
        if ov.on == relay.on:
            return None
        return Switch(relay.name, ov.on, ov.actor, f"manual override: {ov.reason}")
    want, reason = automatic_want(relay.name, state, relay.on, light_hours)
    if want == relay.on:
        return None
    held_for = now - relay.since
    if relay.on and held_for < cfg.min_on_s:
        return None
    if not relay.on and held_for < cfg.min_off_s:
        return None
    return Switch(relay.name, want, "system", reason)


def switched(relay: RelayState, on: bool, now: float, wall: float) -> RelayState:
    return replace(relay, on=on, since=now, since_wall=wall)
