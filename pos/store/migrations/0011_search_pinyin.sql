-- Search keys: each active product's whole names and SKU, pinyin spellings
-- and initials of its Chinese name, and the later words of its names, in
-- key order, so exact and prefix matches are a range read that stops at
-- the page size. Computed in Python (pos.search_keys) when a product is
-- written; the function pos_search_entry is registered on every connection
-- so products already in the store get theirs here.
CREATE TABLE product_keys (
    kind INTEGER NOT NULL,  -- 1 name or SKU, 2 pinyin, 3 a later word
    key  TEXT NOT NULL,
    sku  TEXT NOT NULL,
    PRIMARY KEY (kind, key, sku)
) WITHOUT ROWID;

-- A large catalog writes millions of key rows: computed once per product,
-- written in key order through a bigger page cache (SQLite's default again
-- at the end).
PRAGMA cache_size = -131072;
CREATE TEMP TABLE upgrade_entries AS
SELECT p.rowid AS product_rowid, p.sku AS sku, pos_search_entry(
    p.sku, p.name_zh, p.name_en,
    (SELECT group_concat(b.barcode, ' ') FROM product_barcodes AS b WHERE b.sku = p.sku)
) AS entry
FROM products AS p
WHERE p.active = 1;

INSERT OR IGNORE INTO product_keys (kind, key, sku)
SELECT k.value ->> 0, k.value ->> 1, e.sku
FROM upgrade_entries AS e, json_each(e.entry, '$.keys') AS k
ORDER BY 1, 2, 3;
-- The sku index (deletes by product) built once, after the rows: one sort
-- instead of an update per key row in random sku order.
CREATE INDEX product_keys_sku ON product_keys(sku);

-- The substring index gains the pinyin too ("qiaokeli" finds 德芙巧克力).
-- Built afresh (dropping it is instant; deleting 300,000 rows is not), with
-- the same definition as in 0002.
DROP TABLE product_search;
CREATE VIRTUAL TABLE product_search USING fts5(
    sku UNINDEXED, text, tokenize = 'trigram'
);
INSERT INTO product_search (rowid, sku, text)
SELECT product_rowid, sku, entry ->> '$.text' FROM upgrade_entries;

DROP TABLE upgrade_entries;
PRAGMA cache_size = -2000;
