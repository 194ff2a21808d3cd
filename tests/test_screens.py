"""The screens a showroom uses: the setup wizard, staff and branch management, my profile.

Every test drives the real app against the real test database, the way a person at
the counter would: open a page, take its CSRF token, submit the form, read the page.
"""
from __future__ import annotations

import html
import re
import threading
import time

import pytest
import sqlalchemy as sa
from conftest import gstin, login, page_csrf

HTMX_ROWS = {"HX-Request": "true", "HX-Target": "staff-results"}
XSS_NAME = "<script>alert(1)</script>"


# ----------------------------------------------------------------------------- helpers


def text(response) -> str:
    return response.get_data(as_text=True)


def field_block(page: str, name: str) -> str:
    """The markup of one form field (label, input, hint and errors) as the form macro draws it."""
    match = re.search(rf'<div class="field[^"]*">\s*<label for="{name}">.*?<div id="{name}-help">(.*?)</div>',
                      page, re.S)
    assert match, f"no field {name} on the page"
    return match.group(0)


def field_errors(page: str, name: str) -> list[str]:
    return [html.unescape(e) for e in re.findall(r'<p class="error">(.*?)</p>', field_block(page, name), re.S)]


def input_value(page: str, name: str) -> str | None:
    tag = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', page)
    assert tag, f"no input {name} on the page"
    value = re.search(r'\bvalue="([^"]*)"', tag.group(0))
    return html.unescape(value.group(1)) if value else None


