"""Loads: one transaction per batch, Arrow frames in, upserts keyed by the tables' keys.

Each table's key and load rule is declared once, in its `TableSpec` (schemas/tables.py);
besides those, a load appends the new `article_versions` (article_id, content_hash) and the
`quarantine` rows of the batch, resolving earlier quarantine rows of keys that now load.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import duckdb
import polars as pl

from schemas.tables import CHILD_TABLES, TABLES, Reject, TableSpec
from warehouse import events as linking
from warehouse import watch
from warehouse.db import now, register, transaction

@dataclass
class LoadResult:
    """What one batch changed: article_id -> new | updated | unchanged."""

    changes: dict[str, str] = field(default_factory=dict)
    quarantined: int = 0


def load_batch(con: duckdb.DuckDBPyConnection, run_id: str, frames: dict[str, pl.DataFrame],
               rejects: list[Reject], seen_unchanged: Iterable[str] = (),
               folds: Sequence[tuple[str, str]] = ()) -> LoadResult:
    """Load one validated batch in one transaction: all of it, or (on error) none of it.

    `seen_unchanged`: ids of stored articles a conditional GET found not modified; only
    their last_seen_at moves. `folds`: (old, new) ids of articles stored under a URL that now
    leads to another article (a redirect, a canonical link): the old one is folded into it.
    An article of the batch whose text a stored article of the same source already has (under
    another URL) is not stored again: its event says duplicate, naming that article."""
    stamp = now()
    result = LoadResult(quarantined=len(rejects))
    with _transaction(con) as register:
        if folds:
            _fold(con, folds, register)
        frames = _without_stored_twins(con, frames, register)
        articles = frames.get("articles")
        if articles is not None and articles.height:
            register("batch_articles", articles)
            rows = con.execute(
                """
                SELECT b.article_id,
                       CASE WHEN a.article_id IS NULL THEN 'new'
                            WHEN a.content_hash <> b.content_hash THEN 'updated'
                            ELSE 'unchanged' END
                FROM batch_articles b LEFT JOIN articles a USING (article_id)
                """
            ).fetchall()
            result.changes = dict(rows)
            con.execute(
                "INSERT INTO article_versions (article_id, content_hash, title, seen_at, run_id) "
                "SELECT article_id, content_hash, title, ?, ? FROM batch_articles ON CONFLICT DO NOTHING",
                [stamp, run_id],
            )
            _write(con, TABLES["articles"], "batch_articles", articles.columns, stamp, run_id)
            _write_tags(con, frames, "batch_articles", stamp, register)
            linking.link_events(con, "batch_articles", frames)
            watch.record_hits(con, "batch_articles", run_id)
            con.execute(
                "UPDATE quarantine SET resolved_at = ? WHERE resolved_at IS NULL AND table_name = 'articles' "
                "AND record_key IN (SELECT article_id FROM batch_articles)",
                [stamp],
            )
        seen = list(seen_unchanged)
        if seen:
            # Which of them are stored, asked apart from the UPDATE: an UPDATE ... RETURNING makes
            # DuckDB rewrite every column of the row group at the next checkpoint (the texts
            # recompressed), a plain one only the two columns it sets.
            touched = con.execute("SELECT article_id FROM articles WHERE list_contains(?, article_id)", [seen]).fetchall()
            con.execute("UPDATE articles SET last_seen_at = ?, last_run_id = ? WHERE list_contains(?, article_id)",
                        [stamp, run_id, seen])
            result.changes.update({row[0]: "unchanged" for row in touched})
        cache = frames.get("http_cache")
        if cache is not None and cache.height:
            register("batch_cache", cache)
            _write(con, TABLES["http_cache"], "batch_cache", cache.columns, stamp, run_id)
        events = frames.get("crawl_events")
        if events is not None and events.height:
            if result.changes:
                changes = pl.DataFrame(
                    {"article_id": list(result.changes), "new_change": list(result.changes.values())},
                    schema={"article_id": pl.Utf8, "new_change": pl.Utf8},
                )
                events = (
                    events.join(changes, on="article_id", how="left")
                    .with_columns(pl.when(pl.col("status") == "duplicate").then(pl.col("change"))
                                  .otherwise(pl.coalesce("new_change", "change")).alias("change"))
                    .drop("new_change")
                )
            register("batch_events", events)
            _write(con, TABLES["crawl_events"], "batch_events", events.columns, stamp, run_id)
            # Every source that listed an article this run (the one that fetched it, and those
            # whose event is duplicate), derived from the events.
            con.execute(
                "INSERT INTO article_sources SELECT e.article_id, e.source, e.url, ?, ?, ? FROM batch_events e "
                "WHERE e.article_id IS NOT NULL AND e.url_kind = 'page' "
                "AND EXISTS (SELECT 1 FROM articles a WHERE a.article_id = e.article_id) "
                "ON CONFLICT (article_id, source) DO UPDATE SET url = excluded.url, last_seen_at = excluded.last_seen_at, "
                "last_run_id = excluded.last_run_id",
                [stamp, stamp, run_id],
            )
        _quarantine(con, run_id, rejects, stamp, register)
    return result


@contextmanager
def _transaction(con: duckdb.DuckDBPyConnection) -> Iterator[Callable[[str, pl.DataFrame], None]]:
    """One transaction; yields `register(name, frame)` for frames the statements read,
    which are unregistered at the end whatever happens."""
    registered: list[str] = []

    def register_frame(name: str, df: pl.DataFrame) -> None:
        register(con, name, df)
        registered.append(name)

    try:
        with transaction(con):
            yield register_frame
    finally:
        for name in registered:
            con.unregister(name)


def _write_tags(con: duckdb.DuckDBPyConnection, frames: dict[str, pl.DataFrame], ids_relation: str,
                stamp: datetime, register) -> None:
    """Replace the tag rows of the articles in `ids_relation` with those of `frames`."""
    for table in CHILD_TABLES:
        con.execute(f"DELETE FROM {table} WHERE article_id IN (SELECT article_id FROM {ids_relation})")
    for table in CHILD_TABLES:
        df = frames.get(table)
        if df is None or df.height == 0:
            continue
        name = f"batch_{table}"
        register(name, df)
        _write(con, TABLES[table], name, df.columns, stamp, "")


def _fold(con: duckdb.DuckDBPyConnection, folds: Sequence[tuple[str, str]], register, relation: str = "batch_folds") -> None:
    """Fold each old article into its new one: its sources move to the new one, and the old
    row goes with its tags (its versions and crawl events stay, as history). Most runs name
    folds whose old article is long gone (a redirecting link is named every run): those cost
    one look-up, not a delete from every table."""
    register(relation, pl.DataFrame(list(folds), schema={"old_id": pl.Utf8, "new_id": pl.Utf8}, orient="row"))
    stored = con.execute(f"SELECT count(*) FROM {relation} f JOIN articles a ON a.article_id = f.old_id "
                         "WHERE f.old_id <> f.new_id").fetchone()[0]
    if not stored:
        return
    con.execute("INSERT INTO article_sources SELECT f.new_id, s.source, s.url, s.first_seen_at, s.last_seen_at, s.last_run_id "
                f"FROM article_sources s JOIN {relation} f ON s.article_id = f.old_id WHERE f.old_id <> f.new_id "
                "ON CONFLICT DO NOTHING")
    gone = [r[0] for r in con.execute(f"SELECT old_id FROM {relation} WHERE old_id <> new_id").fetchall()]
    linking.forget(con, gone)
    watch.fold_hits(con, relation)
    for table in ("article_sources", *CHILD_TABLES, "articles"):
        con.execute(f"DELETE FROM {table} WHERE article_id IN (SELECT old_id FROM {relation} WHERE old_id <> new_id)")


def _without_stored_twins(con: duckdb.DuckDBPyConnection, frames: dict[str, pl.DataFrame],
                          register) -> dict[str, pl.DataFrame]:
    """The batch without the articles whose text (content_hash) a stored article of the same
    source has under another id; their events become duplicate, naming that article."""
    articles = frames.get("articles")
    if articles is None or articles.height == 0:
        return frames
    register("batch_hashes", articles.select("article_id", "source", "content_hash"))
    twins = con.execute(
        "SELECT b.article_id, min(a.article_id), min(a.url) FROM batch_hashes b JOIN articles a "
        "ON a.source = b.source AND a.content_hash = b.content_hash AND a.article_id <> b.article_id GROUP BY b.article_id"
    ).fetchall()
    if not twins:
        return frames
    twin_of = {new: (old, url) for new, old, url in twins}
    # A twin stored twice already (before this rule): the newcomer's own row goes into the older.
    _fold(con, [(new, old) for new, (old, _url) in twin_of.items()], register, "batch_twin_folds")
    out = {name: df.filter(~pl.col("article_id").is_in(list(twin_of))) if name in ("articles", *CHILD_TABLES) else df
           for name, df in frames.items()}
    events = frames.get("crawl_events")
    if events is not None:
        twin = pl.DataFrame({"article_id": list(twin_of), "twin_id": [v[0] for v in twin_of.values()],
                             "twin_url": [v[1] for v in twin_of.values()]})
        out["crawl_events"] = (
            events.join(twin, on="article_id", how="left")
            .with_columns(
                status=pl.when(pl.col("twin_id").is_null()).then(pl.col("status")).otherwise(pl.lit("duplicate")),
                error=pl.when(pl.col("twin_id").is_null()).then(pl.col("error"))
                .otherwise(pl.lit("the same text as ") + pl.col("twin_url")),
                article_id=pl.coalesce("twin_id", "article_id"))
            .drop("twin_id", "twin_url"))
    return out


def _write(con: duckdb.DuckDBPyConnection, spec: TableSpec, relation: str, columns: Sequence[str], stamp: datetime,
           run_id: str) -> None:
    """Write the rows of `relation` (its `columns`) into the spec's table as its load rule says,
    with the columns the load stamps itself."""
    if spec.load == "upsert":
        _upsert(con, spec, relation, columns, {"stamp": stamp, "run_id": run_id})
        return
    stamped = dict(spec.stamped)
    names = [*columns, *stamped]
    sql = f"INSERT INTO {spec.name} ({', '.join(names)}) SELECT {', '.join(columns)}{', ?' * len(stamped)} FROM {relation}"
    if spec.load == "insert":
        sql += f" ON CONFLICT ({', '.join(spec.key)}) DO NOTHING"
    con.execute(sql, [{"stamp": stamp, "run_id": run_id}[what] for what in stamped.values()])


def _upsert(con: duckdb.DuckDBPyConnection, spec: TableSpec, relation: str, columns: Sequence[str],
            values: dict[str, object]) -> None:
    """Replace the stored rows of `relation`'s keys (all but the `kept` columns) and insert the
    others, in three statements rather than an ON CONFLICT: the table needs no index for it
    (articles has none, so that DuckDB stores a run's new rows as a row group of their own
    instead of rewriting its last one, texts and all, at the checkpoint), and a row the same as
    the stored one (a page fetched again, unchanged) gets only its stamps, so that only those
    columns are rewritten."""
    table, on = spec.name, " AND ".join(f"t.{k} = b.{k}" for k in spec.key)
    content = [c for c in columns if c not in spec.key and c not in spec.kept]
    stamps = [(c, what) for c, what in spec.stamped if c not in spec.kept]
    if stamps:
        set_stamps = ", ".join(f"{c} = ?" for c, _ in stamps)
        con.execute(f"UPDATE {table} AS t SET {set_stamps} FROM {relation} AS b WHERE {on}", [values[what] for _, what in stamps])
    if content:
        set_content = ", ".join(f"{c} = b.{c}" for c in content)
        stored, given = (", ".join(f"{side}.{c}" for c in content) for side in ("t", "b"))
        con.execute(f"UPDATE {table} AS t SET {set_content} FROM {relation} AS b "
                    f"WHERE {on} AND ({stored}) IS DISTINCT FROM ({given})")
    names = ", ".join([*columns, *(c for c, _ in spec.stamped)])
    selected = ", ".join([*(f"b.{c}" for c in columns), *("?" for _ in spec.stamped)])
    con.execute(f"INSERT INTO {table} ({names}) SELECT {selected} FROM {relation} AS b "
                f"WHERE NOT EXISTS (SELECT 1 FROM {table} AS t WHERE {on})", [values[what] for _, what in spec.stamped])


def _quarantine(con: duckdb.DuckDBPyConnection, run_id: str, rejects: list[Reject], stamp: datetime, register) -> None:
    if not rejects:
        return
    register("batch_rejects", pl.DataFrame(
        [(r.table_name, r.record_key, r.check, r.reason, r.record) for r in rejects],
        schema={"table_name": pl.Utf8, "record_key": pl.Utf8, "check": pl.Utf8, "reason": pl.Utf8, "record": pl.Utf8},
        orient="row",
    ))
    con.execute(
        'INSERT INTO quarantine (run_id, table_name, record_key, "check", reason, record, created_at) '
        "SELECT ?, table_name, record_key, \"check\", reason, record::JSON, ? FROM batch_rejects",
        [run_id, stamp],
    )


def replace_tags(con: duckdb.DuckDBPyConnection, run_id: str, article_ids: list[str], frames: dict[str, pl.DataFrame],
                 rejects: list[Reject]) -> None:
    """Re-tagging: the tag rows of `article_ids` replaced in one transaction (reclassify)."""
    stamp = now()
    with _transaction(con) as register:
        register("batch_ids", pl.DataFrame({"article_id": article_ids}, schema={"article_id": pl.Utf8}))
        _write_tags(con, frames, "batch_ids", stamp, register)
        linking.profile_for_relinking(con, "batch_ids", frames)  # linked after the last batch (reclassify)
        watch.record_hits(con, "batch_ids", run_id)
        _quarantine(con, run_id, rejects, stamp, register)


def relink(con: duckdb.DuckDBPyConnection, article_ids: list[str]) -> None:
    """The event links of `article_ids` made again under the current linking rules, their tags
    as they are, in one transaction (reclassify, after new rules); their events wait for
    `regroup`."""
    with _transaction(con) as register:
        register("batch_ids", pl.DataFrame({"article_id": article_ids}, schema={"article_id": pl.Utf8}))
        linking.relink(con, "batch_ids")


def regroup(con: duckdb.DuckDBPyConnection, article_ids: list[str]) -> int:
    """The events of relinked `article_ids` and of the groups they are in, in one transaction:
    how many relinked articles got their events."""
    with _transaction(con):
        return linking.regroup(con, article_ids)


