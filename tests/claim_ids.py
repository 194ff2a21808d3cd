"""Builders for warranty claims (database and screen tests), and the records the access matrix and
the statement budgets open: a BATTERY claim from a pack swapped under warranty on a job card, with
evidence and a submitted free-service labour claim.

    import claim_ids as cb
    w = cb.workshop(conn)                     # an outside vehicle with an open warranty job card
    claim_id = cb.swap(conn, w)               # its pack swapped: the card's BATTERY claim
"""
from __future__ import annotations

import uuid
from datetime import date
from typing import NamedTuple

import builders as b
import service_builders as sb
import sqlalchemy as sa
from builders import scalar

from webapp.formatting import today_ist


class Workshop(NamedTuple):
    branch_id: int
    oem_id: int
    vehicle_id: int
    job_card_id: int
    pack_id: int          # the pack in the vehicle now
    part_id: int          # the battery pack as a spare part (its purchase price is the claim's)
    operation_code: str   # a labour operation of 1.50 standard hours


def oem_of_vehicle(conn, vehicle_id: int) -> int:
    return scalar(conn, """SELECT m.oem_id FROM service.vehicle v JOIN oem.variant x USING (variant_id)
                            JOIN oem.model m USING (model_id) WHERE v.vehicle_id = :v""", v=vehicle_id)


def labour_rate(conn, oem_id: int, rate: str = "450.00", effective_from: str = "2024-01-01") -> int:
    return scalar(conn, """INSERT INTO warranty.labour_rate (oem_id, rate_per_hour, effective_from)
                           VALUES (:o, :r, :f) RETURNING rate_id""", o=oem_id, r=rate, f=effective_from)


def operation(conn, hours: str = "1.50") -> str:
    code = f"WR{b._n() % 100000:05d}"
    conn.execute(sa.text("""INSERT INTO master.labour_operation (operation_code, name, standard_hours, rate)
                            VALUES (:c, 'Motor controller replacement', :h, 600)"""), {"c": code, "h": hours})
    return code


def workshop(conn, *, sold_here: bool = False, service_type: str = "WARRANTY", free_service_no: int | None = None,
             rate: str | None = "450.00") -> Workshop:
    """A vehicle (sold elsewhere, or here and delivered) with an open job card; its OEM's warranty labour
    rate (unless rate is None), a battery-pack spare part at 42,000 and a labour operation."""
    if sold_here:
        v = sb.sold_here_vehicle(conn)
        branch_id, vehicle_id = v.sale.branch_id, v.vehicle_id
        pack = b.battery_pack(conn)
        b.fit_battery(conn, pack, v.sale.unit_id, "2026-05-20")
    else:
        branch_id = b.branch(conn)
        vehicle_id = sb.outside_vehicle(conn, branch_id)
        pack = scalar(conn, "SELECT pack_id FROM service.vehicle_pack WHERE vehicle_id = :v", v=vehicle_id)
    if free_service_no is not None:   # a free-service card needs that service due by the model's schedule
        conn.execute(sa.text("""
            INSERT INTO oem.free_service (model_id, service_no, due_months, due_km)
            SELECT va.model_id, :n, 120, 200000 FROM service.vehicle v JOIN oem.variant va USING (variant_id)
             WHERE v.vehicle_id = :v
            ON CONFLICT (model_id, service_no) DO NOTHING"""), {"n": free_service_no, "v": vehicle_id})
    job_card_id = sb.job_card(conn, branch_id, vehicle_id, odometer_km=8200, service_type=service_type,
                              free_service_no=free_service_no, complaints="Range dropped to 40 km on a full charge")
    oem_id = oem_of_vehicle(conn, vehicle_id)
    if rate:
        labour_rate(conn, oem_id, rate)
    part_id = b.part(conn, hsn_code="850760", purchase_price="42000.00")
    return Workshop(branch_id, oem_id, vehicle_id, job_card_id, pack, part_id, operation(conn))


def swap(conn, w: Workshop, serial: str | None = None, on: date | None = None) -> int:
    """The pack swapped under warranty on the card: the card's BATTERY claim."""
    return scalar(conn, "SELECT warranty.swap_pack(:j, :p, :s, :part, :on, :k)", j=w.job_card_id, p=w.pack_id,
                  s=serial or f"NEWPACK{b._n():06d}", part=w.part_id, on=on or today_ist(), k=str(uuid.uuid4()))


