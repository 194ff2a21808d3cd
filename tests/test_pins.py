"""PINs: how they are stored, which ones are refused, and the lockout after wrong tries."""
from __future__ import annotations

import hashlib
import hmac
import re

import argon2
import pytest
import sqlalchemy as sa
from conftest import TEST_PEPPER, csrf_from, login, page_csrf

from webapp.config import settings_from_environment
from webapp.security import hash_pin, verify_pin


def staff_row(engine, staff_id):
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT * FROM master.staff WHERE staff_id = :id"), {"id": staff_id}).one()


def events(engine, staff_id) -> list[tuple[str, dict]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(
            """SELECT event, after FROM audit.log WHERE action = 'EVENT' AND row_key = :key
                ORDER BY audit_id"""), {"key": str(staff_id)})]


def change_pin(client, current, new, confirm=None):
    token = page_csrf(client, "/profile/pin")
    return client.post("/profile/pin", data={"current_pin": current, "pin": new,
                                             "pin_confirm": new if confirm is None else confirm,
                                             "csrf_token": token})


# ----------------------------------------------------------------------------- storage


def test_a_pin_is_stored_as_an_argon2id_hash_that_does_not_contain_it(engine, make_staff):
    staff_id, _, pin = make_staff("KR1", "SALES", "482615")
    stored = staff_row(engine, staff_id).pin_hash
    assert argon2.extract_parameters(stored).type is argon2.Type.ID
    assert stored.startswith("$argon2id$")
    assert pin not in stored


def test_the_stored_hash_is_of_the_peppered_pin_so_the_database_alone_cannot_check_a_guess(engine, make_staff):
    staff_id, _, pin = make_staff("KR1", "SALES", "482615")
    stored = staff_row(engine, staff_id).pin_hash
    with pytest.raises(argon2.exceptions.VerifyMismatchError):
        argon2.PasswordHasher().verify(stored, pin)  # what an attacker with a dump would try
    peppered = hmac.new(TEST_PEPPER.encode(), pin.encode(), hashlib.sha256).hexdigest()
    assert argon2.PasswordHasher().verify(stored, peppered)


def test_a_hash_made_with_one_pepper_does_not_verify_under_another(make_app):
    app_a = make_app(PIN_PEPPER="pepper-of-showroom-A-" + "a" * 20)
    app_b = make_app(PIN_PEPPER="pepper-of-showroom-B-" + "b" * 20)
    with app_a.app_context():
        stored = hash_pin("482615")
        assert verify_pin(stored, "482615")
    with app_b.app_context():
        assert not verify_pin(stored, "482615")


def test_a_server_with_a_different_pepper_cannot_log_anyone_in(make_app, make_staff):
    make_staff("KR1", "SALES", "482615")
    other = make_app(PIN_PEPPER="a-different-pepper-" + "z" * 20).test_client()
    assert login(other, "KR1", "482615").status_code == 401
    same = make_app().test_client()  # the same pepper as the server that stored the PIN
    assert login(same, "KR1", "482615").status_code == 303


def test_the_database_refuses_a_pin_that_is_not_an_argon2id_hash(engine, make_staff):
    staff_id, _, _ = make_staff("KR1", "SALES", "482615")
    for stored in ("482615", "$argon2i$v=19$m=1024,t=1,p=1$c2FsdA$aGFzaA", "$2b$12$abcdefghijklmnopqrstuv"):
        with pytest.raises(sa.exc.IntegrityError, match="staff_pin_hash_check"):
            with engine.begin() as conn:
                conn.execute(sa.text("UPDATE master.staff SET pin_hash = :h WHERE staff_id = :id"),
                             {"h": stored, "id": staff_id})


