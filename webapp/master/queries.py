"""SQL of the master module. Every function takes the request's connection and never commits."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..db import contains_pattern, pick

BRANCH_COLUMNS = ("branch_code", "legal_name", "trade_name", "gstin", "address_line1", "address_line2",
                  "city", "pincode", "phone", "email", "upi_id", "invoice_prefix", "head_office")
STAFF_COLUMNS = ("staff_code", "name", "designation", "branch_id", "phone", "email", "pan", "upi_id",
                 "bank_account_no", "ifsc")


# The branch's logo as a data: URI (an <img> on screen and in a PDF that fetches nothing); null
# without a logo. encode() breaks base64 into lines, which a URI may not contain.
LOGO_URI_SQL = ("'data:' || b.logo_type || ';base64,' || translate(encode(b.logo, 'base64'), E'\\n', '')")


# --------------------------------------------------------------------------- reference


def state_name(conn: Connection, state_code: str) -> str | None:
    return conn.execute(sa.text("SELECT name FROM master.state WHERE state_code = :c"), {"c": state_code}).scalar()


def role_choices(conn: Connection) -> list[tuple[str, str]]:
    rows = conn.execute(sa.text("SELECT role_code, name FROM master.role ORDER BY sort_order"))
    return [(r.role_code, r.name) for r in rows]


# --------------------------------------------------------------------------- branches


def insert_branch(conn: Connection, data: dict) -> int:
    return conn.execute(
        sa.text(
            """INSERT INTO master.branch (branch_code, legal_name, trade_name, gstin, address_line1, address_line2,
                                          city, pincode, phone, email, upi_id, invoice_prefix, head_office)
               VALUES (:branch_code, :legal_name, :trade_name, :gstin, :address_line1, :address_line2,
                       :city, :pincode, :phone, :email, :upi_id, :invoice_prefix,
                       coalesce(CAST(:head_office AS boolean), false))
               RETURNING branch_id"""
        ),
        pick(data, BRANCH_COLUMNS),
    ).scalar_one()


def update_branch(conn: Connection, branch_id: int, data: dict) -> None:
    conn.execute(
        sa.text(
            """UPDATE master.branch
                  SET branch_code = :branch_code, legal_name = :legal_name, trade_name = :trade_name,
                      gstin = :gstin, address_line1 = :address_line1, address_line2 = :address_line2,
                      city = :city, pincode = :pincode, phone = :phone, email = :email, upi_id = :upi_id,
                      invoice_prefix = :invoice_prefix,
                      head_office = coalesce(CAST(:head_office AS boolean), head_office)
                WHERE branch_id = :branch_id"""
        ),
        {**pick(data, BRANCH_COLUMNS), "branch_id": branch_id},
    )


def set_branch_logo(conn: Connection, branch_id: int, logo: bytes | None, logo_type: str | None) -> None:
    """Store (or with None, remove) the logo printed on the branch's documents."""
    conn.execute(sa.text("UPDATE master.branch SET logo = :logo, logo_type = :logo_type WHERE branch_id = :b"),
                 {"logo": logo, "logo_type": logo_type, "b": branch_id})


def list_branches(conn: Connection):
    return conn.execute(
        sa.text(
            """SELECT b.*, s.name AS state_name,
                      (SELECT count(*) FROM master.staff st WHERE st.branch_id = b.branch_id AND st.is_active)
                          AS active_staff
                 FROM master.branch b JOIN master.state s USING (state_code)
                ORDER BY b.branch_code"""
        )
    ).all()


def get_branch(conn: Connection, branch_id: int):
    return conn.execute(
        sa.text(f"""SELECT b.*, s.name AS state_name, {LOGO_URI_SQL} AS logo_uri
                      FROM master.branch b JOIN master.state s USING (state_code)
                     WHERE b.branch_id = :id"""),
        {"id": branch_id},
    ).first()


def branch_choices(conn: Connection) -> list[tuple[int, str]]:
    rows = conn.execute(sa.text(
        "SELECT branch_id, branch_code, coalesce(trade_name, legal_name) AS name FROM master.branch "
        "WHERE is_active ORDER BY branch_code"))
    return [(r.branch_id, f"{r.branch_code} - {r.name}") for r in rows]


# --------------------------------------------------------------------------- staff

# What a row of the staff list shows; callers add WHERE/ORDER.
STAFF_ROW_COLUMNS = """
    SELECT st.staff_id, st.staff_code, st.name, st.designation, r.name AS role_name, st.phone,
           st.is_active, st.must_change_pin,
           EXISTS (SELECT 1 FROM master.login_lockout l
                    WHERE l.staff_code = st.staff_code AND l.locked_until > now()) AS is_locked,
           st.last_login_at, b.branch_code"""
STAFF_ROW_FROM = """
      FROM master.staff st
      JOIN master.role r ON r.role_code = st.designation
      JOIN master.branch b USING (branch_id)"""


