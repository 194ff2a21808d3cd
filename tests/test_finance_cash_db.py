"""The rules PostgreSQL holds for expenses, the cash closing, bank statements and their reconciliation
(sql/0048_finance_cash.sql, sql/0049_bank_statements.sql, sql/functions/98_finance_cash.sql), and the
statement reader for each bank's layout (webapp/finance/statement_file.py, tests/data/bank/)."""
from __future__ import annotations

import hashlib
import io
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import builders as b
import finance_cash_builders as fb
import pytest
import sqlalchemy as sa

from webapp.finance import bank_queries, cash_queries
from webapp.finance import statement_file as sf
from webapp.formatting import today_ist

DATA = Path(__file__).parent / "data" / "bank"
OTHER_STATE_GSTIN = b.make_gstin("27")   # Maharashtra; the builders' branches are in Karnataka (29)


@pytest.fixture
def shop(conn):
    branch_id = b.branch(conn, prefix="EXT")
    b.act_as(conn, b.staff(conn, branch_id, "ACCOUNTS"))
    return branch_id


def _commit_checks(conn) -> None:
    conn.execute(sa.text("SET CONSTRAINTS ALL IMMEDIATE"))


def _last_month() -> date:
    return (today_ist().replace(day=1) - timedelta(days=1)).replace(day=1)


def _voucher_lines(conn, expense_id: int) -> dict[str, tuple[Decimal, Decimal]]:
    rows = conn.execute(sa.text("""
        SELECT coalesce(l.system_key, l.name) AS k, vl.debit, vl.credit FROM finance.voucher v
          JOIN finance.voucher_line vl USING (voucher_id) JOIN finance.ledger l ON l.ledger_id = vl.ledger_id
         WHERE v.source_table = 'finance.expense' AND v.source_id = :e"""), {"e": expense_id}).all()
    return {r.k: (r.debit, r.credit) for r in rows}


# ----------------------------------------------------------------------------- expenses


def test_an_expense_with_gst_input_is_numbered_and_posts_a_balanced_payment(conn, shop):
    gstin = b.make_gstin("29")
    e = fb.expense(conn, shop, on=today_ist(), taxable="1000.00", head="EXP_REPAIRS", gstin=gstin, rate="18",
                   cgst="90.00", sgst="90.00")
    _commit_checks(conn)
    row = b.row(conn, "SELECT expense_no, total FROM finance.expense WHERE expense_id = :e", e=e)
    assert row["expense_no"].startswith("EXTEXP/") and row["total"] == Decimal("1180.00")
    assert _voucher_lines(conn, e) == {"EXP_REPAIRS": (Decimal("1000.00"), 0), "INPUT_CGST": (Decimal("90.00"), 0),
                                       "INPUT_SGST": (Decimal("90.00"), 0), "CASH": (0, Decimal("1180.00"))}
    assert b.scalar(conn, "SELECT voucher_type || ' ' || voucher_no FROM finance.voucher WHERE source_id = :e "
                          "AND source_table = 'finance.expense'", e=e) == "PAYMENT " + row["expense_no"]


def test_gst_not_eligible_for_credit_is_part_of_the_expense(conn, shop):
    e = fb.expense(conn, shop, on=today_ist(), taxable="500.00", head="EXP_FUEL", gstin=b.make_gstin("29"), rate="18",
                   cgst="45.00", sgst="45.00", eligible=False)
    _commit_checks(conn)
    assert _voucher_lines(conn, e) == {"EXP_FUEL": (Decimal("590.00"), 0), "CASH": (0, Decimal("590.00"))}


def test_gst_kind_follows_the_suppliers_state(conn, shop):
    bank = fb.bank_account(conn, shop)
    e = fb.expense(conn, shop, on=today_ist(), taxable="2000.00", gstin=OTHER_STATE_GSTIN, rate="18", igst="360.00",
                   mode="BANK", bank_ledger_id=bank)
    _commit_checks(conn)
    assert _voucher_lines(conn, e)["INPUT_IGST"] == (Decimal("360.00"), 0)
    assert b.scalar(conn, "SELECT count(*) FROM finance.itc_source WHERE source_table = 'finance.expense' "
                          "AND source_id = :e AND igst = 360", e=e) == 1
    with b.refused(conn, "expense_gst_by_state"):   # CGST + SGST from another state
        fb.expense(conn, shop, on=today_ist(), gstin=OTHER_STATE_GSTIN, rate="18", cgst="90.00", sgst="90.00")
    with b.refused(conn, "expense_gst_by_state"):   # IGST from the branch's own state
        fb.expense(conn, shop, on=today_ist(), gstin=b.make_gstin("29"), rate="18", igst="180.00")


