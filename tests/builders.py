"""Small data builders for database tests: branches, staff, OEMs, the vehicle catalog, parts,
units, stock moves, purchase orders, receipts, purchase invoices and payments.

Every builder takes a SQLAlchemy connection first, inserts with plain SQL, never commits and
returns the new row's id (or the row, where the test wants the numbers the database worked
out). Keyword arguments override the defaults; every unique value (codes, GSTINs, VINs) comes
from one counter, so builders can be called any number of times in a test.

    from builders import rolled_back, refused
    import builders as b

    @pytest.fixture
    def conn(engine):
        with rolled_back(engine) as conn:    # one transaction per test, rolled back at the end
            yield conn

    def test_a_chassis_is_in_stock_once(conn):
        branch = b.branch(conn, prefix="BLR")              # documents numbered BLRPO/26/1, ...
        cat = b.vehicle_catalog(conn, colours=("Red", "Blue"))
        b.unit(conn, cat.variant_id, "Red", branch, vin="MD2A1234567890123")
        with refused(conn, "vehicle_unit_vin_key"):      # the statement fails, the test goes on
            b.unit(conn, cat.variant_id, "Blue", branch, vin="MD2A1234567890123")

Purchasing: ``purchase_order`` -> ``po_line`` -> ``approve_po`` (a MANAGER from ``staff``) ->
``send_po`` -> ``goods_receipt`` -> ``receive_vehicle`` / ``receive_part``; then
``purchase_invoice`` and ``pay``. Parts stock: ``receive``, ``issue``, ``stock_move``, ``balance``.

A test's ``engine`` (conftest) is, by default, its one transaction rolled back at the end: what
a builder writes in ``engine.begin()`` is a savepoint the test's requests see, and nothing stays.
Tests that race several connections take the ``committed`` fixture (conftest) instead: their
``engine.begin()`` commits for real and the tables are emptied afterwards; they tag each
connection (``tag``) and use ``wait_until_blocked`` to prove that one really waited for the other.
"""
from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import NamedTuple

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from webapp.validators import gstin_check_character

_serial = itertools.count(1)

# Never checked by the database beyond its prefix; builders' staff do not log in.
FAKE_PIN_HASH = "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$not-a-real-hash"

VIN_ALPHABET = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"   # no I, O, Q


def _n() -> int:
    return next(_serial)


def _base(n: int, alphabet: str, width: int) -> str:
    out = ""
    for _ in range(width):
        n, r = divmod(n, len(alphabet))
        out = alphabet[r] + out
    return out


def make_gstin(state: str = "29", n: int | None = None) -> str:
    """A valid GSTIN in the given state (PAN AAACB<nnnn>K, entity 1)."""
    n = _n() if n is None else n
    first14 = f"{state}AAACB{n % 10000:04d}K1Z"
    return first14 + gstin_check_character(first14)


def pan_of(gstin: str) -> str:
    return gstin[2:12]


# ----------------------------------------------------------------------------- checks


@contextmanager
def refused(conn: Connection, constraint: str | None = None, *, sqlstate: str | None = None) -> Iterator[None]:
    """Assert the statements inside fail with this constraint name (or SQLSTATE).

    Runs them in a savepoint, so the test's transaction carries on afterwards.
    """
    savepoint = conn.begin_nested()
    with pytest.raises(sa.exc.DBAPIError) as caught:
        yield
    savepoint.rollback()
    diag = caught.value.orig.diag
    if constraint is not None:
        assert diag.constraint_name == constraint, f"refused by {diag.constraint_name!r}: {diag.message_primary}"
    if sqlstate is not None:
        assert diag.sqlstate == sqlstate, f"SQLSTATE {diag.sqlstate}: {diag.message_primary}"


def constraint_of(exc: BaseException) -> str | None:
    return getattr(getattr(getattr(exc, "orig", None), "diag", None), "constraint_name", None)


def scalar(conn: Connection, sql: str, **params):
    return conn.execute(sa.text(sql), params).scalar()


def row(conn: Connection, sql: str, **params):
    return conn.execute(sa.text(sql), params).mappings().one()


# ----------------------------------------------------------------------------- transactions and races


@contextmanager
def rolled_back(engine: Engine) -> Iterator[Connection]:
    """A connection inside one transaction that is rolled back at the end: nothing stays behind."""
    with engine.connect() as conn:
        tx = conn.begin()
        try:
            yield conn
        finally:
            tx.rollback()


