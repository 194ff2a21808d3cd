-- What the customer owes in person, accessory lines on a vehicle sale, and the hand-over gate.
--
-- A sale's balance is paid partly by others: the financier's loan, the exchange vehicle's value
-- and the PM E-DRIVE subsidy that the OEM reimburses. Whatever is shown to the customer as "to
-- pay" (the UPI QR, the payment form, the receipt's balance) is the customer's own share; the
-- rest is shown beside it. The vehicle is handed over only when nothing is left for the
-- customer to pay, the loan is covered by a delivery order, the subsidy by its e-voucher, a
-- policy insures it and (for models that need it) registration has been applied for;
-- otherwise a manager releases it with a reason.

-- ---------------------------------------------------------------------------
-- Accessories sold with the vehicle: one line each, HSN, quantity, unit price, GST-inclusive or
-- exclusive. Each becomes its own line of the tax invoice (a part line takes the part out of
-- stock when the invoice is posted).
-- ---------------------------------------------------------------------------
CREATE TABLE sales.booking_accessory (
    booking_id         integer NOT NULL REFERENCES sales.booking (booking_id),
    line_no            smallint NOT NULL CHECK (line_no BETWEEN 1 AND 50),
    part_id            integer REFERENCES master.part (part_id),
    description        text NOT NULL CHECK (length(btrim(description)) BETWEEN 2 AND 200),
    hsn_code           text NOT NULL REFERENCES master.hsn (hsn_code),
    qty                numeric(12,3) NOT NULL CHECK (qty > 0 AND qty <= 9999),
    unit               text NOT NULL DEFAULT 'NOS' CHECK (unit ~ '^[A-Z]{2,5}$'),
    unit_price         numeric(14,2) NOT NULL CHECK (unit_price >= 0),
    price_includes_gst boolean NOT NULL,
    PRIMARY KEY (booking_id, line_no)
);
SELECT audit.track('sales.booking_accessory', 'booking_id');

-- Like the on-road charges: they change only while nothing has been invoiced.
CREATE TRIGGER booking_accessory_change BEFORE INSERT OR UPDATE OR DELETE ON sales.booking_accessory
    FOR EACH ROW EXECUTE FUNCTION sales.check_booking_item_change();

