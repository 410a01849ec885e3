-- Payments: every attempt is recorded, with its idempotency key, before any
-- request leaves the terminal. Money columns are integer minor units.

CREATE TABLE payment_intents (
    id              TEXT PRIMARY KEY,
    order_id        TEXT NOT NULL,
    channel         TEXT NOT NULL,
    mode            TEXT NOT NULL CHECK (mode IN ('qr', 'payment_code', 'card', 'cash')),
    amount_minor    INTEGER NOT NULL CHECK (amount_minor > 0),
    currency        TEXT NOT NULL,
    out_trade_no    TEXT NOT NULL UNIQUE,
    subject         TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL CHECK (status IN ('pending', 'user_paying', 'unknown',
                        'succeeded', 'failed', 'closed', 'partly_refunded', 'refunded')),
    sent            INTEGER NOT NULL DEFAULT 0,   -- a request has left the terminal
    attempts        INTEGER NOT NULL DEFAULT 0,   -- requests sent (start, query, cancel)
    channel_ref     TEXT NOT NULL DEFAULT '',     -- the provider's trade number
    buyer_ref       TEXT NOT NULL DEFAULT '',     -- masked buyer account
    code            TEXT NOT NULL DEFAULT '',
    sub_code        TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    final_at        TEXT
);
CREATE INDEX payment_intents_order ON payment_intents(order_id);
CREATE INDEX payment_intents_channel_day ON payment_intents(channel, created_at);
-- The rule that prevents charging an order twice: while one attempt's outcome
-- is open, no other attempt for the same order may exist.
CREATE UNIQUE INDEX payment_intents_one_open_per_order ON payment_intents(order_id)
    WHERE status IN ('pending', 'user_paying', 'unknown');

CREATE TABLE refund_intents (
    id                  TEXT PRIMARY KEY,
    payment_intent_id   TEXT NOT NULL REFERENCES payment_intents(id),
    order_id            TEXT NOT NULL,
    channel             TEXT NOT NULL,
    amount_minor        INTEGER NOT NULL CHECK (amount_minor > 0),
    currency            TEXT NOT NULL,
    out_refund_no       TEXT NOT NULL UNIQUE,
    reason              TEXT NOT NULL DEFAULT '',
    status              TEXT NOT NULL CHECK (status IN ('pending', 'unknown', 'succeeded', 'failed')),
    sent                INTEGER NOT NULL DEFAULT 0,
    attempts            INTEGER NOT NULL DEFAULT 0,
    channel_ref         TEXT NOT NULL DEFAULT '',
    code                TEXT NOT NULL DEFAULT '',
    sub_code            TEXT NOT NULL DEFAULT '',
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    final_at            TEXT
);
CREATE INDEX refund_intents_payment ON refund_intents(payment_intent_id);
CREATE INDEX refund_intents_open ON refund_intents(status) WHERE status IN ('pending', 'unknown');
