"""Benchmark: `socwatch run` against the trafilatura command line, same pages, same server;
and the extraction quality of both on pages with ground truth.

    uv run python bench/vs_trafilatura.py [N] [--write]     # N = 2000 pages

1. Speed. A server on 127.0.0.1 serves N distinct article pages made from the 181 real pages
   of ../shared/corpus/benchmark/scrapinghub_aeb (each copy gets a paragraph of its own) and
   one RSS feed listing them. Timed, each as a whole command in its own process:
   - `socwatch run`: discover, fetch, extract, classify, validate, load into DuckDB (Prefect's
     start-up included); the source allows 8 requests at a time and no delay (it is ours).
     Twice, into new warehouses, on a Prefect home of the benchmark's own (migrated first):
     as the first command (it starts the kept Prefect API) and as a command after another
     (it finds the API up);
   - `trafilatura -i urls.txt --parallel 2 -o DIR`: fetch and extract only, with SLEEP_TIME = 0
     and SSRF_PROTECTION = off in its config file (the server is on loopback).
2. Quality. Token-level F1 of the article text against the ground truth of the 181 Scrapinghub
   pages and of the fundus pages (../shared/corpus/benchmark/fundus, title + body sections),
   for socwatch's extraction (what lands in articles.text) and for trafilatura with its
   default settings (`trafilatura.extract`).

--write puts the results into docs/performance.md (between its markers for this benchmark).
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))


from crawl_politeness import copies, serve_feed, sources_toml  # noqa: E402
from perfdoc import measured, numbers, publish, run_figures  # noqa: E402
from flows.prefect_api import RECORD  # noqa: E402
from transforms.evaluate import token_f1  # noqa: E402
from transforms.errors import ParseError  # noqa: E402
from warehouse.db import connect  # noqa: E402

BENCH = REPO.parent / "shared" / "corpus" / "benchmark"
SCRAPINGHUB = BENCH / "scrapinghub_aeb"
FUNDUS = BENCH / "fundus"


def scrapinghub_pages() -> list[tuple[str, bytes, str]]:
    """(url, html, expected body) of the 181 Scrapinghub pages."""
    truth = json.loads((SCRAPINGHUB / "ground-truth.json").read_text(encoding="utf-8"))
    return [(t["url"], gzip.decompress((SCRAPINGHUB / "html" / f"{page_id}.html.gz").read_bytes()), t["articleBody"])
            for page_id, t in truth.items()]


def fundus_pages() -> list[tuple[str, bytes, str]]:
    """(url, html, expected title + body) of the fundus pages: each publisher's JSON holds one
    expected article per page version (V1, V2, ...), matching its pages in date order."""
    out = []
    for expected_file in sorted(FUNDUS.glob("*/*.json")):
        expected = json.loads(expected_file.read_text(encoding="utf-8"))
        pages = sorted(expected_file.parent.glob(f"{expected_file.stem}_*.html.gz"))
        for version, page in zip(sorted(expected), pages):
            art = expected[version]
            body = art.get("body") or {}
            parts = [art.get("title") or "", *body.get("summary", [])]
            for section in body.get("sections", []):
                parts += section.get("headline", []) + section.get("paragraphs", [])
            out.append((f"https://{expected_file.stem.lower()}.example/{page.stem}", gzip.decompress(page.read_bytes()),
                        "\n".join(parts)))
    return out


def quality() -> list[tuple[str, int, float, float]]:
    import trafilatura

    from schemas.records import Fetched, Source, Status
    from transforms.extract import extract_article

    source = Source("bench", "feed", "https://bench.example/feed", "GB", "en", ("bench.example",))
    rows = []
    for name, pages in (("scrapinghub_aeb", scrapinghub_pages()), ("fundus", fundus_pages())):
        ours, theirs = [], []
        for url, html, want in pages:
            try:
                got = extract_article(Fetched("bench", url, Status.FETCHED, body=html, content_type="text/html"), None, source)
                text = f"{got.title}\n{got.text}" if name == "fundus" else got.text
            except ParseError:
                text = ""
            ours.append(token_f1(text, want))
            if name == "fundus":
                doc = trafilatura.bare_extraction(html, url=url)
                plain = f"{getattr(doc, 'title', '') or ''}\n{getattr(doc, 'text', '') or ''}" if doc else ""
            else:
                plain = trafilatura.extract(html, url=url) or ""
            theirs.append(token_f1(plain, want))
        rows.append((name, len(pages), sum(ours) / len(ours), sum(theirs) / len(theirs)))
    return rows


def speed(n: int) -> dict:
    pages = copies(n)
    httpd, sent, base = serve_feed(pages)
    urls = [f"{base}{p}" for p in pages if p.startswith("/news/")]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            sources = tmp / "sources.toml"
            sources.write_text(sources_toml(base, extra="max_concurrency = 8\n"))
            # A Prefect home of the benchmark's own, its database migrated by a first command
            # (as on any machine that has run socwatch once), then two runs: the first command
            # starts the kept Prefect API, the second finds it (a command after another).
            home = tmp / "prefect"
            env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "SOCWATCH_"))}
            env["PREFECT_HOME"] = str(home)
            connect(tmp / "migrate.duckdb").close()  # reclassify re-tags a warehouse that exists
            socwatch(["reclassify", "--db", str(tmp / "migrate.duckdb")], {**env, "SOCWATCH_API_KEEP_S": "0"})
            timed = []
            for name in ("first", "next"):
                db = tmp / f"{name}.duckdb"
                seconds = socwatch(["run", "--sources", str(sources), "--db", str(db)], env)
                timed.append((seconds, *run_figures(db)))
            stop_kept_api(home)
            (socwatch_s, flow_s, _, stored), (next_s, next_flow_s, _, next_stored) = timed

            (tmp / "urls.txt").write_text("\n".join(urls) + "\n")
            (tmp / "trafilatura.cfg").write_text("[DEFAULT]\nSLEEP_TIME = 0\nSSRF_PROTECTION = off\n"
                                                 "DOWNLOAD_TIMEOUT = 30\nMAX_FILE_SIZE = 20000000\nMIN_FILE_SIZE = 10\n"
                                                 "USER_AGENTS =\nCOOKIE =\nMAX_REDIRECTS = 2\nINSECURE_SSL_FALLBACK = off\n"
                                                 "MIN_EXTRACTED_SIZE = 250\nMIN_OUTPUT_SIZE = 1\nMIN_OUTPUT_COMM_SIZE = 1\n"
                                                 "MAX_TREE_SIZE =\nEXTRACTION_TIMEOUT = 30\nMIN_DUPLCHECK_SIZE = 100\n"
                                                 "MAX_REPETITIONS = 2\nEXTENSIVE_DATE_SEARCH = on\nEXTERNAL_URLS = off\n")
            cli = shutil.which("trafilatura") or str(Path(sys.executable).with_name("trafilatura"))
            started = time.perf_counter()
            # JSON, one document a line, to a file: every page's result is counted (files in a
            # folder would be named by a hash of the text, and copies whose only difference is
            # dropped as boilerplate would overwrite one another).
            with (tmp / "trafilatura.jsonl").open("w") as out:
                traf = subprocess.run([cli, "-i", str(tmp / "urls.txt"), "--parallel", "2", "--config-file",
                                       str(tmp / "trafilatura.cfg"), "--output-format", "json"],
                                      stdout=out, stderr=subprocess.PIPE, text=True)
            trafilatura_s = time.perf_counter() - started
            written = sum(1 for line in (tmp / "trafilatura.jsonl").open() if line.startswith("{"))
            if traf.returncode != 0 or written < n * 0.9:
                sys.exit(f"trafilatura wrote {written} of {n} ({traf.returncode}):\n{traf.stderr[-2000:]}")
    finally:
        httpd.shutdown()
    return {"n": n, "socwatch_s": socwatch_s, "flow_s": flow_s, "stored": stored, "next_s": next_s, "next_flow_s": next_flow_s,
            "next_stored": next_stored, "trafilatura_s": trafilatura_s, "trafilatura_written": written}


def socwatch(args: list[str], env: dict[str, str]) -> float:
    """Seconds of the whole command `socwatch ARGS`."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "flows.cli", *args], cwd=REPO, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"socwatch {args[0]} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return time.perf_counter() - started


