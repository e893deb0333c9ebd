"""The process pool both flows use for CPU-bound work, and how a batch is spread over it."""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor


def start_pool(workers: int, preload: str) -> ProcessPoolExecutor:
    """A process pool whose workers fork from a clean server that imported `preload` once
    (forkserver: no fork of this threaded process, and no import per worker)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([preload])
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)


async def map_batch(pool: ProcessPoolExecutor | None, fn: Callable[[list], list], items: Sequence, workers: int) -> list:
    """`fn` over `items`, one chunk per worker in the pool (in a thread where there is no
    pool, so the event loop stays free); results in the order of `items`."""
    items = list(items)
    if pool is None:
        return await asyncio.to_thread(fn, items)
    loop = asyncio.get_running_loop()
    size = max(1, -(-len(items) // workers))
    parts = await asyncio.gather(*(loop.run_in_executor(pool, fn, items[i : i + size]) for i in range(0, len(items), size)))
    return [result for part in parts for result in part]
