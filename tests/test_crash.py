"""Crash consistency and concurrency of the real `socwatch` command.

Each test starts `python -m flows.cli` (what the `socwatch` script runs) in its own process
group against a loopback server (the harness is tests/crash_harness.py), and:

1. kills `socwatch run` with SIGKILL during a fetch, during extraction (its main process
   alone, as the OOM killer would: the workers must end with it), as a load transaction
   commits and while the snapshot is published; checks what the kill left (whole batches
   only, no orphan row, no process left running), runs it again to completion and compares
   the warehouse with an uninterrupted run's;
2. (tests/test_crash_concurrency.py) kills `socwatch reclassify --all` between its batches,
   while the second one commits, and checks that the next `reclassify` carries on to the
   labels a clean one gives;
3. (the same file) runs two `socwatch run` on one warehouse at once (a short lock wait exits 2 naming the
   holder, a long one waits its turn) while readers read the published snapshot.

The site is 100 article pages (four batches) generated here (government-style news HTML written by this
test, no real text), so the tests need nothing from ../shared. The kill points are reached
by construction: a stage that must be in flight at the kill is held until the test has killed.
One failpoint in the code (`flows/failpoints.py`, armed by the environment) holds an
extraction worker; everything else is found from outside:

- the server holds chosen page requests open: a fetch is in flight, and the batches after
  it cannot start;
- the run's log at INFO has our own line per batch and stage once it is done ("stage=extract-classify
  done items=100", `flows.progress.stage_done`): which batches are fetched, extracted and loaded;
- the extraction workers' CPU time (/proc/PID/stat) moves while a batch is extracted;
- the warehouse's write-ahead log (`<db>.wal`) grows when a load transaction commits.
"""
from __future__ import annotations

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
# 1. `socwatch run` killed during a fetch, an extraction, a load transaction.

def kill_during_fetch(command: Command, site: Site, db: Path) -> str:
    """Batch 2's fetch is held open by the server (its middle page): once the run has done all
    it can without it, the fetch is the stage in flight; batch 2's first pages are fetched."""
    held = mid_page(2)
    command.wait_for(f"page {held} requested and batch 1 extracted",
                     lambda: site.has_arrived(held) and command.finished("extract-classify") >= 2)
    command.quiet()
    assert site.answered(range(2 * BATCH, held)) > 0  # batch 2 is partly fetched
    command.kill()
    return f"batch 2's fetch held open (page {held}), earlier batches done"


def kill_during_extraction(command: Command, site: Site, db: Path) -> str:
    """The worker that reaches batch 2's middle page holds at the `extract` failpoint (armed by
    the test's environment, see flows/failpoints.py), and batch 3's fetch is held by the
    server (its middle page): once batch 1 is loaded, batch 2's extraction is the one stage in flight
    and cannot finish before the kill. This kill is of the run's own process only: its
    workers, mid-batch, must end with it."""
    reached = Path(command.env["SOCWATCH_FAILPOINT_DIR"]) / "extract.reached"
    command.wait_for("a worker held in batch 2, batch 1 loaded and batch 3's fetch held",
                     lambda: reached.exists() and command.finished("validate-load") >= 3 and site.has_arrived(mid_page(3)))
    assert command.finished("extract-classify") == 2, f"batch 2 extracted despite its held worker:\n{command.output}"
    command.kill(group=False)
    workers = pool_workers(command.tree)
    assert workers, "the kill came with no extraction worker running"
    return (f"{len(workers)} pool workers in batch 2 (one held at page {mid_page(2)}), batch 3's fetch held "
            f"(page {mid_page(3)}); the main process killed alone")


def kill_during_load(command: Command, site: Site, db: Path) -> str:
    """Batch 3's fetch is held (its middle page), so the loads that follow batch 0's are the only
    writes: the kill comes as soon as the write-ahead log moves again, i.e. while batch 1's
    load transaction commits."""
    wal = Path(f"{db}.wal")
    armed = threading.Event()
    mark: list[tuple[int, int] | None] = []
    loads = re.compile(FINISHED.format("validate-load"))


    def on_line(line: str) -> None:  # in the reader thread: as soon as batch 0's load has committed
        if not armed.is_set() and loads.search(line) and command.finished("validate-load") >= 2:
            mark.append(wal_state(wal))
            armed.set()

    command.on_line = on_line
    command.wait_for("batch 0 loaded", armed.is_set)
    kill_when_wal_moves(command, wal, mark[0], "socwatch")
    size = (wal_state(wal) or (0, 0))[0]
    return f"write-ahead log grew from {mark[0][0] if mark[0] else 0} to {size} bytes (batch 1's commit)"


