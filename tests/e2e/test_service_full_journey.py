"""A scooter's whole visit in a real browser on a 768 px tablet: the service advisor finds it by its
registration number typed with spaces, opens a job card and records the battery reading, prices the
estimate (labour and a part) and records the customer's approval; the technician, on their own
tablet, moves the card along the board; the part is issued from stock; after the quality check the
advisor makes the invoice, takes the payment by UPI at billing's receipt screen and issues the gate
pass, which delivers the card; the vehicle's history shows the invoice and the gate pass, and the
next service due. The bill, the gate pass, the job card with its invoice and the vehicle page are
checked and photographed at 768x1024 and 1366x768 ($SCREENSHOT_DIR, else the test's folder)."""
from __future__ import annotations

import os
import re
from pathlib import Path

import builders as b
import pytest
import service_builders as sb
import service_work_builders as wb
import sqlalchemy as sa
from playwright.sync_api import expect

from .pages.auth import LoginPage
from .pages.layout import LoggedIn
from .pages.service import ArrivalPage, BillPage, BoardPage, JobCardPage, VehiclePage
from .pages.service_work import EstimatePage, PartsPage, WorkScreen

pytestmark = pytest.mark.browser

TABLET = {"width": 768, "height": 1024}
LAPTOP = {"width": 1366, "height": 768}
PIN = "4826"


def shoot(screen: LoggedIn, folder: Path, name: str) -> None:
    """The screen at both sizes: nothing out of reach, photographed; back at the tablet's size."""
    assert WorkScreen(screen.page).at_both_sizes(folder, name) == []
    screen.page.set_viewport_size(TABLET)


