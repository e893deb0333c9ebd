"""The warehouse on a real DuckDB file: migrations, loads, idempotency, versions, quarantine."""

import re
import shutil
from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from flows.validate import build_batch
from schemas.records import Article, Fetched, Processed, Status, Tags, ThemeScore
from transforms.classify import score_bounds
from transforms.documents import content_hash
from transforms.urls import article_id
from warehouse import db as wdb
from warehouse.ledger import finish_run, start_run
from transforms.vocabulary import vocabulary
from warehouse.load import load_batch
from warehouse.snapshot import snapshot_path


def make(url, title="Police seize cocaine", text=None, *, published=None, language="en"):
    """A fetched page and its article; each URL's text is its own unless given (one source's
    same text under two URLs is one article)."""
    text = text or f"Officers seized cocaine at the port (case {url.rsplit('/', 1)[-1]})."
    aid = article_id(url)
    article = Article(article_id=aid, url=url, source="src", publisher="P", title=title, text=text, language=language,
                      content_hash=content_hash(title, text), published_at=published or datetime(2026, 3, 1, tzinfo=UTC))
    tags = Tags(article_id=aid, taxonomy_version="tx-test", themes=(ThemeScore("drugs", 7.5, (("cocaine", 2),)),),
                countries=("GB", "NL"), dyads=(("GB", "NL"),), bilateral=True, announcement_type="operation_result")
    fetched = Fetched(source="src", url=url, status=Status.FETCHED, http_status=200, body=b"<html/>",
                      fetched_at=datetime.now(UTC))
    return fetched, Processed(url, Status.FETCHED, article=article, tags=tags)


def load(con, run_id, pairs):
    batch = build_batch([f for f, _ in pairs], [p for _, p in pairs], score_bounds(vocabulary()))
    return load_batch(con, run_id, batch.frames, batch.rejects), batch


@pytest.fixture
def con(tmp_path):
    c = wdb.connect(tmp_path / "w.duckdb")
    yield c
    c.close()


def count(con, table):
    return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_migrations_are_applied_once_and_recorded(tmp_path):
    path = tmp_path / "w.duckdb"
    wdb.connect(path).close()
    con = wdb.connect(path)
    versions = con.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
    assert versions == [(m.version,) for m in wdb.migrations()]
    con.close()


def test_a_database_newer_than_the_code_is_refused(tmp_path):
    path = tmp_path / "w.duckdb"
    wdb.connect(path).close()
    raw = duckdb.connect(str(path))
    raw.execute("INSERT INTO schema_migrations VALUES (999, 'future', now())")
    raw.close()
    with pytest.raises(wdb.WarehouseError, match="newer socwatch"):
        wdb.connect(path)


def test_every_table_and_column_has_a_comment(con):
    missing = con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() "
        "WHERE database_name = current_database() AND NOT internal AND comment IS NULL"
    ).fetchall()
    assert missing == []
    tables = con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT internal AND comment IS NULL").fetchall()
    views = con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal AND comment IS NULL").fetchall()
    assert tables == [] and views == []


def test_load_is_idempotent_and_changed_text_makes_a_version(con):
    start_run(con, "r1", "ingest")
    first, _ = load(con, "r1", [make("https://e.org/a"), make("https://e.org/b")])
    assert sorted(first.changes.values()) == ["new", "new"]
    start_run(con, "r2", "ingest")
    again, _ = load(con, "r2", [make("https://e.org/a"), make("https://e.org/b")])
    assert sorted(again.changes.values()) == ["unchanged", "unchanged"]
    assert count(con, "articles") == 2 and count(con, "article_versions") == 2
    assert count(con, "article_themes") == 2 and count(con, "article_dyads") == 2
    start_run(con, "r3", "ingest")
    changed, _ = load(con, "r3", [make("https://e.org/a", text="Officers seized heroin at the port.")])
    assert changed.changes == {article_id("https://e.org/a"): "updated"}
    assert count(con, "articles") == 2 and count(con, "article_versions") == 3
    first_seen, last_run = con.execute(
        "SELECT first_seen_at < last_seen_at, last_run_id FROM articles WHERE url = 'https://e.org/a'").fetchone()
    assert first_seen and last_run == "r3"
    view = con.execute("SELECT themes, countries, bilateral, partners, type FROM announcements WHERE url = 'https://e.org/a'").fetchone()
    assert view == (["drugs"], ["GB", "NL"], True, ["GB-NL"], "operation_result")


