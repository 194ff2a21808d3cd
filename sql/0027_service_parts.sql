-- Service workshop, the work on a job card: who finished each line and when, the parts issued to
-- a part line and returned from it (through the stock ledger, in the same transaction), what is
-- issued kept on the line for the invoice, and requests to purchasing for parts not in stock.
-- The functions and triggers below are also in sql/functions/91_service.sql ("Estimate, approval
-- and parts issued to a job card"), which holds their current definitions.

-- ---------------------------------------------------------------------------
-- Unused parts come back to stock from the job card they were issued to.
-- ---------------------------------------------------------------------------
ALTER TABLE inventory.stock_move DROP CONSTRAINT stock_move_kind_check;
ALTER TABLE inventory.stock_move ADD CONSTRAINT stock_move_kind_check CHECK (kind IN (
    'OPENING', 'RECEIPT', 'ISSUE_JOB', 'COUNTER_SALE', 'TRANSFER_OUT', 'TRANSFER_IN', 'ADJUSTMENT',
    'RETURN_TO_OEM', 'SALES_RETURN', 'RETURN_JOB'));
ALTER TABLE inventory.stock_move DROP CONSTRAINT stock_move_direction;
ALTER TABLE inventory.stock_move ADD CONSTRAINT stock_move_direction CHECK (
    (kind IN ('OPENING', 'RECEIPT', 'TRANSFER_IN', 'SALES_RETURN', 'RETURN_JOB') AND qty > 0)
    OR (kind IN ('ISSUE_JOB', 'COUNTER_SALE', 'TRANSFER_OUT', 'RETURN_TO_OEM') AND qty < 0)
    OR kind = 'ADJUSTMENT');

-- ---------------------------------------------------------------------------
-- The work lines: what has been issued to a part line (kept by the issue trigger: the invoice
-- bills it), and who marked a line done.
-- ---------------------------------------------------------------------------
ALTER TABLE service.job_line
    ADD COLUMN issued_qty numeric(12,3) NOT NULL DEFAULT 0,
    ADD COLUMN done_by    integer REFERENCES master.staff (staff_id),
    ADD COLUMN done_at    timestamptz,
    ADD CONSTRAINT job_line_issued_within CHECK (issued_qty >= 0 AND issued_qty <= qty),
    ADD CONSTRAINT job_line_labour_issues_nothing CHECK (part_id IS NOT NULL OR issued_qty = 0),
    ADD CONSTRAINT job_line_done_dated CHECK ((status = 'DONE') = (done_at IS NOT NULL));

-- ---------------------------------------------------------------------------
-- Parts issued to (qty > 0) and returned from (RETURN) a part line: one stock move each, made by
-- the trigger in the same transaction (the ledger's rules hold: never negative, weighted cost).
-- Permanent, like the ledger: a wrong issue is corrected by a return.
-- ---------------------------------------------------------------------------
CREATE TABLE service.part_issue (
    issue_id        integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_card_id     integer NOT NULL REFERENCES service.job_card (job_card_id),
    job_line_id     integer NOT NULL REFERENCES service.job_line (job_line_id),
    part_id         integer NOT NULL REFERENCES master.part (part_id),         -- the line's (by trigger)
    kind            text NOT NULL CHECK (kind IN ('ISSUE', 'RETURN')),
    qty             numeric(12,3) NOT NULL CHECK (qty > 0 AND qty <= 10000),
    move_id         bigint NOT NULL UNIQUE REFERENCES inventory.stock_move (move_id),   -- by trigger
    issued_at       timestamptz NOT NULL DEFAULT now(),
    issued_by       integer REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    idempotency_key uuid NOT NULL UNIQUE
);
CREATE INDEX part_issue_line_idx ON service.part_issue (job_line_id);
CREATE INDEX part_issue_card_idx ON service.part_issue (job_card_id);
SELECT audit.track('service.part_issue', 'issue_id');

-- ---------------------------------------------------------------------------
-- A part the store does not have for a job card: purchasing sees the request, orders it, and it is
-- received (by a goods receipt, as every purchase) or cancelled. A branch's document.
-- ---------------------------------------------------------------------------
CREATE TABLE service.parts_request (
    request_id       integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    branch_id        integer NOT NULL REFERENCES master.branch (branch_id),   -- the card's (by trigger)
    job_card_id      integer NOT NULL REFERENCES service.job_card (job_card_id),
    job_line_id      integer REFERENCES service.job_line (job_line_id),
    part_id          integer NOT NULL REFERENCES master.part (part_id),
    qty              numeric(12,3) NOT NULL CHECK (qty > 0 AND qty <= 10000),
    status           text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'ORDERED', 'RECEIVED', 'CANCELLED')),
    note             text CHECK (length(btrim(note)) BETWEEN 1 AND 300),
    requested_at     timestamptz NOT NULL DEFAULT now(),
    requested_by     integer REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    status_changed_at timestamptz NOT NULL DEFAULT now(),
    status_changed_by integer REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id()
);
-- One request in hand (open or ordered) per part line.
CREATE UNIQUE INDEX parts_request_one_per_line_idx ON service.parts_request (job_line_id)
    WHERE status IN ('OPEN', 'ORDERED');
