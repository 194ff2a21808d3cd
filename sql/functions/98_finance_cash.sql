-- Expenses, the cash closing, bank statements and their reconciliation: the rules PostgreSQL holds
-- (tables in sql/0048_finance_cash.sql and sql/0049_bank_statements.sql), and the view of the input
-- tax credit from expenses that GSTR-3B reads.

-- ---------------------------------------------------------------------------
-- Expenses
-- ---------------------------------------------------------------------------

-- Whether a ledger sits under Direct or Indirect Expenses (directly or through a sub-group).
CREATE OR REPLACE FUNCTION finance.is_expense_head(p_ledger integer) RETURNS boolean
LANGUAGE sql STABLE
AS $$
    WITH RECURSIVE up AS (
        SELECT g.group_id, g.parent_id, g.name FROM finance.ledger l
          JOIN finance.account_group g ON g.group_id = l.group_id
         WHERE l.ledger_id = p_ledger AND l.system_key IS DISTINCT FROM 'ROUND_OFF'
        UNION ALL
        SELECT g.group_id, g.parent_id, g.name FROM finance.account_group g JOIN up ON g.group_id = up.parent_id
    )
    SELECT EXISTS (SELECT 1 FROM up WHERE name IN ('Direct Expenses', 'Indirect Expenses'))
$$;

-- Before an expense is saved: its head is an expense ledger, its GST is of the kind the supplier's
-- state makes it (CGST+SGST within the branch's state, IGST from another), the bank it was paid from is
-- the branch's, its month is open; then its number.
CREATE OR REPLACE FUNCTION finance.before_expense() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    branch_state text;
BEGIN
    IF NOT finance.is_expense_head(NEW.head_ledger_id) THEN
        RAISE EXCEPTION 'an expense is booked to a ledger under Direct or Indirect Expenses'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'expense_head_is_expense';
    END IF;
    SELECT state_code INTO STRICT branch_state FROM master.branch WHERE branch_id = NEW.branch_id;
    IF master.is_gstin(NEW.supplier_gstin) AND NEW.cgst + NEW.sgst + NEW.igst > 0
       AND (left(NEW.supplier_gstin, 2) = branch_state) <> (NEW.igst = 0) THEN
        RAISE EXCEPTION 'a supplier in the branch''s state charges CGST and SGST, one in another state IGST'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'expense_gst_by_state';
    END IF;
    IF abs(NEW.cgst - NEW.sgst) > 0.01 THEN
        RAISE EXCEPTION 'CGST and SGST are the two halves of the tax' USING ERRCODE = 'check_violation', CONSTRAINT = 'expense_gst_halves';
    END IF;
    IF NEW.bank_ledger_id IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM finance.bank_account WHERE ledger_id = NEW.bank_ledger_id AND branch_id = NEW.branch_id) THEN
        RAISE EXCEPTION 'the bank account an expense is paid from is its branch''s'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'expense_bank_of_branch';
    END IF;
    PERFORM finance.refuse_closed_month_on(NEW.branch_id, NEW.expense_date, 'This expense');
    IF NEW.expense_no IS NULL THEN
        NEW.expense_no := master.next_document_no(NEW.branch_id, 'EXP', NEW.expense_date);
    END IF;
    NEW.created_at := now();
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER expense_a_before BEFORE INSERT ON finance.expense
    FOR EACH ROW EXECUTE FUNCTION finance.before_expense();
CREATE OR REPLACE TRIGGER expense_is_permanent BEFORE UPDATE OR DELETE ON finance.expense
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();
CREATE OR REPLACE TRIGGER expense_bill_is_permanent BEFORE UPDATE OR DELETE ON finance.expense_bill
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- An expense is saved with its voucher or not at all (checked at commit).
CREATE OR REPLACE FUNCTION finance.check_expense_posted() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM finance.voucher WHERE source_table = 'finance.expense' AND source_id = NEW.expense_id) THEN
        RAISE EXCEPTION 'expense % has no voucher', NEW.expense_no
            USING ERRCODE = 'check_violation', CONSTRAINT = 'expense_posted';
    END IF;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS expense_posted ON finance.expense;
