"""SQL of the steps of a sale after booking (allotment, discount approval, finance, exchange, subsidy,
registration, PDI, hand-over, cancellation and their settings) and of its accessory lines. Every
function takes the request's connection and never commits."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..db import contains_pattern, name_contains

# --------------------------------------------------------------------------- a step's own row


def upsert_step(conn: Connection, table: str, booking_id: int, values: dict) -> None:
    """Insert the step's row of the booking or replace its fields (the table's key is booking_id)."""
    cols = list(values)
    conn.execute(sa.text(f"""
        INSERT INTO {table} (booking_id, {', '.join(cols)})
        VALUES (:booking_id, {', '.join(':' + c for c in cols)})
        ON CONFLICT (booking_id) DO UPDATE SET {', '.join(f'{c} = EXCLUDED.{c}' for c in cols)}"""),
        {"booking_id": booking_id, **values})


def step_row(conn: Connection, table: str, booking_id: int):
    return conn.execute(sa.text(f"SELECT * FROM {table} WHERE booking_id = :b"), {"b": booking_id}).mappings().first()


# --------------------------------------------------------------------------- the panel on the sale's page


PANEL_SQL = """
    SELECT al.allotted_at, alb.name AS allotted_by_name,
           dby.name AS discount_by_name, dlim.max_discount AS discount_limit,
           ddec.name AS discount_decided_by_name,
           fin.financier_id, fr.name AS financier_name, fin.loan_amount, fin.down_payment, fin.do_number,
           fin.do_received_on, fin.noc_received_on,
           ex.make_model AS exchange_make_model, ex.valuation AS exchange_valuation, ex.purchased_on,
           sc.eligible_amount, sc.voucher_id, sc.buyer_signed_on, sc.dealer_uploaded_on, sc.claim_no,
           sc.claim_raised_on, sc.credited_amount, sc.credited_on,
           rg.booking_id IS NOT NULL AS has_registration, rg.form20_on, rg.form21_on, rg.form22_on, rg.temp_reg_no, rg.fees_paid_on,
           rg.reg_no, rg.reg_on, rg.rc_received_on, rg.hsrp_ordered_on, rg.hsrp_fitted_on,
           pdi.items AS pdi_items, pdi.ok AS pdi_ok, pdi.faults AS pdi_faults, pdi.last_at AS pdi_at,
           pdi.checked_by AS pdi_by,
           dl.delivery_id, dl.delivery_no, dl.delivered_on, dl.received_by_name,
           rf.refund_id, rf.refund_no, rf.amount AS refund_amount, rf.cancellation_charge
      FROM sales.booking b
      LEFT JOIN sales.allotment al ON al.booking_id = b.booking_id AND al.released_at IS NULL
      LEFT JOIN master.staff alb ON alb.staff_id = al.allotted_by
      LEFT JOIN master.staff dby ON dby.staff_id = b.discount_by
      LEFT JOIN sales.discount_limit dlim ON dlim.role_code = dby.designation
      LEFT JOIN master.staff ddec ON ddec.staff_id = b.discount_decided_by
      LEFT JOIN sales.finance fin ON fin.booking_id = b.booking_id
      LEFT JOIN master.financier fr ON fr.financier_id = fin.financier_id
      LEFT JOIN sales.exchange ex ON ex.booking_id = b.booking_id
      LEFT JOIN sales.subsidy_claim sc ON sc.booking_id = b.booking_id
      LEFT JOIN sales.registration rg ON rg.booking_id = b.booking_id
      LEFT JOIN LATERAL (
          SELECT count(*) AS items, count(c.pdi_item_id) FILTER (WHERE c.is_ok) AS ok,
                 count(c.pdi_item_id) FILTER (WHERE NOT c.is_ok) AS faults, max(c.checked_at) AS last_at,
                 (SELECT string_agg(DISTINCT s.name, ', ') FROM sales.pdi_check c2
                    JOIN master.staff s ON s.staff_id = c2.checked_by WHERE c2.booking_id = b.booking_id) AS checked_by
            FROM sales.pdi_item i
            LEFT JOIN sales.pdi_check c ON c.pdi_item_id = i.pdi_item_id AND c.booking_id = b.booking_id
           WHERE i.is_active) pdi ON true
      LEFT JOIN LATERAL (
          SELECT * FROM sales.delivery d WHERE d.booking_id = b.booking_id
           ORDER BY d.delivered_at DESC LIMIT 1) dl ON true
      LEFT JOIN LATERAL (
          SELECT * FROM billing.refund r WHERE r.booking_id = b.booking_id
           ORDER BY r.refund_id DESC LIMIT 1) rf ON true
     WHERE b.booking_id = :b"""


def steps_panel(conn: Connection, booking_id: int):
    """Every step's state for the panel on the sale's page, in one row."""
    return conn.execute(sa.text(PANEL_SQL), {"b": booking_id}).mappings().one()


# --------------------------------------------------------------------------- allotment and discounts


def unit_vin(conn: Connection, unit_id: int) -> str | None:
    return conn.execute(sa.text("SELECT vin FROM inventory.vehicle_unit WHERE unit_id = :u"),
                        {"u": unit_id}).scalar()


def pending_discounts(conn: Connection, branch_id: int):
    """The branch's open bookings whose discount waits for a manager's decision, oldest first."""
    return conn.execute(sa.text("""
        SELECT b.booking_id, b.booking_no, b.booked_on, b.ex_showroom, b.discount, c.name AS customer_name,
               m.name AS model_name, v.name AS variant_name, b.colour, g.name AS given_by, l.max_discount AS role_limit,
               sp.name AS salesperson_name
          FROM sales.booking b
          JOIN master.customer c USING (customer_id)
          JOIN oem.variant v ON v.variant_id = b.variant_id
          JOIN oem.model m ON m.model_id = v.model_id
          JOIN master.staff sp ON sp.staff_id = b.salesperson_id
          LEFT JOIN master.staff g ON g.staff_id = b.discount_by
          LEFT JOIN sales.discount_limit l ON l.role_code = g.designation
         WHERE b.branch_id = :branch AND b.discount_status = 'PENDING' AND b.stage <> 'CANCELLED'
         ORDER BY b.booked_on, b.booking_id"""), {"branch": branch_id}).mappings().all()


# --------------------------------------------------------------------------- finance and subsidy


def financiers(conn: Connection, current: int | None):
    """Active financiers, and the one the sale already names even if no longer active."""
    return conn.execute(sa.text("""
        SELECT financier_id, name FROM master.financier WHERE is_active OR financier_id = :c ORDER BY name"""),
        {"c": current}).all()


SUBSIDY_PENDING_SQL = {
    "pending": "sc.credited_on IS NULL",
    "voucher": "sc.voucher_id IS NULL",
    "signature": "sc.voucher_id IS NOT NULL AND sc.buyer_signed_on IS NULL",
    "upload": "sc.buyer_signed_on IS NOT NULL AND sc.dealer_uploaded_on IS NULL",
    "claim": "sc.dealer_uploaded_on IS NOT NULL AND sc.claim_raised_on IS NULL",
    "credit": "sc.claim_raised_on IS NOT NULL AND sc.credited_on IS NULL",
    "credited": "sc.credited_on IS NOT NULL",
}


def subsidy_claim_filter(branch_id: int, step: str, q: str) -> tuple[str, dict]:
    """The FROM and WHERE of the subsidy register (claims at `step`, matching `q`), with its parameters.
    A claim carries its booking's branch, number, cancelled flag and listing date (sql/0022), so the
    register reads the claims alone; a search by the customer's name finds the customers first, then
    their bookings by the bookings' index on the customer (never every booking of the branch)."""
    where = ["sc.branch_id = :branch", "NOT sc.booking_cancelled"]
    params: dict = {"branch": branch_id}
    if step:
        where.append(SUBSIDY_PENDING_SQL[step])
    if q:
        # What ILIKE '%q%' finds, each the cheap way: a booking number holds only capitals, digits,
        # '/' and '-' (its CHECK), so LIKE on what was typed in capitals; the rest by name_contains.
        params["q"] = contains_pattern(q)
        params["number"] = contains_pattern(q.upper()) if q.isascii() else params["q"]
        voucher, _ = name_contains("sc.voucher_id", q)
        claim_no, _ = name_contains("sc.claim_no", q)
        name, name_params = name_contains("c.name", q)
        params.update(name_params)
        where.append(f"""(sc.booking_no {'LIKE' if q.isascii() else 'ILIKE'} :number OR {voucher} OR {claim_no}
                          OR sc.booking_id IN (
                             SELECT b.booking_id FROM sales.booking b
                              WHERE b.customer_id = ANY (ARRAY(SELECT c.customer_id FROM master.customer c
                                                                WHERE {name}))))""")
    return f"FROM sales.subsidy_claim sc WHERE {' AND '.join(where)}", params


