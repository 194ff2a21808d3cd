"""A delivered job card with its gate pass, so the gate pass's print page in the access matrix and
the statement budgets opens a real record. (Nothing was billed on it: its gate pass needs no invoice.)"""
from __future__ import annotations

import service_builders as sb


def service_bill_ids(engine, branch_id: int) -> dict:
    with engine.begin() as conn:
        card = sb.job_card(conn, branch_id, sb.outside_vehicle(conn, branch_id), odometer_km=800)
        sb.move(conn, card, "APPROVED", "IN_PROGRESS", "QC", "READY")
        return {"gate_pass_id": sb.gate_pass(conn, card, received_by_name="Asha Rao")}
