DROP TABLE donation_adjustments;
ALTER TABLE donation_payments DROP COLUMN fee_minor;
ALTER TABLE donation_payments DROP COLUMN reference;
ALTER TABLE donation_payments DROP COLUMN method;
