"""The records passed between the pipeline's stages.

One frozen, typed record per stage, named for what it holds:

    Source -> FeedEntry -> Fetched -> Article -> Tags

Records hold plain data only (str, bytes, numbers, datetimes, tuples), so they pickle
cheaply into the extraction process pool and hash cheaply where Prefect looks at them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum


# The dates a publication date can have: not before this, not later than now plus the slack (a
# later one is a parse or time-zone error). transforms.dates repairs, the articles check holds.
EARLIEST_PUBLICATION = datetime(1990, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)
MAX_TITLE = 2000  # characters: a longer title is cut (transforms.extract), the articles check holds

# The kinds of announcement, one per article: the type cues of transforms/cues.toml, the
# announcement_type check of article_labels.
ANNOUNCEMENT_TYPES = ("dialogue_meeting", "agreement", "operation_result", "policy_legislation", "funding", "statement", "other")


class Status(StrEnum):
    """The terminal status of one URL in one run (exactly one per URL, see `crawl_events`)."""

    FETCHED = "fetched"  # fetched, extracted and loaded (new, updated or unchanged)
    NOT_MODIFIED = "not_modified"  # 304 to a conditional GET
    ROBOTS_DISALLOWED = "robots_disallowed"
    HTTP_ERROR = "http_error"  # a 4xx/5xx answer
    TIMEOUT = "timeout"
    CONNECTION_ERROR = "connection_error"
    TOO_LARGE = "too_large"  # body over the size cap
    NOT_HTML = "not_html"  # a body of a type the source kind does not read
    BLOCKED_HOST = "blocked_host"  # outside the source's allowed hosts
    BLOCKED_SCHEME = "blocked_scheme"  # a link (or a redirect) that is not http(s): file:, javascript:, mailto:, data:
    TOO_MANY_REDIRECTS = "too_many_redirects"
    DUPLICATE = "duplicate"  # the same canonical URL was already handled in this run
    PARSE_ERROR = "parse_error"  # a feed that cannot be parsed
    UNSAFE_XML = "unsafe_xml"  # a feed declaring entities (billion laughs, external entities)
    NO_CONTENT = "no_content"  # a page with no extractable article text
    EXTRACT_ERROR = "extract_error"  # the extractor failed on the page
    QUARANTINED = "quarantined"  # the article failed validation and was set aside
    INTERNAL_ERROR = "internal_error"  # our own bug (an unexpected exception), not the input's fault

    @property
    def is_skip(self) -> bool:
        return self in (Status.ROBOTS_DISALLOWED, Status.BLOCKED_HOST, Status.BLOCKED_SCHEME, Status.NOT_HTML)

    @property
    def names_article(self) -> bool:
        """The URL's event names its article: it was read (or not modified), or another source of the run read it."""
        return self in (Status.FETCHED, Status.NOT_MODIFIED, Status.DUPLICATE)

    @property
    def is_failure(self) -> bool:
        """Failures make a run `completed_with_errors`; policy outcomes (robots, hosts) do not."""
        return self in _FAILURES


_FAILURES = frozenset(
    {
        Status.HTTP_ERROR,
        Status.TIMEOUT,
        Status.CONNECTION_ERROR,
        Status.TOO_LARGE,
        Status.TOO_MANY_REDIRECTS,
        Status.PARSE_ERROR,
        Status.UNSAFE_XML,
        Status.EXTRACT_ERROR,
        Status.QUARANTINED,
        Status.INTERNAL_ERROR,
    }
)

@dataclass(frozen=True, slots=True)
class Source:
    """One entry of the sources file."""

    name: str
    kind: str
    url: str
    country: str
    language: str
    allowed_hosts: tuple[str, ...]
    max_concurrency: int = 2
    min_delay_s: float = 1.0
    title: str | None = None
    # Hosts the sources file names in allowed_hosts: only these may resolve to non-public
    # addresses (loopback, private, link-local).
    listed_hosts: tuple[str, ...] = ()
    # Its own cron schedule under `socwatch serve` (else the ingest deployment's), and how
    # often it is expected to publish (else learnt from its history): for freshness alerts.
    schedule: str | None = None
    expected_every_h: float | None = None


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """An article discovered in a source's feed: where it is and what the feed says of it."""

    source: str
    url: str  # canonical URL
    title: str | None = None
    published_at: datetime | None = None
    summary: str | None = None
    updated_at: datetime | None = None
    # A structured document with the article's content (an API), fetched instead of the page.
    document_url: str | None = None


