"""Stock rules held by PostgreSQL (sql/0003_inventory.sql): every chassis accounted for with
only the allowed status changes, battery packs in one vehicle at a time, and the spare parts
ledger whose balance row (quantity and value at weighted average cost) only moves with it.
"""
from __future__ import annotations

import itertools
import threading
from decimal import Decimal

import builders as b
import pytest
import sqlalchemy as sa
from builders import refused, scalar
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

D = Decimal


@pytest.fixture
def scooter(conn):
    return b.vehicle_catalog(conn, colours=("Red", "Blue"))


@pytest.fixture
def branch(conn):
    return b.branch(conn)


# ----------------------------------------------------------------------------- vehicle units


@pytest.mark.parametrize("vin", [
    "MD2A1234567890I12",     # I looks like 1
    "MD2A1234567890O12",     # O looks like 0
    "MD2A1234567890Q12",
    "MD2A1234567890123",     # fine, the control
    "MD2A123456789012",      # 16 characters
    "MD2A12345678901234",    # 18 characters
    "md2a1234567890123",     # lower case
    "MD2A 234567890123",
])
def test_a_vin_must_be_17_characters_without_i_o_or_q(conn, scooter, branch, vin):
    if vin == "MD2A1234567890123":
        b.unit(conn, scooter.variant_id, "Red", branch, vin=vin)
        return
    with refused(conn, "vehicle_unit_vin_check"):
        b.unit(conn, scooter.variant_id, "Red", branch, vin=vin)


@pytest.mark.parametrize("field, constraint", [
    ("vin", "vehicle_unit_vin_key"),
    ("motor_no", "vehicle_unit_motor_no_key"),
    ("charger_serial", "vehicle_unit_charger_serial_key"),
])
def test_the_same_chassis_motor_or_charger_cannot_be_in_stock_twice(conn, scooter, branch, field, constraint):
    b.unit(conn, scooter.variant_id, "Red", branch, vin="MD2A1234567890123", motor_no="MTRX0001",
           charger_serial="CHG0001")
    again = {"vin": "MD2A1234567890123", "motor_no": "MTRX0001", "charger_serial": "CHG0001"}
    with refused(conn, constraint):
        b.unit(conn, scooter.variant_id, "Blue", branch, **{field: again[field]})


def test_the_same_battery_serial_cannot_be_registered_twice(conn):
    b.battery_pack(conn, "BATX0001")
    with refused(conn, "battery_pack_serial_key"):
        b.battery_pack(conn, "BATX0001")


def test_a_unit_in_a_colour_the_variant_does_not_come_in_is_refused(conn, scooter, branch):
    with refused(conn, "vehicle_unit_variant_id_colour_fkey"):
        b.unit(conn, scooter.variant_id, "Gold", branch)


def test_a_unit_in_stock_has_a_received_date(conn, scooter, branch):
    b.unit(conn, scooter.variant_id, "Red", branch, status="IN_TRANSIT")
    with refused(conn, "vehicle_unit_received"):
        b.unit(conn, scooter.variant_id, "Red", branch, received_on=None)


STATUSES = ["IN_TRANSIT", "IN_STOCK", "DEMO", "ALLOTTED", "INVOICED", "DELIVERED", "RETURNED"]


def test_every_status_change_outside_the_table_is_refused_and_every_one_inside_accepted(conn, scooter, branch):
    allowed = set(conn.execute(sa.text(
        "SELECT from_status, to_status FROM inventory.unit_status_transition")).all())
    assert set(scalar(conn, "SELECT array_agg(status) FROM inventory.unit_status")) == set(STATUSES)
    assert ("ALLOTTED", "INVOICED") in allowed and ("IN_STOCK", "DELIVERED") not in allowed
    seen_allowed = seen_refused = 0
    for old, new in itertools.permutations(STATUSES, 2):
        unit = b.unit(conn, scooter.variant_id, "Red", branch, status=old)
        change = "UPDATE inventory.vehicle_unit SET status = :s, received_on = coalesce(received_on, '2025-09-10') " \
                 "WHERE unit_id = :u"
        if (old, new) in allowed:
            conn.execute(sa.text(change), {"s": new, "u": unit})
            assert scalar(conn, "SELECT status FROM inventory.vehicle_unit WHERE unit_id = :u", u=unit) == new
            seen_allowed += 1
        else:
            with refused(conn, "vehicle_unit_status_transition"):
                conn.execute(sa.text(change), {"s": new, "u": unit})
            seen_refused += 1
    assert (seen_allowed, seen_refused) == (12, 30)


