"""The fetcher against a real server on 127.0.0.1, and WARC record/replay through the same path."""

import asyncio
import time

from conftest import Route
from flows.http import USER_AGENT, Fetcher, FetchSettings
from flows.warc import WarcRecorder, WarcReplayTransport
from schemas.records import Source, Status

PAGE = b"<html><head><title>t</title></head><body><p>hello</p></body></html>"


def source_for(server, **overrides) -> Source:
    fields = dict(name="local", kind="feed", url=server.url("/feed"), country="GB", language="en",
                  allowed_hosts=("127.0.0.1",), max_concurrency=2, min_delay_s=0.0,
                  listed_hosts=("127.0.0.1",))
    fields.update(overrides)
    return Source(**fields)


def fetch_all(source, urls, settings=FetchSettings(), transport=None, recorder=None, expect="html"):
    async def go():
        async with Fetcher([source], settings, transport=transport, recorder=recorder) as fetcher:
            return await asyncio.gather(*(fetcher.fetch(u, source, expect) for u in urls))
    return asyncio.run(go())


def test_statuses_for_ordinary_and_bad_answers(loopback):
    loopback.routes.update({
        "/ok": Route(200, PAGE),
        "/gone": Route(410, b"gone"),
        "/pdf": Route(200, b"%PDF-1.4", {"Content-Type": "application/pdf"}),
        "/big": Route(200, b"x" * 5000),
        "/hop": Route(302, b"", {"Location": "/ok"}),
        "/away": Route(302, b"", {"Location": "http://elsewhere.invalid/x"}),
        "/loop": Route(302, b"", {"Location": "/loop"}),
    })
    names = ["/ok", "/gone", "/pdf", "/big", "/hop", "/away", "/loop", "/missing"]
    results = fetch_all(source_for(loopback), [loopback.url(n) for n in names], FetchSettings(max_bytes=4096))
    got = {n: r.status for n, r in zip(names, results)}
    assert got == {"/ok": Status.FETCHED, "/gone": Status.HTTP_ERROR, "/pdf": Status.NOT_HTML, "/big": Status.TOO_LARGE,
                   "/hop": Status.FETCHED, "/away": Status.BLOCKED_HOST, "/loop": Status.TOO_MANY_REDIRECTS,
                   "/missing": Status.HTTP_ERROR}
    ok = results[0]
    assert ok.body == PAGE and ok.http_status == 200 and ok.source == "local"
    assert results[4].final_url == loopback.url("/ok")
    assert results[1].http_status == 410 and "410" in results[1].error
    assert "elsewhere.invalid" in results[5].error
    assert "elsewhere" not in "".join(loopback.requests)  # never asked


def test_the_user_agent_names_socwatch_and_its_project():
    assert USER_AGENT.startswith("socwatch/") and "+http" in USER_AGENT


def test_a_host_not_allowed_is_never_requested(loopback):
    loopback.routes["/ok"] = Route(200, PAGE)
    [result] = fetch_all(source_for(loopback, allowed_hosts=("www.gov.uk",)), [loopback.url("/ok")])
    assert result.status is Status.BLOCKED_HOST and loopback.requests == []


def test_per_host_politeness_spaces_requests(loopback):
    for i in range(4):
        loopback.routes[f"/p{i}"] = Route(200, PAGE)
    started = time.monotonic()
    results = fetch_all(source_for(loopback, max_concurrency=1, min_delay_s=0.2), [loopback.url(f"/p{i}") for i in range(4)])
    assert all(r.ok for r in results)
    assert time.monotonic() - started >= 0.6  # three gaps of 0.2 s between four starts


def test_waiting_for_the_hosts_turn_does_not_count_against_a_urls_deadline(loopback):
    # Eight URLs queue for one host with a 0.3 s delay, one at a time; the last starts after
    # 2.1 s and the redirect loop needs six turns: both longer than the 1 s deadline of an
    # exchange, none of it the server's slowness.
    for i in range(7):
        loopback.routes[f"/p{i}"] = Route(200, PAGE)
    loopback.routes["/loop"] = Route(302, b"", {"Location": "/loop"})
    settings = FetchSettings(total_timeout_s=1.0, read_timeout_s=0.5, max_redirects=5)
    started = time.monotonic()
    results = fetch_all(source_for(loopback, max_concurrency=1, min_delay_s=0.3),
                        [loopback.url(f"/p{i}") for i in range(7)] + [loopback.url("/loop")], settings)
    assert time.monotonic() - started >= 3.0  # thirteen starts, 0.3 s apart: the queue was long
    assert [r.status for r in results] == [Status.FETCHED] * 7 + [Status.TOO_MANY_REDIRECTS]


def test_record_then_replay_gives_the_same_answers_and_404_for_the_unknown(loopback, tmp_path):
    loopback.routes.update({"/a": Route(200, PAGE), "/b": Route(200, "café".encode("utf-8"),
                                                                  {"Content-Type": "text/html; charset=utf-8"})})
    archive = tmp_path / "run.warc.gz"
    source = source_for(loopback)
    with WarcRecorder(archive) as recorder:
        live = fetch_all(source, [loopback.url("/a"), loopback.url("/b")], recorder=recorder)
    served = len(loopback.requests)
    transport = WarcReplayTransport([archive])
    assert len(transport) >= 2
    replayed = fetch_all(source, [loopback.url("/a"), loopback.url("/b"), loopback.url("/never")], transport=transport)
    assert len(loopback.requests) == served  # replay did not touch the server
    for a, b in zip(live, replayed):
        assert (a.status, a.http_status, a.body, a.content_type) == (b.status, b.http_status, b.body, b.content_type)
    assert replayed[2].status is Status.HTTP_ERROR and replayed[2].http_status == 404


