"""Debian's Chromium, headless, for the tests that look at a page as a person would.

One place for the executable, its flags and the skip: the fleet dashboard, the reports page and
the touchscreen's web mode all use it. The flags keep Chromium from reaching anywhere by itself
(no background networking, updates, sync or QUIC) so a test sees only what the page asks for;
each launch gets a fresh profile.
"""

from __future__ import annotations

import base64
import shutil
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)"
)
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def launch(p: Any) -> Any:
    """A browser of Playwright's `p.chromium` on Debian's binary. Playwright gives every
    launch a fresh profile (a temporary --user-data-dir, removed when the browser closes)."""
    return p.chromium.launch(executable_path=CHROMIUM, args=ARGS)


def colour_shares(browser: Any, png: bytes, colours: list[str]) -> dict[str, float]:
    """How much of a screenshot each `#rrggbb` colour covers (0..1), counted by Chromium itself
    (the PNG drawn on a canvas), so a test can tell a page that drew its screen from a blank
    or half-drawn one without an image library."""
    page = browser.new_page()
    try:
        return page.evaluate(
            """async ([data, colours]) => {
                const img = new Image();
                img.src = "data:image/png;base64," + data;
                await img.decode();
                const canvas = document.createElement("canvas");
                canvas.width = img.width;
                canvas.height = img.height;
                const ctx = canvas.getContext("2d");
                ctx.drawImage(img, 0, 0);
                const px = ctx.getImageData(0, 0, img.width, img.height).data;
                const want = colours.map(c => [1, 3, 5].map(i => parseInt(c.slice(i, i + 2), 16)));
                const counts = colours.map(() => 0);
                for (let i = 0; i < px.length; i += 4) {
                    want.forEach((w, k) => {
                        if (Math.abs(px[i] - w[0]) + Math.abs(px[i + 1] - w[1])
                            + Math.abs(px[i + 2] - w[2]) <= 6) counts[k]++;
                    });
                }
                const total = px.length / 4;
                return Object.fromEntries(colours.map((c, k) => [c, counts[k] / total]));
            }""",
            [base64.b64encode(png).decode(), colours],
        )
    finally:
        page.close()
