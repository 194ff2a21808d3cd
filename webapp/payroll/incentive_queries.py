"""Incentives' and settlements' reads and writes (the rules and the computation are PostgreSQL's:
sql/0055_payroll_incentives.sql, sql/functions/99_payroll_incentive.sql). Each takes the connection and never
commits."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

KINDS = {
    "PER_VEHICLE_DELIVERED": "Per vehicle delivered",
    "PER_FINANCE_CASE": "Per finance case (delivery order received)",
    "PER_INSURANCE_CASE": "Per insurance policy",
    "SERVICE_REVENUE_SLAB": "Service revenue slabs",
}


def add_rule(conn: Connection, *, role_code: str, kind: str, model_id: int | None, amount: Decimal | None,
             valid_from: date, valid_to: date | None, note: str | None,
             slabs: list[tuple[Decimal, Decimal | None, Decimal | None]]) -> int:
    """A rule and its slabs (revenue from, pct, fixed amount)."""
    rule_id = conn.execute(sa.text("""
        INSERT INTO hr.incentive_rule (role_code, kind, model_id, amount, valid_from, valid_to, note)
        VALUES (:r, :k, :m, :a, :f, :t, :n) RETURNING rule_id"""),
        {"r": role_code, "k": kind, "m": model_id, "a": amount, "f": valid_from, "t": valid_to, "n": note}).scalar_one()
    if slabs:
        conn.execute(sa.text("INSERT INTO hr.incentive_slab (rule_id, revenue_from, pct, fixed_amount) "
                             "VALUES (:r, :f, :p, :x)"),
                     [{"r": rule_id, "f": f, "p": p, "x": x} for f, p, x in slabs])
    return rule_id


def end_rule(conn: Connection, rule_id: int, valid_to: date) -> None:
    conn.execute(sa.text("UPDATE hr.incentive_rule SET valid_to = :t WHERE rule_id = :r"), {"r": rule_id, "t": valid_to})


def rules(conn: Connection):
    """Every rule with its role's and model's names and its slabs as text (newest first)."""
    return conn.execute(sa.text("""
        SELECT r.*, ro.name AS role_name, m.name AS model_name, s.slab_from, s.slab_pct, s.slab_fixed
          FROM hr.incentive_rule r JOIN master.role ro ON ro.role_code = r.role_code
          LEFT JOIN oem.model m ON m.model_id = r.model_id
          LEFT JOIN LATERAL (SELECT array_agg(x.revenue_from ORDER BY x.revenue_from) AS slab_from,
                                    array_agg(x.pct ORDER BY x.revenue_from) AS slab_pct,
                                    array_agg(x.fixed_amount ORDER BY x.revenue_from) AS slab_fixed
                               FROM hr.incentive_slab x WHERE x.rule_id = r.rule_id) s ON true
         ORDER BY r.valid_to IS NOT NULL, ro.sort_order, r.kind, r.valid_from DESC, r.rule_id DESC""")).mappings().all()


def rule(conn: Connection, rule_id: int):
    return conn.execute(sa.text("SELECT * FROM hr.incentive_rule WHERE rule_id = :r"), {"r": rule_id}).mappings().first()


def role_choices(conn: Connection) -> list[tuple[str, str]]:
    return [(r.role_code, r.name) for r in conn.execute(sa.text(
        "SELECT role_code, name FROM master.role ORDER BY sort_order"))]


def model_choices(conn: Connection) -> list[tuple[str, str]]:
    return [(str(r.model_id), r.name) for r in conn.execute(sa.text(
        "SELECT model_id, name FROM oem.model ORDER BY name"))]


def compute(conn: Connection, branch_id: int, month: date) -> int:
    """The month's lines again from its documents (refused once the month's run is checked)."""
    return conn.execute(sa.text("SELECT hr.incentive_compute(:b, :m)"), {"b": branch_id, "m": month}).scalar_one()


def person_totals(conn: Connection, branch_id: int, month: date):
    """Each person of the branch with incentive lines or adjustments in the month: computed, adjusted, total."""
    return conn.execute(sa.text("""
        WITH c AS (SELECT staff_id, sum(amount) AS computed, count(*) AS documents FROM hr.incentive_line
                    WHERE branch_id = :b AND month = :m GROUP BY staff_id),
             a AS (SELECT staff_id, sum(amount) AS adjusted FROM hr.incentive_adjustment
                    WHERE branch_id = :b AND month = :m GROUP BY staff_id)
        SELECT s.staff_id, s.staff_code, s.name, ro.name AS role_name, coalesce(c.documents, 0) AS documents,
               coalesce(c.computed, 0) AS computed, coalesce(a.adjusted, 0) AS adjusted,
               coalesce(c.computed, 0) + coalesce(a.adjusted, 0) AS total
          FROM c FULL JOIN a USING (staff_id) JOIN master.staff s USING (staff_id)
          JOIN master.role ro ON ro.role_code = s.designation
         ORDER BY s.staff_code"""), {"b": branch_id, "m": month}).mappings().all()


def lines(conn: Connection, branch_id: int, month: date, staff_id: int):
    """A person's lines of the month, each with the sale or job card it came from (for the links)."""
    return conn.execute(sa.text("""
        SELECT l.*, r.amount AS rule_amount, m.name AS model_name,
               CASE l.source_table WHEN 'sales.delivery' THEN (SELECT d.booking_id FROM sales.delivery d
                                                                 WHERE d.delivery_id = l.source_id)
                                   WHEN 'sales.finance' THEN l.source_id
                                   WHEN 'insurance.policy' THEN (SELECT p.booking_id FROM insurance.policy p
                                                                  WHERE p.policy_id = l.source_id) END AS booking_id,
               CASE l.source_table WHEN 'billing.invoice' THEN l.source_id
                                   WHEN 'billing.credit_note' THEN (SELECT cn.invoice_id FROM billing.credit_note cn
                                                                     WHERE cn.credit_note_id = l.source_id) END
                   AS invoice_id
          FROM hr.incentive_line l JOIN hr.incentive_rule r USING (rule_id)
          LEFT JOIN oem.model m ON m.model_id = r.model_id
         WHERE l.branch_id = :b AND l.month = :m AND l.staff_id = :s
         ORDER BY l.kind, l.document_date, l.line_id"""), {"b": branch_id, "m": month, "s": staff_id}).mappings().all()


