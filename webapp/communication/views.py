"""Communication screens: reminder rules, templates with a preview on real data, the channels'
settings and a run from the screen (ADMIN); the outbox (managers); the call list with the outcome of
each call, on screen and printed (the counter); a customer's consent (who keeps customers); and the
staff bell with what waits for the user.

The bell is polled by htmx: one statement beside the session lookup, and it does not count as the
user's activity (the session's last use is not written), so polling never keeps an idle session alive.
"""
from __future__ import annotations

import hashlib
from datetime import datetime

from flask import current_app, flash, render_template, request, session, url_for
from flask_login import current_user

from ..db import get_conn
from ..errors import redirect_response
from ..formatting import IST, today_ist
from ..forms import save_or_field_error
from ..pages import choice_arg, found_or_404, rows_or_page
from ..paging import paged
from ..pdf import pdf_response, render_pdf
from ..security import allow, can, may_open
from . import bp, engine, queries
from .channels import secret
from .forms import (
    CALL_MESSAGES,
    CALL_OUTCOMES,
    CHANNELS,
    CONSENT_HOW,
    CONSENT_MESSAGES,
    EVENTS,
    LANGUAGES,
    PLACEHOLDERS,
    RULE_MESSAGES,
    SETTING_MESSAGES,
    TEMPLATE_MESSAGES,
    CallOutcomeForm,
    ConsentForm,
    RuleForm,
    SettingsForm,
    TemplateForm,
    fill,
)

OUTBOX_TARGET = "outbox-results"
STATUS_LABELS = {"QUEUED": "Queued", "SENT": "Sent", "DELIVERED": "Delivered", "FAILED": "Failed, to try again",
                 "GIVEN_UP": "Given up"}


def _context() -> dict:
    return {"events": EVENTS, "channels": CHANNELS, "languages": LANGUAGES, "statuses": STATUS_LABELS,
            "call_outcomes": CALL_OUTCOMES, "consent_how": CONSENT_HOW}


# --------------------------------------------------------------------------- rules and the run


@bp.get("/")
@allow("reminder.settings")
def rule_list():
    conn = get_conn()
    return render_template("communication/rules.html", rules=queries.rules(conn), **_context())


def _rule_form(conn, data=None) -> RuleForm:
    form = RuleForm(data=data)
    form.template_code.choices = [("", "Choose…")] + [(c, c) for c in queries.template_codes(conn)]
    return form


@bp.route("/rules/new", methods=["GET", "POST"])
@allow("reminder.settings")
def rule_new():
    conn = get_conn()
    form = _rule_form(conn)
    if form.validate_on_submit():
        _, saved = save_or_field_error(conn, form, RULE_MESSAGES, lambda: queries.insert_rule(conn, form.data_for_db()))
        if saved:
            flash("Reminder rule added.", "success")
            return redirect_response(url_for("communication.rule_list"))
    status = 422 if request.method == "POST" else 200
    return render_template("communication/rule_form.html", form=form, rule=None, **_context()), status


@bp.route("/rules/<int:rule_id>", methods=["GET", "POST"])
@allow("reminder.settings")
def rule_edit(rule_id: int):
    conn = get_conn()
    rule = found_or_404(queries.rule(conn, rule_id))
    form = _rule_form(conn, dict(rule) if request.method == "GET" else None)
    if form.validate_on_submit():
        _, saved = save_or_field_error(conn, form, RULE_MESSAGES,
                                       lambda: queries.update_rule(conn, rule_id, form.data_for_db()))
        if saved:
            flash("Reminder rule saved.", "success")
            return redirect_response(url_for("communication.rule_list"))
    status = 422 if request.method == "POST" else 200
    return render_template("communication/rule_form.html", form=form, rule=rule, **_context()), status


# The run from the screen sends in the web request: at most this many messages, each provider given at most
# SCREEN_TIMEOUT_SECONDS to answer, and none begun after SCREEN_SECONDS, so a slow or dead provider never hangs
# the page. What is left stays queued for the scheduled `flask --app wsgi reminders run`, which sends everything.
SCREEN_BATCH = 20
SCREEN_TIMEOUT_SECONDS = 3
SCREEN_SECONDS = 8


