"""Warranty screens through the browser's requests: the warranty check of a vehicle sold here, the
"service_vehicle" panel drawn for the arrival page, extended plans set and sold, recall campaigns
entered by a pasted or uploaded VIN list or by manufacture months, their done / pending report,
marking one done and closing it."""
from __future__ import annotations

import io
import re
import uuid
from datetime import date, timedelta

import builders as b
import pytest
import sqlalchemy as sa
from conftest import csrf_from, login
from warranty_ids import sold_vehicle

from webapp import panels
from webapp.formatting import ddmmyyyy, today_ist

PIN = "2580"


def as_staff(app, make_staff, branch_id: int, role: str, code: str):
    make_staff(code, role, PIN, branch_id=branch_id)
    client = app.test_client()
    assert login(client, code, PIN).status_code == 303
    return client


def text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


# ----------------------------------------------------------------------------- the warranty check


def test_the_check_shows_the_cover_free_services_and_open_recalls_of_a_vehicle_sold_here(app, engine, make_staff):
    sale, vin = sold_vehicle(engine)
    with engine.begin() as conn:
        campaign_id = conn.execute(sa.text("""
            INSERT INTO warranty.campaign (oem_id, code, title, kind, opened_on, match_by, model_id, mfg_from, mfg_to)
            VALUES (:o, 'RC-STAND-1', 'Side-stand switch', 'RECALL', '2026-01-01', 'MFG_RANGE', :m, '2026-01-01',
                    '2026-03-01') RETURNING campaign_id"""),
            {"o": sale.catalog.oem_id, "m": sale.catalog.model_id}).scalar_one()
    client = as_staff(app, make_staff, sale.branch_id, "SERVICE_ADVISOR", "SA1")
    page = text(client.get(f"/warranty/check?vin={vin.lower()}&km=950&on=01-07-2026"))
    assert f"Warranty <small>{vin} · on 01-07-2026 at 950 km</small>" in page
    # Vehicle: 3 years from 02-06-2026, i.e. to 01-06-2029, or 30,000 km.
    assert "01-06-2029 or 30,000 km" in page and "2 years 11 months 1 day and 29,050 km left" in page
    # The pack fitted on 01-09-2026 replaced the original: by default it keeps the rest of its term.
    assert "Battery PACKREPL0002" in page and "rest of the replaced pack" in page and "01-06-2034 or 80,000 km" in page
    assert "PACKORIG0001" not in page                     # no longer fitted
    assert "Due now" in page and "02-07-2026 or 1,000 km" in page and "To come" in page
    assert "RC-STAND-1" in page and "Side-stand switch" in page
    # Past the km: the vehicle cover has ended by km, the first free service too.
    late = text(client.get(f"/warranty/check?vin={vin}&km=30001&on=01-07-2026"))
    assert "Expired by km: covered up to 30,000 km" in late and "Expired by km" in late
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO warranty.campaign_done (campaign_id, vin, model_id, mfg_month, done_on, "
                             "branch_id) VALUES (:c, :v, :m, '2026-03-01', :d, :b)"),
                     {"c": campaign_id, "v": vin, "m": sale.catalog.model_id, "d": today_ist(), "b": sale.branch_id})
    assert "RC-STAND-1" not in text(client.get(f"/warranty/check?vin={vin}"))


def test_the_check_says_what_is_wrong_with_the_question_and_answers_htmx_with_the_result_only(app, engine, make_staff):
    sale, vin = sold_vehicle(engine)
    client = as_staff(app, make_staff, sale.branch_id, "ACCOUNTS", "AC1")
    assert "A VIN is 17 letters" in text(client.get("/warranty/check?vin=MD2AOOO"))
    assert "No vehicle sold by this showroom has this VIN" in text(client.get("/warranty/check?vin=MD2A0000000000999"))
    assert "Enter the odometer in km" in text(client.get(f"/warranty/check?vin={vin}&km=१२३"))
    assert "there is no day 31-02-2026" in text(client.get(f"/warranty/check?vin={vin}&on=31-02-2026"))
    partial = client.get(f"/warranty/check?vin={vin}", headers={"HX-Request": "true", "HX-Target": "check-result"})
    assert "<html" not in partial.get_data(as_text=True) and vin in partial.get_data(as_text=True)
    assert "HX-Target" in partial.headers.get("Vary", "")


