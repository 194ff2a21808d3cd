"""The workshop's bill, posted in the caller's transaction: a service invoice (kind SERVICE, series
SI) for what the customer pays on a job card, or a job sheet (kind JOB_SHEET, series JS) when every
line is under warranty or free service (sql/0025_service_invoice.sql says why that is no tax invoice).

A line is a labour operation of the labour master (under its SAC, 998714 by default) or a part of
the parts master (under its HSN), priced GST-inclusive or exclusive as entered, with a coverage:

- CUSTOMER: the customer pays it; its tax is worked out by the GST kernel (webapp.gst) like every
  other invoice line, and it counts towards the invoice's taxable value, tax heads and round-off;
- WARRANTY or FREE_SERVICE: the manufacturer pays it through a claim. The kernel works out its
  taxable value as priced, kept as the line's ``claimable_value``; what it carries for the customer
  (taxable value, tax, total) is zero, so the invoice's totals are those of the customer's lines.

Parts do not leave stock here: they left it when they were issued to the job card (the database
refuses nothing and moves nothing for them). The workshop (another module) calls this through
webapp.billing.api and keeps the link from its job card to the invoice in its own schema.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..documents import Refused, already_posted
from ..money import PAISA
from . import tax
from .posting import DraftInvoice, _address, _insert_invoice, delivered_to

ZERO = Decimal("0.00")

LINE_KINDS = {"LABOUR": "Labour", "PART": "Part"}
COVERAGES = {"CUSTOMER": "Paid by the customer", "WARRANTY": "Under warranty (claimed from the manufacturer)",
             "FREE_SERVICE": "Free service (claimed from the manufacturer)"}
MAX_LINES = 200

# What the database may still refuse when a service invoice is posted (a master changed meanwhile, a
# customer's record incomplete), as (field, message) for webapp.forms.save_or_field_error / post_once.
SERVICE_INVOICE_REFUSALS = {
    "invoice_service_has_customer": (None, "A service invoice is made out to the vehicle's owner: choose the customer"),
    "invoice_service_details": (None, "Only a service invoice or job sheet names the vehicle and the job card"),
    "invoice_service_vehicle_check": (None, "The vehicle's description is 2 to 200 characters"),
    "invoice_service_reference_check": (None, "The job card's reference is 2 to 60 characters"),
    "invoice_job_sheet_no_charge": (None, ("A job sheet charges the customer nothing: work the customer pays for "
                                           "is billed on a service invoice")),
    "invoice_service_charges_customer": (None, ("Nothing on this bill is paid by the customer: work all under "
                                                "warranty or free service gets a job sheet")),
    "invoice_service_line_item": (None, "Each line of a service invoice is a part or a labour operation"),
    "invoice_line_hsn_of_item": (None, ("A part's HSN or a labour operation's SAC changed in the master while the "
                                        "bill was prepared: prepare it again")),
    "invoice_line_coverage_on_service": (None, "Only workshop work is covered by warranty or free service"),
    "invoice_line_coverage_check": (None, "Coverage is the customer, warranty or free service"),
    "invoice_line_covered_no_charge": (None, "A line under warranty or free service charges the customer nothing"),
    "invoice_line_claimable_value_check": (None, "A line's claimable value is never negative"),
    "invoice_line_operation_code_fkey": (None, "That labour operation is no longer in the labour master"),
    "invoice_line_rate": (None, "The GST rate in the tax master changed while the bill was prepared: prepare it again"),
    "invoice_b2c_address": (None, ("The customer has no GSTIN and the bill is above the rule-46 limit: complete the "
                                   "customer's address and state")),
    "invoice_date_in_order": (None, ("A service invoice with a later date is already posted in this branch: they "
                                     "are numbered in date order")),
    "invoice_place_of_supply": (None, "This place of supply differs from where the work was done: give the reason"),
    "invoice_ship_to_address": (None, ("Work supplied in another state is delivered there: give the address where "
                                       "it was done")),
    "invoice_ship_to_state": (None, "The address where the work was done must be in the place of supply"),
    "invoice_delivery_state": (None, "Give the address where the work was done with its state"),
    "credit_note_not_for_job_sheet": (None, "A job sheet charged the customer nothing: there is nothing to credit"),
}


def _line_label(n: int) -> str:
    return f"Line {n}"


def _decimal(value, what: str, n: int, *, places: int) -> Decimal:
    """A quantity or an amount given by the caller as Decimal, int or a numeric str (never a float)."""
    if isinstance(value, (bool, float)) or value is None:
        raise Refused(f"{_line_label(n)}: {what} must be a number in figures")
    try:
        number = Decimal(value.strip()) if isinstance(value, str) else Decimal(value) if isinstance(value, int) else value
        if not isinstance(number, Decimal) or not number.is_finite():
            raise ValueError
        exact = number == number.quantize(Decimal(1).scaleb(-places))
    except (ArithmeticError, ValueError):
        raise Refused(f"{_line_label(n)}: {what} must be a number in figures") from None
    if not exact:
        raise Refused(f"{_line_label(n)}: {what} has more than {places} decimals")
    if abs(number) >= Decimal(10) ** 9:
        raise Refused(f"{_line_label(n)}: {what} is too large")
    return number


def _masters(conn: Connection, lines: list[Mapping], on: date) -> tuple[dict, dict]:
    """The parts (by part number) and labour operations (by code) the lines name, each with the GST rate
    of its HSN/SAC in force on the day (None: the tax master has none), in two reads."""
    part_nos = sorted({str(line.get("code") or "").strip().upper() for line in lines if line.get("kind") == "PART"})
    op_codes = sorted({str(line.get("code") or "").strip().upper() for line in lines if line.get("kind") == "LABOUR"})
    parts = {r["part_no"]: r for r in conn.execute(sa.text("""
        SELECT part_id, part_no, name, hsn_code, unit, whole_units, mrp, master.gst_rate_on(hsn_code, :on) AS gst_rate
          FROM master.part WHERE part_no = ANY(:n)"""), {"n": part_nos, "on": on}).mappings()}
    operations = {r["operation_code"]: r for r in conn.execute(sa.text("""
        SELECT operation_code, name, sac_code, rate, master.gst_rate_on(sac_code, :on) AS gst_rate
          FROM master.labour_operation WHERE operation_code = ANY(:c)"""), {"c": op_codes, "on": on}).mappings()}
    return parts, operations


def _drafted_line(n: int, line: Mapping, parts: dict, operations: dict, on: date) -> dict:
    """One line as the caller gave it, checked against the masters, ready for the kernel."""
    if not isinstance(line, Mapping):
        raise Refused(f"{_line_label(n)}: not a line")
    kind = line.get("kind")
    if kind not in LINE_KINDS:
        raise Refused(f"{_line_label(n)}: a line is labour (LABOUR) or a part (PART), not {kind!r}")
    code = str(line.get("code") or "").strip().upper()
    if not code:
        raise Refused(f"{_line_label(n)}: give the {'labour code' if kind == 'LABOUR' else 'part number'}")
    coverage = line.get("coverage") or "CUSTOMER"
    if coverage not in COVERAGES:
        raise Refused(f"{_line_label(n)}: coverage is CUSTOMER, WARRANTY or FREE_SERVICE, not {coverage!r}")
    if kind == "PART":
        item = parts.get(code)
        if item is None:
            raise Refused(f"{_line_label(n)}: no part {code} in the parts master")
        master_code, name, unit = item["hsn_code"], f"{item['name']} ({item['part_no']})", item["unit"]
        default_price, default_inclusive = item["mrp"], True   # parts are priced at MRP, GST included
    else:
        item = operations.get(code)
        if item is None:
            raise Refused(f"{_line_label(n)}: no labour operation {code} in the labour master")
        master_code, name, unit = item["sac_code"], f"{item['name']} ({item['operation_code']})", "NOS"
        default_price, default_inclusive = item["rate"], False  # labour is priced before GST
    given_code = "".join(str(line.get("hsn_sac") or "").split())
    if given_code and given_code != master_code:
        raise Refused(f"{_line_label(n)}: {code} is under HSN/SAC {master_code} in the master, not {given_code}")
    qty = _decimal(line.get("qty", 1), "the quantity", n, places=3)
    if qty <= 0:
        raise Refused(f"{_line_label(n)}: the quantity must be above zero")
    if kind == "PART" and item["whole_units"] and qty != qty.to_integral_value():
        raise Refused(f"{_line_label(n)}: {code} is counted in whole units ({unit})")
    price = line.get("unit_price")
    unit_price = default_price if price is None else _decimal(price, "the price", n, places=2)
    if unit_price < 0:
        raise Refused(f"{_line_label(n)}: the price cannot be negative")
    inclusive = line.get("price_includes_gst")
    if inclusive is None:
        inclusive = default_inclusive
    elif not isinstance(inclusive, bool):
        raise Refused(f"{_line_label(n)}: say whether the price includes GST (true or false)")
    discount = _decimal(line.get("discount") or 0, "the discount", n, places=2)
    if discount and coverage != "CUSTOMER":
        raise Refused(f"{_line_label(n)}: a line under warranty or free service takes no discount")
    description = " ".join(str(line.get("description") or name).split())
    if not 2 <= len(description) <= 300:
        raise Refused(f"{_line_label(n)}: the description is 2 to 300 characters")
    return {"description": description, "hsn_code": master_code, "qty": qty, "unit": unit, "unit_price": unit_price,
            "price_includes_gst": inclusive, "discount": discount, "gst_rate": _rate_of(item, master_code, on),
            "part_id": item["part_id"] if kind == "PART" else None,
            "operation_code": item["operation_code"] if kind == "LABOUR" else None,
            "unit_id": None, "coverage": coverage, "claimable_value": ZERO, "line_kind": kind}


def _rate_of(item: Mapping, code: str, on: date) -> Decimal:
    """The rate read with the master row (``_masters``), refused as posting._rate refuses a missing one."""
    if item["gst_rate"] is None:
        raise Refused(f"The tax master has no GST rate for HSN/SAC {code} on {on:%d-%m-%Y}")
    return item["gst_rate"]


def _computed(drafted: list[dict], place_of_supply: str, supplier_state: str) -> DraftInvoice:
    """Each line through the GST kernel as priced; a covered line keeps that taxable value as its claimable
    value and carries nothing for the customer; the invoice's totals and round-off are the kernel's over
    the customer's lines only (none: a job sheet, every amount zero)."""
    intra = place_of_supply == supplier_state
    shown = []
    for src in drafted:
        try:
            c = tax.compute_line(tax.InvoiceLine(
                description=src["description"], hsn_code=src["hsn_code"], qty=src["qty"], unit_price=src["unit_price"],
                gst_rate=src["gst_rate"], price_includes_gst=src["price_includes_gst"], discount=src["discount"]), intra)
        except (TypeError, ValueError) as exc:
            raise Refused(f"{src['description']}: {exc}") from None
        if src["coverage"] != "CUSTOMER":
            src["claimable_value"] = c.taxable_value
            c = dataclasses.replace(c, discount=ZERO, taxable_value=ZERO, tax=ZERO, cgst=ZERO, sgst=ZERO, igst=ZERO,
                                    total=ZERO)
        shown.append(c)
    charged = [c.line for c, src in zip(shown, drafted) if src["coverage"] == "CUSTOMER"]
    if charged:
        totals = tax.compute_invoice(charged, intra_state=intra)
    else:
        totals = tax.Invoice(intra_state=intra, lines=(), taxable_value=ZERO, cgst=ZERO, sgst=ZERO, igst=ZERO,
                             total_before_round_off=ZERO, round_off=ZERO, grand_total=ZERO, hsn_summary=())
    return DraftInvoice(place_of_supply, supplier_state, tuple(drafted), dataclasses.replace(totals, lines=tuple(shown)))


