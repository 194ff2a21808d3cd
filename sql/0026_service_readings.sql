-- Service workshop, on the job card: the inspection checklist (configurable items), battery
-- readings per pack with the dated limits that flag them, photos taken on the tablet, and the
-- technician who has the card in their bay. Functions and triggers are also in
-- sql/functions/91_service.sql.

-- The technician working the card (the board's "my jobs"); each line may name its own.
ALTER TABLE service.job_card ADD COLUMN technician_id integer REFERENCES master.staff (staff_id);
CREATE INDEX job_card_technician_idx ON service.job_card (technician_id) WHERE state NOT IN ('DELIVERED', 'CANCELLED');

-- Arrival by the last 6 characters of a VIN, for a scooter sold here not yet seen by the workshop.
CREATE INDEX vehicle_unit_vin_last6_idx ON inventory.vehicle_unit (right(vin, 6));

-- ---------------------------------------------------------------------------
-- Inspection checklist
-- ---------------------------------------------------------------------------
CREATE TABLE service.inspection_item (
    item_id    integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL UNIQUE CHECK (length(btrim(name)) BETWEEN 2 AND 80),
    sort_order smallint NOT NULL CHECK (sort_order BETWEEN 0 AND 999),
    is_active  boolean NOT NULL DEFAULT true
);
SELECT audit.track('service.inspection_item', 'item_id');
INSERT INTO service.inspection_item (name, sort_order) VALUES
    ('Front brake', 10), ('Rear brake', 20), ('Tyres and pressure', 30), ('Headlamp, indicators and tail lamp', 40),
    ('Horn', 50), ('Mirrors', 60), ('Throttle and ride modes', 70), ('Display and connectivity', 80),
    ('Charging port and charger', 90), ('Battery mounting and connectors', 100), ('Motor noise', 110),
    ('Suspension', 120), ('Side stand cut-off', 130), ('Body panels and scratches', 140);

CREATE TABLE service.inspection_result (
    job_card_id integer NOT NULL REFERENCES service.job_card (job_card_id),
    item_id     integer NOT NULL REFERENCES service.inspection_item (item_id),
    result      text NOT NULL CHECK (result IN ('OK', 'NOT_OK')),
    remark      text CHECK (length(btrim(remark)) BETWEEN 1 AND 300),
    checked_by  integer REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    checked_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_card_id, item_id)
);
SELECT audit.track('service.inspection_result', 'job_card_id');

-- ---------------------------------------------------------------------------
-- Battery readings
-- ---------------------------------------------------------------------------
-- Limits that flag a reading, dated like every rate: a reading is judged by the limits of its
-- day. SOH_MIN_PCT applies when the variant names no battery_min_soh_pct (its warranty floor).
CREATE TABLE service.reading_limit (
    limit_id       integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    check_code     text NOT NULL CHECK (check_code IN ('CELL_DELTA_MV_MAX', 'TEMP_MAX_C', 'INSULATION_MOHM_MIN', 'SOH_MIN_PCT')),
    limit_value    numeric(10,3) NOT NULL CHECK (limit_value >= 0 AND limit_value <= 10000),
    effective_from date NOT NULL,
    effective_to   date,
    CONSTRAINT reading_limit_period CHECK (effective_to IS NULL OR effective_to >= effective_from),
    CONSTRAINT reading_limit_no_overlap EXCLUDE USING gist (
        master.same_key(check_code) WITH &&,
        master.valid_during(effective_from, effective_to) WITH &&)
);
SELECT audit.track('service.reading_limit', 'limit_id');
INSERT INTO service.reading_limit (check_code, limit_value, effective_from) VALUES
    ('CELL_DELTA_MV_MAX', 100, '2020-01-01'), ('TEMP_MAX_C', 55, '2020-01-01'),
    ('INSULATION_MOHM_MIN', 0.5, '2020-01-01'), ('SOH_MIN_PCT', 70, '2020-01-01');

-- One reading per pack per job card (a second look replaces the first). The physical ranges are
-- CHECKs; the cell delta is worked out here; flags (the limits it breaks on its day) by trigger.
CREATE TABLE service.battery_reading (
    reading_id      integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_card_id     integer NOT NULL REFERENCES service.job_card (job_card_id),
    pack_id         integer NOT NULL REFERENCES inventory.battery_pack (pack_id),
    read_at         timestamptz NOT NULL DEFAULT now(),
    soh_pct         numeric(5,2) NOT NULL CHECK (soh_pct BETWEEN 0 AND 100),
    soc_pct         numeric(5,2) NOT NULL CHECK (soc_pct BETWEEN 0 AND 100),
    cycle_count     integer CHECK (cycle_count BETWEEN 0 AND 20000),
    cell_v_max      numeric(5,3) NOT NULL CHECK (cell_v_max BETWEEN 1 AND 5),
    cell_v_min      numeric(5,3) NOT NULL CHECK (cell_v_min BETWEEN 1 AND 5),
    cell_delta_mv   numeric(7,1) GENERATED ALWAYS AS ((cell_v_max - cell_v_min) * 1000) STORED,
    pack_temp_max_c numeric(4,1) CHECK (pack_temp_max_c BETWEEN -30 AND 120),
    insulation_mohm numeric(9,3) CHECK (insulation_mohm BETWEEN 0 AND 100000),
    fault_codes     text[] NOT NULL DEFAULT '{}',
    charger_ok      boolean,
    remark          text CHECK (length(btrim(remark)) BETWEEN 1 AND 300),
    flags           text[] NOT NULL DEFAULT '{}',   -- by trigger: the limits broken
    recorded_by     integer REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    CONSTRAINT battery_reading_cells CHECK (cell_v_min <= cell_v_max),
    CONSTRAINT battery_reading_fault_codes CHECK (cardinality(fault_codes) <= 20
        AND array_to_string(fault_codes, ' ') ~ '^([A-Z0-9][A-Z0-9-]{1,11}( |$))*$'),
    UNIQUE (job_card_id, pack_id)
);
CREATE INDEX battery_reading_pack_idx ON service.battery_reading (pack_id, read_at);
SELECT audit.track('service.battery_reading', 'reading_id', '', 'flags');

-- ---------------------------------------------------------------------------
-- Photos on a job card (tablet camera), size-limited, with the checksum PostgreSQL checks
-- ---------------------------------------------------------------------------
CREATE TABLE service.job_photo (
    photo_id     integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_card_id  integer NOT NULL REFERENCES service.job_card (job_card_id),
    taken_at     timestamptz NOT NULL DEFAULT now(),
    content_type text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp')),
    image        bytea NOT NULL CHECK (octet_length(image) BETWEEN 1 AND 6291456),
    sha256       text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    thumbnail    bytea NOT NULL CHECK (octet_length(thumbnail) BETWEEN 1 AND 262144),   -- JPEG
    caption      text CHECK (length(btrim(caption)) BETWEEN 1 AND 120),
    taken_by     integer REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    CONSTRAINT job_photo_checksum CHECK (sha256 = encode(sha256(image), 'hex')),
    UNIQUE (job_card_id, sha256)
);
CREATE INDEX job_photo_card_idx ON service.job_photo (job_card_id);
SELECT audit.track('service.job_photo', 'photo_id', 'image,thumbnail');

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
