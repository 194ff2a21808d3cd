"""Error pages in the app's own look, and the answers given to htmx requests."""
from __future__ import annotations

import logging
import traceback

import sqlalchemy as sa
from flask import Flask, make_response, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from . import db

log = logging.getLogger(__name__)

TITLES = {
    400: ("Request not accepted", "The form could not be accepted. Reload the page and try again."),
    403: ("Not allowed", "Your role does not give access to this page. Ask the administrator if you need it."),
    404: ("Page not found", "There is no page at this address. It may have moved, or the link was mistyped."),
    405: ("Not allowed", "This page cannot be used that way."),
    413: ("Upload too large", "The file is larger than the showroom allows."),
    500: ("Something went wrong", "The error has been logged and nothing was saved. Try again, and tell the "
          "administrator if it happens again."),
    503: ("Database not reachable", "The showroom's database is not answering. Nothing was saved. This page "
          "will work again as soon as it is back; try again in a minute."),
}


def redirect_response(location: str, status: int = 303):
    """A redirect that also works for htmx (which would otherwise swap the target page in)."""
    if request.htmx:
        response = make_response("", 204)
        response.headers["HX-Redirect"] = location
        return response
    response = make_response("", status)
    response.headers["Location"] = location
    return response


def login_required_response():
    target = request.full_path if request.method == "GET" and not request.htmx else None
    if request.htmx and request.headers.get("HX-Current-URL"):
        from urllib.parse import urlsplit

        current = urlsplit(request.headers["HX-Current-URL"])
        target = current.path + ("?" + current.query if current.query else "")
    location = url_for("auth.login", next=target.rstrip("?")) if target else url_for("auth.login")
    if request.htmx:
        response = make_response("", 401)
        response.headers["HX-Redirect"] = location
        return response
    return make_response("", 303, {"Location": location})


def error_page(status: int, message: str | None = None):
    title, default = TITLES.get(status, TITLES[500])
    template = "errors/_message.html" if request.htmx else "errors/page.html"
    body = render_template(template, status=status, title=title, message=message or default)
    response = make_response(body, status)
    if status == 503:
        response.headers["Retry-After"] = "30"
    return response


def response_for_exception(exc: BaseException):
    if isinstance(exc, (db.DatabaseUnavailable, *db.UNAVAILABLE_ERRORS)):
        return error_page(503)
    return error_page(500)


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_refused(exc):
        db.rollback_request()
        return error_page(400, "This form has expired or did not come from this system. "
                               "Reload the page and submit again.")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        db.rollback_request()
        if exc.code is None or exc.code < 400:
            return exc
        return error_page(exc.code, exc.description if exc.code == 400 else None)

    @app.errorhandler(db.DatabaseUnavailable)
    @app.errorhandler(sa.exc.OperationalError)
    @app.errorhandler(sa.exc.InterfaceError)
    def database_unavailable(exc):
        db.rollback_request()
        if db.is_busy_error(exc):
            log.warning("database busy: %s", exc)
            return error_page(503, "The database was too busy to finish this in time and nothing was saved. "
                                   "Try again in a moment.")
        log.warning("database unavailable: %s", exc)
        return error_page(503)

    @app.errorhandler(Exception)
    def unexpected(exc):
        db.rollback_request()
        log_error(f"unhandled error on {request.method} {request.path}", exc)
        return error_page(500)


def log_error(what: str, exc: BaseException) -> None:
    """Log an error for the administrator. A database error is logged by its kind, constraint, message
    and statement, without the values sent or PostgreSQL's DETAIL ("Failing row contains (...)"), which
    repeat what was typed into a form: a customer's mobile, PAN or a number that must not be kept."""
    if not isinstance(exc, sa.exc.DBAPIError) or exc.orig is None:
        log.error(what, exc_info=exc)
        return
    diag = getattr(exc.orig, "diag", None)
    stack = "".join(traceback.format_tb(exc.__traceback__))
    log.error("%s: %s [%s] %s%s\nstatement: %s\n%s", what, type(exc.orig).__name__,
              getattr(diag, "sqlstate", None), getattr(diag, "message_primary", None) or "(no message)",
              f" (constraint {diag.constraint_name})" if getattr(diag, "constraint_name", None) else "",
              " ".join((exc.statement or "").split()), stack)
