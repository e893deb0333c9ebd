"""The `socwatch` command line.

Exit status: 0 success; 1 the run failed; 2 unusable arguments or configuration;
3 the run completed but some URLs failed (they are listed in `crawl_events`);
4 (`status`) a source is flagged: failing or silent.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import duckdb
import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from flows import progress, settings
from flows.pool import EXTRACTION, start_forkserver
from flows.prefect_api import ApiProcess, ApiStartError, early_api, using
from flows.sources import ConfigError, load_sources
from flows.warc import WarcError, check_archive
from transforms.vocabulary import TaxonomyError, vocabulary
from warehouse.db import (STORAGE_VERSION, WarehouseError, WarehouseLocked, compresses_texts, connect, keys_articles,
                          storage_version)
from warehouse.snapshot import is_snapshot, snapshot_path

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_PARTIAL, EXIT_ALERT = 0, 1, 2, 3, 4
DEMO_DIR = Path(__file__).resolve().parent / "demo"
DEFAULT_DB = Path(settings.DEFAULTS.db)
DEFAULT_SOURCES = Path(settings.DEFAULTS.sources)

app = typer.Typer(
    name="socwatch",
    help="Watch what governments announce about serious and organised crime.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Piped output is not cut at 80 columns; nothing we print is read as rich markup.
console = Console(width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, soft_wrap=True)

DbOption = Annotated[Path, typer.Option("--db", envvar="SOCWATCH_DB", help="Warehouse file (DuckDB).")]
SourcesOption = Annotated[Path, typer.Option("--sources", envvar="SOCWATCH_SOURCES", help="Sources file (TOML).")]
_LOADED: settings.Loaded | None = None


@app.callback(invoke_without_command=True)
def _settings(
    ctx: typer.Context,
    config: Annotated[Path | None, typer.Option("--config", help="Config file (TOML; default $SOCWATCH_CONFIG, else ./socwatch.toml).")] = None,
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.", is_eager=True)] = False,
) -> None:
    """Watch what governments announce about serious and organised crime.

    Settings come from flags, then SOCWATCH_* environment variables, then the config file;
    `socwatch config` shows what is in effect and where each value came from."""
    global _LOADED
    if version:
        from importlib.metadata import version as package_version

        console.print(f"socwatch {package_version('socwatch')}", highlight=False)
        raise typer.Exit(EXIT_OK)
    if ctx.invoked_subcommand is None:
        console.print(ctx.get_help(), highlight=False)
        raise typer.Exit(EXIT_OK)
    try:
        _LOADED = settings.load(config, os.environ)
    except ConfigError as exc:
        raise _fail(str(exc), EXIT_CONFIG) from None
    commands = {name: [p.name for p in cmd.params] for name, cmd in ctx.command.commands.items()}
    ctx.default_map = settings.default_map(_LOADED, commands)


def _resolved(**given: object) -> settings.Settings:
    """The command's settings, resolved once: its options' values as given, the others from
    the environment, the config file or the defaults (a bad value exits 2 naming it)."""
    with _config_checks():
        return settings.resolve(_loaded(), os.environ, **given)


def _loaded() -> settings.Loaded:
    """The config file the root callback read (or, for a command invoked directly, the default one)."""
    return _LOADED or settings.load(None, os.environ)


READ_WAIT_S = 2.0  # how long a reader waits for a writer before it reads the snapshot instead


@contextmanager
def _reading(db: Path) -> Iterator:
    """A read-only connection to the warehouse, or exit 2 saying why there is none. While a
    run holds the warehouse, the last published snapshot is read instead (and we say so)."""
    try:
        try:
            con = connect(db, read_only=True, wait_s=READ_WAIT_S)
        except WarehouseLocked:
            snapshot = snapshot_path(db)
            try:
                con = connect(snapshot, read_only=True) if snapshot.exists() else None
            except WarehouseError:  # removed as we looked (a run with the snapshot setting off)
                con = None
            if con is None:  # no snapshot to fall back on: wait as a writer would
                con = connect(db, read_only=True, wait_s=_resolved(db=db).lock_wait_s)
            else:
                from warehouse.queries import last_finished_at

                finished = last_finished_at(con)
                when = f"{finished:%Y-%m-%d %H:%M} UTC" if finished else "its last run"
                err.print(Text(f"note: {db} is busy with a run; reading its snapshot {snapshot} (as of {when})"),
                          highlight=False)
    except WarehouseError as exc:
        raise _fail(str(exc), EXIT_CONFIG) from None
    try:
        yield con
    finally:
        con.close()


def _fail(message: str, code: int) -> typer.Exit:
    err.print(Text("error: ", style="bold red") + Text(message), highlight=False)
    return typer.Exit(code)


def _exit_code(status: str) -> int:
    return {"completed": EXIT_OK, "completed_with_errors": EXIT_PARTIAL}.get(status, EXIT_FAILED)


def _summary_table(summary: dict, elapsed: float) -> Table:
    table = Table(title=f"run {summary['run_id'][:8]}: {summary['status']} in {elapsed:.1f} s", title_justify="left",
                  box=box.SIMPLE)
    columns = ("discovered", "fetched", "new", "updated", "unchanged", "skipped", "failed", "quarantined")
    short = {"discovered": "found", "unchanged": "same", "quarantined": "held"}
    table.add_column("source", no_wrap=True)
    for c in (*columns, "time"):
        label = c if console.width >= 110 else short.get(c, c)
        table.add_column(label, justify="right", min_width=len(label))
    for name, counts in summary["sources"].items():
        table.add_row(name, *(str(counts[c]) for c in columns), f"{counts['seconds']:.1f} s")
    table.add_row("[bold]total", *(f"[bold]{summary['totals'][c]}" for c in columns), f"[bold]{elapsed:.1f} s")
    if console.width < 110:
        table.caption = ("found = discovered, same = unchanged, held = quarantined; "
                         "skipped = refused by robots.txt or the host allowlist, or not HTML")
        table.caption_justify = "left"
    return table


def _writable(db: Path) -> None:
    if is_snapshot(db):
        raise ConfigError(f"{db} is a read-only snapshot, replaced after every run: "
                          f"write to the warehouse it copies ({db.name.replace('.snapshot', '')})")


@contextlib.contextmanager
def _config_checks() -> Iterator[None]:
    """A bad configuration found in the block exits 2, naming the culprit."""
    try:
        yield
    except (ConfigError, TaxonomyError, WarehouseError, WarcError) as exc:
        raise _fail(str(exc), EXIT_CONFIG) from None


def _preflight(cfg: settings.Settings) -> None:
    """What every command that writes checks before it starts Prefect's flow, after its own
    checks: the warehouse is not a snapshot, the vocabulary loads, the warehouse migrates and
    is not locked."""
    with _config_checks():
        _writable(Path(cfg.db))
        vocabulary(cfg.taxonomy)
        connect(cfg.db, access=cfg.access).close()


@contextmanager
def _api_with(cfg: settings.Settings, checks: Callable[[], None]) -> Iterator[ApiProcess | None]:
    """Prefect's API for a command that runs a flow, and the command's `checks`: a temporary
    API starts before them (it comes up while they run); the kept one (api_keep_s) is found or
    started after them, so that a bad config leaves no server behind."""
    if cfg.api_keep_s > 0:
        checks()
        with contextlib.ExitStack() as stack:
            try:
                api = stack.enter_context(early_api(cfg.api_keep_s))
            except (ApiStartError, OSError) as exc:
                raise _fail(f"the kept Prefect API could not be started ({exc}); SOCWATCH_API_KEEP_S=0 starts a "
                            "temporary one per command", EXIT_FAILED) from None
            yield api
    else:
        with early_api() as api:
            checks()
            yield api


def _ingest(cfg: settings.Settings, replay: list[Path], record: Path | None, runner: dict | None = None) -> dict:
    """Check everything that can be checked while Prefect's API starts, then run the flow.
    `runner`: the IngestOptions fields of the task runner."""
    runner = runner or {}
    with _api_with(cfg, lambda: _ingest_checks(cfg, replay, record, runner)) as api:
        return _checked_ingest(cfg, replay, record, runner, api)


def _ingest_checks(cfg: settings.Settings, replay: list[Path], record: Path | None, runner: dict) -> None:
    with _config_checks():
        names = [s.name for s in load_sources(cfg.sources)]
        if cfg.watchlists_file is not None:
            from flows.watch import load_file

            load_file(cfg.watchlists_file, list(vocabulary(cfg.taxonomy).themes), names)
        if runner.get("task_runner") == "dask" and record is not None:
            raise ConfigError("--record needs the default task runner (one process writes the archive)")
        for path in replay:
            if not path.is_file():
                raise ConfigError(f"--replay {path}: no such file")
            check_archive(path)
        if record is not None and record.exists():
            raise ConfigError(f"--record {record} exists already: record to a new file")
    _preflight(cfg)


def _checked_ingest(cfg: settings.Settings, replay: list[Path], record: Path | None, runner: dict, api) -> dict:
    if runner.get("task_runner", "default") == "default" and not replay and (os.cpu_count() or 1) > 1:
        # The extraction workers' imports, while Prefect's API starts (not for a replay such as
        # the demo: too small for a pool, it would only take CPU from the API's start).
        try:
            start_forkserver(EXTRACTION)
        except OSError:  # only a head start: the pool starts its fork server itself if need be
            pass
    with _flow_imports():
        from flows.ingest import IngestOptions, run_ingest  # Prefect is imported only when a flow runs
        from flows.watch import DeliveryOptions

    watchlists = cfg.watchlists_file
    options = IngestOptions(**runner, batch_size=cfg.batch_size, taxonomy=cfg.taxonomy, access=cfg.access,
                            watchlists_file=str(watchlists) if watchlists else None, delivery=DeliveryOptions(**cfg.delivery))
    _settle_heap()
    try:
        with using(api), progress.bars(console):
            return run_ingest(cfg.sources, cfg.db, replay, record, options)
    except (WarehouseError, WarcError) as exc:
        raise _fail(str(exc), EXIT_FAILED) from None
    except ApiStartError as exc:
        raise _fail(str(exc), EXIT_FAILED) from None
    except OSError as exc:  # a Dask scheduler that cannot be reached, say
        where = f" (Dask scheduler {options.dask_address})" if options.dask_address else ""
        raise _fail(f"the run could not start its workers{where}: {type(exc).__name__}: {str(exc)[:300]}", EXIT_FAILED) from None


@app.command()
def run(
    db: DbOption = DEFAULT_DB,
    sources: SourcesOption = DEFAULT_SOURCES,
    replay: Annotated[list[Path] | None, typer.Option("--replay", help="Serve responses from this WARC archive instead of the network (repeatable).")] = None,
    record: Annotated[Path | None, typer.Option("--record", help="Keep every response in this WARC archive (.warc.gz).")] = None,
    task_runner: Annotated[str, typer.Option("--task-runner", envvar="SOCWATCH_TASK_RUNNER",
                                             help="default (a local process pool) or dask (fetch and extract on a Dask cluster).")] = settings.DEFAULTS.task_runner,
    dask_address: Annotated[str | None, typer.Option("--dask-address", envvar="SOCWATCH_DASK_ADDRESS",
                                                     help="A running Dask scheduler (tcp://host:8786); else a local cluster.")] = None,
    dask_workers: Annotated[int, typer.Option("--dask-workers", min=1, help="Workers of the local Dask cluster.")] = 2,
) -> None:
    """Crawl the sources into the warehouse (the ingest flow)."""
    if task_runner not in settings.TASK_RUNNERS:
        raise _fail(f"--task-runner must be default or dask, not {task_runner!r}", EXIT_CONFIG)
    if dask_address and task_runner != "dask":
        raise _fail("--dask-address needs --task-runner dask", EXIT_CONFIG)
    started = time.monotonic()
    cfg = _resolved(db=db, sources=sources, task_runner=task_runner, dask_address=dask_address)
    summary = _ingest(cfg, list(replay or ()), record,
                      {"task_runner": task_runner, "dask_address": dask_address, "dask_workers": dask_workers})
    console.print(_summary_table(summary, time.monotonic() - started))
    if summary.get("snapshot"):
        console.print(f"snapshot for readers: {summary['snapshot']}", highlight=False)
    for source, alert, reason in summary.get("alerts", ()):
        err.print(Text(f"{alert}: {source}: {reason}"), highlight=False)
    if summary["status"] == "completed_with_errors":
        query = f"SELECT url, status, error FROM crawl_events WHERE run_id = '{summary['run_id']}' AND status <> 'fetched'"
        err.print(Text(f"{summary['totals']['failed']} URL(s) failed, {summary['totals']['quarantined']} record(s) "
                       f"quarantined; see: socwatch sql --db {db} \"{query}\""), highlight=False)
    raise typer.Exit(_exit_code(summary["status"]))


DEMO_QUERIES = (
    ("Announcements per theme",
     "SELECT theme, count(*) AS articles FROM article_themes GROUP BY theme ORDER BY articles DESC, theme"),
    ("Bilateral partnerships",
     "SELECT partners, type, title FROM announcements WHERE bilateral ORDER BY published_at"),
    ("Latest drugs news, any language",
     "SELECT published_at::DATE AS day, source, title FROM announcements WHERE list_contains(themes, 'drugs') "
     "ORDER BY published_at DESC LIMIT 5"),
)


@app.command()
def demo(db: DbOption = DEFAULT_DB) -> None:
    """Build the warehouse offline from the bundled sample archive (invented sample data)."""
    started = time.monotonic()
    cfg = _resolved(db=db, sources=DEMO_DIR / "sources.toml")
    with _config_checks():
        _only_demo_sources(cfg)
    summary = _ingest(cfg, [DEMO_DIR / "sample.warc.gz"], None)
    console.print(_summary_table(summary, time.monotonic() - started))
    console.print(f"Warehouse: [bold]{db}[/] (sample data: every demo article is invented)")
    if summary.get("snapshot"):
        console.print(f"For BI tools and notebooks (read-only copy, replaced after each run): [bold]{summary['snapshot']}[/]")
    console.print(f"Charts: socwatch report --db {db} --out report.html\n", highlight=False)
    con = connect(db, read_only=True)
    try:
        for title, query in DEMO_QUERIES:
            console.print(f"[bold]{title}[/]\n  {_socwatch(db, 'sql')} \"{query}\"", highlight=False)
            console.print(_rich_table(*_query(con, query)))
    finally:
        con.close()
    raise typer.Exit(_exit_code(summary["status"]))


def _socwatch(db: Path, command: str) -> str:
    """A command to suggest, for the warehouse `db` (`--db` named unless it is the default)."""
    return f"socwatch {command}" + ("" if Path(db) == DEFAULT_DB else f" --db {db}")


def _only_demo_sources(cfg: settings.Settings) -> None:
    """The demo's articles are invented: never into a warehouse that holds other sources."""
    db = Path(cfg.db)
    if not db.exists():
        return
    _writable(db)
    ours = {s.name for s in load_sources(DEMO_DIR / "sources.toml")}
    con = connect(db, access=cfg.access)
    try:
        others = [name for (name,) in con.execute("SELECT source FROM sources ORDER BY source").fetchall() if name not in ours]
    finally:
        con.close()
    if others:
        listed = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
        raise ConfigError(f"{db} is read from real sources ({listed}): the demo's invented articles would mix "
                          "with them, in searches, reports and watchlists. Give the demo a file of its own: "
                          "socwatch demo --db demo.duckdb")


