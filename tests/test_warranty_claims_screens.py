"""Warranty claims through the browser's requests, per role: the battery pack swapped under warranty on
a job card (sold here and elsewhere) leading to the card's BATTERY claim, its evidence, submission,
the OEM's decision and the settlement (ACCOUNTS), the claim PDF read back as text, the register's
ageing, the failed parts held and returned, the OEM's labour rates; refusals next to their field."""
from __future__ import annotations

import html
import io
import re
from datetime import timedelta
from decimal import Decimal

import claim_ids as cb
import pytest
import sqlalchemy as sa
from builders import scalar
from conftest import csrf_from
from test_warranty_screens import as_staff

from webapp.formatting import ddmmyyyy, today_ist

PIN = "2580"




def words(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def post_form(client, path: str, data: dict, **kw):
    page = client.get(path)
    assert page.status_code == 200, (path, page.status_code)
    body = page.get_data(as_text=True)
    fields = {"csrf_token": csrf_from(body)}
    key = re.search(r'name="key"[^>]*value="([^"]*)"', body) or re.search(r'value="([^"]*)"[^>]*name="key"', body)
    if key:
        fields["key"] = key.group(1)
    return client.post(path, data={**fields, **data}, **kw)


def pdf_text(response) -> str:
    from pypdf import PdfReader

    assert response.headers["Content-Type"] == "application/pdf"
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.get_data())).pages)


@pytest.fixture
def workshop(engine):
    def make(**kw):
        with engine.begin() as conn:
            w = cb.workshop(conn, **kw)
            reading = scalar(conn, """
                INSERT INTO service.battery_reading (job_card_id, pack_id, soh_pct, soc_pct, cell_v_max, cell_v_min,
                                                     fault_codes)
                VALUES (:j, :p, 62.5, 85, 3.48, 3.31, '{P0A7F,BMS-17}') RETURNING reading_id""",
                             j=w.job_card_id, p=w.pack_id)
            serial = scalar(conn, "SELECT serial FROM inventory.battery_pack WHERE pack_id = :p", p=w.pack_id)
        return w, reading, serial
    return make


def swap(client, w, serial="NEWPACK77001"):
    return post_form(client, f"/warranty/job-cards/{w.job_card_id}/pack-swap",
                     {"old_pack_id": w.pack_id, "new_serial": serial, "part_id": w.part_id})


def claim_of(engine, job_card_id):
    with engine.begin() as conn:
        return scalar(conn, "SELECT claim_id FROM warranty.claim WHERE job_card_id = :j ORDER BY claim_id LIMIT 1",
                      j=job_card_id)


