"""Payroll tax screens: a person's declaration of the old regime's deductions for a financial year (on the person's
payroll page, next to the regime), and arrears lines: a correction of an earlier month paid by a later month's run
(refused by the database into a month whose run is no longer a draft).

Who: ACCOUNTS and ADMIN (payroll.run), as for the salary structures."""
from __future__ import annotations

from flask import flash, render_template, url_for
from flask_login import current_user

from ..db import get_conn
from ..errors import redirect_response
from ..forms import choices, save_or_field_error
from ..security import allow
from . import bp, tax_queries
from .tax_forms import TAX_MESSAGES, ArrearsForm, DeclarationForm, month_of
from .views import _person_or_404, _person_page


@bp.post("/structures/<int:staff_id>/declaration")
@allow("payroll.run")
def declaration_save(staff_id: int):
    conn = get_conn()
    person = _person_or_404(conn, staff_id)
    form = DeclarationForm()
    if form.validate_on_submit():
        fy = month_of(f"{form.fy.data}-04")
        _, saved = save_or_field_error(conn, form, TAX_MESSAGES, lambda: tax_queries.declare(
            conn, staff_id, fy, **{k: getattr(form, k).data for k in tax_queries.DECLARED}))
        if saved:
            flash(f"Declaration for {fy.year}-{(fy.year + 1) % 100:02d} recorded: the next run's TDS takes it "
                  "(old regime only).", "success")
            return redirect_response(url_for("payroll.structures", staff_id=staff_id))
    return _person_page(conn, person, declaration_form=form), 422


# --------------------------------------------------------------------------- arrears


def _arrears_page(conn, form: ArrearsForm, status: int = 200):
    return render_template("payroll/arrears.html", form=form, rows=tax_queries.arrears(conn, current_user.branch_id)
                           ), status


def _arrears_form(conn) -> ArrearsForm:
    form = ArrearsForm()
    form.staff_id.choices = choices((r.staff_id, f"{r.name} ({r.staff_code})")
                                    for r in tax_queries.employees(conn, current_user.branch_id))
    return form


@bp.get("/arrears")
@allow("payroll.run")
def arrears():
    conn = get_conn()
    return _arrears_page(conn, _arrears_form(conn))


@bp.post("/arrears")
@allow("payroll.run")
def arrears_new():
    conn = get_conn()
    form = _arrears_form(conn)
    if form.validate_on_submit():
        _, saved = save_or_field_error(conn, form, TAX_MESSAGES, lambda: tax_queries.add_arrears(
            conn, branch_id=current_user.branch_id, staff_id=form.staff_id.data, for_month=month_of(form.for_month.data),
            paid_in=month_of(form.paid_in.data), amount=form.amount.data, reason=form.reason.data))
        if saved:
            flash("Arrears recorded: the run of the month paid in takes them (recompute a draft).", "success")
            return redirect_response(url_for("payroll.arrears"))
    return _arrears_page(conn, form, 422)
