"""What the kiosk says at the moments that matter, in the language shown, against a real daemon.

The app speaks through a `RecordingPlayer`, so each test reads the exact phrases a speaker would
have been given: which door opened and what to do there, the reminder to close it, that a code
was taken, an error with what to do next; key clicks for keypad taps. The sound itself (espeak-ng,
aplay, the cache) is tested in test_voice_sound.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from textual.widgets import Digits

from station.ui_config import Language
from tests.simstation import SimStation
from tests.ui.kiosk import FakeMonotonic, Kiosk, build_app, door, wait_api
from ui.voice import Phrase, RecordingPlayer

REMIND_S = 20.0


class Talking(Kiosk):
    player: RecordingPlayer
    clock: FakeMonotonic

    async def speak(self, language: Language) -> None:
        if self.app.i18n.language != language:
            await self.tap("#lang")

    async def said(self, text: str) -> Phrase:
        language = self.app.i18n.language
        return await self.until(
            lambda: next((p for p in self.player.said if p.text == text), None),
            what=f"{text!r} spoken in {language}; said so far: {self.player.said}",
        )


@pytest.fixture
async def talking(station: SimStation) -> AsyncIterator[Talking]:
    player, clock = RecordingPlayer(), FakeMonotonic()
    app = build_app(station, monotonic=clock, player=player, close_reminder_s=REMIND_S)
    async with app.run_test(size=(100, 30)) as pilot:
        k = Talking(app, pilot, station)
        k.player, k.clock = player, clock
        await k.home()
        yield k


async def deposit_bag(k: Talking) -> str:
    """Store a bag in a size-S locker, door left open; returns the locker."""
    await k.tap("#tile-storage")
    await k.tap("#choice-bag")
    await k.tap("#choice-size-S")
    await k.on("FlowScreen")
    locker = k.screen.flow["locker"]
    await wait_api(lambda: _is_open(k, locker), what=f"{locker} open")
    return locker


async def _is_open(k: Talking, locker: str) -> bool:
    return await door(k.station, locker) == "open"


DOOR_OPEN = {
    "zh": ("{locker} 号柜门已打开。请放入物品，然后关好柜门", "请关好 {locker} 号柜门"),
    "en": (
        "Door {locker} is open. Put your things in and close the door",
        "Please close door {locker}",
    ),
}
PICKUP = {
    "zh": ("取件码正确", "{locker} 号柜门已打开。请取出物品，然后关好柜门"),
    "en": ("Code accepted", "Door {locker} is open. Take your things and close the door"),
}
CLOSED = {"zh": "{locker} 号柜门已关好，谢谢", "en": "Door {locker} is closed. Thank you"}
STILL_THERE = {"zh": "还需要时间吗？请点一下屏幕", "en": "Do you need more time? Tap the screen"}
WRONG_PIN = {
    "zh": ("密码不正确", "请重新输入密码。"),
    "en": ("Wrong PIN", "Please enter your PIN again."),
}


async def receipt_code(k: Talking, locker: str) -> str:
    k.station.sim.close_door(int(locker[1:]))
    await k.until(lambda: k.screen.query("#receipt-code"), what="the receipt")
    return k.screen.query_one("#receipt-code", Digits).value


async def test_an_open_door_is_named_with_what_to_do_then_a_reminder_to_close_it(
    talking: Talking,
) -> None:
    k = talking
    for language in ("zh", "en"):
        await k.speak(language)
        locker = await deposit_bag(k)
        opened, close = (t.format(locker=locker) for t in DOOR_OPEN[language])
        assert await k.said(opened) == Phrase(opened, language)
        assert k.player.texts().count(opened) == 1  # once, however often the state is read

        k.clock.advance(REMIND_S - 1)
        await k.pilot.pause(0.3)
        assert close not in k.player.texts()  # not before its time
        k.clock.advance(1)
        assert await k.said(close) == Phrase(close, language)
        for _ in range(5):  # the fourth and later reminders are the screen's alone
            k.clock.advance(REMIND_S)
            await k.pilot.pause(0.15)
        assert k.player.texts().count(close) == 3

        code = await receipt_code(k, locker)
        assert not any(code in p.text for p in k.player.said)  # a code is never spoken
        closed = CLOSED[language].format(locker=locker)
        assert await k.said(closed) == Phrase(closed, language)
        hushed = k.player.hushed
        await k.tap("#done")
        await k.home()
        assert k.player.hushed > hushed  # what was still to say was for this person only


async def test_the_idle_question_is_spoken_too(talking: Talking) -> None:
    k = talking
    for language in ("zh", "en"):
        await k.speak(language)
        await k.tap("#tile-borrow")
        await k.on("BorrowToolsScreen")
        k.clock.advance(k.app.ui.idle_timeout_s + 1)
        await k.on("StillThereScreen")
        await k.said(STILL_THERE[language])
        await k.tap("#still-there")
        await k.on("BorrowToolsScreen")
        await k.tap("#back")
        await k.home()


async def test_a_code_taken_is_said_then_the_door_it_opened(talking: Talking) -> None:
    k = talking
    for language in ("zh", "en"):
        await k.speak(language)
        locker = await deposit_bag(k)
        code = await receipt_code(k, locker)
        await k.tap("#done")
        await k.home()
        k.player.said.clear()

        # The 取件 tile and the code, submitted with its last digit.
        await k.tap("#tile-pickup")
        await k.keypad(code)
        accepted, opened = PICKUP[language]
        opened = opened.format(locker=locker)
        await k.said(opened)
        assert k.player.said[:2] == [Phrase(accepted, language), Phrase(opened, language)]
        assert not any(code in p.text for p in k.player.said)
        k.station.sim.close_door(int(locker[1:]))
        await k.sees("Done" if language == "en" else "完成")
        await k.tap("#done")
        await k.home()


async def test_an_error_is_said_with_what_to_do_and_keys_click(talking: Talking) -> None:
    k = talking
    for language, tries in (("zh", 4), ("en", 3)):
        await k.speak(language)
        await k.tap("#tile-borrow")
        await k.tap("#choice-T-DRILL-1")
        await k.on("PhoneScreen")
        clicks = k.player.clicks
        await k.identify(pin="111333")
        assert k.player.clicks - clicks == 11 + 6  # a click for every digit typed
        await k.on("ErrorScreen")
        title, todo = WRONG_PIN[language]
        spoken = await k.until(
            lambda: next((p for p in k.player.said if p.text.startswith(title)), None),  # noqa: B023
            what=f"the error spoken; said: {k.player.said}",
        )
        assert spoken.language == language
        assert todo in spoken.text
        assert str(tries) in spoken.text  # the tries left, as on the screen
        assert "111333" not in spoken.text and "13812345678" not in spoken.text
        await k.tap("#home")
        await k.home()
