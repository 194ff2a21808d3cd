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
    conn.execute(sa.text("INSERT INTO sales.pdi_check (booking_id, pdi_item_id, is_ok) "
                         "SELECT :b, pdi_item_id, true FROM sales.pdi_item"), {"b": b})
    services.deliver(conn, b, on=D("2026-06-03"), received_by_name="Customer", key=key())
    assert scalar(conn, "SELECT stage FROM sales.booking WHERE booking_id = :b", b=b) == "DELIVERED"
    assert scalar(conn, "SELECT status FROM inventory.vehicle_unit WHERE unit_id = :u", u=s.unit_id) == "DELIVERED"
