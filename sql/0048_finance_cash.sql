-- Expenses, their bills, and the daily cash closing.
-- An expense is a numbered, permanent document of a branch: the supplier's bill (GSTIN, number, date),
-- the expense head it is booked to (a ledger under Direct or Indirect Expenses), its taxable value and
-- GST (CGST+SGST from a supplier in the branch's state, IGST from another; input credit taken only when
-- eligible, else the GST is part of the expense) and how it was paid (cash, a bank account, UPI with
-- its reference). It posts its PAYMENT voucher in the same transaction (a deferred check refuses one
-- without). The bill's photo or PDF is kept with its SHA-256, checked by PostgreSQL.
-- The cash closing counts the branch's cash by denomination at the end of a day; the book balance is
-- taken from the vouchers on the CASH ledger by its trigger, and a difference needs a remark.
-- Triggers, functions and the ITC view: sql/functions/98_finance_cash.sql.

-- The expense heads a showroom books to (more may be added under these groups).
INSERT INTO finance.ledger (name, group_id, system_key)
SELECT l.name, g.group_id, l.system_key
  FROM (VALUES ('Rent', 'Indirect Expenses', 'EXP_RENT'),
               ('Electricity', 'Indirect Expenses', 'EXP_POWER'),
               ('Salaries and Wages', 'Indirect Expenses', 'EXP_SALARY'),
               ('Fuel and Conveyance', 'Indirect Expenses', 'EXP_FUEL'),
               ('Repairs and Maintenance', 'Indirect Expenses', 'EXP_REPAIRS'),
               ('Telephone and Internet', 'Indirect Expenses', 'EXP_TELEPHONE'),
               ('Printing and Stationery', 'Indirect Expenses', 'EXP_STATIONERY'),
               ('Advertisement', 'Indirect Expenses', 'EXP_ADVERTISING'),
               ('Bank Charges', 'Indirect Expenses', 'EXP_BANK_CHARGES'),
               ('Freight Inward', 'Direct Expenses', 'EXP_FREIGHT'),
               ('Vehicle Handling (PDI)', 'Direct Expenses', 'EXP_HANDLING')) AS l (name, grp, system_key)
  JOIN finance.account_group g ON g.name = l.grp;

INSERT INTO master.document_series (series, name) VALUES ('EXP', 'Expense');

CREATE TABLE finance.expense (
    expense_id      integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    expense_no      text NOT NULL UNIQUE CHECK (expense_no ~ '^[A-Z0-9/-]{1,16}$'),
    branch_id       integer NOT NULL REFERENCES master.branch (branch_id),
    expense_date    date NOT NULL CHECK (expense_date > '2000-01-01'),
    head_ledger_id  integer NOT NULL REFERENCES finance.ledger (ledger_id),
    supplier_name   text NOT NULL CHECK (length(btrim(supplier_name)) BETWEEN 2 AND 120 AND supplier_name !~ '[<>]'),
    supplier_gstin  text CHECK (master.is_gstin(supplier_gstin)),
    bill_no         text NOT NULL CHECK (bill_no ~ '^[A-Za-z0-9/_.-]{1,30}$'),
    bill_date       date NOT NULL,
    taxable         numeric(14, 2) NOT NULL CHECK (taxable > 0 AND taxable <= 99999999.99),
    gst_rate        numeric(5, 2) NOT NULL DEFAULT 0 CHECK (gst_rate IN (0, 0.25, 3, 5, 12, 18, 28)),
    cgst            numeric(14, 2) NOT NULL DEFAULT 0 CHECK (cgst >= 0),
    sgst            numeric(14, 2) NOT NULL DEFAULT 0 CHECK (sgst >= 0),
    igst            numeric(14, 2) NOT NULL DEFAULT 0 CHECK (igst >= 0),
    itc_eligible    boolean NOT NULL DEFAULT true,
    total           numeric(14, 2) GENERATED ALWAYS AS (taxable + cgst + sgst + igst) STORED,
    payment_mode    text NOT NULL CHECK (payment_mode IN ('CASH', 'BANK', 'UPI')),
    bank_ledger_id  integer REFERENCES finance.bank_account (ledger_id),
    payment_ref     text CHECK (payment_ref ~ '^[A-Za-z0-9/_.-]{4,40}$'),
    narration       text CHECK (length(btrim(narration)) BETWEEN 1 AND 300),
    idempotency_key uuid UNIQUE,
    created_by      integer REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT expense_bill_before CHECK (bill_date <= expense_date AND bill_date > expense_date - 400),
    CONSTRAINT expense_one_gst_kind CHECK (igst = 0 OR (cgst = 0 AND sgst = 0)),
    CONSTRAINT expense_gst_needs_gstin CHECK (cgst + sgst + igst = 0 OR supplier_gstin IS NOT NULL),
    CONSTRAINT expense_tax_at_rate CHECK (abs(cgst + sgst + igst - round(taxable * gst_rate / 100, 2)) <= 1),
    CONSTRAINT expense_paid_from CHECK ((payment_mode = 'CASH') = (bank_ledger_id IS NULL)),
    CONSTRAINT expense_upi_reference CHECK (payment_mode <> 'UPI' OR payment_ref IS NOT NULL)
);
CREATE INDEX expense_branch_date_idx ON finance.expense (branch_id, expense_date DESC, expense_id DESC);
CREATE UNIQUE INDEX expense_bill_once_idx ON finance.expense (branch_id, upper(supplier_name), upper(bill_no), bill_date);
SELECT audit.track('finance.expense', 'expense_id');

