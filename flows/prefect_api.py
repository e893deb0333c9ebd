"""A Prefect API for one command, started early.

A flow needs a Prefect API. Where none is configured, Prefect starts a temporary one itself
when the flow begins: it imports its whole server in this process first (about 7 s here) and
then waits for a server subprocess to start (another 5-10 s), all before any work is done.
`early_api` starts that same temporary server (Prefect's ASGI app under uvicorn, no UI, no
background services) as the command's first step, so that it comes up while the command
imports its own modules and checks its configuration; the flow then finds it ready.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


START_TIMEOUT_S = 60.0


class ApiStartError(RuntimeError):
    """A Prefect API server that exited or did not answer while starting."""


class ApiProcess:
    """A Prefect API server in a subprocess on a free loopback port, ended with this process
    (stopped, or on Linux killed with it even if this process is killed outright)."""

    def __init__(self, process: subprocess.Popen, port: int):
        self.process = process
        self.url = f"http://127.0.0.1:{port}/api"
        self.ui_url = f"http://127.0.0.1:{port}"

    @classmethod
    def launch(cls, args: list[str], env: dict[str, str] | None = None, log: Path | None = None) -> ApiProcess:
        """Start `python ARGS` where "{port}" in ARGS stands for the free port; do not wait."""
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 (closed once the server has it)
        try:
            process = subprocess.Popen([sys.executable, *(a.replace("{port}", str(port)) for a in args)], env=env,
                                       stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                       start_new_session=True, preexec_fn=_die_with_parent)
        finally:
            if log:
                out.close()
        return cls(process, port)

    def wait(self, timeout: float = START_TIMEOUT_S) -> str:
        """Block until the server answers; its API URL."""
        import httpx  # not at the top: the server is launched before the command's heavier imports

        deadline = time.monotonic() + timeout
        # One client for all the polls: each new httpx client loads the CA bundle, CPU taken
        # from the server that is starting (seen with py-spy: 4.6 s over a 10 s start-up).
        with httpx.Client(timeout=2, trust_env=False) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise ApiStartError(f"the Prefect server exited with status {self.process.returncode} while starting")
                try:
                    if client.get(f"{self.url}/health").status_code == 200:
                        return self.url
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
        self.stop()
        raise ApiStartError(f"the Prefect server did not answer within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def _die_with_parent() -> None:
    """In the server's process, before it starts: on Linux, end it when its parent ends."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _configured() -> bool:
    """Whether a Prefect API is configured: in the environment, in a settings context already
    loaded (a test harness), or in the active profile (`prefect config set`, `prefect cloud
    login`), read from the profiles file without importing Prefect."""
    if os.environ.get("PREFECT_API_URL"):
        return True
    if "prefect.settings" in sys.modules:
        from prefect.settings import PREFECT_API_URL

        return bool(PREFECT_API_URL.value())
    home = Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()
    profiles = Path(os.environ.get("PREFECT_PROFILES_PATH") or home / "profiles.toml").expanduser()
    try:
        data = tomllib.loads(profiles.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return False
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return True  # cannot tell: leave it to Prefect
    active = os.environ.get("PREFECT_PROFILE") or data.get("active") or "ephemeral"
    profile = (data.get("profiles") or {}).get(active) or {}
    return bool(profile.get("PREFECT_API_URL"))


@contextmanager
def early_api() -> Iterator[ApiProcess | None]:
    """Start Prefect's temporary API server now, unless an API is configured (then None)."""
    if _configured():
        yield None
        return
    import importlib.util

    app_dir = str(Path(importlib.util.find_spec("prefect").origin).parent.parent)
    env = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
    api = ApiProcess.launch(["-m", "uvicorn", "--app-dir", app_dir, "--factory", "prefect.server.api.server:create_app",
                             "--host", "127.0.0.1", "--port", "{port}", "--log-level", "error", "--lifespan", "on"], env)
    try:
        yield api
    finally:
        api.stop()


@contextmanager
def using(api: ApiProcess | None) -> Iterator[None]:
    """Run the block against `api` (waiting for it to be up), or as configured where None."""
    if api is None:
        yield
        return
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: api.wait()}):
        try:
            yield
        finally:
            _drain()


def _drain() -> None:
    """Send the logs and events Prefect still holds, before their server is stopped (else
    they are lost, with an "Error logging to API" traceback on stderr)."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        worker.drain_all(timeout=5, at_exit=False)
