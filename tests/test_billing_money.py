"""Money against a sale through the screens: taking payments (receipt vouchers), the balance on
the sale page, refusals the database makes, idempotent posting, receipt and refund PDFs, and the
sales, receipts and receivables registers with their CSV / XLSX exports."""
from __future__ import annotations

import csv
import dataclasses
import io
import re
import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from conftest import login, page_csrf
from flask import render_template
from flask_login import login_user

from tests import builders as bld
from webapp.billing import posting
from webapp.billing.views import money_context
from webapp.formatting import today_ist
from webapp.sales.queries import get_booking
from webapp.users import StaffUser

PIN = "2580"
_codes = iter(range(100, 999))


# ----------------------------------------------------------------------------- fixtures and helpers


class Shop:
    """A branch with a priced variant and units (builders' sale_setup), committed, and people of
    that branch who log in through the screens."""

    def __init__(self, app, engine, make_staff, **setup):
        self.app, self.engine, self.make_staff = app, engine, make_staff
        with engine.begin() as conn:
            self.sale = bld.sale_setup(conn, **setup)
            self.branch_prefix = conn.execute(sa.text("SELECT invoice_prefix FROM master.branch WHERE branch_id = :b"),
                                              {"b": self.sale.branch_id}).scalar_one()

    def person(self, role: str):
        """(client, staff_id) logged in as a new member of the branch with this role."""
        code = f"{role[:2]}{next(_codes)}"
        staff_id, _, _ = self.make_staff(code, role, PIN, branch_id=self.sale.branch_id)
        client = self.app.test_client()
        assert login(client, code, PIN).status_code == 303
        return client, staff_id

    def db(self, build, *args, **kwargs):
        """Run a builder in a committed transaction."""
        with self.engine.begin() as conn:
            return build(conn, *args, **kwargs)

    def scalar(self, sql: str, **params):
        with self.engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar()

    def balance(self, booking_id: int):
        with self.engine.connect() as conn:
            return posting.booking_balance(conn, booking_id)


@pytest.fixture
def shop(app, engine, make_staff):
    return Shop(app, engine, make_staff)


def pay(client, booking_id: int, **fields):
    """Post the Take-a-payment form as the page draws it (its key, amount and payer), with changes."""
    page = client.get(f"/billing/bookings/{booking_id}/receipt")
    assert page.status_code == 200, page.get_data(as_text=True)
    html = page.get_data(as_text=True)
    form = {name: value for name, value in re.findall(r'name="(key|received_from|csrf_token)"[^>]*value="([^"]*)"',
                                                      html)}
    form.update(fields)
    return client.post(f"/billing/bookings/{booking_id}/receipt", data=form)


def receipt_of(response) -> int:
    assert response.status_code == 303, re.findall(r"class=\"(?:error|flash error)\"[^>]*>(.*?)<", response.get_data(as_text=True))
    return int(response.headers["Location"].rsplit("/", 1)[1])


def pdf_text(response) -> str:
    from pypdf import PdfReader

    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    return re.sub(r"\s+", " ", "\n".join(page.extract_text() for page in reader.pages))


def money_panel(shop, booking_id: int, staff_id: int, role: str) -> str:
    """The sale page's money panel as that person sees it."""
    with shop.app.test_request_context("/"), shop.engine.connect() as conn:
        login_user(StaffUser({"staff_id": staff_id, "staff_code": "X", "name": "X", "role": role,
                              "branch_id": shop.sale.branch_id, "branch_name": "B", "branch_code": "B",
                              "must_change_pin": False}))
        return render_template("billing/_sale_money.html", **money_context(conn, get_booking(conn, booking_id)))


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# ----------------------------------------------------------------------------- taking payments


