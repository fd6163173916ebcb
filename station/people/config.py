"""Config section `[people]`: how members and staff are recognised, and how guessing is limited.

The table is optional so that a config written before the services existed stays valid.
Without `phone_hash_key` the station still runs its doors, but it cannot recognise a member
(the key is fleet-wide: the central office and every station must hash a phone number the same
way), so member routes answer "not configured" instead of guessing a key.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ReaderConfig(BaseModel):
    """`[reader]`: the station's card reader or QR scanner (none when the table is absent)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["hid", "serial"]
    """`hid`: a USB reader that types like a keyboard (python-evdev, grabbed exclusively);
    `serial`: a reader in serial (USB CDC) mode, text ended by CR or CRLF."""
    device: Annotated[str, Field(min_length=1)]
    """By udev id: /dev/input/by-id/usb-...-event-kbd (hid) or /dev/serial/by-id/... (serial)."""
    baud: Annotated[int, Field(ge=1200, le=1_000_000)] = 9600
    hold_s: Annotated[float, Field(gt=0, le=30)] = 1.5
    """The same read again within this long is the card still lying on the reader."""
    offline_after_s: Annotated[float, Field(gt=0, le=600)] = 5.0
    """A reader gone this long raises the `reader_offline` alarm."""


class PeopleConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    phone_hash_key: str | None = Field(default=None, min_length=32)
    """Fleet-wide secret for the keyed hash (HMAC-SHA256) of phone numbers; the same on central
    and every station, so a member registered anywhere is recognised everywhere."""
    staff_idle_s: Annotated[float, Field(gt=0, le=3600)] = 120.0
    """A staff session ends after this long without a request."""
    member_idle_s: Annotated[float, Field(gt=0, le=900)] = 90.0
    """A member's kiosk session ends after this long without a request (or when its flow ends)."""
    staff_session_max_s: Annotated[float, Field(gt=0, le=86_400)] = 8 * 3600.0
    """A staff session ends this long after login however busy it is: a token copied off the
    screen is not good for ever."""
    member_session_max_s: Annotated[float, Field(gt=0, le=3600)] = 600.0
    """A member's kiosk session ends this long after identifying, however busy."""
    pin_max_failures: Annotated[int, Field(ge=1, le=20)] = 5
    """Wrong PINs in a row before a member or staff number is locked."""
    lockout_s: Annotated[float, Field(gt=0, le=86_400)] = 300.0
    """The first lockout's length; each further lockout doubles it."""
    lockout_max_s: Annotated[float, Field(gt=0, le=30 * 86_400)] = 86_400.0
    """Ceiling of the doubling, so a forgotten PIN never locks a member out for good."""
    guess_window_s: Annotated[float, Field(gt=0, le=86_400)] = 21_600.0
    """The rolling window of the station-wide guessing budgets below (see docs/security.md):
    6 hours, so that a budget of 30 allows at most 120 wrong guesses a day."""
    station_member_pin_failures: Annotated[int, Field(ge=1, le=10_000)] = 30
    """Wrong member PINs, all phone numbers together, per window before identify pauses."""
    station_staff_pin_failures: Annotated[int, Field(ge=1, le=10_000)] = 30
    """Wrong staff PINs, all staff numbers together, per window before staff login pauses."""
    station_code_failures: Annotated[int, Field(ge=1, le=10_000)] = 30
    """Wrong pickup codes, all lockers together, per window before pickups by code pause."""
    station_claims: Annotated[int, Field(ge=1, le=10_000)] = 30
    """Lost-and-found claims, all items together, per window before claims pause: each claim
    names a phone number, so a flood of them is someone working through numbers."""

    card_alone_for: list[Literal["borrow", "claim", "deposit"]] = ["borrow", "claim"]
    """Actions a card (or QR code) alone may do for its member; every other member action
    still asks for phone number and PIN (docs/members.md)."""

    @model_validator(mode="after")
    def _ceiling(self) -> PeopleConfig:
        if self.lockout_max_s < self.lockout_s:
            raise ValueError("lockout_max_s must be at least lockout_s")
        return self
