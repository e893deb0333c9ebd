-- Links and redirects that are not http(s) get their own status, one event per link.
COMMENT ON COLUMN crawl_events.status IS 'Terminal status: fetched, not_modified, robots_disallowed, http_error, timeout, connection_error, too_large, not_html, blocked_host (outside the allowed hosts), blocked_scheme (a link or redirect that is not http(s): file:, javascript:, mailto:, data:), too_many_redirects, duplicate, parse_error, unsafe_xml, no_content (no article: no text, or below the floor of an article, with the reason in error), extract_error, quarantined, internal_error (an unexpected exception in socwatch itself: a bug to report, with where it was raised in error).';

-- A date no source gives plausibly (a feed date years ahead, one before 1990) is dropped, not
-- the article: articles.published_at is then NULL, and readers see when we first stored it.
COMMENT ON COLUMN articles.published_at IS 'Publication time (UTC): the first plausible of the feed''s date and the page''s (or the API''s and the feed''s); NULL where none is (dates in the future beyond a day, or before 1990, are passed over with a note in crawl_events.error).';
CREATE OR REPLACE VIEW announcements AS
SELECT
    a.article_id,
    a.url,
    a.title,
    coalesce(a.published_at, a.first_seen_at) AS published_at,
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
COMMENT ON COLUMN announcements.published_at IS 'Publication time (UTC): the article''s date (articles.published_at), else when socwatch first stored it (first_seen_at).';
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
