"""Generate five years of a dealership's stock history for benchmarks (COPY-based).

(The workshop's job cards of the delivered vehicles, their bills and gate passes are made after the
sales by seed/workshop_history.py, set-based in SQL; see its docstring. The calls on the leads, test
rides, consent, reminders and outbox messages after them by seed/crm_history.py.)

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
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from webapp.formatting import IST, today_ist
from webapp.validators import gstin_check_character

VIN_ALPHABET = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"  # no I, O, Q
COLOURS = ["Pearl White", "Midnight Black", "Racing Red", "Ocean Blue", "Space Grey", "Lime Green"]
PAISA = Decimal("0.01")
# The history sells at six-digit HSN (a showroom of its turnover must report them: finance.hsn_digits_rule):
# its parts and goods carriers, and the on-road charges of the master at a four-digit heading (sql/0059).
SIX_DIGITS = {"8714": "871410", "8504": "850440", "8704": "870460"}
COST_PLACES = Decimal("0.0001")


@dataclass
class Sizes:
    units: int = 20_000
    parts: int = 3_000
    moves: int = 1_000_000
    years: int = 5
    sales: int = 30_000   # bookings; the units are raised to cover them (a unit is sold at most once)
    job_cards: int | None = None   # the workshop's delivered job cards; None: five per sale (seed/workshop_history.py)


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

    through_triggers: post every move through inventory.post_stock_move and every sale through
    the sales and billing services (slow; tests use it to prove the fast path writes what the
    triggers would).
    """
    rng = random.Random(seed)
    sales_rng = random.Random(seed * 7919 + 1)  # its own stream: the stock data do not depend on the sales
    today = today or today_ist()
    start = today - timedelta(days=365 * sizes.years)
    branches = [r[0] for r in conn.execute(sa.text("SELECT branch_id FROM master.branch WHERE is_active ORDER BY 1"))]
    if not branches:
        raise RuntimeError("no branch: run the setup wizard or seed-demo first")
    refused = _why_not(conn)
    if refused:
        raise RuntimeError(refused)

    progress("catalog")
    variants = _catalog(conn, rng, start)
    progress(f"{sizes.parts} parts")
    parts = _parts(conn, rng, sizes.parts)
    fast = _is_superuser(conn) and not through_triggers
    unit_count = max(sizes.units, _units_for_sales(sizes.sales))
    unit_rows, pack_rows = _unit_rows(rng, unit_count, variants, branches, start, today)
    plan = None
    if sizes.sales:
        masters = _sales_masters(conn, branches)
        plan = _plan_sales(sales_rng, sizes.sales, masters, unit_rows, pack_rows, start, today)
        if not fast:  # the units the sales will take are written in stock; the services move them on
            for sale in plan.sales:
                if sale.unit is not None:
                    unit_rows[sale.unit] = unit_rows[sale.unit][:8] + ("IN_STOCK",) + unit_rows[sale.unit][9:]
    if fast:
        conn.execute(sa.text("SET LOCAL session_replication_role = replica"))  # this transaction only
    progress(f"{unit_count} vehicle units and their battery packs")
    unit_ids = _write_units(conn, unit_rows, pack_rows)
    progress(f"{sizes.moves} stock moves")
    moves = _moves(conn, rng, sizes.moves, parts, branches, start, today, write_balances=fast)
    sold = {}
    if plan is not None:
        progress(f"{sizes.sales} sales (bookings, invoices, receipts, deliveries, insurance)")
        if fast:
            sold = _write_sales(conn, plan, unit_ids)
        else:
            sold = _post_sales(conn, plan, unit_ids)
    workshop = _workshop(conn, sizes, sold, today, progress)
    crm = _crm(conn, sold, start, today, progress)
    books = _post_books(conn, progress, fast)
    if fast:
        conn.execute(sa.text("SET LOCAL session_replication_role = origin"))
    if (fast and sold) or workshop:  # the balances the billing triggers keep (sql/0020), from the documents written
        conn.execute(sa.text("SELECT billing.rebuild_invoice_balance()"))
    _rebuild_kept_totals(conn)
    _check_ledger(conn)
    if plan is not None:
        _check_sales(conn)
    if workshop:
        from .workshop_history import check_workshop

        check_workshop(conn)
    if crm:
        from .crm_history import check_crm

        check_crm(conn)
    conn.execute(sa.text("ANALYZE"))
    return {"variant_colours": len(variants), "parts": len(parts), "units": unit_count, "moves": moves,
            **sold, **workshop, **crm, **books, "through_triggers": not fast}


def _rebuild_kept_totals(conn: Connection) -> None:
    """The home screen's kept figures (sql/0058: the invoices' monthly totals, the OEM's dues per day), made
    from the documents written: the fast path and the workshop's history wrote them with the triggers off."""
    conn.execute(sa.text("SELECT billing.rebuild_invoice_month(), finance.rebuild_oem_pending()"))


def _post_books(conn: Connection, progress, fast: bool) -> dict:
    """The vouchers of the documents written (sql/functions/96_finance_posting.sql). The fast path wrote
    the documents with the triggers off: finance.backfill_vouchers posts them all, set-based (it fills
    every column itself and checks the balance, so the triggers being off changes nothing). Through the
    triggers, every document posted its own voucher but the invoices and purchase invoices, which post
    theirs at commit: their deferred triggers fire now, so what the backfill has left to post is nothing."""
    progress("the books: a voucher for every document")
    if not fast:
        conn.execute(sa.text("SET CONSTRAINTS billing.invoice_voucher, procurement.purchase_invoice_voucher IMMEDIATE"))
        conn.execute(sa.text("SET CONSTRAINTS billing.invoice_voucher, procurement.purchase_invoice_voucher DEFERRED"))
    conn.execute(sa.text("SELECT count(*) FROM finance.backfill_vouchers()"))
    return {"vouchers": conn.execute(sa.text("SELECT count(*) FROM finance.voucher")).scalar_one()}


def _workshop(conn: Connection, sizes: Sizes, sold: dict, today: date, progress) -> dict:
    """The workshop's job cards for the delivered vehicles (seed/workshop_history.py); written with
    the triggers off, so only on a superuser connection (the same in both paths)."""
    from .workshop_history import CARDS_PER_SALE, generate_workshop

    cards = sizes.job_cards if sizes.job_cards is not None else CARDS_PER_SALE * sizes.sales
    if not sold or not cards or not _is_superuser(conn):
        return {}
    progress(f"{cards} workshop job cards (readings, parts, bills, gate passes)")
    return generate_workshop(conn, cards, today, progress)


def _crm(conn: Connection, sold: dict, start: date, today: date, progress) -> dict:
    """Calls and test rides on the leads, reminders and their outbox rows (seed/crm_history.py);
    written with the triggers off, so only on a superuser connection."""
    from .crm_history import generate_crm

    if not sold or not _is_superuser(conn):
        return {}
    now = min(datetime.now(IST), datetime.combine(today, time(9, 0), IST))  # a past `today`: its morning
    return generate_crm(conn, start, today, now, progress)


# The generated catalog's OEMs: a database that has them already holds a generated history.
HISTORY_OEMS = [("Vayu Electric", "27", "AABCV1111L"), ("Ganga Motors", "29", "AABCG2222M"),
                ("Shakti EV", "33", "AABCS3333N")]


