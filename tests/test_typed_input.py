"""What a person types reaches the database as they meant it, or comes back with a message: never
cut to fit, never echoed when it must not be (a full Aadhaar), dates typed and shown DD-MM-YYYY
whatever the browser's language, amounts in messages with the lakh grouping.

A browser cuts a field at its ``maxlength`` without a word; ``as_sent`` does what the browser does,
so these tests see what a person at the counter would have saved.
"""
from __future__ import annotations

import html
import importlib
import logging
import pkgutil
import re
from datetime import date, datetime, timedelta

import builders as b
import pytest
import sqlalchemy as sa
from conftest import login, page_csrf
from flask_wtf import FlaskForm
from wtforms import Form

from webapp.forms import DateTimeField, parse_date
from webapp.security import hash_pin

PIN = "2580"


def text(response) -> str:
    return response.get_data(as_text=True)


def plain(response) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", text(response))))


def scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def input_tag(page: str, name: str) -> str:
    tag = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', page)
    assert tag, f"no input {name} on the page"
    return tag.group(0)


def input_value(page: str, name: str) -> str | None:
    value = re.search(r'\bvalue="([^"]*)"', input_tag(page, name))
    return html.unescape(value.group(1)) if value else None


def field_errors(page: str, name: str) -> list[str]:
    block = re.search(rf'<div id="{name}-help">(.*?)</div>', page, re.DOTALL)
    assert block, f"no field {name} on the page"
    return [html.unescape(e) for e in re.findall(r'<p class="error">(.*?)</p>', block.group(1), re.DOTALL)]


def as_sent(page: str, name: str, typed: str) -> str:
    """What a browser sends for ``typed`` in this page's input: cut at its maxlength, if it has one."""
    limit = re.search(r'\bmaxlength="(\d+)"', input_tag(page, name))
    return typed[:int(limit.group(1))] if limit else typed


def post(client, url: str, **data):
    return client.post(url, data={"csrf_token": page_csrf(client, "/profile"), **data})


def staff_client(app, engine, staff_id: int):
    with app.app_context():
        pin_hash = hash_pin(PIN)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE master.staff SET pin_hash = :h, must_change_pin = false WHERE staff_id = :s"),
                     {"h": pin_hash, "s": staff_id})
    code = scalar(engine, "SELECT staff_code FROM master.staff WHERE staff_id = :s", s=staff_id)
    client = app.test_client()
    assert login(client, code, PIN).status_code == 303
    return client


@pytest.fixture
def sale(app, engine):
    """A booked scooter that needs RTO registration; the salesperson and the manager logged in."""
    with engine.begin() as conn:
        s = b.sale_setup(conn)
        b.staff(conn, s.branch_id, "ADMIN")   # the showroom counts as set up
        booking_id = b.booking(conn, s, discount="8000")   # above a salesperson's ₹5,000: the manager decides
        b.act_as(conn, None)
    return {"booking_id": booking_id, "url": f"/sales/bookings/{booking_id}",
            "sales": staff_client(app, engine, s.sales_id), "manager": staff_client(app, engine, s.manager_id)}


# --------------------------------------------------------------------------- nothing is cut to fit


def _all_form_classes() -> list[type]:
    import webapp

    for module in pkgutil.walk_packages(webapp.__path__, "webapp."):
        importlib.import_module(module.name)
    found, todo = [], [FlaskForm, Form]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub.__module__.startswith("webapp.") and sub not in found:
                found.append(sub)
            todo.append(sub)
    return found


def test_no_input_of_any_form_carries_a_maxlength_that_would_cut_what_is_typed(app):
    """WTForms puts Length(max=N) on the input as maxlength=N; the browser then cuts typed or pasted
    text silently. Every form of every module is drawn and no input may have it."""
    forms = _all_form_classes()
    assert len(forms) > 30
    with app.test_request_context():
        for form_class in forms:
            form = form_class(meta={"csrf": False}) if issubclass(form_class, FlaskForm) else form_class()
            for field in form:
                assert "maxlength" not in str(field()), f"{form_class.__name__}.{field.name}"


