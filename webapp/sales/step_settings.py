"""The settings the steps of a sale run on: discount limits per role, the PDI checklist and the
on-road charge items (an administrator's or a manager's page)."""
from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for

from ..db import get_conn
from ..forms import constraint_name
from ..money import parse_amount
from ..security import allow
from . import bp, step_queries

# --------------------------------------------------------------------------- settings

SETTINGS_ERRORS = {
    "discount_limit_max_discount_check": "A discount limit cannot be negative.",
    "pdi_item_name_key": "Two checklist items cannot have the same name.",
    "pdi_item_name_check": "A checklist item's name is 2 to 120 characters.",
    "pdi_item_sort_order_check": "The order is a whole number.",
    "onroad_item_default_amount_check": "A default amount cannot be negative.",
}


def _settings_page(errors: list[str] | None = None, typed=None):
    conn = get_conn()
    limits = step_queries.discount_limits(conn)
    pdi_items = step_queries.pdi_items(conn)
    onroad = step_queries.onroad_items(conn)
    return render_template("sales/step_settings.html", limits=limits, pdi_items=pdi_items, onroad=onroad,
                           errors=errors or [], typed=typed or {}), 422 if errors else 200


def _amount(raw: str | None):
    """'5,000' -> Decimal('5000'); '' -> None; anything else (e.g. '1e5') -> ValueError."""
    value = parse_amount(raw)
    if value is not None and value >= 10**10:
        raise ValueError(raw)
    return value


def _save_settings(action, done: str):
    """Run the change in a savepoint: saved -> back to the page; refused -> the page with the reason."""
    conn = get_conn()
    errors: list[str] = []
    try:
        with conn.begin_nested():
            action(conn, errors)
            if errors:
                raise _Undo
    except _Undo:
        pass
    except sa.exc.IntegrityError as exc:
        name = constraint_name(exc)
        if name not in SETTINGS_ERRORS:
            raise
        errors.append(SETTINGS_ERRORS[name])
    if errors:
        return _settings_page(errors, request.form)
    flash(done, "success")
    return redirect(url_for("sales.settings"), 303)


class _Undo(Exception):
    """Leave the savepoint without saving (the form had errors)."""


@bp.get("/settings")
@allow("sales.settings")
def settings():
    return _settings_page()


@bp.post("/settings/discount-limits")
@allow("sales.settings")
def settings_discount_limits():
    def save(conn, errors):
        roles_known = step_queries.role_codes(conn)
        for role in roles_known:
            field = f"limit_{role}"
            if field not in request.form:
                continue   # not on the form that was sent: left as it is
            try:
                limit = _amount(request.form[field])
            except (ValueError, ArithmeticError):
                errors.append(f"The limit for {role.replace('_', ' ').title()} is not an amount.")
                continue
            step_queries.set_discount_limit(conn, role, limit)

    return _save_settings(save, "Discount limits saved. New discounts are judged against them.")


@bp.post("/settings/pdi-items")
@allow("sales.settings")
def settings_pdi_items():
    def save(conn, errors):
        for item_id in step_queries.pdi_item_ids(conn):
            if f"name_{item_id}" not in request.form:
                continue
            order = request.form.get(f"sort_{item_id}", "").strip()
            if not order.isdigit() or int(order) > 30000:
                errors.append(f"The order of “{request.form[f'name_{item_id}']}” is a whole number.")
                continue
            step_queries.update_pdi_item(conn, item_id, request.form[f"name_{item_id}"].strip(), int(order),
                                         request.form.get(f"active_{item_id}") == "y")
        new_name = request.form.get("new_name", "").strip()
        if new_name:
            order = request.form.get("new_sort", "").strip() or "100"
            if not order.isdigit() or int(order) > 30000:
                errors.append("The new item's order is a whole number.")
                return
            step_queries.insert_pdi_item(conn, new_name, int(order))

    return _save_settings(save, "PDI checklist saved.")


@bp.post("/settings/onroad-items")
@allow("sales.settings")
def settings_onroad_items():
    def save(conn, errors):
        for code in step_queries.onroad_item_codes(conn):
            if f"default_{code}" not in request.form:
                continue
            try:
                amount = _amount(request.form[f"default_{code}"]) or Decimal(0)
            except (ValueError, ArithmeticError):
                errors.append(f"The default amount of {code} is not an amount.")
                continue
            step_queries.update_onroad_item(conn, code, amount, request.form.get(f"active_{code}") == "y")

    return _save_settings(save, "On-road items saved. New quotations use these amounts.")
