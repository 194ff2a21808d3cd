"""Catalog rules held by PostgreSQL (sql/0002_catalog.sql): the dated tax master, dated price
lists, the PM E-DRIVE subsidy, low-speed models, customers' identity numbers and the gapless
document numbers every posted document takes.
"""
from __future__ import annotations

import random
import threading
import time
from datetime import date
from decimal import Decimal

import builders as b
import pytest
import sqlalchemy as sa
from builders import refused, scalar

D = Decimal


# ----------------------------------------------------------------------------- tax master


@pytest.mark.parametrize("on, rate", [
    ("2017-07-01", Decimal(28)),
    ("2025-09-21", Decimal(28)),
    ("2025-09-22", Decimal(18)),
    ("2025-09-23", Decimal(18)),
    ("2030-01-01", Decimal(18)),
])
def test_two_wheeler_spares_pay_28_percent_until_21_09_2025_and_18_percent_from_the_22nd(conn, on, rate):
    assert scalar(conn, "SELECT master.gst_rate_on('8714', :d)", d=on) == rate
    assert scalar(conn, "SELECT master.gst_rate_on('8708', :d)", d=on) == rate


def test_no_rate_before_gst_began_means_no_rate_not_a_guess(conn):
    assert scalar(conn, "SELECT master.gst_rate_on('8714', '2017-06-30')") is None
    assert scalar(conn, "SELECT master.gst_rate_on('999999', '2025-01-01')") is None


def test_electric_scooters_pay_5_percent_across_the_rate_cut(conn):
    for on in ("2024-01-01", "2025-09-21", "2025-09-22"):
        assert scalar(conn, "SELECT master.gst_rate_on('871160', :d)", d=on) == Decimal(5)


def hsn_rate(conn, code, rate, start, end=None):
    conn.execute(sa.text("""INSERT INTO master.hsn_rate (hsn_code, gst_rate, effective_from, effective_to)
                            VALUES (:h, :r, :f, :t)"""), {"h": code, "r": rate, "f": start, "t": end})


def test_a_second_rate_for_days_that_already_have_one_is_refused(conn):
    with refused(conn, "hsn_rate_no_overlap"):
        hsn_rate(conn, "8714", 18, "2025-09-01", "2025-09-30")
    with refused(conn, "hsn_rate_no_overlap"):      # touching the last day of the old rate
        hsn_rate(conn, "8714", 5, "2017-01-01", "2017-07-01")
    with refused(conn, "hsn_rate_no_overlap"):      # an open end overlaps everything after it
        hsn_rate(conn, "8714", 5, "2030-04-01")


def test_rate_periods_that_meet_end_to_start_are_allowed_and_each_day_has_one_rate(conn):
    conn.execute(sa.text("INSERT INTO master.hsn (hsn_code, description) VALUES ('8716', 'Trailers')"))
    hsn_rate(conn, "8716", 12, "2020-01-01", "2020-12-31")
    hsn_rate(conn, "8716", 18, "2021-01-01")
    assert scalar(conn, "SELECT master.gst_rate_on('8716', '2020-12-31')") == Decimal(12)
    assert scalar(conn, "SELECT master.gst_rate_on('8716', '2021-01-01')") == Decimal(18)


def test_the_same_dates_for_another_hsn_code_are_no_overlap(conn):
    conn.execute(sa.text("INSERT INTO master.hsn (hsn_code, description) VALUES ('8716', 'Trailers')"))
    hsn_rate(conn, "8716", 28, "2017-07-01", "2025-09-21")


def test_a_rate_that_is_not_a_gst_slab_is_refused(conn):
    conn.execute(sa.text("INSERT INTO master.hsn (hsn_code, description) VALUES ('8716', 'Trailers')"))
    with refused(conn, "hsn_rate_gst_rate_check"):
        hsn_rate(conn, "8716", 17, "2021-01-01")


# ----------------------------------------------------------------------------- price lists


@pytest.fixture
def scooter(conn):
    return b.vehicle_catalog(conn, colours=("Red", "Blue"))


def test_two_prices_for_the_same_colour_on_the_same_day_are_refused(conn, scooter):
    v = scooter.variant_id
    b.price(conn, v, "2026-04-01", "2026-06-30", colour="Red")
    with refused(conn, "price_list_no_overlap"):
        b.price(conn, v, "2026-06-30", None, colour="Red")
    b.price(conn, v, "2026-07-01", None, colour="Red")    # starts the day after: fine


