-- The billing schema's functions, triggers and views as they are now: init-db runs this file
-- again whenever it changes (webapp/migrations.py), after the numbered migrations. A fix to one of
-- them is an edit here, never a new numbered file (docs/ARCHITECTURE.md, "Database rules live
-- in PostgreSQL").

CREATE OR REPLACE FUNCTION billing.threshold_on(p_code text, p_on date) RETURNS numeric
LANGUAGE sql STABLE
AS $$
    SELECT amount FROM billing.threshold
     WHERE code = p_code AND master.valid_during(effective_from, effective_to) @> p_on
$$;

-- The numbering series of an invoice of each kind: tax invoices of goods sold or transferred in INV,
-- the workshop's service invoices in SI, its no-charge job sheets in JS (sql/0025).
CREATE OR REPLACE FUNCTION billing.invoice_series(p_kind text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE p_kind WHEN 'SERVICE' THEN 'SI' WHEN 'JOB_SHEET' THEN 'JS' ELSE 'INV' END $$;

-- Before an invoice is written: who and where it is for, the place of supply, the rule-46
-- address, TCS and the number. The number is taken last, so a refusal costs no number.
-- Where the goods go decides the tax, and the printed "Ship to" always agrees with the place of
-- supply (the rules are listed at the top of sql/0011_counter_sale_gst.sql).
CREATE OR REPLACE FUNCTION billing.post_invoice() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    br master.branch;
    b sales.booking;
    a_unit integer;
    pos_default char(2);
    tcs billing.tcs_rule;
BEGIN
    SELECT * INTO STRICT br FROM master.branch WHERE branch_id = NEW.branch_id;
    NEW.supplier_gstin := br.gstin;
    NEW.supplier_state_code := br.state_code;
    IF NEW.kind = 'VEHICLE' THEN
        SELECT * INTO STRICT b FROM sales.booking WHERE booking_id = NEW.booking_id FOR UPDATE;
        IF b.stage <> 'ALLOTTED' THEN
            RAISE EXCEPTION 'booking % is %: a unit must be allotted before invoicing', b.booking_no, lower(b.stage)
                USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_booking_allotted';
        END IF;
        IF b.discount_status IN ('PENDING', 'REJECTED') THEN
            RAISE EXCEPTION 'the discount on booking % is %', b.booking_no, lower(b.discount_status)
                USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_discount_decided';
        END IF;
        SELECT unit_id INTO a_unit FROM sales.allotment WHERE booking_id = b.booking_id AND released_at IS NULL;
        IF b.branch_id <> NEW.branch_id OR b.customer_id IS DISTINCT FROM NEW.customer_id
           OR a_unit IS DISTINCT FROM NEW.unit_id THEN
            RAISE EXCEPTION 'the invoice does not match booking % (branch, customer or allotted unit)', b.booking_no
                USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_matches_booking';
        END IF;
        pos_default := coalesce(b.delivery_state_code, br.state_code);
        SELECT * INTO tcs FROM billing.tcs_rule
         WHERE master.valid_during(effective_from, effective_to) @> NEW.invoice_date;
        IF FOUND AND NEW.grand_total > tcs.above_amount THEN
            NEW.tcs_rate := tcs.rate;
            NEW.tcs_amount := round(NEW.grand_total * tcs.rate / 100, 2);
        ELSE
            NEW.tcs_rate := 0;
            NEW.tcs_amount := 0;
        END IF;
    ELSE
        -- Delivered at the counter: the showroom's state; delivered to an address: its state. A
        -- service invoice alike: the workshop's state, or where the work was done and delivered.
        pos_default := coalesce(NEW.delivery_state_code, br.state_code);
        NEW.tcs_rate := 0;
        NEW.tcs_amount := 0;
    END IF;
    IF NOT NEW.pos_overridden AND NEW.place_of_supply <> pos_default THEN
        RAISE EXCEPTION 'place of supply % differs from where the goods are delivered (%) without an override',
            NEW.place_of_supply, pos_default
            USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_place_of_supply';
    END IF;
    IF (NEW.delivery_address IS NULL) <> (NEW.delivery_state_code IS NULL) THEN
        RAISE EXCEPTION 'a delivery address is given with its state (and a delivery state with its address)'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_delivery_state';
    END IF;
    IF NEW.delivery_state_code <> NEW.place_of_supply THEN
        RAISE EXCEPTION 'the goods are delivered in % but the place of supply is %: they must agree',
            NEW.delivery_state_code, NEW.place_of_supply
            USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_ship_to_state';
    END IF;
    IF NEW.place_of_supply <> br.state_code AND NEW.delivery_address IS NULL THEN
        RAISE EXCEPTION 'a place of supply (%) outside the showroom''s state (%) needs the delivery address there',
            NEW.place_of_supply, br.state_code
            USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_ship_to_address';
    END IF;
    IF NEW.buyer_gstin IS NULL AND NEW.taxable_value >= billing.threshold_on('B2C_ADDRESS', NEW.invoice_date)
       AND (NEW.buyer_address IS NULL OR NEW.buyer_state_code IS NULL) THEN
        RAISE EXCEPTION 'an unregistered buyer at this value needs the delivery address and state (rule 46)'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_b2c_address';
    END IF;
    NEW.posted_by := coalesce(audit.current_staff_id(), NEW.posted_by);
    NEW.posted_at := now();
    NEW.invoice_no := master.next_document_no(NEW.branch_id, billing.invoice_series(NEW.kind), NEW.invoice_date);
    -- Consecutive numbers of a series carry non-decreasing dates (the counter row lock serialises this).
    IF EXISTS (SELECT 1 FROM billing.invoice
                WHERE branch_id = NEW.branch_id AND invoice_date > NEW.invoice_date
                  AND invoice_date >= make_date(master.fy_start_year(NEW.invoice_date), 4, 1)
                  AND billing.invoice_series(kind) = billing.invoice_series(NEW.kind)) THEN
        RAISE EXCEPTION 'an invoice of a later date is already posted; % cannot be dated %',
            NEW.invoice_no, to_char(NEW.invoice_date, 'DD-MM-YYYY')
            USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_date_in_order';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER invoice_post BEFORE INSERT ON billing.invoice
    FOR EACH ROW EXECUTE FUNCTION billing.post_invoice();

CREATE OR REPLACE FUNCTION billing.after_invoice() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.kind = 'VEHICLE' THEN
        UPDATE inventory.vehicle_unit SET status = 'INVOICED' WHERE unit_id = NEW.unit_id;
        UPDATE sales.booking SET stage = 'INVOICED', invoice_id = NEW.invoice_id WHERE booking_id = NEW.booking_id;
    END IF;
    IF NEW.pos_overridden THEN
        PERFORM audit.record_event('place_of_supply_override', 'billing.invoice', NEW.invoice_id::text,
            jsonb_build_object('invoice_no', NEW.invoice_no, 'place_of_supply', NEW.place_of_supply,
                               'supplier_state', NEW.supplier_state_code, 'reason', NEW.pos_override_reason));
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER invoice_after_post AFTER INSERT ON billing.invoice
    FOR EACH ROW EXECUTE FUNCTION billing.after_invoice();

-- At commit: the lines add up to the header, and a vehicle invoice sells its one unit. A service
-- invoice charges the customer for at least one line; a job sheet for none (sql/0025).
CREATE OR REPLACE FUNCTION billing.check_invoice_lines() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    s record;
BEGIN
    SELECT count(*) AS n, coalesce(sum(taxable_value), 0) AS taxable, coalesce(sum(cgst), 0) AS cgst,
           coalesce(sum(sgst), 0) AS sgst, coalesce(sum(igst), 0) AS igst,
           count(*) FILTER (WHERE unit_id IS NOT NULL) AS units,
           count(*) FILTER (WHERE unit_id = NEW.unit_id) AS the_unit,
           count(*) FILTER (WHERE coverage = 'CUSTOMER') AS charged
      INTO s FROM billing.invoice_line WHERE invoice_id = NEW.invoice_id;
    IF s.n = 0 OR (s.taxable, s.cgst, s.sgst, s.igst) IS DISTINCT FROM (NEW.taxable_value, NEW.cgst, NEW.sgst, NEW.igst) THEN
        RAISE EXCEPTION 'invoice % lines (% lines, taxable %) do not add up to its totals (taxable %)',
            NEW.invoice_no, s.n, s.taxable, NEW.taxable_value
            USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_lines_add_up';
    END IF;
    IF NEW.kind = 'VEHICLE' AND (s.units <> 1 OR s.the_unit <> 1)
       OR NEW.kind IN ('COUNTER', 'SERVICE', 'JOB_SHEET') AND s.units <> 0 THEN
        RAISE EXCEPTION 'invoice % must sell exactly its one vehicle', NEW.invoice_no
            USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_lines_add_up';
    END IF;
    IF NEW.kind = 'SERVICE' AND s.charged = 0 THEN
        RAISE EXCEPTION 'service invoice % charges the customer for nothing: work all under warranty or free service gets a job sheet',
            NEW.invoice_no
            USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_service_charges_customer';
    END IF;
    IF NEW.kind = 'JOB_SHEET' AND s.charged > 0 THEN
        RAISE EXCEPTION 'job sheet % has work the customer pays for: that is billed on a service invoice', NEW.invoice_no
            USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_job_sheet_no_charge';
    END IF;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS invoice_lines_add_up ON billing.invoice;
CREATE CONSTRAINT TRIGGER invoice_lines_add_up AFTER INSERT ON billing.invoice
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION billing.check_invoice_lines();

-- A line joins its invoice only in the posting transaction, at the rate of the day, with the
-- tax heads of the place of supply; a part line takes the part out of stock. On a transfer
-- invoice the vehicles are the transfer's, and its part lines take nothing out of stock (the
-- transfer did). On a service invoice or job sheet each line is a part under its HSN or a labour
-- operation under its SAC, as the masters have them, and takes nothing out of stock (the part
-- left it when it was issued to the job card); only those carry warranty or free-service lines.
CREATE OR REPLACE FUNCTION billing.post_invoice_line() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    inv billing.invoice;
    rate numeric;
BEGIN
    SELECT * INTO STRICT inv FROM billing.invoice WHERE invoice_id = NEW.invoice_id;
    IF inv.posted_at <> now() THEN
        RAISE EXCEPTION 'invoice % is posted; its lines cannot change', inv.invoice_no
            USING ERRCODE = 'restrict_violation', CONSTRAINT = 'invoice_is_permanent';
    END IF;
    rate := master.gst_rate_on(NEW.hsn_code, inv.invoice_date);
    IF rate IS DISTINCT FROM NEW.gst_rate THEN
        RAISE EXCEPTION 'GST on % is % on %, not %', NEW.hsn_code, coalesce(rate::text, 'not in the tax master'),
            to_char(inv.invoice_date, 'DD-MM-YYYY'), NEW.gst_rate
            USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_line_rate';
    END IF;
    -- By the heads present (a line of a few paise may round to no tax at all).
    IF (inv.place_of_supply = inv.supplier_state_code AND NEW.igst <> 0)
       OR (inv.place_of_supply <> inv.supplier_state_code AND (NEW.cgst <> 0 OR NEW.sgst <> 0)) THEN
        RAISE EXCEPTION 'line % of invoice % has the wrong tax heads for its place of supply', NEW.line_no, inv.invoice_no
            USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_line_tax_heads';
    END IF;
    IF NEW.coverage <> 'CUSTOMER' AND inv.kind NOT IN ('SERVICE', 'JOB_SHEET') THEN
        RAISE EXCEPTION 'line % of invoice %: only workshop work is covered by warranty or free service', NEW.line_no,
            inv.invoice_no
            USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_line_coverage_on_service';
    END IF;
    IF inv.kind IN ('SERVICE', 'JOB_SHEET') THEN
        IF num_nonnulls(NEW.part_id, NEW.operation_code) <> 1 THEN
            RAISE EXCEPTION 'line % of % names neither a part nor a labour operation', NEW.line_no, inv.invoice_no
                USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_service_line_item';
        END IF;
        IF NEW.hsn_code IS DISTINCT FROM coalesce(
               (SELECT p.hsn_code FROM master.part p WHERE p.part_id = NEW.part_id),
               (SELECT o.sac_code FROM master.labour_operation o WHERE o.operation_code = NEW.operation_code)) THEN
            RAISE EXCEPTION 'line % of %: HSN/SAC % is not the one the master gives its part or labour operation',
                NEW.line_no, inv.invoice_no, NEW.hsn_code
                USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_line_hsn_of_item';
        END IF;
        RETURN NEW;
    END IF;
    IF inv.kind = 'TRANSFER' THEN
        IF NOT EXISTS (SELECT 1 FROM inventory.stock_transfer_line l
                        WHERE l.transfer_id = inv.transfer_id
                          AND (l.unit_id = NEW.unit_id OR (l.part_id = NEW.part_id AND l.qty = NEW.qty))) THEN
            RAISE EXCEPTION 'line % of invoice % is not on the transfer it bills', NEW.line_no, inv.invoice_no
                USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_lines_add_up';
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.unit_id IS NOT NULL AND NEW.unit_id IS DISTINCT FROM inv.unit_id THEN
        RAISE EXCEPTION 'line % sells a vehicle the invoice is not for', NEW.line_no
            USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_lines_add_up';
    END IF;
    IF NEW.part_id IS NOT NULL THEN
        INSERT INTO inventory.stock_move (branch_id, part_id, kind, qty, unit_cost, reference)
        VALUES (inv.branch_id, NEW.part_id, 'COUNTER_SALE', -NEW.qty, 0, inv.invoice_no);
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER invoice_line_post BEFORE INSERT ON billing.invoice_line
    FOR EACH ROW EXECUTE FUNCTION billing.post_invoice_line();

CREATE OR REPLACE TRIGGER invoice_line_is_permanent BEFORE UPDATE OR DELETE ON billing.invoice_line
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- A posted invoice never changes; only the e-invoice details are filled in, once.
CREATE OR REPLACE FUNCTION billing.check_invoice_change() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    -- amount_payable is generated: NULL in NEW before the update, so left out of the comparison.
    einvoice text[] := ARRAY['irn', 'ack_no', 'ack_date', 'signed_qr', 'amount_payable'];
BEGIN
    IF TG_OP = 'DELETE' OR OLD.irn IS NOT NULL OR (to_jsonb(NEW) - einvoice) <> (to_jsonb(OLD) - einvoice) THEN
        RAISE EXCEPTION 'invoice % is posted; % is not allowed (a correction is a credit note)', OLD.invoice_no, TG_OP
            USING ERRCODE = 'restrict_violation', CONSTRAINT = 'invoice_is_permanent';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER invoice_is_permanent BEFORE UPDATE OR DELETE ON billing.invoice
    FOR EACH ROW EXECUTE FUNCTION billing.check_invoice_change();

-- The note copies the invoice's amounts (it reverses all of it), takes its number, and puts
-- back what the invoice took out: the unit to stock (booking back to booked), parts to stock
-- at the cost they left at (none for a service invoice, which took none out).
CREATE OR REPLACE FUNCTION billing.post_credit_note() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    inv billing.invoice;
BEGIN
    SELECT * INTO STRICT inv FROM billing.invoice WHERE invoice_id = NEW.invoice_id FOR UPDATE;
    IF NEW.note_date < inv.invoice_date THEN
        RAISE EXCEPTION 'a credit note cannot be dated before invoice % (%)', inv.invoice_no,
            to_char(inv.invoice_date, 'DD-MM-YYYY')
            USING ERRCODE = 'check_violation', CONSTRAINT = 'credit_note_after_invoice';
    END IF;
    NEW.branch_id := inv.branch_id;
    NEW.taxable_value := inv.taxable_value;
    NEW.cgst := inv.cgst;
    NEW.sgst := inv.sgst;
    NEW.igst := inv.igst;
    NEW.round_off := inv.round_off;
    NEW.grand_total := inv.grand_total;
    NEW.tcs_amount := inv.tcs_amount;
    NEW.posted_by := coalesce(audit.current_staff_id(), NEW.posted_by);
    NEW.posted_at := now();
    NEW.credit_note_no := master.next_document_no(inv.branch_id, 'CRN', NEW.note_date);
    IF inv.kind = 'VEHICLE' THEN
        UPDATE sales.allotment SET released_at = now(), release_reason = 'credit note ' || NEW.credit_note_no
         WHERE booking_id = inv.booking_id AND released_at IS NULL;
        UPDATE inventory.vehicle_unit SET status = 'IN_STOCK' WHERE unit_id = inv.unit_id;
        UPDATE sales.booking SET stage = 'BOOKED', invoice_id = NULL WHERE booking_id = inv.booking_id;
    END IF;
    INSERT INTO inventory.stock_move (branch_id, part_id, kind, qty, unit_cost, reference, reason)
    SELECT inv.branch_id, l.part_id, 'SALES_RETURN', l.qty,
           coalesce((SELECT m.unit_cost FROM inventory.stock_move m
                      WHERE m.branch_id = inv.branch_id AND m.part_id = l.part_id AND m.kind = 'COUNTER_SALE'
                        AND m.reference = inv.invoice_no ORDER BY m.move_id LIMIT 1), 0),
           NEW.credit_note_no, 'credit note against ' || inv.invoice_no
      FROM billing.invoice_line l
     WHERE l.invoice_id = inv.invoice_id AND l.part_id IS NOT NULL
       -- a service invoice's parts left stock on the job card and are fitted to the vehicle
       AND inv.kind NOT IN ('SERVICE', 'JOB_SHEET');
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER credit_note_post BEFORE INSERT ON billing.credit_note
    FOR EACH ROW EXECUTE FUNCTION billing.post_credit_note();

CREATE OR REPLACE TRIGGER credit_note_is_permanent BEFORE UPDATE OR DELETE ON billing.credit_note
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- ---------------------------------------------------------------------------
-- A view reads its tables as its owner, who bypasses the branch policies of sql/0014
-- (security_invoker would change that, but only from PostgreSQL 15): the views carry the same
-- rule in their own WHERE, so a query through them sees what the request may see, on every
-- PostgreSQL from 14.
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
                 AS subsidy_pending) tp
 WHERE platform.branch_visible(b.branch_id);

