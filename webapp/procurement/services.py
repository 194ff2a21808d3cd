"""Procurement documents that change several tables at once, each in the request's transaction:
approving a purchase order (it takes its number), posting a goods receipt (vehicles, battery
packs and parts stock), posting a purchase invoice; and the money arithmetic they share."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy.engine import Connection

from ..documents import Refused  # the action cannot be done in the document's present state
from ..gst import exclusive_line_tax
from ..money import round_paisa, round_rupee
from . import queries
from .dispatch import DispatchList, DispatchRow, parse_dispatch_list

RECEIVABLE = ("SENT", "PART_RECEIVED")


# --------------------------------------------------------------------------- money
# The arithmetic is billing's, from the shared kernel (webapp.gst, webapp.money): the same
# amount at the same rate carries the same tax on a purchase as on a sale.


paise = round_paisa


def line_gst(amount: Decimal, rate: Decimal | None, same_state: bool) -> dict[str, Decimal]:
    """GST on one GST-exclusive amount, to the paisa (5% of 100.10 = 5.01): CGST = half of it
    rounded and SGST the rest within the state, else all of it IGST."""
    heads = exclusive_line_tax(amount, rate, same_state)
    return {"cgst": heads.cgst, "sgst": heads.sgst, "igst": heads.igst}


def round_to_rupee(amount: Decimal) -> tuple[Decimal, Decimal]:
    """(total rounded to the rupee, the round-off that gets there)."""
    total = round_rupee(amount)
    return total, total - round_paisa(amount)


@dataclass
class Totals:
    taxable: Decimal = Decimal("0.00")
    cgst: Decimal = Decimal("0.00")
    sgst: Decimal = Decimal("0.00")
    igst: Decimal = Decimal("0.00")
    round_off: Decimal = Decimal("0.00")
    total: Decimal = Decimal("0.00")
    missing_rates: list[str] = field(default_factory=list)  # HSN codes with no rate on the day

    @property
    def tax(self) -> Decimal:
        return self.cgst + self.sgst + self.igst


def add_up(amounts: list[tuple[Decimal, Decimal | None, str]], same_state: bool) -> Totals:
    """Totals of GST-exclusive amounts [(amount, GST rate, HSN)], tax worked per amount to the paisa."""
    totals = Totals()
    for amount, rate, hsn in amounts:
        totals.taxable += amount
        if rate is None and hsn not in totals.missing_rates:
            totals.missing_rates.append(hsn)
        for head, value in line_gst(amount, rate, same_state).items():
            setattr(totals, head, getattr(totals, head) + value)
    totals.total, totals.round_off = round_to_rupee(totals.taxable + totals.tax)
    return totals


# --------------------------------------------------------------------------- purchase orders


def fill_usual_prices(conn: Connection, branch_id: int, on: date, lines: list[dict]) -> list[dict]:
    """Lines without a price get the usual one: the part's purchase price, or for a vehicle the last
    price paid, else the price list (ex-factory, or ex-showroom without its GST)."""
    vehicles = [(ln["variant_id"], ln["colour"]) for ln in lines if ln["variant_id"] and ln["unit_price"] is None]
    prices = queries.usual_vehicle_prices(conn, branch_id, vehicles, on)
    for line in lines:
        if line["unit_price"] is None:
            if line["variant_id"]:
                line["unit_price"] = prices.get((line["variant_id"], line["colour"]), Decimal("0.00"))
            else:
                line["unit_price"] = line.pop("usual_price", None) or Decimal("0.00")
        line.pop("usual_price", None)
    return lines


def save_purchase_order(conn: Connection, *, branch_id: int, oem_id: int, header: dict, lines: list[dict],
                        po_id: int | None = None) -> int:
    """A new draft, or the draft's header and lines replaced."""
    lines = fill_usual_prices(conn, branch_id, header["order_date"], lines)
    if po_id is None:
        po_id = queries.insert_po(conn, branch_id, oem_id, header)
    else:
        queries.update_po_header(conn, po_id, header)
    queries.replace_po_lines(conn, po_id, lines)
    return po_id


