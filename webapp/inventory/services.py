"""Stock postings that touch several rows or tables, each one function in the request's transaction.

A posting either happens whole or not at all: the caller runs it inside a savepoint and shows
``Refused`` (a showroom rule) or a known constraint violation as a message.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..billing import api as billing
from ..documents import Refused  # a stock posting the rules refuse; the message is for the screen
from ..forms import constraint_name
from . import queries


class NotEnoughStock(Refused):
    pass


def _qty_text(qty: Decimal, unit: str) -> str:
    return f"{qty.normalize():f} {unit}"


def post_move(conn: Connection, *, branch_id: int, part_id: int, kind: str, qty: Decimal,
              unit_cost: Decimal = Decimal(0), reference: str | None = None, reason: str | None = None) -> int:
    """One stock move. When the database refuses to take the balance below zero (someone else took
    the last piece a moment ago), say which part and how many are really left."""
    try:
        with conn.begin_nested():
            return queries.insert_stock_move(conn, branch_id=branch_id, part_id=part_id, kind=kind, qty=qty,
                                             unit_cost=unit_cost, reference=reference, reason=reason)
    except sa.exc.IntegrityError as exc:
        name = constraint_name(exc)
        part = conn.execute(sa.text("SELECT part_no, unit, whole_units FROM master.part WHERE part_id = :p"),
                            {"p": part_id}).one()
        if name == "part_stock_not_negative":
            left = queries.stock_qty(conn, branch_id, part_id)
            branch = queries.get_branch(conn, branch_id)
            raise NotEnoughStock(
                f"Not enough {part.part_no} at {branch.branch_code}: {_qty_text(left, part.unit)} "
                f"in stock, {_qty_text(-qty, part.unit)} asked for. Someone may have just "
                "taken it; nothing was saved.") from exc
        if name == "stock_move_whole_units":
            raise Refused(f"{part.part_no} is counted in whole {part.unit}: {qty:f} is not a whole number.") from exc
        raise


# --------------------------------------------------------------------------- parts


def adjust_stock(conn: Connection, *, branch_id: int, part_id: int, qty: Decimal, reason: str,
                 unit_cost: Decimal | None = None) -> int:
    """An ADJUSTMENT move: damaged, lost, found. Added units are valued at the given cost, else the
    branch's average cost (or the purchase price when none are held)."""
    if qty == 0:
        raise Refused("An adjustment changes the quantity: enter a number other than zero.")
    if qty > 0 and unit_cost is None:
        unit_cost = queries.cost_for_incoming(conn, branch_id, part_id)
    return post_move(conn, branch_id=branch_id, part_id=part_id, kind="ADJUSTMENT", qty=qty,
                     unit_cost=unit_cost or Decimal(0), reason=reason)


# --------------------------------------------------------------------------- vehicle units


def set_demo(conn: Connection, unit_id: int, demo: bool) -> None:
    """Take an in-stock unit as a demo / test-ride vehicle, or bring it back to stock."""
    unit = queries.lock_unit(conn, unit_id)
    wanted_from, to = ("IN_STOCK", "DEMO") if demo else ("DEMO", "IN_STOCK")
    if unit is None:
        raise Refused("No such vehicle.")
    if unit.status != wanted_from:
        label = conn.execute(sa.text("SELECT label FROM inventory.unit_status WHERE status = :s"),
                             {"s": unit.status}).scalar_one()
        raise Refused(f"{unit.vin} is {label.lower()}: only a unit {'in stock' if demo else 'on demo'} "
                      f"can be {'taken as a demo' if demo else 'brought back to stock'}.")
    conn.execute(sa.text("UPDATE inventory.vehicle_unit SET status = :to WHERE unit_id = :id"),
                 {"to": to, "id": unit_id})


