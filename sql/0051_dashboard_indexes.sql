-- The home screen's figures by invoice kind and month (margin per vehicle, service revenue, the day's
-- and month's invoices) read this index alone instead of every invoice of the branch's months.
CREATE INDEX invoice_branch_kind_date_idx ON billing.invoice (branch_id, kind, invoice_date)
    INCLUDE (taxable_value, amount_payable, unit_id);
