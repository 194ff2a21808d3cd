-- The service schema's functions, triggers and views as they are now: init-db runs this file
-- again whenever it changes (webapp/migrations.py), after the numbered migrations. A fix to one of
-- them is an edit here, never a new numbered file (docs/ARCHITECTURE.md, "Database rules live
-- in PostgreSQL").

-- ---------------------------------------------------------------------------
-- Vehicles
-- ---------------------------------------------------------------------------
-- A vehicle sold here takes its VIN, motor number, variant, colour and manufacture month from its
-- unit (given ones must match), its sale date and first odometer reading from the delivery, its
-- registration number from the sale's registration and its owner from the sale when the request
-- can see that sale (another branch's sale is not visible: the owner is then given). A vehicle
-- sold elsewhere must not be one of our units.
CREATE OR REPLACE FUNCTION service.check_vehicle() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    u inventory.vehicle_unit;
    d sales.delivery;
    today date := (now() AT TIME ZONE 'Asia/Kolkata')::date;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.unit_id IS DISTINCT FROM OLD.unit_id OR NEW.vin <> OLD.vin THEN
            RAISE EXCEPTION 'a vehicle''s VIN and unit never change (vehicle %)', OLD.vehicle_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'vehicle_vin_fixed';
        END IF;
    END IF;
    IF NEW.unit_id IS NOT NULL THEN
        SELECT * INTO u FROM inventory.vehicle_unit WHERE unit_id = NEW.unit_id;
        IF TG_OP = 'INSERT' THEN
            NEW.vin := coalesce(NEW.vin, u.vin);
            NEW.motor_no := coalesce(NEW.motor_no, u.motor_no);
            NEW.variant_id := coalesce(NEW.variant_id, u.variant_id);
            NEW.colour := coalesce(NEW.colour, u.colour);
            NEW.mfg_month := coalesce(NEW.mfg_month, u.mfg_month);
        END IF;
        IF NEW.vin IS DISTINCT FROM u.vin OR NEW.motor_no IS DISTINCT FROM u.motor_no
           OR NEW.variant_id IS DISTINCT FROM u.variant_id OR NEW.colour IS DISTINCT FROM u.colour
           OR NEW.mfg_month IS DISTINCT FROM u.mfg_month THEN
            RAISE EXCEPTION 'a vehicle sold here has its unit''s VIN, motor number, variant, colour and month (unit %)', NEW.unit_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'vehicle_matches_unit';
        END IF;
        SELECT * INTO d FROM sales.delivery WHERE unit_id = NEW.unit_id ORDER BY delivered_at DESC LIMIT 1;
        IF d.delivery_id IS NULL THEN
            RAISE EXCEPTION 'unit % has not been delivered to a customer', NEW.unit_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'vehicle_unit_delivered';
        END IF;
        IF TG_OP = 'INSERT' THEN
            NEW.sale_date := coalesce(NEW.sale_date, d.delivered_on);
            NEW.customer_id := coalesce(NEW.customer_id,
                                        (SELECT customer_id FROM sales.booking WHERE booking_id = d.booking_id));
            NEW.registration_no := coalesce(NEW.registration_no,
                                            (SELECT reg_no FROM sales.registration WHERE booking_id = d.booking_id));
            IF NEW.last_odometer_km IS NULL AND d.odometer_km IS NOT NULL THEN
                NEW.last_odometer_km := d.odometer_km;
                NEW.last_odometer_on := d.delivered_on;
            END IF;
        END IF;
        IF NEW.sale_date <> d.delivered_on THEN
            RAISE EXCEPTION 'a vehicle sold here was sold on its delivery day (%)', d.delivered_on
                USING ERRCODE = 'check_violation', CONSTRAINT = 'vehicle_sale_date_is_delivery';
        END IF;
        IF NEW.customer_id IS NULL THEN
            RAISE EXCEPTION 'the owner of the vehicle must be given (the sale is another branch''s)'
                USING ERRCODE = 'not_null_violation', CONSTRAINT = 'vehicle_owner_needed';
        END IF;
    ELSIF TG_OP = 'INSERT' OR NEW.motor_no <> OLD.motor_no THEN
        IF EXISTS (SELECT 1 FROM inventory.vehicle_unit WHERE vin = NEW.vin OR motor_no = NEW.motor_no) THEN
            RAISE EXCEPTION 'VIN % or motor number % is one of this showroom''s units: find it by its VIN', NEW.vin, NEW.motor_no
                USING ERRCODE = 'check_violation', CONSTRAINT = 'vehicle_sold_here';
        END IF;
    END IF;
    IF NEW.sale_date > today THEN
        RAISE EXCEPTION 'a sale date cannot be in the future'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'vehicle_sale_date_not_future';
    END IF;
    IF NEW.mfg_month IS NOT NULL AND NEW.mfg_month > NEW.sale_date THEN
        RAISE EXCEPTION 'a vehicle is made before it is sold'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'vehicle_made_before_sale';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER vehicle_check
    BEFORE INSERT OR UPDATE OF unit_id, vin, motor_no, variant_id, colour, mfg_month, sale_date ON service.vehicle
    FOR EACH ROW EXECUTE FUNCTION service.check_vehicle();

CREATE OR REPLACE TRIGGER vehicle_is_never_deleted BEFORE DELETE ON service.vehicle
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- ---------------------------------------------------------------------------
-- Battery packs: a pack is in one vehicle at a time across inventory.battery_fitment (units
-- sold here) and service.pack_fitment (vehicles sold elsewhere).
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION service.check_pack_fitment() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM service.vehicle WHERE vehicle_id = NEW.vehicle_id AND unit_id IS NOT NULL) THEN
        RAISE EXCEPTION 'a vehicle sold here keeps its packs in its unit''s battery history'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'pack_fitment_outside_vehicle';
    END IF;
    IF (NEW.removed_on IS NULL OR NEW.removed_on >= NEW.fitted_on) AND EXISTS (SELECT 1 FROM inventory.battery_fitment f
                WHERE f.pack_id = NEW.pack_id
                  AND daterange(f.fitted_on, f.removed_on, '[)') && daterange(NEW.fitted_on, NEW.removed_on, '[)')) THEN
        RAISE EXCEPTION 'battery pack % is fitted in one of this showroom''s units then', NEW.pack_id
            USING ERRCODE = 'exclusion_violation', CONSTRAINT = 'pack_fitment_one_vehicle_at_a_time';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER pack_fitment_check BEFORE INSERT OR UPDATE ON service.pack_fitment
    FOR EACH ROW EXECUTE FUNCTION service.check_pack_fitment();

CREATE OR REPLACE FUNCTION service.check_unit_fitment() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    -- A removal before the fitting is the table's own CHECK to refuse (battery_fitment_check): no range
    -- is made of it here.
    IF (NEW.removed_on IS NULL OR NEW.removed_on >= NEW.fitted_on) AND EXISTS (SELECT 1 FROM service.pack_fitment f
                WHERE f.pack_id = NEW.pack_id
                  AND daterange(f.fitted_on, f.removed_on, '[)') && daterange(NEW.fitted_on, NEW.removed_on, '[)')) THEN
        RAISE EXCEPTION 'battery pack % is fitted in a vehicle sold elsewhere then', NEW.pack_id
            USING ERRCODE = 'exclusion_violation', CONSTRAINT = 'battery_fitment_one_vehicle_at_a_time';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER battery_fitment_not_in_outside_vehicle BEFORE INSERT OR UPDATE ON inventory.battery_fitment
    FOR EACH ROW EXECUTE FUNCTION service.check_unit_fitment();

-- Every pack a vehicle has held, when, whether it was sold here (the unit's battery history) or
-- elsewhere (service.pack_fitment).
CREATE OR REPLACE VIEW service.vehicle_pack AS
    SELECT v.vehicle_id, f.pack_id, p.serial, f.fitted_on, f.removed_on, f.reason
      FROM service.vehicle v
      JOIN inventory.battery_fitment f ON f.unit_id = v.unit_id
      JOIN inventory.battery_pack p ON p.pack_id = f.pack_id
    UNION ALL
    SELECT f.vehicle_id, f.pack_id, p.serial, f.fitted_on, f.removed_on, f.reason
      FROM service.pack_fitment f
      JOIN inventory.battery_pack p ON p.pack_id = f.pack_id;

-- ---------------------------------------------------------------------------
-- Job cards
-- ---------------------------------------------------------------------------
-- A new card: its customer defaults to the owner; the vehicle's last reading is its floor (the
-- vehicle row is locked so two arrivals of one vehicle queue); one open card per vehicle. A
-- reading below the floor needs a reason and the MANAGER (or ADMIN) who overrides it, who is the
-- person acting when a session is known; the override is an audit event. A move of state must be
-- in service.job_state_transition; a closed card changes no more.
CREATE OR REPLACE FUNCTION service.check_job_card() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    v service.vehicle;
    acting integer := audit.current_staff_id();
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT * INTO v FROM service.vehicle WHERE vehicle_id = NEW.vehicle_id FOR UPDATE;
        NEW.customer_id := coalesce(NEW.customer_id, v.customer_id);
        NEW.previous_odometer_km := v.last_odometer_km;
        IF NEW.state IN ('DELIVERED', 'CANCELLED') THEN
            NEW.closed_at := coalesce(NEW.closed_at, NEW.state_changed_at);
        END IF;
        IF NEW.state NOT IN ('DELIVERED', 'CANCELLED') AND EXISTS (
               SELECT 1 FROM service.job_card
                WHERE vehicle_id = NEW.vehicle_id AND state NOT IN ('DELIVERED', 'CANCELLED')) THEN
            RAISE EXCEPTION 'vehicle % already has an open job card', NEW.vehicle_id
                USING ERRCODE = 'unique_violation', CONSTRAINT = 'job_card_one_open_idx';
        END IF;
    ELSE
        IF OLD.state IN ('DELIVERED', 'CANCELLED') THEN
            RAISE EXCEPTION 'job card % is closed (%)', OLD.job_card_no, OLD.state
                USING ERRCODE = 'check_violation', CONSTRAINT = 'job_card_closed_is_final';
        END IF;
        IF NEW.vehicle_id <> OLD.vehicle_id OR NEW.branch_id <> OLD.branch_id
           OR NEW.job_card_no <> OLD.job_card_no OR NEW.previous_odometer_km IS DISTINCT FROM OLD.previous_odometer_km THEN
            RAISE EXCEPTION 'a job card keeps its vehicle, branch, number and the reading it was opened against'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'job_card_fixed';
        END IF;
        IF NEW.state <> OLD.state THEN
            IF NOT EXISTS (SELECT 1 FROM service.job_state_transition
                            WHERE from_state = OLD.state AND to_state = NEW.state) THEN
                RAISE EXCEPTION 'a job card cannot go from % to %', OLD.state, NEW.state
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'job_card_state_transition';
            END IF;
            NEW.state_changed_at := now();
            IF NEW.state IN ('DELIVERED', 'CANCELLED') THEN
                NEW.closed_at := now();
            END IF;
        END IF;
    END IF;
    -- Checked when the reading or its override is written, not on every later change of the card (an
    -- approval, a tap on the board by whoever works on it).
    IF NEW.odometer_km < NEW.previous_odometer_km
       AND (TG_OP = 'INSERT' OR NEW.odometer_km <> OLD.odometer_km
            OR NEW.odometer_override_by IS DISTINCT FROM OLD.odometer_override_by
            OR NEW.odometer_override_reason IS DISTINCT FROM OLD.odometer_override_reason) THEN
        IF NEW.odometer_override_by IS NULL THEN
            RAISE EXCEPTION 'odometer % km is below the last reading % km', NEW.odometer_km, NEW.previous_odometer_km
                USING ERRCODE = 'check_violation', CONSTRAINT = 'job_card_odometer_not_below_last';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM master.staff WHERE staff_id = NEW.odometer_override_by AND is_active
                          AND designation IN ('MANAGER', 'ADMIN'))
           OR (acting IS NOT NULL AND acting <> NEW.odometer_override_by) THEN
            RAISE EXCEPTION 'only a manager overrides the odometer, in their own name'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'job_card_override_by_manager';
        END IF;
        PERFORM audit.record_event('odometer_override', 'service.job_card', NEW.job_card_id::text,
            jsonb_build_object('odometer_km', NEW.odometer_km, 'last_km', NEW.previous_odometer_km,
                               'reason', NEW.odometer_override_reason, 'manager', NEW.odometer_override_by));
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER job_card_check BEFORE INSERT OR UPDATE ON service.job_card
    FOR EACH ROW EXECUTE FUNCTION service.check_job_card();

