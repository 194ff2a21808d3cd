"""An extended warranty plan sold here is an invoice line that names the plan and the VIN: posting it
records the plan sale (sql/0032_plan_invoice_line.sql, warranty.sell_plan_on_invoice), GST under the
plan's SAC at the dated rate with the place of supply's heads; a credit note of the invoice ends the
cover; a plan sale without an invoice line is one bought from another dealer, with its invoice."""
from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import builders as b
import service_builders as sb
import sqlalchemy as sa
from builders import refused, row, scalar

from webapp.billing import api as billing_api
from webapp.billing import posting


def plan(conn, oem_id: int, *, name: str = "Care Plus", vehicle_years: int = 2, price: str = "4999.00",
         within: int = 12, model_id: int | None = None) -> int:
    plan_id = scalar(conn, """
        INSERT INTO warranty.plan (oem_id, name, vehicle_extra_years, price, buy_within_months, valid_from)
        VALUES (:o, :n, :y, :p, :w, '2026-01-01') RETURNING plan_id""", o=oem_id, n=name, y=vehicle_years, p=price,
                     w=within)
    if model_id is not None:
        conn.execute(sa.text("INSERT INTO warranty.plan_model (plan_id, model_id) VALUES (:p, :m)"),
                     {"p": plan_id, "m": model_id})
    return plan_id


def delivered(conn):
    """A scooter delivered on 02-06-2026 at a Karnataka branch to a Karnataka customer: (sale, vin)."""
    s, _ = sb.delivered_unit(conn)
    return s, scalar(conn, "SELECT vin FROM inventory.vehicle_unit WHERE unit_id = :u", u=s.unit_id)


def cover_end(conn, s, vin: str):
    c = row(conn, """SELECT (c).ends_on, (c).plan_sale_id FROM (
                        SELECT warranty.vehicle_coverage(:vin, :v, '2026-06-02', '2026-07-01', 100) AS c) x""",
            vin=vin, v=s.catalog.variant_id)
    return c.ends_on, c.plan_sale_id


def sell(conn, s, plan_id: int, vin: str, on: date = date(2026, 7, 1), **kw) -> int:
    return billing_api.post_plan_invoice(conn, s.branch_id, plan_id=plan_id, vin=vin, customer_id=s.customer_id,
                                         on=on, key=str(uuid.uuid4()), paid_by=kw.pop("paid_by", "ON_ACCOUNT"), **kw)


def test_a_plan_sold_on_a_counter_invoice_is_recorded_by_its_line_and_lengthens_the_cover(conn):
    s, vin = delivered(conn)
    plan_id = plan(conn, s.catalog.oem_id)
    own_end, none = cover_end(conn, s, vin)
    assert none is None
    invoice_id = sell(conn, s, plan_id, vin, paid_by="CASH")
    line = row(conn, "SELECT * FROM billing.invoice_line WHERE invoice_id = :i", i=invoice_id)
    assert (line.hsn_code, line.gst_rate, line.taxable_value, line.cgst, line.sgst, line.igst, line.plan_id,
            line.plan_vin) == ("998714", Decimal("18.00"), Decimal("4999.00"), Decimal("449.91"), Decimal("449.91"),
                               Decimal("0.00"), plan_id, vin)
    sale = row(conn, "SELECT * FROM warranty.plan_sale WHERE invoice_id = :i", i=invoice_id)
    assert (sale.plan_id, sale.vin, sale.invoice_line_no, sale.price, sale.sold_on, sale.vehicle_sold_on,
            sale.customer_id, sale.invoice_ref) == (plan_id, vin, 1, Decimal("4999.00"), date(2026, 7, 1),
                                                    date(2026, 6, 2), s.customer_id, None)
    end, by = cover_end(conn, s, vin)
    assert by == sale.plan_sale_id and end == own_end.replace(year=own_end.year + 2)
    # Paid at the counter: its receipt clears it.
    assert scalar(conn, "SELECT sum(amount) FROM billing.receipt WHERE invoice_id = :i", i=invoice_id) == Decimal("5899.00")
    with refused(conn, "plan_sale_fixed"):
        conn.execute(sa.text("UPDATE warranty.plan_sale SET price = 1 WHERE plan_sale_id = :p"), {"p": sale.plan_sale_id})
    with refused(conn, sqlstate="23001"):   # sold on an invoice line: as permanent as the line
        conn.execute(sa.text("DELETE FROM warranty.plan_sale WHERE plan_sale_id = :p"), {"p": sale.plan_sale_id})


