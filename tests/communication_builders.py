"""Builders for the reminder and outbox tests (tests/builders.py's conventions: a connection first,
plain SQL, never a commit, the new row's id back).

    import communication_builders as cb
    cb.rule(conn, "SERVICE_DUE", 7, "SMS")       # with its English template
    vehicle_id, customer_id = cb.vehicle(conn, branch_id, due_on=date(2026, 12, 17))
    cb.run(conn, ON)                              # {event: (made, queued)}
"""
from __future__ import annotations

from datetime import date, datetime, time

import builders as b
import service_builders as sb
import sqlalchemy as sa
from builders import scalar

from webapp.formatting import IST

ON = date(2026, 12, 10)                                   # the fixed clock: a run "today"
NOON = datetime.combine(ON, time(12, 0), tzinfo=IST)

TEXTS = {
    "SMS": ("Dear {customer_name}, your {model} ({vehicle_no}) is due for service on {due_date}. {branch_name}",
            None),
    "EMAIL": ("Dear {customer_name}, your {model} is due on {due_date}.", "Reminder from {branch_name}"),
    "WHATSAPP": ("Hello {customer_name}, {vehicle_no} is due on {due_date}.", None),
    "CALL": ("Tell {customer_name}: {model} due on {due_date}.", None),
}


def template(conn, code: str, channel: str, language: str = "en", body: str | None = None) -> int:
    text, subject = TEXTS[channel]
    return scalar(conn, """
        INSERT INTO communication.template (code, channel, language, subject, body, dlt_template_id, wa_template_name,
                                            wa_language)
        VALUES (:code, :channel, :lang, :subject, :body, :dlt, :wa, :wal)
        ON CONFLICT (code, channel, language) DO UPDATE SET body = EXCLUDED.body
        RETURNING template_id""", code=code, channel=channel, lang=language, subject=subject, body=body or text,
        dlt="1107160000000012345" if channel == "SMS" else None,
        wa="service_due" if channel == "WHATSAPP" else None, wal=language if channel == "WHATSAPP" else None)


def rule(conn, event: str, days_before: int, channel: str = "SMS", *, code: str | None = None,
         promotional: bool = False, quiet: tuple[str, str] | None = None) -> int:
    code = code or f"T_{event}"
    template(conn, code, channel)
    return scalar(conn, """
        INSERT INTO communication.rule (event, days_before, channel, template_code, promotional, quiet_from, quiet_to)
        VALUES (:e, :d, :c, :t, :p, :qf, :qt) RETURNING rule_id""", e=event, d=days_before, c=channel, t=code,
        p=promotional, qf=quiet[0] if quiet else None, qt=quiet[1] if quiet else None)


def vehicle(conn, branch_id: int, *, due_on: date | None = None, due_km: int | None = None,
            sale_date: str = "2025-01-15", km: int | None = None, km_on: date | None = None,
            variant_id: int | None = None, customer_id: int | None = None) -> tuple[int, int]:
    """A vehicle the workshop knows, with its next service due and last reading as given."""
    vehicle_id = sb.outside_vehicle(conn, branch_id, sale_date=sale_date, variant_id=variant_id,
                                    customer_id=customer_id)
    conn.execute(sa.text("""
        UPDATE service.vehicle SET next_service_due_on = :due, next_service_due_km = :due_km,
               last_odometer_km = :km, last_odometer_on = :km_on
         WHERE vehicle_id = :v"""), {"due": due_on, "due_km": due_km, "km": km, "km_on": km_on if km is not None
                                     else None, "v": vehicle_id})
    return vehicle_id, scalar(conn, "SELECT customer_id FROM service.vehicle WHERE vehicle_id = :v", v=vehicle_id)


def consent(conn, customer_id: int, channel: str, opted_in: bool, how: str = "SIGNED_FORM") -> None:
    conn.execute(sa.text("""
        INSERT INTO communication.consent (customer_id, channel, opted_in, how) VALUES (:c, :ch, :o, :h)
        ON CONFLICT (customer_id, channel) DO UPDATE SET opted_in = EXCLUDED.opted_in"""),
        {"c": customer_id, "ch": channel, "o": opted_in, "h": how})


def run(conn, on: date = ON, now: datetime | None = None) -> dict[str, tuple[int, int]]:
    rows = conn.execute(sa.text("SELECT event, made, queued FROM communication.run_reminders(:on, :now)"),
                        {"on": on, "now": now or datetime.combine(on, time(12, 0), tzinfo=IST)}).all()
    found: dict[str, tuple[int, int]] = {}
    for event, made, queued in rows:
        before = found.get(event, (0, 0))
        found[event] = (before[0] + made, before[1] + queued)
    return found


def reminders(conn, event: str | None = None) -> list:
    return conn.execute(sa.text("""
        SELECT m.subject_kind, m.subject_id, m.detail_id, m.due_on, m.outcome, r.event
          FROM communication.reminder m JOIN communication.rule r USING (rule_id)
         WHERE CAST(:e AS text) IS NULL OR r.event = :e ORDER BY m.reminder_id"""), {"e": event}).mappings().all()


def outbox(conn) -> list:
    return conn.execute(sa.text("SELECT * FROM communication.outbox ORDER BY message_id")).mappings().all()


def branch_with_customer(conn, **kw) -> tuple[int, int]:
    branch_id = b.branch(conn, **kw)
    return branch_id, b.customer(conn, branch_id)
