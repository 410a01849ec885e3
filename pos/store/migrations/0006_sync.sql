-- Sync with the central server: the enrolment (and the server key pinned at
-- enrolment), the client's status for the UI and `pos sync status`, and the
-- configuration versions applied.

CREATE TABLE sync_enrolment (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    server_url  TEXT NOT NULL,
    server_key  TEXT NOT NULL,       -- the server's Ed25519 public key, hex, pinned
    store_id    TEXT NOT NULL,
    ca_file     TEXT,                -- a private CA to trust for the server's TLS
    enrolled_at TEXT NOT NULL
);

CREATE TABLE sync_status (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    online          INTEGER NOT NULL DEFAULT 0,
    last_attempt_at TEXT,
    last_success_at TEXT,
    last_error      TEXT,
    last_error_at   TEXT,
    server_hwm      INTEGER NOT NULL DEFAULT 0,
    failures        INTEGER NOT NULL DEFAULT 0
);

-- One row per configuration version received, applied or skipped (a kind
-- this terminal has no use for), in version order.
CREATE TABLE config_versions (
    version     INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('applied', 'skipped')),
    detail      TEXT NOT NULL DEFAULT '',
    applied_at  TEXT NOT NULL,
    journal_seq INTEGER NOT NULL
);

-- Channel settings pushed by the server (non-secret: gateways, limits,
-- which channels are offered). Secrets never travel in configuration.
CREATE TABLE channel_settings (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    doc         TEXT NOT NULL,       -- canonical JSON: channel name -> settings object
    version     INTEGER NOT NULL,
    updated_at  TEXT NOT NULL
);
