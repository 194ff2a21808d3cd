-- Payroll earnings beyond the salary structure: sales and service incentives, and the full and final
-- settlement of a leaver (tables: sql/0055_payroll_incentives.sql). hr.payroll_compute
-- (sql/functions/99_payroll.sql) runs hr.incentive_compute before it computes the lines, adds
-- hr.incentive_total to each person's gross, and runs hr.settlement_compute on the lines it wrote.
--
-- Which documents count, and for whom:
--   PER_VEHICLE_DELIVERED  a delivery (sales.delivery) dated in the month, for the booking's salesperson
--   PER_FINANCE_CASE       a financed sale whose financier's delivery order (sales.finance.do_number) was
--                          received in the month, for the booking's salesperson
--   PER_INSURANCE_CASE     a policy starting in the month (its earlier cover), for the booking's salesperson,
--                          or who entered it when it was sold without a booking
--   SERVICE_REVENUE_SLAB   a service invoice (billing.invoice of kind SERVICE) dated in the month: its taxable
--                          value is the revenue of the job card's service advisor and of each technician with
--                          a line on the card
--   given back             a credit note dated in the month (it reverses its invoice in full): against a
--                          service invoice, minus its taxable value in the same people's revenue; against a
--                          delivered scooter's invoice (a sale returned), minus one delivery for its salesperson
--                          by the rule that paid the delivery (read on the delivery's date)
-- A document pays a person when their role (master.staff designation) has a rule of that kind in force on
-- the document's date (rule_date) (a service-revenue rule: on the month's first day); the rule of the document's model
-- is preferred to the role's rule for any model. Only the branch's own documents and staff count.

-- The documents of a branch's month, per person who earns from them.
CREATE OR REPLACE FUNCTION hr.incentive_sources(p_branch integer, p_month date)
RETURNS TABLE (staff_id integer, kind text, model_id integer, source_table text, source_id integer, document_no text,
               document_date date, basis numeric, rule_date date)
LANGUAGE sql STABLE
AS $$
    SELECT b.salesperson_id, 'PER_VEHICLE_DELIVERED', v.model_id, 'sales.delivery', d.delivery_id, d.delivery_no,
           d.delivered_on, 1::numeric, d.delivered_on
      FROM sales.delivery d
      JOIN sales.booking b ON b.booking_id = d.booking_id
      JOIN oem.variant v ON v.variant_id = b.variant_id
     WHERE b.branch_id = p_branch AND d.delivered_on >= p_month AND d.delivered_on < p_month + interval '1 month'
    UNION ALL
    SELECT b.salesperson_id, 'PER_FINANCE_CASE', v.model_id, 'sales.finance', f.booking_id, f.do_number,
           f.do_received_on, 1::numeric, f.do_received_on
      FROM sales.finance f
      JOIN sales.booking b ON b.booking_id = f.booking_id
      JOIN oem.variant v ON v.variant_id = b.variant_id
     WHERE b.branch_id = p_branch AND b.stage <> 'CANCELLED'
       AND f.do_received_on >= p_month AND f.do_received_on < p_month + interval '1 month'
    UNION ALL
    SELECT coalesce(b.salesperson_id, p.created_by), 'PER_INSURANCE_CASE', v.model_id, 'insurance.policy', p.policy_id,
           coalesce(p.od_policy_no, p.tp_policy_no), least(p.od_from, p.tp_from), 1::numeric,
           least(p.od_from, p.tp_from)
      FROM insurance.policy p
      LEFT JOIN sales.booking b ON b.booking_id = p.booking_id
      JOIN inventory.vehicle_unit u ON u.unit_id = p.unit_id
      JOIN oem.variant v ON v.variant_id = u.variant_id
     WHERE p.branch_id = p_branch AND coalesce(b.salesperson_id, p.created_by) IS NOT NULL
       AND least(p.od_from, p.tp_from) >= p_month AND least(p.od_from, p.tp_from) < p_month + interval '1 month'
    UNION ALL
    SELECT w.staff_id, 'SERVICE_REVENUE_SLAB', NULL::integer, x.source_table, x.source_id, x.document_no,
           x.document_date, x.basis, x.document_date
      FROM (SELECT 'billing.invoice' AS source_table, i.invoice_id AS source_id, i.invoice_no AS document_no,
                   i.invoice_date AS document_date, i.taxable_value AS basis, i.invoice_id
              FROM billing.invoice i
             WHERE i.branch_id = p_branch AND i.kind = 'SERVICE'
               AND i.invoice_date >= p_month AND i.invoice_date < p_month + interval '1 month'
            UNION ALL
            SELECT 'billing.credit_note', cn.credit_note_id, cn.credit_note_no, cn.note_date, -cn.taxable_value,
                   cn.invoice_id
              FROM billing.credit_note cn
              JOIN billing.invoice i ON i.invoice_id = cn.invoice_id AND i.kind = 'SERVICE'
             WHERE cn.branch_id = p_branch AND cn.taxable_value > 0
               AND cn.note_date >= p_month AND cn.note_date < p_month + interval '1 month') x
      -- the card's bills (a credit note clears job_card.invoice_id so that the card can be billed again)
      JOIN service.job_card_bill jb ON jb.invoice_id = x.invoice_id
      JOIN service.job_card j ON j.job_card_id = jb.job_card_id
      CROSS JOIN LATERAL (SELECT j.advisor_id AS staff_id WHERE j.advisor_id IS NOT NULL
                          UNION
                          SELECT l.technician_id FROM service.job_line l
                           WHERE l.job_card_id = j.job_card_id AND l.technician_id IS NOT NULL) w
    UNION ALL
    SELECT b.salesperson_id, 'PER_VEHICLE_DELIVERED', v.model_id, 'billing.credit_note', cn.credit_note_id,
           cn.credit_note_no, cn.note_date, -1::numeric, d.delivered_on
      FROM billing.credit_note cn
      JOIN billing.invoice i ON i.invoice_id = cn.invoice_id AND i.kind = 'VEHICLE'
      JOIN sales.booking b ON b.booking_id = i.booking_id
      JOIN sales.delivery d ON d.booking_id = i.booking_id AND d.delivered_on <= cn.note_date
      JOIN oem.variant v ON v.variant_id = b.variant_id
     WHERE cn.branch_id = p_branch AND cn.note_date >= p_month AND cn.note_date < p_month + interval '1 month'
