-- 016: runs fold their articles into the search index (warehouse/search.py fold_tail), so the
-- index's state says when it was last brought up to date, not only when it was built.
COMMENT ON TABLE search_index_state IS 'One row per full-text index: when it was last brought up to date (built, or a run''s articles folded in) and how many articles it then covered.';
COMMENT ON COLUMN search_index_state.built_at IS 'When the index was last built or had a run''s articles folded in (UTC); articles stored after that (by a run killed before its fold) are searched by a scan until the next run folds them in.';
COMMENT ON COLUMN search_index_state.documents IS 'Articles stored when the index was last brought up to date.';
