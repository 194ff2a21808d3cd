"""Builders for the work on a job card (sql/0027_service_parts.sql): labour operations, lines,
approvals, part issues. Same conventions as tests/builders.py: a connection first, plain SQL,
never a commit, the new row's id back.

    from tests import service_work_builders as wb
    op = wb.labour(conn)                                 # a labour operation (1.5 h at 450)
    line = wb.line(conn, jc, part_id=part, qty=2)        # a part line at the part's MRP
    wb.approve(conn, jc)                                 # the customer approves every proposed line
    wb.issue(conn, jc, line, 2)                          # two leave stock
"""
from __future__ import annotations

import uuid
from decimal import Decimal

from tests import builders as b
from tests.builders import scalar


def labour(conn, *, hours: str = "1.50", rate: str = "450.00", code: str | None = None) -> str:
    code = code or f"OP-{b._n():06d}"
    return scalar(conn, """INSERT INTO master.labour_operation (operation_code, name, standard_hours, rate)
                           VALUES (:c, :n, :h, :r) RETURNING operation_code""",
                  c=code, n=f"Brake overhaul {code}", h=Decimal(hours), r=Decimal(rate))


def line(conn, job_card_id: int, *, operation_code: str | None = None, part_id: int | None = None, qty="1",
         unit_price: str | None = None, includes_gst: bool | None = None, coverage: str = "CUSTOMER",
         technician_id: int | None = None) -> int:
    """A proposed line; price and GST flag default to the master's (labour rate plus GST, part MRP incl.)."""
    if unit_price is None:
        unit_price = scalar(conn, "SELECT rate FROM master.labour_operation WHERE operation_code = :c", c=operation_code) \
            if operation_code else scalar(conn, "SELECT mrp FROM master.part WHERE part_id = :p", p=part_id)
    if includes_gst is None:
        includes_gst = part_id is not None
    return scalar(conn, """
        INSERT INTO service.job_line (job_card_id, operation_code, part_id, qty, unit_price, price_includes_gst,
                                      coverage, technician_id)
        VALUES (:j, :op, :p, :q, :u, :g, :c, :t) RETURNING job_line_id""",
        j=job_card_id, op=operation_code, p=part_id, q=Decimal(str(qty)), u=Decimal(str(unit_price)), g=includes_gst,
        c=coverage, t=technician_id)


def approve(conn, job_card_id: int, *, name: str = "Asha Rao", mode: str = "IN_PERSON", amount: str = "1000") -> int:
    return scalar(conn, """
        INSERT INTO service.job_approval (job_card_id, approved_by_name, mode, amount, idempotency_key)
        VALUES (:j, :n, :m, :a, :k) RETURNING approval_id""",
        j=job_card_id, n=name, m=mode, a=Decimal(amount), k=str(uuid.uuid4()))


def issue(conn, job_card_id: int, job_line_id: int, qty, kind: str = "ISSUE") -> int:
    return scalar(conn, """
        INSERT INTO service.part_issue (job_card_id, job_line_id, kind, qty, idempotency_key)
        VALUES (:j, :l, :k, :q, :key) RETURNING issue_id""",
        j=job_card_id, l=job_line_id, k=kind, q=Decimal(str(qty)), key=str(uuid.uuid4()))
