"""Incentive and settlement screens: accounts enter the rules (an overlapping one and a slab rule without slabs come
back with the reason, as typed) and compute September from its delivery; a manager opens a salesperson's month,
follows the delivery to its sale and adjusts it with a reason; the run carries the incentive to the register and the
payslip, and the salesperson reads their own month; a checked run's month refuses adjustments; a leaver's notice shortfall is entered and their full and final
statement read back. Accounts do not adjust, salespeople see none of it."""
from __future__ import annotations

import builders as b
import sqlalchemy as sa
from conftest import csrf_from
from test_payroll_incentives_db import deliver
from test_payroll_screens import close_september, logged_in, pdf_text, team  # noqa: F401  (team is a fixture)


def sold_in_september(engine, team) -> int:  # noqa: F811
    """S1 sells and delivers a scooter on 10-09-2025; returns the booking."""
    with engine.begin() as conn:
        cat = b.vehicle_catalog(conn)
        b.price(conn, cat.variant_id, "2025-04-01", ex_showroom="157000.00")
        unit = b.unit(conn, cat.variant_id, cat.colours[0], team["branch"])
        sale = b.Sale(team["branch"], team["MGR"], team["S1"], b.customer(conn, team["branch"]), cat, unit)
        return deliver(conn, sale, unit, "2025-09-10")


