-- Offline risk control: what the engine saw and decided, the rule sets it was
-- given, and the terminal's own block/allow list entries.

-- One row per recorded payment attempt, refund, void or no-sale drawer open.
-- at_ms is UTC milliseconds since the epoch; hour_of_week is local
-- (0 = Monday 00h .. 167 = Sunday 23h). ctx is the canonical JSON of the
-- RiskContext (card token and BIN only, never a card number) for replay.
CREATE TABLE risk_events (
    id              INTEGER PRIMARY KEY,
    at_ms           INTEGER NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('sale', 'refund', 'void', 'no_sale')),
    outcome         TEXT NOT NULL
                    CHECK (outcome IN ('approved', 'declined', 'blocked', 'cancelled')),
    amount_minor    INTEGER NOT NULL CHECK (amount_minor >= 0),
    currency        TEXT NOT NULL,
    channel         TEXT NOT NULL DEFAULT '',
    terminal_id     TEXT NOT NULL,
    cashier_id      TEXT NOT NULL DEFAULT '',
    card_token      TEXT NOT NULL DEFAULT '',
    account         TEXT NOT NULL DEFAULT '',
    hour_of_week    INTEGER NOT NULL CHECK (hour_of_week BETWEEN 0 AND 167),
    items           INTEGER NOT NULL DEFAULT 0,
    no_receipt      INTEGER NOT NULL DEFAULT 0,
    action          TEXT CHECK (action IS NULL OR action IN ('allow', 'review', 'block')),
    rule_ids        TEXT NOT NULL DEFAULT '',
    ruleset_version INTEGER,
    ctx             TEXT
);
-- The velocity windows and replay read by time.
CREATE INDEX risk_events_at ON risk_events(at_ms);
-- The anomaly score reads the latest approved sales of one hour of the week.
CREATE INDEX risk_events_history ON risk_events(currency, hour_of_week, at_ms)
    WHERE kind = 'sale' AND outcome = 'approved';

-- Every rule set that passed validation; the newest is in force and older ones
-- stay as the fallback should a newer one stop compiling after an upgrade.
CREATE TABLE risk_rulesets (
    version         INTEGER PRIMARY KEY CHECK (version >= 1),
    digest          TEXT NOT NULL,
    source          TEXT NOT NULL,
    origin          TEXT NOT NULL DEFAULT 'local',
    installed_at    TEXT NOT NULL
);

CREATE TABLE risk_list_entries (
    list            TEXT NOT NULL CHECK (list IN ('block', 'allow')),
    subject         TEXT NOT NULL CHECK (subject IN ('card', 'bin', 'account')),
    value           TEXT NOT NULL,
    note            TEXT NOT NULL DEFAULT '',
    added_by        TEXT NOT NULL DEFAULT '',
    added_at        TEXT NOT NULL,
    PRIMARY KEY (list, subject, value)
) WITHOUT ROWID;
