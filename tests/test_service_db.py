"""The service workshop's rules held by PostgreSQL (sql/0023, sql/functions/91_service.sql):
vehicles sold here and elsewhere, their packs, job card numbers, one open card per vehicle, the
odometer floor and its manager override, the allowed moves and their history, the work lines."""
from __future__ import annotations

import builders as bld
import pytest
import service_builders as sb
import sqlalchemy as sa
from builders import refused, row, scalar


def test_a_vehicle_sold_here_takes_its_facts_from_the_unit_and_the_sale(conn):
    v = sb.sold_here_vehicle(conn, reg_no="KA01AB1234", odometer_km=7)
    got = row(conn, "SELECT * FROM service.vehicle WHERE vehicle_id = :v", v=v.vehicle_id)
    unit = row(conn, "SELECT * FROM inventory.vehicle_unit WHERE unit_id = :u", u=v.sale.unit_id)
    assert (got["vin"], got["motor_no"], got["variant_id"], got["colour"]) == (
        unit["vin"], unit["motor_no"], unit["variant_id"], unit["colour"])
    assert got["customer_id"] == v.sale.customer_id
    assert str(got["sale_date"]) == "2026-06-02"
    assert got["registration_no"] == "KA01AB1234"
    assert (got["last_odometer_km"], str(got["last_odometer_on"])) == (7, "2026-06-02")


def test_a_sold_here_vehicle_must_match_its_unit_and_be_delivered(conn):
    s = bld.sale_setup(conn)
    with refused(conn, "vehicle_unit_delivered"):
        scalar(conn, "INSERT INTO service.vehicle (unit_id, branch_id) VALUES (:u, :b) RETURNING vehicle_id",
               u=s.unit_id, b=s.branch_id)
    s2, _ = sb.delivered_unit(conn)
    with refused(conn, "vehicle_matches_unit"):
        scalar(conn, "INSERT INTO service.vehicle (unit_id, branch_id, vin) VALUES (:u, :b, :vin) RETURNING vehicle_id",
               u=s2.unit_id, b=s2.branch_id, vin=bld.new_vin())


def test_a_vehicle_sold_elsewhere_is_not_one_of_our_units_and_touches_no_stock(conn):
    branch = bld.branch(conn)
    cat = bld.vehicle_catalog(conn)
    ours = bld.unit(conn, cat.variant_id, "Red", branch)
    vin = scalar(conn, "SELECT vin FROM inventory.vehicle_unit WHERE unit_id = :u", u=ours)
    with refused(conn, "vehicle_sold_here"):
        sb.outside_vehicle(conn, branch, variant_id=cat.variant_id, vin=vin)
    units = scalar(conn, "SELECT count(*) FROM inventory.vehicle_unit")
    moves = scalar(conn, "SELECT count(*) FROM inventory.stock_move")
    v = sb.outside_vehicle(conn, branch, variant_id=cat.variant_id, reg_no="KA05MN4321")
    assert scalar(conn, "SELECT unit_id FROM service.vehicle WHERE vehicle_id = :v", v=v) is None
    assert scalar(conn, "SELECT count(*) FROM inventory.vehicle_unit") == units
    assert scalar(conn, "SELECT count(*) FROM inventory.stock_move") == moves


def test_a_registration_number_is_stored_without_spaces_and_once(conn):
    branch = bld.branch(conn)
    with refused(conn, "vehicle_registration_no_check"):
        sb.outside_vehicle(conn, branch, reg_no="KA 01 AB 1234")
    sb.outside_vehicle(conn, branch, reg_no="KA01AB1234")
    with refused(conn, "vehicle_registration_no_key"):
        sb.outside_vehicle(conn, branch, reg_no="KA01AB1234")


def test_a_sale_date_is_not_in_the_future(conn):
    branch = bld.branch(conn)
    with refused(conn, "vehicle_sale_date_not_future"):
        sb.outside_vehicle(conn, branch, sale_date="2999-01-01")


