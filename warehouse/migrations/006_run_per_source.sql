-- The run summary per source, kept with the run.
ALTER TABLE runs ADD COLUMN per_source STRUCT(source VARCHAR, discovered INTEGER, fetched INTEGER, new INTEGER,
    updated INTEGER, unchanged INTEGER, skipped INTEGER, failed INTEGER, quarantined INTEGER, seconds DOUBLE)[];
COMMENT ON COLUMN runs.per_source IS 'The run summary per source (ingest runs): discovered, fetched, new, updated, unchanged, skipped, failed, quarantined, and seconds from the start of the run until its last page was loaded.';
