"""A sale's steps after booking, through the screens: allotment (and two people wanting one unit),
discount approval, PDI and handover with the delivery note, finance, exchange, subsidy,
registration and cancellation. The real app on the real test database via the Flask client."""
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

from webapp.billing import posting
from webapp.formatting import today_ist
from webapp.sales import services
from webapp.security import hash_pin

D = Decimal
PIN = "2580"


class Shop(dict):
    __getattr__ = dict.__getitem__


def text(response) -> str:
    return response.get_data(as_text=True)


def plain(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", text(response))))


def scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def pdf_text(response) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(response.get_data()))
    return "\n".join(page.extract_text() for page in reader.pages)


def can_log_in(app, conn, *staff_ids) -> None:
    """Give builder-made staff a real PIN so they can log in."""
    with app.app_context():
        pin_hash = hash_pin(PIN)
    conn.execute(sa.text("UPDATE master.staff SET pin_hash = :h, must_change_pin = false WHERE staff_id = ANY(:ids)"),
                 {"h": pin_hash, "ids": list(staff_ids)})


def as_staff(app, engine, staff_id):
    client = app.test_client()
    code = scalar(engine, "SELECT staff_code FROM master.staff WHERE staff_id = :s", s=staff_id)
    assert login(client, code, PIN).status_code == 303
    return client


@pytest.fixture
def shop(app, engine):
    """A showroom with a manager and a salesperson who can log in, a priced scooter (₹1,57,000) with
    two units in stock, a customer, and an admin so the showroom counts as set up."""
    with engine.begin() as conn:
        s = b.sale_setup(conn, units=2)
        admin = b.staff(conn, s.branch_id, "ADMIN")
        can_log_in(app, conn, s.manager_id, s.sales_id, admin)
        b.act_as(conn, None)
    return Shop(s=s, admin=admin, sales=as_staff(app, engine, s.sales_id),
                manager=as_staff(app, engine, s.manager_id))


def make_booking(engine, shop, **kw) -> int:
    with engine.begin() as conn:
        booking_id = b.booking(conn, shop.s, **kw)
        b.act_as(conn, None)
    return booking_id


def post(client, url, **data):
    token = page_csrf(client, "/profile")
    return client.post(url, data={"csrf_token": token, **data})


def sale(booking_id: int) -> str:
    return f"/sales/bookings/{booking_id}"


# --------------------------------------------------------------------------- allotment


def test_the_oldest_unit_in_stock_is_suggested_first_and_allotted(app, engine, shop):
    with engine.begin() as conn:
        oldest = b.unit(conn, shop.s.catalog.variant_id, "Red", shop.s.branch_id, received_on="2025-05-01")
        vin = conn.execute(sa.text("SELECT vin FROM inventory.vehicle_unit WHERE unit_id = :u"), {"u": oldest}).scalar()
    booking_id = make_booking(engine, shop)
    page = shop.sales.get(f"{sale(booking_id)}/allot")
    assert page.status_code == 200
    body = text(page)
    assert body.index(vin) < body.index(scalar(engine, "SELECT vin FROM inventory.vehicle_unit WHERE unit_id = :u",
                                               u=shop.s.unit_id))
    assert re.search(rf'<input[^>]*checked[^>]*value="{oldest}"|<input[^>]*value="{oldest}"[^>]*checked', body)
    response = post(shop.sales, f"{sale(booking_id)}/allot", unit_id=oldest)
    assert response.status_code == 303 and response.headers["Location"] == sale(booking_id)
    assert scalar(engine, "SELECT status FROM inventory.vehicle_unit WHERE unit_id = :u", u=oldest) == "ALLOTTED"
    assert scalar(engine, "SELECT stage FROM sales.booking WHERE booking_id = :b", b=booking_id) == "ALLOTTED"


