"""The catalog screens: OEMs, models and variants, dated price lists and the subsidy they give,
the tax master, OEM schemes, customers, financiers and insurers, spare parts and labour.

Every test drives the real app against the real test database through the Flask client, the
way a person at the counter would: open the page, take its CSRF token, submit, read the page.
"""
from __future__ import annotations

import html
import re
from datetime import date, timedelta
from decimal import Decimal as D

import builders as b
import pytest
import sqlalchemy as sa
from conftest import gstin, login
from test_screens import input_value, post_form, selected_option, text

from webapp.formatting import today_ist

TODAY = today_ist()
YESTERDAY = TODAY - timedelta(days=1)


def iso(d: date) -> str:
    return d.isoformat()


def scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def rows(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).mappings().all()


def field_errors(page: str, name: str) -> list[str]:
    """The errors the form macro draws under a field (tick boxes included)."""
    block = re.search(rf'<div id="{name}-help">(.*?)</div>', page, re.DOTALL)
    assert block, f"no field {name} on the page"
    return [html.unescape(e) for e in re.findall(r'<p class="error">(.*?)</p>', block.group(1), re.DOTALL)]


def rows_only(target: str) -> dict:
    return {"HX-Request": "true", "HX-Target": target}


def row_texts(page: str) -> list[str]:
    """The body rows of the first list table, as text without tags."""
    body = re.search(r"<tbody>(.*?)</tbody>", page, re.DOTALL).group(1)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", r)).strip() for r in re.findall(r"<tr.*?</tr>", body, re.DOTALL)]


@pytest.fixture
def another(app, make_staff):
    """A second browser at the showroom, logged in as the given role: another('SALES') -> client."""
    count = iter(range(1, 100))

    def as_role(role: str):
        _, code, pin = make_staff(f"X{role[:3]}{next(count)}", role)
        client = app.test_client()
        assert login(client, code, pin).status_code == 303
        return client

    return as_role


@pytest.fixture
def catalog(engine, app):
    """An OEM with a model and a 3.5 kWh variant in Red and Blue; committed, emptied after the test."""
    with engine.begin() as conn:
        oem_id = b.oem(conn, state="29", brand="Volt Scooters")
        model_id = b.model(conn, oem_id, name="Zip")
        variant_id = b.variant(conn, model_id, battery_kwh="3.50", name="Pro")
        for c in ("Red", "Blue"):
            b.colour(conn, variant_id, c)
    return {"oem_id": oem_id, "model_id": model_id, "variant_id": variant_id}


OEM = {"brand": "Ather Energy", "legal_name": "Ather Energy Limited", "dealer_code": "KA-BLR-0042",
       "gstin": gstin("29AAHCA1234K1Z"), "address": "3rd Floor, Tower D, IBC Knowledge Park, Bengaluru",
       "contact_name": "Regional Sales", "contact_phone": "080-46605000", "contact_email": "dealers@ather.example",
       "is_active": "y"}


# ----------------------------------------------------------------------------- OEMs


def test_a_manager_adds_an_oem_and_its_state_comes_from_the_supplier_gstin(logged_in, engine):
    client, _ = logged_in("MANAGER")
    response = post_form(client, "/oem/new", {**OEM, "gstin": gstin("27AAHCA1234K1Z")})
    assert response.status_code == 303, text(response)
    oem = rows(engine, "SELECT * FROM oem.oem")[0]
    assert response.headers["Location"] == f"/oem/{oem['oem_id']}"
    assert (oem["brand"], oem["state_code"], oem["dealer_code"]) == ("Ather Energy", "27", "KA-BLR-0042")
    page = text(client.get(response.headers["Location"]))
    assert "Ather Energy added" in page and "Maharashtra (27)" in page
    assert "Maharashtra (27)" in text(client.get("/oem/"))

    edit = post_form(client, f"/oem/{oem['oem_id']}/edit", {**OEM, "gstin": oem["gstin"], "dealer_code": "MH-01"})
    assert edit.status_code == 303
    assert scalar(engine, "SELECT dealer_code FROM oem.oem") == "MH-01"


def test_an_oem_gstin_with_a_wrong_check_character_keeps_what_was_typed(logged_in, engine):
    client, _ = logged_in("ADMIN")
    wrong = OEM["gstin"][:14] + ("A" if OEM["gstin"][14] != "A" else "B")
    response = post_form(client, "/oem/new", {**OEM, "gstin": wrong})
    assert response.status_code == 422
    page = text(response)
    assert "Not a valid GSTIN" in field_errors(page, "gstin")[0]
    assert field_errors(page, "brand") == []
    assert input_value(page, "brand") == "Ather Energy" and input_value(page, "gstin") == wrong
    assert input_value(page, "dealer_code") == "KA-BLR-0042"
    assert "State:" not in page
    assert scalar(engine, "SELECT count(*) FROM oem.oem") == 0
    # With a good GSTIN but another mistake, the form already names the state the GSTIN is from.
    page = text(post_form(client, "/oem/new", {**OEM, "contact_email": "not-an-email"}))
    assert "State: Karnataka (29), from the GSTIN" in page


def test_a_second_oem_with_the_same_gstin_is_refused_at_the_gstin(logged_in, engine):
    client, _ = logged_in("ADMIN")
    assert post_form(client, "/oem/new", OEM).status_code == 303
    response = post_form(client, "/oem/new", {**OEM, "brand": "Ather Again"})
    assert response.status_code == 422
    assert field_errors(text(response), "gstin") == ["Another OEM already has this GSTIN"]
    assert input_value(text(response), "brand") == "Ather Again"
    assert scalar(engine, "SELECT count(*) FROM oem.oem") == 1