$$;

-- A service-revenue rule's amount for a month's revenue: each slab reached pays its pct of the revenue
-- within it (up to the next slab) or its fixed amount; to the rupee.
CREATE OR REPLACE FUNCTION hr.incentive_slab_amount(p_rule integer, p_revenue numeric) RETURNS numeric
LANGUAGE sql STABLE
AS $$
    SELECT round(coalesce(sum(CASE WHEN s.pct IS NOT NULL
                                   THEN (least(p_revenue, coalesce(s.upto, p_revenue)) - s.revenue_from) * s.pct / 100
                                   ELSE s.fixed_amount END), 0))
      FROM (SELECT sl.*, lead(sl.revenue_from) OVER (ORDER BY sl.revenue_from) AS upto
              FROM hr.incentive_slab sl WHERE sl.rule_id = p_rule) s
     WHERE s.revenue_from <= p_revenue
$$;

-- A person's incentive for a branch's month: the computed lines and the managers' adjustments.
CREATE OR REPLACE FUNCTION hr.incentive_total(p_staff integer, p_branch integer, p_month date) RETURNS numeric
LANGUAGE sql STABLE
AS $$
    SELECT coalesce((SELECT sum(l.amount) FROM hr.incentive_line l
                      WHERE l.staff_id = p_staff AND l.branch_id = p_branch AND l.month = p_month), 0)
         + coalesce((SELECT sum(a.amount) FROM hr.incentive_adjustment a
                      WHERE a.staff_id = p_staff AND a.branch_id = p_branch AND a.month = p_month), 0)
$$;

-- A month's incentives change only while the branch has no run of it beyond a draft.
CREATE OR REPLACE FUNCTION hr.refuse_settled_incentive_month(p_branch integer, p_month date) RETURNS void
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM hr.payroll_run r
                WHERE r.branch_id = p_branch AND r.month = p_month AND r.status <> 'DRAFT') THEN
        RAISE EXCEPTION 'the payroll run of % is checked or approved: its incentives no longer change',
                        to_char(p_month, 'MM-YYYY')
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'incentive_month_permanent';
    END IF;
END
$$;

