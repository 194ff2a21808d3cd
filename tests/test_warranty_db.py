"""Warranty rules in PostgreSQL (sql/functions/92_warranty.sql): vehicle and battery cover by years
or km from the sale, whichever comes first, with the boundaries on the exact day and km; extended
plans lengthening them and the rules of selling one; a replacement pack's term by the configurable
rule; the free-service schedule on the exact day and km; recall campaigns by VIN list or by
manufacture months, done once per VIN while open."""
from __future__ import annotations

from datetime import date

import builders as b
import pytest
import sqlalchemy as sa

from webapp.warranty import api

SOLD = date(2024, 6, 15)


def catalog(conn, *, vehicle=(3, 40000), battery=(8, 80000), min_soh=70, schedule=((1, 1, 1000), (2, 6, 5000),
                                                                                     (3, 12, 10000))):
    """An OEM, a model with its free-service schedule and a variant with its warranty terms."""
    oem_id = b.oem(conn)
    model_id = b.model(conn, oem_id)
    variant_id = b.variant(conn, model_id)
    conn.execute(sa.text("""UPDATE oem.variant SET vehicle_warranty_years = :vy, vehicle_warranty_km = :vk,
                                   battery_warranty_years = :by, battery_warranty_km = :bk, battery_min_soh_pct = :soh
                             WHERE variant_id = :v"""),
                 {"vy": vehicle[0], "vk": vehicle[1], "by": battery[0], "bk": battery[1], "soh": min_soh,
                  "v": variant_id})
    for n, months, km in schedule:
        conn.execute(sa.text("INSERT INTO oem.free_service (model_id, service_no, due_months, due_km) "
                             "VALUES (:m, :n, :mo, :km)"), {"m": model_id, "n": n, "mo": months, "km": km})
    return oem_id, model_id, variant_id


def vehicle(conn, variant_id, on, km, vin="MD2AWARRANTY00001", sold=SOLD):
    return api.vehicle_coverage(conn, vin, variant_id, sold, on, km)


# ----------------------------------------------------------------------------- vehicle cover


@pytest.mark.parametrize("on, covered, reason", [
    (date(2027, 6, 13), True, None),                   # the day before the last day
    (date(2027, 6, 14), True, None),                   # the last day: the day before the third anniversary
    (date(2027, 6, 15), False, "EXPIRED_BY_DATE"),     # the anniversary itself is past "3 years from the sale"
])
def test_the_vehicle_is_covered_to_the_day_before_the_anniversary_of_its_sale(conn, on, covered, reason):
    _, _, variant_id = catalog(conn)
    cover = vehicle(conn, variant_id, on, 100)
    assert (cover["covered"], cover["reason"], cover["ends_on"]) == (covered, reason, date(2027, 6, 14))


@pytest.mark.parametrize("km, covered, reason, left_km", [
    (39999, True, None, 1), (40000, True, None, 0), (40001, False, "EXPIRED_BY_KM", 0)])
def test_the_vehicle_is_covered_up_to_and_including_its_km(conn, km, covered, reason, left_km):
    _, _, variant_id = catalog(conn)
    cover = vehicle(conn, variant_id, date(2025, 1, 1), km)
    assert (cover["covered"], cover["reason"], cover["left_km"], cover["ends_km"]) == (covered, reason, left_km, 40000)


def test_what_is_left_is_counted_in_whole_months_and_days_with_the_last_day_included(conn):
    _, _, variant_id = catalog(conn)
    cover = vehicle(conn, variant_id, date(2027, 4, 10), 1000)
    # 10-04-2027 to 14-06-2027 inclusive: 2 months (to 09-06) and 5 days (10-06 to 14-06).
    assert (cover["left_months"], cover["left_days"], cover["left_km"]) == (2, 5, 39000)
    assert vehicle(conn, variant_id, date(2027, 6, 14), 1000)["left_days"] == 1


