-- Sales: enquiries, quotations with an on-road price breakdown, bookings, allotment of one
-- physical unit, discount approval, finance and exchange, subsidy claims, RTO registration,
-- PDI and delivery. The booking's stage is moved only by the documents that cause it
-- (allotment, invoice, credit note, delivery, cancellation), all in the posting transaction.

CREATE SCHEMA sales;

INSERT INTO master.document_series (series, name) VALUES
    ('QT', 'Quotation'),
    ('BKG', 'Booking'),
    ('DLN', 'Delivery note / gate pass');

-- ---------------------------------------------------------------------------
-- Configuration: discount limits per role, on-road charge items, PDI checklist
-- ---------------------------------------------------------------------------
-- The largest discount a role may give without a manager's approval; NULL = no limit.
CREATE TABLE sales.discount_limit (
    role_code    text PRIMARY KEY REFERENCES master.role (role_code),
    max_discount numeric(12,2) CHECK (max_discount >= 0)
);
INSERT INTO sales.discount_limit (role_code, max_discount) VALUES
    ('ADMIN', NULL), ('MANAGER', NULL), ('SALES', 5000), ('SERVICE_ADVISOR', 0),
    ('TECHNICIAN', 0), ('ACCOUNTS', 0), ('DEALER', 0);
SELECT audit.track('sales.discount_limit', 'role_code');

-- Lines of the on-road breakdown besides the vehicle itself. Taxable items carry an HSN/SAC
-- (rate from the tax master on the day); the others are collected for someone else
-- (insurer, RTO, plate maker) and stay outside the taxable value.
CREATE TABLE sales.onroad_item (
    item_code      text PRIMARY KEY CHECK (item_code ~ '^[A-Z][A-Z_]{1,19}$'),
    name           text NOT NULL CHECK (length(btrim(name)) BETWEEN 2 AND 120),
    kind           text NOT NULL CHECK (kind IN ('ACCESSORY', 'EXTENDED_WARRANTY', 'INSURANCE',
                                                 'REGISTRATION', 'HSRP', 'OTHER')),
    hsn_code       text REFERENCES master.hsn (hsn_code),
    default_amount numeric(12,2) NOT NULL DEFAULT 0 CHECK (default_amount >= 0),
    sort_order     smallint NOT NULL DEFAULT 100,
    is_active      boolean NOT NULL DEFAULT true,
    collected_for_others boolean GENERATED ALWAYS AS (hsn_code IS NULL) STORED
);
INSERT INTO sales.onroad_item (item_code, name, kind, hsn_code, default_amount, sort_order) VALUES
    ('INSURANCE', 'Insurance premium (1 year OD + 5 years TP)', 'INSURANCE', NULL, 0, 10),
    ('REGISTRATION', 'Registration fee and road tax', 'REGISTRATION', NULL, 0, 20),
    ('HSRP', 'High security registration plate', 'HSRP', NULL, 0, 30),
    ('EXT_WARRANTY', 'Extended warranty', 'EXTENDED_WARRANTY', '998714', 0, 40),
    ('ACCESSORIES', 'Accessories kit', 'ACCESSORY', '8714', 0, 50),
    ('CHARGER', 'Additional charger', 'ACCESSORY', '8504', 0, 60);
SELECT audit.track('sales.onroad_item', 'item_code');

CREATE TABLE sales.pdi_item (
    pdi_item_id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (length(btrim(name)) BETWEEN 2 AND 120),
    sort_order  smallint NOT NULL DEFAULT 100,
    is_active   boolean NOT NULL DEFAULT true
);
INSERT INTO sales.pdi_item (name, sort_order) VALUES
    ('VIN, motor and battery numbers match the invoice', 10),
    ('Battery charged above 80% and state of health read', 20),
    ('Charger and cable work', 30),
    ('Brakes, lights, horn and indicators', 40),
    ('Tyre pressure', 50),
    ('Dashboard, app pairing and software version', 60),
    ('Body, paint and mirrors without damage', 70),
    ('Owner manual, warranty card, tool kit and keys handed over', 80);
SELECT audit.track('sales.pdi_item', 'pdi_item_id');

