-- The donations ledger for accounting: how each payment was made (a processor's card, a
-- pledge paid as instructed, or money staff recorded: bank transfer, cheque, cash), its
-- reference and the processor's fee when known; and every refund or dispute as a dated row of
-- its own, so an accounting export has one row per movement of money.
ALTER TABLE donation_payments ADD COLUMN method TEXT NOT NULL DEFAULT 'card';
ALTER TABLE donation_payments ADD COLUMN reference TEXT;
ALTER TABLE donation_payments ADD COLUMN fee_minor BIGINT;
UPDATE donation_payments SET method = 'manual'
    WHERE donation_id IN (SELECT id FROM donations WHERE provider = 'manual');

CREATE TABLE donation_adjustments (
    id TEXT PRIMARY KEY NOT NULL,
    payment_id TEXT NOT NULL REFERENCES donation_payments (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL
);
CREATE INDEX donation_adjustments_occurred ON donation_adjustments (occurred_at);
CREATE INDEX donation_adjustments_payment ON donation_adjustments (payment_id);

-- Refunds and disputes stored before this ledger existed: dated at their payment, the only
-- date known for them.
INSERT INTO donation_adjustments (id, payment_id, kind, amount_minor, currency, occurred_at)
    SELECT 'refund-' || id, id, 'refund', refunded_minor, currency, paid_at
    FROM donation_payments WHERE refunded_minor > 0;
INSERT INTO donation_adjustments (id, payment_id, kind, amount_minor, currency, occurred_at)
    SELECT 'dispute-' || id, id, 'dispute', amount_minor, currency, paid_at
    FROM donation_payments WHERE status = 'disputed';
