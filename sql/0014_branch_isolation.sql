-- Branch isolation as a database rule: row-level security on the tables a branch owns.
--
-- Each request's transaction says whose rows it may touch, in the statement that reads the
-- session (webapp/sessions.py) or logs in (webapp/auth/services.py):
--   set_config('erp.branch_id', <the staff member's branch>, true)
--   set_config('erp.all_branches', 'on' for an ADMIN, true)
-- The app logs in as a role that owns no table and is no superuser (init-db creates it, see
-- webapp/migrations.py prepare_app_role), so these policies apply to every statement it runs,
-- including those of triggers (they run as the invoking role). A view that forgets its branch
-- filter then finds nothing of another branch: no row to show, none to change (the views answer
-- "no row" with 404). With nothing set, nothing branch-owned is visible to the app role.
-- The owner (migrations, seed-demo, generate-history, backup) bypasses row-level security.
--
-- Not under row-level security, on purpose (docs/ARCHITECTURE.md "Branch isolation"):
-- master.branch, master.staff, master.staff_session (needed to log in, before any branch is
-- known), master.customer (the showroom's customers, served at any of its branches; branch_id
-- records where they were added), master.document_counter (no document, only the last number
-- of a series, written by master.next_document_no inside a posting whose own row is under
-- these policies), reference data (states, HSN and rates, OEM models, variants, prices, schemes,
-- parts, financiers, insurers, thresholds), audit.log, and the line and step tables of a
-- document (PO lines, GRN lines, invoice lines, booking steps, transfer and count lines...),
-- which the app reaches only through their parent document, itself under these policies.

-- The tables' owner (migrations, the command-line tools), or a superuser: sees every branch.
CREATE FUNCTION platform.acting_as_owner() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = current_user AND rolsuper)
        OR pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = 'master.branch'::regclass), 'MEMBER')
$$;

-- True when the request may see rows of branch b. A request always sets its branch; a
-- connection that sets none sees nothing unless it is the owner's.
CREATE FUNCTION platform.branch_visible(b integer) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT coalesce(current_setting('erp.all_branches', true), '') = 'on'
        OR b = nullif(current_setting('erp.branch_id', true), '')::integer
        OR (coalesce(current_setting('erp.branch_id', true), '') = '' AND platform.acting_as_owner())
$$;

-- ---------------------------------------------------------------------------
-- Documents of one branch: seen, written and deleted only by that branch.
-- ---------------------------------------------------------------------------
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY[
        'sales.enquiry', 'sales.quotation', 'sales.booking',
        'billing.invoice', 'billing.receipt', 'billing.refund', 'billing.credit_note',
        'insurance.policy',
        'procurement.purchase_order', 'procurement.goods_receipt', 'procurement.purchase_invoice',
        'procurement.supplier_payment',
        'inventory.stock_count']
    LOOP
        EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY own_branch ON %s USING (platform.branch_visible(branch_id)) '
                       'WITH CHECK (platform.branch_visible(branch_id))', t);
    END LOOP;
END
$$;

-- A transfer is the business of both ends: the sending branch makes it, the receiving branch
-- sees it in transit and receives it.
ALTER TABLE inventory.stock_transfer ENABLE ROW LEVEL SECURITY;
CREATE POLICY either_end ON inventory.stock_transfer FOR SELECT
    USING (platform.branch_visible(branch_id) OR platform.branch_visible(to_branch_id));
CREATE POLICY sender_dispatches ON inventory.stock_transfer FOR INSERT
    WITH CHECK (platform.branch_visible(branch_id));
CREATE POLICY either_end_updates ON inventory.stock_transfer FOR UPDATE
    USING (platform.branch_visible(branch_id) OR platform.branch_visible(to_branch_id))
    WITH CHECK (platform.branch_visible(branch_id) OR platform.branch_visible(to_branch_id));
CREATE POLICY sender_deletes ON inventory.stock_transfer FOR DELETE
    USING (platform.branch_visible(branch_id));

