-- 003: when the full-text index was last built, so a run can tell that it is stale.

CREATE TABLE search_index_state (
    index_name  VARCHAR PRIMARY KEY,
    built_at    TIMESTAMPTZ NOT NULL,
    documents   BIGINT NOT NULL
);
COMMENT ON TABLE search_index_state IS 'One row per full-text index: when it was last built and over how many documents.';
COMMENT ON COLUMN search_index_state.index_name IS 'The index (fts_main_articles: title and text of articles).';
COMMENT ON COLUMN search_index_state.built_at IS 'When the index was last built (UTC); content stored after that is not searchable until the next build.';
COMMENT ON COLUMN search_index_state.documents IS 'Articles in the index when it was built.';
