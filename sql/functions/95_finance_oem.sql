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

-- ---------------------------------------------------------------------------
-- finance.oem_pending_day (sql/0058): what the OEM still owes per branch, source and the day its age
-- runs from, for the home screen's dues by age. A claim's share (or NULL when nothing of it is
-- pending; sql/0058 made these first, for its backfill):
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION finance.subsidy_pending(c sales.subsidy_claim) RETURNS finance.oem_pending_day
LANGUAGE sql IMMUTABLE
AS $$
    SELECT ROW(c.branch_id, 'SUBSIDY', coalesce(c.claim_raised_on, c.listed_on), 1, c.eligible_amount)::finance.oem_pending_day
     WHERE c.credited_on IS NULL AND NOT c.booking_cancelled
$$;

CREATE OR REPLACE FUNCTION finance.claim_pending(c warranty.claim) RETURNS finance.oem_pending_day
LANGUAGE sql IMMUTABLE
AS $$
    SELECT ROW(c.branch_id, CASE WHEN c.kind = 'FREE_SERVICE_LABOUR' THEN 'FREE_SERVICE' ELSE 'WARRANTY' END,
               coalesce(c.submitted_on, c.raised_on), 1,
               coalesce(CASE WHEN c.status IN ('DRAFT', 'SUBMITTED') THEN c.claimed_amount ELSE c.approved_amount END, 0)
           )::finance.oem_pending_day
     WHERE c.status IN ('DRAFT', 'SUBMITTED', 'APPROVED', 'PARTLY_APPROVED')
$$;

CREATE OR REPLACE FUNCTION finance.oem_pending_live() RETURNS SETOF finance.oem_pending_day
LANGUAGE sql STABLE
AS $$
    SELECT p.branch_id, p.source, p.since, sum(p.claims)::integer, sum(p.amount)
      FROM (SELECT d.* FROM sales.subsidy_claim sc CROSS JOIN LATERAL finance.subsidy_pending(sc) d
            UNION ALL
            SELECT d.* FROM warranty.claim c CROSS JOIN LATERAL finance.claim_pending(c) d) p
     WHERE p.claims IS NOT NULL
     GROUP BY p.branch_id, p.source, p.since
$$;

CREATE OR REPLACE FUNCTION finance.rebuild_oem_pending() RETURNS void
LANGUAGE sql
AS $$
    DELETE FROM finance.oem_pending_day;
    INSERT INTO finance.oem_pending_day SELECT * FROM finance.oem_pending_live();
$$;

-- A claim added, changed or deleted: its old share taken out (a day left with nothing pending loses its
-- row), its new share put in. SECURITY DEFINER as the books' monthly totals: it writes only the claim's share.
CREATE OR REPLACE FUNCTION finance.keep_oem_pending() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    was finance.oem_pending_day;
    now_due finance.oem_pending_day;
BEGIN
    IF TG_TABLE_NAME = 'subsidy_claim' THEN
        IF TG_OP <> 'INSERT' THEN was := finance.subsidy_pending(OLD); END IF;
        IF TG_OP <> 'DELETE' THEN now_due := finance.subsidy_pending(NEW); END IF;
    ELSE
        IF TG_OP <> 'INSERT' THEN was := finance.claim_pending(OLD); END IF;
        IF TG_OP <> 'DELETE' THEN now_due := finance.claim_pending(NEW); END IF;
    END IF;
    IF was IS NOT DISTINCT FROM now_due THEN
        RETURN NULL;
    END IF;
    IF was.claims IS NOT NULL THEN
        UPDATE finance.oem_pending_day d SET claims = d.claims - 1, amount = d.amount - was.amount
         WHERE (d.branch_id, d.source, d.since) = (was.branch_id, was.source, was.since) AND d.claims > 1;
        IF NOT FOUND THEN
            DELETE FROM finance.oem_pending_day d
             WHERE (d.branch_id, d.source, d.since) = (was.branch_id, was.source, was.since);
        END IF;
    END IF;
    IF now_due.claims IS NOT NULL THEN
        INSERT INTO finance.oem_pending_day AS d
        VALUES (now_due.branch_id, now_due.source, now_due.since, 1, now_due.amount)
        ON CONFLICT (branch_id, source, since)
        DO UPDATE SET claims = d.claims + 1, amount = d.amount + EXCLUDED.amount;
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER subsidy_claim_pending AFTER INSERT OR UPDATE OR DELETE ON sales.subsidy_claim
    FOR EACH ROW EXECUTE FUNCTION finance.keep_oem_pending();
CREATE OR REPLACE TRIGGER claim_pending AFTER INSERT OR UPDATE OR DELETE ON warranty.claim
    FOR EACH ROW EXECUTE FUNCTION finance.keep_oem_pending();

-- Where the kept dues differ from the claims (nothing, unless someone wrote them by hand).
CREATE OR REPLACE FUNCTION finance.oem_pending_drift()
RETURNS TABLE (branch_id integer, source text, since date, kept jsonb, claims jsonb)
LANGUAGE sql STABLE
AS $$
    SELECT coalesce(k.branch_id, l.branch_id), coalesce(k.source, l.source), coalesce(k.since, l.since),
           to_jsonb(k), to_jsonb(l)
      FROM finance.oem_pending_day k
      FULL JOIN finance.oem_pending_live() l
        ON (l.branch_id, l.source, l.since) = (k.branch_id, k.source, k.since)
     WHERE k IS DISTINCT FROM l
$$;
