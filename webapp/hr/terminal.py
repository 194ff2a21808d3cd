"""The punching terminal: a browser a MANAGER enabled for the branch, where staff punch in and out with
their staff code and PIN (the login's keypad, PIN check, slow hash, lockout and throttle), with no session.

How a terminal is known: enabling one stores a row (hr.terminal: branch, name, who enabled it) holding the
SHA-256 of a random token, and gives the browser a cookie signed with the server's secret carrying the
terminal's id, its branch and that token. Signed, it cannot be made up or moved to another branch; the
token is checked against the row at every punch, so a manager revokes a lost or stolen tablet at once from
any other browser. An address would not do: the showroom's LAN hands addresses out afresh, and tablets
behind one Wi-Fi router share one. Nobody stays logged in on the shared browser: each punch checks the PIN
and writes the punch with the server's time, the terminal and the person as the actor of the audit row.
"""
from __future__ import annotations

import secrets

from flask import abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeSerializer

from ..auth.api import check_pin_at_terminal
from ..db import get_conn, set_actor
from ..errors import redirect_response
from ..formatting import ddmmyyyy_hhmm
from ..forms import save_or_field_error
from ..security import allow, public
from ..sessions import client_addr, user_agent
from . import bp, queries
from .forms import CONSTRAINT_MESSAGES, PunchForm, TerminalForm

COOKIE = "erp_terminal"
COOKIE_YEARS = 5
PUNCH_MESSAGES = {**CONSTRAINT_MESSAGES,
                  "punch_staff_id_fkey": ("staff_code", "Your employment details are not recorded yet: ask the manager")}


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="hr-terminal")


def terminal_cookie() -> tuple[int, int, str] | None:
    """(terminal id, branch id, token) from this browser's signed cookie, or None."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        value = _serializer().loads(raw)
    except BadSignature:
        return None
    if (isinstance(value, list) and len(value) == 3 and isinstance(value[0], int) and isinstance(value[1], int)
            and isinstance(value[2], str)):
        return value[0], value[1], value[2]
    return None


def _this_terminal(conn):
    """The enabled terminal this browser is (seen under its own branch's policy), or None."""
    cookie = terminal_cookie()
    if cookie is None:
        return None
    terminal_id, branch_id, token = cookie
    set_actor(conn, current_user.staff_id if current_user.is_authenticated else None, client_addr(request),
              user_agent(request), branch_id=branch_id)
    return queries.terminal_for(conn, terminal_id, token)


@bp.route("/terminal", methods=["GET", "POST"])
@public
def punch():
    """Punch in or out: staff code, PIN, In or Out. Two punches of the same kind in a row, a punch by
    someone who left, a wrong PIN: each refused with the reason, nothing written but the failure count."""
    conn = get_conn()
    terminal = _this_terminal(conn)
    if terminal is None:
        return render_template("hr/terminal.html", terminal=None, form=None), 200 if request.method == "GET" else 409
    form = PunchForm()
    status = 200
    if form.validate_on_submit():
        addr, agent = client_addr(request), user_agent(request)
        staff, result = check_pin_at_terminal(conn, form.staff_code.data, form.pin.data, addr, agent)
        if staff is None:
            form.pin.errors = [result.message]
            status = result.status
        else:
            # The punch's actor is the person; the branch is the terminal's, under its policy.
            set_actor(conn, staff.staff_id, addr, agent, branch_id=terminal["branch_id"])
            row, saved = save_or_field_error(conn, form, PUNCH_MESSAGES, lambda: queries.add_punch(
                conn, branch_id=terminal["branch_id"], staff_id=staff.staff_id, kind=form.kind.data,
                terminal_id=terminal["terminal_id"]))
            if saved:
                flash(f"{staff.name}: {'in' if form.kind.data == 'IN' else 'out'} at "
                      f"{ddmmyyyy_hhmm(row.punched_at)[-5:]}. Thank you.", "success")
                return redirect(url_for("hr.punch"), 303)
            status = 422
    elif request.method == "POST":
        status = 422
    form.pin.data = ""
    return render_template("hr/terminal.html", terminal=terminal, form=form), status


@bp.route("/terminal/setup", methods=["GET", "POST"])
@allow("terminal.manage")
def terminal_setup():
    """Enable this browser as the branch's punching terminal (then log out: it needs no session)."""
    conn = get_conn()
    this = _this_terminal(conn)
    set_actor(conn, current_user.staff_id, client_addr(request), user_agent(request), branch_id=current_user.branch_id)
    form = TerminalForm()
    if form.validate_on_submit():
        token = secrets.token_urlsafe(32)
        terminal_id, saved = save_or_field_error(conn, form, CONSTRAINT_MESSAGES, lambda: queries.add_terminal(
            conn, current_user.branch_id, form.name.data, token, current_user.staff_id))
        if saved:
            flash(f"This browser is now the punching terminal “{form.name.data}”. Log out and leave it on "
                  "the punching screen.", "success")
            response = make_response(redirect(url_for("hr.punch"), 303))
            response.set_cookie(COOKIE, _serializer().dumps([terminal_id, current_user.branch_id, token]),
                                max_age=COOKIE_YEARS * 365 * 86400, httponly=True, samesite="Lax",
                                secure=request.is_secure, path="/hr/terminal")
            return response
    return render_template("hr/terminal_setup.html", form=form, this=this,
                           terminals=queries.terminals(conn, current_user.branch_id)), 422 if form.errors else 200


@bp.post("/terminals/<int:terminal_id>/revoke")
@allow("terminal.manage")
def terminal_revoke(terminal_id: int):
    conn = get_conn()
    if not queries.revoke_terminal(conn, terminal_id):
        abort(404)
    flash("The terminal is switched off: it takes no more punches.", "info")
    return redirect_response(url_for("hr.terminal_setup"))
