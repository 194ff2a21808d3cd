"""Insurance sold with a vehicle: capturing the policy from the sale (covers prefilled from today,
third party by the vehicle's segment), the periods the database refuses, editing (commission
received), who may see which policy, the sale page's panel and the renewal list by month."""
from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import builders as b
import pytest
import sqlalchemy as sa
from conftest import csrf_from, login

from webapp.formatting import ddmmyyyy, today_ist
from webapp.insurance.forms import cover_ends


@pytest.mark.parametrize("start, years, last_day", [
    (date(2026, 11, 24), 1, date(2027, 11, 23)),
    (date(2026, 11, 24), 5, date(2031, 11, 23)),
    (date(2026, 1, 1), 1, date(2026, 12, 31)),
    (date(2028, 2, 29), 1, date(2029, 2, 28)),
    (date(2028, 2, 29), 4, date(2032, 2, 28)),
])
def test_a_cover_of_whole_years_ends_the_day_before_its_anniversary(start, years, last_day):
    assert cover_ends(start, years) == last_day


# ----------------------------------------------------------------------------- a sale to insure


def staff_branch(engine, staff_id: int) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT branch_id FROM master.staff WHERE staff_id = :s"), {"s": staff_id}).scalar()


def sale(engine, branch_id: int, *, salesperson: int | None = None, segment: str = "E2W", allot: bool = True):
    """A committed booking at the branch (its unit allotted unless allot=False); returns ids."""
    today = today_ist()
    with engine.begin() as conn:
        oem_id = b.oem(conn, brand=f"Ather {b._n()}")
        model_id = b.model(conn, oem_id, segment=segment, name="Rizta" if segment == "E2W" else "Nexon EV")
        variant_id = b.variant(conn, model_id, name="S")
        b.colour(conn, variant_id, "Red")
        b.price(conn, variant_id, str(today - timedelta(days=10)))
        seller = salesperson or b.staff(conn, branch_id, "SALES")
        unit_id = b.unit(conn, variant_id, "Red", branch_id, received_on=str(today))
        s = b.Sale(branch_id, b.staff(conn, branch_id, "MANAGER"), seller,
                   b.customer(conn, branch_id, name="Kavya Rao"), b.Catalog(oem_id, model_id, variant_id, ("Red",)),
                   unit_id)
        booking_id = b.booking(conn, s, on=str(today))
        if allot:
            conn.execute(sa.text("INSERT INTO sales.allotment (booking_id, unit_id) VALUES (:b, :u)"),
                         {"b": booking_id, "u": unit_id})
        insurer_id = conn.execute(sa.text(f"INSERT INTO master.insurer (name) VALUES ('Acko General {b._n()}') "
                                          "RETURNING insurer_id")).scalar_one()
        b.act_as(conn, None)
        vin = conn.execute(sa.text("SELECT vin FROM inventory.vehicle_unit WHERE unit_id = :u"), {"u": unit_id}).scalar()
    return {"booking_id": booking_id, "unit_id": unit_id, "insurer_id": insurer_id, "customer_id": s.customer_id,
            "vin": vin}


def input_value(html: str, name: str) -> str | None:
    tag = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', html)
    value = re.search(r'value="([^"]*)"', tag.group(0)) if tag else None
    return value.group(1) if value else None


def policy_form(html: str, **overrides) -> dict:
    data = {name: input_value(html, name) or "" for name in (
        "od_policy_no", "od_from", "od_to", "tp_policy_no", "tp_from", "tp_to", "premium", "idv", "nominee_name",
        "nominee_relation", "commission_amount", "commission_received_on")}
    data["csrf_token"] = csrf_from(html)
    data.update(overrides)
    return data


def policies(engine):
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT * FROM insurance.policy ORDER BY policy_id")).mappings().all()


@pytest.fixture
def manager(logged_in, engine):
    client, staff_id = logged_in("MANAGER")
    return client, staff_branch(engine, staff_id)


# ----------------------------------------------------------------------------- capturing the policy