def test_a_unit_just_allotted_to_another_booking_gives_a_clear_message_and_the_list_again(app, engine, shop):
    mine = make_booking(engine, shop)
    theirs = make_booking(engine, shop)
    assert shop.sales.get(f"{sale(mine)}/allot").status_code == 200   # the list shows the unit ...
    with engine.begin() as conn:                                       # ... a colleague takes it meanwhile
        services.allot(conn, theirs, shop.s.unit_id)
    response = post(shop.sales, f"{sale(mine)}/allot", unit_id=shop.s.unit_id)
    assert response.status_code == 422
    assert "This unit was just allotted to another booking; pick another" in plain(response)
    other = scalar(engine, "SELECT unit_id FROM inventory.vehicle_unit WHERE status = 'IN_STOCK'")
    assert f'value="{other}"' in text(response) and f'value="{shop.s.unit_id}"' not in text(response)
    assert scalar(engine, "SELECT stage FROM sales.booking WHERE booking_id = :b", b=mine) == "BOOKED"


def test_a_unit_goes_back_to_stock_only_with_a_reason(app, engine, shop):
    booking_id = make_booking(engine, shop)
    assert post(shop.sales, f"{sale(booking_id)}/allot", unit_id=shop.s.unit_id).status_code == 303
    refused = post(shop.sales, f"{sale(booking_id)}/deallot", reason="")
    assert refused.status_code == 422 and "Say why the unit goes back to stock" in plain(refused)
    assert scalar(engine, "SELECT status FROM inventory.vehicle_unit WHERE unit_id = :u", u=shop.s.unit_id) == "ALLOTTED"
    response = post(shop.sales, f"{sale(booking_id)}/deallot", reason="Customer wants the blue one")
    assert response.status_code == 303 and response.headers["Location"] == sale(booking_id)
    assert scalar(engine, "SELECT status FROM inventory.vehicle_unit WHERE unit_id = :u", u=shop.s.unit_id) == "IN_STOCK"
    assert scalar(engine, "SELECT release_reason FROM sales.allotment WHERE booking_id = :b",
                  b=booking_id) == "Customer wants the blue one"


def test_a_salesperson_sees_only_their_own_bookings_steps(app, engine, shop):
    booking_id = make_booking(engine, shop)
    with engine.begin() as conn:
        other = b.staff(conn, shop.s.branch_id, "SALES")
        can_log_in(app, conn, other)
    colleague = as_staff(app, engine, other)
    assert colleague.get(f"{sale(booking_id)}/allot").status_code == 404
    assert shop.manager.get(f"{sale(booking_id)}/allot").status_code == 200


# --------------------------------------------------------------------------- discount


def test_a_discount_above_the_salespersons_limit_waits_and_a_manager_approves_it(app, engine, shop):
    booking_id = make_booking(engine, shop, discount="8000")   # SALES may give up to ₹5,000
    assert scalar(engine, "SELECT discount_status FROM sales.booking WHERE booking_id = :b", b=booking_id) == "PENDING"
    assert post(shop.sales, f"{sale(booking_id)}/discount", decision="approve").status_code == 403
    waiting = shop.manager.get("/sales/discounts")
    assert waiting.status_code == 200
    booking_no = scalar(engine, "SELECT booking_no FROM sales.booking WHERE booking_id = :b", b=booking_id)
    assert booking_no in plain(waiting) and "₹8,000.00" in plain(waiting) and "₹5,000.00" in plain(waiting)
    response = post(shop.manager, f"{sale(booking_id)}/discount", decision="approve", note="Festival offer",
                    back="list")
    assert response.status_code == 303 and response.headers["Location"] == "/sales/discounts"
    with engine.connect() as conn:
        bk = conn.execute(sa.text("SELECT discount_status, discount_decided_by, discount_note FROM sales.booking "
                                  "WHERE booking_id = :b"), {"b": booking_id}).one()
    assert tuple(bk) == ("APPROVED", shop.s.manager_id, "Festival offer")
    assert "No discount is waiting for a decision" in plain(shop.manager.get("/sales/discounts"))