def test_partial_payments_in_several_modes_get_their_own_receipts_and_the_sale_page_shows_the_balance(shop):
    booking_id = shop.db(bld.booking, shop.sale)
    due = shop.balance(booking_id)["due"]
    client, staff_id = shop.person("ACCOUNTS")

    first = receipt_of(pay(client, booking_id, mode="UPI", amount="10,000", reference="UTR4455667788"))
    second = receipt_of(pay(client, booking_id, mode="CASH", amount="25000.50"))
    third = receipt_of(pay(client, booking_id, mode="CHEQUE", amount="₹ 50,000", reference="000123 HDFC"))

    numbers = [shop.scalar("SELECT receipt_no FROM billing.receipt WHERE receipt_id = :r", r=r)
               for r in (first, second, third)]
    fy = f"{today_ist().year % 100 if today_ist().month >= 4 else today_ist().year % 100 - 1:02d}"
    assert numbers == [f"{shop.branch_prefix}RCT/{fy}/{n}" for n in (1, 2, 3)]
    assert shop.balance(booking_id)["balance"] == due - Decimal("85000.50")

    panel = text_of(money_panel(shop, booking_id, staff_id, "ACCOUNTS"))
    assert f"To pay by the customer {(due - Decimal('85000.50')):,.2f}".replace(",", "") in panel.replace(",", "").replace("₹", "")
    assert "UTR4455667788" in panel and "Cheque" in panel and "Cash" in panel
    for n in numbers:
        assert n in panel
    assert "Take a payment" in panel
    if "sales.booking_detail" in shop.app.view_functions:  # the sale page itself, with the panel in it
        page = client.get(f"/sales/bookings/{booking_id}")
        assert page.status_code == 200
        assert text_of(money_panel(shop, booking_id, staff_id, "ACCOUNTS")).split("Receipts")[0].strip() in \
            text_of(page.get_data(as_text=True))

    detail = client.get(f"/billing/receipts/{second}").get_data(as_text=True)
    assert numbers[1] in detail and "Twenty-Five Thousand Rupees and Fifty Paise Only" in detail


def test_the_take_a_payment_form_offers_the_balance_and_the_customer_as_payer(shop):
    booking_id = shop.db(bld.booking, shop.sale)
    client, _ = shop.person("MANAGER")
    html = client.get(f"/billing/bookings/{booking_id}/receipt").get_data(as_text=True)
    due = shop.balance(booking_id)["due"]
    customer = shop.scalar("SELECT name FROM master.customer WHERE customer_id = :c", c=shop.sale.customer_id)
    assert f'value="{due}"' in html
    assert f'value="{customer}"' in html
    # htmx from the sale page's panel: only the form comes back
    fragment = client.get(f"/billing/bookings/{booking_id}/receipt",
                          headers={"HX-Request": "true", "HX-Target": "money-form"}).get_data(as_text=True)
    assert "<form" in fragment and "<html" not in fragment


def test_a_receipt_above_the_balance_is_refused_with_the_most_that_can_be_taken_and_nothing_is_posted(shop):
    booking_id = shop.db(bld.booking, shop.sale)
    client, _ = shop.person("ACCOUNTS")
    receipt_of(pay(client, booking_id, mode="UPI", amount="100000", reference="UTR1"))
    left = shop.balance(booking_id)["balance"]
    response = pay(client, booking_id, mode="BANK_TRANSFER", amount=str(left + 1), reference="NEFT0001")
    assert response.status_code == 422
    html = text_of(response.get_data(as_text=True))
    assert "More than the balance due" in html and "an excess needs a refund voucher" in html
    assert "57,000.00" in html  # 1,57,000 agreed, 1,00,000 taken
    assert shop.scalar("SELECT count(*) FROM billing.receipt WHERE booking_id = :b", b=booking_id) == 1
    assert shop.scalar("SELECT last_no FROM master.document_counter WHERE branch_id = :b AND series = 'RCT'",
                       b=shop.sale.branch_id) == 1, "a refused receipt takes no number"


def test_cash_of_two_lakh_for_one_sale_is_refused_under_section_269st(app, engine, make_staff):
    shop = Shop(app, engine, make_staff, ex_showroom="310000.00")
    booking_id = shop.db(bld.booking, shop.sale)
    client, _ = shop.person("ACCOUNTS")
    receipt_of(pay(client, booking_id, mode="CASH", amount="150000"))
    receipt_of(pay(client, booking_id, mode="CASH", amount="49999.99"))
    response = pay(client, booking_id, mode="CASH", amount="0.01")
    assert response.status_code == 422
    html = text_of(response.get_data(as_text=True))
    assert "s.269ST" in html and "₹1,99,999.99 already taken in cash" in html
    assert shop.scalar("SELECT count(*) FROM billing.receipt") == 2