def test_a_new_scooters_policy_is_prefilled_one_year_own_damage_and_five_years_third_party(manager, engine):
    client, branch_id = manager
    s = sale(engine, branch_id)
    page = client.get(f"/insurance/bookings/{s['booking_id']}/policy")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert s["vin"] in html and "Kavya Rao" in html
    today = today_ist()
    # Dates are shown DD-MM-YYYY, whatever the browser's language.
    assert input_value(html, "od_from") == ddmmyyyy(today) and input_value(html, "tp_from") == ddmmyyyy(today)
    assert input_value(html, "od_to") == ddmmyyyy(cover_ends(today, 1))
    assert input_value(html, "tp_to") == ddmmyyyy(cover_ends(today, 5))
    assert "5 years for this vehicle" in html


def test_an_electric_cars_third_party_cover_is_three_years(manager, engine):
    client, branch_id = manager
    s = sale(engine, branch_id, segment="E4W")
    html = client.get(f"/insurance/bookings/{s['booking_id']}/policy").get_data(as_text=True)
    assert input_value(html, "tp_to") == ddmmyyyy(cover_ends(today_ist(), 3))


def test_recording_the_policy_saves_both_covers_for_the_allotted_scooter_and_its_buyer(manager, engine):
    client, branch_id = manager
    s = sale(engine, branch_id)
    url = f"/insurance/bookings/{s['booking_id']}/policy"
    form = policy_form(client.get(url).get_data(as_text=True), insurer_id=str(s["insurer_id"]),
                       od_policy_no="od-2026-778812", tp_policy_no="TP/2026/778812", premium="6,850.50",
                       idv="1,18,000", nominee_name="Arjun Rao", nominee_relation="Spouse", commission_amount="950")
    response = client.post(url, data=form)
    assert response.status_code == 303
    [p] = policies(engine)
    assert (p["booking_id"], p["unit_id"], p["customer_id"], p["insurer_id"]) == (
        s["booking_id"], s["unit_id"], s["customer_id"], s["insurer_id"])
    assert p["od_policy_no"] == "OD-2026-778812" and p["tp_policy_no"] == "TP/2026/778812"
    assert (p["premium"], p["idv"], p["commission_amount"]) == (Decimal("6850.50"), Decimal("118000.00"),
                                                                Decimal("950.00"))
    assert p["od_to"] == cover_ends(today_ist(), 1) and p["tp_to"] == cover_ends(today_ist(), 5)
    assert p["next_expiry"] == p["od_to"]
    detail = client.get(f"/insurance/policies/{p['policy_id']}").get_data(as_text=True)
    assert "OD-2026-778812" in detail and "TP/2026/778812" in detail and "Arjun Rao (Spouse)" in detail
    # A second submission of the form lands on the policy already recorded.
    again = client.post(url, data=form)
    assert again.status_code == 303 and again.headers["Location"].endswith(f"/insurance/policies/{p['policy_id']}")
    assert len(policies(engine)) == 1


