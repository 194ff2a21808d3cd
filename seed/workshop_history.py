"""The workshop's five years for generate-history (seed/history.py): job cards of the delivered
scooters with everything a delivered card carries, written set-based in SQL.

What is made, for the vehicles generate-history delivered (``Sizes.job_cards`` cards, five per sale
by default: 150,000 at the five-year size):

* ``service.vehicle``: one workshop record per delivered unit, inserted with the triggers on (the
  vehicle trigger copies VIN, motor number, variant, owner, sale date and checks them), and a
  distinct Karnataka registration number each (generate-history registers no plate; the arrival
  look-up searches by it).
* Delivered job cards (for the vehicles with none: the demo showroom's own visits are kept as they are), the k-th visit of a vehicle every ``step`` days after its sale (step chosen so
  the fleet makes about the asked number of visits), until three weeks before ``today``. The first
  two visits are the OEM's free services while they are still due by date and km (a model without a
  schedule gets one: 6 months or 6,000 km, 12 months or 12,000 km), the labour under FREE_SERVICE
  cover: a no-charge job sheet, series JS; the rest are paid services, running repairs and battery checks. Each card
  has its state history (open, approved, in progress, quality check, ready, delivered), the
  customer's approval of the paid work, a labour line done by a technician of the branch, one
  battery reading of the fitted pack (SoH falling about 2.5 points a year, flagged as the reading
  trigger flags it) and the gate pass that released it.
* Part lines: a part line is made only where the stock ledger has a job issue for it. The ledger of
  generate-history (``_moves``) already issues parts to job cards (ISSUE_JOB moves); on each day and
  branch, the paid cards that take a part (one in three) are matched in order with that day's job
  issues of the branch. The card gets a part line of that move's part and quantity (priced at MRP,
  GST included), a ``service.part_issue`` row pointing at the move, and the move's reference becomes
  the card's number. No stock move is added or changed in quantity or value, so the ledger check
  (``_check_ledger``) holds as before. A card on a day with fewer issues than cards gets no part; the
  job issues no card took keep the ledger's own reference.
* The bill of every card, as billing.service_invoices posts it: a service invoice (SI) when the
  customer pays a line, else a job sheet (JS), numbered per branch and financial year in date order;
  lines with SAC/HSN and the GST rate of the tax master on the day, worked out by the GST kernel
  (webapp.gst) for each distinct combination of lines (a few hundred), so the amounts are the
  kernel's to the paisa; a receipt paying each service invoice in full on the day (RCT series: see
  below); the job card's link to its bill, and the gate pass's.
* Job card (JC) and gate pass (GP) numbers in opening / issue order, as the triggers take them.

Written with ``session_replication_role = replica`` (the CHECK, NOT NULL and UNIQUE constraints hold,
the triggers do not run), so this does by hand what the triggers would: numbers as
``master.next_document_no`` gives them (taken set-based, the counters moved on after), the reading's
flags, the vehicle's last odometer reading and next service due; the invoice balances are rebuilt by generate-history afterwards (billing.rebuild_invoice_balance).
Not made: audit log rows, photos, checklists, warranty claims, parts requests. The receipts of the
service bills are numbered after the sales' receipts of their branch and financial year (the sales are
numbered first), so within a year the RCT numbers are in date order for each of the two kinds, not
across them. ``check_workshop`` verifies the result at the end of generate-history.

150,104 cards took 4 min 12 s, and the checks 24 s, on the shared bench machine at a load average of 9.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

LABOUR = [  # labour master rows the history uses (added only when missing)
    ("PS-GEN", "Periodic service (general check-up)", "1.50", "450.00"),
    ("BAT-CHK", "Battery health check and BMS scan", "0.50", "250.00"),
    ("BRK-ADJ", "Brake inspection and adjustment", "0.75", "300.00"),
]
CARDS_PER_SALE = 5
TEMP_TABLES = "ws_plan, ws_card, ws_issue, ws_combo, ws_tax, ws_bill"

_VEHICLES = """
INSERT INTO service.vehicle (unit_id, branch_id)
SELECT d.unit_id, b.branch_id
  FROM sales.delivery d JOIN sales.booking b USING (booking_id)
 WHERE NOT EXISTS (SELECT 1 FROM service.vehicle v WHERE v.unit_id = d.unit_id)
 ORDER BY d.delivered_on, d.delivery_id
"""

_PLATES = """
UPDATE service.vehicle v
   SET registration_no = 'KA' || lpad((1 + v.vehicle_id % 50)::text, 2, '0')
                         || chr(65 + (v.vehicle_id / 10000) % 26) || chr(65 + (v.vehicle_id / 397) % 26)
                         || lpad((v.vehicle_id % 10000)::text, 4, '0')
 WHERE v.registration_no IS NULL
