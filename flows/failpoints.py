"""Failpoints: named places where a test can hold the pipeline, so that a crash test kills
the run at a chosen stage by construction instead of racing the clock.

A failpoint is armed by the environment of the command (and so of its extraction workers,
which take the owner's HOOKS):

- `SOCWATCH_FAILPOINT=extract:URL`: the worker that is about to extract the page at URL
  stops there;
- `SOCWATCH_FAILPOINT=compact:STAGE`: `socwatch compact` stops at STAGE (`copying`, as
  the first table has been copied into the new file; `replacing`, as the new file is complete);
- `SOCWATCH_FAILPOINT=index:folding`: a run stops as it folds its articles into the search
  index, before that transaction commits (warehouse/search.py `fold_tail`);
- `SOCWATCH_FAILPOINT_DIR=DIR`: where the held process says so, by creating
  `DIR/<point>.reached`; it goes on once `DIR/<point>.release` exists.

Unarmed (the normal case) a failpoint costs one dictionary look-up per chunk of pages.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

POLL_S = 0.01
HOOKS = ("SOCWATCH_FAILPOINT", "SOCWATCH_FAILPOINT_DIR")  # the environment variables a test arms them with


def armed() -> bool:
    """Whether any failpoint is armed (checked once before a loop of holds)."""
    return "SOCWATCH_FAILPOINT" in os.environ


def hold(point: str, subject: str) -> None:
    """Stop here while the failpoint `point` is armed for `subject` and not yet released."""
    if os.environ.get("SOCWATCH_FAILPOINT") != f"{point}:{subject}":
        return
    folder = Path(os.environ.get("SOCWATCH_FAILPOINT_DIR") or ".")
    (folder / f"{point}.reached").write_text(f"{os.getpid()}\n", encoding="utf-8")
    while not (folder / f"{point}.release").exists():
        time.sleep(POLL_S)