def test_exchange_value_beyond_what_is_recorded_is_refused_and_a_reference_is_needed_but_not_for_cash(shop):
    booking_id = shop.db(bld.booking, shop.sale)
    client, _ = shop.person("ACCOUNTS")
    response = pay(client, booking_id, mode="EXCHANGE", amount="15000")
    assert response.status_code == 422
    assert "More exchange vehicle value than the exchange vehicle&#39;s valuation allows" in response.get_data(as_text=True)
    response = pay(client, booking_id, mode="UPI", amount="1000", reference="")
    assert response.status_code == 422 and "Enter the UPI transaction (UTR) number" in response.get_data(as_text=True)
    assert shop.scalar("SELECT count(*) FROM billing.receipt") == 0


def test_the_same_payment_submitted_twice_gives_one_receipt(shop):
    booking_id = shop.db(bld.booking, shop.sale)
    client, _ = shop.person("ACCOUNTS")
    page = client.get(f"/billing/bookings/{booking_id}/receipt").get_data(as_text=True)
    key = re.search(r'name="key"[^>]*value="([^"]+)"', page).group(1)
    form = {"csrf_token": page_csrf(client, f"/billing/bookings/{booking_id}/receipt"), "key": key,
            "mode": "UPI", "amount": "5000", "reference": "UTR777", "received_from": "Asha Rao"}
    first = client.post(f"/billing/bookings/{booking_id}/receipt", data=form)
    again = client.post(f"/billing/bookings/{booking_id}/receipt", data=form)
    assert receipt_of(first) == receipt_of(again)
    assert shop.scalar("SELECT count(*) FROM billing.receipt WHERE booking_id = :b", b=booking_id) == 1
    # A double click through htmx: the second answer sends the browser to the same voucher.
    hx = client.post(f"/billing/bookings/{booking_id}/receipt", data=form,
                     headers={"HX-Request": "true", "HX-Target": "money-form"})
    assert hx.headers["HX-Redirect"] == first.headers["Location"]


def test_a_salesperson_takes_payments_on_own_bookings_only(shop):
    client, sales_id = shop.person("SALES")
    mine = shop.db(bld.booking, dataclasses.replace(shop.sale, sales_id=sales_id))
    theirs = shop.db(bld.booking, shop.sale)
    rid = receipt_of(pay(client, mine, mode="UPI", amount="2000", reference="UTR42"))
    assert client.get(f"/billing/receipts/{rid}").status_code == 200
    assert client.get(f"/billing/bookings/{theirs}/receipt").status_code == 404
    accounts, _ = shop.person("ACCOUNTS")
    other = receipt_of(pay(accounts, theirs, mode="UPI", amount="2000", reference="UTR43"))
    assert client.get(f"/billing/receipts/{other}").status_code == 404
    assert client.get(f"/billing/bookings/{mine}/refund").status_code == 403


def test_no_payment_is_taken_on_a_cancelled_booking(shop):
    booking_id = shop.db(bld.booking, shop.sale)
    shop.db(lambda conn: posting.cancel_booking(conn, booking_id, on=today_ist(), reason="changed mind",
                                                key=str(uuid.uuid4())))
    client, _ = shop.person("ACCOUNTS")
    page = client.get(f"/billing/bookings/{booking_id}/receipt").get_data(as_text=True)
    form = dict(re.findall(r'name="(key|received_from|csrf_token)"[^>]*value="([^"]*)"', page))
    response = client.post(f"/billing/bookings/{booking_id}/receipt",
                           data={**form, "mode": "CASH", "amount": "100"})
    assert response.status_code == 422 and "is cancelled" in response.get_data(as_text=True)


# ----------------------------------------------------------------------------- vouchers as PDFs


