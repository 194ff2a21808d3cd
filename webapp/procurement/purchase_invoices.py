"""The OEM's invoices for goods received, the payments made against them, and what is payable."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..db import get_conn
from ..formatting import inr, today_ist
from ..forms import save_or_field_error
from ..pages import choice_arg, found_or_404, rows_or_page, search_text
from ..paging import Page, requested_page
from ..security import allow
from . import bp, queries, services
from .forms import PAYMENT_ERRORS, PINV_ERRORS, PurchaseInvoiceForm, SupplierPaymentForm
from .view_helpers import int_arg

# --------------------------------------------------------------------------- purchase invoices


@bp.get("/invoices")
@allow("purchase.manage")
def pinv_list():
    conn = get_conn()
    oem_id = int_arg("oem")
    q = search_text()
    number, size = requested_page(), current_app.config["PAGE_SIZE"]
    rows, total = queries.search_pinvs(conn, current_user.branch_id, oem_id, q, number, size)
    return rows_or_page("procurement/pinv_list.html", "procurement/_pinv_rows.html", "pinv-results",
                          rows=rows, page=Page(number, size, total), oem_id=oem_id, q=q,
                          oems=queries.all_oem_choices(conn))


def _prefill(form: PurchaseInvoiceForm, figures: services.Totals) -> None:
    values = {"taxable_value": figures.taxable, "cgst": figures.cgst, "sgst": figures.sgst, "igst": figures.igst,
              "round_off": figures.round_off, "total": figures.total}
    for name, value in values.items():
        field = getattr(form, name)
        field.data, field.raw_data, field.errors = value, None, []
    if form.invoice_date.data and not form.due_date.data:
        form.due_date.data, form.due_date.raw_data = form.invoice_date.data + timedelta(days=30), None


@bp.route("/invoices/new", methods=["GET", "POST"])
@allow("purchase.manage")
def pinv_new():
    """The OEM's invoice for one or more receipts; the taxable value and the tax by head are worked out
    from the receipts at the rates in force on the invoice date, and stay editable (the OEM's paper rules)."""
    conn = get_conn()
    oem = queries.get_oem(conn, int_arg("oem_id")) if int_arg("oem_id") else None
    branch_id = current_user.branch_id
    if oem is None:
        oems = queries.oems_with_unbilled_receipts(conn, branch_id)
        return render_template("procurement/pinv_choose_oem.html", oems=oems), 200
    receipts = queries.unbilled_receipts(conn, branch_id, oem.oem_id)
    same_state = queries.same_state(conn, branch_id, oem.oem_id)
    form = PurchaseInvoiceForm()
    form.receipts.choices = [(g.grn_id, f"{g.grn_no} of {g.received_on:%d-%m-%Y} · PO {g.po_no} · {inr(g.value)}")
                             for g in receipts]
    figures = None
    if request.method == "GET":
        chosen = int_arg("grn_id")
        if chosen in {g.grn_id for g in receipts}:
            form.receipts.data = [chosen]
            figures = services.invoice_figures(conn, branch_id=branch_id, oem_id=oem.oem_id, grn_ids=[chosen],
                                               on=form.invoice_date.data)
            _prefill(form, figures)
        return _render_invoice_form(form, oem, receipts, same_state, figures)
    if request.form.get("action") == "prefill":
        form.validate_on_submit()  # for the errors of what is typed; nothing is saved
        grn_ids = [g for g in (form.receipts.data or []) if g in {r.grn_id for r in receipts}]
        on = form.invoice_date.data or today_ist()
        figures = services.invoice_figures(conn, branch_id=branch_id, oem_id=oem.oem_id, grn_ids=grn_ids, on=on)
        _prefill(form, figures)
        for name in ("taxable_value", "cgst", "sgst", "igst", "round_off", "total", "due_date"):
            getattr(form, name).errors = []
        return _render_invoice_form(form, oem, receipts, same_state, figures, status=200)
    if form.validate_on_submit():
        data = {name: getattr(form, name).data for name in ("supplier_invoice_no", "invoice_date", "due_date",
                                                             "taxable_value", "total")}
        data.update({name: getattr(form, name).data or Decimal("0.00")
                     for name in ("cgst", "sgst", "igst", "round_off")})
        if same_state and data["igst"]:
            form.igst.errors.append(f"{oem.brand} is in the branch's state: CGST and SGST, not IGST")
        elif not same_state and (data["cgst"] or data["sgst"]):
            form.cgst.errors.append(f"{oem.brand} is in another state: IGST, not CGST and SGST")
        else:
            try:
                pinv_id, saved = save_or_field_error(conn, form, PINV_ERRORS, lambda: services.post_purchase_invoice(
                    conn, branch_id=branch_id, oem_id=oem.oem_id, data=data, grn_ids=form.receipts.data))
            except services.Refused as exc:
                form.receipts.errors.append(str(exc))
                saved = False
            if saved:
                flash(f"Purchase invoice {data['supplier_invoice_no']} of {oem.brand} entered: "
                      f"{inr(data['total'])} due on {data['due_date']:%d-%m-%Y}.", "success")
                return redirect(url_for("procurement.pinv_detail", pinv_id=pinv_id), 303)
    return _render_invoice_form(form, oem, receipts, same_state, figures)


def _render_invoice_form(form, oem, receipts, same_state, figures, status=None):
    if status is None:
        status = 422 if request.method == "POST" and (form.errors or form.form_errors) else 200
    return render_template("procurement/pinv_form.html", form=form, oem=oem, receipts=receipts,
                           same_state=same_state, figures=figures), status


@bp.get("/invoices/<int:pinv_id>")
@allow("purchase.manage")
def pinv_detail(pinv_id: int):
    conn = get_conn()
    invoice = found_or_404(queries.get_pinv(conn, pinv_id))
    form = SupplierPaymentForm(data={"amount": invoice.outstanding})
    return _render_invoice_detail(invoice, form)


def _render_invoice_detail(invoice, form, status=200):
    conn = get_conn()
    return render_template("procurement/pinv_detail.html", invoice=invoice, form=form,
                           receipts=queries.pinv_receipts(conn, invoice.pinv_id),
                           payments=queries.pinv_payments(conn, invoice.pinv_id)), status


@bp.post("/invoices/<int:pinv_id>/payments")
@allow("purchase.manage")
def pinv_payment(pinv_id: int):
    """A payment to the OEM against this invoice; never more than is still due (the database checks too)."""
    conn = get_conn()
    invoice = found_or_404(queries.get_pinv(conn, pinv_id))
    form = SupplierPaymentForm()
    if form.validate_on_submit():
        if form.amount.data > invoice.outstanding:
            form.amount.errors.append(f"Only {inr(invoice.outstanding)} is still due on this invoice")
        elif form.paid_on.data < invoice.invoice_date:
            form.paid_on.errors.append("Before the invoice date: enter advances against the invoice once it comes")
        else:
            _, saved = save_or_field_error(conn, form, PAYMENT_ERRORS, lambda: queries.insert_payment(
                conn, pinv_id, invoice.branch_id, form.data))
            if saved:
                flash(f"Payment of {inr(form.amount.data)} to {invoice.brand} recorded.", "success")
                return redirect(url_for("procurement.pinv_detail", pinv_id=pinv_id), 303)
    return _render_invoice_detail(queries.get_pinv(conn, pinv_id), form, 422)


@bp.get("/payables")
@allow("purchase.manage")
def payable_list():
    conn = get_conn()
    oem_id = int_arg("oem")
    bucket = choice_arg("bucket", queries.AGE_BUCKETS)
    number, size = requested_page(), current_app.config["PAGE_SIZE"]
    rows, total = queries.payables(conn, current_user.branch_id, oem_id, bucket or None, number, size)
    return rows_or_page("procurement/payable_list.html", "procurement/_payable_rows.html", "payable-results",
                          rows=rows, page=Page(number, size, total), oem_id=oem_id, bucket=bucket,
                          buckets=queries.payable_buckets(conn, current_user.branch_id, oem_id),
                          oems=queries.all_oem_choices(conn))