-- What a line comes to with GST (the invoice's own arithmetic: tax per line, half up to the paisa),
-- at the rate in force on a day.
CREATE FUNCTION sales.accessory_amount(a sales.booking_accessory, on_day date) RETURNS numeric
LANGUAGE sql STABLE
AS $$
    SELECT CASE WHEN a.price_includes_gst THEN round(a.qty * a.unit_price, 2)
                ELSE round(a.qty * a.unit_price, 2)
                     + round(round(a.qty * a.unit_price, 2) * coalesce(master.gst_rate_on(a.hsn_code, on_day), 0) / 100, 2)
           END
$$;

-- ---------------------------------------------------------------------------
-- The balance of a sale, split into what others pay and what the customer pays.
-- Columns kept from 0007 (booking_id .. received), then:
--   loan_pending, exchange_pending, subsidy_pending: recorded and not yet credited;
--   others_pending: their sum; customer_balance: due - received - others_pending (negative:
--   the customer paid more than their share).
-- Before the invoice the accessory lines count at today's GST rate; after it, the invoice does.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE VIEW billing.booking_balance AS
SELECT b.booking_id, b.branch_id, b.stage, b.invoice_id,
       CASE WHEN b.stage = 'CANCELLED' THEN coalesce(rf.charges, 0)
            WHEN b.invoice_id IS NOT NULL THEN i.amount_payable + coalesce(it.others, 0)
            ELSE b.ex_showroom - b.discount + coalesce(it.all_items, 0) + coalesce(ac.amount, 0) END AS due,
       coalesce(rc.received, 0) - coalesce(rf.refunded, 0) AS received,
       tp.loan_pending, tp.exchange_pending, tp.subsidy_pending,
       tp.loan_pending + tp.exchange_pending + tp.subsidy_pending AS others_pending,
       CASE WHEN b.stage = 'CANCELLED' THEN coalesce(rf.charges, 0)
            WHEN b.invoice_id IS NOT NULL THEN i.amount_payable + coalesce(it.others, 0)
            ELSE b.ex_showroom - b.discount + coalesce(it.all_items, 0) + coalesce(ac.amount, 0) END
         - (coalesce(rc.received, 0) - coalesce(rf.refunded, 0))
         - (tp.loan_pending + tp.exchange_pending + tp.subsidy_pending) AS customer_balance
  FROM sales.booking b
  LEFT JOIN billing.invoice i ON i.invoice_id = b.invoice_id
  LEFT JOIN LATERAL (SELECT sum(amount) AS all_items, sum(amount) FILTER (WHERE hsn_code IS NULL) AS others
                       FROM sales.booking_item WHERE booking_id = b.booking_id) it ON true
  LEFT JOIN LATERAL (SELECT sum(sales.accessory_amount(a, current_date)) AS amount
                       FROM sales.booking_accessory a WHERE a.booking_id = b.booking_id) ac ON true
  LEFT JOIN LATERAL (SELECT sum(amount) AS received,
                            coalesce(sum(amount) FILTER (WHERE mode = 'FINANCE'), 0) AS finance,
                            coalesce(sum(amount) FILTER (WHERE mode = 'EXCHANGE'), 0) AS exchange,
                            coalesce(sum(amount) FILTER (WHERE mode = 'SUBSIDY'), 0) AS subsidy
                       FROM billing.receipt WHERE booking_id = b.booking_id) rc ON true
  LEFT JOIN LATERAL (SELECT sum(amount) AS refunded, sum(cancellation_charge) AS charges
                       FROM billing.refund WHERE booking_id = b.booking_id) rf ON true
  LEFT JOIN sales.finance f ON f.booking_id = b.booking_id
  LEFT JOIN sales.exchange x ON x.booking_id = b.booking_id
  CROSS JOIN LATERAL (
      SELECT CASE WHEN b.stage = 'CANCELLED' THEN 0 ELSE greatest(coalesce(f.loan_amount, 0) - rc.finance, 0) END
                 AS loan_pending,
             CASE WHEN b.stage = 'CANCELLED' THEN 0 ELSE greatest(coalesce(x.valuation, 0) - rc.exchange, 0) END
                 AS exchange_pending,
             CASE WHEN b.stage = 'CANCELLED' THEN 0 ELSE greatest(b.subsidy_eligible - rc.subsidy, 0) END
                 AS subsidy_pending) tp;

-- A counter sale has no third party: the customer's balance is the balance.
CREATE OR REPLACE VIEW billing.counter_balance AS
SELECT i.invoice_id, i.branch_id,
       i.amount_payable - coalesce(cn.grand_total + cn.tcs_amount, 0) AS due,
       coalesce(rc.received, 0) - coalesce(rf.refunded, 0) AS received,
       i.amount_payable - coalesce(cn.grand_total + cn.tcs_amount, 0)
         - (coalesce(rc.received, 0) - coalesce(rf.refunded, 0)) AS customer_balance
  FROM billing.invoice i
  LEFT JOIN billing.credit_note cn ON cn.invoice_id = i.invoice_id
  LEFT JOIN LATERAL (SELECT sum(amount) AS received FROM billing.receipt WHERE invoice_id = i.invoice_id) rc ON true
  LEFT JOIN LATERAL (SELECT sum(amount) AS refunded FROM billing.refund WHERE invoice_id = i.invoice_id) rf ON true
 WHERE i.kind = 'COUNTER';

-- Outstanding receivables, one row per invoice still owed something. The columns say what they
-- hold: the invoice's own amount (with TCS), the charges collected for others on the same sale
-- (insurance, registration, plates), what the sale comes to in all (due), received, balance,
-- and of the balance what the financier / OEM / exchange will cover and what the customer owes.
CREATE OR REPLACE VIEW billing.receivable AS
SELECT i.invoice_id, i.invoice_no, i.invoice_date, i.branch_id, i.buyer_name, i.kind, i.booking_id,
       bb.due, bb.received, bb.due - bb.received AS balance,
       i.amount_payable AS invoice_amount, bb.due - i.amount_payable AS other_charges,
       bb.others_pending, bb.customer_balance
  FROM billing.booking_balance bb JOIN billing.invoice i ON i.invoice_id = bb.invoice_id
 WHERE bb.due > bb.received
UNION ALL
SELECT i.invoice_id, i.invoice_no, i.invoice_date, i.branch_id, i.buyer_name, i.kind, NULL,
       cb.due, cb.received, cb.due - cb.received,
       i.amount_payable, cb.due - i.amount_payable, 0, cb.customer_balance
  FROM billing.counter_balance cb JOIN billing.invoice i USING (invoice_id)
 WHERE cb.due > cb.received;

-- ---------------------------------------------------------------------------
-- The hand-over gate
-- ---------------------------------------------------------------------------
-- What still stands between an invoiced sale and its hand-over, one row per reason:
-- CUSTOMER_DUE (amount), LOAN_NO_DO (amount), SUBSIDY_NO_VOUCHER (amount), NO_INSURANCE,
-- NO_REGISTRATION. Empty: the vehicle may go.
CREATE FUNCTION sales.handover_missing(p_booking_id integer)
RETURNS TABLE (reason text, amount numeric)
LANGUAGE sql STABLE
AS $$
    WITH bb AS (SELECT * FROM billing.booking_balance WHERE booking_id = p_booking_id),
         b AS (SELECT b.*, m.is_low_speed,
                      (SELECT a.unit_id FROM sales.allotment a
                        WHERE a.booking_id = b.booking_id AND a.released_at IS NULL) AS unit_id
                 FROM sales.booking b JOIN oem.variant v USING (variant_id) JOIN oem.model m USING (model_id)
                WHERE b.booking_id = p_booking_id)
    SELECT 'CUSTOMER_DUE', bb.customer_balance FROM bb WHERE bb.customer_balance > 0
    UNION ALL
    SELECT 'LOAN_NO_DO', bb.loan_pending FROM bb
     WHERE bb.loan_pending > 0
       AND NOT EXISTS (SELECT 1 FROM sales.finance f WHERE f.booking_id = p_booking_id AND f.do_number IS NOT NULL)
    UNION ALL
    SELECT 'SUBSIDY_NO_VOUCHER', bb.subsidy_pending FROM bb
     WHERE bb.subsidy_pending > 0
       AND NOT EXISTS (SELECT 1 FROM sales.subsidy_claim s WHERE s.booking_id = p_booking_id AND s.voucher_id IS NOT NULL)
    UNION ALL
    SELECT 'NO_INSURANCE', NULL FROM b
     WHERE NOT EXISTS (SELECT 1 FROM insurance.policy p
                        WHERE p.booking_id = b.booking_id OR p.unit_id = b.unit_id)
    UNION ALL
    SELECT 'NO_REGISTRATION', NULL FROM b
     WHERE NOT b.is_low_speed
       AND NOT EXISTS (SELECT 1 FROM sales.registration r
                        WHERE r.booking_id = b.booking_id
                          AND (r.form20_on IS NOT NULL OR r.temp_reg_no IS NOT NULL OR r.reg_no IS NOT NULL))
$$;

-- A manager's release of the gate: who, why, and what was missing when they released it.
-- It releases one invoice's hand-over: a sale returned by a credit note and invoiced again
-- passes the gate afresh.
CREATE TABLE sales.handover_release (
    release_id   integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    booking_id   integer NOT NULL REFERENCES sales.booking (booking_id),
    invoice_id   integer NOT NULL UNIQUE REFERENCES billing.invoice (invoice_id),
    reason       text NOT NULL CHECK (length(btrim(reason)) BETWEEN 5 AND 300),
    missing      text NOT NULL CHECK (length(missing) <= 1000),
    released_by  integer NOT NULL REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    released_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX handover_release_booking_idx ON sales.handover_release (booking_id);
SELECT audit.track('sales.handover_release', 'release_id');

CREATE FUNCTION sales.check_handover_release() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    b sales.booking;
    releaser_role text;
BEGIN
    SELECT * INTO STRICT b FROM sales.booking WHERE booking_id = NEW.booking_id FOR UPDATE;
    IF b.stage <> 'INVOICED' THEN
        RAISE EXCEPTION 'booking % is %: only an invoiced sale waiting for hand-over is released', b.booking_no,
            lower(b.stage)
            USING ERRCODE = 'check_violation', CONSTRAINT = 'handover_release_invoiced';
    END IF;
    NEW.invoice_id := b.invoice_id;
    NEW.released_by := coalesce(audit.current_staff_id(), NEW.released_by);
    NEW.released_at := now();
    SELECT designation INTO releaser_role FROM master.staff WHERE staff_id = NEW.released_by AND is_active;
    IF releaser_role IS NULL OR releaser_role NOT IN ('MANAGER', 'ADMIN') THEN
        RAISE EXCEPTION 'only a manager or an administrator releases a vehicle with something outstanding'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'handover_release_by_manager';
    END IF;
    SELECT coalesce(string_agg(m.reason || coalesce(' ' || m.amount::text, ''), '; '), '')
      INTO NEW.missing FROM sales.handover_missing(NEW.booking_id) m;
    PERFORM audit.record_event('handover_released', 'sales.booking', NEW.booking_id::text,
        jsonb_build_object('booking_no', b.booking_no, 'reason', NEW.reason, 'missing', NEW.missing));
    RETURN NEW;
END
$$;
CREATE TRIGGER handover_release_check BEFORE INSERT ON sales.handover_release
    FOR EACH ROW EXECUTE FUNCTION sales.check_handover_release();
CREATE TRIGGER handover_release_is_permanent BEFORE UPDATE OR DELETE ON sales.handover_release
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- Handing over needs the invoice, every active PDI item checked OK, and the gate above clear
-- or released by a manager; the unit becomes DELIVERED and the booking with it.
CREATE OR REPLACE FUNCTION sales.deliver() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    b sales.booking;
    a_unit integer;
    missing text;
BEGIN
    SELECT * INTO STRICT b FROM sales.booking WHERE booking_id = NEW.booking_id FOR UPDATE;
    IF b.stage <> 'INVOICED' THEN
        RAISE EXCEPTION 'booking % is %: only an invoiced sale is delivered', b.booking_no, lower(b.stage)
            USING ERRCODE = 'check_violation', CONSTRAINT = 'delivery_needs_invoice';
    END IF;
    SELECT unit_id INTO STRICT a_unit FROM sales.allotment WHERE booking_id = b.booking_id AND released_at IS NULL;
    SELECT string_agg(i.name, '; ' ORDER BY i.sort_order) INTO missing
      FROM sales.pdi_item i
      LEFT JOIN sales.pdi_check c ON c.pdi_item_id = i.pdi_item_id AND c.booking_id = b.booking_id
     WHERE i.is_active AND c.is_ok IS NOT TRUE;
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'PDI not complete: %', missing
            USING ERRCODE = 'check_violation', CONSTRAINT = 'delivery_needs_pdi';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM sales.handover_release WHERE invoice_id = b.invoice_id) THEN
        SELECT string_agg(m.reason || coalesce(' ' || m.amount::text, ''), '; ') INTO missing
          FROM sales.handover_missing(b.booking_id) m;
        IF missing IS NOT NULL THEN
            RAISE EXCEPTION 'booking % cannot be handed over yet: %', b.booking_no, missing
                USING ERRCODE = 'check_violation', CONSTRAINT = 'delivery_gate';
        END IF;
    END IF;
    NEW.unit_id := a_unit;
    NEW.invoice_id := b.invoice_id;
    IF NEW.delivery_no IS NULL THEN
        NEW.delivery_no := master.next_document_no(b.branch_id, 'DLN', NEW.delivered_on);
    END IF;
    UPDATE inventory.vehicle_unit SET status = 'DELIVERED' WHERE unit_id = a_unit;
    UPDATE sales.booking SET stage = 'DELIVERED' WHERE booking_id = b.booking_id;
    RETURN NEW;
END
$$;
