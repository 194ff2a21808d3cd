"""Posting billing documents in the caller's transaction: vehicle and counter-sale tax
invoices, receipt and refund vouchers, credit notes, booking cancellation.

The database numbers each document in its posting transaction, checks the amounts add up,
refuses overpayment and keeps posted rows unchanged; this module works out the lines (GST
arithmetic in ``tax``) and writes them. Each function takes the caller's idempotency key: a
second submission of the same form finds the document the first one posted.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from . import tax

DOCUMENT_TABLES = {
    "invoice": ("billing.invoice", "invoice_id"),
    "receipt": ("billing.receipt", "receipt_id"),
    "refund": ("billing.refund", "refund_id"),
    "credit_note": ("billing.credit_note", "credit_note_id"),
    "booking": ("sales.booking", "booking_id"),
    "quotation": ("sales.quotation", "quotation_id"),
    "delivery": ("sales.delivery", "delivery_id"),
}

RECEIPT_MODES = {
    "CASH": "Cash", "UPI": "UPI", "CARD": "Card", "CHEQUE": "Cheque", "BANK_TRANSFER": "Bank transfer",
    "FINANCE": "Finance disbursement", "EXCHANGE": "Exchange vehicle value", "SUBSIDY": "PM E-DRIVE subsidy",
}
REFUND_MODES = {"CASH": "Cash", "UPI": "UPI", "CHEQUE": "Cheque", "BANK_TRANSFER": "Bank transfer"}


class Refused(Exception):
    """The document cannot be posted as asked; the message says why."""


def new_key() -> str:
    """An idempotency key for a form about to be shown."""
    return str(uuid.uuid4())


def already_posted(conn: Connection, document: str, key: str | uuid.UUID) -> int | None:
    """The id of the document an earlier submission with this key posted, if any."""
    table, id_column = DOCUMENT_TABLES[document]
    return conn.execute(sa.text(f"SELECT {id_column} FROM {table} WHERE idempotency_key = :k"),
                        {"k": str(key)}).scalar()


def is_duplicate_key(exc: sa.exc.IntegrityError) -> bool:
    """A unique violation on an idempotency key: the same form was posted twice at once."""
    diag = getattr(getattr(exc, "orig", None), "diag", None)
    return (getattr(diag, "constraint_name", None) or "").endswith("idempotency_key_key")


# --------------------------------------------------------------------------- invoices


@dataclass(frozen=True)
class DraftInvoice:
    """What an invoice would be, before posting: shown on the confirm page, then posted."""
    place_of_supply: str
    supplier_state: str
    lines: tuple[dict, ...]
    computed: tax.Invoice

    @property
    def intra_state(self) -> bool:
        return self.place_of_supply == self.supplier_state


def _rate(conn: Connection, hsn_code: str, on: date) -> Decimal:
    rate = conn.execute(sa.text("SELECT master.gst_rate_on(:h, :d)"), {"h": hsn_code, "d": on}).scalar()
    if rate is None:
        raise Refused(f"The tax master has no GST rate for HSN/SAC {hsn_code} on {on:%d-%m-%Y}")
    return rate


def _compute(lines: list[dict], place_of_supply: str, supplier_state: str) -> DraftInvoice:
    computed = tax.compute_invoice(
        (tax.InvoiceLine(description=line["description"], hsn_code=line["hsn_code"], qty=line["qty"],
                         unit_price=line["unit_price"], gst_rate=line["gst_rate"],
                         price_includes_gst=line["price_includes_gst"], discount=line.get("discount", Decimal(0)))
         for line in lines),
        intra_state=place_of_supply == supplier_state)
    return DraftInvoice(place_of_supply, supplier_state, tuple(lines), computed)


def vehicle_sale(conn: Connection, booking_id: int, on: date, place_of_supply: str | None = None) -> DraftInvoice:
    """The invoice a booking would get on a date: the allotted unit at the agreed GST-inclusive
    price less the discount, and each taxable charge (accessories, extended warranty)."""
    b = conn.execute(sa.text("""
        SELECT b.*, br.state_code AS branch_state, a.unit_id, u.vin, u.motor_no, u.charger_serial,
               v.name AS variant_name, v.hsn_code, v.battery_kwh, m.name AS model_name, o.brand AS oem_name,
               (SELECT string_agg(p.serial, ', ' ORDER BY p.serial) FROM inventory.battery_fitment f
                  JOIN inventory.battery_pack p USING (pack_id)
                 WHERE f.unit_id = a.unit_id AND f.removed_on IS NULL) AS battery_serials
          FROM sales.booking b
          JOIN master.branch br USING (branch_id)
          LEFT JOIN sales.allotment a ON a.booking_id = b.booking_id AND a.released_at IS NULL
          LEFT JOIN inventory.vehicle_unit u ON u.unit_id = a.unit_id
          JOIN oem.variant v ON v.variant_id = b.variant_id
          JOIN oem.model m ON m.model_id = v.model_id
          JOIN oem.oem o ON o.oem_id = m.oem_id
         WHERE b.booking_id = :b"""), {"b": booking_id}).mappings().one()
    if b["unit_id"] is None:
        raise Refused(f"Booking {b['booking_no']} has no unit allotted")
    identity = f"VIN {b['vin']}, motor {b['motor_no']}"
    if b["battery_serials"]:
        identity += f", battery {b['battery_serials']}"
    if b["charger_serial"]:
        identity += f", charger {b['charger_serial']}"
    lines = [{
        "description": f"{b['oem_name']} {b['model_name']} {b['variant_name']} ({b['colour']}), "
                       f"{b['battery_kwh'].normalize():f} kWh; {identity}",
        "hsn_code": b["hsn_code"], "qty": Decimal(1), "unit": "NOS", "unit_price": b["ex_showroom"],
        "gst_rate": _rate(conn, b["hsn_code"], on), "price_includes_gst": True, "discount": b["discount"],
        "unit_id": b["unit_id"], "part_id": None,
    }]
    for item in conn.execute(sa.text("""
            SELECT description, amount, hsn_code FROM sales.booking_item
             WHERE booking_id = :b AND hsn_code IS NOT NULL ORDER BY line_no"""), {"b": booking_id}).mappings():
        lines.append({"description": item["description"], "hsn_code": item["hsn_code"], "qty": Decimal(1),
                      "unit": "NOS", "unit_price": item["amount"], "gst_rate": _rate(conn, item["hsn_code"], on),
                      "price_includes_gst": True, "discount": Decimal(0), "unit_id": None, "part_id": None})
    default_pos = b["delivery_state_code"] or b["branch_state"]
    return _compute(lines, place_of_supply or default_pos, b["branch_state"])


def default_place_of_supply(conn: Connection, booking_id: int) -> str:
    return conn.execute(sa.text("""
        SELECT coalesce(b.delivery_state_code, br.state_code)
          FROM sales.booking b JOIN master.branch br USING (branch_id) WHERE b.booking_id = :b"""),
        {"b": booking_id}).scalar_one()


def _insert_invoice(conn: Connection, header: dict, draft: DraftInvoice) -> int:
    inv = draft.computed
    invoice_id = conn.execute(sa.text("""
        INSERT INTO billing.invoice
            (invoice_no, branch_id, invoice_date, kind, booking_id, unit_id, customer_id, supplier_gstin,
             supplier_state_code, buyer_name, buyer_address, buyer_state_code, buyer_gstin, buyer_mobile,
             delivery_address, place_of_supply, pos_overridden, pos_override_reason, taxable_value, cgst, sgst,
             igst, round_off, grand_total, idempotency_key)
        VALUES ('', :branch_id, :invoice_date, :kind, :booking_id, :unit_id, :customer_id, '', '',
                :buyer_name, :buyer_address, :buyer_state_code, :buyer_gstin, :buyer_mobile, :delivery_address,
                :place_of_supply, :pos_overridden, :pos_override_reason, :taxable, :cgst, :sgst, :igst,
                :round_off, :grand_total, :key)
        RETURNING invoice_id"""), {
        **header, "place_of_supply": draft.place_of_supply, "taxable": inv.taxable_value, "cgst": inv.cgst,
        "sgst": inv.sgst, "igst": inv.igst, "round_off": inv.round_off, "grand_total": inv.grand_total,
    }).scalar_one()
    conn.execute(sa.text("""
        INSERT INTO billing.invoice_line
            (invoice_id, line_no, description, hsn_code, qty, unit, unit_price, price_includes_gst, discount,
             taxable_value, gst_rate, cgst, sgst, igst, total, part_id, unit_id)
        VALUES (:invoice_id, :line_no, :description, :hsn_code, :qty, :unit, :unit_price, :incl, :discount,
                :taxable, :rate, :cgst, :sgst, :igst, :total, :part_id, :unit_id)"""), [
        {"invoice_id": invoice_id, "line_no": n, "description": c.line.description, "hsn_code": c.line.hsn_code,
         "qty": c.line.qty, "unit": src.get("unit", "NOS"), "unit_price": c.line.unit_price,
         "incl": c.line.price_includes_gst, "discount": c.discount, "taxable": c.taxable_value,
         "rate": c.line.gst_rate, "cgst": c.cgst, "sgst": c.sgst, "igst": c.igst, "total": c.total,
         "part_id": src.get("part_id"), "unit_id": src.get("unit_id")}
        for n, (c, src) in enumerate(zip(inv.lines, draft.lines), start=1)])
    return invoice_id


def _address(row) -> str | None:
    parts = [row["address_line1"], row["address_line2"], row["city"],
             f"{row['state_name']} ({row['state_code']})" if row["state_code"] else None,
             f"PIN {row['pincode']}" if row["pincode"] else None]
    text = ", ".join(p for p in parts if p)
    return text or None


def post_vehicle_invoice(conn: Connection, booking_id: int, *, on: date, key: str,
                         place_of_supply: str | None = None, override_reason: str | None = None) -> int:
    """Post the tax invoice of an allotted booking: the unit becomes INVOICED, the booking too."""
    found = already_posted(conn, "invoice", key)
    if found:
        return found
    default_pos = default_place_of_supply(conn, booking_id)
    pos = place_of_supply or default_pos
    overridden = pos != default_pos
    if overridden and not (override_reason or "").strip():
        raise Refused("Give the reason for choosing a place of supply other than where the vehicle is delivered")
    draft = vehicle_sale(conn, booking_id, on, pos)
    c = conn.execute(sa.text("""
        SELECT b.branch_id, b.customer_id, b.delivery_address, a.unit_id, c.name, c.mobile, c.gstin,
               c.address_line1, c.address_line2, c.city, c.pincode, c.state_code, s.name AS state_name
          FROM sales.booking b JOIN master.customer c USING (customer_id)
          JOIN master.state s ON s.state_code = c.state_code
          LEFT JOIN sales.allotment a ON a.booking_id = b.booking_id AND a.released_at IS NULL
         WHERE b.booking_id = :b"""), {"b": booking_id}).mappings().one()
    address = _address(c)
    return _insert_invoice(conn, {
        "branch_id": c["branch_id"], "invoice_date": on, "kind": "VEHICLE", "booking_id": booking_id,
        "unit_id": c["unit_id"], "customer_id": c["customer_id"], "buyer_name": c["name"],
        "buyer_address": address, "buyer_state_code": c["state_code"], "buyer_gstin": c["gstin"],
        "buyer_mobile": c["mobile"], "delivery_address": c["delivery_address"] or address,
        "pos_overridden": overridden, "pos_override_reason": (override_reason or "").strip() or None if overridden else None,
        "key": key,
    }, draft)


@dataclass(frozen=True)
class CounterLine:
    part_id: int
    qty: Decimal
    discount: Decimal = Decimal(0)


def counter_sale(conn: Connection, branch_id: int, lines: list[CounterLine], on: date,
                 place_of_supply: str | None = None) -> DraftInvoice:
    """Parts and accessories over the counter at their MRP (GST-inclusive)."""
    branch_state = conn.execute(sa.text("SELECT state_code FROM master.branch WHERE branch_id = :b"),
                                {"b": branch_id}).scalar_one()
    parts = {r["part_id"]: r for r in conn.execute(sa.text("""
        SELECT part_id, part_no, name, hsn_code, unit, mrp FROM master.part WHERE part_id = ANY(:ids)"""),
        {"ids": [line.part_id for line in lines]}).mappings()}
    drafted = []
    for line in lines:
        p = parts.get(line.part_id)
        if p is None:
            raise Refused(f"Unknown part {line.part_id}")
        drafted.append({"description": f"{p['name']} ({p['part_no']})", "hsn_code": p["hsn_code"], "qty": line.qty,
                        "unit": p["unit"], "unit_price": p["mrp"], "gst_rate": _rate(conn, p["hsn_code"], on),
                        "price_includes_gst": True, "discount": line.discount, "part_id": p["part_id"],
                        "unit_id": None})
    return _compute(drafted, place_of_supply or branch_state, branch_state)


def post_counter_invoice(conn: Connection, branch_id: int, lines: list[CounterLine], *, on: date, key: str,
                         customer_id: int | None = None, buyer_name: str | None = None,
                         place_of_supply: str | None = None, override_reason: str | None = None) -> int:
    """Post a counter sale: parts leave stock in the same transaction."""
    found = already_posted(conn, "invoice", key)
    if found:
        return found
    draft = counter_sale(conn, branch_id, lines, on, place_of_supply)
    overridden = draft.place_of_supply != draft.supplier_state
    if overridden and not (override_reason or "").strip():
        raise Refused("Give the reason for a place of supply outside the showroom's state")
    header = {"branch_id": branch_id, "invoice_date": on, "kind": "COUNTER", "booking_id": None, "unit_id": None,
              "customer_id": customer_id, "buyer_name": buyer_name or "Cash sale", "buyer_address": None,
              "buyer_state_code": None, "buyer_gstin": None, "buyer_mobile": None, "delivery_address": None,
              "pos_overridden": overridden,
              "pos_override_reason": (override_reason or "").strip() or None if overridden else None, "key": key}
    if customer_id is not None:
        c = conn.execute(sa.text("""
            SELECT c.*, s.name AS state_name FROM master.customer c JOIN master.state s USING (state_code)
             WHERE customer_id = :c"""), {"c": customer_id}).mappings().one()
        address = _address(c)
        header.update(buyer_name=c["name"], buyer_address=address, buyer_state_code=c["state_code"],
                      buyer_gstin=c["gstin"], buyer_mobile=c["mobile"], delivery_address=address)
    return _insert_invoice(conn, header, draft)


def post_credit_note(conn: Connection, invoice_id: int, *, on: date, reason: str, key: str) -> int:
    """Reverse an invoice in full; the database returns the unit or the parts to stock."""
    found = already_posted(conn, "credit_note", key)
    if found:
        return found
    return conn.execute(sa.text("""
        INSERT INTO billing.credit_note (credit_note_no, branch_id, note_date, invoice_id, reason, taxable_value,
                                         cgst, sgst, igst, round_off, grand_total, tcs_amount, idempotency_key)
        SELECT '', branch_id, :on, invoice_id, :reason, 0, 0, 0, 0, 0, 0, 0, :key
          FROM billing.invoice WHERE invoice_id = :i
        RETURNING credit_note_id"""), {"i": invoice_id, "on": on, "reason": reason, "key": key}).scalar_one()


# --------------------------------------------------------------------------- money in and out


def post_receipt(conn: Connection, *, on: date, mode: str, amount: Decimal, key: str, received_from: str,
                 booking_id: int | None = None, invoice_id: int | None = None, reference: str | None = None,
                 notes: str | None = None) -> int:
    found = already_posted(conn, "receipt", key)
    if found:
        return found
    return conn.execute(sa.text("""
        INSERT INTO billing.receipt (receipt_no, branch_id, receipt_date, booking_id, invoice_id, received_from,
                                     mode, amount, reference, notes, idempotency_key)
        VALUES ('', 0, :on, :booking_id, :invoice_id, :received_from, :mode, :amount, :reference, :notes, :key)
        RETURNING receipt_id"""), {
        "on": on, "booking_id": booking_id, "invoice_id": invoice_id, "received_from": received_from,
        "mode": mode, "amount": amount, "reference": reference, "notes": notes, "key": key}).scalar_one()


def post_refund(conn: Connection, *, on: date, mode: str, amount: Decimal, key: str, paid_to: str, reason: str,
                booking_id: int | None = None, invoice_id: int | None = None, reference: str | None = None,
                cancellation_charge: Decimal = Decimal(0)) -> int:
    found = already_posted(conn, "refund", key)
    if found:
        return found
    return conn.execute(sa.text("""
        INSERT INTO billing.refund (refund_no, branch_id, refund_date, booking_id, invoice_id, paid_to, mode, amount,
                                    cancellation_charge, reason, reference, idempotency_key)
        VALUES ('', 0, :on, :booking_id, :invoice_id, :paid_to, :mode, :amount, :charge, :reason, :reference, :key)
        RETURNING refund_id"""), {
        "on": on, "booking_id": booking_id, "invoice_id": invoice_id, "paid_to": paid_to, "mode": mode,
        "amount": amount, "charge": cancellation_charge, "reason": reason, "reference": reference,
        "key": key}).scalar_one()


def booking_balance(conn: Connection, booking_id: int):
    """due, received and balance (negative: received more than due) of a booking; of the balance,
    what the loan, exchange value and subsidy will still cover (loan_pending, exchange_pending,
    subsidy_pending, others_pending) and the customer's own share (customer_balance)."""
    return conn.execute(sa.text("""
        SELECT due, received, due - received AS balance, loan_pending, exchange_pending, subsidy_pending,
               others_pending, customer_balance
          FROM billing.booking_balance WHERE booking_id = :b"""),
        {"b": booking_id}).mappings().one()


