"""The job card's bill and the way out: "Make the invoice" from a READY card (quality check passed)
whose customer-paid work is all approved, posted through billing's api in the request's
transaction (a service invoice, or a job sheet when every line is covered), linked once from the
card (service.job_card.invoice_id, and its history service.job_card_bill); then the payment at billing's receipt screen and the gate pass,
which the database grants only when the bill is paid in full, nothing was billed, or a MANAGER
releases the vehicle on credit with a reason (sql/0028_service_bill.sql). The gate pass moves the
card to DELIVERED and stores the vehicle's next service due. A credit note reversing the bill of a card
not yet delivered takes it off the card (sql/0034_service_rebill.sql): the card is billed again, on a
new invoice, and the reversed bill stays listed on the page as an earlier bill.

Coverage of a job line on the bill: CUSTOMER is paid by the customer; WARRANTY and RECALL are claimed
from the manufacturer (WARRANTY on the bill); FREE_SERVICE is claimed as free-service labour; GOODWILL
is borne by the dealer: a customer line at no charge ("goodwill"), claimed from nobody.

Who: the counter (service_invoice.post: never a technician) makes the invoice; the counter
(jobcard.manage) issues the gate pass; a manager (workshop.override) releases on credit."""
from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import flash, render_template, url_for
from flask_login import current_user
from sqlalchemy.engine import Connection
from wtforms import StringField
from wtforms.validators import Optional

from ..billing import api as billing
from ..db import get_conn
from ..documents import Refused, new_key, register_document
from ..errors import redirect_response
from ..formatting import today_ist
from ..forms import FlaskForm, KeyField, Length, blank_to_none, strip
from ..pages import found_or_404
from ..security import allow, can
from ..submit_once import earlier_document, post_once
from . import bp, queries
from .api import customer_work_approved

register_document("gate_pass", "service.gate_pass", "gate_pass_id")

# A job line's coverage -> the invoice line's (GOODWILL: the dealer bears it, a no-charge customer line).
BILL_COVERAGE = {"CUSTOMER": "CUSTOMER", "WARRANTY": "WARRANTY", "RECALL": "WARRANTY", "FREE_SERVICE": "FREE_SERVICE",
                 "GOODWILL": "CUSTOMER"}
KEY_SPACE = uuid.UUID("7b0c3f4e-29a1-4d6e-9a55-5b1d7f0c2e61")

BILL_MESSAGES = {
    **billing.SERVICE_INVOICE_REFUSALS,
    "job_card_invoice_fixed": (None, "This job card is already billed"),
    "job_card_invoice_once": (None, "This invoice already bills another job card"),
    "job_card_invoice_when_ready": (None, "The card is billed when it is Ready: finish the work and pass the "
                                          "quality check first"),
    "job_card_invoice_work_approved": (None, "The customer has not approved all the customer-paid work: record "
                                             "the approval on the estimate first"),
    "job_card_invoice_kind": (None, "A job card is billed on a service invoice or job sheet made out to its customer"),
    "job_card_invoice_credited": (None, "That invoice is reversed by a credit note: the card is billed on a new one"),
    "job_card_bill_invoice_once": (None, "This invoice already bills a job card"),
}

GATE_PASS_MESSAGES = {
    "gate_pass_card_ready": (None, "A gate pass is for a job card that is Ready"),
    "gate_pass_needs_invoice": (None, "This job card has work to bill: make the invoice first"),
    "gate_pass_unpaid": (None, "The bill is not paid in full: take the payment, or a manager releases "
                                          "the vehicle on credit with a reason"),
    "gate_pass_credit_not_needed": ("credit_reason", "The bill is paid: no release on credit is needed"),
    "gate_pass_credit_by_manager": ("credit_reason", "Only a manager releases a vehicle on credit, in their own name"),
    "gate_pass_credit_reason": ("credit_reason", "Give the reason for the release on credit"),
    "gate_pass_credit_reason_check": ("credit_reason", "5 to 300 characters"),
    "gate_pass_received_by_name_check": ("received_by_name", "2 to 100 characters"),
    "gate_pass_once": (None, "This job card already has its gate pass"),
    "job_card_delivered_by_gate_pass": (None, "A job card is delivered by its gate pass"),
}


class GatePassForm(FlaskForm):
    received_by_name = StringField("Vehicle collected by", filters=[strip, blank_to_none],
                                   validators=[Optional(), Length(min=2, max=100)])
    credit_reason = StringField("Release on credit: why (manager)", filters=[strip, blank_to_none],
                                validators=[Optional(), Length(min=5, max=300)])
    key = KeyField()


# --------------------------------------------------------------------------- reading