def selected_option(page: str, name: str) -> str | None:
    select = re.search(rf'<select[^>]*\bname="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert select, f"no select {name} on the page"
    chosen = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', select.group(1))
    return html.unescape(next(g for g in chosen.groups() if g is not None)) if chosen else None


def post_form(client, page_path: str, data: dict, action: str | None = None, **kwargs):
    """Open the page that carries the form, then submit it with that page's CSRF token."""
    token = page_csrf(client, page_path)
    return client.post(action or page_path, data={**data, "csrf_token": token}, **kwargs)


def scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def wait_until_the_app_waits_on_a_lock(engine, seconds: float = 10) -> bool:
    """True once a connection of the app (in this test's database) waits for a lock held elsewhere."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if scalar(engine, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                          "AND application_name = 'showroom-erp' AND datname = current_database()"):
            return True
        time.sleep(0.02)
    return False


SHOWROOM = {
    "legal_name": "Volt Motors Private Limited",
    "trade_name": "Volt EV Indiranagar",
    "gstin": gstin("29AAJCV4821K1Z"),
    "branch_code": "BLR1",
    "address_line1": "No. 14, 100 Feet Road, HAL 2nd Stage",
    "address_line2": "Indiranagar",
    "city": "Bengaluru",
    "pincode": "560038",
    "phone": "080-41234567",
    "email": "indiranagar@voltev.example",
    "upi_id": "voltev.blr@okaxis",
    "invoice_prefix": "BLR",
    "admin_name": "Ramesh Gowda",
    "admin_code": "RAMESH",
    "pin": "4826",
    "pin_confirm": "4826",
}


def wrong_check_character(valid: str) -> str:
    return valid[:14] + ("A" if valid[14] != "A" else "B")


def new_staff_data(admin_branch: int, **overrides) -> dict:
    data = {"staff_code": "S014", "name": "Priya Nair", "designation": "SALES", "branch_id": str(admin_branch),
            "phone": "98450 12345", "email": "priya@voltev.example", "pan": "abcpn1234f", "upi_id": "",
            "bank_account_no": "", "ifsc": "", "pin": "4826", "pin_confirm": "4826"}
    data.update(overrides)
    return data


def branch_of(engine, staff_id: int) -> int:
    return scalar(engine, "SELECT branch_id FROM master.staff WHERE staff_id = :s", s=staff_id)


def edit_data(engine, staff_id: int, **overrides) -> dict:
    """The edit form as the page would submit it unchanged, with overrides."""
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT * FROM master.staff WHERE staff_id = :s"), {"s": staff_id}).mappings().one()
    data = {k: ("" if row[k] is None else str(row[k])) for k in
            ("staff_code", "name", "designation", "branch_id", "phone", "email", "pan", "upi_id",
             "bank_account_no", "ifsc")}
    data.update(overrides)
    return data


# ----------------------------------------------------------------------------- setup wizard


def test_a_new_showroom_is_sent_to_the_setup_wizard_from_any_page(client):
    for path in ("/", "/login", "/master/staff", "/audit/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].endswith("/setup"), path
    page = client.get("/setup")
    assert page.status_code == 200
    assert "set up your showroom" in text(page)


def test_the_setup_wizard_creates_the_showroom_and_its_administrator_who_can_then_log_in(client, engine):
    response = post_form(client, "/setup", SHOWROOM)
    assert response.status_code == 303, text(response)
    assert response.headers["Location"].endswith("/login")

    with engine.connect() as conn:
        branch = conn.execute(sa.text("SELECT * FROM master.branch")).mappings().all()
        staff = conn.execute(sa.text("SELECT * FROM master.staff")).mappings().all()
    assert len(branch) == 1 and len(staff) == 1
    assert branch[0]["branch_code"] == "BLR1" and branch[0]["state_code"] == "29"
    assert branch[0]["gstin"] == SHOWROOM["gstin"] and branch[0]["upi_id"] == "voltev.blr@okaxis"
    admin = staff[0]
    assert (admin["staff_code"], admin["name"], admin["designation"]) == ("RAMESH", "Ramesh Gowda", "ADMIN")
    assert admin["branch_id"] == branch[0]["branch_id"]
    assert admin["must_change_pin"] is False  # they chose their PIN in the wizard

    # The wizard runs once: afterwards it sends people to the login page.
    again = client.get("/setup")
    assert again.status_code == 302 and again.headers["Location"].endswith("/login")
    replay = client.post("/setup", data={**SHOWROOM, "branch_code": "BLR2", "csrf_token": page_csrf(client)})
    assert replay.status_code == 302
    assert scalar(engine, "SELECT count(*) FROM master.branch") == 1

    assert login(client, "ramesh", "4826").status_code == 303
    home = client.get("/")
    assert home.status_code == 200 and "Namaste, Ramesh Gowda" in text(home)


def test_an_invalid_gstin_in_the_wizard_keeps_every_typed_value_and_shows_the_error_at_the_gstin(client, engine):
    typed = {**SHOWROOM, "gstin": wrong_check_character(SHOWROOM["gstin"])}
    response = post_form(client, "/setup", typed)
    assert response.status_code == 422
    page = text(response)

    errors = field_errors(page, "gstin")
    assert errors and "Not a valid GSTIN" in errors[0]
    assert 'aria-invalid="true"' in field_block(page, "gstin")
    # No other field complains.
    for name in ("legal_name", "branch_code", "city", "pincode", "phone", "admin_code", "admin_name"):
        assert field_errors(page, name) == [], name
    # What the owner typed is still there (the PINs excepted: they are never sent back).
    for name, value in typed.items():
        if name in ("pin", "pin_confirm"):
            assert input_value(page, name) in (None, ""), name
        else:
            assert input_value(page, name) == value, name
    assert scalar(engine, "SELECT count(*) FROM master.branch") == 0
    assert scalar(engine, "SELECT count(*) FROM master.staff") == 0


def test_a_gstin_of_no_indian_state_is_refused_in_the_wizard(client, engine):
    response = post_form(client, "/setup", {**SHOWROOM, "gstin": gstin("99AAJCV4821K1Z")})
    assert response.status_code == 422
    assert field_errors(text(response), "gstin") == ["99 is not a GST state code"]
    assert scalar(engine, "SELECT count(*) FROM master.branch") == 0


# A race: the request waits on another connection's uncommitted row.
@pytest.mark.commits
def test_a_wizard_whose_administrator_cannot_be_saved_leaves_no_branch_behind(client, engine, make_branch):
    """While the wizard is submitted, someone creates the same administrator code from the command line.

    The branch insert succeeds, the administrator insert then hits the unique staff code:
    the owner sees the error at the administrator's code and the wizard's branch is gone.
    """
    existing_branch = make_branch(branch_code="OLD1", invoice_prefix="OLD")
    other = engine.connect()
    tx = other.begin()
    other.execute(sa.text(
        "INSERT INTO master.staff (staff_code, name, designation, branch_id, pin_hash) "
        "VALUES ('RAMESH', 'Ramesh (CLI)', 'ADMIN', :b, '$argon2id$v=19$m=1024,t=1,p=1$x$y')"),
        {"b": existing_branch})
    token = page_csrf(client, "/setup")  # no committed staff yet: the wizard is still open

    result = {}

    def submit():
        result["response"] = client.post("/setup", data={**SHOWROOM, "csrf_token": token})

    worker = threading.Thread(target=submit)
    worker.start()
    # The wizard's administrator insert waits on the uncommitted duplicate code.
    blocked = wait_until_the_app_waits_on_a_lock(engine)
    tx.commit()
    other.close()
    worker.join(20)
    assert not worker.is_alive()
    assert blocked, "the request never waited for the other transaction: the race was not staged"

    response = result["response"]
    assert response.status_code == 422, text(response)
    assert field_errors(text(response), "admin_code") == ["Another staff member already has this code"]
    assert scalar(engine, "SELECT array_agg(branch_code) FROM master.branch") == ["OLD1"]
    assert scalar(engine, "SELECT count(*) FROM audit.log WHERE table_name = 'master.branch' "
                          "AND row_key <> :b", b=str(existing_branch)) == 0


def test_a_wizard_refused_by_the_database_for_the_branch_leaves_nothing_behind(client, engine, make_branch):
    # A branch left over (e.g. a restore without staff) already uses this invoice prefix.
    make_branch(invoice_prefix=SHOWROOM["invoice_prefix"])
    response = post_form(client, "/setup", SHOWROOM)
    assert response.status_code == 422
    page = text(response)
    assert field_errors(page, "invoice_prefix") == ["Another branch already uses this prefix"]
    assert input_value(page, "legal_name") == SHOWROOM["legal_name"]
    assert scalar(engine, "SELECT count(*) FROM master.branch") == 1
    assert scalar(engine, "SELECT count(*) FROM master.staff") == 0


def test_a_wizard_with_a_character_the_database_cannot_store_leaves_nothing_behind(client, engine):
    """A NUL pasted into the administrator's name: a plain refusal, not "something went wrong"."""
    response = post_form(client, "/setup", {**SHOWROOM, "admin_name": "Ramesh\x00Gowda"})
    assert response.status_code == 400
    assert "cannot be stored" in text(response)
    assert scalar(engine, "SELECT count(*) FROM master.branch") == 0
    assert scalar(engine, "SELECT count(*) FROM master.staff") == 0


def test_the_wizard_refuses_a_trivial_administrator_pin(client, engine):
    response = post_form(client, "/setup", {**SHOWROOM, "pin": "1234", "pin_confirm": "1234"})
    assert response.status_code == 422
    assert "repeated or running sequence" in field_errors(text(response), "pin")[0]
    assert scalar(engine, "SELECT count(*) FROM master.branch") == 0


# ----------------------------------------------------------------------------- staff list


def test_the_staff_list_search_finds_by_name_code_and_mobile(logged_in, make_staff):
    client, _ = logged_in("ADMIN")
    make_staff("S01", "SALES", name="Arjun Shetty", phone="9880034567")
    make_staff("S02", "SALES", name="Priya Nair", phone="9880045678")
    make_staff("T01", "TECHNICIAN", name="Imran Pasha", email="imran@voltev.example")

    page = text(client.get("/master/staff?q=priya"))
    assert "Priya Nair" in page and "Arjun Shetty" not in page and "Imran Pasha" not in page
    page = text(client.get("/master/staff?q=t01"))
    assert "Imran Pasha" in page and "Priya Nair" not in page
    page = text(client.get("/master/staff?q=9880034"))
    assert "Arjun Shetty" in page and "Priya Nair" not in page
    page = text(client.get("/master/staff?q=voltev.example"))
    assert "Imran Pasha" in page and "Arjun Shetty" not in page
    # A NUL from a misbehaving barcode scanner is refused plainly.
    assert client.get("/master/staff?q=S0%001").status_code == 400
    # A % typed into the search box is a character, not a wildcard.
    page = text(client.get("/master/staff?q=%25"))
    assert "Arjun Shetty" not in page and "No staff match" in page


def test_the_staff_search_answers_htmx_with_the_rows_only_and_a_browser_with_the_whole_page(logged_in, make_staff):
    client, _ = logged_in("ADMIN")
    make_staff("S02", "SALES", name="Priya Nair")

    full = client.get("/master/staff?q=priya")
    assert full.status_code == 200
    full_page = text(full)
    assert full_page.lstrip().startswith("<!doctype html>")
    assert 'id="staff-results"' in full_page and 'role="search"' in full_page

    rows = client.get("/master/staff?q=priya", headers=HTMX_ROWS)
    assert rows.status_code == 200
    fragment = text(rows)
    assert fragment.lstrip().startswith('<div class="table-scroll">')
    assert "<html" not in fragment and 'role="search"' not in fragment and "Log out" not in fragment
    assert "Priya Nair" in fragment

    # Both answers live at one URL: caches must keep them apart.
    for response in (full, rows):
        vary = {v.strip().lower() for v in response.headers.get("Vary", "").split(",")}
        assert {"hx-target", "hx-request"} <= vary

    # An htmx request aimed elsewhere (e.g. boosted navigation) gets the whole page.
    other = text(client.get("/master/staff?q=priya", headers={"HX-Request": "true", "HX-Target": "main"}))
    assert 'role="search"' in other


def test_thirty_staff_are_paged_and_page_two_shows_the_rest(logged_in, make_staff, engine):
    client, admin_id = logged_in("ADMIN", code="ADMIN")
    for n in range(30):
        make_staff(f"S{n:02d}", "SALES", name=f"Sales Person {n:02d}")
    total = scalar(engine, "SELECT count(*) FROM master.staff")
    assert total == 31

    first = text(client.get("/master/staff"))
    second = text(client.get("/master/staff?page=2", headers=HTMX_ROWS))
    codes_1 = re.findall(r'<tr id="staff-\d+"', first)
    codes_2 = re.findall(r'<tr id="staff-\d+"', second)
    assert len(codes_1) == 25 and len(codes_2) == 6
    assert not set(codes_1) & set(codes_2)
    assert "1-25 of 31" in first and "Page 1 of 2" in first and "Next ›" in first
    assert "26-31 of 31" in second and "Page 2 of 2" in second and "‹ Previous" in second
    assert "Next ›" not in second
    # The pager keeps the search and asks for the rows only.
    assert 'hx-target="#staff-results"' in first
    assert 'href="/master/staff?q=&amp;status=active&amp;page=2"' in first
    # A page number that is not a number shows page 1 rather than an error.
    assert len(re.findall(r'<tr id="staff-\d+"', text(client.get("/master/staff?page=abc")))) == 25


def test_a_stale_link_past_the_last_page_shows_the_last_page(logged_in, make_staff):
    """Page 3 was bookmarked; since then staff left and two pages remain."""
    client, _ = logged_in("ADMIN")
    for n in range(29):
        make_staff(f"S{n:02d}", "SALES", name=f"Sales Person {n:02d}")
    page = text(client.get("/master/staff?page=3", headers=HTMX_ROWS))
    assert len(re.findall(r'<tr id="staff-\d+"', page)) == 5
    assert "26-30 of 30" in page and "Page 2 of 2" in page and "No staff match" not in page
    nothing = text(client.get("/master/staff?q=nobody&page=4"))
    assert "No staff match “nobody”" in nothing and "Page 1 of 1" in nothing and "‹ Previous" not in nothing


def test_the_staff_list_hides_deactivated_staff_unless_asked(logged_in, make_staff, engine):
    client, _ = logged_in("ADMIN")
    gone, _, _ = make_staff("S09", "SALES", name="Left Company")
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE master.staff SET is_active = false WHERE staff_id = :s"), {"s": gone})
    assert "Left Company" not in text(client.get("/master/staff"))
    assert "Left Company" in text(client.get("/master/staff?status=inactive"))
    assert "Left Company" in text(client.get("/master/staff?status=all"))


# ----------------------------------------------------------------------------- create / edit staff


def test_admin_adds_a_salesman_who_must_choose_their_own_pin_at_first_login(logged_in, engine, app):
    client, admin_id = logged_in("ADMIN")
    response = post_form(client, "/master/staff/new", new_staff_data(branch_of(engine, admin_id)))
    assert response.status_code == 303, text(response)
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT * FROM master.staff WHERE staff_code = 'S014'")).mappings().one()
    assert response.headers["Location"].endswith(f"/master/staff/{row['staff_id']}")
    assert row["name"] == "Priya Nair" and row["designation"] == "SALES"
    assert row["phone"] == "9845012345"  # typed with a space, stored as 10 digits
    assert row["pan"] == "ABCPN1234F"
    assert row["must_change_pin"] is True
    detail = text(client.get(response.headers["Location"]))
    assert "can now log in" in detail and "Priya Nair" in detail

    newcomer = app.test_client()
    assert login(newcomer, "S014", "4826").status_code == 303
    assert newcomer.get("/").headers["Location"].endswith("/profile/pin")


def test_a_duplicate_staff_code_is_refused_by_the_database_and_shown_at_the_code(logged_in, make_staff, engine):
    client, admin_id = logged_in("ADMIN")
    make_staff("S014", "SALES", name="Arjun Shetty")
    typed = new_staff_data(branch_of(engine, admin_id), staff_code="s014")
    response = post_form(client, "/master/staff/new", typed)
    assert response.status_code == 422
    page = text(response)
    assert field_errors(page, "staff_code") == ["Another staff member already has this code"]
    assert input_value(page, "name") == "Priya Nair"
    assert input_value(page, "staff_code") == "S014"
    assert input_value(page, "email") == "priya@voltev.example"
    assert input_value(page, "pan") == "ABCPN1234F"
    assert selected_option(page, "designation") == "SALES"
    assert input_value(page, "pin") in (None, "")
    assert scalar(engine, "SELECT count(*) FROM master.staff WHERE staff_code = 'S014'") == 1
    assert scalar(engine, "SELECT name FROM master.staff WHERE staff_code = 'S014'") == "Arjun Shetty"


def test_a_bank_account_without_ifsc_is_refused_at_the_ifsc(logged_in, engine):
    client, admin_id = logged_in("ADMIN")
    response = post_form(client, "/master/staff/new",
                         new_staff_data(branch_of(engine, admin_id), bank_account_no="123456789012"))
    assert response.status_code == 422
    assert field_errors(text(response), "ifsc") == ["Give both the account number and the IFSC, or neither"]


def test_admin_edits_a_staff_members_role_and_mobile(logged_in, make_staff, engine):
    client, _ = logged_in("ADMIN")
    staff_id, _, _ = make_staff("S02", "SALES", name="Priya Nair")
    path = f"/master/staff/{staff_id}/edit"
    form = text(client.get(path))
    assert input_value(form, "name") == "Priya Nair" and selected_option(form, "designation") == "SALES"

    response = post_form(client, path, edit_data(engine, staff_id, designation="MANAGER", phone="+91 98450 99999",
                                                 bank_account_no="123456789012", ifsc="hdfc0001234"))
    assert response.status_code == 303, text(response)
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT * FROM master.staff WHERE staff_id = :s"), {"s": staff_id}).mappings().one()
    assert (row["designation"], row["phone"], row["ifsc"]) == ("MANAGER", "9845099999", "HDFC0001234")
    assert "Saved Priya Nair" in text(client.get(response.headers["Location"]))


def test_editing_to_a_code_someone_else_has_is_refused_with_the_typed_values_kept(logged_in, make_staff, engine):
    client, _ = logged_in("ADMIN")
    make_staff("S01", "SALES", name="Arjun Shetty")
    staff_id, _, _ = make_staff("S02", "SALES", name="Priya Nair")
    response = post_form(client, f"/master/staff/{staff_id}/edit",
                         edit_data(engine, staff_id, staff_code="S01", name="Priya N"))
    assert response.status_code == 422
    page = text(response)
    assert field_errors(page, "staff_code") == ["Another staff member already has this code"]
    assert input_value(page, "name") == "Priya N"
    assert scalar(engine, "SELECT staff_code || ' ' || name FROM master.staff WHERE staff_id = :s",
                  s=staff_id) == "S02 Priya Nair"


def test_an_unknown_staff_member_is_a_404_page(logged_in):
    client, _ = logged_in("ADMIN")
    for path in ("/master/staff/999999", "/master/staff/999999/edit"):
        response = client.get(path)
        assert response.status_code == 404
        assert "Page not found" in text(response)


# ----------------------------------------------------------------------------- deactivate / reactivate


def test_deactivating_a_salesman_from_the_list_returns_just_his_row_and_logs_him_out(logged_in, make_staff, app,
                                                                                    engine):
    client, _ = logged_in("ADMIN")
    staff_id, code, pin = make_staff("S02", "SALES", name="Priya Nair")
    counter = app.test_client()
    assert login(counter, code, pin).status_code == 303
    assert counter.get("/").status_code == 200

    token = page_csrf(client, "/master/staff")
    response = client.post(f"/master/staff/{staff_id}/active", data={"active": "0", "csrf_token": token},
                           headers={"HX-Request": "true", "HX-Target": f"staff-{staff_id}"})
    assert response.status_code == 200
    row = text(response).strip()
    assert row.startswith(f'<tr id="staff-{staff_id}" class="inactive">') and row.endswith("</tr>")
    assert row.count("<tr") == 1 and "<html" not in row
    assert "Inactive" in row and "Reactivate" in row and "Deactivate" not in row

    assert scalar(engine, "SELECT is_active FROM master.staff WHERE staff_id = :s", s=staff_id) is False
    assert scalar(engine, "SELECT count(*) FROM master.staff_session WHERE staff_id = :s", s=staff_id) == 0
    # The salesman's replayed cookie is refused: back to the login page.
    refused = counter.get("/")
    assert refused.status_code == 303 and "/login" in refused.headers["Location"]
    assert login(counter, code, pin).status_code == 401


def test_a_deactivated_salesman_is_reactivated_and_can_log_in_again(logged_in, make_staff, engine, app):
    client, _ = logged_in("ADMIN")
    staff_id, code, pin = make_staff("S02", "SALES", name="Priya Nair")
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE master.staff SET is_active = false WHERE staff_id = :s"), {"s": staff_id})

    token = page_csrf(client, f"/master/staff/{staff_id}")
    response = client.post(f"/master/staff/{staff_id}/active", data={"active": "1", "csrf_token": token})
    assert response.status_code == 303
    assert "Priya Nair is active again" in text(client.get(response.headers["Location"]))
    assert scalar(engine, "SELECT is_active FROM master.staff WHERE staff_id = :s", s=staff_id) is True
    assert login(app.test_client(), code, pin).status_code == 303


def test_an_administrator_cannot_deactivate_themself(logged_in, engine):
    client, admin_id = logged_in("ADMIN")
    token = page_csrf(client, "/master/staff")
    response = client.post(f"/master/staff/{admin_id}/active", data={"active": "0", "csrf_token": token},
                           headers={"HX-Request": "true", "HX-Target": f"staff-{admin_id}"})
    assert response.status_code == 200
    assert "You cannot deactivate yourself." in text(response)
    assert scalar(engine, "SELECT is_active FROM master.staff WHERE staff_id = :s", s=admin_id) is True

    plain = client.post(f"/master/staff/{admin_id}/active", data={"active": "0", "csrf_token": token})
    assert plain.status_code == 303
    assert "You cannot deactivate yourself." in text(client.get(plain.headers["Location"]))
    assert client.get("/").status_code == 200  # still logged in


def test_the_only_administrator_cannot_demote_themself(logged_in, engine):
    client, admin_id = logged_in("ADMIN")
    response = post_form(client, f"/master/staff/{admin_id}/edit", edit_data(engine, admin_id, designation="SALES"))
    assert response.status_code == 422
    assert field_errors(text(response), "designation") == ["At least one active administrator must remain"]
    assert scalar(engine, "SELECT designation FROM master.staff WHERE staff_id = :s", s=admin_id) == "ADMIN"
    assert client.get("/master/staff").status_code == 200  # still an administrator


def test_with_a_second_administrator_the_first_may_step_down(logged_in, make_staff, engine):
    client, admin_id = logged_in("ADMIN")
    make_staff("ADM2", "ADMIN", name="Kavitha Rao")
    response = post_form(client, f"/master/staff/{admin_id}/edit", edit_data(engine, admin_id, designation="MANAGER"))
    assert response.status_code == 303
    # The very next request sees the new role: the staff screens are closed to a manager.
    assert client.get("/master/staff").status_code == 403


# A race between two requests on their own connections.
@pytest.mark.commits
def test_two_administrators_removing_each_other_at_once_leave_one_admin(logged_in, make_staff, engine):
    """Another admin's deactivation of this admin is committing while this admin deactivates them.

    The database trigger serialises the two; the second is refused with a readable message in the row.
    """
    client, me = logged_in("ADMIN")
    other_admin, _, _ = make_staff("ADM2", "ADMIN", name="Kavitha Rao")
    token = page_csrf(client, "/master/staff")

    elsewhere = engine.connect()
    tx = elsewhere.begin()
    elsewhere.execute(sa.text("UPDATE master.staff SET is_active = false WHERE staff_id = :s"), {"s": me})
    result = {}

    def deactivate_the_other():
        result["response"] = client.post(f"/master/staff/{other_admin}/active",
                                         data={"active": "0", "csrf_token": token},
                                         headers={"HX-Request": "true", "HX-Target": f"staff-{other_admin}"})

    worker = threading.Thread(target=deactivate_the_other)
    worker.start()
    blocked = wait_until_the_app_waits_on_a_lock(engine)
    tx.commit()
    elsewhere.close()
    worker.join(20)
    assert not worker.is_alive()
    assert blocked, "the request never waited for the other transaction: the race was not staged"

    response = result["response"]
    assert response.status_code == 200
    assert "At least one active administrator must remain." in text(response)
    assert scalar(engine, "SELECT count(*) FROM master.staff WHERE designation = 'ADMIN' AND is_active") == 1
    assert scalar(engine, "SELECT is_active FROM master.staff WHERE staff_id = :s", s=other_admin) is True


# ----------------------------------------------------------------------------- reset PIN


def test_a_pin_reset_shows_a_six_digit_temporary_pin_once(logged_in, make_staff, engine, app):
    client, _ = logged_in("ADMIN")
    staff_id, code, old_pin = make_staff("S02", "SALES", name="Priya Nair")
    counter = app.test_client()
    assert login(counter, code, old_pin).status_code == 303

    token = page_csrf(client, f"/master/staff/{staff_id}")
    response = client.post(f"/master/staff/{staff_id}/reset-pin", data={"csrf_token": token})
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]  # the browser keeps no copy of it
    page = text(response)
    found = re.findall(r'<p class="big-pin" aria-label="Temporary PIN">(\d+)</p>', page)
    assert len(found) == 1 and re.fullmatch(r"\d{6}", found[0])
    temporary = found[0]

    # Shown once: not on the next page, not kept in the session row.
    assert temporary not in text(client.get(f"/master/staff/{staff_id}"))
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT data::text FROM master.staff_session")).scalars().all()
    assert not any(temporary in s for s in stored)

    assert scalar(engine, "SELECT must_change_pin FROM master.staff WHERE staff_id = :s", s=staff_id) is True
    assert counter.get("/").status_code == 303  # the old session ended with the reset
    assert login(app.test_client(), code, old_pin).status_code == 401
    member = app.test_client()
    assert login(member, code, temporary).status_code == 303
    assert member.get("/").headers["Location"].endswith("/profile/pin")


