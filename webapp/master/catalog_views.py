"""Catalog screens of master: the tax master (HSN/SAC and dated GST rates), customers, financiers
and insurers, the spare parts catalog and labour operations.

Who may do what: the catalog is read by every staff role but the sub-dealer and changed by
ADMIN and MANAGER; the tax master is also changed by ACCOUNTS (GST is their desk); customers
are searched, added and corrected by the counter roles (SALES, SERVICE_ADVISOR), ACCOUNTS,
MANAGER and ADMIN, and belong to the branch of whoever added them.
"""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import panels
from ..db import get_conn
from ..formatting import ddmmyyyy, group_indian, plain_number, today_ist
from ..forms import overlap_message, save_or_field_error
from ..pages import choice_arg, form_page, found_or_404, rows_or_page, search_text
from ..paging import paged, paged_capped
from ..security import allow, can
from . import bp
from . import catalog_queries as cq
from .catalog_forms import (
    CUSTOMER_ERRORS,
    HSN_ERRORS,
    HSN_RATE_ERRORS,
    LABOUR_ERRORS,
    PART_ERRORS,
    CustomerForm,
    HsnForm,
    HsnRateForm,
    LabourForm,
    PartForm,
    PartyForm,
    party_errors,
)

STATUS_FILTERS = ("active", "inactive", "all")


@bp.app_template_filter("lakh_grouped")
def lakh_grouped(value) -> str:
    """A whole number grouped the Indian way: 100000 -> 1,00,000 (km, not money)."""
    return "" if value is None else group_indian(str(value))


# --------------------------------------------------------------------------- shared shapes






def status_filter() -> str:
    return choice_arg("status", STATUS_FILTERS, "active")


# --------------------------------------------------------------------------- tax master


@bp.get("/hsn")
@allow("catalog.read")
def hsn_list():
    today = today_ist()
    return render_template("master/hsn_list.html", codes=cq.list_hsn(get_conn(), today), today=today,
                           can_edit=can("tax.edit"))


@bp.route("/hsn/new", methods=["GET", "POST"])
@allow("tax.edit")
def hsn_new():
    form = HsnForm()
    if form.validate_on_submit():
        conn = get_conn()
        code, saved = save_or_field_error(conn, form, HSN_ERRORS, lambda: cq.insert_hsn(conn, form.data))
        if saved:
            flash(f"{code} added to the tax master. Now give it its GST rate.", "success")
            return redirect(url_for("master.hsn_rate_new", hsn_code=code), 303)
    return form_page("master/hsn_form.html", form, hsn=None)


@bp.get("/hsn/<hsn_code>")
@allow("catalog.read")
def hsn_detail(hsn_code: str):
    conn, today = get_conn(), today_ist()
    hsn = found_or_404(cq.get_hsn(conn, hsn_code, today))
    return render_template("master/hsn_detail.html", hsn=hsn, rates=cq.hsn_rates(conn, hsn_code, today),
                           today=today, can_edit=can("tax.edit"))


@bp.route("/hsn/<hsn_code>/edit", methods=["GET", "POST"])
@allow("tax.edit")
def hsn_edit(hsn_code: str):
    conn = get_conn()
    hsn = found_or_404(cq.get_hsn(conn, hsn_code, today_ist()))
    form = HsnForm(obj=hsn)
    form.hsn_code.data = hsn.hsn_code  # the code is the key: shown, never changed
    form.hsn_code.render_kw = {**(form.hsn_code.render_kw or {}), "readonly": True}
    if form.validate_on_submit():
        _, saved = save_or_field_error(conn, form, HSN_ERRORS, lambda: cq.update_hsn(conn, hsn_code, form.data))
        if saved:
            flash(f"Saved {hsn_code}.", "success")
            return redirect(url_for("master.hsn_detail", hsn_code=hsn_code), 303)
    return form_page("master/hsn_form.html", form, hsn=hsn)


def _save_rate(conn, form, hsn_code: str, hsn_rate_id: int | None, action):
    clashes = cq.overlapping_hsn_rates(conn, hsn_code, form.effective_from.data, form.effective_to.data,
                                       hsn_rate_id)
    messages = {**HSN_RATE_ERRORS,
                "hsn_rate_no_overlap": ("effective_from", overlap_message(
                    clashes, "GST rate", lambda r: f"{plain_number(r.gst_rate)}%"))}
    return save_or_field_error(conn, form, messages, action)


@bp.route("/hsn/<hsn_code>/rates/new", methods=["GET", "POST"])
@allow("tax.edit")
def hsn_rate_new(hsn_code: str):
    conn = get_conn()
    hsn = found_or_404(cq.get_hsn(conn, hsn_code, today_ist()))
    form = HsnRateForm()
    if form.validate_on_submit():
        _, saved = _save_rate(conn, form, hsn_code, None, lambda: cq.insert_hsn_rate(conn, hsn_code, form.data))
        if saved:
            flash(f"GST {form.gst_rate.data}% on {hsn_code} from {ddmmyyyy(form.effective_from.data)} saved.",
                  "success")
            return redirect(url_for("master.hsn_detail", hsn_code=hsn_code), 303)
    return form_page("master/hsn_rate_form.html", form, hsn=hsn, rate=None)