@pytest.mark.parametrize("sold_here", [True, False], ids=["sold here", "sold elsewhere"])
def test_a_pack_swapped_on_the_job_card_goes_to_a_settled_claim_and_the_new_pack_is_in_the_vehicles_history(
        app, engine, make_staff, workshop, sold_here):
    w, reading, old_serial = workshop(sold_here=sold_here)
    advisor = as_staff(app, make_staff, w.branch_id, "SERVICE_ADVISOR", "SA1")
    card_page = words(advisor.get(f"/service/job-cards/{w.job_card_id}"))
    assert "Warranty claims to the OEM" in card_page and "Swap the battery pack under warranty" in card_page
    typed = swap(advisor, w, serial="newpack 77001")   # a serial with a space is refused, kept as typed
    assert typed.status_code == 422 and "4 to 40 letters" in words(typed) and 'value="NEWPACK 77001"' in typed.get_data(as_text=True)
    done = swap(advisor, w)
    assert done.status_code == 303
    claim_id = claim_of(engine, w.job_card_id)
    assert done.headers["Location"].endswith(f"/warranty/claims/{claim_id}")
    page = words(advisor.get(f"/warranty/claims/{claim_id}"))
    assert "Battery (pack)" in page and "Draft" in page and old_serial in page and "NEWPACK77001" in page
    assert "₹42,000.00" in page
    # The vehicle's page shows the new pack fitted today and the old one taken out.
    vehicle = words(advisor.get(f"/service/vehicles/{w.vehicle_id}"))
    assert "NEWPACK77001" in vehicle and old_serial in vehicle
    # Evidence: the reading with its fault codes, chosen on the draft.
    chosen = post_form(advisor, f"/warranty/claims/{claim_id}/edit",
                       {"complaint": "Range dropped to 40 km", "cause": "Cell group 3 imbalance, SoH 62.5 %",
                        "correction": "Battery pack replaced", "reading_ids": [str(reading)]})
    assert chosen.status_code == 303
    page = words(advisor.get(f"/warranty/claims/{claim_id}"))
    assert "P0A7F, BMS-17" in page and "SoH 62.5 % on" in page
    # Submitted, then the OEM approves it; ACCOUNTS records the credit, less than claimed.
    assert post_form(advisor, f"/warranty/claims/{claim_id}/submit",
                     {"oem_claim_ref": "OEM/WC/5521", "submitted_on": ddmmyyyy(today_ist())}).status_code == 303
    assert "fixed" in words(advisor.get(f"/warranty/claims/{claim_id}/edit", follow_redirects=True))
    accounts = as_staff(app, make_staff, w.branch_id, "ACCOUNTS", "AC1")
    assert post_form(accounts, f"/warranty/claims/{claim_id}/decision",
                     {"outcome": "APPROVED", "decided_on": ddmmyyyy(today_ist())}).status_code == 303
    refused = advisor.post(f"/warranty/claims/{claim_id}/settle",
                           data={"csrf_token": csrf_from(advisor.get(f"/warranty/claims/{claim_id}").get_data(as_text=True)),
                                 "settled_amount": "40000", "settled_on": ddmmyyyy(today_ist())})
    assert refused.status_code == 403                  # the advisor does not settle
    settled = post_form(accounts, f"/warranty/claims/{claim_id}/settle",
                        {"settled_amount": "40,000", "settled_on": ddmmyyyy(today_ist()), "settlement_ref": "CN-88"})
    assert settled.status_code == 303
    page = words(accounts.get(f"/warranty/claims/{claim_id}"))
    assert "Settled" in page and "₹40,000.00" in page and "Short of the claim ₹2,000.00" in page
    with engine.begin() as conn:
        moves = conn.execute(sa.text("SELECT to_status FROM warranty.claim_status_change WHERE claim_id = :c "
                                     "ORDER BY change_id"), {"c": claim_id}).scalars().all()
    assert moves == ["DRAFT", "SUBMITTED", "APPROVED", "SETTLED"]


def test_the_claim_pdf_is_what_the_oems_portal_asks(app, engine, make_staff, workshop):
    w, reading, old_serial = workshop()
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE oem.oem SET dealer_code = 'DLR-KA-0042' WHERE oem_id = :o"), {"o": w.oem_id})
        claim_id = cb.swap(conn, w, serial="NEWPACK77002")
        cb.labour_line(conn, claim_id, w.operation_code)
        conn.execute(sa.text("UPDATE warranty.claim SET cause = 'Cell group 3 failed', correction = 'Pack replaced' "
                             "WHERE claim_id = :c"), {"c": claim_id})
        conn.execute(sa.text("INSERT INTO warranty.claim_evidence (claim_id, reading_id) VALUES (:c, :r)"),
                     {"c": claim_id, "r": reading})
        claim_no, vin = conn.execute(sa.text("SELECT claim_no, vin FROM warranty.claim WHERE claim_id = :c"),
                                     {"c": claim_id}).one()
    client = as_staff(app, make_staff, w.branch_id, "ACCOUNTS", "AC1")
    printed = re.sub(r"\s+", " ", pdf_text(client.get(f"/warranty/claims/{claim_id}/pdf")))
    for expected in (f"Claim No. {claim_no}", "Dealer code: DLR-KA-0042", f"VIN: {vin}", "Odometer: 8,200 km",
                     "Range dropped to 40 km", "Cell group 3 failed", "Pack replaced", old_serial, "NEWPACK77002",
                     "42,000.00", "1.5", "675.00", "₹42,675.00", "P0A7F, BMS-17", "SoH trend of pack",
                     "62.5 %"):
        assert expected in printed, expected


