"""Reading and writing the work on a job card (sql/0023_service.sql, sql/0027_service_parts.sql): its
lines (labour operations and parts), the customer's approvals, parts issued and returned through
the stock ledger, requests to purchasing for parts not in stock, and a technician's own lines.
Functions take the request's connection first and never commit. The database approves the
proposed lines when an approval is recorded, moves parts in and out of stock, keeps what is
issued on each line and refuses what breaks a rule (sql/functions/91_service.sql)."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Connection

OPEN = "state NOT IN ('DELIVERED', 'CANCELLED')"

# Each line with what it is (labour operation or part), its HSN/SAC and GST rate on the given day,
# its technician, the approval that covers it and the branch's stock of its part.
LINES_SQL = """
    SELECT l.*, coalesce(l.description, lo.name, p.name) AS work, coalesce(lo.operation_code, p.part_no) AS code,
           CASE WHEN l.part_id IS NULL THEN 'LABOUR' ELSE 'PART' END AS kind,
           coalesce(lo.sac_code, p.hsn_code) AS hsn_code,
           master.gst_rate_on(coalesce(lo.sac_code, p.hsn_code), :on) AS gst_rate,
           p.unit, p.whole_units, t.name AS technician_name, a.approved_at, a.approved_by_name,
           coalesce(ps.qty, 0) AS in_stock
      FROM service.job_line l
      LEFT JOIN master.labour_operation lo ON lo.operation_code = l.operation_code
      LEFT JOIN master.part p ON p.part_id = l.part_id
      LEFT JOIN master.staff t ON t.staff_id = l.technician_id
      LEFT JOIN service.job_approval a ON a.approval_id = l.approval_id
      LEFT JOIN inventory.part_stock ps ON ps.part_id = l.part_id AND ps.branch_id = :branch"""


def lines(conn: Connection, job_card_id: int, branch_id: int, on: date):
    return conn.execute(sa.text(LINES_SQL + " WHERE l.job_card_id = :j ORDER BY l.added_at, l.job_line_id"),
                        {"j": job_card_id, "on": on, "branch": branch_id}).mappings().all()


def line(conn: Connection, job_line_id: int):
    """A line of a job card the request may see, with its card's number and state."""
    return conn.execute(sa.text("""
        SELECT l.*, j.job_card_no, j.state AS card_state, j.branch_id
          FROM service.job_line l JOIN service.job_card j ON j.job_card_id = l.job_card_id
         WHERE l.job_line_id = :l"""), {"l": job_line_id}).mappings().first()




def part_choices(conn: Connection, branch_id: int) -> list[tuple[int, str]]:
    return [tuple(r) for r in conn.execute(sa.text("""
        SELECT p.part_id, p.part_no || ' · ' || p.name || ' (' || trim_scale(coalesce(ps.qty, 0)) || ' in stock)'
          FROM master.part p
          LEFT JOIN inventory.part_stock ps ON ps.part_id = p.part_id AND ps.branch_id = :b
         WHERE p.is_active ORDER BY p.name"""), {"b": branch_id}).all()]


def work_defaults(conn: Connection, *, operation_code: str | None, part_id: int | None, on: date):
    """What the masters say for a new line: name, quantity, price, whether it includes GST, GST rate."""
    if operation_code:
        return conn.execute(sa.text("""
            SELECT name, standard_hours AS qty, rate AS unit_price, false AS price_includes_gst, sac_code AS hsn_code,
                   master.gst_rate_on(sac_code, :on) AS gst_rate, true AS whole_ok
              FROM master.labour_operation WHERE operation_code = :c AND is_active"""),
            {"c": operation_code, "on": on}).mappings().first()
    return conn.execute(sa.text("""
        SELECT name, 1 AS qty, mrp AS unit_price, true AS price_includes_gst, hsn_code,
               master.gst_rate_on(hsn_code, :on) AS gst_rate, NOT whole_units AS whole_ok
          FROM master.part WHERE part_id = :p AND is_active"""), {"p": part_id, "on": on}).mappings().first()


LINE_FIELDS = ("operation_code", "part_id", "description", "qty", "unit_price", "price_includes_gst", "coverage",
               "technician_id")