-- A counter sale or a service invoice has no third party: the customer's balance is the balance.
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
 WHERE i.kind IN ('COUNTER', 'SERVICE') AND platform.branch_visible(i.branch_id);

-- Never receive more than is due (a refund voucher gives back an excess), never take cash of
-- the s.269ST limit or more for one sale, never credit more exchange, subsidy or loan than
-- recorded. The sale's row is locked, so concurrent receipts queue.
CREATE OR REPLACE FUNCTION billing.post_receipt() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    b sales.booking;
    bal record;
    cash_before numeric;
    mode_before numeric;
    mode_cap numeric;
    cash_limit numeric;
BEGIN
    IF NEW.booking_id IS NOT NULL THEN
        SELECT * INTO STRICT b FROM sales.booking WHERE booking_id = NEW.booking_id FOR UPDATE;
        IF b.stage = 'CANCELLED' THEN
            RAISE EXCEPTION 'booking % is cancelled', b.booking_no
                USING ERRCODE = 'check_violation', CONSTRAINT = 'receipt_sale_open';
        END IF;
        NEW.branch_id := b.branch_id;
        NEW.is_advance := b.stage IN ('BOOKED', 'ALLOTTED');
        SELECT due, received INTO bal FROM billing.booking_balance WHERE booking_id = b.booking_id;
        SELECT coalesce(sum(amount) FILTER (WHERE mode = 'CASH'), 0),
               coalesce(sum(amount) FILTER (WHERE mode = NEW.mode), 0)
          INTO cash_before, mode_before FROM billing.receipt WHERE booking_id = b.booking_id;
        mode_cap := CASE NEW.mode
            WHEN 'EXCHANGE' THEN coalesce((SELECT valuation FROM sales.exchange WHERE booking_id = b.booking_id), 0)
            WHEN 'SUBSIDY' THEN b.subsidy_eligible
            WHEN 'FINANCE' THEN coalesce((SELECT loan_amount FROM sales.finance WHERE booking_id = b.booking_id), 0)
        END;
        IF mode_cap IS NOT NULL AND mode_before + NEW.amount > mode_cap THEN
            RAISE EXCEPTION '% of % would exceed the % recorded for booking %', lower(NEW.mode), NEW.amount,
                mode_cap - mode_before, b.booking_no
                USING ERRCODE = 'check_violation', CONSTRAINT = 'receipt_mode_cap';
        END IF;
    ELSE
        SELECT i.branch_id INTO STRICT NEW.branch_id FROM billing.invoice i WHERE i.invoice_id = NEW.invoice_id FOR UPDATE;
        SELECT due, received INTO bal FROM billing.counter_balance WHERE invoice_id = NEW.invoice_id;
        IF bal IS NULL THEN
            RAISE EXCEPTION 'receipts against a vehicle invoice are taken on its booking'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'receipt_sale_open';
        END IF;
        SELECT coalesce(sum(amount) FILTER (WHERE mode = 'CASH'), 0) INTO cash_before
          FROM billing.receipt WHERE invoice_id = NEW.invoice_id;
        IF NEW.mode IN ('FINANCE', 'EXCHANGE', 'SUBSIDY') THEN
            RAISE EXCEPTION 'a counter sale is paid in cash, UPI, card, cheque or bank transfer'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'receipt_mode_cap';
        END IF;
    END IF;
    IF bal.received + NEW.amount > bal.due THEN
        RAISE EXCEPTION 'receipt of % is more than the % still due', NEW.amount, greatest(bal.due - bal.received, 0)
            USING ERRCODE = 'check_violation', CONSTRAINT = 'receipt_not_over_due';
    END IF;
    cash_limit := billing.threshold_on('CASH_RECEIPT_LIMIT', NEW.receipt_date);
    IF NEW.mode = 'CASH' AND cash_limit IS NOT NULL AND cash_before + NEW.amount >= cash_limit THEN
        RAISE EXCEPTION 'cash for one sale must stay below % (s.269ST); % already received in cash',
            cash_limit, cash_before
            USING ERRCODE = 'check_violation', CONSTRAINT = 'receipt_cash_limit';
    END IF;
    NEW.posted_by := coalesce(audit.current_staff_id(), NEW.posted_by);
    NEW.posted_at := now();
    NEW.receipt_no := master.next_document_no(NEW.branch_id, 'RCT', NEW.receipt_date);
    -- The subsidy credited at sale quotes the e-voucher: the claim register learns its id.
    IF NEW.mode = 'SUBSIDY' AND NEW.booking_id IS NOT NULL AND NEW.reference ~ '^[A-Za-z0-9/-]{4,40}$' THEN
        UPDATE sales.subsidy_claim SET voucher_id = NEW.reference
         WHERE booking_id = NEW.booking_id AND voucher_id IS NULL;
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER receipt_post BEFORE INSERT ON billing.receipt
    FOR EACH ROW EXECUTE FUNCTION billing.post_receipt();

