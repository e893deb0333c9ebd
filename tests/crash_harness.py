"""The crash tests' harness (tests/test_crash.py, tests/test_crash_concurrency.py): a
generated site on a loopback server, the real `socwatch` command in its own process group and
its process tree, the warehouse's content and integrity, and the uninterrupted run to compare
with. See tests/test_crash.py for what is tested and how the kill points are reached."""

from __future__ import annotations

import contextlib
import html
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from conftest import LoopbackServer, Route, loopback_server, loopback_sources, prefect_home, rows

BATCH = 25  # pages per fetch/extract/load batch: the commands' `batch_size` setting (SOCWATCH_BATCH_SIZE)
N_PAGES = 4 * BATCH  # the feed's pages: four batches
N_EXTRA = BATCH  # pages only the concurrency test's feed lists (its first batch)
RECLASSIFY_BATCH = 2000  # articles per reclassify batch: flows.reclassify.ReclassifyOptions.batch_size
COPIES = 5200 // N_PAGES - 1  # the reclassify warehouse: the articles and copies of each (5,200: a pool, 3 batches)
RUN_TIMEOUT_S = 300.0
STAGE_TIMEOUT_S = 180.0
ANCHOR = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)  # publication times count back from it

# ----------------------------------------------------------------------------------------------
# The site: generated article pages (distinct text, themes and partner countries per page).

THEMES = (
    ("cocaine", "Officers seized {n} kilos of cocaine hidden in a shipment of fruit at the port, and arrested {m} suspects of drug trafficking."),
    ("firearms", "Detectives recovered {n} illegal firearms and ammunition and charged {m} people with firearms trafficking offences."),
    ("money laundering", "Investigators traced {n} million in criminal cash through money laundering networks and obtained confiscation orders against {m} people."),
    ("human trafficking", "The operation rescued {n} victims of human trafficking and modern slavery; {m} suspects were charged with exploitation."),
    ("people smuggling", "Border officers disrupted a people smuggling network that moved {n} migrants in small boats; {m} organisers were arrested."),
    ("cybercrime", "A ransomware group behind {n} attacks on hospitals was dismantled and {m} servers used for cybercrime were taken down."),
    ("fraud", "A fraud ring that stole {n} thousand pounds from pensioners through investment fraud was convicted; {m} members were jailed."),
    ("child abuse", "Specialist officers safeguarded {n} children and arrested {m} offenders for online child sexual abuse."),
)
PARTNERS = (("the Dutch police", "the Netherlands"), ("the Spanish Guardia Civil", "Spain"),
            ("the Belgian Federal Police", "Belgium"), ("the French Gendarmerie", "France"),
            ("the German Federal Criminal Police", "Germany"), ("the Albanian State Police", "Albania"),
            ("the Colombian National Police", "Colombia"), ("the Irish Garda", "Ireland"))
SUBJECTS = ("The investigation", "The inquiry", "The case", "The operation", "The work", "The prosecution")
VERBS = ("began after", "relied on", "was built on", "drew on", "followed", "depended on")
OBJECTS = ("intelligence shared between agencies", "months of covert surveillance", "careful financial analysis",
           "evidence gathered from seized phones", "reports from members of the public", "analysis of shipping records")
TAILS = ("and it will continue", "before charges were brought", "over several months", "with support from local forces",
         "under the supervision of a judge", "in close cooperation with the courts")


def page_path(i: int) -> str:
    return f"/news/{i:04d}"