def adjust(conn: Connection, *, branch_id: int, staff_id: int, month: date, amount: Decimal, reason: str) -> int:
    """A manager's adjustment (the acting staff member is the one who made it)."""
    return conn.execute(sa.text("""
        INSERT INTO hr.incentive_adjustment (branch_id, staff_id, month, amount, reason)
        VALUES (:b, :s, :m, :a, :r) RETURNING adjustment_id"""),
        {"b": branch_id, "s": staff_id, "m": month, "a": amount, "r": reason}).scalar_one()


def adjustments(conn: Connection, branch_id: int, month: date, staff_id: int):
    return conn.execute(sa.text("""
        SELECT a.*, s.name AS made_by_name FROM hr.incentive_adjustment a JOIN master.staff s ON s.staff_id = a.made_by
         WHERE a.branch_id = :b AND a.month = :m AND a.staff_id = :s ORDER BY a.made_at, a.adjustment_id"""),
        {"b": branch_id, "m": month, "s": staff_id}).mappings().all()


def month_status(conn: Connection, branch_id: int, month: date) -> str | None:
    """The status of the branch's run of the month, if any (incentives change only while it is a draft)."""
    return conn.execute(sa.text("SELECT status FROM hr.payroll_run WHERE branch_id = :b AND month = :m"),
                        {"b": branch_id, "m": month}).scalar()


def staff_member(conn: Connection, staff_id: int):
    return conn.execute(sa.text("SELECT staff_id, staff_code, name, designation, branch_id FROM master.staff "
                                "WHERE staff_id = :s"), {"s": staff_id}).mappings().first()


# --------------------------------------------------------------------------- full and final settlement

def settlement(conn: Connection, run_id: int, staff_id: int):
    return conn.execute(sa.text("""
        SELECT st.*, s.staff_code, s.name, s.designation, s.pan, e.uan, r.encashment_divisor, r.gratuity_days,
               r.gratuity_divisor, r.gratuity_min_years, r.notice_divisor
          FROM hr.settlement st JOIN master.staff s USING (staff_id) JOIN hr.employee e USING (staff_id)
          JOIN LATERAL (SELECT * FROM hr.pay_settlement_rate x WHERE x.effective_from <= st.left_on
                         ORDER BY x.effective_from DESC LIMIT 1) r ON true
         WHERE st.run_id = :r AND st.staff_id = :s"""), {"r": run_id, "s": staff_id}).mappings().first()


def settlements(conn: Connection, run_id: int):
    return conn.execute(sa.text("""
        SELECT st.staff_id, st.left_on, s.staff_code, s.name FROM hr.settlement st JOIN master.staff s USING (staff_id)
         WHERE st.run_id = :r ORDER BY s.staff_code"""), {"r": run_id}).mappings().all()


def notice_shortfall(conn: Connection, staff_id: int):
    return conn.execute(sa.text("SELECT * FROM hr.notice_shortfall WHERE staff_id = :s"), {"s": staff_id}
                        ).mappings().first()


def set_notice_shortfall(conn: Connection, *, branch_id: int, staff_id: int, days: Decimal, reason: str) -> None:
    conn.execute(sa.text("""
        INSERT INTO hr.notice_shortfall (branch_id, staff_id, days, reason) VALUES (:b, :s, :d, :r)
        ON CONFLICT (staff_id) DO UPDATE SET days = EXCLUDED.days, reason = EXCLUDED.reason,
                                             entered_by = EXCLUDED.entered_by, entered_at = now()"""),
        {"b": branch_id, "s": staff_id, "d": days, "r": reason})
