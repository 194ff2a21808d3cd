"""The service workshop (/service): arrival, registering a vehicle sold elsewhere, the job card and
its form, battery readings, the inspection checklist, the workshop board and a vehicle's history."""
from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from .layout import LoggedIn, detail


class ArrivalPage(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", name="Service arrival")
        self.search_box = self.main.get_by_role("searchbox", name="Find the vehicle")

    @classmethod
    def open(cls, page: Page) -> ArrivalPage:
        page.goto("/service/")
        return cls(page)

    def find(self, typed: str) -> ArrivalPage:
        """Type into the one search box; the results come in as it is typed (htmx)."""
        self.search_box.fill(typed)
        return self

    def vehicle(self, registration: str) -> Locator:
        """A found vehicle's card, by its registration number (its heading links to its history)."""
        return self.main.get_by_role("region", name=re.compile(rf"^{re.escape(registration)}\b"))

    def open_job_card(self, registration: str) -> JobCardForm:
        self.vehicle(registration).get_by_role("link", name="Open a job card").click()
        form = JobCardForm(self.page)
        expect(form.heading).to_be_visible()
        return form


class VehicleForm(LoggedIn):
    """A vehicle sold elsewhere, registered for the workshop."""

    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", name="Register a vehicle sold elsewhere")

    def fill(self, *, owner: str, mobile: str, registration: str, variant: str, vin: str, motor_no: str,
             pack_serial: str, sold_on: str) -> VehicleForm:
        self.main.get_by_label("Owner's name").fill(owner)
        self.main.get_by_label("Owner's mobile").fill(mobile)
        self.main.get_by_label("Registration no.").fill(registration)
        self.main.get_by_label("Model and variant").select_option(label=variant)
        self.main.get_by_label("VIN (chassis no.)").fill(vin)
        self.main.get_by_label("Motor no.").fill(motor_no)
        self.main.get_by_label("Battery pack serial").fill(pack_serial)
        self.main.get_by_label("Sold on").fill(sold_on)
        return self

    def register(self) -> VehiclePage:
        self.submit(self.main.get_by_role("button", name="Register"))
        return VehiclePage(self.page)


class JobCardForm(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", name=re.compile(r"^(New job card|Job card )"))
        self.odometer = self.main.get_by_label("Odometer (km)")

    def fill(self, *, service_type: str, odometer: str, complaints: str, promised: str = "",
             free_service_no: str = "") -> JobCardForm:
        self.main.get_by_label("Service type").select_option(label=service_type)
        if free_service_no:
            self.main.get_by_label("Free service no.").fill(free_service_no)
        self.odometer.fill(odometer)
        self.main.get_by_label("Complaints, in the customer's words").fill(complaints)
        if promised:
            self.main.get_by_label("Promised for").fill(promised)
        return self

    def error_of(self, label: str) -> Locator:
        """The message under a field (its aria-describedby block)."""
        return self.main.get_by_label(label).locator("xpath=following-sibling::div[1]")

    def open(self) -> JobCardPage:
        self.submit(self.main.get_by_role("button", name="Open the job card"))
        return JobCardPage(self.page)


class JobCardPage(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", name=re.compile(r"^Job card "), level=1)
        self.readings = self.main.get_by_role("table").filter(has=page.get_by_role("columnheader", name="SoH %"))
        # CSS: the card's state badge has no role or accessible name (templates/service/job_card_detail.html).
        self.state = self.main.locator(".page-head .badge")
        self.bill_link = self.main.get_by_role("link", name="Bill and gate pass")

    def detail(self, term: str) -> Locator:
        return detail(self.main, term)

    def record_reading(self) -> ReadingForm:
        self.main.get_by_role("link", name="Record a reading").click()
        form = ReadingForm(self.page)
        expect(form.heading).to_be_visible()
        return form

    def fill_checklist(self) -> ChecklistPage:
        self.main.get_by_role("link", name="Fill in the checklist").click()
        checklist = ChecklistPage(self.page)
        expect(checklist.heading).to_be_visible()
        return checklist

    def move(self, to: str) -> JobCardPage:
        self.submit(self.main.get_by_role("button", name=to, exact=True))
        return JobCardPage(self.page)


class ReadingForm(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", name=re.compile(r"^Battery reading"), level=1)

    def fill(self, **values: str) -> ReadingForm:
        """Values by label: soh, soc, cycles, cell_max, cell_min, temperature, insulation, faults, charger."""
        labels = {"soh": "State of health (%)", "soc": "State of charge (%)", "cycles": "Cycle count",
                  "cell_max": "Highest cell voltage (V)", "cell_min": "Lowest cell voltage (V)",
                  "temperature": "Highest pack temperature (°C)", "insulation": "Insulation resistance (MΩ)",
                  "faults": "BMS fault codes"}
        for key, value in values.items():
            if key == "charger":
                self.main.get_by_label("Charger check").select_option(label=value)
            else:
                self.main.get_by_label(labels[key]).fill(value)
        return self

    def error_of(self, label: str) -> Locator:
        return self.main.get_by_label(label).locator("xpath=following-sibling::div[1]")

    def save(self) -> JobCardPage:
        self.submit(self.main.get_by_role("button", name="Save the reading"))
        return JobCardPage(self.page)

    def save_refused(self) -> ReadingForm:
        self.submit(self.main.get_by_role("button", name="Save the reading"))
        return self


class ChecklistPage(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", name=re.compile(r"^Inspection"), level=1)

    def answer(self, item: str, result: str, remark: str = "") -> ChecklistPage:
        """result: 'OK' or 'Not OK'. The item's row is found by its row header."""
        row = self.main.get_by_role("row").filter(has=self.page.get_by_role("rowheader", name=item, exact=True))
        row.get_by_role("radio", name=result, exact=True).check()
        if remark:
            row.get_by_role("textbox", name=f"Remark on {item}").fill(remark)
        return self

    def save(self) -> JobCardPage:
        self.submit(self.main.get_by_role("button", name="Save the checklist"))
        return JobCardPage(self.page)


class BoardPage(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", name=re.compile(r"^Workshop board"), level=1)

    @classmethod
    def open(cls, page: Page, mine: bool = False) -> BoardPage:
        page.goto("/service/board" + ("?mine=1" if mine else ""))
        return cls(page)

    def column(self, state: str) -> Locator:
        """A state's column, e.g. column('In progress') (its heading also shows the count)."""
        return self.main.get_by_role("region", name=re.compile(rf"^{re.escape(state)} \d+$"))

    def card(self, registration: str) -> Locator:
        return self.main.get_by_role("article").filter(has_text=registration)

    def move(self, registration: str, to: str) -> BoardPage:
        """Tap a card's button for its next state; the board is redrawn in place (htmx)."""
        self.card(registration).get_by_role("button", name=f"{to} ›").click()
        return self


class VehiclePage(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", level=1)
        self.soh_charts = self.main.get_by_role("img", name=re.compile(r"^State of health of pack"))
        self.next_service = detail(self.main, "Next service due")
        self.history = self.main.get_by_role("list").filter(has_text=re.compile(r"Job card|Pack fitted"))

    @classmethod
    def open(cls, page: Page, vehicle_id: int) -> VehiclePage:
        page.goto(f"/service/vehicles/{vehicle_id}")
        return cls(page)

    def open_job_card(self) -> JobCardForm:
        self.main.get_by_role("link", name="Open a job card").click()
        form = JobCardForm(self.page)
        expect(form.heading).to_be_visible()
        return form


class BillPage(LoggedIn):
    """A job card's bill: what it bills, "Make the invoice", the invoice's balance, the gate pass."""

    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", name=re.compile(r"^Bill "), level=1)
        self.invoice = self.main.locator("#invoice")
        # The card's earlier bills, each with the credit note that reversed it (a section with no heading of its own).
        self.earlier_bills = self.main.locator("#earlier-bills")
        # CSS: the footer rows of the lines' table (its totals) have no name of their own (templates/service/bill.html).
        self.lines_totals = self.main.locator("table tfoot")
        self.gate_pass_waits = self.main.get_by_text(re.compile(r"^Issued once the bill is paid in full"))
        self.make_invoice_button = self.main.get_by_role("button", name="Make the invoice")
        self.gate_pass_button = self.main.get_by_role("button", name="Issue the gate pass")

    @classmethod
    def open(cls, page: Page, job_card_id: int) -> BillPage:
        page.goto(f"/service/job-cards/{job_card_id}/bill")
        return cls(page)

    def make_invoice(self) -> BillPage:
        self.submit(self.main.get_by_role("button", name="Make the invoice"))
        expect(self.flash).to_contain_text("Invoice made")
        return BillPage(self.page)

    def take_payment(self, *, mode: str, reference: str = "") -> None:
        """The receipt screen of billing, for what is owed; back at the invoice when posted."""
        self.main.get_by_role("link", name=re.compile(r"^Take the payment")).click()
        self.main.get_by_label("Mode").select_option(mode)
        if reference:
            self.main.get_by_label("Reference").fill(reference)
        self.submit(self.main.get_by_role("button", name="Post the receipt"))
        expect(self.flash).to_contain_text("received against")

    def issue_gate_pass(self, credit_reason: str = "") -> GatePassPage:
        if credit_reason:
            self.main.get_by_label(re.compile(r"^Release on credit")).fill(credit_reason)
        self.submit(self.main.get_by_role("button", name="Issue the gate pass"))
        gate = GatePassPage(self.page)
        expect(gate.heading).to_be_visible()
        return gate


class GatePassPage(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", name=re.compile(r"^Gate pass "), level=1)

    def detail(self, term: str) -> Locator:
        return detail(self.main, term)
