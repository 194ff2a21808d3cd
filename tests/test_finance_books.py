"""The books on screen, checked against figures worked out by hand on four vouchers at two branches
(and the ledgers' own opening balances): a ledger's opening, running and closing balance, the trial
balance's equal totals, the P&L's net profit as the balance sheet's difference, periods that start or
end inside a month (the monthly totals plus the lines), one branch against all of them; the manual
journal refused unbalanced or in a closed month with what was typed kept, and posted once however
often it is sent; the chart of accounts keeping Tally's groups and the system ledgers; a PDF's text."""
from __future__ import annotations

import html
import io
import re
import uuid
from datetime import date
from decimal import Decimal as D

import pytest
import sqlalchemy as sa
from conftest import login, page_csrf
from pypdf import PdfReader

from webapp.finance import api

PIN = "2580"


def plain(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def _post(conn, branch_id: int, vtype: str, on: str, lines: dict[str, str]) -> int:
    return api.post_voucher(conn, branch_id=branch_id, voucher_type=vtype, on=date.fromisoformat(on),
                            narration=f"{vtype.title()} of {on}",
                            lines=[api.Line(api.ledger_key(conn, key), D(amount)) for key, amount in lines.items()])


@pytest.fixture
def books(app, engine, make_branch, make_staff):
    """Branch A and B; an ADMIN (sees both), an ACCOUNTS person of A; four vouchers, the cash and capital
    ledgers' own opening balances, and four parts received into A's stock on 10-05-2026."""
    a, b = make_branch(), make_branch()
    make_staff("BAD", "ADMIN", PIN, branch_id=a)
    make_staff("BAC", "ACCOUNTS", PIN, branch_id=a)
    make_staff("BMG", "MANAGER", PIN, branch_id=b)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE finance.ledger SET opening_balance = 5000 WHERE system_key = 'CASH'"))
        conn.execute(sa.text("UPDATE finance.ledger SET opening_balance = -5000 WHERE system_key = 'CAPITAL'"))
        ids = {
            "sale_a": _post(conn, a, "SALES", "2026-04-10", {"CASH": "1180", "SALES_PARTS": "-1000",
                                                             "OUTPUT_CGST": "-90", "OUTPUT_SGST": "-90"}),
            "sale_b": _post(conn, b, "SALES", "2026-04-20", {"CASH": "2360", "SALES_VEHICLE": "-2000",
                                                             "OUTPUT_IGST": "-360"}),
            "purchase": _post(conn, a, "PURCHASE", "2026-05-15", {"PURCHASE_PARTS": "600", "CASH": "-600"}),
            "journal": _post(conn, a, "JOURNAL", "2026-05-20", {"ROUND_OFF": "50", "CASH": "-50"}),
        }
        part_id = conn.execute(sa.text(
            """INSERT INTO master.part (part_no, name, hsn_code, unit, mrp, purchase_price)
               VALUES ('BK-1', 'Brake shoe', '8714', 'NOS', 150, 100) RETURNING part_id""")).scalar_one()
        conn.execute(sa.text(
            """INSERT INTO inventory.stock_move (branch_id, part_id, moved_at, kind, qty, unit_cost)
               VALUES (:b, :p, '2026-05-10 11:00+05:30', 'RECEIPT', 4, 100)"""), {"b": a, "p": part_id})
        cash = api.ledger_key(conn, "CASH")
    return {"a": a, "b": b, "cash": cash, **ids}


def client_of(app, code: str):
    client = app.test_client()
    assert login(client, code, PIN).status_code == 303
    return client


PERIOD = {"from": "01-04-2026", "to": "31-05-2026"}


def test_the_monthly_totals_are_the_lines_added_up(engine, books):
    assert scalar(engine, "SELECT count(*) FROM finance.ledger_month_drift()") == 0
    assert scalar(engine, "SELECT count(*) FROM finance.group_month_drift()") == 0
    assert scalar(engine, """SELECT debit FROM finance.ledger_month WHERE ledger_id = :c AND branch_id = :b
                              AND month = '2026-04-01'""", c=books["cash"], b=books["a"]) == D("1180.00")


@pytest.mark.parametrize(("period", "opening", "debit", "credit", "closing"), [
    (PERIOD, "5000", "3540", "650", "7890"),
    ({"from": "15-04-2026", "to": "31-05-2026"}, "6180", "2360", "650", "7890"),   # starts inside April
    ({"from": "01-05-2026", "to": "16-05-2026"}, "8540", "0", "600", "7940"),      # ends inside May
    ({"from": "11-04-2026", "to": "19-04-2026"}, "6180", "0", "0", "6180"),        # inside one month, no line
])
def test_the_cash_ledger_opening_movement_and_closing_for_any_period(app, engine, books, period, opening, debit,
                                                                     credit, closing):
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT * FROM finance.ledger_totals(:f, :t, NULL, :l)"),
                           {"f": date(*reversed([int(x) for x in period["from"].split("-")])),
                            "t": date(*reversed([int(x) for x in period["to"].split("-")])), "l": books["cash"]}).one()
    assert (row.opening, row.debit, row.credit) == (D(opening), D(debit), D(credit))
    page = plain(client_of(app, "BAD").get(f"/finance/ledgers/{books['cash']}", query_string=period))
    assert f"₹{int(closing):,}".replace(",", "") in page.replace(",", "")


