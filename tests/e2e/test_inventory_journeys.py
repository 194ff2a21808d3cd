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

from .pages.auth import LoginPage
from .pages.inventory import CountListPage, PartLabelsPage, PartStockPage, UnitPage, VehicleStockPage
from .pages.layout import LoggedIn

pytestmark = pytest.mark.browser


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
    make_staff("MGR1", "MANAGER", "4826", name="Meena Iyer", branch_id=branch)
    LoginPage.open(page).log_in("MGR1", "4826")

    LoggedIn(page).open_module("Vehicles")
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
    unit = UnitPage(page)
    unit.use_as_demo_button.click()
    expect(unit.flash).to_contain_text("is now a demo vehicle")
    expect(unit.history).to_contain_text("In stock → Demo vehicle")
    expect(unit.history).to_contain_text("Meena Iyer")
    console.assert_clean()


def test_a_scanned_part_is_found_counted_and_labelled(page: Page, console, engine, make_staff, make_branch):
    branch = make_branch()
    with engine.begin() as conn:
        shoe = b.part(conn, part_no="BRK-100")
        b.part(conn, part_no="BRK-1001")
        b.receive(conn, branch, shoe, 7, "100.00")
    make_staff("MGR1", "MANAGER", "4826", name="Meena Iyer", branch_id=branch)
    LoginPage.open(page).log_in("MGR1", "4826")
    stock = PartStockPage.open(page)
    rows = stock.rows
    expect(rows).to_have_count(2)

    # A USB scanner types the whole number in a burst and presses Enter.
    search = stock.search_box
    search.press_sequentially("BRK-100", delay=5)
    search.press("Enter")
    expect(rows.first).to_contain_text("BRK-100")
    expect(page).to_have_url(re.compile(r"q=BRK-100"))

    # A count sheet: the counted quantity is saved as soon as the field is left.
    sheet = CountListPage.open(page).start_count()
    counted = sheet.counted("BRK-100")
    counted.fill("5")
    counted.press("Tab")
    row = sheet.row("BRK-100")
    expect(row).to_contain_text("-2")
    expect(row).to_contain_text("-₹200.00")
    expect(sheet.counted_so_far).to_contain_text("1 of 1 parts")  # the totals follow by themselves
    expect(sheet.approve_button("1 adjustment")).to_be_visible()

    # Its label: a QR code drawn inline, allowed by the CSP; printing hides the screen controls.
    label_sheet = PartLabelsPage.open(page, shoe, copies=2)
    labels = label_sheet.labels
    expect(labels).to_have_count(2)
    expect(label_sheet.qr_code(labels.first)).to_be_visible()
    expect(labels.first).to_contain_text("MRP ₹200.00")
    page.emulate_media(media="print")
    expect(label_sheet.print_button).to_be_hidden()
    expect(page.get_by_role("navigation", name="Modules")).to_be_hidden()
    expect(labels.first).to_be_visible()
    console.assert_clean()
