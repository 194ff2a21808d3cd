"""The Tally export (webapp/finance/tally.py, tally_views.py): vouchers of every type posted through
webapp/finance/api.py, downloaded as Tally import XML and parsed back with ElementTree: the envelope,
dates as YYYYMMDD, each voucher's AMOUNTs adding up to zero with signs that match ISDEEMEDPOSITIVE
(a debit Yes and negative), the amounts the books hold, the party, only the chosen branch and
period, every ledger a voucher names present in the masters file with its parent, GST duty ledgers
with their duty head, a party's GSTIN, '&' escaped; and the Tally company's name as a setting."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, timedelta
from decimal import Decimal

import builders as b
import pytest
import sqlalchemy as sa
from conftest import csrf_from, login

from webapp.finance import api, tally

PIN = "2580"
D = Decimal
ON = date(2026, 5, 14)
FROM, TO = "01-05-2026", "31-05-2026"
# Tally's own groups: a ledger's PARENT is one of these or a group the masters file makes.
TALLY_GROUPS = {"Capital Account", "Loans (Liability)", "Current Liabilities", "Suspense A/c", "Branch / Divisions",
                "Fixed Assets", "Investments", "Current Assets", "Misc. Expenses (ASSET)", "Sales Accounts",
                "Direct Incomes", "Indirect Incomes", "Purchase Accounts", "Direct Expenses", "Indirect Expenses",
                "Reserves & Surplus", "Secured Loans", "Unsecured Loans", "Bank OD A/c", "Duties & Taxes", "Provisions",
                "Sundry Creditors", "Bank Accounts", "Cash-in-Hand", "Deposits (Asset)", "Loans & Advances (Asset)",
                "Stock-in-Hand", "Sundry Debtors"}


def seed_books(conn, branch_id: int, other_branch: int, on: date = ON) -> dict:
    """One voucher of each of the eight types dated ``on`` (a customer 'Sharma & Sons' with a GSTIN, an
    OEM, a ledger under groups the company added), one voucher 19 days later and one of another branch."""
    gstin = b.make_gstin("29")
    customer = api.party_ledger(conn, "CUSTOMER", b.customer(conn, branch_id, name="Sharma & Sons", gstin=gstin))
    oem = api.party_ledger(conn, "OEM", b.oem(conn))
    key = {k: api.ledger_key(conn, k) for k in (
        "CASH", "BANK", "SALES_VEHICLE", "OUTPUT_CGST", "OUTPUT_SGST", "INPUT_IGST", "PURCHASE_VEHICLE",
        "ROUND_OFF", "SUSPENSE")}
    parent = b.scalar(conn, """
        INSERT INTO finance.account_group (name, parent_id, nature)
        SELECT 'Deposits & Advances - OEM', group_id, 'ASSETS' FROM finance.account_group
         WHERE name = 'Current Assets' RETURNING group_id""")
    child = b.scalar(conn, """INSERT INTO finance.account_group (name, parent_id, nature)
                              VALUES ('Scheme Deposits', :p, 'ASSETS') RETURNING group_id""", p=parent)
    deposit = b.scalar(conn, """INSERT INTO finance.ledger (name, group_id) VALUES ('Deposit with OEM', :g)
                                RETURNING ledger_id""", g=child)

    def post(kind, number, lines, day=on, branch=branch_id):
        return api.post_voucher(conn, branch_id=branch, voucher_type=kind, on=day, number=number,
                                narration=f"{kind.title()} {number} for Sharma & Sons",
                                lines=[api.Line(ledger, D(amount)) for ledger, amount in lines])

    post("SALES", "T1/INV/26/1", [(customer, "118000.00"), (key["SALES_VEHICLE"], "-100000.00"),
                                  (key["OUTPUT_CGST"], "-9000.00"), (key["OUTPUT_SGST"], "-9000.00")])
    post("RECEIPT", "T1/RCP/26/1", [(key["BANK"], "50000.00"), (customer, "-50000.00")])
    post("CREDIT_NOTE", "T1/CN/26/1", [(key["SALES_VEHICLE"], "1000.00"), (key["OUTPUT_CGST"], "90.00"),
                                       (key["OUTPUT_SGST"], "90.00"), (customer, "-1180.00")])
    post("PURCHASE", "OEM/INV/7781", [(key["PURCHASE_VEHICLE"], "80000.00"), (key["INPUT_IGST"], "4000.00"),
                                      (oem, "-84000.00")])
    post("PAYMENT", "T1/PV/26/1", [(oem, "84000.00"), (key["BANK"], "-84000.00")])
    post("DEBIT_NOTE", "T1/DN/26/1", [(oem, "500.00"), (key["PURCHASE_VEHICLE"], "-500.00")])
    post("JOURNAL", "T1/JV/26/1", [(deposit, "2500.00"), (key["ROUND_OFF"], "0.40"), (key["SUSPENSE"], "-2500.40")])
    post("CONTRA", "T1/CV/26/1", [(key["BANK"], "20000.00"), (key["CASH"], "-20000.00")])
    post("SALES", "T1/INV/26/2", [(key["CASH"], "1180.00"), (key["SALES_VEHICLE"], "-1180.00")],
         day=on + timedelta(days=19))
    post("SALES", "XX/INV/26/9", [(key["CASH"], "999.00"), (key["SALES_VEHICLE"], "-999.00")], branch=other_branch)
    conn.execute(sa.text("SET CONSTRAINTS ALL IMMEDIATE"))   # every voucher above balances
    return {"branch_id": branch_id, "other_branch": other_branch, "gstin": gstin}


@pytest.fixture
def books(app, engine, make_branch, make_staff):
    branch_id = make_branch()
    other_branch = make_branch()
    accountant, _, _ = make_staff("AC1", "ACCOUNTS", PIN, branch_id=branch_id)
    make_staff("MG1", "MANAGER", PIN, branch_id=branch_id)
    with engine.begin() as conn:
        b.act_as(conn, accountant)
        return seed_books(conn, branch_id, other_branch)


def _client(app, code="AC1"):
    client = app.test_client()
    assert login(client, code, PIN).status_code == 303
    return client


def _download(client, which: str, **args):
    response = client.get(f"/finance/tally/{which}.xml", query_string={"from": FROM, "to": TO, **args})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.headers["Content-Disposition"].startswith("attachment;")
    return response.get_data()


def _envelope(raw: bytes, report: str) -> list[ET.Element]:
    root = ET.fromstring(raw)
    assert root.tag == "ENVELOPE"
    assert [c.tag for c in root] == ["HEADER", "BODY"]
    assert root.findtext("HEADER/TALLYREQUEST") == "Import Data"
    desc = root.find("BODY/IMPORTDATA/REQUESTDESC")
    assert desc.findtext("REPORTNAME") == report
    assert desc.findtext("STATICVARIABLES/SVCURRENTCOMPANY")
    messages = root.findall("BODY/IMPORTDATA/REQUESTDATA/TALLYMESSAGE")
    assert all(len(m) == 1 for m in messages)
    return [m[0] for m in messages]


def _entries(voucher: ET.Element) -> list[tuple[str, str, str, Decimal]]:
    return [(e.findtext("LEDGERNAME"), e.findtext("ISDEEMEDPOSITIVE"), e.findtext("ISPARTYLEDGER"),
             Decimal(e.findtext("AMOUNT"))) for e in voucher.findall("ALLLEDGERENTRIES.LIST")]


def test_vouchers_of_every_type_come_out_balanced_signed_and_dated_as_tally_reads_them(app, books):
    client = _client(app)
    raw = _download(client, "vouchers")
    vouchers = _envelope(raw, "Vouchers")
    assert all(v.tag == "VOUCHER" for v in vouchers)
    by_number = {v.findtext("VOUCHERNUMBER"): v for v in vouchers}
    # the period's eight, not June's, not the other branch's
    assert set(by_number) == {"T1/INV/26/1", "T1/RCP/26/1", "T1/CN/26/1", "OEM/INV/7781", "T1/PV/26/1",
                              "T1/DN/26/1", "T1/JV/26/1", "T1/CV/26/1"}
    assert {v.get("VCHTYPE") for v in vouchers} == {"Sales", "Receipt", "Credit Note", "Purchase", "Payment",
                                                      "Debit Note", "Journal", "Contra"}
    for v in vouchers:
        number = v.findtext("VOUCHERNUMBER")
        assert v.get("ACTION") == "Create"
        assert v.findtext("VOUCHERTYPENAME") == v.get("VCHTYPE"), number
        assert v.findtext("DATE") == v.findtext("EFFECTIVEDATE") == "20260514", number
        assert v.findtext("PERSISTEDVIEW") == "Accounting Voucher View", number
        assert v.findtext("NARRATION").endswith("for Sharma & Sons"), number
        entries = _entries(v)
        assert len(entries) >= 2, number
        assert sum(amount for *_, amount in entries) == 0, number
        for ledger, deemed_positive, _, amount in entries:
            assert amount != 0 and (deemed_positive == "Yes") == (amount < 0), (number, ledger)
        party = [ledger for ledger, _, is_party, _ in entries if is_party == "Yes"]
        assert party and set(party) == {v.findtext("PARTYLEDGERNAME")}, number
    # the amounts are the books' debits (negative) and credits (positive), ledger by ledger
    sale = {ledger: amount for ledger, _, _, amount in _entries(by_number["T1/INV/26/1"])}
    customer = by_number["T1/INV/26/1"].findtext("PARTYLEDGERNAME")
    assert customer.startswith("Sharma & Sons - ")
    assert sale == {customer: D("-118000.00"), "Sales - Vehicles": D("100000.00"), "Output CGST": D("9000.00"),
                    "Output SGST": D("9000.00")}
    assert {ledger: amount for ledger, _, _, amount in _entries(by_number["T1/CN/26/1"])} == {
        "Sales - Vehicles": D("-1000.00"), "Output CGST": D("-90.00"), "Output SGST": D("-90.00"), customer: D("1180.00")}
    assert by_number["T1/CV/26/1"].findtext("PARTYLEDGERNAME") in ("Bank Account", "Cash")   # no party: cash or bank
    assert by_number["T1/RCP/26/1"].findtext("PARTYLEDGERNAME") == customer
    # '&' is escaped in the file, never written bare
    assert b"Sharma &amp; Sons" in raw and b"Sharma & Sons" not in raw


def test_every_ledger_the_vouchers_name_is_in_the_masters_with_its_parent_and_gst_details(app, books):
    client = _client(app)
    vouchers = _envelope(_download(client, "vouchers"), "Vouchers")
    raw = _download(client, "masters")
    masters = _envelope(raw, "All Masters")
    groups = [m for m in masters if m.tag == "GROUP"]
    ledgers = {m.get("NAME"): m for m in masters if m.tag == "LEDGER"}
    assert {m.tag for m in masters} == {"GROUP", "LEDGER"}
    # the groups the company added, parent first; Tally's own groups are not sent
    assert [(g.get("NAME"), g.findtext("PARENT")) for g in groups] == [
        ("Deposits & Advances - OEM", "Current Assets"), ("Scheme Deposits", "Deposits & Advances - OEM")]
    for name, led in ledgers.items():
        assert led.findtext("NAME.LIST/NAME") == name
        assert led.findtext("PARENT") in TALLY_GROUPS | {g.get("NAME") for g in groups}, name
    named = {e.findtext("LEDGERNAME") for v in vouchers for e in v.findall("ALLLEDGERENTRIES.LIST")}
    named |= {v.findtext("PARTYLEDGERNAME") for v in vouchers}
    assert named <= set(ledgers), named - set(ledgers)
    assert ledgers["Deposit with OEM"].findtext("PARENT") == "Scheme Deposits"
    # GST duty ledgers: every one, used or not, with Tally's duty head
    heads = {name: (led.findtext("TAXTYPE"), led.findtext("GSTDUTYHEAD")) for name, led in ledgers.items()
             if led.findtext("TAXTYPE")}
    assert heads == {"Output CGST": ("GST", "Central Tax"), "Output SGST": ("GST", "State Tax"),
                     "Output IGST": ("GST", "Integrated Tax"), "Output Cess": ("GST", "Cess"),
                     "Input CGST": ("GST", "Central Tax"), "Input SGST": ("GST", "State Tax"),
                     "Input IGST": ("GST", "Integrated Tax")}
    for name in heads:
        assert ledgers[name].findtext("PARENT") == "Duties & Taxes"
    # the parties: the customer under Sundry Debtors with its GSTIN and state, the OEM under Sundry Creditors
    customer = next(led for name, led in ledgers.items() if name.startswith("Sharma & Sons"))
    assert customer.findtext("PARENT") == "Sundry Debtors"
    reg = customer.find("LEDGSTREGDETAILS.LIST")
    assert reg.findtext("GSTIN") == books["gstin"] and reg.findtext("GSTREGISTRATIONTYPE") == "Regular"
    assert reg.findtext("PLACEOFSUPPLY") == "Karnataka" and reg.findtext("APPLICABLEFROM") == "20260401"
    mailing = customer.find("LEDMAILINGDETAILS.LIST")
    assert mailing.findtext("STATE") == "Karnataka" and mailing.findtext("PINCODE") == "560002"
    assert mailing.findtext("MAILINGNAME") == "Sharma & Sons"
    oem = [led for led in ledgers.values() if led.findtext("PARENT") == "Sundry Creditors"]
    assert len(oem) == 1 and oem[0].findtext("LEDGSTREGDETAILS.LIST/GSTIN")
    # a ledger only June's voucher or the other branch's uses is not sent: here all of them are shared,
    # so the count of ledgers is exactly those named plus the unused duty ledgers
    assert set(ledgers) == named | set(heads)
    assert b"Sharma &amp; Sons" in raw and b"Duties &amp; Taxes" in raw


def test_the_tally_company_is_a_setting_of_the_branch_and_names_the_files(app, engine, books):
    with engine.begin() as conn:
        legal = b.scalar(conn, "SELECT legal_name FROM master.branch WHERE branch_id = :b", b=books["branch_id"])
    client = _client(app)
    page = client.get("/finance/tally", query_string={"from": FROM, "to": TO})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert legal in html and "not set yet" in html
    # one voucher of each type in May, eight in all
    for kind in tally.VOUCHER_TYPE_NAMES:
        assert f'data-type="{kind}"><td>{tally.VOUCHER_TYPE_NAMES[kind]}</td><td class="num">1</td>' in html, kind
    assert '<th class="num" id="tally-total">8</th>' in html
    assert ET.fromstring(_download(client, "vouchers")).findtext(
        "BODY/IMPORTDATA/REQUESTDESC/STATICVARIABLES/SVCURRENTCOMPANY") == legal

    token = csrf_from(html)
    refused = client.post(f"/finance/tally?from={FROM}&to={TO}", data={"csrf_token": token, "company_name": "X"})
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert 'value="X"' in body and "company_name-help" in body and 'class="error"' in body

    saved = client.post(f"/finance/tally?from={FROM}&to={TO}",
                        data={"csrf_token": token, "company_name": "  Volt & Sons Motors (2026-27)  "})
    assert saved.status_code == 303
    again = client.get("/finance/tally").get_data(as_text=True)
    assert "Volt &amp; Sons Motors (2026-27)" in again and "not set yet" not in again
    for which in ("vouchers", "masters"):
        raw = _download(client, which)
        assert ET.fromstring(raw).findtext(
            "BODY/IMPORTDATA/REQUESTDESC/STATICVARIABLES/SVCURRENTCOMPANY") == "Volt & Sons Motors (2026-27)"
        assert b"Volt &amp; Sons Motors (2026-27)" in raw


def test_another_branchs_books_are_not_exported_to_someone_of_this_branch(app, books):
    client = _client(app)
    for path in ("/finance/tally", "/finance/tally/vouchers.xml", "/finance/tally/masters.xml"):
        assert client.get(path, query_string={"branch": books["other_branch"]}).status_code == 404
        assert client.get(path, query_string={"branch": "x1"}).status_code == 404
    # a manager reads the registers but does not export the books
    assert _client(app, "MG1").get("/finance/tally").status_code == 403


# ----------------------------------------------------------------------------- the builder alone


def _voucher(number: str = "JV/1", *lines) -> tally.Voucher:
    return tally.Voucher("JOURNAL", number, ON, None, [tally.Entry(n, D(dr), D(cr)) for n, dr, cr in lines])


def test_the_builder_refuses_what_tally_would_not_balance_and_keeps_out_what_xml_cannot_hold():
    assert tally.tally_amount(D("10.50"), D("0")) == ("Yes", "-10.50")
    assert tally.tally_amount(D("0"), D("10.50")) == ("No", "10.50")
    for debit, credit in (("0", "0"), ("1", "1"), ("-1", "0")):
        with pytest.raises(ValueError):
            tally.tally_amount(D(debit), D(credit))
    with pytest.raises(ValueError, match="does not balance"):
        b"".join(tally.vouchers_xml("Co", [_voucher("JV/9", ("Cash", "10", "0"), ("Suspense", "0", "9.99"))]))
    with pytest.raises(ValueError):
        b"".join(tally.vouchers_xml(" ", []))
    with pytest.raises(ValueError, match="loop"):
        tally.groups_in_order([tally.Group("A", "B", "ASSETS"), tally.Group("B", "A", "ASSETS")])
    raw = b"".join(tally.vouchers_xml("Co", [tally.Voucher("JOURNAL", "JV/2", ON, "bell\x07 & <tab>\there", [
        tally.Entry("Cash\x00", D("1"), D("0")), tally.Entry("Suspense", D("0"), D("1"))])]))
    voucher = ET.fromstring(raw).find(".//VOUCHER")
    assert voucher.findtext("NARRATION") == "bell & <tab>\there"
    assert voucher.findtext("PARTYLEDGERNAME") == "Cash"   # no party ledger: the first ledger


def test_a_year_of_vouchers_is_written_one_message_at_a_time():
    vouchers = [_voucher(f"JV/{n}", ("Cash", f"{n}.25", "0"), ("Suspense", "0", f"{n}.25")) for n in range(1, 20001)]
    chunks = list(tally.vouchers_xml("Co", iter(vouchers)))
    assert len(chunks) == len(vouchers) + 2            # the envelope's head, one per voucher, its tail
    assert max(len(c) for c in chunks[1:-1]) < 1000    # never the whole file in one piece
    root = ET.fromstring(b"".join(chunks))
    amounts = [D(a.text) for a in root.iter("AMOUNT")]
    assert len(amounts) == 40000 and sum(amounts) == 0
