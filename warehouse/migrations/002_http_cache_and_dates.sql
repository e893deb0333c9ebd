-- 002: conditional GET validators per URL; the dates and metadata that structured sources give.

CREATE TABLE http_cache (
    url             VARCHAR PRIMARY KEY,
    source          VARCHAR NOT NULL,
    etag            VARCHAR,
    last_modified   VARCHAR,
    stored_at       TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE http_cache IS 'One row per URL whose last answer was loaded: the validators sent with the next conditional GET.';
COMMENT ON COLUMN http_cache.url IS 'Canonical URL (a feed, an API document or a page).';
COMMENT ON COLUMN http_cache.source IS 'The source the URL belongs to.';
COMMENT ON COLUMN http_cache.etag IS 'ETag of the last loaded answer (sent as If-None-Match).';
COMMENT ON COLUMN http_cache.last_modified IS 'Last-Modified of the last loaded answer (sent as If-Modified-Since).';
COMMENT ON COLUMN http_cache.stored_at IS 'When the validators were stored (UTC).';

ALTER TABLE articles ADD COLUMN source_published_at TIMESTAMPTZ;
ALTER TABLE articles ADD COLUMN updated_at TIMESTAMPTZ;
ALTER TABLE articles ADD COLUMN document_type VARCHAR;
ALTER TABLE articles ADD COLUMN organisations VARCHAR[];
ALTER TABLE articles ADD COLUMN withdrawn BOOLEAN;
COMMENT ON COLUMN articles.source_published_at IS 'First publication time given by a structured API (GOV.UK Content API, Rijksoverheid open data), UTC.';
COMMENT ON COLUMN articles.updated_at IS 'Last public update time given by the API or the feed (UTC).';
COMMENT ON COLUMN articles.document_type IS 'Document type given by the source (e.g. GOV.UK press_release, news_story, speech).';
COMMENT ON COLUMN articles.organisations IS 'Publishing organisations named by the source (GOV.UK organisations, Rijksoverheid authorities).';
COMMENT ON COLUMN articles.withdrawn IS 'True when the publisher has withdrawn the announcement (GOV.UK withdrawn notice).';
COMMENT ON COLUMN articles.published_at IS 'Publication time (UTC), the most authoritative given: a structured API''s, else the feed''s, else the page''s.';

ALTER TABLE runs ADD COLUMN n_skipped INTEGER DEFAULT 0;
COMMENT ON COLUMN runs.n_skipped IS 'Article URLs refused by robots.txt or the host allowlist, or not HTML (policy outcomes, not failures).';
