"""An open campaign on the job card (sql/0033_campaign_job_line.sql): offered on the card, added as the
campaign's labour operation paid by the OEM, recorded done on the VIN when the line is done (and taken
back with it), claimed as a recall from the card or from the campaign for a VIN done; a claim's campaign
covers the claim's VIN. Database rules, then the screens per role."""
from __future__ import annotations

import uuid
from datetime import timedelta

import claim_ids as cb
import sqlalchemy as sa
from builders import refused, row, scalar
from conftest import csrf_from
from test_warranty_claims_screens import post_form, words
from test_warranty_screens import as_staff

from webapp.formatting import today_ist
from webapp.warranty import claim_queries


def campaign(conn, w, *, vin: str | None = None, code: str = "RC-BRAKE-01", operation: bool = True,
             opened_days_ago: int = 30, kind: str = "RECALL") -> int:
    """A VIN-list campaign of the workshop vehicle's OEM listing the VIN (the vehicle's, by default)."""
    vin = vin or scalar(conn, "SELECT vin FROM service.vehicle WHERE vehicle_id = :v", v=w.vehicle_id)
    campaign_id = scalar(conn, """
        INSERT INTO warranty.campaign (oem_id, code, title, kind, opened_on, match_by, operation_code)
        VALUES (:o, :code, 'Brake hose inspection', :kind, :d, 'VIN_LIST', :op) RETURNING campaign_id""",
        o=w.oem_id, code=code, kind=kind, d=today_ist() - timedelta(days=opened_days_ago),
        op=w.operation_code if operation else None)
    conn.execute(sa.text("INSERT INTO warranty.campaign_vin (campaign_id, vin) VALUES (:c, :v)"),
                 {"c": campaign_id, "v": vin})
    return campaign_id


def add(conn, job_card_id: int, campaign_id: int) -> int:
    return claim_queries.add_campaign_line(conn, job_card_id, campaign_id)


def done(conn, job_line_id: int, status: str = "DONE") -> None:
    conn.execute(sa.text("UPDATE service.job_line SET status = :s WHERE job_line_id = :l"),
                 {"s": status, "l": job_line_id})


# ----------------------------------------------------------------------------- database


def test_a_campaign_becomes_an_oem_paid_line_and_is_done_on_the_vin_when_the_line_is_done(conn):
    w = cb.workshop(conn)
    vin = scalar(conn, "SELECT vin FROM service.vehicle WHERE vehicle_id = :v", v=w.vehicle_id)
    campaign_id = campaign(conn, w)
    assert [c["campaign_id"] for c in claim_queries.card_open_campaigns(conn, w.job_card_id)] == [campaign_id]
    line_id = add(conn, w.job_card_id, campaign_id)
    line = row(conn, "SELECT * FROM service.job_line WHERE job_line_id = :l", l=line_id)
    assert (line.coverage, line.operation_code, line.campaign_id, line.qty) == ("RECALL", w.operation_code, campaign_id, 1)
    offered = claim_queries.card_open_campaigns(conn, w.job_card_id)
    assert [(c["job_line_id"], c["on_this_card"]) for c in offered] == [(line_id, True)]
    with refused(conn, "job_line_campaign_once"):        # once per vehicle
        add(conn, w.job_card_id, campaign_id)
    assert scalar(conn, "SELECT count(*) FROM warranty.campaign_done WHERE campaign_id = :c", c=campaign_id) == 0
    done(conn, line_id)
    rec = row(conn, "SELECT * FROM warranty.campaign_done WHERE campaign_id = :c", c=campaign_id)
    card_no = scalar(conn, "SELECT job_card_no FROM service.job_card WHERE job_card_id = :j", j=w.job_card_id)
    assert (rec.vin, rec.job_line_id, rec.job_ref, rec.done_on, rec.branch_id) == (
        vin, line_id, card_no, today_ist(), w.branch_id)
    assert claim_queries.card_open_campaigns(conn, w.job_card_id) == []   # done: no longer open for the vehicle
    done(conn, line_id, "APPROVED")                                       # taken back from done
    assert scalar(conn, "SELECT count(*) FROM warranty.campaign_done WHERE campaign_id = :c", c=campaign_id) == 0
    done(conn, line_id)
    # A recall claim from the card takes the campaign's line.
    claim_id = claim_queries.insert_claim(conn, branch_id=w.branch_id, job_card_id=w.job_card_id, kind="RECALL",
                                          campaign_id=campaign_id, complaint="Brake hose inspection", cause=None,
                                          correction=None, key=str(uuid.uuid4()))
    assert scalar(conn, "SELECT job_line_id FROM warranty.claim_line WHERE claim_id = :c", c=claim_id) == line_id
    with refused(conn, "claim_recall_once"):             # a recall is claimed once per campaign and VIN
        cb.claim(conn, w, kind="RECALL", job_card_id=None, campaign_id=campaign_id)


def test_a_campaign_line_is_the_campaigns_own_work_on_a_vehicle_it_covers_while_open(conn):
    w = cb.workshop(conn)
    with refused(conn, "job_line_campaign_covers"):
        add(conn, w.job_card_id, campaign(conn, w, code="RC-OTHER-VIN", vin="MD2A0000000999999"))
    with refused(conn, "job_line_campaign_operation"):
        add(conn, w.job_card_id, campaign(conn, w, code="RC-NO-OP", operation=False))
    with refused(conn, "job_line_campaign_open"):        # opened after the card was
        add(conn, w.job_card_id, campaign(conn, w, code="RC-LATER", opened_days_ago=-2))
    campaign_id = campaign(conn, w)
    with refused(conn, "job_line_campaign_recall"):      # paid by the OEM
        conn.execute(sa.text("""
            INSERT INTO service.job_line (job_card_id, operation_code, qty, unit_price, price_includes_gst, coverage,
                                          campaign_id)
            VALUES (:j, :o, 1, 600, false, 'CUSTOMER', :c)"""), {"j": w.job_card_id, "o": w.operation_code, "c": campaign_id})


