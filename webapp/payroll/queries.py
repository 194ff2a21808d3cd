"""Payroll's reads and writes (the rules and the computation are PostgreSQL's: sql/0052_payroll.sql,
sql/functions/99_payroll.sql). Each takes the connection and never commits."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..finance import api as finance
from ..formatting import month_end
from ..hr import api as hr

# The voucher of an approved run: (system ledger, what of the lines it sums, +1 debit / -1 credit).
VOUCHER_LINES = (
    ("EXP_SALARY", "gross", 1),
    ("EMPLOYER_PF", "pf_eps + pf_epf_employer + pf_edli + pf_admin", 1),
    ("EMPLOYER_ESI", "esi_employer", 1),
    ("PF_PAYABLE", "pf_employee + pf_eps + pf_epf_employer + pf_edli + pf_admin", -1),
    ("ESI_PAYABLE", "esi_employee + esi_employer", -1),
    ("PT_PAYABLE", "professional_tax", -1),
    ("TDS_SALARY_PAYABLE", "tds", -1),
    ("STAFF_ADVANCES", "loan_recovery", -1),
    ("SALARY_DEDUCTIONS_PAYABLE", "other_deductions", -1),
    ("NOTICE_PAY_RECOVERED", "notice_recovery", -1),
    ("SALARY_PAYABLE", "net_pay", -1),
)


def create_run(conn: Connection, branch_id: int, month: date) -> int:
    """A draft run of the branch's month (refused by the database unless HR closed the month),
    computed at once."""
    run_id = conn.execute(sa.text("INSERT INTO hr.payroll_run (branch_id, month) VALUES (:b, :m) RETURNING run_id"),
                          {"b": branch_id, "m": month}).scalar_one()
    compute(conn, run_id)
    return run_id


def compute(conn: Connection, run_id: int) -> int:
    return conn.execute(sa.text("SELECT hr.payroll_compute(:r)"), {"r": run_id}).scalar_one()


def mark_checked(conn: Connection, run_id: int, by: int) -> None:
    conn.execute(sa.text("UPDATE hr.payroll_run SET status = 'CHECKED', checked_by = :s WHERE run_id = :r"),
                 {"r": run_id, "s": by})


def send_back(conn: Connection, run_id: int) -> None:
    conn.execute(sa.text("UPDATE hr.payroll_run SET status = 'DRAFT', checked_by = NULL WHERE run_id = :r"),
                 {"r": run_id})


def voucher_lines(conn: Connection, run_id: int) -> list[finance.Line]:
    sums = ", ".join(f"coalesce(sum({expr}), 0) AS {key.lower()}" for key, expr, _ in VOUCHER_LINES)
    totals = conn.execute(sa.text(f"SELECT {sums} FROM hr.payroll_line WHERE run_id = :r"), {"r": run_id}).mappings().one()
    return [finance.Line(finance.ledger_key(conn, key), sign * totals[key.lower()])
            for key, _, sign in VOUCHER_LINES if totals[key.lower()] != 0]


def approve(conn: Connection, run_id: int, by: int) -> int:
    """Approve the checked run and post its salary voucher (journal, on the month's last day) in the
    same transaction; returns the voucher's id."""
    run = conn.execute(sa.text("SELECT branch_id, month, status FROM hr.payroll_run WHERE run_id = :r FOR UPDATE"),
                       {"r": run_id}).mappings().one()
    voucher_id = finance.post_voucher(
        conn, branch_id=run["branch_id"], voucher_type="JOURNAL", on=month_end(run["month"]),
        lines=voucher_lines(conn, run_id), narration=f"Salaries for {run['month']:%B %Y}",
        source=("hr.payroll_run", run_id))
    conn.execute(sa.text("UPDATE hr.payroll_run SET status = 'APPROVED', approved_by = :s, voucher_id = :v "
                         "WHERE run_id = :r"), {"r": run_id, "s": by, "v": voucher_id})
    return voucher_id


def mark_paid(conn: Connection, run_id: int, on: date) -> None:
    conn.execute(sa.text("UPDATE hr.payroll_run SET status = 'PAID', paid_on = :d WHERE run_id = :r"),
                 {"r": run_id, "d": on})


def runs(conn: Connection):
    return conn.execute(sa.text("""
        SELECT r.*, b.branch_code, count(l.staff_id) AS people, coalesce(sum(l.gross), 0) AS gross,
               coalesce(sum(l.net_pay), 0) AS net_pay
          FROM hr.payroll_run r JOIN master.branch b USING (branch_id)
          LEFT JOIN hr.payroll_line l USING (run_id)
         GROUP BY r.run_id, b.branch_code ORDER BY r.month DESC, b.branch_code""")).mappings().all()


def run(conn: Connection, run_id: int):
    return conn.execute(sa.text("""
        SELECT r.*, b.branch_code, b.legal_name, b.state_code, c.name AS checked_name, a.name AS approved_name
          FROM hr.payroll_run r JOIN master.branch b USING (branch_id)
          LEFT JOIN master.staff c ON c.staff_id = r.checked_by
          LEFT JOIN master.staff a ON a.staff_id = r.approved_by
         WHERE r.run_id = :r"""), {"r": run_id}).mappings().first()


LINE_SELECT = """
    SELECT l.*, s.staff_code, s.name, s.designation, s.pan, s.bank_account_no, s.ifsc,
            e.uan, e.esi_ip_number, e.joined_on, e.left_on,
            t.projected_income, t.standard_deduction, t.section_80c, t.section_80d, t.hra_exemption,
            t.home_loan_interest, t.taxable_income, t.annual_tax, t.tds_before,
            t.section_80c + t.section_80d + t.hra_exemption + t.home_loan_interest AS tax_deductions
       FROM hr.payroll_line l JOIN master.staff s USING (staff_id) JOIN hr.employee e USING (staff_id)
       LEFT JOIN hr.payroll_line_tax t ON t.run_id = l.run_id AND t.staff_id = l.staff_id"""


def lines(conn: Connection, run_id: int):
    return conn.execute(sa.text(LINE_SELECT + " WHERE l.run_id = :r ORDER BY s.staff_code"), {"r": run_id}
                        ).mappings().all()


def line(conn: Connection, run_id: int, staff_id: int):
    return conn.execute(sa.text(LINE_SELECT + " WHERE l.run_id = :r AND l.staff_id = :s"),
                        {"r": run_id, "s": staff_id}).mappings().first()


def totals(rows) -> dict:
    keys = ("incentive", "gross", "pf_employee", "esi_employee", "professional_tax", "tds", "loan_recovery", "other_deductions",
            "total_deductions", "net_pay", "pf_eps", "pf_epf_employer", "pf_edli", "pf_admin", "esi_employer")
    return {k: sum((r[k] for r in rows), Decimal(0)) for k in keys}


def without_structure(conn: Connection, branch_id: int, month: date):
    """People of the closed month who have no salary structure in force: the run leaves them out."""
    return conn.execute(sa.text("""
        SELECT s.staff_code, s.name FROM hr.payment_days d JOIN master.staff s USING (staff_id)
         WHERE d.branch_id = :b AND d.month = :m
           AND NOT EXISTS (SELECT 1 FROM hr.pay_structure p WHERE p.staff_id = d.staff_id AND p.effective_from <= :m)
         ORDER BY s.staff_code"""), {"b": branch_id, "m": month}).mappings().all()


def month_closed(conn: Connection, branch_id: int, month: date) -> bool:
    return hr.month_closed(conn, branch_id, month)


def own_payslips(conn: Connection, staff_id: int):
    """A person's approved and paid months."""
    return conn.execute(sa.text("""
        SELECT r.run_id, r.month, r.status, l.gross, l.total_deductions, l.net_pay
          FROM hr.payroll_line l JOIN hr.payroll_run r USING (run_id)
         WHERE l.staff_id = :s AND r.status IN ('APPROVED', 'PAID') ORDER BY r.month DESC"""), {"s": staff_id}
                        ).mappings().all()


STRUCTURE_PARTS = ("basic", "da", "hra", "conveyance", "special", "other_earnings", "other_deductions")


def add_structure(conn: Connection, staff_id: int, effective_from: date, monthly_gross: Decimal, **parts) -> int:
    cols = [p for p in STRUCTURE_PARTS if p in parts]
    return conn.execute(sa.text(
        f"INSERT INTO hr.pay_structure (staff_id, effective_from, monthly_gross, {', '.join(cols)}) "
        f"VALUES (:s, :f, :g, {', '.join(':' + c for c in cols)}) RETURNING structure_id"),
        {"s": staff_id, "f": effective_from, "g": monthly_gross, **{c: parts[c] for c in cols}}).scalar_one()


def structures(conn: Connection, staff_id: int):
    return conn.execute(sa.text("SELECT * FROM hr.pay_structure WHERE staff_id = :s ORDER BY effective_from DESC"),
                        {"s": staff_id}).mappings().all()


def employee(conn: Connection, staff_id: int):
    return conn.execute(sa.text("""SELECT s.staff_id, s.staff_code, s.name, s.branch_id, e.joined_on, e.left_on
                                     FROM hr.employee e JOIN master.staff s USING (staff_id) WHERE e.staff_id = :s"""),
                        {"s": staff_id}).mappings().first()


def people(conn: Connection, branch_id: int):
    """The branch's employees with the structure in force today (if any)."""
    return conn.execute(sa.text("""
        SELECT s.staff_id, s.staff_code, s.name, s.designation, e.left_on, p.effective_from, p.monthly_gross
          FROM hr.employee e JOIN master.staff s USING (staff_id)
          LEFT JOIN LATERAL (SELECT effective_from, monthly_gross FROM hr.pay_structure x WHERE x.staff_id = e.staff_id
                              AND x.effective_from <= current_date ORDER BY x.effective_from DESC LIMIT 1) p ON true
         WHERE s.branch_id = :b ORDER BY e.left_on IS NOT NULL, s.staff_code"""), {"b": branch_id}).mappings().all()


def choose_regime(conn: Connection, staff_id: int, fy_start: date, regime: str) -> None:
    conn.execute(sa.text("INSERT INTO hr.pay_regime (staff_id, fy_start, regime) VALUES (:s, :f, :r)"),
                 {"s": staff_id, "f": fy_start, "r": regime})


def regimes(conn: Connection, staff_id: int):
    return conn.execute(sa.text("SELECT fy_start, regime FROM hr.pay_regime WHERE staff_id = :s ORDER BY fy_start DESC"),
                        {"s": staff_id}).mappings().all()


def add_loan(conn: Connection, *, branch_id: int, staff_id: int, kind: str, amount: Decimal, instalment: Decimal,
             first_month: date, given_on: date, reason: str) -> int:
    return conn.execute(sa.text("""
        INSERT INTO hr.pay_loan (branch_id, staff_id, kind, amount, instalment, first_month, given_on, reason)
        VALUES (:b, :s, :k, :a, :i, :f, :g, :r) RETURNING loan_id"""),
        {"b": branch_id, "s": staff_id, "k": kind, "a": amount, "i": instalment, "f": first_month, "g": given_on,
         "r": reason}).scalar_one()


def loans(conn: Connection, staff_id: int):
    """A person's advances and loans with what approved runs recovered so far."""
    return conn.execute(sa.text("""
        SELECT ln.*, coalesce((SELECT sum(rc.amount) FROM hr.payroll_loan_recovery rc JOIN hr.payroll_run r USING (run_id)
                                WHERE rc.loan_id = ln.loan_id AND r.status IN ('APPROVED', 'PAID')), 0) AS recovered
          FROM hr.pay_loan ln WHERE ln.staff_id = :s ORDER BY ln.first_month DESC, ln.loan_id DESC"""),
        {"s": staff_id}).mappings().all()
