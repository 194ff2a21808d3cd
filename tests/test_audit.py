"""The audit trail: written by database triggers, read on the audit screen.

Whoever changes a staff member or a branch (a screen or someone at psql) leaves a
row in audit.log that nobody can edit or delete afterwards; PIN hashes never appear.
"""
from __future__ import annotations

import html
import re

import builders as b
import pytest
import sqlalchemy as sa
from conftest import gstin, login, page_csrf


def text(response) -> str:
    return response.get_data(as_text=True)


def post_form(client, page_path: str, data: dict, action: str | None = None):
    token = page_csrf(client, page_path)
    return client.post(action or page_path, data={**data, "csrf_token": token})


def audit_rows(engine, where: str = "true", **params) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(
            sa.text(f"SELECT * FROM audit.log WHERE {where} ORDER BY audit_id"), params).mappings()]


def scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def staff_form(branch_id: int, **overrides) -> dict:
    data = {"staff_code": "S02", "name": "Priya Nair", "designation": "SALES", "branch_id": str(branch_id),
            "phone": "9880045678", "email": "", "pan": "", "upi_id": "", "bank_account_no": "", "ifsc": "",
            "pin": "4826", "pin_confirm": "4826"}
    data.update(overrides)
    return data


def branch_form(**overrides) -> dict:
    data = {"branch_code": "MYS1", "legal_name": "Volt Motors Private Limited", "trade_name": "Volt EV Mysuru",
            "gstin": gstin("29AAJCV4821K2Z"), "address_line1": "27, Kalidasa Road", "address_line2": "",
            "city": "Mysuru", "pincode": "570012", "phone": "0821-2345678", "email": "", "upi_id": "",
            "invoice_prefix": "MYS"}
    data.update(overrides)
    return data


@pytest.fixture
def admin(logged_in, engine):
    """An administrator at the counter: (client, staff_id, branch_id); the trail starts empty."""
    client, staff_id = logged_in("ADMIN", code="ADMIN")
    branch_id = scalar(engine, "SELECT branch_id FROM master.staff WHERE staff_id = :s", s=staff_id)
    return client, staff_id, branch_id


def row_changes(engine, table: str, key) -> list[dict]:
    return audit_rows(engine, "table_name = :t AND row_key = :k AND action <> 'EVENT'", t=table, k=str(key))


# ----------------------------------------------------------------------------- rows written by the triggers


def test_adding_a_salesman_on_the_staff_screen_is_audited_under_the_admins_name(admin, engine):
    client, admin_id, branch_id = admin
    response = post_form(client, "/master/staff/new", staff_form(branch_id))
    assert response.status_code == 303
    staff_id = scalar(engine, "SELECT staff_id FROM master.staff WHERE staff_code = 'S02'")

    [entry] = row_changes(engine, "master.staff", staff_id)
    assert entry["action"] == "INSERT"
    assert entry["staff_id"] == admin_id
    assert entry["client_addr"] == "127.0.0.1"
    assert entry["before"] is None
    after = entry["after"]
    assert after["staff_code"] == "S02" and after["name"] == "Priya Nair" and after["designation"] == "SALES"
    assert after["staff_id"] == staff_id and after["branch_id"] == branch_id
    assert after["pin_hash"] == "[redacted]"
    # Bookkeeping columns are left out of the trail.
    assert "updated_at" not in after and "failed_pin_count" not in after and "last_login_at" not in after


def test_editing_a_staff_member_records_before_and_after(admin, engine, make_staff):
    client, admin_id, branch_id = admin
    staff_id, _, _ = make_staff("S02", "SALES", name="Priya Nair", phone="9880045678")
    response = post_form(client, f"/master/staff/{staff_id}/edit",
                         staff_form(branch_id, designation="MANAGER", phone="9880099999"))
    assert response.status_code == 303

    update = row_changes(engine, "master.staff", staff_id)[-1]
    assert update["action"] == "UPDATE" and update["staff_id"] == admin_id
    assert (update["before"]["designation"], update["after"]["designation"]) == ("SALES", "MANAGER")
    assert (update["before"]["phone"], update["after"]["phone"]) == ("9880045678", "9880099999")
    assert update["before"]["pin_hash"] == update["after"]["pin_hash"] == "[redacted]"

    # The audit screen shows the change as old -> new.
    page = text(client.get(f"/audit/?staff={staff_id}"))
    assert "<del>SALES</del> → MANAGER" in page


