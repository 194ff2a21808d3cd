"""The job card's entitlements, bill and gate pass (sql/0028_service_bill.sql, webapp/service/bill.py):
a free service only when due by the model's schedule (boundaries exact) and once; a warranty line
only while the cover lasts (refused as expired by date or by km); the invoice linked once to a
READY card with its customer work approved; the gate pass only when paid in full or released on
credit by a manager, numbered, delivering the card and storing the next service due; the screens
by role."""
from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import builders as bld
import pytest
import service_builders as sb
import service_work_builders as wb
import sqlalchemy as sa
from builders import refused, scalar
from conftest import csrf_from, login

from webapp.billing import api as billing
from webapp.formatting import today_ist


def free_schedule(conn, variant_id: int) -> None:
    conn.execute(sa.text("""
        INSERT INTO oem.free_service (model_id, service_no, due_months, due_km)
        SELECT model_id, s.n, s.m, s.km FROM oem.variant
         CROSS JOIN (VALUES (1, 1, 1000), (2, 6, 5000)) s (n, m, km) WHERE variant_id = :v
        ON CONFLICT (model_id, service_no) DO UPDATE SET due_months = EXCLUDED.due_months, due_km = EXCLUDED.due_km"""),
        {"v": variant_id})


def free_card(conn, branch, vehicle, no: int, on: str, km: int) -> int:
    return sb.job_card(conn, branch, vehicle, odometer_km=km, service_type="FREE_SERVICE", free_service_no=no,
                       opened_at=f"{on} 10:00+05:30")


# ----------------------------------------------------------------------------- free services


def test_a_free_service_is_due_to_its_last_day_and_km_and_used_once(conn):
    branch = bld.branch(conn)
    variant = bld.vehicle_catalog(conn).variant_id
    free_schedule(conn, variant)
    # Sold 15-01-2025: service 1 is due up to 15-02-2025 and 1,000 km, whichever first.
    on_the_day = sb.outside_vehicle(conn, branch, variant_id=variant, sale_date="2025-01-15")
    free_card(conn, branch, on_the_day, 1, "2025-02-15", 1000)
    late = sb.outside_vehicle(conn, branch, variant_id=variant, sale_date="2025-01-15")
    with refused(conn, "job_card_free_service_expired_by_date"):
        free_card(conn, branch, late, 1, "2025-02-16", 900)
    far = sb.outside_vehicle(conn, branch, variant_id=variant, sale_date="2025-01-15")
    with refused(conn, "job_card_free_service_expired_by_km"):
        free_card(conn, branch, far, 1, "2025-02-10", 1001)
    early = sb.outside_vehicle(conn, branch, variant_id=variant, sale_date="2025-01-15")
    with refused(conn, "job_card_free_service_not_due"):
        free_card(conn, branch, early, 2, "2025-02-10", 500)
    with refused(conn, "job_card_free_service_in_schedule"):
        free_card(conn, branch, early, 3, "2025-02-10", 500)
    # Service 1 missed (expired): service 2 is the one due.
    assert free_card(conn, branch, late, 2, "2025-03-01", 2000)


def test_a_used_free_service_cannot_be_used_again_after_delivery(conn):
    branch = bld.branch(conn)
    variant = bld.vehicle_catalog(conn).variant_id
    free_schedule(conn, variant)
    vehicle = sb.outside_vehicle(conn, branch, variant_id=variant, sale_date="2025-01-15")
    card = free_card(conn, branch, vehicle, 1, "2025-02-01", 400)
    sb.move(conn, card, "APPROVED", "IN_PROGRESS", "QC", "READY", "DELIVERED")
    with refused(conn, "job_card_free_service_once_idx"):
        free_card(conn, branch, vehicle, 1, "2025-02-05", 500)


# ----------------------------------------------------------------------------- warranty lines