def _query(con, query: str, params: dict | None = None) -> tuple[list[str], list[tuple]]:
    cursor = con.execute(query, params) if params else con.execute(query)
    if cursor is None or not cursor.description:  # a statement that returns nothing
        return [], []
    names = [d[0] for d in cursor.description]
    return names, cursor.fetchall()


def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN or infinity
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _csv_cell(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(_plain(value), ensure_ascii=False)
    return _plain(value)


def _rich_table(names: list[str], rows: list[tuple]) -> Table:
    table = Table(show_lines=False)
    for name in names:
        table.add_column(name, overflow="fold")
    for row in rows:
        table.add_row(*(Text("" if v is None else ", ".join(map(str, v)) if isinstance(v, list) else str(_plain(v))) for v in row))
    return table


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="SQL to run against the warehouse (read-only).")],
    db: DbOption = DEFAULT_DB,
    format: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
) -> None:
    """Run an ad-hoc SQL query (read-only) and print the result."""
    if format not in ("table", "csv", "json"):
        raise _fail(f"--format must be table, csv or json, not {format!r}", EXIT_CONFIG)
    if not query.strip():
        raise _fail("the query is empty", EXIT_CONFIG)
    with _reading(db) as con:
        try:
            names, rows = _query(con, query)
        except Exception as exc:  # duckdb's errors: bad SQL is the user's to fix, not a crash
            raise _fail(f"query failed: {str(exc).strip()}", EXIT_CONFIG) from None
    if not names:
        raise _fail("the query returns no result set (socwatch sql only reads)", EXIT_CONFIG)
    if format == "table":
        console.print(_rich_table(names, rows))
    elif format == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(names)
        writer.writerows([_csv_cell(v) for v in row] for row in rows)
    else:
        sys.stdout.write(json.dumps([dict(zip(names, map(_plain, row), strict=True)) for row in rows], ensure_ascii=False, default=str))
        sys.stdout.write("\n")


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="Words to look for (BM25 over title and text; accents and case ignored).")],
    db: DbOption = DEFAULT_DB,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many results.")] = 20,
    theme: Annotated[str | None, typer.Option("--theme", help="Only articles tagged with this theme slug.")] = None,
    country: Annotated[str | None, typer.Option("--country", help="Only articles where this country acts (ISO alpha-2, or EU).")] = None,
    since: Annotated[datetime | None, typer.Option("--since", formats=["%Y-%m-%d"], help="Only articles published on or after this day.")] = None,
) -> None:
    """Full-text search, best first: one result a line with date, source, title and url."""
    from warehouse.search import has_index
    from warehouse.search import search as run_search

    if not query.strip():
        raise _fail("give the words to look for: socwatch search \"cocaine port\"", EXIT_CONFIG)
    country = _country_code(country)
    if theme is not None:
        try:
            themes = vocabulary(_resolved(db=db).taxonomy).themes
        except TaxonomyError as exc:  # a taxonomy of the user's own (the taxonomy setting) that cannot be used
            raise _fail(str(exc), EXIT_CONFIG) from None
        if theme not in themes:
            raise _fail(f"unknown theme {theme!r}; themes: {', '.join(sorted(themes))}", EXIT_CONFIG)
    with _reading(db) as con:
        if not has_index(con):
            raise _fail(f"{db} has no search index yet: run `{_socwatch(db, 'run')}` (or `{_socwatch(db, 'demo')}`) once",
                        EXIT_CONFIG)
        hits = run_search(con, query, limit=limit, theme=theme, country=country,
                          since=since.date() if since else None)
    for hit in hits:
        day = hit.published_at.date().isoformat() if hit.published_at else "----------"
        console.print(Text(f"{day}  {hit.source:<22} {hit.title}  {hit.url}"), soft_wrap=True, highlight=False)
    if not hits:
        err.print(Text(f"no match for {query!r}"), highlight=False)


