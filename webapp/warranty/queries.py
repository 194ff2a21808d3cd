"""Reading and writing warranty data; functions take the request's connection first and never
commit. The rules (coverage, free services, which campaigns are open for a vehicle, what a plan
may be sold for, when a campaign may be marked done) are PostgreSQL's (sql/0024_warranty.sql,
sql/functions/92_warranty.sql): these functions only ask them."""
from __future__ import annotations

import json
from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..paging import capped_count, count_cap

# --------------------------------------------------------------------------- the rules


def vehicle_coverage(conn: Connection, vin: str, variant_id: int, sale_date: date, on: date, km: int | None):
    return conn.execute(sa.text("""
        SELECT c.*, p.name AS plan_name
          FROM warranty.vehicle_coverage(:vin, :variant, :sold, :on, :km) c
          LEFT JOIN warranty.plan_sale s ON s.plan_sale_id = c.plan_sale_id
          LEFT JOIN warranty.plan p ON p.plan_id = s.plan_id"""),
        {"vin": vin, "variant": variant_id, "sold": sale_date, "on": on, "km": km}).mappings().one()


def battery_coverage(conn: Connection, vin: str, variant_id: int, sale_date: date, on: date, km: int | None,
                     packs: list[dict]):
    return conn.execute(sa.text("""
        SELECT c.*, p.name AS plan_name
          FROM warranty.battery_coverage(:vin, :variant, :sold, :on, :km, CAST(:packs AS jsonb)) WITH ORDINALITY c
          LEFT JOIN warranty.plan_sale s ON s.plan_sale_id = c.plan_sale_id
          LEFT JOIN warranty.plan p ON p.plan_id = s.plan_id
         ORDER BY c.ordinality"""),   # the packs in the function's order, which a join does not keep
        {"vin": vin, "variant": variant_id, "sold": sale_date, "on": on, "km": km,
         "packs": json.dumps(packs, default=str)}).mappings().all()


def free_services(conn: Connection, model_id: int, sale_date: date, on: date, km: int | None, used: list[int]):
    return conn.execute(sa.text("SELECT * FROM warranty.free_services(:model, :sold, :on, :km, :used)"),
                        {"model": model_id, "sold": sale_date, "on": on, "km": km,
                         "used": [int(n) for n in used]}).mappings().all()


def open_campaigns(conn: Connection, vin: str, model_id: int | None, mfg_month: date | None, on: date):
    return conn.execute(sa.text("""
        SELECT c.campaign_id, c.code, c.title, c.kind, c.opened_on, c.closed_on, c.operation_code,
               c.instructions, l.name AS operation_name, o.brand AS oem_name
          FROM warranty.open_campaigns(:vin, :model, :mfg, :on) c
          JOIN oem.oem o ON o.oem_id = c.oem_id
          LEFT JOIN master.labour_operation l ON l.operation_code = c.operation_code
         ORDER BY c.kind = 'SERVICE', c.opened_on, c.code"""),   # the function's order does not survive a join
        {"vin": vin, "model": model_id, "mfg": mfg_month, "on": on}).mappings().all()


def plan_sales_of(conn: Connection, vin: str):
    return conn.execute(sa.text("""
        SELECT s.plan_sale_id, s.sold_on, s.price, s.invoice_ref, p.name AS plan_name, p.vehicle_extra_years,
               p.vehicle_extra_km, p.battery_extra_years, p.battery_extra_km
          FROM warranty.plan_sale s JOIN warranty.plan p ON p.plan_id = s.plan_id
         WHERE s.vin = :vin ORDER BY s.sold_on, s.plan_sale_id"""), {"vin": vin}).mappings().all()


# --------------------------------------------------------------------------- a vehicle sold here


