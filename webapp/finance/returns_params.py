"""The dated parameters the GST returns are built with, read and added by accounts: the GSTR-1 format
version, the HSN summary's shape, the B2C-large limit (billing.threshold B2CL), the HSN digits by
turnover and the UQC of each unit. Every row's history is shown; a change is a new row from a day,
made by finance.add_return_parameter (the row in force then ends the day before). A row in force in a
month already closed in the books (whose returns are made) is never changed: the database refuses it
(return_parameter_kept, sql/functions/97_finance_returns.sql)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask import flash, render_template, url_for
from sqlalchemy.engine import Connection
from wtforms import HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Optional

from ..db import get_conn
from ..errors import redirect_response
from ..formatting import ddmmyyyy, inr, today_ist
from ..forms import (
    AmountField,
    DateField,
    FlaskForm,
    Length,
    blank_to_none,
    choices,
    save_or_field_error,
    upper_or_none,
)
from ..security import allow, can
from . import bp

KINDS = {  # kind: (heading, what its value is)
    "GSTR1_VERSION": ("GSTR-1 JSON format version", "The version the offline tool in use writes, e.g. GST3.2.2"),
    "HSN_SHAPE": ("HSN summary (Table 12) shape", "One list, or split into B2B and B2C (from the May-2025 period)"),
    "B2CL": ("B2C large limit", "An inter-state invoice to an unregistered buyer above this is reported invoice by invoice"),
    "HSN_DIGITS": ("HSN digits by turnover", "Digits of HSN the summary needs above a turnover of the previous year"),
    "UQC": ("Unit quantity codes (UQC)", "The GST unit code of each unit the ERP sells in; services: NA"),
}
SHAPES = {"SPLIT": "Split: B2B and B2C", "SINGLE": "One list"}
DIGITS = ("4", "6", "8", "2")


class ReturnParameterForm(FlaskForm):
    kind = HiddenField()
    effective_from = DateField("In force from", validators=[DataRequired("Give the first day of the new value")])
    value = StringField("Value", filters=[upper_or_none], validators=[Optional(), Length(max=20)],
                        render_kw={"autocomplete": "off", "autocapitalize": "characters"})
    shape = SelectField("Shape", choices=choices(SHAPES.items()), default="SPLIT")
    amount = AmountField("Amount (₹)", validators=[Optional()])
    digits = SelectField("Digits", choices=choices((d, f"{d} digits") for d in DIGITS), default="6")
    unit = StringField("Unit", filters=[upper_or_none], validators=[Optional(), Length(max=5)],
                       description="As the ERP's parts and lines write it (NOS, SET, LTR...); empty: services",
                       render_kw={"autocomplete": "off", "autocapitalize": "characters"})
    note = StringField("Note", filters=[blank_to_none], validators=[Optional(), Length(max=300)])

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        kind, problems = self.kind.data, []
        if kind not in KINDS:
            self.form_errors.append("Choose which parameter to change")
            return False
        if self.effective_from.data and self.effective_from.data < date(2017, 7, 1):
            problems.append((self.effective_from, "GST began on 01-07-2017"))
        if kind == "GSTR1_VERSION" and not self.value.data:
            problems.append((self.value, "Give the version, e.g. GST3.2.2"))
        elif kind == "UQC" and not self.value.data:
            problems.append((self.value, "Give the UQC, e.g. NOS"))
        elif kind in ("B2CL", "HSN_DIGITS") and self.amount.data is None and not self.amount.errors:
            problems.append((self.amount, "Give the amount"))
        for field, message in problems:
            field.errors = [*field.errors, message]
        return ok and not problems

    def key_and_value(self) -> tuple[str | None, str]:
        """What finance.add_return_parameter takes as p_key and p_value for this kind."""
        kind = self.kind.data
        if kind == "HSN_SHAPE":
            return None, self.shape.data
        if kind == "B2CL":
            return None, f"{self.amount.data:f}"
        if kind == "HSN_DIGITS":
            return f"{self.amount.data:f}", self.digits.data
        if kind == "UQC":
            return self.unit.data, self.value.data
        return None, self.value.data


def _messages(closed: date | None) -> dict:
    later = ("effective_from", "A value of this parameter already starts on or after this date: choose a later day")
    return {
        "return_parameter_after_closed_month": ("effective_from", (
            f"Returns up to {ddmmyyyy(closed)} are made (that month is closed in the books): "
            f"a new value starts after it") if closed else "A closed month's returns are made: start after it"),
        "return_parameter_used": ("effective_from", "That value was in force for returns already made"),
        "gst_return_setting_no_overlap": later, "hsn_digits_rule_no_overlap": later, "gst_uqc_no_overlap": later,
        "threshold_no_overlap": later,
        "gst_return_setting_value_check": ("value", "1 to 20 letters, digits, '.', '_' or '-'"),
        "gst_return_setting_hsn_shape": ("shape", "One list or split"),
        "threshold_amount_check": ("amount", "More than zero"),
        "hsn_digits_rule_turnover_above_check": ("amount", "Zero or more"),
        "hsn_digits_rule_digits_check": ("digits", "2, 4, 6 or 8 digits"),
        "gst_uqc_unit_check": ("unit", "2 to 5 capital letters, as the ERP writes units"),
        "gst_uqc_uqc_check": ("value", "A UQC is 2 or 3 capital letters, e.g. NOS"),
        "return_parameter_kind": ("kind", "Choose which parameter to change"),
        # the end of the value in force is set by the function, the day before the new one's first
        "gst_return_setting_check": ("effective_from", "The dates are out of order"),
        "hsn_digits_rule_check": ("effective_from", "The dates are out of order"),
        "gst_uqc_check": ("effective_from", "The dates are out of order"),
        "gst_uqc_goods_or_services": ("unit", "A unit, or empty for services"),
    }


# --------------------------------------------------------------------------- queries


def last_closed_day(conn: Connection) -> date | None:
    return conn.execute(sa.text("SELECT finance.last_closed_day()")).scalar()


def parameters(conn: Connection) -> dict[str, list]:
    """Every row of every parameter, by kind: the current ones first within each key, newest first."""
    rows = conn.execute(sa.text("""
        SELECT code AS kind, NULL::text AS key, value, effective_from, effective_to, note
          FROM finance.gst_return_setting
        UNION ALL
        SELECT 'B2CL', NULL, amount::text, effective_from, effective_to, notification
          FROM billing.threshold WHERE code = 'B2CL'
        UNION ALL
        SELECT 'HSN_DIGITS', turnover_above::text, digits::text, effective_from, effective_to, note
          FROM finance.hsn_digits_rule
        UNION ALL
        SELECT 'UQC', unit, uqc, effective_from, effective_to, NULL FROM finance.gst_uqc
         ORDER BY kind, key NULLS LAST, effective_from DESC""")).mappings().all()
    out: dict[str, list] = {kind: [] for kind in KINDS}
    for r in rows:
        kind, shown_key, shown_value = r["kind"], r["key"], r["value"]
        if kind == "B2CL":
            shown_value = inr(Decimal(r["value"]))
        elif kind == "HSN_DIGITS":
            shown_key, shown_value = inr(Decimal(r["key"])), f"{r['value']} digits"
        elif kind == "HSN_SHAPE":
            shown_value = SHAPES.get(r["value"], r["value"])
        elif kind == "UQC" and r["key"] is None:
            shown_key = "Services (SAC)"
        out[kind].append({**r, "shown_key": shown_key, "shown_value": shown_value})
    return out


def add(conn: Connection, form: ReturnParameterForm) -> int:
    key, value = form.key_and_value()
    return conn.execute(sa.text("SELECT finance.add_return_parameter(:kind, :key, :value, :from, :note)"), {
        "kind": form.kind.data, "key": key, "value": value, "from": form.effective_from.data,
        "note": form.note.data}).scalar_one()


# --------------------------------------------------------------------------- the screen


def _own_ids(form: ReturnParameterForm, kind: str) -> ReturnParameterForm:
    """One form per parameter on the page: each field's id (and its label's) made the section's own, the
    names left as they are (what is posted is the same form)."""
    for f in form:
        f.id = f"{kind.lower()}-{f.name}"
        f.label.field_id = f.id
    return form


def _page(conn, failed: ReturnParameterForm | None = None):
    forms = {kind: ReturnParameterForm(formdata=None, kind=kind) for kind in KINDS}
    if failed is not None and failed.kind.data in KINDS:
        forms[failed.kind.data] = failed
    forms = {kind: _own_ids(form, kind) for kind, form in forms.items()}
    return render_template("finance/returns/parameters.html", kinds=KINDS, shapes=SHAPES, rows=parameters(conn),
                           forms=forms, failed=failed, closed=last_closed_day(conn), may_add=can("gst.parameters"),
                           today=today_ist()), 422 if failed is not None else 200


@bp.get("/returns/parameters")
@allow("gst.returns", write="gst.parameters")
def return_parameters():
    """Each parameter's dated values, the one in force today marked; a form to add a new value from a day."""
    return _page(get_conn())


@bp.post("/returns/parameters")
@allow("gst.parameters")
def return_parameter_add():
    conn = get_conn()
    form = ReturnParameterForm()
    if form.validate_on_submit():
        _, saved = save_or_field_error(conn, form, _messages(last_closed_day(conn)), lambda: add(conn, form))
        if saved:
            flash(f"{KINDS[form.kind.data][0]}: the new value is in force from {ddmmyyyy(form.effective_from.data)}.",
                  "success")
            return redirect_response(url_for("finance.return_parameters"))
    return _page(conn, form)
