-- Events: announcements that report the same real-world occurrence, linked across sources and
-- languages (warehouse/events.py). Links are kept with their evidence; an event is a connected
-- group of linked articles (a lone article is an event of its own), named by its first report.
CREATE TABLE event_profiles (
    article_id   VARCHAR PRIMARY KEY,
    content_hash VARCHAR NOT NULL,
    simhash      UBIGINT NOT NULL,
    published_at TIMESTAMPTZ NOT NULL,
    source       VARCHAR NOT NULL,
    language     VARCHAR,
    title_words  VARCHAR[] NOT NULL,
    countries    VARCHAR[] NOT NULL,
    themes       VARCHAR[] NOT NULL,
    dyads        VARCHAR[] NOT NULL,
    type         VARCHAR NOT NULL,
    operations   VARCHAR[] NOT NULL,
    agencies     VARCHAR[] NOT NULL,
    facts        VARCHAR[] NOT NULL
);
COMMENT ON TABLE event_profiles IS 'One row per article: what event linking compares (warehouse/events.py), kept as its tags are written, so that a new article''s candidates are read from one table by date.';
COMMENT ON COLUMN event_profiles.article_id IS 'The article (articles.article_id).';
COMMENT ON COLUMN event_profiles.content_hash IS 'The content hash of the text the SimHash was made of.';
COMMENT ON COLUMN event_profiles.simhash IS 'SimHash of the text (trafilatura''s): texts that differ in few bits are near-duplicates.';
COMMENT ON COLUMN event_profiles.published_at IS 'Publication time, else first seen (UTC), as in announcements.';
COMMENT ON COLUMN event_profiles.source IS 'Source name.';
COMMENT ON COLUMN event_profiles.language IS 'ISO 639-1 language code.';
COMMENT ON COLUMN event_profiles.title_words IS 'Words of the headline (of the original, for a translation), folded, without stop words.';
COMMENT ON COLUMN event_profiles.countries IS 'Countries acting.';
COMMENT ON COLUMN event_profiles.themes IS 'Themes.';
COMMENT ON COLUMN event_profiles.dyads IS 'Partner pairs (''A-B'').';
COMMENT ON COLUMN event_profiles.type IS 'Announcement type.';
COMMENT ON COLUMN event_profiles.operations IS 'Named operations, folded.';
COMMENT ON COLUMN event_profiles.agencies IS 'Agencies acting.';
COMMENT ON COLUMN event_profiles.facts IS 'Facts that tell two releases apart: "cocaine 3200.0" (kg), "EUR 1500000.0", "arrests 12.0".';

CREATE TABLE event_links (
    article_a VARCHAR NOT NULL,
    article_b VARCHAR NOT NULL,
    score     DOUBLE NOT NULL,
    evidence  VARCHAR[] NOT NULL,
    PRIMARY KEY (article_a, article_b)
);
COMMENT ON TABLE event_links IS 'One row per pair of articles judged to report the same event, with the evidence (article_a sorts before article_b).';
COMMENT ON COLUMN event_links.article_a IS 'One article (articles.article_id), the smaller id.';
COMMENT ON COLUMN event_links.article_b IS 'The other article.';
COMMENT ON COLUMN event_links.score IS 'Sum of the evidence weights (warehouse/events.py); a pair links at LINK_SCORE or more with an anchor.';
COMMENT ON COLUMN event_links.evidence IS 'What linked them: "operation: Venetic", "fact: cocaine 3200 kg", "agencies: FIOD", "dyad: GB-NL", "themes", "near-duplicate text", "title".';

CREATE TABLE event_articles (
    article_id VARCHAR PRIMARY KEY,
    event_id   VARCHAR NOT NULL,
    role       VARCHAR NOT NULL,
    linked_to  VARCHAR,
    evidence   VARCHAR[] NOT NULL
);
COMMENT ON TABLE event_articles IS 'One row per article: its event and its role in it.';
COMMENT ON COLUMN event_articles.article_id IS 'The article (articles.article_id).';
COMMENT ON COLUMN event_articles.event_id IS 'The event: ev- and a hash of its first report''s article id (stable while that article stays first).';
COMMENT ON COLUMN event_articles.role IS 'first_report (the earliest), syndicated_copy (a near-duplicate of an earlier text), partner_release (another publisher''s release), follow_up (a later release of the first report''s publisher).';
COMMENT ON COLUMN event_articles.linked_to IS 'The article of the event it is most strongly linked to (NULL for a lone article).';
COMMENT ON COLUMN event_articles.evidence IS 'The evidence of that link (event_links.evidence).';

CREATE VIEW events AS
SELECT e.event_id,
       min(n.published_at) AS first_published_at,
       arg_min(n.title, n.published_at) AS title,
       count(*) AS articles,
       list(DISTINCT n.language ORDER BY n.language) AS languages,
       list(DISTINCT n.publisher ORDER BY n.publisher) FILTER (WHERE n.publisher IS NOT NULL) AS publishers,
       list(DISTINCT n.source ORDER BY n.source) AS sources,
       list_sort(list_distinct(flatten(list(n.countries)))) AS countries,
       list_sort(list_distinct(flatten(list(n.partners)))) AS partners,
       list_sort(list_distinct(flatten(list(n.themes)))) AS themes,
       bool_or(n.bilateral) AS bilateral,
       arg_min(n.type, n.published_at) AS type,
       list(e.article_id ORDER BY n.published_at, e.article_id) AS article_ids
FROM event_articles e JOIN announcements n USING (article_id)
GROUP BY e.event_id;
COMMENT ON VIEW events IS 'One row per event: the union of its articles'' countries, partner pairs and themes, its earliest date, languages and publishers.';
COMMENT ON COLUMN events.event_id IS 'The event (event_articles.event_id).';
COMMENT ON COLUMN events.first_published_at IS 'Publication time of its first report (UTC).';
COMMENT ON COLUMN events.title IS 'Headline of its first report.';
COMMENT ON COLUMN events.articles IS 'Announcements of the event.';
COMMENT ON COLUMN events.languages IS 'Their languages.';
COMMENT ON COLUMN events.publishers IS 'Their publishers.';
COMMENT ON COLUMN events.sources IS 'Their sources.';
COMMENT ON COLUMN events.countries IS 'Countries acting in any of them.';
COMMENT ON COLUMN events.partners IS 'Partner pairs of any of them (''A-B'').';
COMMENT ON COLUMN events.themes IS 'Themes of any of them.';
COMMENT ON COLUMN events.bilateral IS 'True when any of them is bilateral.';
COMMENT ON COLUMN events.type IS 'Announcement type of the first report.';
COMMENT ON COLUMN events.article_ids IS 'Its articles, earliest first.';
