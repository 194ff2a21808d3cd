"""Payroll screens: the runs of the branch and a new run over a closed attendance month; a run's register
(screen, XLSX) and its steps (checked, approved with its salary voucher, paid); the payslip PDF; the bank
transfer CSV, the PF ECR 2.0 text file and the ESI contribution file; salary structures per person; and one's
own payslips.

Who: ACCOUNTS and ADMIN run payroll; MANAGER and ADMIN approve (and so read the register); everyone else
sees only their own payslips."""
from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from flask import abort, flash, make_response, render_template, url_for
from flask_login import current_user

from ..billing.api import Column, export_response
from ..db import get_conn
from ..errors import redirect_response
from ..formatting import today_ist
from ..forms import save_or_field_error
from ..master.api import branch_for_print
from ..money import amount_in_words
from ..pdf import pdf_response, render_pdf
from ..security import allow, can
from . import bp, incentive_queries, queries, tax_queries
from .forms import CONSTRAINT_MESSAGES, LoanForm, RegimeForm, RunForm, StepForm, StructureForm
from .incentive_forms import NoticeForm
from .tax_forms import declaration_form_for

STATUS_LABELS = {"DRAFT": "Draft", "CHECKED": "Checked", "APPROVED": "Approved", "PAID": "Paid"}


def _run_or_404(conn, run_id: int):
    run = queries.run(conn, run_id)
    if run is None or run["branch_id"] != current_user.branch_id:
        abort(404)
    return run


# --------------------------------------------------------------------------- runs


@bp.get("/")
@allow("payroll.review")
def runs():
    conn = get_conn()
    return render_template("payroll/runs.html", runs=queries.runs(conn), form=RunForm(), labels=STATUS_LABELS,
                           may_run=can("payroll.run"))


@bp.post("/runs")
@allow("payroll.run")
def run_new():
    conn = get_conn()
    form = RunForm()
    if form.validate_on_submit():
        year, month = (int(p) for p in form.month.data.split("-"))
        run_id, saved = save_or_field_error(conn, form, CONSTRAINT_MESSAGES, lambda: queries.create_run(
            conn, current_user.branch_id, date(year, month, 1)))
        if saved:
            flash("Draft run computed: check the register.", "success")
            return redirect_response(url_for("payroll.run_detail", run_id=run_id))
    return render_template("payroll/runs.html", runs=queries.runs(conn), form=form, labels=STATUS_LABELS,
                           may_run=True), 422


@bp.get("/runs/<int:run_id>")
@allow("payroll.review")
def run_detail(run_id: int):
    conn = get_conn()
    run = _run_or_404(conn, run_id)
    rows = queries.lines(conn, run_id)
    return render_template(
        "payroll/run.html", run=run, lines=rows, totals=queries.totals(rows), labels=STATUS_LABELS, form=StepForm(),
        missing=queries.without_structure(conn, run["branch_id"], run["month"]) if run["status"] == "DRAFT" else [],
        may_run=can("payroll.run"), may_approve=can("payroll.approve"))


def _step(run_id: int, action, done: str):
    conn = get_conn()
    _run_or_404(conn, run_id)
    form = StepForm()
    if form.validate_on_submit():
        _, saved = save_or_field_error(conn, form, CONSTRAINT_MESSAGES, action)
        flash(done if saved else "; ".join(form.form_errors), "success" if saved else "error")
    else:
        flash("The form expired: try again.", "error")
    return redirect_response(url_for("payroll.run_detail", run_id=run_id))


@bp.post("/runs/<int:run_id>/recompute")
@allow("payroll.run")
def run_recompute(run_id: int):
    conn = get_conn()
    return _step(run_id, lambda: queries.compute(conn, run_id), "Recomputed from the structures and the closed month.")


@bp.post("/runs/<int:run_id>/check")
@allow("payroll.run")
def run_check(run_id: int):
    conn = get_conn()
    return _step(run_id, lambda: queries.mark_checked(conn, run_id, current_user.staff_id),
                 "Marked checked: a manager approves it next.")


@bp.post("/runs/<int:run_id>/send-back")
@allow("payroll.review")
def run_send_back(run_id: int):
    conn = get_conn()
    return _step(run_id, lambda: queries.send_back(conn, run_id), "Sent back to draft.")


@bp.post("/runs/<int:run_id>/approve")
@allow("payroll.approve")
def run_approve(run_id: int):
    conn = get_conn()
    return _step(run_id, lambda: queries.approve(conn, run_id, current_user.staff_id),
                 "Approved: the run is permanent and its salary voucher is posted.")


@bp.post("/runs/<int:run_id>/paid")
@allow("payroll.run")
def run_paid(run_id: int):
    conn = get_conn()
    return _step(run_id, lambda: queries.mark_paid(conn, run_id, today_ist()), "Marked paid.")


# --------------------------------------------------------------------------- register and files

