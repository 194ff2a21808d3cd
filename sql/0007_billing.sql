-- Billing: tax invoices (vehicle sale and counter sale), receipt and refund vouchers, credit
-- notes, and what each sale still owes. Every document is numbered inside its posting
-- transaction from the per (branch, series, FY) counter and is permanent once posted.

CREATE SCHEMA billing;

-- ---------------------------------------------------------------------------
-- Dated thresholds and TCS (notified amounts, not constants)
-- ---------------------------------------------------------------------------
CREATE TABLE billing.threshold (
    threshold_id   integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code           text NOT NULL CHECK (code IN ('B2C_ADDRESS', 'B2CL', 'CASH_RECEIPT_LIMIT')),
    amount         numeric(14,2) NOT NULL CHECK (amount > 0),
    effective_from date NOT NULL,
    effective_to   date,
    notification   text,
    CHECK (effective_to IS NULL OR effective_to >= effective_from),
    CONSTRAINT threshold_no_overlap EXCLUDE USING gist (
        master.same_key(code) WITH &&, master.valid_during(effective_from, effective_to) WITH &&)
);
INSERT INTO billing.threshold (code, amount, effective_from, effective_to, notification) VALUES
    ('B2C_ADDRESS', 50000, '2017-07-01', NULL,
     'CGST rule 46(e): unregistered recipient, taxable value of Rs 50,000 or more: delivery address and state'),
    ('B2CL', 250000, '2017-07-01', '2024-07-31', 'GSTR-1 B2C large: inter-state invoice above this'),
    ('B2CL', 100000, '2024-08-01', NULL, 'GSTR-1 B2C large: inter-state invoice above this'),
    ('CASH_RECEIPT_LIMIT', 200000, '2017-04-01', NULL,
     'Income-tax s.269ST: no cash of Rs 2 lakh or more for one transaction');
SELECT audit.track('billing.threshold', 'threshold_id');

CREATE FUNCTION billing.threshold_on(p_code text, p_on date) RETURNS numeric
LANGUAGE sql STABLE
AS $$
    SELECT amount FROM billing.threshold
     WHERE code = p_code AND master.valid_during(effective_from, effective_to) @> p_on
$$;

-- Income-tax TCS on a motor vehicle above a value (s.206C(1F)); the CA decides whether it applies.
CREATE TABLE billing.tcs_rule (
    tcs_rule_id    integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    description    text NOT NULL CHECK (length(btrim(description)) BETWEEN 3 AND 200),
    above_amount   numeric(14,2) NOT NULL CHECK (above_amount >= 0),
    rate           numeric(5,3) NOT NULL CHECK (rate > 0 AND rate <= 10),
    effective_from date NOT NULL,
    effective_to   date,
    CHECK (effective_to IS NULL OR effective_to >= effective_from),
    CONSTRAINT tcs_rule_no_overlap EXCLUDE USING gist (
        master.same_key('VEHICLE') WITH &&, master.valid_during(effective_from, effective_to) WITH &&)
);
INSERT INTO billing.tcs_rule (description, above_amount, rate, effective_from) VALUES
    ('Income-tax s.206C(1F): motor vehicle sold for more than Rs 10 lakh', 1000000, 1, '2016-06-01');
SELECT audit.track('billing.tcs_rule', 'tcs_rule_id');

