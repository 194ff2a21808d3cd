-- A unit or booking id that does not exist (a form sent with an id not in its list, or a unit
-- another branch holds) is refused as the foreign key it is, not with "query returned no rows"
-- (SELECT ... INTO STRICT), which no form could show next to its field.

CREATE OR REPLACE FUNCTION sales.allot_unit() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    u inventory.vehicle_unit;
    b sales.booking;
BEGIN
    SELECT * INTO b FROM sales.booking WHERE booking_id = NEW.booking_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'booking % does not exist', NEW.booking_id
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'allotment_booking_id_fkey';
    END IF;
    SELECT * INTO u FROM inventory.vehicle_unit WHERE unit_id = NEW.unit_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unit % does not exist', NEW.unit_id
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'allotment_unit_id_fkey';
    END IF;
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
