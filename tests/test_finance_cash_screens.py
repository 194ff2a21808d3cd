"""The screens of expenses, the cash closing, bank statement import and reconciliation, and closing a
month (webapp/finance cash.py, bank.py, period.py): what is saved, what is refused with its reason and
nothing half-saved, and what each role may do."""
from __future__ import annotations

import io
import re
from datetime import timedelta
from decimal import Decimal

import builders as b
import finance_cash_builders as fb
import pytest
import sqlalchemy as sa
from conftest import csrf_from, login

from webapp.formatting import ddmmyyyy, today_ist

PIN = "583920"


@pytest.fixture
def books(app, engine, make_staff):
    """A branch with a bank account, an accountant and a manager logged in on their own clients."""
    accountant, _, _ = make_staff("AC01", "ACCOUNTS", PIN)
    manager, _, _ = make_staff("MG01", "MANAGER", PIN)
    with engine.begin() as conn:
        branch_id = b.scalar(conn, "SELECT branch_id FROM master.staff WHERE staff_id = :s", s=accountant)
        bank_id = fb.bank_account(conn, branch_id)
    clients = {}
    for code in ("AC01", "MG01"):
        client = app.test_client()
        assert login(client, code, PIN).status_code == 303
        clients[code] = client
    return {"branch_id": branch_id, "bank_id": bank_id, "accounts": clients["AC01"], "manager": clients["MG01"],
            "accountant_id": accountant, "manager_id": manager}


def _token(client, path: str) -> str:
    return csrf_from(client.get(path).get_data(as_text=True))


def _expense_form(client, **overrides) -> dict:
    page = client.get("/finance/expenses/new").get_data(as_text=True)
    key = re.search(r'name="key" type="hidden" value="([^"]+)"', page) or re.search(r'id="key" name="key" type="hidden" value="([^"]+)"', page)
    data = {"csrf_token": csrf_from(page), "key": key.group(1) if key else "", "expense_date": ddmmyyyy(today_ist()),
            "head_ledger_id": "", "supplier_name": "Sri Ganesh Electricals", "supplier_gstin": "", "bill_no": "SGE/1187",
            "bill_date": ddmmyyyy(today_ist()), "taxable": "1,000.00", "gst_rate": "0", "itc_eligible": "y",
            "payment_mode": "CASH", "bank_ledger_id": "0", "payment_ref": "", "narration": ""}
    data.update(overrides)
    return data


def _head(engine, key: str) -> str:
    with engine.connect() as conn:
        return str(conn.execute(sa.text("SELECT finance.ledger_key(:k)"), {"k": key}).scalar())