# ----------------------------------------------------------------------------- models


def model_data(**overrides) -> dict:
    data = {"name": "Rizta", "segment": "E2W", "is_active": "y",
            "schedule-0-due_months": "1", "schedule-0-due_km": "1000",
            "schedule-1-due_months": "", "schedule-1-due_km": "",
            "schedule-2-due_months": "6", "schedule-2-due_km": "5000",
            "schedule-3-due_months": "12", "schedule-3-due_km": "10000"}
    data.update(overrides)
    return data


def test_a_model_is_saved_with_its_free_service_schedule_and_blank_lines_are_dropped(logged_in, engine, catalog):
    client, _ = logged_in("MANAGER")
    oem_id = catalog["oem_id"]
    form = text(client.get(f"/oem/{oem_id}/models/new"))
    assert "1st" in form and "2nd" in form and 'name="schedule-1-due_km"' in form  # two empty lines to fill

    response = post_form(client, f"/oem/{oem_id}/models/new", model_data())
    assert response.status_code == 303, text(response)
    model_id = scalar(engine, "SELECT model_id FROM oem.model WHERE name = 'Rizta'")
    schedule = rows(engine, "SELECT service_no, due_months, due_km FROM oem.free_service WHERE model_id = :m "
                            "ORDER BY service_no", m=model_id)
    assert [tuple(r.values()) for r in schedule] == [(1, 1, 1000), (2, 6, 5000), (3, 12, 10000)]
    page = text(client.get(response.headers["Location"]))
    assert "3rd" in page and "12 months or 10,000 km" in page

    # Clearing the 2nd line drops it; the 3rd becomes the 2nd.
    edit = post_form(client, f"/oem/models/{model_id}/edit",
                     model_data(**{"schedule-2-due_months": "", "schedule-2-due_km": ""}))
    assert edit.status_code == 303
    assert scalar(engine, "SELECT array_agg(due_km ORDER BY service_no) FROM oem.free_service "
                          "WHERE model_id = :m", m=model_id) == [1000, 10000]


def test_a_half_filled_schedule_line_is_refused_and_the_schedule_kept(logged_in, engine, catalog):
    client, _ = logged_in("MANAGER")
    response = post_form(client, f"/oem/{catalog['oem_id']}/models/new",
                         model_data(**{"schedule-2-due_km": ""}))
    assert response.status_code == 422
    page = text(response)
    assert "Give both the months and the km" in page and "Correct the free-service schedule" in page
    assert input_value(page, "schedule-2-due_months") == "6"
    assert input_value(page, "schedule-3-due_km") == "10000"
    assert input_value(page, "name") == "Rizta"
    assert scalar(engine, "SELECT count(*) FROM oem.model WHERE name = 'Rizta'") == 0


def test_more_lines_adds_empty_schedule_lines_without_saving(logged_in, engine, catalog):
    client, _ = logged_in("MANAGER")
    response = post_form(client, f"/oem/{catalog['oem_id']}/models/new", {**model_data(), "more_rows": "1"})
    assert response.status_code == 200
    page = text(response)
    assert 'name="schedule-5-due_km"' in page and input_value(page, "schedule-3-due_km") == "10000"
    assert scalar(engine, "SELECT count(*) FROM oem.model WHERE name = 'Rizta'") == 0


def test_only_the_low_speed_segment_may_skip_rto_registration(logged_in, engine, catalog):
    client, _ = logged_in("MANAGER")
    url = f"/oem/{catalog['oem_id']}/models/new"
    response = post_form(client, url, model_data(is_low_speed="y"))
    assert response.status_code == 422
    assert "Only the low-speed e-2W segment skips registration" in field_errors(text(response), "is_low_speed")[0]
    assert selected_option(text(response), "segment") == "E2W"

    response = post_form(client, url, model_data(segment="E2W_LOW_SPEED"))
    assert response.status_code == 422
    assert "tick this to skip the RTO steps" in field_errors(text(response), "is_low_speed")[0]

    assert post_form(client, url, model_data(segment="E2W_LOW_SPEED", is_low_speed="y")).status_code == 303
    assert scalar(engine, "SELECT is_low_speed FROM oem.model WHERE name = 'Rizta'") is True
    assert "Low-speed: no RTO" in text(client.get("/oem/models"))


def test_a_duplicate_model_name_of_the_same_oem_is_refused_at_the_name(logged_in, catalog):
    client, _ = logged_in("ADMIN")
    response = post_form(client, f"/oem/{catalog['oem_id']}/models/new", model_data(name="Zip"))
    assert response.status_code == 422
    assert field_errors(text(response), "name") == ["This OEM already has a model of this name"]


# ----------------------------------------------------------------------------- variants and colours

VARIANT = {"name": "S 2.9 kWh", "hsn_code": "871160", "battery_chemistry": "NMC", "battery_kwh": "2.9",
           "certified_range_km": "123", "motor_power_kw": "4.3", "top_speed_kmph": "80",
           "charger_type": "750 W portable", "vehicle_warranty_years": "3", "vehicle_warranty_km": "30000",
           "battery_warranty_years": "5", "battery_warranty_km": "60000", "battery_min_soh_pct": "70",
           "is_active": "y"}


