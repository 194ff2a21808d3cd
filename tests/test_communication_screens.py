"""Communication screens: rules and templates (a broken placeholder refused next to the text, the preview on
real data), channel settings, the run from the screen, the outbox, the call list with each call's outcome
and its printout, a customer's consent, the staff bell (its count, and that polling it never keeps an idle
session alive), and the demo's reminders."""
from __future__ import annotations

import re
from datetime import timedelta

import builders as b
import communication_builders as cb
import pytest
import sqlalchemy as sa
from builders import scalar
from conftest import page_csrf

from webapp.formatting import today_ist


@pytest.fixture
def admin(logged_in):
    client, staff_id = logged_in("ADMIN")
    return client, page_csrf(client, "/profile")


def test_a_template_with_an_unknown_placeholder_is_refused_next_to_its_text_as_typed(admin, engine):
    client, token = admin
    body = "Dear {customer}, your {model} is due on {due_date"
    response = client.post("/communication/templates/new", data={
        "csrf_token": token, "code": "SVC_DUE", "channel": "SMS", "language": "en", "body": body,
        "dlt_template_id": "1107160000000012345", "action": "save"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Unknown placeholder {customer}" in page and "a brace is not closed" in page
    assert "Dear {customer}, your {model} is due on {due_date</textarea>" in page      # kept as typed
    with engine.connect() as conn:
        assert scalar(conn, "SELECT count(*) FROM communication.template") == 0


def test_a_template_is_previewed_with_a_real_customers_details_then_saved(admin, engine):
    client, token = admin
    with engine.begin() as conn:
        branch = b.branch(conn)
        cb.vehicle(conn, branch, due_on=today_ist() + timedelta(days=5), due_km=5000)
        name = scalar(conn, "SELECT name FROM master.customer ORDER BY customer_id DESC LIMIT 1")
    form = {"csrf_token": token, "code": "SVC_DUE", "channel": "SMS", "language": "kn",
            "body": "ನಮಸ್ಕಾರ {customer_name}, ಸರ್ವೀಸ್ {due_km} ಕಿ.ಮೀ.", "dlt_template_id": "1107160000000012345"}
    preview = client.post("/communication/templates/new", data={**form, "action": "preview"})
    assert preview.status_code == 200
    assert f"ನಮಸ್ಕಾರ {name}, ಸರ್ವೀಸ್ 5000 ಕಿ.ಮೀ." in preview.get_data(as_text=True)
    with engine.connect() as conn:
        assert scalar(conn, "SELECT count(*) FROM communication.template") == 0    # a preview saves nothing
    unseen = client.post("/communication/templates/new", data={**form, "body": form["body"] + " {due_date}",
                                                                 "action": "save", "previewed": "0" * 32})
    assert unseen.status_code == 422 and "The text changed since its preview" in unseen.get_data(as_text=True)
    previewed = re.search(r'name="previewed" value="([0-9a-f]+)"', preview.get_data(as_text=True)).group(1)
    saved = client.post("/communication/templates/new", data={**form, "action": "save", "previewed": previewed})
    assert saved.status_code == 303
    with engine.connect() as conn:
        assert scalar(conn, "SELECT language FROM communication.template WHERE code = 'SVC_DUE'") == "kn"


def test_an_sms_template_needs_its_dlt_id_and_an_email_its_subject(admin):
    client, token = admin
    for channel, missing in (("SMS", "registered on the DLT platform"), ("EMAIL", "An e-mail needs its subject")):
        response = client.post("/communication/templates/new", data={
            "csrf_token": token, "code": "X_1", "channel": channel, "language": "en", "body": "Dear {customer_name}",
            "action": "save"})
        assert response.status_code == 422 and missing in response.get_data(as_text=True)


def test_a_rule_without_an_english_template_is_refused_next_to_the_template(admin, engine):
    client, token = admin
    with engine.begin() as conn:
        cb.template(conn, "ONLY_SMS", "SMS")
    response = client.post("/communication/rules/new", data={
        "csrf_token": token, "event": "SERVICE_DUE", "days_before": "7", "channel": "WHATSAPP",
        "template_code": "ONLY_SMS", "is_active": "y"})
    assert response.status_code == 422
    assert "has no English text for the channel" in response.get_data(as_text=True)
    response = client.post("/communication/rules/new", data={
        "csrf_token": token, "event": "SERVICE_DUE", "days_before": "7", "channel": "SMS",
        "template_code": "ONLY_SMS", "quiet_from": "21:00", "quiet_to": "09:00", "is_active": "y"})
    assert response.status_code == 303
    assert "Service due" in client.get("/communication/").get_data(as_text=True)


def test_turning_a_provider_on_needs_what_it_sends_with(admin):
    client, token = admin
    form = {"csrf_token": token, "smtp_port": "587", "promo_from": "09:00", "promo_to": "21:00", "max_attempts": "5",
            "retry_minutes": "5", "timeout_seconds": "10", "sms_enabled": "y", "sms_sender": "voltmt"}
    response = client.post("/communication/settings", data=form)
    assert response.status_code == 422
    assert "SMS needs the provider URL" in response.get_data(as_text=True)
    malformed = client.post("/communication/settings", data={**form, "sms_enabled": "", "email_from": "service.example.in",
                                                             "sms_url": "sms.example.in/api"})
    assert malformed.status_code == 422
    page = malformed.get_data(as_text=True)
    assert "An e-mail address" in page and "An http:// or https:// address" in page
    response = client.post("/communication/settings", data={**form, "sms_url": "https://sms.example.in/api",
                                                            "dlt_entity_id": "1101160000000011111"})
    assert response.status_code == 303


def test_the_run_from_the_screen_makes_the_reminders_and_the_outbox_shows_them(admin, engine):
    client, token = admin
    with engine.begin() as conn:
        cb.rule(conn, "SERVICE_DUE", 7)
        cb.vehicle(conn, b.branch(conn), due_on=today_ist() + timedelta(days=3))
    response = client.post("/communication/run", data={"csrf_token": token})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Reminders made: 1, queued: 1." in page
    assert "Queued" in page and "Service due" in page
    assert client.post("/communication/run", data={"csrf_token": token}).status_code == 303
    with engine.connect() as conn:
        assert scalar(conn, "SELECT count(*) FROM communication.outbox") == 1


def test_a_call_is_listed_its_outcome_recorded_and_the_list_printed(logged_in, engine):
    client, staff_id = logged_in("SERVICE_ADVISOR")
    token = page_csrf(client, "/profile")
    with engine.begin() as conn:
        branch = scalar(conn, "SELECT branch_id FROM master.staff WHERE staff_id = :s", s=staff_id)
        cb.rule(conn, "SERVICE_DUE", 7, "CALL")
        cb.vehicle(conn, branch, due_on=today_ist() + timedelta(days=3))
        cb.run(conn, on=today_ist())
        message_id = scalar(conn, "SELECT message_id FROM communication.outbox")
        name = scalar(conn, "SELECT to_name FROM communication.outbox")
    page = client.get("/communication/calls").get_data(as_text=True)
    assert name in page
    pdf = client.get("/communication/calls.pdf")
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    assert client.post(f"/communication/calls/{message_id}", data={"csrf_token": token}).status_code == 422
    response = client.post(f"/communication/calls/{message_id}", data={"csrf_token": token, "outcome": "NO_ANSWER"})
    assert response.status_code == 303
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT status, attempts, called_by FROM communication.outbox")).one()
    assert tuple(row) == ("FAILED", 1, staff_id)
    assert "No call to make today." in client.get("/communication/calls").get_data(as_text=True)  # tomorrow's
    response = client.post(f"/communication/calls/{message_id}", data={"csrf_token": token, "outcome": "REACHED"})
    assert response.status_code == 303
    with engine.connect() as conn:
        assert scalar(conn, "SELECT status FROM communication.outbox") == "DELIVERED"
    again = client.post(f"/communication/calls/{message_id}", data={"csrf_token": token, "outcome": "WRONG_NUMBER"})
    assert again.status_code == 200 and "This call is closed" in again.get_data(as_text=True)


def test_consent_is_recorded_per_channel_with_how_and_when_and_respected_by_the_run(logged_in, engine):
    client, _ = logged_in("SALES")
    token = page_csrf(client, "/profile")
    with engine.begin() as conn:
        cb.rule(conn, "SERVICE_DUE", 7)
        _, customer_id = cb.vehicle(conn, b.branch(conn), due_on=today_ist() + timedelta(days=3))
    response = client.post(f"/communication/customers/{customer_id}/consent", data={
        "csrf_token": token, "sms": "out", "whatsapp": "in", "email": "", "call": "", "how": "PHONE_CALL",
        "note": "Asked on the phone", "language": "kn"})
    assert response.status_code == 303
    page = client.get(f"/communication/customers/{customer_id}/consent").get_data(as_text=True)
    assert "Opted out" in page and "Opted in" in page and "Phone call" in page
    shown = client.get(f"/master/customers/{customer_id}")
    assert shown.status_code == 200, shown.status_code
    customer_page = shown.get_data(as_text=True)   # its panel
    assert "SMS: opted out" in customer_page and "WhatsApp: opted in" in customer_page
    assert "E-mail: not asked" in customer_page
    with engine.begin() as conn:
        assert cb.run(conn, on=today_ist()) == {"SERVICE_DUE": (1, 0)}
        assert scalar(conn, "SELECT language FROM communication.customer_language WHERE customer_id = :c",
                      c=customer_id) == "kn"


def test_a_technician_may_not_open_customer_consent_nor_the_call_list(logged_in, engine):
    client, _ = logged_in("TECHNICIAN")
    with engine.begin() as conn:
        customer_id = b.customer(conn, b.branch(conn))
    assert client.get(f"/communication/customers/{customer_id}/consent").status_code == 403
    assert client.get("/communication/calls").status_code == 403
    assert client.get("/communication/bell").status_code == 200


def test_the_bell_counts_what_waits_and_links_to_it(logged_in, engine):
    client, staff_id = logged_in("MANAGER")
    with engine.begin() as conn:
        branch = scalar(conn, "SELECT branch_id FROM master.staff WHERE staff_id = :s", s=staff_id)
        part_id = b.part(conn, part_no="BELL-PART-01")
        conn.execute(sa.text("UPDATE master.part SET reorder_level = 5 WHERE part_id = :p"), {"p": part_id})
        b.receive(conn, branch, part_id, 2, "100.00")
        conn.execute(sa.text("""INSERT INTO crm.lead (branch_id, lead_date, source, name, mobile, salesperson_id,
                                                           follow_up_on)
                                VALUES (:b, :d, 'PHONE', 'Kiran Rao', '9845011111', :s, :d)"""),
                     {"b": branch, "d": today_ist(), "s": staff_id})
    bell = client.get("/communication/bell", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert '<span class="bell-count"' in bell and ">2</span>" in bell
    page = client.get("/communication/notifications").get_data(as_text=True)
    assert "Parts at reorder level" in page and "Follow-ups due" in page and "Kiran Rao" in page
    home = client.get("/").get_data(as_text=True)
    assert 'hx-get="/communication/bell"' in home and 'hx-trigger="load, every 60s"' in home


@pytest.mark.commits
def test_polling_the_bell_does_not_keep_an_idle_session_alive(make_app, make_staff, engine):
    from conftest import login

    app = make_app(SESSION_IDLE_MINUTES=30)
    staff_id, code, pin = make_staff("BELL1", "SALES")
    client = app.test_client()
    assert login(client, code, pin).status_code == 303

    def last_seen():
        with engine.connect() as conn:
            return scalar(conn, "SELECT last_seen_at FROM master.staff_session WHERE staff_id = :s", s=staff_id)

    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE master.staff_session SET last_seen_at = now() - interval '10 minutes' "
                             "WHERE staff_id = :s"), {"s": staff_id})
    before = last_seen()
    assert client.get("/communication/bell", headers={"HX-Request": "true"}).status_code == 200
    assert last_seen() == before                      # a poll is not the user's activity
    assert client.get("/").status_code == 200
    assert last_seen() > before                       # a page opened is
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE master.staff_session SET last_seen_at = now() - interval '31 minutes' "
                             "WHERE staff_id = :s"), {"s": staff_id})
    expired = client.get("/communication/bell", headers={"HX-Request": "true", "HX-Current-URL": "http://localhost/"})
    assert expired.status_code == 401 and expired.headers["HX-Redirect"].startswith("/login")


