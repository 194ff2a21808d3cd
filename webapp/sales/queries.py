"""Reading enquiries, quotations and bookings for the sales screens (who may open which: access.py)."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..capabilities import roles_for
from ..db import contains_pattern, name_contains
from ..formatting import inr
from ..paging import capped_count, count_cap
from ..validators import normalise_mobile

BOOKING_SQL = """
    SELECT b.*, c.name AS customer_name, c.mobile AS customer_mobile, c.gstin AS customer_gstin,
           c.state_code AS customer_state, sp.name AS salesperson_name,
           v.name AS variant_name, v.battery_kwh, v.hsn_code, m.model_id, m.name AS model_name,
           m.is_low_speed, o.brand AS oem_name,
           a.unit_id, u.vin, u.motor_no, u.status AS unit_status,
           i.invoice_no, i.invoice_date, i.amount_payable,
           bb.due, bb.received, bb.due - bb.received AS balance, bb.customer_balance, bb.loan_pending,
           bb.exchange_pending, bb.subsidy_pending, bb.others_pending
      FROM sales.booking b
      JOIN master.customer c USING (customer_id)
      JOIN master.staff sp ON sp.staff_id = b.salesperson_id
      JOIN oem.variant v ON v.variant_id = b.variant_id
      JOIN oem.model m ON m.model_id = v.model_id
      JOIN oem.oem o ON o.oem_id = m.oem_id
      LEFT JOIN sales.allotment a ON a.booking_id = b.booking_id AND a.released_at IS NULL
      LEFT JOIN inventory.vehicle_unit u ON u.unit_id = a.unit_id
      LEFT JOIN billing.invoice i ON i.invoice_id = b.invoice_id
      JOIN billing.booking_balance bb ON bb.booking_id = b.booking_id
     WHERE b.booking_id = :b"""


def get_booking(conn: Connection, booking_id: int, *, lock: bool = False):
    """The booking with its customer, vehicle, unit, invoice and balance (the columns of
    posting.booking_balance); None if missing."""
    sql = BOOKING_SQL + (" FOR UPDATE OF b" if lock else "")
    return conn.execute(sa.text(sql), {"b": booking_id}).mappings().first()


# --------------------------------------------------------------------------- the sales screens
# (quotations, the booking pipeline and list; leads are crm's). Each function takes the request's
# connection first and never commits.


PIPELINE_STAGES = ("BOOKED", "ALLOTTED", "INVOICED", "DELIVERED")
BOOKING_STAGES = ("BOOKED", "ALLOTTED", "INVOICED", "DELIVERED", "CANCELLED")
DELIVERED_DAYS = 30


def _search_terms(q: str, alias: str = "") -> tuple[str, dict]:
    """A WHERE fragment matching a person's name or mobile (of the table aliased) to what was typed."""
    if not q:
        return "true", {}
    name, params = name_contains(f"{alias}name", q)
    params["q"] = contains_pattern(q)
    where = f"({name} OR {alias}mobile LIKE :q"
    digits = normalise_mobile(q)
    if digits and digits.isdigit() and digits != q:   # '+91 98450 12345' finds 9845012345
        params["digits"] = contains_pattern(digits)
        where += f" OR {alias}mobile LIKE :digits"
    return where + ")", params


