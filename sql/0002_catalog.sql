-- Catalog: OEMs, tax master (HSN/SAC -> GST rate, dated), models and variants, dated price
-- lists, OEM schemes, customers, financiers, insurers, spare parts, labour operations, and
-- the document counter every numbered document uses.

CREATE SCHEMA oem;

-- Exclusion constraints need "same key" on text; btree_gist is not in every PostgreSQL
-- build (the embedded one lacks it), a range over text gives the same with plain GiST.
CREATE TYPE master.textrange AS RANGE (subtype = text, collation = "C");

CREATE FUNCTION master.same_key(k text) RETURNS master.textrange
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT master.textrange(k, k, '[]') $$;

-- Validity periods are inclusive of both ends; an open end is "until further notice".
CREATE FUNCTION master.valid_during(valid_from date, valid_to date) RETURNS daterange
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT daterange(valid_from, valid_to, '[]') $$;

-- ---------------------------------------------------------------------------
-- Financial year and document numbers
-- ---------------------------------------------------------------------------
CREATE FUNCTION master.fy_start_year(d date) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT CASE WHEN extract(month FROM d) >= 4 THEN extract(year FROM d)::int
                  ELSE extract(year FROM d)::int - 1 END $$;

CREATE TABLE master.document_series (
    series      text PRIMARY KEY CHECK (series ~ '^[A-Z]{2,3}$'),
    name        text NOT NULL
);
INSERT INTO master.document_series (series, name) VALUES
    ('PO', 'Purchase order'),
    ('GRN', 'Goods receipt note'),
    ('TRF', 'Stock transfer'),
    ('CNT', 'Physical stock count'),
    ('INV', 'Tax invoice'),
    ('RCT', 'Receipt voucher'),
    ('RFD', 'Refund voucher'),
    ('CRN', 'Credit note');

-- One counter row per (branch, series, financial year). Taking a number locks the row until
-- the posting transaction ends, so numbers are gapless and unique under concurrency; a
-- rolled-back posting gives its number back. Never a sequence: sequences leave gaps.
CREATE TABLE master.document_counter (
    branch_id   integer NOT NULL REFERENCES master.branch (branch_id),
    series      text NOT NULL REFERENCES master.document_series (series),
    fy_start    integer NOT NULL CHECK (fy_start BETWEEN 2000 AND 2200),
    last_no     integer NOT NULL DEFAULT 0 CHECK (last_no >= 0),
    PRIMARY KEY (branch_id, series, fy_start)
);

-- "BLRINV/26/123": branch prefix + series, FY start year, number. At most 16 characters of
-- [A-Z0-9/-] (CGST rule 46); refuses rather than truncates.
CREATE FUNCTION master.next_document_no(p_branch integer, p_series text, p_on date) RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
    fy integer := master.fy_start_year(p_on);
    n integer;
    prefix text;
    doc_no text;
BEGIN
    INSERT INTO master.document_counter AS c (branch_id, series, fy_start, last_no)
    VALUES (p_branch, p_series, fy, 1)
    ON CONFLICT (branch_id, series, fy_start) DO UPDATE SET last_no = c.last_no + 1
    RETURNING last_no INTO n;
    SELECT invoice_prefix INTO STRICT prefix FROM master.branch WHERE branch_id = p_branch;
    doc_no := prefix || p_series || '/' || lpad((fy % 100)::text, 2, '0') || '/' || n;
    IF length(doc_no) > 16 OR doc_no !~ '^[A-Z0-9/-]+$' THEN
        RAISE EXCEPTION 'document number % would break the 16-character rule', doc_no
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN doc_no;
END
$$;

-- ---------------------------------------------------------------------------
-- Tax master: HSN/SAC codes and their GST rate by date
-- ---------------------------------------------------------------------------
CREATE TABLE master.hsn (
    hsn_code    text PRIMARY KEY CHECK (hsn_code ~ '^[0-9]{4}([0-9]{2}){0,2}$'),
    description text NOT NULL CHECK (length(btrim(description)) BETWEEN 2 AND 200),
    is_service  boolean NOT NULL DEFAULT false   -- SAC (services) rather than HSN (goods)
);
SELECT audit.track('master.hsn', 'hsn_code');

