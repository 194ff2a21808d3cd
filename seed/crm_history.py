"""The CRM's and the reminders' five years for generate-history (seed/history.py): the calls on each
lead, test rides on demo units, and the reminders with their outbox rows, written set-based in SQL.

What is made, from the leads, sales, policies and job cards generate-history wrote before:

* ``crm.contact``: one to four calls per lead (a few days apart, from its date, none after now) by
  its salesperson, none after the lead's booking day; the last call of a lost lead is "not
  interested", of a booked one "visit planned",
  the earlier ones "no answer", "call back" or "reached". The lead's ``contacted_at`` is its last
  reached call (as record_contact sets it); an open lead gets its next follow-up three days after its
  last call (so today's dashboards have follow-ups due and overdue) with a next action.
* ``crm.test_ride``: two leads in five at a branch with a demo unit (inventory status DEMO) took a ride
  a day or three after the enquiry (a booked one
  on its booking day at the latest), on the branch's demo units with no ride yet (the demo showroom's own
  stay as they are) in turn, in 50-minute slots from 10:00
  IST (a ride is back within 45 minutes, so a unit is never out twice at once), each back with its
  odometer (8 km apart per ride on a unit), feedback and a rating. An open lead that rode is TEST_RIDE.
* Consent: one customer in ten opted in to SMS and WhatsApp on the booking form (recorded on their
  first booking's day, else when the customer was recorded); one in forty-one opted out of SMS by replying STOP, 30 days later.
* ``communication.reminder`` as the daily run would have made them: service due (7 days before each
  delivered job card's visit), insurance OD and TP renewals (15 days before each policy's end) and the
  promised delivery (2 days before the booking's expected date), by SMS, made on that day at 07:00 IST,
  for due dates up to today. Outcome QUEUED, or NO_CONSENT for a customer who had opted out of SMS by then.
* ``communication.outbox``: the SMS of each queued reminder, its text filled as the run fills it
  (communication.fill and body_params); most DELIVERED, one in twenty-five SENT without a delivery
  report, one in fifty GIVEN_UP after five attempts (number on DND); those of the last seven days one
  in three FAILED with a retry ahead.
* Rules and templates: the four rules, with an SMS template, added only where the rule is missing
  (``rule_once``); a rule already there (the demo's) is used with its own template.

Written with ``session_replication_role = replica`` like the rest of the fast path, so the lead's
status and dates are set here as the triggers and record_contact would. Not made: audit log rows.
``check_crm`` verifies the result at the end of generate-history.
"""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Connection

RULES = [("SERVICE_DUE", 7), ("INSURANCE_OD", 15), ("INSURANCE_TP", 15), ("DELIVERY_PROMISED", 2)]
TEMPLATE = ("HISTORY_REMINDER", "Dear {customer_name}, your reminder from {branch_name} is due on {due_date}. "
                                "Call {branch_phone}.", "1107170000000009901")

_IST = "'Asia/Kolkata'"

_CONTACTS = f"""
    INSERT INTO crm.contact (lead_id, branch_id, contacted_at, outcome, staff_id)
    SELECT l.lead_id, l.branch_id, c.at,
           CASE WHEN k = calls AND l.status = 'LOST' THEN 'NOT_INTERESTED'
                WHEN k = calls AND l.status = 'BOOKED' THEN 'VISIT_PLANNED'
                WHEN k = calls THEN 'REACHED'
                ELSE (ARRAY['NO_ANSWER', 'CALL_BACK', 'REACHED'])[1 + (l.lead_id + k) % 3] END,
           l.salesperson_id
      FROM crm.lead l
     LEFT JOIN (SELECT lead_id, min(booked_on) AS booked_on FROM sales.booking GROUP BY lead_id) bk ON bk.lead_id = l.lead_id
     CROSS JOIN LATERAL (SELECT least(1 + l.lead_id % 4,
                                      1 + coalesce(bk.booked_on - l.lead_date, 99) / (2 + l.lead_id % 3)) AS calls) n
     CROSS JOIN LATERAL generate_series(1, n.calls) k
     CROSS JOIN LATERAL (SELECT ((l.lead_date + (k - 1) * (2 + l.lead_id % 3))::timestamp
                                 + make_interval(hours => 10 + (l.lead_id + k) % 8, mins => (l.lead_id * 7 + k * 13) % 60))
                                AT TIME ZONE {_IST} AS at) c
     WHERE l.salesperson_id IS NOT NULL AND c.at < :now
       AND NOT EXISTS (SELECT 1 FROM crm.contact x WHERE x.lead_id = l.lead_id)
     ORDER BY c.at"""