def test_a_warranty_line_is_refused_once_the_cover_ended_by_date_or_km(conn):
    branch = bld.branch(conn)
    variant = bld.vehicle_catalog(conn).variant_id
    conn.execute(sa.text("UPDATE oem.variant SET vehicle_warranty_years = 3, vehicle_warranty_km = 30000 "
                         "WHERE variant_id = :v"), {"v": variant})
    op = wb.labour(conn)
    old = sb.outside_vehicle(conn, branch, variant_id=variant, sale_date="2020-01-15")
    card = sb.job_card(conn, branch, old, odometer_km=9000)
    with refused(conn, "job_line_warranty_expired_by_date"):
        wb.line(conn, card, operation_code=op, coverage="WARRANTY")
    wb.line(conn, card, operation_code=op, coverage="CUSTOMER")
    run = sb.outside_vehicle(conn, branch, variant_id=variant, sale_date="2025-06-15")
    card = sb.job_card(conn, branch, run, odometer_km=30001)
    with refused(conn, "job_line_warranty_expired_by_km"):
        wb.line(conn, card, operation_code=op, coverage="WARRANTY")
    conn.execute(sa.text("UPDATE service.job_card SET odometer_km = 30000 WHERE job_card_id = :j"), {"j": card})
    assert wb.line(conn, card, operation_code=op, coverage="WARRANTY")


# ----------------------------------------------------------------------------- the bill and the gate pass


def ready_card(conn, branch, *, rate: str = "450.00", coverage: str = "CUSTOMER"):
    vehicle = sb.outside_vehicle(conn, branch)
    card = sb.job_card(conn, branch, vehicle, odometer_km=3000)
    wb.line(conn, card, operation_code=wb.labour(conn, hours="1.00", rate=rate), coverage=coverage)
    if coverage == "CUSTOMER":
        wb.approve(conn, card)
    sb.move(conn, card, "APPROVED", "IN_PROGRESS", "QC")
    return vehicle, card


def invoice_for(conn, card) -> int:
    c = conn.execute(sa.text("SELECT branch_id, customer_id, job_card_no FROM service.job_card WHERE job_card_id = :j"),
                     {"j": card}).one()
    lines = [{"kind": "LABOUR", "code": r.operation_code, "qty": r.bill_qty, "unit_price": r.unit_price,
              "price_includes_gst": r.price_includes_gst, "coverage": r.coverage}
             for r in conn.execute(sa.text("SELECT * FROM service.job_line_billable WHERE job_card_id = :j"), {"j": card})]
    return billing.post_service_invoice(conn, branch_id=c.branch_id, customer_id=c.customer_id,
                                        invoice_date=today_ist(), lines=lines, idempotency_key=str(uuid.uuid4()),
                                        reference=c.job_card_no)


def link(conn, card, invoice_id):
    conn.execute(sa.text("UPDATE service.job_card SET invoice_id = :i WHERE job_card_id = :j"), {"i": invoice_id, "j": card})


def test_the_invoice_is_linked_once_to_a_ready_card_and_freezes_its_work(conn):
    branch = bld.branch(conn)
    _, card = ready_card(conn, branch)
    invoice = invoice_for(conn, card)
    with refused(conn, "job_card_invoice_when_ready"):
        link(conn, card, invoice)
    sb.move(conn, card, "READY")
    link(conn, card, invoice)
    with refused(conn, "job_card_invoice_fixed"):
        link(conn, card, invoice_for(conn, card))
    with refused(conn, "job_line_card_billed"):
        wb.line(conn, card, operation_code=wb.labour(conn))


def test_the_gate_pass_needs_the_bill_paid_or_a_managers_credit_release(conn):
    branch = bld.branch(conn)
    vehicle, card = ready_card(conn, branch)
    sb.move(conn, card, "READY")
    with refused(conn, "job_card_delivered_by_gate_pass"):
        conn.execute(sa.text("UPDATE service.job_card SET state = 'DELIVERED' WHERE job_card_id = :j"), {"j": card})
    with refused(conn, "gate_pass_needs_invoice"):
        sb.gate_pass(conn, card)
    invoice = invoice_for(conn, card)
    link(conn, card, invoice)
    with refused(conn, "gate_pass_unpaid"):
        sb.gate_pass(conn, card)
    advisor = bld.staff(conn, branch, "SERVICE_ADVISOR")
    with refused(conn, "gate_pass_credit_by_manager"):
        sb.gate_pass(conn, card, released_by=advisor, credit_reason="Fleet customer, pays monthly")
    manager = bld.staff(conn, branch, "MANAGER")
    with refused(conn, "gate_pass_credit_reason"):
        sb.gate_pass(conn, card, released_by=manager)
    gp = sb.gate_pass(conn, card, released_by=manager, credit_reason="Fleet customer, pays monthly")
    row = conn.execute(sa.text("SELECT gate_pass_no, paid_in_full, invoice_id FROM service.gate_pass "
                               "WHERE gate_pass_id = :g"), {"g": gp}).one()
    assert "GP" in row.gate_pass_no and row.paid_in_full is False and row.invoice_id == invoice
    assert scalar(conn, "SELECT state FROM service.job_card WHERE job_card_id = :j", j=card) == "DELIVERED"
    assert scalar(conn, """SELECT after->>'reason' FROM audit.log WHERE event = 'release_on_credit'
                            AND row_key = :g""", g=str(gp)) == "Fleet customer, pays monthly"
    with refused(conn, "gate_pass_card_ready"):      # delivered: one gate pass (gate_pass_once holds it too)
        sb.gate_pass(conn, card)
    with refused(conn):
        conn.execute(sa.text("DELETE FROM service.gate_pass WHERE gate_pass_id = :g"), {"g": gp})
    # The next service is stored for the reminder engine.
    due = conn.execute(sa.text("SELECT next_service_due_on, next_service_due_km FROM service.vehicle "
                               "WHERE vehicle_id = :v"), {"v": vehicle}).one()
    assert due.next_service_due_km == 3000 + 5000       # no free schedule: the paid interval, 5,000 km
    assert due.next_service_due_on is not None