def test_a_pin_reset_unlocks_a_locked_out_salesman(logged_in, make_staff, engine, app):
    client, _ = logged_in("ADMIN")
    staff_id, code, _ = make_staff("S02", "SALES")
    with engine.begin() as conn:
        conn.execute(sa.text(  # locked at one terminal after wrong PINs (sql/0015)
            "INSERT INTO master.login_lockout (staff_code, client_addr, locked_until) "
            "VALUES (:c, '192.168.1.40', now() + interval '15 minutes')"), {"c": code})
    assert "Locked" in text(client.get("/master/staff"))
    token = page_csrf(client, f"/master/staff/{staff_id}")
    page = text(client.post(f"/master/staff/{staff_id}/reset-pin", data={"csrf_token": token}))
    temporary = re.search(r'aria-label="Temporary PIN">(\d{6})<', page).group(1)
    assert login(app.test_client(), code, temporary).status_code == 303


# ----------------------------------------------------------------------------- branches


def branch_form(**overrides) -> dict:
    data = {"branch_code": "PUN1", "legal_name": "Volt Motors Private Limited", "trade_name": "Volt EV Pune",
            "gstin": gstin("27AAJCV4821K1Z"), "address_line1": "Survey 12, Baner Road", "address_line2": "",
            "city": "Pune", "pincode": "411045", "phone": "020-41234567", "email": "", "upi_id": "",
            "invoice_prefix": "PUN"}
    data.update(overrides)
    return data


