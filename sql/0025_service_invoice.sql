-- The workshop's bill (issue 12): the service invoice and the no-charge job sheet, on the tax
-- invoice machinery every other sale uses (numbering, rule 46, GST heads by place of supply,
-- round-off, permanence, credit notes, receipts, the kept balance).
--
-- * kind SERVICE: a tax invoice for what the customer pays on a job card: labour lines (SAC of the
--   labour master, 998714 by default) and part lines (HSN of the parts master), each priced GST
--   inclusive or exclusive as entered, at the rate of the tax master on the invoice date. Its own
--   series, SI ("BLRSI/26/12"), numbered per branch and financial year by invoice_post like INV.
-- * Each line has a coverage: CUSTOMER (the customer pays it), WARRANTY or FREE_SERVICE (the
--   manufacturer pays it through a claim). A covered line shows what the work is worth in
--   claimable_value (its taxable value as priced, before GST) and carries nothing for the customer:
--   taxable value, tax and total are zero, so the invoice's taxable value, tax heads, round-off and
--   total are those of the customer's lines only, and the HSN-wise summary and GSTR-1 see only
--   what was supplied to the customer for a price. The claim to the manufacturer is a separate
--   supply, billed to it from the claim (the warranty module), not on the customer's invoice.
-- * kind JOB_SHEET: a job card whose every line is under warranty or free service supplies the
--   customer nothing for a price, and no tax invoice is issued for it (CGST Act s.31 asks for one
--   for a taxable supply; there is none to the customer). It still gets a numbered, permanent
--   document the customer signs: the job sheet, series JS, with the same lines and their values,
--   every amount zero. It has no balance, takes no receipt and needs no credit note.
-- * Parts on a service invoice or job sheet do not leave stock again: they left it when they were
--   issued to the job card (ISSUE_JOB moves); a credit note does not bring them back (unused parts
--   are returned on the job card).
-- * Place of supply: repair of a vehicle is a service on goods, supplied where it is performed
--   (IGST Act s.12(3)(a)), and the parts are handed over with the vehicle at the workshop: the
--   workshop's state, CGST + SGST, as a counter sale handed over at the counter. Work done at or
--   delivered to an address (a breakdown attended in another state) is supplied there: that
--   address and its state, IGST when it is another state (the rules of sql/0011).
-- * The job card links to its invoice from its own schema (service.job_card -> billing.invoice):
--   billing does not know the workshop. The invoice keeps, as text, the vehicle and the job card's
--   number it was made for, to print them.
--
-- The triggers, views and functions that hold these rules are in sql/functions/80_billing.sql.

INSERT INTO master.document_series (series, name) VALUES
    ('SI', 'Service invoice'),
    ('JS', 'Job sheet (no charge)');

ALTER TABLE billing.invoice DROP CONSTRAINT invoice_kind_check;
ALTER TABLE billing.invoice
    ADD CONSTRAINT invoice_kind_check CHECK (kind IN ('VEHICLE', 'COUNTER', 'TRANSFER', 'SERVICE', 'JOB_SHEET')),
    ADD COLUMN service_vehicle text CHECK (length(btrim(service_vehicle)) BETWEEN 2 AND 200),
    ADD COLUMN service_reference text CHECK (length(btrim(service_reference)) BETWEEN 2 AND 60),
    ADD CONSTRAINT invoice_service_has_customer CHECK (kind NOT IN ('SERVICE', 'JOB_SHEET') OR customer_id IS NOT NULL),
    ADD CONSTRAINT invoice_service_details CHECK (
        kind IN ('SERVICE', 'JOB_SHEET') OR (service_vehicle IS NULL AND service_reference IS NULL)),
    ADD CONSTRAINT invoice_job_sheet_no_charge CHECK (
        kind <> 'JOB_SHEET' OR (taxable_value = 0 AND cgst = 0 AND sgst = 0 AND igst = 0 AND round_off = 0
                                AND grand_total = 0));

ALTER TABLE billing.invoice_line
    ADD COLUMN coverage text NOT NULL DEFAULT 'CUSTOMER'
        CONSTRAINT invoice_line_coverage_check CHECK (coverage IN ('CUSTOMER', 'WARRANTY', 'FREE_SERVICE')),
    ADD COLUMN claimable_value numeric(14,2) NOT NULL DEFAULT 0
        CONSTRAINT invoice_line_claimable_value_check CHECK (claimable_value >= 0),
    -- The customer pays a CUSTOMER line and nothing of a covered one, whose value is claimed.
    ADD CONSTRAINT invoice_line_covered_no_charge CHECK (
        CASE WHEN coverage = 'CUSTOMER' THEN claimable_value = 0
             ELSE taxable_value = 0 AND total = 0 AND discount = 0 END);