def test_a_variant_is_added_with_its_specs_and_listed_on_its_model_page(logged_in, engine, catalog):
    client, _ = logged_in("MANAGER")
    form = text(client.get(f"/oem/models/{catalog['model_id']}/variants/new"))
    assert selected_option(form, "hsn_code") == "871160"  # from the segment
    assert "GST 5% today" in form  # the tax master's rate in force, beside the code

    response = post_form(client, f"/oem/models/{catalog['model_id']}/variants/new", VARIANT)
    assert response.status_code == 303, text(response)
    variant = rows(engine, "SELECT * FROM oem.variant WHERE name = 'S 2.9 kWh'")[0]
    assert str(variant["battery_kwh"]) == "2.90" and variant["battery_min_soh_pct"] == 70
    page = text(client.get(response.headers["Location"]))
    assert "2.9 kWh NMC" in page and "30,000 km" in page and "SoH at least 70%" in page
    model_page = text(client.get(f"/oem/models/{catalog['model_id']}"))
    assert "S 2.9 kWh" in model_page and "No price today" in model_page


def test_a_variant_is_edited_and_stops_being_sold(logged_in, engine, catalog):
    client, _ = logged_in("ADMIN")
    v = catalog["variant_id"]
    form = text(client.get(f"/oem/variants/{v}/edit"))
    assert input_value(form, "name") == "Pro" and input_value(form, "battery_kwh") == "3.50"
    response = post_form(client, f"/oem/variants/{v}/edit", {**VARIANT, "name": "Pro", "is_active": ""})
    assert response.status_code == 303
    assert rows(engine, "SELECT name, battery_kwh, is_active FROM oem.variant")[0] == {
        "name": "Pro", "battery_kwh": D("2.90"), "is_active": False}
    assert "Inactive" in text(client.get(f"/oem/models/{catalog['model_id']}"))


def test_a_low_speed_variant_cannot_be_faster_than_25_kmph(logged_in, engine):
    with engine.begin() as conn:
        model_id = b.model(conn, b.oem(conn), segment="E2W_LOW_SPEED", name="Glide")
    client, _ = logged_in("MANAGER")
    response = post_form(client, f"/oem/models/{model_id}/variants/new", {**VARIANT, "top_speed_kmph": "45"})
    assert response.status_code == 422
    assert "below 25 km/h" in field_errors(text(response), "top_speed_kmph")[0]
    assert input_value(text(response), "battery_kwh") == "2.9"
    assert post_form(client, f"/oem/models/{model_id}/variants/new",
                     {**VARIANT, "top_speed_kmph": "25", "motor_power_kw": "0.25"}).status_code == 422
    assert post_form(client, f"/oem/models/{model_id}/variants/new",
                     {**VARIANT, "top_speed_kmph": "24", "motor_power_kw": "0.24"}).status_code == 303


def test_colours_are_added_and_a_colour_no_longer_offered_is_kept_but_marked(logged_in, engine, catalog):
    client, _ = logged_in("MANAGER")
    v = catalog["variant_id"]
    added = post_form(client, f"/oem/variants/{v}", {"colour": "  Stealth Black ", "colour_code": "sb1"},
                      action=f"/oem/variants/{v}/colours")
    assert added.status_code == 303
    assert rows(engine, "SELECT colour, colour_code FROM oem.variant_colour WHERE variant_id = :v "
                        "AND colour LIKE 'Stealth%'", v=v)[0] == {"colour": "Stealth Black", "colour_code": "SB1"}

    again = post_form(client, f"/oem/variants/{v}", {"colour": "Red"}, action=f"/oem/variants/{v}/colours")
    assert again.status_code == 422
    page = text(again)
    assert field_errors(page, "colour") == ["This variant already has this colour"]
    assert "Price today" in page  # the variant page itself, drawn again with the error

    off = post_form(client, f"/oem/variants/{v}", {"colour": "Red", "active": "0"},
                    action=f"/oem/variants/{v}/colours/active")
    assert off.status_code == 303
    assert scalar(engine, "SELECT is_active FROM oem.variant_colour WHERE variant_id = :v AND colour = 'Red'",
                  v=v) is False
    page = text(client.get(f"/oem/variants/{v}"))
    assert "No longer offered" in page and "Offer again" in page
    assert post_form(client, f"/oem/variants/{v}", {"colour": "Mauve", "active": "0"},
                     action=f"/oem/variants/{v}/colours/active").status_code == 404


# ----------------------------------------------------------------------------- price lists


def price_data(**overrides) -> dict:
    data = {"colour": "", "ex_showroom": "1,20,000", "ex_factory": "80000", "subsidy_rule": "PER_KWH",
            "subsidy_amount": "", "subsidy_per_kwh": "5000", "subsidy_cap": "15000", "subsidy_cap_pct": "15",
            "effective_from": iso(TODAY - timedelta(days=30)), "effective_to": ""}
    data.update(overrides)
    return data


def test_the_variant_page_shows_todays_price_and_the_subsidy_it_gives(logged_in, engine, catalog):
    client, _ = logged_in("MANAGER")
    v = catalog["variant_id"]
    response = post_form(client, f"/oem/variants/{v}/prices/new", price_data())
    assert response.status_code == 303, text(response)
    saved = rows(engine, "SELECT * FROM oem.price_list")[0]
    assert str(saved["ex_showroom"]) == "120000.00" and saved["colour"] is None  # typed with lakh commas
    page = text(client.get(f"/oem/variants/{v}"))
    today = page.split('id="today"')[1].split("</section>")[0]
    # 3.5 kWh x 5,000 = 17,500, capped at 15,000, and at 15% of the 80,000 ex-factory price: 12,000.
    assert today.count("₹1,20,000.00") == 2  # Blue and Red, both from the every-colour row
    assert today.count("₹12,000.00") == 2
    assert "In force today" in page


