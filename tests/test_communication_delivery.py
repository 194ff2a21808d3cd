"""Delivery reports (webapp/communication/hooks.py, communication.delivery_report) and the run from the screen.

The SMS provider's callback and the WhatsApp Cloud API's webhook are posted to as the providers do: no
login, no CSRF token, the shared token or the HMAC-SHA256 signature of the raw body. A SENT message becomes
DELIVERED, or GIVEN_UP / FAILED with a readable reason; a DELIVERED message never goes back; a report for a
message the outbox does not hold is answered 200 and ignored; a bad secret 403, a malformed body 400; a
report lands whatever the message's branch. The run from the screen sends a bounded batch, answers when
the provider fails or is slow, and leaves the rest queued for the scheduled run."""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import builders as b
import communication_builders as cb
import pytest
import sqlalchemy as sa
from builders import scalar
from conftest import page_csrf
from test_communication_send import provider, settings  # noqa: F401  (provider is a fixture)

from webapp import csrf
from webapp.communication import engine as sender
from webapp.communication import views
from webapp.formatting import today_ist

SMS_TOKEN = "sms-callback-3f9a1c7e5b"
VERIFY_TOKEN = "wa-verify-88c2d1"
APP_SECRET = "wa-app-secret-5e0b7a94"


@pytest.fixture
def secrets_set(monkeypatch):
    monkeypatch.setenv("ERP_SMS_CALLBACK_TOKEN", SMS_TOKEN)
    monkeypatch.setenv("ERP_WHATSAPP_VERIFY_TOKEN", VERIFY_TOKEN)
    monkeypatch.setenv("ERP_WHATSAPP_APP_SECRET", APP_SECRET)


@pytest.fixture
def provider_client(app, make_staff, secrets_set):
    make_staff("ADM1", "ADMIN")           # the showroom is set up; the provider itself logs in as nobody
    return app.test_client()


def sent(engine, channel: str, provider_id: str, branch_id: int | None = None) -> int:
    """A message the provider took (SENT, its id recorded), at a branch of its own: its message id."""
    with engine.begin() as conn:
        branch_id = branch_id or b.branch(conn)
        template_id = cb.template(conn, f"T_{channel}", channel)
        return scalar(conn, """
            INSERT INTO communication.outbox (branch_id, channel, to_name, to_address, template_id, body, status,
                                              attempts, sent_at, provider_message_id)
            VALUES (:b, :ch, 'Asha Rao', '9845012345', :t, 'Dear Asha Rao, your scooter is due.', 'SENT', 1, now(),
                    :pid) RETURNING message_id""", b=branch_id, ch=channel, t=template_id, pid=provider_id)


def row(engine, message_id: int):
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT * FROM communication.outbox WHERE message_id = :m"),
                            {"m": message_id}).mappings().one()


def sms(client, body, token=SMS_TOKEN, **kw):
    headers = {"X-Callback-Token": token} if token else {}
    return client.post("/communication/hooks/sms", json=body, headers=headers, **kw)


def signed(client, body: bytes, secret: str = APP_SECRET):
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return client.post("/communication/hooks/whatsapp", data=body, content_type="application/json",
                       headers={"X-Hub-Signature-256": signature})


def notification(*statuses) -> bytes:
    return json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1029384756", "changes": [
        {"field": "messages", "value": {"messaging_product": "whatsapp",
                                        "metadata": {"phone_number_id": "109876543210"},
                                        "statuses": list(statuses)}}]}]}).encode()


# ----------------------------------------------------------------------------- SMS


def test_an_sms_delivery_report_makes_the_message_delivered_and_never_back(provider_client, engine):
    message_id = sent(engine, "SMS", "SMS-7001")
    answer = sms(provider_client, {"message_id": "SMS-7001", "status": "DELIVRD"})
    assert answer.status_code == 200 and answer.get_json() == {"applied": 1, "ignored": 0}
    delivered = row(engine, message_id)
    assert delivered["status"] == "DELIVERED" and delivered["delivered_at"] is not None
    # A late SENT report, or a FAILED one, changes nothing: a delivered message is final.
    for late in ({"message_id": "SMS-7001", "status": "SENT"},
                 {"message_id": "SMS-7001", "status": "FAILED", "error_code": "633"}):
        assert sms(provider_client, late).status_code == 200
        assert row(engine, message_id)["status"] == "DELIVERED"