def test_a_pack_is_in_one_vehicle_at_a_time_across_both_histories(conn):
    branch = bld.branch(conn)
    v = sb.outside_vehicle(conn, branch, pack_serial="PACKOUT0001", sale_date="2025-01-15")
    pack = scalar(conn, "SELECT pack_id FROM inventory.battery_pack WHERE serial = 'PACKOUT0001'")
    cat = bld.vehicle_catalog(conn)
    ours = bld.unit(conn, cat.variant_id, "Red", branch)
    with refused(conn, "battery_fitment_one_vehicle_at_a_time"):
        bld.fit_battery(conn, pack, ours, "2025-06-01")
    other = sb.outside_vehicle(conn, branch)
    with refused(conn, "pack_fitment_one_vehicle_at_a_time"):
        conn.execute(sa.text("INSERT INTO service.pack_fitment (pack_id, vehicle_id, fitted_on, reason) "
                             "VALUES (:p, :v, '2025-03-01', 'swapped')"), {"p": pack, "v": other})
    # Removed from the first, the pack may go into the second from that day.
    conn.execute(sa.text("UPDATE service.pack_fitment SET removed_on = '2025-03-01' WHERE pack_id = :p"), {"p": pack})
    conn.execute(sa.text("INSERT INTO service.pack_fitment (pack_id, vehicle_id, fitted_on, reason) "
                         "VALUES (:p, :v, '2025-03-01', 'swapped')"), {"p": pack, "v": other})
    packs = conn.execute(sa.text("SELECT vehicle_id, serial, removed_on FROM service.vehicle_pack WHERE pack_id = :p "
                                 "ORDER BY fitted_on"), {"p": pack}).all()
    assert [(r.vehicle_id, r.serial, str(r.removed_on)) for r in packs] == [
        (v, "PACKOUT0001", "2025-03-01"), (other, "PACKOUT0001", "None")]


def test_a_sold_here_vehicle_keeps_its_packs_in_the_unit_history(conn):
    v = sb.sold_here_vehicle(conn)
    pack = bld.battery_pack(conn, "PACKUNIT001")
    bld.fit_battery(conn, pack, v.sale.unit_id, "2025-08-01")
    assert scalar(conn, "SELECT serial FROM service.vehicle_pack WHERE vehicle_id = :v", v=v.vehicle_id) == "PACKUNIT001"
    with refused(conn, "pack_fitment_outside_vehicle"):
        conn.execute(sa.text("INSERT INTO service.pack_fitment (pack_id, vehicle_id, fitted_on, reason) "
                             "VALUES (:p, :v, '2026-07-01', 'swap')"), {"p": bld.battery_pack(conn), "v": v.vehicle_id})


def test_job_cards_are_numbered_per_branch_and_one_is_open_per_vehicle(conn):
    branch = bld.branch(conn, prefix="BLR")
    first = sb.job_card(conn, branch, sb.outside_vehicle(conn, branch), opened_at="2026-06-10 10:00+05:30")
    v = sb.outside_vehicle(conn, branch)
    second = sb.job_card(conn, branch, v, opened_at="2026-06-10 11:00+05:30")
    numbers = conn.execute(sa.text("SELECT job_card_no FROM service.job_card WHERE job_card_id IN (:a, :b) "
                                   "ORDER BY job_card_id"), {"a": first, "b": second}).scalars().all()
    assert numbers == ["BLRJC/26/1", "BLRJC/26/2"]
    with refused(conn, "job_card_one_open_idx"):
        sb.job_card(conn, branch, v, opened_at="2026-06-10 12:00+05:30")
    # A second branch cannot open one either while the first is open.
    other = bld.branch(conn)
    with refused(conn, "job_card_one_open_idx"):
        sb.job_card(conn, other, v, opened_at="2026-06-10 12:00+05:30")
    # The refused cards used no number.
    conn.execute(sa.text("UPDATE service.job_card SET state = 'CANCELLED', cancel_reason = 'customer left'"
                         " WHERE job_card_id = :j"), {"j": second})
    third = sb.job_card(conn, branch, v, opened_at="2026-06-11 09:00+05:30")
    assert scalar(conn, "SELECT job_card_no FROM service.job_card WHERE job_card_id = :j", j=third) == "BLRJC/26/3"


