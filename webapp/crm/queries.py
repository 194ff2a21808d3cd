"""Reading and writing leads, their calls and follow-ups, and test rides (who may open which:
access.py). Each function takes the request's connection first and never commits; the rules
(statuses, lost reason, one ride per demo unit, licence in date) are PostgreSQL's (sql/0035,
sql/0036, sql/functions/93_crm.sql)."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..db import contains_pattern, name_contains
from ..paging import capped_count, count_cap
from ..validators import normalise_mobile

LEAD_STATUSES = {"NEW": "New", "CONTACTED": "Contacted", "TEST_RIDE": "Test ride", "NEGOTIATION": "Negotiation",
                 "BOOKED": "Booked", "LOST": "Lost"}
OPEN_STATUSES = ("NEW", "CONTACTED", "TEST_RIDE", "NEGOTIATION")
LEAD_SOURCES = {"WALK_IN": "Walk-in", "PHONE": "Phone", "WEBSITE": "Website form", "REFERRAL": "Referral",
                "EVENT": "Event", "OEM_PORTAL": "OEM portal"}
OUTCOMES = {"REACHED": "Spoke to them", "NO_ANSWER": "No answer", "CALL_BACK": "Call back later",
            "VISIT_PLANNED": "Visit planned", "NOT_INTERESTED": "Not interested"}


def _search_terms(q: str) -> tuple[str, dict]:
    """A WHERE fragment matching the lead's name or mobile to what was typed."""
    if not q:
        return "true", {}
    name, params = name_contains("l.name", q)
    params["q"] = contains_pattern(q)
    where = f"({name} OR l.mobile LIKE :q"
    digits = normalise_mobile(q)
    if digits and digits.isdigit() and digits != q:
        params["digits"] = contains_pattern(digits)
        where += " OR l.mobile LIKE :digits"
    return where + ")", params


# --------------------------------------------------------------------------- choices


def model_choices(conn: Connection) -> list[tuple[int, str]]:
    rows = conn.execute(sa.text("""
        SELECT m.model_id, o.brand, m.name FROM oem.model m JOIN oem.oem o USING (oem_id)
         WHERE m.is_active AND o.is_active ORDER BY o.brand, m.name"""))
    return [(r.model_id, f"{r.brand} {r.name}") for r in rows]


def salespeople(conn: Connection, branch_id: int, roles) -> list[tuple[int, str]]:
    rows = conn.execute(sa.text("""
        SELECT staff_id, name FROM master.staff
         WHERE branch_id = :b AND is_active AND designation = ANY(:roles) ORDER BY name"""),
        {"b": branch_id, "roles": sorted(roles)})
    return [(r.staff_id, r.name) for r in rows]


def lost_reasons(conn: Connection) -> list[tuple[str, str]]:
    rows = conn.execute(sa.text(
        "SELECT reason_code, label FROM crm.lost_reason WHERE active ORDER BY sort_order, label"))
    return [(r.reason_code, r.label) for r in rows]


def next_salesperson(conn: Connection, branch_id: int) -> int | None:
    """Whose turn it is at the branch (round-robin, sql/functions/93_crm.sql)."""
    return conn.execute(sa.text("SELECT crm.next_salesperson(:b)"), {"b": branch_id}).scalar()


# --------------------------------------------------------------------------- leads