def test_a_paid_bill_releases_the_vehicle_and_credit_is_then_not_needed(conn):
    branch = bld.branch(conn)
    _, card = ready_card(conn, branch)
    sb.move(conn, card, "READY")
    invoice = invoice_for(conn, card)
    link(conn, card, invoice)
    balance = billing.service_invoice_balance(conn, invoice)["balance"]
    assert balance == Decimal("531.00")
    billing.post_receipt(conn, on=today_ist(), mode="UPI", amount=balance, key=str(uuid.uuid4()),
                         received_from="Owner", invoice_id=invoice, reference="UPI 412233445566")
    manager = bld.staff(conn, branch, "MANAGER")
    with refused(conn, "gate_pass_credit_not_needed"):
        sb.gate_pass(conn, card, released_by=manager, credit_reason="Not needed at all")
    sb.gate_pass(conn, card)
    assert scalar(conn, "SELECT state FROM service.job_card WHERE job_card_id = :j", j=card) == "DELIVERED"


def test_next_service_due_follows_the_free_schedule_then_the_paid_interval_at_the_vehicles_pace(conn):
    branch = bld.branch(conn)
    variant = bld.vehicle_catalog(conn).variant_id
    free_schedule(conn, variant)
    vehicle = sb.outside_vehicle(conn, branch, variant_id=variant, sale_date="2025-01-15")
    # Before any visit: service 1, at 1 month (15-02-2025) / 1,000 km.
    assert conn.execute(sa.text("SELECT * FROM service.next_service_due(:v, '2025-02-14', 0)"), {"v": vehicle}).one()[:2] \
        == (date(2025, 2, 15), 1000)
    free_card(conn, branch, vehicle, 1, "2025-02-14", 900)
    free_card_2 = conn.execute(sa.text("SELECT * FROM service.next_service_due(:v, '2025-02-14', 900)"),
                               {"v": vehicle}).one()
    # 900 km in 30 days = 30 km a day: 5,000 km is reached after ceil(4100 / 30) = 137 days, 01-07-2025.
    assert tuple(free_card_2) == (date(2025, 7, 1), 5000, 2)
    # No free service left (service 2 expired by date): the paid interval, 6 months / 5,000 km.
    paid = conn.execute(sa.text("SELECT * FROM service.next_service_due(:v, '2025-12-01', 3200)"), {"v": vehicle}).one()
    assert paid.free_service_no is None and paid.due_km == 8200 and paid.due_on == date(2026, 6, 1)


# ----------------------------------------------------------------------------- screens by role


@pytest.fixture
def counter(app, engine, make_staff):
    people = {}
    for n, role in enumerate(("SERVICE_ADVISOR", "TECHNICIAN", "MANAGER")):
        staff_id, code, pin = make_staff(f"B{n}{role[:3]}", role)
        client = app.test_client()
        assert login(client, code, pin).status_code == 303
        people[role] = (client, staff_id)
    with engine.begin() as conn:
        branch = scalar(conn, "SELECT branch_id FROM master.staff WHERE staff_id = :s", s=people["TECHNICIAN"][1])
        _, card = ready_card(conn, branch)
        sb.move(conn, card, "READY")
    return people, card


def post(client, path: str, page: str, data: dict | None = None):
    html = client.get(page).get_data(as_text=True)
    return client.post(path, data={"csrf_token": csrf_from(html), **(data or {})})


