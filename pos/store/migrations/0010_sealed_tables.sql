-- Tables that decide money (who may approve, prices and tax classes, risk
-- rules and lists, settings) are sealed: any change marks the table here, and
-- the program journals the table's digest in the same transaction (store.sealed).
-- A change made outside the program leaves its mark unsealed, and the digest
-- stops matching the journal: `pos journal verify` names the table.
-- (No OR REPLACE in the triggers: an outer statement's conflict clause overrides it.)
CREATE TABLE seal_dirty (
    tbl     TEXT PRIMARY KEY,
    reason  TEXT NOT NULL CHECK (reason IN ('migration', 'change'))
) WITHOUT ROWID;

CREATE TRIGGER seal_users_insert AFTER INSERT ON users BEGIN
    UPDATE seal_dirty SET reason = 'change' WHERE tbl = 'users';
    INSERT INTO seal_dirty (tbl, reason) SELECT 'users', 'change'
        WHERE NOT EXISTS (SELECT 1 FROM seal_dirty WHERE tbl = 'users');
END;
CREATE TRIGGER seal_users_update AFTER UPDATE ON users BEGIN
    UPDATE seal_dirty SET reason = 'change' WHERE tbl = 'users';
    INSERT INTO seal_dirty (tbl, reason) SELECT 'users', 'change'
        WHERE NOT EXISTS (SELECT 1 FROM seal_dirty WHERE tbl = 'users');
END;
CREATE TRIGGER seal_users_delete AFTER DELETE ON users BEGIN
    UPDATE seal_dirty SET reason = 'change' WHERE tbl = 'users';
    INSERT INTO seal_dirty (tbl, reason) SELECT 'users', 'change'
        WHERE NOT EXISTS (SELECT 1 FROM seal_dirty WHERE tbl = 'users');
END;

CREATE TRIGGER seal_products_insert AFTER INSERT ON products BEGIN
    UPDATE seal_dirty SET reason = 'change' WHERE tbl = 'products';
    INSERT INTO seal_dirty (tbl, reason) SELECT 'products', 'change'
        WHERE NOT EXISTS (SELECT 1 FROM seal_dirty WHERE tbl = 'products');
END;
CREATE TRIGGER seal_products_update AFTER UPDATE ON products BEGIN
    UPDATE seal_dirty SET reason = 'change' WHERE tbl = 'products';
    INSERT INTO seal_dirty (tbl, reason) SELECT 'products', 'change'
        WHERE NOT EXISTS (SELECT 1 FROM seal_dirty WHERE tbl = 'products');
END;
CREATE TRIGGER seal_products_delete AFTER DELETE ON products BEGIN
    UPDATE seal_dirty SET reason = 'change' WHERE tbl = 'products';
    INSERT INTO seal_dirty (tbl, reason) SELECT 'products', 'change'
        WHERE NOT EXISTS (SELECT 1 FROM seal_dirty WHERE tbl = 'products');
END;

CREATE TRIGGER seal_product_barcodes_insert AFTER INSERT ON product_barcodes BEGIN
    UPDATE seal_dirty SET reason = 'change' WHERE tbl = 'product_barcodes';
    INSERT INTO seal_dirty (tbl, reason) SELECT 'product_barcodes', 'change'
        WHERE NOT EXISTS (SELECT 1 FROM seal_dirty WHERE tbl = 'product_barcodes');
END;
CREATE TRIGGER seal_product_barcodes_update AFTER UPDATE ON product_barcodes BEGIN
    UPDATE seal_dirty SET reason = 'change' WHERE tbl = 'product_barcodes';
    INSERT INTO seal_dirty (tbl, reason) SELECT 'product_barcodes', 'change'
        WHERE NOT EXISTS (SELECT 1 FROM seal_dirty WHERE tbl = 'product_barcodes');
END;
CREATE TRIGGER seal_product_barcodes_delete AFTER DELETE ON product_barcodes BEGIN
    UPDATE seal_dirty SET reason = 'change' WHERE tbl = 'product_barcodes';
    INSERT INTO seal_dirty (tbl, reason) SELECT 'product_barcodes', 'change'
        WHERE NOT EXISTS (SELECT 1 FROM seal_dirty WHERE tbl = 'product_barcodes');
END;

CREATE TRIGGER seal_risk_rulesets_insert AFTER INSERT ON risk_rulesets BEGIN
    UPDATE seal_dirty SET reason = 'change' WHERE tbl = 'risk_rulesets';
    INSERT INTO seal_dirty (tbl, reason) SELECT 'risk_rulesets', 'change'
        WHERE NOT EXISTS (SELECT 1 FROM seal_dirty WHERE tbl = 'risk_rulesets');
END;
CREATE TRIGGER seal_risk_rulesets_update AFTER UPDATE ON risk_rulesets BEGIN
    UPDATE seal_dirty SET reason = 'change' WHERE tbl = 'risk_rulesets';
    INSERT INTO seal_dirty (tbl, reason) SELECT 'risk_rulesets', 'change'
        WHERE NOT EXISTS (SELECT 1 FROM seal_dirty WHERE tbl = 'risk_rulesets');
END;
CREATE TRIGGER seal_risk_rulesets_delete AFTER DELETE ON risk_rulesets BEGIN
    UPDATE seal_dirty SET reason = 'change' WHERE tbl = 'risk_rulesets';
    INSERT INTO seal_dirty (tbl, reason) SELECT 'risk_rulesets', 'change'
        WHERE NOT EXISTS (SELECT 1 FROM seal_dirty WHERE tbl = 'risk_rulesets');
END;

CREATE TRIGGER seal_risk_list_entries_insert AFTER INSERT ON risk_list_entries BEGIN
    UPDATE seal_dirty SET reason = 'change' WHERE tbl = 'risk_list_entries';
    INSERT INTO seal_dirty (tbl, reason) SELECT 'risk_list_entries', 'change'
        WHERE NOT EXISTS (SELECT 1 FROM seal_dirty WHERE tbl = 'risk_list_entries');
END;
CREATE TRIGGER seal_risk_list_entries_update AFTER UPDATE ON risk_list_entries BEGIN
    UPDATE seal_dirty SET reason = 'change' WHERE tbl = 'risk_list_entries';
    INSERT INTO seal_dirty (tbl, reason) SELECT 'risk_list_entries', 'change'
        WHERE NOT EXISTS (SELECT 1 FROM seal_dirty WHERE tbl = 'risk_list_entries');
END;
CREATE TRIGGER seal_risk_list_entries_delete AFTER DELETE ON risk_list_entries BEGIN
    UPDATE seal_dirty SET reason = 'change' WHERE tbl = 'risk_list_entries';
    INSERT INTO seal_dirty (tbl, reason) SELECT 'risk_list_entries', 'change'
        WHERE NOT EXISTS (SELECT 1 FROM seal_dirty WHERE tbl = 'risk_list_entries');
END;

CREATE TRIGGER seal_settings_insert AFTER INSERT ON settings BEGIN
    UPDATE seal_dirty SET reason = 'change' WHERE tbl = 'settings';
    INSERT INTO seal_dirty (tbl, reason) SELECT 'settings', 'change'
        WHERE NOT EXISTS (SELECT 1 FROM seal_dirty WHERE tbl = 'settings');
END;
CREATE TRIGGER seal_settings_update AFTER UPDATE ON settings BEGIN
    UPDATE seal_dirty SET reason = 'change' WHERE tbl = 'settings';
    INSERT INTO seal_dirty (tbl, reason) SELECT 'settings', 'change'
        WHERE NOT EXISTS (SELECT 1 FROM seal_dirty WHERE tbl = 'settings');
END;
CREATE TRIGGER seal_settings_delete AFTER DELETE ON settings BEGIN
    UPDATE seal_dirty SET reason = 'change' WHERE tbl = 'settings';
    INSERT INTO seal_dirty (tbl, reason) SELECT 'settings', 'change'
        WHERE NOT EXISTS (SELECT 1 FROM seal_dirty WHERE tbl = 'settings');
END;

CREATE TRIGGER seal_channel_settings_insert AFTER INSERT ON channel_settings BEGIN
    UPDATE seal_dirty SET reason = 'change' WHERE tbl = 'channel_settings';
    INSERT INTO seal_dirty (tbl, reason) SELECT 'channel_settings', 'change'
        WHERE NOT EXISTS (SELECT 1 FROM seal_dirty WHERE tbl = 'channel_settings');
END;
CREATE TRIGGER seal_channel_settings_update AFTER UPDATE ON channel_settings BEGIN
    UPDATE seal_dirty SET reason = 'change' WHERE tbl = 'channel_settings';
    INSERT INTO seal_dirty (tbl, reason) SELECT 'channel_settings', 'change'
        WHERE NOT EXISTS (SELECT 1 FROM seal_dirty WHERE tbl = 'channel_settings');
END;
CREATE TRIGGER seal_channel_settings_delete AFTER DELETE ON channel_settings BEGIN
    UPDATE seal_dirty SET reason = 'change' WHERE tbl = 'channel_settings';
    INSERT INTO seal_dirty (tbl, reason) SELECT 'channel_settings', 'change'
        WHERE NOT EXISTS (SELECT 1 FROM seal_dirty WHERE tbl = 'channel_settings');
END;

-- The tables as they stand at the upgrade are sealed at the next start.
INSERT INTO seal_dirty (tbl, reason) VALUES ('users', 'migration');
INSERT INTO seal_dirty (tbl, reason) VALUES ('products', 'migration');
INSERT INTO seal_dirty (tbl, reason) VALUES ('product_barcodes', 'migration');
INSERT INTO seal_dirty (tbl, reason) VALUES ('risk_rulesets', 'migration');
INSERT INTO seal_dirty (tbl, reason) VALUES ('risk_list_entries', 'migration');
INSERT INTO seal_dirty (tbl, reason) VALUES ('settings', 'migration');
INSERT INTO seal_dirty (tbl, reason) VALUES ('channel_settings', 'migration');

-- Every committed write transaction of the program counts here (the same
-- transaction), and the count is anchored outside the file: a lost commit,
-- even one that journaled nothing (a line added to a cart), is caught.
CREATE TABLE commit_counter (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    n   INTEGER NOT NULL
);
INSERT INTO commit_counter (id, n) VALUES (1, 0);