def test_a_plan_delivered_to_another_state_carries_igst(conn):
    s, vin = delivered(conn)
    plan_id = plan(conn, s.catalog.oem_id)
    invoice_id = posting.post_counter_invoice(
        conn, s.branch_id, [posting.CounterLine(None, Decimal(1), plan_id=plan_id, plan_vin=vin)], on=date(2026, 7, 1),
        key=str(uuid.uuid4()), customer_id=s.customer_id, delivery_address="4 Marine Drive, Mumbai 400002",
        delivery_state="27")
    line = row(conn, "SELECT cgst, sgst, igst FROM billing.invoice_line WHERE invoice_id = :i", i=invoice_id)
    assert tuple(line.values()) == (Decimal("0.00"), Decimal("0.00"), Decimal("899.82"))
    assert scalar(conn, "SELECT count(*) FROM warranty.plan_sale WHERE invoice_id = :i", i=invoice_id) == 1


def test_a_credit_note_ends_the_cover_and_the_plan_may_be_sold_again(conn):
    s, vin = delivered(conn)
    plan_id = plan(conn, s.catalog.oem_id)
    own_end, _ = cover_end(conn, s, vin)
    invoice_id = sell(conn, s, plan_id, vin)
    b.act_as(conn, s.manager_id)
    note_id = posting.post_credit_note(conn, invoice_id, on=date(2026, 7, 3), reason="Customer changed their mind",
                                       key=str(uuid.uuid4()))
    sale = row(conn, "SELECT * FROM warranty.plan_sale WHERE invoice_id = :i", i=invoice_id)
    assert (sale.credit_note_id, sale.ended_on) == (note_id, date(2026, 7, 3))
    assert cover_end(conn, s, vin) == (own_end, None)
    again = sell(conn, s, plan_id, vin, on=date(2026, 7, 4))
    assert cover_end(conn, s, vin)[1] == scalar(conn, "SELECT plan_sale_id FROM warranty.plan_sale WHERE invoice_id = :i",
                                                i=again)
    with refused(conn, "plan_sale_part_taken"):   # one plan in force per VIN and cover
        conn.execute(sa.text("""
            INSERT INTO warranty.plan_sale (branch_id, plan_id, vin, model_id, vehicle_sold_on, sold_on, customer_id,
                                            price, invoice_ref)
            VALUES (:b, :p, :v, :m, '2026-06-02', '2026-07-05', :c, 10, 'OTHER/1')"""),
            {"b": s.branch_id, "p": plan_id, "v": vin, "m": s.catalog.model_id, "c": s.customer_id})