def article_page(i: int) -> bytes:
    """A news page of a few dozen KB (navigation, article, related links, footer), as a
    government site serves it; page i has its own title, text, date, themes and partner."""
    rng = random.Random(i)
    theme, lead = THEMES[i % len(THEMES)]
    _, second = THEMES[(i * 7 + 3) % len(THEMES)]
    agency, country = PARTNERS[rng.randrange(len(PARTNERS))]
    title = f"Operation {i:04d}: {theme} network dismantled with {country.removeprefix('the ')}"
    filler = [" ".join(f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(TAILS)} "
                       f"(step {i}.{k}.{s})." for s in range(4)) for k in range(24)]
    paragraphs = [
        (f"The National Crime Agency and {agency} announced today the results of Operation {i:04d}, a joint "
         f"investigation into {theme}."),
        lead.format(n=10 + i, m=2 + i % 9),
        second.format(n=3 + i % 50, m=1 + i % 5),
        (f"The Security Minister said the United Kingdom and {country} would deepen their partnership against serious "
         "and organised crime under a new memorandum of understanding."),
        *filler,
        f"Case reference {i:04d}-{rng.randrange(10**6):06d}. Anyone with information should contact the police.",
    ]
    published = (ANCHOR - timedelta(hours=2 * i)).isoformat()
    nav = "".join(f"<li><a href='/section/{k}'>Section {k} of the department</a></li>" for k in range(60))
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)} - GOV.UK</title>"
            f"<meta property='article:published_time' content='{published}'></head><body>"
            f"<header><p>We use cookies to make this site work.</p><nav><ul>{nav}</ul></nav></header>"
            f"<main><article><h1>{html.escape(title)}</h1><p class='meta'>Published {published[:10]}</p>{body}</article>"
            f"<aside><h2>Related content</h2><ul>{nav}</ul></aside></main>"
            f"<footer><p>All content is available under the Open Government Licence v3.0</p><ul>{nav}</ul></footer>"
            "</body></html>").encode()


def rss(server: LoopbackServer, pages: list[int]) -> bytes:
    items = "".join(f"<item><title>Operation {i:04d}</title><link>{server.url(page_path(i))}</link></item>" for i in pages)
    return f"<?xml version='1.0'?><rss version='2.0'><channel><title>Loopback news</title>{items}</channel></rss>".encode()


@dataclass
class Site:
    """The loopback server, and page requests it holds open until released."""

    server: LoopbackServer
    folder: Path
    held: dict[str, threading.Event] = field(default_factory=dict)  # path -> set when released
    arrived: dict[str, threading.Event] = field(default_factory=dict)  # path -> set when requested

    def hold(self, *pages: int) -> None:
        for i in pages:
            self.held[page_path(i)] = threading.Event()
            self.arrived[page_path(i)] = threading.Event()

    def release(self, *pages: int) -> None:
        for path in [page_path(i) for i in pages] or list(self.held):
            self.held.pop(path).set()

    def has_arrived(self, i: int) -> bool:
        return self.arrived[page_path(i)].is_set()

    def answered(self, pages: range) -> int:
        paths = {page_path(i) for i in pages}
        return sum(1 for path, status, _ in list(self.server.answered) if path in paths and status == 200)

    def sources(self, feed: str = "/feed.xml") -> Path:
        # Watchlists beside the sources file, so that every run records hits (exactly once
        # across a kill and its rerun: compared with the baseline's, as the tags are).
        (self.folder / "watchlists.toml").write_text(WATCHLISTS, encoding="utf-8")
        return loopback_sources(self.folder / f"sources{feed.replace('/', '-')}.toml", self.server, {"loopback-gov": feed},
                                extra="max_concurrency = 4\n")


WATCHLISTS = """
[[watchlists]]
name = "drugs"
themes = ["drugs", "firearms"]

[[watchlists]]
name = "memorandum-nl-be"
countries = ["NL", "BE"]
query = "memorandum of understanding"
"""


def _serve_page(site: Site, body: bytes) -> Callable:
    def route(handler) -> Route:
        if (released := site.held.get(handler.path)) is not None:
            site.arrived[handler.path].set()
            released.wait(timeout=RUN_TIMEOUT_S)

        def send(h) -> None:  # the client may have been killed meanwhile
            try:
                h.send_response(200)
                h.send_header("Content-Type", "text/html; charset=utf-8")
                h.send_header("Content-Length", str(len(body)))
                h.end_headers()
                h.wfile.write(body)
                site.server.answered.append((h.path, 200, len(body)))
            except OSError:
                h.close_connection = True

        return Route(raw=send)

    return route


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[Site]:
    with loopback_server() as server:
        result = Site(server, tmp_path_factory.mktemp("site"))
        for i in range(N_PAGES + N_EXTRA):
            server.routes[page_path(i)] = _serve_page(result, article_page(i))
        feed = {"Content-Type": "application/rss+xml"}
        server.routes["/feed.xml"] = Route(200, rss(server, list(range(N_PAGES))), feed)
        # The concurrency test's feed: N_EXTRA new pages first (its first batch), then the others.
        server.routes["/feed-more.xml"] = Route(200, rss(server, list(range(N_PAGES, N_PAGES + N_EXTRA)) + list(range(N_PAGES))), feed)
        try:
            yield result
        finally:
            for event in result.held.values():
                event.set()


