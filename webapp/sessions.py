"""Server-side sessions in PostgreSQL (master.staff_session).

The cookie holds a random token only; the row is found by the token's SHA-256.
Reading the session happens in the request's own transaction and also tells the
audit triggers who is acting, and the branch policies (sql/0014) which branch's rows
the request may see: the staff member's own, every branch for an ADMIN. Writing it
happens in ``persist`` just before the request commits, so a session change and the
work of the request land together.
"""
from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa
from flask import Flask, Request, Response, g
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from .db import DatabaseUnavailable, get_conn

COOKIE_NAME = "erp_session"
# Before anyone logs in there is nothing worth a row: what an anonymous visitor's session holds
# (the login form's CSRF secret, a "logged out" message) travels in this signed cookie instead,
# so opening the login page never writes to the database.
ANON_COOKIE_NAME = "erp_anon"
# Paths served without touching the database (no session needed).
STATELESS_PREFIXES = ("/static/", "/healthz")

LOAD_SQL = sa.text(
    """
    SELECT s.session_id, s.data, s.last_seen_at < now() - interval '1 minute' AS stale,
           st.staff_id, st.staff_code, st.name, st.designation, st.branch_id, st.must_change_pin,
           coalesce(b.trade_name, b.legal_name) AS branch_name, b.branch_code,
           set_config('erp.staff_id', coalesce(st.staff_id::text, ''), true),
           set_config('erp.branch_id', coalesce(st.branch_id::text, ''), true),
           set_config('erp.all_branches', CASE WHEN master.works_across_branches(st.staff_id) THEN 'on' ELSE '' END,
                      true),
           set_config('erp.client_addr', :addr, true),
           set_config('erp.user_agent', :ua, true)
      FROM master.staff_session s
      LEFT JOIN master.staff st ON st.staff_id = s.staff_id AND st.is_active
      LEFT JOIN master.branch b ON b.branch_id = st.branch_id
     WHERE s.token_hash = :token_hash
       AND s.created_at > now() - make_interval(hours => :max_hours)
       AND (s.staff_id IS NULL OR s.last_seen_at > now() - make_interval(mins => :idle_minutes))
    """
)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def client_addr(request: Request) -> str:
    return (request.remote_addr or "")[:64]


def user_agent(request: Request) -> str:
    """The browser's own description of itself, as recorded with the session and in the audit trail."""
    return (request.user_agent.string or "")[:400]


class StaffSession(CallbackDict, SessionMixin):
    """Session data plus what the row says about the signed-in staff member."""

    def __init__(self, initial=None, *, token=None, session_id=None, staff=None, stale=False, stateless=False):
        def on_update(s):
            s.modified = True

        super().__init__(initial or {}, on_update)
        self.token = token
        self.session_id = session_id
        self.staff = staff  # dict of the staff row, or None
        self.stale = stale  # last_seen_at should be refreshed
        self.stateless = stateless
        self.renew = False  # drop this row and token, start a fresh one (login, logout)
        self.in_cookie = False  # anonymous: kept in the signed ANON_COOKIE_NAME cookie, no row
        self.new_token = None
        self.modified = False

    @property
    def new(self) -> bool:
        return self.session_id is None

    def start_for(self, staff: dict | None) -> None:
        """Begin a new session (new id: no session fixation) for staff, or anonymous."""
        self.clear()
        self.staff = staff
        self.renew = True


def signed_in_staff(row, must_change_pin: bool) -> dict:
    """The signed-in staff member as a request knows them (`current_user`), from a row with the
    staff and branch columns: the session's on each request, the login's when it starts."""
    return {
        "staff_id": row.staff_id,
        "staff_code": row.staff_code,
        "name": row.name,
        "role": row.designation,
        "branch_id": row.branch_id,
        "branch_name": row.branch_name,
        "branch_code": row.branch_code,
        "must_change_pin": must_change_pin,
    }