-- ---------------------------------------------------------------------------
-- Tax invoices
-- ---------------------------------------------------------------------------
CREATE TABLE billing.invoice (
    invoice_id        integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    invoice_no        text NOT NULL UNIQUE CHECK (invoice_no ~ '^[A-Z0-9/-]{1,16}$'),
    branch_id         integer NOT NULL REFERENCES master.branch (branch_id),
    invoice_date      date NOT NULL,
    kind              text NOT NULL CHECK (kind IN ('VEHICLE', 'COUNTER')),
    booking_id        integer REFERENCES sales.booking (booking_id),
    unit_id           integer REFERENCES inventory.vehicle_unit (unit_id),
    customer_id       integer REFERENCES master.customer (customer_id),
    -- The parties as they were at posting (the masters may change later; the invoice does not).
    supplier_gstin    text NOT NULL CHECK (master.is_gstin(supplier_gstin)),
    supplier_state_code char(2) NOT NULL REFERENCES master.state (state_code),
    buyer_name        text NOT NULL CHECK (length(btrim(buyer_name)) BETWEEN 2 AND 200),
    buyer_address     text CHECK (length(buyer_address) <= 400),
    buyer_state_code  char(2) REFERENCES master.state (state_code),
    buyer_gstin       text CHECK (master.is_gstin(buyer_gstin)),
    buyer_mobile      text CHECK (master.is_mobile(buyer_mobile)),
    delivery_address  text CHECK (length(delivery_address) <= 400),
    place_of_supply   char(2) NOT NULL REFERENCES master.state (state_code),
    pos_overridden    boolean NOT NULL DEFAULT false,
    pos_override_reason text CHECK (length(btrim(pos_override_reason)) BETWEEN 3 AND 200),
    reverse_charge    boolean NOT NULL DEFAULT false,
    taxable_value     numeric(14,2) NOT NULL CHECK (taxable_value >= 0),
    cgst              numeric(14,2) NOT NULL CHECK (cgst >= 0),
    sgst              numeric(14,2) NOT NULL CHECK (sgst >= 0),
    igst              numeric(14,2) NOT NULL CHECK (igst >= 0),
    round_off         numeric(4,2) NOT NULL CHECK (round_off BETWEEN -0.49 AND 0.50),
    grand_total       numeric(14,2) NOT NULL CHECK (grand_total >= 0 AND grand_total = trunc(grand_total)),
    tcs_rate          numeric(5,3) NOT NULL DEFAULT 0,
    tcs_amount        numeric(14,2) NOT NULL DEFAULT 0 CHECK (tcs_amount >= 0),
    amount_payable    numeric(14,2) GENERATED ALWAYS AS (grand_total + tcs_amount) STORED,
    -- E-invoice details, entered from the government portal when it applies (never made up).
    irn               text CHECK (irn ~ '^[0-9a-f]{64}$'),
    ack_no            text CHECK (ack_no ~ '^[0-9]{10,20}$'),
    ack_date          timestamptz,
    signed_qr         text CHECK (length(signed_qr) <= 4000),
    idempotency_key   uuid NOT NULL UNIQUE,
    posted_by         integer REFERENCES master.staff (staff_id),
    posted_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT invoice_vehicle_has_booking CHECK (
        (kind = 'VEHICLE') = (booking_id IS NOT NULL) AND (kind = 'VEHICLE') = (unit_id IS NOT NULL)),
    CONSTRAINT invoice_vehicle_has_customer CHECK (kind <> 'VEHICLE' OR customer_id IS NOT NULL),
    CONSTRAINT invoice_tax_heads CHECK (
        CASE WHEN place_of_supply = supplier_state_code THEN igst = 0 ELSE cgst = 0 AND sgst = 0 END),
    CONSTRAINT invoice_adds_up CHECK (grand_total = taxable_value + cgst + sgst + igst + round_off),
    CONSTRAINT invoice_override_reason CHECK (pos_overridden = (pos_override_reason IS NOT NULL)),
    CONSTRAINT invoice_b2b_state CHECK (buyer_gstin IS NULL OR left(buyer_gstin, 2) = buyer_state_code),
    CONSTRAINT invoice_einvoice_complete CHECK ((irn IS NULL) = (ack_no IS NULL) AND (irn IS NULL) = (ack_date IS NULL))
);
CREATE INDEX invoice_branch_date_idx ON billing.invoice (branch_id, invoice_date DESC, invoice_id DESC);
CREATE INDEX invoice_booking_idx ON billing.invoice (booking_id) WHERE booking_id IS NOT NULL;
CREATE INDEX invoice_customer_idx ON billing.invoice (customer_id);
SELECT audit.track('billing.invoice', 'invoice_id');

ALTER TABLE sales.booking ADD CONSTRAINT booking_invoice_fk
    FOREIGN KEY (invoice_id) REFERENCES billing.invoice (invoice_id);
