"""End to end: a loopback server with a feed and pages, the real `ingest` flow, a DuckDB file."""

from __future__ import annotations

import gzip
import html
from email.utils import format_datetime
from datetime import UTC, datetime

import pytest

from conftest import CORPUS, SEED, Route, loopback_sources, need_shared, rows
from flows.ingest import IngestOptions, run_ingest
from transforms.urls import article_id

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.usefixtures("prefect_harness"),
    # Prefect 3.9 reads the server's default result storage with a sync API client it never
    # closes (prefect/results.py, _read_server_default_result_storage_block_id): its socket to
    # the test API is reported at garbage collection. Ours are closed; that one is not ours.
]


def seed_page() -> tuple[str, bytes]:
    """The seed announcement, served as a GOV.UK-like page (built at test time, never stored)."""
    lines = [line.strip() for line in need_shared("seed", SEED.name).read_text(encoding="utf-8").splitlines() if line.strip()]
    title, body = lines[0], lines[1:-1]  # the last line is the URL
    paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in body)
    page = (f"<html lang='en'><head><title>{html.escape(title)} - GOV.UK</title></head><body><header><nav>Home</nav></header>"
            f"<main><article><h1>{html.escape(title)}</h1>{paragraphs}</article></main><footer>OGL</footer></body></html>")
    return title, page.encode("utf-8")


def benchmark_pages(n: int) -> list[bytes]:
    folder = CORPUS / "benchmark" / "scrapinghub_aeb" / "html"
    if not folder.exists():
        need_shared("corpus", "benchmark", "scrapinghub_aeb", "html")
    return [gzip.decompress(p.read_bytes()) for p in sorted(folder.glob("*.html.gz"))[:n]]


def rss(items: list[tuple[str, str]], when: datetime) -> bytes:
    entries = "".join(
        f"<item><title>{html.escape(t)}</title><link>{html.escape(u)}</link><pubDate>{format_datetime(when)}</pubDate></item>"
        for t, u in items)
    return f"<?xml version='1.0'?><rss version='2.0'><channel><title>Loopback news</title>{entries}</channel></rss>".encode()


@pytest.fixture
def site(loopback, tmp_path):
    """A feed listing the seed, three real news pages, a page that is gone and a PDF."""
    title, seed = seed_page()
    pages = benchmark_pages(3)
    loopback.routes["/news/seed"] = Route(200, seed)
    for i, page in enumerate(pages):
        loopback.routes[f"/news/page-{i}"] = Route(200, page)
    loopback.routes["/news/report.pdf"] = Route(200, b"%PDF-1.7", {"Content-Type": "application/pdf"})
    items = [(title, loopback.url("/news/seed?utm_source=rss"))] + [
        (f"Page {i}", loopback.url(f"/news/page-{i}")) for i in range(len(pages))
    ] + [("Gone", loopback.url("/news/gone")), ("Report", loopback.url("/news/report.pdf")),
         ("Seed again", loopback.url("/news/seed#top"))]
    loopback.routes["/feed.xml"] = Route(200, rss(items, datetime(2026, 3, 24, 12, tzinfo=UTC)),
                                         {"Content-Type": "application/rss+xml"})
    return loopback, loopback_sources(tmp_path / "sources.toml", loopback, {"loopback-gov": "/feed.xml"})


def test_feed_to_warehouse_end_to_end_and_a_rerun_adds_nothing(site, tmp_path):
    server, sources = site
    db = tmp_path / "w.duckdb"
    archive = tmp_path / "run.warc.gz"
    first = run_ingest(sources, db, record=archive)

    assert first["status"] == "completed_with_errors"  # the page that is gone
    assert first["totals"]["new"] == 4 and first["totals"]["failed"] == 1
    events = dict(rows(db, "SELECT url, status FROM crawl_events"))
    assert events == {
        server.url("/feed.xml"): "fetched",
        server.url("/news/seed"): "fetched",
        **{server.url(f"/news/page-{i}"): "fetched" for i in range(3)},
        server.url("/news/gone"): "http_error",
        server.url("/news/report.pdf"): "not_html",
    }
    # A batch drops its pages' bodies once they are read; the sizes reach the warehouse.
    sizes = dict(rows(db, "SELECT url, bytes FROM crawl_events WHERE status = 'fetched'"))
    assert sizes == {server.url(p): len(server.routes[p].body) for p in ("/feed.xml", "/news/seed", "/news/page-0",
                                                                        "/news/page-1", "/news/page-2")}
    seed_id = article_id(server.url("/news/seed"))
    [(title, countries, bilateral, themes, partners)] = rows(
        db, "SELECT title, countries, bilateral, themes, partners FROM announcements WHERE article_id = ?", seed_id)
    assert title.startswith("UK-Netherlands Serious and Organised Crime Dialogue")
    assert {"GB", "NL"} <= set(countries) and bilateral and "GB-NL" in partners
    assert {"illicit_finance", "drugs", "firearms"} <= set(themes)
    [(run_status, n_new, n_failed, finished)] = rows(db, "SELECT status, n_new, n_failed, finished_at IS NOT NULL FROM runs")
    assert (run_status, n_new, n_failed, finished) == ("completed_with_errors", 4, 1, True)
    assert rows(db, "SELECT count(*) FROM article_themes WHERE taxonomy_version IS NULL OR evidence = []") == [(0,)]

    before = rows(db, "SELECT article_id, content_hash FROM articles ORDER BY 1")
    second = run_ingest(sources, db)
    assert second["totals"]["new"] == 0 and second["totals"]["unchanged"] == 4
    assert rows(db, "SELECT article_id, content_hash FROM articles ORDER BY 1") == before
    assert rows(db, "SELECT count(*) FROM article_versions") == [(4,)]
    assert rows(db, "SELECT count(*), count(DISTINCT run_id) FROM crawl_events") == [(14, 2)]

    # Changed text: a new content hash and a version row, nothing duplicated.
    server.routes["/news/page-0"] = Route(200, benchmark_pages(4)[3])  # a page the site does not serve elsewhere
    third = run_ingest(sources, db, options=IngestOptions(pool_min_pages=1, workers=2))  # through the process pool
    assert third["totals"]["updated"] == 1 and third["totals"]["new"] == 0
    assert rows(db, "SELECT count(*) FROM articles") == [(4,)]
    assert rows(db, "SELECT count(*) FROM article_versions") == [(5,)]

    # Replay of the first run's archive, with the server emptied: the same articles come back.
    server.routes.clear()
    served = len(server.requests)
    replayed_db = tmp_path / "replayed.duckdb"
    replayed = run_ingest(sources, replayed_db, replay=[archive])
    assert len(server.requests) == served
    assert replayed["totals"]["new"] == 4
    assert rows(replayed_db, "SELECT article_id, content_hash FROM articles ORDER BY 1") == before


