"""Loading a posted tax invoice or credit note for rendering, on screen and as a PDF.

One function gathers what a printed document needs (rule 46: the supplier as the branch is now
named, the parties and amounts as they were posted, the lines, the HSN-wise summary, the amount
in words, the UPI QR of what is still due), so the HTML page and the PDF cannot disagree.
Query functions take the request's connection first and never commit.
"""
from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from urllib.parse import quote

import segno
import sqlalchemy as sa
from markupsafe import Markup
from sqlalchemy.engine import Connection

from ..master.api import branch_for_print
from .tax import amount_in_words

ZERO = Decimal("0.00")

INVOICE_SQL = """
    SELECT i.*, bs.name AS buyer_state_name, ps.name AS pos_name, ss.name AS supplier_state_name,
           b.booking_no,
           cn.credit_note_id, cn.credit_note_no, cn.note_date AS credit_note_date,
           st.name AS posted_by_name
      FROM billing.invoice i
      JOIN master.state ps ON ps.state_code = i.place_of_supply
      JOIN master.state ss ON ss.state_code = i.supplier_state_code
      LEFT JOIN master.state bs ON bs.state_code = i.buyer_state_code
      LEFT JOIN sales.booking b ON b.booking_id = i.booking_id
      LEFT JOIN billing.credit_note cn ON cn.invoice_id = i.invoice_id
      LEFT JOIN master.staff st ON st.staff_id = i.posted_by
     WHERE i.invoice_id = :i"""


def get_invoice(conn: Connection, invoice_id: int):
    """The invoice header with its state names, booking and credit note (None if missing)."""
    return conn.execute(sa.text(INVOICE_SQL), {"i": invoice_id}).mappings().first()


def invoice_lines(conn: Connection, invoice_id: int):
    return conn.execute(sa.text("""
        SELECT l.*, round(l.qty * l.unit_price, 2) AS gross_value
          FROM billing.invoice_line l WHERE l.invoice_id = :i ORDER BY l.line_no"""),
        {"i": invoice_id}).mappings().all()


def hsn_summary(lines) -> list[dict]:
    """HSN/SAC-wise taxable value and tax by head, as posted (GSTR-1 table 12)."""
    groups: dict[tuple[str, Decimal], dict] = {}
    for line in lines:
        key = (line["hsn_code"], line["gst_rate"].normalize())
        row = groups.setdefault(key, {"hsn_code": key[0], "gst_rate": key[1], "qty": Decimal(0),
                                      "taxable_value": ZERO, "cgst": ZERO, "sgst": ZERO, "igst": ZERO})
        row["qty"] += line["qty"]
        for head in ("taxable_value", "cgst", "sgst", "igst"):
            row[head] += line[head]
    rows = [groups[k] for k in sorted(groups)]
    for row in rows:
        row["tax"] = row["cgst"] + row["sgst"] + row["igst"]
    return rows


SERVICE_KINDS = ("SERVICE", "JOB_SHEET")

# The groups of a workshop bill, in the order printed, with what each group's total means.
COVERAGE_GROUPS = (
    ("CUSTOMER", "Paid by the customer"),
    ("WARRANTY", "Under warranty: no charge to the customer, claimed from the manufacturer"),
    ("FREE_SERVICE", "Free service: no charge to the customer, claimed from the manufacturer"),
)


def line_groups(invoice, lines) -> list[dict]:
    """The lines as printed: one group without a title for a sale, and for a workshop bill one group per
    coverage present (paid by the customer, warranty, free service), each with its totals: what the
    customer pays (taxable value, tax, total) and, for a covered group, what the work is worth
    (``claimable``, before GST) and is claimed from the manufacturer."""
    if invoice["kind"] not in SERVICE_KINDS:
        return [{"coverage": None, "title": None, "lines": list(lines)}]
    groups = []
    for coverage, title in COVERAGE_GROUPS:
        chosen = [line for line in lines if line["coverage"] == coverage]
        if chosen:
            groups.append({
                "coverage": coverage, "title": title, "lines": chosen,
                "taxable_value": sum((line["taxable_value"] for line in chosen), ZERO),
                "tax": sum((line["cgst"] + line["sgst"] + line["igst"] for line in chosen), ZERO),
                "total": sum((line["total"] for line in chosen), ZERO),
                "claimable": sum((line["claimable_value"] for line in chosen), ZERO)})
    return groups


