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

# Refused, already_posted, is_duplicate_key and new_key are the shared ones, named here for billing's callers.
from ..documents import Refused, already_posted, is_duplicate_key, new_key, register_document  # noqa: F401
from ..formatting import inr
from . import tax

# Billing's documents posted from a form, found again by the form's idempotency key.
register_document("invoice", "billing.invoice", "invoice_id")
register_document("receipt", "billing.receipt", "receipt_id")
register_document("refund", "billing.refund", "refund_id")
register_document("credit_note", "billing.credit_note", "credit_note_id")

RECEIPT_MODES = {
    "CASH": "Cash", "UPI": "UPI", "CARD": "Card", "CHEQUE": "Cheque", "BANK_TRANSFER": "Bank transfer",
    "FINANCE": "Finance disbursement", "EXCHANGE": "Exchange vehicle value", "SUBSIDY": "PM E-DRIVE subsidy",
}
REFUND_MODES = {"CASH": "Cash", "UPI": "UPI", "CHEQUE": "Cheque", "BANK_TRANSFER": "Bank transfer"}


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


def _sale(conn: Connection, booking_id: int):
    """The booking as its invoice needs it, in one read: the branch's state, the allotted unit, the
    vehicle, and the buyer (``buyer_*``: the customer and the state of their address)."""
    return conn.execute(sa.text("""
        SELECT b.*, br.state_code AS branch_state, a.unit_id, u.vin, u.motor_no, u.charger_serial,
               v.name AS variant_name, v.hsn_code, v.battery_kwh, m.name AS model_name, o.brand AS oem_name,
               (SELECT string_agg(p.serial, ', ' ORDER BY p.serial) FROM inventory.battery_fitment f
                  JOIN inventory.battery_pack p USING (pack_id)
                 WHERE f.unit_id = a.unit_id AND f.removed_on IS NULL) AS battery_serials,
               c.name AS buyer_name, c.mobile AS buyer_mobile, c.gstin AS buyer_gstin,
               c.address_line1 AS buyer_address_line1, c.address_line2 AS buyer_address_line2, c.city AS buyer_city,
               c.pincode AS buyer_pincode, c.state_code AS buyer_state_code, cs.name AS buyer_state_name
          FROM sales.booking b
          JOIN master.branch br USING (branch_id)
          JOIN master.customer c ON c.customer_id = b.customer_id
          JOIN master.state cs ON cs.state_code = c.state_code
          LEFT JOIN sales.allotment a ON a.booking_id = b.booking_id AND a.released_at IS NULL
          LEFT JOIN inventory.vehicle_unit u ON u.unit_id = a.unit_id
          JOIN oem.variant v ON v.variant_id = b.variant_id
          JOIN oem.model m ON m.model_id = v.model_id
          JOIN oem.oem o ON o.oem_id = m.oem_id
         WHERE b.booking_id = :b"""), {"b": booking_id}).mappings().one()


def vehicle_sale(conn: Connection, booking_id: int, on: date, place_of_supply: str | None = None) -> DraftInvoice:
    """The invoice a booking would get on a date: the allotted unit at the agreed GST-inclusive
    price less the discount, and each taxable charge (accessories, extended warranty)."""
    return _vehicle_draft(conn, _sale(conn, booking_id), on, place_of_supply)


def _default_place_of_supply(sale) -> str:
    """Where the vehicle is delivered: the booking's delivery state, else the showroom's."""
    return sale["delivery_state_code"] or sale["branch_state"]


def _vehicle_draft(conn: Connection, b, on: date, place_of_supply: str | None) -> DraftInvoice:
    booking_id = b["booking_id"]
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
    # An extended-warranty charge that names its plan sells the plan for this VIN (warranty.plan_sale,
    # written by the line's trigger).
    for item in conn.execute(sa.text("""
            SELECT description, amount, hsn_code, plan_id FROM sales.booking_item
             WHERE booking_id = :b AND hsn_code IS NOT NULL ORDER BY line_no"""), {"b": booking_id}).mappings():
        lines.append({"description": item["description"], "hsn_code": item["hsn_code"], "qty": Decimal(1),
                      "unit": "NOS", "unit_price": item["amount"], "gst_rate": _rate(conn, item["hsn_code"], on),
                      "price_includes_gst": True, "discount": Decimal(0), "unit_id": None, "part_id": None,
                      "plan_id": item["plan_id"], "plan_vin": b["vin"] if item["plan_id"] else None})
    # Accessories sold with the vehicle, each its own line (a part line takes the part out of stock).
    for item in conn.execute(sa.text("""
            SELECT description, hsn_code, qty, unit, unit_price, price_includes_gst, part_id
              FROM sales.booking_accessory WHERE booking_id = :b ORDER BY line_no"""), {"b": booking_id}).mappings():
        lines.append({**item, "gst_rate": _rate(conn, item["hsn_code"], on), "discount": Decimal(0), "unit_id": None})
    return _compute(lines, place_of_supply or _default_place_of_supply(b), b["branch_state"])


