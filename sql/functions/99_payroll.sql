-- Payroll's functions and triggers (tables: sql/0052_payroll.sql). init-db runs this file again
-- whenever it changes, after the numbered migrations.
--
-- How a person's month is computed (hr.payroll_compute), from the attendance month HR closed:
--   earnings      each part of the structure in force on the month's first day x payment days /
--                 the month's calendar days, half-up to the rupee; arrears of earlier months added whole;
--                 the month's incentives (hr.incentive_compute, then lines + adjustments) added whole: in
--                 the gross (taxable, ESI wages), never in PF wages
--   settlement    a person who left in the month: leave encashment and gratuity added, notice shortfall
--                 and everything still owed of loans recovered (hr.settlement_compute, after the lines)
--   PF            wages = basic + DA earned, at most the ceiling; employee share; the employer's share
--                 split EPS (rounded) and EPF (the rest of the employer's share); EDLI and admin charge
--   ESI           when the structure's monthly gross is within the limit: both shares on the month's
--                 gross, each rounded up to the next rupee
--   PT            the slab of the branch's state the month's gross falls in (February's amount in February)
--   TDS           the year's tax on the projected income (approved months of the year + this month +
--                 the structure's gross for the months left, and for the months of the year since joining
--                 that no approved run paid, as when payroll starts mid-year), less the standard deduction
--                 and, in the old regime, the declared deductions within their caps (hr.salary_tax), less
--                 the rebate or with marginal relief, plus cess; less the TDS of the approved months;
--                 spread over the months left. A leaver's last month projects no month after it and
--                 deducts the year's balance in full (gratuity and leave encashment, added by the settlement,
--                 are left out of the salary taxed: exempt within the limits of sections 10(10) and 10(10AA))
--   recoveries    each advance or loan of the branch begun by this month: its instalment, at most
--                 what is still owed
--   net           gross - employee PF - employee ESI - PT - TDS - recoveries - other deductions

-- The financial year (its 1 April) a month belongs to, and the months from it to March.
CREATE OR REPLACE FUNCTION hr.fy_start(p_month date) RETURNS date
LANGUAGE sql IMMUTABLE
AS $$ SELECT make_date(extract(year FROM p_month)::int - CASE WHEN extract(month FROM p_month) < 4 THEN 1 ELSE 0 END, 4, 1) $$;

CREATE OR REPLACE FUNCTION hr.months_left_in_fy(p_month date) RETURNS integer
LANGUAGE sql IMMUTABLE
AS $$ SELECT 12 - ((extract(year FROM p_month)::int * 12 + extract(month FROM p_month)::int)
                  - (extract(year FROM hr.fy_start(p_month))::int * 12 + 4)) $$;

-- The year's income tax on a taxable income under a regime: slabs, the rebate when the income is
-- within its limit, or, where the regime row gives marginal relief, at most the income above that limit
-- (the tax of 12,10,000 in the new regime of 2025-26 is 10,000, not 61,500); then cess; to the rupee.
CREATE OR REPLACE FUNCTION hr.annual_income_tax(p_regime text, p_fy date, p_taxable numeric) RETURNS numeric
LANGUAGE sql STABLE
AS $$
    WITH r AS (SELECT * FROM hr.pay_tds_regime WHERE regime = p_regime AND effective_from <= p_fy
                ORDER BY effective_from DESC LIMIT 1),
         s AS (SELECT sl.income_from, sl.rate_pct,
                      lead(sl.income_from) OVER (ORDER BY sl.income_from) AS income_to
                 FROM hr.pay_tds_slab sl JOIN r ON sl.regime = r.regime AND sl.effective_from = r.effective_from),
         t AS (SELECT coalesce(sum(greatest(least(p_taxable, coalesce(s.income_to, p_taxable)) - s.income_from, 0)
                                   * s.rate_pct / 100), 0) AS tax FROM s)
    SELECT round(CASE WHEN p_taxable <= r.rebate_income THEN greatest(t.tax - r.rebate_max, 0)
                      WHEN r.marginal_relief THEN least(t.tax, p_taxable - r.rebate_income)
                      ELSE t.tax END
                 * (1 + r.cess_pct / 100), 0)
      FROM r, t
