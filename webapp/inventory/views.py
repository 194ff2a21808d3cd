"""Screens of the inventory module: vehicle stock and its ageing, a unit's history, parts stock per
branch with stock cards and adjustments, part labels, transfers between branches, physical counts.

Who may do what (the route declarations below are the rule):
- vehicles: ADMIN, MANAGER, SALES, ACCOUNTS see the stock; a unit's history also SERVICE_ADVISOR
  (battery packs matter for warranty); demo / back to stock: ADMIN, MANAGER; battery swap: ADMIN,
  MANAGER, SERVICE_ADVISOR.
- parts: ADMIN, MANAGER, SERVICE_ADVISOR, TECHNICIAN, ACCOUNTS see stock, stock cards, labels and
  counts; bins: ADMIN, MANAGER, SERVICE_ADVISOR; adjustments: ADMIN, MANAGER; entering counted
  quantities: ADMIN, MANAGER, SERVICE_ADVISOR, TECHNICIAN; starting, approving, cancelling a count:
  ADMIN, MANAGER.
- transfers: every stock role sees them; dispatch and receipt: ADMIN, MANAGER.
Stock changes are made at one's own branch; an ADMIN may act for any branch.
"""
from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlencode

import segno
import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from ..billing.documents import branch_for_print
from ..db import get_conn
from ..formatting import today_ist
from ..forms import constraint_name
from ..pages import rows_or_page, search_text
from ..paging import paged
from ..pdf import pdf_response, render_pdf
from ..security import may_open, role_may_use, roles
from . import bp, queries, services
from .forms import (
    ADJUSTMENT_ERRORS,
    BATTERY_ERRORS,
    AdjustmentForm,
    BatterySwapForm,
    BinForm,
    CountAddPartForm,
    CountedForm,
    TransferForm,
)

VEHICLE_VIEWERS = ("ADMIN", "MANAGER", "SALES", "ACCOUNTS")
UNIT_VIEWERS = (*VEHICLE_VIEWERS, "SERVICE_ADVISOR")
STOCK_MANAGERS = ("ADMIN", "MANAGER")
BATTERY_FITTERS = ("ADMIN", "MANAGER", "SERVICE_ADVISOR")
PART_VIEWERS = ("ADMIN", "MANAGER", "SERVICE_ADVISOR", "TECHNICIAN", "ACCOUNTS")
BIN_EDITORS = ("ADMIN", "MANAGER", "SERVICE_ADVISOR")
COUNTERS = ("ADMIN", "MANAGER", "SERVICE_ADVISOR", "TECHNICIAN")
TRANSFER_VIEWERS = ("ADMIN", "MANAGER", "SALES", "SERVICE_ADVISOR", "TECHNICIAN", "ACCOUNTS")

COUNT_PAGE_SIZE = 50
LABELS_PER_SHEET = 24   # A4 sheet of 3 x 8 labels, 63.5 x 33.9 mm
LABELS_MAX = 10 * LABELS_PER_SHEET


# --------------------------------------------------------------------------- helpers


