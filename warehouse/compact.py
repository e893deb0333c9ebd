"""Compaction: the warehouse rewritten into a new file, in this code's storage format.

A DuckDB file keeps the format it was made in and never shrinks: the blocks that deletes,
re-tags and search index rebuilds free are reused, not given back. `compact` makes a new
file the way a new warehouse is made (STORAGE_VERSION, the migrations, so article texts are
compressed where an older format stored them as they were), copies every table into it, builds
the search index over it, checks that every table has the rows it had, and only then puts it
in the warehouse's place.

The old file is not touched until then, and the writer's lock on it is held throughout, so no
run writes to it meanwhile. The new file takes its place by a rename while the old one is
still open and locked: a process that opens the warehouse afterwards opens the new file, and
one that waited for the lock opens it too. A compaction killed half way leaves the warehouse
as it was and a partial file beside it, which the next compaction removes.
"""

from __future__ import annotations

import glob
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from warehouse import search
from warehouse.db import Access, connect, quote_name, storage_version, transaction

ATTACHED = "compacted"


@dataclass(frozen=True)
class Compacted:
    bytes_before: int
    bytes_after: int
    format_before: str
    format_after: str
    tables: int
    rows: int
    index_rebuilt: bool
    seconds: float


def partial_path(db: Path) -> Path:
    return db.with_name(f".{db.name}.{os.getpid()}.compact")


def partials(db: Path | str) -> list[Path]:
    """What compactions that were killed left beside the warehouse `db`: their new files, each
    with its write-ahead log or spill folder."""
    db = Path(db)
    return sorted(db.parent.glob(f".{glob.escape(db.name)}.*.compact*"))


def stopped(db: Path | str) -> list[Path]:
    """The partials of compactions whose process is gone (one that runs has its own)."""
    def running(path: Path) -> bool:
        pid = path.name[len(Path(db).name) + 2:].split(".", 1)[0]
        try:
            os.kill(int(pid), 0)
        except (ValueError, ProcessLookupError):
            return False
        except PermissionError:  # another user's process
            return True
        return True

    return [path for path in partials(db) if not running(path)]


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _tables(con: duckdb.DuckDBPyConnection, database: str) -> list[str]:
    """The base tables of `database`'s main schema (the search index's schema is built anew)."""
    return [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'main' ORDER BY table_name",
        [database]).fetchall()]


def _counts(con: duckdb.DuckDBPyConnection, database: str, tables: list[str]) -> dict[str, int]:
    return {t: con.execute(f"SELECT count(*) FROM {quote_name(database)}.main.{quote_name(t)}").fetchone()[0] for t in tables}


def _literal(text: str) -> str:
    """A path as an SQL string (ATTACH takes no parameter for it)."""
    return "'" + text.replace("'", "''") + "'"


def compact(db: Path | str, access: Access = Access(), pause: Callable[[str], None] = lambda stage: None) -> Compacted:
    """Rewrite the warehouse `db` into a new file in this code's format (see the module).
    `pause(stage)` is called as the first table has been copied ("copying") and as the new
    file is complete, before it takes the old one's place ("replacing"): a crash test's holds."""
    started = time.monotonic()
    db = Path(db)
    old = connect(db, access=access)  # the writer's lock, held until the new file is in place
    try:
        for stale in partials(db):  # left by a compaction that was killed: only a lock holder writes them
            _remove(stale)
        old.execute("CHECKPOINT")
        [home] = old.execute("SELECT current_database()").fetchone()
        format_before, bytes_before = storage_version(old), db.stat().st_size
        tables = _tables(old, home)
        counts = _counts(old, home, tables)
        indexed = old.execute("SELECT count(*) FROM search_index_state WHERE index_name = ?",
                              [search.INDEX_SCHEMA]).fetchone()[0] > 0
        target = partial_path(db)
        try:
            connect(target, access=access).close()  # made as a new warehouse is: format, migrations
            old.execute(f"ATTACH {_literal(str(target))} AS {ATTACHED}")
            try:
                made = set(_tables(old, ATTACHED))
                with transaction(old):
                    for table in tables:
                        into, name = f"{ATTACHED}.main.{quote_name(table)}", f"main.{quote_name(table)}"
                        if table in made:  # rows a migration seeds (currency rates, the migrations) give way
                            old.execute(f"DELETE FROM {into}")
                            old.execute(f"INSERT INTO {into} BY NAME SELECT * FROM {name}")
                        else:  # a table socwatch did not make: its rows, without its constraints
                            old.execute(f"CREATE TABLE {into} AS SELECT * FROM {name}")
                        if table == tables[0]:
                            pause("copying")
                    _carry_sequences(old, home)
            finally:
                old.execute(f"DETACH {ATTACHED}")
            new = connect(target, access=access)
            try:
                if indexed:
                    search.rebuild_index(new)
                new.execute("CHECKPOINT")
                [new_home] = new.execute("SELECT current_database()").fetchone()
                copied = _counts(new, new_home, tables)
                if copied != counts:
                    wrong = sorted(t for t in tables if copied.get(t) != counts[t])
                    raise RuntimeError(f"compaction copied other row counts for {', '.join(wrong)}: the warehouse is left as it was")
                format_after = storage_version(new)
            finally:
                new.close()
            pause("replacing")
            os.replace(target, db)  # the old file is still open and locked by `old`
        finally:
            for left in (target, *partials(db)):  # the new file where it did not take the old one's place
                _remove(left)
    finally:
        old.close()
    return Compacted(bytes_before, db.stat().st_size, format_before, format_after, len(tables), sum(counts.values()),
                     indexed, time.monotonic() - started)


def _carry_sequences(con: duckdb.DuckDBPyConnection, home: str) -> None:
    """Each sequence of the new file advanced to where the old one is (quarantine ids go on)."""
    for name, last in con.execute(
            "SELECT sequence_name, last_value FROM duckdb_sequences() WHERE database_name = ? AND schema_name = 'main' "
            "AND last_value IS NOT NULL", [home]).fetchall():
        con.execute("SELECT max(nextval(?)) FROM range(?)", [f"{ATTACHED}.main.{quote_name(name)}", last])
