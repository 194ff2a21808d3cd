"""Goods receipts against a purchase order: the OEM's dispatch list (pasted, uploaded or scanned)
previewed row by row and posted into stock; the list and a receipt's page."""
from __future__ import annotations

import hashlib
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..db import get_conn
from ..pages import found_or_404, rows_or_page, search_text
from ..paging import Page, requested_page
from ..security import allow, role_may_use
from . import bp, dispatch, queries, services
from .forms import GoodsReceiptForm
from .view_helpers import int_arg, plain, po_or_404

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
@allow("purchase.manage")
def grn_new(po_id: int):
    """Receive goods: the dispatch list (pasted, uploaded or scanned one by one) is previewed row by row;
    only a clean preview can be confirmed, and confirming checks the same text again and saves it all."""
    conn = get_conn()
    po = po_or_404(po_id)
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
        (str(ln.po_line_id), f"{ln.model} {ln.variant} · {ln.colour} ({plain(ln.remaining)} awaited)")
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
@allow("purchase.manage")
def grn_list():
    conn = get_conn()
    oem_id = int_arg("oem")
    unbilled = request.args.get("unbilled") == "1"
    q = search_text()
    number, size = requested_page(), current_app.config["PAGE_SIZE"]
    rows, total = queries.search_grns(conn, current_user.branch_id, oem_id, unbilled, q, number, size)
    return rows_or_page("procurement/grn_list.html", "procurement/_grn_rows.html", "grn-results",
                          rows=rows, page=Page(number, size, total), oem_id=oem_id, unbilled=unbilled, q=q,
                          oems=queries.all_oem_choices(conn))


@bp.get("/receipts/<int:grn_id>")
@allow("purchase.manage")
def grn_detail(grn_id: int):
    conn = get_conn()
    grn = found_or_404(queries.get_grn(conn, grn_id))
    # Each VIN links to the unit's history in the stock screens, for those who may open them.
    unit_history = "inventory.unit_detail" if role_may_use(current_user.role, "inventory.unit_detail") else None
    return render_template("procurement/grn_detail.html", grn=grn, vehicles=queries.grn_vehicles(conn, grn_id),
                           parts=queries.grn_parts(conn, grn_id), unit_history=unit_history)
