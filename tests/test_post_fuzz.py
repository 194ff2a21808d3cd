"""No request ends in a 500: every POST route of the url_map is fed malformed input (a file where text
is expected, huge and non-ASCII numbers, 1e309, NaN, NUL bytes, a key that is not a UUID, duplicated
fields ...) and must answer 2xx, 3xx or 4xx; a refusal (4xx) leaves the database as it was.

The field names of a route come from the forms its pages draw (every GET page of the access matrix
is parsed: a <form>'s action, or the page itself, is the route it posts to); a route no page draws
a form for is posted generic names. Each route gets a sample of the corpus chosen with a fixed seed:
every field once with a bad value while the rest keep what the page filled in (so the bad value
reaches the database if nothing stops it), every field as a file, and a few all-bad forms.
"""
from __future__ import annotations

import html
import io
import logging
import random
import re
import uuid
from html.parser import HTMLParser
from urllib.parse import urlsplit

import builders as b
import pytest
import sqlalchemy as sa
from conftest import TestEngine, page_csrf
from test_access import ANONYMOUS, ANYONE, PROVIDER, admitted, browser, requests_for, showroom  # noqa: F401
from test_typed_input import staff_client
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import MethodNotAllowed, NotFound
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Optional

from webapp.db import get_conn
from webapp.formatting import today_ist
from webapp.forms import FILE_NOT_TEXT, AmountField, FlaskForm, KeyField, Length
from webapp.security import public

SEED = 4620

NUL = "12\x00"
FILE = object()  # a file upload in place of the value
CORPUS = {
    "any": ["", "   ", "x" * 10_000, NUL, "१२३", "١٢٣", "-1", "0", "2147483648", "9" * 400, "1e309",
            "0.000001", "NaN", "<script>alert(1)</script>", "not-a-uuid", FILE],
    "integer": ["-1", "0", "999999", "2147483648", "-2147483649", "9" * 400, "१२३", "١٢٣", "1e3", "1_000",
                "NaN"],
    "amount": ["1e309", "0.000001", "١٢٣", "9" * 400, "NaN", "Infinity", "-0.01", "99999999999999.99"],
    "uuid": ["not-a-uuid", "", "123", "00000000-0000-0000-0000-00000000000g", "x" * 10_000],
    "date": ["31-02-2026", "00-00-0000", "05-12-99999", "१२-१२-२०२६", "2026-13-45"],
}
GENERIC_NAMES = ["name", "q", "key", "idempotency_key", "amount", "quantity", "qty", "reason", "active", "action",
                 "unit_id", "booking_id", "customer_id", "date", "note", "to", "branch", "colour", "remark"]

# Session and login bookkeeping changes on any request (a refused login is recorded on purpose).
BOOKKEEPING = re.compile(r"session|login|throttl|attempt|lockout", re.IGNORECASE)


# ----------------------------------------------------------------------------- forms drawn by the pages

class _Forms(HTMLParser):
    """Every <form> of a page: (action, [(name, kind, default, options)])."""

    def __init__(self, page_path: str):
        super().__init__(convert_charrefs=True)
        self.page_path = page_path
        self.forms: list[tuple[str, list]] = []
        self._form = None
        self._select = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            action = a.get("hx-post") or a.get("action") or self.page_path
            self._form = (urlsplit(action).path or self.page_path, [])
            self.forms.append(self._form)
            return
        if self._form is None or not a.get("name") or a["name"] == "csrf_token":
            if tag == "button" and self._form is not None and a.get("hx-post"):
                self.forms.append((urlsplit(a["hx-post"]).path, []))
            return
        fields = self._form[1]
        name = a["name"]
        if tag == "input":
            kind = _kind(name, a)
            if a.get("type") in ("checkbox", "radio") and "checked" not in a and any(f[0] == name for f in fields):
                return
            fields.append([name, kind, a.get("value", ""), []])
        elif tag == "button":
            fields.append([name, "any", a.get("value", ""), []])
        elif tag == "select":
            self._select = [name, "integer", "", []]
            fields.append(self._select)
        elif tag == "textarea":
            self._textarea = [name, "any", "", []]
            fields.append(self._textarea)
        elif tag == "option" and self._select is not None:
            self._select[3].append(a.get("value", ""))
            if "selected" in a or not self._select[2]:
                self._select[2] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[2] += data


