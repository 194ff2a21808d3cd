-- The insurance schema's functions, triggers and views as they are now: init-db runs this file
-- again whenever it changes (webapp/migrations.py), after the numbered migrations. A fix to one of
-- them is an edit here, never a new numbered file (docs/ARCHITECTURE.md, "Database rules live
-- in PostgreSQL").

-- A policy sold with a booking covers that booking's unit and customer.
CREATE OR REPLACE FUNCTION insurance.check_policy() RETURNS trigger
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

CREATE OR REPLACE TRIGGER policy_check BEFORE INSERT OR UPDATE OF booking_id, unit_id, customer_id ON insurance.policy
    FOR EACH ROW EXECUTE FUNCTION insurance.check_policy();
