-- Payroll tax and the dated statutory rates (tables: sql/0052_payroll.sql, sql/0056_payroll_tax.sql).
-- init-db runs this file again whenever it changes, after the numbered migrations and 99_payroll.sql.

-- ---------------------------------------------------------------------------
-- The year's tax on a projected salary
-- ---------------------------------------------------------------------------
-- The old regime's deductions a person's declaration gives for a year, each within its cap (the limits
-- in force for the year): 80C, 80D, home-loan interest u/s 24(b), and the HRA exemption, the least of
-- the HRA received, the rent paid less rent_over_pct of basic + DA, and metro_pct (or other_pct) of
-- basic + DA; to the rupee. All nil without a declaration (or without limits for the year).
CREATE OR REPLACE FUNCTION hr.old_regime_deductions(p_staff integer, p_fy date, p_hra numeric, p_basic_da numeric)
RETURNS TABLE (section_80c numeric, section_80d numeric, hra_exemption numeric, home_loan_interest numeric)
LANGUAGE sql STABLE
AS $$
    WITH found AS (
        SELECT least(d.section_80c, lim.cap_80c) AS section_80c,
               least(d.section_80d, lim.cap_80d) AS section_80d,
               round(greatest(least(p_hra, d.rent_paid - p_basic_da * lim.rent_over_pct / 100,
                                    p_basic_da * CASE WHEN d.metro THEN lim.metro_pct ELSE lim.other_pct END / 100),
                              0)) AS hra_exemption,
               least(d.home_loan_interest, lim.cap_24b) AS home_loan_interest
          FROM hr.pay_tax_declaration d
          JOIN LATERAL (SELECT * FROM hr.pay_old_regime_limit l WHERE l.effective_from <= p_fy
                         ORDER BY l.effective_from DESC LIMIT 1) lim ON true
         WHERE d.staff_id = p_staff AND d.fy_start = p_fy)
    SELECT * FROM found
    UNION ALL SELECT 0, 0, 0, 0 WHERE NOT EXISTS (SELECT 1 FROM found)
$$;

-- The year's tax on a year's salary under a regime: less the regime's standard deduction and, in the
-- old regime, the declared deductions (hr.old_regime_deductions); taxed by hr.annual_income_tax.
CREATE OR REPLACE FUNCTION hr.salary_tax(p_regime text, p_fy date, p_staff integer, p_income numeric, p_hra numeric,
                                         p_basic_da numeric)
RETURNS TABLE (standard_deduction numeric, section_80c numeric, section_80d numeric, hra_exemption numeric,
               home_loan_interest numeric, taxable_income numeric, annual_tax numeric)
LANGUAGE sql STABLE
AS $$
    WITH r AS (SELECT x.standard_deduction FROM hr.pay_tds_regime x WHERE x.regime = p_regime AND x.effective_from <= p_fy
                ORDER BY x.effective_from DESC LIMIT 1),
         d AS (SELECT * FROM hr.old_regime_deductions(p_staff, p_fy, p_hra, p_basic_da) WHERE p_regime = 'OLD'
               UNION ALL SELECT 0, 0, 0, 0 WHERE p_regime <> 'OLD'),
         ti AS (SELECT r.standard_deduction, d.*,
                       greatest(p_income - r.standard_deduction - d.section_80c - d.section_80d - d.hra_exemption
                                - d.home_loan_interest, 0) AS taxable_income
                  FROM r, d)
    SELECT ti.standard_deduction, ti.section_80c, ti.section_80d, ti.hra_exemption, ti.home_loan_interest,
           ti.taxable_income, hr.annual_income_tax(p_regime, p_fy, ti.taxable_income)
      FROM ti
$$;

-- Run lines' breakdowns change only while their run is a draft, as the lines do.
CREATE OR REPLACE TRIGGER payroll_line_tax_check BEFORE INSERT OR UPDATE OR DELETE ON hr.payroll_line_tax
    FOR EACH ROW EXECUTE FUNCTION hr.check_payroll_run_part();

