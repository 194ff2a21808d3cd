"""HR records for the access matrix, the statement budgets and the layout check: the branch's default shift, employment details
for every staff member of the branch (reporting to its MANAGER), a document, a punching terminal, a leave quota,
a pending application and a punch, so each HR route opens a real record (an id that does not exist would only
ever show the 404 page) and the own-attendance screens read a real month."""
from __future__ import annotations

import sqlalchemy as sa


def hr_ids(engine, branch_id: int, target_staff_id: int | None = None) -> dict:
    """Committed rows (the app fixture empties the tables after the test); the target (by default the branch's
    first salesperson) has the document, the pending leave and a forgotten out-punch; everyone reports to the
    branch's first ADMIN or MANAGER. Returns the route args."""
    with engine.begin() as conn:
        def one(sql: str, **params):
            return conn.execute(sa.text(sql), params).scalar_one()

        if target_staff_id is None:
            target_staff_id = one("SELECT min(staff_id) FROM master.staff WHERE branch_id = :b AND designation = 'SALES'",
                                  b=branch_id)

        shift_id = one("""INSERT INTO hr.shift (branch_id, name, starts_at, ends_at, grace_minutes, half_day_hours,
                                                absent_hours, weekly_off, is_default)
                          VALUES (:b, 'General', '09:30', '18:30', 10, 6, 3, 7, true) RETURNING shift_id""", b=branch_id)
        manager = one("SELECT min(staff_id) FROM master.staff WHERE branch_id = :b "
                      "AND designation IN ('ADMIN', 'MANAGER')", b=branch_id)
        conn.execute(sa.text("""INSERT INTO hr.employee (staff_id, joined_on, manager_id)
                                SELECT staff_id, DATE '2025-01-01', CASE WHEN staff_id <> :m THEN :m END
                                  FROM master.staff WHERE branch_id = :b AND designation <> 'DEALER'
                                ON CONFLICT DO NOTHING"""), {"b": branch_id, "m": manager})
        document_id = one("""INSERT INTO hr.employee_document (staff_id, kind, file_name, content_type, content, sha256)
                             VALUES (:s, 'ID_PROOF', 'id.pdf', 'application/pdf', '%PDF-1.4 id',
                                     encode(sha256('%PDF-1.4 id'::bytea), 'hex')) RETURNING document_id""",
                          s=target_staff_id)
        terminal_id = one("""INSERT INTO hr.terminal (branch_id, name, token_sha256, enabled_by)
                             VALUES (:b, 'Front desk', repeat('b', 64), :m) RETURNING terminal_id""", b=branch_id, m=manager)
        conn.execute(sa.text("""INSERT INTO hr.leave_quota (leave_code, year, days)
                                SELECT 'CL', y, 12 FROM generate_series(2025, 2030) y ON CONFLICT DO NOTHING"""))
        leave_id = one("""INSERT INTO hr.leave_application (branch_id, staff_id, leave_code, from_date, to_date, reason)
                          VALUES (:b, :s, 'CL', DATE '2025-09-15', DATE '2025-09-15', 'Family function')
                          RETURNING leave_id""", b=branch_id, s=target_staff_id)
        conn.execute(sa.text("""INSERT INTO hr.leave_application (branch_id, staff_id, leave_code, from_date, to_date, reason)
                                SELECT :b, :m, 'LOP', d, d, 'Going home for the harvest'
                                  FROM generate_series(date_trunc('year', current_date), date_trunc('year', current_date) + interval '6 days',
                                                       interval '1 day') d
                                 WHERE extract(isodow FROM d) = 1"""), {"b": branch_id, "m": manager})
        conn.execute(sa.text("""INSERT INTO hr.punch (branch_id, staff_id, kind, punched_at, reason, marked_by)
                                VALUES (:b, :s, 'IN', TIMESTAMP '2025-09-12 09:30' AT TIME ZONE 'Asia/Kolkata',
                                        'Terminal was down', :m)"""), {"b": branch_id, "s": target_staff_id, "m": manager})
    return {"shift_id": shift_id, "document_id": document_id, "terminal_id": terminal_id, "leave_id": leave_id}
