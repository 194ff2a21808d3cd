"""Incentive screens (templates/payroll/incentive*.html): the rules with the new-rule form, a month's incentives per
person, and a person's month with its documents and the adjustment form."""
from __future__ import annotations

from playwright.sync_api import Page

from .layout import LoggedIn


class IncentiveRulesPage(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = page.get_by_role("heading", name="Incentive rules")

    @classmethod
    def open(cls, page: Page) -> IncentiveRulesPage:
        page.goto("/payroll/incentives/rules")
        return cls(page)

    def add(self, *, role: str, pays: str, valid_from: str, amount: str = "", model: str = "Any model",
            slabs: tuple[tuple[str, str], ...] = ()) -> IncentiveRulesPage:
        form = self.main.locator("form").filter(has=self.page.get_by_role("button", name="Save the rule"))
        form.get_by_label("Role").select_option(label=role)
        form.get_by_label("Pays").select_option(label=pays)
        form.get_by_label("Model (empty: any)").select_option(label=model)
        form.get_by_label("Amount per document").fill(amount)
        form.get_by_label("From", exact=True).fill(valid_from)
        for n, (start, pct) in enumerate(slabs):
            form.get_by_label("Revenue from").nth(n).fill(start)
            form.get_by_label("%", exact=True).nth(n).fill(pct)
        self.submit(form.get_by_role("button", name="Save the rule"))
        return IncentiveRulesPage(self.page)


class IncentivesPage(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = page.get_by_role("heading", name="Incentives")

    @classmethod
    def open(cls, page: Page, month: str) -> IncentivesPage:
        page.goto(f"/payroll/incentives?month={month}")
        return cls(page)

    def compute(self) -> IncentivesPage:
        self.submit(self.main.get_by_role("button", name="Compute from the documents"))
        return IncentivesPage(self.page)

    def person(self, name: str) -> IncentivePersonPage:
        self.submit(self.main.get_by_role("row").filter(has_text=name).get_by_role("link", name="Open"))
        return IncentivePersonPage(self.page)


class IncentivePersonPage(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = page.get_by_role("heading", name="Incentive")

    def adjust(self, amount: str, reason: str) -> IncentivePersonPage:
        self.main.get_by_label("Amount (minus to take away)").fill(amount)
        self.main.get_by_label("Reason").fill(reason)
        self.submit(self.main.get_by_role("button", name="Record the adjustment"))
        return IncentivePersonPage(self.page)
