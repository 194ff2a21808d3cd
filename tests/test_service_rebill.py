"""A job card billed again after a credit note, and a free service used at another branch
(sql/0034_service_rebill.sql, webapp/service/bill.py, webapp/service/jobcards.py): a full credit note of
an open card's bill takes it off the card, which keeps it among its bills and is billed again on a new
invoice, paid and let out on that one; a bill not credited (or credited in part) keeps the card billed;
a delivered card keeps its bill. A free service used at another branch is refused with the visit that
used it (day, branch, job card), which this branch reads only through service.free_services_used."""
from __future__ import annotations

import html as html_lib
import re
import uuid
from datetime import date

import builders as bld
import pytest
import service_builders as sb
import sqlalchemy as sa
from builders import refused, scalar
from conftest import csrf_from, login
from test_service_bill import free_card, free_schedule, invoice_for, link, ready_card

from webapp.billing import api as billing
from webapp.billing import posting
from webapp.formatting import today_ist


def credit(conn, invoice_id: int, reason: str = "Wrong customer GSTIN on the bill") -> int:
    return posting.post_credit_note(conn, invoice_id, on=today_ist(), reason=reason, key=str(uuid.uuid4()))


def card_invoice(conn, card: int):
    return scalar(conn, "SELECT invoice_id FROM service.job_card WHERE job_card_id = :j", j=card)


def bills(conn, card: int) -> list[int]:
    return list(conn.execute(sa.text("SELECT invoice_id FROM service.job_card_bill WHERE job_card_id = :j "
                                     "ORDER BY job_card_bill_id"), {"j": card}).scalars())


def pay(conn, invoice_id: int) -> None:
    balance = billing.service_invoice_balance(conn, invoice_id)["balance"]
    billing.post_receipt(conn, on=today_ist(), mode="UPI", amount=balance, key=str(uuid.uuid4()),
                         received_from="Owner", invoice_id=invoice_id, reference="UPI 412233445566")


# ----------------------------------------------------------------------------- in the database


def test_a_full_credit_note_frees_the_card_to_be_billed_again_paid_and_let_out(conn):
    branch = bld.branch(conn)
    _, card = ready_card(conn, branch)
    sb.move(conn, card, "READY")
    first = invoice_for(conn, card)
    link(conn, card, first)
    assert bills(conn, card) == [first]
    # Billed and not credited: the card is not billed twice, and its work is fixed.
    with refused(conn, "job_card_invoice_fixed"):
        link(conn, card, invoice_for(conn, card))
    credit(conn, first)
    # The credit note took the bill off the card; the card keeps it among its bills.
    assert card_invoice(conn, card) is None
    assert bills(conn, card) == [first]
    with refused(conn, "gate_pass_needs_invoice"):          # the gate follows the bill in force: none
        sb.gate_pass(conn, card)
    with refused(conn, "job_card_invoice_credited"):        # the reversed invoice bills it no more
        link(conn, card, first)
    second = invoice_for(conn, card)
    link(conn, card, second)
    assert card_invoice(conn, card) == second and bills(conn, card) == [first, second]
    with refused(conn, "job_card_invoice_fixed"):
        link(conn, card, invoice_for(conn, card))
    with refused(conn, "gate_pass_unpaid"):
        sb.gate_pass(conn, card)
    pay(conn, second)
    gp = sb.gate_pass(conn, card)
    row = conn.execute(sa.text("SELECT invoice_id, paid_in_full FROM service.gate_pass WHERE gate_pass_id = :g"),
                       {"g": gp}).one()
    assert row.invoice_id == second and row.paid_in_full is True
    assert scalar(conn, "SELECT state FROM service.job_card WHERE job_card_id = :j", j=card) == "DELIVERED"
    with refused(conn):                                       # the history is permanent
        conn.execute(sa.text("DELETE FROM service.job_card_bill WHERE job_card_id = :j"), {"j": card})


def test_an_invoice_bills_one_card_ever(conn):
    branch = bld.branch(conn)
    _, card = ready_card(conn, branch)
    sb.move(conn, card, "READY")
    first = invoice_for(conn, card)
    link(conn, card, first)
    with refused(conn, "job_card_bill_invoice_once"):
        conn.execute(sa.text("INSERT INTO service.job_card_bill (job_card_id, invoice_id) VALUES (:j, :i)"),
                     {"j": card, "i": first})


