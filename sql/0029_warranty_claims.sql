-- Warranty claims to the OEM: a claim per job card (or per recall campaign done on a VIN), numbered
-- per branch and year (series WC), its lines of labour at the OEM's dated rate and parts at their
-- purchase price with the failed and the replacement serials, the evidence chosen for it (battery
-- readings, photos), its moves DRAFT -> SUBMITTED -> APPROVED / PARTLY_APPROVED / REJECTED ->
-- SETTLED held by a table of allowed moves, and their history. A battery pack swapped under
-- warranty on a job card (warranty.swap_pack) refits the vehicle and puts the old pack on the
-- card's BATTERY claim as its failed part.
--
-- Amounts are GST-exclusive, as the OEM's portal takes them. Labour hours are the labour master's
-- standard hours (master.labour_operation.standard_hours): the OEMs' schedules the showroom deals
-- with use the same flat-rate times, so there is no second table of hours.

INSERT INTO master.document_series (series, name) VALUES ('WC', 'Warranty claim to the OEM');

-- ---------------------------------------------------------------------------
-- The OEM's warranty labour rate per hour (dated master data); a new rate ends the one before.
-- ---------------------------------------------------------------------------
CREATE TABLE warranty.labour_rate (
    rate_id        integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    oem_id         integer NOT NULL REFERENCES oem.oem (oem_id),
    rate_per_hour  numeric(10,2) NOT NULL CHECK (rate_per_hour > 0 AND rate_per_hour <= 100000),
    effective_from date NOT NULL,
    effective_to   date,
    CONSTRAINT labour_rate_period CHECK (effective_to IS NULL OR effective_to >= effective_from),
    CONSTRAINT labour_rate_no_overlap EXCLUDE USING gist (
        master.same_key(oem_id::text) WITH &&,
        master.valid_during(effective_from, effective_to) WITH &&)
);
SELECT audit.track('warranty.labour_rate', 'rate_id');

