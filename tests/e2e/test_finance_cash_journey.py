"""The books' month end in a real browser, on a 768 px tablet: accounts records an AC service bill with GST
input paid by UPI (the bill photographed), imports the bank's statement (HDFC's CSV as net banking gives
it), accepts the suggested matches, makes the bank's SMS charges an expense from their line, finds the
same file refused a second time, counts the day's cash, closes last month and downloads its GSTR-1 JSON;
the manager reopens it with a reason. Each screen is photographed at 768x1024 and 1366x768 (into $H28_SCREENSHOTS when set,
else the test's folder) and none scrolls sideways."""
from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import builders as b
import finance_cash_builders as fb
import pytest
from playwright.sync_api import expect

from webapp.formatting import today_ist

from .pages.auth import LoginPage
from .pages.finance_cash import (
    BankAccounts,
    CashClosing,
    ClosingMonths,
    ExpenseList,
    ExpensePage,
    Reconciliation,
    StatementImport,
)
from .pages.finance_returns import GstReturnPage
from .pages.layout import no_sideways_scroll, screens_too_wide, this_screen_too_wide

pytestmark = pytest.mark.browser

TABLET = {"width": 768, "height": 1024}
UPI_REF = "634512398765"


def _statement(folder: Path, today) -> Path:
    """HDFC's CSV of the last days: the customer's UPI payment in, the AC service paid out, the SMS charges."""
    d = f"{today:%d/%m/%y}"
    path = folder / "Acct_Statement_XX4521.csv"
    path.write_text("\n".join([
        "HDFC BANK Ltd.,,,,,,", "Statement of account,,,,,,", ",,,,,,",
        "Date,Narration,Chq./Ref.No.,Value Dt,Withdrawal Amt.,Deposit Amt.,Closing Balance",
        "********,********,********,********,********,********,********",
        f'{d},UPI-MEERA KRISHNAN-634500011122-SCOOTER,0000634500011122,{d},,"25,000.00","1,25,000.00"',
        f'{d},UPI-COOL AIR SERVICES-{UPI_REF}-PAYMENT,0000{UPI_REF},{d},"4,130.00",,"1,20,870.00"',
        f'{d},CHRG: SMS ALERT CHARGES QTR,0000000000000000,{d},17.70,,"1,20,852.30"',
    ]) + "\n", encoding="utf-8")
    return path


