-- The billing schema's kept monthly totals (billing.invoice_month, sql/0058): their functions and
-- triggers, re-applied by init-db whenever this file changes. They sit in a file of their own, after the
-- CRM's, because the table is younger than billing's other functions (sql/functions/80_billing.sql): a
-- function file reads only what the migrations before its own code made (tests/test_crm_migration.py
-- applies the files as they stood before the CRM's migration).

-- ---------------------------------------------------------------------------
-- billing.invoice_month (sql/0058): each branch's invoices and credit notes added up per kind, month
-- and buyer, kept by the documents' own postings, for the home screen's month figures and charts and
-- the sales register's whole months. Invoices and credit notes are permanent, so adding each new one
-- is the whole upkeep; a unit's landed cost changed after its invoice moves the cost side.
-- ---------------------------------------------------------------------------
-- Each document as it counts in the monthly totals (sql/0058 made it first, for its backfill).
CREATE OR REPLACE FUNCTION billing.invoice_month_docs()
RETURNS TABLE (doc text, doc_id integer, unit_id integer, branch_id integer, kind text, month date, b2b boolean,
               taxable_value numeric, cgst numeric, sgst numeric, igst numeric, round_off numeric,
               grand_total numeric, tcs_amount numeric, cost numeric)
LANGUAGE sql STABLE
AS $$
    SELECT 'INV', i.invoice_id, i.unit_id, i.branch_id, i.kind, date_trunc('month', i.invoice_date::timestamp)::date,
           i.buyer_gstin IS NOT NULL, i.taxable_value, i.cgst, i.sgst, i.igst, i.round_off, i.grand_total,
           i.tcs_amount, u.purchase_cost
      FROM billing.invoice i
      LEFT JOIN inventory.vehicle_unit u ON u.unit_id = i.unit_id AND i.kind = 'VEHICLE'
    UNION ALL
    SELECT 'CRN', n.credit_note_id, i.unit_id, n.branch_id, i.kind, date_trunc('month', n.note_date::timestamp)::date,
           i.buyer_gstin IS NOT NULL, n.taxable_value, n.cgst, n.sgst, n.igst, n.round_off, n.grand_total,
           n.tcs_amount, u.purchase_cost
      FROM billing.credit_note n
      JOIN billing.invoice i ON i.invoice_id = n.invoice_id
      LEFT JOIN inventory.vehicle_unit u ON u.unit_id = i.unit_id AND i.kind = 'VEHICLE'
$$;

CREATE OR REPLACE FUNCTION billing.invoice_month_live() RETURNS SETOF billing.invoice_month
LANGUAGE sql STABLE
AS $$
    SELECT branch_id, kind, doc, month, b2b, count(*)::integer, sum(taxable_value), sum(cgst), sum(sgst), sum(igst),
           sum(round_off), sum(grand_total), sum(tcs_amount), count(cost)::integer,
           coalesce(sum(taxable_value) FILTER (WHERE cost IS NOT NULL), 0), coalesce(sum(cost), 0)
      FROM billing.invoice_month_docs()
     GROUP BY branch_id, kind, doc, month, b2b
$$;

CREATE OR REPLACE FUNCTION billing.rebuild_invoice_month() RETURNS void
LANGUAGE sql
AS $$
    DELETE FROM billing.invoice_month;
    INSERT INTO billing.invoice_month SELECT * FROM billing.invoice_month_live();
$$;

-- The documents just written (INV: invoices, CRN: credit notes, by id) added to their months: the live
-- sums of those documents alone, added to the rows. SECURITY DEFINER, as the books' monthly totals: the
-- totals are the company's whatever the posting branch may see; it writes only what the documents add.
CREATE OR REPLACE FUNCTION billing.add_to_invoice_month(p_doc text, p_ids integer[]) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO billing.invoice_month AS m
    SELECT branch_id, kind, doc, month, b2b, count(*)::integer, sum(taxable_value), sum(cgst), sum(sgst), sum(igst),
           sum(round_off), sum(grand_total), sum(tcs_amount), count(cost)::integer,
           coalesce(sum(taxable_value) FILTER (WHERE cost IS NOT NULL), 0), coalesce(sum(cost), 0)
      FROM billing.invoice_month_docs() d
     WHERE d.doc = p_doc AND d.doc_id = ANY (p_ids)
     GROUP BY branch_id, kind, doc, month, b2b
    ON CONFLICT (branch_id, kind, doc, month, b2b) DO UPDATE
       SET documents = m.documents + EXCLUDED.documents, taxable_value = m.taxable_value + EXCLUDED.taxable_value,
           cgst = m.cgst + EXCLUDED.cgst, sgst = m.sgst + EXCLUDED.sgst, igst = m.igst + EXCLUDED.igst,
           round_off = m.round_off + EXCLUDED.round_off, grand_total = m.grand_total + EXCLUDED.grand_total,
           tcs_amount = m.tcs_amount + EXCLUDED.tcs_amount, costed = m.costed + EXCLUDED.costed,
           costed_taxable = m.costed_taxable + EXCLUDED.costed_taxable, cost = m.cost + EXCLUDED.cost;
$$;

CREATE OR REPLACE FUNCTION billing.invoices_to_month() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_TABLE_NAME = 'invoice' THEN
        PERFORM billing.add_to_invoice_month('INV', ARRAY(SELECT invoice_id FROM new_docs));
    ELSE
        PERFORM billing.add_to_invoice_month('CRN', ARRAY(SELECT credit_note_id FROM new_docs));
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER invoice_month_totals AFTER INSERT ON billing.invoice
    REFERENCING NEW TABLE AS new_docs FOR EACH STATEMENT EXECUTE FUNCTION billing.invoices_to_month();
CREATE OR REPLACE TRIGGER credit_note_month_totals AFTER INSERT ON billing.credit_note
    REFERENCING NEW TABLE AS new_docs FOR EACH STATEMENT EXECUTE FUNCTION billing.invoices_to_month();

-- A unit's landed cost set or changed after it was invoiced: its vehicle invoices' and their credit
-- notes' cost side moves by the difference (never in the ERP's own screens, which cost a unit when it is
-- received; a correction made by hand stays exact).
CREATE OR REPLACE FUNCTION billing.unit_cost_moves_month() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    now_costed integer := (NEW.purchase_cost IS NOT NULL)::integer - (OLD.purchase_cost IS NOT NULL)::integer;
    moved numeric := coalesce(NEW.purchase_cost, 0) - coalesce(OLD.purchase_cost, 0);
