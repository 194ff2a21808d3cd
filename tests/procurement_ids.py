"""One purchase order, goods receipt and purchase invoice, so each procurement route of the access
matrix opens a real record (an id that does not exist would only ever show the 404 page)."""
from __future__ import annotations

import builders as b
import sqlalchemy as sa

from webapp.formatting import today_ist


def procurement_ids(engine, branch_id: int) -> dict:
    """Committed rows; the app fixture empties the tables after the test. Returns the route args.

    po_id is a draft (it can be edited and approved); grn_id came from another order, received in
    full and billed by pinv_id.
    """
    today = str(today_ist())
    with engine.begin() as conn:
        oem_id = b.oem(conn, brand="Matrix Supplies")
        variant_id = b.variant(conn, b.model(conn, oem_id, name="Matrix Cargo"), name="Standard")
        b.colour(conn, variant_id, "Red")
        draft = b.purchase_order(conn, branch_id, oem_id, order_date=today)
        b.po_line(conn, draft, 2, "90000.00", variant_id=variant_id, colour="Red")
        sent = b.purchase_order(conn, branch_id, oem_id, order_date=today)
        line = b.po_line(conn, sent, 1, "90000.00", variant_id=variant_id, colour="Red")
        b.approve_po(conn, sent, b.staff(conn, branch_id, "MANAGER"))
        b.send_po(conn, sent)
        grn_id = b.goods_receipt(conn, sent, branch_id, received_on=today)
        b.receive_vehicle(conn, grn_id, line, b.unit(conn, variant_id, "Red", branch_id, received_on=today))
        pinv_id = b.purchase_invoice(conn, branch_id, oem_id, invoice_date=today, taxable="90000.00",
                                     cgst="2250.00", sgst="2250.00")
        conn.execute(sa.text("INSERT INTO procurement.purchase_invoice_grn (pinv_id, grn_id) VALUES (:i, :g)"),
                     {"i": pinv_id, "g": grn_id})
    return {"po_id": draft, "grn_id": grn_id, "pinv_id": pinv_id}
