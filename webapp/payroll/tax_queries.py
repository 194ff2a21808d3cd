"""Payroll tax's reads and writes: a person's declaration of the old regime's deductions for a financial year,
how a run line's TDS was worked out (hr.payroll_line_tax, written by hr.payroll_compute), and arrears lines.
The caps, the tax and the rules are PostgreSQL's (sql/0056_payroll_tax.sql, sql/functions/99_payroll_tax.sql).
Each takes the connection and never commits."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

DECLARED = ("section_80c", "section_80d", "home_loan_interest", "rent_paid", "metro")


def declare(conn: Connection, staff_id: int, fy_start: date, *, section_80c: Decimal, section_80d: Decimal,
            home_loan_interest: Decimal, rent_paid: Decimal, metro: bool) -> None:
    """Record (or revise) the person's declaration for the year; the audit trail keeps the earlier one."""
    conn.execute(sa.text("""
        INSERT INTO hr.pay_tax_declaration (staff_id, fy_start, section_80c, section_80d, home_loan_interest,
                                            rent_paid, metro)
        VALUES (:s, :f, :c, :d, :h, :r, :m)
        ON CONFLICT (staff_id, fy_start) DO UPDATE
           SET section_80c = EXCLUDED.section_80c, section_80d = EXCLUDED.section_80d,
               home_loan_interest = EXCLUDED.home_loan_interest, rent_paid = EXCLUDED.rent_paid,
               metro = EXCLUDED.metro, declared_by = audit.current_staff_id(), declared_at = now()"""),
        {"s": staff_id, "f": fy_start, "c": section_80c, "d": section_80d, "h": home_loan_interest,
         "r": rent_paid, "m": metro})


def declarations(conn: Connection, staff_id: int):
    """The person's declarations, latest year first, with the regime chosen for the year and the caps in force."""
    return conn.execute(sa.text("""
        SELECT d.*, coalesce(g.regime, 'NEW') AS regime, s.name AS declared_name,
               lim.cap_80c, lim.cap_80d, lim.cap_24b
          FROM hr.pay_tax_declaration d
          LEFT JOIN hr.pay_regime g USING (staff_id, fy_start)
          LEFT JOIN master.staff s ON s.staff_id = d.declared_by
          LEFT JOIN LATERAL (SELECT * FROM hr.pay_old_regime_limit l WHERE l.effective_from <= d.fy_start
                              ORDER BY l.effective_from DESC LIMIT 1) lim ON true
         WHERE d.staff_id = :s ORDER BY d.fy_start DESC"""), {"s": staff_id}).mappings().all()


def line_tax(conn: Connection, run_id: int, staff_id: int):
    return conn.execute(sa.text("SELECT * FROM hr.payroll_line_tax WHERE run_id = :r AND staff_id = :s"),
                        {"r": run_id, "s": staff_id}).first()


def run_tax(conn: Connection, run_id: int) -> dict:
    """staff_id -> how the line's TDS was worked out, for the register."""
    return {r.staff_id: r for r in conn.execute(sa.text("SELECT * FROM hr.payroll_line_tax WHERE run_id = :r"),
                                                {"r": run_id})}


def add_arrears(conn: Connection, *, branch_id: int, staff_id: int, for_month: date, paid_in: date, amount: Decimal,
                reason: str) -> int:
    return conn.execute(sa.text("""
        INSERT INTO hr.pay_arrears (branch_id, staff_id, for_month, paid_in, amount, reason)
        VALUES (:b, :s, :f, :p, :a, :r) RETURNING arrears_id"""),
        {"b": branch_id, "s": staff_id, "f": for_month, "p": paid_in, "a": amount, "r": reason}).scalar_one()


def arrears(conn: Connection, branch_id: int, limit: int = 200):
    """The branch's arrears lines, the latest month paid in first, with the state of that month's run."""
    return conn.execute(sa.text("""
        SELECT a.*, s.staff_code, s.name, r.status AS run_status, r.run_id
          FROM hr.pay_arrears a JOIN master.staff s USING (staff_id)
          LEFT JOIN hr.payroll_run r ON r.branch_id = a.branch_id AND r.month = a.paid_in
         WHERE a.branch_id = :b ORDER BY a.paid_in DESC, a.arrears_id DESC LIMIT :n"""),
        {"b": branch_id, "n": limit}).all()


def employees(conn: Connection, branch_id: int):
    """The branch's employees still on the rolls, for the arrears form's list."""
    return conn.execute(sa.text("""
        SELECT s.staff_id, s.staff_code, s.name FROM hr.employee e JOIN master.staff s USING (staff_id)
         WHERE s.branch_id = :b AND (e.left_on IS NULL OR e.left_on >= current_date - 366)
         ORDER BY s.staff_code"""), {"b": branch_id}).all()