CREATE CONSTRAINT TRIGGER expense_posted AFTER INSERT ON finance.expense
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION finance.check_expense_posted();

-- ---------------------------------------------------------------------------
-- The cash closing
-- ---------------------------------------------------------------------------

-- The branch's cash in the books at the end of a day: the CASH ledger's lines of its vouchers, read as
-- the books' monthly totals up to the day's month and the lines of that month to the day
-- (finance.ledger_totals; the company ledger's own opening balance counts only in a report of every branch).
CREATE OR REPLACE FUNCTION finance.cash_book_balance(p_branch integer, p_on date) RETURNS numeric
LANGUAGE sql STABLE
AS $$
    SELECT coalesce((SELECT opening + debit - credit
                       FROM finance.ledger_totals(p_on, p_on, p_branch, finance.ledger_key('CASH'))), 0)::numeric(14, 2)
$$;

CREATE OR REPLACE FUNCTION finance.before_cash_closing() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM finance.refuse_closed_month_on(NEW.branch_id, NEW.closing_date, 'This cash closing');
    IF NEW.closing_date > (now() AT TIME ZONE 'Asia/Kolkata')::date THEN
        RAISE EXCEPTION 'a day is closed on or after it, never before'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'cash_closing_not_future';
    END IF;
    NEW.book_balance := finance.cash_book_balance(NEW.branch_id, NEW.closing_date);
    NEW.closed_at := now();
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER cash_closing_a_before BEFORE INSERT ON finance.cash_closing
    FOR EACH ROW EXECUTE FUNCTION finance.before_cash_closing();
CREATE OR REPLACE TRIGGER cash_closing_is_permanent BEFORE UPDATE OR DELETE ON finance.cash_closing
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- ---------------------------------------------------------------------------
-- Bank statements and reconciliation
-- ---------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION finance.before_bank_line() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    SELECT ledger_id, branch_id INTO STRICT NEW.ledger_id, NEW.branch_id
      FROM finance.bank_statement WHERE statement_id = NEW.statement_id;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER bank_line_a_before BEFORE INSERT ON finance.bank_line
    FOR EACH ROW EXECUTE FUNCTION finance.before_bank_line();
CREATE OR REPLACE TRIGGER bank_line_is_permanent BEFORE UPDATE OR DELETE ON finance.bank_line
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();
CREATE OR REPLACE TRIGGER bank_statement_is_permanent BEFORE UPDATE OR DELETE ON finance.bank_statement
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- A line is matched to a voucher of its branch with a line on the same bank ledger for the same amount,
-- on the side the money moved: a deposit is a debit of the bank, a withdrawal a credit.
CREATE OR REPLACE FUNCTION finance.before_bank_match() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    bl record;
BEGIN
    SELECT ledger_id, branch_id, withdrawal, deposit INTO STRICT bl FROM finance.bank_line WHERE line_id = NEW.line_id;
    NEW.branch_id := bl.branch_id;
    IF NOT EXISTS (SELECT 1 FROM finance.voucher_line vl
                    WHERE vl.voucher_id = NEW.voucher_id AND vl.ledger_id = bl.ledger_id AND vl.branch_id = bl.branch_id
                      AND vl.debit = bl.deposit AND vl.credit = bl.withdrawal) THEN
        RAISE EXCEPTION 'the voucher does not move this amount through this bank account on the same side'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'bank_match_amount';
    END IF;
    NEW.matched_at := now();
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER bank_match_a_before BEFORE INSERT ON finance.bank_match
    FOR EACH ROW EXECUTE FUNCTION finance.before_bank_match();
CREATE OR REPLACE TRIGGER bank_match_not_changed BEFORE UPDATE ON finance.bank_match
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();