-- Compute a branch's month again from its documents: the lines are replaced, the adjustments stay.
CREATE OR REPLACE FUNCTION hr.incentive_compute(p_branch integer, p_month date) RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    lines integer;
BEGIN
    -- one computation of a branch's month at a time: a second waits, then replaces the first's lines
    PERFORM pg_advisory_xact_lock(hashtext('hr.incentive_compute/' || p_branch || '/' || p_month));
    PERFORM hr.refuse_settled_incentive_month(p_branch, p_month);
    DELETE FROM hr.incentive_line WHERE branch_id = p_branch AND month = p_month;
    WITH src AS (
            SELECT s.*, st.designation
              FROM hr.incentive_sources(p_branch, p_month) s
              JOIN master.staff st ON st.staff_id = s.staff_id AND st.branch_id = p_branch),
         per_document AS (
            SELECT DISTINCT ON (src.staff_id, src.kind, src.source_table, src.source_id)
                   src.*, r.rule_id, r.amount * src.basis AS amount   -- a returned delivery: minus the rule's amount
              FROM src
              JOIN hr.incentive_rule r ON r.kind = src.kind AND r.role_code = src.designation
                                      AND (r.model_id IS NULL OR r.model_id = src.model_id)
                                      AND src.rule_date >= r.valid_from
                                      AND (r.valid_to IS NULL OR src.rule_date <= r.valid_to)
             WHERE src.kind <> 'SERVICE_REVENUE_SLAB'
             ORDER BY src.staff_id, src.kind, src.source_table, src.source_id, r.model_id NULLS LAST),
         revenue AS (
            SELECT src.*, r.rule_id,
                   sum(src.basis) OVER (PARTITION BY src.staff_id) AS month_revenue,
                   sum(src.basis) OVER (PARTITION BY src.staff_id ORDER BY src.document_date, src.source_id) AS running
              FROM src
              JOIN hr.incentive_rule r ON r.kind = src.kind AND r.role_code = src.designation
                                      AND p_month >= r.valid_from AND (r.valid_to IS NULL OR p_month <= r.valid_to)
             WHERE src.kind = 'SERVICE_REVENUE_SLAB'),
         slab AS (
            SELECT v.*, hr.incentive_slab_amount(v.rule_id, v.month_revenue) AS month_amount FROM revenue v)
    INSERT INTO hr.incentive_line (branch_id, month, staff_id, rule_id, kind, source_table, source_id, document_no,
                                   document_date, basis, amount)
    SELECT p_branch, p_month, d.staff_id, d.rule_id, d.kind, d.source_table, d.source_id, d.document_no, d.document_date,
           d.basis, d.amount
      FROM per_document d
    UNION ALL
    -- the month's slab amount shared over its invoices by taxable value: the running shares are rounded, so
    -- the lines add up to the amount exactly
    SELECT p_branch, p_month, s.staff_id, s.rule_id, s.kind, s.source_table, s.source_id, s.document_no,
           s.document_date, s.basis,
           CASE WHEN s.month_revenue > 0
                THEN round(s.month_amount * s.running / s.month_revenue, 2)
                     - round(s.month_amount * (s.running - s.basis) / s.month_revenue, 2)
                ELSE 0 END
      FROM slab s;
    GET DIAGNOSTICS lines = ROW_COUNT;
    RETURN lines;
END
$$;

CREATE OR REPLACE FUNCTION hr.check_incentive_line() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM hr.refuse_settled_incentive_month(OLD.branch_id, OLD.month);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM hr.refuse_settled_incentive_month(NEW.branch_id, NEW.month);
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;

CREATE OR REPLACE TRIGGER incentive_line_check BEFORE INSERT OR UPDATE OR DELETE ON hr.incentive_line
    FOR EACH ROW EXECUTE FUNCTION hr.check_incentive_line();

