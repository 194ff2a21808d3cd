"""Physical counts of parts: a count sheet with the system quantity as of its start, counted
quantities entered per row, then approved (the variances become adjustments) or cancelled."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for

from ..db import get_conn
from ..pages import choice_arg, found_or_404, rows_or_page, search_text
from ..paging import paged
from ..security import allow, can
from . import bp, queries, services
from .forms import CountAddPartForm, CountedForm
from .view_helpers import attempt, branch_from, may_act_at, not_your_branch, whole_units_problem

COUNT_PAGE_SIZE = 50


# --------------------------------------------------------------------------- physical counts


@bp.get("/counts")
@allow("part.read")
def count_list():
    conn = get_conn()
    branch_id, branch_arg = branch_from(request.args.get("branch"))
    rows, page = paged(lambda n, size: queries.list_counts(conn, branch_id, n, size))
    return rows_or_page(
        "inventory/count_list.html", "inventory/_count_list_rows.html", "count-results",
        rows=rows, page=page, branch_id=branch_id,
        branch=queries.get_branch(conn, branch_id), branches=queries.branch_choices(conn),
        args={"branch": branch_arg}, open_count_id=queries.open_count_id(conn, branch_id),
        may_start=can("stock.manage") and may_act_at(branch_id))


@bp.post("/counts")
@allow("stock.manage")
def count_start():
    """Start a count sheet: the system quantity of every part the branch holds, as of now."""
    conn = get_conn()
    branch_id, _ = branch_from(request.form.get("branch"))
    if not may_act_at(branch_id):
        flash(not_your_branch(branch_id), "error")
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
    return found_or_404(queries.get_count(get_conn(), count_id))


@bp.get("/counts/<int:count_id>")
@allow("part.read")
def count_detail(count_id: int):
    conn = get_conn()
    count = _count_or_404(count_id)
    q = search_text()
    view = choice_arg("view", queries.COUNT_LINE_VIEWS, "all")
    rows, page = paged(lambda n, size: queries.count_lines(conn, count_id, q, view, n, size), COUNT_PAGE_SIZE)
    may_count = count.status == "OPEN" and can("stock.count") and may_act_at(count.branch_id)
    context = {
        "count": count, "rows": rows, "page": page, "q": q, "view": view,
        "args": {"count_id": count_id, "q": q, "view": view}, "may_count": may_count,
        "variance_value": queries.count_variance_value(conn, count_id),
        "may_approve": count.status == "OPEN" and can("stock.manage") and may_act_at(count.branch_id),
        "add_form": CountAddPartForm(formdata=None),
    }
    if request.htmx.target == "count-summary":  # refreshed after each counted quantity is saved
        response = current_app.make_response(render_template("inventory/_count_summary.html", **context))
        response.vary.update(("HX-Request", "HX-Target"))
        return response
    return rows_or_page("inventory/count_detail.html", "inventory/_count_rows.html", "count-lines", **context)


@bp.post("/counts/<int:count_id>/parts/<int:part_id>")
@allow("stock.count")
def count_line(count_id: int, part_id: int):
    """Enter the counted quantity of one part (htmx, per row)."""
    conn = get_conn()
    count = _count_or_404(count_id)
    line = found_or_404(queries.count_line(conn, count_id, part_id))
    form = CountedForm()
    problem = None
    if not may_act_at(count.branch_id):
        problem = not_your_branch(count.branch_id)
    elif not form.validate_on_submit():
        problem = "; ".join(form.counted_qty.errors) or "The form expired. Reload the page."
    else:
        problem = whole_units_problem(line.whole_units, line.unit, form.counted_qty.data)
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
@allow("stock.count")
def count_add_part(count_id: int):
    conn = get_conn()
    count = _count_or_404(count_id)
    form = CountAddPartForm()
    part = None
    if not may_act_at(count.branch_id):
        problem = not_your_branch(count.branch_id)
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
@allow("stock.manage")
def count_approve(count_id: int):
    """Approve: every variance becomes an ADJUSTMENT move, all in this one transaction."""
    count = _count_or_404(count_id)
    if not may_act_at(count.branch_id):
        flash(not_your_branch(count.branch_id), "error")
    else:
        posted, problem = attempt(lambda: services.approve_count(get_conn(), count_id))
        if problem:
            flash(f"Not approved: {problem}", "error")
        else:
            flash(f"Count {count.count_no} approved: {posted} adjustment(s) posted.", "success")
    return redirect(url_for("inventory.count_detail", count_id=count_id), 303)


@bp.post("/counts/<int:count_id>/cancel")
@allow("stock.manage")
def count_cancel(count_id: int):
    count = _count_or_404(count_id)
    if not may_act_at(count.branch_id):
        flash(not_your_branch(count.branch_id), "error")
        return redirect(url_for("inventory.count_detail", count_id=count_id), 303)
    _, problem = attempt(lambda: services.cancel_count(get_conn(), count_id))
    flash(problem or f"Count {count.count_no} cancelled; stock is unchanged.", "error" if problem else "success")
    return redirect(url_for("inventory.count_list", branch=count.branch_id), 303)
