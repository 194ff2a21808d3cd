"""Parts on a job card, the requests purchasing sees, and a technician's own jobs.

- Parts: each part line with what it asks for, what is issued, and the branch's stock. An issue
  takes the part out of stock in the same transaction (service.part_issue's trigger writes the
  ISSUE_JOB move; the ledger refuses more than the branch holds and prices it at the weighted
  average); a return puts unused parts back (RETURN_JOB) at the cost they left at. A part not in
  stock raises a parts request for what is missing, and the card can wait for parts.
- Parts requests: the branch's open and ordered requests, moved on by purchasing or the counter
  (parts_request.manage: ordered, received, cancelled).
- My jobs: the lines assigned to the technician logged in, on open cards, without prices; each
  is marked done with one tap (the database dates it and names who did it).

Who: the parts page is read by the workshop (workshop.read; it shows no prices); parts are issued
and returned by the counter (jobcard.manage); lines are marked done by the workshop floor
(jobcard.work), a technician only their own."""
from __future__ import annotations

from flask import flash, render_template, request, url_for
from flask_login import current_user

from ..db import get_conn
from ..documents import new_key, register_document
from ..errors import redirect_response
from ..formatting import today_ist
from ..forms import save_or_field_error
from ..pages import found_or_404
from ..security import allow, can
from ..submit_once import earlier_document, post_once
from . import bp, queries
from . import work_queries as wq
from .work_forms import (
    ISSUE_MESSAGES,
    LINE_MESSAGES,
    REQUEST_MESSAGES,
    REQUEST_MOVES,
    REQUEST_STATUS_LABELS,
    STATUS_LABELS,
    IssueForm,
    LineForm,
    RequestStatusForm,
)

register_document("part_issue", "service.part_issue", "issue_id")

CLOSED = ("DELIVERED", "CANCELLED")


def _qty(value) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _parts_page(conn, card, failed: dict | None = None, status: int = 200):
    """The parts page; ``failed``: {"line": id, "kind": "ISSUE"/"RETURN", "form": IssueForm} drawn
    with its errors and what was typed."""
    lines = [ln for ln in wq.lines(conn, card["job_card_id"], card["branch_id"], today_ist()) if ln["part_id"]]
    requests = wq.card_requests(conn, card["job_card_id"])
    in_hand = {r["job_line_id"] for r in requests if r["status"] in ("OPEN", "ORDERED")}
    is_open = card["state"] not in CLOSED
    return render_template(
        "service/parts.html", card=card, lines=lines, requests=requests, in_hand=in_hand,
        issues=wq.card_issues(conn, card["job_card_id"]), failed=failed or {}, is_open=is_open,
        may_issue=can("jobcard.manage") and is_open, status_labels=STATUS_LABELS,
        request_labels=REQUEST_STATUS_LABELS, new_key=new_key, qty=_qty,
        may_wait=can("jobcard.work") and card["state"] == "IN_PROGRESS" and bool(in_hand)), status


@bp.get("/job-cards/<int:job_card_id>/parts")
@allow("workshop.read")
def parts(job_card_id: int):
    conn = get_conn()
    return _parts_page(conn, found_or_404(queries.get_job_card(conn, job_card_id)))


def _move_parts(job_card_id: int, kind: str):
    conn = get_conn()
    card = found_or_404(queries.get_job_card(conn, job_card_id))
    form = IssueForm()
    back = redirect_response(url_for("service.parts", job_card_id=job_card_id) + "#parts")
    if request.method == "POST" and earlier_document(conn, "part_issue", form.key.data):
        return back   # sent again: the first sending moved the parts
    line = wq.line(conn, form.job_line_id.data) if isinstance(form.job_line_id.data, int) else None
    if line is None or line["job_card_id"] != job_card_id or line["part_id"] is None:
        flash("Choose a part line of this job card.", "error")
        return back
    if card["state"] in CLOSED:
        form.form_errors.append(f"Job card {card['job_card_no']} is closed: parts are not issued to it or returned from it")
    elif form.validate_on_submit():
        _, saved = post_once(conn, form, "part_issue", ISSUE_MESSAGES, lambda: wq.issue_parts(
            conn, job_card_id, line["job_line_id"], kind=kind, qty=form.qty.data, key=form.key.data))
        if saved:
            flash(f"{_qty(form.qty.data)} {'issued to' if kind == 'ISSUE' else 'returned to stock from'} "
                  f"job card {card['job_card_no']}.", "success")
            return back
        if kind == "ISSUE" and "Not that many in stock" in form.qty.errors:
            _short_of_stock(conn, card, line, form)
    return _parts_page(conn, card, {"line": line["job_line_id"], "kind": kind, "form": form}, 422)