@bp.post("/run")
@allow("reminder.settings")
def run_now():
    """Make today's reminders and queue their messages (idempotent, as the command line), then send a small
    bounded batch of what is due; the page says how many were queued, sent and left for the scheduled run."""
    conn = get_conn()
    now = datetime.now(IST)
    results = engine.run_reminders(conn, today_ist(), now)
    outcome = engine.send_pending(engine.savepoints(conn), now, current_app.instance_path, limit=SCREEN_BATCH,
                                  timeout_seconds=SCREEN_TIMEOUT_SECONDS, seconds=SCREEN_SECONDS)
    left = engine.still_due(conn, now, outcome.channels) if outcome.channels else 0
    made = sum(r["made"] for r in results)
    queued = sum(r["queued"] for r in results)
    message = (f"Reminders made: {made}, queued: {queued}. Sent now: {outcome.sent}, to try again: {outcome.failed}, "
               f"given up: {outcome.given_up}, waiting for allowed hours: {outcome.deferred}.")
    if outcome.channels_down:
        message += " Not reachable now: " + ", ".join(CHANNELS[c] for c in sorted(outcome.channels_down)) + "."
    if left:
        message += f" Left for the scheduled run: {left}."
    elif not outcome.channels:
        message += " No channel is turned on: the messages wait in the outbox."
    flash(message, "success" if not (left or outcome.channels_down) else "warn")
    return redirect_response(url_for("communication.outbox"))


# --------------------------------------------------------------------------- templates


@bp.get("/templates")
@allow("reminder.settings")
def template_list():
    conn = get_conn()
    return render_template("communication/templates.html", templates=queries.templates(conn), **_context())


def _previewed(data: dict) -> str:
    """What the preview was drawn from (channel, language, subject, text), as the form carries it back."""
    seen = "\x1f".join(str(data.get(k) or "") for k in ("channel", "language", "subject", "body"))
    return hashlib.sha256(seen.encode()).hexdigest()[:32]


def _template_page(conn, template):
    """The form, previewed with real data on "Preview" and saved on "Save" only once the text saved is the text
    previewed (a text that does not pass comes back with the reason next to it, never saved)."""
    state_language, facts = queries.languages_and_sample(conn, current_user.branch_id)
    form = TemplateForm(data=dict(template) if template and request.method == "GET" else None)
    offered = ["en", "hi"] + ([state_language] if state_language and state_language not in ("en", "hi") else [])
    if template and template["language"] not in offered:
        offered.append(template["language"])
    form.language.choices = [(code, LANGUAGES.get(code, code)) for code in offered]
    preview = previewed = None
    if request.method == "POST" and form.validate():
        data = form.data_for_db()
        preview = {"subject": fill(data["subject"], facts), "body": fill(data["body"], facts)}
        previewed = _previewed(data)
        if request.form.get("action") == "save":
            if request.form.get("previewed") != previewed:
                form.form_errors.append("The text changed since its preview: look at the preview below, then save.")
            else:
                saver = ((lambda: queries.update_template(conn, template["template_id"], data)) if template
                         else (lambda: queries.insert_template(conn, data)))
                _, saved = save_or_field_error(conn, form, TEMPLATE_MESSAGES, saver)
                if saved:
                    flash("Template saved.", "success")
                    return redirect_response(url_for("communication.template_list"))
    elif request.method == "GET" and template:
        preview = {"subject": fill(template["subject"], facts), "body": fill(template["body"], facts)}
        previewed = _previewed(dict(template))
    status = 422 if request.method == "POST" and (form.errors or form.form_errors) else 200
    return render_template("communication/template_form.html", form=form, template=template, preview=preview,
                           previewed=previewed, placeholders=PLACEHOLDERS, facts=facts, **_context()), status


@bp.route("/templates/new", methods=["GET", "POST"])
@allow("reminder.settings")
def template_new():
    return _template_page(get_conn(), None)


@bp.route("/templates/<int:template_id>", methods=["GET", "POST"])
@allow("reminder.settings")
def template_edit(template_id: int):
    conn = get_conn()
    return _template_page(conn, found_or_404(queries.template(conn, template_id)))


# --------------------------------------------------------------------------- channel settings


