"""The process pool both flows use for CPU-bound work, and how a batch is spread over it."""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.forkserver
import os
import select
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor

from flows.failpoints import HOOKS as TEST_HOOKS

# What the extraction pool's fork server imports (and warms) before it forks any worker.
EXTRACTION = "flows.warm"
CHUNKS_PER_WORKER = 4  # a batch is cut finer than one part per worker, so no worker idles at its end


def _forkserver(preload: str) -> multiprocessing.context.ForkServerContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([preload])
    return context


def start_forkserver(preload: str) -> None:
    """Start the fork server now, importing `preload` in its own process, so that a pool
    started later forks ready workers at once (a command calls this before it waits for
    Prefect's API; the imports then happen during that wait)."""
    _forkserver(preload)
    multiprocessing.forkserver.ensure_running()


def start_pool(workers: int, preload: str) -> ProcessPoolExecutor:
    """A process pool whose workers fork from a clean server that imported `preload` once
    (forkserver: no fork of this threaded process, and no import per worker). A fork server
    already running is reused as it is."""
    hooks = {k: v for k, v in os.environ.items() if k in TEST_HOOKS}
    return ProcessPoolExecutor(max_workers=workers, mp_context=_forkserver(preload), initializer=_start_worker,
                               initargs=(os.getpid(), hooks))


def _start_worker(owner: int, hooks: dict[str, str]) -> None:
    """In each worker: take the owner's test hooks (a worker inherits the environment of the
    fork server, which may have started before a test set them), and end with the owner.
    Settings are not in the environment: each task is handed what it needs."""
    for key in TEST_HOOKS:
        os.environ.pop(key, None)
    os.environ.update(hooks)
    _end_with(owner)


def _end_with(owner: int) -> None:
    """In each worker: end the worker when the process that started the pool ends, however
    it ends. The workers are the fork server's children and hold its pipes (and their task
    queue's both ends), so after an owner killed outright (SIGKILL, the OOM killer, SIGTERM)
    they would wait for work forever, and keep the fork server and resource tracker alive."""
    def watch() -> None:
        try:
            ended = os.pidfd_open(owner)  # Linux: readable once the process has ended
        except (AttributeError, OSError):
            while _alive(owner):
                time.sleep(1.0)
        else:
            select.select([ended], [], [])
        os._exit(1)

    threading.Thread(target=watch, name=f"end-with-{owner}", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


async def map_batch(pool: ProcessPoolExecutor | None, fn: Callable[[list], list], items: Sequence, workers: int) -> list:
    """`fn` over `items`, in a few chunks per worker of the pool (in a thread where there is
    no pool, so the event loop stays free); results in the order of `items`."""
    items = list(items)
    if pool is None:
        return await asyncio.to_thread(fn, items)
    loop = asyncio.get_running_loop()
    size = max(1, -(-len(items) // (workers * CHUNKS_PER_WORKER)))
    parts = await asyncio.gather(*(loop.run_in_executor(pool, fn, items[i : i + size]) for i in range(0, len(items), size)))
    return [result for part in parts for result in part]
