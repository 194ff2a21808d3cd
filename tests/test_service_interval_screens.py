"""The paid-service interval on the workshop settings page (service.service_interval, dated master
data): the workshop reads it; a manager adds an interval from a day, which ends the one before; bad
input comes back next to its field, as typed."""
from __future__ import annotations

from datetime import date

import builders as b
import sqlalchemy as sa
from conftest import csrf_from
from test_warranty_claims_screens import words
from test_warranty_screens import as_staff


def _branch(engine) -> int:
    with engine.begin() as conn:
        return b.branch(conn)


def _form(client, **fields):
    token = csrf_from(client.get("/service/settings").get_data(as_text=True))
    return {"csrf_token": token, "interval-months": "4", "interval-km": "4000", "interval-effective_from": "01-01-2027",
            **fields}


def test_a_manager_sets_a_new_interval_that_ends_the_one_before(app, engine, make_staff):
    manager = as_staff(app, make_staff, _branch(engine), "MANAGER", "MG1")
    page = words(manager.get("/service/settings"))
    assert "Paid-service interval" in page and "Add the interval" in page
    saved = manager.post("/service/settings/interval", data=_form(manager))
    assert saved.status_code == 303
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT months, km, effective_from, effective_to FROM service.service_interval "
                                    "ORDER BY effective_from")).all()
        assert [tuple(r) for r in rows] == [(6, 5000, date(2020, 1, 1), date(2026, 12, 31)),
                                            (4, 4000, date(2027, 1, 1), None)]
        assert conn.execute(sa.text("SELECT (service.service_interval_on('2027-02-01')).months")).scalar() == 4
    page = words(manager.get("/service/settings"))
    assert "4,000" in page and "01-01-2027" in page and "31-12-2026" in page


def test_bad_input_comes_back_next_to_its_field_as_typed(app, engine, make_staff):
    manager = as_staff(app, make_staff, _branch(engine), "MANAGER", "MG2")
    bad = manager.post("/service/settings/interval", data=_form(manager, **{"interval-months": "40",
                                                                            "interval-km": "abc"}))
    body = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "1 to 36 months" in words(bad) and 'value="40"' in body
    no_day = manager.post("/service/settings/interval", data=_form(manager, **{"interval-effective_from": ""}))
    assert no_day.status_code == 422 and "Enter the day it starts" in words(no_day)
    # An interval already starts on or after the day: the database's exclusion, next to the day.
    early = manager.post("/service/settings/interval", data=_form(manager, **{"interval-effective_from": "01-01-2020"}))
    assert early.status_code == 422 and "starts after the latest one" in words(early)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM service.service_interval")).scalar() == 1


def test_the_workshop_reads_the_interval_and_only_managers_change_it(app, engine, make_staff):
    branch_id = _branch(engine)
    advisor = as_staff(app, make_staff, branch_id, "SERVICE_ADVISOR", "SA3")
    page = advisor.get("/service/settings")
    assert page.status_code == 200 and "Paid-service interval" in words(page) and "Add the interval" not in words(page)
    assert advisor.post("/service/settings/interval", data=_form(advisor)).status_code == 403
