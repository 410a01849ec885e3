-- Card payments. What a card leaves here: the masked PAN (first 6, last 4),
-- an HMAC-SHA256 token under the terminal's card key, EMV results and the
-- host's codes. Never the PAN, track data, expiry, CVV, PIN or keys.

CREATE TABLE card_payments (
    intent_id       TEXT PRIMARY KEY,
    order_id        TEXT NOT NULL,
    out_trade_no    TEXT NOT NULL,
    stan            TEXT NOT NULL,
    rrn             TEXT NOT NULL UNIQUE,
    amount_minor    INTEGER NOT NULL CHECK (amount_minor > 0),
    currency        TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('reading', 'sent', 'approved', 'declined',
                        'offline_approved', 'reversal_pending', 'reversed', 'failed')),
    masked_pan      TEXT NOT NULL DEFAULT '',
    card_token      TEXT NOT NULL DEFAULT '',
    brand           TEXT NOT NULL DEFAULT '',
    aid             TEXT NOT NULL DEFAULT '',
    atc             INTEGER,
    cryptogram_type TEXT NOT NULL DEFAULT '',
    tvr             TEXT NOT NULL DEFAULT '',
    cvm             TEXT NOT NULL DEFAULT '',
    response_code   TEXT NOT NULL DEFAULT '',
    auth_code       TEXT NOT NULL DEFAULT '',
    reason          TEXT NOT NULL DEFAULT '',
    reversal_stan   TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX card_payments_state ON card_payments(state);
CREATE INDEX card_payments_token ON card_payments(card_token, created_at);

-- Offline approvals waiting to be forwarded (store-and-forward). The card
-- number travels sealed to the acquirer's public key: the terminal cannot
-- open it. forward_state: pending -> accepted | declined (a manager must see
-- it) | voided (cancelled before forwarding).
CREATE TABLE card_offline (
    intent_id       TEXT PRIMARY KEY REFERENCES card_payments(intent_id),
    amount_minor    INTEGER NOT NULL,
    currency        TEXT NOT NULL,
    stored_at       TEXT NOT NULL,
    sealed_card     TEXT NOT NULL,
    icc_data        BLOB NOT NULL,
    forward_state   TEXT NOT NULL DEFAULT 'pending'
                        CHECK (forward_state IN ('pending', 'accepted', 'declined', 'voided')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    forwarded_at    TEXT,
    response_code   TEXT NOT NULL DEFAULT '',
    reviewed_by     TEXT,
    reviewed_at     TEXT
);
CREATE INDEX card_offline_pending ON card_offline(forward_state, stored_at);

CREATE TABLE card_refunds (
    refund_id       TEXT PRIMARY KEY,
    intent_id       TEXT NOT NULL REFERENCES card_payments(intent_id),
    stan            TEXT NOT NULL,
    amount_minor    INTEGER NOT NULL CHECK (amount_minor > 0),
    state           TEXT NOT NULL CHECK (state IN ('sent', 'succeeded', 'failed')),
    response_code   TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

-- The system trace audit number: one per message, 000001..999999 then round.
CREATE TABLE card_counters (
    name    TEXT PRIMARY KEY,
    value   INTEGER NOT NULL
) WITHOUT ROWID;
