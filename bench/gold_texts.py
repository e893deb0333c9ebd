"""The dev gold texts (../shared/gold, joined by its build.py), and the corpus texts
(../shared/corpus/texts), for the benchmarks that need real announcement texts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

GOLD = Path(__file__).resolve().parent.parent.parent / "shared" / "gold"
TEXTS = GOLD.parent / "corpus" / "texts"


def gold_texts(labels: Path) -> list[dict]:
    """The documents of a label file, joined with their texts by the build.py beside it."""
    if not labels.exists():
        sys.exit(f"needs {labels}")
    built = subprocess.run([sys.executable, str(labels.resolve().parent / "build.py"), str(labels)], capture_output=True,
                           text=True, check=True)
    return [json.loads(line) for line in built.stdout.splitlines() if line.strip()]


def dev_gold() -> list[dict]:
    return gold_texts(GOLD / "dev.jsonl")


def corpus_texts() -> list[dict]:
    """Every distinct text of the corpus (about 6,300, in seven publishers' files), in file order:
    a benchmark that repeats them to fill a warehouse repeats each only every few thousand rows,
    so that compression sees what it would on as many distinct announcements."""
    files = sorted(TEXTS.glob("*.jsonl"))
    if not files:
        sys.exit(f"needs {TEXTS}")
    seen, out = set(), []
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            doc = json.loads(line) if line.strip() else {}
            if doc.get("text") and doc["text"] not in seen:
                seen.add(doc["text"])
                out.append(doc)
    return out
