"""In a real browser on a 768 px tablet: the service advisor sees the recall open for the scooter on
its job card and adds it to the card; the line done, the campaign's report shows the VIN done and
offers its recall claim, raised from there; an extended plan is sold for the VIN on a counter
invoice; the manager sets the paid-service interval. Every screen added or changed is then
photographed at 768x1024 and 1366x768 (into $H12_SCREENSHOTS when set, else the test's temporary
folder) and must not scroll sideways."""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import claim_ids as cb
import pytest
import sqlalchemy as sa
from builders import scalar
from playwright.sync_api import expect

from webapp.formatting import today_ist

from .pages.auth import LoginPage
from .pages.layout import screens_too_wide

pytestmark = pytest.mark.browser

TABLET = {"width": 768, "height": 1024}


def test_a_recall_goes_from_the_job_card_to_its_claim_and_a_plan_is_sold_on_an_invoice(
        new_page, console, engine, make_staff, tmp_path):
    with engine.begin() as conn:
        w = cb.workshop(conn, sold_here=True)
        vin = scalar(conn, "SELECT vin FROM service.vehicle WHERE vehicle_id = :v", v=w.vehicle_id)
        campaign_id = scalar(conn, """
            INSERT INTO warranty.campaign (oem_id, code, title, kind, opened_on, match_by, operation_code)
            VALUES (:o, 'RC-BRAKE-01', 'Front brake hose inspection', 'RECALL', :d, 'VIN_LIST', :op)
            RETURNING campaign_id""", o=w.oem_id, d=today_ist() - timedelta(days=30), op=w.operation_code)
        conn.execute(sa.text("INSERT INTO warranty.campaign_vin (campaign_id, vin) VALUES (:c, :v)"),
                     {"c": campaign_id, "v": vin})
        conn.execute(sa.text("""
            INSERT INTO warranty.plan (oem_id, name, vehicle_extra_years, battery_extra_years, price, valid_from,
                                       buy_within_months)
            VALUES (:o, 'Care Plus 2 years', 2, 2, 4999, '2026-01-01', 24)"""), {"o": w.oem_id})
    make_staff("SA01", "SERVICE_ADVISOR", "4826", name="Manjunath K", branch_id=w.branch_id)
    make_staff("MG01", "MANAGER", "482913", name="Lakshmi Rao", branch_id=w.branch_id)
    page = new_page(viewport=TABLET, has_touch=True)
    LoginPage.open(page).log_in("SA01", "4826")
    shots = Path(os.environ.get("H12_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    card = f"/service/job-cards/{w.job_card_id}"
    before = screens_too_wide(page, {"job-card-campaign-offered": card}, shots, "h12")

    page.goto(card)
    page.get_by_role("button", name="Add to this job card").click()
    expect(page.get_by_text("Campaign added to job card")).to_be_visible()
    expect(page.get_by_text("On this job card")).to_be_visible()
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE service.job_line SET status = 'DONE' WHERE campaign_id = :c"), {"c": campaign_id})

    page.goto(f"/warranty/campaigns/{campaign_id}")
    page.get_by_role("link", name="Claim").click()
    expect(page.get_by_role("heading", name="Claim a recall")).to_be_visible()
    page.get_by_role("button", name="Raise the claim").click()
    expect(page.get_by_text("Recall claim raised as a draft")).to_be_visible()

    page.goto(f"/warranty/plans/sell?vin={vin}")
    page.get_by_label("Plan").select_option(label="Care Plus 2 years · ₹4,999.00 + GST")
    page.get_by_role("button", name="Sell the plan").click()
    expect(page.get_by_text(f"Plan sold for {vin}")).to_be_visible()
    expect(page.get_by_text("998714").first).to_be_visible()
    invoice = page.url

    wide = before + screens_too_wide(page, {
        "job-card-campaign-added": card,
        "campaign-report-claim": f"/warranty/campaigns/{campaign_id}",
        "recall-claim-form": f"/warranty/campaigns/{campaign_id}/claims/new?vin={vin}",
        "plan-sell": f"/warranty/plans/sell?vin={vin}",
        "plan-invoice": invoice,
    }, shots, "h12")

    manager = new_page(viewport=TABLET, has_touch=True)
    LoginPage.open(manager).log_in("MG01", "482913")
    manager.goto("/service/settings")
    manager.get_by_label("Every (months)").fill("40")
    manager.get_by_role("button", name="Add the interval").click()
    expect(manager.get_by_text("1 to 36 months")).to_be_visible()
    manager.screenshot(path=str(shots / "h12-interval-refused-768x1024.png"), full_page=True)
    manager.get_by_label("Every (months)").fill("4")
    manager.get_by_label("Or every (km)").fill("4000")
    manager.get_by_label("From").last.fill((today_ist() + timedelta(days=30)).strftime("%d-%m-%Y"))
    manager.get_by_role("button", name="Add the interval").click()
    expect(manager.get_by_text("Paid service every 4 months")).to_be_visible()
    wide += screens_too_wide(manager, {"service-settings-interval": "/service/settings"}, shots, "h12")
    assert wide == []
    console.assert_clean()


def test_the_sale_page_names_the_plan_its_extended_warranty_charge_sells(new_page, console, engine, make_staff,
                                                                          tmp_path):
    import builders as b
    with engine.begin() as conn:
        sale = b.sale_setup(conn)
        booking_id = b.booking(conn, sale)
        conn.execute(sa.text("""
            INSERT INTO sales.booking_item (booking_id, line_no, item_code, description, amount, hsn_code)
            VALUES (:b, 40, 'EXT_WARRANTY', 'Extended warranty', 5899, '998714')"""), {"b": booking_id})
        conn.execute(sa.text("""
            INSERT INTO warranty.plan (oem_id, name, vehicle_extra_years, price, valid_from)
            VALUES (:o, 'Care Plus 2 years', 2, 4999, '2026-01-01')"""), {"o": sale.catalog.oem_id})
    make_staff("MG02", "MANAGER", "482913", name="Lakshmi Rao", branch_id=sale.branch_id)
    page = new_page(viewport=TABLET, has_touch=True)
    LoginPage.open(page).log_in("MG02", "482913")
    page.goto(f"/sales/bookings/{booking_id}")
    page.get_by_label("Plan").select_option(label="Care Plus 2 years · ₹4,999.00 + GST")
    page.get_by_role("button", name="Save the plan").click()
    expect(page.get_by_text("The invoice will sell the plan")).to_be_visible()
    shots = Path(os.environ.get("H12_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    assert screens_too_wide(page, {"sale-plan-panel": f"/sales/bookings/{booking_id}#sale-plan"}, shots, "h12") == []
    console.assert_clean()