def cancel_booking(conn: Connection, booking_id: int, *, on: date, reason: str, key: str,
                   cancellation_charge: Decimal = Decimal(0), refund_mode: str = "CASH",
                   reference: str | None = None) -> int | None:
    """Cancel a booking before its invoice: release the unit, keep the charge, refund the rest.

    Returns the refund voucher's id (None when nothing was received and no charge is kept).
    """
    found = already_posted(conn, "refund", key)
    if found:
        return found
    b = conn.execute(sa.text("""
        SELECT b.booking_no, b.stage, c.name FROM sales.booking b JOIN master.customer c USING (customer_id)
         WHERE booking_id = :b FOR UPDATE OF b"""), {"b": booking_id}).mappings().one()
    if b["stage"] not in ("BOOKED", "ALLOTTED"):
        raise Refused(f"Booking {b['booking_no']} is {b['stage'].lower()}: "
                      "after the invoice only a credit note corrects a sale")
    conn.execute(sa.text("""
        UPDATE sales.allotment SET released_at = now(), release_reason = :r
         WHERE booking_id = :b AND released_at IS NULL"""), {"b": booking_id, "r": f"booking cancelled: {reason}"[:200]})
    conn.execute(sa.text("""
        UPDATE sales.booking SET stage = 'CANCELLED', cancelled_on = :on, cancel_reason = :reason
         WHERE booking_id = :b"""), {"b": booking_id, "on": on, "reason": reason})
    received = booking_balance(conn, booking_id)["received"]
    if cancellation_charge > received:
        raise Refused(f"The cancellation charge is more than the ₹{received} received")
    refund = received - cancellation_charge
    if refund == 0 and cancellation_charge == 0:
        return None
    return post_refund(conn, on=on, mode=refund_mode, amount=refund, key=key, paid_to=b["name"],
                       reason=f"Booking {b['booking_no']} cancelled: {reason}", booking_id=booking_id,
                       reference=reference if refund else None, cancellation_charge=cancellation_charge)
