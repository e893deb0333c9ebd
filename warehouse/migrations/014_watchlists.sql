-- Watchlists: saved filters over announcements whose new matches are recorded in the load's
-- transaction (watch_hits) and delivered after each run (warehouse/watch.py, flows/watch.py).
CREATE TABLE watchlists (
    name          VARCHAR PRIMARY KEY,
    themes        VARCHAR[] NOT NULL,
    countries     VARCHAR[] NOT NULL,
    partners      VARCHAR[] NOT NULL,
    types         VARCHAR[] NOT NULL,
    languages     VARCHAR[] NOT NULL,
    sources       VARCHAR[] NOT NULL,
    bilateral     BOOLEAN NOT NULL,
    query         VARCHAR,
    query_terms   VARCHAR[] NOT NULL,
    feed          BOOLEAN NOT NULL,
    webhook_url   VARCHAR,
    secret_env    VARCHAR,
    origin        VARCHAR NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);
COMMENT ON TABLE watchlists IS 'One row per watchlist: a saved filter over announcements (each list: any of its values; all given filters together) and where its new matches go.';
COMMENT ON COLUMN watchlists.name IS 'Its name (lower-case letters, digits and dashes).';
COMMENT ON COLUMN watchlists.themes IS 'Theme slugs: an article matches with any of them (empty: any theme or none).';
COMMENT ON COLUMN watchlists.countries IS 'Countries acting (ISO alpha-2, or EU): any of them.';
COMMENT ON COLUMN watchlists.partners IS 'Partner pairs (''GB-NL''): any of them.';
COMMENT ON COLUMN watchlists.types IS 'Announcement types: any of them.';
COMMENT ON COLUMN watchlists.languages IS 'Languages (ISO 639-1): any of them.';
COMMENT ON COLUMN watchlists.sources IS 'Source names: any of them.';
COMMENT ON COLUMN watchlists.bilateral IS 'Whether it wants bilateral announcements only.';
COMMENT ON COLUMN watchlists.query IS 'Full-text query as given: every word of it (stop words too) in the title or text, case and accents ignored, English stems.';
COMMENT ON COLUMN watchlists.query_terms IS 'The query''s word stems, as matched.';
COMMENT ON COLUMN watchlists.feed IS 'Whether an Atom feed file is written for it after each run.';
COMMENT ON COLUMN watchlists.webhook_url IS 'Where its new hits are POSTed after each run (NULL: no webhook).';
COMMENT ON COLUMN watchlists.secret_env IS 'Name of the environment variable holding the webhook''s signing secret (the secret itself is never stored).';
COMMENT ON COLUMN watchlists.origin IS 'cli (socwatch watch add), or the path of the watchlists file that declares it.';
COMMENT ON COLUMN watchlists.created_at IS 'When it was made (UTC); articles matching before are its baseline, not hits to deliver.';

CREATE TABLE watch_hits (
    watchlist   VARCHAR NOT NULL,
    article_id  VARCHAR NOT NULL,
    run_id      VARCHAR,
    found_at    TIMESTAMPTZ NOT NULL,
    reasons     VARCHAR[] NOT NULL,
    PRIMARY KEY (watchlist, article_id)
);
COMMENT ON TABLE watch_hits IS 'One row per watchlist and article that matched it: recorded once, in the transaction of the load or re-tagging that made it match.';
COMMENT ON COLUMN watch_hits.watchlist IS 'The watchlist (watchlists.name).';
COMMENT ON COLUMN watch_hits.article_id IS 'The article (articles.article_id).';
COMMENT ON COLUMN watch_hits.run_id IS 'The run that found it (runs.run_id); NULL for the baseline recorded when the watchlist was made.';
COMMENT ON COLUMN watch_hits.found_at IS 'When it was recorded (UTC).';
COMMENT ON COLUMN watch_hits.reasons IS 'Why it matched: "theme: drugs", "partners: GB-NL", "query: cocaine", ...';

CREATE TABLE watch_deliveries (
    delivery_id   VARCHAR PRIMARY KEY,
    watchlist     VARCHAR NOT NULL,
    run_id        VARCHAR NOT NULL,
    channel       VARCHAR NOT NULL,
    hits          INTEGER NOT NULL,
    status        VARCHAR NOT NULL,
    attempts      INTEGER NOT NULL,
    http_status   INTEGER,
    error         VARCHAR,
    first_attempt_at TIMESTAMPTZ,
    last_attempt_at  TIMESTAMPTZ
);
COMMENT ON TABLE watch_deliveries IS 'One row per watchlist, run and channel: the delivery of that run''s new hits, retried at later runs until delivered.';
COMMENT ON COLUMN watch_deliveries.delivery_id IS 'Idempotency key: the same for every attempt (sent as Idempotency-Key and X-Socwatch-Delivery).';
COMMENT ON COLUMN watch_deliveries.watchlist IS 'The watchlist (watchlists.name).';
COMMENT ON COLUMN watch_deliveries.run_id IS 'The run whose hits it carries (runs.run_id).';
COMMENT ON COLUMN watch_deliveries.channel IS 'webhook or prefect_event (a prefect_event is delivered when Prefect''s events client has taken it).';
COMMENT ON COLUMN watch_deliveries.hits IS 'Hits it carries.';
COMMENT ON COLUMN watch_deliveries.status IS 'pending, delivered or failed (failed ones are retried at the next run).';
COMMENT ON COLUMN watch_deliveries.attempts IS 'Attempts so far.';
COMMENT ON COLUMN watch_deliveries.http_status IS 'HTTP status of the last webhook attempt (NULL when none came back).';
COMMENT ON COLUMN watch_deliveries.error IS 'Why the last attempt failed.';
COMMENT ON COLUMN watch_deliveries.first_attempt_at IS 'First attempt (UTC).';
COMMENT ON COLUMN watch_deliveries.last_attempt_at IS 'Last attempt (UTC).';
