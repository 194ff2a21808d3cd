"""The reminder engine in PostgreSQL (sql/0037_communication.sql, sql/functions/94_communication.sql)
on a fixed clock: what is due on the boundaries of a rule's days, the service due by km projected from
the vehicle's average daily running, each event's source, consent, language, quiet and promotional
hours, and a run made twice, also at the same moment on two connections, making each reminder once."""
from __future__ import annotations

import math
import threading
from datetime import date, datetime, time, timedelta

import builders as b
import communication_builders as cb
import pytest
import sqlalchemy as sa
from builders import scalar
from communication_builders import ON

from webapp.communication.forms import fill, template_problems
from webapp.formatting import IST


@pytest.fixture
def branch(conn):
    return b.branch(conn)


def test_a_service_is_reminded_from_its_days_before_up_to_the_due_day_and_not_outside(conn, branch):
    cb.rule(conn, "SERVICE_DUE", 7)
    due = {days: cb.vehicle(conn, branch, due_on=ON + timedelta(days=days))[0] for days in (-1, 0, 3, 7, 8)}
    assert cb.run(conn)["SERVICE_DUE"] == (3, 3)
    made = {(r["subject_id"], r["due_on"]) for r in cb.reminders(conn)}
    assert made == {(due[d], ON + timedelta(days=d)) for d in (0, 3, 7)}


def test_the_service_due_by_km_comes_first_when_the_vehicle_runs_that_far_before_the_date(conn, branch):
    cb.rule(conn, "SERVICE_DUE", 7)
    # Sold 01-01-2026, 6,040 km on 01-11-2026 (304 days: 19.87 km a day); next service at 6,200 km or 01-06-2027.
    sold, read_on = date(2026, 1, 1), date(2026, 11, 1)
    vehicle_id, _ = cb.vehicle(conn, branch, sale_date=str(sold), due_on=date(2027, 6, 1), due_km=6200,
                               km=6040, km_on=read_on)
    projected = read_on + timedelta(days=math.ceil(160 / (6040 / (read_on - sold).days)))
    assert projected == date(2026, 11, 10)
    assert cb.run(conn, on=date(2026, 11, 5))["SERVICE_DUE"] == (1, 1)
    assert [(r["subject_id"], r["due_on"]) for r in cb.reminders(conn)] == [(vehicle_id, projected)]
    # A vehicle that hardly runs keeps the date: nothing due by km within the week.
    cb.vehicle(conn, branch, sale_date=str(sold), due_on=date(2027, 6, 1), due_km=6200, km=300, km_on=read_on)
    assert cb.run(conn, on=date(2026, 11, 6)) == {"SERVICE_DUE": (0, 0)}


def test_a_second_run_makes_and_sends_nothing_again(conn, branch):
    cb.rule(conn, "SERVICE_DUE", 7)
    cb.vehicle(conn, branch, due_on=ON + timedelta(days=2))
    assert cb.run(conn) == {"SERVICE_DUE": (1, 1)}
    assert cb.run(conn) == {"SERVICE_DUE": (0, 0)}
    assert cb.run(conn, on=ON + timedelta(days=1)) == {"SERVICE_DUE": (0, 0)}   # the next day: same due date
    assert len(cb.outbox(conn)) == 1


def test_the_queued_text_is_the_template_with_the_vehicles_facts(conn, branch):
    cb.rule(conn, "SERVICE_DUE", 7)
    _, customer_id = cb.vehicle(conn, branch, due_on=ON + timedelta(days=2))
    name, reg = conn.execute(sa.text("""SELECT c.name, v.registration_no FROM master.customer c
                                         JOIN service.vehicle v USING (customer_id) WHERE c.customer_id = :c"""),
                             {"c": customer_id}).one()
    message = cb.outbox(conn)[0] if cb.run(conn) else None
    assert message["channel"] == "SMS" and message["status"] == "QUEUED"
    assert message["body"].startswith(f"Dear {name}, your ")
    assert f"({reg}) is due for service on {(ON + timedelta(days=2)):%d-%m-%Y}." in message["body"]
    assert "{" not in message["body"]