-- A manager (or an administrator) adjusts someone else's month of their branch, while it is open, never
-- below nothing; the adjustment is permanent.
CREATE OR REPLACE FUNCTION hr.check_incentive_adjustment() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM hr.refuse_settled_incentive_month(NEW.branch_id, NEW.month);
    IF NOT EXISTS (SELECT 1 FROM master.staff s WHERE s.staff_id = NEW.made_by AND s.is_active
                                                  AND s.designation IN ('MANAGER', 'ADMIN')) THEN
        RAISE EXCEPTION 'an incentive is adjusted by a manager or an administrator'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'incentive_adjustment_by_manager';
    END IF;
    IF NEW.made_by = NEW.staff_id THEN
        RAISE EXCEPTION 'nobody adjusts their own incentive'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'incentive_adjustment_not_own';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM master.staff s WHERE s.staff_id = NEW.staff_id AND s.branch_id = NEW.branch_id) THEN
        RAISE EXCEPTION 'the person is not of this branch'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'incentive_adjustment_branch';
    END IF;
    IF hr.incentive_total(NEW.staff_id, NEW.branch_id, NEW.month) + NEW.amount < 0 THEN
        RAISE EXCEPTION 'the adjustment takes away more than the month''s incentive'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'incentive_adjustment_within';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER incentive_adjustment_check BEFORE INSERT ON hr.incentive_adjustment
    FOR EACH ROW EXECUTE FUNCTION hr.check_incentive_adjustment();
CREATE OR REPLACE TRIGGER incentive_adjustment_is_permanent BEFORE UPDATE OR DELETE ON hr.incentive_adjustment
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- A rule's terms never change (a new term is a new rule from a later date); only its end may be set, and
-- not before a document it paid in a checked or approved month.
CREATE OR REPLACE FUNCTION hr.check_incentive_rule() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF (NEW.rule_id, NEW.role_code, NEW.kind, NEW.model_id, NEW.amount, NEW.valid_from, NEW.created_by, NEW.created_at)
       IS DISTINCT FROM (OLD.rule_id, OLD.role_code, OLD.kind, OLD.model_id, OLD.amount, OLD.valid_from, OLD.created_by,
                         OLD.created_at) THEN
        RAISE EXCEPTION 'a rule''s terms do not change: end it and enter a new one'
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'incentive_rule_permanent';
    END IF;
    IF NEW.valid_to IS NOT NULL AND EXISTS (
            SELECT 1 FROM hr.incentive_line l
              JOIN hr.payroll_run r ON r.branch_id = l.branch_id AND r.month = l.month AND r.status <> 'DRAFT'
             WHERE l.rule_id = NEW.rule_id
               AND CASE WHEN l.kind = 'SERVICE_REVENUE_SLAB' THEN l.month ELSE l.document_date END > NEW.valid_to) THEN
        RAISE EXCEPTION 'the rule paid a checked or approved month after that day'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'incentive_rule_end_after_paid';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER incentive_rule_check BEFORE UPDATE ON hr.incentive_rule
    FOR EACH ROW EXECUTE FUNCTION hr.check_incentive_rule();
CREATE OR REPLACE TRIGGER incentive_rule_never_deleted BEFORE DELETE ON hr.incentive_rule
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- The slabs of a rule that has paid anything stay as they were.
CREATE OR REPLACE FUNCTION hr.check_incentive_slab() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM hr.incentive_line l
                WHERE l.rule_id = CASE WHEN TG_OP = 'DELETE' THEN OLD.rule_id ELSE NEW.rule_id END)
       OR (TG_OP = 'UPDATE' AND EXISTS (SELECT 1 FROM hr.incentive_line l WHERE l.rule_id = OLD.rule_id)) THEN
        RAISE EXCEPTION 'the rule has paid incentives: its slabs stay; end it and enter a new one'
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'incentive_slab_used';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;

CREATE OR REPLACE TRIGGER incentive_slab_check BEFORE INSERT OR UPDATE OR DELETE ON hr.incentive_slab
    FOR EACH ROW EXECUTE FUNCTION hr.check_incentive_slab();

-- ---------------------------------------------------------------------------
-- Full and final settlement
-- ---------------------------------------------------------------------------
-- For each line of the run whose person left in the run's month, with the rates in force on the day they
-- left: service from joining to the last day (both counted), six months or more counting as a year;
-- leave encashment of the earned leave accrued in the year they left (the quota's share of the months served,
-- with what was carried in, less what was taken) at (basic + DA) / divisor per day;
-- gratuity from the minimum years at days / divisor x (basic + DA) x years counted, at most the ceiling;
-- the notice shortfall at the monthly gross / divisor per day; then everything still owed of the branch's
-- advances and loans (not the instalment alone). The two recoveries take at most what the line pays;
-- what they leave unrecovered shows on the statement.
CREATE OR REPLACE FUNCTION hr.settlement_compute(p_run integer) RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    run hr.payroll_run;
    p record;
    rate hr.pay_settlement_rate;
    service interval;
    years integer;
    months integer;
    counted integer;
    el numeric;
    el_quota numeric;
    served integer;
    encashment numeric;
    gratuity_due numeric;
    notice_days numeric;
    notice_due numeric;
    notice_taken numeric;
    payable numeric;
    owed numeric;
    recovered numeric;
    settled integer := 0;
