"""The warehouse describes itself: data dictionary, schema command, Parquet export."""

import json
import os
import signal
import subprocess
import sys
import time

import duckdb
import pytest
from typer.testing import CliRunner

from conftest import REPO
from flows.cli import app
from test_warehouse import load, make
from warehouse import db as wdb
from warehouse.catalog import dictionary_markdown, export_parquet, relations
from warehouse.ledger import start_run


@pytest.fixture
def con(tmp_path):
    """A new, migrated warehouse."""
    con = wdb.connect(tmp_path / "w.duckdb")
    yield con
    con.close()


def test_docs_warehouse_md_is_current(con):
    current = dictionary_markdown(con)
    stored = (REPO / "docs" / "warehouse.md").read_text(encoding="utf-8").rstrip("\n")
    assert stored == current.rstrip("\n"), "regenerate: uv run socwatch schema --db NEW.duckdb --markdown > docs/warehouse.md"


def test_every_relation_and_column_is_described(con):
    rels = relations(con)
    names = {r.name for r in rels}
    assert {"articles", "article_themes", "runs", "crawl_events", "quarantine", "announcements"} <= names
    assert [r.name for r in rels if not r.comment] == []
    assert [(r.name, c.name) for r in rels for c in r.columns if not c.comment] == []


def test_export_writes_every_relation_with_equal_counts_and_its_schema(con, tmp_path):
    start_run(con, "r1", "ingest")
    load(con, "r1", [make("https://e.org/a"), make("https://e.org/b")])
    counts = export_parquet(con, tmp_path / "out")
    expected = {r.name: con.execute(f'SELECT count(*) FROM "{r.name}"').fetchone()[0] for r in relations(con)}
    assert counts == expected and counts["articles"] == 2 and counts["announcements"] == 2
    reader = duckdb.connect()
    for name, n in counts.items():
        path = str(tmp_path / "out" / f"{name}.parquet")
        assert reader.execute("SELECT num_rows FROM parquet_file_metadata(?)", [path]).fetchone()[0] == n
        [schema] = reader.execute("SELECT value FROM parquet_kv_metadata(?) WHERE key = 'socwatch_schema'", [path]).fetchone()
        described = json.loads(schema)
        assert described["relation"] == name and described["columns"] and described["comment"]


def test_schema_and_export_commands(tmp_path):
    db = tmp_path / "w.duckdb"
    wdb.connect(db).close()
    shown = CliRunner().invoke(app, ["schema", "--db", str(db)])
    assert shown.exit_code == 0 and "content_hash" in shown.output and "announcements (view)" in shown.output
    exported = CliRunner().invoke(app, ["export", "--out", str(tmp_path / "parquet"), "--db", str(db)])
    assert exported.exit_code == 0 and (tmp_path / "parquet" / "articles.parquet").exists()


def test_quarantine_lists_what_was_set_aside_and_hides_what_was_resolved(tmp_path):
    db = tmp_path / "w.duckdb"
    con = wdb.connect(db)
    try:
        start_run(con, "run-one", "ingest")
        load(con, "run-one", [make("https://e.org/ok"), make("https://e.org/bad", title="")])
    finally:
        con.close()
    listed = CliRunner().invoke(app, ["quarantine", "--db", str(db), "--run", "run-one"])
    assert listed.exit_code == 0 and "articles" in listed.output and "str_length" in listed.output
    con = wdb.connect(db)
    try:
        start_run(con, "run-two", "ingest")
        load(con, "run-two", [make("https://e.org/bad", title="Fixed upstream")])
    finally:
        con.close()
    assert "nothing in quarantine" in CliRunner().invoke(app, ["quarantine", "--db", str(db)]).output
    assert "str_length" in CliRunner().invoke(app, ["quarantine", "--db", str(db), "--all"]).output


