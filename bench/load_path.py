"""Benchmark: the stages after fetching, one by one, on N real news pages.

    uv run python bench/load_path.py [N] [--write]        # N = 50000

Pages are copies of the 181 real pages of ../shared/corpus/benchmark/scrapinghub_aeb (each
made distinct), handed over as fetched pages (no HTTP, no Prefect), in batches of 100 as the
flow makes them:
- extraction + classification in a pool of one process per core (the flow's process_pages),
  timed on the first EXTRACTED (2,000) pages: its cost per page does not depend on N;
- classification alone on one core, over those texts;
- validation (pandera, in build_batch) and the load (load_batch: one DuckDB transaction per
  batch, Arrow frames in, no row-by-row inserts) of all N documents, timed per statement and
  summed per table. Beyond the extracted pages, each document is an extracted one given a URL,
  an id and a closing sentence of its own (so a distinct article, text and content hash).
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
EXTRACTED = 2000
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


def distinct(processed, i: int):
    """The i-th document of the load: an extracted page under a URL, id and last line of its own."""
    from dataclasses import replace

    from transforms.documents import content_hash
    from transforms.urls import article_id

    url = f"https://bench.socwatch.example/news/{i:06d}"
    a_id = article_id(url)
    text = f"{processed.article.text}\nBench document {i}."
    article = replace(processed.article, article_id=a_id, url=url, text=text,
                      content_hash=content_hash(processed.article.title, text))
    return replace(processed, fetched_url=url, article=article, tags=replace(processed.tags, article_id=a_id))


def measure(n: int) -> dict:
    from schemas.records import Fetched, Status
    from flows.validate import build_batch
    from transforms.classify import classify, score_bounds
    from transforms.vocabulary import vocabulary
    from flows.process import process_pages
    from warehouse.db import connect
    from warehouse.ledger import start_run
    from warehouse.load import load_batch

    extracted = min(n, EXTRACTED)
    items = pages(extracted)
    batches = [items[i : i + BATCH] for i in range(0, extracted, BATCH)]
    workers = os.cpu_count() or 1
    started = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        processed = [p for part in pool.map(process_pages, batches) for p in part]
    extract_s = time.perf_counter() - started

    vocab = vocabulary()
    texts = [(p.article.article_id, p.article.title, p.article.text) for p in processed if p.article]
    started = time.perf_counter()
    for a_id, title, text in texts:
        classify(a_id, title, text, "GB", vocab)
    classify_s = time.perf_counter() - started

    good = [p for p in processed if p.article]
    validate_s = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        raw = connect(Path(tmp) / "load.duckdb")
        con = TimedConnection(raw)
        start_run(raw, "bench", "ingest")
        load_started = time.perf_counter()
        for first in range(0, n, BATCH):
            docs = [distinct(good[i % len(good)], i) for i in range(first, min(n, first + BATCH))]
            fetched = [Fetched("bench", d.fetched_url, Status.FETCHED, content_type="text/html; charset=utf-8", http_status=200,
                               cache_url=d.fetched_url) for d in docs]
            t = time.perf_counter()
            built = build_batch(fetched, docs, score_bounds(vocab))
            validate_s += time.perf_counter() - t
            load_batch(con, "bench", built.frames, built.rejects, built.seen_unchanged)
        load_s = time.perf_counter() - load_started - validate_s
        rows = {table: raw.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in con.seconds
                if not table.startswith("(")}
        [quarantined] = raw.execute("SELECT count(*) FROM quarantine").fetchone()
        raw.close()
    return {"n": n, "extracted": extracted, "articles": len(texts), "workers": workers, "extract_s": extract_s,
            "classify_s": classify_s, "validate_s": validate_s, "load_s": load_s, "per_table": dict(con.seconds),
            "rows": rows, "quarantined": quarantined}


def markdown(r: dict) -> str:
    n, extracted = r["n"], r["extracted"]
    per_doc = {"extract": r["extract_s"] / extracted, "validate": r["validate_s"] / n, "load": r["load_s"] / n}
    lines = [measured(), "",
             "| stage | documents | seconds | documents/s |", "|---|---:|---:|---:|",
             f"| extraction + classification, {r['workers']} processes | {extracted:,} | {r['extract_s']:.1f} | {extracted / r['extract_s']:.0f} |",
             f"| classification alone, one core | {r['articles']:,} | {r['classify_s']:.1f} | {r['articles'] / r['classify_s']:,.0f} |",
             f"| validation (pandera, every table of a batch) | {n:,} | {r['validate_s']:.1f} | {n / r['validate_s']:,.0f} |",
             f"| load into DuckDB (one transaction per batch of {BATCH}) | {n:,} | {r['load_s']:.1f} | {n / r['load_s']:,.0f} |",
             "",
             f"Validation is {r['validate_s'] / (r['validate_s'] + r['load_s']):.0%} of validate + load; per document "
             f"it is {per_doc['validate'] / sum(per_doc.values()):.0%} of the three stages' time. "
             f"Rows quarantined: {r['quarantined']}.",
             "", "| table | rows | seconds | rows/s |", "|---|---:|---:|---:|"]
    for table, seconds in sorted(r["per_table"].items(), key=lambda kv: -kv[1]):
        count = r["rows"].get(table)
        lines.append(f"| {table} | {count if count is not None else ''} | {seconds:.2f} | "
                     f"{(f'{count / seconds:,.0f}' if count and seconds else '')} |")
    return "\n".join(lines)


def main() -> None:
    [n] = numbers([50000])[:1]
    if not CORPUS.exists():
        sys.exit(f"needs {CORPUS}")
    publish("load_path", markdown(measure(n)))


if __name__ == "__main__":
    main()