def claim(conn, w: Workshop, kind: str = "WARRANTY_REPAIR", **fields) -> int:
    data = {"branch_id": w.branch_id, "kind": kind, "job_card_id": w.job_card_id, "vehicle_id": w.vehicle_id,
            "complaint": "Motor cuts out under load", "idempotency_key": str(uuid.uuid4()), **fields}
    cols = ", ".join(data)
    return scalar(conn, f"INSERT INTO warranty.claim ({cols}) VALUES ({', '.join(':' + c for c in data)}) "
                        "RETURNING claim_id", **data)


def labour_line(conn, claim_id: int, operation_code: str) -> int:
    return scalar(conn, """INSERT INTO warranty.claim_line (claim_id, kind, operation_code, description)
                           VALUES (:c, 'LABOUR', :o, '') RETURNING line_id""", c=claim_id, o=operation_code)


def part_line(conn, claim_id: int, part_id: int, qty: str = "1", failed: str | None = "FAILED0001",
              replacement: str | None = "REPLACE0001") -> int:
    return scalar(conn, """INSERT INTO warranty.claim_line (claim_id, kind, part_id, qty, unit_price, description,
                                                            failed_serial, replacement_serial)
                           VALUES (:c, 'PART', :p, :q, 0, '', :f, :r) RETURNING line_id""",
                  c=claim_id, p=part_id, q=qty, f=failed, r=replacement)


def submit(conn, claim_id: int, on: date | None = None, ref: str = "OEM-CLM-1001") -> None:
    conn.execute(sa.text("""UPDATE warranty.claim SET status = 'SUBMITTED', oem_claim_ref = :r, submitted_on = :d
                             WHERE claim_id = :c"""), {"r": ref, "d": on or today_ist(), "c": claim_id})


def decide(conn, claim_id: int, status: str, amount=None, reason: str | None = None, on: date | None = None) -> None:
    conn.execute(sa.text("""UPDATE warranty.claim SET status = :s, approved_amount = :a, decision_reason = :r,
                                   decided_on = :d WHERE claim_id = :c"""),
                 {"s": status, "a": amount, "r": reason, "d": on or today_ist(), "c": claim_id})


def settle(conn, claim_id: int, amount, on: date | None = None, ref: str | None = "NEFT-7781") -> None:
    conn.execute(sa.text("""UPDATE warranty.claim SET status = 'SETTLED', settled_amount = :a, settled_on = :d,
                                   settlement_ref = :r WHERE claim_id = :c"""),
                 {"a": amount, "d": on or today_ist(), "r": ref, "c": claim_id})


def claim_ids(engine, branch_id: int) -> dict:
    """Committed rows at the branch; the app fixture empties the tables after the test. Returns the route
    args: a draft BATTERY claim with a reading chosen as evidence, and a submitted labour claim."""
    with engine.begin() as conn:
        vehicle_id = sb.outside_vehicle(conn, branch_id)
        pack = scalar(conn, "SELECT pack_id FROM service.vehicle_pack WHERE vehicle_id = :v", v=vehicle_id)
        job_card_id = sb.job_card(conn, branch_id, vehicle_id, odometer_km=8200, service_type="WARRANTY")
        reading_id = scalar(conn, """
            INSERT INTO service.battery_reading (job_card_id, pack_id, soh_pct, soc_pct, cell_v_max, cell_v_min,
                                                 fault_codes)
            VALUES (:j, :p, 61.5, 80, 3.45, 3.29, '{P0A80}') RETURNING reading_id""", j=job_card_id, p=pack)
        oem_id = oem_of_vehicle(conn, vehicle_id)
        labour_rate(conn, oem_id)
        w = Workshop(branch_id, oem_id, vehicle_id, job_card_id, pack, b.part(conn, hsn_code="850760",
                                                                                 purchase_price="42000.00"),
                     operation(conn))
        claim_id = swap(conn, w, on=today_ist())
        conn.execute(sa.text("INSERT INTO warranty.claim_evidence (claim_id, reading_id) VALUES (:c, :r)"),
                     {"c": claim_id, "r": reading_id})
        other = claim(conn, w)
        line_id = labour_line(conn, other, w.operation_code)
        part_line(conn, other, b.part(conn), failed="CTRL000123", replacement="CTRL000999")
        submit(conn, other)
        held_line = scalar(conn, "SELECT line_id FROM warranty.claim_line WHERE claim_id = :c AND kind = 'PART'",
                           c=other)
    return {"claim_id": claim_id, "line_id": held_line or line_id}