CREATE INDEX parts_request_branch_idx ON service.parts_request (branch_id, status, requested_at);
CREATE INDEX parts_request_card_idx ON service.parts_request (job_card_id);
SELECT audit.track('service.parts_request', 'request_id');

ALTER TABLE service.parts_request ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_branch ON service.parts_request USING (platform.branch_visible(branch_id))
    WITH CHECK (platform.branch_visible(branch_id));

-- ---------------------------------------------------------------------------
-- Estimate, approval and parts issued to a job card
-- ---------------------------------------------------------------------------
-- Is every customer-paid line of the card (not declined) under a customer's approval? Work added
-- after an approval is PROPOSED until the next approval, so this is false until then: the service
-- invoice asks it before billing; a card moves to APPROVED only when it holds.
CREATE OR REPLACE FUNCTION service.customer_work_approved(p_job_card_id integer) RETURNS boolean
LANGUAGE sql STABLE
AS $$
    SELECT NOT EXISTS (SELECT 1 FROM service.job_line
                        WHERE job_card_id = p_job_card_id AND coverage = 'CUSTOMER'
                          AND status <> 'DECLINED' AND approval_id IS NULL)
$$;

-- What a job card's invoice bills, line by line: every line not declined, labour at its quantity, a
-- part at what was issued to it (a part line with none issued bills nothing), with its HSN/SAC, who
-- pays, and whether the customer approved it (covered work needs no approval).
CREATE OR REPLACE VIEW service.job_line_billable AS
    SELECT l.job_line_id, l.job_card_id, l.operation_code, l.part_id,
           coalesce(l.description, lo.name, p.name) AS description,
           coalesce(lo.sac_code, p.hsn_code) AS hsn_code,
           CASE WHEN l.part_id IS NULL THEN l.qty ELSE l.issued_qty END AS bill_qty,
           l.unit_price, l.price_includes_gst, l.coverage, l.status,
           (l.coverage <> 'CUSTOMER' OR l.approval_id IS NOT NULL) AS approved
      FROM service.job_line l
      LEFT JOIN master.labour_operation lo ON lo.operation_code = l.operation_code
      LEFT JOIN master.part p ON p.part_id = l.part_id
     WHERE l.status <> 'DECLINED' AND (l.part_id IS NULL OR l.issued_qty > 0);

-- A card moves to APPROVED only when all its customer-paid work is approved, and is cancelled only
-- with none of its parts still out of stock (they are returned first).
CREATE OR REPLACE FUNCTION service.check_card_work() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.state = 'APPROVED' AND NOT service.customer_work_approved(NEW.job_card_id) THEN
        RAISE EXCEPTION 'job card % has customer-paid work the customer has not approved', OLD.job_card_no
            USING ERRCODE = 'check_violation', CONSTRAINT = 'job_card_work_not_approved';
    END IF;
    IF NEW.state = 'CANCELLED' AND EXISTS (SELECT 1 FROM service.job_line
                                            WHERE job_card_id = NEW.job_card_id AND issued_qty > 0) THEN
        RAISE EXCEPTION 'job card % has parts issued: return them before cancelling it', OLD.job_card_no
            USING ERRCODE = 'check_violation', CONSTRAINT = 'job_card_parts_out';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER job_card_work_check BEFORE UPDATE OF state ON service.job_card
    FOR EACH ROW WHEN (NEW.state IN ('APPROVED', 'CANCELLED') AND OLD.state <> NEW.state)
    EXECUTE FUNCTION service.check_card_work();

