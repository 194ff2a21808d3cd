-- Service workshop: every vehicle the workshop has seen (sold here or elsewhere), the battery
-- packs of a vehicle sold elsewhere, job cards numbered per branch and financial year with their
-- states, the allowed moves between them and the history of every move, the work on a card
-- (labour and part lines) and the customer's approvals that cover it.
--
-- Functions, triggers and the view service.vehicle_pack are in sql/functions/91_service.sql.

CREATE SCHEMA service;

INSERT INTO master.document_series (series, name) VALUES ('JC', 'Job card');

-- ---------------------------------------------------------------------------
-- Vehicles the workshop has seen
-- ---------------------------------------------------------------------------
-- One row per vehicle. Sold here: unit_id names the inventory unit; VIN, motor number, variant,
-- colour and manufacture month are the unit's (a trigger copies and checks them), the sale date
-- is the delivery's. Sold elsewhere: unit_id is NULL and the vehicle never enters this
-- showroom's stock (no inventory.vehicle_unit row, no stock move); a VIN of one of our units
-- is refused here (it is registered through its unit).
--
-- Not under row-level security, like master.customer: a customer may bring the vehicle to any
-- branch; branch_id records the branch that registered it.
CREATE TABLE service.vehicle (
    vehicle_id        integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    unit_id           integer UNIQUE REFERENCES inventory.vehicle_unit (unit_id),
    vin               text NOT NULL UNIQUE CHECK (vin ~ '^[A-HJ-NPR-Z0-9]{17}$'),
    motor_no          text NOT NULL UNIQUE CHECK (motor_no ~ '^[A-Z0-9][A-Z0-9/-]{3,39}$'),
    variant_id        integer NOT NULL REFERENCES oem.variant (variant_id),
    colour            text CHECK (length(btrim(colour)) BETWEEN 1 AND 40),
    mfg_month         date CHECK (extract(day FROM mfg_month) = 1),
    customer_id       integer NOT NULL REFERENCES master.customer (customer_id),   -- the owner
    -- Stored as the RTO writes it, without spaces ("KA 01 AB 1234" is KA01AB1234): the pattern
    -- of sales.registration.reg_no. NULL for a low-speed model (no RTO registration).
    registration_no   text UNIQUE CHECK (registration_no ~ '^([A-Z]{2}[0-9]{1,2}[A-Z]{0,3}[0-9]{1,4}|[0-9]{2}BH[0-9]{4}[A-Z]{1,2})$'),
    sale_date         date NOT NULL CHECK (sale_date >= '2000-01-01'),
    branch_id         integer NOT NULL REFERENCES master.branch (branch_id),   -- where it was registered
    -- The last odometer reading, kept by the job card triggers (the delivery's for a new sale).
    last_odometer_km  integer CHECK (last_odometer_km BETWEEN 0 AND 2000000),
    last_odometer_on  date,
    last_odometer_job_card_id integer,   -- foreign key below, once service.job_card exists
    registered_by     integer REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    created_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT vehicle_odometer_dated CHECK ((last_odometer_km IS NULL) = (last_odometer_on IS NULL))
);
-- Arrival look-ups: registration exact (the UNIQUE), its start and its end (a fragment typed
-- from the plate: "KA01AB", "1234"), VIN and its last 6 characters, motor number (the UNIQUE),
-- battery serial (inventory.battery_pack's UNIQUE, then the fitments), owner's mobile
-- (master.customer's customer_mobile_idx, then this table by customer).
CREATE INDEX vehicle_registration_prefix_idx ON service.vehicle (registration_no text_pattern_ops);
CREATE INDEX vehicle_registration_suffix_idx ON service.vehicle (reverse(registration_no) text_pattern_ops);
CREATE INDEX vehicle_vin_last6_idx ON service.vehicle (right(vin, 6));
CREATE INDEX vehicle_customer_idx ON service.vehicle (customer_id);
CREATE INDEX vehicle_variant_idx ON service.vehicle (variant_id);
SELECT audit.track('service.vehicle', 'vehicle_id', '', 'last_odometer_km,last_odometer_on,last_odometer_job_card_id');

-- Battery packs of a vehicle sold elsewhere. The pack's identity is inventory.battery_pack
-- (serial UNIQUE) for every pack; a unit sold here keeps its pack history in
-- inventory.battery_fitment, an outside vehicle here, with the same rules: a pack is in one
-- vehicle at a time (no overlapping periods, one current fitment per pack), checked by trigger
-- across both tables. service.vehicle_pack reads both.
CREATE TABLE service.pack_fitment (
    fitment_id  integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pack_id     integer NOT NULL REFERENCES inventory.battery_pack (pack_id),
    vehicle_id  integer NOT NULL REFERENCES service.vehicle (vehicle_id),
    fitted_on   date NOT NULL,
    removed_on  date,
    reason      text NOT NULL CHECK (length(btrim(reason)) BETWEEN 2 AND 200),
    CONSTRAINT pack_fitment_removed_after_fitted CHECK (removed_on IS NULL OR removed_on >= fitted_on),
    CONSTRAINT pack_fitment_one_vehicle_at_a_time EXCLUDE USING gist (
        int4range(pack_id, pack_id, '[]') WITH &&,
        daterange(fitted_on, removed_on, '[)') WITH &&)
);
CREATE INDEX pack_fitment_vehicle_idx ON service.pack_fitment (vehicle_id);
CREATE UNIQUE INDEX pack_fitment_current_idx ON service.pack_fitment (pack_id) WHERE removed_on IS NULL;
SELECT audit.track('service.pack_fitment', 'fitment_id');

-- ---------------------------------------------------------------------------
-- Job cards
-- ---------------------------------------------------------------------------
CREATE TABLE service.job_state (
    state      text PRIMARY KEY,
    label      text NOT NULL,
    sort_order smallint NOT NULL UNIQUE,
    is_open    boolean NOT NULL   -- the card still holds the vehicle's one open job card
);
INSERT INTO service.job_state VALUES
    ('OPEN', 'Open', 1, true),
    ('ESTIMATE_SENT', 'Estimate sent', 2, true),
    ('APPROVED', 'Approved', 3, true),
    ('IN_PROGRESS', 'In progress', 4, true),
    ('WAITING_PARTS', 'Waiting for parts', 5, true),
    ('QC', 'Quality check', 6, true),
    ('READY', 'Ready', 7, true),
    ('DELIVERED', 'Delivered', 8, false),
    ('CANCELLED', 'Cancelled', 9, false);

-- The only moves a job card may make; the trigger refuses every other. by_tap: a move made on
-- the workshop board with one tap; the others are made where their document is recorded
-- (a cancellation with its reason on the job card, the delivery by the gate pass).
-- advisor_only: a move about the customer's estimate, made by who runs job cards.
CREATE TABLE service.job_state_transition (
    from_state   text NOT NULL REFERENCES service.job_state (state),
    to_state     text NOT NULL REFERENCES service.job_state (state),
    meaning      text NOT NULL,
    by_tap       boolean NOT NULL,
    advisor_only boolean NOT NULL,
    PRIMARY KEY (from_state, to_state),
    CHECK (from_state <> to_state)
);
INSERT INTO service.job_state_transition VALUES
    ('OPEN', 'ESTIMATE_SENT', 'estimate given to the customer', true, true),
    ('OPEN', 'APPROVED', 'work approved at the counter', true, true),
    ('ESTIMATE_SENT', 'APPROVED', 'customer approved the estimate', true, true),
    ('ESTIMATE_SENT', 'OPEN', 'estimate to be revised', true, true),
    ('APPROVED', 'IN_PROGRESS', 'work started', true, false),
    ('IN_PROGRESS', 'WAITING_PARTS', 'waiting for parts', true, false),
    ('WAITING_PARTS', 'IN_PROGRESS', 'parts arrived, work resumed', true, false),
    ('IN_PROGRESS', 'QC', 'work done, to quality check', true, false),
    ('QC', 'IN_PROGRESS', 'quality check failed, rework', true, false),
    ('QC', 'READY', 'quality check passed', true, false),
    ('READY', 'DELIVERED', 'vehicle handed back (gate pass)', false, true),
    ('OPEN', 'CANCELLED', 'cancelled', false, true),
    ('ESTIMATE_SENT', 'CANCELLED', 'estimate declined', false, true),
    ('APPROVED', 'CANCELLED', 'cancelled before work', false, true);

CREATE TABLE service.job_card (
    job_card_id      integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    branch_id        integer NOT NULL REFERENCES master.branch (branch_id),
    job_card_no      text NOT NULL UNIQUE CHECK (job_card_no ~ '^[A-Z0-9/-]{1,16}$'),   -- by trigger
    opened_at        timestamptz NOT NULL DEFAULT now(),
    vehicle_id       integer NOT NULL REFERENCES service.vehicle (vehicle_id),
    customer_id      integer NOT NULL REFERENCES master.customer (customer_id),   -- who brought it; default the owner
    service_type     text NOT NULL CHECK (service_type IN ('FREE_SERVICE', 'PAID_SERVICE', 'RUNNING_REPAIR',
                                                           'ACCIDENT', 'WARRANTY', 'BATTERY_CHECK', 'RECALL')),
    free_service_no  smallint CHECK (free_service_no BETWEEN 1 AND 20),
    state            text NOT NULL DEFAULT 'OPEN' REFERENCES service.job_state (state),
    state_changed_at timestamptz NOT NULL DEFAULT now(),
    odometer_km      integer NOT NULL CHECK (odometer_km BETWEEN 0 AND 2000000),
    -- The vehicle's last reading when the card was opened (by trigger): the floor of odometer_km
    -- unless a MANAGER overrides it with a reason.
    previous_odometer_km integer CHECK (previous_odometer_km BETWEEN 0 AND 2000000),
    odometer_override_reason text CHECK (length(btrim(odometer_override_reason)) BETWEEN 5 AND 300),
    odometer_override_by integer REFERENCES master.staff (staff_id),
    complaints       text NOT NULL CHECK (length(btrim(complaints)) BETWEEN 2 AND 2000),   -- in the customer's words
    promised_at      timestamptz,
    advisor_id       integer REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    closed_at        timestamptz,
    cancel_reason    text CHECK (length(btrim(cancel_reason)) BETWEEN 5 AND 300),
    idempotency_key  uuid NOT NULL UNIQUE,
    CONSTRAINT job_card_free_service_no CHECK ((service_type = 'FREE_SERVICE') = (free_service_no IS NOT NULL)),
    CONSTRAINT job_card_override_complete CHECK ((odometer_override_reason IS NULL) = (odometer_override_by IS NULL)),
    CONSTRAINT job_card_promised_after_opening CHECK (promised_at IS NULL OR promised_at >= opened_at),
    CONSTRAINT job_card_cancel_reason CHECK ((state = 'CANCELLED') = (cancel_reason IS NOT NULL)),
    CONSTRAINT job_card_closed CHECK ((state IN ('DELIVERED', 'CANCELLED')) = (closed_at IS NOT NULL))
);
-- One open job card per vehicle, at any branch (an index sees every branch's rows).
CREATE UNIQUE INDEX job_card_one_open_idx ON service.job_card (vehicle_id) WHERE state NOT IN ('DELIVERED', 'CANCELLED');
CREATE INDEX job_card_vehicle_idx ON service.job_card (vehicle_id, opened_at DESC);
-- The workshop board: a branch's open cards.
CREATE INDEX job_card_board_idx ON service.job_card (branch_id, state) WHERE state NOT IN ('DELIVERED', 'CANCELLED');
CREATE INDEX job_card_branch_opened_idx ON service.job_card (branch_id, opened_at DESC);
SELECT audit.track('service.job_card', 'job_card_id');

ALTER TABLE service.vehicle ADD CONSTRAINT vehicle_last_odometer_job_card_fk
    FOREIGN KEY (last_odometer_job_card_id) REFERENCES service.job_card (job_card_id);

-- Every move of a card, its creation included (from_state NULL): time in a state is a fact.
-- Written by trigger only, never changed.
CREATE TABLE service.job_state_change (
    change_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_card_id  integer NOT NULL REFERENCES service.job_card (job_card_id),
    from_state   text REFERENCES service.job_state (state),
    to_state     text NOT NULL REFERENCES service.job_state (state),
    changed_at   timestamptz NOT NULL DEFAULT now(),
    changed_by   integer REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id()
);
CREATE INDEX job_state_change_card_idx ON service.job_state_change (job_card_id, changed_at);

-- The customer's approval of the estimate (or of work beyond it): who, when, how.
CREATE TABLE service.job_approval (
    approval_id      integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_card_id      integer NOT NULL REFERENCES service.job_card (job_card_id),
    approved_at      timestamptz NOT NULL DEFAULT now(),
    approved_by_name text NOT NULL CHECK (length(btrim(approved_by_name)) BETWEEN 2 AND 120),
    mode             text NOT NULL CHECK (mode IN ('IN_PERSON', 'PHONE')),
    amount           numeric(12,2) NOT NULL CHECK (amount >= 0),   -- GST included, as told to the customer
    recorded_by      integer REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    idempotency_key  uuid NOT NULL UNIQUE
);
CREATE INDEX job_approval_card_idx ON service.job_approval (job_card_id);
SELECT audit.track('service.job_approval', 'approval_id');

-- The work on a card: one labour operation or one part per line, priced GST-inclusive or
-- exclusive; coverage says who pays (CUSTOMER) or who is claimed (WARRANTY, FREE_SERVICE,
-- RECALL: the OEM; GOODWILL: the showroom). A customer-paid line is approved or done only
-- under an approval.
CREATE TABLE service.job_line (
    job_line_id        integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_card_id        integer NOT NULL REFERENCES service.job_card (job_card_id),
    operation_code     text REFERENCES master.labour_operation (operation_code),
    part_id            integer REFERENCES master.part (part_id),
    description        text CHECK (length(btrim(description)) BETWEEN 1 AND 300),
    qty                numeric(12,3) NOT NULL CHECK (qty > 0 AND qty <= 10000),
    unit_price         numeric(12,2) NOT NULL CHECK (unit_price >= 0),
    price_includes_gst boolean NOT NULL,
    coverage           text NOT NULL DEFAULT 'CUSTOMER'
                       CHECK (coverage IN ('CUSTOMER', 'WARRANTY', 'FREE_SERVICE', 'RECALL', 'GOODWILL')),
    technician_id      integer REFERENCES master.staff (staff_id),
    status             text NOT NULL DEFAULT 'PROPOSED' CHECK (status IN ('PROPOSED', 'APPROVED', 'DONE', 'DECLINED')),
    approval_id        integer REFERENCES service.job_approval (approval_id),
    added_by           integer REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    added_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT job_line_labour_or_part CHECK ((operation_code IS NULL) <> (part_id IS NULL)),
    CONSTRAINT job_line_approved CHECK (status IN ('PROPOSED', 'DECLINED') OR coverage <> 'CUSTOMER' OR approval_id IS NOT NULL)
);
CREATE INDEX job_line_card_idx ON service.job_line (job_card_id);
CREATE INDEX job_line_technician_idx ON service.job_line (technician_id) WHERE technician_id IS NOT NULL;
SELECT audit.track('service.job_line', 'job_line_id');

-- ---------------------------------------------------------------------------
-- Branch isolation: a job card is its branch's document (sql/0014). Its lines, approvals and
-- state history are reached only through it.
-- ---------------------------------------------------------------------------
ALTER TABLE service.job_card ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_branch ON service.job_card USING (platform.branch_visible(branch_id))
    WITH CHECK (platform.branch_visible(branch_id));

-- ---------------------------------------------------------------------------
-- Functions, triggers and views (their current definitions are in sql/functions/91_service.sql)
-- ---------------------------------------------------------------------------

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
