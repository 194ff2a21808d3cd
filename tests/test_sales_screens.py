"""Selling through the screens: the lead (crm), quotation (the on-road breakdown and its PDF), booking
with an advance, the sale's page, the pipeline and the list; a salesperson sees only their own.
Each test drives the real app against the real test database through the Flask client.
"""
from __future__ import annotations

import html
import io
import re
import uuid
from decimal import Decimal

import builders as b
import pytest
import sqlalchemy as sa
from conftest import login, page_csrf

from webapp.formatting import today_ist

D = Decimal
TODAY = today_ist()


class Shop(dict):
    __getattr__ = dict.__getitem__


def text(response) -> str:
    return response.get_data(as_text=True)


def plain(response) -> str:
    """The page's words with markup removed and entities decoded (what a person reads)."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", text(response))))


def field_value(page: str, name: str) -> str:
    tag = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', page)
    assert tag, f"no input {name}"
    value = re.search(r'\bvalue="([^"]*)"', tag.group(0))
    return html.unescape(value.group(1)) if value else ""


def pdf_text(response) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(response.get_data()))
    return re.sub(r"\s+", " ", "\n".join(page.extract_text() for page in reader.pages))


def scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


@pytest.fixture
def shop(app, engine, logged_in):
    """A Bengaluru showroom's salesperson logged in; an Ather Rizta priced at ₹1,57,000 with a
    ₹5,000 PM E-DRIVE subsidy, one in stock, and a customer."""
    client, sales_id = logged_in("SALES", "SAL1")
    with engine.begin() as conn:
        branch_id = b.scalar(conn, "SELECT branch_id FROM master.staff WHERE staff_id = :s", s=sales_id)
        oem_id = b.oem(conn, state="29", brand="Ather Energy")
        model_id = b.model(conn, oem_id, name="Rizta")
        variant_id = b.variant(conn, model_id, name="Z 3.7", battery_kwh="3.70")
        b.colour(conn, variant_id, "Deccan Grey")
        b.price(conn, variant_id, "2024-01-01", ex_showroom="157000.00", subsidy_rule="FIXED",
                subsidy_amount=D("5000.00"))
        b.unit(conn, variant_id, "Deccan Grey", branch_id)
        customer_id = b.customer(conn, branch_id, name="Lakshmi Narayan")
        mobile = b.scalar(conn, "SELECT mobile FROM master.customer WHERE customer_id = :c", c=customer_id)
    return Shop(client=client, sales=sales_id, branch=branch_id, model=model_id, variant=variant_id,
                item=f"{variant_id}:Deccan Grey", customer=customer_id, mobile=mobile)


CHARGES = {"charge_INSURANCE": "6500", "charge_ACCESSORIES": "2360"}


def booking_made_by(engine, shop, salesperson_id: int, discount: str = "0") -> int:
    """A booking of the shop's scooter for its customer, made by another salesperson."""
    from webapp.sales import services

    with engine.begin() as conn:
        b.act_as(conn, salesperson_id)
        quote = services.on_road_price(conn, shop.variant, "Deccan Grey", TODAY, discount=D(discount))
        booking_id = services.create_booking(conn, branch_id=shop.branch, customer_id=shop.customer,
                                             salesperson_id=salesperson_id, quote=quote, booked_on=TODAY,
                                             key=str(uuid.uuid4()))
        b.act_as(conn, None)
    return booking_id


def booking_form(client, url: str = "/sales/bookings/new") -> dict:
    """The booking form as the browser holds it after opening it: its keys and token."""
    page = text(client.get(url))
    return {"csrf_token": field_value(page, "csrf_token"), "idempotency_key": field_value(page, "idempotency_key"),
            "advance_key": field_value(page, "advance_key")}


# --------------------------------------------------------------------------- the whole sale