def test_two_every_colour_prices_on_the_same_day_are_refused(conn, scooter):
    v = scooter.variant_id
    b.price(conn, v, "2026-04-01", None)
    with refused(conn, "price_list_no_overlap"):
        b.price(conn, v, "2026-05-01", "2026-05-31")


def test_different_colours_and_every_colour_may_share_dates(conn, scooter):
    v = scooter.variant_id
    b.price(conn, v, "2026-04-01", None, colour="Red")
    b.price(conn, v, "2026-04-01", None, colour="Blue")
    b.price(conn, v, "2026-04-01", None)
    other = b.variant(conn, scooter.model_id)
    b.price(conn, other, "2026-04-01", None)              # another variant: no clash
    assert scalar(conn, "SELECT count(*) FROM oem.price_list WHERE variant_id IN (:a, :b)", a=v, b=other) == 4


def test_a_price_for_a_colour_the_variant_does_not_come_in_is_refused(conn, scooter):
    with refused(conn, "price_list_variant_id_colour_fkey"):
        b.price(conn, scooter.variant_id, "2026-04-01", colour="Gold")


def price_on(conn, variant_id, colour, on):
    return conn.execute(sa.text("SELECT price_id, ex_showroom FROM oem.price_on(:v, :c, :d)"),
                        {"v": variant_id, "c": colour, "d": on}).mappings().one_or_none()


def test_the_colours_own_price_wins_over_the_every_colour_price(conn, scooter):
    v = scooter.variant_id
    every = b.price(conn, v, "2026-04-01", None, ex_showroom="120000.00")
    red = b.price(conn, v, "2026-05-01", "2026-05-31", colour="Red", ex_showroom="123500.00")
    assert price_on(conn, v, "Red", "2026-05-15")["price_id"] == red
    assert price_on(conn, v, "Red", "2026-05-15")["ex_showroom"] == Decimal("123500.00")
    assert price_on(conn, v, "Blue", "2026-05-15")["price_id"] == every
    assert price_on(conn, v, "Red", "2026-06-01")["price_id"] == every     # Red's own price has ended
    assert price_on(conn, v, "Red", "2026-03-31") is None                 # no price yet: nothing to sell at


# ----------------------------------------------------------------------------- subsidy


def subsidy(conn, price_id, kwh):
    return scalar(conn, "SELECT oem.subsidy_amount(p, :k) FROM oem.price_list p WHERE price_id = :id",
                  id=price_id, k=Decimal(kwh))


def test_a_fixed_subsidy_is_paid_whatever_the_battery(conn, scooter):
    p = b.price(conn, scooter.variant_id, "2026-04-01", subsidy_rule="FIXED", subsidy_amount=Decimal(5000))
    assert subsidy(conn, p, "2.2") == Decimal(5000)
    assert subsidy(conn, p, "4.0") == Decimal(5000)


def test_a_per_kwh_subsidy_stops_at_its_cap(conn, scooter):
    p = b.price(conn, scooter.variant_id, "2026-04-01", subsidy_rule="PER_KWH",
                subsidy_per_kwh=Decimal(5000), subsidy_cap=Decimal(10000))
    assert subsidy(conn, p, "1.5") == Decimal(7500)
    assert subsidy(conn, p, "2.0") == Decimal(10000)
    assert subsidy(conn, p, "3.7") == Decimal(10000)     # 18,500 by the rate, capped at 10,000


def test_the_subsidy_never_exceeds_15_percent_of_the_ex_factory_price(conn, scooter):
    p = b.price(conn, scooter.variant_id, "2026-04-01", subsidy_rule="PER_KWH", subsidy_per_kwh=Decimal(5000),
                subsidy_cap=Decimal(10000), ex_factory=Decimal("40000.00"), subsidy_cap_pct=Decimal(15))
    assert subsidy(conn, p, "1.0") == Decimal(5000)      # under 6,000
    assert subsidy(conn, p, "1.5") == Decimal(6000)      # 7,500 by the rate; 15% of 40,000 is 6,000


def test_the_subsidy_is_rounded_down_to_the_rupee(conn, scooter):
    by_rate = b.price(conn, scooter.variant_id, "2026-04-01", "2026-04-30", subsidy_rule="PER_KWH",
                      subsidy_per_kwh=Decimal("4999.99"), subsidy_cap=Decimal(10000))
    assert subsidy(conn, by_rate, "1.5") == Decimal(7499)                 # 7,499.985
    by_pct = b.price(conn, scooter.variant_id, "2026-05-01", "2026-05-31", subsidy_rule="FIXED",
                     subsidy_amount=Decimal(9000), ex_factory=Decimal("41111.11"), subsidy_cap_pct=Decimal(15))
    assert subsidy(conn, by_pct, "3.0") == Decimal(6166)                  # 6,166.6665


