"""The work on a job card (/service): the estimate with its lines and the customer's total, the
customer's approval, the parts screen that issues and returns parts, and the technician's own list
of work ("My work"). Each screen can also say what of it is out of reach at a given window size."""
from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from .layout import LoggedIn, tables_on_screen

TABLET = {"width": 768, "height": 1024}
LAPTOP = {"width": 1366, "height": 768}
TOUCH_HEIGHT = 44  # px: the least height of a button a gloved finger hits


def body_rows(table: Locator) -> Locator:
    """The rows of a table's body, without its header and footer rows: the table's row groups are its
    <thead>, <tbody> and <tfoot> in that order, so the body is the second."""
    return table.get_by_role("rowgroup").nth(1).get_by_role("row")


class WorkScreen(LoggedIn):
    """A workshop screen: what of it cannot be reached, and which buttons are too small to tap."""

    def out_of_reach(self, what: str) -> list[str]:
        """What cannot be seen or scrolled to: a page that scrolls sideways, a box that scrolls without
        saying so, a header cell or first-row cell of a table out of view. Empty when all is in reach."""
        found = tables_on_screen(self.page)
        problems = []
        if found["sideways"] != 0:
            problems.append(f"{what}: the page scrolls sideways by {found['sideways']} px")
        if found["silent"]:
            problems.append(f"{what}: a box scrolls with no hint {found['silent']}")
        for table in found["tables"]:
            if table["unseen"]:
                problems.append(f"{what}: {table['table']}: out of reach {table['unseen']}")
        return problems

    @staticmethod
    def too_small_to_tap(buttons: list[Locator]) -> list[str]:
        """The buttons (or links drawn as buttons) lower than a finger: empty when all are touch-sized."""
        small = []
        for button in buttons:
            box = button.bounding_box()
            if not box or box["height"] < TOUCH_HEIGHT:
                small.append(f"{button} is {box and box['height']} px high")
        return small

    def at_both_sizes(self, folder: Path, name: str) -> list[str]:
        """The screen at a tablet's and a laptop's size: photographed at each (name-WIDTHxHEIGHT.png in
        folder) and what is out of reach at each. Left at the laptop's size."""
        problems = []
        for size in (TABLET, LAPTOP):
            self.page.set_viewport_size(size)
            # The page marks the boxes that scroll when it sees the new size (a resize observer): two frames.
            self.page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
            problems += self.out_of_reach(f"{name} at {size['width']} px")
            self.page.screenshot(path=str(folder / f"{name}-{size['width']}x{size['height']}.png"), full_page=True)
        return problems


class EstimatePage(WorkScreen):
    """A job card's estimate: its lines (labour and parts, GST per line), the customer's total, and the
    form that adds a line."""

    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", name=re.compile(r"^Estimate\b"), level=1)
        # CSS: the job card's state is a bare <span class="badge"> beside the heading, with no label or
        # role (templates/service/estimate.html).
        self.state = self.main.locator(".page-head .badge")
        self.table = self.main.get_by_role("table").filter(
            has=page.get_by_role("columnheader", name="Who pays", exact=True))
        self.lines = body_rows(self.table)
        self.customer_total = self.table.get_by_role("row", name=re.compile(r"^Estimate to the customer"))
        self.add_button = self.main.get_by_role("button", name="Add to the estimate")
        self.approval_link = self.main.get_by_role("link", name="Record the customer's approval")

    @classmethod
    def open(cls, page: Page, job_card_id: int) -> EstimatePage:
        page.goto(f"/service/job-cards/{job_card_id}/estimate")
        return cls(page)

    def add(self, *, operation: str | None = None, part: int | None = None, qty: str | None = None,
            unit_price: str | None = None, technician: int | None = None) -> EstimatePage:
        """Add a line as typed: a labour operation (by code) or a part (by id), a quantity, a price and
        the technician (by staff id); what is not given is left as the form has it."""
        if operation is not None:
            self.main.get_by_label("Labour operation").select_option(operation)
        if part is not None:
            self.main.get_by_label("Part", exact=True).select_option(str(part))
        if qty is not None:
            self.main.get_by_label("Quantity (hours for labour)").fill(qty)
        if unit_price is not None:
            self.unit_price.fill(unit_price)
        if technician is not None:
            self.main.get_by_label("Technician").select_option(str(technician))
        self.submit(self.add_button)
        return EstimatePage(self.page)

    @property
    def unit_price(self) -> Locator:
        return self.main.get_by_label("Unit price (₹)")

    def error_of(self, label: str) -> Locator:
        """The message(s) under a field: the paragraphs of the block its aria-describedby names (the
        field's hint there is no paragraph). By id: ARIA ties that block to the field by id alone."""
        help_id = self.main.get_by_label(label).get_attribute("aria-describedby")
        return self.page.locator(f"id={help_id}").get_by_role("paragraph")

    def record_approval(self) -> ApprovalPage:
        self.approval_link.click()
        form = ApprovalPage(self.page)
        expect(form.heading).to_be_visible()
        return form

    def parts(self) -> PartsPage:
        self.main.get_by_role("link", name="Parts", exact=True).click()
        parts = PartsPage(self.page)
        expect(parts.heading).to_be_visible()
        return parts


class ApprovalPage(WorkScreen):
    """The customer's approval of the proposed work: who, how, and the amount (GST included)."""

    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", name=re.compile(r"^Customer's approval"), level=1)
        self.amount = self.main.get_by_label("Amount approved, GST included (₹)")

    def record(self, how: str) -> EstimatePage:
        """how: the mode's value, e.g. 'PHONE'."""
        self.main.get_by_label("How").select_option(how)
        self.submit(self.main.get_by_role("button", name="Record the approval"))
        return EstimatePage(self.page)


class PartsPage(WorkScreen):
    """A job card's parts: one row per part line, with its issue and return forms."""

    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", name=re.compile(r"^Parts\b"), level=1)
        self.table = self.main.get_by_role("table").filter(
            has=page.get_by_role("columnheader", name="For the job", exact=True))
        self.lines = body_rows(self.table)
        self.issue_button = self.main.get_by_role("button", name="Issue", exact=True)

    @classmethod
    def open(cls, page: Page, job_card_id: int) -> PartsPage:
        page.goto(f"/service/job-cards/{job_card_id}/parts")
        return cls(page)

    def issue_qty(self, unit: str) -> Locator:
        """The quantity to issue of the one part line in that unit, e.g. issue_qty('NOS')."""
        return self.main.get_by_label(f"Issue ({unit})")

    def issue(self) -> PartsPage:
        self.submit(self.issue_button)
        return PartsPage(self.page)


class MyWorkPage(WorkScreen):
    """The technician's own lines of work on open job cards, with no price anywhere."""

    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", name="My work, line by line", level=1)
        self.table = self.main.get_by_role("table").filter(
            has=page.get_by_role("columnheader", name="Job card", exact=True))
        self.rows = body_rows(self.table)

    @classmethod
    def open(cls, page: Page) -> MyWorkPage:
        page.goto("/service/my-jobs")
        return cls(page)

    def row(self, code: str) -> Locator:
        """A line of work by its operation or part code, e.g. row('BRK-OVH')."""
        return self.rows.filter(has_text=code)

    def done_button(self, code: str) -> Locator:
        return self.row(code).get_by_role("button", name="Done")

    def mark_done(self, code: str) -> MyWorkPage:
        """One tap on the line's Done button (a touch screen); the list comes back with it done."""
        with self.page.expect_navigation():
            self.done_button(code).tap()
        return MyWorkPage(self.page)