def test_an_invoice_line_sells_a_plan_only_as_the_plan_allows(conn):
    s, vin = delivered(conn)
    plan_id = plan(conn, s.catalog.oem_id)
    with refused(conn, "invoice_line_plan_customer"):   # a cash sale has no customer on record
        posting.post_counter_invoice(conn, s.branch_id, [posting.CounterLine(None, Decimal(1), plan_id=plan_id,
                                                                             plan_vin=vin)],
                                     on=date(2026, 7, 1), key=str(uuid.uuid4()))
    with refused(conn, "invoice_line_plan_vehicle"):
        sell(conn, s, plan_id, b.new_vin())
    with refused(conn, "plan_sale_window"):             # 12 months from the delivery on 02-06-2026
        sell(conn, s, plan_id, vin, on=date(2027, 6, 2))
    other_model = b.model(conn, s.catalog.oem_id)
    with refused(conn, "plan_sale_model"):
        sell(conn, s, plan(conn, s.catalog.oem_id, name="Other model's", model_id=other_model), vin)
    later = plan(conn, s.catalog.oem_id, name="From August")
    conn.execute(sa.text("UPDATE warranty.plan SET valid_from = '2026-08-01' WHERE plan_id = :p"), {"p": later})
    with refused(conn, "plan_sale_plan_in_force"):      # before the plan's first day
        sell(conn, s, later, vin)
    with refused(conn, "invoice_line_plan_names_vin"):
        conn.execute(sa.text("""
            INSERT INTO billing.invoice_line (invoice_id, line_no, description, hsn_code, qty, unit_price,
                                              price_includes_gst, taxable_value, gst_rate, cgst, sgst, igst, total,
                                              plan_id)
            SELECT invoice_id, 9, 'x plan', '998714', 1, 0, false, 0, 18, 0, 0, 0, 0, :p
              FROM billing.invoice LIMIT 1"""), {"p": plan_id})


def test_a_plan_sale_without_an_invoice_line_is_one_bought_elsewhere(conn):
    s, vin = delivered(conn)
    plan_id = plan(conn, s.catalog.oem_id)
    insert = """INSERT INTO warranty.plan_sale (branch_id, plan_id, vin, model_id, vehicle_sold_on, sold_on, customer_id,
                                                price, invoice_ref, invoice_id, invoice_line_no)
                VALUES (:b, :p, :v, :m, '2026-06-02', '2026-07-01', :c, 4999, :ref, :inv, :line)"""
    args = {"b": s.branch_id, "p": plan_id, "v": vin, "m": s.catalog.model_id, "c": s.customer_id}
    with refused(conn, "plan_sale_invoiced_or_elsewhere"):
        conn.execute(sa.text(insert), {**args, "ref": None, "inv": None, "line": None})
    vehicle_invoice = scalar(conn, "SELECT invoice_id FROM billing.invoice WHERE unit_id = :u", u=s.unit_id)
    with refused(conn, "plan_sale_invoice_line"):       # the vehicle's own line sells no plan
        conn.execute(sa.text(insert), {**args, "ref": None, "inv": vehicle_invoice, "line": 1})
    conn.execute(sa.text(insert), {**args, "ref": "DLR/INV/991", "inv": None, "line": None})
    assert cover_end(conn, s, vin)[1] is not None


def test_a_plan_named_by_the_bookings_charge_is_sold_on_the_vehicle_invoice(conn):
    s = b.sale_setup(conn)
    plan_id = plan(conn, s.catalog.oem_id)
    booking_id = b.booking(conn, s)
    conn.execute(sa.text("""
        INSERT INTO sales.booking_item (booking_id, line_no, item_code, description, amount, hsn_code, plan_id)
        VALUES (:b, 40, 'EXT_WARRANTY', 'Extended warranty Care Plus', 5899, '998714', :p)"""),
        {"b": booking_id, "p": plan_id})
    from webapp.sales import services
    services.allot(conn, booking_id, s.unit_id)
    b.act_as(conn, s.manager_id)
    invoice_id = posting.post_vehicle_invoice(conn, booking_id, on=date(2026, 6, 2), key=str(uuid.uuid4()))
    vin = scalar(conn, "SELECT vin FROM inventory.vehicle_unit WHERE unit_id = :u", u=s.unit_id)
    sale = row(conn, "SELECT * FROM warranty.plan_sale WHERE invoice_id = :i", i=invoice_id)
    assert (sale.vin, sale.vehicle_sold_on, sale.sold_on, sale.price) == (vin, date(2026, 6, 2), date(2026, 6, 2),
                                                                          Decimal("4999.15"))
    line = row(conn, "SELECT hsn_code, plan_vin FROM billing.invoice_line WHERE invoice_id = :i AND line_no = :n",
               i=invoice_id, n=sale.invoice_line_no)
    assert tuple(line.values()) == ("998714", vin)