def test_a_status_change_stamps_the_time_of_change(conn, scooter, branch):
    unit = b.unit(conn, scooter.variant_id, "Red", branch)
    conn.execute(sa.text("UPDATE inventory.vehicle_unit SET status_changed_at = '2025-01-01' WHERE unit_id = :u"),
                 {"u": unit})
    conn.execute(sa.text("UPDATE inventory.vehicle_unit SET status = 'ALLOTTED' WHERE unit_id = :u"), {"u": unit})
    assert scalar(conn, "SELECT status_changed_at = now() FROM inventory.vehicle_unit WHERE unit_id = :u", u=unit)


def test_a_vin_never_changes(conn, scooter, branch):
    unit = b.unit(conn, scooter.variant_id, "Red", branch)
    with refused(conn, "vehicle_unit_vin_fixed"):
        conn.execute(sa.text("UPDATE inventory.vehicle_unit SET vin = 'MD2A9999999999999' WHERE unit_id = :u"),
                     {"u": unit})
    # Other details (a mistyped key number) may be corrected.
    conn.execute(sa.text("UPDATE inventory.vehicle_unit SET key_no = 'K-204' WHERE unit_id = :u"), {"u": unit})


def test_a_unit_is_never_deleted(conn, scooter, branch):
    unit = b.unit(conn, scooter.variant_id, "Red", branch)
    with refused(conn, sqlstate="23001"):
        conn.execute(sa.text("DELETE FROM inventory.vehicle_unit WHERE unit_id = :u"), {"u": unit})


# ----------------------------------------------------------------------------- battery packs


def test_a_battery_pack_cannot_sit_in_two_vehicles_at_once(conn, scooter, branch):
    first = b.unit(conn, scooter.variant_id, "Red", branch)
    second = b.unit(conn, scooter.variant_id, "Red", branch)
    pack = b.battery_pack(conn)
    b.fit_battery(conn, pack, first, "2025-09-01")
    with refused(conn, "battery_fitment_one_vehicle_at_a_time"):
        b.fit_battery(conn, pack, second, "2025-10-01")                  # still in the first
    with refused(conn, "battery_fitment_one_vehicle_at_a_time"):
        b.fit_battery(conn, pack, second, "2025-08-01", "2025-09-02")    # a day of overlap


def test_a_pack_swapped_out_and_into_another_vehicle_on_the_same_day_is_fine(conn, scooter, branch):
    first = b.unit(conn, scooter.variant_id, "Red", branch)
    second = b.unit(conn, scooter.variant_id, "Red", branch)
    pack = b.battery_pack(conn)
    b.fit_battery(conn, pack, first, "2025-09-01", "2026-01-15")
    b.fit_battery(conn, pack, second, "2026-01-15", reason="warranty swap, job card 41")
    b.fit_battery(conn, pack, first, "2025-06-01", "2025-09-01", reason="before it came back")
    assert scalar(conn, "SELECT count(*) FROM inventory.battery_fitment WHERE pack_id = :p", p=pack) == 3


def test_a_pack_cannot_be_removed_before_it_was_fitted(conn, scooter, branch):
    unit = b.unit(conn, scooter.variant_id, "Red", branch)
    with refused(conn, "battery_fitment_check"):
        b.fit_battery(conn, b.battery_pack(conn), unit, "2025-09-01", "2025-08-31")


