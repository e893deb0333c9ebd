"""Shared fixtures: the real samples in ../shared, a loopback HTTP server, a Prefect harness."""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import flows  # noqa: F401  (sets Prefect's quiet, offline defaults before Prefect is imported)

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SOCWATCH_SHARED", REPO.parent / "shared"))
CORPUS = SHARED / "corpus"
SEED = SHARED / "seed" / "uk-netherlands-soc-dialogue-2026-03-24.txt"


def need_shared(*parts: str) -> Path:
    """The path under ../shared, or skip the test with a reason where it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        if os.environ.get("CI"):  # CI always has ../shared: a missing sample is a failure there
            pytest.fail(f"real sample {path} is absent in CI")
        pytest.skip(f"real sample {path} is absent (../shared is not beside this clone)")
    return path


def need_chromium() -> str:
    """Debian's chromium, or skip with a reason where it is not installed (CI installs it)."""
    from warehouse.browser import find_chromium

    binary = find_chromium()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed in CI (.ci/run installs it)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return binary


def loopback_sources(path: Path, server: "LoopbackServer", feeds: dict[str, str], country: str = "GB",
                     language: str = "en", extra: str = "") -> Path:
    """Write a sources file at `path` with one feed source per name -> feed path on `server`
    (allowed to reach 127.0.0.1, no politeness delay), each with the `extra` TOML lines."""
    path.write_text("".join(
        f'[[sources]]\nname = "{name}"\nkind = "feed"\nurl = "{server.url(feed)}"\ncountry = "{country}"\n'
        f'language = "{language}"\nallowed_hosts = ["127.0.0.1"]\nmin_delay_s = 0\n{extra}\n'
        for name, feed in feeds.items()), encoding="utf-8")
    return path


def rows(db: Path | str, sql: str, *params) -> list[tuple]:
    """The rows of a query on the warehouse file `db`, read-only (closed again at once)."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/html; charset=utf-8"})
    # Takes over the exchange (for hangs, resets, truncated bodies): gets the request handler.
    raw: Callable[[BaseHTTPRequestHandler], None] | None = None


@dataclass
class LoopbackServer:
    """A real HTTP server on 127.0.0.1 serving a dict of path -> Route, logging each request."""

    routes: dict[str, Route | Callable[[BaseHTTPRequestHandler], Route]]
    port: int = 0
    requests: list[str] = field(default_factory=list)
    answered: list[tuple[str, int, int]] = field(default_factory=list)  # (path, status, body bytes sent)

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return f"http://{self.host}{path}"


@contextmanager
def loopback_server() -> Iterator[LoopbackServer]:
    """A LoopbackServer running until the block ends (the `loopback` fixture is one per test;
    a module's fixture can hold one for longer)."""
    server_state = LoopbackServer(routes={})

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):  # noqa: N802 (http.server's naming)
            server_state.requests.append(self.path)
            route = server_state.routes.get(self.path)
            if callable(route):
                route = route(self)
            if route is None:
                route = Route(404, b"not found", {"Content-Type": "text/plain"})
            if route.raw is not None:
                route.raw(self)
                return
            self.send_response(route.status)
            for name, value in route.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            self.wfile.write(route.body)
            server_state.answered.append((self.path, route.status, len(route.body)))

        def log_message(self, *args):  # keep test output clean
            pass

        def handle(self):
            try:
                super().handle()
            except ConnectionResetError:  # a client killed mid-exchange (tests/test_crash.py)
                pass

    with serving(Handler) as port:
        server_state.port = port
        yield server_state


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[int]:
    """A threaded HTTP server on 127.0.0.1 answering with `handler` until the block ends; its port."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def loopback() -> Iterator[LoopbackServer]:
    with loopback_server() as server_state:
        yield server_state


# Prefect 3.9's unclosed client socket (below) can also be collected inside a flow test itself.
PREFECT_SOCKET_WARNING = "ignore:Exception ignored in. <socket.socket:pytest.PytestUnraisableExceptionWarning"


def pytest_collection_modifyitems(items) -> None:
    """Every test that runs flows under the session's Prefect API ignores that one warning:
    the filter lives here, not on each test."""
    for item in items:
        if "prefect_harness" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.filterwarnings(PREFECT_SOCKET_WARNING))


@pytest.fixture(autouse=True)
def _collect_prefect_client_sockets(request) -> Iterator[None]:
    """Prefect 3.9 leaves a sync API client's socket to the test API unclosed after a flow
    run (prefect/results.py reads the default result storage with a client it never
    closes). Collect it right after each flow test, so the warning it raises at garbage
    collection is not blamed on whichever test runs next. Our own sockets are closed."""
    yield
    if "prefect_harness" in request.fixturenames:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One throw-away Prefect API for the whole session (flows run for real)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def prefect_database(prefect_harness, tmp_path_factory) -> Path:
    """A copy of the session's Prefect database, migrated (with whatever runs the session's
    flows left in it, which no test of a command's own server reads): a Prefect home that
    starts from it (`prefect_home`) skips the migrations, about 8 s of a core per server."""
    import sqlite3

    from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL

    source = PREFECT_SERVER_DATABASE_CONNECTION_URL.value().split(":///", 1)[1]
    target = tmp_path_factory.mktemp("prefect-template") / "prefect.db"
    with contextlib.closing(sqlite3.connect(source)) as src, contextlib.closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
    return target


def prefect_home(path: Path, database: Path) -> Path:
    """A new Prefect home at `path` whose database starts as `database` (prefect_database)."""
    path.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(database, path / "prefect.db")
    return path


@pytest.fixture(scope="session")
def prefect_api_url(prefect_harness) -> str:
    """The session's Prefect API, for `socwatch` commands run as subprocesses: with it in
    PREFECT_API_URL a command uses it instead of starting a temporary server of its own (about
    8 s of a core each). A test of the command's own server leaves it out."""
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value()
