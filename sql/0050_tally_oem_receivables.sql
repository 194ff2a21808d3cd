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
