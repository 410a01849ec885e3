-- The terminal itself: identity, settings, the signed journal and its outbox.

-- Exactly one row: who this terminal is. The public key verifies the journal.
CREATE TABLE terminal (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    terminal_id     TEXT NOT NULL,
    store_id        TEXT NOT NULL,
    public_key      TEXT NOT NULL,   -- Ed25519, 32 bytes as hex
    created_at      TEXT NOT NULL
);

-- Non-secret settings (keys live in the keystore, never here).
CREATE TABLE settings (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,       -- canonical JSON
    updated_at  TEXT NOT NULL
) WITHOUT ROWID;

-- The hash-chained, signed record of every business event. seq is gap-free:
-- entry n+1 carries the hash of entry n (docs/store.md has the exact bytes).
CREATE TABLE journal (
    seq         INTEGER PRIMARY KEY CHECK (seq >= 1),
    terminal_id TEXT NOT NULL,
    time        TEXT NOT NULL,
    type        TEXT NOT NULL,
    payload     TEXT NOT NULL,       -- canonical JSON, exactly the bytes hashed
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL,
    signature   TEXT NOT NULL
);
CREATE INDEX journal_type_time ON journal(type, time);

-- Journal entries still to be pushed to the central server. A row is marked
-- sent only once the server acknowledged it; the row stays as evidence.
CREATE TABLE outbox (
    seq             INTEGER PRIMARY KEY REFERENCES journal(seq),
    created_at      TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_attempt_at TEXT,
    last_error      TEXT,
    sent_at         TEXT
);
CREATE INDEX outbox_pending ON outbox(seq) WHERE sent_at IS NULL;

-- Highest journal seq the server has acknowledged: a journal shorter than this
-- has lost entries.
CREATE TABLE outbox_ack (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    acked_seq   INTEGER NOT NULL,
    acked_hash  TEXT NOT NULL,
    acked_at    TEXT NOT NULL
);
