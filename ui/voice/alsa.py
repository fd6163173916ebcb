"""The real player: phrases rendered by espeak-ng (cached) and played by `aplay` on ALSA.

All the work happens in one thread of its own, so a tap never waits for a program to start or
a phrase to finish. Prompts are played in order, but at most `MAX_PENDING` wait: a person who
tapped on quickly needs the newest words, not a backlog. A key click waits for nothing: one
that cannot play within `CLICK_STALE_S` (a prompt is playing) is dropped, since a late click
tells the finger nothing. Going back to Home hushes the prompts (the one playing is cut, those
waiting are dropped): they were for the person who left. A failing device (a card unplugged,
another program holding it) is logged once and tried again with the next sound; nothing of it
reaches the screens.
"""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from ui.voice.port import Phrase
from ui.voice.render import PhraseCache, RenderFailed

log = logging.getLogger(__name__)

MAX_PENDING = 2
CLICK_STALE_S = 0.15
PLAY_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class _Click:
    at: float


class AlsaPlayer:
    def __init__(
        self, cache: PhraseCache, *, aplay: str, device: str = "default", clicks: bool = True
    ) -> None:
        self.cache = cache
        self.aplay = aplay
        self.device = device
        self.clicks = clicks
        self._pending: deque[Phrase | _Click] = deque()
        self._wake = threading.Condition()
        self._busy = False
        self._closed = False
        self._playing: subprocess.Popen[bytes] | None = None
        self._phrase_playing = False
        self._warned: set[str] = set()
        self._thread = threading.Thread(target=self._run, name="voice", daemon=True)
        self._thread.start()

    # --- the port --------------------------------------------------------------------------

    def say(self, phrase: Phrase) -> None:
        with self._wake:
            waiting = [p for p in self._pending if isinstance(p, Phrase)]
            if len(waiting) >= MAX_PENDING:
                self._pending.remove(waiting[0])
            self._pending.append(phrase)
            self._wake.notify()

    def hush(self) -> None:
        with self._wake:
            for waiting in [p for p in self._pending if isinstance(p, Phrase)]:
                self._pending.remove(waiting)
            playing = self._playing if self._phrase_playing else None
        if playing is not None and playing.poll() is None:
            playing.kill()  # exits -9, which _play takes as a cut, not a device fault

    def click(self) -> None:
        if not self.clicks:
            return
        with self._wake:
            self._pending.append(_Click(time.monotonic()))
            self._wake.notify()

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._pending.clear()
            playing = self._playing
            self._wake.notify()
        if playing is not None and playing.poll() is None:
            playing.kill()
        self._thread.join(timeout=5)

    def idle(self, within: float) -> bool:
        """Wait until nothing is pending or playing; False if that took longer than `within`."""
        deadline = time.monotonic() + within
        with self._wake:
            while self._pending or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._wake.wait(min(left, 0.05))
        return True

    # --- the thread ------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._pending and not self._closed:
                    self._wake.wait()
                if self._closed:
                    return
                item = self._pending.popleft()
                self._busy = True
            try:
                self._play_item(item)
            finally:
                with self._wake:
                    self._busy = False
                    self._wake.notify_all()

    def _play_item(self, item: Phrase | _Click) -> None:
        if isinstance(item, _Click):
            if time.monotonic() - item.at > CLICK_STALE_S:
                return
            try:
                path = self.cache.click()
            except OSError as exc:
                self._warn("click", f"could not write the key click: {exc}")
                return
        else:
            try:
                path = self.cache.wav(item)
            except (RenderFailed, OSError) as exc:
                self._warn("render", f"could not render a prompt: {exc}")
                return
        self._play(path, phrase=isinstance(item, Phrase))

    def _play(self, path: Path, *, phrase: bool) -> None:
        command = [self.aplay, "-q", "-D", self.device, str(path)]
        try:
            with self._wake:
                if self._closed:
                    return
                self._playing = subprocess.Popen(
                    command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
                )
                self._phrase_playing = phrase
                playing = self._playing
            _, err = playing.communicate(timeout=PLAY_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            playing.kill()
            playing.communicate()
            self._warn("timeout", f"aplay on {self.device} did not finish; killed")
            return
        except OSError as exc:
            self._warn("aplay", f"aplay could not run: {exc}")
            return
        finally:
            with self._wake:
                self._playing = None
                self._phrase_playing = False
        if playing.returncode not in (0, -9):
            answer = err.decode(errors="replace").strip()
            self._warn("device", f"aplay -D {self.device} exited {playing.returncode}: {answer}")

    def _warn(self, kind: str, message: str) -> None:
        """Log a kind of trouble once; the same trouble on every tap would flood the journal."""
        if kind not in self._warned:
            self._warned.add(kind)
            log.warning("voice: %s (the kiosk goes on silently where it cannot play)", message)