def test_saving_an_unchanged_staff_form_adds_nothing_to_the_trail(admin, engine, make_staff):
    client, _, branch_id = admin
    staff_id, _, _ = make_staff("S02", "SALES", name="Priya Nair", phone="9880045678")
    before = len(row_changes(engine, "master.staff", staff_id))
    response = post_form(client, f"/master/staff/{staff_id}/edit", staff_form(branch_id))
    assert response.status_code == 303
    assert len(row_changes(engine, "master.staff", staff_id)) == before


def test_deactivation_is_audited_with_the_admin_as_actor(admin, engine, make_staff):
    client, admin_id, _ = admin
    staff_id, _, _ = make_staff("S02", "SALES")
    token = page_csrf(client, "/master/staff")
    client.post(f"/master/staff/{staff_id}/active", data={"active": "0", "csrf_token": token},
                headers={"HX-Request": "true"})
    update = row_changes(engine, "master.staff", staff_id)[-1]
    assert update["staff_id"] == admin_id
    assert (update["before"]["is_active"], update["after"]["is_active"]) == (True, False)


def test_adding_and_editing_a_branch_is_audited(admin, engine):
    client, admin_id, _ = admin
    response = post_form(client, "/master/branches/new", branch_form())
    assert response.status_code == 303
    branch_id = scalar(engine, "SELECT branch_id FROM master.branch WHERE branch_code = 'MYS1'")
    [insert] = row_changes(engine, "master.branch", branch_id)
    assert insert["action"] == "INSERT" and insert["staff_id"] == admin_id
    assert insert["after"]["gstin"] == gstin("29AAJCV4821K2Z") and insert["after"]["state_code"] == "29"

    response = post_form(client, f"/master/branches/{branch_id}/edit",
                         branch_form(phone="0821-2999999", upi_id="voltev.mys@okaxis"))
    assert response.status_code == 303
    update = row_changes(engine, "master.branch", branch_id)[-1]
    assert update["action"] == "UPDATE" and update["staff_id"] == admin_id
    assert update["row_key"] == str(branch_id)
    assert (update["before"]["phone"], update["after"]["phone"]) == ("0821-2345678", "0821-2999999")
    assert (update["before"]["upi_id"], update["after"]["upi_id"]) == (None, "voltev.mys@okaxis")


def test_the_setup_wizard_is_audited_without_a_staff_member(client, engine):
    data = {**branch_form(branch_code="MAIN", invoice_prefix="MN"), "admin_code": "ADMIN",
            "admin_name": "Ramesh Gowda", "pin": "4826", "pin_confirm": "4826"}
    response = post_form(client, "/setup", data)
    assert response.status_code == 303
    rows = audit_rows(engine, "action = 'INSERT'")
    assert [r["table_name"] for r in rows] == ["master.branch", "master.staff"]
    assert all(r["staff_id"] is None for r in rows)
    assert rows[1]["after"]["pin_hash"] == "[redacted]"


# ----------------------------------------------------------------------------- PIN hashes stay out of the trail


def test_pin_hashes_never_reach_the_audit_trail(admin, engine, make_staff, app):
    client, _, branch_id = admin
    post_form(client, "/master/staff/new", staff_form(branch_id))
    staff_id = scalar(engine, "SELECT staff_id FROM master.staff WHERE staff_code = 'S02'")
    # An admin reset, then the member's own change, then direct SQL.
    page = text(client.post(f"/master/staff/{staff_id}/reset-pin",
                            data={"csrf_token": page_csrf(client, f"/master/staff/{staff_id}")}))
    temporary = re.search(r'aria-label="Temporary PIN">(\d{6})<', page).group(1)
    member = app.test_client()
    assert login(member, "S02", temporary).status_code == 303
    assert post_form(member, "/profile/pin", {"current_pin": temporary, "pin": "7391",
                                              "pin_confirm": "7391"}).status_code == 303
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE master.staff SET pin_hash = pin_hash || 'x' WHERE staff_id = :s"),
                     {"s": staff_id})

    pin_changes = [r for r in row_changes(engine, "master.staff", staff_id) if r["action"] == "UPDATE"]
    assert len(pin_changes) == 3
    for row in pin_changes:
        assert row["before"]["pin_hash"] == "[redacted]"
        assert row["after"]["pin_hash"] == "[changed]"
    hashes = scalar(engine, "SELECT count(*) FROM audit.log WHERE coalesce(before::text, '') LIKE '%argon2%' "
                            "OR coalesce(after::text, '') LIKE '%argon2%'")
    assert hashes == 0
    assert "argon2" not in text(client.get("/audit/"))
    # Neither the temporary PIN nor the new one are written anywhere in the trail.
    for pin in (temporary, "7391"):
        assert scalar(engine, "SELECT count(*) FROM audit.log WHERE coalesce(after::text, '') LIKE :p",
                      p=f"%{pin}%") == 0