def swap_battery(conn: Connection, *, unit_id: int, serial: str, reason: str, on: date,
                 chemistry: str | None = None, kwh: Decimal | None = None) -> int:
    """Remove the packs now in the vehicle (as of ``on``) and fit the pack with this serial.

    A pack seen for the first time is registered (chemistry and kWh default to the variant's).
    A pack still fitted in another vehicle is refused. Returns the new fitment id."""
    unit = queries.lock_unit(conn, unit_id)
    if unit is None:
        raise Refused("No such vehicle.")
    current = conn.execute(
        sa.text("""SELECT p.serial FROM inventory.battery_fitment f JOIN inventory.battery_pack p USING (pack_id)
                    WHERE f.unit_id = :u AND f.removed_on IS NULL"""), {"u": unit_id}).scalars().all()
    if serial in current:
        raise Refused(f"Pack {serial} is already fitted in {unit.vin}.")
    pack = conn.execute(sa.text("SELECT pack_id FROM inventory.battery_pack WHERE serial = :s FOR UPDATE"),
                        {"s": serial}).first()
    if pack is None:
        variant = conn.execute(sa.text("SELECT battery_chemistry, battery_kwh FROM oem.variant WHERE variant_id = :v"),
                               {"v": unit.variant_id}).one()
        pack_id = conn.execute(
            sa.text("""INSERT INTO inventory.battery_pack (serial, chemistry, kwh) VALUES (:s, :c, :k)
                       RETURNING pack_id"""),
            {"s": serial, "c": chemistry or variant.battery_chemistry, "k": kwh or variant.battery_kwh}).scalar_one()
    else:
        pack_id = pack.pack_id
        elsewhere = conn.execute(
            sa.text("""SELECT u.vin FROM inventory.battery_fitment f JOIN inventory.vehicle_unit u USING (unit_id)
                        WHERE f.pack_id = :p AND f.removed_on IS NULL"""), {"p": pack_id}).scalar()
        if elsewhere:
            raise Refused(f"Pack {serial} is fitted in {elsewhere}. Swap it out of that vehicle first.")
    conn.execute(sa.text("""UPDATE inventory.battery_fitment SET removed_on = :on
                             WHERE unit_id = :u AND removed_on IS NULL"""), {"on": on, "u": unit_id})
    return conn.execute(
        sa.text("""INSERT INTO inventory.battery_fitment (pack_id, unit_id, fitted_on, reason)
                   VALUES (:p, :u, :on, :reason) RETURNING fitment_id"""),
        {"p": pack_id, "u": unit_id, "on": on, "reason": reason}).scalar_one()


# --------------------------------------------------------------------------- transfers


def dispatch_transfer(conn: Connection, *, from_branch: int, to_branch: int, parts: list[tuple[int, Decimal]],
                      unit_ids: list[int], notes: str | None, on: date) -> tuple[int, str]:
    """Send parts (by quantity) and vehicle units to another branch: numbered TRF by its trigger
    (sql/0018), parts leave with TRANSFER_OUT at average cost, vehicles go IN_STOCK -> IN_TRANSIT;
    ``on`` dates the tax invoice of a transfer that needs one. Returns (id, number)."""
    if from_branch == to_branch:
        raise Refused("A transfer goes to another branch.")
    if not parts and not unit_ids:
        raise Refused("Add at least one part or vehicle to send.")
    merged: dict[int, Decimal] = {}
    for part_id, qty in parts:  # the same part twice is one line: one move, one cost at receipt
        merged[part_id] = merged.get(part_id, Decimal(0)) + qty
    transfer_id, transfer_no = queries.insert_transfer(conn, from_branch, to_branch, notes)
    to_code = queries.get_branch(conn, to_branch).branch_code
    line_no = 0
    for part_id, qty in merged.items():
        line_no += 1
        queries.insert_transfer_line(conn, transfer_id, line_no, part_id=part_id, qty=qty)
        post_move(conn, branch_id=from_branch, part_id=part_id, kind="TRANSFER_OUT", qty=-qty,
                  reference=transfer_no, reason=f"To branch {to_code}")
    for unit_id in dict.fromkeys(unit_ids):
        unit = queries.lock_unit(conn, unit_id)
        if unit is None:
            raise Refused("No such vehicle.")
        if unit.branch_id != from_branch:
            raise Refused(f"{unit.vin} is at {unit.branch_code}, not at the sending branch.")
        if unit.status != "IN_STOCK":
            raise Refused(f"{unit.vin} is not in stock ({unit.status.replace('_', ' ').lower()}): "
                          "only a unit in stock can be sent.")
        line_no += 1
        queries.insert_transfer_line(conn, transfer_id, line_no, unit_id=unit_id)
        conn.execute(sa.text("UPDATE inventory.vehicle_unit SET status = 'IN_TRANSIT' WHERE unit_id = :id"),
                     {"id": unit_id})
    if billing.transfer_needs_invoice(conn, from_branch, to_branch):
        billing.post_transfer_invoice(conn, transfer_id, on=on)
    return transfer_id, transfer_no