def test_a_lead_is_quoted_booked_with_an_advance_and_shows_in_the_pipeline(shop, engine):
    client = shop.client
    token = page_csrf(client, "/crm/leads/new")
    response = client.post("/crm/leads/new", data={
        "csrf_token": token, "source": "WALK_IN", "name": "Lakshmi Narayan", "mobile": shop.mobile,
        "model_id": str(shop.model), "notes": "Wants the grey one"})
    assert response.status_code == 303, plain(response)
    lead_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert scalar(engine, "SELECT salesperson_id FROM crm.lead WHERE lead_id = :e", e=lead_id) == shop.sales

    # The live breakdown while the quotation is typed.
    preview = client.get("/sales/quotations/preview", query_string={
        "item": shop.item, "discount": "2,000", **CHARGES}, headers={"HX-Request": "true"})
    words = plain(preview)
    # GST of the price after discount, as the invoice will carry it: 1,55,000 worked back at 5%.
    assert "GST @ 5% included (of which GST ₹7,380.95, on the price after discount)" in words.replace(" ,", ",")
    assert "₹1,57,000.00" in words and "-₹2,000.00" in words and "₹1,55,000.00" in words
    assert re.search(r"Accessories kit taxable @ 18% ₹2,360\.00", words)
    assert re.search(r"Insurance premium \(1 year OD \+ 5 years TP\) collected for others ₹6,500\.00", words)
    assert "On-road price ₹1,63,860.00" in words
    assert "PM E-DRIVE subsidy deducted; the OEM reimburses the dealer -₹5,000.00" in words
    assert "The customer pays ₹1,58,860.00" in words

    quote_page = text(client.get(f"/sales/leads/{lead_id}/quote"))
    quote_form = {"csrf_token": field_value(quote_page, "csrf_token"), "item": shop.item, "discount": "2000",
                  "valid_days": "15", "idempotency_key": field_value(quote_page, "idempotency_key"), **CHARGES}
    response = client.post(f"/sales/leads/{lead_id}/quote", data=quote_form)
    assert response.status_code == 303, plain(response)
    quotation_id = int(response.headers["Location"].rsplit("/", 1)[1])
    # The same form sent again (a double tap, a resubmission) shows the same quotation.
    again = client.post(f"/sales/leads/{lead_id}/quote", data=quote_form)
    assert again.status_code == 303 and again.headers["Location"] == response.headers["Location"]
    assert scalar(engine, "SELECT count(*) FROM sales.quotation WHERE lead_id = :e", e=lead_id) == 1
    assert scalar(engine, "SELECT status FROM crm.lead WHERE lead_id = :e", e=lead_id) == "NEGOTIATION"
    with engine.connect() as conn:
        q = b.row(conn, "SELECT * FROM sales.quotation WHERE quotation_id = :q", q=quotation_id)
    assert (q["ex_showroom"], q["discount"], q["subsidy"], q["gst_rate"]) == (D("157000.00"), D("2000.00"),
                                                                             D("5000.00"), D("5.00"))
    assert "QT" in q["quotation_no"] and (q["valid_until"] - q["quoted_on"]).days == 15

    pdf = client.get(f"/sales/quotations/{quotation_id}/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    words = pdf_text(pdf)
    assert q["quotation_no"] in words and "Lakshmi Narayan" in words and "Rizta" in words
    assert "1,63,860.00" in words           # on-road
    assert "(₹7,380.95)" in words and "(₹7,476.19)" not in words  # GST after discount, not before
    assert "-₹5,000.00" in words and "PM E-DRIVE" in words
    assert "1,58,860.00" in words
    assert "collected on behalf of others" in words

    # Book at the quoted price, taking ₹10,000 by UPI now.
    form = booking_form(client, f"/sales/bookings/new?quotation_id={quotation_id}")
    page = text(client.get(f"/sales/bookings/new?quotation_id={quotation_id}"))
    assert field_value(page, "discount") == "2000.00" and field_value(page, "charge_INSURANCE") == "6500.00"
    assert shop.mobile in page   # the lead's mobile already searched
    response = client.post(f"/sales/bookings/new?quotation_id={quotation_id}", data={
        **form, "customer_id": str(shop.customer), "item": shop.item, "discount": "2000", **CHARGES,
        "expected_delivery": TODAY.isoformat(), "delivery_state_code": "",
        "advance_amount": "10000", "advance_mode": "UPI", "advance_reference": "UTR4455667788"})
    assert response.status_code == 303, plain(response)
    booking_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with engine.connect() as conn:
        bk = b.row(conn, "SELECT * FROM sales.booking WHERE booking_id = :b", b=booking_id)
        receipts = conn.execute(sa.text("SELECT amount, mode, is_advance, idempotency_key::text AS k "
                                        "FROM billing.receipt WHERE booking_id = :b"), {"b": booking_id}).all()
    assert (bk["stage"], bk["quotation_id"], bk["lead_id"], bk["salesperson_id"]) == (
        "BOOKED", quotation_id, lead_id, shop.sales)
    assert bk["discount_status"] == "WITHIN_LIMIT" and bk["subsidy_eligible"] == D("5000.00")
    assert receipts == [(D("10000.00"), "UPI", True, form["advance_key"])]
    assert scalar(engine, "SELECT status FROM crm.lead WHERE lead_id = :e", e=lead_id) == "BOOKED"

    sale = client.get(f"/sales/bookings/{booking_id}")
    assert sale.status_code == 200
    words = plain(sale)
    assert bk["booking_no"] in words and "Lakshmi Narayan" in words
    assert "Sale comes to ₹1,63,860.00" in words and "To pay by the customer ₹1,48,860.00" in words
    assert "the PM E-DRIVE subsidy ₹5,000.00 (OEM)" in words
    assert "Advance of ₹10,000.00 received" in words
    assert re.search(r"Pending Unit allotted", words) and re.search(
        r"Pending Paid by the customer ₹1,48,860\.00 due from the customer; ₹5,000\.00 from the loan, exchange or "
        r"subsidy to come", words)
    assert f'/master/customers/{shop.customer}"' in text(sale)

    board = client.get("/sales/")
    booked = re.search(r'id="stage-booked".*?</section>', text(board), re.DOTALL).group(0)
    assert bk["booking_no"] in booked and "No unit" in booked and "Balance due" in booked
    assert re.search(r'stage-count">1<', booked)
    listed = client.get("/sales/bookings", query_string={"q": "lakshmi"}, headers={"HX-Request": "true",
                                                                                  "HX-Target": "booking-results"})
    assert bk["booking_no"] in text(listed) and "<html" not in text(listed)


# --------------------------------------------------------------------------- who sees what


def test_a_salesperson_never_sees_another_salespersons_booking(shop, app, engine, make_staff):
    with engine.begin() as conn:
        colleague = b.staff(conn, shop.branch, "SALES")
    theirs = booking_made_by(engine, shop, colleague)
    booking_no = scalar(engine, "SELECT booking_no FROM sales.booking WHERE booking_id = :b", b=theirs)

    assert shop.client.get(f"/sales/bookings/{theirs}").status_code == 404
    assert shop.client.get(f"/sales/bookings/{theirs}/edit").status_code == 404
    assert booking_no not in text(shop.client.get("/sales/"))
    assert booking_no not in text(shop.client.get("/sales/bookings"))
    rows = shop.client.get("/sales/bookings", query_string={"q": booking_no},
                           headers={"HX-Request": "true", "HX-Target": "booking-results"})
    assert booking_no not in text(rows) and "No bookings match these filters" in plain(rows)

    make_staff("MGR9", "MANAGER", "2580", branch_id=shop.branch)
    manager = app.test_client()
    assert login(manager, "MGR9", "2580").status_code == 303
    assert manager.get(f"/sales/bookings/{theirs}").status_code == 200
    assert booking_no in text(manager.get("/sales/"))
    assert booking_no in text(manager.get("/sales/bookings", query_string={"salesperson": colleague}))


def test_the_pipeline_counts_every_booking_but_shows_a_column_of_cards_with_a_link_to_the_rest(shop, engine,
                                                                                               app, make_staff):
    for _ in range(14):
        booking_made_by(engine, shop, shop.sales)
    words = plain(shop.client.get("/sales/"))
    assert "Booked 14" in words and "2 more" in words
    page = text(shop.client.get("/sales/"))
    assert page.count("booking-card") == 12
    assert 'href="/sales/bookings?stage=BOOKED"' in page


# --------------------------------------------------------------------------- the booking form


def test_a_booking_form_submitted_twice_makes_one_booking_and_one_receipt(shop, engine):
    form = booking_form(shop.client)
    data = {**form, "customer_id": str(shop.customer), "item": shop.item, "advance_amount": "5000",
            "advance_mode": "CASH"}
    first = shop.client.post("/sales/bookings/new", data=data)
    second = shop.client.post("/sales/bookings/new", data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert scalar(engine, "SELECT count(*) FROM sales.booking") == 1
    assert scalar(engine, "SELECT count(*) FROM billing.receipt") == 1


def test_a_refused_booking_keeps_what_was_typed(shop, engine):
    form = booking_form(shop.client)
    response = shop.client.post("/sales/bookings/new", data={
        **form, "customer_q": "Lakshmi", "item": shop.item, "discount": "1500", **CHARGES,
        "expected_delivery": "2031-01-15", "delivery_state_code": "27", "delivery_address": "",
        "advance_amount": "1,000", "advance_mode": "CHEQUE", "advance_reference": ""})
    assert response.status_code == 422
    page = text(response)
    words = plain(response)
    assert "Find and choose the customer" in words
    assert "Enter the address the vehicle is delivered to" in words
    assert "Enter the UTR, cheque number or card slip number" in words
    assert field_value(page, "discount") == "1500" and field_value(page, "charge_ACCESSORIES") == "2360"
    assert field_value(page, "expected_delivery") == "2031-01-15" and field_value(page, "customer_q") == "Lakshmi"
    assert field_value(page, "idempotency_key") == form["idempotency_key"]
    assert 'selected value="27"' in page and "Lakshmi Narayan" in page   # the search still offers her
    assert scalar(engine, "SELECT count(*) FROM sales.booking") == 0


def test_a_discount_above_the_salespersons_limit_is_booked_awaiting_a_managers_approval(shop, engine):
    form = booking_form(shop.client)
    response = shop.client.post("/sales/bookings/new", data={
        **form, "customer_id": str(shop.customer), "item": shop.item, "discount": "8000"}, follow_redirects=True)
    assert response.status_code == 200
    assert "The discount of ₹8,000.00 is awaiting manager approval" in plain(response)
    assert "Discount pending" in plain(shop.client.get("/sales/"))
    assert scalar(engine, "SELECT discount_status FROM sales.booking") == "PENDING"


def test_a_discount_of_the_whole_price_is_refused_next_to_the_discount(shop, engine):
    form = booking_form(shop.client)
    response = shop.client.post("/sales/bookings/new", data={
        **form, "customer_id": str(shop.customer), "item": shop.item, "discount": "157000"})
    assert response.status_code == 422
    assert "The discount must be less than the ex-showroom price" in plain(response)


def test_the_terms_of_a_booking_change_until_it_is_invoiced(shop, engine):
    booking_id = booking_made_by(engine, shop, shop.sales)
    url = f"/sales/bookings/{booking_id}/edit"
    token = page_csrf(shop.client, url)
    response = shop.client.post(url, data={"csrf_token": token, "item": "ignored", "discount": "1000",
                                           "charge_HSRP": "650", "finance_needed": "y",
                                           "delivery_state_code": ""})
    assert response.status_code == 303, plain(response)
    with engine.connect() as conn:
        bk = b.row(conn, "SELECT variant_id, discount, finance_needed FROM sales.booking WHERE booking_id = :b",
                   b=booking_id)
        items = conn.execute(sa.text("SELECT item_code, amount, hsn_code FROM sales.booking_item "
                                     "WHERE booking_id = :b"), {"b": booking_id}).all()
    assert (bk["variant_id"], bk["discount"], bk["finance_needed"]) == (shop.variant, D("1000.00"), True)
    assert items == [("HSRP", D("650.00"), None)]
    assert "Finance delivery order received" in plain(shop.client.get(f"/sales/bookings/{booking_id}"))

    with engine.begin() as conn:
        unit = b.scalar(conn, "SELECT unit_id FROM inventory.vehicle_unit WHERE variant_id = :v", v=shop.variant)
        from webapp.billing import posting
        from webapp.sales import services

        services.allot(conn, booking_id, unit)
        b.act_as(conn, b.staff(conn, shop.branch, "MANAGER"))
        posting.post_vehicle_invoice(conn, booking_id, on=TODAY, key=str(uuid.uuid4()))
        b.act_as(conn, None)
    response = shop.client.get(url, follow_redirects=True)
    assert "its terms can no longer change" in plain(response)


# --------------------------------------------------------------------------- leads (crm)


def test_a_long_lead_list_counts_only_a_little_past_its_page_and_pages_by_number(app, shop, engine,
                                                                                     monkeypatch):
    """Five years of leads are not counted to show 25: the list counts the rows before the page
    and COUNT_AHEAD more ("3+"); the last pages, and a stale link past the end, know the total."""
    from webapp import paging

    with engine.begin() as conn:
        for n in range(6):
            conn.execute(sa.text(
                """INSERT INTO crm.lead (branch_id, lead_date, source, name, mobile, salesperson_id)
                   VALUES (:b, current_date - :n, 'WALK_IN', :name, :m, :s)"""),
                {"b": shop.branch, "n": n, "name": f"Visitor {n}", "m": f"98450{n:05d}", "s": shop.sales})
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    monkeypatch.setattr(paging, "COUNT_AHEAD", 3)
    visitors = lambda page: re.findall(r"Visitor \d", page)  # noqa: E731

    first = text(shop.client.get("/crm/leads"))
    assert visitors(first) == ["Visitor 0", "Visitor 1"]
    assert "1-2 of 3+" in first and "Page 1 of 2+" in first
    next_link = html.unescape(re.search(r'href="([^"]*page=2[^"]*)"[^>]*>Next', first).group(1))
    second = text(shop.client.get(next_link, headers={"HX-Request": "true", "HX-Target": "lead-results"}))
    assert "<html" not in second and visitors(second) == ["Visitor 2", "Visitor 3"]
    assert "3-4 of 5+" in second and "Next ›" in second and "‹ Previous" in second
    last = text(shop.client.get("/crm/leads?page=3"))
    assert visitors(last) == ["Visitor 4", "Visitor 5"] and "5-6 of 6" in last and "Page 3 of 3" in last
    assert "Next ›" not in last
    stale = text(shop.client.get("/crm/leads?page=9"))  # bookmarked when there were more
    assert visitors(stale) == ["Visitor 4", "Visitor 5"] and "5-6 of 6" in stale


def test_a_lead_lost_says_why_and_can_no_longer_be_quoted(shop, engine):
    token = page_csrf(shop.client, "/crm/leads/new")
    response = shop.client.post("/crm/leads/new", data={
        "csrf_token": token, "source": "PHONE", "name": "Ravi Kumar", "mobile": "+91 98450 12345"})
    assert response.status_code == 303
    lead_id = int(response.headers["Location"].rsplit("/", 1)[1])
    found = shop.client.get("/crm/leads", query_string={"q": "98450 12345"})
    assert "Ravi Kumar" in text(found)
    token = page_csrf(shop.client, f"/crm/leads/{lead_id}")
    assert shop.client.post(f"/crm/leads/{lead_id}/lost", data={"csrf_token": token, "reason_code": "",
                                                                   "remark": ""}).status_code == 422
    response = shop.client.post(f"/crm/leads/{lead_id}/lost",
                                data={"csrf_token": token, "reason_code": "OTHER_BRAND",
                                      "remark": "Bought another brand"})
    assert response.status_code == 303
    with engine.connect() as conn:
        e = b.row(conn, "SELECT status, lost_reason_code, lost_remark, mobile FROM crm.lead WHERE lead_id = :e",
                  e=lead_id)
    assert (e["status"], e["lost_reason_code"], e["lost_remark"], e["mobile"]) == (
        "LOST", "OTHER_BRAND", "Bought another brand", "9845012345")
    token = page_csrf(shop.client, f"/sales/leads/{lead_id}/quote")
    response = shop.client.post(f"/sales/leads/{lead_id}/quote", data={
        "csrf_token": token, "item": shop.item, "valid_days": "15"})
    assert response.status_code == 422 and "This lead is lost" in plain(response)
    assert scalar(engine, "SELECT count(*) FROM sales.quotation") == 0


def test_accounts_reads_the_sales_pages_but_cannot_book(app, engine, shop, make_staff):
    booking_id = booking_made_by(engine, shop, shop.sales)
    make_staff("ACC1", "ACCOUNTS", "2580", branch_id=shop.branch)
    accounts = app.test_client()
    assert login(accounts, "ACC1", "2580").status_code == 303
    assert accounts.get(f"/sales/bookings/{booking_id}").status_code == 200
    assert accounts.get("/sales/").status_code == 200
    assert accounts.get("/sales/bookings/new").status_code == 403
    assert "New booking" not in text(accounts.get("/sales/bookings"))
