"""Login, logout, switch user, first-run setup and "my profile"."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from itsdangerous import BadSignature, URLSafeSerializer

from ..db import get_conn, set_actor
from ..errors import FORM_NOT_SAVED, FORM_NOT_SAVED_MESSAGE, redirect_response
from ..forms import save_or_field_error
from ..master import api as master_api
from ..master.api import BRANCH_ERRORS, STAFF_ERRORS
from ..security import allow, hash_pin, pin_min_length, pin_policy_problem, public, verify_pin
from ..sessions import client_addr, user_agent
from ..users import StaffUser
from . import bp, queries
from .forms import ChangePinForm, LoginForm, SetupForm
from .services import attempt_login, refusal_before_check, wrong_pin

RECENT_COOKIE = "erp_recent_staff"


def _recent_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="recent-staff")


def _recent_codes() -> list[str]:
    """Staff codes that logged in on this terminal lately (for tap-your-name tiles)."""
    raw = request.cookies.get(RECENT_COOKIE)
    if not raw:
        return []
    try:
        codes = _recent_serializer().loads(raw)
    except BadSignature:
        return []
    return [c for c in codes if isinstance(c, str)][: current_app.config["LOGIN_RECENT_STAFF"]]


def _safe_next(target: str | None) -> str | None:
    """Only paths on this server: never an open redirect to another site."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("dashboard.home"))
    form = LoginForm(next=request.args.get("next"))
    status = 200
    if form.validate_on_submit():
        conn = get_conn()
        result = attempt_login(conn, form.staff_code.data, form.pin.data, client_addr(request), user_agent(request))
        if result.staff:
            form_lost = session.get(FORM_NOT_SAVED)
            session.start_for(result.staff)  # new session id: no fixation
            if form_lost:  # a form was refused for want of a login: the person goes back to enter it again
                flash(FORM_NOT_SAVED_MESSAGE, "warn")
            login_user(StaffUser(result.staff))
            queries.purge_expired_sessions(conn, current_app.config["SESSION_IDLE_MINUTES"],
                                           current_app.config["SESSION_MAX_HOURS"])
            queries.purge_login_counters(conn)
            target = _safe_next(form.next.data) or url_for("dashboard.home")
            response = redirect(target, 303)
            codes = [result.staff["staff_code"], *[c for c in _recent_codes() if c != result.staff["staff_code"]]]
            response.set_cookie(RECENT_COOKIE, _recent_serializer().dumps(codes[:8]), max_age=90 * 86400,
                                httponly=True, samesite="Lax", secure=request.is_secure)
            return response
        form.pin.errors = [result.message]
        form.pin.data = ""
        status = result.status  # 401, or 429 while this address must wait
    elif form.errors:
        status = 422
    recent = queries.recent_staff(get_conn(), _recent_codes())
    return render_template("auth/login.html", form=form, recent=recent), status


def _end_session(event: str):
    conn = get_conn()
    queries.audit_event(conn, event, current_user.staff_id, {"staff_code": current_user.staff_code})
    logout_user()
    session.start_for(None)


@bp.post("/logout")
@allow("own.session")
def logout():
    name = current_user.name
    _end_session("LOGOUT")
    flash(f"{name} logged out.", "info")
    return redirect_response(url_for("auth.login"))


@bp.post("/switch-user")
@allow("own.session")
def switch_user():
    """Shared terminal: end this session and show the login with the recent names."""
    name = current_user.name
    _end_session("SWITCH_USER")
    flash(f"{name} logged out. Next person: tap your name or type your staff code.", "info")
    return redirect_response(url_for("auth.login"))


