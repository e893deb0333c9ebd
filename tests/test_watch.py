"""Watchlists (warehouse/watch.py, flows/watch.py): filters refused with the field named, hits
recorded once in the load's transaction, and delivered after each run to a real loopback
webhook receiver (signed; one that fails then recovers; one that hangs), to Atom files read
with feedparser, and as Prefect events read back from the session's Prefect API."""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import feedparser
import httpx
import pytest
from conftest import rows, serving
from typer.testing import CliRunner

from flows.cli import app
from flows.sources import ConfigError
from flows.watch import DELIVERY_HEADER, SIGNATURE_HEADER, load_file, make
from warehouse import watch
from warehouse.db import connect

runner = CliRunner()
SECRET_ENV = "SOCWATCH_TEST_WEBHOOK_SECRET"
SECRET = "s3cret-for-the-loopback-receiver-only"
THEMES = ["drugs", "firearms", "illicit_finance"]


@dataclass
class Receiver:
    """A real HTTP server on 127.0.0.1 taking webhook POSTs: it answers `fail_first` of them
    with a 500, sleeps `hang_s` before answering when set, and keeps what it was sent."""

    port: int = 0
    fail_first: int = 0
    hang_s: float = 0.0
    received: list[tuple[dict, bytes]] = field(default_factory=list)  # (headers, body) of every POST

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def deliveries(self) -> list[dict]:
        """The bodies of the POSTs answered with success, as JSON."""
        return [json.loads(body) for n, (_, body) in enumerate(self.received) if n >= self.fail_first]


@contextmanager
def receiver(**kwargs) -> Iterator[Receiver]:
    state = Receiver(**kwargs)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            if state.hang_s:
                time.sleep(state.hang_s)
            status = 500 if len(state.received) <= state.fail_first else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

        def handle(self):
            try:
                super().handle()
            except (ConnectionResetError, BrokenPipeError):  # a client that gave up on a hanging answer
                pass

    with serving(Handler) as port:
        state.port = port
        yield state


def invoke(*args: str, env: dict | None = None):
    return runner.invoke(app, list(args), env=env)


def demo_articles(db: Path, where: str) -> set[str]:
    return {r[0] for r in rows(db, f"SELECT article_id FROM announcements WHERE {where}")}


GB_NL_DRUGS = "list_contains(themes, 'drugs') AND list_contains(partners, 'GB-NL')"


# ----------------------------------------------------------------------------------------------
# Filters.

@pytest.mark.parametrize("args, field_named", [
    (["--theme", "drug"], "--theme"),
    (["--partners", "GBNL"], "--partners"),
    (["--partners", "GB-GB"], "--partners"),
    (["--country", "XX"], "--country"),
    (["--type", "raid"], "--type"),
    (["--language", "english"], "--language"),
    (["--query", "!! 42 ??"], "--query"),
    (["--webhook", "ftp://127.0.0.1/x", "--secret-env", SECRET_ENV], "--webhook"),
    (["--webhook", "http://127.0.0.1:9/x"], "--secret-env"),
    (["--webhook", "http://127.0.0.1:9/x", "--secret-env", "not a name"], "--secret-env"),
    (["--source", "no-such-source"], "--source"),
])
def test_a_bad_filter_is_refused_with_exit_2_naming_the_field(tmp_path, args, field_named):
    db = tmp_path / "w.duckdb"
    result = invoke("watch", "add", "mine", *args, "--db", str(db))
    assert result.exit_code == 2, result.output
    assert f"error: {field_named}:" in result.output
    if db.exists():
        assert rows(db, "SELECT count(*) FROM watchlists") == [(0,)]


def test_a_code_people_mistake_for_a_country_code_is_refused_with_the_right_one(tmp_path):
    for args in (["--country", "UK"], ["--partners", "uk-nl"], ["--country", "GB", "--country", "EL"]):
        result = invoke("watch", "add", "mine", *args, "--db", str(tmp_path / "w.duckdb"))
        assert result.exit_code == 2, result.output
        said = " ".join(result.output.split())
        assert "not a country code" in said and ("the United Kingdom is GB" in said or "Greece is GR" in said), said