@contextmanager
def separate_connections(engine: Engine) -> Iterator[Engine]:
    """An engine that opens a fresh connection for every checkout (for many threads at once)."""
    eng = sa.create_engine(engine.url, poolclass=NullPool, connect_args={"options": "-c timezone=Asia/Kolkata"})
    try:
        yield eng
    finally:
        eng.dispose()


def wait_until_blocked(engine: Engine, application_name: str, timeout: float = 10.0) -> None:
    """Wait until the connection tagged with this application_name waits on a lock."""
    deadline = time.monotonic() + timeout
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(sa.text(
                """SELECT count(*) FROM pg_stat_activity
                    WHERE application_name = :a AND wait_event_type = 'Lock'"""), {"a": application_name}).scalar()
            conn.rollback()
            if waiting:
                return
            time.sleep(0.01)
    raise AssertionError(f"{application_name} never waited on a lock")


def tag(conn: Connection, application_name: str) -> None:
    """Name a connection so wait_until_blocked can find it in pg_stat_activity."""
    conn.execute(sa.text("SELECT set_config('application_name', :a, false)"), {"a": application_name})


class Outcome:
    """What a racing thread ended with: ``ok`` and its result, or the error."""

    def __init__(self) -> None:
        self.ok = False
        self.result = None
        self.error: BaseException | None = None


# ----------------------------------------------------------------------------- platform


def branch(conn: Connection, *, state: str = "29", prefix: str | None = None, **fields) -> int:
    """A showroom in the given state; invoice_prefix e.g. 'BLR' for readable document numbers."""
    n = _n()
    data = {
        "branch_code": f"B{_base(n, '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ', 6)}",
        "legal_name": f"Volt Motors {n} Pvt Ltd", "gstin": make_gstin(state, n),
        "address_line1": "12 MG Road", "city": "Bengaluru", "pincode": "560001", "phone": "080-41234567",
        "invoice_prefix": prefix or _base(n, "ABCDEFGHJKLMNPQRSTUVWXYZ", 4),
    }
    data.update(fields)
    cols = ", ".join(data)
    return scalar(conn, f"INSERT INTO master.branch ({cols}) VALUES ({', '.join(':' + c for c in data)}) "
                        "RETURNING branch_id", **data)


def staff(conn: Connection, branch_id: int, role: str = "MANAGER", *, active: bool = True) -> int:
    n = _n()
    return scalar(conn, """INSERT INTO master.staff (branch_id, staff_code, name, designation, pin_hash, is_active)
                           VALUES (:b, :code, :name, :role, :h, :active) RETURNING staff_id""",
                  b=branch_id, code=f"S{n:05d}", name=f"Staff {n}", role=role, h=FAKE_PIN_HASH, active=active)


# ----------------------------------------------------------------------------- catalog


def oem(conn: Connection, *, state: str = "29", brand: str | None = None) -> int:
    """An OEM (supplier) registered in the given state."""
    n = _n()
    return scalar(conn, """INSERT INTO oem.oem (brand, legal_name, gstin, address)
                           VALUES (:brand, :legal, :gstin, 'Plot 4, Hosur Road') RETURNING oem_id""",
                  brand=brand or f"Brand {n}", legal=f"Brand {n} Electric Pvt Ltd", gstin=make_gstin(state, n))


def model(conn: Connection, oem_id: int, *, segment: str = "E2W", name: str | None = None) -> int:
    return scalar(conn, """INSERT INTO oem.model (oem_id, name, segment, is_low_speed)
                           VALUES (:o, :name, :seg, :low) RETURNING model_id""",
                  o=oem_id, name=name or f"Model {_n()}", seg=segment, low=segment == "E2W_LOW_SPEED")


def variant(conn: Connection, model_id: int, *, battery_kwh: str = "3.00", hsn_code: str = "871160",
            name: str | None = None) -> int:
    return scalar(conn, """INSERT INTO oem.variant (model_id, name, hsn_code, battery_chemistry, battery_kwh,
                                                    vehicle_warranty_years, battery_warranty_years)
                           VALUES (:m, :name, :hsn, 'LFP', :kwh, 3, 5) RETURNING variant_id""",
                  m=model_id, name=name or f"Variant {_n()}", hsn=hsn_code, kwh=Decimal(battery_kwh))


