-- GST on every kind of sale: where the goods go decides the tax, and the printed "Ship to"
-- always agrees with the place of supply.
--
-- * An invoice records where the goods are delivered: delivery_address with its state
--   (delivery_state_code), or neither when they are handed over at the showroom or counter
--   (the printed ship-to is then the showroom).
-- * A counter sale's place of supply defaults to the delivery state when it is delivered to
--   an address, else the showroom's state (intra-state); a vehicle's to the booking's delivery
--   state, else the showroom's. Another place of supply needs an override with a reason (0007).
-- * The delivery state is the place of supply, and a place of supply outside the showroom's
--   state needs the delivery address there: goods never "ship to" one state while billed as
--   supplied in another.
-- * Rule 46: an unregistered buyer at the B2C_ADDRESS threshold or above needs the recipient's
--   address and state (the delivery address being the one given, or the showroom's).
-- * A counter sale may carry labour and services from the labour master (SAC 998714), priced
--   exclusive of GST, beside parts at MRP or at a GST-exclusive price.
--
-- Invoices posted before this file stay as they were: the rules are checked when an invoice is
-- posted (its BEFORE INSERT trigger), and posted invoices never change.

ALTER TABLE billing.invoice
    ADD COLUMN delivery_state_code char(2) REFERENCES master.state (state_code);

-- A labour or service line names its operation; a line sells at most one kind of item.
ALTER TABLE billing.invoice_line
    ADD COLUMN operation_code text REFERENCES master.labour_operation (operation_code),
    ADD CONSTRAINT invoice_line_one_kind_of_item CHECK (num_nonnulls(part_id, unit_id, operation_code) <= 1);

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
        -- Delivered at the counter: the showroom's state; delivered to an address: its state.
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