def test_the_odometer_never_goes_below_the_last_reading_unless_a_manager_overrides(conn):
    branch = bld.branch(conn)
    advisor = bld.staff(conn, branch, "SERVICE_ADVISOR")
    manager = bld.staff(conn, branch, "MANAGER")
    v = sb.outside_vehicle(conn, branch)
    first = sb.job_card(conn, branch, v, odometer_km=4000, opened_at="2026-05-01 10:00+05:30")
    sb.move(conn, first, "APPROVED", "IN_PROGRESS", "QC", "READY", "DELIVERED")
    assert scalar(conn, "SELECT last_odometer_km FROM service.vehicle WHERE vehicle_id = :v", v=v) == 4000
    with refused(conn, "job_card_odometer_not_below_last"):
        sb.job_card(conn, branch, v, odometer_km=3999)
    bld.act_as(conn, advisor)
    with refused(conn, "job_card_override_by_manager"):
        sb.job_card(conn, branch, v, odometer_km=120, odometer_override_by=advisor,
                    odometer_override_reason="Odometer cluster replaced")
    with refused(conn, "job_card_override_by_manager"):   # a manager's name, typed by someone else
        sb.job_card(conn, branch, v, odometer_km=120, odometer_override_by=manager,
                    odometer_override_reason="Odometer cluster replaced")
    bld.act_as(conn, manager)
    jc = sb.job_card(conn, branch, v, odometer_km=120, odometer_override_by=manager,
                     odometer_override_reason="Odometer cluster replaced")
    assert row(conn, "SELECT previous_odometer_km, odometer_km FROM service.job_card WHERE job_card_id = :j",
               j=jc) == {"previous_odometer_km": 4000, "odometer_km": 120}
    assert scalar(conn, "SELECT last_odometer_km FROM service.vehicle WHERE vehicle_id = :v", v=v) == 120
    assert scalar(conn, "SELECT count(*) FROM audit.log WHERE event = 'odometer_override' AND row_key = :k",
                  k=str(jc)) == 1
    # The advisor and the technicians then work on the overridden card as on any other: the override
    # is checked when it is written, not on every later change of the card.
    bld.act_as(conn, advisor)
    sb.move(conn, jc, "APPROVED", "IN_PROGRESS")
    assert scalar(conn, "SELECT state FROM service.job_card WHERE job_card_id = :j", j=jc) == "IN_PROGRESS"
    assert scalar(conn, "SELECT count(*) FROM audit.log WHERE event = 'odometer_override' AND row_key = :k",
                  k=str(jc)) == 1


def test_a_card_moves_only_along_the_transitions_and_keeps_its_history(conn):
    branch = bld.branch(conn)
    jc = sb.job_card(conn, branch, sb.outside_vehicle(conn, branch))
    with refused(conn, "job_card_state_transition"):
        sb.move(conn, jc, "READY")
    sb.move(conn, jc, "ESTIMATE_SENT", "APPROVED", "IN_PROGRESS", "WAITING_PARTS", "IN_PROGRESS", "QC")
    history = conn.execute(sa.text("SELECT from_state, to_state FROM service.job_state_change WHERE job_card_id = :j "
                                   "ORDER BY change_id"), {"j": jc}).all()
    assert [tuple(h) for h in history] == [
        (None, "OPEN"), ("OPEN", "ESTIMATE_SENT"), ("ESTIMATE_SENT", "APPROVED"), ("APPROVED", "IN_PROGRESS"),
        ("IN_PROGRESS", "WAITING_PARTS"), ("WAITING_PARTS", "IN_PROGRESS"), ("IN_PROGRESS", "QC")]
    with refused(conn, "job_card_state_transition"):   # work done is billed, not cancelled
        conn.execute(sa.text("UPDATE service.job_card SET state = 'CANCELLED', cancel_reason = 'customer left' "
                             "WHERE job_card_id = :j"), {"j": jc})
    with refused(conn, sqlstate="23001"):
        conn.execute(sa.text("UPDATE service.job_state_change SET to_state = 'READY' WHERE job_card_id = :j"), {"j": jc})


def test_a_closed_card_changes_no_more_and_its_work_is_fixed(conn):
    branch = bld.branch(conn)
    jc = sb.job_card(conn, branch, sb.outside_vehicle(conn, branch))
    op = scalar(conn, "INSERT INTO master.labour_operation (operation_code, name, standard_hours, rate) "
                      "VALUES ('GEN-SVC', 'General service', 1.5, 450) RETURNING operation_code")
    line = scalar(conn, "INSERT INTO service.job_line (job_card_id, operation_code, qty, unit_price, price_includes_gst)"
                        " VALUES (:j, :op, 1, 450, false) RETURNING job_line_id", j=jc, op=op)
    with refused(conn, "job_line_approved"):
        conn.execute(sa.text("UPDATE service.job_line SET status = 'APPROVED' WHERE job_line_id = :l"), {"l": line})
    approval = scalar(conn, "INSERT INTO service.job_approval (job_card_id, approved_by_name, mode, amount, idempotency_key)"
                            " VALUES (:j, 'Asha Rao', 'PHONE', 531, gen_random_uuid()) RETURNING approval_id", j=jc)
    conn.execute(sa.text("UPDATE service.job_line SET status = 'APPROVED', approval_id = :a WHERE job_line_id = :l"),
                 {"a": approval, "l": line})
    with refused(conn, "job_line_approved_fixed"):
        conn.execute(sa.text("UPDATE service.job_line SET unit_price = 900 WHERE job_line_id = :l"), {"l": line})
    with refused(conn, "job_card_cancel_reason"):
        conn.execute(sa.text("UPDATE service.job_card SET state = 'CANCELLED' WHERE job_card_id = :j"), {"j": jc})
    conn.execute(sa.text("UPDATE service.job_card SET state = 'CANCELLED', cancel_reason = 'customer left'"
                         " WHERE job_card_id = :j"), {"j": jc})
    with refused(conn, "job_card_closed_is_final"):
        conn.execute(sa.text("UPDATE service.job_card SET complaints = 'other' WHERE job_card_id = :j"), {"j": jc})
    with refused(conn, "job_line_card_open"):
        conn.execute(sa.text("INSERT INTO service.job_line (job_card_id, operation_code, qty, unit_price, "
                             "price_includes_gst) VALUES (:j, :op, 1, 450, false)"), {"j": jc, "op": op})


