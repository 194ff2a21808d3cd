"""The stock screens as the showroom uses them: finding a chassis by any part of its VIN, motor
number or battery serial; the ageing of stock; a unit's history, demo use and battery swaps;
parts stock with bins, stock cards and adjustments; part labels; transfers between branches;
physical counts. Every test drives the real app against the real test database.
"""
from __future__ import annotations

import html
import re
import threading
import time
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import builders as b
import pytest
import sqlalchemy as sa
from conftest import login, page_csrf

from webapp.formatting import today_ist

PIN = "2580"


# ----------------------------------------------------------------------------- helpers


def text(response) -> str:
    return response.get_data(as_text=True)


def scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def rows(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).mappings().all()


def build(engine, make):
    """Run builders in a committed transaction (the app reads with its own connections)."""
    with engine.begin() as conn:
        return make(conn)


def post(client, page_path: str, data: dict, action: str | None = None, **kwargs):
    """Open the page that carries the form, then submit it with that page's CSRF token."""
    token = page_csrf(client, page_path)
    return client.post(action or page_path, data={**data, "csrf_token": token}, **kwargs)


def flashes(page: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'<p class="flash \w+">(.*?)</p>', page, re.DOTALL)]


def vins_listed(page: str) -> list[str]:
    return re.findall(r'<td class="mono nowrap"><a href="/inventory/vehicles/\d+">([A-Z0-9]{17})</a>', page)


def part_nos_listed(page: str) -> list[str]:
    return re.findall(r'<td class="mono nowrap"><a href="/inventory/parts/\d+\?branch=\d+">([^<]+)</a>', page)


def transfers_listed(page: str) -> list[str]:
    return re.findall(r'<td class="mono"><a href="/inventory/transfers/\d+">([^<]+)</a>', page)


def days_ago(n: int) -> str:
    return (today_ist() - timedelta(days=n)).isoformat()


def staff_branch(engine, staff_id: int) -> int:
    return scalar(engine, "SELECT branch_id FROM master.staff WHERE staff_id = :s", s=staff_id)


