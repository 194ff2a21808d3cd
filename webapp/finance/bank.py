"""Bank statements and reconciliation: a statement file (CSV or XLSX as the bank gives it) read with the
account's remembered columns, previewed, imported once; each line matched to the voucher in the books
that moved the same money through that account (suggested by amount, date and the reference in the
narration), matched by hand, or made into an expense (bank charges) from the line.

Who: accountants and managers read (ledger.read); accounts and the administrator import and match
(voucher.post)."""
from __future__ import annotations

from flask import flash, render_template, request, url_for
from flask_login import current_user

from ..db import get_conn
from ..errors import redirect_response
from ..forms import FlaskForm, choices, save_or_field_error
from ..pages import found_or_404
from ..security import allow, can
from . import bank_queries as q
from . import bp
from . import statement_file as sf
from .cash_forms import MATCH_MESSAGES, STATEMENT_MESSAGES, StatementConfirmForm, StatementUploadForm

HOW = {"SUGGESTED": "Suggestion accepted", "MANUAL": "Matched by hand", "CREATED": "Expense made from the line"}


def _account_or_404(conn, ledger_id: int):
    return found_or_404(q.account(conn, ledger_id))


@bp.get("/bank")
@allow("ledger.read")
def bank_accounts():
    conn = get_conn()
    return render_template("finance/bank/accounts.html", accounts=q.accounts(conn, current_user.branch_id),
                           banks=sf.BANKS, may_import=can("voucher.post"))


# --------------------------------------------------------------------------- importing a statement


def _confirm_form(statement: sf.Statement | None, text: str, file_name: str, sha256: str) -> StatementConfirmForm:
    form = StatementConfirmForm(formdata=None) if statement else StatementConfirmForm()
    _column_choices(form, statement)
    if statement:
        form.text.data, form.file_name.data, form.file_sha256.data = text, file_name, sha256
        form.bank_code.data = statement.layout.bank_code
        for f in sf.FIELDS:
            form[f"col_{f}"].data = statement.layout.columns.get(f) or ""
        form.shown.data = sf.fingerprint(text, _chosen(form))
    return form


def _column_choices(form: StatementConfirmForm, statement: sf.Statement | None) -> None:
    """The header row's names as the choices of each column (none until the file is read)."""
    headers = [h for h in (statement.headers if statement else []) if h]
    options = choices([("", "— none —")] + [(h, h) for h in headers])
    for f in sf.FIELDS:
        form[f"col_{f}"].choices = options
    form.bank_code.choices = choices(list(sf.BANKS.items()))


def _chosen(form: StatementConfirmForm) -> dict:
    return {"bank_code": form.bank_code.data, **{f: form[f"col_{f}"].data or None for f in sf.FIELDS}}


def _duplicate_problems(conn, ledger_id: int, sha256: str, statement: sf.Statement) -> list[str]:
    earlier = q.statement_imported(conn, ledger_id, sha256)
    if earlier:
        return [f"This file was imported already ({earlier['file_name']}, on {earlier['imported_at']:%d-%m-%Y}): "
                "nothing was imported again"]
    again = q.lines_already_imported(conn, ledger_id, statement)
    if again:
        return [f"{again} of its {len(statement.lines)} lines were imported already with another statement: export "
                "the statement from the day after the last one imported"]
    return []