# One query for the whole board: the newest cards of each stage (a window numbers them), the
# count of each stage, and only for the cards shown: the balance and the finance DO. Delivered
# means handed over in the last 30 days (read from the delivery notes, a small table).
PIPELINE_SQL = """
    WITH open AS (
        SELECT b.booking_id, b.stage, b.booked_on
          FROM sales.booking b
         WHERE b.branch_id = :branch AND b.stage IN ('BOOKED', 'ALLOTTED', 'INVOICED')
           AND (CAST(:own AS integer) IS NULL OR b.salesperson_id = :own)
        UNION ALL
        SELECT b.booking_id, b.stage, b.booked_on
          FROM sales.delivery d JOIN sales.booking b ON b.booking_id = d.booking_id
         WHERE d.delivered_on >= :since AND b.branch_id = :branch AND b.stage = 'DELIVERED'
           AND (CAST(:own AS integer) IS NULL OR b.salesperson_id = :own)
    ), ranked AS MATERIALIZED (
        SELECT * FROM (
            SELECT booking_id, stage,
                   row_number() OVER (PARTITION BY stage ORDER BY booked_on, booking_id) AS n,
                   count(*) OVER (PARTITION BY stage) AS in_stage
              FROM open) w
         WHERE n <= :per_stage
    )
    SELECT r.stage, r.in_stage, b.booking_id, b.booking_no, b.booked_on, :today - b.booked_on AS age_days,
           b.colour, b.discount_status, b.finance_needed, c.name AS customer_name, sp.name AS salesperson_name,
           m.name AS model_name, v.name AS variant_name,
           bb.due - bb.received AS balance,
           b.stage = 'BOOKED' AS no_unit,
           b.finance_needed AND fin.do_received_on IS NULL AS do_awaited
      FROM ranked r
      JOIN sales.booking b ON b.booking_id = r.booking_id
      JOIN master.customer c ON c.customer_id = b.customer_id
      JOIN master.staff sp ON sp.staff_id = b.salesperson_id
      JOIN oem.variant v ON v.variant_id = b.variant_id
      JOIN oem.model m ON m.model_id = v.model_id
      LEFT JOIN sales.finance fin ON fin.booking_id = b.booking_id
      -- OFFSET 0 keeps the view from being flattened: the balance is worked out per card only.
      CROSS JOIN LATERAL (SELECT due, received FROM billing.booking_balance x
                           WHERE x.booking_id = b.booking_id OFFSET 0) bb
     ORDER BY r.stage, r.n"""


def pipeline(conn: Connection, branch_id: int, own: int | None, today: date, per_stage: int = 12) -> dict:
    """{stage: {"count": n, "cards": [...]}} for the board; the oldest bookings first in each
    column (they are the ones waiting longest)."""
    board = {stage: {"count": 0, "cards": []} for stage in PIPELINE_STAGES}
    rows = conn.execute(sa.text(PIPELINE_SQL), {
        "branch": branch_id, "own": own, "today": today, "since": today - timedelta(days=DELIVERED_DAYS),
        "per_stage": per_stage}).mappings().all()
    for row in rows:
        column = board[row["stage"]]
        column["count"] = row["in_stage"]
        column["cards"].append(row)
    return board