@bp.route("/hsn/rates/<int:hsn_rate_id>/edit", methods=["GET", "POST"])
@allow("tax.edit")
def hsn_rate_edit(hsn_rate_id: int):
    conn = get_conn()
    rate = found_or_404(cq.get_hsn_rate(conn, hsn_rate_id))
    hsn = cq.get_hsn(conn, rate.hsn_code, today_ist())
    form = HsnRateForm(obj=rate)
    if form.validate_on_submit():
        _, saved = _save_rate(conn, form, rate.hsn_code, hsn_rate_id,
                              lambda: cq.update_hsn_rate(conn, hsn_rate_id, form.data))
        if saved:
            flash(f"Rate of {rate.hsn_code} saved.", "success")
            return redirect(url_for("master.hsn_detail", hsn_code=rate.hsn_code), 303)
    return form_page("master/hsn_rate_form.html", form, hsn=hsn, rate=rate)


# --------------------------------------------------------------------------- customers


def _customer_form(**kwargs) -> CustomerForm:
    conn = get_conn()
    states = cq.state_choices(conn)
    form = CustomerForm(state_labels=dict(states), **kwargs)
    form.state_code.choices = [("", "Choose the state"), *states]
    return form


@bp.get("/customers")
@allow("customer.manage")
def customer_list():
    q = search_text()
    rows, page = paged_capped(lambda n, size: cq.search_customers(get_conn(), q, n, size))
    return rows_or_page("master/customer_list.html", "master/_customer_rows.html", "customer-results",
                        rows=rows, page=page, q=q)


@bp.route("/customers/new", methods=["GET", "POST"])
@allow("customer.manage")
def customer_new():
    conn = get_conn()
    form = _customer_form(data={"state_code": cq.branch_state(conn, current_user.branch_id),
                                "name": request.args.get("name", "").strip() or None})
    if form.validate_on_submit():
        customer_id, saved = save_or_field_error(
            conn, form, CUSTOMER_ERRORS, lambda: cq.insert_customer(conn, form.data, current_user.branch_id))
        if saved:
            flash(f"Customer {form.name.data} added.", "success")
            return redirect(url_for("master.customer_detail", customer_id=customer_id), 303)
    return form_page("master/customer_form.html", form, customer=None)


@bp.get("/customers/<int:customer_id>")
@allow("customer.manage")
def customer_detail(customer_id: int):
    conn = get_conn()
    customer = found_or_404(cq.get_customer(conn, customer_id))
    return render_template("master/customer_detail.html", customer=customer,
                           panels=panels.draw("customer", conn, customer))


@bp.route("/customers/<int:customer_id>/edit", methods=["GET", "POST"])
@allow("customer.manage")
def customer_edit(customer_id: int):
    conn = get_conn()
    customer = found_or_404(cq.get_customer(conn, customer_id))
    form = _customer_form(obj=customer)
    if form.validate_on_submit():
        _, saved = save_or_field_error(conn, form, CUSTOMER_ERRORS,
                                       lambda: cq.update_customer(conn, customer_id, form.data))
        if saved:
            flash(f"Saved {form.name.data}.", "success")
            return redirect(url_for("master.customer_detail", customer_id=customer_id), 303)
    return form_page("master/customer_form.html", form, customer=customer)


# --------------------------------------------------------------------------- financiers and insurers

PARTY_WORDS = {"financier": ("Financiers", "financier", "Banks and NBFCs that finance vehicles (hypothecation)"),
               "insurer": ("Insurers", "insurer", "Insurance companies whose policies the showroom sells")}


def _party_list(kind: str):
    return render_template("master/party_list.html", kind=kind, words=PARTY_WORDS[kind],
                           parties=cq.list_parties(get_conn(), kind),
                           can_edit=can("catalog.edit"))


def _party_form(kind: str, party_id: int | None):
    conn = get_conn()
    party = found_or_404(cq.get_party(conn, kind, party_id)) if party_id is not None else None
    form = PartyForm(obj=party)
    if form.validate_on_submit():
        def save():
            if party is None:
                return cq.insert_party(conn, kind, form.data)
            return cq.update_party(conn, kind, party_id, form.data)

        _, saved = save_or_field_error(conn, form, party_errors(kind), save)
        if saved:
            flash(f"{form.name.data} saved.", "success")
            return redirect(url_for(f"master.{kind}_list"), 303)
    return form_page("master/party_form.html", form, kind=kind, words=PARTY_WORDS[kind], party=party)


@bp.get("/financiers")
@allow("catalog.read")
def financier_list():
    return _party_list("financier")


@bp.route("/financiers/new", methods=["GET", "POST"])
@allow("catalog.edit")
def financier_new():
    return _party_form("financier", None)


@bp.route("/financiers/<int:financier_id>/edit", methods=["GET", "POST"])
@allow("catalog.edit")
def financier_edit(financier_id: int):
    return _party_form("financier", financier_id)


