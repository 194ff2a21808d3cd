"""Incentive records for the access matrix and the statement budgets: a rule per kind (one of them the service
revenue slabs), so the rules screen lists them and its form to end one has them to choose from."""
from __future__ import annotations

import sqlalchemy as sa


def incentive_ids(engine) -> dict:
    """Committed rows (the app fixture empties the tables after the test). No route takes their ids."""
    with engine.begin() as conn:
        conn.execute(sa.text("""
            INSERT INTO hr.incentive_rule (role_code, kind, amount, valid_from)
            VALUES ('SALES', 'PER_VEHICLE_DELIVERED', 500, '2025-01-01')"""))
        slab_rule = conn.execute(sa.text("""
            INSERT INTO hr.incentive_rule (role_code, kind, valid_from)
            VALUES ('SERVICE_ADVISOR', 'SERVICE_REVENUE_SLAB', '2025-01-01') RETURNING rule_id""")).scalar_one()
        conn.execute(sa.text("INSERT INTO hr.incentive_slab (rule_id, revenue_from, pct) VALUES (:r, 0, 0), (:r, 50000, 1)"),
                     {"r": slab_rule})
    return {}


def leaver(conn, branch_id: int) -> int:
    """A salesperson of the branch who joined on 01-11-2019 and left on 30-06-2025: the run of June 2025
    (payroll_ids) carries their full and final settlement. Returns the staff id."""
    staff_id = conn.execute(sa.text("""
        INSERT INTO master.staff (branch_id, staff_code, name, designation, pin_hash)
        SELECT :b, 'LEFT1', 'Prakash Leaver', 'SALES', pin_hash FROM master.staff WHERE branch_id = :b
         ORDER BY staff_id LIMIT 1
        RETURNING staff_id"""), {"b": branch_id}).scalar_one()
    conn.execute(sa.text("INSERT INTO hr.employee (staff_id, joined_on, left_on) VALUES (:s, '2019-11-01', '2025-06-30')"),
                 {"s": staff_id})
    return staff_id


def adjusted_month(engine, branch_id: int) -> None:
    """Last month of the branch's first salesperson adjusted by its first manager (or administrator), with a long
    reason: a row for the incentives list of the month."""
    with engine.begin() as conn:
        conn.execute(sa.text("""
            INSERT INTO hr.incentive_adjustment (branch_id, staff_id, month, amount, reason, made_by)
            SELECT :b, (SELECT min(staff_id) FROM master.staff WHERE branch_id = :b AND designation = 'SALES'),
                   date_trunc('month', (now() AT TIME ZONE 'Asia/Kolkata') - interval '1 month')::date, 1250,
                   'OEM exchange-bonus scheme: two scooters taken in exchange at the year-end camp',
                   (SELECT min(staff_id) FROM master.staff WHERE branch_id = :b AND is_active
                       AND designation IN ('MANAGER', 'ADMIN'))"""), {"b": branch_id})
