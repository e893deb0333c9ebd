"""The dev gold texts (../shared/gold, joined by its build.py), for the benchmarks that need
real announcement texts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

GOLD = Path(__file__).resolve().parent.parent.parent / "shared" / "gold"


def gold_texts(labels: Path) -> list[dict]:
    """The documents of a label file, joined with their texts by the build.py beside it."""
    if not labels.exists():
        sys.exit(f"needs {labels}")
    built = subprocess.run([sys.executable, str(labels.resolve().parent / "build.py"), str(labels)], capture_output=True,
                           text=True, check=True)
    return [json.loads(line) for line in built.stdout.splitlines() if line.strip()]


def dev_gold() -> list[dict]:
    return gold_texts(GOLD / "dev.jsonl")
