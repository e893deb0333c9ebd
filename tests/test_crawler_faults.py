"""Fault injection: one run of the real flow against a server that misbehaves in every way we
know, then a second run over the same server. Each bad URL ends with its own status, the good
pages load, nothing else changes, and the run stays within its time bounds."""

from __future__ import annotations

import gzip
import socket
import struct
import time

import duckdb
import pytest

from conftest import Route, loopback_sources
from flows.http import FetchSettings
from flows.ingest import IngestOptions, run_ingest

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.usefixtures("prefect_harness"),
]

SETTINGS = FetchSettings(read_timeout_s=1.0, connect_timeout_s=2.0, total_timeout_s=6.0, max_bytes=200_000,
                         max_retries=2, retry_base_s=0.05, max_retry_after_s=5.0)


def article(title: str, words: str = "Officers seized cocaine and firearms at the port after a joint investigation. ") -> bytes:
    return (f"<html lang='en'><head><title>{title}</title></head><body><article><h1>{title}</h1>"
            f"<p>{words * 12}</p></article></body></html>").encode()


def conditional(body: bytes, etag: str):
    """A page that honours If-None-Match."""
    def route(handler) -> Route:
        if handler.headers.get("If-None-Match") == etag:
            return Route(304, b"", {"ETag": etag})
        return Route(200, body, {"Content-Type": "text/html; charset=utf-8", "ETag": etag})
    return route


def flaky(times: int, status: int, then: bytes, headers: dict | None = None):
    calls = {"n": 0}

    def route(handler) -> Route:
        calls["n"] += 1
        if calls["n"] <= times:
            return Route(status, b"busy", {"Content-Type": "text/plain", **(headers or {})})
        return Route(200, then)
    return route