def search_leads(conn: Connection, branch_id: int, *, own: int | None, status: str | None, source: str | None,
                 q: str, page: int, page_size: int):
    where = ["l.branch_id = :branch"]
    params: dict = {"branch": branch_id, "limit": page_size, "offset": (page - 1) * page_size}
    if own is not None:
        where.append("l.salesperson_id = :own")
        params["own"] = own
    if status:
        where.append("l.status = :status")
        params["status"] = status
    if source:
        where.append("l.source = :source")
        params["source"] = source
    terms, term_params = _search_terms(q)
    where.append(terms)
    params.update(term_params)
    body = f"FROM crm.lead l WHERE {' AND '.join(where)}"
    params["cap"] = count_cap(page, page_size)
    found = "count(*) OVER ()" if q else capped_count(body)
    rows = conn.execute(sa.text(f"""
        SELECT l.lead_id, l.lead_date, l.source, l.name, l.mobile, l.status, l.follow_up_on, l.next_action,
               sp.name AS salesperson_name, o.brand || ' ' || m.name AS model_name,
               {found} AS rows_found
          FROM crm.lead l
          JOIN master.staff sp ON sp.staff_id = l.salesperson_id
          LEFT JOIN oem.model m ON m.model_id = l.model_id
          LEFT JOIN oem.oem o ON o.oem_id = m.oem_id
         WHERE {' AND '.join(where)}
         ORDER BY l.lead_date DESC, l.lead_id DESC LIMIT :limit OFFSET :offset"""), params).mappings().all()
    if rows:
        return rows, rows[0]["rows_found"]
    return rows, conn.execute(sa.text(f"SELECT {capped_count(body)}"), params).scalar_one()


LEAD_COLUMNS = ("source", "name", "mobile", "email", "model_id", "salesperson_id", "budget", "finance_needed",
                "exchange_vehicle", "expected_purchase_on", "next_action", "follow_up_on", "notes", "oem_lead_ref")


def insert_lead(conn: Connection, branch_id: int, on: date, data: dict, status: str = "NEW") -> int:
    values = {c: data.get(c) for c in LEAD_COLUMNS}
    values["finance_needed"] = bool(values["finance_needed"])
    return conn.execute(sa.text(f"""
        INSERT INTO crm.lead (branch_id, lead_date, status, {', '.join(LEAD_COLUMNS)})
        VALUES (:branch, :on, :status, {', '.join(':' + c for c in LEAD_COLUMNS)})
        RETURNING lead_id"""), {"branch": branch_id, "on": on, "status": status, **values}).scalar_one()


EDITABLE_COLUMNS = ("source", "name", "mobile", "email", "model_id", "budget", "finance_needed", "exchange_vehicle",
                    "expected_purchase_on", "notes")


def update_lead(conn: Connection, lead_id: int, data: dict) -> bool:
    """The lead's details as corrected; False when it is no longer open (booked or lost leads keep
    theirs: crm.check_lead_change refuses it too)."""
    values = {c: data.get(c) for c in EDITABLE_COLUMNS}
    values["finance_needed"] = bool(values["finance_needed"])
    return conn.execute(sa.text(f"""
        UPDATE crm.lead SET {', '.join(f'{c} = :{c}' for c in EDITABLE_COLUMNS)}
         WHERE lead_id = :lead AND status = ANY(:open)"""),
        {"lead": lead_id, "open": list(OPEN_STATUSES), **values}).rowcount == 1


def get_lead(conn: Connection, lead_id: int):
    return conn.execute(sa.text("""
        SELECT l.*, sp.name AS salesperson_name, o.brand || ' ' || m.name AS model_name,
               lr.label AS lost_reason_label, c.name AS customer_name,
               (SELECT b.booking_id FROM sales.booking b WHERE b.lead_id = l.lead_id
                 ORDER BY b.booking_id DESC LIMIT 1) AS booking_id
          FROM crm.lead l
          JOIN master.staff sp ON sp.staff_id = l.salesperson_id
          LEFT JOIN oem.model m ON m.model_id = l.model_id
          LEFT JOIN oem.oem o ON o.oem_id = m.oem_id
          LEFT JOIN crm.lost_reason lr ON lr.reason_code = l.lost_reason_code
          LEFT JOIN master.customer c ON c.customer_id = l.customer_id
         WHERE l.lead_id = :l"""), {"l": lead_id}).mappings().first()


