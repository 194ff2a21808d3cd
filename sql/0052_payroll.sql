-- Payroll (the second half of HR): the statutory rates as dated master data, each person's dated
-- salary structure and tax regime, advances and loans recovered in instalments, arrears carried to a
-- later month, and the monthly salary run per branch with its lines. The rules (a run only over a
-- closed attendance month, draft -> checked -> approved -> paid, an approved run permanent) and the
-- computation itself are in sql/functions/99_payroll.sql; the tables, keys and checks are here.
--
-- Rates are read as "the row in force on the month's first day" (the latest effective_from on or
-- before it), so a change of rate is a new row, never an edit.

-- ---------------------------------------------------------------------------
-- Statutory master data
-- ---------------------------------------------------------------------------
-- Provident fund: employee and employer shares on basic + DA up to the wage ceiling; the employer's
-- share is split into the pension fund (EPS) and the provident fund (EPF); EDLI and the admin charge
-- are the employer's on the same wages. Amounts are rounded half-up to the rupee.
CREATE TABLE hr.pay_pf_rate (
    effective_from date PRIMARY KEY,
    employee_pct   numeric(5,2) NOT NULL CHECK (employee_pct BETWEEN 0 AND 100),
    eps_pct        numeric(5,2) NOT NULL CHECK (eps_pct BETWEEN 0 AND 100),
    epf_pct        numeric(5,2) NOT NULL CHECK (epf_pct BETWEEN 0 AND 100),
    edli_pct       numeric(5,2) NOT NULL CHECK (edli_pct BETWEEN 0 AND 100),
    admin_pct      numeric(5,2) NOT NULL CHECK (admin_pct BETWEEN 0 AND 100),
    wage_ceiling   numeric(12,2) NOT NULL CHECK (wage_ceiling > 0)
);
SELECT audit.track('hr.pay_pf_rate', 'effective_from');

-- ESI: both shares on the month's gross when the person's monthly gross is within the limit.
-- ESIC rounds each share up to the next rupee.
CREATE TABLE hr.pay_esi_rate (
    effective_from date PRIMARY KEY,
    employee_pct   numeric(5,2) NOT NULL CHECK (employee_pct BETWEEN 0 AND 100),
    employer_pct   numeric(5,2) NOT NULL CHECK (employer_pct BETWEEN 0 AND 100),
    gross_limit    numeric(12,2) NOT NULL CHECK (gross_limit > 0)
);
SELECT audit.track('hr.pay_esi_rate', 'effective_from');

-- Professional tax by state: the slab a month's gross falls in (from gross_from, inclusive), the
-- month's tax and the tax of February (Karnataka collects Rs 300 then to make Rs 2,500 a year).
CREATE TABLE hr.pay_pt_slab (
    state_code     char(2) NOT NULL REFERENCES master.state (state_code),
    effective_from date NOT NULL,
    gross_from     numeric(12,2) NOT NULL CHECK (gross_from >= 0),
    monthly_tax    numeric(8,2) NOT NULL CHECK (monthly_tax >= 0),
    february_tax   numeric(8,2) NOT NULL CHECK (february_tax >= 0),
    PRIMARY KEY (state_code, effective_from, gross_from)
);
SELECT audit.track('hr.pay_pt_slab', 'state_code');

-- Income tax on salary: per regime and financial year (effective_from = 1 April), the standard
-- deduction, the rebate (u/s 87A: the tax up to rebate_max is remitted when the taxable income is
-- at most rebate_income) and the health and education cess; the slabs in hr.pay_tds_slab.
CREATE TABLE hr.pay_tds_regime (
    regime             text NOT NULL CHECK (regime IN ('NEW', 'OLD')),
    effective_from     date NOT NULL CHECK (extract(month FROM effective_from) = 4 AND extract(day FROM effective_from) = 1),
    standard_deduction numeric(12,2) NOT NULL CHECK (standard_deduction >= 0),
    rebate_income      numeric(14,2) NOT NULL CHECK (rebate_income >= 0),
    rebate_max         numeric(12,2) NOT NULL CHECK (rebate_max >= 0),
    cess_pct           numeric(5,2) NOT NULL CHECK (cess_pct BETWEEN 0 AND 100),
    PRIMARY KEY (regime, effective_from)
);
SELECT audit.track('hr.pay_tds_regime', 'regime');

