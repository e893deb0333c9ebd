"""Benchmark: does the cost per document stay flat as a run grows, and how much memory does it take?

    uv run python bench/scale.py [N ...] [--write]      # default sizes 5000 20000 50000

For each size, a WARC of N distinct real news pages (../shared/corpus/benchmark/scrapinghub_aeb,
each copy made distinct) and one feed listing them is replayed by `socwatch run --replay` in a
process of its own, into a new warehouse. Measured: the flow's time (runs.finished_at -
started_at) per document, and the peak memory of the whole process tree (the run, its
extraction processes and Prefect's API server), sampled every second from /proc: PSS, which
counts each shared page once, with its split by role, and the summed RSS beside it.
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


from ingest_replay import CORPUS, build  # noqa: E402
from perfdoc import measured, numbers, publish, run_figures  # noqa: E402

ROLES = (("uvicorn", "Prefect API"), ("forkserver import main", "fork server / extraction"), ("", "run"))


def tree_memory(root: int) -> dict[str, tuple[int, int]]:
    """Per role in `root`'s process tree (the run, its extraction processes, Prefect's API
    server): (RSS, PSS) in bytes, from Linux /proc. RSS counts a page shared by several
    processes (forked workers share most of theirs) once per process; PSS splits it between
    them, so PSS adds up to what the tree really takes."""
    def children(pid: int) -> list[int]:
        found = []
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found += [int(c) for c in f.read().split()]
        return found

    usage: dict[str, tuple[int, int]] = {}
    todo = [root]
    while todo:
        pid = todo.pop()
        try:
            todo.extend(children(pid))
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                command = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{pid}/smaps_rollup") as f:
                fields = {k: int(v.split()[0]) * 1024 for k, v in (line.split(":", 1) for line in f) if k in ("Rss", "Pss")}
        except (OSError, ValueError):
            continue
        role = next(name for marker, name in ROLES if marker in command)
        rss, pss = usage.get(role, (0, 0))
        usage[role] = (rss + fields.get("Rss", 0), pss + fields.get("Pss", 0))
    return usage


def run_once(n: int, tmp: Path) -> dict:
    archive, sources, db = tmp / f"scale-{n}.warc.gz", tmp / f"sources-{n}.toml", tmp / f"scale-{n}.duckdb"
    build(archive, sources, n)
    peak_pss, peak_rss, at_peak = 0, 0, {}
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "flows.cli", "run", "--sources", str(sources), "--replay", str(archive),
                             "--db", str(db)], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak_pss, peak_rss, at_peak
        while not done.is_set():
            usage = tree_memory(proc.pid)
            pss, rss = sum(p for _, p in usage.values()), sum(r for r, _ in usage.values())
            peak_rss = max(peak_rss, rss)
            if pss > peak_pss:
                peak_pss, at_peak = pss, usage
            time.sleep(1.0)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    done.set()
    sampler.join()
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"socwatch run failed at N={n} ({proc.returncode}): {err[-2000:]}")
    flow_s, stored, _ = run_figures(db)
    for path in (archive, db, db.with_name(f"scale-{n}.snapshot.duckdb")):
        path.unlink(missing_ok=True)
    return {"n": n, "stored": stored, "flow_s": flow_s, "wall_s": wall, "peak_pss_mb": peak_pss / 2**20,
            "peak_rss_mb": peak_rss / 2**20, "at_peak_mb": {role: pss / 2**20 for role, (_, pss) in at_peak.items()}}


def markdown(rows: list[dict]) -> str:
    base = rows[0]["flow_s"] / rows[0]["n"]
    lines = [measured(), "",
             "| documents | stored | flow s | ms per document | vs the smallest | wall s | peak PSS, process tree (MB) "
             "| of which: run / extraction / Prefect API | summed RSS (MB) |",
             "|---:|---:|---:|---:|---:|---:|---:|---|---:|"]
    for r in rows:
        per = r["flow_s"] / r["n"]
        split = " / ".join(f"{r['at_peak_mb'].get(role, 0):.0f}" for role in ("run", "fork server / extraction", "Prefect API"))
        lines.append(f"| {r['n']:,} | {r['stored']:,} | {r['flow_s']:.1f} | {per * 1000:.2f} | {per / base - 1:+.0%} | "
                     f"{r['wall_s']:.1f} | {r['peak_pss_mb']:.0f} | {split} | {r['peak_rss_mb']:.0f} |")
    lines += ["", "PSS (proportional set size) counts each memory page once for the whole tree; summed RSS "
                  "counts the pages the forked extraction processes share with their fork server once per process, "
                  "so it overstates what the tree takes."]
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