def test_a_bad_name_and_a_taken_name_are_refused(tmp_path):
    db = tmp_path / "w.duckdb"
    for bad in ("Not OK", "abc\n", "../etc", "-x"):
        assert invoke("watch", "add", bad, "--theme", "drugs", "--db", str(db)).exit_code == 2, bad
    assert invoke("watch", "add", "ok", "--theme", "drugs", "--db", str(db)).exit_code == 0
    taken = invoke("watch", "add", "ok", "--theme", "firearms", "--db", str(db))
    assert taken.exit_code == 2 and "--replace" in taken.output
    assert invoke("watch", "add", "ok", "--theme", "firearms", "--replace", "--db", str(db)).exit_code == 0
    assert rows(db, "SELECT themes FROM watchlists") == [(["firearms"],)]
    assert invoke("watch", "remove", "ok", "--db", str(db)).exit_code == 0
    assert invoke("watch", "remove", "ok", "--db", str(db)).exit_code == 2


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory, prefect_harness) -> Path:
    db = tmp_path_factory.mktemp("watch-demo") / "w.duckdb"
    result = invoke("demo", "--db", str(db))
    assert result.exit_code == 0, result.output
    return db


def test_a_new_filter_starts_its_hits_again_and_a_new_destination_keeps_them(demo_db, tmp_path):
    db = tmp_path / "w.duckdb"
    shutil.copyfile(demo_db, db)
    added = invoke("watch", "add", "w", "--theme", "drugs", "--db", str(db))
    drugs = demo_articles(db, "list_contains(themes, 'drugs')")
    assert f"{len(drugs)} stored article(s) match now" in added.output
    assert invoke("watch", "add", "w", "--theme", "firearms", "--replace", "--db", str(db)).exit_code == 0
    firearms = demo_articles(db, "list_contains(themes, 'firearms')")
    hits = rows(db, "SELECT article_id, found_at, reasons FROM watch_hits ORDER BY article_id")
    assert {h[0] for h in hits} == firearms and firearms != drugs
    assert all(h[2] == ["theme: firearms"] for h in hits)
    made = rows(db, "SELECT created_at FROM watchlists")
    assert invoke("watch", "add", "w", "--theme", "firearms", "--no-feed", "--replace", "--db", str(db)).exit_code == 0
    assert rows(db, "SELECT article_id, found_at, reasons FROM watch_hits ORDER BY article_id") == hits
    assert rows(db, "SELECT created_at FROM watchlists") == made  # its hits not yet delivered stay due
    shown = invoke("watch", "show", "w", "--db", str(db))
    assert shown.exit_code == 0 and shown.output.count("(baseline)") == len(firearms)


