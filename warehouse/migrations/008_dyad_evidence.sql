-- The evidence of each partnership: the relation that links the pair, and the sentence it is in.
ALTER TABLE article_dyads ADD COLUMN relation VARCHAR;
ALTER TABLE article_dyads ADD COLUMN evidence_in VARCHAR;
ALTER TABLE article_dyads ADD COLUMN evidence_start INTEGER;
ALTER TABLE article_dyads ADD COLUMN evidence_end INTEGER;
COMMENT ON COLUMN article_dyads.relation IS 'What links the pair: a cooperation cue of cues.toml (judicial, operational or diplomatic: "extradit*", "samen met", "joint statement"), or "action abroad: <word>" for an arrest or extradition in the partner country. NULL for rows tagged before migration 008 (reclassify fills it).';
COMMENT ON COLUMN article_dyads.evidence_in IS 'Where the linking sentence is: title or text.';
COMMENT ON COLUMN article_dyads.evidence_start IS 'Character offset in the title or text (articles.title, articles.text) where the linking sentence starts.';
COMMENT ON COLUMN article_dyads.evidence_end IS 'Character offset where the linking sentence ends (exclusive): substr(text, evidence_start + 1, evidence_end - evidence_start) is the sentence.';