def test_the_customers_language_is_used_and_english_when_it_has_no_text(conn, branch):
    cb.rule(conn, "SERVICE_DUE", 7, code="SVC")
    cb.template(conn, "SVC", "SMS", "kn", body="ನಮಸ್ಕಾರ {customer_name}, ಸರ್ವೀಸ್ ದಿನಾಂಕ {due_date}")
    _, kannada = cb.vehicle(conn, branch, due_on=ON + timedelta(days=1))
    _, hindi = cb.vehicle(conn, branch, due_on=ON + timedelta(days=1))
    conn.execute(sa.text("INSERT INTO communication.customer_language VALUES (:k, 'kn'), (:h, 'hi')"),
                 {"k": kannada, "h": hindi})
    cb.run(conn)
    bodies = {m["customer_id"]: m["body"] for m in cb.outbox(conn)}
    assert bodies[kannada].startswith("ನಮಸ್ಕಾರ ") and f"{(ON + timedelta(days=1)):%d-%m-%Y}" in bodies[kannada]
    assert bodies[hindi].startswith("Dear ")


def test_an_opted_out_customer_gets_no_message_and_whatsapp_needs_an_opt_in(conn, branch):
    cb.rule(conn, "SERVICE_DUE", 7, "SMS")
    cb.rule(conn, "SERVICE_DUE", 7, "WHATSAPP")
    _, out = cb.vehicle(conn, branch, due_on=ON + timedelta(days=1))
    _, opted_in = cb.vehicle(conn, branch, due_on=ON + timedelta(days=1))
    _, silent = cb.vehicle(conn, branch, due_on=ON + timedelta(days=1))
    cb.consent(conn, out, "SMS", False)
    cb.consent(conn, out, "WHATSAPP", False)
    cb.consent(conn, opted_in, "WHATSAPP", True)
    assert cb.run(conn) == {"SERVICE_DUE": (6, 3)}
    sent = {(m["customer_id"], m["channel"]) for m in cb.outbox(conn)}
    assert sent == {(opted_in, "SMS"), (silent, "SMS"), (opted_in, "WHATSAPP")}
    assert sorted(r["outcome"] for r in cb.reminders(conn)) == ["NO_CONSENT"] * 3 + ["QUEUED"] * 3
    whatsapp = next(m for m in cb.outbox(conn) if m["channel"] == "WHATSAPP")
    assert whatsapp["params"][2] == f"{(ON + timedelta(days=1)):%d-%m-%Y}" and len(whatsapp["params"]) == 3


def test_a_customer_without_an_email_address_is_noted_not_queued(conn, branch):
    cb.rule(conn, "SERVICE_DUE", 7, "EMAIL")
    cb.vehicle(conn, branch, due_on=ON + timedelta(days=1))
    assert cb.run(conn) == {"SERVICE_DUE": (1, 0)}
    assert cb.reminders(conn)[0]["outcome"] == "NO_ADDRESS"


@pytest.mark.parametrize("quiet, at, expected", [
    (("21:00", "09:00"), time(22, 30), datetime(2026, 12, 11, 9, 0, tzinfo=IST)),    # across midnight
    (("21:00", "09:00"), time(6, 15), datetime(2026, 12, 10, 9, 0, tzinfo=IST)),
    (("21:00", "09:00"), time(20, 59), datetime(2026, 12, 10, 20, 59, tzinfo=IST)),  # just before: now
    (("13:00", "14:00"), time(13, 0), datetime(2026, 12, 10, 14, 0, tzinfo=IST)),    # the first quiet minute
    (("13:00", "14:00"), time(14, 0), datetime(2026, 12, 10, 14, 0, tzinfo=IST)),    # quiet ends: now
])
def test_a_message_made_in_its_rules_quiet_hours_waits_for_their_end(conn, branch, quiet, at, expected):
    cb.rule(conn, "SERVICE_DUE", 7, quiet=quiet)
    cb.vehicle(conn, branch, due_on=ON + timedelta(days=1))
    cb.run(conn, now=datetime.combine(ON, at, tzinfo=IST))
    assert cb.outbox(conn)[0]["next_attempt_at"] == expected