def test_the_audit_trail_never_shows_a_pin_hash(engine, logged_in, make_staff):
    client, _ = logged_in("ADMIN")
    staff_id, _, _ = make_staff("KR1", "SALES", "482615")
    client.post(f"/master/staff/{staff_id}/reset-pin", data={"csrf_token": page_csrf(client, "/profile")})
    stored = staff_row(engine, staff_id).pin_hash
    with engine.connect() as conn:
        trail = conn.execute(sa.text("SELECT string_agg(l::text, ' ') FROM audit.log l")).scalar()
    assert "pin_hash" in trail  # the change is recorded ...
    assert "$argon2" not in trail and stored not in trail  # ... but never the hash itself


def test_production_defaults_are_argon2id_with_time_cost_2_and_64_mib(monkeypatch, tmp_path, make_app):
    for name in ("ERP_PIN_HASH_TIME_COST", "ERP_PIN_HASH_MEMORY_KIB"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("PIN_PEPPER", "p" * 40)
    defaults = settings_from_environment(str(tmp_path))
    assert defaults["PIN_HASH_TIME_COST"] == 2
    assert defaults["PIN_HASH_MEMORY_KIB"] == 64 * 1024
    production = make_app(PIN_HASH_TIME_COST=defaults["PIN_HASH_TIME_COST"],
                          PIN_HASH_MEMORY_KIB=defaults["PIN_HASH_MEMORY_KIB"])
    with production.app_context():
        params = argon2.extract_parameters(hash_pin("482615"))
    assert (params.type, params.time_cost, params.memory_cost, params.parallelism) == (argon2.Type.ID, 2, 65536, 1)


def test_a_pin_stored_with_weaker_settings_is_rehashed_at_the_next_login(engine, make_app, make_staff):
    staff_id, code, pin = make_staff("KR1", "SALES", "482615")  # conftest's cheap settings
    stronger = make_app(PIN_HASH_TIME_COST=2, PIN_HASH_MEMORY_KIB=2048)
    assert login(stronger.test_client(), code, pin).status_code == 303
    params = argon2.extract_parameters(staff_row(engine, staff_id).pin_hash)
    assert (params.time_cost, params.memory_cost) == (2, 2048)
    assert login(stronger.test_client(), code, pin).status_code == 303  # and the new hash works


# ----------------------------------------------------------------------------- choosing a PIN


@pytest.mark.parametrize("trivial", ["1111", "0000", "1234", "4321", "123456", "987654", "999999", "3456"])
def test_the_change_pin_form_refuses_a_pin_anyone_would_guess(engine, logged_in, trivial):
    client, staff_id = logged_in("SALES")
    before = staff_row(engine, staff_id).pin_hash
    response = change_pin(client, "2580", trivial)
    assert response.status_code == 422
    assert "repeated or running sequence" in response.get_data(as_text=True)
    assert staff_row(engine, staff_id).pin_hash == before


@pytest.mark.parametrize("malformed", ["258", "2580147", "25a0", "２５８０", "2580\n", " 2580", "٢٥٨٠"])
def test_the_change_pin_form_refuses_what_is_not_four_to_six_plain_digits(engine, logged_in, malformed):
    client, staff_id = logged_in("SALES")
    before = staff_row(engine, staff_id).pin_hash
    response = change_pin(client, "2580", malformed)
    assert response.status_code == 422
    assert staff_row(engine, staff_id).pin_hash == before


@pytest.mark.parametrize("not_a_pin", ["2580\n", "258", "25a0", "２５８０", ""])
def test_only_four_to_six_plain_digits_can_be_hashed_as_a_pin(app, not_a_pin):
    with app.app_context(), pytest.raises(ValueError):
        hash_pin(not_a_pin)


def test_changing_the_pin_needs_the_current_one_and_then_only_the_new_one_works(engine, app, logged_in):
    client, staff_id = logged_in("SALES", code="KR1")
    wrong_current = change_pin(client, "9999", "7391")
    assert wrong_current.status_code == 422
    assert "not your current PIN" in wrong_current.get_data(as_text=True)
    assert change_pin(client, "2580", "7391", confirm="7392").status_code == 422
    assert change_pin(client, "2580", "2580").status_code == 422  # the same PIN again
    assert change_pin(client, "2580", "7391").status_code == 303
    assert [e for e, _ in events(engine, staff_id)][-1] == "PIN_CHANGED"
    assert login(app.test_client(), "KR1", "2580").status_code == 401
    assert login(app.test_client(), "KR1", "7391").status_code == 303


# ----------------------------------------------------------------------------- lockout


def test_five_wrong_pins_lock_the_code_for_15_minutes_and_then_even_the_right_pin_is_refused(
        engine, client, make_staff):
    staff_id, code, pin = make_staff("KR1", "SALES", "482615")
    answers = [login(client, code, "111000") for _ in range(5)]
    assert [a.status_code for a in answers] == [401] * 5
    assert "4 more wrong tries" in answers[0].get_data(as_text=True)
    assert "1 more wrong try locks" in answers[3].get_data(as_text=True)
    assert "locked until" in answers[4].get_data(as_text=True)
    with engine.connect() as conn:
        minutes = conn.execute(sa.text(  # locked at this terminal (sql/0015), not everywhere
            "SELECT extract(epoch FROM locked_until - now()) / 60 FROM master.login_lockout "
            "WHERE staff_code = :code AND client_addr = '127.0.0.1'"), {"code": code}).scalar()
    assert 14.5 < minutes <= 15

    refused = login(client, code, pin)
    assert refused.status_code == 401
    assert "locked until" in refused.get_data(as_text=True)
    assert client.get("/").status_code != 200  # not logged in

    trail = events(engine, staff_id)  # the first failure of the terminal's window and the lock, not each try
    assert [e for e, _ in trail] == ["LOGIN_FAILED", "LOCKED_OUT"]
    assert all(d["staff_code"] == code for _, d in trail)


def test_when_the_lock_runs_out_the_right_pin_works_again_and_the_count_starts_afresh(engine, client, make_staff):
    staff_id, code, pin = make_staff("KR1", "SALES", "482615")
    for _ in range(5):
        login(client, code, "111000")
    with engine.begin() as conn:  # 15 minutes pass
        conn.execute(sa.text("UPDATE master.login_lockout SET locked_until = now() - interval '1 second' "
                             "WHERE staff_code = :code"), {"code": code})
    assert "4 more wrong tries" in login(client, code, "111000").get_data(as_text=True)
    assert login(client, code, pin).status_code == 303
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM master.login_lockout")).scalar() == 0


def test_a_right_pin_before_the_fifth_wrong_one_clears_the_count(engine, app, make_staff):
    staff_id, code, pin = make_staff("KR1", "SALES", "482615")
    for _ in range(4):
        login(app.test_client(), code, "111000")
    assert login(app.test_client(), code, pin).status_code == 303
    assert "4 more wrong tries" in login(app.test_client(), code, "111000").get_data(as_text=True)


def test_wrong_pins_on_two_servers_add_up_and_the_fifth_locks_both(engine, make_app, make_staff):
    staff_id, code, pin = make_staff("KR1", "SALES", "482615")
    counter_pc, service_pc = make_app().test_client(), make_app().test_client()
    answers = [login(pc, code, "111000") for pc in (counter_pc, service_pc) * 2 + (counter_pc,)]
    assert "1 more wrong try locks" in answers[3].get_data(as_text=True)  # service PC saw only its 2nd try
    assert "locked until" in answers[4].get_data(as_text=True)
    for pc in (counter_pc, service_pc):
        refused = login(pc, code, pin)
        assert refused.status_code == 401 and "locked until" in refused.get_data(as_text=True)
    assert [e for e, _ in events(engine, staff_id)].count("LOCKED_OUT") == 1


def test_an_unknown_or_deactivated_code_is_refused_with_the_same_words(engine, client, make_staff):
    staff_id, code, pin = make_staff("KR1", "SALES", "482615")
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE master.staff SET is_active = false WHERE staff_id = :id"), {"id": staff_id})
    unknown = login(client, "NOBODY", pin)
    inactive = login(client, code, pin)
    assert unknown.status_code == inactive.status_code == 401
    message = re.compile(r'<p class="error">([^<]*)</p>')
    assert message.findall(unknown.get_data(as_text=True)) == message.findall(inactive.get_data(as_text=True))


# ----------------------------------------------------------------------------- admin reset


def test_an_admin_pin_reset_unlocks_and_forces_a_new_pin_at_the_next_login(engine, app, logged_in, make_staff):
    admin, _ = logged_in("ADMIN")
    staff_id, code, _ = make_staff("KR1", "SALES", "482615")
    counter = app.test_client()
    for _ in range(5):
        login(counter, code, "111000")
    locks = "SELECT count(*) FROM master.login_lockout WHERE staff_code = :c AND locked_until > now()"
    with engine.connect() as conn:
        assert conn.execute(sa.text(locks), {"c": code}).scalar() == 1

    reset = admin.post(f"/master/staff/{staff_id}/reset-pin", data={"csrf_token": page_csrf(admin, "/profile")})
    assert reset.status_code == 200
    temporary = re.search(r'aria-label="Temporary PIN">(\d{6})<', reset.get_data(as_text=True)).group(1)
    with engine.connect() as conn:
        assert conn.execute(sa.text(locks), {"c": code}).scalar() == 0
    assert staff_row(engine, staff_id).must_change_pin

    assert login(counter, code, temporary).status_code == 303
    for path in ("/", "/profile"):
        response = counter.get(path)
        assert response.status_code == 302 and response.headers["Location"] == "/profile/pin", path
    htmx = counter.get("/profile", headers={"HX-Request": "true"})
    assert htmx.headers.get("HX-Redirect") == "/profile/pin"
    assert counter.post("/profile/sessions/end-others",
                        headers={"X-CSRFToken": page_csrf(counter, "/profile/pin")}).status_code == 303
    page = counter.get("/profile/pin")
    assert page.status_code == 200 and "set by an administrator" in page.get_data(as_text=True)

    token = csrf_from(page.get_data(as_text=True))
    changed = counter.post("/profile/pin", data={"current_pin": temporary, "pin": "7391", "pin_confirm": "7391",
                                                 "csrf_token": token})
    assert changed.status_code == 303
    assert counter.get("/").status_code == 200
    assert not staff_row(engine, staff_id).must_change_pin


def test_a_temporary_pin_cannot_be_used_for_anything_but_choosing_a_new_one(engine, app, logged_in, make_staff):
    """Whoever reset the PIN knows it; until its owner changes it, it opens nothing."""
    admin, _ = logged_in("ADMIN")
    other_admin_id, code, _ = make_staff("AD2", "ADMIN", "482615")
    victim_id, _, _ = make_staff("KR1", "SALES", "482615")
    reset = admin.post(f"/master/staff/{other_admin_id}/reset-pin", data={"csrf_token": page_csrf(admin, "/profile")})
    temporary = re.search(r'aria-label="Temporary PIN">(\d{6})<', reset.get_data(as_text=True)).group(1)
    before = staff_row(engine, victim_id)

    impostor = app.test_client()
    assert login(impostor, code, temporary).status_code == 303
    token = csrf_from(impostor.get("/profile/pin").get_data(as_text=True))
    for path in (f"/master/staff/{victim_id}/reset-pin", f"/master/staff/{victim_id}/active"):
        answer = impostor.post(path, data={"csrf_token": token, "active": "0"})
        assert answer.status_code == 303 and answer.headers["Location"] == "/profile/pin", path
    assert impostor.get(f"/master/staff/{victim_id}").headers.get("Location") == "/profile/pin"
    assert staff_row(engine, victim_id) == before
