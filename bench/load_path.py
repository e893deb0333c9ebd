"""Benchmark: the stages after fetching, one by one, on N real news pages.

    uv run python bench/load_path.py [N] [--write]        # N = 5000

Pages are copies of the 181 real pages of ../shared/corpus/benchmark/scrapinghub_aeb (each
made distinct), handed over as fetched pages (no HTTP, no Prefect), in batches of 100 as the
flow makes them:
- extraction + classification in a pool of one process per core (the flow's process_pages);
- classification alone on one core, over the extracted texts;
- validation (pandera, in build_batch) and the load (load_batch: one DuckDB transaction per
  batch, Arrow frames in, no row-by-row inserts), timed per statement and summed per table.
--write puts the tables into docs/performance.md (between its markers for this benchmark).
"""

from __future__ import annotations

import gzip
import os
import re
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from ingest_replay import CORPUS  # noqa: E402
from perfdoc import measured, numbers, publish  # noqa: E402

BATCH = 100
_TABLE = re.compile(r"^\s*(?:INSERT INTO|UPDATE|DELETE FROM)\s+(\w+)", re.IGNORECASE)


class TimedConnection:
    """A DuckDB connection that adds the time of each statement to the table it writes."""

    def __init__(self, con):
        self._con = con
        self.seconds: dict[str, float] = defaultdict(float)

    def execute(self, sql, *args):
        started = time.perf_counter()
        try:
            return self._con.execute(sql, *args)
        finally:
            m = _TABLE.match(sql)
            self.seconds[m.group(1) if m else "(transaction and reads)"] += time.perf_counter() - started

    def __getattr__(self, name):
        return getattr(self._con, name)


def pages(n: int):
    from schemas.records import FeedEntry, Fetched, Source, Status

    originals = [gzip.decompress(p.read_bytes()) for p in sorted(CORPUS.glob("*.html.gz"))]
    source = Source("bench", "feed", "https://bench.socwatch.example/feed.xml", "GB", "en", ("bench.socwatch.example",))
    out = []
    for i in range(n):
        url = f"https://bench.socwatch.example/news/{i:06d}"
        body = originals[i % len(originals)].replace(b"</body>", f"<p>Bench copy {i}.</p></body>".encode(), 1)
        out.append((Fetched("bench", url, Status.FETCHED, body=body, content_type="text/html; charset=utf-8", http_status=200,
                            cache_url=url), FeedEntry("bench", url), source))
    return out


def measure(n: int) -> dict:
    from flows.batches import build_batch
    from transforms.classify import classify, default_vocabulary
    from transforms.process import process_pages
    from warehouse.db import connect
    from warehouse.load import load_batch, start_run

    items = pages(n)
    batches = [items[i : i + BATCH] for i in range(0, n, BATCH)]
    workers = os.cpu_count() or 1
    started = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        processed = [p for part in pool.map(process_pages, batches) for p in part]
    extract_s = time.perf_counter() - started

    vocab = default_vocabulary()
    texts = [(p.article.article_id, p.article.title, p.article.text) for p in processed if p.article]
    started = time.perf_counter()
    for a_id, title, text in texts:
        classify(a_id, title, text, "GB", vocab)
    classify_s = time.perf_counter() - started

    validate_s = 0.0
    by_url = {p.fetched_url: p for p in processed}
    with tempfile.TemporaryDirectory() as tmp:
        raw = connect(Path(tmp) / "load.duckdb")
        con = TimedConnection(raw)
        start_run(raw, "bench", "ingest")
        load_started = time.perf_counter()
        for batch in batches:
            fetched = [f for f, _, _ in batch]
            t = time.perf_counter()
            built = build_batch(fetched, [by_url[f.url] for f in fetched])
            validate_s += time.perf_counter() - t
            load_batch(con, "bench", built.frames, built.rejects, built.seen_unchanged)
        load_s = time.perf_counter() - load_started - validate_s
        rows = {table: raw.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in con.seconds
                if not table.startswith("(")}
        raw.close()
    return {"n": n, "articles": len(texts), "workers": workers, "extract_s": extract_s, "classify_s": classify_s,
            "validate_s": validate_s, "load_s": load_s, "per_table": dict(con.seconds), "rows": rows}


def markdown(r: dict) -> str:
    n = r["n"]
    lines = [measured(), "",
             "| stage | seconds | documents/s |", "|---|---:|---:|",
             f"| extraction + classification, {r['workers']} processes | {r['extract_s']:.1f} | {n / r['extract_s']:.0f} |",
             f"| classification alone, one core | {r['classify_s']:.1f} | {r['articles'] / r['classify_s']:,.0f} |",
             f"| validation (pandera, every table of a batch) | {r['validate_s']:.1f} | {n / r['validate_s']:,.0f} |",
             f"| load into DuckDB (one transaction per batch of {BATCH}) | {r['load_s']:.1f} | {n / r['load_s']:,.0f} |",
             "",
             f"Validation is {r['validate_s'] / (r['validate_s'] + r['load_s']):.0%} of validate + load, and "
             f"{r['validate_s'] / (r['extract_s'] + r['validate_s'] + r['load_s']):.0%} of the three stages' time.",
             "", "| table | rows | seconds | rows/s |", "|---|---:|---:|---:|"]
    for table, seconds in sorted(r["per_table"].items(), key=lambda kv: -kv[1]):
        count = r["rows"].get(table)
        lines.append(f"| {table} | {count if count is not None else ''} | {seconds:.2f} | "
                     f"{(f'{count / seconds:,.0f}' if count and seconds else '')} |")
    return "\n".join(lines)


def main() -> None:
    [n] = numbers([5000])[:1]
    if not CORPUS.exists():
        sys.exit(f"needs {CORPUS}")
    publish("load_path", markdown(measure(n)))


if __name__ == "__main__":
    main()
