"""Delivery reports from the providers: the outbox's SENT becomes DELIVERED, or the reason a message
did not arrive. These are the only routes the providers' servers call, so they have no login and no
CSRF token (they are exempt from the CSRF check, and the only ones); each is authenticated by a
secret shared with the provider instead, compared in constant time:

- the SMS provider's delivery-report callback (``POST /communication/hooks/sms``): a JSON object, a
  list of them or a form, each with the provider's ``message_id``, a ``status`` and the DLT or
  operator ``error_code`` of a failure; the token in the ``X-Callback-Token`` header or the
  ``token`` query parameter (for providers that can only be given a URL). Token: ERP_SMS_CALLBACK_TOKEN
  or instance/sms_callback_token.
- the WhatsApp Business Cloud API webhook (``/communication/hooks/whatsapp``): the GET verification
  (hub.mode=subscribe with the verify token: the challenge is echoed) and the POST status
  notifications (entry[].changes[].value.statuses[]: id, status sent/delivered/read/failed,
  errors[]), signed by X-Hub-Signature-256, the HMAC-SHA256 of the raw body with the app secret.
  Verify token: ERP_WHATSAPP_VERIFY_TOKEN or instance/whatsapp_verify_token; app secret:
  ERP_WHATSAPP_APP_SECRET or instance/whatsapp_app_secret.
Like the providers' passwords (webapp/communication/channels.py) the secrets are never in the
database. A secret not set refuses every report.

A report for a message id the outbox does not hold is answered 200 and ignored (the provider would
only send it again); a bad token or signature 403; a body that is not a report 400; never a 500.
The outbox's rules are PostgreSQL's (communication.delivery_report): a DELIVERED message never goes
back to SENT. The routes see every branch: a provider reports for the whole showroom.

E-mail has no report here: the SMTP server accepting a message is SENT, and whether it reached the
inbox is not knowable without bounce handling (reading the bounces sent back to the sender's address),
which is left out.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import datetime, timezone

import sqlalchemy as sa
from flask import Response, current_app, jsonify, request

from .. import csrf
from ..db import get_conn, set_actor
from ..security import public
from ..sessions import client_addr, user_agent
from . import bp
from .channels import secret

log = logging.getLogger(__name__)

REPORT = sa.text("SELECT communication.delivery_report(:channel, :pid, :status, :reason, :may_pass, :at)")

# What an SMS provider may call a status, as the outbox knows it.
SMS_STATUSES = {
    "DELIVERED": "DELIVERED", "DELIVRD": "DELIVERED", "DELIVERY_SUCCESS": "DELIVERED",
    "SENT": "SENT", "SUBMITTED": "SENT", "ACCEPTED": "SENT", "ENROUTE": "SENT", "PENDING": "SENT",
    "FAILED": "FAILED", "UNDELIVERED": "FAILED", "UNDELIV": "FAILED", "REJECTED": "FAILED", "REJECTD": "FAILED",
    "EXPIRED": "FAILED", "DELIVERY_FAILED": "FAILED", "NOT-SENT": "FAILED",
}

# The DLT platform's scrubbing codes (TRAI's commercial communication rules): each a refusal of the
# message as registered, which sending it again cannot mend (the entity, header or template must be
# put right on the DLT portal first).
DLT_CODES = {
    range(600, 610): "the principal entity id is not registered or not active on DLT",
    range(610, 620): "the telemarketer (the SMS provider) is not registered or not allowed for this entity on DLT",
    range(620, 630): "the sender header is not registered or not active on DLT for this entity",
    range(630, 633): "the DLT template is not registered or not active",
    range(633, 634): "the text does not match the DLT template registered",
    range(634, 635): "the sender header is not registered for this DLT template",
    range(635, 636): "a variable of the text is longer than the DLT template allows",
    range(636, 640): "the DLT template id is wrong or missing",
    range(640, 650): "the DLT template was refused",
    range(650, 660): "the customer's DND preference blocks this category of message",
    range(660, 670): "no consent is registered on DLT for this promotional message",
    range(670, 700): "the DLT scrubbing refused the message",
}

# Operators' delivery statuses: (reason, may pass: sending again later can help).
OPERATOR_CODES = {
    "ABSENT-SUB": ("the phone was not reachable", True),
    "MOB-OFF": ("the phone was switched off", True),
    "HANDSET-BUSY": ("the phone was busy", True),
    "MEM-EXEC": ("the phone's message memory was full", True),
    "MEMEXEC": ("the phone's message memory was full", True),
    "EXPIRED": ("the operator gave up: the phone was not reachable in time", True),
    "NET-ERR": ("the operator's network failed", True),
    "INVALID-SUB": ("the number does not exist", False),
    "INV-NUMBER": ("the number does not exist", False),
    "BARRED": ("the customer has barred messages", False),
    "DND-NUMB": ("the number is on the DND register", False),
    "NDNC": ("the number is on the DND register", False),
    "BLACKLIST": ("the number is blacklisted", False),
    "REJECTED": ("the operator rejected the number", False),
    "SERIES-BLK": ("the operator blocks this number series", False),
    "HANDSET-ERR": ("the phone could not take the message", False),
}

# The Cloud API's error codes for a message that failed: (reason, may pass).
WHATSAPP_CODES = {
    131026: ("the number is not on WhatsApp or cannot receive this message", False),
    131047: ("more than 24 hours since the customer last wrote: only a template message may go", False),
    131049: ("WhatsApp held the message back to keep the customer's experience (too many business messages)", True),
    131050: ("the customer has stopped marketing messages from the business", False),
    131051: ("the message type is not supported", False),
    131056: ("too many messages to this number in a short time", True),
    130429: ("the business sent too many messages at once", True),
    131000: ("WhatsApp failed to send the message", True),
    131016: ("WhatsApp was not available", True),
    131048: ("WhatsApp limited the business's messages as spam", False),
    131042: ("the WhatsApp Business account's payment method has a problem", False),
    132000: ("the template's number of parameters does not match", False),
    132001: ("the template does not exist in that language", False),
    132005: ("the template's text is too long once filled", False),
    132007: ("the template's text breaks WhatsApp's policy", False),
    132015: ("the template is paused for its low quality", False),
    132016: ("the template is disabled", False),
    368: ("the business account is restricted for breaking WhatsApp's policy", False),
}


class BadReport(ValueError):
    """A body that is not a delivery report (answered 400)."""


def sms_failure(code) -> tuple[str, bool]:
    """A readable reason for the SMS provider's error code (a DLT code or an operator status) and whether
    sending again later may help."""
    text = str(code or "").strip()[:40]
    if not text:
        return "the operator gave no reason", True
    if text.isdigit():
        number = int(text)
        for codes, reason in DLT_CODES.items():
            if number in codes:
                return f"{reason} (DLT error {text})", False
        return f"the operator's error {text}", False
    known = OPERATOR_CODES.get(text.upper())
    if known:
        return f"{known[0]} ({text.upper()})", known[1]
    return f"the operator's error {text}", False


def whatsapp_failure(errors) -> tuple[str, bool]:
    """A readable reason for a failed WhatsApp status's errors[] and whether sending again may help."""
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    code = first.get("code")
    known = WHATSAPP_CODES.get(code) if isinstance(code, int) else None
    if known:
        return f"{known[0]} (WhatsApp error {code})", known[1]
    title = str(first.get("title") or first.get("message") or "no reason given")[:200]
    return (f"{title} (WhatsApp error {code})" if code is not None else title), False