"""

# The OEM's free services for the serviced models that have no schedule (the generated catalog has
# none): the first at 6 months or 6,000 km, the second at 12 months or 12,000 km, whichever comes first.
_FREE_SERVICES = """
INSERT INTO oem.free_service (model_id, service_no, due_months, due_km)
SELECT m.model_id, s.n, s.months, s.km
  FROM oem.model m, (VALUES (1, 6, 6000), (2, 12, 12000)) AS s (n, months, km)
 WHERE m.model_id IN (SELECT va.model_id FROM service.vehicle v JOIN oem.variant va USING (variant_id))
   AND NOT EXISTS (SELECT 1 FROM oem.free_service f WHERE f.model_id = m.model_id)
"""

_PLAN = """
CREATE TEMP TABLE ws_plan ON COMMIT DROP AS
WITH v AS (
    SELECT v.vehicle_id, v.branch_id, v.customer_id, v.unit_id, v.sale_date, v.vin, v.registration_no,
           va.model_id, c.name AS customer_name, greatest(CAST(:today AS date) - 21 - v.sale_date, 0) AS age,
           12 + v.vehicle_id % 31 AS km_per_day
      FROM service.vehicle v JOIN master.customer c USING (customer_id) JOIN oem.variant va USING (variant_id)
     WHERE NOT EXISTS (SELECT 1 FROM service.job_card j WHERE j.vehicle_id = v.vehicle_id)  -- the demo's own visits
), step AS (SELECT sum(age)::numeric / (:cards + count(*) / 2) AS d FROM v)  -- floor() below drops half a visit a vehicle
SELECT p.*,  -- the k-th visit is the k-th free service while that one is still due (by date and km)
       CASE WHEN p.day_no <= fs.due_months * 30 AND p.odometer_km <= fs.due_km THEN 'FREE_SERVICE'
            WHEN p.k % 7 = 3 THEN 'RUNNING_REPAIR' WHEN p.k % 5 = 2 THEN 'BATTERY_CHECK' ELSE 'PAID_SERVICE' END
           AS service_type
  FROM (SELECT v.*, k, (k * step.d)::integer AS day_no,
               ((v.sale_date + (k * step.d)::integer)::timestamp
                + make_interval(hours => 9 + (v.vehicle_id + k) % 8, mins => (v.vehicle_id * 7 + k * 13) % 60))
                   AT TIME ZONE 'Asia/Kolkata' AS opened_at,
               ((k * step.d)::integer * v.km_per_day + (v.vehicle_id * k) % 97)::integer AS odometer_km,
               md5(v.vehicle_id || '/' || k)::uuid AS card_key
          FROM v, step, generate_series(1, floor(v.age / step.d)::integer) AS k
         WHERE step.d > 0) p
  LEFT JOIN oem.free_service fs ON fs.model_id = p.model_id AND fs.service_no = p.k
 -- A bill is numbered after the branch's bills of its year that exist already (the demo showroom's own):
 -- no visit is made on or before the last of them, so numbers keep the order of dates.
 WHERE NOT EXISTS (SELECT 1 FROM billing.invoice i
                    WHERE i.branch_id = p.branch_id AND i.kind IN ('SERVICE', 'JOB_SHEET')
                      AND i.invoice_date >= (p.opened_at AT TIME ZONE 'Asia/Kolkata')::date
                      AND master.fy_start_year(i.invoice_date)
                          = master.fy_start_year((p.opened_at AT TIME ZONE 'Asia/Kolkata')::date))
"""

def _no(series: str, branch: str, on: str, order: str) -> str:
    """A document number as master.next_document_no gives it ("BLRJC/26/12"), taken set-based: the
    row's place among the new documents of its branch, series and financial year (in ``order``) after
    the counter's last number. ``_COUNTERS`` then moves the counters on."""
    fy = f"master.fy_start_year({on})"
    return (f"br.invoice_prefix || {series} || '/' || lpad(({fy} % 100)::text, 2, '0') || '/' || "
            f"(coalesce(dc.last_no, 0) + row_number() OVER (PARTITION BY {branch}, {series}, {fy} ORDER BY {order}))")


def _counter(series: str, branch: str, on: str) -> str:
    return (f"JOIN master.branch br ON br.branch_id = {branch} "
            f"LEFT JOIN master.document_counter dc ON dc.branch_id = {branch} AND dc.series = {series} "
            f"AND dc.fy_start = master.fy_start_year({on})")


_OPENED_ON = "(p.opened_at AT TIME ZONE 'Asia/Kolkata')::date"
_GATE_ON = "((c.opened_at + interval '7 hours') AT TIME ZONE 'Asia/Kolkata')::date"
_SERIES = "CASE b.kind WHEN 'SERVICE' THEN 'SI' ELSE 'JS' END"

# The counters after the documents numbered above (a real document next takes the next number).
_COUNTERS = """
INSERT INTO master.document_counter AS c (branch_id, series, fy_start, last_no)
SELECT branch_id, series, fy, max(n) FROM (
    SELECT branch_id, 'JC' AS series, master.fy_start_year((opened_at AT TIME ZONE 'Asia/Kolkata')::date) AS fy,
           split_part(job_card_no, '/', 3)::int AS n FROM service.job_card
    UNION ALL SELECT branch_id, 'GP', master.fy_start_year((issued_at AT TIME ZONE 'Asia/Kolkata')::date),
           split_part(gate_pass_no, '/', 3)::int FROM service.gate_pass
    UNION ALL SELECT branch_id, billing.invoice_series(kind), master.fy_start_year(invoice_date),
           split_part(invoice_no, '/', 3)::int FROM billing.invoice WHERE kind IN ('SERVICE', 'JOB_SHEET')
    UNION ALL SELECT branch_id, 'RCT', master.fy_start_year(receipt_date), split_part(receipt_no, '/', 3)::int
      FROM billing.receipt) d
 GROUP BY 1, 2, 3
ON CONFLICT (branch_id, series, fy_start) DO UPDATE SET last_no = greatest(c.last_no, EXCLUDED.last_no)
"""

