"""The on-screen keypad as a widget: large keys, delete, clear, masking, and every tap counted."""

from __future__ import annotations

from typing import ClassVar

from textual.app import App, ComposeResult

from ui.i18n import Translator
from ui.widgets.keypad import Keypad, Kind, complete, render_entry


class KeypadApp(App[None]):
    CSS_PATH: ClassVar[list[str]] = ["../../ui/theme.tcss", "../../ui/flows.tcss"]

    def __init__(self, kind: Kind, prefix: str = "") -> None:
        super().__init__()
        self.i18n = Translator("zh")
        self.kind = kind
        self.prefix = prefix
        self.changes: list[tuple[str, bool]] = []

    def compose(self) -> ComposeResult:
        yield Keypad(self.kind, prefix=self.prefix)

    def on_keypad_changed(self, event: Keypad.Changed) -> None:
        self.changes.append((event.value, event.complete))


def shown(app: KeypadApp) -> str:
    return app.query_one("#keypad-display").content.plain


async def tap_keys(pilot, keys: str) -> None:
    for key in keys:
        await pilot.click(f"#key-{key}")


async def test_a_phone_number_shows_grouped_then_masked() -> None:
    app = KeypadApp("phone")
    async with app.run_test(size=(80, 24)) as pilot:
        assert shown(app) == "请输入"
        await tap_keys(pilot, "1381234")
        assert shown(app) == "138 1234"
        await tap_keys(pilot, "5678")
        assert shown(app) == "138****5678"
        await tap_keys(pilot, "9")  # a twelfth digit does not go in
        assert app.query_one(Keypad).value == "13812345678"
        assert app.changes[-1] == ("13812345678", True)
        await pilot.click("#key-del")
        assert shown(app) == "138 1234 567"
        assert app.changes[-1] == ("1381234567", False)


async def test_a_pin_is_never_echoed() -> None:
    app = KeypadApp("pin")
    async with app.run_test(size=(80, 24)) as pilot:
        assert shown(app) == "○ ○ ○ ○ ○ ○"
        await tap_keys(pilot, "90")
        assert shown(app) == "● ● ○ ○ ○ ○"
        assert "9" not in shown(app) and "0" not in shown(app)
        await pilot.click("#key-clear")
        assert shown(app) == "○ ○ ○ ○ ○ ○"
        assert app.changes == [("9", False), ("90", False), ("", False)]


async def test_the_same_key_twice_in_a_row_counts_twice() -> None:
    app = KeypadApp("code")
    async with app.run_test(size=(80, 24)) as pilot:
        await tap_keys(pilot, "112233")
        assert app.query_one(Keypad).value == "112233"
        assert shown(app) == "1 1 2 2 3 3"


async def test_keys_are_large_enough_to_hit_with_a_gloved_finger() -> None:
    for size in ((80, 24), (120, 40)):
        app = KeypadApp("pin")
        async with app.run_test(size=size):
            for key in app.query(".key"):
                assert key.region.height >= 3 and key.region.width >= 10, (size, key.id)


async def test_a_staff_number_prefix_is_shown_and_sent() -> None:
    app = KeypadApp("staff_no", prefix="S")
    async with app.run_test(size=(80, 24)) as pilot:
        await tap_keys(pilot, "001")
        assert shown(app) == "S001"
        assert app.query_one(Keypad).value == "S001"
        assert app.changes[-1] == ("S001", True)


def test_what_counts_as_complete() -> None:
    assert complete("phone", "13812345678")
    assert not complete("phone", "23812345678")  # mainland mobiles start with 1
    assert not complete("pin", "12345")
    assert complete("count", "0")
    assert render_entry("code", "123", 6) == "1 2 3"
