"""Login and PIN abuse on a showroom LAN: staff codes cannot be told apart by the answer, each terminal
address is slowed down after repeated failures, a lock at one terminal leaves the others open, the
change-PIN form cannot be used to guess a PIN, the audit trail stays small under a flood, PINs
follow the rules of the role, and the login page writes nothing before someone logs in."""
from __future__ import annotations

import re

import argon2
import pytest
import sqlalchemy as sa
from conftest import csrf_from, page_csrf

ERROR = re.compile(r'<p class="error">([^<]*)</p>')
HHMM = re.compile(r"\b\d\d:\d\d\b")


def terminal(app, addr: str):
    """A browser on the showroom LAN at this address."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = addr
    return client


def login(client, code: str, pin: str):
    token = page_csrf(client, "/login")
    return client.post("/login", data={"staff_code": code, "pin": pin, "csrf_token": token})


def field_errors(response, field: str) -> list[str]:
    """The messages drawn next to one field."""
    html = response.get_data(as_text=True)
    block = re.search(rf'<div id="{field}-help">(.*?)</div>', html, re.S)
    return ERROR.findall(block.group(1)) if block else []


def scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def audit_rows(engine) -> int:
    return scalar(engine, "SELECT count(*) FROM audit.log")


def change_pin(client, current: str, new: str):
    token = page_csrf(client, "/profile/pin")
    return client.post("/profile/pin", data={"current_pin": current, "pin": new, "pin_confirm": new,
                                             "csrf_token": token})


@pytest.fixture
def production_pins(make_app):
    """The app with the PIN length rules of a real showroom (6 digits for ADMIN, MANAGER, ACCOUNTS)."""
    from webapp.config import _pin_min_lengths

    return make_app(PIN_MIN_LENGTH=_pin_min_lengths())


# ----------------------------------------------------------------------------- enumeration


def test_a_real_code_with_a_wrong_pin_and_an_unknown_code_get_the_same_answer(app, make_staff):
    make_staff("KR1", "SALES", "482615")
    real = [login(terminal(app, "10.0.0.11"), "KR1", "111000") for _ in range(6)]
    unknown = [login(terminal(app, "10.0.0.12"), "NOBODY", "111000") for _ in range(6)]
    for a, b in zip(real, unknown):
        assert a.status_code == b.status_code == 401
        assert HHMM.sub("hh:mm", " ".join(field_errors(a, "pin"))) == \
            HHMM.sub("hh:mm", " ".join(field_errors(b, "pin")))
    assert "4 more wrong tries" in field_errors(unknown[0], "pin")[0]
    assert "locked until" in field_errors(unknown[5], "pin")[0]


def test_an_unknown_code_costs_a_real_pin_check_like_a_known_one(app, make_staff, monkeypatch):
    make_staff("KR1", "SALES", "482615")
    calls = []
    real_verify = argon2.PasswordHasher.verify

    def counting(self, hash_, password):
        calls.append(hash_)
        return real_verify(self, hash_, password)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", counting)
    login(terminal(app, "10.0.0.13"), "KR1", "111000")
    login(terminal(app, "10.0.0.14"), "NOBODY", "111000")
    assert len(calls) == 2  # one Argon2 verification each, the unknown code's against a dummy hash
    assert calls[0] != calls[1]


# ----------------------------------------------------------------------------- throttling per address


def test_after_n_failures_an_address_waits_before_its_next_attempt_is_even_checked(
        make_app, engine, make_staff, monkeypatch):
    app = make_app(LOGIN_THROTTLE_AFTER=3, LOGIN_THROTTLE_BASE_SECONDS=60)
    make_staff("KR1", "SALES", "482615")
    attacker, colleague = terminal(app, "192.168.1.40"), terminal(app, "192.168.1.41")
    for code in ("NO1", "NO2", "NO3"):  # different codes: no code lock, only the address counts
        assert login(attacker, code, "111000").status_code == 401
    wait = ("SELECT round(extract(epoch FROM next_allowed_at - now())) FROM master.login_throttle "
            "WHERE client_addr = :a")
    assert scalar(engine, wait, a="192.168.1.40") == 60  # the 3rd failure: 60 s x 2^0

    import webapp.auth.services as services
    checked = []
    monkeypatch.setattr(services, "verify_pin", lambda h, p: checked.append(p) or False)
    before = audit_rows(engine)
    refused = [login(attacker, "KR1", "482615") for _ in range(20)]  # even the right PIN
    assert {r.status_code for r in refused} == {429}
    assert "wait 60 seconds" in field_errors(refused[0], "pin")[0]
    assert checked == []  # no PIN was checked
    assert audit_rows(engine) == before  # and the flood wrote nothing to the trail
    assert attacker.get("/").status_code != 200
    assert scalar(engine, "SELECT refused FROM master.login_throttle WHERE client_addr = '192.168.1.40'") == 20
    monkeypatch.undo()

    assert login(colleague, "KR1", "482615").status_code == 303  # another terminal gets in at once

    with engine.begin() as conn:  # the minute has passed
        conn.execute(sa.text("UPDATE master.login_throttle SET next_allowed_at = now() - interval '1 second'"))
    assert login(attacker, "NO4", "111000").status_code == 401  # checked again; the next wait doubles
    assert scalar(engine, wait, a="192.168.1.40") == 120
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE master.login_throttle SET next_allowed_at = now() - interval '1 second'"))
    assert login(attacker, "KR1", "482615").status_code == 303


def test_throttle_thresholds_and_delays_come_from_the_settings(monkeypatch, tmp_path):
    from webapp.config import settings_from_environment

    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("PIN_PEPPER", "p" * 40)
    defaults = settings_from_environment(str(tmp_path))
    assert (defaults["LOGIN_THROTTLE_AFTER"], defaults["LOGIN_THROTTLE_WINDOW_MINUTES"],
            defaults["LOGIN_THROTTLE_BASE_SECONDS"], defaults["LOGIN_THROTTLE_MAX_SECONDS"]) == (10, 15, 1, 900)
    assert defaults["PIN_MIN_LENGTH"]["ADMIN"] == 6 and defaults["PIN_MIN_LENGTH"]["SALES"] == 4
    monkeypatch.setenv("ERP_LOGIN_THROTTLE_AFTER", "4")
    monkeypatch.setenv("ERP_PIN_MIN_LENGTH_SALES", "5")
    changed = settings_from_environment(str(tmp_path))
    assert changed["LOGIN_THROTTLE_AFTER"] == 4 and changed["PIN_MIN_LENGTH"]["SALES"] == 5
    monkeypatch.setenv("ERP_PIN_MIN_LENGTH_ADMIN", "8")
    with pytest.raises(RuntimeError, match="ERP_PIN_MIN_LENGTH_ADMIN"):
        settings_from_environment(str(tmp_path))


# ----------------------------------------------------------------------------- the administrator still gets in


def test_locking_the_admin_from_one_terminal_does_not_keep_them_out_of_another(app, engine, make_staff):
    make_staff("AD1", "ADMIN", "482615")
    attacker, office = terminal(app, "192.168.1.40"), terminal(app, "192.168.1.10")
    answers = [login(attacker, "AD1", "111000") for _ in range(5)]
    assert "locked until" in field_errors(answers[-1], "pin")[0]
    assert login(attacker, "AD1", "482615").status_code == 401  # locked at that terminal

    assert login(office, "AD1", "482615").status_code == 303
    assert office.get("/master/staff").status_code == 200


def test_the_staff_page_shows_where_a_code_is_locked_and_a_pin_reset_unlocks_it(app, engine, logged_in,
                                                                                 make_staff):
    admin, _ = logged_in("ADMIN")
    staff_id, _, _ = make_staff("KR1", "SALES", "482615")
    for _ in range(5):
        login(terminal(app, "192.168.1.40"), "KR1", "111000")
    page = admin.get(f"/master/staff/{staff_id}").get_data(as_text=True)
    assert "Locked at 192.168.1.40 until" in page
    admin.post(f"/master/staff/{staff_id}/reset-pin", data={"csrf_token": page_csrf(admin, "/profile")})
    assert scalar(engine, "SELECT count(*) FROM master.login_lockout WHERE staff_code = 'KR1'") == 0


# ----------------------------------------------------------------------------- change-PIN guessing


def test_guessing_the_current_pin_on_the_change_pin_form_locks_the_code_and_is_audited(app, engine, make_staff):
    staff_id, _, _ = make_staff("KR1", "SALES", "482615")
    counter = terminal(app, "192.168.1.30")
    assert login(counter, "KR1", "482615").status_code == 303  # someone walked away from a logged-in PC

    tries = [change_pin(counter, guess, "739164") for guess in ("111000", "222000", "333000", "444000")]
    assert [t.status_code for t in tries] == [422] * 4
    assert field_errors(tries[0], "current_pin") == [
        "That is not your current PIN. 4 more wrong tries lock this code on this terminal for 15 minutes."]
    assert "1 more wrong try locks" in field_errors(tries[3], "current_pin")[0]

    fifth = change_pin(counter, "555000", "739164")
    assert fifth.status_code == 303 and fifth.headers["Location"] == "/login"  # logged out
    assert counter.get("/").status_code != 200
    refused = login(counter, "KR1", "482615")  # locked at this terminal, even with the right PIN
    assert refused.status_code == 401 and "locked until" in field_errors(refused, "pin")[0]

    with engine.connect() as conn:
        trail = [tuple(r) for r in conn.execute(sa.text(
            "SELECT event, row_key FROM audit.log WHERE action = 'EVENT' ORDER BY audit_id"))]
    assert ("CHANGE_PIN_FAILED", str(staff_id)) in trail
    assert ("LOCKED_OUT", str(staff_id)) in trail
    assert [e for e, _ in trail].count("CHANGE_PIN_FAILED") == 1  # the window's first, not each guess


def test_a_throttled_terminal_gets_429_on_the_change_pin_form_too(make_app, engine, make_staff):
    app = make_app(LOGIN_THROTTLE_AFTER=2, LOGIN_THROTTLE_BASE_SECONDS=30)
    make_staff("KR1", "SALES", "482615")
    counter = terminal(app, "192.168.1.31")
    assert login(counter, "KR1", "482615").status_code == 303
    assert change_pin(counter, "111000", "739164").status_code == 422
    assert change_pin(counter, "222000", "739164").status_code == 422
    waiting = change_pin(counter, "482615", "739164")  # the right one, but not checked now
    assert waiting.status_code == 429
    assert "wait 30 seconds" in field_errors(waiting, "current_pin")[0]
    assert scalar(engine, "SELECT pin_changed_at FROM master.staff WHERE staff_code = 'KR1'") is None


# ----------------------------------------------------------------------------- a bounded audit trail


def test_a_hundred_failures_from_one_address_add_only_a_few_audit_rows(make_app, engine, make_staff):
    app = make_app(LOGIN_THROTTLE_BASE_SECONDS=0)  # no waiting: every one of the 100 is checked
    make_staff("KR1", "SALES", "482615")
    attacker = terminal(app, "192.168.1.40")
    before = audit_rows(engine)
    for n in range(100):
        code = "KR1" if n % 10 == 0 else f"NO{n}"
        assert login(attacker, code, "111000").status_code == 401
    assert audit_rows(engine) - before <= 6
    with engine.connect() as conn:
        summaries = conn.execute(sa.text(
            """SELECT after FROM audit.log WHERE event = 'LOGIN_FAILURES_FROM_ADDRESS'
                ORDER BY audit_id""")).scalars().all()
    assert [s["failed_attempts"] for s in summaries] == [10, 20, 40, 80]
    assert summaries[-1]["from_address"] == "192.168.1.40"
    assert "KR1" in summaries[-1]["codes_tried"]


def test_the_audit_screen_names_the_terminal_summary(app, engine, logged_in):
    admin, _ = logged_in("ADMIN")
    attacker = terminal(app, "192.168.1.40")
    for n in range(10):
        login(attacker, f"NO{n}", "111000")
    page = admin.get("/audit/").get_data(as_text=True)
    assert "Repeated failed logins from one terminal" in page
    assert "192.168.1.40" in page


# ----------------------------------------------------------------------------- PIN rules


@pytest.mark.parametrize("pin, role, code, phone, refused", [
    ("4826", "ADMIN", "AD1", None, "at least 6 digits"),
    ("48261", "MANAGER", "MG1", None, "at least 6 digits"),
    ("48261", "ACCOUNTS", "AC1", None, "at least 6 digits"),
    ("4826", "SALES", "S01", None, None),
    ("482613", "ADMIN", "AD1", None, None),
    ("123456", "ADMIN", "AD1", None, "repeated or running sequence"),
    ("000000", "ADMIN", "AD1", None, "repeated or running sequence"),
    ("777777", "MANAGER", "MG1", None, "repeated or running sequence"),
    ("654321", "ADMIN", "AD1", None, "repeated or running sequence"),
    ("1234", "SALES", "S01", None, "repeated or running sequence"),
    ("4321", "SALES", "S01", None, "repeated or running sequence"),
    ("121212", "ADMIN", "AD1", None, "repeated or running sequence"),
    ("4826", "SALES", "S4826", None, "digits of the staff code"),
    ("748261", "ADMIN", "EMP4826", None, "digits of the staff code"),
    ("7392", "SALES", "S01", "9845017392", "last digits of the mobile"),
    ("017392", "ADMIN", "AD1", "9845017392", "last digits of the mobile"),
    ("739201", "ADMIN", "AD1", "9845017392", None),
])
def test_the_pin_rules_for_each_role(production_pins, pin, role, code, phone, refused):
    from webapp.security import pin_policy_problem

    with production_pins.app_context():
        problem = pin_policy_problem(pin, role, code, phone)
    assert (problem is None) if refused is None else (refused in problem)


def test_a_manager_must_choose_six_digits_with_the_reason_next_to_the_field(production_pins, make_staff):
    make_staff("MG1", "MANAGER", "482613")
    desk = terminal(production_pins, "192.168.1.20")
    assert login(desk, "MG1", "482613").status_code == 303
    short = change_pin(desk, "482613", "7391")
    assert short.status_code == 422
    assert field_errors(short, "pin") == ["Your role needs a PIN of at least 6 digits"]
    mobile = change_pin(desk, "482613", "739164")
    assert mobile.status_code == 303


def test_an_admins_short_old_pin_still_logs_in_but_must_be_changed_first(production_pins, engine, make_staff):
    make_staff("AD1", "ADMIN", "4826")  # chosen before the 6-digit rule
    desk = terminal(production_pins, "192.168.1.10")
    assert login(desk, "AD1", "4826").status_code == 303
    assert scalar(engine, "SELECT must_change_pin FROM master.staff WHERE staff_code = 'AD1'") is True
    assert desk.get("/master/staff").headers["Location"] == "/profile/pin"
    page = desk.get("/profile/pin")
    done = desk.post("/profile/pin", data={"current_pin": "4826", "pin": "739164", "pin_confirm": "739164",
                                           "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert done.status_code == 303
    assert desk.get("/master/staff").status_code == 200


def test_the_setup_wizard_and_create_admin_refuse_a_short_administrator_pin(production_pins, make_branch):
    from test_screens import SHOWROOM

    browser = production_pins.test_client()
    token = page_csrf(browser, "/setup")
    short = browser.post("/setup", data={**SHOWROOM, "pin": "4826", "pin_confirm": "4826", "csrf_token": token})
    assert short.status_code == 422
    assert field_errors(short, "pin") == ["Your role needs a PIN of at least 6 digits"]

    make_branch()
    with production_pins.app_context():
        result = production_pins.test_cli_runner().invoke(
            args=["create-admin", "--code", "ADMIN2", "--name", "Asha Rao", "--pin", "4826"])
    assert result.exit_code != 0 and "at least 6 digits" in result.output


def test_an_admin_reset_gives_a_temporary_pin_the_rules_accept(production_pins, make_staff):
    from webapp.security import pin_policy_problem

    make_staff("AD1", "ADMIN", "482613")
    staff_id, _, _ = make_staff("MG1", "MANAGER", "482613", phone="9845012345")
    admin = terminal(production_pins, "192.168.1.10")
    assert login(admin, "AD1", "482613").status_code == 303
    reset = admin.post(f"/master/staff/{staff_id}/reset-pin", data={"csrf_token": page_csrf(admin, "/profile")})
    temporary = re.search(r'aria-label="Temporary PIN">(\d+)<', reset.get_data(as_text=True)).group(1)
    with production_pins.app_context():
        assert pin_policy_problem(temporary, "MANAGER", "MG1", "9845012345") is None


# ----------------------------------------------------------------------------- no row before a login


def test_opening_the_login_page_without_a_cookie_writes_nothing(app, engine, make_staff):
    make_staff("KR1", "SALES", "482615")
    before = scalar(engine, "SELECT count(*) FROM audit.log")
    for _ in range(20):
        assert app.test_client().get("/login").status_code == 200
    assert scalar(engine, "SELECT count(*) FROM master.staff_session") == 0
    assert scalar(engine, "SELECT count(*) FROM audit.log") == before

    browser = app.test_client()  # the login form's CSRF check still works without a row
    assert login(browser, "KR1", "482615").status_code == 303
    assert scalar(engine, "SELECT count(*) FROM master.staff_session") == 1
    stranger = app.test_client()
    forged = stranger.post("/login", data={"staff_code": "KR1", "pin": "482615",
                                           "csrf_token": page_csrf(browser, "/profile")})
    assert forged.status_code != 303  # another browser's token is refused