def test_a_recall_is_claimed_from_its_campaign_for_a_vin_done(conn):
    w = cb.workshop(conn)
    campaign_id = campaign(conn, w)
    vin = scalar(conn, "SELECT vin FROM service.vehicle WHERE vehicle_id = :v", v=w.vehicle_id)

    def raise_claim():
        return claim_queries.insert_recall_claim(conn, branch_id=w.branch_id, campaign_id=campaign_id, vin=vin,
                                                 complaint="Brake hose inspection", correction=None,
                                                 key=str(uuid.uuid4()))
    with refused(conn, "claim_recall_campaign_done"):
        raise_claim()
    conn.execute(sa.text("INSERT INTO warranty.campaign_done (campaign_id, vin, done_on, branch_id) "
                         "VALUES (:c, :v, :d, :b)"), {"c": campaign_id, "v": vin, "d": today_ist(), "b": w.branch_id})
    claim_id = raise_claim()
    claim = row(conn, "SELECT * FROM warranty.claim WHERE claim_id = :c", c=claim_id)
    assert (claim.kind, claim.job_card_id, claim.vin, str(claim.claimed_amount)) == ("RECALL", None, vin, "675.00")
    assert claim_queries.insert_recall_claim(conn, branch_id=w.branch_id, campaign_id=campaign_id,
                                             vin="MD2A0000000888888", complaint="x y", correction=None,
                                             key=str(uuid.uuid4())) is None   # not a vehicle the workshop knows


# ----------------------------------------------------------------------------- screens


def html_claim_no(engine, campaign_id: int) -> str:
    with engine.connect() as conn:
        return scalar(conn, "SELECT claim_no FROM warranty.claim WHERE campaign_id = :c", c=campaign_id)


def test_the_job_card_offers_the_open_campaign_and_adds_it_for_the_workshop_counter(app, engine, make_staff):
    with engine.begin() as conn:
        w = cb.workshop(conn)
        campaign_id = campaign(conn, w)
    page = f"/service/job-cards/{w.job_card_id}"
    accounts = as_staff(app, make_staff, w.branch_id, "ACCOUNTS", "AC1")   # reads the campaigns, adds no work
    seen = accounts.get(page)
    assert seen.status_code == 200 and "RC-BRAKE-01" in words(seen) and "Add to this job card" not in words(seen)
    technician = as_staff(app, make_staff, w.branch_id, "TECHNICIAN", "TC1")
    assert technician.post(f"/warranty/job-cards/{w.job_card_id}/campaigns/{campaign_id}",
                           data={"csrf_token": csrf_from(seen.get_data(as_text=True))}).status_code == 403
    advisor = as_staff(app, make_staff, w.branch_id, "SERVICE_ADVISOR", "SA1")
    offer = advisor.get(page).get_data(as_text=True)
    assert "Add to this job card" in offer
    action = f"/warranty/job-cards/{w.job_card_id}/campaigns/{campaign_id}"
    added = advisor.post(action, data={"csrf_token": csrf_from(offer)})
    assert added.status_code == 303 and added.headers["Location"].endswith(f"{page}#claims")
    after = words(advisor.get(page))
    assert "On this job card" in after and "Add to this job card" not in after
    again = advisor.post(action, data={"csrf_token": csrf_from(offer)}, follow_redirects=True)
    assert "already done on this vehicle or on one of its job cards" in words(again)
    with engine.connect() as conn:
        assert scalar(conn, "SELECT count(*) FROM service.job_line WHERE campaign_id = :c", c=campaign_id) == 1


def test_a_recall_claim_is_raised_from_the_campaign_page_for_a_vin_done(app, engine, make_staff):
    with engine.begin() as conn:
        w = cb.workshop(conn)
        campaign_id = campaign(conn, w)
        vin = scalar(conn, "SELECT vin FROM service.vehicle WHERE vehicle_id = :v", v=w.vehicle_id)
    accounts = as_staff(app, make_staff, w.branch_id, "ACCOUNTS", "AC1")
    path = f"/warranty/campaigns/{campaign_id}/claims/new?vin={vin}"
    not_done = post_form(accounts, path, {"vin": vin, "complaint": "Brake hose inspection"})
    assert not_done.status_code == 422 and "The campaign is not done on this VIN" in words(not_done)
    assert f'value="{vin}"' in not_done.get_data(as_text=True)        # what was typed stays
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO warranty.campaign_done (campaign_id, vin, done_on, branch_id) "
                             "VALUES (:c, :v, :d, :b)"), {"c": campaign_id, "v": vin, "d": today_ist(), "b": w.branch_id})
    report = words(accounts.get(f"/warranty/campaigns/{campaign_id}"))
    assert "Claim" in report
    raised = post_form(accounts, path, {"vin": vin, "complaint": "Brake hose inspection"})
    assert raised.status_code == 303 and "/warranty/claims/" in raised.headers["Location"]
    claim = words(accounts.get(raised.headers["Location"]))
    assert "RC-BRAKE-01" in claim or "Recall" in claim
    claim_no = html_claim_no(engine, campaign_id)
    assert f"Claimed {claim_no}" in words(accounts.get(f"/warranty/campaigns/{campaign_id}"))
    twice = post_form(accounts, path, {"vin": vin, "complaint": "Brake hose inspection"})
    assert twice.status_code == 422 and "already claimed for this VIN" in words(twice)
    technician = as_staff(app, make_staff, w.branch_id, "TECHNICIAN", "TC2")
    assert technician.get(path).status_code == 403