def _int_arg(name: str) -> int | None:
    raw = request.args.get(name, "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def _branch_from(raw: str | None, *, allow_all: bool = False) -> tuple[int | None, str]:
    """The branch asked for (?branch=), 'all' where a screen allows it, else the user's own."""
    raw = (raw or "").strip()
    if allow_all and raw == "all":
        return None, "all"
    if raw.isdigit() and len(raw) < 10 and queries.get_branch(get_conn(), int(raw)) is not None:
        return int(raw), raw
    return current_user.branch_id, str(current_user.branch_id)


def may_act_at(branch_id: int) -> bool:
    """Stock changes are made at one's own branch; an administrator may act for any."""
    return current_user.role == "ADMIN" or current_user.branch_id == branch_id


def _not_your_branch(branch_id: int) -> str:
    branch = queries.get_branch(get_conn(), branch_id)
    return (f"Stock at {branch.branch_code if branch else 'that branch'} is changed by its own staff "
            "(or an administrator).")


def attempt(action, messages: dict[str, str] | None = None):
    """Run a posting in a savepoint: (result, None), or (None, message) when a showroom rule or a
    known constraint refused it. Anything else propagates (and becomes the error page)."""
    conn = get_conn()
    try:
        with conn.begin_nested():
            return action(), None
    except services.Refused as exc:
        return None, str(exc)
    except sa.exc.IntegrityError as exc:
        name = constraint_name(exc)
        if messages and name in messages:
            return None, messages[name]
        raise




def _whole_units_problem(whole: bool, unit: str, qty: Decimal | None) -> str | None:
    if qty is not None and whole and qty != qty.to_integral_value():
        return f"Counted in whole {unit}: enter a whole number"
    return None


# --------------------------------------------------------------------------- vehicle stock


@bp.get("/vehicles")
@roles(*VEHICLE_VIEWERS)
def unit_list():
    conn = get_conn()
    statuses = queries.status_choices(conn)
    models = queries.model_choices(conn)
    colours = queries.colour_choices(conn)
    status = request.args.get("status", "current")
    branch_id, branch_arg = _branch_from(request.args.get("branch"), allow_all=True)
    model_id = _int_arg("model")
    filters = queries.UnitFilters(
        q=search_text().upper(),
        model_id=model_id if model_id in dict(models) else None,
        colour=request.args.get("colour", "") if request.args.get("colour") in colours else "",
        status=status if status in ("current", "all", *dict(statuses)) else "current",
        branch_id=branch_id,
        age=request.args.get("age", "") if request.args.get("age") in queries.AGE_BUCKETS else "",
    )
    rows, page = paged(lambda n, size: queries.search_units(conn, filters, n, size))
    return rows_or_page(
        "inventory/unit_list.html", "inventory/_unit_rows.html", "unit-results",
        rows=rows, page=page, f=filters, args=filters.as_args(branch_arg), branch_arg=branch_arg,
        statuses=statuses, models=models, colours=colours, branches=queries.branch_choices(conn),
        buckets=queries.AGE_BUCKETS)


@bp.get("/vehicles/ageing")
@roles(*VEHICLE_VIEWERS)
def ageing_report():
    conn = get_conn()
    branch_id, branch_arg = _branch_from(request.args.get("branch", "all"), allow_all=True)
    return render_template("inventory/ageing.html", report=queries.stock_ageing(conn, branch_id),
                           buckets=queries.AGE_BUCKETS, branch_arg=branch_arg,
                           branches=queries.branch_choices(conn), today=today_ist())


def _unit_or_404(unit_id: int):
    unit = queries.get_unit(get_conn(), unit_id)
    if unit is None:
        abort(404)
    return unit


@bp.get("/vehicles/<int:unit_id>")
@roles(*UNIT_VIEWERS)
def unit_detail(unit_id: int):
    conn = get_conn()
    unit = _unit_or_404(unit_id)
    return render_template(
        "inventory/unit_detail.html", unit=unit, timeline=queries.unit_status_timeline(conn, unit_id),
        batteries=queries.battery_history(conn, unit_id), receipt=queries.unit_receipt(conn, unit_id),
        transfers=queries.unit_transfers(conn, unit_id), at_my_branch=may_act_at(unit.branch_id),
        # Links into purchasing only for roles that may open those pages.
        link_grn=role_may_use(current_user.role, "procurement.grn_detail"),
        link_po=role_may_use(current_user.role, "procurement.po_detail"),
        may_manage=current_user.role in STOCK_MANAGERS, may_fit=current_user.role in BATTERY_FITTERS)


@bp.post("/vehicles/<int:unit_id>/status")
@roles(*STOCK_MANAGERS)
def unit_status(unit_id: int):
    """Mark a unit as a demo vehicle, or bring it back to stock."""
    unit = _unit_or_404(unit_id)
    to = request.form.get("to", "")
    if to not in ("DEMO", "IN_STOCK"):
        flash("Choose demo or back to stock.", "error")
    elif not may_act_at(unit.branch_id):
        flash(_not_your_branch(unit.branch_id), "error")
    else:
        _, problem = attempt(lambda: services.set_demo(get_conn(), unit_id, to == "DEMO"),
                             {"vehicle_unit_status_transition": "The unit's status changed meanwhile. "
                                                                "Look at it again."})
        if problem:
            flash(problem, "error")
        else:
            flash(f"{unit.vin} is {'now a demo vehicle' if to == 'DEMO' else 'back in stock'}.", "success")
    return redirect(url_for("inventory.unit_detail", unit_id=unit_id), 303)


@bp.route("/vehicles/<int:unit_id>/battery", methods=["GET", "POST"])
@roles(*BATTERY_FITTERS)
def unit_battery_swap(unit_id: int):
    """Take out the pack now fitted (as of today) and fit another, in one posting."""
    conn = get_conn()
    unit = _unit_or_404(unit_id)
    form = BatterySwapForm()
    if not may_act_at(unit.branch_id):
        form.form_errors.append(_not_your_branch(unit.branch_id))
    elif form.validate_on_submit():
        field_of = {name: message for name, (_, message) in BATTERY_ERRORS.items()}
        _, problem = attempt(lambda: services.swap_battery(
            conn, unit_id=unit_id, serial=form.serial.data, reason=form.reason.data, on=today_ist(),
            chemistry=form.chemistry.data, kwh=form.kwh.data), field_of)
        if problem is None:
            flash(f"Pack {form.serial.data} fitted in {unit.vin}.", "success")
            return redirect(url_for("inventory.unit_detail", unit_id=unit_id), 303)
        form.serial.errors = [*form.serial.errors, problem]
    status = 422 if form.errors or form.form_errors else 200
    return render_template("inventory/battery_swap.html", form=form, unit=unit,
                           batteries=queries.battery_history(conn, unit_id)), status


# --------------------------------------------------------------------------- parts stock


def _part_or_404(branch_id: int, part_id: int):
    part = queries.get_part_stock(get_conn(), branch_id, part_id)
    if part is None:
        abort(404)
    return part


@bp.get("/parts")
@roles(*PART_VIEWERS)
def part_stock_list():
    conn = get_conn()
    branch_id, branch_arg = _branch_from(request.args.get("branch"))
    q = search_text()
    show = request.args.get("show", "all")
    show = show if show in queries.PART_STOCK_SHOW else "all"
    rows, page = paged(lambda n, size: queries.search_part_stock(conn, branch_id, q, show, n, size))
    return rows_or_page(
        "inventory/part_stock_list.html", "inventory/_part_rows.html", "part-results",
        rows=rows, page=page, q=q, show=show, branch_id=branch_id, branch_arg=branch_arg,
        args={"branch": branch_arg, "q": q, "show": show}, branches=queries.branch_choices(conn),
        branch=queries.get_branch(conn, branch_id), totals=queries.branch_stock_totals(conn, branch_id),
        may_edit_bin=current_user.role in BIN_EDITORS and may_act_at(branch_id))


@bp.post("/parts/<int:part_id>/bin")
@roles(*BIN_EDITORS)
def part_stock_bin(part_id: int):
    """Name the shelf a part lives on at a branch (inline on the parts list)."""
    conn = get_conn()
    branch_id, _ = _branch_from(request.form.get("branch"))
    _part_or_404(branch_id, part_id)
    form = BinForm()
    problem = None
    if not may_act_at(branch_id):
        problem = _not_your_branch(branch_id)
    elif not form.validate_on_submit():
        problem = "; ".join(form.bin_location.errors) or "The form expired. Reload the page."
    else:
        queries.set_bin_location(conn, branch_id, part_id, form.bin_location.data)
    if request.htmx:
        return render_template("inventory/_part_row.html", row=queries.get_part_stock(conn, branch_id, part_id),
                               branch_id=branch_id, may_edit_bin=True, row_error=problem)
    flash(problem or "Bin saved.", "error" if problem else "success")
    return redirect(url_for("inventory.part_stock_list", branch=branch_id, q=request.form.get("q", "")), 303)


@bp.get("/parts/<int:part_id>")
@roles(*PART_VIEWERS)
def part_stock_card(part_id: int):
    """A part's stock card at a branch: every move with the balance after it."""
    conn = get_conn()
    branch_id, branch_arg = _branch_from(request.args.get("branch"))
    part = _part_or_404(branch_id, part_id)
    moves, page = paged(lambda n, size: queries.stock_card(conn, branch_id, part_id, n, size))
    return rows_or_page(
        "inventory/part_card.html", "inventory/_card_rows.html", "card-results",
        part=part, moves=moves, page=page, branch_id=branch_id, branch=queries.get_branch(conn, branch_id),
        branches=queries.branch_choices(conn), args={"part_id": part_id, "branch": branch_arg},
        may_adjust=current_user.role in STOCK_MANAGERS and may_act_at(branch_id))


@bp.route("/parts/<int:part_id>/adjust", methods=["GET", "POST"])
@roles(*STOCK_MANAGERS)
def part_stock_adjust(part_id: int):
    """A stock adjustment (damaged, lost, found): quantity up or down with a reason."""
    conn = get_conn()
    branch_id, _ = _branch_from(request.args.get("branch"))
    part = _part_or_404(branch_id, part_id)
    form = AdjustmentForm()
    if not may_act_at(branch_id):
        form.form_errors.append(_not_your_branch(branch_id))
    elif form.validate_on_submit():
        whole = _whole_units_problem(part.whole_units, part.unit, form.qty.data)
        if whole:
            form.qty.errors = [whole]
        else:
            _, problem = attempt(
                lambda: services.adjust_stock(conn, branch_id=branch_id, part_id=part_id, qty=form.qty.data,
                                              reason=form.reason.data, unit_cost=form.unit_cost.data),
                {name: message for name, (_, message) in ADJUSTMENT_ERRORS.items()})
            if problem is None:
                flash(f"Stock of {part.part_no} adjusted by {form.qty.data.normalize():f} {part.unit}.", "success")
                return redirect(url_for("inventory.part_stock_card", part_id=part_id, branch=branch_id), 303)
            form.qty.errors = [problem]
            part = queries.get_part_stock(conn, branch_id, part_id)  # what is in stock now, after the refusal
    status = 422 if form.errors or form.form_errors else 200
    return render_template("inventory/adjust_form.html", form=form, part=part, branch_id=branch_id,
                           branch=queries.get_branch(conn, branch_id)), status


def qr_svg(text: str) -> Markup:
    """The QR code of a part number as inline SVG (sized by CSS; no style attribute, CSP-safe)."""
    return Markup(segno.make(text, error="m", micro=False).svg_inline(border=2, omitsize=True, svgclass="qr",
                                                                      lineclass=None))


@bp.get("/parts/labels")
@roles(*PART_VIEWERS)
def part_stock_labels():
    """Part labels for an A4 label sheet (3 x 8), each with a QR code of the part number.

    Scanning a part number into the box (a USB scanner types it and Enter) adds that part to the
    sheet; anything else typed lists the matching parts to add."""
    conn = get_conn()
    branch_id, branch_arg = _branch_from(request.args.get("branch"))
    part_ids = list(dict.fromkeys(int(p) for p in request.args.getlist("part") if p.isdigit() and len(p) < 10))
    copies = _int_arg("copies") or 1
    copies = min(max(copies, 1), 24)
    q = search_text()
    base = {"branch": branch_arg, "copies": copies}
    matches = []
    if q:
        exact = queries.part_by_no(conn, q)
        if exact is not None:
            return redirect(_labels_url(base, [*part_ids, exact.part_id]), 303)
        matches = queries.parts_for_labels(conn, branch_id, q, "all", 20)
    parts = queries.parts_by_id_for_labels(conn, branch_id, part_ids)
    qr = {part.part_id: qr_svg(part.part_no) for part in parts}
    labels = [(part, qr[part.part_id]) for part in parts for _ in range(copies)][:LABELS_MAX]
    return render_template(
        "inventory/labels.html", parts=parts, sheets=[labels[i:i + LABELS_PER_SHEET]
                                                      for i in range(0, len(labels), LABELS_PER_SHEET)],
        label_count=len(labels), cut_short=len(parts) * copies > LABELS_MAX, copies=copies, q=q, matches=matches,
        branch_id=branch_id, branch_arg=branch_arg, branches=queries.branch_choices(conn), part_ids=part_ids,
        add_url=lambda pid: _labels_url(base, [*part_ids, pid]),
        remove_url=lambda pid: _labels_url(base, [p for p in part_ids if p != pid]),
        clear_url=_labels_url(base, []))


def _labels_url(base: dict, part_ids: list[int]) -> str:
    query = urlencode([*base.items(), *(("part", p) for p in dict.fromkeys(part_ids))])
    return f"{url_for('inventory.part_stock_labels')}?{query}"


# --------------------------------------------------------------------------- transfers


@bp.get("/transfers")
@roles(*TRANSFER_VIEWERS)
def transfer_list():
    conn = get_conn()
    branch_id, branch_arg = _branch_from(request.args.get("branch"))
    view = request.args.get("view", "in_transit")
    view = view if view in queries.TRANSFER_VIEWS else "in_transit"
    rows, page = paged(lambda n, size: queries.search_transfers(conn, branch_id, view, n, size))
    return rows_or_page(
        "inventory/transfer_list.html", "inventory/_transfer_rows.html", "transfer-results",
        rows=rows, page=page, view=view, branch_id=branch_id, branch=queries.get_branch(conn, branch_id),
        branches=queries.branch_choices(conn), args={"branch": branch_arg, "view": view},
        may_dispatch=current_user.role in STOCK_MANAGERS)


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
        whole = _whole_units_problem(part.whole_units, part.unit, line.qty.data)
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
@roles(*STOCK_MANAGERS)
def transfer_new():
    """Dispatch parts and vehicles to another branch."""
    conn = get_conn()
    form = _transfer_form()
    if request.method == "GET":
        vin = request.args.get("vin", "").strip().upper()
        if vin:
            form.vins.data = vin
        from_branch = _int_arg("from")
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
            form.from_branch_id.errors = [_not_your_branch(form.from_branch_id.data)]
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
    transfer = queries.get_transfer(get_conn(), transfer_id)
    if transfer is None:
        abort(404)
    return transfer


@bp.get("/transfers/<int:transfer_id>")
@roles(*TRANSFER_VIEWERS)
def transfer_detail(transfer_id: int):
    transfer = _transfer_or_404(transfer_id)
    lines = queries.transfer_lines(get_conn(), transfer_id)
    return render_template(
        "inventory/transfer_detail.html", transfer=transfer, lines=lines,
        part_value=sum((line.out_value for line in lines if line.out_value is not None), Decimal("0.00")),
        may_receive=(transfer.status == "DISPATCHED" and current_user.role in STOCK_MANAGERS
                     and may_act_at(transfer.to_branch_id)),
        may_print_invoice=may_open("billing.invoice_pdf") and current_user.branch_id == transfer.branch_id)


@bp.get("/transfers/<int:transfer_id>/challan.pdf")
@roles(*TRANSFER_VIEWERS)
def transfer_challan_pdf(transfer_id: int):
    """The delivery challan a transfer within one GSTIN travels with (a transfer to another GSTIN
    travels on its tax invoice instead)."""
    transfer = _transfer_or_404(transfer_id)
    if not transfer.on_challan:
        abort(404)
    conn = get_conn()
    lines = queries.transfer_lines(conn, transfer_id)
    pdf = render_pdf("inventory/transfer_challan_pdf.html", transfer=transfer, lines=lines,
                     total=sum((line.value for line in lines if line.value is not None), Decimal("0.00")),
                     sender=branch_for_print(conn, transfer.branch_id),
                     receiver=branch_for_print(conn, transfer.to_branch_id))
    return pdf_response(pdf, f"challan-{transfer.transfer_no}.pdf".replace("/", "-"))


@bp.post("/transfers/<int:transfer_id>/receive")
@roles(*STOCK_MANAGERS)
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


# --------------------------------------------------------------------------- physical counts


@bp.get("/counts")
@roles(*PART_VIEWERS)
def count_list():
    conn = get_conn()
    branch_id, branch_arg = _branch_from(request.args.get("branch"))
    rows, page = paged(lambda n, size: queries.list_counts(conn, branch_id, n, size))
    return rows_or_page(
        "inventory/count_list.html", "inventory/_count_list_rows.html", "count-results",
        rows=rows, page=page, branch_id=branch_id,
        branch=queries.get_branch(conn, branch_id), branches=queries.branch_choices(conn),
        args={"branch": branch_arg}, open_count_id=queries.open_count_id(conn, branch_id),
        may_start=current_user.role in STOCK_MANAGERS and may_act_at(branch_id))


@bp.post("/counts")
@roles(*STOCK_MANAGERS)
def count_start():
    """Start a count sheet: the system quantity of every part the branch holds, as of now."""
    conn = get_conn()
    branch_id, _ = _branch_from(request.form.get("branch"))
    if not may_act_at(branch_id):
        flash(_not_your_branch(branch_id), "error")
        return redirect(url_for("inventory.count_list", branch=branch_id), 303)
    result, problem = attempt(lambda: services.start_count(conn, branch_id),
                              {"stock_count_one_open_idx": "A count is already open at this branch: finish or "
                                                           "cancel it first."})
    if problem:
        flash(problem, "error")
        open_id = queries.open_count_id(conn, branch_id)
        if open_id:
            return redirect(url_for("inventory.count_detail", count_id=open_id), 303)
        return redirect(url_for("inventory.count_list", branch=branch_id), 303)
    count_id, count_no = result
    flash(f"Count {count_no} started. Enter what is on each shelf; the system quantity is as of now.", "success")
    return redirect(url_for("inventory.count_detail", count_id=count_id), 303)


def _count_or_404(count_id: int):
    count = queries.get_count(get_conn(), count_id)
    if count is None:
        abort(404)
    return count


@bp.get("/counts/<int:count_id>")
@roles(*PART_VIEWERS)
def count_detail(count_id: int):
    conn = get_conn()
    count = _count_or_404(count_id)
    q = search_text()
    view = request.args.get("view", "all")
    view = view if view in queries.COUNT_LINE_VIEWS else "all"
    rows, page = paged(lambda n, size: queries.count_lines(conn, count_id, q, view, n, size), COUNT_PAGE_SIZE)
    may_count = count.status == "OPEN" and current_user.role in COUNTERS and may_act_at(count.branch_id)
    context = {
        "count": count, "rows": rows, "page": page, "q": q, "view": view,
        "args": {"count_id": count_id, "q": q, "view": view}, "may_count": may_count,
        "variance_value": queries.count_variance_value(conn, count_id),
        "may_approve": count.status == "OPEN" and current_user.role in STOCK_MANAGERS and may_act_at(count.branch_id),
        "add_form": CountAddPartForm(formdata=None),
    }
    if request.htmx.target == "count-summary":  # refreshed after each counted quantity is saved
        response = current_app.make_response(render_template("inventory/_count_summary.html", **context))
        response.vary.update(("HX-Request", "HX-Target"))
        return response
    return rows_or_page("inventory/count_detail.html", "inventory/_count_rows.html", "count-lines", **context)


@bp.post("/counts/<int:count_id>/parts/<int:part_id>")
@roles(*COUNTERS)
def count_line(count_id: int, part_id: int):
    """Enter the counted quantity of one part (htmx, per row)."""
    conn = get_conn()
    count = _count_or_404(count_id)
    line = queries.count_line(conn, count_id, part_id)
    if line is None:
        abort(404)
    form = CountedForm()
    problem = None
    if not may_act_at(count.branch_id):
        problem = _not_your_branch(count.branch_id)
    elif not form.validate_on_submit():
        problem = "; ".join(form.counted_qty.errors) or "The form expired. Reload the page."
    else:
        problem = _whole_units_problem(line.whole_units, line.unit, form.counted_qty.data)
        if problem is None:
            _, problem = attempt(lambda: services.record_counted(conn, count_id, part_id, form.counted_qty.data))
    if request.htmx:
        response = current_app.make_response(render_template(
            "inventory/_count_row.html", row=queries.count_line(conn, count_id, part_id), count=count,
            may_count=True, row_error=problem, typed=request.form.get("counted_qty") if problem else None))
        if problem is None:
            response.headers["HX-Trigger"] = "count-changed"  # the sheet's totals refresh themselves
        return response
    flash(problem or f"Counted {line.part_no}.", "error" if problem else "success")
    return redirect(url_for("inventory.count_detail", count_id=count_id, q=request.form.get("q", "")), 303)


@bp.post("/counts/<int:count_id>/parts")
@roles(*COUNTERS)
def count_add_part(count_id: int):
    conn = get_conn()
    count = _count_or_404(count_id)
    form = CountAddPartForm()
    part = None
    if not may_act_at(count.branch_id):
        problem = _not_your_branch(count.branch_id)
    elif not form.validate_on_submit():
        problem = "; ".join(form.part_no.errors) or "The form expired. Reload the page."
    else:
        part = queries.part_by_no(conn, form.part_no.data)
        problem = None if part else f"No part with the number {form.part_no.data}."
        if part:
            _, problem = attempt(lambda: services.add_count_part(conn, count_id, part.part_id))
    if problem:
        flash(problem, "error")
        return redirect(url_for("inventory.count_detail", count_id=count_id), 303)
    flash(f"{part.part_no} is on the sheet: enter its count.", "success")
    return redirect(url_for("inventory.count_detail", count_id=count_id, q=part.part_no), 303)


@bp.post("/counts/<int:count_id>/approve")
@roles(*STOCK_MANAGERS)
def count_approve(count_id: int):
    """Approve: every variance becomes an ADJUSTMENT move, all in this one transaction."""
    count = _count_or_404(count_id)
    if not may_act_at(count.branch_id):
        flash(_not_your_branch(count.branch_id), "error")
    else:
        posted, problem = attempt(lambda: services.approve_count(get_conn(), count_id))
        if problem:
            flash(f"Not approved: {problem}", "error")
        else:
            flash(f"Count {count.count_no} approved: {posted} adjustment(s) posted.", "success")
    return redirect(url_for("inventory.count_detail", count_id=count_id), 303)


@bp.post("/counts/<int:count_id>/cancel")
@roles(*STOCK_MANAGERS)
def count_cancel(count_id: int):
    count = _count_or_404(count_id)
    if not may_act_at(count.branch_id):
        flash(_not_your_branch(count.branch_id), "error")
        return redirect(url_for("inventory.count_detail", count_id=count_id), 303)
    _, problem = attempt(lambda: services.cancel_count(get_conn(), count_id))
    flash(problem or f"Count {count.count_no} cancelled; stock is unchanged.", "error" if problem else "success")
    return redirect(url_for("inventory.count_list", branch=count.branch_id), 303)