def _insert_invoice(conn: Connection, header: dict, draft: DraftInvoice) -> int:
    inv = draft.computed
    invoice_id = conn.execute(sa.text("""
        INSERT INTO billing.invoice
            (invoice_no, branch_id, invoice_date, kind, booking_id, unit_id, customer_id, supplier_gstin,
             supplier_state_code, buyer_name, buyer_address, buyer_state_code, buyer_gstin, buyer_mobile,
             delivery_address, delivery_state_code, place_of_supply, pos_overridden, pos_override_reason,
             taxable_value, cgst, sgst, igst, round_off, grand_total, idempotency_key, transfer_id,
             service_vehicle, service_reference)
        VALUES ('', :branch_id, :invoice_date, :kind, :booking_id, :unit_id, :customer_id, '', '',
                :buyer_name, :buyer_address, :buyer_state_code, :buyer_gstin, :buyer_mobile, :delivery_address,
                :delivery_state_code, :place_of_supply, :pos_overridden, :pos_override_reason, :taxable, :cgst,
                :sgst, :igst, :round_off, :grand_total, :key, :transfer_id, :service_vehicle, :service_reference)
        RETURNING invoice_id"""), {
        "delivery_state_code": None, "transfer_id": None, "service_vehicle": None, "service_reference": None,
        **header, "place_of_supply": draft.place_of_supply, "taxable": inv.taxable_value, "cgst": inv.cgst,
        "sgst": inv.sgst, "igst": inv.igst, "round_off": inv.round_off, "grand_total": inv.grand_total,
    }).scalar_one()
    conn.execute(sa.text("""
        INSERT INTO billing.invoice_line
            (invoice_id, line_no, description, hsn_code, qty, unit, unit_price, price_includes_gst, discount,
             taxable_value, gst_rate, cgst, sgst, igst, total, part_id, unit_id, operation_code, coverage,
             claimable_value, plan_id, plan_vin)
        VALUES (:invoice_id, :line_no, :description, :hsn_code, :qty, :unit, :unit_price, :incl, :discount,
                :taxable, :rate, :cgst, :sgst, :igst, :total, :part_id, :unit_id, :operation_code, :coverage,
                :claimable, :plan_id, :plan_vin)"""), [
        {"invoice_id": invoice_id, "line_no": n, "description": c.line.description, "hsn_code": c.line.hsn_code,
         "qty": c.line.qty, "unit": src.get("unit", "NOS"), "unit_price": c.line.unit_price,
         "incl": c.line.price_includes_gst, "discount": c.discount, "taxable": c.taxable_value,
         "rate": c.line.gst_rate, "cgst": c.cgst, "sgst": c.sgst, "igst": c.igst, "total": c.total,
         "part_id": src.get("part_id"), "unit_id": src.get("unit_id"), "operation_code": src.get("operation_code"),
         "coverage": src.get("coverage", "CUSTOMER"), "claimable": src.get("claimable_value", Decimal(0)),
         "plan_id": src.get("plan_id"), "plan_vin": src.get("plan_vin")}
        for n, (c, src) in enumerate(zip(inv.lines, draft.lines), start=1)])
    return invoice_id


def _address(row) -> str | None:
    parts = [row["address_line1"], row["address_line2"], row["city"],
             f"{row['state_name']} ({row['state_code']})" if row["state_code"] else None,
             f"PIN {row['pincode']}" if row["pincode"] else None]
    text = ", ".join(p for p in parts if p)
    return text or None


def delivered_to(address: str | None, state_code: str | None) -> tuple[str | None, str | None]:
    """Where an invoice's goods go, as it records them: (address, state), or (None, None) for a
    hand-over at the showroom or counter (the printed ship-to is then the showroom). An address
    without a state, or a state without an address, is passed on for the database to refuse."""
    address = (address or "").strip() or None
    return (address, state_code) if address or state_code else (None, None)


