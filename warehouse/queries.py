"""Read queries: what the flows and the CLI ask of the warehouse, in one place."""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from warehouse.db import register


def articles_to_classify(con: duckdb.DuckDBPyConnection, version: str, after: str, limit: int, everything: bool = False) -> list[tuple]:
    """The next `limit` stored articles after `after` (by id) whose tags are not of `version`
    (all of them with `everything`): (article_id, title, text, publisher country, language,
    original url); a translation's title and text are its original's, which it is tagged from."""
    return con.execute(
        """
        SELECT a.article_id, coalesce(a.original_title, a.title), coalesce(a.original_text, a.text), s.country,
               a.language, a.original_url
        FROM articles a
        LEFT JOIN article_labels l USING (article_id)
        LEFT JOIN sources s ON s.source = a.source
        WHERE a.article_id > ? AND (? OR l.taxonomy_version IS DISTINCT FROM ?)
        ORDER BY a.article_id
        LIMIT ?
        """,
        [after, everything, version, limit],
    ).fetchall()


def count_to_classify(con: duckdb.DuckDBPyConnection, version: str, everything: bool = False) -> int:
    """How many stored articles `articles_to_classify` will give, from the start."""
    return con.execute(
        "SELECT count(*) FROM articles a LEFT JOIN article_labels l USING (article_id) "
        "WHERE ? OR l.taxonomy_version IS DISTINCT FROM ?", [everything, version]).fetchone()[0]


def source_alerts(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    """(source, alert, reason) of every source source_health flags as failing or silent."""
    return con.execute("SELECT source, alert, alert_reason FROM source_health WHERE alert IS NOT NULL ORDER BY source").fetchall()


def validators(con: duckdb.DuckDBPyConnection, urls: Iterable[str]) -> dict[str, tuple[str | None, str | None]]:
    """(ETag, Last-Modified) stored for each of `urls` that has them."""
    import polars as pl  # not at the top: the CLI's read commands import this module
    frame = pl.DataFrame({"url": list(urls)}, schema={"url": pl.Utf8})
    if frame.height == 0:
        return {}
    register(con, "wanted_urls", frame)
    try:
        rows = con.execute(
            "SELECT c.url, c.etag, c.last_modified FROM http_cache c JOIN wanted_urls w USING (url)"
        ).fetchall()
    finally:
        con.unregister("wanted_urls")
    return {url: (etag, modified) for url, etag, modified in rows}


SOURCE_HEALTH = """
    SELECT source, articles, strftime(last_success_at, '%Y-%m-%d %H:%M') AS last_success,
           strftime(last_published_at, '%Y-%m-%d %H:%M') AS last_published, round(cadence_h, 1) AS cadence_h,
           round(silent_for_h, 1) AS silent_h, failure_streak AS failed_runs, coalesce(alert, 'ok') AS alert
    FROM source_health ORDER BY alert IS NULL, source"""

# Each watchlist with its hits, its last hit and the last delivery of each channel.
WATCHLISTS = """
    SELECT w.name AS watchlist, w.origin,
           (SELECT count(*) FROM watch_hits h WHERE h.watchlist = w.name AND h.run_id IS NOT NULL) AS hits,
           (SELECT count(*) FROM watch_hits h WHERE h.watchlist = w.name AND h.run_id IS NULL) AS baseline,
           (SELECT strftime(max(h.found_at), '%Y-%m-%d %H:%M') FROM watch_hits h
            WHERE h.watchlist = w.name AND h.run_id IS NOT NULL) AS last_hit,
           (SELECT string_agg(channel || ' ' || status || ' ' || strftime(last_attempt_at, '%Y-%m-%d %H:%M')
                              || CASE WHEN http_status IS NOT NULL THEN ' HTTP ' || http_status ELSE '' END, '; ' ORDER BY channel)
            FROM (SELECT DISTINCT ON (d.channel) * FROM watch_deliveries d WHERE d.watchlist = w.name
                  ORDER BY d.channel, d.last_attempt_at DESC)) AS last_delivery,
           (SELECT count(*) FROM watch_deliveries d WHERE d.watchlist = w.name AND d.status = 'failed') AS failed_deliveries
    FROM watchlists w ORDER BY w.name"""

# $run: a run id or its first characters (or NULL); $all: also records resolved by a later load.
QUARANTINE = (
    'SELECT quarantine_id AS id, left(run_id, 8) AS run, table_name AS "table", record_key AS key, "check", reason, '
    "resolved_at IS NOT NULL AS resolved FROM quarantine "
    "WHERE ($run IS NULL OR starts_with(run_id, $run)) AND ($all OR resolved_at IS NULL) "
    "ORDER BY created_at DESC, quarantine_id DESC")


def last_run(con: duckdb.DuckDBPyConnection) -> tuple | None:
    """(command, status, finished at as text, run_id) of the latest run that is not running."""
    return con.execute("SELECT command, status, strftime(finished_at, '%Y-%m-%d %H:%M'), run_id FROM runs "
                       "WHERE status <> 'running' ORDER BY started_at DESC LIMIT 1").fetchone()


def last_finished_at(con: duckdb.DuckDBPyConnection):
    """When the latest run that is not running finished (None before any)."""
    return con.execute("SELECT max(finished_at) FROM runs WHERE status <> 'running'").fetchone()[0]


def events(con: duckdb.DuckDBPyConnection, country: str | None = None, partners: str | None = None,
           since=None, linked_only: bool = False, limit: int = 50) -> list[tuple]:
    """Events, latest first, with their articles: (event_id, first_published_at, title, type,
    partners, countries, languages, [(published_at, source, role, title, url), ...])."""
    rows = con.execute(
        """
        SELECT e.event_id, e.first_published_at, e.title, e.type, e.partners, e.countries, e.languages,
               list((coalesce(a.published_at, a.first_seen_at), a.source, x.role, a.title, a.url)
                    ORDER BY coalesce(a.published_at, a.first_seen_at), a.article_id)
        FROM events e
        JOIN event_articles x USING (event_id)
        JOIN articles a ON a.article_id = x.article_id
        WHERE (?::VARCHAR IS NULL OR list_contains(e.countries, ?))
          AND (?::VARCHAR IS NULL OR list_contains(e.partners, ?))
          AND (?::DATE IS NULL OR e.first_published_at >= ?::DATE)
          AND (NOT ? OR e.articles > 1)
        GROUP BY ALL
        ORDER BY e.first_published_at DESC, e.event_id
        LIMIT ?
        """,
        [country, country, partners, partners, since, since, linked_only, limit],
    ).fetchall()
    return [(*r[:7], [tuple(a.values()) if isinstance(a, dict) else tuple(a) for a in r[7]]) for r in rows]
