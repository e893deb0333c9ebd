"""Crash consistency and concurrency of the real `socwatch` command, continued from
tests/test_crash.py (the harness is tests/crash_harness.py): `reclassify --all` killed
between batches, and two runs on one warehouse while readers read its snapshot."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from crash_harness import *  # noqa: F403 (the harness: site, commands, warehouse checks)
from crash_harness import _release_held_pages, _report, baseline, commands, env, own_api_env, site  # noqa: F401 (fixtures)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.e2e,
    pytest.mark.timeout(900),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the process tree from /proc"),
]

# ----------------------------------------------------------------------------------------------
# 2. `socwatch reclassify --all` killed between batches.

OLD = "tx-old"  # the taxonomy version of the prepared warehouse's tags


def prepare_reclassify(baseline: Baseline, path: Path) -> None:
    """The baseline's articles and 12 copies of each (shorter texts, other ids and URLs),
    all tagged by an "old" taxonomy with tags that the current one does not give."""
    shutil.copyfile(baseline.db, path)
    con = duckdb.connect(str(path))
    try:
        con.execute("BEGIN TRANSACTION")
        con.execute(f"""
            INSERT INTO articles SELECT * EXCLUDE (k) REPLACE (left(md5(a.article_id || '-' || k), 20) AS article_id,
                   a.url || '?copy=' || k AS url,
                   left(a.text, 2500) AS text, md5(left(a.text, 2500)) AS content_hash)
            FROM articles a, range(1, {COPIES + 1}) r(k)""")
        con.execute("INSERT INTO article_versions (article_id, content_hash, title, seen_at, run_id) "
                    "SELECT article_id, content_hash, title, first_seen_at, last_run_id FROM articles WHERE contains(url, '?copy=')")
        for table in TAGS:
            con.execute(f"DELETE FROM {table}")
        con.execute("INSERT INTO article_labels (article_id, bilateral, announcement_type, taxonomy_version, classified_at) "
                    "SELECT article_id, false, 'other', ?, now() FROM articles", [OLD])
        con.execute("INSERT INTO article_themes SELECT article_id, 'old_theme', 1.0, [], ? FROM articles", [OLD])
        con.execute("INSERT INTO article_countries SELECT article_id, 'ZZ' FROM articles")
        con.execute("COMMIT")
    finally:
        con.close()


def versions(db: Path) -> dict[str, int]:
    return dict(query(db, "SELECT taxonomy_version, count(*) FROM article_labels GROUP BY 1"))


def test_reclassify_killed_midway_carries_on_to_a_clean_reclassifys_labels(baseline, env, commands, tmp_path):
    prepared = tmp_path / "prepared.duckdb"
    prepare_reclassify(baseline, prepared)
    n_articles = N_PAGES * (COPIES + 1)
    assert problems(prepared) == {} and versions(prepared) == {OLD: n_articles}
    articles = content(prepared)["articles"]

    clean_db, killed_db = tmp_path / "clean.duckdb", tmp_path / "killed.duckdb"
    shutil.copyfile(prepared, clean_db)
    shutil.copyfile(prepared, killed_db)
    clean = commands("reclassify", "--all", "--db", clean_db, env=env)  # beside the one to kill: time

    # The kill: when batch 1 is stored and batch 2 classified, as soon as the write-ahead log
    # moves (batch 2's transaction commits).
    wal = Path(f"{killed_db}.wal")
    armed = threading.Event()
    mark: list = []
    batches = re.compile(FINISHED.format("classify-batch"))


    def on_line(line: str) -> None:  # in the reader thread, as the line comes
        if batches.search(line):
            mark.append(wal_state(wal))
            if len(mark) == 2:
                armed.set()

    killed = commands("reclassify", "--all", "--db", killed_db, env=env, on_line=on_line)
    killed.wait_for("batch 2 classified", armed.is_set)
    tree = kill_when_wal_moves(killed, wal, mark[1], "reclassify")
    assert pool_workers(tree), f"reclassify of {n_articles} articles runs a process pool: it should have been killed with it"
    assert f"{n_articles} article(s) re-tagged" in completed(clean).output
    reference = content(clean_db)
    [current] = versions(clean_db)
    assert current != OLD

    # Midway: every article old or new (never both), whole batches new, none lost.
    assert problems(killed_db) == {}
    midway = versions(killed_db)
    assert set(midway) == {OLD, current} and midway[current] in (RECLASSIFY_BATCH, 2 * RECLASSIFY_BATCH), midway
    assert content(killed_db)["articles"] == articles
    [dead] = [r for r in runs(killed_db) if r["command"] == "reclassify"]
    assert dead["status"] == "running"

    # The next reclassify (without --all) re-tags exactly the articles still old.
    rest = completed(commands("reclassify", "--db", killed_db, env=env))
    assert f"{midway[OLD]} article(s) re-tagged" in rest.output
    assert problems(killed_db) == {}
    assert versions(killed_db) == {current: n_articles}
    differences = compare(killed_db, reference)
    assert differences == {}, f"differs from a clean reclassify (rows per table): {differences}"
    statuses = {r["run_id"]: r["status"] for r in runs(killed_db) if r["command"] == "reclassify"}
    assert statuses[dead["run_id"]] == "abandoned" and sorted(statuses.values()) == ["abandoned", "completed"]
    REPORT.append(f"reclassify --all killed as batch 2 committed (log grew from {mark[1][0] if mark[1] else 0} bytes): "
                  f"{midway[current]} of {n_articles} articles re-tagged at the kill, {len(tree)} processes ended "
                  f"({len(pool_workers(tree))} pool workers); the next reclassify re-tagged {midway[OLD]}; 0 articles lost, "
                  "0 rows differ from a clean reclassify")


# ----------------------------------------------------------------------------------------------
# 3. Two runs on one warehouse, and readers on the snapshot meanwhile.

def test_two_runs_on_one_warehouse_take_turns_and_readers_see_the_last_finished_run(site, env, own_api_env, baseline, commands,
                                                                                   tmp_path):
    db, snapshot = tmp_path / "w.duckdb", tmp_path / "w.snapshot.duckdb"
    shutil.copyfile(baseline.db, db)
    shutil.copyfile(baseline.db.with_name("w.snapshot.duckdb"), snapshot)
    before = snapshot_state(snapshot)
    assert before == (N_PAGES, 1, 0, N_PAGES + 1)

    # A reader polls the snapshot all along: every state it sees is a finished run's.
    seen: list[tuple] = []
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            state = snapshot_state(snapshot)
            if not seen or seen[-1] != state:
                seen.append(state)
            time.sleep(0.05)

    reader = threading.Thread(target=poll, daemon=True)
    reader.start()
    try:
        # The first run: the N_EXTRA new pages are its batch 0; the middle page of its batch 3
        # (the feed's batch 2) is held, by which time batch 0 is in the warehouse, not in the snapshot.
        held = mid_page(2)
        site.hold(held)
        more = site.sources("/feed-more.xml")
        first = commands("run", "--sources", more, "--db", db, env=env)
        first.wait_for("the first run's batch 3 held", lambda: site.has_arrived(held) and first.finished("validate-load") >= 2)

        # Meanwhile: a run that may wait 300 s for the warehouse, one that may wait 1 s, a reader.
        # (The patient one starts its own Prefect API: the sign that it is up and waiting.)
        patient = commands("run", "--sources", more, "--db", db, env={**own_api_env, "SOCWATCH_LOCK_WAIT_S": "300"})
        short = commands("run", "--sources", more, "--db", db, env={**env, "SOCWATCH_LOCK_WAIT_S": "1"})

        # `socwatch sql` reads the snapshot while the run holds the warehouse, and says so.
        sql = completed(commands("sql", SNAPSHOT_STATE, "--db", db, "--format", "json", env=env))
        assert "is busy with a run; reading its snapshot" in sql.output
        [answer] = json.loads(sql.output[sql.output.index("["):])
        assert tuple(answer.values()) == before

        # The one that may wait 1 s: exit 2, naming the process that holds the warehouse.
        assert short.finish() == 2, short.output
        assert f"is locked by process {first.proc.pid}" in short.output and "Traceback" not in short.output

        # The one that may wait long enough is waiting: it runs once the first has finished.
        patient.wait_for("the waiting run's Prefect API", lambda: any("uvicorn" in p.cmdline for p in process_tree(patient.proc.pid)))
        time.sleep(3)  # it checks the warehouse right after starting its API: now it waits
        assert patient.proc.poll() is None and first.proc.poll() is None
        assert snapshot_state(snapshot) == before
        site.release()
        completed(first)
        completed(patient)
    finally:
        stop.set()
        reader.join(timeout=30)

    after = snapshot_state(snapshot)
    total = N_PAGES + N_EXTRA
    assert after == (total, 3, 0, (N_PAGES + 1) + 2 * (total + 1))
    # Never a partial state: the baseline's, the first run's, the second's; in that order.
    finished_states = [before, (total, 2, 0, (N_PAGES + 1) + (total + 1)), after]
    assert all(s in finished_states for s in seen), seen
    assert [finished_states.index(s) for s in seen] == sorted(finished_states.index(s) for s in seen)
    assert seen[0] == before and seen[-1] == after

    # The runs took turns, and the warehouse holds what one run of the feed gives.
    assert problems(db) == {}
    _, one, two = runs(db)
    assert one["status"] == two["status"] == "completed" and two["started_at"] > one["finished_at"]
    assert (one["n_new"], one["n_unchanged"], two["n_new"], two["n_updated"], two["n_unchanged"]) == (N_EXTRA, N_PAGES, 0, 0, total)
    mine = content(db)
    assert len(mine["articles"]) == total and len(mine["article_versions"]) == total
    extra_pages = {int(url.rsplit("/", 1)[1]) for _, url, *_ in mine["articles"]} - set(range(N_PAGES))
    assert extra_pages == set(range(N_PAGES, total))
    for table in CONTENT:  # the baseline's articles as the baseline has them
        assert set(baseline.content[table]) <= set(mine[table]), table
    REPORT.append(f"two runs at once: 1 s wait exited 2 naming pid {first.proc.pid}; 300 s wait ran after the first "
                  f"({(two['started_at'] - one['finished_at']).total_seconds():.1f} s later); snapshot states seen: {seen}")