def search_bookings(conn: Connection, branch_id: int, *, own: int | None, stage: str | None,
                    salesperson_id: int | None, date_from: date | None, date_to: date | None, q: str,
                    today: date, page: int, page_size: int):
    """Bookings of the branch for the list, newest first; the balance only for the page's rows.
    Returns (rows, rows found: counted up to paging.count_cap)."""
    where = ["b.branch_id = :branch"]
    params: dict = {"branch": branch_id, "today": today, "limit": page_size, "offset": (page - 1) * page_size}
    if own is not None:
        where.append("b.salesperson_id = :own")
        params["own"] = own
    if stage:
        where.append("b.stage = :stage")
        params["stage"] = stage
    if salesperson_id:
        where.append("b.salesperson_id = :sp")
        params["sp"] = salesperson_id
    if date_from:
        where.append("b.booked_on >= :from")
        params["from"] = date_from
    if date_to:
        where.append("b.booked_on <= :to")
        params["to"] = date_to
    if q:
        # The customers are searched once, on their own (not joined to every booking first). A
        # booking number holds only capitals, digits, '/' and '-' (its CHECK): LIKE on what was
        # typed, in capitals, finds what ILIKE did without lower-casing 30,000 numbers.
        params["q"] = contains_pattern(q)
        params["number"] = contains_pattern(q.upper()) if q.isascii() else params["q"]
        name, name_params = name_contains("c2.name", q)
        params.update(name_params)
        people = f"{name} OR c2.mobile LIKE :q"
        digits = normalise_mobile(q)
        if digits and digits.isdigit() and digits != q:
            params["digits"] = contains_pattern(digits)
            people += " OR c2.mobile LIKE :digits"
        where.append(f"""(b.booking_no {'LIKE' if q.isascii() else 'ILIKE'} :number OR b.customer_id IN (
                             SELECT c2.customer_id FROM master.customer c2 WHERE {people}))""")
    body = f"FROM sales.booking b WHERE {' AND '.join(where)}"
    params["cap"] = count_cap(page, page_size)
    # A search reads every booking anyway: its count comes with the page. Otherwise the rows come
    # from an index in order and at most `cap` of them are counted (paging.py), never all.
    found = "count(*) OVER ()" if q else "NULL::bigint"
    rows = conn.execute(sa.text(f"""
        WITH page AS MATERIALIZED (
            SELECT b.booking_id, {found} AS rows_found {body}
             ORDER BY b.booked_on DESC, b.booking_id DESC LIMIT :limit OFFSET :offset)
        SELECT coalesce(p.rows_found, {capped_count(body)}) AS rows_found,
               b.booking_id, b.booking_no, b.booked_on, b.stage, b.colour, b.discount_status,
               :today - b.booked_on AS age_days, c.name AS customer_name, c.mobile AS customer_mobile,
               sp.name AS salesperson_name, m.name AS model_name, v.name AS variant_name,
               bb.due, bb.due - bb.received AS balance
          FROM page p
          JOIN sales.booking b ON b.booking_id = p.booking_id
          JOIN master.customer c ON c.customer_id = b.customer_id
          JOIN master.staff sp ON sp.staff_id = b.salesperson_id
          JOIN oem.variant v ON v.variant_id = b.variant_id
          JOIN oem.model m ON m.model_id = v.model_id
          CROSS JOIN LATERAL (SELECT due, received FROM billing.booking_balance x
                               WHERE x.booking_id = b.booking_id OFFSET 0) bb
         ORDER BY b.booked_on DESC, b.booking_id DESC"""), params).mappings().all()
    if rows:
        return rows, rows[0]["rows_found"]
    total = conn.execute(sa.text(f"SELECT {capped_count(body)}"), params).scalar_one()
    return rows, total


def salespeople(conn: Connection, branch_id: int) -> list[tuple[int, str]]:
    """Active staff of the branch who may sell (the salesperson of an enquiry or a booking)."""
    rows = conn.execute(sa.text("""
        SELECT staff_id, name FROM master.staff
         WHERE branch_id = :b AND is_active AND designation = ANY(:roles)
         ORDER BY name"""), {"b": branch_id, "roles": sorted(roles_for("sale.change"))})
    return [(r.staff_id, r.name) for r in rows]


def model_choices(conn: Connection) -> list[tuple[int, str]]:
    rows = conn.execute(sa.text("""
        SELECT m.model_id, o.brand, m.name FROM oem.model m JOIN oem.oem o USING (oem_id)
         WHERE m.is_active AND o.is_active ORDER BY o.brand, m.name"""))
    return [(r.model_id, f"{r.brand} {r.name}") for r in rows]


def vehicle_choices(conn: Connection, on: date, model_id: int | None = None):
    """Active variants and colours that have a price on the day (the ones that can be quoted)."""
    return conn.execute(sa.text("""
        SELECT v.variant_id, vc.colour, o.brand, m.model_id, m.name AS model_name, v.name AS variant_name,
               p.ex_showroom
          FROM oem.variant v
          JOIN oem.model m ON m.model_id = v.model_id
          JOIN oem.oem o ON o.oem_id = m.oem_id
          JOIN oem.variant_colour vc ON vc.variant_id = v.variant_id
          CROSS JOIN LATERAL oem.price_on(v.variant_id, vc.colour, :on) p
         WHERE v.is_active AND m.is_active AND vc.is_active
         ORDER BY m.model_id = :model DESC NULLS LAST, o.brand, m.name, v.name, vc.colour"""),
        {"on": on, "model": model_id}).mappings().all()