def _count(engine, sql: str, **params) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def test_an_expense_with_gst_and_its_bill_photo_is_saved_with_its_voucher(engine, books):
    client = books["accounts"]
    gstin = b.make_gstin("29")
    photo = fb.png_bytes()
    data = _expense_form(client, head_ledger_id=_head(engine, "EXP_REPAIRS"), supplier_gstin=gstin.lower(),
                         gst_rate="18", payment_mode="UPI", bank_ledger_id=str(books["bank_id"]),
                         payment_ref="634512345678")
    data["bill"] = (io.BytesIO(photo), "bill.png")
    response = client.post("/finance/expenses/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)
    expense_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with engine.connect() as conn:
        e = conn.execute(sa.text("SELECT supplier_gstin, cgst, sgst, igst, total, payment_ref FROM finance.expense "
                                 "WHERE expense_id = :e"), {"e": expense_id}).one()
        credit = conn.execute(sa.text("""SELECT vl.credit FROM finance.voucher v JOIN finance.voucher_line vl USING (voucher_id)
                                          WHERE v.source_table = 'finance.expense' AND v.source_id = :e AND vl.ledger_id = :l"""),
                              {"e": expense_id, "l": books["bank_id"]}).scalar()
    assert tuple(e) == (gstin, Decimal("90.00"), Decimal("90.00"), Decimal("0.00"), Decimal("1180.00"), "634512345678")
    assert credit == Decimal("1180.00")
    page = client.get(f"/finance/expenses/{expense_id}").get_data(as_text=True)
    assert "bill.png" in page and "Taken as credit" in page
    bill = client.get(f"/finance/expenses/{expense_id}/bill")
    assert bill.status_code == 200 and bill.headers["Content-Type"] == "image/png" and bill.data == photo
    # the same form sent again lands on the expense it posted, not a second one
    again = _expense_form(client, head_ledger_id=_head(engine, "EXP_REPAIRS"), key=data["key"])
    assert client.post("/finance/expenses/new", data=again).headers["Location"].endswith(f"/{expense_id}")
    assert _count(engine, "SELECT count(*) FROM finance.expense WHERE branch_id = :b", b=books["branch_id"]) == 1


@pytest.mark.parametrize("overrides, field_message", [
    ({"supplier_gstin": "29ABCDE1234F1Z1", "gst_rate": "18"}, "Not a valid GSTIN"),
    ({"gst_rate": "18"}, "GST can be recorded only with the supplier's GSTIN"),
    ({"payment_mode": "UPI"}, "Enter the UPI transaction reference"),
    ({"bill_date": ddmmyyyy(today_ist() + timedelta(days=1))}, "The bill is dated on or before the payment"),
])
def test_a_bad_expense_is_refused_next_to_its_field_and_nothing_is_saved(engine, books, overrides, field_message):
    client = books["accounts"]
    data = _expense_form(client, head_ledger_id=_head(engine, "EXP_POWER"), **overrides)
    response = client.post("/finance/expenses/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and field_message in page.replace("&#39;", "'")
    assert "Sri Ganesh Electricals" in page   # what was typed is kept
    assert _count(engine, "SELECT count(*) FROM finance.expense") == 0
    assert _count(engine, "SELECT count(*) FROM finance.voucher") == 0


def test_a_file_that_is_not_a_photo_or_pdf_is_refused_as_the_bill(engine, books):
    client = books["accounts"]
    data = _expense_form(client, head_ledger_id=_head(engine, "EXP_POWER"))
    data["bill"] = (io.BytesIO(b"name,amount\nrent,100\n"), "bill.png")
    response = client.post("/finance/expenses/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 422 and "neither" in response.get_data(as_text=True)
    assert _count(engine, "SELECT count(*) FROM finance.expense") == 0


def test_an_expense_in_a_closed_month_is_refused(engine, books):
    last_month = (today_ist().replace(day=1) - timedelta(days=1)).replace(day=1)
    with engine.begin() as conn:
        b.act_as(conn, books["accountant_id"])
        conn.execute(sa.text("SELECT finance.close_month(:b, :m)"), {"b": books["branch_id"], "m": last_month})
    client = books["accounts"]
    on = ddmmyyyy(last_month + timedelta(days=4))
    response = client.post("/finance/expenses/new", data=_expense_form(
        client, head_ledger_id=_head(engine, "EXP_RENT"), expense_date=on, bill_date=on))
    assert response.status_code == 422 and "closed in the books" in response.get_data(as_text=True)
    assert _count(engine, "SELECT count(*) FROM finance.expense") == 0


# ----------------------------------------------------------------------------- statements and reconciliation


def _statement_csv(rows: list[tuple]) -> bytes:
    lines = ["HDFC BANK Ltd.,,,,,,", "Statement of account,,,,,,", ",,,,,,",
             "Date,Narration,Chq./Ref.No.,Value Dt,Withdrawal Amt.,Deposit Amt.,Closing Balance"]
    balance = Decimal("100000.00")
    for on, narration, ref, withdrawal, deposit in rows:
        balance += Decimal(deposit.replace(",", "") or 0) - Decimal(withdrawal.replace(",", "") or 0)
        lines.append(f'{on:%d/%m/%y},{narration},{ref},{on:%d/%m/%y},"{withdrawal}","{deposit}","{balance:,}"')
    return ("\n".join(lines) + "\n").encode()


def _upload(client, bank_id: int, content: bytes, name: str = "statement.csv"):
    token = _token(client, f"/finance/bank/{bank_id}/import")
    return client.post(f"/finance/bank/{bank_id}/import", data={"csrf_token": token, "statement": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def _confirm(client, bank_id: int, preview: str, confirm: str = "1", **columns):
    fields = dict(re.findall(r'<input[^>]*name="([a-z_0-9]+)"[^>]*value="([^"]*)"', preview))
    fields.update({name: value for name, value in re.findall(
        r'<select[^>]*name="([a-z_0-9]+)"[^>]*>.*?<option selected value="([^"]*)"', preview, re.S)})
    for name, value in re.findall(r'<select[^>]*name="([a-z_0-9]+)"[^>]*>(.*?)</select>', preview, re.S):
        chosen = re.search(r'<option (?:selected value="([^"]*)"|value="([^"]*)" selected)', value)
        if chosen:
            fields[name] = chosen.group(1) or chosen.group(2)
    text = re.search(r'<input[^>]*name="text"[^>]*value="([^"]*)"', preview, re.S)
    import html

    fields["text"] = html.unescape(text.group(1))
    fields = {k: html.unescape(v) for k, v in fields.items()}
    fields.update(columns)
    fields["confirm"] = confirm
    return client.post(f"/finance/bank/{bank_id}/import", data=fields)


def test_a_statement_is_previewed_imported_and_refused_the_second_time(engine, books):
    client, bank_id = books["accounts"], books["bank_id"]
    today = today_ist()
    content = _statement_csv([(today, "UPI-RAVI KUMAR-634512345678", "0000634512345678", "", "25,000.00"),
                              (today, "CHRG: SMS ALERT CHARGES", "0", "17.70", "")])
    preview = _upload(client, bank_id, content)
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200, page
    assert "Import 2 lines" in page and "UPI-RAVI KUMAR-634512345678" in page
    assert _count(engine, "SELECT count(*) FROM finance.bank_line") == 0   # a preview saves nothing
    done = _confirm(client, bank_id, page)
    assert done.status_code == 303, done.get_data(as_text=True)
    assert _count(engine, "SELECT count(*) FROM finance.bank_line WHERE ledger_id = :l", l=bank_id) == 2
    assert _count(engine, "SELECT count(*) FROM finance.bank_layout WHERE ledger_id = :l AND bank_code = 'HDFC' "
                          "AND withdrawal_column = 'Withdrawal Amt.'", l=bank_id) == 1
    again = _upload(client, bank_id, content)
    assert again.status_code == 422 and "imported already" in again.get_data(as_text=True)
    assert "Import 2 lines" not in again.get_data(as_text=True)
    # the same lines in a file saved again (another checksum) are refused too
    resaved = _upload(client, bank_id, content + b",,,,,,\n", "statement (1).csv")
    assert resaved.status_code == 422 and "2 of its 2 lines were imported already" in resaved.get_data(as_text=True)
    assert _count(engine, "SELECT count(*) FROM finance.bank_line") == 2


def test_an_unknown_layout_is_refused_with_what_was_found(engine, books):
    response = _upload(books["accounts"], books["bank_id"], b"Monthly sales\nName,Amount\nScooter,100\n", "sales.csv")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "not recognised" in page and "Name | Amount" in page
    assert _count(engine, "SELECT count(*) FROM finance.bank_statement") == 0


def test_a_suggestion_is_accepted_and_an_expense_made_from_a_charge_line(engine, books):
    client, bank_id, branch_id = books["accounts"], books["bank_id"], books["branch_id"]
    today = today_ist()
    with engine.begin() as conn:
        b.act_as(conn, books["accountant_id"])
        receipt = fb.voucher_through_bank(conn, branch_id, bank_id, today - timedelta(days=1), "25000.00")
        fb.statement(conn, bank_id, branch_id, [
            {"txn_date": today, "narration": "UPI-RAVI KUMAR-634512345678", "deposit": "25000.00"},
            {"txn_date": today, "narration": "CHRG: SMS ALERT CHARGES", "withdrawal": "17.70"}])
        upi_line, charge_line = conn.execute(sa.text(
            "SELECT array_agg(line_id ORDER BY row_no) FROM finance.bank_line WHERE ledger_id = :l"), {"l": bank_id}).scalar()
    page = client.get(f"/finance/bank/{bank_id}/reconcile").get_data(as_text=True)
    assert "Accept" in page and "Make an expense" in page
    token = csrf_from(page)
    accepted = client.post(f"/finance/bank/lines/{upi_line}/match",
                           data={"csrf_token": token, "voucher_id": str(receipt), "how": "SUGGESTED"})
    assert accepted.status_code == 303
    # from the charge line: the expense form comes filled in (bank charges, the line's amount, from this bank)
    form = client.get(f"/finance/expenses/new?bank_line={charge_line}").get_data(as_text=True)
    assert "17.70" in form and "SMS ALERT" in form
    data = _expense_form(client, head_ledger_id=_head(engine, "EXP_BANK_CHARGES"), supplier_name="HDFC Bank",
                         bill_no=f"STMT-{charge_line}", taxable="17.70", payment_mode="BANK",
                         bank_ledger_id=str(bank_id), bank_line_id=str(charge_line),
                         expense_date=ddmmyyyy(today), bill_date=ddmmyyyy(today))
    made = client.post("/finance/expenses/new", data=data)
    assert made.status_code == 303 and made.headers["Location"].endswith(f"/finance/bank/{bank_id}/reconcile")
    with engine.connect() as conn:
        matches = conn.execute(sa.text("SELECT line_id, how FROM finance.bank_match ORDER BY line_id")).all()
    assert [tuple(m) for m in matches] == [(upi_line, "SUGGESTED"), (charge_line, "CREATED")]
    page = client.get(f"/finance/bank/{bank_id}/reconcile").get_data(as_text=True)
    assert "Every imported line is matched." in page
    # a wrong amount from a line is refused and nothing is saved
    with engine.begin() as conn:
        fb.statement(conn, bank_id, branch_id, [{"txn_date": today, "narration": "CHRG: IMPS", "withdrawal": "5.90"}])
        line = conn.execute(sa.text("SELECT max(line_id) FROM finance.bank_line")).scalar()
    form = client.get(f"/finance/expenses/new?bank_line={line}").get_data(as_text=True)
    data = _expense_form(client, head_ledger_id=_head(engine, "EXP_BANK_CHARGES"), bill_no="IMPS-1", taxable="6.00",
                         payment_mode="BANK", bank_ledger_id=str(bank_id), bank_line_id=str(line))
    refused = client.post("/finance/expenses/new", data=data)
    assert refused.status_code == 422 and "statement line" in refused.get_data(as_text=True)
    assert _count(engine, "SELECT count(*) FROM finance.expense WHERE bill_no = 'IMPS-1'") == 0


def test_a_line_matched_already_is_not_matched_again(engine, books):
    client, bank_id, branch_id = books["accounts"], books["bank_id"], books["branch_id"]
    today = today_ist()
    with engine.begin() as conn:
        b.act_as(conn, books["accountant_id"])
        first = fb.voucher_through_bank(conn, branch_id, bank_id, today, "500.00")
        second = fb.voucher_through_bank(conn, branch_id, bank_id, today, "500.00")
        fb.statement(conn, bank_id, branch_id, [{"txn_date": today, "narration": "CASH DEP", "deposit": "500.00"}])
        line = conn.execute(sa.text("SELECT line_id FROM finance.bank_line WHERE ledger_id = :l"), {"l": bank_id}).scalar()
    token = _token(client, f"/finance/bank/lines/{line}")
    assert client.post(f"/finance/bank/lines/{line}/match", data={"csrf_token": token, "voucher_id": str(first)}).status_code == 303
    again = client.post(f"/finance/bank/lines/{line}/match", data={"csrf_token": token, "voucher_id": str(second)},
                        follow_redirects=True)
    assert "already matched" in again.get_data(as_text=True)
    assert _count(engine, "SELECT count(*) FROM finance.bank_match") == 1


# ----------------------------------------------------------------------------- the cash closing and the months


def test_the_cash_closing_records_the_difference_with_its_remark(engine, books):
    client = books["accounts"]
    with engine.begin() as conn:
        b.act_as(conn, books["accountant_id"])
        fb.expense(conn, books["branch_id"], on=today_ist(), taxable="120.00")   # 120 paid out of cash
    token = _token(client, "/finance/cash")
    counts = {"csrf_token": token, "closing_date": ddmmyyyy(today_ist()), "notes_100": "2"}
    refused = client.post("/finance/cash", data=counts)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "say why in the remark" in page
    assert "difference <strong>₹3" in page.replace("&nbsp;", " ") or "₹320.00" in page
    saved = client.post("/finance/cash", data={**counts, "remark": "Float of 320 not yet entered in the books"})
    assert saved.status_code == 303
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT counted_total, book_balance FROM finance.cash_closing")).one()
    assert tuple(row) == (Decimal("200.00"), Decimal("-120.00"))
    assert client.post("/finance/cash", data={**counts, "remark": "Counted again"}).status_code == 422


def test_accounts_close_a_month_and_a_manager_reopens_it_with_a_reason(engine, books):
    last_month = (today_ist().replace(day=1) - timedelta(days=1)).replace(day=1)
    accounts, manager = books["accounts"], books["manager"]
    form = {"branch_id": str(books["branch_id"]), "month": f"{last_month:%Y-%m}"}
    page = accounts.get("/finance/months").get_data(as_text=True)
    assert f"Close {last_month:%b %Y}" in page
    assert accounts.post("/finance/months/close", data={**form, "csrf_token": csrf_from(page)}).status_code == 303
    this_month = {**form, "month": f"{today_ist():%Y-%m}", "csrf_token": csrf_from(page)}
    refused = accounts.post("/finance/months/close", data=this_month)
    assert refused.status_code == 422 and "has ended" in refused.get_data(as_text=True)
    assert accounts.post("/finance/months/reopen", data={**form, "csrf_token": csrf_from(page),
                                                          "reason": "Bill missed"}).status_code == 403
    token = _token(manager, "/finance/months")
    no_reason = manager.post("/finance/months/reopen", data={**form, "csrf_token": token, "reason": ""})
    assert no_reason.status_code == 422 and "Say why" in no_reason.get_data(as_text=True)
    assert _count(engine, "SELECT count(*) FROM finance.closed_month") == 1
    reopened = manager.post("/finance/months/reopen", data={**form, "csrf_token": token,
                                                            "reason": "Rent bill of the month came late"})
    assert reopened.status_code == 303
    page = manager.get("/finance/months").get_data(as_text=True)
    assert "Rent bill of the month came late" in page and "Reopened" in page
    assert _count(engine, "SELECT count(*) FROM finance.closed_month") == 0


def test_columns_changed_on_the_preview_are_used_and_remembered_for_the_next_statement(engine, books):
    client, bank_id = books["accounts"], books["bank_id"]
    today = today_ist()
    earlier = today - timedelta(days=2)
    content = _statement_csv([(today, "NEFT CR-N3362600999-RAO", "N3362600999", "", "7,500.00")]).replace(
        f"{today:%d/%m/%y},NEFT CR-N3362600999-RAO,N3362600999,{today:%d/%m/%y}".encode(),
        f"{today:%d/%m/%y},NEFT CR-N3362600999-RAO,N3362600999,{earlier:%d/%m/%y}".encode())
    preview = _upload(client, bank_id, content).get_data(as_text=True)
    fields = {"col_date": "Value Dt", "col_value_date": "Date"}   # the accountant books by the value date
    shown_again = _confirm(client, bank_id, preview.replace('selected value="Date"', 'value="Date"'), **fields,
                           confirm="")
    page = shown_again.get_data(as_text=True)
    assert shown_again.status_code == 200 and ddmmyyyy(earlier) in page and "Import 1 lines" in page
    assert _count(engine, "SELECT count(*) FROM finance.bank_line") == 0   # changed columns: a new preview first
    done = _confirm(client, bank_id, page)
    assert done.status_code == 303, re.findall(r'<div class="flash error" role="alert">(.*?)</div>', done.get_data(as_text=True), re.S)
    assert _count(engine, "SELECT count(*) FROM finance.bank_line WHERE txn_date = :d", d=earlier) == 1
    assert _count(engine, "SELECT count(*) FROM finance.bank_layout WHERE date_column = 'Value Dt'") == 1
    # the next statement is read with the remembered columns
    nxt = _statement_csv([(today, "NEFT CR-N3362600998-RAO", "N3362600998", "", "1,000.00")])
    page = _upload(client, bank_id, nxt).get_data(as_text=True)
    assert re.search(r'<option selected value="Value Dt">|<option value="Value Dt" selected>', page)


def test_an_expense_from_a_line_matched_meanwhile_is_refused(engine, books):
    client, bank_id, branch_id = books["accounts"], books["bank_id"], books["branch_id"]
    today = today_ist()
    with engine.begin() as conn:
        b.act_as(conn, books["accountant_id"])
        payment = fb.voucher_through_bank(conn, branch_id, bank_id, today, "17.70", receipt=False)
        fb.statement(conn, bank_id, branch_id, [{"txn_date": today, "narration": "CHRG: SMS", "withdrawal": "17.70"}])
        line = conn.execute(sa.text("SELECT line_id FROM finance.bank_line WHERE ledger_id = :l"), {"l": bank_id}).scalar()
    client.get(f"/finance/expenses/new?bank_line={line}")
    data = _expense_form(client, head_ledger_id=_head(engine, "EXP_BANK_CHARGES"), taxable="17.70", payment_mode="BANK",
                         bank_ledger_id=str(bank_id), bank_line_id=str(line))
    with engine.begin() as conn:   # someone else matched the line in the meantime
        conn.execute(sa.text("INSERT INTO finance.bank_match (line_id, voucher_id, branch_id, how) "
                             "VALUES (:l, :v, :b, 'MANUAL')"), {"l": line, "v": payment, "b": branch_id})
    refused = client.post("/finance/expenses/new", data=data)
    assert refused.status_code == 422 and "matched already" in refused.get_data(as_text=True)
    assert _count(engine, "SELECT count(*) FROM finance.expense") == 0
