-- 004: views for BI tools, with stable names and a documented grain. Months are UTC months.

CREATE VIEW theme_monthly AS
SELECT
    t.theme,
    date_trunc('month', timezone('UTC', coalesce(a.published_at, a.first_seen_at)))::DATE AS month,
    coalesce(c.country, '--') AS country,
    count(DISTINCT a.article_id) AS articles
FROM article_themes t
JOIN articles a USING (article_id)
LEFT JOIN article_countries c USING (article_id)
GROUP BY ALL;
COMMENT ON VIEW theme_monthly IS 'One row per theme, month and acting country: how many articles. An article with several countries counts once for each.';
COMMENT ON COLUMN theme_monthly.theme IS 'Theme slug.';
COMMENT ON COLUMN theme_monthly.month IS 'First day of the (UTC) month of publication (first seen where no date is known).';
COMMENT ON COLUMN theme_monthly.country IS 'Acting country (ISO alpha-2, EU), or -- for articles with none.';
COMMENT ON COLUMN theme_monthly.articles IS 'Number of articles.';

CREATE VIEW partnerships AS
SELECT
    d.country_a,
    d.country_b,
    date_trunc('month', timezone('UTC', coalesce(a.published_at, a.first_seen_at)))::DATE AS month,
    count(DISTINCT a.article_id) AS articles,
    coalesce(list(DISTINCT t.theme ORDER BY t.theme) FILTER (WHERE t.theme IS NOT NULL), []::VARCHAR[]) AS themes,
    max(coalesce(a.published_at, a.first_seen_at)) AS latest_at
FROM article_dyads d
JOIN articles a USING (article_id)
LEFT JOIN article_themes t USING (article_id)
GROUP BY ALL;
COMMENT ON VIEW partnerships IS 'One row per partner pair and month: bilateral announcements and the themes they were about.';
COMMENT ON COLUMN partnerships.country_a IS 'First partner (ISO alpha-2), alphabetically before country_b.';
COMMENT ON COLUMN partnerships.country_b IS 'Second partner (ISO alpha-2).';
COMMENT ON COLUMN partnerships.month IS 'First day of the (UTC) month of publication.';
COMMENT ON COLUMN partnerships.articles IS 'Number of bilateral announcements of the pair in the month.';
COMMENT ON COLUMN partnerships.themes IS 'Themes of those announcements.';
COMMENT ON COLUMN partnerships.latest_at IS 'Publication time of the latest of them (UTC).';

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
)
SELECT
    s.source,
    s.kind,
    s.url,
    s.country,
    l.last_checked_at,
    l.last_success_at,
    (SELECT max(a.first_seen_at) FROM articles a WHERE a.source = s.source) AS last_new_article_at,
    coalesce(k.failure_streak, 0) AS failure_streak,
    (SELECT count(*) FROM articles a WHERE a.source = s.source) AS articles
FROM sources s
LEFT JOIN last l USING (source)
LEFT JOIN streak k USING (source);
COMMENT ON VIEW source_health IS 'One row per source: when it was last read, last read successfully, last gave a new article, and how many runs in a row it has failed.';
COMMENT ON COLUMN source_health.source IS 'Source name.';
COMMENT ON COLUMN source_health.kind IS 'Source kind.';
COMMENT ON COLUMN source_health.url IS 'Discovery URL.';
COMMENT ON COLUMN source_health.country IS 'Publisher country (ISO alpha-2, EU).';
COMMENT ON COLUMN source_health.last_checked_at IS 'Start of the last run that read the source (UTC).';
COMMENT ON COLUMN source_health.last_success_at IS 'Start of the last run in which its feed or list answered and parsed (UTC).';
COMMENT ON COLUMN source_health.last_new_article_at IS 'When the newest of its articles was first stored (UTC).';
COMMENT ON COLUMN source_health.failure_streak IS 'Runs in a row, up to the last, in which its feed or list failed (0 when the last run succeeded).';
COMMENT ON COLUMN source_health.articles IS 'Articles stored from the source.';
