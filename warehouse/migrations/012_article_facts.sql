-- Facts read from each article (transforms/facts.py), recomputed by reclassify like tags;
-- a dated table of exchange rates to put money in euros; monthly views of seizures and money;
-- the facts in announcements.
CREATE TABLE article_facts (
    article_id       VARCHAR NOT NULL,
    seq              INTEGER NOT NULL,
    kind             VARCHAR NOT NULL,
    subject          VARCHAR,
    quantity         DOUBLE,
    unit             VARCHAR,
    value            DOUBLE,
    action           VARCHAR,
    country          VARCHAR,
    evidence_in      VARCHAR NOT NULL,
    evidence_start   INTEGER NOT NULL,
    evidence_end     INTEGER NOT NULL,
    taxonomy_version VARCHAR NOT NULL,
    PRIMARY KEY (article_id, seq)
);
COMMENT ON TABLE article_facts IS 'One row per fact read from an article: drug seizures, money, firearms and ammunition seized, arrests, people charged, named operations, agencies acting; each with the span it was read from.';
COMMENT ON COLUMN article_facts.article_id IS 'The article (articles.article_id).';
COMMENT ON COLUMN article_facts.seq IS 'The fact''s place among the article''s facts (title first, then text order).';
COMMENT ON COLUMN article_facts.kind IS 'drug, money, firearms, ammunition, arrests, charged, operation or agency.';
COMMENT ON COLUMN article_facts.subject IS 'drug: the substance (cocaine, heroin, cannabis, mdma, amphetamine, methamphetamine, fentanyl, ketamine, ghb, opium, nitrous_oxide, precursors, other); money: the currency (ISO 4217); operation and agency: the name (agencies by their canonical name in transforms/agencies.toml).';
COMMENT ON COLUMN article_facts.quantity IS 'The number as written (drug: in unit; money: in its currency; counts: the count).';
COMMENT ON COLUMN article_facts.unit IS 'drug: kg, g, t, lb, oz, l, plants, pills or units; money: the currency.';
COMMENT ON COLUMN article_facts.value IS 'drug: kilograms (NULL for counts of plants, pills, units); money: the amount in its currency; firearms, ammunition, arrests, charged: the count.';
COMMENT ON COLUMN article_facts.action IS 'money: seized, frozen, confiscated, laundered, defrauded, bribe, fine or other.';
COMMENT ON COLUMN article_facts.country IS 'agency: its country (ISO alpha-2; EU for the Union''s agencies, INT for Interpol).';
COMMENT ON COLUMN article_facts.evidence_in IS 'Where the fact was read: title or text.';
COMMENT ON COLUMN article_facts.evidence_start IS 'Character offset of the span in the title or text.';
COMMENT ON COLUMN article_facts.evidence_end IS 'Character offset of the span''s end.';
COMMENT ON COLUMN article_facts.taxonomy_version IS 'Vocabulary version the facts were read with.';

-- Yearly average reference rates of the European Central Bank, as units of the currency per
-- euro; 2025 and 2026 are carried from the last full year until a full year is published.
CREATE TABLE currency_rates (
    currency      VARCHAR NOT NULL,
    year          INTEGER NOT NULL,
    units_per_eur DOUBLE NOT NULL,
    PRIMARY KEY (currency, year)
);
COMMENT ON TABLE currency_rates IS 'Exchange rates to put money facts in euros: the yearly average of the ECB reference rate, per currency and year.';
COMMENT ON COLUMN currency_rates.currency IS 'ISO 4217 code.';
COMMENT ON COLUMN currency_rates.year IS 'Calendar year the rate is the average of (a money fact takes the rate of its article''s year, else the nearest year before or after).';
COMMENT ON COLUMN currency_rates.units_per_eur IS 'Units of the currency per euro.';
INSERT INTO currency_rates VALUES
    ('EUR', 2000, 1.0),
    ('USD', 2009, 1.3948), ('USD', 2010, 1.3257), ('USD', 2011, 1.3920), ('USD', 2012, 1.2848), ('USD', 2013, 1.3281),
    ('USD', 2014, 1.3285), ('USD', 2015, 1.1095), ('USD', 2016, 1.1069), ('USD', 2017, 1.1297), ('USD', 2018, 1.1810),
    ('USD', 2019, 1.1195), ('USD', 2020, 1.1422), ('USD', 2021, 1.1827), ('USD', 2022, 1.0530), ('USD', 2023, 1.0813),
    ('USD', 2024, 1.0824),
    ('GBP', 2009, 0.89094), ('GBP', 2010, 0.85784), ('GBP', 2011, 0.86788), ('GBP', 2012, 0.81087), ('GBP', 2013, 0.84926),
    ('GBP', 2014, 0.80612), ('GBP', 2015, 0.72584), ('GBP', 2016, 0.81948), ('GBP', 2017, 0.87667), ('GBP', 2018, 0.88471),
    ('GBP', 2019, 0.87777), ('GBP', 2020, 0.88970), ('GBP', 2021, 0.85960), ('GBP', 2022, 0.85276), ('GBP', 2023, 0.86979),
    ('GBP', 2024, 0.84662),
    ('CHF', 2009, 1.5100), ('CHF', 2010, 1.3803), ('CHF', 2011, 1.2326), ('CHF', 2012, 1.2053), ('CHF', 2013, 1.2311),
    ('CHF', 2014, 1.2146), ('CHF', 2015, 1.0679), ('CHF', 2016, 1.0902), ('CHF', 2017, 1.1117), ('CHF', 2018, 1.1550),
    ('CHF', 2019, 1.1124), ('CHF', 2020, 1.0705), ('CHF', 2021, 1.0811), ('CHF', 2022, 1.0047), ('CHF', 2023, 0.9718),
    ('CHF', 2024, 0.9526);

