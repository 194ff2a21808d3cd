"""The workshop's settings: the inspection checklist's items (order, name, active) and the dated
limits that flag a battery reading. Items are never deleted (answers refer to them): one that no
longer applies is deactivated. A limit is never overwritten: a new one starts on a day and the
one before ends the day before.

Who: the checklist, whoever edits the catalog (catalog.edit); the limits and the paid-service
interval (webapp/service/intervals.py), whoever sets the warranty's rules (warranty.settings)."""
from __future__ import annotations

from types import SimpleNamespace

from flask import flash, render_template, request, url_for

from ..db import get_conn
from ..errors import redirect_response
from ..forms import choices, save_or_field_error
from ..security import allow, can
from . import bp, intervals, queries
from .forms import LIMIT_LABELS, ReadingLimitForm

ITEM_MESSAGES = {
    "inspection_item_name_key": (None, "Two checklist items cannot have the same name."),
    "inspection_item_name_check": (None, "A checklist item's name is 2 to 80 characters."),
}
LIMIT_MESSAGES = {
    "reading_limit_no_overlap": ("effective_from", "Another limit of this check starts on or after this day: "
                                                   "a new limit starts after the latest one"),
    "reading_limit_period": ("effective_from", "A new limit starts after the latest one of this check"),
    "reading_limit_limit_value_check": ("limit_value", "0 to 10,000"),
}


def _page(errors=None, typed=None, form=None, status=200, interval_form=None):
    conn = get_conn()
    form = form or ReadingLimitForm(formdata=None)
    interval_form = interval_form or intervals.ServiceIntervalForm(formdata=None, prefix=intervals.PREFIX)
    form.check_code.choices = choices(LIMIT_LABELS.items())
    return render_template("service/settings.html", items=queries.inspection_items(conn),
                           limits=queries.reading_limit_rows(conn), limit_labels=LIMIT_LABELS, form=form,
                           errors=errors or [], typed=typed or {}, may_edit_items=can("catalog.edit"),
                           may_edit_limits=can("warranty.settings"), interval_form=interval_form,
                           service_intervals=intervals.interval_rows(conn)), status


@bp.get("/settings")
@allow("workshop.read")
def settings():
    return _page()


@bp.post("/settings/checklist")
@allow("catalog.edit")
def settings_checklist():
    conn = get_conn()
    errors: list[str] = []
    updates, new = [], None
    for item in queries.inspection_items(conn):
        item_id = item["item_id"]
        if f"name_{item_id}" not in request.form:
            continue
        order = request.form.get(f"sort_{item_id}", "").strip()
        name = request.form[f"name_{item_id}"].strip()
        if not order.isdigit() or int(order) > 999:
            errors.append(f"The order of “{name[:80]}” is a whole number up to 999.")
        elif not 2 <= len(name) <= 80:
            errors.append(f"A checklist item's name is 2 to 80 characters (item {item['name']}).")
        else:
            updates.append((item_id, name, int(order), request.form.get(f"active_{item_id}") == "y"))
    new_name = request.form.get("new_name", "").strip()
    if new_name:
        order = request.form.get("new_sort", "").strip() or "500"
        if not order.isdigit() or int(order) > 999:
            errors.append("The new item's order is a whole number up to 999.")
        elif not 2 <= len(new_name) <= 80:
            errors.append("A checklist item's name is 2 to 80 characters.")
        else:
            new = (new_name, int(order))
    if not errors:
        def save():
            for update in updates:
                queries.update_inspection_item(conn, *update)
            if new:
                queries.insert_inspection_item(conn, *new)
        holder = SimpleNamespace(form_errors=errors)   # the database's refusals go above the page
        _, saved = save_or_field_error(conn, holder, ITEM_MESSAGES, save)
        if saved:
            flash("Checklist saved.", "success")
            return redirect_response(url_for("service.settings"))
    return _page(errors, request.form, status=422)


@bp.post("/settings/limits")
@allow("warranty.settings")
def settings_limit_new():
    conn = get_conn()
    form = ReadingLimitForm()
    form.check_code.choices = choices(LIMIT_LABELS.items())
    if form.validate_on_submit():
        _, saved = save_or_field_error(conn, form, LIMIT_MESSAGES, lambda: queries.new_reading_limit(
            conn, form.check_code.data, form.limit_value.data, form.effective_from.data))
        if saved:
            flash(f"{LIMIT_LABELS[form.check_code.data]}: {form.limit_value.data} from "
                  f"{form.effective_from.data:%d-%m-%Y}.", "success")
            return redirect_response(url_for("service.settings"))
    return _page(form=form, status=422)
