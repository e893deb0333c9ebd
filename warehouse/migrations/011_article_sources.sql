-- A URL that several sources list: each source gets its own terminal event (the second
-- one `duplicate`, naming the article), and article_sources records every source that listed
-- an article. crawl_events' key becomes (run_id, source, url): the table is rebuilt.
CREATE TABLE crawl_events_by_source (
    run_id          VARCHAR NOT NULL,
    source          VARCHAR NOT NULL,
    url             VARCHAR NOT NULL,
    url_kind        VARCHAR NOT NULL,
    status          VARCHAR NOT NULL,
    http_status     INTEGER,
    error           VARCHAR,
    final_url       VARCHAR,
    content_type    VARCHAR,
    bytes           BIGINT,
    elapsed_ms      INTEGER,
    article_id      VARCHAR,
    change          VARCHAR,
    event_at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (run_id, source, url)
);
INSERT INTO crawl_events_by_source SELECT * FROM crawl_events;
DROP TABLE crawl_events;
ALTER TABLE crawl_events_by_source RENAME TO crawl_events;
COMMENT ON TABLE crawl_events IS 'One row per URL, source and run with its one terminal status (a URL two sources list is fetched once: the second source''s row is duplicate, with the article).';
COMMENT ON COLUMN crawl_events.run_id IS 'The run (runs.run_id).';
COMMENT ON COLUMN crawl_events.source IS 'The source that listed the URL.';
COMMENT ON COLUMN crawl_events.url IS 'Canonical URL.';
COMMENT ON COLUMN crawl_events.url_kind IS 'feed (a discovery URL) or page (an article).';
COMMENT ON COLUMN crawl_events.status IS 'Terminal status: fetched, not_modified, robots_disallowed, http_error, timeout, connection_error, too_large, not_html, blocked_host (outside the allowed hosts), blocked_scheme (a link or redirect that is not http(s): file:, javascript:, mailto:, data:), too_many_redirects, duplicate (the URL was also listed by another source of the run, which fetched it: article_id is the article), parse_error, unsafe_xml, no_content (no article: no text, or below the floor of an article, with the reason in error), extract_error, quarantined, internal_error (an unexpected exception in socwatch itself: a bug to report, with where it was raised in error).';
COMMENT ON COLUMN crawl_events.http_status IS 'HTTP status code of the last answer, if any.';
COMMENT ON COLUMN crawl_events.error IS 'Short description of what went wrong (or a warning), else NULL.';
COMMENT ON COLUMN crawl_events.final_url IS 'The URL that answered, after redirects.';
COMMENT ON COLUMN crawl_events.content_type IS 'Content-Type of the answer.';
COMMENT ON COLUMN crawl_events.bytes IS 'Body size in bytes (decoded).';
COMMENT ON COLUMN crawl_events.elapsed_ms IS 'Time the fetch took, in milliseconds.';
COMMENT ON COLUMN crawl_events.article_id IS 'The article stored from this URL, if any.';
COMMENT ON COLUMN crawl_events.change IS 'For stored articles: new, updated or unchanged.';
COMMENT ON COLUMN crawl_events.event_at IS 'When the URL reached its terminal status (UTC).';

CREATE TABLE article_sources (
    article_id      VARCHAR NOT NULL,
    source          VARCHAR NOT NULL,
    url             VARCHAR NOT NULL,
    first_seen_at   TIMESTAMPTZ NOT NULL,
    last_seen_at    TIMESTAMPTZ NOT NULL,
    last_run_id     VARCHAR NOT NULL,
    PRIMARY KEY (article_id, source)
);
COMMENT ON TABLE article_sources IS 'One row per article and source that listed it: which sources announced an article is one query.';
COMMENT ON COLUMN article_sources.article_id IS 'The article (articles.article_id).';
COMMENT ON COLUMN article_sources.source IS 'A source whose feed, sitemap or list gave the article.';
COMMENT ON COLUMN article_sources.url IS 'The URL that source listed (canonical).';
COMMENT ON COLUMN article_sources.first_seen_at IS 'When a run first saw the source list it (UTC).';
COMMENT ON COLUMN article_sources.last_seen_at IS 'When a run last saw the source list it (UTC).';
COMMENT ON COLUMN article_sources.last_run_id IS 'The run that last saw it (runs.run_id).';
INSERT INTO article_sources SELECT article_id, source, url, first_seen_at, last_seen_at, last_run_id FROM articles;