def test_the_advisor_bills_and_the_manager_releases_on_credit(counter, engine):
    people, card = counter
    advisor, _ = people["SERVICE_ADVISOR"]
    page = f"/service/job-cards/{card}/bill"
    html = advisor.get(page).get_data(as_text=True)
    assert "Make the invoice" in html and "531.00" in html.replace(",", "")
    technician, _ = people["TECHNICIAN"]
    assert technician.get(page).status_code == 403
    assert technician.post(page, data={}).status_code in (400, 403)
    response = post(advisor, page, page)
    assert response.status_code == 303
    with engine.connect() as conn:
        invoice = scalar(conn, "SELECT invoice_id FROM service.job_card WHERE job_card_id = :j", j=card)
        number = scalar(conn, "SELECT invoice_no FROM billing.invoice WHERE invoice_id = :i", i=invoice)
    assert invoice and "SI" in number
    detail = advisor.get(f"/service/job-cards/{card}").get_data(as_text=True)
    assert number in detail and f"/billing/invoices/{invoice}/receipt" in detail
    # The technician's view of the card names no price.
    assert "₹" not in technician.get(f"/service/job-cards/{card}").get_data(as_text=True)
    assert post(advisor, page, page).status_code == 303     # again: already billed, nothing more posted
    with engine.connect() as conn:
        assert scalar(conn, "SELECT count(*) FROM billing.invoice WHERE service_reference = "
                            "(SELECT job_card_no FROM service.job_card WHERE job_card_id = :j)", j=card) == 1
    # Unpaid: the advisor is refused; the manager releases it on credit with a reason.
    response = post(advisor, f"/service/job-cards/{card}/gate-pass", page, {"received_by_name": "Owner"})
    assert response.status_code == 422 and "not paid in full" in response.get_data(as_text=True)
    manager, _ = people["MANAGER"]
    response = post(manager, f"/service/job-cards/{card}/gate-pass", page,
                    {"received_by_name": "Owner", "credit_reason": "Corporate account, 30 days"})
    assert response.status_code == 303, response.get_data(as_text=True)
    printed = manager.get(response.headers["Location"]).get_data(as_text=True)
    assert "Released on credit" in printed and "Corporate account, 30 days" in printed
    with engine.connect() as conn:
        assert scalar(conn, "SELECT state FROM service.job_card WHERE job_card_id = :j", j=card) == "DELIVERED"


def test_an_invoice_before_the_card_is_ready_is_refused_with_a_message(counter, engine):
    people, _ = counter
    advisor, _ = people["SERVICE_ADVISOR"]
    with engine.begin() as conn:
        branch = scalar(conn, "SELECT branch_id FROM master.staff WHERE staff_id = :s", s=people["SERVICE_ADVISOR"][1])
        _, card = ready_card(conn, branch)
    page = f"/service/job-cards/{card}/bill"
    assert "billed when Ready" in advisor.get(page).get_data(as_text=True)
    response = post(advisor, page, page)
    assert response.status_code == 422 and "billed when Ready" in response.get_data(as_text=True)
    with engine.connect() as conn:
        assert scalar(conn, "SELECT invoice_id FROM service.job_card WHERE job_card_id = :j", j=card) is None


def error_next_to(html: str, field: str) -> str:
    import html as html_lib
    import re
    found = re.search(rf'<div id="{field}-help">(.*?)</div>', html, re.S)
    assert found, f"no field {field}"
    return html_lib.unescape(" ".join(re.findall(r'<p class="error">(.*?)</p>', found.group(1))))