def test_the_receipt_voucher_pdf_has_its_number_the_amount_in_words_and_the_no_gst_advance_note(shop):
    booking_id = shop.db(bld.booking, shop.sale)
    client, _ = shop.person("ACCOUNTS")
    rid = receipt_of(pay(client, booking_id, mode="UPI", amount="12345.50", reference="UTR998877"))
    number = shop.scalar("SELECT receipt_no FROM billing.receipt WHERE receipt_id = :r", r=rid)
    response = client.get(f"/billing/receipts/{rid}/pdf")
    assert response.headers["Content-Disposition"].startswith("inline")
    text = pdf_text(response)
    assert "RECEIPT VOUCHER" in text and number in text
    assert "₹12,345.50" in text
    # pypdf splits a kerned pair now and then ("T welve"): compare the words without spaces
    assert "TwelveThousandThreeHundredForty-FiveRupeesandFiftyPaiseOnly" in text.replace(" ", "")
    assert "no GST charged on an advance for goods" in text
    assert "UTR998877" in text and "UPI" in text
    booking_no = shop.scalar("SELECT booking_no FROM sales.booking WHERE booking_id = :b", b=booking_id)
    assert booking_no in text
    left = shop.balance(booking_id)["balance"]
    assert f"{left:,.2f}".replace(",", "")[:-6] in text.replace(",", "")


def test_a_receipt_after_the_invoice_is_not_an_advance_and_names_the_invoice(shop):
    booking_id, invoice_id = shop.db(bld.invoiced_booking, shop.sale)
    client, _ = shop.person("ACCOUNTS")
    rid = receipt_of(pay(client, booking_id, mode="BANK_TRANSFER", amount="1000", reference="NEFT55"))
    invoice_no = shop.scalar("SELECT invoice_no FROM billing.invoice WHERE invoice_id = :i", i=invoice_id)
    text = pdf_text(client.get(f"/billing/receipts/{rid}/pdf"))
    assert invoice_no in text and "no GST charged on an advance" not in text


# ----------------------------------------------------------------------------- refunds


def _overpaid_booking(shop) -> tuple[int, Decimal]:
    """A booking paid in full, then the price comes down (a discount approved later): an excess."""
    booking_id = shop.db(bld.booking, shop.sale)
    due = shop.balance(booking_id)["due"]
    client, _ = shop.person("ACCOUNTS")
    receipt_of(pay(client, booking_id, mode="BANK_TRANSFER", amount=str(due), reference="NEFT0099"))
    with shop.engine.begin() as conn:
        conn.execute(sa.text("""UPDATE sales.booking SET discount = 3000, discount_status = 'WITHIN_LIMIT',
                                       discount_by = salesperson_id WHERE booking_id = :b"""), {"b": booking_id})
    return booking_id, Decimal("3000.00")


def test_an_excess_received_is_given_back_on_a_refund_voucher(shop):
    booking_id, excess = _overpaid_booking(shop)
    client, _ = shop.person("ACCOUNTS")
    _panel_client, manager_id = shop.person("MANAGER")
    assert "Refund the excess" in money_panel(shop, booking_id, manager_id, "MANAGER")
    page = client.get(f"/billing/bookings/{booking_id}/refund").get_data(as_text=True)
    assert f'value="{excess}"' in page
    form = dict(re.findall(r'name="(key|paid_to|reason|csrf_token)"[^>]*value="([^"]*)"', page))

    too_much = client.post(f"/billing/bookings/{booking_id}/refund",
                           data={**form, "amount": "3000.01", "mode": "UPI", "reference": "UPIREF1"})
    assert too_much.status_code == 422
    assert "give back ₹3,000.00 at most" in too_much.get_data(as_text=True)

    done = client.post(f"/billing/bookings/{booking_id}/refund",
                       data={**form, "amount": "3000", "mode": "UPI", "reference": "UPIREF1"})
    assert done.status_code == 303
    refund_id = int(done.headers["Location"].rsplit("/", 1)[1])
    assert shop.balance(booking_id)["balance"] == 0
    number = shop.scalar("SELECT refund_no FROM billing.refund WHERE refund_id = :r", r=refund_id)
    assert "RFD/" in number
    text = pdf_text(client.get(f"/billing/refunds/{refund_id}/pdf"))
    assert "REFUND VOUCHER" in text and number in text and "ThreeThousandRupeesOnly" in text.replace(" ", "")
    assert "NEFT0099" in text  # the receipt it gives back from
    assert client.get(f"/billing/refunds/{refund_id}").status_code == 200