def _why_not(conn: Connection) -> str | None:
    """Why the history may not be generated here, or None. It goes only into an empty stock or the
    stock seed-demo made (its scooters and the opening of its parts: nothing a showroom sold or
    bought itself), and only once: a second history would number its invoices after the first's."""
    from .demo import DEMO_BOOKED_MOBILES, DEMO_OPENING_REFERENCE, DEMO_VIN_PREFIX, SOLD_HERE

    if conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM oem.oem WHERE brand = ANY(:b))"),
                    {"b": [brand for brand, _, _ in HISTORY_OEMS]}).scalar():
        return "this database already holds a generated history; it is generated only once"
    # The demo's one scooter sold here (seed/demo.py SOLD_HERE) and its bills, and the bookings of its
    # booked leads, are the demo's own.
    if conn.execute(sa.text(
            """WITH demo AS (SELECT customer_id FROM master.customer WHERE mobile = ANY(:demo_mobiles))
               SELECT EXISTS (SELECT 1 FROM inventory.vehicle_unit WHERE vin NOT LIKE :vin)
                   OR EXISTS (SELECT 1 FROM inventory.stock_move
                               WHERE kind <> 'OPENING' OR reference IS DISTINCT FROM :opening)
                   OR EXISTS (SELECT 1 FROM sales.booking WHERE customer_id NOT IN (SELECT customer_id FROM demo))
                   OR EXISTS (SELECT 1 FROM billing.invoice
                               WHERE customer_id IS NULL OR customer_id NOT IN (SELECT customer_id FROM demo))
                   OR EXISTS (SELECT 1 FROM billing.receipt r
                               LEFT JOIN sales.booking b ON b.booking_id = r.booking_id
                               LEFT JOIN billing.invoice i ON i.invoice_id = r.invoice_id
                              WHERE coalesce(b.customer_id, i.customer_id) NOT IN (SELECT customer_id FROM demo)
                                 OR coalesce(b.customer_id, i.customer_id) IS NULL)"""),
            {"vin": DEMO_VIN_PREFIX + "%", "opening": DEMO_OPENING_REFERENCE,
             "demo_mobiles": [SOLD_HERE["mobile"], *DEMO_BOOKED_MOBILES]}).scalar():
        return ("this database already has stock or sales of its own; generate-history only fills an empty one "
                "or the demo showroom of seed-demo --history (plain seed-demo adds a month of documents of its own)")
    return None


def _catalog(conn: Connection, rng: random.Random, start: date) -> list[tuple[int, str, Decimal]]:
    """Three OEMs, their models, variants, colours and prices; returns (variant_id, colour, cost)."""
    found = []
    for brand, state, pan in HISTORY_OEMS:
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
            hsn = "871160" if segment == "E2W" else ("870460" if segment == "E3W_GOODS" else "87038040")
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
        rows.append((f"GP-{n + 1:05d}", f"{base} ({n // len(names) + 1})", "871410", unit,
                     _round(price * Decimal("1.5") * Decimal("1.18"), PAISA), price,
                     Decimal(rng.choice([0, 2, 5, 10])), Decimal(rng.choice([5, 10, 20]))))
    _copy(conn, "master.part", ("part_no", "name", "hsn_code", "unit", "mrp", "purchase_price",
                                "reorder_level", "reorder_qty"), rows)
    return [tuple(r) for r in conn.execute(sa.text(
        "SELECT part_id, whole_units, purchase_price FROM master.part WHERE part_no LIKE 'GP-%' ORDER BY part_id"))]


def _unit_rows(rng: random.Random, count: int, variants, branches, start: date, today: date):
    """Vehicle units (most of them long delivered) and their battery packs, as COPY rows."""
    span = (today - start).days
    unit_rows, pack_rows = [], []
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
    return unit_rows, pack_rows


def _write_units(conn: Connection, unit_rows, pack_rows) -> list[int]:
    """COPY the units and packs, fit each pack to its unit; returns the unit ids in row order."""
    _copy(conn, "inventory.vehicle_unit", ("vin", "motor_no", "charger_serial", "key_no", "variant_id", "colour",
                                           "mfg_month", "branch_id", "status", "received_on", "purchase_cost"),
          unit_rows)
    _copy(conn, "inventory.battery_pack", ("serial", "chemistry", "mfg_month"), pack_rows)
    vins = [r[0] for r in unit_rows]
    # Only the units written here: a demo showroom's scooters (seed-demo) may end in the same digits.
    conn.execute(sa.text(
        """INSERT INTO inventory.battery_fitment (pack_id, unit_id, fitted_on, reason)
           SELECT p.pack_id, u.unit_id, coalesce(u.received_on, u.mfg_month), 'fitted by the OEM'
             FROM inventory.vehicle_unit u
             JOIN inventory.battery_pack p ON left(p.serial, 9) = 'BP' || right(u.vin, 7)
            WHERE u.vin = ANY(:v)"""), {"v": vins})
    ids = dict(conn.execute(sa.text("SELECT vin, unit_id FROM inventory.vehicle_unit WHERE vin = ANY(:v)"),
                            {"v": vins}).all())
    return [ids[r[0]] for r in unit_rows]


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


# =========================================================================== sales
#
# Bookings, allotments, tax invoices, receipts, deliveries, cancellations with refunds and
# insurance policies over the same five years. The sales are planned first (dates, prices,
# charges, payments, the GST worked back with billing.tax exactly as billing.posting does),
# then either written with COPY and numbered here as master.next_document_no would number
# them (fast path, triggers off), or posted one by one through the sales and billing
# services in date order (the fallback, and the proof in tests that both give the same).

FIRST_NAMES = ["Arjun", "Priya", "Ramesh", "Kavitha", "Imran", "Lakshmi", "Suresh", "Ananya", "Deepak", "Meera",
               "Manjunath", "Girish", "Farhan", "Shalini", "Vikram", "Divya", "Naveen", "Pooja", "Harish", "Sneha"]
SURNAMES = ["Kumar", "Rao", "Nair", "Shetty", "Gowda", "Iyer", "Naik", "Hegde", "Prasad", "Pasha", "Reddy",
            "Sharma", "Patil"]
STREETS = ["MG Road", "Residency Road", "Hosur Road", "Church Street", "Temple Street", "Station Road",
           "Lake View Layout", "2nd Cross, 4th Main", "Gandhi Nagar", "Nehru Colony"]
CITIES = {"29": ("Bengaluru", "560"), "33": ("Chennai", "600"), "27": ("Pune", "411"), "32": ("Kochi", "682"),
          "36": ("Hyderabad", "500"), "07": ("New Delhi", "110")}
FINANCIERS = ["Bajaj Finance Limited", "HDFC Bank Limited", "IDFC First Bank Limited", "Shriram Finance Limited"]
INSURERS = [("ICICI Lombard General Insurance", "ICL"), ("Bajaj Allianz General Insurance", "BAG"),
            ("Tata AIG General Insurance", "TAG"), ("The New India Assurance Company", "NIA")]
CANCEL_REASONS = ["Customer bought elsewhere", "Finance not approved", "Family decided to wait",
                  "Wanted a colour not available", "Moved to another city"]
LOST_REASONS = ["Price too high", "Bought a petrol scooter", "No charging point at home", "Not reachable"]
# The reason of crm.lost_reason each remark is filed under (the leads are the CRM's, sql/0035).
LOST_REASON_CODES = {"Price too high": "PRICE", "Bought a petrol scooter": "OTHER_BRAND",
                     "No charging point at home": "RANGE", "Not reachable": "NO_RESPONSE"}
SOLD = ("ALLOTTED", "INVOICED", "DELIVERED")
# Generated salespeople: no PIN verifies against this until an administrator sets one.
NO_PIN_HASH = "$argon2id$v=19$m=1024,t=1,p=1$bm9waW4$generated-no-pin"
ZERO = Decimal("0.00")


def _sale_counts(sales: int) -> tuple[int, int]:
    """How many of the bookings are cancelled and how many still wait for a unit."""
    if sales < 10:
        return 0, 0
    return max(1, round(sales * 0.03)), max(1, round(sales * 0.01))