def post_vehicle_invoice(conn: Connection, booking_id: int, *, on: date, key: str,
                         place_of_supply: str | None = None, override_reason: str | None = None,
                         delivery_address: str | None = None, key_checked: bool = False) -> int:
    """Post the tax invoice of an allotted booking: the unit becomes INVOICED, the booking too.

    The goods go where the booking says (its delivery address and state, else a hand-over at the
    showroom). Another place of supply is an override with a reason, and its goods go to
    ``delivery_address`` in that state (none: handed over at the showroom, which the database
    allows only within the showroom's state). ``key_checked``: the caller looked the key up in
    this transaction already (webapp.submit_once.earlier_document) and found nothing."""
    if not key_checked:
        found = already_posted(conn, "invoice", key)
        if found:
            return found
    c = _sale(conn, booking_id)
    default_pos = _default_place_of_supply(c)
    pos = place_of_supply or default_pos
    overridden = pos != default_pos
    if overridden and not (override_reason or "").strip():
        raise Refused("Give the reason for choosing a place of supply other than where the vehicle is delivered")
    draft = _vehicle_draft(conn, c, on, pos)
    if overridden:
        ship_address, ship_state = delivered_to(delivery_address, pos if (delivery_address or "").strip() else None)
    elif c["delivery_state_code"]:
        ship_address, ship_state = delivered_to(c["delivery_address"], c["delivery_state_code"])
    else:
        ship_address = ship_state = None
    buyer = {name: c[f"buyer_{name}"] for name in ("address_line1", "address_line2", "city", "pincode",
                                                     "state_code", "state_name")}
    return _insert_invoice(conn, {
        "branch_id": c["branch_id"], "invoice_date": on, "kind": "VEHICLE", "booking_id": booking_id,
        "unit_id": c["unit_id"], "customer_id": c["customer_id"], "buyer_name": c["buyer_name"],
        "buyer_address": _address(buyer), "buyer_state_code": c["buyer_state_code"], "buyer_gstin": c["buyer_gstin"],
        "buyer_mobile": c["buyer_mobile"], "delivery_address": ship_address, "delivery_state_code": ship_state,
        "pos_overridden": overridden, "pos_override_reason": (override_reason or "").strip() or None if overridden else None,
        "key": key,
    }, draft)


@dataclass(frozen=True)
class CounterLine:
    """One row of a counter sale: a part (``part_id``), a labour or service operation of the
    labour master (``operation_code``, e.g. fitting an accessory) or an extended warranty plan
    (``plan_id``, GST excluded, under its SAC) for the vehicle ``plan_vin``, its
    quantity and a discount in rupees. The price is the master's (a part's MRP, GST included; an
    operation's rate, GST excluded) unless ``unit_price`` is given, quoted with GST included or
    excluded as ``price_includes_gst`` says (by default the way the master quotes it)."""
    part_id: int | None
    qty: Decimal
    discount: Decimal = Decimal(0)
    operation_code: str | None = None
    unit_price: Decimal | None = None
    price_includes_gst: bool | None = None
    plan_id: int | None = None     # an extended warranty plan (warranty.plan) sold for plan_vin
    plan_vin: str | None = None