def sold_unit(conn: Connection, vin: str):
    """The unit with this VIN if this showroom sold it (delivered and not taken back): its model,
    the sale date (the delivery), the odometer at the hand-over and the buyer (when the booking
    is this branch's); None otherwise."""
    return conn.execute(sa.text("""
        SELECT u.unit_id, u.vin, u.variant_id, v.model_id, m.oem_id, u.mfg_month, u.colour, o.brand AS oem_name,
               m.name AS model_name, v.name AS variant_name, d.delivered_on AS sale_date, d.odometer_km,
               d.booking_no, d.customer_id, d.customer_name, d.customer_mobile
          FROM inventory.vehicle_unit u
          JOIN oem.variant v ON v.variant_id = u.variant_id
          JOIN oem.model m ON m.model_id = v.model_id
          JOIN oem.oem o ON o.oem_id = m.oem_id
          JOIN LATERAL (
                SELECT d.delivered_on, d.odometer_km, b.booking_no, b.customer_id, c.name AS customer_name,
                       c.mobile AS customer_mobile
                  FROM sales.delivery d
                  LEFT JOIN sales.booking b ON b.booking_id = d.booking_id
                  LEFT JOIN master.customer c ON c.customer_id = b.customer_id
                 WHERE d.unit_id = u.unit_id
                 ORDER BY d.delivered_on DESC, d.delivery_id DESC LIMIT 1) d ON true
         WHERE u.vin = :vin AND u.status = 'DELIVERED'"""), {"vin": vin}).mappings().first()


def unit_packs(conn: Connection, unit_id: int, sale_date: date) -> list[dict]:
    """Every pack the unit has held, for the battery rule: the pack fitted after the sale is a
    replacement of the one taken out that day (inventory.battery_fitment has no other link)."""
    rows = conn.execute(sa.text("""
        SELECT f.pack_id, p.serial, f.fitted_on, f.removed_on,
               CASE WHEN f.fitted_on > :sold THEN (
                   SELECT r.pack_id FROM inventory.battery_fitment r
                    WHERE r.unit_id = f.unit_id AND r.removed_on = f.fitted_on AND r.pack_id <> f.pack_id
                    ORDER BY r.fitment_id LIMIT 1) END AS replaced_pack_id
          FROM inventory.battery_fitment f JOIN inventory.battery_pack p ON p.pack_id = f.pack_id
         WHERE f.unit_id = :u
         ORDER BY f.fitted_on, f.fitment_id"""), {"u": unit_id, "sold": sale_date}).mappings().all()
    return [dict(r) for r in rows]


# --------------------------------------------------------------------------- plans


PLAN_FIELDS = ("oem_id", "name", "vehicle_extra_years", "vehicle_extra_km", "battery_extra_years", "battery_extra_km",
               "price", "sac_code", "buy_within_months", "valid_from", "valid_to", "is_active")


def list_plans(conn: Connection, today: date):
    return conn.execute(sa.text("""
        SELECT p.*, o.brand AS oem_name,
               (SELECT string_agg(m.name, ', ' ORDER BY m.name) FROM warranty.plan_model pm
                  JOIN oem.model m ON m.model_id = pm.model_id WHERE pm.plan_id = p.plan_id) AS model_names,
               p.is_active AND p.valid_from <= :today AND coalesce(p.valid_to, 'infinity') >= :today AS in_force
          FROM warranty.plan p JOIN oem.oem o ON o.oem_id = p.oem_id
         ORDER BY o.brand, p.name"""), {"today": today}).mappings().all()


def get_plan(conn: Connection, plan_id: int):
    return conn.execute(sa.text("""
        SELECT p.*, coalesce((SELECT array_agg(pm.model_id ORDER BY pm.model_id) FROM warranty.plan_model pm
                               WHERE pm.plan_id = p.plan_id), '{}') AS model_ids
          FROM warranty.plan p WHERE p.plan_id = :p"""), {"p": plan_id}).mappings().first()


def insert_plan(conn: Connection, data: dict, model_ids: list[int]) -> int:
    plan_id = conn.execute(sa.text(f"""
        INSERT INTO warranty.plan ({', '.join(PLAN_FIELDS)}) VALUES ({', '.join(':' + f for f in PLAN_FIELDS)})
        RETURNING plan_id"""), {f: data[f] for f in PLAN_FIELDS}).scalar_one()
    _set_plan_models(conn, plan_id, model_ids)
    return plan_id


def update_plan(conn: Connection, plan_id: int, data: dict, model_ids: list[int]) -> None:
    conn.execute(sa.text(f"""
        UPDATE warranty.plan SET {', '.join(f'{f} = :{f}' for f in PLAN_FIELDS)} WHERE plan_id = :plan_id"""),
        {"plan_id": plan_id, **{f: data[f] for f in PLAN_FIELDS}})
    _set_plan_models(conn, plan_id, model_ids)


