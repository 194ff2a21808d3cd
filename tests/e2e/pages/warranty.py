"""Warranty (/warranty): the warranty check of a vehicle sold here, recall / service campaigns and
extended warranty plans."""
from __future__ import annotations

import re

from playwright.sync_api import Locator, Page

from .billing import InvoicePage
from .layout import LoggedIn


class WarrantyCheckPage(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", name=re.compile(r"^Warranty check"))
        self.panel = self.main.get_by_role("region", name=re.compile(r"^Warranty "))

    @classmethod
    def open(cls, page: Page) -> WarrantyCheckPage:
        page.goto("/warranty/check")
        return cls(page)

    def check(self, vin: str, km: str = "") -> WarrantyCheckPage:
        """Ask about a VIN (and odometer): the answer replaces the result in place."""
        self.main.get_by_label("VIN", exact=True).fill(vin)
        self.main.get_by_label("Odometer (km)").fill(km)
        with self.page.expect_response(lambda r: "/warranty/check?" in r.url):
            self.main.get_by_role("button", name="Check").click()
        return self

    def cover_row(self, cover: str) -> Locator:
        """The row of the cover table, e.g. cover_row('Vehicle') or cover_row('Battery PACK01')."""
        return self.panel.get_by_role("row", name=re.compile(rf"^{re.escape(cover)}"))

    def free_service_row(self, number: int) -> Locator:
        return self.panel.get_by_role("row", name=re.compile(rf"^{number} "))


class CampaignListPage(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", name="Recalls and service campaigns")

    def new_campaign(self) -> CampaignForm:
        self.main.get_by_role("link", name="New campaign").click()
        return CampaignForm(self.page)


class CampaignForm(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", name="New recall or service campaign")

    def fill(self, *, oem: str, code: str, title: str, vins: str) -> CampaignForm:
        self.main.get_by_label("OEM", exact=True).select_option(label=oem)
        self.main.get_by_label("OEM's campaign code").fill(code)
        self.main.get_by_label("Title", exact=True).fill(title)
        self.main.get_by_label("Which vehicles").select_option(label="A list of VINs from the OEM")
        self.main.get_by_label(re.compile(r"^VINs \(one per line")).fill(vins)
        return self

    def record(self) -> CampaignPage:
        self.submit(self.main.get_by_role("button", name="Record the campaign"))
        return CampaignPage(self.page)


class CampaignPage(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", level=1)
        self.vins = self.main.get_by_role("region", name="Done and pending, per VIN")

    def vin_row(self, vin: str) -> Locator:
        return self.main.get_by_role("row", name=re.compile(rf"^{vin}"))

    def mark_done(self, vin: str, job_ref: str = "") -> CampaignPage:
        self.main.get_by_label("VIN", exact=True).fill(vin)
        self.main.get_by_label("Job card no.").fill(job_ref)
        self.submit(self.main.get_by_role("button", name="Mark done"))
        return CampaignPage(self.page)


class PlanListPage(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", name="Extended warranty plans")

    def add_plan(self) -> PlanForm:
        self.main.get_by_role("link", name="Add plan").click()
        return PlanForm(self.page)

    def sell_plan(self) -> PlanSellPage:
        self.main.get_by_role("link", name="Sell a plan").click()
        return PlanSellPage(self.page)


class PlanForm(LoggedIn):
    def fill(self, *, oem: str, name: str, battery_years: str, battery_km: str, price: str) -> PlanForm:
        self.main.get_by_label("OEM", exact=True).select_option(label=oem)
        self.main.get_by_label("Plan name").fill(name)
        self.main.get_by_label("Battery: extra years").fill(battery_years)
        self.main.get_by_label("Battery: extra km").fill(battery_km)
        self.main.get_by_label("Price (₹, before GST)").fill(price)
        return self

    def save(self) -> PlanListPage:
        self.submit(self.main.get_by_role("button", name="Save"))
        return PlanListPage(self.page)


class PlanSellPage(LoggedIn):
    def find(self, vin: str) -> PlanSellPage:
        self.main.get_by_label("VIN", exact=True).fill(vin)
        self.submit(self.main.get_by_role("button", name="Find the vehicle"))
        return PlanSellPage(self.page)

    def sell(self, plan: str) -> InvoicePage:
        """Sold here (paid in cash): the counter tax invoice of the plan's line, posted with its receipt."""
        self.main.get_by_label("Plan", exact=True).select_option(label=plan)
        self.submit(self.main.get_by_role("button", name="Sell the plan"))
        return InvoicePage(self.page)
