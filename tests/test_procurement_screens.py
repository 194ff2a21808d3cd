"""Buying from the OEM through the screens: purchase orders (draft, approval, PDF), goods receipts
from a pasted / uploaded / scanned dispatch list with its preview, purchase invoices, payments and
payables. Each test drives the real app against the real test database through the Flask client.
"""
from __future__ import annotations

import html
import io
import re
import threading
import time
from datetime import date, timedelta
from decimal import Decimal

import builders as b
import pytest
import sqlalchemy as sa
from conftest import login, page_csrf

from webapp.formatting import today_ist

D = Decimal
TODAY = today_ist()
FY = f"{(TODAY.year if TODAY.month >= 4 else TODAY.year - 1) % 100:02d}"
MFG = (TODAY.replace(day=1) - timedelta(days=1)).strftime("%m-%Y")  # last month
HEADER = "VIN\tMotor no\tBattery serials\tCharger serial\tKey no\tColour\tVariant\tMfg month"


class Shop(dict):
    __getattr__ = dict.__getitem__


def text(response) -> str:
    return response.get_data(as_text=True)


def plain(response) -> str:
    """The page's words with markup removed and entities decoded (what a person reads)."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", text(response))))


def input_tag(page: str, name: str) -> str:
    tag = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', page)
    assert tag, f"no input {name}"
    return tag.group(0)


def scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


@pytest.fixture
def shop(app, engine, logged_in):
    """A Bengaluru showroom's manager logged in; an OEM in Karnataka with one scooter in two colours,
    its price list, a brake shoe counted in units and a gear oil measured in litres."""
    client, manager_id = logged_in("MANAGER", "MGR1")
    with engine.begin() as conn:
        branch_id = conn.execute(sa.text("SELECT branch_id FROM master.staff WHERE staff_id = :s"),
                                 {"s": manager_id}).scalar()
        oem_id = b.oem(conn, state="29", brand="Ather Energy")
        model_id = b.model(conn, oem_id, name="Rizta")
        variant_id = b.variant(conn, model_id, name="Z 3.7", battery_kwh="3.70")
        for colour in ("Siachen White", "Deccan Grey"):
            b.colour(conn, variant_id, colour)
        b.price(conn, variant_id, "2024-01-01", ex_showroom="157000.00", ex_factory=D("110000.00"))
        brake = b.part(conn, part_no="BRK-SHOE-01", purchase_price="240.00")
        oil = b.part(conn, unit="LTR", part_no="GEAR-OIL-1", purchase_price="350.00")
        oem_gstin = conn.execute(sa.text("SELECT gstin FROM oem.oem WHERE oem_id = :o"), {"o": oem_id}).scalar()
    return Shop(client=client, manager=manager_id, branch=branch_id, oem=oem_id, oem_gstin=oem_gstin,
                variant=variant_id, brake=brake, oil=oil)


def sent_order(engine, shop, vehicles: int = 5, colour: str = "Siachen White", parts: dict | None = None,
               price: str = "110000.00") -> int:
    """An order already approved by the manager and sent to the OEM."""
    with engine.begin() as conn:
        po = b.purchase_order(conn, shop.branch, shop.oem, order_date=str(TODAY))
        if vehicles:
            b.po_line(conn, po, vehicles, price, variant_id=shop.variant, colour=colour)
        for part_id, qty in (parts or {}).items():
            b.po_line(conn, po, qty, "240.00", part_id=part_id)
        b.approve_po(conn, po, shop.manager)
        b.send_po(conn, po)
    return po


_serial = iter(range(1, 1_000_000))


def vehicle_row(colour="Siachen White", variant="Rizta Z 3.7", mfg=MFG, **values) -> dict:
    n = next(_serial)
    row = {"vin": b.new_vin(), "motor": f"RZM{n:07d}", "battery": f"BAT{n:07d}", "charger": f"CHG{n:07d}",
           "key": f"K{n}", "colour": colour, "variant": variant, "mfg": mfg}
    row.update(values)
    return row


def dispatch(rows: list[dict]) -> str:
    """A dispatch list as pasted from the OEM's sheet: a row of column names, then one vehicle per line."""
    keys = ("vin", "motor", "battery", "charger", "key", "colour", "variant", "mfg")
    return "\n".join([HEADER, *("\t".join(r[k] for k in keys) for r in rows)])


def receive(client, po_id: int, dispatch_list: str = "", action: str = "check", **fields):
    url = f"/procurement/orders/{po_id}/receive"
    token = page_csrf(client, url)
    return client.post(url, data={"csrf_token": token, "received_on": TODAY.isoformat(),
                                  "dispatch_list": dispatch_list, "action": action, **fields})


def dispatch_box(response) -> str:
    """What the dispatch list's text box holds (as a browser reads it: the first line break dropped)."""
    box = re.search(r'<textarea[^>]*name="dispatch_list"[^>]*>(.*?)</textarea>', text(response), re.DOTALL)
    assert box, "no dispatch list on the page"
    return re.sub(r"^\r?\n", "", html.unescape(box.group(1)))


def previewed(response) -> str:
    match = re.search(r'name="previewed" value="([0-9a-f]{64})"', text(response))
    assert match, "the preview offers no confirm button"
    return match.group(1)


def receive_and_confirm(client, po_id: int, dispatch_list: str, **fields):
    preview = receive(client, po_id, dispatch_list, **fields)
    assert preview.status_code == 200, plain(preview)
    return receive(client, po_id, dispatch_list, action="confirm", previewed=previewed(preview), **fields)


def units_in_stock(engine) -> int:
    return scalar(engine, "SELECT count(*) FROM inventory.vehicle_unit")


# ----------------------------------------------------------------------------- purchase orders


def order_form(client, oem_id: int, data: dict):
    url = f"/procurement/orders/new?oem_id={oem_id}"
    token = page_csrf(client, url)
    return client.post(url, data={"csrf_token": token, "order_date": TODAY.isoformat(), **data})