CREATE OR REPLACE TRIGGER receipt_is_permanent BEFORE UPDATE OR DELETE ON billing.receipt
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- A refund gives back only what was received beyond what is due; a cancellation charge is
-- kept only on a cancelled booking (it is what the cancelled sale still comes to).
CREATE OR REPLACE FUNCTION billing.post_refund() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    b sales.booking;
    bal record;
BEGIN
    IF NEW.booking_id IS NOT NULL THEN
        SELECT * INTO STRICT b FROM sales.booking WHERE booking_id = NEW.booking_id FOR UPDATE;
        IF NEW.cancellation_charge > 0 AND b.stage <> 'CANCELLED' THEN
            RAISE EXCEPTION 'a cancellation charge needs booking % cancelled first', b.booking_no
                USING ERRCODE = 'check_violation', CONSTRAINT = 'refund_charge_on_cancelled';
        END IF;
        NEW.branch_id := b.branch_id;
        SELECT due, received INTO bal FROM billing.booking_balance WHERE booking_id = b.booking_id;
    ELSE
        SELECT i.branch_id INTO STRICT NEW.branch_id FROM billing.invoice i WHERE i.invoice_id = NEW.invoice_id FOR UPDATE;
        SELECT due, received INTO bal FROM billing.counter_balance WHERE invoice_id = NEW.invoice_id;
        IF bal IS NULL THEN
            RAISE EXCEPTION 'refunds on a vehicle sale are made on its booking'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'refund_not_above_excess';
        END IF;
    END IF;
    IF bal.received - NEW.amount < bal.due + NEW.cancellation_charge THEN
        RAISE EXCEPTION 'refund of % is more than the % received beyond what is due', NEW.amount,
            greatest(bal.received - bal.due - NEW.cancellation_charge, 0)
            USING ERRCODE = 'check_violation', CONSTRAINT = 'refund_not_above_excess';
    END IF;
    NEW.posted_by := coalesce(audit.current_staff_id(), NEW.posted_by);
    NEW.posted_at := now();
    NEW.refund_no := master.next_document_no(NEW.branch_id, 'RFD', NEW.refund_date);
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER refund_post BEFORE INSERT ON billing.refund
    FOR EACH ROW EXECUTE FUNCTION billing.post_refund();

