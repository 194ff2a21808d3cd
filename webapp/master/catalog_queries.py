"""SQL of the catalog screens of master: tax master, customers, financiers and insurers, spare
parts and labour operations. Every function takes the request's connection and never commits."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..db import contains_pattern, name_contains, pick
from ..formatting import plain_number
from ..paging import capped_count, count_cap
from ..validators import normalise_mobile


def _paged(conn: Connection, select_sql: str, count_sql: str, params: dict, page: int, page_size: int):
    """One page of rows and the total; the total comes with the rows unless the page is empty."""
    rows = conn.execute(sa.text(f"{select_sql} LIMIT :limit OFFSET :offset"),
                        {**params, "limit": page_size, "offset": (page - 1) * page_size}).all()
    total = rows[0].total if rows else conn.execute(sa.text(count_sql), params).scalar_one()
    return rows, total


# --------------------------------------------------------------------------- reference


def state_choices(conn: Connection) -> list[tuple[str, str]]:
    rows = conn.execute(sa.text("SELECT state_code, name FROM master.state WHERE in_use ORDER BY name"))
    return [(r.state_code, f"{r.name} ({r.state_code})") for r in rows]


def state_label(conn: Connection, state_code: str | None) -> str | None:
    name = conn.execute(sa.text("SELECT name FROM master.state WHERE state_code = :c"), {"c": state_code}).scalar()
    return f"{name} ({state_code})" if name else None


def branch_state(conn: Connection, branch_id: int) -> str | None:
    return conn.execute(sa.text("SELECT state_code FROM master.branch WHERE branch_id = :b"), {"b": branch_id}).scalar()


# --------------------------------------------------------------------------- tax master


def hsn_choices(conn: Connection, on: date, services: bool | None = None) -> list[tuple[str, str]]:
    """HSN (goods) or SAC (services) codes for a select, each with its GST rate in force on the day."""
    rows = conn.execute(
        sa.text(
            """SELECT hsn_code, description, master.gst_rate_on(hsn_code, :on) AS rate
                 FROM master.hsn
                WHERE CAST(:services AS boolean) IS NULL OR is_service = :services
                ORDER BY is_service, hsn_code"""
        ),
        {"on": on, "services": services},
    )
    # The rate before the description: a narrow select cuts the end of the label off.
    return [(r.hsn_code, f"{r.hsn_code} · {_rate_today(r.rate)} · {_short(r.description)}") for r in rows]


def _rate_today(rate) -> str:
    return f"GST {plain_number(rate)}% today" if rate is not None else "no GST rate today"


def _short(text: str, length: int = 48) -> str:
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def list_hsn(conn: Connection, on: date):
    return conn.execute(
        sa.text(
            """SELECT h.*, master.gst_rate_on(h.hsn_code, :on) AS rate_today,
                      (SELECT count(*) FROM master.hsn_rate r WHERE r.hsn_code = h.hsn_code) AS rate_count
                 FROM master.hsn h
                ORDER BY h.is_service, h.hsn_code"""
        ),
        {"on": on},
    ).all()


def get_hsn(conn: Connection, hsn_code: str, on: date):
    return conn.execute(
        sa.text("SELECT h.*, master.gst_rate_on(h.hsn_code, :on) AS rate_today FROM master.hsn h "
                "WHERE h.hsn_code = :code"),
        {"code": hsn_code, "on": on},
    ).first()


def insert_hsn(conn: Connection, data: dict) -> str:
    return conn.execute(
        sa.text("INSERT INTO master.hsn (hsn_code, description, is_service) VALUES (:hsn_code, :description, "
                ":is_service) RETURNING hsn_code"),
        pick(data, ("hsn_code", "description", "is_service")),
    ).scalar_one()


def update_hsn(conn: Connection, hsn_code: str, data: dict) -> None:
    # The code itself never changes: prices, parts and invoices refer to it.
    conn.execute(sa.text("UPDATE master.hsn SET description = :description, is_service = :is_service "
                         "WHERE hsn_code = :code"),
                 {**pick(data, ("description", "is_service")), "code": hsn_code})


def hsn_rates(conn: Connection, hsn_code: str, on: date):
    return conn.execute(
        sa.text(
            """SELECT r.*, master.valid_during(r.effective_from, r.effective_to) @> CAST(:on AS date) AS in_force
                 FROM master.hsn_rate r WHERE r.hsn_code = :code
                ORDER BY r.effective_from DESC"""
        ),
        {"code": hsn_code, "on": on},
    ).all()


def get_hsn_rate(conn: Connection, hsn_rate_id: int):
    return conn.execute(sa.text("SELECT * FROM master.hsn_rate WHERE hsn_rate_id = :id"), {"id": hsn_rate_id}).first()


HSN_RATE_COLUMNS = ("gst_rate", "effective_from", "effective_to", "notification")


def insert_hsn_rate(conn: Connection, hsn_code: str, data: dict) -> int:
    return conn.execute(
        sa.text(
            """INSERT INTO master.hsn_rate (hsn_code, gst_rate, effective_from, effective_to, notification)
               VALUES (:code, :gst_rate, :effective_from, :effective_to, :notification)
               RETURNING hsn_rate_id"""
        ),
        {**pick(data, HSN_RATE_COLUMNS), "code": hsn_code},
    ).scalar_one()


def update_hsn_rate(conn: Connection, hsn_rate_id: int, data: dict) -> None:
    conn.execute(
        sa.text(
            """UPDATE master.hsn_rate
                  SET gst_rate = :gst_rate, effective_from = :effective_from, effective_to = :effective_to,
                      notification = :notification
                WHERE hsn_rate_id = :id"""
        ),
        {**pick(data, HSN_RATE_COLUMNS), "id": hsn_rate_id},
    )


def overlapping_hsn_rates(conn: Connection, hsn_code: str, valid_from, valid_to, except_id: int | None):
    """The rates of this code whose period shares a day with the given one (for a readable error)."""
    if valid_from is None or (valid_to is not None and valid_to < valid_from):
        return []
    return conn.execute(
        sa.text(
            """SELECT gst_rate, effective_from, effective_to FROM master.hsn_rate
                WHERE hsn_code = :code AND hsn_rate_id IS DISTINCT FROM :except
                  AND master.valid_during(effective_from, effective_to)
                      && master.valid_during(:vf, :vt)
                ORDER BY effective_from"""
        ),
        {"code": hsn_code, "except": except_id, "vf": valid_from, "vt": valid_to},
    ).all()


# --------------------------------------------------------------------------- customers

CUSTOMER_COLUMNS = ("kind", "name", "mobile", "email", "address_line1", "address_line2", "city", "state_code",
                    "pincode", "gstin", "pan", "date_of_birth", "aadhaar_last4")

CUSTOMER_ROW = """
    SELECT c.customer_id, c.kind, c.name, c.mobile, c.email, c.city, c.state_code, c.gstin,
           s.name AS state_name, b.branch_code"""
CUSTOMER_FROM = """
      FROM master.customer c
      JOIN master.state s USING (state_code)
      JOIN master.branch b ON b.branch_id = c.branch_id"""


def search_customers(conn: Connection, q: str, page: int, page_size: int):
    """Customers whose name or mobile contains what was typed: the exact mobile first, then names
    that start with it, then the rest by name. Without a search, every customer by name, counted up
    to paging.count_cap (an index gives the order; the 30,000 rows are never all read)."""
    params: dict = {"limit": page_size, "offset": (page - 1) * page_size}
    if not q:
        params["cap"] = count_cap(page, page_size)
        rows = conn.execute(sa.text(
            f"""{CUSTOMER_ROW},
                       {capped_count("FROM master.customer")} AS total
                 {CUSTOMER_FROM}
                 ORDER BY lower(c.name), c.customer_id
                 LIMIT :limit OFFSET :offset"""), params).all()
        total = rows[0].total if rows else conn.execute(
            sa.text("SELECT " + capped_count("FROM master.customer")), params).scalar_one()
        return rows, total
    digits = normalise_mobile(q)
    params.update(q=contains_pattern(q), prefix=contains_pattern(q)[1:], exact=digits)
    name, name_params = name_contains("c.name", q)
    params.update(name_params)
    where = f"({name} OR c.mobile LIKE :q"
    if digits.isdigit() and digits != q:  # '+91 98450 12345' finds 9845012345
        params["digits"] = contains_pattern(digits)
        where += " OR c.mobile LIKE :digits"
    where += ")"
    return _paged(
        conn,
        f"""{CUSTOMER_ROW}, count(*) OVER () AS total {CUSTOMER_FROM}
             WHERE {where}
             ORDER BY c.mobile = :exact DESC NULLS LAST, c.name ILIKE :prefix DESC NULLS LAST,
                      lower(c.name), c.customer_id""",
        f"SELECT count(*) FROM master.customer c WHERE {where}",
        params, page, page_size,
    )


def get_customer(conn: Connection, customer_id: int):
    return conn.execute(
        sa.text(
            """SELECT c.*, s.name AS state_name, b.branch_code, coalesce(b.trade_name, b.legal_name) AS branch_name
                 FROM master.customer c
                 JOIN master.state s USING (state_code)
                 JOIN master.branch b ON b.branch_id = c.branch_id
                WHERE c.customer_id = :id"""
        ),
        {"id": customer_id},
    ).first()


def insert_customer(conn: Connection, data: dict, branch_id: int) -> int:
    return conn.execute(
        sa.text(
            """INSERT INTO master.customer (branch_id, kind, name, mobile, email, address_line1, address_line2,
                                            city, state_code, pincode, gstin, pan, date_of_birth, aadhaar_last4)
               VALUES (:branch_id, :kind, :name, :mobile, :email, :address_line1, :address_line2,
                       :city, :state_code, :pincode, :gstin, :pan, :date_of_birth, :aadhaar_last4)
               RETURNING customer_id"""
        ),
        {**pick(data, CUSTOMER_COLUMNS), "branch_id": branch_id},
    ).scalar_one()


def update_customer(conn: Connection, customer_id: int, data: dict) -> None:
    # The branch that added the customer stays theirs.
    conn.execute(
        sa.text(
            """UPDATE master.customer
                  SET kind = :kind, name = :name, mobile = :mobile, email = :email,
                      address_line1 = :address_line1, address_line2 = :address_line2, city = :city,
                      state_code = :state_code, pincode = :pincode, gstin = :gstin, pan = :pan,
                      date_of_birth = :date_of_birth, aadhaar_last4 = :aadhaar_last4
                WHERE customer_id = :id"""
        ),
        {**pick(data, CUSTOMER_COLUMNS), "id": customer_id},
    )


# --------------------------------------------------------------------------- financiers and insurers

# Both tables have the same shape; the kind picks the table (never text from the request).
PARTY_TABLES = {"financier": ("master.financier", "financier_id"), "insurer": ("master.insurer", "insurer_id")}
PARTY_COLUMNS = ("name", "gstin", "phone", "is_active")


def list_parties(conn: Connection, kind: str):
    table, key = PARTY_TABLES[kind]
    return conn.execute(sa.text(f"SELECT {key} AS party_id, * FROM {table} ORDER BY is_active DESC, name")).all()


def get_party(conn: Connection, kind: str, party_id: int):
    table, key = PARTY_TABLES[kind]
    return conn.execute(sa.text(f"SELECT {key} AS party_id, * FROM {table} WHERE {key} = :id"),
                        {"id": party_id}).first()


def insert_party(conn: Connection, kind: str, data: dict) -> int:
    table, key = PARTY_TABLES[kind]
    return conn.execute(
        sa.text(f"INSERT INTO {table} (name, gstin, phone, is_active) VALUES (:name, :gstin, :phone, :is_active) "
                f"RETURNING {key}"),
        pick(data, PARTY_COLUMNS),
    ).scalar_one()


def update_party(conn: Connection, kind: str, party_id: int, data: dict) -> None:
    table, key = PARTY_TABLES[kind]
    conn.execute(
        sa.text(f"UPDATE {table} SET name = :name, gstin = :gstin, phone = :phone, is_active = :is_active "
                f"WHERE {key} = :id"),
        {**pick(data, PARTY_COLUMNS), "id": party_id},
    )


# --------------------------------------------------------------------------- spare parts

PART_COLUMNS = ("part_no", "name", "hsn_code", "unit", "mrp", "purchase_price", "reorder_level", "reorder_qty",
                "is_active")

PART_ROW = """
    SELECT p.part_id, p.part_no, p.name, p.hsn_code, p.unit, p.whole_units, p.mrp, p.purchase_price,
           p.reorder_level, p.reorder_qty, p.is_active, master.gst_rate_on(p.hsn_code, :on) AS gst_rate,
           (SELECT string_agg(o.brand || ' ' || m.name, ', ' ORDER BY o.brand, m.name)
              FROM master.part_model pm JOIN oem.model m USING (model_id) JOIN oem.oem o USING (oem_id)
             WHERE pm.part_id = p.part_id) AS models"""


def search_parts(conn: Connection, q: str, status: str, model_id: int | None, on: date, page: int, page_size: int):
    """Parts by part number or name. A scanned or typed part number that matches exactly comes first,
    then part numbers that start with it, then the rest by name."""
    where = ["true"]
    params: dict = {"on": on, "exact": None, "prefix": None}
    if q:
        code = q.upper()
        params.update(exact=code, prefix=contains_pattern(code)[1:], q=contains_pattern(q), code=contains_pattern(code))
        where.append("(p.part_no LIKE :code OR p.name ILIKE :q)")
    if status in ("active", "inactive"):
        where.append("p.is_active = :active")
        params["active"] = status == "active"
    if model_id:
        where.append("EXISTS (SELECT 1 FROM master.part_model pm WHERE pm.part_id = p.part_id "
                     "AND pm.model_id = :model)")
        params["model"] = model_id
    condition = " AND ".join(where)
    return _paged(
        conn,
        f"""{PART_ROW}, count(*) OVER () AS total
              FROM master.part p
             WHERE {condition}
             ORDER BY p.part_no = :exact DESC NULLS LAST, p.part_no LIKE :prefix DESC NULLS LAST,
                      lower(p.name), p.part_no""",
        f"SELECT count(*) FROM master.part p WHERE {condition}",
        params, page, page_size,
    )


def get_part(conn: Connection, part_id: int, on: date):
    return conn.execute(
        sa.text(f"""{PART_ROW}, h.description AS hsn_description
                      FROM master.part p JOIN master.hsn h USING (hsn_code)
                     WHERE p.part_id = :id"""),
        {"id": part_id, "on": on},
    ).first()


def part_model_ids(conn: Connection, part_id: int) -> list[int]:
    return list(conn.execute(sa.text("SELECT model_id FROM master.part_model WHERE part_id = :p ORDER BY model_id"),
                             {"p": part_id}).scalars())


def labour_choices(conn: Connection, keep: str | None = None) -> list[tuple[str, str]]:
    """The active labour operations (and ``keep``, one already chosen, even if inactive since), as
    "CODE · name (1.5 h)", by code: what an estimate, a claim or a campaign picks its labour from."""
    return [(r.operation_code, f"{r.operation_code} · {r.name} ({r.standard_hours.normalize():f} h)")
            for r in conn.execute(sa.text("""
        SELECT operation_code, name, standard_hours FROM master.labour_operation
         WHERE is_active OR operation_code = :k ORDER BY operation_code"""), {"k": keep})]


def model_choices(conn: Connection, keep: list[int] | tuple = ()) -> list[tuple[int, str]]:
    """Active models (and any already chosen, even if no longer sold), as 'Brand Model'."""
    rows = conn.execute(
        sa.text(
            """SELECT m.model_id, o.brand || ' ' || m.name AS label
                 FROM oem.model m JOIN oem.oem o USING (oem_id)
                WHERE (m.is_active AND o.is_active) OR m.model_id = ANY(:keep)
                ORDER BY o.brand, m.name"""
        ),
        {"keep": list(keep)},
    )
    return [(r.model_id, r.label) for r in rows]


def save_part(conn: Connection, part_id: int | None, data: dict) -> int:
    """Insert or update a part and the models it fits, as one change."""
    values = pick(data, PART_COLUMNS)
    if part_id is None:
        part_id = conn.execute(
            sa.text(
                """INSERT INTO master.part (part_no, name, hsn_code, unit, mrp, purchase_price, reorder_level,
                                            reorder_qty, is_active)
                   VALUES (:part_no, :name, :hsn_code, :unit, :mrp, :purchase_price, :reorder_level,
                           :reorder_qty, :is_active)
                   RETURNING part_id"""
            ),
            values,
        ).scalar_one()
    else:
        conn.execute(
            sa.text(
                """UPDATE master.part
                      SET part_no = :part_no, name = :name, hsn_code = :hsn_code, unit = :unit, mrp = :mrp,
                          purchase_price = :purchase_price, reorder_level = :reorder_level,
                          reorder_qty = :reorder_qty, is_active = :is_active
                    WHERE part_id = :id"""
            ),
            {**values, "id": part_id},
        )
    models = sorted(set(data.get("model_ids") or ()))
    conn.execute(sa.text("DELETE FROM master.part_model WHERE part_id = :p AND NOT (model_id = ANY(:m))"),
                 {"p": part_id, "m": models})
    conn.execute(
        sa.text("""INSERT INTO master.part_model (part_id, model_id)
                   SELECT :p, unnest(CAST(:m AS integer[])) ON CONFLICT DO NOTHING"""),
        {"p": part_id, "m": models},
    )
    return part_id


# --------------------------------------------------------------------------- labour operations

LABOUR_COLUMNS = ("operation_code", "name", "sac_code", "standard_hours", "rate", "is_active")


def list_labour(conn: Connection, status: str, on: date):
    where = {"active": "l.is_active", "inactive": "NOT l.is_active"}.get(status, "true")
    return conn.execute(
        sa.text(f"""SELECT l.*, master.gst_rate_on(l.sac_code, :on) AS gst_rate
                      FROM master.labour_operation l WHERE {where}
                     ORDER BY l.is_active DESC, l.operation_code"""),
        {"on": on},
    ).all()


def get_labour(conn: Connection, operation_code: str):
    return conn.execute(sa.text("SELECT * FROM master.labour_operation WHERE operation_code = :c"),
                        {"c": operation_code}).first()


def insert_labour(conn: Connection, data: dict) -> str:
    return conn.execute(
        sa.text(
            """INSERT INTO master.labour_operation (operation_code, name, sac_code, standard_hours, rate, is_active)
               VALUES (:operation_code, :name, :sac_code, :standard_hours, :rate, :is_active)
               RETURNING operation_code"""
        ),
        pick(data, LABOUR_COLUMNS),
    ).scalar_one()


def update_labour(conn: Connection, operation_code: str, data: dict) -> None:
    # The code is the key job cards will refer to: it does not change.
    conn.execute(
        sa.text(
            """UPDATE master.labour_operation
                  SET name = :name, sac_code = :sac_code, standard_hours = :standard_hours, rate = :rate,
                      is_active = :is_active
                WHERE operation_code = :code"""
        ),
        {**pick(data, LABOUR_COLUMNS), "code": operation_code},
    )