def test_a_registration_number_typed_as_on_the_plate_is_saved_whole(engine, sale):
    url = f"{sale['url']}/registration"
    page = text(sale["sales"].get(url))
    today = f"{date.today() - timedelta(days=1):%d-%m-%Y}"
    typed = "TN 38 AB 4567"
    response = post(sale["sales"], url, reg_no=as_sent(page, "reg_no", typed), reg_on=today,
                    temp_reg_no=as_sent(page, "temp_reg_no", "tn 38 tr 2026 001"))
    assert response.status_code == 303, plain(response)
    saved = sa.text("SELECT reg_no, temp_reg_no FROM sales.registration WHERE booking_id = :b")
    with engine.connect() as conn:
        assert tuple(conn.execute(saved, {"b": sale["booking_id"]}).one()) == ("TN38AB4567", "TN38TR2026001")


@pytest.mark.parametrize("typed, message", [
    ("TN 38 ABC 45678", "A registration number has 4 to 11 characters; TN38ABC45678 has 12. "
                        "For example KA05AB1234 or 22BH1234AA"),
    ("TN 38 / 4567", "TN38/4567 is not a registration number: for example KA05AB1234 or 22BH1234AA"),
])
def test_a_registration_number_that_cannot_be_one_is_refused_as_typed_not_cut(engine, sale, typed, message):
    url = f"{sale['url']}/registration"
    page = text(sale["sales"].get(url))
    response = post(sale["sales"], url, reg_no=as_sent(page, "reg_no", typed),
                    reg_on=f"{date.today():%d-%m-%Y}")
    assert response.status_code == 422
    assert field_errors(text(response), "reg_no") == [message]
    assert input_value(text(response), "reg_no") == typed
    assert scalar(engine, "SELECT count(*) FROM sales.registration") == 0


def test_the_exchange_vehicles_registration_number_is_normalised_the_same_way(engine, sale):
    url = f"{sale['url']}/exchange"
    page = text(sale["sales"].get(url))
    response = post(sale["sales"], url, make_model="TVS Jupiter", reg_no=as_sent(page, "reg_no", "tn-38.ab 4567"),
                    valuation="8,000", purchased_on=f"{date.today():%d-%m-%Y}")
    assert response.status_code == 303, plain(response)
    assert scalar(engine, "SELECT reg_no FROM sales.exchange WHERE booking_id = :b", b=sale["booking_id"]) \
        == "TN38AB4567"
    refused = post(sale["sales"], url, make_model="TVS Jupiter", reg_no="KA 05 AB 1234 5678",
                   valuation="8,000", purchased_on=f"{date.today():%d-%m-%Y}")
    assert refused.status_code == 422
    assert field_errors(text(refused), "reg_no") == [
        "A registration number has 4 to 12 characters; KA05AB12345678 has 14. For example KA05AB1234"]


# --------------------------------------------------------------------------- a full Aadhaar number


CUSTOMER = {"kind": "INDIVIDUAL", "name": "Lakshmi Narayan", "mobile": "98450 12345", "email": "",
            "address_line1": "14, 5th Cross", "address_line2": "", "city": "Bengaluru", "state_code": "29",
            "pincode": "560003", "gstin": "", "pan": "", "date_of_birth": "02-06-1984"}


def test_a_full_aadhaar_number_typed_as_the_last_four_digits_is_refused_and_kept_nowhere(logged_in, engine,
                                                                                        caplog):
    client, _ = logged_in("SALES")
    page = text(client.get("/master/customers/new"))
    full = "8765 4321 0918"
    caplog.set_level(logging.DEBUG)
    response = client.post("/master/customers/new", data={**CUSTOMER, "csrf_token": page_csrf(client, "/profile"),
                                                          "aadhaar_last4": as_sent(page, "aadhaar_last4", full)})
    assert response.status_code == 422
    refused = text(response)
    assert field_errors(refused, "aadhaar_last4") == [
        "Enter only the LAST 4 digits of the Aadhaar number: the full number is never stored"]
    assert input_value(refused, "aadhaar_last4") in (None, "")
    assert "8765" not in refused and "0918" not in refused
    assert input_value(refused, "name") == "Lakshmi Narayan" and input_value(refused, "date_of_birth") == "02-06-1984"
    assert scalar(engine, "SELECT count(*) FROM master.customer") == 0
    assert scalar(engine, "SELECT count(*) FROM audit.log WHERE concat(before::text, after::text) LIKE '%8765%'") == 0
    assert not [r for r in caplog.records if "8765" in r.getMessage()]


