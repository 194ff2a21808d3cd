"""Billing (/billing): the vehicle tax invoice, the service invoice, receipts, the sales register, the counter
sale."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from playwright.sync_api import Locator, Page, expect

from .layout import LoggedIn, table_cells

if TYPE_CHECKING:
    from .sales import SalePage


def _back_to_sale(page: Page, link: Locator) -> SalePage:
    from .sales import SalePage

    link.click()
    sale = SalePage(page)
    expect(sale.heading).to_be_visible()
    return sale


class InvoiceForm(LoggedIn):
    """A booking's tax invoice before it is posted: its lines and, apart from them, its totals."""

    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", name=re.compile(r"^Tax invoice for booking "))
        self.lines = self.main.get_by_role("table").filter(
            has=page.get_by_role("columnheader", name="Description", exact=True))
        self.totals = self.main.get_by_role("table", name="Invoice totals")

    @classmethod
    def open(cls, page: Page, booking_id: int) -> InvoiceForm:
        page.goto(f"/billing/bookings/{booking_id}/invoice")
        return cls(page)

    def total_row(self, text: str | re.Pattern) -> Locator:
        return self.main.get_by_role("row", name=text)

    def post(self) -> InvoicePage:
        self.submit(self.main.get_by_role("button", name="Post the tax invoice"))
        return InvoicePage(self.page)


class InvoicePage(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", name=re.compile(r"^Tax invoice "), level=1)
        self.print_link = self.main.get_by_role("link", name="Print", exact=True)

    def back_to_sale(self) -> SalePage:
        return _back_to_sale(self.page, self.main.get_by_role("link", name="Back to the sale").first)


class ServiceInvoicePage(LoggedIn):
    """A posted service invoice: the invoice as printed, its lines in groups (paid by the customer, under
    warranty, free service) and its totals, and the button to take the customer's payment."""

    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", name=re.compile(r"^Service invoice "), level=1)
        self.sheet = self.main.get_by_role("region", name="Service invoice as printed")
        self.totals = self.sheet.get_by_role("table", name="Invoice totals")
        self.take_payment = self.main.get_by_role("link", name="Take a payment")

    @classmethod
    def open(cls, page: Page, invoice_id: int) -> ServiceInvoicePage:
        page.goto(f"/billing/invoices/{invoice_id}")
        return cls(page)

    def group(self, title: str) -> Locator:
        """The heading of a group of lines, e.g. group('Paid by the customer')."""
        return self.sheet.get_by_role("columnheader", name=title)

    def total(self, name: str) -> Locator:
        """The name of a line of the totals, e.g. total('Invoice total')."""
        return self.totals.get_by_role("cell", name=name)


class ReceiptPage(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", name=re.compile(r"^Receipt "), level=1)

    def back_to_sale(self) -> SalePage:
        return _back_to_sale(self.page, self.main.get_by_role("link", name="Back to the sale"))


class SalesRegisterPage(LoggedIn):
    """Billing > Sales register: invoices and credit notes in one wide table."""

    def __init__(self, page: Page):
        super().__init__(page)
        self.table = self.main.get_by_role("table")
        # CSS: the box the table scrolls in is a plain <div class="table-scroll"> with no role or name.
        self.scroll_box = self.main.locator(".table-scroll")

    @classmethod
    def open(cls, page: Page) -> SalesRegisterPage:
        page.goto("/billing/registers/sales")
        return cls(page)

    def column(self, name: str) -> Locator:
        return self.table.get_by_role("columnheader", name=name, exact=True)

    @property
    def cells(self) -> Locator:
        return table_cells(self.table)

    def hidden_width(self) -> int:
        """How much of the table its scrolling box hides sideways (0: it all fits)."""
        return self.scroll_box.evaluate("box => box.scrollWidth - box.clientWidth")


class CounterSalePage(LoggedIn):
    """Billing > Counter sale: part rows, then a preview of the totals."""

    def __init__(self, page: Page):
        super().__init__(page)
        self.preview_button = self.main.get_by_role("button", name="Preview the totals")
        self.totals = self.main.get_by_role("table", name="Counter sale totals")
        self.grand_total = self.main.get_by_role("row", name=re.compile(r"^Total ₹"))

    @classmethod
    def open(cls, page: Page) -> CounterSalePage:
        page.goto("/billing/counter-sale")
        return cls(page)

    def part_no(self, row: int) -> Locator:
        return self.main.get_by_role("textbox", name=re.compile(rf"^Part no.* row {row}\b"))

    def quantity(self, row: int) -> Locator:
        return self.main.get_by_role("textbox", name=f"Quantity of row {row}")