def approve_purchase_order(conn: Connection, po_id: int, approver_id: int) -> str:
    """Approve a draft: the approval takes the next PO number of its branch and financial year
    (gapless, in the database); an order approved before keeps its number."""
    po = queries.get_po(conn, po_id, lock=True)
    if po is None or po.status != "DRAFT":
        raise Refused(f"Only a draft can be approved; this order is {status_phrase(po.status)}."
                      if po else "There is no such purchase order.")
    return queries.approve_po(conn, po_id, approver_id)


STATUS_LABELS = {"DRAFT": "Draft", "APPROVED": "Approved", "SENT": "Sent to the OEM",
                 "PART_RECEIVED": "Partly received", "RECEIVED": "Received", "CLOSED": "Closed",
                 "CANCELLED": "Cancelled"}


STATUS_PHRASES = {"DRAFT": "a draft", "APPROVED": "approved", "SENT": "sent to the OEM",
                  "PART_RECEIVED": "partly received", "RECEIVED": "received in full", "CLOSED": "closed",
                  "CANCELLED": "cancelled"}


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


def status_phrase(status: str) -> str:
    """'This order is <phrase>'."""
    return STATUS_PHRASES.get(status, status.lower())


def order_totals(lines, same_state: bool) -> Totals:
    return add_up([(line.amount, line.gst_rate, line.hsn_code) for line in lines], same_state)


# --------------------------------------------------------------------------- goods receipts


@dataclass
class ReceiptCheck:
    """The preview of a receipt: every vehicle row with its problems, and the parts."""

    dispatch: DispatchList
    parts: list[dict]
    problems: list[str]  # about the receipt as a whole

    @property
    def messages(self) -> list[str]:
        return [*self.problems, *self.dispatch.messages]

    @property
    def is_clean(self) -> bool:
        return not self.problems and self.dispatch.is_clean


class ReceiptRefused(Refused):
    def __init__(self, check: ReceiptCheck):
        super().__init__("; ".join(check.messages[:3]))
        self.check = check


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def check_goods_receipt(conn: Connection, po, lines, text: str, received_on: date,
                        parts: list[dict]) -> ReceiptCheck:
    """Everything that would stop the receipt, found before anything is saved.

    Vehicles: each row's own values (see dispatch.py), then the variant and colour against the
    order's lines, repeats within the list, VINs and serials the showroom already has, and more
    vehicles than a line still awaits. Parts: quantities against what each line still awaits.
    """
    dispatch = parse_dispatch_list(text, received_on)
    problems: list[str] = []
    vehicle_lines = [ln for ln in lines if ln.variant_id is not None]
    if dispatch.rows and not vehicle_lines:
        problems.append("This order has no vehicles on it: leave the dispatch list empty.")
    elif dispatch.rows:
        _match_order_lines(conn, po, vehicle_lines, dispatch.rows)
        _refuse_repeats(dispatch.rows)
        _refuse_known(conn, dispatch.rows)
        _refuse_more_than_ordered(vehicle_lines, dispatch.rows)
    if received_on < po.order_date:
        problems.append(f"The receipt date is before the order date ({po.order_date:%d-%m-%Y}).")
    by_id = {ln.po_line_id: ln for ln in lines}
    for part in parts:
        line = by_id.get(part["po_line_id"])
        if line is None or line.part_id is None:
            problems.append("A part line is not on this order.")
        elif part["qty"] > line.remaining:
            problems.append(f"Line {line.line_no} ({line.part_no}): {_qty(part['qty'])} received but only "
                            f"{_qty(line.remaining)} still awaited.")
        elif line.whole_units and part["qty"] != part["qty"].to_integral_value():
            problems.append(f"Line {line.line_no} ({line.part_no}): counted in whole units, not {_qty(part['qty'])}.")
    if not dispatch.rows and not parts and not dispatch.problems:
        problems.append("Nothing to receive: add the vehicles of the dispatch list or a quantity of a part.")
    return ReceiptCheck(dispatch, parts, problems)


