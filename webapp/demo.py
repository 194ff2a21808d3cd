"""A believable demo showroom for trying the ERP (flask --app wsgi seed-demo)."""
from __future__ import annotations

from typing import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .master import queries
from .security import hash_pin
from .validators import gstin_check_character


def _gstin(first14: str) -> str:
    return first14 + gstin_check_character(first14)


BRANCHES = [
    {"branch_code": "BLR1", "legal_name": "Volt Motors Private Limited", "trade_name": "Volt EV Indiranagar",
     "gstin": _gstin("29AAJCV4821K1Z"), "address_line1": "No. 14, 100 Feet Road, HAL 2nd Stage",
     "address_line2": "Indiranagar", "city": "Bengaluru", "pincode": "560038", "phone": "080-41234567",
     "email": "indiranagar@voltev.example", "upi_id": "voltev.blr@okaxis", "invoice_prefix": "BLR"},
    {"branch_code": "MYS1", "legal_name": "Volt Motors Private Limited", "trade_name": "Volt EV Mysuru",
     "gstin": _gstin("29AAJCV4821K2Z"), "address_line1": "27, Kalidasa Road, Jayalakshmipuram",
     "address_line2": None, "city": "Mysuru", "pincode": "570012", "phone": "0821-2345678",
     "email": "mysuru@voltev.example", "upi_id": None, "invoice_prefix": "MYS"},
]

STAFF = [
    ("ADMIN", "Ramesh Gowda", "ADMIN", "BLR1", "9845012345"),
    ("MGR1", "Kavitha Rao", "MANAGER", "BLR1", "9845023456"),
    ("S01", "Arjun Shetty", "SALES", "BLR1", "9880034567"),
    ("S02", "Priya Nair", "SALES", "BLR1", "9880045678"),
    ("SA01", "Manjunath K", "SERVICE_ADVISOR", "BLR1", "9900056789"),
    ("T01", "Imran Pasha", "TECHNICIAN", "BLR1", "9900067890"),
    ("T02", "Suresh Naik", "TECHNICIAN", "BLR1", "9900078901"),
    ("AC01", "Lakshmi Iyer", "ACCOUNTS", "BLR1", "9741089012"),
    ("D01", "Sri Sai Automobiles (sub-dealer)", "DEALER", "BLR1", "9741090123"),
    ("MGR2", "Deepak Hegde", "MANAGER", "MYS1", "9611001234"),
    ("S11", "Ananya Prasad", "SALES", "MYS1", "9611012345"),
    ("T11", "Girish M", "TECHNICIAN", "MYS1", "9611023456"),
]


def seed_demo(conn: Connection, new_pin: Callable[[], str]) -> list[tuple[str, str, str, str]]:
    """Insert the demo branches and staff unless present; returns (code, name, role, PIN) created."""
    if conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM master.branch WHERE branch_code = 'BLR1')")).scalar():
        return []
    branch_ids = {b["branch_code"]: queries.insert_branch(conn, b) for b in BRANCHES}
    existing = {r[0] for r in conn.execute(sa.text("SELECT staff_code FROM master.staff"))}
    created = []
    for code, name, role, branch, phone in STAFF:
        if code in existing:
            continue
        pin = new_pin()
        queries.insert_staff(conn, {"staff_code": code, "name": name, "designation": role,
                                    "branch_id": branch_ids[branch], "phone": phone}, hash_pin(pin))
        created.append((code, name, role, pin))
    return created
