-- Inventory: vehicle units (every chassis accounted for), battery pack history, spare parts
-- stock as a ledger of moves with a balance row kept in the same transaction, transfers
-- between branches, physical stock counts.

CREATE SCHEMA inventory;

-- ---------------------------------------------------------------------------
-- Vehicle units
-- ---------------------------------------------------------------------------
CREATE TABLE inventory.unit_status (
    status     text PRIMARY KEY,
    label      text NOT NULL,
    sort_order smallint NOT NULL UNIQUE
);
INSERT INTO inventory.unit_status VALUES
    ('IN_TRANSIT', 'In transit', 1), ('IN_STOCK', 'In stock', 2), ('DEMO', 'Demo vehicle', 3),
    ('ALLOTTED', 'Allotted', 4), ('INVOICED', 'Invoiced', 5), ('DELIVERED', 'Delivered', 6),
    ('RETURNED', 'Returned to OEM', 7);

-- The only status changes a unit may make; the trigger below refuses every other.
CREATE TABLE inventory.unit_status_transition (
    from_status text NOT NULL REFERENCES inventory.unit_status (status),
    to_status   text NOT NULL REFERENCES inventory.unit_status (status),
    meaning     text NOT NULL,
    PRIMARY KEY (from_status, to_status)
);
INSERT INTO inventory.unit_status_transition VALUES
    ('IN_TRANSIT', 'IN_STOCK', 'received at the branch'),
    ('IN_STOCK', 'IN_TRANSIT', 'sent to another branch'),
    ('IN_STOCK', 'DEMO', 'taken as a demo / test-ride vehicle'),
    ('DEMO', 'IN_STOCK', 'back from demo use'),
    ('IN_STOCK', 'ALLOTTED', 'allotted to a booking'),
    ('ALLOTTED', 'IN_STOCK', 'de-allotted'),
    ('ALLOTTED', 'INVOICED', 'tax invoice posted'),
    ('INVOICED', 'DELIVERED', 'handed over to the customer'),
    ('INVOICED', 'IN_STOCK', 'invoice cancelled by a credit note'),
    ('DELIVERED', 'IN_STOCK', 'sales return by a credit note'),
    ('IN_STOCK', 'RETURNED', 'returned to the OEM'),
    ('DEMO', 'RETURNED', 'returned to the OEM');

CREATE TABLE inventory.vehicle_unit (
    unit_id        integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    vin            text NOT NULL UNIQUE CHECK (vin ~ '^[A-HJ-NPR-Z0-9]{17}$'),  -- no I, O, Q
    motor_no       text NOT NULL UNIQUE CHECK (motor_no ~ '^[A-Z0-9][A-Z0-9/-]{3,39}$'),
    charger_serial text UNIQUE CHECK (charger_serial ~ '^[A-Z0-9][A-Z0-9/-]{3,39}$'),
    key_no         text CHECK (length(btrim(key_no)) BETWEEN 1 AND 20),
    variant_id     integer NOT NULL REFERENCES oem.variant (variant_id),
    colour         text NOT NULL,
    mfg_month      date NOT NULL CHECK (extract(day FROM mfg_month) = 1),
    branch_id      integer NOT NULL REFERENCES master.branch (branch_id),
    status         text NOT NULL DEFAULT 'IN_STOCK' REFERENCES inventory.unit_status (status),
    received_on    date,
    purchase_cost  numeric(12,2) CHECK (purchase_cost >= 0),   -- GST-exclusive, from the PO line
    created_at     timestamptz NOT NULL DEFAULT now(),
    status_changed_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (variant_id, colour) REFERENCES oem.variant_colour (variant_id, colour),
    CONSTRAINT vehicle_unit_received CHECK (status = 'IN_TRANSIT' OR received_on IS NOT NULL)
);
CREATE INDEX vehicle_unit_branch_status_idx ON inventory.vehicle_unit (branch_id, status, received_on);
CREATE INDEX vehicle_unit_variant_idx ON inventory.vehicle_unit (variant_id, colour, status);
SELECT audit.track('inventory.vehicle_unit', 'unit_id');

CREATE FUNCTION inventory.check_unit_status() RETURNS trigger
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
CREATE TRIGGER vehicle_unit_status BEFORE UPDATE ON inventory.vehicle_unit
    FOR EACH ROW EXECUTE FUNCTION inventory.check_unit_status();

