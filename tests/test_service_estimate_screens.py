"""The estimate, the customer's approval, parts on the job card, parts requests and "my jobs", by role:
the service advisor prices the work (GST per line, the customer's total) and records the approval;
work added after it shows apart until approved again; parts leave stock when issued and a part not
in stock is requested from purchasing; a technician sees no price and marks their own lines done;
accounts reads the estimate and moves parts requests on. Bad input comes back next to its field,
with nothing half-saved."""
from __future__ import annotations

import html as html_lib
import re
from decimal import Decimal

import pytest
import sqlalchemy as sa
from conftest import csrf_from, login

from tests import builders as b
from tests import service_builders as sb
from tests import service_work_builders as wb


def seeded(engine, fn, *args, **kw):
    with engine.begin() as conn:
        return fn(conn, *args, **kw)


def one(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def error_next_to(html: str, field: str) -> str:
    found = re.search(rf'<div id="{field}-help">(.*?)</div>', html, re.S)
    assert found, f"no field {field}"
    return html_lib.unescape(" ".join(re.findall(r'<p class="error">(.*?)</p>', found.group(1))))


@pytest.fixture
def workshop(app, engine, make_staff):
    """One member of each role at one branch, each with their own browser; a vehicle with an open
    job card, a labour operation (1.5 h at 450) and a part (MRP 240, 3 in stock at 100)."""
    people = {}
    for n, role in enumerate(("SERVICE_ADVISOR", "TECHNICIAN", "ACCOUNTS")):
        staff_id, code, pin = make_staff(f"W{n}{role[:3]}", role)
        client = app.test_client()
        assert login(client, code, pin).status_code == 303
        people[role] = (client, staff_id)
    branch = one(engine, "SELECT branch_id FROM master.staff WHERE staff_id = :s", s=people["TECHNICIAN"][1])
    card = seeded(engine, sb.job_card, branch, seeded(engine, sb.outside_vehicle, branch))
    op = seeded(engine, wb.labour, hours="1.50", rate="450.00")
    part = seeded(engine, b.part, purchase_price="120.00")
    seeded(engine, b.receive, branch, part, "3", "100.00")
    return {"people": people, "branch": branch, "card": card, "op": op, "part": part}


def post(client, path: str, data: dict, page: str, **kw):
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data}, **kw)


def state(engine, card: int) -> str:
    return one(engine, "SELECT state FROM service.job_card WHERE job_card_id = :j", j=card)


# ----------------------------------------------------------------------------- the estimate


def test_the_advisor_prices_the_estimate_from_the_masters_with_gst_per_line(workshop, engine):
    client, _ = workshop["people"]["SERVICE_ADVISOR"]
    card, tech = workshop["card"], workshop["people"]["TECHNICIAN"][1]
    page = f"/service/job-cards/{card}/estimate"
    response = post(client, page, {"operation_code": workshop["op"], "part_id": "0", "coverage": "CUSTOMER",
                                   "technician_id": tech}, page)
    assert response.status_code == 303, response.get_data(as_text=True)
    response = post(client, page, {"part_id": workshop["part"], "operation_code": "", "qty": "2",
                                   "coverage": "CUSTOMER", "technician_id": "0"}, page)
    assert response.status_code == 303
    got = seeded(engine, lambda c: c.execute(sa.text(
        "SELECT qty, unit_price, price_includes_gst, technician_id FROM service.job_line WHERE job_card_id = :j "
        "ORDER BY job_line_id"), {"j": card}).all())
    assert got == [(Decimal("1.500"), Decimal("450.00"), False, tech), (Decimal("2.000"), Decimal("240.00"), True, None)]
    html = client.get(page).get_data(as_text=True)
    # Labour 1.5 h x 450 = 675 + 18 % = 121.50 -> 796.50; parts 2 x 240 incl. 18 % -> 406.78 + 73.22.
    assert "₹796.50" in html and "₹121.50" in html
    assert "₹406.78" in html and "₹73.22" in html
    assert "₹1,276.50" in html and "₹1,277.00" in html   # the customer's total, rounded to the rupee
    # Sent to the customer from the estimate.
    response = post(client, f"/service/job-cards/{card}/move", {"from_state": "OPEN", "to_state": "ESTIMATE_SENT"}, page)
    assert response.status_code == 303 and state(engine, card) == "ESTIMATE_SENT"


