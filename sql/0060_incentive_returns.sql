-- Incentives net of what was given back: a credit note dated in the month takes its service invoice's
-- revenue out of the advisor's and technicians' slabs, and a delivered scooter's credit note (a sale
-- returned: a credit note reverses its invoice in full) takes back its salesperson's delivery incentive.
-- Those lines point at the credit note and carry a negative basis and amount; every other line stays
-- positive. hr.incentive_sources (sql/functions/99_payroll_incentive.sql) gains the date a rule is read
-- on (a returned delivery's: the delivery's), so it is dropped here and made again by its file.
ALTER TABLE hr.incentive_line
    DROP CONSTRAINT incentive_line_source_table_check,
    DROP CONSTRAINT incentive_line_basis_check,
    DROP CONSTRAINT incentive_line_amount_check,
    ADD CONSTRAINT incentive_line_source CHECK (source_table IN ('sales.delivery', 'sales.finance', 'insurance.policy',
                                                                 'billing.invoice', 'billing.credit_note')),
    ADD CONSTRAINT incentive_line_sign CHECK (CASE WHEN source_table = 'billing.credit_note'
                                                   THEN basis < 0 AND amount <= 0
                                                   ELSE basis >= 0 AND amount >= 0 END);

DROP FUNCTION IF EXISTS hr.incentive_sources(integer, date);