# ----------------------------------------------------------------------------- the arrival page's panel


def test_the_service_vehicle_panel_draws_the_facts_for_a_vehicle_sold_elsewhere(app, conn):
    oem_id = b.oem(conn)
    model_id = b.model(conn, oem_id)
    variant_id = b.variant(conn, model_id)
    conn.execute(sa.text("UPDATE oem.variant SET battery_warranty_km = 50000, battery_min_soh_pct = 70 "
                         "WHERE variant_id = :v"), {"v": variant_id})
    conn.execute(sa.text("INSERT INTO oem.free_service VALUES (:m, 1, 1, 1000), (:m, 2, 6, 5000), (:m, 3, 12, 10000)"),
                 {"m": model_id})
    conn.execute(sa.text("""INSERT INTO warranty.campaign (oem_id, code, title, kind, opened_on, match_by)
                            VALUES (:o, 'FW-22', 'Firmware 2.2', 'SERVICE', :d, 'VIN_LIST')"""),
                 {"o": oem_id, "d": today_ist() - timedelta(days=3)})
    conn.execute(sa.text("INSERT INTO warranty.campaign_vin SELECT campaign_id, 'MD2AELSEWHERE0001' "
                         "FROM warranty.campaign WHERE code = 'FW-22'"))
    sold = today_ist() - timedelta(days=100)
    subject = {"vin": "MD2AELSEWHERE0001", "variant_id": variant_id, "model_id": model_id, "sale_date": sold,
               "last_odometer_km": 3200, "mfg_month": date(2025, 1, 1), "used_free_services": [1],
               "pack_ids": [{"pack_id": 501, "serial": "ELSEPACK01", "fitted_on": sold, "replaced_pack_id": None,
                             "soh_pct": 68}]}
    with app.test_request_context("/service/arrival"):
        drawn = panels.draw("service_vehicle", conn, subject)
    assert [p.name for p in drawn] == ["warranty.vehicle"]
    html = re.sub(r"\s+", " ", str(drawn[0].html))
    assert "Battery ELSEPACK01" in html and "SoH 68 %" in html and "Below the floor: capacity claim" in html
    assert "FW-22" in html and "Firmware 2.2" in html
    assert re.search(r"<td>1</td>.*?Used", html) and re.search(r"<td>2</td>.*?Due now", html)
    assert "Sell an extended plan" not in html           # nobody logged in: no link to a screen they cannot open
    for unknown in (dict(subject, sale_date=None), dict(subject, variant_id=None)):
        with app.test_request_context("/service/arrival"):
            html = str(panels.draw("service_vehicle", conn, unknown)[0].html)
        assert "The sale date or the variant is not known" in html and "FW-22" in html and "Covered" not in html


# ----------------------------------------------------------------------------- extended plans


def test_a_manager_sets_a_plan_and_the_form_keeps_what_was_typed_when_refused(app, engine, make_staff):
    sale, _ = sold_vehicle(engine)
    with engine.begin() as conn:
        other_model = b.model(conn, b.oem(conn))
    client = as_staff(app, make_staff, sale.branch_id, "MANAGER", "MG1")
    token = csrf_from(client.get("/warranty/plans/new").get_data(as_text=True))
    form = {"csrf_token": token, "oem_id": sale.catalog.oem_id, "name": "Battery Shield", "model_ids": [other_model],
            "vehicle_extra_years": "0", "vehicle_extra_km": "0", "battery_extra_years": "0", "battery_extra_km": "0",
            "price": "6,999", "sac_code": "998714", "buy_within_months": "12", "valid_from": "01-04-2026",
            "is_active": "y"}
    refused = client.post("/warranty/plans/new", data=form)
    page = text(refused)
    assert refused.status_code == 422
    assert "Choose only models of the chosen OEM" in page and "A plan adds years or km" in page
    assert 'value="Battery Shield"' in page
    saved = client.post("/warranty/plans/new", data=dict(form, model_ids=[sale.catalog.model_id],
                                                          battery_extra_years="3", battery_extra_km="30000"))
    assert saved.status_code == 303
    listed = text(client.get("/warranty/plans"))
    assert "Battery Shield" in listed and "+3 yr, +30,000 km" in listed and "₹6,999.00" in listed
    with engine.connect() as conn:
        plan_id = conn.execute(sa.text("SELECT plan_id FROM warranty.plan WHERE name = 'Battery Shield'")).scalar_one()
    again = client.post("/warranty/plans/new", data=dict(form, model_ids=[], battery_extra_years="1"))
    assert again.status_code == 422 and "This OEM already has a plan of this name" in text(again)
    edit = client.post(f"/warranty/plans/{plan_id}/edit", data=dict(form, model_ids=[], battery_extra_years="4",
                                                                   valid_to="31-03-2026"))
    assert edit.status_code == 422 and "The end date is before the start date" in text(edit)
    assert client.post(f"/warranty/plans/{plan_id}/edit", data=dict(form, model_ids=[], battery_extra_years="4")
                       ).status_code == 303
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT battery_extra_years, (SELECT count(*) FROM warranty.plan_model m "
                                    "WHERE m.plan_id = p.plan_id) FROM warranty.plan p WHERE plan_id = :p"),
                            {"p": plan_id}).one() == (4, 0)


