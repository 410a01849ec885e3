-- The checkout: catalog, people, orders, tenders, refunds.
-- Money columns are integer minor units (*_minor) with the order's currency.

CREATE TABLE products (
    sku             TEXT PRIMARY KEY,
    name_zh         TEXT NOT NULL,
    name_en         TEXT NOT NULL,
    unit_price_minor INTEGER NOT NULL CHECK (unit_price_minor >= 0),
    currency        TEXT NOT NULL,
    tax_class       TEXT NOT NULL,
    active          INTEGER NOT NULL DEFAULT 1,
    sold_by_weight  INTEGER NOT NULL DEFAULT 0,
    updated_at      TEXT NOT NULL
);

CREATE TABLE product_barcodes (
    barcode TEXT PRIMARY KEY,
    sku     TEXT NOT NULL REFERENCES products(sku) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX product_barcodes_sku ON product_barcodes(sku);

-- Substring search over both names and the SKU (trigram: works for Chinese).
CREATE VIRTUAL TABLE product_search USING fts5(
    sku UNINDEXED, text, tokenize = 'trigram'
);

CREATE TABLE users (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('cashier', 'manager')),
    pin_hash    TEXT NOT NULL,
    active      INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL
);

CREATE TABLE orders (
    id              TEXT PRIMARY KEY,
    receipt_no      TEXT UNIQUE,
    state           TEXT NOT NULL,
    currency        TEXT NOT NULL,
    subtotal_minor  INTEGER NOT NULL,
    discount_minor  INTEGER NOT NULL,
    tax_minor       INTEGER NOT NULL,
    total_minor     INTEGER NOT NULL,
    change_minor    INTEGER NOT NULL DEFAULT 0,
    refunded_minor  INTEGER NOT NULL DEFAULT 0,
    cashier_id      TEXT NOT NULL,
    mode            TEXT NOT NULL DEFAULT 'cashier',
    business_date   TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    journal_seq     INTEGER,
    doc             TEXT NOT NULL
);
CREATE INDEX orders_business_date ON orders(business_date, state);
CREATE INDEX orders_state ON orders(state);

-- One row per tender taken or given back. kind: 'payment' | 'refund'.
CREATE TABLE tenders (
    id              TEXT PRIMARY KEY,
    order_id        TEXT NOT NULL REFERENCES orders(id),
    kind            TEXT NOT NULL CHECK (kind IN ('payment', 'refund')),
    channel         TEXT NOT NULL,
    amount_minor    INTEGER NOT NULL,
    tendered_minor  INTEGER,
    change_minor    INTEGER NOT NULL DEFAULT 0,
    currency        TEXT NOT NULL,
    reference       TEXT,
    intent_id       TEXT,
    card_masked_pan TEXT,
    auth_code       TEXT,
    refund_id       TEXT,
    business_date   TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX tenders_order ON tenders(order_id);
CREATE INDEX tenders_business_date ON tenders(business_date, channel);

CREATE TABLE refunds (
    id              TEXT PRIMARY KEY,
    order_id        TEXT NOT NULL REFERENCES orders(id),
    amount_minor    INTEGER NOT NULL,
    currency        TEXT NOT NULL,
    approver_id     TEXT NOT NULL,
    cashier_id      TEXT NOT NULL,
    reason          TEXT NOT NULL DEFAULT '',
    business_date   TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    journal_seq     INTEGER,
    doc             TEXT NOT NULL
);
CREATE INDEX refunds_order ON refunds(order_id);

CREATE TABLE approvals (
    id          INTEGER PRIMARY KEY,
    action      TEXT NOT NULL,
    subject_id  TEXT,
    approver_id TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL
);

-- Gap-free receipt numbers per business date.
CREATE TABLE receipt_counters (
    business_date TEXT PRIMARY KEY,
    last_no       INTEGER NOT NULL
) WITHOUT ROWID;