-- ---------------------------------------------------------------------------
-- A dated rate a permanent run used stays as it was
-- ---------------------------------------------------------------------------
-- The last month an approved (or paid) run of any branch covers, or of the branches of a state; a rate
-- row from that month or before has been used by it. SECURITY DEFINER: every branch's runs count, not
-- only those the acting user's branch sees.
CREATE OR REPLACE FUNCTION hr.payroll_fixed_through(p_state text DEFAULT NULL) RETURNS date
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT max(r.month) FROM hr.payroll_run r JOIN master.branch b USING (branch_id)
     WHERE r.status IN ('APPROVED', 'PAID') AND (p_state IS NULL OR b.state_code = p_state)
$$;

-- On every dated rate table: a new row (or a changed or removed one) must be dated after the last month
-- an approved run covers (for professional tax, a run of a branch of the slab's state): a change of rate
-- is a new row from a month no permanent run has used.
CREATE OR REPLACE FUNCTION hr.check_pay_rate_unused() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    fixed date;
BEGIN
    fixed := hr.payroll_fixed_through(CASE WHEN TG_TABLE_NAME = 'pay_pt_slab'
                                           THEN to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END)->>'state_code'
                                      END);
    IF fixed IS NOT NULL AND ((TG_OP <> 'INSERT' AND OLD.effective_from <= fixed)
                              OR (TG_OP <> 'DELETE' AND NEW.effective_from <= fixed)) THEN
        RAISE EXCEPTION 'an approved run used the rates up to %; enter new ones from a later month', to_char(fixed, 'MM-YYYY')
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'pay_rate_used';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;

CREATE OR REPLACE TRIGGER pay_pf_rate_used BEFORE INSERT OR UPDATE OR DELETE ON hr.pay_pf_rate
    FOR EACH ROW EXECUTE FUNCTION hr.check_pay_rate_unused();
CREATE OR REPLACE TRIGGER pay_esi_rate_used BEFORE INSERT OR UPDATE OR DELETE ON hr.pay_esi_rate
    FOR EACH ROW EXECUTE FUNCTION hr.check_pay_rate_unused();
CREATE OR REPLACE TRIGGER pay_pt_slab_used BEFORE INSERT OR UPDATE OR DELETE ON hr.pay_pt_slab
    FOR EACH ROW EXECUTE FUNCTION hr.check_pay_rate_unused();
CREATE OR REPLACE TRIGGER pay_tds_regime_used BEFORE INSERT OR UPDATE OR DELETE ON hr.pay_tds_regime
    FOR EACH ROW EXECUTE FUNCTION hr.check_pay_rate_unused();
CREATE OR REPLACE TRIGGER pay_tds_slab_used BEFORE INSERT OR UPDATE OR DELETE ON hr.pay_tds_slab
    FOR EACH ROW EXECUTE FUNCTION hr.check_pay_rate_unused();
CREATE OR REPLACE TRIGGER pay_old_regime_limit_used BEFORE INSERT OR UPDATE OR DELETE ON hr.pay_old_regime_limit
    FOR EACH ROW EXECUTE FUNCTION hr.check_pay_rate_unused();

-- ---------------------------------------------------------------------------
-- Arrears go only into a month whose run is still open
-- ---------------------------------------------------------------------------
-- An arrears line is paid by the run of its paid_in month: refused when that run is already checked,
-- approved or paid (a checked run would be approved without it; send it back to draft first).
CREATE OR REPLACE FUNCTION hr.check_pay_arrears() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM hr.payroll_run r
                WHERE r.branch_id = NEW.branch_id AND r.month = NEW.paid_in AND r.status <> 'DRAFT') THEN
        RAISE EXCEPTION 'the run of % is no longer a draft; pay the arrears in a later month', to_char(NEW.paid_in, 'MM-YYYY')
            USING ERRCODE = 'check_violation', CONSTRAINT = 'pay_arrears_run_open';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER pay_arrears_run_open BEFORE INSERT ON hr.pay_arrears
    FOR EACH ROW EXECUTE FUNCTION hr.check_pay_arrears();