def _short_of_stock(conn, card, line, form: IssueForm) -> None:
    """The part is not in stock (or not enough of it): say how many are, and ask purchasing for the
    rest (one request in hand per line)."""
    have = wq.in_stock(conn, card["branch_id"], line["part_id"])
    missing = form.qty.data - have
    form.qty.errors = [f"Only {_qty(have)} in stock" if have else "Not in stock"]
    requested, saved = save_or_field_error(conn, form, REQUEST_MESSAGES, lambda: wq.request_parts(
        conn, card["job_card_id"], line["job_line_id"], missing))
    if saved and requested:
        form.qty.errors.append(f"A parts request for {_qty(missing)} was sent to purchasing")
    elif saved:
        form.qty.errors.append("A parts request for this line is already with purchasing")


@bp.post("/job-cards/<int:job_card_id>/parts/issue")
@allow("jobcard.manage")
def parts_issue(job_card_id: int):
    return _move_parts(job_card_id, "ISSUE")


@bp.post("/job-cards/<int:job_card_id>/parts/return")
@allow("jobcard.manage")
def parts_return(job_card_id: int):
    return _move_parts(job_card_id, "RETURN")


# --------------------------------------------------------------------------- parts requests


REQUEST_VIEWS = {"open": ["OPEN", "ORDERED"], "received": ["RECEIVED"], "cancelled": ["CANCELLED"]}


@bp.get("/parts-requests")
@allow("parts_request.manage")
def parts_requests():
    conn = get_conn()
    view = request.args.get("show", "open")
    if view not in REQUEST_VIEWS:
        view = "open"
    return render_template("service/parts_requests.html", rows=wq.parts_requests(conn, current_user.branch_id,
                                                                                   REQUEST_VIEWS[view]),
                           view=view, labels=REQUEST_STATUS_LABELS, moves=REQUEST_MOVES, qty=_qty)


@bp.post("/parts-requests/<int:request_id>/status")
@allow("parts_request.manage")
def parts_request_status(request_id: int):
    conn = get_conn()
    found = found_or_404(wq.get_request(conn, request_id))
    form = RequestStatusForm()
    allowed = dict(REQUEST_MOVES.get(found["status"], []))
    problem = None
    if not form.validate_on_submit():
        problem = "The list was out of date: try again"
    elif form.from_status.data != found["status"]:
        problem = f"The request is already {REQUEST_STATUS_LABELS[found['status']].lower()}"
    elif form.to_status.data not in allowed:
        problem = "The request cannot move there from where it is now"
    else:
        moved, saved = save_or_field_error(conn, form, REQUEST_MESSAGES, lambda: wq.set_request_status(
            conn, request_id, form.from_status.data, form.to_status.data))
        if not saved:
            problem = "; ".join(form.form_errors)
        elif not moved:
            problem = "The request had already moved"
    if problem:
        flash(problem, "error")
    else:
        flash(f"Request for {found['part_no']} ({found['job_card_no']}): "
              f"{REQUEST_STATUS_LABELS[form.to_status.data].lower()}.", "success")
    return redirect_response(url_for("service.parts_requests"))


# --------------------------------------------------------------------------- my jobs


@bp.get("/my-jobs")
@allow("jobcard.work")
def my_jobs():
    conn = get_conn()
    return render_template("service/my_jobs.html", rows=wq.my_lines(conn, current_user.staff_id),
                           status_labels=STATUS_LABELS, qty=_qty)


@bp.post("/job-lines/<int:job_line_id>/done")
@allow("jobcard.work")
def line_done(job_line_id: int):
    """A line's work is done. A technician marks only their own lines; the counter any."""
    conn = get_conn()
    line = found_or_404(wq.line(conn, job_line_id))
    back = request.form.get("back") == "card"
    target = (url_for("service.job_card_detail", job_card_id=line["job_card_id"]) if back
              else url_for("service.my_jobs"))
    if not can("jobcard.manage") and line["technician_id"] != current_user.staff_id:
        flash("This line is another technician's.", "error")
        return redirect_response(target)
    form = LineForm()   # for the database's refusals
    problem = None
    if line["card_state"] in CLOSED:
        problem = f"Job card {line['job_card_no']} is closed"
    elif line["status"] == "DECLINED":
        problem = "The customer declined this line"
    else:
        done, saved = save_or_field_error(conn, form, LINE_MESSAGES, lambda: wq.mark_done(conn, job_line_id))
        if not saved:
            problem = "; ".join(form.form_errors) or "The line could not be marked done"
    flash(problem or f"Done: line on {line['job_card_no']}.", "error" if problem else "success")
    return redirect_response(target)