def test_an_unchanged_sighting_moves_last_seen_and_leaves_the_stored_texts_alone(con):
    """A 304 for a stored article sets its last_seen_at; the checkpoint after it rewrites
    those columns only, not the row group's texts (a run that finds nothing new writes
    next to nothing, however large the warehouse)."""
    start_run(con, "r1", "ingest")
    pages = [make(f"https://e.org/{i}") for i in range(50)]
    load(con, "r1", pages)
    con.execute("CHECKPOINT")

    def text_blocks():
        return con.execute("SELECT block_id, block_offset FROM pragma_storage_info('articles') "
                           "WHERE column_name = 'text' ORDER BY ALL").fetchall()

    before = text_blocks()
    start_run(con, "r2", "ingest")
    seen = [p.article.article_id for _, p in pages[:20]] + [article_id("https://e.org/never-stored")]
    result = load_batch(con, "r2", {}, [], seen_unchanged=seen)
    con.execute("CHECKPOINT")
    assert result.changes == dict.fromkeys(seen[:20], "unchanged")
    assert con.execute("SELECT count(*) FILTER (last_run_id = 'r2'), count(*) FROM articles").fetchone() == (20, 50)
    assert text_blocks() == before


def test_a_run_appends_its_new_articles_and_leaves_the_stored_texts_alone(tmp_path):
    """New articles go into a row group of their own, and a page fetched again unchanged gets
    only its stamps: the checkpoint rewrites no stored text (with an index on articles, DuckDB
    would rewrite the last row group's texts after every insert). DuckDB merges a table of
    under about 2,000 rows into one row group whatever its indexes: 3,000 are stored first."""
    path = tmp_path / "w.duckdb"
    con = wdb.connect(path)
    pages = [make(f"https://e.org/{i}") for i in range(3000)]
    stored = build_batch([f for f, _ in pages], [p for _, p in pages], score_bounds(vocabulary())).frames["articles"]
    wdb.register(con, "stored", stored)  # stored as earlier runs did, without linking 3,000 copies of one story
    con.execute("INSERT INTO articles BY NAME SELECT *, now() AS first_seen_at, now() AS last_seen_at, 'r1' AS last_run_id "
                "FROM stored")
    con.close()
    con = wdb.connect(path)  # as the next run opens it

    def text_blocks():
        return set(con.execute("SELECT block_id, block_offset FROM pragma_storage_info('articles') "
                               "WHERE column_name = 'text' AND block_id >= 0").fetchall())

    try:
        before = text_blocks()
        start_run(con, "r2", "ingest")
        result, _ = load(con, "r2", [make(f"https://e.org/{i}") for i in range(2990, 3010)])
        con.execute("CHECKPOINT")
        assert sorted(result.changes.values()) == ["new"] * 10 + ["unchanged"] * 10
        assert before < text_blocks()
        assert con.execute("SELECT count(*), count(DISTINCT article_id), count(*) FILTER (last_run_id = 'r2') "
                           "FROM articles").fetchone() == (3010, 3010, 20)
    finally:
        con.close()


def test_a_bad_row_is_quarantined_with_its_reason_and_the_rest_loads(con):
    start_run(con, "r1", "ingest")
    future = datetime.now(UTC) + timedelta(days=30)
    result, batch = load(con, "r1", [make("https://e.org/good"), make("https://e.org/bad", title=""),
                                     make("https://e.org/future", published=future)])
    assert count(con, "articles") == 1
    rows = con.execute('SELECT table_name, record_key, "check", reason FROM quarantine ORDER BY reason').fetchall()
    assert {r[1] for r in rows} == {article_id("https://e.org/bad"), article_id("https://e.org/future")}
    checks = {r[2] for r in rows}
    assert any("str_length" in c for c in checks) and "not_in_future" in checks
    statuses = dict(con.execute("SELECT url, status FROM crawl_events").fetchall())
    assert statuses == {"https://e.org/good": "fetched", "https://e.org/bad": "quarantined", "https://e.org/future": "quarantined"}
    assert count(con, "article_themes") == 1  # the rejected articles' tags were not loaded
    assert result.quarantined == 2
    # Fixed upstream: the next run loads it and resolves the quarantine row.
    start_run(con, "r2", "ingest")
    load(con, "r2", [make("https://e.org/bad", title="A proper title")])
    resolved = con.execute("SELECT resolved_at IS NOT NULL FROM quarantine WHERE record_key = ?", [article_id("https://e.org/bad")]).fetchone()
    assert resolved == (True,)


