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
--        GSTIN's outward supply, in the sending branch's books. When the receiving branch receives the
--        transfer: Dr TRANSFER_IN, input GST (its GSTIN's credit), round-off; Cr INTER_BRANCH, in its books.
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

-- Post a document's voucher (finance.post_voucher) unless it comes to nothing: fewer than two lines that
-- are not zero.
CREATE OR REPLACE FUNCTION finance.post_document(p_branch integer, p_type text, p_date date, p_no text,
                                                 p_narration text, p_source_table text, p_source_id bigint,
                                                 p_lines jsonb) RETURNS bigint
LANGUAGE sql
AS $$
    SELECT CASE WHEN (SELECT count(*) FROM jsonb_array_elements(p_lines) e
                       WHERE round((e ->> 'amount')::numeric, 2) <> 0) >= 2
                THEN finance.post_voucher(p_branch, p_type, p_date, p_no, p_narration, p_source_table, p_source_id,
                                          p_lines) END
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

-- A transfer invoice as the receiving branch sees it (it is the sending branch's document, under that
-- branch's row-level security).
CREATE OR REPLACE FUNCTION finance.transfer_invoice_of(p_transfer_id integer) RETURNS billing.invoice
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$ SELECT i.* FROM billing.invoice i WHERE i.transfer_id = p_transfer_id AND i.kind = 'TRANSFER' $$;

-- The receiving branch's side of a transfer on a tax invoice (another GSTIN of the company), posted as
-- it receives the goods; a transfer within one GSTIN travels on a challan and posts nothing.
CREATE OR REPLACE FUNCTION finance.post_transfer_receipt_voucher(p_transfer_id integer) RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    t inventory.stock_transfer;
    inv billing.invoice;
    on_date date;
BEGIN
    SELECT * INTO STRICT t FROM inventory.stock_transfer WHERE transfer_id = p_transfer_id;
    inv := finance.transfer_invoice_of(p_transfer_id);
    IF t.status <> 'RECEIVED' OR inv.invoice_id IS NULL THEN
        RETURN NULL;
    END IF;
    on_date := (t.received_at AT TIME ZONE 'Asia/Kolkata')::date;
    PERFORM finance.refuse_closed_month_on(t.to_branch_id, on_date, 'The receipt of transfer ' || t.transfer_no);
    RETURN finance.post_document(t.to_branch_id, 'PURCHASE', on_date, NULL,
        'Transfer ' || t.transfer_no || ' received on invoice ' || inv.invoice_no || ' of '
            || (SELECT b.legal_name || ' (' || b.gstin || ')' FROM master.branch b WHERE b.branch_id = t.branch_id),
        'inventory.stock_transfer', t.transfer_id,
        jsonb_build_array(finance.line(finance.ledger_key('TRANSFER_IN'), inv.taxable_value),
                          finance.line(finance.ledger_key('INPUT_CGST'), inv.cgst),
                          finance.line(finance.ledger_key('INPUT_SGST'), inv.sgst),
                          finance.line(finance.ledger_key('INPUT_IGST'), inv.igst),
                          finance.line(finance.ledger_key('ROUND_OFF'), inv.round_off),
                          finance.line(finance.ledger_key('INTER_BRANCH'), -inv.grand_total)));
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
        WHEN 'inventory.stock_transfer' THEN finance.post_transfer_receipt_voucher(p_source_id::integer)
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
CREATE OR REPLACE TRIGGER stock_transfer_voucher AFTER UPDATE OF status ON inventory.stock_transfer
    FOR EACH ROW WHEN (NEW.status = 'RECEIVED' AND OLD.status <> 'RECEIVED') EXECUTE FUNCTION finance.document_posts_voucher('transfer_id');
CREATE OR REPLACE TRIGGER policy_voucher AFTER INSERT OR UPDATE OF commission_received_on ON insurance.policy
    FOR EACH ROW WHEN (NEW.commission_received_on IS NOT NULL) EXECUTE FUNCTION finance.document_posts_voucher_once('policy_id');

-- What a posted voucher was made from does not change under it: a purchase invoice's amounts, party and
-- date, a subsidy credit, a commission received, once their voucher is posted (a correction is a new
-- document: a debit or credit note, a journal). AFTER the row is checked, so a change its own CHECK
-- refuses is refused with that CHECK's reason; named to fire before the same row's posting trigger.
CREATE OR REPLACE FUNCTION finance.refuse_posted_change() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    posted text;
BEGIN
    SELECT v.voucher_no INTO posted FROM finance.voucher v
     WHERE v.source_table = TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME AND v.source_id = (to_jsonb(OLD) ->> TG_ARGV[0])::bigint;
    IF posted IS NOT NULL THEN
        RAISE EXCEPTION '% is posted in the books (voucher %); it is corrected by a new document, not changed', TG_ARGV[2], posted
            USING ERRCODE = 'check_violation', CONSTRAINT = TG_ARGV[1];
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER purchase_invoice_a_posted AFTER UPDATE ON procurement.purchase_invoice
    FOR EACH ROW WHEN ((OLD.branch_id, OLD.oem_id, OLD.invoice_date, OLD.taxable_value, OLD.cgst, OLD.sgst, OLD.igst,
                        OLD.round_off, OLD.total)
                       IS DISTINCT FROM (NEW.branch_id, NEW.oem_id, NEW.invoice_date, NEW.taxable_value, NEW.cgst, NEW.sgst,
                                         NEW.igst, NEW.round_off, NEW.total))
    EXECUTE FUNCTION finance.refuse_posted_change('pinv_id', 'purchase_invoice_posted', 'This purchase invoice');
CREATE OR REPLACE TRIGGER subsidy_claim_a_posted AFTER UPDATE ON sales.subsidy_claim
    FOR EACH ROW WHEN ((OLD.credited_amount, OLD.credited_on) IS DISTINCT FROM (NEW.credited_amount, NEW.credited_on))
    EXECUTE FUNCTION finance.refuse_posted_change('booking_id', 'subsidy_credit_posted', 'The OEM''s credit of this subsidy');
CREATE OR REPLACE TRIGGER policy_a_commission_posted AFTER UPDATE ON insurance.policy
    FOR EACH ROW WHEN ((OLD.commission_amount, OLD.commission_received_on, OLD.branch_id)
                       IS DISTINCT FROM (NEW.commission_amount, NEW.commission_received_on, NEW.branch_id))
    EXECUTE FUNCTION finance.refuse_posted_change('policy_id', 'policy_commission_posted', 'The commission received');

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
-- existed, or loaded with the triggers off, as generate-history does). A second run posts nothing.
-- A document dated in a closed month is not posted (its month takes no voucher): it is counted as
-- skipped, and posts when the month is reopened and the backfill runs again.
--
-- Set-based, for five years of documents at once: the same vouchers the posting functions above
-- make one by one (same ledgers, amounts, line order, numbers and narrations; tests/test_datagen.py
-- compares the two), written in two statements that fill every column themselves, so they are the
-- same with the triggers on or off (session_replication_role = replica), and checked to balance here.
-- One row per document type: how many were posted, how many came to nothing (no voucher), how many
-- were skipped for a closed month.
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
    UNION ALL
    SELECT 'inventory.stock_transfer', t.transfer_id, t.to_branch_id, (t.received_at AT TIME ZONE 'Asia/Kolkata')::date
      FROM inventory.stock_transfer t
     WHERE t.status = 'RECEIVED' AND EXISTS (SELECT 1 FROM billing.invoice i WHERE i.transfer_id = t.transfer_id)
       AND NOT EXISTS (SELECT 1 FROM finance.voucher v WHERE v.source_table = 'inventory.stock_transfer'
                                                         AND v.source_id = t.transfer_id)
$$;

CREATE OR REPLACE FUNCTION finance.backfill_vouchers()
RETURNS TABLE (document text, posted integer, nothing_to_post integer, skipped_closed_month integer)
LANGUAGE plpgsql
AS $$
DECLARE
    k record;
    unbalanced text;
BEGIN
    DROP TABLE IF EXISTS backfill_doc, backfill_line;
    CREATE TEMP TABLE backfill_doc ON COMMIT DROP AS
    SELECT w.*, finance.month_is_closed(w.branch_id, w.on_date) AS closed,
           NULL::text AS voucher_type, NULL::text AS voucher_no, NULL::text AS narration, NULL::text AS series
      FROM finance.documents_without_voucher() w;
    CREATE TEMP TABLE backfill_line (source_table text, source_id bigint, ord integer, ledger_id integer,
                                     amount numeric) ON COMMIT DROP;
    CREATE INDEX ON backfill_doc (source_table, source_id);

    -- The keys of the system ledgers, once.
    SELECT finance.ledger_key('CASH') AS cash, finance.ledger_key('EXCHANGE_VEHICLE') AS exchange,
           finance.ledger_key('SUBSIDY_RECEIVABLE') AS subsidy, finance.ledger_key('INTER_BRANCH') AS inter_branch,
           finance.ledger_key('COUNTER_CUSTOMERS') AS walk_in, finance.ledger_key('OUTPUT_CGST') AS out_cgst,
           finance.ledger_key('OUTPUT_SGST') AS out_sgst, finance.ledger_key('OUTPUT_IGST') AS out_igst,
           finance.ledger_key('TCS_PAYABLE') AS tcs, finance.ledger_key('ROUND_OFF') AS round_off,
           finance.ledger_key('CANCELLATION_INCOME') AS cancellation, finance.ledger_key('PURCHASE_VEHICLE') AS buy_vehicle,
           finance.ledger_key('PURCHASE_PARTS') AS buy_parts, finance.ledger_key('INPUT_CGST') AS in_cgst,
           finance.ledger_key('INPUT_SGST') AS in_sgst, finance.ledger_key('INPUT_IGST') AS in_igst,
           finance.ledger_key('WARRANTY_INCOME') AS warranty, finance.ledger_key('INSURANCE_COMMISSION') AS commission
      INTO k;

    -- The party ledgers the vouchers need, made first (finance.party_ledger's names: the customer's
    -- name and mobile, the id added when that is taken).
    INSERT INTO finance.ledger (name, group_id, branch_id, customer_id, gstin)
    SELECT CASE WHEN x.n > 1 OR finance.ledger_name_taken(x.name) THEN x.name || ' #' || x.customer_id ELSE x.name END,
           (SELECT group_id FROM finance.account_group WHERE name = 'Sundry Debtors'), x.branch_id, x.customer_id, x.gstin
      FROM (SELECT c.customer_id, c.branch_id, c.gstin,
                   left(regexp_replace(c.name || ' - ' || c.mobile, '[<>]', '', 'g'), 100) AS name,
                   row_number() OVER (PARTITION BY lower(left(regexp_replace(c.name || ' - ' || c.mobile, '[<>]', '', 'g'), 100))
                                      ORDER BY c.customer_id) AS n
              FROM master.customer c
             WHERE c.customer_id IN (SELECT i.customer_id FROM backfill_doc d JOIN billing.invoice i ON i.invoice_id = d.source_id
                                      WHERE d.source_table = 'billing.invoice' AND i.kind <> 'TRANSFER'
                                     UNION
                                     SELECT i.customer_id FROM backfill_doc d JOIN billing.credit_note cn ON cn.credit_note_id = d.source_id
                                       JOIN billing.invoice i ON i.invoice_id = cn.invoice_id
                                      WHERE d.source_table = 'billing.credit_note'
                                     UNION
                                     SELECT coalesce(b.customer_id, i.customer_id)
                                       FROM backfill_doc d
                                       LEFT JOIN billing.receipt r ON d.source_table = 'billing.receipt' AND r.receipt_id = d.source_id
                                       LEFT JOIN billing.refund f ON d.source_table = 'billing.refund' AND f.refund_id = d.source_id
                                       LEFT JOIN sales.booking b ON b.booking_id = coalesce(r.booking_id, f.booking_id)
                                       LEFT JOIN billing.invoice i ON i.invoice_id = coalesce(r.invoice_id, f.invoice_id)
                                      WHERE d.source_table IN ('billing.receipt', 'billing.refund'))
               AND NOT EXISTS (SELECT 1 FROM finance.ledger l WHERE l.customer_id = c.customer_id)) x;
    PERFORM finance.party_ledger('OEM', o.oem_id)
       FROM (SELECT p.oem_id FROM backfill_doc d JOIN procurement.purchase_invoice p ON p.pinv_id = d.source_id
              WHERE d.source_table = 'procurement.purchase_invoice'
             UNION
             SELECT p.oem_id FROM backfill_doc d JOIN procurement.supplier_payment sp ON sp.payment_id = d.source_id
               JOIN procurement.purchase_invoice p ON p.pinv_id = sp.pinv_id
              WHERE d.source_table = 'procurement.supplier_payment'
             UNION
             SELECT m.oem_id FROM backfill_doc d JOIN sales.booking b ON b.booking_id = d.source_id
               JOIN oem.variant v ON v.variant_id = b.variant_id JOIN oem.model m ON m.model_id = v.model_id
              WHERE d.source_table = 'sales.subsidy_claim'
             UNION
             SELECT c.oem_id FROM backfill_doc d JOIN warranty.claim c ON c.claim_id = d.source_id
              WHERE d.source_table = 'warranty.claim') o
      WHERE NOT EXISTS (SELECT 1 FROM finance.ledger l WHERE l.oem_id = o.oem_id);

    -- Invoices (sign 1) and credit notes (sign -1): the party, the sales ledgers by key, the taxes.
    WITH inv AS (
        SELECT d.source_table, d.source_id, 1 AS sign, i.invoice_id, i.kind, i.customer_id, i.grand_total, i.tcs_amount,
               i.cgst, i.sgst, i.igst, i.round_off
          FROM backfill_doc d JOIN billing.invoice i ON i.invoice_id = d.source_id
         WHERE d.source_table = 'billing.invoice' AND NOT d.closed
        UNION ALL
        SELECT d.source_table, d.source_id, -1, i.invoice_id, i.kind, i.customer_id, cn.grand_total, cn.tcs_amount,
               cn.cgst, cn.sgst, cn.igst, cn.round_off
          FROM backfill_doc d JOIN billing.credit_note cn ON cn.credit_note_id = d.source_id
          JOIN billing.invoice i ON i.invoice_id = cn.invoice_id
         WHERE d.source_table = 'billing.credit_note' AND NOT d.closed)
    INSERT INTO backfill_line (source_table, source_id, ord, ledger_id, amount)
    SELECT inv.source_table, inv.source_id, 1,
           CASE WHEN inv.kind = 'TRANSFER' THEN k.inter_branch WHEN inv.customer_id IS NULL THEN k.walk_in
                ELSE (SELECT l.ledger_id FROM finance.ledger l WHERE l.customer_id = inv.customer_id) END,
           inv.sign * (inv.grand_total + inv.tcs_amount)
      FROM inv
    UNION ALL
    SELECT inv.source_table, inv.source_id, 100 + s.rank, finance.ledger_key(s.key), -inv.sign * s.taxable
      FROM inv
      CROSS JOIN LATERAL (SELECT g.key, g.taxable, rank() OVER (ORDER BY g.key) AS rank
                            FROM (SELECT finance.sales_ledger_key(inv.kind, l) AS key, sum(l.taxable_value) AS taxable
                                    FROM billing.invoice_line l WHERE l.invoice_id = inv.invoice_id GROUP BY 1) g) s
    UNION ALL
    SELECT inv.source_table, inv.source_id, t.ord, t.ledger_id, -inv.sign * t.amount
      FROM inv CROSS JOIN LATERAL (VALUES (200, k.out_cgst, inv.cgst), (201, k.out_sgst, inv.sgst), (202, k.out_igst, inv.igst),
                                          (203, k.tcs, inv.tcs_amount), (204, k.round_off, inv.round_off)) t (ord, ledger_id, amount);

    -- Receipts and refunds: the money ledger and the party.
    WITH money AS (
        SELECT d.source_table, d.source_id, r.branch_id, r.mode, r.amount, 0::numeric AS charge, r.booking_id, r.invoice_id
          FROM backfill_doc d JOIN billing.receipt r ON r.receipt_id = d.source_id
         WHERE d.source_table = 'billing.receipt' AND NOT d.closed
        UNION ALL
        SELECT d.source_table, d.source_id, f.branch_id, f.mode, f.amount, f.cancellation_charge, f.booking_id, f.invoice_id
          FROM backfill_doc d JOIN billing.refund f ON f.refund_id = d.source_id
         WHERE d.source_table = 'billing.refund' AND NOT d.closed),
    party AS (
        SELECT m.*, CASE m.mode WHEN 'CASH' THEN k.cash WHEN 'EXCHANGE' THEN k.exchange WHEN 'SUBSIDY' THEN k.subsidy
                                ELSE finance.bank_ledger_for(m.branch_id) END AS money_ledger,
               CASE WHEN m.booking_id IS NOT NULL
                    THEN (SELECT l.ledger_id FROM sales.booking b JOIN finance.ledger l ON l.customer_id = b.customer_id
                           WHERE b.booking_id = m.booking_id)
                    ELSE (SELECT CASE WHEN i.kind = 'TRANSFER' THEN k.inter_branch WHEN i.customer_id IS NULL THEN k.walk_in
                                      ELSE (SELECT l.ledger_id FROM finance.ledger l WHERE l.customer_id = i.customer_id) END
                            FROM billing.invoice i WHERE i.invoice_id = m.invoice_id) END AS party_ledger
          FROM money m)
    INSERT INTO backfill_line (source_table, source_id, ord, ledger_id, amount)
    SELECT p.source_table, p.source_id, t.ord, t.ledger_id, t.amount
      FROM party p
     CROSS JOIN LATERAL (
         SELECT * FROM (VALUES (1, p.money_ledger, p.amount), (2, p.party_ledger, -p.amount)) v (ord, ledger_id, amount)
          WHERE p.source_table = 'billing.receipt'
         UNION ALL
         SELECT * FROM (VALUES (1, p.party_ledger, p.amount + p.charge), (2, p.money_ledger, -p.amount),
                               (3, k.cancellation, -p.charge)) v (ord, ledger_id, amount)
          WHERE p.source_table = 'billing.refund') t;

    -- Purchases (split by what their goods receipts hold at cost) and payments to the OEM.
    WITH pinv AS (
        SELECT d.source_id, p.*, (SELECT l.ledger_id FROM finance.ledger l WHERE l.oem_id = p.oem_id) AS oem_ledger,
               coalesce((SELECT sum(u.purchase_cost) FROM procurement.purchase_invoice_grn g
                           JOIN procurement.grn_vehicle gv ON gv.grn_id = g.grn_id
                           JOIN inventory.vehicle_unit u ON u.unit_id = gv.unit_id WHERE g.pinv_id = p.pinv_id), 0) AS vehicles,
               coalesce((SELECT sum(gp.qty * gp.unit_cost) FROM procurement.purchase_invoice_grn g
                           JOIN procurement.grn_part gp ON gp.grn_id = g.grn_id WHERE g.pinv_id = p.pinv_id), 0) AS parts
          FROM backfill_doc d JOIN procurement.purchase_invoice p ON p.pinv_id = d.source_id
         WHERE d.source_table = 'procurement.purchase_invoice' AND NOT d.closed),
    split AS (
        SELECT pinv.*, CASE WHEN vehicles + parts = 0 THEN taxable_value
                            ELSE round(taxable_value * parts / (vehicles + parts), 2) END AS to_parts FROM pinv)
    INSERT INTO backfill_line (source_table, source_id, ord, ledger_id, amount)
    SELECT 'procurement.purchase_invoice', s.source_id, t.ord, t.ledger_id, t.amount
      FROM split s CROSS JOIN LATERAL (VALUES (1, k.buy_vehicle, s.taxable_value - s.to_parts), (2, k.buy_parts, s.to_parts),
                                              (3, k.in_cgst, s.cgst), (4, k.in_sgst, s.sgst), (5, k.in_igst, s.igst),
                                              (6, k.round_off, s.round_off), (7, s.oem_ledger, -s.total)) t (ord, ledger_id, amount);
    INSERT INTO backfill_line (source_table, source_id, ord, ledger_id, amount)
    SELECT 'procurement.supplier_payment', d.source_id, t.ord, t.ledger_id, t.amount
      FROM backfill_doc d JOIN procurement.supplier_payment sp ON sp.payment_id = d.source_id
      JOIN procurement.purchase_invoice p ON p.pinv_id = sp.pinv_id
     CROSS JOIN LATERAL (VALUES (1, (SELECT l.ledger_id FROM finance.ledger l WHERE l.oem_id = p.oem_id), sp.amount),
                                (2, CASE sp.mode WHEN 'CASH' THEN k.cash ELSE finance.bank_ledger_for(sp.branch_id) END,
                                 -sp.amount)) t (ord, ledger_id, amount)
     WHERE d.source_table = 'procurement.supplier_payment' AND NOT d.closed;

    -- The OEM's subsidy credits and claim settlements; commissions received.
    INSERT INTO backfill_line (source_table, source_id, ord, ledger_id, amount)
    SELECT 'sales.subsidy_claim', d.source_id, t.ord, t.ledger_id, t.amount
      FROM backfill_doc d JOIN sales.subsidy_claim sc ON sc.booking_id = d.source_id
      JOIN sales.booking b ON b.booking_id = sc.booking_id JOIN oem.variant v ON v.variant_id = b.variant_id
      JOIN oem.model m ON m.model_id = v.model_id
     CROSS JOIN LATERAL (VALUES (1, (SELECT l.ledger_id FROM finance.ledger l WHERE l.oem_id = m.oem_id), sc.credited_amount),
                                (2, k.subsidy, -sc.credited_amount)) t (ord, ledger_id, amount)
     WHERE d.source_table = 'sales.subsidy_claim' AND NOT d.closed
    UNION ALL
    SELECT 'warranty.claim', d.source_id, t.ord, t.ledger_id, t.amount
      FROM backfill_doc d JOIN warranty.claim c ON c.claim_id = d.source_id
     CROSS JOIN LATERAL (VALUES (1, (SELECT l.ledger_id FROM finance.ledger l WHERE l.oem_id = c.oem_id), c.settled_amount),
                                (2, k.warranty, -c.settled_amount)) t (ord, ledger_id, amount)
     WHERE d.source_table = 'warranty.claim' AND NOT d.closed
    UNION ALL
    SELECT 'insurance.policy', d.source_id, t.ord, t.ledger_id, t.amount
      FROM backfill_doc d JOIN insurance.policy p ON p.policy_id = d.source_id
     CROSS JOIN LATERAL (VALUES (1, finance.bank_ledger_for(p.branch_id), p.commission_amount),
                                (2, k.commission, -p.commission_amount)) t (ord, ledger_id, amount)
     WHERE d.source_table = 'insurance.policy' AND NOT d.closed
    UNION ALL
    SELECT 'inventory.stock_transfer', d.source_id, t.ord, t.ledger_id, t.amount
      FROM backfill_doc d JOIN billing.invoice i ON i.transfer_id = d.source_id AND i.kind = 'TRANSFER'
     CROSS JOIN LATERAL (VALUES (1, finance.ledger_key('TRANSFER_IN'), i.taxable_value), (2, k.in_cgst, i.cgst),
                                (3, k.in_sgst, i.sgst), (4, k.in_igst, i.igst), (5, k.round_off, i.round_off),
                                (6, k.inter_branch, -i.grand_total)) t (ord, ledger_id, amount)
     WHERE d.source_table = 'inventory.stock_transfer' AND NOT d.closed;

    DELETE FROM backfill_line WHERE round(amount, 2) = 0;
    CREATE INDEX ON backfill_line (source_table, source_id);
    ANALYZE backfill_doc, backfill_line;

    -- The headers, as the posting functions write them.
    UPDATE backfill_doc d SET voucher_type = h.voucher_type, voucher_no = h.voucher_no, narration = left(h.narration, 500),
                              series = h.series
      FROM (SELECT d2.source_table, d2.source_id, x.*
              FROM backfill_doc d2
             CROSS JOIN LATERAL (
                 SELECT 'SALES' AS voucher_type, i.invoice_no AS voucher_no, NULL AS series,
                        CASE i.kind WHEN 'VEHICLE' THEN 'Vehicle invoice' WHEN 'COUNTER' THEN 'Counter sale'
                                    WHEN 'SERVICE' THEN 'Service invoice' ELSE 'Stock transfer invoice' END
                            || ' to ' || i.buyer_name AS narration
                   FROM billing.invoice i WHERE d2.source_table = 'billing.invoice' AND i.invoice_id = d2.source_id
                 UNION ALL
                 SELECT 'CREDIT_NOTE', cn.credit_note_no, NULL, 'Credit note against ' || i.invoice_no || ': ' || cn.reason
                   FROM billing.credit_note cn JOIN billing.invoice i ON i.invoice_id = cn.invoice_id
                  WHERE d2.source_table = 'billing.credit_note' AND cn.credit_note_id = d2.source_id
                 UNION ALL
                 SELECT CASE WHEN r.mode IN ('EXCHANGE', 'SUBSIDY') THEN 'JOURNAL' ELSE 'RECEIPT' END, r.receipt_no, NULL,
                        CASE r.mode WHEN 'FINANCE' THEN 'Finance disbursement' WHEN 'EXCHANGE' THEN 'Exchange vehicle taken'
                                    WHEN 'SUBSIDY' THEN 'PM E-DRIVE subsidy credited to the sale' ELSE 'Received' END
                            || ' from ' || r.received_from || coalesce(' (' || r.reference || ')', '')
                   FROM billing.receipt r WHERE d2.source_table = 'billing.receipt' AND r.receipt_id = d2.source_id
                 UNION ALL
                 SELECT CASE WHEN f.amount > 0 THEN 'PAYMENT' ELSE 'JOURNAL' END, f.refund_no, NULL,
                        'Refund to ' || f.paid_to || ': ' || f.reason
                   FROM billing.refund f WHERE d2.source_table = 'billing.refund' AND f.refund_id = d2.source_id
                 UNION ALL
                 SELECT 'PURCHASE', NULL, 'PUV', 'Purchase invoice ' || p.supplier_invoice_no || ' of ' || o.legal_name
                   FROM procurement.purchase_invoice p JOIN oem.oem o ON o.oem_id = p.oem_id
                  WHERE d2.source_table = 'procurement.purchase_invoice' AND p.pinv_id = d2.source_id
                 UNION ALL
                 SELECT 'PAYMENT', NULL, 'PV',
                        'Paid against purchase invoice ' || p.supplier_invoice_no || coalesce(' (' || sp.reference || ')', '')
                   FROM procurement.supplier_payment sp JOIN procurement.purchase_invoice p ON p.pinv_id = sp.pinv_id
                  WHERE d2.source_table = 'procurement.supplier_payment' AND sp.payment_id = d2.source_id
                 UNION ALL
                 SELECT 'JOURNAL', NULL, 'JV',
                        'PM E-DRIVE subsidy credited by the OEM for booking ' || sc.booking_no || coalesce(', claim ' || sc.claim_no, '')
                   FROM sales.subsidy_claim sc WHERE d2.source_table = 'sales.subsidy_claim' AND sc.booking_id = d2.source_id
                 UNION ALL
                 SELECT 'JOURNAL', NULL, 'JV',
                        'Claim ' || c.claim_no || ' (' || lower(replace(c.kind, '_', ' ')) || ', VIN ' || c.vin || ') settled by the OEM'
                            || coalesce(', ' || c.settlement_ref, '')
                   FROM warranty.claim c WHERE d2.source_table = 'warranty.claim' AND c.claim_id = d2.source_id
                 UNION ALL
                 SELECT 'RECEIPT', NULL, 'RV',
                        'Commission on policy ' || coalesce(p.od_policy_no, p.tp_policy_no) || ' from ' || i.name
                   FROM insurance.policy p JOIN master.insurer i ON i.insurer_id = p.insurer_id
                  WHERE d2.source_table = 'insurance.policy' AND p.policy_id = d2.source_id
                 UNION ALL
                 SELECT 'PURCHASE', NULL, 'PUV',
                        'Transfer ' || t.transfer_no || ' received on invoice ' || i.invoice_no || ' of '
                            || b.legal_name || ' (' || b.gstin || ')'
                   FROM inventory.stock_transfer t JOIN billing.invoice i ON i.transfer_id = t.transfer_id AND i.kind = 'TRANSFER'
                   JOIN master.branch b ON b.branch_id = t.branch_id
                  WHERE d2.source_table = 'inventory.stock_transfer' AND t.transfer_id = d2.source_id) x
             WHERE NOT d2.closed) h
     WHERE d.source_table = h.source_table AND d.source_id = h.source_id;

    -- The vouchers of the documents with two lines or more, numbered in date order where they take
    -- a number of their own; then their lines.
    INSERT INTO finance.voucher (branch_id, voucher_type, voucher_no, voucher_date, narration, source_table, source_id,
                                 posted_by, posted_at)
    SELECT d.branch_id, d.voucher_type, coalesce(d.voucher_no, master.next_document_no(d.branch_id, d.series, d.on_date)),
           d.on_date, d.narration, d.source_table, d.source_id, audit.current_staff_id(), now()
      FROM (SELECT d.* FROM backfill_doc d
             WHERE NOT d.closed
               AND (SELECT count(*) FROM backfill_line l WHERE l.source_table = d.source_table AND l.source_id = d.source_id) >= 2
             ORDER BY d.on_date, d.source_table, d.source_id) d;
    ANALYZE finance.voucher;
    INSERT INTO finance.voucher_line (voucher_id, line_no, ledger_id, debit, credit, branch_id, voucher_date)
    SELECT v.voucher_id, row_number() OVER (PARTITION BY v.voucher_id ORDER BY l.ord), l.ledger_id,
           greatest(round(l.amount, 2), 0), greatest(-round(l.amount, 2), 0), v.branch_id, v.voucher_date
      FROM backfill_line l
      JOIN backfill_doc d ON d.source_table = l.source_table AND d.source_id = l.source_id
      JOIN finance.voucher v ON v.source_table = l.source_table AND v.source_id = l.source_id
     WHERE v.posted_at = now();
    ANALYZE finance.voucher_line;

    -- Balanced, checked here too (the deferred check is off when the triggers are).
    SELECT string_agg(x.voucher_no, ', ') INTO unbalanced
      FROM (SELECT v.voucher_no FROM finance.voucher v JOIN finance.voucher_line l USING (voucher_id)
             WHERE v.posted_at = now() AND (v.source_table, v.source_id) IN (SELECT source_table, source_id FROM backfill_doc)
             GROUP BY v.voucher_id, v.voucher_no HAVING sum(l.debit) <> sum(l.credit) OR count(*) < 2 LIMIT 5) x;
    IF unbalanced IS NOT NULL THEN
        RAISE EXCEPTION 'backfilled vouchers % do not balance', unbalanced
            USING ERRCODE = 'check_violation', CONSTRAINT = 'voucher_balanced';
    END IF;

    RETURN QUERY
    SELECT d.source_table,
           count(*) FILTER (WHERE v.voucher_id IS NOT NULL)::integer,
           count(*) FILTER (WHERE v.voucher_id IS NULL AND NOT d.closed)::integer,
           count(*) FILTER (WHERE d.closed)::integer
      FROM backfill_doc d
      LEFT JOIN finance.voucher v ON v.source_table = d.source_table AND v.source_id = d.source_id AND v.posted_at = now()
     GROUP BY d.source_table ORDER BY d.source_table;
END
$$;