REGISTER_COLUMNS = [
    Column("Staff code", "staff_code"), Column("Name", "name"), Column("Payment days", "payment_days", "money"),
    Column("LOP days", "lop_days", "money"), Column("Basic", "basic", "money"), Column("DA", "da", "money"),
    Column("HRA", "hra", "money"), Column("Conveyance", "conveyance", "money"), Column("Special", "special", "money"),
    Column("Other earnings", "other_earnings", "money"), Column("Arrears", "arrears", "money"),
    Column("Incentive", "incentive", "money"), Column("Leave encashment", "leave_encashment", "money"),
    Column("Gratuity", "gratuity", "money"), Column("Gross", "gross", "money"), Column("PF (employee)", "pf_employee", "money"),
    Column("ESI (employee)", "esi_employee", "money"), Column("Professional tax", "professional_tax", "money"),
    Column("TDS", "tds", "money"), Column("Tax regime", "regime"),
    Column("Old regime deductions (year)", "tax_deductions", "money"),
    Column("Taxable income (year)", "taxable_income", "money"), Column("Loan recovery", "loan_recovery", "money"),
    Column("Other deductions", "other_deductions", "money"), Column("Notice pay recovered", "notice_recovery", "money"),
    Column("Total deductions", "total_deductions", "money"),
    Column("Net pay", "net_pay", "money"), Column("PF EPS (employer)", "pf_eps", "money"),
    Column("PF EPF (employer)", "pf_epf_employer", "money"), Column("EDLI", "pf_edli", "money"),
    Column("PF admin", "pf_admin", "money"), Column("ESI (employer)", "esi_employer", "money"),
]


@bp.get("/runs/<int:run_id>/register.xlsx")
@allow("payroll.review")
def register_xlsx(run_id: int):
    conn = get_conn()
    run = _run_or_404(conn, run_id)
    return export_response("xlsx", f"salary-register-{run['month']:%Y-%m}", "Salary register", REGISTER_COLUMNS,
                           [dict(r) for r in queries.lines(conn, run_id)],
                           f"Salary register {run['month']:%m-%Y} ({STATUS_LABELS[run['status']]})")


BANK_COLUMNS = [Column("Staff code", "staff_code"), Column("Beneficiary name", "name"),
                Column("Account number", "bank_account_no"), Column("IFSC", "ifsc"), Column("Amount", "net_pay", "money"),
                Column("Narration", "narration")]


@bp.get("/runs/<int:run_id>/bank.csv")
@allow("payroll.run")
def bank_csv(run_id: int):
    conn = get_conn()
    run = _run_or_404(conn, run_id)
    rows = [{**r, "narration": f"Salary {run['month']:%b %Y}"} for r in queries.lines(conn, run_id) if r["net_pay"] > 0]
    return export_response("csv", f"salary-transfer-{run['month']:%Y-%m}", "Bank transfer", BANK_COLUMNS, rows)


def _rupees(value) -> str:
    return str(Decimal(value).quantize(Decimal(1), ROUND_HALF_UP))


def ecr_text(rows) -> str:
    """EPFO ECR 2.0: one member a line, fields joined by #~#: UAN, name, gross wages, EPF wages, EPS wages,
    EDLI wages, EE share, EPS share, ER share (EPF - EPS difference), NCP days, refund of advances."""
    out = []
    for r in rows:
        if not r["uan"] or r["pf_wages"] <= 0:
            continue
        out.append("#~#".join([r["uan"], r["name"].upper(), _rupees(r["gross"]), _rupees(r["pf_wages"]),
                               _rupees(r["pf_wages"]), _rupees(r["pf_wages"]), _rupees(r["pf_employee"]),
                               _rupees(r["pf_eps"]), _rupees(r["pf_epf_employer"]), _rupees(r["lop_days"]), "0"]))
    return "\n".join(out) + ("\n" if out else "")


@bp.get("/runs/<int:run_id>/ecr.txt")
@allow("payroll.run")
def ecr(run_id: int):
    conn = get_conn()
    run = _run_or_404(conn, run_id)
    response = make_response(ecr_text(queries.lines(conn, run_id)))
    response.headers["Content-Type"] = "text/plain; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="pf-ecr-{run["month"]:%Y-%m}.txt"'
    return response


ESI_COLUMNS = [Column("IP Number", "esi_ip_number"), Column("IP Name", "name"),
               Column("No of Days for which wages paid/payable during the month", "days"),
               Column("Total Monthly Wages", "wages"), Column("Reason Code for Zero workings days", "reason"),
               Column("Last Working Day", "last_day")]


@bp.get("/runs/<int:run_id>/esi.csv")
@allow("payroll.run")
def esi_csv(run_id: int):
    conn = get_conn()
    run = _run_or_404(conn, run_id)
    rows = [{"esi_ip_number": r["esi_ip_number"] or "", "name": r["name"], "days": _rupees(r["payment_days"]),
             "wages": _rupees(r["esi_wages"]), "reason": "" if r["payment_days"] > 0 else "0", "last_day": ""}
            for r in queries.lines(conn, run_id) if r["esi_wages"] > 0]
    return export_response("csv", f"esi-contribution-{run['month']:%Y-%m}", "ESI", ESI_COLUMNS, rows)


# --------------------------------------------------------------------------- payslips