CREATE TABLE hr.pay_tds_slab (
    regime         text NOT NULL,
    effective_from date NOT NULL,
    income_from    numeric(14,2) NOT NULL CHECK (income_from >= 0),
    rate_pct       numeric(5,2) NOT NULL CHECK (rate_pct BETWEEN 0 AND 100),
    PRIMARY KEY (regime, effective_from, income_from),
    FOREIGN KEY (regime, effective_from) REFERENCES hr.pay_tds_regime (regime, effective_from)
);
SELECT audit.track('hr.pay_tds_slab', 'regime');

INSERT INTO hr.pay_pf_rate VALUES ('2014-09-01', 12, 8.33, 3.67, 0.50, 0.50, 15000);
INSERT INTO hr.pay_esi_rate VALUES ('2019-07-01', 0.75, 3.25, 21000);
INSERT INTO hr.pay_pt_slab VALUES ('29', '2025-04-01', 0, 0, 0), ('29', '2025-04-01', 25000, 200, 300);
INSERT INTO hr.pay_tds_regime VALUES ('NEW', '2025-04-01', 75000, 1200000, 60000, 4),
                                     ('OLD', '2025-04-01', 50000, 500000, 12500, 4);
INSERT INTO hr.pay_tds_slab VALUES
    ('NEW', '2025-04-01', 0, 0), ('NEW', '2025-04-01', 400000, 5), ('NEW', '2025-04-01', 800000, 10),
    ('NEW', '2025-04-01', 1200000, 15), ('NEW', '2025-04-01', 1600000, 20), ('NEW', '2025-04-01', 2000000, 25),
    ('NEW', '2025-04-01', 2400000, 30),
    ('OLD', '2025-04-01', 0, 0), ('OLD', '2025-04-01', 250000, 5), ('OLD', '2025-04-01', 500000, 20),
    ('OLD', '2025-04-01', 1000000, 30);

-- ---------------------------------------------------------------------------
-- Each person's salary structure (dated) and tax regime (per financial year)
-- ---------------------------------------------------------------------------
-- The monthly figures at full attendance. The earnings must add up to the stated gross; other
-- deductions (canteen, a society...) are taken whole each month.
CREATE TABLE hr.pay_structure (
    structure_id     integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    staff_id         integer NOT NULL REFERENCES hr.employee (staff_id),
    effective_from   date NOT NULL CHECK (extract(day FROM effective_from) = 1),
    monthly_gross    numeric(12,2) NOT NULL CHECK (monthly_gross > 0),
    basic            numeric(12,2) NOT NULL CHECK (basic > 0),
    da               numeric(12,2) NOT NULL DEFAULT 0 CHECK (da >= 0),
    hra              numeric(12,2) NOT NULL DEFAULT 0 CHECK (hra >= 0),
    conveyance       numeric(12,2) NOT NULL DEFAULT 0 CHECK (conveyance >= 0),
    special          numeric(12,2) NOT NULL DEFAULT 0 CHECK (special >= 0),
    other_earnings   numeric(12,2) NOT NULL DEFAULT 0 CHECK (other_earnings >= 0),
    other_deductions numeric(12,2) NOT NULL DEFAULT 0 CHECK (other_deductions >= 0),
    created_by       integer REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    created_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pay_structure_adds_up CHECK (basic + da + hra + conveyance + special + other_earnings = monthly_gross),
    CONSTRAINT pay_structure_deductions_within CHECK (other_deductions < monthly_gross),
    CONSTRAINT pay_structure_once_a_date UNIQUE (staff_id, effective_from)
);
SELECT audit.track('hr.pay_structure', 'structure_id');

-- The regime a person chose for a financial year (fy_start = 1 April); without a row: NEW.
CREATE TABLE hr.pay_regime (
    staff_id integer NOT NULL REFERENCES hr.employee (staff_id),
    fy_start date NOT NULL CHECK (extract(month FROM fy_start) = 4 AND extract(day FROM fy_start) = 1),
    regime   text NOT NULL CHECK (regime IN ('NEW', 'OLD')),
    PRIMARY KEY (staff_id, fy_start)
);
SELECT audit.track('hr.pay_regime', 'staff_id');

