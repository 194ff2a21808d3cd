"""Warranty in a real browser on a 768 px tablet: the service advisor checks a sold scooter's cover
(vehicle, the replacement battery pack, free services, an open recall), records the OEM's recall
from its pasted VIN list and marks it done; the manager adds an extended battery plan and sells it
for the scooter. Every warranty screen is then photographed at 768x1024 and 1366x768 (into
$WARRANTY_SCREENSHOTS when set, else the test's temporary folder) and must not scroll sideways."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect
from warranty_ids import sold_vehicle

from .pages.auth import LoginPage
from .pages.layout import no_sideways_scroll, screens_too_wide
from .pages.warranty import CampaignListPage, PlanListPage, WarrantyCheckPage

pytestmark = pytest.mark.browser

TABLET = {"width": 768, "height": 1024}


def test_the_workshop_checks_a_sold_scooter_records_a_recall_and_sells_an_extended_plan(
        new_page, console, engine, make_staff, tmp_path):
    sale, vin = sold_vehicle(engine)
    make_staff("SA01", "SERVICE_ADVISOR", "4826", name="Manjunath K", branch_id=sale.branch_id)
    make_staff("MGR1", "MANAGER", "4826", name="Meena Rao", branch_id=sale.branch_id)
    with engine.connect() as conn:
        oem = conn.execute(sa.text("SELECT brand FROM oem.oem WHERE oem_id = :o"), {"o": sale.catalog.oem_id}).scalar()
    page = new_page(viewport=TABLET, has_touch=True)
    dashboard = LoginPage.open(page).log_in("SA01", "4826")

    dashboard.open_module("Warranty check")
    check = WarrantyCheckPage(page).check(vin.lower(), "950")
    expect(check.cover_row("Vehicle")).to_contain_text("Covered")
    expect(check.cover_row("Battery PACKREPL0002")).to_contain_text("rest of the replaced pack")
    expect(check.free_service_row(1)).to_contain_text("Expired by date")   # due by 02-07-2026
    assert no_sideways_scroll(page) <= 0

    check.open_module("Recalls and campaigns")
    form = CampaignListPage(page).new_campaign()
    report = form.fill(oem=oem, code="RC-HOSE-26", title="Brake hose inspection",
                       vins=f"Chassis No\tDealer\n{vin}\tBLR\nMD2A0000000000777\tBLR").record()
    expect(report.flash).to_contain_text("Campaign RC-HOSE-26 recorded with 2 VINs.")
    expect(report.vin_row(vin)).to_contain_text("Pending")
    report = report.mark_done(vin, "JC-1001")
    expect(report.vin_row(vin)).to_contain_text("Done")
    expect(report.vin_row("MD2A0000000000777")).to_contain_text("Pending")
    campaign_url = page.url

    page.goto(f"/warranty/check?vin={vin}")
    expect(WarrantyCheckPage(page).panel).not_to_contain_text("RC-HOSE-26")   # done: no longer open
    WarrantyCheckPage(page).log_out().log_in("MGR1", "4826").open_module("Extended plans")
    plans = PlanListPage(page).add_plan().fill(oem=oem, name="Battery Shield", battery_years="3",
                                               battery_km="30000", price="6,999").save()
    expect(plans.main.get_by_role("row", name=re.compile(r"^Battery Shield"))).to_contain_text("+3 yr, +30,000 km")
    invoice = plans.sell_plan().find(vin).sell("Battery Shield · ₹6,999.00 + GST")
    expect(invoice.flash).to_contain_text(f"Plan sold for {vin}")
    expect(invoice.heading).to_be_visible()
    expect(invoice.main).to_contain_text("Battery Shield")
    page.goto(f"/warranty/check?vin={vin}")
    expect(WarrantyCheckPage(page).cover_row("Battery PACKREPL0002")).to_contain_text("extended by Battery Shield")
    console.assert_clean()

    shots = Path(os.environ.get("WARRANTY_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    with engine.connect() as conn:
        plan_id = conn.execute(sa.text("SELECT plan_id FROM warranty.plan WHERE name = 'Battery Shield'")).scalar()
    screens = {"check": f"/warranty/check?vin={vin}&km=950", "campaigns": "/warranty/campaigns?state=all",
               "campaign_new": "/warranty/campaigns/new", "campaign": campaign_url, "plans": "/warranty/plans",
               "plan_new": "/warranty/plans/new", "plan_edit": f"/warranty/plans/{plan_id}/edit",
               "plan_sell": f"/warranty/plans/sell?vin={vin}", "pack_rules": "/warranty/pack-rules"}
    assert screens_too_wide(page, screens, shots, "warranty") == []
    console.assert_clean()