CREATE TRIGGER vehicle_unit_never_deleted BEFORE DELETE ON inventory.vehicle_unit
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- Battery packs and which vehicle held each pack when (swaps under warranty).
CREATE TABLE inventory.battery_pack (
    pack_id     integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    serial      text NOT NULL UNIQUE CHECK (serial ~ '^[A-Z0-9][A-Z0-9/-]{3,39}$'),
    chemistry   text CHECK (chemistry IN ('LFP', 'NMC', 'LTO', 'LEAD_ACID', 'OTHER')),
    kwh         numeric(6,2) CHECK (kwh > 0),
    mfg_month   date CHECK (extract(day FROM mfg_month) = 1),
    created_at  timestamptz NOT NULL DEFAULT now()
);
SELECT audit.track('inventory.battery_pack', 'pack_id');

CREATE TABLE inventory.battery_fitment (
    fitment_id  integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pack_id     integer NOT NULL REFERENCES inventory.battery_pack (pack_id),
    unit_id     integer NOT NULL REFERENCES inventory.vehicle_unit (unit_id),
    fitted_on   date NOT NULL,
    removed_on  date,
    reason      text NOT NULL CHECK (length(btrim(reason)) BETWEEN 2 AND 200),
    CHECK (removed_on IS NULL OR removed_on >= fitted_on),
    -- A pack is in one vehicle at a time (removal and refitting may share a day).
    CONSTRAINT battery_fitment_one_vehicle_at_a_time EXCLUDE USING gist (
        int4range(pack_id, pack_id, '[]') WITH &&,
        daterange(fitted_on, removed_on, '[)') WITH &&)
);
CREATE INDEX battery_fitment_unit_idx ON inventory.battery_fitment (unit_id);
CREATE UNIQUE INDEX battery_fitment_current_idx ON inventory.battery_fitment (pack_id) WHERE removed_on IS NULL;
SELECT audit.track('inventory.battery_fitment', 'fitment_id');

-- ---------------------------------------------------------------------------
-- Spare parts: ledger of moves + balance row (weighted average cost)
-- ---------------------------------------------------------------------------
CREATE TABLE inventory.part_stock (
    branch_id    integer NOT NULL REFERENCES master.branch (branch_id),
    part_id      integer NOT NULL REFERENCES master.part (part_id),
    qty          numeric(12,3) NOT NULL DEFAULT 0,
    value        numeric(14,2) NOT NULL DEFAULT 0,   -- at weighted average cost
    bin_location text CHECK (length(bin_location) <= 20),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (branch_id, part_id),
    -- Two people taking the last part at once: the second one's move fails here.
    CONSTRAINT part_stock_not_negative CHECK (qty >= 0),
    CONSTRAINT part_stock_value_not_negative CHECK (value >= 0),
    CONSTRAINT part_stock_empty_has_no_value CHECK (qty > 0 OR value = 0)
);
CREATE INDEX part_stock_part_idx ON inventory.part_stock (part_id);

CREATE TABLE inventory.stock_move (
    move_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    branch_id   integer NOT NULL REFERENCES master.branch (branch_id),
    part_id     integer NOT NULL REFERENCES master.part (part_id),
    moved_at    timestamptz NOT NULL DEFAULT now(),
    kind        text NOT NULL CHECK (kind IN ('OPENING', 'RECEIPT', 'ISSUE_JOB', 'COUNTER_SALE',
                                              'TRANSFER_OUT', 'TRANSFER_IN', 'ADJUSTMENT', 'RETURN_TO_OEM')),
    qty         numeric(12,3) NOT NULL CHECK (qty <> 0),   -- + into stock, - out of stock
    unit_cost   numeric(14,4) NOT NULL CHECK (unit_cost >= 0),
    value       numeric(14,2) NOT NULL,                     -- signed, as the balance changed
    reference   text CHECK (length(reference) <= 60),       -- document: GRN no., job card, count no.
    reason      text CHECK (length(reason) <= 200),
    staff_id    integer REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    CONSTRAINT stock_move_direction CHECK (
        (kind IN ('OPENING', 'RECEIPT', 'TRANSFER_IN') AND qty > 0)
        OR (kind IN ('ISSUE_JOB', 'COUNTER_SALE', 'TRANSFER_OUT', 'RETURN_TO_OEM') AND qty < 0)
        OR kind = 'ADJUSTMENT'),
    CONSTRAINT stock_move_adjustment_reason CHECK (kind <> 'ADJUSTMENT' OR coalesce(length(btrim(reason)), 0) >= 3)
);
CREATE INDEX stock_move_part_idx ON inventory.stock_move (branch_id, part_id, moved_at);