-- Money facts with their article's month and the amount in euros (the rate of the article's
-- year, else of the nearest year with a rate).
CREATE VIEW money_facts AS
SELECT f.article_id, f.seq, f.subject AS currency, f.value AS amount, f.action,
       date_trunc('month', coalesce(a.published_at, a.first_seen_at) AT TIME ZONE 'UTC')::DATE AS month,
       f.value / (SELECT r.units_per_eur FROM currency_rates r WHERE r.currency = f.subject
                  ORDER BY abs(r.year - year(coalesce(a.published_at, a.first_seen_at) AT TIME ZONE 'UTC')), r.year DESC
                  LIMIT 1) AS amount_eur
FROM article_facts f JOIN articles a USING (article_id)
WHERE f.kind = 'money';
COMMENT ON VIEW money_facts IS 'One row per money fact with its article''s UTC month and its amount in euros.';
COMMENT ON COLUMN money_facts.article_id IS 'The article (articles.article_id).';
COMMENT ON COLUMN money_facts.seq IS 'The fact (article_facts.seq).';
COMMENT ON COLUMN money_facts.currency IS 'ISO 4217 code.';
COMMENT ON COLUMN money_facts.amount IS 'Amount in its currency.';
COMMENT ON COLUMN money_facts.action IS 'What happened to the money (article_facts.action).';
COMMENT ON COLUMN money_facts.month IS 'UTC month of the article''s publication (first day), else of when socwatch first stored it.';
COMMENT ON COLUMN money_facts.amount_eur IS 'Amount in euros at the yearly rate of currency_rates; NULL for a currency without rates.';

CREATE VIEW seizures_monthly AS
SELECT date_trunc('month', coalesce(a.published_at, a.first_seen_at) AT TIME ZONE 'UTC')::DATE AS month,
       f.subject AS substance, c.country,
       sum(f.value) AS kg, count(*) AS seizures, count(DISTINCT f.article_id) AS articles
FROM article_facts f
JOIN articles a USING (article_id)
JOIN article_countries c USING (article_id)
WHERE f.kind = 'drug'
GROUP BY ALL;
COMMENT ON VIEW seizures_monthly IS 'Drug seizures per UTC month, substance and country acting in the announcement (a seizure two countries report together counts for each: for a total over several countries, sum article_facts joined once per article).';
COMMENT ON COLUMN seizures_monthly.month IS 'UTC month (first day) of the announcements.';
COMMENT ON COLUMN seizures_monthly.substance IS 'Substance (article_facts.subject).';
COMMENT ON COLUMN seizures_monthly.country IS 'A country acting in the announcement (article_countries).';
COMMENT ON COLUMN seizures_monthly.kg IS 'Kilograms seized (seizures counted in plants, pills or units add no weight).';
COMMENT ON COLUMN seizures_monthly.seizures IS 'Seizure facts.';
COMMENT ON COLUMN seizures_monthly.articles IS 'Announcements reporting them.';

CREATE VIEW money_monthly AS
SELECT m.month, m.action, c.country, m.currency,
       sum(m.amount) AS amount, sum(m.amount_eur) AS amount_eur, count(*) AS facts, count(DISTINCT m.article_id) AS articles
FROM money_facts m
JOIN article_countries c USING (article_id)
GROUP BY ALL;
COMMENT ON VIEW money_monthly IS 'Money facts per UTC month, action, country acting in the announcement and currency.';
COMMENT ON COLUMN money_monthly.month IS 'UTC month (first day) of the announcements.';
COMMENT ON COLUMN money_monthly.action IS 'seized, frozen, confiscated, laundered, defrauded, bribe, fine or other.';
COMMENT ON COLUMN money_monthly.country IS 'A country acting in the announcement (article_countries).';
COMMENT ON COLUMN money_monthly.currency IS 'ISO 4217 code of the amounts.';
COMMENT ON COLUMN money_monthly.amount IS 'Sum in the currency.';
COMMENT ON COLUMN money_monthly.amount_eur IS 'Sum in euros (currency_rates).';
COMMENT ON COLUMN money_monthly.facts IS 'Money facts.';
COMMENT ON COLUMN money_monthly.articles IS 'Announcements reporting them.';

-- The facts in the view analysts start from.
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
    a.last_seen_at,
    coalesce((SELECT list({'kind': f.kind, 'subject': f.subject, 'value': f.value, 'unit': f.unit, 'action': f.action} ORDER BY f.seq)
              FROM article_facts f WHERE f.article_id = a.article_id AND f.kind <> 'agency'), []) AS facts,
    coalesce((SELECT list(DISTINCT f.subject ORDER BY f.subject) FROM article_facts f WHERE f.article_id = a.article_id AND f.kind = 'agency'),
             []::VARCHAR[]) AS agencies
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
COMMENT ON COLUMN announcements.facts IS 'Facts read from the article but its agencies (article_facts, in order): kind, subject, value (kg, amount, count), unit, action.';
COMMENT ON COLUMN announcements.agencies IS 'Agencies acting in the article (article_facts of kind agency), by canonical name.';
