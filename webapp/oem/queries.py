"""SQL of the oem module: OEMs, models and their free-service schedule, variants, colours, dated
price lists with the subsidy they give, OEM schemes. Every function takes the request's
connection and never commits."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..db import pick

# --------------------------------------------------------------------------- OEMs

OEM_COLUMNS = ("brand", "legal_name", "dealer_code", "gstin", "address", "contact_name", "contact_phone",
               "contact_email", "is_active")


def list_oems(conn: Connection):
    return conn.execute(
        sa.text(
            """SELECT o.*, s.name AS state_name,
                      (SELECT count(*) FROM oem.model m WHERE m.oem_id = o.oem_id AND m.is_active) AS models
                 FROM oem.oem o JOIN master.state s USING (state_code)
                ORDER BY o.is_active DESC, o.brand"""
        )
    ).all()


def get_oem(conn: Connection, oem_id: int):
    return conn.execute(
        sa.text("SELECT o.*, s.name AS state_name FROM oem.oem o JOIN master.state s USING (state_code) "
                "WHERE o.oem_id = :id"),
        {"id": oem_id},
    ).first()


def insert_oem(conn: Connection, data: dict) -> int:
    return conn.execute(
        sa.text(
            """INSERT INTO oem.oem (brand, legal_name, dealer_code, gstin, address, contact_name, contact_phone,
                                    contact_email, is_active)
               VALUES (:brand, :legal_name, :dealer_code, :gstin, :address, :contact_name, :contact_phone,
                       :contact_email, :is_active)
               RETURNING oem_id"""
        ),
        pick(data, OEM_COLUMNS),
    ).scalar_one()


def update_oem(conn: Connection, oem_id: int, data: dict) -> None:
    conn.execute(
        sa.text(
            """UPDATE oem.oem
                  SET brand = :brand, legal_name = :legal_name, dealer_code = :dealer_code, gstin = :gstin,
                      address = :address, contact_name = :contact_name, contact_phone = :contact_phone,
                      contact_email = :contact_email, is_active = :is_active
                WHERE oem_id = :id"""
        ),
        {**pick(data, OEM_COLUMNS), "id": oem_id},
    )


def oem_choices(conn: Connection, keep: int | None = None) -> list[tuple[int, str]]:
    rows = conn.execute(sa.text("SELECT oem_id, brand FROM oem.oem WHERE is_active OR oem_id = :keep ORDER BY brand"),
                        {"keep": keep})
    return [(r.oem_id, r.brand) for r in rows]


# --------------------------------------------------------------------------- models

MODEL_COLUMNS = ("name", "segment", "is_low_speed", "is_active")


def list_models(conn: Connection, oem_id: int | None = None):
    return conn.execute(
        sa.text(
            """SELECT m.*, o.brand,
                      (SELECT count(*) FROM oem.variant v WHERE v.model_id = m.model_id AND v.is_active) AS variants,
                      (SELECT count(*) FROM oem.free_service f WHERE f.model_id = m.model_id) AS free_services
                 FROM oem.model m JOIN oem.oem o USING (oem_id)
                WHERE CAST(:oem AS integer) IS NULL OR m.oem_id = :oem
                ORDER BY m.is_active DESC, o.brand, m.name"""
        ),
        {"oem": oem_id},
    ).all()


def get_model(conn: Connection, model_id: int):
    return conn.execute(
        sa.text("SELECT m.*, o.brand FROM oem.model m JOIN oem.oem o USING (oem_id) WHERE m.model_id = :id"),
        {"id": model_id},
    ).first()


def free_services(conn: Connection, model_id: int):
    return conn.execute(
        sa.text("SELECT service_no, due_months, due_km FROM oem.free_service WHERE model_id = :m ORDER BY service_no"),
        {"m": model_id},
    ).all()


def save_model(conn: Connection, oem_id: int, model_id: int | None, data: dict, schedule: list[dict]) -> int:
    """Insert or update a model and replace its free-service schedule, as one change.

    ``schedule`` is the list of {due_months, due_km} in service order (1st, 2nd, ...)."""
    values = pick(data, MODEL_COLUMNS)
    if model_id is None:
        model_id = conn.execute(
            sa.text("""INSERT INTO oem.model (oem_id, name, segment, is_low_speed, is_active)
                       VALUES (:oem, :name, :segment, :is_low_speed, :is_active) RETURNING model_id"""),
            {**values, "oem": oem_id},
        ).scalar_one()
    else:
        conn.execute(
            sa.text("""UPDATE oem.model SET name = :name, segment = :segment, is_low_speed = :is_low_speed,
                              is_active = :is_active WHERE model_id = :id"""),
            {**values, "id": model_id},
        )
    rows = [{"m": model_id, "n": n, "months": r["due_months"], "km": r["due_km"]}
            for n, r in enumerate(schedule, start=1)]
    conn.execute(sa.text("DELETE FROM oem.free_service WHERE model_id = :m AND service_no > :n"),
                 {"m": model_id, "n": len(rows)})
    if rows:
        conn.execute(
            sa.text("""INSERT INTO oem.free_service (model_id, service_no, due_months, due_km)
                       VALUES (:m, :n, :months, :km)
                       ON CONFLICT (model_id, service_no) DO UPDATE
                          SET due_months = EXCLUDED.due_months, due_km = EXCLUDED.due_km
                        WHERE (oem.free_service.due_months, oem.free_service.due_km)
                              IS DISTINCT FROM (EXCLUDED.due_months, EXCLUDED.due_km)"""),
            rows,
        )
    return model_id


# --------------------------------------------------------------------------- variants

VARIANT_COLUMNS = ("name", "hsn_code", "battery_chemistry", "battery_kwh", "certified_range_km", "motor_power_kw",
                   "top_speed_kmph", "charger_type", "vehicle_warranty_years", "vehicle_warranty_km",
                   "battery_warranty_years", "battery_warranty_km", "battery_min_soh_pct", "is_active")


def variants_of_model(conn: Connection, model_id: int, on: date):
    """The model's variants with the every-colour price in force on the day and the subsidy it gives."""
    return conn.execute(
        sa.text(
            """SELECT v.*, p.ex_showroom, oem.subsidy_amount(p, v.battery_kwh) AS subsidy,
                      (SELECT count(*) FROM oem.variant_colour c WHERE c.variant_id = v.variant_id AND c.is_active)
                          AS colours
                 FROM oem.variant v
                 LEFT JOIN LATERAL oem.price_on(v.variant_id, NULL, :on) p ON true
                WHERE v.model_id = :m
                ORDER BY v.is_active DESC, v.name"""
        ),
        {"m": model_id, "on": on},
    ).all()


