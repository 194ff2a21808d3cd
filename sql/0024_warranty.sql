-- Warranty: extended warranty plans and their sale to a VIN, the rule a replacement battery
-- pack's cover follows, and the OEM's recall / service campaigns (matched by a VIN list or by
-- model and manufacture-month range) with the VINs done. The coverage and free-service rules
-- themselves are functions (sql/functions/92_warranty.sql) over plain inputs (VIN, variant,
-- sale date, odometer, date, packs), so the workshop can ask them about any vehicle, sold here
-- or elsewhere.

CREATE SCHEMA warranty;

-- What a coverage question answers (warranty.vehicle_coverage, warranty.battery_coverage).
CREATE TYPE warranty.coverage AS (
    covered      boolean,
    reason       text,       -- why not: NOT_STARTED, NO_WARRANTY, EXPIRED_BY_DATE, EXPIRED_BY_KM
    starts_on    date,       -- the day the term is counted from (sale, or a fresh pack's fitment)
    ends_on      date,       -- the last day covered
    starts_km    integer,    -- the odometer the km are counted from
    ends_km      integer,    -- the last odometer reading covered; NULL: no km limit
    left_months  integer,    -- whole months left after the date (0 when not covered)
    left_days    integer,    -- and days beyond them
    left_km      integer,    -- km left; NULL: no km limit
    plan_sale_id integer     -- the extended plan that lengthens the term, if any
);

-- ---------------------------------------------------------------------------
-- A battery pack fitted as a warranty replacement: whose term it takes.
-- REMAINING: the rest of the term of the pack it replaced (the default);
-- FRESH: a new term counted from the day it was fitted.
-- Dated, per OEM or for every OEM (oem_id NULL); an OEM's own row comes first.
-- ---------------------------------------------------------------------------
CREATE TABLE warranty.replacement_rule (
    rule_id        integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    oem_id         integer REFERENCES oem.oem (oem_id),
    pack_term      text NOT NULL CHECK (pack_term IN ('REMAINING', 'FRESH')),
    effective_from date NOT NULL,
    effective_to   date,
    CONSTRAINT replacement_rule_period CHECK (effective_to IS NULL OR effective_to >= effective_from),
    CONSTRAINT replacement_rule_no_overlap EXCLUDE USING gist (
        master.same_key(coalesce(oem_id::text, '*')) WITH &&,
        master.valid_during(effective_from, effective_to) WITH &&)
);
SELECT audit.track('warranty.replacement_rule', 'rule_id');

INSERT INTO warranty.replacement_rule (oem_id, pack_term, effective_from) VALUES (NULL, 'REMAINING', '2000-01-01');

-- ---------------------------------------------------------------------------
-- Extended warranty plans: the OEM's terms (master data), for every model of the OEM or the
-- models listed in plan_model; extra years / km on the vehicle and / or the battery, counted
-- on top of the variant's own warranty; bought within so many months of the sale.
-- ---------------------------------------------------------------------------
CREATE TABLE warranty.plan (
    plan_id             integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    oem_id              integer NOT NULL REFERENCES oem.oem (oem_id),
    name                text NOT NULL CHECK (length(btrim(name)) BETWEEN 2 AND 120),
    vehicle_extra_years smallint NOT NULL DEFAULT 0 CHECK (vehicle_extra_years BETWEEN 0 AND 10),
    vehicle_extra_km    integer NOT NULL DEFAULT 0 CHECK (vehicle_extra_km BETWEEN 0 AND 500000),
    battery_extra_years smallint NOT NULL DEFAULT 0 CHECK (battery_extra_years BETWEEN 0 AND 10),
    battery_extra_km    integer NOT NULL DEFAULT 0 CHECK (battery_extra_km BETWEEN 0 AND 500000),
    price               numeric(12,2) NOT NULL CHECK (price >= 0),   -- GST-exclusive
    sac_code            text NOT NULL DEFAULT '998714' REFERENCES master.hsn (hsn_code),
    buy_within_months   smallint NOT NULL DEFAULT 12 CHECK (buy_within_months BETWEEN 0 AND 120),
    valid_from          date NOT NULL,
    valid_to            date,
    is_active           boolean NOT NULL DEFAULT true,
    UNIQUE (oem_id, name),
    CONSTRAINT plan_period CHECK (valid_to IS NULL OR valid_to >= valid_from),
    CONSTRAINT plan_extends_something CHECK (
        vehicle_extra_years + battery_extra_years > 0 OR vehicle_extra_km + battery_extra_km > 0)
);
SELECT audit.track('warranty.plan', 'plan_id');

CREATE TABLE warranty.plan_model (
    plan_id  integer NOT NULL REFERENCES warranty.plan (plan_id) ON DELETE CASCADE,
    model_id integer NOT NULL REFERENCES oem.model (model_id),
    PRIMARY KEY (plan_id, model_id)
);
CREATE INDEX plan_model_model_idx ON warranty.plan_model (model_id);
SELECT audit.track('warranty.plan_model', 'plan_id');

-- A plan sold for a VIN. The vehicle's model and sale date are recorded as known at the sale
-- (the vehicle may have been sold elsewhere); the trigger checks them against the plan. The
-- invoice that sold it is a reference for now (a later step makes the plan an invoice line).
CREATE TABLE warranty.plan_sale (
    plan_sale_id    integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    branch_id       integer NOT NULL REFERENCES master.branch (branch_id),
    plan_id         integer NOT NULL REFERENCES warranty.plan (plan_id),
    vin             text NOT NULL CHECK (vin ~ '^[A-HJ-NPR-Z0-9]{17}$'),
    model_id        integer NOT NULL REFERENCES oem.model (model_id),
    vehicle_sold_on date NOT NULL,
    sold_on         date NOT NULL,
    customer_id     integer NOT NULL REFERENCES master.customer (customer_id),
    price           numeric(12,2) NOT NULL CHECK (price >= 0),
    invoice_ref     text CHECK (length(btrim(invoice_ref)) BETWEEN 1 AND 40),
    invoice_id      integer REFERENCES billing.invoice (invoice_id),
    created_by      integer REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT plan_sale_after_vehicle_sale CHECK (sold_on >= vehicle_sold_on),
    UNIQUE (vin, plan_id)
);
CREATE INDEX plan_sale_vin_idx ON warranty.plan_sale (vin);
SELECT audit.track('warranty.plan_sale', 'plan_sale_id');

-- ---------------------------------------------------------------------------
-- Recall / service campaigns from the OEM.
-- ---------------------------------------------------------------------------
CREATE TABLE warranty.campaign (
    campaign_id    integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    oem_id         integer NOT NULL REFERENCES oem.oem (oem_id),
    code           text NOT NULL UNIQUE CHECK (code ~ '^[A-Z0-9][A-Z0-9/-]{1,29}$'),
    title          text NOT NULL CHECK (length(btrim(title)) BETWEEN 3 AND 200),
    kind           text NOT NULL CHECK (kind IN ('RECALL', 'SERVICE')),
    opened_on      date NOT NULL,
    closed_on      date,
    operation_code text REFERENCES master.labour_operation (operation_code),
    instructions   text CHECK (length(instructions) <= 2000),
    -- VIN_LIST: the VINs in campaign_vin; MFG_RANGE: every unit of the model made in the months.
    match_by       text NOT NULL CHECK (match_by IN ('VIN_LIST', 'MFG_RANGE')),
    model_id       integer REFERENCES oem.model (model_id),
    mfg_from       date CHECK (extract(day FROM mfg_from) = 1),
    mfg_to         date CHECK (extract(day FROM mfg_to) = 1),
    created_by     integer REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT campaign_period CHECK (closed_on IS NULL OR closed_on >= opened_on),
    CONSTRAINT campaign_range_complete CHECK (
        (match_by = 'MFG_RANGE') = (model_id IS NOT NULL AND mfg_from IS NOT NULL AND mfg_to IS NOT NULL)
        AND (match_by = 'MFG_RANGE' OR (model_id IS NULL AND mfg_from IS NULL AND mfg_to IS NULL))),
    CONSTRAINT campaign_range_order CHECK (mfg_to >= mfg_from)
);
CREATE INDEX campaign_range_idx ON warranty.campaign (model_id) WHERE match_by = 'MFG_RANGE';
SELECT audit.track('warranty.campaign', 'campaign_id');

CREATE TABLE warranty.campaign_vin (
    campaign_id integer NOT NULL REFERENCES warranty.campaign (campaign_id),
    vin         text NOT NULL CHECK (vin ~ '^[A-HJ-NPR-Z0-9]{17}$'),
    PRIMARY KEY (campaign_id, vin)
);
CREATE INDEX campaign_vin_vin_idx ON warranty.campaign_vin (vin);
SELECT audit.track('warranty.campaign_vin', 'campaign_id');

-- A campaign done on a VIN, once. The model and manufacture month are the vehicle's, as the
-- workshop knows them, checked against a month-range campaign.
CREATE TABLE warranty.campaign_done (
    done_id     integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id integer NOT NULL REFERENCES warranty.campaign (campaign_id),
    vin         text NOT NULL CHECK (vin ~ '^[A-HJ-NPR-Z0-9]{17}$'),
    model_id    integer REFERENCES oem.model (model_id),
    mfg_month   date CHECK (extract(day FROM mfg_month) = 1),
    done_on     date NOT NULL,
    branch_id   integer NOT NULL REFERENCES master.branch (branch_id),
    job_ref     text CHECK (length(btrim(job_ref)) BETWEEN 1 AND 40),
    created_by  integer REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT campaign_done_once UNIQUE (campaign_id, vin)
);
CREATE INDEX campaign_done_vin_idx ON warranty.campaign_done (vin);
SELECT audit.track('warranty.campaign_done', 'done_id');

-- A plan is sold and a campaign done by one branch, and holds for every branch: the vehicle's
-- cover and its open recalls are the same whichever branch it arrives at. Every branch looks
-- them up; each adds, changes and deletes only its own.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['warranty.plan_sale', 'warranty.campaign_done']
    LOOP
        EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY looked_up ON %s FOR SELECT USING (true)', t);
        EXECUTE format('CREATE POLICY own_branch_adds ON %s FOR INSERT '
                       'WITH CHECK (platform.branch_visible(branch_id))', t);
        EXECUTE format('CREATE POLICY own_branch_changes ON %s FOR UPDATE USING (platform.branch_visible(branch_id)) '
                       'WITH CHECK (platform.branch_visible(branch_id))', t);
        EXECUTE format('CREATE POLICY own_branch_deletes ON %s FOR DELETE '
                       'USING (platform.branch_visible(branch_id))', t);
    END LOOP;
END
$$;