# --------------------------------------------------------------------------- PDI and delivery


def invoiced(engine, shop) -> tuple[int, int]:
    with engine.begin() as conn:
        booking_id, invoice_id = b.invoiced_booking(conn, shop.s, on=str(today_ist()))
        b.act_as(conn, None)
    return booking_id, invoice_id


def pdi_form(engine, result: str = "OK", skip: int = 0) -> dict:
    with engine.connect() as conn:
        items = conn.execute(sa.text("SELECT pdi_item_id, name FROM sales.pdi_item WHERE is_active "
                                     "ORDER BY sort_order")).all()
    return {f"result_{i}": result for i, _ in items[skip:]}, [name for _, name in items]


def test_a_vehicle_with_its_pdi_incomplete_is_not_handed_over_and_the_items_are_named(app, engine, shop):
    booking_id, _ = invoiced(engine, shop)
    form, names = pdi_form(engine, skip=2)
    assert post(shop.sales, f"{sale(booking_id)}/pdi", **form).status_code == 303
    page = shop.sales.get(f"{sale(booking_id)}/deliver")
    key = re.search(r'name="key" type="hidden" value="([^"]+)"|name="key" value="([^"]+)"', text(page))
    response = post(shop.sales, f"{sale(booking_id)}/deliver", delivered_on=str(today_ist()),
                    received_by_name="Asha Rao", key=str(uuid.uuid4()))
    assert response.status_code == 422
    words = plain(response)
    assert "PDI is not complete" in words and names[0] in words and names[1] in words and names[2] not in words
    assert key is not None
    assert scalar(engine, "SELECT stage FROM sales.booking WHERE booking_id = :b", b=booking_id) == "INVOICED"


def test_a_fault_needs_a_remark(app, engine, shop):
    booking_id, _ = invoiced(engine, shop)
    form, _ = pdi_form(engine)
    first = next(iter(form))
    form[first] = "FAULT"
    response = post(shop.sales, f"{sale(booking_id)}/pdi", **form)
    assert response.status_code == 422 and "Describe the fault" in plain(response)
    assert scalar(engine, "SELECT count(*) FROM sales.pdi_check WHERE booking_id = :b", b=booking_id) == 0


def test_a_scooter_with_money_due_is_not_handed_over_until_a_manager_releases_it_with_a_reason(app, engine, shop):
    booking_id, _ = invoiced(engine, shop)
    form, _ = pdi_form(engine)
    assert post(shop.sales, f"{sale(booking_id)}/pdi", **form).status_code == 303
    with engine.begin() as conn:
        posting.post_receipt(conn, on=today_ist(), mode="UPI", amount=D("44607"), key=str(uuid.uuid4()),
                             received_from="Customer", booking_id=booking_id, reference="UTR7788990011")
    page = plain(shop.sales.get(f"{sale(booking_id)}/deliver"))
    assert "Not ready to hand over" in page and "₹1,12,393.00 still to be paid by the customer" in page
    assert "No insurance policy recorded" in page and "Registration not applied for" in page
    assert "Release the vehicle" not in page  # a salesperson cannot release it
    data = {"delivered_on": str(today_ist()), "received_by_name": "Asha Rao", "key": str(uuid.uuid4())}
    refused = post(shop.sales, f"{sale(booking_id)}/deliver", **data)
    assert refused.status_code == 422 and "cannot be handed over yet" in plain(refused)
    assert scalar(engine, "SELECT count(*) FROM sales.delivery WHERE booking_id = :b", b=booking_id) == 0
    assert post(shop.sales, f"{sale(booking_id)}/deliver/release", reason="my call").status_code == 403

    manager_page = plain(shop.manager.get(f"{sale(booking_id)}/deliver"))
    assert "Release the vehicle with this outstanding" in manager_page
    short = post(shop.manager, f"{sale(booking_id)}/deliver/release", reason="ok")
    assert short.status_code == 422 and 'value="ok"' in text(short)
    released = post(shop.manager, f"{sale(booking_id)}/deliver/release",
                    reason="Balance by cheque 004512 collected today")
    assert released.status_code == 303
    sale_page = plain(shop.sales.get(sale(booking_id)))
    assert "Released by" in sale_page and "Balance by cheque 004512 collected today" in sale_page
    assert "₹1,12,393.00 still to be paid by the customer" in sale_page
    assert post(shop.sales, f"{sale(booking_id)}/deliver", **data).status_code == 303
    assert scalar(engine, "SELECT stage FROM sales.booking WHERE booking_id = :b", b=booking_id) == "DELIVERED"
    assert scalar(engine, "SELECT count(*) FROM audit.log WHERE event = 'handover_released'") == 1


