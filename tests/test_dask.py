"""The ingest flow with its fetch and extract stages on a 2-worker Dask LocalCluster
(prefect-dask's DaskTaskRunner) gives the same warehouse as the default runner."""

from __future__ import annotations

import duckdb
import pytest

from conftest import Route, loopback_sources
from flows.distributed import host_batches
from flows.ingest import IngestOptions, run_ingest
from flows.sources import ConfigError
from schemas.records import FeedEntry
from test_ingest_flow import benchmark_pages, rss, seed_page

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.usefixtures("prefect_harness"),
]

# What must be equal: every table's content that does not depend on when or in which run.
COMPARED = {
    "articles": "SELECT url, source, title, text, content_hash, published_at, language FROM articles",
    "article_themes": "SELECT article_id, theme, score, evidence, taxonomy_version FROM article_themes",
    "article_countries": "SELECT * FROM article_countries",
    "article_dyads": "SELECT * FROM article_dyads",
    "article_labels": "SELECT article_id, bilateral, announcement_type FROM article_labels",
    "crawl_events": "SELECT source, url, url_kind, status, http_status FROM crawl_events",
    "quarantine": 'SELECT table_name, "check", record_key FROM quarantine',
}


def snapshot(db) -> dict[str, list]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {name: sorted(map(repr, con.execute(sql).fetchall())) for name, sql in COMPARED.items()}
    finally:
        con.close()


@pytest.fixture
def two_hosts(loopback, tmp_path):
    """Eight real news pages and the seed, served under two host names (127.0.0.1 and localhost)."""
    from datetime import UTC, datetime

    title, seed = seed_page()
    loopback.routes["/news/seed"] = Route(200, seed)
    items = [(title, loopback.url("/news/seed"))]
    for i, page in enumerate(benchmark_pages(8)):
        loopback.routes[f"/news/{i}"] = Route(200, page)
        url = loopback.url(f"/news/{i}")
        items.append((f"Page {i}", url if i % 2 else url.replace("127.0.0.1", "localhost")))
    items.append(("Gone", loopback.url("/news/gone")))
    loopback.routes["/feed.xml"] = Route(200, rss(items, datetime(2026, 3, 24, 12, tzinfo=UTC)),
                                         {"Content-Type": "application/rss+xml"})
    return loopback_sources(tmp_path / "sources.toml", loopback, {"two-hosts": "/feed.xml"})


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_the_dask_runner_gives_the_default_runners_warehouse(two_hosts, tmp_path):
    text = two_hosts.read_text().replace('allowed_hosts = ["127.0.0.1"]', 'allowed_hosts = ["127.0.0.1", "localhost"]')
    two_hosts.write_text(text)
    default = run_ingest(two_hosts, tmp_path / "default.duckdb", options=IngestOptions(batch_size=3, workers=1))
    dask = run_ingest(two_hosts, tmp_path / "dask.duckdb",
                      options=IngestOptions(batch_size=3, task_runner="dask", dask_workers=2))
    assert len(dask["workers"]) == 2 and all(w.startswith("tcp://127.0.0.1:") for w in dask["workers"])
    assert default["workers"] == ["in-process"]
    assert default["totals"] == dask["totals"]
    assert default["totals"]["new"] == 9 and default["totals"]["failed"] == 1
    assert snapshot(tmp_path / "default.duckdb") == snapshot(tmp_path / "dask.duckdb")


def test_batches_for_the_cluster_hold_one_host_each():
    entries = [FeedEntry("s", f"https://{h}/news/{i}") for i in range(5) for h in ("a.example", "b.example")]
    batches = host_batches(entries, 2)
    assert set(batches) == {"a.example", "b.example"}
    assert [len(b) for b in batches["a.example"]] == [2, 2, 1]
    assert all({e.url.split("/")[2] for e in b} == {host} for host, q in batches.items() for b in q)


def test_recording_needs_the_default_runner(tmp_path):
    with pytest.raises(ConfigError, match="--record needs the default task runner"):
        run_ingest(tmp_path / "s.toml", tmp_path / "w.duckdb", record=tmp_path / "x.warc.gz",
                   options=IngestOptions(task_runner="dask"))
