"""Page objects: what a person sees and does on each screen, found by role and label
(as a screen reader would), never by CSS class. Assertions use expect(), which retries
until the page agrees or the timeout passes (htmx swaps land a moment after a keystroke).
"""
from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect


class _Screen:
    def __init__(self, page: Page):
        self.page = page
        self.main = page.get_by_role("main")
        self.flash = page.get_by_role("status")  # the flashed messages

    def submit(self, button: Locator) -> None:
        """Click a form's submit button and wait for the page it leads to (also when that is the same URL)."""
        with self.page.expect_navigation():
            button.click()


class SetupPage(_Screen):
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


class LoginPage(_Screen):
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

    def log_in_first_time(self, code: str, pin: str) -> ChangePinPage:
        self.attempt(code, pin)
        change = ChangePinPage(self.page)
        expect(change.heading).to_be_visible()
        return change


class _LoggedIn(_Screen):
    """Any screen behind the login: the top bar with the modules and the user's buttons."""

    def __init__(self, page: Page):
        super().__init__(page)
        self.top_bar = page.get_by_role("banner")
        self.modules = page.get_by_role("navigation", name="Modules")

    def module(self, name: str) -> Locator:
        """The link to a module, shown as a person finds it: the links wait in menus (one per section on
        a wide screen, one "Menu" on a tablet), so the menu that holds the link is opened first."""
        link = self.modules.get_by_role("link", name=name, exact=True)
        waiting = self.modules.get_by_role("link", name=name, exact=True, include_hidden=True)
        if waiting.count() and not waiting.is_visible():
            menu = self.modules.locator("summary").filter(has_text=re.compile(r"^Menu\b"))
            if menu.is_visible():
                menu.click()
            else:
                waiting.locator("xpath=ancestor::details[1]/summary").click()
            expect(link).to_be_visible()
        return link

    def open_module(self, name: str) -> None:
        self.module(name).click()

    def switch_user(self) -> LoginPage:
        self.submit(self.top_bar.get_by_role("button", name="Switch user"))
        return LoginPage(self.page)

    def log_out(self) -> LoginPage:
        self.submit(self.top_bar.get_by_role("button", name="Log out"))
        return LoginPage(self.page)


class DashboardPage(_LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = page.get_by_role("heading", name=re.compile(r"^Namaste, "))

    @classmethod
    def open(cls, page: Page) -> DashboardPage:
        page.goto("/")
        return cls(page)

    def horizontal_overflow(self) -> int:
        """How far the page is wider than the window (0 when there is no horizontal scrollbar)."""
        return self.page.evaluate("() => document.scrollingElement.scrollWidth - window.innerWidth")


class ChangePinPage(_LoggedIn):
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


class StaffListPage(_LoggedIn):
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


class StaffFormPage(_LoggedIn):
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


class StaffDetailPage(_LoggedIn):
    def heading(self, name: str) -> Locator:
        return self.main.get_by_role("heading", name=re.compile(rf"^{re.escape(name)}\b"))

    def detail(self, term: str) -> Locator:
        """The value shown for a term of the details list, e.g. detail('Role')."""
        return self.main.get_by_role("term").filter(has_text=re.compile(rf"^{re.escape(term)}$")).locator(
            "xpath=following-sibling::dd[1]")


class ErrorPage(_Screen):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", level=1)


# ----------------------------------------------------------------------------- the vehicle catalog (/oem)


class OemPage(_LoggedIn):
    """An OEM's page: its details, its models, 'Add model' for a manager."""

    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", level=1)

    def add_model(self) -> ModelFormPage:
        self.main.get_by_role("link", name="Add model").click()
        form = ModelFormPage(self.page)
        expect(form.heading).to_be_visible()
        return form


class ModelFormPage(_LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = page.get_by_role("heading", name=re.compile(r"^Add a .+ model$"))

    def fill(self, *, name: str, segment: str = "Electric two-wheeler") -> ModelFormPage:
        self.main.get_by_label("Model name").fill(name)
        self.main.get_by_label("Segment").select_option(label=segment)
        return self

    def save(self) -> ModelPage:
        self.submit(self.main.get_by_role("button", name="Save"))
        return ModelPage(self.page)


class ModelPage(_LoggedIn):
    """A model's page: its free-service schedule and its variants with today's price."""

    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", level=1)

    def add_variant(self) -> VariantFormPage:
        self.main.get_by_role("link", name="Add variant").click()
        form = VariantFormPage(self.page)
        expect(form.heading).to_be_visible()
        return form


class VariantFormPage(_LoggedIn):
    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = page.get_by_role("heading", name=re.compile(r"^Add a variant"))
        self.hsn_code = self.main.get_by_label("HSN code (sets the GST rate)")

    def fill(self, *, name: str, battery_kwh: str, vehicle_warranty_years: int,
             battery_warranty_years: int) -> VariantFormPage:
        self.main.get_by_label("Variant name").fill(name)
        self.main.get_by_label("Battery capacity (kWh)").fill(battery_kwh)
        self.main.get_by_label("Vehicle warranty (years)").fill(str(vehicle_warranty_years))
        self.main.get_by_label("Battery warranty (years)").fill(str(battery_warranty_years))
        return self

    def save(self) -> VariantPage:
        self.submit(self.main.get_by_role("button", name="Save"))
        return VariantPage(self.page)


class VariantPage(_LoggedIn):
    """A variant's page: specs, the price in force today, the price list, the colours offered."""

    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", level=1)
        self.price_today = self._section("Price today")
        self.price_list = self._section("Price list")
        self.colours = self._section("Colours offered")

    def _section(self, heading: str) -> Locator:
        return self.main.locator("section").filter(
            has=self.page.get_by_role("heading", name=re.compile(rf"^{re.escape(heading)}"), level=2))

    def add_colour(self, colour: str) -> VariantPage:
        self.colours.get_by_label("Colour", exact=True).fill(colour)
        self.submit(self.colours.get_by_role("button", name="Add colour"))
        return VariantPage(self.page)

    def add_price(self) -> PriceFormPage:
        self.price_list.get_by_role("link", name="Add price").click()
        form = PriceFormPage(self.page)
        expect(form.heading).to_be_visible()
        return form


class PriceFormPage(_LoggedIn):
    """A dated price-list row: amounts as typed at the counter ('1,57,000'), dates DD-MM-YYYY ('01-04-2026')."""

    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = page.get_by_role("heading", name=re.compile(r"^New price for "))

    def fill(self, *, in_force_from: str, ex_showroom: str, ex_factory: str = "",
             subsidy: str = "No subsidy") -> PriceFormPage:
        self.main.get_by_label("In force from").fill(in_force_from)
        self.main.get_by_label("Ex-showroom price (incl. GST)").fill(ex_showroom)
        self.main.get_by_label("Ex-factory price", exact=True).fill(ex_factory)
        self.main.get_by_label("Subsidy (PM E-DRIVE)").select_option(label=subsidy)
        return self

    def save(self) -> VariantPage:
        self.submit(self.main.get_by_role("button", name="Save"))
        return VariantPage(self.page)