def _kind(name: str, attrs: dict) -> str:
    if name in ("key", "idempotency_key", "advance_key") or name.endswith("_key"):
        return "uuid"
    if attrs.get("inputmode") == "decimal":
        return "amount"
    if attrs.get("inputmode") == "numeric" and "DD-MM" in (attrs.get("placeholder") or ""):
        return "date"
    if attrs.get("inputmode") == "numeric" or attrs.get("type") == "number" or name.endswith("_id"):
        return "integer"
    return "any"


def drawn_forms(app, client, paths) -> dict[str, list[tuple[str, list]]]:
    """POST endpoint -> [(path, fields)] of the forms the pages draw."""
    adapter = app.url_map.bind("localhost")
    found: dict[str, list] = {}
    for path in paths:
        response = client.get(path)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        parser = _Forms(path)
        parser.feed(response.get_data(as_text=True))
        for action, fields in parser.forms:
            try:
                endpoint, _ = adapter.match(action, method="POST")
            except (NotFound, MethodNotAllowed):
                continue
            known = found.setdefault(endpoint, [])
            if (action, [f[0] for f in fields]) not in [(p, [f[0] for f in fs]) for p, fs in known]:
                known.append((action, fields))
    return found


# ----------------------------------------------------------------------------- the database before and after

def snapshot_sql(engine) -> tuple[str, list[str], list[str]]:
    with engine.connect() as conn:
        tables = conn.execute(sa.text(
            """SELECT format('%I.%I', schemaname, relname) FROM pg_stat_user_tables
                WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1""")).scalars().all()
    counted = [t for t in tables if not BOOKKEEPING.search(t) and t != "audit.log"]
    # Every insert shows in a count; every update of an audited table as a row of audit.log.
    parts = [f"(SELECT count(*) FROM {t})" for t in counted]
    parts.append("(SELECT count(*) FROM audit.log WHERE action <> 'EVENT')")
    return "SELECT ARRAY[" + ", ".join(parts) + "]", [*counted, "audit.log (changes)"], [*counted, "audit.log"]


# Rows inserted or deleted so far in this transaction, in the counted tables (PostgreSQL's per-transaction
# statistics of this connection, rolled-back savepoints included: the number only grows).
ROWS_MOVED = sa.text("SELECT coalesce(sum(n_tup_ins + n_tup_del), 0) FROM pg_stat_xact_user_tables "
                     "WHERE relid = ANY(CAST(:tables AS regclass[]))")


class DatabaseState:
    """The counts of snapshot_sql. In a rolled-back test every request runs on the test's one connection
    (tests/conftest.py), so a count can only have changed if a row was inserted or deleted since the last
    reading (the app truncates nothing): when none was, the last counts are the answer, without counting
    every table again."""

    def __init__(self, engine):
        self.engine = engine
        sql, self.names, tables = snapshot_sql(engine)
        self.sql = sa.text(sql)
        self.tables = tables
        self.one_connection = isinstance(engine, TestEngine)
        self.last = None  # (rows moved, counts) of the last reading

    def read(self):
        with self.engine.connect() as conn:
            moved = conn.execute(ROWS_MOVED, {"tables": self.tables}).scalar_one() if self.one_connection else None
            if moved is not None and self.last is not None and self.last[0] == moved:
                return self.last[1]
            counts = conn.execute(self.sql).scalar_one()
        self.last = (moved, counts)
        return counts


# ----------------------------------------------------------------------------- the requests

def _value(v, rng):
    if v is FILE:
        return (io.BytesIO(b"%PDF-1.4 " + bytes(rng.randrange(256) for _ in range(64))), "scan.pdf")
    return v