def get_variant(conn: Connection, variant_id: int, on: date):
    return conn.execute(
        sa.text(
            """SELECT v.*, m.name AS model_name, m.segment, m.is_low_speed, m.oem_id, o.brand,
                      h.description AS hsn_description, master.gst_rate_on(v.hsn_code, :on) AS gst_rate
                 FROM oem.variant v
                 JOIN oem.model m USING (model_id)
                 JOIN oem.oem o USING (oem_id)
                 JOIN master.hsn h ON h.hsn_code = v.hsn_code
                WHERE v.variant_id = :id"""
        ),
        {"id": variant_id, "on": on},
    ).first()


def insert_variant(conn: Connection, model_id: int, data: dict) -> int:
    return conn.execute(
        sa.text(
            """INSERT INTO oem.variant (model_id, name, hsn_code, battery_chemistry, battery_kwh, certified_range_km,
                                        motor_power_kw, top_speed_kmph, charger_type, vehicle_warranty_years,
                                        vehicle_warranty_km, battery_warranty_years, battery_warranty_km,
                                        battery_min_soh_pct, is_active)
               VALUES (:model, :name, :hsn_code, :battery_chemistry, :battery_kwh, :certified_range_km,
                       :motor_power_kw, :top_speed_kmph, :charger_type, :vehicle_warranty_years,
                       :vehicle_warranty_km, :battery_warranty_years, :battery_warranty_km,
                       :battery_min_soh_pct, :is_active)
               RETURNING variant_id"""
        ),
        {**pick(data, VARIANT_COLUMNS), "model": model_id},
    ).scalar_one()


def update_variant(conn: Connection, variant_id: int, data: dict) -> None:
    sets = ", ".join(f"{c} = :{c}" for c in VARIANT_COLUMNS)
    conn.execute(sa.text(f"UPDATE oem.variant SET {sets} WHERE variant_id = :id"),
                 {**pick(data, VARIANT_COLUMNS), "id": variant_id})


