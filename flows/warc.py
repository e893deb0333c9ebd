"""WARC at the edge: record every response of a run, or replay a run from archives.

Replay is an httpx transport, so a replayed run goes through exactly the code path of a live
one. A URL that no archive holds answers 404, like a server that does not have it.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterable
from pathlib import Path

import httpx
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from transforms.urls import canonical_url

# Headers that describe the bytes on the wire; the archive keeps the decoded body instead.
_WIRE_HEADERS = {"content-encoding", "transfer-encoding", "content-length", "connection", "keep-alive"}


class WarcError(RuntimeError):
    """An archive that cannot be read or written."""


def check_archive(path: Path | str) -> None:
    """Raise WarcError unless `path` opens as a WARC archive (its first record is read)."""
    try:
        with Path(path).open("rb") as stream:
            next(iter(ArchiveIterator(stream)), None)
    except Exception as exc:  # warcio raises several kinds for what is not an archive
        raise WarcError(f"{path}: not a readable WARC archive ({type(exc).__name__})") from None


class WarcRecorder:
    """Appends one gzip-compressed `response` record per HTTP answer (thread-safe)."""

    def __init__(self, path: Path | str, software: str = "socwatch"):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._file = self.path.open("xb")  # never overwrite an archive
        except FileExistsError:
            raise WarcError(f"{self.path} exists already: record to a new file") from None
        self._writer = WARCWriter(self._file, gzip=True)
        self._lock = threading.Lock()
        info = self._writer.create_warcinfo_record(self.path.name, {"software": software, "format": "WARC File Format 1.1"})
        self._writer.write_record(info)

    def write_response(self, url: str, status: int, reason: str, headers: Iterable[tuple[str, str]] | httpx.Headers,
                       body: bytes, http_version: str = "HTTP/1.1") -> None:
        items = headers.multi_items() if isinstance(headers, httpx.Headers) else list(headers)
        kept = [(k, v) for k, v in items if k.lower() not in _WIRE_HEADERS]
        kept.append(("Content-Length", str(len(body))))
        protocol = http_version if http_version.startswith("HTTP/") else "HTTP/1.1"
        http_headers = StatusAndHeaders(f"{status} {reason or 'OK'}", kept, protocol=protocol)
        record = self._writer.create_warc_record(url, "response", payload=io.BytesIO(body), length=len(body),
                                                 http_headers=http_headers)
        with self._lock:
            self._writer.write_record(record)

    def close(self) -> None:
        with self._lock:
            self._file.close()

    def __enter__(self) -> WarcRecorder:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _Body(httpx.AsyncByteStream):
    """A body streamed like the network's (httpx reads a plain bytes body up front)."""

    def __init__(self, body: bytes):
        self.body = body

    async def __aiter__(self):
        yield self.body


def _response(status: int, headers: list[tuple[str, str]], body: bytes, request: httpx.Request) -> httpx.Response:
    headers = [*headers, ("Content-Length", str(len(body)))]
    return httpx.Response(status, headers=headers, stream=_Body(body), request=request)


class WarcReplayTransport(httpx.AsyncBaseTransport):
    """Answers requests from WARC archives: the last record of a URL wins across archives."""

    # Archive indexes already read in this process, by (path, size, mtime): a Dask worker
    # replaying batch after batch reads each archive once.
    _indexes: dict[tuple[str, int, int], dict[str, tuple[Path, int]]] = {}

    def __init__(self, paths: Iterable[Path | str]):
        self._index: dict[str, tuple[Path, int]] = {}
        for path in map(Path, paths):
            self._index.update(self._indexed(path))

    @classmethod
    def _indexed(cls, path: Path) -> dict[str, tuple[Path, int]]:
        try:
            stat = path.stat()
        except OSError:
            raise WarcError(f"{path}: no such WARC archive") from None
        path = path.resolve()  # the index holds this path: it must not depend on the working folder
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        if key not in cls._indexes:
            if len(cls._indexes) >= 8:
                cls._indexes.clear()
            cls._indexes[key] = cls._read_index(path)
        return cls._indexes[key]

    def __len__(self) -> int:
        return len(self._index)

    @staticmethod
    def _read_index(path: Path) -> dict[str, tuple[Path, int]]:
        if not path.is_file():
            raise WarcError(f"{path}: no such WARC archive")
        index: dict[str, tuple[Path, int]] = {}
        try:
            with path.open("rb") as stream:
                records = ArchiveIterator(stream)
                for record in records:
                    if record.rec_type != "response":
                        continue
                    uri = record.rec_headers.get_header("WARC-Target-URI")
                    if uri:
                        index[uri] = (path, records.get_record_offset())
                        index.setdefault(canonical_url(uri), (path, records.get_record_offset()))
        except Exception as exc:  # warcio raises several kinds for damaged archives
            raise WarcError(f"{path}: not a readable WARC archive: {exc}") from None
        return index

    def _read(self, path: Path, offset: int, request: httpx.Request) -> httpx.Response:
        with path.open("rb") as stream:
            stream.seek(offset)
            record = next(iter(ArchiveIterator(stream)))
            status = int(record.http_headers.get_statuscode())
            headers = [(k, v) for k, v in record.http_headers.headers if k.lower() not in _WIRE_HEADERS]
            body = record.content_stream().read()
        return _response(status, headers, body, request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        hit = self._index.get(url) or self._index.get(canonical_url(url))
        if hit is None:
            return _response(404, [("Content-Type", "text/plain")], b"not in the replayed archives", request)
        return self._read(*hit, request)
