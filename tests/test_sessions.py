"""Sessions: the cookie is only a random token, the row in master.staff_session is the
session, and deleting the row ends it at once - on logout, deactivation, PIN reset,
PIN change, idle time-out and the end of a shift."""
from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa
from conftest import csrf_from, login, page_csrf

COOKIE = "erp_session"
ANON_COOKIE = "erp_anon"  # an anonymous visitor's signed cookie: no row until someone logs in


def cookie(client) -> str | None:
    found = client.get_cookie(COOKIE)
    return found.value if found else None


def with_cookie(app, value: str):
    """Another browser that was handed (or stole) this cookie value."""
    other = app.test_client()
    other.set_cookie(COOKIE, value)
    return other


def sent_to_login(response) -> bool:
    return response.status_code == 303 and response.headers["Location"].startswith("/login")


def set_cookie_header(response, name: str = COOKIE) -> str:
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(name + "=")]
    assert len(headers) == 1, response.headers.getlist("Set-Cookie")
    return headers[0]


def attributes(header: str) -> set[str]:
    return {part.strip().lower() for part in header.split(";")[1:]}


def session_row(engine, token: str):
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT * FROM master.staff_session WHERE token_hash = :h"),
                            {"h": hashlib.sha256(token.encode()).digest()}).first()


def age_session(engine, token: str, *, idle: str | None = None, age: str | None = None) -> None:
    """Pretend time passed: the session was last used `idle` ago and/or started `age` ago."""
    with engine.begin() as conn:
        conn.execute(sa.text(
            """UPDATE master.staff_session
                  SET last_seen_at = now() - CAST(coalesce(:idle, '0') AS interval),
                      created_at = now() - CAST(coalesce(:age, '0') AS interval)
                WHERE token_hash = :h"""),
            {"idle": idle, "age": age, "h": hashlib.sha256(token.encode()).digest()})


def second_device(app, make_staff, code="KR1", role="SALES", pin="482615"):
    staff_id, code, pin = make_staff(code, role, pin)
    device = app.test_client()
    assert login(device, code, pin).status_code == 303
    return device, staff_id


def csrf(client) -> str:
    return page_csrf(client, "/profile")


# ----------------------------------------------------------------------------- revocation


def test_a_replayed_cookie_after_logout_is_refused(app, engine, logged_in):
    client, _ = logged_in("SALES")
    stolen = cookie(client)
    assert with_cookie(app, stolen).get("/").status_code == 200  # before logout the cookie is the session
    assert sent_to_login(client.post("/logout", data={"csrf_token": csrf(client)}))
    assert session_row(engine, stolen) is None
    replayed = with_cookie(app, stolen).get("/")
    assert sent_to_login(replayed)
    assert "expires=thu, 01 jan 1970" in set_cookie_header(replayed).lower()  # and the browser is told to drop it


def test_a_replayed_cookie_after_switch_user_is_refused(app, logged_in):
    client, _ = logged_in("SALES")
    stolen = cookie(client)
    assert sent_to_login(client.post("/switch-user", data={"csrf_token": csrf(client)}))
    assert sent_to_login(with_cookie(app, stolen).get("/"))
    assert sent_to_login(client.get("/"))


def test_deactivating_a_staff_member_ends_their_sessions_at_once(app, logged_in, make_staff):
    admin, _ = logged_in("ADMIN")
    device, staff_id = second_device(app, make_staff)
    assert device.get("/").status_code == 200
    done = admin.post(f"/master/staff/{staff_id}/active", data={"active": "0", "csrf_token": csrf(admin)})
    assert done.status_code == 303
    assert sent_to_login(device.get("/"))
    assert admin.get("/").status_code == 200


def test_deactivation_made_directly_in_sql_also_ends_the_sessions(app, engine, make_staff):
    device, staff_id = second_device(app, make_staff)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE master.staff SET is_active = false WHERE staff_id = :id"), {"id": staff_id})
    assert sent_to_login(device.get("/"))


def test_an_admin_pin_reset_ends_the_members_sessions(app, logged_in, make_staff):
    admin, _ = logged_in("ADMIN")
    device, staff_id = second_device(app, make_staff)
    stolen = cookie(device)
    assert admin.post(f"/master/staff/{staff_id}/reset-pin", data={"csrf_token": csrf(admin)}).status_code == 200
    assert sent_to_login(device.get("/"))
    assert sent_to_login(with_cookie(app, stolen).get("/profile"))


