"""Selling a vehicle (/sales): the lead (crm), the quotation with its on-road price, the booking, the sale
page with its steps, and the pipeline."""
from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from .billing import InvoiceForm, ReceiptPage
from .insurance import PolicyForm
from .layout import LoggedIn, detail, section


def literal(text: str) -> str:
    """Text as a regular expression Playwright passes on to the browser (where / ends a pattern)."""
    return re.escape(text).replace("/", r"\/")


class LeadForm(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", name="New lead")
        self.duplicates = self.main.locator("#duplicates")

    def fill(self, *, came_by: str, name: str, mobile: str, model: str) -> LeadForm:
        self.main.get_by_label("Came by").select_option(label=came_by)
        self.main.get_by_label("Name", exact=True).fill(name)
        self.main.get_by_label("Mobile").fill(mobile)
        self.main.get_by_label("Model of interest").select_option(label=model)
        return self

    def save(self) -> LeadPage:
        self.submit(self.main.get_by_role("button", name="Save lead"))
        return LeadPage(self.page)


class LeadPage(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", level=1)

    def quote_a_price(self) -> QuotationForm:
        self.main.get_by_role("link", name="Quote a price").click()
        form = QuotationForm(self.page)
        expect(form.heading).to_be_visible()
        return form


class Breakdown:
    """The on-road price table (the live preview on the forms, the saved quotation): the table whose
    row headers end with the on-road price."""

    def __init__(self, scope: Locator):
        self.table = scope.get_by_role("table").filter(
            has=scope.page.get_by_role("rowheader", name=re.compile(r"^On-road price")))

    def row(self, name: str) -> Locator:
        return self.table.get_by_role("row").filter(has=self.table.page.get_by_role(
            "rowheader", name=re.compile(rf"^{re.escape(name)}")))


class QuotationForm(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", name=re.compile(r"^Quotation for "))
        self.breakdown = Breakdown(self.main)

    def choose(self, vehicle: str) -> QuotationForm:
        self.main.get_by_label("Variant and colour").select_option(label=vehicle)
        return self

    def charge(self, label: str, amount: str) -> QuotationForm:
        """An on-road charge typed as at the counter; the breakdown follows (htmx)."""
        box = self.main.get_by_label(re.compile(rf"^{re.escape(label)}"))
        box.click()
        box.press_sequentially(amount, delay=20)
        return self

    def save(self) -> QuotationPage:
        self.submit(self.main.get_by_role("button", name="Save quotation"))
        return QuotationPage(self.page)


class QuotationPage(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", level=1)
        self.breakdown = Breakdown(self.main)

    def book(self) -> BookingForm:
        self.main.get_by_role("link", name="Book at this price").click()
        form = BookingForm(self.page)
        expect(form.heading).to_be_visible()
        return form


class BookingForm(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", name=re.compile(r"^New booking"))
        self.customers = self.main.get_by_role("radiogroup", name="Customer")
        self.advance = self.main.get_by_role("group", name="Advance taken now")

    def choose(self, vehicle: str) -> BookingForm:
        self.main.get_by_label("Variant and colour").select_option(label=vehicle)
        return self

    def customer(self, name: str) -> Locator:
        return self.customers.get_by_role("radio", name=re.compile(rf"^{re.escape(name)}"))

    def choose_customer(self, name: str) -> BookingForm:
        self.customers.get_by_role("radio", name=re.compile(rf"^{re.escape(name)}")).check()
        return self

    def take_advance(self, amount: str, paid_by: str, reference: str) -> BookingForm:
        self.advance.get_by_label("Advance taken now (₹)").fill(amount)
        self.advance.get_by_label("Paid by").select_option(label=paid_by)
        self.advance.get_by_label("UTR / cheque no. / card slip").fill(reference)
        return self

    def book(self) -> SalePage:
        self.submit(self.main.get_by_role("button", name="Book", exact=True))
        return SalePage(self.page)


class SalePage(LoggedIn):
    """A sale's page: the booking, what is pending, the steps, the money and the insurance panels."""

    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", name=re.compile(r"^Booking "), level=1)
        # CSS: the stage is a bare <span class="badge stage"> beside the heading, with no label or role
        # (templates/sales/booking_detail.html).
        self.stage = self.main.locator(".page-head .badge.stage")
        self.pending = self.main.get_by_role("region", name=re.compile(r"^What is pending"))
        self.steps = section(self.main, "Steps")  # no accessible name (templates/sales/_steps.html)
        self.money = self.main.get_by_role("region", name="Money")
        self.receipts = self.money.get_by_role("table")
        self.to_pay = detail(self.money, "To pay by the customer")  # the balance due from the customer
        self.insurance = self.main.get_by_role("region", name="Insurance")

    def open_step(self, link: str, heading: str) -> LoggedIn:
        self.steps.get_by_role("link", name=link).click()
        step = LoggedIn(self.page)
        expect(step.main.get_by_role("heading", level=1, name=re.compile(rf"^{re.escape(heading)}"))).to_be_visible()
        return step

    def allot(self) -> AllotPage:
        self.open_step("Allot a unit", "Allot a unit")
        return AllotPage(self.page)

    def pdi(self) -> PdiChecklistPage:
        self.open_step("PDI checklist", "Pre-delivery inspection")
        return PdiChecklistPage(self.page)

    def post_invoice(self) -> InvoiceForm:
        self.money.get_by_role("link", name="Post invoice").click()
        form = InvoiceForm(self.page)
        expect(form.heading).to_be_visible()
        return form

    def payment_form(self, link: Locator) -> Locator:
        """A payment button loads the receipt form into the money panel (htmx, no page load).
        CSS: the <form> has no accessible name (templates/billing/_receipt_form.html), so no role
        'form'; it is the form under the heading "Take a payment"."""
        link.click()
        form = self.money.locator("form").filter(
            has=self.page.get_by_role("heading", name=re.compile(r"^Take a payment")))
        expect(form.get_by_role("heading", name=re.compile(r"^Take a payment"))).to_be_visible()
        return form

    def post_receipt(self, form: Locator) -> ReceiptPage:
        self.submit(form.get_by_role("button", name="Post the receipt"))
        return ReceiptPage(self.page)

    def record_policy(self) -> PolicyForm:
        self.insurance.get_by_role("link", name="Record the insurance policy").click()
        form = PolicyForm(self.page)
        expect(form.heading).to_be_visible()
        return form

    def save_step(self) -> SalePage:
        self.submit(self.main.get_by_role("button", name="Save"))
        return SalePage(self.page)


class AllotPage(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.units = self.main.get_by_role("radio")

    def unit(self, vin: str) -> Locator:
        return self.main.get_by_role("radio", name=re.compile(rf"^{vin}"))

    def allot(self) -> SalePage:
        self.submit(self.main.get_by_role("button", name="Allot this unit"))
        return SalePage(self.page)


class PdiChecklistPage(LoggedIn):
    """The pre-delivery inspection: one row per check, answered OK or Fault."""

    def __init__(self, page: Page):
        super().__init__(page)
        self.checks = self.main.get_by_role("table").get_by_role("row").filter(has=page.get_by_role("cell"))
        self.save_button = page.get_by_role("button", name="Save the checklist")

    @staticmethod
    def answer(check: Locator, answer: str) -> Locator:
        """The radio button of an answer ('OK', 'Fault') of a check."""
        return check.get_by_label(answer, exact=True)

    @staticmethod
    def answer_button(check: Locator, answer: str) -> Locator:
        """What a finger taps for an answer: the label around the radio button, found by its text."""
        return check.get_by_text(answer, exact=True)


class PipelinePage(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", name=re.compile(r"^Booking pipeline"), level=1)

    def column(self, title: str) -> Locator:
        return self.main.get_by_role("region", name=re.compile(rf"^{re.escape(title)}\b"))

    def card(self, column: str, booking_no: str) -> Locator:
        return self.column(column).get_by_role("link", name=re.compile(rf"^{literal(booking_no)} · "))

    def open_sale(self, column: str, booking_no: str) -> SalePage:
        self.card(column, booking_no).click()
        sale = SalePage(self.page)
        expect(sale.heading).to_contain_text(f"Booking {booking_no}")
        return sale
