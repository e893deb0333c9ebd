"""The run ledger: one `runs` row per command that writes (started, finished, abandoned), and
the `sources` a run read. `recorded_run` is the lifecycle every writing flow shares."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import duckdb
import polars as pl

from warehouse.db import Access, connect, now, register, transaction
from warehouse.snapshot import try_drop, try_publish


def start_run(con: duckdb.DuckDBPyConnection, run_id: str, command: str, *, flow_run_id: str | None = None,
              sources_file: str | None = None, replay: Iterable[str] = (), record: str | None = None,
              taxonomy_version: str | None = None) -> int:
    """Record a new run. Runs still marked running belong to processes that died (we hold the
    write lock, so no other run is alive): they are marked abandoned. Returns how many."""
    with transaction(con):
        abandoned = con.execute(
            "UPDATE runs SET status = 'abandoned', error = coalesce(error, 'the process ended before the run finished') "
            "WHERE status = 'running' RETURNING run_id"
        ).fetchall()
        con.execute(
            "INSERT INTO runs (run_id, flow_run_id, command, started_at, status, sources_file, replay, record, taxonomy_version) "
            "VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?)",
            [run_id, flow_run_id, command, now(), sources_file, list(replay), record, taxonomy_version],
        )
    return len(abandoned)


PER_SOURCE_TYPE = ("STRUCT(source VARCHAR, discovered INTEGER, fetched INTEGER, new INTEGER, updated INTEGER, "
                   "unchanged INTEGER, skipped INTEGER, failed INTEGER, quarantined INTEGER, seconds DOUBLE)[]")


def finish_run(con: duckdb.DuckDBPyConnection, run_id: str, status: str, counts: dict[str, int], error: str | None = None,
               per_source: list[dict] | None = None, runner: str | None = None, workers: list[str] | None = None) -> None:
    """Close the run's ledger row: its status, totals and (for ingest) the counts per source
    and where the work ran."""
    columns = ("n_sources", "n_discovered", "n_fetched", "n_new", "n_updated", "n_unchanged", "n_skipped", "n_failed",
               "n_quarantined")
    sets = ", ".join(f"{c} = ?" for c in columns)
    con.execute(
        f"UPDATE runs SET status = ?, finished_at = ?, error = ?, {sets}, per_source = ?::{PER_SOURCE_TYPE}, "
        "task_runner = ?, workers = ? WHERE run_id = ?",
        [status, now(), error, *(int(counts.get(c.removeprefix("n_"), 0)) for c in columns), per_source, runner, workers,
         run_id],
    )


def upsert_sources(con: duckdb.DuckDBPyConnection, sources: pl.DataFrame) -> None:
    """Record the sources a run read (columns: source, kind, url, country, language, title, expected_every_h)."""
    stamp = now()
    register(con, "batch_sources", sources.with_columns(pl.lit(stamp).alias("seen_at")))
    try:
        con.execute(
            """
            INSERT INTO sources (source, kind, url, country, language, title, expected_every_h, first_seen_at, last_seen_at)
            SELECT source, kind, url, country, language, title, expected_every_h, seen_at, seen_at FROM batch_sources
            ON CONFLICT (source) DO UPDATE SET kind = excluded.kind, url = excluded.url, country = excluded.country,
                language = excluded.language, title = excluded.title, expected_every_h = excluded.expected_every_h,
                last_seen_at = excluded.last_seen_at
            """
        )
    finally:
        con.unregister("batch_sources")


@dataclass
class RunRecord:
    """What a flow tells the ledger about its run, filled in as it goes."""

    run_id: str
    con: duckdb.DuckDBPyConnection  # the run's writer connection, open while the block runs
    abandoned: int = 0  # earlier runs found still running: their processes died
    status: str | None = None  # completed or completed_with_errors, set by the flow at its end
    error: str | None = None
    totals: dict[str, int] = field(default_factory=dict)
    per_source: list[dict] | None = None
    runner: str | None = None
    workers: list[str] | None = None
    snapshot: str | None = None  # the read-only snapshot published after the run, if it was


@contextmanager
def recorded_run(db: str, command: str, logger,
                 after_publish: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
                 access: Access = Access(), **start: object) -> Iterator[RunRecord]:
    """A run from its `runs` row to its end, on a writer connection of its own (`run.con`):
    the row is opened (earlier runs left running are marked abandoned), the block does the
    work and sets `status` and the counts; whatever happens the row is closed with them (an
    exception: `failed`, its message kept, and it propagates; no status: `failed`, saying so),
    a run that did not fail publishes the readers' snapshot, then `after_publish` (with the
    snapshot off in `access`, any run removes an earlier one instead), and the connection is
    closed."""
    con = connect(db, access=access)
    run = RunRecord(str(uuid.uuid4()), con)
    try:
        run.abandoned = start_run(con, run.run_id, command, **start)
        yield run
        if run.status is None:
            run.status, run.error = "failed", f"the {command} flow ended without a status"
    except BaseException as exc:
        run.status, run.error = "failed", f"{type(exc).__name__}: {exc}"[:500]
        raise
    finally:
        try:
            finish_run(con, run.run_id, run.status, run.totals, run.error, run.per_source, run.runner, run.workers)
            if not access.snapshot:  # a snapshot left from before would go stale, and readers would read it
                try_drop(db, logger)
            elif run.status != "failed":
                run.snapshot = try_publish(con, db, logger)
            if run.status != "failed" and after_publish is not None:
                after_publish(con)
        finally:
            con.close()
