"""Expenses, the cash closing, bank statements and reconciliation, and closing months (/finance)."""
from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from .layout import LoggedIn


class Books(LoggedIn):
    """A books screen: the row of links to the others (expenses, cash closing, bank, months)."""

    def go_to(self, name: str) -> None:
        self.page.get_by_role("navigation", name="Expenses and bank").get_by_role("link", name=name).click()


class ExpenseList(Books):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", name=re.compile(r"^Expenses"))

    def new_expense(self) -> ExpenseForm:
        self.main.get_by_role("link", name="New expense").click()
        return ExpenseForm(self.page)


class ExpenseForm(Books):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", name=re.compile(r"^New expense"))
        self.amount = self.main.get_by_label("Taxable value (₹)")
        self.head = self.main.get_by_label("Expense head")
        self.bank = self.main.get_by_label("Bank account")

    def fill(self, *, head: str, supplier: str, gstin: str, bill_no: str, taxable: str, rate: str, paid_by: str,
             bank: str | None = None, ref: str | None = None, bill: Path | None = None) -> ExpenseForm:
        self.head.select_option(label=head)
        self.main.get_by_label("Supplier", exact=True).fill(supplier)
        self.main.get_by_label("Supplier's GSTIN").fill(gstin)
        self.main.get_by_label("Bill no.").fill(bill_no)
        self.amount.fill(taxable)
        self.main.get_by_label("GST rate").select_option(label=rate)
        self.main.get_by_label("Paid by").select_option(label=paid_by)
        if bank:
            self.bank.select_option(label=bank)
        if ref:
            self.main.get_by_label("UTR / UPI / cheque ref.").fill(ref)
        if bill:
            self.main.get_by_label("Bill (photo or PDF)").set_input_files(str(bill))
        return self

    def record(self) -> None:
        self.submit(self.main.get_by_role("button", name="Record and post"))


class ExpensePage(Books):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", name=re.compile(r"^Expense "))
        self.bill_link = self.main.get_by_role("link", name="bill.png")


class BankAccounts(Books):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", name=re.compile(r"^Bank accounts"))

    def import_statement(self) -> StatementImport:
        self.main.get_by_role("link", name="Import statement").first.click()
        return StatementImport(self.page)


class StatementImport(Books):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", name=re.compile(r"^Import a statement"))
        self.preview = self.main.get_by_role("heading", name=re.compile(r"^Preview"))
        self.problems = self.main.get_by_role("alert")
        self.rows = self.main.get_by_role("row")

    def read(self, file: Path) -> StatementImport:
        self.main.get_by_label("Statement file (CSV or XLSX)").set_input_files(str(file))
        self.submit(self.main.get_by_role("button", name="Read the file"))
        return self

    def import_lines(self, count: int) -> Reconciliation:
        self.submit(self.main.get_by_role("button", name=f"Import {count} lines"))
        return Reconciliation(self.page)


class Reconciliation(Books):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", name=re.compile(r"^Bank reconciliation"))
        self.unmatched = self.main.get_by_role("region", name="Statement lines not matched").or_(
            self.main.get_by_role("table").first)

    def line(self, narration: str):
        return self.main.get_by_role("row").filter(has_text=narration)

    def accept(self, narration: str) -> Reconciliation:
        self.submit(self.line(narration).get_by_role("button", name="Accept"))
        return Reconciliation(self.page)

    def make_expense(self, narration: str) -> ExpenseForm:
        self.line(narration).get_by_role("link", name="Make an expense").click()
        form = ExpenseForm(self.page)
        expect(form.heading).to_be_visible()
        return form


class CashClosing(Books):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", name=re.compile(r"^Cash book and closing"))

    def count(self, **counts: int) -> CashClosing:
        for label, n in counts.items():
            self.main.get_by_label(label, exact=True).fill(str(n))
        return self

    def close(self, remark: str | None = None) -> CashClosing:
        if remark is not None:
            self.main.get_by_label("Remark").fill(remark)
        self.submit(self.main.get_by_role("button", name="Close the day's cash"))
        return CashClosing(self.page)


class ClosingMonths(Books):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", name="Closing months in the books")

    def close(self, month_label: str) -> ClosingMonths:
        self.page.once("dialog", lambda dialog: dialog.accept())
        self.submit(self.main.get_by_role("button", name=f"Close {month_label}"))
        return ClosingMonths(self.page)

    def reopen(self, month_label: str, reason: str) -> ClosingMonths:
        self.main.get_by_text("Reopen…").first.click()  # the only closed month on the page
        self.main.get_by_label("Reason").first.fill(reason)
        self.submit(self.main.get_by_role("button", name=f"Reopen {month_label}"))
        return ClosingMonths(self.page)