def _country_code(country: str | None) -> str | None:
    """A --country option as the warehouse stores it ("nl" -> "NL"), or exit 2 naming it."""
    if country is None:
        return None
    from schemas.codes import ACTOR_CODES, not_a_country

    if (code := country.strip().upper()) not in ACTOR_CODES:
        raise _fail(f"--country: {country!r} is {not_a_country([code])}", EXIT_CONFIG)
    return code


@app.command()
def events(
    db: DbOption = DEFAULT_DB,
    country: Annotated[str | None, typer.Option("--country", help="Only events where this country acts (ISO alpha-2, or EU).")] = None,
    partners: Annotated[str | None, typer.Option("--partners", help="Only events of this partner pair, as A-B (GB-NL).")] = None,
    since: Annotated[datetime | None, typer.Option("--since", formats=["%Y-%m-%d"], help="Only events first reported on or after this day.")] = None,
    linked: Annotated[bool, typer.Option("--linked", help="Only events reported by more than one announcement.")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many events.")] = 50,
) -> None:
    """Events, latest first: one event a line (its first date, partners, type, title), then its
    announcements with their role (first_report, partner_release, follow_up, syndicated_copy)."""
    from warehouse.queries import events as event_rows

    pair = None
    if partners is not None:
        from schemas.codes import partner_pair

        try:
            pair = partner_pair(partners)
        except ValueError as exc:
            raise _fail(f"--partners: {exc}", EXIT_CONFIG) from None
    country = _country_code(country)
    with _reading(db) as con:
        rows = event_rows(con, country, pair, since.date() if since else None, linked, limit)
    for _event_id, first, title, kind, pairs, countries, languages, articles in rows:
        day = first.date().isoformat() if first else "----------"
        who = ", ".join(pairs) or ", ".join(countries) or "-"
        console.print(Text(f"{day}  {who}  {kind}  {len(articles)} announcement{'s' * (len(articles) != 1)} "
                           f"({', '.join(languages)})  {title}"), soft_wrap=True, highlight=False)
        for published, source, role, a_title, url in articles:
            a_day = published.date().isoformat() if published else "----------"
            console.print(Text(f"    {a_day}  {source:<22} {role:<16} {a_title}  {url}"), soft_wrap=True, highlight=False)
    if not rows:
        err.print("no events match", highlight=False)


@app.command()
def schema(
    db: DbOption = DEFAULT_DB,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print the data dictionary as Markdown (docs/warehouse.md).")] = False,
) -> None:
    """Print every table, view and column of the warehouse with its meaning."""
    from warehouse.catalog import dictionary_markdown, relations

    with _reading(db) as con:
        if markdown:
            sys.stdout.write(dictionary_markdown(con) + "\n")
            return
        for rel in relations(con):
            table = Table(title=Text(f"{rel.name} ({rel.kind}): {rel.comment}"), title_justify="left", box=box.SIMPLE)
            for name in ("column", "type", "meaning"):
                table.add_column(name, overflow="fold")
            for column in rel.columns:
                table.add_row(Text(column.name), Text(column.type), Text(column.comment))
            console.print(table)


@app.command()
def export(
    out: Annotated[Path, typer.Option("--out", help="Folder for the Parquet files (created where missing).")],
    db: DbOption = DEFAULT_DB,
) -> None:
    """Write every table and view as Parquet, one file each, named after it."""
    from warehouse.catalog import export_parquet

    with _reading(db) as con:
        try:
            with progress.bars(console):
                counts = export_parquet(con, out, lambda n: progress.total("tables", n),
                                        lambda _name: progress.advance("tables"))
        except (OSError, duckdb.Error) as exc:  # a folder that cannot be made or written to
            raise _fail(f"cannot write to {out}: {str(exc).strip()}", EXIT_CONFIG) from None
    for name, n in counts.items():
        console.print(Text(f"{out / (name + '.parquet')}  {n} rows"), highlight=False)


@app.command()
def serve(
    ctx: typer.Context,
    db: DbOption = DEFAULT_DB,
    sources: SourcesOption = DEFAULT_SOURCES,
    cron: Annotated[str, typer.Option("--cron", envvar="SOCWATCH_CRON", help="Schedule of the ingest deployment (cron, UTC).")] = settings.DEFAULTS.cron,
    interval: Annotated[float | None, typer.Option("--interval", envvar="SOCWATCH_INTERVAL",
                                                   help="Run ingest every this many seconds instead of on --cron.")] = None,
    prefect_api: Annotated[str | None, typer.Option("--prefect-api", envvar="PREFECT_API_URL",
                                                    help="A Prefect server's API URL; without one, a local server is started.")] = None,
) -> None:
    """Serve the ingest (scheduled) and reclassify (on demand) deployments until stopped."""
    from flows.serve import SERVE_LOCK_WAIT_S, build_deployments, start_local_server
    from flows.serve import serve as run_serve

    # The schedule given by the more direct means wins: a --cron flag over an interval from the
    # environment or the config file (and both flags at once is a mistake).
    rank = {"COMMANDLINE": 0, "ENVIRONMENT": 1, "DEFAULT_MAP": 2}  # by name: Typer may bring its own Click
    cron_from, interval_from = (rank.get(getattr(ctx.get_parameter_source(p), "name", ""), 3) for p in ("cron", "interval"))
    if interval is not None and cron_from == interval_from == 0:
        raise _fail("give --cron or --interval, not both", EXIT_CONFIG)
    if interval is not None and cron_from < interval_from:
        interval = None
    if not prefect_api:  # a Prefect profile's API (prefect config set / prefect cloud login)
        from prefect.settings import PREFECT_API_URL

        prefect_api = PREFECT_API_URL.value() or None
    cfg = _resolved(db=db, sources=sources, cron=cron, interval=interval, prefect_api=prefect_api)
    if settings.origins(_loaded(), os.environ)["lock_wait_s"] == "default":
        cfg = replace(cfg, lock_wait_s=SERVE_LOCK_WAIT_S)  # served runs take turns: they wait longer
    with _config_checks():
        deployments = build_deployments(cfg)
    _preflight(cfg)
    server = None
    if not prefect_api:
        console.print("starting a local Prefect server (set PREFECT_API_URL to use your own) ...", highlight=False)
        try:
            server = start_local_server()
        except ApiStartError as exc:
            raise _fail(str(exc), EXIT_FAILED) from None
        prefect_api = server.url

    def ready() -> None:
        for d in deployments:
            when = ", ".join(str(s.schedule.cron) if hasattr(s.schedule, "cron")
                             else f"every {s.schedule.interval.total_seconds():g} s" for s in d.schedules or ()) or "on demand"
            console.print(Text(f"deployment {d.flow_name}/{d.name}: {when}"), highlight=False)
        console.print(Text(f"Prefect API: {settings.redact(prefect_api)}"), highlight=False)
        if server is not None:
            console.print(Text(f"Prefect UI: {server.ui_url} (runs, logs, schedules); Ctrl-C stops"), highlight=False)

    try:
        run_serve(deployments, prefect_api, on_ready=ready)
    except Exception as exc:  # an API that does not answer, refuses us, or goes away
        raise _fail(f"serving with the Prefect API at {settings.redact(prefect_api)} failed: {type(exc).__name__}: {str(exc)[:300]}",
                    EXIT_FAILED) from None
    finally:
        if server is not None:
            server.stop()
    console.print("stopped; the schedules are paused until serve runs again", highlight=False)


@app.command()
def status(db: DbOption = DEFAULT_DB) -> None:
    """Sources and their freshness; exit 4 when one is failing or silent (for cron or a monitor)."""
    version = _taxonomy_version(_resolved(db=db).taxonomy)
    with _reading(db) as con:
        from warehouse.events import count_to_regroup, count_to_relink
        from warehouse.compact import stopped
        from warehouse.queries import SOURCE_HEALTH, WATCHLISTS, count_to_classify, last_run, source_alerts

        names, rows = _query(con, SOURCE_HEALTH)
        last = last_run(con)
        alerts = source_alerts(con)
        watch_names, watch_rows = _query(con, WATCHLISTS)
        behind = []
        if version and (retag := count_to_classify(con, version)):
            behind.append(f"{retag} article(s) not tagged with this socwatch's taxonomy ({version})")
        if relink := count_to_relink(con):
            behind.append(f"{relink} article(s) linked into events under other rules than this socwatch's")
        if regroup := count_to_regroup(con):
            behind.append(f"{regroup} article(s) linked again whose events are not made yet (a reclassify stopped, or running)")
        older = []  # what a warehouse made before 7 December 2026 has that a new one has not
        if not compresses_texts(con):
            older.append(f"is in DuckDB's storage format {storage_version(con)}, which keeps article texts uncompressed")
        if keys_articles(con):
            older.append("has an index on articles, which makes every run that stores articles rewrite thousands of them")
    console.print(_rich_table(names, rows))
    if watch_rows:
        console.print(_rich_table(watch_names, watch_rows))
    if last:
        console.print(Text(f"last run: {last[0]} {last[1]} at {last[2]} UTC (run {last[3][:8]})"), highlight=False)
    if behind:  # after an upgrade or a taxonomy of one's own: runs tag only what they fetch
        console.print(Text(f"{'; '.join(behind)}: `{_socwatch(db, 'reclassify')}` brings them up to date"), highlight=False)
    if left := stopped(db):
        console.print(Text(f"a compaction that was stopped left {len(left)} file(s) beside the warehouse "
                           f"({', '.join(p.name for p in left)}): `{_socwatch(db, 'compact')}` removes them"), highlight=False)
    if older:
        console.print(Text(f"the warehouse file {' and '.join(older)}: `{_socwatch(db, 'compact')}` rewrites it "
                           f"(storage format {STORAGE_VERSION}, articles without the index)"), highlight=False)
    for source, alert, reason in alerts:
        err.print(Text(f"{alert}: {source}: {reason}"), highlight=False)
    raise typer.Exit(EXIT_ALERT if alerts else EXIT_OK)


def _taxonomy_version(taxonomy: str | None) -> str | None:
    """The version of the taxonomy runs tag with, or None where it cannot be read (the runs
    say why; status still reports the sources)."""
    from transforms.vocabulary import TaxonomyError, vocabulary

    try:
        return vocabulary(taxonomy).version
    except TaxonomyError:
        return None


@app.command()
def report(
    out: Annotated[Path, typer.Option("--out", help="The HTML file to write.")] = Path("report.html"),
    db: DbOption = DEFAULT_DB,
    png: Annotated[Path | None, typer.Option("--screenshot", help="Also write a PNG of the page (needs Debian's chromium).")] = None,
) -> None:
    """Write a self-contained HTML report with charts of themes, partners and sources."""
    from warehouse.report import render_report

    with _reading(db) as con:
        page = render_report(con, db.name)
    partial = out.with_name(f".{out.name}.partial")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(page, encoding="utf-8")
        partial.replace(out)
    except OSError as exc:
        raise _fail(f"cannot write {out}: {exc.strerror or exc}", EXIT_CONFIG) from None
    finally:
        with contextlib.suppress(OSError):  # its folder may not even exist
            partial.unlink(missing_ok=True)
    console.print(Text(f"{out}  {len(page.encode()) / 1e6:.1f} MB, opens without a network"), highlight=False)
    if png is not None:
        from warehouse.browser import BrowserError, screenshot

        try:
            screenshot(out, png)
        except BrowserError as exc:
            raise _fail(str(exc), EXIT_FAILED) from None
        except OSError as exc:
            raise _fail(f"cannot write {png}: {exc.strerror or exc}", EXIT_CONFIG) from None
        console.print(Text(f"{png}  screenshot"), highlight=False)


@app.command()
def quarantine(
    db: DbOption = DEFAULT_DB,
    run_id: Annotated[str | None, typer.Option("--run", help="Only records this run set aside (a run id or its first characters).")] = None,
    everything: Annotated[bool, typer.Option("--all", help="Also records already resolved by a later load.")] = False,
) -> None:
    """List records set aside by validation: table, check, reason (newest first)."""
    with _reading(db) as con:
        from warehouse.queries import QUARANTINE

        names, rows = _query(con, QUARANTINE, {"run": run_id, "all": everything})
        known = run_id is None or con.execute("SELECT count(*) FROM runs WHERE starts_with(run_id, ?)", [run_id]).fetchone()[0]
    if not known:
        listing = f'{_socwatch(db, "sql")} "SELECT run_id, command, started_at FROM runs ORDER BY started_at DESC"'
        raise _fail(f"--run {run_id}: no run of this warehouse has an id that begins so (they are in the runs table: "
                    f"{listing})", EXIT_CONFIG)
    if rows:
        console.print(_rich_table(names, rows))
    else:
        err.print("nothing in quarantine" + (f" for run {run_id}" if run_id else ""), highlight=False)


@app.command()
def reclassify(
    db: DbOption = DEFAULT_DB,
    everything: Annotated[bool, typer.Option("--all", help="Re-tag every article, also those already at the current version.")] = False,
) -> None:
    """Re-tag stored articles with the current taxonomy (nothing is fetched)."""
    started = time.monotonic()
    cfg = _resolved(db=db)

    def checks() -> None:
        with _config_checks():
            _writable(Path(cfg.db))
            if not Path(cfg.db).exists():  # not a new, empty warehouse for a mistyped --db
                raise WarehouseError(f"no warehouse at {cfg.db}: nothing to re-tag")
        _preflight(cfg)

    with _api_with(cfg, checks) as api:  # Prefect's API comes up while the checks and imports run
        with _flow_imports():
            from flows.reclassify import ReclassifyOptions, run_reclassify
            from flows.watch import DeliveryOptions

        options = ReclassifyOptions(everything=everything, taxonomy=cfg.taxonomy, access=cfg.access,
                                    delivery=DeliveryOptions(**cfg.delivery))
        _settle_heap()
        try:
            with using(api), progress.bars(console):
                summary = run_reclassify(db, options)
        except (WarehouseError, ApiStartError) as exc:
            raise _fail(str(exc), EXIT_FAILED) from None
    console.print(f"reclassify {summary['status']}: {summary['reclassified']} article(s) re-tagged with taxonomy "
                  f"{summary['taxonomy_version']} in {time.monotonic() - started:.1f} s"
                  + (f"; {summary['relinked']} article(s) linked again into events (those re-tagged, and any under older linking rules)" if summary["relinked"] else "")
                  + (f"; {summary['quarantined']} tag row(s) quarantined" if summary["quarantined"] else ""), highlight=False)
    raise typer.Exit(_exit_code(summary["status"]))


@app.command()
def compact(db: DbOption = DEFAULT_DB) -> None:
    """Rewrite the warehouse into a new file in this socwatch's storage format (texts
    compressed), without the space deletes left; the search index is built again."""
    import logging
    import shutil

    from flows import failpoints
    from warehouse.compact import compact as rewrite
    from warehouse.snapshot import try_publish

    cfg = _resolved(db=db)
    with _config_checks():
        _writable(db)
        if not db.exists():
            raise WarehouseError(f"no warehouse at {db}: nothing to compact")
    # The new file is made beside the old one before it takes its place (the search index
    # build needs room of its own too).
    if (free := shutil.disk_usage(db.parent).free) < db.stat().st_size:
        raise _fail(f"compact needs as much free space beside {db} as the warehouse takes ({db.stat().st_size / 1e6:,.0f} MB); "
                    f"{free / 1e6:,.0f} MB are free. Nothing was changed.", EXIT_FAILED)
    try:
        done = rewrite(db, cfg.access, pause=lambda stage: failpoints.hold("compact", stage))
    except WarehouseError as exc:
        raise _fail(str(exc), EXIT_CONFIG) from None
    except (OSError, RuntimeError, duckdb.Error) as exc:
        raise _fail(f"compact failed, the warehouse is left as it was: {exc}", EXIT_FAILED) from None
    console.print(f"compacted {db}: {done.bytes_before / 1e6:,.1f} MB -> {done.bytes_after / 1e6:,.1f} MB, storage format "
                  f"{done.format_before} -> {done.format_after}; {done.tables} tables, {done.rows:,} rows"
                  + ("; search index built again" if done.index_rebuilt else "") + f"; {done.seconds:.1f} s", highlight=False)
    if cfg.access.snapshot:
        with _writing(db) as con:
            if published := try_publish(con, db, logging.getLogger("socwatch.compact")):
                console.print(f"snapshot for readers: {published}", highlight=False)
    raise typer.Exit(EXIT_OK)


@app.command()
def evaluate(
    gold: Annotated[list[Path], typer.Argument(help="Gold files (JSON Lines: id, url, title, text, language, themes, countries, bilateral, type); several are scored together.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of tables.")] = False,
    errors: Annotated[bool, typer.Option("--errors", help="Also list each document with a wrong tag: what was expected, what was found.")] = False,
    corpus: Annotated[Path | None, typer.Option("--corpus", help="The folder the gold lines' `source` paths are relative to (default: ../shared, where it exists): a GOV.UK translation whose English original is stored there is tagged from it, as a run tags it.")] = None,
) -> None:
    """Score the classifier on gold files: per-theme precision/recall/F1, bilateral, countries,
    type; the same per publisher (host)."""
    from transforms.classify import tag
    from transforms.evaluate import by_publisher, mistakes, publisher_country, score, stored_originals

    docs: list[dict] = []
    try:
        vocab = vocabulary(_resolved().taxonomy)
        for path in gold:
            lines = path.read_text(encoding="utf-8").splitlines()
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                doc = json.loads(line)
                missing = {"title", "text", "themes", "countries", "bilateral"} - set(doc)
                if missing:
                    hint = "" if "source" not in doc or not {"title", "text"} & missing else (
                        f": a label file, without its texts; join them first, e.g. "
                        f"python3 ../shared/gold/build.py {path} > {path.stem}-texts.jsonl")
                    raise ConfigError(f"{path}: line {number} lacks {', '.join(sorted(missing))}{hint}")
                docs.append(doc)
        if corpus is not None and not corpus.is_dir():
            raise ConfigError(f"--corpus {corpus}: no such folder")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, ConfigError, TaxonomyError) as exc:
        raise _fail(f"cannot evaluate on {', '.join(map(str, gold))}: {exc}", EXIT_CONFIG) from None
    if corpus is None and Path("../shared").is_dir():
        corpus = Path("../shared")
    if corpus is None and any(str(d.get("source") or "").endswith(".json") for d in docs):
        err.print("note: no corpus folder (../shared here, or --corpus): GOV.UK translations are tagged from their "
                  "own text, not from their English originals", highlight=False)
    originals = stored_originals(docs, corpus) if corpus is not None else {}
    predicted = []
    for i, d in enumerate(docs):
        url, title, text = originals.get(i, (None, d["title"] or "", d["text"] or ""))
        predicted.append(tag(str(d.get("id", i)), title, text, publisher_country(d.get("url") or ""), d.get("language"), url,
                             vocab))
    scores = score(docs, predicted, vocab.themes)
    scores["translations_from_originals"] = len(originals)
    scores["corpus"] = str(corpus) if corpus is not None else None
    scores["taxonomy_version"] = vocab.version
    scores["per_publisher"] = by_publisher(docs, predicted, vocab.themes)
    wrong = mistakes(docs, predicted) if errors else []
    if as_json:
        if errors:
            scores["errors"] = wrong
        sys.stdout.write(json.dumps(scores, indent=2) + "\n")
        return
    from_originals = f", {len(originals)} translation(s) tagged from the original stored in {corpus}" if originals else ""
    table = Table(title=f"{scores['documents']} documents, taxonomy {vocab.version}{from_originals}", title_justify="left",
                  box=box.SIMPLE)
    for name in ("theme", "precision", "recall", "f1", "support"):
        table.add_column(name, justify="left" if name == "theme" else "right")
    for theme, s in scores["per_theme"].items():
        table.add_row(theme, f"{s['precision']:.3f}", f"{s['recall']:.3f}", f"{s['f1']:.3f}", str(s["support"]))
    console.print(table)
    summary = Table(box=box.SIMPLE, show_header=True)
    for name in ("measure", "precision", "recall", "f1"):
        summary.add_column(name, justify="left" if name == "measure" else "right")
    micro = scores["micro"]
    summary.add_row("themes, micro", f"{micro['precision']:.3f}", f"{micro['recall']:.3f}", f"{scores['micro_f1']:.3f}")
    summary.add_row("themes, macro", "", "", f"{scores['macro_f1']:.3f}")
    for name in ("bilateral", "countries"):
        s = scores[name]
        summary.add_row(name, f"{s['precision']:.3f}", f"{s['recall']:.3f}", f"{s['f1']:.3f}")
    summary.add_row("type (accuracy)", "", "", f"{scores['type_accuracy']:.3f}")
    console.print(summary)
    hosts = Table(title="per publisher (nothing is fitted to the gold files: each row is also its leave-one-publisher-out score)",
                  title_justify="left", box=box.SIMPLE)
    for name in ("publisher", "docs", "micro f1", "(90%)", "macro f1", "bilateral f1", "bilateral +", "countries f1",
                 "(90%)", "type acc."):
        hosts.add_column(name, justify="left" if name == "publisher" else "right")
    for host, s in scores["per_publisher"].items():
        # No bilateral document expected nor found: nothing to score.
        bilateral = "-" if not (s["bilateral_support"] or s["bilateral_found"]) else f"{s['bilateral']['f1']:.3f}"
        (m_lo, m_hi), (c_lo, c_hi) = s["intervals"]["micro_f1"], s["intervals"]["countries_f1"]
        hosts.add_row(host, str(s["documents"]), f"{s['micro_f1']:.3f}", f"{m_lo:.2f}-{m_hi:.2f}", f"{s['macro_f1']:.3f}",
                      bilateral, str(s["bilateral_support"]), f"{s['countries']['f1']:.3f}", f"{c_lo:.2f}-{c_hi:.2f}",
                      f"{s['type_accuracy']:.3f}")
    console.print(hosts)
    console.print(Text("(90%): where the F1 lies in 90% of 1,000 resamples of the publisher's documents; a publisher "
                       "whose interval reaches the total's figure is not shown to differ from it."))
    for e in wrong:
        console.print(Text(f"{e['id']}  {e['publisher']}  {e['title'][:90]}", style="bold"))
        for field, (want, got) in e["wrong"].items():
            console.print(Text(f"    {field}: expected {want}, found {got}"))


