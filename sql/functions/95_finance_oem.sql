-- OEM receivables (webapp/finance/receivable_queries.py): a PM E-DRIVE subsidy claim carries the OEM
-- it is owed by (sales.subsidy_claim.oem_id, sql/0050), the maker of its booking's model, kept here.

CREATE OR REPLACE FUNCTION finance.subsidy_claim_oem_of(p_booking_id integer) RETURNS integer
LANGUAGE sql STABLE
AS $$
    SELECT m.oem_id
      FROM sales.booking b
      JOIN oem.variant v ON v.variant_id = b.variant_id
      JOIN oem.model m ON m.model_id = v.model_id
     WHERE b.booking_id = p_booking_id
$$;

-- A claim added, or its booking or OEM written by anyone: the OEM is taken from the booking.
CREATE OR REPLACE FUNCTION finance.set_subsidy_claim_oem() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    NEW.oem_id := finance.subsidy_claim_oem_of(NEW.booking_id);
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER subsidy_claim_oem BEFORE INSERT OR UPDATE OF booking_id, oem_id ON sales.subsidy_claim
    FOR EACH ROW EXECUTE FUNCTION finance.set_subsidy_claim_oem();

-- A booking moved to another variant (before its scooter is allotted): its claim follows the maker.
CREATE OR REPLACE FUNCTION finance.subsidy_claim_follows_variant() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    UPDATE sales.subsidy_claim SET oem_id = finance.subsidy_claim_oem_of(NEW.booking_id)
     WHERE booking_id = NEW.booking_id AND oem_id IS DISTINCT FROM finance.subsidy_claim_oem_of(NEW.booking_id);
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER booking_variant_moves_subsidy_oem AFTER UPDATE OF variant_id ON sales.booking
    FOR EACH ROW WHEN (OLD.variant_id IS DISTINCT FROM NEW.variant_id)
    EXECUTE FUNCTION finance.subsidy_claim_follows_variant();