BEGIN
    SELECT * INTO STRICT run FROM hr.payroll_run WHERE run_id = p_run;
    FOR p IN
        SELECT l.*, e.joined_on, e.left_on, st.basic + st.da AS basic_da, st.monthly_gross AS structure_gross
          FROM hr.payroll_line l
          JOIN hr.employee e ON e.staff_id = l.staff_id
          JOIN hr.pay_structure st ON st.structure_id = l.structure_id
         WHERE l.run_id = p_run AND e.left_on >= run.month AND e.left_on < run.month + interval '1 month'
    LOOP
        SELECT * INTO STRICT rate FROM hr.pay_settlement_rate WHERE effective_from <= p.left_on
         ORDER BY effective_from DESC LIMIT 1;
        service := age(p.left_on + 1, p.joined_on);
        years := extract(year FROM service);
        months := extract(month FROM service);
        counted := years + CASE WHEN months >= 6 THEN 1 ELSE 0 END;
        -- earned leave accrues by the month: of the leaving year's quota, the share of the months served in it
        -- (the leaving month counted, to the half day), with what was carried in, less what was taken
        el_quota := coalesce((SELECT q.days FROM hr.leave_quota q
                               WHERE q.leave_code = 'EL' AND q.year = extract(year FROM p.left_on)), 0);
        served := (extract(year FROM p.left_on) * 12 + extract(month FROM p.left_on))
                  - (extract(year FROM greatest(p.joined_on, date_trunc('year', p.left_on)::date)) * 12
                     + extract(month FROM greatest(p.joined_on, date_trunc('year', p.left_on)::date))) + 1;
        el := greatest(hr.leave_balance(p.staff_id, 'EL', extract(year FROM p.left_on)::integer)
                       - el_quota + round(el_quota * served / 12 * 2) / 2, 0);
        encashment := round(el * p.basic_da / rate.encashment_divisor);
        gratuity_due := CASE WHEN counted >= rate.gratuity_min_years
                         THEN least(round(rate.gratuity_days / rate.gratuity_divisor * p.basic_da * counted),
                                    rate.gratuity_ceiling)
                         ELSE 0 END;
        notice_days := coalesce((SELECT n.days FROM hr.notice_shortfall n WHERE n.staff_id = p.staff_id), 0);
        notice_due := round(p.structure_gross * notice_days / rate.notice_divisor);
        payable := p.gross + encashment + gratuity_due
                   - (p.pf_employee + p.esi_employee + p.professional_tax + p.tds + p.other_deductions);
        notice_taken := least(notice_due, greatest(payable, 0));
        payable := payable - notice_taken;

        DELETE FROM hr.payroll_loan_recovery rc USING hr.pay_loan ln
         WHERE rc.run_id = p_run AND rc.loan_id = ln.loan_id AND ln.staff_id = p.staff_id;
        WITH o AS (
                SELECT ln.loan_id,
                       ln.amount - coalesce((SELECT sum(rc.amount) FROM hr.payroll_loan_recovery rc
                                              WHERE rc.loan_id = ln.loan_id AND rc.run_id <> p_run), 0) AS owed
                  FROM hr.pay_loan ln WHERE ln.staff_id = p.staff_id AND ln.branch_id = run.branch_id),
             c AS (SELECT o.*, sum(o.owed) OVER (ORDER BY o.loan_id) AS running FROM o WHERE o.owed > 0)
        INSERT INTO hr.payroll_loan_recovery (run_id, loan_id, amount)
        SELECT p_run, c.loan_id, least(c.owed, greatest(payable - (c.running - c.owed), 0))
          FROM c WHERE least(c.owed, greatest(payable - (c.running - c.owed), 0)) > 0;
        owed := coalesce((SELECT sum(ln.amount - coalesce((SELECT sum(rc.amount) FROM hr.payroll_loan_recovery rc
                                                           WHERE rc.loan_id = ln.loan_id AND rc.run_id <> p_run), 0))
                            FROM hr.pay_loan ln WHERE ln.staff_id = p.staff_id AND ln.branch_id = run.branch_id), 0);
        recovered := coalesce((SELECT sum(rc.amount) FROM hr.payroll_loan_recovery rc JOIN hr.pay_loan ln USING (loan_id)
                                WHERE rc.run_id = p_run AND ln.staff_id = p.staff_id), 0);

        UPDATE hr.payroll_line
           SET leave_encashment = encashment, gratuity = gratuity_due, notice_recovery = notice_taken,
               loan_recovery = recovered,
               gross = p.gross + encashment + gratuity_due,
               total_deductions = p.total_deductions - p.loan_recovery + recovered + notice_taken,
               net_pay = p.gross + encashment + gratuity_due
                         - (p.total_deductions - p.loan_recovery + recovered + notice_taken)
         WHERE run_id = p_run AND staff_id = p.staff_id;
        INSERT INTO hr.settlement (run_id, staff_id, branch_id, joined_on, left_on, service_years, service_months,
                                   years_counted, basic_da, el_days, leave_encashment, gratuity, notice_days,
                                   notice_pay_due, notice_recovery, loan_outstanding, loan_recovered)
        VALUES (p_run, p.staff_id, run.branch_id, p.joined_on, p.left_on, years, months, counted, p.basic_da, el,
                encashment, gratuity_due, notice_days, notice_due, notice_taken, owed, recovered);
        settled := settled + 1;
    END LOOP;
    RETURN settled;
