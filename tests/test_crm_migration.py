"""sql/0035_crm_leads.sql on a showroom database that already has enquiries: every enquiry becomes a lead
with its id, its quotations and bookings still point at it (renamed lead_id), statuses and sources are
mapped as the migration says, a lost enquiry keeps its words as the remark, and the lead is audited under
its new name and key and stays under its branch's policy. Run on a scratch database, as
tests/test_migrations.py does."""
from __future__ import annotations

import re
import shutil
import uuid
from datetime import date

import builders as b
import sqlalchemy as sa
from test_migrations import scratch_db, sql_dir  # noqa: F401  (fixtures)

from webapp import migrations

FIRST_CRM = 35


def _later_files(sql: object) -> list:
    """The numbered files from 0035 on and the function files from 93_crm on: the code after the move."""
    numbered = [p for p in sql.glob("*.sql") if re.match(r"\d{4}_", p.name) and int(p.name[:4]) >= FIRST_CRM]
    functions = [p for p in (sql / migrations.FUNCTIONS).glob("*.sql") if int(p.name[:2]) >= 93]
    return numbered + functions


def test_the_enquiries_become_leads_keeping_every_quotation_and_booking(scratch_db, sql_dir, tmp_path):  # noqa: F811
    later = tmp_path / "later"
    later.mkdir()
    moved = {}
    for path in _later_files(sql_dir):
        moved[path] = later / path.name
        shutil.move(path, moved[path])
    engine = scratch_db()
    migrations.apply_pending(engine, sql_dir)
    with engine.begin() as conn:
        assert conn.execute(sa.text("SELECT to_regclass('crm.lead')")).scalar() is None
        s = b.sale_setup(conn, price_from="2024-01-01")
        b.act_as(conn, s.sales_id)
        enquiry = {}
        for name, source, status, lost in (("Open Walkin", "WALK_IN", "OPEN", None),
                                           ("Quoted Online", "ONLINE", "QUOTED", None),
                                           ("Booked Phone", "PHONE", "BOOKED", None),
                                           ("Lost Referral", "REFERRAL", "LOST", "Bought a petrol scooter")):
            enquiry[name] = b.scalar(conn, """
                INSERT INTO sales.enquiry (branch_id, enquiry_date, source, name, mobile, salesperson_id, status,
                                           lost_reason, follow_up_on)
                VALUES (:b, '2025-03-01', :src, :n, '9845012345', :s, :st, :lost, '2025-03-05')
                RETURNING enquiry_id""", b=s.branch_id, src=source, n=name, s=s.sales_id, st=status, lost=lost)
        price_id = b.scalar(conn, "SELECT price_id FROM oem.price_list WHERE variant_id = :v", v=s.catalog.variant_id)
        quotation_id = b.scalar(conn, """
            INSERT INTO sales.quotation (quotation_no, branch_id, enquiry_id, quoted_on, valid_until, variant_id,
                                         colour, price_id, ex_showroom, gst_rate, idempotency_key)
            VALUES (NULL, :b, :e, '2025-03-02', '2025-03-17', :v, :c, :p, 157000, 5, :k) RETURNING quotation_id""",
                                b=s.branch_id, e=enquiry["Booked Phone"], v=s.catalog.variant_id,
                                c=s.catalog.colours[0], p=price_id, k=str(uuid.uuid4()))
        booking_id = b.scalar(conn, """
            INSERT INTO sales.booking (booking_no, branch_id, booked_on, customer_id, enquiry_id, quotation_id,
                                       salesperson_id, variant_id, colour, ex_showroom, idempotency_key)
            VALUES (NULL, :b, '2025-03-03', :cu, :e, :q, :s, :v, :c, 157000, :k) RETURNING booking_id""",
                              b=s.branch_id, cu=s.customer_id, e=enquiry["Booked Phone"], q=quotation_id, s=s.sales_id,
                              v=s.catalog.variant_id, c=s.catalog.colours[0], k=str(uuid.uuid4()))
        b.act_as(conn, None)

    for path, kept in moved.items():
        shutil.move(kept, path)
    applied = migrations.apply_pending(engine, sql_dir)
    assert "0035_crm_leads.sql" in applied and "functions/93_crm.sql" in applied

    with engine.begin() as conn:
        assert conn.execute(sa.text("SELECT to_regclass('sales.enquiry')")).scalar() is None
        leads = {r.name: r for r in conn.execute(sa.text(
            "SELECT lead_id, name, source, status, lost_reason_code, lost_remark, lead_date, follow_up_on "
            "FROM crm.lead"))}
        assert {name: leads[name].lead_id for name in enquiry} == enquiry   # every one, with its id
        assert {name: (leads[name].source, leads[name].status) for name in enquiry} == {
            "Open Walkin": ("WALK_IN", "CONTACTED"), "Quoted Online": ("WEBSITE", "NEGOTIATION"),
            "Booked Phone": ("PHONE", "BOOKED"), "Lost Referral": ("REFERRAL", "LOST")}
        lost = leads["Lost Referral"]
        assert (lost.lost_reason_code, lost.lost_remark) == ("OTHER", "Bought a petrol scooter")
        assert (leads["Open Walkin"].lead_date, leads["Open Walkin"].follow_up_on) == (date(2025, 3, 1),
                                                                                     date(2025, 3, 5))
        assert b.scalar(conn, "SELECT lead_id FROM sales.quotation WHERE quotation_id = :q",
                        q=quotation_id) == enquiry["Booked Phone"]
        assert b.row(conn, "SELECT lead_id, quotation_id FROM sales.booking WHERE booking_id = :b",
                     b=booking_id) == {"lead_id": enquiry["Booked Phone"], "quotation_id": quotation_id}
        # The foreign keys still hold: a quotation for a lead that does not exist is refused.
        fks = dict(conn.execute(sa.text("""
            SELECT conname, confrelid::regclass::text FROM pg_constraint
             WHERE conname IN ('quotation_lead_id_fkey', 'booking_lead_id_fkey')""")).all())
        assert fks == {"quotation_lead_id_fkey": "crm.lead", "booking_lead_id_fkey": "crm.lead"}
        # A new lead continues the numbering after the moved ones.
        new_id = b.scalar(conn, """INSERT INTO crm.lead (branch_id, lead_date, source, name, mobile, salesperson_id)
                                   VALUES (:b, current_date, 'EVENT', 'After Move', '9845012345', :s)
                                   RETURNING lead_id""", b=s.branch_id, s=s.sales_id)
        assert new_id > max(enquiry.values())
        # Audited under its new name and key; still under its branch's policy.
        conn.execute(sa.text("UPDATE crm.lead SET notes = 'moved' WHERE lead_id = :l"), {"l": enquiry["Open Walkin"]})
        logged = b.row(conn, "SELECT table_name, row_key FROM audit.log WHERE action = 'UPDATE' "
                             "ORDER BY audit_id DESC LIMIT 1")
        assert (logged["table_name"], logged["row_key"]) == ("crm.lead", str(enquiry["Open Walkin"]))
        # Rows logged before the move keep the name sales.enquiry; the audit screen names them by the lead.
        from webapp.audit import labels

        old_key = str(enquiry["Lost Referral"])
        assert b.scalar(conn, "SELECT count(*) FROM audit.log WHERE table_name = 'sales.enquiry' AND row_key = :k",
                        k=old_key) == 1
        found = labels.document_labels(conn, {"sales.enquiry": {old_key}})
        assert labels.document("sales.enquiry", old_key, found, None) == "Lead of Lost Referral"
        policy = b.row(conn, """SELECT c.relrowsecurity, p.polname FROM pg_class c
                                  JOIN pg_policy p ON p.polrelid = c.oid WHERE c.oid = 'crm.lead'::regclass""")
        assert (policy["relrowsecurity"], policy["polname"]) == (True, "own_branch")