def test_a_login_is_an_event_not_a_row_change(make_staff, app, engine):
    staff_id, code, pin = make_staff("S02", "SALES")
    before = len(row_changes(engine, "master.staff", staff_id))
    assert login(app.test_client(), code, pin).status_code == 303
    assert len(row_changes(engine, "master.staff", staff_id)) == before  # last_login_at is bookkeeping
    [event] = audit_rows(engine, "event = 'LOGIN'")
    assert event["staff_id"] == staff_id and event["row_key"] == str(staff_id)
    assert event["after"] == {"staff_code": "S02"}


# ----------------------------------------------------------------------------- direct SQL


def test_a_change_made_directly_in_sql_is_audited_without_a_staff_member(engine, make_staff):
    staff_id, _, _ = make_staff("S02", "SALES", name="Priya Nair")
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE master.staff SET name = 'Priya R Nair' WHERE staff_id = :s"), {"s": staff_id})
        db_user = conn.execute(sa.text("SELECT current_user")).scalar()
    update = row_changes(engine, "master.staff", staff_id)[-1]
    assert update["action"] == "UPDATE"
    assert update["staff_id"] is None
    assert update["db_user"] == db_user
    assert update["client_addr"] is None
    assert (update["before"]["name"], update["after"]["name"]) == ("Priya Nair", "Priya R Nair")


# PostgreSQL's own transaction-local settings on one real connection, not the rolled-back test's savepoints.
@pytest.mark.commits
def test_the_acting_staff_member_does_not_leak_into_the_next_transaction_on_a_connection(engine, make_staff):
    staff_id, _, _ = make_staff("S02", "SALES")
    with engine.connect() as conn:
        with conn.begin():
            conn.execute(sa.text("SELECT set_config('erp.staff_id', :s, true)"), {"s": str(staff_id)})
            conn.execute(sa.text("UPDATE master.staff SET name = 'First Change' WHERE staff_id = :s"),
                         {"s": staff_id})
        with conn.begin():
            conn.execute(sa.text("UPDATE master.staff SET name = 'Second Change' WHERE staff_id = :s"),
                         {"s": staff_id})
    first, second = row_changes(engine, "master.staff", staff_id)[-2:]
    assert first["staff_id"] == staff_id
    assert second["staff_id"] is None


def test_a_staff_member_can_never_be_deleted(engine, make_staff):
    staff_id, _, _ = make_staff("S02", "SALES")
    with pytest.raises(sa.exc.IntegrityError, match="master.staff rows are permanent; DELETE is not allowed"):
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM master.staff WHERE staff_id = :s"), {"s": staff_id})
    assert scalar(engine, "SELECT count(*) FROM master.staff WHERE staff_id = :s", s=staff_id) == 1


@pytest.mark.parametrize("statement", [
    "UPDATE audit.log SET staff_id = NULL, after = '{}'::jsonb",
    "DELETE FROM audit.log",
])
def test_nobody_can_rewrite_or_erase_the_audit_trail(engine, make_staff, statement):
    make_staff("S02", "SALES")
    before = audit_rows(engine)
    assert before
    with pytest.raises(sa.exc.IntegrityError, match="audit.log rows are permanent"):
        with engine.begin() as conn:
            conn.execute(sa.text(statement))
    assert audit_rows(engine) == before


# ----------------------------------------------------------------------------- the audit screen


