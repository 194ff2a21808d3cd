-- Purchase orders, goods receipts, stock transfers and stock counts take their numbers like
-- every other document (invoice, receipt, booking...): in a trigger of their own table, from
-- master.next_document_no, after every check that could refuse the row, so a refused document
-- uses no number and Python never numbers. A row written with its number (rows copied in
-- already numbered as the counter would number them) keeps it.
--
-- Each numbering trigger is named to fire after the table's checking trigger: BEFORE triggers
-- of one table fire in the order of their names.

-- A purchase order is numbered when it is approved (a draft has no number), in its branch's
-- PO series of the order date's financial year; an order sent back to draft and approved again
-- keeps its number. Fires after purchase_order_change, which checks the approval.
CREATE FUNCTION procurement.number_purchase_order() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.status = 'APPROVED' AND NEW.po_no IS NULL THEN
        NEW.po_no := master.next_document_no(NEW.branch_id, 'PO', NEW.order_date);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER purchase_order_take_number BEFORE UPDATE ON procurement.purchase_order
    FOR EACH ROW WHEN (NEW.status = 'APPROVED' AND NEW.po_no IS NULL) EXECUTE FUNCTION procurement.number_purchase_order();

-- A goods receipt: the GRN series of the day it is received. Fires after
-- goods_receipt_receivable (the order is open, the branch is the one that ordered).
CREATE FUNCTION procurement.number_goods_receipt() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.grn_no IS NULL THEN
        NEW.grn_no := master.next_document_no(NEW.branch_id, 'GRN', NEW.received_on);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER goods_receipt_take_number BEFORE INSERT ON procurement.goods_receipt
    FOR EACH ROW WHEN (NEW.grn_no IS NULL) EXECUTE FUNCTION procurement.number_goods_receipt();

-- A stock transfer: the sending branch's TRF series of the day it is dispatched (in India);
-- the number is also its delivery challan's (sql/0012).
CREATE FUNCTION inventory.number_stock_transfer() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.transfer_no IS NULL THEN
        NEW.transfer_no := master.next_document_no(NEW.branch_id, 'TRF',
                                                   (NEW.dispatched_at AT TIME ZONE 'Asia/Kolkata')::date);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER stock_transfer_take_number BEFORE INSERT ON inventory.stock_transfer
    FOR EACH ROW WHEN (NEW.transfer_no IS NULL) EXECUTE FUNCTION inventory.number_stock_transfer();

-- A stock count: the branch's CNT series of the day the sheet is started (in India). A second
-- open count at the branch is refused before it is numbered.
CREATE FUNCTION inventory.number_stock_count() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.status = 'OPEN' AND EXISTS (SELECT 1 FROM inventory.stock_count
                                        WHERE branch_id = NEW.branch_id AND status = 'OPEN') THEN
        RAISE EXCEPTION 'a count is already open at branch %', NEW.branch_id
            USING ERRCODE = 'unique_violation', CONSTRAINT = 'stock_count_one_open_idx';
    END IF;
    IF NEW.count_no IS NULL THEN
        NEW.count_no := master.next_document_no(NEW.branch_id, 'CNT',
                                                (NEW.started_at AT TIME ZONE 'Asia/Kolkata')::date);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER stock_count_take_number BEFORE INSERT ON inventory.stock_count
    FOR EACH ROW EXECUTE FUNCTION inventory.number_stock_count();
