-- Service workshop, the bill and the way out (issue 12): what a job card may claim (a free service
-- due by the model's schedule and used once; warranty lines only while the cover lasts), the link
-- from a job card to its service invoice or job sheet (billing.invoice), the gate pass that lets
-- the vehicle out (paid in full, or released on credit by a manager) and moves the card to
-- DELIVERED, and the next service due stored on the vehicle for the reminder engine, from the
-- free-service schedule or the dated paid-service interval.
-- The functions and triggers below are also in sql/functions/91_service.sql ("Entitlements, the
-- bill, the gate pass and the next service due"), which holds their current definitions.

INSERT INTO master.document_series (series, name) VALUES ('GP', 'Gate pass');

-- A free service is used once per vehicle (a cancelled card gives it back).
CREATE UNIQUE INDEX job_card_free_service_once_idx ON service.job_card (vehicle_id, free_service_no)
    WHERE service_type = 'FREE_SERVICE' AND state <> 'CANCELLED';

-- The card's bill, in billing's schema: a service invoice (SI) or a job sheet (JS), one per card.
ALTER TABLE service.job_card
    ADD COLUMN invoice_id integer CONSTRAINT job_card_invoice_once UNIQUE REFERENCES billing.invoice (invoice_id);

-- The paid-service interval (months and km, whichever first) between free services' end and the
-- next visit: dated master data, one in force on any day.
CREATE TABLE service.service_interval (
    interval_id    integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    months         smallint NOT NULL CHECK (months BETWEEN 1 AND 36),
    km             integer NOT NULL CHECK (km BETWEEN 500 AND 50000),
    effective_from date NOT NULL,
    effective_to   date,
    CONSTRAINT service_interval_period CHECK (effective_to IS NULL OR effective_to >= effective_from),
    CONSTRAINT service_interval_no_overlap EXCLUDE USING gist (
        master.valid_during(effective_from, effective_to) WITH &&)
);
SELECT audit.track('service.service_interval', 'interval_id');
INSERT INTO service.service_interval (months, km, effective_from) VALUES (6, 5000, '2020-01-01');

-- What the reminder engine reads: kept when a card of the vehicle is delivered.
ALTER TABLE service.vehicle
    ADD COLUMN next_service_due_on  date,
    ADD COLUMN next_service_due_km  integer CHECK (next_service_due_km >= 0),
    ADD COLUMN next_free_service_no smallint;
CREATE INDEX vehicle_next_service_idx ON service.vehicle (next_service_due_on) WHERE next_service_due_on IS NOT NULL;

-- The gate pass: one per job card, a branch's document in the GP series (number by trigger).
CREATE TABLE service.gate_pass (
    gate_pass_id     integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    branch_id        integer NOT NULL REFERENCES master.branch (branch_id),        -- the card's (by trigger)
    job_card_id      integer NOT NULL CONSTRAINT gate_pass_once UNIQUE REFERENCES service.job_card (job_card_id),
    gate_pass_no     text NOT NULL UNIQUE,                                         -- by trigger
    issued_at        timestamptz NOT NULL DEFAULT now(),
    issued_by        integer REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    invoice_id       integer REFERENCES billing.invoice (invoice_id),              -- the card's (by trigger)
    paid_in_full     boolean NOT NULL,                                             -- by trigger
    credit_reason    text CHECK (length(btrim(credit_reason)) BETWEEN 5 AND 300),
    released_by      integer REFERENCES master.staff (staff_id),
    received_by_name text CHECK (length(btrim(received_by_name)) BETWEEN 2 AND 100),
    idempotency_key  uuid NOT NULL UNIQUE,
    CONSTRAINT gate_pass_credit_reason CHECK ((credit_reason IS NULL) = (released_by IS NULL))
);
CREATE INDEX gate_pass_branch_idx ON service.gate_pass (branch_id, issued_at);
SELECT audit.track('service.gate_pass', 'gate_pass_id');

ALTER TABLE service.gate_pass ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_branch ON service.gate_pass USING (platform.branch_visible(branch_id))
    WITH CHECK (platform.branch_visible(branch_id));

-- ---------------------------------------------------------------------------
-- Entitlements, the bill, the gate pass and the next service due
-- ---------------------------------------------------------------------------
-- A free service is taken only when the model's schedule says it is the one due on the day the
-- card is opened at its odometer (months and km from the sale, whichever first: warranty.free_services)
-- and never twice for a vehicle (job_card_free_service_once_idx; the cards of another branch are
-- under its row-level security, the index sees them all).
CREATE OR REPLACE FUNCTION service.check_free_service() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    v record;
    fs record;
BEGIN
    SELECT sv.sale_date, va.model_id INTO v
      FROM service.vehicle sv JOIN oem.variant va ON va.variant_id = sv.variant_id
     WHERE sv.vehicle_id = NEW.vehicle_id;
    SELECT * INTO fs FROM warranty.free_services(v.model_id, v.sale_date, (NEW.opened_at AT TIME ZONE 'Asia/Kolkata')::date,
                                                 NEW.odometer_km,
                                                 ARRAY(SELECT free_service_no FROM service.job_card
                                                        WHERE vehicle_id = NEW.vehicle_id AND service_type = 'FREE_SERVICE'
                                                          AND state <> 'CANCELLED' AND job_card_id <> NEW.job_card_id))
     WHERE service_no = NEW.free_service_no;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the model has no free service %', NEW.free_service_no
            USING ERRCODE = 'check_violation', CONSTRAINT = 'job_card_free_service_in_schedule';
    ELSIF fs.state = 'USED' THEN
        RAISE EXCEPTION 'free service % was already used on this vehicle', NEW.free_service_no
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

-- The card's bill: set once, on a READY card whose customer-paid work is all approved, to a
-- service invoice or job sheet; after that the card's work does not change (it is billed).
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
-- schedule not used and not expired, else the paid interval on the day. Its km as scheduled; its
-- date the earlier of the schedule's and the day the vehicle reaches those km at its average daily
-- km (its readings since the sale, counted from 0 km on the sale date).
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
                                  ARRAY(SELECT j.free_service_no FROM service.job_card j
                                         WHERE j.vehicle_id = p_vehicle_id AND j.service_type = 'FREE_SERVICE'
                                           AND j.state <> 'CANCELLED')) f
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