def subsidy_claim_totals(conn: Connection, claims: tuple[str, dict]):
    base, params = claims
    return conn.execute(sa.text(f"""
        SELECT count(*) AS claims, coalesce(sum(sc.eligible_amount), 0) AS eligible,
               coalesce(sum(sc.credited_amount), 0) AS credited {base}"""), params).mappings().one()


def subsidy_claim_page(conn: Connection, claims: tuple[str, dict], number: int, size: int):
    """One page of claims, each row carrying the register's totals (claims, eligible, credited), in
    one statement; only the page's claims are joined to their booking, customer and invoice. The
    claims are read once for the totals and once for the page (from subsidy_claim_register_idx, in
    its order, as far as the page); a search, dearer to evaluate, is run once and both are taken
    from what it found. An empty page has no totals: subsidy_claim_totals."""
    base, params = claims
    if "q" in params:
        found = f"""found AS MATERIALIZED (
            SELECT sc.booking_id, sc.listed_on, sc.eligible_amount, sc.credited_amount {base}),
        totals AS (
            SELECT count(*) AS claims, coalesce(sum(f.eligible_amount), 0) AS eligible,
                   coalesce(sum(f.credited_amount), 0) AS credited FROM found f),
        page AS (
            SELECT f.booking_id, f.listed_on FROM found f
             ORDER BY f.listed_on, f.booking_id LIMIT :limit OFFSET :offset)"""
    else:
        found = f"""totals AS (
            SELECT count(*) AS claims, coalesce(sum(sc.eligible_amount), 0) AS eligible,
                   coalesce(sum(sc.credited_amount), 0) AS credited {base}),
        page AS MATERIALIZED (
            SELECT sc.booking_id, sc.listed_on {base}
             ORDER BY sc.listed_on, sc.booking_id LIMIT :limit OFFSET :offset)"""
    return conn.execute(sa.text(f"""
        WITH {found}
        SELECT sc.*, b.stage, c.name AS customer_name, m.name AS model_name,
               v.name AS variant_name, i.invoice_no, i.invoice_date, t.claims, t.eligible, t.credited
          FROM page p
          CROSS JOIN totals t
          JOIN sales.subsidy_claim sc ON sc.booking_id = p.booking_id
          JOIN sales.booking b ON b.booking_id = sc.booking_id
          JOIN master.customer c ON c.customer_id = b.customer_id
          JOIN oem.variant v ON v.variant_id = b.variant_id
          JOIN oem.model m ON m.model_id = v.model_id
          LEFT JOIN billing.invoice i ON i.invoice_id = b.invoice_id
         ORDER BY p.listed_on, p.booking_id"""),
        {**params, "limit": size, "offset": (number - 1) * size}).mappings().all()


