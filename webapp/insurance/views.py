"""Insurance screens: the policy sold with a vehicle (captured from the sale, prefilled with the
booking's unit and customer), its page and edit (commission received), the sale page's policy
panel, and the renewal list by expiry month.

Who: SALES (on their own bookings), MANAGER, ADMIN and ACCOUNTS of the branch.
"""
from __future__ import annotations

from datetime import date

from flask import flash, render_template, request, url_for
from flask_login import current_user

from ..db import get_conn
from ..errors import redirect_response
from ..formatting import add_months, today_ist
from ..forms import save_or_field_error
from ..pages import rows_or_page
from ..paging import paged
from ..sales.api import booking_or_404, own_only, sale_document_or_404, sale_url
from ..security import allow, may_open
from . import bp, queries
from .forms import CONSTRAINT_MESSAGES, OD_YEARS, TP_YEARS, PolicyForm, cover_ends

RENEWALS_TARGET = "renewal-results"
COVER_LABELS = {"OD": "Own damage", "TP": "Third party"}


def _not_ready_reason(booking) -> str | None:
    """Why a policy cannot be captured on this booking yet (None: it can)."""
    if booking["stage"] == "CANCELLED":
        return f"Booking {booking['booking_no']} is cancelled."
    if booking["unit_id"] is None:
        return f"Allot a scooter to booking {booking['booking_no']} first: the policy names its VIN."
    return None


# --------------------------------------------------------------------------- the sale page's panel


def policy_context(conn, booking) -> dict:
    """What the sale page's insurance panel (templates/insurance/_sale_policy.html) needs."""
    policy = queries.booking_policy(conn, booking["booking_id"])
    not_ready = _not_ready_reason(booking)
    return {"policy_panel": {
        "policy": policy,
        "detail_url": url_for("insurance.policy_detail", policy_id=policy["policy_id"]) if policy else None,
        "edit_url": url_for("insurance.policy_edit", policy_id=policy["policy_id"])
                    if policy and may_open("insurance.policy_edit") else None,
        "new_url": url_for("insurance.policy_new", booking_id=booking["booking_id"])
                   if not policy and not not_ready and may_open("insurance.policy_new") else None,
        "not_ready": not_ready if not policy else None,
    }}


# --------------------------------------------------------------------------- capturing a policy


def _defaults(conn, booking) -> dict:
    """Covers from today: own damage 1 year, third party by the vehicle's segment."""
    today = today_ist()
    segment = queries.model_segment(conn, booking["unit_id"])
    return {"od_from": today, "od_to": cover_ends(today, OD_YEARS),
            "tp_from": today, "tp_to": cover_ends(today, TP_YEARS.get(segment, 1))}


@bp.route("/bookings/<int:booking_id>/policy", methods=["GET", "POST"])
@allow("policy.manage")
def policy_new(booking_id: int):
    conn = get_conn()
    booking = booking_or_404(conn, booking_id)
    existing = queries.booking_policy(conn, booking_id)
    if existing:   # one policy per sale: a second submission lands on the first
        return redirect_response(url_for("insurance.policy_detail", policy_id=existing["policy_id"]),
                                 303 if request.method == "POST" else 302)
    not_ready = _not_ready_reason(booking)
    if not_ready:
        return render_template("insurance/policy_form.html", booking=booking, form=None, not_ready=not_ready,
                               sale_url=sale_url(booking_id), tp_years=None)
    defaults = _defaults(conn, booking)
    form = PolicyForm(data=defaults if request.method == "GET" else None)
    form.insurer_id.choices = [(0, "Choose…")] + queries.insurer_choices(conn)
    tp_years = TP_YEARS.get(queries.model_segment(conn, booking["unit_id"]), 1)
    if form.validate_on_submit():
        policy_id, saved = save_or_field_error(conn, form, CONSTRAINT_MESSAGES, lambda: queries.insert_policy(
            conn, branch_id=booking["branch_id"], booking_id=booking_id, unit_id=booking["unit_id"],
            customer_id=booking["customer_id"], data=form.data_for_db()))
        if saved:
            flash("Policy recorded.", "success")
            return redirect_response(sale_url(booking_id)
                                     or url_for("insurance.policy_detail", policy_id=policy_id))
    status = 422 if request.method == "POST" else 200
    return render_template("insurance/policy_form.html", booking=booking, form=form, not_ready=None,
                           sale_url=sale_url(booking_id), tp_years=tp_years), status


def _policy_or_404(conn, policy_id: int):
    """The policy if this user may see it: the user's branch, and a salesperson's own sale."""
    return sale_document_or_404(conn, queries.get_policy(conn, policy_id),
                                unbooked_visible=lambda policy: own_only() in (None, policy["created_by"]))


@bp.get("/policies/<int:policy_id>")
@allow("policy.manage")
def policy_detail(policy_id: int):
    conn = get_conn()
    policy = _policy_or_404(conn, policy_id)
    return render_template("insurance/policy_detail.html", policy=policy, sale_url=sale_url(policy["booking_id"]),
                           may_edit=may_open("insurance.policy_edit"))


@bp.route("/policies/<int:policy_id>/edit", methods=["GET", "POST"])
@allow("policy.manage")
def policy_edit(policy_id: int):
    conn = get_conn()
    policy = _policy_or_404(conn, policy_id)
    form = PolicyForm(data=dict(policy) if request.method == "GET" else None)
    form.insurer_id.choices = [(0, "Choose…")] + queries.insurer_choices(conn, keep=policy["insurer_id"])
    if form.validate_on_submit():
        _, saved = save_or_field_error(conn, form, CONSTRAINT_MESSAGES,
                                       lambda: queries.update_policy(conn, policy_id, form.data_for_db()))
        if saved:
            flash("Policy saved.", "success")
            return redirect_response(url_for("insurance.policy_detail", policy_id=policy_id))
    status = 422 if request.method == "POST" else 200
    return render_template("insurance/policy_edit.html", policy=policy, form=form,
                           sale_url=sale_url(policy["booking_id"])), status


# --------------------------------------------------------------------------- renewals


def _month_arg() -> date:
    """The first day of ?month=YYYY-MM; the coming month when absent or malformed."""
    raw = request.args.get("month", "")
    try:
        year, month = (int(part) for part in raw.split("-"))
        if 2000 <= year <= 2200:
            return date(year, month, 1)
    except ValueError:
        pass
    return add_months(today_ist().replace(day=1), 1)


@bp.get("/renewals")
@allow("policy.manage")
def renewals():
    conn = get_conn()
    start = _month_arg()
    end = add_months(start, 1)
    rows, page = paged(lambda number, size: queries.renewals(conn, current_user.branch_id, start, end, own_only(),
                                                             number, size))
    return rows_or_page("insurance/renewals.html", "insurance/_renewal_rows.html", RENEWALS_TARGET,
                        rows=rows, page=page, month=start, month_arg=f"{start:%Y-%m}",
                        prev_month=f"{add_months(start, -1):%Y-%m}", next_month=f"{end:%Y-%m}",
                        covers=COVER_LABELS, results_id=RENEWALS_TARGET)
