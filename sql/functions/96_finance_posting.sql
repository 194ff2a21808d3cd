-- Every posted document posts its voucher, in the document's own transaction (sql/0046_finance_posting.sql
-- adds the ledgers). One function per document type builds the voucher from the document's own rows
-- and posts it through finance.post_voucher with the document's number, date, branch and (table, id);
-- a trigger on the document calls it, and finance.backfill_vouchers calls the same functions for
-- documents that have none. A document dated in a closed month is refused before it is written.
--
-- What each document posts (a positive amount is a debit):
--   invoice (vehicle, counter, service)  Dr the buyer's party ledger (amount payable, with TCS);
--        Cr each sales ledger its lines' taxable value (vehicle, accessories, spares, labour, plans),
--        Cr OUTPUT_CGST / SGST / IGST, Cr TCS_PAYABLE, Cr (or Dr) ROUND_OFF.
--        A job sheet charges nothing: no voucher (a voucher of nothing is no voucher).
--   transfer invoice   Dr INTER_BRANCH; Cr TRANSFER_OUT (taxable), output GST, round-off: the sending
--        GSTIN's outward supply, in the sending branch's books.
--   credit note        the invoice's voucher reversed, from the invoice's lines.
--   receipt            Dr CASH (cash) or the branch's bank (UPI, card, cheque, transfer, a finance
--        disbursement), Dr EXCHANGE_VEHICLE (exchange) or SUBSIDY_RECEIVABLE (PM E-DRIVE); Cr the party.
--   refund             Dr the party (refund + cancellation charge); Cr CASH or bank, Cr CANCELLATION_INCOME.
--   purchase invoice   Dr PURCHASE_VEHICLE / PURCHASE_PARTS (split by what its goods receipts hold),
--        Dr INPUT_CGST / SGST / IGST, Dr (or Cr) ROUND_OFF; Cr the OEM.
--   supplier payment   Dr the OEM; Cr CASH or the branch's bank.
--   subsidy credit     Dr the OEM (it credits the dealer's account); Cr SUBSIDY_RECEIVABLE.
--   warranty settlement Dr the OEM; Cr WARRANTY_INCOME.
--   insurance commission received: Dr the branch's bank; Cr INSURANCE_COMMISSION.

-- ---------------------------------------------------------------------------
-- Helpers
-- ---------------------------------------------------------------------------

-- A party's ledger for a posting: made when missing whichever branch the request sees (a customer of
-- another branch serviced here has a ledger of that branch, not visible to this one).
CREATE OR REPLACE FUNCTION finance.posting_party_ledger(p_kind text, p_id integer) RETURNS integer
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$ SELECT finance.party_ledger(p_kind, p_id) $$;

-- Post a document's voucher unless it comes to nothing (fewer than two lines that are not zero), as
-- finance.post_voucher does but in one statement: the voucher's balance check (a constraint trigger on
-- the voucher) then sees its lines even when it fires at once, as it does when this runs from a
-- deferred trigger under SET CONSTRAINTS ALL IMMEDIATE.
CREATE OR REPLACE FUNCTION finance.post_document(p_branch integer, p_type text, p_date date, p_no text,
                                                 p_narration text, p_source_table text, p_source_id bigint,
                                                 p_lines jsonb) RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    vid bigint;
BEGIN
    IF (SELECT count(*) FROM jsonb_array_elements(p_lines) e WHERE round((e ->> 'amount')::numeric, 2) <> 0) < 2 THEN
        RETURN NULL;
    END IF;
    WITH v AS (
        INSERT INTO finance.voucher (branch_id, voucher_type, voucher_no, voucher_date, narration, source_table, source_id)
        VALUES (p_branch, p_type, p_no, p_date, left(p_narration, 500), p_source_table, p_source_id)
        RETURNING voucher_id),
    l AS (
        INSERT INTO finance.voucher_line (voucher_id, line_no, ledger_id, debit, credit)
        SELECT v.voucher_id, row_number() OVER (ORDER BY x.ord), x.ledger_id, greatest(x.amount, 0), greatest(-x.amount, 0)
          FROM v, (SELECT (e ->> 'ledger_id')::integer AS ledger_id, round((e ->> 'amount')::numeric, 2) AS amount, ord
                     FROM jsonb_array_elements(p_lines) WITH ORDINALITY AS j (e, ord)) x
         WHERE x.amount <> 0)
    SELECT voucher_id INTO vid FROM v;
    RETURN vid;
