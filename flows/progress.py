"""Progress of a long command, for a person at a terminal.

The flows report what they have done (`advance`) and how much there is (`total`) under a
stage name; a command that runs on a terminal shows it as rich progress bars, and anywhere
else (cron, serve, logs, tests) nothing is shown: the flows run the same either way. In the
run's log, each stage says when it is done with a batch (`stage_done`, at INFO).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

_current: Progress | None = None
_tasks: dict[str, int] = {}


@contextmanager
def bars(console: Console) -> Iterator[None]:
    """Show progress bars while the block runs, if `console` is a terminal."""
    global _current
    if not console.is_terminal:
        yield
        return
    progress = Progress(TextColumn("{task.description:<12}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        TextColumn("eta"), TimeRemainingColumn(), console=console, transient=True)
    _tasks.clear()
    _current = progress
    try:
        with progress:
            yield
    finally:
        _current = None
        _tasks.clear()


def total(stage: str, n: int) -> None:
    """There are `n` units of `stage` (pages, articles, tables)."""
    if _current is None:
        return
    if stage in _tasks:
        _current.update(_tasks[stage], total=n)
    else:
        _tasks[stage] = _current.add_task(stage, total=n)


def advance(stage: str, n: int = 1) -> None:
    if _current is not None and stage in _tasks:
        _current.advance(_tasks[stage], n)


def stage_done(stage: str, items: int) -> None:
    """In a task of a flow run: one INFO line per batch and stage once its work is done (a
    load's: committed), in our own words, which a log reader (and the crash tests) follow a
    run's progress by."""
    from prefect import get_run_logger

    get_run_logger().info("stage=%s done items=%d", stage, items)