@pytest.mark.parametrize("code, status, reason", [
    ("633", "GIVEN_UP", "not delivered: the text does not match the DLT template registered (DLT error 633)"),
    ("623", "GIVEN_UP", "not delivered: the sender header is not registered or not active on DLT for this entity "
                        "(DLT error 623)"),
    ("INVALID-SUB", "GIVEN_UP", "not delivered: the number does not exist (INVALID-SUB)"),
    ("ABSENT-SUB", "FAILED", "not delivered: the phone was not reachable (ABSENT-SUB)"),
])
def test_an_sms_that_was_not_delivered_says_why_and_is_tried_again_only_when_that_may_pass(
        provider_client, engine, code, status, reason):
    message_id = sent(engine, "SMS", "SMS-7002")
    # A form post, as some providers call back, with the token in the URL.
    answer = provider_client.post(f"/communication/hooks/sms?token={SMS_TOKEN}",
                                  data={"message_id": "SMS-7002", "status": "UNDELIVERED", "error_code": code})
    assert answer.status_code == 200
    failed = row(engine, message_id)
    assert (failed["status"], failed["last_error"], failed["sent_at"]) == (status, reason, None)


def test_an_sms_report_needs_the_token_and_a_report(provider_client, engine, monkeypatch):
    message_id = sent(engine, "SMS", "SMS-7003")
    report = {"message_id": "SMS-7003", "status": "DELIVERED"}
    assert sms(provider_client, report, token="sms-callback-3f9a1c7e5c").status_code == 403
    assert sms(provider_client, report, token=None).status_code == 403
    for body in (b"{not json", b"[1, 2]", b'{"message_id": "SMS-7003", "status": "ARRIVED"}',
                 b'{"status": "DELIVERED"}', b'{"message_id": ["SMS-7003"], "status": "DELIVERED"}'):
        answer = provider_client.post("/communication/hooks/sms", data=body, content_type="application/json",
                                      headers={"X-Callback-Token": SMS_TOKEN})
        assert answer.status_code == 400, body
    assert row(engine, message_id)["status"] == "SENT"
    # With no token set on the server every report is refused.
    monkeypatch.delenv("ERP_SMS_CALLBACK_TOKEN")
    assert sms(provider_client, report, token="").status_code == 403
    assert row(engine, message_id)["status"] == "SENT"


def test_reports_for_unknown_messages_are_ignored_and_every_branchs_message_lands(provider_client, engine):
    with engine.begin() as conn:
        north, south = b.branch(conn), b.branch(conn)
    first, second = sent(engine, "SMS", "SMS-7101", north), sent(engine, "SMS", "SMS-7102", south)
    answer = sms(provider_client, [{"message_id": "SMS-7101", "status": "DELIVERED"},
                                   {"message_id": "SMS-7102", "status": "DELIVERED"},
                                   {"message_id": "NOT-OURS-1", "status": "DELIVERED"}])
    assert answer.status_code == 200 and answer.get_json() == {"applied": 2, "ignored": 1}
    assert row(engine, first)["status"] == row(engine, second)["status"] == "DELIVERED"
    # The same provider id on another channel is another message.
    whatsapp = sent(engine, "WHATSAPP", "SMS-7103")
    assert sms(provider_client, {"message_id": "SMS-7103", "status": "DELIVERED"}).get_json()["ignored"] == 1
    assert row(engine, whatsapp)["status"] == "SENT"


# ----------------------------------------------------------------------------- WhatsApp