-- The branch's JC series of the day the card is opened (in India), after job_card_check.
CREATE OR REPLACE FUNCTION service.number_job_card() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.job_card_no IS NULL THEN
        NEW.job_card_no := master.next_document_no(NEW.branch_id, 'JC', (NEW.opened_at AT TIME ZONE 'Asia/Kolkata')::date);
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER job_card_take_number BEFORE INSERT ON service.job_card
    FOR EACH ROW WHEN (NEW.job_card_no IS NULL) EXECUTE FUNCTION service.number_job_card();

CREATE OR REPLACE TRIGGER job_card_is_never_deleted BEFORE DELETE ON service.job_card
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- Every state a card enters goes into its history; its reading becomes the vehicle's last when
-- it is the vehicle's latest card.
CREATE OR REPLACE FUNCTION service.job_card_recorded() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    opened_on date := (NEW.opened_at AT TIME ZONE 'Asia/Kolkata')::date;
BEGIN
    IF TG_OP = 'INSERT' OR NEW.state <> OLD.state THEN
        INSERT INTO service.job_state_change (job_card_id, from_state, to_state, changed_at)
        VALUES (NEW.job_card_id, CASE WHEN TG_OP = 'UPDATE' THEN OLD.state END, NEW.state, NEW.state_changed_at);
    END IF;
    IF TG_OP = 'INSERT' OR NEW.odometer_km <> OLD.odometer_km THEN
        UPDATE service.vehicle
           SET last_odometer_km = NEW.odometer_km, last_odometer_on = opened_on,
               last_odometer_job_card_id = NEW.job_card_id
         WHERE vehicle_id = NEW.vehicle_id
           AND (last_odometer_job_card_id IS NULL OR last_odometer_job_card_id = NEW.job_card_id
                OR last_odometer_on IS NULL OR last_odometer_on <= opened_on);
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER job_card_recorded AFTER INSERT OR UPDATE ON service.job_card
    FOR EACH ROW EXECUTE FUNCTION service.job_card_recorded();

