"""Purchase orders to OEMs: the list, a draft typed (vehicles by variant and colour, parts by
number) and changed, approved, sent, cancelled or closed, and its PDF."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..db import get_conn
from ..forms import save_or_field_error
from ..pages import choice_arg, rows_or_page, search_text
from ..paging import Page, requested_page
from ..pdf import pdf_response, render_pdf
from ..security import allow, role_may_use
from . import bp, queries, services
from .forms import PO_ERRORS, PurchaseOrderForm
from .view_helpers import int_arg, plain, po_or_404

VEHICLE_ROWS, PART_ROWS, MORE_ROWS = 3, 2, 3


# --------------------------------------------------------------------------- purchase orders


@bp.get("/orders")
@allow("purchase.manage")
def po_list():
    conn = get_conn()
    status = choice_arg("status", (*queries.PO_STATUSES, "OPEN"))
    oem_id = int_arg("oem")
    q = search_text()
    number, size = requested_page(), current_app.config["PAGE_SIZE"]
    rows, total = queries.search_pos(conn, current_user.branch_id, status or None, oem_id, q, number, size)
    return rows_or_page(
        "procurement/po_list.html", "procurement/_po_rows.html", "po-results",
        rows=rows, page=Page(number, size, total), status=status, oem_id=oem_id, q=q,
        oems=queries.all_oem_choices(conn), statuses=services.STATUS_LABELS)


def _line_choices(conn, oem_id: int) -> list[tuple[str, str]]:
    return [("", "— choose —")] + [
        (f"{o.variant_id}:{o.colour}", f"{o.model} {o.variant} · {o.colour}")
        for o in queries.vehicle_options(conn, oem_id)]


def _prepare_order_form(form: PurchaseOrderForm, conn, oem_id: int, *, more: bool = False) -> None:
    """Enough empty rows to type into, and the OEM's variants in every vehicle row."""
    vehicle_rows = max(VEHICLE_ROWS, len(form.vehicles.entries) + (MORE_ROWS if more else 0))
    while len(form.vehicles.entries) < vehicle_rows:
        form.vehicles.append_entry()
    part_rows = max(PART_ROWS, len(form.parts.entries) + (MORE_ROWS if more else 0))
    while len(form.parts.entries) < part_rows:
        form.parts.append_entry()
    choices = _line_choices(conn, oem_id)
    for entry in form.vehicles.entries:
        entry.form.item.choices = choices


def _order_lines_from(form: PurchaseOrderForm, conn) -> list[dict] | None:
    """The lines typed into the form, or None after marking what is wrong next to it."""
    lines, seen, ok = [], {}, True
    choices = form.vehicles.entries[0].form.item.choices if form.vehicles.entries else []
    valid_items = {value for value, _ in choices if value}
    for n, entry in enumerate(form.vehicles.entries, start=1):
        f = entry.form
        if not f.item.data and f.qty.data is None and f.unit_price.data is None:
            continue
        if not f.item.data or f.item.data not in valid_items:
            f.item.errors.append("Choose the variant and colour")
            ok = False
            continue
        if f.qty.data is None:
            f.qty.errors.append("Enter the quantity")
            ok = False
            continue
        if f.qty.data != f.qty.data.to_integral_value():
            f.qty.errors.append("Vehicles are ordered in whole numbers")
            ok = False
            continue
        if f.item.data in seen:
            f.item.errors.append(f"Already on vehicle row {seen[f.item.data]}: change the quantity there")
            ok = False
            continue
        seen[f.item.data] = n
        variant_id, colour = f.item.data.split(":", 1)
        lines.append({"variant_id": int(variant_id), "colour": colour, "part_id": None, "qty": f.qty.data,
                      "unit_price": f.unit_price.data})
    typed = [e.form for e in form.parts.entries if e.form.part_no.data or e.form.qty.data is not None]
    parts = queries.parts_by_number(conn, [f.part_no.data for f in typed if f.part_no.data])
    seen = {}
    for n, entry in enumerate(form.parts.entries, start=1):
        f = entry.form
        if not f.part_no.data and f.qty.data is None and f.unit_price.data is None:
            continue
        part = parts.get(f.part_no.data or "")
        if not f.part_no.data:
            f.part_no.errors.append("Enter the part number")
        elif part is None:
            f.part_no.errors.append(f"No part numbered {f.part_no.data} in the catalog")
        elif not part.is_active:
            f.part_no.errors.append("This part is no longer stocked (inactive in the catalog)")
        elif part.part_id in seen:
            f.part_no.errors.append(f"Already on part row {seen[part.part_id]}: change the quantity there")
        elif f.qty.data is None:
            f.qty.errors.append("Enter the quantity")
        elif part.whole_units and f.qty.data != f.qty.data.to_integral_value():
            f.qty.errors.append(f"Counted in whole units ({part.unit})")
        else:
            seen[part.part_id] = n
            lines.append({"variant_id": None, "colour": None, "part_id": part.part_id, "qty": f.qty.data,
                          "unit_price": f.unit_price.data, "usual_price": part.purchase_price})
            continue
        ok = False
    if ok and not lines:
        form.form_errors.append("Add at least one line: a vehicle or a part.")
        ok = False
    return lines if ok else None


