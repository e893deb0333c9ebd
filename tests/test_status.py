"""Freshness: source_health flags a source that keeps failing or went quiet; `socwatch status`
says which and exits 4; the run's summary carries the same alerts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import duckdb
import pytest
from typer.testing import CliRunner

from conftest import Route, loopback_sources
from flows.cli import app
from flows.http import FetchSettings
from flows.ingest import IngestOptions, run_ingest

runner = CliRunner()
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.usefixtures("prefect_harness"),
]
PAGE = ("<html lang='en'><head><title>{t}</title></head><body><main><article><h1>{t}</h1>"
        "<p>Customs officers seized a shipment of cocaine at the port and arrested two suspects.</p>"
        "<p>The investigation into the drug trafficking network behind the shipment continues, police said.</p>"
        "</article></main></body></html>")


def _site(loopback, tmp_path, newest: datetime, extra: str = ""):
    items = []
    for i in range(5):  # one a day, the newest at `newest`
        loopback.routes[f"/news/{i}"] = Route(200, PAGE.format(t=f"Cocaine seized, day {i}").encode())
        when = format_datetime(newest - timedelta(days=i))
        items.append(f"<item><title>Day {i}</title><link>{loopback.url(f'/news/{i}')}</link><pubDate>{when}</pubDate></item>")
    feed = f"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title>{''.join(items)}</channel></rss>"
    loopback.routes["/feed.xml"] = Route(200, feed.encode(), {"Content-Type": "application/rss+xml"})
    return loopback_sources(tmp_path / "sources.toml", loopback, {"loopback-news": "/feed.xml"}, extra=extra)


def status(db):
    return runner.invoke(app, ["status", "--db", str(db)])


def test_a_fresh_source_is_ok_and_status_exits_0(loopback, tmp_path):
    db = tmp_path / "w.duckdb"
    summary = run_ingest(_site(loopback, tmp_path, datetime.now(UTC) - timedelta(hours=2)), db)
    assert summary["status"] == "completed" and summary["alerts"] == []
    result = status(db)
    assert result.exit_code == 0, result.output
    assert "loopback-news" in result.stdout and " ok " in result.stdout


def test_a_source_silent_for_longer_than_its_cadence_is_flagged(loopback, tmp_path):
    db = tmp_path / "w.duckdb"
    # Daily news, the newest five days old: the cadence learnt from history is 24 h, and five
    # days is more than three times that.
    summary = run_ingest(_site(loopback, tmp_path, datetime.now(UTC) - timedelta(days=5)), db)
    assert [(s, a) for s, a, _ in summary["alerts"]] == [("loopback-news", "silent")]
    result = status(db)
    assert result.exit_code == 4
    assert "silent: loopback-news: nothing published for 12" in result.stderr
    assert "expected every 24.0 h (history), so 72 h at most" in result.stderr

    # The sources file can say what to expect: a weekly source is not late after five days.
    weekly = _site(loopback, tmp_path, datetime.now(UTC) - timedelta(days=5), "expected_every_h = 168")
    assert run_ingest(weekly, db)["alerts"] == []
    assert status(db).exit_code == 0


def test_a_feed_without_dates_teaches_no_cadence_and_is_not_called_silent(loopback, tmp_path):
    db = tmp_path / "w.duckdb"
    sources = _site(loopback, tmp_path, datetime.now(UTC))
    feed = loopback.routes["/feed.xml"]
    undated = re.sub(rb"<pubDate>[^<]*</pubDate>", b"", feed.body)
    loopback.routes["/feed.xml"] = Route(200, undated, feed.headers)
    summary = run_ingest(sources, db)
    assert summary["totals"]["new"] == 5 and summary["alerts"] == []
    con = duckdb.connect(str(db))
    try:  # a day later, still nothing learnt from a backlog stored all at once: no alert
        con.execute("UPDATE articles SET first_seen_at = first_seen_at - INTERVAL 30 HOUR, published_at = NULL")
        assert con.execute("SELECT cadence_h, alert FROM source_health").fetchall() == [(None, None)]
    finally:
        con.close()


def test_a_source_whose_feed_fails_three_runs_in_a_row_is_flagged(loopback, tmp_path):
    db = tmp_path / "w.duckdb"
    sources = _site(loopback, tmp_path, datetime.now(UTC) - timedelta(hours=1))
    assert run_ingest(sources, db)["alerts"] == []
    loopback.routes["/feed.xml"] = Route(503, b"down for maintenance")
    no_retries = IngestOptions(fetch=FetchSettings(max_retries=0))
    for n in (1, 2):
        assert run_ingest(sources, db, options=no_retries)["alerts"] == [], n
    third = run_ingest(sources, db, options=no_retries)
    assert [(s, a) for s, a, _ in third["alerts"]] == [("loopback-news", "failing")]
    result = status(db)
    assert result.exit_code == 4 and "its feed failed in the last 3 runs" in result.stderr
