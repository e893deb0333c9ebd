"""Imports go one way (../shared/docs/ARCHITECTURE.md): checked on the source, every module."""

import ast

import pytest

from conftest import REPO

FORBIDDEN = {
    "schemas": {"flows", "transforms", "warehouse", "httpx", "prefect", "duckdb"},
    "transforms": {"flows", "warehouse", "httpx", "prefect", "duckdb"},
    "warehouse": {"flows", "transforms", "httpx", "prefect"},
}


def imported_roots(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layers_import_only_downwards(package):
    files = sorted((REPO / package).rglob("*.py"))
    assert files
    offences = [(f.relative_to(REPO).as_posix(), root) for f in files for root in imported_roots(f) if root in FORBIDDEN[package]]
    assert offences == []


def test_a_command_leaves_trafilatura_to_the_extraction_pool():
    """The process of `socwatch run` imports the CLI, checks its sources (the kinds and their
    parsers of structured documents) and imports the flow; it reads no page itself when the
    pool does, so trafilatura (0.1 s of its start) is not among those imports."""
    import subprocess
    import sys

    probe = ("import sys; import flows.cli, flows.ingest, flows.reclassify; from flows.sources import load_sources; "
             "load_sources('sources.toml'); print(sorted(m for m in sys.modules if m.split('.')[0] in ('trafilatura', 'htmldate')))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
