"""Attendance: one's own month (attendance.own), a correction punch with a reason by the reporting manager
(attendance.regularise) or a MANAGER / ADMIN for anyone of the branch (attendance.correct), the reporting
manager's team page (leave waiting, forgotten out-punches), and the branch's monthly sheet (screen, PDF,
XLSX) that ACCOUNTS / ADMIN close for payroll. How each day is read is the database's: hr.attendance_days (sql/functions/99_hr.sql)."""
from __future__ import annotations

from datetime import date, datetime, time

from flask import flash, render_template, request, url_for
from flask_login import current_user

from ..billing.api import Column, export_response
from ..db import get_conn
from ..errors import redirect_response
from ..formatting import to_ist, today_ist
from ..forms import save_or_field_error
from ..master.api import branch_for_print
from ..pdf import pdf_response, render_pdf
from ..security import allow, can
from . import bp, queries
from .common import STATUS_LABELS, add_months, hours, month_arg, month_days
from .forms import CONSTRAINT_MESSAGES, CorrectionForm, DecisionForm

# --------------------------------------------------------------------------- one's own month


@bp.get("/me")
@allow("attendance.own")
def my_attendance():
    conn = get_conn()
    month = month_arg()
    me = current_user.staff_id
    employed = queries.is_employee(conn, me)
    days = queries.attendance_days(conn, current_user.branch_id, month, me) if employed else []
    punches = {}
    for p in queries.day_punches(conn, me, month, add_months(month, 1)) if employed else []:
        punches.setdefault(p["work_day"], []).append(p)
    return render_template(
        "hr/me.html", employed=employed, month=month, days=days, punches=punches, labels=STATUS_LABELS,
        hours=hours, balances=queries.balances(conn, me, month.year) if employed else [],
        applications=queries.applications(conn, me, month.year) if employed else [],
        prev_month=f"{add_months(month, -1):%Y-%m}", next_month=f"{add_months(month, 1):%Y-%m}",
        today=today_ist())


# --------------------------------------------------------------------------- the reporting manager's team


@bp.get("/team")
@allow("leave.decide")
def team():
    """Leave waiting for one's decision and the forgotten out-punches to regularise: one's reports', and (a
    MANAGER or ADMIN) everyone's of the branch."""
    conn = get_conn()
    sees_all = can("attendance.correct")
    open_days = queries.open_days(conn, current_user.branch_id, None if sees_all else current_user.staff_id,
                                  not_id=current_user.staff_id)
    return render_template(
        "hr/team.html",
        pending=queries.team_pending(conn, current_user.staff_id, current_user.branch_id, sees_all),
        open_days=open_days, decision_form=DecisionForm(),
        may_correct=sees_all or bool(open_days) or queries.has_reports(conn, current_user.staff_id))


@bp.route("/corrections/new", methods=["GET", "POST"])
@allow("attendance.regularise")
def correction_new():
    """A punch marked, with the reason (audited), by the person's reporting manager or a MANAGER / ADMIN of the
    branch: the forgotten out-punch of a day, or a missed in-punch. The database checks who (hr.check_punch)."""
    conn = get_conn()
    form = CorrectionForm()
    me = current_user.staff_id
    team_only = not can("attendance.correct")
    form.staff_id.choices = [(0, "Choose…")] + queries.punchable_staff(
        conn, current_user.branch_id, manager_id=me if team_only else None, not_id=me)
    if request.method == "GET":
        form.staff_id.data = request.args.get("staff_id", type=int)
        form.kind.data = request.args.get("kind", "OUT") if request.args.get("kind") in ("IN", "OUT") else "OUT"
        try:
            day = date.fromisoformat(request.args.get("day", ""))
        except ValueError:
            day = None
        if day:   # the end of the person's shift that day (a night shift's: the next morning), else 18:00
            form.punched_at.data = ((queries.shift_end(conn, form.staff_id.data, day) if form.staff_id.data else None)
                                    or datetime.combine(day, time(18)))
    if form.validate_on_submit():
        _, saved = save_or_field_error(conn, form, CONSTRAINT_MESSAGES, lambda: queries.add_punch(
            conn, branch_id=current_user.branch_id, staff_id=form.staff_id.data, kind=form.kind.data,
            punched_at=form.punched_at.data, reason=form.reason.data))
        if saved:
            flash("Correction recorded.", "success")
            return redirect_response(url_for("hr.team"))
    return render_template("hr/correction.html", form=form, team_only=team_only,
                           nobody=len(form.staff_id.choices) == 1), 422 if form.errors else 200