@pytest.mark.parametrize("typed, field, message", [
    ({"unit_price": "45O"}, "unit_price", "number"),
    ({"qty": "0"}, "qty", "More than 0"),
    ({"qty": "-1"}, "qty", ""),
    ({"operation_code": ""}, "operation_code", "Choose a labour operation or a part"),
])
def test_bad_input_on_a_line_comes_back_next_to_its_field_and_nothing_is_saved(workshop, engine, typed, field, message):
    client, _ = workshop["people"]["SERVICE_ADVISOR"]
    card = workshop["card"]
    page = f"/service/job-cards/{card}/estimate"
    data = {"operation_code": workshop["op"], "part_id": "0", "coverage": "CUSTOMER", "technician_id": "0", **typed}
    response = post(client, page, data, page)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert error_next_to(html, field)
    assert message.lower() in error_next_to(html, field).lower()
    for name, value in typed.items():
        if value and name != "operation_code":
            assert f'value="{value}"' in html      # kept as typed
    assert one(engine, "SELECT count(*) FROM service.job_line WHERE job_card_id = :j", j=card) == 0


def test_a_part_counted_in_whole_units_takes_no_fraction(workshop, engine):
    client, _ = workshop["people"]["SERVICE_ADVISOR"]
    page = f"/service/job-cards/{workshop['card']}/estimate"
    response = post(client, page, {"part_id": workshop["part"], "operation_code": "", "qty": "1.5",
                                   "coverage": "CUSTOMER", "technician_id": "0"}, page)
    assert response.status_code == 422
    assert "whole units" in error_next_to(response.get_data(as_text=True), "qty")


# ----------------------------------------------------------------------------- approval


def test_the_approval_approves_the_estimate_and_extra_work_shows_until_approved_again(workshop, engine):
    client, staff = workshop["people"]["SERVICE_ADVISOR"]
    card = workshop["card"]
    page = f"/service/job-cards/{card}/approval"
    # No work yet: refused above the form, nothing recorded.
    html = client.get(page).get_data(as_text=True)
    key = re.search(r'name="key" type="hidden" value="([^"]+)"', html) or re.search(r'name="key"[^>]*value="([^"]+)"', html)
    response = post(client, page, {"approved_by_name": "Asha Rao", "mode": "PHONE", "amount": "500",
                                   "key": key.group(1)}, page)
    assert response.status_code == 422
    assert "no proposed work to approve" in response.get_data(as_text=True)
    assert one(engine, "SELECT count(*) FROM service.job_approval WHERE job_card_id = :j", j=card) == 0

    seeded(engine, wb.line, card, operation_code=workshop["op"])
    html = client.get(page).get_data(as_text=True)
    assert 'value="531.00"' in html            # the amount offered: the proposed work, GST included, rounded
    key = re.search(r'name="key"[^>]*value="([^"]+)"', html).group(1)
    form = {"approved_by_name": "Asha Rao", "mode": "PHONE", "amount": "531", "key": key}
    assert post(client, page, form, page).status_code == 303
    assert post(client, page, form, page).status_code == 303      # a second tap records nothing more
    assert one(engine, "SELECT count(*) FROM service.job_approval WHERE job_card_id = :j", j=card) == 1
    assert state(engine, card) == "APPROVED"
    approval = one(engine, "SELECT recorded_by FROM service.job_approval WHERE job_card_id = :j", j=card)
    assert approval == staff

    # Work beyond the approved estimate: shown apart, not billable until approved.
    seeded(engine, sb.move, card, "IN_PROGRESS")
    seeded(engine, wb.line, card, part_id=workshop["part"], qty="1")
    html = client.get(f"/service/job-cards/{card}/estimate").get_data(as_text=True)
    assert "Work beyond the approved estimate: 1 line, ₹240.00" in html
    assert one(engine, "SELECT service.customer_work_approved(:j)", j=card) is False
    html = client.get(page).get_data(as_text=True)
    key = re.search(r'name="key"[^>]*value="([^"]+)"', html).group(1)
    assert post(client, page, {**form, "amount": "240", "key": key}, page).status_code == 303
    assert one(engine, "SELECT service.customer_work_approved(:j)", j=card) is True
    assert "Work beyond the approved estimate" not in client.get(f"/service/job-cards/{card}/estimate").get_data(as_text=True)


def test_an_approval_with_letters_in_the_amount_or_no_name_comes_back_next_to_the_field(workshop, engine):
    client, _ = workshop["people"]["SERVICE_ADVISOR"]
    card = workshop["card"]
    seeded(engine, wb.line, card, operation_code=workshop["op"])
    page = f"/service/job-cards/{card}/approval"
    html = client.get(page).get_data(as_text=True)
    key = re.search(r'name="key"[^>]*value="([^"]+)"', html).group(1)
    response = post(client, page, {"approved_by_name": "", "mode": "PHONE", "amount": "7g7", "key": key}, page)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert error_next_to(html, "amount") and error_next_to(html, "approved_by_name")
    assert 'value="7g7"' in html
    assert one(engine, "SELECT count(*) FROM service.job_approval WHERE job_card_id = :j", j=card) == 0


