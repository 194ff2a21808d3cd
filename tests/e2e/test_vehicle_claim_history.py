"""The demo workshop's pending warranty claim in a real browser on a 768 px tablet: the service
advisor opens the scooter waiting for parts, finds the claim submitted to the OEM in its service
history and follows it to the claim's page. The vehicle's page is photographed at 768x1024 (into
$CLAIM_SCREENSHOTS when set, else the test's temporary folder) and must not scroll sideways."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from .pages.auth import LoginPage
from .pages.claims import ClaimPage
from .pages.layout import no_sideways_scroll
from .pages.service import VehiclePage

pytestmark = pytest.mark.browser

TABLET = {"width": 768, "height": 1024}


def test_the_demos_pending_claim_is_in_its_vehicles_history_and_opens(app, new_page, console, engine, make_staff,
                                                                      tmp_path):
    from seed.demo import seed_demo

    with app.app_context(), engine.begin() as conn:
        seed_demo(conn, lambda: "482913")
    with engine.connect() as conn:
        claim = conn.execute(sa.text("""
            SELECT c.claim_no, c.vehicle_id, c.branch_id, c.oem_claim_ref FROM warranty.claim c
             WHERE c.status = 'SUBMITTED'""")).mappings().one()
    make_staff("SA9", "SERVICE_ADVISOR", "4826", name="Manjunath K", branch_id=claim["branch_id"])
    page = new_page(viewport=TABLET, has_touch=True)
    LoginPage.open(page).log_in("SA9", "4826")

    vehicle = VehiclePage.open(page, claim["vehicle_id"])
    expect(vehicle.heading).to_contain_text("KA03MV1190")
    entry = vehicle.main.get_by_role("listitem").filter(has_text="Warranty claim")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text(re.compile(rf"{claim['claim_no']} · Warranty repair · Submitted · claimed ₹"))
    expect(entry).to_contain_text(f"OEM ref {claim['oem_claim_ref']}")
    assert no_sideways_scroll(page) == 0
    shots = Path(os.environ.get("CLAIM_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "vehicle-with-claim-768x1024.png"), full_page=True)

    entry.get_by_role("link").click()
    claim_page = ClaimPage(page)
    expect(claim_page.heading).to_contain_text(claim["claim_no"])
    expect(claim_page.status).to_have_text("Submitted")
    expect(claim_page.line("ATH-BMS-29")).to_contain_text(re.compile(r"BMS\d+A\d+"))
    console.assert_clean()