def test_a_database_error_is_logged_without_the_values_that_were_sent(make_app, make_branch, caplog):
    """Were a full Aadhaar number ever to reach an INSERT, the error page's log line names the
    constraint and the statement, not the values (nor PostgreSQL's "Failing row contains ...")."""
    from webapp.db import get_conn
    from webapp.security import public

    app = make_app()
    branch_id = make_branch()

    @public
    def broken():
        get_conn().execute(sa.text(
            "INSERT INTO master.customer (branch_id, name, mobile, state_code, aadhaar_last4) "
            "VALUES (:b, :name, :mobile, '29', :aadhaar)"),
            {"b": branch_id, "name": "Lakshmi Narayan", "mobile": "9845012345", "aadhaar": "876543210918"})
        return "saved"

    app.add_url_rule("/broken", "broken", broken)
    app.extensions["setup_done"] = True
    caplog.set_level(logging.DEBUG)
    assert app.test_client().get("/broken").status_code == 422   # refused by a CHECK: the safety net's 422
    logged = "\n".join(r.getMessage() + (str(r.exc_info[1]) if r.exc_info else "") for r in caplog.records)
    assert "customer_aadhaar_last4_check" in logged and "INSERT INTO master.customer" in logged
    for typed in ("876543210918", "9845012345", "Lakshmi"):
        assert typed not in logged


# --------------------------------------------------------------------------- dates DD-MM-YYYY


@pytest.mark.parametrize("typed", ["05-12-2026", "5-12-2026", "05/12/2026", "5.12.2026", " 05-12-2026 ",
                                   "2026-12-05"])
def test_a_date_is_read_day_first_whatever_its_separator(typed):
    assert parse_date(typed) == date(2026, 12, 5)


@pytest.mark.parametrize("typed", ["2026-13-45", "31-02-2026", "05-12-26", "12/05/2026 10:00", "05-12-0026",
                                   "tomorrow", "05-12/2026"])
def test_what_is_not_a_date_is_refused_with_the_format_to_use(typed):
    with pytest.raises(ValueError, match="^Enter the date as DD-MM-YYYY"):
        parse_date(typed)


def test_a_date_field_takes_and_shows_dd_mm_yyyy_through_the_screens(logged_in, engine):
    client, _ = logged_in("ACCOUNTS")
    assert post(client, "/master/hsn/new", hsn_code="87116091", description="E-cycles").status_code == 303
    form = text(client.get("/master/hsn/87116091/rates/new"))
    tag = input_tag(form, "effective_from")
    assert 'type="text"' in tag and 'placeholder="DD-MM-YYYY"' in tag and 'inputmode="numeric"' in tag
    assert re.search(r'\bpattern="[^"]+"', tag) and 'type="date"' not in form

    refused = post(client, "/master/hsn/87116091/rates/new", gst_rate="5", effective_from="2026-13-45")
    assert refused.status_code == 422
    assert field_errors(text(refused), "effective_from") == ["Enter the date as DD-MM-YYYY: there is no day 2026-13-45"]
    assert input_value(text(refused), "effective_from") == "2026-13-45"   # what was typed, kept
    empty = post(client, "/master/hsn/87116091/rates/new", gst_rate="5", effective_from="")
    assert field_errors(text(empty), "effective_from") == ["Give the first day of this rate"]

    assert post(client, "/master/hsn/87116091/rates/new", gst_rate="5", effective_from="05-12-2026").status_code == 303
    rate_id, start = [scalar(engine, f"SELECT {c} FROM master.hsn_rate WHERE hsn_code = '87116091'")
                      for c in ("hsn_rate_id", "effective_from")]
    assert start == date(2026, 12, 5)
    edit = text(client.get(f"/master/hsn/rates/{rate_id}/edit"))
    assert input_value(edit, "effective_from") == "05-12-2026"