def test_a_full_handover_delivers_the_unit_and_prints_the_delivery_note(app, engine, shop):
    booking_id, _ = invoiced(engine, shop)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE inventory.vehicle_unit SET key_no = 'K-4471', charger_serial = 'CHG0099881' "
                             "WHERE unit_id = :u"), {"u": shop.s.unit_id})
        b.fit_battery(conn, b.battery_pack(conn, "BATSER000777"), shop.s.unit_id, "2025-08-20")
    form, _ = pdi_form(engine)
    assert post(shop.sales, f"{sale(booking_id)}/pdi", **form).status_code == 303
    with engine.begin() as conn:
        b.insure(conn, booking_id, str(today_ist()))
        b.apply_registration(conn, booking_id, str(today_ist()))
        posting.post_receipt(conn, on=today_ist(), mode="UPI", amount=D("157000"), key=str(uuid.uuid4()),
                             received_from="Customer", booking_id=booking_id, reference="UTR7788990011")
    assert "ready to hand over" in plain(shop.sales.get(f"{sale(booking_id)}/deliver"))
    assert shop.sales.get("/sales/deliveries/999999/delivery-note.pdf").status_code == 404
    key = str(uuid.uuid4())
    data = {"delivered_on": str(today_ist()), "received_by_name": "Asha Rao",
            "accessories_fitted": "Floor mat, guard", "odometer_km": "3", "key": key}
    response = post(shop.sales, f"{sale(booking_id)}/deliver", **data)
    assert response.status_code == 303 and response.headers["Location"] == sale(booking_id)
    assert post(shop.sales, f"{sale(booking_id)}/deliver", **data).status_code in (303, 422)  # a double click
    assert scalar(engine, "SELECT count(*) FROM sales.delivery WHERE booking_id = :b", b=booking_id) == 1
    assert scalar(engine, "SELECT status FROM inventory.vehicle_unit WHERE unit_id = :u", u=shop.s.unit_id) == "DELIVERED"
    delivery_id = scalar(engine, "SELECT delivery_id FROM sales.delivery WHERE booking_id = :b", b=booking_id)
    with engine.begin() as conn:
        other = b.staff(conn, shop.s.branch_id, "SALES")
        can_log_in(app, conn, other)
    assert as_staff(app, engine, other).get(f"/sales/deliveries/{delivery_id}/delivery-note.pdf").status_code == 404
    pdf = shop.sales.get(f"/sales/deliveries/{delivery_id}/delivery-note.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    words = re.sub(r"\s+", " ", pdf_text(pdf))
    with engine.connect() as conn:
        facts = conn.execute(sa.text("""
            SELECT u.vin, u.motor_no, i.invoice_no, d.delivery_no FROM sales.delivery d
              JOIN inventory.vehicle_unit u USING (unit_id) JOIN billing.invoice i USING (invoice_id)
             WHERE d.booking_id = :b"""), {"b": booking_id}).one()
    for fact in (*facts, "BATSER000777", "CHG0099881", "K-4471", "Asha Rao", "Floor mat, guard",
                 "DELIVERY NOTE CUM GATE PASS", "Customer's signature", "Security / gate"):
        assert fact in words, fact


# --------------------------------------------------------------------------- finance, exchange, subsidy


def test_finance_and_exchange_are_recorded_for_the_sale(app, engine, shop):
    booking_id = make_booking(engine, shop)
    with engine.begin() as conn:
        financier = conn.execute(sa.text("INSERT INTO master.financier (name) VALUES ('Bajaj Finance') "
                                         "RETURNING financier_id")).scalar()
    refused = post(shop.sales, f"{sale(booking_id)}/finance", financier_id=financier, loan_amount="100000",
                   do_number="DO-778")
    assert refused.status_code == 422 and "both its number and the date" in plain(refused)
    ok = post(shop.sales, f"{sale(booking_id)}/finance", financier_id=financier, loan_amount="1,00,000",
              down_payment="57000", do_number="DO-778", do_received_on=str(today_ist()))
    assert ok.status_code == 303
    assert scalar(engine, "SELECT loan_amount FROM sales.finance WHERE booking_id = :b", b=booking_id) == D("100000")
    ok = post(shop.sales, f"{sale(booking_id)}/exchange", make_model="Honda Activa 5G", reg_no="ka 05 ab 1234",
              mfg_year="2018", valuation="22000", purchased_on=str(today_ist()))
    assert ok.status_code == 303
    assert scalar(engine, "SELECT reg_no FROM sales.exchange WHERE booking_id = :b", b=booking_id) == "KA05AB1234"
    assert "Honda Activa 5G" in text(shop.sales.get(f"{sale(booking_id)}/exchange"))


def test_subsidy_steps_are_taken_in_order_and_the_register_shows_what_each_claim_waits_for(app, engine, shop):
    booking_id = make_booking(engine, shop)
    today = str(today_ist())
    refused = post(shop.sales, f"{sale(booking_id)}/subsidy", eligible_amount="5000", buyer_signed_on=today)
    assert refused.status_code == 422 and "enter its id first" in plain(refused)
    assert post(shop.sales, f"{sale(booking_id)}/subsidy", eligible_amount="5000", voucher_id="EV-2026-0001",
                buyer_signed_on=today).status_code == 303
    register = shop.manager.get("/sales/subsidy-claims?step=upload")
    assert register.status_code == 200
    words = plain(register)
    assert "EV-2026-0001" in words and "upload on the portal" in words and "Eligible ₹5,000.00" in words
    assert "EV-2026-0001" not in plain(shop.manager.get("/sales/subsidy-claims?step=credit"))
    rows_only = shop.manager.get("/sales/subsidy-claims?step=upload", headers={"HX-Request": "true",
                                                                               "HX-Target": "subsidy-results"})
    assert "EV-2026-0001" in text(rows_only) and "<html" not in text(rows_only)
    assert shop.sales.get("/sales/subsidy-claims").status_code == 403


# --------------------------------------------------------------------------- registration


def test_a_low_speed_scooter_needs_no_registration_and_the_database_refuses_one(app, engine, shop):
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE oem.model SET segment = 'E2W_LOW_SPEED', is_low_speed = true "
                             "WHERE model_id = :m"), {"m": shop.s.catalog.model_id})
    booking_id = make_booking(engine, shop)
    page = shop.sales.get(f"{sale(booking_id)}/registration")
    assert page.status_code == 200 and "needs no RTO registration" in plain(page)
    response = post(shop.sales, f"{sale(booking_id)}/registration", form20_on=str(today_ist()))
    assert response.status_code == 422 and "not registered with the RTO" in plain(response)
    assert scalar(engine, "SELECT count(*) FROM sales.registration") == 0


