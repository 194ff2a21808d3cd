-- Bank statements imported and reconciled. A bank account remembers how its bank's statement file is
-- laid out (which column is the date, the narration, the cheque/reference number, the value date, the
-- withdrawal, the deposit and the balance: HDFC, ICICI, SBI, Axis and Kotak name them differently).
-- A statement file is imported once (its SHA-256 per account), and each line once (its fingerprint per
-- account: an overlapping statement cannot bring the same line in twice). A line is matched to one
-- voucher on that bank's ledger for the same amount on the same side, and a voucher to one line.
-- Triggers and functions: sql/functions/98_finance_cash.sql.

CREATE TABLE finance.bank_layout (
    ledger_id          integer PRIMARY KEY REFERENCES finance.bank_account (ledger_id),
    branch_id          integer NOT NULL REFERENCES master.branch (branch_id),
    bank_code          text NOT NULL CHECK (bank_code IN ('HDFC', 'ICICI', 'SBI', 'AXIS', 'KOTAK', 'OTHER')),
    date_column        text NOT NULL CHECK (length(date_column) BETWEEN 1 AND 60),
    narration_column   text NOT NULL CHECK (length(narration_column) BETWEEN 1 AND 60),
    ref_column         text CHECK (length(ref_column) BETWEEN 1 AND 60),
    value_date_column  text CHECK (length(value_date_column) BETWEEN 1 AND 60),
    withdrawal_column  text NOT NULL CHECK (length(withdrawal_column) BETWEEN 1 AND 60),
    deposit_column     text NOT NULL CHECK (length(deposit_column) BETWEEN 1 AND 60),
    balance_column     text CHECK (length(balance_column) BETWEEN 1 AND 60),
    saved_by           integer REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    saved_at           timestamptz NOT NULL DEFAULT now()
);
SELECT audit.track('finance.bank_layout', 'ledger_id');

CREATE TABLE finance.bank_statement (
    statement_id  integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ledger_id     integer NOT NULL REFERENCES finance.bank_account (ledger_id),
    branch_id     integer NOT NULL REFERENCES master.branch (branch_id),
    file_name     text NOT NULL CHECK (length(file_name) BETWEEN 1 AND 120),
    file_sha256   text NOT NULL CHECK (file_sha256 ~ '^[0-9a-f]{64}$'),
    first_date    date NOT NULL,
    last_date     date NOT NULL,
    line_count    integer NOT NULL CHECK (line_count > 0),
    imported_by   integer REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    imported_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT bank_statement_file_once UNIQUE (ledger_id, file_sha256),
    CONSTRAINT bank_statement_dates CHECK (first_date <= last_date)
);
SELECT audit.track('finance.bank_statement', 'statement_id');

CREATE TABLE finance.bank_line (
    line_id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    statement_id integer NOT NULL REFERENCES finance.bank_statement (statement_id),
    ledger_id    integer NOT NULL REFERENCES finance.bank_account (ledger_id),
    branch_id    integer NOT NULL REFERENCES master.branch (branch_id),
    row_no       integer NOT NULL CHECK (row_no > 0),
    txn_date     date NOT NULL CHECK (txn_date > '2000-01-01'),
    value_date   date,
    narration    text NOT NULL CHECK (length(narration) BETWEEN 1 AND 300),
    ref_no       text CHECK (length(ref_no) BETWEEN 1 AND 60),
    withdrawal   numeric(14, 2) NOT NULL DEFAULT 0 CHECK (withdrawal >= 0),
    deposit      numeric(14, 2) NOT NULL DEFAULT 0 CHECK (deposit >= 0),
    balance      numeric(16, 2),
    fingerprint  text GENERATED ALWAYS AS (md5(
        (txn_date - DATE '2000-01-01')::text || '|' || coalesce(ref_no, '') || '|' || narration || '|'
        || withdrawal::text || '|' || deposit::text || '|' || coalesce(balance::text, ''))) STORED,
    CONSTRAINT bank_line_one_side CHECK ((withdrawal > 0) <> (deposit > 0)),
    CONSTRAINT bank_line_already_imported UNIQUE (ledger_id, fingerprint)
);
CREATE INDEX bank_line_statement_idx ON finance.bank_line (statement_id, row_no);
CREATE INDEX bank_line_ledger_date_idx ON finance.bank_line (ledger_id, txn_date);

-- A statement line reconciled with a voucher: one each way. Undone by deleting the row (audited).
CREATE TABLE finance.bank_match (
    line_id     bigint PRIMARY KEY REFERENCES finance.bank_line (line_id),
    voucher_id  bigint NOT NULL REFERENCES finance.voucher (voucher_id),
    branch_id   integer NOT NULL REFERENCES master.branch (branch_id),
    how         text NOT NULL CHECK (how IN ('SUGGESTED', 'MANUAL', 'CREATED')),
    matched_by  integer REFERENCES master.staff (staff_id) DEFAULT audit.current_staff_id(),
    matched_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT bank_match_voucher_once UNIQUE (voucher_id)
);
SELECT audit.track('finance.bank_match', 'line_id');

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['finance.bank_layout', 'finance.bank_statement', 'finance.bank_line',
                             'finance.bank_match'] LOOP
        EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY own_branch ON %s USING (branch_id = ANY ((SELECT platform.visible_branch_ids())::integer[])) '
                       'WITH CHECK (platform.branch_visible(branch_id))', t);
    END LOOP;
END
$$;
