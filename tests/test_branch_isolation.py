"""Branch isolation is a database rule (sql/0014): the app logs in as a role under row-level
security, and a request sees and changes only its own branch's documents (an ADMIN every branch).

Every route that takes an id (every rule with an int converter, so a new module is covered
without anyone remembering) is opened with the id of a record of branch A by a MANAGER and a
SALES person of branch B: GET and POST answer 404, and nothing of A changes. Routes whose records
are the whole showroom's are listed below with the reason."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from catalog_ids import catalog_ids
from claim_ids import claim_ids
from conftest import TestEngine, login, page_csrf
from inventory_ids import inventory_ids
from procurement_ids import procurement_ids
from sales_ids import sales_ids
from service_ids import service_ids
from warranty_ids import warranty_ids
from werkzeug.routing import IntegerConverter

from webapp.security import allowed_roles

PIN = "739164"  # six digits: long enough for every role

# Routes whose id names a record shared by every branch, with the reason.
CATALOG = "catalog and reference data (OEMs, models, variants, prices, schemes, HSN rates, parts, " \
          "financiers, insurers) is the whole showroom's"
STOCK_LOOKUP = "stock is looked up across branches by design (find a scooter or part at another branch to " \
               "ask for a transfer); a change is refused to another branch, which the test still checks"
WORKSHOP_VEHICLE = "a vehicle may come to any branch's workshop (service.vehicle, like master.customer); " \
                   "its job cards stay their branch's documents"
WARRANTY = "extended warranty plans, the replacement pack rule and the OEM's recall campaigns are the whole " \
           "showroom's (a campaign done at " \
           "one branch is done for every branch: it is recorded by, and changed only by, the branch that did it)"
GLOBAL_ROUTES = {
    "warranty.plan_edit": WARRANTY,
    "warranty.rule_edit": WARRANTY,
    "warranty.campaign_detail": WARRANTY,
    "warranty.campaign_done": WARRANTY,
    "warranty.campaign_close": WARRANTY,
    "warranty.recall_claim_new": WARRANTY + "; its recall claim is refused to a branch that did not do the work "
                                            "(warranty.check_claim: claim_recall_campaign_done)",
    "master.hsn_rate_edit": CATALOG,
    "master.financier_edit": CATALOG,
    "master.insurer_edit": CATALOG,
    "master.part_detail": CATALOG,
    "master.part_edit": CATALOG,
    "oem.oem_detail": CATALOG,
    "oem.oem_edit": CATALOG,
    "oem.model_new": CATALOG,
    "oem.model_detail": CATALOG,
    "oem.model_edit": CATALOG,
    "oem.variant_new": CATALOG,
    "oem.variant_detail": CATALOG,
    "oem.variant_edit": CATALOG,
    "oem.colour_add": CATALOG,
    "oem.colour_set_active": CATALOG,
    "oem.price_new": CATALOG,
    "oem.price_edit": CATALOG,
    "oem.scheme_edit": CATALOG,
    "master.customer_detail": "customers are the showroom's, served at any of its branches "
                              "(branch_id records where they were added)",
    "master.customer_edit": "customers are the showroom's, served at any of its branches",
    "master.branch_edit": "branches and staff are administered by an ADMIN only (a MANAGER or SALES gets 403)",
    "master.staff_detail": "branches and staff are administered by an ADMIN only",
    "master.staff_edit": "branches and staff are administered by an ADMIN only",
    "master.staff_set_active": "branches and staff are administered by an ADMIN only",
    "master.staff_reset_pin": "branches and staff are administered by an ADMIN only",
    "inventory.unit_detail": STOCK_LOOKUP,
    "inventory.unit_status": STOCK_LOOKUP,
    "inventory.unit_battery_swap": STOCK_LOOKUP,
    "inventory.part_stock_card": STOCK_LOOKUP,
    "inventory.part_stock_adjust": STOCK_LOOKUP,
    "inventory.part_stock_bin": STOCK_LOOKUP,
    "service.vehicle_detail": WORKSHOP_VEHICLE,
    "service.job_card_new": WORKSHOP_VEHICLE,
    "communication.rule_edit": "reminder rules and templates are the whole showroom's, edited by an ADMIN only "
                               "(a MANAGER or SALES gets 403)",
    "communication.template_edit": "reminder rules and templates are the whole showroom's, edited by an ADMIN only",
    "communication.consent": "customers are the showroom's, served at any of its branches: so is their consent",
    "communication.sms_report": "a provider's delivery report names its message by the provider's id, for the whole "
                                "showroom: no staff and no branch, every branch's message lands (webapp/communication/"
                                "hooks.py; the shared secret is what admits it)",
    "communication.whatsapp_status": "the WhatsApp Cloud API reports for every branch's messages, signed with the app "
                                     "secret (webapp/communication/hooks.py)",
    "service.unit_arrive": WORKSHOP_VEHICLE + "; a scooter sold at another branch is checked in with its owner "
                                              "typed, since that branch's sale is not visible",
}


def id_routes(app):
    """Every rule that takes an int from the URL."""
    return [rule for rule in app.url_map.iter_rules()
            if any(isinstance(conv, IntegerConverter) for conv in rule._converters.values())]


def requests_for(app, ids: dict, branch_a: int):
    found = []
    for rule in sorted(id_routes(app), key=lambda r: r.rule):
        missing = [arg for arg in rule.arguments if arg not in ids]
        assert not missing or rule.endpoint == "sales.accessory_remove", \
            f"{rule.rule}: no record of branch A is built for {missing}; add it to the id builders"
        path = rule.build({arg: ids.get(arg, 1) for arg in rule.arguments})[1]
        if rule.endpoint.startswith("inventory.part_stock"):
            path += f"?branch={branch_a}"  # the part is the catalog's; the branch asked for is A
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method, path))
    return found


def branch_tables(engine) -> list[str]:
    """Every table with a branch_id column, and every table that refers to one of them (lines, steps)."""
    with engine.connect() as conn:
        return conn.execute(sa.text(
            """WITH owned AS (
                   SELECT c.oid FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
                    WHERE c.relkind = 'r' AND a.attname = 'branch_id' AND NOT a.attisdropped
                      AND c.relnamespace::regnamespace::text NOT IN ('master'))
               SELECT DISTINCT format('%s', t.oid::regclass)
                 FROM (SELECT oid FROM owned
                       UNION SELECT conrelid FROM pg_constraint WHERE contype = 'f'
                                AND confrelid IN (SELECT oid FROM owned)) t
                ORDER BY 1""")).scalars().all()


def snapshot(engine, tables, own_branch: int) -> dict[str, str]:
    """A fingerprint of every row of the branch-owned tables, their lines and steps, but the rows of
    the acting staff's own branch (a refused form may still, say, make its own part-stock row)."""
    with engine.connect() as conn:
        with_branch = set(conn.execute(sa.text(
            """SELECT format('%s', attrelid::regclass) FROM pg_attribute
                WHERE attname = 'branch_id' AND NOT attisdropped""")).scalars())
        parts = " UNION ALL ".join(
            f"SELECT '{t}', md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM {t} x"
            + (f" WHERE x.branch_id <> {int(own_branch)}" if t in with_branch else "") for t in tables)
        return dict(conn.execute(sa.text(parts)).all())