@bp.route("/settings", methods=["GET", "POST"])
@allow("reminder.settings")
def settings():
    conn = get_conn()
    form = SettingsForm(data=dict(queries.settings(conn)) if request.method == "GET" else None)
    if form.validate_on_submit():
        data = {name: form[name].data for name in queries.SETTING_FIELDS}
        _, saved = save_or_field_error(conn, form, SETTING_MESSAGES, lambda: queries.update_settings(conn, data))
        if saved:
            flash("Channel settings saved.", "success")
            return redirect_response(url_for("communication.settings"))
    status = 422 if request.method == "POST" else 200
    return render_template("communication/settings.html", form=form, hooks=_delivery_hooks(), **_context()), status


def _delivery_hooks() -> list[dict]:
    """The addresses to paste into the providers' consoles for their delivery reports, and whether the
    secret each needs is set (where: the environment or the instance folder; never shown)."""
    def is_set(env: str, file_name: str) -> bool:
        return secret(current_app.instance_path, env, file_name) is not None

    return [
        {"channel": "SMS", "title": "SMS delivery reports (the provider's callback URL, POST)",
         "url": url_for("communication.sms_report", _external=True),
         "how": "The provider sends the token in the X-Callback-Token header, or add ?token=… to the URL.",
         "secrets": [("Callback token", "ERP_SMS_CALLBACK_TOKEN", "sms_callback_token",
                      is_set("ERP_SMS_CALLBACK_TOKEN", "sms_callback_token"))]},
        {"channel": "WHATSAPP", "title": "WhatsApp webhook (Meta app dashboard: WhatsApp, Configuration)",
         "url": url_for("communication.whatsapp_status", _external=True),
         "how": "Callback URL as above, Verify token the one set here; subscribe to the messages field.",
         "secrets": [("Verify token", "ERP_WHATSAPP_VERIFY_TOKEN", "whatsapp_verify_token",
                      is_set("ERP_WHATSAPP_VERIFY_TOKEN", "whatsapp_verify_token")),
                     ("App secret (checks each notification's signature)", "ERP_WHATSAPP_APP_SECRET",
                      "whatsapp_app_secret", is_set("ERP_WHATSAPP_APP_SECRET", "whatsapp_app_secret"))]},
    ]


# --------------------------------------------------------------------------- outbox


@bp.get("/outbox")
@allow("outbox.read")
def outbox():
    conn = get_conn()
    status = choice_arg("status", STATUS_LABELS)
    channel = choice_arg("channel", CHANNELS)
    rows, page = paged(lambda number, size: queries.outbox_page(conn, status, channel, number, size))
    return rows_or_page("communication/outbox.html", "communication/_outbox_rows.html", OUTBOX_TARGET,
                        rows=rows, page=page, status=status, channel=channel, results_id=OUTBOX_TARGET,
                        may_run=can("reminder.settings"), **_context())


# --------------------------------------------------------------------------- the call list


@bp.get("/calls")
@allow("call_list.work")
def call_list():
    conn = get_conn()
    today = today_ist()
    return render_template("communication/calls.html", calls=queries.calls(conn, current_user.branch_id, today),
                           today=today, form=CallOutcomeForm(), **_context())


@bp.get("/calls.pdf")
@allow("call_list.work")
def call_list_pdf():
    from ..master import api as master_api

    conn = get_conn()
    today = today_ist()
    pdf = render_pdf("communication/calls_pdf.html", calls=queries.calls(conn, current_user.branch_id, today),
                     today=today, branch=master_api.branch_for_print(conn, current_user.branch_id), **_context())
    return pdf_response(pdf, f"calls-{today:%d-%m-%Y}.pdf")


@bp.route("/calls/<int:message_id>", methods=["GET", "POST"])
@allow("call_list.work")
def call_outcome(message_id: int):
    conn = get_conn()
    call = queries.call(conn, message_id)
    if call is None or call["branch_id"] != current_user.branch_id:
        found_or_404(None)
    form = CallOutcomeForm()
    done = call["status"] not in ("QUEUED", "FAILED")
    if not done and form.validate_on_submit():
        result, saved = save_or_field_error(conn, form, CALL_MESSAGES, lambda: queries.record_call(
            conn, message_id, form.outcome.data, form.note.data))
        if saved:
            flash(f"{call['to_name']}: {CALL_OUTCOMES[form.outcome.data]}.", "success")
            return redirect_response(url_for("communication.call_list"))
    status = 422 if request.method == "POST" and not done else 200
    return render_template("communication/call_form.html", call=call, form=form, done=done, **_context()), status


# --------------------------------------------------------------------------- consent


