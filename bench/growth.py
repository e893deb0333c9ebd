"""Benchmark: what a scheduled run costs as the warehouse grows (issue 17).

    uv run python bench/growth.py [N ...] [--rebuild-every-run] [--dir=PATH] [--format=VERSION]

For each N (default 0 and 100,000): a warehouse of N articles made from the corpus texts
(../shared/corpus/texts, about 6,300 distinct ones, repeated), bulk loaded and indexed once, as
a warehouse a long series of runs has filled; then a run that finds 20 new pages on a loopback
site, and the same run again (nothing new). Prints the flow time (the `runs` row), the whole
call, what the 20-article run wrote to storage, and the files' sizes. `--format=v1.0.0` makes
the warehouse file in DuckDB's default storage format, as socwatch made them before 7 December
2026 (texts uncompressed), for the comparison with socwatch's own (warehouse/db.py
STORAGE_VERSION).
`--rebuild-every-run` makes each run rebuild the search index (as socwatch did before the
index had a tail, and before runs folded their articles into it), for the comparison. `--dir` puts the warehouses in PATH (a filesystem of
your choice: the snapshot is a clone where it shares blocks between files, a copy elsewhere);
"disk MB" is how much the filesystem's used space grew, warehouse, snapshot and all (the whole
filesystem's: run it where nothing else writes), and "x data" that over the warehouse file's size.
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import duckdb  # noqa: E402
import polars as pl  # noqa: E402
from crawl_politeness import serve_feed, sources_toml  # noqa: E402
from gold_texts import corpus_texts  # noqa: E402
from perfdoc import run_figures  # noqa: E402

import flows  # noqa: E402,F401
from warehouse import search  # noqa: E402
from warehouse.db import connect  # noqa: E402
from warehouse.load import register  # noqa: E402

NEW_PAGES = 20
WORDS = ("police", "customs", "cocaine", "port", "seized", "network", "prosecutor", "charged", "money", "laundering",
         "firearms", "border", "officers", "investigation", "arrested", "suspects", "container", "tonnes")


def fill(db: Path, n: int, storage: str | None = None) -> None:
    """N stored articles, their versions seen a day ago, and the index built over them; the
    file made in the storage format `storage` (None: socwatch's own)."""
    docs = corpus_texts()
    then = datetime.now(UTC) - timedelta(days=1)
    if storage:
        duckdb.connect(str(db), config={"storage_compatibility_version": storage}).close()
    con = connect(db)
    con.execute("INSERT INTO sources (source, kind, url, country, language, title, first_seen_at, last_seen_at) "
                "VALUES ('bench', 'feed', 'https://bench.example/feed', 'GB', 'en', NULL, ?, ?)", [then, then])
    step = 100_000
    for start in range(0, n, step):
        rows = range(start, min(n, start + step))
        register(con, "bench_articles", pl.DataFrame({
            "article_id": [f"{i:020x}" for i in rows], "url": [f"https://bench.example/{i}" for i in rows],
            "source": ["bench"] * len(rows), "title": [docs[i % len(docs)]["title"] or "t" for i in rows],
            "text": [docs[i % len(docs)]["text"] or "t" for i in rows], "language": ["en"] * len(rows),
            "content_hash": [f"{i:064x}" for i in rows]}))
        con.execute("INSERT INTO articles (article_id, url, source, title, text, language, content_hash, first_seen_at, "
                    "last_seen_at, last_run_id) SELECT *, ?, ?, 'bench' FROM bench_articles", [then, then])
        con.execute("INSERT INTO article_versions (article_id, content_hash, title, seen_at, run_id) "
                    "SELECT article_id, content_hash, title, ?, 'bench' FROM bench_articles", [then])
        con.unregister("bench_articles")
    if n:
        search.rebuild_index(con)
        con.execute("UPDATE search_index_state SET built_at = ?", [then + timedelta(seconds=1)])
    con.execute("CHECKPOINT")
    con.close()


def site() -> tuple[object, str]:
    """The loopback site: a feed of NEW_PAGES pages (crawl_politeness.serve: ETags, no latency)."""
    pages = {f"/news/{i}": (f"<html lang='en'><head><title>Seizure {i}</title></head><body><article><h1>Seizure {i}</h1><p>"
                            + " ".join(f"The {WORDS[(i + k) % len(WORDS)]} of case {i} was in the news ({k})." for k in range(40))
                            + "</p></article></body></html>").encode() for i in range(NEW_PAGES)}
    server, _, url = serve_feed(pages)
    return server, url


def written() -> int:
    """Bytes this process has had written to storage (Linux's /proc/self/io; 0 elsewhere):
    the 20-article run's database writes, its checkpoint's and the snapshot's."""
    try:
        with open("/proc/self/io") as io:
            return next(int(line.split()[1]) for line in io if line.startswith("write_bytes"))
    except OSError:
        return 0


def searched(db: Path) -> float:
    """The best of three searches on the readers' snapshot, seconds: index and tail (the 20 new articles)."""
    con = connect(db, read_only=True)
    try:
        best = math.inf
        for _ in range(3):
            started = time.perf_counter()
            search.search(con, "cocaine seized at the port")
            best = min(best, time.perf_counter() - started)
        return best
    finally:
        con.close()


def mb(path: Path) -> float:
    return path.stat().st_size / 1e6 if path.exists() else 0.0


def used_mb(folder: Path) -> float:
    """The used space of the filesystem that holds `folder` (shared blocks counted once)."""
    fs = os.statvfs(folder)
    return (fs.f_blocks - fs.f_bfree) * fs.f_frsize / 1e6


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    where = next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--dir=")), None)
    storage = next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--format=")), None)
    sizes = [int(a) for a in args] or [0, 100_000]
    from flows import ingest
    from flows.ingest import run_ingest

    if "--rebuild-every-run" in sys.argv:
        ingest.index_needs_rebuild = lambda con: True

    server, url = site()
    print(f"{'articles':>10} {'build s':>8} {'run: flow s':>12} {'call s':>7} {'rerun: flow s':>14} {'call s':>7} "
          f"{'written MB':>11} {'db MB':>7} {'snapshot MB':>12} {'disk MB':>8} {'x data':>7} {'search s':>9}")
    for n in sizes:
        with tempfile.TemporaryDirectory(dir=where) as tmp:
            before = used_mb(Path(tmp))
            db, sources = Path(tmp) / "w.duckdb", Path(tmp) / "sources.toml"
            sources.write_text(sources_toml(url, "bench-site"), encoding="utf-8")
            started = time.perf_counter()
            fill(db, n, storage)
            build = time.perf_counter() - started
            timings = []
            for _ in range(2):
                started, wrote = time.perf_counter(), written()
                summary = run_ingest(sources, db)
                call = time.perf_counter() - started
                flow_s, _, _ = run_figures(db, summary["run_id"])
                timings.append((flow_s, call, summary["totals"]["new"], (written() - wrote) / 1e6))
            (flow1, call1, new1, wrote1), (flow2, call2, new2, _) = timings
            assert new1 == NEW_PAGES and new2 == 0, timings
            os.sync()
            disk = used_mb(Path(tmp)) - before
            print(f"{n:>10,} {build:>8.1f} {flow1:>12.1f} {call1:>7.1f} {flow2:>14.1f} {call2:>7.1f} {wrote1:>11.0f} "
                  f"{mb(db):>7.0f} {mb(db.with_name('w.snapshot.duckdb')):>12.0f} {disk:>8.0f} {disk / mb(db):>7.2f} "
                  f"{searched(db.with_name('w.snapshot.duckdb')):>9.2f}")
    server.shutdown()


if __name__ == "__main__":
    main()
