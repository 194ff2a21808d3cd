"""Arrival at the service counter: one search box (registration with or without spaces, VIN or
its last 6, motor number, battery serial, owner's mobile); a scooter sold here but never serviced
gets its workshop record on first arrival; a vehicle sold elsewhere is registered on the spot,
without touching stock.

Who: whoever runs job cards (jobcard.manage)."""
from __future__ import annotations

from flask import flash, render_template, request, url_for
from flask_login import current_user

from .. import panels
from ..db import get_conn
from ..errors import redirect_response
from ..forms import choices, save_or_field_error
from ..pages import found_or_404, rows_or_page, search_text
from ..security import allow, may_open
from . import bp, queries
from .forms import VEHICLE_MESSAGES, OutsideVehicleForm, OwnerForm
from .subject import vehicle_subject

RESULTS = "arrival-results"


@bp.get("/")
@allow("jobcard.manage")
def arrival():
    conn = get_conn()
    q = search_text()
    known, unseen = queries.arrival_search(conn, q) if q else ([], [])
    glance = None
    if len(known) == 1 and not unseen:
        vehicle = known[0]
        packs = queries.vehicle_packs(conn, vehicle["vehicle_id"])
        glance = {"packs": packs,
                  "panels": panels.draw("service_vehicle", conn, vehicle_subject(vehicle, packs))}
    return rows_or_page("service/arrival.html", "service/_arrival_results.html", RESULTS,
                        q=q, known=known, unseen=unseen, glance=glance, results_id=RESULTS,
                        may_open_card=may_open("service.job_card_new"))


@bp.route("/vehicles/new", methods=["GET", "POST"])
@allow("jobcard.manage")
def vehicle_new():
    """A vehicle sold elsewhere: owner, variant, VIN, motor and pack serial, sale date, number."""
    conn = get_conn()
    form = OutsideVehicleForm()
    form.variant_id.choices = choices([(0, "Choose…")] + queries.variant_choices(conn))
    if request.method == "GET":
        typed = search_text()
        code = "".join(ch for ch in typed.upper() if ch.isalnum())
        if len(code) == 17:
            form.vin.data = code
        elif code:
            form.registration_no.data = code
    if form.validate_on_submit():
        def register():
            owner = queries.owner_for(conn, form.owner_mobile.data, form.owner_name.data, current_user.branch_id)
            return queries.register_outside(conn, branch_id=current_user.branch_id, customer_id=owner, data=form.data)
        vehicle_id, saved = save_or_field_error(conn, form, VEHICLE_MESSAGES, register)
        if saved:
            flash("Vehicle registered for service.", "success")
            return redirect_response(url_for("service.vehicle_detail", vehicle_id=vehicle_id))
    status = 422 if request.method == "POST" else 200
    return render_template("service/vehicle_form.html", form=form), status


@bp.route("/units/<int:unit_id>/arrive", methods=["GET", "POST"])
@allow("jobcard.manage")
def unit_arrive(unit_id: int):
    """First arrival of a scooter sold here: its workshop record, from the unit and its sale. A sale
    of another branch is not visible here, so its owner is asked for."""
    conn = get_conn()
    unit = found_or_404(queries.unit_for_arrival(conn, unit_id))
    if unit["vehicle_id"]:
        return redirect_response(url_for("service.vehicle_detail", vehicle_id=unit["vehicle_id"]),
                                 303 if request.method == "POST" else 302)
    owner_known = unit["owner_name"] is not None
    form = OwnerForm()
    if unit["delivered_on"] is None:   # still the showroom's stock: nothing for the workshop yet
        return render_template("service/unit_arrive.html", unit=unit, form=form, owner_known=owner_known,
                               not_delivered=True), 422 if request.method == "POST" else 200
    if request.method == "POST" and (owner_known or form.validate_on_submit()):
        def register():
            owner = None if owner_known else queries.owner_for(conn, form.owner_mobile.data, form.owner_name.data,
                                                                current_user.branch_id)
            return queries.register_sold_here(conn, unit_id, current_user.branch_id, owner)
        vehicle_id, saved = save_or_field_error(conn, form, VEHICLE_MESSAGES, register)
        if saved:
            flash("Welcome back: the scooter's workshop record is made.", "success")
            return redirect_response(url_for("service.vehicle_detail", vehicle_id=vehicle_id))
    status = 422 if request.method == "POST" else 200
    return render_template("service/unit_arrive.html", unit=unit, form=form, owner_known=owner_known,
                           not_delivered=False), status