def test_own_damage_ending_before_it_starts_is_refused_by_the_database_and_shown_at_the_field(manager, engine):
    client, branch_id = manager
    s = sale(engine, branch_id)
    url = f"/insurance/bookings/{s['booking_id']}/policy"
    today = today_ist()
    form = policy_form(client.get(url).get_data(as_text=True), insurer_id=str(s["insurer_id"]),
                       od_policy_no="OD-1001", premium="5000", od_to=str(today - timedelta(days=1)))
    response = client.post(url, data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Own damage must end after it starts and last at most 5 years" in html
    assert input_value(html, "od_policy_no") == "OD-1001"          # what was typed is kept
    assert policies(engine) == []


def test_third_party_cover_longer_than_five_years_is_refused(manager, engine):
    client, branch_id = manager
    s = sale(engine, branch_id)
    url = f"/insurance/bookings/{s['booking_id']}/policy"
    today = today_ist()
    form = policy_form(client.get(url).get_data(as_text=True), insurer_id=str(s["insurer_id"]),
                       tp_policy_no="TP-2002", premium="5000", tp_to=str(cover_ends(today, 5) + timedelta(days=2)))
    response = client.post(url, data=form)
    assert response.status_code == 422
    assert "Third party must end after it starts and last at most 5 years" in response.get_data(as_text=True)
    assert policies(engine) == []


def test_a_policy_needs_at_least_one_cover_and_a_premium(manager, engine):
    client, branch_id = manager
    s = sale(engine, branch_id)
    url = f"/insurance/bookings/{s['booking_id']}/policy"
    html = client.get(url).get_data(as_text=True)
    response = client.post(url, data=policy_form(html, insurer_id=str(s["insurer_id"]), premium="4000"))
    assert response.status_code == 422
    assert "Enter the own-damage or the third-party policy number (or both)" in response.get_data(as_text=True)
    response = client.post(url, data=policy_form(html, insurer_id=str(s["insurer_id"]), od_policy_no="OD-77777"))
    assert response.status_code == 422 and "Enter the premium" in response.get_data(as_text=True)
    response = client.post(url, data={"csrf_token": csrf_from(html)})   # an empty form is not a server error
    assert response.status_code == 422
    assert policies(engine) == []


def test_a_booking_without_a_scooter_allotted_cannot_be_insured_yet(manager, engine):
    client, branch_id = manager
    s = sale(engine, branch_id, allot=False)
    page = client.get(f"/insurance/bookings/{s['booking_id']}/policy")
    assert page.status_code == 200
    assert "Allot a scooter" in page.get_data(as_text=True)
    assert 'name="od_policy_no"' not in page.get_data(as_text=True)


def test_marking_the_commission_received(manager, engine):
    client, branch_id = manager
    s = sale(engine, branch_id)
    url = f"/insurance/bookings/{s['booking_id']}/policy"
    client.post(url, data=policy_form(client.get(url).get_data(as_text=True), insurer_id=str(s["insurer_id"]),
                                      od_policy_no="OD-5555", tp_policy_no="TP-5555", premium="7000",
                                      commission_amount="800"))
    [p] = policies(engine)
    edit = f"/insurance/policies/{p['policy_id']}/edit"
    html = client.get(edit).get_data(as_text=True)
    assert input_value(html, "od_policy_no") == "OD-5555"
    received = str(today_ist())
    response = client.post(edit, data=policy_form(html, insurer_id=str(s["insurer_id"]),
                                                   commission_received_on=received))
    assert response.status_code == 303
    [p] = policies(engine)
    assert str(p["commission_received_on"]) == received and p["commission_amount"] == Decimal("800.00")
    # Commission received on a policy without commission is refused by the database.
    response = client.post(edit, data=policy_form(client.get(edit).get_data(as_text=True),
                                                  insurer_id=str(s["insurer_id"]), commission_amount="0"))
    assert response.status_code == 422 and "Enter the commission amount first" in response.get_data(as_text=True)


def test_a_salesperson_insures_only_their_own_sales(app, engine, make_staff):
    seller_id, code, pin = make_staff("SAL1", "SALES")
    branch_id = staff_branch(engine, seller_id)
    mine = sale(engine, branch_id, salesperson=seller_id)
    theirs = sale(engine, branch_id)
    client = app.test_client()
    assert login(client, code, pin).status_code == 303
    assert client.get(f"/insurance/bookings/{mine['booking_id']}/policy").status_code == 200
    assert client.get(f"/insurance/bookings/{theirs['booking_id']}/policy").status_code == 404
    with engine.begin() as conn:
        other_policy = conn.execute(sa.text("""
            INSERT INTO insurance.policy (branch_id, booking_id, unit_id, customer_id, insurer_id, tp_policy_no,
                                          tp_from, tp_to, premium)
            VALUES (:br, :b, :u, :c, :i, 'TP-9999', :d, :d + 1000, 3000) RETURNING policy_id"""),
            {"br": branch_id, "b": theirs["booking_id"], "u": theirs["unit_id"], "c": theirs["customer_id"],
             "i": theirs["insurer_id"], "d": today_ist()}).scalar_one()
    assert client.get(f"/insurance/policies/{other_policy}").status_code == 404
    assert "TP-9999" not in client.get("/insurance/renewals?month="
                                       + f"{today_ist() + timedelta(days=1000):%Y-%m}").get_data(as_text=True)


# ----------------------------------------------------------------------------- renewals


def insert_policy(engine, branch_id, s, od_to: date | None, tp_to: date | None, no: str) -> int:
    start = date(2026, 5, 1)
    with engine.begin() as conn:
        return conn.execute(sa.text("""
            INSERT INTO insurance.policy (branch_id, booking_id, unit_id, customer_id, insurer_id, od_policy_no, od_from,
                                          od_to, tp_policy_no, tp_from, tp_to, premium)
            VALUES (:br, :b, :u, :c, :i, :od_no, :od_from, :od_to, :tp_no, :tp_from, :tp_to, 6000)
            RETURNING policy_id"""), {
            "br": branch_id, "b": s["booking_id"], "u": s["unit_id"], "c": s["customer_id"], "i": s["insurer_id"],
            "od_no": f"OD-{no}" if od_to else None, "od_from": start if od_to else None, "od_to": od_to,
            "tp_no": f"TP-{no}" if tp_to else None, "tp_from": start if tp_to else None, "tp_to": tp_to}).scalar_one()


def test_the_renewal_list_shows_each_cover_expiring_in_the_month(manager, engine):
    client, branch_id = manager
    s = sale(engine, branch_id)
    insert_policy(engine, branch_id, s, od_to=date(2027, 4, 30), tp_to=date(2031, 4, 30), no="A1")
    both = sale(engine, branch_id)
    insert_policy(engine, branch_id, both, od_to=date(2027, 5, 10), tp_to=date(2027, 5, 20), no="B2")
    html = client.get("/insurance/renewals?month=2027-05").get_data(as_text=True)
    assert "OD-B2" in html and "TP-B2" in html and "Own damage" in html and "Third party" in html
    assert html.index("10-05-2027") < html.index("20-05-2027")           # soonest first
    assert "OD-A1" not in html and "TP-A1" not in html
    assert both["vin"] in html and "Kavya Rao" in html
    assert 'href="/insurance/renewals?month=2027-04"' in html and 'href="/insurance/renewals?month=2027-06"' in html
    april = client.get("/insurance/renewals?month=2027-04").get_data(as_text=True)
    assert "OD-A1" in april and "TP-A1" not in april
    assert "TP-A1" in client.get("/insurance/renewals?month=2031-04").get_data(as_text=True)
    rows = client.get("/insurance/renewals?month=2027-05",
                      headers={"HX-Request": "true", "HX-Target": "renewal-results"}).get_data(as_text=True)
    assert "OD-B2" in rows and "<html" not in rows


def test_the_renewal_list_opens_on_the_coming_month(manager, engine):
    client, _ = manager
    today = today_ist()
    coming = date(today.year + today.month // 12, today.month % 12 + 1, 1)
    html = client.get("/insurance/renewals").get_data(as_text=True)
    assert f'value="{coming:%Y-%m}"' in html
    assert client.get("/insurance/renewals?month=garbage").status_code == 200
    assert client.get("/insurance/renewals?month=9999-12").status_code == 200


# ----------------------------------------------------------------------------- the sale page's panel


def test_the_sale_page_offers_to_record_the_policy_then_shows_it(app, manager, engine):
    if "sales.booking_detail" not in app.view_functions:
        pytest.skip("the sale page is not built yet")
    client, branch_id = manager
    s = sale(engine, branch_id)
    page = client.get(f"/sales/bookings/{s['booking_id']}").get_data(as_text=True)
    assert "Record the insurance policy" in page
    assert f'href="/insurance/bookings/{s["booking_id"]}/policy"' in page
    insert_policy(engine, branch_id, s, od_to=date(2027, 5, 10), tp_to=date(2031, 4, 30), no="C3")
    page = client.get(f"/sales/bookings/{s['booking_id']}").get_data(as_text=True)
    assert "OD-C3" in page and "TP-C3" in page and "Record the insurance policy" not in page
