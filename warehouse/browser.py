"""Headless Chromium (Debian's `chromium` package) for the report: a screenshot for people,
the rendered page and its console for checks. Nothing here reaches a network: the flags turn
off Chromium's own background connections, and the report carries everything it needs."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--mute-audio", "--hide-scrollbars")
_CONSOLE = re.compile(r":CONSOLE(?:\(\d+\))?[^\]]*\] (.*)")
BUDGET_MS = 10_000  # virtual time the page gets to draw its charts


class BrowserError(RuntimeError):
    """No Chromium, or it failed; the message says which."""


@dataclass(frozen=True)
class Rendered:
    dom: str  # the document after its scripts ran
    console: list[str]  # what the page wrote to its console (errors, warnings, logs)


def find_chromium() -> str | None:
    return next((path for name in CANDIDATES if (path := shutil.which(name))), None)


def _run(page: Path, *args: str, timeout: float) -> subprocess.CompletedProcess:
    binary = find_chromium()
    if binary is None:
        raise BrowserError("no Chromium found: install Debian's `chromium` package (apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="socwatch-chromium-") as profile:
        try:
            result = subprocess.run([binary, *FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
                                     f"--virtual-time-budget={BUDGET_MS}", *args, page.resolve().as_uri()],
                                    capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise BrowserError(f"Chromium did not finish rendering {page} within {timeout:.0f} s") from None
    if result.returncode != 0:
        raise BrowserError(f"Chromium failed on {page} (exit {result.returncode}): {result.stderr.strip()[-500:]}")
    return result


def render(page: Path, timeout: float = 120) -> Rendered:
    """Load `page` headless, let its scripts run, and return the resulting DOM and console."""
    result = _run(page, "--dump-dom", timeout=timeout)
    console = [m.group(1) for line in result.stderr.splitlines() if (m := _CONSOLE.search(line))]
    return Rendered(result.stdout, console)


def screenshot(page: Path, png: Path, width: int = 1200, height: int = 2400, timeout: float = 120) -> Path:
    """A PNG of `page` as a person would see it."""
    png.parent.mkdir(parents=True, exist_ok=True)
    _run(page, f"--screenshot={png.resolve()}", f"--window-size={width},{height}", timeout=timeout)
    if not png.is_file():
        raise BrowserError(f"Chromium wrote no screenshot of {page}")
    return png