@bp.route("/customers/<int:customer_id>/consent", methods=["GET", "POST"])
@allow("customer.manage")
def consent(customer_id: int):
    conn = get_conn()
    customer = found_or_404(queries.customer(conn, customer_id))
    given = queries.consents(conn, customer_id)
    keys = {"email": "EMAIL", "sms": "SMS", "whatsapp": "WHATSAPP", "call": "CALL"}
    if request.method == "GET":
        data = {k: ("in" if given[c]["opted_in"] else "out") if c in given else "" for k, c in keys.items()}
        data["language"] = customer["language"] or ""
        form = ConsentForm(data=data)
    else:
        form = ConsentForm()
    form.language.choices = [("", "English (default)")] + [(c, n) for c, n in LANGUAGES.items() if c != "en"]

    def save():
        for key, channel in keys.items():
            choice = form[key].data
            if choice in ("in", "out"):
                queries.save_consent(conn, customer_id, channel, choice == "in", form.how.data, form.note.data)
        queries.save_language(conn, customer_id, form.language.data or None)

    if form.validate_on_submit():
        _, saved = save_or_field_error(conn, form, CONSENT_MESSAGES, save)
        if saved:
            flash("Consent recorded.", "success")
            return redirect_response(url_for("communication.consent", customer_id=customer_id))
    status = 422 if request.method == "POST" else 200
    return render_template("communication/consent.html", customer=customer, given=given, form=form,
                           keys=keys, **_context()), status


def consent_panel_context(conn, customer) -> dict:
    """The customer page's panel (templates/communication/_customer_consent.html): consent per channel."""
    customer_id = (customer._mapping if hasattr(customer, "_mapping") else customer)["customer_id"]
    return {"consent_panel": {"given": queries.consents(conn, customer_id), "channels": CHANNELS,
                              "url": url_for("communication.consent", customer_id=customer_id)}}


# --------------------------------------------------------------------------- the staff bell


def _bell_flags() -> dict:
    return {"approvals": can("discount.decide"), "orders": can("purchase.approve"), "parts": can("parts_request.manage"),
            "follow_ups": can("sale.change"), "cards": can("jobcard.manage"),
            "calls": can("call_list.work")}


def _own() -> int | None:
    return None if can("sale.all_bookings") else current_user.staff_id


def _bell_items(counts: dict) -> list[dict]:
    """What waits, each with the page that shows it (only links the user may open)."""
    items = []
    for key, label, endpoint in (("discounts", "Discounts to approve", "sales.discount_list"),
                                 ("orders", "Purchase orders to approve", "procurement.po_list"),
                                 ("reorder", "Parts at reorder level", "inventory.part_stock_list"),
                                 ("follow_ups", "Follow-ups due", "communication.notifications"),
                                 ("cards_at_risk", "Job cards at risk of missing their promise",
                                  "communication.notifications"),
                                 ("calls", "Reminder calls to make today", "communication.call_list")):
        if counts.get(key):
            items.append({"label": label, "count": counts[key],
                          "url": url_for(endpoint) if may_open(endpoint) else None})
    return items


@bp.get("/bell")
@allow("notification.read")
def bell():
    """The bell's count (polled by htmx every minute). Not the user's activity: the session's last use
    is left as it was, so the idle timeout still ends a session nobody touches."""
    session.stale = False
    counts = queries.bell_counts(get_conn(), current_user.branch_id, today_ist(), _bell_flags(), _own())
    total = sum(v or 0 for v in counts.values())
    response = current_app.make_response(render_template("communication/_bell.html", total=total,
                                                         items=_bell_items(counts)))
    response.vary.update(("HX-Request", "HX-Target"))
    return response


@bp.get("/notifications")
@allow("notification.read")
def notifications():
    conn = get_conn()
    today = today_ist()
    counts = queries.bell_counts(conn, current_user.branch_id, today, _bell_flags(), _own())
    cards = queries.cards_at_risk(conn, current_user.branch_id) if counts.get("cards_at_risk") else []
    follow_ups = queries.follow_ups_due(conn, current_user.branch_id, today, _own()) if counts.get("follow_ups") else []
    return render_template("communication/notifications.html", items=_bell_items(counts), cards=cards,
                           follow_ups=follow_ups, today=today,
                           may_open_card=may_open("service.job_card_detail"),
                           may_open_lead=may_open("crm.lead_detail"))
