"""Full-text search: a DuckDB fts index (BM25) over articles' title and text, offline.

The fts extension ships as a Python package (duckdb-extension-fts), so loading it needs no
network. The index is rebuilt at the end of every ingest run that changed articles.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

import duckdb
from duckdb_extensions import import_extension

from warehouse.db import transaction

INDEX_SCHEMA = "fts_main_articles"
log = logging.getLogger("socwatch.search")


def load_fts(con: duckdb.DuckDBPyConnection) -> None:
    import_extension("fts", con=con)
    con.execute("LOAD fts")


CREATE_INDEX = (
    "PRAGMA create_fts_index('articles', 'article_id', 'title', 'text', stemmer = 'porter', "
    "stopwords = 'english', strip_accents = 1, lower = 1, overwrite = 1)"
)


def rebuild_index(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)build the index over articles.title and articles.text (accents stripped, lower
    case, Porter stemming, English stop words), and note when.

    The build works within the connection's memory limit (a writer's is the db_memory setting)
    and spills to disk beyond it; part of its work is held outside that limit, and grows with
    the number of articles. Where the limit is too small for that, the build is done once more
    with DuckDB's own limit rather than leave the warehouse without an index."""
    load_fts(con)
    fell_back = False
    [writers] = con.execute("SELECT current_setting('memory_limit')").fetchone()
    try:
        _build(con)
    except duckdb.OutOfMemoryException:
        fell_back = True
        log.warning("the search index did not fit in %s of memory (SOCWATCH_DB_MEMORY); building it with DuckDB's "
                    "own limit", writers)
        con.execute("RESET memory_limit")
        # RESET changes the setting but not the limit the buffer manager enforces (duckdb 1.5.5):
        # set DuckDB's own limit by its value.
        [own] = con.execute("SELECT current_setting('memory_limit')").fetchone()
        con.execute("SET memory_limit = ?", [own.replace(" ", "")])
        _build(con)
    con.execute(
        "INSERT OR REPLACE INTO search_index_state SELECT ?, now(), count(*) FROM articles", [INDEX_SCHEMA]
    )
    if fell_back:
        con.execute("CHECKPOINT")  # the index on disk: its blocks can leave memory again
        try:
            con.execute("SET memory_limit = ?", [writers.replace(" ", "")])
        except duckdb.OutOfMemoryException:
            log.warning("could not set the writer's memory limit back; DuckDB's own stays for this connection")


def _build(con: duckdb.DuckDBPyConnection) -> None:
    """The index, built in one transaction: a build that fails (or a process killed while it
    builds) leaves the previous index as it was."""
    with transaction(con):
        con.execute(CREATE_INDEX)


def has_index(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute("SELECT count(*) FROM duckdb_schemas() WHERE schema_name = ?", [INDEX_SCHEMA]).fetchone()[0])


def index_is_stale(con: duckdb.DuckDBPyConnection) -> bool:
    """True when there is no index, or content was stored after it was built (by this run,
    or by an earlier run that ended before rebuilding it)."""
    if not has_index(con):
        return True
    built = con.execute("SELECT built_at FROM search_index_state WHERE index_name = ?", [INDEX_SCHEMA]).fetchone()
    if built is None:
        return True
    newer = con.execute("SELECT count(*) FROM article_versions WHERE seen_at >= ?", [built[0]]).fetchone()[0]
    return newer > 0


@dataclass(frozen=True)
class Hit:
    score: float
    published_at: datetime | None
    source: str
    title: str
    url: str
    themes: list[str]


SEARCH_SQL = f"""
SELECT score, published_at, source, title, url, themes FROM (
    SELECT {INDEX_SCHEMA}.match_bm25(a.article_id, $query) AS score, a.*
    FROM announcements a
) hits
WHERE score IS NOT NULL
  AND ($theme IS NULL OR list_contains(themes, $theme))
  AND ($country IS NULL OR list_contains(countries, $country))
  AND ($since IS NULL OR published_at >= $since)
ORDER BY score DESC, published_at DESC NULLS LAST
LIMIT $limit
"""


def search(con: duckdb.DuckDBPyConnection, query: str, *, limit: int = 20, theme: str | None = None,
           country: str | None = None, since: date | None = None) -> list[Hit]:
    """Articles matching `query`, best first (BM25), with optional filters."""
    load_fts(con)
    rows = con.execute(SEARCH_SQL, {"query": query, "theme": theme, "country": country, "since": since,
                                    "limit": limit}).fetchall()
    return [Hit(*row) for row in rows]