def kill_during_publish(command: Command, site: Site, db: Path) -> str:
    """Nothing is held: the run goes to its end, and the kill comes as soon as the snapshot's
    temporary copy appears beside the warehouse (every batch is in; the snapshot is being
    published)."""
    partial = f".{db.stem}.snapshot{db.suffix}.*partial"
    command.wait_for("every batch loaded", lambda: command.finished("validate-load") >= 1 + N_PAGES // BATCH)
    tree = process_tree(command.proc.pid)
    deadline = time.monotonic() + STAGE_TIMEOUT_S
    while not any(db.parent.glob(partial)):
        assert time.monotonic() < deadline and command.proc.poll() is None, f"no snapshot copy seen:\n{command.output}"
        time.sleep(0.0005)
    command.kill(tree)
    return "the snapshot's copy being written"


@pytest.mark.parametrize("point", ["fetch", "extraction", "load", "publish"])
def test_a_run_killed_midway_then_run_again_equals_an_uninterrupted_run(point, site, env, own_api_env, baseline, commands,
                                                                        tmp_path):
    db = tmp_path / "w.duckdb"
    drive, held = {"fetch": (kill_during_fetch, (mid_page(2),)), "extraction": (kill_during_extraction, (mid_page(3),)),
                   "load": (kill_during_load, (mid_page(3),)), "publish": (kill_during_publish, ())}[point]
    site.hold(*held)
    # The run killed during a fetch started its own Prefect API: the kill must take it down too.
    run_env = own_api_env if point == "fetch" else env
    if point == "extraction":
        run_env = {**env, "SOCWATCH_FAILPOINT": f"extract:{site.server.url(page_path(mid_page(2)))}",
                   "SOCWATCH_FAILPOINT_DIR": str(tmp_path.parent / f"{tmp_path.name}-failpoints")}
        Path(run_env["SOCWATCH_FAILPOINT_DIR"]).mkdir()
    killed = commands("run", "--sources", site.sources(), "--db", db, env=run_env)
    how = drive(killed, site, db)
    stages = killed.stages()  # every line the run wrote before the kill has been read
    if point == "fetch":  # its own API server was in the tree the kill ended
        assert any("prefect.server.api.server:create_app" in p.cmdline for p in killed.tree), killed.tree

    # What the kill left: whole batches only, every row with its article, the run still "running".
    assert problems(db) == {}
    stored = whole_batches(page_numbers(db))
    loaded = stages["validate-load"] - 1  # the first load is the feed's events
    if point == "load":
        # Killed before batch 1's load had returned; else the kill missed the transaction.
        assert stored in ([0], [0, 1]) and stages["validate-load"] == 2, (stages, stored)
        how += {1: ": the commit torn, batch 1 absent", 2: ": the commit complete but unreported, batch 1 present"}[len(stored)]
    else:
        assert stored == list(range(loaded)), (stages, stored)
    if point == "extraction":
        assert stages["extract-classify"] == 2, stages  # batch 2's extraction had not finished
    [dead] = runs(db)
    if point == "publish":  # its work was done and recorded; only its snapshot was not published
        assert stored == [0, 1, 2, 3] and dead["status"] == "completed"
        assert [p.name for p in db.parent.iterdir() if p.name.endswith(".partial")]  # the copy it was writing
        assert not db.with_name(f"{db.stem}.snapshot{db.suffix}").exists()  # readers never see it
    else:
        assert dead["status"] == "running" and dead["finished_at"] is None
    site.release()

    again = completed(commands("run", "--sources", site.sources(), "--db", db, env=env))
    assert problems(db) == {}
    differences = compare(db, baseline.content)
    assert differences == {}, f"differs from the uninterrupted run (rows per table): {differences}"
    first, second = runs(db)
    assert first["run_id"] == dead["run_id"]
    if point != "publish":
        assert "abandoned_runs=1" in again.output
        assert first["status"] == "abandoned" and first["finished_at"] is None
        assert first["error"] == "the process ended before the run finished"
    assert second["status"] == "completed" and second["n_new"] + second["n_unchanged"] == N_PAGES
    # The snapshot is the finished run's, and no copy of the warehouse is left behind.
    finished, other = (2, 0) if point == "publish" else (1, 1)
    assert snapshot_state(db.with_name(f"{db.stem}.snapshot{db.suffix}"))[:3] == (N_PAGES, finished, other)
    assert sorted(p.name for p in db.parent.iterdir() if p.name != "feeds") == [db.name, f"{db.stem}.snapshot{db.suffix}"]
    # The watchlists' feeds (tests/crash_harness.py WATCHLISTS), and no half-written one.
    assert sorted(p.name for p in (db.parent / "feeds").iterdir()) == ["drugs.atom", "memorandum-nl-be.atom"]
    events = set(query(db, "SELECT url, status, article_id FROM crawl_events WHERE run_id = ?", second["run_id"]))
    assert events == baseline.events
    lost = len({r[0] for r in baseline.content["articles"]} - {r[0] for r in content(db)["articles"]})
    REPORT.append(f"run killed during {point}: {how}; {len(killed.tree)} processes ended ({killed.all_gone_s:.1f} s); "
                  f"stages done at the kill {stages}; batches stored {stored}; after the rerun: {lost} articles lost, "
                  "0 rows differ")