ALTER TABLE sales.delivery ADD CONSTRAINT delivery_invoice_fk
    FOREIGN KEY (invoice_id) REFERENCES billing.invoice (invoice_id);

CREATE TABLE billing.invoice_line (
    invoice_id         integer NOT NULL REFERENCES billing.invoice (invoice_id),
    line_no            smallint NOT NULL CHECK (line_no BETWEEN 1 AND 200),
    description        text NOT NULL CHECK (length(btrim(description)) BETWEEN 2 AND 300),
    hsn_code           text NOT NULL REFERENCES master.hsn (hsn_code),
    qty                numeric(12,3) NOT NULL CHECK (qty > 0),
    unit               text NOT NULL DEFAULT 'NOS' CHECK (unit ~ '^[A-Z]{2,5}$'),
    unit_price         numeric(14,2) NOT NULL CHECK (unit_price >= 0),
    price_includes_gst boolean NOT NULL,
    discount           numeric(14,2) NOT NULL DEFAULT 0 CHECK (discount >= 0),
    taxable_value      numeric(14,2) NOT NULL CHECK (taxable_value >= 0),
    gst_rate           numeric(5,2) NOT NULL CHECK (gst_rate >= 0),
    cgst               numeric(14,2) NOT NULL CHECK (cgst >= 0),
    sgst               numeric(14,2) NOT NULL CHECK (sgst >= 0),
    igst               numeric(14,2) NOT NULL CHECK (igst >= 0),
    total              numeric(14,2) NOT NULL,
    part_id            integer REFERENCES master.part (part_id),
    unit_id            integer REFERENCES inventory.vehicle_unit (unit_id),
    PRIMARY KEY (invoice_id, line_no),
    CONSTRAINT invoice_line_adds_up CHECK (total = taxable_value + cgst + sgst + igst),
    CONSTRAINT invoice_line_one_tax_kind CHECK (igst = 0 OR (cgst = 0 AND sgst = 0)),
    CONSTRAINT invoice_line_halves CHECK (abs(cgst - sgst) <= 0.01),
    -- Tax to the paisa: a GST-inclusive price worked back may differ by one paisa.
    CONSTRAINT invoice_line_tax_at_rate CHECK (
        abs(cgst + sgst + igst - round(taxable_value * gst_rate / 100, 2)) <= 0.01),
    CONSTRAINT invoice_line_one_item CHECK (part_id IS NULL OR unit_id IS NULL)
);
CREATE INDEX invoice_line_part_idx ON billing.invoice_line (part_id) WHERE part_id IS NOT NULL;

-- Before an invoice is written: who and where it is for, the place of supply, the rule-46
-- address, TCS and the number. The number is taken last, so a refusal costs no number.
CREATE FUNCTION billing.post_invoice() RETURNS trigger
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
    pos_default := br.state_code;
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
        NEW.tcs_rate := 0;
        NEW.tcs_amount := 0;
    END IF;
    IF NOT NEW.pos_overridden AND NEW.place_of_supply <> pos_default THEN
        RAISE EXCEPTION 'place of supply % differs from where the goods are delivered (%) without an override',
            NEW.place_of_supply, pos_default
            USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_place_of_supply';
    END IF;
    IF NEW.buyer_gstin IS NULL AND NEW.taxable_value >= billing.threshold_on('B2C_ADDRESS', NEW.invoice_date)
       AND (NEW.delivery_address IS NULL OR NEW.buyer_state_code IS NULL) THEN
        RAISE EXCEPTION 'an unregistered buyer at this value needs the delivery address and state (rule 46)'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_b2c_address';
    END IF;
    NEW.posted_by := coalesce(audit.current_staff_id(), NEW.posted_by);
    NEW.posted_at := now();
    NEW.invoice_no := master.next_document_no(NEW.branch_id, 'INV', NEW.invoice_date);
    -- Consecutive numbers carry non-decreasing dates (the counter row lock serialises this).
    IF EXISTS (SELECT 1 FROM billing.invoice
                WHERE branch_id = NEW.branch_id AND invoice_date > NEW.invoice_date
                  AND invoice_date >= make_date(master.fy_start_year(NEW.invoice_date), 4, 1)) THEN
        RAISE EXCEPTION 'an invoice of a later date is already posted; % cannot be dated %',
            NEW.invoice_no, to_char(NEW.invoice_date, 'DD-MM-YYYY')
            USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_date_in_order';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER invoice_post BEFORE INSERT ON billing.invoice
    FOR EACH ROW EXECUTE FUNCTION billing.post_invoice();

