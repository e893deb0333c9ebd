-- 001: the first warehouse: articles and their tags, runs, crawl events, quarantine.
-- Times are TIMESTAMPTZ and stored in UTC.

CREATE TABLE sources (
    source          VARCHAR PRIMARY KEY,
    kind            VARCHAR NOT NULL,
    url             VARCHAR NOT NULL,
    country         VARCHAR NOT NULL,
    language        VARCHAR NOT NULL,
    title           VARCHAR,
    first_seen_at   TIMESTAMPTZ NOT NULL,
    last_seen_at    TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE sources IS 'One row per source named in a sources file that a run has read (latest settings win).';
COMMENT ON COLUMN sources.source IS 'Unique source name from the sources file ([a-z0-9-]+).';
COMMENT ON COLUMN sources.kind IS 'Source kind: feed, govuk, rijksoverheid or sitemap.';
COMMENT ON COLUMN sources.url IS 'The discovery URL (feed or API) of the source.';
COMMENT ON COLUMN sources.country IS 'ISO 3166-1 alpha-2 code of the publisher (EU for Union bodies).';
COMMENT ON COLUMN sources.language IS 'ISO 639-1 code of the language the source publishes in.';
COMMENT ON COLUMN sources.title IS 'Human-readable name of the source, if the sources file gives one.';
COMMENT ON COLUMN sources.first_seen_at IS 'When a run first read this source (UTC).';
COMMENT ON COLUMN sources.last_seen_at IS 'When a run last read this source (UTC).';

-- No PRIMARY KEY: the load keeps article_id unique (warehouse/load.py), and a table without an
-- index gets a run's new rows as a row group of their own, where DuckDB would rewrite the last
-- row group of an indexed one (up to 122,880 texts) at every checkpoint after an insert. A file
-- made before 7 December 2026 has the key; `socwatch compact` rewrites it without.
CREATE TABLE articles (
    article_id          VARCHAR NOT NULL,
    url                 VARCHAR NOT NULL,
    source              VARCHAR NOT NULL,
    publisher           VARCHAR,
    title               VARCHAR NOT NULL,
    text                VARCHAR NOT NULL USING COMPRESSION zstd,  -- where the file's format has it (warehouse/db.py)
    description         VARCHAR,
    author              VARCHAR,
    site_name           VARCHAR,
    language            VARCHAR NOT NULL,
    published_at        TIMESTAMPTZ,
    feed_published_at   TIMESTAMPTZ,
    page_published_at   TIMESTAMPTZ,
    content_hash        VARCHAR NOT NULL,
    first_seen_at       TIMESTAMPTZ NOT NULL,
    last_seen_at        TIMESTAMPTZ NOT NULL,
    last_run_id         VARCHAR NOT NULL
);
COMMENT ON TABLE articles IS 'One row per article (announcement), its latest version. Grain: canonical URL.';
COMMENT ON COLUMN articles.article_id IS 'Deterministic id: 20 hex characters of a BLAKE2b hash of the canonical URL.';
COMMENT ON COLUMN articles.url IS 'Canonical URL (tracking parameters, fragment and default port removed).';
COMMENT ON COLUMN articles.source IS 'Name of the source (sources.source) that discovered the article.';
COMMENT ON COLUMN articles.publisher IS 'Who published it: the source title, else the site name.';
COMMENT ON COLUMN articles.title IS 'Headline as extracted from the page (feed title as fallback).';
COMMENT ON COLUMN articles.text IS 'Main text as extracted (trafilatura), boilerplate removed, paragraphs separated by newlines.';
COMMENT ON COLUMN articles.description IS 'Summary from the page metadata or the feed.';
COMMENT ON COLUMN articles.author IS 'Author from the page metadata, if any.';
COMMENT ON COLUMN articles.site_name IS 'Site name from the page metadata, if any.';
COMMENT ON COLUMN articles.language IS 'ISO 639-1 code: the page''s declared language, else the source''s.';
COMMENT ON COLUMN articles.published_at IS 'Publication time (UTC): the feed''s date, else the page''s.';
COMMENT ON COLUMN articles.feed_published_at IS 'Publication (or update) time given by the feed entry (UTC).';
COMMENT ON COLUMN articles.page_published_at IS 'Publication date found in the page itself (UTC midnight when only a date).';
COMMENT ON COLUMN articles.content_hash IS 'SHA-256 of the normalised title and text; a new hash is a new version.';
COMMENT ON COLUMN articles.first_seen_at IS 'When socwatch first stored this article (UTC).';
COMMENT ON COLUMN articles.last_seen_at IS 'When a run last fetched this article (UTC).';
COMMENT ON COLUMN articles.last_run_id IS 'The run (runs.run_id) that last fetched this article.';

CREATE TABLE article_versions (
    article_id      VARCHAR NOT NULL,
    content_hash    VARCHAR NOT NULL,
    title           VARCHAR NOT NULL,
    seen_at         TIMESTAMPTZ NOT NULL,
    run_id          VARCHAR NOT NULL,
    PRIMARY KEY (article_id, content_hash)
);
COMMENT ON TABLE article_versions IS 'One row per distinct content of an article: the first version and every change of title or text.';
COMMENT ON COLUMN article_versions.article_id IS 'The article (articles.article_id).';
COMMENT ON COLUMN article_versions.content_hash IS 'SHA-256 of the normalised title and text of this version.';
COMMENT ON COLUMN article_versions.title IS 'The title of this version.';
COMMENT ON COLUMN article_versions.seen_at IS 'When this version was first seen (UTC).';
COMMENT ON COLUMN article_versions.run_id IS 'The run that first saw this version.';

CREATE TABLE article_themes (
    article_id          VARCHAR NOT NULL,
    theme               VARCHAR NOT NULL,
    score               DOUBLE NOT NULL,
    evidence            STRUCT(term VARCHAR, count INTEGER)[] NOT NULL,
    taxonomy_version    VARCHAR NOT NULL,
    PRIMARY KEY (article_id, theme)
);
COMMENT ON TABLE article_themes IS 'One row per article and SOC theme it is tagged with (only themes at or above their threshold).';
COMMENT ON COLUMN article_themes.article_id IS 'The article (articles.article_id).';
COMMENT ON COLUMN article_themes.theme IS 'Theme slug from the taxonomy (transforms/taxonomy.toml).';
COMMENT ON COLUMN article_themes.score IS 'Weighted evidence score (title and lead weigh more; repeats decay; negative terms subtract).';
COMMENT ON COLUMN article_themes.evidence IS 'The taxonomy terms that matched, with how often.';
COMMENT ON COLUMN article_themes.taxonomy_version IS 'Version of the vocabulary that produced the tag.';

CREATE TABLE article_countries (
    article_id  VARCHAR NOT NULL,
    country     VARCHAR NOT NULL,
    PRIMARY KEY (article_id, country)
);
COMMENT ON TABLE article_countries IS 'One row per article and country acting in it (not merely the origin of goods or a suspect''s nationality).';
COMMENT ON COLUMN article_countries.article_id IS 'The article (articles.article_id).';
COMMENT ON COLUMN article_countries.country IS 'ISO 3166-1 alpha-2 code, or EU for the Union and its agencies.';

CREATE TABLE article_dyads (
    article_id  VARCHAR NOT NULL,
    country_a   VARCHAR NOT NULL,
    country_b   VARCHAR NOT NULL,
    PRIMARY KEY (article_id, country_a, country_b),
    CHECK (country_a < country_b)
);
COMMENT ON TABLE article_dyads IS 'One row per article and pair of partner countries of a bilateral announcement.';
COMMENT ON COLUMN article_dyads.article_id IS 'The article (articles.article_id).';
COMMENT ON COLUMN article_dyads.country_a IS 'First partner (ISO alpha-2), alphabetically before country_b.';
COMMENT ON COLUMN article_dyads.country_b IS 'Second partner (ISO alpha-2).';

CREATE TABLE article_labels (
    article_id          VARCHAR PRIMARY KEY,
    bilateral           BOOLEAN NOT NULL,
    announcement_type   VARCHAR NOT NULL,
    taxonomy_version    VARCHAR NOT NULL,
    classified_at       TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE article_labels IS 'One row per article: the article-level labels of the classifier.';
COMMENT ON COLUMN article_labels.article_id IS 'The article (articles.article_id).';
COMMENT ON COLUMN article_labels.bilateral IS 'True when the article announces a partnership between two or a few named countries.';
COMMENT ON COLUMN article_labels.announcement_type IS 'dialogue_meeting, agreement, operation_result, policy_legislation, funding, statement or other.';
COMMENT ON COLUMN article_labels.taxonomy_version IS 'Version of the vocabulary that produced the labels.';
COMMENT ON COLUMN article_labels.classified_at IS 'When the article was last classified (UTC).';

CREATE TABLE runs (
    run_id              VARCHAR PRIMARY KEY,
    flow_run_id         VARCHAR,
    command             VARCHAR NOT NULL,
    started_at          TIMESTAMPTZ NOT NULL,
    finished_at         TIMESTAMPTZ,
    status              VARCHAR NOT NULL,
    sources_file        VARCHAR,
    replay              VARCHAR[],
    record              VARCHAR,
    n_sources           INTEGER NOT NULL DEFAULT 0,
    n_discovered        INTEGER NOT NULL DEFAULT 0,
    n_fetched           INTEGER NOT NULL DEFAULT 0,
    n_new               INTEGER NOT NULL DEFAULT 0,
    n_updated           INTEGER NOT NULL DEFAULT 0,
    n_unchanged         INTEGER NOT NULL DEFAULT 0,
    n_failed            INTEGER NOT NULL DEFAULT 0,
    n_quarantined       INTEGER NOT NULL DEFAULT 0,
    taxonomy_version    VARCHAR,
    error               VARCHAR
);
COMMENT ON TABLE runs IS 'One row per run of a flow (the ledger): when, how it ended, what it counted.';
COMMENT ON COLUMN runs.run_id IS 'Run id (UUID), also in crawl_events and quarantine.';
COMMENT ON COLUMN runs.flow_run_id IS 'The Prefect flow run id, to find the run in the Prefect UI.';
COMMENT ON COLUMN runs.command IS 'What ran: ingest or reclassify.';
COMMENT ON COLUMN runs.started_at IS 'Start time (UTC).';
COMMENT ON COLUMN runs.finished_at IS 'End time (UTC); NULL while running or when the run was killed.';
COMMENT ON COLUMN runs.status IS 'running, completed, completed_with_errors, failed, or abandoned (the process died mid-run).';
COMMENT ON COLUMN runs.sources_file IS 'The sources file the run read.';
COMMENT ON COLUMN runs.replay IS 'WARC archives the run replayed instead of fetching (empty for live runs).';
COMMENT ON COLUMN runs.record IS 'WARC archive the run recorded its responses to, if any.';
COMMENT ON COLUMN runs.n_sources IS 'Number of sources read.';
COMMENT ON COLUMN runs.n_discovered IS 'Distinct article URLs discovered in feeds.';
COMMENT ON COLUMN runs.n_fetched IS 'Article pages fetched with a usable answer.';
COMMENT ON COLUMN runs.n_new IS 'Articles stored for the first time.';
COMMENT ON COLUMN runs.n_updated IS 'Articles whose content changed (a new version).';
COMMENT ON COLUMN runs.n_unchanged IS 'Articles fetched again with the same content.';
COMMENT ON COLUMN runs.n_failed IS 'URLs (feeds and pages) that ended with a failure status.';
COMMENT ON COLUMN runs.n_quarantined IS 'Records set aside in quarantine.';
COMMENT ON COLUMN runs.taxonomy_version IS 'Vocabulary version the run classified with.';
COMMENT ON COLUMN runs.error IS 'Why a failed run failed.';

CREATE TABLE crawl_events (
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
    PRIMARY KEY (run_id, url)
);
COMMENT ON TABLE crawl_events IS 'One row per URL per run with its one terminal status.';
COMMENT ON COLUMN crawl_events.run_id IS 'The run (runs.run_id).';
COMMENT ON COLUMN crawl_events.source IS 'The source the URL belongs to.';
COMMENT ON COLUMN crawl_events.url IS 'Canonical URL.';
COMMENT ON COLUMN crawl_events.url_kind IS 'feed (a discovery URL) or page (an article).';
COMMENT ON COLUMN crawl_events.status IS 'Terminal status: fetched, not_modified, robots_disallowed, http_error, timeout, connection_error, too_large, not_html, blocked_host, too_many_redirects, duplicate, parse_error, unsafe_xml, no_content, extract_error, quarantined.';
COMMENT ON COLUMN crawl_events.http_status IS 'HTTP status code of the last answer, if any.';
COMMENT ON COLUMN crawl_events.error IS 'Short description of what went wrong (or a warning), else NULL.';
COMMENT ON COLUMN crawl_events.final_url IS 'The URL that answered, after redirects.';
COMMENT ON COLUMN crawl_events.content_type IS 'Content-Type of the answer.';
COMMENT ON COLUMN crawl_events.bytes IS 'Body size in bytes (decoded).';
COMMENT ON COLUMN crawl_events.elapsed_ms IS 'Time the fetch took, in milliseconds.';
COMMENT ON COLUMN crawl_events.article_id IS 'The article stored from this URL, if any.';
COMMENT ON COLUMN crawl_events.change IS 'For stored articles: new, updated or unchanged.';
COMMENT ON COLUMN crawl_events.event_at IS 'When the URL reached its terminal status (UTC).';

CREATE SEQUENCE quarantine_seq;
CREATE TABLE quarantine (
    quarantine_id   BIGINT PRIMARY KEY DEFAULT nextval('quarantine_seq'),
    run_id          VARCHAR NOT NULL,
    table_name      VARCHAR NOT NULL,
    record_key      VARCHAR,
    "check"         VARCHAR NOT NULL,
    reason          VARCHAR NOT NULL,
    record          JSON NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    resolved_at     TIMESTAMPTZ
);
COMMENT ON TABLE quarantine IS 'One row per record that failed validation and was set aside instead of loaded.';
COMMENT ON COLUMN quarantine.quarantine_id IS 'Sequence number.';
COMMENT ON COLUMN quarantine.run_id IS 'The run that rejected the record.';
COMMENT ON COLUMN quarantine.table_name IS 'The table the record was meant for.';
COMMENT ON COLUMN quarantine.record_key IS 'The record''s key in that table (e.g. the article_id), to follow it up.';
COMMENT ON COLUMN quarantine."check" IS 'The pandera check that failed (or parent_rejected for children of a rejected record).';
COMMENT ON COLUMN quarantine.reason IS 'Human-readable reason: column, check and failing value.';
COMMENT ON COLUMN quarantine.record IS 'The whole rejected record as JSON, so nothing is lost.';
COMMENT ON COLUMN quarantine.created_at IS 'When the record was set aside (UTC).';
COMMENT ON COLUMN quarantine.resolved_at IS 'When a later run loaded the same record key (UTC), else NULL.';

CREATE VIEW announcements AS
SELECT
    a.article_id,
    a.url,
    a.title,
    a.published_at,
    a.source,
    a.publisher,
    a.language,
    coalesce((SELECT list(t.theme ORDER BY t.score DESC, t.theme) FROM article_themes t WHERE t.article_id = a.article_id), []::VARCHAR[]) AS themes,
    coalesce((SELECT list(c.country ORDER BY c.country) FROM article_countries c WHERE c.article_id = a.article_id), []::VARCHAR[]) AS countries,
    coalesce(l.bilateral, false) AS bilateral,
    coalesce((SELECT list(d.country_a || '-' || d.country_b ORDER BY d.country_a, d.country_b) FROM article_dyads d WHERE d.article_id = a.article_id), []::VARCHAR[]) AS partners,
    coalesce(l.announcement_type, 'other') AS type,
    l.taxonomy_version,
    a.first_seen_at,
    a.last_seen_at
FROM articles a
LEFT JOIN article_labels l USING (article_id);
COMMENT ON VIEW announcements IS 'One row per article with its tags in list columns: the view analysts and BI tools start from.';
COMMENT ON COLUMN announcements.article_id IS 'The article (articles.article_id).';
COMMENT ON COLUMN announcements.url IS 'Canonical URL.';
COMMENT ON COLUMN announcements.title IS 'Headline.';
COMMENT ON COLUMN announcements.published_at IS 'Publication time (UTC).';
COMMENT ON COLUMN announcements.source IS 'Source name.';
COMMENT ON COLUMN announcements.publisher IS 'Publisher.';
COMMENT ON COLUMN announcements.language IS 'ISO 639-1 language code.';
COMMENT ON COLUMN announcements.themes IS 'SOC theme slugs, strongest first.';
COMMENT ON COLUMN announcements.countries IS 'Countries acting (ISO alpha-2, EU for the Union).';
COMMENT ON COLUMN announcements.bilateral IS 'True for a partnership between two or a few named countries.';
COMMENT ON COLUMN announcements.partners IS 'Partner pairs as ''A-B'' (alphabetical), for bilateral announcements.';
COMMENT ON COLUMN announcements.type IS 'Announcement type.';
COMMENT ON COLUMN announcements.taxonomy_version IS 'Vocabulary version of the tags.';
COMMENT ON COLUMN announcements.first_seen_at IS 'When socwatch first stored the article (UTC).';
COMMENT ON COLUMN announcements.last_seen_at IS 'When a run last fetched the article (UTC).';
