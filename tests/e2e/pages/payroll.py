"""Payroll screens (templates/payroll): the runs with the new-run form, and a run's register with its steps."""
from __future__ import annotations

from playwright.sync_api import Page

from .layout import LoggedIn


class RunsPage(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = page.get_by_role("heading", name="Payroll")

    @classmethod
    def open(cls, page: Page) -> RunsPage:
        page.goto("/payroll/")
        return cls(page)

    def compute(self, month: str) -> RunPage:
        self.page.get_by_label("Month (its attendance closed by HR)").fill(month)
        self.submit(self.page.get_by_role("button", name="Compute the run"))
        return RunPage(self.page)


class RunPage(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = page.get_by_role("heading", name="Salary register")

    def row(self, name: str):
        return self.main.get_by_role("row").filter(has_text=name)

    def step(self, button: str) -> RunPage:
        self.submit(self.main.get_by_role("button", name=button))
        return RunPage(self.page)
