"""GST on every kind of sale (sql/0011_counter_sale_gst.sql, webapp.gst, webapp.money):

- a counter sale delivered into another state is billed IGST, with the place of supply and the
  printed ship-to in that state; one handed over at the counter stays CGST + SGST;
- counter lines priced with GST excluded (a price list, labour from the labour master) or
  included (MRP), with quantities and paise;
- rule 46: an unregistered buyer at Rs 50,000 or more without a delivery address is warned in the
  preview and refused next to the address field, with nothing posted and no number used;
- the ship-to always agrees with the place of supply, held by PostgreSQL;
- one GST computation for sales and purchases, one strict amount parser for every form.

Web tests drive the real app through the Flask client; database tests post through
webapp.billing.posting in a rolled-back transaction.
"""
from __future__ import annotations

import re
import uuid
from datetime import date
from decimal import Decimal

import builders as b
import pytest
import sqlalchemy as sa
from builders import refused, row
from builders import scalar as db_scalar
from test_billing_invoices import (  # noqa: F401  (shop is a fixture)
    hidden,
    invoiced,
    one,
    pdf_text,
    plain,
    scalar,
    shop,
    squeezed,
    text,
)

from webapp.billing import posting
from webapp.money import parse_amount, round_paisa

D = date.fromisoformat
M = Decimal


def key() -> str:
    return str(uuid.uuid4())


# ----------------------------------------------------------------------------- the counter sale on screen


@pytest.fixture
def counter(engine, shop):
    """What a Karnataka counter sells: a battery pack (18%, MRP Rs 60,000), a charger (5%), brake
    shoes (18%), and the labour of fitting an accessory (SAC 998714, Rs 350 excluding GST)."""
    with engine.begin() as conn:
        battery = b.part(conn, part_no="BAT-LFP-60", hsn_code="850760", purchase_price="30000.00")  # MRP 60,000
        charger = b.part(conn, part_no="CHG-650W", hsn_code="8504", purchase_price="2000.00")
        shoe = b.part(conn, part_no="BRK-SHOE-02", purchase_price="120.00")
        for part_id in (battery, charger, shoe):
            b.receive(conn, shop.branch, part_id, 10, "100.00")
        conn.execute(sa.text("""INSERT INTO master.labour_operation (operation_code, name, standard_hours, rate)
                                VALUES ('FIT-ACC', 'Fitting an accessory', 0.5, 350)"""))
    return shop


def counter_form(client, rows, action: str = "post", **fields) -> dict:
    """The counter-sale form as typed: rows of (part no. or labour code, qty, and optionally kind,
    unit price, price basis, discount)."""
    page = text(client.get("/billing/counter-sale"))
    data = {"csrf_token": hidden(page, "csrf_token"), "key": hidden(page, "key"), "action": action,
            "delivery": "COUNTER", "delivery_state": "29", "paid_by": "UPI", "payment_reference": "UTR4455667788",
            **fields}
    for n, r in enumerate(rows):
        r = {"part_no": r[0], "qty": r[1]} if isinstance(r, tuple) else r
        for name, value in r.items():
            data[f"lines-{n}-{name}"] = value
    return data


def invoice_of(engine):
    return one(engine, "SELECT * FROM billing.invoice WHERE kind = 'COUNTER'")


def lines_of(engine, invoice_id):
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT * FROM billing.invoice_line WHERE invoice_id = :i ORDER BY line_no"),
                            {"i": invoice_id}).mappings().all()


TN_ADDRESS = "14 Anna Salai, Teynampet, Chennai 600018"


