"""The master screens (/master): staff, and the spare parts catalog."""
from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from .layout import LoggedIn, detail


class StaffListPage(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = page.get_by_role("heading", name="Staff", exact=True)
        self.search_box = page.get_by_role("searchbox", name="Search")
        self.table = self.main.get_by_role("table")
        # Data rows only: the header row has column headers, not cells.
        self.rows = self.table.get_by_role("row").filter(has=page.get_by_role("cell"))

    @classmethod
    def open(cls, page: Page) -> StaffListPage:
        page.goto("/master/staff")
        return cls(page)

    def row(self, staff_code: str) -> Locator:
        return self.rows.filter(has=self.page.get_by_role("link", name=staff_code, exact=True))

    def type_search(self, text: str) -> None:
        """Type as a person does, one key at a time; the list follows without a page load."""
        self.search_box.click()
        self.search_box.press_sequentially(text, delay=40)

    def add_staff(self) -> StaffFormPage:
        self.main.get_by_role("link", name="Add staff").click()
        form = StaffFormPage(self.page)
        expect(form.heading).to_be_visible()
        return form


class StaffFormPage(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = page.get_by_role("heading", name="Add staff")

    def fill(self, *, name: str, code: str, role: str, first_pin: str, mobile: str = "") -> StaffFormPage:
        self.main.get_by_label("Name", exact=True).fill(name)
        self.main.get_by_label("Staff code").fill(code)
        self.main.get_by_label("Role").select_option(label=role)
        self.main.get_by_label("Mobile").fill(mobile)
        self.main.get_by_label("First PIN").fill(first_pin)
        self.main.get_by_label("Repeat the PIN").fill(first_pin)
        return self

    def save(self) -> StaffDetailPage:
        self.submit(self.main.get_by_role("button", name="Save"))
        return StaffDetailPage(self.page)


class StaffDetailPage(LoggedIn):
    def heading(self, name: str) -> Locator:
        return self.main.get_by_role("heading", name=re.compile(rf"^{re.escape(name)}\b"))

    def detail(self, term: str) -> Locator:
        """The value shown for a term of the details list, e.g. detail('Role')."""
        return detail(self.main, term)


class PartListPage(LoggedIn):
    """Catalog > Spare parts: search by part number or name (or a barcode scanner's burst and Enter)."""

    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", name="Spare parts", level=1)
        self.search_box = page.get_by_role("searchbox", name="Search")
        self.add_part_link = page.get_by_role("link", name="Add part")
        # The rows of the results (the "No part matches" row too): the header row has no cells.
        self.rows = self.main.get_by_role("table").get_by_role("row").filter(has=page.get_by_role("cell"))
