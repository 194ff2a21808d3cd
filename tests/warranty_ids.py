"""An extended warranty plan and recall campaigns (one by a VIN list, one by manufacture months,
each with a VIN done), so each warranty route of the access matrix opens a real record (an id
that does not exist would only ever show the 404 page)."""
from __future__ import annotations

from datetime import timedelta

import builders as b
import sqlalchemy as sa

from webapp.formatting import today_ist


def warranty_ids(engine, branch_id: int) -> dict:
    """Committed rows; the app fixture empties the tables after the test. Returns the route args."""
    today = today_ist()
    with engine.begin() as conn:
        oem_id = b.oem(conn, brand="Matrix Warranty Motors")
        model_id = b.model(conn, oem_id, name="Matrix Volt")
        variant_id = b.variant(conn, model_id, name="Long Range")
        b.colour(conn, variant_id, "Grey")
        unit_id = b.unit(conn, variant_id, "Grey", branch_id, mfg_month="2025-03-01", received_on=str(today))
        vin = conn.execute(sa.text("SELECT vin FROM inventory.vehicle_unit WHERE unit_id = :u"),
                           {"u": unit_id}).scalar_one()

        def insert(sql: str, **params):
            return conn.execute(sa.text(sql), params).scalar_one()

        plan_id = insert("""
            INSERT INTO warranty.plan (oem_id, name, battery_extra_years, battery_extra_km, price, valid_from)
            VALUES (:o, 'Matrix Battery Shield', 3, 30000, 6999, :d) RETURNING plan_id""",
            o=oem_id, d=today - timedelta(days=90))
        campaign_id = insert("""
            INSERT INTO warranty.campaign (oem_id, code, title, kind, opened_on, match_by)
            VALUES (:o, 'MTX-RC-01', 'Matrix brake hose check', 'RECALL', :d, 'VIN_LIST') RETURNING campaign_id""",
            o=oem_id, d=today - timedelta(days=30))
        conn.execute(sa.text("INSERT INTO warranty.campaign_vin (campaign_id, vin) VALUES (:c, :v), (:c, :other)"),
                     {"c": campaign_id, "v": vin, "other": b.new_vin()})
        conn.execute(sa.text("""INSERT INTO warranty.campaign_done (campaign_id, vin, done_on, branch_id)
                                VALUES (:c, :v, :d, :b)"""), {"c": campaign_id, "v": vin, "d": today, "b": branch_id})
        range_id = insert("""
            INSERT INTO warranty.campaign (oem_id, code, title, kind, opened_on, match_by, model_id, mfg_from, mfg_to)
            VALUES (:o, 'MTX-SC-02', 'Matrix firmware update', 'SERVICE', :d, 'MFG_RANGE', :m, '2025-01-01',
                    '2025-06-01') RETURNING campaign_id""", o=oem_id, d=today - timedelta(days=30), m=model_id)
    return {"plan_id": plan_id, "campaign_id": campaign_id, "range_campaign_id": range_id}