def test_a_plan_sold_for_a_vin_lengthens_its_battery_cover_and_the_window_is_held(app, engine, make_staff):
    sale, vin = sold_vehicle(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("""INSERT INTO warranty.plan (oem_id, name, battery_extra_years, price, buy_within_months,
                                                           valid_from) VALUES (:o, 'Shield', 2, 6999, 3, '2026-01-01')"""),
                     {"o": sale.catalog.oem_id})
        plan_id = conn.execute(sa.text("SELECT plan_id FROM warranty.plan WHERE name = 'Shield'")).scalar_one()
    client = as_staff(app, make_staff, sale.branch_id, "SERVICE_ADVISOR", "SA2")
    page = client.get(f"/warranty/plans/sell?vin={vin}").get_data(as_text=True)
    assert "Shield · ₹6,999" in page
    form = {"csrf_token": csrf_from(page), "vin": vin, "plan_id": plan_id, "sold_by": "ELSEWHERE",
            "sold_on": "02-09-2026", "invoice_ref": "OTHER/77", "key": str(uuid.uuid4())}
    no_ref = client.post("/warranty/plans/sell", data=dict(form, invoice_ref=""))   # bought elsewhere: its invoice
    assert no_ref.status_code == 422 and "Enter the other dealer&#39;s invoice number" in text(no_ref)
    late = client.post("/warranty/plans/sell", data=form)
    assert late.status_code == 422 and "must be bought within its months" in text(late)
    assert 'value="02-09-2026"' in late.get_data(as_text=True)
    sold = client.post("/warranty/plans/sell", data=dict(form, sold_on="01-09-2026", invoice_ref="INV-77"))
    assert sold.status_code == 303 and sold.headers["Location"].startswith("/warranty/check?vin=")
    page = text(client.get(f"/warranty/check?vin={vin}&on=01-06-2036"))
    assert "01-06-2036 or 80,000 km" in page and "extended by Shield" in page and "Shield, sold 01-09-2026" in page
    twice = client.post("/warranty/plans/sell", data=dict(form, sold_on="01-09-2026"))
    assert twice.status_code == 422 and "already has a plan lengthening the same cover" in text(twice)
    unknown = client.post("/warranty/plans/sell", data=dict(form, vin="MD2A0000000000999"))
    assert unknown.status_code == 422 and "No vehicle sold by this showroom has this VIN" in text(unknown)


# ----------------------------------------------------------------------------- campaigns


def campaign_form(client, **fields):
    token = csrf_from(client.get("/warranty/campaigns/new").get_data(as_text=True))
    return {"csrf_token": token, "code": "rc-2026-07", "title": "Brake hose inspection", "kind": "RECALL",
            "opened_on": "01-06-2026", "match_by": "VIN_LIST", **fields}