def wait_until_the_app_waits_on_a_lock(engine, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if scalar(engine, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                          "AND application_name = 'showroom-erp' AND datname = current_database()"):
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def showroom(app, engine, logged_in, make_staff):
    """A manager logged in at the home branch, a second branch, and a scooter in two colours."""
    client, staff_id = logged_in("MANAGER")
    home = staff_branch(engine, staff_id)

    def make(conn):
        # A second place of business of the same registration (one GSTIN): transfers go on a challan.
        gstin = conn.execute(sa.text("SELECT gstin FROM master.branch WHERE branch_id = :b"), {"b": home}).scalar()
        other = b.branch(conn, prefix="MYS", gstin=gstin)
        cat = b.vehicle_catalog(conn, colours=("Red", "Blue"))
        return other, cat

    other, cat = build(engine, make)
    return SimpleNamespace(client=client, staff_id=staff_id, home=home, other=other, cat=cat)


def browser_as(app, make_staff, code: str, role: str, branch_id: int):
    """Another person, at the given branch, in their own browser."""
    make_staff(code, role, PIN, branch_id=branch_id)
    client = app.test_client()
    assert login(client, code, PIN).status_code == 303
    return client


def unit(engine, s, colour="Red", branch=None, **fields) -> int:
    return build(engine, lambda c: b.unit(c, s.cat.variant_id, colour, branch or s.home, **fields))


def stocked_part(engine, branch_id: int, qty="10", cost="100.00", **fields) -> int:
    def make(conn):
        part_id = b.part(conn, **fields)
        if Decimal(qty):
            b.receive(conn, branch_id, part_id, qty, cost)
        return part_id
    return build(engine, make)


# ----------------------------------------------------------------------------- vehicle stock


def test_any_part_of_a_vin_motor_number_or_battery_serial_finds_the_unit(engine, showroom):
    s = showroom
    scooter = unit(engine, s, vin="MD2A9TX7K4ZP31186", motor_no="EMX2041187")
    other = unit(engine, s, vin="MD2A5BR2C8LN00042", motor_no="EMX2099001")
    build(engine, lambda c: b.fit_battery(c, b.battery_pack(c, "LFPK24A00913"), other, "2025-09-01"))
    client = s.client

    assert vins_listed(text(client.get("/inventory/vehicles?q=7K4ZP"))) == ["MD2A9TX7K4ZP31186"]
    assert vins_listed(text(client.get("/inventory/vehicles?q=2041187"))) == ["MD2A9TX7K4ZP31186"]
    assert vins_listed(text(client.get("/inventory/vehicles?q=a00913"))) == ["MD2A5BR2C8LN00042"]  # any case
    assert sorted(vins_listed(text(client.get("/inventory/vehicles?q=EMX20")))) == ["MD2A5BR2C8LN00042",
                                                                                   "MD2A9TX7K4ZP31186"]
    page = text(client.get("/inventory/vehicles?q=NOSUCH"))
    assert vins_listed(page) == [] and "No vehicles match" in page
    # A % or _ typed in the box is a character, not a wildcard.
    assert vins_listed(text(client.get("/inventory/vehicles?q=MD2A%25186"))) == []
    assert scooter


def test_the_start_or_end_of_a_serial_as_printed_on_its_sticker_finds_the_unit(app, engine, showroom, monkeypatch):
    """What people type: the last characters of a VIN, motor number or pack serial, or the first
    ones, in any case; a letter outside ASCII finds nothing and breaks nothing. The stock list
    itself is paged without counting every unit (COUNT_AHEAD: "3+")."""
    from webapp import paging

    s = showroom
    unit(engine, s, vin="MD2A9TX7K4ZP31186", motor_no="EMX2041187")
    other = unit(engine, s, vin="MD2A5BR2C8LN00042", motor_no="EMX2099001")
    build(engine, lambda c: b.fit_battery(c, b.battery_pack(c, "LFPK24A00913"), other, "2025-09-01"))
    for _ in range(3):
        unit(engine, s)
    client = s.client
    for typed, vin in (("31186", "MD2A9TX7K4ZP31186"), ("md2a9t", "MD2A9TX7K4ZP31186"), ("99001", "MD2A5BR2C8LN00042"),
                       ("emx204", "MD2A9TX7K4ZP31186"), ("00913", "MD2A5BR2C8LN00042"),
                       ("lfpk24", "MD2A5BR2C8LN00042")):
        assert vins_listed(text(client.get("/inventory/vehicles", query_string={"q": typed}))) == [vin], typed
    assert vins_listed(text(client.get("/inventory/vehicles", query_string={"q": "31186ä"}))) == []
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    monkeypatch.setattr(paging, "COUNT_AHEAD", 3)
    first = text(client.get("/inventory/vehicles"))
    assert len(vins_listed(first)) == 2 and "1-2 of 3+" in first and "Next ›" in first
    last = text(client.get("/inventory/vehicles?page=3"))
    assert len(vins_listed(last)) == 1 and "5-5 of 5" in last and "Next ›" not in last


def test_the_vehicle_search_answers_htmx_with_the_rows_only_and_varies_on_the_target(engine, showroom):
    unit(engine, showroom, vin="MD2A9TX7K4ZP31186")
    client = showroom.client
    rows_only = client.get("/inventory/vehicles?q=7K4", headers={"HX-Request": "true", "HX-Target": "unit-results"})
    assert rows_only.status_code == 200
    assert "<html" not in text(rows_only) and vins_listed(text(rows_only)) == ["MD2A9TX7K4ZP31186"]
    assert {"HX-Request", "HX-Target"} <= {v.strip() for v in rows_only.headers["Vary"].split(",")}
    # Anything else (a boosted link, the back button's reload) gets the whole page with the filters set.
    whole = text(client.get("/inventory/vehicles?q=7K4", headers={"HX-Request": "true", "HX-Target": "main"}))
    assert "<html" in whole and 'value="7K4"' in whole
    assert 'hx-push-url="true"' in whole  # the URL follows the search, so it can be bookmarked


def test_filters_by_model_colour_status_branch_and_age_and_the_pager_keeps_them(app, engine, showroom):
    s = showroom
    fresh = unit(engine, s, "Red", received_on=days_ago(5))
    ageing = [unit(engine, s, "Red", received_on=days_ago(40 + n)) for n in range(3)]
    unit(engine, s, "Blue", received_on=days_ago(45))
    unit(engine, s, "Red", received_on=days_ago(95))
    unit(engine, s, "Red", branch=s.other, received_on=days_ago(45))
    unit(engine, s, "Red", status="DELIVERED", received_on=days_ago(45))
    other_model = build(engine, lambda c: b.vehicle_catalog(c, colours=("Red",)))
    build(engine, lambda c: b.unit(c, other_model.variant_id, "Red", s.home, received_on=days_ago(44)))
    vin = {r["unit_id"]: r["vin"] for r in rows(engine, "SELECT unit_id, vin FROM inventory.vehicle_unit")}

    query = f"model={s.cat.model_id}&colour=Red&status=IN_STOCK&branch={s.home}&age=31-60"
    page = text(s.client.get(f"/inventory/vehicles?{query}"))
    assert sorted(vins_listed(page)) == sorted(vin[u] for u in ageing)
    assert vin[fresh] not in page

    app.config["PAGE_SIZE"] = 2
    try:
        first = text(s.client.get(f"/inventory/vehicles?{query}"))
        assert len(vins_listed(first)) == 2 and "1-2 of 3" in first
        next_link = html.unescape(re.search(r'href="([^"]*page=2[^"]*)"', first).group(1))
        for arg in ("model=", "colour=Red", "status=IN_STOCK", f"branch={s.home}", "age=31-60"):
            assert arg in next_link, arg
        second = text(s.client.get(next_link))
        assert len(vins_listed(second)) == 1 and "3-3 of 3" in second
    finally:
        app.config["PAGE_SIZE"] = 25


def test_delivered_units_are_left_out_unless_asked_for_and_every_branch_can_be_shown(engine, showroom):
    s = showroom
    here = unit(engine, s)
    delivered = unit(engine, s, status="DELIVERED")
    elsewhere = unit(engine, s, branch=s.other)
    vin = {r["unit_id"]: r["vin"] for r in rows(engine, "SELECT unit_id, vin FROM inventory.vehicle_unit")}
    assert vins_listed(text(s.client.get("/inventory/vehicles"))) == [vin[here]]  # own branch, not delivered
    assert sorted(vins_listed(text(s.client.get("/inventory/vehicles?branch=all")))) == sorted(
        [vin[here], vin[elsewhere]])
    assert sorted(vins_listed(text(s.client.get("/inventory/vehicles?branch=all&status=all")))) == sorted(vin.values())
    assert vins_listed(text(s.client.get("/inventory/vehicles?status=DELIVERED"))) == [vin[delivered]]


def test_the_ageing_report_counts_and_values_units_in_stock_and_on_demo_per_branch(engine, showroom):
    s = showroom

    def costed(status, days, cost, branch=None):
        u = unit(engine, s, status=status, received_on=days_ago(days), branch=branch)
        build(engine, lambda c: c.execute(sa.text("UPDATE inventory.vehicle_unit SET purchase_cost = :c "
                                                  "WHERE unit_id = :u"), {"c": Decimal(cost), "u": u}))

    costed("IN_STOCK", 10, "81000.00")
    costed("IN_STOCK", 20, "82500.50")
    costed("DEMO", 45, "90000.00")
    costed("IN_STOCK", 120, "70000.00")
    costed("ALLOTTED", 10, "99999.00")     # sold to a booking: not stock any more
    costed("IN_STOCK", 70, "50000.00", branch=s.other)
    unit(engine, s, status="IN_STOCK", received_on=days_ago(3))  # no cost known yet

    with engine.connect() as conn:
        from webapp.inventory.queries import stock_ageing
        report = stock_ageing(conn, None)
    by_branch = {r.branch_code: r for r in report}
    home_code = scalar(engine, "SELECT branch_code FROM master.branch WHERE branch_id = :b", b=s.home)
    home = by_branch[home_code]
    assert (home.total.cells["0-30"].count, home.total.cells["0-30"].value) == (3, Decimal("163500.50"))
    assert home.total.cells["0-30"].uncosted == 1
    assert (home.total.cells["31-60"].count, home.total.cells["31-60"].value) == (1, Decimal("90000.00"))
    assert home.total.cells["61-90"].count == 0
    assert (home.total.cells["90+"].count, home.total.cells["90+"].value) == (1, Decimal("70000.00"))
    assert (home.total.total.count, home.total.total.value) == (5, Decimal("323500.50"))
    other = next(r for code, r in by_branch.items() if code != home_code)
    assert (other.total.cells["61-90"].count, other.total.total.value) == (1, Decimal("50000.00"))

    page = text(s.client.get("/inventory/vehicles/ageing"))
    assert "₹1,63,500.50" in page and "₹3,23,500.50" in page and "₹50,000.00" in page
    assert "1 without cost" in page
    only_home = text(s.client.get(f"/inventory/vehicles/ageing?branch={s.home}"))
    assert "₹3,23,500.50" in only_home and "₹50,000.00" not in only_home


# ----------------------------------------------------------------------------- a unit's history


def test_a_units_page_shows_its_identities_who_changed_its_status_its_packs_and_its_purchase(engine, showroom):
    s = showroom

    def receive_from_oem(conn):
        approver = b.staff(conn, s.home, "MANAGER")
        po = b.purchase_order(conn, s.home, s.cat.oem_id)
        line = b.po_line(conn, po, 1, "78500.00", variant_id=s.cat.variant_id, colour="Red")
        po_no = b.approve_po(conn, po, approver)
        b.send_po(conn, po)
        grn = b.goods_receipt(conn, po, s.home)
        unit_id = b.unit(conn, s.cat.variant_id, "Red", s.home, vin="MD2A9TX7K4ZP31186", motor_no="EMX2041187",
                         charger_serial="CHG-55012")
        b.receive_vehicle(conn, grn, line, unit_id)
        b.fit_battery(conn, b.battery_pack(conn, "LFPK24A00913"), unit_id, "2025-08-20")
        grn_no = b.scalar(conn, "SELECT grn_no FROM procurement.goods_receipt WHERE grn_id = :g", g=grn)
        return unit_id, po_no, grn_no

    unit_id, po_no, grn_no = build(engine, receive_from_oem)
    url = f"/inventory/vehicles/{unit_id}"
    assert post(s.client, url, {"to": "DEMO"}, f"{url}/status").status_code == 303
    assert post(s.client, url, {"to": "IN_STOCK"}, f"{url}/status").status_code == 303

    page = text(s.client.get(url))
    for shown in ("MD2A9TX7K4ZP31186", "EMX2041187", "CHG-55012", "LFPK24A00913", "08-2025", "Red"):
        assert shown in page, shown
    timeline = re.search(r'<ol class="timeline">(.*?)</ol>', page, re.DOTALL).group(1)
    steps = [re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", li))).strip()
             for li in re.findall(r"<li>(.*?)</li>", timeline, re.DOTALL)]
    manager = f"Staff {scalar(engine, 'SELECT staff_code FROM master.staff WHERE staff_id = :s', s=s.staff_id)}"
    assert len(steps) == 3
    assert "Added as In stock" in steps[0] and "by the system" in steps[0]
    assert "In stock → Demo vehicle" in steps[1] and manager in steps[1]
    assert "Demo vehicle → In stock" in steps[2] and manager in steps[2]
    assert grn_no in page and po_no in page and "₹78,500.00" in page
    assert re.search(rf'<a href="/procurement/receipts/\d+">{re.escape(grn_no)}</a>', page)  # a manager buys too


def test_a_unit_in_stock_becomes_a_demo_and_comes_back_but_an_allotted_one_cannot(engine, showroom):
    s = showroom
    scooter = unit(engine, s)
    booked = unit(engine, s, status="ALLOTTED")

    def status(unit_id):
        return scalar(engine, "SELECT status FROM inventory.vehicle_unit WHERE unit_id = :u", u=unit_id)

    response = post(s.client, f"/inventory/vehicles/{scooter}", {"to": "DEMO"}, f"/inventory/vehicles/{scooter}/status",
                    follow_redirects=True)
    assert status(scooter) == "DEMO" and "is now a demo vehicle" in text(response)
    assert "Back to stock" in text(response)

    response = post(s.client, f"/inventory/vehicles/{booked}", {"to": "DEMO"}, f"/inventory/vehicles/{booked}/status",
                    follow_redirects=True)
    assert status(booked) == "ALLOTTED"
    assert any("is allotted: only a unit in stock can be taken as a demo" in f for f in flashes(text(response)))


def test_a_sales_executive_sees_a_unit_but_not_the_managers_buttons(app, engine, showroom, make_staff):
    scooter = unit(engine, showroom)
    sales = browser_as(app, make_staff, "SE1", "SALES", showroom.home)
    page = text(sales.get(f"/inventory/vehicles/{scooter}"))
    assert "Use as demo vehicle" not in page and "Send to another branch" not in page and "Fit battery pack" not in page
    token = page_csrf(sales, "/profile")
    refused = sales.post(f"/inventory/vehicles/{scooter}/status", data={"to": "DEMO", "csrf_token": token})
    assert refused.status_code == 403


def test_a_battery_swap_removes_the_old_pack_today_and_fits_the_new_one(engine, showroom):
    s = showroom
    scooter = unit(engine, s)
    build(engine, lambda c: b.fit_battery(c, b.battery_pack(c, "LFPK24A00913"), scooter, "2025-08-20"))
    url = f"/inventory/vehicles/{scooter}/battery"
    response = post(s.client, url, {"serial": "lfpk25b01774", "reason": "Warranty: cell imbalance, claim 4411",
                                    "chemistry": "", "kwh": ""})
    assert response.status_code == 303, text(response)
    history = rows(engine, """SELECT p.serial, p.kwh, f.fitted_on, f.removed_on, f.reason
                                FROM inventory.battery_fitment f JOIN inventory.battery_pack p USING (pack_id)
                               WHERE f.unit_id = :u ORDER BY f.fitment_id""", u=scooter)
    assert [(h["serial"], h["removed_on"]) for h in history] == [("LFPK24A00913", today_ist()),
                                                                ("LFPK25B01774", None)]
    assert history[1]["fitted_on"] == today_ist() and history[1]["kwh"] == Decimal("3.00")  # the variant's kWh
    page = text(s.client.get(f"/inventory/vehicles/{scooter}"))
    assert "LFPK25B01774" in page and "Warranty: cell imbalance" in page


def test_a_pack_still_fitted_in_another_vehicle_cannot_be_fitted_and_nothing_changes(engine, showroom):
    s = showroom
    scooter, other = unit(engine, s), unit(engine, s)
    build(engine, lambda c: (b.fit_battery(c, b.battery_pack(c, "LFPK24A00913"), scooter, "2025-08-20"),
                             b.fit_battery(c, b.battery_pack(c, "LFPK24A00999"), other, "2025-08-20")))
    other_vin = scalar(engine, "SELECT vin FROM inventory.vehicle_unit WHERE unit_id = :u", u=other)
    url = f"/inventory/vehicles/{scooter}/battery"
    response = post(s.client, url, {"serial": "LFPK24A00999", "reason": "Swap"})
    assert response.status_code == 422
    assert f"Pack LFPK24A00999 is fitted in {other_vin}" in html.unescape(text(response))
    assert 'value="LFPK24A00999"' in text(response)  # what was typed stays
    assert scalar(engine, "SELECT count(*) FROM inventory.battery_fitment WHERE removed_on IS NOT NULL") == 0

    response = post(s.client, url, {"serial": "", "reason": ""})
    assert response.status_code == 422 and "Enter or scan the new pack&#39;s serial" in text(response)


# ----------------------------------------------------------------------------- parts stock


def test_parts_stock_shows_quantity_average_cost_value_bin_and_a_reorder_alert(engine, showroom):
    s = showroom

    def make(conn):
        shoe = b.part(conn, part_no="BRK-SHOE-01")
        b.receive(conn, s.home, shoe, 10, "100.00")
        b.receive(conn, s.home, shoe, 10, "120.00")
        conn.execute(sa.text("UPDATE master.part SET reorder_level = 25, reorder_qty = 40 WHERE part_id = :p"),
                     {"p": shoe})
        mirror = b.part(conn, part_no="MIRROR-L")
        b.receive(conn, s.home, mirror, 5, "250.00")
        conn.execute(sa.text("UPDATE master.part SET reorder_level = 2 WHERE part_id = :p"), {"p": mirror})
        return shoe, mirror

    shoe, mirror = build(engine, make)
    page = text(s.client.get("/inventory/parts"))
    row = re.search(rf'<tr id="part-{shoe}".*?</tr>', page, re.DOTALL).group(0)
    assert "20 <small>NOS</small>" in row and "₹110.00" in row and "₹2,200.00" in row
    assert "Reorder 40" in row
    assert "Reorder" not in re.search(rf'<tr id="part-{mirror}".*?</tr>', page, re.DOTALL).group(0)
    assert part_nos_listed(text(s.client.get("/inventory/parts?show=reorder"))) == ["BRK-SHOE-01"]
    assert "₹3,450.00" in page  # the branch's stock value


def test_a_part_number_scanned_into_the_search_comes_first(engine, showroom):
    s = showroom
    build(engine, lambda c: [b.part(c, part_no=n) for n in ("BRK-1001", "BRK-100", "ABRK-100X")])
    # A USB scanner types the number and Enter: the form is submitted with the whole number.
    found = part_nos_listed(text(s.client.get("/inventory/parts?q=BRK-100",
                                              headers={"HX-Request": "true", "HX-Target": "part-results"})))
    assert found[0] == "BRK-100" and sorted(found) == ["ABRK-100X", "BRK-100", "BRK-1001"]
    page = text(s.client.get("/inventory/parts"))
    assert 'hx-trigger="input changed delay:250ms from:#q, search from:#q, change from:#show, submit"' in page


def test_the_bin_is_edited_in_place_and_only_the_row_comes_back(engine, showroom):
    s = showroom
    shoe = stocked_part(engine, s.home)
    token = page_csrf(s.client, "/inventory/parts")
    response = s.client.post(f"/inventory/parts/{shoe}/bin", data={"csrf_token": token, "branch": s.home,
                                                                   "bin_location": "r2-b14"},
                             headers={"HX-Request": "true", "HX-Target": f"part-{shoe}"})
    assert response.status_code == 200
    assert text(response).lstrip().startswith(f'<tr id="part-{shoe}"') and 'value="R2-B14"' in text(response)
    assert scalar(engine, "SELECT bin_location FROM inventory.part_stock WHERE part_id = :p", p=shoe) == "R2-B14"

    # A part the branch has never held can be given its shelf first.
    new_part = build(engine, lambda c: b.part(c))
    response = s.client.post(f"/inventory/parts/{new_part}/bin", data={"csrf_token": token, "branch": s.home,
                                                                       "bin_location": "R9"},
                             headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert rows(engine, "SELECT qty, bin_location FROM inventory.part_stock WHERE part_id = :p", p=new_part) == [
        {"qty": Decimal("0.000"), "bin_location": "R9"}]

    response = s.client.post(f"/inventory/parts/{shoe}/bin", data={"csrf_token": token, "branch": s.home,
                                                                   "bin_location": "X" * 21},
                             headers={"HX-Request": "true"})
    assert response.status_code == 200 and 'role="alert"' in text(response)
    assert scalar(engine, "SELECT bin_location FROM inventory.part_stock WHERE part_id = :p", p=shoe) == "R2-B14"


def test_the_stock_card_lists_every_move_with_the_balance_after_it(engine, showroom):
    s = showroom

    def make(conn):
        shoe = b.part(conn)
        b.receive(conn, s.home, shoe, 10, "100.00")
        b.issue(conn, s.home, shoe, 3)
        b.receive(conn, s.home, shoe, 5, "130.00")
        return shoe

    shoe = build(engine, make)
    page = text(s.client.get(f"/inventory/parts/{shoe}?branch={s.home}"))
    ledger = re.search(r'<table class="list ledger">.*?</table>', page, re.DOTALL).group(0)
    balances = re.findall(r'<td class="num"><strong>([^<]+)</strong></td>\s*<td class="num">([^<]+)</td>', ledger)
    assert balances == [("12", "₹1,350.00"), ("7", "₹700.00"), ("10", "₹1,000.00")]  # newest first
    assert "Issued to job card" in ledger and "Goods receipt" in ledger


def test_a_stock_adjustment_needs_a_reason_and_posts_an_adjustment_move(engine, showroom):
    s = showroom
    shoe = stocked_part(engine, s.home, qty="10", cost="100.00")
    url = f"/inventory/parts/{shoe}/adjust?branch={s.home}"
    response = post(s.client, url, {"qty": "-2", "reason": ""})
    assert response.status_code == 422 and "A stock adjustment needs a reason" in text(response)
    assert 'value="-2"' in text(response)

    response = post(s.client, url, {"qty": "-2", "reason": "Damaged in handling"})
    assert response.status_code == 303
    move = rows(engine, "SELECT kind, qty, unit_cost, value, reason, staff_id FROM inventory.stock_move "
                        "WHERE kind = 'ADJUSTMENT'")
    assert move == [{"kind": "ADJUSTMENT", "qty": Decimal("-2.000"), "unit_cost": Decimal("100.0000"),
                     "value": Decimal("-200.00"), "reason": "Damaged in handling", "staff_id": s.staff_id}]

    response = post(s.client, url, {"qty": "3", "reason": "Found in the wrong bin", "unit_cost": ""})
    assert response.status_code == 303
    assert rows(engine, "SELECT qty, value FROM inventory.part_stock WHERE part_id = :p", p=shoe) == [
        {"qty": Decimal("11.000"), "value": Decimal("1100.00")}]  # found pieces valued at the average


def test_taking_more_than_is_in_stock_is_refused_with_a_clear_message(engine, showroom):
    s = showroom
    shoe = stocked_part(engine, s.home, qty="2", part_no="BRK-SHOE-01")
    response = post(s.client, f"/inventory/parts/{shoe}/adjust?branch={s.home}", {"qty": "-5", "reason": "Lost"})
    assert response.status_code == 422
    page = html.unescape(text(response))
    assert "Not enough BRK-SHOE-01" in page and "2 NOS in stock, 5 NOS asked for" in page
    assert scalar(engine, "SELECT qty FROM inventory.part_stock WHERE part_id = :p", p=shoe) == 2


def test_half_a_brake_shoe_cannot_be_adjusted(engine, showroom):
    s = showroom
    shoe = stocked_part(engine, s.home)
    response = post(s.client, f"/inventory/parts/{shoe}/adjust?branch={s.home}", {"qty": "-0.5", "reason": "Broken"})
    assert response.status_code == 422 and "Counted in whole NOS" in text(response)


@pytest.mark.parametrize("typed", ["NaN", "Infinity", "1e20", "-sNaN", "12abc"])
def test_a_number_that_is_no_quantity_is_refused_at_the_field(engine, showroom, typed):
    s = showroom
    shoe = stocked_part(engine, s.home)
    response = post(s.client, f"/inventory/parts/{shoe}/adjust?branch={s.home}", {"qty": typed, "reason": "Broken"})
    assert response.status_code == 422
    assert scalar(engine, "SELECT count(*) FROM inventory.stock_move WHERE kind = 'ADJUSTMENT'") == 0


# A race between a request and another connection.
@pytest.mark.commits
def test_two_people_taking_the_last_part_at_once_the_second_is_told_plainly(app, engine, showroom):
    """The counter issues the last brake shoe while the manager writes it off: the manager's
    adjustment waits, then the database refuses it, and the screen says so - not 'something went wrong'."""
    s = showroom
    shoe = stocked_part(engine, s.home, qty="1", part_no="BRK-SHOE-01")
    url = f"/inventory/parts/{shoe}/adjust?branch={s.home}"
    token = page_csrf(s.client, url)
    counter = engine.connect()
    tx = counter.begin()
    b.issue(counter, s.home, shoe, 1)   # holds the balance row until it commits
    result = {}

    def write_off():
        result["response"] = s.client.post(url, data={"qty": "-1", "reason": "Damaged", "csrf_token": token})

    worker = threading.Thread(target=write_off)
    worker.start()
    blocked = wait_until_the_app_waits_on_a_lock(engine)
    tx.commit()
    counter.close()
    worker.join(20)
    assert not worker.is_alive()
    assert blocked, "the adjustment never waited for the counter's issue: the race was not staged"
    response = result["response"]
    assert response.status_code == 422, text(response)
    assert "Not enough BRK-SHOE-01" in html.unescape(text(response))
    assert "0 NOS in stock" in html.unescape(text(response))
    assert scalar(engine, "SELECT count(*) FROM inventory.stock_move WHERE kind = 'ADJUSTMENT'") == 0


def test_a_manager_changes_stock_only_at_their_own_branch(engine, showroom):
    s = showroom
    shoe = stocked_part(engine, s.other)
    url = f"/inventory/parts/{shoe}/adjust?branch={s.other}"
    page = text(s.client.get(url))
    assert "is changed by its own staff" in html.unescape(page)
    response = post(s.client, url, {"qty": "-1", "reason": "Damaged"})
    assert response.status_code == 422
    assert scalar(engine, "SELECT count(*) FROM inventory.stock_move WHERE kind = 'ADJUSTMENT'") == 0
    assert "Adjust stock</a>" not in text(s.client.get(f"/inventory/parts/{shoe}?branch={s.other}"))


# ----------------------------------------------------------------------------- labels


def test_labels_carry_part_number_name_bin_mrp_and_a_qr_code_as_inline_svg(engine, showroom):
    s = showroom
    shoe = stocked_part(engine, s.home, part_no="BRK-SHOE-01")
    build(engine, lambda c: c.execute(sa.text("UPDATE inventory.part_stock SET bin_location = 'R2-B14' "
                                              "WHERE part_id = :p"), {"p": shoe}))
    page = text(s.client.get(f"/inventory/parts/labels?branch={s.home}&part={shoe}&copies=3"))
    labels = re.findall(r'<div class="part-label">(.*?)</span>\s*</div>', page, re.DOTALL)
    assert len(labels) == 3
    for label in labels:
        assert '<svg viewBox="0 0 ' in label and 'class="qr"' in label
        assert "BRK-SHOE-01" in label and "Bin R2-B14" in label and "MRP ₹200.00" in label
    assert " style=" not in page and "<style" not in page  # the CSP allows no inline style
    assert 'class="label-sheet"' in page and "data-print" in page


def test_a_scanned_part_number_and_enter_adds_that_part_to_the_label_sheet(engine, showroom):
    s = showroom
    shoe = stocked_part(engine, s.home, part_no="BRK-SHOE-01")
    mirror = stocked_part(engine, s.home, part_no="MIRROR-L")
    response = s.client.get(f"/inventory/parts/labels?branch={s.home}&part={shoe}&q=mirror-l")
    assert response.status_code == 303
    assert re.search(rf"part={shoe}&part={mirror}$", response.headers["Location"])
    sheet = text(s.client.get(response.headers["Location"]))
    assert len(re.findall(r'<div class="part-label">', sheet)) == 2
    # A partial number lists the candidates instead.
    listing = text(s.client.get(f"/inventory/parts/labels?branch={s.home}&q=MIRR"))
    assert "Parts matching" in listing and "MIRROR-L" in listing


# ----------------------------------------------------------------------------- transfers


def dispatch_form(from_branch, to_branch, parts=(), vins="", notes=""):
    data = {"from_branch_id": from_branch, "to_branch_id": to_branch, "vins": vins, "notes": notes}
    for n in range(6):
        part_no, qty = parts[n] if n < len(parts) else ("", "")
        data[f"parts-{n}-part_no"] = part_no
        data[f"parts-{n}-qty"] = qty
    return data


def test_a_transfer_sends_parts_at_average_cost_and_a_vehicle_into_transit(app, engine, showroom, make_staff):
    s = showroom

    def make(conn):
        shoe = b.part(conn, part_no="BRK-SHOE-01")
        b.receive(conn, s.home, shoe, 4, "100.00")
        b.receive(conn, s.home, shoe, 2, "130.00")   # average 110
        return shoe

    build(engine, make)
    scooter = unit(engine, s, vin="MD2A9TX7K4ZP31186")
    response = post(s.client, "/inventory/transfers/new",
                    dispatch_form(s.home, s.other, [("brk-shoe-01", "3")], "md2a9tx7k4zp31186\n", "KA-01-AB-1234"))
    assert response.status_code == 303, text(response)
    transfer = rows(engine, "SELECT * FROM inventory.stock_transfer")[0]
    prefix = scalar(engine, "SELECT invoice_prefix FROM master.branch WHERE branch_id = :b", b=s.home)
    assert re.fullmatch(rf"{prefix}TRF/\d\d/1", transfer["transfer_no"])
    assert transfer["status"] == "DISPATCHED" and transfer["dispatched_by"] == s.staff_id
    out = rows(engine, "SELECT qty, unit_cost, value, reference FROM inventory.stock_move WHERE kind = 'TRANSFER_OUT'")
    assert out == [{"qty": Decimal("-3.000"), "unit_cost": Decimal("110.0000"), "value": Decimal("-330.00"),
                    "reference": transfer["transfer_no"]}]
    assert scalar(engine, "SELECT status FROM inventory.vehicle_unit WHERE unit_id = :u", u=scooter) == "IN_TRANSIT"

    # The receiving branch's manager sees it in transit.
    mysuru = browser_as(app, make_staff, "MYS1", "MANAGER", s.other)
    in_transit = text(mysuru.get("/inventory/transfers"))
    assert transfers_listed(in_transit) == [transfer["transfer_no"]] and "1 part line, 1 vehicle" in in_transit
    assert transfers_listed(text(s.client.get("/inventory/transfers"))) == []  # nothing in transit *to* home
    assert transfers_listed(text(s.client.get("/inventory/transfers?view=outgoing"))) == [transfer["transfer_no"]]


def test_receiving_brings_parts_in_at_the_same_cost_and_the_vehicle_into_the_new_branch(app, engine, showroom,
                                                                                       make_staff):
    s = showroom

    def make(conn):
        shoe = b.part(conn, part_no="BRK-SHOE-01")
        b.receive(conn, s.home, shoe, 3, "100.00")   # 3 at 100 and ...
        b.receive(conn, s.home, shoe, 3, "100.01")   # ... 3 at 100.01: average 100.005
        return shoe

    shoe = build(engine, make)
    scooter = unit(engine, s, vin="MD2A9TX7K4ZP31186")
    assert post(s.client, "/inventory/transfers/new",
                dispatch_form(s.home, s.other, [("BRK-SHOE-01", "6")], "MD2A9TX7K4ZP31186")).status_code == 303
    transfer_id = scalar(engine, "SELECT transfer_id FROM inventory.stock_transfer")
    url = f"/inventory/transfers/{transfer_id}"

    # The sending branch cannot receive its own transfer.
    response = post(s.client, url, {}, f"{url}/receive", follow_redirects=True)
    assert any("is received by" in f for f in flashes(text(response)))
    assert scalar(engine, "SELECT status FROM inventory.stock_transfer") == "DISPATCHED"

    mysuru = browser_as(app, make_staff, "MYS1", "MANAGER", s.other)
    assert "Receive at" in text(mysuru.get(url))
    response = post(mysuru, url, {}, f"{url}/receive", follow_redirects=True)
    assert any("received at" in f for f in flashes(text(response)))
    moves = {r["kind"]: r for r in rows(engine, "SELECT kind, branch_id, qty, unit_cost, value "
                                                "FROM inventory.stock_move "
                                                "WHERE kind IN ('TRANSFER_OUT', 'TRANSFER_IN')")}
    assert moves["TRANSFER_IN"]["branch_id"] == s.other
    assert moves["TRANSFER_IN"]["value"] == -moves["TRANSFER_OUT"]["value"] == Decimal("600.03")
    assert rows(engine, "SELECT branch_id, qty, value FROM inventory.part_stock WHERE part_id = :p ORDER BY branch_id",
                p=shoe) == [{"branch_id": s.home, "qty": 0, "value": 0},
                            {"branch_id": s.other, "qty": Decimal("6.000"), "value": Decimal("600.03")}]
    assert rows(engine, "SELECT branch_id, status FROM inventory.vehicle_unit WHERE unit_id = :u", u=scooter) == [
        {"branch_id": s.other, "status": "IN_STOCK"}]
    assert scalar(engine, "SELECT status FROM inventory.stock_transfer") == "RECEIVED"

    again = post(mysuru, url, {}, f"{url}/receive", follow_redirects=True)
    assert any("was already received" in f for f in flashes(text(again)))
    assert scalar(engine, "SELECT count(*) FROM inventory.stock_move WHERE kind = 'TRANSFER_IN'") == 1


def test_a_transfer_asking_for_more_than_is_in_stock_moves_nothing_and_uses_no_number(engine, showroom):
    s = showroom
    stocked_part(engine, s.home, qty="2", part_no="BRK-SHOE-01")
    mirror = stocked_part(engine, s.home, qty="5", part_no="MIRROR-L")
    scooter = unit(engine, s, vin="MD2A9TX7K4ZP31186")
    response = post(s.client, "/inventory/transfers/new",
                    dispatch_form(s.home, s.other, [("MIRROR-L", "1"), ("BRK-SHOE-01", "3")], "MD2A9TX7K4ZP31186"))
    assert response.status_code == 422
    assert "Not enough BRK-SHOE-01" in html.unescape(text(response))
    assert 'value="MIRROR-L"' in text(response)  # the form comes back as typed
    assert scalar(engine, "SELECT count(*) FROM inventory.stock_transfer") == 0
    assert scalar(engine, "SELECT count(*) FROM inventory.stock_move WHERE kind = 'TRANSFER_OUT'") == 0
    assert scalar(engine, "SELECT qty FROM inventory.part_stock WHERE part_id = :p", p=mirror) == 5
    assert scalar(engine, "SELECT status FROM inventory.vehicle_unit WHERE unit_id = :u", u=scooter) == "IN_STOCK"
    assert scalar(engine, "SELECT coalesce(max(last_no), 0) FROM master.document_counter WHERE series = 'TRF'") == 0


def test_a_transfer_shows_unknown_parts_and_vins_and_units_not_in_stock_where_they_were_typed(engine, showroom):
    s = showroom
    booked = unit(engine, s, status="ALLOTTED", vin="MD2A5BR2C8LN00042")
    response = post(s.client, "/inventory/transfers/new",
                    dispatch_form(s.home, s.other, [("NO-SUCH-PART", "1"), ("", "2")], "MD2A9TX7K4ZP3118X\nMD2AZZZ"))
    page = html.unescape(text(response))
    assert response.status_code == 422
    assert "No part with this number" in page and "Which part? Enter the part number" in page
    assert "Not a VIN (17 characters, no I, O or Q): MD2AZZZ" in page

    response = post(s.client, "/inventory/transfers/new", dispatch_form(s.home, s.other, [], "MD2A5BR2C8LN00042"))
    assert response.status_code == 422
    assert "MD2A5BR2C8LN00042 is not in stock (allotted)" in html.unescape(text(response))
    assert scalar(engine, "SELECT status FROM inventory.vehicle_unit WHERE unit_id = :u", u=booked) == "ALLOTTED"

    response = post(s.client, "/inventory/transfers/new", dispatch_form(s.home, s.home, [], "MD2A5BR2C8LN00042"))
    assert response.status_code == 422 and "Choose a branch other than the sending one" in text(response)


def test_more_part_lines_can_be_added_to_the_transfer_form(showroom):
    response = post(showroom.client, "/inventory/transfers/new", {**dispatch_form(showroom.home, showroom.other),
                                                                 "more": "1"})
    assert response.status_code == 200
    assert 'name="parts-10-part_no"' in text(response) and 'name="parts-11-part_no"' not in text(response)


# ----------------------------------------------------------------------------- physical counts


def start_count(client, branch_id):
    return post(client, f"/inventory/counts?branch={branch_id}", {"branch": branch_id}, "/inventory/counts")


def count_row(client, count_id, part_id, counted):
    token = page_csrf(client, f"/inventory/counts/{count_id}")
    return client.post(f"/inventory/counts/{count_id}/parts/{part_id}",
                       data={"csrf_token": token, "counted_qty": counted},
                       headers={"HX-Request": "true", "HX-Target": f"count-{part_id}"})


def test_a_count_sheet_takes_the_system_quantities_and_only_one_count_is_open_per_branch(engine, showroom):
    s = showroom
    shoe = stocked_part(engine, s.home, qty="7")
    stocked_part(engine, s.other, qty="3")
    response = start_count(s.client, s.home)
    assert response.status_code == 303
    count = rows(engine, "SELECT count_id, count_no, status FROM inventory.stock_count")[0]
    assert count["status"] == "OPEN" and "CNT/" in count["count_no"]
    assert rows(engine, "SELECT part_id, system_qty, counted_qty FROM inventory.stock_count_line") == [
        {"part_id": shoe, "system_qty": Decimal("7.000"), "counted_qty": None}]

    again = start_count(s.client, s.home)
    assert again.headers["Location"].endswith(f"/inventory/counts/{count['count_id']}")
    assert scalar(engine, "SELECT count(*) FROM inventory.stock_count") == 1
    page = text(s.client.get(again.headers["Location"]))
    assert "A count is already open at this branch" in page


def test_counted_quantities_are_saved_per_row_and_the_variance_shown(engine, showroom):
    s = showroom
    shoe = stocked_part(engine, s.home, qty="7", cost="100.00")
    start_count(s.client, s.home)
    count_id = scalar(engine, "SELECT count_id FROM inventory.stock_count")
    response = count_row(s.client, count_id, shoe, "5")
    assert response.status_code == 200
    row = text(response)
    assert row.lstrip().startswith(f'<tr id="count-{shoe}" class="variance"')
    assert ">-2<" in row and "-₹200.00" in row
    assert scalar(engine, "SELECT counted_qty FROM inventory.stock_count_line") == 5
    assert response.headers["HX-Trigger"] == "count-changed"
    summary = s.client.get(f"/inventory/counts/{count_id}", headers={"HX-Request": "true",
                                                                     "HX-Target": "count-summary"})
    assert text(summary).lstrip().startswith("<section") and "1 of 1 parts" in text(summary)
    assert "1 part, net -₹200.00 at cost" in text(summary) and "Approve and post 1 adjustment" in text(summary)

    bad = count_row(s.client, count_id, shoe, "4.5")
    assert "HX-Trigger" not in bad.headers
    bad = text(bad)
    assert "Counted in whole NOS" in bad and 'value="4.5"' in bad
    assert scalar(engine, "SELECT counted_qty FROM inventory.stock_count_line") == 5
    variances = text(s.client.get(f"/inventory/counts/{count_id}?view=variances"))
    assert f'id="count-{shoe}"' in variances


def test_approving_a_count_posts_an_adjustment_for_every_variance_in_one_go(engine, showroom):
    s = showroom
    shoe = stocked_part(engine, s.home, qty="7", cost="100.00")
    mirror = stocked_part(engine, s.home, qty="2", cost="250.00")
    horn = stocked_part(engine, s.home, qty="4", cost="80.00")
    start_count(s.client, s.home)
    count_id, count_no = rows(engine, "SELECT count_id, count_no FROM inventory.stock_count")[0].values()
    for part_id, counted in ((shoe, "5"), (mirror, "3"), (horn, "4")):
        assert count_row(s.client, count_id, part_id, counted).status_code == 200

    response = post(s.client, f"/inventory/counts/{count_id}", {}, f"/inventory/counts/{count_id}/approve",
                    follow_redirects=True)
    assert any("2 adjustment(s) posted" in f for f in flashes(text(response)))
    moves = rows(engine, "SELECT part_id, qty, value, reason, reference FROM inventory.stock_move "
                         "WHERE kind = 'ADJUSTMENT' ORDER BY part_id")
    assert moves == [
        {"part_id": shoe, "qty": Decimal("-2.000"), "value": Decimal("-200.00"), "reason": f"Physical count {count_no}",
         "reference": count_no},
        {"part_id": mirror, "qty": Decimal("1.000"), "value": Decimal("250.00"), "reason": f"Physical count {count_no}",
         "reference": count_no},
    ]
    assert {r["part_id"]: r["qty"] for r in rows(engine, "SELECT part_id, qty FROM inventory.part_stock")} == {
        shoe: 5, mirror: 3, horn: 4}
    assert rows(engine, "SELECT status, approved_by FROM inventory.stock_count") == [
        {"status": "APPROVED", "approved_by": s.staff_id}]
    # Approved means closed: no more counting on it.
    assert "Counted quantity of" not in text(s.client.get(f"/inventory/counts/{count_id}"))


def test_a_count_with_parts_not_yet_counted_cannot_be_approved(engine, showroom):
    s = showroom
    shoe = stocked_part(engine, s.home, qty="7")
    stocked_part(engine, s.home, qty="3")
    start_count(s.client, s.home)
    count_id = scalar(engine, "SELECT count_id FROM inventory.stock_count")
    count_row(s.client, count_id, shoe, "6")
    response = post(s.client, f"/inventory/counts/{count_id}", {}, f"/inventory/counts/{count_id}/approve",
                    follow_redirects=True)
    assert any("1 part(s) on the sheet are not counted yet" in f for f in flashes(text(response)))
    assert scalar(engine, "SELECT status FROM inventory.stock_count") == "OPEN"
    assert scalar(engine, "SELECT count(*) FROM inventory.stock_move WHERE kind = 'ADJUSTMENT'") == 0


def test_when_one_variance_cannot_be_posted_none_is_and_the_count_stays_open(engine, showroom):
    """Counted 0 of 5 mirrors, but 3 were sold at the counter meanwhile: the -5 would take stock
    below zero, so nothing of the approval is posted - the earlier part's adjustment neither."""
    s = showroom
    shoe = stocked_part(engine, s.home, qty="7", part_no="BRK-SHOE-01")
    mirror = stocked_part(engine, s.home, qty="5", part_no="MIRROR-L")
    start_count(s.client, s.home)
    count_id = scalar(engine, "SELECT count_id FROM inventory.stock_count")
    count_row(s.client, count_id, shoe, "6")
    count_row(s.client, count_id, mirror, "0")
    build(engine, lambda c: b.stock_move(c, s.home, mirror, "COUNTER_SALE", "-3"))
    response = post(s.client, f"/inventory/counts/{count_id}", {}, f"/inventory/counts/{count_id}/approve",
                    follow_redirects=True)
    assert any(f.startswith("Not approved: Not enough MIRROR-L") for f in flashes(text(response)))
    assert scalar(engine, "SELECT count(*) FROM inventory.stock_move WHERE kind = 'ADJUSTMENT'") == 0
    assert scalar(engine, "SELECT qty FROM inventory.part_stock WHERE part_id = :p", p=shoe) == 7
    assert scalar(engine, "SELECT status FROM inventory.stock_count") == "OPEN"


def test_a_technician_counts_but_only_a_manager_approves(app, engine, showroom, make_staff):
    s = showroom
    shoe = stocked_part(engine, s.home, qty="2")
    start_count(s.client, s.home)
    count_id = scalar(engine, "SELECT count_id FROM inventory.stock_count")
    technician = browser_as(app, make_staff, "TEC1", "TECHNICIAN", s.home)
    assert count_row(technician, count_id, shoe, "2").status_code == 200
    page = text(technician.get(f"/inventory/counts/{count_id}"))
    assert "Approve and post" not in page
    token = page_csrf(technician, f"/inventory/counts/{count_id}")
    assert technician.post(f"/inventory/counts/{count_id}/approve", data={"csrf_token": token}).status_code == 403


def test_a_part_found_on_the_shelf_is_added_to_the_sheet(engine, showroom):
    s = showroom
    stocked_part(engine, s.home, qty="2")
    stray = build(engine, lambda c: b.part(c, part_no="HORN-12V"))
    start_count(s.client, s.home)
    count_id = scalar(engine, "SELECT count_id FROM inventory.stock_count")
    response = post(s.client, f"/inventory/counts/{count_id}", {"part_no": "horn-12v"},
                    f"/inventory/counts/{count_id}/parts")
    assert response.status_code == 303 and response.headers["Location"].endswith("q=HORN-12V")
    assert scalar(engine, "SELECT system_qty FROM inventory.stock_count_line WHERE part_id = :p", p=stray) == 0
    missing = post(s.client, f"/inventory/counts/{count_id}", {"part_no": "NOPE"},
                   f"/inventory/counts/{count_id}/parts",
                   follow_redirects=True)
    assert any("No part with the number NOPE" in f for f in flashes(text(missing)))


def test_cancelling_a_count_changes_no_stock_and_lets_a_new_one_start(engine, showroom):
    s = showroom
    shoe = stocked_part(engine, s.home, qty="2")
    start_count(s.client, s.home)
    count_id = scalar(engine, "SELECT count_id FROM inventory.stock_count")
    count_row(s.client, count_id, shoe, "0")
    cancelled = post(s.client, f"/inventory/counts/{count_id}", {}, f"/inventory/counts/{count_id}/cancel")
    assert cancelled.status_code == 303
    assert scalar(engine, "SELECT status FROM inventory.stock_count") == "CANCELLED"
    assert scalar(engine, "SELECT qty FROM inventory.part_stock WHERE part_id = :p", p=shoe) == 2
    assert start_count(s.client, s.home).status_code == 303
    assert scalar(engine, "SELECT count(*) FROM inventory.stock_count WHERE status = 'OPEN'") == 1


# ----------------------------------------------------------------------------- navigation


@pytest.mark.parametrize("role, shown, hidden", [
    ("SALES", ["Vehicles", "Stock ageing", "Transfers"], ["Parts stock", "Stock counts"]),
    ("TECHNICIAN", ["Parts stock", "Transfers", "Stock counts"], ["Vehicles", "Stock ageing"]),
    ("DEALER", [], ["Vehicles", "Parts stock", "Transfers", "Stock counts"]),
])
def test_the_stock_menu_shows_each_role_only_what_it_may_open(logged_in, role, shown, hidden):
    client, _ = logged_in(role)
    menu = re.search(r'<nav class="modules"[^>]*>(.*?)</nav>', text(client.get("/")), re.DOTALL).group(1)
    labels = [html.unescape(m).strip() for m in re.findall(r">([^<]+)</a>", menu)]
    assert all(label in labels for label in shown), labels
    assert not any(label in labels for label in hidden), labels


# ----------------------------------------------------------------------------- the paper a transfer travels on


def pdf_words(response) -> str:
    import io

    from pypdf import PdfReader
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages))