END
$$;

CREATE OR REPLACE FUNCTION finance.line(p_ledger integer, p_amount numeric) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT jsonb_build_object('ledger_id', p_ledger, 'amount', p_amount) $$;

-- The money ledger of a mode of payment: cash in hand, else the branch's receiving bank account.
CREATE OR REPLACE FUNCTION finance.money_ledger(p_branch integer, p_mode text) RETURNS integer
LANGUAGE sql STABLE
AS $$
    SELECT CASE p_mode WHEN 'CASH' THEN finance.ledger_key('CASH')
                       WHEN 'EXCHANGE' THEN finance.ledger_key('EXCHANGE_VEHICLE')
                       WHEN 'SUBSIDY' THEN finance.ledger_key('SUBSIDY_RECEIVABLE')
                       ELSE finance.bank_ledger_for(p_branch) END
$$;

-- The sales ledger of an invoice line.
CREATE OR REPLACE FUNCTION finance.sales_ledger_key(p_kind text, p_line billing.invoice_line) RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
    SELECT CASE WHEN p_kind = 'TRANSFER' THEN 'TRANSFER_OUT'
                WHEN p_line.unit_id IS NOT NULL THEN 'SALES_VEHICLE'
                WHEN p_line.plan_id IS NOT NULL THEN 'SALES_PLAN'
                WHEN p_line.operation_code IS NOT NULL THEN 'SALES_LABOUR'
                WHEN p_kind = 'VEHICLE' THEN 'SALES_ACCESSORY'
                ELSE 'SALES_PARTS' END
$$;

-- The party an invoice is owed by: its customer, the walk-in customers' ledger, or (a transfer) the
-- inter-branch account.
CREATE OR REPLACE FUNCTION finance.invoice_party(p_kind text, p_customer integer) RETURNS integer
LANGUAGE sql
AS $$
    SELECT CASE WHEN p_kind = 'TRANSFER' THEN finance.ledger_key('INTER_BRANCH')
                WHEN p_customer IS NULL THEN finance.ledger_key('COUNTER_CUSTOMERS')
                ELSE finance.posting_party_ledger('CUSTOMER', p_customer) END
$$;

-- The lines of an invoice's voucher (p_sign 1) or of its credit note's (p_sign -1).
CREATE OR REPLACE FUNCTION finance.invoice_voucher_lines(p_invoice billing.invoice, p_sign integer) RETURNS jsonb
LANGUAGE sql
AS $$
    SELECT jsonb_build_array(
               finance.line(finance.invoice_party(p_invoice.kind, p_invoice.customer_id),
                            p_sign * (p_invoice.grand_total + p_invoice.tcs_amount)))
           || coalesce((SELECT jsonb_agg(finance.line(finance.ledger_key(s.key), -p_sign * s.taxable) ORDER BY s.key)
                          FROM (SELECT finance.sales_ledger_key(p_invoice.kind, l) AS key, sum(l.taxable_value) AS taxable
                                  FROM billing.invoice_line l WHERE l.invoice_id = p_invoice.invoice_id
                                 GROUP BY 1) s), '[]'::jsonb)
           || jsonb_build_array(
               finance.line(finance.ledger_key('OUTPUT_CGST'), -p_sign * p_invoice.cgst),
               finance.line(finance.ledger_key('OUTPUT_SGST'), -p_sign * p_invoice.sgst),
               finance.line(finance.ledger_key('OUTPUT_IGST'), -p_sign * p_invoice.igst),
               finance.line(finance.ledger_key('TCS_PAYABLE'), -p_sign * p_invoice.tcs_amount),
               finance.line(finance.ledger_key('ROUND_OFF'), -p_sign * p_invoice.round_off))
