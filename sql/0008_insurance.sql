-- Insurance: the policy sold with a vehicle, its two validity periods (own damage and third
-- party), and the commission receivable; the renewal list reads the expiry dates.

CREATE SCHEMA insurance;

CREATE TABLE insurance.policy (
    policy_id        integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    branch_id        integer NOT NULL REFERENCES master.branch (branch_id),
    booking_id       integer REFERENCES sales.booking (booking_id),
    unit_id          integer NOT NULL REFERENCES inventory.vehicle_unit (unit_id),
    customer_id      integer NOT NULL REFERENCES master.customer (customer_id),
    insurer_id       integer NOT NULL REFERENCES master.insurer (insurer_id),
    od_policy_no     text CHECK (od_policy_no ~ '^[A-Za-z0-9/-]{4,40}$'),
    od_from          date,
    od_to            date,
    tp_policy_no     text CHECK (tp_policy_no ~ '^[A-Za-z0-9/-]{4,40}$'),
    tp_from          date,
    tp_to            date,
    premium          numeric(12,2) NOT NULL CHECK (premium > 0),
    idv              numeric(12,2) CHECK (idv >= 0),
    nominee_name     text CHECK (length(btrim(nominee_name)) BETWEEN 2 AND 120),
    nominee_relation text CHECK (length(btrim(nominee_relation)) BETWEEN 2 AND 40),
    commission_amount numeric(12,2) NOT NULL DEFAULT 0 CHECK (commission_amount >= 0),
    commission_received_on date,
    created_by       integer REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    created_at       timestamptz NOT NULL DEFAULT now(),
    -- The earliest expiry: when the renewal reminder is due.
    next_expiry      date GENERATED ALWAYS AS (least(od_to, tp_to)) STORED,
    CONSTRAINT policy_od_complete CHECK (
        (od_policy_no IS NULL) = (od_from IS NULL) AND (od_from IS NULL) = (od_to IS NULL)),
    CONSTRAINT policy_tp_complete CHECK (
        (tp_policy_no IS NULL) = (tp_from IS NULL) AND (tp_from IS NULL) = (tp_to IS NULL)),
    CONSTRAINT policy_has_cover CHECK (od_policy_no IS NOT NULL OR tp_policy_no IS NOT NULL),
    CONSTRAINT policy_od_period CHECK (od_to > od_from AND od_to <= od_from + interval '5 years'),
    CONSTRAINT policy_tp_period CHECK (tp_to > tp_from AND tp_to <= tp_from + interval '5 years'),
    CONSTRAINT policy_commission_received CHECK (commission_received_on IS NULL OR commission_amount > 0),
    CONSTRAINT policy_nominee CHECK ((nominee_name IS NULL) = (nominee_relation IS NULL))
);
CREATE UNIQUE INDEX policy_od_no_idx ON insurance.policy (insurer_id, od_policy_no) WHERE od_policy_no IS NOT NULL;
CREATE INDEX policy_unit_idx ON insurance.policy (unit_id);
CREATE INDEX policy_booking_idx ON insurance.policy (booking_id);
CREATE INDEX policy_od_to_idx ON insurance.policy (branch_id, od_to);
CREATE INDEX policy_tp_to_idx ON insurance.policy (branch_id, tp_to);
SELECT audit.track('insurance.policy', 'policy_id');

-- A policy sold with a booking covers that booking's unit and customer.
CREATE FUNCTION insurance.check_policy() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.booking_id IS NOT NULL AND NOT EXISTS (
           SELECT 1 FROM sales.booking b JOIN sales.allotment a ON a.booking_id = b.booking_id AND a.released_at IS NULL
            WHERE b.booking_id = NEW.booking_id AND a.unit_id = NEW.unit_id AND b.customer_id = NEW.customer_id) THEN
        RAISE EXCEPTION 'the policy must cover the unit allotted to the booking and its customer'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'policy_matches_booking';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER policy_check BEFORE INSERT OR UPDATE OF booking_id, unit_id, customer_id ON insurance.policy
    FOR EACH ROW EXECUTE FUNCTION insurance.check_policy();
