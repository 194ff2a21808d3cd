"""OEM receivables (webapp/finance/receivables.py): the PM E-DRIVE subsidy claims of a branch's sales,
its warranty claims and its free-service labour (claimed, and delivered but never claimed), per OEM:
not yet claimed, claimed, approved, credited, pending and pending by age; each figure opens the list
behind it; the same as CSV; another branch's claims never counted."""
from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta
from decimal import Decimal

import builders as b
import claim_ids as cb
import pytest
import service_builders as sb
import sqlalchemy as sa
from conftest import login

from webapp.billing import posting
from webapp.finance import receivable_queries as q
from webapp.formatting import today_ist

PIN = "2580"
D = Decimal


def ago(days: int):
    return today_ist() - timedelta(days=days)


def _client(app, code: str):
    client = app.test_client()
    assert login(client, code, PIN).status_code == 303
    return client


def _raise(conn, booking_id: int, n: int, raised_days_ago: int) -> None:
    conn.execute(sa.text("""
        UPDATE sales.subsidy_claim
           SET voucher_id = :v, buyer_signed_on = :on, dealer_uploaded_on = :on, claim_no = :c, claim_raised_on = :on
         WHERE booking_id = :b"""), {"v": f"EV-{n:04d}", "on": ago(raised_days_ago), "c": f"PMED-{n}", "b": booking_id})


def seed_subsidy(conn) -> dict:
    """A branch's four sales with a 5,000 subsidy each: one not yet claimed (booked 10 days ago), two claimed
    45 and 100 days ago, one claimed and credited 4,800; a fifth booked and cancelled; and a claim of
    another branch's sale."""
    s = b.sale_setup(conn, subsidy_rule="FIXED", subsidy_amount="5000.00", price_from=ago(400).isoformat())
    bookings = [b.booking(conn, s, on=ago(days).isoformat()) for days in (10, 60, 120, 130, 20)]
    _raise(conn, bookings[1], 1, 45)
    _raise(conn, bookings[2], 2, 100)
    _raise(conn, bookings[3], 3, 70)
    conn.execute(sa.text("UPDATE sales.subsidy_claim SET credited_on = :on, credited_amount = 4800 "
                         "WHERE booking_id = :b"), {"on": ago(5), "b": bookings[3]})
    b.act_as(conn, s.manager_id)
    posting.cancel_booking(conn, bookings[4], on=ago(15), reason="changed plans", key=str(uuid.uuid4()))
    other = b.sale_setup(conn, subsidy_rule="FIXED", subsidy_amount="7000.00", price_from=ago(400).isoformat())
    b.booking(conn, other, on=ago(3).isoformat())
    return {"sale": s, "bookings": bookings}


@pytest.fixture
def subsidy(app, engine, make_staff):
    with engine.begin() as conn:
        seeded = seed_subsidy(conn)
    make_staff("AC1", "ACCOUNTS", PIN, branch_id=seeded["sale"].branch_id)
    return seeded


def _summary_row(html_rows, oem_id, source):
    return next(r for r in html_rows if r["oem_id"] == oem_id and r["source"] == source)


def test_subsidy_claims_are_counted_by_stage_and_age(app, engine, subsidy):
    s = subsidy["sale"]
    with engine.begin() as conn:
        rows = q.summary(conn, s.branch_id, today_ist())
        cancelled = conn.execute(sa.text("SELECT booking_cancelled FROM sales.subsidy_claim WHERE booking_id = :b"),
                                 {"b": subsidy["bookings"][4]}).scalar()
    assert cancelled
    assert [(r["oem_id"], r["source"]) for r in rows] == [(s.catalog.oem_id, "SUBSIDY")]   # not the other branch's
    r = rows[0]
    assert (r["n_unclaimed"], r["unclaimed"]) == (1, D("5000.00"))
    assert (r["n_claimed"], r["claimed"]) == (3, D("15000.00"))
    assert (r["n_approved"], r["approved"]) == (0, None)          # the subsidy claim records no approval
    assert (r["n_credited"], r["credited"]) == (1, D("4800.00"))
    assert (r["n_pending"], r["pending"]) == (3, D("15000.00"))
    assert [(r[f"n{k}"], r[f"b{k}"]) for k in range(4)] == [
        (1, D("5000.00")), (1, D("5000.00")), (0, None), (1, D("5000.00"))]


