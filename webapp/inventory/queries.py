"""SQL of the inventory module. Every function takes the request's connection and never commits."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..db import contains_pattern
from ..paging import capped_count, count_cap

# Days since the unit was received at the dealership.
AGE_BUCKETS = ("0-30", "31-60", "61-90", "90+")
AGE_BUCKET_SQL = {
    "0-30": "u.received_on >= current_date - 30",
    "31-60": "u.received_on BETWEEN current_date - 60 AND current_date - 31",
    "61-90": "u.received_on BETWEEN current_date - 90 AND current_date - 61",
    "90+": "u.received_on <= current_date - 91",
}
AGE_BUCKET_CASE = """CASE WHEN current_date - u.received_on <= 30 THEN '0-30'
                          WHEN current_date - u.received_on <= 60 THEN '31-60'
                          WHEN current_date - u.received_on <= 90 THEN '61-90'
                          ELSE '90+' END"""
# Units the showroom still holds or owes a customer: neither delivered nor returned to the OEM.
CURRENT_STATUSES = ("IN_TRANSIT", "IN_STOCK", "DEMO", "ALLOTTED", "INVOICED")


# --------------------------------------------------------------------------- reference


def branch_choices(conn: Connection) -> list[tuple[int, str]]:
    rows = conn.execute(sa.text(
        "SELECT branch_id, branch_code, coalesce(trade_name, legal_name) AS name FROM master.branch "
        "WHERE is_active ORDER BY branch_code"))
    return [(r.branch_id, f"{r.branch_code} - {r.name}") for r in rows]


def get_branch(conn: Connection, branch_id: int):
    return conn.execute(sa.text(
        "SELECT branch_id, branch_code, coalesce(trade_name, legal_name) AS name, is_active "
        "FROM master.branch WHERE branch_id = :b"), {"b": branch_id}).first()


def model_choices(conn: Connection) -> list[tuple[int, str]]:
    rows = conn.execute(sa.text(
        """SELECT m.model_id, o.brand, m.name FROM oem.model m JOIN oem.oem o USING (oem_id)
            ORDER BY o.brand, m.name"""))
    return [(r.model_id, f"{r.brand} {r.name}") for r in rows]


def colour_choices(conn: Connection) -> list[str]:
    return list(conn.execute(sa.text("SELECT DISTINCT colour FROM oem.variant_colour ORDER BY colour")).scalars())


def status_choices(conn: Connection) -> list[tuple[str, str]]:
    rows = conn.execute(sa.text("SELECT status, label FROM inventory.unit_status ORDER BY sort_order"))
    return [(r.status, r.label) for r in rows]


# --------------------------------------------------------------------------- vehicle units

UNIT_ROW_COLUMNS = """
    SELECT u.unit_id, u.vin, u.motor_no, u.charger_serial, u.key_no, u.colour, u.mfg_month, u.status,
           s.label AS status_label, u.received_on, current_date - u.received_on AS age_days,
           u.purchase_cost, u.branch_id, b.branch_code, u.variant_id, v.name AS variant_name,
           m.model_id, m.name AS model_name, o.brand, u.status_changed_at,
           (SELECT string_agg(p.serial, ', ' ORDER BY p.serial)
              FROM inventory.battery_fitment f JOIN inventory.battery_pack p USING (pack_id)
             WHERE f.unit_id = u.unit_id AND f.removed_on IS NULL) AS battery_serials"""
UNIT_BASE_FROM = """
      FROM inventory.vehicle_unit u
      JOIN oem.variant v ON v.variant_id = u.variant_id
      JOIN oem.model m ON m.model_id = v.model_id
      JOIN oem.oem o ON o.oem_id = m.oem_id
      JOIN master.branch b ON b.branch_id = u.branch_id"""
UNIT_ROW_FROM = UNIT_BASE_FROM + """
      JOIN inventory.unit_status s ON s.status = u.status"""


@dataclass
class UnitFilters:
    """What the vehicle stock screen is filtered by; every field comes from the URL."""

    q: str = ""
    model_id: int | None = None
    colour: str = ""
    status: str = "current"   # 'current', 'all' or one status
    branch_id: int | None = None   # None: every branch
    age: str = ""

    def as_args(self, branch_arg: str) -> dict:
        args = {"q": self.q, "model": self.model_id or "", "colour": self.colour, "status": self.status,
                "branch": branch_arg, "age": self.age}
        return {k: v for k, v in args.items() if v != ""}


# The statuses written out, so that the planner sees the partial index's condition (sql/0021).
CURRENT_STATUSES_SQL = "u.status IN (" + ", ".join(f"'{s}'" for s in CURRENT_STATUSES) + ")"


def search_units(conn: Connection, f: UnitFilters, page: int, page_size: int):
    """One page of vehicle units and the rows found (counted up to paging.count_cap unless searched).

    The search matches anywhere in the VIN, the motor number or the serial of a battery pack now
    fitted. Those hold only capitals, digits, '/' and '-' (their CHECKs), so LIKE on what was typed,
    in capitals, finds exactly what ILIKE did, at a fifth of its cost; it is still a scan of the
    units and the fitted packs (no index serves "anywhere" without pg_trgm): about 8 ms on five
    years of data. Without a search the page is read in the order of an index (sql/0021)."""
    where = ["true"]
    params: dict = {"limit": page_size, "offset": (page - 1) * page_size, "cap": count_cap(page, page_size)}
    if f.q:
        params["q"] = contains_pattern(f.q.upper())
        like = "LIKE" if f.q.isascii() else "ILIKE"  # a letter outside ASCII: as before
        where.append(f"""(u.vin {like} :q OR u.motor_no {like} :q OR u.unit_id IN (
                             SELECT bf.unit_id FROM inventory.battery_fitment bf
                               JOIN inventory.battery_pack bp USING (pack_id)
                              WHERE bf.removed_on IS NULL AND bp.serial {like} :q))""")
    if f.model_id:
        where.append("u.variant_id IN (SELECT variant_id FROM oem.variant WHERE model_id = :model)")
        params["model"] = f.model_id
    if f.colour:
        where.append("u.colour = :colour")
        params["colour"] = f.colour
    if f.status == "current":
        where.append(CURRENT_STATUSES_SQL)
    elif f.status != "all":
        where.append("u.status = :status")
        params["status"] = f.status
    if f.branch_id:
        where.append("u.branch_id = :branch")
        params["branch"] = f.branch_id
    if f.age in AGE_BUCKET_SQL:
        where.append(AGE_BUCKET_SQL[f.age])
    body = f"FROM inventory.vehicle_unit u WHERE {' AND '.join(where)}"
    # A search reads every unit anyway: its count comes with it. A list counts at most `cap` rows.
    found = "count(*) OVER ()" if f.q else "NULL::bigint"
    rows = conn.execute(sa.text(
        f"""WITH page AS MATERIALIZED (
                SELECT u.unit_id, {found} AS rows_found {body}
                 ORDER BY u.received_on NULLS FIRST, u.unit_id
                 LIMIT :limit OFFSET :offset)
            {UNIT_ROW_COLUMNS},
                   coalesce(p.rows_found, {capped_count(body)}) AS total
              FROM page p
              JOIN inventory.vehicle_unit u ON u.unit_id = p.unit_id
              JOIN oem.variant v ON v.variant_id = u.variant_id
              JOIN oem.model m ON m.model_id = v.model_id
              JOIN oem.oem o ON o.oem_id = m.oem_id
              JOIN master.branch b ON b.branch_id = u.branch_id
              JOIN inventory.unit_status s ON s.status = u.status
             ORDER BY u.received_on NULLS FIRST, u.unit_id"""), params).all()
    if rows:
        return rows, rows[0].total
    return rows, conn.execute(sa.text(f"SELECT {capped_count(body)}"), params).scalar_one()


def get_unit(conn: Connection, unit_id: int):
    return conn.execute(
        sa.text(f"""{UNIT_ROW_COLUMNS}, coalesce(b.trade_name, b.legal_name) AS branch_name,
                       v.battery_chemistry, v.battery_kwh, u.created_at
                    {UNIT_ROW_FROM} WHERE u.unit_id = :id"""),
        {"id": unit_id}).first()


def unit_id_by_vin(conn: Connection, vin: str) -> int | None:
    return conn.execute(sa.text("SELECT unit_id FROM inventory.vehicle_unit WHERE vin = :v"), {"v": vin}).scalar()


def unit_status_timeline(conn: Connection, unit_id: int):
    """Status and branch changes of a unit, oldest first, from the audit trail: when and who."""
    return conn.execute(
        sa.text(
            """SELECT l.audit_id, l.at, l.action,
                      coalesce((l.after ->> 'status_changed_at')::timestamptz, l.at) AS changed_at,
                      l.before ->> 'status' AS from_status, fs.label AS from_label,
                      l.after ->> 'status' AS to_status, ts.label AS to_label,
                      fb.branch_code AS from_branch, tb.branch_code AS to_branch,
                      st.staff_code, st.name AS staff_name
                 FROM audit.log l
                 LEFT JOIN inventory.unit_status fs ON fs.status = l.before ->> 'status'
                 LEFT JOIN inventory.unit_status ts ON ts.status = l.after ->> 'status'
                 LEFT JOIN master.branch fb ON fb.branch_id = (l.before ->> 'branch_id')::int
                 LEFT JOIN master.branch tb ON tb.branch_id = (l.after ->> 'branch_id')::int
                 LEFT JOIN master.staff st ON st.staff_id = l.staff_id
                WHERE l.table_name = 'inventory.vehicle_unit' AND l.row_key = :key
                  AND (l.action = 'INSERT'
                       OR l.before ->> 'status' IS DISTINCT FROM l.after ->> 'status'
                       OR l.before ->> 'branch_id' IS DISTINCT FROM l.after ->> 'branch_id')
                ORDER BY l.at, l.audit_id"""),
        {"key": str(unit_id)}).all()


def battery_history(conn: Connection, unit_id: int):
    return conn.execute(
        sa.text(
            """SELECT f.fitment_id, p.pack_id, p.serial, p.chemistry, p.kwh, p.mfg_month, f.fitted_on,
                      f.removed_on, f.reason
                 FROM inventory.battery_fitment f JOIN inventory.battery_pack p USING (pack_id)
                WHERE f.unit_id = :id
                ORDER BY f.fitted_on DESC, f.fitment_id DESC"""),
        {"id": unit_id}).all()


def unit_receipt(conn: Connection, unit_id: int):
    """The goods receipt that brought the unit in, with its purchase order, if it came that way."""
    return conn.execute(
        sa.text(
            """SELECT g.grn_id, g.grn_no, g.received_on, g.dispatch_ref, po.po_id, po.po_no, po.order_date,
                      o.brand AS supplier, pl.unit_price, st.name AS received_by
                 FROM procurement.grn_vehicle gv
                 JOIN procurement.goods_receipt g ON g.grn_id = gv.grn_id
                 JOIN procurement.purchase_order po ON po.po_id = g.po_id
                 JOIN oem.oem o ON o.oem_id = po.oem_id
                 JOIN procurement.po_line pl ON pl.po_line_id = gv.po_line_id
                 LEFT JOIN master.staff st ON st.staff_id = g.received_by
                WHERE gv.unit_id = :id"""),
        {"id": unit_id}).first()


def unit_transfers(conn: Connection, unit_id: int):
    return conn.execute(
        sa.text(
            """SELECT t.transfer_id, t.transfer_no, t.status, t.dispatched_at, t.received_at,
                      fb.branch_code AS from_branch, tb.branch_code AS to_branch
                 FROM inventory.stock_transfer_line l
                 JOIN inventory.stock_transfer t USING (transfer_id)
                 JOIN master.branch fb ON fb.branch_id = t.branch_id
                 JOIN master.branch tb ON tb.branch_id = t.to_branch_id
                WHERE l.unit_id = :id
                ORDER BY t.dispatched_at DESC"""),
        {"id": unit_id}).all()


@dataclass
class AgeingCell:
    count: int = 0
    value: Decimal = Decimal("0.00")
    uncosted: int = 0   # units without a purchase cost (not in the value)

    def add(self, count: int, value: Decimal | None, uncosted: int) -> None:
        self.count += count
        self.value += value or Decimal("0.00")
        self.uncosted += uncosted


@dataclass
class AgeingLine:
    label: str
    cells: dict[str, AgeingCell] = field(default_factory=lambda: {b: AgeingCell() for b in AGE_BUCKETS})
    total: AgeingCell = field(default_factory=AgeingCell)


@dataclass
class AgeingBranch:
    branch_code: str
    branch_name: str
    lines: list[AgeingLine] = field(default_factory=list)
    total: AgeingLine = field(default_factory=lambda: AgeingLine("Branch total"))


def stock_ageing(conn: Connection, branch_id: int | None) -> list[AgeingBranch]:
    """Units in stock and on demo, per branch and model/variant, counted and valued by age bucket."""
    rows = conn.execute(
        sa.text(
            f"""SELECT u.branch_id, b.branch_code, coalesce(b.trade_name, b.legal_name) AS branch_name,
                       o.brand, m.name AS model_name, v.name AS variant_name, v.variant_id,
                       {AGE_BUCKET_CASE} AS bucket,
                       count(*) AS units, sum(u.purchase_cost) AS value,
                       count(*) FILTER (WHERE u.purchase_cost IS NULL) AS uncosted
                  {UNIT_BASE_FROM}
                 WHERE u.status IN ('IN_STOCK', 'DEMO') AND (CAST(:branch AS integer) IS NULL OR u.branch_id = :branch)
                 GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
                 ORDER BY b.branch_code, o.brand, m.name, v.name"""),
        {"branch": branch_id}).all()
    branches: dict[int, AgeingBranch] = {}
    lines: dict[tuple[int, int], AgeingLine] = {}
    for r in rows:
        branch = branches.setdefault(r.branch_id, AgeingBranch(r.branch_code, r.branch_name))
        line = lines.get((r.branch_id, r.variant_id))
        if line is None:
            line = lines[(r.branch_id, r.variant_id)] = AgeingLine(f"{r.brand} {r.model_name} {r.variant_name}")
            branch.lines.append(line)
        for cell in (line.cells[r.bucket], line.total, branch.total.cells[r.bucket], branch.total.total):
            cell.add(r.units, r.value, r.uncosted)
    return list(branches.values())


def lock_unit(conn: Connection, unit_id: int):
    return conn.execute(sa.text(
        """SELECT u.*, b.branch_code FROM inventory.vehicle_unit u JOIN master.branch b USING (branch_id)
            WHERE u.unit_id = :id FOR UPDATE OF u"""), {"id": unit_id}).first()


# --------------------------------------------------------------------------- parts stock

PART_STOCK_SHOW = ("all", "in_stock", "reorder")

PART_ROW_COLUMNS = """
    SELECT p.part_id, p.part_no, p.name, p.unit, p.whole_units, p.mrp, p.purchase_price, p.reorder_level,
           p.reorder_qty, p.is_active, coalesce(ps.qty, 0) AS qty, coalesce(ps.value, 0) AS value,
           ps.bin_location, CASE WHEN ps.qty > 0 THEN round(ps.value / ps.qty, 2) END AS avg_cost,
           p.reorder_level > 0 AND coalesce(ps.qty, 0) <= p.reorder_level AS needs_reorder"""
PART_ROW_FROM = """
      FROM master.part p
      LEFT JOIN inventory.part_stock ps ON ps.part_id = p.part_id AND ps.branch_id = :branch"""

# What a part search box matches, on the parts stock list and on a count sheet alike.
PART_SEARCH = "(p.part_no ILIKE :q OR p.name ILIKE :q OR ps.bin_location ILIKE :q)"


def _part_where(q: str, show: str, params: dict) -> list[str]:
    where = ["(p.is_active OR ps.qty > 0)"]
    if q:
        params["q"] = contains_pattern(q)
        where.append(PART_SEARCH)
    if show == "in_stock":
        where.append("ps.qty > 0")
    elif show == "reorder":
        where.append("p.reorder_level > 0 AND coalesce(ps.qty, 0) <= p.reorder_level")
    return where


def search_part_stock(conn: Connection, branch_id: int, q: str, show: str, page: int, page_size: int):
    """One page of the branch's parts with their stock; a part number typed in full comes first
    (a USB scanner types the whole number and Enter)."""
    params: dict = {"branch": branch_id, "limit": page_size, "offset": (page - 1) * page_size,
                    "exact": q.upper()}
    where = _part_where(q, show, params)
    rows = conn.execute(
        sa.text(
            f"""{PART_ROW_COLUMNS}, count(*) OVER () AS total {PART_ROW_FROM}
                 WHERE {' AND '.join(where)}
                 ORDER BY p.part_no = :exact DESC, p.part_no
                 LIMIT :limit OFFSET :offset"""),
        params).all()
    if rows or page == 1:
        return rows, rows[0].total if rows else 0
    total = conn.execute(sa.text(f"SELECT count(*) {PART_ROW_FROM} WHERE {' AND '.join(where)}"), params).scalar_one()
    return rows, total


def parts_for_labels(conn: Connection, branch_id: int, q: str, show: str, limit: int):
    params: dict = {"branch": branch_id, "limit": limit, "exact": q.upper()}
    where = _part_where(q, show, params)
    return conn.execute(
        sa.text(
            f"""{PART_ROW_COLUMNS} {PART_ROW_FROM}
                 WHERE {' AND '.join(where)}
                 ORDER BY p.part_no = :exact DESC, ps.bin_location NULLS LAST, p.part_no
                 LIMIT :limit"""),
        params).all()


def parts_by_id_for_labels(conn: Connection, branch_id: int, part_ids: list[int]):
    if not part_ids:
        return []
    return conn.execute(
        sa.text(f"{PART_ROW_COLUMNS} {PART_ROW_FROM} WHERE p.part_id IN :ids ORDER BY p.part_no")
        .bindparams(sa.bindparam("ids", expanding=True)),
        {"branch": branch_id, "ids": part_ids}).all()


def branch_stock_totals(conn: Connection, branch_id: int):
    return conn.execute(
        sa.text(
            """SELECT count(*) FILTER (WHERE ps.qty > 0) AS parts_in_stock, coalesce(sum(ps.value), 0) AS value,
                      (SELECT count(*) FROM master.part p
                         LEFT JOIN inventory.part_stock s ON s.part_id = p.part_id AND s.branch_id = :branch
                        WHERE p.is_active AND p.reorder_level > 0 AND coalesce(s.qty, 0) <= p.reorder_level)
                          AS needing_reorder
                 FROM inventory.part_stock ps WHERE ps.branch_id = :branch"""),
        {"branch": branch_id}).one()


def get_part_stock(conn: Connection, branch_id: int, part_id: int):
    return conn.execute(sa.text(f"{PART_ROW_COLUMNS} {PART_ROW_FROM} WHERE p.part_id = :part"),
                        {"branch": branch_id, "part": part_id}).first()


def part_by_no(conn: Connection, part_no: str):
    return conn.execute(sa.text("SELECT part_id, part_no, name, unit, whole_units, is_active FROM master.part "
                                "WHERE part_no = :n"), {"n": part_no.strip().upper()}).first()


def stock_card(conn: Connection, branch_id: int, part_id: int, page: int, page_size: int):
    """A part's moves at a branch, newest first, each with the balance after it."""
    rows = conn.execute(
        sa.text(
            """SELECT * FROM (
                   SELECT m.move_id, m.moved_at, m.kind, m.qty, m.unit_cost, m.value, m.reference, m.reason,
                          st.staff_code, st.name AS staff_name,
                          sum(m.qty) OVER w AS balance_qty, sum(m.value) OVER w AS balance_value,
                          count(*) OVER () AS total
                     FROM inventory.stock_move m
                     LEFT JOIN master.staff st ON st.staff_id = m.staff_id
                    WHERE m.branch_id = :branch AND m.part_id = :part
                   WINDOW w AS (ORDER BY m.moved_at, m.move_id)) ledger
                ORDER BY moved_at DESC, move_id DESC
                LIMIT :limit OFFSET :offset"""),
        {"branch": branch_id, "part": part_id, "limit": page_size, "offset": (page - 1) * page_size}).all()
    return rows, (rows[0].total if rows else 0)


