"""A vehicle's warranty claims to the OEM in its service history (webapp/service/vehicles.py through
warranty.api.vehicle_claims), and the pending claim seed-demo gives a new user to try."""
from __future__ import annotations

import html
import re

import claim_ids as cb
import sqlalchemy as sa
from builders import scalar
from conftest import login

PIN = "2580"


def as_staff(app, make_staff, branch_id: int, role: str, code: str):
    make_staff(code, role, PIN, branch_id=branch_id)
    client = app.test_client()
    assert login(client, code, PIN).status_code == 303
    return client


def history(client, vehicle_id: int) -> str:
    response = client.get(f"/service/vehicles/{vehicle_id}")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    return body[body.index("<h2>Service history</h2>"):]


def words(fragment: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment)))


def test_the_vehicle_history_shows_each_claim_linked_for_whoever_may_open_it(app, engine, make_staff):
    with engine.begin() as conn:
        w = cb.workshop(conn)
        pending = cb.claim(conn, w, complaint="Motor cuts out under load")
        cb.labour_line(conn, pending, w.operation_code)                  # 1.5 h x 450
        cb.part_line(conn, pending, w.part_id, failed="CTRL000123", replacement="CTRL000999")  # 42,000
        cb.submit(conn, pending, ref="OEM-CLM-7001")
        settled = cb.claim(conn, w, complaint="Throttle sticks")
        cb.labour_line(conn, settled, cb.operation(conn, hours="2.00"))  # 2 h x 450
        cb.submit(conn, settled, ref="OEM-CLM-7002")
        cb.decide(conn, settled, "APPROVED")
        cb.settle(conn, settled, "900.00")
        numbers = dict(conn.execute(sa.text(
            "SELECT claim_id, claim_no FROM warranty.claim WHERE vehicle_id = :v"), {"v": w.vehicle_id}).all())
    advisor = as_staff(app, make_staff, w.branch_id, "SERVICE_ADVISOR", "SA9H10")
    page = history(advisor, w.vehicle_id)
    text = words(page)
    assert text.count("Warranty claim") == 2
    assert (f"Warranty claim {numbers[pending]} · Warranty repair · Submitted · claimed ₹42,675.00 "
            "OEM ref OEM-CLM-7001") in text
    assert f"{numbers[settled]} · Warranty repair · Settled · claimed ₹900.00, settled ₹900.00" in text
    assert f'href="/warranty/claims/{pending}"' in page and f'href="/warranty/claims/{settled}"' in page
    assert page.index(numbers[settled]) < page.index(numbers[pending])  # newest first

    # A technician reads the vehicle's history but not the claims: the claims show, without a link.
    technician = as_staff(app, make_staff, w.branch_id, "TECHNICIAN", "T9H10")
    page = history(technician, w.vehicle_id)
    assert f"{numbers[pending]} · Warranty repair · Submitted" in words(page)
    assert "/warranty/claims/" not in page
    assert technician.get(f"/warranty/claims/{pending}").status_code == 403


def test_a_vehicle_without_claims_shows_none(app, engine, make_staff):
    with engine.begin() as conn:
        w = cb.workshop(conn)
    advisor = as_staff(app, make_staff, w.branch_id, "SERVICE_ADVISOR", "SA8H10")
    page = history(advisor, w.vehicle_id)
    assert "Job card" in page and "Warranty claim" not in page


def test_the_demo_has_a_pending_claim_on_a_workshop_vehicle(app, conn):
    from seed.demo import seed_demo
    from webapp.warranty import api as warranty

    with app.app_context():
        seed_demo(conn, lambda: "2580")
    claim = conn.execute(sa.text("""
        SELECT c.claim_id, c.vehicle_id, c.status, c.oem_claim_ref, c.submitted_on, c.claimed_amount, j.state
          FROM warranty.claim c JOIN service.job_card j USING (job_card_id)""")).mappings().one()
    assert claim["status"] == "SUBMITTED" and claim["oem_claim_ref"] and claim["submitted_on"]
    assert claim["state"] == "WAITING_PARTS"      # the card waits for the OEM's part
    lines = conn.execute(sa.text("""
        SELECT kind, amount, failed_serial, replacement_serial FROM warranty.claim_line
         WHERE claim_id = :c ORDER BY kind"""), {"c": claim["claim_id"]}).mappings().all()
    assert [line["kind"] for line in lines] == ["LABOUR", "PART"]
    assert lines[1]["failed_serial"] and lines[1]["replacement_serial"]
    assert claim["claimed_amount"] == sum(line["amount"] for line in lines) > 0
    assert scalar(conn, """SELECT count(*) FROM warranty.claim_evidence e JOIN service.battery_reading r USING (reading_id)
                            WHERE e.claim_id = :c""", c=claim["claim_id"]) == 1
    # Pending in the register's sense, and on the vehicle's history.
    assert scalar(conn, "SELECT is_pending FROM warranty.claim_status WHERE status = 'SUBMITTED'") is True
    assert [c["claim_id"] for c in warranty.vehicle_claims(conn, claim["vehicle_id"])] == [claim["claim_id"]]