def test_a_transfer_within_one_gstin_travels_on_a_delivery_challan(engine, showroom):
    s = showroom
    scooter = unit(engine, s, vin="MD2A9TX7K4ZP31186")
    build(engine, lambda c: c.execute(sa.text("UPDATE inventory.vehicle_unit SET purchase_cost = 118000 "
                                              "WHERE unit_id = :u"), {"u": scooter}))
    assert post(s.client, "/inventory/transfers/new",
                dispatch_form(s.home, s.other, vins="MD2A9TX7K4ZP31186")).status_code == 303
    transfer = rows(engine, "SELECT transfer_id, transfer_no FROM inventory.stock_transfer")[0]
    detail = html.unescape(text(s.client.get(f"/inventory/transfers/{transfer['transfer_id']}")))
    assert f"Delivery challan {transfer['transfer_no']}" in detail and "Print the delivery challan" in detail
    words = pdf_words(s.client.get(f"/inventory/transfers/{transfer['transfer_id']}/challan.pdf"))
    assert "DELIVERY CHALLAN" in words and transfer["transfer_no"] in words and "MD2A9TX7K4ZP31186" in words
    assert "no GST charged" in words and "₹1,18,000.00" in words and "CONSIGNEE" in words
    assert scalar(engine, "SELECT count(*) FROM billing.invoice") == 0


