"""HR settings of the branch (MANAGER, ADMIN): shifts with their grace minutes, half-day and absent hours
and weekly off; the holiday list; departments; the yearly leave quotas and carry-forward limits."""
from __future__ import annotations

from flask import abort, flash, render_template, request, url_for
from flask_login import current_user

from ..db import get_conn
from ..errors import redirect_response
from ..formatting import today_ist
from ..forms import FlaskForm, save_or_field_error
from ..security import allow
from . import bp, queries
from .forms import CONSTRAINT_MESSAGES, WEEKDAYS, DepartmentForm, HolidayForm, QuotaForm, ShiftForm


def _year() -> int:
    year = request.args.get("year", type=int)
    return year if year and 2000 <= year <= 2200 else today_ist().year


def _page(conn, status: int = 200, **forms):
    year = _year()
    quotas = queries.quotas(conn, year)
    quota_form = forms.get("quota_form") or QuotaForm(data={"year": year})
    quota_form.leave_code.choices = [(q["leave_code"], q["name"]) for q in quotas]
    return render_template(
        "hr/settings.html", year=year, weekdays=WEEKDAYS,
        shifts=queries.shifts(conn, current_user.branch_id), holidays=queries.holidays(conn, current_user.branch_id, year),
        departments=queries.departments(conn), quotas=quotas,
        shift_form=forms.get("shift_form") or ShiftForm(), holiday_form=forms.get("holiday_form") or HolidayForm(),
        department_form=forms.get("department_form") or DepartmentForm(), quota_form=quota_form), status


@bp.get("/settings")
@allow("hr.settings")
def settings():
    return _page(get_conn())


def _saved_or_page(conn, form, name: str, action, message: str):
    if form.validate_on_submit():
        _, saved = save_or_field_error(conn, form, CONSTRAINT_MESSAGES, action)
        if saved:
            flash(message, "success")
            return redirect_response(url_for("hr.settings", year=_year()))
    return _page(conn, 422, **{name: form})


@bp.post("/shifts")
@allow("hr.settings")
def shift_new():
    conn = get_conn()
    form = ShiftForm()
    return _saved_or_page(conn, form, "shift_form",
                          lambda: queries.save_shift(conn, current_user.branch_id, form.data_for_db()), "Shift added.")


@bp.route("/shifts/<int:shift_id>", methods=["GET", "POST"])
@allow("hr.settings")
def shift_edit(shift_id: int):
    conn = get_conn()
    shift = queries.get_shift(conn, shift_id)
    if shift is None or shift["branch_id"] != current_user.branch_id:
        abort(404)
    data = dict(shift)
    data["starts_at"], data["ends_at"] = f"{shift['starts_at']:%H:%M}", f"{shift['ends_at']:%H:%M}"
    form = ShiftForm(data=data if request.method == "GET" else None)
    if form.validate_on_submit():
        _, saved = save_or_field_error(conn, form, CONSTRAINT_MESSAGES, lambda: queries.save_shift(
            conn, current_user.branch_id, form.data_for_db(), shift_id))
        if saved:
            flash("Shift saved.", "success")
            return redirect_response(url_for("hr.settings"))
    return render_template("hr/shift_form.html", form=form, shift=shift), 422 if form.errors else 200


@bp.post("/holidays")
@allow("hr.settings")
def holiday_new():
    conn = get_conn()
    form = HolidayForm()
    return _saved_or_page(conn, form, "holiday_form", lambda: queries.add_holiday(
        conn, current_user.branch_id, form.on_date.data, form.name.data), "Holiday added.")


@bp.post("/departments")
@allow("hr.settings")
def department_new():
    conn = get_conn()
    form = DepartmentForm()
    return _saved_or_page(conn, form, "department_form", lambda: queries.add_department(conn, form.name.data),
                          "Department added.")


@bp.post("/quotas")
@allow("hr.settings")
def quota_save():
    conn = get_conn()
    form = QuotaForm()
    form.leave_code.choices = [(q["leave_code"], q["name"]) for q in queries.quotas(conn, _year())]
    return _saved_or_page(conn, form, "quota_form", lambda: queries.save_quota(
        conn, form.leave_code.data, form.year.data, form.days.data, form.carry_forward_max.data), "Quota saved.")


@bp.post("/quotas/carry-forward")
@allow("hr.settings")
def carry_forward():
    """Carry each person's unused leave of the year before into ?year= (up to each type's limit), once."""
    conn = get_conn()
    year = _year()
    if not FlaskForm().validate_on_submit():   # the CSRF token only
        flash("The form expired: try again.", "error")
    else:
        carried = queries.carry_forward(conn, year)
        flash(f"Unused leave of {year - 1} carried into {year}: {carried} balance{'s' if carried != 1 else ''} written "
              "(people carried before keep theirs).", "success")
    return redirect_response(url_for("hr.settings", year=year) + "#leave")
