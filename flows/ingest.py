"""The `ingest` flow: sources file -> discover -> fetch -> extract and classify -> validate -> load.

Work moves in batches: one Prefect task run per source for discovery, and per batch of a few
hundred pages for fetching, extraction and loading. Fetching the next batch overlaps the
extraction and the load of the current one. Extraction and classification (CPU-bound) run in
a process pool; the load is one DuckDB transaction per batch.

Tasks take and return plain records. The run's shared resources (the HTTP client, the
warehouse connection, the process pool) live in a context variable set by the flow, never in
task arguments.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import time
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path

import duckdb
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.context import SyncClientContext
from prefect.runtime import flow_run
from prefect.utilities.annotations import quote  # a batch's records as task inputs, not walked by Prefect for futures

from flows import failpoints, progress
from flows.progress import stage_done
from flows.distributed import dask_pipeline, dask_task_runner
from flows.http import Fetcher, FetchSettings
from flows.json_flow import json_flow
from flows.kinds import KINDS, Discovery
from flows.pool import EXTRACTION, map_batch, start_pool
from flows.process import process_pages
from flows.settings import DEFAULTS
from flows.sources import ConfigError, load_sources
from flows.validate import BatchOutcome, build_batch, source_rows
from flows.warc import WarcRecorder, WarcReplayTransport
from flows.watch import DeliveryOptions, deliver_after
from flows.watch import load_file as load_watchlists
from schemas.records import FeedEntry, Fetched, Processed, Source, SourceCounts, Status
from transforms.classify import score_bounds
from transforms.vocabulary import vocabulary
from transforms.urls import canonical_url
from warehouse.db import Access
from warehouse.ledger import recorded_run, upsert_sources
from warehouse.load import load_batch
from warehouse.queries import source_alerts, validators
from warehouse.search import fold_tail, index_needs_rebuild, rebuild_index
from warehouse.watch import sync_declared


@dataclass(frozen=True)
class IngestOptions:
    batch_size: int = DEFAULTS.batch_size  # pages per fetch/extract/load batch (the `batch_size` setting)
    workers: int = max(1, os.cpu_count() or 1)  # extraction processes
    pool_min_pages: int = 48  # fewer pages than this are extracted in-process (no pool start-up)
    fetch: FetchSettings = field(default_factory=FetchSettings)
    # "default": fetch here, extract in a local process pool; "dask": fetch and extract on a
    # Dask cluster (the one at dask_address, else a local one of dask_workers processes).
    task_runner: str = "default"
    dask_address: str | None = None
    dask_workers: int = 2
    taxonomy: str | None = None  # a taxonomy file of the user's own (the `taxonomy` setting), else the shipped one
    access: Access = field(default_factory=Access)  # the warehouse's lock wait, memory and snapshot
    watchlists_file: str | None = None  # a watchlists file (TOML) whose watchlists the run makes current
    delivery: DeliveryOptions = field(default_factory=DeliveryOptions)  # where and how new hits are delivered


@dataclass
class _Run:
    run_id: str
    sources: dict[str, Source]
    fetcher: Fetcher
    con: duckdb.DuckDBPyConnection
    options: IngestOptions
    bounds: dict[str, tuple[float, float]]  # per theme, the scores its tags may carry (the vocabulary in use)
    pool: ProcessPoolExecutor | None = None
    shared: dict[str, list[str]] = field(default_factory=dict)  # URL -> the other sources that listed it


_RUN: contextvars.ContextVar[_Run] = contextvars.ContextVar("socwatch_run")


# Functions, not `_RUN.set`/`_RUN.get` in the flow's and tasks' code: a flow run on a Dask
# cluster is pickled with the globals its code names, and a ContextVar cannot be pickled.
def _enter(run: _Run) -> None:
    _RUN.set(run)


def _current() -> _Run:
    return _RUN.get()


@task(name="discover", cache_policy=NO_CACHE)
async def discover(source: Source) -> Discovery:
    run = _current()
    return await KINDS[source.kind].discover(source, run.fetcher)


@task(name="fetch-pages", cache_policy=NO_CACHE)
async def fetch_pages(entries: Sequence[FeedEntry]) -> list[Fetched]:
    run = _current()
    async def one(entry: FeedEntry) -> Fetched:
        source = run.sources[entry.source]
        return await KINDS[source.kind].fetch_article(entry, source, run.fetcher)

    pages = list(await asyncio.gather(*(one(e) for e in entries)))
    stage_done("fetch-pages", len(pages))
    return pages


@task(name="extract-classify", cache_policy=NO_CACHE)
async def extract_classify(fetched: Sequence[Fetched], entries: Sequence[FeedEntry]) -> list[Processed]:
    run = _current()
    items = [(f, e, run.sources[e.source]) for f, e in zip(fetched, entries, strict=True) if f.ok]
    processed = await map_batch(run.pool, partial(process_pages, taxonomy=run.options.taxonomy), items,
                                run.options.workers) if items else []
    stage_done("extract-classify", len(processed))
    return processed


@task(name="validate-load", cache_policy=NO_CACHE)
def validate_load(fetched: Sequence[Fetched], processed: Sequence[Processed], url_kind: str = "page") -> BatchOutcome:
    run = _current()
    batch = build_batch(fetched, processed, run.bounds, url_kind, run.shared)
    result = load_batch(run.con, run.run_id, batch.frames, batch.rejects, batch.seen_unchanged, batch.folds)
    logger = get_run_logger()
    for event in batch.events:  # one greppable line per URL that failed
        if Status(event["status"]).is_failure:
            logger.warning("run=%s source=%s url=%s status=%s http=%s error=%s", run.run_id[:8], event["source"],
                           event["url"], event["status"], event.get("http_status"), event.get("error"))
    stage_done("validate-load", len(fetched))  # committed
    return batch.outcome(result.changes)


def _chunks(items: Sequence, size: int) -> list[Sequence]:
    return [items[i : i + size] for i in range(0, len(items), size)]


@json_flow(name="ingest", log_prints=False)
async def ingest(sources_file: str, db: str, replay: list[str] | None = None, record: str | None = None,
                 options: IngestOptions | None = None, select: str | None = None) -> dict:
    """Crawl the sources of `sources_file` (or replay WARC archives) into the warehouse `db`.
    `select`: all sources (None), those without a schedule of their own ("default"), or one
    source by name (its own scheduled deployment)."""
    options = options or IngestOptions()
    logger = get_run_logger()
    every_source = load_sources(sources_file)  # a bad file stops here, before anything is fetched
    sources = select_sources(every_source, select)
    vocab = vocabulary(options.taxonomy)
    # A bad watchlists file stops here too.
    declared = (load_watchlists(options.watchlists_file, list(vocab.themes), [s.name for s in every_source])
                if options.watchlists_file else None)
    replay = [str(p) for p in replay or ()]
    transport = WarcReplayTransport(replay) if replay else None
    settings = replace(options.fetch, polite=False) if replay else options.fetch
    started = time.monotonic()
    counts = {s.name: SourceCounts() for s in sources}
    recorder = None
    alerts: list[tuple[str, str, str]] = []
    workers: set[str] = set() if options.task_runner == "dask" else {"in-process"}

    def warn_of_alerts(con: duckdb.DuckDBPyConnection) -> None:  # once the run is recorded: its sources' health
        alerts.extend(source_alerts(con))
        for source, alert, reason in alerts:
            logger.warning("run=%s source=%s alert=%s reason=%s", run.run_id[:8], source, alert, reason)

    with recorded_run(db, "ingest", logger, after_publish=warn_of_alerts, access=options.access, flow_run_id=str(flow_run.get_id() or ""),
                      sources_file=str(sources_file), replay=replay, record=record, taxonomy_version=vocab.version) as run, \
            SyncClientContext.get_or_create():  # one Prefect client for the sync tasks (validate-load), not one each (~25-65 ms)
        run_id, con = run.run_id, run.con
        try:
            recorder = WarcRecorder(record) if record else None
            if run.abandoned:
                logger.warning("run=%s abandoned_runs=%d (earlier runs that did not finish)", run_id[:8], run.abandoned)
            upsert_sources(con, source_rows(sources))
            if declared is not None:
                sync_declared(con, str(Path(options.watchlists_file).resolve()), declared)
            async with Fetcher(sources, settings, transport=transport, recorder=recorder) as fetcher:
                work = _Run(run_id, {s.name: s for s in sources}, fetcher, con, options, score_bounds(vocab))
                _enter(work)
                discoveries = await asyncio.gather(*(discover(s) for s in sources))
                discovery_urls = {canonical_url(s.url) for s in sources} | {e.url for d in discoveries for e in d.events}
                entries = _plan(discoveries, counts, discovery_urls, work.shared)
                for c in counts.values():
                    c.seconds = time.monotonic() - started
                if not replay and not record:
                    # Conditional GET for articles only: feeds are always read whole, so an entry
                    # that failed last time is tried again while its feed lists it. A recorded run
                    # asks unconditionally, so that its archive replays complete.
                    fetcher.validators.update(validators(con, [u for e in entries for u in (e.url, e.document_url) if u]))
                feed_events = [event for d in discoveries for event in d.events]
                outcome = await asyncio.to_thread(validate_load, quote(feed_events), quote([]), "feed")
                outcome.add_to(counts)
                if options.task_runner == "dask":
                    async def load(fetched, processed, batch):
                        _loaded(await asyncio.to_thread(validate_load, quote(fetched), quote(processed)), batch, counts, started)

                    progress.total("pages", len(entries))
                    workers = await dask_pipeline(entries, options.batch_size, sources, settings, dict(fetcher.validators),
                                                  replay, load, fetcher.host_delays(), options.taxonomy)
                else:
                    if len(entries) >= options.pool_min_pages and options.workers > 1:
                        work.pool = start_pool(options.workers, EXTRACTION)
                        workers = {f"process {n + 1} of {options.workers}" for n in range(options.workers)}
                    try:
                        await _pipeline(entries, options.batch_size, counts, started)
                    finally:
                        if work.pool is not None:
                            work.pool.shutdown(wait=True, cancel_futures=True)
            if index_needs_rebuild(con):
                await asyncio.to_thread(rebuild_index, con)
            else:  # this run's articles (and those of a run killed before this step) into the index
                await asyncio.to_thread(fold_tail, con, lambda stage: failpoints.hold("index", stage))
            await deliver_after(con, run_id, options.delivery, db, logger)
            troubled = sum(c.failed + c.quarantined for c in counts.values())
            run.status = "completed_with_errors" if troubled else "completed"
        finally:
            if recorder is not None:
                recorder.close()
            run.totals, run.per_source = _totals(counts), _per_source(counts)
            run.runner = f"{options.task_runner} {options.dask_address or ''}".strip()
            run.workers = sorted(workers)
    for name, c in counts.items():
        logger.info("run=%s source=%s discovered=%d fetched=%d new=%d updated=%d unchanged=%d failed=%d quarantined=%d "
                    "seconds=%.1f", run_id[:8], name, c.discovered, c.fetched, c.new, c.updated, c.unchanged, c.failed,
                    c.quarantined, c.seconds)
    logger.info("run=%s status=%s %s", run_id[:8], run.status, " ".join(f"{k}={v}" for k, v in run.totals.items()))
    return {"run_id": run_id, "status": run.status, "totals": run.totals, "snapshot": run.snapshot, "alerts": alerts,
            "workers": run.workers,
            "sources": {name: asdict(c) for name, c in counts.items()}}


def _plan(discoveries: Sequence[Discovery], counts: dict[str, SourceCounts], feed_urls: set[str],
          shared: dict[str, list[str]]) -> list[FeedEntry]:
    """All entries to fetch, each canonical URL once: the first source to list it fetches it,
    and each other source that lists it is noted in `shared` (its event says `duplicate`, with
    the article, and article_sources records it). A discovery URL listed as an entry is not an
    article."""
    seen: dict[str, FeedEntry] = {}
    for discovery in discoveries:
        for entry in discovery.entries:
            first = seen.get(entry.url)
            if first is not None and first.source != entry.source and entry.source not in shared.get(entry.url, ()):
                shared.setdefault(entry.url, []).append(entry.source)
                counts[entry.source].discovered += 1
                continue
            if first is not None or entry.url in feed_urls:
                c = counts[entry.source]
                c.statuses[Status.DUPLICATE.value] = c.statuses.get(Status.DUPLICATE.value, 0) + 1
                continue
            seen[entry.url] = entry
            counts[entry.source].discovered += 1
    return list(seen.values())


async def _pipeline(entries: list[FeedEntry], batch_size: int, counts: dict[str, SourceCounts], started: float) -> None:
    """Stages in flight at once: fetching batch k+1, extracting batches k and k-1 (the pool has
    the next batch queued when one ends, so no worker waits for the slowest page of a batch),
    loading batch k-2. Loads go one at a time, in order, in one thread of their own (one writer,
    one transaction per batch)."""
    batches = _chunks(entries, batch_size)
    if not batches:
        return
    progress.total("pages", len(entries))

    def loaded(outcome: BatchOutcome, batch: Sequence[FeedEntry]) -> None:
        _loaded(outcome, batch, counts, started)

    loader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="socwatch-load")
    next_fetch = asyncio.ensure_future(fetch_pages(quote(batches[0])))
    extracting: tuple[Sequence[FeedEntry], list[Fetched], asyncio.Future] | None = None
    loading: tuple[Sequence[FeedEntry], Future] | None = None

    async def load(batch: Sequence[FeedEntry], fetched: list[Fetched], processing: asyncio.Future) -> None:
        nonlocal loading
        processed = await processing
        if loading is not None:
            loaded(await asyncio.wrap_future(loading[1]), loading[0])
        fetched = [f.without_body() for f in fetched]  # read: a batch waiting for its load holds no pages
        loading = (batch, loader.submit(contextvars.copy_context().run, validate_load, quote(fetched), quote(processed)))

    try:
        for i, batch in enumerate(batches):
            fetched = await next_fetch
            if i + 1 < len(batches):
                next_fetch = asyncio.ensure_future(fetch_pages(quote(batches[i + 1])))
            previous, extracting = extracting, (batch, fetched, asyncio.ensure_future(extract_classify(quote(fetched), quote(batch))))
            if previous is not None:
                await load(*previous)
                previous = None
        last, extracting = extracting, None
        await load(*last)
        loaded(await asyncio.wrap_future(loading[1]), loading[0])
        loading = None
    finally:
        in_flight = [f for f in (next_fetch, extracting and extracting[2]) if f is not None]
        for future in in_flight:
            future.cancel()
        await asyncio.gather(*in_flight, return_exceptions=True)  # also collects the errors of those done
        if loading is not None:
            # The load thread holds the warehouse connection even when this run is cancelled
            # (Ctrl-C): wait for its end before the run is closed on that connection. Its batch
            # may well have committed: count it.
            wait([loading[1]])
            if loading[1].exception() is None:
                loading[1].result().add_to(counts)
        loader.shutdown(wait=False)


def _loaded(outcome: BatchOutcome, batch: Sequence[FeedEntry], counts: dict[str, SourceCounts], started: float) -> None:
    """A batch is in the warehouse: count it, and note the time for its sources."""
    outcome.add_to(counts)
    for name in {e.source for e in batch}:
        counts[name].seconds = time.monotonic() - started
    progress.advance("pages", len(batch))


def _per_source(counts: dict[str, SourceCounts]) -> list[dict]:
    return [{"source": name, **{k: v for k, v in asdict(c).items() if k != "statuses"}} for name, c in counts.items()]


def _totals(counts: dict[str, SourceCounts]) -> dict[str, int]:
    keys = ("discovered", "fetched", "new", "updated", "unchanged", "skipped", "failed", "quarantined")
    totals = {k: sum(getattr(c, k) for c in counts.values()) for k in keys}
    totals["sources"] = len(counts)
    return totals


def select_sources(sources: list[Source], select: str | None) -> list[Source]:
    if select is None:
        return sources
    if select == "default":
        chosen = [s for s in sources if s.schedule is None]
    else:
        chosen = [s for s in sources if s.name == select]
        if not chosen:
            raise ConfigError(f"no source named {select!r} in the sources file")
    return chosen


def run_ingest(sources_file: Path | str, db: Path | str, replay: Sequence[Path | str] = (), record: Path | str | None = None,
               options: IngestOptions | None = None) -> dict:
    """Run the flow from synchronous code (the CLI, tests)."""
    options = options or IngestOptions()
    flow_ = ingest
    if options.task_runner == "dask":
        if record:
            raise ConfigError("--record needs the default task runner (one process writes the archive)")
        flow_ = ingest.with_options(task_runner=dask_task_runner(options.dask_address, options.dask_workers))
    elif options.task_runner != "default":
        raise ConfigError(f"task runner {options.task_runner!r}: use default or dask")
    return asyncio.run(flow_(str(sources_file), str(db), [str(p) for p in replay], str(record) if record else None, options))
