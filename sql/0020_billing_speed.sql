-- Billing screens on years of data (issue 11).
--
-- The receivables register showed the ~50 invoices still owed something by computing the balance
-- of every invoiced sale (billing.booking_balance: receipts, refunds, charges, accessories per
-- booking), 28,000 of them after five years, twice per page: 400-500 ms. billing.invoice_balance
-- keeps, for every vehicle invoice that is still its booking's invoice and every counter invoice,
-- what the sale comes to (due) and what was received net of refunds, as the balance views compute
-- them. Triggers in sql/functions/80_billing.sql keep it in the same transaction as the document
-- that changes it (invoice, receipt, refund, credit note, a booking's invoice changing); receipts,
-- refunds, invoices and credit notes never change once posted, and what an invoiced sale comes to
-- is fixed (its charges cannot change, sql/functions/70_sales.sql). billing.receivable reads the
-- few rows it holds with a balance and computes the register's columns for those only.
CREATE TABLE billing.invoice_balance (
    invoice_id   integer PRIMARY KEY REFERENCES billing.invoice (invoice_id),
    branch_id    integer NOT NULL REFERENCES master.branch (branch_id),
    invoice_date date NOT NULL,
    due          numeric(14,2) NOT NULL,
    received     numeric(14,2) NOT NULL,
    balance      numeric(14,2) GENERATED ALWAYS AS (due - received) STORED
);

-- The invoices still owed something, oldest first: the receivables register. (On the balance
-- column rather than "due > received", which the planner can only guess at: a third of the rows.)
CREATE INDEX invoice_balance_owed_idx ON billing.invoice_balance (branch_id, invoice_date, invoice_id)
    WHERE balance > 0;

-- The branch's own balances only, like the documents they are kept from (sql/0014).
ALTER TABLE billing.invoice_balance ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_branch ON billing.invoice_balance USING (platform.branch_visible(branch_id))
    WITH CHECK (platform.branch_visible(branch_id));

-- The functions, triggers and view that keep and read it, as sql/functions/80_billing.sql holds
-- them (that file is where they are changed from now on).
-- What each standing sale comes to and what was received on it, kept for the receivables register
-- (billing.invoice_balance, sql/0020): one row per vehicle invoice that is still its booking's
-- invoice and per counter invoice, with due and received as billing.booking_balance and
-- billing.counter_balance compute them. Called by the triggers below, in the transaction of the
-- document that changes them; a document of another branch is never visible here, so it is never
-- touched.
CREATE OR REPLACE FUNCTION billing.keep_invoice_balance(p_invoice_id integer) RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    inv record;
    cur record;
    standing boolean := false;
BEGIN
    IF p_invoice_id IS NULL THEN
        RETURN;
    END IF;
    SELECT i.invoice_id, i.branch_id, i.invoice_date, i.kind, i.booking_id INTO inv
      FROM billing.invoice i WHERE i.invoice_id = p_invoice_id;
    IF inv.kind = 'VEHICLE' THEN
        -- by the booking's key (the sale's balance), then: is this still the booking's invoice?
        SELECT bb.due, bb.received INTO cur FROM billing.booking_balance bb
         WHERE bb.booking_id = inv.booking_id AND bb.invoice_id = inv.invoice_id;
        standing := FOUND;
    ELSIF inv.kind = 'COUNTER' THEN
        SELECT cb.due, cb.received INTO cur FROM billing.counter_balance cb WHERE cb.invoice_id = inv.invoice_id;
        standing := FOUND;
    END IF;
    IF NOT standing THEN
        -- a credit note took the vehicle invoice off its booking (or it is a transfer invoice)
        DELETE FROM billing.invoice_balance WHERE invoice_id = p_invoice_id;
        RETURN;
    END IF;
    INSERT INTO billing.invoice_balance AS k (invoice_id, branch_id, invoice_date, due, received)
    VALUES (inv.invoice_id, inv.branch_id, inv.invoice_date, cur.due, cur.received)
    ON CONFLICT (invoice_id) DO UPDATE SET due = EXCLUDED.due, received = EXCLUDED.received
     WHERE (k.due, k.received) IS DISTINCT FROM (EXCLUDED.due, EXCLUDED.received);
END
$$;

