"""Warranty claims to the OEM in PostgreSQL (sql/0029_warranty_claims.sql, sql/functions/92_warranty.sql):
numbered per branch and year, moves only along the allowed transitions with their history, what a
submitted claim claims fixed, labour at the OEM's dated rate and parts at their purchase price, the
settled amount the OEM's own, and a battery pack swapped under warranty on a job card refitting the
vehicle (sold here or elsewhere) and becoming the failed part of the card's BATTERY claim."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import builders as b
import claim_ids as cb
import pytest
import sqlalchemy as sa
from builders import refused, row, scalar

from webapp.formatting import today_ist


def status(conn, claim_id):
    return scalar(conn, "SELECT status FROM warranty.claim WHERE claim_id = :c", c=claim_id)


def approved_claim(conn, w, amount=None):
    claim_id = cb.claim(conn, w)
    cb.labour_line(conn, claim_id, w.operation_code)
    cb.submit(conn, claim_id)
    cb.decide(conn, claim_id, "APPROVED", amount)
    return claim_id


# ----------------------------------------------------------------------------- numbers


def test_claims_are_numbered_per_branch_and_year_in_the_wc_series(conn):
    w = cb.workshop(conn)
    prefix = scalar(conn, "SELECT invoice_prefix FROM master.branch WHERE branch_id = :b", b=w.branch_id)
    fy = today_ist().year % 100 if today_ist().month >= 4 else (today_ist().year - 1) % 100
    first, second = cb.claim(conn, w), cb.claim(conn, w, kind="BATTERY")
    numbers = conn.execute(sa.text("SELECT claim_no FROM warranty.claim WHERE claim_id IN (:a, :b) ORDER BY claim_id"),
                           {"a": first, "b": second}).scalars().all()
    assert numbers == [f"{prefix}WC/{fy:02d}/1", f"{prefix}WC/{fy:02d}/2"]
    other = cb.workshop(conn)
    assert scalar(conn, "SELECT claim_no FROM warranty.claim WHERE claim_id = :c", c=cb.claim(conn, other)).endswith("/1")


def test_a_claim_takes_its_vehicle_vin_oem_and_odometer_from_the_job_card(conn):
    w = cb.workshop(conn)
    claim = row(conn, "SELECT * FROM warranty.claim WHERE claim_id = :c", c=cb.claim(conn, w, vehicle_id=None))
    vin = scalar(conn, "SELECT vin FROM service.vehicle WHERE vehicle_id = :v", v=w.vehicle_id)
    assert (claim.vehicle_id, claim.vin, claim.oem_id, claim.odometer_km, claim.status) == (
        w.vehicle_id, vin, w.oem_id, 8200, "DRAFT")


def test_a_claim_refused_by_its_checks_uses_no_number(conn):
    w = cb.workshop(conn)
    with refused(conn, "claim_free_service_card"):
        cb.claim(conn, w, kind="FREE_SERVICE_LABOUR")
    assert scalar(conn, "SELECT claim_no FROM warranty.claim WHERE claim_id = :c", c=cb.claim(conn, w)).endswith("/1")


# ----------------------------------------------------------------------------- lines


def test_labour_is_claimed_at_standard_hours_times_the_oem_rate_of_the_day_the_claim_is_raised(conn):
    w = cb.workshop(conn, rate=None)
    cb.labour_rate(conn, w.oem_id, "400.00", "2024-01-01")
    conn.execute(sa.text("UPDATE warranty.labour_rate SET effective_to = :d WHERE oem_id = :o"),
                 {"d": today_ist() - timedelta(days=1), "o": w.oem_id})
    cb.labour_rate(conn, w.oem_id, "475.00", str(today_ist()))
    claim_id = cb.claim(conn, w)
    line = row(conn, "SELECT * FROM warranty.claim_line WHERE line_id = :l",
               l=cb.labour_line(conn, claim_id, w.operation_code))
    assert (line.hours, line.rate, line.amount, line.description) == (
        Decimal("1.50"), Decimal("475.00"), Decimal("712.50"), "Motor controller replacement")
    part_line = row(conn, "SELECT * FROM warranty.claim_line WHERE line_id = :l",
                    l=cb.part_line(conn, claim_id, w.part_id, qty="2"))
    assert (part_line.unit_price, part_line.amount) == (Decimal("42000.00"), Decimal("84000.00"))
    assert scalar(conn, "SELECT claimed_amount FROM warranty.claim WHERE claim_id = :c", c=claim_id) == Decimal("84712.50")


def test_labour_without_the_oems_rate_on_the_day_is_refused(conn):
    w = cb.workshop(conn, rate=None)
    claim_id = cb.claim(conn, w)
    with refused(conn, "claim_line_oem_rate"):
        cb.labour_line(conn, claim_id, w.operation_code)


def test_a_free_service_claim_is_labour_from_a_free_service_card(conn):
    w = cb.workshop(conn, service_type="FREE_SERVICE", free_service_no=1)
    claim_id = cb.claim(conn, w, kind="FREE_SERVICE_LABOUR")
    cb.labour_line(conn, claim_id, w.operation_code)
    with refused(conn, "claim_line_free_service_labour"):
        cb.part_line(conn, claim_id, w.part_id)


def test_the_failed_and_the_replacement_serial_differ(conn):
    w = cb.workshop(conn)
    with refused(conn, "claim_line_serials_differ"):
        cb.part_line(conn, cb.claim(conn, w), w.part_id, failed="SAME00001", replacement="SAME00001")


# ----------------------------------------------------------------------------- moves


def test_a_claim_moves_draft_submitted_approved_settled_and_each_move_is_in_its_history(conn):
    w = cb.workshop(conn)
    staff = b.staff(conn, w.branch_id, "ACCOUNTS")
    b.act_as(conn, staff)
    claim_id = approved_claim(conn, w)
    cb.settle(conn, claim_id, "675.00")
    history = conn.execute(sa.text("""SELECT from_status, to_status, changed_by FROM warranty.claim_status_change
                                       WHERE claim_id = :c ORDER BY change_id"""), {"c": claim_id}).all()
    assert [(h.from_status, h.to_status) for h in history] == [
        (None, "DRAFT"), ("DRAFT", "SUBMITTED"), ("SUBMITTED", "APPROVED"), ("APPROVED", "SETTLED")]
    assert {h.changed_by for h in history} == {staff}
    with refused(conn, None, sqlstate="23001"):   # the history is permanent (audit.refuse_change)
        conn.execute(sa.text("DELETE FROM warranty.claim_status_change WHERE claim_id = :c"), {"c": claim_id})


def test_the_oem_may_settle_an_amount_other_than_the_one_claimed(conn):
    w = cb.workshop(conn)
    claim_id = approved_claim(conn, w)
    cb.settle(conn, claim_id, "600.00")
    claim = row(conn, "SELECT * FROM warranty.claim WHERE claim_id = :c", c=claim_id)
    assert (claim.status, claim.claimed_amount, claim.approved_amount, claim.settled_amount) == (
        "SETTLED", Decimal("675.00"), Decimal("675.00"), Decimal("600.00"))


@pytest.mark.parametrize("path, to", [
    ((), "APPROVED"), ((), "SETTLED"), ((), "REJECTED"),
    (("SUBMITTED",), "DRAFT"), (("SUBMITTED",), "SETTLED"),
    (("SUBMITTED", "APPROVED"), "PARTLY_APPROVED"), (("SUBMITTED", "APPROVED"), "SUBMITTED"),
])
def test_moves_not_in_the_transition_table_are_refused(conn, path, to):
    w = cb.workshop(conn)
    claim_id = cb.claim(conn, w)
    cb.labour_line(conn, claim_id, w.operation_code)
    for step in path:
        if step == "SUBMITTED":
            cb.submit(conn, claim_id)
        else:
            cb.decide(conn, claim_id, step)
    with refused(conn, "claim_status_transition"):
        conn.execute(sa.text("UPDATE warranty.claim SET status = :s WHERE claim_id = :c"), {"s": to, "c": claim_id})


def test_a_submission_needs_the_oems_reference_and_lines(conn):
    w = cb.workshop(conn)
    claim_id = cb.claim(conn, w)
    with refused(conn, "claim_has_lines"):
        cb.submit(conn, claim_id)
    cb.labour_line(conn, claim_id, w.operation_code)
    with refused(conn, "claim_submitted"):
        conn.execute(sa.text("UPDATE warranty.claim SET status = 'SUBMITTED', submitted_on = :d WHERE claim_id = :c"),
                     {"d": today_ist(), "c": claim_id})
    cb.submit(conn, claim_id, ref="ATH/WC/88812")
    assert status(conn, claim_id) == "SUBMITTED"


def test_a_rejection_needs_its_reason_and_is_final(conn):
    w = cb.workshop(conn)
    claim_id = cb.claim(conn, w)
    cb.labour_line(conn, claim_id, w.operation_code)
    cb.submit(conn, claim_id)
    with refused(conn, "claim_reason_given"):
        cb.decide(conn, claim_id, "REJECTED")
    cb.decide(conn, claim_id, "REJECTED", reason="Physical damage to the pack casing")
    with refused(conn, "claim_closed_is_final"):
        cb.settle(conn, claim_id, "0")


def test_a_partial_approval_is_below_the_claim_with_its_reason_and_an_approval_is_for_the_whole(conn):
    w = cb.workshop(conn)
    claim_id = cb.claim(conn, w)
    cb.labour_line(conn, claim_id, w.operation_code)
    cb.submit(conn, claim_id)
    with refused(conn, "claim_approved_in_full"):
        cb.decide(conn, claim_id, "APPROVED", "500.00")
    with refused(conn, "claim_partly_approved_amount"):
        cb.decide(conn, claim_id, "PARTLY_APPROVED", "675.00", "Labour capped")
    cb.decide(conn, claim_id, "PARTLY_APPROVED", "450.00", "Labour capped at 1 hour")
    with refused(conn, "claim_submitted_fixed"):
        conn.execute(sa.text("UPDATE warranty.claim SET approved_amount = 500 WHERE claim_id = :c"), {"c": claim_id})
    cb.settle(conn, claim_id, "450.00")
    assert status(conn, claim_id) == "SETTLED"


def test_a_settled_claim_changes_no_more_and_no_claim_is_deleted(conn):
    w = cb.workshop(conn)
    claim_id = approved_claim(conn, w)
    cb.settle(conn, claim_id, "675.00")
    with refused(conn, "claim_closed_is_final"):
        conn.execute(sa.text("UPDATE warranty.claim SET settlement_ref = 'X' WHERE claim_id = :c"), {"c": claim_id})
    with refused(conn, None, sqlstate="23001"):
        conn.execute(sa.text("DELETE FROM warranty.claim WHERE claim_id = :c"), {"c": claim_id})


# ----------------------------------------------------------------------------- fixed after submission


def test_a_submitted_claims_lines_evidence_and_words_are_fixed(conn):
    w = cb.workshop(conn)
    claim_id = cb.claim(conn, w)
    line = cb.labour_line(conn, claim_id, w.operation_code)
    reading = scalar(conn, """INSERT INTO service.battery_reading (job_card_id, pack_id, soh_pct, soc_pct, cell_v_max,
                                                                   cell_v_min) VALUES (:j, :p, 64, 80, 3.4, 3.3)
                              RETURNING reading_id""", j=w.job_card_id, p=w.pack_id)
    cb.submit(conn, claim_id)
    with refused(conn, "claim_line_claim_draft"):
        cb.labour_line(conn, claim_id, w.operation_code)
    with refused(conn, "claim_line_claim_draft"):
        conn.execute(sa.text("UPDATE warranty.claim_line SET description = 'More' WHERE line_id = :l"), {"l": line})
    with refused(conn, "claim_line_claim_draft"):
        conn.execute(sa.text("DELETE FROM warranty.claim_line WHERE line_id = :l"), {"l": line})
    with refused(conn, "claim_evidence_claim_draft"):
        conn.execute(sa.text("INSERT INTO warranty.claim_evidence (claim_id, reading_id) VALUES (:c, :r)"),
                     {"c": claim_id, "r": reading})
    with refused(conn, "claim_submitted_fixed"):
        conn.execute(sa.text("UPDATE warranty.claim SET cause = 'Another cause' WHERE claim_id = :c"), {"c": claim_id})
    with refused(conn, "claim_fixed"):
        conn.execute(sa.text("UPDATE warranty.claim SET kind = 'BATTERY' WHERE claim_id = :c"), {"c": claim_id})


def test_a_failed_part_is_returned_to_the_oem_once_after_submission(conn):
    w = cb.workshop(conn)
    claim_id = cb.claim(conn, w)
    line = cb.part_line(conn, claim_id, w.part_id)
    returned = "UPDATE warranty.claim_line SET returned_on = :d, return_ref = 'DC-4471' WHERE line_id = :l"
    with refused(conn, "claim_line_returned_after_claim"):
        conn.execute(sa.text(returned), {"d": today_ist(), "l": line})
    cb.submit(conn, claim_id)
    conn.execute(sa.text(returned), {"d": today_ist(), "l": line})
    assert scalar(conn, "SELECT return_ref FROM warranty.claim_line WHERE line_id = :l", l=line) == "DC-4471"
    with refused(conn, "claim_line_returned_once"):
        conn.execute(sa.text(returned), {"d": today_ist(), "l": line})


def test_evidence_is_the_claims_own_vehicles(conn):
    w, other = cb.workshop(conn), cb.workshop(conn)
    reading = scalar(conn, """INSERT INTO service.battery_reading (job_card_id, pack_id, soh_pct, soc_pct, cell_v_max,
                                                                   cell_v_min) VALUES (:j, :p, 64, 80, 3.4, 3.3)
                              RETURNING reading_id""", j=other.job_card_id, p=other.pack_id)
    with refused(conn, "claim_evidence_of_vehicle"):
        conn.execute(sa.text("INSERT INTO warranty.claim_evidence (claim_id, reading_id) VALUES (:c, :r)"),
                     {"c": cb.claim(conn, w), "r": reading})


# ----------------------------------------------------------------------------- the pack swap


def history(conn, vehicle_id):
    return conn.execute(sa.text("""SELECT serial, fitted_on, removed_on FROM service.vehicle_pack
                                    WHERE vehicle_id = :v ORDER BY fitted_on, removed_on NULLS LAST"""),
                        {"v": vehicle_id}).all()


@pytest.mark.parametrize("sold_here", [True, False], ids=["sold here", "sold elsewhere"])
def test_a_pack_swapped_under_warranty_refits_the_vehicle_and_is_the_failed_part_of_a_battery_claim(conn, sold_here):
    w = cb.workshop(conn, sold_here=sold_here)
    old_serial = scalar(conn, "SELECT serial FROM inventory.battery_pack WHERE pack_id = :p", p=w.pack_id)
    today = today_ist()
    claim_id = cb.swap(conn, w, serial="SWAPNEW00001", on=today)
    packs = history(conn, w.vehicle_id)
    assert [(p.serial, p.removed_on) for p in packs][-2:] == [(old_serial, today), ("SWAPNEW00001", None)]
    assert packs[-1].fitted_on == today
    table = "inventory.battery_fitment" if sold_here else "service.pack_fitment"
    assert scalar(conn, f"SELECT count(*) FROM {table} f JOIN inventory.battery_pack p USING (pack_id) "
                        "WHERE p.serial = 'SWAPNEW00001' AND f.removed_on IS NULL") == 1
    claim = row(conn, "SELECT * FROM warranty.claim WHERE claim_id = :c", c=claim_id)
    line = row(conn, "SELECT * FROM warranty.claim_line WHERE claim_id = :c", c=claim_id)
    assert (claim.kind, claim.status, claim.pack_id, claim.claimed_amount) == ("BATTERY", "DRAFT", w.pack_id,
                                                                               Decimal("42000.00"))
    assert (line.failed_serial, line.replacement_serial, line.failed_pack_id) == (old_serial, "SWAPNEW00001", w.pack_id)


def test_the_new_pack_takes_the_rest_of_the_old_packs_term(conn):
    from webapp.service import subject
    from webapp.warranty import api
    w = cb.workshop(conn, sold_here=True)
    cb.swap(conn, w, serial="SWAPNEW00002")
    vehicle = row(conn, "SELECT * FROM service.vehicle WHERE vehicle_id = :v", v=w.vehicle_id)
    packs = [dict(p._mapping) for p in conn.execute(sa.text(
        "SELECT * FROM service.vehicle_pack WHERE vehicle_id = :v ORDER BY fitted_on, removed_on NULLS LAST"),
        {"v": w.vehicle_id})]
    history = subject.pack_history(packs, vehicle.sale_date)
    new = next(p for p in history if p["serial"] == "SWAPNEW00002")
    assert new["replaced_pack_id"] == w.pack_id
    covers = {c["serial"]: c for c in api.battery_coverage(conn, vehicle.vin, vehicle.variant_id, vehicle.sale_date,
                                                          today_ist(), 8200, history)}
    assert covers["SWAPNEW00002"]["pack_term"] == "REMAINING"
    assert covers["SWAPNEW00002"]["ends_on"] == covers[next(p["serial"] for p in history
                                                            if p["pack_id"] == w.pack_id)]["ends_on"]


def test_a_second_swap_on_the_card_goes_on_the_same_draft_claim(conn):
    w = cb.workshop(conn)
    claim_id = cb.swap(conn, w, serial="SWAPNEW00003")
    new_pack = scalar(conn, "SELECT pack_id FROM inventory.battery_pack WHERE serial = 'SWAPNEW00003'")
    assert cb.swap(conn, w._replace(pack_id=new_pack), serial="SWAPNEW00004") == claim_id
    assert scalar(conn, "SELECT count(*) FROM warranty.claim_line WHERE claim_id = :c", c=claim_id) == 2


def test_a_swap_is_refused_for_a_pack_not_in_the_vehicle_a_pack_in_another_and_a_closed_card(conn):
    w, other = cb.workshop(conn), cb.workshop(conn)
    with refused(conn, "pack_swap_old_pack_fitted"):
        cb.swap(conn, w._replace(pack_id=other.pack_id))
    other_serial = scalar(conn, "SELECT serial FROM inventory.battery_pack WHERE pack_id = :p", p=other.pack_id)
    with refused(conn, "pack_fitment_one_vehicle_at_a_time"):
        cb.swap(conn, w, serial=other_serial)
    with refused(conn, "pack_swap_same_pack"):
        cb.swap(conn, w, serial=scalar(conn, "SELECT serial FROM inventory.battery_pack WHERE pack_id = :p",
                                      p=w.pack_id))
    conn.execute(sa.text(
        "UPDATE service.job_card SET state = 'CANCELLED', cancel_reason = 'Customer took the scooter away' "
        "WHERE job_card_id = :j"), {"j": w.job_card_id})
    with refused(conn, "pack_swap_card_open"):
        cb.swap(conn, w)


def test_a_swap_with_a_pack_in_a_sold_unit_is_refused(conn):
    w, other = cb.workshop(conn), cb.workshop(conn, sold_here=True)
    other_serial = scalar(conn, "SELECT serial FROM inventory.battery_pack WHERE pack_id = :p", p=other.pack_id)
    with refused(conn, "pack_fitment_one_vehicle_at_a_time"):
        cb.swap(conn, w, serial=other_serial)


# ----------------------------------------------------------------------------- raised from the card, or a campaign


def test_a_claim_raised_from_a_job_card_takes_its_covered_lines_of_that_kind_once(conn):
    import uuid

    from webapp.warranty import claim_queries
    w = cb.workshop(conn, service_type="FREE_SERVICE", free_service_no=1)

    def job_line(coverage, **cols):
        data = {"job_card_id": w.job_card_id, "description": "", "qty": 1, "unit_price": 0, "price_includes_gst": False,
                "coverage": coverage, "status": "APPROVED" if coverage != "CUSTOMER" else "PROPOSED", **cols}
        return scalar(conn, f"INSERT INTO service.job_line ({', '.join(data)}) VALUES "
                            f"({', '.join(':' + c for c in data)}) RETURNING job_line_id", **data)
    free_labour = job_line("FREE_SERVICE", operation_code=w.operation_code, description="First free service")
    job_line("FREE_SERVICE", part_id=w.part_id, description="Oil seal")   # a part: not free-service labour
    job_line("CUSTOMER", operation_code=w.operation_code, description="Paid wash")

    def raise_claim():
        return claim_queries.insert_claim(conn, branch_id=w.branch_id, job_card_id=w.job_card_id,
                                          kind="FREE_SERVICE_LABOUR", campaign_id=None, complaint="Free service 1",
                                          cause=None, correction=None, key=str(uuid.uuid4()))
    claim_id = raise_claim()
    lines = conn.execute(sa.text("SELECT job_line_id, kind, amount FROM warranty.claim_line WHERE claim_id = :c"),
                         {"c": claim_id}).all()
    assert [(x.job_line_id, x.kind, x.amount) for x in lines] == [(free_labour, "LABOUR", Decimal("675.00"))]
    second = raise_claim()   # the card's covered lines are claimed once
    assert scalar(conn, "SELECT count(*) FROM warranty.claim_line WHERE claim_id = :c", c=second) == 0


def test_a_recalls_labour_is_claimed_per_vin_done_under_its_campaign(conn):
    w = cb.workshop(conn)
    vin = scalar(conn, "SELECT vin FROM service.vehicle WHERE vehicle_id = :v", v=w.vehicle_id)
    campaign = scalar(conn, """INSERT INTO warranty.campaign (oem_id, code, title, kind, opened_on, match_by,
                                                              operation_code)
                               VALUES (:o, 'RC-SIDESTAND', 'Side-stand switch', 'RECALL', '2026-01-01', 'VIN_LIST', :op)
                               RETURNING campaign_id""", o=w.oem_id, op=w.operation_code)
    conn.execute(sa.text("INSERT INTO warranty.campaign_vin (campaign_id, vin) VALUES (:c, :v)"), {"c": campaign, "v": vin})
    with refused(conn, "claim_recall_campaign"):
        cb.claim(conn, w, kind="RECALL")
    with refused(conn, "claim_recall_campaign_done"):   # a recall is claimed for work done on the VIN
        cb.claim(conn, w, kind="RECALL", job_card_id=None, campaign_id=campaign)
    other_branch = b.branch(conn)
    conn.execute(sa.text("""INSERT INTO warranty.campaign_done (campaign_id, vin, done_on, branch_id)
                            VALUES (:c, :v, '2026-02-01', :b)"""), {"c": campaign, "v": vin, "b": other_branch})
    with refused(conn, "claim_recall_campaign_done"):   # ... by the branch that did it
        cb.claim(conn, w, kind="RECALL", job_card_id=None, campaign_id=campaign)
    conn.execute(sa.text("UPDATE warranty.campaign_done SET branch_id = :b WHERE campaign_id = :c AND vin = :v"),
                 {"c": campaign, "v": vin, "b": w.branch_id})
    claim_id = cb.claim(conn, w, kind="RECALL", job_card_id=None, campaign_id=campaign)
    cb.labour_line(conn, claim_id, w.operation_code)
    claim = row(conn, "SELECT * FROM warranty.claim WHERE claim_id = :c", c=claim_id)
    assert (claim.vin, claim.job_card_id, claim.claimed_amount) == (vin, None, Decimal("675.00"))
    other_oem = b.oem(conn)
    foreign = scalar(conn, """INSERT INTO warranty.campaign (oem_id, code, title, kind, opened_on, match_by)
                              VALUES (:o, 'RC-OTHER', 'Another OEM''s recall', 'RECALL', '2026-01-01', 'VIN_LIST')
                              RETURNING campaign_id""", o=other_oem)
    with refused(conn, "claim_campaign_of_oem"):
        cb.claim(conn, w, kind="RECALL", campaign_id=foreign)
    # The OEM's campaign that does not list the VIN (nor its model's months) is not this VIN's.
    unlisted = scalar(conn, """INSERT INTO warranty.campaign (oem_id, code, title, kind, opened_on, match_by)
                               VALUES (:o, 'RC-UNLISTED', 'Other VINs', 'RECALL', '2026-01-01', 'VIN_LIST')
                               RETURNING campaign_id""", o=w.oem_id)
    with refused(conn, "claim_campaign_covers_vin"):
        cb.claim(conn, w, kind="RECALL", job_card_id=None, campaign_id=unlisted)
    with refused(conn, "claim_campaign_covers_vin"):   # a warranty repair naming a campaign too
        cb.claim(conn, w, kind="WARRANTY_REPAIR", campaign_id=unlisted)