$$;

-- ---------------------------------------------------------------------------
-- The run: only over a closed attendance month; its steps; permanent once approved
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION hr.check_payroll_run() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'DRAFT' THEN
            RAISE EXCEPTION 'only a draft run can be discarded'
                USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'payroll_run_permanent';
        END IF;
        DELETE FROM hr.payroll_loan_recovery WHERE run_id = OLD.run_id;
        DELETE FROM hr.payroll_line WHERE run_id = OLD.run_id;
        RETURN OLD;
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'DRAFT' THEN
            RAISE EXCEPTION 'a run begins as a draft' USING ERRCODE = 'check_violation', CONSTRAINT = 'payroll_run_step';
        END IF;
        IF NOT hr.month_is_closed(NEW.branch_id, NEW.month) THEN
            RAISE EXCEPTION 'the attendance of the month is not closed'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'payroll_run_month_closed';
        END IF;
        RETURN NEW;
    END IF;
    IF OLD.status = 'PAID' OR (OLD.status = 'APPROVED' AND (NEW.status <> 'PAID'
            OR (NEW.run_id, NEW.branch_id, NEW.month, NEW.created_by, NEW.created_at, NEW.checked_by, NEW.approved_by,
                NEW.approved_at, NEW.voucher_id)
               IS DISTINCT FROM (OLD.run_id, OLD.branch_id, OLD.month, OLD.created_by, OLD.created_at, OLD.checked_by,
                                 OLD.approved_by, OLD.approved_at, OLD.voucher_id))) THEN
        RAISE EXCEPTION 'an approved run is permanent; a correction is an arrears line of a later month'
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'payroll_run_permanent';
    END IF;
    IF (NEW.branch_id, NEW.month) IS DISTINCT FROM (OLD.branch_id, OLD.month)
       OR (OLD.status, NEW.status) NOT IN (('DRAFT', 'DRAFT'), ('DRAFT', 'CHECKED'), ('CHECKED', 'DRAFT'),
                                           ('CHECKED', 'APPROVED'), ('APPROVED', 'PAID')) THEN
        RAISE EXCEPTION 'a run goes draft -> checked -> approved -> paid'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'payroll_run_step';
    END IF;
    IF NEW.status = 'CHECKED' AND NOT EXISTS (SELECT 1 FROM hr.payroll_line WHERE run_id = NEW.run_id) THEN
        RAISE EXCEPTION 'a run without lines cannot be checked'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'payroll_run_has_lines';
    END IF;
    IF NEW.status = 'APPROVED' THEN
        IF NEW.approved_by IS NOT DISTINCT FROM NEW.checked_by THEN
            RAISE EXCEPTION 'the run is approved by someone other than the person who checked it'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'payroll_run_four_eyes';
        END IF;
        NEW.approved_at := now();
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER payroll_run_check BEFORE INSERT OR UPDATE OR DELETE ON hr.payroll_run
    FOR EACH ROW EXECUTE FUNCTION hr.check_payroll_run();

-- Lines and recoveries change only while their run is a draft.
CREATE OR REPLACE FUNCTION hr.check_payroll_run_part() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF (SELECT status FROM hr.payroll_run WHERE run_id = CASE WHEN TG_OP = 'DELETE' THEN OLD.run_id ELSE NEW.run_id END)
       IS DISTINCT FROM 'DRAFT' THEN
        RAISE EXCEPTION 'the run is no longer a draft'
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'payroll_run_permanent';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;

CREATE OR REPLACE TRIGGER payroll_line_check BEFORE INSERT OR UPDATE OR DELETE ON hr.payroll_line
    FOR EACH ROW EXECUTE FUNCTION hr.check_payroll_run_part();
CREATE OR REPLACE TRIGGER payroll_loan_recovery_check BEFORE INSERT OR UPDATE OR DELETE ON hr.payroll_loan_recovery
    FOR EACH ROW EXECUTE FUNCTION hr.check_payroll_run_part();