_LEAD_AFTER_CALLS = f"""
    UPDATE crm.lead l
       SET contacted_at = c.reached_at,
           status = CASE WHEN l.status = 'NEW' AND c.reached_at IS NOT NULL THEN 'CONTACTED' ELSE l.status END,
           follow_up_on = CASE WHEN l.status IN ('BOOKED', 'LOST') THEN NULL
                               ELSE (c.last_at AT TIME ZONE {_IST})::date + 3 END,
           next_action = CASE WHEN l.status IN ('BOOKED', 'LOST') THEN NULL
                              ELSE (ARRAY['Call back with the on-road price', 'Invite for a test ride',
                                          'Share the finance options'])[1 + l.lead_id % 3] END
      FROM (SELECT lead_id, max(contacted_at) AS last_at,
                   max(contacted_at) FILTER (WHERE outcome IN ('REACHED', 'CALL_BACK', 'VISIT_PLANNED', 'NOT_INTERESTED'))
                       AS reached_at
              FROM crm.contact GROUP BY lead_id) c
     WHERE c.lead_id = l.lead_id AND l.contacted_at IS NULL"""

_RIDES = f"""
    WITH demo AS (
        SELECT unit_id, branch_id, row_number() OVER (PARTITION BY branch_id ORDER BY unit_id) - 1 AS i,
               count(*) OVER (PARTITION BY branch_id) AS n
          FROM inventory.vehicle_unit u WHERE status = 'DEMO'
           AND NOT EXISTS (SELECT 1 FROM crm.test_ride r WHERE r.unit_id = u.unit_id)  -- the demo's own rides stay its own
    ), riders AS (
        SELECT l.lead_id, l.branch_id, rd.day,
               row_number() OVER (PARTITION BY l.branch_id, rd.day ORDER BY l.lead_id) - 1 AS k, d.n
          FROM crm.lead l
          JOIN (SELECT DISTINCT branch_id, n FROM demo) d ON d.branch_id = l.branch_id
          LEFT JOIN (SELECT lead_id, min(booked_on) AS booked_on FROM sales.booking GROUP BY lead_id) bk ON bk.lead_id = l.lead_id
         CROSS JOIN LATERAL (SELECT least(l.lead_date + 1 + l.lead_id % 3, bk.booked_on) AS day) rd
         WHERE l.lead_id % 5 IN (0, 1) AND l.salesperson_id IS NOT NULL AND rd.day < :today
           AND NOT EXISTS (SELECT 1 FROM crm.test_ride r WHERE r.lead_id = l.lead_id)
    ), slot AS (
        SELECT r.*, u.unit_id,
               ((r.day::timestamp + time '10:00' + make_interval(mins => (50 * (r.k / r.n))::integer))
                AT TIME ZONE {_IST}) AS out_at
          FROM riders r JOIN demo u ON u.branch_id = r.branch_id AND u.i = r.k % r.n
    ), numbered AS (
        SELECT s.*, row_number() OVER (PARTITION BY s.unit_id ORDER BY s.out_at) - 1 AS ride_no FROM slot s
    )
    INSERT INTO crm.test_ride (lead_id, branch_id, unit_id, licence_no, licence_valid_until, ride_on, out_at,
                               odometer_out, in_at, odometer_in, feedback, rating, staff_id)
    SELECT x.lead_id, x.branch_id, x.unit_id, 'KA' || lpad((x.lead_id % 70 + 1)::text, 2, '0') || ' '
               || (2005 + x.lead_id % 18)::text || lpad((x.lead_id % 9999999)::text, 7, '0'),
           x.day + 400 + x.lead_id % 3000, x.day, x.out_at, 8 * x.ride_no,
           x.out_at + make_interval(mins => (20 + x.lead_id % 25)::integer), 8 * x.ride_no + 3 + x.lead_id % 5,
           (ARRAY['Liked the pickup', 'Wants a longer range', 'Seat felt a little hard', 'Smooth and quiet',
                  'Asked about the charging time'])[1 + x.lead_id % 5],
           3 + x.lead_id % 3, l.salesperson_id
      FROM numbered x JOIN crm.lead l ON l.lead_id = x.lead_id
     ORDER BY x.out_at"""