def test_a_bill_credited_in_part_keeps_the_card_billed(conn):
    branch = bld.branch(conn)
    _, card = ready_card(conn, branch)
    sb.move(conn, card, "READY")
    invoice = invoice_for(conn, card)
    link(conn, card, invoice)
    total = scalar(conn, "SELECT grand_total FROM billing.invoice WHERE invoice_id = :i", i=invoice)
    # Billing's credit note reverses the whole invoice; a note for part of it is written here by hand,
    # past the trigger that copies the invoice's amounts, to hold the workshop's rule to it.
    conn.execute(sa.text("ALTER TABLE billing.credit_note DISABLE TRIGGER credit_note_post"))
    conn.execute(sa.text("""
        INSERT INTO billing.credit_note (credit_note_no, branch_id, note_date, invoice_id, reason, taxable_value,
                                         cgst, sgst, igst, round_off, grand_total, tcs_amount, idempotency_key)
        VALUES ('PARTCRN1', :b, :d, :i, 'Discount given afterwards', 100, 9, 9, 0, 0, 118, 0, :k)"""),
        {"b": branch, "d": today_ist(), "i": invoice, "k": str(uuid.uuid4())})
    conn.execute(sa.text("ALTER TABLE billing.credit_note ENABLE TRIGGER credit_note_post"))
    assert total > 118
    assert scalar(conn, "SELECT service.bill_fully_credited(:i)", i=invoice) is False
    assert card_invoice(conn, card) == invoice


def test_a_delivered_card_keeps_its_bill_when_it_is_credited(conn):
    branch = bld.branch(conn)
    _, card = ready_card(conn, branch)
    sb.move(conn, card, "READY")
    invoice = invoice_for(conn, card)
    link(conn, card, invoice)
    pay(conn, invoice)
    sb.gate_pass(conn, card)
    credit(conn, invoice)
    assert scalar(conn, "SELECT service.bill_fully_credited(:i)", i=invoice) is True
    assert card_invoice(conn, card) == invoice
    assert scalar(conn, "SELECT state FROM service.job_card WHERE job_card_id = :j", j=card) == "DELIVERED"


def as_branch(conn, branch_id: int):
    """The rest of the savepoint runs as the app role seeing one branch, as a request of that branch does."""
    conn.execute(sa.text("SET LOCAL ROLE erp_test_app"))
    conn.execute(sa.text("SELECT set_config('erp.branch_id', :b, true), set_config('erp.all_branches', '', true)"),
                 {"b": str(branch_id)})


def test_a_free_service_used_at_another_branch_is_refused_naming_that_visit(conn):
    mysuru = bld.branch(conn, trade_name="Volt EV Mysuru")
    bengaluru = bld.branch(conn)
    variant = bld.vehicle_catalog(conn).variant_id
    free_schedule(conn, variant)
    vehicle = sb.outside_vehicle(conn, mysuru, variant_id=variant, sale_date="2025-01-15")
    used = free_card(conn, mysuru, vehicle, 1, "2025-02-01", 400)
    sb.move(conn, used, "APPROVED", "IN_PROGRESS", "QC", "READY", "DELIVERED")
    number = scalar(conn, "SELECT job_card_no FROM service.job_card WHERE job_card_id = :j", j=used)
    savepoint = conn.begin_nested()
    as_branch(conn, bengaluru)
    # Bengaluru cannot see Mysuru's card, but the facts of its free service reach it.
    assert scalar(conn, "SELECT count(*) FROM service.job_card WHERE vehicle_id = :v", v=vehicle) == 0
    facts = conn.execute(sa.text("SELECT * FROM service.free_services_used(:v)"), {"v": vehicle}).mappings().all()
    assert [dict(f) for f in facts] == [{"free_service_no": 1, "used_on": date(2025, 2, 1),
                                         "branch_name": "Volt EV Mysuru", "job_card_no": number}]
    with pytest.raises(sa.exc.IntegrityError) as caught:
        with conn.begin_nested():
            free_card(conn, bengaluru, vehicle, 1, "2025-02-05", 500)
    savepoint.rollback()
    diag = caught.value.orig.diag
    assert diag.constraint_name == "job_card_free_service_once_idx"
    assert "01-02-2025" in diag.message_primary and "Volt EV Mysuru" in diag.message_primary
    assert number in diag.message_primary
    # The next one due is service 2, at either branch.
    due = conn.execute(sa.text("SELECT * FROM service.next_service_due(:v, '2025-02-05', 500)"), {"v": vehicle}).one()
    assert due.free_service_no == 2


# ----------------------------------------------------------------------------- screens


def post(client, path: str, page: str, data: dict | None = None):
    html = client.get(page).get_data(as_text=True)
    return client.post(path, data={"csrf_token": csrf_from(html), **(data or {})})