def test_no_subsidy_rule_means_no_subsidy(conn, scooter):
    p = b.price(conn, scooter.variant_id, "2026-04-01")
    assert subsidy(conn, p, "3.0") == 0


def test_a_subsidy_rule_without_its_amounts_is_refused(conn, scooter):
    v = scooter.variant_id
    with refused(conn, "price_list_subsidy_complete"):
        b.price(conn, v, "2026-04-01", subsidy_rule="FIXED")
    with refused(conn, "price_list_subsidy_complete"):
        b.price(conn, v, "2026-04-01", subsidy_rule="PER_KWH", subsidy_per_kwh=Decimal(5000))
    with refused(conn, "price_list_cap_pct_needs_ex_factory"):
        b.price(conn, v, "2026-04-01", subsidy_rule="FIXED", subsidy_amount=Decimal(5000),
                subsidy_cap_pct=Decimal(15))


# ----------------------------------------------------------------------------- models


def insert_model(conn, oem_id, segment, low_speed):
    conn.execute(sa.text("INSERT INTO oem.model (oem_id, name, segment, is_low_speed) VALUES (:o, :n, :s, :l)"),
                 {"o": oem_id, "n": f"M {segment} {low_speed}", "s": segment, "l": low_speed})


def test_only_a_low_speed_two_wheeler_is_flagged_low_speed(conn):
    oem_id = b.oem(conn)
    with refused(conn, "model_low_speed_is_a_2w"):
        insert_model(conn, oem_id, "E2W", True)
    with refused(conn, "model_low_speed_is_a_2w"):
        insert_model(conn, oem_id, "E3W_PASSENGER", True)
    with refused(conn, "model_low_speed_segment_flagged"):
        insert_model(conn, oem_id, "E2W_LOW_SPEED", False)
    insert_model(conn, oem_id, "E2W_LOW_SPEED", True)
    insert_model(conn, oem_id, "E2W", False)


# ----------------------------------------------------------------------------- customers


def insert_customer(conn, branch_id, state="29", **fields):
    data = {"branch_id": branch_id, "name": "Lakshmi Traders", "mobile": "9845012345", "state_code": state, **fields}
    cols = ", ".join(data)
    conn.execute(sa.text(f"INSERT INTO master.customer ({cols}) VALUES ({', '.join(':' + c for c in data)})"), data)


def test_a_customers_gstin_must_belong_to_their_state(conn):
    branch = b.branch(conn)
    karnataka = b.make_gstin("29")
    insert_customer(conn, branch, "29", kind="BUSINESS", gstin=karnataka)
    with refused(conn, "customer_gstin_state"):
        insert_customer(conn, branch, "33", kind="BUSINESS", gstin=b.make_gstin("29"))


def test_a_customers_gstin_must_carry_their_pan(conn):
    branch = b.branch(conn)
    g = b.make_gstin("29")
    insert_customer(conn, branch, gstin=g, pan=b.pan_of(g))
    with refused(conn, "customer_gstin_pan"):
        insert_customer(conn, branch, gstin=b.make_gstin("29"), pan="ABCPK1234L")


@pytest.mark.parametrize("aadhaar", ["123456789012", "12345", "123", "12a4", " 1234"])
def test_only_the_last_four_digits_of_aadhaar_are_ever_stored(conn, aadhaar):
    branch = b.branch(conn)
    insert_customer(conn, branch, aadhaar_last4="4821")
    with refused(conn, "customer_aadhaar_last4_check"):
        insert_customer(conn, branch, aadhaar_last4=aadhaar)


# ----------------------------------------------------------------------------- document numbers


def next_no(conn, branch_id, series="PO", on="2026-04-06"):
    return scalar(conn, "SELECT master.next_document_no(:b, :s, :d)", b=branch_id, s=series, d=on)


def test_purchase_orders_are_numbered_blrpo_26_1_2_3(conn):
    blr = b.branch(conn, prefix="BLR")
    assert [next_no(conn, blr) for _ in range(3)] == ["BLRPO/26/1", "BLRPO/26/2", "BLRPO/26/3"]


