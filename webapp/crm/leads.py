"""Lead screens: the list, a new lead (with the duplicate check on its mobile as it is typed), the
lead's page, losing it with a reason from the list, reassigning it, and its customer made once.

Who: SALES works their own leads; MANAGER and ADMIN all of the branch's (and reassign); ACCOUNTS
reads them (the lead a quotation or sale came from)."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..capabilities import roles_for
from ..db import get_conn
from ..formatting import today_ist
from ..forms import save_or_field_error
from ..pages import choice_arg, rows_or_page, search_text
from ..paging import paged_capped
from ..security import allow, can
from ..validators import is_mobile, normalise_mobile
from . import access, bp, queries
from .forms import (
    LEAD_ERRORS,
    LOST_ERRORS,
    ROUND_ROBIN,
    ContactForm,
    FollowUpForm,
    LeadDetailsForm,
    LeadForm,
    LostForm,
    ReassignForm,
    TestRideForm,
)

LIST_TARGET = "lead-results"


def _sellers(conn):
    return queries.salespeople(conn, current_user.branch_id, roles_for("lead.change"))


@bp.get("/leads")
@allow("lead.read")
def lead_list():
    conn = get_conn()
    status = choice_arg("status", queries.LEAD_STATUSES)
    source = choice_arg("source", queries.LEAD_SOURCES)
    q = search_text()
    rows, page = paged_capped(lambda number, size: queries.search_leads(
        conn, current_user.branch_id, own=access.own_only(), status=status or None, source=source or None, q=q,
        page=number, page_size=size))
    return rows_or_page("crm/lead_list.html", "crm/_lead_rows.html", LIST_TARGET,
                        rows=rows, page=page, status=status, source=source, q=q,
                        statuses=queries.LEAD_STATUSES, sources=queries.LEAD_SOURCES, may_sell=can("lead.change"))


@bp.route("/leads/new", methods=["GET", "POST"])
@allow("lead.change")
def lead_new():
    conn = get_conn()
    form = LeadForm()
    form.model_id.choices = [(None, "— not decided —")] + queries.model_choices(conn)
    choose = can("lead.reassign")
    people = _sellers(conn) if choose else []
    form.salesperson_id.choices = [(ROUND_ROBIN, "Next in turn (round-robin)")] + people
    if request.method == "GET":
        form.salesperson_id.data = current_user.staff_id
    duplicates = ([], [])
    if form.validate_on_submit():
        salesperson = current_user.staff_id
        if choose and form.salesperson_id.data == ROUND_ROBIN:
            salesperson = queries.next_salesperson(conn, current_user.branch_id)
            if salesperson is None:
                form.salesperson_id.errors.append("No active salesperson at this branch: choose someone")
        elif choose and form.salesperson_id.data:
            if form.salesperson_id.data not in {p for p, _ in people}:
                form.salesperson_id.errors.append("Choose a salesperson of this branch")
            salesperson = form.salesperson_id.data
        if form.model_id.data and form.model_id.data not in {m for m, _ in form.model_id.choices}:
            form.model_id.errors.append("Choose a model from the list")
        if not form.errors:
            data = {name: getattr(form, name).data for name in queries.LEAD_COLUMNS if hasattr(form, name)}
            data["salesperson_id"] = salesperson
            lead_id, saved = save_or_field_error(conn, form, LEAD_ERRORS, lambda: queries.insert_lead(
                conn, current_user.branch_id, today_ist(), data,
                status="CONTACTED" if data["source"] in ("WALK_IN", "PHONE") else "NEW"))
            if saved:
                flash(f"Lead of {data['name']} saved. Quote a price or plan a test ride when they are ready.",
                      "success")
                return redirect(url_for("crm.lead_detail", lead_id=lead_id), 303)
    if form.mobile.data and is_mobile(form.mobile.data):
        duplicates = queries.duplicates(conn, current_user.branch_id, form.mobile.data)
    status = 422 if request.method == "POST" else 200
    return render_template("crm/lead_form.html", form=form, choose=choose, duplicates=duplicates), status


@bp.get("/leads/check-mobile")
@allow("lead.change")
def lead_check_mobile():
    """As the mobile is typed (htmx): the open leads and customers with that number, offered instead
    of a new lead."""
    conn = get_conn()
    mobile = normalise_mobile(request.args.get("mobile", "")[:40])
    besides = request.args.get("lead", "")[:9]
    leads, customers = (queries.duplicates(conn, current_user.branch_id, mobile,
                                           besides=int(besides) if besides.isdigit() else None)
                        if is_mobile(mobile) else ([], []))
    response = current_app.make_response(render_template(
        "crm/_duplicates.html", duplicates=(leads, customers), statuses=queries.LEAD_STATUSES))
    response.vary.update(("HX-Request", "HX-Target"))
    return response


def _closed_refusal(lead):
    """A booked or lost lead keeps its details: said on its page instead of the form."""
    flash(f"The lead of {lead['name']} is {queries.LEAD_STATUSES[lead['status']].lower()}: "
          "its details stay as they were.", "error")
    return redirect(url_for("crm.lead_detail", lead_id=lead["lead_id"]), 303)


@bp.route("/leads/<int:lead_id>/edit", methods=["GET", "POST"])
@allow("lead.change")
def lead_edit(lead_id: int):
    """Correct an open lead's details (a salesperson their own, a manager any of the branch's); the
    mobile is checked against the other leads and customers as it is typed, as on a new lead."""
    conn = get_conn()
    lead = access.lead_or_404(conn, lead_id)
    if lead["status"] not in queries.OPEN_STATUSES:
        return _closed_refusal(lead)
    form = LeadDetailsForm(data={c: lead[c] for c in queries.EDITABLE_COLUMNS})
    form.model_id.choices = [(None, "— not decided —")] + queries.model_choices(conn)
    if form.validate_on_submit():
        if form.model_id.data and form.model_id.data not in {m for m, _ in form.model_id.choices}:
            form.model_id.errors.append("Choose a model from the list")
        else:
            data = {c: getattr(form, c).data for c in queries.EDITABLE_COLUMNS}
            done, saved = save_or_field_error(conn, form, LEAD_ERRORS, lambda: queries.update_lead(conn, lead_id, data))
            if saved and done:
                flash(f"Lead of {data['name']} saved.", "success")
                return redirect(url_for("crm.lead_detail", lead_id=lead_id), 303)
            if saved:
                return _closed_refusal(queries.get_lead(conn, lead_id))
    duplicates = ([], [])
    if form.mobile.data and is_mobile(form.mobile.data):
        duplicates = queries.duplicates(conn, current_user.branch_id, form.mobile.data, besides=lead_id)
    status = 422 if request.method == "POST" else 200
    return render_template("crm/lead_edit.html", form=form, lead=lead, duplicates=duplicates), status


def lead_page(conn, lead, status: int = 200, **forms):
    """The lead's page, with any form that came back refused in place of its fresh one."""
    lead_id = lead["lead_id"]
    may_sell = can("lead.change")
    lost_form = forms.get("lost_form") or LostForm()
    lost_form.reason_code.choices = [("", "— choose —")] + queries.lost_reasons(conn) if may_sell else []
    ride_form = forms.get("ride_form") or TestRideForm()
    units = queries.demo_units(conn, lead["branch_id"]) if may_sell and lead["status"] in queries.OPEN_STATUSES else []
    ride_form.unit_id.choices = [(None, "— choose —")] + [
        (u["unit_id"], f"{u['model_name']} {u['variant_name']} · {u['colour']} · {u['vin'][-6:]}"
                       + (f" (out with {u['out_with']})" if u["out_on_ride"] else ""))
        for u in units]
    reassign_form = forms.get("reassign_form") or ReassignForm()
    if can("lead.reassign") and lead["status"] in queries.OPEN_STATUSES:
        reassign_form.salesperson_id.choices = _sellers(conn)
        if reassign_form.salesperson_id.data is None:
            reassign_form.salesperson_id.data = lead["salesperson_id"]
    follow_form = forms.get("follow_form") or FollowUpForm(
        data={"next_action": lead["next_action"], "follow_up_on": lead["follow_up_on"]})
    return render_template(
        "crm/lead_detail.html", lead=lead, quotations=queries.lead_quotations(conn, lead_id),
        contacts=queries.lead_contacts(conn, lead_id), rides=queries.lead_test_rides(conn, lead_id),
        lost_form=lost_form, ride_form=ride_form, units=units, reassign_form=reassign_form,
        follow_form=follow_form, contact_form=forms.get("contact_form") or ContactForm(),
        statuses=queries.LEAD_STATUSES, sources=queries.LEAD_SOURCES, outcomes=queries.OUTCOMES,
        may_sell=may_sell, may_quote=can("sale.change"), is_open=lead["status"] in queries.OPEN_STATUSES,
        today=today_ist()), status