$$;

-- ---------------------------------------------------------------------------
-- Posting, one function per document type; each returns the voucher's id (NULL: nothing to post).
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION finance.post_invoice_voucher(p_invoice_id integer) RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    inv billing.invoice;
BEGIN
    SELECT * INTO STRICT inv FROM billing.invoice WHERE invoice_id = p_invoice_id;
    IF inv.kind = 'JOB_SHEET' THEN
        RETURN NULL;
    END IF;
    RETURN finance.post_document(inv.branch_id, 'SALES', inv.invoice_date, inv.invoice_no,
        CASE inv.kind WHEN 'VEHICLE' THEN 'Vehicle invoice' WHEN 'COUNTER' THEN 'Counter sale'
                      WHEN 'SERVICE' THEN 'Service invoice' ELSE 'Stock transfer invoice' END
            || ' to ' || inv.buyer_name,
        'billing.invoice', inv.invoice_id, finance.invoice_voucher_lines(inv, 1));
END
$$;

CREATE OR REPLACE FUNCTION finance.post_credit_note_voucher(p_credit_note_id integer) RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    cn billing.credit_note;
    inv billing.invoice;
BEGIN
    SELECT * INTO STRICT cn FROM billing.credit_note WHERE credit_note_id = p_credit_note_id;
    SELECT * INTO STRICT inv FROM billing.invoice WHERE invoice_id = cn.invoice_id;
    -- the note's own amounts (it copies the invoice's, sql/functions/80_billing.sql)
    inv.taxable_value := cn.taxable_value;
    inv.cgst := cn.cgst;
    inv.sgst := cn.sgst;
    inv.igst := cn.igst;
    inv.round_off := cn.round_off;
    inv.grand_total := cn.grand_total;
    inv.tcs_amount := cn.tcs_amount;
    RETURN finance.post_document(cn.branch_id, 'CREDIT_NOTE', cn.note_date, cn.credit_note_no,
        'Credit note against ' || inv.invoice_no || ': ' || cn.reason,
        'billing.credit_note', cn.credit_note_id, finance.invoice_voucher_lines(inv, -1));
END
$$;

-- The customer a receipt or refund is from or to: its booking's, or its invoice's.
CREATE OR REPLACE FUNCTION finance.sale_party(p_booking integer, p_invoice integer) RETURNS integer
LANGUAGE sql
AS $$
    SELECT CASE WHEN p_booking IS NOT NULL
                THEN finance.posting_party_ledger('CUSTOMER',
                         (SELECT customer_id FROM sales.booking WHERE booking_id = p_booking))
                ELSE (SELECT finance.invoice_party(i.kind, i.customer_id) FROM billing.invoice i
                       WHERE i.invoice_id = p_invoice) END
$$;

CREATE OR REPLACE FUNCTION finance.post_receipt_voucher(p_receipt_id integer) RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    r billing.receipt;
BEGIN
    SELECT * INTO STRICT r FROM billing.receipt WHERE receipt_id = p_receipt_id;
    RETURN finance.post_document(r.branch_id,
        CASE WHEN r.mode IN ('EXCHANGE', 'SUBSIDY') THEN 'JOURNAL' ELSE 'RECEIPT' END,
        r.receipt_date, r.receipt_no,
        CASE r.mode WHEN 'FINANCE' THEN 'Finance disbursement' WHEN 'EXCHANGE' THEN 'Exchange vehicle taken'
                    WHEN 'SUBSIDY' THEN 'PM E-DRIVE subsidy credited to the sale' ELSE 'Received' END
            || ' from ' || r.received_from || coalesce(' (' || r.reference || ')', ''),
        'billing.receipt', r.receipt_id,
        jsonb_build_array(finance.line(finance.money_ledger(r.branch_id, r.mode), r.amount),
                          finance.line(finance.sale_party(r.booking_id, r.invoice_id), -r.amount)));