def test_birthday_wishes_are_promotional_only_to_who_opted_in_and_only_in_the_promotional_hours(conn, branch):
    cb.rule(conn, "BIRTHDAY", 0, promotional=True)
    yes, no = b.customer(conn, branch), b.customer(conn, branch)
    leap = b.customer(conn, branch)
    conn.execute(sa.text("""UPDATE master.customer SET date_of_birth = CASE customer_id WHEN :leap THEN DATE '1996-02-29'
                                                                       ELSE DATE '1990-12-10' END
                             WHERE customer_id IN (:yes, :no, :leap)"""), {"yes": yes, "no": no, "leap": leap})
    cb.consent(conn, yes, "SMS", True)
    cb.consent(conn, leap, "SMS", True)
    assert cb.run(conn, now=datetime.combine(ON, time(7, 0), tzinfo=IST)) == {"BIRTHDAY": (2, 1)}
    message = cb.outbox(conn)[0]
    assert message["customer_id"] == yes and message["promotional"]
    assert message["next_attempt_at"] == datetime(2026, 12, 10, 9, 0, tzinfo=IST)   # setting's promo_from
    # 29 February, in a common year: wished on 28 February.
    assert cb.run(conn, on=date(2027, 2, 28)) == {"BIRTHDAY": (1, 1)}
    assert cb.reminders(conn)[-1]["due_on"] == date(2027, 2, 28)


def test_own_damage_and_third_party_are_reminded_separately_and_a_renewed_cover_is_not(conn):
    s = b.sale_setup(conn)
    booking_id, _ = b.invoiced_booking(conn, s, on="2026-06-02")
    insurer = scalar(conn, "INSERT INTO master.insurer (name) VALUES ('Digit') RETURNING insurer_id")
    policy = scalar(conn, """
        INSERT INTO insurance.policy (branch_id, booking_id, unit_id, customer_id, insurer_id, od_policy_no, od_from,
                                      od_to, tp_policy_no, tp_from, tp_to, premium)
        VALUES (:b, :bk, :u, :c, :i, 'OD-1001', '2025-12-15', '2026-12-14', 'TP-1001', '2025-12-15', '2030-12-14', 5000)
        RETURNING policy_id""", b=s.branch_id, bk=booking_id, u=s.unit_id, c=s.customer_id, i=insurer)
    cb.rule(conn, "INSURANCE_OD", 7)
    cb.rule(conn, "INSURANCE_TP", 7)
    assert cb.run(conn) == {"INSURANCE_OD": (1, 1), "INSURANCE_TP": (0, 0)}
    assert [(r["subject_id"], r["due_on"]) for r in cb.reminders(conn)] == [(policy, date(2026, 12, 14))]
    # Renewed: a later policy of the unit covers own damage beyond; the next run says nothing of the old one.
    conn.execute(sa.text("DELETE FROM communication.outbox; DELETE FROM communication.reminder"))
    scalar(conn, """
        INSERT INTO insurance.policy (branch_id, unit_id, customer_id, insurer_id, od_policy_no, od_from, od_to, premium)
        VALUES (:b, :u, :c, :i, 'OD-2002', '2026-12-15', '2027-12-14', 3000) RETURNING policy_id""",
        b=s.branch_id, u=s.unit_id, c=s.customer_id, i=insurer)
    assert cb.run(conn) == {"INSURANCE_OD": (0, 0), "INSURANCE_TP": (0, 0)}


