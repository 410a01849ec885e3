-- The table 0008 fills on a store that held double tenders, for terminals
-- that applied 0008 before it had it (they held none), so every store has
-- the same schema.

CREATE TABLE IF NOT EXISTS tender_duplicates (
    tender_id   TEXT PRIMARY KEY REFERENCES tenders(id),
    intent_id   TEXT NOT NULL,
    kept_id     TEXT NOT NULL REFERENCES tenders(id)
);
