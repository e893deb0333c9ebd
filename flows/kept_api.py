"""The local Prefect API kept between commands (see flows/prefect_api.py):

    python -m flows.kept_api [--detach] PORT KEEP_S PREFECT_HOME

Prefect's API app under uvicorn on 127.0.0.1:PORT, as a command's temporary server is, and a
watcher thread: every POLL_S it tries to take the users' lock exclusively. Held by a command
(shared), the server is in use; free, the server is idle since its last use (the later of
when it last saw the lock held and the lock file's time, which each command touches as it
starts and ends). Idle for KEEP_S, it keeps the lock, so that no command can start using it,
stops, removes its record and exits; a command waiting for the lock then starts a new one.
SIGTERM stops it too (uvicorn's own handler).
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from flows.prefect_api import KEPT_MODULE, LOG, USERS, _forget

POLL_S = 1.0
_USERS = None  # the users' lock file, open (and, once idle, locked) until the process exits


def watch(server, users_path: Path, keep_s: float) -> None:
    """Set `server.should_exit` once no command has used it for `keep_s` seconds; the users'
    lock is then held until this process exits. A home whose lock file is gone (removed with
    its folder) can find the server no more: it stops too."""
    global _USERS
    try:
        users = _USERS = open(users_path, "a")  # noqa: SIM115 (held to the end of the process: its lock too)
        last_used = time.time()
        while not server.should_exit:
            time.sleep(POLL_S)
            try:
                fcntl.flock(users, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # a command holds it: in use
                last_used = time.time()
                continue
            last_used = max(last_used, os.stat(users_path).st_mtime)
            if time.time() - last_used >= keep_s:
                _forget(users_path.parent, os.getpid())  # before it stops: no command finds a server that is stopping
                break
            fcntl.flock(users, fcntl.LOCK_UN)
    except OSError:
        pass
    server.should_exit = True


def detach(argv: list[str]) -> None:
    """Start the server (`argv` as main's) in a new session, its output to the home's log;
    print its process id and exit at once, leaving it to init."""
    with open(Path(argv[2]) / LOG, "ab") as log:
        server = subprocess.Popen([sys.executable, "-m", KEPT_MODULE, *argv], stdin=subprocess.DEVNULL, stdout=log,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    print(server.pid, flush=True)
    os._exit(0)  # not Python's exit: it would warn that the server still runs


def main(argv: list[str]) -> None:
    port, keep_s, home = int(argv[0]), float(argv[1]), Path(argv[2])
    import uvicorn

    config = uvicorn.Config("prefect.server.api.server:create_app", factory=True, host="127.0.0.1", port=port,
                            log_level="error", lifespan="on", timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)
    threading.Thread(target=watch, args=(server, home / USERS, keep_s), daemon=True, name="idle-watch").start()
    try:
        server.run()
    finally:
        _forget(home, os.getpid())


if __name__ == "__main__":
    if sys.argv[1:2] == ["--detach"]:
        detach(sys.argv[2:])
    else:
        main(sys.argv[1:])