def rows_written(engine, tables) -> int:
    """Rows inserted, updated or deleted in the tables so far in this transaction (rolled-back savepoints
    included: the number only grows)."""
    with engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_xact_user_tables "
            "WHERE relid = ANY(CAST(:tables AS regclass[]))"), {"tables": tables}).scalar_one()


@pytest.fixture
def two_branches(app, engine, make_branch, make_staff):
    """Branch A with a record behind every id route; a MANAGER and a SALES person of branch B,
    and a MANAGER of branch A (who must find the records: the ids are real)."""
    branch_a = make_branch()
    ids = {"branch_id": branch_a, **catalog_ids(engine, branch_a), **procurement_ids(engine, branch_a),
           **sales_ids(engine, branch_a), **warranty_ids(engine, branch_a)}
    ids.update(inventory_ids(engine, branch_a, ids["part_id"]))
    ids.update(service_ids(engine, branch_a))
    ids.update(claim_ids(engine, branch_a))
    ids["staff_id"], _, _ = make_staff("ASAL", "SALES", PIN, branch_id=branch_a)
    make_staff("AMGR", "MANAGER", PIN, branch_id=branch_a)
    make_staff("AACC", "ACCOUNTS", PIN, branch_id=branch_a)   # checks branch A's payroll run (payroll_ids)
    from service_work_ids import service_work_ids  # the work on the workshop's job card

    ids.update(service_work_ids(engine, branch_a, ids.get("job_card_id")))
    from service_bill_ids import service_bill_ids  # a delivered job card's gate pass

    ids.update(service_bill_ids(engine, branch_a))
    from crm_ids import crm_ids  # a test ride on a demo unit for the lead

    ids.update(crm_ids(engine, branch_a, ids["lead_id"]))
    from communication_ids import communication_ids  # a call on branch A's call list

    ids.update(communication_ids(engine, branch_a, ids["customer_id"]))
    from hr_ids import hr_ids  # employment details, a document, a shift, a terminal and leave of branch A

    ids.update(hr_ids(engine, branch_a, ids["staff_id"]))
    from payroll_ids import payroll_ids  # June 2025's run of branch A, approved: its payslips

    ids.update(payroll_ids(engine, branch_a))
    from finance_cash_ids import finance_cash_ids  # an expense, a bank account and its statement line

    ids.update(finance_cash_ids(engine, branch_a))
    from books_ids import books_ids  # a voucher of branch A and its customer's ledger

    ids.update(books_ids(engine, branch_a, ids["customer_id"]))
    branch_b = make_branch()
    make_staff("BMGR", "MANAGER", PIN, branch_id=branch_b)
    make_staff("BSAL", "SALES", PIN, branch_id=branch_b)
    return {"a": branch_a, "b": branch_b, "ids": ids}


