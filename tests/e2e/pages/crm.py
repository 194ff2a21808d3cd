"""CRM (/crm): the follow-ups panel of the dashboard, a lead's page with its one-tap call outcomes and
its test ride, and the funnel report."""
from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from .layout import LoggedIn


class Dashboard(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.follow_ups = self.main.locator("#my-follow-ups")

    def tap_outcome(self, lead: str, outcome: str) -> Dashboard:
        row = self.follow_ups.get_by_role("listitem").filter(has_text=lead)
        self.submit(row.get_by_role("button", name=outcome))
        return Dashboard(self.page)

    def open_lead_from_list(self, lead: str) -> LeadPage:
        """CRM > Leads, then the lead by its name."""
        self.open_module("Leads")
        # The list first: the dashboard also links the lead's name (its follow-ups), and a click there
        # while the list loads would race the two navigations.
        expect(self.main.get_by_role("heading", level=1)).to_contain_text("Leads")
        self.main.get_by_role("link", name=lead).click()
        page = LeadPage(self.page)
        expect(page.heading).to_contain_text(f"Lead of {lead}")
        return page


class LeadPage(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", level=1)
        self.status = self.main.locator(".page-head .badge").first
        self.rides = self.main.get_by_role("table").filter(has=page.get_by_role("columnheader", name="Licence"))

    def take_out(self, vehicle: str, licence: str, valid_until: str, odometer: str) -> LeadPage:
        self.main.get_by_label("Demo vehicle").select_option(label=vehicle)
        self.main.get_by_label("Driving licence no.").fill(licence)
        self.main.get_by_label("Licence valid until").fill(valid_until)
        self.main.get_by_label("Odometer out (km)").fill(odometer)
        self.submit(self.main.get_by_role("button", name="Out on a test ride"))
        return LeadPage(self.page)

    def set_next_action(self, action: str, when: str) -> LeadPage:
        """The follow-up: what is to be done next and when (DD-MM-YYYY)."""
        form = self.main.locator("form").filter(has=self.page.get_by_role("button", name="Set the next action"))
        form.get_by_label("Next action").fill(action)
        form.get_by_label("When").fill(when)
        self.submit(form.get_by_role("button", name="Set the next action"))
        return LeadPage(self.page)

    def make_customer(self) -> LeadPage:
        self.submit(self.main.get_by_role("button", name="Make the customer record"))
        return LeadPage(self.page)

    def edit_details(self) -> LeadEditForm:
        self.main.get_by_role("link", name="Edit the details").click()
        return LeadEditForm(self.page)

    def book_without_quotation(self):
        from .sales import BookingForm

        self.main.get_by_role("link", name="Book without a quotation").click()
        form = BookingForm(self.page)
        expect(form.heading).to_be_visible()
        return form

    def error_of(self, label: str):
        return self.main.locator(".field.invalid").filter(has=self.page.get_by_label(label)).locator(".error")

    def bring_back(self, odometer: str, feedback: str) -> LeadPage:
        self.rides.get_by_role("link", name="Back").click()
        self.main.get_by_label("Odometer in (km)").fill(odometer)
        self.main.get_by_label("Feedback").fill(feedback)
        self.submit(self.main.get_by_role("button", name="Back from the ride"))
        return LeadPage(self.page)


class LeadEditForm(LoggedIn):
    """A lead's details corrected after it was made; the mobile is checked as it is typed."""

    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", level=1)
        self.duplicates = self.main.locator("#duplicates")

    def save(self) -> LeadPage:
        self.submit(self.main.get_by_role("button", name="Save the details"))
        return LeadPage(self.page)


class LostReasonsPage(LoggedIn):
    """The list of reasons a lead is lost for (managers)."""

    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", name="Reasons a lead is lost")
        self.table = self.main.get_by_role("table")

    @classmethod
    def open(cls, page: Page) -> LostReasonsPage:
        page.goto("/crm/lost-reasons/list")
        return cls(page)

    def add(self, label: str, code: str, place: str) -> LostReasonsPage:
        self.main.get_by_label("Reason", exact=True).fill(label)
        self.main.get_by_label("Code", exact=True).fill(code)
        self.main.get_by_label("Place in the list").fill(place)
        self.submit(self.main.get_by_role("button", name="Add the reason"))
        return LostReasonsPage(self.page)


class FunnelPage(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", name=re.compile(r"^Lead funnel"))
        self.chart = self.main.get_by_role("img", name=re.compile(r"how many reached each stage"))
        self.totals = self.main.locator("table.totals")

    @classmethod
    def open(cls, page: Page) -> FunnelPage:
        page.goto("/crm/funnel")
        return cls(page)