_CARDS = [
    # Job cards, numbered in opening order as the trigger would; DELIVERED 7 hours after opening.
    """INSERT INTO service.job_card (branch_id, job_card_no, opened_at, vehicle_id, customer_id, service_type,
                                     free_service_no, state, state_changed_at, odometer_km, previous_odometer_km,
                                     complaints, promised_at, advisor_id, closed_at, idempotency_key)
       SELECT p.branch_id, """ + _no("'JC'", "p.branch_id", _OPENED_ON, "p.opened_at, p.vehicle_id") + """,
              p.opened_at, p.vehicle_id, p.customer_id, p.service_type,
              CASE WHEN p.service_type = 'FREE_SERVICE' THEN p.k END, 'DELIVERED', p.opened_at + interval '7 hours',
              p.odometer_km, lag(p.odometer_km) OVER (PARTITION BY p.vehicle_id ORDER BY p.k),
              CASE p.service_type WHEN 'RUNNING_REPAIR' THEN 'Brake noise, range dropped a little'
                                  WHEN 'BATTERY_CHECK' THEN 'Battery check, charge not holding overnight'
                                  WHEN 'FREE_SERVICE' THEN 'Free service ' || p.k
                                  ELSE 'Periodic service due' END,
              p.opened_at + interval '8 hours', a.staff_id, p.opened_at + interval '7 hours', p.card_key
         FROM ws_plan p """ + _counter("'JC'", "p.branch_id", _OPENED_ON) + """
         LEFT JOIN LATERAL (SELECT staff_id FROM master.staff s WHERE s.branch_id = p.branch_id
                             AND s.designation IN ('SERVICE_ADVISOR', 'MANAGER', 'ADMIN') ORDER BY s.staff_id LIMIT 1) a ON true
        ORDER BY p.opened_at, p.vehicle_id""",
    """CREATE TEMP TABLE ws_card ON COMMIT DROP AS
       SELECT j.job_card_id, j.job_card_no, p.*, (p.opened_at AT TIME ZONE 'Asia/Kolkata')::date AS on_date,
              CASE p.service_type WHEN 'BATTERY_CHECK' THEN 'BAT-CHK' WHEN 'RUNNING_REPAIR' THEN 'BRK-ADJ'
                                  ELSE 'PS-GEN' END AS operation_code,
              CASE p.service_type WHEN 'FREE_SERVICE' THEN 'FREE_SERVICE' ELSE 'CUSTOMER' END AS coverage
         FROM service.job_card j JOIN ws_plan p ON p.card_key = j.idempotency_key""",
    "CREATE INDEX ON ws_card (job_card_id)",
    # Every state it went through.
    """INSERT INTO service.job_state_change (job_card_id, from_state, to_state, changed_at, changed_by)
       SELECT c.job_card_id, s.from_state, s.to_state, c.opened_at + s.after, NULL
         FROM ws_card c, (VALUES (NULL, 'OPEN', interval '0'), ('OPEN', 'APPROVED', interval '30 minutes'),
                                 ('APPROVED', 'IN_PROGRESS', interval '1 hour'), ('IN_PROGRESS', 'QC', interval '5 hours'),
                                 ('QC', 'READY', interval '6 hours'), ('READY', 'DELIVERED', interval '7 hours'))
                         AS s (from_state, to_state, after)
        ORDER BY c.job_card_id, s.after""",
    # The customer's approval of the paid work (a free service needs none).
    """INSERT INTO service.job_approval (job_card_id, approved_at, approved_by_name, mode, amount, recorded_by,
                                         idempotency_key)
       SELECT c.job_card_id, c.opened_at + interval '30 minutes', left(c.customer_name, 120),
              CASE WHEN c.k % 3 = 0 THEN 'PHONE' ELSE 'IN_PERSON' END, round(lo.rate * 1.18, 2), NULL,
              md5('approval/' || c.job_card_id)::uuid
         FROM ws_card c JOIN master.labour_operation lo USING (operation_code)
        WHERE c.coverage = 'CUSTOMER'
        ORDER BY c.job_card_id""",
    # The labour line, done by a technician of the branch.
    """INSERT INTO service.job_line (job_card_id, operation_code, qty, unit_price, price_includes_gst, coverage,
                                     technician_id, status, approval_id, added_by, added_at, done_by, done_at)
       SELECT c.job_card_id, c.operation_code, 1, lo.rate, false, c.coverage, t.staff_id, 'DONE', a.approval_id,
              NULL, c.opened_at + interval '15 minutes', t.staff_id, c.opened_at + interval '5 hours'
         FROM ws_card c
         JOIN master.labour_operation lo USING (operation_code)
         LEFT JOIN service.job_approval a ON a.job_card_id = c.job_card_id
         LEFT JOIN LATERAL (SELECT staff_id FROM master.staff s WHERE s.branch_id = c.branch_id
                             AND s.designation = 'TECHNICIAN' ORDER BY s.staff_id
                            OFFSET c.vehicle_id % greatest((SELECT count(*) FROM master.staff s2 WHERE s2.branch_id = c.branch_id
                                                            AND s2.designation = 'TECHNICIAN'), 1) LIMIT 1) t ON true
        ORDER BY c.job_card_id""",
    # The part issues: one in three paid cards, matched in order with the day's job issues of the ledger.
    """CREATE TEMP TABLE ws_issue ON COMMIT DROP AS
       WITH cards AS (
           SELECT c.job_card_id, c.branch_id, c.on_date,
                  row_number() OVER (PARTITION BY c.branch_id, c.on_date ORDER BY c.opened_at, c.job_card_id) AS n
             FROM ws_card c WHERE c.coverage = 'CUSTOMER' AND c.job_card_id % 3 = 0),
       moves AS (
           SELECT m.move_id, m.branch_id, m.part_id, -m.qty AS qty, m.moved_at,
                  (m.moved_at AT TIME ZONE 'Asia/Kolkata')::date AS on_date,
                  row_number() OVER (PARTITION BY m.branch_id, (m.moved_at AT TIME ZONE 'Asia/Kolkata')::date
                                     ORDER BY m.moved_at, m.move_id) AS n
             FROM inventory.stock_move m
            WHERE m.kind = 'ISSUE_JOB' AND m.moved_at >= (SELECT min(opened_at) - interval '1 day' FROM ws_card)
              AND NOT EXISTS (SELECT 1 FROM service.part_issue i WHERE i.move_id = m.move_id))
       SELECT c.job_card_id, m.move_id, m.part_id, m.qty, m.moved_at
         FROM cards c JOIN moves m USING (branch_id, on_date, n)""",
    """INSERT INTO service.job_line (job_card_id, part_id, qty, unit_price, price_includes_gst, coverage,
                                     technician_id, status, approval_id, added_by, added_at, done_by, done_at, issued_qty)
       SELECT i.job_card_id, i.part_id, i.qty, p.mrp, true, 'CUSTOMER', l.technician_id, 'DONE', l.approval_id,
              NULL, c.opened_at + interval '20 minutes', l.technician_id, c.opened_at + interval '5 hours', i.qty
         FROM ws_issue i
         JOIN ws_card c ON c.job_card_id = i.job_card_id
         JOIN master.part p ON p.part_id = i.part_id
         JOIN service.job_line l ON l.job_card_id = i.job_card_id AND l.operation_code IS NOT NULL
        ORDER BY i.job_card_id""",
    """INSERT INTO service.part_issue (job_card_id, job_line_id, part_id, kind, qty, move_id, issued_at, issued_by,
                                       idempotency_key)
       SELECT i.job_card_id, l.job_line_id, i.part_id, 'ISSUE', i.qty, i.move_id, i.moved_at, NULL,
              md5('issue/' || i.move_id)::uuid
         FROM ws_issue i JOIN service.job_line l ON l.job_card_id = i.job_card_id AND l.part_id = i.part_id
        ORDER BY i.job_card_id""",
    """UPDATE inventory.stock_move m SET reference = c.job_card_no
         FROM ws_issue i JOIN ws_card c USING (job_card_id) WHERE m.move_id = i.move_id""",
    # One reading of the vehicle's pack on the day: SoH falls about 2.5 points a year, with noise.
    """INSERT INTO service.battery_reading (job_card_id, pack_id, read_at, soh_pct, soc_pct, cycle_count, cell_v_max,
                                            cell_v_min, pack_temp_max_c, insulation_mohm, fault_codes, charger_ok, flags,
                                            recorded_by)
       SELECT r.job_card_id, r.pack_id, r.read_at, r.soh, r.soc, r.cycles, r.vmax, r.vmin, r.temp, 50.000, '{}', true,
              array_remove(ARRAY[CASE WHEN (r.vmax - r.vmin) * 1000 > 100 THEN 'CELL_DELTA' END,
                                 CASE WHEN r.soh < coalesce(r.floor_pct, 70) THEN 'SOH' END], NULL),
              NULL
         FROM (SELECT c.job_card_id, f.pack_id, c.opened_at + interval '1 hour' AS read_at,
                      greatest(100 - c.day_no / 365.0 * 2.5 - (c.job_card_id % 30) / 10.0, 40)::numeric(5,2) AS soh,
                      (35 + c.job_card_id % 60)::numeric(5,2) AS soc, least(c.day_no / 2, 20000) AS cycles,
                      4.100::numeric(5,3) AS vmax,
                      (4.100 - (20 + (c.job_card_id % 97) + c.day_no / 40) / 1000.0)::numeric(5,3) AS vmin,
                      (30 + c.job_card_id % 15)::numeric(4,1) AS temp, va.battery_min_soh_pct AS floor_pct
                 FROM ws_card c
                 JOIN service.vehicle v ON v.vehicle_id = c.vehicle_id
                 JOIN oem.variant va ON va.variant_id = v.variant_id
                 JOIN LATERAL (SELECT pack_id FROM inventory.battery_fitment bf WHERE bf.unit_id = c.unit_id
                                ORDER BY bf.fitted_on DESC LIMIT 1) f ON true) r
        ORDER BY r.job_card_id""",
]