-- The tax invoice of a transfer to another GSTIN is the sending branch's; the receiving branch
-- reads it (its purchase document) but never changes it.
CREATE POLICY transfer_received ON billing.invoice FOR SELECT
    USING (transfer_id IS NOT NULL AND EXISTS (
        SELECT 1 FROM inventory.stock_transfer t
         WHERE t.transfer_id = invoice.transfer_id AND platform.branch_visible(t.to_branch_id)));

-- ---------------------------------------------------------------------------
-- Stock: every branch may look up another's (the all-branches vehicle list, the ageing report,
-- a part's stock at another branch, finding a scooter to ask a transfer for), but a branch's
-- stock is changed only by that branch.
-- ---------------------------------------------------------------------------
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['inventory.vehicle_unit', 'inventory.part_stock', 'inventory.stock_move']
    LOOP
        EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY looked_up ON %s FOR SELECT USING (true)', t);
        EXECUTE format('CREATE POLICY own_branch_adds ON %s FOR INSERT '
                       'WITH CHECK (platform.branch_visible(branch_id))', t);
        EXECUTE format('CREATE POLICY own_branch_changes ON %s FOR UPDATE USING (platform.branch_visible(branch_id)) '
                       'WITH CHECK (platform.branch_visible(branch_id))', t);
        EXECUTE format('CREATE POLICY own_branch_deletes ON %s FOR DELETE '
                       'USING (platform.branch_visible(branch_id))', t);
    END LOOP;
END
$$;

-- Receiving a transfer moves the sending branch's vehicle, in transit to this branch, into
-- this branch's stock (the new row must then be this branch's).
CREATE POLICY in_transit_here ON inventory.vehicle_unit FOR UPDATE
    USING (status = 'IN_TRANSIT' AND EXISTS (
        SELECT 1 FROM inventory.stock_transfer_line l
          JOIN inventory.stock_transfer t ON t.transfer_id = l.transfer_id
         WHERE l.unit_id = vehicle_unit.unit_id AND t.status = 'DISPATCHED'
           AND platform.branch_visible(t.to_branch_id)))
    WITH CHECK (platform.branch_visible(branch_id));

-- ---------------------------------------------------------------------------
-- A view reads its tables as its owner, who bypasses the policies above (security_invoker would
-- change that, but only from PostgreSQL 15): the views carry the same rule in their own WHERE,
-- so a query through them sees what the request may see, on every PostgreSQL from 14.
-- Columns as in 0010 (billing) and 0004 (procurement).
-- ---------------------------------------------------------------------------
CREATE OR REPLACE VIEW billing.booking_balance AS
SELECT b.booking_id, b.branch_id, b.stage, b.invoice_id,
       CASE WHEN b.stage = 'CANCELLED' THEN coalesce(rf.charges, 0)
            WHEN b.invoice_id IS NOT NULL THEN i.amount_payable + coalesce(it.others, 0)
            ELSE b.ex_showroom - b.discount + coalesce(it.all_items, 0) + coalesce(ac.amount, 0) END AS due,
       coalesce(rc.received, 0) - coalesce(rf.refunded, 0) AS received,
       tp.loan_pending, tp.exchange_pending, tp.subsidy_pending,
       tp.loan_pending + tp.exchange_pending + tp.subsidy_pending AS others_pending,
       CASE WHEN b.stage = 'CANCELLED' THEN coalesce(rf.charges, 0)
            WHEN b.invoice_id IS NOT NULL THEN i.amount_payable + coalesce(it.others, 0)
            ELSE b.ex_showroom - b.discount + coalesce(it.all_items, 0) + coalesce(ac.amount, 0) END
         - (coalesce(rc.received, 0) - coalesce(rf.refunded, 0))
         - (tp.loan_pending + tp.exchange_pending + tp.subsidy_pending) AS customer_balance
  FROM sales.booking b
  LEFT JOIN billing.invoice i ON i.invoice_id = b.invoice_id
  LEFT JOIN LATERAL (SELECT sum(amount) AS all_items, sum(amount) FILTER (WHERE hsn_code IS NULL) AS others
                       FROM sales.booking_item WHERE booking_id = b.booking_id) it ON true
  LEFT JOIN LATERAL (SELECT sum(sales.accessory_amount(a, current_date)) AS amount
                       FROM sales.booking_accessory a WHERE a.booking_id = b.booking_id) ac ON true
  LEFT JOIN LATERAL (SELECT sum(amount) AS received,
                            coalesce(sum(amount) FILTER (WHERE mode = 'FINANCE'), 0) AS finance,
                            coalesce(sum(amount) FILTER (WHERE mode = 'EXCHANGE'), 0) AS exchange,
                            coalesce(sum(amount) FILTER (WHERE mode = 'SUBSIDY'), 0) AS subsidy
                       FROM billing.receipt WHERE booking_id = b.booking_id) rc ON true
  LEFT JOIN LATERAL (SELECT sum(amount) AS refunded, sum(cancellation_charge) AS charges
                       FROM billing.refund WHERE booking_id = b.booking_id) rf ON true
  LEFT JOIN sales.finance f ON f.booking_id = b.booking_id
  LEFT JOIN sales.exchange x ON x.booking_id = b.booking_id
  CROSS JOIN LATERAL (
      SELECT CASE WHEN b.stage = 'CANCELLED' THEN 0 ELSE greatest(coalesce(f.loan_amount, 0) - rc.finance, 0) END
                 AS loan_pending,
             CASE WHEN b.stage = 'CANCELLED' THEN 0 ELSE greatest(coalesce(x.valuation, 0) - rc.exchange, 0) END
                 AS exchange_pending,
             CASE WHEN b.stage = 'CANCELLED' THEN 0 ELSE greatest(b.subsidy_eligible - rc.subsidy, 0) END
                 AS subsidy_pending) tp
 WHERE platform.branch_visible(b.branch_id);

