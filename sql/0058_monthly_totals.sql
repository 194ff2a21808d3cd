-- Figures the owner's home screen and the sales register read kept, instead of adding up every
-- document each time (issue 14, "Speed": the dashboard under 30 ms on five years of data).
--
-- billing.invoice_month: per branch, invoice kind, document (INV: the invoices of the month; CRN: the
-- credit notes of the month, their amounts positive), month and buyer (b2b: the buyer has a GSTIN),
-- how many documents and their amounts, and for vehicle invoices the cost side of the margin: how many
-- of the units had a landed cost (costed), those units' taxable value (costed_taxable) and their cost.
-- Added to by statement triggers on billing.invoice and billing.credit_note in the posting's own
-- transaction (sql/functions/80_billing.sql). Both documents are permanent (an invoice's amounts never
-- change: a correction is a credit note), and a unit's landed cost changed after it was invoiced moves
-- the cost side with it (trigger on inventory.vehicle_unit), so each row is always the sum of its
-- documents: billing.invoice_month_drift() lists any difference, billing.rebuild_invoice_month() makes
-- the rows again from the documents (generate-history's fast path writes them with the triggers off).
CREATE TABLE billing.invoice_month (
    branch_id      integer NOT NULL REFERENCES master.branch (branch_id),
    kind           text NOT NULL CHECK (kind IN ('VEHICLE', 'COUNTER', 'TRANSFER', 'SERVICE', 'JOB_SHEET')),
    doc            text NOT NULL CHECK (doc IN ('INV', 'CRN')),
    month          date NOT NULL CHECK (month = date_trunc('month', month)::date),
    b2b            boolean NOT NULL,
    documents      integer NOT NULL CHECK (documents >= 0),
    taxable_value  numeric(16, 2) NOT NULL CHECK (taxable_value >= 0),
    cgst           numeric(16, 2) NOT NULL CHECK (cgst >= 0),
    sgst           numeric(16, 2) NOT NULL CHECK (sgst >= 0),
    igst           numeric(16, 2) NOT NULL CHECK (igst >= 0),
    round_off      numeric(16, 2) NOT NULL,
    grand_total    numeric(16, 2) NOT NULL CHECK (grand_total >= 0),
    tcs_amount     numeric(16, 2) NOT NULL CHECK (tcs_amount >= 0),
    costed         integer NOT NULL CHECK (costed BETWEEN 0 AND documents),
    costed_taxable numeric(16, 2) NOT NULL CHECK (costed_taxable >= 0),
    cost           numeric(16, 2) NOT NULL CHECK (cost >= 0),
    PRIMARY KEY (branch_id, kind, doc, month, b2b)
);
ALTER TABLE billing.invoice_month ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_branch ON billing.invoice_month
    USING (branch_id = ANY ((SELECT platform.visible_branch_ids())::integer[]))
    WITH CHECK (platform.branch_visible(branch_id));

-- A unit's invoices (the cost side follows its landed cost; the P&L's stock leaves out units invoiced by the
-- day), with what the invoice's branch policies read, so the stock's anti-join reads the index alone.
CREATE INDEX invoice_unit_idx ON billing.invoice (unit_id, invoice_date) INCLUDE (branch_id, kind, transfer_id)
    WHERE unit_id IS NOT NULL;

-- Each document as it counts in the monthly totals (defined again in sql/functions/80_billing.sql).
CREATE FUNCTION billing.invoice_month_docs()
RETURNS TABLE (doc text, doc_id integer, unit_id integer, branch_id integer, kind text, month date, b2b boolean,
               taxable_value numeric, cgst numeric, sgst numeric, igst numeric, round_off numeric,
               grand_total numeric, tcs_amount numeric, cost numeric)
LANGUAGE sql STABLE
AS $$
    SELECT 'INV', i.invoice_id, i.unit_id, i.branch_id, i.kind, date_trunc('month', i.invoice_date::timestamp)::date,
           i.buyer_gstin IS NOT NULL, i.taxable_value, i.cgst, i.sgst, i.igst, i.round_off, i.grand_total,
           i.tcs_amount, u.purchase_cost
      FROM billing.invoice i
      LEFT JOIN inventory.vehicle_unit u ON u.unit_id = i.unit_id AND i.kind = 'VEHICLE'
    UNION ALL
    SELECT 'CRN', n.credit_note_id, i.unit_id, n.branch_id, i.kind, date_trunc('month', n.note_date::timestamp)::date,
           i.buyer_gstin IS NOT NULL, n.taxable_value, n.cgst, n.sgst, n.igst, n.round_off, n.grand_total,
           n.tcs_amount, u.purchase_cost
      FROM billing.credit_note n
      JOIN billing.invoice i ON i.invoice_id = n.invoice_id
      LEFT JOIN inventory.vehicle_unit u ON u.unit_id = i.unit_id AND i.kind = 'VEHICLE'
$$;

