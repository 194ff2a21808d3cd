"""Reading and writing the communication schema; functions take the request's connection first and
never commit. The rules a row must follow are PostgreSQL's (sql/0037_communication.sql)."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

CHANNELS = ("EMAIL", "SMS", "WHATSAPP", "CALL")
STATUSES = ("QUEUED", "SENT", "DELIVERED", "FAILED", "GIVEN_UP")

# --------------------------------------------------------------------------- rules


def rules(conn: Connection) -> list:
    return conn.execute(sa.text("""
        SELECT r.*, (SELECT count(*) FROM communication.reminder m WHERE m.rule_id = r.rule_id) AS reminders
          FROM communication.rule r ORDER BY r.event, r.days_before DESC, r.channel""")).mappings().all()


def rule(conn: Connection, rule_id: int):
    return conn.execute(sa.text("SELECT * FROM communication.rule WHERE rule_id = :r"),
                        {"r": rule_id}).mappings().first()


RULE_FIELDS = ("event", "days_before", "channel", "template_code", "promotional", "quiet_from", "quiet_to",
               "is_active")


def insert_rule(conn: Connection, data: dict) -> int:
    return conn.execute(sa.text(
        "INSERT INTO communication.rule (" + ", ".join(RULE_FIELDS) + ") VALUES ("
        + ", ".join(f":{f}" for f in RULE_FIELDS) + ") RETURNING rule_id"), data).scalar_one()


def update_rule(conn: Connection, rule_id: int, data: dict) -> None:
    conn.execute(sa.text("UPDATE communication.rule SET " + ", ".join(f"{f} = :{f}" for f in RULE_FIELDS)
                         + " WHERE rule_id = :rule_id"), {**data, "rule_id": rule_id})


def template_codes(conn: Connection) -> list[str]:
    return list(conn.execute(sa.text("SELECT DISTINCT code FROM communication.template ORDER BY code")).scalars())


# --------------------------------------------------------------------------- templates


def templates(conn: Connection) -> list:
    return conn.execute(sa.text("SELECT * FROM communication.template ORDER BY code, channel, language != 'en', "
                                "language")).mappings().all()


def template(conn: Connection, template_id: int):
    return conn.execute(sa.text("SELECT * FROM communication.template WHERE template_id = :t"),
                        {"t": template_id}).mappings().first()


TEMPLATE_FIELDS = ("code", "channel", "language", "subject", "body", "dlt_template_id", "wa_template_name",
                   "wa_language")


def insert_template(conn: Connection, data: dict) -> int:
    return conn.execute(sa.text(
        "INSERT INTO communication.template (" + ", ".join(TEMPLATE_FIELDS) + ") VALUES ("
        + ", ".join(f":{f}" for f in TEMPLATE_FIELDS) + ") RETURNING template_id"), data).scalar_one()


def update_template(conn: Connection, template_id: int, data: dict) -> None:
    conn.execute(sa.text("UPDATE communication.template SET " + ", ".join(f"{f} = :{f}" for f in TEMPLATE_FIELDS)
                         + " WHERE template_id = :template_id"), {**data, "template_id": template_id})


def languages_and_sample(conn: Connection, branch_id: int) -> tuple[str | None, dict]:
    """The branch's state language, and real facts to preview a template with: the latest vehicle the
    workshop knows with its customer, else the latest customer (one statement)."""
    row = conn.execute(sa.text("""
        SELECT (SELECT l.language FROM master.branch b JOIN communication.state_language l
                    ON l.state_code = b.state_code WHERE b.branch_id = :b) AS state_language,
               (SELECT jsonb_build_object(
                           'customer_name', c.name, 'vehicle_no', coalesce(v.registration_no, v.vin), 'vin', v.vin,
                           'model', m.name || ' ' || va.name,
                           'due_date', to_char(coalesce(v.next_service_due_on, current_date + 7), 'DD-MM-YYYY'),
                           'due_km', coalesce(v.next_service_due_km, 5000)::text,
                           'free_service_no', coalesce(v.next_free_service_no, 1)::text)
                  FROM service.vehicle v JOIN master.customer c USING (customer_id)
                  JOIN oem.variant va USING (variant_id) JOIN oem.model m ON m.model_id = va.model_id
                 ORDER BY v.vehicle_id DESC LIMIT 1) AS vehicle,
               (SELECT jsonb_build_object('customer_name', c.name) FROM master.customer c
                 ORDER BY c.customer_id DESC LIMIT 1) AS customer,
               (SELECT jsonb_build_object('branch_name', coalesce(b.trade_name, b.legal_name), 'branch_phone', b.phone)
                  FROM master.branch b WHERE b.branch_id = :b) AS branch,
               (SELECT jsonb_build_object('policy_no', coalesce(p.od_policy_no, p.tp_policy_no))
                  FROM insurance.policy p ORDER BY p.policy_id DESC LIMIT 1) AS policy,
               (SELECT jsonb_build_object('booking_no', k.booking_no) FROM sales.booking k
                 ORDER BY k.booking_id DESC LIMIT 1) AS booking,
               (SELECT jsonb_build_object('campaign_title', w.title) FROM warranty.campaign w
                 ORDER BY w.campaign_id DESC LIMIT 1) AS campaign"""), {"b": branch_id}).mappings().one()
    facts = {"cover": "own damage"}
    for part in ("customer", "vehicle", "branch", "policy", "booking", "campaign"):
        facts.update(row[part] or {})
    return row["state_language"], facts


# --------------------------------------------------------------------------- channel settings

SETTING_FIELDS = ("email_enabled", "smtp_host", "smtp_port", "smtp_starttls", "smtp_user", "email_from",
                  "sms_enabled", "sms_url", "dlt_entity_id", "sms_sender", "whatsapp_enabled", "whatsapp_url",
                  "whatsapp_phone_id", "promo_from", "promo_to", "max_attempts", "retry_minutes", "timeout_seconds")


def settings(conn: Connection):
    return conn.execute(sa.text("SELECT * FROM communication.setting WHERE setting_id = 1")).mappings().one()


def update_settings(conn: Connection, data: dict) -> None:
    conn.execute(sa.text("UPDATE communication.setting SET " + ", ".join(f"{f} = :{f}" for f in SETTING_FIELDS)
                         + " WHERE setting_id = 1"), data)


# --------------------------------------------------------------------------- outbox and call list


def outbox_page(conn: Connection, status: str, channel: str, number: int, size: int):
    rows = conn.execute(sa.text("""
        SELECT o.message_id, o.channel, o.to_name, o.to_address, o.customer_id, o.subject, o.body, o.status,
               o.attempts, o.next_attempt_at, o.provider_message_id, o.last_error, o.sent_at, o.created_at,
               r.event, count(*) OVER () AS total
          FROM communication.outbox o
          LEFT JOIN communication.reminder m ON m.reminder_id = o.reminder_id
          LEFT JOIN communication.rule r ON r.rule_id = m.rule_id
         WHERE (:status = '' OR o.status = :status) AND (:channel = '' OR o.channel = :channel)
         ORDER BY o.created_at DESC, o.message_id DESC
         LIMIT :size OFFSET :skip"""), {"status": status, "channel": channel, "size": size,
                                        "skip": (number - 1) * size}).mappings().all()
    return rows, (rows[0]["total"] if rows else 0)


CALLS_SQL = """
    SELECT o.message_id, o.to_name, o.to_address, o.customer_id, o.body, o.status, o.attempts, o.call_outcome,
           o.call_note, o.next_attempt_at, r.event
      FROM communication.outbox o
      LEFT JOIN communication.reminder m ON m.reminder_id = o.reminder_id
      LEFT JOIN communication.rule r ON r.rule_id = m.rule_id
     WHERE o.channel = 'CALL' AND o.branch_id = :branch AND o.status IN ('QUEUED', 'FAILED')
       AND o.next_attempt_at < CAST(:today AS date) + 1
     ORDER BY o.next_attempt_at, o.message_id"""


def calls(conn: Connection, branch_id: int, today) -> list:
    """The calls to make today at the branch: queued and tried-again ones."""
    return conn.execute(sa.text(CALLS_SQL), {"branch": branch_id, "today": today}).mappings().all()


def call(conn: Connection, message_id: int):
    return conn.execute(sa.text("""
        SELECT o.*, r.event FROM communication.outbox o
          LEFT JOIN communication.reminder m ON m.reminder_id = o.reminder_id
          LEFT JOIN communication.rule r ON r.rule_id = m.rule_id
         WHERE o.message_id = :m AND o.channel = 'CALL'"""), {"m": message_id}).mappings().first()


# An outcome's effect on the line: reached (or not interested): done; no answer, call back: again
# tomorrow (until the last attempt); a wrong number: given up.
CALL_RESULT = sa.text("""
    UPDATE communication.outbox o
       SET call_outcome = :outcome, call_note = :note, called_by = audit.current_staff_id(),
           attempts = o.attempts + 1,
           status = CASE WHEN :outcome IN ('REACHED', 'NOT_INTERESTED') THEN 'DELIVERED'
                         WHEN :outcome = 'WRONG_NUMBER' OR o.attempts + 1 >= s.max_attempts THEN 'GIVEN_UP'
                         ELSE 'FAILED' END,
           sent_at = CASE WHEN :outcome IN ('REACHED', 'NOT_INTERESTED') THEN now() END,
           delivered_at = CASE WHEN :outcome IN ('REACHED', 'NOT_INTERESTED') THEN now() END,
           next_attempt_at = CASE WHEN :outcome IN ('NO_ANSWER', 'CALL_BACK')
                                  THEN ((now() AT TIME ZONE 'Asia/Kolkata')::date + 1) AT TIME ZONE 'Asia/Kolkata'
                                  ELSE o.next_attempt_at END
      FROM communication.setting s
     WHERE o.message_id = :m AND o.channel = 'CALL' AND o.status IN ('QUEUED', 'FAILED')
 RETURNING o.status""")


def record_call(conn: Connection, message_id: int, outcome: str, note: str | None) -> str | None:
    return conn.execute(CALL_RESULT, {"m": message_id, "outcome": outcome, "note": note}).scalar()


# --------------------------------------------------------------------------- consent


def customer(conn: Connection, customer_id: int):
    return conn.execute(sa.text("""
        SELECT c.customer_id, c.name, c.mobile, c.email, c.branch_id, l.language
          FROM master.customer c LEFT JOIN communication.customer_language l USING (customer_id)
         WHERE c.customer_id = :c"""), {"c": customer_id}).mappings().first()


def consents(conn: Connection, customer_id: int) -> dict:
    rows = conn.execute(sa.text("""
        SELECT k.*, s.name AS recorded_by_name FROM communication.consent k
          LEFT JOIN master.staff s ON s.staff_id = k.recorded_by
         WHERE k.customer_id = :c"""), {"c": customer_id}).mappings().all()
    return {r["channel"]: r for r in rows}


def save_consent(conn: Connection, customer_id: int, channel: str, opted_in: bool, how: str, note: str | None) -> None:
    conn.execute(sa.text("""
        INSERT INTO communication.consent (customer_id, channel, opted_in, how, note)
        VALUES (:c, :ch, :in, :how, :note)
        ON CONFLICT (customer_id, channel) DO UPDATE
           SET opted_in = EXCLUDED.opted_in, how = EXCLUDED.how, note = EXCLUDED.note, recorded_at = now(),
               recorded_by = audit.current_staff_id()
         WHERE (consent.opted_in, consent.how, coalesce(consent.note, ''))
               IS DISTINCT FROM (EXCLUDED.opted_in, EXCLUDED.how, coalesce(EXCLUDED.note, ''))"""),
                 {"c": customer_id, "ch": channel, "in": opted_in, "how": how, "note": note})


def save_language(conn: Connection, customer_id: int, language: str | None) -> None:
    if language:
        conn.execute(sa.text("""INSERT INTO communication.customer_language (customer_id, language) VALUES (:c, :l)
                                ON CONFLICT (customer_id) DO UPDATE SET language = EXCLUDED.language"""),
                     {"c": customer_id, "l": language})
    else:
        conn.execute(sa.text("DELETE FROM communication.customer_language WHERE customer_id = :c"), {"c": customer_id})


# --------------------------------------------------------------------------- the staff bell

# One statement for every count the bell shows; a count the role does not see is not computed (its
# flag is false, and PostgreSQL skips the sub-select).
BELL = sa.text("""
    SELECT CASE WHEN :approvals THEN (SELECT count(*) FROM sales.booking WHERE discount_status = 'PENDING'
                                          AND stage <> 'CANCELLED') END AS discounts,
           CASE WHEN :orders THEN (SELECT count(*) FROM procurement.purchase_order WHERE status = 'DRAFT') END AS orders,
           CASE WHEN :parts THEN (SELECT count(*) FROM inventory.part_stock s JOIN master.part p USING (part_id)
                                   WHERE s.branch_id = :branch AND p.reorder_level > 0
                                     AND s.qty <= p.reorder_level) END AS reorder,
           CASE WHEN :follow_ups THEN (SELECT count(*) FROM communication.crm_follow_ups(:today - 30, :today) f
                                        WHERE f.branch_id = :branch
                                          AND (CAST(:own AS integer) IS NULL OR f.staff_id = :own)) END AS follow_ups,
           CASE WHEN :cards THEN (SELECT count(*) FROM service.job_card j
                                   WHERE j.branch_id = :branch AND j.promised_at IS NOT NULL
                                     AND j.state NOT IN ('READY', 'DELIVERED', 'CANCELLED')
                                     AND j.promised_at < now() + interval '2 hours') END AS cards_at_risk,
           CASE WHEN :calls THEN (SELECT count(*) FROM communication.outbox o
                                   WHERE o.channel = 'CALL' AND o.branch_id = :branch
                                     AND o.status IN ('QUEUED', 'FAILED')
                                     AND o.next_attempt_at < CAST(:today AS date) + 1) END AS calls""")


def bell_counts(conn: Connection, branch_id: int, today, flags: dict, own: int | None) -> dict:
    return dict(conn.execute(BELL, {"branch": branch_id, "today": today, "own": own, **flags}).mappings().one())


def cards_at_risk(conn: Connection, branch_id: int) -> list:
    return conn.execute(sa.text("""
        SELECT j.job_card_id, j.job_card_no, j.promised_at, j.state, v.registration_no, v.vin
          FROM service.job_card j JOIN service.vehicle v USING (vehicle_id)
         WHERE j.branch_id = :b AND j.promised_at IS NOT NULL AND j.state NOT IN ('READY', 'DELIVERED', 'CANCELLED')
           AND j.promised_at < now() + interval '2 hours'
         ORDER BY j.promised_at LIMIT 50"""), {"b": branch_id}).mappings().all()


def follow_ups_due(conn: Connection, branch_id: int, today, own: int | None) -> list:
    return conn.execute(sa.text("""
        SELECT f.follow_up_id, f.name, f.mobile, f.due_on FROM communication.crm_follow_ups(:today - 30, :today) f
         WHERE f.branch_id = :b AND (CAST(:own AS integer) IS NULL OR f.staff_id = :own)
         ORDER BY f.due_on, f.follow_up_id LIMIT 50"""), {"b": branch_id, "today": today, "own": own}).mappings().all()
