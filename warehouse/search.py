"""Full-text search: a DuckDB fts index (BM25) over articles' title and text, offline, plus
a scan of the tail.

The fts extension ships as a Python package (duckdb-extension-fts), so loading it needs no
network. It has no incremental update: a build reads every article, so rebuilding after each
run would make a run cost what the warehouse holds. Instead the index covers the articles as
they were when it was built, and the articles stored or changed since (the tail) are scored
at query time with the same tokenizer, stop words, stemmer and BM25 formula, over the index's
own statistics (document count, average length, document frequencies). A run rebuilds the
index only when the tail has grown past a share of it (TAIL_SHARE, between TAIL_MIN and
TAIL_MAX articles): the build's cost is spread over the runs that filled the tail, every
article is searchable as soon as its run ends, and a query scans at most TAIL_MAX articles' text.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

import duckdb
from duckdb_extensions import import_extension

from warehouse.db import transaction

INDEX_SCHEMA = "fts_main_articles"
# A run rebuilds the index when the articles stored or changed since the build pass 2% of those
# indexed, but not before 2,000 of them, and at the latest at 5,000: a query scans the tail's text
# (about 0.6 ms an article on 2 cores: 2,000 add 1.2 s to a query over 100,000 articles).
TAIL_SHARE = 0.02
TAIL_MIN = 2_000
TAIL_MAX = 5_000
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


def _built(con: duckdb.DuckDBPyConnection) -> tuple[datetime, int] | None:
    if not has_index(con):
        return None
    return con.execute("SELECT built_at, documents FROM search_index_state WHERE index_name = ?", [INDEX_SCHEMA]).fetchone()


def tail_size(con: duckdb.DuckDBPyConnection, built: tuple[datetime, int] | None = None) -> int | None:
    """Articles stored or changed since the index was built (searched by a scan); None
    without an index."""
    built = built or _built(con)
    if built is None:
        return None
    return con.execute("SELECT count(DISTINCT article_id) FROM article_versions WHERE seen_at >= ?", [built[0]]).fetchone()[0]


def index_is_stale(con: duckdb.DuckDBPyConnection) -> bool:
    """True when there is no index, or content was stored after it was built (by this run,
    or by an earlier run that ended before rebuilding it): that content is in the tail."""
    tail = tail_size(con)
    return tail is None or tail > 0


def index_needs_rebuild(con: duckdb.DuckDBPyConnection) -> bool:
    """True when there is no index, or its tail has grown past TAIL_SHARE of it (at least
    TAIL_MIN articles, at most TAIL_MAX)."""
    built = _built(con)
    if built is None:
        return True
    return tail_size(con, built) > max(TAIL_MIN, min(TAIL_SHARE * built[1], TAIL_MAX))


@dataclass(frozen=True)
class Hit:
    score: float
    published_at: datetime | None
    source: str
    title: str
    url: str
    themes: list[str]


# BM25 as the fts extension computes it (k = 1.2, b = 0.75), for the tail: its articles are
# tokenized as the index was (lower case, accents stripped, English stop words out, Porter
# stems), and scored with the index's document count, average length and document frequencies.
SEARCH_SQL = f"""
WITH tail AS (
    SELECT DISTINCT article_id FROM article_versions WHERE seen_at >= $built
), indexed AS (
    SELECT a.article_id, {INDEX_SCHEMA}.match_bm25(a.article_id, $query) AS score
    FROM articles a WHERE a.article_id NOT IN (SELECT article_id FROM tail)
), query_terms AS (
    SELECT DISTINCT stem(w, 'porter') AS term
    FROM (SELECT unnest({INDEX_SCHEMA}.tokenize($query)) AS w)
    WHERE w <> '' AND w NOT IN (SELECT sw FROM {INDEX_SCHEMA}.stopwords)
), tail_words AS (
    SELECT a.article_id, stem(w, 'porter') AS term
    FROM (SELECT a.article_id, unnest({INDEX_SCHEMA}.tokenize(concat_ws(' ', a.title, a.text))) AS w
          FROM articles a WHERE a.article_id IN (SELECT article_id FROM tail)) a
    WHERE w <> '' AND w NOT IN (SELECT sw FROM {INDEX_SCHEMA}.stopwords)
), tail_scored AS (
    SELECT tf.article_id,
           sum(log((s.num_docs - coalesce(d.df, 0) + 0.5) / (coalesce(d.df, 0) + 0.5) + 1)
               * (tf.tf * 2.2) / (tf.tf + 1.2 * (0.25 + 0.75 * l.len / s.avgdl))) AS score
    FROM (SELECT article_id, term, count(*) AS tf FROM tail_words
          WHERE term IN (SELECT term FROM query_terms) GROUP BY article_id, term) tf
    JOIN (SELECT article_id, count(*) AS len FROM tail_words GROUP BY article_id) l USING (article_id)
    LEFT JOIN {INDEX_SCHEMA}.dict d ON d.term = tf.term
    CROSS JOIN {INDEX_SCHEMA}.stats s
    GROUP BY tf.article_id
), hits AS (
    SELECT article_id, score FROM indexed WHERE score IS NOT NULL
    UNION ALL SELECT article_id, score FROM tail_scored
)
SELECT h.score, a.published_at, a.source, a.title, a.url, a.themes
FROM hits h JOIN announcements a USING (article_id)
WHERE ($theme IS NULL OR list_contains(a.themes, $theme))
  AND ($country IS NULL OR list_contains(a.countries, $country))
  AND ($since IS NULL OR a.published_at >= $since)
ORDER BY h.score DESC, a.published_at DESC NULLS LAST
LIMIT $limit
"""


def search(con: duckdb.DuckDBPyConnection, query: str, *, limit: int = 20, theme: str | None = None,
           country: str | None = None, since: date | None = None) -> list[Hit]:
    """Articles matching `query` (any of its words), best first (BM25), with optional filters:
    those in the index, and those stored or changed since it was built (the tail)."""
    load_fts(con)
    built = _built(con)
    if built is None:
        return []
    rows = con.execute(SEARCH_SQL, {"query": query, "theme": theme, "country": country, "since": since,
                                    "limit": limit, "built": built[0]}).fetchall()
    return [Hit(*row) for row in rows]