def counter_sale(conn: Connection, branch_id: int, lines: list[CounterLine], on: date,
                 place_of_supply: str | None = None, *, branch_state: str | None = None) -> DraftInvoice:
    """Parts, accessories and labour over the counter, each line GST-inclusive or exclusive, with
    the tax heads of the place of supply (the delivery state; the showroom's state when the goods
    are handed over at the counter). ``branch_state``: the showroom's state, when the caller has it."""
    if branch_state is None:
        branch_state = conn.execute(sa.text("SELECT state_code FROM master.branch WHERE branch_id = :b"),
                                    {"b": branch_id}).scalar_one()
    parts = {r["part_id"]: r for r in conn.execute(sa.text("""
        SELECT part_id, part_no, name, hsn_code, unit, mrp FROM master.part WHERE part_id = ANY(:ids)"""),
        {"ids": [line.part_id for line in lines if line.part_id is not None]}).mappings()}
    operations = {r["operation_code"]: r for r in conn.execute(sa.text("""
        SELECT operation_code, name, sac_code, rate FROM master.labour_operation WHERE operation_code = ANY(:codes)"""),
        {"codes": [line.operation_code for line in lines if line.operation_code is not None]}).mappings()}
    plans = {r["plan_id"]: r for r in conn.execute(sa.text("""
        SELECT plan_id, name, sac_code, price FROM warranty.plan WHERE plan_id = ANY(:ids)"""),
        {"ids": [line.plan_id for line in lines if line.plan_id is not None]}).mappings()} if any(
        line.plan_id is not None for line in lines) else {}
    drafted = []
    for line in lines:
        if line.plan_id is not None:
            plan = plans.get(line.plan_id)
            if plan is None:
                raise Refused(f"Unknown extended warranty plan {line.plan_id}")
            item = {"description": f"Extended warranty {plan['name']}, VIN {line.plan_vin}",
                    "hsn_code": plan["sac_code"], "unit": "NOS", "unit_price": plan["price"],
                    "price_includes_gst": False, "part_id": None, "operation_code": None,
                    "plan_id": plan["plan_id"], "plan_vin": line.plan_vin}
        elif line.operation_code is not None:
            op = operations.get(line.operation_code)
            if op is None:
                raise Refused(f"Unknown labour operation {line.operation_code}")
            item = {"description": f"{op['name']} ({op['operation_code']})", "hsn_code": op["sac_code"],
                    "unit": "NOS", "unit_price": op["rate"], "price_includes_gst": False, "part_id": None,
                    "operation_code": op["operation_code"]}
        else:
            p = parts.get(line.part_id)
            if p is None:
                raise Refused(f"Unknown part {line.part_id}")
            item = {"description": f"{p['name']} ({p['part_no']})", "hsn_code": p["hsn_code"], "unit": p["unit"],
                    "unit_price": p["mrp"], "price_includes_gst": True, "part_id": p["part_id"],
                    "operation_code": None}
        if line.unit_price is not None:
            item["unit_price"] = line.unit_price
        if line.price_includes_gst is not None:
            item["price_includes_gst"] = line.price_includes_gst
        drafted.append({**item, "qty": line.qty, "gst_rate": _rate(conn, item["hsn_code"], on),
                        "discount": line.discount, "unit_id": None})
    return _compute(drafted, place_of_supply or branch_state, branch_state)


def post_counter_invoice(conn: Connection, branch_id: int, lines: list[CounterLine], *, on: date, key: str,
                         customer_id: int | None = None, buyer_name: str | None = None,
                         delivery_address: str | None = None, delivery_state: str | None = None,
                         place_of_supply: str | None = None, override_reason: str | None = None,
                         key_checked: bool = False) -> int:
    """Post a counter sale: parts leave stock in the same transaction.

    Handed over at the counter (no delivery address): the place of supply is the showroom's
    state. Delivered to ``delivery_address`` in ``delivery_state``: that state, IGST when it is
    another. A cash sale's buyer is known by the delivery address given (rule 46). ``key_checked``:
    as for post_vehicle_invoice."""
    if not key_checked:
        found = already_posted(conn, "invoice", key)
        if found:
            return found
    ship_address, ship_state = delivered_to(delivery_address, delivery_state)
    branch_state = conn.execute(sa.text("SELECT state_code FROM master.branch WHERE branch_id = :b"),
                                {"b": branch_id}).scalar_one()
    default_pos = ship_state or branch_state
    draft = counter_sale(conn, branch_id, lines, on, place_of_supply or default_pos, branch_state=branch_state)
    overridden = draft.place_of_supply != default_pos
    if overridden and not (override_reason or "").strip():
        raise Refused("Give the reason for a place of supply other than where the goods are delivered")
    header = {"branch_id": branch_id, "invoice_date": on, "kind": "COUNTER", "booking_id": None, "unit_id": None,
              "customer_id": customer_id, "buyer_name": buyer_name or "Cash sale", "buyer_address": ship_address,
              "buyer_state_code": ship_state, "buyer_gstin": None, "buyer_mobile": None,
              "delivery_address": ship_address, "delivery_state_code": ship_state, "pos_overridden": overridden,
              "pos_override_reason": (override_reason or "").strip() or None if overridden else None, "key": key}
    if customer_id is not None:
        c = conn.execute(sa.text("""
            SELECT c.*, s.name AS state_name FROM master.customer c JOIN master.state s USING (state_code)
             WHERE customer_id = :c"""), {"c": customer_id}).mappings().one()
        header.update(buyer_name=c["name"], buyer_address=_address(c), buyer_state_code=c["state_code"],
                      buyer_gstin=c["gstin"], buyer_mobile=c["mobile"])
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
                 notes: str | None = None, key_checked: bool = False) -> int:
    """A receipt voucher; ``key_checked``: as for post_vehicle_invoice."""
    if not key_checked:
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
        raise Refused(f"The cancellation charge is more than the {inr(received)} received")
    refund = received - cancellation_charge
    if refund == 0 and cancellation_charge == 0:
        return None
    return post_refund(conn, on=on, mode=refund_mode, amount=refund, key=key, paid_to=b["name"],
                       reason=f"Booking {b['booking_no']} cancelled: {reason}", booking_id=booking_id,
                       reference=reference if refund else None, cancellation_charge=cancellation_charge)