def test_a_draft_order_takes_vehicles_and_parts_at_the_usual_prices(engine, shop):
    page = shop.client.get(f"/procurement/orders/new?oem_id={shop.oem}")
    assert page.status_code == 200
    assert "Rizta Z 3.7 · Deccan Grey" in text(page)

    response = order_form(shop.client, shop.oem, {
        "vehicles-0-item": f"{shop.variant}:Siachen White", "vehicles-0-qty": "5",
        "vehicles-1-item": f"{shop.variant}:Deccan Grey", "vehicles-1-qty": "2", "vehicles-1-unit_price": "1,08,500",
        "parts-0-part_no": "brk-shoe-01", "parts-0-qty": "20",
    })
    assert response.status_code == 303, plain(response)
    po_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with engine.connect() as conn:
        lines = conn.execute(sa.text("""SELECT line_no, colour, part_id, qty, unit_price FROM procurement.po_line
                                         WHERE po_id = :po ORDER BY line_no"""), {"po": po_id}).all()
        status = conn.execute(sa.text("SELECT status, po_no FROM procurement.purchase_order WHERE po_id = :po"),
                              {"po": po_id}).one()
    # Blank price: the price list's ex-factory price; a part: its purchase price; typed: as typed.
    assert [(ln.colour, ln.qty, ln.unit_price) for ln in lines] == [
        ("Siachen White", D("5"), D("110000.00")), ("Deccan Grey", D("2"), D("108500.00")),
        (None, D("20"), D("240.00"))]
    assert tuple(status) == ("DRAFT", None)
    detail = shop.client.get(f"/procurement/orders/{po_id}")
    assert "Draft purchase order" in plain(detail)
    # 7,67,000 + 4,800 excl. GST; 5% on the scooters and 18% on the part, as CGST + SGST (same state).
    assert "₹7,71,800.00" in plain(detail)
    assert "CGST ₹19,607.00" in plain(detail)  # 13,750.00 + 5,425.00 + 432.00


def test_an_order_refuses_half_a_scooter_an_unknown_part_and_a_repeated_variant(engine, shop):
    response = order_form(shop.client, shop.oem, {
        "vehicles-0-item": f"{shop.variant}:Siachen White", "vehicles-0-qty": "2.5",
        "vehicles-1-item": f"{shop.variant}:Deccan Grey", "vehicles-1-qty": "1",
        "vehicles-2-item": f"{shop.variant}:Deccan Grey", "vehicles-2-qty": "1",
        "parts-0-part_no": "NO-SUCH-PART", "parts-0-qty": "3",
        "parts-1-part_no": "BRK-SHOE-01", "parts-1-qty": "1.5",
    })
    assert response.status_code == 422
    page = plain(response)
    assert "Vehicles are ordered in whole numbers" in page
    assert "Already on vehicle row 2" in page
    assert "No part numbered NO-SUCH-PART in the catalog" in page
    assert "Counted in whole units (NOS)" in page
    assert 'value="NO-SUCH-PART"' in text(response)  # what was typed stays
    assert scalar(engine, "SELECT count(*) FROM procurement.purchase_order") == 0


def test_gear_oil_may_be_ordered_by_the_half_litre(engine, shop):
    response = order_form(shop.client, shop.oem, {"parts-0-part_no": "GEAR-OIL-1", "parts-0-qty": "7.5"})
    assert response.status_code == 303
    assert scalar(engine, "SELECT qty FROM procurement.po_line") == D("7.500")


def test_an_empty_order_is_not_saved(engine, shop):
    response = order_form(shop.client, shop.oem, {})
    assert response.status_code == 422
    assert "Add at least one line" in plain(response)


def test_more_lines_gives_more_empty_rows_and_keeps_what_was_typed(shop):
    response = order_form(shop.client, shop.oem, {"vehicles-0-item": f"{shop.variant}:Deccan Grey",
                                                   "vehicles-0-qty": "4", "more_lines": "1"})
    assert response.status_code == 200
    assert 'name="vehicles-3-qty"' in text(response) and 'name="parts-2-qty"' in text(response)
    assert re.search(r'name="vehicles-0-qty"[^>]*value="4"', text(response))


def draft(client, shop) -> int:
    response = order_form(client, shop.oem, {"vehicles-0-item": f"{shop.variant}:Siachen White", "vehicles-0-qty": "5"})
    assert response.status_code == 303
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_a_draft_can_be_edited_until_it_is_approved(engine, shop):
    po_id = draft(shop.client, shop)
    edit = f"/procurement/orders/{po_id}/edit"
    page = shop.client.get(edit)
    assert re.search(r'name="vehicles-0-qty"[^>]*value="5"', text(page))
    token = page_csrf(shop.client, edit)
    response = shop.client.post(edit, data={"csrf_token": token, "order_date": TODAY.isoformat(),
                                            "vehicles-0-item": f"{shop.variant}:Deccan Grey", "vehicles-0-qty": "3"})
    assert response.status_code == 303
    assert scalar(engine, "SELECT colour || ' x ' || qty::int FROM procurement.po_line WHERE po_id = :p",
                  p=po_id) == "Deccan Grey x 3"

    shop.client.post(f"/procurement/orders/{po_id}/approve", data={"csrf_token": token})
    response = shop.client.get(edit)
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/procurement/orders/{po_id}")
    assert "only a draft can be changed" in plain(shop.client.get(response.headers["Location"]))


def test_the_manager_approves_and_the_order_takes_the_next_po_number(engine, shop):
    first, second = draft(shop.client, shop), draft(shop.client, shop)
    token = page_csrf(shop.client, f"/procurement/orders/{second}")
    response = shop.client.post(f"/procurement/orders/{second}/approve", data={"csrf_token": token})
    assert response.status_code == 303
    assert f"Order approved as T1PO/{FY}/1" in plain(shop.client.get(f"/procurement/orders/{second}"))
    shop.client.post(f"/procurement/orders/{first}/approve", data={"csrf_token": token})
    with engine.connect() as conn:
        rows = conn.execute(sa.text("""SELECT po_id, po_no, status, approved_by FROM procurement.purchase_order
                                        ORDER BY po_id""")).all()
    assert [(r.po_no, r.status, r.approved_by) for r in rows] == [
        (f"T1PO/{FY}/2", "APPROVED", shop.manager), (f"T1PO/{FY}/1", "APPROVED", shop.manager)]
    # Approving twice does not take another number.
    shop.client.post(f"/procurement/orders/{first}/approve", data={"csrf_token": token})
    assert "Only a draft can be approved" in plain(shop.client.get(f"/procurement/orders/{first}"))
    assert scalar(engine, "SELECT last_no FROM master.document_counter WHERE series = 'PO'") == 2