def variants(fields, rng, budget):
    """Bad forms for one route: each field in turn bad (the rest as the page filled it), every field
    a file, every field duplicated, and all fields bad at once."""
    base = [(f[0], f[2]) for f in fields]
    kinds = {f[0]: f[1] for f in fields}
    out = []
    names = list(dict.fromkeys(name for name, _ in base))
    for name in names:
        kind = kinds[name]
        value = rng.choice(CORPUS["any"] if kind == "any" else CORPUS[kind] * 2 + CORPUS["any"])
        out.append([(n, value if n == name else v) for n, v in base])
    rng.shuffle(out)
    out = out[:budget]
    out.append([(n, FILE) for n in names])
    out.append(base + base)  # every field twice
    out.append([(n, rng.choice(CORPUS["any"])) for n in names])
    out.append([(n, rng.choice(CORPUS[kinds[n]])) for n in names])
    return out


def post_form(client, path, form, token, rng):
    data = MultiDict()
    for name, value in form:
        data.add(name, _value(value, rng))
    data.add("csrf_token", token)
    return client.post(path, data=data, content_type="multipart/form-data")


def roles_for(endpoint):
    allowed = admitted(endpoint, "POST")
    if allowed in (ANYONE, PROVIDER):      # a provider's report: posted by nobody logged in
        return [ANONYMOUS]
    others = sorted(r for r in allowed if r != "ADMIN")
    return ["ADMIN", *others[:1]] if "ADMIN" in allowed else others[:2]


# Last, so that refused logins never stand in the way of the logins the other routes need.
LAST = ("auth.login", "auth.setup", "auth.logout", "auth.switch_user")


def shown(form, base) -> str:
    """The fields of a request that differ from what the page filled in, for the failure message."""
    different = [(n, v) for n, v in form if (n, v) not in base] or form
    return ", ".join(f"{n}={'<file>' if v is FILE else repr(v[:24] + ('…' if len(v) > 24 else ''))}"
                     for n, v in different[:6])


def unchecked_values(records) -> list[str]:
    """SQLSTATE class 22 (data exception) logged by the safety net: a value reached PostgreSQL that
    its field should have refused (a number too large, a text too long, a key that is no UUID)."""
    return [str(r.args[3]) for r in records if r.name == "webapp.errors"
            and str(r.msg).startswith("refused by the database") and str(r.args[3]).startswith("22")]


def test_no_post_route_answers_malformed_input_with_a_server_error(app, engine, showroom, caplog):  # noqa: F811
    caplog.set_level(logging.WARNING)
    rng = random.Random(SEED)
    admin, _ = browser(app, showroom, "ADMIN")
    all_requests = requests_for(app, showroom["ids"])
    pages = drawn_forms(app, admin, [p for _, m, p in all_requests if m == "GET"])
    posts = sorted({(e, p) for e, m, p in all_requests if m == "POST"}, key=lambda ep: (ep[0] in LAST, ep))
    assert len(posts) > 50
    database = DatabaseState(engine)
    names = database.names
    problems, refused_but_changed, sent = [], [], 0
    before = None  # the database as the next request finds it (None: read it first)
    # One logged-in browser per role for the routes' requests, logged in afresh when a request logged it
    # out; the login routes (LAST) each get browsers of their own, as they end or replace the session.
    browsers = {}
    for endpoint, built_path in posts:
        targets = pages.get(endpoint) or [(built_path, [[n, "any", "ok", []] for n in GENERIC_NAMES])]
        for role in roles_for(endpoint):
            if endpoint in LAST or role not in browsers:
                browsers[role] = browser(app, showroom, role)
            client, token = browsers[role]
            budget = 12 if role in ("ADMIN", ANONYMOUS) else 4
            for path, fields in targets[:2]:
                base = [(f[0], f[2]) for f in fields]
                for form in variants(fields, rng, budget):
                    if before is None:
                        before = database.read()
                    caplog.clear()
                    response = post_form(client, path, form, token, rng)
                    known, before = before, None  # unless refused, the next request reads the database again
                    sent += 1
                    status = response.status_code
                    what = f"{role} POST {path} {shown(form, base)}"
                    if status >= 500:
                        problems.append(f"{what} -> {status}")
                    elif unchecked_values(caplog.records):
                        problems.append(f"{what} -> {status}, PostgreSQL refused it: "
                                        f"{unchecked_values(caplog.records)}")
                    elif 400 <= status < 500:
                        after = database.read()
                        if after != known:
                            changed = [n for n, x, y in zip(names, known, after) if x != y]
                            refused_but_changed.append(f"{what} -> {status} changed {changed}")
                        before = after  # what the next request finds
                    if response.headers.get("Location", "").startswith("/login") and endpoint not in LAST:
                        browsers[role] = browser(app, showroom, role)  # a route that logged the client out
                        client, token = browsers[role]
    assert sent > 500
    assert not problems, f"{len(problems)} of {sent} requests ended in a server error:\n" + "\n".join(problems)
    assert not refused_but_changed, "refused, yet the database changed:\n" + "\n".join(refused_but_changed)


