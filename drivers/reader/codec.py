"""Card readers and QR scanners as pure decoders: key events or bytes in, card texts out.

Kiosk card readers (125 kHz ID, 13.56 MHz IC/Mifare UID) and QR scanners mostly act as USB
keyboards: a read arrives as key presses of its characters, ended by Enter. In serial (USB CDC)
mode the same text arrives as bytes, ended by CR or CRLF. Both decoders here are pure state
machines with no I/O, so the real HID backend, recorded event sequences and the serial backend
share them, and tests feed them vectors and fuzz.

What they emit is a `Decoded`: a text that looks like a read, or `Garbage` (a read with a key
or byte no reader sends, or longer than any card), which the caller counts and drops without
ever logging its content (it may be most of somebody's card number).

`Debouncer` turns "a card held on the reader" (the same read repeated every fraction of a
second) into one read.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_TEXT = 128
"""Longer than any card number or QR code a station binds: the rest of such a read is noise."""

# evdev constants (linux/input-event-codes.h), so the decoder needs no evdev import.
EV_KEY = 0x01
KEY_UP, KEY_DOWN, KEY_REPEAT = 0, 1, 2
KEY_ENTER = 28
KEY_KPENTER = 96
KEY_LEFTSHIFT = 42
KEY_RIGHTSHIFT = 54
KEY_CAPSLOCK = 58

# US layout, as scanners type: code -> (plain, shifted).
_ROWS: dict[int, tuple[str, str]] = {
    2: ("1", "!"), 3: ("2", "@"), 4: ("3", "#"), 5: ("4", "$"), 6: ("5", "%"),
    7: ("6", "^"), 8: ("7", "&"), 9: ("8", "*"), 10: ("9", "("), 11: ("0", ")"),
    12: ("-", "_"), 13: ("=", "+"), 26: ("[", "{"), 27: ("]", "}"), 39: (";", ":"),
    40: ("'", '"'), 41: ("`", "~"), 43: ("\\", "|"), 51: (",", "<"), 52: (".", ">"),
    53: ("/", "?"),
}  # fmt: skip
for _code, _letter in zip(
    [16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 30, 31, 32, 33, 34, 35, 36, 37, 38,
     44, 45, 46, 47, 48, 49, 50],
    "qwertyuiopasdfghjklzxcvbnm",
    strict=True,
):  # fmt: skip
    _ROWS[_code] = (_letter, _letter.upper())
# The keypad's digits, which some ID-card readers use.
for _code, _digit in zip([82, 79, 80, 81, 75, 76, 77, 71, 72, 73], "0123456789", strict=True):
    _ROWS[_code] = (_digit, _digit)
_ROWS[98] = ("/", "/")
_ROWS[55] = ("*", "*")
_ROWS[74] = ("-", "-")
_ROWS[78] = ("+", "+")
_ROWS[83] = (".", ".")
KEYMAP: dict[int, tuple[str, str]] = dict(_ROWS)
"""Key code -> (character, character with Shift)."""
CHAR_KEYS: dict[str, tuple[int, bool]] = {}
"""Character -> (key code, needs Shift): for simulators that type like a scanner."""
for _code in sorted(KEYMAP, reverse=True):  # main-row keys win over the keypad's
    _plain, _shifted = KEYMAP[_code]
    CHAR_KEYS[_plain] = (_code, False)
    if _shifted != _plain:
        CHAR_KEYS[_shifted] = (_code, True)


@dataclass(frozen=True, slots=True)
class Garbage:
    """A read that cannot be a card: why, and how long it was (never what it said)."""

    reason: str
    length: int


Decoded = str | Garbage


class KeyDecoder:
    """evdev key events of a keyboard-type reader -> reads.

    Key-down events add characters (with either Shift held for the shifted one; Caps Lock
    flips letters); key repeats are ignored (a scanner does not hold keys, a stuck one would
    only repeat); Enter ends the read. A key no reader types spoils the read under way, which
    is then dropped whole at its Enter: half a card number is no card number.
    """

    def __init__(self) -> None:
        self._buf: list[str] = []
        self._shift: set[int] = set()
        self._caps = False
        self._spoilt: str | None = None

    def feed(self, ev_type: int, code: int, value: int) -> Decoded | None:
        if ev_type != EV_KEY:
            return None
        if code in (KEY_LEFTSHIFT, KEY_RIGHTSHIFT):
            if value == KEY_UP:
                self._shift.discard(code)
            else:
                self._shift.add(code)
            return None
        if value != KEY_DOWN:
            return None
        if code == KEY_CAPSLOCK:
            self._caps = not self._caps
            return None
        if code in (KEY_ENTER, KEY_KPENTER):
            return self._end()
        chars = KEYMAP.get(code)
        if chars is None:
            self._spoil(f"key {code} is not typed by card readers")
            return None
        shifted = bool(self._shift)
        char = chars[1] if shifted else chars[0]
        if self._caps and char.isalpha():
            char = char.swapcase()
        self._add(char)
        return None

    def _add(self, char: str) -> None:
        if len(self._buf) >= MAX_TEXT:
            self._spoil(f"longer than {MAX_TEXT} characters")
        else:
            self._buf.append(char)

    def _spoil(self, reason: str) -> None:
        if self._spoilt is None:
            self._spoilt = reason

    def _end(self) -> Decoded | None:
        text, spoilt = "".join(self._buf), self._spoilt
        self._buf, self._spoilt = [], None
        if spoilt is not None:
            return Garbage(spoilt, len(text))
        return text or None

    def reset(self) -> None:
        """Forget a read under way (the device was unplugged mid-read)."""
        self._buf, self._shift, self._caps, self._spoilt = [], set(), False, None


class LineDecoder:
    """Bytes of a serial reader -> reads ended by CR, LF or CRLF (an empty line is nothing)."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._spoilt: str | None = None

    def feed(self, data: bytes) -> list[Decoded]:
        out: list[Decoded] = []
        for byte in data:
            if byte in (0x0D, 0x0A):
                decoded = self._end()
                if decoded is not None:
                    out.append(decoded)
            elif not 0x20 <= byte <= 0x7E:
                if self._spoilt is None:
                    self._spoilt = f"byte {byte:#04x} is not text a reader sends"
            elif len(self._buf) >= MAX_TEXT:
                if self._spoilt is None:
                    self._spoilt = f"longer than {MAX_TEXT} characters"
            else:
                self._buf.append(byte)
        return out

    def _end(self) -> Decoded | None:
        text, spoilt = self._buf.decode("ascii"), self._spoilt
        self._buf, self._spoilt = bytearray(), None
        if spoilt is not None:
            return Garbage(spoilt, len(text))
        return text.strip() or None

    def reset(self) -> None:
        self._buf, self._spoilt = bytearray(), None


class Debouncer:
    """One read per presentation: the same text again within `hold_s` of its last sighting is
    the card still lying on the reader, and each repeat extends the hold; another text, or the
    same one after a pause, is a new presentation. Times are the caller's monotonic seconds."""

    def __init__(self, hold_s: float = 1.5) -> None:
        self.hold_s = hold_s
        self._last: str | None = None
        self._seen_at = float("-inf")

    def accept(self, text: str, now: float) -> bool:
        repeat = text == self._last and now - self._seen_at < self.hold_s
        self._last, self._seen_at = text, now
        return not repeat

    def forget(self) -> None:
        self._last, self._seen_at = None, float("-inf")