def set_bin_location(conn: Connection, branch_id: int, part_id: int, bin_location: str | None) -> None:
    # A part not yet stocked at the branch gets its (empty) balance row, so its shelf can be named first.
    conn.execute(
        sa.text(
            """INSERT INTO inventory.part_stock (branch_id, part_id, bin_location) VALUES (:branch, :part, :bin)
               ON CONFLICT (branch_id, part_id) DO UPDATE SET bin_location = EXCLUDED.bin_location"""),
        {"branch": branch_id, "part": part_id, "bin": bin_location})


def stock_qty(conn: Connection, branch_id: int, part_id: int) -> Decimal:
    return conn.execute(
        sa.text("SELECT coalesce((SELECT qty FROM inventory.part_stock WHERE branch_id = :b AND part_id = :p), 0)"),
        {"b": branch_id, "p": part_id}).scalar_one()


def insert_stock_move(conn: Connection, *, branch_id: int, part_id: int, kind: str, qty: Decimal,
                      unit_cost: Decimal, reference: str | None = None, reason: str | None = None) -> int:
    """Post one move; the trigger updates the balance (and prices outgoing moves at average cost)."""
    return conn.execute(
        sa.text(
            """INSERT INTO inventory.stock_move (branch_id, part_id, kind, qty, unit_cost, reference, reason)
               VALUES (:branch, :part, :kind, :qty, :cost, :ref, :reason) RETURNING move_id"""),
        {"branch": branch_id, "part": part_id, "kind": kind, "qty": qty, "cost": unit_cost, "ref": reference,
         "reason": reason}).scalar_one()