def test_a_transfer_to_a_branch_with_another_gstin_is_billed_on_a_tax_invoice_with_igst(engine, showroom):
    s = showroom
    chennai = build(engine, lambda c: b.branch(c, state="33", prefix="CHE", city="Chennai", pincode="600001"))
    scooter = unit(engine, s, vin="MD2A9TX7K4ZP31186")

    def stock(conn):
        conn.execute(sa.text("UPDATE inventory.vehicle_unit SET purchase_cost = 120000 WHERE unit_id = :u"),
                     {"u": scooter})
        shoe = b.part(conn, part_no="BRK-SHOE-01")
        b.receive(conn, s.home, shoe, 4, "100.10")

    build(engine, stock)
    no_cost = unit(engine, s, vin="MD2A9TX7K4ZP31187")
    refused = post(s.client, "/inventory/transfers/new", dispatch_form(s.home, chennai, vins="MD2A9TX7K4ZP31187"))
    assert refused.status_code == 422 and "has no purchase cost recorded" in html.unescape(text(refused))
    assert scalar(engine, "SELECT status FROM inventory.vehicle_unit WHERE unit_id = :u", u=no_cost) == "IN_STOCK"

    response = post(s.client, "/inventory/transfers/new",
                    dispatch_form(s.home, chennai, [("BRK-SHOE-01", "2")], "MD2A9TX7K4ZP31186"))
    assert response.status_code == 303, text(response)
    inv = rows(engine, "SELECT * FROM billing.invoice")[0]
    receiver_gstin = scalar(engine, "SELECT gstin FROM master.branch WHERE branch_id = :b", b=chennai)
    assert (inv["kind"], inv["buyer_gstin"], inv["place_of_supply"], inv["delivery_state_code"]) == (
        "TRANSFER", receiver_gstin, "33", "33")
    # At cost, GST on top, between states: IGST. Vehicle 1,20,000 @ 5% = 6,000; 2 x 100.10 @ 18% = 36.04.
    assert (inv["taxable_value"], inv["cgst"], inv["igst"]) == (Decimal("120200.20"), 0, Decimal("6036.04"))
    assert scalar(engine, "SELECT count(*) FROM inventory.stock_move WHERE reference = :n", n=inv["invoice_no"]) == 0
    transfer_id = scalar(engine, "SELECT transfer_id FROM inventory.stock_transfer")
    detail = html.unescape(text(s.client.get(f"/inventory/transfers/{transfer_id}")))
    assert f"Tax invoice {inv['invoice_no']}" in detail and "Print the tax invoice" in detail
    words = pdf_words(s.client.get(f"/billing/invoices/{inv['invoice_id']}/pdf"))
    assert receiver_gstin in words and "IGST ₹6,036.04" in words and "Place of supply: T amil Nadu (33)" in words
    assert "Stock transfer to a branch registered under another GSTIN" in words
    # Undone by a transfer back, never by a credit note that would restock the sending branch.
    credit = post(s.client, f"/billing/invoices/{inv['invoice_id']}/credit-note", {"reason": "sent by mistake",
                  "key": str(__import__("uuid").uuid4())})
    assert credit.status_code == 422 and "undone by a transfer back" in html.unescape(text(credit))
    assert scalar(engine, "SELECT count(*) FROM billing.credit_note") == 0


def test_a_transfer_to_another_gstin_does_not_commit_without_its_tax_invoice(engine, showroom):
    chennai = build(engine, lambda c: b.branch(c, state="33", prefix="CHT"))
    with pytest.raises(sa.exc.IntegrityError, match="transfer_needs_tax_invoice|needs a tax invoice"):
        with engine.begin() as conn:
            conn.execute(sa.text("""INSERT INTO inventory.stock_transfer (transfer_no, branch_id, to_branch_id)
                                    VALUES ('X/TRF/1', :f, :t)"""), {"f": showroom.home, "t": chennai})
    assert scalar(engine, "SELECT count(*) FROM inventory.stock_transfer") == 0
