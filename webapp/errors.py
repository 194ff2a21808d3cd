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
    422: ("Not saved", "The database did not accept what was sent and nothing was saved. Go back, correct the "
          "form and send it again."),
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


# Kept in the (anonymous) session from a form refused for want of a login until the next login.
FORM_NOT_SAVED = "form_not_saved"
FORM_NOT_SAVED_MESSAGE = "You were logged out; the form was not saved: please enter it again."
LOGGING_OUT = {"auth.logout", "auth.switch_user"}  # nothing to save: logged out already


def _same_site_path(url: str | None) -> str | None:
    """The path and query of a URL on this server (the page a form was sent from), else None."""
    from urllib.parse import urlsplit

    if not url:
        return None
    parts = urlsplit(url)
    if parts.netloc and parts.netloc != request.host:
        return None
    return parts.path + ("?" + parts.query if parts.query else "") if parts.path.startswith("/") else None


def login_required_response():
    from flask import flash, session

    target = request.full_path if request.method == "GET" and not request.htmx else None
    if request.htmx and request.headers.get("HX-Current-URL"):
        target = _same_site_path(request.headers["HX-Current-URL"])
    if request.method not in ("GET", "HEAD", "OPTIONS") and request.endpoint not in LOGGING_OUT:
        # A form sent after its session ended (logged out in another tab, or idle too long): back to the
        # page it was sent from (the browser's Referer, same-origin by our Referrer-Policy) after the
        # login, and say that it was not saved.
        target = target or _same_site_path(request.referrer)
        if not getattr(session, "stateless", False):
            session[FORM_NOT_SAVED] = True
            flash("You were logged out, so the form was not saved. Log in to go back to it.", "warn")
    location = url_for("auth.login", next=target.rstrip("?")) if target else url_for("auth.login")
    if request.htmx:
        response = make_response("", 401)
        response.headers["HX-Redirect"] = location
        return response
    return make_response("", 303, {"Location": location})


# A lock timeout, statement timeout or deadlock: the database is there, another transaction holds
# what this request needed (e.g. the invoice series' counter while an invoice is being posted).
BUSY_TITLE = "Please try again"
BUSY_MESSAGE = ("The system is busy with the same record; try again in a moment. Nothing was saved: "
                "if you were saving a form, send it again.")
BUSY_RETRY_AFTER = "5"


def error_page(status: int, message: str | None = None, *, title: str | None = None,
               retry_after: str = "30"):
    default_title, default = TITLES.get(status, TITLES[500])
    template = "errors/_message.html" if request.htmx else "errors/page.html"
    body = render_template(template, status=status, title=title or default_title, message=message or default)
    response = make_response(body, status)
    if status == 503:
        response.headers["Retry-After"] = retry_after
    return response


def busy_page():
    return error_page(503, BUSY_MESSAGE, title=BUSY_TITLE, retry_after=BUSY_RETRY_AFTER)


# What a user can cause that PostgreSQL refuses (SQLSTATE), said the way the form's user reads it.
REFUSED_BY_DATABASE = {
    "22001": "a text is longer than this box keeps",
    "22003": "a number is too large",
    "22007": "a date is not a valid date",
    "22008": "a date is out of range",
    "22P02": "a value is not in the form it should be",
    "23502": "something required was left empty",
    "23503": "it refers to a record that no longer exists; reload the page and try again",
    "23505": "the same record exists already",
    "23514": "a value is not accepted",
    "23P01": "it overlaps another record",
}


def refusal_message(exc: BaseException) -> str:
    """'This could not be saved: ...' for a database error a user's input caused; logged at WARNING
    with its SQLSTATE, constraint, table and column, never with the values (PostgreSQL's message
    for 22P02 repeats what was typed)."""
    orig = getattr(exc, "orig", exc)
    diag = getattr(orig, "diag", None)
    sqlstate = getattr(diag, "sqlstate", None) or getattr(orig, "sqlstate", None)
    log.warning("refused by the database on %s %s: %s [%s] constraint=%s table=%s column=%s\nstatement: %s",
                request.method if request else "-", request.path if request else "-", type(orig).__name__,
                sqlstate, getattr(diag, "constraint_name", None), getattr(diag, "table_name", None),
                getattr(diag, "column_name", None), " ".join((getattr(exc, "statement", None) or "").split()))
    reason = REFUSED_BY_DATABASE.get(sqlstate or "", "a value is not accepted")
    return f"This could not be saved: {reason}."


def refused_page(exc: BaseException):
    return error_page(422, refusal_message(exc) + " Nothing was saved. Go back, correct the form and send it again.")