_LEAD_RODE = """
    UPDATE crm.lead SET status = 'TEST_RIDE'
     WHERE status IN ('NEW', 'CONTACTED') AND lead_id IN (SELECT lead_id FROM crm.test_ride)"""

_CONSENT = """
    INSERT INTO communication.consent (customer_id, channel, opted_in, recorded_at, how, note)
    SELECT c.customer_id, ch.channel, ch.opted_in,
           coalesce((b.booked_on::timestamp + time '11:00') AT TIME ZONE 'Asia/Kolkata', c.created_at) + ch.after,
           ch.how, ch.note
      FROM master.customer c
      LEFT JOIN (SELECT customer_id, min(booked_on) AS booked_on FROM sales.booking GROUP BY customer_id) b
             ON b.customer_id = c.customer_id
     CROSS JOIN (VALUES (0, 'SMS', true, interval '0', 'SIGNED_FORM', 'Booking form'),
                        (0, 'WHATSAPP', true, interval '0', 'SIGNED_FORM', 'Booking form'),
                        (7, 'SMS', false, interval '30 days', 'SMS_REPLY', 'Replied STOP')) AS ch (k, channel, opted_in, after, how, note)
     WHERE (ch.k = 0 AND c.customer_id % 10 = 0) OR (ch.k = 7 AND c.customer_id % 41 = 7)
    ON CONFLICT (customer_id, channel) DO NOTHING"""

# Each due event of the history: (event, subject kind, subject, due date, branch, customer).
_DUE = """
    SELECT 'SERVICE_DUE' AS event, 'VEHICLE' AS kind, j.vehicle_id AS subject_id, (j.opened_at AT TIME ZONE 'Asia/Kolkata')::date AS due_on,
           j.branch_id, v.customer_id
      FROM service.job_card j JOIN service.vehicle v ON v.vehicle_id = j.vehicle_id
     WHERE j.state = 'DELIVERED' AND v.customer_id IS NOT NULL
    UNION ALL
    SELECT 'INSURANCE_OD', 'POLICY', p.policy_id, p.od_to, p.branch_id, p.customer_id FROM insurance.policy p WHERE p.od_to IS NOT NULL
    UNION ALL
    SELECT 'INSURANCE_TP', 'POLICY', p.policy_id, p.tp_to, p.branch_id, p.customer_id FROM insurance.policy p WHERE p.tp_to IS NOT NULL
    UNION ALL
    SELECT 'DELIVERY_PROMISED', 'BOOKING', b.booking_id, b.expected_delivery, b.branch_id, b.customer_id
      FROM sales.booking b WHERE b.expected_delivery IS NOT NULL AND b.stage = 'DELIVERED'"""

_REMINDERS = f"""
    INSERT INTO communication.reminder (rule_id, subject_kind, subject_id, due_on, branch_id, customer_id, made_on,
                                        made_at, outcome)
    SELECT r.rule_id, d.kind, d.subject_id, d.due_on, d.branch_id, d.customer_id, d.due_on - r.days_before,
           ((d.due_on - r.days_before)::timestamp + time '07:00') AT TIME ZONE {_IST},
           CASE WHEN o.customer_id IS NOT NULL THEN 'NO_CONSENT'
                WHEN NOT master.is_mobile(c.mobile) THEN 'NO_ADDRESS' ELSE 'QUEUED' END
      FROM ({_DUE}) d
      JOIN communication.rule r ON r.event = d.event AND r.channel = 'SMS' AND r.days_before = :days_for_event
      JOIN master.customer c ON c.customer_id = d.customer_id
      LEFT JOIN communication.consent o ON o.customer_id = d.customer_id AND o.channel = 'SMS' AND NOT o.opted_in
                                       AND o.recorded_at <= ((d.due_on - r.days_before)::timestamp + time '07:00') AT TIME ZONE {_IST}
     WHERE d.event = :event AND d.due_on - r.days_before >= :start AND d.due_on <= :today
     ORDER BY 7, d.subject_id
    ON CONFLICT ON CONSTRAINT reminder_once DO NOTHING"""