def test_a_new_branch_takes_its_state_from_the_gstin(logged_in, engine):
    client, _ = logged_in("ADMIN")
    response = post_form(client, "/master/branches/new", branch_form())
    assert response.status_code == 303, text(response)
    listing = text(client.get(response.headers["Location"]))
    assert "Branch PUN1 added." in listing
    assert "Maharashtra (27)" in listing
    assert scalar(engine, "SELECT state_code FROM master.branch WHERE branch_code = 'PUN1'") == "27"


def test_editing_a_branchs_gstin_moves_it_to_the_new_state(logged_in, engine):
    client, _ = logged_in("ADMIN")
    post_form(client, "/master/branches/new", branch_form())
    branch_id = scalar(engine, "SELECT branch_id FROM master.branch WHERE branch_code = 'PUN1'")
    path = f"/master/branches/{branch_id}/edit"
    form = text(client.get(path))
    assert "State: Maharashtra (27), from the GSTIN." in form
    assert input_value(form, "gstin") == gstin("27AAJCV4821K1Z")

    response = post_form(client, path, branch_form(gstin=gstin("33AAJCV4821K1Z"), city="Chennai",
                                                   pincode="600017"))
    assert response.status_code == 303, text(response)
    assert "Tamil Nadu (33)" in text(client.get("/master/branches"))
    assert scalar(engine, "SELECT state_code || city FROM master.branch WHERE branch_id = :b",
                  b=branch_id) == "33Chennai"


