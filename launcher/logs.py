"""Log lines for a terminal or for journald: under journald each line carries its priority.

systemd connects a service's stderr to the journal and says so in `JOURNAL_STREAM`
(`<device>:<inode>` of that stream). A line that starts with `<N>` (sd-daemon(3)) is stored
with syslog priority N, so `journalctl -u station -p warning` shows warnings and errors only;
without the prefix every line would be "info". The journal stamps each line itself, so the
time is left out there. Anywhere else (a terminal, a test, a pipe) lines stay plain.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TextIO

# sd-daemon(3) priorities for Python's levels: err, warning, info, debug; critical is crit.
_PRIORITIES = ((logging.CRITICAL, 2), (logging.ERROR, 3), (logging.WARNING, 4), (logging.INFO, 6))
PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JOURNAL_FORMAT = "%(levelname)s %(name)s: %(message)s"


def syslog_priority(levelno: int) -> int:
    """The syslog priority of a Python log level (a level between two takes the lower one)."""
    for level, priority in _PRIORITIES:
        if levelno >= level:
            return priority
    return 7


class JournalFormatter(logging.Formatter):
    """Prefixes every physical line with `<N>`: a traceback's lines keep the record's priority."""

    def format(self, record: logging.LogRecord) -> str:
        prefix = f"<{syslog_priority(record.levelno)}>"
        return "\n".join(prefix + line for line in super().format(record).split("\n"))


def under_journald(stream: TextIO, environ: dict[str, str] | None = None) -> bool:
    """True when `stream` is the journal stream systemd named in JOURNAL_STREAM.

    Checked against the stream's own device and inode, as systemd.exec(5) advises: a program
    started from a service with its stderr redirected elsewhere inherits the variable too.
    """
    value = (os.environ if environ is None else environ).get("JOURNAL_STREAM", "")
    dev, sep, ino = value.partition(":")
    if not sep or not dev.isdigit() or not ino.isdigit():
        return False
    try:
        st = os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    return (st.st_dev, st.st_ino) == (int(dev), int(ino))


def configure_logging(verbose: bool = False, stream: TextIO | None = None) -> logging.Handler:
    """One handler on the root logger, formatted for where the lines go."""
    out = sys.stderr if stream is None else stream
    handler = logging.StreamHandler(out)
    if under_journald(out):
        handler.setFormatter(JournalFormatter(JOURNAL_FORMAT))
    else:
        handler.setFormatter(logging.Formatter(PLAIN_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return handler
