"""The estimate on a job card and the customer's approval of it.

The service advisor adds labour operations (standard hours at the labour rate, GST extra) and parts
(one at its MRP, GST included), each with who pays and the technician who does it; the estimate
shows GST per line and the customer's total by the ERP's one GST kernel (webapp/gst.py) at the
dated rates of the tax master. Recording the customer's approval (who, in person or by phone, the
amount) approves every proposed line in the database; work added afterwards waits for the next
approval, shown apart, and the service invoice asks the database whether all customer-paid work is
approved (service.customer_work_approved).

Who: the counter (jobcard.manage) prices and records; accounts reads (estimate.read); technicians
never see prices: they work from "my jobs" (webapp/service/parts.py) and mark their lines done."""
from __future__ import annotations

from decimal import Decimal

from flask import flash, render_template, request, url_for
from flask_login import current_user

from ..db import get_conn
from ..documents import new_key, register_document
from ..errors import redirect_response
from ..formatting import today_ist
from ..forms import choices, save_or_field_error
from ..gst import InvoiceLine, compute_line
from ..master import api as master_api
from ..money import ZERO, round_rupee
from ..pages import found_or_404
from ..security import allow, can
from ..submit_once import earlier_document, post_once
from . import bp, queries
from . import work_queries as wq
from .work_forms import (
    APPROVAL_MESSAGES,
    COVERAGE_LABELS,
    LINE_MESSAGES,
    MODE_LABELS,
    STATUS_LABELS,
    ApprovalForm,
    LineForm,
)

CLOSED = ("DELIVERED", "CANCELLED")

register_document("job_approval", "service.job_approval", "approval_id")


def priced(rows) -> dict:
    """The lines with their GST to the paisa (intra-state: the work is done at the showroom), the
    customer's totals and the value covered by the OEM or the showroom, as the kernel computes them."""
    lines, customer, covered, pending = [], [], ZERO, []
    for row in rows:
        tax = None
        if row["gst_rate"] is not None:
            tax = compute_line(InvoiceLine(description=row["work"], hsn_code=row["hsn_code"], qty=row["qty"],
                                           unit_price=row["unit_price"], gst_rate=row["gst_rate"],
                                           price_includes_gst=row["price_includes_gst"]), intra_state=True)
        pays = row["coverage"] == "CUSTOMER" and row["status"] != "DECLINED"
        lines.append({**row, "tax": tax, "customer_pays": pays, "coverage_label": COVERAGE_LABELS[row["coverage"]],
                      "status_label": STATUS_LABELS[row["status"]]})
        if tax is None or row["status"] == "DECLINED":
            continue
        if pays:
            customer.append(tax)
            if row["approval_id"] is None:
                pending.append(tax)
        else:
            covered += tax.total

    def totals(taxes) -> dict:
        before = sum((t.total for t in taxes), ZERO)
        return {"taxable": sum((t.taxable_value for t in taxes), ZERO), "cgst": sum((t.cgst for t in taxes), ZERO),
                "sgst": sum((t.sgst for t in taxes), ZERO), "before": before, "grand": round_rupee(before),
                "round_off": round_rupee(before) - before, "count": len(taxes)}

    return {"lines": lines, "customer": totals(customer), "pending": totals(pending), "covered": covered,
            "missing_rate": [ln for ln in lines if ln["tax"] is None]}


def _card(conn, job_card_id: int):
    return found_or_404(queries.get_job_card(conn, job_card_id))


def _line_form(conn, **kw) -> LineForm:
    form = LineForm(**kw)
    form.operation_code.choices = choices([("", "—")] + master_api.labour_choices(conn))
    form.part_id.choices = choices([(0, "—")] + wq.part_choices(conn, current_user.branch_id))
    form.technician_id.choices = choices([(0, "Not yet assigned")] + queries.technician_choices(conn, current_user.branch_id))
    return form


def _line_data(conn, form: LineForm) -> dict | None:
    """The line's columns: the master's defaults for what was left blank. None (with the message
    next to the field) when the master has no GST rate for it today or a part counted in whole
    units is given a fraction."""
    on = today_ist()
    code = form.operation_code.data or None
    part = form.part_id.data or None
    master = wq.work_defaults(conn, operation_code=code, part_id=part, on=on)
    if master is None:
        (form.operation_code if code else form.part_id).errors.append("Choose it from the list")
        return None
    if master["gst_rate"] is None:
        form.form_errors.append(f"The tax master has no GST rate for HSN/SAC {master['hsn_code']} today: "
                                "accounts adds it under HSN codes")
        return None
    qty = form.qty.data if form.qty.data is not None else Decimal(master["qty"])
    if not master["whole_ok"] and part and qty != qty.to_integral_value():
        form.qty.errors.append("This part is counted in whole units")
        return None
    includes = {"yes": True, "no": False}.get(form.price_includes_gst.data, master["price_includes_gst"])
    return {"operation_code": code, "part_id": part, "description": form.description.data, "qty": qty,
            "unit_price": form.unit_price.data if form.unit_price.data is not None else master["unit_price"],
            "price_includes_gst": includes, "coverage": form.coverage.data,
            "technician_id": form.technician_id.data or None}