# --------------------------------------------------------------------------- PDI and hand-over


def pdi_rows(conn: Connection, booking_id: int):
    return conn.execute(sa.text("""
        SELECT i.pdi_item_id, i.name, c.is_ok, c.remark, c.checked_at, s.name AS checked_by_name
          FROM sales.pdi_item i
          LEFT JOIN sales.pdi_check c ON c.pdi_item_id = i.pdi_item_id AND c.booking_id = :b
          LEFT JOIN master.staff s ON s.staff_id = c.checked_by
         WHERE i.is_active ORDER BY i.sort_order, i.pdi_item_id"""), {"b": booking_id}).mappings().all()


def save_pdi_check(conn: Connection, booking_id: int, item_id: int, is_ok: bool, remark: str | None,
                   checked_by: int, at: datetime | None = None) -> None:
    """One item of the checklist, stamped now (the sale page) or at `at` (a showroom's month written afterwards,
    as seed-demo's)."""
    conn.execute(sa.text("""
        INSERT INTO sales.pdi_check (booking_id, pdi_item_id, is_ok, remark, checked_by, checked_at)
        VALUES (:b, :i, :ok, :remark, :by, coalesce(CAST(:at AS timestamptz), now()))
        ON CONFLICT (booking_id, pdi_item_id) DO UPDATE
           SET is_ok = EXCLUDED.is_ok, remark = EXCLUDED.remark, checked_by = EXCLUDED.checked_by,
               checked_at = EXCLUDED.checked_at"""),
        {"b": booking_id, "i": item_id, "ok": is_ok, "remark": remark, "by": checked_by, "at": at})


