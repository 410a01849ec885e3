-- A payment intent becomes at most one payment tender. Recovery at start-up
-- and a till finishing the same sale can both try to record one payment;
-- the second insert fails instead of counting the shopper's money twice.
-- The index also serves the "took money but is no tender" look-up.

CREATE UNIQUE INDEX tenders_one_per_intent ON tenders(intent_id)
    WHERE intent_id IS NOT NULL AND kind = 'payment';