def test_a_colours_own_price_beats_the_every_colour_price(logged_in, engine, catalog):
    v = catalog["variant_id"]
    with engine.begin() as conn:
        b.price(conn, v, YESTERDAY, ex_showroom="120000.00")
        b.price(conn, v, YESTERDAY, colour="Red", ex_showroom="123500.00")
    client, _ = logged_in("SALES")
    today = text(client.get(f"/oem/variants/{v}")).split('id="today"')[1].split("</section>")[0]
    assert [r.split(" ")[0] for r in row_texts(today)] == ["Blue", "Red"]
    blue, red = row_texts(today)
    assert "₹1,20,000.00" in blue and "₹1,23,500.00" in red


def test_an_overlapping_price_period_is_refused_next_to_the_dates_with_what_was_typed(logged_in, engine, catalog):
    v = catalog["variant_id"]
    start = date(2026, 1, 1)
    with engine.begin() as conn:
        b.price(conn, v, start, ex_showroom="115000.00")
    client, _ = logged_in("MANAGER")
    typed = price_data(ex_showroom="1,19,999", effective_from="2026-04-01")
    response = post_form(client, f"/oem/variants/{v}/prices/new", typed)
    assert response.status_code == 422
    page = text(response)
    errors = field_errors(page, "effective_from")
    assert len(errors) == 1
    assert "overlap the every-colour price in force ₹1,15,000.00 from 01-01-2026 until further notice" in errors[0]
    for name in ("ex_showroom", "ex_factory", "subsidy_per_kwh", "subsidy_cap", "effective_from"):
        assert input_value(page, name) == typed[name], name
    assert selected_option(page, "subsidy_rule") == "PER_KWH"
    assert field_errors(page, "ex_showroom") == []
    assert scalar(engine, "SELECT count(*) FROM oem.price_list") == 1

    # A colour's own price is a separate series: no clash with the every-colour row.
    assert post_form(client, f"/oem/variants/{v}/prices/new",
                     {**typed, "colour": "Red"}).status_code == 303

    # End the old price the day before, then the new one goes in.
    old_id = scalar(engine, "SELECT price_id FROM oem.price_list WHERE colour IS NULL")
    ended = post_form(client, f"/oem/prices/{old_id}/edit",
                      price_data(ex_showroom="115000", subsidy_rule="NONE", subsidy_per_kwh="", subsidy_cap="",
                                 subsidy_cap_pct="", ex_factory="", effective_from="2026-01-01",
                                 effective_to="2026-03-31"))
    assert ended.status_code == 303, text(ended)
    assert post_form(client, f"/oem/variants/{v}/prices/new", typed).status_code == 303
    assert scalar(engine, "SELECT count(*) FROM oem.price_list WHERE colour IS NULL") == 2


def test_the_price_on_a_date_look_up_answers_with_the_row_then_in_force(logged_in, engine, catalog):
    v = catalog["variant_id"]
    with engine.begin() as conn:
        b.price(conn, v, "2026-01-01", "2026-03-31", ex_showroom="115000.00")
        b.price(conn, v, "2026-04-01", ex_showroom="119999.00", subsidy_rule="FIXED", subsidy_amount=D(5000))
    client, _ = logged_in("SERVICE_ADVISOR")
    answer = client.get(f"/oem/variants/{v}?on=2026-02-15&colour=", headers=rows_only("price-on-answer"))
    fragment = text(answer)
    assert answer.status_code == 200 and "<html" not in fragment
    assert fragment.lstrip().startswith('<div id="price-on-answer"')
    assert "₹1,15,000.00" in fragment and "15-02-2026" in fragment and "01-01-2026 – 31-03-2026" in fragment
    assert {"hx-target", "hx-request"} <= {v.strip().lower() for v in answer.headers["Vary"].split(",")}

    fragment = text(client.get(f"/oem/variants/{v}?on=2026-04-01&colour=Red", headers=rows_only("price-on-answer")))
    assert "₹1,19,999.00" in fragment and "₹5,000.00" in fragment  # the fixed subsidy
    fragment = text(client.get(f"/oem/variants/{v}?on=2025-12-31", headers=rows_only("price-on-answer")))
    assert "No price in force on 31-12-2025" in fragment
    # Without JavaScript the same URL gives the whole page with the answer in it.
    whole = text(client.get(f"/oem/variants/{v}?on=2026-02-15"))
    assert "<html" in whole and "₹1,15,000.00" in whole.split('id="price-on"')[1]


def test_a_subsidy_rule_without_its_amounts_is_refused_at_the_missing_amount(logged_in, engine, catalog):
    client, _ = logged_in("MANAGER")
    v = catalog["variant_id"]
    response = post_form(client, f"/oem/variants/{v}/prices/new", price_data(subsidy_cap=""))
    assert response.status_code == 422
    assert field_errors(text(response), "subsidy_cap") == ["Needed for the rule “Per kWh of battery, with a cap”"]
    response = post_form(client, f"/oem/variants/{v}/prices/new", price_data(ex_factory=""))
    assert field_errors(text(response), "ex_factory") == [
        "Give the ex-factory price: the subsidy is capped at a % of it"]
    response = post_form(client, f"/oem/variants/{v}/prices/new",
                         price_data(effective_to=iso(TODAY - timedelta(days=60))))
    assert field_errors(text(response), "effective_to") == ["The end date is before the start date"]
    assert scalar(engine, "SELECT count(*) FROM oem.price_list") == 0