def ext_warranty_charge(conn, booking_id: int, *, hsn: str = "998714") -> None:
    conn.execute(sa.text("""
        INSERT INTO sales.booking_item (booking_id, line_no, item_code, description, amount, hsn_code)
        VALUES (:b, 40, 'EXT_WARRANTY', 'Extended warranty', 5899, :h)"""), {"b": booking_id, "h": hsn})


def test_the_bookings_charge_names_a_plan_of_its_sac_for_the_booked_model_until_the_invoice(conn):
    s = b.sale_setup(conn)
    booking_id = b.booking(conn, s)
    ext_warranty_charge(conn, booking_id)
    name = "UPDATE sales.booking_item SET plan_id = :p WHERE booking_id = :b AND line_no = :n"
    other_oem = plan(conn, b.oem(conn), name="Another OEM's")
    with refused(conn, "booking_item_plan_model"):
        conn.execute(sa.text(name), {"p": other_oem, "b": booking_id, "n": 40})
    rto = scalar(conn, "SELECT line_no FROM sales.booking_item WHERE booking_id = :b AND item_code <> 'EXT_WARRANTY' "
                       "LIMIT 1", b=booking_id)
    plan_id = plan(conn, s.catalog.oem_id)
    if rto is not None:
        with refused(conn, "booking_item_plan_charge"):   # another charge sells no plan
            conn.execute(sa.text(name), {"p": plan_id, "b": booking_id, "n": rto})
    conn.execute(sa.text(name), {"p": plan_id, "b": booking_id, "n": 40})
    from webapp.sales import services
    services.allot(conn, booking_id, s.unit_id)
    b.act_as(conn, s.manager_id)
    invoice_id = posting.post_vehicle_invoice(conn, booking_id, on=date(2026, 6, 2), key=str(uuid.uuid4()))
    assert scalar(conn, "SELECT plan_id FROM warranty.plan_sale WHERE invoice_id = :i", i=invoice_id) == plan_id
    with refused(conn, "booking_terms_fixed"):          # sales' own rule: the charges are fixed by the invoice
        conn.execute(sa.text(name), {"p": None, "b": booking_id, "n": 40})


def test_the_seller_names_the_plan_on_the_sale_page_and_accounts_only_reads_it(app, engine, make_staff):
    from test_warranty_claims_screens import words
    from test_warranty_screens import as_staff
    with engine.begin() as conn:
        s = b.sale_setup(conn)
        booking_id = b.booking(conn, s)
        ext_warranty_charge(conn, booking_id)
        plan_id = plan(conn, s.catalog.oem_id)
    page = f"/sales/bookings/{booking_id}"
    seller = as_staff(app, make_staff, s.branch_id, "MANAGER", "MG9")
    body = seller.get(page).get_data(as_text=True)
    assert "Extended warranty" in body and "Care Plus · ₹4,999.00 + GST" in body
    from conftest import csrf_from
    saved = seller.post(f"/warranty/bookings/{booking_id}/plan",
                        data={"csrf_token": csrf_from(body), "line_no": "40", "plan_id": str(plan_id)})
    assert saved.status_code == 303
    assert "The invoice will sell the plan" in words(seller.get(page))
    junk = seller.post(f"/warranty/bookings/{booking_id}/plan",
                       data={"csrf_token": csrf_from(body), "line_no": "40", "plan_id": "abc"}, follow_redirects=True)
    assert "Choose the plan from the list" in words(junk)
    with engine.connect() as conn:
        assert scalar(conn, "SELECT plan_id FROM sales.booking_item WHERE booking_id = :b AND line_no = 40",
                      b=booking_id) == plan_id
    accounts = as_staff(app, make_staff, s.branch_id, "ACCOUNTS", "AC9")
    read = words(accounts.get(page))
    assert "Plan: Care Plus" in read and "Save the plan" not in read
    assert accounts.post(f"/warranty/bookings/{booking_id}/plan",
                         data={"csrf_token": csrf_from(body), "line_no": "40", "plan_id": ""}).status_code == 403