def response_for_exception(exc: BaseException):
    if isinstance(exc, (sa.exc.IntegrityError, sa.exc.DataError)):
        return refused_page(exc)   # a deferred check at COMMIT
    if db.is_busy_error(exc):
        return busy_page()
    if isinstance(exc, (db.DatabaseUnavailable, *db.UNAVAILABLE_ERRORS)):
        return error_page(503)
    return error_page(500)


def hide_database_values_in_logs() -> None:
    """Every log record of this process that carries a database error (an exception logged by
    waitress, werkzeug or Flask, or an error passed as an argument) shows it as describe_db_error
    does: the statement, never the values sent with it nor PostgreSQL's DETAIL."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "hides_database_values", False):
        return

    def make_record(*args, **kwargs):
        record = previous(*args, **kwargs)
        try:
            _hide_database_values(record)
        except Exception:  # a log line must never fail because of this
            pass
        return record

    make_record.hides_database_values = True
    logging.setLogRecordFactory(make_record)


def _hide_database_values(record: logging.LogRecord) -> None:
    if record.exc_info and record.exc_info[1] is not None and database_error_in(record.exc_info[1]) is not None:
        exc = record.exc_info[1]
        record.exc_text = ("Traceback (most recent call last):\n" + "".join(traceback.format_tb(exc.__traceback__))
                           + describe_db_error(exc))
        record.exc_info = None
    if isinstance(record.args, tuple) and any(database_error_in(a) is not None for a in record.args
                                              if isinstance(a, BaseException)):
        record.args = tuple(describe_db_error(a) if isinstance(a, BaseException) and database_error_in(a) is not None
                            else a for a in record.args)


def init_app(app: Flask) -> None:
    hide_database_values_in_logs()

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
            log.warning("database busy on %s %s: %s", request.method, request.path, describe_db_error(exc))
            return busy_page()
        log.warning("database unavailable: %s", describe_db_error(exc))
        watch = app.extensions.get("erp_db_watch")  # `serve` gave up restarting the embedded server
        return error_page(503, getattr(watch, "gave_up", None))

    @app.errorhandler(sa.exc.IntegrityError)
    @app.errorhandler(sa.exc.DataError)
    def refused_by_database(exc):
        # The safety net under every form: a value or a rule PostgreSQL refused that no form mapped to
        # its field is a 422 with a plain message, not a 500.
        db.rollback_request()
        return refused_page(exc)

    @app.errorhandler(Exception)
    def unexpected(exc):
        db.rollback_request()
        log_error(f"unhandled error on {request.method} {request.path}", exc)
        return error_page(500)


def log_error(what: str, exc: BaseException) -> None:
    """Log an error for the administrator. A database error is logged by its kind, constraint, message
    and statement, without the values sent or PostgreSQL's DETAIL ("Failing row contains (...)"), which
    repeat what was typed into a form: a customer's mobile, PAN or a number that must not be kept."""
    if database_error_in(exc) is None:
        log.error(what, exc_info=exc)
        return
    stack = "".join(traceback.format_tb(exc.__traceback__))
    log.error("%s: %s\n%s", what, describe_db_error(exc), stack)


def database_error_in(exc: BaseException | None) -> BaseException | None:
    """The database error behind exc (itself or what it was raised from): SQLAlchemy's wrapper, or
    the driver's own error where no wrapper was made; None if there is none."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, sa.exc.DBAPIError) and exc.orig is not None:
            return exc
        if hasattr(exc, "diag") and hasattr(exc, "sqlstate"):  # psycopg.Error
            return exc
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def _unreachable_errors() -> tuple[type, ...]:
    import psycopg

    return (psycopg.OperationalError, psycopg.InterfaceError)


UNREACHABLE = _unreachable_errors()


def describe_db_error(exc: BaseException) -> str:
    """One line for a log or a console: the error's kind, SQLSTATE, PostgreSQL's message, the
    constraint and the statement; never the values sent with it nor the DETAIL ("Failing row
    contains (...)", "Key (mobile)=(...)"), which repeat what was typed into a form."""
    found = database_error_in(exc)
    if found is None:
        return f"{type(exc).__name__}: {exc}"
    orig = getattr(found, "orig", found)
    diag = getattr(orig, "diag", None)
    statement = " ".join((getattr(found, "statement", None) or "").split())
    message = getattr(diag, "message_primary", None)
    if not message and not getattr(diag, "sqlstate", None) and isinstance(orig, UNREACHABLE):
        # The server could not be reached (no SQLSTATE): the driver's own words, which quote no values.
        message = (str(orig).strip().splitlines() or [None])[0]
    return "{} [{}] {}{}{}".format(
        type(orig).__name__, getattr(diag, "sqlstate", None), message or "(no message)",
        f" (constraint {diag.constraint_name})" if getattr(diag, "constraint_name", None) else "",
        f"; statement: {statement}" if statement else "")