def accessory_names(conn: Connection, booking_id: int) -> list[str]:
    """What goes with the vehicle: the on-road accessory items, then the accessory lines (with quantity)."""
    return conn.execute(sa.text("""
        SELECT description FROM (
            SELECT 1 AS part, i.line_no, i.description FROM sales.booking_item i JOIN sales.onroad_item o USING (item_code)
             WHERE i.booking_id = :b AND o.kind = 'ACCESSORY'
            UNION ALL
            SELECT 2, a.line_no, a.description || CASE WHEN a.qty <> 1 THEN ' x ' || trim_scale(a.qty) ELSE '' END
              FROM sales.booking_accessory a WHERE a.booking_id = :b) x
         ORDER BY part, line_no"""), {"b": booking_id}).scalars().all()


def last_delivery_id(conn: Connection, booking_id: int) -> int | None:
    return conn.execute(sa.text("""
        SELECT delivery_id FROM sales.delivery WHERE booking_id = :b ORDER BY delivered_at DESC LIMIT 1"""),
        {"b": booking_id}).scalar()


def insert_handover_release(conn: Connection, booking_id: int, reason: str) -> None:
    """The release of the sale's invoice (its trigger fills in the invoice and what is missing)."""
    conn.execute(sa.text("""
        INSERT INTO sales.handover_release (booking_id, invoice_id, reason, missing)
        VALUES (:b, 0, :r, '')"""), {"b": booking_id, "r": reason})


def delivery_booking_id(conn: Connection, delivery_id: int) -> int | None:
    return conn.execute(sa.text("SELECT booking_id FROM sales.delivery WHERE delivery_id = :d"),
                        {"d": delivery_id}).scalar()


def delivery_note(conn: Connection, delivery_id: int):
    """Everything the delivery note and gate pass prints."""
    return conn.execute(sa.text("""
        SELECT d.delivery_id, d.delivery_no, d.delivered_on, d.delivered_at, d.received_by_name,
               d.accessories_fitted, d.odometer_km, hb.name AS handed_over_by_name,
               b.booking_no, b.colour, c.name AS customer_name, c.mobile AS customer_mobile,
               concat_ws(', ', c.address_line1, c.address_line2, c.city, c.pincode) AS customer_address,
               sp.name AS salesperson_name,
               br.legal_name, br.trade_name, br.address_line1, br.address_line2, br.city, br.pincode, br.gstin,
               br.phone, br.email, br.state_code, st.name AS state_name,
               o.brand AS oem_name, m.name AS model_name, v.name AS variant_name, v.battery_kwh,
               u.vin, u.motor_no, u.charger_serial, u.key_no,
               (SELECT string_agg(p.serial, ', ' ORDER BY p.serial) FROM inventory.battery_fitment f
                  JOIN inventory.battery_pack p USING (pack_id)
                 WHERE f.unit_id = u.unit_id AND f.removed_on IS NULL) AS battery_serials,
               i.invoice_no, i.invoice_date,
               (SELECT string_agg(DISTINCT s.name, ', ') FROM sales.pdi_check pc
                  JOIN master.staff s ON s.staff_id = pc.checked_by WHERE pc.booking_id = b.booking_id) AS pdi_by,
               (SELECT max(pc.checked_at) FROM sales.pdi_check pc WHERE pc.booking_id = b.booking_id) AS pdi_at,
               rg.temp_reg_no, rg.reg_no
          FROM sales.delivery d
          JOIN sales.booking b ON b.booking_id = d.booking_id
          JOIN master.customer c ON c.customer_id = b.customer_id
          JOIN master.staff sp ON sp.staff_id = b.salesperson_id
          JOIN master.branch br ON br.branch_id = b.branch_id
          JOIN master.state st ON st.state_code = br.state_code
          JOIN oem.variant v ON v.variant_id = b.variant_id
          JOIN oem.model m ON m.model_id = v.model_id
          JOIN oem.oem o ON o.oem_id = m.oem_id
          JOIN inventory.vehicle_unit u ON u.unit_id = d.unit_id
          JOIN billing.invoice i ON i.invoice_id = d.invoice_id
          LEFT JOIN master.staff hb ON hb.staff_id = d.handed_over_by
          LEFT JOIN sales.registration rg ON rg.booking_id = b.booking_id
         WHERE d.delivery_id = :d"""), {"d": delivery_id}).mappings().one()


# --------------------------------------------------------------------------- cancellation


def refund_summary(conn: Connection, refund_id: int):
    return conn.execute(sa.text("SELECT refund_no, amount FROM billing.refund WHERE refund_id = :r"),
                        {"r": refund_id}).mappings().first()