def cost_for_incoming(conn: Connection, branch_id: int, part_id: int) -> Decimal:
    """What a unit found (count surplus, upward adjustment) is valued at: the branch's average cost,
    or the catalog purchase price when the branch holds none."""
    return conn.execute(
        sa.text(
            """SELECT CASE WHEN ps.qty > 0 THEN round(ps.value / ps.qty, 4) ELSE p.purchase_price END
                 FROM master.part p
                 LEFT JOIN inventory.part_stock ps ON ps.part_id = p.part_id AND ps.branch_id = :b
                WHERE p.part_id = :p"""),
        {"b": branch_id, "p": part_id}).scalar_one()


# --------------------------------------------------------------------------- transfers

TRANSFER_VIEWS = ("in_transit", "outgoing", "all")


def search_transfers(conn: Connection, branch_id: int, view: str, page: int, page_size: int):
    """Transfers touching a branch: 'in_transit' = dispatched to it and not yet received."""
    where = {"in_transit": "t.to_branch_id = :branch AND t.status = 'DISPATCHED'",
             "outgoing": "t.branch_id = :branch",
             "all": "(t.branch_id = :branch OR t.to_branch_id = :branch)"}[view]
    rows = conn.execute(
        sa.text(
            f"""SELECT t.transfer_id, t.transfer_no, t.status, t.dispatched_at, t.received_at, t.notes,
                       t.branch_id, t.to_branch_id, fb.branch_code AS from_branch, tb.branch_code AS to_branch,
                       (SELECT count(*) FROM inventory.stock_transfer_line l
                         WHERE l.transfer_id = t.transfer_id AND l.part_id IS NOT NULL) AS part_lines,
                       (SELECT count(*) FROM inventory.stock_transfer_line l
                         WHERE l.transfer_id = t.transfer_id AND l.unit_id IS NOT NULL) AS vehicles,
                       count(*) OVER () AS total
                  FROM inventory.stock_transfer t
                  JOIN master.branch fb ON fb.branch_id = t.branch_id
                  JOIN master.branch tb ON tb.branch_id = t.to_branch_id
                 WHERE {where}
                 ORDER BY t.dispatched_at DESC, t.transfer_id DESC
                 LIMIT :limit OFFSET :offset"""),
        {"branch": branch_id, "limit": page_size, "offset": (page - 1) * page_size}).all()
    return rows, (rows[0].total if rows else 0)


