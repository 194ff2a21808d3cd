"""CRM rules in PostgreSQL (sql/0035_crm_leads.sql, sql/0036_crm_test_rides.sql, sql/functions/93_crm.sql):
a lost lead needs a reason from the list and a remark; a demo unit is out on one ride at a time; a unit
out on a ride is neither allotted nor taken out of DEMO; an expired driving licence is refused; the
lead follows its quotation and booking; its customer is recorded once; round-robin assignment."""
from __future__ import annotations

import uuid
from datetime import timedelta

import builders as b
import pytest
import sqlalchemy as sa

from webapp.formatting import today_ist
from webapp.sales import services


def lead(conn, s: b.Sale, *, status: str = "NEW", mobile: str = "9845011111", name: str = "Asha Rao") -> int:
    return b.scalar(conn, """
        INSERT INTO crm.lead (branch_id, lead_date, source, name, mobile, model_id, salesperson_id, status)
        SELECT :b, current_date, 'WALK_IN', :n, :m, model_id, :s, :st FROM oem.variant WHERE variant_id = :v
        RETURNING lead_id""", b=s.branch_id, n=name, m=mobile, s=s.sales_id, st=status, v=s.catalog.variant_id)


def demo_unit(conn, s: b.Sale) -> int:
    unit_id = b.unit(conn, s.catalog.variant_id, s.catalog.colours[0], s.branch_id)
    conn.execute(sa.text("UPDATE inventory.vehicle_unit SET status = 'DEMO' WHERE unit_id = :u"), {"u": unit_id})
    return unit_id


def ride(conn, lead_id: int, s: b.Sale, unit_id: int, *, valid_days: int = 365) -> int:
    b.act_as(conn, s.sales_id)
    return b.scalar(conn, """
        INSERT INTO crm.test_ride (lead_id, branch_id, unit_id, licence_no, licence_valid_until, odometer_out)
        VALUES (:l, :b, :u, 'KA0520190012345', :valid, 100) RETURNING test_ride_id""",
                    l=lead_id, b=s.branch_id, u=unit_id, valid=today_ist() + timedelta(days=valid_days))


@pytest.fixture
def shop(conn):
    return b.sale_setup(conn, price_from=str(today_ist() - timedelta(days=30)))


# ----------------------------------------------------------------------------- lost


def test_a_lost_lead_needs_a_reason_from_the_list_and_a_remark(conn, shop):
    lead_id = lead(conn, shop)
    lose = "UPDATE crm.lead SET status = 'LOST', lost_reason_code = :r, lost_remark = :m WHERE lead_id = :l"
    with b.refused(conn, "lead_lost_reason"):
        conn.execute(sa.text(lose), {"l": lead_id, "r": None, "m": "Bought a petrol scooter"})
    with b.refused(conn, "lead_lost_reason"):
        conn.execute(sa.text(lose), {"l": lead_id, "r": "PRICE", "m": None})
    with b.refused(conn, "lead_lost_reason_code_fkey"):
        conn.execute(sa.text(lose), {"l": lead_id, "r": "MOON_PHASE", "m": "Bad day"})
    with b.refused(conn, "lead_lost_reason"):   # an open lead carries no reason
        conn.execute(sa.text("UPDATE crm.lead SET lost_reason_code = 'PRICE', lost_remark = 'later' "
                             "WHERE lead_id = :l"), {"l": lead_id})
    conn.execute(sa.text(lose), {"l": lead_id, "r": "PRICE", "m": "₹8,000 more than the rival"})
    assert b.scalar(conn, "SELECT status FROM crm.lead WHERE lead_id = :l", l=lead_id) == "LOST"


