"""A demo unit out on a test ride for the lead of sales_ids, so the CRM routes of the access matrix
open a real record."""
from __future__ import annotations

import builders as b
import sqlalchemy as sa


def crm_ids(engine, branch_id: int, lead_id: int) -> dict:
    with engine.begin() as conn:
        variant_id, salesperson = conn.execute(sa.text("""
            SELECT v.variant_id, l.salesperson_id FROM crm.lead l JOIN oem.variant v ON v.model_id = l.model_id
             WHERE l.lead_id = :l LIMIT 1"""), {"l": lead_id}).one()
        unit_id = b.unit(conn, variant_id, "Red", branch_id)
        conn.execute(sa.text("UPDATE inventory.vehicle_unit SET status = 'DEMO' WHERE unit_id = :u"), {"u": unit_id})
        b.act_as(conn, salesperson)
        test_ride_id = conn.execute(sa.text("""
            INSERT INTO crm.test_ride (lead_id, branch_id, unit_id, licence_no, licence_valid_until, odometer_out)
            VALUES (:l, :b, :u, 'KA0520190012345', CURRENT_DATE + 365, 120) RETURNING test_ride_id"""),
            {"l": lead_id, "b": branch_id, "u": unit_id}).scalar_one()
        b.act_as(conn, None)
    return {"test_ride_id": test_ride_id, "demo_unit_id": unit_id}
