"""Builders for the service workshop's database and screen tests (see tests/builders.py for the
conventions: a connection first, plain SQL, never a commit, the new row's id back).

    import service_builders as sb
    v = sb.sold_here_vehicle(conn)          # a scooter sold and delivered at a branch, as a service.vehicle
    o = outside_vehicle(conn, branch)    # one sold elsewhere, registered at the workshop
    jc = job_card(conn, branch, v.vehicle_id, odometer_km=1200)
"""
from __future__ import annotations

import uuid
from datetime import date
from typing import NamedTuple

import builders as b
import sqlalchemy as sa
from builders import scalar


class SoldHere(NamedTuple):
    sale: b.Sale
    booking_id: int
    vehicle_id: int


def delivered_unit(conn, *, on: str = "2026-06-02", odometer_km: int | None = 5, reg_no: str | None = None):
    """A sale through to the hand-over: (Sale, booking_id). reg_no: the RTO number recorded."""
    from webapp.sales import services
    s = b.sale_setup(conn)
    booking_id, _ = b.invoiced_booking(conn, s, on=on)
    b.ready_for_handover(conn, booking_id, on)
    b.release_handover(conn, booking_id, s.manager_id)
    if reg_no:
        conn.execute(sa.text("UPDATE sales.registration SET reg_no = :r, reg_on = :d WHERE booking_id = :b"),
                     {"r": reg_no, "d": date.fromisoformat(on), "b": booking_id})
    services.deliver(conn, booking_id, on=date.fromisoformat(on), received_by_name="Asha Rao", key=str(uuid.uuid4()),
                     odometer_km=odometer_km)
    return s, booking_id


def sold_here_vehicle(conn, **kw) -> SoldHere:
    s, booking_id = delivered_unit(conn, **kw)
    vehicle_id = scalar(conn, "INSERT INTO service.vehicle (unit_id, branch_id) VALUES (:u, :b) RETURNING vehicle_id",
                        u=s.unit_id, b=s.branch_id)
    return SoldHere(s, booking_id, vehicle_id)


def outside_vehicle(conn, branch_id: int, *, variant_id: int | None = None, customer_id: int | None = None,
                    reg_no: str | None = None, sale_date: str = "2025-01-15", vin: str | None = None,
                    motor_no: str | None = None, pack_serial: str | None = None) -> int:
    """A vehicle sold elsewhere, registered at the workshop, with one pack fitted on its sale date."""
    n = b._n()
    if variant_id is None:
        variant_id = b.vehicle_catalog(conn).variant_id
    if customer_id is None:
        customer_id = b.customer(conn, branch_id)
    vehicle_id = scalar(conn, """
        INSERT INTO service.vehicle (vin, motor_no, variant_id, customer_id, registration_no, sale_date, branch_id)
        VALUES (:vin, :motor, :v, :c, :reg, :sold, :b) RETURNING vehicle_id""",
        vin=vin or b.new_vin(), motor=motor_no or f"OUT{n:08d}", v=variant_id, c=customer_id,
        reg=reg_no or f"KA{n % 100:02d}Z{n % 10000:04d}", sold=sale_date, b=branch_id)
    pack = b.battery_pack(conn, pack_serial)
    scalar(conn, """INSERT INTO service.pack_fitment (pack_id, vehicle_id, fitted_on, reason)
                    VALUES (:p, :v, :d, 'fitted when sold') RETURNING fitment_id""", p=pack, v=vehicle_id, d=sale_date)
    return vehicle_id


def job_card(conn, branch_id: int, vehicle_id: int, *, odometer_km: int = 1000, service_type: str = "PAID_SERVICE",
             free_service_no: int | None = None, complaints: str = "Brakes squeak when cold", **fields) -> int:
    data = {"branch_id": branch_id, "vehicle_id": vehicle_id, "odometer_km": odometer_km, "service_type": service_type,
            "free_service_no": free_service_no, "complaints": complaints, "idempotency_key": str(uuid.uuid4()), **fields}
    cols = ", ".join(data)
    return scalar(conn, f"INSERT INTO service.job_card ({cols}) VALUES ({', '.join(':' + c for c in data)}) "
                        "RETURNING job_card_id", **data)


def move(conn, job_card_id: int, *states: str) -> None:
    """Move a card along; DELIVERED is its gate pass (the database moves the card with it)."""
    for state in states:
        if state == "DELIVERED":
            gate_pass(conn, job_card_id)
            continue
        conn.execute(sa.text("UPDATE service.job_card SET state = :s WHERE job_card_id = :j"), {"s": state, "j": job_card_id})


def gate_pass(conn, job_card_id: int, **fields) -> int:
    data = {"job_card_id": job_card_id, "idempotency_key": str(uuid.uuid4()), **fields}
    return scalar(conn, f"INSERT INTO service.gate_pass ({', '.join(data)}) VALUES ({', '.join(':' + c for c in data)}) "
                        "RETURNING gate_pass_id", **data)