def test_the_demo_has_rules_templates_in_three_languages_and_customers_with_and_without_consent(app, conn):
    from seed.demo import seed_demo

    with app.app_context():
        seed_demo(conn, lambda: "135790")
    languages = set(conn.execute(sa.text("SELECT DISTINCT language FROM communication.template")).scalars())
    assert languages == {"en", "hi", "kn"}
    assert scalar(conn, "SELECT count(*) FROM communication.rule WHERE is_active") >= 10
    consents = dict(conn.execute(sa.text("""SELECT c.name, bool_and(k.opted_in) FROM communication.consent k
                                            JOIN master.customer c USING (customer_id) GROUP BY c.name""")).all())
    assert consents == {"Meera Krishnan": True, "Rahul Deshpande": False}
    made = cb.run(conn, on=today_ist())
    assert made["BIRTHDAY"] == (1, 1)
    wish = conn.execute(sa.text("SELECT body, to_name FROM communication.outbox o JOIN communication.reminder m "
                                "USING (reminder_id) JOIN communication.rule r USING (rule_id) "
                                "WHERE r.event = 'BIRTHDAY'")).one()
    assert wish.to_name == "Meera Krishnan" and wish.body.startswith("ಹುಟ್ಟುಹಬ್ಬದ ಶುಭಾಶಯಗಳು, Meera Krishnan!")


@pytest.mark.commits
def test_the_command_line_run_makes_the_reminders_once_and_refuses_a_bad_day(make_app, committed):
    app = make_app()
    with committed.begin() as conn:
        cb.rule(conn, "SERVICE_DUE", 7)
        cb.vehicle(conn, b.branch(conn), due_on=cb.ON + timedelta(days=7))
    runner = app.test_cli_runner()
    first = runner.invoke(args=["reminders", "run", "--on", "10-12-2026"])
    assert first.exit_code == 0, first.output
    assert "reminders for 10-12-2026: 1 made, 1 queued" in first.output
    assert "outbox: 0 sent" in first.output                      # no provider turned on
    again = runner.invoke(args=["reminders", "run", "--on", "10-12-2026", "--no-send"])
    assert "0 made, 0 queued" in again.output and "outbox:" not in again.output
    bad = runner.invoke(args=["reminders", "run", "--on", "31-02-2026"])
    assert bad.exit_code != 0 and "--on:" in bad.output