def test_a_bad_feed_is_recorded_and_the_run_goes_on(loopback, tmp_path):
    loopback.routes["/good.xml"] = Route(200, rss([("Seed", loopback.url("/a"))], datetime(2026, 1, 1, tzinfo=UTC)),
                                         {"Content-Type": "application/rss+xml"})
    loopback.routes["/a"] = Route(200, b"<html><body><article><h1>Cocaine seized</h1><p>" + b"Officers seized cocaine at the port. " * 20 + b"</p></article></body></html>")
    loopback.routes["/bad.xml"] = Route(200, b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><rss>&a;</rss>",
                                        {"Content-Type": "application/xml"})
    sources = loopback_sources(tmp_path / "sources.toml", loopback, {"good": "/good.xml", "bad": "/bad.xml"}, "NL", "nl")
    db = tmp_path / "w.duckdb"
    summary = run_ingest(sources, db)
    assert summary["status"] == "completed_with_errors"
    assert dict(rows(db, "SELECT source, status FROM crawl_events WHERE url_kind = 'feed'")) == {"good": "fetched", "bad": "unsafe_xml"}
    assert rows(db, "SELECT count(*) FROM articles") == [(1,)]


def test_a_failed_url_is_logged_as_one_greppable_line(loopback, tmp_path, caplog):
    import logging

    feed = f"<rss version='2.0'><channel><title>t</title><item><title>x</title><link>{loopback.url('/gone')}</link></item></channel></rss>"
    loopback.routes["/feed.xml"] = Route(200, feed.encode(), {"Content-Type": "application/rss+xml"})
    sources = loopback_sources(tmp_path / "sources.toml", loopback, {"news": "/feed.xml"})
    with caplog.at_level(logging.WARNING):
        summary = run_ingest(sources, tmp_path / "w.duckdb")
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("run=")]
    assert lines == [f"run={summary['run_id'][:8]} source=news url={loopback.url('/gone')} status=http_error http=404 error=HTTP 404"]


def test_a_runs_sync_tasks_share_one_prefect_client(loopback, tmp_path, monkeypatch):
    """Each sync task (validate-load, once a batch and once for the feeds) would otherwise make
    its own API client, 25-65 ms of a run's CPU each."""
    from prefect.client.orchestration import SyncPrefectClient

    made = []
    init = SyncPrefectClient.__init__

    def counted(self, *args, **kwargs):
        made.append(1)
        init(self, *args, **kwargs)

    monkeypatch.setattr(SyncPrefectClient, "__init__", counted)
    items = [(f"Cocaine seized {i}", loopback.url(f"/a{i}")) for i in range(4)]
    loopback.routes["/feed.xml"] = Route(200, rss(items, datetime(2026, 1, 1, tzinfo=UTC)), {"Content-Type": "application/rss+xml"})
    for i in range(4):
        loopback.routes[f"/a{i}"] = Route(200, f"<html><body><article><h1>Cocaine seized {i}</h1><p>".encode()
                                          + f"Officers seized cocaine at the port {i}. ".encode() * 20 + b"</p></article></body></html>")
    sources = loopback_sources(tmp_path / "sources.toml", loopback, {"news": "/feed.xml"}, "NL", "en")
    summary = run_ingest(sources, tmp_path / "w.duckdb", options=IngestOptions(batch_size=1))
    assert summary["totals"]["new"] == 4
    assert len(made) <= 2  # the flow's one, and one Prefect makes for its result storage