def mark_lost(conn: Connection, lead_id: int, reason_code: str, remark: str) -> bool:
    return conn.execute(sa.text("""
        UPDATE crm.lead SET status = 'LOST', lost_reason_code = :r, lost_remark = :remark,
                            next_action = NULL, follow_up_on = NULL
         WHERE lead_id = :l AND status = ANY(:open)"""),
        {"l": lead_id, "r": reason_code, "remark": remark, "open": list(OPEN_STATUSES)}).rowcount == 1


def reassign(conn: Connection, lead_id: int, staff_id: int) -> None:
    conn.execute(sa.text("UPDATE crm.lead SET salesperson_id = :s WHERE lead_id = :l"), {"l": lead_id, "s": staff_id})


def set_follow_up(conn: Connection, lead_id: int, action: str | None, on: date | None) -> None:
    conn.execute(sa.text("UPDATE crm.lead SET next_action = :a, follow_up_on = :on WHERE lead_id = :l"),
                 {"l": lead_id, "a": action, "on": on})


def record_contact(conn: Connection, lead: dict, outcome: str, note: str | None, follow_up_on: date | None,
                   next_action: str | None) -> None:
    """One call's outcome; the lead is then contacted (if it was new) and its next follow-up is set
    (none after "not interested", which leaves it to be marked lost)."""
    conn.execute(sa.text("""
        INSERT INTO crm.contact (lead_id, branch_id, outcome, note) VALUES (:l, :b, :o, :n)"""),
        {"l": lead["lead_id"], "b": lead["branch_id"], "o": outcome, "n": note})
    conn.execute(sa.text("""
        UPDATE crm.lead SET status = CASE WHEN status = 'NEW' AND :reached THEN 'CONTACTED' ELSE status END,
                            contacted_at = CASE WHEN :reached THEN now() ELSE contacted_at END,
                            follow_up_on = :on, next_action = :a
         WHERE lead_id = :l"""), {"l": lead["lead_id"], "on": follow_up_on, "a": next_action if follow_up_on else None,
                                  "reached": outcome in ("REACHED", "CALL_BACK", "VISIT_PLANNED", "NOT_INTERESTED")})


def lead_contacts(conn: Connection, lead_id: int, limit: int = 20):
    return conn.execute(sa.text("""
        SELECT c.contacted_at, c.outcome, c.note, s.name AS staff_name
          FROM crm.contact c JOIN master.staff s ON s.staff_id = c.staff_id
         WHERE c.lead_id = :l ORDER BY c.contacted_at DESC, c.contact_id DESC LIMIT :n"""),
        {"l": lead_id, "n": limit}).mappings().all()


def lead_quotations(conn: Connection, lead_id: int):
    return conn.execute(sa.text("""
        SELECT q.quotation_id, q.quotation_no, q.quoted_on, q.valid_until, q.colour,
               m.name AS model_name, v.name AS variant_name,
               q.ex_showroom - q.discount + coalesce((SELECT sum(amount) FROM sales.quotation_item i
                                                       WHERE i.quotation_id = q.quotation_id), 0) AS on_road
          FROM sales.quotation q
          JOIN oem.variant v ON v.variant_id = q.variant_id
          JOIN oem.model m ON m.model_id = v.model_id
         WHERE q.lead_id = :l ORDER BY q.quotation_id DESC"""), {"l": lead_id}).mappings().all()


def duplicates(conn: Connection, branch_id: int, mobile: str, limit: int = 5, *, besides: int | None = None):
    """Open leads of the branch and customers with this mobile number (typed as a new lead, or as
    the corrected mobile of lead ``besides``, which is not its own duplicate, nor is its customer)."""
    leads = conn.execute(sa.text("""
        SELECT l.lead_id, l.name, l.status, l.lead_date, sp.name AS salesperson_name
          FROM crm.lead l JOIN master.staff sp ON sp.staff_id = l.salesperson_id
         WHERE l.mobile = :m AND l.branch_id = :b AND l.status <> ALL(ARRAY['BOOKED', 'LOST'])
           AND l.lead_id IS DISTINCT FROM CAST(:besides AS integer)
         ORDER BY l.lead_id DESC LIMIT :n"""),
        {"m": mobile, "b": branch_id, "n": limit, "besides": besides}).mappings().all()
    customers = conn.execute(sa.text("""
        SELECT customer_id, name, city FROM master.customer
         WHERE mobile = :m
           AND customer_id IS DISTINCT FROM (SELECT customer_id FROM crm.lead WHERE lead_id = CAST(:besides AS integer))
         ORDER BY customer_id DESC LIMIT :n"""),
        {"m": mobile, "n": limit, "besides": besides}).mappings().all()
    return leads, customers