def test_a_ledger_shows_its_running_balance_line_by_line(app, books):
    page = plain(client_of(app, "BAD").get(f"/finance/ledgers/{books['cash']}", query_string=PERIOD))
    balances = re.findall(r"₹([0-9,]+\.[0-9]{2}) Dr", page)
    # opening, then after 10-04 (+1180), 20-04 (+2360), 15-05 (-600), 20-05 (-50), then the closing
    assert balances[:6] == ["5,000.00", "6,180.00", "8,540.00", "7,940.00", "7,890.00", "7,890.00"]
    assert "Output CGST (as per details)" in page or "Sales - Spares (as per details)" in page


def test_one_branch_leaves_out_the_company_ledgers_opening_balances(app, books):
    page = plain(client_of(app, "BAD").get(f"/finance/ledgers/{books['cash']}",
                                           query_string={**PERIOD, "branch": books["a"]}))
    assert "Opening balance on 01-04-2026 —" in page     # the company's opening is not a branch's
    assert "Closing balance on 31-05-2026 ₹530.00 Dr" in page


def test_the_trial_balance_debits_equal_credits_and_the_closing_adds_up_to_nil(app, engine, books):
    page = plain(client_of(app, "BAD").get("/finance/trial-balance", query_string=PERIOD))
    totals = page[page.rindex("Opening"):]
    assert "Debit ₹4,190.00 Credit ₹4,190.00 Closing —" in totals
    assert "Cash-in-Hand ₹5,000.00 Dr ₹3,540.00 ₹650.00 ₹7,890.00 Dr" in page
    drill = plain(client_of(app, "BAD").get("/finance/trial-balance", query_string={
        **PERIOD, "group": scalar(engine, "SELECT group_id FROM finance.account_group WHERE name = 'Duties & Taxes'")}))
    assert "Output IGST" in drill and "₹360.00 Cr" in drill and "Debit ₹0.00 Credit ₹540.00" in drill


def test_the_profit_and_loss_net_is_what_the_balance_sheet_carries(app, books):
    client = client_of(app, "BAD")
    pl = plain(client.get("/finance/profit-and-loss", query_string=PERIOD))
    # sales 3000 + closing stock 400 - purchases 600 = 2800 gross; less round off 50 = 2750 net
    assert "Closing stock (stock records, at cost) ₹400.00" in pl
    assert "Gross profit ₹2,800.00" in pl and "Net profit ₹2,750.00" in pl
    bs = plain(client.get("/finance/balance-sheet", query_string=PERIOD))
    assert "Profit & Loss A/c ₹2,750.00" in bs
    assert "Liabilities ₹8,290.00" in bs and "Assets ₹8,290.00" in bs   # capital 5000 + taxes 540 + 2750 = cash + stock


