-- Payroll tax (issue 15): marginal relief of the new regime's rebate, the old regime's deductions
-- declared per person and financial year with their caps as dated data, and what each run line's TDS
-- was worked out from. The rules (a rate row a permanent run used stays as it was; arrears only into
-- a month whose run is still a draft; the tax itself) are in sql/functions/99_payroll_tax.sql.

-- Marginal relief (new regime, FY 2025-26 on): when the taxable income is just above rebate_income, the
-- tax before cess is at most the income above it. Dated with its regime row.
ALTER TABLE hr.pay_tds_regime ADD COLUMN marginal_relief boolean NOT NULL DEFAULT false;
UPDATE hr.pay_tds_regime SET marginal_relief = true WHERE regime = 'NEW' AND effective_from = '2025-04-01';

-- The old regime's deductions from salary, per financial year (effective_from = 1 April): the caps of
-- 80C, 80D and home-loan interest u/s 24(b), and the HRA exemption's parts (the least of the HRA
-- received, rent paid less rent_over_pct of basic + DA, and metro_pct / other_pct of basic + DA).
CREATE TABLE hr.pay_old_regime_limit (
    effective_from  date PRIMARY KEY CHECK (extract(month FROM effective_from) = 4 AND extract(day FROM effective_from) = 1),
    cap_80c         numeric(12,2) NOT NULL CHECK (cap_80c >= 0),
    cap_80d         numeric(12,2) NOT NULL CHECK (cap_80d >= 0),
    cap_24b         numeric(12,2) NOT NULL CHECK (cap_24b >= 0),
    rent_over_pct   numeric(5,2) NOT NULL CHECK (rent_over_pct BETWEEN 0 AND 100),
    metro_pct       numeric(5,2) NOT NULL CHECK (metro_pct BETWEEN 0 AND 100),
    other_pct       numeric(5,2) NOT NULL CHECK (other_pct BETWEEN 0 AND 100)
);
SELECT audit.track('hr.pay_old_regime_limit', 'effective_from');
INSERT INTO hr.pay_old_regime_limit VALUES ('2025-04-01', 150000, 25000, 200000, 10, 50, 40);

-- What a person declares for a financial year (amounts for the whole year, as declared: the caps are
-- applied when the tax is worked out). Revised during the year as proofs come in; the audit trail keeps
-- each version, and each run line keeps the amounts it used (hr.payroll_line_tax).
CREATE TABLE hr.pay_tax_declaration (
    staff_id            integer NOT NULL REFERENCES hr.employee (staff_id),
    fy_start            date NOT NULL CHECK (extract(month FROM fy_start) = 4 AND extract(day FROM fy_start) = 1),
    section_80c         numeric(12,2) NOT NULL DEFAULT 0 CHECK (section_80c >= 0),
    section_80d         numeric(12,2) NOT NULL DEFAULT 0 CHECK (section_80d >= 0),
    home_loan_interest  numeric(12,2) NOT NULL DEFAULT 0 CHECK (home_loan_interest >= 0),
    rent_paid           numeric(12,2) NOT NULL DEFAULT 0 CHECK (rent_paid >= 0),
    metro               boolean NOT NULL DEFAULT false,
    declared_by         integer REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    declared_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (staff_id, fy_start)
);
SELECT audit.track('hr.pay_tax_declaration', 'staff_id');

-- How a run line's TDS was worked out: the year's projected salary, the standard deduction and the
-- old regime's deductions used (capped), the taxable income, the year's tax, the TDS of the approved
-- months before. Written by hr.payroll_compute with the line, gone with it.
CREATE TABLE hr.payroll_line_tax (
    run_id              integer NOT NULL,
    staff_id            integer NOT NULL,
    branch_id           integer NOT NULL REFERENCES master.branch (branch_id),
    regime              text NOT NULL CHECK (regime IN ('NEW', 'OLD')),
    projected_income    numeric(14,2) NOT NULL,
    standard_deduction  numeric(12,2) NOT NULL,
    section_80c         numeric(12,2) NOT NULL,
    section_80d         numeric(12,2) NOT NULL,
    hra_exemption       numeric(12,2) NOT NULL,
    home_loan_interest  numeric(12,2) NOT NULL,
    taxable_income      numeric(14,2) NOT NULL,
    annual_tax          numeric(12,2) NOT NULL,
    tds_before          numeric(12,2) NOT NULL,
    PRIMARY KEY (run_id, staff_id),
    FOREIGN KEY (run_id, staff_id) REFERENCES hr.payroll_line (run_id, staff_id) ON DELETE CASCADE,
    CONSTRAINT payroll_line_tax_new_has_no_deductions CHECK (
        regime = 'OLD' OR section_80c + section_80d + hra_exemption + home_loan_interest = 0)
);
SELECT audit.track('hr.payroll_line_tax', 'run_id');
ALTER TABLE hr.payroll_line_tax ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_branch ON hr.payroll_line_tax USING (platform.branch_visible(branch_id))
    WITH CHECK (platform.branch_visible(branch_id));

-- Lines of runs computed before this migration keep no breakdown; the screens show it when present.
