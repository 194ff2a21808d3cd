"""Parts stock per branch: the list with bins, a part's stock card, adjustments (damaged, lost,
found) and QR part labels for an A4 sheet."""
from __future__ import annotations

from urllib.parse import urlencode

import segno
from flask import flash, redirect, render_template, request, url_for
from markupsafe import Markup

from ..db import get_conn
from ..pages import choice_arg, found_or_404, rows_or_page, search_text
from ..paging import paged
from ..security import allow, can
from . import bp, queries, services
from .forms import ADJUSTMENT_ERRORS, AdjustmentForm, BinForm
from .view_helpers import attempt, branch_from, int_arg, may_act_at, not_your_branch, whole_units_problem

LABELS_PER_SHEET = 24   # A4 sheet of 3 x 8 labels, 63.5 x 33.9 mm
LABELS_MAX = 10 * LABELS_PER_SHEET


# --------------------------------------------------------------------------- parts stock


def _part_or_404(branch_id: int, part_id: int):
    return found_or_404(queries.get_part_stock(get_conn(), branch_id, part_id))


@bp.get("/parts")
@allow("part.read")
def part_stock_list():
    conn = get_conn()
    branch_id, branch_arg = branch_from(request.args.get("branch"))
    q = search_text()
    show = choice_arg("show", queries.PART_STOCK_SHOW, "all")
    rows, page = paged(lambda n, size: queries.search_part_stock(conn, branch_id, q, show, n, size))
    return rows_or_page(
        "inventory/part_stock_list.html", "inventory/_part_rows.html", "part-results",
        rows=rows, page=page, q=q, show=show, branch_id=branch_id, branch_arg=branch_arg,
        args={"branch": branch_arg, "q": q, "show": show}, branches=queries.branch_choices(conn),
        branch=queries.get_branch(conn, branch_id), totals=queries.branch_stock_totals(conn, branch_id),
        may_edit_bin=can("bin.edit") and may_act_at(branch_id))


@bp.post("/parts/<int:part_id>/bin")
@allow("bin.edit")
def part_stock_bin(part_id: int):
    """Name the shelf a part lives on at a branch (inline on the parts list)."""
    conn = get_conn()
    branch_id, _ = branch_from(request.form.get("branch"))
    _part_or_404(branch_id, part_id)
    form = BinForm()
    problem = None
    if not may_act_at(branch_id):
        problem = not_your_branch(branch_id)
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
@allow("part.read")
def part_stock_card(part_id: int):
    """A part's stock card at a branch: every move with the balance after it."""
    conn = get_conn()
    branch_id, branch_arg = branch_from(request.args.get("branch"))
    part = _part_or_404(branch_id, part_id)
    moves, page = paged(lambda n, size: queries.stock_card(conn, branch_id, part_id, n, size))
    return rows_or_page(
        "inventory/part_card.html", "inventory/_card_rows.html", "card-results",
        part=part, moves=moves, page=page, branch_id=branch_id, branch=queries.get_branch(conn, branch_id),
        branches=queries.branch_choices(conn), args={"part_id": part_id, "branch": branch_arg},
        may_adjust=can("stock.manage") and may_act_at(branch_id))


@bp.route("/parts/<int:part_id>/adjust", methods=["GET", "POST"])
@allow("stock.manage")
def part_stock_adjust(part_id: int):
    """A stock adjustment (damaged, lost, found): quantity up or down with a reason."""
    conn = get_conn()
    branch_id, _ = branch_from(request.args.get("branch"))
    part = _part_or_404(branch_id, part_id)
    form = AdjustmentForm()
    if not may_act_at(branch_id):
        form.form_errors.append(not_your_branch(branch_id))
    elif form.validate_on_submit():
        whole = whole_units_problem(part.whole_units, part.unit, form.qty.data)
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
@allow("part.read")
def part_stock_labels():
    """Part labels for an A4 label sheet (3 x 8), each with a QR code of the part number.

    Scanning a part number into the box (a USB scanner types it and Enter) adds that part to the
    sheet; anything else typed lists the matching parts to add."""
    conn = get_conn()
    branch_id, branch_arg = branch_from(request.args.get("branch"))
    part_ids = list(dict.fromkeys(int(p) for p in request.args.getlist("part") if p.isdigit() and len(p) < 10))
    copies = int_arg("copies") or 1
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
