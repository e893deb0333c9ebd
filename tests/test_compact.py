"""`socwatch compact`: an older warehouse file rewritten in this code's storage format, with
every row it had, the same search results, the quarantine's numbering going on; a compaction
killed half way leaves the warehouse as it was, and a writer that waited for it opens the new file."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from conftest import REPO
from flows.cli import app
from warehouse.compact import partials
from warehouse.db import STORAGE_VERSION, Access, connect, keys_articles, storage_version
from warehouse.snapshot import snapshot_path

runner = CliRunner()
OLD_FORMAT = "v1.0.0"  # DuckDB's default, what warehouses were made in before 7 December 2026
HOLD_TIMEOUT_S = 60.0


@pytest.fixture(scope="module")
def old_demo(tmp_path_factory, prefect_harness) -> Path:
    """The demo's warehouse in a file of the older format, with a quarantined record."""
    db = tmp_path_factory.mktemp("old") / "w.duckdb"
    duckdb.connect(str(db)).close()  # a file made by DuckDB's default: the format socwatch used to make
    result = runner.invoke(app, ["demo", "--db", str(db)])
    assert result.exit_code == 0, result.output
    con = connect(db)
    try:
        con.execute("""INSERT INTO quarantine (run_id, table_name, record_key, "check", reason, record, created_at)
                       VALUES ('r', 'articles', 'k', 'check', 'a reason', '{}', now())""")
        con.execute("ALTER TABLE articles ADD PRIMARY KEY (article_id)")  # as migration 001 made it before
        assert storage_version(con) == OLD_FORMAT and keys_articles(con)
    finally:
        con.close()
    return db


@pytest.fixture
def old(old_demo, tmp_path) -> Path:
    db = tmp_path / "w.duckdb"
    shutil.copyfile(old_demo, db)
    return db


def everything(db: Path) -> dict[str, list[tuple]]:
    """Every row of every table of the warehouse's main schema, sorted (of the search index's
    state, what it covers: compact builds it again)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'").fetchall()]
        return {t: con.execute(f'SELECT * {"EXCLUDE (built_at)" if t == "search_index_state" else ""} '
                               f'FROM main."{t}" ORDER BY ALL').fetchall() for t in tables}
    finally:
        con.close()


def text_compression(db: Path) -> set[str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {r[0] for r in con.execute("SELECT DISTINCT compression FROM pragma_storage_info('articles') "
                                          "WHERE column_name = 'text' AND segment_type = 'VARCHAR'").fetchall()}
    finally:
        con.close()


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_a_new_warehouse_is_written_in_the_format_that_compresses_texts(tmp_path, prefect_harness):
    db = tmp_path / "new.duckdb"
    invoke("demo", "--db", str(db))
    con = duckdb.connect(str(db), read_only=True)
    assert storage_version(con) == STORAGE_VERSION
    con.close()
    assert text_compression(db) == {"ZSTD"}
    assert "socwatch compact" not in invoke("status", "--db", str(db))


def test_compact_rewrites_an_old_warehouse_with_every_row_and_the_same_search(old):
    before = everything(old)
    con = duckdb.connect(str(old), read_only=True)
    [issued] = con.execute("SELECT last_value FROM duckdb_sequences() WHERE sequence_name = 'quarantine_seq'").fetchone()
    con.close()
    searched = invoke("search", "cocaine", "--db", str(old))
    hint = invoke("status", "--db", str(old))
    assert f"storage format {OLD_FORMAT}" in hint and "index on articles" in hint
    assert text_compression(old) == {"Uncompressed"}

    out = invoke("compact", "--db", str(old))
    assert f"{OLD_FORMAT} -> {STORAGE_VERSION}" in out and "search index built again" in out

    assert everything(old) == before
    assert text_compression(old) == {"ZSTD"}
    con = duckdb.connect(str(old), read_only=True)
    assert not keys_articles(con)
    con.close()
    assert invoke("search", "cocaine", "--db", str(old)) == searched
    assert "socwatch compact" not in invoke("status", "--db", str(old))
    snapshot = duckdb.connect(str(snapshot_path(old)), read_only=True)  # published from the new file
    assert storage_version(snapshot) == STORAGE_VERSION
    snapshot.close()
    con = connect(old)
    try:  # the quarantine's numbering goes on from where it was: no id is given twice
        [new_id] = con.execute("""INSERT INTO quarantine (run_id, table_name, record_key, "check", reason, record, created_at)
                                  VALUES ('r2', 'articles', 'k2', 'check', 'another', '{}', now()) RETURNING quarantine_id""").fetchone()
        assert new_id == issued + 1 and new_id > max(r[0] for r in before["quarantine"])
    finally:
        con.close()
    assert f"{STORAGE_VERSION} -> {STORAGE_VERSION}" in invoke("compact", "--db", str(old))  # again: nothing lost
    assert len(everything(old)["quarantine"]) == len(before["quarantine"]) + 1


def held_compact(db: Path, stage: str, folder: Path) -> subprocess.Popen:
    """`socwatch compact` in a process of its own, held at `stage` (flows/failpoints.py) once there."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCWATCH_")}
    env.update(SOCWATCH_FAILPOINT=f"compact:{stage}", SOCWATCH_FAILPOINT_DIR=str(folder))
    proc = subprocess.Popen([sys.executable, "-m", "flows.cli", "compact", "--db", str(db)], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + HOLD_TIMEOUT_S
    while not (folder / "compact.reached").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"compact did not reach {stage}: {proc.communicate()[0]}")
        time.sleep(0.02)
    return proc


@pytest.mark.parametrize("stage", ["copying", "replacing"])
def test_a_compaction_killed_half_way_leaves_the_warehouse_as_it_was(old, tmp_path, stage):
    before = everything(old)
    proc = held_compact(old, stage, tmp_path)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()
    assert partials(old), "the kill leaves the new file half made"
    assert everything(old) == before
    con = duckdb.connect(str(old), read_only=True)
    assert storage_version(con) == OLD_FORMAT
    con.close()
    assert "a compaction that was stopped left" in invoke("status", "--db", str(old))

    invoke("compact", "--db", str(old))
    assert partials(old) == []
    assert everything(old) == before and text_compression(old) == {"ZSTD"}


def test_a_writer_that_waited_for_a_compaction_opens_the_new_file(old, tmp_path):
    before = everything(old)
    proc = held_compact(old, "replacing", tmp_path)
    opened: dict[str, object] = {}

    def writer() -> None:  # as a run started meanwhile: it waits for the lock
        con = connect(old, access=Access(lock_wait_s=HOLD_TIMEOUT_S))
        opened["format"] = storage_version(con)
        opened["articles"] = con.execute("SELECT count(*) FROM articles").fetchone()[0]
        con.close()

    thread = threading.Thread(target=writer)
    thread.start()
    time.sleep(0.5)
    assert thread.is_alive(), "the writer waits while compact holds the warehouse"
    (tmp_path / "compact.release").touch()
    out, _ = proc.communicate(timeout=HOLD_TIMEOUT_S)
    thread.join(HOLD_TIMEOUT_S)
    assert proc.returncode == 0, out
    assert opened == {"format": STORAGE_VERSION, "articles": len(before["articles"])}
    assert everything(old) == before