def add_line(conn: Connection, job_card_id: int, data: dict) -> int:
    return conn.execute(sa.text(f"""
        INSERT INTO service.job_line (job_card_id, {', '.join(LINE_FIELDS)})
        VALUES (:j, {', '.join(':' + f for f in LINE_FIELDS)}) RETURNING job_line_id"""),
        {"j": job_card_id, **{f: data.get(f) for f in LINE_FIELDS}}).scalar_one()


def remove_line(conn: Connection, job_line_id: int) -> str:
    """A line not yet approved leaves the estimate; an approved one is declined (it stays on the
    card). Returns 'removed' or 'declined'."""
    removed = conn.execute(sa.text("DELETE FROM service.job_line WHERE job_line_id = :l AND approval_id IS NULL"),
                           {"l": job_line_id}).rowcount
    if removed:
        return "removed"
    conn.execute(sa.text("UPDATE service.job_line SET status = 'DECLINED' WHERE job_line_id = :l"), {"l": job_line_id})
    return "declined"


def mark_done(conn: Connection, job_line_id: int) -> bool:
    """The line is done (the database dates it and names who marked it). False when it was already."""
    return conn.execute(sa.text("UPDATE service.job_line SET status = 'DONE' WHERE job_line_id = :l AND status <> 'DONE'"),
                        {"l": job_line_id}).rowcount == 1


# --------------------------------------------------------------------------- approvals


def approvals(conn: Connection, job_card_id: int):
    return conn.execute(sa.text("""
        SELECT a.*, s.name AS recorded_by_name,
               (SELECT count(*) FROM service.job_line l WHERE l.approval_id = a.approval_id) AS line_count
          FROM service.job_approval a LEFT JOIN master.staff s ON s.staff_id = a.recorded_by
         WHERE a.job_card_id = :j ORDER BY a.approved_at, a.approval_id"""), {"j": job_card_id}).mappings().all()


def record_approval(conn: Connection, job_card_id: int, *, approved_by_name: str, mode: str, amount, key: str) -> int:
    """The customer's approval: the database approves every proposed line of the card under it and
    moves a card waiting for it to APPROVED."""
    return conn.execute(sa.text("""
        INSERT INTO service.job_approval (job_card_id, approved_by_name, mode, amount, idempotency_key)
        VALUES (:j, :n, :m, :a, :k) RETURNING approval_id"""),
        {"j": job_card_id, "n": approved_by_name, "m": mode, "a": amount, "k": key}).scalar_one()


def customer_work_approved(conn: Connection, job_card_id: int) -> bool:
    """The database's answer: is every customer-paid line (not declined) approved by the customer?"""
    return conn.execute(sa.text("SELECT service.customer_work_approved(:j)"), {"j": job_card_id}).scalar_one()


def billable_lines(conn: Connection, job_card_id: int):
    """What the job card's invoice bills (service.job_line_billable): labour at its quantity, parts at
    what was issued, with HSN/SAC, price, who pays and whether the customer approved it."""
    return conn.execute(sa.text("SELECT * FROM service.job_line_billable WHERE job_card_id = :j ORDER BY job_line_id"),
                        {"j": job_card_id}).mappings().all()


# --------------------------------------------------------------------------- parts


def issue_parts(conn: Connection, job_card_id: int, job_line_id: int, *, kind: str, qty, key: str) -> int:
    """An issue (kind ISSUE) or a return (RETURN) of a part line's part; the trigger moves the stock."""
    return conn.execute(sa.text("""
        INSERT INTO service.part_issue (job_card_id, job_line_id, kind, qty, idempotency_key)
        VALUES (:j, :l, :kind, :q, :k) RETURNING issue_id"""),
        {"j": job_card_id, "l": job_line_id, "kind": kind, "q": qty, "k": key}).scalar_one()


def card_issues(conn: Connection, job_card_id: int):
    return conn.execute(sa.text("""
        SELECT i.*, p.part_no, p.name AS part_name, s.name AS issued_by_name
          FROM service.part_issue i
          JOIN master.part p ON p.part_id = i.part_id
          LEFT JOIN master.staff s ON s.staff_id = i.issued_by
         WHERE i.job_card_id = :j ORDER BY i.issued_at, i.issue_id"""), {"j": job_card_id}).mappings().all()


def in_stock(conn: Connection, branch_id: int, part_id: int):
    return conn.execute(sa.text("SELECT coalesce((SELECT qty FROM inventory.part_stock "
                                "WHERE branch_id = :b AND part_id = :p), 0)"), {"b": branch_id, "p": part_id}).scalar_one()