def test_accounts_drafts_an_order_but_cannot_approve_it(app, engine, shop, make_staff):
    make_staff("ACC1", "ACCOUNTS", branch_id=shop.branch)
    accounts = app.test_client()
    assert login(accounts, "ACC1", "2580").status_code == 303
    po_id = draft(accounts, shop)
    page = accounts.get(f"/procurement/orders/{po_id}")
    assert "A manager approves this draft" in plain(page) and ">Approve<" not in text(page)
    token = page_csrf(accounts, f"/procurement/orders/{po_id}")
    assert accounts.post(f"/procurement/orders/{po_id}/approve", data={"csrf_token": token}).status_code == 403
    assert scalar(engine, "SELECT status FROM procurement.purchase_order") == "DRAFT"


def test_the_database_refuses_an_approval_by_accounts_even_past_the_screens(app, engine, shop, make_staff):
    from webapp.procurement import services

    accounts_id, _, _ = make_staff("ACC2", "ACCOUNTS", branch_id=shop.branch)
    po_id = draft(shop.client, shop)
    with engine.connect() as conn, pytest.raises(sa.exc.IntegrityError) as refused:
        services.approve_purchase_order(conn, po_id, accounts_id)
    assert refused.value.orig.diag.constraint_name == "purchase_order_approver"


def test_an_order_is_sent_received_and_closed_or_cancelled(engine, shop):
    po_id = draft(shop.client, shop)
    token = page_csrf(shop.client, f"/procurement/orders/{po_id}")

    def post(action):
        return shop.client.post(f"/procurement/orders/{po_id}/{action}", data={"csrf_token": token})

    def status():
        return scalar(engine, "SELECT status FROM procurement.purchase_order WHERE po_id = :p", p=po_id)

    post("send")
    assert status() == "DRAFT"  # a draft is approved before it is sent
    assert "it cannot be marked sent" in plain(shop.client.get(f"/procurement/orders/{po_id}"))
    post("approve")
    post("send")
    assert status() == "SENT"
    assert "Receive goods" in plain(shop.client.get(f"/procurement/orders/{po_id}"))
    post("close")
    assert status() == "SENT"  # nothing received yet: cancel it instead
    post("cancel")
    assert status() == "CANCELLED"
    response = shop.client.get(f"/procurement/orders/{po_id}/receive")
    assert "Goods are received against an order sent to the OEM; this one is cancelled." in plain(response)
    assert 'name="dispatch_list"' not in text(response)


def test_the_order_list_filters_by_status_and_oem_and_answers_htmx_with_its_rows_only(engine, shop):
    drafted = draft(shop.client, shop)
    sent = sent_order(engine, shop)
    page = shop.client.get("/procurement/orders?status=SENT")
    assert page.status_code == 200 and "<html" in text(page)
    assert f"/procurement/orders/{sent}\"" in text(page) and f"/procurement/orders/{drafted}\"" not in text(page)
    rows = shop.client.get(f"/procurement/orders?oem={shop.oem}", headers={"HX-Request": "true",
                                                                          "HX-Target": "po-results"})
    assert "<html" not in text(rows) and f"/procurement/orders/{drafted}\"" in text(rows)
    assert {"HX-Request", "HX-Target"} <= set(rows.vary)
    assert f"/procurement/orders/{drafted}\"" not in text(shop.client.get(f"/procurement/orders?oem={shop.oem + 1}"))


# ----------------------------------------------------------------------------- the PO as a PDF


def pdf_text(response) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(response.get_data()))
    return "\n".join(page.extract_text() for page in reader.pages)


def pdf_fonts(response) -> set[str]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(response.get_data()))
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    return fonts