END
$$;

CREATE OR REPLACE FUNCTION finance.post_refund_voucher(p_refund_id integer) RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    r billing.refund;
BEGIN
    SELECT * INTO STRICT r FROM billing.refund WHERE refund_id = p_refund_id;
    RETURN finance.post_document(r.branch_id, CASE WHEN r.amount > 0 THEN 'PAYMENT' ELSE 'JOURNAL' END,
        r.refund_date, r.refund_no,
        'Refund to ' || r.paid_to || ': ' || r.reason,
        'billing.refund', r.refund_id,
        jsonb_build_array(finance.line(finance.sale_party(r.booking_id, r.invoice_id), r.amount + r.cancellation_charge),
                          finance.line(finance.money_ledger(r.branch_id, r.mode), -r.amount),
                          finance.line(finance.ledger_key('CANCELLATION_INCOME'), -r.cancellation_charge)));
END
$$;

CREATE OR REPLACE FUNCTION finance.post_purchase_invoice_voucher(p_pinv_id integer) RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    pi procurement.purchase_invoice;
    vehicles numeric;
    parts numeric;
    to_parts numeric;
BEGIN
    SELECT * INTO STRICT pi FROM procurement.purchase_invoice WHERE pinv_id = p_pinv_id;
    -- What its goods receipts hold, at cost: the taxable value is split between the two ledgers so.
    SELECT coalesce(sum(u.purchase_cost), 0) INTO vehicles
      FROM procurement.purchase_invoice_grn g
      JOIN procurement.grn_vehicle gv ON gv.grn_id = g.grn_id
      JOIN inventory.vehicle_unit u ON u.unit_id = gv.unit_id
     WHERE g.pinv_id = p_pinv_id;
    SELECT coalesce(sum(gp.qty * gp.unit_cost), 0) INTO parts
      FROM procurement.purchase_invoice_grn g
      JOIN procurement.grn_part gp ON gp.grn_id = g.grn_id
     WHERE g.pinv_id = p_pinv_id;
    to_parts := CASE WHEN vehicles + parts = 0 THEN pi.taxable_value
                     ELSE round(pi.taxable_value * parts / (vehicles + parts), 2) END;
    RETURN finance.post_document(pi.branch_id, 'PURCHASE', pi.invoice_date, NULL,
        'Purchase invoice ' || pi.supplier_invoice_no || ' of ' || (SELECT o.legal_name FROM oem.oem o WHERE o.oem_id = pi.oem_id),
        'procurement.purchase_invoice', pi.pinv_id,
        jsonb_build_array(finance.line(finance.ledger_key('PURCHASE_VEHICLE'), pi.taxable_value - to_parts),
                          finance.line(finance.ledger_key('PURCHASE_PARTS'), to_parts),
                          finance.line(finance.ledger_key('INPUT_CGST'), pi.cgst),
                          finance.line(finance.ledger_key('INPUT_SGST'), pi.sgst),
                          finance.line(finance.ledger_key('INPUT_IGST'), pi.igst),
                          finance.line(finance.ledger_key('ROUND_OFF'), pi.round_off),
                          finance.line(finance.posting_party_ledger('OEM', pi.oem_id), -pi.total)));
END
$$;

CREATE OR REPLACE FUNCTION finance.post_supplier_payment_voucher(p_payment_id integer) RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    sp procurement.supplier_payment;
    pi procurement.purchase_invoice;
