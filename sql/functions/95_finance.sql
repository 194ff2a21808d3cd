-- The books' rules (tables in sql/0041_finance.sql): a voucher's debits equal its credits, a
-- voucher and its lines are permanent, its lines are written only with it, a closed month takes
-- nothing, and the few functions every posting uses (finance.post_voucher, finance.ledger_key,
-- finance.party_ledger).

-- ---------------------------------------------------------------------------
-- The period lock.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION finance.month_is_closed(p_branch integer, p_on date) RETURNS boolean
LANGUAGE sql STABLE
AS $$
    SELECT EXISTS (SELECT 1 FROM finance.closed_month
                    WHERE branch_id = p_branch AND month = date_trunc('month', p_on)::date)
$$;

CREATE OR REPLACE FUNCTION finance.refuse_closed_month_on(p_branch integer, p_on date, p_what text) RETURNS void
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF finance.month_is_closed(p_branch, p_on) THEN
        RAISE EXCEPTION '% is dated % in %, a month closed in the books; a manager must reopen it first',
            p_what, to_char(p_on, 'DD-MM-YYYY'), to_char(p_on, 'FMMonth YYYY')
            USING ERRCODE = 'check_violation', CONSTRAINT = 'period_closed';
    END IF;
END
$$;

-- BEFORE INSERT on any document table: refuse a document dated in a closed month.
-- Arguments: the date column, the branch column (default branch_id), what the document is called.
CREATE OR REPLACE FUNCTION finance.refuse_closed_month() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    row_json jsonb := to_jsonb(NEW);
BEGIN
    PERFORM finance.refuse_closed_month_on((row_json ->> coalesce(TG_ARGV[1], 'branch_id'))::integer,
                                          (row_json ->> TG_ARGV[0])::date,
                                          coalesce(TG_ARGV[2], 'This document'));
    RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION finance.close_month(p_branch integer, p_month date) RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    IF p_month <> date_trunc('month', p_month)::date THEN
        RAISE EXCEPTION 'a month is named by its first day' USING ERRCODE = 'check_violation';
    END IF;
    IF p_month >= date_trunc('month', (now() AT TIME ZONE 'Asia/Kolkata'))::date THEN
        RAISE EXCEPTION '% has not ended; only a past month can be closed', to_char(p_month, 'FMMonth YYYY')
            USING ERRCODE = 'check_violation', CONSTRAINT = 'closed_month_ended';
    END IF;
    INSERT INTO finance.closed_month (branch_id, month, closed_by) VALUES (p_branch, p_month, audit.current_staff_id());
    INSERT INTO finance.period_event (branch_id, month, action, staff_id)
    VALUES (p_branch, p_month, 'CLOSE', audit.current_staff_id());
END
$$;

CREATE OR REPLACE FUNCTION finance.reopen_month(p_branch integer, p_month date, p_reason text) RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    INSERT INTO finance.period_event (branch_id, month, action, reason, staff_id)
    VALUES (p_branch, p_month, 'REOPEN', p_reason, audit.current_staff_id());
    DELETE FROM finance.closed_month WHERE branch_id = p_branch AND month = p_month;
    IF NOT FOUND THEN
        RAISE EXCEPTION '% is not closed', to_char(p_month, 'FMMonth YYYY')
            USING ERRCODE = 'check_violation', CONSTRAINT = 'closed_month_open';
    END IF;
END
$$;

-- A closed month is reopened only with its REOPEN event (and its reason) in the same transaction.
CREATE OR REPLACE FUNCTION finance.check_reopen() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'a closed month is reopened, never changed' USING ERRCODE = 'restrict_violation';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM finance.period_event
                    WHERE branch_id = OLD.branch_id AND month = OLD.month AND action = 'REOPEN' AND at = now()) THEN
        RAISE EXCEPTION 'a closed month is reopened only with a reason (finance.reopen_month)'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN OLD;
END
$$;

CREATE OR REPLACE TRIGGER closed_month_reopen BEFORE UPDATE OR DELETE ON finance.closed_month
    FOR EACH ROW EXECUTE FUNCTION finance.check_reopen();