def _branch_state(conn: Connection, branch_id: int) -> str:
    state = conn.execute(sa.text("SELECT state_code FROM master.branch WHERE branch_id = :b"),
                         {"b": branch_id}).scalar()
    if state is None:
        raise Refused("No such branch")
    return state


def draft_service_invoice(conn: Connection, *, branch_id: int, invoice_date: date, lines: Iterable[Mapping],
                          place_of_supply: str | None = None, delivery_state: str | None = None) -> DraftInvoice:
    """What the bill would be, before posting (for a preview): each line checked against the masters
    and priced by the kernel, the place of supply the workshop's state unless the work was done at an
    address in ``delivery_state``. ``draft.computed.grand_total`` is what the customer pays; a draft
    with no customer line is a job sheet. Refused with a message naming the line on bad input."""
    lines = list(lines)
    if not lines:
        raise Refused("A service invoice needs at least one line of labour or parts")
    if len(lines) > MAX_LINES:
        raise Refused(f"A service invoice has at most {MAX_LINES} lines")
    branch_state = _branch_state(conn, branch_id)
    parts, operations = _masters(conn, lines, invoice_date)
    drafted = [_drafted_line(n, line, parts, operations, invoice_date) for n, line in enumerate(lines, start=1)]
    return _computed(drafted, place_of_supply or delivery_state or branch_state, branch_state)