@bp.get("/insurers")
@allow("catalog.read")
def insurer_list():
    return _party_list("insurer")


@bp.route("/insurers/new", methods=["GET", "POST"])
@allow("catalog.edit")
def insurer_new():
    return _party_form("insurer", None)


@bp.route("/insurers/<int:insurer_id>/edit", methods=["GET", "POST"])
@allow("catalog.edit")
def insurer_edit(insurer_id: int):
    return _party_form("insurer", insurer_id)


# --------------------------------------------------------------------------- spare parts


def _requested_model() -> int | None:
    raw = request.args.get("model", "")
    return int(raw) if raw.isdigit() and int(raw) < 2**31 else None


@bp.get("/parts")
@allow("catalog.read")
def part_list():
    q, status, model_id = search_text(), status_filter(), _requested_model()
    conn, today = get_conn(), today_ist()
    rows, page = paged(lambda n, size: cq.search_parts(conn, q, status, model_id, today, n, size))
    return rows_or_page("master/part_list.html", "master/_part_rows.html", "part-results",
                        rows=rows, page=page, q=q, status=status, statuses=STATUS_FILTERS, model=model_id,
                        models=cq.model_choices(conn), can_edit=can("catalog.edit"))


def _part_form(chosen_models=(), **kwargs) -> PartForm:
    conn = get_conn()
    form = PartForm(**kwargs)
    form.hsn_code.choices = [("", "Choose the HSN code"), *cq.hsn_choices(conn, today_ist(), services=False)]
    form.model_ids.choices = cq.model_choices(conn, keep=chosen_models)
    return form


@bp.route("/parts/new", methods=["GET", "POST"])
@allow("catalog.edit")
def part_new():
    form = _part_form(data={"hsn_code": "8714"})
    if form.validate_on_submit():
        conn = get_conn()
        part_id, saved = save_or_field_error(conn, form, PART_ERRORS, lambda: cq.save_part(conn, None, form.data))
        if saved:
            flash(f"Part {form.part_no.data} added.", "success")
            return redirect(url_for("master.part_detail", part_id=part_id), 303)
    return form_page("master/part_form.html", form, part=None)


@bp.get("/parts/<int:part_id>")
@allow("catalog.read")
def part_detail(part_id: int):
    return render_template("master/part_detail.html", part=found_or_404(cq.get_part(get_conn(), part_id, today_ist())),
                           can_edit=can("catalog.edit"))


@bp.route("/parts/<int:part_id>/edit", methods=["GET", "POST"])
@allow("catalog.edit")
def part_edit(part_id: int):
    conn = get_conn()
    part = found_or_404(cq.get_part(conn, part_id, today_ist()))
    chosen = cq.part_model_ids(conn, part_id)
    form = _part_form(chosen, obj=part, data=None if request.method == "POST" else {"model_ids": chosen})
    if form.validate_on_submit():
        _, saved = save_or_field_error(conn, form, PART_ERRORS, lambda: cq.save_part(conn, part_id, form.data))
        if saved:
            flash(f"Part {form.part_no.data} saved.", "success")
            return redirect(url_for("master.part_detail", part_id=part_id), 303)
    return form_page("master/part_form.html", form, part=part)


# --------------------------------------------------------------------------- labour operations


def _labour_form(**kwargs) -> LabourForm:
    form = LabourForm(**kwargs)
    form.sac_code.choices = cq.hsn_choices(get_conn(), today_ist(), services=True)
    return form


@bp.get("/labour")
@allow("catalog.read")
def labour_list():
    status = status_filter()
    return render_template("master/labour_list.html", rows=cq.list_labour(get_conn(), status, today_ist()),
                           status=status, statuses=STATUS_FILTERS, can_edit=can("catalog.edit"))


@bp.route("/labour/new", methods=["GET", "POST"])
@allow("catalog.edit")
def labour_new():
    form = _labour_form()
    if form.validate_on_submit():
        conn = get_conn()
        _, saved = save_or_field_error(conn, form, LABOUR_ERRORS, lambda: cq.insert_labour(conn, form.data))
        if saved:
            flash(f"Labour operation {form.operation_code.data} added.", "success")
            return redirect(url_for("master.labour_list"), 303)
    return form_page("master/labour_form.html", form, operation=None)


@bp.route("/labour/<operation_code>/edit", methods=["GET", "POST"])
@allow("catalog.edit")
def labour_edit(operation_code: str):
    conn = get_conn()
    operation = found_or_404(cq.get_labour(conn, operation_code))
    form = _labour_form(obj=operation)
    form.operation_code.data = operation.operation_code  # the key job cards refer to: shown, not changed
    form.operation_code.render_kw = {**(form.operation_code.render_kw or {}), "readonly": True}
    if form.validate_on_submit():
        _, saved = save_or_field_error(conn, form, LABOUR_ERRORS,
                                       lambda: cq.update_labour(conn, operation_code, form.data))
        if saved:
            flash(f"Labour operation {operation_code} saved.", "success")
            return redirect(url_for("master.labour_list"), 303)
    return form_page("master/labour_form.html", form, operation=operation)