def colour(conn: Connection, variant_id: int, colour_name: str) -> str:
    conn.execute(sa.text("INSERT INTO oem.variant_colour (variant_id, colour) VALUES (:v, :c)"),
                 {"v": variant_id, "c": colour_name})
    return colour_name


class Catalog(NamedTuple):
    oem_id: int
    model_id: int
    variant_id: int
    colours: tuple[str, ...]


def vehicle_catalog(conn: Connection, colours: tuple[str, ...] = ("Red",), *, oem_state: str = "29",
                    battery_kwh: str = "3.00") -> Catalog:
    """An OEM with one model, one variant and its colours."""
    oem_id = oem(conn, state=oem_state)
    model_id = model(conn, oem_id)
    variant_id = variant(conn, model_id, battery_kwh=battery_kwh)
    for c in colours:
        colour(conn, variant_id, c)
    return Catalog(oem_id, model_id, variant_id, tuple(colours))


def price(conn: Connection, variant_id: int, effective_from: date | str, effective_to: date | str | None = None,
          *, colour: str | None = None, ex_showroom: str = "120000.00", **subsidy) -> int:
    """A price-list row; subsidy fields (subsidy_rule, subsidy_amount, ...) by keyword."""
    data = {"variant_id": variant_id, "colour": colour, "ex_showroom": Decimal(ex_showroom),
            "effective_from": effective_from, "effective_to": effective_to, **subsidy}
    cols = ", ".join(data)
    return scalar(conn, f"INSERT INTO oem.price_list ({cols}) VALUES ({', '.join(':' + c for c in data)}) "
                        "RETURNING price_id", **data)


def part(conn: Connection, *, unit: str = "NOS", hsn_code: str = "8714", part_no: str | None = None,
         purchase_price: str = "100.00") -> int:
    n = _n()
    return scalar(conn, """INSERT INTO master.part (part_no, name, hsn_code, unit, mrp, purchase_price)
                           VALUES (:no, :name, :hsn, :unit, :mrp, :pp) RETURNING part_id""",
                  no=part_no or f"P-{n:06d}", name=f"Brake shoe {n}", hsn=hsn_code, unit=unit,
                  mrp=Decimal(purchase_price) * 2, pp=Decimal(purchase_price))


# ----------------------------------------------------------------------------- inventory


def new_vin(n: int | None = None) -> str:
    """A well-formed 17-character VIN (no I, O, Q) that no other builder call returns."""
    n = _n() if n is None else n
    return "MD2A" + _base(n, VIN_ALPHABET, 13)


def unit(conn: Connection, variant_id: int, colour: str, branch_id: int, *, status: str = "IN_STOCK",
         vin: str | None = None, motor_no: str | None = None, charger_serial: str | None = None,
         mfg_month: str = "2025-08-01", received_on: str | None = "2025-09-10") -> int:
    """A vehicle unit (chassis) in stock at the branch."""
    n = _n()
    return scalar(conn, """INSERT INTO inventory.vehicle_unit (vin, motor_no, charger_serial, variant_id, colour,
                                                              mfg_month, branch_id, status, received_on)
                           VALUES (:vin, :motor, :charger, :v, :c, :mfg, :b, :s, :rec) RETURNING unit_id""",
                  vin=vin or new_vin(n), motor=motor_no or f"MTR{n:08d}", charger=charger_serial,
                  v=variant_id, c=colour, mfg=mfg_month, b=branch_id, s=status,
                  rec=None if status == "IN_TRANSIT" else received_on)


def battery_pack(conn: Connection, serial: str | None = None) -> int:
    return scalar(conn, "INSERT INTO inventory.battery_pack (serial, chemistry, kwh) VALUES (:s, 'LFP', 3) "
                        "RETURNING pack_id", s=serial or f"BAT{_n():08d}")


def fit_battery(conn: Connection, pack_id: int, unit_id: int, fitted_on: str, removed_on: str | None = None,
                reason: str = "fitted at the factory") -> int:
    return scalar(conn, """INSERT INTO inventory.battery_fitment (pack_id, unit_id, fitted_on, removed_on, reason)
                           VALUES (:p, :u, :f, :r, :why) RETURNING fitment_id""",
                  p=pack_id, u=unit_id, f=fitted_on, r=removed_on, why=reason)