def test_a_booked_lead_is_final_and_its_customer_is_recorded_once(conn, shop):
    lead_id = lead(conn, shop)
    conn.execute(sa.text("UPDATE crm.lead SET customer_id = :c WHERE lead_id = :l"), {"c": shop.customer_id, "l": lead_id})
    other = b.customer(conn, shop.branch_id, name="Someone Else")
    with b.refused(conn, "lead_customer_fixed"):
        conn.execute(sa.text("UPDATE crm.lead SET customer_id = :c WHERE lead_id = :l"), {"c": other, "l": lead_id})
    conn.execute(sa.text("UPDATE crm.lead SET status = 'BOOKED' WHERE lead_id = :l"), {"l": lead_id})
    with b.refused(conn, "lead_booked_final"):
        conn.execute(sa.text("UPDATE crm.lead SET status = 'CONTACTED' WHERE lead_id = :l"), {"l": lead_id})


def test_the_lead_follows_its_quotation_and_its_booking(conn, shop):
    lead_id = lead(conn, shop, status="CONTACTED", mobile="9845022222")
    b.act_as(conn, shop.sales_id)
    today = today_ist()
    quote = services.on_road_price(conn, shop.catalog.variant_id, shop.catalog.colours[0], today)
    services.save_quotation(conn, lead_id, shop.branch_id, quote, today + timedelta(days=15), key=str(uuid.uuid4()))
    assert b.scalar(conn, "SELECT status FROM crm.lead WHERE lead_id = :l", l=lead_id) == "NEGOTIATION"
    services.create_booking(conn, branch_id=shop.branch_id, customer_id=shop.customer_id, salesperson_id=shop.sales_id,
                            quote=quote, booked_on=today, key=str(uuid.uuid4()), lead_id=lead_id)
    after = b.row(conn, "SELECT status, customer_id FROM crm.lead WHERE lead_id = :l", l=lead_id)
    assert (after["status"], after["customer_id"]) == ("BOOKED", shop.customer_id)


# ----------------------------------------------------------------------------- test rides


def test_a_demo_unit_cannot_be_out_on_two_rides_at_once(conn, shop):
    unit_id = demo_unit(conn, shop)
    first = ride(conn, lead(conn, shop), shop, unit_id)
    second_lead = lead(conn, shop, mobile="9845033333", name="Bhavna Shah")
    with b.refused(conn, "test_ride_unit_out_once"):
        ride(conn, second_lead, shop, unit_id)
    conn.execute(sa.text("UPDATE crm.test_ride SET in_at = now(), odometer_in = 108 WHERE test_ride_id = :r"),
                 {"r": first})
    assert ride(conn, second_lead, shop, unit_id)   # back: the next customer may take it
    assert b.scalar(conn, "SELECT status FROM crm.lead WHERE lead_id = :l", l=second_lead) == "TEST_RIDE"


def test_only_a_demo_unit_of_the_branch_goes_on_a_ride(conn, shop):
    with b.refused(conn, "test_ride_demo_unit"):
        ride(conn, lead(conn, shop), shop, shop.unit_id)   # in stock, for sale


def test_an_expired_driving_licence_is_refused_and_one_valid_today_is_not(conn, shop):
    unit_id = demo_unit(conn, shop)
    lead_id = lead(conn, shop)
    with b.refused(conn, "test_ride_licence_valid"):
        ride(conn, lead_id, shop, unit_id, valid_days=-1)
    assert ride(conn, lead_id, shop, unit_id, valid_days=0)   # valid to the end of today


def test_a_unit_out_on_a_ride_is_not_allotted_nor_taken_out_of_demo(conn, shop):
    unit_id = demo_unit(conn, shop)
    ride_id = ride(conn, lead(conn, shop), shop, unit_id)
    booking_id = b.booking(conn, shop, on=str(today_ist()))
    with b.refused(conn, "allotment_unit_on_test_ride"):
        conn.execute(sa.text("INSERT INTO sales.allotment (booking_id, unit_id) VALUES (:b, :u)"),
                     {"b": booking_id, "u": unit_id})
    with b.refused(conn, "vehicle_unit_on_test_ride"):
        conn.execute(sa.text("UPDATE inventory.vehicle_unit SET status = 'IN_STOCK' WHERE unit_id = :u"), {"u": unit_id})
    conn.execute(sa.text("UPDATE crm.test_ride SET in_at = now(), odometer_in = 112 WHERE test_ride_id = :r"),
                 {"r": ride_id})
    conn.execute(sa.text("UPDATE inventory.vehicle_unit SET status = 'IN_STOCK' WHERE unit_id = :u"), {"u": unit_id})
    assert b.scalar(conn, "SELECT status FROM inventory.vehicle_unit WHERE unit_id = :u", u=unit_id) == "IN_STOCK"


