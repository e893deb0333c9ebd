"""The command's heap, settled before its flow: what the imports made is frozen, and the cyclic
garbage collector runs less often.

A run's own process does the fetching, linking and loading while the extraction workers take
the other cores, so its CPU is the run's. Python's collector walks every tracked object of the
oldest generation at each full collection, and the imports of a flow (Prefect, polars, DuckDB,
pandera, the vocabulary) leave about 175,000 of them that live as long as the process. Frozen
(`gc.freeze`), they are no longer walked; with the first generation collected after 20,000
allocations instead of 700, the objects of a batch die by their reference counts before most
collections see them. A `socwatch run` of `bench/vs_trafilatura.py`'s 2,000 pages spent
1.5-1.8 s in the collector before, 0.5-0.6 s after (docs/performance.md).

The flow's imports themselves run with the collector off (`importing`): what they make lives
as long as the process and is frozen next, so a collection in their middle only walks objects
that survive it (0.08 s of their 1.1-1.2 s, the best of 8 imports on 7 December 2026).

Only for a command that has its process to itself (`main`): a test runs commands in its own
process, where objects frozen with the test's would never be collected.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

FIRST_GENERATION = 20_000  # allocations between collections of the youngest objects (Python's default: 700)


def settle() -> None:
    with importing():
        import prefect.flow_engine  # noqa: F401  what a flow imports as it starts, frozen with the rest
        import prefect.task_engine  # noqa: F401

    gc.collect()  # nothing unreachable is frozen
    gc.freeze()
    _, second, third = gc.get_threshold()
    gc.set_threshold(FIRST_GENERATION, second, third)


@contextmanager
def importing() -> Iterator[None]:
    """The block (the flow's imports) with the cyclic collector off; on again after it, also
    where an import fails."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