def browser(app, code):
    client = app.test_client()
    assert login(client, code, PIN).status_code == 303
    return client, page_csrf(client, "/profile")


def test_every_id_route_is_built_and_the_global_list_names_only_real_routes(app, two_branches):
    endpoints = {rule.endpoint for rule in id_routes(app)}
    assert len(endpoints) >= 80
    # The providers' reports take no id in the URL (the message's id is in the body) but see every branch too.
    every_route = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert set(GLOBAL_ROUTES) <= every_route, set(GLOBAL_ROUTES) - every_route
    assert {"procurement.po_edit", "procurement.po_approve", "procurement.po_send", "procurement.grn_new",
            "procurement.grn_detail", "procurement.pinv_detail", "procurement.pinv_payment"} <= endpoints


def test_branch_a_manager_finds_every_record_the_test_uses(app, two_branches):
    """Without this, a 404 for branch B could only mean the ids were wrong."""
    client, _ = browser(app, "AMGR")
    not_found = []
    for endpoint, method, path in requests_for(app, two_branches["ids"], two_branches["a"]):
        if method != "GET" or endpoint in GLOBAL_ROUTES or "MANAGER" not in allowed_roles(app.view_functions[endpoint]):
            continue
        if client.get(path).status_code == 404:
            not_found.append(path)
    assert not_found == []


def test_an_admin_of_branch_b_works_across_branches(app, make_staff, two_branches):
    ids = two_branches["ids"]
    make_staff("BADM", "ADMIN", PIN, branch_id=two_branches["b"])
    client, _ = browser(app, "BADM")
    # Screens with no branch filter of their own (sales and billing screens also keep theirs,
    # which holds an administrator to the branch they work at).
    for path in (f"/procurement/orders/{ids['po_id']}", f"/procurement/receipts/{ids['grn_id']}",
                 f"/procurement/invoices/{ids['pinv_id']}", f"/inventory/counts/{ids['count_id']}",
                 f"/inventory/transfers/{ids['transfer_id']}"):
        assert client.get(path).status_code == 200, path


