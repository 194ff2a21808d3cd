"""Stock transfers between branches: dispatched parts and vehicles, in transit, received; the
delivery challan a transfer within one GSTIN travels with."""
from __future__ import annotations

from decimal import Decimal

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..db import get_conn
from ..formatting import today_ist
from ..master.api import branch_for_print
from ..pages import choice_arg, found_or_404, rows_or_page
from ..paging import paged
from ..pdf import Kept, pdf_response, render_pdf
from ..security import allow, can, may_open
from . import bp, queries, services
from .forms import TransferForm
from .view_helpers import attempt, branch_from, int_arg, may_act_at, not_your_branch, whole_units_problem

# --------------------------------------------------------------------------- transfers


@bp.get("/transfers")
@allow("transfer.read")
def transfer_list():
    conn = get_conn()
    branch_id, branch_arg = branch_from(request.args.get("branch"))
    view = choice_arg("view", queries.TRANSFER_VIEWS, "in_transit")
    rows, page = paged(lambda n, size: queries.search_transfers(conn, branch_id, view, n, size))
    return rows_or_page(
        "inventory/transfer_list.html", "inventory/_transfer_rows.html", "transfer-results",
        rows=rows, page=page, view=view, branch_id=branch_id, branch=queries.get_branch(conn, branch_id),
        branches=queries.branch_choices(conn), args={"branch": branch_arg, "view": view},
        may_dispatch=can("stock.manage"))


def _transfer_form():
    conn = get_conn()
    form = TransferForm()
    branches = queries.branch_choices(conn)
    own = [(b, label) for b, label in branches if may_act_at(b)]
    form.from_branch_id.choices = own or branches
    form.to_branch_id.choices = [(0, "Choose the receiving branch"), *branches]
    return form


def _resolve_transfer_lines(conn, form: TransferForm):
    """Part numbers and VINs typed on the form -> ids, with errors shown at their line."""
    parts, unit_ids, ok = [], [], True
    for line in form.parts:
        if not line.part_no.data or line.qty.data is None:
            continue
        part = queries.part_by_no(conn, line.part_no.data)
        if part is None:
            line.part_no.errors = [*line.part_no.errors, "No part with this number"]
            ok = False
            continue
        whole = whole_units_problem(part.whole_units, part.unit, line.qty.data)
        if whole:
            line.qty.errors = [*line.qty.errors, whole]
            ok = False
            continue
        parts.append((part.part_id, line.qty.data))
    unknown = []
    for vin in form.vin_list():
        unit_id = queries.unit_id_by_vin(conn, vin)
        if unit_id is None:
            unknown.append(vin)
        else:
            unit_ids.append(unit_id)
    if unknown:
        form.vins.errors = [*form.vins.errors, f"No vehicle with VIN {', '.join(unknown[:5])}"]
        ok = False
    return parts, unit_ids, ok


@bp.route("/transfers/new", methods=["GET", "POST"])
@allow("stock.manage")
def transfer_new():
    """Dispatch parts and vehicles to another branch."""
    conn = get_conn()
    form = _transfer_form()
    if request.method == "GET":
        vin = request.args.get("vin", "").strip().upper()
        if vin:
            form.vins.data = vin
        from_branch = int_arg("from")
        if from_branch in dict(form.from_branch_id.choices):
            form.from_branch_id.data = from_branch
    if request.method == "POST" and request.form.get("more"):
        for _ in range(5):  # more part lines, without judging a half-filled form
            if len(form.parts) < form.parts.max_entries:
                form.parts.append_entry()
        return render_template("inventory/transfer_form.html", form=form)
    if form.is_submitted():
        valid = form.validate()
        parts, unit_ids, ok = _resolve_transfer_lines(conn, form)  # every line's problem shown at once
        if valid and not may_act_at(form.from_branch_id.data):
            form.from_branch_id.errors = [not_your_branch(form.from_branch_id.data)]
        elif valid and ok:
            result, problem = attempt(lambda: services.dispatch_transfer(
                conn, from_branch=form.from_branch_id.data, to_branch=form.to_branch_id.data, parts=parts,
                unit_ids=unit_ids, notes=form.notes.data, on=today_ist()))
            if problem is None:
                transfer_id, transfer_no = result
                flash(f"Transfer {transfer_no} dispatched. The receiving branch now sees it as in transit.", "success")
                return redirect(url_for("inventory.transfer_detail", transfer_id=transfer_id), 303)
            form.form_errors.append(problem)
    status = 422 if form.errors or form.form_errors else 200
    return render_template("inventory/transfer_form.html", form=form), status


def _transfer_or_404(transfer_id: int):
    return found_or_404(queries.get_transfer(get_conn(), transfer_id))


@bp.get("/transfers/<int:transfer_id>")
@allow("transfer.read")
def transfer_detail(transfer_id: int):
    transfer = _transfer_or_404(transfer_id)
    lines = queries.transfer_lines(get_conn(), transfer_id)
    return render_template(
        "inventory/transfer_detail.html", transfer=transfer, lines=lines,
        part_value=sum((line.out_value for line in lines if line.out_value is not None), Decimal("0.00")),
        may_receive=(transfer.status == "DISPATCHED" and can("stock.manage")
                     and may_act_at(transfer.to_branch_id)),
        may_print_invoice=may_open("billing.invoice_pdf") and current_user.branch_id == transfer.branch_id)


@bp.get("/transfers/<int:transfer_id>/challan.pdf")
@allow("transfer.read")
def transfer_challan_pdf(transfer_id: int):
    """The delivery challan a transfer within one GSTIN travels with (a transfer to another GSTIN
    travels on its tax invoice instead)."""
    transfer = _transfer_or_404(transfer_id)
    if not transfer.on_challan:
        abort(404)
    conn = get_conn()
    lines = queries.transfer_lines(conn, transfer_id)
    pdf = render_pdf("inventory/transfer_challan_pdf.html", kept=Kept("transfer_challan", transfer_id), transfer=transfer, lines=lines,
                     total=sum((line.value for line in lines if line.value is not None), Decimal("0.00")),
                     sender=branch_for_print(conn, transfer.branch_id),
                     receiver=branch_for_print(conn, transfer.to_branch_id))
    return pdf_response(pdf, f"challan-{transfer.transfer_no}.pdf".replace("/", "-"))


@bp.post("/transfers/<int:transfer_id>/receive")
@allow("stock.manage")
def transfer_receive(transfer_id: int):
    transfer = _transfer_or_404(transfer_id)
    if not may_act_at(transfer.to_branch_id):
        flash(f"{transfer.transfer_no} is received by {transfer.to_branch} (or an administrator).", "error")
    else:
        _, problem = attempt(lambda: services.receive_transfer(get_conn(), transfer_id))
        if problem:
            flash(problem, "error")
        else:
            flash(f"{transfer.transfer_no} received at {transfer.to_branch}: parts and vehicles are in stock.",
                  "success")
    return redirect(url_for("inventory.transfer_detail", transfer_id=transfer_id), 303)