@bp.route("/bank/<int:bank_id>/import", methods=["GET", "POST"])
@allow("voucher.post")
def statement_import(bank_id: int):
    conn = get_conn()
    ledger_id = bank_id
    account = _account_or_404(conn, ledger_id)
    saved = q.saved_layout(conn, ledger_id)
    upload_form = StatementUploadForm()
    context = {"account": account, "upload_form": upload_form, "saved": saved, "banks": sf.BANKS,
               "titles": sf.TITLES, "statement": None, "problems": [], "form": None}
    if request.method == "GET":
        return render_template("finance/bank/import.html", **context)
    upload = request.files.get("statement")
    if upload is not None and upload.filename:   # a file: read it and show the preview
        if not upload_form.validate_on_submit():
            return render_template("finance/bank/import.html", **context), 422
        data = upload.read(sf.MAX_BYTES + 1)
        file_name, sha256 = (upload.filename or "statement")[-120:], sf.file_sha256(data)
        try:
            rows = sf.rows_from_upload(file_name, data)
            statement = sf.read_statement(rows, saved)
        except sf.Unreadable as exc:
            return render_template("finance/bank/import.html", **{**context, "problems": [str(exc)]}), 422
        text = sf.as_text(rows)
        form = _confirm_form(statement, text, file_name, sha256)
        problems = statement.problems + _duplicate_problems(conn, ledger_id, sha256, statement)
        return render_template("finance/bank/import.html", **{**context, "statement": statement, "form": form,
                                                              "problems": problems}), 422 if problems else 200
    form = _confirm_form(None, "", "", "")
    # a browser sends the hidden text's line ends as CRLF: the preview's fingerprint was of LF
    form.text.data = (form.text.data or "").replace("\r\n", "\n").replace("\r", "\n")
    if not form.validate_on_submit() or not form.text.data:
        problems = ["Choose the statement file first"] if not form.text.data else \
            [e for errs in form.errors.values() for e in errs]
        return render_template("finance/bank/import.html", **{**context, "problems": problems}), 422
    try:
        statement = sf.read_statement(sf.rows_from_text(form.text.data), saved, _chosen(form))
    except sf.Unreadable as exc:
        return render_template("finance/bank/import.html", **{**context, "problems": [str(exc)]}), 422
    _column_choices(form, statement)
    problems = statement.problems + _duplicate_problems(conn, ledger_id, form.file_sha256.data, statement)
    fingerprint = sf.fingerprint(form.text.data, _chosen(form))
    if not problems and form.confirm.data == "1" and form.shown.data == fingerprint:
        def save():
            q.save_layout(conn, ledger_id, account["branch_id"], statement.layout)
            return q.import_statement(conn, ledger_id=ledger_id, branch_id=account["branch_id"],
                                      file_name=form.file_name.data, sha256=form.file_sha256.data, statement=statement)
        _, done = save_or_field_error(conn, form, STATEMENT_MESSAGES, save)
        if done:
            flash(f"{len(statement.lines)} statement lines imported; the columns are remembered for this account.",
                  "success")
            return redirect_response(url_for("finance.bank_reconcile", bank_id=ledger_id))
        problems = list(form.form_errors)
    form.shown.data = fingerprint   # the columns were changed: this is the preview to confirm now
    form.confirm.data = ""
    return render_template("finance/bank/import.html", **{**context, "statement": statement, "form": form,
                                                          "problems": problems}), 422 if problems else 200


# --------------------------------------------------------------------------- reconciling


@bp.get("/bank/<int:bank_id>/reconcile")
@allow("ledger.read")
def bank_reconcile(bank_id: int):
    conn = get_conn()
    ledger_id = bank_id
    account = _account_or_404(conn, ledger_id)
    return render_template("finance/bank/reconcile.html", account=account, lines=q.unmatched_lines(conn, ledger_id),
                           vouchers=q.unmatched_vouchers(conn, ledger_id), matched=q.matched_lines(conn, ledger_id),
                           statements=q.statements(conn, ledger_id), how=HOW, may_match=can("voucher.post"))


@bp.get("/bank/lines/<int:line_id>")
@allow("ledger.read")
def bank_line(line_id: int):
    conn = get_conn()
    line = found_or_404(q.get_line(conn, line_id))
    return render_template("finance/bank/line.html", line=line, candidates=q.candidates(conn, line_id) if
                           line["voucher_id"] is None else [], may_match=can("voucher.post"))


class _Problems:
    """A form-like holder for save_or_field_error's messages on a button's post."""

    def __init__(self):
        self.form_errors: list[str] = []


@bp.post("/bank/lines/<int:line_id>/match")
@allow("voucher.post")
def bank_match(line_id: int):
    conn = get_conn()
    line = found_or_404(q.get_line(conn, line_id))
    try:
        voucher_id = int(request.form.get("voucher_id", ""))
    except ValueError:
        voucher_id = None
    how = "SUGGESTED" if request.form.get("how") == "SUGGESTED" else "MANUAL"
    form = FlaskForm()
    if not form.validate_on_submit() or voucher_id is None or not 0 < voucher_id < 2**62:
        flash("Choose the voucher to match the line with.", "error")
    else:
        problems = _Problems()
        _, saved = save_or_field_error(conn, problems, MATCH_MESSAGES, lambda: q.match(conn, line_id, voucher_id, how))
        flash("Line matched." if saved else "; ".join(problems.form_errors), "success" if saved else "error")
    return redirect_response(url_for("finance.bank_reconcile", bank_id=line["ledger_id"]) + "#unmatched")


@bp.post("/bank/lines/<int:line_id>/unmatch")
@allow("voucher.post")
def bank_unmatch(line_id: int):
    conn = get_conn()
    line = found_or_404(q.get_line(conn, line_id))
    if FlaskForm().validate_on_submit() and q.unmatch(conn, line_id):
        flash("The match was undone: the line waits to be reconciled again.", "success")
    return redirect_response(url_for("finance.bank_reconcile", bank_id=line["ledger_id"]))