def promise_more(handler, length: int, start: bytes) -> None:
    """Announce `length` bytes of HTML and send only `start`."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    handler.send_header("Content-Length", str(length))
    handler.end_headers()
    handler.wfile.write(start)
    handler.wfile.flush()


def hang(handler) -> None:
    promise_more(handler, 100000, b"<html><body>")
    time.sleep(8)


def reset(handler) -> None:
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.connection.close()
    handler.close_connection = True


def truncated(handler) -> None:
    promise_more(handler, 5000, b"<html><body><p>cut short")
    handler.close_connection = True


def rss(links: list[str]) -> bytes:
    items = "".join(f"<item><title>t</title><link>{link}</link><pubDate>Tue, 24 Mar 2026 10:00:00 GMT</pubDate></item>" for link in links)
    return f"<?xml version='1.0'?><rss version='2.0'><channel><title>faults</title>{items}</channel></rss>".encode()


BOMB = gzip.compress(b"\0" * 5_000_000)
LAUGHS = (b"<?xml version='1.0'?><!DOCTYPE r [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'>"
          b"<!ENTITY c '&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;'>]><rss version='2.0'><channel><title>&c;</title></channel></rss>")


@pytest.fixture
def misbehaving(loopback, tmp_path):
    s = loopback
    good = {f"/good-{i}": article(f"Good page {i}") for i in range(3)}
    for path, body in good.items():
        s.routes[path] = conditional(body, f'"v1-{path}"')
    latin = "<html><head><meta charset='iso-8859-1'><title>Café</title></head><body><article><h1>Café crème in Köln</h1>" \
            + "<p>Die Polizei hat Kokain beschlagnahmt, sagte ein Sprecher über die Ermittlungen. </p>" * 10 + "</article></body></html>"
    s.routes.update({
        "/robots.txt": Route(200, b"User-agent: *\nDisallow: /private\nCrawl-delay: 0.2\n", {"Content-Type": "text/plain"}),
        "/gone-404": Route(404, b"no"),
        "/gone-410": Route(410, b"gone"),
        "/flaky-500": flaky(1, 500, article("Back after a 500")),
        "/busy-429": flaky(1, 429, article("Back after a 429"), {"Retry-After": "1"}),
        "/hang": Route(raw=hang),
        "/reset": Route(raw=reset),
        "/truncated": Route(raw=truncated),
        "/huge": Route(200, b"<html>" + b"x" * 300_000),
        "/bomb": Route(200, BOMB, {"Content-Type": "text/html", "Content-Encoding": "gzip"}),
        "/loop": Route(302, b"", {"Location": "/loop"}),
        "/away": Route(302, b"", {"Location": "http://elsewhere.invalid/page"}),
        "/private/secret": Route(200, article("Never fetched")),
        "/report.pdf": Route(200, b"%PDF-1.7", {"Content-Type": "application/pdf"}),
        "/latin1": Route(200, latin.encode("latin-1"), {"Content-Type": "text/html"}),
        "/laughs.xml": Route(200, LAUGHS, {"Content-Type": "application/rss+xml"}),
        "/truncated.xml": Route(200, rss([s.url("/good-0")])[:-40], {"Content-Type": "application/rss+xml"}),
        "/later": flaky(3, 503, article("Up on the second run")),  # fails all of run 1's tries
    })
    pages = [*good, "/later", "/gone-404", "/gone-410", "/flaky-500", "/busy-429", "/hang", "/reset", "/truncated", "/huge",
             "/bomb", "/loop", "/away", "/private/secret", "/report.pdf", "/latin1"]
    links = [s.url(p) for p in pages] + [s.url("/good-1?utm_source=rss&utm_medium=feed"), s.url("/good-2#comments")]
    s.routes["/feed.xml"] = conditional(rss(links), '"feed-v1"')  # a feed that would answer 304 if asked
    entries = {"main": "/feed.xml", "laughs": "/laughs.xml", "cut": "/truncated.xml"}
    return s, loopback_sources(tmp_path / "sources.toml", s, entries, extra="max_concurrency = 2")


def statuses(db) -> dict[str, str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        # The last run's events; a page another source fetched for this one (duplicate) gives way to that fetch.
        rows = con.execute("SELECT url, status FROM crawl_events WHERE run_id = (SELECT run_id FROM crawl_events "
                           "ORDER BY event_at DESC LIMIT 1) ORDER BY status = 'duplicate' DESC").fetchall()
    finally:
        con.close()
    return {url.split("/", 3)[3]: status for url, status in rows}


def test_a_misbehaving_server_gets_a_status_per_url_and_the_good_pages_load(misbehaving, tmp_path):
    server, sources = misbehaving
    db = tmp_path / "w.duckdb"
    started = time.monotonic()
    first = run_ingest(sources, db, options=IngestOptions(fetch=SETTINGS))
    elapsed = time.monotonic() - started

    got = statuses(db)
    assert got == {
        "feed.xml": "fetched", "laughs.xml": "unsafe_xml", "truncated.xml": "fetched",
        "good-0": "fetched", "good-1": "fetched", "good-2": "fetched", "later": "http_error",
        "gone-404": "http_error", "gone-410": "http_error",
        "flaky-500": "fetched", "busy-429": "fetched",
        "hang": "timeout", "reset": "connection_error", "truncated": "connection_error",
        "huge": "too_large", "bomb": "too_large",
        "loop": "too_many_redirects", "away": "blocked_host", "private/secret": "robots_disallowed",
        "report.pdf": "not_html", "latin1": "fetched",
    }
    assert "/private/secret" not in server.requests
    assert server.requests.count("/robots.txt") == 1
    assert first["totals"]["new"] == 6 and first["status"] == "completed_with_errors"
    assert elapsed < 60
    con = duckdb.connect(str(db), read_only=True)
    [(latin_title, latin_text)] = con.execute("SELECT title, text FROM articles WHERE url LIKE '%latin1'").fetchall()
    assert latin_title == "Café crème in Köln" and "über" in latin_text
    assert con.execute("SELECT count(*) FROM http_cache WHERE url LIKE '%good-%'").fetchone() == (3,)
    con.close()

    # Second run: the good pages answer 304 and nothing is downloaded or extracted again.
    bodies_before = [a for a in server.answered if a[0].startswith("/good-")]
    second = run_ingest(sources, db, options=IngestOptions(fetch=SETTINGS))
    bodies_after = [a for a in server.answered if a[0].startswith("/good-")][len(bodies_before):]
    assert bodies_after and all(status == 304 and size == 0 for _path, status, size in bodies_after)
    again = statuses(db)
    assert {k: again[k] for k in ("good-0", "good-1", "good-2")} == dict.fromkeys(("good-0", "good-1", "good-2"), "not_modified")
    assert again["feed.xml"] == "fetched"  # feeds are read whole every run ...
    assert again["later"] == "fetched"  # ... so what failed last run is tried again
    assert second["totals"]["new"] == 1 and second["totals"]["unchanged"] >= 3
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM articles").fetchone() == (7,)
    assert con.execute("SELECT count(*) FROM article_versions").fetchone() == (7,)
    health = {r[0]: r[1:] for r in con.execute(
        "SELECT source, failure_streak, last_success_at IS NOT NULL, articles FROM source_health").fetchall()}
    assert health == {"main": (0, True, 7), "laughs": (2, False, 0), "cut": (0, True, 0)}
    con.close()


def test_a_host_resolving_to_a_private_address_is_refused_unless_listed(loopback, tmp_path):
    loopback.routes["/feed.xml"] = Route(200, rss([loopback.url("/a")]), {"Content-Type": "application/rss+xml"})
    sources = tmp_path / "sources.toml"
    sources.write_text(f'[[sources]]\nname = "implicit"\nkind = "feed"\nurl = "{loopback.url("/feed.xml")}"\n'
                       f'country = "GB"\nlanguage = "en"\nmin_delay_s = 0\n')
    db = tmp_path / "w.duckdb"
    run_ingest(sources, db, options=IngestOptions(fetch=SETTINGS))
    con = duckdb.connect(str(db), read_only=True)
    [(status, error)] = con.execute("SELECT status, error FROM crawl_events").fetchall()
    con.close()
    assert status == "blocked_host" and "non-public" in error
    assert loopback.requests == []
