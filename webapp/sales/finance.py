"""Steps of a sale paid for by others besides the customer: the financier's loan and its delivery
order, an old vehicle taken in exchange, and the PM E-DRIVE subsidy claim (each claim's page and
the branch's register of claims)."""
from __future__ import annotations

from decimal import Decimal

from flask import request, url_for
from flask_login import current_user

from ..db import get_conn
from ..finance.api import CONSTRAINT_MESSAGES as BOOKS_MESSAGES
from ..pages import choice_arg, rows_or_page, search_text
from ..paging import paged
from ..security import allow
from . import bp, step_queries
from .access import sale_url
from .step_common import save_step, step_booking, step_page
from .step_forms import ExchangeForm, FinanceForm, SubsidyForm
from .steps import SUBSIDY_STEPS, subsidy_pending_step

# --------------------------------------------------------------------------- finance

FINANCE_ERRORS = {
    "finance_do_complete": ("do_received_on", "A delivery order has both its number and the date it came"),
    "finance_loan_amount_check": ("loan_amount", "More than zero"),
    "finance_financier_id_fkey": ("financier_id", "Choose a financier from the list"),
}


def _financier_choices(conn, current: int | None):
    rows = step_queries.financiers(conn, current)
    return [(-1, "— choose —")] + [(r.financier_id, r.name) for r in rows]


@bp.route("/bookings/<int:booking_id>/finance", methods=["GET", "POST"])
@allow("sale.read", write="sale.change")
def finance(booking_id: int):
    booking = step_booking(booking_id)
    conn = get_conn()
    saved_row = step_queries.step_row(conn, "sales.finance", booking_id)
    form = FinanceForm(data=dict(saved_row) if saved_row and request.method == "GET" else None)
    form.financier_id.choices = _financier_choices(conn, saved_row["financier_id"] if saved_row else None)
    if request.method == "POST" and form.validate_on_submit():
        if form.financier_id.data not in {c for c, _ in form.financier_id.choices[1:]}:
            form.financier_id.errors.append("Choose a financier from the list")
        else:
            values = {k: form[k].data for k in ("financier_id", "loan_amount", "loan_account_no", "do_number",
                                                 "do_received_on", "noc_received_on")}
            values["down_payment"] = form.down_payment.data or Decimal(0)
            saved = save_step(conn, form, "sales.finance", booking_id, values, FINANCE_ERRORS,
                              "Finance details saved.")
            if saved:
                return saved
    return step_page("sales/step_form.html", form, booking, failed=bool(form.financier_id.errors),
                     title="Finance and hypothecation", action=url_for("sales.finance", booking_id=booking_id),
                     hint="The loan amount caps the finance disbursement receipts taken on the money panel.")


# --------------------------------------------------------------------------- exchange

EXCHANGE_ERRORS = {
    "exchange_reg_no_check": ("reg_no", "4 to 12 letters and digits, e.g. KA05AB1234"),
    "exchange_valuation_check": ("valuation", "More than zero"),
}


@bp.route("/bookings/<int:booking_id>/exchange", methods=["GET", "POST"])
@allow("sale.read", write="sale.change")
def exchange(booking_id: int):
    booking = step_booking(booking_id)
    conn = get_conn()
    saved_row = step_queries.step_row(conn, "sales.exchange", booking_id)
    form = ExchangeForm(data=dict(saved_row) if saved_row and request.method == "GET" else None)
    if request.method == "POST" and form.validate_on_submit():
        values = {k: form[k].data for k in ("make_model", "reg_no", "mfg_year", "odometer_km", "valuation",
                                             "purchased_on", "notes")}
        values["valued_by"] = current_user.staff_id
        saved = save_step(conn, form, "sales.exchange", booking_id, values, EXCHANGE_ERRORS,
                          "Exchange vehicle saved. Its value reaches the sale as an exchange receipt.")
        if saved:
            return saved
    return step_page("sales/step_form.html", form, booking, title="Exchange of an old vehicle",
                     action=url_for("sales.exchange", booking_id=booking_id),
                     hint="The old vehicle is bought from the customer at this valuation; take it against the sale "
                          "as a receipt of mode Exchange on the money panel.")