def billable(conn: Connection, job_card_id: int) -> list[dict]:
    """The card's lines as billing takes them (service.job_line_billable, parts at what was issued)."""
    rows = conn.execute(sa.text("""
        SELECT b.*, coalesce(b.operation_code, p.part_no) AS code,
               CASE WHEN b.part_id IS NULL THEN 'LABOUR' ELSE 'PART' END AS kind
          FROM service.job_line_billable b LEFT JOIN master.part p ON p.part_id = b.part_id
         WHERE b.job_card_id = :j ORDER BY b.job_line_id"""), {"j": job_card_id}).mappings().all()
    lines = []
    for r in rows:
        goodwill = r["coverage"] == "GOODWILL"
        lines.append({"kind": r["kind"], "code": r["code"], "qty": r["bill_qty"],
                      "unit_price": 0 if goodwill else r["unit_price"], "price_includes_gst": r["price_includes_gst"],
                      "coverage": BILL_COVERAGE[r["coverage"]],
                      "description": f"{r['description']} (goodwill, no charge)"[:300] if goodwill else r["description"],
                      "job_coverage": r["coverage"]})
    return lines


def earlier_bills(conn: Connection, card) -> list[dict]:
    """The card's bills before the one in force, oldest first, each with the credit note that reversed it
    (service.job_card_bill; billing's numbers and notes)."""
    ids = [i for i in conn.execute(sa.text("""
        SELECT invoice_id FROM service.job_card_bill WHERE job_card_id = :j ORDER BY billed_at, job_card_bill_id"""),
        {"j": card["job_card_id"]}).scalars() if i != card["invoice_id"]]
    found = billing.service_invoice_credits(conn, ids)
    return [found[i] for i in ids if i in found]


def _bill_key(job_card_id: int, earlier: int) -> str:
    """The idempotency key of the card's bill: one per bill of the card (the first as it always was), so a
    repeated tap finds the bill it made and a bill after a credit note is a new document."""
    name = f"job_card:{job_card_id}" if earlier == 0 else f"job_card:{job_card_id}:bill:{earlier + 1}"
    return str(uuid.uuid5(KEY_SPACE, name))


def gate_pass_of(conn: Connection, job_card_id: int):
    return conn.execute(sa.text("""
        SELECT g.*, s.name AS issued_by_name, m.name AS released_by_name
          FROM service.gate_pass g
          LEFT JOIN master.staff s ON s.staff_id = g.issued_by
          LEFT JOIN master.staff m ON m.staff_id = g.released_by
         WHERE g.job_card_id = :j"""), {"j": job_card_id}).mappings().first()


def bill_summary(conn: Connection, card) -> dict:
    """For the job card page: its invoice (number, total, balance due) and gate pass, if any."""
    return {"invoice": billing.service_invoice_balance(conn, card["invoice_id"]) if card["invoice_id"] else None,
            "gate": gate_pass_of(conn, card["job_card_id"]) if card["state"] == "DELIVERED" else None}


def vehicle_panel(conn: Connection, subject) -> dict | None:
    """The "service_vehicle" panel (arrival and vehicle pages): the next service due stored at the last
    delivery, and the owner's unpaid service bills. None for a subject that is no workshop vehicle."""
    if not subject.get("vehicle_id"):
        return None
    if "next_service_due_on" in subject:   # read with the vehicle (subject.vehicle_subject)
        nxt = {k: subject[k] for k in ("next_service_due_on", "next_service_due_km", "next_free_service_no")}
    else:
        nxt = conn.execute(sa.text("""
            SELECT next_service_due_on, next_service_due_km, next_free_service_no FROM service.vehicle
             WHERE vehicle_id = :v"""), {"v": subject["vehicle_id"]}).mappings().first()
    unpaid = billing.unpaid_service_invoices(conn, subject["customer_id"]) if can("estimate.read") else []
    return {"next": nxt, "unpaid": unpaid, "may_receive": can("counter_sale.post")}


def _vehicle_text(card) -> str:
    return " · ".join(x for x in (card["registration_no"], f"VIN {card['vin']}", f"{card['odometer_km']:,} km") if x)


def _why_not_billable(conn: Connection, card) -> str | None:
    if card["invoice_id"]:
        return None
    if card["state"] != "READY":
        return (f"The card is {card['state_label']}: it is billed when Ready (the technician's quality check passed)."
                if card["state"] not in ("DELIVERED", "CANCELLED") else f"The card is {card['state_label'].lower()}.")
    if not customer_work_approved(conn, card["job_card_id"]):
        return "The customer has not approved all the customer-paid work: record the approval on the estimate."
    return None


def _page(conn, card, form: GatePassForm | None = None, status: int = 200, errors: list[str] | None = None):
    lines, draft, invoice = [], None, None
    if card["invoice_id"]:
        invoice = billing.service_invoice_balance(conn, card["invoice_id"])
    else:
        lines = billable(conn, card["job_card_id"])
        if lines:
            try:
                draft = billing.draft_service_invoice(conn, branch_id=card["branch_id"], invoice_date=today_ist(),
                                                      lines=[{k: v for k, v in ln.items() if k != "job_coverage"}
                                                             for ln in lines])
            except Refused as exc:
                errors = [*(errors or []), str(exc)]
    gate = gate_pass_of(conn, card["job_card_id"])
    earlier = earlier_bills(conn, card)
    if form is None:
        form = GatePassForm()
        form.key.data = new_key()
        form.received_by_name.data = card["customer_name"]
    return render_template(
        "service/bill.html", card=card, lines=lines, draft=draft, job_sheet=draft is not None and billing.is_job_sheet(draft),
        invoice=invoice, gate=gate, form=form, errors=errors or [], why_not=_why_not_billable(conn, card), earlier=earlier,
        may_release=can("workshop.override"), coverages=billing.COVERAGES), status


