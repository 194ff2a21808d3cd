-- The sales schema's functions, triggers and views as they are now: init-db runs this file
-- again whenever it changes (webapp/migrations.py), after the numbered migrations. A fix to one of
-- them is an edit here, never a new numbered file (docs/ARCHITECTURE.md, "Database rules live
-- in PostgreSQL").

CREATE OR REPLACE TRIGGER quotation_is_permanent BEFORE UPDATE OR DELETE ON sales.quotation
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

CREATE OR REPLACE TRIGGER quotation_item_is_permanent BEFORE UPDATE OR DELETE ON sales.quotation_item
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- A discount above the giver's role limit waits for a manager; the limit is looked up for
-- the staff member recorded as giving it. Only a manager or administrator decides.
CREATE OR REPLACE FUNCTION sales.check_booking_change() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    giver_role text;
    role_limit numeric;
    decider_role text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.stage <> 'BOOKED' OR NEW.invoice_id IS NOT NULL THEN
            RAISE EXCEPTION 'a booking starts as booked'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'booking_stage_transition';
        END IF;
        IF NEW.booking_no IS NULL THEN
            NEW.booking_no := master.next_document_no(NEW.branch_id, 'BKG', NEW.booked_on);
        END IF;
    ELSE
        IF NEW.booking_no IS DISTINCT FROM OLD.booking_no OR NEW.branch_id IS DISTINCT FROM OLD.branch_id
           OR NEW.idempotency_key IS DISTINCT FROM OLD.idempotency_key THEN
            RAISE EXCEPTION 'a booking keeps its number and branch'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'booking_number_fixed';
        END IF;
        IF NEW.stage IS DISTINCT FROM OLD.stage AND NOT EXISTS (
               SELECT 1 FROM sales.booking_stage_transition
                WHERE from_stage = OLD.stage AND to_stage = NEW.stage) THEN
            RAISE EXCEPTION 'a booking cannot go from % to %', OLD.stage, NEW.stage
                USING ERRCODE = 'check_violation', CONSTRAINT = 'booking_stage_transition';
        END IF;
        -- What was sold is fixed once invoiced: a change needs a credit note first.
        IF OLD.stage IN ('INVOICED', 'DELIVERED', 'CANCELLED') AND NEW.stage = OLD.stage
           AND (NEW.variant_id, NEW.colour, NEW.ex_showroom, NEW.discount, NEW.customer_id,
                NEW.delivery_state_code, NEW.subsidy_eligible)
               IS DISTINCT FROM (OLD.variant_id, OLD.colour, OLD.ex_showroom, OLD.discount, OLD.customer_id,
                                 OLD.delivery_state_code, OLD.subsidy_eligible) THEN
            RAISE EXCEPTION 'booking % is %: what was sold cannot change', OLD.booking_no, lower(OLD.stage)
                USING ERRCODE = 'check_violation', CONSTRAINT = 'booking_terms_fixed';
        END IF;
        IF OLD.stage = 'ALLOTTED' AND (NEW.variant_id, NEW.colour) IS DISTINCT FROM (OLD.variant_id, OLD.colour) THEN
            RAISE EXCEPTION 'de-allot the unit before changing the variant or colour'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'booking_allotted_variant_fixed';
        END IF;
    END IF;

    -- Discount: a new amount is re-judged against the giver's limit.
    IF TG_OP = 'INSERT' OR NEW.discount IS DISTINCT FROM OLD.discount THEN
        IF NEW.discount = 0 THEN
            NEW.discount_status := 'NONE';
            NEW.discount_by := NULL;
        ELSE
            NEW.discount_by := coalesce(audit.current_staff_id(), NEW.discount_by, NEW.salesperson_id);
            SELECT s.designation, l.max_discount INTO giver_role, role_limit
              FROM master.staff s LEFT JOIN sales.discount_limit l ON l.role_code = s.designation
             WHERE s.staff_id = NEW.discount_by;
            NEW.discount_status := CASE
                WHEN giver_role IS NOT NULL AND (role_limit IS NULL AND giver_role IN ('ADMIN', 'MANAGER')
                                                 OR NEW.discount <= role_limit)
                THEN 'WITHIN_LIMIT' ELSE 'PENDING' END;
        END IF;
        NEW.discount_decided_by := NULL;
        NEW.discount_decided_at := NULL;
    ELSIF NEW.discount_status IS DISTINCT FROM OLD.discount_status THEN
        IF OLD.discount_status <> 'PENDING' OR NEW.discount_status NOT IN ('APPROVED', 'REJECTED') THEN
            RAISE EXCEPTION 'only a pending discount is approved or rejected'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'booking_discount_decision';
        END IF;
        SELECT designation INTO decider_role FROM master.staff
         WHERE staff_id = NEW.discount_decided_by AND is_active;
        IF decider_role IS NULL OR decider_role NOT IN ('MANAGER', 'ADMIN') THEN
            RAISE EXCEPTION 'only a manager or an administrator decides on a discount'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'booking_discount_decider';
        END IF;
        NEW.discount_decided_at := now();
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER booking_change BEFORE INSERT OR UPDATE ON sales.booking
    FOR EACH ROW EXECUTE FUNCTION sales.check_booking_change();

CREATE OR REPLACE TRIGGER booking_never_deleted BEFORE DELETE ON sales.booking
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- Items change only while nothing has been invoiced.
CREATE OR REPLACE FUNCTION sales.check_booking_item_change() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    b_stage text;
    b_no text;
BEGIN
    SELECT stage, booking_no INTO b_stage, b_no FROM sales.booking
     WHERE booking_id = coalesce(NEW.booking_id, OLD.booking_id);
    IF b_stage NOT IN ('BOOKED', 'ALLOTTED') THEN
        RAISE EXCEPTION 'booking % is %: its charges cannot change', b_no, lower(b_stage)
            USING ERRCODE = 'check_violation', CONSTRAINT = 'booking_terms_fixed';
    END IF;
    RETURN coalesce(NEW, OLD);
END
$$;

CREATE OR REPLACE TRIGGER booking_item_change BEFORE INSERT OR UPDATE OR DELETE ON sales.booking_item
    FOR EACH ROW EXECUTE FUNCTION sales.check_booking_item_change();

-- The unit row is locked first, so of two people allotting one unit the second waits and
-- then finds it no longer in stock; the partial unique index is the last line of defence.
-- A unit or booking id that does not exist (a form sent with an id not in its list, or a unit
-- another branch holds) is refused as the foreign key it is, not with "query returned no rows"
-- (SELECT ... INTO STRICT), which no form could show next to its field.
CREATE OR REPLACE FUNCTION sales.allot_unit() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    u inventory.vehicle_unit;
    b sales.booking;
BEGIN
    SELECT * INTO b FROM sales.booking WHERE booking_id = NEW.booking_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'booking % does not exist', NEW.booking_id
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'allotment_booking_id_fkey';
    END IF;
    SELECT * INTO u FROM inventory.vehicle_unit WHERE unit_id = NEW.unit_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unit % does not exist', NEW.unit_id
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'allotment_unit_id_fkey';
    END IF;
    IF u.status <> 'IN_STOCK' THEN
        RAISE EXCEPTION 'unit % is no longer in stock (now %)', u.vin, lower(u.status)
            USING ERRCODE = 'check_violation', CONSTRAINT = 'allotment_unit_in_stock';
    END IF;
    IF b.stage <> 'BOOKED' THEN
        RAISE EXCEPTION 'booking % is %, not waiting for a unit', b.booking_no, lower(b.stage)
            USING ERRCODE = 'check_violation', CONSTRAINT = 'allotment_booking_waiting';
    END IF;
    IF (u.variant_id, u.colour, u.branch_id) IS DISTINCT FROM (b.variant_id, b.colour, b.branch_id) THEN
        RAISE EXCEPTION 'unit % is not the booked variant and colour at this branch', u.vin
            USING ERRCODE = 'check_violation', CONSTRAINT = 'allotment_unit_matches';
    END IF;
    NEW.released_at := NULL;
    NEW.release_reason := NULL;
    UPDATE inventory.vehicle_unit SET status = 'ALLOTTED' WHERE unit_id = NEW.unit_id;
    UPDATE sales.booking SET stage = 'ALLOTTED' WHERE booking_id = NEW.booking_id;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER allotment_allot BEFORE INSERT ON sales.allotment
    FOR EACH ROW EXECUTE FUNCTION sales.allot_unit();

-- Only a release may change an allotment; an allotted (not yet invoiced) unit goes back to stock.
CREATE OR REPLACE FUNCTION sales.release_unit() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF OLD.released_at IS NOT NULL OR NEW.released_at IS NULL
       OR (NEW.booking_id, NEW.unit_id, NEW.allotted_at, NEW.allotted_by)
          IS DISTINCT FROM (OLD.booking_id, OLD.unit_id, OLD.allotted_at, OLD.allotted_by) THEN
        RAISE EXCEPTION 'an allotment is only ever released, once'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'allotment_release_once';
    END IF;
    NEW.released_by := coalesce(NEW.released_by, audit.current_staff_id());
    UPDATE inventory.vehicle_unit SET status = 'IN_STOCK' WHERE unit_id = NEW.unit_id AND status = 'ALLOTTED';
    UPDATE sales.booking SET stage = 'BOOKED' WHERE booking_id = NEW.booking_id AND stage = 'ALLOTTED';
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER allotment_release BEFORE UPDATE ON sales.allotment
    FOR EACH ROW EXECUTE FUNCTION sales.release_unit();

CREATE OR REPLACE TRIGGER allotment_never_deleted BEFORE DELETE ON sales.allotment
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- Low-speed models need no RTO registration: nothing to record for them.
CREATE OR REPLACE FUNCTION sales.check_registration_needed() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM sales.booking b
                 JOIN oem.variant v USING (variant_id) JOIN oem.model m USING (model_id)
                WHERE b.booking_id = NEW.booking_id AND m.is_low_speed) THEN
        RAISE EXCEPTION 'a low-speed model is not registered with the RTO'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'registration_not_low_speed';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER registration_needed BEFORE INSERT OR UPDATE ON sales.registration
    FOR EACH ROW EXECUTE FUNCTION sales.check_registration_needed();

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