# ----------------------------------------------------------------------------- roles


def test_a_technician_never_sees_a_price_and_marks_their_own_lines_done(workshop, engine):
    client, tech = workshop["people"]["TECHNICIAN"]
    card = workshop["card"]
    mine = seeded(engine, wb.line, card, operation_code=workshop["op"], technician_id=tech)
    part_line = seeded(engine, wb.line, card, part_id=workshop["part"], qty="1", technician_id=tech)
    seeded(engine, wb.approve, card)
    assert client.get(f"/service/job-cards/{card}/estimate").status_code == 403
    assert client.get(f"/service/job-cards/{card}/approval").status_code == 403
    for page in ("/service/my-jobs", f"/service/job-cards/{card}/parts", f"/service/job-cards/{card}"):
        html = client.get(page).get_data(as_text=True)
        assert "₹" not in html and "450" not in html and "240" not in html, page
    html = client.get("/service/my-jobs").get_data(as_text=True)
    assert f"/service/job-lines/{mine}/done" in html
    response = post(client, f"/service/job-lines/{mine}/done", {}, "/service/my-jobs")
    assert response.status_code == 303
    assert one(engine, "SELECT status FROM service.job_line WHERE job_line_id = :l", l=mine) == "DONE"
    assert one(engine, "SELECT done_by FROM service.job_line WHERE job_line_id = :l", l=mine) == tech
    # A part line is done once its part is issued: said so, nothing changes.
    response = post(client, f"/service/job-lines/{part_line}/done", {}, "/service/my-jobs", follow_redirects=True)
    assert "Issue the part before marking the line done" in response.get_data(as_text=True)
    assert one(engine, "SELECT status FROM service.job_line WHERE job_line_id = :l", l=part_line) == "APPROVED"
    # Another technician's line is not theirs to mark.
    other = seeded(engine, b.staff, workshop["branch"], "TECHNICIAN")
    theirs = seeded(engine, wb.line, card, operation_code=workshop["op"], technician_id=other, coverage="WARRANTY")
    response = post(client, f"/service/job-lines/{theirs}/done", {}, "/service/my-jobs", follow_redirects=True)
    assert "another technician's" in html_lib.unescape(response.get_data(as_text=True))
    assert one(engine, "SELECT status FROM service.job_line WHERE job_line_id = :l", l=theirs) == "PROPOSED"
    # Issuing parts is the counter's.
    assert post(client, f"/service/job-cards/{card}/parts/issue", {"job_line_id": part_line, "qty": "1"},
                "/service/my-jobs").status_code == 403


def test_accounts_reads_the_estimate_but_does_not_change_it(workshop, engine):
    client, _ = workshop["people"]["ACCOUNTS"]
    card = workshop["card"]
    seeded(engine, wb.line, card, operation_code=workshop["op"])
    html = client.get(f"/service/job-cards/{card}/estimate").get_data(as_text=True)
    assert "₹531.00" in html and "Add to the estimate" not in html
    page = f"/service/job-cards/{card}/estimate"
    assert post(client, page, {"operation_code": workshop["op"], "coverage": "CUSTOMER"}, page).status_code == 403


# ----------------------------------------------------------------------------- parts


