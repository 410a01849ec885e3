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

-- Who may sign in and approve by badge decides money: the table is sealed
-- under the journal like users (migration 0010, pos/store/seals.py).
CREATE TRIGGER seal_badges_insert AFTER INSERT ON badges BEGIN
    UPDATE seal_dirty SET reason = 'change' WHERE tbl = 'badges';
    INSERT INTO seal_dirty (tbl, reason) SELECT 'badges', 'change'
        WHERE NOT EXISTS (SELECT 1 FROM seal_dirty WHERE tbl = 'badges');
END;
CREATE TRIGGER seal_badges_update AFTER UPDATE ON badges BEGIN
    UPDATE seal_dirty SET reason = 'change' WHERE tbl = 'badges';
    INSERT INTO seal_dirty (tbl, reason) SELECT 'badges', 'change'
        WHERE NOT EXISTS (SELECT 1 FROM seal_dirty WHERE tbl = 'badges');
END;
CREATE TRIGGER seal_badges_delete AFTER DELETE ON badges BEGIN
    UPDATE seal_dirty SET reason = 'change' WHERE tbl = 'badges';
    INSERT INTO seal_dirty (tbl, reason) SELECT 'badges', 'change'
        WHERE NOT EXISTS (SELECT 1 FROM seal_dirty WHERE tbl = 'badges');
END;
INSERT INTO seal_dirty (tbl, reason) VALUES ('badges', 'migration');
