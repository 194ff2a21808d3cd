"""Buying scooters from the OEM in a real browser, on a 768 px tablet: the manager adds the new model,
its variant, colours and dated price on the catalog screens; accounts drafts the order, the manager
approves and sends it, the truck arrives and its dispatch list is pasted, checked and posted; then
the stock screen finds one scooter by a scrap of its motor number and shows where it came from.
And a barcode scanner's Enter walks the "one vehicle at a time" boxes (static/js/app.js).
"""
from __future__ import annotations

import re
from datetime import timedelta

import builders as b
import pytest
from playwright.sync_api import Page, expect

from webapp.formatting import today_ist

from .pages.auth import LoginPage
from .pages.inventory import UnitPage, VehicleStockPage
from .pages.layout import no_sideways_scroll
from .pages.oem import OemPage
from .pages.procurement import GoodsReceiptPage, PurchaseOrderForm, PurchaseOrderPage

pytestmark = pytest.mark.browser

TABLET = {"width": 768, "height": 1024}


# ----------------------------------------------------------------------------- the journey


def test_a_new_model_is_priced_ordered_approved_received_from_a_pasted_list_and_found_in_stock(
        new_page, console, engine, make_branch, make_staff):
    branch = make_branch(invoice_prefix="BLR")
    make_staff("ACC1", "ACCOUNTS", "4826", name="Anil Shetty", branch_id=branch)
    make_staff("MGR1", "MANAGER", "5937", name="Meena Iyer", branch_id=branch)
    # Only the OEM (GSTIN, address: its own screens are driven elsewhere) is set up in the database;
    # the tax master (HSN 871160, GST 5 %) is reference data seeded by the migrations. The model, its
    # variant, colours and price are created on the catalog screens below.
    with engine.begin() as conn:
        b.oem(conn, brand="Ather Energy")
    today = today_ist()
    fy = f"{(today.year if today.month >= 4 else today.year - 1) % 100:02d}"
    page = new_page(viewport=TABLET, has_touch=True)

    # The manager adds the new model to the catalog: model, variant, two colours, the dated price.
    LoginPage.open(page).log_in("MGR1", "5937").open_module("OEMs")
    page.get_by_role("link", name="Ather Energy", exact=True).click()
    oem = OemPage(page)
    expect(oem.heading).to_contain_text("Ather Energy")
    model = oem.add_model().fill(name="Rizta").save()
    expect(model.flash).to_contain_text("Ather Energy Rizta added. Now add its variants.")
    expect(model.heading).to_contain_text("Ather Energy Rizta")
    variant_form = model.add_variant()
    expect(variant_form.hsn_code).to_have_value("871160")  # a scooter's HSN, chosen from the segment
    variant = variant_form.fill(name="Z", battery_kwh="3.7", vehicle_warranty_years=3,
                                battery_warranty_years=5).save()
    expect(variant.flash).to_contain_text("Ather Energy Rizta Z added. Now its colours and price.")
    expect(variant.main).to_contain_text("871160 · 5%")
    for colour in ("Siachen White", "Deccan Grey"):
        variant = variant.add_colour(colour)
        expect(variant.flash).to_contain_text(f"Colour {colour} added.")
        expect(variant.colours.get_by_role("row", name=re.compile(rf"^{colour}"))).to_be_visible()
    variant = variant.add_price().fill(in_force_from="01-01-2024", ex_showroom="1,57,000",
                                       ex_factory="1,10,000").save()
    expect(variant.flash).to_contain_text("Price ₹1,57,000.00 from 01-01-2024 saved")
    expect(variant.price_today.get_by_role("row", name=re.compile(r"^Siachen White"))).to_contain_text(
        "₹1,57,000.00")
    expect(variant.price_list).to_contain_text("₹1,10,000.00")  # the ex-factory price the order will use
    assert no_sideways_scroll(page) <= 0

    # Accounts drafts the order: five white Riztas at the usual price.
    dashboard = variant.switch_user().log_in("ACC1", "4826")
    dashboard.open_module("Purchase orders")
    page.get_by_role("link", name="New purchase order").click()
    form = PurchaseOrderForm(page)
    expect(form.heading).to_contain_text("to Ather Energy")  # the only OEM: chosen already
    order = form.order(1, "Rizta Z · Siachen White", 5).save_draft()
    expect(order.flash).to_contain_text("Draft order to Ather Energy saved")
    expect(order.status).to_have_text("Draft")
    expect(order.lines).to_contain_text("₹1,10,000.00")
    expect(order.main.get_by_role("button", name="Approve")).to_have_count(0)  # not for accounts

    # The manager approves it (it takes its number) and marks it sent.
    login = order.switch_user()
    login.log_in("MGR1", "5937").open_module("Purchase orders")
    page.get_by_role("link", name=re.compile(r"^Draft #")).click()
    order = PurchaseOrderPage(page).press("Approve")
    expect(order.flash).to_contain_text(f"Order approved as BLRPO/{fy}/1")
    expect(order.heading).to_contain_text(f"Purchase order BLRPO/{fy}/1")
    order = order.press("Mark sent to the OEM")
    expect(order.status).to_have_text("Sent to the OEM")

    # The truck arrives: the OEM's dispatch list is pasted, checked row by row, then posted.
    mfg = (today.replace(day=1) - timedelta(days=1)).strftime("%b-%Y")
    vins = [b.new_vin() for _ in range(5)]
    motors = [f"ATRZ{2607140 + n}M" for n in range(5)]
    pasted = "\n".join(["Chassis No\tMotor No\tBattery No\tCharger No\tColour\tMfg Month",
                        *(f"{vin}\t{motor}\tBT{motor}\tCH{motor}\tSiachen White\t{mfg}"
                          for vin, motor in zip(vins, motors))])
    receipt = order.receive_goods().paste(pasted).check()
    expect(receipt.preview).to_contain_text("Every row is in order. Nothing is saved until you confirm.")
    for vin in vins:
        expect(receipt.preview_row(vin)).to_contain_text("✓")
    assert no_sideways_scroll(page) <= 0
    posted = receipt.confirm()
    expect(posted.flash).to_contain_text(f"Goods receipt BLRGRN/{fy}/1 posted")
    for vin in vins:
        expect(posted.vehicles).to_contain_text(vin)
    expect(posted.vehicles.get_by_role("row").filter(has=page.get_by_role("cell"))).to_have_count(5)

    # Stock: a scrap of the third scooter's motor number finds it; its page tells where it came from.
    posted.open_module("Vehicles")
    stock = VehicleStockPage(page)
    expect(stock.rows).to_have_count(5)
    stock.search_box.press_sequentially(motors[2][-5:-1], delay=40)
    expect(stock.rows).to_have_count(1)
    expect(stock.rows.first).to_contain_text(vins[2])
    stock.open_vehicle(vins[2])
    unit = UnitPage(page).main
    expect(unit.get_by_role("heading", level=1)).to_contain_text(vins[2])
    expect(unit).to_contain_text(f"BLRGRN/{fy}/1")
    expect(unit).to_contain_text(f"BLRPO/{fy}/1")
    expect(unit.get_by_role("heading", name="Status history")).to_be_visible()
    expect(unit).to_contain_text(f"BT{motors[2]}")
    console.assert_clean()