# ----------------------------------------------------------------------------- parts ledger rules


@pytest.fixture
def brake_shoe(conn):
    return b.part(conn, unit="NOS")


@pytest.fixture
def coolant(conn):
    return b.part(conn, unit="LTR")


def test_a_part_counted_in_pieces_cannot_move_half_a_piece(conn, branch, brake_shoe, coolant):
    with refused(conn, "stock_move_whole_units"):
        b.receive(conn, branch, brake_shoe, "1.5", "100")
    b.receive(conn, branch, coolant, "1.5", "300")     # litres may be fractional
    b.receive(conn, branch, brake_shoe, "2", "100")
    with refused(conn, "stock_move_whole_units"):
        b.issue(conn, branch, brake_shoe, "0.5")


def test_stock_cannot_go_below_zero(conn, branch, brake_shoe):
    b.receive(conn, branch, brake_shoe, 2, "100")
    with refused(conn, "part_stock_not_negative"):
        b.issue(conn, branch, brake_shoe, 3)
    with refused(conn, "part_stock_not_negative"):
        b.stock_move(conn, branch, brake_shoe, "ADJUSTMENT", -3, reason="count found one less")
    with refused(conn, "part_stock_not_negative"):
        b.issue(conn, b.branch(conn), brake_shoe, 1)      # another branch has none
    assert b.balance(conn, branch, brake_shoe) == {"qty": D("2.000"), "value": D("200.00")}


@pytest.mark.parametrize("kind, qty, ok", [
    ("OPENING", 1, True), ("OPENING", -1, False),
    ("RECEIPT", 1, True), ("RECEIPT", -1, False),
    ("TRANSFER_IN", 1, True), ("TRANSFER_IN", -1, False),
    ("ISSUE_JOB", -1, True), ("ISSUE_JOB", 1, False),
    ("COUNTER_SALE", -1, True), ("COUNTER_SALE", 1, False),
    ("TRANSFER_OUT", -1, True), ("TRANSFER_OUT", 1, False),
    ("RETURN_TO_OEM", -1, True), ("RETURN_TO_OEM", 1, False),
    ("ADJUSTMENT", 1, True), ("ADJUSTMENT", -1, True),
])
def test_moves_into_stock_are_positive_and_moves_out_negative(conn, branch, brake_shoe, kind, qty, ok):
    b.receive(conn, branch, brake_shoe, 5, "100")
    if ok:
        b.stock_move(conn, branch, brake_shoe, kind, qty, "100", reason="count sheet CNT/26/1")
    else:
        with refused(conn, "stock_move_direction"):
            b.stock_move(conn, branch, brake_shoe, kind, qty, "100", reason="count sheet CNT/26/1")


def test_a_move_of_nothing_is_refused(conn, branch, brake_shoe):
    with refused(conn, "stock_move_qty_check"):
        b.stock_move(conn, branch, brake_shoe, "ADJUSTMENT", 0, reason="nothing")


@pytest.mark.parametrize("reason", [None, "", "  ", "ok"])
def test_an_adjustment_needs_a_reason(conn, branch, brake_shoe, reason):
    with refused(conn, "stock_move_adjustment_reason"):
        b.stock_move(conn, branch, brake_shoe, "ADJUSTMENT", 1, "100", reason=reason)
    b.stock_move(conn, branch, brake_shoe, "ADJUSTMENT", 1, "100", reason="found behind the rack")


def test_a_posted_move_is_never_edited_or_deleted(conn, branch, brake_shoe):
    move = b.receive(conn, branch, brake_shoe, 5, "100")
    with refused(conn, sqlstate="23001"):
        conn.execute(sa.text("UPDATE inventory.stock_move SET qty = 50 WHERE move_id = :m"), {"m": move["move_id"]})
    with refused(conn, sqlstate="23001"):
        conn.execute(sa.text("DELETE FROM inventory.stock_move WHERE move_id = :m"), {"m": move["move_id"]})