def test_sales_see_prices_but_cannot_change_them(logged_in, engine, catalog):
    v = catalog["variant_id"]
    with engine.begin() as conn:
        price_id = b.price(conn, v, YESTERDAY, ex_showroom="120000.00")
    client, _ = logged_in("SALES")
    page = text(client.get(f"/oem/variants/{v}"))
    assert "₹1,20,000.00" in page
    assert f"/oem/variants/{v}/prices/new" not in page and f"/oem/prices/{price_id}/edit" not in page
    assert "Add colour" not in page
    assert client.get(f"/oem/variants/{v}/prices/new").status_code == 403
    assert post_form(client, f"/oem/variants/{v}", price_data(),
                     action=f"/oem/variants/{v}/prices/new").status_code == 403
    assert post_form(client, f"/oem/variants/{v}", price_data(ex_showroom="1"),
                     action=f"/oem/prices/{price_id}/edit").status_code == 403
    assert scalar(engine, "SELECT ex_showroom FROM oem.price_list") == D("120000.00")
    assert scalar(engine, "SELECT count(*) FROM oem.price_list") == 1


# ----------------------------------------------------------------------------- tax master


def test_the_tax_master_shows_the_rate_in_force_today(logged_in):
    client, _ = logged_in("TECHNICIAN")
    page = text(client.get("/master/hsn"))
    parts = next(r for r in row_texts(page) if r.startswith("8714 "))
    assert "18%" in parts and "28%" not in parts  # 28% ended on 21-09-2025
    detail = text(client.get("/master/hsn/8714"))
    assert "GST 18% today" in detail and "22-09-2025 – until further notice" in detail
    assert "01-07-2017 – 21-09-2025" in detail
    assert "Add a rate" not in detail
    assert client.get("/master/hsn/8714/rates/new").status_code == 403
    assert client.get("/master/hsn/1234").status_code == 404


def test_accounts_add_a_gst_rate_and_an_overlapping_one_is_refused_at_its_dates(logged_in, engine):
    client, _ = logged_in("ACCOUNTS")
    response = post_form(client, "/master/hsn/8714/rates/new",
                         {"gst_rate": "12", "effective_from": "2027-04-01", "effective_to": "",
                          "notification": "Notification 9/2027"})
    assert response.status_code == 422
    page = text(response)
    assert field_errors(page, "effective_from") == [(
        "These dates overlap the GST rate in force 18% from 22-09-2025 until further notice. End that one first "
        "(edit its ‘until’ date) or choose other dates.")]
    assert selected_option(page, "gst_rate") == "12" and input_value(page, "notification") == "Notification 9/2027"

    current = scalar(engine, "SELECT hsn_rate_id FROM master.hsn_rate WHERE hsn_code = '8714' "
                             "AND effective_to IS NULL")
    assert post_form(client, f"/master/hsn/rates/{current}/edit",
                     {"gst_rate": "18", "effective_from": "2025-09-22", "effective_to": "2027-03-31",
                      "notification": "rate cut from 22-09-2025"}).status_code == 303
    assert post_form(client, "/master/hsn/8714/rates/new",
                     {"gst_rate": "12", "effective_from": "2027-04-01", "effective_to": ""}).status_code == 303
    assert scalar(engine, "SELECT master.gst_rate_on('8714', '2027-04-01')") == D(12)
    assert scalar(engine, "SELECT master.gst_rate_on('8714', '2027-03-31')") == D(18)


