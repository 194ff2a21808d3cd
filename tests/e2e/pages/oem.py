"""The vehicle catalog (/oem): an OEM, its models, a model's variants, a variant's colours and dated prices."""
from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from .layout import LoggedIn, section


class OemPage(LoggedIn):
    """An OEM's page: its details, its models, 'Add model' for a manager."""

    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", level=1)

    def add_model(self) -> ModelFormPage:
        self.main.get_by_role("link", name="Add model").click()
        form = ModelFormPage(self.page)
        expect(form.heading).to_be_visible()
        return form


class ModelFormPage(LoggedIn):
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


class ModelPage(LoggedIn):
    """A model's page: its free-service schedule and its variants with today's price."""

    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", level=1)

    def add_variant(self) -> VariantFormPage:
        self.main.get_by_role("link", name="Add variant").click()
        form = VariantFormPage(self.page)
        expect(form.heading).to_be_visible()
        return form


class VariantFormPage(LoggedIn):
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


class VariantPage(LoggedIn):
    """A variant's page: specs, the price in force today, the price on a date, the price list, the colours.
    Its cards are <section>s without an accessible name (templates/oem/variant_detail.html): found by heading."""

    def __init__(self, page: Page):
        super().__init__(page)
        self.heading = self.main.get_by_role("heading", level=1)
        self.price_today = section(self.main, "Price today")
        self.price_lookup = section(self.main, "Price on a date")
        self.price_list = section(self.main, "Price list")
        self.colours = section(self.main, "Colours offered")

    def add_colour(self, colour: str) -> VariantPage:
        self.colours.get_by_label("Colour", exact=True).fill(colour)
        self.submit(self.colours.get_by_role("button", name="Add colour"))
        return VariantPage(self.page)

    def add_price(self) -> PriceFormPage:
        self.price_list.get_by_role("link", name="Add price").click()
        form = PriceFormPage(self.page)
        expect(form.heading).to_be_visible()
        return form


class PriceFormPage(LoggedIn):
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