def get_transfer(conn: Connection, transfer_id: int, *, lock: bool = False):
    """The transfer with its branches and the paper it travels on: its tax invoice (another GSTIN)
    or, within one GSTIN, itself as the delivery challan."""
    return conn.execute(
        sa.text(
            f"""SELECT t.*, fb.branch_code AS from_branch, coalesce(fb.trade_name, fb.legal_name) AS from_name,
                       tb.branch_code AS to_branch, coalesce(tb.trade_name, tb.legal_name) AS to_name,
                       ds.name AS dispatched_by_name, rs.name AS received_by_name,
                       fb.gstin = tb.gstin AS on_challan,
                       (SELECT i.invoice_id FROM billing.invoice i WHERE i.transfer_id = t.transfer_id) AS invoice_id,
                       (SELECT i.invoice_no FROM billing.invoice i WHERE i.transfer_id = t.transfer_id) AS invoice_no
                  FROM inventory.stock_transfer t
                  JOIN master.branch fb ON fb.branch_id = t.branch_id
                  JOIN master.branch tb ON tb.branch_id = t.to_branch_id
                  LEFT JOIN master.staff ds ON ds.staff_id = t.dispatched_by
                  LEFT JOIN master.staff rs ON rs.staff_id = t.received_by
                 WHERE t.transfer_id = :id {'FOR UPDATE OF t' if lock else ''}"""),
        {"id": transfer_id}).first()