def _qty(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _line_label(line) -> str:
    return f"{line.model} {line.variant} · {line.colour}"


def _match_order_lines(conn: Connection, po, vehicle_lines, rows: list[DispatchRow]) -> None:
    names: dict[int, set[str]] = {}
    for ln in vehicle_lines:
        names.setdefault(ln.variant_id, set()).update(
            {_norm(ln.variant), _norm(f"{ln.model} {ln.variant}"), _norm(f"{po.brand} {ln.model} {ln.variant}")})
    catalog = None
    for row in rows:
        if row.variant:
            wanted = _norm(row.variant)
            variant_ids = {vid for vid, known in names.items() if wanted in known}
            if not variant_ids:
                catalog = catalog if catalog is not None else queries.oem_variant_names(conn, po.oem_id)
                exists = any(wanted in {_norm(c.variant), _norm(f"{c.model} {c.variant}")} for c in catalog)
                row.refuse("variant", f"“{row.variant}” is not on this purchase order" if exists else
                           f"“{row.variant}” is not a variant of {po.brand}")
                continue
            if len(variant_ids) > 1:
                row.refuse("variant", f"“{row.variant}” could be more than one variant: write the model too")
                continue
        else:
            variant_ids = set(names)
            if len(variant_ids) > 1:
                row.refuse("variant", "missing: this order has more than one variant")
                continue
        variant_id = next(iter(variant_ids))
        candidates = [ln for ln in vehicle_lines if ln.variant_id == variant_id]
        if row.colour:
            chosen = [ln for ln in candidates if _norm(ln.colour) == _norm(row.colour)]
            if not chosen:
                catalog = catalog if catalog is not None else queries.oem_variant_names(conn, po.oem_id)
                known = any(c.variant_id == variant_id and c.colour and _norm(c.colour) == _norm(row.colour)
                            for c in catalog)
                ordered = ", ".join(ln.colour for ln in candidates)
                row.refuse("colour", (f"“{row.colour}” is not on this purchase order" if known else
                                      f"“{row.colour}” is not a colour of {candidates[0].variant}")
                           + f" (ordered: {ordered})")
                continue
        elif len(candidates) == 1:
            chosen = candidates
        else:
            row.refuse("colour", "missing: this variant is ordered in " + ", ".join(ln.colour for ln in candidates))
            continue
        line = chosen[0]
        row.po_line_id, row.variant_id, row.colour = line.po_line_id, line.variant_id, line.colour
        row.line_label = _line_label(line)


def _identities(row: DispatchRow):
    yield "vin", row.vin
    yield "motor_no", row.motor_no
    if row.charger_serial:
        yield "charger_serial", row.charger_serial
    for serial in row.batteries:
        yield "batteries", serial


def _refuse_repeats(rows: list[DispatchRow]) -> None:
    seen: dict[tuple[str, str], int] = {}
    for row in rows:
        for column, value in _identities(row):
            if not value:
                continue
            first = seen.setdefault((column, value), row.row_no)
            if first != row.row_no:
                row.refuse(column, f"“{value}” is also on row {first}")


def _refuse_known(conn: Connection, rows: list[DispatchRow]) -> None:
    wanted: dict[str, list[str]] = {"vin": [], "motor_no": [], "charger_serial": [], "batteries": []}
    for row in rows:
        for column, value in _identities(row):
            if value:
                wanted[column].append(value)
    known = queries.existing_identities(conn, wanted["vin"], wanted["motor_no"], wanted["charger_serial"],
                                        wanted["batteries"])
    for row in rows:
        for column, value in _identities(row):
            if value in known[column]:
                vin = known[column][value]
                if column == "vin":
                    row.refuse(column, f"“{value}” is already in the showroom's stock records")
                else:
                    row.refuse(column, f"“{value}” is already in stock" + (f" on VIN {vin}" if vin else ""))


def _refuse_more_than_ordered(vehicle_lines, rows: list[DispatchRow]) -> None:
    left = {ln.po_line_id: ln.remaining for ln in vehicle_lines}
    line_no = {ln.po_line_id: ln.line_no for ln in vehicle_lines}
    wanted: dict[int, int] = {}
    for row in rows:
        if row.po_line_id is not None:
            wanted[row.po_line_id] = wanted.get(row.po_line_id, 0) + 1
    counted: dict[int, int] = {}
    for row in rows:
        if row.po_line_id is None:
            continue
        counted[row.po_line_id] = counted.get(row.po_line_id, 0) + 1
        if counted[row.po_line_id] > left[row.po_line_id]:
            line = row.po_line_id
            row.refuse("variant", f"more than ordered: line {line_no[line]} ({row.line_label}) awaits "
                                  f"{_qty(left[line])} and this list has {wanted[line]}")


def post_goods_receipt(conn: Connection, *, po_id: int, received_on: date, dispatch_ref: str | None,
                       dispatch_text: str, parts: list[dict]) -> tuple[int, str]:
    """Receive vehicles and parts against a sent order, all or nothing; returns (grn_id, GRN number).

    The order row is locked first, so two people receiving against one order queue here and the
    second one's check sees the first one's vehicles. The list is checked again from its text
    (never from what a previous page showed); any problem raises ReceiptRefused with the preview.
    Vehicles: vehicle_unit rows IN_STOCK at the order's branch at the line's price, their battery
    packs and fitments. Parts: RECEIPT stock moves at the given cost. The order's received
    quantities and status follow by trigger.
    """
    po = queries.get_po(conn, po_id, lock=True)
    if po is None:
        raise Refused("There is no such purchase order.")
    if po.status not in RECEIVABLE:
        raise Refused(f"Goods are received only against an order sent to the OEM; this one is "
                      f"{status_phrase(po.status)}.")
    lines = queries.po_lines(conn, po_id)
    check = check_goods_receipt(conn, po, lines, dispatch_text, received_on, parts)
    if not check.is_clean:
        raise ReceiptRefused(check)
    grn_id, grn_no = queries.insert_goods_receipt(conn, po_id, po.branch_id, received_on, dispatch_ref)
    rows = check.dispatch.rows
    if rows:
        price = {ln.po_line_id: ln.unit_price for ln in lines}
        queries.insert_received_units(conn, grn_id, po.branch_id, received_on, {
            "vin": [r.vin for r in rows], "motor_no": [r.motor_no for r in rows],
            "charger_serial": [r.charger_serial for r in rows], "key_no": [r.key_no for r in rows],
            "variant_id": [r.variant_id for r in rows], "colour": [r.colour for r in rows],
            "mfg_month": [r.mfg_month for r in rows], "purchase_cost": [price[r.po_line_id] for r in rows],
            "po_line_id": [r.po_line_id for r in rows],
            "battery_vin": [r.vin for r in rows for _ in r.batteries],
            "battery_serial": [s for r in rows for s in r.batteries],
            "fitment_reason": f"Fitted by the OEM; received on {grn_no}",
        })
    part_ids = {ln.po_line_id: ln.part_id for ln in lines}
    queries.insert_received_parts(conn, grn_id, po.branch_id, grn_no,
                                  [{**p, "part_id": part_ids[p["po_line_id"]]} for p in parts])
    return grn_id, grn_no


# --------------------------------------------------------------------------- purchase invoices


def invoice_figures(conn: Connection, *, branch_id: int, oem_id: int, grn_ids: list[int], on: date) -> Totals:
    """What the OEM's invoice for these receipts should say: their value before GST, the tax by head
    at each HSN code's rate on the invoice date, rounded to the rupee."""
    same_state = queries.same_state(conn, branch_id, oem_id)
    rows = queries.receipts_taxable_by_hsn(conn, grn_ids, on) if grn_ids else []
    return add_up([(r.taxable, r.gst_rate, r.hsn_code) for r in rows], same_state)


def post_purchase_invoice(conn: Connection, *, branch_id: int, oem_id: int, data: dict, grn_ids: list[int]) -> int:
    """The OEM's invoice and the receipts it bills (each receipt is billed once: unique key)."""
    pinv_id = queries.insert_purchase_invoice(conn, branch_id, oem_id, data, grn_ids)
    billed = {g.grn_id for g in queries.pinv_receipts(conn, pinv_id)}
    if billed != set(grn_ids):
        raise Refused("A chosen receipt is not one of this OEM's receipts at this branch.")
    return pinv_id