@pytest.mark.parametrize("kwargs, constraint", [
    ({"gstin": "29ABCDE1234F1Z1"}, "expense_supplier_gstin_check"),                 # check character wrong
    ({"rate": "18", "cgst": "90.00", "sgst": "90.00"}, "expense_gst_needs_gstin"),
    ({"gstin": "GSTIN", "rate": "18", "cgst": "90.00", "sgst": "90.00"}, "expense_supplier_gstin_check"),
    ({"mode": "UPI"}, "expense_paid_from"),
    ({"head": "SALES_PARTS"}, "expense_head_is_expense"),
    ({"head": "ROUND_OFF"}, "expense_head_is_expense"),
    ({"taxable": "0"}, "expense_taxable_check"),
])
def test_an_expense_the_books_cannot_take_is_refused(conn, shop, kwargs, constraint):
    with b.refused(conn, constraint):
        fb.expense(conn, shop, on=today_ist(), **kwargs)


def test_upi_needs_its_reference_and_the_tax_must_match_the_rate(conn, shop):
    bank = fb.bank_account(conn, shop)
    with b.refused(conn, "expense_upi_reference"):
        fb.expense(conn, shop, on=today_ist(), mode="UPI", bank_ledger_id=bank)
    with b.refused(conn, "expense_tax_at_rate"):
        fb.expense(conn, shop, on=today_ist(), gstin=b.make_gstin("29"), rate="18", cgst="45.00", sgst="45.00")


def test_another_branchs_bank_cannot_pay_an_expense(conn, shop):
    other = b.branch(conn)
    with b.refused(conn, "expense_bank_of_branch"):
        fb.expense(conn, shop, on=today_ist(), mode="BANK", bank_ledger_id=fb.bank_account(conn, other))


def test_an_expense_without_its_voucher_is_refused_at_commit(conn, shop):
    with b.refused(conn, "expense_posted"):
        fb.expense(conn, shop, on=today_ist(), post=False)
        _commit_checks(conn)


def test_an_expense_is_permanent_and_not_dated_in_a_closed_month(conn, shop):
    e = fb.expense(conn, shop, on=today_ist())
    _commit_checks(conn)
    with b.refused(conn, sqlstate="23001"):
        conn.execute(sa.text("UPDATE finance.expense SET taxable = 1 WHERE expense_id = :e"), {"e": e})
    with b.refused(conn, sqlstate="23001"):
        conn.execute(sa.text("DELETE FROM finance.expense WHERE expense_id = :e"), {"e": e})
    conn.execute(sa.text("SELECT finance.close_month(:b, :m)"), {"b": shop, "m": _last_month()})
    with b.refused(conn, "period_closed"):
        fb.expense(conn, shop, on=_last_month() + timedelta(days=3))


def test_a_bill_keeps_its_checksum_and_is_a_photo_or_a_pdf(conn, shop):
    e = fb.expense(conn, shop, on=today_ist())
    data = fb.png_bytes()
    with b.refused(conn, "expense_bill_checksum"):
        conn.execute(sa.text("INSERT INTO finance.expense_bill (expense_id, file_name, content_type, data, sha256) "
                             "VALUES (:e, 'b.png', 'image/png', :d, :s)"), {"e": e, "d": data, "s": "0" * 64})
    with b.refused(conn, "expense_bill_content_type_check"):
        conn.execute(sa.text("INSERT INTO finance.expense_bill (expense_id, file_name, content_type, data, sha256) "
                             "VALUES (:e, 'b.txt', 'text/plain', :d, :s)"),
                     {"e": e, "d": b"hello", "s": hashlib.sha256(b"hello").hexdigest()})
    fb.bill(conn, e, data)
    with b.refused(conn, sqlstate="23001"):
        conn.execute(sa.text("DELETE FROM finance.expense_bill WHERE expense_id = :e"), {"e": e})


def test_gstr3b_input_credit_lists_the_gst_of_expenses_with_eligibility(conn, shop):
    gstin = b.make_gstin("29")
    fb.expense(conn, shop, on=today_ist(), gstin=gstin, rate="18", cgst="90.00", sgst="90.00")
    fb.expense(conn, shop, on=today_ist(), gstin=gstin, rate="5", cgst="25.00", sgst="25.00", eligible=False)
    fb.expense(conn, shop, on=today_ist())   # no GST: not in the view
    rows = conn.execute(sa.text("SELECT supplier_gstin, taxable_value, cgst, sgst, igst, eligible FROM finance.itc_source "
                                "WHERE branch_id = :b AND source_table = 'finance.expense' ORDER BY cgst DESC"),
                        {"b": shop}).all()
    assert [tuple(r) for r in rows] == [
        (gstin, Decimal("1000.00"), Decimal("90.00"), Decimal("90.00"), Decimal("0.00"), True),
        (gstin, Decimal("1000.00"), Decimal("25.00"), Decimal("25.00"), Decimal("0.00"), False)]