-- A salary advance or loan, recovered by a fixed instalment from its first month until repaid.
CREATE TABLE hr.pay_loan (
    loan_id      integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    branch_id    integer NOT NULL REFERENCES master.branch (branch_id),
    staff_id     integer NOT NULL REFERENCES hr.employee (staff_id),
    kind         text NOT NULL CHECK (kind IN ('ADVANCE', 'LOAN')),
    amount       numeric(12,2) NOT NULL CHECK (amount > 0),
    instalment   numeric(12,2) NOT NULL CHECK (instalment > 0),
    first_month  date NOT NULL CHECK (extract(day FROM first_month) = 1),
    given_on     date NOT NULL,
    reason       text NOT NULL CHECK (length(btrim(reason)) BETWEEN 3 AND 200),
    created_by   integer REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    CONSTRAINT pay_loan_instalment_within CHECK (instalment <= amount)
);
CREATE INDEX pay_loan_staff_idx ON hr.pay_loan (staff_id);
SELECT audit.track('hr.pay_loan', 'loan_id');
ALTER TABLE hr.pay_loan ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_branch ON hr.pay_loan USING (platform.branch_visible(branch_id))
    WITH CHECK (platform.branch_visible(branch_id));

-- A correction of an approved month: paid as an arrears line in a later month's run.
CREATE TABLE hr.pay_arrears (
    arrears_id   integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    branch_id    integer NOT NULL REFERENCES master.branch (branch_id),
    staff_id     integer NOT NULL REFERENCES hr.employee (staff_id),
    for_month    date NOT NULL CHECK (extract(day FROM for_month) = 1),
    paid_in      date NOT NULL CHECK (extract(day FROM paid_in) = 1),
    amount       numeric(12,2) NOT NULL CHECK (amount <> 0),
    reason       text NOT NULL CHECK (length(btrim(reason)) BETWEEN 5 AND 200),
    created_by   integer REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    CONSTRAINT pay_arrears_later CHECK (paid_in > for_month)
);
CREATE INDEX pay_arrears_paid_idx ON hr.pay_arrears (branch_id, paid_in);
SELECT audit.track('hr.pay_arrears', 'arrears_id');
ALTER TABLE hr.pay_arrears ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_branch ON hr.pay_arrears USING (platform.branch_visible(branch_id))
    WITH CHECK (platform.branch_visible(branch_id));

-- ---------------------------------------------------------------------------
-- The monthly run
-- ---------------------------------------------------------------------------
CREATE TABLE hr.payroll_run (
    run_id       integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    branch_id    integer NOT NULL REFERENCES master.branch (branch_id),
    month        date NOT NULL CHECK (extract(day FROM month) = 1),
    status       text NOT NULL DEFAULT 'DRAFT' CHECK (status IN ('DRAFT', 'CHECKED', 'APPROVED', 'PAID')),
    created_by   integer REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    created_at   timestamptz NOT NULL DEFAULT now(),
    checked_by   integer REFERENCES master.staff (staff_id),
    approved_by  integer REFERENCES master.staff (staff_id),
    approved_at  timestamptz,
    paid_on      date,
    voucher_id   integer,
    CONSTRAINT payroll_run_once_a_month UNIQUE (branch_id, month),
    CONSTRAINT payroll_run_approval CHECK ((status IN ('APPROVED', 'PAID')) = (approved_by IS NOT NULL)),
    CONSTRAINT payroll_run_paid CHECK ((status = 'PAID') = (paid_on IS NOT NULL))
);
SELECT audit.track('hr.payroll_run', 'run_id');
ALTER TABLE hr.payroll_run ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_branch ON hr.payroll_run USING (platform.branch_visible(branch_id))
    WITH CHECK (platform.branch_visible(branch_id));

