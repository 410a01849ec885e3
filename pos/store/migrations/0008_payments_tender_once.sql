-- A payment intent becomes at most one payment tender. Recovery at start-up
-- and a till finishing the same sale can both try to record one payment;
-- the second insert fails instead of counting the shopper's money twice.
-- The index also serves the "took money but is no tender" look-up.
--
-- A store that already holds such a double (recorded before this index) must
-- still open: the first tender keeps the payment, every later one keeps its
-- row and its money but is set apart from the payment (intent_id cleared),
-- and tender_duplicates remembers which payment it recorded again, for the
-- manager to settle (docs/payments.md). Nothing is deleted.

CREATE TABLE IF NOT EXISTS tender_duplicates (
    tender_id   TEXT PRIMARY KEY REFERENCES tenders(id),
    intent_id   TEXT NOT NULL,
    kept_id     TEXT NOT NULL REFERENCES tenders(id)
);

INSERT INTO tender_duplicates (tender_id, intent_id, kept_id)
    SELECT t.id, t.intent_id,
           (SELECT k.id FROM tenders k
             WHERE k.intent_id = t.intent_id AND k.kind = 'payment'
             ORDER BY k.created_at, k.rowid LIMIT 1)
      FROM tenders t
     WHERE t.kind = 'payment' AND t.intent_id IS NOT NULL
       AND t.id != (SELECT k.id FROM tenders k
                     WHERE k.intent_id = t.intent_id AND k.kind = 'payment'
                     ORDER BY k.created_at, k.rowid LIMIT 1);

UPDATE tenders SET intent_id = NULL WHERE id IN (SELECT tender_id FROM tender_duplicates);

CREATE UNIQUE INDEX tenders_one_per_intent ON tenders(intent_id)
    WHERE intent_id IS NOT NULL AND kind = 'payment';
