"""Payroll records for the access matrix and the statement budgets: a salary structure for everyone with employment
details (hr_ids first), June 2025's attendance closed, and its run checked and approved, so each payroll route opens
a real run, a real payslip (every role's own) and a real structure."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from incentive_ids import leaver

from webapp.payroll import queries


def payroll_ids(engine, branch_id: int) -> dict:
    """Committed rows (the app fixture empties the tables after the test). Returns the route args."""
    month = date(2025, 6, 1)
    with engine.begin() as conn:
        leaver_id = leaver(conn, branch_id)   # the run carries their full and final settlement
        staff = conn.execute(sa.text("""SELECT e.staff_id, s.designation FROM hr.employee e JOIN master.staff s USING (staff_id)
                                         WHERE s.branch_id = :b ORDER BY e.staff_id"""), {"b": branch_id}).all()
        for staff_id, _ in staff:
            conn.execute(sa.text("""INSERT INTO hr.pay_structure (staff_id, effective_from, monthly_gross, basic, hra)
                                    VALUES (:s, '2025-01-01', 21000, 15000, 6000)"""), {"s": staff_id})
        # checked by accounts (else the administrator), approved by a manager (else an administrator): two people
        checker = next((s for want in ("ACCOUNTS", "ADMIN") for s, role in staff if role == want), None)
        approver = next((s for want in ("MANAGER", "ADMIN") for s, role in staff if role == want and s != checker), None)
        assert checker and approver, "payroll_ids needs two employees who may check and approve a run (hr_ids first)"
        conn.execute(sa.text("INSERT INTO hr.month_close (branch_id, month, closed_by) VALUES (:b, :m, :s)"),
                     {"b": branch_id, "m": month, "s": checker})
        run_id = queries.create_run(conn, branch_id, month)
        queries.mark_checked(conn, run_id, checker)
        queries.approve(conn, run_id, approver)
    return {"run_id": run_id, "leaver_id": leaver_id}