def test_each_branch_and_series_counts_on_its_own(conn):
    blr = b.branch(conn, prefix="BLR")
    mys = b.branch(conn, prefix="MYS")
    assert next_no(conn, blr, "PO") == "BLRPO/26/1"
    assert next_no(conn, blr, "GRN") == "BLRGRN/26/1"
    assert next_no(conn, mys, "PO") == "MYSPO/26/1"
    assert next_no(conn, blr, "PO") == "BLRPO/26/2"


def test_numbers_start_again_at_1_on_the_first_of_april(conn):
    blr = b.branch(conn, prefix="BLR")
    assert next_no(conn, blr, on="2026-03-30") == "BLRPO/25/1"
    assert next_no(conn, blr, on="2026-03-31") == "BLRPO/25/2"
    assert next_no(conn, blr, on="2026-04-01") == "BLRPO/26/1"
    assert next_no(conn, blr, on="2027-03-31") == "BLRPO/26/2"
    assert next_no(conn, blr, on="2027-04-01") == "BLRPO/27/1"
    # A late entry dated in the old year continues the old year's series.
    assert next_no(conn, blr, on="2026-01-15") == "BLRPO/25/3"


def test_a_number_longer_than_16_characters_is_refused_not_cut_short(conn):
    long_prefix = b.branch(conn, prefix="ABCD")
    conn.execute(sa.text("""INSERT INTO master.document_counter (branch_id, series, fy_start, last_no)
                            VALUES (:b, 'GRN', 2026, 99998)"""), {"b": long_prefix})
    assert next_no(conn, long_prefix, "GRN") == "ABCDGRN/26/99999"          # exactly 16
    with refused(conn, sqlstate="23514"):
        next_no(conn, long_prefix, "GRN")
    # The refused number was not used up.
    assert scalar(conn, "SELECT last_no FROM master.document_counter WHERE branch_id = :b", b=long_prefix) == 99999


def test_a_rolled_back_posting_gives_its_number_back(committed):
    with committed.begin() as conn:
        blr = b.branch(conn, prefix="BLR")
    with committed.connect() as conn:
        assert next_no(conn, blr) == "BLRPO/26/1"
        conn.rollback()
    with committed.begin() as conn:
        assert next_no(conn, blr) == "BLRPO/26/1"
    with committed.begin() as conn:
        assert next_no(conn, blr) == "BLRPO/26/2"


def test_a_taker_waiting_behind_a_posting_that_fails_gets_the_same_number(committed):
    with committed.begin() as conn:
        blr = b.branch(conn, prefix="BLR")
    second = b.Outcome()

    def take():
        with committed.connect() as conn:
            b.tag(conn, "doc-no-second")
            second.result = next_no(conn, blr)
            conn.commit()

    with committed.connect() as first:
        assert next_no(first, blr) == "BLRPO/26/1"
        waiter = threading.Thread(target=take)
        waiter.start()
        b.wait_until_blocked(committed, "doc-no-second")
        first.rollback()                       # the first posting failed after taking its number
    waiter.join(10)
    assert second.result == "BLRPO/26/1"


def test_fifty_counter_staff_posting_at_once_get_1_to_50_without_gap_or_duplicate(committed):
    takers = 50
    with committed.begin() as conn:
        blr = b.branch(conn, prefix="BLR")
    got: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(takers)
    with b.separate_connections(committed) as many:
        def post_one(seed: int):
            try:
                with many.connect() as conn:
                    conn.execute(sa.text("SELECT 1"))     # connected before the start signal
                    start.wait(timeout=20)
                    number = next_no(conn, blr)
                    time.sleep(random.Random(seed).uniform(0, 0.004))   # the rest of the posting
                    conn.commit()
                    got.append(number)
            except BaseException as exc:       # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=post_one, args=(i,)) for i in range(takers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    assert not errors, errors[:3]
    assert sorted(int(n.rsplit("/", 1)[1]) for n in got) == list(range(1, takers + 1))
    assert all(n.startswith("BLRPO/26/") for n in got)
    with committed.connect() as conn:
        assert scalar(conn, "SELECT last_no FROM master.document_counter WHERE branch_id = :b", b=blr) == takers


def test_financial_year_starts_in_april(conn):
    for on, fy in ((date(2026, 3, 31), 2025), (date(2026, 4, 1), 2026), (date(2027, 1, 1), 2026)):
        assert scalar(conn, "SELECT master.fy_start_year(:d)", d=on) == fy


# ----------------------------------------------------------------------------- the rest of the catalog's checks


