-- The Tally export's one setting and the OEM receivables' index.
--
-- A branch is its own GST registration (master.branch.gstin is unique), so in Tally it is its own
-- company: the export names the company it is meant for (SVCURRENTCOMPANY) from this row, the
-- branch's legal name until someone sets it. Tally refuses an import into a company not open under
-- that exact name, which is why it is a setting and not a guess.
CREATE TABLE finance.tally_company (
    branch_id    integer PRIMARY KEY REFERENCES master.branch (branch_id),
    company_name text NOT NULL CHECK (length(btrim(company_name)) BETWEEN 2 AND 100 AND company_name = btrim(company_name)
                                      AND company_name !~ '[[:cntrl:]]'),
    changed_by   integer REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    changed_at   timestamptz NOT NULL DEFAULT now()
);
SELECT audit.track('finance.tally_company', 'branch_id', '', 'changed_at');
ALTER TABLE finance.tally_company ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_branch ON finance.tally_company
    USING (branch_id = ANY ((SELECT platform.visible_branch_ids())::integer[]))
    WITH CHECK (platform.branch_visible(branch_id));

-- OEM receivables: the free services a branch's workshop delivered, by the day the card closed, to
-- find those whose labour has not been claimed from the OEM (no FREE_SERVICE_LABOUR claim on the card).
CREATE INDEX job_card_free_service_done_idx ON service.job_card (branch_id, closed_at)
    WHERE service_type = 'FREE_SERVICE' AND state = 'DELIVERED';

-- OEM receivables: the OEM a PM E-DRIVE subsidy claim is owed by (the maker of its booking's model),
-- kept on the claim like its listing columns (sql/0022), so the receivables add up a branch's claims
-- per OEM from one index instead of reading every booking behind them (30,000 over five years, each
-- through the booking's branch policy). Set by trigger from the booking on every insert and whenever
-- the booking's variant changes (sql/functions/95_finance_oem.sql); never typed.
ALTER TABLE sales.subsidy_claim ADD COLUMN oem_id integer REFERENCES oem.oem (oem_id);
UPDATE sales.subsidy_claim sc
   SET oem_id = m.oem_id
  FROM sales.booking b JOIN oem.variant v ON v.variant_id = b.variant_id JOIN oem.model m ON m.model_id = v.model_id
 WHERE b.booking_id = sc.booking_id;
ALTER TABLE sales.subsidy_claim ALTER COLUMN oem_id SET NOT NULL;
DROP TRIGGER audit_log_change ON sales.subsidy_claim;
SELECT audit.track('sales.subsidy_claim', 'booking_id', '', 'branch_id,booking_no,booking_cancelled,listed_on,oem_id');
CREATE INDEX subsidy_claim_oem_idx ON sales.subsidy_claim (branch_id, oem_id)
    INCLUDE (eligible_amount, credited_amount, claim_raised_on, credited_on, listed_on) WHERE NOT booking_cancelled;
ANALYZE sales.subsidy_claim;
