"""Reading and writing insurance policies; functions take the request's connection first and
never commit. The database checks the periods, the cover and that a policy sold with a booking
covers that booking's unit and customer (sql/0008_insurance.sql)."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Connection

POLICY_FIELDS = ("insurer_id", "od_policy_no", "od_from", "od_to", "tp_policy_no", "tp_from", "tp_to", "premium",
                 "idv", "nominee_name", "nominee_relation", "commission_amount", "commission_received_on")

# A policy's insurer, customer and vehicle (unit, variant, model, OEM), for its page and the renewals list.
POLICY_JOINS = """
      JOIN master.insurer i ON i.insurer_id = p.insurer_id
      JOIN master.customer c ON c.customer_id = p.customer_id
      JOIN inventory.vehicle_unit u ON u.unit_id = p.unit_id
      JOIN oem.variant v ON v.variant_id = u.variant_id
      JOIN oem.model m ON m.model_id = v.model_id
      JOIN oem.oem o ON o.oem_id = m.oem_id"""

POLICY_SQL = """
    SELECT p.*, i.name AS insurer_name, c.name AS customer_name, c.mobile AS customer_mobile,
           u.vin, o.brand AS oem_name, m.name AS model_name, v.name AS variant_name, u.colour,
           b.booking_no, b.salesperson_id
      FROM insurance.policy p""" + POLICY_JOINS + """
      LEFT JOIN sales.booking b ON b.booking_id = p.booking_id"""


def get_policy(conn: Connection, policy_id: int):
    return conn.execute(sa.text(POLICY_SQL + " WHERE p.policy_id = :p"), {"p": policy_id}).mappings().first()


def booking_policy(conn: Connection, booking_id: int):
    """The latest policy sold with a booking, or None."""
    return conn.execute(sa.text(POLICY_SQL + " WHERE p.booking_id = :b ORDER BY p.policy_id DESC LIMIT 1"),
                        {"b": booking_id}).mappings().first()


def insurer_choices(conn: Connection, keep: int | None = None) -> list[tuple[int, str]]:
    """Active insurers (and the one a policy already names, even if no longer active)."""
    return [tuple(r) for r in conn.execute(sa.text(
        "SELECT insurer_id, name FROM master.insurer WHERE is_active OR insurer_id = :k ORDER BY name"),
        {"k": keep}).all()]


def model_segment(conn: Connection, unit_id: int) -> str | None:
    return conn.execute(sa.text("""
        SELECT m.segment FROM inventory.vehicle_unit u JOIN oem.variant v USING (variant_id)
          JOIN oem.model m USING (model_id) WHERE u.unit_id = :u"""), {"u": unit_id}).scalar()


def insert_policy(conn: Connection, *, branch_id: int, booking_id: int | None, unit_id: int, customer_id: int,
                  data: dict) -> int:
    values = {f: data.get(f) for f in POLICY_FIELDS}
    return conn.execute(sa.text(f"""
        INSERT INTO insurance.policy (branch_id, booking_id, unit_id, customer_id, {', '.join(POLICY_FIELDS)})
        VALUES (:branch_id, :booking_id, :unit_id, :customer_id, {', '.join(':' + f for f in POLICY_FIELDS)})
        RETURNING policy_id"""), {"branch_id": branch_id, "booking_id": booking_id, "unit_id": unit_id,
                                  "customer_id": customer_id, **values}).scalar_one()


def update_policy(conn: Connection, policy_id: int, data: dict) -> None:
    values = {f: data.get(f) for f in POLICY_FIELDS}
    conn.execute(sa.text(f"""
        UPDATE insurance.policy SET {', '.join(f'{f} = :{f}' for f in POLICY_FIELDS)}
         WHERE policy_id = :policy_id"""), {"policy_id": policy_id, **values})


def renewals(conn: Connection, branch_id: int, start: date, end: date, own: int | None, page: int, page_size: int):
    """One row per cover (own damage, third party) expiring in [start, end), soonest first.

    ``own``: a salesperson's staff id, to list only policies on their bookings (or entered by them).
    Returns (rows, total)."""
    params = {"branch": branch_id, "start": start, "end": end, "own": own,
              "limit": page_size, "offset": (page - 1) * page_size}
    # One statement: the month's covers (MATERIALIZED: a few hundred rows read once, in this process;
    # otherwise the planner hands the two index scans to parallel workers, whose start-up costs more
    # than the whole query); the salesperson's only when `own` (the bookings are read for that alone);
    # each with its customer's name (the order's second key), counted and sorted; only the page's rows
    # are then joined to the insurer, the unit and its model (joining all of them first took 20 ms
    # on five years of data).
    mine = "" if own is None else """
              LEFT JOIN sales.booking b ON b.booking_id = p.booking_id
             WHERE b.salesperson_id = :own OR (p.booking_id IS NULL AND p.created_by = :own)"""
    rows = conn.execute(sa.text(f"""
        WITH expiring AS MATERIALIZED (
            SELECT p.policy_id, 'OD' AS cover, p.od_policy_no AS policy_no, p.od_to AS expires_on
              FROM insurance.policy p
             WHERE p.branch_id = :branch AND p.od_to >= :start AND p.od_to < :end
            UNION ALL
            SELECT p.policy_id, 'TP', p.tp_policy_no, p.tp_to
              FROM insurance.policy p
             WHERE p.branch_id = :branch AND p.tp_to >= :start AND p.tp_to < :end
        ), page AS (
            SELECT e.*, p.insurer_id, p.unit_id, c.name AS customer_name, c.mobile AS customer_mobile,
                   count(*) OVER () AS total
              FROM expiring e JOIN insurance.policy p USING (policy_id)
              JOIN master.customer c ON c.customer_id = p.customer_id
{mine}
             ORDER BY e.expires_on, c.name, e.policy_id, e.cover
             LIMIT :limit OFFSET :offset
        )
        SELECT e.policy_id, e.cover, e.policy_no, e.expires_on, i.name AS insurer_name, e.customer_name,
               e.customer_mobile, u.vin, o.brand AS oem_name, m.name AS model_name, e.total
          FROM page e
          JOIN master.insurer i ON i.insurer_id = e.insurer_id
          JOIN inventory.vehicle_unit u ON u.unit_id = e.unit_id
          JOIN oem.variant v ON v.variant_id = u.variant_id
          JOIN oem.model m ON m.model_id = v.model_id
          JOIN oem.oem o ON o.oem_id = m.oem_id
         ORDER BY e.expires_on, e.customer_name, e.policy_id, e.cover"""), params).mappings().all()
    # A page past the end has no row to carry the count: paged() then asks for page 1 again.
    total = rows[0]["total"] if rows else 0
    return rows, total
