"""The read-only snapshot and the HTML report, on a real demo warehouse and in real Chromium."""

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from conftest import need_chromium
from flows.cli import app
from warehouse.browser import render
from warehouse.db import connect
from warehouse.report import CHART_IDS
from warehouse.snapshot import clone_or_copy, snapshot_path

runner = CliRunner()


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory, prefect_harness):
    db = tmp_path_factory.mktemp("report") / "socwatch.duckdb"
    result = runner.invoke(app, ["demo", "--db", str(db)])
    assert result.exit_code == 0, result.output
    return db


def _count(path, query="SELECT count(*) FROM articles"):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(query).fetchone()[0]
    finally:
        con.close()


class _Holder:
    """Another process with a DuckDB connection open on `path`, running queries on request."""

    def __init__(self, path, read_only):
        self.proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
            import duckdb, sys
            con = duckdb.connect({str(path)!r}, read_only={read_only!r})
            print("open", flush=True)
            for line in sys.stdin:
                print(con.execute(line).fetchone()[0], flush=True)
        """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "open"

    def ask(self, query):
        self.proc.stdin.write(query + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)
        self.proc.stdout.close()


@pytest.mark.e2e
def test_a_finished_run_publishes_a_snapshot_equal_to_the_warehouse(demo_db):
    snapshot = snapshot_path(demo_db)
    assert snapshot.name == "socwatch.snapshot.duckdb" and snapshot.is_file()
    for query in ("SELECT count(*) FROM articles", "SELECT count(*) FROM article_themes",
                  "SELECT count(*) FROM runs WHERE status = 'running'", "SELECT count(*) FROM announcements WHERE bilateral"):
        assert _count(snapshot, query) == _count(demo_db, query), query
    # No partial file is left beside it.
    assert sorted(p.name for p in demo_db.parent.iterdir()) == ["socwatch.duckdb", "socwatch.snapshot.duckdb"]


@pytest.mark.e2e
def test_a_reader_holding_the_snapshot_does_not_block_the_next_run(demo_db):
    snapshot = snapshot_path(demo_db)
    before = snapshot.stat().st_ino
    runs_before = _count(demo_db, "SELECT count(*) FROM runs")
    reader = _Holder(snapshot, read_only=True)
    try:
        assert reader.ask("SELECT count(*) FROM runs") == str(runs_before)
        again = runner.invoke(app, ["demo", "--db", str(demo_db)])
        assert again.exit_code == 0, again.output
        # The reader keeps its consistent (old) view; a new reader sees the new run.
        assert reader.ask("SELECT count(*) FROM runs") == str(runs_before)
    finally:
        reader.close()
    assert snapshot.stat().st_ino != before
    assert _count(snapshot, "SELECT count(*) FROM runs") == runs_before + 1


@pytest.mark.e2e
def test_with_the_snapshot_off_a_run_keeps_no_copy_and_removes_the_last(demo_db, tmp_path):
    """`snapshot = "off"`: the run's data are in the warehouse, no copy is published, and the
    one an earlier run left (it would go stale) is gone, half-made copies too; on again, the
    next run publishes one."""
    db = tmp_path / "socwatch.duckdb"
    db.write_bytes(demo_db.read_bytes())
    snapshot = snapshot_path(db)
    snapshot.write_bytes(demo_db.read_bytes())
    partial = snapshot.with_name(f".{snapshot.name}.12345.partial")
    partial.write_bytes(b"half")
    runs = _count(db, "SELECT count(*) FROM runs")
    off = runner.invoke(app, ["reclassify", "--db", str(db)], env={"SOCWATCH_SNAPSHOT": "off"})
    assert off.exit_code == 0, off.output
    assert "snapshot" not in off.output
    assert not snapshot.exists() and not partial.exists()
    assert _count(db, "SELECT count(*) FROM runs") == runs + 1
    on = runner.invoke(app, ["reclassify", "--db", str(db)])
    assert on.exit_code == 0, on.output
    assert _count(snapshot, "SELECT count(*) FROM runs") == runs + 2


@pytest.mark.e2e
def test_readers_read_the_snapshot_while_a_run_holds_the_warehouse(demo_db):
    articles = _count(demo_db)
    writer = _Holder(demo_db, read_only=False)  # holds the write lock, as a run does
    try:
        result = runner.invoke(app, ["sql", "SELECT count(*) AS n FROM articles", "--db", str(demo_db), "--format", "csv"])
        assert result.exit_code == 0, result.output
        assert result.stdout.splitlines() == ["n", str(articles)]
        assert "reading its snapshot" in result.stderr
        hits = runner.invoke(app, ["search", "cocaine", "--db", str(demo_db)])
        assert hits.exit_code == 0 and "ocaine" in hits.stdout.lower()
    finally:
        writer.close()


@pytest.mark.e2e
def test_the_report_draws_its_charts_in_chromium_without_console_errors(demo_db, tmp_path):
    need_chromium()
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["report", "--db", str(demo_db), "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    # Self-contained: no element of the page loads anything from elsewhere.
    markup = re.sub(r"<script>.*?</script>", "", page, flags=re.DOTALL)
    assert page.count("<script") == 2 and not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", markup, re.IGNORECASE)

    rendered = render(out)
    assert rendered.console == []
    assert re.search(r'<body[^>]*data-charts="drawn"', rendered.dom)
    for chart_id in CHART_IDS:
        block = re.search(rf'<div class="chart[^"]*" id="{chart_id}".*?</svg>', rendered.dom, re.DOTALL)
        assert block, f"chart {chart_id} did not draw"
        assert block.group(0).count('role="graphics-symbol"') >= 3, f"chart {chart_id} has no marks"
    bilateral = _count(demo_db, "SELECT count(*) FROM announcements WHERE bilateral")
    table = re.search(r'<table id="latest-bilateral">.*?</table>', rendered.dom, re.DOTALL).group(0)
    assert table.count("<a href=") == bilateral
    assert "GB-NL" in table


def test_the_report_of_an_empty_warehouse_says_so(tmp_path):
    db = tmp_path / "empty.duckdb"
    connect(db).close()
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["report", "--db", str(db), "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert page.count("Nothing to show yet.") == 2 and "No bilateral announcements yet." in page
    assert 'class="chart"' not in page


def test_the_report_cannot_be_written_where_no_file_can_be(tmp_path):
    db = tmp_path / "empty.duckdb"
    connect(db).close()
    (tmp_path / "taken").write_text("a file, not a folder")
    (tmp_path / "folder").mkdir()
    before = sorted(os.listdir(tmp_path))
    for out in (tmp_path / "taken" / "report.html", tmp_path / "folder"):
        result = runner.invoke(app, ["report", "--db", str(db), "--out", str(out)])
        assert result.exit_code == 2 and "cannot write" in result.output
    assert sorted(os.listdir(tmp_path)) == before and os.listdir(tmp_path / "folder") == []  # nothing half-written


def test_runs_refuse_to_write_to_a_snapshot(tmp_path):
    snapshot = tmp_path / "socwatch.snapshot.duckdb"
    for args in (["run", "--sources", "sources.toml"], ["reclassify"]):
        result = runner.invoke(app, [*args, "--db", str(snapshot)])
        assert result.exit_code == 2 and "read-only snapshot" in result.output, result.output
    assert not snapshot.exists()


@pytest.mark.e2e
def test_the_run_summary_per_source_is_kept_in_runs(demo_db):
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        [(per_source, n_new)] = con.execute("SELECT per_source, n_new FROM runs WHERE command = 'ingest' "
                                            "ORDER BY started_at LIMIT 1").fetchall()
    finally:
        con.close()
    assert {p["source"] for p in per_source} == {"sample-govuk", "sample-rijksoverheid", "sample-politie", "sample-europol"}
    assert sum(p["new"] for p in per_source) == n_new == 46
    assert all(p["seconds"] > 0 and p["failed"] == 0 for p in per_source)


@pytest.mark.e2e
def test_long_commands_show_progress_bars_on_a_terminal_and_stay_quiet_elsewhere(demo_db, tmp_path, monkeypatch):
    import io

    from rich.console import Console

    import flows.cli

    terminal = Console(file=io.StringIO(), force_terminal=True, width=120)
    monkeypatch.setattr(flows.cli, "console", terminal)
    articles = _count(demo_db)
    assert runner.invoke(app, ["reclassify", "--all", "--db", str(demo_db)]).exit_code == 0
    assert runner.invoke(app, ["export", "--out", str(tmp_path / "x"), "--db", str(demo_db)]).exit_code == 0
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", terminal.file.getvalue())  # without the colours
    assert "articles" in shown and f"{articles}/{articles}" in shown
    assert re.search(r"tables\s.*\b(\d+)/\1\b", shown)

    piped = Console(file=io.StringIO(), force_terminal=False, width=120)
    monkeypatch.setattr(flows.cli, "console", piped)
    assert runner.invoke(app, ["export", "--out", str(tmp_path / "y"), "--db", str(demo_db)]).exit_code == 0
    assert "tables" not in piped.file.getvalue() and "━" not in piped.file.getvalue()


def test_the_snapshot_is_a_clone_where_the_filesystem_shares_blocks_and_a_copy_elsewhere(tmp_path):
    """The readers' file is the warehouse's bytes either way; a clone needs the two files on
    one filesystem (across two, here the test's folder and /dev/shm, the bytes are copied)."""
    source = tmp_path / "w.duckdb"
    con = duckdb.connect(str(source))
    con.execute("CREATE TABLE runs AS SELECT range AS run_id, repeat('x', 200) AS note FROM range(20000)")
    con.close()
    same = tmp_path / "w.snapshot.duckdb"
    assert clone_or_copy(source, same) in ("clone", "copy")
    assert same.read_bytes() == source.read_bytes()
    assert duckdb.connect(str(same), read_only=True).execute("SELECT count(*) FROM runs").fetchone() == (20000,)
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK) and shm.stat().st_dev != tmp_path.stat().st_dev:
        other = shm / f"socwatch-test-{os.getpid()}.duckdb"
        try:
            assert clone_or_copy(source, other) == "copy"
            assert other.read_bytes() == source.read_bytes()
        finally:
            other.unlink(missing_ok=True)
