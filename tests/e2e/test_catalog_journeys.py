"""The catalog in a real browser on a 768 px tablet: a manager prices a variant and looks up an
old price in place; a technician's barcode scanner types a part number and Enter into the search.
"""
from __future__ import annotations

import re

import builders as b
import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from .pages.auth import LoginPage
from .pages.layout import DashboardPage, no_sideways_scroll
from .pages.master import PartListPage
from .pages.oem import VariantPage

pytestmark = pytest.mark.browser

TABLET = {"width": 768, "height": 1024}


def test_a_manager_prices_a_variant_and_looks_up_last_quarters_price_on_a_tablet(new_page, console, engine,
                                                                                 make_staff):
    make_staff("MGR1", "MANAGER", "4826", name="Meena Rao")
    with engine.begin() as conn:
        model_id = b.model(conn, b.oem(conn, brand="Volt Scooters"), name="Zip")
        variant_id = b.variant(conn, model_id, battery_kwh="3.50", name="Pro")
        for colour in ("Red", "Blue"):
            b.colour(conn, variant_id, colour)
        b.price(conn, variant_id, "2026-01-01", "2026-03-31", ex_showroom="115000.00")
    page = new_page(viewport=TABLET, has_touch=True)
    dashboard = LoginPage.open(page).log_in("MGR1", "4826")

    dashboard.open_module("Models")
    page.get_by_role("link", name="Volt Scooters Zip").click()
    page.get_by_role("link", name="Pro", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile(r"^Volt Scooters Zip"))).to_be_visible()
    assert no_sideways_scroll(page) <= 0

    page.get_by_role("link", name="Add price").click()
    form = page.get_by_role("main")
    form.get_by_label("In force from").fill("01-04-2026")
    form.get_by_label("Ex-showroom price (incl. GST)").fill("1,20,000")
    form.get_by_label("Ex-factory price", exact=True).fill("80,000")
    form.get_by_label("Subsidy (PM E-DRIVE)").select_option(label="Per kWh of battery, with a cap")
    form.get_by_label("Subsidy per kWh").fill("5000")
    form.get_by_label("Subsidy cap (per kWh rule)").fill("15000")
    form.get_by_label("Cap: % of ex-factory price").fill("15")
    assert no_sideways_scroll(page) <= 0
    with page.expect_navigation():
        form.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Price ₹1,20,000.00 from 01-04-2026 saved")
    variant = VariantPage(page)
    today = variant.price_today
    expect(today.get_by_role("row", name=re.compile(r"^Red"))).to_contain_text("₹1,20,000.00")
    expect(today.get_by_role("row", name=re.compile(r"^Red"))).to_contain_text("₹12,000.00")

    # The look-up answers in place: no page load, the rest of the page untouched.
    page.evaluate("() => { window.e2eSameDocument = true; }")
    lookup = variant.price_lookup
    lookup.get_by_label("Price on").fill("15-02-2026")
    lookup.get_by_label("Colour").select_option("Blue")
    with page.expect_response(lambda r: "on=15-02-2026" in r.url and r.request.headers.get("hx-request") == "true"):
        lookup.get_by_role("button", name="Look up").click()
    expect(lookup).to_contain_text("₹1,15,000.00")
    expect(lookup).to_contain_text("01-01-2026 – 31-03-2026")
    assert page.evaluate("() => window.e2eSameDocument === true"), "the look-up reloaded the page"
    console.assert_clean()


def test_a_barcode_scanner_finds_the_part_at_once_for_the_technician(new_page, console, engine, make_staff):
    make_staff("TEC1", "TECHNICIAN", "4826", name="Suresh Kumar")
    with engine.begin() as conn:
        for n in range(30):
            conn.execute(sa.text("INSERT INTO master.part (part_no, name, hsn_code, mrp, purchase_price) "
                                 "VALUES (:no, :name, '8714', 100, 60)"),
                         {"no": f"BRK-100{n:02d}", "name": f"Brake part {n}"})
        conn.execute(sa.text("INSERT INTO master.part (part_no, name, hsn_code, mrp, purchase_price) "
                             "VALUES ('BRK-100', 'Rear brake shoe', '8714', 450, 300)"))
    page = new_page(viewport=TABLET, has_touch=True)
    LoginPage.open(page).log_in("TEC1", "4826")
    DashboardPage(page).open_module("Spare parts")
    parts = PartListPage(page)
    search = parts.search_box
    expect(search).to_be_focused()  # the scanner types wherever the focus is
    page.evaluate("() => { window.e2eSameDocument = true; }")
    # A USB scanner is a keyboard that types fast and ends with Enter.
    search.press_sequentially("brk-100", delay=5)
    search.press("Enter")
    first = parts.rows.first
    expect(first).to_contain_text("BRK-100")
    expect(first).to_contain_text("Exact match")
    expect(first).to_contain_text("₹450.00")
    expect(page).to_have_url(re.compile(r"/master/parts\?q=brk-100"))
    assert page.evaluate("() => window.e2eSameDocument === true"), "Enter reloaded the page"
    assert no_sideways_scroll(page) <= 0
    expect(parts.add_part_link).to_have_count(0)
    console.assert_clean()
