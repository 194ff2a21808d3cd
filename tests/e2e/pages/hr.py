"""HR screens (templates/hr): the punching terminal, its setup, the team page, a correction punch and the
month's attendance sheet."""
from __future__ import annotations

from playwright.sync_api import Locator, Page, expect

from .layout import LoggedIn, Screen


class TerminalSetupPage(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = page.get_by_role("heading", name="Punching terminal")

    def enable(self, name: str) -> PunchPage:
        self.page.get_by_label("Name of this terminal").fill(name)
        self.submit(self.page.get_by_role("button", name="Enable this browser"))
        return PunchPage(self.page)


class PunchPage(Screen):
    """The shared browser at the entrance: staff code, the PIN keypad, In or Out."""

    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = page.get_by_role("heading", name="Punch in / out")
        self.staff_code = page.get_by_label("Staff code")
        self.pin = page.get_by_label("PIN", exact=True)
        self.keypad = page.get_by_label("PIN keypad")

    @classmethod
    def open(cls, page: Page) -> PunchPage:
        page.goto("/hr/terminal")
        return cls(page)

    def punch(self, code: str, pin: str, kind: str) -> PunchPage:
        self.staff_code.fill(code)
        self.keypad.get_by_role("button", name="Clear PIN").click()
        for digit in pin:
            self.keypad.get_by_role("button", name=digit, exact=True).click()
        expect(self.pin).to_have_value(pin)
        self.submit(self.page.get_by_role("button", name=kind, exact=True))
        return PunchPage(self.page)


class TeamPage(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = page.get_by_role("heading", name="My team")

    def forgotten(self, name: str) -> Locator:
        return self.main.locator("section").filter(has_text="Forgotten out-punches").get_by_role("row").filter(
            has_text=name)

    def regularise(self, name: str) -> CorrectionPage:
        self.forgotten(name).get_by_role("link", name="Regularise").click()
        return CorrectionPage(self.page)


class CorrectionPage(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = page.get_by_role("heading", name="Correction punch")
        self.when = page.get_by_label("Date and time")

    def record(self, when: str, reason: str) -> TeamPage:
        self.when.fill(when)
        self.page.get_by_label("Reason").fill(reason)
        self.submit(self.page.get_by_role("button", name="Record the correction"))
        return TeamPage(self.page)


class SheetPage(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = page.get_by_role("heading", name="Attendance sheet")

    @classmethod
    def open(cls, page: Page, month: str) -> SheetPage:
        page.goto(f"/hr/sheet?month={month}")
        return cls(page)

    def row(self, name: str) -> Locator:
        return self.main.locator("table.attendance-sheet").get_by_role("row").filter(has_text=name)

    def day(self, name: str, day: int) -> Locator:
        """The cell of a person's day (the first cell is the name)."""
        return self.row(name).get_by_role("cell").nth(day)
