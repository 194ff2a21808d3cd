"""The list of reasons a lead is lost: a manager adds one (refused as typed when its code or label is
already there), puts one out of use (no longer offered, still counted), never deletes one in use; a
salesperson does not open it; the lost-reason report leads to it."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from conftest import page_csrf
from test_crm_screens import client_of, new_lead, plain, scalar, shop  # noqa: F401  (shop is a fixture)


def add(client, **fields):
    token = page_csrf(client, "/crm/lost-reasons/list")
    return client.post("/crm/lost-reasons/list", data={"csrf_token": token, "label": "Delivery date too far",
                                                        "reason_code": "delivery date", "sort_order": "65", **fields})


def test_a_manager_adds_a_reason_and_it_is_offered_when_a_lead_is_lost(app, engine, shop):
    manager = client_of(app, "CM1")
    assert "The list of reasons" in plain(manager.get("/crm/lost-reasons"))
    response = add(manager)
    assert response.status_code == 303, plain(response)[-1500:]
    assert scalar(engine, "SELECT label FROM crm.lost_reason WHERE reason_code = 'DELIVERY_DATE'") == \
        "Delivery date too far"
    assert "Delivery date too far" in plain(manager.get("/crm/lost-reasons/list"))
    lead_id = new_lead(client_of(app, "CS1"))
    assert 'value="DELIVERY_DATE"' in client_of(app, "CS1").get(f"/crm/leads/{lead_id}").get_data(as_text=True)


@pytest.mark.parametrize(("fields", "typed", "message"), [
    ({"reason_code": "PRICE", "label": "Too dear"}, 'value="Too dear"', "This code is already in the list"),
    ({"label": "  price TOO high "}, 'value="price TOO high"', "This reason is already in the list"),
    ({"reason_code": "9LIVES"}, 'value="9LIVES"', "capital letters or _"),
    ({"sort_order": "5000"}, 'value="5000"', "0 to 999"),
])
def test_a_reason_already_there_or_badly_typed_comes_back_as_typed(app, engine, shop, fields, typed, message):
    response = add(client_of(app, "CM1"), **fields)
    assert response.status_code == 422
    assert typed in response.get_data(as_text=True) and message in plain(response)
    assert scalar(engine, "SELECT count(*) FROM crm.lost_reason") == 9


def test_a_reason_put_out_of_use_is_no_longer_offered_but_leads_keep_it_and_it_is_never_deleted(app, engine, shop):
    seller = client_of(app, "CS1")
    lead_id = new_lead(seller)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE crm.lead SET status = 'LOST', lost_reason_code = 'WAITING', lost_remark = 'gone' "
                             "WHERE lead_id = :l"), {"l": lead_id})
    manager = client_of(app, "CM1")
    token = page_csrf(manager, "/crm/lost-reasons/list")
    response = manager.post("/crm/lost-reasons/list/active", data={"csrf_token": token, "reason_code": "WAITING",
                                                                    "active": "0"})
    assert response.status_code == 303
    assert "no longer offered" in plain(manager.get("/crm/lost-reasons/list"))
    assert scalar(engine, "SELECT active FROM crm.lost_reason WHERE reason_code = 'WAITING'") is False
    other = new_lead(seller, name="Bina Das", mobile="9845044444")
    assert 'value="WAITING"' not in seller.get(f"/crm/leads/{other}").get_data(as_text=True)
    assert "Waiting period too long" in plain(seller.get(f"/crm/leads/{lead_id}"))
    assert scalar(engine, "SELECT lost_reason_code FROM crm.lead WHERE lead_id = :l", l=lead_id) == "WAITING"
    with pytest.raises(sa.exc.IntegrityError) as refused, engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM crm.lost_reason WHERE reason_code = 'WAITING'"))
    assert refused.value.orig.diag.constraint_name == "lead_lost_reason_code_fkey"
    manager.post("/crm/lost-reasons/list/active", data={"csrf_token": token, "reason_code": "WAITING", "active": "1"})
    assert scalar(engine, "SELECT active FROM crm.lost_reason WHERE reason_code = 'WAITING'") is True


def test_a_salesperson_does_not_open_the_list(app, shop):
    assert client_of(app, "CS1").get("/crm/lost-reasons/list").status_code == 403
    assert "The list of reasons" not in plain(client_of(app, "CA1").get("/crm/leads"))
