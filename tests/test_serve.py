"""`socwatch serve`: a real Prefect server with its scheduler, the deployments served by a
real `socwatch serve` process, and a scheduled ingest run against a loopback source."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import duckdb
import httpx
import pytest
from conftest import REPO, Route, loopback_sources, prefect_home

from flows.serve import build_deployments
from flows.settings import Settings
from flows.sources import ConfigError

PAGE = ("<html lang='en'><head><title>{t}</title></head><body><main><article><h1>{t}</h1>"
        "<p>The National Crime Agency and the Dutch police seized 400 kilos of cocaine in a joint operation.</p>"
        "<p>Officers arrested three suspects of drug trafficking and money laundering after a long investigation "
        "by both agencies into the shipment of the drugs through the port.</p></article></main></body></html>")


def _feed(loopback, n):
    items = "".join(f"<item><title>Seizure {i}</title><link>{loopback.url(f'/news/{i}')}</link></item>" for i in range(n))
    return f"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title>{items}</channel></rss>".encode()


@pytest.fixture
def source(loopback, tmp_path):
    for i in range(3):
        loopback.routes[f"/news/{i}"] = Route(200, PAGE.format(t=f"Cocaine seizure {i}").encode())
    loopback.routes["/feed.xml"] = Route(200, _feed(loopback, 3), {"Content-Type": "application/rss+xml"})
    return loopback_sources(tmp_path / "sources.toml", loopback, {"loopback-news": "/feed.xml"})


def _lines(stream, into: queue.Queue) -> None:
    for line in stream:
        into.put(line)
    into.put(None)


def _completed_ingest_runs(snapshot) -> int:
    if not snapshot.exists():
        return 0
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM runs WHERE command = 'ingest' AND status = 'completed'").fetchone()[0]
    finally:
        con.close()


@pytest.mark.slow
@pytest.mark.e2e
@pytest.mark.timeout(400)
def test_serve_registers_its_deployments_and_runs_ingest_on_schedule(source, tmp_path, prefect_database):
    db = tmp_path / "w.duckdb"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update(PREFECT_HOME=str(prefect_home(tmp_path / "prefect", prefect_database)), PREFECT_UI_ENABLED="false",
               PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="1", PREFECT_RUNNER_POLL_FREQUENCY="1")
    proc = subprocess.Popen([sys.executable, "-m", "flows.cli", "serve", "--sources", str(source), "--db", str(db),
                             "--interval", "5"], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    out: queue.Queue = queue.Queue()
    reader = threading.Thread(target=_lines, args=(proc.stdout, out), daemon=True)
    reader.start()
    seen: list[str] = []

    def wait_for(pattern: str, timeout: float) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = out.get(timeout=1)
            except queue.Empty:
                continue
            if line is None:
                break
            seen.append(line)
            if m := re.search(pattern, line):
                return m
        raise AssertionError(f"no {pattern!r} in serve's output:\n{''.join(seen)}")

    try:
        api = wait_for(r"Prefect API: (\S+)", 150).group(1)
        names = {d["name"] for d in httpx.post(f"{api}/deployments/filter", json={}, timeout=10).json()}
        assert names == {"ingest", "reclassify"}

        snapshot = db.with_name("w.snapshot.duckdb")
        deadline = time.monotonic() + 180
        while _completed_ingest_runs(snapshot) < 1 and time.monotonic() < deadline:
            time.sleep(1)
        assert _completed_ingest_runs(snapshot) >= 1, "".join(seen)
        con = duckdb.connect(str(snapshot), read_only=True)
        try:
            assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == 3
            flow_run_id = con.execute("SELECT flow_run_id FROM runs WHERE command = 'ingest' LIMIT 1").fetchone()[0]
        finally:
            con.close()
        # The run is a flow run of the deployment, visible in Prefect.
        run = httpx.get(f"{api}/flow_runs/{flow_run_id}", timeout=10).json()
        assert run["deployment_id"] and run["state"]["type"] in ("COMPLETED", "RUNNING")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    wait_for(r"stopped; the schedules are paused", 5)
    reader.join(timeout=10)
    proc.stdout.close()
    assert proc.returncode == 0, "".join(seen)
    with pytest.raises(httpx.HTTPError):  # the local server went with it
        httpx.get(f"{api}/health", timeout=2)


def test_schedules_and_sources_are_checked_before_serving(source, tmp_path):
    with pytest.raises(ConfigError, match="--cron: 'every day' must be a cron expression"):
        build_deployments(Settings(db=str(tmp_path / "w.duckdb"), sources=str(source), cron="every day"))
    own = source.read_text() + 'schedule = "0 6 * * *"\n'
    source.write_text(own)
    own_taxonomy = Settings(db=str(tmp_path / "w.duckdb"), sources=str(source), taxonomy="taxonomy.toml", lock_wait_s=900,
                            batch_size=40)
    names = {d.name: d for d in build_deployments(own_taxonomy)}
    assert set(names) == {"ingest", "ingest-loopback-news", "reclassify"}
    assert names["ingest"].parameters["select"] == "default"
    assert names["ingest-loopback-news"].parameters["select"] == "loopback-news"
    assert names["reclassify"].schedules in (None, [])
    # The settings a run needs travel as its parameters (the environment of the served runs is not ours).
    common = {"taxonomy": str(Path("taxonomy.toml").resolve()), "access": {"lock_wait_s": 900, "memory": "128MB", "snapshot": True},
              "delivery": {"feeds": str(tmp_path / "feeds"), "timeout_s": 10.0, "attempts": 3}}
    for name, deployment in names.items():  # the batch size is the runs' (reclassify has batches of its own)
        assert deployment.parameters["options"] == (common if name == "reclassify" else
                                                    {**common, "batch_size": 40, "watchlists_file": None})
    # A watchlists file beside the sources file goes to the runs, checked first as the sources file is.
    watchlists = source.with_name("watchlists.toml")
    watchlists.write_text('[[watchlists]]\nname = "gb-nl"\npartners = ["GB-NL"]\n')
    shipped = replace(own_taxonomy, taxonomy=None)  # its themes are the shipped taxonomy's
    names = {d.name: d for d in build_deployments(shipped)}
    assert names["ingest"].parameters["options"]["watchlists_file"] == str(watchlists.resolve())
    watchlists.write_text('[[watchlists]]\nname = "gb-nl"\npartners = ["GB"]\n')
    with pytest.raises(ConfigError, match=r"watchlists.toml: \[\[watchlists\]\] entry 1 \(gb-nl\): partners:"):
        build_deployments(shipped)
    watchlists.unlink()
    source.write_text(own.replace('"0 6 * * *"', '"61 * * * *"'))
    with pytest.raises(ConfigError, match="key 'schedule'"):
        build_deployments(Settings(db=str(tmp_path / "w.duckdb"), sources=str(source)))


def test_prefect_yaml_names_our_flows_with_parameters_they_take():
    import importlib
    import inspect

    import yaml

    from flows.sources import cron_problem

    spec = yaml.safe_load((REPO / "prefect.yaml").read_text(encoding="utf-8"))
    deployments = {d["name"]: d for d in spec["deployments"]}
    assert set(deployments) == {"ingest", "reclassify"}
    for d in deployments.values():
        path, name = d["entrypoint"].split(":")
        flow = getattr(importlib.import_module(path.removesuffix(".py").replace("/", ".")), name)
        inspect.signature(flow.fn).bind(**d["parameters"])  # raises for a parameter the flow does not take
        assert d["concurrency_limit"] == 1
        assert all(cron_problem(s["cron"]) is None for s in d.get("schedules", []))