CREATE OR REPLACE TRIGGER job_state_change_is_permanent BEFORE UPDATE OR DELETE ON service.job_state_change
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- Lines and approvals change only while their card is open (and visible to the request); an
-- approval belongs to the line's own card; a line under an approval keeps what was approved.
CREATE OR REPLACE FUNCTION service.check_job_line() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    card integer := CASE WHEN TG_OP = 'DELETE' THEN OLD.job_card_id ELSE NEW.job_card_id END;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM service.job_card WHERE job_card_id = card
                      AND state NOT IN ('DELIVERED', 'CANCELLED'))
       OR (TG_OP = 'UPDATE' AND NEW.job_card_id <> OLD.job_card_id) THEN
        RAISE EXCEPTION 'the work of a closed job card does not change'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'job_line_card_open';
    END IF;
    IF TG_OP = 'DELETE' THEN
        IF OLD.approval_id IS NOT NULL THEN
            RAISE EXCEPTION 'an approved line stays on the card (decline it instead)'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'job_line_approved_fixed';
        END IF;
        RETURN OLD;
    END IF;
    IF NEW.approval_id IS NOT NULL AND NOT EXISTS (
           SELECT 1 FROM service.job_approval WHERE approval_id = NEW.approval_id AND job_card_id = NEW.job_card_id) THEN
        RAISE EXCEPTION 'an approval covers the lines of its own job card'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'job_line_approval_same_card';
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.approval_id IS NOT NULL
       AND (NEW.qty, NEW.unit_price, NEW.price_includes_gst, NEW.coverage, NEW.operation_code, NEW.part_id, NEW.approval_id)
           IS DISTINCT FROM (OLD.qty, OLD.unit_price, OLD.price_includes_gst, OLD.coverage, OLD.operation_code, OLD.part_id, OLD.approval_id) THEN
        RAISE EXCEPTION 'an approved line keeps its work, quantity, price and coverage'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'job_line_approved_fixed';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER job_line_check BEFORE INSERT OR UPDATE OR DELETE ON service.job_line
    FOR EACH ROW EXECUTE FUNCTION service.check_job_line();

CREATE OR REPLACE FUNCTION service.check_job_approval() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM service.job_card WHERE job_card_id = NEW.job_card_id
                      AND state NOT IN ('DELIVERED', 'CANCELLED')) THEN
        RAISE EXCEPTION 'a closed job card takes no approval'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'job_approval_card_open';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER job_approval_check BEFORE INSERT OR UPDATE ON service.job_approval
    FOR EACH ROW EXECUTE FUNCTION service.check_job_approval();

-- ---------------------------------------------------------------------------
-- On the job card: checklist, readings, photos
-- ---------------------------------------------------------------------------
-- The checklist, readings and photos of a card change only while it is open (and visible to the
-- request); refused as "<table>_card_open".
CREATE OR REPLACE FUNCTION service.refuse_on_closed_card() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    card integer := CASE WHEN TG_OP = 'DELETE' THEN OLD.job_card_id ELSE NEW.job_card_id END;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM service.job_card WHERE job_card_id = card AND state NOT IN ('DELIVERED', 'CANCELLED'))
       OR (TG_OP = 'UPDATE' AND NEW.job_card_id <> OLD.job_card_id) THEN
        RAISE EXCEPTION 'job card % is closed: its % do not change', card, TG_TABLE_NAME
            USING ERRCODE = 'check_violation', CONSTRAINT = TG_TABLE_NAME || '_card_open';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;

CREATE OR REPLACE TRIGGER inspection_result_card_open BEFORE INSERT OR UPDATE OR DELETE ON service.inspection_result
    FOR EACH ROW EXECUTE FUNCTION service.refuse_on_closed_card();

CREATE OR REPLACE TRIGGER battery_reading_card_open BEFORE INSERT OR UPDATE OR DELETE ON service.battery_reading
    FOR EACH ROW EXECUTE FUNCTION service.refuse_on_closed_card();

CREATE OR REPLACE TRIGGER job_photo_card_open BEFORE INSERT OR UPDATE OR DELETE ON service.job_photo
    FOR EACH ROW EXECUTE FUNCTION service.refuse_on_closed_card();

-- The limit of a check in force on a day (NULL: none).
CREATE OR REPLACE FUNCTION service.reading_limit_on(p_code text, p_on date) RETURNS numeric
LANGUAGE sql STABLE
AS $$
    SELECT limit_value FROM service.reading_limit
     WHERE check_code = p_code AND master.valid_during(effective_from, effective_to) @> p_on
$$;

-- A reading is of a pack the card's vehicle holds (or held) on the day; its flags are the limits
-- of that day it breaks: cell delta, temperature, insulation, SoH below the variant's warranty
-- floor (or the general limit when the variant names none), BMS faults, a failed charger check.
CREATE OR REPLACE FUNCTION service.judge_battery_reading() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    day date := (NEW.read_at AT TIME ZONE 'Asia/Kolkata')::date;
    vehicle integer;
    floor_pct numeric;
    found text[] := '{}';