def test_rules_the_months_incentives_an_adjustment_and_the_payslip(app, engine, team):  # noqa: F811
    accounts = logged_in(app, "AC1")
    page = accounts.get("/payroll/incentives/rules").get_data(as_text=True)
    token = csrf_from(page)
    rule = {"csrf_token": token, "role_code": "SALES", "kind": "PER_VEHICLE_DELIVERED", "model_id": "",
            "amount": "500", "valid_from": "01-04-2025"}
    assert accounts.post("/payroll/incentives/rules", data=rule).status_code == 303
    twice = accounts.post("/payroll/incentives/rules", data={**rule, "amount": "650"})
    body = twice.get_data(as_text=True)
    assert twice.status_code == 422 and "already has a rule of this kind" in body and 'value="650"' in body
    no_slabs = accounts.post("/payroll/incentives/rules", data={**rule, "role_code": "SERVICE_ADVISOR",
                                                                 "kind": "SERVICE_REVENUE_SLAB", "amount": ""})
    assert no_slabs.status_code == 422 and "Enter at least one slab" in no_slabs.get_data(as_text=True)
    slabs = accounts.post("/payroll/incentives/rules", data={
        **rule, "role_code": "SERVICE_ADVISOR", "kind": "SERVICE_REVENUE_SLAB", "amount": "",
        "slab_from_1": "0", "slab_pct_1": "0", "slab_from_2": "50,000", "slab_pct_2": "1"})
    assert slabs.status_code == 303
    page = accounts.get("/payroll/incentives/rules").get_data(as_text=True)
    assert "from ₹50,000.00: 1 %" in page
    with engine.connect() as conn:
        slab_rule = conn.execute(sa.text("SELECT rule_id FROM hr.incentive_rule WHERE kind = 'SERVICE_REVENUE_SLAB'")
                                 ).scalar_one()
    early = accounts.post("/payroll/incentives/rules/end", data={"csrf_token": token, "rule_id": str(slab_rule),
                                                                 "valid_to": "31-03-2025"})
    assert early.status_code == 422 and "The end is before the start" in early.get_data(as_text=True)
    assert 'value="31-03-2025"' in early.get_data(as_text=True)
    assert accounts.post("/payroll/incentives/rules/end", data={"csrf_token": token, "rule_id": str(slab_rule),
                                                                "valid_to": "31-12-2025"}).status_code == 303
    assert "31-12-2025" in accounts.get("/payroll/incentives/rules").get_data(as_text=True)

    booking = sold_in_september(engine, team)
    computed = accounts.post("/payroll/incentives/compute?month=2025-09", data={"csrf_token": token})
    assert computed.status_code == 303
    month = accounts.get("/payroll/incentives?month=2025-09").get_data(as_text=True)
    assert "₹500.00" in month and f"/payroll/incentives/people/{team['S1']}?month=2025-09" in month

    manager = logged_in(app, "MGR")
    url = f"/payroll/incentives/people/{team['S1']}?month=2025-09"
    person = manager.get(url).get_data(as_text=True)
    assert f'href="/sales/bookings/{booking}"' in person and "Per vehicle delivered" in person
    short = manager.post(url, data={"csrf_token": csrf_from(person), "amount": "250", "reason": "Good"})
    assert short.status_code == 422 and 'value="250"' in short.get_data(as_text=True)
    assert manager.post(url, data={"csrf_token": csrf_from(person), "amount": "250",
                                   "reason": "Exchange bonus from the OEM"}).status_code == 303
    after = manager.get(url).get_data(as_text=True)
    assert "Exchange bonus from the OEM" in after and "₹750.00" in after
    assert accounts.post(url, data={"csrf_token": token, "amount": "100", "reason": "Accounts' idea"}).status_code == 403
    seller = logged_in(app, "S1")
    for page_url in ("/payroll/incentives", url, "/payroll/incentives/rules"):
        assert seller.get(page_url).status_code == 403
    own = seller.get("/payroll/me/incentives?month=2025-09").get_data(as_text=True)   # their own, read only
    assert "Exchange bonus from the OEM" in own and "₹750.00" in own and "Record the adjustment" not in own
    assert "Exchange bonus" not in logged_in(app, "S2").get("/payroll/me/incentives?month=2025-09").get_data(as_text=True)

    close_september(engine, team)
    created = accounts.post("/payroll/runs", data={"csrf_token": token, "month": "2025-09"})
    run_id = int(created.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    register = accounts.get(f"/payroll/runs/{run_id}").get_data(as_text=True)
    assert "₹750.00" in register and "₹21,750.00" in register
    slip = " ".join(pdf_text(accounts.get(f"/payroll/runs/{run_id}/payslips/{team['S1']}.pdf").data).split())
    assert "Incentive 750.00" in slip.replace("₹", "").replace(" ,", ","), slip

    accounts.post(f"/payroll/runs/{run_id}/check", data={"csrf_token": token})
    closed = manager.get(url).get_data(as_text=True)
    assert "Record the adjustment" not in closed and "no longer change" in closed
    late = manager.post(url, data={"csrf_token": csrf_from(person), "amount": "100", "reason": "Too late for it"})
    assert late.status_code == 422 and "checked or approved" in late.get_data(as_text=True)


def test_a_leavers_notice_shortfall_and_full_and_final_statement(app, engine, team):  # noqa: F811
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE hr.employee SET left_on = '2025-09-30' WHERE staff_id = :s"), {"s": team["S2"]})
    accounts = logged_in(app, "AC1")
    url = f"/payroll/structures/{team['S2']}"
    page = accounts.get(url).get_data(as_text=True)
    assert "Notice not served" in page
    wrong = accounts.post(f"{url}/notice", data={"csrf_token": csrf_from(page), "days": "500", "reason": "Left early"})
    assert wrong.status_code == 422 and "Between 0.5 and 180 days" in wrong.get_data(as_text=True)
    assert accounts.post(f"{url}/notice", data={"csrf_token": csrf_from(page), "days": "5",
                                                "reason": "Left five days early"}).status_code == 303
    close_september(engine, team)
    created = accounts.post("/payroll/runs", data={"csrf_token": csrf_from(page), "month": "2025-09"})
    run_id = int(created.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    register = accounts.get(f"/payroll/runs/{run_id}").get_data(as_text=True)
    statement_url = f"/payroll/runs/{run_id}/settlements/{team['S2']}.pdf"
    assert statement_url in register and f"/payroll/runs/{run_id}/settlements/{team['S1']}.pdf" not in register
    text = " ".join(pdf_text(accounts.get(statement_url).data).split())
    # 40,000 x 5 / 30 = 6,666.67 recovered; joined 01-01-2025: no gratuity
    assert "Full and final settlement" in text and "6,667.00" in text and "not payable" in text, text
    assert accounts.get(f"/payroll/runs/{run_id}/settlements/{team['S1']}.pdf").status_code == 404
    assert logged_in(app, "S1").get(statement_url).status_code == 403
    with engine.connect() as conn:
        line = conn.execute(sa.text("SELECT notice_recovery, net_pay, gross, total_deductions FROM hr.payroll_line "
                                    "WHERE run_id = :r AND staff_id = :s"), {"r": run_id, "s": team["S2"]}).one()
    assert line.notice_recovery == 6667 and line.net_pay == line.gross - line.total_deductions


def test_a_returned_scooter_shows_as_given_back_in_the_month_of_its_credit_note(app, engine, team):  # noqa: F811
    import uuid
    from datetime import date

    from webapp.billing import posting
    from webapp.payroll import incentive_queries as iq

    booking = sold_in_september(engine, team)
    with engine.begin() as conn:
        conn.execute(sa.text("""INSERT INTO hr.incentive_rule (role_code, kind, amount, valid_from)
                                VALUES ('SALES', 'PER_VEHICLE_DELIVERED', 500, '2025-04-01')"""))
        invoice = conn.execute(sa.text("SELECT invoice_id FROM billing.invoice WHERE booking_id = :k"),
                               {"k": booking}).scalar_one()
        b.act_as(conn, team["MGR"])
        note = posting.post_credit_note(conn, invoice, on=date(2025, 10, 6), reason="Returned within the week",
                                        key=str(uuid.uuid4()))
        note_no = conn.execute(sa.text("SELECT credit_note_no FROM billing.credit_note WHERE credit_note_id = :n"),
                               {"n": note}).scalar_one()
        iq.compute(conn, team["branch"], date(2025, 10, 1))
        b.act_as(conn, None)
    page = logged_in(app, "MGR").get(f"/payroll/incentives/people/{team['S1']}?month=2025-10").get_data(as_text=True)
    assert note_no in page and "credit note: given back" in page and "-₹500.00" in page
    assert f"/billing/invoices/{invoice}" in page   # the line leads to the invoice it reversed
