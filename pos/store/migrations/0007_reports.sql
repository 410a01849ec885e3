-- Closed business days. One Z report per business date, numbered without gaps
-- per terminal. `doc` is the report's canonical JSON; `sha256` its hash, which
-- the signed journal entry (journal_seq, type 'day.closed') also carries.

CREATE TABLE z_reports (
    z_no            INTEGER PRIMARY KEY CHECK (z_no >= 1),
    business_date   TEXT NOT NULL UNIQUE,
    created_at      TEXT NOT NULL,
    closed_by       TEXT NOT NULL,
    sha256          TEXT NOT NULL,
    journal_seq     INTEGER NOT NULL REFERENCES journal(seq),
    doc             TEXT NOT NULL
);
