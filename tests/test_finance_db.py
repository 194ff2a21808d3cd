"""The books' rules in PostgreSQL (sql/0041_finance.sql, sql/functions/95_finance.sql): a voucher
balances or is refused at commit; vouchers and their lines are permanent; lines are written only
with their voucher; a closed month takes no voucher, is reopened only with a reason, and only a
month that has ended can be closed; a document posts at most one voucher; party ledgers are made
once and named apart."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import builders as b
import pytest
import sqlalchemy as sa

from webapp.finance import api
from webapp.formatting import today_ist


@pytest.fixture
def shop(conn):
    branch_id = b.branch(conn)
    accountant = b.staff(conn, branch_id, "ACCOUNTS")
    b.act_as(conn, accountant)
    return branch_id


def _last_month() -> date:
    return (today_ist().replace(day=1) - timedelta(days=1)).replace(day=1)


def _cash_sale(conn, branch_id: int, on: date, amount: str = "1180.00", *, sales: str = "1000.00",
               source: tuple[str, int] | None = None) -> int:
    tax = Decimal(amount) - Decimal(sales)
    return api.post_voucher(conn, branch_id=branch_id, voucher_type="SALES", on=on, number=None, source=source,
                            narration="Counter sale", lines=[
                                api.Line(api.ledger_key(conn, "CASH"), Decimal(amount)),
                                api.Line(api.ledger_key(conn, "SALES_PARTS"), -Decimal(sales)),
                                api.Line(api.ledger_key(conn, "OUTPUT_CGST"), -tax / 2),
                                api.Line(api.ledger_key(conn, "OUTPUT_SGST"), -tax / 2)])


def _commit_checks(conn) -> None:
    conn.execute(sa.text("SET CONSTRAINTS ALL IMMEDIATE"))


def test_a_balanced_voucher_posts_with_a_number_and_its_lines(conn, shop):
    vid = _cash_sale(conn, shop, today_ist())
    _commit_checks(conn)
    v = b.row(conn, "SELECT voucher_no, voucher_type FROM finance.voucher WHERE voucher_id = :v", v=vid)
    assert v["voucher_type"] == "SALES" and v["voucher_no"].endswith("SV/" + f"{today_ist().year % 100 if today_ist().month > 3 else (today_ist().year - 1) % 100:02d}/1")
    lines = conn.execute(sa.text("SELECT debit, credit, branch_id, voucher_date FROM finance.voucher_line "
                                 "WHERE voucher_id = :v ORDER BY line_no"), {"v": vid}).all()
    assert [(ln.debit, ln.credit) for ln in lines] == [
        (Decimal("1180.00"), 0), (0, Decimal("1000.00")), (0, Decimal("90.00")), (0, Decimal("90.00"))]
    assert {(ln.branch_id, ln.voucher_date) for ln in lines} == {(shop, today_ist())}


def test_an_unbalanced_voucher_is_refused_at_commit(conn, shop):
    with b.refused(conn, "voucher_balanced"):
        _cash_sale(conn, shop, today_ist(), amount="1180.00", sales="1000.01")
        _commit_checks(conn)
    with b.refused(conn, "voucher_balanced"):   # one line is not a voucher
        api.post_voucher(conn, branch_id=shop, voucher_type="JOURNAL", on=today_ist(),
                         lines=[api.Line(api.ledger_key(conn, "CASH"), Decimal("0"))])
        _commit_checks(conn)


def test_vouchers_and_lines_are_permanent_and_lines_come_only_with_their_voucher(conn, shop):
    vid = _cash_sale(conn, shop, today_ist())
    _commit_checks(conn)
    with b.refused(conn, sqlstate="23001"):
        conn.execute(sa.text("UPDATE finance.voucher SET narration = 'changed' WHERE voucher_id = :v"), {"v": vid})
    with b.refused(conn, sqlstate="23001"):
        conn.execute(sa.text("DELETE FROM finance.voucher_line WHERE voucher_id = :v"), {"v": vid})
    with b.refused(conn, sqlstate="23001"):
        conn.execute(sa.text("UPDATE finance.voucher_line SET debit = debit + 1 WHERE voucher_id = :v AND line_no = 1"),
                     {"v": vid})
    # a line added later (another transaction: the voucher's posted_at is earlier than now())
    conn.execute(sa.text("ALTER TABLE finance.voucher DISABLE TRIGGER voucher_is_permanent"))
    conn.execute(sa.text("UPDATE finance.voucher SET posted_at = posted_at - interval '1 hour' WHERE voucher_id = :v"),
                 {"v": vid})
    conn.execute(sa.text("ALTER TABLE finance.voucher ENABLE TRIGGER voucher_is_permanent"))
    with b.refused(conn, sqlstate="23001"):
        conn.execute(sa.text("INSERT INTO finance.voucher_line (voucher_id, line_no, ledger_id, debit) "
                             "VALUES (:v, 9, finance.ledger_key('CASH'), 5)"), {"v": vid})


def test_a_document_posts_one_voucher(conn, shop):
    _cash_sale(conn, shop, today_ist(), source=("billing.invoice", 424242))
    with b.refused(conn, "voucher_source_key"):
        _cash_sale(conn, shop, today_ist(), source=("billing.invoice", 424242))


def test_a_closed_month_takes_nothing_and_reopens_only_with_a_reason(conn, shop):
    month = _last_month()
    conn.execute(sa.text("SELECT finance.close_month(:b, :m)"), {"b": shop, "m": month})
    assert api.month_is_closed(conn, shop, month + timedelta(days=9))
    with b.refused(conn, "period_closed"):
        _cash_sale(conn, shop, month + timedelta(days=9))
    _cash_sale(conn, shop, today_ist())     # this month is open
    with b.refused(conn, sqlstate="23001"):  # not by deleting the row
        conn.execute(sa.text("DELETE FROM finance.closed_month WHERE branch_id = :b"), {"b": shop})
    with b.refused(conn, "period_event_reason_check"):
        conn.execute(sa.text("SELECT finance.reopen_month(:b, :m, 'no')"), {"b": shop, "m": month})
    conn.execute(sa.text("SELECT finance.reopen_month(:b, :m, 'Bank charges of March missed')"), {"b": shop, "m": month})
    _cash_sale(conn, shop, month + timedelta(days=9))
    events = conn.execute(sa.text("SELECT action, reason FROM finance.period_event WHERE branch_id = :b ORDER BY event_id"),
                          {"b": shop}).all()
    assert [e.action for e in events] == ["CLOSE", "REOPEN"] and events[1].reason.startswith("Bank charges")
    with b.refused(conn, "closed_month_ended"):
        conn.execute(sa.text("SELECT finance.close_month(:b, :m)"), {"b": shop, "m": today_ist().replace(day=1)})
    with b.refused(conn, "closed_month_open"):
        conn.execute(sa.text("SELECT finance.reopen_month(:b, :m, 'Never was closed')"), {"b": shop, "m": month})


def test_a_closed_month_refuses_a_document_dated_in_it(conn, shop):
    month = _last_month()
    conn.execute(sa.text("CREATE TEMP TABLE doc (branch_id integer, doc_date date)"))
    conn.execute(sa.text("CREATE TRIGGER doc_period BEFORE INSERT ON doc FOR EACH ROW "
                         "EXECUTE FUNCTION finance.refuse_closed_month('doc_date', 'branch_id', 'Expense')"))
    conn.execute(sa.text("SELECT finance.close_month(:b, :m)"), {"b": shop, "m": month})
    with b.refused(conn, "period_closed"):
        conn.execute(sa.text("INSERT INTO doc VALUES (:b, :d)"), {"b": shop, "d": month})
    conn.execute(sa.text("INSERT INTO doc VALUES (:b, :d)"), {"b": shop, "d": today_ist()})


def _customer(conn, branch_id: int) -> int:
    customer_id = b.customer(conn, branch_id, name="Ravi Kumar")
    conn.execute(sa.text("UPDATE master.customer SET mobile = '9845000001' WHERE customer_id = :c"), {"c": customer_id})
    return customer_id


def test_a_party_ledger_is_made_once_and_namesakes_are_told_apart(conn, shop):
    first = _customer(conn, shop)
    again = api.party_ledger(conn, "CUSTOMER", first)
    assert api.party_ledger(conn, "CUSTOMER", first) == again
    row = b.row(conn, "SELECT l.name, g.name AS grp, l.branch_id FROM finance.ledger l "
                      "JOIN finance.account_group g USING (group_id) WHERE ledger_id = :l", l=again)
    assert row["name"] == "Ravi Kumar - 9845000001" and row["grp"] == "Sundry Debtors" and row["branch_id"] == shop
    other_branch = b.branch(conn)
    twin = _customer(conn, other_branch)
    twin_ledger = api.party_ledger(conn, "CUSTOMER", twin)
    assert b.scalar(conn, "SELECT name FROM finance.ledger WHERE ledger_id = :l", l=twin_ledger) == \
        f"Ravi Kumar - 9845000001 #{twin}"
    oem = api.party_ledger(conn, "OEM", b.oem(conn))
    assert b.scalar(conn, "SELECT g.name FROM finance.ledger JOIN finance.account_group g USING (group_id) "
                          "WHERE ledger_id = :l", l=oem) == "Sundry Creditors"


def test_a_branch_s_receipts_go_to_its_receiving_bank_account(conn, shop):
    assert b.scalar(conn, "SELECT finance.bank_ledger_for(:b)", b=shop) == api.ledger_key(conn, "BANK")
    ledger = b.scalar(conn, "INSERT INTO finance.ledger (name, group_id) SELECT 'HDFC Current 0042', group_id "
                            "FROM finance.account_group WHERE name = 'Bank Accounts' RETURNING ledger_id")
    conn.execute(sa.text("INSERT INTO finance.bank_account (ledger_id, branch_id, bank_name, account_no, ifsc, "
                         "takes_receipts) VALUES (:l, :b, 'HDFC Bank', '50200012340042', 'HDFC0001234', true)"),
                 {"l": ledger, "b": shop})
    assert b.scalar(conn, "SELECT finance.bank_ledger_for(:b)", b=shop) == ledger
    second = b.scalar(conn, "INSERT INTO finance.ledger (name, group_id) SELECT 'SBI Current 0077', group_id "
                            "FROM finance.account_group WHERE name = 'Bank Accounts' RETURNING ledger_id")
    with b.refused(conn, "bank_account_receipts_key"):
        conn.execute(sa.text("INSERT INTO finance.bank_account (ledger_id, branch_id, bank_name, account_no, ifsc, "
                             "takes_receipts) VALUES (:l, :b, 'SBI', '30012345670077', 'SBIN0001234', true)"),
                     {"l": second, "b": shop})
