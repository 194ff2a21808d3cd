-- The paper that travels with a stock transfer.
--
-- Between two branches under one GSTIN goods move on a delivery challan (CGST rule 55): the
-- transfer's own number (TRF series) is the challan's. Between branches with different GSTINs
-- (another state, or a separate registration) the transfer is a supply between distinct persons
-- (CGST Act, Schedule I): it is billed on a tax invoice of kind TRANSFER, numbered in the
-- sending branch's INV series, to the receiving branch as a registered buyer, with the place of
-- supply its state (IGST between states), valued at cost. The database holds it: such a
-- transfer does not commit without its invoice, and the invoice sells only what the transfer
-- carries (the transfer already moved the stock, so its part lines move nothing again).

-- Branches of one dealer in one state are places of business of one registration: they share
-- the GSTIN (each keeps its own invoice prefix, so each series stays unique within the GSTIN).
ALTER TABLE master.branch DROP CONSTRAINT branch_gstin_key;
CREATE INDEX branch_gstin_idx ON master.branch (gstin);

ALTER TABLE billing.invoice DROP CONSTRAINT invoice_kind_check;
ALTER TABLE billing.invoice
    ADD CONSTRAINT invoice_kind_check CHECK (kind IN ('VEHICLE', 'COUNTER', 'TRANSFER')),
    ADD COLUMN transfer_id integer UNIQUE REFERENCES inventory.stock_transfer (transfer_id),
    ADD CONSTRAINT invoice_transfer CHECK ((kind = 'TRANSFER') = (transfer_id IS NOT NULL)),
    ADD CONSTRAINT invoice_transfer_registered CHECK (kind <> 'TRANSFER' OR buyer_gstin IS NOT NULL);

-- A transfer invoice is made out to the receiving branch as it is registered, and goes to its
-- address; named to fire before invoice_post, which then checks the place of supply as for any
-- invoice delivered to an address.
CREATE FUNCTION billing.fill_transfer_invoice() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    t inventory.stock_transfer;
    sender master.branch;
    receiver master.branch;
BEGIN
    IF NEW.kind <> 'TRANSFER' THEN
        RETURN NEW;
    END IF;
    SELECT * INTO STRICT t FROM inventory.stock_transfer WHERE transfer_id = NEW.transfer_id FOR UPDATE;
    SELECT * INTO STRICT sender FROM master.branch WHERE branch_id = t.branch_id;
    SELECT * INTO STRICT receiver FROM master.branch WHERE branch_id = t.to_branch_id;
    IF NEW.branch_id <> t.branch_id THEN
        RAISE EXCEPTION 'transfer % is invoiced by the branch that sends it', t.transfer_no
            USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_transfer_sender';
    END IF;
    IF sender.gstin = receiver.gstin THEN
        RAISE EXCEPTION 'transfer % stays within GSTIN %: it travels on a delivery challan, not a tax invoice',
            t.transfer_no, sender.gstin
            USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_transfer_distinct_gstin';
    END IF;
    NEW.customer_id := NULL;
    NEW.buyer_name := receiver.legal_name;
    NEW.buyer_gstin := receiver.gstin;
    NEW.buyer_state_code := receiver.state_code;
    NEW.buyer_mobile := NULL;
    NEW.buyer_address := concat_ws(', ', receiver.address_line1, receiver.address_line2, receiver.city,
                                   'PIN ' || receiver.pincode);
    NEW.delivery_address := NEW.buyer_address;
    NEW.delivery_state_code := receiver.state_code;
    RETURN NEW;
END
$$;
CREATE TRIGGER invoice_a_transfer BEFORE INSERT ON billing.invoice
    FOR EACH ROW EXECUTE FUNCTION billing.fill_transfer_invoice();

-- The line rule of 0007 with the transfer invoice: its vehicles are the transfer's, and its part
-- lines take nothing out of stock (the transfer did).
CREATE OR REPLACE FUNCTION billing.post_invoice_line() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    inv billing.invoice;
    rate numeric;
BEGIN
    SELECT * INTO STRICT inv FROM billing.invoice WHERE invoice_id = NEW.invoice_id;
    IF inv.posted_at <> now() THEN
        RAISE EXCEPTION 'invoice % is posted; its lines cannot change', inv.invoice_no
            USING ERRCODE = 'restrict_violation', CONSTRAINT = 'invoice_is_permanent';
    END IF;
    rate := master.gst_rate_on(NEW.hsn_code, inv.invoice_date);
    IF rate IS DISTINCT FROM NEW.gst_rate THEN
        RAISE EXCEPTION 'GST on % is % on %, not %', NEW.hsn_code, coalesce(rate::text, 'not in the tax master'),
            to_char(inv.invoice_date, 'DD-MM-YYYY'), NEW.gst_rate
            USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_line_rate';
    END IF;
    -- By the heads present (a line of a few paise may round to no tax at all).
    IF (inv.place_of_supply = inv.supplier_state_code AND NEW.igst <> 0)
       OR (inv.place_of_supply <> inv.supplier_state_code AND (NEW.cgst <> 0 OR NEW.sgst <> 0)) THEN
        RAISE EXCEPTION 'line % of invoice % has the wrong tax heads for its place of supply', NEW.line_no, inv.invoice_no
            USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_line_tax_heads';
    END IF;
    IF inv.kind = 'TRANSFER' THEN
        IF NOT EXISTS (SELECT 1 FROM inventory.stock_transfer_line l
                        WHERE l.transfer_id = inv.transfer_id
                          AND (l.unit_id = NEW.unit_id OR (l.part_id = NEW.part_id AND l.qty = NEW.qty))) THEN
            RAISE EXCEPTION 'line % of invoice % is not on the transfer it bills', NEW.line_no, inv.invoice_no
                USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_lines_add_up';
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.unit_id IS NOT NULL AND NEW.unit_id IS DISTINCT FROM inv.unit_id THEN
        RAISE EXCEPTION 'line % sells a vehicle the invoice is not for', NEW.line_no
            USING ERRCODE = 'check_violation', CONSTRAINT = 'invoice_lines_add_up';
    END IF;
    IF NEW.part_id IS NOT NULL THEN
        INSERT INTO inventory.stock_move (branch_id, part_id, kind, qty, unit_cost, reference)
        VALUES (inv.branch_id, NEW.part_id, 'COUNTER_SALE', -NEW.qty, 0, inv.invoice_no);
    END IF;
    RETURN NEW;
END
$$;

-- At commit: a transfer between different GSTINs carries its tax invoice, and the invoice bills
-- every line of the transfer.
CREATE FUNCTION inventory.check_transfer_document() RETURNS trigger
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
CREATE CONSTRAINT TRIGGER transfer_document AFTER INSERT ON inventory.stock_transfer
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION inventory.check_transfer_document();

-- A transfer is undone by a transfer back (billed again), never by a credit note that would put
-- the goods back into the sending branch's stock.
CREATE FUNCTION billing.refuse_transfer_credit_note() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF (SELECT kind FROM billing.invoice WHERE invoice_id = NEW.invoice_id) = 'TRANSFER' THEN
        RAISE EXCEPTION 'a stock transfer is undone by a transfer back, not by a credit note'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'credit_note_not_for_transfer';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER credit_note_a_not_for_transfer BEFORE INSERT ON billing.credit_note
    FOR EACH ROW EXECUTE FUNCTION billing.refuse_transfer_credit_note();