def customer_from_lead(conn: Connection, lead: dict) -> int:
    """The lead's customer: one already recorded with its mobile and name, else a new one made from
    the lead (in the branch's state); recorded on the lead once (lead_customer_fixed)."""
    customer_id = conn.execute(sa.text("""
        SELECT customer_id FROM master.customer WHERE mobile = :m AND lower(btrim(name)) = lower(btrim(:n))
         ORDER BY customer_id LIMIT 1"""), {"m": lead["mobile"], "n": lead["name"]}).scalar()
    if customer_id is None:
        customer_id = conn.execute(sa.text("""
            INSERT INTO master.customer (branch_id, name, mobile, email, state_code)
            SELECT :b, :n, :m, :e, br.state_code FROM master.branch br WHERE br.branch_id = :b
            RETURNING customer_id"""), {"b": lead["branch_id"], "n": lead["name"], "m": lead["mobile"],
                                        "e": lead["email"]}).scalar_one()
    conn.execute(sa.text("UPDATE crm.lead SET customer_id = :c WHERE lead_id = :l"),
                 {"c": customer_id, "l": lead["lead_id"]})
    return customer_id


# --------------------------------------------------------------------------- follow-ups


def follow_ups(conn: Connection, branch_id: int, own: int | None, today: date, limit: int = 50):
    """Open leads whose follow-up is today or overdue, oldest first."""
    return conn.execute(sa.text("""
        SELECT l.lead_id, l.name, l.mobile, l.status, l.next_action, l.follow_up_on,
               l.follow_up_on < :today AS overdue, sp.name AS salesperson_name,
               o.brand || ' ' || m.name AS model_name
          FROM crm.lead l
          JOIN master.staff sp ON sp.staff_id = l.salesperson_id
          LEFT JOIN oem.model m ON m.model_id = l.model_id
          LEFT JOIN oem.oem o ON o.oem_id = m.oem_id
         WHERE l.branch_id = :b AND l.follow_up_on <= :today AND l.status <> ALL(ARRAY['BOOKED', 'LOST'])
           AND (CAST(:own AS integer) IS NULL OR l.salesperson_id = :own)
         ORDER BY l.follow_up_on, l.lead_id LIMIT :n"""),
        {"b": branch_id, "own": own, "today": today, "n": limit}).mappings().all()


def follow_up_counts(conn: Connection, branch_id: int, staff_id: int, today: date):
    return conn.execute(sa.text("""
        SELECT count(*) FILTER (WHERE follow_up_on = :today) AS today,
               count(*) FILTER (WHERE follow_up_on < :today) AS overdue
          FROM crm.lead
         WHERE salesperson_id = :s AND branch_id = :b AND follow_up_on <= :today
           AND status <> ALL(ARRAY['BOOKED', 'LOST'])"""),
        {"s": staff_id, "b": branch_id, "today": today}).mappings().one()


# --------------------------------------------------------------------------- test rides