-- The bill: a photo or a PDF, at most 5 MB, its checksum held by PostgreSQL.
CREATE TABLE finance.expense_bill (
    expense_id   integer PRIMARY KEY REFERENCES finance.expense (expense_id),
    file_name    text NOT NULL CHECK (length(file_name) BETWEEN 1 AND 120),
    content_type text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp', 'application/pdf')),
    data         bytea NOT NULL CHECK (octet_length(data) BETWEEN 1 AND 5242880),
    sha256       text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    added_by     integer REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    added_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT expense_bill_checksum CHECK (sha256 = encode(sha256(data), 'hex'))
);
SELECT audit.track('finance.expense_bill', 'expense_id', 'data');

-- The daily cash closing: notes and coins counted, against the CASH ledger of the branch's books.
CREATE TABLE finance.cash_closing (
    closing_id    integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    branch_id     integer NOT NULL REFERENCES master.branch (branch_id),
    closing_date  date NOT NULL CHECK (closing_date > '2000-01-01'),
    notes_2000    integer NOT NULL DEFAULT 0 CHECK (notes_2000 BETWEEN 0 AND 100000),
    notes_500     integer NOT NULL DEFAULT 0 CHECK (notes_500 BETWEEN 0 AND 100000),
    notes_200     integer NOT NULL DEFAULT 0 CHECK (notes_200 BETWEEN 0 AND 100000),
    notes_100     integer NOT NULL DEFAULT 0 CHECK (notes_100 BETWEEN 0 AND 100000),
    notes_50      integer NOT NULL DEFAULT 0 CHECK (notes_50 BETWEEN 0 AND 100000),
    notes_20      integer NOT NULL DEFAULT 0 CHECK (notes_20 BETWEEN 0 AND 100000),
    notes_10      integer NOT NULL DEFAULT 0 CHECK (notes_10 BETWEEN 0 AND 100000),
    coins_20      integer NOT NULL DEFAULT 0 CHECK (coins_20 BETWEEN 0 AND 100000),
    coins_10      integer NOT NULL DEFAULT 0 CHECK (coins_10 BETWEEN 0 AND 100000),
    coins_5       integer NOT NULL DEFAULT 0 CHECK (coins_5 BETWEEN 0 AND 100000),
    coins_2       integer NOT NULL DEFAULT 0 CHECK (coins_2 BETWEEN 0 AND 100000),
    coins_1       integer NOT NULL DEFAULT 0 CHECK (coins_1 BETWEEN 0 AND 100000),
    counted_total numeric(14, 2) GENERATED ALWAYS AS (
        2000 * notes_2000 + 500 * notes_500 + 200 * notes_200 + 100 * notes_100 + 50 * notes_50
        + 20 * notes_20 + 10 * notes_10 + 20 * coins_20 + 10 * coins_10 + 5 * coins_5 + 2 * coins_2 + coins_1) STORED,
    book_balance  numeric(14, 2) NOT NULL,      -- set by the trigger from the vouchers, never typed
    remark        text CHECK (length(btrim(remark)) BETWEEN 5 AND 300),
    closed_by     integer REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    closed_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT cash_closing_one_a_day UNIQUE (branch_id, closing_date),
    CONSTRAINT cash_closing_difference_explained CHECK (
        remark IS NOT NULL OR book_balance = 2000 * notes_2000 + 500 * notes_500 + 200 * notes_200 + 100 * notes_100
            + 50 * notes_50 + 20 * notes_20 + 10 * notes_10 + 20 * coins_20 + 10 * coins_10 + 5 * coins_5
            + 2 * coins_2 + coins_1)
);
SELECT audit.track('finance.cash_closing', 'closing_id');

ALTER TABLE finance.expense ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_branch ON finance.expense USING (platform.branch_visible(branch_id))
    WITH CHECK (platform.branch_visible(branch_id));
ALTER TABLE finance.cash_closing ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_branch ON finance.cash_closing USING (platform.branch_visible(branch_id))
    WITH CHECK (platform.branch_visible(branch_id));