@app.command("config")
def show_config(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of {setting, value, from}.")] = False,
) -> None:
    """Print the settings in effect (with no flags given) and where each value comes from."""
    loaded = _loaded()
    with _config_checks():
        rows = settings.effective(loaded, os.environ)
    if as_json:
        rows = [{"setting": n, "value": v, "from": o} for n, v, o in rows]
        sys.stdout.write(json.dumps(rows, default=str) + "\n")
        return
    table = Table(box=box.SIMPLE, title=f"config file: {loaded.path or 'none'}", title_justify="left")
    for name in ("setting", "value", "from", "meaning"):
        table.add_column(name, overflow="fold")
    for name, value, origin in rows:
        table.add_row(name, Text("-" if value is None else str(value)), Text(origin), settings.BY_NAME[name].help)
    console.print(table)


watch_app = typer.Typer(help="Watchlists: saved filters whose new matches each run delivers (Atom feed, webhook, "
                        "Prefect event).", no_args_is_help=True)
app.add_typer(watch_app, name="watch")


@contextmanager
def _writing(db: Path) -> Iterator:
    """A writer connection to the warehouse (waiting for a run that holds it), or exit 2."""
    try:
        con = connect(db, access=_resolved(db=db).access)
    except WarehouseError as exc:
        raise _fail(str(exc), EXIT_CONFIG) from None
    with contextlib.closing(con):
        yield con


