"""A Prefect API for the commands, started early and kept between them.

A flow needs a Prefect API. Where none is configured, Prefect starts a temporary one itself
when the flow begins: it imports its whole server in this process first (about 7 s here) and
then waits for a server subprocess to start (another 5-10 s), all before any work is done.
`early_api` starts that same server (Prefect's ASGI app under uvicorn, no UI, none of its
background services: _SERVICES_OFF) as the command's first step, so that it comes up while
the command imports its own modules and checks its configuration; the flow then finds it ready.

With `api_keep_s` above 0 (the default) the server outlives the command: it is recorded in
the Prefect home (`socwatch-api.json`), the next command finds it there and uses it, and it
stops itself once no command has used it for `api_keep_s` seconds (flows/kept_api.py). Each
command holds a shared lock on `socwatch-api.users` while it may use the server; the server
stops only while it holds that lock exclusively, so it never stops under a command, and a
command killed outright releases its lock with its process. Commands that start at once
take turns on `socwatch-api.lock` to find or start the one server.
"""

from __future__ import annotations

import fcntl
import json
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
    """A Prefect API server in a subprocess on a free loopback port: ours, ended with this
    process (stopped, or on Linux killed with it even if this process is killed outright),
    or a kept one (`process` None) that another command started and that ends itself."""

    def __init__(self, process: subprocess.Popen | None, port: int, pid: int | None = None, home: Path | None = None):
        self.process = process
        self.pid = process.pid if process is not None else pid
        self.kept = process is None  # not our child: left running by stop()
        self.home = home  # a kept server's Prefect home
        self.port = port
        self.url = f"http://127.0.0.1:{port}/api"
        self.ui_url = f"http://127.0.0.1:{port}"

    @classmethod
    def launch(cls, args: list[str], env: dict[str, str] | None = None) -> ApiProcess:
        """Start `python ARGS` where "{port}" in ARGS stands for the free port; do not wait."""
        port = free_port()
        process = subprocess.Popen([sys.executable, *(a.replace("{port}", str(port)) for a in args)], env=env,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                   start_new_session=True, preexec_fn=_die_with_parent)
        return cls(process, port)

    def _exited(self) -> str | None:
        """How the server ended, or None while it runs."""
        if self.process is not None:
            code = self.process.poll()
            return None if code is None else f"exited with status {code}"
        return None if _running(self.pid) else "is no longer running"

    def wait(self, timeout: float = START_TIMEOUT_S) -> str:
        """Block until the server answers; its API URL."""
        import httpx  # not at the top: the server is launched before the command's heavier imports

        deadline = time.monotonic() + timeout
        # One client for all the polls: each new httpx client loads the CA bundle, CPU taken
        # from the server that is starting (seen with py-spy: 4.6 s over a 10 s start-up).
        # And no CA bundle for an http:// URL of this machine (another 20 ms a client).
        with httpx.Client(timeout=2, trust_env=False, verify=False) as client:
            while time.monotonic() < deadline:
                if ended := self._exited():
                    raise ApiStartError(f"the Prefect server {ended} while starting")
                try:
                    if client.get(f"{self.url}/health").status_code == 200:
                        return self.url
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
        self.stop()
        if self.kept:  # not ended (other commands may use it), but forgotten: the next command starts a new one
            _forget(self.home, self.pid)
        raise ApiStartError(f"the Prefect server did not answer within {timeout:.0f} s")

    def stop(self) -> None:
        if not self.kept and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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


# An ephemeral server still runs the services that consume the task runs' events: the task
# run records, the events feed and automations, for a UI and automations the commands' server
# does not have (serve's own server keeps them all). They took 2.1-2.4 s of its CPU in a run
# of 2,000 pages, on cores the run needs; the flow runs and their states are kept.
_SERVICES_OFF = ("TASK_RUN_RECORDER", "EVENT_PERSISTER", "TRIGGERS", "ACTIONS")


def _server_env() -> dict[str, str]:
    return {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1",
            **{f"PREFECT_SERVER_SERVICES_{name}_ENABLED": "false" for name in _SERVICES_OFF}}