def test_a_battery_delivered_to_tamil_nadu_is_billed_igst_and_shipped_there(engine, counter):
    data = counter_form(counter.client, [("BAT-LFP-60", "1")], buyer_name="Ravi Kumar", delivery="ADDRESS",
                        delivery_address=TN_ADDRESS, delivery_state="33")
    preview = counter.client.post("/billing/counter-sale", data={**data, "action": "preview"})
    assert preview.status_code == 200
    assert "Tamil Nadu (33)" in plain(preview) and "IGST (another state)" in plain(preview)
    response = counter.client.post("/billing/counter-sale", data=data)
    assert response.status_code == 303, plain(response)
    inv = invoice_of(engine)
    # 60,000 incl. 18%: taxable 60,000 x 100 / 118 = 50,847.457... -> 50,847.46; IGST 9,152.54.
    assert (inv["place_of_supply"], inv["supplier_state_code"], inv["pos_overridden"]) == ("33", "29", False)
    assert (inv["taxable_value"], inv["igst"], inv["cgst"], inv["sgst"]) == (
        M("50847.46"), M("9152.54"), M("0.00"), M("0.00"))
    assert (inv["delivery_address"], inv["delivery_state_code"]) == (TN_ADDRESS, "33")
    assert (inv["buyer_name"], inv["buyer_state_code"]) == ("Ravi Kumar", "33")
    printed = squeezed(pdf_text(counter.client.get(f"/billing/invoices/{inv['invoice_id']}/pdf?copy=original")))
    assert "Placeofsupply:TamilNadu(33)" in printed and "IGST₹9,152.54" in printed
    assert "CGST₹" not in printed and "SGST₹" not in printed
    ship_to = printed.split("SHIPTO(DELIVERYADDRESS)")[1]
    assert ship_to.startswith("RaviKumar" + squeezed(TN_ADDRESS) + "State:TamilNadu(statecode33)"), ship_to[:120]
    page = plain(counter.client.get(f"/billing/invoices/{inv['invoice_id']}"))
    assert f"Ship to (delivery address) Ravi Kumar {TN_ADDRESS} State: Tamil Nadu (state code 33)" in page


def test_a_counter_sale_handed_over_at_the_counter_stays_intra_state_and_ships_from_the_showroom(engine, counter):
    response = counter.client.post("/billing/counter-sale", data=counter_form(counter.client, [("BAT-LFP-60", "1")],
                                                                               mobile="", buyer_name="Ravi Kumar"))
    # Rs 50,847.46 taxable to an unregistered buyer: refused without an address (rule 46, below) ...
    assert response.status_code == 422
    with engine.begin() as conn:
        b.receive(conn, counter.branch, b.part(conn, part_no="MIRROR-L", purchase_price="300.00"), 5, "300.00")
    response = counter.client.post("/billing/counter-sale", data=counter_form(counter.client, [("MIRROR-L", "1")]))
    assert response.status_code == 303, plain(response)
    inv = invoice_of(engine)
    assert (inv["place_of_supply"], inv["igst"], inv["delivery_address"], inv["delivery_state_code"]) == (
        "29", M("0.00"), None, None)
    assert inv["cgst"] > 0 and inv["cgst"] + inv["sgst"] == M("91.53")  # 600 - 600 x 100 / 118 = 91.525... -> 91.53
    printed = squeezed(pdf_text(counter.client.get(f"/billing/invoices/{inv['invoice_id']}/pdf?copy=original")))
    assert "SHIPTO(DELIVERYADDRESS)CashsaleHandedoveratthe showroom:".replace(" ", "") in printed
    assert printed.split("SHIPTO(DELIVERYADDRESS)")[1].split("GSTIN")[0].endswith("State:Karnataka(statecode29)")


