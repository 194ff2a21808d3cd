-- The subsidy claims register (/sales/subsidy-claims) on five years of data (issue 11).
--
-- The register lists a branch's claims whose booking is not cancelled, oldest sale first (the
-- invoice date, else the booking date), with the count and the amounts of all of them. It read
-- every claim of the branch through sales.booking and billing.invoice, whose row-level security
-- runs per row: 55 ms for 29,100 claims, 71 ms with a search. The claim now carries what the
-- register selects, orders and searches by, as its booking has it: the branch, the booking number
-- (fixed for life), whether the booking is cancelled, and the date it is listed under. The
-- triggers below (kept in sql/functions/70_sales.sql from now on) write them from the booking
-- whenever a claim is added or its booking changes stage, invoice or date, so nobody sets them by
-- hand; the register reads its page and its totals from the claims alone (one index gives its
-- order) and joins the booking, customer and invoice for the page's rows only.
ALTER TABLE sales.subsidy_claim
    ADD COLUMN branch_id integer REFERENCES master.branch (branch_id),
    ADD COLUMN booking_no text,
    ADD COLUMN booking_cancelled boolean,
    ADD COLUMN listed_on date;

-- They change with the booking, whose own audit rows say how: the claim's audit rows leave them out.
DROP TRIGGER audit_log_change ON sales.subsidy_claim;
SELECT audit.track('sales.subsidy_claim', 'booking_id', '', 'branch_id,booking_no,booking_cancelled,listed_on');

-- What a subsidy claim is listed by in the register: its booking's branch and number, whether the
-- booking is cancelled, and the date of the sale (its invoice's date once invoiced, else the day
-- it was booked). The booking is one the caller can see (a claim is reached through it); so is its
-- invoice, of the same branch.
CREATE FUNCTION sales.subsidy_claim_listing(
    p_booking_id integer, OUT branch_id integer, OUT booking_no text, OUT booking_cancelled boolean, OUT listed_on date)
LANGUAGE sql STABLE
AS $$
    SELECT b.branch_id, b.booking_no, b.stage = 'CANCELLED', coalesce(i.invoice_date, b.booked_on)
      FROM sales.booking b
      LEFT JOIN billing.invoice i ON i.invoice_id = b.invoice_id
     WHERE b.booking_id = p_booking_id
$$;

UPDATE sales.subsidy_claim sc
   SET (branch_id, booking_no, booking_cancelled, listed_on) =
       (SELECT l.branch_id, l.booking_no, l.booking_cancelled, l.listed_on
          FROM sales.subsidy_claim_listing(sc.booking_id) l);

ALTER TABLE sales.subsidy_claim
    ALTER COLUMN branch_id SET NOT NULL,
    ALTER COLUMN booking_no SET NOT NULL,
    ALTER COLUMN booking_cancelled SET NOT NULL,
    ALTER COLUMN listed_on SET NOT NULL;

-- The register in its order, with every column its step filters and totals read: the page comes
-- from this index alone, as far as its last row; the count and sums may too (the planner may as well
-- read the table, 1.7 MB for five years' claims).
CREATE INDEX subsidy_claim_register_idx ON sales.subsidy_claim (branch_id, listed_on, booking_id)
    INCLUDE (eligible_amount, credited_amount, voucher_id, buyer_signed_on, dealer_uploaded_on, claim_raised_on,
             credited_on)
    WHERE NOT booking_cancelled;
ANALYZE sales.subsidy_claim;

-- A claim added, or its listing columns written by anyone: they are taken from its booking.
CREATE FUNCTION sales.list_subsidy_claim() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    SELECT l.branch_id, l.booking_no, l.booking_cancelled, l.listed_on
      INTO NEW.branch_id, NEW.booking_no, NEW.booking_cancelled, NEW.listed_on
      FROM sales.subsidy_claim_listing(NEW.booking_id) l;
    RETURN NEW;
END
$$;

CREATE TRIGGER subsidy_claim_listed
    BEFORE INSERT OR UPDATE OF booking_id, branch_id, booking_no, booking_cancelled, listed_on ON sales.subsidy_claim
    FOR EACH ROW EXECUTE FUNCTION sales.list_subsidy_claim();

-- A booking cancelled, invoiced (or its invoice reversed by a credit note) or moved to another
-- date: its claim is listed again. (A booking keeps its number and branch: booking_number_fixed.)
CREATE FUNCTION sales.relist_subsidy_claim() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    UPDATE sales.subsidy_claim sc
       SET (branch_id, booking_no, booking_cancelled, listed_on) =
           (SELECT l.branch_id, l.booking_no, l.booking_cancelled, l.listed_on
              FROM sales.subsidy_claim_listing(NEW.booking_id) l)
     WHERE sc.booking_id = NEW.booking_id;
    RETURN NULL;
END
$$;

CREATE TRIGGER booking_relists_subsidy_claim AFTER UPDATE OF stage, invoice_id, booked_on ON sales.booking
    FOR EACH ROW
    WHEN (OLD.stage IS DISTINCT FROM NEW.stage OR OLD.invoice_id IS DISTINCT FROM NEW.invoice_id
          OR OLD.booked_on IS DISTINCT FROM NEW.booked_on)
    EXECUTE FUNCTION sales.relist_subsidy_claim();

-- The claim carries its branch, so it is under the branch's row-level security itself (the register
-- reads claims without their booking). The policy takes the visible branches once per statement
-- (platform.visible_branch_ids, kept in sql/functions/10_platform.sql from now on): a per-row
-- branch_visible() would cost the register's count and sums what the index saves.
CREATE OR REPLACE FUNCTION platform.visible_branch_ids() RETURNS integer[]
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN coalesce(current_setting('erp.all_branches', true), '') = 'on'
                  OR (coalesce(current_setting('erp.branch_id', true), '') = '' AND platform.acting_as_owner())
                THEN (SELECT coalesce(array_agg(branch_id), '{}') FROM master.branch)
                ELSE coalesce(ARRAY[nullif(current_setting('erp.branch_id', true), '')::integer], '{}') END
$$;

ALTER TABLE sales.subsidy_claim ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_branch ON sales.subsidy_claim
    USING (branch_id = ANY ((SELECT platform.visible_branch_ids())::integer[]))
    WITH CHECK (platform.branch_visible(branch_id));