def _estimate_page(conn, card, form: LineForm, status: int = 200):
    rows = wq.lines(conn, card["job_card_id"], card["branch_id"], today_ist())
    return render_template(
        "service/estimate.html", card=card, form=form, est=priced(rows), approvals=wq.approvals(conn, card["job_card_id"]),
        is_open=card["state"] not in CLOSED, mode_labels=MODE_LABELS,
        may_price=can("jobcard.manage") and card["state"] not in CLOSED), status


@bp.route("/job-cards/<int:job_card_id>/estimate", methods=["GET", "POST"])
@allow("estimate.read", write="jobcard.manage")
def estimate(job_card_id: int):
    """The estimate with GST per line and totals; a POST adds a line."""
    conn = get_conn()
    card = _card(conn, job_card_id)
    form = _line_form(conn)
    if request.method == "GET" and card["service_type"] == "FREE_SERVICE":
        form.coverage.data = "FREE_SERVICE"      # a free service's labour: free to the customer, claimed from the OEM
    if request.method == "POST":
        if card["state"] in CLOSED:
            form.form_errors.append(f"Job card {card['job_card_no']} is closed: its work does not change")
        elif form.validate_on_submit() and (data := _line_data(conn, form)) is not None:
            _, saved = save_or_field_error(conn, form, LINE_MESSAGES, lambda: wq.add_line(conn, job_card_id, data))
            if saved:
                flash("Line added to the estimate.", "success")
                return redirect_response(url_for("service.estimate", job_card_id=job_card_id) + "#lines")
        return _estimate_page(conn, card, form, 422)
    return _estimate_page(conn, card, form)


@bp.post("/job-lines/<int:job_line_id>/remove")
@allow("jobcard.manage")
def line_remove(job_line_id: int):
    """A line not yet approved leaves the estimate; an approved one is declined (it stays, at nothing
    to the customer). One with parts issued must have them returned first."""
    conn = get_conn()
    line = found_or_404(wq.line(conn, job_line_id))
    form = LineForm()   # only for its errors
    done, saved = save_or_field_error(conn, form, LINE_MESSAGES, lambda: wq.remove_line(conn, job_line_id))
    if saved:
        flash("Line removed from the estimate." if done == "removed" else "Line declined: the customer does not pay it.",
              "success")
    else:
        flash("; ".join(form.form_errors or ["The line could not be removed"]), "error")
    return redirect_response(url_for("service.estimate", job_card_id=line["job_card_id"]) + "#lines")


@bp.route("/job-cards/<int:job_card_id>/approval", methods=["GET", "POST"])
@allow("estimate.read", write="jobcard.manage")
def approval(job_card_id: int):
    """The customer's approval of the proposed work: who, how, the amount (the estimate's customer
    total of that work, GST included, unless told otherwise)."""
    conn = get_conn()
    card = _card(conn, job_card_id)
    est = priced(wq.lines(conn, job_card_id, card["branch_id"], today_ist()))
    proposed = [ln for ln in est["lines"] if ln["status"] == "PROPOSED"]
    form = ApprovalForm()
    if request.method == "POST" and earlier_document(conn, "job_approval", form.key.data):
        # Sent again (a second tap): the first sending recorded it.
        return redirect_response(url_for("service.estimate", job_card_id=job_card_id))
    if request.method == "GET":
        form.key.data = new_key()
        form.approved_by_name.data = card["customer_name"]
        form.amount.data = est["pending"]["grand"]
    if request.method == "POST" and card["state"] in CLOSED:
        form.form_errors.append(f"Job card {card['job_card_no']} is closed: it takes no approval")
    elif form.validate_on_submit():
        _, saved = post_once(conn, form, "job_approval", APPROVAL_MESSAGES, lambda: wq.record_approval(
            conn, job_card_id, approved_by_name=form.approved_by_name.data, mode=form.mode.data,
            amount=form.amount.data, key=form.key.data))
        if saved:
            flash(f"Approval by {form.approved_by_name.data} recorded: {len(proposed)} line(s) approved.", "success")
            return redirect_response(url_for("service.estimate", job_card_id=job_card_id))
    status = 422 if request.method == "POST" else 200
    return render_template("service/estimate_approval.html", card=card, form=form, est=est, proposed=proposed,
                           may_record=can("jobcard.manage") and card["state"] not in CLOSED), status