# --------------------------------------------------------------------------- settings


def discount_limits(conn: Connection):
    """Every role with its discount limit (None: none set)."""
    return conn.execute(sa.text("""
        SELECT r.role_code, r.name, l.max_discount FROM master.role r
          LEFT JOIN sales.discount_limit l USING (role_code) ORDER BY r.role_code""")).mappings().all()


def pdi_items(conn: Connection):
    return conn.execute(sa.text(
        "SELECT * FROM sales.pdi_item ORDER BY sort_order, pdi_item_id")).mappings().all()


def onroad_items(conn: Connection):
    return conn.execute(sa.text(
        "SELECT * FROM sales.onroad_item ORDER BY sort_order, item_code")).mappings().all()


def role_codes(conn: Connection) -> list[str]:
    return conn.execute(sa.text("SELECT role_code FROM master.role")).scalars().all()


def set_discount_limit(conn: Connection, role: str, limit: Decimal | None) -> None:
    conn.execute(sa.text("""
        INSERT INTO sales.discount_limit (role_code, max_discount) VALUES (:r, :m)
        ON CONFLICT (role_code) DO UPDATE SET max_discount = EXCLUDED.max_discount"""),
        {"r": role, "m": limit})


def pdi_item_ids(conn: Connection) -> list[int]:
    return conn.execute(sa.text("SELECT pdi_item_id FROM sales.pdi_item")).scalars().all()


def update_pdi_item(conn: Connection, item_id: int, name: str, sort_order: int, active: bool) -> None:
    conn.execute(sa.text("""
        UPDATE sales.pdi_item SET name = :n, sort_order = :o, is_active = :a WHERE pdi_item_id = :i"""),
        {"i": item_id, "n": name, "o": sort_order, "a": active})


def insert_pdi_item(conn: Connection, name: str, sort_order: int) -> None:
    conn.execute(sa.text("INSERT INTO sales.pdi_item (name, sort_order) VALUES (:n, :o)"),
                 {"n": name, "o": sort_order})


def onroad_item_codes(conn: Connection) -> list[str]:
    return conn.execute(sa.text("SELECT item_code FROM sales.onroad_item")).scalars().all()


def update_onroad_item(conn: Connection, code: str, default_amount: Decimal, active: bool) -> None:
    conn.execute(sa.text("""
        UPDATE sales.onroad_item SET default_amount = :d, is_active = :a WHERE item_code = :c"""),
        {"c": code, "d": default_amount, "a": active})


# --------------------------------------------------------------------------- accessories


def accessory_rows(conn: Connection, booking_id: int, on: date):
    """The sale's accessory lines with the GST rate of their HSN on the day."""
    return conn.execute(sa.text("""
        SELECT a.line_no, a.description, a.hsn_code, a.qty, a.unit, a.unit_price, a.price_includes_gst, p.part_no,
               master.gst_rate_on(a.hsn_code, :on) AS gst_rate
          FROM sales.booking_accessory a LEFT JOIN master.part p USING (part_id)
         WHERE a.booking_id = :b ORDER BY a.line_no"""), {"b": booking_id, "on": on}).mappings().all()


def part_by_no(conn: Connection, part_no: str):
    """The part of the parts list with this number, in any case."""
    return conn.execute(sa.text("""
        SELECT part_id, part_no, name, hsn_code, unit, mrp FROM master.part WHERE upper(part_no) = :p"""),
        {"p": part_no.upper()}).mappings().first()


def add_accessory(conn: Connection, booking_id: int, values: dict) -> None:
    """A line after the sale's last (part_id, description, hsn_code, qty, unit, unit_price,
    price_includes_gst)."""
    conn.execute(sa.text("""
        INSERT INTO sales.booking_accessory (booking_id, line_no, part_id, description, hsn_code, qty,
                                             unit, unit_price, price_includes_gst)
        SELECT :b, coalesce(max(line_no), 0) + 1, :part_id, :description, :hsn_code, :qty, :unit,
               :unit_price, :price_includes_gst
          FROM sales.booking_accessory WHERE booking_id = :b"""), {"b": booking_id, **values})


def remove_accessory(conn: Connection, booking_id: int, line_no: int) -> None:
    conn.execute(sa.text(
        "DELETE FROM sales.booking_accessory WHERE booking_id = :b AND line_no = :n"),
        {"b": booking_id, "n": line_no})
