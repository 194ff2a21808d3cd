"""First-run setup, the login with its PIN keypad, and changing the PIN (templates/auth)."""
from __future__ import annotations

from playwright.sync_api import Locator, Page, expect

from .layout import DashboardPage, LoggedIn, Screen


class SetupPage(Screen):
    """First-run wizard: the showroom profile and the first administrator."""

    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = page.get_by_role("heading", name="Welcome: set up your showroom")

    def fill_showroom(self, *, legal_name: str, gstin: str, address: str, city: str, pincode: str, phone: str,
                      invoice_prefix: str, branch_code: str = "MAIN") -> SetupPage:
        profile = self.page.get_by_role("group", name="Showroom profile")
        profile.get_by_label("Legal name (as on GST registration)").fill(legal_name)
        profile.get_by_label("GSTIN").fill(gstin)
        profile.get_by_label("Branch code").fill(branch_code)
        profile.get_by_label("Address", exact=True).fill(address)
        profile.get_by_label("City").fill(city)
        profile.get_by_label("PIN code").fill(pincode)
        profile.get_by_label("Phone").fill(phone)
        profile.get_by_label("Invoice series prefix").fill(invoice_prefix)
        return self

    def fill_administrator(self, *, name: str, code: str, pin: str) -> SetupPage:
        admin = self.page.get_by_role("group", name="First administrator")
        admin.get_by_label("Administrator's name").fill(name)
        admin.get_by_label("Administrator's staff code").fill(code)
        admin.get_by_label("Administrator's PIN").fill(pin)
        admin.get_by_label("Repeat the PIN").fill(pin)
        return self

    def save(self) -> LoginPage:
        self.submit(self.page.get_by_role("button", name="Save and continue"))
        return LoginPage(self.page)


class LoginPage(Screen):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = page.get_by_role("heading", name="Log in")
        self.staff_code = page.get_by_label("Staff code")
        self.pin = page.get_by_label("PIN", exact=True)
        self.keypad = page.get_by_label("PIN keypad")
        self.log_in_button = page.get_by_role("button", name="Log in", exact=True)
        self.recent_staff = page.get_by_label("Recent staff on this terminal")

    @classmethod
    def open(cls, page: Page) -> LoginPage:
        page.goto("/login")
        return cls(page)

    def key(self, name: str) -> Locator:
        return self.keypad.get_by_role("button", name=name, exact=True)

    @property
    def keys(self) -> Locator:
        return self.keypad.get_by_role("button")

    def tap_pin(self, pin: str) -> None:
        """Enter the PIN with the on-screen keypad, as at the showroom counter (no keyboard)."""
        self.key("Clear PIN").click()
        for digit in pin:
            self.key(digit).click()
        expect(self.pin).to_have_value(pin)

    def attempt(self, code: str, pin: str) -> LoginPage:
        self.staff_code.fill(code)
        self.tap_pin(pin)
        self.submit(self.log_in_button)
        return self

    def log_in(self, code: str, pin: str) -> DashboardPage:
        self.attempt(code, pin)
        dashboard = DashboardPage(self.page)
        expect(dashboard.heading).to_be_visible()
        return dashboard

    def log_in_typing(self, code: str, pin: str) -> DashboardPage:
        """Log in with the keyboard (the PIN typed into its box, no keypad)."""
        self.staff_code.fill(code)
        self.pin.fill(pin)
        self.log_in_button.click()
        dashboard = DashboardPage(self.page)
        expect(dashboard.heading).to_be_visible()
        return dashboard

    def log_in_first_time(self, code: str, pin: str) -> ChangePinPage:
        self.attempt(code, pin)
        change = ChangePinPage(self.page)
        expect(change.heading).to_be_visible()
        return change


class ChangePinPage(LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = page.get_by_role("heading", name="Change your PIN")

    def change(self, current: str, new: str) -> DashboardPage:
        self.page.get_by_label("Current PIN").fill(current)
        self.page.get_by_label("New PIN").fill(new)
        self.page.get_by_label("Repeat the PIN").fill(new)
        self.submit(self.page.get_by_role("button", name="Change PIN"))
        dashboard = DashboardPage(self.page)
        expect(dashboard.heading).to_be_visible()
        return dashboard