def test_registration_of_a_highway_scooter_keeps_its_dates_in_order(app, engine, shop):
    booking_id = make_booking(engine, shop)
    today = str(today_ist())
    refused = post(shop.sales, f"{sale(booking_id)}/registration", rc_received_on=today)
    assert refused.status_code == 422 and "The RC comes after the permanent number" in plain(refused)
    assert post(shop.sales, f"{sale(booking_id)}/registration", form20_on=today, temp_reg_no="KA05TR1234",
                reg_no="KA-05-AB-9876", reg_on=today).status_code == 303
    assert scalar(engine, "SELECT reg_no FROM sales.registration WHERE booking_id = :b", b=booking_id) == "KA05AB9876"


# --------------------------------------------------------------------------- cancellation


def test_cancelling_with_a_charge_refunds_what_was_received_less_the_charge(app, engine, shop):
    booking_id = make_booking(engine, shop)
    with engine.begin() as conn:
        posting.post_receipt(conn, on=today_ist(), mode="UPI", amount=D("10000"), key=str(uuid.uuid4()),
                             received_from="Customer", booking_id=booking_id, reference="UTR12345678")
    assert post(shop.sales, f"{sale(booking_id)}/allot", unit_id=shop.s.unit_id).status_code == 303
    page = shop.sales.get(f"{sale(booking_id)}/cancel")
    assert "₹10,000.00" in plain(page)
    refused = post(shop.sales, f"{sale(booking_id)}/cancel", reason="Bought elsewhere", cancellation_charge="1000",
                   refund_mode="UPI", key=str(uuid.uuid4()))
    assert refused.status_code == 422 and "Give the UTR or cheque number" in plain(refused)
    assert scalar(engine, "SELECT stage FROM sales.booking WHERE booking_id = :b", b=booking_id) == "ALLOTTED"
    response = post(shop.sales, f"{sale(booking_id)}/cancel", reason="Bought elsewhere", cancellation_charge="1000",
                    refund_mode="UPI", reference="UTR99887766", key=str(uuid.uuid4()))
    assert response.status_code == 303 and response.headers["Location"] == sale(booking_id)
    with engine.connect() as conn:
        refund = conn.execute(sa.text("SELECT amount, cancellation_charge, mode FROM billing.refund "
                                      "WHERE booking_id = :b"), {"b": booking_id}).one()
    assert tuple(refund) == (D("9000.00"), D("1000.00"), "UPI")
    assert scalar(engine, "SELECT stage FROM sales.booking WHERE booking_id = :b", b=booking_id) == "CANCELLED"
    assert scalar(engine, "SELECT status FROM inventory.vehicle_unit WHERE unit_id = :u", u=shop.s.unit_id) == "IN_STOCK"