def test_a_manager_works_across_branches_only_when_the_branch_profile_is_the_head_office(
        app, engine, make_staff, two_branches):
    ids = two_branches["ids"]
    path = f"/procurement/orders/{ids['po_id']}"
    client, _ = browser(app, "BMGR")
    assert client.get(path).status_code == 404
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE master.branch SET head_office = true WHERE branch_id = :b"),
                     {"b": two_branches["b"]})
    assert client.get(path).status_code == 200   # the next request of the same session already knows
    seller, _ = browser(app, "BSAL")
    assert seller.get(f"/crm/leads/{ids['lead_id']}").status_code == 404   # only its managers


@pytest.mark.parametrize("code, role", [("BMGR", "MANAGER"), ("BSAL", "SALES")])
def test_staff_of_another_branch_get_404_and_change_nothing(app, engine, two_branches, code, role):
    tables = branch_tables(engine)
    assert "procurement.purchase_order" in tables and "sales.booking" in tables
    client, token = browser(app, code)
    before = snapshot(engine, tables, two_branches["b"])
    # A fingerprint can only have changed if a row of those tables was written since the last one:
    # PostgreSQL's per-transaction counts of the test's one connection (this test is rolled back, every
    # request runs on that connection; the app truncates nothing) say when to take it again.
    assert isinstance(engine, TestEngine)
    written = rows_written(engine, tables)
    wrong, changed = [], []
    for endpoint, method, path in requests_for(app, two_branches["ids"], two_branches["a"]):
        roles = allowed_roles(app.view_functions[endpoint])
        data = {"csrf_token": token} if method == "POST" else None
        for headers in ({}, {"HX-Request": "true", "HX-Target": "main"}):
            response = client.open(path, method=method, data=data, headers=headers)
            if role not in roles:
                expected = {403}  # refused before any record is looked up
            elif endpoint in GLOBAL_ROUTES:
                expected = None  # a shared record: whatever the empty form gets, never a 500
            else:
                expected = {404}
            if response.status_code >= 500 or expected is not None and response.status_code not in expected:
                wrong.append(f"{method} {path} {headers or ''}: {response.status_code}")
        now_written = rows_written(engine, tables)
        if now_written == written:
            continue
        written = now_written
        after = snapshot(engine, tables, two_branches["b"])
        if after != before:
            changed.append(f"{method} {path}: " + ", ".join(t for t in tables if after[t] != before[t]))
            before = after
    assert wrong == []
    assert changed == []


# ----------------------------------------------------------------------------- in the database


def as_branch(app_engine, branch_id: int | None, *, all_branches: bool = False):
    conn = app_engine.connect()
    conn.begin()
    conn.execute(sa.text("SELECT set_config('erp.branch_id', :b, true), set_config('erp.all_branches', :all, true)"),
                 {"b": "" if branch_id is None else str(branch_id), "all": "on" if all_branches else ""})
    return conn


def test_the_app_role_is_no_superuser_and_owns_no_table(app, engine):
    app_engine = app.extensions["erp_db"].engine
    with app_engine.connect() as conn:
        role, superuser, bypass = conn.execute(sa.text(
            "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")).one()
        owned = conn.execute(sa.text(
            "SELECT count(*) FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
        )).scalar()
    with engine.connect() as conn:
        owner = conn.execute(sa.text("SELECT current_user")).scalar()
    assert role != owner and not superuser and not bypass and owned == 0


def test_every_table_with_a_branch_is_under_row_level_security_or_named_here(engine):
    not_under_rls = {
        "master.branch": "read to log in, before any branch is known",
        "master.staff": "read to log in, before any branch is known",
        "master.customer": "the showroom's customers, served at any branch",
        "service.vehicle": "a vehicle may come to any branch's workshop; branch_id records where it was registered",
        "master.document_counter": "numbers only, written by master.next_document_no in a posting whose "
                                   "document is itself under row-level security",
    }
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            """SELECT format('%s', c.oid::regclass), c.relrowsecurity
                 FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
                 JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relkind = 'r' AND a.attname = 'branch_id' AND NOT a.attisdropped
                  AND n.nspname <> 'seed_copy'  -- the test fixtures' copy of the seeded rows (tests/conftest.py)""")).all()
    missing = sorted(t for t, rls in rows if not rls and t not in not_under_rls)
    assert missing == []
    assert len([t for t, rls in rows if rls]) >= 15