def amounts_to_pay(conn: Connection, invoice) -> dict:
    """What is still to be paid on this invoice's sale, split by who pays it.

    ``customer``: the buyer's own share, the only figure shown to the buyer as "to pay" (the UPI QR,
    the payment form): never above the invoice less what the loan, exchange value and subsidy
    cover. ``loan``, ``exchange``, ``subsidy``: recorded and not yet credited, shown beside it.
    Nothing once a credit note reverses the invoice."""
    nothing = {"customer": ZERO, "loan": ZERO, "exchange": ZERO, "subsidy": ZERO, "others": ZERO}
    if invoice["credit_note_id"] is not None:
        return nothing
    if invoice["kind"] == "VEHICLE":
        row = conn.execute(sa.text("""
            SELECT bb.customer_balance, bb.loan_pending, bb.exchange_pending, bb.subsidy_pending, bb.others_pending,
                   coalesce(f.loan_amount, 0) + coalesce(x.valuation, 0) + b.subsidy_eligible AS others_recorded
              FROM billing.booking_balance bb
              JOIN sales.booking b ON b.booking_id = bb.booking_id
              LEFT JOIN sales.finance f ON f.booking_id = bb.booking_id
              LEFT JOIN sales.exchange x ON x.booking_id = bb.booking_id
             WHERE bb.booking_id = :b AND bb.invoice_id = :i"""),
            {"b": invoice["booking_id"], "i": invoice["invoice_id"]}).mappings().first()
        if row is None:
            return nothing
        customer = min(row["customer_balance"], invoice["amount_payable"] - row["others_recorded"])
        return {"customer": max(customer, ZERO), "loan": row["loan_pending"], "exchange": row["exchange_pending"],
                "subsidy": row["subsidy_pending"], "others": row["others_pending"]}
    balance = conn.execute(sa.text("SELECT customer_balance FROM billing.counter_balance WHERE invoice_id = :i"),
                           {"i": invoice["invoice_id"]}).scalar()
    return {**nothing, "customer": max(balance or ZERO, ZERO)}


def upi_uri(upi_id: str, payee: str, amount: Decimal, note: str) -> str:
    """The UPI deep link a phone's payment app opens (NPCI's upi://pay parameters)."""
    return (f"upi://pay?pa={quote(upi_id, safe='@.-_')}&pn={quote(payee, safe='')}&am={amount:.2f}"
            f"&cu=INR&tn={quote(note, safe='')}")


@lru_cache(maxsize=256)
def qr_svg(text: str, scale: int = 3) -> Markup:
    """A QR code as inline SVG: printed without any fetch, and sized by its width and height
    attributes on screen (no style attribute, CSP-safe).

    Drawing one takes ~10 ms and the text fully determines the picture, so the last 256 drawn are
    kept in this process (a page with money owed is opened again and again until it is paid; a
    few KB each)."""
    return Markup(segno.make(text, error="m", micro=False).svg_inline(
        scale=scale, border=2, svgclass="qr", lineclass=None))


def upi_payment(branch, amount: Decimal, invoice_no: str) -> dict | None:
    """The UPI QR for what the buyer still has to pay, or None when the branch takes no UPI or
    nothing is due from the buyer."""
    if not branch["upi_id"] or amount <= 0:
        return None
    payee = branch["trade_name"] or branch["legal_name"]
    uri = upi_uri(branch["upi_id"], payee, amount, invoice_no)
    return {"uri": uri, "svg": qr_svg(uri), "amount": amount, "upi_id": branch["upi_id"], "payee": payee}


def ship_to(inv, branch) -> dict:
    """The printed "Ship to", always in the place of supply: the delivery address with the place
    of supply's state, or the showroom when the goods were handed over there.

    An invoice posted before delivery states were recorded (delivery_state_code empty) carried
    the buyer's own address as its delivery address; within the showroom's state that meant a
    hand-over at the showroom."""
    at_showroom = inv["delivery_address"] is None or (
        inv["delivery_state_code"] is None and inv["place_of_supply"] == inv["supplier_state_code"]
        and inv["delivery_address"] == inv["buyer_address"])
    if at_showroom:
        address = ", ".join(p for p in (branch["address_line1"], branch["address_line2"],
                                         f"{branch['city']} {branch['pincode']}") if p)
        where = "Serviced and handed over at the workshop" if inv["kind"] in SERVICE_KINDS else "Handed over at the showroom"
        return {"name": inv["buyer_name"], "address": f"{where}: {address}",
                "state_name": branch["state_name"], "state_code": branch["state_code"], "at_showroom": True}
    return {"name": inv["buyer_name"], "address": inv["delivery_address"], "state_name": inv["pos_name"],
            "state_code": inv["place_of_supply"], "at_showroom": False}


