"""Sales and billing rules held by PostgreSQL (sql/0006, 0007, 0008): booking stages, the
allotment race, discount approval, invoice posting and numbering, immutability, receipts
and refunds, credit notes, delivery."""
from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests import builders as bld
from tests.builders import refused, row, scalar
from webapp.billing import posting
from webapp.sales import services

D = date.fromisoformat


def key() -> str:
    return str(uuid.uuid4())


def test_a_sale_from_booking_to_delivery(conn):
    s = bld.sale_setup(conn, subsidy_rule="FIXED", subsidy_amount="5000.00")
    b = bld.booking(conn, s, amounts={"INSURANCE": Decimal("6500.00"), "ACCESSORIES": Decimal("2360.00")})
    bk = row(conn, "SELECT * FROM sales.booking WHERE booking_id = :b", b=b)
    assert bk["stage"] == "BOOKED" and bk["booking_no"].endswith("/26/1") and "BKG" in bk["booking_no"]
    assert posting.booking_balance(conn, b)["due"] == Decimal("165860.00")
    posting.post_receipt(conn, on=D("2026-06-01"), mode="UPI", amount=Decimal("10000"), key=key(),
                         received_from="Customer", booking_id=b, reference="UTR123456")
    assert scalar(conn, "SELECT is_advance FROM billing.receipt WHERE booking_id = :b", b=b) is True
    services.allot(conn, b, s.unit_id)
    assert scalar(conn, "SELECT status FROM inventory.vehicle_unit WHERE unit_id = :u", u=s.unit_id) == "ALLOTTED"
    bld.act_as(conn, s.manager_id)
    inv_id = posting.post_vehicle_invoice(conn, b, on=D("2026-06-02"), key=key())
    inv = row(conn, "SELECT * FROM billing.invoice WHERE invoice_id = :i", i=inv_id)
    # 1,57,000 at 5% within the state worked back; accessories 2,360 at 18%.
    assert inv["taxable_value"] == Decimal("149523.81") + Decimal("2000.00")
    assert (inv["cgst"], inv["sgst"], inv["igst"]) == (Decimal("3738.10") + Decimal("180.00"),
                                                      Decimal("3738.09") + Decimal("180.00"), Decimal("0.00"))
    assert inv["grand_total"] == Decimal("159360.00") and inv["round_off"] == Decimal("0.00")
    assert scalar(conn, "SELECT status FROM inventory.vehicle_unit WHERE unit_id = :u", u=s.unit_id) == "INVOICED"
    assert posting.booking_balance(conn, b)["balance"] == Decimal("155860.00")
    posting.post_receipt(conn, on=D("2026-06-02"), mode="SUBSIDY", amount=Decimal("5000"), key=key(),
                         received_from="PM E-DRIVE", booking_id=b, reference="EV-VOUCHER-1")
    with refused(conn, "receipt_not_over_due"):
        posting.post_receipt(conn, on=D("2026-06-02"), mode="BANK_TRANSFER", amount=Decimal("150861"), key=key(),
                             received_from="Customer", booking_id=b, reference="NEFT0001")
    posting.post_receipt(conn, on=D("2026-06-02"), mode="BANK_TRANSFER", amount=Decimal("150860"), key=key(),
                         received_from="Customer", booking_id=b, reference="NEFT0001")
    assert posting.booking_balance(conn, b)["balance"] == 0
    with refused(conn, "delivery_needs_pdi"):
        services.deliver(conn, b, on=D("2026-06-03"), received_by_name="Customer", key=key())
    bld.ready_for_handover(conn, b)
    services.deliver(conn, b, on=D("2026-06-03"), received_by_name="Customer", key=key())
    assert scalar(conn, "SELECT stage FROM sales.booking WHERE booking_id = :b", b=b) == "DELIVERED"
    assert scalar(conn, "SELECT status FROM inventory.vehicle_unit WHERE unit_id = :u", u=s.unit_id) == "DELIVERED"


def test_a_de_allotted_scooter_goes_back_to_stock_and_can_be_allotted_to_another_booking(conn):
    s = bld.sale_setup(conn)
    first, second = bld.booking(conn, s), bld.booking(conn, s)
    services.allot(conn, first, s.unit_id)
    with refused(conn, "allotment_unit_in_stock"):
        services.allot(conn, second, s.unit_id)
    assert services.deallot(conn, first, "customer wants the blue one") is True
    assert scalar(conn, "SELECT status FROM inventory.vehicle_unit WHERE unit_id = :u", u=s.unit_id) == "IN_STOCK"
    assert scalar(conn, "SELECT stage FROM sales.booking WHERE booking_id = :b", b=first) == "BOOKED"
    released = row(conn, "SELECT released_at, release_reason FROM sales.allotment WHERE booking_id = :b", b=first)
    assert released["released_at"] is not None and released["release_reason"] == "customer wants the blue one"
    services.allot(conn, second, s.unit_id)
    assert scalar(conn, "SELECT stage FROM sales.booking WHERE booking_id = :b", b=second) == "ALLOTTED"
    with pytest.raises(posting.Refused):
        services.deallot(conn, first, "nothing to give back")