_OUTBOX = """
    INSERT INTO communication.outbox (reminder_id, branch_id, customer_id, channel, to_name, to_address, template_id,
                                      body, params, status, attempts, next_attempt_at, provider_message_id, last_error,
                                      sent_at, delivered_at, created_at)
    SELECT m.reminder_id, m.branch_id, m.customer_id, 'SMS', c.name, c.mobile, t.template_id,
           communication.fill(t.body, f.facts), communication.body_params(t.body, f.facts), s.status,
           CASE s.status WHEN 'GIVEN_UP' THEN 5 WHEN 'FAILED' THEN 1 ELSE 1 END,
           CASE s.status WHEN 'FAILED' THEN :now + interval '30 minutes' ELSE m.made_at END,
           CASE WHEN s.status IN ('SENT', 'DELIVERED') THEN 'HIST-' || m.reminder_id END,
           CASE s.status WHEN 'GIVEN_UP' THEN 'Number on the DND register' WHEN 'FAILED' THEN 'Gateway timeout' END,
           CASE WHEN s.status IN ('SENT', 'DELIVERED') THEN m.made_at + interval '2 minutes' END,
           CASE WHEN s.status = 'DELIVERED' THEN m.made_at + interval '2 minutes 12 seconds' END,
           m.made_at
      FROM communication.reminder m
      JOIN communication.rule r ON r.rule_id = m.rule_id
      JOIN master.customer c ON c.customer_id = m.customer_id
      JOIN master.branch b ON b.branch_id = m.branch_id
      JOIN LATERAL (SELECT t.template_id, t.body FROM communication.template t
                     WHERE t.code = r.template_code AND t.channel = 'SMS' AND t.language = 'en') t ON true
     CROSS JOIN LATERAL (SELECT jsonb_build_object('customer_name', c.name, 'due_date', to_char(m.due_on, 'DD-MM-YYYY'),
                                                   'branch_name', coalesce(b.trade_name, b.legal_name),
                                                   'branch_phone', b.phone) AS facts) f
     CROSS JOIN LATERAL (SELECT CASE WHEN m.made_on >= :today - 6 AND m.reminder_id % 3 = 0 THEN 'FAILED'
                                     WHEN m.reminder_id % 50 = 7 THEN 'GIVEN_UP'
                                     WHEN m.reminder_id % 25 = 4 THEN 'SENT'
                                     ELSE 'DELIVERED' END AS status) s
     WHERE m.outcome = 'QUEUED' AND NOT EXISTS (SELECT 1 FROM communication.outbox x WHERE x.reminder_id = m.reminder_id)
     ORDER BY m.reminder_id"""


def _rules(conn: Connection) -> None:
    code, body, dlt = TEMPLATE
    conn.execute(sa.text("""INSERT INTO communication.template (code, channel, language, body, dlt_template_id)
                            VALUES (:code, 'SMS', 'en', :body, :dlt) ON CONFLICT DO NOTHING"""),
                 {"code": code, "body": body, "dlt": dlt})
    for event, days in RULES:
        conn.execute(sa.text("""INSERT INTO communication.rule (event, days_before, channel, template_code)
                                VALUES (:e, :d, 'SMS', :t) ON CONFLICT DO NOTHING"""), {"e": event, "d": days, "t": code})