# --------------------------------------------------------------------------- the month's sheet


def _sheet_context(conn, month: date) -> dict:
    return {"month": month, "totals": queries.sheet(conn, current_user.branch_id, month), "dates": month_days(month),
            "labels": STATUS_LABELS, "closed": queries.month_close(conn, current_user.branch_id, month)}


@bp.get("/sheet")
@allow("attendance.sheet")
def sheet():
    conn = get_conn()
    month = month_arg()
    context = _sheet_context(conn, month)
    return render_template("hr/sheet.html", **context, month_arg=f"{month:%Y-%m}",
                           prev_month=f"{add_months(month, -1):%Y-%m}", next_month=f"{add_months(month, 1):%Y-%m}",
                           may_close=can("attendance.close") and not context["closed"]
                           and add_months(month, 1) <= today_ist())


@bp.get("/sheet.pdf")
@allow("attendance.sheet")
def sheet_pdf():
    conn = get_conn()
    month = month_arg()
    pdf = render_pdf("hr/sheet_pdf.html", branch=branch_for_print(conn, current_user.branch_id),
                     **_sheet_context(conn, month))
    return pdf_response(pdf, f"attendance-{month:%Y-%m}.pdf")


SHEET_COLUMNS = [Column("Staff code", "staff_code"), Column("Name", "name"), Column("Department", "department")]
TOTAL_COLUMNS = [Column("Days employed", "days_employed", "int"), Column("Present", "present_days", "money"),
                 Column("Late marks", "late_marks", "int"), Column("Half days", "half_days", "int"),
                 Column("Absent", "absent_days", "money"), Column("Leave", "leave_days", "money"),
                 Column("Weekly offs", "weekly_offs", "int"), Column("Holidays", "holidays", "int"),
                 Column("Out-punch missing", "unregularised", "int"), Column("Payment days", "payment_days", "money"),
                 Column("Loss-of-pay days", "lop_days", "money")]


@bp.get("/sheet.xlsx")
@allow("attendance.sheet")
def sheet_xlsx():
    conn = get_conn()
    month = month_arg()
    context = _sheet_context(conn, month)
    day_columns = [Column(f"{d.day:02d}", f"d{d.day}") for d in context["dates"]]
    rows = []
    for t in context["totals"]:
        row = dict(t)
        for d, status in zip(context["dates"], t["days"]):
            row[f"d{d.day}"] = STATUS_LABELS.get(status, ("", ""))[0]
        rows.append(row)
    heading = f"Attendance {month:%m-%Y}" + (" (closed)" if context["closed"] else " (not closed)")
    return export_response("xlsx", f"attendance-{month:%Y-%m}", "Attendance", SHEET_COLUMNS + day_columns + TOTAL_COLUMNS,
                           rows, heading)


@bp.post("/sheet/close")
@allow("attendance.close")
def sheet_close():
    """Close the month: permanent (database), its payment days and loss-of-pay days kept per person."""
    conn = get_conn()
    month = month_arg()
    form = DecisionForm()
    if form.validate_on_submit():
        _, saved = save_or_field_error(conn, form, CONSTRAINT_MESSAGES,
                                       lambda: queries.close_month(conn, current_user.branch_id, month))
        message = "; ".join(form.form_errors) if not saved else f"The attendance of {month:%m-%Y} is closed."
        flash(message, "success" if saved else "error")
    else:
        flash("The form expired: try again.", "error")
    return redirect_response(url_for("hr.sheet", month=f"{month:%Y-%m}"))


def punch_time(value) -> str:
    return to_ist(value).strftime("%H:%M") if value else ""


@bp.app_template_filter("hhmm")
def _hhmm(value) -> str:
    return punch_time(value)