def test_exclusive_prices_with_paise_and_quantities_on_a_counter_sale(engine, counter):
    rows = [{"part_no": "CHG-650W", "qty": "1", "unit_price": "100.10", "price_basis": "EXCL"},
            {"part_no": "BRK-SHOE-02", "qty": "3", "unit_price": "100.10", "price_basis": "EXCL"},
            {"part_no": "BRK-SHOE-02", "qty": "1"}]                             # at MRP, GST included
    preview = counter.client.post("/billing/counter-sale", data=counter_form(counter.client, rows, action="preview"))
    assert preview.status_code == 200, plain(preview)
    response = counter.client.post("/billing/counter-sale", data=counter_form(counter.client, rows))
    assert response.status_code == 303, plain(response)
    charger, shoes, mrp = lines_of(engine, invoice_of(engine)["invoice_id"])
    # 100.10 at 5%: 5.005 -> 5.01 (half up); CGST round(2.505) = 2.51, SGST 2.50.
    assert (charger["taxable_value"], charger["cgst"], charger["sgst"], charger["total"]) == (
        M("100.10"), M("2.51"), M("2.50"), M("105.11"))
    assert charger["price_includes_gst"] is False and charger["unit_price"] == M("100.10")
    # 3 x 100.10 = 300.30 at 18%: 54.054 -> 54.05; CGST round(27.025) = 27.03, SGST 27.02.
    assert (shoes["qty"], shoes["taxable_value"], shoes["cgst"], shoes["sgst"]) == (
        M("3.000"), M("300.30"), M("27.03"), M("27.02"))
    # MRP 240 incl. 18%: taxable 203.39, tax 36.61.
    assert (mrp["price_includes_gst"], mrp["taxable_value"], mrp["cgst"] + mrp["sgst"]) == (
        True, M("203.39"), M("36.61"))
    with engine.connect() as conn:
        shoe = db_scalar(conn, "SELECT part_id FROM master.part WHERE part_no = 'BRK-SHOE-02'")
        assert b.balance(conn, counter.branch, shoe)["qty"] == M("6.000")   # 10 - 3 - 1


def test_a_counter_sale_carries_labour_from_the_labour_master(engine, counter):
    rows = [("BRK-SHOE-02", "1"), {"kind": "LABOUR", "part_no": "fit-acc", "qty": "1"}]
    response = counter.client.post("/billing/counter-sale", data=counter_form(counter.client, rows))
    assert response.status_code == 303, plain(response)
    inv = invoice_of(engine)
    _, labour = lines_of(engine, inv["invoice_id"])
    # Rs 350 excluding GST at 18%: 63.00 (CGST 31.50 + SGST 31.50).
    assert (labour["hsn_code"], labour["gst_rate"], labour["operation_code"], labour["part_id"]) == (
        "998714", M("18.00"), "FIT-ACC", None)
    assert (labour["taxable_value"], labour["cgst"], labour["sgst"], labour["price_includes_gst"]) == (
        M("350.00"), M("31.50"), M("31.50"), False)
    assert "Fitting an accessory (FIT-ACC)" in plain(counter.client.get(f"/billing/invoices/{inv['invoice_id']}"))
    unknown = counter.client.post("/billing/counter-sale", data=counter_form(
        counter.client, [{"kind": "LABOUR", "part_no": "BRK-SHOE-02", "qty": "1"}]))
    assert unknown.status_code == 422 and "No labour operation BRK-SHOE-02" in plain(unknown)


def test_an_unregistered_buyer_above_the_rule_46_limit_is_asked_for_the_delivery_address(engine, counter):
    rows = [("BAT-LFP-60", "1")]
    preview = counter.client.post("/billing/counter-sale", data=counter_form(counter.client, rows, action="preview",
                                                                              buyer_name="Walk-in Buyer"))
    assert preview.status_code == 200
    needed = "An unregistered buyer at ₹50,000 or more needs the delivery address and state"
    assert needed in plain(preview)
    response = counter.client.post("/billing/counter-sale", data=counter_form(counter.client, rows,
                                                                               buyer_name="Walk-in Buyer"))
    assert response.status_code == 422, plain(response)
    page = text(response)
    # The message sits with the address field, and everything typed is still in the form.
    address_help = re.search(r'id="delivery_address-help">(.*?)</div>', page, re.S).group(1)
    assert needed in address_help
    assert 'value="BAT-LFP-60"' in page and 'value="Walk-in Buyer"' in page and 'value="UTR4455667788"' in page
    assert scalar(engine, "SELECT count(*) FROM billing.invoice") == 0
    assert scalar(engine, "SELECT count(*) FROM billing.receipt") == 0
    assert scalar(engine, "SELECT count(*) FROM master.document_counter WHERE series IN ('INV', 'RCT')") == 0
    # With the address and state the sale posts, and takes the first number.
    data = counter_form(counter.client, rows, buyer_name="Walk-in Buyer", delivery="ADDRESS",
                        delivery_address="22 Residency Road, Bengaluru 560025", delivery_state="29")
    posted = counter.client.post("/billing/counter-sale", data=data)
    assert posted.status_code == 303, plain(posted)
    inv = invoice_of(engine)
    assert inv["invoice_no"].endswith("/1") and inv["place_of_supply"] == "29" and inv["igst"] == 0
    assert (inv["buyer_address"], inv["buyer_state_code"]) == ("22 Residency Road, Bengaluru 560025", "29")