-- One person's month: the days, the earnings pro rata, the statutory figures and the net pay.
CREATE TABLE hr.payroll_line (
    run_id            integer NOT NULL REFERENCES hr.payroll_run (run_id),
    branch_id         integer NOT NULL REFERENCES master.branch (branch_id),
    staff_id          integer NOT NULL REFERENCES hr.employee (staff_id),
    structure_id      integer NOT NULL REFERENCES hr.pay_structure (structure_id),
    regime            text NOT NULL CHECK (regime IN ('NEW', 'OLD')),
    days_employed     smallint NOT NULL,
    payment_days      numeric(4,1) NOT NULL,
    lop_days          numeric(4,1) NOT NULL,
    rate_gross        numeric(12,2) NOT NULL,
    basic             numeric(12,2) NOT NULL,
    da                numeric(12,2) NOT NULL,
    hra               numeric(12,2) NOT NULL,
    conveyance        numeric(12,2) NOT NULL,
    special           numeric(12,2) NOT NULL,
    other_earnings    numeric(12,2) NOT NULL,
    arrears           numeric(12,2) NOT NULL DEFAULT 0,
    gross             numeric(12,2) NOT NULL,
    pf_wages          numeric(12,2) NOT NULL,
    pf_employee       numeric(12,2) NOT NULL,
    pf_eps            numeric(12,2) NOT NULL,
    pf_epf_employer   numeric(12,2) NOT NULL,
    pf_edli           numeric(12,2) NOT NULL,
    pf_admin          numeric(12,2) NOT NULL,
    esi_wages         numeric(12,2) NOT NULL,
    esi_employee      numeric(12,2) NOT NULL,
    esi_employer      numeric(12,2) NOT NULL,
    professional_tax  numeric(12,2) NOT NULL,
    tds               numeric(12,2) NOT NULL,
    loan_recovery     numeric(12,2) NOT NULL,
    other_deductions  numeric(12,2) NOT NULL,
    total_deductions  numeric(12,2) NOT NULL,
    net_pay           numeric(12,2) NOT NULL,
    PRIMARY KEY (run_id, staff_id),
    CONSTRAINT payroll_line_gross_adds_up CHECK (
        gross = basic + da + hra + conveyance + special + other_earnings + arrears),
    CONSTRAINT payroll_line_deductions_add_up CHECK (total_deductions = pf_employee + esi_employee + professional_tax
                                                     + tds + loan_recovery + other_deductions),
    CONSTRAINT payroll_line_net CHECK (net_pay = gross - total_deductions),
    CONSTRAINT payroll_line_net_not_negative CHECK (net_pay >= 0)
);
CREATE INDEX payroll_line_staff_idx ON hr.payroll_line (staff_id);
SELECT audit.track('hr.payroll_line', 'run_id');
ALTER TABLE hr.payroll_line ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_branch ON hr.payroll_line USING (platform.branch_visible(branch_id))
    WITH CHECK (platform.branch_visible(branch_id));

-- Each instalment recovered by a run from a loan.
CREATE TABLE hr.payroll_loan_recovery (
    run_id   integer NOT NULL REFERENCES hr.payroll_run (run_id),
    loan_id  integer NOT NULL REFERENCES hr.pay_loan (loan_id),
    amount   numeric(12,2) NOT NULL CHECK (amount > 0),
    PRIMARY KEY (run_id, loan_id)
);

-- The ledgers the salary voucher posts to (the salaries themselves: the expense head EXP_SALARY of
-- sql/0048_finance_cash.sql).
INSERT INTO finance.ledger (name, group_id, system_key)
SELECT l.name, g.group_id, l.system_key
  FROM (VALUES ('Employer PF Contribution', 'Indirect Expenses', 'EMPLOYER_PF'),
               ('Employer ESI Contribution', 'Indirect Expenses', 'EMPLOYER_ESI'),
               ('PF Payable', 'Duties & Taxes', 'PF_PAYABLE'),
               ('ESI Payable', 'Duties & Taxes', 'ESI_PAYABLE'),
               ('Professional Tax Payable', 'Duties & Taxes', 'PT_PAYABLE'),
               ('TDS on Salary Payable', 'Duties & Taxes', 'TDS_SALARY_PAYABLE'),
               ('Salary Payable', 'Current Liabilities', 'SALARY_PAYABLE'),
               ('Salary Deductions Payable', 'Current Liabilities', 'SALARY_DEDUCTIONS_PAYABLE'),
               ('Staff Advances and Loans', 'Loans & Advances (Asset)', 'STAFF_ADVANCES')) AS l (name, grp, system_key)
  JOIN finance.account_group g ON g.name = l.grp;