def test_the_search_index_knows_when_it_is_stale(con):
    from warehouse.search import index_is_stale, index_needs_rebuild, rebuild_index, search, tail_size

    assert index_is_stale(con)  # none yet
    start_run(con, "r1", "ingest")
    load(con, "r1", [make("https://e.org/a", title="Cocaine seized", text="Officers seized cocaine at the port.")])
    rebuild_index(con)
    assert not index_is_stale(con)
    assert [h.url for h in search(con, "cocaine")] == ["https://e.org/a"]
    # Content stored after the build (a later run's, or one killed before it rebuilt):
    # stale, and searchable at once in the index's tail.
    load(con, "r1", [make("https://e.org/b", title="Zanzibar heroin", text="Heroin was found in Zanzibar.")])
    assert index_is_stale(con) and tail_size(con) == 1 and not index_needs_rebuild(con)
    assert [h.url for h in search(con, "zanzibar")] == ["https://e.org/b"]
    rebuild_index(con)
    assert [h.url for h in search(con, "zanzibar")] == ["https://e.org/b"] and tail_size(con) == 0


def test_the_tail_is_scored_as_the_index_scores_and_a_changed_article_by_its_new_text(con):
    """BM25 at query time over the index's statistics gives what the index gives: an indexed
    article put into the tail unchanged keeps its score to the last digits; a changed one is
    found by its new text only."""
    from warehouse.search import rebuild_index, search

    start_run(con, "r1", "ingest")
    texts = {"a": ("Cocaine seized in the port", "Officers seized two tonnes of cocaine in the port of Rotterdam."),
             "b": ("Fraud charges", "Prosecutors charged the directors with fraud and money laundering."),
             "c": ("Cocaine lab dismantled", "The police dismantled a cocaine laboratory; the cocaine was seized.")}
    load(con, "r1", [make(f"https://e.org/{k}", title=t, text=x) for k, (t, x) in texts.items()])
    rebuild_index(con)
    before = {h.url: h.score for h in search(con, "seized cocaine in ports")}
    # Into the tail with the same text (a version row newer than the build), then scored by the scan.
    con.execute("INSERT INTO article_versions SELECT article_id, repeat('0', 64), title, now(), 'r2' FROM articles "
                "WHERE url IN ('https://e.org/a', 'https://e.org/c')")
    after = {h.url: h.score for h in search(con, "seized cocaine in ports")}
    assert after.keys() == before.keys() and all(abs(after[u] - before[u]) < 1e-9 for u in before), (before, after)
    load(con, "r1", [make("https://e.org/b", title="Fraud charges", text="Now about heroin in Zanzibar.")])
    assert [h.url for h in search(con, "zanzibar")] == ["https://e.org/b"] and search(con, "laundering") == []


def test_folding_the_tail_in_gives_the_index_a_rebuild_gives(con):
    """New, changed and removed articles folded into the index: every score, document frequency
    and statistic as a build over the same articles gives, and the tail empty after."""
    from transforms.urls import article_id
    from warehouse.load import load_batch
    from warehouse.search import fold_tail, rebuild_index, tail_size

    start_run(con, "r1", "ingest")
    texts = {"a": ("Cocaine seized in the port", "Officers seized two tonnes of cocaine in the port of Rotterdam."),
             "b": ("Fraud charges", "Prosecutors charged the directors with fraud and money laundering."),
             "c": ("Cocaine lab dismantled", "The police dismantled a cocaine laboratory; the cocaine was seized."),
             "d": ("Café raided", "Politie deed een inval in een café; de verdachten zijn aangehouden.")}
    load(con, "r1", [make(f"https://e.org/{k}", title=t, text=x) for k, (t, x) in texts.items()])
    rebuild_index(con)
    assert fold_tail(con) == 0
    start_run(con, "r2", "ingest")
    load(con, "r2", [make("https://e.org/b", title="Fraud charges", text="Now about heroin and cocaine in Zanzibar."),
                     make("https://e.org/e", title="Heroin in Zanzibar", text="Customs found heroin in a container.")])
    con.execute("DELETE FROM articles WHERE url = 'https://e.org/d'")  # as a fold into another article does
    assert tail_size(con) == 2 and fold_tail(con) == 2 and tail_size(con) == 0
    start_run(con, "r3", "ingest")  # c changed and changed back: its second text's version row is an old one
    load(con, "r3", [make("https://e.org/c", title="Cocaine lab dismantled", text="Heroin was found in the lab.")])
    assert fold_tail(con) == 1
    start_run(con, "r4", "ingest")
    load(con, "r4", [make("https://e.org/c", title=texts["c"][0], text=texts["c"][1])])
    # Its fetch's time from a Dask worker whose clock is an hour behind the writer's.
    con.execute("UPDATE crawl_events SET event_at = event_at - INTERVAL 1 HOUR WHERE run_id = 'r4'")
    assert tail_size(con) == 1 and fold_tail(con) == 1
    start_run(con, "r5", "ingest")  # e folded into a (a redirect), then stored again with its old text
    load_batch(con, "r5", {}, [], folds=[(article_id("https://e.org/e"), article_id("https://e.org/a"))])
    assert fold_tail(con) == 0
    start_run(con, "r6", "ingest")
    load(con, "r6", [make("https://e.org/e", title="Heroin in Zanzibar", text="Customs found heroin in a container.")])
    assert tail_size(con) == 1 and fold_tail(con) == 1
    queries = ("seized cocaine in ports", "heroin zanzibar", "fraud laundering", "laundering", "cafe inval", "lab")
    folded = index_state(con, queries)
    assert folded[0]["heroin zanzibar"][0][0] in ("https://e.org/b", "https://e.org/e") and folded[0]["cafe inval"] == []
    assert folded[0]["laundering"] == [] and folded[0]["fraud laundering"] != []
    rebuild_index(con)
    assert index_state(con, queries) == folded
    pragma_build(con)
    assert index_state(con, queries) == folded


