-- An extended warranty plan sold here is a line of a tax invoice: on the vehicle's own invoice (the
-- booking's extended-warranty charge names the plan) or later on a counter invoice. The line names
-- the plan and the VIN; posting it writes warranty.plan_sale in the same transaction (trigger
-- warranty.sell_plan_on_invoice, sql/functions/92_warranty.sql), under the plan's SAC at the tax
-- master's rate of the invoice date, CGST + SGST or IGST by the invoice's place of supply (billing's
-- own checks). A plan sale without an invoice line is a plan bought from another dealer, recorded
-- with that dealer's invoice reference. A credit note of the invoice ends the cover: the plan sale
-- keeps the credit note and its day, and no longer lengthens the warranty.

ALTER TABLE billing.invoice_line
    ADD COLUMN plan_id  integer REFERENCES warranty.plan (plan_id),
    ADD COLUMN plan_vin text CHECK (plan_vin ~ '^[A-HJ-NPR-Z0-9]{17}$'),
    ADD CONSTRAINT invoice_line_plan_names_vin CHECK ((plan_id IS NULL) = (plan_vin IS NULL)),
    ADD CONSTRAINT invoice_line_plan_alone CHECK (
        plan_id IS NULL OR (part_id IS NULL AND unit_id IS NULL AND operation_code IS NULL
                            AND coverage = 'CUSTOMER' AND qty = 1));

-- The booking's extended-warranty charge may name the plan it sells (its amount, GST included, is
-- the line's price on the vehicle invoice).
ALTER TABLE sales.booking_item
    ADD COLUMN plan_id integer REFERENCES warranty.plan (plan_id);

ALTER TABLE warranty.plan_sale
    ADD COLUMN invoice_line_no smallint,
    ADD COLUMN ended_on        date,
    ADD COLUMN credit_note_id  integer REFERENCES billing.credit_note (credit_note_id),
    ADD CONSTRAINT plan_sale_invoice_line FOREIGN KEY (invoice_id, invoice_line_no)
        REFERENCES billing.invoice_line (invoice_id, line_no),
    ADD CONSTRAINT plan_sale_line_once UNIQUE (invoice_id, invoice_line_no),
    ADD CONSTRAINT plan_sale_ended CHECK ((ended_on IS NULL) = (credit_note_id IS NULL)),
    ADD CONSTRAINT plan_sale_ended_after_sale CHECK (ended_on >= sold_on);
-- Sold here on an invoice line, or bought elsewhere with that dealer's invoice reference. Plan
-- sales recorded before this step (an invoice reference at most) keep what they have.
ALTER TABLE warranty.plan_sale
    ADD CONSTRAINT plan_sale_invoiced_or_elsewhere CHECK (
        (invoice_line_no IS NOT NULL AND invoice_id IS NOT NULL AND invoice_ref IS NULL)
        OR (invoice_line_no IS NULL AND invoice_id IS NULL AND invoice_ref IS NOT NULL)) NOT VALID;
-- A plan is sold once per VIN while it is in force; one ended by a credit note may be sold again.
ALTER TABLE warranty.plan_sale DROP CONSTRAINT plan_sale_vin_plan_id_key;
CREATE UNIQUE INDEX plan_sale_in_force_once ON warranty.plan_sale (vin, plan_id) WHERE credit_note_id IS NULL;
CREATE INDEX plan_sale_invoice_idx ON warranty.plan_sale (invoice_id) WHERE invoice_id IS NOT NULL;