# What the bills are made of: each card's combination of lines, with the GST rates of the day.
_COMBOS = """
CREATE TEMP TABLE ws_combo ON COMMIT DROP AS
SELECT x.*, :combo AS combo FROM (
SELECT c.job_card_id, c.branch_id, c.on_date, c.coverage, lo.operation_code, lo.name AS op_name, lo.sac_code,
       lo.rate AS op_rate, master.gst_rate_on(lo.sac_code, c.on_date) AS op_gst,
       p.part_id, p.part_no, p.name AS part_name, p.hsn_code AS part_hsn, p.unit AS part_unit, p.mrp, i.qty AS part_qty,
       master.gst_rate_on(p.hsn_code, c.on_date) AS part_gst
  FROM ws_card c
  JOIN master.labour_operation lo USING (operation_code)
  LEFT JOIN ws_issue i ON i.job_card_id = c.job_card_id
  LEFT JOIN master.part p ON p.part_id = i.part_id) x
"""
_COMBO_KEY = ("coverage", "operation_code", "op_rate", "op_gst", "part_id", "mrp", "part_qty", "part_gst")
_COMBO = "concat_ws('|', " + ", ".join(_COMBO_KEY) + ")"   # the part's fields are all there or all NULL

_BILLS = [
    # The bill of each card: SI when the customer pays something, else JS; numbered in date order.
    """CREATE TEMP TABLE ws_bill ON COMMIT DROP AS
       SELECT c.job_card_id, t.kind, t.taxable_value, t.cgst, t.sgst, t.igst, t.round_off, t.grand_total,
              w.on_date, w.opened_at, w.registration_no, w.vin, w.odometer_km, w.job_card_no, w.branch_id, w.customer_id
         FROM ws_combo c
         JOIN ws_tax t ON t.combo = c.combo AND t.line_no = 1
         JOIN ws_card w ON w.job_card_id = c.job_card_id""",
    """INSERT INTO billing.invoice (invoice_no, branch_id, invoice_date, kind, customer_id, supplier_gstin,
                                    supplier_state_code, buyer_name, buyer_address, buyer_state_code, buyer_gstin,
                                    buyer_mobile, place_of_supply, taxable_value, cgst, sgst, igst, round_off,
                                    grand_total, idempotency_key, posted_by, posted_at, service_vehicle, service_reference)
       SELECT """ + _no(_SERIES, "b.branch_id", "b.on_date", "b.on_date, b.opened_at, b.job_card_id") + """,
              b.branch_id, b.on_date, b.kind, b.customer_id, br.gstin, br.state_code, cu.name,
              nullif(concat_ws(', ', cu.address_line1, cu.address_line2, cu.city,
                               CASE WHEN cu.state_code IS NOT NULL THEN st.name || ' (' || cu.state_code || ')' END,
                               'PIN ' || cu.pincode), ''),
              cu.state_code, cu.gstin, cu.mobile, br.state_code, b.taxable_value, b.cgst, b.sgst, b.igst, b.round_off,
              b.grand_total, md5('bill/' || b.job_card_id)::uuid, NULL, b.opened_at + interval '6 hours 30 minutes',
              concat_ws(' · ', b.registration_no, 'VIN ' || b.vin, to_char(b.odometer_km, 'FM999,999,990') || ' km'),
              b.job_card_no
         FROM ws_bill b """ + _counter(_SERIES, "b.branch_id", "b.on_date") + """
         JOIN master.customer cu ON cu.customer_id = b.customer_id
         LEFT JOIN master.state st ON st.state_code = cu.state_code
        ORDER BY b.on_date, b.opened_at, b.job_card_id""",
    """UPDATE service.job_card j SET invoice_id = i.invoice_id
         FROM billing.invoice i
        WHERE i.kind IN ('SERVICE', 'JOB_SHEET') AND i.idempotency_key = md5('bill/' || j.job_card_id)::uuid
          AND j.job_card_id IN (SELECT job_card_id FROM ws_card)""",
    """INSERT INTO billing.invoice_line (invoice_id, line_no, description, hsn_code, qty, unit, unit_price,
                                         price_includes_gst, discount, taxable_value, gst_rate, cgst, sgst, igst, total,
                                         part_id, operation_code, coverage, claimable_value)
       SELECT j.invoice_id, t.line_no,
              CASE t.line_no WHEN 1 THEN c.op_name || ' (' || c.operation_code || ')'
                             ELSE c.part_name || ' (' || c.part_no || ')' END,
              CASE t.line_no WHEN 1 THEN c.sac_code ELSE c.part_hsn END,
              CASE t.line_no WHEN 1 THEN 1 ELSE c.part_qty END,
              CASE t.line_no WHEN 1 THEN 'NOS' ELSE c.part_unit END,
              CASE t.line_no WHEN 1 THEN c.op_rate ELSE c.mrp END, t.line_no <> 1, 0, t.line_taxable,
              CASE t.line_no WHEN 1 THEN c.op_gst ELSE c.part_gst END, t.line_cgst, t.line_sgst, t.line_igst, t.line_total,
              CASE WHEN t.line_no = 2 THEN c.part_id END, CASE WHEN t.line_no = 1 THEN c.operation_code END,
              CASE t.line_no WHEN 1 THEN c.coverage ELSE 'CUSTOMER' END, t.claimable_value
         FROM ws_combo c
         JOIN service.job_card j ON j.job_card_id = c.job_card_id
         JOIN ws_tax t ON t.combo = c.combo
        ORDER BY j.invoice_id, t.line_no""",
    # Paid in full at the counter on the day (a job sheet asks nothing).
    """INSERT INTO billing.receipt (receipt_no, branch_id, receipt_date, invoice_id, received_from, mode, amount,
                                    reference, is_advance, idempotency_key, posted_by, posted_at)
       SELECT """ + _no("'RCT'", "i.branch_id", "i.invoice_date", "i.invoice_date, i.posted_at, i.invoice_id") + """, i.branch_id, i.invoice_date, i.invoice_id,
              i.buyer_name, m.mode, i.grand_total,
              CASE WHEN m.mode <> 'CASH' THEN left(m.mode, 3) || lpad((i.invoice_id::bigint * 7919 % 9999999967)::text, 10, '0') END,
              false, md5('receipt/' || i.invoice_id)::uuid, NULL, i.posted_at + interval '10 minutes'
         FROM billing.invoice i """ + _counter("'RCT'", "i.branch_id", "i.invoice_date") + """
         JOIN service.job_card j ON j.invoice_id = i.invoice_id
         JOIN ws_card c ON c.job_card_id = j.job_card_id,
              LATERAL (SELECT (ARRAY['CASH', 'UPI', 'UPI', 'CARD'])[1 + i.invoice_id % 4] AS mode) m
        WHERE i.kind = 'SERVICE' AND i.grand_total > 0
        ORDER BY i.invoice_date, i.posted_at, i.invoice_id""",
    # The gate pass that delivered it, numbered in order.
    """INSERT INTO service.gate_pass (branch_id, job_card_id, gate_pass_no, issued_at, issued_by, invoice_id, paid_in_full,
                                      received_by_name, idempotency_key)
       SELECT c.branch_id, c.job_card_id,
              """ + _no("'GP'", "c.branch_id", _GATE_ON, "c.opened_at, c.job_card_id") + """,
              c.opened_at + interval '7 hours', NULL, j.invoice_id, true, left(c.customer_name, 100),
              md5('gate/' || c.job_card_id)::uuid
         FROM ws_card c JOIN service.job_card j USING (job_card_id) """ + _counter("'GP'", "c.branch_id", _GATE_ON) + """
        ORDER BY c.opened_at, c.job_card_id""",
    # The vehicle's last reading and next service due, as the card triggers keep them.
    """UPDATE service.vehicle v
          SET last_odometer_km = l.odometer_km, last_odometer_on = (l.opened_at AT TIME ZONE 'Asia/Kolkata')::date,
              last_odometer_job_card_id = l.job_card_id
         FROM (SELECT DISTINCT ON (vehicle_id) vehicle_id, job_card_id, odometer_km, opened_at
                 FROM ws_card ORDER BY vehicle_id, opened_at DESC) l
        WHERE v.vehicle_id = l.vehicle_id""",
    """UPDATE service.vehicle v
          SET next_service_due_on = n.due_on, next_service_due_km = n.due_km, next_free_service_no = n.free_service_no
         FROM (SELECT DISTINCT ON (vehicle_id) vehicle_id, opened_at, odometer_km FROM ws_card
                ORDER BY vehicle_id, opened_at DESC) l,
              LATERAL service.next_service_due(l.vehicle_id, ((l.opened_at + interval '7 hours') AT TIME ZONE 'Asia/Kolkata')::date,
                                               l.odometer_km) n
        WHERE v.vehicle_id = l.vehicle_id""",
]