def _feed_path(db: Path, name: str) -> Path:
    from warehouse.watch import feeds_folder

    return feeds_folder(_resolved(db=db).feeds, db) / f"{name}.atom"


@watch_app.command("add")
def watch_add(
    name: Annotated[str, typer.Argument(help="Its name: lower-case letters, digits and dashes.")],
    db: DbOption = DEFAULT_DB,
    theme: Annotated[list[str] | None, typer.Option("--theme", help="A theme slug (repeatable: any of them).")] = None,
    country: Annotated[list[str] | None, typer.Option("--country", help="A country acting, ISO alpha-2 or EU (repeatable: any).")] = None,
    partners: Annotated[list[str] | None, typer.Option("--partners", help="A partner pair as A-B, GB-NL (repeatable: any).")] = None,
    kind: Annotated[list[str] | None, typer.Option("--type", help="An announcement type (repeatable: any).")] = None,
    language: Annotated[list[str] | None, typer.Option("--language", help="A language, ISO 639-1 (repeatable: any).")] = None,
    source: Annotated[list[str] | None, typer.Option("--source", help="A source name (repeatable: any).")] = None,
    bilateral: Annotated[bool, typer.Option("--bilateral", help="Only bilateral announcements.")] = False,
    query: Annotated[str | None, typer.Option("--query", help="Words that must all be in the title or text (as search reads them).")] = None,
    feed: Annotated[bool, typer.Option("--feed/--no-feed", help="Write an Atom feed file for it after each run.")] = True,
    webhook: Annotated[str | None, typer.Option("--webhook", help="POST each run's new hits here (JSON, signed).")] = None,
    secret_env: Annotated[str | None, typer.Option("--secret-env", help="The environment variable that holds the webhook's "
                                                   "signing secret (its name; the secret is never stored).")] = None,
    replace_old: Annotated[bool, typer.Option("--replace", help="Replace a watchlist of that name.")] = False,
) -> None:
    """Save a watchlist. What it matches now is its baseline; what matches after each run are its hits."""
    from flows.watch import make
    from warehouse.watch import save, watchlists

    cfg = _resolved(db=db)
    try:
        themes = vocabulary(cfg.taxonomy).themes
        watchlist = make(name, themes=theme or (), countries=country or (), partners=partners or (), types=kind or (),
                         languages=language or (), sources=source or (), bilateral=bilateral, query=query, feed=feed,
                         webhook=webhook, secret_env=secret_env, known_themes=list(themes))
    except (ConfigError, TaxonomyError) as exc:
        raise _fail(str(exc), EXIT_CONFIG) from None
    with _writing(db) as con:
        known = [r[0] for r in con.execute("SELECT source FROM sources ORDER BY source").fetchall()]
        if unknown := sorted(set(watchlist.sources) - set(known)):
            raise _fail(f"--source: unknown source(s) {', '.join(map(repr, unknown))}; sources: {', '.join(known) or 'none yet'}",
                        EXIT_CONFIG)
        if watchlists(con, name) and not replace_old:
            raise _fail(f"a watchlist named {name!r} exists: give --replace to replace it, or remove it first", EXIT_CONFIG)
        baseline = save(con, watchlist)
    console.print(Text(f"watchlist {name}: {watchlist.describe()}; {baseline} stored article(s) match now (its baseline)"),
                  highlight=False)
    if watchlist.feed:
        console.print(Text(f"feed: {_feed_path(db, name)} (written after each run)"), highlight=False)
    if watchlist.webhook_url:
        state = "set" if os.environ.get(secret_env or "") else "NOT set in this shell"
        console.print(Text(f"webhook: {watchlist.webhook_url}, signed with ${secret_env} ({state})"), highlight=False)


