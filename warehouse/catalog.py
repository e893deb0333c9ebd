"""What the warehouse holds, described by itself: tables, views, columns and their comments,
a Markdown data dictionary made from them, and a Parquet export of everything."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from warehouse.db import quote_name

INTERNAL = ("schema_migrations",)


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    comment: str


@dataclass(frozen=True)
class Relation:
    name: str
    kind: str  # table | view
    comment: str
    columns: tuple[Column, ...]


def relations(con: duckdb.DuckDBPyConnection) -> list[Relation]:
    """Every table and view of the warehouse's main schema (search index and ledger of
    migrations aside), in a stable order: tables first, then views, by name."""
    rows = con.execute(
        """
        SELECT table_name, 'table' AS kind, coalesce(comment, '') FROM duckdb_tables()
        WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal
        UNION ALL
        SELECT view_name, 'view', coalesce(comment, '') FROM duckdb_views()
        WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal
        ORDER BY 2, 1
        """
    ).fetchall()
    out = []
    for name, kind, comment in rows:
        if name in INTERNAL:
            continue
        columns = con.execute(
            "SELECT column_name, data_type, coalesce(comment, '') FROM duckdb_columns() "
            "WHERE database_name = current_database() AND schema_name = 'main' AND table_name = ? ORDER BY column_index",
            [name],
        ).fetchall()
        out.append(Relation(name, kind, comment, tuple(Column(*c) for c in columns)))
    return out


def dictionary_markdown(con: duckdb.DuckDBPyConnection) -> str:
    lines = ["# The socwatch warehouse: data dictionary", "",
             "Generated from the warehouse's own COMMENTs by `socwatch schema --markdown`; do not edit by hand.", ""]
    for rel in relations(con):
        lines += [f"## `{rel.name}` ({rel.kind})", "", rel.comment, "", "| column | type | meaning |", "|---|---|---|"]
        lines += [f"| `{c.name}` | {c.type} | {c.comment.replace('|', '/')} |" for c in rel.columns]
        lines.append("")
    return "\n".join(lines)


def export_parquet(con: duckdb.DuckDBPyConnection, out: Path, on_start: Callable[[int], None] | None = None,
                   on_done: Callable[[str], None] | None = None) -> dict[str, int]:
    """One Parquet file per table and view, named after it, with its comments in the file's
    key-value metadata. Returns the row count written per relation. `on_start` hears how many
    relations there are, `on_done` each one written (for a progress bar)."""
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    rels = relations(con)
    if on_start:
        on_start(len(rels))
    for rel in rels:
        target = out / f"{rel.name}.parquet"
        schema = json.dumps({"relation": rel.name, "kind": rel.kind, "comment": rel.comment,
                             "columns": [{"name": c.name, "type": c.type, "comment": c.comment} for c in rel.columns]})
        con.execute(
            f"COPY (SELECT * FROM {quote_name(rel.name)}) TO '{str(target).replace(chr(39), chr(39) * 2)}' "
            f"(FORMAT parquet, KV_METADATA {{socwatch_schema: '{schema.replace(chr(39), chr(39) * 2)}'}})"
        )
        counts[rel.name] = con.execute(f"SELECT count(*) FROM {quote_name(rel.name)}").fetchone()[0]
        if on_done:
            on_done(rel.name)
    return counts