def test_a_build_folds_the_articles_in_chunk_by_chunk_and_gives_the_index_the_pragma_makes(con, monkeypatch):
    """A build folds the articles into empty tables a chunk at a time (its memory follows the
    chunk): documents, dictionary, postings, statistics and scores as fts's own build gives."""
    from warehouse import search as wsearch

    start_run(con, "r1", "ingest")
    texts = [("Cocaine seized in the port", "Officers seized two tonnes of cocaine in the port of Rotterdam."),
             ("Fraud charges", "Prosecutors charged the directors with fraud and money laundering."),
             ("Cocaine lab dismantled", "The police dismantled a cocaine laboratory; the cocaine was seized."),
             ("Café raided", "Politie deed een inval in een café; de verdachten zijn aangehouden."),
             ("Heroin in Zanzibar", "Customs found heroin in a container bound for Zanzibar."),
             ("The", "A an the of."),  # stop words only: a document of length 0
             ("Fraud and cocaine", "Laundering the proceeds of cocaine through a fraud.")]
    load(con, "r1", [make(f"https://e.org/{k}", title=t, text=x) for k, (t, x) in enumerate(texts)])
    monkeypatch.setattr(wsearch, "BUILD_CHUNK", 2)
    wsearch.rebuild_index(con)
    queries = ("seized cocaine in ports", "heroin zanzibar", "fraud laundering", "cafe inval", "the", "cocaine")
    chunked = index_state(con, queries)
    assert len(chunked[1]["docs"]) == len(texts) and len(chunked[0]["cocaine"]) == 3
    pragma_build(con)
    assert index_state(con, queries) == chunked
    assert wsearch.tail_size(con) == 0 and con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchone()[0] == 0


def pragma_build(con):
    """The index as fts's own build makes it (PRAGMA create_fts_index over the articles)."""
    from warehouse.search import CREATE_INDEX, load_fts

    load_fts(con)
    with wdb.transaction(con):
        con.execute(CREATE_INDEX)


def index_state(con, queries):
    """The index's scores for `queries` and its tables, as rows that do not depend on the ids
    a build or fold gave documents and terms."""
    from warehouse.search import INDEX_SCHEMA, search

    scores = {q: sorted((h.url, round(h.score, 9)) for h in search(con, q)) for q in queries}
    tables = {t: con.execute(sql).fetchall() for t, sql in {
        "docs": f"SELECT name, len FROM {INDEX_SCHEMA}.docs ORDER BY ALL",
        "dict": f"SELECT term, df FROM {INDEX_SCHEMA}.dict WHERE df > 0 ORDER BY ALL",
        "postings": f"SELECT d.name, t.fieldid, w.term, count(*) FROM {INDEX_SCHEMA}.terms t JOIN {INDEX_SCHEMA}.docs d "
                    f"USING (docid) JOIN {INDEX_SCHEMA}.dict w USING (termid) GROUP BY ALL ORDER BY ALL",
        "stats": f"SELECT num_docs, round(avgdl, 9) FROM {INDEX_SCHEMA}.stats"}.items()}
    return scores, tables