def generate_crm(conn: Connection, start: date, today: date, now, progress=lambda message: None) -> dict:
    """Calls, test rides, consent, reminders and their outbox rows (see the module's docstring); in the
    caller's transaction, with the triggers off; leaves session_replication_role at origin. ``now``: the
    moment the history ends (no call after it; the retries of the failed messages are due after it)."""
    conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
    progress("crm: calls on the leads")
    contacts = conn.execute(sa.text(_CONTACTS), {"now": now}).rowcount
    conn.execute(sa.text(_LEAD_AFTER_CALLS))
    progress("crm: test rides on the demo units")
    rides = conn.execute(sa.text(_RIDES), {"today": today}).rowcount
    conn.execute(sa.text(_LEAD_RODE))
    progress("communication: consent, reminders and outbox")
    consent = conn.execute(sa.text(_CONSENT)).rowcount
    _rules(conn)
    reminders = 0
    for event, days in RULES:
        reminders += conn.execute(sa.text(_REMINDERS), {"event": event, "days_for_event": days, "start": start,
                                                        "today": today}).rowcount
    messages = conn.execute(sa.text(_OUTBOX), {"today": today, "now": now}).rowcount
    conn.execute(sa.text("SET LOCAL session_replication_role = origin"))
    return {"contacts": contacts, "test_rides": rides, "consent": consent, "reminders": reminders, "messages": messages}


def check_crm(conn: Connection) -> None:
    """What the triggers and constraints would have refused, checked on the result."""
    problems = conn.execute(sa.text(f"""
        WITH bk AS (SELECT lead_id, min(booked_on) AS booked_on FROM sales.booking WHERE lead_id IS NOT NULL GROUP BY lead_id)
        SELECT (SELECT count(*) FROM crm.contact c JOIN crm.lead l USING (lead_id) LEFT JOIN bk USING (lead_id)
                 WHERE c.branch_id <> l.branch_id OR (c.contacted_at AT TIME ZONE {_IST})::date < l.lead_date
                    OR (c.contacted_at AT TIME ZONE {_IST})::date
                       > bk.booked_on) AS bad_contacts,
               (SELECT count(*) FROM crm.test_ride r JOIN inventory.vehicle_unit u USING (unit_id) JOIN crm.lead l USING (lead_id)
                  LEFT JOIN bk USING (lead_id)
                 WHERE u.status <> 'DEMO' OR u.branch_id <> r.branch_id OR l.branch_id <> r.branch_id
                    OR r.in_at IS NULL OR r.ride_on <> (r.out_at AT TIME ZONE {_IST})::date OR r.ride_on < l.lead_date
                    OR r.ride_on > bk.booked_on)
                   AS bad_rides,
               (SELECT count(*) FROM crm.test_ride a JOIN crm.test_ride b
                    ON a.unit_id = b.unit_id AND a.test_ride_id < b.test_ride_id
                   AND tstzrange(a.out_at, a.in_at) && tstzrange(b.out_at, b.in_at)) AS overlapping_rides,
               (SELECT count(*) FROM crm.test_ride a JOIN crm.test_ride b
                    ON a.unit_id = b.unit_id AND a.out_at < b.out_at AND a.odometer_in > b.odometer_out) AS odometer_back,
               (SELECT count(*) FROM communication.reminder m
                  LEFT JOIN communication.outbox o ON o.reminder_id = m.reminder_id
                 WHERE (m.outcome = 'QUEUED') <> (o.message_id IS NOT NULL)) AS reminders_without_message,
               (SELECT count(*) FROM communication.reminder m JOIN communication.consent c
                    ON c.customer_id = m.customer_id AND c.channel = 'SMS' AND NOT c.opted_in AND c.recorded_at <= m.made_at
                 WHERE m.outcome = 'QUEUED') AS sent_after_opt_out,
               (SELECT count(*) FROM communication.outbox o JOIN communication.reminder m USING (reminder_id)
                 WHERE o.branch_id <> m.branch_id OR o.customer_id IS DISTINCT FROM m.customer_id
                    OR o.body ~ '[{{}}]') AS bad_messages,
               (SELECT count(*) FROM crm.lead WHERE status NOT IN ('BOOKED', 'LOST') AND follow_up_on IS NULL
                   AND EXISTS (SELECT 1 FROM crm.contact c WHERE c.lead_id = lead.lead_id)) AS open_without_follow_up
    """)).mappings().one()
    wrong = {k: v for k, v in problems.items() if v}
    if wrong:
        raise RuntimeError(f"generated CRM history does not check out: {wrong}")