-- Every row again, from the views: for tools that load documents with the triggers off
-- (generate-history's fast path). The migration that made the table filled it the same way.
CREATE OR REPLACE FUNCTION billing.rebuild_invoice_balance() RETURNS void
LANGUAGE sql
AS $$
    DELETE FROM billing.invoice_balance;
    INSERT INTO billing.invoice_balance (invoice_id, branch_id, invoice_date, due, received)
    SELECT i.invoice_id, i.branch_id, i.invoice_date, bb.due, bb.received
      FROM billing.invoice i
      JOIN billing.booking_balance bb ON bb.booking_id = i.booking_id AND bb.invoice_id = i.invoice_id
     WHERE i.kind = 'VEHICLE'
    UNION ALL
    SELECT i.invoice_id, i.branch_id, i.invoice_date, cb.due, cb.received
      FROM billing.invoice i JOIN billing.counter_balance cb USING (invoice_id);
$$;

-- The documents that move a balance: an invoice (a counter sale; a vehicle invoice arrives through
-- its booking below), a receipt, a refund, a credit note; and a booking whose invoice changes
-- (invoiced, or taken back by a credit note).
CREATE OR REPLACE FUNCTION billing.balance_moved() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    CASE TG_TABLE_NAME
        WHEN 'booking' THEN
            PERFORM billing.keep_invoice_balance(OLD.invoice_id);
            PERFORM billing.keep_invoice_balance(NEW.invoice_id);
        WHEN 'invoice', 'credit_note' THEN
            PERFORM billing.keep_invoice_balance(NEW.invoice_id);
        ELSE  -- receipt, refund: of a booking (its current invoice, if any) or of a counter invoice
            PERFORM billing.keep_invoice_balance(coalesce(NEW.invoice_id,
                (SELECT b.invoice_id FROM sales.booking b WHERE b.booking_id = NEW.booking_id)));
    END CASE;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER invoice_balance_kept AFTER INSERT ON billing.invoice
    FOR EACH ROW WHEN (NEW.kind = 'COUNTER') EXECUTE FUNCTION billing.balance_moved();

CREATE OR REPLACE TRIGGER receipt_balance_kept AFTER INSERT ON billing.receipt
    FOR EACH ROW EXECUTE FUNCTION billing.balance_moved();

CREATE OR REPLACE TRIGGER refund_balance_kept AFTER INSERT ON billing.refund
    FOR EACH ROW EXECUTE FUNCTION billing.balance_moved();

CREATE OR REPLACE TRIGGER credit_note_balance_kept AFTER INSERT ON billing.credit_note
    FOR EACH ROW EXECUTE FUNCTION billing.balance_moved();

CREATE OR REPLACE TRIGGER booking_balance_kept AFTER UPDATE OF invoice_id ON sales.booking
    FOR EACH ROW WHEN (OLD.invoice_id IS DISTINCT FROM NEW.invoice_id) EXECUTE FUNCTION billing.balance_moved();

-- Outstanding receivables, one row per invoice still owed something. The columns say what they
-- hold: the invoice's own amount (with TCS), the charges collected for others on the same sale
-- (insurance, registration, plates), what the sale comes to in all (due), received, balance,
-- and of the balance what the financier / OEM / exchange will cover and what the customer owes.
-- The invoices owed something are found through billing.invoice_balance (its partial index), and
-- only theirs are computed by the balance views, which stay the figures shown.
CREATE OR REPLACE VIEW billing.receivable AS
SELECT i.invoice_id, i.invoice_no, k.invoice_date, k.branch_id, i.buyer_name, i.kind, i.booking_id,
       bb.due, bb.received, bb.due - bb.received AS balance,
       i.amount_payable AS invoice_amount, bb.due - i.amount_payable AS other_charges,
       bb.others_pending, bb.customer_balance
  FROM billing.invoice_balance k
  JOIN billing.invoice i ON i.invoice_id = k.invoice_id
  -- one sale at a time (OFFSET 0 keeps the planner from computing every booking's balance first)
  CROSS JOIN LATERAL (SELECT * FROM billing.booking_balance bb
                       WHERE bb.booking_id = i.booking_id AND bb.invoice_id = i.invoice_id OFFSET 0) bb
 WHERE k.balance > 0 AND i.kind = 'VEHICLE' AND bb.due > bb.received
UNION ALL
SELECT i.invoice_id, i.invoice_no, k.invoice_date, k.branch_id, i.buyer_name, i.kind, NULL,
       cb.due, cb.received, cb.due - cb.received,
       i.amount_payable, cb.due - i.amount_payable, 0, cb.customer_balance
  FROM billing.invoice_balance k
  JOIN billing.invoice i ON i.invoice_id = k.invoice_id
  CROSS JOIN LATERAL (SELECT * FROM billing.counter_balance cb WHERE cb.invoice_id = k.invoice_id OFFSET 0) cb
 WHERE k.balance > 0 AND i.kind = 'COUNTER' AND cb.due > cb.received;

-- What the database holds already, as the views compute it (the owner sees every branch).
SELECT billing.rebuild_invoice_balance();