CREATE TABLE master.hsn_rate (
    hsn_rate_id    integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    hsn_code       text NOT NULL REFERENCES master.hsn (hsn_code),
    gst_rate       numeric(5,2) NOT NULL CHECK (gst_rate IN (0, 0.1, 0.25, 1, 1.5, 3, 5, 6, 12, 18, 28, 40)),
    effective_from date NOT NULL,
    effective_to   date,
    notification   text,
    CHECK (effective_to IS NULL OR effective_to >= effective_from),
    CONSTRAINT hsn_rate_no_overlap EXCLUDE USING gist (
        master.same_key(hsn_code) WITH &&,
        master.valid_during(effective_from, effective_to) WITH &&)
);
SELECT audit.track('master.hsn_rate', 'hsn_rate_id');

-- The rate in force on a date; NULL when the tax master has no rate for that day.
CREATE FUNCTION master.gst_rate_on(p_hsn text, p_on date) RETURNS numeric
LANGUAGE sql STABLE
AS $$
    SELECT gst_rate FROM master.hsn_rate
     WHERE hsn_code = p_hsn AND master.valid_during(effective_from, effective_to) @> p_on
$$;

INSERT INTO master.hsn (hsn_code, description, is_service) VALUES
    ('871160', 'Electric two-wheelers (motorcycles and scooters with electric motor)', false),
    ('870380', 'Electric cars (vehicles with only electric motor for propulsion)', false),
    ('87038040', 'E-rickshaws and electric three-wheelers for passengers', false),
    ('8704', 'Electric goods carriers (three-wheelers for goods)', false),
    ('8504', 'EV chargers (static converters)', false),
    ('850760', 'Lithium-ion batteries sold separately', false),
    ('8714', 'Parts and accessories of two-wheelers', false),
    ('8708', 'Parts and accessories of motor cars', false),
    ('998714', 'Maintenance and repair of transport machinery (service labour, extended warranty)', true);

-- Defaults from the reference; the showroom's CA confirms them (dated master data, editable).
INSERT INTO master.hsn_rate (hsn_code, gst_rate, effective_from, effective_to, notification) VALUES
    ('871160', 5, '2019-08-01', NULL, 'EV rate 5% from 01-08-2019'),
    ('870380', 5, '2019-08-01', NULL, 'EV rate 5% from 01-08-2019'),
    ('87038040', 5, '2019-08-01', NULL, 'EV rate 5% from 01-08-2019'),
    ('8704', 5, '2019-08-01', NULL, 'EV rate 5% from 01-08-2019'),
    ('8504', 5, '2019-08-01', NULL, 'charger supplied with or without the vehicle'),
    ('850760', 18, '2019-08-01', NULL, NULL),
    ('8714', 28, '2017-07-01', '2025-09-21', NULL),
    ('8714', 18, '2025-09-22', NULL, 'rate cut from 22-09-2025'),
    ('8708', 28, '2017-07-01', '2025-09-21', NULL),
    ('8708', 18, '2025-09-22', NULL, 'rate cut from 22-09-2025'),
    ('998714', 18, '2017-07-01', NULL, NULL);

-- ---------------------------------------------------------------------------
-- OEMs (the brands the showroom buys from)
-- ---------------------------------------------------------------------------
CREATE TABLE oem.oem (
    oem_id        integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    brand         text NOT NULL UNIQUE CHECK (length(btrim(brand)) BETWEEN 2 AND 80),
    legal_name    text NOT NULL CHECK (length(btrim(legal_name)) BETWEEN 2 AND 200),
    dealer_code   text CHECK (length(btrim(dealer_code)) BETWEEN 1 AND 40),  -- our code with this OEM
    gstin         text NOT NULL UNIQUE CHECK (master.is_gstin(gstin)),
    state_code    char(2) GENERATED ALWAYS AS (left(gstin, 2)) STORED REFERENCES master.state (state_code),
    address       text NOT NULL CHECK (length(btrim(address)) BETWEEN 2 AND 300),
    contact_name  text,
    contact_phone text CHECK (master.is_phone(contact_phone)),
    contact_email text CHECK (master.is_email(contact_email)),
    is_active     boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now()
);
SELECT audit.track('oem.oem', 'oem_id');