-- ---------------------------------------------------------------------------
-- Claim statuses and the moves between them (anything else: claim_status_transition).
-- ---------------------------------------------------------------------------
CREATE TABLE warranty.claim_status (
    status     text PRIMARY KEY,
    label      text NOT NULL,
    sort_order smallint NOT NULL,
    is_pending boolean NOT NULL      -- money still to come from the OEM (the register's ageing)
);
INSERT INTO warranty.claim_status (status, label, sort_order, is_pending) VALUES
    ('DRAFT', 'Draft', 1, false),
    ('SUBMITTED', 'Submitted', 2, true),
    ('APPROVED', 'Approved', 3, true),
    ('PARTLY_APPROVED', 'Partly approved', 4, true),
    ('REJECTED', 'Rejected', 5, false),
    ('SETTLED', 'Settled', 6, false);

CREATE TABLE warranty.claim_transition (
    from_status text NOT NULL REFERENCES warranty.claim_status (status),
    to_status   text NOT NULL REFERENCES warranty.claim_status (status),
    PRIMARY KEY (from_status, to_status)
);
INSERT INTO warranty.claim_transition (from_status, to_status) VALUES
    ('DRAFT', 'SUBMITTED'),
    ('SUBMITTED', 'APPROVED'), ('SUBMITTED', 'PARTLY_APPROVED'), ('SUBMITTED', 'REJECTED'),
    ('APPROVED', 'SETTLED'), ('PARTLY_APPROVED', 'SETTLED');

-- ---------------------------------------------------------------------------
-- The claim. Vehicle, VIN, OEM and odometer are copied by trigger from the job card's vehicle;
-- claimed_amount is kept by the lines' trigger.
-- ---------------------------------------------------------------------------
CREATE TABLE warranty.claim (
    claim_id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    branch_id         integer NOT NULL REFERENCES master.branch (branch_id),
    claim_no          text NOT NULL UNIQUE,
    raised_on         date NOT NULL DEFAULT (now() AT TIME ZONE 'Asia/Kolkata')::date,
    kind              text NOT NULL CHECK (kind IN ('WARRANTY_REPAIR', 'BATTERY', 'FREE_SERVICE_LABOUR', 'RECALL')),
    status            text NOT NULL DEFAULT 'DRAFT' REFERENCES warranty.claim_status (status),
    job_card_id       integer REFERENCES service.job_card (job_card_id),
    campaign_id       integer REFERENCES warranty.campaign (campaign_id),
    vehicle_id        integer NOT NULL REFERENCES service.vehicle (vehicle_id),
    vin               text NOT NULL,
    oem_id            integer NOT NULL REFERENCES oem.oem (oem_id),
    odometer_km       integer CHECK (odometer_km >= 0),
    pack_id           integer REFERENCES inventory.battery_pack (pack_id),
    complaint         text NOT NULL CHECK (length(btrim(complaint)) BETWEEN 2 AND 1000),
    cause             text CHECK (length(btrim(cause)) BETWEEN 2 AND 1000),
    correction        text CHECK (length(btrim(correction)) BETWEEN 2 AND 1000),
    claimed_amount    numeric(12,2) NOT NULL DEFAULT 0 CHECK (claimed_amount >= 0),
    oem_claim_ref     text CHECK (oem_claim_ref ~ '^[A-Za-z0-9][A-Za-z0-9/_.-]{0,39}$'),
    submitted_on      date,
    decided_on        date,
    approved_amount   numeric(12,2) CHECK (approved_amount >= 0),
    decision_reason   text CHECK (length(btrim(decision_reason)) BETWEEN 3 AND 500),
    settled_on        date,
    settled_amount    numeric(12,2) CHECK (settled_amount >= 0),
    settlement_ref    text CHECK (length(btrim(settlement_ref)) BETWEEN 1 AND 60),
    status_changed_at timestamptz NOT NULL DEFAULT now(),
    created_by        integer REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    created_at        timestamptz NOT NULL DEFAULT now(),
    idempotency_key   uuid NOT NULL UNIQUE,
    CONSTRAINT claim_job_card_or_campaign CHECK (job_card_id IS NOT NULL OR campaign_id IS NOT NULL),
    CONSTRAINT claim_recall_campaign CHECK ((kind = 'RECALL') = (campaign_id IS NOT NULL)),
    CONSTRAINT claim_submitted CHECK (status = 'DRAFT' OR (oem_claim_ref IS NOT NULL AND submitted_on IS NOT NULL)),
    CONSTRAINT claim_submitted_after_raised CHECK (submitted_on >= raised_on),
    CONSTRAINT claim_decided CHECK ((status IN ('DRAFT', 'SUBMITTED')) = (decided_on IS NULL)),
    CONSTRAINT claim_decided_after_submitted CHECK (decided_on >= submitted_on),
    CONSTRAINT claim_reason_given CHECK (status NOT IN ('REJECTED', 'PARTLY_APPROVED') OR decision_reason IS NOT NULL),
    CONSTRAINT claim_approved_amount CHECK ((status IN ('APPROVED', 'PARTLY_APPROVED', 'SETTLED')) = (approved_amount IS NOT NULL)),
    CONSTRAINT claim_partly_approved_amount CHECK (status <> 'PARTLY_APPROVED' OR approved_amount < claimed_amount),
    CONSTRAINT claim_settled CHECK ((status = 'SETTLED') = (settled_on IS NOT NULL AND settled_amount IS NOT NULL)),
    CONSTRAINT claim_settled_after_decided CHECK (settled_on >= decided_on)
);
CREATE INDEX claim_job_card_idx ON warranty.claim (job_card_id);
CREATE INDEX claim_vehicle_idx ON warranty.claim (vehicle_id);
CREATE INDEX claim_register_idx ON warranty.claim (branch_id, status, submitted_on);
SELECT audit.track('warranty.claim', 'claim_id', '', 'status_changed_at');

ALTER TABLE warranty.claim ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_branch ON warranty.claim USING (platform.branch_visible(branch_id))
    WITH CHECK (platform.branch_visible(branch_id));

-- Each move of a claim: who, when (written by trigger, permanent).
CREATE TABLE warranty.claim_status_change (
    change_id   integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    claim_id    integer NOT NULL REFERENCES warranty.claim (claim_id),
    from_status text REFERENCES warranty.claim_status (status),
    to_status   text NOT NULL REFERENCES warranty.claim_status (status),
    changed_at  timestamptz NOT NULL DEFAULT now(),
    changed_by  integer REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id()
);
CREATE INDEX claim_status_change_claim_idx ON warranty.claim_status_change (claim_id, changed_at);

-- ---------------------------------------------------------------------------
-- Claim lines: labour (hours x the OEM's rate) or parts (qty x purchase price), each part with
-- the failed part's serial (tagged, kept for return to the OEM) and the replacement's serial.
-- hours, rate, unit_price and description are set by trigger from the master data.
-- ---------------------------------------------------------------------------
CREATE TABLE warranty.claim_line (
    line_id             integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    claim_id            integer NOT NULL REFERENCES warranty.claim (claim_id),
    kind                text NOT NULL CHECK (kind IN ('LABOUR', 'PART')),
    job_line_id         integer UNIQUE REFERENCES service.job_line (job_line_id),
    operation_code      text REFERENCES master.labour_operation (operation_code),
    part_id             integer REFERENCES master.part (part_id),
    description         text NOT NULL CHECK (length(btrim(description)) BETWEEN 2 AND 200),
    hours               numeric(5,2) CHECK (hours > 0),
    rate                numeric(10,2) CHECK (rate >= 0),
    qty                 numeric(12,3) CHECK (qty > 0 AND qty <= 1000),
    unit_price          numeric(12,2) CHECK (unit_price >= 0),
    amount              numeric(12,2) GENERATED ALWAYS AS
                            (round(CASE kind WHEN 'LABOUR' THEN hours * rate ELSE qty * unit_price END, 2)) STORED,
    failed_serial       text CHECK (failed_serial ~ '^[A-Z0-9][A-Z0-9/-]{2,39}$'),
    replacement_serial  text CHECK (replacement_serial ~ '^[A-Z0-9][A-Z0-9/-]{2,39}$'),
    failed_pack_id      integer REFERENCES inventory.battery_pack (pack_id),
    replacement_pack_id integer REFERENCES inventory.battery_pack (pack_id),
    returned_on         date,
    return_ref          text CHECK (length(btrim(return_ref)) BETWEEN 1 AND 60),
    added_by            integer REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    added_at            timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT claim_line_labour_or_part CHECK (
        (kind = 'LABOUR' AND operation_code IS NOT NULL AND part_id IS NULL AND hours IS NOT NULL AND rate IS NOT NULL
         AND qty IS NULL AND unit_price IS NULL)
        OR (kind = 'PART' AND part_id IS NOT NULL AND operation_code IS NULL AND qty IS NOT NULL
            AND unit_price IS NOT NULL AND hours IS NULL AND rate IS NULL)),
    CONSTRAINT claim_line_serials_on_parts CHECK (kind = 'PART' OR (failed_serial IS NULL AND replacement_serial IS NULL
                                                                   AND failed_pack_id IS NULL AND replacement_pack_id IS NULL)),
    CONSTRAINT claim_line_serials_differ CHECK (failed_serial <> replacement_serial),
    CONSTRAINT claim_line_returned CHECK ((returned_on IS NULL) = (return_ref IS NULL)),
    CONSTRAINT claim_line_returned_failed_part CHECK (returned_on IS NULL OR failed_serial IS NOT NULL)
);
CREATE INDEX claim_line_claim_idx ON warranty.claim_line (claim_id);
CREATE INDEX claim_line_held_idx ON warranty.claim_line (claim_id) WHERE failed_serial IS NOT NULL AND returned_on IS NULL;
SELECT audit.track('warranty.claim_line', 'line_id');

-- ---------------------------------------------------------------------------
-- Evidence chosen for a claim: battery readings of the vehicle's packs, photos of its job cards.
-- ---------------------------------------------------------------------------
CREATE TABLE warranty.claim_evidence (
    evidence_id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    claim_id    integer NOT NULL REFERENCES warranty.claim (claim_id),
    reading_id  integer REFERENCES service.battery_reading (reading_id),
    photo_id    integer REFERENCES service.job_photo (photo_id),
    CONSTRAINT claim_evidence_one_thing CHECK (num_nonnulls(reading_id, photo_id) = 1),
    UNIQUE (claim_id, reading_id),
    UNIQUE (claim_id, photo_id)
);
SELECT audit.track('warranty.claim_evidence', 'evidence_id');

-- ---------------------------------------------------------------------------
-- The rules (the same definitions as the last section of sql/functions/92_warranty.sql, which holds
-- them from now on).
-- ---------------------------------------------------------------------------

-- The OEM's warranty labour rate per hour on a day (NULL: none in force).
CREATE OR REPLACE FUNCTION warranty.labour_rate_on(p_oem_id integer, p_on date) RETURNS numeric
LANGUAGE sql STABLE
AS $$
    SELECT rate_per_hour FROM warranty.labour_rate
     WHERE oem_id = p_oem_id AND master.valid_during(effective_from, effective_to) @> p_on
$$;

-- A new claim: it starts as a draft; the vehicle, VIN, OEM and odometer are the job card's (or, for a
-- recall claimed without a card, the vehicle's); a free-service labour claim comes from a free-service
-- card, a recall claim's campaign is the OEM's; the pack is one the vehicle has held. Then a number.
-- Once submitted, a claim keeps what it claims; a move of status must be in warranty.claim_transition;
-- a rejected or settled claim changes no more.
CREATE OR REPLACE FUNCTION warranty.check_claim() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    card service.job_card;
    veh service.vehicle;
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'DRAFT' THEN
            RAISE EXCEPTION 'a claim starts as a draft'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_status_transition';
        END IF;
        IF NEW.job_card_id IS NOT NULL THEN
            SELECT * INTO card FROM service.job_card WHERE job_card_id = NEW.job_card_id;
            IF NOT FOUND OR card.branch_id <> NEW.branch_id THEN
                RAISE EXCEPTION 'job card % is not one of this branch''s', NEW.job_card_id
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_job_card_of_branch';
            END IF;
            IF card.state = 'CANCELLED' THEN
                RAISE EXCEPTION 'job card % was cancelled: nothing on it is claimed', card.job_card_no
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_job_card_not_cancelled';
            END IF;
            NEW.vehicle_id := card.vehicle_id;
            NEW.odometer_km := card.odometer_km;
            IF NEW.kind = 'FREE_SERVICE_LABOUR' AND card.service_type <> 'FREE_SERVICE' THEN
                RAISE EXCEPTION 'free-service labour is claimed from a free-service job card'
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_free_service_card';
            END IF;
        END IF;
        SELECT * INTO veh FROM service.vehicle WHERE vehicle_id = NEW.vehicle_id;
        NEW.vin := veh.vin;
        SELECT m.oem_id INTO NEW.oem_id FROM oem.variant v JOIN oem.model m USING (model_id)
         WHERE v.variant_id = veh.variant_id;
        IF NEW.odometer_km IS NULL THEN
            NEW.odometer_km := veh.last_odometer_km;
        END IF;
        IF NEW.campaign_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM warranty.campaign c WHERE c.campaign_id = NEW.campaign_id AND c.oem_id = NEW.oem_id) THEN
            RAISE EXCEPTION 'campaign % is not this vehicle''s OEM''s', NEW.campaign_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_campaign_of_oem';
        END IF;
        NEW.claimed_amount := 0;
        NEW.status_changed_at := now();
    ELSE
        IF (NEW.claim_no, NEW.branch_id, NEW.raised_on, NEW.kind, NEW.job_card_id, NEW.vehicle_id, NEW.vin, NEW.oem_id,
            NEW.odometer_km, NEW.idempotency_key, NEW.created_by, NEW.created_at)
           IS DISTINCT FROM
           (OLD.claim_no, OLD.branch_id, OLD.raised_on, OLD.kind, OLD.job_card_id, OLD.vehicle_id, OLD.vin, OLD.oem_id,
            OLD.odometer_km, OLD.idempotency_key, OLD.created_by, OLD.created_at) THEN
            RAISE EXCEPTION 'claim %: its number, kind, job card and vehicle do not change', OLD.claim_no
                USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_fixed';
        END IF;
        IF OLD.status IN ('REJECTED', 'SETTLED') THEN
            RAISE EXCEPTION 'claim % is %: it changes no more', OLD.claim_no, lower(OLD.status)
                USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_closed_is_final';
        END IF;
        IF OLD.status <> 'DRAFT'
           AND ((NEW.complaint, NEW.cause, NEW.correction, NEW.pack_id, NEW.campaign_id, NEW.claimed_amount,
                 NEW.oem_claim_ref, NEW.submitted_on)
                IS DISTINCT FROM
                (OLD.complaint, OLD.cause, OLD.correction, OLD.pack_id, OLD.campaign_id, OLD.claimed_amount,
                 OLD.oem_claim_ref, OLD.submitted_on)
                OR NEW.status = OLD.status) THEN
            RAISE EXCEPTION 'claim % is submitted: what it claims is fixed', OLD.claim_no
                USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_submitted_fixed';
        END IF;
        IF OLD.status IN ('APPROVED', 'PARTLY_APPROVED')
           AND (NEW.decided_on, NEW.approved_amount, NEW.decision_reason)
               IS DISTINCT FROM (OLD.decided_on, OLD.approved_amount, OLD.decision_reason) THEN
            RAISE EXCEPTION 'claim %: the OEM''s decision is recorded once', OLD.claim_no
                USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_submitted_fixed';
        END IF;
        IF NEW.status <> OLD.status THEN
            IF NOT EXISTS (SELECT 1 FROM warranty.claim_transition
                            WHERE from_status = OLD.status AND to_status = NEW.status) THEN
                RAISE EXCEPTION 'a claim does not go from % to %', OLD.status, NEW.status
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_status_transition';
            END IF;
            IF NEW.status = 'SUBMITTED' AND NOT EXISTS (SELECT 1 FROM warranty.claim_line WHERE claim_id = NEW.claim_id) THEN
                RAISE EXCEPTION 'claim % has no lines to submit', OLD.claim_no
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_has_lines';
            END IF;
            IF NEW.status = 'APPROVED' THEN
                NEW.approved_amount := coalesce(NEW.approved_amount, NEW.claimed_amount);
                IF NEW.approved_amount <> NEW.claimed_amount THEN
                    RAISE EXCEPTION 'an approved claim is approved for what it claims (%), else partly', NEW.claimed_amount
                        USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_approved_in_full';
                END IF;
            END IF;
            NEW.status_changed_at := now();
        END IF;
    END IF;
    IF NEW.pack_id IS NOT NULL AND (TG_OP = 'INSERT' OR NEW.pack_id IS DISTINCT FROM OLD.pack_id)
       AND NOT EXISTS (SELECT 1 FROM service.vehicle_pack WHERE vehicle_id = NEW.vehicle_id AND pack_id = NEW.pack_id) THEN
        RAISE EXCEPTION 'pack % has not been in this vehicle', NEW.pack_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_pack_of_vehicle';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER claim_check BEFORE INSERT OR UPDATE ON warranty.claim
    FOR EACH ROW EXECUTE FUNCTION warranty.check_claim();

-- The branch's WC series of the day the claim is raised, after claim_check ("claim_n" sorts after it).
CREATE OR REPLACE FUNCTION warranty.number_claim() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.claim_no IS NULL THEN
        NEW.claim_no := master.next_document_no(NEW.branch_id, 'WC', NEW.raised_on);
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER claim_take_number BEFORE INSERT ON warranty.claim
    FOR EACH ROW EXECUTE FUNCTION warranty.number_claim();

-- Every move of a claim (and its creation) in its history.
CREATE OR REPLACE FUNCTION warranty.record_claim_status() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.status <> OLD.status THEN
        INSERT INTO warranty.claim_status_change (claim_id, from_status, to_status)
        VALUES (NEW.claim_id, CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END, NEW.status);
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER claim_status_recorded AFTER INSERT OR UPDATE OF status ON warranty.claim
    FOR EACH ROW EXECUTE FUNCTION warranty.record_claim_status();

CREATE OR REPLACE TRIGGER claim_is_never_deleted BEFORE DELETE ON warranty.claim
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

CREATE OR REPLACE TRIGGER claim_status_change_is_permanent BEFORE UPDATE OR DELETE ON warranty.claim_status_change
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- A claim's lines change only while it is a draft (the return of a failed part to the OEM is recorded
-- later, once). Labour: the operation's standard hours at the OEM's rate on the day the claim was
-- raised; a part: its purchase price. A job card's line is claimed once, from its own card, when the
-- customer does not pay for it. A pack on the line is one the vehicle has held; its serial is the pack's.
CREATE OR REPLACE FUNCTION warranty.check_claim_line() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    c warranty.claim;
    jl service.job_line;
    op master.labour_operation;
    pt master.part;
