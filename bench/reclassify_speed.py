"""Benchmark: `reclassify` over N stored articles (default 100,000).

    uv run python bench/reclassify_speed.py [N] [--gold] [--one-moment]

Fills a fresh warehouse with N articles made from the corpus texts (../shared/corpus/texts,
about 6,300 distinct ones, repeated), bulk loaded, published PER_DAY a day as
bench/events_cost.py fills its own (100,000 articles: six months), then times the reclassify
flow re-tagging all of them (process pool, one transaction per batch of 2,000) and linking
them again into events. `--one-moment` gives them all one time, as the benchmark did before
8 December 2026: every article is then a linking candidate of every other, which no real
warehouse's window holds. `--gold` makes them of the 144 dev gold texts instead, as before
7 December 2026: each text then recurs every 144 articles, and linking events, which
compares near-copies, has hundreds of copies of each to weigh.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import polars as pl  # noqa: E402
from perfdoc import run_figures  # noqa: E402
from gold_texts import corpus_texts, dev_gold  # noqa: E402

import flows  # noqa: E402,F401
from warehouse.db import connect  # noqa: E402
from warehouse.load import register  # noqa: E402


PER_DAY = 550  # as bench/events_cost.py: a few hundred newsrooms' announcements a day


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 100_000
    docs = dev_gold() if "--gold" in sys.argv else corpus_texts()
    now = datetime.now(UTC)
    frame = pl.DataFrame({
        "article_id": [f"{i:020x}" for i in range(n)],
        "url": [f"https://bench.example/{i}" for i in range(n)],
        "source": ["bench"] * n,
        "title": [docs[i % len(docs)]["title"] or "t" for i in range(n)],
        "text": [docs[i % len(docs)]["text"] or "t" for i in range(n)],
        "language": ["en"] * n,
        "content_hash": ["0" * 64] * n,
        "published_at": [None if "--one-moment" in sys.argv else now - timedelta(days=(n - i) / PER_DAY) for i in range(n)],
    }, schema_overrides={"published_at": pl.Datetime("us", "UTC")})
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        con = connect(db)
        con.execute("INSERT INTO sources (source, kind, url, country, language, title, first_seen_at, last_seen_at) VALUES ('bench', 'feed', 'https://bench.example/feed', 'GB', 'en', NULL, ?, ?)", [now, now])
        register(con, "bench_articles", frame)
        con.execute("INSERT INTO articles (article_id, url, source, title, text, language, content_hash, first_seen_at, "
                    "last_seen_at, last_run_id, published_at) SELECT * EXCLUDE (published_at), ?, ?, 'bench', published_at "
                    "FROM bench_articles", [now, now])
        con.close()
        from flows.reclassify import run_reclassify

        started = time.perf_counter()
        summary = run_reclassify(db)
        wall = time.perf_counter() - started
        flow_s, _, _ = run_figures(db, summary["run_id"])
        con = connect(db, read_only=True)
        themes = con.execute("SELECT count(*) FROM article_themes").fetchone()[0]
        con.close()
    print(f"\nreclassify {summary['reclassified']:,} stored articles: flow {flow_s:.1f} s "
          f"({summary['reclassified'] / flow_s:,.0f} articles/s), wall {wall:.1f} s with Prefect start-up; {themes:,} theme rows")


if __name__ == "__main__":
    main()