def test_a_cancellation_refund_shows_the_charge_kept(shop):
    booking_id = shop.db(bld.booking, shop.sale)
    client, _ = shop.person("ACCOUNTS")
    receipt_of(pay(client, booking_id, mode="UPI", amount="10000", reference="UTR31"))
    refund_id = shop.db(lambda conn: posting.cancel_booking(
        conn, booking_id, on=today_ist(), reason="bought elsewhere", key=str(uuid.uuid4()),
        cancellation_charge=Decimal(1000), refund_mode="UPI", reference="UPIBACK1"))
    text = pdf_text(client.get(f"/billing/refunds/{refund_id}/pdf"))
    assert "Cancellation charge kept" in text and "₹1,000.00" in text and "₹9,000.00" in text
    assert "NineThousandRupeesOnly" in text.replace(" ", "")


# ----------------------------------------------------------------------------- registers


def _invoices(shop, dates: list[date]) -> list[int]:
    """Vehicle invoices on these dates (oldest first: invoice dates never go backwards)."""
    units = shop.db(lambda conn: conn.execute(sa.text(
        "SELECT unit_id FROM inventory.vehicle_unit WHERE branch_id = :b ORDER BY unit_id"),
        {"b": shop.sale.branch_id}).scalars().all())
    made = []
    for on, unit_id in zip(dates, units):
        made.append(shop.db(_invoiced, dataclasses.replace(shop.sale, unit_id=unit_id), on, dates[0] - timedelta(days=1)))
    return made


def _invoiced(conn, sale, on: date, booked_on: date) -> int:
    from webapp.sales import services
    booking_id = bld.booking(conn, sale, on=booked_on.isoformat())
    services.allot(conn, booking_id, sale.unit_id)
    bld.act_as(conn, sale.manager_id)
    return posting.post_vehicle_invoice(conn, booking_id, on=on, key=str(uuid.uuid4()))


@pytest.fixture
def busy_shop(app, engine, make_staff):
    today = today_ist()
    return Shop(app, engine, make_staff, units=4, price_from=(today - timedelta(days=400)).isoformat())


