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