def test_a_delivery_to_an_address_needs_the_address_and_the_buyer(engine, counter):
    response = counter.client.post("/billing/counter-sale", data=counter_form(
        counter.client, [("BRK-SHOE-02", "1")], delivery="ADDRESS", delivery_state="33"))
    assert response.status_code == 422
    assert "Enter the address the goods are delivered to" in plain(response)
    assert "Enter the name of the buyer the goods are delivered to" in plain(response)
    assert scalar(engine, "SELECT count(*) FROM billing.invoice") == 0


def test_choosing_another_delivery_state_redraws_the_preview_with_igst(engine, counter):
    data = counter_form(counter.client, [("BRK-SHOE-02", "2")], action="delivery", delivery="ADDRESS",
                        delivery_state="33")
    response = counter.client.post("/billing/counter-sale", data=data,
                                   headers={"HX-Request": "true", "HX-Target": "counter-preview"})
    assert response.status_code == 200 and "<html" not in text(response)
    assert "Tamil Nadu (33)" in plain(response) and "IGST (another state)" in plain(response)
    # Only a redraw: the address not yet typed is no complaint.
    assert "Enter the address" not in plain(response)
    assert scalar(engine, "SELECT count(*) FROM billing.invoice") == 0


@pytest.mark.parametrize("typed", ["1e5", "NaN", "Infinity", "1.234", "-5", "12,34"])
def test_a_counter_row_refuses_what_is_not_an_amount(engine, counter, typed):
    response = counter.client.post("/billing/counter-sale", data=counter_form(
        counter.client, [{"part_no": "BRK-SHOE-02", "qty": "1", "unit_price": typed, "price_basis": "EXCL"}]))
    assert response.status_code == 422
    assert f'value="{typed}"' in text(response)
    assert scalar(engine, "SELECT count(*) FROM billing.invoice") == 0


# ----------------------------------------------------------------------------- the vehicle invoice's ship-to


def test_a_vehicle_handed_over_at_the_showroom_ships_from_the_showroom_even_to_a_buyer_from_another_state(engine, shop):
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE master.customer SET state_code = '33', city = 'Chennai' WHERE customer_id = :c"),
                     {"c": shop.sale.customer_id})
    _, invoice_id = invoiced(engine, shop)
    inv = one(engine, "SELECT * FROM billing.invoice WHERE invoice_id = :i", i=invoice_id)
    assert (inv["place_of_supply"], inv["delivery_address"], inv["buyer_state_code"]) == ("29", None, "33")
    printed = squeezed(pdf_text(shop.client.get(f"/billing/invoices/{invoice_id}/pdf?copy=original")))
    ship_to = printed.split("SHIPTO(DELIVERYADDRESS)")[1].split("GSTIN")[0]
    assert "Handedoverattheshowroom" in ship_to and ship_to.endswith("State:Karnataka(statecode29)"), ship_to
    assert "TamilNadu" not in ship_to


