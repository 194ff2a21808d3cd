"""The work on a job card for the id routes of the access and isolation tests: an approved labour line,
a part line with one part issued, and a parts request, on the job card of ``job_card_id`` (a new
vehicle and card of the branch when none is given), so /service/job-lines/<id>/... and
/service/parts-requests/<id>/... open real records."""
from __future__ import annotations

import uuid

import service_builders as sb
import service_work_builders as wb
import sqlalchemy as sa

from tests import builders as b


def _unique(width: int) -> str:
    """Capitals and digits no other builder makes (the builders' counters are per module copy)."""
    digits = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
    n = uuid.uuid4().int
    return "".join(digits[(n >> (5 * i)) % len(digits)] for i in range(width))


def _vehicle(conn, branch_id: int) -> int:
    """A vehicle sold elsewhere, of a variant already in the catalog when there is one."""
    variant = conn.execute(sa.text("SELECT min(variant_id) FROM oem.variant")).scalar()
    if variant is None:
        variant = b.vehicle_catalog(conn).variant_id
    customer = conn.execute(sa.text("""
        INSERT INTO master.customer (branch_id, name, mobile, state_code)
        SELECT :b, 'Workshop Customer', '9845000000', left(gstin, 2) FROM master.branch WHERE branch_id = :b
        RETURNING customer_id"""), {"b": branch_id}).scalar_one()
    return sb.outside_vehicle(conn, branch_id, variant_id=variant, customer_id=customer, vin="MD2W" + _unique(13),
                              motor_no="JW" + _unique(10), reg_no=None, pack_serial="JWP" + _unique(10))


def service_work_ids(engine, branch_id: int, job_card_id: int | None = None) -> dict:
    """Committed rows; the app fixture empties the tables afterwards. Returns the route args."""
    with engine.begin() as conn:
        if job_card_id is None:
            job_card_id = sb.job_card(conn, branch_id, _vehicle(conn, branch_id), odometer_km=2600)
        part = b.part(conn, part_no=f"JW-{uuid.uuid4().hex[:10].upper()}")
        b.receive(conn, branch_id, part, "2", "100.00")
        labour = wb.line(conn, job_card_id, operation_code=wb.labour(conn, code=f"JW-{uuid.uuid4().hex[:10].upper()}"))
        parts_line = wb.line(conn, job_card_id, part_id=part, qty="3")
        wb.approve(conn, job_card_id)
        wb.issue(conn, job_card_id, parts_line, "1")
        request_id = conn.execute(sa.text("""
            INSERT INTO service.parts_request (branch_id, job_card_id, job_line_id, part_id, qty)
            VALUES (:b, :j, :l, :p, 1) RETURNING request_id"""),
            {"b": branch_id, "j": job_card_id, "l": parts_line, "p": part}).scalar_one()
    return {"job_line_id": labour, "request_id": request_id}