def test_warranty_ends_free_service_lapse_recall_delivery_and_follow_up_are_found(conn, branch):
    catalog = b.vehicle_catalog(conn)
    model_id = scalar(conn, "SELECT model_id FROM oem.variant WHERE variant_id = :v", v=catalog.variant_id)
    # Vehicle warranty 3 years from 14-12-2023: its last day 13-12-2026; battery 5 years: not this week.
    old, _ = cb.vehicle(conn, branch, sale_date="2023-12-14", variant_id=catalog.variant_id)
    # A free service at 1 month / 1,000 km for a vehicle sold 12-11-2026: lapses 12-12-2026.
    conn.execute(sa.text("INSERT INTO oem.free_service (model_id, service_no, due_months, due_km) "
                         "VALUES (:m, 1, 1, 1000)"), {"m": model_id})
    young, _ = cb.vehicle(conn, branch, sale_date="2026-11-12", variant_id=catalog.variant_id)
    # A recall by VIN list, open since 01-12-2026, not yet done on the old vehicle.
    oem_id = scalar(conn, "SELECT oem_id FROM oem.model WHERE model_id = :m", m=model_id)
    vin = scalar(conn, "SELECT vin FROM service.vehicle WHERE vehicle_id = :v", v=old)
    campaign = scalar(conn, """INSERT INTO warranty.campaign (oem_id, code, title, kind, opened_on, match_by)
                               VALUES (:o, 'RC-26-01', 'Brake hose check', 'RECALL', '2026-12-01', 'VIN_LIST')
                               RETURNING campaign_id""", o=oem_id)
    conn.execute(sa.text("INSERT INTO warranty.campaign_vin (campaign_id, vin) VALUES (:c, :v)"),
                 {"c": campaign, "v": vin})
    # A booking promised for 12-12-2026, and a lead to follow up on 10-12-2026.
    s = b.sale_setup(conn)
    booking_id = b.booking(conn, s)
    conn.execute(sa.text("UPDATE sales.booking SET expected_delivery = '2026-12-12' WHERE booking_id = :b"),
                 {"b": booking_id})
    enquiry = scalar(conn, """INSERT INTO crm.lead (branch_id, lead_date, source, name, mobile, salesperson_id,
                                                         follow_up_on)
                              VALUES (:b, '2026-12-01', 'WALK_IN', 'Kiran Rao', '9845011111', :sp, '2026-12-10')
                              RETURNING lead_id""", b=s.branch_id, sp=s.sales_id)
    for event, days in (("WARRANTY_VEHICLE", 7), ("WARRANTY_BATTERY", 7), ("FREE_SERVICE_LAPSE", 3), ("RECALL", 0),
                        ("DELIVERY_PROMISED", 2), ("FOLLOW_UP", 0)):
        cb.rule(conn, event, days, "CALL" if event == "FOLLOW_UP" else "SMS")
    assert cb.run(conn) == {"WARRANTY_VEHICLE": (1, 1), "WARRANTY_BATTERY": (0, 0), "FREE_SERVICE_LAPSE": (1, 1),
                            "RECALL": (1, 1), "DELIVERY_PROMISED": (1, 1), "FOLLOW_UP": (1, 1)}
    found = {r["event"]: (r["subject_id"], r["detail_id"], r["due_on"]) for r in cb.reminders(conn)}
    assert found == {"WARRANTY_VEHICLE": (old, 0, date(2026, 12, 13)), "FREE_SERVICE_LAPSE": (young, 1, date(2026, 12, 12)),
                     "RECALL": (old, campaign, date(2026, 12, 1)), "DELIVERY_PROMISED": (booking_id, 0, date(2026, 12, 12)),
                     "FOLLOW_UP": (enquiry, 0, date(2026, 12, 10))}
    # The recall is made once while it is open, whatever the day of the run; once done, no more.
    assert cb.run(conn, on=ON + timedelta(days=1))["RECALL"] == (0, 0)



def _replace_pack(conn, vehicle_id: int, on: str) -> int:
    """The vehicle's pack taken out on ``on`` and a new one fitted that day (a warranty replacement)."""
    conn.execute(sa.text("UPDATE service.pack_fitment SET removed_on = :d WHERE vehicle_id = :v AND removed_on IS NULL"),
                 {"d": on, "v": vehicle_id})
    pack_id = b.battery_pack(conn)
    conn.execute(sa.text("""INSERT INTO service.pack_fitment (pack_id, vehicle_id, fitted_on, reason)
                            VALUES (:p, :v, :d, 'Warranty replacement')"""), {"p": pack_id, "v": vehicle_id, "d": on})
    return pack_id


