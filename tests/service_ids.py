"""A vehicle sold elsewhere with an open job card carrying a battery reading, a checklist answer
and a photo, so each workshop route of the access matrix opens a real record (an id that does
not exist would only ever show the 404 page)."""
from __future__ import annotations

import hashlib
import io

import service_builders as sb
import sqlalchemy as sa
from PIL import Image


def service_ids(engine, branch_id: int) -> dict:
    """Committed rows; the app fixture empties the tables after the test. Returns the route args."""
    with engine.begin() as conn:
        vehicle_id = sb.outside_vehicle(conn, branch_id)
        job_card_id = sb.job_card(conn, branch_id, vehicle_id, odometer_km=2500)
        pack_id = conn.execute(sa.text("SELECT pack_id FROM service.vehicle_pack WHERE vehicle_id = :v"),
                               {"v": vehicle_id}).scalar_one()
        conn.execute(sa.text("""
            INSERT INTO service.battery_reading (job_card_id, pack_id, soh_pct, soc_pct, cell_v_max, cell_v_min)
            VALUES (:j, :p, 94.5, 71, 3.402, 3.391)"""), {"j": job_card_id, "p": pack_id})
        conn.execute(sa.text("""
            INSERT INTO service.inspection_result (job_card_id, item_id, result)
            SELECT :j, item_id, 'OK' FROM service.inspection_item WHERE is_active ORDER BY sort_order LIMIT 1"""),
            {"j": job_card_id})
        out = io.BytesIO()
        Image.new("RGB", (8, 8), (0, 120, 200)).save(out, "PNG")
        image = out.getvalue()
        photo_id = conn.execute(sa.text("""
            INSERT INTO service.job_photo (job_card_id, content_type, image, sha256, thumbnail)
            VALUES (:j, 'image/png', :i, :s, :i) RETURNING photo_id"""),
            {"j": job_card_id, "i": image, "s": hashlib.sha256(image).hexdigest()}).scalar_one()
    return {"vehicle_id": vehicle_id, "job_card_id": job_card_id, "photo_id": photo_id}
