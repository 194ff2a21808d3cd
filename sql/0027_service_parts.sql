-- Service workshop, the work on a job card: who finished each line and when, the parts issued to
-- a part line and returned from it (through the stock ledger, in the same transaction), what is
-- issued kept on the line for the invoice, and requests to purchasing for parts not in stock.
-- Functions and triggers are in sql/functions/91_service.sql ("Estimate, approval and parts
-- issued to a job card").

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