CREATE TABLE oem.model (
    model_id    integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    oem_id      integer NOT NULL REFERENCES oem.oem (oem_id),
    name        text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 80),
    segment     text NOT NULL CHECK (segment IN ('E2W', 'E2W_LOW_SPEED', 'E3W_PASSENGER', 'E3W_GOODS', 'E4W')),
    -- Low-speed e-2W (< 25 km/h, < 0.25 kW, certified) need no RTO registration.
    is_low_speed boolean NOT NULL DEFAULT false,
    is_active   boolean NOT NULL DEFAULT true,
    UNIQUE (oem_id, name),
    CONSTRAINT model_low_speed_is_a_2w CHECK (NOT is_low_speed OR segment = 'E2W_LOW_SPEED'),
    CONSTRAINT model_low_speed_segment_flagged CHECK (segment <> 'E2W_LOW_SPEED' OR is_low_speed)
);
SELECT audit.track('oem.model', 'model_id');

-- The OEM's free-service schedule per model: n-th service at so many months or km.
CREATE TABLE oem.free_service (
    model_id    integer NOT NULL REFERENCES oem.model (model_id),
    service_no  smallint NOT NULL CHECK (service_no BETWEEN 1 AND 20),
    due_months  smallint NOT NULL CHECK (due_months BETWEEN 0 AND 120),
    due_km      integer NOT NULL CHECK (due_km BETWEEN 0 AND 200000),
    PRIMARY KEY (model_id, service_no)
);
SELECT audit.track('oem.free_service', 'model_id');

CREATE TABLE oem.variant (
    variant_id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model_id            integer NOT NULL REFERENCES oem.model (model_id),
    name                text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 80),
    hsn_code            text NOT NULL REFERENCES master.hsn (hsn_code),
    battery_chemistry   text NOT NULL CHECK (battery_chemistry IN ('LFP', 'NMC', 'LTO', 'LEAD_ACID', 'OTHER')),
    battery_kwh         numeric(6,2) NOT NULL CHECK (battery_kwh > 0 AND battery_kwh < 200),
    certified_range_km  integer CHECK (certified_range_km BETWEEN 1 AND 2000),
    motor_power_kw      numeric(7,2) CHECK (motor_power_kw > 0),
    top_speed_kmph      smallint CHECK (top_speed_kmph BETWEEN 1 AND 300),
    charger_type        text CHECK (length(charger_type) <= 80),
    vehicle_warranty_years smallint NOT NULL CHECK (vehicle_warranty_years BETWEEN 0 AND 15),
    vehicle_warranty_km    integer CHECK (vehicle_warranty_km BETWEEN 0 AND 1000000),
    battery_warranty_years smallint NOT NULL CHECK (battery_warranty_years BETWEEN 0 AND 15),
    battery_warranty_km    integer CHECK (battery_warranty_km BETWEEN 0 AND 1000000),
    battery_min_soh_pct    smallint CHECK (battery_min_soh_pct BETWEEN 1 AND 100),
    is_active           boolean NOT NULL DEFAULT true,
    UNIQUE (model_id, name)
);
SELECT audit.track('oem.variant', 'variant_id');

CREATE TABLE oem.variant_colour (
    variant_id  integer NOT NULL REFERENCES oem.variant (variant_id),
    colour      text NOT NULL CHECK (length(btrim(colour)) BETWEEN 1 AND 40 AND colour = btrim(colour)),
    colour_code text CHECK (length(colour_code) <= 20),
    is_active   boolean NOT NULL DEFAULT true,
    PRIMARY KEY (variant_id, colour)
);
SELECT audit.track('oem.variant_colour', 'variant_id');

