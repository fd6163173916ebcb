"""httpx, imported without its command-line client.

`import httpx` also imports httpx's CLI (httpx/_main.py) whenever click and rich are installed,
and on a station they are (uvicorn needs click, Textual rich): click, pygments and rich came
to 3.4 MB of RSS in a process that only makes requests (docs/benchmarks.md). With that one
submodule blocked, httpx defines its stub `main` instead, as it does when the CLI's extras are
absent; the `httpx` command itself is another process and unaffected. The daemon's sync and
the touchscreen's client import httpx from here.
"""

from __future__ import annotations

import sys

sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

import httpx  # noqa: E402

__all__ = ["httpx"]
