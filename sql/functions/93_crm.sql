-- CRM (sql/0035_crm_leads.sql, sql/0036_crm_test_rides.sql): the lead's moves caused by the
-- documents of sales, test rides on demo units, and round-robin assignment.

-- ---------------------------------------------------------------------------
-- The lead
-- ---------------------------------------------------------------------------

-- A lead's customer is recorded once (made from the lead, or found by its mobile) and never
-- swapped for another; a booked lead is final; a booked or lost lead keeps the details it was
-- booked or lost with (who, how to reach them, what they wanted).
CREATE OR REPLACE FUNCTION crm.check_lead_change() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF OLD.customer_id IS NOT NULL AND NEW.customer_id IS DISTINCT FROM OLD.customer_id THEN
        RAISE EXCEPTION 'the lead of % already has its customer', OLD.name
            USING ERRCODE = 'check_violation', CONSTRAINT = 'lead_customer_fixed';
    END IF;
    IF OLD.status = 'BOOKED' AND NEW.status <> 'BOOKED' THEN
        RAISE EXCEPTION 'the lead of % is booked', OLD.name
            USING ERRCODE = 'check_violation', CONSTRAINT = 'lead_booked_final';
    END IF;
    IF OLD.status IN ('BOOKED', 'LOST')
       AND (NEW.source, NEW.name, NEW.mobile, NEW.email, NEW.model_id, NEW.budget, NEW.finance_needed,
            NEW.exchange_vehicle, NEW.expected_purchase_on, NEW.notes)
           IS DISTINCT FROM (OLD.source, OLD.name, OLD.mobile, OLD.email, OLD.model_id, OLD.budget,
                             OLD.finance_needed, OLD.exchange_vehicle, OLD.expected_purchase_on, OLD.notes) THEN
        RAISE EXCEPTION 'the lead of % is %: its details stay as they were', OLD.name, lower(OLD.status)
            USING ERRCODE = 'check_violation', CONSTRAINT = 'lead_closed_details';
    END IF;
    RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER lead_change BEFORE UPDATE ON crm.lead
    FOR EACH ROW EXECUTE FUNCTION crm.check_lead_change();

-- A quotation moves its lead to NEGOTIATION (from any earlier open status).
CREATE OR REPLACE FUNCTION crm.lead_quoted() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    UPDATE crm.lead SET status = 'NEGOTIATION'
     WHERE lead_id = NEW.lead_id AND status IN ('NEW', 'CONTACTED', 'TEST_RIDE');
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER quotation_moves_lead AFTER INSERT ON sales.quotation
    FOR EACH ROW EXECUTE FUNCTION crm.lead_quoted();

-- A booking books its lead and records its customer on the lead when it had none.
CREATE OR REPLACE FUNCTION crm.lead_booked() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.lead_id IS NOT NULL THEN
        UPDATE crm.lead SET status = 'BOOKED', lost_reason_code = NULL, lost_remark = NULL,
                            customer_id = coalesce(customer_id, NEW.customer_id)
         WHERE lead_id = NEW.lead_id AND status <> 'BOOKED';
    END IF;
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER booking_moves_lead AFTER INSERT ON sales.booking
    FOR EACH ROW EXECUTE FUNCTION crm.lead_booked();

-- Round-robin: the next active salesperson of the branch after the one whose turn it was last
-- (in staff id order, starting again at the first). The branch's turn row is locked until
-- commit, so two leads assigned at once go to two people. NULL when the branch has no one.
CREATE OR REPLACE FUNCTION crm.next_salesperson(branch integer) RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    last_one integer;
    chosen integer;
BEGIN
    INSERT INTO crm.assignment_turn (branch_id, staff_id)
    SELECT branch, min(staff_id) FROM master.staff
     WHERE branch_id = branch AND is_active AND designation = 'SALES'
    HAVING min(staff_id) IS NOT NULL
    ON CONFLICT (branch_id) DO NOTHING;
    SELECT staff_id INTO last_one FROM crm.assignment_turn WHERE branch_id = branch FOR UPDATE;
    IF last_one IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT coalesce(
        (SELECT min(staff_id) FROM master.staff
          WHERE branch_id = branch AND is_active AND designation = 'SALES' AND staff_id > last_one),
        (SELECT min(staff_id) FROM master.staff
          WHERE branch_id = branch AND is_active AND designation = 'SALES')) INTO chosen;
    IF chosen IS NOT NULL THEN
        UPDATE crm.assignment_turn SET staff_id = chosen WHERE branch_id = branch;
    END IF;
    RETURN chosen;