def is_job_sheet(draft: DraftInvoice) -> bool:
    """No line is paid by the customer: the bill is a no-charge job sheet, not a tax invoice."""
    return all(src["coverage"] != "CUSTOMER" for src in draft.lines)


def post_service_invoice(conn: Connection, *, branch_id: int, customer_id: int, invoice_date: date,
                         lines: Iterable[Mapping], idempotency_key: str, vehicle: str | None = None,
                         reference: str | None = None, delivery_address: str | None = None,
                         delivery_state: str | None = None, place_of_supply: str | None = None,
                         override_reason: str | None = None) -> int:
    """Post a job card's bill and return its invoice_id: a service invoice (SI series) when some line is
    paid by the customer, else a job sheet (JS series), every amount zero.

    ``lines``: mappings of ``kind`` (LABOUR or PART), ``code`` (labour code or part number),
    ``description`` (default: the master's name), ``hsn_sac`` (optional; must be the master's), ``qty``,
    ``unit_price`` (default: a labour operation's rate, GST excluded; a part's MRP, GST included),
    ``price_includes_gst`` (default: as the master quotes), ``coverage`` (CUSTOMER, WARRANTY or
    FREE_SERVICE; default CUSTOMER) and ``discount`` (rupees, customer lines only). Amounts and
    quantities are Decimal, int or str, never float.

    ``vehicle``, ``reference``: printed on the bill (e.g. "KA01AB1234 · VIN ... · 12,480 km", the job
    card's number). The work is supplied at the workshop (its state: CGST + SGST) unless it was done at
    ``delivery_address`` in ``delivery_state``; another place of supply needs ``override_reason``.
    A second call with the same ``idempotency_key`` returns the bill the first one posted. Bad input
    raises documents.Refused with a message; what the database still refuses is an IntegrityError
    whose constraint SERVICE_INVOICE_REFUSALS names."""
    found = already_posted(conn, "invoice", idempotency_key)
    if found:
        return found
    customer = conn.execute(sa.text("""
        SELECT c.*, s.name AS state_name FROM master.customer c JOIN master.state s USING (state_code)
         WHERE c.customer_id = :c"""), {"c": customer_id}).mappings().first()
    if customer is None:
        raise Refused("No such customer: the bill is made out to the vehicle's owner")
    ship_address, ship_state = delivered_to(delivery_address, delivery_state)
    branch_state = _branch_state(conn, branch_id)
    default_pos = ship_state or branch_state
    draft = draft_service_invoice(conn, branch_id=branch_id, invoice_date=invoice_date, lines=lines,
                                  place_of_supply=place_of_supply or default_pos)
    overridden = draft.place_of_supply != default_pos
    reason = (override_reason or "").strip() or None
    if overridden and not reason:
        raise Refused("Give the reason for a place of supply other than where the work was done")
    vehicle = " ".join((vehicle or "").split()) or None
    reference = " ".join((reference or "").split()) or None
    if vehicle is not None and not 2 <= len(vehicle) <= 200:
        raise Refused("The vehicle's description is 2 to 200 characters")
    if reference is not None and not 2 <= len(reference) <= 60:
        raise Refused("The job card's reference is 2 to 60 characters")
    return _insert_invoice(conn, {
        "branch_id": branch_id, "invoice_date": invoice_date, "kind": "JOB_SHEET" if is_job_sheet(draft) else "SERVICE",
        "booking_id": None, "unit_id": None, "customer_id": customer_id, "buyer_name": customer["name"],
        "buyer_address": _address(customer), "buyer_state_code": customer["state_code"],
        "buyer_gstin": customer["gstin"], "buyer_mobile": customer["mobile"], "delivery_address": ship_address,
        "delivery_state_code": ship_state, "pos_overridden": overridden,
        "pos_override_reason": reason if overridden else None, "key": idempotency_key,
        "service_vehicle": vehicle, "service_reference": reference,
    }, draft)


