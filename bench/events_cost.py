"""Benchmark: what linking events costs per new article as the warehouse grows (issue 18).

    uv run python bench/events_cost.py [N ...]      # default: 0 100000 1000000

For each N: a warehouse of N articles published at DAILY a day (so N = 1,000,000 is five
years of about 550 a day, a few hundred newsrooms), oldest first as runs store them, each with a
country acting (one of 30), a theme, a type, a fact and its profile for linking, filled in bulk;
then 20 new articles of the last week are linked (warehouse/events.py, in one transaction as a
load does) five times over. Prints the time per batch and per article, and how many candidates
blocking gave. The cost should follow the articles published in the window (WINDOW_DAYS), which
a longer history does not change, not N.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import polars as pl  # noqa: E402

from warehouse import events  # noqa: E402
from warehouse.db import connect, register, transaction  # noqa: E402

COUNTRIES = ["NL", "BE", "DE", "FR", "ES", "IT", "GB", "US", "CO", "EC", "MX", "BR", "PL", "RO", "AL", "TR", "MA", "IE",
             "PT", "SE", "DK", "NO", "FI", "AT", "CH", "CZ", "HU", "GR", "CA", "AU"]
END = datetime(2026, 11, 30, tzinfo=UTC)
DAILY = 550  # articles published a day
NEW = 20


def fill(con, n: int) -> None:
    if not n:
        return
    start = END - timedelta(days=n / DAILY)
    span = (END - start).total_seconds()
    con.execute(f"""
        INSERT INTO articles (article_id, url, source, title, text, language, published_at, content_hash, first_seen_at,
                              last_seen_at, last_run_id)
        SELECT printf('%020x', i), 'https://bench.example/' || i, 'bench-' || (i % 40), 'Headline ' || i || ' about case ' || (i % 997),
               'text', CASE WHEN i % 3 = 0 THEN 'nl' ELSE 'en' END,
               TIMESTAMPTZ '{start.isoformat()}' + to_seconds(CAST(i AS DOUBLE) * {span / n}),
               printf('%064x', i), now(), now(), 'bench'
        FROM range({n}) t(i)""")
    con.execute("INSERT INTO article_countries SELECT printf('%020x', i), list_extract(?, 1 + (i % 30)) FROM range(?) t(i)", [COUNTRIES, n])
    con.execute("INSERT INTO article_labels SELECT printf('%020x', i), false, 'operation_result', 'bench', now(), 'text' FROM range(?) t(i)", [n])
    con.execute("INSERT INTO article_themes SELECT printf('%020x', i), 'drugs', 5.0, [{'term': 'cocaine', 'count': 1}], 'bench' "
                "FROM range(?) t(i)", [n])
    con.execute("INSERT INTO article_facts SELECT printf('%020x', i), 0, 'drug', 'cocaine', (i % 500) + 1, 'kg', (i % 500) + 1, "
                "NULL, NULL, 'text', 0, 5, 'bench' FROM range(?) t(i)", [n])
    # Their profiles, as linking keeps them (warehouse/events.py batch_profiles).
    con.execute("INSERT INTO event_profiles SELECT a.article_id, a.content_hash, hash(a.article_id), a.published_at, a.source, "
                "a.language, ['headline', 'case', CAST(i % 997 AS VARCHAR)], [list_extract(?, 1 + (i % 30))], ['drugs'], [], "
                "'operation_result', [], [], ['cocaine ' || CAST(round((i % 500) + 1.0, 1) AS VARCHAR)], ? "
                "FROM articles a JOIN (SELECT printf('%020x', i) AS article_id, i FROM range(?) t(i)) r USING (article_id)",
                [COUNTRIES, events.LINK_RULES, n])
    # Linked as runs link them: a pair of releases of one event for every third article (a
    # partner's release or a follow-up), the rest alone.
    con.execute("INSERT INTO event_links SELECT printf('%020x', i), printf('%020x', i + 1), 5.0, ['fact: cocaine 1.0'] "
                "FROM range(0, ? - 1, 3) t(i)", [n])
    con.execute("INSERT INTO event_articles SELECT printf('%020x', i), 'ev-' || printf('%016x', i - (i % 3 = 1)::INT), "
                "CASE WHEN i % 3 = 1 THEN 'partner_release' ELSE 'first_report' END, "
                "CASE WHEN i % 3 = 1 THEN printf('%020x', i - 1) END, [] FROM range(?) t(i)", [n])
    con.execute("CHECKPOINT")


def new_batch(con, n: int, k: int) -> tuple[list[str], dict[str, pl.DataFrame]]:
    """20 new articles stored with their tags, and the tag frames a load would hand to linking."""
    ids = [f"new{n:08d}{k:02d}{i:07d}" for i in range(NEW)]
    when = [END - timedelta(hours=6 * i) for i in range(NEW)]
    frame = pl.DataFrame({"article_id": ids, "when": when, "i": list(range(NEW))},
                         schema={"article_id": pl.Utf8, "when": pl.Datetime("us", "UTC"), "i": pl.Int64})
    register(con, "bench_new", frame)
    con.execute("INSERT INTO articles (article_id, url, source, title, text, language, published_at, content_hash, first_seen_at, "
                "last_seen_at, last_run_id) SELECT article_id, 'https://bench.example/' || article_id, 'bench-new', "
                "'Cocaine seized in the port, case ' || i, 'Officers seized cocaine at the port in case ' || i, 'en', \"when\", "
                "printf('%064x', i + 7), now(), now(), 'bench' FROM bench_new")
    con.execute("INSERT INTO article_countries SELECT article_id, list_extract(?, 1 + (i % 30)) FROM bench_new", [COUNTRIES])
    con.execute("INSERT INTO article_labels SELECT article_id, false, 'operation_result', 'bench', now(), 'text' FROM bench_new")
    con.execute("INSERT INTO article_facts SELECT article_id, 0, 'drug', 'cocaine', i + 1, 'kg', i + 1, NULL, NULL, 'text', 0, 5, "
                "'bench' FROM bench_new")
    con.unregister("bench_new")
    frames = {}
    for table in ("article_countries", "article_labels", "article_facts"):
        cursor = con.execute(f"SELECT * FROM {table} WHERE article_id IN (SELECT unnest(?))", [ids])
        names = [d[0] for d in cursor.description]
        frames[table] = pl.DataFrame(cursor.fetchall(), schema=names, orient="row")
    return ids, frames


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [0, 100_000, 1_000_000]
    print("| articles before | candidates per batch | link 20 new articles (median of 5) | per article |")
    print("|---:|---:|---:|---:|")
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            con = connect(Path(tmp) / "w.duckdb")
            started = time.perf_counter()
            [writers] = con.execute("SELECT current_setting('memory_limit')").fetchone()
            con.execute("SET memory_limit = '4GB'")  # the bulk fill is not what is measured
            fill(con, n)
            con.execute("SET memory_limit = ?", [writers.replace(" ", "")])  # linking: within a writer's limit
            filled = time.perf_counter() - started
            times, candidates = [], 0
            for k in range(5):
                with transaction(con):
                    ids, frames = new_batch(con, n, k)
                    register(con, "bench_ids", pl.DataFrame({"article_id": ids}))
                    t0 = time.perf_counter()
                    events.link_events(con, "bench_ids", frames)
                    times.append(time.perf_counter() - t0)
                    con.unregister("bench_ids")
                    candidates = con.execute(
                        "SELECT count(*) FROM articles a JOIN article_countries c USING (article_id) WHERE a.published_at >= ? "
                        "AND list_contains(?, c.country)", [END - timedelta(days=19 + events.WINDOW_DAYS), COUNTRIES[:NEW]]
                    ).fetchone()[0]
            con.close()
            median = statistics.median(times)
            print(f"| {n:,} | ~{candidates:,} | {median * 1000:.0f} ms | {median / NEW * 1000:.1f} ms |  (filled in {filled:.0f} s)",
                  flush=True)


if __name__ == "__main__":
    main()