def insert_staff(conn: Connection, data: dict, pin_hash: str, must_change_pin: bool = True) -> int:
    return conn.execute(
        sa.text(
            """INSERT INTO master.staff (staff_code, name, designation, branch_id, phone, email, pan, upi_id,
                                         bank_account_no, ifsc, pin_hash, must_change_pin)
               VALUES (:staff_code, :name, :designation, :branch_id, :phone, :email, :pan, :upi_id,
                       :bank_account_no, :ifsc, :pin_hash, :must_change_pin)
               RETURNING staff_id"""
        ),
        {**pick(data, STAFF_COLUMNS), "pin_hash": pin_hash, "must_change_pin": must_change_pin},
    ).scalar_one()


def update_staff(conn: Connection, staff_id: int, data: dict) -> None:
    conn.execute(
        sa.text(
            """UPDATE master.staff
                  SET staff_code = :staff_code, name = :name, designation = :designation, branch_id = :branch_id,
                      phone = :phone, email = :email, pan = :pan, upi_id = :upi_id,
                      bank_account_no = :bank_account_no, ifsc = :ifsc
                WHERE staff_id = :staff_id"""
        ),
        {**pick(data, STAFF_COLUMNS), "staff_id": staff_id},
    )


def set_staff_active(conn: Connection, staff_id: int, active: bool) -> None:
    # Deactivation ends the member's sessions in the same transaction (trigger staff_end_sessions).
    conn.execute(sa.text("UPDATE master.staff SET is_active = :a WHERE staff_id = :id"),
                 {"a": active, "id": staff_id})


def set_pin(conn: Connection, staff_id: int, pin_hash: str, must_change: bool) -> None:
    """Store a new PIN hash. An admin reset (must_change) also ends the member's sessions and unlocks."""
    conn.execute(
        sa.text(
            """UPDATE master.staff
                  SET pin_hash = :h, must_change_pin = :m, pin_changed_at = now(),
                      failed_pin_count = 0, locked_until = NULL
                WHERE staff_id = :id"""
        ),
        {"h": pin_hash, "m": must_change, "id": staff_id},
    )


def get_staff(conn: Connection, staff_id: int):
    return conn.execute(
        sa.text(
            """SELECT st.*, r.name AS role_name, coalesce(b.trade_name, b.legal_name) AS branch_name,
                      b.branch_code, lk.lock_ends IS NOT NULL AS is_locked, lk.lock_ends, lk.locked_terminals
                 FROM master.staff st
                 JOIN master.role r ON r.role_code = st.designation
                 JOIN master.branch b USING (branch_id)
                 -- wrong PINs lock a code per terminal (sql/0015)
                 LEFT JOIN LATERAL (SELECT max(l.locked_until) AS lock_ends,
                                           string_agg(l.client_addr, ', ' ORDER BY l.client_addr) AS locked_terminals
                                      FROM master.login_lockout l
                                     WHERE l.staff_code = st.staff_code AND l.locked_until > now()
                                    HAVING count(*) > 0) lk ON true
                WHERE st.staff_id = :id"""
        ),
        {"id": staff_id},
    ).first()


def search_staff(conn: Connection, q: str, status: str, page: int, page_size: int):
    """One page of the staff list and the total count, matching code, name, mobile or e-mail."""
    where = ["true"]
    params: dict = {"limit": page_size, "offset": (page - 1) * page_size}
    if q:
        where.append("(st.staff_code ILIKE :q OR st.name ILIKE :q OR st.phone LIKE :q OR st.email ILIKE :q)")
        params["q"] = contains_pattern(q)
    if status in ("active", "inactive"):
        where.append("st.is_active = :active")
        params["active"] = status == "active"
    rows = conn.execute(
        sa.text(
            f"""{STAFF_ROW_COLUMNS}, count(*) OVER () AS total {STAFF_ROW_FROM}
                 WHERE {' AND '.join(where)}
                 ORDER BY st.is_active DESC, st.name, st.staff_id
                 LIMIT :limit OFFSET :offset"""
        ),
        params,
    ).all()
    total = rows[0].total if rows else _count_staff(conn, where, params)
    return rows, total


def _count_staff(conn: Connection, where: list[str], params: dict) -> int:
    return conn.execute(
        sa.text(f"SELECT count(*) FROM master.staff st WHERE {' AND '.join(where)}"), params
    ).scalar_one()


def get_staff_row(conn: Connection, staff_id: int):
    """The staff list's row for one member (after an inline change)."""
    return conn.execute(sa.text(f"{STAFF_ROW_COLUMNS} {STAFF_ROW_FROM} WHERE st.staff_id = :id"), {"id": staff_id}).first()


BRANCH_SQL = """
    SELECT br.branch_id, br.legal_name, br.trade_name, br.gstin, br.state_code, s.name AS state_name,
           br.address_line1, br.address_line2, br.city, br.pincode, br.phone, br.email, br.upi_id,
           'data:' || br.logo_type || ';base64,' || translate(encode(br.logo, 'base64'), E'\\n', '') AS logo_uri
      FROM master.branch br JOIN master.state s USING (state_code)
     WHERE br.branch_id = :b"""


def branch_for_print(conn: Connection, branch_id: int):
    """The branch as a printed document's header shows it (templates/_macros/print.html); its
    logo, if any, as a data: URI (logo_uri, else None) that the PDF renderer reads without a fetch."""
    return conn.execute(sa.text(BRANCH_SQL), {"b": branch_id}).mappings().one()