def _set_plan_models(conn: Connection, plan_id: int, model_ids: list[int]) -> None:
    conn.execute(sa.text("DELETE FROM warranty.plan_model WHERE plan_id = :p AND NOT model_id = ANY(:m)"),
                 {"p": plan_id, "m": model_ids})
    conn.execute(sa.text("""
        INSERT INTO warranty.plan_model (plan_id, model_id) SELECT :p, unnest(CAST(:m AS integer[]))
        ON CONFLICT DO NOTHING"""), {"p": plan_id, "m": model_ids})


def oem_choices(conn: Connection, keep: int | None = None) -> list[tuple[int, str]]:
    return [tuple(r) for r in conn.execute(sa.text(
        "SELECT oem_id, brand FROM oem.oem WHERE is_active OR oem_id = :k ORDER BY brand"), {"k": keep}).all()]


def model_options(conn: Connection):
    """Every model with its OEM, for choosing the models a plan or campaign is for."""
    return conn.execute(sa.text("""
        SELECT m.model_id, m.oem_id, o.brand || ' ' || m.name AS label
          FROM oem.model m JOIN oem.oem o ON o.oem_id = m.oem_id
         ORDER BY o.brand, m.name""")).mappings().all()


def service_codes(conn: Connection) -> list[tuple[str, str]]:
    return [(r.hsn_code, f"{r.hsn_code} · {r.description}") for r in conn.execute(sa.text(
        "SELECT hsn_code, description FROM master.hsn WHERE is_service ORDER BY hsn_code"))]


def plans_for_model(conn: Connection, model_id: int, on: date):
    """Plans on sale on the day for a model (its OEM's plans for every model, or listing it)."""
    return conn.execute(sa.text("""
        SELECT p.plan_id, p.name, p.price, p.buy_within_months
          FROM warranty.plan p JOIN oem.model m ON m.oem_id = p.oem_id AND m.model_id = :m
         WHERE p.is_active AND p.valid_from <= :on AND coalesce(p.valid_to, 'infinity') >= :on
           AND (NOT EXISTS (SELECT 1 FROM warranty.plan_model pm WHERE pm.plan_id = p.plan_id)
                OR EXISTS (SELECT 1 FROM warranty.plan_model pm WHERE pm.plan_id = p.plan_id AND pm.model_id = :m))
         ORDER BY p.name"""), {"m": model_id, "on": on}).mappings().all()


def insert_plan_sale(conn: Connection, *, branch_id: int, plan_id: int, vin: str, model_id: int,
                     vehicle_sold_on: date, sold_on: date, customer_id: int, invoice_ref: str | None) -> int:
    """The plan's price is the price of the plan on the day it is sold (copied: a later price
    change does not rewrite a sale)."""
    return conn.execute(sa.text("""
        INSERT INTO warranty.plan_sale (branch_id, plan_id, vin, model_id, vehicle_sold_on, sold_on, customer_id,
                                        price, invoice_ref)
        SELECT :b, p.plan_id, :vin, :model, :vsold, :sold, :cust, p.price, :ref FROM warranty.plan p
         WHERE p.plan_id = :plan
        RETURNING plan_sale_id"""), {"b": branch_id, "plan": plan_id, "vin": vin, "model": model_id,
                                     "vsold": vehicle_sold_on, "sold": sold_on, "cust": customer_id,
                                     "ref": invoice_ref}).scalar_one()


# --------------------------------------------------------------------------- campaigns

CAMPAIGN_FIELDS = ("oem_id", "code", "title", "kind", "opened_on", "closed_on", "operation_code", "instructions",
                   "match_by", "model_id", "mfg_from", "mfg_to")


def list_campaigns(conn: Connection, state: str, today: date):
    where = {"open": "AND (c.closed_on IS NULL OR c.closed_on >= :today)",
             "closed": "AND c.closed_on < :today"}.get(state, "")
    return conn.execute(sa.text(f"""
        SELECT c.campaign_id, c.code, c.title, c.kind, c.opened_on, c.closed_on, c.match_by, c.mfg_from, c.mfg_to,
               o.brand AS oem_name, m.name AS model_name,
               CASE c.match_by WHEN 'VIN_LIST' THEN (SELECT count(*) FROM warranty.campaign_vin l
                                                      WHERE l.campaign_id = c.campaign_id) END AS listed,
               (SELECT count(*) FROM warranty.campaign_done d WHERE d.campaign_id = c.campaign_id) AS done
          FROM warranty.campaign c JOIN oem.oem o ON o.oem_id = c.oem_id
          LEFT JOIN oem.model m ON m.model_id = c.model_id
         WHERE true {where}
         ORDER BY c.opened_on DESC, c.code"""), {"today": today}).mappings().all()