def test_a_vehicle_delivered_into_another_state_ships_to_the_bookings_address_there(engine, shop):
    _, invoice_id = invoiced(engine, shop, delivery_state="27")
    inv = one(engine, "SELECT * FROM billing.invoice WHERE invoice_id = :i", i=invoice_id)
    assert (inv["place_of_supply"], inv["delivery_address"], inv["delivery_state_code"]) == ("27", "9 Lake Road", "27")
    ship_to = squeezed(pdf_text(shop.client.get(f"/billing/invoices/{invoice_id}/pdf?copy=original"))).split(
        "SHIPTO(DELIVERYADDRESS)")[1]
    assert "9LakeRoadState:Maharashtra(statecode27)" in ship_to


# ----------------------------------------------------------------------------- the rules in PostgreSQL


@pytest.fixture
def till(conn):
    """A Karnataka branch with its accountant acting, and a part in stock."""
    branch = b.branch(conn, state="29", prefix="BLR")
    b.act_as(conn, b.staff(conn, branch, "ACCOUNTS"))
    part = b.part(conn, purchase_price="100.00")                  # MRP 200 incl. 18%
    b.receive(conn, branch, part, 10, "100.00")
    return branch, part


def test_a_counter_sale_takes_the_delivery_state_as_its_place_of_supply(conn, till):
    branch, part = till
    inv = posting.post_counter_invoice(conn, branch, [posting.CounterLine(part, M(1))], on=D("2026-06-02"), key=key(),
                                       buyer_name="Ravi Kumar", delivery_address=TN_ADDRESS, delivery_state="33")
    got = row(conn, "SELECT place_of_supply, pos_overridden, igst, cgst, delivery_state_code FROM billing.invoice "
                    "WHERE invoice_id = :i", i=inv)
    assert got == {"place_of_supply": "33", "pos_overridden": False, "igst": M("30.51"), "cgst": M("0.00"),
                   "delivery_state_code": "33"}


def test_the_database_refuses_a_ship_to_that_disagrees_with_the_place_of_supply(conn, till):
    branch, part = till
    lines = [posting.CounterLine(part, M(1))]
    draft = posting.counter_sale(conn, branch, lines, D("2026-06-02"), place_of_supply="33")
    header = {"branch_id": branch, "invoice_date": D("2026-06-02"), "kind": "COUNTER", "booking_id": None,
              "unit_id": None, "customer_id": None, "buyer_name": "Ravi Kumar", "buyer_address": None,
              "buyer_state_code": None, "buyer_gstin": None, "buyer_mobile": None, "delivery_address": None,
              "delivery_state_code": None, "pos_overridden": True, "pos_override_reason": "billed to Chennai",
              "key": key()}
    # Supplied in Tamil Nadu, delivered nowhere: the printed ship-to would be the Karnataka showroom.
    with refused(conn, "invoice_ship_to_address"):
        posting._insert_invoice(conn, header, draft)
    # Delivered in Karnataka but supplied in Tamil Nadu.
    with refused(conn, "invoice_ship_to_state"):
        posting._insert_invoice(conn, {**header, "delivery_address": "22 Residency Road, Bengaluru",
                                       "delivery_state_code": "29", "key": key()}, draft)
    # Delivered in Tamil Nadu but billed within Karnataka, without an override.
    intra = posting.counter_sale(conn, branch, lines, D("2026-06-02"))
    with refused(conn, "invoice_place_of_supply"):
        posting._insert_invoice(conn, {**header, "delivery_address": TN_ADDRESS, "delivery_state_code": "33",
                                       "pos_overridden": False, "pos_override_reason": None, "key": key()}, intra)
    # An address without its state.
    with refused(conn, "invoice_delivery_state"):
        posting._insert_invoice(conn, {**header, "delivery_address": TN_ADDRESS, "key": key()}, draft)
    with refused(conn, "invoice_ship_to_address"):
        posting.post_counter_invoice(conn, branch, lines, on=D("2026-06-02"), key=key(), place_of_supply="33",
                                     override_reason="billed to Chennai")
    assert db_scalar(conn, "SELECT count(*) FROM billing.invoice") == 0
    assert db_scalar(conn, "SELECT count(*) FROM master.document_counter WHERE branch_id = :b AND series = 'INV'",
                     b=branch) == 0