def stock_move(conn: Connection, branch_id: int, part_id: int, kind: str, qty, unit_cost="0",
               *, reason: str | None = None, reference: str | None = None):
    """Post a stock move; returns its row (qty, unit_cost and value as the database worked them out)."""
    return row(conn, """INSERT INTO inventory.stock_move (branch_id, part_id, kind, qty, unit_cost, reason, reference)
                        VALUES (:b, :p, :k, :q, :c, :r, :ref)
                        RETURNING move_id, kind, qty, unit_cost, value""",
               b=branch_id, p=part_id, k=kind, q=Decimal(str(qty)), c=Decimal(str(unit_cost)), r=reason,
               ref=reference)


def receive(conn: Connection, branch_id: int, part_id: int, qty, unit_cost):
    return stock_move(conn, branch_id, part_id, "RECEIPT", qty, unit_cost)


def issue(conn: Connection, branch_id: int, part_id: int, qty):
    """Issue to a job card: qty is how many leave (positive here, stored negative)."""
    return stock_move(conn, branch_id, part_id, "ISSUE_JOB", -Decimal(str(qty)))


def balance(conn: Connection, branch_id: int, part_id: int):
    """The part_stock row (qty, value) or None."""
    return conn.execute(sa.text("SELECT qty, value FROM inventory.part_stock WHERE branch_id = :b AND part_id = :p"),
                        {"b": branch_id, "p": part_id}).mappings().one_or_none()


# ----------------------------------------------------------------------------- procurement


def purchase_order(conn: Connection, branch_id: int, oem_id: int, *, order_date: str = "2026-04-06") -> int:
    """A DRAFT purchase order."""
    return scalar(conn, "INSERT INTO procurement.purchase_order (branch_id, oem_id, order_date) "
                        "VALUES (:b, :o, :d) RETURNING po_id", b=branch_id, o=oem_id, d=order_date)


def po_line(conn: Connection, po_id: int, qty, unit_price="1000.00", *, variant_id: int | None = None,
            colour: str | None = None, part_id: int | None = None) -> int:
    """A vehicle line (variant_id + colour) or a parts line (part_id); numbered after the last."""
    return scalar(conn, """INSERT INTO procurement.po_line (po_id, line_no, variant_id, colour, part_id, qty, unit_price)
                           VALUES (:po, (SELECT coalesce(max(line_no), 0) + 1 FROM procurement.po_line WHERE po_id = :po),
                                   :v, :c, :p, :q, :price)
                           RETURNING po_line_id""",
                  po=po_id, v=variant_id, c=colour, p=part_id, q=Decimal(str(qty)), price=Decimal(str(unit_price)))


def approve_po(conn: Connection, po_id: int, approver_id: int) -> str:
    """Approve a draft PO as the approver (the approval's trigger numbers it); returns the PO number."""
    return scalar(conn, """UPDATE procurement.purchase_order
                              SET status = 'APPROVED', approved_by = :s, approved_at = now()
                            WHERE po_id = :po RETURNING po_no""", s=approver_id, po=po_id)


def send_po(conn: Connection, po_id: int) -> None:
    conn.execute(sa.text("UPDATE procurement.purchase_order SET status = 'SENT', sent_at = now() WHERE po_id = :po"),
                 {"po": po_id})


def po_status(conn: Connection, po_id: int) -> str:
    return scalar(conn, "SELECT status FROM procurement.purchase_order WHERE po_id = :po", po=po_id)


def goods_receipt(conn: Connection, po_id: int, branch_id: int, received_on: str = "2026-04-20") -> int:
    return scalar(conn, """INSERT INTO procurement.goods_receipt (po_id, branch_id, received_on)
                           VALUES (:po, :b, :d) RETURNING grn_id""",
                  po=po_id, b=branch_id, d=received_on)


def receive_vehicle(conn: Connection, grn_id: int, po_line_id: int, unit_id: int) -> None:
    conn.execute(sa.text("INSERT INTO procurement.grn_vehicle (grn_id, po_line_id, unit_id) VALUES (:g, :l, :u)"),
                 {"g": grn_id, "l": po_line_id, "u": unit_id})