def transfer_lines(conn: Connection, transfer_id: int):
    """The lines with, for parts, the cost they left at (the TRANSFER_OUT move)."""
    return conn.execute(
        sa.text(
            """SELECT l.line_no, l.part_id, p.part_no, p.name AS part_name, p.unit, l.qty,
                      l.unit_id, u.vin, u.motor_no, u.colour, u.status AS unit_status,
                      coalesce(p.hsn_code, v.hsn_code) AS hsn_code, coalesce(-mv.value, u.purchase_cost) AS value,
                      m.name AS model_name, v.name AS variant_name,
                      -mv.value AS out_value, mv.unit_cost AS out_unit_cost, mv.value AS signed_value
                 FROM inventory.stock_transfer_line l
                 JOIN inventory.stock_transfer t ON t.transfer_id = l.transfer_id
                 LEFT JOIN master.part p ON p.part_id = l.part_id
                 LEFT JOIN inventory.vehicle_unit u ON u.unit_id = l.unit_id
                 LEFT JOIN oem.variant v ON v.variant_id = u.variant_id
                 LEFT JOIN oem.model m ON m.model_id = v.model_id
                 LEFT JOIN inventory.stock_move mv ON mv.branch_id = t.branch_id AND mv.part_id = l.part_id
                       AND mv.kind = 'TRANSFER_OUT' AND mv.reference = t.transfer_no
                WHERE l.transfer_id = :id
                ORDER BY l.line_no"""),
        {"id": transfer_id}).all()