BEGIN
    SELECT c.vehicle_id, coalesce(va.battery_min_soh_pct, service.reading_limit_on('SOH_MIN_PCT', day))
      INTO vehicle, floor_pct
      FROM service.job_card c JOIN service.vehicle v ON v.vehicle_id = c.vehicle_id
      JOIN oem.variant va ON va.variant_id = v.variant_id
     WHERE c.job_card_id = NEW.job_card_id;
    IF NOT EXISTS (SELECT 1 FROM service.vehicle_pack
                    WHERE vehicle_id = vehicle AND pack_id = NEW.pack_id
                      AND daterange(fitted_on, removed_on, '[]') @> day) THEN
        RAISE EXCEPTION 'pack % is not in this vehicle on %', NEW.pack_id, day
            USING ERRCODE = 'check_violation', CONSTRAINT = 'battery_reading_pack_of_vehicle';
    END IF;
    IF (NEW.cell_v_max - NEW.cell_v_min) * 1000 > service.reading_limit_on('CELL_DELTA_MV_MAX', day) THEN
        found := found || 'CELL_DELTA'::text;
    END IF;
    IF NEW.pack_temp_max_c > service.reading_limit_on('TEMP_MAX_C', day) THEN
        found := found || 'TEMPERATURE'::text;
    END IF;
    IF NEW.insulation_mohm < service.reading_limit_on('INSULATION_MOHM_MIN', day) THEN
        found := found || 'INSULATION'::text;
    END IF;
    IF NEW.soh_pct < floor_pct THEN
        found := found || 'SOH'::text;
    END IF;
    IF cardinality(NEW.fault_codes) > 0 THEN
        found := found || 'BMS_FAULT'::text;
    END IF;
    IF NEW.charger_ok IS FALSE THEN
        found := found || 'CHARGER'::text;
    END IF;
    NEW.flags := found;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER battery_reading_judged BEFORE INSERT OR UPDATE ON service.battery_reading
    FOR EACH ROW EXECUTE FUNCTION service.judge_battery_reading();

CREATE OR REPLACE TRIGGER job_photo_is_permanent BEFORE UPDATE ON service.job_photo
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- ---------------------------------------------------------------------------
-- Estimate, approval and parts issued to a job card
-- ---------------------------------------------------------------------------
-- Is every customer-paid line of the card (not declined) under a customer's approval? Work added
-- after an approval is PROPOSED until the next approval, so this is false until then: the service
-- invoice asks it before billing; a card moves to APPROVED only when it holds.
CREATE OR REPLACE FUNCTION service.customer_work_approved(p_job_card_id integer) RETURNS boolean
LANGUAGE sql STABLE
AS $$
    SELECT NOT EXISTS (SELECT 1 FROM service.job_line
                        WHERE job_card_id = p_job_card_id AND coverage = 'CUSTOMER'
                          AND status <> 'DECLINED' AND approval_id IS NULL)
$$;

-- What a job card's invoice bills, line by line: every line not declined, labour at its quantity, a
-- part at what was issued to it (a part line with none issued bills nothing), with its HSN/SAC, who
-- pays, and whether the customer approved it (covered work needs no approval).
CREATE OR REPLACE VIEW service.job_line_billable AS
    SELECT l.job_line_id, l.job_card_id, l.operation_code, l.part_id,
           coalesce(l.description, lo.name, p.name) AS description,
           coalesce(lo.sac_code, p.hsn_code) AS hsn_code,
           CASE WHEN l.part_id IS NULL THEN l.qty ELSE l.issued_qty END AS bill_qty,
           l.unit_price, l.price_includes_gst, l.coverage, l.status,
           (l.coverage <> 'CUSTOMER' OR l.approval_id IS NOT NULL) AS approved
      FROM service.job_line l
      LEFT JOIN master.labour_operation lo ON lo.operation_code = l.operation_code
      LEFT JOIN master.part p ON p.part_id = l.part_id
     WHERE l.status <> 'DECLINED' AND (l.part_id IS NULL OR l.issued_qty > 0);

-- A card moves to APPROVED only when all its customer-paid work is approved, and is cancelled only
-- with none of its parts still out of stock (they are returned first).
CREATE OR REPLACE FUNCTION service.check_card_work() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.state = 'APPROVED' AND NOT service.customer_work_approved(NEW.job_card_id) THEN
        RAISE EXCEPTION 'job card % has customer-paid work the customer has not approved', OLD.job_card_no
            USING ERRCODE = 'check_violation', CONSTRAINT = 'job_card_work_not_approved';
    END IF;
    IF NEW.state = 'CANCELLED' AND EXISTS (SELECT 1 FROM service.job_line
                                            WHERE job_card_id = NEW.job_card_id AND issued_qty > 0) THEN
        RAISE EXCEPTION 'job card % has parts issued: return them before cancelling it', OLD.job_card_no
            USING ERRCODE = 'check_violation', CONSTRAINT = 'job_card_parts_out';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER job_card_work_check BEFORE UPDATE OF state ON service.job_card
    FOR EACH ROW WHEN (NEW.state IN ('APPROVED', 'CANCELLED') AND OLD.state <> NEW.state)
    EXECUTE FUNCTION service.check_card_work();

-- A line's technician is an active TECHNICIAN of the card's branch; what is issued to a line is
-- kept by the issues alone (and not declined or moved to another part while it is out); a line is
-- done with a date and who marked it, a part line only once its parts were issued.
CREATE OR REPLACE FUNCTION service.check_job_line_work() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF (TG_OP = 'INSERT' AND NEW.issued_qty <> 0)
       OR (TG_OP = 'UPDATE' AND NEW.issued_qty <> OLD.issued_qty AND pg_trigger_depth() < 2) THEN
        RAISE EXCEPTION 'what is issued to a line changes only by an issue or a return of its parts'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'job_line_issued_through_issues';
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.issued_qty > 0 AND NEW.part_id IS DISTINCT FROM OLD.part_id THEN
        RAISE EXCEPTION 'line % has parts issued: it keeps its part', OLD.job_line_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'job_line_issued_fixed';
    END IF;
    IF NEW.status = 'DECLINED' AND NEW.issued_qty > 0 THEN
        RAISE EXCEPTION 'line % has parts issued: return them before declining it', NEW.job_line_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'job_line_return_before_decline';
    END IF;
    IF NEW.technician_id IS NOT NULL AND (TG_OP = 'INSERT' OR NEW.technician_id IS DISTINCT FROM OLD.technician_id)
       AND NOT EXISTS (SELECT 1 FROM master.staff s JOIN service.job_card j ON j.branch_id = s.branch_id
                        WHERE s.staff_id = NEW.technician_id AND j.job_card_id = NEW.job_card_id
                          AND s.designation = 'TECHNICIAN' AND s.is_active) THEN
        RAISE EXCEPTION 'staff % is not an active technician of the job card''s branch', NEW.technician_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'job_line_technician';
    END IF;
    IF NEW.status = 'DONE' AND NEW.part_id IS NOT NULL AND NEW.issued_qty = 0 THEN
        RAISE EXCEPTION 'line % is a part none of which was issued', NEW.job_line_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'job_line_done_parts_issued';
    END IF;
    IF NEW.status = 'DONE' AND (TG_OP = 'INSERT' OR OLD.status <> 'DONE') THEN
        NEW.done_at := now();
        NEW.done_by := audit.current_staff_id();
    ELSIF NEW.status <> 'DONE' THEN
        NEW.done_at := NULL;
        NEW.done_by := NULL;
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER job_line_work_check BEFORE INSERT OR UPDATE ON service.job_line
    FOR EACH ROW EXECUTE FUNCTION service.check_job_line_work();