CREATE OR REPLACE TRIGGER delivery_post BEFORE INSERT ON sales.delivery
    FOR EACH ROW EXECUTE FUNCTION sales.deliver();

CREATE OR REPLACE TRIGGER delivery_is_permanent BEFORE UPDATE OR DELETE ON sales.delivery
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- Quotation numbers are taken like every other document number.
CREATE OR REPLACE FUNCTION sales.number_quotation() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.quotation_no IS NULL THEN
        NEW.quotation_no := master.next_document_no(NEW.branch_id, 'QT', NEW.quoted_on);
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER quotation_number BEFORE INSERT ON sales.quotation
    FOR EACH ROW EXECUTE FUNCTION sales.number_quotation();

-- A booking is cancelled only without a unit held.
CREATE OR REPLACE FUNCTION sales.check_cancellation() RETURNS trigger
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

CREATE OR REPLACE TRIGGER booking_cancellation BEFORE UPDATE OF stage ON sales.booking
    FOR EACH ROW EXECUTE FUNCTION sales.check_cancellation();

-- Like the on-road charges: they change only while nothing has been invoiced.
CREATE OR REPLACE TRIGGER booking_accessory_change BEFORE INSERT OR UPDATE OR DELETE ON sales.booking_accessory
    FOR EACH ROW EXECUTE FUNCTION sales.check_booking_item_change();