def test_with_branch_b_set_the_rows_of_branch_a_are_invisible_unchangeable_and_cannot_be_added(
        app, engine, two_branches):
    a, b, ids = two_branches["a"], two_branches["b"], two_branches["ids"]
    app_engine = app.extensions["erp_db"].engine
    documents = {"procurement.purchase_order": ("po_id", ids["po_id"]),
                 "procurement.goods_receipt": ("grn_id", ids["grn_id"]),
                 "procurement.purchase_invoice": ("pinv_id", ids["pinv_id"]),
                 "sales.booking": ("booking_id", ids["booking_id"]),
                 "crm.lead": ("lead_id", ids["lead_id"]),
                 "crm.test_ride": ("test_ride_id", ids["test_ride_id"]),
                 "billing.invoice": ("invoice_id", ids["invoice_id"]),
                 "billing.receipt": ("receipt_id", ids["receipt_id"]),
                 "insurance.policy": ("policy_id", ids["policy_id"]),
                 "inventory.stock_count": ("count_id", ids["count_id"]),
                 "service.job_card": ("job_card_id", ids["job_card_id"]),
                 "service.gate_pass": ("gate_pass_id", ids["gate_pass_id"]),
                 # under a policy of its own, that takes the visible branches once per statement (sql/0022)
                 "sales.subsidy_claim": ("booking_id", ids["booking_id"])}
    with engine.begin() as owner:
        owner.execute(sa.text("INSERT INTO sales.subsidy_claim (booking_id, eligible_amount) VALUES (:b, 5000) "
                              "ON CONFLICT DO NOTHING"), {"b": ids["booking_id"]})
    conn = as_branch(app_engine, b)
    try:
        for table, (key, value) in documents.items():
            assert conn.execute(sa.text(f"SELECT count(*) FROM {table} WHERE branch_id = :a"), {"a": a}).scalar() == 0
            assert conn.execute(sa.text(f"UPDATE {table} SET branch_id = branch_id WHERE {key} = :v"),
                                {"v": value}).rowcount == 0, table
            assert conn.execute(sa.text(f"DELETE FROM {table} WHERE {key} = :v"), {"v": value}).rowcount == 0, table
        # Another branch's stock is looked up, never changed.
        assert conn.execute(sa.text("UPDATE inventory.vehicle_unit SET branch_id = branch_id WHERE unit_id = :u"),
                            {"u": ids["unit_id"]}).rowcount == 0
        with pytest.raises(sa.exc.ProgrammingError) as refused:
            with conn.begin_nested():
                conn.execute(sa.text("INSERT INTO inventory.stock_count (count_no, branch_id) VALUES ('X/1', :a)"),
                             {"a": a})
        assert refused.value.orig.diag.sqlstate == "42501"  # new row violates row-level security policy
        # Its own row, handed to branch A, is refused too.
        own = conn.execute(sa.text("INSERT INTO inventory.stock_count (count_no, branch_id) VALUES ('X/2', :b) "
                                   "RETURNING count_id"), {"b": b}).scalar_one()
        with pytest.raises(sa.exc.ProgrammingError) as refused:
            with conn.begin_nested():
                conn.execute(sa.text("UPDATE inventory.stock_count SET branch_id = :a WHERE count_id = :c"),
                             {"a": a, "c": own})
        assert refused.value.orig.diag.sqlstate == "42501"
    finally:
        conn.close()
    # The owner sees them, and so does the request of branch A or of an ADMIN.
    for branch_id, everywhere in ((a, False), (None, True)):
        conn = as_branch(app_engine, branch_id, all_branches=everywhere)
        try:
            for table, (key, value) in documents.items():
                assert conn.execute(sa.text(f"SELECT count(*) FROM {table} WHERE {key} = :v"),
                                    {"v": value}).scalar() == 1, table
        finally:
            conn.close()
    # No branch set: nothing branch-owned is visible at all.
    conn = as_branch(app_engine, None)
    try:
        assert conn.execute(sa.text("SELECT count(*) FROM procurement.purchase_order")).scalar() == 0
    finally:
        conn.close()