-- An approval covers work: the card must have proposed lines. Recording it approves every
-- proposed line of the card under it, and a card waiting for the customer moves to APPROVED.
-- An approval is the customer's word: it never changes.
CREATE OR REPLACE FUNCTION service.check_approval_has_lines() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM service.job_line WHERE job_card_id = NEW.job_card_id AND status = 'PROPOSED') THEN
        RAISE EXCEPTION 'job card % has no proposed work to approve', NEW.job_card_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'job_approval_needs_lines';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER job_approval_needs_lines BEFORE INSERT ON service.job_approval
    FOR EACH ROW EXECUTE FUNCTION service.check_approval_has_lines();

CREATE OR REPLACE FUNCTION service.approval_recorded() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    UPDATE service.job_line SET status = 'APPROVED', approval_id = NEW.approval_id
     WHERE job_card_id = NEW.job_card_id AND status = 'PROPOSED';
    UPDATE service.job_card SET state = 'APPROVED'
     WHERE job_card_id = NEW.job_card_id AND state IN ('OPEN', 'ESTIMATE_SENT');
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER job_approval_covers_lines AFTER INSERT ON service.job_approval
    FOR EACH ROW EXECUTE FUNCTION service.approval_recorded();

CREATE OR REPLACE TRIGGER job_approval_is_permanent BEFORE UPDATE OR DELETE ON service.job_approval
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- An issue of parts to a part line of an open card leaves stock (ISSUE_JOB) in the same
-- transaction at the weighted average cost (the ledger's trigger prices it and refuses more than
-- the branch holds); a return (RETURN_JOB) puts back at most what is out, at the cost it left at.
-- Customer-paid parts are issued once approved, never beyond the line's quantity (more is another
-- line, which needs the customer's approval). The line keeps what is issued (the invoice bills it).
CREATE OR REPLACE FUNCTION service.post_part_issue() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    l service.job_line;
    j service.job_card;
    out_value numeric;
    out_qty numeric;
BEGIN
    IF NEW.qty IS NULL OR NEW.qty <= 0 OR NEW.qty > 10000 THEN
        RAISE EXCEPTION 'a quantity of more than 0, at most 10,000'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'part_issue_qty_check';
    END IF;
    SELECT * INTO l FROM service.job_line WHERE job_line_id = NEW.job_line_id FOR UPDATE;
    SELECT * INTO j FROM service.job_card WHERE job_card_id = l.job_card_id;
    IF j.job_card_id IS NULL OR j.state IN ('DELIVERED', 'CANCELLED') THEN
        RAISE EXCEPTION 'parts are issued to and returned from an open job card only'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'part_issue_card_open';
    END IF;
    IF NEW.job_card_id <> l.job_card_id OR l.part_id IS NULL THEN
        RAISE EXCEPTION 'parts go to a part line of the same job card'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'part_issue_part_line';
    END IF;
    NEW.part_id := l.part_id;
    IF NEW.kind = 'ISSUE' THEN
        IF l.status = 'DECLINED' OR (l.coverage = 'CUSTOMER' AND l.approval_id IS NULL) THEN
            RAISE EXCEPTION 'line % is not approved: its parts are not issued yet', l.job_line_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'part_issue_line_approved';
        END IF;
        IF l.issued_qty + NEW.qty > l.qty THEN
            RAISE EXCEPTION 'line % is for %; % more would be beyond it', l.job_line_id, l.qty, NEW.qty
                USING ERRCODE = 'check_violation', CONSTRAINT = 'part_issue_beyond_line';
        END IF;
        INSERT INTO inventory.stock_move (branch_id, part_id, kind, qty, unit_cost, value, reference)
        VALUES (j.branch_id, l.part_id, 'ISSUE_JOB', -NEW.qty, 0, 0, j.job_card_no)
        RETURNING move_id INTO NEW.move_id;
        UPDATE service.job_line SET issued_qty = issued_qty + NEW.qty WHERE job_line_id = l.job_line_id;
    ELSE
        IF NEW.qty > l.issued_qty THEN
            RAISE EXCEPTION 'only % of line % is out; % cannot come back', l.issued_qty, l.job_line_id, NEW.qty
                USING ERRCODE = 'check_violation', CONSTRAINT = 'part_issue_return_within_issued';
        END IF;
        SELECT -sum(m.value), -sum(m.qty) INTO out_value, out_qty
          FROM service.part_issue i JOIN inventory.stock_move m ON m.move_id = i.move_id
         WHERE i.job_line_id = l.job_line_id;
        INSERT INTO inventory.stock_move (branch_id, part_id, kind, qty, unit_cost, value, reference)
        VALUES (j.branch_id, l.part_id, 'RETURN_JOB', NEW.qty,
                CASE WHEN out_qty > 0 THEN round(greatest(out_value, 0) / out_qty, 4) ELSE 0 END, 0, j.job_card_no)
        RETURNING move_id INTO NEW.move_id;
        UPDATE service.job_line SET issued_qty = issued_qty - NEW.qty WHERE job_line_id = l.job_line_id;
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER part_issue_post BEFORE INSERT ON service.part_issue
    FOR EACH ROW EXECUTE FUNCTION service.post_part_issue();

