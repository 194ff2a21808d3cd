-- GST returns (tables in sql/0042_gst_returns.sql): the dated parameters looked up for a return
-- period, the lines of every outward document sorted into their GSTR-1 section, the input tax
-- credit the GSTR-3B reads, the turnover that decides the HSN digits, and the portal's rules checked
-- before a GSTR-1 is made.

-- ---------------------------------------------------------------------------
-- Dated parameters.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION finance.gst_return_setting_on(p_code text, p_on date) RETURNS text
LANGUAGE sql STABLE
AS $$
    SELECT value FROM finance.gst_return_setting
     WHERE code = p_code AND master.valid_during(effective_from, effective_to) @> p_on
$$;

-- The digits of HSN the summary needs for a turnover; NULL where no rule applies (before 2021).
CREATE OR REPLACE FUNCTION finance.hsn_digits_for(p_turnover numeric, p_on date) RETURNS smallint
LANGUAGE sql STABLE
AS $$
    SELECT digits FROM finance.hsn_digits_rule
     WHERE master.valid_during(effective_from, effective_to) @> p_on
       AND (p_turnover > turnover_above OR turnover_above = 0)
     ORDER BY turnover_above DESC
     LIMIT 1
$$;

-- The UQC of a unit; a SAC (chapter 99) is a service whatever its unit.
CREATE OR REPLACE FUNCTION finance.uqc_for(p_unit text, p_hsn text, p_on date) RETURNS text
LANGUAGE sql STABLE
AS $$
    SELECT uqc FROM finance.gst_uqc
     WHERE master.valid_during(effective_from, effective_to) @> p_on
       AND CASE WHEN p_hsn LIKE '99%' THEN for_services ELSE unit = p_unit END
$$;

-- Aggregate turnover of a PAN in a financial year (every GSTIN of the PAN, every branch, whoever
-- asks: the one figure the HSN digits rule needs, no document is shown): taxable value invoiced
-- less credit notes. A job sheet charged nothing.
CREATE OR REPLACE FUNCTION finance.pan_turnover(p_gstin text, p_fy_start integer) RETURNS numeric
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    WITH branches AS (
        SELECT branch_id FROM master.branch WHERE substr(gstin, 3, 10) = substr(p_gstin, 3, 10))
    SELECT coalesce((SELECT sum(i.taxable_value) FROM billing.invoice i
                      WHERE i.branch_id IN (SELECT branch_id FROM branches) AND i.kind <> 'JOB_SHEET'
                        AND i.invoice_date BETWEEN make_date(p_fy_start, 4, 1) AND make_date(p_fy_start + 1, 3, 31)), 0)
         - coalesce((SELECT sum(cn.taxable_value) FROM billing.credit_note cn
                      WHERE cn.branch_id IN (SELECT branch_id FROM branches)
                        AND cn.note_date BETWEEN make_date(p_fy_start, 4, 1) AND make_date(p_fy_start + 1, 3, 31)), 0)
$$;

-- ---------------------------------------------------------------------------
-- GSTR-1's sections. A line at 0 % is a nil-rated supply; a buyer with a GSTIN is B2B (a tax
-- invoice of kind TRANSFER is one: it is raised only to a branch of another GSTIN, a distinct person;
-- a transfer within one GSTIN travels on a delivery challan and is no supply); an unregistered
-- buyer in another state above the dated B2CL limit (invoice value, limit on the invoice's date)
-- is B2CL; the rest is B2CS. A credit note takes its invoice's section (cdnr, cdnur, or B2CS net).
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION finance.gstr1_section(p_buyer_gstin text, p_pos text, p_supplier_state text,
                                                 p_value numeric, p_b2cl_limit numeric, p_rate numeric) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE WHEN p_rate = 0 THEN 'NIL'
                WHEN p_buyer_gstin IS NOT NULL THEN 'B2B'
                WHEN p_pos IS DISTINCT FROM p_supplier_state AND p_value > p_b2cl_limit THEN 'B2CL'
                ELSE 'B2CS' END
$$;

-- Every line of a tax invoice (a job sheet is none: nothing was charged, sql/0025) and of a credit
-- note (the whole invoice reversed, amounts negative), the customer's lines only (a line the OEM
-- pays for under warranty or as a free service has no taxable value and is claimed from the OEM).
-- Read through the branch policies' rule, like billing's views. The B2CL limit is the one in force
-- on the invoice's date (billing.threshold), joined, not looked up line by line.
CREATE OR REPLACE VIEW finance.gstr1_line AS
SELECT 'INV'::text AS doc, i.invoice_id AS doc_id, i.invoice_no AS doc_no, i.invoice_date AS doc_date,
       i.grand_total AS doc_value, i.invoice_id, i.invoice_no, i.invoice_date, i.branch_id, i.kind,
       i.supplier_gstin, i.supplier_state_code::text AS supplier_state, i.buyer_gstin,
       i.place_of_supply::text AS place_of_supply, i.reverse_charge,
       finance.gstr1_section(i.buyer_gstin, i.place_of_supply, i.supplier_state_code, i.grand_total, t.amount,
                             l.gst_rate) AS section,
       l.line_no, l.description, l.hsn_code, l.unit, l.qty, l.gst_rate, l.taxable_value, l.cgst, l.sgst, l.igst
  FROM billing.invoice i
  JOIN billing.invoice_line l ON l.invoice_id = i.invoice_id AND l.coverage = 'CUSTOMER'
  LEFT JOIN billing.threshold t
    ON t.code = 'B2CL' AND master.valid_during(t.effective_from, t.effective_to) @> i.invoice_date
 WHERE i.kind <> 'JOB_SHEET' AND platform.branch_visible(i.branch_id)