BEGIN
    SELECT * INTO c FROM warranty.claim
     WHERE claim_id = CASE WHEN TG_OP = 'DELETE' THEN OLD.claim_id ELSE NEW.claim_id END;
    IF TG_OP = 'UPDATE' AND c.status <> 'DRAFT'
       AND (to_jsonb(NEW) - 'returned_on' - 'return_ref' - 'amount') = (to_jsonb(OLD) - 'returned_on' - 'return_ref' - 'amount') THEN
        IF OLD.returned_on IS NOT NULL THEN
            RAISE EXCEPTION 'the return of % to the OEM is already recorded', OLD.failed_serial
                USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_line_returned_once';
        END IF;
        IF NEW.returned_on < c.raised_on THEN
            RAISE EXCEPTION 'a part is returned after its claim was raised'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_line_returned_after_claim';
        END IF;
        RETURN NEW;
    END IF;
    IF c.claim_id IS NULL OR c.status <> 'DRAFT' OR (TG_OP = 'UPDATE' AND NEW.claim_id <> OLD.claim_id) THEN
        RAISE EXCEPTION 'claim % is submitted: its lines are fixed', c.claim_no
            USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_line_claim_draft';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    IF NEW.returned_on IS NOT NULL THEN
        RAISE EXCEPTION 'a failed part goes back to the OEM once its claim is submitted'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_line_returned_after_claim';
    END IF;
    IF c.kind = 'FREE_SERVICE_LABOUR' AND NEW.kind <> 'LABOUR' THEN
        RAISE EXCEPTION 'a free-service claim is for labour only'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_line_free_service_labour';
    END IF;
    IF NEW.job_line_id IS NOT NULL THEN
        SELECT * INTO jl FROM service.job_line WHERE job_line_id = NEW.job_line_id;
        IF jl.job_card_id IS DISTINCT FROM c.job_card_id OR jl.coverage = 'CUSTOMER' OR jl.status = 'DECLINED'
           OR jl.operation_code IS DISTINCT FROM NEW.operation_code OR jl.part_id IS DISTINCT FROM NEW.part_id THEN
            RAISE EXCEPTION 'job line % is not a covered line of this claim''s job card', NEW.job_line_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_line_job_line';
        END IF;
    END IF;
    IF NEW.kind = 'LABOUR' THEN
        SELECT * INTO op FROM master.labour_operation WHERE operation_code = NEW.operation_code;
        NEW.hours := op.standard_hours;
        NEW.rate := warranty.labour_rate_on(c.oem_id, c.raised_on);
        IF NEW.rate IS NULL THEN
            RAISE EXCEPTION 'no warranty labour rate of this OEM on %', c.raised_on
                USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_line_oem_rate';
        END IF;
        NEW.description := coalesce(nullif(btrim(NEW.description), ''), op.name);
    ELSE
        SELECT * INTO pt FROM master.part WHERE part_id = NEW.part_id;
        NEW.unit_price := pt.purchase_price;
        NEW.description := coalesce(nullif(btrim(NEW.description), ''), pt.name);
        IF NEW.failed_pack_id IS NOT NULL THEN
            NEW.failed_serial := (SELECT serial FROM inventory.battery_pack WHERE pack_id = NEW.failed_pack_id);
        END IF;
        IF NEW.replacement_pack_id IS NOT NULL THEN
            NEW.replacement_serial := (SELECT serial FROM inventory.battery_pack WHERE pack_id = NEW.replacement_pack_id);
        END IF;
        IF EXISTS (SELECT 1 FROM unnest(ARRAY[NEW.failed_pack_id, NEW.replacement_pack_id]) p (pack_id)
                    WHERE p.pack_id IS NOT NULL
                      AND NOT EXISTS (SELECT 1 FROM service.vehicle_pack vp
                                       WHERE vp.vehicle_id = c.vehicle_id AND vp.pack_id = p.pack_id)) THEN
            RAISE EXCEPTION 'a pack on the claim has been in the claim''s vehicle'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_line_pack_of_vehicle';
        END IF;
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER claim_line_check BEFORE INSERT OR UPDATE OR DELETE ON warranty.claim_line
    FOR EACH ROW EXECUTE FUNCTION warranty.check_claim_line();

