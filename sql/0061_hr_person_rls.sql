-- A person's employment, documents, leave openings, salary structures, tax regime and declarations are their
-- branch's, like every other salary figure: row-level security by the person's branch (master.staff), so another
-- branch's people are invisible to a request in PostgreSQL itself, not only through each screen's look-up of the
-- person. (An ADMIN, and a MANAGER of the head office, see every branch: platform.branch_visible.)
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['hr.employee', 'hr.employee_document', 'hr.leave_opening', 'hr.pay_structure',
                             'hr.pay_regime', 'hr.pay_tax_declaration'] LOOP
        EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format($p$CREATE POLICY own_branch ON %s
                           USING (EXISTS (SELECT 1 FROM master.staff s
                                           WHERE s.staff_id = %s.staff_id AND platform.branch_visible(s.branch_id)))
                           WITH CHECK (EXISTS (SELECT 1 FROM master.staff s
                                                WHERE s.staff_id = %s.staff_id
                                                  AND platform.branch_visible(s.branch_id)))$p$,
                       t, t, t);
    END LOOP;
END
$$;
