-- The books on screen (webapp/finance/books.py, ledgers.py): what the reports read fast, and what the
-- chart of accounts may and may not change.
--
-- finance.ledger_month: each ledger's debits and credits per branch and month, added to by the trigger
-- on finance.voucher_line (sql/functions/95_finance_reports.sql) in the same statement that writes
-- the lines. Voucher lines are never updated or deleted (voucher_line_is_permanent), so adding each
-- new line's amounts is the whole upkeep: the row always equals the sum of its lines (checked by
-- finance.ledger_month_drift). A trial balance, P&L or balance sheet for any period then reads these
-- rows (a few per ledger a year) for whole months, and the lines themselves only for the part months
-- at the ends of the period.

CREATE TABLE finance.ledger_month (
    ledger_id  integer NOT NULL REFERENCES finance.ledger (ledger_id),
    branch_id  integer NOT NULL REFERENCES master.branch (branch_id),
    month      date NOT NULL CHECK (month = date_trunc('month', month)::date),
    debit      numeric(16, 2) NOT NULL DEFAULT 0 CHECK (debit >= 0),
    credit     numeric(16, 2) NOT NULL DEFAULT 0 CHECK (credit >= 0),
    PRIMARY KEY (ledger_id, branch_id, month)
);
CREATE INDEX ledger_month_period_idx ON finance.ledger_month (month, branch_id) INCLUDE (ledger_id, debit, credit);

-- What the lines already posted (before this migration) add up to.
INSERT INTO finance.ledger_month (ledger_id, branch_id, month, debit, credit)
SELECT ledger_id, branch_id, date_trunc('month', voucher_date)::date, sum(debit), sum(credit)
  FROM finance.voucher_line
 GROUP BY 1, 2, 3;

ALTER TABLE finance.ledger_month ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_branch ON finance.ledger_month
    USING (branch_id = ANY ((SELECT platform.visible_branch_ids())::integer[]))
    WITH CHECK (platform.branch_visible(branch_id));

-- The day book reads a day's or a range's vouchers of every visible branch in date order.
CREATE INDEX voucher_day_idx ON finance.voucher (voucher_date, voucher_id);

-- A group the company adds is a sub-group of one of Tally's (which alone stand at the top).
ALTER TABLE finance.account_group
    ADD CONSTRAINT account_group_user_has_parent CHECK (is_system OR parent_id IS NOT NULL);