UNION ALL
SELECT 'CRN', cn.credit_note_id, cn.credit_note_no, cn.note_date, cn.grand_total, i.invoice_id, i.invoice_no,
       i.invoice_date, cn.branch_id, i.kind, i.supplier_gstin, i.supplier_state_code::text, i.buyer_gstin,
       i.place_of_supply::text, i.reverse_charge,
       finance.gstr1_section(i.buyer_gstin, i.place_of_supply, i.supplier_state_code, i.grand_total, t.amount,
                             l.gst_rate),
       l.line_no, l.description, l.hsn_code, l.unit, -l.qty, l.gst_rate, -l.taxable_value, -l.cgst, -l.sgst, -l.igst
  FROM billing.credit_note cn
  JOIN billing.invoice i ON i.invoice_id = cn.invoice_id
  JOIN billing.invoice_line l ON l.invoice_id = i.invoice_id AND l.coverage = 'CUSTOMER'
  LEFT JOIN billing.threshold t
    ON t.code = 'B2CL' AND master.valid_during(t.effective_from, t.effective_to) @> i.invoice_date
 WHERE platform.branch_visible(cn.branch_id);

-- What GSTR-1 cannot carry, document by document, for a GSTIN's documents between two dates: a
-- number the portal refuses (over 16 characters, or other than letters, digits, '-' and '/'), a
-- buyer GSTIN that fails its shape or check digit or is the seller's own, a place of supply that is
-- missing or no state code, an HSN/SAC shorter than the turnover rule asks. The database's own
-- constraints refuse most of these at posting; this is the check before upload, for rows that came
-- in another way (the generated history, an import) or a rule that changed since.
CREATE OR REPLACE FUNCTION finance.gstr1_problems(p_gstin text, p_from date, p_to date)
RETURNS TABLE (doc_no text, doc_date date, problem text)
LANGUAGE sql STABLE
AS $$
    WITH docs AS (
        SELECT DISTINCT doc, doc_no, doc_date, invoice_no, buyer_gstin, place_of_supply, supplier_gstin
          FROM finance.gstr1_line
         WHERE branch_id IN (SELECT branch_id FROM master.branch WHERE gstin = p_gstin)
           AND doc_date BETWEEN p_from AND p_to),
    digits AS MATERIALIZED (          -- once, not per line
        SELECT finance.hsn_digits_for(finance.pan_turnover(p_gstin, master.fy_start_year(p_from) - 1), p_to) AS n)
    SELECT d.doc_no, d.doc_date, p.problem
      FROM docs d
      CROSS JOIN LATERAL (VALUES
          (CASE WHEN d.doc_no IS NULL OR d.doc_no !~ '^[A-Za-z0-9/-]{1,16}$' THEN
                format('number %s is not 1 to 16 letters, digits, ''-'' or ''/''', coalesce(d.doc_no, '(none)')) END),
          (CASE WHEN d.buyer_gstin IS NOT NULL AND NOT coalesce(master.is_gstin(d.buyer_gstin), false) THEN
                format('buyer GSTIN %s is not a valid GSTIN (shape or check digit)', d.buyer_gstin) END),
          (CASE WHEN d.buyer_gstin = d.supplier_gstin THEN
                format('billed to the seller''s own GSTIN %s', d.buyer_gstin) END),
          (CASE WHEN d.place_of_supply IS NULL THEN 'no place of supply'
                WHEN NOT EXISTS (SELECT 1 FROM master.state s WHERE s.state_code = d.place_of_supply) THEN
                format('place of supply %s is not a state code', d.place_of_supply) END)) AS p (problem)
     WHERE p.problem IS NOT NULL
    UNION ALL
    SELECT l.doc_no, l.doc_date,
           format('HSN/SAC %s has fewer than the %s digits the turnover rule asks', l.hsn_code, g.n)
      FROM (SELECT DISTINCT doc_no, doc_date, hsn_code FROM finance.gstr1_line
             WHERE branch_id IN (SELECT branch_id FROM master.branch WHERE gstin = p_gstin)
               AND doc_date BETWEEN p_from AND p_to) l
      CROSS JOIN digits g
     WHERE g.n IS NOT NULL AND length(l.hsn_code) < g.n
