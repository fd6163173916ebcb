"""The on-screen numeric keypad: the only way to type at a station without a keyboard.

Large keys (a gloved finger must hit them), delete and clear. What was typed is shown by kind:
a phone number in digits while typing and masked as soon as all 11 digits are in; a PIN never,
only one dot per digit; codes and counts as typed. The value stays inside the widget and goes
to the screen only through `Keypad.Changed`, never into a label.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.message import Message
from textual.widgets import Button, Static

from ui.i18n import mask_phone
from ui.widgets.text import TButton, plain, translator

Kind = Literal["phone", "pin", "code", "staff_no", "count"]


@dataclass(frozen=True)
class KeypadSpec:
    kind: Kind
    min_len: int
    max_len: int

    @property
    def fixed(self) -> bool:
        """An entry of one length (phone, PIN, code) is complete on its last digit."""
        return self.min_len == self.max_len


SPECS: dict[Kind, KeypadSpec] = {
    "phone": KeypadSpec("phone", 11, 11),
    "pin": KeypadSpec("pin", 6, 6),
    "code": KeypadSpec("code", 8, 8),
    "staff_no": KeypadSpec("staff_no", 1, 8),
    "count": KeypadSpec("count", 1, 5),
}


def render_entry(kind: Kind, value: str, max_len: int) -> str:
    """What the display shows for `value`: never a PIN digit, never a whole phone number."""
    if kind == "pin":
        return " ".join("●" * len(value) + "○" * (max_len - len(value)))
    if kind == "phone":
        if len(value) >= 11:
            return mask_phone(value)
        groups = [value[:3], value[3:7], value[7:]]
        return " ".join(g for g in groups if g)
    return " ".join(value) if kind == "code" else value


def complete(kind: Kind, value: str) -> bool:
    spec = SPECS[kind]
    if not spec.min_len <= len(value) <= spec.max_len:
        return False
    if kind == "phone":
        return value.startswith("1")
    if kind == "count":
        return value.isdigit()
    return True


class Key(Button):
    """A keypad key takes every tap: a plain Button ignores a second tap on itself within
    its 0.2 s press animation, which would drop the second 1 of "11"; the display shows each
    digit (or dot) at once instead."""

    def __init__(self, label: str, *, id: str, classes: str) -> None:
        super().__init__(label, id=id, classes=classes)
        self.active_effect_duration = 0


class TKey(TButton):
    """A keypad key labelled from the catalogue (delete, clear), also taking every tap."""

    def on_mount(self) -> None:
        super().on_mount()
        self.active_effect_duration = 0


class Keypad(Vertical):
    """A display line and a 4x3 grid of keys: 1-9, clear, 0, delete."""

    class Changed(Message):
        """The entry changed; `complete` says whether it can be submitted."""

        def __init__(self, keypad: Keypad, value: str, complete: bool) -> None:
            super().__init__()
            self.keypad = keypad
            self.value = value
            self.complete = complete

        @property
        def control(self) -> Keypad:
            return self.keypad

    def __init__(
        self,
        kind: Kind,
        *,
        prefix: str = "",
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.kind = kind
        self.spec = SPECS[kind]
        self.prefix = prefix
        """Letters put before the digits (staff numbers like S001 on a numeric keypad)."""
        self._value = ""

    @property
    def value(self) -> str:
        return self.prefix + self._value

    @property
    def is_complete(self) -> bool:
        return complete(self.kind, self._value)

    def compose(self) -> ComposeResult:
        yield Static("", markup=False, id="keypad-display", classes=f"entry entry-{self.kind}")
        with Grid(id="keypad-keys"):
            for digit in "123456789":
                yield Key(digit, id=f"key-{digit}", classes="key digit")
            yield TKey("keypad.clear", id="key-clear", classes="key action")
            yield Key("0", id="key-0", classes="key digit")
            yield TKey("keypad.delete", id="key-del", classes="key action")

    def on_mount(self) -> None:
        self._show()

    def retranslate(self) -> None:
        self._show()

    def clear(self) -> None:
        self._set("")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        key = event.button.id or ""
        if not key.startswith("key-"):
            return
        event.stop()
        voice = getattr(self.app, "voice", None)
        if voice is not None:
            voice.click()  # the finger hears its tap was taken
        name = key.removeprefix("key-")
        if name == "clear":
            self._set("")
        elif name == "del":
            self._set(self._value[:-1])
        elif name.isdigit() and len(self._value) < self.spec.max_len:
            self._set(self._value + name)

    def _set(self, value: str) -> None:
        changed = value != self._value
        self._value = value
        self._show()
        if changed:
            self.post_message(self.Changed(self, self.value, self.is_complete))

    def _show(self) -> None:
        display = self.query_one("#keypad-display", Static)
        if self._value or self.kind == "pin":
            text = self.prefix + render_entry(self.kind, self._value, self.spec.max_len)
            display.remove_class("placeholder")
        else:
            text = translator(self).t("keypad.empty")
            display.add_class("placeholder")
        display.update(plain(text))