def _order_header(form: PurchaseOrderForm) -> dict:
    return {"order_date": form.order_date.data, "expected_date": form.expected_date.data, "notes": form.notes.data}


def _render_order_form(form, oem, po=None, failed=False):
    # Line errors are added after validation, where form.errors no longer sees them: `failed` says so.
    status = 422 if (request.method == "POST" and (failed or form.errors or form.form_errors)) else 200
    return render_template("procurement/po_form.html", form=form, oem=oem, po=po,
                           part_options=queries.part_options(get_conn())), status


@bp.route("/orders/new", methods=["GET", "POST"])
@allow("purchase.manage")
def po_new():
    """Step 1 chooses the OEM (whose variants the lines offer); step 2 is the whole order."""
    conn = get_conn()
    oems = queries.oem_choices(conn)
    oem_id = int_arg("oem_id") or (oems[0][0] if len(oems) == 1 else None)
    oem = queries.get_oem(conn, oem_id) if oem_id else None
    if oem is None or not oem.is_active:
        return render_template("procurement/po_choose_oem.html", oems=oems), 200
    form, saved, po_id, failed = _submitted_order(conn, oem, lambda header, lines: services.save_purchase_order(
        conn, branch_id=current_user.branch_id, oem_id=oem.oem_id, header=header, lines=lines))
    if saved:
        flash(f"Draft order to {oem.brand} saved. A manager approves it before it goes to the OEM.", "success")
        return redirect(url_for("procurement.po_detail", po_id=po_id), 303)
    return _render_order_form(form, oem, failed=failed)


def _submitted_order(conn, oem, save):
    """The order form as posted: "More lines" only redraws it; a valid order goes to
    save(header, lines), a refusal by the database becomes a field error.
    Returns (form, saved, what save returned, failed: the lines were refused)."""
    form = PurchaseOrderForm()
    more = request.method == "POST" and "more_lines" in request.form
    _prepare_order_form(form, conn, oem.oem_id, more=more)
    if more or not form.validate_on_submit():
        return form, False, None, False
    lines = _order_lines_from(form, conn)
    if lines is None:
        return form, False, None, True
    result, saved = save_or_field_error(conn, form, PO_ERRORS, lambda: save(_order_header(form), lines))
    return form, saved, result, False


@bp.get("/orders/<int:po_id>")
@allow("purchase.manage")
def po_detail(po_id: int):
    conn = get_conn()
    po = po_or_404(po_id)
    lines = queries.po_lines(conn, po_id)
    # What this person may do, read from the routes' own role declarations.
    may = {action: role_may_use(current_user.role, f"procurement.po_{action}")
           for action in ("approve", "send", "cancel", "close")}
    return render_template("procurement/po_detail.html", po=po, lines=lines,
                           totals=services.order_totals(lines, po.same_state),
                           receipts=queries.grns_of_po(conn, po_id), may=may,
                           receivable=po.status in services.RECEIVABLE)


