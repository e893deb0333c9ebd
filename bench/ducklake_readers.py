"""Benchmark: readers without a copy, through DuckLake (issue 17's direction for the disk).

    uv run --group bench python bench/ducklake_readers.py [N] [--runs=K]

Not socwatch's warehouse: a measurement for choosing its next storage. The same N articles
(the corpus texts, each made distinct by its number, so that neither format gains from
repeats) are stored twice:

- in a DuckDB file as socwatch makes it (storage format v1.2.0, texts compressed);
- in a DuckLake: a SQLite catalog (which several local processes may open at once) and
  Parquet data files compressed with zstd.

Then K runs of 20 new articles and one changed one are committed to the lake, each by a process
of its own, while a reader process keeps the lake attached and counts the articles once a
second. Printed: the sizes, each run's time and its commit's, whether a run waited for the
reader, and whether the reader saw each run's articles (all or none of them) at once.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import duckdb  # noqa: E402
import polars as pl  # noqa: E402
from duckdb_extensions import import_extension  # noqa: E402
from gold_texts import corpus_texts  # noqa: E402

from warehouse.load import register  # noqa: E402

NEW = 20
STEP = 100_000


def lake(folder: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for name in ("ducklake", "sqlite_scanner"):
        import_extension(name, con=con)
    mode = ", READ_ONLY" if read_only else ""
    con.execute(f"ATTACH 'ducklake:sqlite:{folder / 'catalog.sqlite'}' AS lake (DATA_PATH '{folder / 'data'}/'{mode})")
    return con


def rows(docs: list[dict], start: int, stop: int) -> pl.DataFrame:
    r = range(start, stop)
    return pl.DataFrame({"article_id": [f"{i:020x}" for i in r], "url": [f"https://bench.example/{i}" for i in r],
                         "title": [docs[i % len(docs)]["title"] or "t" for i in r],
                         "text": [f"{i} {docs[i % len(docs)]['text']}" for i in r]})


def fill(folder: Path, n: int) -> dict[str, float]:
    docs = corpus_texts()
    (folder / "data").mkdir(parents=True)
    file = duckdb.connect(str(folder / "w.duckdb"), config={"storage_compatibility_version": "v1.2.0"})
    con = lake(folder)
    con.execute("CALL lake.set_option('parquet_compression', 'zstd')")
    table = "(article_id VARCHAR, url VARCHAR, title VARCHAR, text VARCHAR, last_seen_at TIMESTAMPTZ)"
    file.execute(f"CREATE TABLE articles {table}")
    con.execute(f"CREATE TABLE lake.articles {table}")
    took = {"duckdb": 0.0, "ducklake": 0.0}
    for start in range(0, n, STEP):
        batch = rows(docs, start, min(n, start + STEP))
        for name, target, into in (("duckdb", file, "articles"), ("ducklake", con, "lake.articles")):
            began = time.perf_counter()
            register(target, "batch", batch)
            target.execute(f"INSERT INTO {into} SELECT *, now() FROM batch")
            target.unregister("batch")
            took[name] += time.perf_counter() - began
    file.execute("CHECKPOINT")
    file.close()
    con.close()
    return took


def one_run(folder: Path) -> None:
    """A run's writes: NEW new articles and a changed one, one transaction; prints its times."""
    began = time.perf_counter()
    con = lake(folder)
    opened = time.perf_counter()
    con.execute("BEGIN")
    base = con.execute("SELECT count(*) FROM lake.articles").fetchone()[0]
    con.execute("INSERT INTO lake.articles SELECT printf('%020x', ?::BIGINT + i), 'https://bench.example/new/' || i, "
                "'Seizure ' || i, repeat('The cocaine was seized at the port. ', 60), now() FROM range(?) t(i)", [base, NEW])
    con.execute("UPDATE lake.articles SET last_seen_at = now() WHERE article_id = printf('%020x', 5)")
    committing = time.perf_counter()
    con.execute("COMMIT")
    done = time.perf_counter()
    con.close()
    print(json.dumps({"open": opened - began, "commit": done - committing, "run": done - began, "rows": base + NEW}))


def reader(folder: Path, seconds: float) -> None:
    """Keeps the lake attached; counts the articles once a second."""
    con = lake(folder, read_only=True)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        began = time.perf_counter()
        n = con.execute("SELECT count(*) FROM lake.articles").fetchone()[0]
        print(json.dumps({"at": time.time(), "rows": n, "query": time.perf_counter() - began}), flush=True)
        time.sleep(1)


def used(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] in ("--one-run", "--reader"):
        folder = Path(sys.argv[2])
        one_run(folder) if sys.argv[1] == "--one-run" else reader(folder, float(sys.argv[3]))
        return
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 100_000
    runs = next((int(a.split("=", 1)[1]) for a in sys.argv[1:] if a.startswith("--runs=")), 5)
    with tempfile.TemporaryDirectory(prefix="ducklake-") as tmp:
        folder = Path(tmp)
        took = fill(folder, n)
        duck_mb = (folder / "w.duckdb").stat().st_size / 1e6
        (folder / "w.duckdb").unlink()
        lake_mb = used(folder)
        watcher = subprocess.Popen([sys.executable, __file__, "--reader", str(folder), str(runs * 3 + 6)],
                                   stdout=subprocess.PIPE, text=True)
        time.sleep(3)  # attached, counting
        results = []
        for _ in range(runs):
            began = time.time()
            out = subprocess.run([sys.executable, __file__, "--one-run", str(folder)], capture_output=True, text=True, check=True)
            results.append({**json.loads(out.stdout), "began": began, "ended": time.time()})
            time.sleep(2)
        seen = [json.loads(line) for line in watcher.communicate()[0].splitlines()]
        files = len(list((folder / "data").rglob("*.parquet")))
        after_mb = used(folder)
    counts = {r["rows"] for r in seen}
    whole = all(r["rows"] in counts for r in results) and counts <= {n, *(r["rows"] for r in results)}
    print(f"{n:,} articles: DuckDB file (v1.2.0) {duck_mb:,.0f} MB in {took['duckdb']:.1f} s; "
          f"DuckLake (SQLite catalog, Parquet zstd) {lake_mb:,.0f} MB in {took['ducklake']:.1f} s")
    for k, r in enumerate(results, 1):
        print(f"run {k}: {r['run']:.2f} s (attach {r['open']:.2f} s, commit {r['commit']:.3f} s)")
    print(f"the reader, attached throughout: {len(seen)} counts, each {min(r['query'] for r in seen):.3f}-"
          f"{max(r['query'] for r in seen):.3f} s; saw only whole runs: {whole}; saw the last run: {results[-1]['rows'] in counts}")
    print(f"after the runs: {after_mb:,.0f} MB on disk, {files} data files (no copy for the reader)")


if __name__ == "__main__":
    main()