# ----------------------------------------------------------------------------- the cash closing


def _cash_in(conn, branch_id: int, on: date, amount: str) -> None:
    conn.execute(sa.text("SELECT finance.post_voucher(:b, 'RECEIPT', :on, NULL, 'cash', NULL, NULL, CAST(:l AS jsonb))"),
                 {"b": branch_id, "on": on, "l": f'[{{"ledger_id": {fb.ledger(conn, "CASH")}, "amount": {amount}}}, '
                                                  f'{{"ledger_id": {fb.ledger(conn, "SUSPENSE")}, "amount": -{amount}}}]'})


def test_the_cash_closing_takes_the_book_balance_and_a_difference_needs_a_remark(conn, shop):
    today = today_ist()
    _cash_in(conn, shop, today - timedelta(days=1), "5000.00")
    _cash_in(conn, shop, today, "2380.00")
    fb.expense(conn, shop, on=today, taxable="380.00")                       # paid in cash
    fb.expense(conn, b.branch(conn), on=today, taxable="99.00")              # another branch's cash
    counts = {"notes_500": 14, "notes_200": 2, "notes_100": 3}               # 7000 + 400 + 300 = 7700
    with b.refused(conn, "cash_closing_difference_explained"):
        cash_queries.insert_cash_closing(conn, branch_id=shop, on=today, counts={**counts, "coins_1": 0}, remark=None)
    closing_id = cash_queries.insert_cash_closing(conn, branch_id=shop, on=today, counts=counts,
                                                  remark="Short by 300: change given from the till")
    row = b.row(conn, "SELECT book_balance, counted_total, counted_total - book_balance AS diff "
                      "FROM finance.cash_closing WHERE closing_id = :c", c=closing_id)
    assert (row["book_balance"], row["counted_total"], row["diff"]) == (
        Decimal("7000.00"), Decimal("7700.00"), Decimal("700.00"))
    with b.refused(conn, "cash_closing_one_a_day"):
        cash_queries.insert_cash_closing(conn, branch_id=shop, on=today, counts=counts, remark="Counted again")
    with b.refused(conn, sqlstate="23001"):
        conn.execute(sa.text("UPDATE finance.cash_closing SET remark = 'changed later' WHERE closing_id = :c"),
                     {"c": closing_id})


def test_a_count_equal_to_the_books_needs_no_remark_and_the_book_balance_is_not_typed(conn, shop):
    yesterday = today_ist() - timedelta(days=1)
    _cash_in(conn, shop, yesterday, "1500.00")
    closing_id = b.scalar(conn, """INSERT INTO finance.cash_closing (branch_id, closing_date, notes_500, book_balance)
                                   VALUES (:b, :d, 3, 999999) RETURNING closing_id""", b=shop, d=yesterday)
    assert b.scalar(conn, "SELECT book_balance FROM finance.cash_closing WHERE closing_id = :c", c=closing_id) == 1500
    with b.refused(conn, "cash_closing_not_future"):
        cash_queries.insert_cash_closing(conn, branch_id=shop, on=today_ist() + timedelta(days=1), counts={}, remark=None)


# ----------------------------------------------------------------------------- statements and matching


@pytest.mark.parametrize("name, bank, header_row", [
    ("hdfc.csv", "HDFC", 6), ("icici.csv", "ICICI", 4), ("sbi.csv", "SBI", 9), ("axis.csv", "AXIS", 3),
    ("kotak.csv", "KOTAK", 5)])
def test_each_banks_layout_is_read_past_its_preamble_and_summary(name, bank, header_row):
    statement = sf.read_statement(sf.rows_from_upload(name, (DATA / name).read_bytes()))
    assert (statement.layout.bank_code, statement.header_row, statement.problems) == (bank, header_row, [])
    assert [(ln.txn_date, ln.withdrawal, ln.deposit, ln.balance) for ln in statement.lines[:3]] == [
        (date(2026, 12, 1), 0, Decimal("25000.00"), Decimal("125000.00")),
        (date(2026, 12, 2), Decimal("4720.00"), 0, Decimal("120280.00")),
        (date(2026, 12, 3), 0, Decimal("10000.00"), Decimal("130280.00"))]
    assert "634512345678" in statement.lines[0].narration