def test_a_recall_from_a_pasted_oem_list_reports_done_and_pending_per_vin(app, engine, make_staff):
    sale, vin = sold_vehicle(engine)
    client = as_staff(app, make_staff, sale.branch_id, "SERVICE_ADVISOR", "SA3")
    other = b.new_vin()
    pasted = f"Sl No\tChassis No\tModel\n1\t{vin}\tX\n2\t{other}\tX\n3\t{vin}\tX\n4\tMD2ABAD\tX\n"
    form = campaign_form(client, oem_id=sale.catalog.oem_id, vin_list=pasted)
    refused = client.post("/warranty/campaigns/new", data=form)
    assert refused.status_code == 422 and "Row 5: “MD2ABAD” is not a VIN" in text(refused)
    assert "Chassis No" in refused.get_data(as_text=True)              # the list comes back as pasted
    saved = client.post("/warranty/campaigns/new", data=dict(form, vin_list=pasted.replace("4\tMD2ABAD\tX\n", "")))
    assert saved.status_code == 303
    report_url = saved.headers["Location"]
    page = text(client.get(report_url))
    assert "0 done, 2 pending of 2" in page and vin in page and other in page
    done_form = {"csrf_token": csrf_from(client.get(report_url).get_data(as_text=True)), "vin": vin,
                 "done_on": ddmmyyyy(today_ist()), "job_ref": "JC-12"}
    assert client.post(f"{report_url}/done", data=done_form).status_code == 303
    page = text(client.get(report_url))
    assert "1 done, 1 pending of 2" in page and "JC-12" in page
    pending = text(client.get(f"{report_url}?state=pending", headers={"HX-Request": "true",
                                                                        "HX-Target": "campaign-vins"}))
    assert other in pending and vin not in pending and "<html" not in pending
    again = client.post(f"{report_url}/done", data=done_form)
    assert again.status_code == 422 and "already done on this vehicle" in text(again)
    stranger = client.post(f"{report_url}/done", data=dict(done_form, vin=b.new_vin()))
    assert stranger.status_code == 422 and "does not cover this vehicle" in text(stranger)
    assert client.post("/warranty/campaigns/new", data=dict(form, vin_list=vin)).status_code == 422   # code taken
    closed = client.post(f"{report_url}/close", data={"csrf_token": done_form["csrf_token"],
                                                      "closed_on": "31-05-2026"})
    assert closed.status_code == 422 and "Before the campaign opened" in text(closed)
    assert client.post(f"{report_url}/close", data={"csrf_token": done_form["csrf_token"],
                                                    "closed_on": "01-06-2026"}).status_code == 303
    assert "Mark done" not in text(client.get(report_url))


def test_a_recall_list_can_be_uploaded_as_the_oem_file(app, engine, make_staff):
    sale, vin = sold_vehicle(engine)
    client = as_staff(app, make_staff, sale.branch_id, "MANAGER", "MG2")
    csv = f"VIN,Dealer\n{vin},X\n{b.new_vin()},X\n".encode()
    form = campaign_form(client, oem_id=sale.catalog.oem_id, code="RC-UP-1",
                         upload=(io.BytesIO(csv), "recall.csv"))
    saved = client.post("/warranty/campaigns/new", data=form, content_type="multipart/form-data")
    assert saved.status_code == 303
    assert "0 done, 2 pending of 2" in text(client.get(saved.headers["Location"]))
    bad = campaign_form(client, oem_id=sale.catalog.oem_id, code="RC-UP-2", upload=(io.BytesIO(b"x"), "recall.pdf"))
    refused = client.post("/warranty/campaigns/new", data=bad, content_type="multipart/form-data")
    assert refused.status_code == 422 and "Upload the dispatch list as a .csv or .xlsx file" in text(refused)


def test_a_month_range_campaign_lists_the_units_sold_here_made_in_the_months(app, engine, make_staff):
    sale, vin = sold_vehicle(engine, mfg_month="2026-03-01")
    client = as_staff(app, make_staff, sale.branch_id, "SERVICE_ADVISOR", "SA4")
    form = campaign_form(client, oem_id=sale.catalog.oem_id, code="SC-FW-3", kind="SERVICE", match_by="MFG_RANGE",
                         model_id=sale.catalog.model_id, mfg_from="Jan-2026", mfg_to="02-2026")
    assert client.post("/warranty/campaigns/new", data=dict(form, mfg_to="13-2026")).status_code == 422
    refused = client.post("/warranty/campaigns/new", data=dict(form, mfg_from="03-2026"))
    assert refused.status_code == 422 and "Before the first month" in text(refused)
    saved = client.post("/warranty/campaigns/new", data=form)
    assert saved.status_code == 303
    assert "of 0" in text(client.get(saved.headers["Location"]))            # made in March: not in Jan-Feb
    saved = client.post("/warranty/campaigns/new", data=dict(form, code="SC-FW-4", mfg_to="2026-03"))
    page = text(client.get(saved.headers["Location"]))
    assert "0 done, 1 pending of 1" in page and vin in page and "02-06-2026" in page
    listed = text(client.get("/warranty/campaigns"))
    assert "SC-FW-4" in listed and "made 01-2026 to 03-2026" in listed