CREATE OR REPLACE TRIGGER refund_is_permanent BEFORE UPDATE OR DELETE ON billing.refund
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

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
    ELSIF inv.kind IN ('COUNTER', 'SERVICE') THEN
        SELECT cb.due, cb.received INTO cur FROM billing.counter_balance cb WHERE cb.invoice_id = inv.invoice_id;
        standing := FOUND;
    END IF;
    IF NOT standing THEN
        -- a credit note took the vehicle invoice off its booking (or it is a transfer invoice or a job sheet)
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

-- The documents that move a balance: an invoice (a counter sale or a service invoice; a vehicle invoice arrives through
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
    FOR EACH ROW WHEN (NEW.kind IN ('COUNTER', 'SERVICE')) EXECUTE FUNCTION billing.balance_moved();

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
 WHERE k.balance > 0 AND i.kind IN ('COUNTER', 'SERVICE') AND cb.due > cb.received;

-- The invoices still owed something, as the kept balances have them, for the home screen's money owed by
-- age (the register's buckets: webapp/billing/registers.py receivable_buckets). A view, read as its owner,
-- carries the branch rule in its WHERE like billing.receivable: through the table's own policy the planner
-- may not use the balances' statistics for "balance > 0" (not leakproof), guessed half the invoices owed
-- and started a parallel worker to read the 200 that are.
CREATE OR REPLACE VIEW billing.invoice_owed AS
SELECT k.invoice_id, k.branch_id, k.invoice_date, k.balance
  FROM billing.invoice_balance k
 WHERE k.balance > 0 AND platform.branch_visible(k.branch_id);

-- The recorded exchange valuation, loan amount and subsidy can be lowered only down to what
-- has already been received against them.
CREATE OR REPLACE FUNCTION billing.check_cap_covers_receipts() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    receipt_mode text;
    cap numeric;
    taken numeric;
BEGIN
    CASE TG_TABLE_NAME
        WHEN 'exchange' THEN receipt_mode := 'EXCHANGE'; cap := CASE WHEN TG_OP = 'DELETE' THEN 0 ELSE NEW.valuation END;
        WHEN 'finance' THEN receipt_mode := 'FINANCE'; cap := CASE WHEN TG_OP = 'DELETE' THEN 0 ELSE NEW.loan_amount END;
        ELSE receipt_mode := 'SUBSIDY'; cap := NEW.subsidy_eligible;
    END CASE;
    SELECT coalesce(sum(amount), 0) INTO taken FROM billing.receipt
     WHERE booking_id = OLD.booking_id AND mode = receipt_mode;
    IF cap < taken THEN
        RAISE EXCEPTION '% already received as % on this sale; the amount cannot go below it', taken, lower(receipt_mode)
            USING ERRCODE = 'check_violation', CONSTRAINT = 'receipt_mode_cap';
    END IF;
    RETURN coalesce(NEW, OLD);
END
$$;

CREATE OR REPLACE TRIGGER exchange_covers_receipts BEFORE UPDATE OR DELETE ON sales.exchange
    FOR EACH ROW EXECUTE FUNCTION billing.check_cap_covers_receipts();

CREATE OR REPLACE TRIGGER finance_covers_receipts BEFORE UPDATE OR DELETE ON sales.finance
    FOR EACH ROW EXECUTE FUNCTION billing.check_cap_covers_receipts();

CREATE OR REPLACE TRIGGER booking_subsidy_covers_receipts BEFORE UPDATE OF subsidy_eligible ON sales.booking
    FOR EACH ROW EXECUTE FUNCTION billing.check_cap_covers_receipts();

-- A transfer invoice is made out to the receiving branch as it is registered, and goes to its
-- address; named to fire before invoice_post, which then checks the place of supply as for any
-- invoice delivered to an address.
CREATE OR REPLACE FUNCTION billing.fill_transfer_invoice() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    t inventory.stock_transfer;
    sender master.branch;
    receiver master.branch;
BEGIN
    IF NEW.kind <> 'TRANSFER' THEN
        RETURN NEW;
    END IF;
    SELECT * INTO STRICT t FROM inventory.stock_transfer WHERE transfer_id = NEW.transfer_id FOR UPDATE;
    SELECT * INTO STRICT sender FROM master.branch WHERE branch_id = t.branch_id;
    SELECT * INTO STRICT receiver FROM master.branch WHERE branch_id = t.to_branch_id;
    IF NEW.branch_id <> t.branch_id THEN
        RAISE EXCEPTION 'transfer % is invoiced by the branch that sends it', t.transfer_no
            USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_transfer_sender';
    END IF;
    IF sender.gstin = receiver.gstin THEN
        RAISE EXCEPTION 'transfer % stays within GSTIN %: it travels on a delivery challan, not a tax invoice',
            t.transfer_no, sender.gstin
            USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_transfer_distinct_gstin';
    END IF;
    NEW.customer_id := NULL;
    NEW.buyer_name := receiver.legal_name;
    NEW.buyer_gstin := receiver.gstin;
    NEW.buyer_state_code := receiver.state_code;
    NEW.buyer_mobile := NULL;
    NEW.buyer_address := concat_ws(', ', receiver.address_line1, receiver.address_line2, receiver.city,
                                   'PIN ' || receiver.pincode);
    NEW.delivery_address := NEW.buyer_address;
    NEW.delivery_state_code := receiver.state_code;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER invoice_a_transfer BEFORE INSERT ON billing.invoice
    FOR EACH ROW EXECUTE FUNCTION billing.fill_transfer_invoice();

-- A transfer is undone by a transfer back (billed again), never by a credit note that would put
-- the goods back into the sending branch's stock. A job sheet charged nothing: nothing to credit.
CREATE OR REPLACE FUNCTION billing.refuse_transfer_credit_note() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    invoice_kind text := (SELECT kind FROM billing.invoice WHERE invoice_id = NEW.invoice_id);
BEGIN
    IF invoice_kind = 'TRANSFER' THEN
        RAISE EXCEPTION 'a stock transfer is undone by a transfer back, not by a credit note'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'credit_note_not_for_transfer';
    END IF;
    IF invoice_kind = 'JOB_SHEET' THEN
        RAISE EXCEPTION 'a job sheet charged the customer nothing: there is nothing to credit'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'credit_note_not_for_job_sheet';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER credit_note_a_not_for_transfer BEFORE INSERT ON billing.credit_note
    FOR EACH ROW EXECUTE FUNCTION billing.refuse_transfer_credit_note();

-- Is this bill of the workshop settled, so the vehicle may leave (the gate pass asks)? A service
-- invoice when what was received covers what is due; a job sheet always (it charges nothing). A
-- service invoice reversed by a credit note never releases a vehicle: the job card is billed again.
-- NULL for an invoice of another kind, or one this branch cannot see.
CREATE OR REPLACE FUNCTION billing.invoice_paid_in_full(p_invoice_id integer) RETURNS boolean
LANGUAGE sql STABLE
AS $$
    SELECT CASE i.kind
               WHEN 'JOB_SHEET' THEN true
               WHEN 'SERVICE' THEN NOT EXISTS (SELECT 1 FROM billing.credit_note cn WHERE cn.invoice_id = i.invoice_id)
                                   AND (SELECT cb.received >= cb.due FROM billing.counter_balance cb
                                         WHERE cb.invoice_id = i.invoice_id)
           END
      FROM billing.invoice i
     WHERE i.invoice_id = p_invoice_id AND platform.branch_visible(i.branch_id)
$$;