def test_a_new_hsn_code_is_added_then_given_its_rate_and_a_known_code_is_refused(logged_in, engine):
    client, _ = logged_in("ADMIN")
    response = post_form(client, "/master/hsn/new", {"hsn_code": "8711 6010", "description": "E-cycles (pedelec)"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/master/hsn/87116010/rates/new"  # spaces typed are dropped
    assert "No rate today" in text(client.get("/master/hsn"))
    assert post_form(client, response.headers["Location"],
                     {"gst_rate": "5", "effective_from": "2019-08-01"}).status_code == 303
    assert "GST 5% today" in text(client.get("/master/hsn/87116010"))

    again = post_form(client, "/master/hsn/new", {"hsn_code": "850760", "description": "Batteries again"})
    assert again.status_code == 422
    assert field_errors(text(again), "hsn_code") == ["This code is already in the tax master"]
    assert input_value(text(again), "description") == "Batteries again"


# ----------------------------------------------------------------------------- schemes


def test_a_scheme_for_one_variant_shows_on_its_page_and_in_the_list_of_current_schemes(logged_in, engine, catalog):
    client, _ = logged_in("MANAGER")
    data = {"oem_id": str(catalog["oem_id"]), "name": "Diwali bonanza", "kind": "CUSTOMER_DISCOUNT",
            "variant_id": str(catalog["variant_id"]), "amount": "5,000", "valid_from": iso(YESTERDAY),
            "valid_to": iso(TODAY + timedelta(days=10))}
    response = post_form(client, "/oem/schemes/new", data)
    assert response.status_code == 303, text(response)
    assert "Diwali bonanza" in text(client.get("/oem/schemes"))
    assert "Diwali bonanza (customer discount ₹5,000.00)" in text(client.get(f"/oem/variants/{catalog['variant_id']}"))
    rows_ = text(client.get("/oem/schemes?when=past", headers=rows_only("scheme-results")))
    assert "Diwali bonanza" not in rows_ and "<html" not in rows_


def test_an_oem_wide_scheme_is_edited_and_its_dates_checked(logged_in, engine, catalog):
    start = TODAY + timedelta(days=7)
    with engine.begin() as conn:
        scheme_id = conn.execute(sa.text(
            """INSERT INTO oem.scheme (oem_id, name, kind, amount, valid_from, valid_to)
               VALUES (:o, 'Year-end', 'DEALER_INCENTIVE', 1500, :start, :end)
               RETURNING scheme_id"""),
            {"o": catalog["oem_id"], "start": start, "end": start + timedelta(days=30)}).scalar()
    client, _ = logged_in("MANAGER")
    form = text(client.get(f"/oem/schemes/{scheme_id}/edit"))
    assert selected_option(form, "variant_id") == "" and input_value(form, "amount") == "1500.00"
    data = {"oem_id": str(catalog["oem_id"]), "name": "Year-end", "kind": "DEALER_INCENTIVE", "variant_id": "",
            "amount": "2000", "valid_from": iso(start), "valid_to": iso(start - timedelta(days=1))}
    response = post_form(client, f"/oem/schemes/{scheme_id}/edit", data)
    assert response.status_code == 422
    assert field_errors(text(response), "valid_to") == ["The end date is before the start date"]
    assert post_form(client, f"/oem/schemes/{scheme_id}/edit", {**data, "valid_to": iso(start + timedelta(days=45))}).status_code == 303
    assert scalar(engine, "SELECT amount FROM oem.scheme") == D(2000)
    assert "Every variant" in text(client.get("/oem/schemes?when=coming"))


def test_a_scheme_on_a_variant_of_another_oem_is_refused_at_the_variant(logged_in, engine, catalog):
    with engine.begin() as conn:
        other = b.oem(conn, brand="Other Motors")
    client, _ = logged_in("MANAGER")
    response = post_form(client, "/oem/schemes/new",
                         {"oem_id": str(other), "name": "Wrong one", "kind": "DEALER_INCENTIVE",
                          "variant_id": str(catalog["variant_id"]), "amount": "1000", "valid_from": iso(TODAY),
                          "valid_to": iso(TODAY)})
    assert response.status_code == 422
    assert field_errors(text(response), "variant_id") == ["This variant is not made by the chosen OEM"]
    assert selected_option(text(response), "oem_id") == str(other)


# ----------------------------------------------------------------------------- customers

CUSTOMER = {"kind": "INDIVIDUAL", "name": "Lakshmi Narayan", "mobile": "+91 98450 12345",
            "email": "lakshmi@example.in", "address_line1": "14, 5th Cross, Malleshwaram", "address_line2": "",
            "city": "Bengaluru", "state_code": "29", "pincode": "560003", "gstin": "", "pan": "",
            "date_of_birth": "1984-06-02", "aadhaar_last4": "4321"}


def test_a_salesman_adds_a_customer_whose_mobile_is_kept_as_ten_digits_at_his_branch(logged_in, engine):
    client, staff_id = logged_in("SALES")
    form = text(client.get("/master/customers/new"))
    assert selected_option(form, "state_code") == "29"  # the branch's state
    response = post_form(client, "/master/customers/new", CUSTOMER)
    assert response.status_code == 303, text(response)
    customer = rows(engine, "SELECT * FROM master.customer")[0]
    assert customer["mobile"] == "9845012345" and customer["aadhaar_last4"] == "4321"
    assert customer["branch_id"] == scalar(engine, "SELECT branch_id FROM master.staff WHERE staff_id = :s",
                                           s=staff_id)
    page = text(client.get(response.headers["Location"]))
    assert "XXXX XXXX 4321" in page and "Karnataka (29)" in page and "02-06-1984" in page


def test_a_customer_corrected_at_another_branch_stays_with_the_branch_that_added_them(logged_in, engine,
                                                                                      make_branch):
    home = make_branch()
    with engine.begin() as conn:
        customer_id = conn.execute(sa.text(
            """INSERT INTO master.customer (branch_id, name, mobile, state_code, aadhaar_last4)
               VALUES (:b, 'Lakshmi N', '9845012345', '29', '4321') RETURNING customer_id"""), {"b": home}).scalar()
    client, _ = logged_in("SERVICE_ADVISOR")
    form = text(client.get(f"/master/customers/{customer_id}/edit"))
    assert input_value(form, "name") == "Lakshmi N" and input_value(form, "aadhaar_last4") == "4321"
    response = post_form(client, f"/master/customers/{customer_id}/edit",
                         {**CUSTOMER, "name": "Lakshmi Narayan", "mobile": "098450 54321"})
    assert response.status_code == 303
    saved = rows(engine, "SELECT name, mobile, branch_id FROM master.customer")[0]
    assert saved == {"name": "Lakshmi Narayan", "mobile": "9845054321", "branch_id": home}


def test_a_full_aadhaar_number_is_refused_and_never_shown_back(logged_in, engine):
    client, _ = logged_in("SERVICE_ADVISOR")
    response = post_form(client, "/master/customers/new", {**CUSTOMER, "aadhaar_last4": "2345 6789 4321"})
    assert response.status_code == 422
    page = text(response)
    assert field_errors(page, "aadhaar_last4") == [
        "Enter only the LAST 4 digits of the Aadhaar number: the full number is never stored"]
    assert "234567894321" not in page and "2345 6789" not in page
    assert input_value(page, "aadhaar_last4") in (None, "")
    assert input_value(page, "name") == "Lakshmi Narayan" and input_value(page, "mobile") == "9845012345"
    assert scalar(engine, "SELECT count(*) FROM master.customer") == 0


def test_a_business_gstin_of_another_state_is_refused_with_both_states_named(logged_in, engine):
    client, _ = logged_in("ACCOUNTS")
    business = {**CUSTOMER, "kind": "BUSINESS", "name": "Swift Deliveries LLP", "gstin": gstin("27AAKFS1234L1Z"),
                "date_of_birth": "", "aadhaar_last4": ""}
    response = post_form(client, "/master/customers/new", business)
    assert response.status_code == 422
    page = text(response)
    assert field_errors(page, "gstin") == [
        "This GSTIN is registered in Maharashtra (27), but the address state is Karnataka (29): correct one of them"]
    assert input_value(page, "gstin") == business["gstin"] and selected_option(page, "kind") == "BUSINESS"

    response = post_form(client, "/master/customers/new", {**business, "kind": "INDIVIDUAL", "state_code": "27"})
    assert "choose Business" in field_errors(text(response), "gstin")[0]
    response = post_form(client, "/master/customers/new", {**business, "state_code": "27", "pan": "ABCDE1234F"})
    assert field_errors(text(response), "pan") == ["The PAN inside this GSTIN is AAKFS1234L"]
    assert post_form(client, "/master/customers/new", {**business, "state_code": "27"}).status_code == 303
    assert scalar(engine, "SELECT state_code FROM master.customer") == "27"


def test_customer_search_finds_by_name_or_mobile_and_answers_htmx_with_the_rows(logged_in, engine, make_branch):
    client, _ = logged_in("SALES")
    branch_id = make_branch()
    with engine.begin() as conn:
        for name, mobile in (("Ravi Kumar", "9880011111"), ("Kumari Devi", "9880022222"),
                             ("Arjun Ravindran", "9000012345")):
            conn.execute(sa.text("INSERT INTO master.customer (branch_id, name, mobile, state_code) "
                                 "VALUES (:b, :n, :m, '29')"), {"b": branch_id, "n": name, "m": mobile})
    rows_ = client.get("/master/customers?q=ravi", headers=rows_only("customer-results"))
    fragment = text(rows_)
    assert "<html" not in fragment and 'role="search"' not in fragment
    assert [r.split(" 9")[0] for r in row_texts(fragment)] == ["Ravi Kumar", "Arjun Ravindran"]  # name start first
    assert {"hx-target", "hx-request"} <= {v.strip().lower() for v in rows_.headers["Vary"].split(",")}
    assert row_texts(text(client.get("/master/customers?q=%2B91 98800 22222")))[0].startswith("Kumari Devi")
    assert len(row_texts(text(client.get("/master/customers?q=98800")))) == 2
    page = text(client.get("/master/customers?q=nobody"))
    assert "No customer matches “nobody”" in page and 'role="search"' in page
    assert "/master/customers/new?name=nobody" in page


def test_thirty_customers_are_paged(logged_in, engine, make_branch):
    client, _ = logged_in("MANAGER")
    branch_id = make_branch()
    with engine.begin() as conn:
        for n in range(30):
            conn.execute(sa.text("INSERT INTO master.customer (branch_id, name, mobile, state_code) "
                                 "VALUES (:b, :n, :m, '29')"), {"b": branch_id, "n": f"Customer {n:02d}",
                                                                "m": f"98{n:08d}"})
    first = text(client.get("/master/customers"))
    second = text(client.get("/master/customers?page=2", headers=rows_only("customer-results")))
    assert len(row_texts(first)) == 25 and len(row_texts(second)) == 5
    assert "26-30 of 30" in second and 'hx-target="#customer-results"' in first


def test_customers_are_for_the_counter_and_accounts_not_the_workshop_floor(logged_in):
    client, _ = logged_in("TECHNICIAN")
    assert client.get("/master/customers").status_code == 403
    assert "/master/customers" not in text(client.get("/"))


# ----------------------------------------------------------------------------- financiers and insurers


def test_financiers_and_insurers_are_added_and_a_duplicate_name_is_refused(logged_in, another, engine):
    client, _ = logged_in("MANAGER")
    assert post_form(client, "/master/financiers/new", {"name": "HDFC Bank", "gstin": "", "phone": "1800-202-6161",
                                                         "is_active": "y"}).status_code == 303
    again = post_form(client, "/master/financiers/new", {"name": "HDFC Bank", "phone": "", "is_active": "y"})
    assert again.status_code == 422
    assert field_errors(text(again), "name") == ["Another financier already has this name"]
    assert post_form(client, "/master/insurers/new", {"name": "ICICI Lombard", "phone": "",
                                                       "is_active": "y"}).status_code == 303
    insurer_id = scalar(engine, "SELECT insurer_id FROM master.insurer")
    assert post_form(client, f"/master/insurers/{insurer_id}/edit", {"name": "ICICI Lombard GIC",
                                                                      "phone": ""}).status_code == 303
    assert rows(engine, "SELECT name, is_active FROM master.insurer")[0] == {"name": "ICICI Lombard GIC",
                                                                            "is_active": False}
    sales = another("SALES")
    page = text(sales.get("/master/insurers"))
    assert "ICICI Lombard GIC" in page and "Add insurer" not in page
    assert sales.get("/master/financiers/new").status_code == 403


# ----------------------------------------------------------------------------- spare parts

PART = {"part_no": "ath-brk-0042", "name": "Front brake pad set", "hsn_code": "8714", "unit": "SET",
        "mrp": "₹1,180.00", "purchase_price": "760", "reorder_level": "4", "reorder_qty": "10", "is_active": "y"}


def test_a_part_is_added_with_its_number_in_capitals_its_gst_rate_and_the_models_it_fits(logged_in, engine,
                                                                                       catalog):
    client, _ = logged_in("MANAGER")
    form = text(client.get("/master/parts/new"))
    assert "8714 · GST 18% today · Parts and accessories of two-wheelers" in form
    response = post_form(client, "/master/parts/new", {**PART, "model_ids": [str(catalog["model_id"])]})
    assert response.status_code == 303, text(response)
    part = rows(engine, "SELECT * FROM master.part")[0]
    assert part["part_no"] == "ATH-BRK-0042" and part["mrp"] == D("1180.00") and part["unit"] == "SET"
    assert scalar(engine, "SELECT array_agg(model_id) FROM master.part_model") == [catalog["model_id"]]
    page = text(client.get(response.headers["Location"]))
    assert "18%" in page and "Volt Scooters Zip" in page and "₹1,180.00" in page

    # Unticking every model saves "fits any / not set".
    edit = post_form(client, f"/master/parts/{part['part_id']}/edit", {**PART, "name": "Front brake pads"})
    assert edit.status_code == 303
    assert scalar(engine, "SELECT count(*) FROM master.part_model") == 0


def test_a_duplicate_part_number_is_refused_at_the_part_number_with_what_was_typed(logged_in, engine, catalog):
    with engine.begin() as conn:
        b.part(conn, part_no="ATH-BRK-0042")
    client, _ = logged_in("ADMIN")
    response = post_form(client, "/master/parts/new", {**PART, "model_ids": [str(catalog["model_id"])]})
    assert response.status_code == 422
    page = text(response)
    assert field_errors(page, "part_no") == ["Another part already has this part number"]
    assert input_value(page, "name") == "Front brake pad set" and input_value(page, "mrp") == "₹1,180.00"
    assert re.search(rf'<input[^>]*checked[^>]*value="{catalog["model_id"]}"|'
                     rf'<input[^>]*value="{catalog["model_id"]}"[^>]*checked', page)


def test_a_part_counted_in_sets_cannot_reorder_half_a_set(logged_in):
    client, _ = logged_in("MANAGER")
    response = post_form(client, "/master/parts/new", {**PART, "reorder_qty": "2.5"})
    assert response.status_code == 422
    assert field_errors(text(response), "reorder_qty") == ["SET is counted in whole units"]
    assert post_form(client, "/master/parts/new", {**PART, "unit": "LTR", "reorder_qty": "2.5"}).status_code == 303


def test_a_scanned_part_number_comes_first_in_the_part_search(logged_in, engine):
    with engine.begin() as conn:
        for no, name in (("BRK-1000", "Brake lever"), ("CBL-7", "Cable for BRK-100 lever"),
                         ("BRK-100", "Rear brake shoe"), ("ABRK-100", "Adapter")):
            conn.execute(sa.text("INSERT INTO master.part (part_no, name, hsn_code, mrp, purchase_price) "
                                 "VALUES (:no, :name, '8714', 100, 60)"), {"no": no, "name": name})
    client, _ = logged_in("TECHNICIAN")
    fragment = text(client.get("/master/parts?q=brk-100", headers=rows_only("part-results")))
    found = [r.split(" ")[0] for r in row_texts(fragment)]
    assert found[0] == "BRK-100" and "Exact match" in row_texts(fragment)[0]
    assert found[1] == "BRK-1000"  # then numbers that start with it
    assert set(found) == {"BRK-100", "BRK-1000", "CBL-7", "ABRK-100"}
    assert "<html" not in fragment
    page = text(client.get("/master/parts?q=brk-100"))
    assert 'hx-sync="this:queue last"' in page and 'role="search"' in page


def test_technicians_see_parts_but_cannot_change_them(logged_in, engine):
    with engine.begin() as conn:
        part_id = b.part(conn, part_no="TYR-90-90")
    client, _ = logged_in("TECHNICIAN")
    page = text(client.get("/master/parts"))
    assert "TYR-90-90" in page and "Add part" not in page
    detail = text(client.get(f"/master/parts/{part_id}"))
    assert "TYR-90-90" in detail and f"/master/parts/{part_id}/edit" not in detail
    assert client.get(f"/master/parts/{part_id}/edit").status_code == 403
    assert post_form(client, "/master/parts", {**PART}, action="/master/parts/new").status_code == 403
    assert client.get("/oem/variants/999999").status_code == 404  # the catalog is theirs to read
    assert client.get("/").status_code == 200 and "/master/parts" in text(client.get("/"))


# ----------------------------------------------------------------------------- labour operations


def test_a_labour_operation_takes_sac_998714_unless_told_otherwise(logged_in, engine):
    client, _ = logged_in("MANAGER")
    form = text(client.get("/master/labour/new"))
    assert selected_option(form, "sac_code") == "998714"
    response = post_form(client, "/master/labour/new", {"operation_code": "ps-1", "name": "Periodic service 1",
                                                         "sac_code": "998714", "standard_hours": "1.5",
                                                         "rate": "450", "is_active": "y"})
    assert response.status_code == 303, text(response)
    op = rows(engine, "SELECT * FROM master.labour_operation")[0]
    assert (op["operation_code"], op["standard_hours"], op["rate"]) == ("PS-1", D("1.50"), D("450.00"))
    page = text(client.get("/master/labour"))
    assert "PS-1" in page and "₹450.00" in page and "998714 · 18%" in page

    again = post_form(client, "/master/labour/new", {"operation_code": "PS-1", "name": "Dup", "sac_code": "998714",
                                                      "standard_hours": "0", "rate": "1"})
    assert again.status_code == 422
    assert field_errors(text(again), "standard_hours") == ["More than 0 and at most 100 hours"]
    edit = post_form(client, "/master/labour/PS-1/edit", {"operation_code": "XX-9", "name": "Periodic service 1",
                                                          "sac_code": "998714", "standard_hours": "2", "rate": "500",
                                                          "is_active": "y"})
    assert edit.status_code == 303
    assert rows(engine, "SELECT operation_code, rate FROM master.labour_operation")[0] == {
        "operation_code": "PS-1", "rate": D("500.00")}  # the code does not change


# ----------------------------------------------------------------------------- navigation


def test_the_catalog_section_of_the_menu_shows_each_role_what_it_may_open(logged_in, another):
    client, _ = logged_in("SALES")
    home = text(client.get("/"))
    for link in ("/master/customers", "/oem/models", "/master/parts", "/master/hsn"):
        assert f'href="{link}"' in home, link
    home = text(another("TECHNICIAN").get("/"))
    assert 'href="/master/parts"' in home and 'href="/master/customers"' not in home
