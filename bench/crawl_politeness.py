"""Benchmark: crawl throughput against the politeness bound, and the cost of an unchanged re-run.

    uv run python bench/crawl_politeness.py [N] [LATENCY_MS] [MAX_CONCURRENCY] [--write]   # default 200 50 2

A server on 127.0.0.1 answers every request after LATENCY_MS, honours If-None-Match, and
serves N distinct real news pages (../shared/corpus/benchmark/scrapinghub_aeb) listed in one
RSS feed, all on one host. The bound that politeness allows is MAX_CONCURRENCY / latency.
Prints the fetch layer alone (the Fetcher), then two runs of the whole ingest flow: time,
pages/s and bytes of article bodies the server sent. --write puts the table into
docs/performance.md (the incremental benchmark: the second run downloads no article body).
"""

from __future__ import annotations

import asyncio
import gzip
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from perfdoc import run_figures  # noqa: E402

import flows  # noqa: E402,F401
from flows.http import Fetcher, FetchSettings  # noqa: E402
from flows.sources import load_sources  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpus" / "benchmark" / "scrapinghub_aeb" / "html"


def serve(pages: dict[str, bytes], latency: float):
    sent = {"bytes": 0, "bodies": 0}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):  # noqa: N802
            time.sleep(latency)
            body = pages.get(self.path)
            if body is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            etag = f'"{hash(body) & 0xFFFFFFFF:x}"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            kind = "application/rss+xml" if self.path.endswith(".xml") else "text/html; charset=utf-8"
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            if self.path.startswith("/news/"):
                with lock:
                    sent["bytes"] += len(body)
                    sent["bodies"] += 1

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, sent


def serve_feed(pages: dict[str, bytes], latency: float = 0.0):
    """`serve` for `pages` and an RSS feed at /feed.xml listing them: (server, sent, base URL)."""
    httpd, sent = serve(pages, latency)
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    pages["/feed.xml"] = ("<?xml version='1.0'?><rss version='2.0'><channel><title>bench</title>" + "".join(
        f"<item><title>Item {i}</title><link>{base}{p}</link></item>" for i, p in enumerate(list(pages))) + "</channel></rss>").encode()
    return httpd, sent, base


def sources_toml(base: str, name: str = "bench", extra: str = "") -> str:
    """A sources file of one feed source, the feed of `serve_feed` at `base`."""
    return (f'[[sources]]\nname = "{name}"\nkind = "feed"\nurl = "{base}/feed.xml"\ncountry = "GB"\n'
            f'language = "en"\nallowed_hosts = ["127.0.0.1"]\nmin_delay_s = 0\n{extra}')


def copies(n: int) -> dict[str, bytes]:
    """N distinct pages from the real Scrapinghub pages: each paragraph of a copy ends with its
    number, so that copies differ in their article text too (copies of one text in one source
    are folded into one article)."""
    originals = [gzip.decompress(p.read_bytes()) for p in sorted(CORPUS.glob("*.html.gz"))]
    return {f"/news/{i:05d}": originals[i % len(originals)].replace(b"</p>", f" (copy {i})</p>".encode()) for i in range(n)}


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 200
    latency = (int(args[1]) if len(args) > 1 else 50) / 1000
    concurrency = int(args[2]) if len(args) > 2 else 2
    if not CORPUS.exists():
        sys.exit(f"needs {CORPUS}")
    pages = copies(n)
    httpd, sent, base = serve_feed(pages, latency)
    bound = concurrency / latency
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        sources = tmp / "sources.toml"
        sources.write_text(sources_toml(base, extra=f"max_concurrency = {concurrency}\n"))
        [source] = load_sources(sources)

        async def fetch_all():
            async with Fetcher([source], FetchSettings()) as fetcher:
                return await asyncio.gather(*(fetcher.fetch(f"{base}{p}", source) for p in pages if p.startswith("/news/")))

        started = time.perf_counter()
        results = asyncio.run(fetch_all())
        fetch_s = time.perf_counter() - started
        assert all(r.ok for r in results)
        rows = [("fetch layer only", n, fetch_s, sent["bytes"])]

        from flows.ingest import run_ingest

        db = tmp / "bench.duckdb"
        for label in ("ingest flow, first run", "ingest flow, unchanged re-run"):
            before = sent["bytes"]
            run_ingest(sources, db)
            flow_s, _, _ = run_figures(db)
            rows.append((label, n, flow_s, sent["bytes"] - before))
    httpd.shutdown()
    print(f"\n{n} pages on one host, {latency * 1000:.0f} ms a response, max_concurrency {concurrency}: "
          f"politeness bound {bound:.0f} pages/s")
    print(f"{'what':<32}{'seconds':>9}{'pages/s':>9}{'of bound':>10}{'body bytes':>13}")
    for label, count, seconds, body_bytes in rows:
        print(f"{label:<32}{seconds:>9.2f}{count / seconds:>9.1f}{count / seconds / bound:>9.0%}{body_bytes:>13,}")
    if "--write" in sys.argv:
        from perfdoc import measured, write_section

        lines = [measured() + f" {n} pages on one host, {latency * 1000:.0f} ms a response, at most {concurrency} at a time "
                 f"(a politeness bound of {bound:.0f} pages/s).", "",
                 "| run | seconds | pages/s | of the bound | article body bytes downloaded |", "|---|---:|---:|---:|---:|"]
        lines += [f"| {label} | {seconds:.1f} | {count / seconds:.1f} | {count / seconds / bound:.0%} | {body_bytes:,} |"
                  for label, count, seconds, body_bytes in rows]
        write_section("incremental", "\n".join(lines))


if __name__ == "__main__":
    main()