def variant_options(conn: Connection, keep: int | None = None):
    """Active variants (and the one already chosen) as rows of variant_id, label, oem_id."""
    return conn.execute(
        sa.text(
            """SELECT v.variant_id, o.brand || ' ' || m.name || ' ' || v.name AS label, m.oem_id
                 FROM oem.variant v JOIN oem.model m USING (model_id) JOIN oem.oem o USING (oem_id)
                WHERE v.is_active OR v.variant_id = :keep
                ORDER BY o.brand, m.name, v.name"""
        ),
        {"keep": keep},
    ).all()


# --------------------------------------------------------------------------- colours


def colours(conn: Connection, variant_id: int):
    return conn.execute(
        sa.text("SELECT * FROM oem.variant_colour WHERE variant_id = :v ORDER BY is_active DESC, colour"),
        {"v": variant_id},
    ).all()


def get_colour(conn: Connection, variant_id: int, colour: str):
    return conn.execute(sa.text("SELECT * FROM oem.variant_colour WHERE variant_id = :v AND colour = :c"),
                        {"v": variant_id, "c": colour}).first()


def insert_colour(conn: Connection, variant_id: int, data: dict) -> None:
    conn.execute(sa.text("INSERT INTO oem.variant_colour (variant_id, colour, colour_code) VALUES (:v, :c, :code)"),
                 {"v": variant_id, "c": data["colour"], "code": data.get("colour_code")})


def set_colour_active(conn: Connection, variant_id: int, colour: str, active: bool) -> None:
    conn.execute(sa.text("UPDATE oem.variant_colour SET is_active = :a WHERE variant_id = :v AND colour = :c"),
                 {"a": active, "v": variant_id, "c": colour})


# --------------------------------------------------------------------------- price lists

PRICE_COLUMNS = ("colour", "ex_showroom", "ex_factory", "subsidy_rule", "subsidy_amount", "subsidy_per_kwh",
                 "subsidy_cap", "subsidy_cap_pct", "effective_from", "effective_to")


def prices_of_variant(conn: Connection, variant_id: int, on: date):
    """Every price row of the variant, newest period first, each with the subsidy it gives."""
    return conn.execute(
        sa.text(
            """SELECT p.*, oem.subsidy_amount(p, v.battery_kwh) AS subsidy,
                      master.valid_during(p.effective_from, p.effective_to) @> CAST(:on AS date) AS in_force
                 FROM oem.price_list p JOIN oem.variant v USING (variant_id)
                WHERE p.variant_id = :v
                ORDER BY p.colour NULLS FIRST, p.effective_from DESC"""
        ),
        {"v": variant_id, "on": on},
    ).all()


def get_price(conn: Connection, price_id: int):
    return conn.execute(sa.text("SELECT * FROM oem.price_list WHERE price_id = :id"), {"id": price_id}).first()


def price_on(conn: Connection, variant_id: int, colour: str | None, on: date):
    """The price row in force for the variant (and colour) on the day, with its subsidy; None if none."""
    return conn.execute(
        sa.text(
            """SELECT p.*, oem.subsidy_amount(p, v.battery_kwh) AS subsidy
                 FROM oem.price_on(:v, :c, :on) p JOIN oem.variant v USING (variant_id)"""
        ),
        {"v": variant_id, "c": colour, "on": on},
    ).first()


def prices_today(conn: Connection, variant_id: int, on: date):
    """What each active colour sells at on the day (the colour's own row, else the every-colour row).
    Without colours: the every-colour price alone."""
    return conn.execute(
        sa.text(
            """SELECT c.colour, p.price_id, p.colour AS price_colour, p.ex_showroom, p.ex_factory, p.subsidy_rule,
                      p.effective_from, p.effective_to, oem.subsidy_amount(p, v.battery_kwh) AS subsidy
                 FROM oem.variant v
                 CROSS JOIN LATERAL (SELECT colour FROM oem.variant_colour
                                      WHERE variant_id = v.variant_id AND is_active
                                     UNION ALL
                                     SELECT NULL WHERE NOT EXISTS (SELECT 1 FROM oem.variant_colour
                                                                    WHERE variant_id = v.variant_id AND is_active)
                                    ) c
                 LEFT JOIN LATERAL oem.price_on(v.variant_id, c.colour, :on) p ON true
                WHERE v.variant_id = :v
                ORDER BY c.colour NULLS FIRST"""
        ),
        {"v": variant_id, "on": on},
    ).all()