def request_parts(conn: Connection, job_card_id: int, job_line_id: int, qty, note: str | None = None) -> int | None:
    """A request to purchasing for a part line's part; None when the line already has one in hand."""
    return conn.execute(sa.text("""
        INSERT INTO service.parts_request (branch_id, job_card_id, job_line_id, part_id, qty, note)
        SELECT j.branch_id, j.job_card_id, l.job_line_id, l.part_id, :q, :n
          FROM service.job_line l JOIN service.job_card j ON j.job_card_id = l.job_card_id
         WHERE l.job_line_id = :l AND j.job_card_id = :j
        ON CONFLICT (job_line_id) WHERE status IN ('OPEN', 'ORDERED') DO NOTHING
        RETURNING request_id"""), {"j": job_card_id, "l": job_line_id, "q": qty, "n": note}).scalar()


REQUEST_SQL = """
    SELECT r.*, p.part_no, p.name AS part_name, p.unit, j.job_card_no, j.state AS card_state,
           v.registration_no, v.vin, s.name AS requested_by_name, coalesce(ps.qty, 0) AS in_stock
      FROM service.parts_request r
      JOIN master.part p ON p.part_id = r.part_id
      JOIN service.job_card j ON j.job_card_id = r.job_card_id
      JOIN service.vehicle v ON v.vehicle_id = j.vehicle_id
      LEFT JOIN master.staff s ON s.staff_id = r.requested_by
      LEFT JOIN inventory.part_stock ps ON ps.part_id = r.part_id AND ps.branch_id = r.branch_id"""


def card_requests(conn: Connection, job_card_id: int):
    return conn.execute(sa.text(REQUEST_SQL + " WHERE r.job_card_id = :j ORDER BY r.requested_at, r.request_id"),
                        {"j": job_card_id}).mappings().all()


def parts_requests(conn: Connection, branch_id: int, statuses: list[str], limit: int = 200):
    return conn.execute(sa.text(REQUEST_SQL + """
         WHERE r.branch_id = :b AND r.status = ANY(:s)
         ORDER BY r.status = 'OPEN' DESC, r.requested_at, r.request_id LIMIT :limit"""),
        {"b": branch_id, "s": statuses, "limit": limit}).mappings().all()


def get_request(conn: Connection, request_id: int):
    return conn.execute(sa.text(REQUEST_SQL + " WHERE r.request_id = :r"), {"r": request_id}).mappings().first()


def set_request_status(conn: Connection, request_id: int, from_status: str, to_status: str) -> bool:
    return conn.execute(sa.text("UPDATE service.parts_request SET status = :to WHERE request_id = :r AND status = :f"),
                        {"to": to_status, "r": request_id, "f": from_status}).rowcount == 1


# --------------------------------------------------------------------------- a technician's own lines


def my_lines(conn: Connection, staff_id: int):
    """The lines assigned to a technician on the open cards of the request's branch, what is to do
    first; no prices."""
    return conn.execute(sa.text(f"""
        SELECT l.job_line_id, l.job_card_id, l.status, l.coverage, l.qty, l.issued_qty, l.part_id, l.done_at,
               coalesce(l.description, lo.name, p.name) AS work, coalesce(lo.operation_code, p.part_no) AS code,
               p.unit, j.job_card_no, j.state AS card_state, st.label AS card_state_label, j.promised_at,
               v.registration_no, v.vin, m.name AS model_name
          FROM service.job_line l
          JOIN service.job_card j ON j.job_card_id = l.job_card_id AND j.{OPEN}
          JOIN service.job_state st ON st.state = j.state
          JOIN service.vehicle v ON v.vehicle_id = j.vehicle_id
          JOIN oem.variant va ON va.variant_id = v.variant_id
          JOIN oem.model m ON m.model_id = va.model_id
          LEFT JOIN master.labour_operation lo ON lo.operation_code = l.operation_code
          LEFT JOIN master.part p ON p.part_id = l.part_id
         WHERE l.technician_id = :me AND l.status <> 'DECLINED'
         ORDER BY l.status = 'DONE', j.promised_at NULLS LAST, j.job_card_id, l.job_line_id"""),
        {"me": staff_id}).mappings().all()