CREATE OR REPLACE TRIGGER part_issue_is_permanent BEFORE UPDATE OR DELETE ON service.part_issue
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- A parts request is raised on an open card (of the request's branch), for a part line's part
-- when it names one; then OPEN -> ORDERED -> RECEIVED, or CANCELLED before it is received. What
-- was asked for does not change; a request is never deleted.
CREATE OR REPLACE FUNCTION service.check_parts_request() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    j service.job_card;
    line_part integer;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT * INTO j FROM service.job_card WHERE job_card_id = NEW.job_card_id;
        IF j.job_card_id IS NULL OR j.state IN ('DELIVERED', 'CANCELLED') THEN
            RAISE EXCEPTION 'parts are requested for an open job card'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'parts_request_card_open';
        END IF;
        NEW.branch_id := j.branch_id;
        IF NEW.job_line_id IS NOT NULL THEN
            SELECT part_id INTO line_part FROM service.job_line
             WHERE job_line_id = NEW.job_line_id AND job_card_id = NEW.job_card_id;
            IF line_part IS NULL OR line_part <> coalesce(NEW.part_id, line_part) THEN
                RAISE EXCEPTION 'a request names a part line of its own job card'
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'parts_request_part_line';
            END IF;
            NEW.part_id := line_part;
        END IF;
        NEW.status := 'OPEN';
        RETURN NEW;
    END IF;
    IF (NEW.branch_id, NEW.job_card_id, NEW.job_line_id, NEW.part_id, NEW.qty, NEW.requested_at, NEW.requested_by)
       IS DISTINCT FROM (OLD.branch_id, OLD.job_card_id, OLD.job_line_id, OLD.part_id, OLD.qty, OLD.requested_at, OLD.requested_by) THEN
        RAISE EXCEPTION 'a parts request keeps what was asked for'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'parts_request_fixed';
    END IF;
    IF NEW.status <> OLD.status THEN
        IF (OLD.status, NEW.status) NOT IN (('OPEN', 'ORDERED'), ('ORDERED', 'RECEIVED'), ('OPEN', 'CANCELLED'),
                                            ('ORDERED', 'CANCELLED')) THEN
            RAISE EXCEPTION 'a parts request cannot go from % to %', OLD.status, NEW.status
                USING ERRCODE = 'check_violation', CONSTRAINT = 'parts_request_status_move';
        END IF;
        NEW.status_changed_at := now();
        NEW.status_changed_by := audit.current_staff_id();
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER parts_request_check BEFORE INSERT OR UPDATE ON service.parts_request
    FOR EACH ROW EXECUTE FUNCTION service.check_parts_request();

CREATE OR REPLACE TRIGGER parts_request_is_never_deleted BEFORE DELETE ON service.parts_request
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- ---------------------------------------------------------------------------
-- Entitlements, the bill, the gate pass and the next service due
-- ---------------------------------------------------------------------------
-- The free services a vehicle has used (its job cards of type FREE_SERVICE not cancelled) at any
-- branch: which one, the day its card was opened (in India), the branch and the card's number, and
-- nothing more of another branch's card. p_except_job_card_id leaves out the card being checked.
CREATE OR REPLACE FUNCTION service.free_services_used(p_vehicle_id integer, p_except_job_card_id integer DEFAULT NULL)
RETURNS TABLE (free_service_no smallint, used_on date, branch_name text, job_card_no text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT j.free_service_no, (j.opened_at AT TIME ZONE 'Asia/Kolkata')::date,
           coalesce(b.trade_name, b.legal_name), j.job_card_no
      FROM service.job_card j JOIN master.branch b ON b.branch_id = j.branch_id
     WHERE j.vehicle_id = p_vehicle_id AND j.service_type = 'FREE_SERVICE' AND j.state <> 'CANCELLED'
       AND j.job_card_id IS DISTINCT FROM p_except_job_card_id
     ORDER BY j.free_service_no, j.opened_at
$$;

-- Is this invoice reversed in full by a credit note (its total and TCS all credited)?
CREATE OR REPLACE FUNCTION service.bill_fully_credited(p_invoice_id integer) RETURNS boolean
LANGUAGE sql STABLE
AS $$
    SELECT EXISTS (SELECT 1 FROM billing.credit_note cn JOIN billing.invoice i ON i.invoice_id = cn.invoice_id
                    WHERE cn.invoice_id = p_invoice_id
                      AND cn.grand_total + cn.tcs_amount >= i.grand_total + i.tcs_amount)
$$;

-- A free service is taken only when the model's schedule says it is the one due on the day the
-- card is opened at its odometer (months and km from the sale, whichever first: warranty.free_services)
-- and never twice for a vehicle, at whichever branch it was used (service.free_services_used reads
-- every branch's cards; job_card_free_service_once_idx holds it against a race).
CREATE OR REPLACE FUNCTION service.check_free_service() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    v record;
    fs record;
    used record;
BEGIN
    SELECT sv.sale_date, va.model_id INTO v
      FROM service.vehicle sv JOIN oem.variant va ON va.variant_id = sv.variant_id
     WHERE sv.vehicle_id = NEW.vehicle_id;
    SELECT * INTO fs FROM warranty.free_services(v.model_id, v.sale_date, (NEW.opened_at AT TIME ZONE 'Asia/Kolkata')::date,
                                                 NEW.odometer_km,
                                                 ARRAY(SELECT u.free_service_no
                                                         FROM service.free_services_used(NEW.vehicle_id, NEW.job_card_id) u))
     WHERE service_no = NEW.free_service_no;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the model has no free service %', NEW.free_service_no
            USING ERRCODE = 'check_violation', CONSTRAINT = 'job_card_free_service_in_schedule';
    ELSIF fs.state = 'USED' THEN
        SELECT * INTO used FROM service.free_services_used(NEW.vehicle_id, NEW.job_card_id) u
         WHERE u.free_service_no = NEW.free_service_no LIMIT 1;
        RAISE EXCEPTION 'free service % was already used on this vehicle on % at % (job card %)', NEW.free_service_no,
            to_char(used.used_on, 'DD-MM-YYYY'), used.branch_name, used.job_card_no
            USING ERRCODE = 'unique_violation', CONSTRAINT = 'job_card_free_service_once_idx';
    ELSIF fs.expired_by = 'EXPIRED_BY_DATE' THEN
        RAISE EXCEPTION 'free service % was due by %', NEW.free_service_no, to_char(fs.due_on, 'DD-MM-YYYY')
            USING ERRCODE = 'check_violation', CONSTRAINT = 'job_card_free_service_expired_by_date';
    ELSIF fs.expired_by = 'EXPIRED_BY_KM' THEN
        RAISE EXCEPTION 'free service % was due by % km', NEW.free_service_no, fs.due_km
            USING ERRCODE = 'check_violation', CONSTRAINT = 'job_card_free_service_expired_by_km';
    ELSIF fs.state <> 'DUE' THEN
        RAISE EXCEPTION 'an earlier free service is due before free service %', NEW.free_service_no
            USING ERRCODE = 'check_violation', CONSTRAINT = 'job_card_free_service_not_due';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER job_card_free_service_check
    BEFORE INSERT OR UPDATE OF service_type, free_service_no, odometer_km ON service.job_card
    FOR EACH ROW WHEN (NEW.service_type = 'FREE_SERVICE' AND NEW.state <> 'CANCELLED')
    EXECUTE FUNCTION service.check_free_service();

-- A line under warranty needs the cover in force on the day the card was opened at its odometer:
-- the battery's (a part under HSN 8507, accumulators, against every pack in the vehicle now: one
-- covered is enough) or the vehicle's. Refused as expired by date or by km, so the screen says why.
CREATE OR REPLACE FUNCTION service.check_warranty_line() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    card record;
    why text;
BEGIN
    SELECT sv.vin, sv.variant_id, sv.sale_date, j.odometer_km, (j.opened_at AT TIME ZONE 'Asia/Kolkata')::date AS opened_on,
           sv.vehicle_id
      INTO card
      FROM service.job_card j JOIN service.vehicle sv ON sv.vehicle_id = j.vehicle_id
     WHERE j.job_card_id = NEW.job_card_id;
    IF NOT FOUND THEN
        RETURN NEW;                                   -- job_line_card_open says why
    END IF;
    IF NEW.part_id IS NOT NULL AND EXISTS (SELECT 1 FROM master.part WHERE part_id = NEW.part_id AND hsn_code LIKE '8507%') THEN
        SELECT CASE WHEN bool_or(c.covered) THEN NULL ELSE coalesce(min(c.reason), 'NO_PACK') END INTO why
          FROM warranty.battery_coverage(card.vin, card.variant_id, card.sale_date, card.opened_on, card.odometer_km,
                   (SELECT jsonb_agg(jsonb_build_object('pack_id', p.pack_id, 'serial', p.serial, 'fitted_on', p.fitted_on))
                      FROM service.vehicle_pack p WHERE p.vehicle_id = card.vehicle_id AND p.removed_on IS NULL)) c;
        why := coalesce(why, CASE WHEN NOT EXISTS (SELECT 1 FROM service.vehicle_pack p
                                                   WHERE p.vehicle_id = card.vehicle_id AND p.removed_on IS NULL)
                                  THEN 'NO_PACK' END);
    ELSE
        SELECT CASE WHEN c.covered THEN NULL ELSE c.reason END INTO why
          FROM warranty.vehicle_coverage(card.vin, card.variant_id, card.sale_date, card.opened_on, card.odometer_km) c;
    END IF;
    IF why IS NULL THEN
        RETURN NEW;
    ELSIF why = 'EXPIRED_BY_KM' THEN
        RAISE EXCEPTION 'the warranty ended by km before this card''s odometer'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'job_line_warranty_expired_by_km';
    ELSIF why = 'EXPIRED_BY_DATE' THEN
        RAISE EXCEPTION 'the warranty ended by date before this card was opened'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'job_line_warranty_expired_by_date';
    ELSE
        RAISE EXCEPTION 'no warranty covers this work (%)', why
            USING ERRCODE = 'check_violation', CONSTRAINT = 'job_line_warranty_none';
    END IF;
END
$$;

CREATE OR REPLACE TRIGGER job_line_warranty_check
    BEFORE INSERT OR UPDATE OF coverage, part_id, operation_code ON service.job_line
    FOR EACH ROW WHEN (NEW.coverage = 'WARRANTY') EXECUTE FUNCTION service.check_warranty_line();

-- The card's bill: set once, on a READY card whose customer-paid work is all approved, to a service
-- invoice or job sheet no credit note has touched; after that the card's work does not change (it is
-- billed) until a credit note reverses that bill in full (service.credit_note_frees_card).
CREATE OR REPLACE FUNCTION service.check_card_invoice() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.invoice_id IS NOT NULL THEN
        RAISE EXCEPTION 'job card % is already billed', OLD.job_card_no
            USING ERRCODE = 'check_violation', CONSTRAINT = 'job_card_invoice_fixed';
    END IF;
    IF NEW.state <> 'READY' THEN
        RAISE EXCEPTION 'job card % is billed when it is ready (quality check passed)', NEW.job_card_no
            USING ERRCODE = 'check_violation', CONSTRAINT = 'job_card_invoice_when_ready';
    END IF;
    IF NOT service.customer_work_approved(NEW.job_card_id) THEN
        RAISE EXCEPTION 'job card % has customer-paid work the customer has not approved', NEW.job_card_no
            USING ERRCODE = 'check_violation', CONSTRAINT = 'job_card_invoice_work_approved';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM billing.invoice WHERE invoice_id = NEW.invoice_id AND kind IN ('SERVICE', 'JOB_SHEET')
                      AND customer_id = NEW.customer_id) THEN
        RAISE EXCEPTION 'a job card is billed on a service invoice or job sheet made out to its customer'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'job_card_invoice_kind';
    END IF;
    IF EXISTS (SELECT 1 FROM billing.credit_note WHERE invoice_id = NEW.invoice_id) THEN
        RAISE EXCEPTION 'invoice % is reversed by a credit note: bill the card on a new invoice', NEW.invoice_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'job_card_invoice_credited';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER job_card_invoice_check BEFORE INSERT OR UPDATE OF invoice_id ON service.job_card
    FOR EACH ROW WHEN (NEW.invoice_id IS NOT NULL) EXECUTE FUNCTION service.check_card_invoice();

