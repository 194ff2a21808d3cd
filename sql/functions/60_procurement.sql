-- The procurement schema's functions, triggers and views as they are now: init-db runs this file
-- again whenever it changes (webapp/migrations.py), after the numbered migrations. A fix to one of
-- them is an edit here, never a new numbered file (docs/ARCHITECTURE.md, "Database rules live
-- in PostgreSQL").

CREATE OR REPLACE FUNCTION procurement.check_po_change() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    approver_role text;
BEGIN
    -- Every order starts as a draft, so approval always passes the checks below.
    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'DRAFT' THEN
            RAISE EXCEPTION 'a purchase order starts as a draft, not %', lower(NEW.status)
                USING ERRCODE = 'check_violation', CONSTRAINT = 'purchase_order_status_transition';
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status THEN
        IF NOT EXISTS (SELECT 1 FROM procurement.po_status_transition
                        WHERE from_status = OLD.status AND to_status = NEW.status) THEN
            RAISE EXCEPTION 'a purchase order cannot go from % to %', OLD.status, NEW.status
                USING ERRCODE = 'check_violation', CONSTRAINT = 'purchase_order_status_transition';
        END IF;
    END IF;
    -- The recorded approver must be one who may approve, also when the name is changed later.
    IF (NEW.status = 'APPROVED' AND OLD.status <> 'APPROVED')
       OR (NEW.status NOT IN ('DRAFT', 'CANCELLED') AND NEW.approved_by IS DISTINCT FROM OLD.approved_by) THEN
        SELECT designation INTO approver_role FROM master.staff
         WHERE staff_id = NEW.approved_by AND is_active;
        IF approver_role IS NULL OR approver_role NOT IN ('MANAGER', 'ADMIN') THEN
            RAISE EXCEPTION 'only a manager or an administrator approves a purchase order'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'purchase_order_approver';
        END IF;
    END IF;
    IF NEW.status = 'APPROVED' AND OLD.status <> 'APPROVED'
       AND NOT EXISTS (SELECT 1 FROM procurement.po_line WHERE po_id = NEW.po_id) THEN
        RAISE EXCEPTION 'a purchase order without lines cannot be approved'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'purchase_order_has_lines';
    END IF;
    IF OLD.status <> 'DRAFT' AND (NEW.oem_id, NEW.branch_id) IS DISTINCT FROM (OLD.oem_id, OLD.branch_id) THEN
        RAISE EXCEPTION 'the supplier and branch of an approved purchase order are fixed'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'purchase_order_fixed';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER purchase_order_change BEFORE INSERT OR UPDATE ON procurement.purchase_order
    FOR EACH ROW EXECUTE FUNCTION procurement.check_po_change();

-- Lines change only while the order is a draft (receipts only move received_qty).
CREATE OR REPLACE FUNCTION procurement.check_po_line_change() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    po_status text;
    line procurement.po_line := coalesce(NEW, OLD);
BEGIN
    SELECT status INTO po_status FROM procurement.purchase_order WHERE po_id = line.po_id;
    IF po_status <> 'DRAFT' AND NOT (TG_OP = 'UPDATE'
            AND (to_jsonb(NEW) - 'received_qty') = (to_jsonb(OLD) - 'received_qty')) THEN
        RAISE EXCEPTION 'the lines of a % purchase order cannot change', lower(po_status)
            USING ERRCODE = 'check_violation', CONSTRAINT = 'po_line_draft_only';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    IF NEW.part_id IS NOT NULL AND NEW.qty <> trunc(NEW.qty)
       AND (SELECT whole_units FROM master.part WHERE part_id = NEW.part_id) THEN
        RAISE EXCEPTION 'part % is counted in whole units', NEW.part_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'po_line_whole_units';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER po_line_change BEFORE INSERT OR UPDATE OR DELETE ON procurement.po_line
    FOR EACH ROW EXECUTE FUNCTION procurement.check_po_line_change();

-- What was received moves the order to PART_RECEIVED / RECEIVED.
CREATE OR REPLACE FUNCTION procurement.update_po_receipt_status() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    all_in boolean;
BEGIN
    SELECT bool_and(received_qty = qty) INTO all_in FROM procurement.po_line WHERE po_id = NEW.po_id;
    UPDATE procurement.purchase_order
       SET status = CASE WHEN all_in THEN 'RECEIVED' ELSE 'PART_RECEIVED' END
     WHERE po_id = NEW.po_id
       AND status IS DISTINCT FROM CASE WHEN all_in THEN 'RECEIVED' ELSE 'PART_RECEIVED' END;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER po_line_received AFTER UPDATE OF received_qty ON procurement.po_line
    FOR EACH ROW WHEN (NEW.received_qty IS DISTINCT FROM OLD.received_qty)
    EXECUTE FUNCTION procurement.update_po_receipt_status();

CREATE OR REPLACE FUNCTION procurement.check_receivable() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    po procurement.purchase_order;
BEGIN
    SELECT * INTO STRICT po FROM procurement.purchase_order WHERE po_id = NEW.po_id FOR UPDATE;
    IF po.status NOT IN ('SENT', 'PART_RECEIVED') THEN
        RAISE EXCEPTION 'goods are received only against a sent purchase order (this one is %)', lower(po.status)
            USING ERRCODE = 'check_violation', CONSTRAINT = 'goods_receipt_po_open';
    END IF;
    IF po.branch_id <> NEW.branch_id THEN
        RAISE EXCEPTION 'goods are received at the branch that ordered them'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'goods_receipt_branch';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER goods_receipt_receivable BEFORE INSERT ON procurement.goods_receipt
    FOR EACH ROW EXECUTE FUNCTION procurement.check_receivable();

CREATE OR REPLACE TRIGGER goods_receipt_is_permanent BEFORE UPDATE OR DELETE ON procurement.goods_receipt
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- Each received vehicle or part quantity counts against its PO line (CHECK: never more
-- than ordered), and must be what the line ordered.
CREATE OR REPLACE FUNCTION procurement.count_received() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    line procurement.po_line;
    unit inventory.vehicle_unit;
    received numeric;
BEGIN
    SELECT * INTO STRICT line FROM procurement.po_line WHERE po_line_id = NEW.po_line_id;
    IF line.po_id <> (SELECT po_id FROM procurement.goods_receipt WHERE grn_id = NEW.grn_id) THEN
        RAISE EXCEPTION 'the line is not on this receipt''s purchase order'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'grn_line_same_po';
    END IF;
    IF TG_TABLE_NAME = 'grn_vehicle' THEN
        SELECT * INTO STRICT unit FROM inventory.vehicle_unit WHERE unit_id = NEW.unit_id;
        IF line.variant_id IS NULL OR (unit.variant_id, unit.colour) <> (line.variant_id, line.colour) THEN
            RAISE EXCEPTION 'VIN % is not the variant and colour of PO line %', unit.vin, line.line_no
                USING ERRCODE = 'check_violation', CONSTRAINT = 'grn_vehicle_matches_line';
        END IF;
        received := 1;
    ELSE
        IF line.part_id IS NULL THEN
            RAISE EXCEPTION 'PO line % orders a vehicle, not a part', line.line_no
                USING ERRCODE = 'check_violation', CONSTRAINT = 'grn_part_matches_line';
        END IF;
        -- The ledger and the receipt tell the same story: this part, here, this many, at this cost.
        IF NOT EXISTS (SELECT 1 FROM inventory.stock_move m, procurement.goods_receipt g
                        WHERE m.move_id = NEW.move_id AND g.grn_id = NEW.grn_id AND m.kind = 'RECEIPT'
                          AND m.part_id = line.part_id AND m.branch_id = g.branch_id
                          AND m.qty = NEW.qty AND m.unit_cost = NEW.unit_cost) THEN
            RAISE EXCEPTION 'stock move % is not the receipt of PO line %', NEW.move_id, line.line_no
                USING ERRCODE = 'check_violation', CONSTRAINT = 'grn_part_matches_move';
        END IF;
        received := NEW.qty;
    END IF;
    UPDATE procurement.po_line SET received_qty = received_qty + received WHERE po_line_id = NEW.po_line_id;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER grn_vehicle_count BEFORE INSERT ON procurement.grn_vehicle
    FOR EACH ROW EXECUTE FUNCTION procurement.count_received();

CREATE OR REPLACE TRIGGER grn_part_count BEFORE INSERT ON procurement.grn_part
    FOR EACH ROW EXECUTE FUNCTION procurement.count_received();

CREATE OR REPLACE TRIGGER grn_vehicle_is_permanent BEFORE UPDATE OR DELETE ON procurement.grn_vehicle
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

CREATE OR REPLACE TRIGGER grn_part_is_permanent BEFORE UPDATE OR DELETE ON procurement.grn_part
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- The supplier's state decides the heads: same state as the branch -> CGST + SGST, else IGST.
CREATE OR REPLACE FUNCTION procurement.check_tax_heads() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    same_state boolean;
BEGIN
    SELECT o.state_code = b.state_code INTO STRICT same_state
      FROM oem.oem o, master.branch b WHERE o.oem_id = NEW.oem_id AND b.branch_id = NEW.branch_id;
    IF same_state AND NEW.igst <> 0 THEN
        RAISE EXCEPTION 'the supplier is in the branch''s state: CGST and SGST, not IGST'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'purchase_invoice_tax_heads';
    ELSIF NOT same_state AND (NEW.cgst <> 0 OR NEW.sgst <> 0) THEN
        RAISE EXCEPTION 'the supplier is in another state: IGST, not CGST and SGST'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'purchase_invoice_tax_heads';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER purchase_invoice_tax_heads BEFORE INSERT OR UPDATE ON procurement.purchase_invoice
    FOR EACH ROW EXECUTE FUNCTION procurement.check_tax_heads();

-- Never pay more than the invoice (the invoice row is locked: concurrent payments queue).
CREATE OR REPLACE FUNCTION procurement.check_not_overpaid() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    invoice_total numeric;
    paid numeric;
BEGIN
    SELECT total INTO STRICT invoice_total FROM procurement.purchase_invoice WHERE pinv_id = NEW.pinv_id FOR UPDATE;
    SELECT coalesce(sum(amount), 0) INTO paid FROM procurement.supplier_payment WHERE pinv_id = NEW.pinv_id;
    IF paid + NEW.amount > invoice_total THEN
        RAISE EXCEPTION 'payment of % would exceed the % still due', NEW.amount, invoice_total - paid
            USING ERRCODE = 'check_violation', CONSTRAINT = 'supplier_payment_not_over_invoice';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER supplier_payment_not_over BEFORE INSERT ON procurement.supplier_payment
    FOR EACH ROW EXECUTE FUNCTION procurement.check_not_overpaid();

CREATE OR REPLACE TRIGGER supplier_payment_is_permanent BEFORE UPDATE OR DELETE ON procurement.supplier_payment
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- Nor lower an invoice below what has been paid against it.
CREATE OR REPLACE FUNCTION procurement.check_total_covers_payments() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    paid numeric;
BEGIN
    SELECT coalesce(sum(amount), 0) INTO paid FROM procurement.supplier_payment WHERE pinv_id = NEW.pinv_id;
    IF NEW.total < paid THEN
        RAISE EXCEPTION 'the invoice total % is less than the % already paid', NEW.total, paid
            USING ERRCODE = 'check_violation', CONSTRAINT = 'supplier_payment_not_over_invoice';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER purchase_invoice_covers_payments BEFORE UPDATE OF total ON procurement.purchase_invoice
    FOR EACH ROW EXECUTE FUNCTION procurement.check_total_covers_payments();

-- What is still owed per invoice, and how old it is. A view reads its tables as its owner, who
-- bypasses the branch policies of sql/0014: it carries the same rule in its own WHERE.
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

-- A purchase order is numbered when it is approved (a draft has no number), in its branch's
-- PO series of the order date's financial year; an order sent back to draft and approved again
-- keeps its number. Fires after purchase_order_change, which checks the approval.
CREATE OR REPLACE FUNCTION procurement.number_purchase_order() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.status = 'APPROVED' AND NEW.po_no IS NULL THEN
        NEW.po_no := master.next_document_no(NEW.branch_id, 'PO', NEW.order_date);
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER purchase_order_take_number BEFORE UPDATE ON procurement.purchase_order
    FOR EACH ROW WHEN (NEW.status = 'APPROVED' AND NEW.po_no IS NULL) EXECUTE FUNCTION procurement.number_purchase_order();

-- A goods receipt: the GRN series of the day it is received. Fires after
-- goods_receipt_receivable (the order is open, the branch is the one that ordered).
CREATE OR REPLACE FUNCTION procurement.number_goods_receipt() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.grn_no IS NULL THEN
        NEW.grn_no := master.next_document_no(NEW.branch_id, 'GRN', NEW.received_on);
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER goods_receipt_take_number BEFORE INSERT ON procurement.goods_receipt
    FOR EACH ROW WHEN (NEW.grn_no IS NULL) EXECUTE FUNCTION procurement.number_goods_receipt();
