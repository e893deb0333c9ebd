"""Full-text search: a DuckDB fts index (BM25) over articles' title and text, offline, kept up
to date by each run, plus a scan of the tail.

The fts extension ships as a Python package (duckdb-extension-fts), so loading it needs no
network. Its build reads every article and it has no update of its own, so rebuilding after
each run would make a run cost what the warehouse holds. Instead a run builds the index only
where there is none (the pragma makes its tables empty, and the articles are folded in a chunk
at a time), and otherwise folds its own articles into it at its end (`fold_tail`):
their old postings out, their new ones in, the document frequencies and statistics moved,
all as the build makes them (a test checks that a folded index scores as a rebuilt one), so
a run's cost follows its new and changed articles. Articles stored since the index was last
brought up to date (the tail: what a run killed before its fold stored) are scored at query
time with the same tokenizer, stop words, stemmer and BM25 formula over the index's
statistics, and the next run folds them in: every article is searchable as soon as its run's
load has committed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

import duckdb
from duckdb_extensions import import_extension

from warehouse.db import transaction

INDEX_SCHEMA = "fts_main_articles"
# The tail: articles with a version first seen since the index was brought up to date ($built),
# and those a run stored or found changed with a text they had before, whose version row is an
# old one (changed back to an earlier version; folded into another article, then stored again):
# the crawl events of runs begun since. Both times are the writer's clock (a run's row is begun
# once it holds the warehouse); an event's own time is its fetch's, on a Dask worker's clock,
# and only narrows the scan to the events of the last day.
TAIL_IDS = """
SELECT article_id FROM article_versions WHERE seen_at >= $built
UNION SELECT article_id FROM crawl_events
WHERE event_at >= $built - INTERVAL 1 DAY AND run_id IN (SELECT run_id FROM runs WHERE started_at >= $built)
  AND change IN ('new', 'updated') AND article_id IS NOT NULL
"""
log = logging.getLogger("socwatch.search")


def load_fts(con: duckdb.DuckDBPyConnection) -> None:
    import_extension("fts", con=con)
    con.execute("LOAD fts")


# Articles folded in at a time by a build: its memory follows this, not the warehouse (a
# million articles, 25,000 at a time, within the writer's 128 MB: 0.52 GB resident, the
# process and all), and smaller chunks cost more statements.
BUILD_CHUNK = 25_000
CREATE_INDEX = (
    "PRAGMA create_fts_index('articles', 'article_id', 'title', 'text', stemmer = 'porter', "
    "stopwords = 'english', strip_accents = 1, lower = 1, overwrite = 1)"
)


def rebuild_index(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)build the index over articles.title and articles.text (accents stripped, lower
    case, Porter stemming, English stop words), and note when.

    The build works within the connection's memory limit (a writer's is the db_memory setting)
    and spills to disk beyond it; part of a chunk's work is held outside that limit. Where the
    limit is too small even for that, the build is done once more with DuckDB's own limit
    rather than leave the warehouse without an index."""
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
    """The index, built in one transaction (a build that fails, or a process killed while it
    builds, leaves the previous index as it was) as folds into empty tables.

    The fts pragma makes the index's tables, stop words and macros over an empty stand-in for
    `articles` (a temporary table of that name, which the pragma reads before the warehouse's;
    it still names the index after `main.articles`); then every article is folded in,
    `BUILD_CHUNK` at a time, as runs fold theirs. The pragma's own build holds the whole
    warehouse's words at once: a million articles did not fit in the writer's 128 MB and
    took 17 GB with DuckDB's own limit. A fold holds one chunk's, so a build's memory follows
    the chunk, not the warehouse (docs/performance.md), and the index is the one the pragma
    makes (a test compares them)."""
    with transaction(con):
        # A failed statement rolls the transaction back, the stand-in with it.
        con.execute("CREATE OR REPLACE TEMP TABLE articles AS SELECT article_id, title, text FROM main.articles LIMIT 0")
        con.execute(CREATE_INDEX)
        con.execute("DROP TABLE temp.articles")
        [documents] = con.execute(f"SELECT count(*) FROM {INDEX_SCHEMA}.docs").fetchone()
        if documents:  # a pragma that read the warehouse's articles after all: nothing to fold
            raise RuntimeError(f"the fts pragma indexed main.articles ({documents} documents), not its empty stand-in")
        con.execute("CREATE OR REPLACE TEMP TABLE build_ids AS "
                    "SELECT article_id, (row_number() OVER () - 1) // $chunk AS part FROM articles", {"chunk": BUILD_CHUNK})
        [parts] = con.execute("SELECT coalesce(max(part) + 1, 0) FROM build_ids").fetchone()
        for part in range(parts):
            con.execute("CREATE OR REPLACE TEMP TABLE fold_ids AS SELECT article_id FROM build_ids WHERE part = ?", [part])
            _fold_in(con)
        con.execute(_STATS)
    _drop_fold_tables(con, "build_ids")


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
    return con.execute(f"SELECT count(*) FROM ({TAIL_IDS})", {"built": built[0]}).fetchone()[0]