CREATE OR REPLACE FUNCTION service.refuse_line_on_billed_card() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM service.job_card
                WHERE job_card_id = CASE WHEN TG_OP = 'DELETE' THEN OLD.job_card_id ELSE NEW.job_card_id END
                  AND invoice_id IS NOT NULL) THEN
        RAISE EXCEPTION 'the work of a billed job card does not change'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'job_line_card_billed';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;

CREATE OR REPLACE TRIGGER job_line_card_billed BEFORE INSERT OR UPDATE OR DELETE ON service.job_line
    FOR EACH ROW EXECUTE FUNCTION service.refuse_line_on_billed_card();

-- Every bill the card is given goes into its history (an invoice bills one card ever:
-- job_card_bill_invoice_once).
CREATE OR REPLACE FUNCTION service.card_billed() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.invoice_id IS DISTINCT FROM OLD.invoice_id THEN
        INSERT INTO service.job_card_bill (job_card_id, invoice_id) VALUES (NEW.job_card_id, NEW.invoice_id);
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER job_card_bill_recorded AFTER INSERT OR UPDATE OF invoice_id ON service.job_card
    FOR EACH ROW WHEN (NEW.invoice_id IS NOT NULL) EXECUTE FUNCTION service.card_billed();

CREATE OR REPLACE TRIGGER job_card_bill_is_permanent BEFORE UPDATE OR DELETE ON service.job_card_bill
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- A credit note reversing an open card's bill in full takes the bill off the card: its work may be
-- corrected and it is billed again. A delivered (or cancelled) card keeps its bill.
CREATE OR REPLACE FUNCTION service.credit_note_frees_card() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF service.bill_fully_credited(NEW.invoice_id) THEN
        UPDATE service.job_card SET invoice_id = NULL
         WHERE invoice_id = NEW.invoice_id AND state NOT IN ('DELIVERED', 'CANCELLED');
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER credit_note_frees_job_card AFTER INSERT ON billing.credit_note
    FOR EACH ROW EXECUTE FUNCTION service.credit_note_frees_card();

-- A gate pass lets a READY vehicle out: its bill paid in full (billing.invoice_paid_in_full; a job
-- sheet always is), nothing to bill at all, or released on credit by a MANAGER (or ADMIN), in their
-- own name, with a reason (an audit event). Numbered in the branch's GP series; it moves the card
-- to DELIVERED, and a card becomes DELIVERED only so. Permanent.
CREATE OR REPLACE FUNCTION service.check_gate_pass() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    card service.job_card;
    acting integer := audit.current_staff_id();
    paid boolean;