def _payslip(conn, run, staff_id: int):
    line = queries.line(conn, run["run_id"], staff_id)
    if line is None:
        abort(404)
    pdf = render_pdf("payroll/payslip_pdf.html", branch=branch_for_print(conn, run["branch_id"]), run=run, line=line,
                     words=amount_in_words(line["net_pay"]))
    return pdf_response(pdf, f"payslip-{line['staff_code']}-{run['month']:%Y-%m}.pdf")


@bp.get("/runs/<int:run_id>/payslips/<int:staff_id>.pdf")
@allow("payroll.review")
def payslip_pdf(run_id: int, staff_id: int):
    conn = get_conn()
    return _payslip(conn, _run_or_404(conn, run_id), staff_id)


@bp.get("/me")
@allow("payslip.own")
def my_payslips():
    conn = get_conn()
    return render_template("payroll/me.html", payslips=queries.own_payslips(conn, current_user.staff_id))


@bp.get("/me/<int:run_id>.pdf")
@allow("payslip.own")
def my_payslip_pdf(run_id: int):
    conn = get_conn()
    run = queries.run(conn, run_id)
    if run is None or run["status"] not in ("APPROVED", "PAID"):
        abort(404)
    return _payslip(conn, run, current_user.staff_id)


# --------------------------------------------------------------------------- salary structures


@bp.route("/structures/<int:staff_id>", methods=["GET", "POST"])
@allow("payroll.run")
def structures(staff_id: int):
    conn = get_conn()
    person = _person_or_404(conn, staff_id)
    form = StructureForm()
    if form.validate_on_submit():
        parts = {k: getattr(form, k).data or Decimal(0) for k in queries.STRUCTURE_PARTS}
        _, saved = save_or_field_error(conn, form, CONSTRAINT_MESSAGES, lambda: queries.add_structure(
            conn, staff_id, form.effective_from.data, form.monthly_gross.data, **parts))
        if saved:
            flash("Salary structure saved.", "success")
            return redirect_response(url_for("payroll.structures", staff_id=staff_id))
    return _person_page(conn, person, form=form), 422 if form.errors or form.form_errors else 200


def _person_page(conn, person, *, form=None, regime_form=None, loan_form=None, declaration_form=None,
                 notice_form=None):
    staff_id = person["staff_id"]
    if regime_form is None:
        regime_form = RegimeForm(formdata=None)
        today = today_ist()
        regime_form.fy.data = str(today.year if today.month >= 4 else today.year - 1)
    declarations = tax_queries.declarations(conn, staff_id)
    # a leaver's notice shortfall, recovered in the full and final settlement (webapp/payroll/settlement.py)
    notice = incentive_queries.notice_shortfall(conn, staff_id) if person["left_on"] else None
    if notice_form is None and person["left_on"]:
        notice_form = NoticeForm(formdata=None, data=dict(notice) if notice else None)
    return render_template("payroll/structures.html", person=person, rows=queries.structures(conn, staff_id),
                           form=form or StructureForm(formdata=None), regime_form=regime_form,
                           loan_form=loan_form or LoanForm(formdata=None), regimes=queries.regimes(conn, staff_id),
                           loans=queries.loans(conn, staff_id), declarations=declarations,
                           declaration_form=declaration_form or declaration_form_for(declarations, today_ist()),
                           notice=notice, notice_form=notice_form)


def _person_or_404(conn, staff_id: int):
    person = queries.employee(conn, staff_id)
    if person is None or person["branch_id"] != current_user.branch_id:
        abort(404)
    return person


@bp.post("/structures/<int:staff_id>/regime")
@allow("payroll.run")
def regime_choose(staff_id: int):
    conn = get_conn()
    person = _person_or_404(conn, staff_id)
    form = RegimeForm()
    if form.validate_on_submit():
        _, saved = save_or_field_error(conn, form, CONSTRAINT_MESSAGES, lambda: queries.choose_regime(
            conn, staff_id, date(int(form.fy.data), 4, 1), form.regime.data))
        if saved:
            flash("Tax regime recorded.", "success")
            return redirect_response(url_for("payroll.structures", staff_id=staff_id))
    return _person_page(conn, person, regime_form=form), 422


@bp.post("/structures/<int:staff_id>/loans")
@allow("payroll.run")
def loan_new(staff_id: int):
    conn = get_conn()
    person = _person_or_404(conn, staff_id)
    form = LoanForm()
    if form.validate_on_submit():
        year, month = (int(p) for p in form.first_month.data.split("-"))
        _, saved = save_or_field_error(conn, form, CONSTRAINT_MESSAGES, lambda: queries.add_loan(
            conn, branch_id=current_user.branch_id, staff_id=staff_id, kind=form.kind.data, amount=form.amount.data,
            instalment=form.instalment.data, first_month=date(year, month, 1), given_on=today_ist(),
            reason=form.reason.data))
        if saved:
            flash("Recorded: recovered from the first month's run on.", "success")
            return redirect_response(url_for("payroll.structures", staff_id=staff_id))
    return _person_page(conn, person, loan_form=form), 422


@bp.get("/structures")
@allow("payroll.run")
def people():
    conn = get_conn()
    return render_template("payroll/people.html", people=queries.people(conn, current_user.branch_id))