def _units_for_sales(sales: int) -> int:
    """Enough units that the bookings with a unit find one (about 95% of the units are sold)."""
    if not sales:
        return 0
    cancelled, waiting = _sale_counts(sales)
    return -(-(sales - cancelled - waiting) * 100 // 93)


def _key(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _fy(d: date) -> int:
    return d.year if d.month >= 4 else d.year - 1


def _at(d: date, seq: int, hour: int = 10) -> datetime:
    return datetime.combine(d, time(hour, 0), tzinfo=IST) + timedelta(seconds=(seq * 37) % 25_000)


@dataclass
class _Sale:
    seq: int
    branch_id: int
    customer: dict
    salesperson: int
    variant_id: int
    colour: str
    ex_showroom: Decimal
    discount: Decimal
    subsidy: Decimal
    items: list            # (item_code, description, amount, hsn_code or None)
    delivery_state: str | None
    delivery_address: str | None
    finance: dict | None
    enquiry: dict
    booked_on: date
    expected: date
    outcome: str           # BOOKED, ALLOTTED, INVOICED, DELIVERED or CANCELLED
    advance: tuple         # (mode, amount, reference)
    keys: dict
    unit: int | None = None   # index into the unit rows
    allotted_on: date | None = None
    invoiced_on: date | None = None
    delivered_on: date | None = None
    cancelled_on: date | None = None
    cancel_reason: str | None = None
    charge: Decimal = ZERO
    refund: tuple | None = None   # (mode, amount, reference)
    balance: list = field(default_factory=list)   # (mode, amount, reference, received_from, key)
    lines: list = field(default_factory=list)     # dicts as billing.posting.vehicle_sale drafts them
    invoice: object = None                        # billing.tax.Invoice
    place_of_supply: str | None = None
    tcs: tuple = (Decimal(0), ZERO)               # (rate, amount)
    policy: dict | None = None


@dataclass
class _Plan:
    sales: list
    events: list   # (date, rank, seq, kind), posting order
    enquiries: list   # the leads (crm.lead, the enquiries of before) that never became a booking
    masters: object


def _sales_masters(conn: Connection, branches: list[int]):
    """What the sales draw on: branches, salespeople, financiers, insurers, prices, charge items,
    tax rates, TCS rules. Creates salespeople (who cannot log in until given a PIN), financiers and
    insurers where there are none."""
    from types import SimpleNamespace

    info = {r.branch_id: r for r in conn.execute(sa.text(
        "SELECT branch_id, state_code, invoice_prefix, gstin FROM master.branch WHERE branch_id = ANY(:b)"),
        {"b": branches})}
    people = {}
    for branch_id in branches:
        ids = list(conn.execute(sa.text(
            "SELECT staff_id FROM master.staff WHERE branch_id = :b AND designation = 'SALES' AND is_active "
            "ORDER BY staff_id"), {"b": branch_id}).scalars())
        if not ids:
            for k in range(3):
                ids.append(conn.execute(sa.text(
                    """INSERT INTO master.staff (branch_id, staff_code, name, designation, pin_hash, must_change_pin)
                       VALUES (:b, :code, :name, 'SALES', :no_pin, true) RETURNING staff_id"""),
                    {"b": branch_id, "no_pin": NO_PIN_HASH, "code": f"GS{branch_id}X{k + 1}",
                     "name": f"{FIRST_NAMES[(branch_id + k) % 20]} {SURNAMES[(branch_id * 3 + k) % 13]}"}).scalar_one())
        people[branch_id] = ids
    for name in FINANCIERS:
        conn.execute(sa.text("INSERT INTO master.financier (name) VALUES (:n) ON CONFLICT (name) DO NOTHING"),
                     {"n": name})
    for name, _ in INSURERS:
        conn.execute(sa.text("INSERT INTO master.insurer (name) VALUES (:n) ON CONFLICT (name) DO NOTHING"),
                     {"n": name})
    financiers = [tuple(r) for r in conn.execute(sa.text(
        "SELECT financier_id, name FROM master.financier WHERE name = ANY(:n) ORDER BY name"), {"n": FINANCIERS})]
    insurers = [(conn.execute(sa.text("SELECT insurer_id FROM master.insurer WHERE name = :n"), {"n": n}).scalar_one(),
                 code) for n, code in INSURERS]
    variants = {r.variant_id: r for r in conn.execute(sa.text(
        """SELECT DISTINCT ON (v.variant_id) v.variant_id, v.model_id, v.name, v.hsn_code, v.battery_kwh,
                  m.name AS model_name, m.segment, o.brand, p.effective_from, p.ex_showroom,
                  oem.subsidy_amount(p, v.battery_kwh) AS subsidy
             FROM oem.variant v JOIN oem.model m USING (model_id) JOIN oem.oem o USING (oem_id)
             JOIN oem.price_list p ON p.variant_id = v.variant_id AND p.colour IS NULL AND p.effective_to IS NULL
            ORDER BY v.variant_id, p.effective_from DESC"""))}
    # The charges of a showroom of this size are billed at six digits: the master's own codes become them,
    # so the sales through the services (through_triggers) bill what the fast path writes.
    conn.execute(sa.text("""UPDATE sales.onroad_item o SET hsn_code = m.six
                              FROM unnest(CAST(:four AS text[]), CAST(:six AS text[])) AS m (four, six)
                             WHERE o.hsn_code = m.four"""), {"four": list(SIX_DIGITS), "six": list(SIX_DIGITS.values())})
    items = [tuple(r) for r in conn.execute(sa.text(
        "SELECT item_code, name, hsn_code FROM sales.onroad_item WHERE is_active ORDER BY sort_order, item_code"))]
    rates: dict[str, list] = {}
    for hsn, rate, frm, to in conn.execute(sa.text(
            "SELECT hsn_code, gst_rate, effective_from, effective_to FROM master.hsn_rate")):
        rates.setdefault(hsn, []).append((frm, to, rate))
    tcs = [tuple(r) for r in conn.execute(sa.text(
        "SELECT effective_from, effective_to, above_amount, rate FROM billing.tcs_rule"))]
    states = dict(conn.execute(sa.text("SELECT state_code, name FROM master.state")).all())
    pdi_items = list(conn.execute(sa.text(
        "SELECT pdi_item_id FROM sales.pdi_item WHERE is_active ORDER BY pdi_item_id")).scalars())
    return SimpleNamespace(branches=info, salespeople=people, financiers=financiers, insurers=insurers,
                           variants=variants, items=items, rates=rates, tcs=tcs, states=states, pdi_items=pdi_items)


def _rate_on(masters, hsn: str, on: date) -> Decimal:
    for frm, to, rate in masters.rates.get(hsn, ()):
        if frm <= on and (to is None or on <= to):
            return rate
    raise RuntimeError(f"the tax master has no GST rate for {hsn} on {on}")


def _customer(rng: random.Random, n: int, branch_id: int, state: str) -> dict:
    city, pin = CITIES.get(state, ("Bengaluru" if state == "29" else "City Centre", "560" if state == "29" else "110"))
    name = f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"
    business = rng.random() < 0.03
    gstin = None
    if business:
        name = f"{name.split()[1]} Logistics"
        pan = "AAB" + "CF"[n % 2] + "ABCDEFGHJK"[n % 10] + f"{n % 10000:04d}" + "ABCDEFGHJK"[(n // 10) % 10]
        gstin = _gstin(state, pan)
    return {"branch_id": branch_id, "kind": "BUSINESS" if business else "INDIVIDUAL", "name": name,
            "mobile": f"{rng.choice('6789')}{rng.randrange(10 ** 9):09d}",
            "email": f"{name.split()[0].lower()}{n}@mail.example" if rng.random() < 0.4 else None,
            "address_line1": f"No. {rng.randint(1, 400)}, {rng.choice(STREETS)}", "address_line2": None,
            "city": city, "state_code": state, "pincode": f"{pin}{rng.randint(1, 99):03d}", "gstin": gstin}


def _charges(rng: random.Random, masters, segment: str) -> dict[str, Decimal]:
    three = segment != "E2W"
    amounts = {}
    if rng.random() < 0.93:
        amounts["INSURANCE"] = Decimal(rng.randint(90, 140) * 100 if three else rng.randint(52, 82) * 100)
    amounts["REGISTRATION"] = Decimal(rng.choice([1500, 1850, 2400, 3100]) if not three else rng.choice([3500, 4200]))
    amounts["HSRP"] = Decimal(rng.choice([450, 650, 850]))
    if rng.random() < 0.3:
        amounts["EXT_WARRANTY"] = Decimal(rng.choice([2999, 3499, 4999]))
    if rng.random() < 0.5:
        amounts["ACCESSORIES"] = Decimal(rng.choice([1180, 2360, 3540, 4720]))
    if rng.random() < 0.05:
        amounts["CHARGER"] = Decimal(rng.choice([6500, 8900]))
    return amounts


def _plan_sales(rng: random.Random, count: int, masters, unit_rows, pack_rows, start: date, today: date) -> _Plan:
    from webapp.billing import tax

    sold = [i for i, r in enumerate(unit_rows) if r[8] in SOLD and r[4] in masters.variants]
    if any(r[8] in SOLD and r[4] not in masters.variants for r in unit_rows):
        raise RuntimeError("a sold unit's variant has no open-ended price in the price list")
    cancelled, waiting = _sale_counts(count)
    with_unit = min(len(sold), max(0, count - cancelled - waiting))
    chosen = set(sold[len(sold) - with_unit:]) | {i for i in sold if unit_rows[i][8] != "DELIVERED"}
    # Older delivered units left over were sold before these records begin.
    rest = max(0, count - len(chosen))
    cancelled = min(cancelled, rest) if rest else 0
    waiting = rest - cancelled
    shapes = [(i, unit_rows[i][8]) for i in sorted(chosen)] + [(None, "CANCELLED")] * cancelled \
        + [(None, "BOOKED")] * waiting
    sellable = [(r[4], r[5], r[7]) for r in unit_rows if r[4] in masters.variants]
    sales, events = [], []
    span = (today - start).days
    for seq, (unit, outcome) in enumerate(shapes, start=1):
        if unit is not None:
            r = unit_rows[unit]
            variant_id, colour, branch_id, received = r[4], r[5], r[7], r[9]
            booked = min(today, max(start, received - timedelta(days=rng.randint(0, 20))))
        else:
            variant_id, colour, branch_id = rng.choice(sellable)
            if outcome == "CANCELLED":
                booked = start + timedelta(days=rng.randint(0, max(0, span - 45)))
            else:
                booked = today - timedelta(days=rng.randint(0, 20))
        v = masters.variants[variant_id]
        booked = max(booked, v.effective_from)
        branch = masters.branches[branch_id]
        state = branch.state_code
        delivery_state = delivery_address = None
        if rng.random() < 0.04:
            delivery_state = rng.choice([s for s in ("33", "27", "32", "36", "29") if s != state])
            delivery_address = f"Plot {rng.randint(1, 90)}, Industrial Estate, {CITIES[delivery_state][0]}"
        customer = _customer(rng, seq, branch_id, delivery_state or state)
        discount = Decimal(rng.choice([500, 1000, 1500, 2000, 3000, 5000])) if rng.random() < 0.4 else ZERO
        amounts = _charges(rng, masters, v.segment)
        items = [(code, name, amounts[code], hsn) for code, name, hsn in masters.items if amounts.get(code)]
        finance = None
        if rng.random() < 0.35:
            financier_id, financier = rng.choice(masters.financiers)
            loan = Decimal(int((v.ex_showroom - discount) * Decimal(rng.randint(55, 80)) / 100 / 1000) * 1000)
            finance = {"financier_id": financier_id, "financier": financier, "loan_amount": loan,
                       "down_payment": v.ex_showroom - discount - loan, "loan_account_no": f"LN{seq:08d}"}
        salesperson = rng.choice(masters.salespeople[branch_id])
        enquiry = {"branch_id": branch_id, "lead_date": booked - timedelta(days=rng.randint(0, 14)),
                   "source": rng.choice(["WALK_IN", "WALK_IN", "PHONE", "REFERRAL", "WEBSITE"]),
                   "model_id": v.model_id, "salesperson_id": salesperson,
                   "test_ride_on": booked if rng.random() < 0.6 else None}
        mode = rng.choice(["CASH", "UPI", "UPI", "CARD", "BANK_TRANSFER"])
        advance = (mode, Decimal(rng.choice([2000, 5000, 10000, 11000, 21000, 25000])),
                   None if mode == "CASH" else f"{mode[:3]}{rng.randrange(10 ** 10):010d}")
        sale = _Sale(seq=seq, branch_id=branch_id, customer=customer, salesperson=salesperson, variant_id=variant_id,
                     colour=colour, ex_showroom=v.ex_showroom, discount=discount, subsidy=v.subsidy, items=items,
                     delivery_state=delivery_state, delivery_address=delivery_address, finance=finance,
                     enquiry=enquiry, booked_on=booked, expected=booked + timedelta(days=rng.randint(7, 30)),
                     outcome=outcome, advance=advance, unit=unit,
                     keys={k: _key(rng) for k in ("booking", "advance", "invoice", "delivery", "refund")})
        events.append((booked, 0, seq, "book"))
        if outcome == "CANCELLED":
            sale.cancelled_on = min(today, booked + timedelta(days=rng.randint(2, 30)))
            sale.cancel_reason = rng.choice(CANCEL_REASONS)
            sale.charge = min(advance[1], Decimal(rng.choice([0, 0, 500, 1000])))
            refund = advance[1] - sale.charge
            refund_mode = rng.choice(["CASH", "UPI", "BANK_TRANSFER"]) if refund else "CASH"
            reference = f"{refund_mode[:3]}{rng.randrange(10 ** 10):010d}"
            sale.refund = (refund_mode, refund, reference if refund and refund_mode != "CASH" else None)
            events.append((sale.cancelled_on, 4, seq, "cancel"))
        if unit is not None:
            sale.allotted_on = min(today, max(received, booked) + timedelta(days=rng.randint(0, 2)))
            events.append((sale.allotted_on, 1, seq, "allot"))
        if outcome in ("INVOICED", "DELIVERED"):
            sale.invoiced_on = min(today, sale.allotted_on + timedelta(days=rng.randint(0, 4)))
            _plan_invoice(rng, sale, masters, unit_rows[unit], pack_rows[unit], tax)
            events.append((sale.invoiced_on, 2, seq, "invoice"))
        if outcome == "DELIVERED":
            sale.delivered_on = min(today, sale.invoiced_on + timedelta(days=rng.randint(0, 3)))
            events.append((sale.delivered_on, 3, seq, "deliver"))
            # The hand-over gate asks for a policy: one sold here, or (no premium collected) the
            # customer's own, recorded at the usual premium.
            premium = next((amount for code, _, amount, _ in items if code == "INSURANCE"), None) or Decimal(6500)
            if premium:
                insurer_id, code = rng.choice(masters.insurers)
                frm = sale.invoiced_on
                commission = _round(premium * Decimal("0.15"), PAISA)
                sale.policy = {
                    "insurer_id": insurer_id, "od_policy_no": f"{code}OD{frm.year}{seq:07d}", "od_from": frm,
                    "od_to": frm + timedelta(days=364), "tp_policy_no": f"{code}TP{frm.year}{seq:07d}",
                    "tp_from": frm, "tp_to": frm + timedelta(days=5 * 365 - 1), "premium": premium,
                    "idv": _round(v.ex_showroom * Decimal("0.95"), PAISA),
                    "nominee_name": f"{rng.choice(FIRST_NAMES)} {customer['name'].split()[-1]}"
                    if rng.random() < 0.7 else None,
                    "commission_amount": commission,
                    "commission_received_on": frm + timedelta(days=45) if frm + timedelta(days=45) <= today else None}
                if sale.policy["nominee_name"] is None:
                    sale.policy["nominee_relation"] = None
                else:
                    sale.policy["nominee_relation"] = rng.choice(["Spouse", "Father", "Mother", "Son", "Daughter"])
        sales.append(sale)
    events.sort()
    enquiries = []
    for n in range(count // 4):
        branch_id = rng.choice(list(masters.branches))
        v = masters.variants[rng.choice(sellable)[0]]
        on = start + timedelta(days=rng.randint(0, span))
        lost = on < today - timedelta(days=45) or rng.random() < 0.3
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"
        source = rng.choice(["WALK_IN", "PHONE", "REFERRAL", "WEBSITE"])
        mobile = f"{rng.choice('6789')}{rng.randrange(10 ** 9):09d}"
        salesperson = rng.choice(masters.salespeople[branch_id])
        remark = rng.choice(LOST_REASONS) if lost else None
        enquiries.append((branch_id, on, source, name, mobile, v.model_id, salesperson,
                          "LOST" if lost else "CONTACTED", LOST_REASON_CODES.get(remark), remark,
                          None if lost else min(today + timedelta(days=3), on + timedelta(days=rng.randint(1, 7)))))
    return _Plan(sales, events, enquiries, masters)


def _plan_invoice(rng: random.Random, sale: _Sale, masters, unit_row, pack_row, tax) -> None:
    """The invoice lines and totals as billing.posting.vehicle_sale works them out, and the payments."""
    v = masters.variants[sale.variant_id]
    on = sale.invoiced_on
    vin, motor, charger = unit_row[0], unit_row[1], unit_row[2]
    identity = f"VIN {vin}, motor {motor}, battery {pack_row[0]}"
    if charger:
        identity += f", charger {charger}"
    sale.lines = [{"description": f"{v.brand} {v.model_name} {v.name} ({sale.colour}), "
                                  f"{v.battery_kwh.normalize():f} kWh; {identity}",
                   "hsn_code": v.hsn_code, "unit_price": sale.ex_showroom,
                   "gst_rate": _rate_on(masters, v.hsn_code, on),
                   "discount": sale.discount, "unit": True}]
    for _, description, amount, hsn in sale.items:
        if hsn:
            sale.lines.append({"description": description, "hsn_code": hsn, "unit_price": amount,
                               "gst_rate": _rate_on(masters, hsn, on), "discount": ZERO, "unit": False})
    branch_state = masters.branches[sale.branch_id].state_code
    sale.place_of_supply = sale.delivery_state or branch_state
    sale.invoice = tax.compute_invoice(
        (tax.InvoiceLine(description=line["description"], hsn_code=line["hsn_code"], qty=Decimal(1),
                         unit_price=line["unit_price"], gst_rate=line["gst_rate"], price_includes_gst=True,
                         discount=line["discount"]) for line in sale.lines),
        intra_state=sale.place_of_supply == branch_state)
    grand = sale.invoice.grand_total
    for frm, to, above, rate in masters.tcs:
        if frm <= on and (to is None or on <= to) and grand > above:
            sale.tcs = (rate, _round(grand * rate / 100, PAISA))
    others = sum((amount for _, _, amount, hsn in sale.items if hsn is None), ZERO)
    remaining = grand + sale.tcs[1] + others - sale.advance[1]
    name = sale.customer["name"]
    if sale.subsidy > 0 and rng.random() < 0.85 and remaining > 0:
        amount = min(sale.subsidy, remaining)
        sale.balance.append(("SUBSIDY", amount, f"EDRIVE{sale.seq:08d}", "PM E-DRIVE (OEM credit)", _key(rng)))
        remaining -= amount
    if sale.finance and remaining > 0:
        amount = min(sale.finance["loan_amount"], remaining)
        sale.balance.append(("FINANCE", amount, f"DO{sale.seq:08d}", sale.finance["financier"], _key(rng)))
        sale.finance.update(do_number=f"DO{sale.seq:08d}", do_received_on=on)
        remaining -= amount
    if sale.outcome == "INVOICED" and rng.random() < 0.5:
        return  # the customer still owes the rest
    while remaining > 0:
        mode = rng.choice(["BANK_TRANSFER", "BANK_TRANSFER", "UPI", "CHEQUE", "CARD"])
        amount = remaining if remaining < 20_000 or rng.random() < 0.7 else _round(remaining / 2, RUPEE)
        sale.balance.append((mode, amount, f"{mode[:3]}{rng.randrange(10 ** 10):010d}", name, _key(rng)))
        remaining -= amount


RUPEE = Decimal(1)


def _voucher(sale) -> str:
    return f"EDRIVE{sale.seq:08d}"


def _temp_reg(sale) -> str:
    return f"TR{sale.invoiced_on:%y%m}{sale.seq:07d}"


def _address(c: dict, state_name: str) -> str:
    """The buyer's address as billing.posting prints it on the invoice."""
    parts = [c["address_line1"], c["address_line2"], c["city"], f"{state_name} ({c['state_code']})",
             f"PIN {c['pincode']}" if c["pincode"] else None]
    return ", ".join(p for p in parts if p)


class _Numbers:
    """master.next_document_no, in Python: per (branch, series, financial year), from 1."""

    def __init__(self, conn: Connection, masters):
        self.prefix = {b: r.invoice_prefix for b, r in masters.branches.items()}
        self.last = {(r.branch_id, r.series, r.fy_start): r.last_no for r in conn.execute(sa.text(
            "SELECT branch_id, series, fy_start, last_no FROM master.document_counter"))}
        self.used: set = set()

    def take(self, branch_id: int, series: str, on: date) -> str:
        key = (branch_id, series, _fy(on))
        n = self.last[key] = self.last.get(key, 0) + 1
        self.used.add(key)
        return f"{self.prefix[branch_id]}{series}/{_fy(on) % 100:02d}/{n}"

    def save(self, conn: Connection) -> None:
        rows = [{"b": b, "s": s, "f": f, "n": self.last[(b, s, f)]} for b, s, f in sorted(self.used)]
        if rows:
            conn.execute(sa.text(
                """INSERT INTO master.document_counter AS c (branch_id, series, fy_start, last_no)
                   VALUES (:b, :s, :f, :n)
                   ON CONFLICT (branch_id, series, fy_start) DO UPDATE SET last_no = EXCLUDED.last_no"""), rows)


TABLES = {  # table: (id column, columns written)
    "master.customer": ("customer_id", ("customer_id", "branch_id", "kind", "name", "mobile", "email", "address_line1",
                                        "address_line2", "city", "state_code", "pincode", "gstin", "created_at")),
    "crm.lead": ("lead_id", ("lead_id", "branch_id", "lead_date", "source", "name", "mobile", "email",
                             "customer_id", "model_id", "salesperson_id", "status", "lost_reason_code", "lost_remark",
                             "test_ride_on", "follow_up_on", "created_at")),
    "sales.booking": ("booking_id", ("booking_id", "booking_no", "branch_id", "booked_on", "customer_id", "lead_id",
                                     "salesperson_id", "variant_id", "colour", "expected_delivery", "finance_needed",
                                     "ex_showroom", "discount", "discount_status", "discount_by", "subsidy_eligible",
                                     "delivery_state_code", "delivery_address", "stage", "invoice_id", "cancelled_on",
                                     "cancel_reason", "idempotency_key", "created_at")),
    "sales.booking_item": (None, ("booking_id", "line_no", "item_code", "description", "amount", "hsn_code")),
    "sales.finance": (None, ("booking_id", "financier_id", "loan_amount", "down_payment", "loan_account_no",
                             "do_number", "do_received_on")),
    "sales.subsidy_claim": (None, ("booking_id", "eligible_amount", "voucher_id", "branch_id", "booking_no",
                                   "booking_cancelled", "listed_on", "oem_id")),
    "sales.registration": (None, ("booking_id", "form20_on", "temp_reg_no")),
    "sales.allotment": ("allotment_id", ("allotment_id", "booking_id", "unit_id", "allotted_at", "allotted_by")),
    "billing.invoice": ("invoice_id", (
        "invoice_id", "invoice_no", "branch_id", "invoice_date", "kind", "booking_id", "unit_id", "customer_id",
        "supplier_gstin", "supplier_state_code", "buyer_name", "buyer_address", "buyer_state_code", "buyer_gstin",
        "buyer_mobile", "delivery_address", "delivery_state_code", "place_of_supply", "pos_overridden",
        "taxable_value", "cgst", "sgst", "igst", "round_off", "grand_total", "tcs_rate", "tcs_amount",
        "idempotency_key", "posted_by", "posted_at")),
    "billing.invoice_line": (None, ("invoice_id", "line_no", "description", "hsn_code", "qty", "unit", "unit_price",
                                    "price_includes_gst", "discount", "taxable_value", "gst_rate", "cgst", "sgst",
                                    "igst", "total", "unit_id")),
    "billing.receipt": ("receipt_id", ("receipt_id", "receipt_no", "branch_id", "receipt_date", "booking_id",
                                       "received_from", "mode", "amount", "reference", "is_advance",
                                       "idempotency_key", "posted_by", "posted_at")),
    "billing.refund": ("refund_id", ("refund_id", "refund_no", "branch_id", "refund_date", "booking_id", "paid_to",
                                     "mode", "amount", "cancellation_charge", "reason", "reference",
                                     "idempotency_key", "posted_by", "posted_at")),
    "insurance.policy": ("policy_id", ("policy_id", "branch_id", "booking_id", "unit_id", "customer_id", "insurer_id",
                                       "od_policy_no", "od_from", "od_to", "tp_policy_no", "tp_from", "tp_to",
                                       "premium", "idv", "nominee_name", "nominee_relation", "commission_amount",
                                       "commission_received_on", "created_by", "created_at")),
    "sales.pdi_check": (None, ("booking_id", "pdi_item_id", "is_ok", "checked_by", "checked_at")),
    "sales.delivery": ("delivery_id", ("delivery_id", "booking_id", "delivery_no", "delivered_on", "delivered_at",
                                       "unit_id", "invoice_id", "handed_over_by", "received_by_name", "odometer_km",
                                       "idempotency_key")),
}
POLICY_FIELDS = ("insurer_id", "od_policy_no", "od_from", "od_to", "tp_policy_no", "tp_from", "tp_to", "premium",
                 "idv", "nominee_name", "nominee_relation", "commission_amount", "commission_received_on")


def _write_sales(conn: Connection, plan: _Plan, unit_ids: list[int]) -> dict:
    """The fast path: every row as the triggers would have written it, numbered in posting order."""
    m = plan.masters
    numbers = _Numbers(conn, m)
    rows = {table: [] for table in TABLES}
    # The OEM a subsidy claim is owed by (finance.set_subsidy_claim_oem's rule): its variant's maker.
    oem_of_variant = dict(conn.execute(sa.text(
        "SELECT v.variant_id, m.oem_id FROM oem.variant v JOIN oem.model m USING (model_id)")).all())
    next_id = {table: conn.execute(sa.text(f"SELECT coalesce(max({idc}), 0) FROM {table}")).scalar() + 1
               for table, (idc, _) in TABLES.items() if idc}

    def new_id(table: str) -> int:
        n = next_id[table]
        next_id[table] = n + 1
        return n

    def add(table: str, **values) -> None:
        rows[table].append(tuple(values[c] for c in TABLES[table][1]))

    sales = {s.seq: s for s in plan.sales}
    booking_rows, ids = {}, {}
    for on, _, seq, kind in plan.events:
        s = sales[seq]
        ts = _at(on, seq)
        if kind == "book":
            customer_id = new_id("master.customer")
            add("master.customer", customer_id=customer_id, created_at=ts, **s.customer)
            lead_id = new_id("crm.lead")
            add("crm.lead", lead_id=lead_id, name=s.customer["name"], mobile=s.customer["mobile"],
                email=s.customer["email"], customer_id=customer_id, status="BOOKED", lost_reason_code=None,
                lost_remark=None, follow_up_on=None, created_at=ts - timedelta(hours=1), **s.enquiry)
            booking_id = new_id("sales.booking")
            ids[seq] = {"booking": booking_id, "customer": customer_id}
            booking_rows[seq] = {
                "booking_id": booking_id, "booking_no": numbers.take(s.branch_id, "BKG", on), "branch_id": s.branch_id,
                "booked_on": on, "customer_id": customer_id, "lead_id": lead_id, "salesperson_id": s.salesperson,
                "variant_id": s.variant_id, "colour": s.colour, "expected_delivery": s.expected,
                "finance_needed": s.finance is not None, "ex_showroom": s.ex_showroom, "discount": s.discount,
                "discount_status": "WITHIN_LIMIT" if s.discount else "NONE",
                "discount_by": s.salesperson if s.discount else None, "subsidy_eligible": s.subsidy,
                "delivery_state_code": s.delivery_state, "delivery_address": s.delivery_address, "stage": s.outcome,
                "invoice_id": None, "cancelled_on": None, "cancel_reason": None, "idempotency_key": s.keys["booking"],
                "created_at": ts}
            for n, (code, description, amount, hsn) in enumerate(s.items, start=1):
                add("sales.booking_item", booking_id=booking_id, line_no=n, item_code=code, description=description,
                    amount=amount, hsn_code=hsn)
            if s.subsidy > 0:
                # The portal's e-voucher is generated at sale for every sale that goes on to its invoice.
                # Listed as sales.subsidy_claim_listing lists it: the sale's final stage, under its
                # invoice's date once invoiced (generated sales are never credited back).
                invoiced = s.outcome in ("INVOICED", "DELIVERED")
                add("sales.subsidy_claim", booking_id=booking_id, eligible_amount=s.subsidy,
                    voucher_id=_voucher(s) if invoiced else None, branch_id=s.branch_id,
                    booking_no=booking_rows[seq]["booking_no"], booking_cancelled=s.outcome == "CANCELLED",
                    listed_on=s.invoiced_on if invoiced else on, oem_id=oem_of_variant[s.variant_id])
            if s.finance:
                f = s.finance
                add("sales.finance", booking_id=booking_id, financier_id=f["financier_id"],
                    loan_amount=f["loan_amount"], down_payment=f["down_payment"],
                    loan_account_no=f["loan_account_no"], do_number=f.get("do_number"),
                    do_received_on=f.get("do_received_on"))
            mode, amount, reference = s.advance
            add("billing.receipt", receipt_id=new_id("billing.receipt"),
                receipt_no=numbers.take(s.branch_id, "RCT", on), branch_id=s.branch_id, receipt_date=on,
                booking_id=booking_id, received_from=s.customer["name"], mode=mode, amount=amount,
                reference=reference, is_advance=True, idempotency_key=s.keys["advance"], posted_by=s.salesperson,
                posted_at=ts + timedelta(minutes=5))
        elif kind == "allot":
            add("sales.allotment", allotment_id=new_id("sales.allotment"), booking_id=ids[seq]["booking"],
                unit_id=unit_ids[s.unit], allotted_at=ts, allotted_by=s.salesperson)
        elif kind == "invoice":
            inv, b = s.invoice, booking_rows[seq]
            invoice_id = new_id("billing.invoice")
            ids[seq]["invoice"] = invoice_id
            b["invoice_id"] = invoice_id
            c = s.customer
            address = _address(c, m.states[c["state_code"]])
            branch = m.branches[s.branch_id]
            add("billing.invoice", invoice_id=invoice_id, invoice_no=numbers.take(s.branch_id, "INV", on),
                branch_id=s.branch_id, invoice_date=on, kind="VEHICLE", booking_id=b["booking_id"],
                unit_id=unit_ids[s.unit], customer_id=b["customer_id"], supplier_gstin=branch.gstin,
                supplier_state_code=branch.state_code, buyer_name=c["name"], buyer_address=address,
                buyer_state_code=c["state_code"], buyer_gstin=c["gstin"], buyer_mobile=c["mobile"],
                delivery_address=s.delivery_address, delivery_state_code=s.delivery_state,
                place_of_supply=s.place_of_supply,
                pos_overridden=False, taxable_value=inv.taxable_value, cgst=inv.cgst, sgst=inv.sgst, igst=inv.igst,
                round_off=inv.round_off, grand_total=inv.grand_total, tcs_rate=s.tcs[0], tcs_amount=s.tcs[1],
                idempotency_key=s.keys["invoice"], posted_by=s.salesperson, posted_at=ts)
            for n, (line, computed) in enumerate(zip(s.lines, inv.lines), start=1):
                add("billing.invoice_line", invoice_id=invoice_id, line_no=n, description=line["description"],
                    hsn_code=line["hsn_code"], qty=Decimal(1), unit="NOS", unit_price=line["unit_price"],
                    price_includes_gst=True, discount=computed.discount, taxable_value=computed.taxable_value,
                    gst_rate=line["gst_rate"], cgst=computed.cgst, sgst=computed.sgst, igst=computed.igst,
                    total=computed.total, unit_id=unit_ids[s.unit] if line["unit"] else None)
            for k, (mode, amount, reference, received_from, key) in enumerate(s.balance):
                add("billing.receipt", receipt_id=new_id("billing.receipt"),
                    receipt_no=numbers.take(s.branch_id, "RCT", on), branch_id=s.branch_id, receipt_date=on,
                    booking_id=b["booking_id"], received_from=received_from, mode=mode, amount=amount,
                    reference=reference, is_advance=False, idempotency_key=key, posted_by=s.salesperson,
                    posted_at=ts + timedelta(minutes=10 + k))
        elif kind == "deliver":
            booking_id, unit_id = ids[seq]["booking"], unit_ids[s.unit]
            add("sales.registration", booking_id=booking_id, form20_on=s.invoiced_on, temp_reg_no=_temp_reg(s))
            for item in m.pdi_items:
                add("sales.pdi_check", booking_id=booking_id, pdi_item_id=item, is_ok=True, checked_by=s.salesperson,
                    checked_at=ts - timedelta(hours=1))
            add("sales.delivery", delivery_id=new_id("sales.delivery"), booking_id=booking_id,
                delivery_no=numbers.take(s.branch_id, "DLN", on), delivered_on=on, delivered_at=ts,
                unit_id=unit_id, invoice_id=ids[seq]["invoice"], handed_over_by=s.salesperson,
                received_by_name=s.customer["name"], odometer_km=s.seq % 12 + 1, idempotency_key=s.keys["delivery"])
            if s.policy:
                add("insurance.policy", policy_id=new_id("insurance.policy"), branch_id=s.branch_id,
                    booking_id=booking_id, unit_id=unit_id, customer_id=ids[seq]["customer"],
                    created_by=s.salesperson, created_at=ts, **s.policy)
        elif kind == "cancel":
            b = booking_rows[seq]
            b.update(cancelled_on=on, cancel_reason=s.cancel_reason)
            mode, amount, reference = s.refund
            add("billing.refund", refund_id=new_id("billing.refund"), refund_no=numbers.take(s.branch_id, "RFD", on),
                branch_id=s.branch_id, refund_date=on, booking_id=b["booking_id"], paid_to=s.customer["name"],
                mode=mode, amount=amount, cancellation_charge=s.charge,
                reason=f"Booking {b['booking_no']} cancelled: {s.cancel_reason}", reference=reference,
                idempotency_key=s.keys["refund"], posted_by=s.salesperson, posted_at=ts)
    for b in booking_rows.values():
        add("sales.booking", **b)
    for table, data in rows.items():
        _copy(conn, table, TABLES[table][1], data)
    for table, (idc, _) in TABLES.items():
        if idc:
            conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', '{idc}'), max({idc})) "
                                 f"FROM {table} HAVING count(*) > 0"))
    _copy_enquiries(conn, plan.enquiries)  # the ones that never became a booking: numbered by the sequence
    numbers.save(conn)
    return _sales_counts(conn)


def _copy_enquiries(conn: Connection, enquiries) -> None:
    _copy(conn, "crm.lead", ("branch_id", "lead_date", "source", "name", "mobile", "model_id",
                             "salesperson_id", "status", "lost_reason_code", "lost_remark", "follow_up_on"), enquiries)


def _sales_counts(conn: Connection) -> dict:
    return dict(conn.execute(sa.text(
        """SELECT (SELECT count(*) FROM sales.booking) AS bookings, (SELECT count(*) FROM billing.invoice) AS invoices,
                  (SELECT count(*) FROM billing.receipt) AS receipts, (SELECT count(*) FROM billing.refund) AS refunds,
                  (SELECT count(*) FROM sales.delivery) AS deliveries,
                  (SELECT count(*) FROM insurance.policy) AS policies""")).mappings().one())


def _post_sales(conn: Connection, plan: _Plan, unit_ids: list[int]) -> dict:
    """The fallback: every sale through the services and the triggers, in posting order."""
    from webapp.billing import posting
    from webapp.sales import services

    m = plan.masters
    sales = {s.seq: s for s in plan.sales}
    ids: dict[int, dict] = {}
    for on, _, seq, kind in plan.events:
        s = sales[seq]
        conn.execute(sa.text("SELECT set_config('erp.staff_id', :s, true)"), {"s": str(s.salesperson)})
        if kind == "book":
            c = s.customer
            customer_id = conn.execute(sa.text(
                """INSERT INTO master.customer (branch_id, kind, name, mobile, email, address_line1, address_line2,
                                                city, state_code, pincode, gstin)
                   VALUES (:branch_id, :kind, :name, :mobile, :email, :address_line1, :address_line2, :city,
                           :state_code, :pincode, :gstin) RETURNING customer_id"""), c).scalar_one()
            lead_id = conn.execute(sa.text(
                """INSERT INTO crm.lead (branch_id, lead_date, source, name, mobile, email, model_id,
                                         salesperson_id, test_ride_on)
                   VALUES (:branch_id, :lead_date, :source, :name, :mobile, :email, :model_id, :salesperson_id,
                           :test_ride_on) RETURNING lead_id"""),
                {**s.enquiry, "name": c["name"], "mobile": c["mobile"], "email": c["email"]}).scalar_one()
            quote = services.on_road_price(conn, s.variant_id, s.colour, on, discount=s.discount,
                                           amounts={code: amount for code, _, amount, _ in s.items})
            if (quote.ex_showroom, quote.subsidy) != (s.ex_showroom, s.subsidy):
                raise RuntimeError(f"sale {seq}: the price list gives {quote.ex_showroom}/{quote.subsidy}, "
                                   f"planned {s.ex_showroom}/{s.subsidy}")
            booking_id = services.create_booking(
                conn, branch_id=s.branch_id, customer_id=customer_id, salesperson_id=s.salesperson, quote=quote,
                booked_on=on, key=s.keys["booking"], expected_delivery=s.expected,
                finance_needed=s.finance is not None, lead_id=lead_id, delivery_state_code=s.delivery_state,
                delivery_address=s.delivery_address)
            ids[seq] = {"booking": booking_id, "customer": customer_id}
            if s.finance:
                conn.execute(sa.text(
                    """INSERT INTO sales.finance (booking_id, financier_id, loan_amount, down_payment, loan_account_no,
                                                  do_number, do_received_on)
                       VALUES (:b, :financier_id, :loan_amount, :down_payment, :loan_account_no, :do, :do_on)"""),
                    {"b": booking_id, **{k: s.finance[k] for k in ("financier_id", "loan_amount", "down_payment",
                                                                   "loan_account_no")},
                     "do": s.finance.get("do_number"), "do_on": s.finance.get("do_received_on")})
            mode, amount, reference = s.advance
            posting.post_receipt(conn, on=on, mode=mode, amount=amount, key=s.keys["advance"],
                                 received_from=c["name"], booking_id=booking_id, reference=reference)
        elif kind == "allot":
            services.allot(conn, ids[seq]["booking"], unit_ids[s.unit])
        elif kind == "invoice":
            booking_id = ids[seq]["booking"]
            ids[seq]["invoice"] = posting.post_vehicle_invoice(conn, booking_id, on=on, key=s.keys["invoice"])
            for mode, amount, reference, received_from, key in s.balance:
                posting.post_receipt(conn, on=on, mode=mode, amount=amount, key=key, received_from=received_from,
                                     booking_id=booking_id, reference=reference)
        elif kind == "deliver":
            booking_id = ids[seq]["booking"]
            conn.execute(sa.text("INSERT INTO sales.pdi_check (booking_id, pdi_item_id, is_ok) "
                                 "SELECT :b, unnest(CAST(:items AS integer[])), true"),
                         {"b": booking_id, "items": m.pdi_items})
            conn.execute(sa.text("INSERT INTO sales.registration (booking_id, form20_on, temp_reg_no) "
                                 "VALUES (:b, :on, :temp)"), {"b": booking_id, "on": s.invoiced_on, "temp": _temp_reg(s)})
            conn.execute(sa.text("UPDATE sales.subsidy_claim SET voucher_id = :v WHERE booking_id = :b "
                                 "AND voucher_id IS NULL"), {"b": booking_id, "v": _voucher(s)})
            if s.policy:
                conn.execute(sa.text(
                    f"""INSERT INTO insurance.policy (branch_id, booking_id, unit_id, customer_id,
                                                    {', '.join(POLICY_FIELDS)})
                        VALUES (:branch_id, :booking_id, :unit_id, :customer_id,
                                {', '.join(':' + f for f in POLICY_FIELDS)})"""),
                    {"branch_id": s.branch_id, "booking_id": booking_id, "unit_id": unit_ids[s.unit],
                     "customer_id": ids[seq]["customer"], **s.policy})
            services.deliver(conn, booking_id, on=on, received_by_name=s.customer["name"], key=s.keys["delivery"],
                             odometer_km=s.seq % 12 + 1)
        elif kind == "cancel":
            mode, amount, reference = s.refund
            posting.cancel_booking(conn, ids[seq]["booking"], on=on, reason=s.cancel_reason, key=s.keys["refund"],
                                   cancellation_charge=s.charge, refund_mode=mode, reference=reference)
    conn.execute(sa.text("SELECT set_config('erp.staff_id', '', true)"))
    _copy_enquiries(conn, plan.enquiries)
    return _sales_counts(conn)


def _check_sales(conn: Connection) -> None:
    """What the triggers would have refused, checked over the whole generated history."""
    checks = {
        "invoices whose lines do not add up to the header (or do not sell exactly their unit)": """
            SELECT count(*) FROM billing.invoice i
              LEFT JOIN (SELECT invoice_id, count(*) AS n, sum(taxable_value) AS t, sum(cgst) AS c, sum(sgst) AS s,
                                sum(igst) AS g, count(*) FILTER (WHERE unit_id IS NOT NULL) AS units,
                                max(unit_id) AS unit_id
                           FROM billing.invoice_line GROUP BY 1) l USING (invoice_id)
             WHERE l.n IS NULL OR (l.t, l.c, l.s, l.g) IS DISTINCT FROM (i.taxable_value, i.cgst, i.sgst, i.igst)
                OR i.grand_total <> i.taxable_value + i.cgst + i.sgst + i.igst + i.round_off
                OR i.kind = 'VEHICLE' AND (l.units <> 1 OR l.unit_id <> i.unit_id)""",
        "subsidy claims not listed by their booking (sales.subsidy_claim_listing)": """
            SELECT count(*) FROM sales.subsidy_claim sc
              JOIN sales.booking b USING (booking_id)
              LEFT JOIN billing.invoice i ON i.invoice_id = b.invoice_id
             WHERE (sc.branch_id, sc.booking_no, sc.booking_cancelled, sc.listed_on)
                   IS DISTINCT FROM (b.branch_id, b.booking_no, b.stage = 'CANCELLED', coalesce(i.invoice_date, b.booked_on))""",
        "bookings whose stage does not match their documents": """
            SELECT count(*) FROM sales.booking b
              LEFT JOIN sales.allotment a ON a.booking_id = b.booking_id AND a.released_at IS NULL
              LEFT JOIN inventory.vehicle_unit u ON u.unit_id = a.unit_id
              LEFT JOIN billing.invoice i ON i.invoice_id = b.invoice_id
              LEFT JOIN sales.delivery d ON d.booking_id = b.booking_id
             WHERE NOT coalesce(CASE b.stage
                 WHEN 'BOOKED' THEN a.unit_id IS NULL AND b.invoice_id IS NULL AND d.delivery_id IS NULL
                 WHEN 'CANCELLED' THEN a.unit_id IS NULL AND b.invoice_id IS NULL AND d.delivery_id IS NULL
                 WHEN 'ALLOTTED' THEN u.status = 'ALLOTTED' AND b.invoice_id IS NULL AND d.delivery_id IS NULL
                 WHEN 'INVOICED' THEN u.status = 'INVOICED' AND i.booking_id = b.booking_id AND i.unit_id = u.unit_id
                                      AND d.delivery_id IS NULL
                 WHEN 'DELIVERED' THEN u.status = 'DELIVERED' AND i.booking_id = b.booking_id
                                       AND i.unit_id = u.unit_id AND d.invoice_id = i.invoice_id
                                       AND d.unit_id = u.unit_id END, false)
                OR a.unit_id IS NOT NULL AND (u.variant_id, u.colour, u.branch_id)
                                             IS DISTINCT FROM (b.variant_id, b.colour, b.branch_id)""",
        "allotted or invoiced units without a booking holding them": """
            SELECT count(*) FROM inventory.vehicle_unit u
             WHERE u.status IN ('ALLOTTED', 'INVOICED')
               AND NOT EXISTS (SELECT 1 FROM sales.allotment a
                                WHERE a.unit_id = u.unit_id AND a.released_at IS NULL)""",
        "units invoiced twice": """
            SELECT count(*) FROM (SELECT unit_id FROM billing.invoice i
                                   WHERE kind = 'VEHICLE'
                                     AND NOT EXISTS (SELECT 1 FROM billing.credit_note n
                                                      WHERE n.invoice_id = i.invoice_id)
                                   GROUP BY unit_id HAVING count(*) > 1) twice""",
        "document series with a gap, a duplicate, a wrong number or a counter behind": """
            WITH docs AS (
                SELECT branch_id, 'BKG' AS series, booking_no AS no, booked_on AS on_date FROM sales.booking
                UNION ALL SELECT branch_id, billing.invoice_series(kind), invoice_no, invoice_date FROM billing.invoice
                UNION ALL SELECT branch_id, 'RCT', receipt_no, receipt_date FROM billing.receipt
                UNION ALL SELECT branch_id, 'RFD', refund_no, refund_date FROM billing.refund
                UNION ALL SELECT branch_id, 'CRN', credit_note_no, note_date FROM billing.credit_note
                UNION ALL SELECT b.branch_id, 'DLN', d.delivery_no, d.delivered_on
                            FROM sales.delivery d JOIN sales.booking b USING (booking_id)),
            numbered AS (
                SELECT d.branch_id, d.series, master.fy_start_year(d.on_date) AS fy,
                       split_part(d.no, '/', 3)::int AS n,
                       d.no = br.invoice_prefix || d.series || '/'
                              || lpad((master.fy_start_year(d.on_date) % 100)::text, 2, '0')
                              || '/' || split_part(d.no, '/', 3) AS well_formed
                  FROM docs d JOIN master.branch br USING (branch_id)),
            per AS (SELECT branch_id, series, fy, count(*) AS c, count(DISTINCT n) AS d, max(n) AS m,
                           bool_and(well_formed) AS ok FROM numbered GROUP BY 1, 2, 3)
            SELECT count(*) FROM per
              LEFT JOIN master.document_counter dc
                     ON dc.branch_id = per.branch_id AND dc.series = per.series AND dc.fy_start = per.fy
             WHERE per.c <> per.m OR per.d <> per.c OR NOT per.ok OR coalesce(dc.last_no, 0) <> per.m""",
        "invoices dated before an earlier-numbered invoice of their branch, series and year": """
            SELECT count(*) FROM (
                SELECT invoice_date, lag(invoice_date) OVER (
                           PARTITION BY branch_id, billing.invoice_series(kind), master.fy_start_year(invoice_date)
                           ORDER BY split_part(invoice_no, '/', 3)::int) AS before
                  FROM billing.invoice) i
             WHERE i.before > i.invoice_date""",
        "sales paid more than due, or delivered and cancelled sales not settled": """
            SELECT count(*) FROM billing.booking_balance
             WHERE received > due OR stage IN ('DELIVERED', 'CANCELLED') AND received <> due""",
    }
    wrong = {what: n for what, sql in checks.items() if (n := conn.execute(sa.text(sql)).scalar())}
    if wrong:
        raise RuntimeError("generated sales are inconsistent: " + "; ".join(f"{n} {w}" for w, n in wrong.items()))