BEGIN
    SELECT * INTO STRICT sp FROM procurement.supplier_payment WHERE payment_id = p_payment_id;
    SELECT * INTO STRICT pi FROM procurement.purchase_invoice WHERE pinv_id = sp.pinv_id;
    RETURN finance.post_document(sp.branch_id, 'PAYMENT', sp.paid_on, NULL,
        'Paid against purchase invoice ' || pi.supplier_invoice_no || coalesce(' (' || sp.reference || ')', ''),
        'procurement.supplier_payment', sp.payment_id,
        jsonb_build_array(finance.line(finance.posting_party_ledger('OEM', pi.oem_id), sp.amount),
                          finance.line(finance.money_ledger(sp.branch_id, sp.mode), -sp.amount)));
END
$$;

-- The OEM credits the dealer for a sale's PM E-DRIVE subsidy: what the sale's SUBSIDY receipt put
-- in SUBSIDY_RECEIVABLE moves to the OEM's account (what the OEM credits less than claimed stays
-- receivable, shown as pending).
CREATE OR REPLACE FUNCTION finance.post_subsidy_credit_voucher(p_booking_id integer) RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    sc sales.subsidy_claim;
    oem integer;
BEGIN
    SELECT * INTO STRICT sc FROM sales.subsidy_claim WHERE booking_id = p_booking_id;
    IF sc.credited_on IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT m.oem_id INTO STRICT oem
      FROM sales.booking b JOIN oem.variant v ON v.variant_id = b.variant_id JOIN oem.model m ON m.model_id = v.model_id
     WHERE b.booking_id = sc.booking_id;
    PERFORM finance.refuse_closed_month_on(sc.branch_id, sc.credited_on, 'The subsidy credit of booking ' || sc.booking_no);
    RETURN finance.post_document(sc.branch_id, 'JOURNAL', sc.credited_on, NULL,
        'PM E-DRIVE subsidy credited by the OEM for booking ' || sc.booking_no || coalesce(', claim ' || sc.claim_no, ''),
        'sales.subsidy_claim', sc.booking_id,
        jsonb_build_array(finance.line(finance.posting_party_ledger('OEM', oem), sc.credited_amount),
                          finance.line(finance.ledger_key('SUBSIDY_RECEIVABLE'), -sc.credited_amount)));
END
$$;

CREATE OR REPLACE FUNCTION finance.post_warranty_settlement_voucher(p_claim_id integer) RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    c warranty.claim;
BEGIN
    SELECT * INTO STRICT c FROM warranty.claim WHERE claim_id = p_claim_id;
    IF c.status <> 'SETTLED' THEN
        RETURN NULL;
    END IF;
    PERFORM finance.refuse_closed_month_on(c.branch_id, c.settled_on, 'The settlement of claim ' || c.claim_no);
    RETURN finance.post_document(c.branch_id, 'JOURNAL', c.settled_on, NULL,
        'Claim ' || c.claim_no || ' (' || lower(replace(c.kind, '_', ' ')) || ', VIN ' || c.vin || ') settled by the OEM'
            || coalesce(', ' || c.settlement_ref, ''),
        'warranty.claim', c.claim_id,
        jsonb_build_array(finance.line(finance.posting_party_ledger('OEM', c.oem_id), c.settled_amount),
                          finance.line(finance.ledger_key('WARRANTY_INCOME'), -c.settled_amount)));
END
$$;

CREATE OR REPLACE FUNCTION finance.post_insurance_commission_voucher(p_policy_id integer) RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    p insurance.policy;
BEGIN
    SELECT * INTO STRICT p FROM insurance.policy WHERE policy_id = p_policy_id;
    IF p.commission_received_on IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM finance.refuse_closed_month_on(p.branch_id, p.commission_received_on, 'The commission received');
    RETURN finance.post_document(p.branch_id, 'RECEIPT', p.commission_received_on, NULL,
        'Commission on policy ' || coalesce(p.od_policy_no, p.tp_policy_no) || ' from '
            || (SELECT i.name FROM master.insurer i WHERE i.insurer_id = p.insurer_id),
        'insurance.policy', p.policy_id,
        jsonb_build_array(finance.line(finance.bank_ledger_for(p.branch_id), p.commission_amount),
                          finance.line(finance.ledger_key('INSURANCE_COMMISSION'), -p.commission_amount)));