def receive_part(conn: Connection, grn_id: int, po_line_id: int, qty, unit_cost) -> int:
    """Post the RECEIPT stock move and the GRN part row against the PO line; returns the move id."""
    grn = row(conn, "SELECT branch_id, grn_no FROM procurement.goods_receipt WHERE grn_id = :g", g=grn_id)
    part_id = scalar(conn, "SELECT part_id FROM procurement.po_line WHERE po_line_id = :l", l=po_line_id)
    move = stock_move(conn, grn["branch_id"], part_id, "RECEIPT", qty, unit_cost, reference=grn["grn_no"])
    conn.execute(sa.text("""INSERT INTO procurement.grn_part (grn_id, po_line_id, qty, unit_cost, move_id)
                            VALUES (:g, :l, :q, :c, :m)"""),
                 {"g": grn_id, "l": po_line_id, "q": Decimal(str(qty)), "c": Decimal(str(unit_cost)),
                  "m": move["move_id"]})
    return move["move_id"]


def purchase_invoice(conn: Connection, branch_id: int, oem_id: int, *, invoice_no: str | None = None,
                     invoice_date: str = "2026-04-22", taxable="100000.00", cgst="0", sgst="0", igst="0",
                     round_off="0", total=None, due_date: str | None = None) -> int:
    """A supplier's invoice; total defaults to the sum of its parts."""
    parts = [Decimal(str(x)) for x in (taxable, cgst, sgst, igst, round_off)]
    return scalar(conn, """INSERT INTO procurement.purchase_invoice
                               (branch_id, oem_id, supplier_invoice_no, invoice_date, taxable_value, cgst, sgst, igst,
                                round_off, total, due_date)
                           VALUES (:b, :o, :no, :d, :t, :c, :s, :i, :r, :total, :due) RETURNING pinv_id""",
                  b=branch_id, o=oem_id, no=invoice_no or f"SI-{_n()}", d=invoice_date, t=parts[0], c=parts[1],
                  s=parts[2], i=parts[3], r=parts[4], total=sum(parts) if total is None else Decimal(str(total)),
                  due=due_date or invoice_date)


def pay(conn: Connection, pinv_id: int, amount, *, paid_on: str = "2026-05-05", mode: str = "BANK_TRANSFER") -> int:
    return scalar(conn, """INSERT INTO procurement.supplier_payment (pinv_id, branch_id, paid_on, amount, mode)
                           SELECT pinv_id, branch_id, :d, :a, :m FROM procurement.purchase_invoice
                            WHERE pinv_id = :i RETURNING payment_id""",
                  i=pinv_id, d=paid_on, a=Decimal(str(amount)), m=mode)


# ----------------------------------------------------------------------------- sales and billing


def customer(conn: Connection, branch_id: int, *, state: str = "29", name: str | None = None,
             gstin: str | None = None) -> int:
    n = _n()
    return scalar(conn, """INSERT INTO master.customer (branch_id, name, mobile, address_line1, city, state_code,
                                                        pincode, gstin)
                           VALUES (:b, :name, :mobile, '4 Park Street', 'Bengaluru', :state, '560002', :gstin)
                           RETURNING customer_id""",
                  b=branch_id, name=name or f"Customer {n}", mobile=f"98{n % 100000000:08d}", state=state,
                  gstin=gstin)


@dataclass(frozen=True)
class Sale:
    """A branch with a manager and a salesperson, a priced variant, a customer and one unit."""
    branch_id: int
    manager_id: int
    sales_id: int
    customer_id: int
    catalog: Catalog
    unit_id: int


def act_as(conn: Connection, staff_id: int | None) -> None:
    """Make the connection's transaction act for a staff member, as a request does (audit, discount
    limits). Transaction-local, like the request's: a pooled connection never carries it into a later test."""
    conn.execute(sa.text("SELECT set_config('erp.staff_id', :s, true)"), {"s": "" if staff_id is None else str(staff_id)})


def sale_setup(conn: Connection, *, state: str = "29", ex_showroom: str = "157000.00", units: int = 1,
               price_from: str = "2026-04-01", **subsidy) -> Sale:
    b = branch(conn, state=state)
    cat = vehicle_catalog(conn)
    price(conn, cat.variant_id, price_from, ex_showroom=ex_showroom, **subsidy)
    first = unit(conn, cat.variant_id, cat.colours[0], b)
    for _ in range(units - 1):
        unit(conn, cat.variant_id, cat.colours[0], b)
    return Sale(b, staff(conn, b, "MANAGER"), staff(conn, b, "SALES"), customer(conn, b, state=state), cat, first)