def test_a_date_and_time_is_typed_dd_mm_yyyy_hh_mm():
    class AckForm(Form):
        ack = DateTimeField("Acknowledged")

    class Typed(dict):
        def getlist(self, key):
            return [self[key]] if key in self else []

    for typed in ("05-12-2026 14:30", "5/12/2026 14:30", "2026-12-05 14:30:00", "2026-12-05T14:30"):
        form = AckForm(Typed(ack=typed))
        assert form.validate() and form.ack.data == datetime(2026, 12, 5, 14, 30), typed
    form = AckForm(data={"ack": datetime(2026, 12, 5, 14, 30)})
    assert form.ack._value() == "05-12-2026 14:30"
    form = AckForm(Typed(ack="05-12-2026 25:00"))
    assert not form.validate() and form.ack.errors == ["Enter the time as HH:MM, from 00:00 to 23:59"]


def test_the_booking_list_filters_by_dates_typed_dd_mm_yyyy_and_keeps_old_iso_links(engine, sale):
    booked = scalar(engine, "SELECT booked_on FROM sales.booking WHERE booking_id = :b", b=sale["booking_id"])
    day = f"{booked:%d-%m-%Y}"
    page = text(sale["manager"].get(f"/sales/bookings?from={day}&to={day}"))
    assert input_value(page, "from") == day and 'type="date"' not in page
    assert "No bookings match these filters" not in page
    page = text(sale["manager"].get(f"/sales/bookings?from={booked + timedelta(days=1):%d/%m/%Y}"))
    assert "No bookings match these filters" in page
    page = text(sale["manager"].get(f"/sales/bookings?from={booked.isoformat()}"))   # a bookmark from before
    assert input_value(page, "from") == day and "No bookings match these filters" not in page
    # Not a date: kept as typed, said so next to it; the list is not filtered by it.
    page = text(sale["manager"].get("/sales/bookings?from=2026-13-45"))
    assert input_value(page, "from") == "2026-13-45"
    assert re.search(r'<span id="from-help"[^>]*>Enter the date as DD-MM-YYYY', page)
    rows = sale["manager"].get("/sales/bookings?from=31-02-2026",
                               headers={"HX-Request": "true", "HX-Target": "booking-results"})
    assert 'id="from-help" class="error" aria-live="polite" hx-swap-oob="true">Enter the date as DD-MM-YYYY' \
        in text(rows)


def test_the_sales_register_takes_its_period_dd_mm_yyyy(app, engine):
    with engine.begin() as conn:
        s = b.sale_setup(conn)
        accounts = b.staff(conn, s.branch_id, "ACCOUNTS")
        b.staff(conn, s.branch_id, "ADMIN")
        b.invoiced_booking(conn, s, on="2026-06-02")
    client = staff_client(app, engine, accounts)
    page = text(client.get("/billing/registers/sales?from=01-06-2026&to=30-06-2026"))
    assert input_value(page, "from") == "01-06-2026" and input_value(page, "to") == "30-06-2026"
    old_link = client.get("/billing/registers/sales?from=2026-06-01&to=2026-06-30")   # bookmarked before
    assert "from 01-06-2026 to 30-06-2026" in plain(old_link)
    csv = text(client.get("/billing/registers/sales?from=01.06.2026&to=30/06/2026&format=csv"))
    assert "2026-06-02" in csv   # the invoice of 02-06-2026 is in the export of that period


# --------------------------------------------------------------------------- amounts in messages


def test_the_discount_decision_names_the_amount_with_the_lakh_grouping(sale):
    response = post(sale["manager"], f"{sale['url']}/discount", decision="approve", note="Festival offer")
    assert response.status_code == 303
    page = plain(sale["manager"].get(response.headers["Location"]))
    assert "Discount of ₹8,000.00 on booking" in page and "₹8000.00" not in page


@pytest.mark.parametrize("path", ["/sales/bookings", "/crm/leads", "/master/customers", "/procurement/orders",
                                  "/master/parts", "/billing/registers/receivables"])
def test_a_long_search_is_searched_and_shown_as_typed_not_cut(logged_in, path):
    client, _ = logged_in("ADMIN")
    typed = "Sri Venkateshwara Electric Mobility Solutions Private Limited, Whitefield"  # 73 characters
    page = client.get(path, query_string={"q": typed})
    assert page.status_code == 200
    assert input_value(text(page), "q") == typed