def test_the_register_ages_what_each_oem_owes_and_the_failed_parts_wait_for_their_return(app, engine, make_staff):
    with engine.begin() as conn:
        w = cb.workshop(conn)
        today = today_ist()
        old = cb.claim(conn, w, raised_on=today - timedelta(days=70))
        cb.part_line(conn, old, w.part_id, failed="CTRL55501", replacement="CTRL55502")
        cb.submit(conn, old, on=today - timedelta(days=65))
        recent = cb.claim(conn, w)
        cb.labour_line(conn, recent, w.operation_code)
        cb.submit(conn, recent)
        cb.decide(conn, recent, "PARTLY_APPROVED", "500.00", "Labour capped at one hour")
        brand = scalar(conn, "SELECT brand FROM oem.oem WHERE oem_id = :o", o=w.oem_id)
    client = as_staff(app, make_staff, w.branch_id, "SERVICE_ADVISOR", "SA1")
    register = words(client.get("/warranty/claims"))
    row = re.search(re.escape(brand) + r" (\d+) (\S+) (\S+) (\S+) (\S+) (\S+)", register)
    assert row and row.groups() == ("2", "₹500.00", "₹0.00", "₹42,000.00", "₹0.00", "₹42,500.00")
    assert "Partly approved" in register and "OEM-CLM-1001" in register
    held = words(client.get("/warranty/returnable-parts"))
    assert "CTRL55501" in held
    line_id = re.search(r"/warranty/claim-lines/(\d+)/returned", client.get("/warranty/returnable-parts")
                        .get_data(as_text=True)).group(1)
    future = post_form(client, f"/warranty/claim-lines/{line_id}/returned",
                       {"returned_on": ddmmyyyy(today + timedelta(days=1)), "return_ref": "DKT-1"})
    assert future.status_code == 422 and "has not come yet" in words(future)
    assert post_form(client, f"/warranty/claim-lines/{line_id}/returned",
                     {"returned_on": ddmmyyyy(today), "return_ref": "DKT-9911"}).status_code == 303
    assert "CTRL55501 recorded as returned" in words(client.get("/warranty/returnable-parts"))   # the flash
    held = words(client.get("/warranty/returnable-parts"))
    assert "CTRL55501" not in held and "No failed part held" in held
    assert "DKT-9911" in words(client.get("/warranty/returnable-parts?state=returned"))


def test_a_free_service_labour_claim_takes_the_cards_free_service_labour_at_the_oem_rate(app, engine, make_staff):
    with engine.begin() as conn:
        w = cb.workshop(conn, service_type="FREE_SERVICE", free_service_no=1)
    client = as_staff(app, make_staff, w.branch_id, "SERVICE_ADVISOR", "SA1")
    raised = post_form(client, f"/warranty/job-cards/{w.job_card_id}/claims/new",
                       {"kind": "FREE_SERVICE_LABOUR", "campaign_id": "0", "complaint": "First free service"})
    assert raised.status_code == 303
    claim_id = claim_of(engine, w.job_card_id)
    part = post_form(client, f"/warranty/claims/{claim_id}/lines/new", {"kind": "PART", "part_id": w.part_id,
                                                                        "qty": "1"})
    assert part.status_code == 422 and "for labour only" in words(part)
    labour = post_form(client, f"/warranty/claims/{claim_id}/lines/new",
                       {"kind": "LABOUR", "operation_code": w.operation_code, "part_id": "0"})
    assert labour.status_code == 303
    assert "₹675.00" in words(client.get(f"/warranty/claims/{claim_id}"))
    # A paid-service card's claim for free-service labour is refused next to the kind.
    with engine.begin() as conn:
        paid = cb.workshop(conn, service_type="PAID_SERVICE")
    other = as_staff(app, make_staff, paid.branch_id, "SERVICE_ADVISOR", "SA2")
    wrong = post_form(other, f"/warranty/job-cards/{paid.job_card_id}/claims/new",
                      {"kind": "FREE_SERVICE_LABOUR", "campaign_id": "0", "complaint": "Free service"})
    assert wrong.status_code == 422 and "from a free-service job card" in words(wrong)