@pytest.fixture(autouse=True)
def _release_held_pages(request) -> Iterator[None]:
    yield
    if "site" in request.fixturenames:
        request.getfixturevalue("site").release()


@pytest.fixture(scope="module")
def own_api_env(tmp_path_factory, prefect_database) -> dict[str, str]:
    """The commands' environment: their own Prefect home (shared by the module's commands, as
    on one machine; its database already migrated), task lines logged, nothing from the
    caller's socwatch settings; each command starts its own temporary Prefect API (and must
    take it down with it when killed: api_keep_s 0; the kept API is tests/test_prefect_api.py's)."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "SOCWATCH_"))}
    home = prefect_home(tmp_path_factory.mktemp("prefect"), prefect_database)
    return {**keep, "PREFECT_HOME": str(home), "PREFECT_LOGGING_LEVEL": "INFO",
            "PREFECT_LOGGING_TO_API_ENABLED": "false", "PREFECT_UI_ENABLED": "false", "PYTHONUNBUFFERED": "1",
            "SOCWATCH_LOCK_WAIT_S": "60", "SOCWATCH_BATCH_SIZE": str(BATCH), "SOCWATCH_API_KEEP_S": "0"}


@pytest.fixture(scope="module")
def env(own_api_env, prefect_api_url) -> dict[str, str]:
    """The same, the commands using the session's Prefect API (as with a Prefect server
    configured): no command waits for a server of its own to start."""
    return {**own_api_env, "PREFECT_API_URL": prefect_api_url}


# ----------------------------------------------------------------------------------------------
# Processes: the command, its process tree (from /proc), its log lines.

@dataclass(frozen=True)
class Proc:
    pid: int
    started: int  # clock ticks after boot: with the pid, names the process even if the pid is reused
    ppid: int
    cmdline: str

    def alive(self) -> bool:
        info = _stat(self.pid)
        return info is not None and info[3] == self.started and info[0] != "Z"


def _stat(pid: int) -> tuple[str, int, int, int] | None:
    """(state, ppid, CPU ticks, start time) of a process, or None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2:].split()
    return fields[0], int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[19])


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def wal_state(wal: Path) -> tuple[int, int] | None:
    """Size and modification time of a DuckDB write-ahead log (None where there is none)."""
    try:
        st = wal.stat()
    except FileNotFoundError:
        return None
    return st.st_size, st.st_mtime_ns


def kill_when_wal_moves(command: "Command", wal: Path, since: tuple[int, int] | None, who: str) -> list["Proc"]:
    """Kill `command`'s process tree the moment the write-ahead log changes from `since` (a
    load transaction committing); the tree as it was just before."""
    tree = process_tree(command.proc.pid)
    deadline = time.monotonic() + STAGE_TIMEOUT_S
    while wal_state(wal) == since:
        assert time.monotonic() < deadline, f"the write-ahead log did not move; {who} said:\n{command.output}"
        time.sleep(0.0005)
    command.kill(tree)
    return tree


def process_tree(root: int) -> list[Proc]:
    """The process and all its descendants (whatever their process group or session)."""
    children: dict[int, list[int]] = {}
    info = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (s := _stat(int(entry.name))) is not None and s[0] != "Z":
            info[int(entry.name)] = s
            children.setdefault(s[1], []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in info:
            found.append(Proc(pid, info[pid][3], info[pid][1], _cmdline(pid)))
            todo.extend(children.get(pid, ()))
    return found


def tagged(tag: str) -> list[Proc]:
    """Live processes whose environment carries CRASH_TEST_TAG=`tag`: a command's processes,
    wherever they went (a child outliving its parent is re-parented; its environment stays)."""
    needle = f"CRASH_TEST_TAG={tag}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0") and (s := _stat(int(entry.name))) is not None and s[0] != "Z":
            found.append(Proc(int(entry.name), s[3], s[1], _cmdline(int(entry.name))))
    return found


def pool_workers(tree: list[Proc]) -> list[Proc]:
    """Processes forked by a multiprocessing fork server (the extraction/classification pool)."""
    servers = {p.pid for p in tree if "multiprocessing.forkserver" in p.cmdline}
    return [p for p in tree if p.ppid in servers]