-- Post a move onto the balance row in the same transaction. Incoming moves carry their
-- cost; outgoing moves leave at the current weighted average (computed here, not trusted
-- from the caller). The row lock on part_stock serialises concurrent moves of one part.
CREATE FUNCTION inventory.post_stock_move() RETURNS trigger
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
CREATE TRIGGER stock_move_post BEFORE INSERT ON inventory.stock_move
    FOR EACH ROW EXECUTE FUNCTION inventory.post_stock_move();

-- The ledger is history: a wrong move is corrected by another move.
CREATE TRIGGER stock_move_is_permanent BEFORE UPDATE OR DELETE ON inventory.stock_move
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- The balance changes only through moves (bin location excepted).
CREATE FUNCTION inventory.guard_part_stock() RETURNS trigger
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
CREATE TRIGGER part_stock_guard BEFORE INSERT OR UPDATE OR DELETE ON inventory.part_stock
    FOR EACH ROW EXECUTE FUNCTION inventory.guard_part_stock();

-- ---------------------------------------------------------------------------
-- Transfers between branches: dispatched -> received
-- ---------------------------------------------------------------------------
CREATE TABLE inventory.stock_transfer (
    transfer_id    integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transfer_no    text NOT NULL UNIQUE,
    branch_id      integer NOT NULL REFERENCES master.branch (branch_id),   -- sending branch
    to_branch_id   integer NOT NULL REFERENCES master.branch (branch_id),
    status         text NOT NULL DEFAULT 'DISPATCHED' CHECK (status IN ('DISPATCHED', 'RECEIVED')),
    dispatched_at  timestamptz NOT NULL DEFAULT now(),
    dispatched_by  integer REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    received_at    timestamptz,
    received_by    integer REFERENCES master.staff (staff_id),
    notes          text CHECK (length(notes) <= 500),
    CHECK (to_branch_id <> branch_id),
    CHECK ((status = 'RECEIVED') = (received_at IS NOT NULL))
);
SELECT audit.track('inventory.stock_transfer', 'transfer_id');

CREATE TABLE inventory.stock_transfer_line (
    transfer_id integer NOT NULL REFERENCES inventory.stock_transfer (transfer_id),
    line_no     smallint NOT NULL CHECK (line_no > 0),
    part_id     integer REFERENCES master.part (part_id),
    qty         numeric(12,3) CHECK (qty > 0),
    unit_id     integer REFERENCES inventory.vehicle_unit (unit_id),
    PRIMARY KEY (transfer_id, line_no),
    CHECK ((part_id IS NOT NULL AND qty IS NOT NULL AND unit_id IS NULL)
           OR (unit_id IS NOT NULL AND part_id IS NULL AND qty IS NULL))
);

-- ---------------------------------------------------------------------------
-- Physical stock count: count sheet -> variances -> approved adjustment
-- ---------------------------------------------------------------------------
CREATE TABLE inventory.stock_count (
    count_id     integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    count_no     text NOT NULL UNIQUE,
    branch_id    integer NOT NULL REFERENCES master.branch (branch_id),
    status       text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'APPROVED', 'CANCELLED')),
    started_at   timestamptz NOT NULL DEFAULT now(),
    started_by   integer REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    approved_at  timestamptz,
    approved_by  integer REFERENCES master.staff (staff_id),
    CHECK ((status = 'APPROVED') = (approved_at IS NOT NULL AND approved_by IS NOT NULL))
);
-- One open count per branch at a time.
CREATE UNIQUE INDEX stock_count_one_open_idx ON inventory.stock_count (branch_id) WHERE status = 'OPEN';
SELECT audit.track('inventory.stock_count', 'count_id');

CREATE TABLE inventory.stock_count_line (
    count_id    integer NOT NULL REFERENCES inventory.stock_count (count_id),
    part_id     integer NOT NULL REFERENCES master.part (part_id),
    system_qty  numeric(12,3) NOT NULL CHECK (system_qty >= 0),   -- snapshot when the sheet was made
    counted_qty numeric(12,3) CHECK (counted_qty >= 0),
    PRIMARY KEY (count_id, part_id)
);
SELECT audit.track('inventory.stock_count_line', 'count_id');
