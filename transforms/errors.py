"""The one error a parser raises for input it cannot read: a feed, a sitemap, a list, a page,
a structured document. It carries the terminal status to record (`parse_error`,
`unsafe_xml`, `too_large`, `no_content`, `extract_error`) and a message saying why.

Anything else a parser raises is our own bug, not the input's fault: callers record it as
`internal_error`, so a bug never passes for a bad page."""

from __future__ import annotations

from schemas.records import Status


class ParseError(ValueError):
    def __init__(self, status: Status, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def internal_error(exc: BaseException) -> str:
    """The message recorded with `internal_error`: the exception, and where it was raised."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    where = f" at {tb.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{tb.tb_lineno}" if tb is not None else ""
    return f"{type(exc).__name__}: {str(exc)[:200]}{where}"