def insert_transfer(conn: Connection, from_branch: int, to_branch: int, notes: str | None) -> tuple[int, str]:
    """The transfer's header; returns (transfer_id, TRF number taken by its trigger, sql/0018)."""
    return tuple(conn.execute(
        sa.text(
            """INSERT INTO inventory.stock_transfer (branch_id, to_branch_id, notes)
               VALUES (:from_branch, :to_branch, :notes) RETURNING transfer_id, transfer_no"""),
        {"from_branch": from_branch, "to_branch": to_branch, "notes": notes}).one())


def insert_transfer_line(conn: Connection, transfer_id: int, line_no: int, *, part_id: int | None = None,
                         qty: Decimal | None = None, unit_id: int | None = None) -> None:
    conn.execute(
        sa.text(
            """INSERT INTO inventory.stock_transfer_line (transfer_id, line_no, part_id, qty, unit_id)
               VALUES (:t, :n, :part, :qty, :unit)"""),
        {"t": transfer_id, "n": line_no, "part": part_id, "qty": qty, "unit": unit_id})


# --------------------------------------------------------------------------- stock counts

COUNT_LINE_VIEWS = ("all", "uncounted", "variances")


def list_counts(conn: Connection, branch_id: int, page: int, page_size: int):
    rows = conn.execute(
        sa.text(
            """SELECT c.count_id, c.count_no, c.status, c.started_at, c.approved_at, b.branch_code,
                      ss.name AS started_by_name, aps.name AS approved_by_name,
                      (SELECT count(*) FROM inventory.stock_count_line l WHERE l.count_id = c.count_id) AS lines,
                      (SELECT count(*) FROM inventory.stock_count_line l
                        WHERE l.count_id = c.count_id AND l.counted_qty IS NOT NULL) AS counted,
                      (SELECT count(*) FROM inventory.stock_count_line l
                        WHERE l.count_id = c.count_id AND l.counted_qty <> l.system_qty) AS variances,
                      count(*) OVER () AS total
                 FROM inventory.stock_count c
                 JOIN master.branch b ON b.branch_id = c.branch_id
                 LEFT JOIN master.staff ss ON ss.staff_id = c.started_by
                 LEFT JOIN master.staff aps ON aps.staff_id = c.approved_by
                WHERE c.branch_id = :branch
                ORDER BY c.started_at DESC, c.count_id DESC
                LIMIT :limit OFFSET :offset"""),
        {"branch": branch_id, "limit": page_size, "offset": (page - 1) * page_size}).all()
    return rows, (rows[0].total if rows else 0)


