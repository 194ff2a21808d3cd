"""SQL of the procurement module. Every function takes the request's connection and never commits."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..db import contains_pattern

PO_STATUSES = ("DRAFT", "APPROVED", "SENT", "PART_RECEIVED", "RECEIVED", "CLOSED", "CANCELLED")
AGE_BUCKETS = ("NOT_DUE", "1-30", "31-60", "61-90", "90+")


def _page(conn: Connection, sql: str, params: dict, page: int, page_size: int):
    """Rows of one page and the total, from a SELECT that has no LIMIT."""
    # "rows_found", not "total": invoices have a column of that name.
    rows = conn.execute(sa.text(f"SELECT *, count(*) OVER () AS rows_found FROM ({sql}) q "
                                "LIMIT :limit OFFSET :offset"),
                        {**params, "limit": page_size, "offset": (page - 1) * page_size}).all()
    total = rows[0].rows_found if rows else conn.execute(sa.text(f"SELECT count(*) FROM ({sql}) q"),
                                                         params).scalar_one()
    return rows, total


# --------------------------------------------------------------------------- catalog look-ups


def oem_choices(conn: Connection) -> list[tuple[int, str]]:
    rows = conn.execute(sa.text("SELECT oem_id, brand FROM oem.oem WHERE is_active ORDER BY brand"))
    return [(r.oem_id, r.brand) for r in rows]


def oems_with_unbilled_receipts(conn: Connection, branch_id: int) -> list[tuple[int, str, int]]:
    """Every OEM with how many of the branch's goods receipts from it no purchase invoice has billed
    yet, in one statement (the purchase-invoice form's first question: whose invoice is it?)."""
    rows = conn.execute(sa.text("""
        SELECT oem.oem_id, oem.brand,
               (SELECT count(*) FROM procurement.goods_receipt g
                  JOIN procurement.purchase_order o USING (po_id)
                 WHERE g.branch_id = :branch AND o.oem_id = oem.oem_id
                   AND NOT EXISTS (SELECT 1 FROM procurement.purchase_invoice_grn pi WHERE pi.grn_id = g.grn_id))
          FROM oem.oem oem ORDER BY oem.brand"""), {"branch": branch_id})
    return [tuple(r) for r in rows]


def all_oem_choices(conn: Connection) -> list[tuple[int, str]]:
    """Every OEM, inactive ones too (filters of lists that hold old documents)."""
    rows = conn.execute(sa.text("SELECT oem_id, brand FROM oem.oem ORDER BY brand"))
    return [(r.oem_id, r.brand) for r in rows]


def get_oem(conn: Connection, oem_id: int):
    return conn.execute(sa.text(
        """SELECT o.*, s.name AS state_name FROM oem.oem o JOIN master.state s USING (state_code)
            WHERE o.oem_id = :id"""), {"id": oem_id}).first()


def vehicle_options(conn: Connection, oem_id: int):
    """The OEM's variants and colours that can be ordered."""
    return conn.execute(sa.text(
        """SELECT v.variant_id, vc.colour, m.name AS model, v.name AS variant, v.hsn_code
             FROM oem.variant v
             JOIN oem.model m USING (model_id)
             JOIN oem.variant_colour vc USING (variant_id)
            WHERE m.oem_id = :oem AND m.is_active AND v.is_active AND vc.is_active
            ORDER BY m.name, v.name, vc.colour"""), {"oem": oem_id}).all()


def part_options(conn: Connection, limit: int = 2000):
    """Active parts for the part-number suggestions of the order form."""
    return conn.execute(sa.text(
        "SELECT part_no, name FROM master.part WHERE is_active ORDER BY part_no LIMIT :limit"),
        {"limit": limit}).all()


def parts_by_number(conn: Connection, part_nos: list[str]) -> dict:
    rows = conn.execute(sa.text(
        """SELECT part_id, part_no, name, unit, whole_units, purchase_price, hsn_code, is_active
             FROM master.part WHERE part_no = ANY(:nos)"""), {"nos": list(part_nos)}).all()
    return {r.part_no: r for r in rows}


def usual_vehicle_prices(conn: Connection, branch_id: int, items: list[tuple[int, str]], on: date) -> dict:
    """GST-exclusive price per (variant, colour): the last price this branch ordered at, else the
    price list's ex-factory price, else the price list's ex-showroom price without its GST."""
    if not items:
        return {}
    rows = conn.execute(sa.text(
        """SELECT i.variant_id, i.colour,
                  coalesce(
                      (SELECT l.unit_price FROM procurement.po_line l
                         JOIN procurement.purchase_order o USING (po_id)
                        WHERE l.variant_id = i.variant_id AND l.colour = i.colour AND o.branch_id = :branch
                          AND o.status NOT IN ('DRAFT', 'CANCELLED')
                        ORDER BY o.order_date DESC, o.po_id DESC LIMIT 1),
                      p.ex_factory,
                      -- worked back as a GST-inclusive invoice line is (webapp.gst): x * 100 / (100 + rate)
                      round(p.ex_showroom * 100 / (100 + master.gst_rate_on(v.hsn_code, :on)), 2)) AS price
             FROM unnest(CAST(:variants AS integer[]), CAST(:colours AS text[])) AS i (variant_id, colour)
             JOIN oem.variant v USING (variant_id)
             LEFT JOIN LATERAL oem.price_on(i.variant_id, i.colour, :on) p ON true"""),
        {"branch": branch_id, "on": on, "variants": [v for v, _ in items], "colours": [c for _, c in items]}).all()
    return {(r.variant_id, r.colour): r.price for r in rows if r.price is not None}


# --------------------------------------------------------------------------- purchase orders


PO_HEADER = """
    SELECT o.*, oem.brand, oem.legal_name AS oem_legal_name, oem.gstin AS oem_gstin, oem.address AS oem_address,
           oem.state_code AS oem_state_code, os.name AS oem_state_name, oem.dealer_code, oem.contact_name,
           oem.contact_phone, oem.contact_email,
           b.branch_code, b.legal_name AS branch_legal_name, b.trade_name AS branch_trade_name,
           b.gstin AS branch_gstin, b.address_line1, b.address_line2, b.city, b.pincode, b.phone AS branch_phone,
           b.email AS branch_email, b.state_code AS branch_state_code, bs.name AS branch_state_name,
           oem.state_code = b.state_code AS same_state,
           cr.name AS created_by_name, ap.name AS approved_by_name
      FROM procurement.purchase_order o
      JOIN oem.oem oem USING (oem_id)
      JOIN master.state os ON os.state_code = oem.state_code
      JOIN master.branch b USING (branch_id)
      JOIN master.state bs ON bs.state_code = b.state_code
      LEFT JOIN master.staff cr ON cr.staff_id = o.created_by
      LEFT JOIN master.staff ap ON ap.staff_id = o.approved_by"""


def get_po(conn: Connection, po_id: int, *, lock: bool = False):
    if lock:  # the header row only (FOR UPDATE cannot lock the outer-joined rows)
        conn.execute(sa.text("SELECT 1 FROM procurement.purchase_order WHERE po_id = :id FOR UPDATE"), {"id": po_id})
    return conn.execute(sa.text(f"{PO_HEADER} WHERE o.po_id = :id"), {"id": po_id}).first()


def po_lines(conn: Connection, po_id: int, tax_on: date | None = None):
    """The order's lines with what they are, their HSN and GST rate (on the order date)."""
    return conn.execute(sa.text(
        """SELECT l.*, l.qty - l.received_qty AS remaining,
                  round(l.qty * l.unit_price, 2) AS amount,
                  coalesce(v.hsn_code, p.hsn_code) AS hsn_code,
                  master.gst_rate_on(coalesce(v.hsn_code, p.hsn_code), coalesce(CAST(:on AS date), o.order_date))
                      AS gst_rate,
                  m.name AS model, v.name AS variant, v.battery_kwh, v.battery_chemistry,
                  p.part_no, p.name AS part_name, coalesce(p.unit, 'NOS') AS unit, p.whole_units,
                  CASE WHEN l.variant_id IS NOT NULL THEN m.name || ' ' || v.name || ' · ' || l.colour
                       ELSE p.part_no || ' ' || p.name END AS description
             FROM procurement.po_line l
             JOIN procurement.purchase_order o USING (po_id)
             LEFT JOIN oem.variant v ON v.variant_id = l.variant_id
             LEFT JOIN oem.model m ON m.model_id = v.model_id
             LEFT JOIN master.part p ON p.part_id = l.part_id
            WHERE l.po_id = :po
            ORDER BY l.line_no"""), {"po": po_id, "on": tax_on}).all()


def insert_po(conn: Connection, branch_id: int, oem_id: int, header: dict) -> int:
    return conn.execute(sa.text(
        """INSERT INTO procurement.purchase_order (branch_id, oem_id, order_date, expected_date, notes)
           VALUES (:branch, :oem, :order_date, :expected_date, :notes) RETURNING po_id"""),
        {"branch": branch_id, "oem": oem_id, **header}).scalar_one()


def update_po_header(conn: Connection, po_id: int, header: dict) -> None:
    conn.execute(sa.text(
        """UPDATE procurement.purchase_order
              SET order_date = :order_date, expected_date = :expected_date, notes = :notes
            WHERE po_id = :id"""), {"id": po_id, **header})


def replace_po_lines(conn: Connection, po_id: int, lines: list[dict]) -> None:
    """The draft's lines become exactly these (numbered 1, 2, ... in order)."""
    conn.execute(sa.text("DELETE FROM procurement.po_line WHERE po_id = :po"), {"po": po_id})
    if lines:
        conn.execute(sa.text(
            """INSERT INTO procurement.po_line (po_id, line_no, variant_id, colour, part_id, qty, unit_price)
               VALUES (:po_id, :line_no, :variant_id, :colour, :part_id, :qty, :unit_price)"""),
            [{"po_id": po_id, "line_no": n, **line} for n, line in enumerate(lines, start=1)])


def set_po_status(conn: Connection, po_id: int, from_statuses: tuple[str, ...], to_status: str) -> bool:
    """Move the order on; False when it is no longer in one of the expected statuses."""
    return conn.execute(sa.text(
        """UPDATE procurement.purchase_order
              SET status = :to, sent_at = CASE WHEN :to = 'SENT' THEN now() ELSE sent_at END
            WHERE po_id = :id AND status = ANY(:from)"""),
        {"id": po_id, "to": to_status, "from": list(from_statuses)}).rowcount == 1


def approve_po(conn: Connection, po_id: int, approver_id: int) -> str:
    """Approve the order; returns its number (taken by the approval's trigger, sql/0018)."""
    return conn.execute(sa.text(
        """UPDATE procurement.purchase_order
              SET status = 'APPROVED', approved_by = :by, approved_at = now()
            WHERE po_id = :id RETURNING po_no"""), {"id": po_id, "by": approver_id}).scalar_one()


def search_pos(conn: Connection, branch_id: int, status: str | None, oem_id: int | None, q: str,
               page: int, page_size: int):
    where = ["o.branch_id = :branch"]
    params: dict = {"branch": branch_id}
    if status == "OPEN":
        where.append("o.status NOT IN ('CLOSED', 'CANCELLED', 'RECEIVED')")
    elif status:
        where.append("o.status = :status")
        params["status"] = status
    if oem_id:
        where.append("o.oem_id = :oem")
        params["oem"] = oem_id
    if q:
        where.append("(o.po_no ILIKE :q OR oem.brand ILIKE :q)")
        params["q"] = contains_pattern(q)
    sql = f"""SELECT o.po_id, o.po_no, o.status, o.order_date, o.expected_date, oem.brand,
                     (SELECT coalesce(sum(round(l.qty * l.unit_price, 2)), 0) FROM procurement.po_line l
                       WHERE l.po_id = o.po_id) AS value,
                     (SELECT count(*) FROM procurement.po_line l WHERE l.po_id = o.po_id) AS line_count
                FROM procurement.purchase_order o JOIN oem.oem oem USING (oem_id)
               WHERE {' AND '.join(where)}
               ORDER BY o.order_date DESC, o.po_id DESC"""
    return _page(conn, sql, params, page, page_size)


# --------------------------------------------------------------------------- goods receipts


def existing_identities(conn: Connection, vins: list[str], motors: list[str], chargers: list[str],
                        batteries: list[str]) -> dict[str, dict[str, str]]:
    """Which of these VINs and serials the showroom already has, and on which VIN each one is."""
    rows = conn.execute(sa.text(
        """SELECT 'vin' AS kind, vin AS value, vin FROM inventory.vehicle_unit WHERE vin = ANY(:vins)
           UNION ALL
           SELECT 'motor_no', motor_no, vin FROM inventory.vehicle_unit WHERE motor_no = ANY(:motors)
           UNION ALL
           SELECT 'charger_serial', charger_serial, vin FROM inventory.vehicle_unit
            WHERE charger_serial = ANY(:chargers)
           UNION ALL
           SELECT 'batteries', p.serial, coalesce(u.vin, '') FROM inventory.battery_pack p
             LEFT JOIN inventory.battery_fitment f ON f.pack_id = p.pack_id AND f.removed_on IS NULL
             LEFT JOIN inventory.vehicle_unit u ON u.unit_id = f.unit_id
            WHERE p.serial = ANY(:batteries)"""),
        {"vins": vins, "motors": motors, "chargers": chargers, "batteries": batteries}).all()
    found: dict[str, dict[str, str]] = {"vin": {}, "motor_no": {}, "charger_serial": {}, "batteries": {}}
    for r in rows:
        found[r.kind][r.value] = r.vin
    return found


def oem_variant_names(conn: Connection, oem_id: int):
    """Every variant and colour of the OEM (to tell 'not on this order' from 'unknown')."""
    return conn.execute(sa.text(
        """SELECT v.variant_id, m.name AS model, v.name AS variant, vc.colour
             FROM oem.variant v JOIN oem.model m USING (model_id)
             LEFT JOIN oem.variant_colour vc USING (variant_id)
            WHERE m.oem_id = :oem"""), {"oem": oem_id}).all()


def insert_goods_receipt(conn: Connection, po_id: int, branch_id: int, received_on: date,
                         dispatch_ref: str | None) -> tuple[int, str]:
    """The receipt's header; returns (grn_id, GRN number taken by its trigger, sql/0018)."""
    return tuple(conn.execute(sa.text(
        """INSERT INTO procurement.goods_receipt (po_id, branch_id, received_on, dispatch_ref)
           VALUES (:po, :branch, :on, :ref) RETURNING grn_id, grn_no"""),
        {"po": po_id, "branch": branch_id, "on": received_on, "ref": dispatch_ref}).one())


def insert_received_units(conn: Connection, grn_id: int, branch_id: int, received_on: date, units: dict) -> None:
    """The vehicles of a receipt in a fixed number of set-based statements, however many there are.

    units: parallel lists vin, motor_no, charger_serial, key_no, variant_id, colour, mfg_month,
    purchase_cost, po_line_id; battery_vin / battery_serial (one entry per pack); fitment_reason.
    """
    conn.execute(sa.text(
        """INSERT INTO inventory.vehicle_unit (vin, motor_no, charger_serial, key_no, variant_id, colour,
                                               mfg_month, branch_id, status, received_on, purchase_cost)
           SELECT u.vin, u.motor_no, u.charger_serial, u.key_no, u.variant_id, u.colour, u.mfg_month,
                  :branch, 'IN_STOCK', :on, u.purchase_cost
             FROM unnest(CAST(:vin AS text[]), CAST(:motor_no AS text[]), CAST(:charger_serial AS text[]),
                         CAST(:key_no AS text[]), CAST(:variant_id AS integer[]), CAST(:colour AS text[]),
                         CAST(:mfg_month AS date[]), CAST(:purchase_cost AS numeric[]))
                  AS u (vin, motor_no, charger_serial, key_no, variant_id, colour, mfg_month, purchase_cost)"""),
        {"branch": branch_id, "on": received_on,
         **{k: units[k] for k in ("vin", "motor_no", "charger_serial", "key_no", "variant_id", "colour",
                                  "mfg_month", "purchase_cost")}})
    # Each unit counts against its order line (trigger: never more than ordered).
    conn.execute(sa.text(
        """INSERT INTO procurement.grn_vehicle (grn_id, po_line_id, unit_id)
           SELECT :grn, l.po_line_id, u.unit_id
             FROM unnest(CAST(:vin AS text[]), CAST(:po_line_id AS integer[])) AS l (vin, po_line_id)
             JOIN inventory.vehicle_unit u USING (vin)"""),
        {"grn": grn_id, "vin": units["vin"], "po_line_id": units["po_line_id"]})
    # Packs: chemistry and size from the variant (split evenly between a vehicle's packs),
    # fitted since the vehicle was made.
    conn.execute(sa.text(
        """WITH b AS (
               SELECT b.serial, u.unit_id, u.mfg_month, v.battery_chemistry, v.battery_kwh,
                      count(*) OVER (PARTITION BY b.vin) AS packs
                 FROM unnest(CAST(:battery_vin AS text[]), CAST(:battery_serial AS text[])) AS b (vin, serial)
                 JOIN inventory.vehicle_unit u ON u.vin = b.vin
                 JOIN oem.variant v ON v.variant_id = u.variant_id),
           new_pack AS (
               INSERT INTO inventory.battery_pack (serial, chemistry, kwh)
               SELECT serial, battery_chemistry, greatest(round(battery_kwh / packs, 2), 0.01) FROM b
               RETURNING pack_id, serial)
           INSERT INTO inventory.battery_fitment (pack_id, unit_id, fitted_on, reason)
           SELECT p.pack_id, b.unit_id, b.mfg_month, :reason
             FROM new_pack p JOIN b USING (serial)"""),
        {"battery_vin": units["battery_vin"], "battery_serial": units["battery_serial"],
         "reason": units["fitment_reason"]})


def insert_received_parts(conn: Connection, grn_id: int, branch_id: int, grn_no: str, parts: list[dict]) -> None:
    """Parts into stock: one RECEIPT move per line (the ledger trigger keeps the balance and the average
    cost), then the receipt's lines pointing at their moves."""
    if not parts:
        return
    moves = conn.execute(sa.text(
        """INSERT INTO inventory.stock_move (branch_id, part_id, kind, qty, unit_cost, value, reference)
           SELECT :branch, p.part_id, 'RECEIPT', p.qty, p.unit_cost, 0, :grn_no
             FROM unnest(CAST(:part_id AS integer[]), CAST(:qty AS numeric[]), CAST(:unit_cost AS numeric[]))
                  AS p (part_id, qty, unit_cost)
           RETURNING move_id, part_id"""),
        {"branch": branch_id, "grn_no": grn_no, "part_id": [p["part_id"] for p in parts],
         "qty": [p["qty"] for p in parts], "unit_cost": [p["unit_cost"] for p in parts]}).all()
    move_of = {m.part_id: m.move_id for m in moves}  # an order has each part on one line only
    conn.execute(sa.text(
        """INSERT INTO procurement.grn_part (grn_id, po_line_id, qty, unit_cost, move_id)
           VALUES (:grn, :po_line_id, :qty, :unit_cost, :move_id)"""),
        [{"grn": grn_id, "po_line_id": p["po_line_id"], "qty": p["qty"], "unit_cost": p["unit_cost"],
          "move_id": move_of[p["part_id"]]} for p in parts])


GRN_HEADER = """
    SELECT g.*, o.po_no, o.oem_id, o.status AS po_status, oem.brand, b.branch_code, st.name AS received_by_name,
           pi.pinv_id, i.supplier_invoice_no,
           (SELECT count(*) FROM procurement.grn_vehicle gv WHERE gv.grn_id = g.grn_id) AS vehicle_count,
           (SELECT count(*) FROM procurement.grn_part gp WHERE gp.grn_id = g.grn_id) AS part_lines,
           coalesce((SELECT sum(u.purchase_cost) FROM procurement.grn_vehicle gv
                       JOIN inventory.vehicle_unit u USING (unit_id) WHERE gv.grn_id = g.grn_id), 0)
           + coalesce((SELECT sum(round(gp.qty * gp.unit_cost, 2)) FROM procurement.grn_part gp
                        WHERE gp.grn_id = g.grn_id), 0) AS value
      FROM procurement.goods_receipt g
      JOIN procurement.purchase_order o USING (po_id)
      JOIN oem.oem oem ON oem.oem_id = o.oem_id
      JOIN master.branch b ON b.branch_id = g.branch_id
      LEFT JOIN master.staff st ON st.staff_id = g.received_by
      LEFT JOIN procurement.purchase_invoice_grn pi ON pi.grn_id = g.grn_id
      LEFT JOIN procurement.purchase_invoice i ON i.pinv_id = pi.pinv_id"""


def get_grn(conn: Connection, grn_id: int):
    return conn.execute(sa.text(f"{GRN_HEADER} WHERE g.grn_id = :id"), {"id": grn_id}).first()


def grn_vehicles(conn: Connection, grn_id: int):
    return conn.execute(sa.text(
        """SELECT u.unit_id, u.vin, u.motor_no, u.charger_serial, u.key_no, u.colour, u.mfg_month,
                  u.purchase_cost, u.status, m.name AS model, v.name AS variant, l.line_no,
                  (SELECT string_agg(p.serial, ' ' ORDER BY p.serial)
                     FROM inventory.battery_fitment f JOIN inventory.battery_pack p USING (pack_id)
                    WHERE f.unit_id = u.unit_id AND f.fitted_on <= g.received_on
                      AND (f.removed_on IS NULL OR f.removed_on > g.received_on)) AS batteries
             FROM procurement.grn_vehicle gv
             JOIN procurement.goods_receipt g USING (grn_id)
             JOIN procurement.po_line l USING (po_line_id)
             JOIN inventory.vehicle_unit u USING (unit_id)
             JOIN oem.variant v ON v.variant_id = u.variant_id
             JOIN oem.model m ON m.model_id = v.model_id
            WHERE gv.grn_id = :id
            ORDER BY l.line_no, u.vin"""), {"id": grn_id}).all()


def grn_parts(conn: Connection, grn_id: int):
    return conn.execute(sa.text(
        """SELECT gp.qty, gp.unit_cost, round(gp.qty * gp.unit_cost, 2) AS amount, p.part_no, p.name, p.unit,
                  l.line_no
             FROM procurement.grn_part gp
             JOIN procurement.po_line l USING (po_line_id)
             JOIN master.part p ON p.part_id = l.part_id
            WHERE gp.grn_id = :id ORDER BY l.line_no"""), {"id": grn_id}).all()


def grns_of_po(conn: Connection, po_id: int):
    return conn.execute(sa.text(f"{GRN_HEADER} WHERE g.po_id = :po ORDER BY g.received_on, g.grn_id"),
                        {"po": po_id}).all()


def search_grns(conn: Connection, branch_id: int, oem_id: int | None, unbilled: bool, q: str,
                page: int, page_size: int):
    where = ["g.branch_id = :branch"]
    params: dict = {"branch": branch_id}
    if oem_id:
        where.append("o.oem_id = :oem")
        params["oem"] = oem_id
    if unbilled:
        where.append("pi.pinv_id IS NULL")
    if q:  # a receipt number, an order number, or a VIN / motor number received on it
        where.append("""(g.grn_no ILIKE :q OR o.po_no ILIKE :q OR g.dispatch_ref ILIKE :q OR EXISTS (
                            SELECT 1 FROM procurement.grn_vehicle gv JOIN inventory.vehicle_unit u USING (unit_id)
                             WHERE gv.grn_id = g.grn_id AND (u.vin ILIKE :q OR u.motor_no ILIKE :q)))""")
        params["q"] = contains_pattern(q)
    sql = f"{GRN_HEADER} WHERE {' AND '.join(where)} ORDER BY g.received_on DESC, g.grn_id DESC"
    return _page(conn, sql, params, page, page_size)


# --------------------------------------------------------------------------- purchase invoices


def same_state(conn: Connection, branch_id: int, oem_id: int) -> bool:
    return conn.execute(sa.text(
        """SELECT o.state_code = b.state_code FROM oem.oem o, master.branch b
            WHERE o.oem_id = :oem AND b.branch_id = :branch"""), {"oem": oem_id, "branch": branch_id}).scalar_one()


def unbilled_receipts(conn: Connection, branch_id: int, oem_id: int):
    return conn.execute(sa.text(
        f"""{GRN_HEADER} WHERE g.branch_id = :branch AND o.oem_id = :oem AND pi.pinv_id IS NULL
             ORDER BY g.received_on, g.grn_id"""), {"branch": branch_id, "oem": oem_id}).all()


def receipts_taxable_by_hsn(conn: Connection, grn_ids: list[int], on: date):
    """What the receipts are worth before GST, per HSN code, with the rate in force on the day."""
    return conn.execute(sa.text(
        """SELECT hsn_code, master.gst_rate_on(hsn_code, :on) AS gst_rate, sum(amount) AS taxable
             FROM (SELECT v.hsn_code, u.purchase_cost AS amount
                     FROM procurement.grn_vehicle gv
                     JOIN inventory.vehicle_unit u USING (unit_id)
                     JOIN oem.variant v ON v.variant_id = u.variant_id
                    WHERE gv.grn_id = ANY(:ids)
                   UNION ALL
                   SELECT p.hsn_code, round(gp.qty * gp.unit_cost, 2)
                     FROM procurement.grn_part gp
                     JOIN procurement.po_line l USING (po_line_id)
                     JOIN master.part p ON p.part_id = l.part_id
                    WHERE gp.grn_id = ANY(:ids)) lines
            GROUP BY hsn_code ORDER BY hsn_code"""), {"ids": grn_ids, "on": on}).all()


def insert_purchase_invoice(conn: Connection, branch_id: int, oem_id: int, data: dict, grn_ids: list[int]) -> int:
    pinv_id = conn.execute(sa.text(
        """INSERT INTO procurement.purchase_invoice (branch_id, oem_id, supplier_invoice_no, invoice_date,
                                                     taxable_value, cgst, sgst, igst, round_off, total, due_date)
           VALUES (:branch, :oem, :supplier_invoice_no, :invoice_date, :taxable_value, :cgst, :sgst, :igst,
                   :round_off, :total, :due_date)
           RETURNING pinv_id"""),
        {"branch": branch_id, "oem": oem_id,
         **{k: data[k] for k in ("supplier_invoice_no", "invoice_date", "taxable_value", "cgst", "sgst", "igst",
                                 "round_off", "total", "due_date")}}).scalar_one()
    conn.execute(sa.text(
        """INSERT INTO procurement.purchase_invoice_grn (pinv_id, grn_id)
           SELECT :pinv, g.grn_id FROM procurement.goods_receipt g
             JOIN procurement.purchase_order o USING (po_id)
            WHERE g.grn_id = ANY(:ids) AND g.branch_id = :branch AND o.oem_id = :oem"""),
        {"pinv": pinv_id, "ids": grn_ids, "branch": branch_id, "oem": oem_id})
    return pinv_id


PINV_HEADER = """
    SELECT i.*, oem.brand, oem.legal_name AS oem_legal_name, oem.gstin AS oem_gstin, b.branch_code,
           p.paid, p.outstanding, p.days_overdue, p.age_bucket, st.name AS created_by_name
      FROM procurement.purchase_invoice i
      JOIN procurement.payable p USING (pinv_id)
      JOIN oem.oem oem ON oem.oem_id = i.oem_id
      JOIN master.branch b ON b.branch_id = i.branch_id
      LEFT JOIN master.staff st ON st.staff_id = i.created_by"""


def get_pinv(conn: Connection, pinv_id: int):
    return conn.execute(sa.text(f"{PINV_HEADER} WHERE i.pinv_id = :id"), {"id": pinv_id}).first()


def pinv_receipts(conn: Connection, pinv_id: int):
    return conn.execute(sa.text(
        f"""{GRN_HEADER} WHERE g.grn_id IN (SELECT grn_id FROM procurement.purchase_invoice_grn
                                             WHERE pinv_id = :id)
             ORDER BY g.received_on, g.grn_id"""), {"id": pinv_id}).all()


def pinv_payments(conn: Connection, pinv_id: int):
    return conn.execute(sa.text(
        """SELECT sp.*, st.name AS created_by_name FROM procurement.supplier_payment sp
             LEFT JOIN master.staff st ON st.staff_id = sp.created_by
            WHERE sp.pinv_id = :id ORDER BY sp.paid_on, sp.payment_id"""), {"id": pinv_id}).all()


def search_pinvs(conn: Connection, branch_id: int, oem_id: int | None, q: str, page: int, page_size: int):
    where = ["i.branch_id = :branch"]
    params: dict = {"branch": branch_id}
    if oem_id:
        where.append("i.oem_id = :oem")
        params["oem"] = oem_id
    if q:
        where.append("i.supplier_invoice_no ILIKE :q")
        params["q"] = contains_pattern(q)
    sql = f"{PINV_HEADER} WHERE {' AND '.join(where)} ORDER BY i.invoice_date DESC, i.pinv_id DESC"
    return _page(conn, sql, params, page, page_size)


def insert_payment(conn: Connection, pinv_id: int, branch_id: int, data: dict) -> int:
    return conn.execute(sa.text(
        """INSERT INTO procurement.supplier_payment (pinv_id, branch_id, paid_on, amount, mode, reference)
           VALUES (:pinv, :branch, :paid_on, :amount, :mode, :reference) RETURNING payment_id"""),
        {"pinv": pinv_id, "branch": branch_id,
         **{k: data[k] for k in ("paid_on", "amount", "mode", "reference")}}).scalar_one()


def payables(conn: Connection, branch_id: int, oem_id: int | None, bucket: str | None, page: int, page_size: int):
    where = ["p.branch_id = :branch", "p.outstanding > 0"]
    params: dict = {"branch": branch_id}
    if oem_id:
        where.append("p.oem_id = :oem")
        params["oem"] = oem_id
    if bucket:
        where.append("p.age_bucket = :bucket")
        params["bucket"] = bucket
    sql = f"""SELECT p.* FROM procurement.payable p WHERE {' AND '.join(where)}
               ORDER BY p.due_date, p.pinv_id"""
    return _page(conn, sql, params, page, page_size)


def payable_buckets(conn: Connection, branch_id: int, oem_id: int | None) -> dict[str, Decimal]:
    """What is owed in each ageing bucket (all five, zero where nothing is owed)."""
    rows = conn.execute(sa.text(
        """SELECT age_bucket, sum(outstanding) AS owed FROM procurement.payable
            WHERE branch_id = :branch AND outstanding > 0 AND (CAST(:oem AS integer) IS NULL OR oem_id = :oem)
            GROUP BY age_bucket"""), {"branch": branch_id, "oem": oem_id}).all()
    owed = {r.age_bucket: r.owed for r in rows}
    return {b: owed.get(b, Decimal("0.00")) for b in AGE_BUCKETS}
