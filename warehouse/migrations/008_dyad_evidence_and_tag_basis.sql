-- The evidence of each partnership: the relation that links the pair, and the sentence it is in.
ALTER TABLE article_dyads ADD COLUMN relation VARCHAR;
ALTER TABLE article_dyads ADD COLUMN evidence_in VARCHAR;
ALTER TABLE article_dyads ADD COLUMN evidence_start INTEGER;
ALTER TABLE article_dyads ADD COLUMN evidence_end INTEGER;
COMMENT ON COLUMN article_dyads.relation IS 'What links the pair: a cooperation cue of cues.toml (judicial, operational or diplomatic: "extradit*", "samen met", "joint statement"), or "action abroad: <word>" for an arrest or extradition in the partner country. NULL for rows tagged before migration 008 (reclassify fills it).';
COMMENT ON COLUMN article_dyads.evidence_in IS 'Where the linking sentence is: title or text.';
COMMENT ON COLUMN article_dyads.evidence_start IS 'Character offset in the title or text (articles.title, articles.text; for a translation tagged from its original, articles.original_title and original_text) where the linking sentence starts.';
COMMENT ON COLUMN article_dyads.evidence_end IS 'Character offset where the linking sentence ends (exclusive): substr(text, evidence_start + 1, evidence_end - evidence_start) is the sentence.';

-- Languages without vocabulary: a translation is tagged from its original; what the tags were read from.
ALTER TABLE articles ADD COLUMN original_url VARCHAR;
ALTER TABLE articles ADD COLUMN original_title VARCHAR;
ALTER TABLE articles ADD COLUMN original_text VARCHAR USING COMPRESSION zstd;  -- as articles.text
ALTER TABLE article_labels ADD COLUMN tag_basis VARCHAR;
COMMENT ON COLUMN articles.original_url IS 'For a translation in a language the vocabulary does not cover (GOV.UK''s Arabic or Urdu items): the document of its original (the English content item named by links.available_translations), which it is tagged from. NULL otherwise.';
COMMENT ON COLUMN articles.original_title IS 'The original''s title, where original_url is set (reclassify tags from it).';
COMMENT ON COLUMN articles.original_text IS 'The original''s text, where original_url is set (reclassify tags from it; dyad evidence offsets refer to it).';
COMMENT ON COLUMN article_labels.tag_basis IS 'What the tags were read from: text (the article''s own), original <url> (a translation tagged from its original), or no_vocabulary (a language the vocabulary does not cover and no original: no themes, only the publisher''s country, type other). NULL for rows tagged before migration 008.';