$$;

-- ---------------------------------------------------------------------------
-- Input tax credit for GSTR-3B's Table 4: where eligible input tax comes from, one row per
-- document, under the branch that takes the credit. The OEM's purchase invoices (vehicles and spares
-- bought for resale: eligible), and the tax invoice of a stock transfer from a branch of another
-- GSTIN (a purchase for the receiving branch), and the expenses with a supplier's GST (eligible as
-- the expense says: ineligible input tax is part of the expense's cost), by the supplier's bill date.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE VIEW finance.itc_source AS
SELECT 'procurement.purchase_invoice'::text AS source_table, p.pinv_id::bigint AS source_id, p.branch_id,
       p.invoice_date AS doc_date, p.supplier_invoice_no AS doc_no, o.legal_name AS supplier_name,
       o.gstin AS supplier_gstin, p.taxable_value, p.igst, p.cgst, p.sgst, 0::numeric(14, 2) AS cess,
       true AS eligible
  FROM procurement.purchase_invoice p
  JOIN oem.oem o ON o.oem_id = p.oem_id
 WHERE platform.branch_visible(p.branch_id)
UNION ALL
SELECT 'billing.invoice', i.invoice_id::bigint, t.to_branch_id, i.invoice_date, i.invoice_no, s.legal_name,
       i.supplier_gstin, i.taxable_value, i.igst, i.cgst, i.sgst, 0::numeric(14, 2), true
  FROM billing.invoice i
  JOIN inventory.stock_transfer t ON t.transfer_id = i.transfer_id
  JOIN master.branch s ON s.branch_id = i.branch_id
 WHERE i.kind = 'TRANSFER' AND platform.branch_visible(t.to_branch_id)
UNION ALL
SELECT 'finance.expense', e.expense_id::bigint, e.branch_id, e.bill_date, e.bill_no, e.supplier_name,
       e.supplier_gstin, e.taxable, e.igst, e.cgst, e.sgst, 0::numeric(14, 2), e.itc_eligible
  FROM finance.expense e
 WHERE e.supplier_gstin IS NOT NULL AND e.cgst + e.sgst + e.igst > 0 AND platform.branch_visible(e.branch_id);

-- ---------------------------------------------------------------------------
-- The dated return parameters (the GSTR-1 format version and HSN shape, the B2CL limit of
-- billing.threshold, the HSN digits by turnover, the UQC of each unit) change by a new dated row,
-- never by editing one a return was made with. A month closed in the books is a month whose returns
-- are made: a row in force on any day up to the last closed month's end keeps its values and those
-- days; a new value starts after that day.
-- ---------------------------------------------------------------------------

-- The last day of the latest month closed in the books at any branch (NULL: none); every branch's,
-- whoever asks: the parameters are the whole showroom's, no document is shown.
CREATE OR REPLACE FUNCTION finance.last_closed_day() RETURNS date
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT (max(month) + interval '1 month' - interval '1 day')::date FROM finance.closed_month
$$;

CREATE OR REPLACE FUNCTION finance.keep_used_return_parameter() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    closed date := finance.last_closed_day();
BEGIN
    IF closed IS NOT NULL AND OLD.effective_from <= closed AND (
           TG_OP = 'DELETE'
        OR to_jsonb(OLD) - 'effective_to' IS DISTINCT FROM to_jsonb(NEW) - 'effective_to'
        OR NEW.effective_to < least(coalesce(OLD.effective_to, 'infinity'::date), closed)) THEN
        RAISE EXCEPTION 'this value was in force for returns already made (up to %): add a new dated value instead',
            to_char(closed, 'DD-MM-YYYY')
            USING ERRCODE = 'check_violation', CONSTRAINT = 'return_parameter_used';
    END IF;
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END
$$;

