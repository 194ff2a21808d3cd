"""An extended warranty plan sold with the vehicle: the booking's extended-warranty charge names the
plan (sales.booking_item.plan_id), so the vehicle's tax invoice sells it for the VIN (its line names the
plan; the line's trigger records the plan sale, sql/functions/92_warranty.sql). Drawn on the sale page
("sale" panel slot) while the booking is not invoiced; the database checks the plan against the charge
and the booked model (warranty.check_booking_plan), and again when the invoice is posted.

Who: whoever changes a sale (sale.change) names the plan; whoever reads it sees it."""
from __future__ import annotations

import json
from types import SimpleNamespace

import sqlalchemy as sa
from flask import flash, request, url_for

from ..db import get_conn
from ..errors import redirect_response
from ..formatting import inr, today_ist
from ..forms import save_or_field_error
from ..sales.api import booking_or_404
from ..security import allow, may_open
from . import bp

OPEN_STAGES = ("BOOKED", "ALLOTTED")
BOOKING_PLAN_ERRORS = {
    "booking_item_plan_charge": (None, "A plan is named on the booking's extended-warranty charge, under the plan's SAC"),
    "booking_item_plan_model": (None, "This plan is not on sale for the booked model today"),
    "booking_terms_fixed": (None, "The sale is invoiced: its charges do not change"),
    "booking_item_plan_id_fkey": (None, "No such plan"),
}


def _charges(conn, booking_id: int, on):
    """The booking's extended-warranty charges (with the plan each names) and, as JSON, the plans on sale
    for the booked model on the day (one statement)."""
    return conn.execute(sa.text("""
        SELECT i.line_no, i.description, i.amount, i.hsn_code, i.plan_id, p.name AS plan_name,
               (SELECT coalesce(json_agg(json_build_object('plan_id', q.plan_id, 'name', q.name, 'price', q.price,
                                                           'sac_code', q.sac_code) ORDER BY q.name), '[]')
                  FROM warranty.plan q JOIN oem.model m ON m.oem_id = q.oem_id
                 WHERE m.model_id = va.model_id AND q.is_active AND q.valid_from <= :on
                   AND coalesce(q.valid_to, 'infinity') >= :on
                   AND (NOT EXISTS (SELECT 1 FROM warranty.plan_model pm WHERE pm.plan_id = q.plan_id)
                        OR EXISTS (SELECT 1 FROM warranty.plan_model pm
                                    WHERE pm.plan_id = q.plan_id AND pm.model_id = va.model_id))) AS plans
          FROM sales.booking_item i
          JOIN sales.onroad_item o ON o.item_code = i.item_code AND o.kind = 'EXTENDED_WARRANTY'
          JOIN sales.booking b ON b.booking_id = i.booking_id
          JOIN oem.variant va ON va.variant_id = b.variant_id
          LEFT JOIN warranty.plan p ON p.plan_id = i.plan_id
         WHERE i.booking_id = :b AND i.hsn_code IS NOT NULL
         ORDER BY i.line_no"""), {"b": booking_id, "on": on}).mappings().all()


def sale_context(conn, booking) -> dict | None:
    """The "sale" panel (templates/warranty/_sale_plan.html): None when the booking has no
    extended-warranty charge."""
    charges = _charges(conn, booking["booking_id"], today_ist())
    if not charges:
        return None
    rows = []
    for c in charges:
        plans = c["plans"] if isinstance(c["plans"], list) else json.loads(c["plans"])
        rows.append({**c, "plans": [dict(p, label=f"{p['name']} · {inr(p['price'])} + GST") for p in plans
                                    if p["sac_code"] == c["hsn_code"]]})
    return {"charges": rows, "booking_id": booking["booking_id"],
            "may_choose": booking["stage"] in OPEN_STAGES and may_open("warranty.booking_plan", "POST")}


@bp.post("/bookings/<int:booking_id>/plan")
@allow("sale.change")
def booking_plan(booking_id: int):
    """Name the plan the booking's extended-warranty charge sells (none: a charge without a plan)."""
    conn = get_conn()
    booking_or_404(conn, booking_id)   # another branch's sale, or one a salesperson may not see: 404
    line_no, plan_id = request.form.get("line_no", ""), request.form.get("plan_id", "")
    back = redirect_response(url_for("sales.booking_detail", booking_id=booking_id) + "#sale-plan")
    if not line_no.isdigit() or int(line_no) > 50 or (plan_id and (not plan_id.isdigit() or int(plan_id) > 2**31 - 1)):
        flash("Choose the plan from the list.", "error")
        return back
    holder = SimpleNamespace(form_errors=[])
    changed, saved = save_or_field_error(conn, holder, BOOKING_PLAN_ERRORS, lambda: conn.execute(sa.text("""
        UPDATE sales.booking_item i SET plan_id = :p
          FROM sales.onroad_item o
         WHERE i.booking_id = :b AND i.line_no = :n AND o.item_code = i.item_code AND o.kind = 'EXTENDED_WARRANTY'"""),
        {"b": booking_id, "n": int(line_no), "p": int(plan_id) if plan_id else None}).rowcount)
    if not saved:
        flash(" ".join(holder.form_errors), "error")
    elif not changed:
        flash("No such extended-warranty charge on this sale.", "error")
    else:
        flash("The invoice will sell the plan for the vehicle's VIN." if plan_id else "No plan named.", "success")
    return back
