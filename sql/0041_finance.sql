-- The books: account groups in the shape an Indian accountant knows from Tally, ledgers (system
-- ledgers named by a key, party ledgers for customers, OEMs, financiers and insurers), and vouchers
-- whose debits equal their credits, held by PostgreSQL. A voucher is permanent like the documents
-- it comes from; a document posts at most one voucher (UNIQUE source), which is what makes the
-- backfill idempotent. A closed month takes no voucher and no document dated in it. The functions
-- (posting, balance check, period lock) live in sql/functions/95_finance.sql.

CREATE SCHEMA finance;

-- ---------------------------------------------------------------------------
-- Account groups: Tally's primary groups and the sub-groups every company starts with.
-- nature decides the side of the balance sheet or the P&L; gross_profit marks the groups that sit
-- above gross profit (Sales, Purchase, Direct Incomes and Expenses).
-- ---------------------------------------------------------------------------
CREATE TABLE finance.account_group (
    group_id      serial PRIMARY KEY,
    name          text NOT NULL CHECK (length(btrim(name)) BETWEEN 2 AND 60),
    parent_id     integer REFERENCES finance.account_group (group_id),
    nature        text NOT NULL CHECK (nature IN ('ASSETS', 'LIABILITIES', 'INCOME', 'EXPENSES')),
    gross_profit  boolean NOT NULL DEFAULT false,
    is_system     boolean NOT NULL DEFAULT false,        -- Tally's own groups: renamed or moved never
    sort_order    smallint NOT NULL DEFAULT 100,
    CONSTRAINT account_group_not_own_parent CHECK (parent_id IS DISTINCT FROM group_id),
    CONSTRAINT account_group_profit_side CHECK (NOT gross_profit OR nature IN ('INCOME', 'EXPENSES'))
);
CREATE UNIQUE INDEX account_group_name_key ON finance.account_group (lower(name));

INSERT INTO finance.account_group (name, nature, gross_profit, is_system, sort_order) VALUES
    ('Capital Account', 'LIABILITIES', false, true, 10),
    ('Loans (Liability)', 'LIABILITIES', false, true, 20),
    ('Current Liabilities', 'LIABILITIES', false, true, 30),
    ('Suspense A/c', 'LIABILITIES', false, true, 40),
    ('Branch / Divisions', 'LIABILITIES', false, true, 50),
    ('Fixed Assets', 'ASSETS', false, true, 60),
    ('Investments', 'ASSETS', false, true, 70),
    ('Current Assets', 'ASSETS', false, true, 80),
    ('Misc. Expenses (ASSET)', 'ASSETS', false, true, 90),
    ('Sales Accounts', 'INCOME', true, true, 100),
    ('Direct Incomes', 'INCOME', true, true, 110),
    ('Indirect Incomes', 'INCOME', false, true, 120),
    ('Purchase Accounts', 'EXPENSES', true, true, 130),
    ('Direct Expenses', 'EXPENSES', true, true, 140),
    ('Indirect Expenses', 'EXPENSES', false, true, 150);

INSERT INTO finance.account_group (name, parent_id, nature, is_system, sort_order)
SELECT s.name, p.group_id, p.nature, true, s.sort_order
  FROM (VALUES ('Reserves & Surplus', 'Capital Account', 11),
               ('Secured Loans', 'Loans (Liability)', 21),
               ('Unsecured Loans', 'Loans (Liability)', 22),
               ('Bank OD A/c', 'Loans (Liability)', 23),
               ('Duties & Taxes', 'Current Liabilities', 31),
               ('Provisions', 'Current Liabilities', 32),
               ('Sundry Creditors', 'Current Liabilities', 33),
               ('Bank Accounts', 'Current Assets', 81),
               ('Cash-in-Hand', 'Current Assets', 82),
               ('Deposits (Asset)', 'Current Assets', 83),
               ('Loans & Advances (Asset)', 'Current Assets', 84),
               ('Stock-in-Hand', 'Current Assets', 85),
               ('Sundry Debtors', 'Current Assets', 86)) AS s (name, parent, sort_order)
  JOIN finance.account_group p ON p.name = s.parent;
SELECT audit.track('finance.account_group', 'group_id');