def test_the_stock_balance_changes_only_through_moves(conn, branch, brake_shoe):
    b.receive(conn, branch, brake_shoe, 5, "100")
    where = {"b": branch, "p": brake_shoe}
    with refused(conn, "part_stock_through_moves"):
        conn.execute(sa.text("UPDATE inventory.part_stock SET qty = 50 WHERE branch_id = :b AND part_id = :p"), where)
    with refused(conn, "part_stock_through_moves"):
        conn.execute(sa.text("UPDATE inventory.part_stock SET value = 1 WHERE branch_id = :b AND part_id = :p"), where)
    with refused(conn, "part_stock_through_moves"):
        conn.execute(sa.text("DELETE FROM inventory.part_stock WHERE branch_id = :b AND part_id = :p"), where)
    other = b.part(conn)
    with refused(conn, "part_stock_through_moves"):
        conn.execute(sa.text("INSERT INTO inventory.part_stock (branch_id, part_id, qty, value) VALUES (:b, :p, 3, 300)"),
                     {"b": branch, "p": other})
    # The bin is not a quantity: the storekeeper may move it.
    conn.execute(sa.text("UPDATE inventory.part_stock SET bin_location = 'R2-S3' WHERE branch_id = :b AND part_id = :p"),
                 where)
    assert b.balance(conn, branch, brake_shoe) == {"qty": D("5.000"), "value": D("500.00")}


# ----------------------------------------------------------------------------- weighted average cost


def test_weighted_average_cost_worked_by_hand(conn, branch, brake_shoe):
    """The storekeeper's worked example: outgoing parts leave at the average, the last at what is left."""
    steps = [
        # (move, qty, cost)                     -> move's unit_cost, move's value, balance qty, balance value
        (b.receive, 10, "100.00", D("100.0000"), D("1000.00"), 10, D("1000.00")),
        (b.receive, 10, "130.00", D("130.0000"), D("1300.00"), 20, D("2300.00")),     # average 115
        (b.issue, 5, None, D("115.0000"), D("-575.00"), 15, D("1725.00")),
        (b.receive, 5, "101.37", D("101.3700"), D("506.85"), 20, D("2231.85")),       # average 111.5925
        (b.issue, 7, None, D("111.5925"), D("-781.15"), 13, D("1450.70")),             # 781.1475
        (b.issue, 12, None, D("111.5923"), D("-1339.11"), 1, D("111.59")),             # 1450.70 / 13; 1339.1076
        (b.issue, 1, None, D("111.5900"), D("-111.59"), 0, D("0.00")),                 # the last takes the rest
    ]
    for move, qty, cost, unit_cost, value, bal_qty, bal_value in steps:
        got = move(conn, branch, brake_shoe, qty, cost) if cost else move(conn, branch, brake_shoe, qty)
        assert (got["unit_cost"], got["value"]) == (unit_cost, value), (move.__name__, qty, cost)
        assert b.balance(conn, branch, brake_shoe) == {"qty": D(bal_qty), "value": bal_value}


def test_the_cost_an_issue_carries_is_the_average_not_what_the_caller_says(conn, branch, brake_shoe):
    b.receive(conn, branch, brake_shoe, 4, "250.00")
    got = b.stock_move(conn, branch, brake_shoe, "COUNTER_SALE", -1, unit_cost="1.00")
    assert (got["unit_cost"], got["value"]) == (D("250.0000"), D("-250.00"))


def test_the_last_units_take_the_remaining_value_so_no_paisa_is_left_over(conn, branch, brake_shoe):
    b.receive(conn, branch, brake_shoe, 3, "10.00")
    b.receive(conn, branch, brake_shoe, 1, "0.01")        # 30.01 for 4: average 7.5025
    first = b.issue(conn, branch, brake_shoe, 3)
    assert first["value"] == D("-22.51")                   # 22.5075
    last = b.issue(conn, branch, brake_shoe, 1)
    assert last["value"] == D("-7.50")
    assert b.balance(conn, branch, brake_shoe) == {"qty": D("0.000"), "value": D("0.00")}