def test_a_date_before_the_sale_is_not_covered_yet_and_no_km_limit_means_only_the_years_count(conn):
    _, _, variant_id = catalog(conn, vehicle=(2, None))
    assert vehicle(conn, variant_id, date(2024, 6, 14), 0)["reason"] == "NOT_STARTED"
    far = vehicle(conn, variant_id, date(2026, 6, 14), 900000)
    assert far["covered"] and far["ends_km"] is None and far["left_km"] is None


def test_a_sale_on_29_february_is_covered_to_28_february(conn):
    _, _, variant_id = catalog(conn, vehicle=(1, None))
    assert vehicle(conn, variant_id, date(2025, 2, 28), 0, sold=date(2024, 2, 29))["covered"]
    assert vehicle(conn, variant_id, date(2025, 3, 1), 0, sold=date(2024, 2, 29))["reason"] == "EXPIRED_BY_DATE"


def test_a_variant_without_vehicle_warranty_covers_nothing(conn):
    _, _, variant_id = catalog(conn, vehicle=(0, None))
    assert vehicle(conn, variant_id, SOLD, 0)["reason"] == "NO_WARRANTY"


# ----------------------------------------------------------------------------- extended plans


def plan(conn, oem_id, *, name="Care+", vehicle=(0, 0), battery=(0, 0), within=12, valid_from="2020-01-01",
         valid_to=None, models=()):
    plan_id = b.scalar(conn, """
        INSERT INTO warranty.plan (oem_id, name, vehicle_extra_years, vehicle_extra_km, battery_extra_years,
                                   battery_extra_km, price, buy_within_months, valid_from, valid_to)
        VALUES (:o, :n, :vy, :vk, :by, :bk, 4999, :w, :f, :t) RETURNING plan_id""",
        o=oem_id, n=name, vy=vehicle[0], vk=vehicle[1], by=battery[0], bk=battery[1], w=within, f=valid_from,
        t=valid_to)
    for m in models:
        conn.execute(sa.text("INSERT INTO warranty.plan_model VALUES (:p, :m)"), {"p": plan_id, "m": m})
    return plan_id


def sell(conn, plan_id, model_id, *, vin="MD2AWARRANTY00001", sold_on=date(2025, 1, 10), vehicle_sold_on=SOLD):
    """A plan bought from another dealer (its invoice reference); one sold here is an invoice line
    (tests/test_warranty_plan_invoice.py)."""
    branch_id = b.branch(conn)
    return b.scalar(conn, """
        INSERT INTO warranty.plan_sale (branch_id, plan_id, vin, model_id, vehicle_sold_on, sold_on, customer_id, price,
                                        invoice_ref)
        VALUES (:b, :p, :vin, :m, :vs, :s, :c, 4999, 'OTHER/25/77') RETURNING plan_sale_id""",
        b=branch_id, p=plan_id, vin=vin, m=model_id, vs=vehicle_sold_on, s=sold_on, c=b.customer(conn, branch_id))


def test_an_extended_plan_adds_its_years_and_km_to_the_vehicle_cover(conn):
    oem_id, model_id, variant_id = catalog(conn)
    sold = sell(conn, plan(conn, oem_id, vehicle=(2, 20000)), model_id)
    assert vehicle(conn, variant_id, date(2029, 6, 14), 60000)["covered"]       # 5 years, 60,000 km
    past = vehicle(conn, variant_id, date(2029, 6, 15), 100)
    assert (past["reason"], past["plan_sale_id"], past["plan_name"]) == ("EXPIRED_BY_DATE", sold, "Care+")
    assert vehicle(conn, variant_id, date(2028, 1, 1), 60001)["reason"] == "EXPIRED_BY_KM"
    # Another VIN is not lengthened.
    assert not vehicle(conn, variant_id, date(2028, 1, 1), 100, vin="MD2AWARRANTY00002")["covered"]