END
$$;

-- ---------------------------------------------------------------------------
-- The triggers. An invoice's lines are written after it and a purchase invoice's goods receipts
-- after it: their vouchers are posted at commit, after the lines are checked (invoice_voucher fires
-- after invoice_lines_add_up: constraint triggers of one event fire in name order). The others post
-- as they are written.
-- ---------------------------------------------------------------------------
-- The voucher of any document by its (table, id): what the triggers and the backfill call.
CREATE OR REPLACE FUNCTION finance.post_voucher_of(p_source_table text, p_source_id bigint) RETURNS bigint
LANGUAGE plpgsql
AS $$
BEGIN
    RETURN CASE p_source_table
        WHEN 'billing.invoice' THEN finance.post_invoice_voucher(p_source_id::integer)
        WHEN 'billing.credit_note' THEN finance.post_credit_note_voucher(p_source_id::integer)
        WHEN 'billing.receipt' THEN finance.post_receipt_voucher(p_source_id::integer)
        WHEN 'billing.refund' THEN finance.post_refund_voucher(p_source_id::integer)
        WHEN 'procurement.purchase_invoice' THEN finance.post_purchase_invoice_voucher(p_source_id::integer)
        WHEN 'procurement.supplier_payment' THEN finance.post_supplier_payment_voucher(p_source_id::integer)
        WHEN 'sales.subsidy_claim' THEN finance.post_subsidy_credit_voucher(p_source_id::integer)
        WHEN 'warranty.claim' THEN finance.post_warranty_settlement_voucher(p_source_id::integer)
        WHEN 'insurance.policy' THEN finance.post_insurance_commission_voucher(p_source_id::integer)
    END;
END
$$;

-- Trigger: post the voucher of the row (TG_ARGV[0] names its id column).
CREATE OR REPLACE FUNCTION finance.document_posts_voucher() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM finance.post_voucher_of(TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, (to_jsonb(NEW) ->> TG_ARGV[0])::bigint);
    RETURN NULL;
END
$$;

-- The same for an event that may recur on its row (a date corrected): only while it has no voucher.
CREATE OR REPLACE FUNCTION finance.document_posts_voucher_once() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    src_table text := TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME;
    src_id bigint := (to_jsonb(NEW) ->> TG_ARGV[0])::bigint;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM finance.voucher v WHERE v.source_table = src_table AND v.source_id = src_id) THEN
        PERFORM finance.post_voucher_of(src_table, src_id);
    END IF;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS invoice_voucher ON billing.invoice;
CREATE CONSTRAINT TRIGGER invoice_voucher AFTER INSERT ON billing.invoice
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION finance.document_posts_voucher_once('invoice_id');
DROP TRIGGER IF EXISTS purchase_invoice_voucher ON procurement.purchase_invoice;
CREATE CONSTRAINT TRIGGER purchase_invoice_voucher AFTER INSERT ON procurement.purchase_invoice
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION finance.document_posts_voucher_once('pinv_id');
CREATE OR REPLACE TRIGGER credit_note_voucher AFTER INSERT ON billing.credit_note
    FOR EACH ROW EXECUTE FUNCTION finance.document_posts_voucher('credit_note_id');
CREATE OR REPLACE TRIGGER receipt_voucher AFTER INSERT ON billing.receipt
    FOR EACH ROW EXECUTE FUNCTION finance.document_posts_voucher('receipt_id');
CREATE OR REPLACE TRIGGER refund_voucher AFTER INSERT ON billing.refund
    FOR EACH ROW EXECUTE FUNCTION finance.document_posts_voucher('refund_id');
CREATE OR REPLACE TRIGGER supplier_payment_voucher AFTER INSERT ON procurement.supplier_payment
    FOR EACH ROW EXECUTE FUNCTION finance.document_posts_voucher('payment_id');
