-- Staff badges: smart cards on the payment reader whose private key never
-- leaves the card. Only the public key is kept; a badge signs a fresh
-- challenge at every tap. A revoked badge keeps its row (revoked_at) so its
-- id cannot be enrolled again under another key without a manager seeing it.
CREATE TABLE badges (
    badge_id    TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id),
    public_key  BLOB NOT NULL,           -- Ed25519, 32 bytes
    enrolled_at TEXT NOT NULL,
    enrolled_by TEXT NOT NULL,
    revoked_at  TEXT,
    revoked_by  TEXT
);
CREATE INDEX badges_user ON badges (user_id);

-- The server refused this terminal as revoked: no sales until it is
-- enrolled again. One row while revoked.
CREATE TABLE terminal_revocation (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    detail      TEXT NOT NULL,
    learned_at  TEXT NOT NULL
);