def test_an_unregistered_buyer_at_fifty_thousand_without_an_address_is_refused_by_the_database(conn, till):
    branch, _ = till
    battery = b.part(conn, hsn_code="850760", purchase_price="30000.00")      # MRP 60,000: taxable 50,847.46
    b.receive(conn, branch, battery, 2, "30000.00")
    with refused(conn, "invoice_b2c_address"):
        posting.post_counter_invoice(conn, branch, [posting.CounterLine(battery, M(1))], on=D("2026-06-02"),
                                     key=key(), buyer_name="Walk-in Buyer")
    inv = posting.post_counter_invoice(conn, branch, [posting.CounterLine(battery, M(1))], on=D("2026-06-02"),
                                       key=key(), buyer_name="Walk-in Buyer",
                                       delivery_address="22 Residency Road, Bengaluru 560025", delivery_state="29")
    assert db_scalar(conn, "SELECT invoice_no FROM billing.invoice WHERE invoice_id = :i", i=inv) == "BLRINV/26/1"


def test_a_line_sells_a_part_or_labour_not_both(conn, till):
    branch, part = till
    conn.execute(sa.text("""INSERT INTO master.labour_operation (operation_code, name, standard_hours, rate)
                            VALUES ('FIT-ACC', 'Fitting an accessory', 0.5, 350)"""))
    inv = posting.post_counter_invoice(conn, branch, [posting.CounterLine(None, M(2), operation_code="FIT-ACC")],
                                       on=D("2026-06-02"), key=key())
    line = row(conn, "SELECT * FROM billing.invoice_line WHERE invoice_id = :i", i=inv)
    assert (line["taxable_value"], line["cgst"], line["sgst"], line["operation_code"]) == (
        M("700.00"), M("63.00"), M("63.00"), "FIT-ACC")
    with refused(conn, "invoice_line_one_kind_of_item"):
        conn.execute(sa.text("""INSERT INTO billing.invoice_line (invoice_id, line_no, description, hsn_code, qty,
                                    unit_price, price_includes_gst, taxable_value, gst_rate, cgst, sgst, igst, total,
                                    part_id, operation_code)
                                VALUES (:i, 2, 'Both at once', '998714', 1, 0, false, 0, 18, 0, 0, 0, 0, :p, 'FIT-ACC')"""),
                     {"i": inv, "p": part})


# ----------------------------------------------------------------------------- one computation, one parser


def test_a_purchase_carries_the_same_gst_as_a_sale_of_the_same_amount():
    from webapp.billing.tax import InvoiceLine, compute_invoice
    from webapp.procurement.services import add_up, line_gst

    # 5% of 100.10 = 5.005 -> 5.01, split 2.51 + 2.50 within the state.
    assert line_gst(M("100.10"), M("5"), True) == {"cgst": M("2.51"), "sgst": M("2.50"), "igst": M("0.00")}
    assert line_gst(M("100.10"), M("5"), False)["igst"] == M("5.01")
    sale = compute_invoice([InvoiceLine("Charger", "8504", M(1), M("100.10"), M(5))], intra_state=True)
    purchase = add_up([(M("100.10"), M("5"), "8504")], same_state=True)
    assert (purchase.cgst, purchase.sgst, purchase.tax) == (sale.cgst, sale.sgst, sale.tax) == (
        M("2.51"), M("2.50"), M("5.01"))
    assert purchase.total == sale.grand_total == M("105.00")


def test_postgresql_rounds_money_as_the_python_kernel_does(conn):
    values = ["2.505", "-2.505", "5.005", "0.125", "-0.125", "27.025", "104999.995", "1.0049999"]
    rounded = conn.execute(sa.text("SELECT round(CAST(v AS numeric), 2) FROM unnest(CAST(:v AS text[])) AS v"),
                           {"v": values}).scalars().all()
    assert rounded == [round_paisa(M(v)) for v in values]
    assert rounded[:2] == [M("2.51"), M("-2.51")]                   # half away from zero, both ways


