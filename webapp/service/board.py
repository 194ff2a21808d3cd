"""The workshop board: every open job card of the branch by state, how long each has been in its
state and whether the promised time is at risk; a tap moves a card to an allowed next state. The
board refreshes itself every 20 seconds (htmx) without a full reload; a technician may show only
their own jobs.

Who: reads workshop.read; moves jobcard.work (a move about the customer's estimate: jobcard.manage)."""
from __future__ import annotations

from datetime import timedelta

from flask import flash, request, url_for
from flask_login import current_user

from ..db import get_conn
from ..errors import redirect_response
from ..formatting import ddmmyyyy_hhmm
from ..forms import save_or_field_error
from ..pages import found_or_404, rows_or_page
from ..security import allow, can, may_open
from . import bp, queries
from .forms import JOB_CARD_MESSAGES, SERVICE_TYPE_LABELS, MoveForm

BOARD = "board"
# A column shows its oldest cards (the ones most likely late) and how many it has; "show all" opens one
# column in full. A 768 px tablet shows about five tiles of a column on its screen, and a column of
# seventy tiles is read by nobody; drawing them all also made the board's page some 650 kB on a busy day.
PER_COLUMN = 8
AT_RISK = timedelta(hours=1)   # promised within the hour and not ready: at risk
FAR_AHEAD = timedelta(days=2)


def since(delta: timedelta) -> str:
    """'45 min', '3 h 05 min', '2 d 4 h'."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


def promise(card) -> tuple[str | None, str | None]:
    """(how the promised time stands: 'late', 'at-risk' or None, a short text)."""
    if card["promised_at"] is None:
        return None, None
    left = card["promised_at"] - card["now"]
    if card["state"] == "READY":
        return None, "ready"
    if left < timedelta(0):
        return "late", f"late by {since(-left)}"
    if left < AT_RISK:
        return "at-risk", f"due in {since(left)}"
    if left > FAR_AHEAD:   # promised for another day: the day and time say more than a count of days
        return None, f"due {ddmmyyyy_hhmm(card['promised_at'])}"
    return None, f"due in {since(left)}"


def board_context(conn, mine: bool, whole: str | None = None) -> dict:
    """The columns: each open state with its oldest PER_COLUMN cards (all of them for ``whole``)."""
    cards = queries.board(conn, current_user.branch_id, current_user.staff_id if mine else None,
                          per_state=PER_COLUMN, whole_state=whole)
    manage = can("jobcard.manage")
    work = can("jobcard.work")
    columns, by_state, count = [], {}, 0
    for state in queries.board_states(conn):
        if not state["is_open"]:
            continue
        moves = [t for t in state["moves"] if t["by_tap"] and work and (manage or not t["advisor_only"])]
        column = {"state": state["state"], "label": state["label"], "cards": [], "count": 0, "moves": moves,
                  "whole": whole == state["state"]}
        by_state[state["state"]] = column
        columns.append(column)
    for card in cards:
        column = by_state.get(card["state"])
        if column is None:
            continue
        if not column["cards"]:
            column["count"] = card["in_state_count"]
            count += card["in_state_count"]
        risk, promised = promise(card)
        column["cards"].append({**card, "in_state": since(card["now"] - card["state_changed_at"]), "risk": risk,
                                "promised": promised, "moves": column["moves"],
                                "kind": SERVICE_TYPE_LABELS.get(card["service_type"], card["service_type"])})
    return {"columns": columns, "mine": mine, "whole": whole if whole in by_state else None, "count": count,
            "board_id": BOARD, "per_column": PER_COLUMN}


def _whole() -> str | None:
    """The column asked for in full (?state=READY), if any."""
    return request.args.get("state") or None


@bp.get("/board")
@allow("workshop.read")
def board():
    conn = get_conn()
    mine = request.args.get("mine") == "1"
    return rows_or_page("service/board.html", "service/_board.html", BOARD, **board_context(conn, mine, _whole()),
                        may_arrive=may_open("service.arrival"))


@bp.post("/job-cards/<int:job_card_id>/move")
@allow("jobcard.work")
def job_card_move(job_card_id: int):
    """Move a card one step (from the board or its page). A move drawn on a board that is already
    out of date (someone moved the card meanwhile) changes nothing and says so."""
    conn = get_conn()
    card = found_or_404(queries.get_job_card(conn, job_card_id))
    form = MoveForm()
    problem = None
    allowed = {t["to_state"]: t for t in queries.transitions(conn) if t["from_state"] == card["state"] and t["by_tap"]}
    if not form.validate_on_submit():
        problem = "The board was out of date: try again"
    elif form.from_state.data != card["state"]:
        problem = f"Job card {card['job_card_no']} had already moved to {card['state_label']}"
    elif form.to_state.data not in allowed:
        problem = f"Job card {card['job_card_no']} cannot move there from {card['state_label']}"
    elif allowed[form.to_state.data]["advisor_only"] and not can("jobcard.manage"):
        problem = "The service advisor moves a card about its estimate"
    else:
        moved, saved = save_or_field_error(conn, form, JOB_CARD_MESSAGES, lambda: queries.move_job_card(
            conn, job_card_id, form.from_state.data, form.to_state.data))
        if not saved:
            problem = "; ".join(form.form_errors)
        elif not moved:
            problem = f"Job card {card['job_card_no']} had already moved"
    if request.htmx.target == BOARD:
        context = board_context(conn, request.args.get("mine") == "1", _whole())
        context["problem"] = problem
        return rows_or_page("service/board.html", "service/_board.html", BOARD, **context,
                            may_arrive=may_open("service.arrival"))
    if problem:
        flash(problem, "error")
    else:
        flash(f"Job card {card['job_card_no']}: {allowed[form.to_state.data]['to_label']}.", "success")
    return redirect_response(url_for("service.job_card_detail", job_card_id=job_card_id))
