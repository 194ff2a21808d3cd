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

-- finance.group_month: the same per account group (the ledger's group when the line was posted), added to
-- by the same trigger; a ledger moved to another group takes its monthly totals with it (trigger on
-- finance.ledger). The trial balance, P&L and balance sheet read these: a few rows per group and month
-- however many party ledgers there are. Exact as long as finance.ledger_month is (finance.group_month_drift).
CREATE TABLE finance.group_month (
    group_id   integer NOT NULL REFERENCES finance.account_group (group_id),
    branch_id  integer NOT NULL REFERENCES master.branch (branch_id),
    month      date NOT NULL CHECK (month = date_trunc('month', month)::date),
    debit      numeric(16, 2) NOT NULL DEFAULT 0 CHECK (debit >= 0),
    credit     numeric(16, 2) NOT NULL DEFAULT 0 CHECK (credit >= 0),
    PRIMARY KEY (group_id, branch_id, month)
);
CREATE INDEX group_month_period_idx ON finance.group_month (month, branch_id) INCLUDE (group_id, debit, credit);
INSERT INTO finance.group_month (group_id, branch_id, month, debit, credit)
SELECT l.group_id, m.branch_id, m.month, sum(m.debit), sum(m.credit)
  FROM finance.ledger_month m JOIN finance.ledger l USING (ledger_id)
 GROUP BY 1, 2, 3;
ALTER TABLE finance.group_month ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_branch ON finance.group_month
    USING (branch_id = ANY ((SELECT platform.visible_branch_ids())::integer[]))
    WITH CHECK (platform.branch_visible(branch_id));

-- A report's part months name each line's group through its ledger, and its opening balances come from the
-- few ledgers that have one: both without reading every party ledger.
CREATE INDEX ledger_group_of_idx ON finance.ledger (ledger_id) INCLUDE (group_id, branch_id);
CREATE INDEX ledger_opening_idx ON finance.ledger (ledger_id) INCLUDE (group_id, branch_id, opening_balance)
    WHERE opening_balance <> 0;

-- The day book reads a day's or a range's vouchers of every visible branch in date order.
CREATE INDEX voucher_day_idx ON finance.voucher (voucher_date, voucher_id);

-- A group the company adds is a sub-group of one of Tally's (which alone stand at the top).
ALTER TABLE finance.account_group
    ADD CONSTRAINT account_group_user_has_parent CHECK (is_system OR parent_id IS NOT NULL);
