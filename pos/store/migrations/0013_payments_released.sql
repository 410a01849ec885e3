-- An attempt whose outcome is not known no longer holds its order: the till
-- lets go of it (released = 1) and resolves it in the background, while the
-- cashier takes another tender. The one-open-attempt rule now counts only the
-- attempts the till still waits on; a released attempt that later proves paid
-- is attached when the order still owes it, or given back (journal:
-- payment.released, payment.released_settled).

ALTER TABLE payment_intents ADD COLUMN released INTEGER NOT NULL DEFAULT 0;

DROP INDEX payment_intents_one_open_per_order;
CREATE UNIQUE INDEX payment_intents_one_open_per_order ON payment_intents(order_id)
    WHERE status IN ('pending', 'user_paying', 'unknown') AND released = 0;
CREATE INDEX payment_intents_released_open ON payment_intents(released, status);