FOLD_CHILD = """
import sys
from flows import failpoints
from test_warehouse import load, make
from warehouse import db as wdb
from warehouse.ledger import start_run
from warehouse.search import fold_tail
con = wdb.connect(sys.argv[1])
start_run(con, "r2", "ingest")
load(con, "r2", [make("https://e.org/z", title="Heroin in Zanzibar", text="Customs found heroin in Zanzibar.")])
fold_tail(con, lambda stage: failpoints.hold("index", stage))
"""


def test_a_process_killed_as_it_folds_leaves_the_index_as_it_was_and_the_next_fold_completes(tmp_path):
    """SIGKILL inside the fold's transaction (the `index:folding` failpoint): the index and its
    state are as before, the killed process's article is searchable in the tail, and the next
    fold takes it in."""
    from warehouse.search import INDEX_SCHEMA, fold_tail, rebuild_index, search, tail_size

    db = tmp_path / "w.duckdb"
    con = wdb.connect(db)
    start_run(con, "r1", "ingest")
    load(con, "r1", [make("https://e.org/a", title="Cocaine seized", text="Officers seized cocaine at the port.")])
    rebuild_index(con)
    state = con.execute("SELECT built_at, documents FROM search_index_state").fetchall()
    con.close()
    env = {**os.environ, "SOCWATCH_FAILPOINT": "index:folding", "SOCWATCH_FAILPOINT_DIR": str(tmp_path),
           "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")])}
    child = subprocess.Popen([sys.executable, "-c", FOLD_CHILD, str(db)], cwd=REPO, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while not (tmp_path / "index.reached").exists():
        assert child.poll() is None and time.monotonic() < deadline, child.communicate()[0]
        time.sleep(0.02)
    os.kill(child.pid, signal.SIGKILL)
    child.communicate()

    con = wdb.connect(db)
    try:
        assert con.execute("SELECT built_at, documents FROM search_index_state").fetchall() == state
        assert con.execute(f"SELECT count(*) FROM {INDEX_SCHEMA}.docs").fetchone()[0] == 1
        assert tail_size(con) == 1 and [h.url for h in search(con, "zanzibar")] == ["https://e.org/z"]
        assert fold_tail(con) == 1 and tail_size(con) == 0
        assert [h.url for h in search(con, "zanzibar")] == ["https://e.org/z"]
        assert con.execute(f"SELECT count(*) FROM {INDEX_SCHEMA}.docs").fetchone()[0] == 2
    finally:
        con.close()


def test_an_index_too_big_for_the_writers_memory_is_built_with_duckdbs_own_limit(con, caplog):
    from warehouse.search import _build, rebuild_index, search

    start_run(con, "r1", "ingest")
    load(con, "r1", [make(f"https://e.org/{i}", title=f"Seizure {i}", text=f"Cocaine seizure number {i}. " * 40)
                     for i in range(200)])
    rebuild_index(con)
    tiny, ample = "SET memory_limit = '4MB'", "SET memory_limit = '1GB'"  # 4MB: far below what a build holds
    con.execute("CHECKPOINT")
    con.execute(tiny)
    with pytest.raises(duckdb.OutOfMemoryException):
        _build(con)
    con.execute(ample)
    assert len(search(con, "cocaine", limit=500)) == 200  # the failed build left the index as it was
    load(con, "r1", [make("https://e.org/late", title="Heroin", text="Heroin found in Zanzibar.")])
    con.execute("CHECKPOINT")
    con.execute(tiny)
    with caplog.at_level("WARNING", logger="socwatch.search"):
        rebuild_index(con)
    assert "did not fit in 3.8 MiB" in caplog.text
    # The connection's own limit is set back (here the 4MB set above; in a run, the writer's db_memory).
    assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == "3.7 MiB"
    con.execute(ample)
    assert [h.url for h in search(con, "zanzibar")] == ["https://e.org/late"]
