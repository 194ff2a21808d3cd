"""The dated statutory rates of payroll: PF, ESI, professional tax slabs per state, the income tax regimes with their
slabs, and the old regime's deduction caps; for each, the row in force and its history, and a form for a new row (or
row set) from this month or a later one. A row an approved run used cannot be changed or back-dated into: the
database refuses (pay_rate_used, sql/functions/99_payroll_tax.sql).

Who: ACCOUNTS and ADMIN enter rates (payroll.rates_edit); managers read them (payroll.rates)."""
from __future__ import annotations

from datetime import date

from flask import flash, render_template, url_for
from flask_login import current_user

from ..db import get_conn
from ..errors import redirect_response
from ..formatting import today_ist
from ..forms import choices, save_or_field_error
from ..security import allow, can
from . import bp, rate_queries
from . import tax_forms as f

FORMS = {"pf": f.PfRateForm, "esi": f.EsiRateForm, "pt": f.PtSlabsForm, "tds": f.TdsRegimeForm,
         "old": f.OldRegimeLimitForm}


def _blank(kind: str, conn, in_force: dict | None):
    """The form of a new row (set), filled with the one in force: the user changes what changed."""
    form = FORMS[kind](formdata=None)
    if kind == "pt":
        _state_choices(form, conn)
        form.state_code.data = in_force["state_code"] if in_force else None
    if in_force:
        for field in form:
            if field.short_name in in_force and field.short_name not in ("effective_from", "slabs"):
                field.data = in_force[field.short_name]
        if "slabs" in in_force:
            for entry, slab in zip(form.slabs, in_force["slabs"], strict=False):
                for field in entry.form:
                    field.data = slab[field.short_name]
    return form


def _state_choices(form: f.PtSlabsForm, conn) -> None:
    form.state_code.choices = choices((r.state_code, f"{r.name} ({r.state_code})") for r in rate_queries.states(conn))


def _page(conn, forms: dict | None = None, open_kind: str | None = None, status: int = 200):
    today = today_ist()
    month, fy = today.replace(day=1), f.fy_start(today)
    may_edit = can("payroll.rates_edit")
    lists = {"pf": rate_queries.pf_rates(conn, month), "esi": rate_queries.esi_rates(conn, month),
             "pt": rate_queries.pt_slabs(conn, month), "tds": rate_queries.tds_regimes(conn, fy),
             "old": rate_queries.old_regime_limits(conn, fy)}
    forms = forms or {}
    if may_edit:
        state = rate_queries.branch_state(conn, current_user.branch_id)
        in_force = {kind: next((r for r in rows if r["in_force"] and r.get("state_code", state) == state
                                and r.get("regime", "NEW") == "NEW"), None) for kind, rows in lists.items()}
        forms = {kind: forms.get(kind) or _blank(kind, conn, in_force[kind]) for kind in FORMS}
    return render_template("payroll/rates.html", **lists, forms=forms, open_kind=open_kind, may_edit=may_edit,
                           month=month, fy=fy), status


@bp.get("/rates")
@allow("payroll.rates")
def rates():
    return _page(get_conn())


def _save(kind: str, action, done: str, form=None):
    conn = get_conn()
    form = form or FORMS[kind]()
    if form.validate_on_submit():
        rows = form.rows() if hasattr(form, "rows") else None
        if rows is None or rows:
            _, saved = save_or_field_error(conn, form, f.TAX_MESSAGES, lambda: action(conn, form, rows))
            if saved:
                flash(done, "success")
                return redirect_response(url_for("payroll.rates") + f"#{kind}")
    return _page(conn, {kind: form}, kind, 422)


def _from_month(form) -> date:
    return f.month_of(form.effective_from.data)


def _from_year(form) -> date:
    return date(int(form.effective_from.data), 4, 1)


def _parts(form, names) -> dict:
    return {n: getattr(form, n).data for n in names}


@bp.post("/rates/pf")
@allow("payroll.rates_edit")
def rates_pf():
    return _save("pf", lambda conn, form, _: rate_queries.add_pf_rate(
        conn, effective_from=_from_month(form), **_parts(form, rate_queries.PF_PARTS)),
        "PF rates recorded: runs from that month use them.")


@bp.post("/rates/esi")
@allow("payroll.rates_edit")
def rates_esi():
    return _save("esi", lambda conn, form, _: rate_queries.add_esi_rate(
        conn, effective_from=_from_month(form), **_parts(form, rate_queries.ESI_PARTS)),
        "ESI rates recorded: runs from that month use them.")


@bp.post("/rates/pt")
@allow("payroll.rates_edit")
def rates_pt():
    form = f.PtSlabsForm()
    _state_choices(form, get_conn())
    return _save("pt", lambda conn, form, rows: rate_queries.add_pt_slabs(
        conn, form.state_code.data, _from_month(form), rows),
        "Professional tax slabs recorded: runs from that month in that state use them.", form)


@bp.post("/rates/tds")
@allow("payroll.rates_edit")
def rates_tds():
    return _save("tds", lambda conn, form, rows: rate_queries.add_tds_regime(
        conn, form.regime.data, _from_year(form), rows, **_parts(form, rate_queries.REGIME_PARTS)),
        "Income tax rates recorded for the year: its runs' TDS use them.")


@bp.post("/rates/old-regime")
@allow("payroll.rates_edit")
def rates_old_regime():
    return _save("old", lambda conn, form, _: rate_queries.add_old_regime_limit(
        conn, effective_from=_from_year(form), **_parts(form, rate_queries.LIMIT_PARTS)),
        "Old regime limits recorded for the year.")