def test_the_whatsapp_webhook_is_verified_with_the_verify_token(provider_client):
    answer = provider_client.get("/communication/hooks/whatsapp", query_string={
        "hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"})
    assert answer.status_code == 200 and answer.get_data(as_text=True) == "1158201444"
    assert answer.mimetype == "text/plain"
    for wrong in ({"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"},
                  {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"}, {}):
        assert provider_client.get("/communication/hooks/whatsapp", query_string=wrong).status_code == 403


def test_whatsapp_statuses_signed_by_the_app_secret_move_the_outbox(provider_client, engine):
    read, failed, delivered = (sent(engine, "WHATSAPP", f"wamid.HBgM{n}") for n in (1, 2, 3))
    body = notification(
        {"id": "wamid.HBgM1", "status": "read", "timestamp": "1765350000", "recipient_id": "919845012345"},
        {"id": "wamid.HBgM2", "status": "failed", "timestamp": "1765350000", "recipient_id": "919845012345",
         "errors": [{"code": 131026, "title": "Message undeliverable"}]},
        {"id": "wamid.HBgM3", "status": "delivered", "timestamp": "1765350000"},
        {"id": "wamid.someone-elses", "status": "delivered", "timestamp": "1765350000"})
    answer = signed(provider_client, body)
    assert answer.status_code == 200 and answer.get_json() == {"applied": 3, "ignored": 1}
    assert row(engine, read)["status"] == row(engine, delivered)["status"] == "DELIVERED"
    assert (row(engine, failed)["status"], row(engine, failed)["last_error"]) == (
        "GIVEN_UP", "not delivered: the number is not on WhatsApp or cannot receive this message (WhatsApp error 131026)")
    # A "sent" status arriving after "delivered" leaves it delivered.
    assert signed(provider_client, notification({"id": "wamid.HBgM3", "status": "sent"})).status_code == 200
    assert row(engine, delivered)["status"] == "DELIVERED"


def test_a_whatsapp_notification_with_a_bad_signature_or_body_is_refused(provider_client, engine):
    message_id = sent(engine, "WHATSAPP", "wamid.HBgM9")
    body = notification({"id": "wamid.HBgM9", "status": "delivered"})
    assert signed(provider_client, body, secret="not-the-app-secret").status_code == 403
    unsigned = provider_client.post("/communication/hooks/whatsapp", data=body, content_type="application/json")
    assert unsigned.status_code == 403
    tampered = body.replace(b"delivered", b"read")
    signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert provider_client.post("/communication/hooks/whatsapp", data=tampered, content_type="application/json",
                                headers={"X-Hub-Signature-256": signature}).status_code == 403
    for malformed in (b"{not json", b'{"entry": {}}', b'{"entry": [{"changes": [{"value": {"statuses": "x"}}]}]}',
                      b'{"entry": [{"changes": [{"value": {"statuses": [{"status": "delivered"}]}}]}]}',
                      b"[" * 100_000):
        assert signed(provider_client, malformed).status_code == 400, malformed[:80]
    # A status of another shape, or one the outbox has no use for, is counted as ignored.
    odd = notification({"id": "wamid.HBgM9", "status": ["delivered"]}, {"id": "wamid.HBgM9", "status": "deleted"})
    assert signed(provider_client, odd).get_json() == {"applied": 0, "ignored": 2}
    assert row(engine, message_id)["status"] == "SENT"


def test_only_the_provider_routes_are_exempt_from_the_csrf_check(app):
    exempt = {f"{app.view_functions[e].__module__}.{app.view_functions[e].__name__}"
              for e in ("communication.sms_report", "communication.whatsapp_status")}
    assert csrf._exempt_views == exempt
    assert not csrf._exempt_blueprints


def test_the_settings_screen_shows_the_callback_addresses(logged_in, secrets_set, monkeypatch):
    monkeypatch.delenv("ERP_WHATSAPP_APP_SECRET")
    client, _ = logged_in("ADMIN")
    page = client.get("/communication/settings").get_data(as_text=True)
    assert "http://localhost/communication/hooks/sms" in page and "http://localhost/communication/hooks/whatsapp" in page
    assert page.count(">Set</span>") == 2 and page.count(">Not set</span>") == 1
    assert SMS_TOKEN not in page and VERIFY_TOKEN not in page


# ----------------------------------------------------------------------------- the run from the screen


@pytest.fixture
def admin(logged_in):
    client, _ = logged_in("ADMIN")
    return client, page_csrf(client, "/profile")


def due(engine, vehicles: int, fake) -> None:
    """An SMS rule, ``vehicles`` services due in three days and the SMS provider at ``fake``."""
    with engine.begin() as conn:
        settings(conn, sms_enabled=True, sms_url=fake.url + "/sms", dlt_entity_id="1101160000000011111",
                 sms_sender="VOLTEV", timeout_seconds=30)
        cb.rule(conn, "SERVICE_DUE", 7)
        branch = b.branch(conn)
        for _ in range(vehicles):
            cb.vehicle(conn, branch, due_on=today_ist() + timedelta(days=3))


def statuses(engine) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(sa.text("SELECT status, count(*) FROM communication.outbox GROUP BY status")).all())


def test_the_screen_sends_a_bounded_batch_and_leaves_the_rest_for_the_scheduled_run(admin, engine, provider,
                                                                                     monkeypatch):
    client, token = admin
    monkeypatch.setattr(views, "SCREEN_SECONDS", 600)    # the batch's size is what is checked, not the machine's speed
    fake = provider()
    due(engine, views.SCREEN_BATCH + 3, fake)
    response = client.post("/communication/run", data={"csrf_token": token})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert (f"Reminders made: {views.SCREEN_BATCH + 3}, queued: {views.SCREEN_BATCH + 3}. "
            f"Sent now: {views.SCREEN_BATCH}, to try again: 0") in page
    assert "Left for the scheduled run: 3." in page
    assert len(fake.received) == views.SCREEN_BATCH
    assert statuses(engine) == {"SENT": views.SCREEN_BATCH, "QUEUED": 3}


def test_a_failing_provider_does_not_hold_the_page_and_loses_nothing(admin, engine, provider):
    client, token = admin
    fake = provider(500)
    due(engine, 4, fake)
    response = client.post("/communication/run", data={"csrf_token": token})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Sent now: 0, to try again: 1" in page and "Not reachable now: SMS." in page
    assert "Left for the scheduled run: 3." in page
    assert len(fake.received) == 1                      # the channel is left alone after its failure
    assert statuses(engine) == {"FAILED": 1, "QUEUED": 3}


def test_a_slow_provider_gets_the_screens_short_timeout(admin, engine, provider, monkeypatch):
    client, token = admin
    monkeypatch.setattr(views, "SCREEN_TIMEOUT_SECONDS", 1)
    fake = provider("slow")                              # answers after 3 s; the setting would wait 30 s
    due(engine, 2, fake)
    response = client.post("/communication/run", data={"csrf_token": token})
    assert response.status_code == 303
    with engine.connect() as conn:
        errors = conn.execute(sa.text("SELECT status, last_error FROM communication.outbox "
                                      "WHERE attempts > 0")).all()
    assert errors == [("FAILED", "the provider did not answer in time")]
    assert statuses(engine) == {"FAILED": 1, "QUEUED": 1}


def test_the_sender_begins_no_message_once_its_time_is_up(conn, provider):
    fake = provider()
    settings(conn, sms_enabled=True, sms_url=fake.url + "/sms", dlt_entity_id="1101160000000011111",
             sms_sender="VOLTEV")
    cb.rule(conn, "SERVICE_DUE", 7)
    branch = b.branch(conn)
    for _ in range(4):
        cb.vehicle(conn, branch, due_on=cb.ON + timedelta(days=2))
    cb.run(conn)
    ticks = iter([0.0, 0.0, 4.0, 6.0, 9.0])             # the clock at the start, then before each message
    outcome = sender.send_pending(sender.savepoints(conn), cb.NOON, seconds=5, clock=lambda: next(ticks))
    assert outcome.sent == 2 and len(fake.received) == 2
    assert sender.still_due(conn, cb.NOON, ["SMS"]) == 2
    # The command line's run has no bound: it sends everything.
    assert sender.send_pending(sender.savepoints(conn), cb.NOON).sent == 2
