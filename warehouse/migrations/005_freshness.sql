-- Freshness: how often a source is expected to publish, and source_health flags a source that
-- keeps failing or has gone quiet for longer than that allows.

ALTER TABLE sources ADD COLUMN expected_every_h DOUBLE;
COMMENT ON COLUMN sources.expected_every_h IS 'How often the source is expected to publish, in hours, as the sources file sets it (NULL: learnt from its history).';

DROP VIEW source_health;
CREATE VIEW source_health AS
WITH per_run AS (
    SELECT e.source, r.started_at, bool_or(e.status IN ('fetched', 'not_modified')) AS ok
    FROM crawl_events e JOIN runs r USING (run_id)
    WHERE e.url_kind = 'feed'
    GROUP BY e.source, e.run_id, r.started_at
), last AS (
    SELECT source, max(started_at) AS last_checked_at, max(started_at) FILTER (WHERE ok) AS last_success_at
    FROM per_run GROUP BY source
), streak AS (
    SELECT p.source, count(*) AS failure_streak
    FROM per_run p JOIN last l USING (source)
    WHERE NOT p.ok AND (l.last_success_at IS NULL OR p.started_at > l.last_success_at)
    GROUP BY p.source
), recent AS (
    -- The 30 newest distinct publication times of a source. Only real publication times:
    -- first_seen_at says when a run stored an article, and a backlog is stored all at once.
    SELECT source, t FROM (
        SELECT source, t, row_number() OVER (PARTITION BY source ORDER BY t DESC) AS n
        FROM (SELECT DISTINCT source, published_at AS t FROM articles WHERE published_at IS NOT NULL))
    WHERE n <= 30
), gaps AS (
    SELECT source, epoch(t - lag(t) OVER (PARTITION BY source ORDER BY t)) / 3600.0 AS gap_h FROM recent
), learnt AS (
    -- The median gap between publications (an hour at least: items dated by the day only
    -- give gaps of 0 or 24 h); three gaps at least, else nothing is learnt.
    SELECT source, greatest(median(gap_h), 1.0) AS cadence_h FROM gaps WHERE gap_h IS NOT NULL GROUP BY source HAVING count(*) >= 3
), stats AS (
    SELECT source, count(*) AS articles, max(first_seen_at) AS last_new_article_at,
           max(coalesce(published_at, first_seen_at)) AS last_published_at
    FROM articles GROUP BY source
), measured AS (
    SELECT
        s.source, s.kind, s.url, s.country,
        l.last_checked_at, l.last_success_at,
        st.last_new_article_at, st.last_published_at,
        coalesce(k.failure_streak, 0) AS failure_streak,
        coalesce(st.articles, 0) AS articles,
        coalesce(s.expected_every_h, g.cadence_h) AS cadence_h,
        CASE WHEN s.expected_every_h IS NOT NULL THEN 'sources file' WHEN g.cadence_h IS NOT NULL THEN 'history' END AS cadence_from,
        epoch(now() - st.last_published_at) / 3600.0 AS silent_for_h
    FROM sources s
    LEFT JOIN last l USING (source)
    LEFT JOIN streak k USING (source)
    LEFT JOIN stats st USING (source)
    LEFT JOIN learnt g USING (source)
)
SELECT
    *,
    greatest(3 * cadence_h, 24) AS silence_allowed_h,
    CASE
        WHEN failure_streak >= 3 THEN 'failing'
        WHEN cadence_h IS NOT NULL AND silent_for_h > greatest(3 * cadence_h, 24) THEN 'silent'
    END AS alert,
    CASE
        WHEN failure_streak >= 3 THEN format('its feed failed in the last {} runs', failure_streak)
        WHEN cadence_h IS NOT NULL AND silent_for_h > greatest(3 * cadence_h, 24) THEN
            format('nothing published for {} h; expected every {} h ({}), so {} h at most',
                   round(silent_for_h)::BIGINT, round(cadence_h, 1), cadence_from, round(greatest(3 * cadence_h, 24))::BIGINT)
    END AS alert_reason
FROM measured;
COMMENT ON VIEW source_health IS 'One row per source: when it was last read, last read successfully, last gave a new article, how often it publishes, and an alert when its feed failed 3 runs in a row or it has been silent for more than 3 times its cadence (24 h at least).';
COMMENT ON COLUMN source_health.source IS 'Source name.';
COMMENT ON COLUMN source_health.kind IS 'Source kind.';
COMMENT ON COLUMN source_health.url IS 'Discovery URL.';
COMMENT ON COLUMN source_health.country IS 'Publisher country (ISO alpha-2, EU).';
COMMENT ON COLUMN source_health.last_checked_at IS 'Start of the last run that read the source (UTC).';
COMMENT ON COLUMN source_health.last_success_at IS 'Start of the last run in which its feed or list answered and parsed (UTC).';
COMMENT ON COLUMN source_health.last_new_article_at IS 'When the newest of its articles was first stored (UTC).';
COMMENT ON COLUMN source_health.last_published_at IS 'Publication time of its newest article (first seen where no date is known; UTC).';
COMMENT ON COLUMN source_health.failure_streak IS 'Runs in a row, up to the last, in which its feed or list failed (0 when the last run succeeded).';
COMMENT ON COLUMN source_health.articles IS 'Articles stored from the source.';
COMMENT ON COLUMN source_health.cadence_h IS 'Expected hours between publications: from the sources file (expected_every_h), else the median gap (1 h at least) between its 30 newest distinct publication times (NULL with fewer than 4 dated articles).';
COMMENT ON COLUMN source_health.cadence_from IS 'Where cadence_h comes from: sources file or history.';
COMMENT ON COLUMN source_health.silent_for_h IS 'Hours since its newest publication.';
COMMENT ON COLUMN source_health.silence_allowed_h IS 'Hours of silence tolerated before it is flagged: 3 times cadence_h, 24 at least.';
COMMENT ON COLUMN source_health.alert IS 'failing (feed failed 3 runs in a row), silent (quiet for longer than silence_allowed_h), or NULL when all is well.';
COMMENT ON COLUMN source_health.alert_reason IS 'Why the source is flagged, in words.';