END
$$;

-- ---------------------------------------------------------------------------
-- Test rides
-- ---------------------------------------------------------------------------

-- A ride goes out on a demo unit of the lead's branch, for a lead still open; its day is the India
-- day of out_at (which the licence must still be valid on: test_ride_licence_valid). The unit row
-- is locked first, so of two rides taken out at once the second waits and then meets the index.
CREATE OR REPLACE FUNCTION crm.start_test_ride() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    u inventory.vehicle_unit;
    l crm.lead;
BEGIN
    SELECT * INTO STRICT u FROM inventory.vehicle_unit WHERE unit_id = NEW.unit_id FOR UPDATE;
    SELECT * INTO STRICT l FROM crm.lead WHERE lead_id = NEW.lead_id;
    IF u.status <> 'DEMO' OR u.branch_id <> NEW.branch_id THEN
        RAISE EXCEPTION 'unit % is not a demo vehicle of this branch', u.vin
            USING ERRCODE = 'check_violation', CONSTRAINT = 'test_ride_demo_unit';
    END IF;
    IF l.branch_id <> NEW.branch_id OR l.status IN ('BOOKED', 'LOST') THEN
        RAISE EXCEPTION 'the lead of % is not open at this branch', l.name
            USING ERRCODE = 'check_violation', CONSTRAINT = 'test_ride_open_lead';
    END IF;
    NEW.ride_on := (NEW.out_at AT TIME ZONE 'Asia/Kolkata')::date;
    NEW.in_at := NULL;
    NEW.odometer_in := NULL;
    UPDATE crm.lead SET status = 'TEST_RIDE' WHERE lead_id = NEW.lead_id AND status IN ('NEW', 'CONTACTED');
    RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER test_ride_start BEFORE INSERT ON crm.test_ride
    FOR EACH ROW EXECUTE FUNCTION crm.start_test_ride();

-- A ride comes back once (time, odometer, feedback); what went out is never changed.
CREATE OR REPLACE FUNCTION crm.return_test_ride() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF OLD.in_at IS NOT NULL
       OR (NEW.lead_id, NEW.branch_id, NEW.unit_id, NEW.licence_no, NEW.licence_valid_until, NEW.ride_on,
           NEW.out_at, NEW.odometer_out, NEW.staff_id)
          IS DISTINCT FROM (OLD.lead_id, OLD.branch_id, OLD.unit_id, OLD.licence_no, OLD.licence_valid_until,
                            OLD.ride_on, OLD.out_at, OLD.odometer_out, OLD.staff_id) THEN
        RAISE EXCEPTION 'a test ride is only ever brought back, once'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'test_ride_back_once';
    END IF;
    RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER test_ride_return BEFORE UPDATE ON crm.test_ride
    FOR EACH ROW EXECUTE FUNCTION crm.return_test_ride();
CREATE OR REPLACE TRIGGER test_ride_never_deleted BEFORE DELETE ON crm.test_ride
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- A unit out on a ride is not allotted to a booking. Row triggers of one event fire in name order:
-- this one ("allotment_0...") runs before allotment_allot, which would otherwise only say the unit
-- is not in stock.
CREATE OR REPLACE FUNCTION crm.unit_not_on_test_ride() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM crm.test_ride WHERE unit_id = NEW.unit_id AND in_at IS NULL) THEN
        RAISE EXCEPTION 'unit % is out on a test ride', NEW.unit_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'allotment_unit_on_test_ride';
    END IF;
    RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER allotment_0_not_on_test_ride BEFORE INSERT ON sales.allotment
    FOR EACH ROW EXECUTE FUNCTION crm.unit_not_on_test_ride();

-- Nor does it leave DEMO (back into stock, returned to the OEM) until it is back.
CREATE OR REPLACE FUNCTION crm.unit_stays_while_out() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.status IS DISTINCT FROM OLD.status
       AND EXISTS (SELECT 1 FROM crm.test_ride WHERE unit_id = OLD.unit_id AND in_at IS NULL) THEN
        RAISE EXCEPTION 'unit % is out on a test ride', OLD.vin
            USING ERRCODE = 'check_violation', CONSTRAINT = 'vehicle_unit_on_test_ride';
    END IF;
    RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER vehicle_unit_test_ride BEFORE UPDATE OF status ON inventory.vehicle_unit
    FOR EACH ROW EXECUTE FUNCTION crm.unit_stays_while_out();
