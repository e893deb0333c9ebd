"""Leave-one-publisher-out cross-validation of the long-document rule (taxonomy.toml [meta]
long_document_words, long_document_power): for each publisher of the gold files, the pair
that gives the best micro-F1 on the other publishers is chosen and scored on the one left
out; the held-out predictions of all publishers are scored together.

    uv run python bench/lopo_long_documents.py ../shared/gold/dev.jsonl ../shared/gold/dev2.jsonl

Label files are joined with their texts by ../shared/gold/build.py first.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from itertools import product
from pathlib import Path

from transforms.classify import classify, default_vocabulary
from transforms.evaluate import publisher, publisher_country, score

WORDS = (400, 600, 800, 1000, 1500, 1e9)
POWERS = (0.3, 0.5, 0.7)


def gold_docs(label_files: list[str]) -> list[dict]:
    docs = []
    for labels in label_files:
        build = Path(labels).resolve().parent / "build.py"
        out = subprocess.run([sys.executable, str(build), labels], capture_output=True, text=True, check=True).stdout
        docs += [json.loads(line) for line in out.splitlines() if line.strip()]
    return docs


def main(label_files: list[str]) -> None:
    docs = gold_docs(label_files)
    base = default_vocabulary()
    grid = list(product(WORDS, POWERS))
    predictions = {}
    for words, power in grid:
        vocab = dataclasses.replace(base, long_words=float(words), long_power=power)
        predictions[words, power] = [classify(d["id"], d["title"], d["text"], publisher_country(d["url"]), vocab) for d in docs]
    hosts = sorted({publisher(d["url"]) for d in docs})
    held_out = [None] * len(docs)
    for host in hosts:
        train = [i for i, d in enumerate(docs) if publisher(d["url"]) != host]
        best = max(grid, key=lambda g: (score([docs[i] for i in train], [predictions[g][i] for i in train], base.themes)["micro_f1"], -g[0]))
        for i, d in enumerate(docs):
            if publisher(d["url"]) == host:
                held_out[i] = predictions[best][i]
        print(f"{host:32} chosen on the others: words={best[0]:g} power={best[1]}")
    cv = score(docs, held_out, base.themes)
    chosen = (base.long_words, base.long_power)
    fixed = score(docs, predictions[chosen], base.themes) if chosen in predictions else None
    off = score(docs, predictions[1e9, 0.5], base.themes)
    print(f"micro-F1 / macro-F1: rule off {off['micro_f1']:.3f} / {off['macro_f1']:.3f}; "
          f"leave-one-publisher-out {cv['micro_f1']:.3f} / {cv['macro_f1']:.3f}"
          + (f"; as shipped ({chosen[0]:g}, {chosen[1]}) {fixed['micro_f1']:.3f} / {fixed['macro_f1']:.3f}" if fixed else ""))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
