-- GST returns (GSTR-1, GSTR-3B and their reconciliation with the books): the dated parameters the
-- returns are built with. The B2C-large limit is billing.threshold's B2CL rows (sql/0007: Rs 2.5 lakh
-- to 31-07-2024, Rs 1 lakh from 01-08-2024), not repeated here. What the returns read (the view of
-- invoice and credit-note lines by GSTR-1 section, the ITC source, the look-ups of the rows below)
-- lives in sql/functions/97_finance_returns.sql.

-- ---------------------------------------------------------------------------
-- Portal parameters by return period (the period's last day decides): the JSON's format version,
-- and the shape of the HSN summary: SINGLE ({"data": [...]}) before the May-2025 period, SPLIT
-- ({"hsn_b2b": [...], "hsn_b2c": [...]}) from it (GSTN advisory on Phase-III of Table 12).
-- ---------------------------------------------------------------------------
CREATE TABLE finance.gst_return_setting (
    setting_id     integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code           text NOT NULL CHECK (code IN ('GSTR1_VERSION', 'HSN_SHAPE')),
    value          text NOT NULL CHECK (value ~ '^[A-Za-z0-9._-]{1,20}$'),
    effective_from date NOT NULL,
    effective_to   date,
    note           text CHECK (length(note) <= 300),
    CHECK (effective_to IS NULL OR effective_to >= effective_from),
    CONSTRAINT gst_return_setting_hsn_shape CHECK (code <> 'HSN_SHAPE' OR value IN ('SINGLE', 'SPLIT')),
    CONSTRAINT gst_return_setting_no_overlap EXCLUDE USING gist (
        master.same_key(code) WITH &&, master.valid_during(effective_from, effective_to) WITH &&)
);
INSERT INTO finance.gst_return_setting (code, value, effective_from, effective_to, note) VALUES
    ('GSTR1_VERSION', 'GST3.0.4', '2017-07-01', '2025-04-30', 'offline tool JSON version (verify with the tool in use)'),
    ('GSTR1_VERSION', 'GST3.2.2', '2025-05-01', NULL, 'offline tool JSON version (verify with the tool in use)'),
    ('HSN_SHAPE', 'SINGLE', '2017-07-01', '2025-04-30', 'Table 12 as one list'),
    ('HSN_SHAPE', 'SPLIT', '2025-05-01', NULL, 'Table 12 split into B2B and B2C from the May-2025 period');
SELECT audit.track('finance.gst_return_setting', 'setting_id');

-- ---------------------------------------------------------------------------
-- How many digits of HSN Table 12 needs, by the GSTIN's aggregate turnover in the preceding
-- financial year (notification 78/2020-CT: 4 digits up to Rs 5 crore, 6 above). A row applies to a
-- turnover above turnover_above; the row with the highest such bound wins.
-- ---------------------------------------------------------------------------
CREATE TABLE finance.hsn_digits_rule (
    rule_id        integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    turnover_above numeric(16, 2) NOT NULL CHECK (turnover_above >= 0),
    digits         smallint NOT NULL CHECK (digits IN (2, 4, 6, 8)),
    effective_from date NOT NULL,
    effective_to   date,
    note           text CHECK (length(note) <= 300),
    CHECK (effective_to IS NULL OR effective_to >= effective_from),
    CONSTRAINT hsn_digits_rule_no_overlap EXCLUDE USING gist (
        master.same_key(turnover_above::text) WITH &&, master.valid_during(effective_from, effective_to) WITH &&)
);
INSERT INTO finance.hsn_digits_rule (turnover_above, digits, effective_from, note) VALUES
    (0, 4, '2021-04-01', 'aggregate turnover up to Rs 5 crore: 4 digits'),
    (50000000, 6, '2021-04-01', 'aggregate turnover above Rs 5 crore: 6 digits');
SELECT audit.track('finance.hsn_digits_rule', 'rule_id');

-- ---------------------------------------------------------------------------
-- The GST unit quantity code (UQC) of each unit the ERP sells in; services (SAC, chapter 99) are
-- reported with NA and no quantity.
-- ---------------------------------------------------------------------------
CREATE TABLE finance.gst_uqc (
    uqc_id         integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    unit           text CHECK (unit ~ '^[A-Z]{2,5}$'),
    for_services   boolean NOT NULL DEFAULT false,
    uqc            text NOT NULL CHECK (uqc ~ '^[A-Z]{2,3}$'),
    effective_from date NOT NULL,
    effective_to   date,
    CHECK (effective_to IS NULL OR effective_to >= effective_from),
    CONSTRAINT gst_uqc_goods_or_services CHECK (for_services = (unit IS NULL)),
    CONSTRAINT gst_uqc_no_overlap EXCLUDE USING gist (
        master.same_key(coalesce(unit, '*SERVICES*')) WITH &&, master.valid_during(effective_from, effective_to) WITH &&)
);
INSERT INTO finance.gst_uqc (unit, for_services, uqc, effective_from) VALUES
    ('NOS', false, 'NOS', '2017-07-01'),
    ('SET', false, 'SET', '2017-07-01'),
    ('PAIR', false, 'PRS', '2017-07-01'),
    ('KIT', false, 'SET', '2017-07-01'),
    ('LTR', false, 'LTR', '2017-07-01'),
    ('KG', false, 'KGS', '2017-07-01'),
    ('MTR', false, 'MTR', '2017-07-01'),
    (NULL, true, 'NA', '2017-07-01');
SELECT audit.track('finance.gst_uqc', 'uqc_id');