-- A line's technician is an active TECHNICIAN of the card's branch; what is issued to a line is
-- kept by the issues alone (and not declined or moved to another part while it is out); a line is
-- done with a date and who marked it, a part line only once its parts were issued.
CREATE OR REPLACE FUNCTION service.check_job_line_work() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF (TG_OP = 'INSERT' AND NEW.issued_qty <> 0)
       OR (TG_OP = 'UPDATE' AND NEW.issued_qty <> OLD.issued_qty AND pg_trigger_depth() < 2) THEN
        RAISE EXCEPTION 'what is issued to a line changes only by an issue or a return of its parts'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'job_line_issued_through_issues';
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.issued_qty > 0 AND NEW.part_id IS DISTINCT FROM OLD.part_id THEN
        RAISE EXCEPTION 'line % has parts issued: it keeps its part', OLD.job_line_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'job_line_issued_fixed';
    END IF;
    IF NEW.status = 'DECLINED' AND NEW.issued_qty > 0 THEN
        RAISE EXCEPTION 'line % has parts issued: return them before declining it', NEW.job_line_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'job_line_return_before_decline';
    END IF;
    IF NEW.technician_id IS NOT NULL AND (TG_OP = 'INSERT' OR NEW.technician_id IS DISTINCT FROM OLD.technician_id)
       AND NOT EXISTS (SELECT 1 FROM master.staff s JOIN service.job_card j ON j.branch_id = s.branch_id
                        WHERE s.staff_id = NEW.technician_id AND j.job_card_id = NEW.job_card_id
                          AND s.designation = 'TECHNICIAN' AND s.is_active) THEN
        RAISE EXCEPTION 'staff % is not an active technician of the job card''s branch', NEW.technician_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'job_line_technician';
    END IF;
    IF NEW.status = 'DONE' AND NEW.part_id IS NOT NULL AND NEW.issued_qty = 0 THEN
        RAISE EXCEPTION 'line % is a part none of which was issued', NEW.job_line_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'job_line_done_parts_issued';
    END IF;
    IF NEW.status = 'DONE' AND (TG_OP = 'INSERT' OR OLD.status <> 'DONE') THEN
        NEW.done_at := now();
        NEW.done_by := audit.current_staff_id();
    ELSIF NEW.status <> 'DONE' THEN
        NEW.done_at := NULL;
        NEW.done_by := NULL;
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER job_line_work_check BEFORE INSERT OR UPDATE ON service.job_line
    FOR EACH ROW EXECUTE FUNCTION service.check_job_line_work();

-- An approval covers work: the card must have proposed lines. Recording it approves every
-- proposed line of the card under it, and a card waiting for the customer moves to APPROVED.
-- An approval is the customer's word: it never changes.
CREATE OR REPLACE FUNCTION service.check_approval_has_lines() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM service.job_line WHERE job_card_id = NEW.job_card_id AND status = 'PROPOSED') THEN
        RAISE EXCEPTION 'job card % has no proposed work to approve', NEW.job_card_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'job_approval_needs_lines';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER job_approval_needs_lines BEFORE INSERT ON service.job_approval
    FOR EACH ROW EXECUTE FUNCTION service.check_approval_has_lines();

CREATE OR REPLACE FUNCTION service.approval_recorded() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    UPDATE service.job_line SET status = 'APPROVED', approval_id = NEW.approval_id
     WHERE job_card_id = NEW.job_card_id AND status = 'PROPOSED';
    UPDATE service.job_card SET state = 'APPROVED'
     WHERE job_card_id = NEW.job_card_id AND state IN ('OPEN', 'ESTIMATE_SENT');
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER job_approval_covers_lines AFTER INSERT ON service.job_approval
    FOR EACH ROW EXECUTE FUNCTION service.approval_recorded();

CREATE OR REPLACE TRIGGER job_approval_is_permanent BEFORE UPDATE OR DELETE ON service.job_approval
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- An issue of parts to a part line of an open card leaves stock (ISSUE_JOB) in the same
-- transaction at the weighted average cost (the ledger's trigger prices it and refuses more than
-- the branch holds); a return (RETURN_JOB) puts back at most what is out, at the cost it left at.
-- Customer-paid parts are issued once approved, never beyond the line's quantity (more is another
-- line, which needs the customer's approval). The line keeps what is issued (the invoice bills it).
CREATE OR REPLACE FUNCTION service.post_part_issue() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    l service.job_line;
    j service.job_card;
    out_value numeric;
    out_qty numeric;