-- ---------------------------------------------------------------------------
-- Ledgers. A system ledger carries a key the postings name it by (CASH, OUTPUT_CGST...); a party
-- ledger carries the one customer, OEM, financier or insurer it stands for and is made the first
-- time a voucher needs it (finance.party_ledger). A customer's ledger belongs to the customer's
-- branch and is seen only there; the rest are the company's.
-- ---------------------------------------------------------------------------
CREATE TABLE finance.ledger (
    ledger_id       serial PRIMARY KEY,
    name            text NOT NULL CHECK (length(btrim(name)) BETWEEN 2 AND 120 AND name !~ '[<>]'),
    group_id        integer NOT NULL REFERENCES finance.account_group (group_id),
    system_key      text UNIQUE CHECK (system_key ~ '^[A-Z][A-Z0-9_]{1,39}$'),
    branch_id       integer REFERENCES master.branch (branch_id),
    customer_id     integer UNIQUE REFERENCES master.customer (customer_id),
    oem_id          integer UNIQUE REFERENCES oem.oem (oem_id),
    financier_id    integer UNIQUE REFERENCES master.financier (financier_id),
    insurer_id      integer UNIQUE REFERENCES master.insurer (insurer_id),
    gst_duty_head   text CHECK (gst_duty_head IN ('CGST', 'SGST', 'IGST', 'CESS')),
    gst_direction   text CHECK (gst_direction IN ('OUTPUT', 'INPUT')),
    gstin           text CHECK (master.is_gstin(gstin)),
    opening_balance numeric(14, 2) NOT NULL DEFAULT 0,   -- positive debit, negative credit
    is_active       boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ledger_one_party CHECK (num_nonnulls(customer_id, oem_id, financier_id, insurer_id) <= 1),
    CONSTRAINT ledger_customer_branch CHECK (customer_id IS NULL OR branch_id IS NOT NULL),
    CONSTRAINT ledger_duty_pair CHECK ((gst_duty_head IS NULL) = (gst_direction IS NULL))
);
CREATE UNIQUE INDEX ledger_name_key ON finance.ledger (lower(name));
CREATE INDEX ledger_group_idx ON finance.ledger (group_id);
SELECT audit.track('finance.ledger', 'ledger_id');

INSERT INTO finance.ledger (name, group_id, system_key, gst_duty_head, gst_direction)
SELECT l.name, g.group_id, l.system_key, l.head, l.direction
  FROM (VALUES ('Cash', 'Cash-in-Hand', 'CASH', NULL, NULL),
               ('Bank Account', 'Bank Accounts', 'BANK', NULL, NULL),
               ('Sales - Vehicles', 'Sales Accounts', 'SALES_VEHICLE', NULL, NULL),
               ('Sales - Spares', 'Sales Accounts', 'SALES_PARTS', NULL, NULL),
               ('Sales - Accessories', 'Sales Accounts', 'SALES_ACCESSORY', NULL, NULL),
               ('Service Labour', 'Sales Accounts', 'SALES_LABOUR', NULL, NULL),
               ('Extended Warranty Sales', 'Sales Accounts', 'SALES_PLAN', NULL, NULL),
               ('Purchase - Vehicles', 'Purchase Accounts', 'PURCHASE_VEHICLE', NULL, NULL),
               ('Purchase - Spares', 'Purchase Accounts', 'PURCHASE_PARTS', NULL, NULL),
               ('Output CGST', 'Duties & Taxes', 'OUTPUT_CGST', 'CGST', 'OUTPUT'),
               ('Output SGST', 'Duties & Taxes', 'OUTPUT_SGST', 'SGST', 'OUTPUT'),
               ('Output IGST', 'Duties & Taxes', 'OUTPUT_IGST', 'IGST', 'OUTPUT'),
               ('Output Cess', 'Duties & Taxes', 'OUTPUT_CESS', 'CESS', 'OUTPUT'),
               ('Input CGST', 'Duties & Taxes', 'INPUT_CGST', 'CGST', 'INPUT'),
               ('Input SGST', 'Duties & Taxes', 'INPUT_SGST', 'SGST', 'INPUT'),
               ('Input IGST', 'Duties & Taxes', 'INPUT_IGST', 'IGST', 'INPUT'),
               ('TCS Payable', 'Duties & Taxes', 'TCS_PAYABLE', NULL, NULL),
               ('Round Off', 'Indirect Expenses', 'ROUND_OFF', NULL, NULL),
               ('Suspense', 'Suspense A/c', 'SUSPENSE', NULL, NULL),
               ('Capital', 'Capital Account', 'CAPITAL', NULL, NULL)) AS l (name, grp, system_key, head, direction)
  JOIN finance.account_group g ON g.name = l.grp;

-- A bank account of the company: its ledger (under Bank Accounts) and the details a statement is
-- matched by. A branch names one account its receipts by UPI, card, cheque and transfer go to
-- (finance.bank_ledger_for); without one they go to the BANK system ledger.
CREATE TABLE finance.bank_account (
    ledger_id      integer PRIMARY KEY REFERENCES finance.ledger (ledger_id),
    branch_id      integer NOT NULL REFERENCES master.branch (branch_id),
    bank_name      text NOT NULL CHECK (length(btrim(bank_name)) BETWEEN 2 AND 80),
    account_no     text NOT NULL CHECK (master.is_bank_account(account_no)),
    ifsc           text NOT NULL CHECK (master.is_ifsc(ifsc)),
    takes_receipts boolean NOT NULL DEFAULT false,
    CONSTRAINT bank_account_number_key UNIQUE (account_no, ifsc)
);
CREATE UNIQUE INDEX bank_account_receipts_key ON finance.bank_account (branch_id) WHERE takes_receipts;
SELECT audit.track('finance.bank_account', 'ledger_id');