# --------------------------------------------------------------------------- screens


@bp.get("/job-cards/<int:job_card_id>/bill")
@allow("estimate.read")
def bill(job_card_id: int):
    """What the card bills (before) or its invoice, balance and gate pass (after)."""
    conn = get_conn()
    return _page(conn, found_or_404(queries.get_job_card(conn, job_card_id)))


@bp.post("/job-cards/<int:job_card_id>/bill")
@allow("service_invoice.post")
def bill_make(job_card_id: int):
    """Make the invoice (or job sheet) of the card and link it, in one transaction."""
    conn = get_conn()
    # The card's row is locked: two taps on "Make the invoice" queue, the second finds it billed.
    conn.execute(sa.text("SELECT 1 FROM service.job_card WHERE job_card_id = :j FOR UPDATE"), {"j": job_card_id})
    card = found_or_404(queries.get_job_card(conn, job_card_id))
    if card["invoice_id"]:
        flash(f"Job card {card['job_card_no']} is already billed.", "success")
        return redirect_response(url_for("service.bill", job_card_id=job_card_id))
    why = _why_not_billable(conn, card)
    lines = billable(conn, job_card_id)
    if why is None and not lines:
        why = "Nothing on this card is billable: no work, and no part issued. Issue the gate pass directly."
    if why:
        return _page(conn, card, status=422, errors=[why])
    form = GatePassForm()      # carries the refusals of the posting, shown above the page's form
    key = _bill_key(job_card_id, len(earlier_bills(conn, card)))

    def post() -> int:
        invoice_id = billing.post_service_invoice(
            conn, branch_id=card["branch_id"], customer_id=card["customer_id"], invoice_date=today_ist(),
            lines=[{k: v for k, v in ln.items() if k != "job_coverage"} for ln in lines], idempotency_key=key,
            vehicle=_vehicle_text(card), reference=card["job_card_no"])
        conn.execute(sa.text("UPDATE service.job_card SET invoice_id = :i WHERE job_card_id = :j"),
                     {"i": invoice_id, "j": job_card_id})
        return invoice_id

    invoice_id, saved = post_once(conn, form, "invoice", BILL_MESSAGES, post, key=key)
    if not saved:
        return _page(conn, card, status=422, errors=[*form.form_errors, *(e for f in form for e in f.errors)])
    flash("Invoice made: take the payment, then issue the gate pass.", "success")
    return redirect_response(url_for("service.bill", job_card_id=job_card_id))


@bp.post("/job-cards/<int:job_card_id>/gate-pass")
@allow("jobcard.manage")
def gate_pass_issue(job_card_id: int):
    conn = get_conn()
    card = found_or_404(queries.get_job_card(conn, job_card_id))
    form = GatePassForm()
    earlier = earlier_document(conn, "gate_pass", form.key.data) if form.key.data else None
    if earlier:
        return redirect_response(url_for("service.gate_pass_print", gate_pass_id=earlier))
    if not form.key.data:
        form.key.data = new_key()
    if form.validate_on_submit():
        reason = form.credit_reason.data if can("workshop.override") else None
        gate_pass_id, saved = post_once(conn, form, "gate_pass", GATE_PASS_MESSAGES, lambda: conn.execute(sa.text("""
            INSERT INTO service.gate_pass (job_card_id, received_by_name, credit_reason, released_by, idempotency_key)
            VALUES (:j, :name, :reason, :by, :key) RETURNING gate_pass_id"""),
            {"j": job_card_id, "name": form.received_by_name.data, "reason": reason,
             "by": current_user.staff_id if reason else None, "key": form.key.data}).scalar_one())
        if saved:
            flash("Gate pass issued: the vehicle is delivered.", "success")
            return redirect_response(url_for("service.gate_pass_print", gate_pass_id=gate_pass_id))
    return _page(conn, card, form, 422)


@bp.get("/gate-passes/<int:gate_pass_id>")
@allow("workshop.read")
def gate_pass_print(gate_pass_id: int):
    """The gate pass, to print and hand to the security at the gate."""
    conn = get_conn()
    gate = found_or_404(conn.execute(sa.text("SELECT job_card_id FROM service.gate_pass WHERE gate_pass_id = :g"),
                                     {"g": gate_pass_id}).mappings().first())
    card = found_or_404(queries.get_job_card(conn, gate["job_card_id"]))
    invoice = billing.service_invoice_balance(conn, card["invoice_id"]) if card["invoice_id"] else None
    return render_template("service/gate_pass.html", card=card, gate=gate_pass_of(conn, card["job_card_id"]),
                           invoice=invoice)