def test_free_parts_mixed_with_a_few_paise_never_leave_a_negative_value(conn, branch, brake_shoe):
    # 1,000 free-of-charge pieces and one at 6 paise: the average rounds up to 0.0001 a piece,
    # so 1,000 pieces at that average would take 10 paise out of a balance holding 6.
    b.receive(conn, branch, brake_shoe, 1000, "0.00")
    b.receive(conn, branch, brake_shoe, 1, "0.06")
    b.issue(conn, branch, brake_shoe, 1000)
    left = b.balance(conn, branch, brake_shoe)
    assert left["qty"] == 1 and D("0") <= left["value"] <= D("0.06")


# ----------------------------------------------------------------------------- property: ledger = balance

operation = st.one_of(
    st.tuples(st.just("RECEIPT"), st.integers(1, 1200),
              st.decimals(min_value=0, max_value=900, places=2, allow_nan=False, allow_infinity=False)),
    st.tuples(st.just("ISSUE_JOB"), st.integers(1, 1200), st.just(D(0))),
    st.tuples(st.just("ADJUSTMENT"), st.integers(-1200, 1200).filter(bool),
              st.decimals(min_value=0, max_value=900, places=2, allow_nan=False, allow_infinity=False)),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(operation, min_size=1, max_size=25), scale=st.sampled_from([D(1), D("0.25")]))
def test_any_run_of_receipts_issues_and_adjustments_keeps_the_ledger_and_balance_equal(owner_engine, ops, scale):
    """scale 1: pieces (NOS); scale 0.25: litres, so quantities come in quarters."""
    with b.rolled_back(owner_engine) as conn:
        branch = b.branch(conn)
        part = b.part(conn, unit="NOS" if scale == 1 else "LTR")
        expected_qty = D(0)
        for kind, n, cost in ops:
            qty = n * scale if kind != "ISSUE_JOB" else -n * scale
            savepoint = conn.begin_nested()
            try:
                b.stock_move(conn, branch, part, kind, qty, cost, reason="count sheet")
            except sa.exc.DBAPIError as exc:
                savepoint.rollback()
                # The only refusal: more going out than there is.
                assert b.constraint_of(exc) == "part_stock_not_negative", exc
                assert expected_qty + qty < 0
                continue
            savepoint.commit()
            expected_qty += qty
            ledger = b.row(conn, """SELECT coalesce(sum(qty), 0) AS qty, coalesce(sum(value), 0) AS value
                                      FROM inventory.stock_move WHERE branch_id = :b AND part_id = :p""",
                           b=branch, p=part)
            bal = b.balance(conn, branch, part)
            assert bal["qty"] == ledger["qty"] == expected_qty
            assert bal["value"] == ledger["value"]
            assert bal["qty"] >= 0 and bal["value"] >= 0
            assert bal["qty"] > 0 or bal["value"] == 0


# ----------------------------------------------------------------------------- transfers and stock counts


def transfer(conn, from_branch, to_branch, **fields):
    data = {"transfer_no": f"TRF-{b.new_vin()[-6:]}", "branch_id": from_branch, "to_branch_id": to_branch, **fields}
    cols = ", ".join(data)
    return scalar(conn, f"INSERT INTO inventory.stock_transfer ({cols}) VALUES ({', '.join(':' + c for c in data)}) "
                        "RETURNING transfer_id", **data)


def test_a_transfer_goes_to_another_branch_and_is_received_with_a_time(conn, branch):
    mysuru = b.branch(conn)
    with refused(conn, "stock_transfer_check"):
        transfer(conn, branch, branch)
    with refused(conn, "stock_transfer_check1"):
        transfer(conn, branch, mysuru, status="RECEIVED")
    trf = transfer(conn, branch, mysuru)
    conn.execute(sa.text("UPDATE inventory.stock_transfer SET status = 'RECEIVED', received_at = now() "
                         "WHERE transfer_id = :t"), {"t": trf})


