-- The inventory schema's functions, triggers and views as they are now: init-db runs this file
-- again whenever it changes (webapp/migrations.py), after the numbered migrations. A fix to one of
-- them is an edit here, never a new numbered file (docs/ARCHITECTURE.md, "Database rules live
-- in PostgreSQL").

CREATE OR REPLACE FUNCTION inventory.check_unit_status() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.status IS DISTINCT FROM OLD.status THEN
        IF NOT EXISTS (SELECT 1 FROM inventory.unit_status_transition
                        WHERE from_status = OLD.status AND to_status = NEW.status) THEN
            RAISE EXCEPTION 'a unit cannot go from % to % (VIN %)', OLD.status, NEW.status, OLD.vin
                USING ERRCODE = 'check_violation', CONSTRAINT = 'vehicle_unit_status_transition';
        END IF;
        NEW.status_changed_at := now();
    END IF;
    IF NEW.vin IS DISTINCT FROM OLD.vin THEN
        RAISE EXCEPTION 'a VIN never changes (unit %)', OLD.unit_id
            USING ERRCODE = 'check_violation', CONSTRAINT = 'vehicle_unit_vin_fixed';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER vehicle_unit_status BEFORE UPDATE ON inventory.vehicle_unit
    FOR EACH ROW EXECUTE FUNCTION inventory.check_unit_status();

CREATE OR REPLACE TRIGGER vehicle_unit_never_deleted BEFORE DELETE ON inventory.vehicle_unit
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- Post a move onto the balance row in the same transaction. Incoming moves carry their
-- cost; outgoing moves leave at the current weighted average (computed here, not trusted
-- from the caller). The row lock on part_stock serialises concurrent moves of one part.
CREATE OR REPLACE FUNCTION inventory.post_stock_move() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    whole boolean;
    bal inventory.part_stock;
BEGIN
    SELECT whole_units INTO STRICT whole FROM master.part WHERE part_id = NEW.part_id;
    IF whole AND NEW.qty <> trunc(NEW.qty) THEN
        RAISE EXCEPTION 'part % is counted in whole units; % is not a whole number', NEW.part_id, NEW.qty
            USING ERRCODE = 'check_violation', CONSTRAINT = 'stock_move_whole_units';
    END IF;
    INSERT INTO inventory.part_stock (branch_id, part_id) VALUES (NEW.branch_id, NEW.part_id)
    ON CONFLICT (branch_id, part_id) DO NOTHING;
    SELECT * INTO bal FROM inventory.part_stock
     WHERE branch_id = NEW.branch_id AND part_id = NEW.part_id FOR UPDATE;
    IF bal.qty + NEW.qty < 0 THEN
        RAISE EXCEPTION 'only % in stock; % cannot go out', bal.qty, -NEW.qty
            USING ERRCODE = 'check_violation', CONSTRAINT = 'part_stock_not_negative';
    END IF;
    IF NEW.qty > 0 THEN
        NEW.value := round(NEW.qty * NEW.unit_cost, 2);
    ELSIF bal.qty + NEW.qty = 0 THEN
        NEW.value := -bal.value;   -- the last units take the remaining value, no paisa left over
        NEW.unit_cost := CASE WHEN bal.qty > 0 THEN round(bal.value / bal.qty, 4) ELSE 0 END;
    ELSE
        NEW.unit_cost := CASE WHEN bal.qty > 0 THEN round(bal.value / bal.qty, 4) ELSE 0 END;
        -- Never more than the balance holds (a rounded-up average on many cheap units could).
        NEW.value := greatest(round(NEW.qty * NEW.unit_cost, 2), -bal.value);
    END IF;
    UPDATE inventory.part_stock
       SET qty = qty + NEW.qty, value = value + NEW.value, updated_at = now()
     WHERE branch_id = NEW.branch_id AND part_id = NEW.part_id;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER stock_move_post BEFORE INSERT ON inventory.stock_move
    FOR EACH ROW EXECUTE FUNCTION inventory.post_stock_move();

-- The ledger is history: a wrong move is corrected by another move.
CREATE OR REPLACE TRIGGER stock_move_is_permanent BEFORE UPDATE OR DELETE ON inventory.stock_move
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- The balance changes only through moves (bin location excepted).
CREATE OR REPLACE FUNCTION inventory.guard_part_stock() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF pg_trigger_depth() < 2 AND (
           TG_OP = 'DELETE'
           OR (TG_OP = 'INSERT' AND (NEW.qty <> 0 OR NEW.value <> 0))
           OR (TG_OP = 'UPDATE' AND (NEW.qty IS DISTINCT FROM OLD.qty OR NEW.value IS DISTINCT FROM OLD.value))) THEN
        RAISE EXCEPTION 'stock quantities change only through stock moves'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'part_stock_through_moves';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER part_stock_guard BEFORE INSERT OR UPDATE OR DELETE ON inventory.part_stock
    FOR EACH ROW EXECUTE FUNCTION inventory.guard_part_stock();

-- At commit: a transfer between different GSTINs carries its tax invoice, and the invoice bills
-- every line of the transfer.
CREATE OR REPLACE FUNCTION inventory.check_transfer_document() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    inv_id integer;
    missing integer;
BEGIN
    IF (SELECT gstin FROM master.branch WHERE branch_id = NEW.branch_id)
       = (SELECT gstin FROM master.branch WHERE branch_id = NEW.to_branch_id) THEN
        RETURN NULL;   -- one GSTIN: the transfer is its own delivery challan
    END IF;
    SELECT invoice_id INTO inv_id FROM billing.invoice WHERE transfer_id = NEW.transfer_id;
    IF inv_id IS NULL THEN
        RAISE EXCEPTION 'transfer % goes to a branch with another GSTIN: it needs a tax invoice', NEW.transfer_no
            USING ERRCODE = 'check_violation', CONSTRAINT = 'transfer_needs_tax_invoice';
    END IF;
    SELECT count(*) INTO missing FROM inventory.stock_transfer_line l
     WHERE l.transfer_id = NEW.transfer_id
       AND NOT EXISTS (SELECT 1 FROM billing.invoice_line il
                        WHERE il.invoice_id = inv_id
                          AND (il.unit_id = l.unit_id OR (il.part_id = l.part_id AND il.qty = l.qty)));
    IF missing > 0 THEN
        RAISE EXCEPTION 'the tax invoice of transfer % leaves out % of its lines', NEW.transfer_no, missing
            USING ERRCODE = 'check_violation', CONSTRAINT = 'transfer_needs_tax_invoice';
    END IF;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS transfer_document ON inventory.stock_transfer;
CREATE CONSTRAINT TRIGGER transfer_document AFTER INSERT ON inventory.stock_transfer
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION inventory.check_transfer_document();

-- A stock transfer: the sending branch's TRF series of the day it is dispatched (in India);
-- the number is also its delivery challan's (sql/0012).
CREATE OR REPLACE FUNCTION inventory.number_stock_transfer() RETURNS trigger
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

CREATE OR REPLACE TRIGGER stock_transfer_take_number BEFORE INSERT ON inventory.stock_transfer
    FOR EACH ROW WHEN (NEW.transfer_no IS NULL) EXECUTE FUNCTION inventory.number_stock_transfer();

-- A stock count: the branch's CNT series of the day the sheet is started (in India). A second
-- open count at the branch is refused before it is numbered.
CREATE OR REPLACE FUNCTION inventory.number_stock_count() RETURNS trigger
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

CREATE OR REPLACE TRIGGER stock_count_take_number BEFORE INSERT ON inventory.stock_count
    FOR EACH ROW EXECUTE FUNCTION inventory.number_stock_count();