CREATE FUNCTION billing.invoice_month_live() RETURNS SETOF billing.invoice_month
LANGUAGE sql STABLE
AS $$
    SELECT branch_id, kind, doc, month, b2b, count(*)::integer, sum(taxable_value), sum(cgst), sum(sgst), sum(igst),
           sum(round_off), sum(grand_total), sum(tcs_amount), count(cost)::integer,
           coalesce(sum(taxable_value) FILTER (WHERE cost IS NOT NULL), 0), coalesce(sum(cost), 0)
      FROM billing.invoice_month_docs()
     GROUP BY branch_id, kind, doc, month, b2b
$$;

CREATE FUNCTION billing.rebuild_invoice_month() RETURNS void
LANGUAGE sql
AS $$
    DELETE FROM billing.invoice_month;
    INSERT INTO billing.invoice_month SELECT * FROM billing.invoice_month_live();
$$;

SELECT billing.rebuild_invoice_month();

-- finance.oem_pending_day: what the OEM still owes a branch on PM E-DRIVE subsidy and warranty claims,
-- per source and the day its age runs from (OEM receivables' own definitions: a subsidy claim until it
-- is credited, from the day it was claimed or else listed, a cancelled booking's never; a warranty or
-- free-service labour claim while DRAFT, SUBMITTED or approved, its claimed or approved amount, from
-- the day it was submitted or else raised). Kept by row triggers on sales.subsidy_claim and
-- warranty.claim (sql/functions/95_finance_oem.sql), which take a claim's old share out and put its
-- new one in; a day with nothing pending has no row. The home screen adds up a few rows per day
-- instead of every claim (finance.oem_pending_drift(), finance.rebuild_oem_pending()).
CREATE TABLE finance.oem_pending_day (
    branch_id integer NOT NULL REFERENCES master.branch (branch_id),
    source    text NOT NULL CHECK (source IN ('SUBSIDY', 'WARRANTY', 'FREE_SERVICE')),
    since     date NOT NULL,
    claims    integer NOT NULL CHECK (claims > 0),
    amount    numeric(16, 2) NOT NULL CHECK (amount >= 0),
    PRIMARY KEY (branch_id, source, since)
);
ALTER TABLE finance.oem_pending_day ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_branch ON finance.oem_pending_day
    USING (branch_id = ANY ((SELECT platform.visible_branch_ids())::integer[]))
    WITH CHECK (platform.branch_visible(branch_id));

-- A claim's share of the pending dues, or NULL when nothing of it is pending (defined again in
-- sql/functions/95_finance_oem.sql).
CREATE FUNCTION finance.subsidy_pending(c sales.subsidy_claim) RETURNS finance.oem_pending_day
LANGUAGE sql IMMUTABLE
AS $$
    SELECT ROW(c.branch_id, 'SUBSIDY', coalesce(c.claim_raised_on, c.listed_on), 1, c.eligible_amount)::finance.oem_pending_day
     WHERE c.credited_on IS NULL AND NOT c.booking_cancelled
$$;

CREATE FUNCTION finance.claim_pending(c warranty.claim) RETURNS finance.oem_pending_day
LANGUAGE sql IMMUTABLE
AS $$
    SELECT ROW(c.branch_id, CASE WHEN c.kind = 'FREE_SERVICE_LABOUR' THEN 'FREE_SERVICE' ELSE 'WARRANTY' END,
               coalesce(c.submitted_on, c.raised_on), 1,
               coalesce(CASE WHEN c.status IN ('DRAFT', 'SUBMITTED') THEN c.claimed_amount ELSE c.approved_amount END, 0)
           )::finance.oem_pending_day
     WHERE c.status IN ('DRAFT', 'SUBMITTED', 'APPROVED', 'PARTLY_APPROVED')
$$;

CREATE FUNCTION finance.oem_pending_live() RETURNS SETOF finance.oem_pending_day
LANGUAGE sql STABLE
AS $$
    SELECT p.branch_id, p.source, p.since, sum(p.claims)::integer, sum(p.amount)
      FROM (SELECT d.* FROM sales.subsidy_claim sc CROSS JOIN LATERAL finance.subsidy_pending(sc) d
            UNION ALL
            SELECT d.* FROM warranty.claim c CROSS JOIN LATERAL finance.claim_pending(c) d) p
     WHERE p.claims IS NOT NULL
     GROUP BY p.branch_id, p.source, p.since
$$;

CREATE FUNCTION finance.rebuild_oem_pending() RETURNS void
LANGUAGE sql
AS $$
    DELETE FROM finance.oem_pending_day;
    INSERT INTO finance.oem_pending_day SELECT * FROM finance.oem_pending_live();
$$;

SELECT finance.rebuild_oem_pending();
ANALYZE billing.invoice_month, finance.oem_pending_day;

-- finance.ledger_totals loses its optional ledger (sql/functions/95_finance_reports.sql): one ledger's
-- totals are a function of their own, which the function files make again with this one's name.
DROP FUNCTION IF EXISTS finance.ledger_totals(date, date, integer, integer);

-- The P&L's and the balance sheet's closing stock (finance.stock_value): the parts' value today less what
-- moved after the day, the moves after a time found by branch and time (not every move of the history).
CREATE INDEX stock_move_branch_time_idx ON inventory.stock_move (branch_id, moved_at) INCLUDE (value);
