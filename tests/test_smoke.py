"""The first things a showroom does: set up, log in, see the dashboard."""
from conftest import login, page_csrf


def test_an_empty_database_sends_everyone_to_the_setup_wizard(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/setup")


def test_staff_member_logs_in_and_sees_the_dashboard(client, make_staff):
    make_staff("RG1", "ADMIN", "4826", name="Ramesh Gowda")
    response = login(client, "rg1", "4826")
    assert response.status_code == 303
    page = client.get("/")
    assert page.status_code == 200
    assert "Ramesh Gowda" in page.get_data(as_text=True)


def test_wrong_pin_is_refused_with_a_count_of_tries_left(client, make_staff):
    make_staff("RG1", "ADMIN", "4826")
    response = login(client, "RG1", "1357")
    assert response.status_code == 401
    assert "4 more wrong tries" in response.get_data(as_text=True)
    assert page_csrf(client, "/login")
