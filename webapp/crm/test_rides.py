"""Test rides: a demo unit goes out with the customer's driving licence (number and expiry: an
expired licence is refused by PostgreSQL), the odometer and time out; it comes back with the
odometer, time and the customer's feedback. One ride per demo unit at a time, and a unit out on a
ride is not allotted (sql/0036, sql/functions/93_crm.sql)."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from ..db import get_conn
from ..forms import save_or_field_error
from ..security import allow, can
from . import access, bp, queries
from .forms import RETURN_ERRORS, TEST_RIDE_ERRORS, TestRideForm, TestRideReturnForm
from .leads import lead_page


@bp.post("/leads/<int:lead_id>/test-ride")
@allow("lead.change")
def test_ride_start(lead_id: int):
    conn = get_conn()
    lead = access.lead_or_404(conn, lead_id)
    form = TestRideForm()
    if form.validate_on_submit():
        units = {u["unit_id"]: u for u in queries.demo_units(conn, lead["branch_id"])}
        if form.unit_id.data not in units:
            form.unit_id.errors.append("Choose a demo vehicle of this branch")
        else:
            data = {name: getattr(form, name).data for name in
                    ("unit_id", "licence_no", "licence_valid_until", "odometer_out")}
            _, saved = save_or_field_error(conn, form, TEST_RIDE_ERRORS,
                                           lambda: queries.start_test_ride(conn, lead, data))
            if saved:
                unit = units[form.unit_id.data]
                flash(f"{lead['name']} is out on the {unit['model_name']} {unit['variant_name']} "
                      f"({unit['vin'][-6:]}). Record it back when they return.", "success")
                return redirect(url_for("crm.lead_detail", lead_id=lead_id), 303)
    return lead_page(conn, lead, 422, ride_form=form)


@bp.route("/test-rides/<int:test_ride_id>/back", methods=["GET", "POST"])
@allow("lead.read", write="lead.change")
def test_ride_back(test_ride_id: int):
    conn = get_conn()
    ride = access.test_ride_or_404(conn, test_ride_id)
    form = TestRideReturnForm()
    if form.is_submitted() and ride["in_at"] is not None:
        form.form_errors.append("This ride is already back")
    elif form.validate_on_submit():
        data = {name: getattr(form, name).data for name in ("odometer_in", "feedback", "rating")}
        back, saved = save_or_field_error(conn, form, RETURN_ERRORS,
                                          lambda: queries.return_test_ride(conn, test_ride_id, data))
        if saved and back:
            flash(f"Test ride of {ride['lead_name']} back: {data['odometer_in'] - ride['odometer_out']} km.", "success")
            return redirect(url_for("crm.lead_detail", lead_id=ride["lead_id"]), 303)
        if saved:
            form.form_errors.append("This ride is already back")
    status = 422 if form.is_submitted() else 200
    return render_template("crm/test_ride_back.html", ride=ride, form=form, may_sell=can("lead.change")), status


@bp.get("/test-rides")
@allow("lead.read")
def test_ride_list():
    conn = get_conn()
    return render_template("crm/test_rides.html", rides=queries.test_rides(conn, current_user.branch_id,
                                                                           access.own_only()),
                           units=queries.demo_units(conn, current_user.branch_id))
