-- The linking rules each article was linked under, so that new rules (a new socwatch) link
-- the stored articles again: `reclassify` does it, oldest first, a transaction a batch.
ALTER TABLE event_profiles ADD COLUMN link_rules VARCHAR;
COMMENT ON COLUMN event_profiles.link_rules IS 'Version of the linking rules the article''s links were made under (warehouse/events.py LINK_RULES, a hash of its code); NULL: not linked under known rules (linked before versions were kept, or re-tagged and waiting to be linked again). reclassify links again every article whose version is not the code''s.';
