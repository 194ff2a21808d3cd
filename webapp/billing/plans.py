"""An extended warranty plan sold after the vehicle: a counter invoice of one line that names the plan
and the VIN (GST-exclusive at the plan's price, under its SAC, at the tax master's rate of the day,
CGST + SGST or IGST by the buyer's place of supply: the showroom's state, handed over at the counter),
to the vehicle's buyer, with its receipt unless it goes on the customer's account. Posting the line
writes the plan sale (trigger warranty.sell_plan_on_invoice, sql/functions/92_warranty.sql); a credit
note of the invoice ends the cover."""
from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy.engine import Connection

from ..documents import already_posted
from . import documents, posting


def post_plan_invoice(conn: Connection, branch_id: int, *, plan_id: int, vin: str, customer_id: int, on: date,
                      key: str, paid_by: str, reference: str | None = None) -> int:
    """Post the invoice selling the plan for the VIN (and its receipt unless ON_ACCOUNT): the invoice."""
    found = already_posted(conn, "invoice", key)
    if found:
        return found
    invoice_id = posting.post_counter_invoice(
        conn, branch_id, [posting.CounterLine(None, Decimal(1), plan_id=plan_id, plan_vin=vin)], on=on, key=key,
        customer_id=customer_id, key_checked=True)
    if paid_by != "ON_ACCOUNT":
        inv = documents.get_invoice(conn, invoice_id)
        posting.post_receipt(conn, on=on, mode=paid_by, amount=inv["amount_payable"],
                             key=str(uuid.uuid5(uuid.UUID(key), "receipt")), received_from=inv["buyer_name"],
                             invoice_id=invoice_id, reference=reference)
    return invoice_id