def gst_rate_on(conn: Connection, hsn_code: str, on: date) -> Decimal | None:
    """The GST rate of the HSN code in the tax master on the day (None: no rate then)."""
    return conn.execute(sa.text("SELECT master.gst_rate_on(:h, :d)"), {"h": hsn_code, "d": on}).scalar()


def states(conn: Connection) -> list[tuple[str, str]]:
    rows = conn.execute(sa.text("SELECT state_code, name FROM master.state ORDER BY name"))
    return [(r.state_code, r.name) for r in rows]


def find_customers(conn: Connection, q: str, limit: int = 8):
    """Customers whose mobile or name matches what was typed: the exact mobile first."""
    if len(q) < 2:
        return []
    where, params = _search_terms(q)
    digits = normalise_mobile(q)
    return conn.execute(sa.text(f"""
        SELECT customer_id, name, mobile, city, state_code, gstin FROM master.customer
         WHERE {where}
         ORDER BY mobile = :exact DESC, lower(name), customer_id LIMIT :limit"""),
        {**params, "exact": digits or "", "limit": limit}).mappings().all()


def get_customer(conn: Connection, customer_id: int):
    return conn.execute(sa.text("""
        SELECT customer_id, name, mobile, city, state_code, gstin FROM master.customer WHERE customer_id = :c"""),
        {"c": customer_id}).mappings().first()


def booking_items(conn: Connection, booking_id: int):
    return conn.execute(sa.text("""
        SELECT bi.line_no, bi.item_code, bi.description, bi.amount, bi.hsn_code
          FROM sales.booking_item bi WHERE bi.booking_id = :b ORDER BY bi.line_no"""),
        {"b": booking_id}).mappings().all()


def booking_progress(conn: Connection, booking_id: int):
    """What the sale page's checklist needs beyond the booking row."""
    return conn.execute(sa.text("""
        SELECT fin.booking_id IS NOT NULL AS has_finance, fin.do_received_on, fin.do_number,
               (SELECT count(*) FROM insurance.policy p WHERE p.booking_id = b.booking_id) AS policies,
               rg.reg_no, rg.temp_reg_no,
               (SELECT count(*) FROM sales.pdi_item i WHERE i.is_active) AS pdi_items,
               (SELECT count(*) FROM sales.pdi_item i JOIN sales.pdi_check c ON c.pdi_item_id = i.pdi_item_id
                 WHERE i.is_active AND c.booking_id = b.booking_id AND c.is_ok) AS pdi_ok,
               (SELECT max(d.delivered_on) FROM sales.delivery d WHERE d.booking_id = b.booking_id) AS delivered_on,
               q.quotation_no, b.lead_id
          FROM sales.booking b
          LEFT JOIN sales.finance fin ON fin.booking_id = b.booking_id
          LEFT JOIN sales.registration rg ON rg.booking_id = b.booking_id
          LEFT JOIN sales.quotation q ON q.quotation_id = b.quotation_id
         WHERE b.booking_id = :b"""), {"b": booking_id}).mappings().one()


# --------------------------------------------------------------------------- quotations