def test_the_watchlists_file_is_checked_whole_naming_entry_and_key(tmp_path):
    path = tmp_path / "watchlists.toml"
    cases = {
        '[[watchlists]]\nname = "a"\nthemes = ["drug"]\n': "entry 1 (a): themes: unknown theme",
        '[[watchlists]]\nname = "a"\npartners = "GB-NL"\n': "entry 1 (a): partners must be a list",
        '[[watchlists]]\nname = "a"\ncolour = "red"\n': "entry 1 (a): unknown key(s) ['colour']",
        '[[watchlists]]\nname = "a"\n[[watchlists]]\nname = "a"\n': "entry 2 (a): a second watchlist named 'a'",
        '[[watchlists]]\nname = "a"\nwebhook = "http://127.0.0.1/x"\n': "entry 1 (a): secret_env: a webhook needs",
        '[[watchlists]]\nname = "a"\nquery = "..."\n': "entry 1 (a): query:",
        'watchlist = 1\n': "unknown top-level key(s) ['watchlist']",
    }
    for text, message in cases.items():
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError) as caught:
            load_file(path, THEMES)
        assert message in str(caught.value), text
        assert str(path) in str(caught.value)
    path.write_text('[[watchlists]]\nname = "a"\nsources = ["nope"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"entry 1 \(a\): sources: unknown source\(s\) 'nope'"):
        load_file(path, THEMES, ["govuk-news"])
    path.write_text('[[watchlists]]\nname = "gb-nl-drugs"\nthemes = ["drugs"]\npartners = ["nl-gb"]\n', encoding="utf-8")
    [w] = load_file(path, THEMES)
    assert (w.name, w.themes, w.partners, w.origin) == ("gb-nl-drugs", ("drugs",), ("GB-NL",), str(path.resolve()))


def test_a_bad_watchlists_file_stops_a_run_before_anything_is_fetched(tmp_path, loopback):
    from conftest import loopback_sources

    sources = loopback_sources(tmp_path / "sources.toml", loopback, {"site": "/feed.xml"})
    (tmp_path / "watchlists.toml").write_text('[[watchlists]]\nname = "a"\ncountries = ["XX"]\n', encoding="utf-8")
    result = invoke("run", "--sources", str(sources), "--db", str(tmp_path / "w.duckdb"))
    assert result.exit_code == 2, result.output
    assert "watchlists.toml: [[watchlists]] entry 1 (a): countries:" in result.output
    assert loopback.requests == []


def test_a_query_wants_every_word_as_search_reads_words(tmp_path):
    con = connect(tmp_path / "w.duckdb")
    try:
        assert watch.query_terms(con, "Cocaïne SMUGGLING, cocaine!") == ("cocain", "smuggl")
        assert watch.query_terms(con, "123 ...") == ()
    finally:
        con.close()


# ----------------------------------------------------------------------------------------------
# Hits and delivery through whole runs.

@pytest.mark.usefixtures("prefect_harness")
def test_three_commands_follow_gb_nl_drugs_in_a_feed_and_by_webhook_exactly_once(tmp_path, monkeypatch):
    db = tmp_path / "w.duckdb"
    env = {SECRET_ENV: SECRET}
    with receiver() as hook:
        # The README's commands: a watchlist with a feed and a webhook, then runs.
        added = invoke("watch", "add", "gb-nl-drugs", "--theme", "drugs", "--partners", "GB-NL", "--webhook", hook.url,
                       "--secret-env", SECRET_ENV, "--db", str(db), env=env)
        assert added.exit_code == 0, added.output
        assert "0 stored article(s) match now" in added.output and SECRET not in added.output
        first = invoke("demo", "--db", str(db), env=env)
        assert first.exit_code == 0, first.output
        expected = demo_articles(db, GB_NL_DRUGS)
        assert expected, "the demo has GB-NL drugs announcements"

        feed = feedparser.parse((tmp_path / "feeds" / "gb-nl-drugs.atom").read_bytes())
        assert not feed.bozo, feed.bozo_exception
        assert feed.version == "atom10" and feed.feed.title == "socwatch watchlist gb-nl-drugs"
        titles = {r[0] for r in rows(db, f"SELECT title FROM announcements WHERE {GB_NL_DRUGS}")}
        assert {e.title for e in feed.entries} == titles
        for entry in feed.entries:
            assert entry.link.startswith("https://") and entry.published_parsed and entry.updated_parsed
            assert "Partners: GB-NL" in entry.summary and "Matched: theme: drugs; partners: GB-NL" in entry.summary

        # One POST, signed with the secret, carrying exactly the run's hits.
        assert len(hook.received) == 1
        headers, body = hook.received[0]
        assert headers[SIGNATURE_HEADER.lower()] == "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        sent = json.loads(body)
        assert headers["idempotency-key"] == headers[DELIVERY_HEADER.lower()] == sent["delivery_id"]
        assert {h["article_id"] for h in sent["hits"]} == expected
        assert all(h["reasons"] == ["theme: drugs", "partners: GB-NL"] for h in sent["hits"])
        [(status, attempts, code)] = rows(db, "SELECT status, attempts, http_status FROM watch_deliveries WHERE channel = 'webhook'")
        assert (status, attempts, code) == ("delivered", 1, 200)

        # A rerun finds nothing new: no hit twice, no second POST.
        again = invoke("demo", "--db", str(db), env=env)
        assert again.exit_code == 0, again.output
        assert len(hook.received) == 1
        assert rows(db, "SELECT count(*), count(DISTINCT article_id) FROM watch_hits") == [(len(expected), len(expected))]

    # status and report show the watchlist; the secret is nowhere: warehouse, output, config.
    status = invoke("status", "--db", str(db))
    assert "gb-nl-drugs" in status.output and "webhook delivered" in status.output
    report = invoke("report", "--db", str(db), "--out", str(tmp_path / "r.html"))
    assert report.exit_code == 0 and 'id="watchlist-gb-nl-drugs"' in (tmp_path / "r.html").read_text()
    monkeypatch.setenv(SECRET_ENV, SECRET)
    config = invoke("config", env=env)
    for text in (added.output, first.output, again.output, status.output, config.output):
        assert SECRET not in text
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def _warehouse_with_watchlist(tmp_path: Path, url: str) -> Path:
    """A demo warehouse with one watchlist made before its run (so the run's articles are hits)."""
    db = tmp_path / "w.duckdb"
    db.parent.mkdir(parents=True, exist_ok=True)
    con = connect(db)
    try:
        watch.save(con, make("drugs", themes=["drugs"], webhook=url, secret_env=SECRET_ENV, known_themes=THEMES))
    finally:
        con.close()
    return db


@pytest.mark.usefixtures("prefect_harness")
def test_a_failing_webhook_never_fails_the_run_and_is_delivered_at_the_next_run_under_the_same_key(tmp_path):
    env = {SECRET_ENV: SECRET, "SOCWATCH_WEBHOOK_ATTEMPTS": "2"}
    with receiver(fail_first=2) as hook:
        db = _warehouse_with_watchlist(tmp_path, hook.url)
        first = invoke("demo", "--db", str(db), env=env)
        assert first.exit_code == 0, first.output  # the run completed though its webhook failed
        assert len(hook.received) == 2  # both attempts of the run answered 500
        [(status, attempts, code, error)] = rows(db, "SELECT status, attempts, http_status, error FROM watch_deliveries WHERE channel = 'webhook'")
        assert (status, attempts, code, error) == ("failed", 2, 500, "HTTP 500")

        # The next run (nothing new in it) delivers the first run's hits, under the same key.
        second = invoke("demo", "--db", str(db), env=env)
        assert second.exit_code == 0, second.output
        assert len(hook.received) == 3
        keys = {headers["idempotency-key"] for headers, _ in hook.received}
        assert len(keys) == 1
        [delivered] = hook.deliveries()
        assert {h["article_id"] for h in delivered["hits"]} == demo_articles(db, "list_contains(themes, 'drugs')")
        assert rows(db, "SELECT status, attempts, http_status FROM watch_deliveries WHERE channel = 'webhook'") == [
            ("delivered", 3, 200)]
        third = invoke("demo", "--db", str(db), env=env)
        assert third.exit_code == 0 and len(hook.received) == 3  # delivered once: not again


@pytest.mark.usefixtures("prefect_harness")
def test_a_hanging_webhook_is_given_up_within_its_timeout_and_a_missing_secret_sends_nothing(tmp_path, monkeypatch):
    hang_s = 8.0
    env = {SECRET_ENV: SECRET, "SOCWATCH_WEBHOOK_TIMEOUT_S": "0.5", "SOCWATCH_WEBHOOK_ATTEMPTS": "2"}
    with receiver(hang_s=hang_s) as hook:
        db = _warehouse_with_watchlist(tmp_path / "hang", hook.url)
        result = invoke("demo", "--db", str(db), env=env)
        assert result.exit_code == 0, result.output
        assert len(hook.received) == 2
        [(status, attempts, code, error, took)] = rows(
            db, "SELECT status, attempts, http_status, error, epoch(last_attempt_at - first_attempt_at) FROM watch_deliveries "
                "WHERE channel = 'webhook'")
        assert (status, attempts, code) == ("failed", 2, None) and "ReadTimeout" in error
        assert took < hang_s, f"two attempts with a 0.5 s limit waited {took:.1f} s for a receiver that hangs {hang_s:.0f} s"

    monkeypatch.delenv(SECRET_ENV, raising=False)
    with receiver() as hook:
        db = _warehouse_with_watchlist(tmp_path / "unsigned", hook.url)
        result = invoke("demo", "--db", str(db))
        assert result.exit_code == 0, result.output
        assert hook.received == []  # never sent unsigned
        [(status, error)] = rows(db, "SELECT status, error FROM watch_deliveries WHERE channel = 'webhook'")
        assert status == "failed" and f"{SECRET_ENV} (the webhook's secret) is not set" in error


@pytest.mark.usefixtures("prefect_harness")
def test_each_hit_batch_is_a_prefect_event_with_the_watchlist_as_resource(tmp_path):
    from prefect.settings import PREFECT_API_URL

    with receiver() as hook:
        db = _warehouse_with_watchlist(tmp_path, hook.url)
        result = invoke("demo", "--db", str(db), env={SECRET_ENV: SECRET})
        assert result.exit_code == 0, result.output
    [(key, n_hits, status)] = rows(db, "SELECT delivery_id, hits, status FROM watch_deliveries WHERE channel = 'prefect_event'")
    assert status == "delivered" and n_hits == len(demo_articles(db, "list_contains(themes, 'drugs')"))
    found: list[dict] = []
    deadline = time.monotonic() + 20
    while not found and time.monotonic() < deadline:  # the API stores events as it takes them off its queue
        answer = httpx.post(f"{PREFECT_API_URL.value()}/events/filter",
                            json={"filter": {"event": {"name": ["socwatch.watch.hits"]},
                                             "resource": {"id": ["socwatch.watchlist.drugs"]}}, "limit": 50})
        answer.raise_for_status()
        found = [e for e in answer.json()["events"] if e["payload"].get("delivery_id") == key]
        if not found:
            time.sleep(0.5)
    assert found, "the event reached the Prefect API"
    [event] = found
    assert event["resource"]["prefect.resource.name"] == "drugs" and event["payload"]["count"] == n_hits


def test_a_feed_holds_any_title_and_is_written_again_when_older_than_its_hits(tmp_path):
    from datetime import UTC, datetime, timedelta

    from flows.watch import _feed_is_stale, write_feed

    w = make("odd", themes=["drugs"], known_themes=THEMES)
    now = datetime.now(UTC)
    hit = watch.Hit("odd", "a1", "r1", now, ["theme: drugs"], now, "src", "Seized\x0b at the \x01port & <dock>",
                    "https://s.example/a?x=1&y=2", ["drugs"], ["GB-NL"], ["GB", "NL"], "operation_result", "en")
    path = tmp_path / "feeds" / "odd.atom"
    assert _feed_is_stale(path, None)  # missing
    write_feed(path, w, [hit])
    feed = feedparser.parse(path.read_bytes())
    assert not feed.bozo, feed.bozo_exception
    assert feed.entries[0].title == "Seized at the port & <dock>" and feed.entries[0].link == "https://s.example/a?x=1&y=2"
    assert [p.name for p in path.parent.iterdir()] == ["odd.atom"] and path.stat().st_mode & 0o044 == 0o044
    assert not _feed_is_stale(path, now - timedelta(seconds=5))
    assert _feed_is_stale(path, now + timedelta(seconds=5))  # a hit stored after it was written


def test_without_a_prefect_api_there_is_no_event_channel_and_a_failing_one_is_due_again(demo_db, tmp_path):
    from flows.watch import DeliveryOptions, deliver

    db = tmp_path / "w.duckdb"
    shutil.copyfile(demo_db, db)
    con = connect(db)
    try:
        watch.save(con, make("drugs", themes=["drugs"], known_themes=THEMES))
        # As if a run had found them after the watchlist was made.
        con.execute("UPDATE watch_hits SET run_id = 'r1', found_at = now() + INTERVAL 1 SECOND")
        options = DeliveryOptions(feeds=None)
        assert deliver(con, "r1", options, emit=lambda **event: None)["failed"] == 0
        assert con.execute("SELECT count(*) FROM watch_deliveries").fetchone()[0] == 0

        def broken(**event):
            raise RuntimeError("events client closed")

        assert deliver(con, "r1", options, emit=broken)["failed"] == 1
        sent: list[dict] = []
        assert deliver(con, "r1", options, emit=lambda **event: sent.append(event) or event)["delivered"] == 1
        assert con.execute("SELECT status, attempts FROM watch_deliveries").fetchall() == [("delivered", 2)]
        assert sent[0]["payload"]["count"] == con.execute("SELECT count(*) FROM watch_hits").fetchone()[0]
        assert deliver(con, "r1", options, emit=lambda **event: sent.append(event) or event)["delivered"] == 0
    finally:
        con.close()
