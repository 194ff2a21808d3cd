"""Incentive screens: the rules (dated, per role and model; ACCOUNTS and ADMIN enter and end them, managers read
them); a month's incentives per person of the branch, computed from the month's documents; a person's month with
each document it came from (linked to its sale or invoice) and the managers' adjustments, with the form to add
one (MANAGER and ADMIN, with a reason); and one's own month, read only, for everyone with payslips. The payroll run
computes the month again and carries each person's total as the `incentive` earning."""
from __future__ import annotations

from datetime import date

from flask import abort, flash, render_template, request, url_for
from flask_login import current_user

from ..db import get_conn
from ..errors import redirect_response
from ..formatting import ddmmyyyy, inr, plain_number, today_ist
from ..forms import choices, save_or_field_error
from ..hr import api as hr
from ..security import allow, can, may_open
from . import bp
from . import incentive_queries as iq
from .incentive_forms import INCENTIVE_MESSAGES, AdjustForm, ComputeForm, EndRuleForm, RuleForm


def month_arg() -> date:
    """The first day of ?month=YYYY-MM; last month (the one a run pays) when none is asked for."""
    if request.args.get("month"):
        return hr.month_arg()
    return hr.add_months(today_ist().replace(day=1), -1)


def _shift(month: date, months: int) -> str:
    return f"{hr.add_months(month, months):%Y-%m}"


# --------------------------------------------------------------------------- the month


@bp.get("/incentives")
@allow("incentive.read")
def incentives():
    conn = get_conn()
    month = month_arg()
    status = iq.month_status(conn, current_user.branch_id, month)
    return render_template("payroll/incentives.html", month=month, month_arg=f"{month:%Y-%m}",
                           prev_month=_shift(month, -1), next_month=_shift(month, 1),
                           people=iq.person_totals(conn, current_user.branch_id, month), status=status,
                           may_compute=can("incentive.rules") and status in (None, "DRAFT"), form=ComputeForm())


@bp.post("/incentives/compute")
@allow("incentive.rules")
def incentives_compute():
    conn = get_conn()
    month = month_arg()
    form = ComputeForm()
    if form.validate_on_submit():
        found, saved = save_or_field_error(conn, form, INCENTIVE_MESSAGES,
                                           lambda: iq.compute(conn, current_user.branch_id, month))
        if saved:
            flash(f"Computed from the documents of {month:%m-%Y}: {found} line{'s' if found != 1 else ''}.", "success")
        else:
            flash("; ".join(form.form_errors), "error")
    else:
        flash("The form expired: try again.", "error")
    return redirect_response(url_for("payroll.incentives", month=f"{month:%Y-%m}"))


@bp.route("/incentives/people/<int:staff_id>", methods=["GET", "POST"])
@allow("incentive.read", write="incentive.adjust")
def incentives_person(staff_id: int):
    conn = get_conn()
    person = iq.staff_member(conn, staff_id)
    if person is None or person["branch_id"] != current_user.branch_id:
        abort(404)
    month = month_arg()
    form = AdjustForm() if request.method == "POST" else AdjustForm(formdata=None)
    if request.method == "POST" and form.validate_on_submit():
        _, saved = save_or_field_error(conn, form, INCENTIVE_MESSAGES, lambda: iq.adjust(
            conn, branch_id=current_user.branch_id, staff_id=staff_id, month=month, amount=form.amount.data,
            reason=form.reason.data))
        if saved:
            flash("Adjustment recorded: the month's run carries it when computed.", "success")
            return redirect_response(url_for("payroll.incentives_person", staff_id=staff_id, month=f"{month:%Y-%m}"))
    return _person_month(conn, person, month, form=form), 422 if form.errors or form.form_errors else 200


@bp.get("/me/incentives")
@allow("payslip.own")
def my_incentives():
    """One's own month: the documents it was computed from and the adjustments, read only."""
    conn = get_conn()
    return _person_month(conn, iq.staff_member(conn, current_user.staff_id), month_arg(), own=True)