CREATE OR REPLACE TRIGGER period_event_is_permanent BEFORE UPDATE OR DELETE ON finance.period_event
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- ---------------------------------------------------------------------------
-- Vouchers: numbered when keyed in here, never in a closed month, permanent, balanced at commit.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION finance.before_voucher() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    PERFORM finance.refuse_closed_month_on(NEW.branch_id, NEW.voucher_date,
                                          coalesce('Voucher ' || NEW.voucher_no, 'This voucher'));
    IF NEW.voucher_no IS NULL THEN
        NEW.voucher_no := master.next_document_no(NEW.branch_id,
            CASE NEW.voucher_type WHEN 'JOURNAL' THEN 'JV' WHEN 'PAYMENT' THEN 'PV' WHEN 'RECEIPT' THEN 'RV'
                                  WHEN 'CONTRA' THEN 'CV' WHEN 'PURCHASE' THEN 'PUV' WHEN 'DEBIT_NOTE' THEN 'DN'
                                  WHEN 'CREDIT_NOTE' THEN 'CNV' ELSE 'SV' END,
            NEW.voucher_date);
    END IF;
    NEW.posted_at := now();
    NEW.posted_by := coalesce(NEW.posted_by, audit.current_staff_id());
    RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION finance.before_voucher_line() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    v record;
BEGIN
    SELECT branch_id, voucher_date, posted_at INTO v FROM finance.voucher WHERE voucher_id = NEW.voucher_id;
    IF v.posted_at IS DISTINCT FROM now() THEN
        RAISE EXCEPTION 'a voucher''s lines are written with the voucher, never added later'
            USING ERRCODE = 'restrict_violation';
    END IF;
    NEW.branch_id := v.branch_id;
    NEW.voucher_date := v.voucher_date;
    RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION finance.check_voucher_balanced() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    dr numeric;
    cr numeric;
    n integer;
BEGIN
    SELECT coalesce(sum(debit), 0), coalesce(sum(credit), 0), count(*) INTO dr, cr, n
      FROM finance.voucher_line WHERE voucher_id = NEW.voucher_id;
    IF n < 2 OR dr <> cr THEN
        RAISE EXCEPTION 'voucher % (%) does not balance: debits %, credits %, % lines',
            NEW.voucher_no, NEW.voucher_type, dr, cr, n
            USING ERRCODE = 'check_violation', CONSTRAINT = 'voucher_balanced';
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER voucher_a_before BEFORE INSERT ON finance.voucher
    FOR EACH ROW EXECUTE FUNCTION finance.before_voucher();
CREATE OR REPLACE TRIGGER voucher_is_permanent BEFORE UPDATE OR DELETE ON finance.voucher
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();
CREATE OR REPLACE TRIGGER voucher_line_a_before BEFORE INSERT ON finance.voucher_line
    FOR EACH ROW EXECUTE FUNCTION finance.before_voucher_line();
CREATE OR REPLACE TRIGGER voucher_line_is_permanent BEFORE UPDATE OR DELETE ON finance.voucher_line
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();
DROP TRIGGER IF EXISTS voucher_balanced ON finance.voucher;
CREATE CONSTRAINT TRIGGER voucher_balanced AFTER INSERT ON finance.voucher
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION finance.check_voucher_balanced();

-- ---------------------------------------------------------------------------
-- Posting. p_lines is a JSON array of {"ledger_id": n, "amount": x}: a positive amount is a debit,
-- a negative one a credit, zero lines are left out. Returns the voucher's id. A document posts
-- through this with its own number and (table, id); UNIQUE (source_table, source_id) makes a
-- second posting of the same document fail instead of doubling the books. The voucher and its lines
-- are written by one statement, so the balance check sees the lines even when it fires at once (a
-- posting from a deferred trigger under SET CONSTRAINTS ALL IMMEDIATE).
CREATE OR REPLACE FUNCTION finance.post_voucher(p_branch integer, p_type text, p_date date, p_no text,
                                                p_narration text, p_source_table text, p_source_id bigint,
                                                p_lines jsonb) RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    vid bigint;
BEGIN
    WITH v AS (
        INSERT INTO finance.voucher (branch_id, voucher_type, voucher_no, voucher_date, narration, source_table, source_id)
        VALUES (p_branch, p_type, p_no, p_date, left(p_narration, 500), p_source_table, p_source_id)
        RETURNING voucher_id),
    l AS (
        INSERT INTO finance.voucher_line (voucher_id, line_no, ledger_id, debit, credit)
        SELECT v.voucher_id, row_number() OVER (ORDER BY x.ord), x.ledger_id, greatest(x.amount, 0), greatest(-x.amount, 0)
          FROM v, (SELECT (e ->> 'ledger_id')::integer AS ledger_id, round((e ->> 'amount')::numeric, 2) AS amount, ord
                     FROM jsonb_array_elements(p_lines) WITH ORDINALITY AS j (e, ord)) x
         WHERE x.amount <> 0)
    SELECT voucher_id INTO vid FROM v;
    RETURN vid;
