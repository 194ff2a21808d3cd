"""The benchmark data generator values stock exactly as the database's own trigger does."""
from datetime import date

import sqlalchemy as sa

from conftest import truncate_all
from webapp.datagen import Sizes, generate_history

SMALL = Sizes(units=60, parts=12, moves=3_000)
TODAY = date(2026, 11, 23)


def _ledger(engine):
    with engine.connect() as conn:
        moves = conn.execute(sa.text(
            "SELECT move_id, branch_id, part_id, kind, qty, unit_cost, value FROM inventory.stock_move ORDER BY 1")).all()
        balances = conn.execute(sa.text(
            "SELECT branch_id, part_id, qty, value FROM inventory.part_stock ORDER BY 1, 2")).all()
        units = conn.execute(sa.text(
            """SELECT u.vin, u.status, count(f.fitment_id) FROM inventory.vehicle_unit u
                 LEFT JOIN inventory.battery_fitment f USING (unit_id) GROUP BY 1, 2 ORDER BY 1""")).all()
    return moves, balances, units


def test_generated_stock_matches_what_the_stock_trigger_would_have_written(app, engine, make_branch, _truncatable):
    make_branch(), make_branch()
    with engine.begin() as conn:
        fast = generate_history(conn, SMALL, seed=7, today=TODAY)
    assert fast["through_triggers"] is False  # the test database's user is a superuser
    fast_ledger = _ledger(engine)

    truncate_all(engine, _truncatable)
    make_branch(), make_branch()
    with engine.begin() as conn:
        slow = generate_history(conn, SMALL, seed=7, today=TODAY, through_triggers=True)
    assert slow["through_triggers"] is True
    slow_ledger = _ledger(engine)

    moves, balances, units = fast_ledger
    assert len(moves) == SMALL.moves and len(units) == SMALL.units
    assert all(count == 1 for _, _, count in units)  # every unit has its battery pack fitted
    assert {m.kind for m in moves} >= {"RECEIPT", "ISSUE_JOB", "COUNTER_SALE"}
    # Same seed, same data: only the route into the tables differed.
    assert [m[1:] for m in moves] == [m[1:] for m in slow_ledger[0]]
    assert balances == slow_ledger[1]


def test_generating_into_a_database_that_has_stock_is_refused(app, engine, make_branch):
    make_branch()
    with engine.begin() as conn:
        generate_history(conn, Sizes(units=5, parts=3, moves=20), today=TODAY)
    with engine.begin() as conn:
        try:
            generate_history(conn, Sizes(units=5, parts=3, moves=20), today=TODAY)
        except RuntimeError as exc:
            assert "already has stock" in str(exc)
        else:
            raise AssertionError("a second generation into the same stock was not refused")