CREATE OR REPLACE VIEW billing.counter_balance AS
SELECT i.invoice_id, i.branch_id,
       i.amount_payable - coalesce(cn.grand_total + cn.tcs_amount, 0) AS due,
       coalesce(rc.received, 0) - coalesce(rf.refunded, 0) AS received,
       i.amount_payable - coalesce(cn.grand_total + cn.tcs_amount, 0)
         - (coalesce(rc.received, 0) - coalesce(rf.refunded, 0)) AS customer_balance
  FROM billing.invoice i
  LEFT JOIN billing.credit_note cn ON cn.invoice_id = i.invoice_id
  LEFT JOIN LATERAL (SELECT sum(amount) AS received FROM billing.receipt WHERE invoice_id = i.invoice_id) rc ON true
  LEFT JOIN LATERAL (SELECT sum(amount) AS refunded FROM billing.refund WHERE invoice_id = i.invoice_id) rf ON true
 WHERE i.kind = 'COUNTER' AND platform.branch_visible(i.branch_id);

-- billing.receivable reads only the two views above and invoices of the same branches.

CREATE OR REPLACE VIEW procurement.payable AS
SELECT i.pinv_id, i.branch_id, i.oem_id, o.brand, i.supplier_invoice_no, i.invoice_date, i.due_date,
       i.total, coalesce(p.paid, 0) AS paid, i.total - coalesce(p.paid, 0) AS outstanding,
       current_date - i.due_date AS days_overdue,
       CASE WHEN current_date <= i.due_date THEN 'NOT_DUE'
            WHEN current_date - i.due_date <= 30 THEN '1-30'
            WHEN current_date - i.due_date <= 60 THEN '31-60'
            WHEN current_date - i.due_date <= 90 THEN '61-90'
            ELSE '90+' END AS age_bucket
  FROM procurement.purchase_invoice i
  JOIN oem.oem o USING (oem_id)
  LEFT JOIN (SELECT pinv_id, sum(amount) AS paid FROM procurement.supplier_payment GROUP BY pinv_id) p
         USING (pinv_id)
 WHERE platform.branch_visible(i.branch_id);
