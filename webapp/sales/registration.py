"""Steps of a sale before its hand-over: the RTO registration (forms, numbers, RC, plates) and
the pre-delivery inspection (PDI) against the checklist."""
from __future__ import annotations

import sqlalchemy as sa
from flask import flash, render_template, request, url_for
from flask_login import current_user

from ..db import get_conn
from ..forms import constraint_name
from ..security import allow, can
from . import bp, step_queries
from .access import sale_url
from .step_common import save_step, step_booking, step_page, to_sale
from .step_forms import RegistrationForm

# --------------------------------------------------------------------------- RTO registration

REGISTRATION_ERRORS = {
    "registration_not_low_speed": (None, "A low-speed model is not registered with the RTO: nothing to record."),
    "registration_fees_complete": ("fees_paid_on", "Enter both the fees and the date they were paid"),
    "registration_number_dated": ("reg_on", "Enter both the permanent number and the date of registration"),
    "registration_rc_after_number": ("rc_received_on", "The RC comes after the permanent number: enter it first"),
    "registration_hsrp_order": ("hsrp_ordered_on", "A plate is fitted after it is ordered: enter the order date"),
    "registration_reg_no_idx": ("reg_no", "This registration number is already recorded on another sale"),
    "registration_reg_no_check": ("reg_no", "Not a registration number: e.g. KA05AB1234 or 22BH1234AA"),
    "registration_temp_reg_no_check": ("temp_reg_no", "4 to 20 letters, digits, / or -"),
}


@bp.route("/bookings/<int:booking_id>/registration", methods=["GET", "POST"])
@allow("sale.read", write="sale.change")
def registration(booking_id: int):
    booking = step_booking(booking_id)
    conn = get_conn()
    saved_row = step_queries.step_row(conn, "sales.registration", booking_id)
    form = RegistrationForm(data=dict(saved_row) if saved_row and request.method == "GET" else None)
    if request.method == "POST" and form.validate_on_submit():
        values = {k: form[k].data for k in ("form20_on", "form21_on", "form22_on", "temp_reg_no", "fees_amount",
                                             "fees_paid_on", "reg_no", "reg_on", "rc_received_on",
                                             "hsrp_ordered_on", "hsrp_fitted_on")}
        if saved_row is None and all(v is None for v in values.values()):
            flash("Nothing to record yet: enter a date or a number.", "error")
            return to_sale(booking_id)
        saved = save_step(conn, form, "sales.registration", booking_id, values, REGISTRATION_ERRORS,
                          "Registration details saved.")
        if saved:
            return saved
    hint = ("This is a low-speed model (up to 25 km/h): it needs no RTO registration, number plate or RC."
            if booking["is_low_speed"] else
            "Form 20 is the application, Form 21 the sale certificate, Form 22 the OEM's roadworthiness certificate.")
    return step_page("sales/step_form.html", form, booking, title="RTO registration",
                     action=url_for("sales.registration", booking_id=booking_id), hint=hint,
                     closed=booking["is_low_speed"])


# --------------------------------------------------------------------------- PDI


PDI_ERRORS = {
    "pdi_check_fault_remark": "Describe the fault (at least 3 characters)",
    "pdi_check_remark_check": "A remark is at most 200 characters",
}


@bp.route("/bookings/<int:booking_id>/pdi", methods=["GET", "POST"])
@allow("sale.read", write="sale.change")
def pdi(booking_id: int):
    booking = step_booking(booking_id)
    conn = get_conn()
    items = step_queries.pdi_rows(conn, booking_id)
    typed, errors, failed = {}, {}, False
    if request.method == "POST":
        if booking["unit_id"] is None:
            flash("Allot a unit before its pre-delivery inspection.", "error")
            return to_sale(booking_id)
        for item in items:
            n = item["pdi_item_id"]
            typed[n] = {"result": request.form.get(f"result_{n}", ""),
                        "remark": request.form.get(f"remark_{n}", "").strip() or None}
        outer = conn.begin_nested()
        for item in items:
            n = item["pdi_item_id"]
            result = typed[n]["result"]
            if result not in ("OK", "FAULT"):
                continue   # not checked yet
            try:
                with conn.begin_nested():
                    step_queries.save_pdi_check(conn, booking_id, n, result == "OK", typed[n]["remark"],
                                                current_user.staff_id)
            except sa.exc.IntegrityError as exc:
                if constraint_name(exc) not in PDI_ERRORS:
                    raise
                errors[n] = PDI_ERRORS[constraint_name(exc)]
        if errors:
            outer.rollback()
            failed = True
        else:
            outer.commit()
            done = sum(1 for t in typed.values() if t["result"] in ("OK", "FAULT"))
            flash(f"PDI saved: {done} of {len(items)} items checked.", "success")
            return to_sale(booking_id)
    rows = []
    for item in items:
        shown, t = dict(item), typed.get(item["pdi_item_id"])
        if t and t["result"]:   # what was typed, on a refused save
            shown.update(is_ok=t["result"] == "OK", remark=t["remark"])
        shown["error"] = errors.get(item["pdi_item_id"])
        rows.append(shown)
    return render_template("sales/step_pdi.html", booking=booking, items=rows, sale_url=sale_url(booking_id),
                           may_change=can("sale.change")), 422 if failed else 200