-- The claim's amount is the sum of its lines.
CREATE OR REPLACE FUNCTION warranty.keep_claimed_amount() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    id integer := CASE WHEN TG_OP = 'DELETE' THEN OLD.claim_id ELSE NEW.claim_id END;
BEGIN
    UPDATE warranty.claim c
       SET claimed_amount = (SELECT coalesce(sum(amount), 0) FROM warranty.claim_line l WHERE l.claim_id = id)
     WHERE c.claim_id = id AND c.status = 'DRAFT';
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER claim_line_amount_kept AFTER INSERT OR DELETE OR UPDATE OF qty, hours, rate, unit_price
    ON warranty.claim_line FOR EACH ROW EXECUTE FUNCTION warranty.keep_claimed_amount();

-- Evidence is chosen while the claim is a draft, from the claim's vehicle: its packs' readings and
-- the photos of its job cards.
CREATE OR REPLACE FUNCTION warranty.check_claim_evidence() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    c warranty.claim;
BEGIN
    SELECT * INTO c FROM warranty.claim WHERE claim_id = CASE WHEN TG_OP = 'DELETE' THEN OLD.claim_id ELSE NEW.claim_id END;
    IF c.claim_id IS NULL OR c.status <> 'DRAFT' OR TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'claim % is submitted: its evidence is fixed', c.claim_no
            USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_evidence_claim_draft';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM service.battery_reading r JOIN service.job_card j USING (job_card_id)
                    WHERE r.reading_id = NEW.reading_id AND j.vehicle_id = c.vehicle_id)
       AND NOT EXISTS (SELECT 1 FROM service.job_photo p JOIN service.job_card j USING (job_card_id)
                        WHERE p.photo_id = NEW.photo_id AND j.vehicle_id = c.vehicle_id) THEN
        RAISE EXCEPTION 'evidence is the claim''s vehicle''s own'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'claim_evidence_of_vehicle';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER claim_evidence_check BEFORE INSERT OR UPDATE OR DELETE ON warranty.claim_evidence
    FOR EACH ROW EXECUTE FUNCTION warranty.check_claim_evidence();