def service_invoice_balance(conn: Connection, invoice_id: int) -> dict | None:
    """What the workshop needs to know of a bill: its kind (SERVICE or JOB_SHEET) and number, what it
    comes to for the customer (``due``: the invoice less a credit note), ``received`` (receipts less
    refunds), ``balance`` (due - received; negative: an excess to refund), ``reversed`` (a credit note
    took it back) and ``paid_in_full`` (billing.invoice_paid_in_full: what the gate pass asks). None
    for an invoice of another kind or of another branch."""
    row = conn.execute(sa.text("""
        SELECT i.invoice_id, i.kind, i.invoice_no, i.amount_payable, cn.credit_note_id IS NOT NULL AS reversed,
               coalesce(cb.due, 0) AS due, coalesce(cb.received, 0) AS received,
               billing.invoice_paid_in_full(i.invoice_id) AS paid_in_full
          FROM billing.invoice i
          LEFT JOIN billing.counter_balance cb ON cb.invoice_id = i.invoice_id
          LEFT JOIN billing.credit_note cn ON cn.invoice_id = i.invoice_id
         WHERE i.invoice_id = :i AND i.kind IN ('SERVICE', 'JOB_SHEET')"""), {"i": invoice_id}).mappings().first()
    if row is None:
        return None
    return {**row, "balance": (row["due"] - row["received"]).quantize(PAISA)}