@watch_app.command("list")
def watch_list(db: DbOption = DEFAULT_DB) -> None:
    """The watchlists: filter, hits, last hit and last delivery."""
    from warehouse.queries import WATCHLISTS

    with _reading(db) as con:
        names, rows = _query(con, WATCHLISTS)
    console.print(_rich_table(names, rows))
    if not rows:
        err.print(f"no watchlists: add one with `{_socwatch(db, 'watch add NAME')} --theme drugs --partners GB-NL`", highlight=False)


@watch_app.command("show")
def watch_show(
    name: Annotated[str, typer.Argument(help="The watchlist.")],
    db: DbOption = DEFAULT_DB,
    since: Annotated[datetime | None, typer.Option("--since", formats=["%Y-%m-%d"], help="Only hits published on or after this day.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many hits.")] = 50,
) -> None:
    """A watchlist's hits, latest published first: date, source, title, url and why it matched."""
    from warehouse.watch import hits, watchlists

    with _reading(db) as con:
        found = watchlists(con, name)
        if not found:
            raise _fail(f"no watchlist named {name!r}", EXIT_CONFIG)
        rows = hits(con, name, since=since.date() if since else None, limit=limit)
    console.print(Text(f"{name}: {found[0].describe()}"), highlight=False)
    for h in rows:
        day = h.published_at.date().isoformat() if h.published_at else "----------"
        found_by = f"run {h.run_id[:8]}" if h.run_id else "baseline"
        console.print(Text(f"{day}  {h.source:<22} {h.title}  {h.url}\n    {'; '.join(h.reasons) or 'every announcement'} "
                           f"({found_by})"), soft_wrap=True, highlight=False)
    if not rows:
        err.print("no hits", highlight=False)


