"""The dev gold texts (../shared/gold, joined by its build.py), for the benchmarks that need
real announcement texts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

GOLD = Path(__file__).resolve().parent.parent.parent / "shared" / "gold"


def dev_gold() -> list[dict]:
    if not GOLD.exists():
        sys.exit(f"needs {GOLD}")
    built = subprocess.run([sys.executable, str(GOLD / "build.py"), str(GOLD / "dev.jsonl")], capture_output=True,
                           text=True, check=True)
    return [json.loads(line) for line in built.stdout.splitlines()]