@pytest.mark.parametrize("role", ["TECHNICIAN", "SALES"])
def test_the_shop_floor_and_sales_do_not_open_warranty_screens(app, engine, make_staff, role):
    sale, vin = sold_vehicle(engine)
    client = as_staff(app, make_staff, sale.branch_id, role, "X" + role[:3])
    assert client.get(f"/warranty/check?vin={vin}").status_code == 403
    assert "Warranty check" not in text(client.get("/"))


def test_a_manager_gives_one_oem_fresh_terms_for_replacement_packs_from_a_day(app, engine, make_staff):
    sale, vin = sold_vehicle(engine)
    client = as_staff(app, make_staff, sale.branch_id, "MANAGER", "MG3")
    page = client.get("/warranty/pack-rules").get_data(as_text=True)
    assert "No rule recorded: a replacement pack takes the rest of the replaced pack" in page
    form = {"csrf_token": csrf_from(page), "oem_id": "0", "pack_term": "FRESH", "effective_from": "01-08-2026"}
    assert client.post("/warranty/pack-rules", data=dict(form, pack_term="REMAINING", effective_from="01-01-2020")
                       ).status_code == 303
    assert "Every OEM" in text(client.get("/warranty/pack-rules"))
    clash = client.post("/warranty/pack-rules", data=form)
    assert clash.status_code == 422 and "These dates overlap the rule in force" in text(clash)
    assert client.post("/warranty/pack-rules", data=dict(form, oem_id=sale.catalog.oem_id)).status_code == 303
    # The pack fitted on 01-09-2026 now starts a term of its own: 8 years from its fitment.
    page = text(client.get(f"/warranty/check?vin={vin}"))
    assert "a fresh term from fitment, from 01-09-2026" in page and "31-08-2034" in page
    with engine.connect() as conn:
        rule_id = conn.execute(sa.text("SELECT rule_id FROM warranty.replacement_rule WHERE oem_id = :o"),
                               {"o": sale.catalog.oem_id}).scalar_one()
    edit = client.post(f"/warranty/pack-rules/{rule_id}/edit",
                       data=dict(form, oem_id=sale.catalog.oem_id, effective_to="31-07-2026"))
    assert edit.status_code == 422 and "The end date is before the start date" in text(edit)
    assert client.post(f"/warranty/pack-rules/{rule_id}/edit", data=dict(
        form, oem_id=sale.catalog.oem_id, effective_from="01-10-2026")).status_code == 303
    assert "rest of the replaced pack" in text(client.get(f"/warranty/check?vin={vin}"))


# The warranty check of a sold vehicle: the session and wait limits, the unit with its sale, its packs, the
# vehicle and battery cover, the free services, the plans sold, the open campaigns and the COMMIT (the
# statement budgets of tests/test_statement_budgets.py open the screen without a VIN). 10 measured; budget + 1.
CHECK_WITH_VIN_BUDGET = 11


@pytest.mark.commits
def test_the_check_of_a_sold_vehicle_stays_within_its_statement_budget(app, engine, make_staff):
    from budgets import StatementCounter, over_budget

    sale, vin = sold_vehicle(engine)
    client = as_staff(app, make_staff, sale.branch_id, "SERVICE_ADVISOR", "SA9")
    client.get(f"/warranty/check?vin={vin}")   # the session row's once-a-minute write is done with
    counter = StatementCounter(app.extensions["erp_db"].engine)
    try:
        with counter.measure() as statements:
            assert client.get(f"/warranty/check?vin={vin}&km=1200").status_code == 200
    finally:
        counter.close()
    assert over_budget({"warranty.check with a VIN": list(statements)},
                       {"warranty.check with a VIN": CHECK_WITH_VIN_BUDGET}) == []
