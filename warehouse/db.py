"""Opening the warehouse: one DuckDB file, numbered SQL migrations applied on connect.

Migrations are `migrations/NNN_name.sql`, applied in order, each in its own transaction,
and recorded in `schema_migrations`. A database that has migrations this code does not
know (written by a newer socwatch) is refused rather than misread.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from warehouse.snapshot import is_snapshot, snapshot_path

if TYPE_CHECKING:
    import polars as pl

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_MIGRATION_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")
_LOCK_HOLDER = re.compile(r"\(PID (\d+)\)")
# The storage format a new warehouse file is written in. DuckDB's default (v1.0.0, what any
# DuckDB since 0.10 reads) has no general-purpose compression for strings, and stores article
# texts as they are: about 70% of a warehouse's file. From v1.2.0 a column can be compressed
# with zstd (articles.text and original_text are, `USING COMPRESSION zstd`): the corpus texts
# take a quarter of the space. A file keeps the format it was made in; `socwatch compact`
# rewrites an older one. Readers need DuckDB 1.2 or later.
STORAGE_VERSION = "v1.2.0"


class WarehouseError(RuntimeError):
    """The warehouse cannot be used as asked; the message says why and what to do."""


class WarehouseLocked(WarehouseError):
    """Another process holds the warehouse (and went on holding it for as long as we waited)."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    found = []
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        match = _MIGRATION_NAME.match(path.name)
        if not match:
            raise WarehouseError(f"migration file {path.name} is not named NNN_name.sql")
        found.append(Migration(int(match.group(1)), match.group(2), path.read_text(encoding="utf-8")))
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise WarehouseError(f"migrations must be numbered 001, 002, ... without gaps; found {versions}")
    return found


def schema_version() -> int:
    return len(migrations())


