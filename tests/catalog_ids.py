"""One row of every catalog table, so each catalog route of the access matrix opens a real
record (an id that does not exist would only ever show the 404 page)."""
from __future__ import annotations

import builders as b
import sqlalchemy as sa


def catalog_ids(engine, branch_id: int) -> dict:
    """Committed rows; the app fixture empties the tables after the test. Returns the route args."""
    with engine.begin() as conn:
        oem_id = b.oem(conn, brand="Matrix Motors")
        model_id = b.model(conn, oem_id, name="Matrix")
        variant_id = b.variant(conn, model_id, name="Standard")
        b.colour(conn, variant_id, "Red")
        price_id = b.price(conn, variant_id, "2026-01-01")

        def insert(sql: str, **params):
            return conn.execute(sa.text(sql), params).scalar_one()

        return {
            "oem_id": oem_id, "model_id": model_id, "variant_id": variant_id, "price_id": price_id,
            "scheme_id": insert("""INSERT INTO oem.scheme (oem_id, name, kind, amount, valid_from, valid_to)
                                   VALUES (:o, 'Festive offer', 'CUSTOMER_DISCOUNT', 2000, '2026-10-01', '2026-11-30')
                                   RETURNING scheme_id""", o=oem_id),
            "hsn_code": "8714",
            "hsn_rate_id": insert("SELECT hsn_rate_id FROM master.hsn_rate WHERE hsn_code = '8714' "
                                  "AND effective_to IS NULL"),
            "customer_id": insert("""INSERT INTO master.customer (branch_id, name, mobile, state_code)
                                     VALUES (:b, 'Matrix Customer', '9880012345', '29') RETURNING customer_id""",
                                  b=branch_id),
            "financier_id": insert("INSERT INTO master.financier (name) VALUES ('Matrix Finance') "
                                   "RETURNING financier_id"),
            "insurer_id": insert("INSERT INTO master.insurer (name) VALUES ('Matrix Insurance') RETURNING insurer_id"),
            "part_id": b.part(conn, part_no="MTX-001"),
            "operation_code": insert("""INSERT INTO master.labour_operation (operation_code, name, standard_hours, rate)
                                        VALUES ('PS-1', 'Periodic service 1', 1.5, 450)
                                        RETURNING operation_code"""),
        }