def test_a_report_as_pdf_csv_and_excel(app, books):
    client = client_of(app, "BAD")
    pdf = client.get("/finance/trial-balance", query_string={**PERIOD, "format": "pdf"})
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.get_data())).pages)
    assert "Trial balance" in text and "Cash-in-Hand" in text and "4,190.00" in text
    csv = client.get("/finance/day-book", query_string={**PERIOD, "format": "csv"}).get_data(as_text=True)
    assert "Sales - Vehicles" in csv and "2000.00" in csv
    xlsx = client.get("/finance/profit-and-loss", query_string={**PERIOD, "format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"


def test_a_branch_accountant_sees_only_the_branch_vouchers(app, books):
    client = client_of(app, "BMG")   # branch B's manager, not head office
    day = plain(client.get("/finance/day-book", query_string=PERIOD))
    assert "Sales - Vehicles" in day and "Purchase - Spares" not in day
    assert client.get(f"/finance/vouchers/{books['sale_a']}").status_code == 404
    assert client.get(f"/finance/vouchers/{books['sale_b']}").status_code == 200


# --------------------------------------------------------------------------- the manual journal


def _journal(client, lines, **fields):
    page = client.get("/finance/journal/new").get_data(as_text=True)
    key = re.search(r'name="key" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="key" value="([^"]+)"', page)
    data = {"csrf_token": page_csrf(client, "/finance/journal/new"), "key": key.group(1) if key else str(uuid.uuid4()),
            "voucher_type": "JOURNAL", "voucher_date": "25-05-2026", "narration": "Bank charges", **fields}
    for n, (ledger, debit, credit) in enumerate(lines):
        data.update({f"lines-{n}-ledger_id": str(ledger), f"lines-{n}-debit": debit, f"lines-{n}-credit": credit})
    return client.post("/finance/journal/new", data=data), data


def test_an_unbalanced_journal_is_refused_next_to_its_lines_as_typed(app, engine, books):
    client = client_of(app, "BAC")
    round_off = scalar(engine, "SELECT ledger_id FROM finance.ledger WHERE system_key = 'ROUND_OFF'")
    response, _ = _journal(client, [(round_off, "1,250.50", ""), (books["cash"], "", "1250")])
    assert response.status_code == 422
    assert "Debits and credits must be equal" in plain(response)
    assert 'value="1,250.50"' in response.get_data(as_text=True)
    assert scalar(engine, "SELECT count(*) FROM finance.voucher WHERE narration = 'Bank charges'") == 0


def test_a_journal_in_a_closed_month_is_refused_next_to_its_date(app, engine, books):
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO finance.closed_month (branch_id, month) VALUES (:b, '2026-05-01')"),
                     {"b": books["a"]})
    client = client_of(app, "BAC")
    round_off = scalar(engine, "SELECT ledger_id FROM finance.ledger WHERE system_key = 'ROUND_OFF'")
    response, _ = _journal(client, [(round_off, "100", ""), (books["cash"], "", "100")])
    assert response.status_code == 422
    assert "closed in the books" in plain(response) and 'value="25-05-2026"' in response.get_data(as_text=True)


def test_a_balanced_journal_posts_once_however_often_it_is_sent(app, engine, books):
    client = client_of(app, "BAC")
    round_off = scalar(engine, "SELECT ledger_id FROM finance.ledger WHERE system_key = 'ROUND_OFF'")
    response, data = _journal(client, [(round_off, "100", ""), (books["cash"], "", "60"), (books["cash"], "", "40")])
    assert response.status_code == 303, plain(response)[-800:]
    again = client.post("/finance/journal/new", data=data)
    assert again.status_code == 303 and again.headers["Location"] == response.headers["Location"]
    assert scalar(engine, "SELECT count(*) FROM finance.voucher WHERE narration = 'Bank charges'") == 1
    detail = plain(client.get(response.headers["Location"]))
    assert "Journal voucher" in detail and "Entered in the books" in detail and "Total ₹100.00" in detail
    assert scalar(engine, "SELECT count(*) FROM finance.ledger_month_drift()") == 0


def test_the_journal_adds_a_line_with_htmx(app, books):
    response = client_of(app, "BAC").get("/finance/journal/line?n=4", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert 'name="lines-4-ledger_id"' in body and 'value="5"' in body and "hx-swap-oob" in body


# --------------------------------------------------------------------------- the chart of accounts


def test_a_system_ledger_keeps_its_name_and_a_tally_group_is_never_renamed(app, engine, books):
    client = client_of(app, "BAC")
    token = page_csrf(client, f"/finance/accounts/ledgers/{books['cash']}/edit")
    group = scalar(engine, "SELECT group_id FROM finance.ledger WHERE ledger_id = :l", l=books["cash"])
    response = client.post(f"/finance/accounts/ledgers/{books['cash']}/edit", data={
        "csrf_token": token, "name": "Petty cash", "group_id": str(group), "opening_balance": "5000",
        "opening_side": "DR", "is_active": "y"})
    assert response.status_code == 422 and "one the postings use" in plain(response)
    assert scalar(engine, "SELECT name FROM finance.ledger WHERE ledger_id = :l", l=books["cash"]) == "Cash"
    with pytest.raises(sa.exc.IntegrityError, match="one of Tally's own"), engine.begin() as conn:
        conn.execute(sa.text("UPDATE finance.account_group SET name = 'Sales' WHERE name = 'Sales Accounts'"))


def test_a_sub_group_takes_its_parent_nature_and_a_ledger_is_added_under_it(app, engine, books):
    client = client_of(app, "BAC")
    parent = scalar(engine, "SELECT group_id FROM finance.account_group WHERE name = 'Indirect Expenses'")
    token = page_csrf(client, "/finance/accounts/groups/new")
    response = client.post("/finance/accounts/groups/new", data={"csrf_token": token, "name": "Showroom upkeep",
                                                                 "parent_id": str(parent)})
    assert response.status_code == 303, plain(response)[-600:]
    assert scalar(engine, "SELECT nature FROM finance.account_group WHERE name = 'Showroom upkeep'") == "EXPENSES"
    group = scalar(engine, "SELECT group_id FROM finance.account_group WHERE name = 'Showroom upkeep'")
    response = client.post("/finance/accounts/ledgers/new", data={
        "csrf_token": token, "name": "Signboard lighting", "group_id": str(group), "opening_balance": "",
        "opening_side": "DR", "gstin": "", "is_active": "y"})
    assert response.status_code == 303, plain(response)[-600:]
    chart = plain(client.get("/finance/accounts"))
    assert "Showroom upkeep" in chart and "Signboard lighting" in chart
    # the round-off ledger moved under the new group takes its months with it: the groups still add up
    round_off = scalar(engine, "SELECT ledger_id FROM finance.ledger WHERE system_key = 'ROUND_OFF'")
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE finance.ledger DISABLE TRIGGER ledger_system_rules"))
        conn.execute(sa.text("UPDATE finance.ledger SET group_id = :g WHERE ledger_id = :l"), {"g": group, "l": round_off})
        conn.execute(sa.text("ALTER TABLE finance.ledger ENABLE TRIGGER ledger_system_rules"))
    assert scalar(engine, "SELECT count(*) FROM finance.group_month_drift()") == 0
    assert "Showroom upkeep — ₹50.00 — ₹50.00 Dr" in plain(client_of(app, "BAD").get("/finance/trial-balance",
                                                                                      query_string=PERIOD))
    response = client.post("/finance/accounts/ledgers/new", data={
        "csrf_token": token, "name": "signboard LIGHTING", "group_id": str(group), "opening_side": "DR", "is_active": "y"})
    assert response.status_code == 422 and "Another ledger already has this name" in plain(response)
