"""A battery pack swapped under warranty, through to a settled claim, in a real browser on a 768 px
tablet: the service advisor opens the scooter's job card (its pack read at 61 % SoH with BMS fault
codes), swaps the pack for a new one, chooses the reading as evidence and records the claim as
submitted on the OEM's portal; the accountant records the OEM's approval and the amount it credited
(less than claimed); the vehicle's page then shows the new pack in its history. Every new screen is
then photographed at 768x1024 and 1366x768 (into $CLAIM_SCREENSHOTS when set, else the test's
temporary folder) and must not scroll sideways."""
from __future__ import annotations

import os
import re
from pathlib import Path

import claim_ids as cb
import pytest
import sqlalchemy as sa
from builders import scalar
from playwright.sync_api import expect

from .pages.auth import LoginPage
from .pages.claims import ClaimPage, PackSwapForm
from .pages.layout import screens_too_wide
from .pages.service import JobCardPage, VehiclePage

pytestmark = pytest.mark.browser

TABLET = {"width": 768, "height": 1024}


def test_a_pack_swapped_under_warranty_is_claimed_submitted_approved_settled_and_in_the_vehicles_history(
        new_page, console, engine, make_staff, tmp_path):
    with engine.begin() as conn:
        w = cb.workshop(conn, sold_here=True)
        conn.execute(sa.text("UPDATE oem.oem SET dealer_code = 'DLR-KA-0042' WHERE oem_id = :o"), {"o": w.oem_id})
        conn.execute(sa.text("UPDATE master.part SET name = 'Battery pack 3 kWh LFP' WHERE part_id = :p"),
                     {"p": w.part_id})
        scalar(conn, """INSERT INTO service.battery_reading (job_card_id, pack_id, soh_pct, soc_pct, cell_v_max,
                                                            cell_v_min, fault_codes)
                        VALUES (:j, :p, 61.0, 90, 3.52, 3.30, '{P0A7F,BMS-17}') RETURNING reading_id""",
               j=w.job_card_id, p=w.pack_id)
        old_serial = scalar(conn, "SELECT serial FROM inventory.battery_pack WHERE pack_id = :p", p=w.pack_id)
        part_label = scalar(conn, "SELECT part_no || ' · ' || name FROM master.part WHERE part_id = :p", p=w.part_id)
    make_staff("SA01", "SERVICE_ADVISOR", "4826", name="Manjunath K", branch_id=w.branch_id)
    make_staff("AC01", "ACCOUNTS", "482913", name="Farah Begum", branch_id=w.branch_id)
    page = new_page(viewport=TABLET, has_touch=True)
    LoginPage.open(page).log_in("SA01", "4826")

    page.goto(f"/service/job-cards/{w.job_card_id}")
    expect(JobCardPage(page).heading).to_be_visible()
    swap = PackSwapForm.from_job_card(page)
    refused = swap.swap(new_serial=old_serial, part=part_label)      # the failed pack is not its own replacement
    expect(page.get_by_text("The new pack is another pack than the failed one")).to_be_visible()
    claim = PackSwapForm(page).swap(new_serial="NEWPACK88001")
    expect(claim.heading).to_contain_text("Battery (pack)")
    expect(claim.flash).to_contain_text("Pack NEWPACK88001 fitted")
    expect(claim.line(old_serial)).to_contain_text("NEWPACK88001")
    expect(claim.line(old_serial)).to_contain_text("₹42,000.00")
    assert refused is not None

    claim = claim.choose_evidence(cause="Cell group 3 imbalance; SoH 61 % below the 70 % floor",
                                  correction="Battery pack replaced under warranty",
                                  readings=[f"Pack {old_serial}"])
    expect(claim.evidence).to_contain_text("P0A7F, BMS-17")
    expect(claim.evidence.get_by_role("img", name=re.compile(r"^State of health of pack"))).to_be_visible()
    claim = claim.submitted("OEM/WC/26/5521")
    expect(claim.heading).to_contain_text("Battery (pack)")
    expect(claim.status).to_have_text("Submitted")
    claim_url = page.url

    claim.log_out().log_in("AC01", "482913")
    page.goto(claim_url)
    claim = ClaimPage(page).decided("Approved in full")
    expect(claim.status).to_have_text("Approved")
    claim = claim.settled("40,500", "CN-OEM-7781")
    expect(claim.flash).to_contain_text("₹40,500.00 credited")
    expect(claim.main.get_by_role("row", name=re.compile(r"^Short of the claim"))).to_contain_text("₹1,500.00")
    expect(claim.status).to_have_text("Settled")

    claim.log_out().log_in("SA01", "4826")
    vehicle = VehiclePage.open(page, w.vehicle_id)
    packs = vehicle.main.get_by_role("table").filter(has=page.get_by_role("columnheader", name="Removed"))
    new_row = packs.get_by_role("row", name=re.compile(r"^NEWPACK88001"))
    expect(new_row).to_contain_text("In the vehicle")
    expect(new_row).to_contain_text(f"Warranty replacement of {old_serial}")
    expect(packs.get_by_role("row", name=re.compile(rf"^{old_serial}"))).not_to_contain_text("In the vehicle")
    expect(vehicle.main).to_contain_text("Battery NEWPACK88001")     # the warranty panel: the new pack's cover
    console.assert_clean()

    with engine.connect() as conn:
        claim_id = conn.execute(sa.text("SELECT claim_id FROM warranty.claim WHERE job_card_id = :j"),
                                {"j": w.job_card_id}).scalar_one()
        line_id = conn.execute(sa.text("SELECT line_id FROM warranty.claim_line WHERE claim_id = :c"),
                               {"c": claim_id}).scalar_one()
    page.goto("/")
    shots = Path(os.environ.get("CLAIM_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    screens = {"job-card": f"/service/job-cards/{w.job_card_id}", "claim": f"/warranty/claims/{claim_id}",
               "claim-new": f"/warranty/job-cards/{w.job_card_id}/claims/new",
               "pack-swap": f"/warranty/job-cards/{w.job_card_id}/pack-swap",
               "register": "/warranty/claims?state=all", "returnable": "/warranty/returnable-parts",
               "part-returned": f"/warranty/claim-lines/{line_id}/returned", "labour-rates": "/warranty/labour-rates",
               "claim-line-new": f"/warranty/claims/{claim_id}/lines/new", "claim-settle": f"/warranty/claims/{claim_id}/settle"}
    assert screens_too_wide(page, screens, shots, "claim") == []
    console.assert_clean()