def test_a_branch_with_an_invoice_prefix_another_branch_has_is_refused_at_the_prefix(logged_in, engine, make_branch):
    client, _ = logged_in("ADMIN")
    make_branch(invoice_prefix="PUN")
    before = scalar(engine, "SELECT count(*) FROM master.branch")
    response = post_form(client, "/master/branches/new", branch_form())
    assert response.status_code == 422
    page = text(response)
    assert field_errors(page, "invoice_prefix") == ["Another branch already uses this prefix"]
    assert input_value(page, "city") == "Pune"
    assert scalar(engine, "SELECT count(*) FROM master.branch") == before


def test_a_second_place_of_business_shares_the_gstin_of_its_registration(logged_in, engine, make_branch):
    client, _ = logged_in("ADMIN")
    shared = gstin("27AAJCV4821K1Z")
    make_branch(gstin=shared)
    response = post_form(client, "/master/branches/new", branch_form(gstin=shared))
    assert response.status_code == 303, text(response)
    assert scalar(engine, "SELECT count(*) FROM master.branch WHERE gstin = :g", g=shared) == 2


def test_a_branch_gstin_with_a_wrong_check_character_is_refused(logged_in, engine):
    client, _ = logged_in("ADMIN")
    response = post_form(client, "/master/branches/new",
                         branch_form(gstin=wrong_check_character(gstin("27AAJCV4821K1Z"))))
    assert response.status_code == 422
    assert "Not a valid GSTIN" in field_errors(text(response), "gstin")[0]
    assert scalar(engine, "SELECT count(*) FROM master.branch WHERE branch_code = 'PUN1'") == 0