def test_a_battery_plan_lengthens_the_battery_and_not_the_vehicle(conn):
    oem_id, model_id, variant_id = catalog(conn)
    sell(conn, plan(conn, oem_id, battery=(2, 20000)), model_id)
    packs = [{"pack_id": 1, "serial": "PACK0001", "fitted_on": "2024-06-01", "replaced_pack_id": None}]
    (pack,) = api.battery_coverage(conn, "MD2AWARRANTY00001", variant_id, SOLD, date(2034, 6, 14), 100000, packs)
    assert pack["covered"] and pack["ends_on"] == date(2034, 6, 14) and pack["ends_km"] == 100000
    assert vehicle(conn, variant_id, date(2027, 6, 15), 100)["reason"] == "EXPIRED_BY_DATE"


@pytest.mark.parametrize("sold_on, ok", [(date(2025, 6, 13), True), (date(2025, 6, 14), True),
                                         (date(2025, 6, 15), False)])
def test_a_plan_is_bought_within_its_months_of_the_sale(conn, sold_on, ok):
    oem_id, model_id, _ = catalog(conn)
    plan_id = plan(conn, oem_id, vehicle=(1, 0), within=12)
    if ok:
        sell(conn, plan_id, model_id, sold_on=sold_on)
    else:
        with b.refused(conn, "plan_sale_window"):
            sell(conn, plan_id, model_id, sold_on=sold_on)


def test_a_plan_is_sold_only_while_on_sale_for_its_models_and_once_per_cover(conn):
    oem_id, model_id, _ = catalog(conn)
    other_model = b.model(conn, oem_id)
    with b.refused(conn, "plan_sale_plan_in_force"):
        sell(conn, plan(conn, oem_id, name="Old", vehicle=(1, 0), valid_to="2024-12-31"), model_id)
    with b.refused(conn, "plan_sale_model"):
        sell(conn, plan(conn, oem_id, name="Other model", vehicle=(1, 0), models=[other_model]), model_id)
    with b.refused(conn, "plan_sale_model"):
        sell(conn, plan(conn, b.oem(conn), name="Another OEM", vehicle=(1, 0)), model_id)
    sell(conn, plan(conn, oem_id, name="Vehicle", vehicle=(1, 0)), model_id)
    with b.refused(conn, "plan_sale_part_taken"):
        sell(conn, plan(conn, oem_id, name="Vehicle too", vehicle=(2, 0)), model_id)
    sell(conn, plan(conn, oem_id, name="Battery", battery=(1, 0)), model_id)     # another cover: fine
    with b.refused(conn, "plan_sale_after_vehicle_sale"):
        sell(conn, plan(conn, oem_id, name="Early", battery=(0, 5000)), model_id, vin="MD2AWARRANTY00009",
             sold_on=date(2024, 6, 1))
    with b.refused(conn, "plan_extends_something"):
        plan(conn, oem_id, name="Nothing")


# ----------------------------------------------------------------------------- battery cover


def packs_of(*packs):
    return [{"pack_id": p[0], "serial": f"PACK{p[0]:04d}", "fitted_on": p[1], "replaced_pack_id": p[2],
             **(p[3] if len(p) > 3 else {})} for p in packs]


def battery(conn, variant_id, on, km, packs):
    return {r["pack_id"]: r for r in api.battery_coverage(conn, "MD2AWARRANTY00001", variant_id, SOLD, on, km, packs)}


@pytest.mark.parametrize("on, km, covered, reason", [
    (date(2032, 6, 14), 80000, True, None), (date(2032, 6, 15), 100, False, "EXPIRED_BY_DATE"),
    (date(2030, 1, 1), 80001, False, "EXPIRED_BY_KM")])
def test_the_battery_is_covered_by_its_own_years_and_km(conn, on, km, covered, reason):
    _, _, variant_id = catalog(conn)
    pack = battery(conn, variant_id, on, km, packs_of((1, "2024-05-01", None)))[1]
    assert (pack["covered"], pack["reason"], pack["pack_term"]) == (covered, reason, "ORIGINAL")