# --------------------------------------------------------------------------- subsidy

SUBSIDY_ERRORS = {
    "period_closed": ("credited_on", BOOKS_MESSAGES["period_closed"]),
    "subsidy_credit_posted": ("credited_amount", "The OEM's credit is posted in the books: it no longer changes"),
    "subsidy_signed_needs_voucher": ("buyer_signed_on", "The buyer signs the e-voucher: enter its id first"),
    "subsidy_upload_after_sign": ("dealer_uploaded_on", "Upload after the buyer has signed: enter that date first"),
    "subsidy_claim_after_upload": ("claim_raised_on", "The claim follows the upload: enter the upload date first"),
    "subsidy_claim_no": ("claim_no", "A claim has both its number and the date it was raised"),
    "subsidy_credit_after_claim": ("credited_on", "The OEM credits a claim: raise the claim first"),
    "subsidy_credit_complete": ("credited_amount", "Enter both the amount credited and the date"),
    "subsidy_claim_voucher_id_check": ("voucher_id", "4 to 40 letters, digits, / or -"),
    "subsidy_claim_eligible_amount_check": ("eligible_amount", "More than zero"),
}


@bp.route("/bookings/<int:booking_id>/subsidy", methods=["GET", "POST"])
@allow("sale.read", write="sale.change")
def subsidy(booking_id: int):
    booking = step_booking(booking_id)
    conn = get_conn()
    saved_row = step_queries.step_row(conn, "sales.subsidy_claim", booking_id)
    if request.method == "GET":
        data = dict(saved_row) if saved_row else {"eligible_amount": booking["subsidy_eligible"] or None}
        form = SubsidyForm(data=data)
    else:
        form = SubsidyForm()
        if form.validate_on_submit():
            values = {k: form[k].data for k in ("eligible_amount", "voucher_id", "buyer_signed_on",
                                                 "dealer_uploaded_on", "claim_no", "claim_raised_on",
                                                 "credited_amount", "credited_on")}
            saved = save_step(conn, form, "sales.subsidy_claim", booking_id, values, SUBSIDY_ERRORS,
                              "Subsidy claim saved.")
            if saved:
                return saved
    return step_page("sales/step_form.html", form, booking, title="PM E-DRIVE subsidy claim",
                     action=url_for("sales.subsidy", booking_id=booking_id),
                     hint="Steps in order: e-voucher id, buyer's signature, upload on the portal, claim to the OEM, "
                          "the OEM's credit. The subsidy reaches the sale as a receipt of mode Subsidy.")


SUBSIDY_FILTERS = {
    "": "All claims", "pending": "Not yet credited", **{k: f"Waiting for the {v}" for k, v in SUBSIDY_STEPS.items()},
    "credited": "Credited",
}


@bp.get("/subsidy-claims")
@allow("subsidy.register")
def subsidy_list():
    conn = get_conn()
    step = choice_arg("step", SUBSIDY_FILTERS, "pending")
    q = search_text()
    claims = step_queries.subsidy_claim_filter(current_user.branch_id, step, q)
    totals = {}

    def search(number, size):
        rows = step_queries.subsidy_claim_page(conn, claims, number, size)
        # The totals come with the page's rows; only an empty page asks for them on their own.
        totals.update(rows[0] if rows else step_queries.subsidy_claim_totals(conn, claims))
        return [{**r, "pending_label": SUBSIDY_STEPS.get(subsidy_pending_step(r))} for r in rows], totals["claims"]

    rows, page = paged(search)
    totals = {k: totals[k] for k in ("claims", "eligible", "credited")}
    return rows_or_page("sales/step_subsidy_list.html", "sales/step_subsidy_rows.html", "subsidy-results",
                        rows=rows, page=page, totals=totals, step=step, q=q, filters=SUBSIDY_FILTERS,
                        sale_link=sale_url)
