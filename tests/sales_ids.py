"""A lead (crm.lead) with its quotation, bookings at every stage and the documents they carry, so each
sales, billing and insurance route of the access matrix opens a real record (an id that does
not exist would only ever show the 404 page)."""
from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import builders as b
import sqlalchemy as sa

from webapp.billing import posting
from webapp.formatting import today_ist
from webapp.sales import services


def _key() -> str:
    return str(uuid.uuid4())


def sales_ids(engine, branch_id: int) -> dict:
    """Committed rows; the app fixture empties the tables after the test. Returns the route args.

    booking_id is BOOKED and belongs to a salesperson who is not the matrix's SALES user (who
    therefore gets the 404 there, as a salesperson sees only their own bookings). invoice_id is
    the posted invoice of a second booking, which also carries the receipt, the delivery and the
    policy; credit_note_id cancels a third booking's invoice; refund_id comes from a fourth
    booking, cancelled after an advance.
    """
    today = today_ist()
    with engine.begin() as conn:
        oem_id = b.oem(conn, brand="Matrix Volt")
        variant_id = b.variant(conn, b.model(conn, oem_id, name="Matrix Scooter"), name="Pro")
        b.colour(conn, variant_id, "Red")
        b.price(conn, variant_id, str(today - timedelta(days=30)), ex_showroom="125000.00")
        salesperson = b.staff(conn, branch_id, "SALES")
        manager = b.staff(conn, branch_id, "MANAGER")
        customer_id = b.customer(conn, branch_id, name="Matrix Buyer")
        b.act_as(conn, salesperson)
        quote = services.on_road_price(conn, variant_id, "Red", today)

        lead_id = conn.execute(sa.text("""
            INSERT INTO crm.lead (branch_id, lead_date, source, name, mobile, model_id, salesperson_id)
            SELECT :b, :d, 'WALK_IN', 'Matrix Walk-in', '9880054321', model_id, :s FROM oem.variant
             WHERE variant_id = :v RETURNING lead_id"""),
            {"b": branch_id, "d": today, "s": salesperson, "v": variant_id}).scalar_one()
        quotation_id = services.save_quotation(conn, lead_id, branch_id, quote, today + timedelta(days=15),
                                                key=str(uuid.uuid4()))

        def new_booking() -> int:
            b.act_as(conn, salesperson)
            return services.create_booking(conn, branch_id=branch_id, customer_id=customer_id,
                                           salesperson_id=salesperson, quote=quote, booked_on=today, key=_key())

        def invoiced() -> tuple[int, int]:
            booking_id = new_booking()
            services.allot(conn, booking_id, b.unit(conn, variant_id, "Red", branch_id, received_on=str(today)))
            b.act_as(conn, manager)
            return booking_id, posting.post_vehicle_invoice(conn, booking_id, on=today, key=_key())

        booked = new_booking()
        sold, invoice_id = invoiced()
        receipt_id = posting.post_receipt(conn, on=today, mode="UPI", amount=Decimal(25000), key=_key(),
                                          received_from="Matrix Buyer", booking_id=sold, reference="UTR0000001")
        unit_id = conn.execute(sa.text("SELECT unit_id FROM billing.invoice WHERE invoice_id = :i"),
                               {"i": invoice_id}).scalar_one()
        insurer_id = conn.execute(sa.text(
            "INSERT INTO master.insurer (name) VALUES ('Matrix General Insurance') RETURNING insurer_id")).scalar_one()
        policy_id = conn.execute(sa.text("""
            INSERT INTO insurance.policy (branch_id, booking_id, unit_id, customer_id, insurer_id, od_policy_no,
                                          od_from, od_to, tp_policy_no, tp_from, tp_to, premium, idv,
                                          commission_amount)
            VALUES (:b, :bk, :u, :c, :ins, 'OD-MTX-0001', :d, :od_to, 'TP-MTX-0001', :d, :tp_to, 6500, 118000, 900)
            RETURNING policy_id"""), {"b": branch_id, "bk": sold, "u": unit_id, "c": customer_id, "ins": insurer_id,
                                      "d": today, "od_to": today + timedelta(days=364),
                                      "tp_to": today + timedelta(days=1824)}).scalar_one()
        b.pdi_passed(conn, sold)
        b.apply_registration(conn, sold)
        b.release_handover(conn, sold, manager, "Balance on a post-dated cheque")
        delivery_id = services.deliver(conn, sold, on=today, received_by_name="Matrix Buyer", key=_key())

        _, returned_invoice = invoiced()
        credit_note_id = posting.post_credit_note(conn, returned_invoice, on=today, reason="wrong colour billed",
                                                  key=_key())

        cancelled = new_booking()
        posting.post_receipt(conn, on=today, mode="CASH", amount=Decimal(5000), key=_key(),
                             received_from="Matrix Buyer", booking_id=cancelled)
        b.act_as(conn, manager)
        refund_id = posting.cancel_booking(conn, cancelled, on=today, reason="customer changed plans", key=_key())
        b.act_as(conn, None)
    # enquiry_id: the old /sales/enquiries/<id> addresses, which redirect to the lead's.
    return {"lead_id": lead_id, "enquiry_id": lead_id, "quotation_id": quotation_id, "booking_id": booked, "invoice_id": invoice_id,
            "receipt_id": receipt_id, "refund_id": refund_id, "credit_note_id": credit_note_id,
            "policy_id": policy_id, "delivery_id": delivery_id}