-- The series of vouchers keyed in the books (a document's voucher carries the document's number).
INSERT INTO master.document_series (series, name) VALUES
    ('JV', 'Journal voucher'), ('PV', 'Payment voucher'), ('RV', 'Receipt voucher (books)'),
    ('CV', 'Contra voucher'), ('PUV', 'Purchase voucher'), ('DN', 'Debit note'),
    ('CNV', 'Credit note voucher (books)'), ('SV', 'Sales voucher (books)');

-- ---------------------------------------------------------------------------
-- Vouchers. A voucher from a document carries the document's number and its (table, id); a
-- voucher keyed in here (a journal, an expense payment) takes its number from its series.
-- ---------------------------------------------------------------------------
CREATE TABLE finance.voucher (
    voucher_id      bigserial PRIMARY KEY,
    branch_id       integer NOT NULL REFERENCES master.branch (branch_id),
    voucher_type    text NOT NULL CHECK (voucher_type IN ('SALES', 'CREDIT_NOTE', 'DEBIT_NOTE', 'RECEIPT', 'PAYMENT',
                                                          'PURCHASE', 'JOURNAL', 'CONTRA')),
    voucher_no      text NOT NULL CHECK (length(voucher_no) BETWEEN 1 AND 40),
    voucher_date    date NOT NULL CHECK (voucher_date > '2000-01-01'),
    narration       text CHECK (length(narration) <= 500),
    source_table    text CHECK (source_table ~ '^[a-z_]+\.[a-z_]+$'),
    source_id       bigint,
    idempotency_key uuid UNIQUE,
    posted_by       integer REFERENCES master.staff (staff_id),
    posted_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT voucher_source_pair CHECK ((source_table IS NULL) = (source_id IS NULL)),
    CONSTRAINT voucher_source_key UNIQUE (source_table, source_id),
    CONSTRAINT voucher_number_key UNIQUE (branch_id, voucher_type, voucher_no)
);
CREATE INDEX voucher_date_idx ON finance.voucher (branch_id, voucher_date, voucher_id);
SELECT audit.track('finance.voucher', 'voucher_id');

CREATE TABLE finance.voucher_line (
    voucher_id   bigint NOT NULL REFERENCES finance.voucher (voucher_id),
    line_no      smallint NOT NULL CHECK (line_no > 0),
    ledger_id    integer NOT NULL REFERENCES finance.ledger (ledger_id),
    debit        numeric(14, 2) NOT NULL DEFAULT 0 CHECK (debit >= 0),
    credit       numeric(14, 2) NOT NULL DEFAULT 0 CHECK (credit >= 0),
    branch_id    integer NOT NULL REFERENCES master.branch (branch_id),   -- the voucher's, kept by trigger
    voucher_date date NOT NULL,                                           -- the voucher's, kept by trigger
    PRIMARY KEY (voucher_id, line_no),
    CONSTRAINT voucher_line_one_side CHECK ((debit > 0) <> (credit > 0))
);
CREATE INDEX voucher_line_ledger_idx ON finance.voucher_line (ledger_id, voucher_date) INCLUDE (debit, credit, branch_id);
CREATE INDEX voucher_line_period_idx ON finance.voucher_line (branch_id, voucher_date) INCLUDE (ledger_id, debit, credit);

-- ---------------------------------------------------------------------------
-- The period lock: a row is a closed month of a branch. Closing and reopening are events with who,
-- when and (to reopen) why; a month is reopened only by deleting its row in the same transaction
-- as its REOPEN event (finance.reopen_month).
-- ---------------------------------------------------------------------------
CREATE TABLE finance.closed_month (
    branch_id  integer NOT NULL REFERENCES master.branch (branch_id),
    month      date NOT NULL CHECK (month = date_trunc('month', month)::date),
    closed_by  integer REFERENCES master.staff (staff_id),
    closed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (branch_id, month)
);

CREATE TABLE finance.period_event (
    event_id   bigserial PRIMARY KEY,
    branch_id  integer NOT NULL REFERENCES master.branch (branch_id),
    month      date NOT NULL CHECK (month = date_trunc('month', month)::date),
    action     text NOT NULL CHECK (action IN ('CLOSE', 'REOPEN')),
    reason     text CHECK (length(btrim(reason)) BETWEEN 5 AND 300),
    staff_id   integer REFERENCES master.staff (staff_id),
    at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT period_event_reopen_reason CHECK (action = 'CLOSE' OR reason IS NOT NULL)
);
CREATE INDEX period_event_month_idx ON finance.period_event (branch_id, month, at);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['finance.voucher', 'finance.voucher_line', 'finance.closed_month',
                             'finance.period_event', 'finance.bank_account'] LOOP
        EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY own_branch ON %s USING (branch_id = ANY ((SELECT platform.visible_branch_ids())::integer[])) '
                       'WITH CHECK (platform.branch_visible(branch_id))', t);
    END LOOP;
END
$$;
ALTER TABLE finance.ledger ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_branch ON finance.ledger
    USING (branch_id IS NULL OR branch_id = ANY ((SELECT platform.visible_branch_ids())::integer[]))
    WITH CHECK (branch_id IS NULL OR platform.branch_visible(branch_id));
