"""The dated GST return parameters (webapp/finance/returns_params.py, finance.add_return_parameter and the
trigger return_parameter_kept in sql/functions/97_finance_returns.sql): a change is a new dated row;
a row a closed month's returns were made with is never changed."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import builders as b
import pytest
import sqlalchemy as sa
from conftest import login, page_csrf

from webapp.formatting import today_ist

M = Decimal


def _add(conn, kind, key, value, on, note=None):
    return conn.execute(sa.text("SELECT finance.add_return_parameter(:k, :key, :v, :on, :n)"),
                        {"k": kind, "key": key, "v": value, "on": on, "n": note}).scalar_one()


def _last_month() -> date:
    return (today_ist().replace(day=1) - timedelta(days=1)).replace(day=1)


def test_a_new_b2cl_limit_from_a_day_ends_the_one_in_force_the_day_before(conn):
    on = today_ist() + timedelta(days=40)
    _add(conn, "B2CL", None, "150000", on, "a future notification")
    limit = lambda d: conn.execute(sa.text("SELECT billing.threshold_on('B2CL', :d)"), {"d": d}).scalar()  # noqa: E731
    assert (limit(on - timedelta(days=1)), limit(on)) == (M("100000.00"), M("150000.00"))
    assert limit(date(2024, 7, 31)) == M("250000.00")          # the history untouched
    # the digits and the UQC: their own key's row ends, the others' do not
    _add(conn, "HSN_DIGITS", "50000000", "8", on)
    digits = lambda t: conn.execute(sa.text("SELECT finance.hsn_digits_for(:t, :d)"), {"t": t, "d": on}).scalar()  # noqa: E731
    assert (digits(M("60000000")), digits(M("1000"))) == (8, 4)
    _add(conn, "UQC", "KIT", "KIT", on)
    uqc = lambda u, d: conn.execute(sa.text("SELECT finance.uqc_for(:u, '871410', :d)"), {"u": u, "d": d}).scalar()  # noqa: E731
    assert (uqc("KIT", on), uqc("KIT", on - timedelta(days=1)), uqc("NOS", on)) == ("KIT", "SET", "NOS")
    _add(conn, "GSTR1_VERSION", None, "GST3.3.0", on)
    assert conn.execute(sa.text("SELECT finance.gst_return_setting_on('GSTR1_VERSION', :d)"), {"d": on}).scalar() == "GST3.3.0"
    # a second value from the same day overlaps: the table's own constraint
    with b.refused(conn, "threshold_no_overlap"):
        _add(conn, "B2CL", None, "175000", on)


def test_a_closed_month_keeps_the_values_its_returns_were_made_with(conn):
    branch = b.branch(conn)
    conn.execute(sa.text("SELECT finance.close_month(:b, :m)"), {"b": branch, "m": _last_month()})
    closed_end = today_ist().replace(day=1) - timedelta(days=1)
    with b.refused(conn, "return_parameter_after_closed_month"):
        _add(conn, "B2CL", None, "150000", closed_end)
    for sql in ("UPDATE billing.threshold SET amount = 90000 WHERE code = 'B2CL' AND effective_to IS NULL",
                "UPDATE billing.threshold SET effective_to = :end - 5 WHERE code = 'B2CL' AND effective_to IS NULL",
                "DELETE FROM finance.gst_uqc WHERE unit = 'NOS'",
                "UPDATE finance.gst_return_setting SET value = 'GST9' WHERE code = 'GSTR1_VERSION' AND effective_to IS NULL",
                "UPDATE finance.hsn_digits_rule SET digits = 8 WHERE turnover_above = 0"):
        with b.refused(conn, "return_parameter_used"):
            conn.execute(sa.text(sql), {"end": closed_end})
    # from the day after the closed month: the row in force ends then, the new one begins
    _add(conn, "B2CL", None, "150000", closed_end + timedelta(days=1))
    assert conn.execute(sa.text("SELECT billing.threshold_on('B2CL', :d)"), {"d": closed_end}).scalar() == M("100000.00")
    # a row of the future, used by no return, may still be corrected
    later = today_ist() + timedelta(days=60)
    _add(conn, "HSN_SHAPE", None, "SINGLE", later)
    conn.execute(sa.text("UPDATE finance.gst_return_setting SET value = 'SPLIT' WHERE code = 'HSN_SHAPE' "
                         "AND effective_from = :d"), {"d": later})


@pytest.fixture
def accountant(client, make_staff):
    make_staff("ACC9", "ACCOUNTS")
    assert login(client, "ACC9", "2580").status_code == 303
    return client


def _post(client, **data):
    token = page_csrf(client, "/finance/returns/parameters")
    return client.post("/finance/returns/parameters", data={"csrf_token": token, **data})


def test_the_screen_shows_each_parameter_s_history_and_adds_a_dated_value(accountant):
    page = accountant.get("/finance/returns/parameters")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for shown in ("GST3.2.2", "GST3.0.4", "₹1,00,000.00", "₹2,50,000.00", "31-07-2024", "₹5,00,00,000.00",
                  "Services (SAC)", "In force"):
        assert shown in text, shown
    on = (today_ist() + timedelta(days=30)).strftime("%d-%m-%Y")
    r = _post(accountant, kind="UQC", unit="box", value="box", effective_from=on)
    assert r.status_code == 303
    text = accountant.get("/finance/returns/parameters").get_data(as_text=True)
    assert "BOX" in text and on in text


def test_a_refused_value_comes_back_as_typed_with_the_reason_next_to_it(accountant, engine):
    r = _post(accountant, kind="UQC", unit="NOS", value="N0S1", effective_from="01-01-2030")
    assert r.status_code == 422
    text = r.get_data(as_text=True)
    assert "A UQC is 2 or 3 capital letters" in text and 'value="N0S1"' in text
    r = _post(accountant, kind="B2CL", amount="", effective_from="01-01-2030")
    assert r.status_code == 422 and "Give the amount" in r.get_data(as_text=True)
    r = _post(accountant, kind="HSN_SHAPE", shape="SPLIT", effective_from="01-05-2025")   # the split's own first day
    assert r.status_code == 422 and "already starts on or after this date" in r.get_data(as_text=True)
    r = _post(accountant, kind="NOPE", effective_from="01-01-2030")
    assert r.status_code == 422 and "Choose which parameter to change" in r.get_data(as_text=True)


def test_a_manager_reads_the_parameters_but_cannot_add_one(client, make_staff):
    make_staff("MGR9", "MANAGER")
    assert login(client, "MGR9", "2580").status_code == 303
    page = client.get("/finance/returns/parameters")
    assert page.status_code == 200 and "New value from a date" not in page.get_data(as_text=True)
    r = _post(client, kind="B2CL", amount="1", effective_from="01-01-2030")
    assert r.status_code == 403