def insert_price(conn: Connection, variant_id: int, data: dict) -> int:
    return conn.execute(
        sa.text(
            """INSERT INTO oem.price_list (variant_id, colour, ex_showroom, ex_factory, subsidy_rule, subsidy_amount,
                                           subsidy_per_kwh, subsidy_cap, subsidy_cap_pct, effective_from,
                                           effective_to)
               VALUES (:v, :colour, :ex_showroom, :ex_factory, :subsidy_rule, :subsidy_amount, :subsidy_per_kwh,
                       :subsidy_cap, :subsidy_cap_pct, :effective_from, :effective_to)
               RETURNING price_id"""
        ),
        {**pick(data, PRICE_COLUMNS), "v": variant_id},
    ).scalar_one()


def update_price(conn: Connection, price_id: int, data: dict) -> None:
    sets = ", ".join(f"{c} = :{c}" for c in PRICE_COLUMNS)
    conn.execute(sa.text(f"UPDATE oem.price_list SET {sets} WHERE price_id = :id"),
                 {**pick(data, PRICE_COLUMNS), "id": price_id})


def overlapping_prices(conn: Connection, variant_id: int, colour: str | None, valid_from, valid_to,
                       except_id: int | None):
    """Price rows of the same variant and colour (or both 'every colour') sharing a day with the period."""
    if valid_from is None or (valid_to is not None and valid_to < valid_from):
        return []
    return conn.execute(
        sa.text(
            """SELECT ex_showroom, effective_from, effective_to FROM oem.price_list
                WHERE variant_id = :v AND colour IS NOT DISTINCT FROM CAST(:c AS text)
                  AND price_id IS DISTINCT FROM :except
                  AND master.valid_during(effective_from, effective_to) && master.valid_during(:vf, :vt)
                ORDER BY effective_from"""
        ),
        {"v": variant_id, "c": colour, "except": except_id, "vf": valid_from, "vt": valid_to},
    ).all()


# --------------------------------------------------------------------------- schemes

SCHEME_COLUMNS = ("oem_id", "name", "kind", "variant_id", "amount", "valid_from", "valid_to")


def list_schemes(conn: Connection, oem_id: int | None, when: str, on: date):
    where = ["true"]
    if oem_id:
        where.append("s.oem_id = :oem")
    if when == "current":
        where.append("CAST(:on AS date) BETWEEN s.valid_from AND s.valid_to")
    elif when == "coming":
        where.append("s.valid_from > :on")
    elif when == "past":
        where.append("s.valid_to < :on")
    return conn.execute(
        sa.text(
            f"""SELECT s.*, o.brand, m.name AS model_name, v.name AS variant_name,
                       CAST(:on AS date) BETWEEN s.valid_from AND s.valid_to AS in_force
                  FROM oem.scheme s
                  JOIN oem.oem o USING (oem_id)
                  LEFT JOIN oem.variant v ON v.variant_id = s.variant_id
                  LEFT JOIN oem.model m ON m.model_id = v.model_id
                 WHERE {' AND '.join(where)}
                 ORDER BY s.valid_from DESC, o.brand, s.name"""
        ),
        {"oem": oem_id, "on": on},
    ).all()


def schemes_for_variant(conn: Connection, variant_id: int, oem_id: int, on: date):
    """Schemes in force on the day for this variant (its own and the OEM's every-variant ones)."""
    return conn.execute(
        sa.text(
            """SELECT * FROM oem.scheme
                WHERE oem_id = :oem AND (variant_id = :v OR variant_id IS NULL)
                  AND CAST(:on AS date) BETWEEN valid_from AND valid_to
                ORDER BY kind, name"""
        ),
        {"oem": oem_id, "v": variant_id, "on": on},
    ).all()


def get_scheme(conn: Connection, scheme_id: int):
    return conn.execute(sa.text("SELECT * FROM oem.scheme WHERE scheme_id = :id"), {"id": scheme_id}).first()


def insert_scheme(conn: Connection, data: dict) -> int:
    return conn.execute(
        sa.text(
            """INSERT INTO oem.scheme (oem_id, name, kind, variant_id, amount, valid_from, valid_to)
               VALUES (:oem_id, :name, :kind, :variant_id, :amount, :valid_from, :valid_to)
               RETURNING scheme_id"""
        ),
        pick(data, SCHEME_COLUMNS),
    ).scalar_one()


def update_scheme(conn: Connection, scheme_id: int, data: dict) -> None:
    sets = ", ".join(f"{c} = :{c}" for c in SCHEME_COLUMNS)
    conn.execute(sa.text(f"UPDATE oem.scheme SET {sets} WHERE scheme_id = :id"),
                 {**pick(data, SCHEME_COLUMNS), "id": scheme_id})