def _open(path: Path | str, read_only: bool, wait_s: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + wait_s
    delay = 0.05
    while True:
        try:
            # The format applies to a file made now; one that exists keeps its own.
            con = duckdb.connect(str(path), read_only=read_only, config={"storage_compatibility_version": STORAGE_VERSION})
            break
        except duckdb.IOException as exc:
            message = str(exc)
            if "lock" not in message.lower():
                raise WarehouseError(f"cannot open the warehouse {path}: {message}") from None
            if time.monotonic() >= deadline:
                holder = _LOCK_HOLDER.search(message)
                who = f"process {holder.group(1)}" if holder else "another process"
                raise WarehouseLocked(
                    f"the warehouse {path} is locked by {who} (another socwatch run, or a tool holding it "
                    f"open: a writer keeps out every other process, a reader keeps out writers); waited "
                    f"{wait_s:.0f} s. {_lock_advice(Path(path), read_only)}"
                ) from None
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
    con.execute("SET TimeZone = 'UTC'")
    return con


def _lock_advice(path: Path, read_only: bool) -> str:
    """What to do about a lock: a reader can read the snapshot; a writer waits, and a tool that
    only reads should be pointed at the snapshot so that it keeps out no run."""
    if is_snapshot(path):
        return "Try again when it has finished."
    snapshot = snapshot_path(path)
    if read_only:
        if snapshot.exists():
            return f"Try again when it has finished, or read the snapshot the last run published: --db {snapshot}"
        return "Try again when it has finished."
    return (f"Try again when it has finished. A BI tool or notebook that only reads should open the snapshot "
            f"({snapshot}) instead of the warehouse, so that it keeps out no run.")


DEFAULT_LOCK_WAIT_S = 30.0
# What a writing connection may hold in DuckDB's buffer manager (tables' blocks, indexes, the
# full-text index build); beyond it DuckDB evicts, or spills to `<db>.tmp`. DuckDB's own default,
# 80% of the machine's memory, lets a run's process grow with the warehouse it writes.
DEFAULT_WRITER_MEMORY = "128MB"
MIN_WRITER_MEMORY = 64 * 2**20
_MEMORY_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$", re.IGNORECASE)
_UNITS = {"kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


@dataclass(frozen=True)
class Access:
    """How a command that writes opens the warehouse: how long it waits for the lock, the
    memory DuckDB may use, and whether its run publishes the readers' snapshot (the
    `lock_wait_s`, `db_memory` and `snapshot` settings, resolved by the caller)."""

    lock_wait_s: float = DEFAULT_LOCK_WAIT_S
    memory: str = DEFAULT_WRITER_MEMORY
    snapshot: bool = True


def memory_size_problem(value: str) -> str | None:
    """Why `value` is not a memory size a writer can work in ("512MB", "1GiB"), or None."""
    match = _MEMORY_SIZE.match(value)
    if not match:
        return f"{value!r} is not a memory size such as 256MB or 1GB"
    if float(match.group(1)) * _UNITS[match.group(2).lower()] < MIN_WRITER_MEMORY:
        return f"{value!r} is below the 64MB a run needs"
    return None


def connect(path: Path | str, *, read_only: bool = False, access: Access = Access(),
            wait_s: float | None = None) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, migrating it to this code's schema (read-only: only check it).
    A locked warehouse is waited for `wait_s` seconds (default: the access's lock wait)."""
    path = Path(path)
    if wait_s is None:
        wait_s = access.lock_wait_s
    memory = None
    if not read_only:
        if problem := memory_size_problem(access.memory):  # a bad setting stops before the file is touched
            raise WarehouseError(f"db_memory: {problem}")
        memory = re.sub(r"\s+", "", access.memory)
    if read_only and not path.exists():
        raise WarehouseError(f"no warehouse at {path}: run `socwatch run` or `socwatch demo` first")
    if not is_duckdb_file(path):  # DuckDB would open a Parquet or CSV file as a view over it
        raise WarehouseError(f"{path} is not a DuckDB database file: point --db at the warehouse (socwatch.duckdb)")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = _open(path, read_only, wait_s)
    try:
        if memory is not None:
            # A writer loads small batches, one transaction each, and builds the search index:
            # one DuckDB thread does that as fast as two (30,000 documents loaded the way
            # bench/load_path.py loads them: 21-22 s on one, 22-25 s on two), and leaves the
            # cores to extraction.
            con.execute("SET memory_limit = ?", [memory])
            con.execute("SET threads = 1")
        _migrate(con, read_only)
    except BaseException:
        con.close()
        raise
    return con


DUCKDB_MAGIC = b"DUCK"  # a DuckDB database file has it at bytes 8-12 (after the header's checksum)


def is_duckdb_file(path: Path) -> bool:
    """Whether `path` is a DuckDB database file, or nothing yet (no file, or an empty one)."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except FileNotFoundError:
        return True
    except OSError as exc:  # unreadable, a folder, a file where a folder should be
        raise WarehouseError(f"cannot open the warehouse {path}: {exc.strerror or exc}") from None
    return not head or head[8:12] == DUCKDB_MAGIC


def quote_name(identifier: str) -> str:
    """A name from DuckDB's catalog (a table, a schema, a database) as an SQL identifier."""
    return '"' + identifier.replace('"', '""') + '"'


def storage_version(con: duckdb.DuckDBPyConnection) -> str:
    """The storage format the connection's database file is written in ("v1.2.0")."""
    [tags] = con.execute("SELECT tags FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    return str((tags or {}).get("storage_version", "")).rstrip("+")


def compresses_texts(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the file's format compresses articles' texts (one made before v1.2.0 cannot)."""
    return _version_key(storage_version(con)) >= _version_key(STORAGE_VERSION)


def keys_articles(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the articles table has the primary key of the files made before 7 December 2026:
    at each checkpoint after a run's inserts, DuckDB then rewrites its last row group."""
    return con.execute("SELECT count(*) FROM duckdb_constraints() WHERE database_name = current_database() "
                       "AND schema_name = 'main' AND table_name = 'articles' AND constraint_type = 'PRIMARY KEY'"
                       ).fetchone()[0] > 0


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", version)) or (0,)


def now() -> datetime:
    return datetime.now(UTC)


class ArrowStream:
    """A polars frame as DuckDB reads it: through the Arrow C stream interface, one new
    stream per scan. Given the frame itself, DuckDB converts it with pyarrow, which brings
    pyarrow's libraries and memory pool into the run: loads alone of 30,000 documents ended
    at 432 MB of RSS that way and at 387 MB this way, and took 23 s instead of 20 s. So pyarrow
    is not a dependency."""

    __slots__ = ("frame",)

    def __init__(self, frame: pl.DataFrame):
        self.frame = frame

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        return self.frame.__arrow_c_stream__(requested_schema)


def register(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> None:
    """Make `frame` readable as the view `name` on `con` (until unregistered)."""
    con.register(name, ArrowStream(frame))


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """The block's statements in one transaction: committed at its end, rolled back on any error."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _migrate(con: duckdb.DuckDBPyConnection, read_only: bool) -> None:
    known = migrations()
    has_table = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations' AND table_schema = 'main'"
    ).fetchone()[0]
    applied: set[int] = set()
    if has_table:
        applied = {row[0] for row in con.execute("SELECT version FROM schema_migrations").fetchall()}
    newest = max(applied, default=0)
    if newest > len(known):
        raise WarehouseError(
            f"the warehouse has schema version {newest} but this socwatch knows only up to {len(known)}: "
            "it was written by a newer socwatch; upgrade socwatch to use it"
        )
    pending = [m for m in known if m.version not in applied]
    if not pending:
        return
    if read_only:
        raise WarehouseError(
            f"the warehouse is at schema version {newest} and needs migrations up to {len(known)}; "
            "open it once for writing (e.g. `socwatch run`) to migrate it"
        )
    if not has_table:
        con.execute(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
        )
        con.execute("COMMENT ON TABLE schema_migrations IS 'One row per migration applied to this warehouse.'")
        con.execute("COMMENT ON COLUMN schema_migrations.version IS 'Migration number (migrations/NNN_name.sql).'")
        con.execute("COMMENT ON COLUMN schema_migrations.name IS 'Migration name.'")
        con.execute("COMMENT ON COLUMN schema_migrations.applied_at IS 'When it was applied (UTC).'")
    for migration in pending:
        with transaction(con):
            con.execute(migration.sql)
            con.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                [migration.version, migration.name, datetime.now(UTC)],
            )