@bp.get("/leads/<int:lead_id>")
@allow("lead.read")
def lead_detail(lead_id: int):
    conn = get_conn()
    return lead_page(conn, access.lead_or_404(conn, lead_id))


@bp.post("/leads/<int:lead_id>/lost")
@allow("lead.change")
def lead_lost(lead_id: int):
    conn = get_conn()
    lead = access.lead_or_404(conn, lead_id)
    form = LostForm()
    if form.validate_on_submit():
        label = dict(queries.lost_reasons(conn)).get(form.reason_code.data)
        if label is None:
            form.reason_code.errors.append("Choose a reason from the list")
        else:
            done, saved = save_or_field_error(conn, form, LOST_ERRORS, lambda: queries.mark_lost(
                conn, lead_id, form.reason_code.data, form.remark.data))
            if saved and done:
                flash(f"Lead of {lead['name']} marked lost: {label}.", "success")
                return redirect(url_for("crm.lead_detail", lead_id=lead_id), 303)
            if saved:
                form.reason_code.errors.append(
                    f"This lead is {queries.LEAD_STATUSES[lead['status']].lower()}: only an open lead can be lost")
    return lead_page(conn, lead, 422, lost_form=form)


@bp.post("/leads/<int:lead_id>/reassign")
@allow("lead.reassign")
def lead_reassign(lead_id: int):
    conn = get_conn()
    lead = access.lead_or_404(conn, lead_id)
    form = ReassignForm()
    people = dict(_sellers(conn))
    if form.validate_on_submit():
        if form.salesperson_id.data not in people:
            form.salesperson_id.errors.append("Choose a salesperson of this branch")
        elif lead["status"] not in queries.OPEN_STATUSES:
            form.salesperson_id.errors.append("A booked or lost lead keeps its salesperson")
        else:
            queries.reassign(conn, lead_id, form.salesperson_id.data)
            flash(f"Lead of {lead['name']} is now {people[form.salesperson_id.data]}'s.", "success")
            return redirect(url_for("crm.lead_detail", lead_id=lead_id), 303)
    return lead_page(conn, lead, 422, reassign_form=form)


@bp.post("/leads/<int:lead_id>/customer")
@allow("lead.change")
def lead_customer(lead_id: int):
    """The customer record, made once from the lead (or the one already recorded with its mobile and
    name), so the quotation and booking start from it."""
    conn = get_conn()
    lead = access.lead_or_404(conn, lead_id)
    if lead["customer_id"] is not None:
        flash(f"{lead['customer_name']} is already this lead's customer.", "info")
    else:
        queries.customer_from_lead(conn, lead)
        flash(f"Customer record of {lead['name']} made from the lead; the booking starts from it.", "success")
    return redirect(url_for("crm.lead_detail", lead_id=lead_id), 303)
