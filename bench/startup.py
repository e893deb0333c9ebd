"""Benchmark: whole `socwatch run` commands, a first run and unchanged re-runs (issue 17).

    uv run python bench/startup.py [N] [--keep-only] [--reruns=K]     # default 400 pages, 2 re-runs

N real news pages (../shared/corpus/benchmark/scrapinghub_aeb, as bench/crawl_politeness.py
serves them, no latency) in one feed on 127.0.0.1. For each way of getting a Prefect API, a
new Prefect home and warehouse, then commands one after the other: the first run
(N new pages) and K unchanged re-runs (2 unless --reruns says otherwise). Prints the first
command's wall time and the re-runs' median and range, each with how long it took until its
flow began (the run's `started_at` in the warehouse), then the kept server's memory.

- `api_keep_s=0`: each command starts Prefect's temporary API and stops it (socwatch before
  the kept API);
- `api_keep_s=600`: the default; the first command starts the kept API, the others find it;
- `api_keep_s=600, uv run`: the same, each command typed as the README shows it
  (`uv run socwatch run ...`): uv's check of the environment comes on top.

The home's first server migrates Prefect's database (a few seconds, once per home): every way
pays it in its first command. `--keep-only` leaves out the first row; the `uv run` row needs
uv on the PATH, as `uv run python bench/startup.py` has it. The kept server is stopped at the
end (SIGTERM to the process its record names).
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import duckdb  # noqa: E402
from crawl_politeness import CORPUS, copies, serve_feed, sources_toml  # noqa: E402

from flows.prefect_api import RECORD  # noqa: E402


def site(n: int) -> tuple[object, str]:
    httpd, _, base = serve_feed(copies(n))
    return httpd, base


def flow_began(db: Path) -> datetime:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT started_at FROM runs ORDER BY started_at DESC LIMIT 1").fetchone()[0]
    finally:
        con.close()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def commands(base: str, keep_s: float, tmp: Path, via_uv: bool = False, reruns: int = 2) -> tuple[list[tuple[float, float]], float | None]:
    name = f"{keep_s:g}{'-uv' if via_uv else ''}"
    home, db, sources = tmp / f"prefect-{name}", tmp / f"w-{name}.duckdb", tmp / "sources.toml"
    sources.write_text(sources_toml(base), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "SOCWATCH_"))}
    env.update(PREFECT_HOME=str(home), SOCWATCH_API_KEEP_S=f"{keep_s:g}")
    socwatch = ["uv", "run", "--project", str(REPO), "socwatch"] if via_uv else [sys.executable, "-m", "flows.cli"]
    times = []
    for _ in range(1 + reruns):
        started_wall, started = datetime.now(UTC), time.perf_counter()
        done = subprocess.run([*socwatch, "run", "--sources", str(sources), "--db", str(db)],
                              env=env, capture_output=True, text=True, cwd=tmp)
        wall = time.perf_counter() - started
        assert done.returncode == 0, done.stdout + done.stderr
        times.append((wall, (flow_began(db) - started_wall).total_seconds()))
    memory = None
    if (home / RECORD).exists():
        pid = json.loads((home / RECORD).read_text())["pid"]
        memory = rss_mb(pid)
        os.kill(pid, signal.SIGTERM)
    return times, memory


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 400
    reruns = next((int(a.split("=", 1)[1]) for a in sys.argv[1:] if a.startswith("--reruns=")), 2)
    if reruns < 1:
        sys.exit("--reruns=K needs K >= 1")
    if not CORPUS.exists():
        sys.exit(f"needs {CORPUS}")
    httpd, base = site(n)
    print(f"{n} pages, whole `socwatch run` commands: seconds (of which before the flow began)")
    print(f"{'Prefect API':<26}{'first run':>16}{'re-runs, median':>24}{'re-runs, range':>24}{'first/re-run':>14}{'server RSS MB':>15}")
    ways = [(600.0, False), (600.0, True)] if "--keep-only" in sys.argv else [(0.0, False), (600.0, False), (600.0, True)]
    with tempfile.TemporaryDirectory() as tmp:
        for keep_s, via_uv in ways:
            times, memory = commands(base, keep_s, Path(tmp), via_uv, reruns)
            (first_wall, first_began), again = times[0], times[1:]
            walls, begans = sorted(w for w, _ in again), sorted(b for _, b in again)
            median = statistics.median(walls)
            label = f"api_keep_s={keep_s:g}{', uv run' if via_uv else ''}"
            print(f"{label:<26}{f'{first_wall:.2f} ({first_began:.2f})':>16}"
                  f"{f'{median:.2f} ({statistics.median(begans):.2f})':>24}"
                  f"{f'{walls[0]:.2f}-{walls[-1]:.2f} ({begans[0]:.2f}-{begans[-1]:.2f})':>24}"
                  f"{first_wall / median:>13.1f}x{(f'{memory:.0f}' if memory else '-'):>15}")
    httpd.shutdown()


if __name__ == "__main__":
    main()