def get_campaign(conn: Connection, campaign_id: int):
    return conn.execute(sa.text("""
        SELECT c.*, o.brand AS oem_name, m.name AS model_name, l.name AS operation_name
          FROM warranty.campaign c JOIN oem.oem o ON o.oem_id = c.oem_id
          LEFT JOIN oem.model m ON m.model_id = c.model_id
          LEFT JOIN master.labour_operation l ON l.operation_code = c.operation_code
         WHERE c.campaign_id = :c"""), {"c": campaign_id}).mappings().first()


def insert_campaign(conn: Connection, data: dict, vins: list[str]) -> int:
    campaign_id = conn.execute(sa.text(f"""
        INSERT INTO warranty.campaign ({', '.join(CAMPAIGN_FIELDS)})
        VALUES ({', '.join(':' + f for f in CAMPAIGN_FIELDS)}) RETURNING campaign_id"""),
        {f: data.get(f) for f in CAMPAIGN_FIELDS}).scalar_one()
    if vins:
        conn.execute(sa.text("""INSERT INTO warranty.campaign_vin (campaign_id, vin)
                                SELECT :c, unnest(CAST(:v AS text[]))"""), {"c": campaign_id, "v": vins})
    return campaign_id


def close_campaign(conn: Connection, campaign_id: int, closed_on: date) -> None:
    conn.execute(sa.text("UPDATE warranty.campaign SET closed_on = :d WHERE campaign_id = :c"),
                 {"c": campaign_id, "d": closed_on})




# The campaign's vehicles: a VIN-list campaign's listed VINs; a month-range campaign's units of the
# model made in the months that this showroom sold (delivered, seen through the branch's bookings),
# and any VIN already done. Each with whether it is done, and the unit's sale where known here.
_REPORT = {
    "VIN_LIST": """
        FROM warranty.campaign_vin l
        LEFT JOIN warranty.campaign_done d ON d.campaign_id = l.campaign_id AND d.vin = l.vin
       WHERE l.campaign_id = :c {state}""",
    "MFG_RANGE": """
        FROM (SELECT u.vin FROM inventory.vehicle_unit u
                JOIN oem.variant v ON v.variant_id = u.variant_id
               WHERE v.model_id = :model AND u.mfg_month BETWEEN :mfg_from AND :mfg_to AND u.status = 'DELIVERED'
                 AND EXISTS (SELECT 1 FROM sales.delivery s JOIN sales.booking b ON b.booking_id = s.booking_id
                              WHERE s.unit_id = u.unit_id)
              UNION
              SELECT d.vin FROM warranty.campaign_done d WHERE d.campaign_id = :c) l
        LEFT JOIN warranty.campaign_done d ON d.campaign_id = :c AND d.vin = l.vin
       WHERE true {state}""",
}
_REPORT_STATE = {"pending": "AND d.done_id IS NULL", "done": "AND d.done_id IS NOT NULL"}


def campaign_report(conn: Connection, campaign, state: str, page: int, size: int):
    """(rows, counted) of the campaign's vehicles, pending first, by VIN."""
    body = _REPORT[campaign["match_by"]].format(state=_REPORT_STATE.get(state, ""))
    params = {"c": campaign["campaign_id"], "model": campaign["model_id"], "mfg_from": campaign["mfg_from"],
              "mfg_to": campaign["mfg_to"], "limit": size, "offset": (page - 1) * size, "cap": count_cap(page, size)}
    rows = conn.execute(sa.text(f"""
        WITH page AS (
            SELECT l.vin, d.done_on, d.job_ref, d.branch_id AS done_branch_id {body}
             ORDER BY d.done_id IS NOT NULL, l.vin LIMIT :limit OFFSET :offset)
        SELECT p.vin, p.done_on, p.job_ref, br.branch_code AS done_branch, u.mfg_month, m.name AS model_name,
               s.delivered_on AS sold_on, c.name AS customer_name, c.mobile AS customer_mobile,
               (SELECT k.claim_no FROM warranty.claim k
                 WHERE k.campaign_id = :c AND k.vin = p.vin AND k.kind = 'RECALL') AS recall_claim_no,
               {capped_count(body)} AS counted
          FROM page p
          LEFT JOIN master.branch br ON br.branch_id = p.done_branch_id
          LEFT JOIN inventory.vehicle_unit u ON u.vin = p.vin
          LEFT JOIN oem.variant v ON v.variant_id = u.variant_id
          LEFT JOIN oem.model m ON m.model_id = v.model_id
          LEFT JOIN LATERAL (SELECT s.delivered_on, s.booking_id FROM sales.delivery s WHERE s.unit_id = u.unit_id
                              ORDER BY s.delivered_on DESC, s.delivery_id DESC LIMIT 1) s ON true
          LEFT JOIN sales.booking b ON b.booking_id = s.booking_id
          LEFT JOIN master.customer c ON c.customer_id = b.customer_id
         ORDER BY p.done_on IS NOT NULL, p.vin"""), params).mappings().all()
    counted = rows[0]["counted"] if rows else conn.execute(
        sa.text(f"SELECT {capped_count(body)}"), params).scalar_one()
    return rows, counted