_TAX_COLUMNS = ("combo", "line_no", "kind", "line_taxable", "line_cgst", "line_sgst", "line_igst", "line_total",
                "claimable_value", "taxable_value", "cgst", "sgst", "igst", "round_off", "grand_total")


def _tax_rows(conn: Connection):
    """Each distinct combination of lines through the GST kernel, as the service invoice prices it:
    labour at the master's rate before GST, a part at MRP with GST; a covered line carries nothing
    for the customer and keeps its taxable value as claimable. Every bill is at the workshop (intra-state)."""
    from webapp import gst

    zero = Decimal("0.00")
    for r in conn.execute(sa.text(f"SELECT DISTINCT combo, {', '.join(_COMBO_KEY)}, sac_code, part_hsn FROM ws_combo")).mappings():
        labour = gst.InvoiceLine(description="labour", hsn_code=r["sac_code"], qty=Decimal(1), unit_price=r["op_rate"],
                                 gst_rate=r["op_gst"], price_includes_gst=False, discount=zero)
        shown = [(1, gst.compute_line(labour, True), r["coverage"])]
        if r["part_id"] is not None:
            part = gst.InvoiceLine(description="part", hsn_code=r["part_hsn"], qty=r["part_qty"], unit_price=r["mrp"],
                                   gst_rate=r["part_gst"], price_includes_gst=True, discount=zero)
            shown.append((2, gst.compute_line(part, True), "CUSTOMER"))
        charged = [c.line for _, c, coverage in shown if coverage == "CUSTOMER"]
        if charged:
            inv = gst.compute_invoice(charged, intra_state=True)
            head = ("SERVICE", inv.taxable_value, inv.cgst, inv.sgst, inv.igst, inv.round_off, inv.grand_total)
        else:
            head = ("JOB_SHEET", zero, zero, zero, zero, zero, zero)
        for line_no, c, coverage in shown:
            if coverage == "CUSTOMER":
                amounts = (c.taxable_value, c.cgst, c.sgst, c.igst, c.total, zero)
            else:
                amounts = (zero, zero, zero, zero, zero, c.taxable_value)
            yield (r["combo"], line_no, head[0], *amounts, *head[1:])