@pytest.mark.parametrize("sql, constraint", [
    ("INSERT INTO master.hsn (hsn_code, description) VALUES ('87141', 'Five digits')", "hsn_hsn_code_check"),
    ("INSERT INTO master.hsn (hsn_code, description) VALUES ('8714AB', 'Letters')", "hsn_hsn_code_check"),
    ("INSERT INTO master.part (part_no, name, hsn_code, mrp, purchase_price) VALUES ('bp-01', 'Brake pad', '8714', 1, 1)",
     "part_part_no_check"),
    ("INSERT INTO master.part (part_no, name, hsn_code, unit, mrp, purchase_price) "
     "VALUES ('BP-01', 'Brake pad', '8714', 'DOZEN', 1, 1)", "part_unit_check"),
    ("INSERT INTO master.labour_operation (operation_code, name, standard_hours, rate) "
     "VALUES ('PDI', 'Pre-delivery inspection', 0, 300)", "labour_operation_standard_hours_check"),
    ("INSERT INTO master.labour_operation (operation_code, name, standard_hours, rate) "
     "VALUES ('pdi', 'Pre-delivery inspection', 1, 300)", "labour_operation_operation_code_check"),
    ("INSERT INTO oem.oem (brand, legal_name, gstin, address) VALUES ('Volt', 'Volt EV Ltd', '29AAACB0001K1Z0', 'Hosur')",
     "oem_gstin_check"),
])
def test_catalog_codes_must_be_well_formed(conn, sql, constraint):
    with refused(conn, constraint):
        conn.execute(sa.text(sql))


def test_a_part_knows_whether_it_is_counted_or_measured(conn):
    counted = b.part(conn, unit="SET")
    measured = b.part(conn, unit="LTR")
    assert scalar(conn, "SELECT whole_units FROM master.part WHERE part_id = :p", p=counted) is True
    assert scalar(conn, "SELECT whole_units FROM master.part WHERE part_id = :p", p=measured) is False


def test_an_oems_state_comes_from_its_gstin(conn):
    oem_id = b.oem(conn, state="33")
    assert scalar(conn, "SELECT state_code FROM oem.oem WHERE oem_id = :o", o=oem_id) == "33"


def test_a_colour_name_has_no_stray_spaces(conn):
    cat = b.vehicle_catalog(conn)
    with refused(conn, "variant_colour_colour_check"):
        b.colour(conn, cat.variant_id, "Red ")


def test_a_scheme_ends_on_or_after_the_day_it_starts(conn):
    oem_id = b.oem(conn)
    add = """INSERT INTO oem.scheme (oem_id, name, kind, amount, valid_from, valid_to)
             VALUES (:o, 'Diwali offer', 'CUSTOMER_DISCOUNT', :a, :f, :t)"""
    conn.execute(sa.text(add), {"o": oem_id, "a": 3000, "f": "2026-10-20", "t": "2026-10-20"})
    with refused(conn, "scheme_check"):
        conn.execute(sa.text(add), {"o": oem_id, "a": 3000, "f": "2026-10-20", "t": "2026-10-19"})
    with refused(conn, "scheme_amount_check"):
        conn.execute(sa.text(add), {"o": oem_id, "a": 0, "f": "2026-10-20", "t": "2026-11-20"})


def test_a_free_service_schedule_has_sensible_numbers(conn):
    cat = b.vehicle_catalog(conn)
    add = "INSERT INTO oem.free_service (model_id, service_no, due_months, due_km) VALUES (:m, :n, :mo, :km)"
    conn.execute(sa.text(add), {"m": cat.model_id, "n": 1, "mo": 1, "km": 1000})
    with refused(conn, "free_service_pkey"):
        conn.execute(sa.text(add), {"m": cat.model_id, "n": 1, "mo": 3, "km": 3000})
    with refused(conn, "free_service_due_km_check"):
        conn.execute(sa.text(add), {"m": cat.model_id, "n": 2, "mo": 3, "km": -1})


def test_catalog_changes_are_audited(conn):
    cat = b.vehicle_catalog(conn)
    price_id = b.price(conn, cat.variant_id, "2026-04-01")
    conn.execute(sa.text("UPDATE oem.price_list SET ex_showroom = 125000 WHERE price_id = :p"), {"p": price_id})
    entry = b.row(conn, """SELECT before ->> 'ex_showroom' AS was, after ->> 'ex_showroom' AS now FROM audit.log
                            WHERE table_name = 'oem.price_list' AND row_key = :k AND action = 'UPDATE'""",
                  k=str(price_id))
    assert (D(entry["was"]), D(entry["now"])) == (D("120000.00"), D("125000"))