# --------------------------------------------------------------------------- the panel


def panel(app, staff_id: int, booking_id: int) -> str:
    """The steps panel as the sale's page draws it: the booking from get_booking plus steps_context."""
    from flask import render_template
    from flask_login import login_user

    from webapp.db import get_conn, set_actor
    from webapp.sales.queries import get_booking
    from webapp.sales.steps import steps_context
    from webapp.users import StaffUser

    with app.test_request_context("/"):
        conn = get_conn()
        who = conn.execute(sa.text("""
            SELECT s.staff_id, s.staff_code, s.name, s.designation AS role, s.branch_id, b.legal_name AS branch_name,
                   b.branch_code, s.must_change_pin
              FROM master.staff s JOIN master.branch b USING (branch_id) WHERE s.staff_id = :s"""),
            {"s": staff_id}).mappings().one()
        set_actor(conn, staff_id, None, branch_id=who["branch_id"], all_branches=who["role"] == "ADMIN")
        login_user(StaffUser(who))
        booking = get_booking(conn, booking_id)
        return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", render_template(
            "sales/_steps.html", booking=booking, **steps_context(conn, booking)))))


def test_the_panel_offers_each_step_only_where_the_stage_allows_it(app, engine, shop):
    booked = make_booking(engine, shop, discount="8000")
    words = panel(app, shop.s.sales_id, booked)
    assert "Allot a unit" in words and "Cancel the booking" in words and "Registration" in words
    assert "waits for a manager" in words and "Approve" not in words     # a salesperson does not decide
    assert "Approve" in panel(app, shop.s.manager_id, booked)
    assert "Hand over" not in words and "Pre-delivery inspection" not in words
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE sales.booking SET discount = 0 WHERE booking_id = :b"), {"b": booked})
        services.allot(conn, booked, shop.s.unit_id)
        b.act_as(conn, shop.s.manager_id)
        posting.post_vehicle_invoice(conn, booked, on=today_ist(), key=str(uuid.uuid4()))
        b.act_as(conn, None)
    words = panel(app, shop.s.sales_id, booked)
    assert "Hand over" in words and "0 of 8 checked" in words
    assert "Allot a unit" not in words and "De-allot" not in words and "Cancel the booking" not in words


