"""`socwatch serve`: the scheduled deployments, served by this process with Prefect's `serve`.

Deployments:
- `ingest`: every source without a schedule of its own, on the default cron schedule (every
  30 minutes) or an interval;
- `ingest-<source>`: one per source whose entry has `schedule = "<cron>"`;
- `reclassify`: no schedule; run on demand (`prefect deployment run reclassify/reclassify`,
  or from the UI) after a taxonomy change.

Schedules need a Prefect server with its scheduler service. With PREFECT_API_URL set (a team's
`prefect server start`, or Prefect Cloud) serve registers there; without it, serve starts a
local server on 127.0.0.1 for as long as it runs (its UI shows the runs), keeping its history
in PREFECT_HOME like any Prefect server.

Runs never overlap on one warehouse: each deployment runs one flow at a time (a Prefect
concurrency limit of 1, later runs wait in the queue), and runs of different deployments
take turns at the warehouse lock (SOCWATCH_LOCK_WAIT_S, 15 minutes under serve), failing
with a message that names the holder if it is held longer.
"""

from __future__ import annotations

import asyncio
import signal
from dataclasses import asdict
from pathlib import Path

from flows.prefect_api import ApiProcess
from flows.settings import Settings
from flows.sources import ConfigError, cron_problem, load_sources

SERVE_LOCK_WAIT_S = 900  # the lock wait under serve where none is set
SERVER_START_TIMEOUT_S = 120


def start_local_server(timeout: float = SERVER_START_TIMEOUT_S) -> ApiProcess:
    """A Prefect server with its scheduler and UI (`prefect server start`), up and answering."""
    server = ApiProcess.launch(["-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", "{port}"])
    server.wait(timeout)
    return server


def build_deployments(settings: Settings) -> list:
    """The RunnerDeployments to serve (checked: a bad sources file or schedule raises ConfigError).
    Their runs are handed the settings they need as parameters (the warehouse's lock wait and
    memory, the taxonomy file)."""
    cron, interval = settings.cron, settings.interval
    if interval is None:
        problem = cron_problem(cron)
        if problem:
            raise ConfigError(f"--cron: {problem}")
    elif interval <= 0:
        raise ConfigError(f"--interval: {interval!r} must be a number of seconds above 0")
    sources = load_sources(settings.sources)
    if settings.watchlists_file is not None:  # a bad watchlists file stops serve before it starts, as a bad sources file does
        from flows.watch import load_file
        from transforms.vocabulary import vocabulary

        load_file(settings.watchlists_file, list(vocabulary(settings.taxonomy).themes), [s.name for s in sources])
    from prefect.deployments.runner import EntrypointType

    from flows.ingest import ingest
    from flows.reclassify import reclassify

    common = {"concurrency_limit": 1, "tags": ["socwatch"], "entrypoint_type": EntrypointType.MODULE_PATH}
    taxonomy = str(Path(settings.taxonomy).resolve()) if settings.taxonomy else None
    # The fields of IngestOptions and ReclassifyOptions set by settings; the others keep their
    # defaults (the cores of the machine the run runs on, say).
    db = Path(settings.db).resolve()
    from warehouse.watch import feeds_folder

    feeds = feeds_folder(settings.feeds, db)
    options = {"taxonomy": taxonomy, "access": asdict(settings.access), "delivery": {**settings.delivery, "feeds": str(feeds)}}
    watchlists = settings.watchlists_file
    paths = {"sources_file": str(Path(settings.sources).resolve()), "db": str(db),
             "options": {**options, "batch_size": settings.batch_size,
                         "watchlists_file": str(watchlists.resolve()) if watchlists else None}}
    own = [s for s in sources if s.schedule]
    when = {"interval": interval} if interval is not None else {"cron": cron}
    deployments = [ingest.to_deployment(
        name="ingest", parameters={**paths, "select": "default" if own else None}, **when, **common,
        description="Crawl the sources into the warehouse (those with a schedule of their own run in theirs).")]
    deployments += [ingest.to_deployment(
        name=f"ingest-{s.name}", parameters={**paths, "select": s.name}, cron=s.schedule, **common,
        description=f"Crawl the source {s.name} on its own schedule.") for s in own]
    deployments.append(reclassify.to_deployment(
        name="reclassify", parameters={"db": paths["db"], "options": options}, **common,
        description="Re-tag stored articles with the current taxonomy (on demand, nothing is fetched)."))
    return deployments


def serve(deployments: list, api_url: str | None, on_ready=None) -> None:
    """Register the deployments, call `on_ready`, and serve until interrupted (Ctrl-C or
    SIGTERM); the schedules are paused on the way out."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        with temporary_settings(updates={PREFECT_API_URL: api_url} if api_url else {}):
            asyncio.run(_serve(deployments, on_ready))
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


async def _serve(deployments: list, on_ready) -> None:
    from prefect.runner import Runner

    runner = Runner(pause_on_shutdown=True)
    for deployment in deployments:
        await runner.add_deployment(deployment)  # registers it with the API
    if on_ready:
        on_ready()
    await runner.start()


def _interrupt(signum, frame):
    raise KeyboardInterrupt