def _person_month(conn, person, month: date, *, form=None, own: bool = False):
    staff_id = person["staff_id"]
    lines = iq.lines(conn, person["branch_id"], month, staff_id)
    adjustments = iq.adjustments(conn, person["branch_id"], month, staff_id)
    status = iq.month_status(conn, person["branch_id"], month)
    return render_template(
        "payroll/incentive_person.html", person=person, month=month, month_arg=f"{month:%Y-%m}", own=own,
        prev_month=_shift(month, -1), next_month=_shift(month, 1), lines=lines, adjustments=adjustments,
        computed=sum((line["amount"] for line in lines), 0), adjusted=sum((a["amount"] for a in adjustments), 0),
        kinds=iq.KINDS, status=status, form=form or AdjustForm(formdata=None),
        may_adjust=not own and can("incentive.adjust") and status in (None, "DRAFT") and staff_id != current_user.staff_id,
        may_see_sale=may_open("sales.booking_detail"), may_see_invoice=may_open("billing.invoice_detail"))


# --------------------------------------------------------------------------- the rules


def _rule_form(conn, form: RuleForm) -> RuleForm:
    form.role_code.choices = choices(iq.role_choices(conn))
    form.model_id.choices = choices([("", "Any model"), *iq.model_choices(conn)])
    return form


def _slab_text(row) -> str:
    return "; ".join(f"from {inr(start)}: " + (f"{plain_number(pct)} %" if pct is not None else inr(fixed))
                     for start, pct, fixed in zip(row["slab_from"] or (), row["slab_pct"] or (), row["slab_fixed"] or ()))


def _end_form(conn, form: EndRuleForm, rules) -> EndRuleForm:
    form.rule_id.choices = choices(
        [("", "Choose the rule"), *((str(r["rule_id"]), f"{r['role_name']}: {iq.KINDS[r['kind']].lower()}"
                                     f"{' (' + r['model_name'] + ')' if r['model_name'] else ''} from "
                                     f"{ddmmyyyy(r['valid_from'])}") for r in rules if r["valid_to"] is None)])
    return form


def _rules_page(conn, form: RuleForm, *, end_form=None):
    rules = [{**r, "slab_text": _slab_text(r)} for r in iq.rules(conn)]
    return render_template("payroll/incentive_rules.html", rules=rules, form=form, kinds=iq.KINDS,
                           end_form=_end_form(conn, end_form or EndRuleForm(formdata=None), rules),
                           may_edit=can("incentive.rules"), slab_rows=form.slab_rows())


@bp.route("/incentives/rules", methods=["GET", "POST"])
@allow("incentive.read", write="incentive.rules")
def incentives_rules():
    conn = get_conn()
    form = _rule_form(conn, RuleForm() if request.method == "POST" else RuleForm(formdata=None))
    if request.method == "POST" and form.validate_on_submit():
        slab_kind = form.kind.data == "SERVICE_REVENUE_SLAB"
        _, saved = save_or_field_error(conn, form, INCENTIVE_MESSAGES, lambda: iq.add_rule(
            conn, role_code=form.role_code.data, kind=form.kind.data,
            model_id=int(form.model_id.data) if form.model_id.data else None,
            amount=None if slab_kind else form.amount.data, valid_from=form.valid_from.data,
            valid_to=form.valid_to.data, note=form.note.data or None, slabs=form.slabs() if slab_kind else []))
        if saved:
            flash("Rule saved: it counts the documents from its first day.", "success")
            return redirect_response(url_for("payroll.incentives_rules"))
    return _rules_page(conn, form), 422 if request.method == "POST" else 200


@bp.post("/incentives/rules/end")
@allow("incentive.rules")
def incentives_rule_end():
    conn = get_conn()
    form = _end_form(conn, EndRuleForm(), iq.rules(conn))
    if form.validate_on_submit():
        _, saved = save_or_field_error(conn, form, INCENTIVE_MESSAGES,
                                       lambda: iq.end_rule(conn, int(form.rule_id.data), form.valid_to.data))
        if saved:
            flash("Rule ended: documents after its last day are no longer counted by it.", "success")
            return redirect_response(url_for("payroll.incentives_rules"))
    return _rules_page(conn, _rule_form(conn, RuleForm(formdata=None)), end_form=form), 422
