"""Generate five years of a dealership's stock history for benchmarks (COPY-based).

`flask --app wsgi generate-history` fills an otherwise empty catalog/stock with OEMs, models,
variants, colours, prices, parts, vehicle units (most of them long delivered) with their
battery packs, and a parts ledger of stock moves with its balance rows.

The moves are computed here exactly as inventory.post_stock_move would (weighted average,
same rounding) and loaded with COPY while the session's triggers are off: a million moves
through the row trigger would take minutes. The result is then checked in SQL: the ledger
adds up to the balance for every part. Needs a superuser connection (the embedded server
has one); otherwise the moves go through the trigger, slowly but identically.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .formatting import IST, today_ist
from .validators import gstin_check_character

VIN_ALPHABET = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"  # no I, O, Q
COLOURS = ["Pearl White", "Midnight Black", "Racing Red", "Ocean Blue", "Space Grey", "Lime Green"]
PAISA = Decimal("0.01")
COST_PLACES = Decimal("0.0001")


@dataclass
class Sizes:
    units: int = 20_000
    parts: int = 3_000
    moves: int = 1_000_000
    years: int = 5


def _round(value: Decimal, places: Decimal) -> Decimal:
    return value.quantize(places, rounding=ROUND_HALF_UP)  # PostgreSQL's round(): half away from zero


def _gstin(state: str, pan: str) -> str:
    first14 = f"{state}{pan}1Z"
    return first14 + gstin_check_character(first14)


def _copy(conn: Connection, table: str, columns: tuple[str, ...], rows) -> int:
    """COPY rows (iterables of Python values; None is NULL) into table."""
    raw = conn.connection.driver_connection
    count = 0
    with raw.cursor() as cur:
        with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
    return count


def _is_superuser(conn: Connection) -> bool:
    return conn.execute(sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar()


def generate_history(conn: Connection, sizes: Sizes, seed: int = 1, today: date | None = None,
                     progress=lambda message: None, through_triggers: bool = False) -> dict:
    """Fill the database; returns counts. The caller commits (one transaction).

    through_triggers: post every move through inventory.post_stock_move (slow; tests use it
    to prove the fast path values moves exactly as the trigger does).
    """
    rng = random.Random(seed)
    today = today or today_ist()
    start = today - timedelta(days=365 * sizes.years)
    branches = [r[0] for r in conn.execute(sa.text("SELECT branch_id FROM master.branch WHERE is_active ORDER BY 1"))]
    if not branches:
        raise RuntimeError("no branch: run the setup wizard or seed-demo first")
    if conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM inventory.vehicle_unit) "
                            "OR EXISTS (SELECT 1 FROM inventory.stock_move)")).scalar():
        raise RuntimeError("this database already has stock; generate-history only fills an empty one")

    progress("catalog")
    variants = _catalog(conn, rng, start)
    progress(f"{sizes.parts} parts")
    parts = _parts(conn, rng, sizes.parts)
    fast = _is_superuser(conn) and not through_triggers
    if fast:
        conn.execute(sa.text("SET LOCAL session_replication_role = replica"))  # this transaction only
    progress(f"{sizes.units} vehicle units and their battery packs")
    units = _units(conn, rng, sizes.units, variants, branches, start, today)
    progress(f"{sizes.moves} stock moves")
    moves = _moves(conn, rng, sizes.moves, parts, branches, start, today, write_balances=fast)
    if fast:
        conn.execute(sa.text("SET LOCAL session_replication_role = origin"))
    _check_ledger(conn)
    conn.execute(sa.text("ANALYZE"))
    return {"variant_colours": len(variants), "parts": len(parts), "units": units, "moves": moves,
            "through_triggers": not fast}


def _catalog(conn: Connection, rng: random.Random, start: date) -> list[tuple[int, str, Decimal]]:
    """Three OEMs, their models, variants, colours and prices; returns (variant_id, colour, cost)."""
    oems = [("Vayu Electric", "27", "AABCV1111L"), ("Ganga Motors", "29", "AABCG2222M"),
            ("Shakti EV", "33", "AABCS3333N")]
    found = []
    for brand, state, pan in oems:
        oem_id = conn.execute(sa.text(
            """INSERT INTO oem.oem (brand, legal_name, dealer_code, gstin, address)
               VALUES (:b, :b || ' Private Limited', 'DLR-' || :s, :g, 'Industrial Area, Phase 2')
               ON CONFLICT (brand) DO UPDATE SET brand = EXCLUDED.brand RETURNING oem_id"""),
            {"b": brand, "s": state, "g": _gstin(state, pan)}).scalar_one()
        for m, (model, segment) in enumerate([("Breeze", "E2W"), ("Swift", "E2W"), ("Cargo", "E3W_GOODS"),
                                               ("Saathi", "E3W_PASSENGER")]):
            model_id = conn.execute(sa.text(
                """INSERT INTO oem.model (oem_id, name, segment) VALUES (:o, :n, :s)
                   ON CONFLICT (oem_id, name) DO UPDATE SET name = EXCLUDED.name RETURNING model_id"""),
                {"o": oem_id, "n": model, "s": segment}).scalar_one()
            hsn = "871160" if segment == "E2W" else ("8704" if segment == "E3W_GOODS" else "87038040")
            for v, (name, kwh) in enumerate([("Standard", "2.9"), ("Pro", "3.7"), ("Max", "4.4")]):
                variant_id = conn.execute(sa.text(
                    """INSERT INTO oem.variant (model_id, name, hsn_code, battery_chemistry, battery_kwh,
                                                certified_range_km, vehicle_warranty_years, battery_warranty_years,
                                                battery_warranty_km, battery_min_soh_pct)
                       VALUES (:m, :n, :h, 'LFP', :k, 90 + 30 * :v, 3, 5, 60000, 70)
                       ON CONFLICT (model_id, name) DO UPDATE SET name = EXCLUDED.name RETURNING variant_id"""),
                    {"m": model_id, "n": name, "h": hsn, "k": Decimal(kwh), "v": v}).scalar_one()
                price = Decimal(95_000 + 20_000 * v + 60_000 * (segment != "E2W") + 3_000 * m)
                for colour in COLOURS[: 3 + v]:
                    conn.execute(sa.text(
                        "INSERT INTO oem.variant_colour (variant_id, colour) VALUES (:v, :c) ON CONFLICT DO NOTHING"),
                        {"v": variant_id, "c": colour})
                    found.append((variant_id, colour, _round(price / Decimal("1.05") * Decimal("0.9"), PAISA)))
                conn.execute(sa.text(
                    """INSERT INTO oem.price_list (variant_id, ex_showroom, ex_factory, subsidy_rule, subsidy_per_kwh,
                                                   subsidy_cap, subsidy_cap_pct, effective_from)
                       SELECT :v, :p, :f, 'PER_KWH', 5000, 10000, 15, :d
                        WHERE NOT EXISTS (SELECT 1 FROM oem.price_list WHERE variant_id = :v)"""),
                    {"v": variant_id, "p": price, "f": _round(price * Decimal("0.8"), PAISA), "d": start})
    return found


def _parts(conn: Connection, rng: random.Random, count: int) -> list[tuple[int, bool, Decimal]]:
    names = ["Brake pad set", "Side mirror", "Headlamp assembly", "Throttle cable", "Front tyre 90/90-12",
             "Rear tyre 90/100-10", "Charger cable", "Controller", "Hub motor seal", "DC-DC converter",
             "Brake fluid", "Grease", "Wiring harness", "Indicator lamp", "Seat cover"]
    rows = []
    for n in range(count):
        base = names[n % len(names)]
        unit = "LTR" if base == "Brake fluid" else ("KG" if base == "Grease" else "NOS")
        price = Decimal(rng.randint(40, 9000))
        rows.append((f"GP-{n + 1:05d}", f"{base} ({n // len(names) + 1})", "8714", unit,
                     _round(price * Decimal("1.5") * Decimal("1.18"), PAISA), price,
                     Decimal(rng.choice([0, 2, 5, 10])), Decimal(rng.choice([5, 10, 20]))))
    _copy(conn, "master.part", ("part_no", "name", "hsn_code", "unit", "mrp", "purchase_price",
                                "reorder_level", "reorder_qty"), rows)
    return [tuple(r) for r in conn.execute(sa.text(
        "SELECT part_id, whole_units, purchase_price FROM master.part WHERE part_no LIKE 'GP-%' ORDER BY part_id"))]


def _units(conn: Connection, rng: random.Random, count: int, variants, branches, start: date, today: date) -> int:
    span = (today - start).days
    unit_rows, pack_rows, fitment_rows = [], [], []
    for n in range(count):
        variant_id, colour, cost = variants[n % len(variants)]
        age = int(span * (1 - (n / count) ** 0.7))  # more units in recent years
        received = today - timedelta(days=max(0, age))
        # Sold long ago unless recent: the stock on hand is the newest few hundred units.
        if age > 120:
            status = "DELIVERED"
        else:
            status = rng.choices(["IN_STOCK", "DEMO", "ALLOTTED", "INVOICED", "DELIVERED", "IN_TRANSIT"],
                                 [50, 3, 8, 4, 33, 2])[0]
        serial = f"{n:07d}"
        vin = "MD9" + "".join(rng.choice(VIN_ALPHABET) for _ in range(7)) + serial
        mfg = (received - timedelta(days=rng.randint(10, 60))).replace(day=1)
        unit_rows.append((vin, f"MTR{serial}{rng.randint(10, 99)}", f"CHG{serial}", f"K{rng.randint(100, 999)}",
                          variant_id, colour, mfg, branches[n % len(branches)], status,
                          None if status == "IN_TRANSIT" else received, cost))
        pack_rows.append((f"BP{serial}{rng.choice(VIN_ALPHABET)}", "LFP", mfg))
    _copy(conn, "inventory.vehicle_unit", ("vin", "motor_no", "charger_serial", "key_no", "variant_id", "colour",
                                           "mfg_month", "branch_id", "status", "received_on", "purchase_cost"),
          unit_rows)
    _copy(conn, "inventory.battery_pack", ("serial", "chemistry", "mfg_month"), pack_rows)
    conn.execute(sa.text(
        """INSERT INTO inventory.battery_fitment (pack_id, unit_id, fitted_on, reason)
           SELECT p.pack_id, u.unit_id, coalesce(u.received_on, u.mfg_month), 'fitted by the OEM'
             FROM inventory.vehicle_unit u
             JOIN inventory.battery_pack p ON left(p.serial, 9) = 'BP' || right(u.vin, 7)"""))
    return count


def _moves(conn: Connection, rng: random.Random, count: int, parts, branches, start: date, today: date,
           write_balances: bool) -> int:
    """A ledger of receipts, issues and adjustments, valued as the trigger values them."""
    span_seconds = (today - start).days * 86400
    opening = datetime.combine(start, time(9, 30), tzinfo=IST)
    keys = [(b, p) for b in branches for p in parts]
    balance: dict[tuple[int, int], list[Decimal]] = {}
    step = span_seconds / count
    rows = []
    for n in range(count):
        branch_id, (part_id, whole, price) = keys[rng.randrange(len(keys))]
        key = (branch_id, part_id)
        qty_value = balance.setdefault(key, [Decimal(0), Decimal(0)])
        on_hand, value = qty_value
        moved_at = opening + timedelta(seconds=n * step)
        if on_hand < 2 or rng.random() < 0.18:
            qty = Decimal(rng.choice([5, 10, 20, 50])) if whole else Decimal(rng.choice(["2.5", "5", "10"]))
            unit_cost = _round(price * Decimal(rng.randint(95, 110)) / 100, PAISA)
            kind, reference, reason = "RECEIPT", f"GRN-{n // 50}", None
            move_value = _round(qty * unit_cost, PAISA)
        else:
            take = min(on_hand, Decimal(rng.choice([1, 1, 1, 2, 3])) if whole else Decimal("0.5"))
            qty = -take
            kind = "ADJUSTMENT" if rng.random() < 0.01 else rng.choice(["ISSUE_JOB", "ISSUE_JOB", "COUNTER_SALE"])
            reference = f"JC-{n // 3}" if kind == "ISSUE_JOB" else None
            reason = "Found damaged in the bin" if kind == "ADJUSTMENT" else None
            unit_cost = _round(value / on_hand, COST_PLACES)
            move_value = -value if on_hand + qty == 0 else _round(qty * unit_cost, PAISA)
        qty_value[0] = on_hand + qty
        qty_value[1] = value + move_value
        rows.append((branch_id, part_id, moved_at, kind, qty, unit_cost, move_value, reference, reason))
        if len(rows) == 100_000:
            _copy(conn, "inventory.stock_move", ("branch_id", "part_id", "moved_at", "kind", "qty", "unit_cost",
                                                 "value", "reference", "reason"), rows)
            rows.clear()
    _copy(conn, "inventory.stock_move", ("branch_id", "part_id", "moved_at", "kind", "qty", "unit_cost", "value",
                                         "reference", "reason"), rows)
    if write_balances:  # with triggers on, every move already updated its balance row
        _copy(conn, "inventory.part_stock", ("branch_id", "part_id", "qty", "value", "bin_location"),
              ((b, p, q, v, f"R{p % 40:02d}-S{p % 7}") for (b, p), (q, v) in balance.items()))
    return count


def _check_ledger(conn: Connection) -> None:
    wrong = conn.execute(sa.text(
        """SELECT count(*) FROM inventory.part_stock s
             LEFT JOIN (SELECT branch_id, part_id, sum(qty) AS qty, sum(value) AS value
                          FROM inventory.stock_move GROUP BY 1, 2) m USING (branch_id, part_id)
            WHERE s.qty <> coalesce(m.qty, 0) OR s.value <> coalesce(m.value, 0)""")).scalar()
    if wrong:
        raise RuntimeError(f"generated ledger does not add up to the balance for {wrong} parts")