-- ---------------------------------------------------------------------------
-- Enquiries and quotations
-- ---------------------------------------------------------------------------
CREATE TABLE sales.enquiry (
    enquiry_id     integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    branch_id      integer NOT NULL REFERENCES master.branch (branch_id),
    enquiry_date   date NOT NULL,
    source         text NOT NULL CHECK (source IN ('WALK_IN', 'PHONE', 'REFERRAL', 'ONLINE')),
    name           text NOT NULL CHECK (length(btrim(name)) BETWEEN 2 AND 200),
    mobile         text NOT NULL CHECK (master.is_mobile(mobile)),
    email          text CHECK (master.is_email(email)),
    customer_id    integer REFERENCES master.customer (customer_id),
    model_id       integer REFERENCES oem.model (model_id),
    salesperson_id integer NOT NULL REFERENCES master.staff (staff_id),
    status         text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'QUOTED', 'BOOKED', 'LOST')),
    lost_reason    text CHECK (length(btrim(lost_reason)) BETWEEN 3 AND 200),
    test_ride_on   date,
    follow_up_on   date,
    notes          text CHECK (length(notes) <= 1000),
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT enquiry_lost_reason CHECK ((status = 'LOST') = (lost_reason IS NOT NULL))
);
CREATE INDEX enquiry_branch_status_idx ON sales.enquiry (branch_id, status, enquiry_date DESC);
CREATE INDEX enquiry_salesperson_idx ON sales.enquiry (salesperson_id, status);
CREATE INDEX enquiry_mobile_idx ON sales.enquiry (mobile);
SELECT audit.track('sales.enquiry', 'enquiry_id');

-- A quotation is what the customer was handed: never edited, a new price is a new quotation.
CREATE TABLE sales.quotation (
    quotation_id  integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    quotation_no  text NOT NULL UNIQUE CHECK (quotation_no ~ '^[A-Z0-9/-]{1,16}$'),
    branch_id     integer NOT NULL REFERENCES master.branch (branch_id),
    enquiry_id    integer NOT NULL REFERENCES sales.enquiry (enquiry_id),
    quoted_on     date NOT NULL,
    valid_until   date NOT NULL,
    variant_id    integer NOT NULL,
    colour        text NOT NULL,
    price_id      integer NOT NULL REFERENCES oem.price_list (price_id),
    ex_showroom   numeric(12,2) NOT NULL CHECK (ex_showroom > 0),      -- GST-inclusive
    gst_rate      numeric(5,2) NOT NULL,                               -- of the vehicle, on quoted_on
    discount      numeric(12,2) NOT NULL DEFAULT 0 CHECK (discount >= 0),
    subsidy       numeric(12,2) NOT NULL DEFAULT 0 CHECK (subsidy >= 0),
    idempotency_key uuid NOT NULL UNIQUE,
    created_by    integer NOT NULL REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    created_at    timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (variant_id, colour) REFERENCES oem.variant_colour (variant_id, colour),
    CHECK (valid_until >= quoted_on),
    CONSTRAINT quotation_discount_below_price CHECK (discount < ex_showroom)
);
CREATE INDEX quotation_enquiry_idx ON sales.quotation (enquiry_id);
SELECT audit.track('sales.quotation', 'quotation_id');

CREATE TABLE sales.quotation_item (
    quotation_id integer NOT NULL REFERENCES sales.quotation (quotation_id),
    line_no      smallint NOT NULL CHECK (line_no BETWEEN 1 AND 50),
    item_code    text NOT NULL REFERENCES sales.onroad_item (item_code),
    description  text NOT NULL CHECK (length(btrim(description)) BETWEEN 2 AND 120),
    amount       numeric(12,2) NOT NULL CHECK (amount >= 0),   -- what the customer pays, GST-inclusive
    hsn_code     text REFERENCES master.hsn (hsn_code),
    gst_rate     numeric(5,2),
    PRIMARY KEY (quotation_id, line_no),
    CONSTRAINT quotation_item_taxable CHECK ((hsn_code IS NULL) = (gst_rate IS NULL))
);