def test_a_barcode_scanners_enter_moves_along_the_boxes_and_adds_the_scooter_to_the_list(
        page: Page, console, engine, make_branch, make_staff):
    branch = make_branch()
    make_staff("MGR1", "MANAGER", "5937", name="Meena Iyer", branch_id=branch)
    with engine.begin() as conn:
        oem_id = b.oem(conn, brand="Ather Energy")
        variant_id = b.variant(conn, b.model(conn, oem_id, name="Rizta"), name="Z")
        b.colour(conn, variant_id, "Siachen White")
        po = b.purchase_order(conn, branch, oem_id, order_date=str(today_ist()))
        b.po_line(conn, po, 2, "110000.00", variant_id=variant_id, colour="Siachen White")
        b.approve_po(conn, po, b.staff(conn, branch, "MANAGER"))
        b.send_po(conn, po)
    LoginPage.open(page).log_in("MGR1", "5937")
    receipt = PurchaseOrderPage.open(page, po).receive_goods()
    scan = receipt.one_at_a_time
    vin = b.new_vin()
    # A USB scanner types fast and ends each code with Enter.
    scan.get_by_label("VIN").press_sequentially(vin, delay=5)
    scan.get_by_label("VIN").press("Enter")
    expect(scan.get_by_label("Motor no")).to_be_focused()
    for label, code, then in (("Motor no", "ATRZ0000001M", "Battery serial(s)"),
                              ("Battery serial(s)", "BTATRZ0000001", "Charger serial"),
                              ("Charger serial", "CHATRZ0000001", "Key no")):
        scan.get_by_label(label).press_sequentially(code, delay=5)
        scan.get_by_label(label).press("Enter")
        expect(scan.get_by_label(then)).to_be_focused()
    scan.get_by_label("Key no").press_sequentially("K7", delay=5)
    with page.expect_navigation():  # Enter in the last box adds the scooter to the list
        scan.get_by_label("Key no").press("Enter")
    receipt = GoodsReceiptPage(page)
    expect(receipt.dispatch_list).to_have_value(re.compile(rf"\n{vin}\tATRZ0000001M\tBTATRZ0000001\t"))
    expect(receipt.preview_row(vin)).to_contain_text("Mfg month: missing")  # the month box was left empty
    expect(scan.get_by_label("VIN")).to_be_focused()  # ready for the next scooter
    console.assert_clean()