def open_count_id(conn: Connection, branch_id: int) -> int | None:
    return conn.execute(sa.text("SELECT count_id FROM inventory.stock_count WHERE branch_id = :b AND status = 'OPEN'"),
                        {"b": branch_id}).scalar()


def get_count(conn: Connection, count_id: int, *, lock: bool = False):
    return conn.execute(
        sa.text(
            f"""SELECT c.*, b.branch_code, coalesce(b.trade_name, b.legal_name) AS branch_name,
                       ss.name AS started_by_name, aps.name AS approved_by_name,
                       (SELECT count(*) FROM inventory.stock_count_line l WHERE l.count_id = c.count_id) AS lines,
                       (SELECT count(*) FROM inventory.stock_count_line l
                         WHERE l.count_id = c.count_id AND l.counted_qty IS NULL) AS uncounted,
                       (SELECT count(*) FROM inventory.stock_count_line l
                         WHERE l.count_id = c.count_id AND l.counted_qty <> l.system_qty) AS variances
                  FROM inventory.stock_count c
                  JOIN master.branch b ON b.branch_id = c.branch_id
                  LEFT JOIN master.staff ss ON ss.staff_id = c.started_by
                  LEFT JOIN master.staff aps ON aps.staff_id = c.approved_by
                 WHERE c.count_id = :id {'FOR UPDATE OF c' if lock else ''}"""),
        {"id": count_id}).first()