def cpu_ticks(procs: list[Proc]) -> int:
    return sum(s[2] for p in procs if (s := _stat(p.pid)) is not None)


FINISHED = r"stage={} done items=\d+"  # our own line (flows.progress.stage_done), not Prefect's wording


class Command:
    """One `socwatch` command in a process group of its own; its output (stdout and stderr)
    read line by line as it comes."""

    def __init__(self, args: list[str], env: dict[str, str], on_line: Callable[[str], None] | None = None):
        self.args = args
        self.env = env
        self.lines: list[str] = []
        self.on_line = on_line
        self.tag = uuid.uuid4().hex
        env = {**env, "CRASH_TEST_TAG": self.tag}
        # Run from the commands' own Prefect home, not the repository: a socwatch.toml a
        # developer keeps there must not change the test.
        self.proc = subprocess.Popen([sys.executable, "-m", "flows.cli", *args], cwd=env["PREFECT_HOME"], env=env,
                                     stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.started = time.monotonic()
        self.last_line_at = self.started
        self.flow_began: float | None = None  # seconds from the start to the flow's first line
        self.tree: list[Proc] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)
            self.last_line_at = time.monotonic()
            if self.flow_began is None and "Beginning flow run" in line:
                self.flow_began = self.last_line_at - self.started
            if self.on_line is not None:
                self.on_line(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def finished(self, task: str) -> int:
        """How many runs of this task have finished (from the log)."""
        pattern = re.compile(FINISHED.format(task))
        return sum(1 for line in list(self.lines) if pattern.search(line))

    def stages(self) -> dict[str, int]:
        return {t: self.finished(t) for t in ("fetch-pages", "extract-classify", "validate-load", "classify-batch")}

    def wait_for(self, what: str, predicate: Callable[[], bool], timeout: float = STAGE_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if self.proc.poll() is not None:
                self._reader.join(timeout=10)
                if predicate():
                    return
                raise AssertionError(f"socwatch {self.args[0]} exited ({self.proc.returncode}) before {what}:\n{self.output}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} within {timeout:.0f} s; socwatch {self.args[0]} said:\n{self.output}")
            time.sleep(0.01)

    def quiet(self, seconds: float = 1.5) -> None:
        """Wait until the command has logged nothing for `seconds` and its workers are idle
        (it waits on a held request)."""
        def idle() -> bool:
            if time.monotonic() - self.last_line_at < seconds:
                return False
            workers = pool_workers(process_tree(self.proc.pid))
            before = cpu_ticks(workers)
            time.sleep(0.3)
            return cpu_ticks(workers) == before
        self.wait_for("a quiet moment", idle)

    def workers_busy(self) -> bool:
        workers = pool_workers(process_tree(self.proc.pid))
        before = cpu_ticks(workers)
        time.sleep(0.05)
        return bool(workers) and cpu_ticks(workers) > before

    def kill(self, tree: list[Proc] | None = None, group: bool = True) -> list[Proc]:
        """SIGKILL the process group (or with `group=False` the command's own process alone,
        as the OOM killer, `kill -9 PID` or an orchestrator cancelling a run does) at once;
        then every process of the command must be gone soon: the Prefect API server (in a
        session of its own) and the worker pool are to go with the process that started them.
        `tree`: the process tree taken beforehand (else now, before the kill)."""
        self.tree = tree if tree is not None else process_tree(self.proc.pid)
        if group:
            os.killpg(self.proc.pid, signal.SIGKILL)
        else:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        TIMES.append((f"{self.args[0]} (killed)", time.monotonic() - self.started, self.flow_began))
        killed_at = time.monotonic()
        deadline = killed_at + 30
        while (left := self.leftovers()) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.all_gone_s = time.monotonic() - killed_at
        self._reader.join(timeout=10)
        assert not left, f"left running after the kill: {[(p.pid, p.cmdline[:120]) for p in left]}"
        return self.tree

    def leftovers(self) -> list[Proc]:
        return list({p.pid: p for p in [*tagged(self.tag), *(p for p in self.tree if p.alive())]}.values())

    def finish(self, timeout: float = RUN_TIMEOUT_S) -> int:
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"socwatch {self.args[0]} still running after {timeout:.0f} s:\n{self.output}") from None
        self._reader.join(timeout=10)
        TIMES.append((self.args[0], time.monotonic() - self.started, self.flow_began))
        return code

    def close(self) -> None:
        """End what is left of it (a failed test): its process group, then any descendant
        that outlived it (ours: started by this command)."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        for p in self.leftovers():
            with contextlib.suppress(ProcessLookupError):
                os.kill(p.pid, signal.SIGKILL)
        self._reader.join(timeout=10)
        if not self._reader.is_alive():
            self.proc.stdout.close()


@pytest.fixture
def commands() -> Iterator[Callable[..., Command]]:
    started: list[Command] = []

    def start(*args: str, env: dict[str, str], on_line: Callable[[str], None] | None = None) -> Command:
        started.append(Command([str(a) for a in args], env, on_line))
        return started[-1]

    yield start
    for command in started:
        command.close()


def completed(command: Command, expected: int = 0) -> Command:
    code = command.finish()
    assert code == expected, f"socwatch {command.args[0]} exited {code}:\n{command.output}"
    return command


# ----------------------------------------------------------------------------------------------
# The warehouse: its content and its integrity.

CONTENT = {
    "articles": "SELECT article_id, url, source, title, text, content_hash, published_at, language FROM articles",
    "article_versions": "SELECT article_id, content_hash FROM article_versions",
    "article_themes": "SELECT article_id, theme, score, evidence::VARCHAR, taxonomy_version FROM article_themes",
    "article_countries": "SELECT article_id, country FROM article_countries",
    "article_dyads": "SELECT article_id, country_a, country_b FROM article_dyads",
    "article_labels": "SELECT article_id, bilateral, announcement_type, taxonomy_version FROM article_labels",
    "article_facts": "SELECT article_id, seq, kind, subject, value, action, country, evidence_start, taxonomy_version "
                     "FROM article_facts",
}
TAGS = ("article_themes", "article_countries", "article_dyads", "article_labels", "article_facts")
CONTENT["watch_hits"] = "SELECT watchlist, article_id, reasons::VARCHAR FROM watch_hits"

_ORPHANS = "SELECT count(*) FROM {t} x WHERE NOT EXISTS (SELECT 1 FROM articles a WHERE a.article_id = x.article_id)"
INTEGRITY = {
    "duplicate article ids": "SELECT count(*) - count(DISTINCT article_id) FROM articles",
    **{f"{t} rows without their article": _ORPHANS.format(t=t) for t in (*TAGS, "article_versions")},
    **{f"{t} rows without their article": _ORPHANS.format(t=t) for t in ("event_articles", "event_profiles")},
    "event links to a missing article": "SELECT count(*) FROM event_links x WHERE x.article_a NOT IN (SELECT article_id FROM "
                                        "articles) OR x.article_b NOT IN (SELECT article_id FROM articles)",
    "watch hits without their article": _ORPHANS.format(t="watch_hits"),
    "watch hits of an unknown run": "SELECT count(*) FROM watch_hits h WHERE h.run_id IS NOT NULL AND NOT EXISTS "
                                    "(SELECT 1 FROM runs r WHERE r.run_id = h.run_id)",
    "articles without labels": "SELECT count(*) FROM articles a WHERE NOT EXISTS "
                               "(SELECT 1 FROM article_labels l WHERE l.article_id = a.article_id)",
    "articles whose content has no version row": "SELECT count(*) FROM articles a WHERE NOT EXISTS (SELECT 1 FROM "
                                                 "article_versions v WHERE v.article_id = a.article_id AND v.content_hash = a.content_hash)",
    "articles with tags of two taxonomy versions": "SELECT count(*) FROM (SELECT article_id FROM (SELECT article_id, taxonomy_version "
                                                   "FROM article_themes UNION SELECT article_id, taxonomy_version FROM article_labels) "
                                                   "GROUP BY article_id HAVING count(DISTINCT taxonomy_version) > 1)",
    "crawl events of an unknown run": "SELECT count(*) FROM crawl_events e WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.run_id = e.run_id)",
    "crawl events naming a missing article": "SELECT count(*) FROM crawl_events e WHERE e.article_id IS NOT NULL AND NOT EXISTS "
                                             "(SELECT 1 FROM articles a WHERE a.article_id = e.article_id)",
    "articles stored by an unknown run": "SELECT count(*) FROM articles a WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.run_id = a.last_run_id)",
    "versions of an unknown run": "SELECT count(*) FROM article_versions v WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.run_id = v.run_id)",
    "records in quarantine": "SELECT count(*) FROM quarantine WHERE resolved_at IS NULL",
}


query = rows  # the warehouse's rows, read-only (conftest)


def content(db: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {table: sorted(con.execute(sql).fetchall(), key=repr) for table, sql in CONTENT.items()}
    finally:
        con.close()


def problems(db: Path) -> dict[str, int]:
    """Integrity violations: each check's count where it is not zero."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        found = {name: con.execute(sql).fetchone()[0] for name, sql in INTEGRITY.items()}
    finally:
        con.close()
    return {name: n for name, n in found.items() if n}


def runs(db: Path) -> list[dict]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        cursor = con.execute("SELECT run_id, command, status, error, started_at, finished_at, n_new, n_updated, n_unchanged "
                             "FROM runs ORDER BY started_at")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()


def page_numbers(db: Path) -> set[int]:
    return {int(url.rsplit("/", 1)[1]) for (url,) in query(db, "SELECT url FROM articles")}


def mid_page(batch: int) -> int:
    """The page in the middle of the feed's batch `batch` (counted from 0)."""
    return batch * BATCH + BATCH // 2


def whole_batches(pages: set[int], first_page: int = 0) -> list[int]:
    """The batches `pages` fill, counted from `first_page`; fails if one is filled partly."""
    batches: dict[int, int] = {}
    for i in pages:
        batches[(i - first_page) // BATCH] = batches.get((i - first_page) // BATCH, 0) + 1
    partial = {b: n for b, n in batches.items() if n != BATCH}
    assert not partial, f"batches stored in part (batch: pages stored): {partial}"
    return sorted(batches)


def compare(db: Path, reference: dict[str, list[tuple]]) -> dict[str, int]:
    """Rows that differ from `reference`, per table (lost + extra)."""
    mine = content(db)
    return {t: len(set(reference[t]) ^ set(mine[t])) for t in CONTENT if set(reference[t]) != set(mine[t])}


@dataclass
class Baseline:
    db: Path
    content: dict[str, list[tuple]]
    events: set[tuple]


@pytest.fixture(scope="module")
def baseline(site, env, tmp_path_factory) -> Iterator[Baseline]:
    """One uninterrupted `socwatch run` of the feed's pages into a new warehouse."""
    db = tmp_path_factory.mktemp("baseline") / "w.duckdb"
    command = Command(["run", "--sources", str(site.sources()), "--db", str(db)], env)
    try:
        completed(command)
    finally:
        command.close()
    assert problems(db) == {}
    reference = content(db)
    assert len(reference["articles"]) == N_PAGES
    assert all(len(reference[t]) >= N_PAGES for t in ("article_themes", "article_countries", "article_dyads", "article_labels"))
    assert {hit[0] for hit in reference["watch_hits"]} == {"drugs", "memorandum-nl-be"}, "both watchlists have hits to compare"
    events = set(query(db, "SELECT url, status, article_id FROM crawl_events"))
    yield Baseline(db, reference, events)


REPORT: list[str] = []  # one line per kill, printed at the end of the module (pytest -s)
TIMES: list[tuple[str, float, float | None]] = []  # (command, seconds, seconds before its flow began)


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    if REPORT:
        print("\ncrash tests:\n  " + "\n  ".join(REPORT))
        print("  commands (seconds, of which before the flow began): "
              + ", ".join(f"{name} {seconds:.0f} ({began or 0:.0f})" for name, seconds, began in TIMES))
    REPORT.clear()
    TIMES.clear()


SNAPSHOT_STATE = ("SELECT (SELECT count(*) FROM articles) AS articles, "
                  "(SELECT count(*) FROM runs WHERE status = 'completed') AS completed, "
                  "(SELECT count(*) FROM runs WHERE status <> 'completed') AS other_runs, "
                  "(SELECT count(*) FROM crawl_events) AS events")


def snapshot_state(path: Path) -> tuple:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(SNAPSHOT_STATE).fetchone()
    finally:
        con.close()
