-- Payroll earnings: sales and service incentives, and the full and final settlement of a leaver.
-- The computation is in sql/functions/99_payroll_incentive.sql (hr.incentive_compute, hr.settlement_compute,
-- both run by hr.payroll_compute); the tables, keys and checks are here.
--
-- Incentives: dated rules per role (the staff member's designation) and, optionally, per model; what each
-- person earned in a month is one row per document it came from (hr.incentive_line: the delivery, the
-- financier's delivery order, the policy, the service invoice), so every rupee is traceable; a manager's
-- adjustment is a row of its own with a reason (hr.incentive_adjustment), never an edit of a computed row.
-- The month's lines plus adjustments are the payroll line's `incentive` earning (taxable, in ESI wages, not
-- PF wages). Once the month's run is checked, its lines no longer change; once approved, never.
--
-- Full and final settlement: the last run of a person who left carries it (hr.settlement, one row per run and
-- person): leave encashment of the earned-leave balance, gratuity after five years (counted with six months
-- or more as a year), a notice-pay shortfall recovered (hr.notice_shortfall, entered by accounts), and what
-- is still owed of advances and loans recovered in full, as far as the pay allows.

-- ---------------------------------------------------------------------------
-- Incentive rules
-- ---------------------------------------------------------------------------
-- A rule pays a role per document of a kind (amount), or by the slabs of the month's service revenue
-- (hr.incentive_slab). A rule for a model is preferred to the role's rule for any model (model_id NULL).
-- Rules of one role, kind and model never overlap in time; a rule used by a checked or approved month
-- keeps its terms (only its end may be set, not before the months it paid).
CREATE TABLE hr.incentive_rule (
    rule_id      integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    role_code    text NOT NULL REFERENCES master.role (role_code),
    kind         text NOT NULL CHECK (kind IN ('PER_VEHICLE_DELIVERED', 'PER_FINANCE_CASE', 'PER_INSURANCE_CASE',
                                               'SERVICE_REVENUE_SLAB')),
    model_id     integer REFERENCES oem.model (model_id),
    amount       numeric(12,2) CONSTRAINT incentive_rule_amount_not_negative CHECK (amount >= 0),
    valid_from   date NOT NULL,
    valid_to     date,
    note         text CHECK (length(note) <= 200),
    created_by   integer REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT incentive_rule_amount CHECK ((kind = 'SERVICE_REVENUE_SLAB') = (amount IS NULL)),
    CONSTRAINT incentive_rule_slab_any_model CHECK (kind <> 'SERVICE_REVENUE_SLAB' OR model_id IS NULL),
    CONSTRAINT incentive_rule_dates CHECK (valid_to IS NULL OR valid_to >= valid_from),
    CONSTRAINT incentive_rule_kind_key UNIQUE (rule_id, kind),
    CONSTRAINT incentive_rule_no_overlap EXCLUDE USING gist (
        master.same_key(role_code || '/' || kind || '/' || coalesce(model_id::text, '*')) WITH &&,
        master.valid_during(valid_from, valid_to) WITH &&)
);
SELECT audit.track('hr.incentive_rule', 'rule_id');

-- The slabs of a service-revenue rule. Each slab runs from its revenue_from (inclusive) to the next slab's;
-- the key orders them, so they cannot overlap. A slab the month's revenue reaches pays its pct of the revenue
-- within it, or its fixed amount; the slabs reached add up.
CREATE TABLE hr.incentive_slab (
    rule_id       integer NOT NULL,
    kind          text NOT NULL DEFAULT 'SERVICE_REVENUE_SLAB' CHECK (kind = 'SERVICE_REVENUE_SLAB'),
    revenue_from  numeric(14,2) NOT NULL CONSTRAINT incentive_slab_from_not_negative CHECK (revenue_from >= 0),
    pct           numeric(5,2) CONSTRAINT incentive_slab_pct_range CHECK (pct BETWEEN 0 AND 100),
    fixed_amount  numeric(12,2) CONSTRAINT incentive_slab_fixed_not_negative CHECK (fixed_amount >= 0),
    PRIMARY KEY (rule_id, revenue_from),
    FOREIGN KEY (rule_id, kind) REFERENCES hr.incentive_rule (rule_id, kind),
    CONSTRAINT incentive_slab_pct_or_fixed CHECK (num_nonnulls(pct, fixed_amount) = 1)
);
SELECT audit.track('hr.incentive_slab', 'rule_id');

-- ---------------------------------------------------------------------------
-- What each person earned in a month, per document
-- ---------------------------------------------------------------------------
-- basis: 1 for a document counted, the invoice's taxable value for service revenue (whose slab amount is
-- shared over the month's invoices in proportion, so the lines add up to it).
CREATE TABLE hr.incentive_line (
    line_id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    branch_id      integer NOT NULL REFERENCES master.branch (branch_id),
    month          date NOT NULL CHECK (extract(day FROM month) = 1),
    staff_id       integer NOT NULL REFERENCES master.staff (staff_id),
    rule_id        integer NOT NULL,
    kind           text NOT NULL,
    source_table   text NOT NULL CHECK (source_table IN ('sales.delivery', 'sales.finance', 'insurance.policy',
                                                         'billing.invoice')),
    source_id      integer NOT NULL,
    document_no    text NOT NULL,
    document_date  date NOT NULL,
    basis          numeric(14,2) NOT NULL CHECK (basis >= 0),
    amount         numeric(12,2) NOT NULL CHECK (amount >= 0),
    FOREIGN KEY (rule_id, kind) REFERENCES hr.incentive_rule (rule_id, kind),
    CONSTRAINT incentive_line_in_month CHECK (date_trunc('month', document_date)::date = month),
    CONSTRAINT incentive_line_once UNIQUE (staff_id, kind, source_table, source_id)
);
CREATE INDEX incentive_line_month_idx ON hr.incentive_line (branch_id, month, staff_id);
CREATE INDEX incentive_line_rule_idx ON hr.incentive_line (rule_id);
ALTER TABLE hr.incentive_line ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_branch ON hr.incentive_line USING (platform.branch_visible(branch_id))
    WITH CHECK (platform.branch_visible(branch_id));

-- A manager's adjustment of a person's month, with the reason; permanent (a correction is another one).
CREATE TABLE hr.incentive_adjustment (
    adjustment_id  integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    branch_id      integer NOT NULL REFERENCES master.branch (branch_id),
    staff_id       integer NOT NULL REFERENCES master.staff (staff_id),
    month          date NOT NULL CONSTRAINT incentive_adjustment_month_first CHECK (extract(day FROM month) = 1),
    amount         numeric(12,2) NOT NULL CONSTRAINT incentive_adjustment_not_zero CHECK (amount <> 0),
    reason         text NOT NULL CONSTRAINT incentive_adjustment_reason CHECK (length(btrim(reason)) BETWEEN 5 AND 200),
    made_by        integer NOT NULL REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    made_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX incentive_adjustment_month_idx ON hr.incentive_adjustment (branch_id, month, staff_id);
SELECT audit.track('hr.incentive_adjustment', 'adjustment_id');
ALTER TABLE hr.incentive_adjustment ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_branch ON hr.incentive_adjustment USING (platform.branch_visible(branch_id))
    WITH CHECK (platform.branch_visible(branch_id));

-- A month's finance cases and policies found by their dates (hr.incentive_sources; deliveries have theirs, sql/0021).
CREATE INDEX finance_do_received_idx ON sales.finance (do_received_on) WHERE do_received_on IS NOT NULL;
CREATE INDEX policy_branch_start_idx ON insurance.policy (branch_id, (least(od_from, tp_from)));

-- ---------------------------------------------------------------------------
-- Full and final settlement
-- ---------------------------------------------------------------------------
-- Dated like every rate: leave encashment per day = (basic + DA) / encashment_divisor; gratuity =
-- gratuity_days / gratuity_divisor x (basic + DA) x years counted, from gratuity_min_years, at most the
-- ceiling (Payment of Gratuity Act: 15/26, five years, Rs 20 lakh from 29-03-2018); notice pay per day =
-- monthly gross / notice_divisor.
CREATE TABLE hr.pay_settlement_rate (
    effective_from      date PRIMARY KEY,
    encashment_divisor  numeric(4,1) NOT NULL CHECK (encashment_divisor > 0),
    gratuity_days       numeric(4,1) NOT NULL CHECK (gratuity_days > 0),
    gratuity_divisor    numeric(4,1) NOT NULL CHECK (gratuity_divisor > 0),
    gratuity_min_years  smallint NOT NULL CHECK (gratuity_min_years >= 0),
    gratuity_ceiling    numeric(12,2) NOT NULL CHECK (gratuity_ceiling > 0),
    notice_divisor      numeric(4,1) NOT NULL CHECK (notice_divisor > 0)
);
SELECT audit.track('hr.pay_settlement_rate', 'effective_from');
INSERT INTO hr.pay_settlement_rate VALUES ('2018-03-29', 26, 15, 26, 5, 2000000, 30);

-- The notice a leaver did not serve, in days, entered by accounts; recovered in the settlement.
CREATE TABLE hr.notice_shortfall (
    staff_id    integer PRIMARY KEY REFERENCES hr.employee (staff_id),
    branch_id   integer NOT NULL REFERENCES master.branch (branch_id),
    days        numeric(4,1) NOT NULL CONSTRAINT notice_shortfall_days CHECK (days > 0 AND days <= 180),
    reason      text NOT NULL CONSTRAINT notice_shortfall_reason CHECK (length(btrim(reason)) BETWEEN 5 AND 200),
    entered_by  integer REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    entered_at  timestamptz NOT NULL DEFAULT now()
);
SELECT audit.track('hr.notice_shortfall', 'staff_id');
ALTER TABLE hr.notice_shortfall ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_branch ON hr.notice_shortfall USING (platform.branch_visible(branch_id))
    WITH CHECK (platform.branch_visible(branch_id));

-- The payroll line's own columns for the new earnings and the recovery.
ALTER TABLE hr.payroll_line
    ADD COLUMN incentive        numeric(12,2) NOT NULL DEFAULT 0
        CONSTRAINT payroll_line_incentive_not_negative CHECK (incentive >= 0),
    ADD COLUMN leave_encashment numeric(12,2) NOT NULL DEFAULT 0 CHECK (leave_encashment >= 0),
    ADD COLUMN gratuity         numeric(12,2) NOT NULL DEFAULT 0 CHECK (gratuity >= 0),
    ADD COLUMN notice_recovery  numeric(12,2) NOT NULL DEFAULT 0 CHECK (notice_recovery >= 0),
    DROP CONSTRAINT payroll_line_gross_adds_up,
    ADD CONSTRAINT payroll_line_gross_adds_up CHECK (
        gross = basic + da + hra + conveyance + special + other_earnings + arrears + incentive + leave_encashment
                + gratuity),
    DROP CONSTRAINT payroll_line_deductions_add_up,
    ADD CONSTRAINT payroll_line_deductions_add_up CHECK (total_deductions = pf_employee + esi_employee + professional_tax
                                                         + tds + loan_recovery + other_deductions + notice_recovery);

-- One leaver's settlement in a run: the figures it was worked out from and each component. The payroll
-- line carries the components (leave_encashment, gratuity, notice_recovery, loan_recovery) into its gross,
-- deductions and net pay; a run is checked only when they agree.
CREATE TABLE hr.settlement (
    run_id            integer NOT NULL,
    staff_id          integer NOT NULL,
    branch_id         integer NOT NULL REFERENCES master.branch (branch_id),
    joined_on         date NOT NULL,
    left_on           date NOT NULL,
    service_years     smallint NOT NULL CHECK (service_years >= 0),
    service_months    smallint NOT NULL CHECK (service_months BETWEEN 0 AND 11),
    years_counted     smallint NOT NULL,
    basic_da          numeric(12,2) NOT NULL CHECK (basic_da >= 0),
    el_days           numeric(5,1) NOT NULL CHECK (el_days >= 0),
    leave_encashment  numeric(12,2) NOT NULL CHECK (leave_encashment >= 0),
    gratuity          numeric(12,2) NOT NULL CHECK (gratuity >= 0),
    notice_days       numeric(4,1) NOT NULL DEFAULT 0 CHECK (notice_days >= 0),
    notice_pay_due    numeric(12,2) NOT NULL CHECK (notice_pay_due >= 0),
    notice_recovery   numeric(12,2) NOT NULL CHECK (notice_recovery >= 0),
    loan_outstanding  numeric(12,2) NOT NULL CHECK (loan_outstanding >= 0),
    loan_recovered    numeric(12,2) NOT NULL CHECK (loan_recovered >= 0),
    PRIMARY KEY (run_id, staff_id),
    FOREIGN KEY (run_id, staff_id) REFERENCES hr.payroll_line (run_id, staff_id) ON DELETE CASCADE,
    CONSTRAINT settlement_years_counted CHECK (
        years_counted = service_years + CASE WHEN service_months >= 6 THEN 1 ELSE 0 END),
    CONSTRAINT settlement_service CHECK (left_on >= joined_on),
    CONSTRAINT settlement_recoveries_within CHECK (notice_recovery <= notice_pay_due AND loan_recovered <= loan_outstanding)
);
SELECT audit.track('hr.settlement', 'run_id');
ALTER TABLE hr.settlement ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_branch ON hr.settlement USING (platform.branch_visible(branch_id))
    WITH CHECK (platform.branch_visible(branch_id));

-- The notice pay a leaver makes good is the showroom's income.
INSERT INTO finance.ledger (name, group_id, system_key)
SELECT 'Notice Pay Recovered', g.group_id, 'NOTICE_PAY_RECOVERED'
  FROM finance.account_group g WHERE g.name = 'Indirect Incomes';
