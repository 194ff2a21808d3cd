"""Closing a month in the books: each branch's months with what they hold (vouchers, statement lines not
reconciled, days whose cash was not closed), closed by accounts or the administrator (month.close) and
reopened with a reason by a manager or the administrator (month.reopen), through finance.close_month and
finance.reopen_month; the events listed. Nothing is posted into a closed month (sql/functions/95_finance.sql)."""
from __future__ import annotations

from datetime import date

from flask import flash, render_template, request, url_for

from ..db import get_conn
from ..errors import redirect_response
from ..formatting import add_months, today_ist
from ..forms import save_or_field_error
from ..security import allow, can
from . import bp
from . import cash_queries as q
from .cash_forms import PERIOD_MESSAGES, MonthCloseForm, MonthReopenForm

MONTHS_SHOWN = 12


def _month_of(text: str | None) -> date | None:
    try:
        year, month = (int(p) for p in (text or "").split("-"))
        return date(year, month, 1) if 2000 < year < 2200 else None
    except ValueError:
        return None


def _page(conn, status: int = 200, reopen_form: MonthReopenForm | None = None, close_form: MonthCloseForm | None = None):
    today = today_ist()
    current = today.replace(day=1)
    branches = q.visible_branches(conn)
    rows = q.months(conn, [b["branch_id"] for b in branches], add_months(current, -(MONTHS_SHOWN - 1)), current, today)
    by_branch = {b["branch_id"]: [r for r in rows if r["branch_id"] == b["branch_id"]] for b in branches}
    return render_template("finance/period/months.html", branches=branches, by_branch=by_branch, current=current,
                           events=q.period_events(conn), may_close=can("month.close"), may_reopen=can("month.reopen"),
                           reopen_form=reopen_form or MonthReopenForm(formdata=None),
                           close_form=close_form), status


@bp.get("/months")
@allow("ledger.read")
def months():
    return _page(get_conn())


@bp.post("/months/close")
@allow("month.close")
def month_close():
    conn = get_conn()
    form = MonthCloseForm()
    month = _month_of(form.month.data)
    if form.branch_id.data not in {b["branch_id"] for b in q.visible_branches(conn)}:
        form.branch_id.data = None
    if form.validate_on_submit() and month:
        _, saved = save_or_field_error(conn, form, PERIOD_MESSAGES, lambda: q.close_month(conn, form.branch_id.data, month))
        if saved:
            flash(f"{month:%B %Y} is closed: nothing dated in it can be posted now.", "success")
            return redirect_response(url_for("finance.months"))
    problems = list(dict.fromkeys([e for f in form for e in (f.errors or [])] + list(form.form_errors)))
    flash("; ".join(problems) or "Choose the month to close.", "error")
    return _page(conn, 422, close_form=form)


@bp.post("/months/reopen")
@allow("month.reopen")
def month_reopen():
    conn = get_conn()
    form = MonthReopenForm()
    month = _month_of(form.month.data)
    if form.branch_id.data not in {b["branch_id"] for b in q.visible_branches(conn)}:
        form.branch_id.data = None
    if form.validate_on_submit() and month:
        _, saved = save_or_field_error(conn, form, PERIOD_MESSAGES,
                                       lambda: q.reopen_month(conn, form.branch_id.data, month, form.reason.data))
        if saved:
            flash(f"{month:%B %Y} is reopened.", "success")
            return redirect_response(url_for("finance.months"))
    if not request.form.get("reason"):
        form.reason.errors = list(form.reason.errors or []) or ["Say why the month is reopened"]
    problems = list(dict.fromkeys([e for f in form for e in (f.errors or [])] + list(form.form_errors)))
    flash("; ".join(problems) or "Choose the month to reopen.", "error")
    return _page(conn, 422, reopen_form=form)
