"""`socwatch serve`: the scheduled deployments, served by this process with Prefect's `serve`.

Deployments:
- `ingest`: every source without a schedule of its own, on the default cron schedule (every
  30 minutes) or an interval;
- `ingest-<source>`: one per source whose entry has `schedule = "<cron>"`;
- `reclassify`: no schedule; run on demand (`prefect deployment run reclassify/reclassify`,
  or from the UI) after a taxonomy change.

Schedules need a Prefect server with its scheduler service. With PREFECT_API_URL set (a team's
`prefect server start`, or Prefect Cloud) serve registers there; without it, serve starts a
local server on 127.0.0.1 for as long as it runs (its UI shows the runs), keeping its history
in PREFECT_HOME like any Prefect server.

Runs never overlap on one warehouse: each deployment runs one flow at a time (a Prefect
concurrency limit of 1, later runs wait in the queue), and runs of different deployments
take turns at the warehouse lock (SOCWATCH_LOCK_WAIT_S, 15 minutes under serve), failing
with a message that names the holder if it is held longer.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from flows.sources import ConfigError, cron_problem, load_sources

DEFAULT_CRON = "*/30 * * * *"
SERVE_LOCK_WAIT_S = 900
SERVER_START_TIMEOUT_S = 120


@dataclass
class LocalServer:
    """A Prefect server started by serve, on a free loopback port, stopped with it."""

    process: subprocess.Popen
    api_url: str
    ui_url: str

    @classmethod
    def start(cls, log: Path | None = None, timeout: float = SERVER_START_TIMEOUT_S) -> LocalServer:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 (closed once the server has it)
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                preexec_fn=_die_with_parent)
        finally:
            if log:
                out.close()
        server = cls(process, f"http://127.0.0.1:{port}/api", f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the local Prefect server exited with status {process.returncode} while starting"
                                   + (f"; see {log}" if log else ""))
            try:
                if httpx.get(f"{server.api_url}/health", timeout=2).status_code == 200:
                    return server
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        server.stop()
        raise RuntimeError(f"the local Prefect server did not answer within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def _die_with_parent() -> None:
    """In the server's process, before it starts: on Linux, end it when serve ends, even if
    serve is killed outright and cannot stop it."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def build_deployments(sources_file: Path, db: Path, cron: str | None = DEFAULT_CRON, interval: float | None = None) -> list:
    """The RunnerDeployments to serve (checked: a bad sources file or schedule raises ConfigError)."""
    if interval is None:
        problem = cron_problem(cron)
        if problem:
            raise ConfigError(f"--cron: {problem}")
    elif interval <= 0:
        raise ConfigError(f"--interval: {interval!r} must be a number of seconds above 0")
    sources = load_sources(sources_file)
    from prefect.deployments.runner import EntrypointType

    from flows.ingest import ingest
    from flows.reclassify import reclassify

    common = {"concurrency_limit": 1, "tags": ["socwatch"], "entrypoint_type": EntrypointType.MODULE_PATH}
    paths = {"sources_file": str(sources_file.resolve()), "db": str(db.resolve())}
    own = [s for s in sources if s.schedule]
    when = {"interval": interval} if interval is not None else {"cron": cron}
    deployments = [ingest.to_deployment(
        name="ingest", parameters={**paths, "select": "default" if own else None}, **when, **common,
        description="Crawl the sources into the warehouse (those with a schedule of their own run in theirs).")]
    deployments += [ingest.to_deployment(
        name=f"ingest-{s.name}", parameters={**paths, "select": s.name}, cron=s.schedule, **common,
        description=f"Crawl the source {s.name} on its own schedule.") for s in own]
    deployments.append(reclassify.to_deployment(
        name="reclassify", parameters={"db": paths["db"]}, **common,
        description="Re-tag stored articles with the current taxonomy (on demand, nothing is fetched)."))
    return deployments


def serve(deployments: list, api_url: str | None, on_ready=None) -> None:
    """Register the deployments, call `on_ready`, and serve until interrupted (Ctrl-C or
    SIGTERM); the schedules are paused on the way out."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    os.environ.setdefault("SOCWATCH_LOCK_WAIT_S", str(SERVE_LOCK_WAIT_S))  # runs inherit it
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        with temporary_settings(updates={PREFECT_API_URL: api_url} if api_url else {}):
            asyncio.run(_serve(deployments, on_ready))
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


async def _serve(deployments: list, on_ready) -> None:
    from prefect.runner import Runner

    runner = Runner(pause_on_shutdown=True)
    for deployment in deployments:
        await runner.add_deployment(deployment)  # registers it with the API
    if on_ready:
        on_ready()
    await runner.start()


def _interrupt(signum, frame):
    raise KeyboardInterrupt