def test_changing_ones_own_pin_ends_the_other_sessions_but_not_this_one(app, make_staff):
    desk, staff_id = second_device(app, make_staff)
    phone = app.test_client()
    assert login(phone, "KR1", "482615").status_code == 303
    colleague, _ = second_device(app, make_staff, code="AM2")
    token = page_csrf(desk, "/profile/pin")
    changed = desk.post("/profile/pin", data={"current_pin": "482615", "pin": "7391", "pin_confirm": "7391",
                                              "csrf_token": token})
    assert changed.status_code == 303
    assert desk.get("/").status_code == 200
    assert sent_to_login(phone.get("/"))
    assert colleague.get("/").status_code == 200  # someone else's session is not touched


def test_log_out_my_other_devices_keeps_only_this_one(app, make_staff):
    desk, _ = second_device(app, make_staff)
    phone = app.test_client()
    login(phone, "KR1", "482615")
    assert desk.post("/profile/sessions/end-others", data={"csrf_token": csrf(desk)}).status_code == 303
    assert desk.get("/").status_code == 200
    assert sent_to_login(phone.get("/"))


def test_a_role_taken_away_applies_at_the_next_click(app, engine, logged_in, make_staff):
    logged_in("ADMIN")  # another administrator remains
    device, staff_id = second_device(app, make_staff, role="ADMIN")
    assert device.get("/master/staff").status_code == 200
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE master.staff SET designation = 'SALES' WHERE staff_id = :id"), {"id": staff_id})
    assert device.get("/master/staff").status_code == 403


# ----------------------------------------------------------------------------- expiry


def test_a_session_left_idle_for_longer_than_30_minutes_has_ended(app, engine, logged_in):
    client, _ = logged_in("SALES")
    age_session(engine, cookie(client), idle="31 minutes")
    assert sent_to_login(client.get("/"))


def test_a_session_used_within_30_minutes_continues_and_its_idle_clock_restarts(app, engine, logged_in):
    client, _ = logged_in("SALES")
    token = cookie(client)
    age_session(engine, token, idle="29 minutes")
    assert client.get("/").status_code == 200
    with engine.connect() as conn:
        idle = conn.execute(sa.text("SELECT now() - last_seen_at < interval '1 minute' FROM master.staff_session "
                                    "WHERE token_hash = :h"), {"h": hashlib.sha256(token.encode()).digest()}).scalar()
    assert idle


def test_a_session_ends_after_12_hours_however_busy_it_was(app, engine, logged_in):
    client, _ = logged_in("SALES")
    token = cookie(client)
    age_session(engine, token, age="11 hours 58 minutes")
    assert client.get("/").status_code == 200
    age_session(engine, token, age="12 hours 1 minute")
    assert sent_to_login(client.get("/"))


def test_idle_and_lifetime_limits_come_from_the_settings(make_app, engine, make_staff):
    strict = make_app(SESSION_IDLE_MINUTES=5, SESSION_MAX_HOURS=1)
    relaxed = make_app()
    staff_id, code, pin = make_staff("KR1", "SALES", "482615")
    device = strict.test_client()
    assert login(device, code, pin).status_code == 303
    token = cookie(device)
    age_session(engine, token, idle="6 minutes")
    assert sent_to_login(with_cookie(strict, token).get("/"))
    assert with_cookie(relaxed, token).get("/").status_code == 200  # 6 minutes is fine under the default 30
    age_session(engine, token, age="61 minutes")
    assert sent_to_login(with_cookie(strict, token).get("/"))
    assert with_cookie(relaxed, token).get("/").status_code == 200


def test_an_expired_page_request_goes_to_login_and_comes_back_afterwards(app, engine, logged_in):
    client, _ = logged_in("ADMIN")
    age_session(engine, cookie(client), idle="2 hours")
    response = client.get("/master/staff?q=ravi")
    assert sent_to_login(response)
    assert response.headers["Location"] == "/login?next=/master/staff?q%3Dravi"
    assert "expires=thu, 01 jan 1970" in set_cookie_header(response).lower()


# ----------------------------------------------------------------------------- htmx


