"""The work on a job card in a real browser, on a 768 px tablet and a 1366 px laptop: the service
advisor prices the estimate (a labour operation and a part, GST per line, the customer's total),
records the customer's approval by phone, issues the part from stock; the technician, on a tablet,
sees the work without a price and marks the labour done. On each screen nothing is out of reach
(every cell on screen or in its box that scrolls sideways, no sideways page) and the buttons are
touch-sized. Screenshots of the estimate and parts screens at both sizes go to $SCREENSHOT_DIR
(else the test's temporary folder) for a person to look at."""
from __future__ import annotations

import os
from pathlib import Path

import builders as b
import pytest
import service_builders as sb
import service_work_builders as wb
from playwright.sync_api import expect

from .pages.auth import LoginPage
from .pages.service_work import LAPTOP, TABLET, EstimatePage, MyWorkPage, PartsPage

pytestmark = pytest.mark.browser

PIN = "4826"


def shots_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_estimate_approval_parts_and_the_technicians_work_on_a_tablet(new_page, console, engine, make_staff,
                                                                     make_branch, tmp_path):
    branch = make_branch()
    folder = shots_dir(tmp_path)
    make_staff("SA1", "SERVICE_ADVISOR", PIN, name="Farah Sheikh", branch_id=branch)
    tech_id, _, _ = make_staff("TEC1", "TECHNICIAN", PIN, name="Manjunath Gowda", branch_id=branch)
    with engine.begin() as conn:
        customer = b.customer(conn, branch, name="Venkatesh Subramaniam Iyer")
        vehicle = sb.outside_vehicle(conn, branch, reg_no="KA03HX4567", customer_id=customer)
        card = sb.job_card(conn, branch, vehicle, odometer_km=5400,
                           complaints="Front brake squeals; range has dropped since the monsoon")
        wb.labour(conn, hours="1.50", rate="450.00", code="BRK-OVH")
        part = b.part(conn, part_no="BRK-SHOE-F01", purchase_price="310.00")
        b.receive(conn, branch, part, "4", "310.00")

    # The service advisor, at the counter on a laptop: two lines, GST per line, the customer's total.
    page = new_page(viewport=LAPTOP)
    LoginPage.open(page).log_in_typing("SA1", PIN)
    estimate = EstimatePage.open(page, card).add(operation="BRK-OVH", technician=tech_id)
    expect(estimate.flash).to_contain_text("Line added")
    estimate = estimate.add(part=part, qty="2", technician=tech_id)
    expect(estimate.flash).to_contain_text("Line added")
    expect(estimate.lines).to_have_count(2)
    # 1.5 h x 450 + 18 % = 796.50; 2 x 620 (MRP, GST incl.) = 1,240.00: 2,036.50, rounded 2,037.00.
    expect(estimate.customer_total).to_contain_text("₹2,037.00")
    assert estimate.too_small_to_tap([estimate.add_button, estimate.approval_link]) == []
    assert estimate.at_both_sizes(folder, "estimate") == []

    # A price with letters: refused next to the field, what was typed kept, nothing added.
    estimate = estimate.add(operation="BRK-OVH", unit_price="45O")
    expect(estimate.error_of("Unit price (₹)")).to_be_visible()
    expect(estimate.unit_price).to_have_value("45O")
    expect(estimate.lines).to_have_count(2)

    # The customer approves by phone: the lines are approved, the card with them.
    approval = estimate.record_approval()
    expect(approval.amount).to_have_value("2037.00")
    estimate = approval.record("PHONE")
    expect(estimate.flash).to_contain_text("2 line(s) approved")
    expect(estimate.state).to_have_text("Approved")

    # The part leaves stock from the parts screen.
    parts = estimate.parts()
    expect(parts.issue_qty("NOS")).to_have_value("2")
    assert parts.too_small_to_tap([parts.issue_button]) == []
    parts = parts.issue()
    expect(parts.flash).to_contain_text("2 issued to job card")
    expect(parts.lines.first).to_contain_text("2")
    assert parts.at_both_sizes(folder, "parts") == []

    # The technician, on a tablet: no price anywhere; the labour line marked done with one tap.
    tablet = new_page(viewport=TABLET, has_touch=True)
    LoginPage.open(tablet).log_in_typing("TEC1", PIN)
    work = MyWorkPage.open(tablet)
    expect(work.rows).to_have_count(2)
    assert "₹" not in tablet.content()
    assert work.out_of_reach("my work at 768 px") == []
    assert work.too_small_to_tap([work.done_button("BRK-OVH")]) == []
    work = work.mark_done("BRK-OVH")
    expect(work.flash).to_contain_text("Done")
    expect(work.row("BRK-OVH")).to_contain_text("Done")
    tablet.screenshot(path=str(folder / "my-work-768x1024.png"), full_page=True)
    PartsPage.open(tablet, card)
    assert "₹" not in tablet.content()
    assert tablet.goto(f"/service/job-cards/{card}/estimate").status == 403
    console.assert_clean()
