"""The Tally export: choose a period and a branch, see how many vouchers of each type it holds, and
download the masters and the vouchers as Tally import XML (webapp/finance/tally.py builds them).
The Tally company a branch's books go to is a setting of this page (finance.tally_company).

Who: ADMIN and ACCOUNTS (tally.export)."""
from __future__ import annotations

from datetime import date

from flask import Response, abort, flash, render_template, request, url_for
from flask_login import current_user
from wtforms import StringField
from wtforms.validators import DataRequired

from ..db import get_conn
from ..errors import redirect_response
from ..formatting import financial_year, today_ist
from ..forms import FlaskForm, Length, date_arg, save_or_field_error, strip, url_date
from ..security import allow
from . import bp, tally, tally_queries

COMPANY_MESSAGES = {
    "tally_company_company_name_check": (
        "company_name", "2 to 100 characters, as the company is named in Tally, without line breaks"),
}


class TallyCompanyForm(FlaskForm):
    company_name = StringField(
        "Tally company name", filters=[strip],
        validators=[DataRequired("Enter the company's name as Tally shows it"), Length(2, 100)],
        description="Exactly as the company is named in Tally: Tally imports only into the company open under this name.",
        render_kw={"autocomplete": "off"})


def _branch(conn) -> tuple[int, list]:
    """?branch= among the branches this person may export; their own by default; another: 404."""
    branches = tally_queries.branches(conn)
    typed = request.values.get("branch", "")
    if not typed:
        return current_user.branch_id, branches
    if not typed.isdigit() or int(typed) not in {b["branch_id"] for b in branches}:
        abort(404)
    return int(typed), branches


def _period():
    """?from= / ?to=: this month to date by default; a reversed range is put the right way round."""
    today = today_ist()
    from_arg, to_arg = date_arg("from", today.replace(day=1)), date_arg("to", today)
    if to_arg.value < from_arg.value:
        from_arg.value, to_arg.value = to_arg.value, from_arg.value
    return from_arg, to_arg


def _fy_start(on: date) -> date:
    return date(on.year if on.month >= 4 else on.year - 1, 4, 1)


@bp.route("/tally", methods=["GET", "POST"])
@allow("tally.export")
def tally_export():
    conn = get_conn()
    branch_id, branches = _branch(conn)
    from_arg, to_arg = _period()
    company = tally_queries.company(conn, branch_id)
    args = {"branch": branch_id, "from": url_date(from_arg.value), "to": url_date(to_arg.value)}
    form = TallyCompanyForm(data={"company_name": company["company_name"]})
    if request.method == "POST" and form.validate_on_submit():
        _, saved = save_or_field_error(conn, form, COMPANY_MESSAGES,
                                       lambda: tally_queries.save_company(conn, branch_id, form.company_name.data))
        if saved:
            flash(f"Tally company for this branch: {form.company_name.data}", "success")
            return redirect_response(url_for("finance.tally_export", **args))
    found = {r["voucher_type"]: r for r in tally_queries.counts(conn, branch_id, from_arg.value, to_arg.value)}
    rows = [{"type": code, "name": name, **(found.get(code) or {"vouchers": 0, "lines": 0, "total": 0})}
            for code, name in tally.VOUCHER_TYPE_NAMES.items()]
    total = sum(r["vouchers"] for r in rows)
    branch = next(b for b in branches if b["branch_id"] == branch_id) if branches else None
    return render_template("finance/tally/export.html", form=form, company=company, rows=rows, total=total,
                           branches=branches, branch_id=branch_id, branch=branch, from_arg=from_arg, to_arg=to_arg,
                           args=args, fy=financial_year(from_arg.value)), 422 if form.errors else 200


def _download(chunks, kind: str, branch_code: str, start: date, end: date) -> Response:
    response = Response(chunks, mimetype="application/xml")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="tally-{kind}-{branch_code}-{start:%Y%m%d}-{end:%Y%m%d}.xml"')
    return response


def _export_scope(conn):
    branch_id, branches = _branch(conn)
    from_arg, to_arg = _period()
    if from_arg.error or to_arg.error:
        abort(400)
    code = next((b["branch_code"] for b in branches if b["branch_id"] == branch_id), "branch")
    return branch_id, code, from_arg.value, to_arg.value, tally_queries.company(conn, branch_id)["company_name"]


@bp.get("/tally/masters.xml")
@allow("tally.export")
def tally_masters():
    conn = get_conn()
    branch_id, code, start, end, company = _export_scope(conn)
    groups = [tally.Group(g["name"], g["parent"], g["nature"], g["gross_profit"])
              for g in tally_queries.added_groups(conn)]
    ledgers = [tally.Ledger(
        name=r["name"], parent=r["parent"], gst_duty_head=r["gst_duty_head"], is_party=r["is_party"],
        gstin=r["gstin"], state=r["state"], mailing_name=r["mailing_name"],
        address=tuple(a for a in (r["address_line1"], r["address_line2"], r["city"], r["oem_address"]) if a),
        pincode=r["pincode"]) for r in tally_queries.used_ledgers(conn, branch_id, start, end)]
    # Rows are all read inside the request's transaction; the file is written as it is sent.
    return _download(tally.masters_xml(company, groups, ledgers, _fy_start(start)), "masters", code, start, end)


@bp.get("/tally/vouchers.xml")
@allow("tally.export")
def tally_vouchers():
    conn = get_conn()
    branch_id, code, start, end, company = _export_scope(conn)
    vouchers = list(tally.vouchers_from_rows(tally_queries.voucher_rows(conn, branch_id, start, end)))
    return _download(tally.vouchers_xml(company, vouchers), "vouchers", code, start, end)