def _message_id(provider_id) -> str:
    """The provider's message id a report names (checked before any report of the body is applied)."""
    if not isinstance(provider_id, (str, int)) or isinstance(provider_id, bool) or not 1 <= len(str(provider_id)) <= 200:
        raise BadReport("a report names the provider's message id")
    return str(provider_id)


def _report(conn, channel: str, provider_id: str, status: str, reason: str | None, may_pass: bool,
            at: datetime) -> bool:
    """One report applied; True when the outbox holds the message."""
    found = conn.execute(REPORT, {"channel": channel, "pid": provider_id, "status": status,
                                  "reason": reason, "may_pass": may_pass, "at": at}).scalar()
    if found is None:
        log.info("%s delivery report for unknown message %.60s ignored", channel, provider_id)
    return found is not None


def _all_branches(conn) -> None:
    """A provider reports for every branch: the request sees them all (no staff acts)."""
    set_actor(conn, None, client_addr(request), user_agent(request), all_branches=True)


def _same(given: str | None, expected: str | None) -> bool:
    return bool(given) and bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def _refused() -> Response:
    return Response("refused: the secret shared with the provider does not match", 403, mimetype="text/plain")


def _bad(why: str) -> Response:
    return Response(f"not a delivery report: {why}", 400, mimetype="text/plain")


def _answer(found: int, ignored: int) -> Response:
    return jsonify({"applied": found, "ignored": ignored})


def _secret(env: str, file_name: str) -> str | None:
    return secret(current_app.instance_path, env, file_name)


# --------------------------------------------------------------------------- SMS