BEGIN
    UPDATE billing.invoice_month m
       SET costed = m.costed + d.n * now_costed, costed_taxable = m.costed_taxable + d.taxable * now_costed,
           cost = m.cost + d.n * moved
      FROM (SELECT branch_id, kind, doc, month, b2b, count(*) AS n, sum(taxable_value) AS taxable
              FROM billing.invoice_month_docs()
             WHERE unit_id = NEW.unit_id AND kind = 'VEHICLE'
             GROUP BY branch_id, kind, doc, month, b2b) d
     WHERE (m.branch_id, m.kind, m.doc, m.month, m.b2b) = (d.branch_id, d.kind, d.doc, d.month, d.b2b);
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER unit_cost_moves_invoice_month AFTER UPDATE OF purchase_cost ON inventory.vehicle_unit
    FOR EACH ROW WHEN (OLD.purchase_cost IS DISTINCT FROM NEW.purchase_cost)
    EXECUTE FUNCTION billing.unit_cost_moves_month();

-- Where the kept monthly totals differ from the documents (nothing, unless someone wrote them by hand):
-- each differing row as kept and as the documents add up (NULL where there is none).
CREATE OR REPLACE FUNCTION billing.invoice_month_drift()
RETURNS TABLE (branch_id integer, kind text, doc text, month date, b2b boolean, kept jsonb, documents jsonb)
LANGUAGE sql STABLE
AS $$
    SELECT coalesce(k.branch_id, l.branch_id), coalesce(k.kind, l.kind), coalesce(k.doc, l.doc),
           coalesce(k.month, l.month), coalesce(k.b2b, l.b2b), to_jsonb(k), to_jsonb(l)
      FROM billing.invoice_month k
      FULL JOIN billing.invoice_month_live() l
        ON (l.branch_id, l.kind, l.doc, l.month, l.b2b) = (k.branch_id, k.kind, k.doc, k.month, k.b2b)
     WHERE k IS DISTINCT FROM l
$$;