def stop_kept_api(home: Path) -> None:
    """End the kept Prefect API the benchmark's commands started (its record names it)."""
    record = home / RECORD
    if record.exists():
        os.kill(json.loads(record.read_text(encoding="utf-8"))["pid"], signal.SIGTERM)


def markdown(result: dict, rows: list) -> str:
    n = result["n"]
    lines = [
        measured(),
        "",
        "| command (same server, same pages) | does | pages | seconds | pages/s |",
        "|---|---|---:|---:|---:|",
        f"| `socwatch run`, the first command (it starts the Prefect API) | fetch, extract, classify, validate, load | {result['stored']} | {result['socwatch_s']:.1f} | {n / result['socwatch_s']:.1f} |",
        f"| (its flow alone) | | | {result['flow_s']:.1f} | {n / result['flow_s']:.1f} |",
        f"| `socwatch run`, a command after another (the kept Prefect API) | the same, into a new warehouse | {result['next_stored']} | {result['next_s']:.1f} | {n / result['next_s']:.1f} |",
        f"| (its flow alone) | | | {result['next_flow_s']:.1f} | {n / result['next_flow_s']:.1f} |",
        f"| `trafilatura -i urls.txt --parallel 2` | fetch, extract | {result['trafilatura_written']} | {result['trafilatura_s']:.1f} | {n / result['trafilatura_s']:.1f} |",
        "",
        f"**socwatch is {result['trafilatura_s'] / result['socwatch_s']:.2f}x as fast as the trafilatura command line as the "
        f"first command, {result['trafilatura_s'] / result['next_s']:.2f}x as a command after another** (whole commands).",
        "",
        "| extraction quality: token F1 against ground truth | pages | socwatch | trafilatura, defaults | difference |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [f"| {name} | {count} | {ours:.3f} | {theirs:.3f} | {ours - theirs:+.3f} |" for name, count, ours, theirs in rows]
    return "\n".join(lines)


def main() -> None:
    [n] = numbers([2000])[:1]
    if not SCRAPINGHUB.exists():
        sys.exit(f"needs {SCRAPINGHUB}")
    rows = quality()
    publish("vs_trafilatura", markdown(speed(n), rows))


if __name__ == "__main__":
    main()