def test_an_htmx_request_without_a_session_gets_401_and_hx_redirect_to_login(client, make_staff):
    make_staff("KR1", "SALES")
    response = client.get("/master/staff", headers={"HX-Request": "true",
                                                   "HX-Current-URL": "http://localhost/master/staff?q=ravi"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login?next=/master/staff?q%3Dravi"
    bare = client.post("/logout", headers={"HX-Request": "true"})
    assert bare.status_code == 401 and bare.headers["HX-Redirect"] == "/login"


def test_an_htmx_request_on_an_expired_session_gets_401_and_hx_redirect_to_login(engine, logged_in):
    client, _ = logged_in("ADMIN")
    age_session(engine, cookie(client), idle="31 minutes")
    response = client.get("/master/staff?q=a", headers={"HX-Request": "true", "HX-Target": "staff-results",
                                                         "HX-Current-URL": "http://localhost/master/staff"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login?next=/master/staff"
    assert response.get_data() == b""  # nothing for htmx to swap into the page


# ----------------------------------------------------------------------------- the cookie itself


def test_login_issues_a_new_session_id_so_a_planted_cookie_stays_anonymous(app, engine, make_staff):
    make_staff("KR1", "SALES", "482615")
    attacker = app.test_client()
    page_csrf(attacker, "/login")  # the login form's CSRF secret: in the signed anonymous cookie, no row
    planted = attacker.get_cookie(ANON_COOKIE).value
    assert cookie(attacker) is None

    victim = app.test_client()  # e.g. set through a shared kiosk browser
    victim.set_cookie(ANON_COOKIE, planted)
    assert login(victim, "KR1", "482615").status_code == 303
    assert victim.get_cookie(ANON_COOKIE) is None  # the anonymous data is dropped at login
    assert session_row(engine, cookie(victim)).staff_id is not None
    assert sent_to_login(attacker.get("/"))


def test_each_login_gets_its_own_session_id(app, make_staff):
    make_staff("KR1", "SALES", "482615")
    seen = set()
    for _ in range(3):
        device = app.test_client()
        login(device, "KR1", "482615")
        seen.add(cookie(device))
    assert len(seen) == 3


def test_the_session_cookie_is_httponly_and_samesite_lax_and_not_secure_on_plain_http(client, make_staff):
    make_staff("KR1", "SALES", "482615")
    response = login(client, "KR1", "482615")
    header = set_cookie_header(response)
    assert {"httponly", "samesite=lax", "path=/"} <= attributes(header)
    assert "secure" not in attributes(header)
    assert {"httponly", "samesite=lax"} <= attributes(set_cookie_header(response, "erp_recent_staff"))


def test_the_session_cookie_is_secure_when_the_showroom_uses_https(app, make_staff):
    make_staff("KR1", "SALES", "482615")
    https = {"base_url": "https://localhost"}
    browser = app.test_client()
    page = browser.get("/login", **https)
    assert "secure" in attributes(set_cookie_header(page, ANON_COOKIE))
    response = browser.post("/login", data={"staff_code": "KR1", "pin": "482615",
                                            "csrf_token": csrf_from(page.get_data(as_text=True))},
                            headers={"Referer": "https://localhost/login"}, **https)
    assert response.status_code == 303
    assert {"secure", "httponly", "samesite=lax"} <= attributes(set_cookie_header(response))
    assert "secure" in attributes(set_cookie_header(response, "erp_recent_staff"))


def test_secure_cookies_can_be_forced_behind_a_proxy_that_speaks_plain_http(make_app, make_staff):
    make_staff("KR1", "SALES", "482615")
    client = make_app(FORCE_SECURE_COOKIES=True).test_client()
    page = client.get("/login")
    assert "secure" in attributes(set_cookie_header(page, ANON_COOKIE))


def test_the_database_keeps_only_the_sha256_of_the_session_token(app, engine, logged_in):
    client, staff_id = logged_in("SALES")
    token = cookie(client)
    assert len(token) >= 40  # 32 random bytes, URL-safe
    row = session_row(engine, token)
    assert row is not None and row.staff_id == staff_id
    assert bytes(row.token_hash) == hashlib.sha256(token.encode()).digest()
    with engine.connect() as conn:
        everything = conn.execute(sa.text(
            """SELECT coalesce((SELECT string_agg(s::text || encode(s.token_hash, 'escape'), ' ')
                                  FROM master.staff_session s), '')
                   || coalesce((SELECT string_agg(l::text, ' ') FROM audit.log l), '')""")).scalar()
    assert token not in everything


def test_a_made_up_or_oversized_cookie_is_treated_as_no_session(app, make_staff):
    make_staff("KR1", "SALES", "482615")
    for forged in (secrets.token_urlsafe(32), "x" * 3000):
        response = with_cookie(app, forged).get("/")
        assert sent_to_login(response)
