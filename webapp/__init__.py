"""EV showroom ERP: the Flask application factory."""
from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import Flask, g, redirect, request, session, url_for
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx

from . import db, errors, formatting, forms, navigation
from .config import settings_from_environment
from .security import PUBLIC, allowed_roles
from .sessions import PostgresSessionInterface
from .users import StaffUser

ROOT = Path(__file__).resolve().parent.parent

csrf = CSRFProtect()
htmx = Htmx()
login_manager = LoginManager()
session_store = PostgresSessionInterface()

# Endpoints reachable before the first-run setup is done.
SETUP_EXEMPT = {"static", "auth.setup", "platform.healthz"}

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


# A file under static/fonts never changes under its name (a new version of a font gets a new file
# name): browsers may keep them for a year instead of asking again on every page of a Kannada outbox.
FONT_MAX_AGE_SECONDS = 365 * 24 * 3600


class _ErpFlask(Flask):
    def get_send_file_max_age(self, filename: str | None) -> int | None:
        if filename and filename.replace("\\", "/").startswith("fonts/"):
            return FONT_MAX_AGE_SECONDS
        return super().get_send_file_max_age(filename)


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: config, database, login, CSRF, blueprints, error pages, CLI."""
    app = _ErpFlask(
        __name__,
        instance_path=os.environ.get("ERP_INSTANCE_PATH") or str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(settings_from_environment(app.instance_path))
    if test_config:
        app.config.update(test_config)
    app.config["SESSION_COOKIE_NAME"] = "erp_session"
    app.json.sort_keys = False
    _configure_logging()

    db.init_app(app)
    htmx.init_app(app)
    app.session_interface = session_store
    login_manager.init_app(app)
    login_manager.session_protection = None  # the server-side session row is the protection
    login_manager.user_loader(_load_user)

    # Order matters: database availability, then setup, then access, then CSRF.
    app.before_request(_refuse_nul_characters)
    app.before_request(_refuse_when_database_down)
    app.before_request(_require_setup)
    app.before_request(_enforce_roles)
    app.before_request(_require_pin_change)
    csrf.init_app(app)
    app.after_request(_finish_request)

    from .audit import bp as audit_bp
    from .auth import bp as auth_bp
    from .billing import bp as billing_bp
    from .communication import bp as communication_bp
    from .crm import bp as crm_bp
    from .dashboard import bp as dashboard_bp
    from .finance import bp as finance_bp
    from .hr import bp as hr_bp
    from .insurance import bp as insurance_bp
    from .inventory import bp as inventory_bp
    from .master import bp as master_bp
    from .oem import bp as oem_bp
    from .payroll import bp as payroll_bp
    from .platform import bp as platform_bp
    from .procurement import bp as procurement_bp
    from .sales import bp as sales_bp
    from .service import bp as service_bp
    from .warranty import bp as warranty_bp

    for blueprint in (platform_bp, auth_bp, dashboard_bp, master_bp, audit_bp, oem_bp, inventory_bp,
                      procurement_bp, sales_bp, crm_bp, billing_bp, insurance_bp, service_bp, warranty_bp,
                      communication_bp, finance_bp, hr_bp, payroll_bp):
        app.register_blueprint(blueprint)

    errors.init_app(app)
    formatting.init_app(app)
    forms.init_app(app)
    navigation.init_app(app)
    from .cli import register as register_cli

    register_cli(app)
    return app


# Libraries that log their progress at INFO or DEBUG: WeasyPrint reports each step of every PDF and
# fontTools each table of every font it subsets, which buried the server's console in lines.
QUIET_LIBRARIES = ("weasyprint", "fontTools", "pydyf", "tinycss2", "cssselect2", "PIL", "pypdf")


def _configure_logging() -> None:
    """The console shows what an operator needs: the address the server listens on (waitress),
    warnings and errors. No line per request; a library's progress only from WARNING up."""
    logging.basicConfig(level=os.environ.get("ERP_LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)


def _load_user(user_id: str):
    staff = getattr(session, "staff", None)
    if staff and str(staff["staff_id"]) == user_id:
        return StaffUser(staff)
    return None


def _refuse_nul_characters():
    """PostgreSQL text cannot hold a NUL character: say so plainly instead of failing at the INSERT (a 500)."""
    for source in (request.args, request.form):
        if any("\x00" in value for _, values in source.lists() for value in values):
            from flask import abort

            abort(400, "The form contains a character that cannot be stored (NUL). Remove it and try again.")


def _refuse_when_database_down():
    if g.get("db_unavailable"):
        raise db.DatabaseUnavailable("session lookup failed")


def _require_setup():
    if request.endpoint in SETUP_EXEMPT or request.endpoint is None:
        return None
    if current_user.is_authenticated:
        return None
    from flask import current_app

    if not current_app.extensions.get("setup_done"):
        from .auth.api import any_staff_exists

        if not any_staff_exists(db.get_conn()):
            return redirect(url_for("auth.setup"))
        current_app.extensions["setup_done"] = True
    return None


def _enforce_roles():
    """Nothing is allowed by default: a route must declare its roles or be public."""
    if request.endpoint is None:
        return None  # no route matched: Flask answers 404/405
    if request.endpoint == "static":
        return None
    from flask import abort, current_app

    declared = allowed_roles(current_app.view_functions[request.endpoint], request.method)
    if declared is None:
        current_app.logger.error("route %s declares no roles; refused", request.endpoint)
        abort(403)
    if declared == PUBLIC:
        return None
    if not current_user.is_authenticated:
        return errors.login_required_response()
    if current_user.role not in declared:
        abort(403)
    return None


def _require_pin_change():
    if (current_user.is_authenticated and current_user.must_change_pin
            and request.endpoint not in {"auth.change_pin", "auth.logout", "auth.switch_user", "static"}):
        if request.method == "GET" and not request.htmx:
            return redirect(url_for("auth.change_pin"))
        return errors.redirect_response(url_for("auth.change_pin"))
    return None


def _finish_request(response):
    """Write the session, then commit the request's one transaction."""
    from flask import current_app

    _security_headers(response)
    if g.get("db_failed"):
        return response
    try:
        session_store.persist(current_app, session, request)
        db.commit_request()
    except Exception as exc:  # the commit itself failed: the user must not see "saved"
        db.rollback_request()
        errors.log_error("commit failed", exc)
        session.stateless = True  # the session change was rolled back too: keep the browser's cookie as it was
        return _security_headers(errors.response_for_exception(exc))
    return response


def _security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    if request.is_secure:  # over plain HTTP on a LAN address browsers ignore it and log an error per page
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.endpoint != "static":
        headers.setdefault("Cache-Control", "no-store")
    return response