def get_quotation(conn: Connection, quotation_id: int):
    """The quotation with its lead (who it was for, crm.lead), vehicle and the branch's letterhead."""
    return conn.execute(sa.text("""
        SELECT q.*, e.name AS customer_name, e.mobile AS customer_mobile, e.email AS customer_email,
               e.salesperson_id, e.branch_id AS lead_branch_id, e.status AS lead_status,
               sp.name AS salesperson_name, cb.name AS created_by_name,
               o.brand AS oem_name, m.name AS model_name, v.name AS variant_name, v.battery_kwh, v.hsn_code,
               br.legal_name AS branch_legal_name, br.trade_name AS branch_trade_name, br.gstin AS branch_gstin,
               br.address_line1, br.address_line2, br.city, br.pincode, br.phone AS branch_phone,
               br.email AS branch_email, br.state_code AS branch_state_code, st.name AS branch_state_name
          FROM sales.quotation q
          JOIN crm.lead e ON e.lead_id = q.lead_id
          JOIN master.staff sp ON sp.staff_id = e.salesperson_id
          LEFT JOIN master.staff cb ON cb.staff_id = q.created_by
          JOIN oem.variant v ON v.variant_id = q.variant_id
          JOIN oem.model m ON m.model_id = v.model_id
          JOIN oem.oem o ON o.oem_id = m.oem_id
          JOIN master.branch br ON br.branch_id = q.branch_id
          JOIN master.state st ON st.state_code = br.state_code
         WHERE q.quotation_id = :q"""), {"q": quotation_id}).mappings().first()


def quotation_items(conn: Connection, quotation_id: int):
    return conn.execute(sa.text("""
        SELECT line_no, item_code, description, amount, hsn_code, gst_rate
          FROM sales.quotation_item WHERE quotation_id = :q ORDER BY line_no"""), {"q": quotation_id}).mappings().all()


def update_booking_terms(conn: Connection, booking_id: int, data: dict) -> None:
    """What may change on a booking before its invoice; the database re-judges a new discount."""
    conn.execute(sa.text("""
        UPDATE sales.booking
           SET expected_delivery = :expected_delivery, finance_needed = :finance_needed, discount = :discount,
               delivery_state_code = :delivery_state_code, delivery_address = :delivery_address
         WHERE booking_id = :b"""), {"b": booking_id, **data})


# --------------------------------------------------------------------------- the hand-over gate

def handover_gate(conn: Connection, booking_id: int, *, outstanding: bool = True) -> dict:
    """What still stands between an invoiced sale and its hand-over (sales.handover_missing, the
    rule the delivery trigger applies), and the manager's release of this invoice, if any. A sale
    already delivered needs only the release (outstanding=False): nothing stands in its way."""
    missing = conn.execute(sa.text("SELECT reason, amount FROM sales.handover_missing(:b)"),
                           {"b": booking_id}).mappings().all() if outstanding else []
    release = conn.execute(sa.text("""
        SELECT r.reason, r.missing, r.released_at, s.name AS released_by_name, s.staff_code AS released_by_code
          FROM sales.handover_release r
          JOIN sales.booking b ON b.booking_id = r.booking_id AND b.invoice_id = r.invoice_id
          JOIN master.staff s ON s.staff_id = r.released_by
         WHERE r.booking_id = :b"""), {"b": booking_id}).mappings().first()
    return {"missing": [gate_message(m["reason"], m["amount"]) for m in missing], "release": release,
            "release_missing": [gate_message(*part.split(" ", 1)) if " " in part else gate_message(part, None)
                                for part in (release["missing"].split("; ") if release and release["missing"] else [])]}


def gate_message(reason: str, amount) -> str:
    """One reason of the gate in the showroom's words."""
    money = inr(Decimal(amount)) if amount is not None else ""
    return {
        "CUSTOMER_DUE": f"{money} still to be paid by the customer",
        "LOAN_NO_DO": f"The loan of {money} has no delivery order from the financier recorded",
        "SUBSIDY_NO_VOUCHER": f"The PM E-DRIVE subsidy of {money} has no e-voucher id recorded",
        "NO_INSURANCE": "No insurance policy recorded for the vehicle",
        "NO_REGISTRATION": "Registration not applied for (Form 20 or a temporary number)",
    }.get(reason, reason)
