"""Watchlists: saved filters over announcements, and the articles that newly match them.

A watchlist matches an article when every filter it has holds: for each list (themes,
countries, partner pairs, types, languages, sources) the article has any of its values; a
`bilateral` watchlist wants bilateral articles; a query wants every one of its words in the
title or text (lower case, accents stripped, Porter stems: as `search` reads words).

Hits are recorded in the transaction that stores or re-tags the articles (`record_hits`, called
by warehouse/load.py), once per watchlist and article: a killed run rolls its batch's hits back
with the batch, and its rerun records them then. What a watchlist matched when it was made is
its baseline (hits without a run), shown in its feed but never delivered as news.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from pathlib import Path

import duckdb

from warehouse.db import now, transaction

NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")  # used with fullmatch
LIST_FILTERS = ("themes", "countries", "partners", "types", "languages", "sources")


def _words_sql(text: str) -> str:
    """The words of a text (an SQL expression) as the search index reads them: letters only,
    lower case, accents stripped."""
    return f"string_split_regex(lower(strip_accents({text})), '[^a-z]+')"


@dataclass(frozen=True)
class Watchlist:
    name: str
    themes: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    partners: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    bilateral: bool = False
    query: str | None = None
    query_terms: tuple[str, ...] = ()
    feed: bool = True
    webhook_url: str | None = None
    secret_env: str | None = None
    origin: str = "cli"
    created_at: datetime | None = field(default=None, compare=False)

    def filters(self) -> tuple:
        """What it matches on (not where its hits go)."""
        return (*(getattr(self, name) for name in LIST_FILTERS), self.bilateral, self.query_terms)

    def describe(self) -> str:
        """The filter in a line: "themes drugs; partners GB-NL; query "cocaine"" (or "everything")."""
        parts = [f"{name} {', '.join(getattr(self, name))}" for name in LIST_FILTERS if getattr(self, name)]
        if self.bilateral:
            parts.append("bilateral")
        if self.query:
            parts.append(f'query "{self.query}"')
        return "; ".join(parts) or "every announcement"


_COLUMNS = [f.name for f in fields(Watchlist)]


def feeds_folder(feeds: str, db: Path | str) -> Path:
    """The folder of the watchlists' Atom feeds: a relative one is beside the warehouse."""
    return Path(feeds) if Path(feeds).is_absolute() else Path(db).parent / feeds


def query_terms(con: duckdb.DuckDBPyConnection, query: str) -> tuple[str, ...]:
    """The stems a query looks for, in its order, each once; () for a query with no word."""
    _load_fts(con)
    [stems] = con.execute(f"SELECT list_transform(list_filter({_words_sql('$q')}, w -> w <> ''), "
                          "w -> stem(w, 'porter'))", {"q": query}).fetchone()
    return tuple(dict.fromkeys(stems))


def _load_fts(con: duckdb.DuckDBPyConnection) -> None:
    from duckdb_extensions import import_extension

    import_extension("fts", con=con)
    con.execute("LOAD fts")


def watchlists(con: duckdb.DuckDBPyConnection, name: str | None = None) -> list[Watchlist]:
    rows = con.execute(f"SELECT {', '.join(_COLUMNS)} FROM watchlists WHERE $name IS NULL OR name = $name ORDER BY name",
                       {"name": name}).fetchall()
    out = []
    for row in rows:
        values = dict(zip(_COLUMNS, row, strict=True))
        for key in (*LIST_FILTERS, "query_terms"):
            values[key] = tuple(values[key])
        out.append(Watchlist(**values))
    return out


def save(con: duckdb.DuckDBPyConnection, watchlist: Watchlist) -> int:
    """Store `watchlist` (replacing one of its name) with its baseline: the articles it matches
    now, recorded as hits without a run. Returns the size of the baseline."""
    with transaction(con):
        return _save(con, watchlist)