def screen_rows(page: str) -> list[dict]:
    """The audit screen's entries as a person reads them: when, who (and from where), what, changes."""
    body = re.search(r"<tbody>(.*?)</tbody>", page, re.DOTALL).group(1)
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL) for row in rows]

    def words(cell: str) -> str:
        return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cell))).replace(" :", ":").strip()

    return [{"when": words(c[0]), "who": words(c[1]), "what": words(c[2]), "changes": words(c[3])}
            for c in cells if len(c) == 4]


def test_the_audit_screen_shows_logins_and_failed_logins_by_who_typed_what(admin, make_staff, app):
    client, _, _ = admin
    make_staff("S02", "SALES", "4826", name="Priya Nair")
    counter = app.test_client()
    assert login(counter, "S02", "1357").status_code == 401
    other = app.test_client()  # per terminal, only the first failure of a window is a row of its own
    other.environ_base["REMOTE_ADDR"] = "192.168.1.41"
    assert login(other, "NOSUCH", "1357").status_code == 401
    assert login(counter, "S02", "4826").status_code == 303

    rows = screen_rows(text(client.get("/audit/")))
    failed = [r for r in rows if r["what"].startswith("Login failed")]
    assert len(failed) == 2
    wrong_pin, unknown = sorted(failed, key=lambda r: "NOSUCH" in r["who"])
    # Nobody was logged in: the actor is whoever typed the code, never the database role.
    assert wrong_pin["who"].startswith("unknown / typed code S02")
    assert wrong_pin["what"] == "Login failed Staff S02 Priya Nair"
    assert "Reason: wrong PIN" in wrong_pin["changes"]
    assert unknown["who"].startswith("unknown / typed code NOSUCH")
    assert unknown["what"] == "Login failed" and "Reason: unknown code" in unknown["changes"]
    db_user = scalar(app.extensions["erp_db"].engine, "SELECT current_user")
    assert all(db_user not in r["who"] for r in failed)
    logins = [r for r in rows if r["what"].startswith("Logged in")]
    assert len(logins) == 2  # the admin's own and Priya's
    assert any(r["who"].startswith("S02 Priya Nair") and r["what"] == "Logged in Staff S02 Priya Nair"
               for r in logins)


def test_the_audit_screen_names_documents_fields_people_and_the_terminal(admin, engine, make_staff, app):
    """A manager reads "Staff S02 Priya Nair", "Designation ... role", the admin's name and the terminal,
    not master.staff #7, designation or the database role."""
    client, admin_id, branch_id = admin
    staff_id, _, _ = make_staff("S02", "SALES", name="Priya Nair", phone="9880045678")
    tablet = ("Mozilla/5.0 (Linux; Android 14; SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 "
              "Safari/537.36")
    token = page_csrf(client, f"/master/staff/{staff_id}/edit")
    response = client.post(f"/master/staff/{staff_id}/edit", headers={"User-Agent": tablet},
                           data={**staff_form(branch_id, designation="MANAGER"), "csrf_token": token})
    assert response.status_code == 303
    [entry] = audit_rows(engine, "table_name = 'master.staff' AND action = 'UPDATE'")
    assert entry["user_agent"] == tablet and entry["client_addr"] == "127.0.0.1"

    page = text(client.get("/audit/?table=master.staff"))
    [change] = [r for r in screen_rows(page) if r["what"].startswith("Changed")]
    assert change["what"] == "Changed Staff S02 Priya Nair"
    assert "Role: SALES → MANAGER" in change["changes"]
    admin_code, admin_name = scalar(engine, "SELECT staff_code || '|' || name FROM master.staff WHERE staff_id = :s",
                                    s=admin_id).split("|")
    assert change["who"].startswith(f"{admin_code} {admin_name}")
    assert "127.0.0.1 · Chrome on Android" in change["who"]
    assert f"master.staff #{staff_id}" not in page and "designation" not in change["changes"]
    # The table filter offers records by name.
    assert '<option value="master.staff" selected>Staff</option>' in page