def test_an_expired_free_service_and_an_expired_warranty_line_are_said_next_to_their_fields(counter, engine):
    people, _ = counter
    advisor, staff_id = people["SERVICE_ADVISOR"]
    with engine.begin() as conn:
        branch = scalar(conn, "SELECT branch_id FROM master.staff WHERE staff_id = :s", s=staff_id)
        variant = bld.vehicle_catalog(conn).variant_id
        free_schedule(conn, variant)
        conn.execute(sa.text("UPDATE oem.variant SET vehicle_warranty_years = 3, vehicle_warranty_km = 30000 "
                             "WHERE variant_id = :v"), {"v": variant})
        vehicle = sb.outside_vehicle(conn, branch, variant_id=variant, sale_date="2021-01-15")
        op = wb.labour(conn)
    page = f"/service/vehicles/{vehicle}/job-cards/new"
    response = post(advisor, page, page, {"service_type": "FREE_SERVICE", "free_service_no": "1", "odometer_km": "900",
                                          "complaints": "First free service", "technician_id": "0",
                                          "key": str(uuid.uuid4())})
    assert response.status_code == 422
    assert "Expired by date" in error_next_to(response.get_data(as_text=True), "free_service_no")
    response = post(advisor, page, page, {"service_type": "PAID_SERVICE", "odometer_km": "9000",
                                          "complaints": "Motor whine", "technician_id": "0", "key": str(uuid.uuid4())})
    assert response.status_code == 303
    with engine.connect() as conn:
        card = scalar(conn, "SELECT job_card_id FROM service.job_card WHERE vehicle_id = :v", v=vehicle)
    estimate = f"/service/job-cards/{card}/estimate"
    response = post(advisor, estimate, estimate, {"operation_code": op, "part_id": "0", "coverage": "WARRANTY",
                                                  "technician_id": "0"})
    assert response.status_code == 422
    assert "Warranty expired by date" in error_next_to(response.get_data(as_text=True), "coverage")
    with engine.connect() as conn:
        assert scalar(conn, "SELECT count(*) FROM service.job_line WHERE job_card_id = :j", j=card) == 0


def test_the_history_shows_the_bill_and_gate_pass_and_arrival_the_unpaid_bills(counter, engine):
    people, card = counter
    advisor, _ = people["SERVICE_ADVISOR"]
    manager, _ = people["MANAGER"]
    page = f"/service/job-cards/{card}/bill"
    assert post(advisor, page, page).status_code == 303
    with engine.connect() as conn:
        vehicle, reg, invoice_no = conn.execute(sa.text("""
            SELECT v.vehicle_id, v.registration_no, i.invoice_no FROM service.job_card j
              JOIN service.vehicle v USING (vehicle_id) JOIN billing.invoice i ON i.invoice_id = j.invoice_id
             WHERE j.job_card_id = :j"""), {"j": card}).one()
    arrival = advisor.get(f"/service/?q={reg[:2]} {reg[2:]}").get_data(as_text=True)
    assert "Unpaid service bills" in arrival and invoice_no in arrival and "531.00" in arrival
    response = post(manager, f"/service/job-cards/{card}/gate-pass", page,
                    {"credit_reason": "Known customer, pays Friday", "key": str(uuid.uuid4())})
    assert response.status_code == 303
    history = advisor.get(f"/service/vehicles/{vehicle}").get_data(as_text=True)
    with engine.connect() as conn:
        gp, due_km = conn.execute(sa.text("""
            SELECT g.gate_pass_no, v.next_service_due_km FROM service.gate_pass g
              JOIN service.job_card j USING (job_card_id) JOIN service.vehicle v USING (vehicle_id)
             WHERE g.job_card_id = :j"""), {"j": card}).one()
    assert f"Invoice {invoice_no}" in history and f"Gate pass {gp}" in history
    assert f"{due_km:,} km" in history and due_km == 3000 + 5000


def test_the_demo_has_a_ready_card_to_bill_and_deliver_at_once(app, conn):
    from seed.demo import seed_demo

    with app.app_context():
        seed_demo(conn, lambda: "2580")
    card = scalar(conn, "SELECT job_card_id FROM service.job_card WHERE state = 'READY'")
    assert scalar(conn, "SELECT service.customer_work_approved(:j)", j=card) is True
    # The earlier visits were let out by gate passes; free services only where the schedule had one due.
    assert scalar(conn, "SELECT count(*) FROM service.gate_pass") == scalar(
        conn, "SELECT count(*) FROM service.job_card WHERE state = 'DELIVERED'")
    invoice = invoice_for(conn, card)
    link(conn, card, invoice)
    balance = billing.service_invoice_balance(conn, invoice)["balance"]
    assert balance == Decimal("797.00")        # 1.5 h x 450 + 18 % GST, rounded
    billing.post_receipt(conn, on=today_ist(), mode="CASH", amount=balance, key=str(uuid.uuid4()),
                         received_from="Owner", invoice_id=invoice)
    sb.gate_pass(conn, card)
    assert scalar(conn, "SELECT next_service_due_km IS NOT NULL FROM service.vehicle v JOIN service.job_card j "
                        "USING (vehicle_id) WHERE j.job_card_id = :j", j=card) is True