@pytest.mark.parametrize("column", ["vehicle_id", "branch_id"])
def test_a_card_keeps_its_vehicle_and_branch(conn, column):
    branch = bld.branch(conn)
    jc = sb.job_card(conn, branch, sb.outside_vehicle(conn, branch))
    other = sb.outside_vehicle(conn, branch) if column == "vehicle_id" else bld.branch(conn)
    with refused(conn, "job_card_fixed"):
        conn.execute(sa.text(f"UPDATE service.job_card SET {column} = :o WHERE job_card_id = :j"), {"o": other, "j": jc})


# ----------------------------------------------------------------------------- readings, checklist, photos


def _reading(conn, job_card_id: int, pack_id: int, **values):
    data = {"soh_pct": 92, "soc_pct": 60, "cell_v_max": "3.410", "cell_v_min": "3.400", **values}
    cols = ", ".join(data)
    return row(conn, f"""INSERT INTO service.battery_reading (job_card_id, pack_id, {cols})
                         VALUES (:j, :p, {', '.join(':' + c for c in data)}) RETURNING *""",
               j=job_card_id, p=pack_id, **data)


def _card_with_pack(conn, **vehicle):
    branch = bld.branch(conn)
    v = sb.outside_vehicle(conn, branch, **vehicle)
    pack = scalar(conn, "SELECT pack_id FROM service.vehicle_pack WHERE vehicle_id = :v", v=v)
    return branch, v, sb.job_card(conn, branch, v), pack


@pytest.mark.parametrize("column, value, constraint", [
    ("soh_pct", 140, "battery_reading_soh_pct_check"),
    ("soc_pct", -1, "battery_reading_soc_pct_check"),
    ("cell_v_min", "3.500", "battery_reading_cells"),
    ("pack_temp_max_c", 150, "battery_reading_pack_temp_max_c_check"),
    ("fault_codes", ["p0a1f"], "battery_reading_fault_codes"),
])
def test_a_reading_out_of_physical_range_is_refused(conn, column, value, constraint):
    _, _, card, pack = _card_with_pack(conn)
    with refused(conn, constraint):
        _reading(conn, card, pack, **{column: value})


def test_a_reading_is_flagged_by_the_limits_of_its_day_and_the_variants_soh_floor(conn):
    _, v, card, pack = _card_with_pack(conn)
    ok = _reading(conn, card, pack, cell_v_max="3.500", cell_v_min="3.400", pack_temp_max_c=55, insulation_mohm="0.5")
    assert (ok["cell_delta_mv"], ok["flags"]) == (100, [])          # at the limits: not beyond them
    conn.execute(sa.text("DELETE FROM service.battery_reading WHERE reading_id = :r"), {"r": ok["reading_id"]})
    bad = _reading(conn, card, pack, cell_v_max="3.501", cell_v_min="3.400", pack_temp_max_c="55.1",
                   insulation_mohm="0.499", soh_pct="69.99", fault_codes=["P0A1F", "U0111"], charger_ok=False)
    assert bad["flags"] == ["CELL_DELTA", "TEMPERATURE", "INSULATION", "SOH", "BMS_FAULT", "CHARGER"]
    # The variant's own warranty floor replaces the general one.
    conn.execute(sa.text("UPDATE oem.variant SET battery_min_soh_pct = 80 WHERE variant_id = "
                         "(SELECT variant_id FROM service.vehicle WHERE vehicle_id = :v)"), {"v": v})
    conn.execute(sa.text("UPDATE service.battery_reading SET soh_pct = 79.5 WHERE reading_id = :r"),
                 {"r": bad["reading_id"]})
    assert "SOH" in scalar(conn, "SELECT flags FROM service.battery_reading WHERE reading_id = :r", r=bad["reading_id"])
    # A limit that starts later does not judge a reading of today.
    conn.execute(sa.text("UPDATE service.reading_limit SET effective_to = '2099-12-31' WHERE check_code = 'CELL_DELTA_MV_MAX'"))
    conn.execute(sa.text("INSERT INTO service.reading_limit (check_code, limit_value, effective_from) "
                         "VALUES ('CELL_DELTA_MV_MAX', 20, '2100-01-01')"))
    conn.execute(sa.text("UPDATE service.battery_reading SET cell_v_max = 3.460, cell_v_min = 3.400, fault_codes = '{}', "
                         "charger_ok = NULL, pack_temp_max_c = NULL, insulation_mohm = NULL, soh_pct = 95 "
                         "WHERE reading_id = :r"), {"r": bad["reading_id"]})
    assert scalar(conn, "SELECT flags FROM service.battery_reading WHERE reading_id = :r", r=bad["reading_id"]) == []