@dataclass(frozen=True, slots=True)
class Fetched:
    """The outcome of one HTTP exchange (or WARC replay) for one URL."""

    source: str
    url: str  # the canonical URL that was asked for
    status: Status
    final_url: str | None = None
    http_status: int | None = None
    content_type: str | None = None
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None
    fetched_at: datetime | None = None
    elapsed_ms: int | None = None
    # What the body is, so the right extractor reads it: html, or a structured document format.
    format: str = "html"
    # The URL whose ETag/Last-Modified these are (what was asked for; a document's URL where
    # an article was read from an API).
    cache_url: str | None = None
    # The body's size where the body itself was dropped once read (not sent back from a worker).
    body_bytes: int | None = None
    # A translation in a language with no vocabulary: the document of its original (GOV.UK's
    # English item, named by links.available_translations), which it is tagged from.
    original_url: str | None = None
    original_body: bytes = b""

    @property
    def size(self) -> int | None:
        if self.body_bytes is not None:
            return self.body_bytes
        return len(self.body) if self.body else None

    @property
    def ok(self) -> bool:
        return self.status is Status.FETCHED

    def without_body(self) -> Fetched:
        """This outcome once its body has been read: the load needs the body's size only."""
        return replace(self, body=b"", body_bytes=self.size, original_body=b"") if self.body or self.original_body else self


@dataclass(frozen=True, slots=True)
class Article:
    """An announcement's text and metadata, as extracted from a page."""

    article_id: str
    url: str
    source: str
    publisher: str | None
    title: str
    text: str
    language: str
    content_hash: str
    published_at: datetime | None = None
    feed_published_at: datetime | None = None
    page_published_at: datetime | None = None
    source_published_at: datetime | None = None  # from a structured API
    updated_at: datetime | None = None
    author: str | None = None
    description: str | None = None
    site_name: str | None = None
    document_type: str | None = None
    organisations: tuple[str, ...] = ()
    withdrawn: bool | None = None
    # A translation tagged from its original: the original's URL, title and text.
    original_url: str | None = None
    original_title: str | None = None
    original_text: str | None = None
    # What extraction repaired or chose (a charset other than the declared one, a date passed
    # over): said in the page's crawl_events.error; not a column of articles.
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ThemeScore:
    theme: str
    score: float
    evidence: tuple[tuple[str, int], ...]  # (matched term, count)


FACT_KINDS = ("drug", "money", "firearms", "ammunition", "arrests", "charged", "operation", "agency")


@dataclass(frozen=True, slots=True)
class Fact:
    """A fact read from an announcement (transforms/facts.py), with the span it was read from.

    `subject`: the substance (drug), the currency (money), the name (operation, agency);
    `quantity` and `unit` as written (drug: kg, g, t, lb, oz, l, plants, pills, units);
    `value`: kilograms for a drug's mass, the amount for money, the number for counts;
    `action`: what happened to money (seized, frozen, confiscated, laundered, defrauded,
    bribe, fine, other); `country`: an agency's."""

    kind: str
    subject: str | None = None
    quantity: float | None = None
    unit: str | None = None
    value: float | None = None
    action: str | None = None
    country: str | None = None
    where: str = "text"  # "title" or "text"
    start: int = 0  # character offsets in it
    end: int = 0


@dataclass(frozen=True, slots=True)
class Tags:
    """What the classifier says of an article."""

    article_id: str
    taxonomy_version: str
    themes: tuple[ThemeScore, ...] = ()
    countries: tuple[str, ...] = ()
    dyads: tuple[tuple[str, str], ...] = ()
    bilateral: bool = False
    announcement_type: str = "other"
    # Per dyad (in the order of `dyads`): the relation that links the pair (a cooperation cue,
    # or "action abroad: <word>"), and the sentence it is in: "title" or "text", character offsets.
    dyad_evidence: tuple[tuple[str, str, int, int], ...] = ()
    # What the tags were read from: "text" (the article's own), "original <url>" (a
    # translation tagged from its original), or "no_vocabulary" (a language the vocabulary
    # does not cover, and no original: no themes, only the publisher's country).
    basis: str = "text"
    facts: tuple[Fact, ...] = ()


@dataclass(frozen=True, slots=True)
class Processed:
    """A fetched page after extraction and classification (the process pool's output)."""

    fetched_url: str
    status: Status
    article: Article | None = None
    tags: Tags | None = None
    error: str | None = None


@dataclass(slots=True)
class SourceCounts:
    """Per-source counters of one run (mutable: the flow adds up as batches finish)."""

    discovered: int = 0
    fetched: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0  # refused by robots.txt or the allowlist, or not HTML: policy, not failure
    failed: int = 0
    quarantined: int = 0
    seconds: float = 0.0  # from the start of the run until its last page was loaded
    statuses: dict[str, int] = field(default_factory=dict)