def invoice_document(conn: Connection, invoice_id: int) -> dict | None:
    """Everything an invoice page or PDF shows (template context), None if there is no such invoice."""
    inv = get_invoice(conn, invoice_id)
    if inv is None:
        return None
    branch = branch_for_print(conn, inv["branch_id"])
    lines = invoice_lines(conn, invoice_id)
    to_pay = amounts_to_pay(conn, inv)
    groups = line_groups(inv, lines)
    return {
        "inv": inv, "branch": branch, "lines": lines, "groups": groups,
        "doc_name": {"SERVICE": "Service invoice", "JOB_SHEET": "Job sheet"}.get(inv["kind"], "Tax invoice"),
        "covered": [g for g in groups if g["coverage"] not in (None, "CUSTOMER")],
        # what was supplied for a price (a covered line carries nothing for the customer)
        "hsn": hsn_summary([line for line in lines if line["coverage"] == "CUSTOMER"]),
        "ship_to": ship_to(inv, branch),
        "intra_state": inv["place_of_supply"] == inv["supplier_state_code"],
        "words": amount_in_words(inv["grand_total"]),
        "payable_words": amount_in_words(inv["amount_payable"]) if inv["tcs_amount"] > 0 else None,
        "to_pay": to_pay, "upi": upi_payment(branch, to_pay["customer"], inv["invoice_no"]),
        "signed_qr_svg": qr_svg(inv["signed_qr"], 2) if inv["signed_qr"] else None,
    }


CREDIT_NOTE_SQL = """
    SELECT cn.*, st.name AS posted_by_name FROM billing.credit_note cn
      LEFT JOIN master.staff st ON st.staff_id = cn.posted_by
     WHERE cn.credit_note_id = :c"""


def credit_note_document(conn: Connection, credit_note_id: int) -> dict | None:
    """A credit note with the invoice it reverses (its parties, lines and totals)."""
    cn = conn.execute(sa.text(CREDIT_NOTE_SQL), {"c": credit_note_id}).mappings().first()
    if cn is None:
        return None
    doc = invoice_document(conn, cn["invoice_id"])
    doc.update(cn=cn, words=amount_in_words(cn["grand_total"]), upi=None,
               refund_words=amount_in_words(cn["grand_total"] + cn["tcs_amount"]) if cn["tcs_amount"] > 0 else None)
    return doc


def what_a_credit_note_does(conn: Connection, invoice) -> list[str]:
    """What posting a credit note against this invoice will put back, in the showroom's words."""
    if invoice["kind"] in SERVICE_KINDS:
        return ["Nothing goes back to stock: the parts were issued to the job card and fitted to the vehicle "
                "(parts not used are returned on the job card).",
                "The customer then owes nothing on it; what they paid against it is given back on a refund voucher.",
                (f"Job card {invoice['service_reference']}, if the vehicle has not left yet, can then be billed again "
                 "on a new invoice (its work corrected first if need be).") if invoice.get("service_reference")
                else "The job card, if the vehicle has not left yet, can then be billed again on a new invoice."]
    if invoice["kind"] == "VEHICLE":
        vin = conn.execute(sa.text("SELECT vin FROM inventory.vehicle_unit WHERE unit_id = :u"),
                           {"u": invoice["unit_id"]}).scalar()
        return [f"The vehicle {vin} goes back to stock (in stock, free to allot).",
                (f"Booking {invoice['booking_no']} goes back to booked: allot a unit and invoice it again, "
                 "or cancel it and refund what was received.")]
    parts = conn.execute(sa.text("""
        SELECT l.description, l.qty, l.unit FROM billing.invoice_line l
         WHERE l.invoice_id = :i AND l.part_id IS NOT NULL ORDER BY l.line_no"""),
        {"i": invoice["invoice_id"]}).mappings().all()
    return [f"{p['description']}: {p['qty'].normalize():f} {p['unit']} back to stock." for p in parts]


def states(conn: Connection):
    """States and union territories in use, for a place-of-supply select: (code, 'Name (code)')."""
    return [(r.state_code, f"{r.name} ({r.state_code})") for r in conn.execute(sa.text(
        "SELECT state_code, name FROM master.state WHERE in_use ORDER BY name"))]


def state_name(conn: Connection, state_code: str | None) -> str | None:
    if not state_code:
        return None
    return conn.execute(sa.text("SELECT name FROM master.state WHERE state_code = :s"), {"s": state_code}).scalar()