@pytest.mark.parametrize("soh, below", [("69.9", True), ("70", False), ("70.1", False)])
def test_a_pack_below_the_soh_floor_is_a_capacity_fault_the_warranty_pays_for(conn, soh, below):
    _, _, variant_id = catalog(conn)
    pack = battery(conn, variant_id, date(2026, 1, 1), 20000, packs_of((1, "2024-05-01", None, {"soh_pct": soh})))[1]
    assert pack["covered"] and pack["soh_below_floor"] is below and pack["min_soh_pct"] == 70


def test_a_replacement_pack_keeps_the_remaining_term_of_the_pack_it_replaced_by_default(conn):
    _, _, variant_id = catalog(conn)
    packs = packs_of((1, "2024-05-01", None), (2, "2027-03-01", 1, {"fitted_km": 30000}))
    pack = battery(conn, variant_id, date(2032, 6, 14), 80000, packs)[2]
    assert (pack["pack_term"], pack["starts_on"], pack["ends_on"], pack["ends_km"]) == (
        "REMAINING", SOLD, date(2032, 6, 14), 80000)
    assert battery(conn, variant_id, date(2032, 6, 15), 1, packs)[2]["reason"] == "EXPIRED_BY_DATE"


def test_the_rule_can_give_a_replacement_pack_a_fresh_term_from_its_fitment(conn):
    oem_id, _, variant_id = catalog(conn)
    conn.execute(sa.text("INSERT INTO warranty.replacement_rule (oem_id, pack_term, effective_from) "
                         "VALUES (:o, 'FRESH', '2027-01-01')"), {"o": oem_id})
    packs = packs_of((1, "2024-05-01", None), (2, "2027-03-01", 1, {"fitted_km": 30000}),
                     (3, "2026-12-01", 99, {"fitted_km": 20000}))   # fitted before the OEM's rule: remaining term
    found = battery(conn, variant_id, date(2035, 2, 28), 110000, packs)
    assert (found[2]["pack_term"], found[2]["starts_on"], found[2]["ends_on"], found[2]["ends_km"]) == (
        "FRESH", date(2027, 3, 1), date(2035, 2, 28), 110000)
    assert found[2]["covered"] and not found[1]["covered"]
    assert (found[3]["pack_term"], found[3]["starts_on"]) == ("REMAINING", SOLD)
    assert battery(conn, variant_id, date(2030, 1, 1), 110001, packs)[2]["reason"] == "EXPIRED_BY_KM"


def test_a_replacement_of_a_replacement_follows_the_chain(conn):
    oem_id, _, variant_id = catalog(conn)
    conn.execute(sa.text("INSERT INTO warranty.replacement_rule (oem_id, pack_term, effective_from, effective_to) "
                         "VALUES (:o, 'FRESH', '2026-01-01', '2026-12-31')"), {"o": oem_id})
    packs = packs_of((1, "2024-05-01", None), (2, "2026-02-01", 1, {"fitted_km": 15000}),
                     (3, "2028-02-01", 2, {"fitted_km": 40000}))
    found = battery(conn, variant_id, date(2028, 3, 1), 41000, packs)
    # Pack 2 started afresh in 2026; pack 3, under the default rule again, continues pack 2's term.
    assert (found[3]["pack_term"], found[3]["starts_on"], found[3]["starts_km"]) == ("REMAINING", date(2026, 2, 1), 15000)


# ----------------------------------------------------------------------------- free services


def free(conn, model_id, on, km, used=()):
    return {r["service_no"]: r for r in api.free_services(conn, model_id, SOLD, on, km, list(used))}


@pytest.mark.parametrize("on, state", [(date(2024, 7, 14), "DUE"), (date(2024, 7, 15), "DUE"),
                                       (date(2024, 7, 16), "EXPIRED")])