def test_robots_txt_behind_a_redirect_is_obeyed(loopback):
    loopback.routes.update({
        "/robots.txt": Route(301, b"", {"Location": "/real-robots.txt"}),
        "/real-robots.txt": Route(200, b"User-agent: *\nDisallow: /\n", {"Content-Type": "text/plain"}),
        "/page": Route(200, PAGE),
    })
    [result] = fetch_all(source_for(loopback), [loopback.url("/page")])
    assert result.status is Status.ROBOTS_DISALLOWED and "/page" not in loopback.requests


def test_robots_txt_failing_with_5xx_disallows_the_host_and_4xx_allows_it(loopback):
    loopback.routes.update({"/robots.txt": Route(503, b"down"), "/page": Route(200, PAGE)})
    [refused] = fetch_all(source_for(loopback), [loopback.url("/page")], FetchSettings(max_retries=0))
    assert refused.status is Status.ROBOTS_DISALLOWED and "503" in refused.error
    loopback.routes["/robots.txt"] = Route(404, b"none")
    [allowed] = fetch_all(source_for(loopback), [loopback.url("/page")])
    assert allowed.status is Status.FETCHED


def test_a_host_that_cannot_be_reached_fails_its_urls_as_connection_errors():
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    source = Source("s", "feed", f"http://127.0.0.1:{port}/feed", "GB", "en", ("127.0.0.1",), listed_hosts=("127.0.0.1",))
    [result] = fetch_all(source, [f"http://127.0.0.1:{port}/page"], FetchSettings(max_retries=0))
    assert result.status is Status.CONNECTION_ERROR and result.status.is_failure
    assert "unreachable, reading robots.txt" in result.error


def test_a_gzip_bomb_stops_at_the_cap_without_inflating_it_all(loopback):
    import gzip
    import tracemalloc

    loopback.routes["/bomb"] = Route(200, gzip.compress(b"\0" * 50_000_000), {"Content-Type": "text/html", "Content-Encoding": "gzip"})
    tracemalloc.start()
    [result] = fetch_all(source_for(loopback), [loopback.url("/bomb")], FetchSettings(max_bytes=1_000_000))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert result.status is Status.TOO_LARGE
    assert peak < 20_000_000  # far below the 50 MB the body inflates to


def test_deflate_bodies_with_and_without_zlib_header_decode(loopback):
    import zlib

    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    loopback.routes.update({
        "/zlib": Route(200, zlib.compress(PAGE), {"Content-Type": "text/html", "Content-Encoding": "deflate"}),
        "/raw": Route(200, raw.compress(PAGE) + raw.flush(), {"Content-Type": "text/html", "Content-Encoding": "deflate"}),
    })
    results = fetch_all(source_for(loopback), [loopback.url("/zlib"), loopback.url("/raw")])
    assert [r.body for r in results] == [PAGE, PAGE]


def test_an_existing_archive_is_never_overwritten(tmp_path):
    import pytest

    from flows.warc import WarcError

    archive = tmp_path / "a.warc.gz"
    archive.write_bytes(b"precious")
    with pytest.raises(WarcError, match="exists already"):
        WarcRecorder(archive)
    assert archive.read_bytes() == b"precious"


def test_robots_crawl_delay_spaces_requests_beyond_the_sources_delay(loopback):
    loopback.routes["/robots.txt"] = Route(200, b"User-agent: socwatch\nCrawl-delay: 0.3\n", {"Content-Type": "text/plain"})
    for i in range(4):
        loopback.routes[f"/p{i}"] = Route(200, PAGE)
    started = time.monotonic()
    results = fetch_all(source_for(loopback, min_delay_s=0.0), [loopback.url(f"/p{i}") for i in range(4)])
    assert all(r.ok for r in results)
    assert time.monotonic() - started >= 0.9  # four page requests, 0.3 s apart


def test_unknown_content_codings_are_read_as_identity_like_httpx_does(loopback):
    loopback.routes.update({
        "/none": Route(200, PAGE, {"Content-Type": "text/html", "Content-Encoding": "none"}),
        "/utf8": Route(200, PAGE, {"Content-Type": "text/html", "Content-Encoding": "UTF-8"}),
    })
    results = fetch_all(source_for(loopback), [loopback.url("/none"), loopback.url("/utf8")])
    assert [(r.status, r.body) for r in results] == [(Status.FETCHED, PAGE)] * 2


def test_a_robots_txt_redirect_to_nowhere_counts_as_no_robots_txt_and_is_asked_once(loopback):
    loopback.routes["/robots.txt"] = Route(301, b"", {"Location": "http://[oops/robots.txt"})
    for i in range(3):
        loopback.routes[f"/p{i}"] = Route(200, PAGE)
    results = fetch_all(source_for(loopback), [loopback.url(f"/p{i}") for i in range(3)])
    assert [r.status for r in results] == [Status.FETCHED] * 3
    assert loopback.requests.count("/robots.txt") == 1


def test_our_own_bug_in_a_fetch_is_an_internal_error_not_a_dead_server(loopback, monkeypatch):
    async def broken(self, url, source, expect, conditional=True):
        raise KeyError("a bug of ours")

    monkeypatch.setattr(Fetcher, "_fetch", broken)
    [result] = fetch_all(source_for(loopback), [loopback.url("/page")])
    assert result.status is Status.INTERNAL_ERROR and result.status.is_failure
    assert result.error.startswith("KeyError: 'a bug of ours' at test_http.py:")