def test_the_sales_register_totals_equal_the_invoices_and_its_exports_carry_the_rows(busy_shop):
    shop = busy_shop
    today = today_ist()
    ids = _invoices(shop, [today - timedelta(days=3), today - timedelta(days=2), today - timedelta(days=1)])
    client, _ = shop.person("ACCOUNTS")
    span = {"from": (today - timedelta(days=10)).isoformat(), "to": today.isoformat()}
    with shop.engine.connect() as conn:
        invoices = conn.execute(sa.text("""SELECT invoice_no, taxable_value, cgst, sgst, grand_total
                                             FROM billing.invoice WHERE invoice_id = ANY(:i)"""),
                                {"i": ids}).mappings().all()
    total = sum(i["grand_total"] for i in invoices)
    taxable = sum(i["taxable_value"] for i in invoices)

    page = client.get("/billing/registers/sales", query_string=span)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert re.search(r'class="register-total">₹([\d,.]+)<', html).group(1).replace(",", "") == f"{total}"
    for i in invoices:
        assert i["invoice_no"] in html
    rows_only = client.get("/billing/registers/sales", query_string={**span, "q": invoices[0]["invoice_no"]},
                           headers={"HX-Request": "true", "HX-Target": "register-rows"}).get_data(as_text=True)
    assert "<html" not in rows_only and len(re.findall(r"<tr>\s*<td", rows_only)) == 1
    # B2B filter: these buyers have no GSTIN
    assert "No invoices for these filters" in client.get("/billing/registers/sales",
                                                         query_string={**span, "party": "B2B"}).get_data(as_text=True)

    exported = client.get("/billing/registers/sales", query_string={**span, "format": "csv"})
    assert exported.headers["Content-Disposition"].startswith("attachment")
    assert exported.data.startswith("\ufeff".encode())
    lines = list(csv.DictReader(io.StringIO(exported.data.decode("utf-8-sig"))))
    assert sorted(r["Number"] for r in lines) == sorted(i["invoice_no"] for i in invoices)
    assert sum(Decimal(r["Total"]) for r in lines) == total
    assert all(r["Buyer GSTIN"] == "B2C" for r in lines)
    assert lines[0]["Date"] == (today - timedelta(days=3)).isoformat()  # oldest first

    from openpyxl import load_workbook
    xlsx = client.get("/billing/registers/sales", query_string={**span, "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    header = [c.value for c in sheet[2]]
    data = [dict(zip(header, (c.value for c in row))) for row in sheet.iter_rows(min_row=3)]
    assert len(data) == 3
    assert all(isinstance(r["Total"], (int, float)) and isinstance(r["Taxable value"], (int, float)) for r in data)
    assert Decimal(str(sum(r["Taxable value"] for r in data))).quantize(Decimal("0.01")) == taxable
    assert all(r["Date"].date() >= today - timedelta(days=3) for r in data)  # real dates


def test_the_sales_register_shows_a_credit_note_as_a_negative_row(busy_shop):
    shop = busy_shop
    today = today_ist()
    (invoice_id,) = _invoices(shop, [today - timedelta(days=2)])
    shop.db(lambda conn: posting.post_credit_note(conn, invoice_id, on=today, reason="wrong colour billed",
                                                  key=str(uuid.uuid4())))
    client, _ = shop.person("MANAGER")
    html = client.get("/billing/registers/sales",
                      query_string={"from": (today - timedelta(days=5)).isoformat()}).get_data(as_text=True)
    assert "Credit note against" in html
    assert re.search(r'class="register-total">₹([\d,.]+)<', html).group(1) == "0.00"


def test_the_receipts_register_lists_receipts_and_refunds_negative_with_the_net(shop):
    booking_id, _ = _overpaid_booking(shop)
    client, _ = shop.person("ACCOUNTS")
    page = client.get(f"/billing/bookings/{booking_id}/refund").get_data(as_text=True)
    form = dict(re.findall(r'name="(key|paid_to|reason|csrf_token)"[^>]*value="([^"]*)"', page))
    assert client.post(f"/billing/bookings/{booking_id}/refund",
                       data={**form, "amount": "3000", "mode": "CASH"}).status_code == 303
    due = shop.balance(booking_id)["due"]
    html = client.get("/billing/registers/receipts").get_data(as_text=True)
    assert "NEFT0099" in html and "Refund" in html
    assert re.search(r'class="register-total">₹([\d,.]+)<', html).group(1).replace(",", "") == f"{due}"
    cash_only = client.get("/billing/registers/receipts", query_string={"mode": "CASH", "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(cash_only.data.decode("utf-8-sig"))))
    assert [(r["Voucher"], r["Amount"]) for r in rows] == [("Refund", "-3000.00")]


def test_receivables_are_aged_by_invoice_date_into_four_buckets(busy_shop):
    shop = busy_shop
    today = today_ist()
    ages = [120, 75, 45, 5]
    ids = _invoices(shop, [today - timedelta(days=a) for a in ages])
    client, _ = shop.person("ACCOUNTS")
    with shop.engine.connect() as conn:
        owed = dict(conn.execute(sa.text("""SELECT invoice_id, balance FROM billing.receivable
                                             WHERE invoice_id = ANY(:i)"""), {"i": ids}).all())
    html = client.get("/billing/registers/receivables").get_data(as_text=True)
    for bucket, invoice_id in zip(("90+", "61-90", "31-60", "0-30"), ids):
        shown = re.search(rf'class="bucket-{re.escape(bucket)}">₹([\d,.]+)<', html).group(1).replace(",", "")
        assert Decimal(shown) == owed[invoice_id], bucket
    assert Decimal(re.search(r'class="register-total">₹([\d,.]+)<', html).group(1).replace(",", "")) == sum(owed.values())
    old = client.get("/billing/registers/receivables", query_string={"bucket": "90+"},
                     headers={"HX-Request": "true", "HX-Target": "register-rows"}).get_data(as_text=True)
    assert len(re.findall(r"<tr>\s*<td", old)) == 1 and "120 days" in old
    xlsx = client.get("/billing/registers/receivables", query_string={"format": "xlsx"})
    from openpyxl import load_workbook
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    balance = [c.value for c in sheet[2]].index("Balance")
    assert [r[balance].value for r in sheet.iter_rows(min_row=3)] == [float(owed[i]) for i in ids]


def test_receivables_show_the_invoice_amount_beside_the_charges_for_others_and_add_up(shop):
    """The row of an invoice shows that invoice's amount; insurance collected for the insurer is its own
    column; the footer adds up to the invoices and receipts."""
    with shop.engine.begin() as conn:
        booking_id = bld.booking(conn, shop.sale, amounts={"INSURANCE": Decimal("6500.00")})
        from webapp.sales import services
        services.allot(conn, booking_id, shop.sale.unit_id)
        bld.act_as(conn, shop.sale.manager_id)
        invoice_id = posting.post_vehicle_invoice(conn, booking_id, on=today_ist(), key=str(uuid.uuid4()))
        posting.post_receipt(conn, on=today_ist(), mode="UPI", amount=Decimal("20000"), key=str(uuid.uuid4()),
                             received_from="Customer", booking_id=booking_id, reference="UTR5566778899")
        invoice_amount = conn.execute(sa.text("SELECT amount_payable FROM billing.invoice WHERE invoice_id = :i"),
                                      {"i": invoice_id}).scalar_one()
    client, _ = shop.person("ACCOUNTS")
    html = client.get("/billing/registers/receivables").get_data(as_text=True)
    row = text_of(re.search(r"<tr>\s*<td.*?</tr>", html, re.S).group(0))
    cells = re.findall(r"₹[\d,]+\.\d\d", row)
    money = [Decimal(c[1:].replace(",", "")) for c in cells]
    assert money == [invoice_amount, Decimal("6500.00"), Decimal("20000.00"),
                     invoice_amount - Decimal("13500.00"), invoice_amount - Decimal("13500.00")]
    footer = text_of(re.search(r"<tfoot>.*?</tfoot>", html, re.S).group(0))
    from webapp.formatting import inr
    assert f"Total of 1 invoices {inr(invoice_amount)} ₹6,500.00 ₹20,000.00 {inr(invoice_amount - 13500)}" in footer
    assert "Invoice amount" in html and "Charges for others" in html and "the customer" in html
    exported = client.get("/billing/registers/receivables", query_string={"format": "csv"})
    (line,) = list(csv.DictReader(io.StringIO(exported.data.decode("utf-8-sig"))))
    assert Decimal(line["Invoice amount (with TCS)"]) == invoice_amount
    assert Decimal(line["Charges collected for others"]) == Decimal("6500.00")


def test_the_loan_disbursement_is_offered_from_the_financier_up_to_the_loan(shop):
    booking_id = shop.db(bld.booking, shop.sale)
    with shop.engine.begin() as conn:
        financier = conn.execute(sa.text("INSERT INTO master.financier (name) VALUES ('Shriram Finance') "
                                         "RETURNING financier_id")).scalar_one()
        conn.execute(sa.text("INSERT INTO sales.finance (booking_id, financier_id, loan_amount) VALUES (:b, :f, 90000)"),
                     {"b": booking_id, "f": financier})
    client, staff_id = shop.person("ACCOUNTS")
    assert "Record the loan disbursement (₹90,000.00)" in money_panel(shop, booking_id, staff_id, "ACCOUNTS")
    page = client.get(f"/billing/bookings/{booking_id}/receipt", query_string={"mode": "FINANCE"}).get_data(as_text=True)
    assert 'value="Shriram Finance"' in page and 'value="90000.00"' in page
    receipt_of(pay(client, booking_id, mode="FINANCE", amount="60000", reference="DO-7781",
                   received_from="Shriram Finance"))
    again = pay(client, booking_id, mode="FINANCE", amount="30000.01", reference="DO-7782",
                received_from="Shriram Finance")
    assert again.status_code == 422
    assert "₹30,000.00 can still be credited" in again.get_data(as_text=True)


def test_a_name_that_looks_like_a_formula_stays_text_in_the_exported_registers():
    from openpyxl import load_workbook

    from webapp.billing import registers

    class Col:
        def __init__(self, key, header, kind):
            self.key, self.header, self.kind = key, header, kind

    columns = [Col("buyer", "Buyer", "text"), Col("total", "Total", "money")]
    rows = [{"buyer": '=HYPERLINK("http://x.example","pay")', "total": Decimal("-10.00")},
            {"buyer": "Meera Krishnan", "total": Decimal("157000.00")}]
    csv_text = registers.csv_bytes(columns, rows).decode("utf-8-sig")
    assert "'=HYPERLINK" in csv_text and "\r\nMeera Krishnan,157000.00" in csv_text and ",-10.00" in csv_text
    sheet = load_workbook(io.BytesIO(registers.xlsx_bytes("Sales", columns, rows))).active
    assert sheet["A2"].value == "'=HYPERLINK(\"http://x.example\",\"pay\")" and sheet["A2"].data_type == "s"
    assert sheet["B2"].value == -10 and sheet["A3"].value == "Meera Krishnan"


# ----------------------------------------------------------------------------- the customer's own share


def test_the_qr_the_payment_form_and_the_receipt_ask_the_customer_only_for_their_own_share(app, engine, make_staff):
    """Rs 1,57,000 with a Rs 10,000 PM E-DRIVE subsidy and a Rs 1,00,000 loan: the customer owes Rs 47,000."""
    from urllib.parse import parse_qs, urlsplit

    import segno

    shop = Shop(app, engine, make_staff, subsidy_rule="FIXED", subsidy_amount="10000.00")
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE master.branch SET upi_id = 'showroom@okaxis' WHERE branch_id = :b"),
                     {"b": shop.sale.branch_id})
        booking_id = bld.booking(conn, shop.sale)
        financier = conn.execute(sa.text(
            "INSERT INTO master.financier (name) VALUES ('Bajaj Finance') RETURNING financier_id")).scalar_one()
        conn.execute(sa.text("INSERT INTO sales.finance (booking_id, financier_id, loan_amount) VALUES (:b, :f, 100000)"),
                     {"b": booking_id, "f": financier})
        from webapp.sales import services
        services.allot(conn, booking_id, shop.sale.unit_id)
        bld.act_as(conn, shop.sale.manager_id)
        invoice_id = posting.post_vehicle_invoice(conn, booking_id, on=today_ist(), key=str(uuid.uuid4()))
    client, _ = shop.person("ACCOUNTS")

    page = client.get(f"/billing/invoices/{invoice_id}").get_data(as_text=True)
    uri = re.search(r'class="qr-box upi-link" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert parse_qs(urlsplit(uri).query)["am"] == ["47000.00"]
    # The QR drawn on the invoice encodes exactly that payment link.
    svg = re.search(r"<svg.*?</svg>", page[page.index("upi-link"):], re.S).group(0)
    assert svg == segno.make(uri, error="m", micro=False).svg_inline(scale=3, border=2, svgclass="qr", lineclass=None)
    assert "To pay by the customer: ₹47,000.00" in text_of(page)
    assert "the loan ₹1,00,000.00 (financier)" in page and "the PM E-DRIVE subsidy ₹10,000.00 (OEM)" in page
    pdf = pdf_text(client.get(f"/billing/invoices/{invoice_id}/pdf"))
    assert "scan to pay ₹47,000.00" in pdf

    form = client.get(f"/billing/bookings/{booking_id}/receipt").get_data(as_text=True)
    assert re.search(r'name="amount"[^>]*value="47000.00"', form), form
    receipt_id = receipt_of(pay(client, booking_id, mode="UPI", amount="20000", reference="UTR9911223344"))
    receipt = text_of(client.get(f"/billing/receipts/{receipt_id}").get_data(as_text=True))
    assert "Balance due from the customer after this receipt ₹27,000.00" in receipt
    assert "Still to be credited by the financier, OEM or exchange ₹1,10,000.00" in receipt
    assert "₹27,000.00" in pdf_text(client.get(f"/billing/receipts/{receipt_id}/pdf"))
    # The loan button still offers the loan, not the customer's share.
    loan_form = client.get(f"/billing/bookings/{booking_id}/receipt?mode=FINANCE").get_data(as_text=True)
    assert re.search(r'name="amount"[^>]*value="100000.00"', loan_form)
