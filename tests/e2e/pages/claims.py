"""Warranty claims to the OEM (/warranty/claims...): the battery pack swap on a job card, a claim's
page with its words and evidence, its submission, the OEM's decision and the settlement."""
from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from .layout import LoggedIn, detail


class PackSwapForm(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", name=re.compile(r"^Swap the battery pack under warranty"))

    @classmethod
    def from_job_card(cls, page: Page) -> PackSwapForm:
        page.get_by_role("main").get_by_role("link", name="Swap the battery pack under warranty").click()
        form = cls(page)
        expect(form.heading).to_be_visible()
        return form

    def swap(self, *, new_serial: str, old_pack: str | None = None, part: str | None = None) -> ClaimPage:
        if old_pack:
            self.main.get_by_label("Failed pack (in the vehicle now)").select_option(label=old_pack)
        if part:
            self.main.get_by_label("Pack as claimed (spare part)").select_option(label=part)
        self.main.get_by_label("New pack's serial").fill(new_serial)
        self.submit(self.main.get_by_role("button", name="Swap the pack"))
        return ClaimPage(self.page)


class ClaimPage(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", name=re.compile(r"^Warranty claim "), level=1)
        self.lines = self.main.get_by_role("table").filter(has=page.get_by_role("columnheader", name="Failed serial"))
        self.evidence = self.main.locator("#evidence")
        self.status = self.main.locator(".page-head .badge").first

    def detail(self, term: str) -> Locator:
        return detail(self.main, term)

    def line(self, text: str) -> Locator:
        return self.lines.get_by_role("row").filter(has_text=text)

    def choose_evidence(self, *, cause: str, correction: str, readings: list[str]) -> ClaimPage:
        self.main.get_by_role("link", name="Words and evidence").click()
        expect(self.main.get_by_role("heading", name=re.compile(r"words and evidence"))).to_be_visible()
        self.main.get_by_label("Cause").fill(cause)
        self.main.get_by_label("Correction").fill(correction)
        for reading in readings:
            self.main.get_by_label(re.compile(re.escape(reading))).check()
        self.submit(self.main.get_by_role("button", name="Save the claim"))
        return ClaimPage(self.page)

    def _step(self, link: str, fields: dict[str, str], button: str) -> ClaimPage:
        self.main.get_by_role("link", name=link).click()
        expect(self.main.get_by_role("button", name=button)).to_be_visible()
        for label, value in fields.items():
            box = self.main.get_by_label(label, exact=True)
            if box.evaluate("e => e.tagName") == "SELECT":
                box.select_option(label=value)
            else:
                box.fill(value)
        self.submit(self.main.get_by_role("button", name=button))
        return ClaimPage(self.page)

    def submitted(self, reference: str) -> ClaimPage:
        return self._step("Submitted to the OEM", {"OEM's claim reference": reference}, "Record the submission")

    def decided(self, outcome: str, **fields: str) -> ClaimPage:
        return self._step("The OEM's decision", {"The OEM's decision": outcome, **fields}, "Record the decision")

    def settled(self, amount: str, reference: str) -> ClaimPage:
        return self._step("Settled by the OEM", {"Amount credited by the OEM (₹)": amount,
                                                 "Credit note / payment reference": reference}, "Record the credit")