def index_is_stale(con: duckdb.DuckDBPyConnection) -> bool:
    """True when there is no index, or content was stored after it was built (by this run,
    or by an earlier run that ended before rebuilding it): that content is in the tail."""
    tail = tail_size(con)
    return tail is None or tail > 0


def index_needs_rebuild(con: duckdb.DuckDBPyConnection) -> bool:
    """True when there is no index, or its tail holds more articles than the index does
    (folding that many in would cost what a build costs)."""
    built = _built(con)
    if built is None:
        return True
    return tail_size(con, built) > built[1]


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
    {TAIL_IDS}
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


# Folding the tail into the index: the postings of the tail's articles (and of articles no
# longer stored) come out, those of the tail's current title and text go in, as the fts build
# makes them: a document per article (its length the words of both fields, stop words out),
# a term per Porter stem with the number of documents holding it, a posting per word and field.
# `fold_ids` and `fold_words` are this connection's temporary tables.
_FOLD_GONE = f"""
CREATE OR REPLACE TEMP TABLE fold_gone AS
SELECT docid FROM {INDEX_SCHEMA}.docs
WHERE name IN (SELECT article_id FROM fold_ids) OR ($deleted AND name NOT IN (SELECT article_id FROM articles))
"""
_UNINDEX = (
    f"UPDATE {INDEX_SCHEMA}.dict AS d SET df = d.df - g.n FROM (SELECT termid, count(DISTINCT docid) AS n "
    f"FROM {INDEX_SCHEMA}.terms WHERE docid IN (SELECT docid FROM fold_gone) GROUP BY termid) g WHERE d.termid = g.termid",
    f"DELETE FROM {INDEX_SCHEMA}.terms WHERE docid IN (SELECT docid FROM fold_gone)",
    f"DELETE FROM {INDEX_SCHEMA}.docs WHERE docid IN (SELECT docid FROM fold_gone)",
)
_FOLD_WORDS = f"""
CREATE OR REPLACE TEMP TABLE fold_words AS
SELECT article_id, fieldid, stem(w, 'porter') AS term
FROM (SELECT a.article_id, f.fieldid, unnest({INDEX_SCHEMA}.tokenize(CASE f.field WHEN 'title' THEN a.title ELSE a.text END)) AS w
      FROM articles a CROSS JOIN {INDEX_SCHEMA}.fields f WHERE a.article_id IN (SELECT article_id FROM fold_ids))
WHERE w <> '' AND w NOT IN (SELECT sw FROM {INDEX_SCHEMA}.stopwords)
"""
_INDEX = (
    f"""INSERT INTO {INDEX_SCHEMA}.docs
        SELECT (SELECT coalesce(max(docid) + 1, 0) FROM {INDEX_SCHEMA}.docs) + row_number() OVER (ORDER BY i.article_id) - 1,
               i.article_id, count(w.term)
        FROM fold_ids i JOIN articles a USING (article_id) LEFT JOIN fold_words w USING (article_id)
        GROUP BY i.article_id""",
    f"""INSERT INTO {INDEX_SCHEMA}.dict
        SELECT (SELECT coalesce(max(termid) + 1, 0) FROM {INDEX_SCHEMA}.dict) + row_number() OVER (ORDER BY term) - 1, term, 0
        FROM (SELECT DISTINCT term FROM fold_words) WHERE term NOT IN (SELECT term FROM {INDEX_SCHEMA}.dict)""",
    f"""UPDATE {INDEX_SCHEMA}.dict AS d SET df = d.df + n.n
        FROM (SELECT term, count(DISTINCT article_id) AS n FROM fold_words GROUP BY term) n WHERE d.term = n.term""",
    # The folded articles' old documents are gone by now: their names join only the new ones.
    f"""INSERT INTO {INDEX_SCHEMA}.terms
        SELECT docs.docid, w.fieldid, d.termid FROM fold_words w JOIN {INDEX_SCHEMA}.docs docs ON docs.name = w.article_id
        JOIN {INDEX_SCHEMA}.dict d ON d.term = w.term""",
)
_STATS = (f"UPDATE {INDEX_SCHEMA}.stats SET num_docs = (SELECT count(*) FROM {INDEX_SCHEMA}.docs), "
          f"avgdl = (SELECT avg(len) FROM {INDEX_SCHEMA}.docs)")


