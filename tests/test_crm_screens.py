"""CRM through the screens: who sees and changes which lead (a salesperson their own, a manager all and
reassigns, accounts reads), the duplicate warning as the mobile is typed, a call's outcome in one tap and
the dashboard's follow-ups, a test ride refused on an expired licence, the customer made from the lead and
the booking form pre-filled from it, the OEM portal upload with its preview, and the funnel numbers."""
from __future__ import annotations

import csv
import html
import io
import re
import uuid
from datetime import timedelta

import builders as b
import pytest
import sqlalchemy as sa
from conftest import login, page_csrf

from webapp.billing import posting
from webapp.formatting import today_ist
from webapp.sales import services

PIN = "2580"
TODAY = today_ist()


class Shop(dict):
    __getattr__ = dict.__getitem__


def plain(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


@pytest.fixture
def shop(app, engine, make_branch, make_staff):
    """A branch with two salespeople, a manager and accounts; a priced scooter, two in stock and a demo one."""
    branch_id = make_branch()
    people = {code: make_staff(code, role, PIN, branch_id=branch_id)[0]
              for code, role in (("CS1", "SALES"), ("CS2", "SALES"), ("CM1", "MANAGER"), ("CA1", "ACCOUNTS"))}
    with engine.begin() as conn:
        cat = b.vehicle_catalog(conn)
        b.price(conn, cat.variant_id, str(TODAY - timedelta(days=30)), ex_showroom="125000.00")
        units = [b.unit(conn, cat.variant_id, cat.colours[0], branch_id) for _ in range(3)]
        conn.execute(sa.text("UPDATE inventory.vehicle_unit SET status = 'DEMO' WHERE unit_id = :u"), {"u": units[2]})
        model_id = b.scalar(conn, "SELECT model_id FROM oem.variant WHERE variant_id = :v", v=cat.variant_id)
        model_name = b.scalar(conn, "SELECT o.brand || ' ' || m.name FROM oem.model m JOIN oem.oem o USING (oem_id) "
                                    "WHERE model_id = :m", m=model_id)
    return Shop(branch=branch_id, people=people, catalog=cat, units=units, demo=units[2], model=model_id,
                model_name=model_name)


def client_of(app, code: str):
    client = app.test_client()
    assert login(client, code, PIN).status_code == 303
    return client


def new_lead(client, **fields) -> int:
    token = page_csrf(client, "/crm/leads/new")
    data = {"csrf_token": token, "source": "WALK_IN", "name": "Asha Rao", "mobile": "9845011111", **fields}
    response = client.post("/crm/leads/new", data=data)
    assert response.status_code == 303, plain(response)[-1500:]
    return int(response.headers["Location"].rsplit("/", 1)[1])


# ----------------------------------------------------------------------------- who sees what


def test_a_salesperson_works_their_own_leads_a_manager_all_and_reassigns_accounts_reads(app, engine, shop):
    mine = new_lead(client_of(app, "CS1"), name="Asha Rao", mobile="9845011111")
    other = client_of(app, "CS2")
    theirs = new_lead(other, name="Bhavna Shah", mobile="9845022222", source="PHONE")
    assert scalar(engine, "SELECT status FROM crm.lead WHERE lead_id = :l", l=theirs) == "CONTACTED"

    seller = client_of(app, "CS1")
    listed = plain(seller.get("/crm/leads"))
    assert "Asha Rao" in listed and "Bhavna Shah" not in listed
    assert seller.get(f"/crm/leads/{theirs}").status_code == 404
    assert seller.post(f"/crm/leads/{mine}/reassign", data={
        "csrf_token": page_csrf(seller, f"/crm/leads/{mine}"), "salesperson_id": shop.people["CS2"]}).status_code == 403

    manager = client_of(app, "CM1")
    listed = plain(manager.get("/crm/leads"))
    assert "Asha Rao" in listed and "Bhavna Shah" in listed
    page = manager.get(f"/crm/leads/{mine}")
    assert "Reassign" in plain(page)
    response = manager.post(f"/crm/leads/{mine}/reassign", data={
        "csrf_token": page_csrf(manager, f"/crm/leads/{mine}"), "salesperson_id": shop.people["CS2"]})
    assert response.status_code == 303
    assert scalar(engine, "SELECT salesperson_id FROM crm.lead WHERE lead_id = :l", l=mine) == shop.people["CS2"]
    assert client_of(app, "CS1").get(f"/crm/leads/{mine}").status_code == 404   # no longer theirs

    accounts = client_of(app, "CA1")
    assert "Asha Rao" in plain(accounts.get(f"/crm/leads/{mine}"))
    assert "Record a call" not in plain(accounts.get(f"/crm/leads/{mine}"))
    assert accounts.get("/crm/leads/new").status_code == 403
    assert accounts.get("/crm/funnel").status_code == 403


def test_the_old_enquiry_addresses_lead_to_the_leads(app, shop):
    seller = client_of(app, "CS1")
    lead_id = new_lead(seller)
    for old, new in ((f"/sales/enquiries/{lead_id}", f"/crm/leads/{lead_id}"), ("/sales/enquiries/new", "/crm/leads/new"),
                     ("/sales/enquiries?status=NEW", "/crm/leads?status=NEW"),
                     (f"/sales/enquiries/{lead_id}/quote", f"/sales/leads/{lead_id}/quote")):
        response = seller.get(old)
        assert response.status_code == 302 and response.headers["Location"] == new, old
        assert seller.get(new).status_code == 200


def test_a_manager_may_give_a_new_lead_to_the_next_salesperson_in_turn(app, engine, shop):
    manager = client_of(app, "CM1")
    first = new_lead(manager, salesperson_id="-1", mobile="9845033333")
    second = new_lead(manager, salesperson_id="-1", mobile="9845044444", name="Chitra Iyer")
    owners = [scalar(engine, "SELECT salesperson_id FROM crm.lead WHERE lead_id = :l", l=n) for n in (first, second)]
    assert sorted(owners) == sorted([shop.people["CS1"], shop.people["CS2"]])


# ----------------------------------------------------------------------------- duplicates, calls, follow-ups


def test_a_known_mobile_is_offered_as_it_is_typed_instead_of_a_new_lead(app, engine, shop):
    seller = client_of(app, "CS1")
    lead_id = new_lead(seller, name="Asha Rao", mobile="9845011111")
    with engine.begin() as conn:
        customer_id = b.scalar(conn, """INSERT INTO master.customer (branch_id, name, mobile, state_code)
                                        VALUES (:b, 'Ravi Customer', '9845055555', '29') RETURNING customer_id""",
                               b=shop.branch)
    known = seller.get("/crm/leads/check-mobile", query_string={"mobile": "+91 98450 11111"},
                       headers={"HX-Request": "true", "HX-Target": "duplicates"})
    assert "This mobile number is known" in plain(known)
    assert f'href="/crm/leads/{lead_id}"' in known.get_data(as_text=True)
    customer = seller.get("/crm/leads/check-mobile", query_string={"mobile": "9845055555"})
    assert f'href="/master/customers/{customer_id}"' in customer.get_data(as_text=True)
    assert "known" not in plain(seller.get("/crm/leads/check-mobile", query_string={"mobile": "9845099999"}))
    assert "known" not in plain(seller.get("/crm/leads/check-mobile", query_string={"mobile": "12"}))
    # The form sent anyway with the known number shows the same warning beside it when refused.
    token = page_csrf(seller, "/crm/leads/new")
    refused = seller.post("/crm/leads/new", data={"csrf_token": token, "source": "WALK_IN", "name": "",
                                                   "mobile": "9845011111"})
    assert refused.status_code == 422 and "This mobile number is known" in plain(refused)


def test_a_call_outcome_takes_one_tap_and_sets_the_next_follow_up(app, engine, shop):
    seller = client_of(app, "CS1")
    lead_id = new_lead(seller, source="WEBSITE", next_action="First call", follow_up_on=TODAY.strftime("%d-%m-%Y"))
    assert scalar(engine, "SELECT status FROM crm.lead WHERE lead_id = :l", l=lead_id) == "NEW"
    home = plain(seller.get("/"))
    assert "My follow-ups 1 today · 0 overdue" in home and "Asha Rao" in home

    token = page_csrf(seller, "/crm/follow-ups")
    response = seller.post(f"/crm/leads/{lead_id}/contact", data={"csrf_token": token, "outcome": "NO_ANSWER",
                                                                   "back": "follow-ups"})
    assert response.status_code == 303 and response.headers["Location"] == "/crm/follow-ups"
    with engine.connect() as conn:
        lead = b.row(conn, "SELECT status, follow_up_on, next_action FROM crm.lead WHERE lead_id = :l", l=lead_id)
    assert (lead["status"], lead["follow_up_on"], lead["next_action"]) == ("NEW", TODAY + timedelta(days=1),
                                                                          "First call")
    assert "Nothing due today or overdue" in plain(seller.get("/crm/follow-ups"))   # due tomorrow now

    response = seller.post(f"/crm/leads/{lead_id}/contact", data={
        "csrf_token": token, "outcome": "REACHED", "note": "Wants the EMI options",
        "follow_up_on": (TODAY + timedelta(days=5)).strftime("%d-%m-%Y"), "next_action": "Send EMI options"})
    assert response.status_code == 303
    with engine.connect() as conn:
        lead = b.row(conn, "SELECT status, follow_up_on, next_action FROM crm.lead WHERE lead_id = :l", l=lead_id)
        calls = conn.execute(sa.text("SELECT outcome, note FROM crm.contact WHERE lead_id = :l ORDER BY contact_id"),
                             {"l": lead_id}).all()
    assert (lead["status"], lead["follow_up_on"], lead["next_action"]) == (
        "CONTACTED", TODAY + timedelta(days=5), "Send EMI options")
    assert calls == [("NO_ANSWER", None), ("REACHED", "Wants the EMI options")]
    bad = seller.post(f"/crm/leads/{lead_id}/contact", data={"csrf_token": token, "outcome": "SHOUTED"})
    assert bad.status_code == 422


def test_the_dashboard_shows_the_overdue_follow_ups_of_the_salesperson_only(app, engine, shop):
    new_lead(client_of(app, "CS2"), next_action="Call", follow_up_on=TODAY.strftime("%d-%m-%Y"))
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE crm.lead SET follow_up_on = :d"), {"d": TODAY - timedelta(days=3)})
    assert "My follow-ups 0 today · 1 overdue" in plain(client_of(app, "CS2").get("/"))
    assert "My follow-ups 0 today · 0 overdue" in plain(client_of(app, "CS1").get("/"))
    assert "My follow-ups" not in plain(client_of(app, "CA1").get("/"))


# ----------------------------------------------------------------------------- lost, test ride


def test_a_test_ride_on_an_expired_licence_is_refused_next_to_the_expiry(app, engine, shop):
    seller = client_of(app, "CS1")
    lead_id = new_lead(seller)
    token = page_csrf(seller, f"/crm/leads/{lead_id}")
    ride = {"csrf_token": token, "unit_id": str(shop.demo), "licence_no": "ka05 20190012345", "odometer_out": "120"}
    refused = seller.post(f"/crm/leads/{lead_id}/test-ride", data={
        **ride, "licence_valid_until": (TODAY - timedelta(days=1)).strftime("%d-%m-%Y")})
    assert refused.status_code == 422 and "The licence has expired: no test ride on it" in plain(refused)
    assert 'value="KA05 20190012345"' in refused.get_data(as_text=True)   # what was typed stays
    in_stock = seller.post(f"/crm/leads/{lead_id}/test-ride", data={
        **ride, "unit_id": str(shop.units[0]), "licence_valid_until": (TODAY + timedelta(days=9)).strftime("%d-%m-%Y")})
    assert in_stock.status_code == 422 and "Choose a demo vehicle of this branch" in plain(in_stock)
    out = seller.post(f"/crm/leads/{lead_id}/test-ride", data={
        **ride, "licence_valid_until": (TODAY + timedelta(days=9)).strftime("%d-%m-%Y")})
    assert out.status_code == 303
    ride_id = scalar(engine, "SELECT test_ride_id FROM crm.test_ride WHERE lead_id = :l", l=lead_id)
    token = page_csrf(seller, f"/crm/test-rides/{ride_id}/back")
    below = seller.post(f"/crm/test-rides/{ride_id}/back", data={"csrf_token": token, "odometer_in": "100"})
    assert below.status_code == 422 and "Below the odometer when it went out" in plain(below)
    back = seller.post(f"/crm/test-rides/{ride_id}/back", data={"csrf_token": token, "odometer_in": "128",
                                                                 "feedback": "Smooth", "rating": "4"})
    assert back.status_code == 303
    assert scalar(engine, "SELECT status FROM crm.lead WHERE lead_id = :l", l=lead_id) == "TEST_RIDE"


def test_lost_needs_a_reason_from_the_list(app, engine, shop):
    seller = client_of(app, "CS1")
    lead_id = new_lead(seller)
    token = page_csrf(seller, f"/crm/leads/{lead_id}")
    made_up = seller.post(f"/crm/leads/{lead_id}/lost", data={"csrf_token": token, "reason_code": "ASTROLOGY",
                                                               "remark": "Bad day to buy"})
    assert made_up.status_code == 422 and "Choose a reason from the list" in plain(made_up)
    assert scalar(engine, "SELECT status FROM crm.lead WHERE lead_id = :l", l=lead_id) == "CONTACTED"


# ----------------------------------------------------------------------------- customer and prefill


def test_the_customer_is_made_once_from_the_lead_and_the_booking_starts_from_it(app, engine, shop):
    seller = client_of(app, "CS1")
    expected = TODAY + timedelta(days=20)
    lead_id = new_lead(seller, name="Farhan Akhtar", mobile="9845066666", email="farhan@example.in",
                       finance_needed="y", expected_purchase_on=expected.strftime("%d-%m-%Y"), budget="1,30,000")
    token = page_csrf(seller, f"/crm/leads/{lead_id}")
    assert seller.post(f"/crm/leads/{lead_id}/customer", data={"csrf_token": token}).status_code == 303
    assert seller.post(f"/crm/leads/{lead_id}/customer", data={"csrf_token": token}).status_code == 303
    with engine.connect() as conn:
        customers = conn.execute(sa.text("SELECT customer_id, name, email, state_code FROM master.customer "
                                         "WHERE mobile = '9845066666'")).all()
        on_lead = b.scalar(conn, "SELECT customer_id FROM crm.lead WHERE lead_id = :l", l=lead_id)
    assert len(customers) == 1 and customers[0][1:] == ("Farhan Akhtar", "farhan@example.in", "29")
    assert on_lead == customers[0][0]

    page = seller.get(f"/sales/bookings/new?lead_id={lead_id}").get_data(as_text=True)
    assert re.search(rf'name="customer_id" value="{on_lead}"\s+checked', page)
    assert "checked" in re.search(r'<input[^>]*name="finance_needed"[^>]*>', page).group(0)
    assert f'value="{expected:%d-%m-%Y}"' in page
    assert "for the lead of Farhan Akhtar" in html.unescape(page)
    quote = seller.get(f"/sales/leads/{lead_id}/quote")
    assert quote.status_code == 200 and "Quotation for Farhan Akhtar" in plain(quote)


# ----------------------------------------------------------------------------- OEM portal upload


def _csv(rows) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def test_the_oem_portal_list_is_previewed_with_its_bad_rows_and_saved_only_when_clean(app, engine, shop):
    manager = client_of(app, "CM1")
    token = page_csrf(manager, "/crm/leads/import")
    header = ["Lead ID", "Customer Name", "Mobile No", "Email", "Model", "Budget", "Expected Date"]
    bad = _csv([header, ["ATH-1", "Kiran Patil", "9845077777", "", shop.model_name, "1,25,000", "15-01-2027"],
                ["ATH-2", "Meena", "12345", "meena@", "Hover Bike", "lots", "someday"],
                ["ATH-1", "Kiran Again", "9845088888", "", "", "", ""]])
    response = manager.post("/crm/leads/import", data={"csrf_token": token, "leads": "",
                                                       "upload": (io.BytesIO(bad), "portal.csv")},
                            content_type="multipart/form-data")
    words = plain(response)
    assert response.status_code == 422 and "Nothing is saved" in words
    for message in ("Row 3, Mobile: “12345” is not a mobile number", "Row 3, E-mail: “meena@” is not an e-mail",
                    "Row 3, Model: “Hover Bike” is not a model in the catalogue", "Row 3, Budget: “lots” is not an amount",
                    "Row 3, Expected date: “someday” is not a date", "Row 4, Lead ID: lead ATH-1 is also on row 2"):
        assert message in words, message
    assert 'value="confirm"' not in response.get_data(as_text=True)
    assert scalar(engine, "SELECT count(*) FROM crm.lead") == 0

    good = "\n".join(["Lead ID\tName\tMobile\tModel", f"ATH-1\tKiran Patil\t9845077777\t{shop.model_name}",
                      "ATH-3\tLeela Das\t+91 98450 99999\t"])
    preview = manager.post("/crm/leads/import", data={"csrf_token": token, "leads": good, "action": "check"})
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200 and 'value="confirm"' in page
    fingerprint = re.search(r'name="previewed" value="([0-9a-f]+)"', page).group(1)
    changed = manager.post("/crm/leads/import", data={"csrf_token": token, "leads": good + "\nATH-4\tX Y\t9845000001",
                                                      "action": "confirm", "previewed": fingerprint})
    assert "The list changed after its preview" in plain(changed)
    assert scalar(engine, "SELECT count(*) FROM crm.lead") == 0
    saved = manager.post("/crm/leads/import", data={"csrf_token": token, "leads": good, "action": "confirm",
                                                    "previewed": fingerprint})
    assert saved.status_code == 303
    with engine.connect() as conn:
        leads = conn.execute(sa.text("""SELECT oem_lead_ref, name, mobile, source, status, model_id, salesperson_id,
                                               follow_up_on FROM crm.lead ORDER BY oem_lead_ref""")).all()
    assert [(r.oem_lead_ref, r.name, r.mobile, r.source, r.status, r.model_id, r.follow_up_on) for r in leads] == [
        ("ATH-1", "Kiran Patil", "9845077777", "OEM_PORTAL", "NEW", shop.model, TODAY),
        ("ATH-3", "Leela Das", "9845099999", "OEM_PORTAL", "NEW", None, TODAY)]
    assert {r.salesperson_id for r in leads} == {shop.people["CS1"], shop.people["CS2"]}   # round-robin
    again = manager.post("/crm/leads/import", data={"csrf_token": token, "leads": good, "action": "check"})
    assert "Row 2, Lead ID: lead ATH-1 was taken in before" in plain(again)


# ----------------------------------------------------------------------------- the funnel


def _book(conn, shop, lead_id: int, *, deliver_unit: int | None = None) -> None:
    sales_id, manager_id = shop.people["CS1"], shop.people["CM1"]
    b.act_as(conn, sales_id)
    cat = shop.catalog
    quote = services.on_road_price(conn, cat.variant_id, cat.colours[0], TODAY)
    customer_id = b.customer(conn, shop.branch)
    booking_id = services.create_booking(conn, branch_id=shop.branch, customer_id=customer_id, salesperson_id=sales_id,
                                         quote=quote, booked_on=TODAY, key=str(uuid.uuid4()), lead_id=lead_id)
    if deliver_unit is not None:
        services.allot(conn, booking_id, deliver_unit)
        b.act_as(conn, manager_id)
        posting.post_vehicle_invoice(conn, booking_id, on=TODAY, key=str(uuid.uuid4()))
        b.ready_for_handover(conn, booking_id, str(TODAY))
        b.release_handover(conn, booking_id, manager_id)
        services.deliver(conn, booking_id, on=TODAY, received_by_name="Buyer", key=str(uuid.uuid4()), odometer_km=3)


def test_the_funnel_counts_each_stage_by_source_and_the_lost_reasons(app, engine, shop):
    """Five leads: two walk-ins who rode and booked (one delivered), a phone lead who rode and was lost on
    price, two website leads (one lost to another brand)."""
    sales_id = shop.people["CS1"]
    with engine.begin() as conn:
        ids = {}
        for name, source, mobile in (("Walk One", "WALK_IN", "9845000011"), ("Walk Two", "WALK_IN", "9845000012"),
                                     ("Phone One", "PHONE", "9845000013"), ("Web One", "WEBSITE", "9845000014"),
                                     ("Web Two", "WEBSITE", "9845000015")):
            ids[name] = b.scalar(conn, """INSERT INTO crm.lead (branch_id, lead_date, source, name, mobile, salesperson_id)
                                          VALUES (:b, :d, :s, :n, :m, :sp) RETURNING lead_id""",
                                 b=shop.branch, d=TODAY, s=source, n=name, m=mobile, sp=sales_id)
        b.act_as(conn, sales_id)
        for name in ("Walk One", "Walk Two", "Phone One"):
            ride = b.scalar(conn, """INSERT INTO crm.test_ride (lead_id, branch_id, unit_id, licence_no,
                                                                licence_valid_until, odometer_out)
                                     VALUES (:l, :b, :u, 'KA0520190012345', current_date + 100, 10)
                                     RETURNING test_ride_id""", l=ids[name], b=shop.branch, u=shop.demo)
            conn.execute(sa.text("UPDATE crm.test_ride SET in_at = now(), odometer_in = 15 WHERE test_ride_id = :r"),
                         {"r": ride})
        _book(conn, shop, ids["Walk One"], deliver_unit=shop.units[0])
        _book(conn, shop, ids["Walk Two"])
        for name, reason in (("Phone One", "PRICE"), ("Web One", "OTHER_BRAND")):
            conn.execute(sa.text("UPDATE crm.lead SET status = 'LOST', lost_reason_code = :r, lost_remark = 'gone' "
                                 "WHERE lead_id = :l"), {"r": reason, "l": ids[name]})
    manager = client_of(app, "CM1")
    words = plain(manager.get("/crm/funnel", query_string={"by": "source"}))
    assert "Walk-in 2 2 2 1 0 100 %" in words
    assert "Phone 1 1 0 0 1 0 %" in words
    assert "Website form 2 0 0 0 1 0 %" in words
    assert "Leads 5 Test rides 3 (60 %) Bookings 2 (40 %) Deliveries 1 (20 %) Lost 2" in words
    assert "<svg" in manager.get("/crm/funnel").get_data(as_text=True)
    exported = manager.get("/crm/funnel", query_string={"by": "source", "format": "csv"})
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["Group", "Leads", "Test rides", "Bookings", "Deliveries", "Lost", "Booked %"]
    assert ["Walk-in", "2", "2", "2", "1", "0", "100 %"] in rows and rows[-1] == ["Total", "5", "3", "2", "1", "2", "40 %"]
    by_month = plain(manager.get("/crm/funnel", query_string={"by": "month"}))
    assert f"{TODAY:%b %Y} 5 3 2 1 2 40 %" in by_month
    by_seller = plain(manager.get("/crm/funnel", query_string={"by": "salesperson"}))
    assert "Staff CS1 5 3 2 1 2 40 %" in by_seller
    xlsx = manager.get("/crm/funnel", query_string={"format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx.get_data()[:2] == b"PK"

    lost = plain(manager.get("/crm/lost-reasons"))
    assert "Price too high 1 50 % 0 1" in lost and "Bought another brand 1 50 % 0 1" in lost
    assert "2 leads lost" in lost