def campaign_totals(conn: Connection, campaign) -> dict:
    body = _REPORT[campaign["match_by"]].format(state="")
    params = {"c": campaign["campaign_id"], "model": campaign["model_id"], "mfg_from": campaign["mfg_from"],
              "mfg_to": campaign["mfg_to"]}
    row = conn.execute(sa.text(f"SELECT count(*) AS vehicles, count(d.done_id) AS done {body}"), params).one()
    return {"vehicles": row.vehicles, "done": row.done, "pending": row.vehicles - row.done}


def unit_for_campaign(conn: Connection, vin: str):
    """The model and manufacture month of a unit this showroom has held (any branch), or None."""
    return conn.execute(sa.text("""
        SELECT v.model_id, u.mfg_month FROM inventory.vehicle_unit u JOIN oem.variant v ON v.variant_id = u.variant_id
         WHERE u.vin = :vin"""), {"vin": vin}).mappings().first()


def insert_campaign_done(conn: Connection, *, campaign_id: int, vin: str, model_id: int | None,
                         mfg_month: date | None, done_on: date, branch_id: int, job_ref: str | None) -> int:
    return conn.execute(sa.text("""
        INSERT INTO warranty.campaign_done (campaign_id, vin, model_id, mfg_month, done_on, branch_id, job_ref)
        VALUES (:c, :vin, :model, :mfg, :on, :b, :ref) RETURNING done_id"""),
        {"c": campaign_id, "vin": vin, "model": model_id, "mfg": mfg_month, "on": done_on, "b": branch_id,
         "ref": job_ref}).scalar_one()


# --------------------------------------------------------------------------- the replacement pack rule


def list_rules(conn: Connection, today: date):
    return conn.execute(sa.text("""
        SELECT r.*, o.brand AS oem_name,
               master.valid_during(r.effective_from, r.effective_to) @> CAST(:today AS date) AS in_force
          FROM warranty.replacement_rule r LEFT JOIN oem.oem o ON o.oem_id = r.oem_id
         ORDER BY o.brand NULLS FIRST, r.effective_from DESC"""), {"today": today}).mappings().all()


def get_rule(conn: Connection, rule_id: int):
    return conn.execute(sa.text("SELECT * FROM warranty.replacement_rule WHERE rule_id = :r"),
                        {"r": rule_id}).mappings().first()


def overlapping_rules(conn: Connection, oem_id: int | None, start: date, end: date | None, rule_id: int | None):
    return conn.execute(sa.text("""
        SELECT pack_term, effective_from, effective_to FROM warranty.replacement_rule
         WHERE oem_id IS NOT DISTINCT FROM :o AND rule_id IS DISTINCT FROM :r
           AND master.valid_during(effective_from, effective_to) && master.valid_during(:f, :t)
         ORDER BY effective_from"""), {"o": oem_id, "r": rule_id, "f": start, "t": end}).all()


def save_rule(conn: Connection, rule_id: int | None, data: dict) -> int:
    values = {"o": data["oem_id"] or None, "p": data["pack_term"], "f": data["effective_from"],
              "t": data["effective_to"], "r": rule_id}
    if rule_id is None:
        return conn.execute(sa.text("""
            INSERT INTO warranty.replacement_rule (oem_id, pack_term, effective_from, effective_to)
            VALUES (:o, :p, :f, :t) RETURNING rule_id"""), values).scalar_one()
    conn.execute(sa.text("""UPDATE warranty.replacement_rule SET oem_id = :o, pack_term = :p, effective_from = :f,
                                   effective_to = :t WHERE rule_id = :r"""), values)
    return rule_id
