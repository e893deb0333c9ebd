"""The `reclassify` flow: re-tag stored articles with the current vocabulary, fetching nothing.

Articles whose tags are of another taxonomy version are read in id order, a batch at a
time, classified (in a process pool when there are many), and their tag rows replaced in one
transaction per batch. Each batch records the new version with the tags, so a killed run
leaves every article either old or new, and the next run carries on where it stopped.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.utilities.annotations import quote  # the batch's texts, not walked by Prefect for futures

from flows import progress
from flows.json_flow import json_flow
from flows.progress import stage_done
from flows.pool import map_batch, start_pool
from flows.validate import tag_frames
from flows.watch import DeliveryOptions, deliver_after
from schemas.records import Tags
from schemas.tables import Reject, record_json
from transforms.classify import classify_many, score_bounds
from transforms.vocabulary import vocabulary
from warehouse.db import Access
from warehouse.ledger import recorded_run
from warehouse.events import count_to_regroup, count_to_relink, to_regroup, to_relink
from warehouse.load import regroup, relink, replace_tags
from warehouse.queries import articles_to_classify, count_to_classify

# Relinked articles whose events are made in one transaction: their groups are walked in
# memory, and each group only once (events.regroup).
REGROUP_BATCH = 20_000


@dataclass(frozen=True)
class ReclassifyOptions:
    batch_size: int = 2000
    workers: int = max(1, os.cpu_count() or 1)
    pool_min_articles: int = 5000  # fewer are classified in-process (no pool start-up)
    everything: bool = False  # re-tag articles already at the current version too
    taxonomy: str | None = None  # a taxonomy file of the user's own (the `taxonomy` setting), else the shipped one
    access: Access = field(default_factory=Access)  # the warehouse's lock wait, memory and snapshot
    delivery: DeliveryOptions = field(default_factory=DeliveryOptions)  # where and how new hits are delivered


_POOL: contextvars.ContextVar[ProcessPoolExecutor | None] = contextvars.ContextVar("socwatch_reclassify_pool", default=None)


@task(name="classify-batch", cache_policy=NO_CACHE)
async def classify_batch(rows: list[tuple], workers: int, taxonomy: str | None) -> list[Tags | tuple[str, str]]:
    results = await map_batch(_POOL.get(), partial(classify_many, taxonomy=taxonomy), rows, workers)
    stage_done("classify-batch", len(results))
    return results


@json_flow(name="reclassify", log_prints=False)
async def reclassify(db: str, options: ReclassifyOptions | None = None) -> dict:
    options = options or ReclassifyOptions()
    logger = get_run_logger()
    vocab = vocabulary(options.taxonomy)
    bounds = score_bounds(vocab)
    with recorded_run(db, "reclassify", logger, access=options.access, flow_run_id=str(flow_run.get_id() or ""),
                      taxonomy_version=vocab.version) as run:
        con = run.con
        run.totals = totals = {"updated": 0, "quarantined": 0, "relinked": 0}
        pool = None
        try:
            pending = count_to_classify(con, vocab.version, options.everything)
            progress.total("articles", pending)
            if pending >= options.pool_min_articles and options.workers > 1:
                pool = start_pool(options.workers, "transforms.classify")
                _POOL.set(pool)
            after = ""
            while True:
                rows = articles_to_classify(con, vocab.version, after, options.batch_size, options.everything)
                if not rows:
                    break
                results = await classify_batch(quote(rows), options.workers, options.taxonomy)
                all_tags = [r for r in results if isinstance(r, Tags)]
                failures = [r for r in results if not isinstance(r, Tags)]
                frames, rejects = tag_frames(all_tags, bounds)
                rejects += [Reject("article_labels", a_id, "classify_error", f"the classifier failed: {why}",
                                   record_json({"article_id": a_id})) for a_id, why in failures]
                # Articles the classifier failed on keep their old tags (and are tried again next run).
                await asyncio.to_thread(replace_tags, con, run.run_id, [t.article_id for t in all_tags], frames, rejects)
                totals["updated"] += len(rows)
                totals["quarantined"] += len(rejects)
                progress.advance("articles", len(rows))
                after = rows[-1][0]
            # The articles re-tagged, and those linked under other rules (a new socwatch):
            # linked again from their profiles, oldest first, a transaction a batch; then their
            # events made, each linked group once. A killed run leaves each batch old or new,
            # and the next reclassify carries on.
            if relink_pending := count_to_relink(con):
                progress.total("links", relink_pending)
                while ids := to_relink(con, options.batch_size):
                    await asyncio.to_thread(relink, con, ids)
                    totals["relinked"] += len(ids)
                    progress.advance("links", len(ids))
            if regroup_pending := count_to_regroup(con):
                progress.total("events", regroup_pending)
                while ids := to_regroup(con, REGROUP_BATCH):
                    progress.advance("events", await asyncio.to_thread(regroup, con, ids))
            await deliver_after(con, run.run_id, options.delivery, db, logger)
            run.status = "completed_with_errors" if totals["quarantined"] else "completed"
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
    logger.info("run=%s command=reclassify status=%s articles=%d relinked=%d taxonomy=%s", run.run_id[:8], run.status,
                totals["updated"], totals["relinked"], vocab.version)
    return {"run_id": run.run_id, "status": run.status, "reclassified": totals["updated"], "quarantined": totals["quarantined"],
            "relinked": totals["relinked"],
            "taxonomy_version": vocab.version, "snapshot": run.snapshot}


def run_reclassify(db, options: ReclassifyOptions | None = None) -> dict:
    return asyncio.run(reclassify(str(db), options))