def test_an_xlsx_statement_is_read_like_its_csv():
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["DETAILED STATEMENT"])
    sheet.append([])
    sheet.append(["S No.", "Value Date", "Transaction Date", "Cheque Number", "Transaction Remarks",
                  "Withdrawal Amount (INR )", "Deposit Amount (INR )", "Balance (INR )"])
    sheet.append([1, date(2026, 12, 1), date(2026, 12, 1), "-", "UPI/634512345678/RAVI", 0, 25000, 125000.5])
    sheet.append([2, date(2026, 12, 2), date(2026, 12, 2), "451", "CLG/000451", 1200.25, 0, 123800.25])
    out = io.BytesIO()
    book.save(out)
    statement = sf.read_statement(sf.rows_from_upload("icici.xlsx", out.getvalue()))
    assert statement.layout.bank_code == "ICICI" and statement.problems == []
    assert [(ln.txn_date, ln.withdrawal, ln.deposit, ln.balance, ln.ref_no) for ln in statement.lines] == [
        (date(2026, 12, 1), 0, Decimal("25000.00"), Decimal("125000.50"), None),
        (date(2026, 12, 2), Decimal("1200.25"), 0, Decimal("123800.25"), "451")]


def test_an_unknown_layout_is_refused_with_what_was_found():
    with pytest.raises(sf.Unreadable) as refused:
        sf.read_statement(sf.rows_from_upload("unknown.csv", (DATA / "unknown.csv").read_bytes()))
    assert "not recognised" in str(refused.value) and "Name | Amount | When" in str(refused.value)
    with pytest.raises(sf.Unreadable, match=".csv or .xlsx"):
        sf.rows_from_upload("statement.pdf", b"%PDF-1.4")


def test_a_saved_layout_reads_a_file_whose_names_are_not_the_usual_ones():
    rows = sf.rows_from_text("Posted,Details,Out,In\n04/12/2026,IMPS 912345678901 SHARMA,,1500.00\n")
    with pytest.raises(sf.Unreadable):
        sf.read_statement(rows)
    saved = sf.Layout("OTHER", {"date": "Posted", "narration": "Details", "withdrawal": "Out", "deposit": "In",
                                "ref": None, "value_date": None, "balance": None})
    statement = sf.read_statement(rows, saved)
    assert [(ln.txn_date, ln.deposit) for ln in statement.lines] == [(date(2026, 12, 4), Decimal("1500.00"))]


@pytest.mark.parametrize("typed, amount", [("1,23,456.50", Decimal("123456.50")), ("500", Decimal("500.00")),
                                           ("", None), ("0.00", None), ("-", None), ("12,000.00 Cr", Decimal("12000.00")),
                                           ("abc", False)])
def test_amounts_as_banks_write_them(typed, amount):
    assert sf.parse_money(typed) == amount


def test_a_statement_file_and_its_lines_are_imported_once(conn, shop):
    bank = fb.bank_account(conn, shop)
    statement = sf.read_statement(sf.rows_from_upload("hdfc.csv", (DATA / "hdfc.csv").read_bytes()))
    sha = sf.file_sha256((DATA / "hdfc.csv").read_bytes())
    bank_queries.import_statement(conn, ledger_id=bank, branch_id=shop, file_name="hdfc.csv", sha256=sha,
                                  statement=statement)
    assert b.scalar(conn, "SELECT count(*) FROM finance.bank_line WHERE ledger_id = :l AND branch_id = :b",
                    l=bank, b=shop) == 4
    with b.refused(conn, "bank_statement_file_once"):
        bank_queries.import_statement(conn, ledger_id=bank, branch_id=shop, file_name="again.csv", sha256=sha,
                                      statement=statement)
    assert bank_queries.lines_already_imported(conn, bank, statement) == 4
    with b.refused(conn, "bank_line_already_imported"):   # the same lines in a file saved again (another checksum)
        bank_queries.import_statement(conn, ledger_id=bank, branch_id=shop, file_name="resaved.csv", sha256="a" * 64,
                                      statement=statement)
    with b.refused(conn, sqlstate="23001"):
        conn.execute(sa.text("DELETE FROM finance.bank_line WHERE ledger_id = :l"), {"l": bank})