def test_expense_with_gst_statement_import_reconcile_close_the_month_and_download_gstr1(new_page, console, engine, make_branch,
                                                                         make_staff, tmp_path):
    branch = make_branch(invoice_prefix="BLR")
    make_staff("ACC1", "ACCOUNTS", "4826", name="Lakshmi Iyer", branch_id=branch)
    make_staff("MGR1", "MANAGER", "5937", name="Kavitha Rao", branch_id=branch)
    today = today_ist()
    with engine.begin() as conn:
        bank = fb.bank_account(conn, branch, bank="HDFC Bank")
        fb.voucher_through_bank(conn, branch, bank, today - timedelta(days=1), "25000.00",
                                narration="Advance from Meera Krishnan, UPI 634500011122")
        account_no = b.scalar(conn, "SELECT account_no FROM finance.bank_account WHERE ledger_id = :l", l=bank)
        bank_charges = b.scalar(conn, "SELECT finance.ledger_key('EXP_BANK_CHARGES')")
    folder = Path(os.environ.get("H28_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    bill = tmp_path / "bill.png"
    bill.write_bytes(fb.png_bytes("white"))
    page = new_page(viewport=TABLET, has_touch=True)

    # Accounts records the AC service bill: a Karnataka supplier, 18 % GST taken as input credit, paid by UPI.
    LoginPage.open(page).log_in("ACC1", "4826").open_module("Expenses")
    expenses = ExpenseList(page)
    expect(expenses.heading).to_be_visible()
    form = expenses.new_expense()
    expect(form.heading).to_be_visible()
    form.fill(head="Repairs and Maintenance", supplier="Cool Air Services", gstin=b.make_gstin("29"),
              bill_no="CAS/1187", taxable="3,500", rate="18%", paid_by="UPI",
              bank=f"HDFC Bank ·{account_no[-4:]}", ref=UPI_REF, bill=bill)
    assert this_screen_too_wide(page, folder, "h28-expense-form") == []
    form.record()
    expense = ExpensePage(page)
    expect(expense.flash).to_contain_text("Expense recorded and posted.")
    expect(expense.main).to_contain_text("Taken as credit")
    expect(expense.main).to_contain_text("₹315.00 + ₹315.00")
    expect(expense.main).to_contain_text("₹4,130.00")
    expect(expense.bill_link).to_be_visible()
    expense_url = page.url

    # The statement: read, previewed, imported; the columns remembered for the account.
    expense.open_module("Expenses")
    ExpenseList(page).go_to("Bank reconciliation")
    accounts = BankAccounts(page)
    expect(accounts.heading).to_be_visible()
    statement = accounts.import_statement().read(_statement(tmp_path, today))
    expect(statement.preview).to_contain_text("3 lines")
    expect(statement.main).to_contain_text("UPI-COOL AIR SERVICES")
    assert this_screen_too_wide(page, folder, "h28-statement-preview") == []
    reconcile = statement.import_lines(3)
    expect(reconcile.flash).to_contain_text("3 statement lines imported")

    # The customer's UPI payment and the AC service are suggested; the service by its UPI reference.
    expect(reconcile.line("UPI-COOL AIR SERVICES")).to_contain_text("Reference found")
    expect(reconcile.line("UPI-MEERA KRISHNAN")).to_contain_text("Amount and date")
    assert this_screen_too_wide(page, folder, "h28-reconcile-suggestions") == []
    reconcile = reconcile.accept("UPI-COOL AIR SERVICES").accept("UPI-MEERA KRISHNAN")
    expect(reconcile.flash).to_contain_text("Line matched.")

    # The SMS charges are not in the books yet: an expense is made from their line, and matched with it.
    charges = reconcile.make_expense("CHRG: SMS ALERT CHARGES")
    expect(charges.amount).to_have_value("17.70")
    expect(charges.head).to_have_value(str(bank_charges))
    charges.record()
    reconcile = Reconciliation(page)
    expect(reconcile.flash).to_contain_text("Expense recorded and posted.")
    expect(reconcile.main).to_contain_text("Every imported line is matched.")
    expect(reconcile.main).to_contain_text("Expense made from the line")

    # The same file again is refused, saying why; nothing is imported twice.
    reconcile.main.get_by_role("link", name="Import statement").click()
    statement = StatementImport(page).read(_statement(tmp_path, today))
    expect(statement.problems).to_contain_text("This file was imported already")
    expect(statement.main.get_by_role("button", name="Import 3 lines")).to_have_count(0)

    # The day's cash: the books hold none at this branch today, so a count of 100 needs its reason.
    statement.open_module("Expenses")
    ExpenseList(page).go_to("Cash closing")
    cash = CashClosing(page)
    cash = cash.count(**{"₹100 notes": 1}).close()
    expect(cash.main).to_contain_text("say why in the remark")
    cash = cash.close("Float of 100 from the owner, not yet in the books")
    expect(cash.flash).to_contain_text("Cash closed for")

    # Last month is closed by accounts; the manager reopens it with a reason.
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    cash.go_to("Closing months")
    months = ClosingMonths(page).close(f"{last_month:%b %Y}")
    expect(months.flash).to_contain_text(f"{last_month:%B %Y} is closed")
    # The closed month's GSTR-1, downloaded as the portal's offline tool takes it.
    months.open_module("GST returns")
    with engine.connect() as conn:
        gstin = b.scalar(conn, "SELECT gstin FROM master.branch WHERE branch_id = :b", b=branch)
    gstr1 = GstReturnPage.open(page, "GSTR-1", gstin, f"{last_month:%m%Y}")
    expect(gstr1.heading).to_be_visible()
    with page.expect_download() as got:
        gstr1.download_json.click()
    assert got.value.suggested_filename == f"GSTR1_{gstin}_{last_month:%m%Y}.json"
    returned = json.loads(Path(got.value.path()).read_text(encoding="utf-8"))
    assert (returned["gstin"], returned["fp"]) == (gstin, f"{last_month:%m%Y}")
    assert screens_too_wide(page, {
        "expenses": "/finance/expenses", "expense": expense_url,
        "cash": "/finance/cash", "bank": "/finance/bank", "reconcile": f"/finance/bank/{bank}/reconcile",
        "months": "/finance/months"}, folder, "h28") == []
    page.set_viewport_size(TABLET)
    ClosingMonths(page).log_out().log_in("MGR1", "5937").open_module("Expenses")
    ExpenseList(page).go_to("Closing months")
    months = ClosingMonths(page).reopen(f"{last_month:%b %Y}", "The rent bill of the month came late")
    expect(months.flash).to_contain_text(f"{last_month:%B %Y} is reopened")
    expect(months.main).to_contain_text("The rent bill of the month came late")
    assert no_sideways_scroll(page) <= 0
    console.assert_clean()
