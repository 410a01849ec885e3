-- Search keys: each active product's whole names and SKU, pinyin spellings
-- and initials of its Chinese name, and the later words of its names, in
-- key order, so exact and prefix matches are a range read that stops at
-- the page size. Computed in Python (pos.search_keys) at write time; the
-- functions pos_search_keys / pos_search_text are registered on every
-- connection so products already in the store get theirs here.
CREATE TABLE product_keys (
    kind INTEGER NOT NULL,  -- 1 name or SKU, 2 pinyin, 3 a later word
    key  TEXT NOT NULL,
    sku  TEXT NOT NULL,
    PRIMARY KEY (kind, key, sku)
) WITHOUT ROWID;
CREATE INDEX product_keys_sku ON product_keys(sku);

-- A large catalog writes millions of key rows: in key order, through a
-- bigger page cache (put back to SQLite's default at the end).
PRAGMA cache_size = -131072;
INSERT OR IGNORE INTO product_keys (kind, key, sku)
SELECT k.value ->> 0, k.value ->> 1, p.sku
FROM products AS p, json_each(pos_search_keys(p.sku, p.name_zh, p.name_en)) AS k
WHERE p.active = 1
ORDER BY 1, 2, 3;

-- The substring index gains the pinyin too ("qiaokeli" finds 德芙巧克力).
DELETE FROM product_search;
INSERT INTO product_search (rowid, sku, text)
SELECT p.rowid, p.sku, pos_search_text(
    p.sku, p.name_zh, p.name_en,
    (SELECT group_concat(b.barcode, ' ') FROM product_barcodes AS b WHERE b.sku = p.sku)
)
FROM products AS p
WHERE p.active = 1;
PRAGMA cache_size = -2000;
