"""Stock (/inventory): vehicles by VIN, motor or battery serial; a vehicle's page; parts stock; count
sheets; part labels."""
from __future__ import annotations

from playwright.sync_api import Locator, Page

from .layout import LoggedIn, detail, section


class VehicleStockPage(LoggedIn):
    """Stock > Vehicles: filters and search-as-you-type over the units in stock."""

    def __init__(self, page: Page):
        super().__init__(page)
        self.search_box = page.get_by_role("searchbox", name="Search")
        self.colour = page.get_by_label("Colour")
        table = self.main.get_by_role("table")
        self.rows = table.get_by_role("row").filter(has=page.get_by_role("cell"))

    def row(self, vin: str) -> Locator:
        return self.rows.filter(has=self.page.get_by_role("link", name=vin, exact=True))

    def open_vehicle(self, vin: str) -> None:
        self.main.get_by_role("link", name=vin, exact=True).click()


class UnitPage(LoggedIn):
    """A vehicle's page: its details, what may be done with it, its status history."""

    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", level=1)
        self.use_as_demo_button = self.main.get_by_role("button", name="Use as demo vehicle")
        # The history is an <ol> in a card without an accessible name (templates/inventory/unit_detail.html).
        self.history = section(self.main, "Status history").get_by_role("list")


class PartStockPage(LoggedIn):
    """Stock > Parts stock."""

    def __init__(self, page: Page):
        super().__init__(page)
        self.search_box = page.get_by_role("searchbox", name="Search")
        self.rows = self.main.get_by_role("table").get_by_role("row").filter(has=page.get_by_role("cell"))

    @classmethod
    def open(cls, page: Page) -> PartStockPage:
        page.goto("/inventory/parts")
        return cls(page)


class CountListPage(LoggedIn):
    """Stock > Stock counts: the count sheets, and starting one (after a confirmation question)."""

    def __init__(self, page: Page):
        super().__init__(page)
        self.start_button = page.get_by_role("button", name="Start a count")

    @classmethod
    def open(cls, page: Page) -> CountListPage:
        page.goto("/inventory/counts")
        return cls(page)

    def start_count(self) -> CountSheetPage:
        self.page.once("dialog", lambda dialog: dialog.accept())
        self.start_button.click()
        return CountSheetPage(self.page)


class CountSheetPage(LoggedIn):
    """A count sheet: a counted quantity is saved as soon as its box is left; the summary follows."""

    def __init__(self, page: Page):
        super().__init__(page)
        self.rows = self.main.get_by_role("table").get_by_role("row").filter(has=page.get_by_role("cell"))
        self.counted_so_far = detail(self.main, "Counted")  # 'n of m parts', in the summary

    def counted(self, part_no: str) -> Locator:
        return self.page.get_by_label(f"Counted quantity of {part_no}")

    def row(self, part_no: str) -> Locator:
        return self.rows.filter(has=self.page.get_by_role("cell", name=part_no, exact=True))

    def approve_button(self, adjustments: str) -> Locator:
        return self.page.get_by_role("button", name=f"Approve and post {adjustments}")


class PartLabelsPage(LoggedIn):
    """The sheet of part labels to print (templates/inventory/labels.html)."""

    def __init__(self, page: Page):
        super().__init__(page)
        # CSS: a label is a bare <div class="part-label"> (no role, no name), and its QR code an
        # <svg class="qr"> inside aria-hidden="true": nothing accessible to find them by.
        self.labels = page.locator(".part-label")
        self.print_button = page.get_by_role("button", name="Print labels")

    @classmethod
    def open(cls, page: Page, part_id: int, copies: int) -> PartLabelsPage:
        page.goto(f"/inventory/parts/labels?part={part_id}&copies={copies}")
        return cls(page)

    @staticmethod
    def qr_code(label: Locator) -> Locator:
        return label.locator("svg.qr")