def generate_workshop(conn: Connection, cards: int, today: date, progress=lambda message: None) -> dict:
    """The workshop's history for the delivered vehicles (see the module's docstring); returns counts.
    Needs a superuser connection (the history rows are written with the triggers off). In the caller's
    transaction; leaves session_replication_role at origin."""
    from .history import _copy

    for code, name, hours, rate in LABOUR:
        conn.execute(sa.text("""INSERT INTO master.labour_operation (operation_code, name, standard_hours, rate)
                                VALUES (:c, :n, :h, :r) ON CONFLICT DO NOTHING"""),
                     {"c": code, "n": name, "h": Decimal(hours), "r": Decimal(rate)})
    conn.execute(sa.text("SET LOCAL session_replication_role = origin"))
    vehicles = conn.execute(sa.text(_VEHICLES)).rowcount
    conn.execute(sa.text(_PLATES))
    progress(f"workshop: {vehicles} vehicles")
    conn.execute(sa.text("ANALYZE service.vehicle"))
    conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
    conn.execute(sa.text(f"DROP TABLE IF EXISTS {TEMP_TABLES}"))  # a caller's transaction may hold a first run's
    conn.execute(sa.text(_FREE_SERVICES))
    conn.execute(sa.text(_PLAN), {"cards": cards, "today": today})
    for sql in _CARDS:
        conn.execute(sa.text(sql))
    conn.execute(sa.text("ANALYZE ws_card"))
    conn.execute(sa.text(_COMBOS.replace(":combo", _COMBO)))
    conn.execute(sa.text(f"""CREATE TEMP TABLE ws_tax (combo text, line_no integer, kind text,
                             {', '.join(f'{c} numeric(14,2)' for c in _TAX_COLUMNS[3:])}) ON COMMIT DROP"""))
    combos = _copy(conn, "ws_tax", _TAX_COLUMNS, list(_tax_rows(conn)))  # read before the COPY starts
    progress(f"workshop: {combos} bill lines priced by the GST kernel")
    for sql in _BILLS:
        conn.execute(sa.text(sql))
    conn.execute(sa.text(_COUNTERS))
    conn.execute(sa.text(f"DROP TABLE {TEMP_TABLES}"))
    conn.execute(sa.text("SET LOCAL session_replication_role = origin"))
    return dict(conn.execute(sa.text(
        """SELECT (SELECT count(*) FROM service.vehicle) AS workshop_vehicles,
                  (SELECT count(*) FROM service.job_card) AS job_cards,
                  (SELECT count(*) FROM service.job_line) AS job_lines,
                  (SELECT count(*) FROM service.part_issue) AS part_issues,
                  (SELECT count(*) FROM billing.invoice WHERE kind = 'SERVICE') AS service_invoices,
                  (SELECT count(*) FROM billing.invoice WHERE kind = 'JOB_SHEET') AS job_sheets,
                  (SELECT count(*) FROM service.gate_pass) AS gate_passes""")).mappings().one())