@bp.route("/orders/<int:po_id>/edit", methods=["GET", "POST"])
@allow("purchase.manage")
def po_edit(po_id: int):
    conn = get_conn()
    po = po_or_404(po_id)
    if po.status != "DRAFT":
        flash(f"Order {po.po_no or '#' + str(po.po_id)} is {services.status_phrase(po.status)}: "
              "only a draft can be changed.", "error")
        return redirect(url_for("procurement.po_detail", po_id=po_id), 303)
    oem = queries.get_oem(conn, po.oem_id)
    if request.method == "GET":
        lines = queries.po_lines(conn, po_id)
        form = PurchaseOrderForm(data={
            "order_date": po.order_date, "expected_date": po.expected_date, "notes": po.notes,
            "vehicles": [{"item": f"{ln.variant_id}:{ln.colour}", "qty": plain(ln.qty),
                          "unit_price": ln.unit_price} for ln in lines if ln.variant_id],
            "parts": [{"part_no": ln.part_no, "qty": plain(ln.qty), "unit_price": ln.unit_price}
                      for ln in lines if ln.part_id],
        })
        _prepare_order_form(form, conn, oem.oem_id, more=True)
        return _render_order_form(form, oem, po)
    form, saved, _, failed = _submitted_order(conn, oem, lambda header, lines: services.save_purchase_order(
        conn, branch_id=po.branch_id, oem_id=po.oem_id, header=header, lines=lines, po_id=po_id))
    if saved:
        flash("Draft order saved.", "success")
        return redirect(url_for("procurement.po_detail", po_id=po_id), 303)
    return _render_order_form(form, oem, po, failed=failed)


def _status_change(po_id: int, action, done: str, refused: dict[str, str]):
    """Run a status change in a savepoint; the outcome is flashed on the order's page."""
    po_or_404(po_id)
    conn = get_conn()
    try:
        with conn.begin_nested():
            message = action(conn)
        flash(message or done, "success")
    except services.Refused as exc:
        flash(str(exc), "error")
    except sa.exc.IntegrityError as exc:
        from ..forms import constraint_name

        name = constraint_name(exc)
        if name not in refused:
            raise
        flash(refused[name], "error")
    return redirect(url_for("procurement.po_detail", po_id=po_id), 303)


def _move(conn, po_id: int, from_statuses: tuple[str, ...], to_status: str, what: str):
    if not queries.set_po_status(conn, po_id, from_statuses, to_status):
        po = queries.get_po(conn, po_id)
        raise services.Refused(f"This order is {services.status_phrase(po.status)}: it cannot be {what}.")


PO_STATUS_ERRORS = {
    "purchase_order_approver": "Only a manager or an administrator approves a purchase order.",
    "purchase_order_has_lines": "An order without lines cannot be approved: add a line first.",
    "purchase_order_status_transition": "The order cannot move to that status from where it is.",
}


@bp.post("/orders/<int:po_id>/approve")
@allow("purchase.approve")
def po_approve(po_id: int):
    def approve(conn):
        po_no = services.approve_purchase_order(conn, po_id, current_user.staff_id)
        return f"Order approved as {po_no}. Print it or send it to the OEM, then mark it sent."

    return _status_change(po_id, approve, "", PO_STATUS_ERRORS)


@bp.post("/orders/<int:po_id>/send")
@allow("purchase.manage")
def po_send(po_id: int):
    return _status_change(po_id, lambda conn: _move(conn, po_id, ("APPROVED",), "SENT", "marked sent"),
                          "Marked as sent to the OEM: goods can now be received against it.", PO_STATUS_ERRORS)


@bp.post("/orders/<int:po_id>/cancel")
@allow("purchase.approve")
def po_cancel(po_id: int):
    return _status_change(po_id, lambda conn: _move(conn, po_id, ("DRAFT", "APPROVED", "SENT"), "CANCELLED",
                                                    "cancelled"),
                          "Order cancelled.", PO_STATUS_ERRORS)


@bp.post("/orders/<int:po_id>/close")
@allow("purchase.approve")
def po_close(po_id: int):
    return _status_change(po_id, lambda conn: _move(conn, po_id, ("PART_RECEIVED", "RECEIVED"), "CLOSED", "closed"),
                          "Order closed: nothing more will be received against it.", PO_STATUS_ERRORS)


@bp.get("/orders/<int:po_id>/pdf")
@allow("purchase.manage")
def po_pdf(po_id: int):
    conn = get_conn()
    po = po_or_404(po_id)
    lines = queries.po_lines(conn, po_id)
    totals = services.order_totals(lines, po.same_state)
    pdf = render_pdf("procurement/po_pdf.html", po=po, lines=lines, totals=totals, line_gst=services.line_gst)
    return pdf_response(pdf, f"{po.po_no or 'draft-order-' + str(po.po_id)}.pdf".replace("/", "-"))
