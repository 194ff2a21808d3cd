-- CRM: test rides on a demo unit (inventory status DEMO). The customer's driving licence number and
-- its expiry are recorded; an expired licence is refused. Out and in: time and odometer; feedback.
-- A demo unit is out on one ride at a time (the partial unique index), and a unit out on a ride
-- is neither allotted to a booking nor taken back into stock (triggers in sql/functions/93_crm.sql).
CREATE TABLE crm.test_ride (
    test_ride_id    integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    lead_id         integer NOT NULL REFERENCES crm.lead (lead_id),
    branch_id       integer NOT NULL REFERENCES master.branch (branch_id),
    unit_id         integer NOT NULL REFERENCES inventory.vehicle_unit (unit_id),
    licence_no      text NOT NULL CHECK (licence_no ~ '^[A-Z0-9 -]{8,20}$'),
    licence_valid_until date NOT NULL,
    ride_on         date NOT NULL,      -- the day it went out (India time), set by trigger from out_at
    out_at          timestamptz NOT NULL DEFAULT now(),
    odometer_out    integer NOT NULL CHECK (odometer_out BETWEEN 0 AND 999999),
    in_at           timestamptz,
    odometer_in     integer CHECK (odometer_in BETWEEN 0 AND 999999),
    feedback        text CHECK (length(btrim(feedback)) BETWEEN 2 AND 500),
    rating          smallint CHECK (rating BETWEEN 1 AND 5),
    staff_id        integer NOT NULL REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    CONSTRAINT test_ride_licence_valid CHECK (licence_valid_until >= ride_on),
    CONSTRAINT test_ride_returned CHECK ((in_at IS NULL) = (odometer_in IS NULL)),
    CONSTRAINT test_ride_in_after_out CHECK (in_at IS NULL OR in_at >= out_at),
    CONSTRAINT test_ride_odometer_forward CHECK (odometer_in IS NULL OR odometer_in >= odometer_out)
);
-- One ride at a time per demo unit.
CREATE UNIQUE INDEX test_ride_unit_out_once ON crm.test_ride (unit_id) WHERE in_at IS NULL;
CREATE INDEX test_ride_lead_idx ON crm.test_ride (lead_id);
CREATE INDEX test_ride_branch_day_idx ON crm.test_ride (branch_id, ride_on);
SELECT audit.track('crm.test_ride', 'test_ride_id');

ALTER TABLE crm.test_ride ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_branch ON crm.test_ride USING (platform.branch_visible(branch_id))
    WITH CHECK (platform.branch_visible(branch_id));