def test_parts_are_issued_from_stock_and_a_shortage_is_requested_from_purchasing(workshop, engine):
    client, _ = workshop["people"]["SERVICE_ADVISOR"]
    card, part, branch = workshop["card"], workshop["part"], workshop["branch"]
    line = seeded(engine, wb.line, card, part_id=part, qty="5")
    seeded(engine, wb.approve, card)
    page = f"/service/job-cards/{card}/parts"
    html = client.get(page).get_data(as_text=True)
    assert f'name="job_line_id" value="{line}"' in html
    key = re.search(r'name="key" value="([^"]+)"', html).group(1)
    # 5 asked, 3 in stock: refused next to the quantity, nothing leaves stock, 2 requested.
    response = post(client, f"{page}/issue", {"job_line_id": line, "qty": "5", "key": key}, page)
    assert response.status_code == 422
    said = error_next_to(response.get_data(as_text=True), f"issue-{line}")
    assert "Only 3 in stock" in said and "parts request for 2" in said
    assert seeded(engine, b.balance, branch, part)["qty"] == 3
    assert one(engine, "SELECT issued_qty FROM service.job_line WHERE job_line_id = :l", l=line) == 0
    assert one(engine, "SELECT qty FROM service.parts_request WHERE job_line_id = :l AND status = 'OPEN'", l=line) == 2
    # 3 issued: out of stock in the same request, kept on the line.
    html = client.get(page).get_data(as_text=True)
    key = re.search(r'name="key" value="([^"]+)"', html).group(1)
    form = {"job_line_id": line, "qty": "3", "key": key}
    assert post(client, f"{page}/issue", form, page).status_code == 303
    assert post(client, f"{page}/issue", form, page).status_code == 303    # sent twice: issued once
    assert seeded(engine, b.balance, branch, part)["qty"] == 0
    assert one(engine, "SELECT issued_qty FROM service.job_line WHERE job_line_id = :l", l=line) == 3
    # One back unused.
    html = client.get(page).get_data(as_text=True)
    key = re.findall(r'name="key" value="([^"]+)"', html)[-1]
    assert post(client, f"{page}/return", {"job_line_id": line, "qty": "1", "key": key}, page).status_code == 303
    assert seeded(engine, b.balance, branch, part)["qty"] == 1
    kinds = seeded(engine, lambda c: c.execute(sa.text(
        "SELECT kind, qty FROM inventory.stock_move WHERE part_id = :p ORDER BY move_id"), {"p": part}).all())
    assert kinds == [("RECEIPT", Decimal("3.000")), ("ISSUE_JOB", Decimal("-3.000")), ("RETURN_JOB", Decimal("1.000"))]

    # Purchasing (accounts) sees the request and orders it; the technician cannot open the list.
    accounts, _ = workshop["people"]["ACCOUNTS"]
    html = accounts.get("/service/parts-requests").get_data(as_text=True)
    assert one(engine, "SELECT job_card_no FROM service.job_card WHERE job_card_id = :j", j=card) in html
    assert one(engine, "SELECT part_no FROM master.part WHERE part_id = :p", p=part) in html
    request_id = one(engine, "SELECT request_id FROM service.parts_request WHERE job_line_id = :l", l=line)
    response = post(accounts, f"/service/parts-requests/{request_id}/status",
                    {"from_status": "OPEN", "to_status": "ORDERED"}, "/service/parts-requests")
    assert response.status_code == 303
    assert one(engine, "SELECT status FROM service.parts_request WHERE request_id = :r", r=request_id) == "ORDERED"
    response = post(accounts, f"/service/parts-requests/{request_id}/status",
                    {"from_status": "OPEN", "to_status": "ORDERED"}, "/service/parts-requests", follow_redirects=True)
    assert "already ordered" in response.get_data(as_text=True)
    tech, _ = workshop["people"]["TECHNICIAN"]
    assert tech.get("/service/parts-requests").status_code == 403


@pytest.mark.parametrize("qty, message", [("0", "More than 0"), ("abc", "number"), ("2", "More than the line")])
def test_bad_quantities_to_issue_come_back_next_to_the_field(workshop, engine, qty, message):
    client, _ = workshop["people"]["SERVICE_ADVISOR"]
    card, part = workshop["card"], workshop["part"]
    line = seeded(engine, wb.line, card, part_id=part, qty="1")
    seeded(engine, wb.approve, card)
    page = f"/service/job-cards/{card}/parts"
    key = re.search(r'name="key" value="([^"]+)"', client.get(page).get_data(as_text=True)).group(1)
    response = post(client, f"{page}/issue", {"job_line_id": line, "qty": qty, "key": key}, page)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message.lower() in error_next_to(html, f"issue-{line}").lower()
    assert f'value="{qty}"' in html
    assert seeded(engine, b.balance, workshop["branch"], part)["qty"] == 3


def test_no_parts_are_issued_to_a_closed_card(workshop, engine):
    client, _ = workshop["people"]["SERVICE_ADVISOR"]
    card, part = workshop["card"], workshop["part"]
    line = seeded(engine, wb.line, card, part_id=part, qty="1", coverage="WARRANTY")
    page = f"/service/job-cards/{card}/parts"
    key = re.search(r'name="key" value="([^"]+)"', client.get(page).get_data(as_text=True)).group(1)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE service.job_card SET state = 'CANCELLED', cancel_reason = 'customer left' "
                             "WHERE job_card_id = :j"), {"j": card})
    response = post(client, f"{page}/issue", {"job_line_id": line, "qty": "1", "key": key}, page)
    assert response.status_code == 422
    assert "is closed" in response.get_data(as_text=True)
    assert seeded(engine, b.balance, workshop["branch"], part)["qty"] == 3