def test_the_screen_links_each_figure_to_its_list_and_exports_it(app, subsidy):
    s = subsidy["sale"]
    client = _client(app, "AC1")
    page = client.get("/finance/oem-receivables")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="pending-total">₹15,000.00<' in html
    link = f"/finance/oem-receivables/items?source=SUBSIDY&amp;oem={s.catalog.oem_id}&amp;stage=pending&amp;bucket=90%2B"
    assert link in html
    # the list behind "pending 90+ days": the one claim raised 100 days ago
    items = client.get(link.replace("&amp;", "&"))
    assert items.status_code == 200
    body = items.get_data(as_text=True)
    assert "Claimed PMED-2" in body and "PMED-1" not in body and "100 days" in body
    assert f"/sales/bookings/{subsidy['bookings'][2]}/subsidy" in body
    # the pending list: three, oldest first; the rows alone for the pager's htmx request
    pending = client.get(f"/finance/oem-receivables/items?source=SUBSIDY&oem={s.catalog.oem_id}&stage=pending",
                         headers={"HX-Request": "true", "HX-Target": "oem-receivable-items"})
    text = pending.get_data(as_text=True)
    assert "<html" not in text and text.count("<tr>") == 1 + 3
    assert text.index("PMED-2") < text.index("PMED-1") < text.index("Not yet claimed")
    # the credited one in the CSV of the credited list, and the summary's CSV has the total row
    exported = client.get("/finance/oem-receivables/items?source=SUBSIDY&stage=credited&format=csv")
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert [(r["Status"], r["Credited"]) for r in rows] == [("Credited", "4800.00")]
    summary = list(csv.DictReader(io.StringIO(
        client.get("/finance/oem-receivables?format=csv").get_data(as_text=True).lstrip("\ufeff"))))
    assert summary[-1]["OEM"] == "Total" and summary[-1]["Pending"] == "15000.00"
    assert summary[-1]["Pending 0-30 days"] == "5000.00"


def seed_workshop(conn, branch_id: int) -> dict:
    """A workshop's claims to one OEM: warranty claims drafted, submitted, approved, settled and rejected,
    and two free services delivered, one of them with its labour claimed."""
    catalog = b.vehicle_catalog(conn)
    conn.execute(sa.text("""INSERT INTO oem.free_service (model_id, service_no, due_months, due_km)
                            VALUES (:m, 1, 120, 200000)"""), {"m": catalog.model_id})
    cb.labour_rate(conn, catalog.oem_id)
    operation = cb.operation(conn)

    def card(service_type="WARRANTY", free_service_no=None):
        vehicle = sb.outside_vehicle(conn, branch_id, variant_id=catalog.variant_id)
        job = sb.job_card(conn, branch_id, vehicle, odometer_km=800, service_type=service_type,
                          free_service_no=free_service_no)
        return cb.Workshop(branch_id, catalog.oem_id, vehicle, job, 0, 0, operation)

    def claim(w, raised, kind="WARRANTY_REPAIR"):
        claim_id = cb.claim(conn, w, kind, raised_on=ago(raised))
        cb.labour_line(conn, claim_id, operation)
        return claim_id

    w = card()
    draft = claim(w, 3)
    submitted = claim(w, 41)
    cb.submit(conn, submitted, on=ago(40), ref="OEM-A1")
    approved = claim(w, 96)
    cb.submit(conn, approved, on=ago(95), ref="OEM-A2")
    cb.decide(conn, approved, "APPROVED", "675.00", on=ago(80))   # all it claims (1.5 h at 450)
    settled = claim(w, 61)
    cb.submit(conn, settled, on=ago(60), ref="OEM-A3")
    cb.decide(conn, settled, "PARTLY_APPROVED", "500.00", reason="Only the labour hours of the manual", on=ago(30))
    cb.settle(conn, settled, "500.00", on=ago(2))
    rejected = claim(w, 50)
    cb.submit(conn, rejected, on=ago(50), ref="OEM-A4")
    cb.decide(conn, rejected, "REJECTED", reason="Damage by water", on=ago(20))
    unclaimed_card = card("FREE_SERVICE", 1)
    sb.move(conn, unclaimed_card.job_card_id, "APPROVED", "IN_PROGRESS", "QC", "READY", "DELIVERED")
    claimed_card = card("FREE_SERVICE", 1)
    sb.move(conn, claimed_card.job_card_id, "APPROVED", "IN_PROGRESS", "QC", "READY", "DELIVERED")
    free_claim = claim(claimed_card, 21, "FREE_SERVICE_LABOUR")
    cb.submit(conn, free_claim, on=ago(20), ref="OEM-F1")
    amounts = dict(conn.execute(sa.text("SELECT claim_id, claimed_amount FROM warranty.claim WHERE branch_id = :b"),
                                {"b": branch_id}).all())
    return {"branch_id": branch_id, "oem_id": catalog.oem_id, "amounts": amounts, "draft": draft,
            "submitted": submitted, "approved": approved, "settled": settled, "rejected": rejected,
            "free_claim": free_claim, "unclaimed_card": unclaimed_card.job_card_id}


