"""The fetch and extract stages on a Dask cluster, through prefect-dask's DaskTaskRunner.

With `--task-runner dask` the ingest flow still discovers, plans and loads in its own process
(the warehouse has one writer), and sends batches of pages to the cluster: one Prefect task
per batch fetches its pages and extracts and classifies them on a Dask worker, and returns
plain records for the load.

Politeness across machines: every batch holds the pages of one host, and a host has at most
one batch in flight at a time, so its concurrency limit and delay hold as they do on one
machine (each batch also waits the host's delay before its first request, as the previous
batch of the host may just have finished). Each batch reads robots.txt for its origins once.
A replayed run has no host to be polite to: all its batches may run at once.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Sequence

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture, as_completed

from flows.http import Fetcher, FetchSettings
from flows.kinds import KINDS
from flows.process import process_pages
from flows.warc import WarcReplayTransport
from schemas.records import FeedEntry, Fetched, Processed, Source
from transforms.urls import url_host


def dask_task_runner(address: str | None, workers: int):
    """A DaskTaskRunner for a running cluster (`address`), else for a local cluster of
    `workers` single-threaded worker processes started for the run."""
    from prefect_dask import DaskTaskRunner

    if address:
        return DaskTaskRunner(address=address)
    return DaskTaskRunner(cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True,
                                          "dashboard_address": None})


@task(name="fetch-extract-batch", cache_policy=NO_CACHE)
def fetch_extract_batch(entries: list[FeedEntry], sources: list[Source], settings: FetchSettings,
                        validators: dict[str, tuple[str | None, str | None]], replay: list[str],
                        delays: dict[str, float] | None = None, taxonomy: str | None = None,
                        ) -> tuple[list[Fetched], list[Processed], str]:
    """On a worker: fetch one host's batch of pages, then extract and classify them. Also
    says which worker it ran on. `delays`: per host, as the run has learnt them (Crawl-delay)."""
    fetched, processed = asyncio.run(_fetch_extract(entries, sources, settings, validators, replay, delays, taxonomy))
    return fetched, processed, _worker()


def _worker() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):  # not on a Dask worker
        return "local"


async def _fetch_extract(entries, sources, settings, validators, replay, delays=None, taxonomy=None):
    by_name = {s.name: s for s in sources}
    transport = WarcReplayTransport(replay) if replay else None
    async with Fetcher(sources, settings, transport=transport) as fetcher:
        fetcher.validators.update(validators)
        fetcher.hold_hosts(delays)
        fetched = list(await asyncio.gather(*(
            KINDS[by_name[e.source].kind].fetch_article(e, by_name[e.source], fetcher) for e in entries)))
    items = [(f, e, by_name[e.source]) for f, e in zip(fetched, entries, strict=True) if f.ok]
    processed = process_pages(items, taxonomy) if items else []
    return [f.without_body() for f in fetched], processed  # the bodies stay in the worker


def host_batches(entries: Sequence[FeedEntry], batch_size: int) -> dict[str, deque[list[FeedEntry]]]:
    """The entries in batches of at most `batch_size`, each batch of one host."""
    by_host: dict[str, list[FeedEntry]] = defaultdict(list)
    for entry in entries:
        by_host[url_host(entry.document_url or entry.url) or ""].append(entry)
    return {host: deque(items[i : i + batch_size] for i in range(0, len(items), batch_size))
            for host, items in by_host.items()}


async def dask_pipeline(entries: Sequence[FeedEntry], batch_size: int, sources: list[Source], settings: FetchSettings,
                        validators: dict, replay: list[str],
                        load: Callable[[list[Fetched], list[Processed], list[FeedEntry]], Awaitable[None]],
                        delays: dict[str, float] | None = None, taxonomy: str | None = None) -> set[str]:
    """Fetch and extract on the cluster, one batch per host at a time; load each batch here
    as it comes back. On an error, the batches still running are waited for, not loaded.
    Returns the addresses of the workers that ran batches."""
    queues = host_batches(entries, batch_size)
    if not settings.polite:  # replaying an archive: no host to be polite to, every batch may run at once
        queues = {f"{host} {i}": deque([batch]) for host, q in queues.items() for i, batch in enumerate(q)}
    workers: set[str] = set()
    running: dict[PrefectFuture, tuple[str, list[FeedEntry]]] = {}

    def submit(host: str) -> None:
        if queues[host]:
            batch = queues[host].popleft()
            running[fetch_extract_batch.submit(batch, sources, settings, _subset(validators, batch), replay, delays,
                                                taxonomy)] = (host, batch)

    for host in queues:
        submit(host)
    try:
        while running:
            future = await asyncio.to_thread(lambda: next(as_completed(list(running))))
            host, batch = running.pop(future)
            fetched, processed, worker = future.result()
            workers.add(worker)
            submit(host)
            await load(fetched, processed, batch)
    finally:
        for future in running:
            await asyncio.to_thread(future.wait)
    return workers


def _subset(validators: dict, batch: list[FeedEntry]) -> dict:
    return {u: validators[u] for e in batch for u in (e.url, e.document_url) if u and u in validators}
