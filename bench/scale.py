"""Benchmark: does the cost per document stay flat as a run grows, and how much memory does it take?

    uv run python bench/scale.py [N ...] [--write]      # default sizes 5000 20000 50000

For each size, a WARC of N distinct real news pages (../shared/corpus/benchmark/scrapinghub_aeb,
each copy made distinct) and one feed listing them is replayed by `socwatch run --replay` in a
process of its own, into a new warehouse. Measured: the flow's time (runs.finished_at -
started_at) per document, and the peak resident memory of the whole process tree (the run,
its extraction processes and Prefect's API server), sampled every 0.2 s from /proc.
--write puts the table into docs/performance.md (between its markers for this benchmark).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import duckdb  # noqa: E402

from ingest_replay import CORPUS, build  # noqa: E402
from perfdoc import measured, numbers, publish  # noqa: E402

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def tree_rss(root: int) -> int:
    """Resident bytes of `root` and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ppid, pages = int(fields[1]), int(fields[21])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
        rss[int(entry)] = pages * PAGE_SIZE
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, ()))
    return total


def run_once(n: int, tmp: Path) -> dict:
    archive, sources, db = tmp / f"scale-{n}.warc.gz", tmp / f"sources-{n}.toml", tmp / f"scale-{n}.duckdb"
    build(archive, sources, n)
    peak = 0
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "flows.cli", "run", "--sources", str(sources), "--replay", str(archive),
                             "--db", str(db)], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss(proc.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    done.set()
    sampler.join()
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"socwatch run failed at N={n} ({proc.returncode}): {err[-2000:]}")
    con = duckdb.connect(str(db), read_only=True)
    flow_s, stored = con.execute("SELECT epoch(finished_at - started_at), n_new FROM runs").fetchone()
    con.close()
    for path in (archive, db, db.with_name(f"scale-{n}.snapshot.duckdb")):
        path.unlink(missing_ok=True)
    return {"n": n, "stored": stored, "flow_s": flow_s, "wall_s": wall, "peak_mb": peak / 2**20}


def markdown(rows: list[dict]) -> str:
    base = rows[0]["flow_s"] / rows[0]["n"]
    lines = [measured(), "",
             "| documents | stored | flow s | ms per document | vs the smallest | wall s | peak RSS (MB, process tree) |",
             "|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        per = r["flow_s"] / r["n"]
        lines.append(f"| {r['n']:,} | {r['stored']:,} | {r['flow_s']:.1f} | {per * 1000:.2f} | {per / base - 1:+.0%} | "
                     f"{r['wall_s']:.1f} | {r['peak_mb']:.0f} |")
    return "\n".join(lines)


def main() -> None:
    sizes = numbers([5000, 20000, 50000])
    if not CORPUS.exists():
        sys.exit(f"needs {CORPUS}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            rows.append(run_once(n, Path(tmp)))
            print(f"N={n}: {rows[-1]}", flush=True)
    publish("scale", markdown(rows))


if __name__ == "__main__":
    main()