# Listens on the app's real engine to count the statements of the request.
@pytest.mark.commits
def test_the_audit_screen_names_a_sale_by_its_booking_and_invoice_numbers(admin, engine):
    """Rows of tables keyed by a booking (the exchange vehicle) and of documents (the invoice) show the
    numbers printed on the paper, looked up once per table for the whole page."""
    client, _, _ = admin
    with engine.begin() as conn:
        s = b.sale_setup(conn)
        booking_id, invoice_id = b.invoiced_booking(conn, s)
        conn.execute(sa.text("INSERT INTO sales.exchange (booking_id, make_model, reg_no, valuation, purchased_on) "
                             "VALUES (:b, 'Honda Activa 5G', 'KA05AB1234', 8000, '2026-06-02')"), {"b": booking_id})
        booking_no = conn.execute(sa.text("SELECT booking_no FROM sales.booking WHERE booking_id = :b"),
                                  {"b": booking_id}).scalar()
        invoice_no = conn.execute(sa.text("SELECT invoice_no FROM billing.invoice WHERE invoice_id = :i"),
                                  {"i": invoice_id}).scalar()
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    engine_of_app = client.application.extensions["erp_db"].engine
    sa.event.listen(engine_of_app, "before_cursor_execute", count)
    try:
        page = text(client.get("/audit/"))
    finally:
        sa.event.remove(engine_of_app, "before_cursor_execute", count)
    rows = screen_rows(page)
    whats = [r["what"] for r in rows]
    assert f"Added Exchange vehicle of booking {booking_no}" in whats
    assert f"Added Invoice {invoice_no}" in whats
    assert f"Added Booking {booking_no}" in whats
    exchange = next(r for r in screen_rows(page) if r["what"].startswith("Added Exchange"))
    assert "Registration no.: KA05AB1234" in exchange["changes"] and "Purchased on: 02-06-2026" in exchange["changes"]
    assert "Valuation: 8,000.00" in exchange["changes"]
    listed = page.split("<tbody>", 1)[1]
    assert "sales.exchange" not in listed and "billing.invoice" not in listed and f"#{invoice_id}" not in listed
    # The names are looked up once per kind of record on the page, not once per row.
    lookups = [st for st in statements if "AS label" in st]
    assert lookups and len(lookups) == len(set(lookups)) and len(lookups) < len(rows)


def test_every_document_label_query_runs_against_the_schema(engine):
    from webapp.audit import labels

    with engine.connect() as conn:
        tracked = set(conn.execute(sa.text(
            "SELECT n.nspname || '.' || c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE t.tgname = 'audit_log_change'")).scalars())
        for table, doc in labels.DOCUMENTS.items():
            assert table in tracked, f"{table} is not audited"
            conn.execute(sa.text(doc.sql), {"keys": [1] if doc.int_key else ["X"]}).all()


def test_the_audit_screen_filters_by_table(admin, engine):
    client, _, _ = admin
    post_form(client, "/master/branches/new", branch_form())
    page = text(client.get("/audit/?table=master.branch"))
    whats = [r["what"] for r in screen_rows(page)]
    assert "Added Branch MYS1 Volt EV Mysuru" in whats and all(w.startswith("Added Branch ") for w in whats)
    page = text(client.get("/audit/?table=master.staff"))
    whats = [r["what"] for r in screen_rows(page)]
    assert not any("Branch" in w for w in whats) and any(w.startswith("Logged in") for w in whats)
    # A table that is not audited is ignored, not an error.
    assert client.get("/audit/?table=pg_catalog.pg_authid").status_code == 200


def test_the_audit_screen_filters_by_staff_member_what_they_did_and_what_was_done_to_them(admin, engine,
                                                                                      make_staff, app):
    client, admin_id, _ = admin
    priya, _, _ = make_staff("S02", "SALES", "4826", name="Priya Nair")
    arjun, _, _ = make_staff("S03", "SALES", "4826", name="Arjun Shetty")
    assert login(app.test_client(), "S02", "4826").status_code == 303

    page = text(client.get(f"/audit/?staff={priya}"))
    whats = [r["what"] for r in screen_rows(page)]
    assert "Added Staff S02 Priya Nair" in whats  # the row added for her
    assert "Logged in Staff S02 Priya Nair" in whats  # her login
    assert not any("S03" in w for w in whats)
    assert f'<option value="{priya}" selected>' in page

    whats = [r["what"] for r in screen_rows(text(client.get(f"/audit/?staff={arjun}")))]
    assert whats == ["Added Staff S03 Arjun Shetty"]


