"""In a real browser: the demo's scooter sold here found at arrival by its registration number typed
with spaces, its page with the state-of-health trend and its visits (two free services, a paid service
invoiced, gate passes); a job card's bill page after a credit note (the earlier bill and its note, the
card billed again); a free service used at another branch refused on the job card form with that visit.
Each screen is photographed at 768x1024 and 1366x768 (into $SOLD_HERE_SCREENSHOTS when set, else the
test's temporary folder) and must not scroll sideways."""
from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from .pages.auth import LoginPage
from .pages.layout import no_sideways_scroll, screens_too_wide
from .pages.service import ArrivalPage, BillPage, JobCardForm, VehiclePage

pytestmark = pytest.mark.browser

TABLET = {"width": 768, "height": 1024}


def shots_folder(tmp_path) -> Path:
    folder = Path(os.environ.get("SOLD_HERE_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_the_demos_scooter_sold_here_is_found_at_arrival_with_its_service_history(app, new_page, console, engine,
                                                                                 make_staff, tmp_path):
    from seed.demo import seed_demo

    with app.app_context(), engine.begin() as conn:
        seed_demo(conn, lambda: "482913")
    with engine.connect() as conn:
        vehicle_id, branch_id = conn.execute(sa.text(
            "SELECT vehicle_id, branch_id FROM service.vehicle WHERE registration_no = 'KA03NE2468'")).one()
    make_staff("SA9", "SERVICE_ADVISOR", "4826", name="Manjunath K", branch_id=branch_id)
    page = new_page(viewport=TABLET, has_touch=True)
    LoginPage.open(page).log_in("SA9", "4826")

    arrival = ArrivalPage.open(page).find("ka 03 ne 2468")
    found = arrival.vehicle("KA03NE2468")
    expect(found).to_be_visible()
    expect(found).to_contain_text("Kiran Patil")
    found.get_by_role("link", name=re.compile("KA03NE2468")).first.click()
    vehicle = VehiclePage(page)
    expect(vehicle.heading).to_contain_text("KA03NE2468")
    expect(vehicle.soh_charts).to_have_count(1)
    for visit in ("Free service 1", "Free service 2", "Paid service"):
        expect(vehicle.main.get_by_role("listitem").filter(has_text=visit).first).to_be_visible()
    expect(vehicle.main.get_by_role("listitem").filter(has_text=re.compile(r"Invoice BLRSI/\d\d/1"))).to_have_count(1)
    expect(vehicle.main.get_by_role("listitem").filter(has_text="Gate pass")).to_have_count(3)
    assert no_sideways_scroll(page) == 0
    folder = shots_folder(tmp_path)
    assert screens_too_wide(page, {"vehicle": f"/service/vehicles/{vehicle_id}",
                                   "arrival": "/service/?q=KA+03+NE+2468"}, folder, "sold-here") == []
    console.assert_clean()


def test_a_credited_bill_and_a_free_service_used_at_another_branch_on_the_screens(app, new_page, console, engine,
                                                                                make_staff, make_branch, tmp_path):
    import builders as bld
    import service_builders as sb
    from test_service_bill import free_card, free_schedule, invoice_for, link, ready_card

    from webapp.billing import posting
    from webapp.formatting import today_ist

    mysuru = make_branch(trade_name="Volt EV Mysuru")
    staff_id, _, _ = make_staff("SA8", "SERVICE_ADVISOR", "4826", name="Manjunath K")
    make_staff("AC8", "ACCOUNTS", "482913", name="Lakshmi Iyer")
    with engine.begin() as conn:
        branch = conn.execute(sa.text("SELECT branch_id FROM master.staff WHERE staff_id = :s"), {"s": staff_id}).scalar()
        _, card = ready_card(conn, branch)
        sb.move(conn, card, "READY")
        first = invoice_for(conn, card)
        link(conn, card, first)
        posting.post_credit_note(conn, first, on=today_ist(), reason="Wrong customer GSTIN on the bill",
                                 key=str(uuid.uuid4()))
        variant = bld.vehicle_catalog(conn).variant_id
        free_schedule(conn, variant)
        sold = today_ist().replace(day=1)
        vehicle = sb.outside_vehicle(conn, mysuru, variant_id=variant, sale_date=sold.isoformat())
        used = free_card(conn, mysuru, vehicle, 1, sold.isoformat(), 300)
        sb.move(conn, used, "APPROVED", "IN_PROGRESS", "QC", "READY", "DELIVERED")
        first_no = conn.execute(sa.text("SELECT invoice_no FROM billing.invoice WHERE invoice_id = :i"),
                                {"i": first}).scalar()
    page = new_page(viewport=TABLET, has_touch=True)
    LoginPage.open(page).log_in("SA8", "4826")
    folder = shots_folder(tmp_path)

    bill = BillPage.open(page, card)
    expect(bill.earlier_bills).to_contain_text(first_no)
    expect(bill.earlier_bills).to_contain_text("reversed by credit note")
    expect(bill.make_invoice_button).to_be_visible()
    assert screens_too_wide(page, {"bill-after-credit-note": f"/service/job-cards/{card}/bill"}, folder,
                            "rebill") == []
    page.set_viewport_size(TABLET)
    bill = BillPage.open(page, card)
    bill = bill.make_invoice()
    expect(bill.invoice).to_contain_text(re.compile(r"SI/\d\d/2"))
    expect(bill.earlier_bills).to_contain_text(first_no)
    page.screenshot(path=str(folder / "rebill-billed-again-768x1024.png"), full_page=True)

    page.goto(f"/service/vehicles/{vehicle}/job-cards/new")
    form = JobCardForm(page)
    form.fill(service_type="Free service", odometer="500", complaints="First free service", free_service_no="1")
    form.submit(form.main.get_by_role("button", name="Open the job card"))
    expect(form.error_of("Free service no.")).to_contain_text(
        re.compile(rf"already used on this vehicle on {sold:%d-%m-%Y} at Volt EV Mysuru \(job card .+JC/\d\d/1\)"))
    assert no_sideways_scroll(page) == 0
    for size in ({"width": 768, "height": 1024}, {"width": 1366, "height": 768}):
        page.set_viewport_size(size)
        page.screenshot(path=str(folder / f"free-service-used-elsewhere-{size['width']}x{size['height']}.png"),
                        full_page=True)
    console.assert_clean()