CREATE FUNCTION billing.after_invoice() RETURNS trigger
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
CREATE TRIGGER invoice_after_post AFTER INSERT ON billing.invoice
    FOR EACH ROW EXECUTE FUNCTION billing.after_invoice();

-- At commit: the lines add up to the header, and a vehicle invoice sells its one unit.
CREATE FUNCTION billing.check_invoice_lines() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    s record;
BEGIN
    SELECT count(*) AS n, coalesce(sum(taxable_value), 0) AS taxable, coalesce(sum(cgst), 0) AS cgst,
           coalesce(sum(sgst), 0) AS sgst, coalesce(sum(igst), 0) AS igst,
           count(*) FILTER (WHERE unit_id IS NOT NULL) AS units,
           count(*) FILTER (WHERE unit_id = NEW.unit_id) AS the_unit
      INTO s FROM billing.invoice_line WHERE invoice_id = NEW.invoice_id;
    IF s.n = 0 OR (s.taxable, s.cgst, s.sgst, s.igst) IS DISTINCT FROM (NEW.taxable_value, NEW.cgst, NEW.sgst, NEW.igst) THEN
        RAISE EXCEPTION 'invoice % lines (% lines, taxable %) do not add up to its totals (taxable %)',
            NEW.invoice_no, s.n, s.taxable, NEW.taxable_value
            USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_lines_add_up';
    END IF;
    IF NEW.kind = 'VEHICLE' AND (s.units <> 1 OR s.the_unit <> 1) OR NEW.kind = 'COUNTER' AND s.units <> 0 THEN
        RAISE EXCEPTION 'invoice % must sell exactly its one vehicle', NEW.invoice_no
            USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_lines_add_up';
    END IF;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER invoice_lines_add_up AFTER INSERT ON billing.invoice
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION billing.check_invoice_lines();

-- A line joins its invoice only in the posting transaction, at the rate of the day, with the
-- tax heads of the place of supply; a part line takes the part out of stock.
CREATE FUNCTION billing.post_invoice_line() RETURNS trigger
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
CREATE TRIGGER invoice_line_post BEFORE INSERT ON billing.invoice_line
    FOR EACH ROW EXECUTE FUNCTION billing.post_invoice_line();
CREATE TRIGGER invoice_line_is_permanent BEFORE UPDATE OR DELETE ON billing.invoice_line
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- A posted invoice never changes; only the e-invoice details are filled in, once.
CREATE FUNCTION billing.check_invoice_change() RETURNS trigger
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
CREATE TRIGGER invoice_is_permanent BEFORE UPDATE OR DELETE ON billing.invoice
    FOR EACH ROW EXECUTE FUNCTION billing.check_invoice_change();

-- ---------------------------------------------------------------------------
-- Credit notes (a full reversal of one invoice)
-- ---------------------------------------------------------------------------
ALTER TABLE inventory.stock_move DROP CONSTRAINT stock_move_kind_check;
ALTER TABLE inventory.stock_move ADD CONSTRAINT stock_move_kind_check CHECK (kind IN (
    'OPENING', 'RECEIPT', 'ISSUE_JOB', 'COUNTER_SALE', 'TRANSFER_OUT', 'TRANSFER_IN', 'ADJUSTMENT',
    'RETURN_TO_OEM', 'SALES_RETURN'));