def test_a_failed_load_leaves_nothing_behind(con):
    start_run(con, "r1", "ingest")
    fetched, processed = make("https://e.org/a")
    batch = build_batch([fetched], [processed], score_bounds(vocabulary()))
    batch.frames["article_labels"] = batch.frames["article_labels"].with_columns(announcement_type=None)  # violates NOT NULL
    with pytest.raises(duckdb.Error):
        load_batch(con, "r1", batch.frames, [])
    assert count(con, "articles") == 0 and count(con, "crawl_events") == 0 and count(con, "article_versions") == 0


def test_runs_left_running_are_marked_abandoned_by_the_next_run(con):
    start_run(con, "dead", "ingest")
    assert start_run(con, "next", "ingest") == 1
    finish_run(con, "next", "completed", {"new": 3})
    rows = dict(con.execute("SELECT run_id, status FROM runs").fetchall())
    assert rows == {"dead": "abandoned", "next": "completed"}
    assert con.execute("SELECT n_new, finished_at IS NOT NULL FROM runs WHERE run_id = 'next'").fetchone() == (3, True)


def test_a_writer_works_in_bounded_memory_on_one_thread_and_readers_keep_duckdbs_defaults(tmp_path):
    path = tmp_path / "w.duckdb"
    setting = "SELECT current_setting('memory_limit'), current_setting('threads')"
    writer = wdb.connect(path)
    assert writer.execute(setting).fetchone() == ("122.0 MiB", 1)  # 128MB, in DuckDB's units
    writer.close()
    writer = wdb.connect(path, access=wdb.Access(memory="1GiB"))
    assert writer.execute(setting).fetchone()[0] == "1.0 GiB"
    writer.close()
    reader = wdb.connect(path, read_only=True)
    limit, threads = reader.execute(setting).fetchone()
    assert limit != "1.0 GiB" and threads == duckdb.connect().execute("SELECT current_setting('threads')").fetchone()[0]
    reader.close()


@pytest.mark.parametrize("value", ["lots", "12", "-5MB", "32MB", "128 parsecs"])
def test_a_bad_memory_setting_stops_a_writer_before_the_file_is_touched(tmp_path, value):
    with pytest.raises(wdb.WarehouseError, match=rf"db_memory: '{re.escape(value)}' is"):
        wdb.connect(tmp_path / "w.duckdb", access=wdb.Access(memory=value))
    assert not (tmp_path / "w.duckdb").exists()


def test_a_locked_warehouse_fails_with_a_message_naming_the_holder(tmp_path):
    import subprocess
    import sys
    import textwrap

    path = tmp_path / "w.duckdb"
    wdb.connect(path).close()
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import duckdb, sys, time
        con = duckdb.connect({str(path)!r})
        print("locked", flush=True)
        sys.stdin.read()
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(wdb.WarehouseError, match=rf"locked by process {holder.pid}") as writing:
            wdb.connect(path, wait_s=0.5)
        # A writer can only wait; a reader is told of the snapshot, once there is one.
        assert "should open the snapshot (" in str(writing.value) and "--db" not in str(writing.value)
        with pytest.raises(wdb.WarehouseError) as reading:
            wdb.connect(path, read_only=True, wait_s=0.2)
        assert "snapshot" not in str(reading.value)
        shutil.copyfile(path, snapshot_path(path))
        with pytest.raises(wdb.WarehouseError) as reading:
            wdb.connect(path, read_only=True, wait_s=0.2)
        assert str(reading.value).endswith(f"--db {snapshot_path(path)}")
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)
        holder.stdout.close()