WORKSHOP_CHECKS = {
    "delivered job cards without a gate pass, or with work and no bill made for them": """
        SELECT count(*) FROM ws_sold_here_card j
          LEFT JOIN service.gate_pass g ON g.job_card_id = j.job_card_id
          LEFT JOIN billing.invoice i ON i.invoice_id = j.invoice_id
         WHERE j.state = 'DELIVERED'
           AND (g.gate_pass_id IS NULL OR g.invoice_id IS DISTINCT FROM j.invoice_id
                OR CASE WHEN i.invoice_id IS NULL   -- a card with no work has no bill
                        THEN EXISTS (SELECT 1 FROM service.job_line l WHERE l.job_card_id = j.job_card_id)
                        ELSE i.kind NOT IN ('SERVICE', 'JOB_SHEET') OR i.service_reference IS DISTINCT FROM j.job_card_no
                             OR i.customer_id <> j.customer_id END)""",
    "bills whose lines are not the card's billable lines": """
        SELECT count(*) FROM ws_sold_here_card j
          LEFT JOIN (SELECT b.job_card_id, count(*) AS n, sum(b.bill_qty) AS qty FROM service.job_line_billable b
                      GROUP BY 1) b ON b.job_card_id = j.job_card_id
          LEFT JOIN (SELECT invoice_id, count(*) AS n, sum(qty) AS qty FROM billing.invoice_line GROUP BY 1) l
                 ON l.invoice_id = j.invoice_id
         WHERE j.state = 'DELIVERED' AND (b.n, b.qty) IS DISTINCT FROM (l.n, l.qty)""",
    "service invoices whose lines do not add up to the header, or a job sheet charging something": """
        SELECT count(*) FROM billing.invoice i
          JOIN (SELECT invoice_id, sum(taxable_value) AS t, sum(cgst) AS c, sum(sgst) AS s, sum(igst) AS g,
                       sum(total) AS total, bool_and(coverage <> 'CUSTOMER') AS covered
                  FROM billing.invoice_line GROUP BY 1) l USING (invoice_id)
         WHERE i.kind IN ('SERVICE', 'JOB_SHEET')
           AND ((l.t, l.c, l.s, l.g) IS DISTINCT FROM (i.taxable_value, i.cgst, i.sgst, i.igst)
                OR i.grand_total <> l.total + i.round_off OR (i.kind = 'JOB_SHEET') <> l.covered)""",
    "delivered service invoices not paid in full": """
        SELECT count(*) FROM ws_sold_here_card j JOIN billing.invoice i ON i.invoice_id = j.invoice_id
          LEFT JOIN billing.invoice_balance k ON k.invoice_id = i.invoice_id
         WHERE j.state = 'DELIVERED' AND i.kind = 'SERVICE' AND (k.invoice_id IS NULL OR k.balance <> 0)""",
    "part lines whose issue is not a job issue of the ledger (same branch, part and quantity)": """
        SELECT count(*) FROM service.job_line l
          JOIN ws_sold_here_card j ON j.job_card_id = l.job_card_id
          LEFT JOIN (SELECT pi.job_line_id, sum(CASE pi.kind WHEN 'ISSUE' THEN pi.qty ELSE -pi.qty END) AS qty,
                            bool_and(m.kind IN ('ISSUE_JOB', 'RETURN_JOB') AND m.branch_id = j2.branch_id
                                     AND m.part_id = pi.part_id AND abs(m.qty) = pi.qty) AS ok
                       FROM service.part_issue pi
                       JOIN service.job_card j2 ON j2.job_card_id = pi.job_card_id
                       JOIN inventory.stock_move m ON m.move_id = pi.move_id GROUP BY 1) i ON i.job_line_id = l.job_line_id
         WHERE l.part_id IS NOT NULL AND j.state = 'DELIVERED'
           AND (l.issued_qty <> coalesce(i.qty, 0) OR NOT coalesce(i.ok, true))""",
    "workshop document series with a gap, a duplicate or a counter behind": """
        WITH docs AS (
            SELECT branch_id, 'JC' AS series, job_card_no AS no, (opened_at AT TIME ZONE 'Asia/Kolkata')::date AS on_date
              FROM service.job_card
            UNION ALL SELECT branch_id, 'GP', gate_pass_no, (issued_at AT TIME ZONE 'Asia/Kolkata')::date
              FROM service.gate_pass),
        per AS (SELECT branch_id, series, master.fy_start_year(on_date) AS fy, count(*) AS c,
                       count(DISTINCT split_part(no, '/', 3)::int) AS d, max(split_part(no, '/', 3)::int) AS m
                  FROM docs GROUP BY 1, 2, 3)
        SELECT count(*) FROM per
          LEFT JOIN master.document_counter dc
                 ON dc.branch_id = per.branch_id AND dc.series = per.series AND dc.fy_start = per.fy
         WHERE per.c <> per.m OR per.d <> per.c OR coalesce(dc.last_no, 0) <> per.m""",
}


def check_workshop(conn: Connection) -> None:
    """What the triggers would have refused, over the whole generated workshop: the job cards of the
    vehicles this showroom sold (the demo showroom's visits of scooters sold elsewhere are its own, made
    through the triggers, and may be delivered without a bill of this showroom)."""
    conn.execute(sa.text("""CREATE OR REPLACE TEMP VIEW ws_sold_here_card AS
                            SELECT c.* FROM service.job_card c
                              JOIN service.vehicle v ON v.vehicle_id = c.vehicle_id AND v.unit_id IS NOT NULL"""))
    wrong = {what: n for what, sql in WORKSHOP_CHECKS.items() if (n := conn.execute(sa.text(sql)).scalar())}
    if wrong:
        raise RuntimeError("generated workshop is inconsistent: " + "; ".join(f"{n} {w}" for w, n in wrong.items()))
