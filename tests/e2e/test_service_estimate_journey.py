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
from playwright.sync_api import Page, expect

from .pages.auth import LoginPage
from .pages.layout import tables_on_screen

pytestmark = pytest.mark.browser

TABLET = {"width": 768, "height": 1024}
LAPTOP = {"width": 1366, "height": 768}
PIN = "4826"


def shots_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def all_in_reach(page: Page, what: str) -> None:
    found = tables_on_screen(page)
    assert found["sideways"] == 0, f"{what}: the page scrolls sideways by {found['sideways']} px"
    assert found["silent"] == [], f"{what}: a box scrolls with no hint"
    for table in found["tables"]:
        assert table["unseen"] == [], f"{what}: {table['table']}: out of reach {table['unseen']}"


def touch_sized(page: Page, buttons) -> None:
    for button in buttons:
        box = button.bounding_box()
        assert box and box["height"] >= 44, f"{button} is {box and box['height']} px high"


def shoot(page: Page, folder: Path, name: str) -> None:
    """The screen at both sizes, checked and photographed; left at the laptop's size."""
    for size in (TABLET, LAPTOP):
        page.set_viewport_size(size)
        # The page marks the boxes that scroll when it sees the new size (a resize observer): two frames.
        page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
        all_in_reach(page, f"{name} at {size['width']} px")
        page.screenshot(path=str(folder / f"{name}-{size['width']}x{size['height']}.png"), full_page=True)


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
    page.goto(f"/service/job-cards/{card}/estimate")
    page.get_by_label("Labour operation").select_option("BRK-OVH")
    page.get_by_label("Technician").select_option(str(tech_id))
    page.get_by_role("button", name="Add to the estimate").click()
    expect(page.locator(".flash.success")).to_contain_text("Line added")
    page.get_by_label("Part", exact=True).select_option(str(part))
    page.get_by_label("Quantity (hours for labour)").fill("2")
    page.get_by_label("Technician").select_option(str(tech_id))
    page.get_by_role("button", name="Add to the estimate").click()
    expect(page.locator(".flash.success")).to_contain_text("Line added")
    lines = page.locator("table.estimate tbody tr")
    expect(lines).to_have_count(2)
    # 1.5 h x 450 + 18 % = 796.50; 2 x 620 (MRP, GST incl.) = 1,240.00: 2,036.50, rounded 2,037.00.
    expect(page.locator("table.estimate tfoot")).to_contain_text("₹2,037.00")
    touch_sized(page, [page.get_by_role("button", name="Add to the estimate"),
                       page.get_by_role("link", name="Record the customer's approval")])
    shoot(page, folder, "estimate")

    # A price with letters: refused next to the field, what was typed kept, nothing added.
    page.get_by_label("Labour operation").select_option("BRK-OVH")
    page.get_by_label("Unit price (₹)").fill("45O")
    page.get_by_role("button", name="Add to the estimate").click()
    expect(page.locator("#unit_price-help .error")).to_be_visible()
    expect(page.get_by_label("Unit price (₹)")).to_have_value("45O")
    expect(lines).to_have_count(2)

    # The customer approves by phone: the lines are approved, the card with them.
    page.get_by_role("link", name="Record the customer's approval").click()
    expect(page.get_by_label("Amount approved, GST included (₹)")).to_have_value("2037.00")
    page.get_by_label("How").select_option("PHONE")
    page.get_by_role("button", name="Record the approval").click()
    expect(page.locator(".flash.success")).to_contain_text("2 line(s) approved")
    expect(page.locator(".page-head .badge")).to_have_text("Approved")

    # The part leaves stock from the parts screen.
    page.get_by_role("link", name="Parts", exact=True).click()
    issue = page.get_by_label("Issue (NOS)")
    expect(issue).to_have_value("2")
    touch_sized(page, [page.get_by_role("button", name="Issue", exact=True)])
    page.get_by_role("button", name="Issue", exact=True).click()
    expect(page.locator(".flash.success")).to_contain_text("2 issued to job card")
    expect(page.locator("table.parts-lines tbody tr").first).to_contain_text("2")
    shoot(page, folder, "parts")

    # The technician, on a tablet: no price anywhere; the labour line marked done with one tap.
    tablet = new_page(viewport=TABLET, has_touch=True)
    LoginPage.open(tablet).log_in_typing("TEC1", PIN)
    tablet.goto("/service/my-jobs")
    rows = tablet.locator("table.my-jobs tbody tr")
    expect(rows).to_have_count(2)
    assert "₹" not in tablet.content()
    all_in_reach(tablet, "my work at 768 px")
    done = rows.filter(has_text="BRK-OVH").get_by_role("button", name="Done")
    touch_sized(tablet, [done])
    done.tap()
    expect(tablet.locator(".flash.success")).to_contain_text("Done")
    expect(rows.filter(has_text="BRK-OVH")).to_contain_text("Done")
    tablet.screenshot(path=str(folder / "my-work-768x1024.png"), full_page=True)
    tablet.goto(f"/service/job-cards/{card}/parts")
    assert "₹" not in tablet.content()
    assert tablet.goto(f"/service/job-cards/{card}/estimate").status == 403
    console.assert_clean()