def test_bill_credit_note_rebill_pay_and_gate_pass_on_the_screens(app, engine, make_staff):
    people = {}
    for n, role in enumerate(("SERVICE_ADVISOR", "ACCOUNTS")):
        staff_id, code, pin = make_staff(f"RB{n}{role[:3]}", role)
        client = app.test_client()
        assert login(client, code, pin).status_code == 303
        people[role] = (client, staff_id)
    advisor, advisor_id = people["SERVICE_ADVISOR"]
    accounts, _ = people["ACCOUNTS"]
    with engine.begin() as conn:
        branch = scalar(conn, "SELECT branch_id FROM master.staff WHERE staff_id = :s", s=advisor_id)
        _, card = ready_card(conn, branch)
        sb.move(conn, card, "READY")
    page = f"/service/job-cards/{card}/bill"
    assert post(advisor, page, page).status_code == 303
    with engine.connect() as conn:
        first = card_invoice(conn, card)
        first_no = scalar(conn, "SELECT invoice_no FROM billing.invoice WHERE invoice_id = :i", i=first)
    # Billed: a second tap bills nothing more.
    assert post(advisor, page, page).status_code == 303
    with engine.connect() as conn:
        assert bills(conn, card) == [first]
    # Accounts reverses the bill; the credit note says what it does to the job card.
    note_page = f"/billing/invoices/{first}/credit-note"
    form = accounts.get(note_page).get_data(as_text=True)
    assert "can then be billed again" in html_lib.unescape(form)
    response = accounts.post(note_page, data={"csrf_token": csrf_from(form), "key": str(uuid.uuid4()),
                                              "reason": "Wrong customer GSTIN on the bill"})
    assert response.status_code == 303, response.get_data(as_text=True)
    with engine.connect() as conn:
        assert card_invoice(conn, card) is None
        note_no = scalar(conn, "SELECT credit_note_no FROM billing.credit_note WHERE invoice_id = :i", i=first)
    html = html_lib.unescape(advisor.get(page).get_data(as_text=True))
    assert "Earlier bills" in html and first_no in html and note_no in html and "Make the invoice" in html
    # Billed again: a new invoice, the gate pass waits for its payment.
    assert post(advisor, page, page).status_code == 303
    with engine.connect() as conn:
        second = card_invoice(conn, card)
        assert second not in (None, first) and bills(conn, card) == [first, second]
    response = post(advisor, f"/service/job-cards/{card}/gate-pass", page, {"received_by_name": "Owner"})
    assert response.status_code == 422 and "not paid in full" in response.get_data(as_text=True)
    with engine.begin() as conn:
        pay(conn, second)
    response = post(advisor, f"/service/job-cards/{card}/gate-pass", page, {"received_by_name": "Owner",
                                                                              "key": str(uuid.uuid4())})
    assert response.status_code == 303, response.get_data(as_text=True)
    with engine.connect() as conn:
        assert scalar(conn, "SELECT invoice_id FROM service.gate_pass WHERE job_card_id = :j", j=card) == second
        assert scalar(conn, "SELECT state FROM service.job_card WHERE job_card_id = :j", j=card) == "DELIVERED"


def error_next_to(html: str, field: str) -> str:
    found = re.search(rf'<div id="{field}-help">(.*?)</div>', html, re.S)
    assert found, f"no field {field}"
    return html_lib.unescape(" ".join(re.findall(r'<p class="error">(.*?)</p>', found.group(1))))


def test_the_job_card_form_names_the_visit_at_another_branch_that_used_the_free_service(app, engine, make_staff,
                                                                                      make_branch):
    mysuru = make_branch(trade_name="Volt EV Mysuru")
    staff_id, code, pin = make_staff("FSA1", "SERVICE_ADVISOR")
    advisor = app.test_client()
    assert login(advisor, code, pin).status_code == 303
    with engine.begin() as conn:
        variant = bld.vehicle_catalog(conn).variant_id
        free_schedule(conn, variant)
        sold = today_ist().replace(day=1)
        vehicle = sb.outside_vehicle(conn, mysuru, variant_id=variant, sale_date=sold.isoformat())
        used = free_card(conn, mysuru, vehicle, 1, sold.isoformat(), 300)
        sb.move(conn, used, "APPROVED", "IN_PROGRESS", "QC", "READY", "DELIVERED")
        number = scalar(conn, "SELECT job_card_no FROM service.job_card WHERE job_card_id = :j", j=used)
    page = f"/service/vehicles/{vehicle}/job-cards/new"
    response = post(advisor, page, page, {"service_type": "FREE_SERVICE", "free_service_no": "1", "odometer_km": "500",
                                          "complaints": "First free service", "technician_id": "0",
                                          "key": str(uuid.uuid4())})
    assert response.status_code == 422
    said = error_next_to(response.get_data(as_text=True), "free_service_no")
    assert said == (f"Free service 1 was already used on this vehicle on {sold:%d-%m-%Y} at Volt EV Mysuru "
                    f"(job card {number})")
    with engine.connect() as conn:
        assert scalar(conn, "SELECT count(*) FROM service.job_card WHERE vehicle_id = :v", v=vehicle) == 1