def test_the_panel_hides_registration_for_a_low_speed_model_and_shows_a_cancellation(app, engine, shop):
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE oem.model SET segment = 'E2W_LOW_SPEED', is_low_speed = true "
                             "WHERE model_id = :m"), {"m": shop.s.catalog.model_id})
    booking_id = make_booking(engine, shop)
    assert "Registration" not in panel(app, shop.s.sales_id, booking_id)
    with engine.begin() as conn:
        posting.cancel_booking(conn, booking_id, on=today_ist(), reason="Changed mind", key=str(uuid.uuid4()))
    words = panel(app, shop.s.manager_id, booking_id)
    assert "Cancelled" in words and "Changed mind" in words and "Allot a unit" not in words


# --------------------------------------------------------------------------- settings


def test_a_manager_raises_the_salespersons_discount_limit_and_adds_a_pdi_item(app, engine, shop):
    """The settings tables are seeded reference data (kept between tests): put them back afterwards."""
    try:
        page = shop.manager.get("/sales/settings")
        assert page.status_code == 200 and 'value="Tyre pressure"' in text(page)
        assert shop.sales.get("/sales/settings").status_code == 403
        refused = post(shop.manager, "/sales/settings/discount-limits", limit_SALES="lots")
        assert refused.status_code == 422 and "is not an amount" in plain(refused)
        assert post(shop.manager, "/sales/settings/discount-limits", limit_SALES="10,000").status_code == 303
        assert scalar(engine, "SELECT max_discount FROM sales.discount_limit WHERE role_code = 'SALES'") == D("10000")
        booking_id = make_booking(engine, shop, discount="8000")
        assert scalar(engine, "SELECT discount_status FROM sales.booking WHERE booking_id = :b",
                      b=booking_id) == "WITHIN_LIMIT"
        duplicate = post(shop.manager, "/sales/settings/pdi-items", new_name="Tyre pressure")
        assert duplicate.status_code == 422 and "same name" in plain(duplicate)
        assert post(shop.manager, "/sales/settings/pdi-items", new_name="Side stand sensor", new_sort="45",
                    ).status_code == 303
        assert scalar(engine, "SELECT is_active FROM sales.pdi_item WHERE name = 'Side stand sensor'") is True
        assert post(shop.manager, "/sales/settings/onroad-items", default_HSRP="450",
                    active_HSRP="y").status_code == 303
        assert scalar(engine, "SELECT default_amount FROM sales.onroad_item WHERE item_code = 'HSRP'") == D("450")
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE sales.discount_limit SET max_discount = 5000 WHERE role_code = 'SALES'"))
            conn.execute(sa.text("DELETE FROM sales.pdi_item WHERE name = 'Side stand sensor'"))
            conn.execute(sa.text("UPDATE sales.onroad_item SET default_amount = 0, is_active = true "
                                 "WHERE item_code = 'HSRP'"))