-- Structures, loans and arrears already paid by an approved run stay as they were.
CREATE OR REPLACE FUNCTION hr.check_pay_structure_used() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM hr.payroll_line l JOIN hr.payroll_run r USING (run_id)
                WHERE l.structure_id = OLD.structure_id AND r.status IN ('APPROVED', 'PAID')) THEN
        RAISE EXCEPTION 'an approved month was paid by this structure; enter a new one from a later month'
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'pay_structure_paid';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;

CREATE OR REPLACE TRIGGER pay_structure_paid BEFORE UPDATE OR DELETE ON hr.pay_structure
    FOR EACH ROW EXECUTE FUNCTION hr.check_pay_structure_used();

CREATE OR REPLACE TRIGGER pay_arrears_is_permanent BEFORE UPDATE OR DELETE ON hr.pay_arrears
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();
CREATE OR REPLACE TRIGGER pay_loan_is_permanent BEFORE UPDATE OR DELETE ON hr.pay_loan
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- ---------------------------------------------------------------------------
-- The computation of a draft run (recomputed as often as wanted until it is checked)
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION hr.payroll_compute(p_run integer) RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    run hr.payroll_run;
    month_days integer;
    fy date;
    months_left integer;
    lines integer;
BEGIN
    SELECT * INTO run FROM hr.payroll_run WHERE run_id = p_run FOR UPDATE;
    IF NOT FOUND OR run.status <> 'DRAFT' THEN
        RAISE EXCEPTION 'the run is no longer a draft'
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'payroll_run_permanent';
    END IF;
    month_days := extract(day FROM run.month + interval '1 month - 1 day');
    fy := hr.fy_start(run.month);
    months_left := hr.months_left_in_fy(run.month);
    DELETE FROM hr.payroll_loan_recovery WHERE run_id = p_run;
    DELETE FROM hr.payroll_line WHERE run_id = p_run;
    PERFORM hr.incentive_compute(run.branch_id, run.month);

    INSERT INTO hr.payroll_loan_recovery (run_id, loan_id, amount)
    SELECT p_run, o.loan_id, least(o.instalment, o.owed)
      FROM (SELECT ln.loan_id, ln.instalment,
                   ln.amount - coalesce((SELECT sum(rc.amount) FROM hr.payroll_loan_recovery rc
                                          WHERE rc.loan_id = ln.loan_id AND rc.run_id <> p_run), 0) AS owed
              FROM hr.pay_loan ln
              JOIN hr.payment_days d ON d.staff_id = ln.staff_id AND d.branch_id = run.branch_id AND d.month = run.month
             WHERE ln.branch_id = run.branch_id AND ln.first_month <= run.month) o
     WHERE o.owed > 0;

    WITH pf AS (SELECT * FROM hr.pay_pf_rate WHERE effective_from <= run.month ORDER BY effective_from DESC LIMIT 1),
         esi AS (SELECT * FROM hr.pay_esi_rate WHERE effective_from <= run.month ORDER BY effective_from DESC LIMIT 1),
         pt_from AS (SELECT max(s.effective_from) AS effective_from, s.state_code
                       FROM hr.pay_pt_slab s JOIN master.branch br ON br.state_code = s.state_code
                      WHERE br.branch_id = run.branch_id AND s.effective_from <= run.month GROUP BY s.state_code),
         earned AS (
            SELECT d.staff_id, d.days_employed, d.payment_days, d.lop_days, st.structure_id, st.monthly_gross,
                   coalesce(rg.regime, 'NEW') AS regime, st.other_deductions,
                   round(st.basic * d.payment_days / month_days) AS basic,
                   round(st.da * d.payment_days / month_days) AS da,
                   round(st.hra * d.payment_days / month_days) AS hra,
                   round(st.conveyance * d.payment_days / month_days) AS conveyance,
                   round(st.special * d.payment_days / month_days) AS special,
                   round(st.other_earnings * d.payment_days / month_days) AS other_earnings,
                   coalesce((SELECT sum(a.amount) FROM hr.pay_arrears a
                              WHERE a.staff_id = d.staff_id AND a.branch_id = run.branch_id AND a.paid_in = run.month), 0)
                       AS arrears,
                   coalesce((SELECT sum(rc.amount) FROM hr.payroll_loan_recovery rc JOIN hr.pay_loan ln USING (loan_id)
                              WHERE rc.run_id = p_run AND ln.staff_id = d.staff_id), 0) AS loan_recovery,
                   hr.incentive_total(d.staff_id, run.branch_id, run.month) AS incentive,
                   -- a leaver's last month: no salary after it, so the year's tax is settled in it
                   coalesce(emp.left_on < run.month + interval '1 month', false) AS leaving
              FROM hr.payment_days d
              JOIN hr.employee emp ON emp.staff_id = d.staff_id
              JOIN LATERAL (SELECT * FROM hr.pay_structure s WHERE s.staff_id = d.staff_id AND s.effective_from <= run.month
                             ORDER BY s.effective_from DESC LIMIT 1) st ON true
              LEFT JOIN hr.pay_regime rg ON rg.staff_id = d.staff_id AND rg.fy_start = fy
             WHERE d.branch_id = run.branch_id AND d.month = run.month),
         g AS (SELECT e.*, e.basic + e.da + e.hra + e.conveyance + e.special + e.other_earnings + e.arrears
                           + e.incentive AS gross,
                      least(e.basic + e.da, pf.wage_ceiling) AS pf_wages
                 FROM earned e, pf),
         c AS (
            SELECT g.*,
                   round(g.pf_wages * pf.employee_pct / 100) AS pf_employee,
                   round(g.pf_wages * pf.eps_pct / 100) AS pf_eps,
                   round(g.pf_wages * (pf.eps_pct + pf.epf_pct) / 100) - round(g.pf_wages * pf.eps_pct / 100) AS pf_epf_employer,
                   round(g.pf_wages * pf.edli_pct / 100) AS pf_edli,
                   round(g.pf_wages * pf.admin_pct / 100) AS pf_admin,
                   CASE WHEN g.monthly_gross <= esi.gross_limit THEN g.gross ELSE 0 END AS esi_wages,
                   CASE WHEN g.monthly_gross <= esi.gross_limit THEN ceil(g.gross * esi.employee_pct / 100) ELSE 0 END
                       AS esi_employee,
                   CASE WHEN g.monthly_gross <= esi.gross_limit THEN ceil(g.gross * esi.employer_pct / 100) ELSE 0 END
                       AS esi_employer,
                   coalesce((SELECT CASE WHEN extract(month FROM run.month) = 2 THEN s.february_tax ELSE s.monthly_tax END
                               FROM hr.pay_pt_slab s JOIN pt_from p USING (state_code, effective_from)
                              WHERE s.gross_from <= g.gross ORDER BY s.gross_from DESC LIMIT 1), 0) AS professional_tax,
                   (SELECT coalesce(sum(l.gross), 0) FROM hr.payroll_line l JOIN hr.payroll_run r USING (run_id)
                     WHERE l.staff_id = g.staff_id AND r.status IN ('APPROVED', 'PAID')
                       AND r.month >= fy AND r.month < run.month) AS gross_before,
                   (SELECT coalesce(sum(l.tds), 0) FROM hr.payroll_line l JOIN hr.payroll_run r USING (run_id)
                     WHERE l.staff_id = g.staff_id AND r.status IN ('APPROVED', 'PAID')
                       AND r.month >= fy AND r.month < run.month) AS tds_before,
                   (SELECT count(*) FROM hr.employee e,
                           generate_series(greatest(fy, date_trunc('month', e.joined_on)::date),
                                           run.month - interval '1 month', interval '1 month') AS m (month)
                     WHERE e.staff_id = g.staff_id
                       AND NOT EXISTS (SELECT 1 FROM hr.payroll_line l JOIN hr.payroll_run r USING (run_id)
                                        WHERE l.staff_id = g.staff_id AND r.month = m.month::date
                                          AND r.status IN ('APPROVED', 'PAID'))) AS months_unpaid
              FROM g, pf, esi),
         -- TDS: the year's salary projected (as gross, and its HRA and basic + DA for the old regime's HRA
         -- exemption), taxed by hr.salary_tax (sql/functions/99_payroll_tax.sql), less the TDS already
         -- deducted, over the months left; how it was worked out is kept in hr.payroll_line_tax.
         t AS (
            SELECT c.*, p.projected_income, x.standard_deduction, x.section_80c, x.section_80d, x.hra_exemption,
                   x.home_loan_interest, x.taxable_income, x.annual_tax,
                   greatest(round((x.annual_tax - c.tds_before) / CASE WHEN c.leaving THEN 1 ELSE months_left END), 0)
                       AS tds
              FROM c
              JOIN hr.pay_structure ps ON ps.structure_id = c.structure_id
              CROSS JOIN LATERAL (SELECT CASE WHEN c.leaving THEN 0 ELSE months_left - 1 END AS ahead) a
              CROSS JOIN LATERAL (
                    SELECT c.gross_before + c.monthly_gross * c.months_unpaid + c.gross
                           + c.monthly_gross * a.ahead AS projected_income,
                           ps.hra * (c.months_unpaid + a.ahead) + c.hra
                           + coalesce(sum(l.hra), 0) AS projected_hra,
                           (ps.basic + ps.da) * (c.months_unpaid + a.ahead) + c.basic + c.da
                           + coalesce(sum(l.basic + l.da), 0) AS projected_basic_da
                      FROM hr.payroll_line l JOIN hr.payroll_run r USING (run_id)
                     WHERE c.regime = 'OLD' AND l.staff_id = c.staff_id AND r.status IN ('APPROVED', 'PAID')
                       AND r.month >= fy AND r.month < run.month) p
              CROSS JOIN LATERAL hr.salary_tax(c.regime, fy, c.staff_id, p.projected_income, p.projected_hra,
                                               p.projected_basic_da) x),
         kept AS (
            INSERT INTO hr.payroll_line_tax (run_id, staff_id, branch_id, regime, projected_income, standard_deduction,
                                             section_80c, section_80d, hra_exemption, home_loan_interest,
                                             taxable_income, annual_tax, tds_before)
            SELECT p_run, t.staff_id, run.branch_id, t.regime, t.projected_income, t.standard_deduction,
                   t.section_80c, t.section_80d, t.hra_exemption, t.home_loan_interest,
                   t.taxable_income, t.annual_tax, t.tds_before
              FROM t)
    INSERT INTO hr.payroll_line (run_id, branch_id, staff_id, structure_id, regime, days_employed, payment_days, lop_days,
                                 rate_gross, basic, da, hra, conveyance, special, other_earnings, arrears, incentive, gross,
                                 pf_wages, pf_employee, pf_eps, pf_epf_employer, pf_edli, pf_admin,
                                 esi_wages, esi_employee, esi_employer, professional_tax, tds, loan_recovery,
                                 other_deductions, total_deductions, net_pay)
    SELECT p_run, run.branch_id, t.staff_id, t.structure_id, t.regime, t.days_employed, t.payment_days, t.lop_days,
           t.monthly_gross, t.basic, t.da, t.hra, t.conveyance, t.special, t.other_earnings, t.arrears, t.incentive, t.gross,
           t.pf_wages, t.pf_employee, t.pf_eps, t.pf_epf_employer, t.pf_edli, t.pf_admin,
           t.esi_wages, t.esi_employee, t.esi_employer, t.professional_tax, t.tds, t.loan_recovery,
           t.other_deductions,
           t.pf_employee + t.esi_employee + t.professional_tax + t.tds + t.loan_recovery + t.other_deductions,
           t.gross - (t.pf_employee + t.esi_employee + t.professional_tax + t.tds + t.loan_recovery + t.other_deductions)
      FROM t;
    GET DIAGNOSTICS lines = ROW_COUNT;
    PERFORM hr.settlement_compute(p_run);
    RETURN lines;
END
$$;