@contextmanager
def early_api(keep_s: float = 0.0) -> Iterator[ApiProcess | None]:
    """Start Prefect's API server now, unless an API is configured (then None). With `keep_s`
    above 0, use the kept one of the Prefect home, starting it where there is none."""
    if _configured():
        yield None
        return
    if keep_s > 0:
        with kept_api(prefect_home(), keep_s) as api:
            yield api
        return
    import importlib.util

    app_dir = str(Path(importlib.util.find_spec("prefect").origin).parent.parent)
    api = ApiProcess.launch(["-m", "uvicorn", "--app-dir", app_dir, "--factory", "prefect.server.api.server:create_app",
                             "--host", "127.0.0.1", "--port", "{port}", "--log-level", "error", "--lifespan", "on"],
                            _server_env())
    try:
        yield api
    finally:
        api.stop()


# The kept server's files, in the Prefect home.
RECORD = "socwatch-api.json"  # the server: its process, port and the interpreter it runs on
START_LOCK = "socwatch-api.lock"  # taken by a command while it finds or starts the server
USERS = "socwatch-api.users"  # shared by the commands using the server; exclusive as it stops
LOG = "socwatch-api.log"  # the server's own output
KEPT_MODULE = "flows.kept_api"  # the server's module, in its command line


def prefect_home() -> Path:
    return Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()


@contextmanager
def kept_api(home: Path, keep_s: float) -> Iterator[ApiProcess]:
    """The kept server of `home` (started if there is none), in use until the block ends."""
    home.mkdir(parents=True, exist_ok=True)
    with open(home / USERS, "a") as users:
        fcntl.flock(users, fcntl.LOCK_SH)  # waits while a server that found itself idle stops
        try:
            os.utime(users.fileno())  # the last use, as the server reads it
            with open(home / START_LOCK, "a") as start:
                fcntl.flock(start, fcntl.LOCK_EX)
                api = _recorded(home)
                if api is None:
                    api = _detached(home, keep_s)
                    record = {"pid": api.pid, "port": api.port, "executable": sys.executable}
                    _write_atomically(home / RECORD, json.dumps(record))
            yield api
        finally:
            os.utime(users.fileno())


def _detached(home: Path, keep_s: float) -> ApiProcess:
    """A kept server for `home`, started by a launcher that exits at once: a process of its
    own session, nobody's child (it outlives this command and any kill of its process group)."""
    port = free_port()
    try:
        launcher = subprocess.run([sys.executable, "-m", KEPT_MODULE, "--detach", str(port), f"{keep_s:g}", str(home)],
                                  env={**_server_env(), "PREFECT_HOME": str(home)}, stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, timeout=START_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise ApiStartError(f"the kept Prefect server's launcher did not answer within {START_TIMEOUT_S:.0f} s") from None
    if launcher.returncode != 0 or not launcher.stdout.strip().isdigit():
        raise ApiStartError(f"the kept Prefect server could not be started: {(launcher.stderr or launcher.stdout)[-300:]}")
    return ApiProcess(None, port, int(launcher.stdout), home)


def _recorded(home: Path) -> ApiProcess | None:
    """The server the record names, where it runs on this interpreter."""
    try:
        record = json.loads((home / RECORD).read_text(encoding="utf-8"))
        pid, port, executable = int(record["pid"]), int(record["port"]), str(record["executable"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if executable != sys.executable or not _running(pid, KEPT_MODULE):
        return None
    return ApiProcess(None, port, pid, home)


def _running(pid: int | None, command: str | None = None) -> bool:
    """Whether process `pid` runs (and, where /proc tells, its command line names `command`)."""
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: not a server of ours (its pid reused)
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, IndexError):
        return True  # no /proc here: it runs
    if state in ("Z", "X"):  # ended, not yet reaped
        return False
    # An empty command line: the process is between fork and exec (or a kernel thread).
    return command is None or not cmdline or command.encode() in cmdline


def _forget(home: Path, pid: int | None) -> None:
    """Remove the home's record where it still names `pid`."""
    try:
        if json.loads((home / RECORD).read_text(encoding="utf-8")).get("pid") == pid:
            (home / RECORD).unlink()
    except (OSError, ValueError, AttributeError):
        pass


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


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
