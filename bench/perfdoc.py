"""What the benchmarks share: a run's own figures, and docs/performance.md, where each writes its section between its markers."""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

import duckdb

DOC = Path(__file__).resolve().parent.parent / "docs" / "performance.md"


def run_figures(db: Path, run_id: str | None = None) -> tuple[float, int, int]:
    """A run's flow time in seconds (from the warehouse's own ledger), its new articles and the articles stored after it:
    the run given, else the latest."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT epoch(finished_at - started_at), n_new, (SELECT count(*) FROM articles) FROM runs "
                           "WHERE run_id = coalesce(?, run_id) ORDER BY started_at DESC LIMIT 1", [run_id]).fetchone()
    finally:
        con.close()


def machine() -> str:
    return f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()} {platform.machine()}"


def numbers(default: list[int]) -> list[int]:
    """The benchmark's numeric arguments (sizes), else `default`."""
    return [int(a) for a in sys.argv[1:] if not a.startswith("--")] or default


def measured() -> str:
    """The line that opens a section: when, on what, by which command (this one)."""
    command = " ".join(["uv run python", f"bench/{Path(sys.argv[0]).name}", *sys.argv[1:]])
    return f"Measured {time.strftime('%Y-%m-%d')} on {machine()}, with `{command}`."


def publish(name: str, section: str) -> None:
    """Print the section; with --write, also put it into docs/performance.md."""
    print(section)
    if "--write" in sys.argv:
        write_section(name, section)


def write_section(name: str, section: str) -> None:
    """Replace the text between `<!-- NAME:start -->` and `<!-- NAME:end -->`."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = DOC.read_text(encoding="utf-8")
    if start not in text or end not in text:
        sys.exit(f"{DOC} lacks the markers {start} ... {end}")
    before, rest = text.split(start, 1)
    _, after = rest.split(end, 1)
    DOC.write_text(f"{before}{start}\n{section}\n{end}{after}", encoding="utf-8")
    print(f"\nwritten to docs/performance.md ({name})")