END
$$;

-- The id of a system ledger by its key; a missing key is a bug in a posting, said plainly.
CREATE OR REPLACE FUNCTION finance.ledger_key(p_key text) RETURNS integer
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    id integer;
BEGIN
    SELECT ledger_id INTO id FROM finance.ledger WHERE system_key = p_key;
    IF id IS NULL THEN
        RAISE EXCEPTION 'the books have no ledger with the key %', p_key USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN id;
END
$$;

-- The ledger a branch's money other than cash goes to: its receiving bank account, else BANK.
CREATE OR REPLACE FUNCTION finance.bank_ledger_for(p_branch integer) RETURNS integer
LANGUAGE sql STABLE
AS $$
    SELECT coalesce((SELECT ledger_id FROM finance.bank_account WHERE branch_id = p_branch AND takes_receipts),
                    finance.ledger_key('BANK'))
$$;

-- Whether a ledger name is taken, across branches (a customer's ledger is seen only at its branch,
-- but the names are the company's).
CREATE OR REPLACE FUNCTION finance.ledger_name_taken(p_name text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT EXISTS (SELECT 1 FROM finance.ledger WHERE lower(name) = lower(p_name))
$$;

-- The ledger of a party (kind CUSTOMER, OEM, FINANCIER or INSURER), made under Sundry Debtors or
-- Sundry Creditors the first time it is needed. Its name is the party's name with what tells two
-- namesakes apart (the mobile number, else the id).
CREATE OR REPLACE FUNCTION finance.party_ledger(p_kind text, p_id integer) RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    id integer;
    party_name text;
    party_gstin text;
    party_branch integer;
    grp text := 'Sundry Debtors';
BEGIN
    SELECT ledger_id INTO id FROM finance.ledger
     WHERE CASE p_kind WHEN 'CUSTOMER' THEN customer_id WHEN 'OEM' THEN oem_id
                       WHEN 'FINANCIER' THEN financier_id WHEN 'INSURER' THEN insurer_id END = p_id;
    IF id IS NOT NULL THEN
        RETURN id;
    END IF;
    CASE p_kind
    WHEN 'CUSTOMER' THEN
        SELECT c.name || ' - ' || c.mobile, c.gstin, c.branch_id INTO party_name, party_gstin, party_branch
          FROM master.customer c WHERE c.customer_id = p_id;
    WHEN 'OEM' THEN
        SELECT o.legal_name, o.gstin INTO party_name, party_gstin FROM oem.oem o WHERE o.oem_id = p_id;
        grp := 'Sundry Creditors';
    WHEN 'FINANCIER' THEN
        SELECT f.name, f.gstin INTO party_name, party_gstin FROM master.financier f WHERE f.financier_id = p_id;
    WHEN 'INSURER' THEN
        SELECT i.name, i.gstin INTO party_name, party_gstin FROM master.insurer i WHERE i.insurer_id = p_id;
    ELSE
        RAISE EXCEPTION 'no party kind %', p_kind USING ERRCODE = 'check_violation';
    END CASE;
    IF party_name IS NULL THEN
        RAISE EXCEPTION 'no % %', lower(p_kind), p_id USING ERRCODE = 'foreign_key_violation';
    END IF;
    party_name := left(regexp_replace(party_name, '[<>]', '', 'g'), 100);
    IF finance.ledger_name_taken(party_name) THEN
        party_name := party_name || ' #' || p_id;
    END IF;
    INSERT INTO finance.ledger (name, group_id, branch_id, customer_id, oem_id, financier_id, insurer_id, gstin)
    SELECT party_name, g.group_id, party_branch,
           CASE WHEN p_kind = 'CUSTOMER' THEN p_id END, CASE WHEN p_kind = 'OEM' THEN p_id END,
           CASE WHEN p_kind = 'FINANCIER' THEN p_id END, CASE WHEN p_kind = 'INSURER' THEN p_id END,
           party_gstin
      FROM finance.account_group g WHERE g.name = grp
    RETURNING ledger_id INTO id;
    RETURN id;
END
$$;
