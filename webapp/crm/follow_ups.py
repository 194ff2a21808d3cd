"""Follow-ups: a call's outcome recorded in one tap (with the next follow-up if one is typed), the
next action and when, the list of follow-ups due today and overdue, and the same as a panel on each
salesperson's dashboard (webapp/panels.py slot "dashboard")."""
from __future__ import annotations

from datetime import timedelta

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..db import get_conn
from ..formatting import today_ist
from ..forms import save_or_field_error
from ..security import allow, can
from . import access, bp, queries
from .forms import CONTACT_ERRORS, LEAD_ERRORS, ContactForm, FollowUpForm
from .leads import lead_page

# When to call again after an outcome, unless a date was typed.
NEXT_CALL_DAYS = {"NO_ANSWER": 1, "CALL_BACK": 2, "REACHED": 3, "VISIT_PLANNED": 2}


def _back(lead_id: int):
    """Back to where the tap came from: the follow-ups list or the lead's page."""
    if request.form.get("back") == "follow-ups":
        return redirect(url_for("crm.follow_ups"), 303)
    if request.form.get("back") == "home":
        return redirect(url_for("dashboard.home"), 303)
    return redirect(url_for("crm.lead_detail", lead_id=lead_id), 303)


@bp.post("/leads/<int:lead_id>/contact")
@allow("lead.change")
def lead_contact(lead_id: int):
    conn = get_conn()
    lead = access.lead_or_404(conn, lead_id)
    form = ContactForm()
    if form.validate_on_submit():
        if lead["status"] not in queries.OPEN_STATUSES:
            form.outcome.errors.append("This lead is booked or lost: no more follow-up calls")
        else:
            outcome = form.outcome.data
            when = form.follow_up_on.data
            if when is None and outcome in NEXT_CALL_DAYS:
                when = today_ist() + timedelta(days=NEXT_CALL_DAYS[outcome])
            action = form.next_action.data or (lead["next_action"] if when else None) or (
                "Call again" if when else None)
            _, saved = save_or_field_error(conn, form, CONTACT_ERRORS, lambda: queries.record_contact(
                conn, lead, outcome, form.note.data, when, action))
            if saved:
                message = f"{lead['name']}: {queries.OUTCOMES[outcome].lower()}."
                if outcome == "NOT_INTERESTED":
                    message += " Mark the lead lost with its reason."
                elif when:
                    message += f" Next follow-up {when:%d-%m-%Y}."
                flash(message, "success")
                return _back(lead_id)
    return lead_page(conn, lead, 422, contact_form=form)


@bp.post("/leads/<int:lead_id>/follow-up")
@allow("lead.change")
def lead_follow_up(lead_id: int):
    conn = get_conn()
    lead = access.lead_or_404(conn, lead_id)
    form = FollowUpForm()
    if form.validate_on_submit():
        if lead["status"] not in queries.OPEN_STATUSES:
            form.next_action.errors.append("This lead is booked or lost: nothing to follow up")
        else:
            _, saved = save_or_field_error(conn, form, LEAD_ERRORS, lambda: queries.set_follow_up(
                conn, lead_id, form.next_action.data, form.follow_up_on.data))
            if saved:
                flash(f"Next for {lead['name']}: {form.next_action.data} on {form.follow_up_on.data:%d-%m-%Y}.",
                      "success")
                return redirect(url_for("crm.lead_detail", lead_id=lead_id), 303)
    return lead_page(conn, lead, 422, follow_form=form)


@bp.get("/follow-ups")
@allow("lead.read")
def follow_ups():
    conn = get_conn()
    today = today_ist()
    rows = queries.follow_ups(conn, current_user.branch_id, access.own_only(), today)
    return render_template("crm/follow_ups.html", rows=rows, today=today, outcomes=queries.OUTCOMES,
                           statuses=queries.LEAD_STATUSES, may_sell=can("lead.change"), form=ContactForm())


def dashboard_panel(conn, subject) -> dict | None:
    """"My follow-ups today / overdue" on the home page of whoever works leads."""
    if not can("lead.change"):
        return None
    today = today_ist()
    counts = queries.follow_up_counts(conn, current_user.branch_id, current_user.staff_id, today)
    rows = queries.follow_ups(conn, current_user.branch_id, current_user.staff_id, today, limit=8) \
        if counts["today"] or counts["overdue"] else []
    return {"rows": rows, "today": today, "outcomes": queries.OUTCOMES, "form": ContactForm(),
            "overdue": counts["overdue"], "due_today": counts["today"]}
