"""The daemon's newest log lines in memory, for a diagnostics report the office asks for.

The journal holds them too, but the daemon may not read it (no systemd-journal group), and a
report must not wait for journalctl. Lines are formatted like the terminal's.
"""

from __future__ import annotations

import collections
import logging

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class LogRing(logging.Handler):
    def __init__(self, size: int = 1000, level: int = logging.INFO) -> None:
        super().__init__(level)
        self._lines: collections.deque[str] = collections.deque(maxlen=size)
        self.setFormatter(logging.Formatter(FORMAT))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._lines.append(self.format(record))
        except Exception:
            self.handleError(record)

    def lines(self, n: int) -> list[str]:
        """The newest `n` lines, oldest first."""
        if n <= 0:
            return []
        return list(self._lines)[-n:]