-- Dated prices per variant, optionally per colour. For one variant (and colour, or "every
-- colour") periods never overlap; a colour's own row takes precedence over "every colour".
CREATE TABLE oem.price_list (
    price_id        integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    variant_id      integer NOT NULL REFERENCES oem.variant (variant_id),
    colour          text,
    ex_showroom     numeric(12,2) NOT NULL CHECK (ex_showroom > 0),   -- GST-inclusive
    ex_factory      numeric(12,2) CHECK (ex_factory > 0),            -- for the 15% subsidy cap
    subsidy_rule    text NOT NULL DEFAULT 'NONE' CHECK (subsidy_rule IN ('NONE', 'FIXED', 'PER_KWH')),
    subsidy_amount  numeric(12,2) CHECK (subsidy_amount >= 0),       -- FIXED
    subsidy_per_kwh numeric(12,2) CHECK (subsidy_per_kwh >= 0),      -- PER_KWH
    subsidy_cap     numeric(12,2) CHECK (subsidy_cap >= 0),          -- PER_KWH: at most this
    subsidy_cap_pct numeric(5,2) CHECK (subsidy_cap_pct > 0 AND subsidy_cap_pct <= 100),
    effective_from  date NOT NULL,
    effective_to    date,
    FOREIGN KEY (variant_id, colour) REFERENCES oem.variant_colour (variant_id, colour),
    CHECK (effective_to IS NULL OR effective_to >= effective_from),
    CONSTRAINT price_list_subsidy_complete CHECK (
        (subsidy_rule = 'NONE' AND subsidy_amount IS NULL AND subsidy_per_kwh IS NULL)
        OR (subsidy_rule = 'FIXED' AND subsidy_amount IS NOT NULL AND subsidy_per_kwh IS NULL)
        OR (subsidy_rule = 'PER_KWH' AND subsidy_per_kwh IS NOT NULL AND subsidy_cap IS NOT NULL
            AND subsidy_amount IS NULL)),
    CONSTRAINT price_list_cap_pct_needs_ex_factory CHECK (subsidy_cap_pct IS NULL OR ex_factory IS NOT NULL),
    CONSTRAINT price_list_no_overlap EXCLUDE USING gist (
        master.same_key(variant_id::text || '/' || coalesce(colour, '*')) WITH &&,
        master.valid_during(effective_from, effective_to) WITH &&)
);
SELECT audit.track('oem.price_list', 'price_id');

-- The price row in force for a variant and colour on a date (the colour's own row first).
CREATE FUNCTION oem.price_on(p_variant integer, p_colour text, p_on date)
RETURNS SETOF oem.price_list
LANGUAGE sql STABLE
AS $$
    SELECT * FROM oem.price_list
     WHERE variant_id = p_variant AND (colour = p_colour OR colour IS NULL)
       AND master.valid_during(effective_from, effective_to) @> p_on
     ORDER BY colour IS NULL
     LIMIT 1
$$;

-- Subsidy (PM E-DRIVE) for a price row and battery size: FIXED, or per kWh up to the cap,
-- and never above subsidy_cap_pct of the ex-factory price. Rounded down to the rupee.
CREATE FUNCTION oem.subsidy_amount(p oem.price_list, p_battery_kwh numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE
AS $$
    SELECT floor(least(
        CASE p.subsidy_rule
            WHEN 'FIXED' THEN p.subsidy_amount
            WHEN 'PER_KWH' THEN least(p.subsidy_per_kwh * p_battery_kwh, p.subsidy_cap)
            ELSE 0 END,
        coalesce(p.ex_factory * p.subsidy_cap_pct / 100, 'Infinity'::numeric)))
$$;

CREATE TABLE oem.scheme (
    scheme_id   integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    oem_id      integer NOT NULL REFERENCES oem.oem (oem_id),
    name        text NOT NULL CHECK (length(btrim(name)) BETWEEN 2 AND 120),
    kind        text NOT NULL CHECK (kind IN ('CUSTOMER_DISCOUNT', 'DEALER_INCENTIVE')),
    variant_id  integer REFERENCES oem.variant (variant_id),   -- NULL: every variant of the OEM
    amount      numeric(12,2) NOT NULL CHECK (amount > 0),
    valid_from  date NOT NULL,
    valid_to    date NOT NULL,
    CHECK (valid_to >= valid_from)
);
SELECT audit.track('oem.scheme', 'scheme_id');

-- ---------------------------------------------------------------------------
-- Customers, financiers, insurers
-- ---------------------------------------------------------------------------
CREATE TABLE master.customer (
    customer_id   integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    branch_id     integer NOT NULL REFERENCES master.branch (branch_id),   -- where the customer was added
    kind          text NOT NULL DEFAULT 'INDIVIDUAL' CHECK (kind IN ('INDIVIDUAL', 'BUSINESS')),
    name          text NOT NULL CHECK (length(btrim(name)) BETWEEN 2 AND 200),
    mobile        text NOT NULL CHECK (master.is_mobile(mobile)),   -- families share phones: not unique
    email         text CHECK (master.is_email(email)),
    address_line1 text CHECK (length(address_line1) <= 200),
    address_line2 text CHECK (length(address_line2) <= 200),
    city          text CHECK (length(city) <= 100),
    state_code    char(2) NOT NULL REFERENCES master.state (state_code),
    pincode       text CHECK (master.is_pincode(pincode)),
    gstin         text CHECK (master.is_gstin(gstin)),
    pan           text CHECK (master.is_pan(pan)),
    date_of_birth date CHECK (date_of_birth > '1900-01-01'),
    aadhaar_last4 text CHECK (aadhaar_last4 ~ '^[0-9]{4}$'),   -- never the full number
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT customer_gstin_state CHECK (gstin IS NULL OR left(gstin, 2) = state_code),
    CONSTRAINT customer_gstin_pan CHECK (gstin IS NULL OR pan IS NULL OR substr(gstin, 3, 10) = pan)
);
CREATE INDEX customer_mobile_idx ON master.customer (mobile);
CREATE INDEX customer_name_idx ON master.customer (lower(name) text_pattern_ops);
SELECT audit.track('master.customer', 'customer_id');

CREATE TABLE master.financier (
    financier_id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text NOT NULL UNIQUE CHECK (length(btrim(name)) BETWEEN 2 AND 120),
    gstin        text CHECK (master.is_gstin(gstin)),
    phone        text CHECK (master.is_phone(phone)),
    is_active    boolean NOT NULL DEFAULT true
);
SELECT audit.track('master.financier', 'financier_id');

CREATE TABLE master.insurer (
    insurer_id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL UNIQUE CHECK (length(btrim(name)) BETWEEN 2 AND 120),
    gstin      text CHECK (master.is_gstin(gstin)),
    phone      text CHECK (master.is_phone(phone)),
    is_active  boolean NOT NULL DEFAULT true
);
SELECT audit.track('master.insurer', 'insurer_id');

-- ---------------------------------------------------------------------------
-- Spare parts catalog and labour operations
-- ---------------------------------------------------------------------------
CREATE TABLE master.part (
    part_id        integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    part_no        text NOT NULL UNIQUE CHECK (part_no ~ '^[A-Z0-9][A-Z0-9./-]{1,39}$'),
    name           text NOT NULL CHECK (length(btrim(name)) BETWEEN 2 AND 200),
    hsn_code       text NOT NULL REFERENCES master.hsn (hsn_code),
    unit           text NOT NULL DEFAULT 'NOS' CHECK (unit IN ('NOS', 'SET', 'PAIR', 'KIT', 'LTR', 'KG', 'MTR')),
    -- Counted in whole units (NOS, SET, PAIR, KIT) or measured (LTR, KG, MTR).
    whole_units    boolean GENERATED ALWAYS AS (unit IN ('NOS', 'SET', 'PAIR', 'KIT')) STORED,
    mrp            numeric(12,2) NOT NULL CHECK (mrp >= 0),            -- GST-inclusive
    purchase_price numeric(12,2) NOT NULL CHECK (purchase_price >= 0), -- GST-exclusive
    reorder_level  numeric(12,3) NOT NULL DEFAULT 0 CHECK (reorder_level >= 0),
    reorder_qty    numeric(12,3) NOT NULL DEFAULT 0 CHECK (reorder_qty >= 0),
    is_active      boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX part_name_idx ON master.part (lower(name) text_pattern_ops);
SELECT audit.track('master.part', 'part_id');

CREATE TABLE master.part_model (
    part_id  integer NOT NULL REFERENCES master.part (part_id),
    model_id integer NOT NULL REFERENCES oem.model (model_id),
    PRIMARY KEY (part_id, model_id)
);
CREATE INDEX part_model_model_idx ON master.part_model (model_id);

CREATE TABLE master.labour_operation (
    operation_code text PRIMARY KEY CHECK (operation_code ~ '^[A-Z0-9][A-Z0-9-]{1,19}$'),
    name           text NOT NULL CHECK (length(btrim(name)) BETWEEN 2 AND 200),
    sac_code       text NOT NULL DEFAULT '998714' REFERENCES master.hsn (hsn_code),
    standard_hours numeric(5,2) NOT NULL CHECK (standard_hours > 0 AND standard_hours <= 100),
    rate           numeric(10,2) NOT NULL CHECK (rate >= 0),   -- per operation, GST-exclusive
    is_active      boolean NOT NULL DEFAULT true
);
SELECT audit.track('master.labour_operation', 'operation_code');