def test_a_free_service_is_due_up_to_the_day_its_months_after_the_sale(conn, on, state):
    _, model_id, _ = catalog(conn)
    first = free(conn, model_id, on, 500)[1]
    assert (first["due_on"], first["state"]) == (date(2024, 7, 15), state)
    if state == "EXPIRED":
        assert first["expired_by"] == "EXPIRED_BY_DATE"
        assert free(conn, model_id, on, 500)[2]["state"] == "DUE"


@pytest.mark.parametrize("km, state, left_km", [(999, "DUE", 1), (1000, "DUE", 0), (1001, "EXPIRED", None)])
def test_a_free_service_is_due_up_to_and_including_its_km(conn, km, state, left_km):
    _, model_id, _ = catalog(conn)
    first = free(conn, model_id, date(2024, 6, 20), km)[1]
    assert (first["state"], first["left_km"]) == (state, left_km)
    if state == "EXPIRED":
        assert first["expired_by"] == "EXPIRED_BY_KM"


def test_used_free_services_are_used_the_next_is_due_and_the_later_ones_to_come(conn):
    _, model_id, _ = catalog(conn)
    states = {n: r["state"] for n, r in free(conn, model_id, date(2024, 8, 1), 1500, used=[1]).items()}
    assert states == {1: "USED", 2: "DUE", 3: "TO_COME"}
    late = free(conn, model_id, date(2025, 6, 20), 9000, used=[1])
    assert {n: r["state"] for n, r in late.items()} == {1: "USED", 2: "EXPIRED", 3: "EXPIRED"}


def test_a_month_after_31_january_is_the_last_day_of_february(conn):
    _, model_id, _ = catalog(conn)
    rows = {r["service_no"]: r for r in api.free_services(conn, model_id, date(2025, 1, 31), date(2025, 2, 28), 10, [])}
    assert (rows[1]["due_on"], rows[1]["state"]) == (date(2025, 2, 28), "DUE")


# ----------------------------------------------------------------------------- campaigns


def campaign(conn, oem_id, *, code="RC-2026-01", match_by="VIN_LIST", vins=(), model_id=None, mfg=(None, None),
             opened="2026-01-01", closed=None, kind="RECALL"):
    campaign_id = b.scalar(conn, """
        INSERT INTO warranty.campaign (oem_id, code, title, kind, opened_on, closed_on, match_by, model_id, mfg_from, mfg_to)
        VALUES (:o, :code, 'Side-stand sensor', :kind, :opened, :closed, :match, :model, :f, :t) RETURNING campaign_id""",
        o=oem_id, code=code, kind=kind, opened=opened, closed=closed, match=match_by, model=model_id, f=mfg[0],
        t=mfg[1])
    for vin in vins:
        conn.execute(sa.text("INSERT INTO warranty.campaign_vin VALUES (:c, :v)"), {"c": campaign_id, "v": vin})
    return campaign_id


def test_a_campaign_is_open_for_a_listed_vin_or_a_unit_made_in_its_months_until_done(conn):
    oem_id, model_id, _ = catalog(conn)
    listed = campaign(conn, oem_id, vins=["MD2AWARRANTY00001"])
    ranged = campaign(conn, oem_id, code="SC-7", kind="SERVICE", match_by="MFG_RANGE", model_id=model_id,
                      mfg=("2025-03-01", "2025-05-01"))

    def open_for(vin, mfg, on=date(2026, 2, 1)):
        return [c["campaign_id"] for c in api.open_campaigns(conn, vin, model_id, mfg, on)]

    assert open_for("MD2AWARRANTY00001", date(2025, 3, 1)) == [listed, ranged]   # recalls first
    assert open_for("MD2AWARRANTY00002", date(2025, 5, 1)) == [ranged]
    assert open_for("MD2AWARRANTY00002", date(2025, 6, 1)) == []                 # made after the range
    assert open_for("MD2AWARRANTY00002", date(2025, 2, 1)) == []                 # made before it
    assert open_for("MD2AWARRANTY00001", date(2025, 1, 1), on=date(2025, 12, 31)) == []   # not open yet
    branch_id = b.branch(conn)
    api.mark_done(conn, campaign_id=listed, vin="MD2AWARRANTY00001", done_on=date(2026, 2, 1), branch_id=branch_id)
    assert open_for("MD2AWARRANTY00001", date(2025, 3, 1)) == [ranged]
    with b.refused(conn, "campaign_done_once"):
        api.mark_done(conn, campaign_id=listed, vin="MD2AWARRANTY00001", done_on=date(2026, 2, 2),
                      branch_id=branch_id)


