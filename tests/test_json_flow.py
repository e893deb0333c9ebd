"""flows/json_flow.py: a flow run's parameters written as Prefect would write them, without
importing FastAPI for it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from prefect import Flow

from conftest import REPO
from flows.http import FetchSettings
from flows.ingest import IngestOptions, ingest
from flows.json_flow import JsonFlow
from flows.reclassify import ReclassifyOptions, reclassify
from flows.watch import DeliveryOptions
from warehouse.db import Access


def test_the_flows_parameters_are_written_as_prefects_own_encoder_writes_them():
    cases = [
        (ingest, {"sources_file": "sources.toml", "db": "socwatch.duckdb", "replay": [], "record": None,
                  "options": IngestOptions(), "select": None}),
        (ingest, {"sources_file": Path("s.toml"), "db": "w.duckdb", "replay": ["a.warc.gz", "b.warc.gz"], "record": "r.warc.gz",
                  "options": IngestOptions(batch_size=50, fetch=FetchSettings(polite=False, max_bytes=1024), task_runner="dask",
                                           dask_address="tcp://10.0.0.1:8786", taxonomy="mine.toml",
                                           access=Access(lock_wait_s=2.5, memory="1GB", snapshot=False),
                                           watchlists_file="w.toml", delivery=DeliveryOptions(feeds=None, attempts=1)),
                  "select": "default"}),
        (reclassify, {"db": "w.duckdb", "options": ReclassifyOptions(everything=True, delivery=DeliveryOptions(prefect_events=False))}),
    ]
    for flow_, parameters in cases:
        ours = flow_.serialize_parameters(parameters)
        assert ours == Flow.serialize_parameters(flow_, parameters)
        assert ours["options"]["access" if "access" in ours["options"] else "delivery"]  # nested options are objects
    assert ingest.serialize_parameters({"options": IngestOptions()})["options"]["fetch"]["robots"] is True


def test_a_parameter_of_another_type_is_written_by_prefect_and_the_class_survives_with_options():
    class Opaque:
        pass

    assert ingest.serialize_parameters({"x": Opaque(), "y": 1}) == Flow.serialize_parameters(ingest, {"x": Opaque(), "y": 1})
    copy = ingest.with_options(name="ingest-copy", retries=1)
    assert isinstance(copy, JsonFlow) and copy.name == "ingest-copy" and copy.retries == 1


def test_writing_a_runs_parameters_imports_no_fastapi():
    probe = ("import sys; from flows.ingest import ingest, IngestOptions; "
             "ingest.serialize_parameters({'db': 'w.duckdb', 'options': IngestOptions()}); "
             "print('fastapi' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
