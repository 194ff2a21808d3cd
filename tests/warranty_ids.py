"""An extended warranty plan and recall campaigns (one by a VIN list, one by manufacture months,
each with a VIN done), so each warranty route of the access matrix opens a real record (an id
that does not exist would only ever show the 404 page)."""
from __future__ import annotations

import uuid
from datetime import date, timedelta

import builders as b
import sqlalchemy as sa

from webapp.formatting import today_ist
from webapp.sales import services

SOLD_ON = date(2026, 6, 2)


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
        rule_id = insert("""
            INSERT INTO warranty.replacement_rule (oem_id, pack_term, effective_from)
            VALUES (:o, 'FRESH', '2026-01-01') RETURNING rule_id""", o=oem_id)
    return {"plan_id": plan_id, "campaign_id": campaign_id, "range_campaign_id": range_id, "rule_id": rule_id}


def sold_vehicle(engine, *, vin: str | None = None, mfg_month: str = "2026-03-01"):
    """A showroom that sold one scooter on 02-06-2026 (3 years / 30,000 km vehicle warranty, battery 8 years
    / 80,000 km / 70 % SoH, free services at 1 month / 1,000 km and 6 months / 5,000 km), its pack a
    replacement fitted on 01-09-2026. Returns the sale's ids and the VIN."""
    with engine.begin() as conn:
        sale = b.sale_setup(conn)
        conn.execute(sa.text("""UPDATE oem.variant SET vehicle_warranty_km = 30000, battery_warranty_years = 8,
                                       battery_warranty_km = 80000, battery_min_soh_pct = 70
                                 WHERE variant_id = :v"""), {"v": sale.catalog.variant_id})
        conn.execute(sa.text("UPDATE inventory.vehicle_unit SET mfg_month = :m WHERE unit_id = :u"),
                     {"m": mfg_month, "u": sale.unit_id})
        if vin:
            conn.execute(sa.text("UPDATE inventory.vehicle_unit SET vin = :v WHERE unit_id = :u"),
                         {"v": vin, "u": sale.unit_id})
        conn.execute(sa.text("INSERT INTO oem.free_service (model_id, service_no, due_months, due_km) "
                             "VALUES (:m, 1, 1, 1000), (:m, 2, 6, 5000)"), {"m": sale.catalog.model_id})
        first, second = b.battery_pack(conn, "PACKORIG0001"), b.battery_pack(conn, "PACKREPL0002")
        b.fit_battery(conn, first, sale.unit_id, "2026-05-01", removed_on="2026-09-01")
        b.fit_battery(conn, second, sale.unit_id, "2026-09-01", reason="warranty replacement: cell imbalance")
        booking_id, _ = b.invoiced_booking(conn, sale, on=str(SOLD_ON), discount="0")
        b.ready_for_handover(conn, booking_id, str(SOLD_ON))
        b.release_handover(conn, booking_id, sale.manager_id)
        services.deliver(conn, booking_id, on=SOLD_ON, received_by_name="Asha Kulkarni", key=str(uuid.uuid4()),
                         odometer_km=4)
        b.act_as(conn, None)
        vin = conn.execute(sa.text("SELECT vin FROM inventory.vehicle_unit WHERE unit_id = :u"),
                           {"u": sale.unit_id}).scalar_one()
    return sale, vin