def test_a_ride_comes_back_once_with_the_odometer_forward(conn, shop):
    ride_id = ride(conn, lead(conn, shop), shop, demo_unit(conn, shop))
    back = "UPDATE crm.test_ride SET in_at = now(), odometer_in = :km WHERE test_ride_id = :r"
    with b.refused(conn, "test_ride_odometer_forward"):
        conn.execute(sa.text(back), {"r": ride_id, "km": 99})
    conn.execute(sa.text(back), {"r": ride_id, "km": 104})
    with b.refused(conn, "test_ride_back_once"):
        conn.execute(sa.text(back), {"r": ride_id, "km": 110})
    with b.refused(conn, "test_ride_back_once"):
        conn.execute(sa.text("UPDATE crm.test_ride SET licence_no = 'KA0520190099999' WHERE test_ride_id = :r"),
                     {"r": ride_id})


def test_a_booked_or_lost_lead_takes_no_ride(conn, shop):
    unit_id = demo_unit(conn, shop)
    with b.refused(conn, "test_ride_open_lead"):
        ride(conn, lead(conn, shop, status="BOOKED"), shop, unit_id)


# ----------------------------------------------------------------------------- assignment


def test_round_robin_goes_through_the_branchs_active_salespeople_in_turn(conn, shop):
    second = b.staff(conn, shop.branch_id, "SALES")
    b.staff(conn, shop.branch_id, "SALES", active=False)
    b.staff(conn, shop.branch_id, "MANAGER")
    turns = [b.scalar(conn, "SELECT crm.next_salesperson(:b)", b=shop.branch_id) for _ in range(4)]
    assert turns == [second, shop.sales_id, second, shop.sales_id]
    assert b.scalar(conn, "SELECT crm.next_salesperson(:b)", b=b.branch(conn)) is None   # nobody to give it to


def test_an_oem_portal_lead_is_taken_in_once_per_branch(conn, shop):
    insert = """INSERT INTO crm.lead (branch_id, lead_date, source, name, mobile, salesperson_id, oem_lead_ref)
                VALUES (:b, current_date, 'OEM_PORTAL', 'Portal Lead', '9845044444', :s, 'ATH-1')"""
    conn.execute(sa.text(insert), {"b": shop.branch_id, "s": shop.sales_id})
    with b.refused(conn, "lead_oem_lead_ref_once"):
        conn.execute(sa.text(insert), {"b": shop.branch_id, "s": shop.sales_id})


# ----------------------------------------------------------------------------- the demo showroom


def test_seed_demo_has_leads_in_every_state_follow_ups_due_and_a_demo_scooter(conn, app):
    from seed.demo import seed_demo

    with app.app_context():
        seed_demo(conn, lambda: "2580")
    statuses = set(conn.execute(sa.text("SELECT status FROM crm.lead")).scalars())
    assert statuses == {"NEW", "CONTACTED", "TEST_RIDE", "NEGOTIATION", "BOOKED", "LOST"}
    due = b.row(conn, """SELECT count(*) FILTER (WHERE follow_up_on = :today) AS today,
                                count(*) FILTER (WHERE follow_up_on < :today) AS overdue
                           FROM crm.lead l JOIN master.staff s ON s.staff_id = l.salesperson_id
                          WHERE s.staff_code = 'S01'""", today=today_ist())
    assert due["today"] >= 1 and due["overdue"] >= 1
    demo = b.scalar(conn, "SELECT count(*) FROM inventory.vehicle_unit WHERE status = 'DEMO'")
    rides = b.scalar(conn, "SELECT count(*) FROM crm.test_ride WHERE in_at IS NOT NULL")
    assert (demo, rides) == (1, 1)
