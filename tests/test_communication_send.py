"""The outbox's sender against real local endpoints the tests start: an SMTP server (aiosmtpd) that
receives the e-mail, and a fake HTTP provider for SMS and WhatsApp that answers as told (200 with a
message id, 500, 400, or too late), so retries with backoff, giving up, a provider that fails and
recovers and one that times out without holding up the other channels are seen end to end."""
from __future__ import annotations

import json
import socket
import threading
import time as clock
from datetime import timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import builders as b
import communication_builders as cb
import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from communication_builders import NOON, ON

from webapp.communication import engine


class FakeProvider:
    """An HTTP endpoint on 127.0.0.1 answering each POST with the next of ``answers``: an int status
    (200 answers {"message_id": ...} and the WhatsApp shape), or "slow" (answers after 3 s)."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.received: list[dict] = []
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                provider.received.append({"path": self.path, "body": body,
                                          "authorization": self.headers.get("Authorization")})
                answer = provider.answers.pop(0) if provider.answers else 200
                if answer == "slow":
                    clock.sleep(3)
                    answer = 200
                n = len(provider.received)
                payload = json.dumps({"message_id": f"SMS-{n}", "messages": [{"id": f"wamid.{n}"}]}).encode()
                try:
                    self.send_response(answer)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def provider():
    made = []

    def make(*answers):
        fake = FakeProvider(answers)
        made.append(fake)
        return fake

    yield make
    for fake in made:
        fake.close()


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    with socket.socket() as probe:          # a free port for the server
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield controller, inbox
    controller.stop()


def settings(conn, **values):
    sets = ", ".join(f"{k} = :{k}" for k in values)
    conn.execute(sa.text(f"UPDATE communication.setting SET {sets}"), values)


def queue(conn, channel, *, code=None, promotional=False):
    """One customer with a service due in two days, a rule for the channel, the run: the message id."""
    branch = b.branch(conn)
    cb.rule(conn, "SERVICE_DUE", 7, channel, code=code, promotional=promotional)
    _, customer_id = cb.vehicle(conn, branch, due_on=ON + timedelta(days=2))
    conn.execute(sa.text("UPDATE master.customer SET email = 'asha.rao@example.in' WHERE customer_id = :c"),
                 {"c": customer_id})
    if channel == "WHATSAPP" or promotional:
        cb.consent(conn, customer_id, channel, True)
    cb.run(conn)
    return conn.execute(sa.text("SELECT message_id FROM communication.outbox WHERE channel = :c"),
                        {"c": channel}).scalar_one(), customer_id


def message(conn, message_id):
    return conn.execute(sa.text("SELECT * FROM communication.outbox WHERE message_id = :m"),
                        {"m": message_id}).mappings().one()


def send(conn, now=NOON):
    return engine.send_pending(engine.savepoints(conn), now)


def test_an_email_is_received_by_the_smtp_server(conn, smtp_server):
    controller, inbox = smtp_server
    settings(conn, email_enabled=True, smtp_host="127.0.0.1", smtp_port=controller.port, smtp_starttls=False,
             email_from="service@voltmotors.example.in")
    message_id, _ = queue(conn, "EMAIL")
    outcome = send(conn)
    assert (outcome.sent, outcome.failed) == (1, 0)
    (recipients, mail), = inbox.messages
    assert recipients == ["asha.rao@example.in"]
    assert mail["From"] == "service@voltmotors.example.in"
    assert mail["Subject"].startswith("Reminder from Volt Motors ")
    assert f"is due on {(ON + timedelta(days=2)):%d-%m-%Y}." in mail.get_payload()
    sent = message(conn, message_id)
    assert sent["status"] == "SENT" and sent["provider_message_id"] == "".join(mail["Message-ID"].split()) and sent["attempts"] == 1


def test_an_sms_carries_the_dlt_fields_and_is_retried_after_a_500_until_the_provider_recovers(conn, provider):
    fake = provider(500, 200)
    settings(conn, sms_enabled=True, sms_url=fake.url + "/send", dlt_entity_id="1101160000000011111",
             sms_sender="VOLTMT", retry_minutes=5)
    message_id, _ = queue(conn, "SMS")
    assert send(conn).failed == 1
    failed = message(conn, message_id)
    assert (failed["status"], failed["attempts"]) == ("FAILED", 1)
    assert "HTTP 500" in failed["last_error"]
    assert failed["next_attempt_at"] == NOON + timedelta(minutes=5)
    assert send(conn, NOON + timedelta(minutes=4)).sent == 0          # not before its time
    assert send(conn, NOON + timedelta(minutes=5)).sent == 1
    sent = message(conn, message_id)
    assert (sent["status"], sent["attempts"], sent["provider_message_id"], sent["last_error"]) == \
        ("SENT", 2, "SMS-2", None)
    body = fake.received[-1]["body"]
    assert body["entity_id"] == "1101160000000011111" and body["sender"] == "VOLTMT"
    assert body["template_id"] == "1107160000000012345" and body["to"].startswith("91")
    assert body["text"] == sent["body"] and "{" not in body["text"]


def test_the_wait_doubles_with_each_failure_and_the_last_attempt_gives_up(conn, provider):
    fake = provider(500, 500, 500)
    settings(conn, sms_enabled=True, sms_url=fake.url, dlt_entity_id="1101160000000011111", sms_sender="VOLTMT",
             retry_minutes=5, max_attempts=3)
    message_id, _ = queue(conn, "SMS")
    now = NOON
    waits = []
    for _ in range(3):
        send(conn, now)
        row = message(conn, message_id)
        waits.append(row["next_attempt_at"] - now)
        now = row["next_attempt_at"]
    assert waits[:2] == [timedelta(minutes=5), timedelta(minutes=10)]
    assert (message(conn, message_id)["status"], message(conn, message_id)["attempts"]) == ("GIVEN_UP", 3)
    assert send(conn, now + timedelta(days=1)).sent == 0 and len(fake.received) == 3


def test_a_refusal_by_the_provider_gives_up_at_once(conn, provider):
    fake = provider(400)
    settings(conn, sms_enabled=True, sms_url=fake.url, dlt_entity_id="1101160000000011111", sms_sender="VOLTMT")
    message_id, _ = queue(conn, "SMS")
    assert send(conn).given_up == 1
    assert message(conn, message_id)["status"] == "GIVEN_UP"


def test_a_provider_that_times_out_does_not_hold_up_the_other_channel(conn, provider, smtp_server):
    slow = provider("slow")
    controller, inbox = smtp_server
    settings(conn, sms_enabled=True, sms_url=slow.url, dlt_entity_id="1101160000000011111", sms_sender="VOLTMT",
             email_enabled=True, smtp_host="127.0.0.1", smtp_port=controller.port, smtp_starttls=False,
             email_from="service@voltmotors.example.in", timeout_seconds=1)
    sms_id, _ = queue(conn, "SMS", code="T_SMS")
    cb.rule(conn, "SERVICE_DUE", 6, "EMAIL", code="T_EMAIL")
    assert cb.run(conn)["SERVICE_DUE"] == (1, 1)
    outcome = send(conn)
    assert (outcome.sent, outcome.failed, outcome.channels_down) == (1, 1, {"SMS"})
    assert "did not answer in time" in message(conn, sms_id)["last_error"]
    assert len(inbox.messages) == 1


def test_whatsapp_sends_the_approved_template_with_its_body_parameters(conn, provider):
    fake = provider(200)
    settings(conn, whatsapp_enabled=True, whatsapp_url=fake.url + "/v20.0", whatsapp_phone_id="104857600123")
    message_id, _ = queue(conn, "WHATSAPP")
    assert send(conn).sent == 1
    request = fake.received[0]
    assert request["path"] == "/v20.0/104857600123/messages"
    template = request["body"]["template"]
    assert template["name"] == "service_due" and template["language"] == {"code": "en"}
    params = [p["text"] for p in template["components"][0]["parameters"]]
    assert len(params) == 3 and params[2] == f"{(ON + timedelta(days=2)):%d-%m-%Y}"
    assert message(conn, message_id)["provider_message_id"] == "wamid.1"


def test_a_customer_who_opts_out_after_the_message_was_queued_is_not_sent_it(conn, provider):
    fake = provider(200)
    settings(conn, sms_enabled=True, sms_url=fake.url, dlt_entity_id="1101160000000011111", sms_sender="VOLTMT")
    message_id, customer_id = queue(conn, "SMS")
    cb.consent(conn, customer_id, "SMS", False, how="SMS_REPLY")
    assert send(conn).given_up == 1
    row = message(conn, message_id)
    assert row["status"] == "GIVEN_UP" and "opted out" in row["last_error"]
    assert fake.received == []


def test_a_promotional_message_waits_for_the_promotional_hours_at_send_time_too(conn, provider):
    fake = provider(200)
    settings(conn, sms_enabled=True, sms_url=fake.url, dlt_entity_id="1101160000000011111", sms_sender="VOLTMT")
    message_id, _ = queue(conn, "SMS", promotional=True)
    late = NOON.replace(hour=22)
    conn.execute(sa.text("UPDATE communication.outbox SET next_attempt_at = :t WHERE message_id = :m"),
                 {"t": late, "m": message_id})
    assert send(conn, late).deferred == 1
    assert message(conn, message_id)["next_attempt_at"] == (late + timedelta(days=1)).replace(hour=9)
    assert fake.received == []


def test_providers_are_off_until_turned_on(conn):
    message_id, _ = queue(conn, "SMS")
    assert send(conn).sent == 0
    assert message(conn, message_id)["status"] == "QUEUED"


def test_a_delivered_or_given_up_message_changes_no_more(conn):
    message_id, _ = queue(conn, "SMS")
    conn.execute(sa.text("UPDATE communication.outbox SET status = 'GIVEN_UP' WHERE message_id = :m"), {"m": message_id})
    with b.refused(conn, "outbox_final"):
        conn.execute(sa.text("UPDATE communication.outbox SET status = 'QUEUED' WHERE message_id = :m"),
                     {"m": message_id})


def test_a_sent_message_is_not_sent_again_by_a_later_run(conn, provider):
    fake = provider(200, 200)
    settings(conn, sms_enabled=True, sms_url=fake.url, dlt_entity_id="1101160000000011111", sms_sender="VOLTMT")
    queue(conn, "SMS")
    assert send(conn).sent == 1
    assert send(conn, NOON + timedelta(hours=1)).sent == 0
    assert len(fake.received) == 1