def test_a_reading_is_of_a_pack_in_the_cards_vehicle_and_a_closed_card_takes_no_more(conn):
    _, _, card, pack = _card_with_pack(conn)
    other_pack = bld.battery_pack(conn)
    with refused(conn, "battery_reading_pack_of_vehicle"):
        _reading(conn, card, other_pack)
    _reading(conn, card, pack)
    with refused(conn, "battery_reading_job_card_id_pack_id_key"):
        _reading(conn, card, pack)
    conn.execute(sa.text("UPDATE service.job_card SET state = 'CANCELLED', cancel_reason = 'customer left' "
                         "WHERE job_card_id = :j"), {"j": card})
    with refused(conn, "battery_reading_card_open"):
        conn.execute(sa.text("UPDATE service.battery_reading SET soh_pct = 50 WHERE job_card_id = :j"), {"j": card})
    item = scalar(conn, "SELECT item_id FROM service.inspection_item ORDER BY sort_order LIMIT 1")
    with refused(conn, "inspection_result_card_open"):
        conn.execute(sa.text("INSERT INTO service.inspection_result (job_card_id, item_id, result) VALUES (:j, :i, 'OK')"),
                     {"j": card, "i": item})


def test_a_photo_keeps_the_checksum_of_its_bytes(conn):
    _, _, card, _ = _card_with_pack(conn)
    image = b"\x89PNG fake bytes"
    with refused(conn, "job_photo_checksum"):
        conn.execute(sa.text("INSERT INTO service.job_photo (job_card_id, content_type, image, sha256, thumbnail) "
                             "VALUES (:j, 'image/png', :i, :s, :i)"), {"j": card, "i": image, "s": "0" * 64})
    photo = scalar(conn, "INSERT INTO service.job_photo (job_card_id, content_type, image, sha256, thumbnail) "
                         "VALUES (:j, 'image/png', :i, encode(sha256(:i), 'hex'), :i) RETURNING photo_id", j=card, i=image)
    with refused(conn, sqlstate="23001"):
        conn.execute(sa.text("UPDATE service.job_photo SET caption = 'x' WHERE photo_id = :p"), {"p": photo})


def test_the_demo_showroom_has_a_workshop_with_history_and_cards_on_the_board(app, conn):
    from seed.demo import seed_demo

    with app.app_context():   # the PINs are hashed with the app's settings
        seed_demo(conn, lambda: "2580")
    states = conn.execute(sa.text("SELECT state, count(*) FROM service.job_card GROUP BY state")).all()
    by_state = dict(states)
    assert {"OPEN", "APPROVED", "IN_PROGRESS", "WAITING_PARTS", "QC", "READY"} <= set(by_state)
    assert by_state["DELIVERED"] >= 10
    # Every vehicle's pack has a falling SoH over its visits, and the readings are of its own pack.
    falling = conn.execute(sa.text("""
        SELECT bool_and(soh_pct <= previous) FROM (
            SELECT soh_pct, lag(soh_pct) OVER (PARTITION BY pack_id ORDER BY read_at) AS previous
              FROM service.battery_reading) r WHERE previous IS NOT NULL""")).scalar()
    assert falling is True
    # The workshop issued no part (last month's counter sales and their return are the demo's only moves).
    assert scalar(conn, "SELECT count(*) FROM inventory.stock_move WHERE reference <> 'DEMO OPENING' "
                        "AND kind NOT IN ('COUNTER_SALE', 'SALES_RETURN')") == 0