@watch_app.command("remove")
def watch_remove(name: Annotated[str, typer.Argument(help="The watchlist.")], db: DbOption = DEFAULT_DB) -> None:
    """Remove a watchlist with its hits and deliveries (its feed file is left as it is)."""
    from warehouse.watch import remove

    with _writing(db) as con:
        if not remove(con, name):
            raise _fail(f"no watchlist named {name!r}", EXIT_CONFIG)
    console.print(Text(f"watchlist {name} removed"), highlight=False)


_OWN_PROCESS = False  # set by main: the command has the process to itself (not a test's CliRunner)


def _flow_imports() -> contextlib.AbstractContextManager[None]:
    """Where a flow's modules are imported: in a process of its own, without the collector
    walking what they make (flows/heap.py)."""
    if _OWN_PROCESS:
        from flows.heap import importing

        return importing()
    return contextlib.nullcontext()


def _settle_heap() -> None:
    """Before a flow in a process of its own: the imports' objects frozen (flows/heap.py)."""
    if _OWN_PROCESS:
        from flows.heap import settle

        settle()


def main() -> None:
    global _OWN_PROCESS
    _OWN_PROCESS = True
    try:
        app()
    except BrokenPipeError:  # `socwatch sql ... | head`: the reader left; that is not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)


if __name__ == "__main__":
    main()
