"""The Prefect API kept between commands (flows/prefect_api.py, flows/kept_api.py).

Real `socwatch reclassify` commands and real kept servers on a Prefect home of the test's
own (its database migrated already: conftest's prefect_database); the server is found from
its record and from /proc. Every server a test started is stopped at its end.
"""
from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import REPO, prefect_home
from flows.prefect_api import KEPT_MODULE, RECORD, USERS, _running, kept_api
from flows.kept_api import POLL_S

pytestmark = [
    pytest.mark.slow,
    pytest.mark.e2e,
    pytest.mark.timeout(300),
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the processes from /proc"),
]

KEEP_S = 3.0
STOPS_WITHIN_S = KEEP_S + POLL_S + 20  # idle, then a graceful shutdown; generous for a busy machine


def servers(home: Path) -> list[int]:
    """The kept servers of `home` that run."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if KEPT_MODULE.encode() in cmdline and str(home).encode() in cmdline:
                found.append(int(proc.name))
    return found


def record(home: Path) -> dict | None:
    path = home / RECORD
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def until(what: str, condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout:.0f} s: {what}"
        time.sleep(0.1)


@pytest.fixture
def home(tmp_path, prefect_database) -> Iterator[Path]:
    path = prefect_home(tmp_path / "prefect", prefect_database)
    try:
        yield path
    finally:
        for pid in servers(path):  # the servers this test started
            os.kill(pid, signal.SIGTERM)
        until("the test's servers stopped", lambda: not servers(path), 30)


def env(home: Path, keep_s: float = KEEP_S) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "SOCWATCH_"))}
    return {**keep, "PREFECT_HOME": str(home), "SOCWATCH_API_KEEP_S": f"{keep_s:g}"}


def reclassify(home: Path, db: Path) -> subprocess.Popen:
    """A command with a flow and nothing to fetch: reclassify over a warehouse (an empty one made first)."""
    if not db.exists():
        from warehouse.db import connect

        connect(db).close()
    return subprocess.Popen([sys.executable, "-m", "flows.cli", "reclassify", "--db", str(db)], cwd=REPO, env=env(home),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def completed(command: subprocess.Popen) -> str:
    output, _ = command.communicate(timeout=120)
    assert command.returncode == 0, output
    assert "reclassify completed" in output, output
    return output


def test_commands_started_at_once_share_one_api_the_next_command_uses_it_and_it_stops_once_idle(home, tmp_path):
    started = time.time()
    commands = [reclassify(home, tmp_path / f"w{n}.duckdb") for n in range(3)]
    for command in commands:
        completed(command)
    first = record(home)
    assert first is not None and servers(home) == [first["pid"]]  # one, and it outlived the commands
    with open(home / USERS, "a") as users:  # held by the test meanwhile: the server cannot stop before the next command
        fcntl.flock(users, fcntl.LOCK_SH)
        completed(reclassify(home, tmp_path / "w0.duckdb"))
    assert record(home) == first and servers(home) == [first["pid"]]  # the next command started none
    # It keeps the commands' flow runs and their states (not the task runs' event services).
    import httpx

    from datetime import datetime

    runs = httpx.post(f"http://127.0.0.1:{first['port']}/api/flow_runs/filter", json={}, timeout=30).json()
    ours = [r["state_type"] for r in runs if datetime.fromisoformat(r["created"].replace("Z", "+00:00")).timestamp() >= started]
    assert ours == ["COMPLETED"] * 4  # the home's database may hold the runs of the migration's own commands too

    # Idle for KEEP_S: it stops itself and removes its record.
    until("the idle server stopped", lambda: not servers(home), STOPS_WITHIN_S)
    assert record(home) is None


def test_the_api_never_stops_under_a_command_and_a_command_killed_outright_leaves_it_to_stop_when_idle(home):
    # A stale record (its process gone) is replaced by a new server.
    (home / RECORD).write_text(json.dumps({"pid": 2**22 + 1, "port": 9, "executable": sys.executable}))
    holder = None
    try:
        with kept_api(home, KEEP_S) as api:
            api.wait()
            assert record(home)["pid"] == api.pid and servers(home) == [api.pid]
            # Another command, which holds the API for longer than KEEP_S (the server stays up
            # all along), then is killed outright (SIGKILL): the server is not its child to end
            # (other commands use it); its lock went with it, so the server stops once idle.
            holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
                import time
                from pathlib import Path
                from flows.prefect_api import kept_api
                with kept_api(Path({str(home)!r}), {KEEP_S}) as api:
                    print(api.pid, flush=True)
                    time.sleep(600)
                """)], cwd=REPO, env=env(home), stdout=subprocess.PIPE, text=True)
            assert holder.stdout.readline().strip() == str(api.pid)  # the same server, held by both for a while
        with open(home / USERS, "a") as users:  # held (shared) by the command
            with pytest.raises(BlockingIOError):
                fcntl.flock(users, fcntl.LOCK_EX | fcntl.LOCK_NB)
        time.sleep(KEEP_S + 2 * POLL_S)
        assert servers(home) == [api.pid]  # in use by the holder alone, longer than KEEP_S
        holder.kill()
        holder.wait(timeout=30)
        assert _running(api.pid, KEPT_MODULE)
    finally:
        if holder is not None:
            holder.kill()
            holder.wait(timeout=30)
            holder.stdout.close()
    until("the server left by the killed command stopped", lambda: not servers(home), STOPS_WITHIN_S)
    assert record(home) is None


def test_a_kept_api_that_cannot_start_fails_the_command_with_a_message(tmp_path):
    home = tmp_path / "prefect"
    (home / USERS).mkdir(parents=True)  # a folder where the lock file should be
    command = reclassify(home, tmp_path / "w.duckdb")
    output, _ = command.communicate(timeout=120)
    assert command.returncode == 1 and "the kept Prefect API could not be started" in output
    assert "Traceback" not in output


def test_a_negative_keep_is_refused_naming_the_variable(tmp_path):
    result = subprocess.run([sys.executable, "-m", "flows.cli", "config"], cwd=tmp_path, capture_output=True, text=True,
                            env={**env(tmp_path / "prefect"), "SOCWATCH_API_KEEP_S": "-1"}, timeout=60)
    assert result.returncode == 2 and "SOCWATCH_API_KEEP_S: -1.0 must be a number of seconds, 0 or more" in result.stderr
