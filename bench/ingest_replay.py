"""Benchmark: the whole ingest flow over a WARC of N real news pages, replayed offline.

    uv run python bench/ingest_replay.py [N] [RUNNER] [WORKERS]
        N = 1000 pages; RUNNER = default (local process pool) or dask (a local Dask
        cluster of WORKERS worker processes, default 2)

Pages come from ../shared/corpus/benchmark/scrapinghub_aeb (181 real pages), each copy made
distinct; one RSS feed lists them all. Prints the flow's own time (runs.finished_at -
started_at: discovery, fetch from WARC, extraction + classification in the process pool,
validation, load), the wall time with Prefect's start-up, pages/s, and a second, unchanged run.
"""

from __future__ import annotations

import gzip
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from perfdoc import run_figures  # noqa: E402

from flows.warc import WarcRecorder  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpus" / "benchmark" / "scrapinghub_aeb" / "html"
HOST = "bench.socwatch.example"


def build(archive: Path, sources: Path, n: int) -> None:
    pages = [gzip.decompress(p.read_bytes()) for p in sorted(CORPUS.glob("*.html.gz"))]
    items = []
    with WarcRecorder(archive) as recorder:
        for i in range(n):
            url = f"https://{HOST}/news/{i:06d}"
            body = pages[i % len(pages)].replace(b"</body>", f"<p>Bench copy {i}.</p></body>".encode(), 1)
            recorder.write_response(url, 200, "OK", [("Content-Type", "text/html; charset=utf-8")], body)
            items.append(f"<item><title>Item {i}</title><link>{url}</link></item>")
        feed = f"<?xml version='1.0'?><rss version='2.0'><channel><title>bench</title>{''.join(items)}</channel></rss>"
        recorder.write_response(f"https://{HOST}/feed.xml", 200, "OK", [("Content-Type", "application/rss+xml")], feed.encode())
    sources.write_text(f'[[sources]]\nname = "bench"\nkind = "feed"\nurl = "https://{HOST}/feed.xml"\n'
                       f'country = "GB"\nlanguage = "en"\n')


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    runner = sys.argv[2] if len(sys.argv) > 2 else "default"
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    if not CORPUS.exists():
        sys.exit(f"needs {CORPUS}")
    from flows.ingest import IngestOptions, run_ingest

    options = IngestOptions(task_runner=runner, dask_workers=workers)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        archive, sources, db = tmp / "bench.warc.gz", tmp / "sources.toml", tmp / "bench.duckdb"
        build(archive, sources, n)
        rows = []
        for label in ("first run", "second run (unchanged)"):
            started = time.perf_counter()
            summary = run_ingest(sources, db, replay=[archive], options=options)
            wall = time.perf_counter() - started
            flow_s, _, _ = run_figures(db, summary["run_id"])
            rows.append((label, summary["totals"]["new"], summary["totals"]["unchanged"], flow_s, wall, n / flow_s))
    where = f"dask, a local cluster of {workers} workers" if runner == "dask" else "default runner"
    print(f"\ningest over a replayed WARC of {n} real news pages, {os.cpu_count()} cores, {where}")
    print(f"{'run':<24}{'new':>6}{'same':>6}{'flow s':>9}{'wall s':>9}{'pages/s':>9}")
    for label, new, same, flow_s, wall, rate in rows:
        print(f"{label:<24}{new:>6}{same:>6}{flow_s:>9.1f}{wall:>9.1f}{rate:>9.1f}")


if __name__ == "__main__":
    main()