CREATE TRIGGER quotation_is_permanent BEFORE UPDATE OR DELETE ON sales.quotation
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();
CREATE TRIGGER quotation_item_is_permanent BEFORE UPDATE OR DELETE ON sales.quotation_item
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- ---------------------------------------------------------------------------
-- Bookings
-- ---------------------------------------------------------------------------
CREATE TABLE sales.booking (
    booking_id        integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    booking_no        text NOT NULL UNIQUE CHECK (booking_no ~ '^[A-Z0-9/-]{1,16}$'),
    branch_id         integer NOT NULL REFERENCES master.branch (branch_id),
    booked_on         date NOT NULL,
    customer_id       integer NOT NULL REFERENCES master.customer (customer_id),
    enquiry_id        integer REFERENCES sales.enquiry (enquiry_id),
    quotation_id      integer REFERENCES sales.quotation (quotation_id),
    salesperson_id    integer NOT NULL REFERENCES master.staff (staff_id),
    variant_id        integer NOT NULL,
    colour            text NOT NULL,
    expected_delivery date,
    finance_needed    boolean NOT NULL DEFAULT false,
    ex_showroom       numeric(12,2) NOT NULL CHECK (ex_showroom > 0),   -- GST-inclusive, agreed
    discount          numeric(12,2) NOT NULL DEFAULT 0 CHECK (discount >= 0),
    -- NONE: no discount; WITHIN_LIMIT: the giver's role allows it; PENDING: needs a manager.
    discount_status   text NOT NULL DEFAULT 'NONE'
                      CHECK (discount_status IN ('NONE', 'WITHIN_LIMIT', 'PENDING', 'APPROVED', 'REJECTED')),
    discount_by       integer REFERENCES master.staff (staff_id),
    discount_decided_by integer REFERENCES master.staff (staff_id),
    discount_decided_at timestamptz,
    discount_note     text CHECK (length(discount_note) <= 200),
    subsidy_eligible  numeric(12,2) NOT NULL DEFAULT 0 CHECK (subsidy_eligible >= 0),
    -- NULL: handed over at the showroom (place of supply = the branch's state).
    delivery_state_code char(2) REFERENCES master.state (state_code),
    delivery_address  text CHECK (length(delivery_address) <= 400),
    stage             text NOT NULL DEFAULT 'BOOKED'
                      CHECK (stage IN ('BOOKED', 'ALLOTTED', 'INVOICED', 'DELIVERED', 'CANCELLED')),
    invoice_id        integer,   -- the invoice in force (foreign key added by the billing schema)
    cancelled_on      date,
    cancel_reason     text CHECK (length(btrim(cancel_reason)) BETWEEN 3 AND 200),
    idempotency_key   uuid NOT NULL UNIQUE,
    created_at        timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (variant_id, colour) REFERENCES oem.variant_colour (variant_id, colour),
    CONSTRAINT booking_discount_below_price CHECK (discount < ex_showroom),
    CONSTRAINT booking_discount_status CHECK ((discount = 0) = (discount_status = 'NONE')),
    CONSTRAINT booking_discount_decided CHECK (
        (discount_status IN ('APPROVED', 'REJECTED')) = (discount_decided_by IS NOT NULL)),
    CONSTRAINT booking_cancelled CHECK (
        (stage = 'CANCELLED') = (cancelled_on IS NOT NULL AND cancel_reason IS NOT NULL)),
    CONSTRAINT booking_invoiced CHECK ((stage IN ('INVOICED', 'DELIVERED')) = (invoice_id IS NOT NULL)),
    CONSTRAINT booking_delivery_address CHECK (delivery_state_code IS NULL OR delivery_address IS NOT NULL)
);
CREATE INDEX booking_branch_stage_idx ON sales.booking (branch_id, stage, booked_on DESC);
CREATE INDEX booking_branch_date_idx ON sales.booking (branch_id, booked_on DESC);
CREATE INDEX booking_salesperson_idx ON sales.booking (salesperson_id, stage);
CREATE INDEX booking_customer_idx ON sales.booking (customer_id);
CREATE INDEX booking_pending_discount_idx ON sales.booking (branch_id) WHERE discount_status = 'PENDING';
SELECT audit.track('sales.booking', 'booking_id');

-- Charges agreed besides the vehicle (accessories, extended warranty, insurance, RTO, HSRP).
-- Amounts are what the customer pays; taxable ones are GST-inclusive.
CREATE TABLE sales.booking_item (
    booking_id  integer NOT NULL REFERENCES sales.booking (booking_id),
    line_no     smallint NOT NULL CHECK (line_no BETWEEN 1 AND 50),
    item_code   text NOT NULL REFERENCES sales.onroad_item (item_code),
    description text NOT NULL CHECK (length(btrim(description)) BETWEEN 2 AND 120),
    amount      numeric(12,2) NOT NULL CHECK (amount > 0),
    hsn_code    text REFERENCES master.hsn (hsn_code),   -- NULL: collected for others
    PRIMARY KEY (booking_id, line_no)
);
SELECT audit.track('sales.booking_item', 'booking_id');

-- The stage moves only along these pairs (the documents below move it).
CREATE TABLE sales.booking_stage_transition (
    from_stage text NOT NULL,
    to_stage   text NOT NULL,
    meaning    text NOT NULL,
    PRIMARY KEY (from_stage, to_stage)
);
INSERT INTO sales.booking_stage_transition VALUES
    ('BOOKED', 'ALLOTTED', 'a unit allotted'),
    ('ALLOTTED', 'BOOKED', 'the unit de-allotted'),
    ('ALLOTTED', 'INVOICED', 'tax invoice posted'),
    ('INVOICED', 'DELIVERED', 'handed over'),
    ('INVOICED', 'BOOKED', 'invoice cancelled by a credit note'),
    ('DELIVERED', 'BOOKED', 'sales return by a credit note'),
    ('BOOKED', 'CANCELLED', 'cancelled before invoice');

-- A discount above the giver's role limit waits for a manager; the limit is looked up for
-- the staff member recorded as giving it. Only a manager or administrator decides.
CREATE FUNCTION sales.check_booking_change() RETURNS trigger
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
CREATE TRIGGER booking_change BEFORE INSERT OR UPDATE ON sales.booking
    FOR EACH ROW EXECUTE FUNCTION sales.check_booking_change();
CREATE TRIGGER booking_never_deleted BEFORE DELETE ON sales.booking
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- Items change only while nothing has been invoiced.
CREATE FUNCTION sales.check_booking_item_change() RETURNS trigger
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
CREATE TRIGGER booking_item_change BEFORE INSERT OR UPDATE OR DELETE ON sales.booking_item
    FOR EACH ROW EXECUTE FUNCTION sales.check_booking_item_change();

-- ---------------------------------------------------------------------------
-- Allotment of a physical unit
-- ---------------------------------------------------------------------------
CREATE TABLE sales.allotment (
    allotment_id   integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    booking_id     integer NOT NULL REFERENCES sales.booking (booking_id),
    unit_id        integer NOT NULL REFERENCES inventory.vehicle_unit (unit_id),
    allotted_at    timestamptz NOT NULL DEFAULT now(),
    allotted_by    integer REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    released_at    timestamptz,
    released_by    integer REFERENCES master.staff (staff_id),
    release_reason text CHECK (length(btrim(release_reason)) BETWEEN 3 AND 200),
    CONSTRAINT allotment_release CHECK ((released_at IS NULL) = (release_reason IS NULL))
);
-- A unit is allotted to one booking at a time, a booking holds one unit at a time.
CREATE UNIQUE INDEX allotment_unit_once ON sales.allotment (unit_id) WHERE released_at IS NULL;
CREATE UNIQUE INDEX allotment_booking_once ON sales.allotment (booking_id) WHERE released_at IS NULL;
CREATE INDEX allotment_booking_idx ON sales.allotment (booking_id);
SELECT audit.track('sales.allotment', 'allotment_id');

-- The unit row is locked first, so of two people allotting one unit the second waits and
-- then finds it no longer in stock; the partial unique index is the last line of defence.
CREATE FUNCTION sales.allot_unit() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    u inventory.vehicle_unit;
    b sales.booking;
BEGIN
    SELECT * INTO STRICT b FROM sales.booking WHERE booking_id = NEW.booking_id FOR UPDATE;
    SELECT * INTO STRICT u FROM inventory.vehicle_unit WHERE unit_id = NEW.unit_id FOR UPDATE;
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
CREATE TRIGGER allotment_allot BEFORE INSERT ON sales.allotment
    FOR EACH ROW EXECUTE FUNCTION sales.allot_unit();

-- Only a release may change an allotment; an allotted (not yet invoiced) unit goes back to stock.
CREATE FUNCTION sales.release_unit() RETURNS trigger
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
CREATE TRIGGER allotment_release BEFORE UPDATE ON sales.allotment
    FOR EACH ROW EXECUTE FUNCTION sales.release_unit();
CREATE TRIGGER allotment_never_deleted BEFORE DELETE ON sales.allotment
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- ---------------------------------------------------------------------------
-- Finance, exchange, subsidy, registration
-- ---------------------------------------------------------------------------
CREATE TABLE sales.finance (
    booking_id     integer PRIMARY KEY REFERENCES sales.booking (booking_id),
    financier_id   integer NOT NULL REFERENCES master.financier (financier_id),
    loan_amount    numeric(12,2) NOT NULL CHECK (loan_amount > 0),
    down_payment   numeric(12,2) NOT NULL DEFAULT 0 CHECK (down_payment >= 0),
    loan_account_no text CHECK (length(btrim(loan_account_no)) BETWEEN 2 AND 40),
    do_number      text CHECK (length(btrim(do_number)) BETWEEN 2 AND 40),   -- delivery order
    do_received_on date,
    noc_received_on date,   -- loan closed, hypothecation to be removed from the RC
    CONSTRAINT finance_do_complete CHECK ((do_number IS NULL) = (do_received_on IS NULL))
);
SELECT audit.track('sales.finance', 'booking_id');

-- The old vehicle taken in exchange is bought from the customer; its value is paid by
-- setting it against the sale (a receipt of mode EXCHANGE, at most this valuation).
CREATE TABLE sales.exchange (
    booking_id   integer PRIMARY KEY REFERENCES sales.booking (booking_id),
    make_model   text NOT NULL CHECK (length(btrim(make_model)) BETWEEN 2 AND 120),
    reg_no       text CHECK (reg_no ~ '^[A-Z0-9]{4,12}$'),
    mfg_year     smallint CHECK (mfg_year BETWEEN 1980 AND 2100),
    odometer_km  integer CHECK (odometer_km >= 0),
    valuation    numeric(12,2) NOT NULL CHECK (valuation > 0),
    purchased_on date NOT NULL,
    valued_by    integer REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    notes        text CHECK (length(notes) <= 400)
);
SELECT audit.track('sales.exchange', 'booking_id');

-- PM E-DRIVE: the e-voucher's life per sale, up to the OEM's credit.
CREATE TABLE sales.subsidy_claim (
    booking_id          integer PRIMARY KEY REFERENCES sales.booking (booking_id),
    eligible_amount     numeric(12,2) NOT NULL CHECK (eligible_amount > 0),
    voucher_id          text CHECK (voucher_id ~ '^[A-Za-z0-9/-]{4,40}$'),
    buyer_signed_on     date,
    dealer_uploaded_on  date,
    claim_no            text CHECK (length(btrim(claim_no)) BETWEEN 2 AND 40),
    claim_raised_on     date,
    credited_amount     numeric(12,2) CHECK (credited_amount >= 0),
    credited_on         date,
    CONSTRAINT subsidy_signed_needs_voucher CHECK (buyer_signed_on IS NULL OR voucher_id IS NOT NULL),
    CONSTRAINT subsidy_upload_after_sign CHECK (dealer_uploaded_on IS NULL OR buyer_signed_on IS NOT NULL),
    CONSTRAINT subsidy_claim_after_upload CHECK (claim_raised_on IS NULL OR dealer_uploaded_on IS NOT NULL),
    CONSTRAINT subsidy_claim_no CHECK ((claim_no IS NULL) = (claim_raised_on IS NULL)),
    CONSTRAINT subsidy_credit_after_claim CHECK (credited_on IS NULL OR claim_raised_on IS NOT NULL),
    CONSTRAINT subsidy_credit_complete CHECK ((credited_on IS NULL) = (credited_amount IS NULL))
);
CREATE INDEX subsidy_claim_pending_idx ON sales.subsidy_claim (booking_id) WHERE credited_on IS NULL;
SELECT audit.track('sales.subsidy_claim', 'booking_id');

CREATE TABLE sales.registration (
    booking_id      integer PRIMARY KEY REFERENCES sales.booking (booking_id),
    form20_on       date,   -- application for registration
    form21_on       date,   -- sale certificate
    form22_on       date,   -- roadworthiness certificate from the OEM
    temp_reg_no     text CHECK (temp_reg_no ~ '^[A-Z0-9/-]{4,20}$'),
    fees_amount     numeric(12,2) CHECK (fees_amount >= 0),
    fees_paid_on    date,
    reg_no          text CHECK (reg_no ~ '^([A-Z]{2}[0-9]{1,2}[A-Z]{0,3}[0-9]{1,4}|[0-9]{2}BH[0-9]{4}[A-Z]{1,2})$'),
    reg_on          date,
    rc_received_on  date,
    hsrp_ordered_on date,
    hsrp_fitted_on  date,
    CONSTRAINT registration_fees_complete CHECK ((fees_amount IS NULL) = (fees_paid_on IS NULL)),
    CONSTRAINT registration_number_dated CHECK ((reg_no IS NULL) = (reg_on IS NULL)),
    CONSTRAINT registration_rc_after_number CHECK (rc_received_on IS NULL OR reg_no IS NOT NULL),
    CONSTRAINT registration_hsrp_order CHECK (hsrp_fitted_on IS NULL OR hsrp_ordered_on IS NOT NULL)
);
CREATE UNIQUE INDEX registration_reg_no_idx ON sales.registration (reg_no) WHERE reg_no IS NOT NULL;
SELECT audit.track('sales.registration', 'booking_id');

-- Low-speed models need no RTO registration: nothing to record for them.
CREATE FUNCTION sales.check_registration_needed() RETURNS trigger
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
CREATE TRIGGER registration_needed BEFORE INSERT OR UPDATE ON sales.registration
    FOR EACH ROW EXECUTE FUNCTION sales.check_registration_needed();

-- ---------------------------------------------------------------------------
-- PDI and delivery
-- ---------------------------------------------------------------------------
CREATE TABLE sales.pdi_check (
    booking_id  integer NOT NULL REFERENCES sales.booking (booking_id),
    pdi_item_id integer NOT NULL REFERENCES sales.pdi_item (pdi_item_id),
    is_ok       boolean NOT NULL,
    remark      text CHECK (length(remark) <= 200),
    checked_by  integer NOT NULL REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    checked_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (booking_id, pdi_item_id),
    CONSTRAINT pdi_check_fault_remark CHECK (is_ok OR coalesce(length(btrim(remark)), 0) >= 3)
);
SELECT audit.track('sales.pdi_check', 'booking_id');

CREATE TABLE sales.delivery (
    delivery_id        integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    booking_id         integer NOT NULL REFERENCES sales.booking (booking_id),
    delivery_no        text NOT NULL UNIQUE CHECK (delivery_no ~ '^[A-Z0-9/-]{1,16}$'),
    delivered_on       date NOT NULL,
    delivered_at       timestamptz NOT NULL DEFAULT now(),
    unit_id            integer NOT NULL REFERENCES inventory.vehicle_unit (unit_id),
    invoice_id         integer NOT NULL UNIQUE,   -- foreign key added by the billing schema
    handed_over_by     integer REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    received_by_name   text NOT NULL CHECK (length(btrim(received_by_name)) BETWEEN 2 AND 120),
    accessories_fitted text CHECK (length(accessories_fitted) <= 400),
    odometer_km        integer CHECK (odometer_km BETWEEN 0 AND 1000),
    idempotency_key    uuid NOT NULL UNIQUE
);
CREATE INDEX delivery_booking_idx ON sales.delivery (booking_id);
SELECT audit.track('sales.delivery', 'delivery_id');

-- Handing over needs the invoice and every active PDI item checked OK; the unit becomes
-- DELIVERED and the booking with it.
CREATE FUNCTION sales.deliver() RETURNS trigger
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
CREATE TRIGGER delivery_post BEFORE INSERT ON sales.delivery
    FOR EACH ROW EXECUTE FUNCTION sales.deliver();
CREATE TRIGGER delivery_is_permanent BEFORE UPDATE OR DELETE ON sales.delivery
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- Quotation numbers are taken like every other document number.
CREATE FUNCTION sales.number_quotation() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.quotation_no IS NULL THEN
        NEW.quotation_no := master.next_document_no(NEW.branch_id, 'QT', NEW.quoted_on);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER quotation_number BEFORE INSERT ON sales.quotation
    FOR EACH ROW EXECUTE FUNCTION sales.number_quotation();