@pytest.fixture
def workshop(app, engine, make_staff):
    with engine.begin() as conn:
        seeded = seed_workshop(conn, b.branch(conn))
    make_staff("AC9", "ACCOUNTS", PIN, branch_id=seeded["branch_id"])
    return seeded


def test_warranty_and_free_service_claims_by_status_and_the_free_services_never_claimed(app, engine, workshop):
    a = workshop["amounts"]
    assert a[workshop["draft"]] > 0
    with engine.begin() as conn:
        rows = q.summary(conn, workshop["branch_id"], today_ist())
    warranty = _summary_row(rows, workshop["oem_id"], "WARRANTY")
    claimed = [a[workshop[k]] for k in ("submitted", "approved", "settled", "rejected")]
    assert (warranty["n_unclaimed"], warranty["unclaimed"]) == (1, a[workshop["draft"]])
    assert (warranty["n_claimed"], warranty["claimed"]) == (4, sum(claimed))
    assert a[workshop["approved"]] == D("675.00")
    assert (warranty["n_approved"], warranty["approved"]) == (2, D("1175.00"))
    assert (warranty["n_credited"], warranty["credited"]) == (1, D("500.00"))
    assert (warranty["n_pending"], warranty["pending"]) == (
        3, a[workshop["draft"]] + a[workshop["submitted"]] + D("675.00"))
    assert [(warranty[f"n{k}"], warranty[f"b{k}"]) for k in range(4)] == [
        (1, a[workshop["draft"]]), (1, a[workshop["submitted"]]), (0, None), (1, D("675.00"))]
    free = _summary_row(rows, workshop["oem_id"], "FREE_SERVICE")
    assert (free["n_unclaimed"], free["unclaimed"]) == (1, None)   # delivered, never claimed: no amount yet
    assert (free["n_claimed"], free["claimed"]) == (1, a[workshop["free_claim"]])
    assert (free["n_pending"], free["pending"]) == (2, a[workshop["free_claim"]])
    assert (free["n0"], free["b0"]) == (2, a[workshop["free_claim"]])

    client = _client(app, "AC9")
    html = client.get("/finance/oem-receivables").get_data(as_text=True)
    assert f'data-oem="{workshop["oem_id"]}" data-source="FREE_SERVICE"' in html
    unclaimed = client.get(f"/finance/oem-receivables/items?source=FREE_SERVICE&oem={workshop['oem_id']}"
                           "&stage=unclaimed").get_data(as_text=True)
    assert f"/workshop/job-cards/{workshop['unclaimed_card']}" in unclaimed or \
        f"/job-cards/{workshop['unclaimed_card']}" in unclaimed
    assert "labour not claimed" in unclaimed and "not priced" in unclaimed
    approved = client.get("/finance/oem-receivables/items?source=WARRANTY&stage=approved").get_data(as_text=True)
    assert f"/claims/{workshop['approved']}\"" in approved and f"/claims/{workshop['settled']}\"" in approved
    assert f"/claims/{workshop['rejected']}\"" not in approved and f"/claims/{workshop['draft']}\"" not in approved


def test_junk_in_the_list_filters_falls_back_to_the_defaults(app, workshop):
    client = _client(app, "AC9")
    for query in ("source=X&stage=Y&bucket=Z&oem=abc", "oem=99999999999999", "page=-1&source=WARRANTY"):
        assert client.get(f"/finance/oem-receivables/items?{query}").status_code == 200, query


def test_a_subsidy_claim_is_owed_by_its_bookings_maker_whatever_is_written(conn):
    s = b.sale_setup(conn, subsidy_rule="FIXED", subsidy_amount="5000.00", price_from=ago(400).isoformat())
    booking_id = b.booking(conn, s, on=ago(2).isoformat())

    def owed_by():
        return conn.execute(sa.text("SELECT oem_id FROM sales.subsidy_claim WHERE booking_id = :b"),
                            {"b": booking_id}).scalar()

    assert owed_by() == s.catalog.oem_id
    other = b.vehicle_catalog(conn)
    conn.execute(sa.text("UPDATE sales.subsidy_claim SET oem_id = :o WHERE booking_id = :b"),
                 {"o": other.oem_id, "b": booking_id})
    assert owed_by() == s.catalog.oem_id            # written by hand: put back from the booking
    conn.execute(sa.text("UPDATE sales.booking SET variant_id = :v WHERE booking_id = :b"),
                 {"v": other.variant_id, "b": booking_id})
    assert owed_by() == other.oem_id                # the booking moved to another maker's scooter