def invoice_paid_in_full(conn: Connection, invoice_id: int) -> bool:
    """Paid in full (a job sheet always is; a reversed invoice never releases a vehicle)."""
    return bool(conn.execute(sa.text("SELECT billing.invoice_paid_in_full(:i)"), {"i": invoice_id}).scalar())


def unpaid_service_invoices(conn: Connection, customer_id: int) -> list[dict]:
    """The customer's service invoices of this branch still owed something (billing.invoice_balance's
    partial index finds them): invoice_id, invoice_no, invoice_date, service_reference, due, received,
    balance. For the workshop's arrival page."""
    return [dict(r) for r in conn.execute(sa.text("""
        SELECT i.invoice_id, i.invoice_no, i.invoice_date, i.service_reference, k.due, k.received, k.balance
          FROM billing.invoice_balance k JOIN billing.invoice i ON i.invoice_id = k.invoice_id
         WHERE k.balance > 0 AND i.kind = 'SERVICE' AND i.customer_id = :c
         ORDER BY i.invoice_date, i.invoice_id"""), {"c": customer_id}).mappings()]


def service_invoice_numbers(conn: Connection, invoice_ids: list[int]) -> dict[int, dict]:
    """Number and kind (SERVICE or JOB_SHEET) of these service invoices, by id, in one read."""
    ids = sorted({int(i) for i in invoice_ids if i})
    if not ids:
        return {}
    return {r["invoice_id"]: dict(r) for r in conn.execute(sa.text("""
        SELECT invoice_id, invoice_no, kind FROM billing.invoice
         WHERE invoice_id = ANY(:ids) AND kind IN ('SERVICE', 'JOB_SHEET')"""), {"ids": ids}).mappings()}


def service_invoice_credits(conn: Connection, invoice_ids: list[int]) -> dict[int, dict]:
    """These service invoices (of this branch) with the credit note that reversed each, if any, by id, in
    one read: invoice_id, invoice_no, invoice_date, amount_payable, credit_note_id, credit_note_no,
    note_date (None when not credited). For a job card's earlier bills."""
    ids = sorted({int(i) for i in invoice_ids if i})
    if not ids:
        return {}
    return {r["invoice_id"]: dict(r) for r in conn.execute(sa.text("""
        SELECT i.invoice_id, i.invoice_no, i.invoice_date, i.kind, i.amount_payable,
               cn.credit_note_id, cn.credit_note_no, cn.note_date
          FROM billing.invoice i LEFT JOIN billing.credit_note cn ON cn.invoice_id = i.invoice_id
         WHERE i.invoice_id = ANY(:ids) AND i.kind IN ('SERVICE', 'JOB_SHEET')"""), {"ids": ids}).mappings()}
