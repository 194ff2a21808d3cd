"""The home screen at a glance: each module's panel counts what its list counts, shows money only to
those who may see it, and each figure links to the list behind it; the column chart's geometry."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import builders as b
import sqlalchemy as sa
from conftest import login

from webapp.charts import COL_H, COL_TOP, column_chart
from webapp.formatting import inr, today_ist


def _shop(engine):
    today = today_ist()
    with engine.begin() as conn:
        s = b.sale_setup(conn, units=2, price_from="2026-05-01")
        conn.execute(sa.text("UPDATE inventory.vehicle_unit SET purchase_cost = 120000 WHERE unit_id = :u"),
                     {"u": s.unit_id})
        _, invoice_id = b.invoiced_booking(conn, s, on=str(today))   # booked on 01-06-2026, invoiced today
        waiting = b.booking(conn, s, on=str(today))
        conn.execute(sa.text("UPDATE sales.booking SET expected_delivery = :d WHERE booking_id = :b"),
                     {"d": today - timedelta(days=1), "b": waiting})
        taxable = b.scalar(conn, "SELECT taxable_value FROM billing.invoice WHERE invoice_id = :i", i=invoice_id)
        payable = b.scalar(conn, "SELECT amount_payable FROM billing.invoice WHERE invoice_id = :i", i=invoice_id)
    return s, taxable, payable


def _home(client, make_staff, s, code: str, role: str) -> str:
    _, code, pin = make_staff(code, role, branch_id=s.branch_id)
    assert login(client, code, pin).status_code == 303
    return client.get("/").get_data(as_text=True)


def test_the_manager_sees_sales_money_workshop_and_stock_with_links(engine, client, make_staff):
    s, taxable, payable = _shop(engine)
    html = _home(client, make_staff, s, "GLM1", "MANAGER")
    sales = html[html.index('id="glance-sales"'):]
    # one booking today; it and the one invoiced today wait for delivery, one past its promised date
    assert "<strong>1</strong><small>booked today</small>" in sales
    assert "<strong>2</strong><small>waiting for delivery</small>" in sales
    assert '<strong>1</strong><small>past the promised date</small>' in sales
    money = html[html.index('id="glance-billing"'):]
    assert f"<strong>{inr(payable)}</strong><small>1 invoiced today</small>" in money
    assert inr(taxable - Decimal("120000")) in money          # margin per vehicle this month
    assert "/billing/registers/receivables?bucket=90%2B" in money
    assert 'id="glance-workshop"' in html and 'id="glance-stock"' in html
    books = html[html.index('id="glance-finance"'):]
    assert "<small>Cash</small>" in books and "the OEM owes us" in books
    stock = html[html.index('id="glance-stock"'):]
    # the second unit is still in stock, without a landed cost: counted, not valued, and said so
    assert "1 vehicle in stock and on demo" in stock and "1 unit without a landed cost not valued" in stock


def test_a_salesperson_sees_their_own_sales_and_no_books(engine, client, make_staff):
    s, _, _ = _shop(engine)
    html = _home(client, make_staff, s, "GLS1", "SALES")
    assert "My sales" in html and "<strong>0</strong><small>booked today</small>" in html  # none booked by them
    assert 'id="glance-billing"' not in html and 'id="glance-workshop"' not in html
    assert 'id="glance-finance"' not in html and "Vehicles delivered by model" not in html


def test_a_technician_sees_the_workshop_without_prices(engine, client, make_staff):
    s, _, _ = _shop(engine)
    html = _home(client, make_staff, s, "GLT1", "TECHNICIAN")
    assert 'id="glance-workshop"' in html and "service revenue" not in html.lower()
    assert 'id="glance-sales"' not in html and 'id="glance-billing"' not in html and 'id="glance-stock"' not in html


def test_columns_stack_against_the_tallest_and_leave_out_what_is_below_zero():
    c = column_chart(["Jan", "Feb", "Mar"], [("A", [Decimal(10), Decimal(0), Decimal(-5)]),
                                              ("B", [Decimal(30), Decimal(20), Decimal(0)])], ["40", "20", "-5"])
    jan, feb, mar = c["cols"]
    assert [p["h"] for p in jan["parts"]] == [COL_H / 4, COL_H * 3 / 4]       # 10 and 30 of 40
    assert jan["parts"][-1]["y"] == COL_TOP                                    # the tallest reaches the top
    assert [p["h"] for p in feb["parts"]] == [COL_H / 2]
    assert mar["parts"] == [] and mar["shown"] == "-5"
    assert [s["name"] for s in c["legend"]] == ["A", "B"]
