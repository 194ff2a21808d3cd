"""Leave: a staff member applies (full days or a half day), sees their balances at once; the reporting
manager approves or rejects (a MANAGER or ADMIN for someone with no manager); the person cancels while it
waits. Leave beyond the balance, overlapping leave and a decision by someone else are refused by the
database (hr.check_leave, leave_no_overlap)."""
from __future__ import annotations

from flask import abort, flash, render_template, request, url_for
from flask_login import current_user

from ..db import get_conn
from ..errors import redirect_response
from ..formatting import today_ist
from ..forms import save_or_field_error
from ..security import allow
from . import bp, queries
from .forms import CONSTRAINT_MESSAGES, DecisionForm, LeaveForm


@bp.route("/leave/new", methods=["GET", "POST"])
@allow("attendance.own")
def leave_new():
    conn = get_conn()
    me = current_user.staff_id
    if not queries.is_employee(conn, me):
        return render_template("hr/leave_form.html", form=None, balances=[]), 200
    form = LeaveForm()
    form.leave_code.choices = [("", "Choose…")] + [(t["leave_code"], t["name"]) for t in queries.leave_types(conn)]
    if form.validate_on_submit():
        leave_id, saved = save_or_field_error(conn, form, CONSTRAINT_MESSAGES, lambda: queries.apply_leave(
            conn, branch_id=current_user.branch_id, staff_id=me, leave_code=form.leave_code.data,
            from_date=form.from_date.data, to_date=form.to_date.data or form.from_date.data,
            half=form.half.data or None, reason=form.reason.data))
        if saved:
            flash("Leave applied for: your reporting manager decides it.", "success")
            return redirect_response(url_for("hr.my_attendance"))
    year = form.from_date.data.year if form.from_date.data else today_ist().year
    return render_template("hr/leave_form.html", form=form, balances=queries.balances(conn, me, year),
                           year=year), 422 if form.errors else 200


@bp.post("/leave/<int:leave_id>/cancel")
@allow("attendance.own")
def leave_cancel(leave_id: int):
    conn = get_conn()
    row = queries.application(conn, leave_id)
    if row is None or current_user.staff_id not in (row["staff_id"], row["manager_id"]):
        abort(404)
    form = DecisionForm()
    if form.validate_on_submit():
        _, saved = save_or_field_error(conn, form, CONSTRAINT_MESSAGES, lambda: queries.cancel_leave(conn, leave_id))
        flash("Leave cancelled." if saved else "; ".join(form.form_errors), "info" if saved else "error")
    back = url_for("hr.my_attendance") if row["staff_id"] == current_user.staff_id else url_for("hr.team")
    return redirect_response(back)


@bp.post("/leave/<int:leave_id>/decide")
@allow("leave.decide")
def leave_decide(leave_id: int):
    """Approve or reject (decision=APPROVED / REJECTED). The database checks the decider is the
    person's reporting manager."""
    conn = get_conn()
    row = queries.application(conn, leave_id)
    if row is None or row["staff_id"] == current_user.staff_id:
        abort(404)
    decision = request.form.get("decision")
    form = DecisionForm()
    if decision not in ("APPROVED", "REJECTED"):
        flash("Approve or reject.", "error")
    elif form.validate_on_submit():
        done, saved = save_or_field_error(conn, form, CONSTRAINT_MESSAGES, lambda: queries.decide_leave(
            conn, leave_id, decision, current_user.staff_id, form.note.data))
        if saved and done:
            flash(f"Leave of {row['name']} {'approved' if decision == 'APPROVED' else 'rejected'}.", "success")
        elif saved:
            flash("This leave was already decided or cancelled.", "error")
        else:
            flash("; ".join(form.form_errors or [e for errs in form.errors.values() for e in errs]), "error")
    else:
        flash("; ".join(e for errs in form.errors.values() for e in errs) or "The form expired: try again.", "error")
    return redirect_response(url_for("hr.team"))