CREATE OR REPLACE TRIGGER return_parameter_kept BEFORE UPDATE OR DELETE ON finance.gst_return_setting
    FOR EACH ROW EXECUTE FUNCTION finance.keep_used_return_parameter();
CREATE OR REPLACE TRIGGER return_parameter_kept BEFORE UPDATE OR DELETE ON finance.hsn_digits_rule
    FOR EACH ROW EXECUTE FUNCTION finance.keep_used_return_parameter();
CREATE OR REPLACE TRIGGER return_parameter_kept BEFORE UPDATE OR DELETE ON finance.gst_uqc
    FOR EACH ROW EXECUTE FUNCTION finance.keep_used_return_parameter();
CREATE OR REPLACE TRIGGER return_parameter_kept BEFORE UPDATE OR DELETE ON billing.threshold
    FOR EACH ROW WHEN (OLD.code = 'B2CL') EXECUTE FUNCTION finance.keep_used_return_parameter();

-- A new value of a parameter from a day: the value in force then (of the same code, turnover bound or
-- unit) ends the day before, the new one runs until further notice. p_kind: GSTR1_VERSION or
-- HSN_SHAPE (p_value the text), B2CL (p_value the amount), HSN_DIGITS (p_key the turnover above
-- which, p_value the digits), UQC (p_key the unit, NULL for services; p_value the UQC). A value
-- of a later start already there is an overlap, refused by the table's own constraint.
CREATE OR REPLACE FUNCTION finance.add_return_parameter(p_kind text, p_key text, p_value text, p_from date,
                                                        p_note text) RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    closed date := finance.last_closed_day();
    new_id integer;
BEGIN
    IF p_from <= closed THEN
        RAISE EXCEPTION 'returns up to % are made (the month is closed in the books): a new value starts after it',
            to_char(closed, 'DD-MM-YYYY')
            USING ERRCODE = 'check_violation', CONSTRAINT = 'return_parameter_after_closed_month';
    END IF;
    CASE p_kind
    WHEN 'GSTR1_VERSION', 'HSN_SHAPE' THEN
        UPDATE finance.gst_return_setting SET effective_to = p_from - 1
         WHERE code = p_kind AND effective_from < p_from AND coalesce(effective_to, p_from) >= p_from;
        INSERT INTO finance.gst_return_setting (code, value, effective_from, note)
        VALUES (p_kind, p_value, p_from, p_note) RETURNING setting_id INTO new_id;
    WHEN 'B2CL' THEN
        UPDATE billing.threshold SET effective_to = p_from - 1
         WHERE code = 'B2CL' AND effective_from < p_from AND coalesce(effective_to, p_from) >= p_from;
        INSERT INTO billing.threshold (code, amount, effective_from, notification)
        VALUES ('B2CL', p_value::numeric, p_from, p_note) RETURNING threshold_id INTO new_id;
    WHEN 'HSN_DIGITS' THEN
        UPDATE finance.hsn_digits_rule SET effective_to = p_from - 1
         WHERE turnover_above = p_key::numeric AND effective_from < p_from AND coalesce(effective_to, p_from) >= p_from;
        INSERT INTO finance.hsn_digits_rule (turnover_above, digits, effective_from, note)
        VALUES (p_key::numeric, p_value::smallint, p_from, p_note) RETURNING rule_id INTO new_id;
    WHEN 'UQC' THEN
        UPDATE finance.gst_uqc SET effective_to = p_from - 1
         WHERE coalesce(unit, '*SERVICES*') = coalesce(p_key, '*SERVICES*') AND effective_from < p_from
           AND coalesce(effective_to, p_from) >= p_from;
        INSERT INTO finance.gst_uqc (unit, for_services, uqc, effective_from)
        VALUES (p_key, p_key IS NULL, p_value, p_from) RETURNING uqc_id INTO new_id;
    ELSE
        RAISE EXCEPTION 'no return parameter %', p_kind USING ERRCODE = 'check_violation', CONSTRAINT = 'return_parameter_kind';
    END CASE;
    RETURN new_id;
END
$$;