COUNT_LINE_COLUMNS = """
    SELECT l.count_id, l.part_id, p.part_no, p.name, p.unit, p.whole_units, ps.bin_location, l.system_qty,
           l.counted_qty, l.counted_qty - l.system_qty AS variance,
           CASE WHEN ps.qty > 0 THEN round(ps.value / ps.qty, 2) ELSE p.purchase_price END AS unit_cost"""
COUNT_LINE_FROM = """
      FROM inventory.stock_count_line l
      JOIN inventory.stock_count c ON c.count_id = l.count_id
      JOIN master.part p ON p.part_id = l.part_id
      LEFT JOIN inventory.part_stock ps ON ps.branch_id = c.branch_id AND ps.part_id = l.part_id"""


def count_lines(conn: Connection, count_id: int, q: str, view: str, page: int, page_size: int):
    """The count sheet in shelf order (bin, then part number), as people walk the store."""
    where = ["l.count_id = :id"]
    params: dict = {"id": count_id, "limit": page_size, "offset": (page - 1) * page_size}
    if q:
        params["q"] = contains_pattern(q)
        where.append(PART_SEARCH)
    if view == "uncounted":
        where.append("l.counted_qty IS NULL")
    elif view == "variances":
        where.append("l.counted_qty <> l.system_qty")
    rows = conn.execute(
        sa.text(
            f"""{COUNT_LINE_COLUMNS}, count(*) OVER () AS total {COUNT_LINE_FROM}
                 WHERE {' AND '.join(where)}
                 ORDER BY ps.bin_location NULLS LAST, p.part_no
                 LIMIT :limit OFFSET :offset"""),
        params).all()
    return rows, (rows[0].total if rows else 0)


def count_line(conn: Connection, count_id: int, part_id: int):
    return conn.execute(sa.text(f"{COUNT_LINE_COLUMNS} {COUNT_LINE_FROM} WHERE l.count_id = :id AND l.part_id = :part"),
                        {"id": count_id, "part": part_id}).first()


def count_variance_value(conn: Connection, count_id: int) -> Decimal:
    return conn.execute(
        sa.text(f"""SELECT coalesce(sum((l.counted_qty - l.system_qty) *
                                        CASE WHEN ps.qty > 0 THEN ps.value / ps.qty ELSE p.purchase_price END), 0)
                      {COUNT_LINE_FROM} WHERE l.count_id = :id AND l.counted_qty <> l.system_qty"""),
        {"id": count_id}).scalar_one().quantize(Decimal("0.01"))