# --------------------------------------------------------------------------- stock transfers


def transfer_needs_invoice(conn: Connection, from_branch: int, to_branch: int) -> bool:
    """A transfer to a branch with another GSTIN is a supply: it travels on a tax invoice (within
    one GSTIN the transfer is its own delivery challan)."""
    return conn.execute(sa.text("""
        SELECT f.gstin <> t.gstin FROM master.branch f, master.branch t
         WHERE f.branch_id = :f AND t.branch_id = :t"""), {"f": from_branch, "t": to_branch}).scalar_one()


def post_transfer_invoice(conn: Connection, transfer_id: int, *, on: date) -> int:
    """The tax invoice of a transfer to a branch with another GSTIN, in the transfer's transaction:
    each part at the cost it left at and each vehicle at its purchase cost, GST on top, to the
    receiving branch as a registered buyer in its state (the database fills the buyer)."""
    t = conn.execute(sa.text("""
        SELECT t.transfer_no, t.branch_id, tb.state_code AS to_state, fb.state_code AS from_state
          FROM inventory.stock_transfer t
          JOIN master.branch fb ON fb.branch_id = t.branch_id JOIN master.branch tb ON tb.branch_id = t.to_branch_id
         WHERE t.transfer_id = :t"""), {"t": transfer_id}).mappings().one()
    lines = []
    for item in conn.execute(sa.text("""
            SELECT l.part_id, l.unit_id, l.qty, p.name AS part_name, p.part_no, p.unit, p.hsn_code AS part_hsn,
                   mv.unit_cost, u.vin, u.motor_no, u.purchase_cost, v.hsn_code AS unit_hsn, v.name AS variant_name,
                   m.name AS model_name, u.colour
              FROM inventory.stock_transfer_line l
              JOIN inventory.stock_transfer t ON t.transfer_id = l.transfer_id
              LEFT JOIN master.part p ON p.part_id = l.part_id
              LEFT JOIN inventory.stock_move mv ON mv.branch_id = t.branch_id AND mv.part_id = l.part_id
                    AND mv.kind = 'TRANSFER_OUT' AND mv.reference = t.transfer_no
              LEFT JOIN inventory.vehicle_unit u ON u.unit_id = l.unit_id
              LEFT JOIN oem.variant v ON v.variant_id = u.variant_id
              LEFT JOIN oem.model m ON m.model_id = v.model_id
             WHERE l.transfer_id = :t ORDER BY l.line_no"""), {"t": transfer_id}).mappings():
        if item["part_id"] is not None:
            lines.append({"description": f"{item['part_name']} ({item['part_no']})", "hsn_code": item["part_hsn"],
                          "qty": item["qty"], "unit": item["unit"], "unit_price": item["unit_cost"] or Decimal(0),
                          "gst_rate": _rate(conn, item["part_hsn"], on), "price_includes_gst": False,
                          "part_id": item["part_id"], "unit_id": None})
        else:
            if item["purchase_cost"] is None:
                raise Refused(f"{item['vin']} has no purchase cost recorded: the transfer invoice values it at cost")
            lines.append({"description": f"{item['model_name']} {item['variant_name']} ({item['colour']}); "
                                         f"VIN {item['vin']}, motor {item['motor_no']}",
                          "hsn_code": item["unit_hsn"], "qty": Decimal(1), "unit": "NOS",
                          "unit_price": item["purchase_cost"], "gst_rate": _rate(conn, item["unit_hsn"], on),
                          "price_includes_gst": False, "part_id": None, "unit_id": item["unit_id"]})
    draft = _compute(lines, t["to_state"], t["from_state"])
    return _insert_invoice(conn, {
        "branch_id": t["branch_id"], "invoice_date": on, "kind": "TRANSFER", "booking_id": None, "unit_id": None,
        "customer_id": None, "buyer_name": "", "buyer_address": None, "buyer_state_code": None, "buyer_gstin": None,
        "buyer_mobile": None, "delivery_address": None, "delivery_state_code": None, "pos_overridden": False,
        "pos_override_reason": None, "key": str(uuid.uuid4()), "transfer_id": transfer_id,
    }, draft)
