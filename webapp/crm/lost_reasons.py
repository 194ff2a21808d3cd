"""The list of reasons a lead is lost for (crm.lost_reason): managers add a reason and put one out
of use; a reason is never deleted (a lost lead refers to it), and one out of use is no longer offered
when a lead is marked lost but still names the leads lost for it in the report."""
from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for

from ..db import get_conn
from ..forms import save_or_field_error
from ..security import allow
from . import bp
from .forms import LOST_REASON_ERRORS, LostReasonForm


def _reasons(conn):
    return conn.execute(sa.text("""
        SELECT r.reason_code, r.label, r.sort_order, r.active,
               (SELECT count(*) FROM crm.lead l WHERE l.lost_reason_code = r.reason_code) AS leads
          FROM crm.lost_reason r ORDER BY NOT r.active, r.sort_order, r.label""")).mappings().all()


@bp.route("/lost-reasons/list", methods=["GET", "POST"])
@allow("lost_reason.manage")
def lost_reason_list():
    conn = get_conn()
    form = LostReasonForm()
    if form.validate_on_submit():
        data = {"code": form.reason_code.data, "label": form.label.data, "sort": form.sort_order.data}
        _, saved = save_or_field_error(conn, form, LOST_REASON_ERRORS, lambda: conn.execute(sa.text("""
            INSERT INTO crm.lost_reason (reason_code, label, sort_order) VALUES (:code, :label, :sort)"""), data))
        if saved:
            flash(f"“{data['label']}” is offered when a lead is marked lost.", "success")
            return redirect(url_for("crm.lost_reason_list"), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("crm/lost_reason_list.html", form=form, reasons=_reasons(conn)), status


@bp.post("/lost-reasons/list/active")
@allow("lost_reason.manage")
def lost_reason_active():
    """Put a reason out of use (or back in use); the leads lost for it keep it."""
    conn = get_conn()
    code = request.form.get("reason_code", "")[:30]
    active = request.form.get("active") == "1"
    label = conn.execute(sa.text("UPDATE crm.lost_reason SET active = :a WHERE reason_code = :c RETURNING label"),
                         {"a": active, "c": code}).scalar()
    if label is None:
        flash("That reason is not in the list.", "error")
    elif active:
        flash(f"“{label}” is offered again when a lead is marked lost.", "success")
    else:
        flash(f"“{label}” is no longer offered; the leads lost for it keep it.", "success")
    return redirect(url_for("crm.lost_reason_list"), 303)