def demo_units(conn: Connection, branch_id: int):
    """The branch's demo vehicles, each with the ride it is out on (if any)."""
    return conn.execute(sa.text("""
        SELECT u.unit_id, u.vin, u.colour, m.name AS model_name, v.name AS variant_name,
               r.test_ride_id AS out_on_ride, l.name AS out_with
          FROM inventory.vehicle_unit u
          JOIN oem.variant v ON v.variant_id = u.variant_id
          JOIN oem.model m ON m.model_id = v.model_id
          LEFT JOIN crm.test_ride r ON r.unit_id = u.unit_id AND r.in_at IS NULL
          LEFT JOIN crm.lead l ON l.lead_id = r.lead_id
         WHERE u.branch_id = :b AND u.status = 'DEMO'
         ORDER BY m.name, v.name, u.vin"""), {"b": branch_id}).mappings().all()


def start_test_ride(conn: Connection, lead: dict, data: dict) -> int:
    return conn.execute(sa.text("""
        INSERT INTO crm.test_ride (lead_id, branch_id, unit_id, licence_no, licence_valid_until, odometer_out)
        VALUES (:l, :b, :u, :licence, :valid, :odo)
        RETURNING test_ride_id"""), {"l": lead["lead_id"], "b": lead["branch_id"], "u": data["unit_id"],
                                     "licence": data["licence_no"], "valid": data["licence_valid_until"],
                                     "odo": data["odometer_out"]}).scalar_one()


def get_test_ride(conn: Connection, test_ride_id: int):
    return conn.execute(sa.text("""
        SELECT r.*, l.name AS lead_name, l.salesperson_id, u.vin, m.name AS model_name, v.name AS variant_name
          FROM crm.test_ride r
          JOIN crm.lead l ON l.lead_id = r.lead_id
          JOIN inventory.vehicle_unit u ON u.unit_id = r.unit_id
          JOIN oem.variant v ON v.variant_id = u.variant_id
          JOIN oem.model m ON m.model_id = v.model_id
         WHERE r.test_ride_id = :r"""), {"r": test_ride_id}).mappings().first()


def return_test_ride(conn: Connection, test_ride_id: int, data: dict) -> bool:
    return conn.execute(sa.text("""
        UPDATE crm.test_ride SET in_at = now(), odometer_in = :odo, feedback = :feedback, rating = :rating
         WHERE test_ride_id = :r AND in_at IS NULL"""),
        {"r": test_ride_id, "odo": data["odometer_in"], "feedback": data["feedback"],
         "rating": data["rating"]}).rowcount == 1


def lead_test_rides(conn: Connection, lead_id: int):
    return conn.execute(sa.text("""
        SELECT r.test_ride_id, r.out_at, r.in_at, r.odometer_out, r.odometer_in, r.feedback, r.rating,
               r.licence_no, u.vin, m.name AS model_name, v.name AS variant_name
          FROM crm.test_ride r
          JOIN inventory.vehicle_unit u ON u.unit_id = r.unit_id
          JOIN oem.variant v ON v.variant_id = u.variant_id
          JOIN oem.model m ON m.model_id = v.model_id
         WHERE r.lead_id = :l ORDER BY r.out_at DESC"""), {"l": lead_id}).mappings().all()


def test_rides(conn: Connection, branch_id: int, own: int | None, limit: int = 100):
    """Rides out now, then the latest back."""
    return conn.execute(sa.text("""
        SELECT r.test_ride_id, r.lead_id, r.out_at, r.in_at, r.odometer_out, r.odometer_in, r.rating,
               l.name AS lead_name, u.vin, m.name AS model_name, v.name AS variant_name
          FROM crm.test_ride r
          JOIN crm.lead l ON l.lead_id = r.lead_id
          JOIN inventory.vehicle_unit u ON u.unit_id = r.unit_id
          JOIN oem.variant v ON v.variant_id = u.variant_id
          JOIN oem.model m ON m.model_id = v.model_id
         WHERE r.branch_id = :b AND (CAST(:own AS integer) IS NULL OR l.salesperson_id = :own)
         ORDER BY r.in_at IS NOT NULL, r.out_at DESC LIMIT :n"""),
        {"b": branch_id, "own": own, "n": limit}).mappings().all()