def fold_tail(con: duckdb.DuckDBPyConnection, pause: Callable[[str], None] = lambda stage: None) -> int:
    """Fold the tail into the index, in one transaction: the articles stored or changed since it
    was brought up to date are indexed by their current title and text, those no longer stored
    leave it, and the index is up to date again. The cost follows the tail, not the warehouse:
    a run folds its own articles at its end (a run killed before it leaves a tail the next one
    folds). Returns how many articles were folded in; 0 without an index (a run builds one).
    `pause("folding")` is called before the transaction commits (a crash test's failpoint)."""
    load_fts(con)
    built = _built(con)
    if built is None:
        return 0
    folded_at = datetime.now(UTC)
    with transaction(con):
        con.execute(f"CREATE OR REPLACE TEMP TABLE fold_ids AS SELECT article_id FROM ({TAIL_IDS}) "
                    "WHERE article_id IN (SELECT article_id FROM articles)", {"built": built[0]})
        [n] = con.execute("SELECT count(*) FROM fold_ids").fetchone()
        # Articles gone since (folded into another): the index holds more documents than the
        # articles it should hold. Counting is cheap; looking for them is a scan of both.
        [(indexed, stored)] = con.execute(
            f"SELECT (SELECT count(*) FROM {INDEX_SCHEMA}.docs WHERE name NOT IN (SELECT article_id FROM fold_ids)), "
            "(SELECT count(*) FROM articles WHERE article_id NOT IN (SELECT article_id FROM fold_ids))").fetchall()
        deleted = indexed != stored
        if n or deleted:
            con.execute(_FOLD_GONE, {"deleted": deleted})
            if con.execute("SELECT count(*) FROM fold_gone").fetchone()[0]:
                for sql in _UNINDEX:
                    con.execute(sql)
            if n:
                _fold_in(con)
            con.execute(_STATS)
        con.execute("UPDATE search_index_state SET built_at = ?, documents = (SELECT count(*) FROM articles) "
                    "WHERE index_name = ?", [folded_at, INDEX_SCHEMA])
        pause("folding")
    _drop_fold_tables(con, "fold_gone")
    return n


def _fold_in(con: duckdb.DuckDBPyConnection) -> None:
    """Index the articles of `fold_ids` by their current title and text (none of them is in the
    index): their documents, new terms, document frequencies and postings."""
    con.execute(_FOLD_WORDS)
    for sql in _INDEX:
        con.execute(sql)


def _drop_fold_tables(con: duckdb.DuckDBPyConnection, *more: str) -> None:
    for table in ("fold_ids", "fold_words", *more):
        con.execute(f"DROP TABLE IF EXISTS temp.{table}")