def test_a_replaced_battery_is_reminded_of_the_fitted_packs_own_term_on_the_boundary(conn, branch):
    """Battery cover 5 years. The OEM's replacement rule since 2020 is FRESH: a pack fitted as a warranty
    replacement has 5 years from its fitment day; an OEM without a rule: REMAINING (the original term)."""
    fresh = b.vehicle_catalog(conn)
    conn.execute(sa.text("""INSERT INTO warranty.replacement_rule (oem_id, pack_term, effective_from)
                            VALUES (:o, 'FRESH', '2020-01-01')"""), {"o": fresh.oem_id})
    remaining = b.vehicle_catalog(conn)
    cb.rule(conn, "WARRANTY_BATTERY", 7)

    def vehicle(catalog, sold: str, replaced_on: str | None = None) -> int:
        vehicle_id, _ = cb.vehicle(conn, branch, sale_date=sold, variant_id=catalog.variant_id)
        if replaced_on:
            _replace_pack(conn, vehicle_id, replaced_on)
        return vehicle_id

    # Sold 02-06-2021 (its own term ended 01-06-2026); the pack fitted 18-12-2021 is covered to 17-12-2026:
    # the last day of the 7 days from 10-12-2026. Fitted a day later: 18-12-2026, one day beyond.
    last_day = vehicle(fresh, "2021-06-02", "2021-12-18")
    day_after = vehicle(fresh, "2021-06-02", "2021-12-19")
    # Sold 14-12-2021: the original term ends 13-12-2026, but the pack fitted in 2024 has its own to 2029.
    vehicle(fresh, "2021-12-14", "2024-03-01")
    # The same without a replacement, and with one under REMAINING: 13-12-2026, the original term.
    untouched = vehicle(fresh, "2021-12-14")
    kept_term = vehicle(remaining, "2021-12-14", "2024-03-01")
    assert cb.run(conn) == {"WARRANTY_BATTERY": (3, 3)}
    assert {(r["subject_id"], r["due_on"]) for r in cb.reminders(conn)} == {
        (last_day, date(2026, 12, 17)), (untouched, date(2026, 12, 13)), (kept_term, date(2026, 12, 13))}
    message = next(m for m in cb.outbox(conn) if m["customer_id"] == scalar(
        conn, "SELECT customer_id FROM service.vehicle WHERE vehicle_id = :v", v=last_day))
    assert "17-12-2026" in message["body"]
    # The next day the later pack's last day is within the 7 days; nothing is made twice.
    assert cb.run(conn, on=ON + timedelta(days=1)) == {"WARRANTY_BATTERY": (1, 1)}
    assert (day_after, date(2026, 12, 18)) in {(r["subject_id"], r["due_on"]) for r in cb.reminders(conn)}


def test_a_rule_needs_an_english_template_and_a_template_its_known_placeholders(conn):
    with b.refused(conn, "rule_template"):
        conn.execute(sa.text("INSERT INTO communication.rule (event, days_before, channel, template_code) "
                             "VALUES ('SERVICE_DUE', 7, 'SMS', 'NOPE')"))
    for body in ("Dear {customer}, hello", "Dear {customer_name, hello", "Due {due_date}} now", "{}"):
        assert template_problems(body), body
        with b.refused(conn, "template_placeholders"):
            cb.template(conn, "BROKEN", "SMS", body=body)
    assert template_problems("Dear {customer_name}, {due_date}") == []
    cb.template(conn, "GOOD", "SMS", body="Dear {customer_name}, {due_date}")
    assert fill("Dear {customer_name}, {due_date}", {"customer_name": "Asha"}) == "Dear Asha, "
    assert scalar(conn, "SELECT communication.fill('Dear {customer_name}, {due_date}', '{\"customer_name\": \"Asha\"}')") \
        == "Dear Asha, "


def test_an_address_that_is_no_mobile_or_email_cannot_be_queued(conn, branch):
    template_id = cb.template(conn, "ANY", "SMS")
    for channel, address in (("SMS", "12345"), ("SMS", "+919845098450"), ("EMAIL", "asha.example.in")):
        with b.refused(conn, "outbox_address"):
            conn.execute(sa.text("""INSERT INTO communication.outbox (branch_id, channel, to_name, to_address, template_id,
                                                                       body) VALUES (:b, :ch, 'Asha', :a, :t, 'Hi')"""),
                         {"b": branch, "ch": channel, "a": address, "t": template_id})


@pytest.mark.commits
def test_two_runs_at_the_same_moment_make_each_reminder_once(committed):
    with committed.begin() as conn:
        branch = b.branch(conn)
        cb.rule(conn, "SERVICE_DUE", 7)
        for days in range(5):
            cb.vehicle(conn, branch, due_on=ON + timedelta(days=days))
    second = b.Outcome()
    with b.separate_connections(committed) as two:
        with two.connect() as first:
            assert cb.run(first) == {"SERVICE_DUE": (5, 5)}        # not committed yet

            def run_second():
                try:
                    with two.connect() as conn:
                        b.tag(conn, "second_run")
                        second.result = cb.run(conn)
                        conn.commit()
                        second.ok = True
                except BaseException as exc:   # noqa: BLE001 - reported below
                    second.error = exc

            waiter = threading.Thread(target=run_second)
            waiter.start()
            b.wait_until_blocked(committed, "second_run")      # it waits on the first run's reminders
            first.commit()
        waiter.join(20)
    assert second.ok, second.error
    assert second.result == {"SERVICE_DUE": (0, 0)}
    with committed.connect() as conn:
        assert scalar(conn, "SELECT count(*) FROM communication.reminder") == 5
        assert scalar(conn, "SELECT count(*) FROM communication.outbox") == 5