@bp.route("/setup", methods=["GET", "POST"])
@public
def setup():
    """First run only: the showroom profile and the first administrator."""
    conn = get_conn()
    if queries.any_staff_exists(conn):
        return redirect(url_for("auth.login"))
    form = SetupForm(data={"branch_code": "MAIN", "admin_code": "ADMIN"})  # data, not access
    if form.validate_on_submit() and _pin_allowed(form.pin, "ADMIN", form.admin_code.data):  # data, not access
        queries.lock_setup(conn)
        if queries.any_staff_exists(conn):  # someone finished the wizard a moment ago
            return redirect(url_for("auth.login"))
        set_actor(conn, None, client_addr(request), user_agent(request))
        wizard = conn.begin_nested()  # branch and administrator are saved together or not at all
        branch_id, saved = save_or_field_error(conn, form, BRANCH_ERRORS,
                                               lambda: master_api.insert_branch(conn, form.data))
        if saved:
            admin = {"staff_code": form.admin_code.data, "name": form.admin_name.data, "designation": "ADMIN",  # data, not access
                     "branch_id": branch_id}
            staff_errors = {k: ("admin_code" if f == "staff_code" else f, m) for k, (f, m) in STAFF_ERRORS.items()}
            _, saved = save_or_field_error(
                conn, form, staff_errors,
                lambda: master_api.insert_staff(conn, admin, hash_pin(form.pin.data), must_change_pin=False))
        if saved:
            wizard.commit()
            current_app.extensions["setup_done"] = True
            flash("The showroom is set up. Log in as the administrator to add your staff.", "success")
            return redirect(url_for("auth.login"), 303)
        wizard.rollback()
    return render_template("auth/setup.html", form=form), 422 if form.errors else 200


@bp.get("/profile")
@allow("own.session")
def profile():
    staff = master_api.get_staff(get_conn(), current_user.staff_id)
    return render_template("auth/profile.html", staff=staff, form=ChangePinForm())


@bp.route("/profile/pin", methods=["GET", "POST"])
@allow("own.session")
def change_pin():
    """Own PIN change (also the forced first-login one). A wrong current PIN counts like a wrong PIN at
    the login: toward the code's lockout at this terminal and the terminal's delays, and audited."""
    form = ChangePinForm()
    conn = get_conn()
    status = 200
    if form.validate_on_submit():
        owner = queries.pin_owner(conn, current_user.staff_id)
        addr = client_addr(request)
        refused = refusal_before_check(conn, current_user.staff_code, form.current_pin.data, addr,
                                       current_user.staff_id, event="CHANGE_PIN_FAILED")
        if refused is None and not verify_pin(owner.pin_hash, form.current_pin.data):
            refused = wrong_pin(conn, current_user.staff_code, addr, current_user.staff_id, "CHANGE_PIN_FAILED",
                                "wrong current PIN", wrong_words="That is not your current PIN.")
        if refused is not None and refused.locked:
            # Someone is guessing at an unlocked terminal: the session ends, and the code stays
            # locked at this terminal until the lock runs out or an administrator resets the PIN.
            _end_session("LOGOUT")
            flash(refused.message, "error")
            return redirect_response(url_for("auth.login"))
        if refused is not None:
            form.current_pin.errors = [refused.message]
            status = refused.status if refused.status == 429 else 422
        elif form.pin.data == form.current_pin.data:
            form.pin.errors = ["Choose a PIN different from the current one"]
        elif _pin_allowed(form.pin, owner.designation, owner.staff_code, owner.phone):
            queries.clear_code_failures(conn, current_user.staff_code, addr)
            master_api.set_pin(conn, current_user.staff_id, hash_pin(form.pin.data), must_change=False)
            queries.end_other_sessions(conn, current_user.staff_id, session.session_id)
            queries.audit_event(conn, "PIN_CHANGED", current_user.staff_id, {"staff_code": current_user.staff_code})
            flash("Your PIN is changed. Other devices where you were logged in are logged out.", "success")
            return redirect(url_for("dashboard.home"), 303)
    if form.errors and status == 200:
        status = 422
    return (render_template("auth/change_pin.html", form=form, min_digits=pin_min_length(current_user.role)),
            status)


def _pin_allowed(field, role: str, staff_code: str | None, phone: str | None = None) -> bool:
    """The PIN rules for this person (length for the role, no guessable PIN); the reason goes next to the field."""
    problem = pin_policy_problem(field.data, role, staff_code, phone)
    if problem:
        field.errors = [*field.errors, problem]
        return False
    return True


@bp.post("/profile/sessions/end-others")
@allow("own.session")
def end_other_sessions():
    ended = queries.end_other_sessions(get_conn(), current_user.staff_id, session.session_id)
    flash(f"Logged out of {ended} other session{'s' if ended != 1 else ''}.", "info")
    return redirect(url_for("auth.profile"), 303)