# ----------------------------------------------------------------------------- my profile and PIN


def test_my_profile_shows_who_i_am(logged_in, engine):
    client, staff_id = logged_in("SALES", code="S77")
    page = text(client.get("/profile"))
    assert "Staff S77" in page and "Sales executive" in page and "S77" in page
    assert "Change my PIN" in page


def test_a_salesman_changes_his_own_pin_and_his_other_devices_are_logged_out(logged_in, app, engine):
    client, staff_id = logged_in("SALES", code="S77")
    tablet = app.test_client()
    assert login(tablet, "S77", "2580").status_code == 303

    wrong = post_form(client, "/profile/pin", {"current_pin": "9999", "pin": "4826", "pin_confirm": "4826"})
    assert wrong.status_code == 422
    assert field_errors(text(wrong), "current_pin") == [  # it counts like a wrong PIN at the login
        "That is not your current PIN. 4 more wrong tries lock this code on this terminal for 15 minutes."]
    same = post_form(client, "/profile/pin", {"current_pin": "2580", "pin": "2580", "pin_confirm": "2580"})
    assert same.status_code == 422
    assert field_errors(text(same), "pin") == ["Choose a PIN different from the current one"]
    differ = post_form(client, "/profile/pin", {"current_pin": "2580", "pin": "4826", "pin_confirm": "4862"})
    assert differ.status_code == 422
    assert field_errors(text(differ), "pin_confirm") == ["The two PINs differ"]

    ok = post_form(client, "/profile/pin", {"current_pin": "2580", "pin": "4826", "pin_confirm": "4826"})
    assert ok.status_code == 303
    assert "Your PIN is changed" in text(client.get("/"))  # this device stays logged in
    assert tablet.get("/").status_code == 303  # the other device is logged out
    assert login(app.test_client(), "S77", "2580").status_code == 401
    assert login(app.test_client(), "S77", "4826").status_code == 303
    assert scalar(engine, "SELECT pin_changed_at IS NOT NULL FROM master.staff WHERE staff_id = :s",
                  s=staff_id) is True


