"""The books in a real browser: the accountant keys a journal on a 768 px tablet (a line added with htmx,
the voucher refused while it does not balance, then posted), finds it in the day book and the ledger, and
reads the trial balance, the P&L and the balance sheet. Every books screen is photographed at 768x1024 and
1366x768 (into $BOOKS_SCREENSHOTS when set, else the test's temporary folder) and must not scroll sideways."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from webapp.finance import api
from webapp.formatting import today_ist

from .pages.auth import LoginPage
from .pages.books import BooksPage
from .pages.layout import screens_too_wide

pytestmark = pytest.mark.browser

TABLET = {"width": 768, "height": 1024}


def _seed(engine, branch: int) -> dict:
    from decimal import Decimal as D

    today = today_ist()
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE finance.ledger SET opening_balance = 250000 WHERE system_key = 'CASH'"))
        conn.execute(sa.text("UPDATE finance.ledger SET opening_balance = -250000 WHERE system_key = 'CAPITAL'"))
        key = api.ledger_key
        sale = api.post_voucher(conn, branch_id=branch, voucher_type="SALES", on=today, narration="Counter sale",
                                lines=[api.Line(key(conn, "CASH"), D("11800")), api.Line(key(conn, "SALES_PARTS"), D("-10000")),
                                       api.Line(key(conn, "OUTPUT_CGST"), D("-900")),
                                       api.Line(key(conn, "OUTPUT_SGST"), D("-900"))])
        api.post_voucher(conn, branch_id=branch, voucher_type="SALES", on=today, narration="Scooter sold",
                         lines=[api.Line(key(conn, "BANK"), D("129800")), api.Line(key(conn, "SALES_VEHICLE"), D("-110000")),
                                api.Line(key(conn, "OUTPUT_CGST"), D("-9900")),
                                api.Line(key(conn, "OUTPUT_SGST"), D("-9900"))])
        api.post_voucher(conn, branch_id=branch, voucher_type="PURCHASE", on=today, narration="Spares from the OEM",
                         lines=[api.Line(key(conn, "PURCHASE_PARTS"), D("6000")),
                                api.Line(key(conn, "INPUT_CGST"), D("540")), api.Line(key(conn, "INPUT_SGST"), D("540")),
                                api.Line(key(conn, "BANK"), D("-7080"))])
        cash = key(conn, "CASH")
        sundry = conn.execute(sa.text("SELECT group_id FROM finance.account_group WHERE name = 'Sundry Debtors'")).scalar()
    return {"sale": sale, "cash": cash, "sundry": sundry}


def test_the_accountant_keys_a_journal_and_reads_the_books(new_page, engine, make_staff, make_branch, tmp_path):
    branch = make_branch()
    make_staff("AC01", "ACCOUNTS", "482913", name="Kavya Hegde", branch_id=branch)
    ids = _seed(engine, branch)

    page = new_page(viewport=TABLET, has_touch=True)
    LoginPage.open(page).log_in("AC01", "482913")
    page.goto("/finance/journal/new")
    page.get_by_label("Narration").fill("Electricity bill paid in cash")
    page.get_by_label("Ledger, line 1").select_option(label="Round Off (Indirect Expenses)")
    page.get_by_label("Debit, line 1").fill("1,500")
    page.get_by_label("Ledger, line 2").select_option(label="Cash (Cash-in-Hand)")
    page.get_by_label("Credit, line 2").fill("1,000")
    page.get_by_role("button", name="Add a line").click()
    expect(page.get_by_label("Ledger, line 5")).to_be_visible()
    page.get_by_role("button", name="Post the voucher").click()
    expect(page.get_by_role("alert")).to_contain_text("Debits and credits must be equal")
    expect(page.get_by_label("Debit, line 1")).to_have_value("1,500")
    page.get_by_label("Ledger, line 5").select_option(label="Cash (Cash-in-Hand)")
    page.get_by_label("Credit, line 5").fill("500")
    page.get_by_role("button", name="Post the voucher").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Journal voucher")
    books = BooksPage(page)
    expect(books.main).to_contain_text("Electricity bill paid in cash")

    page.get_by_role("link", name=f"Day book of {today_ist():%d-%m-%Y}").click()
    expect(books.main).to_contain_text("Electricity bill paid in cash")
    page.goto("/finance/trial-balance")
    expect(books.totals).to_contain_text("₹1,50,180.00")   # debits = credits

    folder = Path(os.environ.get("BOOKS_SCREENSHOTS") or tmp_path)
    with engine.connect() as conn:
        journal = conn.execute(sa.text("SELECT max(voucher_id) FROM finance.voucher")).scalar()
    screens = {"trial-balance": "/finance/trial-balance", "trial-balance-group":
               f"/finance/trial-balance?group={ids['sundry']}", "profit-and-loss": "/finance/profit-and-loss",
               "balance-sheet": "/finance/balance-sheet", "day-book": "/finance/day-book",
               "cash-book": "/finance/cash-book", "bank-book": "/finance/bank-book",
               "ledger": f"/finance/ledgers/{ids['cash']}", "voucher": f"/finance/vouchers/{journal}",
               "journal": "/finance/journal/new", "contra": "/finance/journal/new?type=CONTRA",
               "chart": "/finance/accounts", "ledger-new": "/finance/accounts/ledgers/new",
               "group-new": "/finance/accounts/groups/new", "bank-new": "/finance/accounts/banks/new"}
    assert screens_too_wide(page, screens, folder, "books") == []