-- A battery pack swapped under warranty on an open job card, on a day: the old pack (fitted in the
-- card's vehicle now) comes out and the pack with the new serial (registered when first seen, with
-- the variant's chemistry and kWh) goes in, through the unit's battery history for a vehicle sold
-- here and service.pack_fitment for one sold elsewhere (whose rules hold: one vehicle at a time). The
-- old pack is the failed part of the card's BATTERY claim (the draft one, else a new one with the
-- given key), priced as the part p_part_id. The new pack's cover follows the replacement rule: it is
-- fitted the day the old one is removed (service.api's pack history links them so).
-- Returns the claim.
CREATE OR REPLACE FUNCTION warranty.swap_pack(p_job_card_id integer, p_old_pack_id integer, p_new_serial text,
                                              p_part_id integer, p_on date, p_key uuid) RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    card service.job_card;
    veh service.vehicle;
    old_serial text;
    new_pack integer;
    note text;
    claim integer;
BEGIN
    SELECT * INTO card FROM service.job_card WHERE job_card_id = p_job_card_id;
    IF NOT FOUND OR card.state IN ('DELIVERED', 'CANCELLED') THEN
        RAISE EXCEPTION 'a pack is swapped on an open job card'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'pack_swap_card_open';
    END IF;
    SELECT * INTO veh FROM service.vehicle WHERE vehicle_id = card.vehicle_id FOR UPDATE;
    SELECT serial INTO old_serial FROM service.vehicle_pack
     WHERE vehicle_id = veh.vehicle_id AND pack_id = p_old_pack_id AND removed_on IS NULL;
    IF old_serial IS NULL THEN
        RAISE EXCEPTION 'pack % is not in this vehicle now', p_old_pack_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'pack_swap_old_pack_fitted';
    END IF;
    IF p_new_serial = old_serial THEN
        RAISE EXCEPTION 'the new pack is another pack than the failed one'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'pack_swap_same_pack';
    END IF;
    SELECT pack_id INTO new_pack FROM inventory.battery_pack WHERE serial = p_new_serial FOR UPDATE;
    IF new_pack IS NULL THEN
        INSERT INTO inventory.battery_pack (serial, chemistry, kwh)
        SELECT p_new_serial, v.battery_chemistry, v.battery_kwh FROM oem.variant v WHERE v.variant_id = veh.variant_id
        RETURNING pack_id INTO new_pack;
    END IF;
    note := 'Warranty replacement of ' || old_serial || ' on job card ' || card.job_card_no;
    IF veh.unit_id IS NOT NULL THEN
        UPDATE inventory.battery_fitment SET removed_on = p_on
         WHERE unit_id = veh.unit_id AND pack_id = p_old_pack_id AND removed_on IS NULL;
        INSERT INTO inventory.battery_fitment (pack_id, unit_id, fitted_on, reason)
        VALUES (new_pack, veh.unit_id, p_on, note);
    ELSE
        UPDATE service.pack_fitment SET removed_on = p_on
         WHERE vehicle_id = veh.vehicle_id AND pack_id = p_old_pack_id AND removed_on IS NULL;
        INSERT INTO service.pack_fitment (pack_id, vehicle_id, fitted_on, reason)
        VALUES (new_pack, veh.vehicle_id, p_on, note);
    END IF;
    SELECT claim_id INTO claim FROM warranty.claim
     WHERE job_card_id = card.job_card_id AND kind = 'BATTERY' AND status = 'DRAFT'
     ORDER BY claim_id LIMIT 1;
    IF claim IS NULL THEN
        INSERT INTO warranty.claim (branch_id, kind, job_card_id, vehicle_id, pack_id, complaint, raised_on,
                                    idempotency_key)
        VALUES (card.branch_id, 'BATTERY', card.job_card_id, veh.vehicle_id, p_old_pack_id, left(card.complaints, 1000),
                p_on, p_key)
        RETURNING claim_id INTO claim;
    END IF;
    INSERT INTO warranty.claim_line (claim_id, kind, part_id, qty, unit_price, description, failed_pack_id,
                                     replacement_pack_id)
    VALUES (claim, 'PART', p_part_id, 1, 0, 'Battery pack ' || old_serial || ' replaced by ' || p_new_serial,
            p_old_pack_id, new_pack);
    RETURN claim;
END
$$;