def test_a_transfer_line_is_a_quantity_of_a_part_or_one_vehicle(conn, scooter, branch, brake_shoe):
    trf = transfer(conn, branch, b.branch(conn))
    unit = b.unit(conn, scooter.variant_id, "Red", branch)
    add = """INSERT INTO inventory.stock_transfer_line (transfer_id, line_no, part_id, qty, unit_id)
             VALUES (:t, :n, :p, :q, :u)"""
    conn.execute(sa.text(add), {"t": trf, "n": 1, "p": brake_shoe, "q": 2, "u": None})
    conn.execute(sa.text(add), {"t": trf, "n": 2, "p": None, "q": None, "u": unit})
    with refused(conn, "stock_transfer_line_check"):
        conn.execute(sa.text(add), {"t": trf, "n": 3, "p": brake_shoe, "q": 2, "u": unit})
    with refused(conn, "stock_transfer_line_check"):
        conn.execute(sa.text(add), {"t": trf, "n": 3, "p": brake_shoe, "q": None, "u": None})


def test_one_open_stock_count_per_branch_and_approval_names_the_approver(conn, branch):
    manager = b.staff(conn, branch, "MANAGER")
    add = "INSERT INTO inventory.stock_count (count_no, branch_id) VALUES (:n, :b) RETURNING count_id"
    first = scalar(conn, add, n="CNT-1", b=branch)
    with refused(conn, "stock_count_one_open_idx"):
        scalar(conn, add, n="CNT-2", b=branch)
    scalar(conn, add, n="CNT-3", b=b.branch(conn))                       # another branch counts at the same time
    with refused(conn, "stock_count_check"):
        conn.execute(sa.text("UPDATE inventory.stock_count SET status = 'APPROVED' WHERE count_id = :c"), {"c": first})
    conn.execute(sa.text("""UPDATE inventory.stock_count SET status = 'APPROVED', approved_at = now(), approved_by = :m
                             WHERE count_id = :c"""), {"c": first, "m": manager})
    scalar(conn, add, n="CNT-4", b=branch)                                 # the next count may start


# ----------------------------------------------------------------------------- two people, the last part


def test_two_people_issuing_the_last_part_at_once_only_one_gets_it(committed):
    with committed.begin() as conn:
        branch = b.branch(conn)
        part = b.part(conn)
        b.receive(conn, branch, part, 1, "480.00")
    start = threading.Barrier(2)
    outcomes = {name: b.Outcome() for name in ("bay-1", "bay-2")}

    def take_last(name: str):
        out = outcomes[name]
        try:
            with committed.connect() as conn:
                b.tag(conn, f"last-part-{name}")
                start.wait(timeout=10)
                b.issue(conn, branch, part, 1)
                out.ok = True
                first_in.set()
                release.wait(timeout=10)       # hold the part until the other one is queued behind us
                conn.commit()
        except sa.exc.DBAPIError as exc:
            out.error = exc

    first_in, release = threading.Event(), threading.Event()
    threads = [threading.Thread(target=take_last, args=(name,)) for name in outcomes]
    for t in threads:
        t.start()
    # Whoever got there first holds the balance row; the other must be waiting on it.
    assert first_in.wait(10)
    winner = next(name for name, out in outcomes.items() if out.ok)
    loser = next(name for name in outcomes if name != winner)
    b.wait_until_blocked(committed, f"last-part-{loser}")
    release.set()
    for t in threads:
        t.join(10)

    assert outcomes[winner].ok and outcomes[winner].error is None
    assert not outcomes[loser].ok
    assert b.constraint_of(outcomes[loser].error) == "part_stock_not_negative"
    with committed.connect() as conn:
        assert b.balance(conn, branch, part) == {"qty": D("0.000"), "value": D("0.00")}
        assert scalar(conn, "SELECT count(*) FROM inventory.stock_move WHERE part_id = :p", p=part) == 1 + 1