def test_a_campaign_is_done_only_on_a_vehicle_it_matches_while_it_is_open(conn):
    oem_id, model_id, _ = catalog(conn)
    branch_id = b.branch(conn)
    listed = campaign(conn, oem_id, vins=["MD2AWARRANTY00001"], closed="2026-03-31")
    ranged = campaign(conn, oem_id, code="SC-8", match_by="MFG_RANGE", model_id=model_id,
                      mfg=("2025-03-01", "2025-05-01"))
    with b.refused(conn, "campaign_done_matches"):
        api.mark_done(conn, campaign_id=listed, vin="MD2AWARRANTY00002", done_on=date(2026, 2, 1), branch_id=branch_id)
    with b.refused(conn, "campaign_done_while_open"):
        api.mark_done(conn, campaign_id=listed, vin="MD2AWARRANTY00001", done_on=date(2026, 4, 1), branch_id=branch_id)
    with b.refused(conn, "campaign_done_while_open"):
        api.mark_done(conn, campaign_id=listed, vin="MD2AWARRANTY00001", done_on=date(2025, 12, 31),
                      branch_id=branch_id)
    with b.refused(conn, "campaign_done_matches"):
        api.mark_done(conn, campaign_id=ranged, vin="MD2AWARRANTY00002", done_on=date(2026, 2, 1),
                      branch_id=branch_id, model_id=model_id, mfg_month=date(2025, 6, 1))
    api.mark_done(conn, campaign_id=ranged, vin="MD2AWARRANTY00002", done_on=date(2026, 2, 1), branch_id=branch_id,
                  model_id=model_id, mfg_month=date(2025, 5, 1))
    with b.refused(conn, "campaign_vin_listed_campaign"):
        conn.execute(sa.text("INSERT INTO warranty.campaign_vin VALUES (:c, 'MD2AWARRANTY00003')"), {"c": ranged})
    with b.refused(conn, "campaign_range_complete"):
        campaign(conn, oem_id, code="SC-9", match_by="MFG_RANGE", model_id=model_id)
    with b.refused(conn, "campaign_code_key"):
        campaign(conn, oem_id, code="SC-8")


# ----------------------------------------------------------------------------- the OEM's VIN list


def test_a_recall_list_is_read_like_a_dispatch_list_its_vin_column_or_its_first_cell():
    from webapp.procurement.api import read_vin_list

    assert read_vin_list("") == ([], [])
    plain = "md2a0000000000001\n\n MD2A0000000000002 \nMD2A0000000000001\n"
    assert read_vin_list(plain) == (["MD2A0000000000001", "MD2A0000000000002"], [])
    titled = "Sl\tDealer\tVIN No\n1\tBLR\tMD2A0000000000003\n2\tBLR\tMD2AIOQ0000000004\n3\tBLR\n"
    vins, problems = read_vin_list(titled)
    assert vins == ["MD2A0000000000003"]
    assert problems == ["Row 3: “MD2AIOQ0000000004” is not a VIN: 17 letters and digits, without I, O or Q "
                        "(17 characters given)", "Row 4: no VIN"]
    vins, problems = read_vin_list("\n".join(f"MD2A{n:013d}" for n in range(5)), max_rows=3)
    assert len(vins) == 3 and problems == ["The list has more than 3 VINs: enter it in parts"]
