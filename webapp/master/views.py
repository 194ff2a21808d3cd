"""Screens for the showroom profile and staff management (ADMIN)."""
from __future__ import annotations

import secrets

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..db import get_conn
from ..forms import save_or_field_error
from ..pages import choice_arg, found_or_404, rows_or_page, search_text
from ..paging import paged
from ..security import allow, hash_pin, pin_policy_problem
from . import bp, queries
from .forms import BRANCH_ERRORS, STAFF_ERRORS, BranchEditForm, BranchForm, NewStaffForm, StaffForm

STATUS_FILTERS = ("active", "inactive", "all")


def _staff_form(form_class, **kwargs):
    conn = get_conn()
    form = form_class(**kwargs)
    form.designation.choices = queries.role_choices(conn)
    form.branch_id.choices = queries.branch_choices(conn)
    return form


def _staff_or_404(staff_id: int):
    return found_or_404(queries.get_staff(get_conn(), staff_id))


# --------------------------------------------------------------------------- staff


@bp.get("/staff")
@allow("staff.manage")
def staff_list():
    q = search_text()
    status = choice_arg("status", STATUS_FILTERS, "active")
    rows, page = paged(lambda number, size: queries.search_staff(get_conn(), q, status, number, size))
    return rows_or_page("master/staff_list.html", "master/_staff_rows.html", "staff-results", rows=rows,
                        page=page, q=q, status=status, statuses=STATUS_FILTERS)


@bp.route("/staff/new", methods=["GET", "POST"])
@allow("staff.manage")
def staff_new():
    form = _staff_form(NewStaffForm, data={"branch_id": current_user.branch_id, "designation": "SALES"})  # data, not access
    if form.validate_on_submit() and not _pin_problem(form):
        conn = get_conn()
        staff_id, saved = save_or_field_error(
            conn, form, STAFF_ERRORS, lambda: queries.insert_staff(conn, form.data, hash_pin(form.pin.data)))
        if saved:
            flash(f"{form.name.data} ({form.staff_code.data}) can now log in and will choose their own PIN.",
                  "success")
            return redirect(url_for("master.staff_detail", staff_id=staff_id), 303)
    return render_template("master/staff_form.html", form=form, staff=None), 422 if form.errors else 200


@bp.get("/staff/<int:staff_id>")
@allow("staff.manage")
def staff_detail(staff_id: int):
    return render_template("master/staff_detail.html", staff=_staff_or_404(staff_id))


@bp.route("/staff/<int:staff_id>/edit", methods=["GET", "POST"])
@allow("staff.manage")
def staff_edit(staff_id: int):
    staff = _staff_or_404(staff_id)
    form = _staff_form(StaffForm, obj=staff)
    if form.validate_on_submit():
        conn = get_conn()
        _, saved = save_or_field_error(conn, form, STAFF_ERRORS,
                                       lambda: queries.update_staff(conn, staff_id, form.data))
        if saved:
            flash(f"Saved {form.name.data}.", "success")
            return redirect(url_for("master.staff_detail", staff_id=staff_id), 303)
    return render_template("master/staff_form.html", form=form, staff=staff), 422 if form.errors else 200


@bp.post("/staff/<int:staff_id>/active")
@allow("staff.manage")
def staff_set_active(staff_id: int):
    """Deactivate or reactivate (never delete). Deactivation ends the member's sessions at once."""
    staff = _staff_or_404(staff_id)
    active = request.form.get("active") == "1"
    conn = get_conn()
    problem = None
    if not active and staff_id == current_user.staff_id:
        problem = "You cannot deactivate yourself."
    else:
        from sqlalchemy.exc import IntegrityError

        try:
            with conn.begin_nested():
                queries.set_staff_active(conn, staff_id, active)
        except IntegrityError:
            problem = "At least one active administrator must remain."
    if request.htmx:
        return render_template("master/_staff_row.html", row=queries.get_staff_row(conn, staff_id),
                               row_error=problem)
    if problem:
        flash(problem, "error")
    else:
        flash(f"{staff.name} is {'active again' if active else 'deactivated and logged out everywhere'}.", "success")
    return redirect(url_for("master.staff_detail", staff_id=staff_id), 303)


@bp.post("/staff/<int:staff_id>/reset-pin")
@allow("staff.manage")
def staff_reset_pin(staff_id: int):
    """Give a temporary PIN, shown once; the member must change it at next login."""
    staff = _staff_or_404(staff_id)
    temporary = _temporary_pin(staff)
    queries.set_pin(get_conn(), staff_id, hash_pin(temporary), must_change=True)
    # Shown in this response only: not flashed, because flashes are stored in the session row.
    return render_template("master/staff_pin_reset.html", staff=staff, temporary_pin=temporary)


def _temporary_pin(staff) -> str:
    """Six random digits the PIN rules accept for this member (it also lifts every lock on the code)."""
    while True:
        pin = f"{secrets.randbelow(1_000_000):06d}"
        if not pin_policy_problem(pin, staff.designation, staff.staff_code, staff.phone):
            return pin


def _pin_problem(form) -> bool:
    """The first PIN follows the same rules as any PIN of that role; the reason goes next to the field."""
    problem = pin_policy_problem(form.pin.data, form.designation.data, form.staff_code.data, form.phone.data)
    if problem:
        form.pin.errors = [*form.pin.errors, problem]
    return bool(problem)


# --------------------------------------------------------------------------- branches


@bp.get("/branches")
@allow("branch.manage")
def branch_list():
    return render_template("master/branch_list.html", branches=queries.list_branches(get_conn()))


@bp.route("/branches/new", methods=["GET", "POST"])
@allow("branch.manage")
def branch_new():
    form = BranchForm()
    if form.validate_on_submit():
        conn = get_conn()
        _, saved = save_or_field_error(conn, form, BRANCH_ERRORS, lambda: queries.insert_branch(conn, form.data))
        if saved:
            flash(f"Branch {form.branch_code.data} added.", "success")
            return redirect(url_for("master.branch_list"), 303)
    return render_template("master/branch_form.html", form=form, branch=None), 422 if form.errors else 200


@bp.route("/branches/<int:branch_id>/edit", methods=["GET", "POST"])
@allow("branch.manage")
def branch_edit(branch_id: int):
    branch = found_or_404(queries.get_branch(get_conn(), branch_id))
    form = BranchEditForm(obj=branch)
    if form.validate_on_submit():
        conn = get_conn()

        def save():
            queries.update_branch(conn, branch_id, form.data)
            if form.logo:  # a new image replaces the old one, even with "remove" ticked
                queries.set_branch_logo(conn, branch_id, *form.logo)
            elif form.remove_logo.data:
                queries.set_branch_logo(conn, branch_id, None, None)

        _, saved = save_or_field_error(conn, form, BRANCH_ERRORS, save)
        if saved:
            flash(f"Branch {form.branch_code.data} saved.", "success")
            return redirect(url_for("master.branch_list"), 303)
    return render_template("master/branch_form.html", form=form, branch=branch), 422 if form.errors else 200