def test_a_rejection_needs_the_oems_reason_and_a_partial_approval_its_amount(app, engine, make_staff):
    with engine.begin() as conn:
        w = cb.workshop(conn)
        claim_id = cb.claim(conn, w)
        cb.labour_line(conn, claim_id, w.operation_code)
        cb.submit(conn, claim_id)
    client = as_staff(app, make_staff, w.branch_id, "ACCOUNTS", "AC1")
    path = f"/warranty/claims/{claim_id}/decision"
    today = ddmmyyyy(today_ist())
    assert "Say the reason the OEM gave" in words(post_form(client, path, {"outcome": "REJECTED", "decided_on": today}))
    more = post_form(client, path, {"outcome": "PARTLY_APPROVED", "approved_amount": "900", "decided_on": today,
                                    "decision_reason": "Labour capped"})
    assert more.status_code == 422 and "less than the amount claimed" in words(more)
    assert post_form(client, path, {"outcome": "REJECTED", "decided_on": today,
                                    "decision_reason": "Water ingress: not covered"}).status_code == 303
    assert "Water ingress: not covered" in words(client.get(f"/warranty/claims/{claim_id}"))


def test_the_labour_rate_is_set_by_a_manager_and_ends_the_one_before(app, engine, make_staff):
    with engine.begin() as conn:
        w = cb.workshop(conn)
    advisor = as_staff(app, make_staff, w.branch_id, "SERVICE_ADVISOR", "SA1")
    assert advisor.get("/warranty/labour-rates").status_code == 200
    assert advisor.get("/warranty/labour-rates/new").status_code == 403
    manager = as_staff(app, make_staff, w.branch_id, "MANAGER", "MG1")
    start = today_ist() + timedelta(days=10)
    assert post_form(manager, "/warranty/labour-rates/new", {"oem_id": w.oem_id, "rate_per_hour": "520",
                                                             "effective_from": ddmmyyyy(start)}).status_code == 303
    with engine.begin() as conn:
        rates = conn.execute(sa.text("SELECT rate_per_hour, effective_to FROM warranty.labour_rate WHERE oem_id = :o "
                                     "ORDER BY effective_from"), {"o": w.oem_id}).all()
    assert rates == [(Decimal("450.00"), start - timedelta(days=1)), (Decimal("520.00"), None)]


def test_a_technician_sees_no_claim_and_swaps_no_pack(app, engine, make_staff, workshop):
    w, _, _ = workshop()
    tech = as_staff(app, make_staff, w.branch_id, "TECHNICIAN", "TC1")
    assert "Warranty claims to the OEM" not in words(tech.get(f"/service/job-cards/{w.job_card_id}"))
    assert tech.get(f"/warranty/job-cards/{w.job_card_id}/pack-swap").status_code == 403
    assert tech.get("/warranty/claims").status_code == 403


def test_a_pack_in_another_vehicle_is_refused_next_to_the_serial_and_nothing_is_half_saved(
        app, engine, make_staff, workshop):
    w, _, old_serial = workshop()
    other, _, other_serial = workshop()
    client = as_staff(app, make_staff, w.branch_id, "SERVICE_ADVISOR", "SA1")
    answer = swap(client, w, serial=other_serial)
    assert answer.status_code == 422 and "This pack is in another vehicle" in words(answer)
    with engine.begin() as conn:
        assert scalar(conn, "SELECT count(*) FROM warranty.claim WHERE job_card_id = :j", j=w.job_card_id) == 0
        assert scalar(conn, "SELECT serial FROM service.vehicle_pack WHERE vehicle_id = :v AND removed_on IS NULL",
                      v=w.vehicle_id) == old_serial