-- Events rather than inserts: the OEM's credit of a subsidy claim, a claim's settlement, a commission
-- received. Each posts once: a second change of the same row finds its voucher and posts nothing.
CREATE OR REPLACE TRIGGER subsidy_claim_voucher AFTER INSERT OR UPDATE OF credited_on ON sales.subsidy_claim
    FOR EACH ROW WHEN (NEW.credited_on IS NOT NULL) EXECUTE FUNCTION finance.document_posts_voucher_once('booking_id');
CREATE OR REPLACE TRIGGER claim_voucher AFTER UPDATE OF status ON warranty.claim
    FOR EACH ROW WHEN (NEW.status = 'SETTLED' AND OLD.status <> 'SETTLED') EXECUTE FUNCTION finance.document_posts_voucher('claim_id');
CREATE OR REPLACE TRIGGER policy_voucher AFTER INSERT OR UPDATE OF commission_received_on ON insurance.policy
    FOR EACH ROW WHEN (NEW.commission_received_on IS NOT NULL) EXECUTE FUNCTION finance.document_posts_voucher_once('policy_id');

-- ---------------------------------------------------------------------------
-- The period lock on the documents: one dated in a closed month is refused before it is written
-- (constraint period_closed), named to fire after the document's own BEFORE trigger has found its
-- branch (a receipt, refund or credit note takes its branch from its sale).
-- ---------------------------------------------------------------------------
CREATE OR REPLACE TRIGGER invoice_z_period_open BEFORE INSERT ON billing.invoice
    FOR EACH ROW EXECUTE FUNCTION finance.refuse_closed_month('invoice_date', 'branch_id', 'This invoice');
CREATE OR REPLACE TRIGGER credit_note_z_period_open BEFORE INSERT ON billing.credit_note
    FOR EACH ROW EXECUTE FUNCTION finance.refuse_closed_month('note_date', 'branch_id', 'This credit note');
CREATE OR REPLACE TRIGGER receipt_z_period_open BEFORE INSERT ON billing.receipt
    FOR EACH ROW EXECUTE FUNCTION finance.refuse_closed_month('receipt_date', 'branch_id', 'This receipt');
CREATE OR REPLACE TRIGGER refund_z_period_open BEFORE INSERT ON billing.refund
    FOR EACH ROW EXECUTE FUNCTION finance.refuse_closed_month('refund_date', 'branch_id', 'This refund');
CREATE OR REPLACE TRIGGER purchase_invoice_z_period_open BEFORE INSERT ON procurement.purchase_invoice
    FOR EACH ROW EXECUTE FUNCTION finance.refuse_closed_month('invoice_date', 'branch_id', 'This purchase invoice');
CREATE OR REPLACE TRIGGER supplier_payment_z_period_open BEFORE INSERT ON procurement.supplier_payment
    FOR EACH ROW EXECUTE FUNCTION finance.refuse_closed_month('paid_on', 'branch_id', 'This payment');