def test_accounts_reads_a_sales_step_but_does_not_record_it(app, engine, shop):
    booking_id = make_booking(engine, shop)
    with engine.begin() as conn:
        accounts = b.staff(conn, shop.s.branch_id, "ACCOUNTS")
        can_log_in(app, conn, accounts)
    client = as_staff(app, engine, accounts)
    assert client.get(f"{sale(booking_id)}/allot").status_code == 200
    # The route admits ACCOUNTS to read the step (sale.read) and only the sellers to submit it
    # (sale.change): the role check refuses the POST before the view runs.
    response = post(client, f"{sale(booking_id)}/allot", unit_id=shop.s.unit_id)
    assert response.status_code == 403 and "Not allowed" in plain(response)
    assert scalar(engine, "SELECT stage FROM sales.booking WHERE booking_id = :b", b=booking_id) == "BOOKED"
    assert post(client, f"{sale(booking_id)}/cancel", reason="not mine to cancel").status_code == 403


def test_the_sales_page_carries_the_steps_panel(app, engine, shop):
    booking_id = make_booking(engine, shop)
    response = post(shop.sales, f"{sale(booking_id)}/allot", unit_id=shop.s.unit_id)
    page = shop.sales.get(response.headers["Location"])
    assert page.status_code == 200
    assert 'id="sale-steps"' in text(page) and f'href="{sale(booking_id)}/allot"' in text(page)
    assert "De-allot" in plain(page) and "Cancel the booking" in plain(page)


# --------------------------------------------------------------------------- accessories


def test_accessories_are_added_line_by_line_and_each_is_its_own_invoice_line(app, engine, shop):
    with engine.begin() as conn:
        booking_id = b.booking(conn, shop.s)
        services.allot(conn, booking_id, shop.s.unit_id)
        guard = b.part(conn, part_no="CG-ATH-01", hsn_code="8714", purchase_price="590.00")  # MRP 1,180
        b.receive(conn, shop.s.branch_id, guard, "3", "590.00")
        b.act_as(conn, None)
    url = f"{sale(booking_id)}/accessories"
    assert post(shop.sales, url, part_no="cg-ath-01", qty="2", price_includes_gst="yes").status_code == 303
    wrong = post(shop.sales, url, description="Floor mat", hsn_code="8714", qty="1e2", unit_price="250.10",
                 price_includes_gst="no")
    assert wrong.status_code == 422 and 'value="1e2"' in text(wrong) and 'value="Floor mat"' in text(wrong)
    assert post(shop.sales, url, description="Floor mat", hsn_code="8714", qty="2", unit_price="250.10",
                price_includes_gst="no").status_code == 303
    page = plain(shop.sales.get(url))
    assert "Brake shoe" in page and "CG-ATH-01" in page and "Floor mat" in page
    # 2 x 1,180 with GST inside, 2 x 250.10 + 18% GST (90.04): 2,360 + 590.24.
    assert "Accessories come to (GST at today's rate) ₹2,950.24" in page
    assert "Accessories 2 lines" in plain(shop.sales.get(sale(booking_id)))
    with engine.begin() as conn:
        b.act_as(conn, shop.s.manager_id)
        invoice_id = posting.post_vehicle_invoice(conn, booking_id, on=today_ist(), key=str(uuid.uuid4()))
        lines = conn.execute(sa.text("SELECT description, qty, taxable_value, cgst + sgst AS tax, part_id "
                                     "FROM billing.invoice_line WHERE invoice_id = :i AND line_no > 1 ORDER BY line_no"),
                             {"i": invoice_id}).all()
    assert [(line.qty, line.taxable_value, line.tax) for line in lines] == [(D("2.000"), D("2000.00"), D("360.00")),
                                                                  (D("2.000"), D("500.20"), D("90.04"))]
    assert lines[0].part_id == guard
    late = post(shop.sales, url, description="Helmet", hsn_code="8714", qty="1", unit_price="900")
    assert late.status_code == 422 and "its accessories cannot change" in plain(late) and "Remove" not in text(late)
    assert scalar(engine, "SELECT count(*) FROM sales.booking_accessory WHERE booking_id = :b", b=booking_id) == 2