# ----------------------------------------------------------------------------- the causes the fuzzing found

def field_errors(page: str, name: str) -> list[str]:
    block = re.search(rf'<div id="{name}-help">(.*?)</div>', page, re.DOTALL)
    assert block, f"no field {name} on the page"
    return [html.unescape(e) for e in re.findall(r'<p class="error">(.*?)</p>', block.group(1), re.DOTALL)]


@pytest.fixture
def sale(app, engine):
    """A booked scooter with a unit in stock, and its salesperson logged in."""
    with engine.begin() as conn:
        s = b.sale_setup(conn)
        b.staff(conn, s.branch_id, "ADMIN")   # the showroom counts as set up
        booking_id = b.booking(conn, s)
        b.act_as(conn, None)
    return {"booking_id": booking_id, "url": f"/sales/bookings/{booking_id}", "setup": s,
            "sales": staff_client(app, engine, s.sales_id)}


def rows(engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


@pytest.mark.parametrize("unit_id", ["-1", "999999", "2147483648", "१२३", "9" * 400])
def test_allotting_a_unit_that_is_not_in_the_list_is_refused_next_to_the_unit(engine, sale, unit_id):
    """A unit id not in the list (never shown, gone, too large, or in Devanagari digits) was a 500: the
    trigger's SELECT INTO STRICT found no row, and 2147483648 is no PostgreSQL integer."""
    client = sale["sales"]
    response = client.post(f"{sale['url']}/allot", data={"unit_id": unit_id,
                                                          "csrf_token": page_csrf(client, "/profile")})
    assert response.status_code == 422, response.status_code
    assert field_errors(response.get_data(as_text=True), "unit_id") != []
    assert rows(engine, "sales.allotment") == 0
    # the unit of the list is still allotted as before
    response = client.post(f"{sale['url']}/allot", data={"unit_id": str(sale["setup"].unit_id),
                                                          "csrf_token": page_csrf(client, "/profile")})
    assert response.status_code == 303 and rows(engine, "sales.allotment") == 1


def test_a_delivery_whose_key_is_not_a_uuid_is_refused_and_nothing_is_delivered(app, engine, sale):
    with engine.begin() as conn:
        b.act_as(conn, sale["setup"].sales_id)
        booking_id, _ = b.invoiced_booking(conn, sale["setup"])
        b.ready_for_handover(conn, booking_id)
        b.release_handover(conn, booking_id, sale["setup"].manager_id)
        b.act_as(conn, None)
    client = staff_client(app, engine, sale["setup"].manager_id)
    form = {"delivered_on": f"{today_ist():%d-%m-%Y}", "received_by_name": "Asha Rao", "key": "not-a-uuid",
            "csrf_token": page_csrf(client, "/profile")}
    response = client.post(f"/sales/bookings/{booking_id}/deliver", data=form)
    assert response.status_code == 422
    assert "damaged" in response.get_data(as_text=True)
    assert rows(engine, "sales.delivery") == 0
    form["key"] = str(uuid.uuid4())
    assert client.post(f"/sales/bookings/{booking_id}/deliver", data=form).status_code == 303
    assert rows(engine, "sales.delivery") == 1


class _Typed(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Enter the name")])
    count = IntegerField("Count", validators=[Optional()])
    unit_id = SelectField("Unit", coerce=int, choices=[], validate_choice=False,
                          validators=[InputRequired("Choose a unit")])
    amount = AmountField("Amount", validators=[Optional()])
    key = KeyField()


def typed_form(app, data):
    with app.test_request_context("/", method="POST", data={**data}, content_type="multipart/form-data"):
        form = _Typed(meta={"csrf": False})
        form.validate()
        return {f.name: list(f.errors) for f in form if f.errors}, {f.name: f.data for f in form}


def test_a_file_sent_for_a_text_box_is_refused_next_to_it_and_never_read(app):
    errors, data = typed_form(app, {"name": (io.BytesIO(b"x" * 5000), "photo.jpg"), "count": "3", "unit_id": "7"})
    assert errors == {"name": [FILE_NOT_TEXT]}
    assert data["name"] is None and data["count"] == 3 and data["unit_id"] == 7


NOT_FIGURES = "Enter a whole number in figures (0 to 9), e.g. 12"


@pytest.mark.parametrize("typed, message", [
    ("9" * 400, "Too large for this box"), ("2147483648", "Too large for this box"),
    ("-2147483649", "Too large for this box"), ("१२३", NOT_FIGURES), ("١٢٣", NOT_FIGURES), ("1_000", NOT_FIGURES),
])
def test_a_whole_number_postgresql_cannot_keep_as_integer_is_refused_with_a_message(app, typed, message):
    errors, data = typed_form(app, {"name": "Asha", "count": typed, "unit_id": typed})
    assert errors["count"] == [message]
    assert errors["unit_id"] == ["Choose one of the options listed (reload the page if it is not there)"]
    assert data["count"] is None and data["unit_id"] is None


@pytest.mark.parametrize("typed", ["-1", "0", "2147483647", "-2147483648", " 42 "])
def test_a_whole_number_within_integer_range_is_read(app, typed):
    errors, data = typed_form(app, {"name": "Asha", "count": typed, "unit_id": typed})
    assert errors == {} and data["count"] == int(typed) == data["unit_id"]


@pytest.mark.parametrize("typed", ["1e309", "0.000001", "١٢٣", "9" * 400, "NaN", "Infinity"])
def test_an_amount_that_is_not_rupees_and_paise_is_refused_at_its_field(app, typed):
    errors, data = typed_form(app, {"name": "Asha", "unit_id": "1", "amount": typed})
    assert list(errors) == ["amount"] and data["amount"] is None


@pytest.mark.parametrize("key, refused", [("not-a-uuid", True), ("123", True), ("", False),
                                          (str(uuid.UUID(int=7)), False)])
def test_a_document_key_is_a_uuid_or_left_for_the_view_to_make(app, key, refused):
    errors, _ = typed_form(app, {"name": "Asha", "unit_id": "1", "key": key})
    assert ("key" in errors) is refused


def test_a_value_postgresql_refuses_that_no_form_mapped_is_a_422_logged_without_the_value(make_app, make_staff,
                                                                                          caplog):
    fresh = make_app()

    @fresh.post("/refused-value")
    @public
    def refused_value():
        get_conn().execute(sa.text("SELECT CAST(:typed AS integer)"), {"typed": "MOBILE9880012345"})
        return "saved"

    make_staff("AD1", "ADMIN", "2580")
    client = fresh.test_client()
    caplog.set_level(logging.WARNING)
    response = client.post("/refused-value", data={"csrf_token": page_csrf(client, "/login")})
    assert response.status_code == 422
    assert "This could not be saved: a value is not in the form it should be." in response.get_data(as_text=True)
    logged = [r.getMessage() for r in caplog.records if r.name == "webapp.errors"]
    assert any("22P02" in line for line in logged)
    assert not any("9880012345" in line for line in logged)


class _Named(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Enter the name"), Length(max=120)])


def test_a_text_far_longer_than_its_field_is_refused_and_not_echoed_whole(app):
    with app.test_request_context("/", method="POST", data={"name": "Asha Rao " * 1200}):
        form = _Named(meta={"csrf": False})
        assert not form.validate()
        assert form.name.errors == ["At most 120 characters: this was 10,800 (only the first 120 are shown)"]
        assert len(form.name._value()) == 120 and form.name._value().startswith("Asha Rao Asha Rao")
    with app.test_request_context("/", method="POST", data={"name": "Asha Rao " * 20}):
        form = _Named(meta={"csrf": False})   # a little too long: Length says so, what was typed stays whole
        assert not form.validate() and len(form.name._value()) == 180