def receive_transfer(conn: Connection, transfer_id: int) -> str:
    """Receive a dispatched transfer at its branch: parts come in (TRANSFER_IN) at the cost they left
    at, vehicles move to the receiving branch, in stock. Returns the transfer number."""
    transfer = queries.get_transfer(conn, transfer_id, lock=True)
    if transfer is None:
        raise Refused("No such transfer.")
    if transfer.status != "DISPATCHED":
        raise Refused(f"{transfer.transfer_no} was already received.")
    for line in queries.transfer_lines(conn, transfer_id):
        if line.part_id is not None:
            # In at the cost it went out at (the sending branch's average, worked out by the trigger).
            post_move(conn, branch_id=transfer.to_branch_id, part_id=line.part_id, kind="TRANSFER_IN",
                      qty=line.qty, unit_cost=line.out_unit_cost, reference=transfer.transfer_no,
                      reason=f"From branch {transfer.from_branch}")
        else:
            moved = conn.execute(
                sa.text("""UPDATE inventory.vehicle_unit SET branch_id = :to, status = 'IN_STOCK'
                            WHERE unit_id = :id AND status = 'IN_TRANSIT' AND branch_id = :from"""),
                {"to": transfer.to_branch_id, "from": transfer.branch_id, "id": line.unit_id}).rowcount
            if moved != 1:
                raise Refused(f"{line.vin} is no longer in transit from {transfer.from_branch}.")
    conn.execute(
        sa.text("""UPDATE inventory.stock_transfer
                      SET status = 'RECEIVED', received_at = now(), received_by = audit.current_staff_id()
                    WHERE transfer_id = :id"""), {"id": transfer_id})
    return transfer.transfer_no


# --------------------------------------------------------------------------- physical counts


def start_count(conn: Connection, branch_id: int) -> tuple[int, str]:
    """A count sheet for the branch: every part it has held, with the system quantity as of now;
    numbered in the branch's CNT series of today by its trigger (sql/0018)."""
    count_id, count_no = conn.execute(
        sa.text("INSERT INTO inventory.stock_count (branch_id) VALUES (:b) RETURNING count_id, count_no"),
        {"b": branch_id}).one()
    conn.execute(
        sa.text("""INSERT INTO inventory.stock_count_line (count_id, part_id, system_qty)
                   SELECT :c, part_id, qty FROM inventory.part_stock WHERE branch_id = :b"""),
        {"c": count_id, "b": branch_id})
    return count_id, count_no


def _open_count(conn: Connection, count_id: int):
    count = queries.get_count(conn, count_id, lock=True)
    if count is None:
        raise Refused("No such count.")
    if count.status != "OPEN":
        raise Refused(f"Count {count.count_no} is {count.status.lower()}: it can no longer change.")
    return count


def record_counted(conn: Connection, count_id: int, part_id: int, counted: Decimal | None) -> None:
    _open_count(conn, count_id)
    conn.execute(sa.text("UPDATE inventory.stock_count_line SET counted_qty = :q WHERE count_id = :c AND part_id = :p"),
                 {"q": counted, "c": count_id, "p": part_id})


def add_count_part(conn: Connection, count_id: int, part_id: int) -> None:
    """A part found on the shelf that the sheet does not list: added with its system quantity now."""
    count = _open_count(conn, count_id)
    conn.execute(
        sa.text("""INSERT INTO inventory.stock_count_line (count_id, part_id, system_qty)
                   VALUES (:c, :p, :q) ON CONFLICT (count_id, part_id) DO NOTHING"""),
        {"c": count_id, "p": part_id, "q": queries.stock_qty(conn, count.branch_id, part_id)})


def approve_count(conn: Connection, count_id: int) -> int:
    """Post an ADJUSTMENT for every variance (counted - system quantity on the sheet), reason
    'Physical count <no>', and close the count. Returns how many moves were posted."""
    count = _open_count(conn, count_id)
    if count.uncounted:
        raise Refused(f"{count.uncounted} part(s) on the sheet are not counted yet. Enter 0 for a part "
                      "that is not on the shelf.")
    lines = conn.execute(
        sa.text("""SELECT part_id, counted_qty - system_qty AS variance FROM inventory.stock_count_line
                    WHERE count_id = :c AND counted_qty <> system_qty ORDER BY part_id"""), {"c": count_id}).all()
    reason = f"Physical count {count.count_no}"
    for line in lines:
        cost = queries.cost_for_incoming(conn, count.branch_id, line.part_id) if line.variance > 0 else Decimal(0)
        post_move(conn, branch_id=count.branch_id, part_id=line.part_id, kind="ADJUSTMENT", qty=line.variance,
                  unit_cost=cost, reference=count.count_no, reason=reason)
    conn.execute(
        sa.text("""UPDATE inventory.stock_count SET status = 'APPROVED', approved_at = now(),
                          approved_by = audit.current_staff_id() WHERE count_id = :c"""), {"c": count_id})
    return len(lines)


def cancel_count(conn: Connection, count_id: int) -> str:
    count = _open_count(conn, count_id)
    conn.execute(sa.text("UPDATE inventory.stock_count SET status = 'CANCELLED' WHERE count_id = :c"), {"c": count_id})
    return count.count_no