BEGIN
    IF NEW.qty IS NULL OR NEW.qty <= 0 OR NEW.qty > 10000 THEN
        RAISE EXCEPTION 'a quantity of more than 0, at most 10,000'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'part_issue_qty_check';
    END IF;
    SELECT * INTO l FROM service.job_line WHERE job_line_id = NEW.job_line_id FOR UPDATE;
    SELECT * INTO j FROM service.job_card WHERE job_card_id = l.job_card_id;
    IF j.job_card_id IS NULL OR j.state IN ('DELIVERED', 'CANCELLED') THEN
        RAISE EXCEPTION 'parts are issued to and returned from an open job card only'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'part_issue_card_open';
    END IF;
    IF NEW.job_card_id <> l.job_card_id OR l.part_id IS NULL THEN
        RAISE EXCEPTION 'parts go to a part line of the same job card'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'part_issue_part_line';
    END IF;
    NEW.part_id := l.part_id;
    IF NEW.kind = 'ISSUE' THEN
        IF l.status = 'DECLINED' OR (l.coverage = 'CUSTOMER' AND l.approval_id IS NULL) THEN
            RAISE EXCEPTION 'line % is not approved: its parts are not issued yet', l.job_line_id
                USING ERRCODE = 'check_violation', CONSTRAINT = 'part_issue_line_approved';
        END IF;
        IF l.issued_qty + NEW.qty > l.qty THEN
            RAISE EXCEPTION 'line % is for %; % more would be beyond it', l.job_line_id, l.qty, NEW.qty
                USING ERRCODE = 'check_violation', CONSTRAINT = 'part_issue_beyond_line';
        END IF;
        INSERT INTO inventory.stock_move (branch_id, part_id, kind, qty, unit_cost, value, reference)
        VALUES (j.branch_id, l.part_id, 'ISSUE_JOB', -NEW.qty, 0, 0, j.job_card_no)
        RETURNING move_id INTO NEW.move_id;
        UPDATE service.job_line SET issued_qty = issued_qty + NEW.qty WHERE job_line_id = l.job_line_id;
    ELSE
        IF NEW.qty > l.issued_qty THEN
            RAISE EXCEPTION 'only % of line % is out; % cannot come back', l.issued_qty, l.job_line_id, NEW.qty
                USING ERRCODE = 'check_violation', CONSTRAINT = 'part_issue_return_within_issued';
        END IF;
        SELECT -sum(m.value), -sum(m.qty) INTO out_value, out_qty
          FROM service.part_issue i JOIN inventory.stock_move m ON m.move_id = i.move_id
         WHERE i.job_line_id = l.job_line_id;
        INSERT INTO inventory.stock_move (branch_id, part_id, kind, qty, unit_cost, value, reference)
        VALUES (j.branch_id, l.part_id, 'RETURN_JOB', NEW.qty,
                CASE WHEN out_qty > 0 THEN round(greatest(out_value, 0) / out_qty, 4) ELSE 0 END, 0, j.job_card_no)
        RETURNING move_id INTO NEW.move_id;
        UPDATE service.job_line SET issued_qty = issued_qty - NEW.qty WHERE job_line_id = l.job_line_id;
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER part_issue_post BEFORE INSERT ON service.part_issue
    FOR EACH ROW EXECUTE FUNCTION service.post_part_issue();

CREATE OR REPLACE TRIGGER part_issue_is_permanent BEFORE UPDATE OR DELETE ON service.part_issue
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- A parts request is raised on an open card (of the request's branch), for a part line's part
-- when it names one; then OPEN -> ORDERED -> RECEIVED, or CANCELLED before it is received. What
-- was asked for does not change; a request is never deleted.
CREATE OR REPLACE FUNCTION service.check_parts_request() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    j service.job_card;
    line_part integer;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT * INTO j FROM service.job_card WHERE job_card_id = NEW.job_card_id;
        IF j.job_card_id IS NULL OR j.state IN ('DELIVERED', 'CANCELLED') THEN
            RAISE EXCEPTION 'parts are requested for an open job card'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'parts_request_card_open';
        END IF;
        NEW.branch_id := j.branch_id;
        IF NEW.job_line_id IS NOT NULL THEN
            SELECT part_id INTO line_part FROM service.job_line
             WHERE job_line_id = NEW.job_line_id AND job_card_id = NEW.job_card_id;
            IF line_part IS NULL OR line_part <> coalesce(NEW.part_id, line_part) THEN
                RAISE EXCEPTION 'a request names a part line of its own job card'
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'parts_request_part_line';
            END IF;
            NEW.part_id := line_part;
        END IF;
        NEW.status := 'OPEN';
        RETURN NEW;
    END IF;
    IF (NEW.branch_id, NEW.job_card_id, NEW.job_line_id, NEW.part_id, NEW.qty, NEW.requested_at, NEW.requested_by)
       IS DISTINCT FROM (OLD.branch_id, OLD.job_card_id, OLD.job_line_id, OLD.part_id, OLD.qty, OLD.requested_at, OLD.requested_by) THEN
        RAISE EXCEPTION 'a parts request keeps what was asked for'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'parts_request_fixed';
    END IF;
    IF NEW.status <> OLD.status THEN
        IF (OLD.status, NEW.status) NOT IN (('OPEN', 'ORDERED'), ('ORDERED', 'RECEIVED'), ('OPEN', 'CANCELLED'),
                                            ('ORDERED', 'CANCELLED')) THEN
            RAISE EXCEPTION 'a parts request cannot go from % to %', OLD.status, NEW.status
                USING ERRCODE = 'check_violation', CONSTRAINT = 'parts_request_status_move';
        END IF;
        NEW.status_changed_at := now();
        NEW.status_changed_by := audit.current_staff_id();
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER parts_request_check BEFORE INSERT OR UPDATE ON service.parts_request
    FOR EACH ROW EXECUTE FUNCTION service.check_parts_request();

CREATE OR REPLACE TRIGGER parts_request_is_never_deleted BEFORE DELETE ON service.parts_request
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();