def test_the_audit_screen_filters_by_date_in_indian_time(admin, engine):
    client, _, _ = admin
    with engine.begin() as conn:
        # 00:30 IST on 2 January is still 1 January in UTC.
        conn.execute(sa.text(
            "INSERT INTO audit.log (at, action, table_name, row_key, event, after) VALUES "
            "('2026-01-01 19:00:00+00', 'EVENT', 'master.staff', '1', 'NEW_YEAR_SHIFT', '{}'),"
            "('2025-12-31 12:00:00+05:30', 'EVENT', 'master.staff', '1', 'YEAR_END_SHIFT', '{}')"))

    page = text(client.get("/audit/?from=02-01-2026&to=02-01-2026"))
    assert "NEW_YEAR_SHIFT" in page and "YEAR_END_SHIFT" not in page
    assert "02-01-2026 00:30" in page
    assert 'value="02-01-2026"' in page  # the filter stays filled in, as typed
    page = text(client.get("/audit/?from=1-1-2026&to=01/01/2026"))
    assert "NEW_YEAR_SHIFT" not in page and "Nothing recorded for these filters." in page
    page = text(client.get("/audit/?to=31.12.2025"))
    assert "YEAR_END_SHIFT" in page and "NEW_YEAR_SHIFT" not in page
    # A bookmark made when the filter sent YYYY-MM-DD still works; it is shown DD-MM-YYYY.
    page = text(client.get("/audit/?from=2026-01-02"))
    assert "NEW_YEAR_SHIFT" in page and "YEAR_END_SHIFT" not in page and 'value="02-01-2026"' in page
    # A date that is not a date is kept as typed and said so next to it; the list runs unfiltered.
    response = client.get("/audit/?from=2025-13-45")
    assert response.status_code == 200
    page = text(response)
    assert 'value="2025-13-45"' in page
    assert re.search(r'<span id="from-help"[^>]*>Enter the date as DD-MM-YYYY', page)
    assert "NEW_YEAR_SHIFT" in page and "YEAR_END_SHIFT" in page


def test_the_audit_screen_pages_older_entries(admin, engine):
    client, _, _ = admin
    with engine.begin() as conn:
        for n in range(30):
            conn.execute(sa.text("SELECT audit.record_event(:e, NULL, NULL, '{}'::jsonb)"), {"e": f"EV{n:02d}"})
    first = text(client.get("/audit/"))
    assert "Older ›" in first and "EV29" in first and "EV00" not in first
    second = text(client.get("/audit/?page=2"))
    assert "EV00" in second and "‹ Newer" in second and "Older ›" not in second


def test_only_an_administrator_may_read_the_audit_trail(logged_in):
    client, _ = logged_in("MANAGER")
    assert client.get("/audit/").status_code == 403


def test_a_direct_sql_change_is_shown_as_made_outside_the_erp(admin, engine, make_staff):
    client, _, _ = admin
    staff_id, _, _ = make_staff("S02", "SALES", name="Priya Nair")
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE master.staff SET name = 'Priya R Nair' WHERE staff_id = :s"), {"s": staff_id})
        db_user = conn.execute(sa.text("SELECT current_user")).scalar()
    page = text(client.get("/audit/?table=master.staff"))
    [change] = [r for r in screen_rows(page) if r["what"].startswith("Changed")]
    assert change["who"] == f"Outside the ERP directly in the database or a command (database login {db_user})"
    assert change["what"] == "Changed Staff S02 Priya R Nair"
    assert "<del>Priya Nair</del> → Priya R Nair" in page


def test_markup_typed_as_a_staff_code_at_the_login_is_shown_as_text_in_the_audit_log(admin, app):
    """Anyone at the login screen can write into the trail (LOGIN_FAILED): it must stay text."""
    client, _, _ = admin
    typed = "<b>x</b>"
    assert login(app.test_client(), typed, "1357").status_code == 401
    page = text(client.get("/audit/"))
    assert "Staff code</strong>: &lt;B&gt;X&lt;/B&gt;" in page and "typed code &lt;B&gt;X&lt;/B&gt;" in page
    assert "<B>X</B>" not in page