-- What a line comes to with GST (the invoice's own arithmetic: tax per line, half up to the paisa),
-- at the rate in force on a day.
CREATE OR REPLACE FUNCTION sales.accessory_amount(a sales.booking_accessory, on_day date) RETURNS numeric
LANGUAGE sql STABLE
AS $$
    SELECT CASE WHEN a.price_includes_gst THEN round(a.qty * a.unit_price, 2)
                ELSE round(a.qty * a.unit_price, 2)
                     + round(round(a.qty * a.unit_price, 2) * coalesce(master.gst_rate_on(a.hsn_code, on_day), 0) / 100, 2)
           END
$$;

-- ---------------------------------------------------------------------------
-- The hand-over gate
-- ---------------------------------------------------------------------------
-- What still stands between an invoiced sale and its hand-over, one row per reason:
-- CUSTOMER_DUE (amount), LOAN_NO_DO (amount), SUBSIDY_NO_VOUCHER (amount), NO_INSURANCE,
-- NO_REGISTRATION. Empty: the vehicle may go.
CREATE OR REPLACE FUNCTION sales.handover_missing(p_booking_id integer)
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

CREATE OR REPLACE FUNCTION sales.check_handover_release() RETURNS trigger
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

CREATE OR REPLACE TRIGGER handover_release_check BEFORE INSERT ON sales.handover_release
    FOR EACH ROW EXECUTE FUNCTION sales.check_handover_release();

CREATE OR REPLACE TRIGGER handover_release_is_permanent BEFORE UPDATE OR DELETE ON sales.handover_release
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- What a subsidy claim is listed by in the register (sql/0022): its booking's branch and number,
-- whether the booking is cancelled, and the date of the sale (its invoice's date once invoiced,
-- else the day it was booked). The booking is one the caller can see (a claim is reached through
-- it); so is its invoice, of the same branch.
CREATE OR REPLACE FUNCTION sales.subsidy_claim_listing(
    p_booking_id integer, OUT branch_id integer, OUT booking_no text, OUT booking_cancelled boolean, OUT listed_on date)
LANGUAGE sql STABLE
AS $$
    SELECT b.branch_id, b.booking_no, b.stage = 'CANCELLED', coalesce(i.invoice_date, b.booked_on)
      FROM sales.booking b
      LEFT JOIN billing.invoice i ON i.invoice_id = b.invoice_id
     WHERE b.booking_id = p_booking_id
$$;

-- A claim added, or its listing columns written by anyone: they are taken from its booking.
CREATE OR REPLACE FUNCTION sales.list_subsidy_claim() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    SELECT l.branch_id, l.booking_no, l.booking_cancelled, l.listed_on
      INTO NEW.branch_id, NEW.booking_no, NEW.booking_cancelled, NEW.listed_on
      FROM sales.subsidy_claim_listing(NEW.booking_id) l;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER subsidy_claim_listed
    BEFORE INSERT OR UPDATE OF booking_id, branch_id, booking_no, booking_cancelled, listed_on ON sales.subsidy_claim
    FOR EACH ROW EXECUTE FUNCTION sales.list_subsidy_claim();

-- A booking cancelled, invoiced (or its invoice reversed by a credit note) or moved to another
-- date: its claim is listed again. (A booking keeps its number and branch: booking_number_fixed.)
CREATE OR REPLACE FUNCTION sales.relist_subsidy_claim() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    UPDATE sales.subsidy_claim sc
       SET (branch_id, booking_no, booking_cancelled, listed_on) =
           (SELECT l.branch_id, l.booking_no, l.booking_cancelled, l.listed_on
              FROM sales.subsidy_claim_listing(NEW.booking_id) l)
     WHERE sc.booking_id = NEW.booking_id;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER booking_relists_subsidy_claim AFTER UPDATE OF stage, invoice_id, booked_on ON sales.booking
    FOR EACH ROW
    WHEN (OLD.stage IS DISTINCT FROM NEW.stage OR OLD.invoice_id IS DISTINCT FROM NEW.invoice_id
          OR OLD.booked_on IS DISTINCT FROM NEW.booked_on)
    EXECUTE FUNCTION sales.relist_subsidy_claim();