class PostgresSessionInterface(SessionInterface):
    def open_session(self, app: Flask, request: Request) -> StaffSession:
        if request.path.startswith(STATELESS_PREFIXES):
            return StaffSession(stateless=True)
        token = request.cookies.get(COOKIE_NAME)
        if not token or len(token) > 100:
            return StaffSession(_anonymous_data(app, request))
        try:
            row = get_conn().execute(
                LOAD_SQL,
                {
                    "token_hash": token_hash(token),
                    "addr": client_addr(request),
                    "ua": user_agent(request),
                    "max_hours": app.config["SESSION_MAX_HOURS"],
                    "idle_minutes": app.config["SESSION_IDLE_MINUTES"],
                },
            ).first()
        except DatabaseUnavailable:
            g.db_unavailable = True
            return StaffSession(stateless=True)
        if row is None:
            g.session_expired = True  # a cookie we no longer honour: expired, revoked or forged
            return StaffSession(_anonymous_data(app, request))
        staff = None
        if row.staff_id is not None:
            staff = signed_in_staff(row, row.must_change_pin)
        return StaffSession(row.data, token=token, session_id=row.session_id, staff=staff, stale=row.stale)

    def persist(self, app: Flask, session: StaffSession, request: Request) -> None:
        """Write the session in the request's transaction (called before commit)."""
        if session.stateless:
            return
        conn = get_conn() if (session.renew or session.modified or session.stale) else None
        if conn is None:
            return
        if session.renew and session.session_id is not None:
            conn.execute(sa.text("DELETE FROM master.staff_session WHERE session_id = :id"),
                         {"id": session.session_id})
            session.session_id = None
        if session.session_id is None:
            if not session.staff:
                session.in_cookie = True  # anonymous: no row, the signed cookie keeps what it stored
                return
            token = secrets.token_urlsafe(32)
            staff_id = session.staff["staff_id"] if session.staff else None
            conn.execute(
                sa.text(
                    """INSERT INTO master.staff_session
                           (token_hash, staff_id, data, authenticated_at, client_addr, user_agent)
                       VALUES (:h, :staff_id, CAST(:data AS jsonb),
                               CASE WHEN CAST(:staff_id AS integer) IS NULL THEN NULL ELSE now() END,
                               :addr, :ua)"""
                ),
                {
                    "h": token_hash(token),
                    "staff_id": staff_id,
                    "data": _json(session),
                    "addr": client_addr(request),
                    "ua": user_agent(request),
                },
            )
            session.new_token = token
        elif session.modified:
            conn.execute(
                sa.text("UPDATE master.staff_session SET data = CAST(:data AS jsonb), last_seen_at = now() "
                        "WHERE session_id = :id"),
                {"data": _json(session), "id": session.session_id},
            )
        else:
            conn.execute(sa.text("UPDATE master.staff_session SET last_seen_at = now() WHERE session_id = :id"),
                         {"id": session.session_id})

    # Flask calls this after the after_request hooks: only the cookie is left to do.
    def save_session(self, app: Flask, session: StaffSession, response: Response) -> None:
        if session.stateless:
            return
        response.vary.add("Cookie")
        secure = app.config["FORCE_SECURE_COOKIES"] or _is_https()
        if session.new_token:
            response.set_cookie(COOKIE_NAME, session.new_token, httponly=True, samesite="Lax",
                                secure=secure, path="/")
        elif session.renew and session.session_id is None or g.get("session_expired") and session.new:
            response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="Lax", secure=secure)
        from flask import request

        had_anonymous = ANON_COOKIE_NAME in request.cookies
        if session.in_cookie and dict(session) and (session.modified or session.renew or not had_anonymous):
            response.set_cookie(ANON_COOKIE_NAME, _anon_serializer(app).dumps(dict(session)), httponly=True,
                                samesite="Lax", secure=secure, path="/")
        elif had_anonymous and (session.new_token or session.in_cookie and not dict(session)):
            response.delete_cookie(ANON_COOKIE_NAME, path="/", httponly=True, samesite="Lax", secure=secure)


def _anon_serializer(app: Flask):
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="anonymous-session")


def _anonymous_data(app: Flask, request: Request) -> dict:
    """What the signed anonymous cookie holds; nothing when missing, forged or older than a shift."""
    from itsdangerous import BadSignature

    raw = request.cookies.get(ANON_COOKIE_NAME)
    if not raw or len(raw) > 4000:
        return {}
    try:
        data = _anon_serializer(app).loads(raw, max_age=app.config["SESSION_MAX_HOURS"] * 3600)
    except BadSignature:  # also SignatureExpired
        return {}
    return data if isinstance(data, dict) else {}


def _is_https() -> bool:
    from flask import request

    return request.is_secure


def _json(session: StaffSession) -> str:
    import json

    return json.dumps(dict(session), default=str)
