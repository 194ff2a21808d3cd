"""The OEM portal's leads: pasted from its sheet or its CSV / XLSX uploaded, previewed row by row with
what is wrong in each, and saved only from a clean preview of the same text (as the dispatch list of a
goods receipt is). Each saved lead is NEW, from the OEM portal, given to the next salesperson in turn."""
from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..db import get_conn
from ..formatting import today_ist
from ..procurement.api import normalise, text_from_upload
from ..security import allow
from . import bp, oem_leads, queries
from .forms import LeadImportForm


def _taken_refs(conn) -> set[str]:
    return set(conn.execute(sa.text(
        "SELECT oem_lead_ref FROM crm.lead WHERE branch_id = :b AND oem_lead_ref IS NOT NULL"),
        {"b": current_user.branch_id}).scalars())


@bp.route("/leads/import", methods=["GET", "POST"])
@allow("lead.import")
def lead_import():
    conn = get_conn()
    form = LeadImportForm()
    preview, notice, fingerprint = None, None, None
    if form.validate_on_submit():
        action = request.form.get("action", "check")
        upload = form.upload.data
        if upload and getattr(upload, "filename", ""):
            action = "check"  # a new file is always previewed first
            try:
                form.leads.data = normalise(text_from_upload(upload.filename, upload.read(), "the leads file"))
            except ValueError as exc:
                form.upload.errors = [str(exc)]
        if not form.upload.errors:
            text = normalise(form.leads.data)
            form.leads.data = text
            today = today_ist()
            preview = oem_leads.parse_leads(text, queries.model_choices(conn), _taken_refs(conn), today)
            fingerprint = oem_leads.fingerprint(text)
            if action == "confirm" and request.form.get("previewed") != fingerprint:
                notice = "The list changed after its preview: check this preview and save again."
            elif action == "confirm" and preview.is_clean:
                people: dict[int, int] = {}
                for row in preview.rows:
                    salesperson = queries.next_salesperson(conn, current_user.branch_id) or current_user.staff_id
                    people[salesperson] = people.get(salesperson, 0) + 1
                    queries.insert_lead(conn, current_user.branch_id, today, {
                        "source": "OEM_PORTAL", "name": row.name, "mobile": row.mobile, "email": row.email,
                        "model_id": row.model_id, "salesperson_id": salesperson, "budget": row.budget,
                        "expected_purchase_on": row.expected, "notes": row.notes, "oem_lead_ref": row.ref,
                        "next_action": "First call", "follow_up_on": today})
                flash(f"{len(preview.rows)} OEM portal leads saved, shared among {len(people)} "
                      f"salespeople; each is due its first call today.", "success")
                return redirect(url_for("crm.lead_list", source="OEM_PORTAL", status="NEW"), 303)
    status = 422 if form.is_submitted() and (form.errors or (preview and not preview.is_clean)) else 200
    return render_template("crm/lead_import.html", form=form, preview=preview, notice=notice,
                           fingerprint=fingerprint, titles=oem_leads.TITLES), status