def _save(con: duckdb.DuckDBPyConnection, watchlist: Watchlist) -> int:
    old = watchlists(con, watchlist.name)
    if old and old[0] == watchlist:
        return 0  # unchanged (a watchlists file read again): its hits and baseline stay as they are
    same_filter = bool(old) and old[0].filters() == watchlist.filters()
    if old and not same_filter:  # another filter: its hits (and their deliveries) are another list's
        for table in ("watch_deliveries", "watch_hits"):
            con.execute(f"DELETE FROM {table} WHERE watchlist = ?", [watchlist.name])
    con.execute("DELETE FROM watchlists WHERE name = ?", [watchlist.name])
    values = {c: getattr(watchlist, c) for c in _COLUMNS}
    # The same filter sent elsewhere keeps its time: hits not yet delivered stay due.
    values.update({k: list(values[k]) for k in (*LIST_FILTERS, "query_terms")},
                  created_at=old[0].created_at if same_filter else now())
    con.execute(f"INSERT INTO watchlists ({', '.join(_COLUMNS)}) VALUES ({', '.join('$' + c for c in _COLUMNS)})", values)
    return _record(con, "articles", None, only=watchlist.name)


def remove(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Drop a watchlist with its hits and deliveries; False when there is none of that name."""
    with transaction(con):
        if not con.execute("SELECT count(*) FROM watchlists WHERE name = ?", [name]).fetchone()[0]:
            return False
        for table, column in (("watch_deliveries", "watchlist"), ("watch_hits", "watchlist"), ("watchlists", "name")):
            con.execute(f"DELETE FROM {table} WHERE {column} = ?", [name])
        return True


def sync_declared(con: duckdb.DuckDBPyConnection, origin: str, declared: Sequence[Watchlist]) -> dict[str, int]:
    """Make the watchlists of a watchlists file (`origin`) those it declares: new or changed
    ones saved with their baseline, those it no longer declares removed. Watchlists made with
    `socwatch watch add` are left alone, unless the file declares one of the same name."""
    counts = {"saved": 0, "removed": 0}
    names = {w.name for w in declared}
    with transaction(con):
        for watchlist in declared:
            old = watchlists(con, watchlist.name)
            if not old or old[0] != watchlist:
                _save(con, watchlist)
                counts["saved"] += 1
        for (name,) in con.execute("SELECT name FROM watchlists WHERE origin = ?", [origin]).fetchall():
            if name not in names:
                for table, column in (("watch_deliveries", "watchlist"), ("watch_hits", "watchlist"), ("watchlists", "name")):
                    con.execute(f"DELETE FROM {table} WHERE {column} = ?", [name])
                counts["removed"] += 1
    return counts


def _match_sql(ids_relation: str, with_query: bool) -> str:
    """Which watchlists each article of `ids_relation` matches, and why; the announcements view
    is read for those articles only, and their texts' stems only for a query (stem() is the fts
    extension's)."""
    words = _words_sql("concat_ws(' ', a.title, a.text)")
    stems = f"list_distinct(list_transform({words}, w -> stem(w, 'porter')))" if with_query else "[]::VARCHAR[]"
    return f"""
WITH batch AS (
    SELECT n.* FROM announcements n WHERE n.article_id IN (SELECT article_id FROM {ids_relation})
), words AS (
    SELECT a.article_id, {stems} AS stems FROM articles a WHERE a.article_id IN (SELECT article_id FROM {ids_relation})
)
SELECT w.name, b.article_id,
       list_concat(
           list_transform(list_intersect(b.themes, w.themes), x -> 'theme: ' || x),
           list_transform(list_intersect(b.countries, w.countries), x -> 'country: ' || x),
           list_transform(list_intersect(b.partners, w.partners), x -> 'partners: ' || x),
           CASE WHEN len(w.types) > 0 THEN ['type: ' || b.type] ELSE [] END,
           CASE WHEN len(w.languages) > 0 THEN ['language: ' || b.language] ELSE [] END,
           CASE WHEN len(w.sources) > 0 THEN ['source: ' || b.source] ELSE [] END,
           CASE WHEN w.bilateral THEN ['bilateral'] ELSE [] END,
           CASE WHEN w.query IS NOT NULL THEN ['query: ' || w.query] ELSE [] END) AS reasons
FROM watchlists w CROSS JOIN batch b LEFT JOIN words s ON s.article_id = b.article_id
WHERE ($only IS NULL OR w.name = $only)
  AND (len(w.themes) = 0 OR list_has_any(b.themes, w.themes))
  AND (len(w.countries) = 0 OR list_has_any(b.countries, w.countries))
  AND (len(w.partners) = 0 OR list_has_any(b.partners, w.partners))
  AND (len(w.types) = 0 OR list_contains(w.types, b.type))
  AND (len(w.languages) = 0 OR list_contains(w.languages, b.language))
  AND (len(w.sources) = 0 OR list_contains(w.sources, b.source))
  AND (NOT w.bilateral OR b.bilateral)
  AND (len(w.query_terms) = 0 OR list_has_all(coalesce(s.stems, []), w.query_terms))
"""


def record_hits(con: duckdb.DuckDBPyConnection, ids_relation: str, run_id: str) -> int:
    """Record the hits of the articles of `ids_relation` just stored or re-tagged (in the
    caller's transaction): each watchlist and article that match and have no hit yet."""
    return _record(con, ids_relation, run_id)


def _record(con: duckdb.DuckDBPyConnection, ids_relation: str, run_id: str | None, only: str | None = None) -> int:
    [n, with_query] = con.execute("SELECT count(*), bool_or(len(query_terms) > 0) FROM watchlists "
                                  "WHERE $only IS NULL OR name = $only", {"only": only}).fetchone()
    if not n:
        return 0
    if with_query:
        _load_fts(con)
    sql = _match_sql(ids_relation, bool(with_query))
    [inserted] = con.execute(f"INSERT INTO watch_hits SELECT m.name, m.article_id, $run, $stamp, m.reasons FROM ({sql}) m "
                             "ON CONFLICT DO NOTHING", {"run": run_id, "stamp": now(), "only": only}).fetchone()
    return inserted  # the new hits: a match already recorded is not counted again


def fold_hits(con: duckdb.DuckDBPyConnection, relation: str) -> None:
    """Hits of articles folded into another (`relation`: old_id, new_id) move to it."""
    con.execute("INSERT INTO watch_hits SELECT h.watchlist, f.new_id, h.run_id, h.found_at, h.reasons "
                f"FROM watch_hits h JOIN {relation} f ON h.article_id = f.old_id WHERE f.old_id <> f.new_id "
                "ON CONFLICT DO NOTHING")
    con.execute(f"DELETE FROM watch_hits WHERE article_id IN (SELECT old_id FROM {relation} WHERE old_id <> new_id)")


@dataclass(frozen=True)
class Hit:
    watchlist: str
    article_id: str
    run_id: str | None
    found_at: datetime
    reasons: list[str]
    published_at: datetime | None
    source: str
    title: str
    url: str
    themes: list[str]
    partners: list[str]
    countries: list[str]
    type: str
    language: str | None


_HITS_SQL = """
SELECT h.watchlist, h.article_id, h.run_id, h.found_at, h.reasons, n.published_at, n.source, n.title, n.url,
       n.themes, n.partners, n.countries, n.type, n.language
FROM watch_hits h JOIN announcements n USING (article_id)
WHERE h.watchlist = $name AND ($run IS NULL OR h.run_id = $run) AND ($since IS NULL OR n.published_at >= $since)
ORDER BY n.published_at DESC NULLS LAST, h.article_id
LIMIT $limit
"""


def hits(con: duckdb.DuckDBPyConnection, name: str, *, run_id: str | None = None, since: date | None = None,
         limit: int = 1000) -> list[Hit]:
    """A watchlist's hits, latest published first (of one run, or published since a day)."""
    rows = con.execute(_HITS_SQL, {"name": name, "run": run_id, "since": since, "limit": limit}).fetchall()
    return [Hit(*row) for row in rows]