ALTER TABLE inventory.stock_move DROP CONSTRAINT stock_move_direction;
ALTER TABLE inventory.stock_move ADD CONSTRAINT stock_move_direction CHECK (
    (kind IN ('OPENING', 'RECEIPT', 'TRANSFER_IN', 'SALES_RETURN') AND qty > 0)
    OR (kind IN ('ISSUE_JOB', 'COUNTER_SALE', 'TRANSFER_OUT', 'RETURN_TO_OEM') AND qty < 0)
    OR kind = 'ADJUSTMENT');

CREATE TABLE billing.credit_note (
    credit_note_id  integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    credit_note_no  text NOT NULL UNIQUE CHECK (credit_note_no ~ '^[A-Z0-9/-]{1,16}$'),
    branch_id       integer NOT NULL REFERENCES master.branch (branch_id),
    note_date       date NOT NULL,
    invoice_id      integer NOT NULL UNIQUE REFERENCES billing.invoice (invoice_id),
    reason          text NOT NULL CHECK (length(btrim(reason)) BETWEEN 3 AND 300),
    taxable_value   numeric(14,2) NOT NULL,
    cgst            numeric(14,2) NOT NULL,
    sgst            numeric(14,2) NOT NULL,
    igst            numeric(14,2) NOT NULL,
    round_off       numeric(4,2) NOT NULL,
    grand_total     numeric(14,2) NOT NULL,
    tcs_amount      numeric(14,2) NOT NULL,
    idempotency_key uuid NOT NULL UNIQUE,
    posted_by       integer REFERENCES master.staff (staff_id),
    posted_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX credit_note_branch_date_idx ON billing.credit_note (branch_id, note_date DESC);
SELECT audit.track('billing.credit_note', 'credit_note_id');

-- The note copies the invoice's amounts (it reverses all of it), takes its number, and puts
-- back what the invoice took out: the unit to stock (booking back to booked), parts to stock
-- at the cost they left at.
CREATE FUNCTION billing.post_credit_note() RETURNS trigger
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
      FROM billing.invoice_line l WHERE l.invoice_id = inv.invoice_id AND l.part_id IS NOT NULL;
    RETURN NEW;
END
$$;
CREATE TRIGGER credit_note_post BEFORE INSERT ON billing.credit_note
    FOR EACH ROW EXECUTE FUNCTION billing.post_credit_note();
CREATE TRIGGER credit_note_is_permanent BEFORE UPDATE OR DELETE ON billing.credit_note
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- ---------------------------------------------------------------------------
-- Receipts and refunds
-- ---------------------------------------------------------------------------
CREATE TABLE billing.receipt (
    receipt_id      integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    receipt_no      text NOT NULL UNIQUE CHECK (receipt_no ~ '^[A-Z0-9/-]{1,16}$'),
    branch_id       integer NOT NULL REFERENCES master.branch (branch_id),
    receipt_date    date NOT NULL,
    booking_id      integer REFERENCES sales.booking (booking_id),   -- a vehicle sale
    invoice_id      integer REFERENCES billing.invoice (invoice_id), -- a counter sale
    received_from   text NOT NULL CHECK (length(btrim(received_from)) BETWEEN 2 AND 200),
    mode            text NOT NULL CHECK (mode IN ('CASH', 'UPI', 'CARD', 'CHEQUE', 'BANK_TRANSFER',
                                                 'FINANCE', 'EXCHANGE', 'SUBSIDY')),
    amount          numeric(14,2) NOT NULL CHECK (amount > 0),
    reference       text CHECK (length(btrim(reference)) BETWEEN 3 AND 60),   -- UTR, cheque no., voucher id
    is_advance      boolean NOT NULL DEFAULT false,   -- before the invoice: no GST on a goods advance
    notes           text CHECK (length(notes) <= 300),
    idempotency_key uuid NOT NULL UNIQUE,
    posted_by       integer REFERENCES master.staff (staff_id),
    posted_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT receipt_for_one_sale CHECK (num_nonnulls(booking_id, invoice_id) = 1),
    CONSTRAINT receipt_reference CHECK (mode IN ('CASH', 'EXCHANGE') OR reference IS NOT NULL)
);
CREATE INDEX receipt_booking_idx ON billing.receipt (booking_id) WHERE booking_id IS NOT NULL;
CREATE INDEX receipt_invoice_idx ON billing.receipt (invoice_id) WHERE invoice_id IS NOT NULL;
CREATE INDEX receipt_branch_date_idx ON billing.receipt (branch_id, receipt_date DESC, receipt_id DESC);
SELECT audit.track('billing.receipt', 'receipt_id');

CREATE TABLE billing.refund (
    refund_id       integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    refund_no       text NOT NULL UNIQUE CHECK (refund_no ~ '^[A-Z0-9/-]{1,16}$'),
    branch_id       integer NOT NULL REFERENCES master.branch (branch_id),
    refund_date     date NOT NULL,
    booking_id      integer REFERENCES sales.booking (booking_id),
    invoice_id      integer REFERENCES billing.invoice (invoice_id),
    paid_to         text NOT NULL CHECK (length(btrim(paid_to)) BETWEEN 2 AND 200),
    mode            text NOT NULL CHECK (mode IN ('CASH', 'UPI', 'CHEQUE', 'BANK_TRANSFER')),
    amount          numeric(14,2) NOT NULL CHECK (amount >= 0),
    cancellation_charge numeric(14,2) NOT NULL DEFAULT 0 CHECK (cancellation_charge >= 0),
    reason          text NOT NULL CHECK (length(btrim(reason)) BETWEEN 3 AND 300),
    reference       text CHECK (length(btrim(reference)) BETWEEN 3 AND 60),
    idempotency_key uuid NOT NULL UNIQUE,
    posted_by       integer REFERENCES master.staff (staff_id),
    posted_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT refund_for_one_sale CHECK (num_nonnulls(booking_id, invoice_id) = 1),
    CONSTRAINT refund_something CHECK (amount > 0 OR cancellation_charge > 0),
    CONSTRAINT refund_reference CHECK (mode = 'CASH' OR amount = 0 OR reference IS NOT NULL),
    CONSTRAINT refund_charge_on_booking CHECK (cancellation_charge = 0 OR booking_id IS NOT NULL)
);
CREATE INDEX refund_booking_idx ON billing.refund (booking_id) WHERE booking_id IS NOT NULL;
CREATE INDEX refund_invoice_idx ON billing.refund (invoice_id) WHERE invoice_id IS NOT NULL;
CREATE INDEX refund_branch_date_idx ON billing.refund (branch_id, refund_date DESC);
SELECT audit.track('billing.refund', 'refund_id');

-- What a sale comes to and what has been received against it, in one place.
-- Before the invoice: the agreed price less discount plus every charge. Invoiced: the
-- invoice (with round-off and TCS) plus the charges collected for others. Cancelled: the
-- cancellation charges kept.
CREATE VIEW billing.booking_balance AS
SELECT b.booking_id, b.branch_id, b.stage, b.invoice_id,
       CASE WHEN b.stage = 'CANCELLED' THEN coalesce(rf.charges, 0)
            WHEN b.invoice_id IS NOT NULL THEN i.amount_payable + coalesce(it.others, 0)
            ELSE b.ex_showroom - b.discount + coalesce(it.all_items, 0) END AS due,
       coalesce(rc.received, 0) - coalesce(rf.refunded, 0) AS received
  FROM sales.booking b
  LEFT JOIN billing.invoice i ON i.invoice_id = b.invoice_id
  LEFT JOIN LATERAL (SELECT sum(amount) AS all_items, sum(amount) FILTER (WHERE hsn_code IS NULL) AS others
                       FROM sales.booking_item WHERE booking_id = b.booking_id) it ON true
  LEFT JOIN LATERAL (SELECT sum(amount) AS received FROM billing.receipt WHERE booking_id = b.booking_id) rc ON true
  LEFT JOIN LATERAL (SELECT sum(amount) AS refunded, sum(cancellation_charge) AS charges
                       FROM billing.refund WHERE booking_id = b.booking_id) rf ON true;

-- A counter sale: the invoice less any credit note.
CREATE VIEW billing.counter_balance AS
SELECT i.invoice_id, i.branch_id,
       i.amount_payable - coalesce(cn.grand_total + cn.tcs_amount, 0) AS due,
       coalesce(rc.received, 0) - coalesce(rf.refunded, 0) AS received
  FROM billing.invoice i
  LEFT JOIN billing.credit_note cn ON cn.invoice_id = i.invoice_id
  LEFT JOIN LATERAL (SELECT sum(amount) AS received FROM billing.receipt WHERE invoice_id = i.invoice_id) rc ON true
  LEFT JOIN LATERAL (SELECT sum(amount) AS refunded FROM billing.refund WHERE invoice_id = i.invoice_id) rf ON true
 WHERE i.kind = 'COUNTER';

-- Never receive more than is due (a refund voucher gives back an excess), never take cash of
-- the s.269ST limit or more for one sale, never credit more exchange, subsidy or loan than
-- recorded. The sale's row is locked, so concurrent receipts queue.
CREATE FUNCTION billing.post_receipt() RETURNS trigger
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
CREATE TRIGGER receipt_post BEFORE INSERT ON billing.receipt
    FOR EACH ROW EXECUTE FUNCTION billing.post_receipt();
CREATE TRIGGER receipt_is_permanent BEFORE UPDATE OR DELETE ON billing.receipt
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- A refund gives back only what was received beyond what is due; a cancellation charge is
-- kept only on a cancelled booking (it is what the cancelled sale still comes to).
CREATE FUNCTION billing.post_refund() RETURNS trigger
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
CREATE TRIGGER refund_post BEFORE INSERT ON billing.refund
    FOR EACH ROW EXECUTE FUNCTION billing.post_refund();
CREATE TRIGGER refund_is_permanent BEFORE UPDATE OR DELETE ON billing.refund
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- A booking is cancelled only without a unit held.
CREATE FUNCTION sales.check_cancellation() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.stage = 'CANCELLED' AND OLD.stage <> 'CANCELLED'
       AND EXISTS (SELECT 1 FROM sales.allotment WHERE booking_id = NEW.booking_id AND released_at IS NULL) THEN
        RAISE EXCEPTION 'de-allot the unit of booking % before cancelling it', NEW.booking_no
            USING ERRCODE = 'check_violation', CONSTRAINT = 'booking_cancel_without_unit';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER booking_cancellation BEFORE UPDATE OF stage ON sales.booking
    FOR EACH ROW EXECUTE FUNCTION sales.check_cancellation();

-- Outstanding receivables, one row per invoice still owed something.
CREATE VIEW billing.receivable AS
SELECT i.invoice_id, i.invoice_no, i.invoice_date, i.branch_id, i.buyer_name, i.kind, i.booking_id,
       bb.due, bb.received, bb.due - bb.received AS balance
  FROM billing.booking_balance bb JOIN billing.invoice i ON i.invoice_id = bb.invoice_id
 WHERE bb.due > bb.received
UNION ALL
SELECT i.invoice_id, i.invoice_no, i.invoice_date, i.branch_id, i.buyer_name, i.kind, NULL,
       cb.due, cb.received, cb.due - cb.received
  FROM billing.counter_balance cb JOIN billing.invoice i USING (invoice_id)
 WHERE cb.due > cb.received;

-- The recorded exchange valuation, loan amount and subsidy can be lowered only down to what
-- has already been received against them.
CREATE FUNCTION billing.check_cap_covers_receipts() RETURNS trigger
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
CREATE TRIGGER exchange_covers_receipts BEFORE UPDATE OR DELETE ON sales.exchange
    FOR EACH ROW EXECUTE FUNCTION billing.check_cap_covers_receipts();
CREATE TRIGGER finance_covers_receipts BEFORE UPDATE OR DELETE ON sales.finance
    FOR EACH ROW EXECUTE FUNCTION billing.check_cap_covers_receipts();
CREATE TRIGGER booking_subsidy_covers_receipts BEFORE UPDATE OF subsidy_eligible ON sales.booking
    FOR EACH ROW EXECUTE FUNCTION billing.check_cap_covers_receipts();