-- ---------------------------------------------------------------------------
-- The backfill: the voucher of every document that has none (documents written before the books
-- existed, or loaded with the triggers off). A second run posts nothing. A document dated in a
-- closed month is not posted (its month takes no voucher): it is counted as skipped, and posts
-- when the month is reopened and the backfill runs again.
-- One row per document type: how many were posted, how many had nothing to post (a job sheet,
-- a document of no value), how many were skipped for a closed month.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION finance.documents_without_voucher()
RETURNS TABLE (source_table text, source_id bigint, branch_id integer, on_date date)
LANGUAGE sql STABLE
AS $$
    SELECT 'billing.invoice', i.invoice_id, i.branch_id, i.invoice_date FROM billing.invoice i
     WHERE i.kind <> 'JOB_SHEET'
       AND NOT EXISTS (SELECT 1 FROM finance.voucher v WHERE v.source_table = 'billing.invoice' AND v.source_id = i.invoice_id)
    UNION ALL
    SELECT 'billing.credit_note', c.credit_note_id, c.branch_id, c.note_date FROM billing.credit_note c
     WHERE NOT EXISTS (SELECT 1 FROM finance.voucher v WHERE v.source_table = 'billing.credit_note' AND v.source_id = c.credit_note_id)
    UNION ALL
    SELECT 'billing.receipt', r.receipt_id, r.branch_id, r.receipt_date FROM billing.receipt r
     WHERE NOT EXISTS (SELECT 1 FROM finance.voucher v WHERE v.source_table = 'billing.receipt' AND v.source_id = r.receipt_id)
    UNION ALL
    SELECT 'billing.refund', r.refund_id, r.branch_id, r.refund_date FROM billing.refund r
     WHERE NOT EXISTS (SELECT 1 FROM finance.voucher v WHERE v.source_table = 'billing.refund' AND v.source_id = r.refund_id)
    UNION ALL
    SELECT 'procurement.purchase_invoice', p.pinv_id, p.branch_id, p.invoice_date FROM procurement.purchase_invoice p
     WHERE NOT EXISTS (SELECT 1 FROM finance.voucher v
                        WHERE v.source_table = 'procurement.purchase_invoice' AND v.source_id = p.pinv_id)
    UNION ALL
    SELECT 'procurement.supplier_payment', p.payment_id, p.branch_id, p.paid_on FROM procurement.supplier_payment p
     WHERE NOT EXISTS (SELECT 1 FROM finance.voucher v
                        WHERE v.source_table = 'procurement.supplier_payment' AND v.source_id = p.payment_id)
    UNION ALL
    SELECT 'sales.subsidy_claim', s.booking_id, s.branch_id, s.credited_on FROM sales.subsidy_claim s
     WHERE s.credited_on IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM finance.voucher v WHERE v.source_table = 'sales.subsidy_claim' AND v.source_id = s.booking_id)
    UNION ALL
    SELECT 'warranty.claim', c.claim_id, c.branch_id, c.settled_on FROM warranty.claim c
     WHERE c.status = 'SETTLED'
       AND NOT EXISTS (SELECT 1 FROM finance.voucher v WHERE v.source_table = 'warranty.claim' AND v.source_id = c.claim_id)
    UNION ALL
    SELECT 'insurance.policy', p.policy_id, p.branch_id, p.commission_received_on FROM insurance.policy p
     WHERE p.commission_received_on IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM finance.voucher v WHERE v.source_table = 'insurance.policy' AND v.source_id = p.policy_id)
$$;

CREATE OR REPLACE FUNCTION finance.backfill_vouchers()
RETURNS TABLE (document text, posted integer, nothing_to_post integer, skipped_closed_month integer)
LANGUAGE plpgsql
AS $$
DECLARE
    d record;
    counts jsonb := '{}';
    what text;
BEGIN
    -- in date order, so the vouchers numbered from a series (purchases, payments) number as they fell
    FOR d IN SELECT * FROM finance.documents_without_voucher() w ORDER BY w.on_date, w.source_table, w.source_id LOOP
        IF finance.month_is_closed(d.branch_id, d.on_date) THEN
            what := 'skipped';
        ELSIF finance.post_voucher_of(d.source_table, d.source_id) IS NULL THEN
            what := 'nothing';
        ELSE
            what := 'posted';
        END IF;
        counts := jsonb_set(counts, ARRAY[d.source_table],
                            coalesce(counts -> d.source_table, '{"posted": 0, "nothing": 0, "skipped": 0}')
                            || jsonb_build_object(what, coalesce((counts -> d.source_table ->> what)::integer, 0) + 1));
    END LOOP;
    RETURN QUERY
    SELECT k, (counts -> k ->> 'posted')::integer, (counts -> k ->> 'nothing')::integer, (counts -> k ->> 'skipped')::integer
      FROM jsonb_object_keys(counts) k ORDER BY k;
END
$$;