def booking(conn: Connection, s: Sale, *, on: str = "2026-06-01", discount: str = "0", amounts: dict | None = None,
            delivery_state: str | None = None) -> int:
    from webapp.sales import services
    act_as(conn, s.sales_id)
    quote = services.on_road_price(conn, s.catalog.variant_id, s.catalog.colours[0], date.fromisoformat(on),
                                   discount=Decimal(discount), amounts=amounts)
    return services.create_booking(conn, branch_id=s.branch_id, customer_id=s.customer_id, salesperson_id=s.sales_id,
                                   quote=quote, booked_on=date.fromisoformat(on), key=str(uuid.uuid4()),
                                   delivery_state_code=delivery_state,
                                   delivery_address="9 Lake Road" if delivery_state else None)


def invoiced_booking(conn: Connection, s: Sale, *, on: str = "2026-06-02", **booking_kw) -> tuple[int, int]:
    """A booking with the setup's unit allotted and its invoice posted: (booking_id, invoice_id)."""
    from webapp.billing import posting
    from webapp.sales import services
    b = booking(conn, s, **booking_kw)
    services.allot(conn, b, s.unit_id)
    act_as(conn, s.manager_id)
    inv = posting.post_vehicle_invoice(conn, b, on=date.fromisoformat(on), key=str(uuid.uuid4()))
    return b, inv


def pdi_passed(conn: Connection, booking_id: int) -> None:
    conn.execute(sa.text("INSERT INTO sales.pdi_check (booking_id, pdi_item_id, is_ok) "
                         "SELECT :b, pdi_item_id, true FROM sales.pdi_item WHERE is_active "
                         "ON CONFLICT (booking_id, pdi_item_id) DO UPDATE SET is_ok = true"), {"b": booking_id})


def insure(conn: Connection, booking_id: int, on: str = "2026-06-02") -> int:
    """A policy (1 year own damage, 5 years third party) on the booking's allotted unit."""
    insurer_id = conn.execute(sa.text(
        "INSERT INTO master.insurer (name) VALUES (:n) RETURNING insurer_id"), {"n": f"Insurer {_n()}"}).scalar_one()
    start = date.fromisoformat(on)
    return conn.execute(sa.text("""
        INSERT INTO insurance.policy (branch_id, booking_id, unit_id, customer_id, insurer_id, od_policy_no,
                                      od_from, od_to, tp_policy_no, tp_from, tp_to, premium)
        SELECT b.branch_id, b.booking_id, a.unit_id, b.customer_id, :ins, :od, :d, :d + 364, :tp, :d, :d + 1824, 6500
          FROM sales.booking b JOIN sales.allotment a ON a.booking_id = b.booking_id AND a.released_at IS NULL
         WHERE b.booking_id = :b
        RETURNING policy_id"""), {"b": booking_id, "ins": insurer_id, "d": start,
                                  "od": f"OD-{_n()}", "tp": f"TP-{_n()}"}).scalar_one()


def apply_registration(conn: Connection, booking_id: int, on: str = "2026-06-02") -> None:
    """Form 20 filed: registration applied for."""
    conn.execute(sa.text("""
        INSERT INTO sales.registration (booking_id, form20_on) VALUES (:b, :d)
        ON CONFLICT (booking_id) DO UPDATE SET form20_on = EXCLUDED.form20_on"""),
        {"b": booking_id, "d": date.fromisoformat(on)})


def ready_for_handover(conn: Connection, booking_id: int, on: str = "2026-06-02") -> None:
    """Everything the hand-over gate asks besides the money: PDI passed, insured, registration applied."""
    pdi_passed(conn, booking_id)
    insure(conn, booking_id, on)
    apply_registration(conn, booking_id, on)


def release_handover(conn: Connection, booking_id: int, manager_id: int, reason: str = "Cheque handed over, clears tomorrow") -> int:
    """A manager lets the vehicle go with something outstanding."""
    act_as(conn, manager_id)
    return conn.execute(sa.text("""
        INSERT INTO sales.handover_release (booking_id, invoice_id, reason, missing)
        VALUES (:b, 0, :r, '') RETURNING release_id"""), {"b": booking_id, "r": reason}).scalar_one()