def test_a_persons_employment_and_salary_rows_are_their_branchs(app, engine, two_branches):
    """hr.employee and the rows that hang on a person without a branch of their own (sql/0061) follow the person's
    branch: branch A's salary structures are invisible to branch B, and B cannot add one for A's staff."""
    a, b = two_branches["a"], two_branches["b"]
    app_engine = app.extensions["erp_db"].engine
    person_tables = ("hr.employee", "hr.employee_document", "hr.pay_structure")
    with engine.connect() as owner:
        in_a = {t: owner.execute(sa.text(f"SELECT count(*) FROM {t} JOIN master.staff s USING (staff_id) "
                                         "WHERE s.branch_id = :a"), {"a": a}).scalar() for t in person_tables}
        staff_a = owner.execute(sa.text("SELECT staff_id FROM hr.pay_structure JOIN master.staff s USING (staff_id) "
                                        "WHERE s.branch_id = :a LIMIT 1"), {"a": a}).scalar_one()
    assert all(in_a.values()), in_a    # the fixture's rows exist: the check below proves something
    conn = as_branch(app_engine, b)
    try:
        for table in person_tables:
            assert conn.execute(sa.text(f"SELECT count(*) FROM {table} WHERE staff_id = ANY(:s)"),
                                {"s": [staff_a]}).scalar() == 0, table
            assert conn.execute(sa.text(f"UPDATE {table} SET staff_id = staff_id WHERE staff_id = :s"),
                                {"s": staff_a}).rowcount == 0, table
        with pytest.raises(sa.exc.ProgrammingError) as refused:
            with conn.begin_nested():
                conn.execute(sa.text("""INSERT INTO hr.pay_structure (staff_id, effective_from, monthly_gross, basic)
                                        VALUES (:s, '2030-01-01', 50000, 50000)"""), {"s": staff_a})
        assert refused.value.orig.diag.sqlstate == "42501"
    finally:
        conn.close()
    conn = as_branch(app_engine, a)
    try:
        assert conn.execute(sa.text("SELECT count(*) FROM hr.pay_structure WHERE staff_id = :s"),
                            {"s": staff_a}).scalar() >= 1
    finally:
        conn.close()


def test_a_transfer_is_seen_by_both_ends_and_its_vehicle_moved_only_by_the_receiving_branch(app, engine, two_branches):
    """The transfer of the fixture goes from a third branch to A, with a vehicle in transit."""
    a, b, transfer_id = two_branches["a"], two_branches["b"], two_branches["ids"]["transfer_id"]
    with engine.connect() as conn:
        sender, travelling = conn.execute(sa.text(
            """SELECT t.branch_id, l.unit_id FROM inventory.stock_transfer t
                 JOIN inventory.stock_transfer_line l USING (transfer_id)
                WHERE t.transfer_id = :t AND l.unit_id IS NOT NULL"""), {"t": transfer_id}).one()
    app_engine = app.extensions["erp_db"].engine
    move = sa.text("UPDATE inventory.vehicle_unit SET branch_id = :to, status = 'IN_STOCK' "
                   "WHERE unit_id = :u AND status = 'IN_TRANSIT'")
    seen = sa.text("SELECT count(*) FROM inventory.stock_transfer WHERE transfer_id = :t")
    for branch_id, sees in ((sender, 1), (a, 1), (b, 0)):
        conn = as_branch(app_engine, branch_id)
        try:
            assert conn.execute(seen, {"t": transfer_id}).scalar() == sees, branch_id
            if branch_id == b:
                # Not its transfer: the vehicle is neither its own nor coming to it.
                assert conn.execute(move, {"to": b, "u": travelling}).rowcount == 0
            if branch_id == a:
                # Coming to A: A may take it into its own stock, and only into its own.
                with pytest.raises(sa.exc.ProgrammingError):
                    with conn.begin_nested():
                        conn.execute(move, {"to": b, "u": travelling})
                assert conn.execute(move, {"to": a, "u": travelling}).rowcount == 1
        finally:
            conn.close()  # rolled back
