-- Service workshop (issue 12): a job card billed again after its bill is corrected by a credit note,
-- and the free service used at another branch said plainly.
--
-- * service.job_card_bill: every bill a job card has had, in the order it was made (one row per
--   service invoice or job sheet, an invoice bills one card ever). service.job_card.invoice_id stays
--   the card's bill in force: set once, when the card is billed; a credit note reversing that bill in
--   full (billing.credit_note, its amounts those of the invoice) takes it off an open card in the
--   same transaction, so the card's work may be corrected and the card billed again, on a new
--   invoice; the gate pass then asks about that new bill (paid in full, or released on credit). A
--   bill credited only in part keeps the card billed. The card's bills and their credit notes stay
--   in the history. A card already delivered keeps its bill: the vehicle left on it.
-- * service.free_services_used(vehicle): the free services a vehicle has used at any branch, with the
--   day, the branch and the job card number, and nothing else. Job cards are under their branch's
--   row-level security, the unique index job_card_free_service_once_idx sees them all: this function
--   (SECURITY DEFINER, run as the tables' owner) lets the check of a free service and the screens
--   name the visit that used it ("free service 1 was used on 03-04-2026 at Volt EV Mysuru, job card
--   MYSJC/26/4") instead of a generic refusal or, worse, offering it again.
--
-- The functions and triggers below are also in sql/functions/91_service.sql ("The card's bills"), which
-- holds their current definitions.

CREATE TABLE service.job_card_bill (
    job_card_bill_id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_card_id      integer NOT NULL REFERENCES service.job_card (job_card_id),
    invoice_id       integer NOT NULL CONSTRAINT job_card_bill_invoice_once UNIQUE REFERENCES billing.invoice (invoice_id),
    billed_at        timestamptz NOT NULL DEFAULT now(),
    recorded_by      integer REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id()
);
CREATE INDEX job_card_bill_card_idx ON service.job_card_bill (job_card_id, billed_at);
SELECT audit.track('service.job_card_bill', 'job_card_bill_id');

-- The bills of the cards billed so far.
INSERT INTO service.job_card_bill (job_card_id, invoice_id, billed_at, recorded_by)
SELECT j.job_card_id, j.invoice_id, i.posted_at, i.posted_by
  FROM service.job_card j JOIN billing.invoice i ON i.invoice_id = j.invoice_id
 ORDER BY j.job_card_id;

-- Is this invoice reversed in full by a credit note (its total and TCS all credited)?
CREATE OR REPLACE FUNCTION service.bill_fully_credited(p_invoice_id integer) RETURNS boolean
LANGUAGE sql STABLE
AS $$
    SELECT EXISTS (SELECT 1 FROM billing.credit_note cn JOIN billing.invoice i ON i.invoice_id = cn.invoice_id
                    WHERE cn.invoice_id = p_invoice_id
                      AND cn.grand_total + cn.tcs_amount >= i.grand_total + i.tcs_amount)
$$;

-- The card's bill: set once, on a READY card whose customer-paid work is all approved, to a service
-- invoice or job sheet no credit note has touched; after that the card's work does not change (it is
-- billed) until a credit note reverses that bill in full (service.credit_note_frees_card).
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
    IF EXISTS (SELECT 1 FROM billing.credit_note WHERE invoice_id = NEW.invoice_id) THEN
        RAISE EXCEPTION 'invoice % is reversed by a credit note: bill the card on a new invoice', NEW.invoice_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'job_card_invoice_credited';
    END IF;
    RETURN NEW;
END
$$;

-- Every bill the card is given goes into its history (an invoice bills one card ever:
-- job_card_bill_invoice_once).
CREATE OR REPLACE FUNCTION service.card_billed() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.invoice_id IS DISTINCT FROM OLD.invoice_id THEN
        INSERT INTO service.job_card_bill (job_card_id, invoice_id) VALUES (NEW.job_card_id, NEW.invoice_id);
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER job_card_bill_recorded AFTER INSERT OR UPDATE OF invoice_id ON service.job_card
    FOR EACH ROW WHEN (NEW.invoice_id IS NOT NULL) EXECUTE FUNCTION service.card_billed();

CREATE OR REPLACE TRIGGER job_card_bill_is_permanent BEFORE UPDATE OR DELETE ON service.job_card_bill
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- A credit note reversing an open card's bill in full takes the bill off the card: its work may be
-- corrected and it is billed again. A delivered (or cancelled) card keeps its bill.
CREATE OR REPLACE FUNCTION service.credit_note_frees_card() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF service.bill_fully_credited(NEW.invoice_id) THEN
        UPDATE service.job_card SET invoice_id = NULL
         WHERE invoice_id = NEW.invoice_id AND state NOT IN ('DELIVERED', 'CANCELLED');
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER credit_note_frees_job_card AFTER INSERT ON billing.credit_note
    FOR EACH ROW EXECUTE FUNCTION service.credit_note_frees_card();

-- The free services a vehicle has used (its job cards of type FREE_SERVICE not cancelled) at any
-- branch: which one, the day its card was opened (in India), the branch and the card's number, and
-- nothing more of another branch's card. p_except_job_card_id leaves out the card being checked.
CREATE OR REPLACE FUNCTION service.free_services_used(p_vehicle_id integer, p_except_job_card_id integer DEFAULT NULL)
RETURNS TABLE (free_service_no smallint, used_on date, branch_name text, job_card_no text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT j.free_service_no, (j.opened_at AT TIME ZONE 'Asia/Kolkata')::date,
           coalesce(b.trade_name, b.legal_name), j.job_card_no
      FROM service.job_card j JOIN master.branch b ON b.branch_id = j.branch_id
     WHERE j.vehicle_id = p_vehicle_id AND j.service_type = 'FREE_SERVICE' AND j.state <> 'CANCELLED'
       AND j.job_card_id IS DISTINCT FROM p_except_job_card_id
     ORDER BY j.free_service_no, j.opened_at
$$;
-- Run as the owner: only the app role (granted EXECUTE on every function by init-db) calls it.
REVOKE EXECUTE ON FUNCTION service.free_services_used(integer, integer) FROM PUBLIC;

-- A free service is taken only when the model's schedule says it is the one due on the day the
-- card is opened at its odometer (months and km from the sale, whichever first: warranty.free_services)
-- and never twice for a vehicle, at whichever branch it was used (service.free_services_used reads
-- every branch's cards; job_card_free_service_once_idx holds it against a race).
CREATE OR REPLACE FUNCTION service.check_free_service() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    v record;
    fs record;
    used record;
BEGIN
    SELECT sv.sale_date, va.model_id INTO v
      FROM service.vehicle sv JOIN oem.variant va ON va.variant_id = sv.variant_id
     WHERE sv.vehicle_id = NEW.vehicle_id;
    SELECT * INTO fs FROM warranty.free_services(v.model_id, v.sale_date, (NEW.opened_at AT TIME ZONE 'Asia/Kolkata')::date,
                                                 NEW.odometer_km,
                                                 ARRAY(SELECT u.free_service_no
                                                         FROM service.free_services_used(NEW.vehicle_id, NEW.job_card_id) u))
     WHERE service_no = NEW.free_service_no;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the model has no free service %', NEW.free_service_no
            USING ERRCODE = 'check_violation', CONSTRAINT = 'job_card_free_service_in_schedule';
    ELSIF fs.state = 'USED' THEN
        SELECT * INTO used FROM service.free_services_used(NEW.vehicle_id, NEW.job_card_id) u
         WHERE u.free_service_no = NEW.free_service_no LIMIT 1;
        RAISE EXCEPTION 'free service % was already used on this vehicle on % at % (job card %)', NEW.free_service_no,
            to_char(used.used_on, 'DD-MM-YYYY'), used.branch_name, used.job_card_no
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

-- The next service of a vehicle after a visit on p_on at p_km: the next free service of the model's
-- schedule not used (at any branch) and not expired, else the paid interval on the day. Its km as
-- scheduled; its date the earlier of the schedule's and the day the vehicle reaches those km at its
-- average daily km (its readings since the sale, counted from 0 km on the sale date).
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
                                  ARRAY(SELECT u.free_service_no FROM service.free_services_used(p_vehicle_id) u)) f
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