def test_suggestions_prefer_the_reference_in_the_narration_then_the_nearest_date(conn, shop):
    today = today_ist()
    bank = fb.bank_account(conn, shop)
    near = fb.voucher_through_bank(conn, shop, bank, today - timedelta(days=1), "25000.00")
    by_reference = fb.expense(conn, shop, on=today - timedelta(days=12), taxable="4720.00", head="EXP_POWER",
                              mode="UPI", bank_ledger_id=bank, ref="634599990000")
    fb.voucher_through_bank(conn, shop, bank, today - timedelta(days=2), "4720.00", receipt=False)  # nearer, no reference
    far = fb.voucher_through_bank(conn, shop, bank, today - timedelta(days=20), "999.00")           # outside the window
    fb.statement(conn, bank, shop, [
        {"txn_date": today, "narration": "UPI-RAVI-634512345678", "deposit": "25000.00"},
        {"txn_date": today, "narration": "UPI/DR/634599990000/BESCOM", "withdrawal": "4720.00"},
        {"txn_date": today, "narration": "NEFT OLD", "deposit": "999.00"}])
    lines = {ln["narration"]: ln for ln in bank_queries.unmatched_lines(conn, bank)}
    expense_voucher = b.scalar(conn, "SELECT voucher_id FROM finance.voucher WHERE source_table = 'finance.expense' "
                                     "AND source_id = :e", e=by_reference)
    assert (lines["UPI-RAVI-634512345678"]["suggested_id"], lines["UPI-RAVI-634512345678"]["by_reference"]) == (near, False)
    assert (lines["UPI/DR/634599990000/BESCOM"]["suggested_id"], lines["UPI/DR/634599990000/BESCOM"]["by_reference"]) == (
        expense_voucher, True)
    assert lines["NEFT OLD"]["suggested_id"] is None
    assert far in {c["voucher_id"] for c in bank_queries.candidates(conn, lines["NEFT OLD"]["line_id"])}


def test_a_line_is_matched_once_to_one_voucher_of_its_amount_and_side(conn, shop):
    today = today_ist()
    bank = fb.bank_account(conn, shop)
    receipt = fb.voucher_through_bank(conn, shop, bank, today, "1000.00")
    payment = fb.voucher_through_bank(conn, shop, bank, today, "1000.00", receipt=False)
    fb.statement(conn, bank, shop, [{"txn_date": today, "narration": "IN", "deposit": "1000.00"},
                                    {"txn_date": today, "narration": "IN AGAIN", "deposit": "1000.00"}])
    first, second = b.scalar(conn, "SELECT array_agg(line_id ORDER BY row_no) FROM finance.bank_line WHERE ledger_id = :l",
                             l=bank)
    with b.refused(conn, "bank_match_amount"):   # a payment out is not a deposit
        bank_queries.match(conn, first, payment, "MANUAL")
    bank_queries.match(conn, first, receipt, "SUGGESTED")
    with b.refused(conn, "bank_match_voucher_once"):
        bank_queries.match(conn, second, receipt, "MANUAL")
    with b.refused(conn, "bank_match_pkey"):
        bank_queries.match(conn, first, receipt, "MANUAL")
    assert bank_queries.unmatch(conn, first)
    bank_queries.match(conn, second, receipt, "MANUAL")


def test_the_demo_statement_imports_and_every_line_but_the_charges_finds_its_voucher(conn, shop, tmp_path):
    from seed.finance_cash_demo import seed_bank_account, seed_finance_cash

    seed_bank_account(conn, {"BLR1": shop})
    path = seed_finance_cash(conn, {"BLR1": shop}, folder=tmp_path)
    _commit_checks(conn)
    bank = b.scalar(conn, "SELECT ledger_id FROM finance.bank_account WHERE branch_id = :b", b=shop)
    data = path.read_bytes()
    statement = sf.read_statement(sf.rows_from_upload(path.name, data))
    assert statement.layout.bank_code == "HDFC" and statement.problems == [] and len(statement.lines) == 5
    bank_queries.import_statement(conn, ledger_id=bank, branch_id=shop, file_name=path.name, sha256=sf.file_sha256(data),
                                  statement=statement)
    lines = bank_queries.unmatched_lines(conn, bank)
    unsuggested = [ln["narration"] for ln in lines if ln["suggested_id"] is None]
    assert unsuggested == ["CHRG: SMS ALERT CHARGES QTR INCL GST"]
    assert sum(ln["by_reference"] for ln in lines) == 3   # the rent, the AC service and the stationery by their UTR / UPI
    for ln in lines:
        if ln["suggested_id"]:
            bank_queries.match(conn, ln["line_id"], ln["suggested_id"], "SUGGESTED")
    assert bank_queries.unmatched_vouchers(conn, bank) == []
    closing = b.row(conn, "SELECT counted_total - book_balance AS diff, remark FROM finance.cash_closing WHERE branch_id = :b",
                    b=shop)
    assert closing["diff"] == Decimal("-10.00") and closing["remark"]