@pytest.mark.parametrize(("typed", "value"), [
    ("1,23,456.50", M("123456.50")), ("123456.5", M("123456.5")), ("0.10", M("0.10")), ("123,456.50", M("123456.50")),
    ("₹ 50,000", M("50000")), ("₹1,25,000.50", M("125000.50")), ("Rs 500", M("500")), ("Rs. 1,000.5", M("1000.5")),
    ("  7 ", M("7")), ("", None), (None, None),
])
def test_an_amount_is_read_as_people_type_it(typed, value):
    assert parse_amount(typed) == value


@pytest.mark.parametrize("typed", ["1e5", "1E5", "NaN", "nan", "Infinity", "-Infinity", "sNaN", "1.234", "-5",
                                   "12,34", "1,2345", ",500", "1.", ".5", "5-", "₹", "1 000", "0x10", "١٢٣",
                                   "1234567890123"])
def test_what_is_not_an_amount_is_refused(typed):
    with pytest.raises(ValueError):
        parse_amount(typed)


def test_a_quantity_takes_three_decimals_and_no_exponent():
    assert parse_amount("2.125", places=3, currency=False) == M("2.125")
    for typed in ("1e2", "2.1255", "₹5"):
        with pytest.raises(ValueError):
            parse_amount(typed, places=3, currency=False)
    assert parse_amount("-1", places=3, negative=True, currency=False) == M(-1)


def test_every_money_form_uses_the_one_amount_field(app):
    """No form reads a number with WTForms' DecimalField or FloatField (they take '1e5'): amounts
    go through the one AmountField, quantities through QuantityField."""
    import importlib

    from flask_wtf import FlaskForm
    from wtforms import DecimalField, FloatField, Form
    from wtforms.fields.core import UnboundField

    from webapp.forms import AmountField

    found = []
    for module in ("billing.invoice_forms", "billing.money_forms", "insurance.forms", "inventory.forms",
                   "master.catalog_forms", "master.forms", "oem.forms", "procurement.forms", "sales.forms",
                   "sales.step_forms"):
        mod = importlib.import_module(f"webapp.{module}")
        for cls in vars(mod).values():
            if isinstance(cls, type) and issubclass(cls, Form):
                for klass in cls.__mro__:
                    for name, value in vars(klass).items():
                        if isinstance(value, UnboundField) and issubclass(value.field_class, (DecimalField, FloatField)):
                            found.append(f"{module}.{cls.__name__}.{name}")
    assert found == []

    class One(FlaskForm):
        class Meta:
            csrf = False
        amount = AmountField("Amount")

    with app.test_request_context(method="POST", data={"amount": "1e5"}):
        form = One()
        assert not form.validate() and form.amount.errors == ["Enter a number in figures, e.g. 1,25,000.50"]
        assert form.amount._value() == "1e5"                       # what was typed stays in the box


def test_a_receipt_of_1e5_is_refused_as_no_amount(engine, counter):
    mobile = scalar(engine, "SELECT mobile FROM master.customer WHERE customer_id = :c", c=counter.sale.customer_id)
    posted = counter.client.post("/billing/counter-sale", data=counter_form(
        counter.client, [("BRK-SHOE-02", "2")], paid_by="ON_ACCOUNT", mobile=mobile,
        customer_id=str(counter.sale.customer_id)))
    assert posted.status_code == 303, plain(posted)
    url = posted.headers["Location"] + "/receipt"
    page = text(counter.client.get(url))
    response = counter.client.post(url, data={"csrf_token": hidden(page, "csrf_token"), "key": hidden(page, "key"),
                                              "mode": "CASH", "received_from": "Customer", "amount": "1e5"})
    assert response.status_code == 422 and "Enter a number in figures" in plain(response)
    assert re.search(r'name="amount"[^>]*value="1e5"|value="1e5"[^>]*name="amount"', text(response))
    assert scalar(engine, "SELECT count(*) FROM billing.receipt") == 0