def test_the_printed_order_shows_its_number_the_oems_gstin_and_rupee_amounts(engine, shop):
    po_id = sent_order(engine, shop, vehicles=5, parts={shop.brake: 10})
    po_no = scalar(engine, "SELECT po_no FROM procurement.purchase_order WHERE po_id = :p", p=po_id)
    response = shop.client.get(f"/procurement/orders/{po_id}/pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("inline;")  # opens in the browser's viewer
    assert "object-src 'self'" in response.headers["Content-Security-Policy"]  # Chromium's viewer is a plugin
    words = re.sub(r"\s+", " ", pdf_text(response))
    squeezed = words.replace(" ", "")
    assert po_no in squeezed
    assert shop.oem_gstin in squeezed
    branch_gstin = scalar(engine, "SELECT gstin FROM master.branch WHERE branch_id = :b", b=shop.branch)
    assert branch_gstin in squeezed
    assert "₹1,10,000.00" in squeezed  # the scooter's rate
    assert "₹5,52,400.00" in squeezed  # 5,50,000 + 2,400 excl. GST
    assert "₹5,80,332.00" in squeezed  # with 27,500 + 432 GST
    # Only the fonts shipped with the app (static/fonts, named "ERP Sans" by pdf.css; they have the ₹
    # glyph), whatever the machine has installed.
    assert {font.split("+", 1)[1] for font in pdf_fonts(response)} <= {"ERP-Sans", "ERP-Sans-Bold"}


def test_a_draft_prints_as_a_draft(engine, shop):
    po_id = draft(shop.client, shop)
    words = pdf_text(shop.client.get(f"/procurement/orders/{po_id}/pdf")).replace(" ", "")
    assert "DRAFT:notapproved" in words


# ----------------------------------------------------------------------------- goods receipt


def test_a_pasted_dispatch_list_is_previewed_and_only_saved_on_confirm(engine, shop):
    po_id = sent_order(engine, shop, vehicles=5)
    rows = [vehicle_row() for _ in range(5)]
    rows[1]["battery"] = f"{rows[1]['battery']} BATX{rows[1]['battery'][3:]}"  # a scooter with two packs
    preview = receive(shop.client, po_id, dispatch(rows), dispatch_ref="EWB 1234 5678 9012")
    assert preview.status_code == 200
    page = plain(preview)
    assert "Every row is in order. Nothing is saved until you confirm." in page
    assert all(r["vin"] in page for r in rows)
    assert units_in_stock(engine) == 0

    response = receive(shop.client, po_id, dispatch(rows), action="confirm", previewed=previewed(preview),
                       dispatch_ref="EWB 1234 5678 9012")
    assert response.status_code == 303, plain(response)
    grn_page = shop.client.get(response.headers["Location"])
    assert f"Goods receipt T1GRN/{FY}/1 posted" in plain(grn_page)
    assert all(r["vin"] in plain(grn_page) for r in rows)
    with engine.connect() as conn:
        units = conn.execute(sa.text("""SELECT vin, motor_no, charger_serial, key_no, colour, status, branch_id,
                                               received_on, purchase_cost, mfg_month FROM inventory.vehicle_unit
                                         ORDER BY vin""")).all()
        packs = conn.execute(sa.text("""SELECT u.vin, p.serial, p.kwh, p.chemistry, f.fitted_on
                                          FROM inventory.battery_fitment f
                                          JOIN inventory.battery_pack p USING (pack_id)
                                          JOIN inventory.vehicle_unit u USING (unit_id)
                                         WHERE f.removed_on IS NULL ORDER BY p.serial""")).all()
        po = conn.execute(sa.text("""SELECT o.status, l.received_qty FROM procurement.purchase_order o
                                       JOIN procurement.po_line l USING (po_id) WHERE po_id = :p"""),
                          {"p": po_id}).one()
        grn = conn.execute(sa.text("SELECT grn_no, received_on, dispatch_ref FROM procurement.goods_receipt")).one()
    assert [u.vin for u in units] == sorted(r["vin"] for r in rows)
    assert {(u.status, u.branch_id, u.received_on, u.purchase_cost, u.colour) for u in units} == {
        ("IN_STOCK", shop.branch, TODAY, D("110000.00"), "Siachen White")}
    mfg = date(int(MFG[3:]), int(MFG[:2]), 1)
    assert {u.mfg_month for u in units} == {mfg}
    assert len(packs) == 6
    two = [p for p in packs if p.vin == rows[1]["vin"]]
    assert len(two) == 2 and {p.kwh for p in two} == {D("1.85")}
    assert {p.fitted_on for p in packs} == {mfg} and {p.chemistry for p in packs} == {"LFP"}
    assert tuple(po) == ("RECEIVED", D("5"))
    assert tuple(grn) == (f"T1GRN/{FY}/1", TODAY, "EWB 1234 5678 9012")


def test_a_bad_row_is_named_by_its_row_and_field_and_nothing_is_saved(engine, shop):
    po_id = sent_order(engine, shop, vehicles=5)
    rows = [vehicle_row() for _ in range(5)]
    rows[2]["vin"] = "MD2A1OQ4567890123"  # O and Q never appear in a VIN
    response = receive(shop.client, po_id, dispatch(rows))
    assert response.status_code == 422
    page = plain(response)
    # The header is row 1 of the sheet, so the third vehicle is row 4.
    assert "Row 4, VIN: “MD2A1OQ4567890123” is not a VIN: 17 letters and digits, without I, O or Q" in page
    assert "Nothing is saved" in page
    assert 'name="previewed"' not in text(response) and "Confirm and post" not in page

    # Posting "confirm" anyway (an old tab, a crafted request) saves nothing either.
    response = receive(shop.client, po_id, dispatch(rows), action="confirm", previewed="0" * 64)
    assert response.status_code == 422
    assert units_in_stock(engine) == 0
    assert scalar(engine, "SELECT count(*) FROM procurement.goods_receipt") == 0
    assert scalar(engine, "SELECT count(*) FROM master.document_counter WHERE series = 'GRN'") == 0


def test_every_kind_of_problem_in_a_dispatch_list_is_reported_by_row_and_field(engine, shop):
    po_id = sent_order(engine, shop, vehicles=9)
    with engine.begin() as conn:  # a scooter already in stock, with its battery pack
        unit = b.unit(conn, shop.variant, "Deccan Grey", shop.branch, vin="MD2A9999999999999", motor_no="RZM9999999")
        b.fit_battery(conn, b.battery_pack(conn, "BAT9999999"), unit, "2025-08-01")
    rows = [vehicle_row() for _ in range(9)]
    rows[1]["motor"] = rows[0]["motor"]                          # row 3: motor repeats row 2
    rows[2]["vin"] = "MD2A9999999999999"                         # row 4: VIN already in stock
    rows[3]["battery"] = "BAT9999999"                            # row 5: pack already in a scooter
    rows[4]["colour"] = "Ruby Red"                                # row 6: not a colour of the variant
    rows[5]["variant"] = "Rizta S"                               # row 7: not a variant of the OEM
    rows[6]["mfg"] = "13-2025"                                   # row 8: no 13th month
    rows[7]["colour"] = "Deccan Grey"                            # row 9: colour not on this order
    rows[8]["charger"] = rows[0]["charger"]                      # row 10: charger repeats row 2
    response = receive(shop.client, po_id, dispatch(rows))
    assert response.status_code == 422
    page = plain(response)
    for message in (
        f"Row 3, Motor no: “{rows[0]['motor']}” is also on row 2",
        "Row 4, VIN: “MD2A9999999999999” is already in the showroom's stock records",
        "Row 5, Battery serials: “BAT9999999” is already in stock on VIN MD2A9999999999999",
        "Row 6, Colour: “Ruby Red” is not a colour of Z 3.7 (ordered: Siachen White)",
        "Row 7, Variant: “Rizta S” is not a variant of Ather Energy",
        "Row 8, Mfg month: “13-2025” is not a month",
        "Row 9, Colour: “Deccan Grey” is not on this purchase order (ordered: Siachen White)",
        f"Row 10, Charger serial: “{rows[0]['charger']}” is also on row 2",
    ):
        assert message in page, message
    assert units_in_stock(engine) == 1


def test_more_vehicles_than_ordered_are_refused(engine, shop):
    po_id = sent_order(engine, shop, vehicles=2)
    response = receive(shop.client, po_id, dispatch([vehicle_row() for _ in range(3)]))
    assert response.status_code == 422
    assert ("Row 4, Variant: more than ordered: line 1 (Rizta Z 3.7 · Siachen White) awaits 2 and this list has 3"
            in plain(response))
    assert "Row 3," not in plain(response)
    assert units_in_stock(engine) == 0


def test_a_second_receipt_counts_what_the_first_one_brought(engine, shop):
    po_id = sent_order(engine, shop, vehicles=3)
    assert receive_and_confirm(shop.client, po_id, dispatch([vehicle_row() for _ in range(2)])).status_code == 303
    assert scalar(engine, "SELECT status FROM procurement.purchase_order") == "PART_RECEIVED"
    response = receive(shop.client, po_id, dispatch([vehicle_row() for _ in range(2)]))
    assert "awaits 1 and this list has 2" in plain(response)
    assert receive_and_confirm(shop.client, po_id, dispatch([vehicle_row()])).status_code == 303
    assert scalar(engine, "SELECT string_agg(grn_no, ' ' ORDER BY grn_id) FROM procurement.goods_receipt") == (
        f"T1GRN/{FY}/1 T1GRN/{FY}/2")
    assert scalar(engine, "SELECT status FROM procurement.purchase_order") == "RECEIVED"


def test_a_list_changed_after_its_preview_is_previewed_again_not_saved(engine, shop):
    po_id = sent_order(engine, shop, vehicles=2)
    rows = [vehicle_row() for _ in range(2)]
    preview = receive(shop.client, po_id, dispatch(rows[:1]))
    response = receive(shop.client, po_id, dispatch(rows), action="confirm", previewed=previewed(preview))
    assert response.status_code == 200
    assert "The list changed after its preview" in plain(response)
    assert units_in_stock(engine) == 0


def test_a_list_without_column_names_reads_the_standard_columns_and_names_its_rows_by_line(engine, shop):
    po_id = sent_order(engine, shop, vehicles=2)
    good, bad = vehicle_row(), vehicle_row(motor="M1")
    pasted = "\n".join("\t".join(r[k] for k in ("vin", "motor", "battery", "charger", "key", "colour", "variant",
                                                  "mfg")) for r in (good, bad))
    response = receive(shop.client, po_id, pasted)
    assert "Row 2, Motor no: “M1” is not a serial number" in plain(response)


def test_a_csv_from_the_oem_with_its_own_column_names_and_order(engine, shop):
    po_id = sent_order(engine, shop, vehicles=2)
    r1, r2 = vehicle_row(mfg="Aug-2025"), vehicle_row(mfg="2025-09")
    csv_text = ("S.No,Chassis No,Color,Motor Number,Battery 1,Battery 2,Charger Sl No,Mfg Date\r\n"
                f"1,{r1['vin']},siachen white,{r1['motor']},{r1['battery']},,{r1['charger']},{r1['mfg']}\r\n"
                f"2,{r2['vin']},Siachen White,{r2['motor']},{r2['battery']},{r2['battery']}B,,{r2['mfg']}\r\n")
    url = f"/procurement/orders/{po_id}/receive"
    response = shop.client.post(url, data={
        "csrf_token": page_csrf(shop.client, url), "received_on": TODAY.isoformat(), "dispatch_list": "",
        "action": "confirm", "upload": (io.BytesIO(csv_text.encode()), "dispatch.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 200, plain(response)  # a new file is previewed, never saved at once
    assert "Every row is in order" in plain(response) and units_in_stock(engine) == 0
    assert r1["vin"] in text(response)  # the file's rows are now the list to confirm
    confirm = receive(shop.client, po_id, dispatch_box(response), action="confirm", previewed=previewed(response))
    assert confirm.status_code == 303
    with engine.connect() as conn:
        units = conn.execute(sa.text("""SELECT vin, mfg_month, colour,
                                               (SELECT count(*) FROM inventory.battery_fitment f
                                                 WHERE f.unit_id = u.unit_id) AS packs
                                          FROM inventory.vehicle_unit u ORDER BY mfg_month""")).all()
    assert [(u.vin, u.mfg_month, u.colour, u.packs) for u in units] == [
        (r1["vin"], date(2025, 8, 1), "Siachen White", 1), (r2["vin"], date(2025, 9, 1), "Siachen White", 2)]


def test_an_xlsx_dispatch_list_is_read_with_its_month_cells(engine, shop):
    from openpyxl import Workbook

    po_id = sent_order(engine, shop, vehicles=2)
    rows = [vehicle_row(), vehicle_row()]
    book = Workbook()
    sheet = book.active
    sheet.append(["VIN", "Motor No", "Battery Serial", "Charger Serial", "Key No", "Colour", "Model", "Mfg Month"])
    sheet.append([rows[0]["vin"], rows[0]["motor"], rows[0]["battery"], rows[0]["charger"], 4711, "Siachen White",
                  "Rizta Z 3.7", date(2025, 7, 1)])
    sheet.append([rows[1]["vin"], "BAD", rows[1]["battery"], None, None, "Siachen White", "Z 3.7", "Jul-2025"])
    data = io.BytesIO()
    book.save(data)
    data.seek(0)
    url = f"/procurement/orders/{po_id}/receive"
    response = shop.client.post(url, data={
        "csrf_token": page_csrf(shop.client, url), "received_on": TODAY.isoformat(), "action": "check",
        "upload": (data, "chassis-list.xlsx")}, content_type="multipart/form-data")
    assert response.status_code == 422
    page = plain(response)
    assert "Row 3, Motor no: “BAD” is not a serial number" in page
    assert "Row 2," not in page
    assert "07-2025" in page and "4711" in page


def test_an_upload_that_is_not_a_spreadsheet_is_refused(engine, shop):
    po_id = sent_order(engine, shop, vehicles=1)
    url = f"/procurement/orders/{po_id}/receive"
    response = shop.client.post(url, data={
        "csrf_token": page_csrf(shop.client, url), "received_on": TODAY.isoformat(), "action": "check",
        "upload": (io.BytesIO(b"%PDF-1.7"), "invoice.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Upload the dispatch list as a .csv or .xlsx file" in plain(response)


def test_vehicles_scanned_one_at_a_time_build_the_list(engine, shop):
    po_id = sent_order(engine, shop, vehicles=2)
    line_id = scalar(engine, "SELECT po_line_id FROM procurement.po_line WHERE po_id = :p", p=po_id)
    listed = ""
    for row in (vehicle_row(), vehicle_row()):
        response = receive(shop.client, po_id, listed, action="add", scan_line=str(line_id),
                           scan_mfg_month=TODAY.strftime("%Y-%m"), scan_vin=row["vin"].lower(),
                           scan_motor_no=row["motor"], scan_batteries=row["battery"],
                           scan_charger_serial=row["charger"], scan_key_no=row["key"])
        assert response.status_code == 200, plain(response)
        listed = dispatch_box(response)
        assert row["vin"] in listed
        assert "autofocus" in input_tag(text(response), "scan_vin")  # ready for the next scan
    assert listed.splitlines()[0] == HEADER and len(listed.splitlines()) == 3
    assert units_in_stock(engine) == 0
    assert receive_and_confirm(shop.client, po_id, listed).status_code == 303
    assert units_in_stock(engine) == 2


def test_parts_are_received_by_quantity_at_cost_in_whole_units(engine, shop):
    po_id = sent_order(engine, shop, vehicles=0, parts={shop.brake: 10})
    response = receive(shop.client, po_id, **{"parts-0-qty": "2.5", "parts-0-unit_cost": "240"})
    assert response.status_code == 422 and "Counted in whole units (NOS)" in plain(response)
    response = receive(shop.client, po_id, **{"parts-0-qty": "11", "parts-0-unit_cost": "240"})
    assert response.status_code == 422 and "Only 10 still awaited" in plain(response)
    response = receive(shop.client, po_id)
    assert response.status_code == 422 and "Nothing to receive" in plain(response)

    confirm = receive_and_confirm(shop.client, po_id, "", **{"parts-0-qty": "6", "parts-0-unit_cost": "250.50"})
    assert confirm.status_code == 303
    with engine.connect() as conn:
        move = conn.execute(sa.text("SELECT kind, qty, unit_cost, value, reference FROM inventory.stock_move")).one()
        stock = conn.execute(sa.text("SELECT qty, value FROM inventory.part_stock WHERE part_id = :p"),
                             {"p": shop.brake}).one()
    assert tuple(move) == ("RECEIPT", D("6"), D("250.5"), D("1503.00"), f"T1GRN/{FY}/1")
    assert tuple(stock) == (D("6"), D("1503.00"))
    assert scalar(engine, "SELECT status FROM procurement.purchase_order") == "PART_RECEIVED"


def test_a_500_vehicle_dispatch_list_is_checked_and_posted_quickly(engine, shop):
    po_id = sent_order(engine, shop, vehicles=500)
    listed = dispatch([vehicle_row() for _ in range(500)])
    started = time.perf_counter()
    preview = receive(shop.client, po_id, listed)
    checked = time.perf_counter() - started
    assert preview.status_code == 200, plain(preview)[:2000]
    assert text(preview).count("<td>✓</td>") == 500  # every row checked and shown
    token = previewed(preview)
    started = time.perf_counter()
    response = receive(shop.client, po_id, listed, action="confirm", previewed=token)
    posted = time.perf_counter() - started
    assert response.status_code == 303
    assert units_in_stock(engine) == 500
    assert scalar(engine, "SELECT count(*) FROM inventory.battery_fitment") == 500
    print(f"500 vehicles: preview {checked:.2f} s, confirm {posted:.2f} s")
    assert checked < 2 and posted < 2


# ----------------------------------------------------------------------------- purchase invoices and payments


def received(engine, shop, client, vehicles=2, parts=None) -> int:
    """A sent order received in full; returns the GRN id."""
    po_id = sent_order(engine, shop, vehicles=vehicles, parts=parts)
    response = receive_and_confirm(client, po_id, dispatch([vehicle_row() for _ in range(vehicles)]),
                                   **{f"parts-{n}-qty": str(q) for n, q in enumerate((parts or {}).values())})
    assert response.status_code == 303, plain(response)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def invoice_form(client, oem_id, data):
    url = f"/procurement/invoices/new?oem_id={oem_id}"
    return client.post(url, data={"csrf_token": page_csrf(client, url), **data})


def test_the_oems_invoice_is_prefilled_from_the_receipt_with_cgst_and_sgst(engine, shop):
    grn_id = received(engine, shop, shop.client, vehicles=2, parts={shop.brake: 5})
    page = shop.client.get(f"/procurement/invoices/new?oem_id={shop.oem}&grn_id={grn_id}")
    assert page.status_code == 200
    # 2 x 1,10,000 at 5% + 5 x 240 at 18%: CGST = SGST = 5,500.00 + 108.00
    for name, value in (("taxable_value", "221200.00"), ("cgst", "5608.00"), ("sgst", "5608.00"),
                        ("round_off", "0.00"), ("total", "232416.00")):
        assert re.search(rf'name="{name}"[^>]*value="{value}"', text(page)), name
    assert 'name="igst"' not in text(page)  # the OEM is in the branch's state

    response = invoice_form(shop.client, shop.oem, {
        "receipts": str(grn_id), "supplier_invoice_no": "ATH/25-26/0042", "invoice_date": TODAY.isoformat(),
        "due_date": (TODAY + timedelta(days=30)).isoformat(), "taxable_value": "2,21,200.00", "cgst": "5608",
        "sgst": "5608", "round_off": "0", "total": "232416", "action": "save"})
    assert response.status_code == 303, plain(response)
    with engine.connect() as conn:
        invoice = conn.execute(sa.text("""SELECT supplier_invoice_no, taxable_value, cgst, sgst, igst, total
                                            FROM procurement.purchase_invoice""")).one()
        billed = conn.execute(sa.text("SELECT grn_id FROM procurement.purchase_invoice_grn")).scalar()
    assert tuple(invoice) == ("ATH/25-26/0042", D("221200.00"), D("5608.00"), D("5608.00"), D("0.00"),
                              D("232416.00"))
    assert billed == grn_id
    # The same OEM invoice number cannot be entered twice in a financial year.
    second = received(engine, shop, shop.client, vehicles=1)
    response = invoice_form(shop.client, shop.oem, {
        "receipts": str(second), "supplier_invoice_no": "ATH/25-26/0042", "invoice_date": TODAY.isoformat(),
        "due_date": TODAY.isoformat(), "taxable_value": "110000", "cgst": "2750", "sgst": "2750", "total": "115500",
        "action": "save"})
    assert response.status_code == 422
    assert "already entered for this financial year" in plain(response)


def test_an_invoice_from_another_state_carries_igst_and_must_add_up(app, engine, shop):
    with engine.begin() as conn:
        oem_id = b.oem(conn, state="27", brand="Ola Electric")
        model_id = b.model(conn, oem_id, name="S1")
        variant_id = b.variant(conn, model_id, name="Pro", battery_kwh="4.00")
        b.colour(conn, variant_id, "Jet Black")
    shop = Shop({**shop, "oem": oem_id, "variant": variant_id})
    po_id = sent_order(engine, shop, vehicles=1, colour="Jet Black", price="99999.99")
    response = receive_and_confirm(shop.client, po_id, dispatch([vehicle_row(colour="Jet Black", variant="S1 Pro")]))
    assert response.status_code == 303, plain(response)
    grn_id = int(response.headers["Location"].rsplit("/", 1)[1])
    url = f"/procurement/invoices/new?oem_id={oem_id}"
    prefill = shop.client.post(url, data={"csrf_token": page_csrf(shop.client, url), "receipts": str(grn_id),
                                          "invoice_date": TODAY.isoformat(), "action": "prefill"})
    assert prefill.status_code == 200
    # 99,999.99 + 5% IGST 5,000.00 = 1,04,999.99, rounded to 1,05,000 with 0.01 round off.
    for name, value in (("igst", "5000.00"), ("round_off", "0.01"), ("total", "105000.00")):
        assert re.search(rf'name="{name}"[^>]*value="{value}"', text(prefill)), name
    assert 'name="cgst"' not in text(prefill)
    due = f"{TODAY + timedelta(days=30):%d-%m-%Y}"
    assert re.search(rf'name="due_date"[^>]*value="{due}"', text(prefill))

    response = invoice_form(shop.client, oem_id, {
        "receipts": str(grn_id), "supplier_invoice_no": "OLA-9981", "invoice_date": TODAY.isoformat(),
        "due_date": due, "taxable_value": "99999.99", "igst": "5000", "round_off": "0.01", "total": "105001",
        "action": "save"})
    assert response.status_code == 422
    assert "Taxable value + tax + round off come to ₹1,05,000.00, not ₹1,05,001.00" in plain(response)
    assert scalar(engine, "SELECT count(*) FROM procurement.purchase_invoice") == 0


def test_payments_never_exceed_what_is_due_and_payables_age_by_due_date(engine, shop):
    grn_id = received(engine, shop, shop.client, vehicles=1)
    response = invoice_form(shop.client, shop.oem, {
        "receipts": str(grn_id), "supplier_invoice_no": "ATH-77",
        "invoice_date": (TODAY - timedelta(days=50)).isoformat(),
        "due_date": (TODAY - timedelta(days=45)).isoformat(), "taxable_value": "110000", "cgst": "2750",
        "sgst": "2750", "total": "115500", "action": "save"})
    assert response.status_code == 303, plain(response)
    invoice_url = response.headers["Location"]
    payments = invoice_url + "/payments"

    def pay(amount, mode="BANK_TRANSFER", reference="UTR123456"):
        token = page_csrf(shop.client, invoice_url)
        return shop.client.post(payments, data={"csrf_token": token, "paid_on": TODAY.isoformat(), "amount": amount,
                                                "mode": mode, "reference": reference})

    assert "Enter the reference of the payment" in plain(pay("1000", reference=""))
    assert pay("15,500", mode="CASH", reference="").status_code == 303
    refused = pay("1,00,000.01")
    assert refused.status_code == 422
    assert "Only ₹1,00,000.00 is still due on this invoice" in plain(refused)

    payables = plain(shop.client.get("/procurement/payables"))
    assert "31-60 days overdue ₹1,00,000.00" in payables
    assert "Total outstanding ₹1,00,000.00" in payables
    assert "ATH-77 Ather Energy" in payables and "₹1,15,500.00 ₹1,00,000.00 31-60 days overdue" in payables
    invoices = plain(shop.client.get("/procurement/invoices"))
    assert "ATH-77" in invoices and "₹1,15,500.00 ₹15,500.00 ₹1,00,000.00" in invoices
    assert pay("100000").status_code == 303
    assert "Paid" in plain(shop.client.get(invoice_url))
    assert "Nothing owed" in plain(shop.client.get("/procurement/payables"))
    assert scalar(engine, "SELECT sum(amount) FROM procurement.supplier_payment") == D("115500.00")


def test_a_receipt_is_billed_only_once(engine, shop):
    grn_id = received(engine, shop, shop.client, vehicles=1)
    data = {"receipts": str(grn_id), "invoice_date": TODAY.isoformat(), "due_date": TODAY.isoformat(),
            "taxable_value": "110000", "cgst": "2750", "sgst": "2750", "total": "115500", "action": "save"}
    assert invoice_form(shop.client, shop.oem, {**data, "supplier_invoice_no": "A-1"}).status_code == 303
    again = invoice_form(shop.client, shop.oem, {**data, "supplier_invoice_no": "A-2"})
    assert again.status_code == 422
    assert scalar(engine, "SELECT count(*) FROM procurement.purchase_invoice") == 1
    assert "No goods receipt from Ather Energy at this branch is waiting for its invoice" in plain(
        shop.client.get(f"/procurement/invoices/new?oem_id={shop.oem}"))


def test_the_receipt_list_finds_a_receipt_by_a_vin_and_offers_the_invoice(engine, shop):
    rows = [vehicle_row(), vehicle_row()]
    po_id = sent_order(engine, shop, vehicles=2)
    assert receive_and_confirm(shop.client, po_id, dispatch(rows)).status_code == 303
    found = shop.client.get(f"/procurement/receipts?q={rows[1]['vin'][-6:]}",
                            headers={"HX-Request": "true", "HX-Target": "grn-results"})
    assert "<html" not in text(found)
    assert f"T1GRN/{FY}/1" in plain(found) and "Enter invoice" in plain(found)
    assert "No goods receipts match" in plain(shop.client.get("/procurement/receipts?q=NOSUCHVIN"))


def test_a_receipt_that_fails_halfway_leaves_nothing_behind(app, engine, shop, monkeypatch):
    from webapp.procurement import queries

    po_id = sent_order(engine, shop, vehicles=2, parts={shop.brake: 5})
    listed = dispatch([vehicle_row(), vehicle_row()])
    preview = receive(shop.client, po_id, listed, **{"parts-0-qty": "5"})

    def disk_full(*args, **kwargs):
        raise RuntimeError("disk full (simulated) after the vehicles were written")

    monkeypatch.setattr(queries, "insert_received_parts", disk_full)
    response = receive(shop.client, po_id, listed, action="confirm", previewed=previewed(preview),
                       **{"parts-0-qty": "5"})
    assert response.status_code == 500
    assert units_in_stock(engine) == 0
    assert scalar(engine, "SELECT count(*) FROM inventory.battery_pack") == 0
    assert scalar(engine, "SELECT count(*) FROM procurement.goods_receipt") == 0
    assert scalar(engine, "SELECT received_qty FROM procurement.po_line WHERE variant_id IS NOT NULL") == 0
    assert scalar(engine, "SELECT count(*) FROM master.document_counter WHERE series = 'GRN'") == 0
    assert scalar(engine, "SELECT status FROM procurement.purchase_order") == "SENT"


# A race between two requests on their own connections.
@pytest.mark.commits
def test_two_people_posting_the_same_truck_at_once_post_it_once(app, engine, shop):
    """The order row is locked first: the second posting waits, then finds the first one's vehicles."""
    from webapp.procurement import services

    po_id = sent_order(engine, shop, vehicles=4)
    listed = dispatch([vehicle_row(), vehicle_row()])
    post = {"po_id": po_id, "received_on": TODAY, "dispatch_ref": None, "dispatch_text": listed, "parts": []}
    outcome = b.Outcome()
    with b.separate_connections(engine) as shared:
        first = shared.connect()
        services.post_goods_receipt(first, **post)  # not yet committed: it holds the order's lock

        def second_desk():
            with shared.connect() as conn:
                b.tag(conn, "second-desk")
                conn.commit()
                try:
                    with conn.begin():
                        outcome.result = services.post_goods_receipt(conn, **post)
                    outcome.ok = True
                except services.ReceiptRefused as refused:
                    outcome.error = refused

        desk = threading.Thread(target=second_desk)
        desk.start()
        b.wait_until_blocked(shared, "second-desk")
        first.commit()
        first.close()
        desk.join(timeout=10)
    assert not outcome.ok
    assert "is already in the showroom's stock records" in " ".join(outcome.error.check.messages)
    assert units_in_stock(engine) == 2
    assert scalar(engine, "SELECT string_agg(grn_no, ' ') FROM procurement.goods_receipt") == f"T1GRN/{FY}/1"


def test_the_invoice_takes_the_gst_rate_in_force_on_its_own_date(engine, shop):
    grn_id = received(engine, shop, shop.client, vehicles=1, parts={shop.brake: 5})
    url = f"/procurement/invoices/new?oem_id={shop.oem}"
    # Spare parts were 28% until 21-09-2025 and 18% from 22-09-2025; scooters 5% throughout.
    for on, cgst in (("2025-09-21", "2918.00"), ("2025-09-22", "2858.00")):
        prefill = shop.client.post(url, data={"csrf_token": page_csrf(shop.client, url), "receipts": str(grn_id),
                                              "invoice_date": on, "action": "prefill"})
        assert re.search(rf'name="cgst"[^>]*value="{cgst}"', text(prefill)), on


# ----------------------------------------------------------------------------- money and the list's values


def test_gst_on_an_amount_is_split_in_equal_halves_within_the_state_and_whole_across_states():
    from webapp.procurement.services import line_gst

    assert line_gst(D("99999.99"), D("5"), True) == {"cgst": D("2500.00"), "sgst": D("2500.00"), "igst": D("0.00")}
    assert line_gst(D("99999.99"), D("5"), False) == {"cgst": D("0.00"), "sgst": D("0.00"), "igst": D("5000.00")}
    assert line_gst(D("1.10"), D("18"), True)["cgst"] == D("0.10")  # 0.099 to the paisa, half up


def test_an_invoice_total_is_rounded_to_the_rupee_with_a_visible_round_off():
    from webapp.procurement.services import add_up, round_to_rupee

    assert round_to_rupee(D("104999.99")) == (D("105000.00"), D("0.01"))
    assert round_to_rupee(D("104999.49")) == (D("104999.00"), D("-0.49"))
    assert round_to_rupee(D("104999.50")) == (D("105000.00"), D("0.50"))
    totals = add_up([(D("110000.00"), D("5"), "871160"), (D("1200.00"), D("18"), "8714"),
                     (D("10.00"), None, "9999")], same_state=True)
    assert (totals.taxable, totals.cgst, totals.sgst, totals.total, totals.round_off) == (
        D("111210.00"), D("2858.00"), D("2858.00"), D("116926.00"), D("0.00"))
    assert totals.missing_rates == ["9999"]


@pytest.mark.parametrize(("written", "month"), [
    ("08-2025", date(2025, 8, 1)), ("8/2025", date(2025, 8, 1)), ("2025-08", date(2025, 8, 1)),
    ("2025-08-01", date(2025, 8, 1)), ("15/08/2025", date(2025, 8, 1)), ("Aug-2025", date(2025, 8, 1)),
    ("aug 25", date(2025, 8, 1)), ("August 2025", date(2025, 8, 1)), ("Sept 2025", date(2025, 9, 1)),
    ("13-2025", None), ("2025", None), ("Agu-2025", None), ("00/2025", None), ("1999-12", None),
])
def test_a_month_of_manufacture_is_read_the_ways_oems_write_it(written, month):
    from webapp.procurement.dispatch import parse_month

    assert parse_month(written) == month


def test_a_month_after_the_vehicles_arrived_is_refused():
    from webapp.procurement.dispatch import parse_month

    assert parse_month("11-2026", date(2026, 11, 3)) == date(2026, 11, 1)
    assert parse_month("12-2026", date(2026, 11, 3)) is None


def test_the_dispatch_list_reads_column_names_in_any_order_and_language_of_the_oem():
    from webapp.procurement.dispatch import parse_dispatch_list

    listed = ("Sl No;Frame No;Model;Variant;Colour;Motor Sl No;Pack No;Pack No 2;Mfd\n"
              "1;MD2A12345678ABCDE;Rizta;Z 3.7;Red;RZM0000001;BAT1 ;BAT2;08/2025\n"
              "\n"
              "2;md2a12345678abcdf;Rizta;Z 3.7;Red;rzm0000002;BAT3+BAT4;;Aug-25\n")
    read = parse_dispatch_list(listed)
    assert read.has_header and read.is_clean, read.messages
    first, second = read.rows
    assert (first.row_no, first.vin, first.motor_no, first.batteries, first.variant) == (
        2, "MD2A12345678ABCDE", "RZM0000001", ["BAT1", "BAT2"], "Rizta Z 3.7")
    assert (second.row_no, second.vin, second.batteries, second.mfg_month) == (
        4, "MD2A12345678ABCDF", ["BAT3", "BAT4"], date(2025, 8, 1))


def test_a_list_without_a_vin_column_says_so_on_its_first_row():
    from webapp.procurement.dispatch import parse_dispatch_list

    read = parse_dispatch_list("Motor no,Battery,Mfg month\nRZM0000001,BAT1,08-2025")
    assert read.problems == [
        "Row 1: the list has no VIN column (the column names found: Motor no, Battery, Mfg month)"]


def test_a_scanned_vehicle_is_added_in_the_lists_own_columns_without_moving_its_rows():
    from webapp.procurement.dispatch import header_line, in_standard_layout, with_vehicle_added

    pasted = "Chassis,Motor,Mfg\n\nMD2A12345678ABCDE,RZM0000001,08-2025"
    assert in_standard_layout(pasted).splitlines()[2].startswith("MD2A12345678ABCDE\tRZM0000001\t")
    added = with_vehicle_added(pasted, {"vin": "MD2A12345678ABCDF", "motor_no": "RZM0000002",
                                        "mfg_month": "2025-08"}).splitlines()
    assert added[0] == header_line() and added[2].startswith("MD2A12345678ABCDE") and len(added) == 4
    assert added[3] == "MD2A12345678ABCDF\tRZM0000002\t\t\t\t\t\t2025-08"
