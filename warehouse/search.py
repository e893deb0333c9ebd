"""Full-text search: a DuckDB fts index (BM25) over articles' title and text, offline.

The fts extension ships as a Python package (duckdb-extension-fts), so loading it needs no
network. The index is rebuilt at the end of every ingest run that changed articles.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import duckdb
from duckdb_extensions import import_extension

INDEX_SCHEMA = "fts_main_articles"


def load_fts(con: duckdb.DuckDBPyConnection) -> None:
    import_extension("fts", con=con)
    con.execute("LOAD fts")


def rebuild_index(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)build the index over articles.title and articles.text (accents stripped, lower
    case, Porter stemming, English stop words), and note when."""
    load_fts(con)
    con.execute(
        "PRAGMA create_fts_index('articles', 'article_id', 'title', 'text', stemmer = 'porter', "
        "stopwords = 'english', strip_accents = 1, lower = 1, overwrite = 1)"
    )
    con.execute(
        "INSERT OR REPLACE INTO search_index_state SELECT ?, now(), count(*) FROM articles", [INDEX_SCHEMA]
    )


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