def test_arrival_to_gate_pass_on_a_tablet(new_page, console, engine, make_branch, make_staff, tmp_path):
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    branch = make_branch(invoice_prefix="BLR", legal_name="Volt Motors Pvt Ltd")
    make_staff("ADV1", "SERVICE_ADVISOR", PIN, name="Sunil Rao", branch_id=branch)
    tech_id, _, _ = make_staff("TEC1", "TECHNICIAN", PIN, name="Imran Khan", branch_id=branch)
    with engine.begin() as conn:
        variant = b.variant(conn, b.model(conn, b.oem(conn, brand="Ather Energy"), name="Rizta"), name="S")
        customer = b.customer(conn, branch, name="Lakshmi Narayanan")
        vehicle = sb.outside_vehicle(conn, branch, variant_id=variant, customer_id=customer, reg_no="KA05MN2468",
                                     pack_serial="ATHPK0002468", sale_date="2025-03-01")
        wb.labour(conn, hours="1.00", rate="500.00", code="PSV-GEN")
        part = b.part(conn, part_no="BRK-PAD-R02", purchase_price="200.00")
        b.receive(conn, branch, part, "5", "200.00")

    # Arrival: the number as the customer says it; a paid service at 6,150 km with a battery reading.
    counter = new_page(viewport=TABLET, has_touch=True)
    LoginPage.open(counter).log_in_typing("ADV1", PIN)
    arrival = ArrivalPage.open(counter).find("KA 05 MN 2468")
    expect(arrival.vehicle("KA05MN2468")).to_contain_text("ATHPK0002468")
    card = arrival.open_job_card("KA05MN2468").fill(
        service_type="Paid service", odometer="6150", complaints="Rear brake weak; periodic service").open()
    expect(card.heading).to_contain_text(re.compile(r"Job card BLRJC/\d\d/1"))
    job_card_id = int(re.search(r"/job-cards/(\d+)", counter.url).group(1))
    reading = card.record_reading()
    card = reading.fill(soh="93", soc="70", cycles="240", cell_max="3.410", cell_min="3.395", temperature="31",
                        insulation="20", faults="", charger="OK").save()
    expect(card.readings).to_contain_text("ATHPK0002468")

    # The estimate: one labour operation and a part; the customer approves it at the counter.
    estimate = EstimatePage.open(counter, job_card_id)
    estimate = estimate.add(operation="PSV-GEN", technician=tech_id)
    expect(estimate.flash).to_contain_text("Line added")
    estimate = estimate.add(part=part, qty="1", technician=tech_id)
    expect(estimate.flash).to_contain_text("Line added")
    expect(estimate.lines).to_have_count(2)
    estimate = estimate.record_approval().record("IN_PERSON")
    expect(estimate.flash).to_contain_text("approved")
    expect(estimate.state).to_have_text("Approved")

    # The technician starts the work from the board on the bay's tablet.
    bay = new_page(viewport=TABLET, has_touch=True)
    LoginPage.open(bay).log_in_typing("TEC1", PIN)
    board = BoardPage.open(bay).move("KA05MN2468", "In progress")
    expect(board.column("In progress").get_by_role("article")).to_contain_text("KA05MN2468")

    # The part leaves stock; the technician finishes: quality check, then ready.
    parts = PartsPage.open(counter, job_card_id).issue()
    expect(parts.flash).to_contain_text("1 issued to job card")
    for to in ("Quality check", "Ready"):
        board.move("KA05MN2468", to)
        expect(board.column(to).get_by_role("article")).to_contain_text("KA05MN2468")
    assert "₹" not in bay.content()

    # The bill: the invoice from the job card, then the payment by UPI at billing's receipt screen.
    counter.goto(f"/service/job-cards/{job_card_id}")
    card = JobCardPage(counter)
    card.bill_link.click()
    bill = BillPage(counter)
    expect(bill.heading).to_be_visible()
    # 1 h x 500 + 18 % = 590.00; the pad at its MRP (GST included).
    expect(bill.lines_totals).to_contain_text("₹")
    assert WorkScreen.too_small_to_tap([bill.make_invoice_button]) == []
    shoot(bill, folder, "service-bill-draft")
    bill = bill.make_invoice()
    expect(bill.invoice).to_contain_text(re.compile(r"BLRSI/\d\d/1"))
    shoot(bill, folder, "service-bill-invoiced")
    # Unpaid: the advisor (not a manager) is told the gate pass waits for the payment.
    expect(bill.gate_pass_waits).to_contain_text("a manager may release the vehicle on credit")
    expect(bill.gate_pass_button).to_have_count(0)
    bill.take_payment(mode="UPI", reference="UPI 612345678901")
    bill = BillPage.open(counter, job_card_id)
    expect(bill.invoice).to_contain_text("₹0.00")
    assert WorkScreen.too_small_to_tap([bill.gate_pass_button]) == []
    gate = bill.issue_gate_pass()
    expect(gate.heading).to_contain_text(re.compile(r"Gate pass BLRGP/\d\d/1"))
    expect(gate.detail("Payment")).to_have_text("Paid in full")
    shoot(LoggedIn(counter), folder, "service-gate-pass")

    # The card is delivered; its page shows the invoice and the gate pass.
    counter.goto(f"/service/job-cards/{job_card_id}")
    card = JobCardPage(counter)
    expect(card.state).to_have_text("Delivered")
    expect(card.detail("Invoice")).to_contain_text("balance due ₹0.00")
    expect(card.detail("Gate pass")).to_contain_text("BLRGP/")
    shoot(LoggedIn(counter), folder, "service-job-card-delivered")

    # The vehicle's history: the invoice and the gate pass; the next service due (6 months / 5,000 km).
    history = VehiclePage.open(counter, vehicle)
    expect(history.main).to_contain_text(re.compile(r"Invoice BLRSI/\d\d/1"))
    expect(history.main).to_contain_text(re.compile(r"Gate pass BLRGP/\d\d/1"))
    expect(history.next_service).to_contain_text("11,150 km")
    shoot(LoggedIn(counter), folder, "service-vehicle-after-delivery")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT state FROM service.job_card WHERE job_card_id = :j"),
                            {"j": job_card_id}).scalar() == "DELIVERED"
    console.assert_clean()