def test_a_member_with_a_temporary_pin_is_held_at_the_pin_change_until_done(make_staff, client):
    make_staff("ADM", "ADMIN")
    make_staff("S02", "SALES", "4826", must_change_pin=True)
    assert login(client, "S02", "4826").status_code == 303
    assert client.get("/profile").headers["Location"].endswith("/profile/pin")
    page = text(client.get("/profile/pin"))
    assert "Choose your own before you continue" in page
    ok = post_form(client, "/profile/pin", {"current_pin": "4826", "pin": "7391", "pin_confirm": "7391"})
    assert ok.status_code == 303
    assert client.get("/profile").status_code == 200


# ----------------------------------------------------------------------------- escaping


def test_a_staff_name_with_markup_is_shown_as_text_on_every_page(logged_in, engine):
    client, admin_id = logged_in("ADMIN")
    response = post_form(client, "/master/staff/new",
                         new_staff_data(branch_of(engine, admin_id), staff_code="X1", name=XSS_NAME))
    assert response.status_code == 303, text(response)
    staff_id = scalar(engine, "SELECT staff_id FROM master.staff WHERE staff_code = 'X1'")
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"

    pages = {
        "list": client.get("/master/staff"),
        "rows": client.get("/master/staff?q=X1", headers=HTMX_ROWS),
        "detail": client.get(f"/master/staff/{staff_id}"),
        "edit": client.get(f"/master/staff/{staff_id}/edit"),
        "audit": client.get("/audit/"),
        "audit by staff": client.get(f"/audit/?staff={staff_id}"),
    }
    for where, response in pages.items():
        assert response.status_code == 200, where
        body = text(response)
        assert XSS_NAME not in body, where
        assert "<script>alert" not in body, where
        assert escaped in body, where

    # The deactivate button's confirmation carries the name too, escaped inside the attribute.
    token = page_csrf(client, "/master/staff")
    row = text(client.post(f"/master/staff/{staff_id}/active", data={"active": "0", "csrf_token": token},
                           headers={"HX-Request": "true"}))
    assert XSS_NAME not in row and escaped in row


def test_the_edit_and_activate_links_of_a_staff_row_are_real_routes(logged_in, make_staff):
    """The row builds them from the detail URL; if the routes move, this catches it."""
    client, _ = logged_in("ADMIN")
    staff_id, _, _ = make_staff("ROW1", "SALES", name="Row Person")
    html = client.get("/master/staff?q=Row+Person").get_data(as_text=True)
    assert f'href="/master/staff/{staff_id}/edit"' in html
    assert f'action="/master/staff/{staff_id}/active"' in html
    assert client.get(f"/master/staff/{staff_id}/edit").status_code == 200


def test_a_branch_is_marked_head_office_on_its_profile(logged_in, engine):
    client, _ = logged_in("ADMIN")
    response = post_form(client, "/master/branches/new", branch_form(head_office="y"))
    assert response.status_code == 303, text(response)
    assert scalar(engine, "SELECT head_office FROM master.branch WHERE branch_code = 'PUN1'") is True
    assert "Head office: its managers work across every branch" in text(client.get("/master/branches/new"))
