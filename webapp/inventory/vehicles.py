"""Vehicle stock: the units by chassis and their ageing, a unit's history, demo or back to stock,
and a battery pack swapped."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..db import get_conn
from ..formatting import today_ist
from ..pages import found_or_404, rows_or_page, search_text
from ..paging import paged_capped
from ..security import allow, can, role_may_use
from . import bp, queries, services
from .forms import BATTERY_ERRORS, BatterySwapForm
from .view_helpers import attempt, branch_from, int_arg, may_act_at, not_your_branch

# --------------------------------------------------------------------------- vehicle stock


@bp.get("/vehicles")
@allow("vehicle.read")
def unit_list():
    conn = get_conn()
    statuses = queries.status_choices(conn)
    models = queries.model_choices(conn)
    colours = queries.colour_choices(conn)
    status = request.args.get("status", "current")
    branch_id, branch_arg = branch_from(request.args.get("branch"), allow_all=True)
    model_id = int_arg("model")
    filters = queries.UnitFilters(
        q=search_text().upper(),
        model_id=model_id if model_id in dict(models) else None,
        colour=request.args.get("colour", "") if request.args.get("colour") in colours else "",
        status=status if status in ("current", "all", *dict(statuses)) else "current",
        branch_id=branch_id,
        age=request.args.get("age", "") if request.args.get("age") in queries.AGE_BUCKETS else "",
    )
    rows, page = paged_capped(lambda n, size: queries.search_units(conn, filters, n, size))
    return rows_or_page(
        "inventory/unit_list.html", "inventory/_unit_rows.html", "unit-results",
        rows=rows, page=page, f=filters, args=filters.as_args(branch_arg), branch_arg=branch_arg,
        statuses=statuses, models=models, colours=colours, branches=queries.branch_choices(conn),
        buckets=queries.AGE_BUCKETS)


@bp.get("/vehicles/ageing")
@allow("vehicle.read")
def ageing_report():
    conn = get_conn()
    branch_id, branch_arg = branch_from(request.args.get("branch", "all"), allow_all=True)
    return render_template("inventory/ageing.html", report=queries.stock_ageing(conn, branch_id),
                           buckets=queries.AGE_BUCKETS, branch_arg=branch_arg,
                           branches=queries.branch_choices(conn), today=today_ist())


def _unit_or_404(unit_id: int):
    return found_or_404(queries.get_unit(get_conn(), unit_id))


@bp.get("/vehicles/<int:unit_id>")
@allow("unit.read")
def unit_detail(unit_id: int):
    conn = get_conn()
    unit = _unit_or_404(unit_id)
    return render_template(
        "inventory/unit_detail.html", unit=unit, timeline=queries.unit_status_timeline(conn, unit_id),
        batteries=queries.battery_history(conn, unit_id), receipt=queries.unit_receipt(conn, unit_id),
        transfers=queries.unit_transfers(conn, unit_id), at_my_branch=may_act_at(unit.branch_id),
        # Links into purchasing only for roles that may open those pages.
        link_grn=role_may_use(current_user.role, "procurement.grn_detail"),
        link_po=role_may_use(current_user.role, "procurement.po_detail"),
        may_manage=can("stock.manage"), may_fit=can("battery.fit"))


@bp.post("/vehicles/<int:unit_id>/status")
@allow("stock.manage")
def unit_status(unit_id: int):
    """Mark a unit as a demo vehicle, or bring it back to stock."""
    unit = _unit_or_404(unit_id)
    to = request.form.get("to", "")
    if to not in ("DEMO", "IN_STOCK"):
        flash("Choose demo or back to stock.", "error")
    elif not may_act_at(unit.branch_id):
        flash(not_your_branch(unit.branch_id), "error")
    else:
        _, problem = attempt(lambda: services.set_demo(get_conn(), unit_id, to == "DEMO"),
                             {"vehicle_unit_status_transition": "The unit's status changed meanwhile. "
                                                                "Look at it again.",
                              "vehicle_unit_on_test_ride": "This demo vehicle is out on a test ride: record it "
                                                           "back first (CRM > Test rides)."})
        if problem:
            flash(problem, "error")
        else:
            flash(f"{unit.vin} is {'now a demo vehicle' if to == 'DEMO' else 'back in stock'}.", "success")
    return redirect(url_for("inventory.unit_detail", unit_id=unit_id), 303)


@bp.route("/vehicles/<int:unit_id>/battery", methods=["GET", "POST"])
@allow("battery.fit")
def unit_battery_swap(unit_id: int):
    """Take out the pack now fitted (as of today) and fit another, in one posting."""
    conn = get_conn()
    unit = _unit_or_404(unit_id)
    form = BatterySwapForm()
    if not may_act_at(unit.branch_id):
        form.form_errors.append(not_your_branch(unit.branch_id))
    elif form.validate_on_submit():
        field_of = {name: message for name, (_, message) in BATTERY_ERRORS.items()}
        _, problem = attempt(lambda: services.swap_battery(
            conn, unit_id=unit_id, serial=form.serial.data, reason=form.reason.data, on=today_ist(),
            chemistry=form.chemistry.data, kwh=form.kwh.data), field_of)
        if problem is None:
            flash(f"Pack {form.serial.data} fitted in {unit.vin}.", "success")
            return redirect(url_for("inventory.unit_detail", unit_id=unit_id), 303)
        form.serial.errors = [*form.serial.errors, problem]
    status = 422 if form.errors or form.form_errors else 200
    return render_template("inventory/battery_swap.html", form=form, unit=unit,
                           batteries=queries.battery_history(conn, unit_id)), status
