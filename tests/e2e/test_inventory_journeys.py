"""Stock journeys in a real browser: what the Flask client cannot see - rows swapped in place as
someone types, the address following the filters and the back button bringing them back, a
USB scanner's burst of keys and Enter, counted quantities saved per row, and a label sheet that
the Content-Security-Policy lets through and that prints without the screen controls.
"""
from __future__ import annotations

import re
from datetime import timedelta

import builders as b
import pytest
from playwright.sync_api import Page, expect

from webapp.formatting import today_ist

from .pages import LoginPage, _LoggedIn

pytestmark = pytest.mark.browser


class VehicleStockPage:
    def __init__(self, page: Page):
        self.page = page
        self.search_box = page.get_by_role("searchbox", name="Search")
        self.colour = page.get_by_label("Colour")
        table = page.get_by_role("main").get_by_role("table")
        self.rows = table.get_by_role("row").filter(has=page.get_by_role("cell"))

    def row(self, vin: str):
        return self.rows.filter(has=self.page.get_by_role("link", name=vin, exact=True))


def log_in(page: Page, make_staff, role: str = "MANAGER", **kwargs) -> None:
    make_staff("MGR1", role, "4826", name="Meena Iyer", **kwargs)
    LoginPage.open(page).log_in("MGR1", "4826")


def test_a_manager_finds_a_scooter_by_its_battery_serial_and_takes_it_as_a_demo(page: Page, console, engine,
                                                                                 make_staff, make_branch):
    branch = make_branch()
    received = (today_ist() - timedelta(days=12)).isoformat()
    with engine.begin() as conn:
        cat = b.vehicle_catalog(conn, colours=("Red", "Blue"))
        red = b.unit(conn, cat.variant_id, "Red", branch, vin="MD2A9TX7K4ZP31186", received_on=received)
        b.unit(conn, cat.variant_id, "Blue", branch, vin="MD2A5BR2C8LN00042", received_on=received)
        b.unit(conn, cat.variant_id, "Blue", branch, vin="MD2A5BR2C8LN00057", received_on=received)
        b.fit_battery(conn, b.battery_pack(conn, "LFPK24A00913"), red, "2025-08-20")
    log_in(page, make_staff, branch_id=branch)

    _LoggedIn(page).open_module("Vehicles")
    stock = VehicleStockPage(page)
    expect(stock.rows).to_have_count(3)

    # Typing part of the serial swaps the rows in place (no page load) and the address follows.
    page.evaluate("() => { window.e2eSameDocument = true; }")
    stock.search_box.press_sequentially("a009", delay=40)
    expect(stock.rows).to_have_count(1)
    expect(stock.row("MD2A9TX7K4ZP31186")).to_contain_text("LFPK24A00913")
    expect(page).to_have_url(re.compile(r"q=a009", re.IGNORECASE))
    assert page.evaluate("() => window.e2eSameDocument") is True

    # Filters combine in the address; the back button brings the earlier filters and rows back.
    page.goto("/inventory/vehicles")
    stock = VehicleStockPage(page)
    stock.colour.select_option("Blue")
    expect(stock.rows).to_have_count(2)
    expect(page).to_have_url(re.compile(r"colour=Blue"))
    stock.search_box.press_sequentially("n00042", delay=40)
    expect(stock.rows).to_have_count(1)
    expect(page).to_have_url(re.compile(r"q=n00042.*colour=Blue", re.IGNORECASE))
    page.go_back()
    expect(page).to_have_url(re.compile(r"^(?!.*q=n).*colour=Blue", re.IGNORECASE))
    stock = VehicleStockPage(page)
    expect(stock.rows).to_have_count(2)
    expect(stock.search_box).to_have_value("")
    expect(stock.colour).to_have_value("Blue")
    page.goto("/inventory/vehicles?q=A009")

    # The unit's page: take it as a demo; its history says who did it.
    page.get_by_role("link", name="MD2A9TX7K4ZP31186").click()
    page.get_by_role("button", name="Use as demo vehicle").click()
    expect(page.get_by_role("status")).to_contain_text("is now a demo vehicle")
    expect(page.locator("ol.timeline")).to_contain_text("In stock → Demo vehicle")
    expect(page.locator("ol.timeline")).to_contain_text("Meena Iyer")
    console.assert_clean()


def test_a_scanned_part_is_found_counted_and_labelled(page: Page, console, engine, make_staff, make_branch):
    branch = make_branch()
    with engine.begin() as conn:
        shoe = b.part(conn, part_no="BRK-100")
        b.part(conn, part_no="BRK-1001")
        b.receive(conn, branch, shoe, 7, "100.00")
    log_in(page, make_staff, branch_id=branch)
    page.goto("/inventory/parts")
    rows = page.get_by_role("main").get_by_role("table").get_by_role("row").filter(has=page.get_by_role("cell"))
    expect(rows).to_have_count(2)

    # A USB scanner types the whole number in a burst and presses Enter.
    search = page.get_by_role("searchbox", name="Search")
    search.press_sequentially("BRK-100", delay=5)
    search.press("Enter")
    expect(rows.first).to_contain_text("BRK-100")
    expect(page).to_have_url(re.compile(r"q=BRK-100"))

    # A count sheet: the counted quantity is saved as soon as the field is left.
    page.goto("/inventory/counts")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Start a count").click()
    counted = page.get_by_label("Counted quantity of BRK-100")
    counted.fill("5")
    counted.press("Tab")
    row = page.locator(f"#count-{shoe}")
    expect(row).to_contain_text("-2")
    expect(row).to_contain_text("-₹200.00")
    expect(page.locator("#count-summary")).to_contain_text("1 of 1 parts")  # the totals follow by themselves
    expect(page.get_by_role("button", name="Approve and post 1 adjustment")).to_be_visible()

    # Its label: a QR code drawn inline, allowed by the CSP; printing hides the screen controls.
    page.goto(f"/inventory/parts/labels?part={shoe}&copies=2")
    labels = page.locator(".part-label")
    expect(labels).to_have_count(2)
    expect(labels.first.locator("svg.qr")).to_be_visible()
    expect(labels.first).to_contain_text("MRP ₹200.00")
    page.emulate_media(media="print")
    expect(page.get_by_role("button", name="Print labels")).to_be_hidden()
    expect(page.get_by_role("navigation", name="Modules")).to_be_hidden()
    expect(labels.first).to_be_visible()
    console.assert_clean()