BEGIN
    SELECT * INTO card FROM service.job_card WHERE job_card_id = NEW.job_card_id FOR UPDATE;
    IF NOT FOUND OR card.state <> 'READY' THEN
        RAISE EXCEPTION 'a gate pass is for a job card that is ready'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'gate_pass_card_ready';
    END IF;
    NEW.branch_id := card.branch_id;
    NEW.invoice_id := card.invoice_id;
    IF card.invoice_id IS NULL THEN
        IF EXISTS (SELECT 1 FROM service.job_line_billable WHERE job_card_id = card.job_card_id) THEN
            RAISE EXCEPTION 'job card % has work to bill: make its invoice first', card.job_card_no
                USING ERRCODE = 'check_violation', CONSTRAINT = 'gate_pass_needs_invoice';
        END IF;
        paid := true;
    ELSE
        paid := billing.invoice_paid_in_full(card.invoice_id);
    END IF;
    NEW.paid_in_full := paid;
    IF paid AND (NEW.released_by IS NOT NULL OR NEW.credit_reason IS NOT NULL) THEN
        RAISE EXCEPTION 'the bill is paid: no release on credit is needed'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'gate_pass_credit_not_needed';
    END IF;
    IF NOT paid THEN
        IF NEW.released_by IS NULL THEN
            RAISE EXCEPTION 'job card % is not paid in full', card.job_card_no
                USING ERRCODE = 'check_violation', CONSTRAINT = 'gate_pass_unpaid';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM master.staff WHERE staff_id = NEW.released_by AND is_active
                          AND designation IN ('MANAGER', 'ADMIN'))
           OR (acting IS NOT NULL AND acting <> NEW.released_by) THEN
            RAISE EXCEPTION 'only a manager releases a vehicle on credit, in their own name'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'gate_pass_credit_by_manager';
        END IF;
    END IF;
    NEW.gate_pass_no := master.next_document_no(NEW.branch_id, 'GP', (NEW.issued_at AT TIME ZONE 'Asia/Kolkata')::date);
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER gate_pass_check BEFORE INSERT ON service.gate_pass
    FOR EACH ROW EXECUTE FUNCTION service.check_gate_pass();

CREATE OR REPLACE TRIGGER gate_pass_is_permanent BEFORE UPDATE OR DELETE ON service.gate_pass
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

CREATE OR REPLACE FUNCTION service.gate_pass_issued() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.released_by IS NOT NULL THEN
        PERFORM audit.record_event('release_on_credit', 'service.gate_pass', NEW.gate_pass_id::text,
            jsonb_build_object('job_card_id', NEW.job_card_id, 'invoice_id', NEW.invoice_id,
                               'reason', NEW.credit_reason, 'manager', NEW.released_by));
    END IF;
    UPDATE service.job_card SET state = 'DELIVERED' WHERE job_card_id = NEW.job_card_id;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER gate_pass_delivers AFTER INSERT ON service.gate_pass
    FOR EACH ROW EXECUTE FUNCTION service.gate_pass_issued();

CREATE OR REPLACE FUNCTION service.check_delivered_by_gate_pass() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM service.gate_pass WHERE job_card_id = NEW.job_card_id) THEN
        RAISE EXCEPTION 'job card % is delivered by its gate pass', NEW.job_card_no
            USING ERRCODE = 'check_violation', CONSTRAINT = 'job_card_delivered_by_gate_pass';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER job_card_delivered_by_gate_pass BEFORE INSERT OR UPDATE OF state ON service.job_card
    FOR EACH ROW WHEN (NEW.state = 'DELIVERED') EXECUTE FUNCTION service.check_delivered_by_gate_pass();

-- The paid-service interval on a day (dated master data).
CREATE OR REPLACE FUNCTION service.service_interval_on(p_on date) RETURNS service.service_interval
LANGUAGE sql STABLE
AS $$
    SELECT * FROM service.service_interval WHERE master.valid_during(effective_from, effective_to) @> p_on
$$;

-- The next service of a vehicle after a visit on p_on at p_km: the next free service of the model's
-- schedule not used (at any branch) and not expired, else the paid interval on the day. Its km as
-- scheduled; its date the earlier of the schedule's and the day the vehicle reaches those km at its
-- average daily km (its readings since the sale, counted from 0 km on the sale date).
CREATE OR REPLACE FUNCTION service.next_service_due(p_vehicle_id integer, p_on date, p_km integer)
RETURNS TABLE (due_on date, due_km integer, free_service_no smallint)
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v record;
    fs record;
    iv service.service_interval;
    per_day numeric;
BEGIN
    SELECT sv.sale_date, va.model_id INTO v
      FROM service.vehicle sv JOIN oem.variant va ON va.variant_id = sv.variant_id WHERE sv.vehicle_id = p_vehicle_id;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    per_day := CASE WHEN p_on > v.sale_date AND p_km > 0 THEN p_km::numeric / (p_on - v.sale_date) END;
    SELECT f.service_no, f.due_on, f.due_km INTO fs
      FROM warranty.free_services(v.model_id, v.sale_date, p_on, p_km,
                                  ARRAY(SELECT u.free_service_no FROM service.free_services_used(p_vehicle_id) u)) f
     WHERE f.state IN ('DUE', 'TO_COME')
     ORDER BY f.service_no LIMIT 1;
    IF FOUND THEN
        due_km := fs.due_km;
        due_on := fs.due_on;
        free_service_no := fs.service_no;
    ELSE
        iv := service.service_interval_on(p_on);
        IF iv.interval_id IS NULL THEN
            RETURN;
        END IF;
        due_km := p_km + iv.km;
        due_on := (p_on + make_interval(months => iv.months))::date;
        free_service_no := NULL;
    END IF;
    IF per_day > 0 THEN
        due_on := least(due_on, p_on + greatest(ceil((due_km - p_km) / per_day)::integer, 0));
    END IF;
    RETURN NEXT;
END
$$;

-- When a card is delivered, its vehicle's next service due is stored for the reminder engine.
CREATE OR REPLACE FUNCTION service.keep_next_service_due() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    nxt record;
BEGIN
    SELECT * INTO nxt FROM service.next_service_due(NEW.vehicle_id, (NEW.closed_at AT TIME ZONE 'Asia/Kolkata')::date,
                                                    NEW.odometer_km);
    UPDATE service.vehicle
       SET next_service_due_on = nxt.due_on, next_service_due_km = nxt.due_km,
           next_free_service_no = nxt.free_service_no
     WHERE vehicle_id = NEW.vehicle_id;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER job_card_next_service_due AFTER UPDATE OF state ON service.job_card
    FOR EACH ROW WHEN (NEW.state = 'DELIVERED' AND OLD.state <> 'DELIVERED')
    EXECUTE FUNCTION service.keep_next_service_due();
