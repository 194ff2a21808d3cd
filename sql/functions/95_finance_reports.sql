-- The books as reports (tables in sql/0041_finance.sql and sql/0047_books.sql): the monthly ledger
-- totals kept with every voucher line, each ledger's opening balance and movement for any period,
-- the stock value on a day for the P&L and the balance sheet, and what the chart of accounts may not
-- change (Tally's own groups and the system ledgers the postings name).

-- ---------------------------------------------------------------------------
-- finance.ledger_month: a voucher's lines add to their ledger's month in the same statement. Lines
-- are only ever inserted (voucher_line_is_permanent), so the rows stay the exact sums of the lines.
-- ---------------------------------------------------------------------------
-- Also the lines' account groups' months (finance.group_month). SECURITY DEFINER: a line may name a
-- ledger the posting branch does not see (a customer added at another branch), whose group still counts.
CREATE OR REPLACE FUNCTION finance.add_to_ledger_month() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO finance.ledger_month AS m (ledger_id, branch_id, month, debit, credit)
    SELECT n.ledger_id, n.branch_id, date_trunc('month', n.voucher_date)::date, sum(n.debit), sum(n.credit)
      FROM new_lines n
     GROUP BY 1, 2, 3
    ON CONFLICT (ledger_id, branch_id, month)
    DO UPDATE SET debit = m.debit + EXCLUDED.debit, credit = m.credit + EXCLUDED.credit;
    INSERT INTO finance.group_month AS m (group_id, branch_id, month, debit, credit)
    SELECT l.group_id, n.branch_id, date_trunc('month', n.voucher_date)::date, sum(n.debit), sum(n.credit)
      FROM new_lines n JOIN finance.ledger l ON l.ledger_id = n.ledger_id
     GROUP BY 1, 2, 3
    ON CONFLICT (group_id, branch_id, month)
    DO UPDATE SET debit = m.debit + EXCLUDED.debit, credit = m.credit + EXCLUDED.credit;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER voucher_line_month_totals AFTER INSERT ON finance.voucher_line
    REFERENCING NEW TABLE AS new_lines
    FOR EACH STATEMENT EXECUTE FUNCTION finance.add_to_ledger_month();

-- Where the monthly totals differ from the lines (nothing, unless someone wrote them by hand): the
-- check a test and an operator can run.
CREATE OR REPLACE FUNCTION finance.ledger_month_drift()
RETURNS TABLE (ledger_id integer, branch_id integer, month date, kept_debit numeric, kept_credit numeric,
               line_debit numeric, line_credit numeric)
LANGUAGE sql STABLE
AS $$
    WITH lines AS (
        SELECT l.ledger_id, l.branch_id, date_trunc('month', l.voucher_date)::date AS month,
               sum(l.debit) AS debit, sum(l.credit) AS credit
          FROM finance.voucher_line l GROUP BY 1, 2, 3)
    SELECT coalesce(m.ledger_id, l.ledger_id), coalesce(m.branch_id, l.branch_id), coalesce(m.month, l.month),
           m.debit, m.credit, l.debit, l.credit
      FROM finance.ledger_month m
      FULL JOIN lines l ON l.ledger_id = m.ledger_id AND l.branch_id = m.branch_id AND l.month = m.month
     WHERE m.debit IS DISTINCT FROM l.debit OR m.credit IS DISTINCT FROM l.credit
$$;

-- ---------------------------------------------------------------------------
-- Each ledger's opening balance (positive debit) at p_from and its debits and credits from p_from to
-- p_to, over one branch or (p_branch NULL) every branch the request may see. Whole months come from
-- finance.ledger_month, the days of a part month at either end from the lines. A ledger's own opening
-- balance (finance.ledger.opening_balance) counts with its branch, or for a company ledger (no branch)
-- only when the report covers every branch of the company. With p_ledger: that ledger only.
-- ---------------------------------------------------------------------------
-- The branches a report covers: the one asked for, else every branch the request may see.
CREATE OR REPLACE FUNCTION finance.report_branches(p_branch integer) RETURNS integer[]
LANGUAGE sql STABLE
AS $$
    SELECT CASE WHEN p_branch IS NULL THEN platform.visible_branch_ids() ELSE ARRAY[p_branch] END
$$;

-- The first day of the first whole month from a day on (the day itself when it is the 1st).
CREATE OR REPLACE FUNCTION finance.whole_month_from(p_day date) RETURNS date
LANGUAGE sql IMMUTABLE
AS $$
    SELECT CASE WHEN p_day = date_trunc('month', p_day)::date THEN p_day
                ELSE (date_trunc('month', p_day) + interval '1 month')::date END
$$;

CREATE OR REPLACE FUNCTION finance.ledger_totals(p_from date, p_to date, p_branch integer DEFAULT NULL)
RETURNS TABLE (ledger_id integer, opening numeric, debit numeric, credit numeric)
LANGUAGE sql STABLE
AS $$
    -- Written out (no CTE of the bounds) so that, inlined, every bound is a constant the indexes are
    -- searched by. Every branch the request may see is what the tables' own policies let through
    -- (sql/0041, sql/0047), so only one branch asked for adds a condition.
    SELECT ledger_id, sum(opening), sum(debit), sum(credit)
      FROM (SELECT m.ledger_id, m.debit - m.credit AS opening, 0 AS debit, 0 AS credit
              FROM finance.ledger_month m
             WHERE m.month < date_trunc('month', p_from)::date
               AND (p_branch IS NULL OR m.branch_id = p_branch)
            UNION ALL
            SELECT l.ledger_id, l.debit - l.credit, 0, 0
              FROM finance.voucher_line l
             WHERE l.voucher_date >= date_trunc('month', p_from)::date AND l.voucher_date < p_from
               AND (p_branch IS NULL OR l.branch_id = p_branch)
            UNION ALL
            SELECT m.ledger_id, 0, m.debit, m.credit
              FROM finance.ledger_month m
             WHERE m.month >= finance.whole_month_from(p_from)
               AND m.month < date_trunc('month', p_to + 1)::date
               AND (p_branch IS NULL OR m.branch_id = p_branch)
            UNION ALL
            SELECT l.ledger_id, 0, l.debit, l.credit   -- the days before the first whole month
              FROM finance.voucher_line l
             WHERE l.voucher_date >= p_from AND l.voucher_date < least(finance.whole_month_from(p_from), p_to + 1)
               AND (p_branch IS NULL OR l.branch_id = p_branch)
            UNION ALL
            SELECT l.ledger_id, 0, l.debit, l.credit   -- the days after the last whole month
              FROM finance.voucher_line l
             WHERE l.voucher_date >= greatest(date_trunc('month', p_to + 1)::date, finance.whole_month_from(p_from))
               AND l.voucher_date <= p_to
               AND (p_branch IS NULL OR l.branch_id = p_branch)
            UNION ALL
            SELECT g.ledger_id, g.opening_balance, 0, 0
              FROM finance.ledger g
             WHERE g.opening_balance <> 0
               AND (g.branch_id = ANY ((SELECT finance.report_branches(p_branch))::integer[])
                    OR (g.branch_id IS NULL AND p_branch IS NULL
                        AND (SELECT cardinality(platform.visible_branch_ids()) = (SELECT count(*) FROM master.branch))))) x
     GROUP BY ledger_id
$$;

-- One ledger's (the ledger's account, cash and bank on the home screen, the cash closing's book figure):
-- the query above with that ledger asked for, planned here with the ledger as a parameter, so that the
-- condition reaches every part of it and each is read by its ledger index, whether the ledger is a
-- constant or comes from the row of a LATERAL join. (A condition "p_ledger IS NULL OR ledger_id =
-- p_ledger" inside the query did not: with a ledger that is not a constant it reads every ledger.)
CREATE OR REPLACE FUNCTION finance.ledger_totals(p_from date, p_to date, p_branch integer, p_ledger integer)
RETURNS TABLE (ledger_id integer, opening numeric, debit numeric, credit numeric)
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    RETURN QUERY SELECT t.ledger_id, t.opening, t.debit, t.credit
                   FROM finance.ledger_totals(p_from, p_to, p_branch) t WHERE t.ledger_id = p_ledger;
END
$$;

-- ---------------------------------------------------------------------------
-- finance.group_month: a ledger moved to another group takes its monthly totals from the old group's
-- months to the new one's, so the groups' totals stay the sums of their ledgers'.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION finance.move_group_months() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE finance.group_month g SET debit = g.debit - m.debit, credit = g.credit - m.credit
      FROM finance.ledger_month m
     WHERE m.ledger_id = NEW.ledger_id AND g.group_id = OLD.group_id AND g.branch_id = m.branch_id
       AND g.month = m.month;
    INSERT INTO finance.group_month AS g (group_id, branch_id, month, debit, credit)
    SELECT NEW.group_id, m.branch_id, m.month, m.debit, m.credit FROM finance.ledger_month m
     WHERE m.ledger_id = NEW.ledger_id
    ON CONFLICT (group_id, branch_id, month)
    DO UPDATE SET debit = g.debit + EXCLUDED.debit, credit = g.credit + EXCLUDED.credit;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER ledger_group_months AFTER UPDATE OF group_id ON finance.ledger
    FOR EACH ROW WHEN (OLD.group_id IS DISTINCT FROM NEW.group_id) EXECUTE FUNCTION finance.move_group_months();

-- Where the groups' monthly totals differ from their ledgers' (nothing, unless written by hand).
CREATE OR REPLACE FUNCTION finance.group_month_drift()
RETURNS TABLE (group_id integer, branch_id integer, month date, kept_debit numeric, kept_credit numeric,
               ledger_debit numeric, ledger_credit numeric)
LANGUAGE sql STABLE
AS $$
    WITH ledgers AS (
        SELECT l.group_id, m.branch_id, m.month, sum(m.debit) AS debit, sum(m.credit) AS credit
          FROM finance.ledger_month m JOIN finance.ledger l USING (ledger_id) GROUP BY 1, 2, 3)
    SELECT coalesce(g.group_id, l.group_id), coalesce(g.branch_id, l.branch_id), coalesce(g.month, l.month),
           g.debit, g.credit, l.debit, l.credit
      FROM finance.group_month g
      FULL JOIN ledgers l ON l.group_id = g.group_id AND l.branch_id = g.branch_id AND l.month = g.month
     WHERE coalesce(g.debit, 0) <> coalesce(l.debit, 0) OR coalesce(g.credit, 0) <> coalesce(l.credit, 0)
$$;

-- Each group's own ledgers' opening balance at p_from and debits and credits to p_to (the one read of
-- the trial balance, the P&L and the balance sheet): as finance.ledger_totals, but the whole months
-- from the groups' monthly totals, a few rows per group and month however many party ledgers there are.
CREATE OR REPLACE FUNCTION finance.group_totals(p_from date, p_to date, p_branch integer DEFAULT NULL)
RETURNS TABLE (group_id integer, opening numeric, debit numeric, credit numeric)
LANGUAGE sql STABLE
AS $$
    SELECT group_id, sum(opening), sum(debit), sum(credit)
      FROM (SELECT m.group_id, m.debit - m.credit AS opening, 0 AS debit, 0 AS credit
              FROM finance.group_month m
             WHERE m.month < date_trunc('month', p_from)::date AND (p_branch IS NULL OR m.branch_id = p_branch)
            UNION ALL
            SELECT m.group_id, 0, m.debit, m.credit
              FROM finance.group_month m
             WHERE m.month >= finance.whole_month_from(p_from) AND m.month < date_trunc('month', p_to + 1)::date
               AND (p_branch IS NULL OR m.branch_id = p_branch)
            UNION ALL
            SELECT g.group_id, sum(x.opening), sum(x.debit), sum(x.credit)
              FROM (SELECT ledger_id, sum(opening) AS opening, sum(debit) AS debit, sum(credit) AS credit FROM (
                    SELECT l.ledger_id, l.debit - l.credit AS opening, 0 AS debit, 0 AS credit
                      FROM finance.voucher_line l
                     WHERE l.voucher_date >= date_trunc('month', p_from)::date AND l.voucher_date < p_from
                       AND (p_branch IS NULL OR l.branch_id = p_branch)
                    UNION ALL
                    SELECT l.ledger_id, 0, l.debit, l.credit
                      FROM finance.voucher_line l
                     WHERE l.voucher_date >= p_from AND l.voucher_date < least(finance.whole_month_from(p_from), p_to + 1)
                       AND (p_branch IS NULL OR l.branch_id = p_branch)
                    UNION ALL
                    SELECT l.ledger_id, 0, l.debit, l.credit
                      FROM finance.voucher_line l
                     WHERE l.voucher_date >= greatest(date_trunc('month', p_to + 1)::date, finance.whole_month_from(p_from))
                       AND l.voucher_date <= p_to AND (p_branch IS NULL OR l.branch_id = p_branch)
                    UNION ALL
                    SELECT o.ledger_id, o.opening_balance, 0, 0
                      FROM finance.ledger o
                     WHERE o.opening_balance <> 0
                       AND (o.branch_id = ANY ((SELECT finance.report_branches(p_branch))::integer[])
                            OR (o.branch_id IS NULL AND p_branch IS NULL
                                AND (SELECT cardinality(platform.visible_branch_ids()) = (SELECT count(*) FROM master.branch)))))
                    y GROUP BY ledger_id) x
              JOIN finance.ledger g ON g.ledger_id = x.ledger_id
             GROUP BY g.group_id) t
     GROUP BY group_id
$$;

-- ---------------------------------------------------------------------------
-- The stock on hand at the end of a day, at cost, for the P&L's opening and closing stock and the
-- balance sheet: spare parts at the weighted average of their moves (today's value less what moved
-- in and out after the day), vehicles at their purchase cost when received by the day and not on a
-- vehicle invoice dated by then (the branch that holds a unit now counts it; a unit returned to the
-- OEM is left out).
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION finance.stock_value(p_on date, p_branch integer DEFAULT NULL)
RETURNS TABLE (parts numeric, vehicles numeric)
LANGUAGE sql STABLE
AS $$
    -- Each bound written where it is used (no CTE of them), so that, inlined, the moves after the day are
    -- found by their index (sql/0058's stock_move_branch_time_idx) instead of reading every move.
    SELECT (SELECT coalesce(sum(ps.value), 0) FROM inventory.part_stock ps
             WHERE ps.branch_id = ANY ((SELECT finance.report_branches(p_branch))::integer[]))
         - (SELECT coalesce(sum(sm.value), 0) FROM inventory.stock_move sm
             WHERE sm.branch_id = ANY ((SELECT finance.report_branches(p_branch))::integer[])
               AND sm.moved_at >= ((p_on + 1)::timestamp AT TIME ZONE 'Asia/Kolkata')),
           (SELECT coalesce(sum(u.purchase_cost), 0) FROM inventory.vehicle_unit u
             WHERE u.branch_id = ANY ((SELECT finance.report_branches(p_branch))::integer[])
               AND u.received_on <= p_on AND u.status <> 'RETURNED'
               AND NOT EXISTS (SELECT 1 FROM billing.invoice i
                                WHERE i.unit_id = u.unit_id AND i.kind = 'VEHICLE' AND i.invoice_date <= p_on))
$$;

-- ---------------------------------------------------------------------------
-- The chart of accounts: a sub-group takes its parent's nature and gross-profit side and never sits
-- under itself; Tally's own groups keep their name, place and nature and are never deleted; a system
-- ledger (one the postings name by key) keeps its name, key and group, stays active and is never
-- deleted.
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION finance.check_account_group() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.is_system THEN
            RAISE EXCEPTION 'the group % is one of Tally''s own and is never deleted', OLD.name
                USING ERRCODE = 'check_violation', CONSTRAINT = 'account_group_system';
        END IF;
        RETURN OLD;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.is_system AND (NEW.name IS DISTINCT FROM OLD.name
            OR NEW.parent_id IS DISTINCT FROM OLD.parent_id OR NEW.nature IS DISTINCT FROM OLD.nature
            OR NEW.gross_profit IS DISTINCT FROM OLD.gross_profit OR NOT NEW.is_system) THEN
        RAISE EXCEPTION 'the group % is one of Tally''s own: its name and place do not change', OLD.name
            USING ERRCODE = 'check_violation', CONSTRAINT = 'account_group_system';
    END IF;
    IF NEW.parent_id IS NOT NULL THEN
        SELECT p.nature, p.gross_profit INTO NEW.nature, NEW.gross_profit
          FROM finance.account_group p WHERE p.group_id = NEW.parent_id;
        IF TG_OP = 'UPDATE' AND EXISTS (
                WITH RECURSIVE up AS (SELECT NEW.parent_id AS group_id
                                      UNION SELECT g.parent_id FROM finance.account_group g JOIN up USING (group_id)
                                             WHERE g.parent_id IS NOT NULL)
                SELECT 1 FROM up WHERE group_id = NEW.group_id) THEN
            RAISE EXCEPTION 'a group cannot sit under itself or one of its own sub-groups'
                USING ERRCODE = 'check_violation', CONSTRAINT = 'account_group_not_own_parent';
        END IF;
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER account_group_rules BEFORE INSERT OR UPDATE OR DELETE ON finance.account_group
    FOR EACH ROW EXECUTE FUNCTION finance.check_account_group();

-- A group's nature follows its parent: moving a group moves its sub-groups' nature with it.
CREATE OR REPLACE FUNCTION finance.cascade_group_nature() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    UPDATE finance.account_group SET nature = NEW.nature, gross_profit = NEW.gross_profit
     WHERE parent_id = NEW.group_id AND (nature, gross_profit) IS DISTINCT FROM (NEW.nature, NEW.gross_profit);
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER account_group_nature_down AFTER UPDATE OF nature, gross_profit ON finance.account_group
    FOR EACH ROW WHEN ((OLD.nature, OLD.gross_profit) IS DISTINCT FROM (NEW.nature, NEW.gross_profit))
    EXECUTE FUNCTION finance.cascade_group_nature();

CREATE OR REPLACE FUNCTION finance.check_system_ledger() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.system_key IS NOT NULL THEN
            RAISE EXCEPTION 'the ledger % is one the postings use and is never deleted', OLD.name
                USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_system';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.system_key IS NOT NULL AND (NEW.name IS DISTINCT FROM OLD.name
            OR NEW.system_key IS DISTINCT FROM OLD.system_key OR NEW.group_id IS DISTINCT FROM OLD.group_id
            OR NOT NEW.is_active OR NEW.gst_duty_head IS DISTINCT FROM OLD.gst_duty_head
            OR NEW.gst_direction IS DISTINCT FROM OLD.gst_direction) THEN
        RAISE EXCEPTION 'the ledger % is one the postings use: its name, group and key do not change and it stays active',
            OLD.name USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_system';
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER ledger_system_rules BEFORE UPDATE OR DELETE ON finance.ledger
    FOR EACH ROW EXECUTE FUNCTION finance.check_system_ledger();