def _sms_reports() -> list[dict]:
    if request.mimetype == "application/json":
        try:
            body = json.loads(request.get_data(cache=True) or b"null")
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise BadReport("the body is not JSON")
        items = body if isinstance(body, list) else [body]
    else:
        items = [request.form.to_dict()]
    if not items or len(items) > 1000 or not all(isinstance(i, dict) for i in items):
        raise BadReport("a report is an object with message_id and status (or a list of them)")
    return items


@bp.post("/hooks/sms")
@public
def sms_report():
    """The SMS provider's delivery reports (see the module's docstring)."""
    token = request.headers.get("X-Callback-Token") or request.args.get("token")
    if not _same(token, _secret("ERP_SMS_CALLBACK_TOKEN", "sms_callback_token")):
        return _refused()
    try:
        items = _sms_reports()
        parsed = []
        for item in items:
            status = SMS_STATUSES.get(str(item.get("status") or "").strip().upper())
            if status is None:
                raise BadReport("status is DELIVERED, FAILED or SENT (or the operator's words for them)")
            reason, may_pass = sms_failure(item.get("error_code")) if status == "FAILED" else (None, False)
            parsed.append((_message_id(item.get("message_id") or item.get("id")), status, reason, may_pass))
    except BadReport as exc:
        return _bad(str(exc))
    conn = get_conn()
    _all_branches(conn)
    now = datetime.now(timezone.utc)
    found = sum(_report(conn, "SMS", pid, status, reason, may_pass, now) for pid, status, reason, may_pass in parsed)
    return _answer(found, len(parsed) - found)


# --------------------------------------------------------------------------- WhatsApp

WHATSAPP_STATUSES = {"sent": "SENT", "delivered": "DELIVERED", "read": "READ", "failed": "FAILED"}


@bp.get("/hooks/whatsapp")
@public
def whatsapp_verify():
    """The Cloud API's subscription check: the challenge echoed when the verify token matches."""
    args = request.args
    if args.get("hub.mode") != "subscribe" or not _same(args.get("hub.verify_token"),
                                                        _secret("ERP_WHATSAPP_VERIFY_TOKEN", "whatsapp_verify_token")):
        return _refused()
    challenge = args.get("hub.challenge", "")
    if not 1 <= len(challenge) <= 200:
        return _bad("hub.challenge is missing")
    return Response(challenge, 200, mimetype="text/plain")


def _statuses(body) -> list[dict]:
    if not isinstance(body, dict) or not isinstance(body.get("entry"), list):
        raise BadReport("the notification has no entry list")
    found = []
    for entry in body["entry"]:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        if not isinstance(changes, list):
            raise BadReport("an entry has no changes list")
        for change in changes:
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict):
                raise BadReport("a change has no value")
            statuses = value.get("statuses", [])
            if not isinstance(statuses, list) or not all(isinstance(s, dict) for s in statuses):
                raise BadReport("statuses is a list of objects")
            found += statuses        # a change without statuses (an incoming message) has nothing for the outbox
    return found


def _when(timestamp) -> datetime:
    """The status's own time (Unix seconds), else now."""
    now = datetime.now(timezone.utc)
    try:
        at = datetime.fromtimestamp(int(timestamp), timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return now
    return at if abs((now - at).days) < 30 else now


@bp.post("/hooks/whatsapp")
@public
def whatsapp_status():
    """The Cloud API's status notifications, signed with the app secret."""
    raw = request.get_data(cache=True)
    app_secret = _secret("ERP_WHATSAPP_APP_SECRET", "whatsapp_app_secret")
    given = request.headers.get("X-Hub-Signature-256", "")
    expected = "sha256=" + hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest() if app_secret else None
    if not _same(given, expected):
        return _refused()
    try:
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise BadReport("the body is not JSON")
        parsed, ignored = [], 0
        for item in _statuses(body):
            status = WHATSAPP_STATUSES.get(item["status"]) if isinstance(item.get("status"), str) else None
            if status is None:       # a status the outbox has no use for (e.g. deleted)
                ignored += 1
                continue
            reason, may_pass = whatsapp_failure(item.get("errors")) if status == "FAILED" else (None, False)
            parsed.append((_message_id(item.get("id")), status, reason, may_pass, _when(item.get("timestamp"))))
    except BadReport as exc:
        return _bad(str(exc))
    applied = 0
    if parsed:
        conn = get_conn()
        _all_branches(conn)
        applied = sum(_report(conn, "WHATSAPP", *report) for report in parsed)
    return _answer(applied, ignored + len(parsed) - applied)


for _view in (sms_report, whatsapp_status):
    csrf.exempt(_view)
