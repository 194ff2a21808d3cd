-- GST returns: six-digit HSN codes in the tax master, and the dated return parameters kept for the
-- returns already made (the functions and triggers: sql/functions/97_finance_returns.sql).

-- ---------------------------------------------------------------------------
-- HSN at six digits for what a dealership sells besides the vehicle (871160 and 87038040 are there
-- already): above Rs 5 crore of turnover GSTR-1's HSN summary asks for six digits (finance.hsn_digits_rule),
-- and 8714, 8504 or 8704 alone is refused there. The rates are those of their four-digit headings.
-- ---------------------------------------------------------------------------
INSERT INTO master.hsn (hsn_code, description, is_service) VALUES
    ('871410', 'Parts and accessories of motorcycles and scooters (incl. electric)', false),
    ('850440', 'Static converters: EV chargers', false),
    ('870460', 'Goods vehicles with only an electric motor (electric three-wheelers for goods)', false)
ON CONFLICT (hsn_code) DO NOTHING;
INSERT INTO master.hsn_rate (hsn_code, gst_rate, effective_from, effective_to, notification)
SELECT v.code, r.gst_rate, r.effective_from, r.effective_to, r.notification
  FROM (VALUES ('871410', '8714'), ('850440', '8504'), ('870460', '8704')) v (code, heading)
  JOIN master.hsn_rate r ON r.hsn_code = v.heading
 WHERE NOT EXISTS (SELECT 1 FROM master.hsn_rate x WHERE x.hsn_code = v.code);
