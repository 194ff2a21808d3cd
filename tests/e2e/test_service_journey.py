"""The workshop in a real browser on a 768 px tablet: the service advisor finds a scooter by its
registration number typed with spaces, opens a job card (a reading below the last odometer is
refused next to the field), records a battery reading (140 % SoH refused next to its field; a cell
imbalance flagged), fills in the checklist and approves the work; the technician, on their own
tablet, takes the card along the board with a tap per state while the advisor's board follows by
itself; the vehicle's page draws the pack's SoH over its job cards. Then every workshop screen is
opened on a tablet and a laptop: nothing scrolls sideways (screenshots are kept, in
$ERP_SCREENSHOTS when set).
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import builders as b
import pytest
import service_builders as sb
import sqlalchemy as sa
from playwright.sync_api import expect

from .pages.auth import LoginPage
from .pages.layout import no_sideways_scroll
from .pages.service import ArrivalPage, BoardPage, VehiclePage

pytestmark = pytest.mark.browser

TABLET = {"width": 768, "height": 1024}
LAPTOP = {"width": 1366, "height": 768}


def _workshop(engine, make_branch, make_staff) -> dict:
    """A branch with a service advisor and a technician, and a scooter sold elsewhere that was here
    once before (4,000 km, its pack at 96 % SoH)."""
    branch = make_branch(invoice_prefix="BLR", legal_name="Volt Motors Pvt Ltd")
    make_staff("ADV1", "SERVICE_ADVISOR", "3816", name="Sunil Rao", branch_id=branch)
    make_staff("TEC1", "TECHNICIAN", "4826", name="Imran Khan", branch_id=branch)
    with engine.begin() as conn:
        model = b.model(conn, b.oem(conn, brand="Ather Energy"), name="Rizta")
        variant = b.variant(conn, model, name="Z")
        # The model's first free service, at 12 months or 5,000 km (the earlier visit used it).
        conn.execute(sa.text("INSERT INTO oem.free_service (model_id, service_no, due_months, due_km) "
                             "VALUES (:m, 1, 12, 5000)"), {"m": model})
        b.colour(conn, variant, "Siachen White")
        customer = b.customer(conn, branch, name="Priya Raghavan")
        vehicle = sb.outside_vehicle(conn, branch, variant_id=variant, customer_id=customer, reg_no="KA01AB1234",
                                     pack_serial="ATHPK0001234", sale_date="2024-05-10")
        first = sb.job_card(conn, branch, vehicle, odometer_km=4000, service_type="FREE_SERVICE", free_service_no=1,
                            opened_at="2025-02-10 10:00+05:30")
        pack = conn.execute(sa.text("SELECT pack_id FROM inventory.battery_pack WHERE serial = 'ATHPK0001234'")).scalar()
        conn.execute(sa.text("""
            INSERT INTO service.battery_reading (job_card_id, pack_id, read_at, soh_pct, soc_pct, cell_v_max, cell_v_min)
            VALUES (:j, :p, '2025-02-10 11:00+05:30', 96, 80, 3.41, 3.40)"""), {"j": first, "p": pack})
        sb.move(conn, first, "APPROVED", "IN_PROGRESS", "QC", "READY", "DELIVERED")
    return {"branch": branch, "vehicle": vehicle}


def test_arrival_by_a_registration_with_spaces_to_a_job_card_with_battery_readings_moved_along_the_board(
        new_page, console, engine, make_branch, make_staff):
    shop = _workshop(engine, make_branch, make_staff)
    counter = new_page(viewport=TABLET, has_touch=True)

    # The advisor: Workshop > Arrival, the number as the customer says it.
    LoginPage.open(counter).log_in("ADV1", "3816").open_module("Arrival")
    arrival = ArrivalPage(counter)
    expect(arrival.heading).to_be_visible()
    found = arrival.find("KA 01 AB 1234").vehicle("KA01AB1234")
    expect(found).to_contain_text("4,000 km")
    expect(found).to_contain_text("SoH 96 %")
    expect(found).to_contain_text("ATHPK0001234")

    # A job card: the odometer may not go below the last reading.
    form = arrival.open_job_card("KA01AB1234")
    form.fill(service_type="Paid service", odometer="3900", complaints="Range dropped to 55 km; brakes squeak",
              promised="31-12-2099 17:30")
    form.submit(form.main.get_by_role("button", name="Open the job card"))
    expect(form.error_of("Odometer (km)")).to_contain_text("Below the vehicle's last reading")
    expect(form.main.get_by_label("Complaints, in the customer's words")).to_have_value(
        "Range dropped to 55 km; brakes squeak")
    card = form.fill(service_type="Paid service", odometer="5200", complaints="Range dropped to 55 km; brakes squeak").open()
    expect(card.heading).to_contain_text(re.compile(r"Job card BLRJC/\d\d/1"))
    expect(card.detail("Odometer")).to_have_text("5,200 km")

    # The battery: 140 % SoH is refused next to its field; a 120 mV cell imbalance is flagged.
    reading = card.record_reading()
    reading.fill(soh="140", soc="62", cycles="310", cell_max="3.480", cell_min="3.360", temperature="36",
                 insulation="15", faults="P0A7F, U0111", charger="OK").save_refused()
    expect(reading.error_of("State of health (%)")).to_contain_text("0 to 100 %")
    card = reading.fill(soh="89.5").save()
    expect(card.readings).to_contain_text("ATHPK0001234")
    expect(card.readings).to_contain_text("Cell imbalance")
    expect(card.readings).to_contain_text("P0A7F, U0111")

    # The checklist, then the work approved at the counter.
    card = card.fill_checklist().answer("Front brake", "OK").answer(
        "Rear brake", "Not OK", "Pads worn to 1 mm").save()
    expect(card.main).to_contain_text("Pads worn to 1 mm")
    card = card.move("Approved")
    expect(card.flash).to_contain_text("Approved")

    # The advisor keeps the board open; the technician moves the card on their own tablet.
    BoardPage.open(counter)
    watching = BoardPage(counter)
    expect(watching.column("Approved").get_by_role("article")).to_contain_text("KA01AB1234")
    bay = new_page(viewport=TABLET, has_touch=True)
    LoginPage.open(bay).log_in("TEC1", "4826")
    board = BoardPage.open(bay)
    expect(board.card("KA01AB1234")).to_contain_text("due 31-12-2099 17:30")
    # Not the technician's to approve an estimate: the approved card offers only the work.
    expect(board.card("KA01AB1234").get_by_role("button")).to_have_text(["In progress ›"])
    for to in ("In progress", "Quality check", "Ready"):
        board.move("KA01AB1234", to)
        expect(board.column(to).get_by_role("article")).to_contain_text("KA01AB1234")
    expect(board.card("KA01AB1234")).to_contain_text("min here")
    # The advisor's board follows without a reload (it asks again every 20 seconds).
    expect(watching.column("Ready").get_by_role("article")).to_contain_text("KA01AB1234", timeout=30_000)

    # The vehicle's page: the pack's SoH over its two job cards, and the history.
    vehicle = VehiclePage.open(counter, shop["vehicle"])
    expect(vehicle.soh_charts).to_have_count(1)
    expect(vehicle.main.get_by_role("figure")).to_contain_text("SoH 89.5 %")
    expect(vehicle.main).to_contain_text("Pack ATHPK0001234: SoH 96 %")
    console.assert_clean()


def test_every_workshop_screen_fits_a_tablet_and_a_laptop(new_page, console, engine, make_branch, make_staff, tmp_path):
    shop = _workshop(engine, make_branch, make_staff)
    with engine.begin() as conn:
        card = sb.job_card(conn, shop["branch"], shop["vehicle"], odometer_km=5200,
                           complaints="Range dropped to 55 km; brakes squeak", promised_at="2099-12-31 17:30+05:30")
        pack = conn.execute(sa.text("SELECT pack_id FROM inventory.battery_pack WHERE serial = 'ATHPK0001234'")).scalar()
        conn.execute(sa.text("""
            INSERT INTO service.battery_reading (job_card_id, pack_id, soh_pct, soc_pct, cycle_count, cell_v_max,
                                                 cell_v_min, pack_temp_max_c, insulation_mohm, fault_codes, charger_ok)
            VALUES (:j, :p, 89.5, 62, 310, 3.48, 3.36, 36, 15, '{P0A7F,U0111}', true)"""), {"j": card, "p": pack})
        sb.move(conn, card, "APPROVED", "IN_PROGRESS")
        sold_here, _ = sb.delivered_unit(conn)
    screens = {"arrival": "/service/?q=KA+01+AB+1234", "arrival-empty": "/service/",
               "register": "/service/vehicles/new", "check-in": f"/service/units/{sold_here.unit_id}/arrive",
               "vehicle": f"/service/vehicles/{shop['vehicle']}", "job-card": f"/service/job-cards/{card}",
               "job-card-edit": f"/service/job-cards/{card}/edit", "checklist": f"/service/job-cards/{card}/checklist",
               "reading": f"/service/job-cards/{card}/readings", "board": "/service/board",
               "settings": "/service/settings"}
    folder = Path(os.environ.get("ERP_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    for size_name, size in (("768x1024", TABLET), ("1366x768", LAPTOP)):
        page = new_page(viewport=size, has_touch=size is TABLET)
        LoginPage.open(page).log_in("ADV1", "3816")
        for name, path in screens.items():
            page.goto(path)
            expect(page.get_by_role("main")).to_be_visible()
            assert no_sideways_scroll(page) <= 0, f"{name} scrolls sideways at {size_name}"
            page.screenshot(path=str(folder / f"{name}-{size_name}.png"), full_page=True)
    console.assert_clean()