END
$$;

CREATE OR REPLACE TRIGGER settlement_check BEFORE INSERT OR UPDATE OR DELETE ON hr.settlement
    FOR EACH ROW EXECUTE FUNCTION hr.check_payroll_run_part();

-- A shortfall entered, changed or withdrawn only while no checked or approved run carries the person's
-- settlement.
CREATE OR REPLACE FUNCTION hr.check_notice_shortfall() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM hr.settlement s JOIN hr.payroll_run r USING (run_id)
                WHERE s.staff_id = CASE WHEN TG_OP = 'DELETE' THEN OLD.staff_id ELSE NEW.staff_id END
                  AND r.status <> 'DRAFT') THEN
        RAISE EXCEPTION 'the settlement is already checked or approved'
            USING ERRCODE = 'integrity_constraint_violation', CONSTRAINT = 'notice_shortfall_settled';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;

CREATE OR REPLACE TRIGGER notice_shortfall_check BEFORE INSERT OR UPDATE OR DELETE ON hr.notice_shortfall
    FOR EACH ROW EXECUTE FUNCTION hr.check_notice_shortfall();

-- A run is checked only as computed: each line's incentive is the month's incentives as they are now, and
-- each leaver's line carries their settlement.
CREATE OR REPLACE FUNCTION hr.check_payroll_run_earnings() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM hr.payroll_line l
                WHERE l.run_id = NEW.run_id AND l.incentive <> hr.incentive_total(l.staff_id, l.branch_id, NEW.month)) THEN
        RAISE EXCEPTION 'the incentives changed since the run was computed: recompute it'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'payroll_run_incentives_current';
    END IF;
    IF EXISTS (SELECT 1 FROM hr.payroll_line l
                 JOIN hr.employee e ON e.staff_id = l.staff_id
                 LEFT JOIN hr.settlement s ON s.run_id = l.run_id AND s.staff_id = l.staff_id
                WHERE l.run_id = NEW.run_id
                  AND ((e.left_on >= NEW.month AND e.left_on < NEW.month + interval '1 month' AND s.staff_id IS NULL)
                       OR (l.leave_encashment, l.gratuity, l.notice_recovery)
                          IS DISTINCT FROM (coalesce(s.leave_encashment, 0), coalesce(s.gratuity, 0),
                                            coalesce(s.notice_recovery, 0)))) THEN
        RAISE EXCEPTION 'a leaver''s settlement is not the one on their line: recompute the run'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'payroll_run_settlement_current';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER payroll_run_earnings_check BEFORE UPDATE OF status ON hr.payroll_run
    FOR EACH ROW WHEN (NEW.status = 'CHECKED' AND OLD.status = 'DRAFT') EXECUTE FUNCTION hr.check_payroll_run_earnings();