def test_only_a_unit_of_the_booked_variant_and_colour_at_the_branch_is_allotted(conn):
    s = bld.sale_setup(conn)
    bld.colour(conn, s.catalog.variant_id, "Blue")
    blue = bld.unit(conn, s.catalog.variant_id, "Blue", s.branch_id)
    elsewhere = bld.unit(conn, s.catalog.variant_id, "Red", bld.branch(conn))
    bk = bld.booking(conn, s)
    for unit_id in (blue, elsewhere):
        with refused(conn, "allotment_unit_matches"):
            services.allot(conn, bk, unit_id)
    services.allot(conn, bk, s.unit_id)
    other_red = bld.unit(conn, s.catalog.variant_id, "Red", s.branch_id)
    with refused(conn, "allotment_booking_waiting"):     # a booking holds one unit at a time
        services.allot(conn, bk, other_red)


def test_the_oldest_scooter_in_stock_is_suggested_first(conn):
    s = bld.sale_setup(conn)
    older = bld.unit(conn, s.catalog.variant_id, "Red", s.branch_id, received_on="2025-07-01")
    newer = bld.unit(conn, s.catalog.variant_id, "Red", s.branch_id, received_on="2025-10-01")
    bk = bld.booking(conn, s)
    assert [u["unit_id"] for u in services.suggested_units(conn, bk)] == [older, s.unit_id, newer]


def test_a_booking_moves_only_along_its_stages(conn):
    s = bld.sale_setup(conn)
    bk = bld.booking(conn, s)
    with refused(conn, "booking_stage_transition"):
        conn.execute(sa.text("UPDATE sales.booking SET stage = 'DELIVERED' WHERE booking_id = :b"), {"b": bk})
    with refused(conn, sqlstate="23001"):
        conn.execute(sa.text("DELETE FROM sales.booking WHERE booking_id = :b"), {"b": bk})
    b_inv, _ = bld.invoiced_booking(conn, bld.sale_setup(conn))
    with refused(conn, "booking_terms_fixed"):
        conn.execute(sa.text("UPDATE sales.booking SET ex_showroom = ex_showroom - 1 WHERE booking_id = :b"),
                     {"b": b_inv})


def test_exchange_valuation_loan_and_subsidy_never_drop_below_what_was_received_against_them(conn):
    s = bld.sale_setup(conn, subsidy_rule="FIXED", subsidy_amount="5000.00")
    b = bld.booking(conn, s)
    conn.execute(sa.text("INSERT INTO sales.exchange (booking_id, make_model, valuation, purchased_on) "
                         "VALUES (:b, 'Honda Activa 2018', 20000, '2026-06-01')"), {"b": b})
    posting.post_receipt(conn, on=D("2026-06-01"), mode="EXCHANGE", amount=Decimal("20000"), key=key(),
                         received_from="Customer", booking_id=b)
    posting.post_receipt(conn, on=D("2026-06-01"), mode="SUBSIDY", amount=Decimal("5000"), key=key(),
                         received_from="PM E-DRIVE", booking_id=b, reference="EVV-0001")
    with refused(conn, "receipt_mode_cap"):
        conn.execute(sa.text("UPDATE sales.exchange SET valuation = 15000 WHERE booking_id = :b"), {"b": b})
    with refused(conn, "receipt_mode_cap"):
        conn.execute(sa.text("DELETE FROM sales.exchange WHERE booking_id = :b"), {"b": b})
    with refused(conn, "receipt_mode_cap"):
        conn.execute(sa.text("UPDATE sales.booking SET subsidy_eligible = 4000 WHERE booking_id = :b"), {"b": b})
    conn.execute(sa.text("UPDATE sales.exchange SET valuation = 25000 WHERE booking_id = :b"), {"b": b})


def test_the_subsidy_credited_at_sale_gives_the_claim_register_its_e_voucher_id(conn):
    s = bld.sale_setup(conn, subsidy_rule="FIXED", subsidy_amount="5000.00")
    b = bld.booking(conn, s)
    assert scalar(conn, "SELECT voucher_id FROM sales.subsidy_claim WHERE booking_id = :b", b=b) is None
    posting.post_receipt(conn, on=D("2026-06-01"), mode="SUBSIDY", amount=Decimal("5000"), key=key(),
                         received_from="PM E-DRIVE", booking_id=b, reference="EDRV-2026-778812")
    assert scalar(conn, "SELECT voucher_id FROM sales.subsidy_claim WHERE booking_id = :b", b=b) == "EDRV-2026-778812"


@pytest.mark.parametrize("typed", ["ravi", "RAVI", "kumar", "k", "i", "emile", "98450", "+91 98450", "a_b", "50%",
                                   "é", "Émile", "सु", "ı"])
def test_a_name_search_finds_exactly_what_ilike_finds(conn, typed):
    """webapp.db.name_contains (LIKE for what has no letter, an ASCII fast path for ASCII names)
    finds the same names as `name ILIKE '%typed%'`, accents, signs and other scripts included."""
    from webapp.db import contains_pattern, name_contains

    names = ["Ravi Kumar", "RAVI KUMAR", "Arjun Ravindran", "Émile Zola", "émile", "KELVIN \u212a", "İrfan Khan",
             "Irfan", "सुरेश", "a_b Traders", "a-b", "50% Motors", "9845012345 (old)", "Ram"]
    sql, extra = name_contains("n.name", typed, "p")
    found = conn.execute(sa.text(
        f"""SELECT array_agg(n.name ORDER BY n.name) FILTER (WHERE {sql}),
                   array_agg(n.name ORDER BY n.name) FILTER (WHERE n.name ILIKE :p)
              FROM unnest(CAST(:names AS text[])) AS n(name)"""),
        {"names": names, "p": contains_pattern(typed), **extra}).one()
    assert found[0] == found[1]
