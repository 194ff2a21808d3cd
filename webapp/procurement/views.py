"""Screens of the procurement module: purchase orders to OEMs, goods receipts, purchase invoices,
payments and payables.

Who: ADMIN, MANAGER and ACCOUNTS buy; only a MANAGER or an ADMIN approves an order (the database
checks the approver too), cancels or closes one. Lists show the logged-in person's branch.
"""
from __future__ import annotations

import hashlib
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..db import get_conn
from ..formatting import inr, today_ist
from ..forms import save_or_field_error
from ..pages import rows_or_page, search_text
from ..paging import Page, requested_page
from ..pdf import pdf_response, render_pdf
from ..security import role_may_use, roles
from . import bp, dispatch, queries, services
from .forms import (
    PAYMENT_ERRORS,
    PINV_ERRORS,
    PO_ERRORS,
    GoodsReceiptForm,
    PurchaseInvoiceForm,
    PurchaseOrderForm,
    SupplierPaymentForm,
)

BUYERS = ("ADMIN", "MANAGER", "ACCOUNTS")
APPROVERS = ("ADMIN", "MANAGER")
VEHICLE_ROWS, PART_ROWS, MORE_ROWS = 3, 2, 3


def _int_arg(name: str) -> int | None:
    raw = request.args.get(name, "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def _plain(qty: Decimal) -> Decimal:
    """5.000 -> 5 and 7.500 -> 7.5 (never 1E+1) for a quantity shown in a form."""
    return Decimal(format(qty.normalize(), "f"))


def _po_or_404(po_id: int):
    po = queries.get_po(get_conn(), po_id)
    if po is None:
        abort(404)
    return po


# --------------------------------------------------------------------------- purchase orders


@bp.get("/orders")
@roles(*BUYERS)
def po_list():
    conn = get_conn()
    status = request.args.get("status", "")
    status = status if status in (*queries.PO_STATUSES, "OPEN") else ""
    oem_id = _int_arg("oem")
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
@roles(*BUYERS)
def po_new():
    """Step 1 chooses the OEM (whose variants the lines offer); step 2 is the whole order."""
    conn = get_conn()
    oems = queries.oem_choices(conn)
    oem_id = _int_arg("oem_id") or (oems[0][0] if len(oems) == 1 else None)
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
@roles(*BUYERS)
def po_detail(po_id: int):
    conn = get_conn()
    po = _po_or_404(po_id)
    lines = queries.po_lines(conn, po_id)
    # What this person may do, read from the routes' own role declarations.
    may = {action: role_may_use(current_user.role, f"procurement.po_{action}")
           for action in ("approve", "send", "cancel", "close")}
    return render_template("procurement/po_detail.html", po=po, lines=lines,
                           totals=services.order_totals(lines, po.same_state),
                           receipts=queries.grns_of_po(conn, po_id), may=may,
                           receivable=po.status in services.RECEIVABLE)


@bp.route("/orders/<int:po_id>/edit", methods=["GET", "POST"])
@roles(*BUYERS)
def po_edit(po_id: int):
    conn = get_conn()
    po = _po_or_404(po_id)
    if po.status != "DRAFT":
        flash(f"Order {po.po_no or '#' + str(po.po_id)} is {services.status_phrase(po.status)}: "
              "only a draft can be changed.", "error")
        return redirect(url_for("procurement.po_detail", po_id=po_id), 303)
    oem = queries.get_oem(conn, po.oem_id)
    if request.method == "GET":
        lines = queries.po_lines(conn, po_id)
        form = PurchaseOrderForm(data={
            "order_date": po.order_date, "expected_date": po.expected_date, "notes": po.notes,
            "vehicles": [{"item": f"{ln.variant_id}:{ln.colour}", "qty": _plain(ln.qty),
                          "unit_price": ln.unit_price} for ln in lines if ln.variant_id],
            "parts": [{"part_no": ln.part_no, "qty": _plain(ln.qty), "unit_price": ln.unit_price}
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
    _po_or_404(po_id)
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
@roles(*APPROVERS)
def po_approve(po_id: int):
    def approve(conn):
        po_no = services.approve_purchase_order(conn, po_id, current_user.staff_id)
        return f"Order approved as {po_no}. Print it or send it to the OEM, then mark it sent."

    return _status_change(po_id, approve, "", PO_STATUS_ERRORS)


@bp.post("/orders/<int:po_id>/send")
@roles(*BUYERS)
def po_send(po_id: int):
    return _status_change(po_id, lambda conn: _move(conn, po_id, ("APPROVED",), "SENT", "marked sent"),
                          "Marked as sent to the OEM: goods can now be received against it.", PO_STATUS_ERRORS)


@bp.post("/orders/<int:po_id>/cancel")
@roles(*APPROVERS)
def po_cancel(po_id: int):
    return _status_change(po_id, lambda conn: _move(conn, po_id, ("DRAFT", "APPROVED", "SENT"), "CANCELLED",
                                                    "cancelled"),
                          "Order cancelled.", PO_STATUS_ERRORS)


@bp.post("/orders/<int:po_id>/close")
@roles(*APPROVERS)
def po_close(po_id: int):
    return _status_change(po_id, lambda conn: _move(conn, po_id, ("PART_RECEIVED", "RECEIVED"), "CLOSED", "closed"),
                          "Order closed: nothing more will be received against it.", PO_STATUS_ERRORS)


@bp.get("/orders/<int:po_id>/pdf")
@roles(*BUYERS)
def po_pdf(po_id: int):
    conn = get_conn()
    po = _po_or_404(po_id)
    lines = queries.po_lines(conn, po_id)
    totals = services.order_totals(lines, po.same_state)
    pdf = render_pdf("procurement/po_pdf.html", po=po, lines=lines, totals=totals, line_gst=services.line_gst)
    return pdf_response(pdf, f"{po.po_no or 'draft-order-' + str(po.po_id)}.pdf".replace("/", "-"))


# --------------------------------------------------------------------------- goods receipts


def _receipt_parts(form: GoodsReceiptForm, part_lines) -> list[dict] | None:
    """Part quantities received now (blank or 0: not this time), or None after marking errors."""
    parts, ok = [], True
    for entry, line in zip(form.parts.entries, part_lines):
        f = entry.form
        if not f.qty.data:
            continue
        if f.qty.data > line.remaining:
            f.qty.errors.append(f"Only {line.remaining.normalize():f} still awaited")
            ok = False
        elif line.whole_units and f.qty.data != f.qty.data.to_integral_value():
            f.qty.errors.append(f"Counted in whole units ({line.unit})")
            ok = False
        else:
            cost = f.unit_cost.data if f.unit_cost.data is not None else line.unit_price
            parts.append({"po_line_id": line.po_line_id, "qty": f.qty.data.quantize(Decimal("0.001")),
                          "unit_cost": services.paise(cost)})
    return parts if ok else None


def _receipt_fingerprint(form: GoodsReceiptForm, parts: list[dict]) -> str:
    """What the preview showed; confirming anything else shows a new preview instead of saving."""
    seen = [form.dispatch_list.data or "", str(form.received_on.data),
            *(f"{p['po_line_id']}:{p['qty']}:{p['unit_cost']}" for p in parts)]
    return hashlib.sha256("\x1f".join(seen).encode()).hexdigest()


RECEIPT_ERRORS = {
    "vehicle_unit_vin_key": "Another receipt took one of these VINs a moment ago: check the list again.",
    "vehicle_unit_motor_no_key": "Another receipt took one of these motor numbers a moment ago: check the list again.",
    "vehicle_unit_charger_serial_key": "Another receipt took one of these chargers a moment ago: check the list again.",
    "battery_pack_serial_key": "Another receipt took one of these battery packs a moment ago: check the list again.",
    "po_line_not_over_received": "More than ordered: another receipt against this order was posted a moment ago.",
}


@bp.route("/orders/<int:po_id>/receive", methods=["GET", "POST"])
@roles(*BUYERS)
def grn_new(po_id: int):
    """Receive goods: the dispatch list (pasted, uploaded or scanned one by one) is previewed row by row;
    only a clean preview can be confirmed, and confirming checks the same text again and saves it all."""
    conn = get_conn()
    po = _po_or_404(po_id)
    if po.status not in services.RECEIVABLE:  # a stale tab or bookmark: say why, with the way back
        return render_template("procurement/grn_not_receivable.html", po=po,
                               phrase=services.status_phrase(po.status))
    lines = queries.po_lines(conn, po_id)
    vehicle_lines = [ln for ln in lines if ln.variant_id and ln.remaining > 0]
    part_lines = [ln for ln in lines if ln.part_id and ln.remaining > 0]
    if request.method == "GET":
        form = GoodsReceiptForm(data={"parts": [{"qty": None, "unit_cost": ln.unit_price} for ln in part_lines]})
    else:
        form = GoodsReceiptForm()
    while len(form.parts.entries) < len(part_lines):
        form.parts.append_entry({"qty": None, "unit_cost": part_lines[len(form.parts.entries)].unit_price})
    form.scan_line.choices = [
        (str(ln.po_line_id), f"{ln.model} {ln.variant} · {ln.colour} ({_plain(ln.remaining)} awaited)")
        for ln in vehicle_lines]
    check, fingerprint, notice = None, None, None
    if form.validate_on_submit():
        action = request.form.get("action", "check")
        upload = form.upload.data
        if upload and getattr(upload, "filename", ""):
            action = "check"  # a new file is always previewed first
            try:
                form.dispatch_list.data = dispatch.normalise(dispatch.text_from_upload(upload.filename, upload.read()))
            except ValueError as exc:
                form.upload.errors = [str(exc)]
        if form.has_scanned_vehicle():
            if action == "confirm":
                notice = "The vehicle typed in the boxes was added to the list; check it and confirm again."
            action = "check"
            line = next((ln for ln in vehicle_lines if str(ln.po_line_id) == form.scan_line.data), None)
            form.dispatch_list.data = dispatch.with_vehicle_added(form.dispatch_list.data or "", {
                "vin": form.scan_vin.data, "motor_no": form.scan_motor_no.data,
                "batteries": form.scan_batteries.data, "charger_serial": form.scan_charger_serial.data,
                "key_no": form.scan_key_no.data, "mfg_month": form.scan_mfg_month.data,
                "variant": f"{line.model} {line.variant}" if line else "", "colour": line.colour if line else "",
            })
            form.clear_scanned_vehicle()
            form.scan_vin.render_kw = {**form.scan_vin.render_kw, "autofocus": True}  # ready for the next scan
        parts = _receipt_parts(form, part_lines)
        if parts is not None and not form.upload.errors:
            fingerprint = _receipt_fingerprint(form, parts)
            if action == "confirm" and request.form.get("previewed") != fingerprint:
                notice = "The list changed after its preview: check this preview and confirm again."
                action = "check"
            if action == "confirm":
                try:
                    with conn.begin_nested():
                        grn_id, grn_no = services.post_goods_receipt(
                            conn, po_id=po_id, received_on=form.received_on.data,
                            dispatch_ref=form.dispatch_ref.data, dispatch_text=form.dispatch_list.data or "",
                            parts=parts)
                    flash(f"Goods receipt {grn_no} posted: the vehicles and parts are in stock.", "success")
                    return redirect(url_for("procurement.grn_detail", grn_id=grn_id), 303)
                except services.ReceiptRefused as refused:
                    check = refused.check
                except services.Refused as exc:
                    form.form_errors.append(str(exc))
                except sa.exc.IntegrityError as exc:
                    from ..forms import constraint_name

                    if constraint_name(exc) not in RECEIPT_ERRORS:
                        raise
                    form.form_errors.append(RECEIPT_ERRORS[constraint_name(exc)])
            if check is None and not form.form_errors:
                check = services.check_goods_receipt(conn, po, lines, form.dispatch_list.data or "",
                                                     form.received_on.data, parts)
    clean = check is not None and check.is_clean and not form.errors and not form.form_errors
    status = 200 if request.method == "GET" or clean else 422
    return render_template("procurement/grn_form.html", po=po, form=form, check=check, clean=clean,
                           fingerprint=fingerprint, notice=notice, vehicle_lines=vehicle_lines,
                           part_lines=part_lines), status


@bp.get("/receipts")
@roles(*BUYERS)
def grn_list():
    conn = get_conn()
    oem_id = _int_arg("oem")
    unbilled = request.args.get("unbilled") == "1"
    q = search_text()
    number, size = requested_page(), current_app.config["PAGE_SIZE"]
    rows, total = queries.search_grns(conn, current_user.branch_id, oem_id, unbilled, q, number, size)
    return rows_or_page("procurement/grn_list.html", "procurement/_grn_rows.html", "grn-results",
                          rows=rows, page=Page(number, size, total), oem_id=oem_id, unbilled=unbilled, q=q,
                          oems=queries.all_oem_choices(conn))


@bp.get("/receipts/<int:grn_id>")
@roles(*BUYERS)
def grn_detail(grn_id: int):
    conn = get_conn()
    grn = queries.get_grn(conn, grn_id)
    if grn is None:
        abort(404)
    # Each VIN links to the unit's history in the stock screens, for those who may open them.
    unit_history = "inventory.unit_detail" if role_may_use(current_user.role, "inventory.unit_detail") else None
    return render_template("procurement/grn_detail.html", grn=grn, vehicles=queries.grn_vehicles(conn, grn_id),
                           parts=queries.grn_parts(conn, grn_id), unit_history=unit_history)


# --------------------------------------------------------------------------- purchase invoices


@bp.get("/invoices")
@roles(*BUYERS)
def pinv_list():
    conn = get_conn()
    oem_id = _int_arg("oem")
    q = search_text()
    number, size = requested_page(), current_app.config["PAGE_SIZE"]
    rows, total = queries.search_pinvs(conn, current_user.branch_id, oem_id, q, number, size)
    return rows_or_page("procurement/pinv_list.html", "procurement/_pinv_rows.html", "pinv-results",
                          rows=rows, page=Page(number, size, total), oem_id=oem_id, q=q,
                          oems=queries.all_oem_choices(conn))


def _prefill(form: PurchaseInvoiceForm, figures: services.Totals) -> None:
    values = {"taxable_value": figures.taxable, "cgst": figures.cgst, "sgst": figures.sgst, "igst": figures.igst,
              "round_off": figures.round_off, "total": figures.total}
    for name, value in values.items():
        field = getattr(form, name)
        field.data, field.raw_data, field.errors = value, None, []
    if form.invoice_date.data and not form.due_date.data:
        form.due_date.data, form.due_date.raw_data = form.invoice_date.data + timedelta(days=30), None


@bp.route("/invoices/new", methods=["GET", "POST"])
@roles(*BUYERS)
def pinv_new():
    """The OEM's invoice for one or more receipts; the taxable value and the tax by head are worked out
    from the receipts at the rates in force on the invoice date, and stay editable (the OEM's paper rules)."""
    conn = get_conn()
    oem = queries.get_oem(conn, _int_arg("oem_id")) if _int_arg("oem_id") else None
    branch_id = current_user.branch_id
    if oem is None:
        oems = [(o_id, brand, len(queries.unbilled_receipts(conn, branch_id, o_id)))
                for o_id, brand in queries.all_oem_choices(conn)]
        return render_template("procurement/pinv_choose_oem.html", oems=oems), 200
    receipts = queries.unbilled_receipts(conn, branch_id, oem.oem_id)
    same_state = queries.same_state(conn, branch_id, oem.oem_id)
    form = PurchaseInvoiceForm()
    form.receipts.choices = [(g.grn_id, f"{g.grn_no} of {g.received_on:%d-%m-%Y} · PO {g.po_no} · {inr(g.value)}")
                             for g in receipts]
    figures = None
    if request.method == "GET":
        chosen = _int_arg("grn_id")
        if chosen in {g.grn_id for g in receipts}:
            form.receipts.data = [chosen]
            figures = services.invoice_figures(conn, branch_id=branch_id, oem_id=oem.oem_id, grn_ids=[chosen],
                                               on=form.invoice_date.data)
            _prefill(form, figures)
        return _render_invoice_form(form, oem, receipts, same_state, figures)
    if request.form.get("action") == "prefill":
        form.validate_on_submit()  # for the errors of what is typed; nothing is saved
        grn_ids = [g for g in (form.receipts.data or []) if g in {r.grn_id for r in receipts}]
        on = form.invoice_date.data or today_ist()
        figures = services.invoice_figures(conn, branch_id=branch_id, oem_id=oem.oem_id, grn_ids=grn_ids, on=on)
        _prefill(form, figures)
        for name in ("taxable_value", "cgst", "sgst", "igst", "round_off", "total", "due_date"):
            getattr(form, name).errors = []
        return _render_invoice_form(form, oem, receipts, same_state, figures, status=200)
    if form.validate_on_submit():
        data = {name: getattr(form, name).data for name in ("supplier_invoice_no", "invoice_date", "due_date",
                                                             "taxable_value", "total")}
        data.update({name: getattr(form, name).data or Decimal("0.00")
                     for name in ("cgst", "sgst", "igst", "round_off")})
        if same_state and data["igst"]:
            form.igst.errors.append(f"{oem.brand} is in the branch's state: CGST and SGST, not IGST")
        elif not same_state and (data["cgst"] or data["sgst"]):
            form.cgst.errors.append(f"{oem.brand} is in another state: IGST, not CGST and SGST")
        else:
            try:
                pinv_id, saved = save_or_field_error(conn, form, PINV_ERRORS, lambda: services.post_purchase_invoice(
                    conn, branch_id=branch_id, oem_id=oem.oem_id, data=data, grn_ids=form.receipts.data))
            except services.Refused as exc:
                form.receipts.errors.append(str(exc))
                saved = False
            if saved:
                flash(f"Purchase invoice {data['supplier_invoice_no']} of {oem.brand} entered: "
                      f"{inr(data['total'])} due on {data['due_date']:%d-%m-%Y}.", "success")
                return redirect(url_for("procurement.pinv_detail", pinv_id=pinv_id), 303)
    return _render_invoice_form(form, oem, receipts, same_state, figures)


def _render_invoice_form(form, oem, receipts, same_state, figures, status=None):
    if status is None:
        status = 422 if request.method == "POST" and (form.errors or form.form_errors) else 200
    return render_template("procurement/pinv_form.html", form=form, oem=oem, receipts=receipts,
                           same_state=same_state, figures=figures), status


@bp.get("/invoices/<int:pinv_id>")
@roles(*BUYERS)
def pinv_detail(pinv_id: int):
    conn = get_conn()
    invoice = queries.get_pinv(conn, pinv_id)
    if invoice is None:
        abort(404)
    form = SupplierPaymentForm(data={"amount": invoice.outstanding})
    return _render_invoice_detail(invoice, form)


def _render_invoice_detail(invoice, form, status=200):
    conn = get_conn()
    return render_template("procurement/pinv_detail.html", invoice=invoice, form=form,
                           receipts=queries.pinv_receipts(conn, invoice.pinv_id),
                           payments=queries.pinv_payments(conn, invoice.pinv_id)), status


@bp.post("/invoices/<int:pinv_id>/payments")
@roles(*BUYERS)
def pinv_payment(pinv_id: int):
    """A payment to the OEM against this invoice; never more than is still due (the database checks too)."""
    conn = get_conn()
    invoice = queries.get_pinv(conn, pinv_id)
    if invoice is None:
        abort(404)
    form = SupplierPaymentForm()
    if form.validate_on_submit():
        if form.amount.data > invoice.outstanding:
            form.amount.errors.append(f"Only {inr(invoice.outstanding)} is still due on this invoice")
        elif form.paid_on.data < invoice.invoice_date:
            form.paid_on.errors.append("Before the invoice date: enter advances against the invoice once it comes")
        else:
            _, saved = save_or_field_error(conn, form, PAYMENT_ERRORS, lambda: queries.insert_payment(
                conn, pinv_id, invoice.branch_id, form.data))
            if saved:
                flash(f"Payment of {inr(form.amount.data)} to {invoice.brand} recorded.", "success")
                return redirect(url_for("procurement.pinv_detail", pinv_id=pinv_id), 303)
    return _render_invoice_detail(queries.get_pinv(conn, pinv_id), form, 422)


@bp.get("/payables")
@roles(*BUYERS)
def payable_list():
    conn = get_conn()
    oem_id = _int_arg("oem")
    bucket = request.args.get("bucket", "")
    bucket = bucket if bucket in queries.AGE_BUCKETS else ""
    number, size = requested_page(), current_app.config["PAGE_SIZE"]
    rows, total = queries.payables(conn, current_user.branch_id, oem_id, bucket or None, number, size)
    return rows_or_page("procurement/payable_list.html", "procurement/_payable_rows.html", "payable-results",
                          rows=rows, page=Page(number, size, total), oem_id=oem_id, bucket=bucket,
                          buckets=queries.payable_buckets(conn, current_user.branch_id, oem_id),
                          oems=queries.all_oem_choices(conn))
