"""The benchmark data generator writes stock and sales exactly as the database's own triggers do."""
import uuid
from datetime import date
from decimal import Decimal

import builders as b
import pytest
import sqlalchemy as sa
from conftest import gstin, truncate_all

from seed.crm_history import check_crm
from seed.history import Sizes, _check_ledger, _check_sales, generate_history
from seed.workshop_history import check_workshop

SMALL = Sizes(units=60, parts=12, moves=3_000, sales=50)
TODAY = date(2026, 11, 23)


def _ledger(engine):
    with engine.connect() as conn:
        moves = conn.execute(sa.text(
            "SELECT move_id, branch_id, part_id, kind, qty, unit_cost, value FROM inventory.stock_move ORDER BY 1")).all()
        balances = conn.execute(sa.text(
            "SELECT branch_id, part_id, qty, value FROM inventory.part_stock ORDER BY 1, 2")).all()
        units = conn.execute(sa.text(
            """SELECT u.vin, u.status, count(f.fitment_id) FROM inventory.vehicle_unit u
                 LEFT JOIN inventory.battery_fitment f USING (unit_id) GROUP BY 1, 2 ORDER BY 1""")).all()
    return moves, balances, units


# Every document by its number, with what the customer and the tax authority see on it.
SALES_SQL = {
    # the books (sql/functions/96_finance_posting.sql): the fast path's set-based backfill posts what each
    # document's own posting function posts through the triggers (numbers of the books' own series aside)
    "vouchers": """
        SELECT v.source_table, v.voucher_type, CASE WHEN v.source_table LIKE 'billing.%' THEN v.voucher_no END AS no,
               v.voucher_date, v.branch_id, v.narration,
               array_agg(g.name || ' ' || l.debit || ' ' || l.credit ORDER BY l.line_no) AS lines
          FROM finance.voucher v JOIN finance.voucher_line l USING (voucher_id) JOIN finance.ledger g USING (ledger_id)
         GROUP BY v.voucher_id ORDER BY 1, 2, 3, 4, 5, 6, 7""",
    "bookings": """
        SELECT b.booking_no, b.booked_on, b.stage, b.salesperson_id, b.variant_id, b.colour, b.ex_showroom,
               b.discount, b.discount_status, b.discount_by, b.subsidy_eligible, b.delivery_state_code,
               b.cancelled_on, b.cancel_reason, b.finance_needed, i.invoice_no, u.vin, c.name, c.mobile, c.gstin,
               e.status AS lead_status
          FROM sales.booking b JOIN master.customer c USING (customer_id)
          LEFT JOIN crm.lead e USING (lead_id)
          LEFT JOIN billing.invoice i ON i.invoice_id = b.invoice_id
          LEFT JOIN sales.allotment a ON a.booking_id = b.booking_id AND a.released_at IS NULL
          LEFT JOIN inventory.vehicle_unit u ON u.unit_id = a.unit_id ORDER BY 1""",
    "booking items": """
        SELECT b.booking_no, i.line_no, i.item_code, i.description, i.amount, i.hsn_code
          FROM sales.booking_item i JOIN sales.booking b USING (booking_id) ORDER BY 1, 2""",
    "invoices": """
        SELECT invoice_no, invoice_date, branch_id, supplier_gstin, supplier_state_code, buyer_name, buyer_address,
               buyer_state_code, buyer_gstin, buyer_mobile, delivery_address, place_of_supply, taxable_value, cgst,
               sgst, igst, round_off, grand_total, tcs_rate, tcs_amount, amount_payable, posted_by
          FROM billing.invoice ORDER BY 1""",
    "invoice lines": """
        SELECT i.invoice_no, l.line_no, l.description, l.hsn_code, l.qty, l.unit, l.unit_price, l.price_includes_gst,
               l.discount, l.taxable_value, l.gst_rate, l.cgst, l.sgst, l.igst, l.total, l.unit_id
          FROM billing.invoice_line l JOIN billing.invoice i USING (invoice_id) ORDER BY 1, 2""",
    "receipts": """
        SELECT r.receipt_no, r.receipt_date, b.booking_no, r.received_from, r.mode, r.amount, r.reference,
               r.is_advance, r.posted_by
          FROM billing.receipt r JOIN sales.booking b USING (booking_id) ORDER BY 1""",
    "refunds": """
        SELECT f.refund_no, f.refund_date, b.booking_no, f.paid_to, f.mode, f.amount, f.cancellation_charge,
               f.reason, f.reference
          FROM billing.refund f JOIN sales.booking b USING (booking_id) ORDER BY 1""",
    "deliveries": """
        SELECT d.delivery_no, d.delivered_on, b.booking_no, i.invoice_no, u.vin, d.handed_over_by, d.received_by_name
          FROM sales.delivery d JOIN sales.booking b USING (booking_id)
          JOIN billing.invoice i ON i.invoice_id = d.invoice_id
          JOIN inventory.vehicle_unit u ON u.unit_id = d.unit_id ORDER BY 1""",
    "PDI": """
        SELECT b.booking_no, p.pdi_item_id, p.is_ok, p.checked_by
          FROM sales.pdi_check p JOIN sales.booking b USING (booking_id) ORDER BY 1, 2""",
    "finance and subsidy": """
        SELECT b.booking_no, f.financier_id, f.loan_amount, f.do_number, s.eligible_amount, s.voucher_id,
               s.branch_id, s.booking_no AS claim_booking_no, s.booking_cancelled, s.listed_on, s.oem_id
          FROM sales.booking b LEFT JOIN sales.finance f USING (booking_id)
          LEFT JOIN sales.subsidy_claim s USING (booking_id) ORDER BY 1""",
    "policies": """
        SELECT b.booking_no, u.vin, p.insurer_id, p.od_policy_no, p.od_from, p.od_to, p.tp_to, p.premium,
               p.commission_amount, p.created_by
          FROM insurance.policy p JOIN sales.booking b USING (booking_id)
          JOIN inventory.vehicle_unit u ON u.unit_id = p.unit_id ORDER BY 1""",
    "leads": """
        SELECT lead_date, source, name, mobile, model_id, salesperson_id, status, lost_reason_code, lost_remark,
               follow_up_on
          FROM crm.lead ORDER BY 1, 3, 4""",
    "counters": "SELECT branch_id, series, fy_start, last_no FROM master.document_counter ORDER BY 1, 2, 3",
}


def _two_branches(make_branch) -> None:
    """The same two branches (codes, GSTINs, invoice prefixes) however often they are made."""
    for n, state in ((1, "29"), (2, "29")):
        make_branch(branch_code=f"GEN{n}", gstin=gstin(f"{state}AABCG{2000 + n:04d}K1Z"), invoice_prefix=f"G{n}")


def _sales(engine) -> dict:
    with engine.connect() as conn:
        return {what: conn.execute(sa.text(sql)).all() for what, sql in SALES_SQL.items()}


def test_generated_history_matches_what_the_triggers_would_have_written(app, engine, make_branch, _truncatable):
    _two_branches(make_branch)
    with engine.begin() as conn:
        fast = generate_history(conn, SMALL, seed=7, today=TODAY)
    assert fast["through_triggers"] is False  # the test database's user is a superuser
    fast_ledger, fast_sales = _ledger(engine), _sales(engine)

    truncate_all(engine, _truncatable)
    _two_branches(make_branch)
    with engine.begin() as conn:
        slow = generate_history(conn, SMALL, seed=7, today=TODAY, through_triggers=True)
    assert slow["through_triggers"] is True
    slow_ledger, slow_sales = _ledger(engine), _sales(engine)

    moves, balances, units = fast_ledger
    assert len(moves) == SMALL.moves and len(units) == SMALL.units
    assert all(count == 1 for _, _, count in units)  # every unit has its battery pack fitted
    assert {m.kind for m in moves} >= {"RECEIPT", "ISSUE_JOB", "COUNTER_SALE"}
    # Same seed, same data: only the route into the tables differed.
    assert [m[1:] for m in moves] == [m[1:] for m in slow_ledger[0]]
    assert balances == slow_ledger[1]
    assert units == slow_ledger[2]  # the sold units ended where the allotment, invoice and delivery took them
    assert fast["bookings"] == SMALL.sales and fast["invoices"] > 30
    stages = {row.stage for row in fast_sales["bookings"]}
    assert stages >= {"DELIVERED", "CANCELLED", "BOOKED"}, stages
    # The claims' register columns (sql/0022) are compared below: some of them are cancelled, some
    # listed under an invoice date, some under the booking date.
    claims = [r for r in fast_sales["finance and subsidy"] if r.eligible_amount is not None]
    assert {r.booking_cancelled for r in claims} == {True, False}
    booked_on = {r.booking_no: r.booked_on for r in fast_sales["bookings"]}
    assert {r.listed_on == booked_on[r.booking_no] for r in claims} == {True, False}
    assert {row.mode for row in fast_sales["receipts"]} >= {"SUBSIDY", "BANK_TRANSFER"}
    assert fast_sales["refunds"] and fast_sales["policies"] and fast_sales["deliveries"]
    assert {r.source_table for r in fast_sales["vouchers"]} >= {"billing.invoice", "billing.receipt", "billing.refund"}
    for what in SALES_SQL:
        assert fast_sales[what] == slow_sales[what], what
    # The workshop: five delivered cards a sale by default, each with its bill, some with a part of the ledger.
    assert fast["job_cards"] > 100 and fast["gate_passes"] == fast["job_cards"]
    assert fast["service_invoices"] > 50 and fast["job_sheets"] > 0 and fast["part_issues"] > 0
    assert {k: v for k, v in fast.items() if k != "through_triggers"} == \
        {k: v for k, v in slow.items() if k != "through_triggers"}


def test_a_real_invoice_after_the_generated_history_takes_the_next_number(app, engine, make_branch):
    from webapp.billing import posting
    from webapp.sales import services

    make_branch()
    with engine.begin() as conn:
        generate_history(conn, Sizes(units=80, parts=5, moves=200, sales=70), seed=3, today=TODAY)
    with engine.connect() as conn:
        unsettled = conn.execute(sa.text(
            """SELECT count(*) FILTER (WHERE due <> received), count(*) FROM billing.booking_balance
                WHERE stage = 'DELIVERED'""")).one()
        assert unsettled[1] > 40 and unsettled[0] == 0  # every delivered sale is fully paid
        unit = conn.execute(sa.text(
            """SELECT u.unit_id, u.variant_id, u.colour, u.branch_id, b.invoice_prefix
                 FROM inventory.vehicle_unit u JOIN master.branch b USING (branch_id)
                WHERE u.status = 'IN_STOCK' ORDER BY u.unit_id LIMIT 1""")).one()

        def last(series: str) -> int:
            return conn.execute(sa.text(
                """SELECT last_no FROM master.document_counter
                    WHERE branch_id = :b AND series = :s AND fy_start = 2026"""), {"b": unit.branch_id, "s": series}
            ).scalar() or 0
        before = {s: last(s) for s in ("BKG", "INV", "RCT")}
        sales_person, customer = conn.execute(sa.text(
            """SELECT b.salesperson_id, b.customer_id FROM sales.booking b
                WHERE b.branch_id = :b ORDER BY b.booking_id LIMIT 1"""), {"b": unit.branch_id}).one()
    assert before["INV"] > 0 and before["RCT"] > 0

    with engine.begin() as conn:
        conn.execute(sa.text("SELECT set_config('erp.staff_id', :s, true)"), {"s": str(sales_person)})
        quote = services.on_road_price(conn, unit.variant_id, unit.colour, TODAY,
                                       amounts={"INSURANCE": Decimal("6100.00")})
        booking_id = services.create_booking(conn, branch_id=unit.branch_id, customer_id=customer,
                                             salesperson_id=sales_person, quote=quote, booked_on=TODAY,
                                             key=str(uuid.uuid4()))
        posting.post_receipt(conn, on=TODAY, mode="UPI", amount=Decimal(5000), key=str(uuid.uuid4()),
                             received_from="Customer", booking_id=booking_id, reference="UPI123456789")
        services.allot(conn, booking_id, unit.unit_id)
        invoice_id = posting.post_vehicle_invoice(conn, booking_id, on=TODAY, key=str(uuid.uuid4()))
    with engine.connect() as conn:
        booking_no, invoice_no, receipt_no = conn.execute(sa.text(
            """SELECT b.booking_no, i.invoice_no, r.receipt_no FROM sales.booking b
                 JOIN billing.invoice i ON i.invoice_id = b.invoice_id
                 JOIN billing.receipt r ON r.booking_id = b.booking_id
                WHERE b.booking_id = :b AND i.invoice_id = :i"""), {"b": booking_id, "i": invoice_id}).one()
        _check_sales(conn)  # the history with the real sale on top is still consistent
    p = unit.invoice_prefix
    assert invoice_no == f"{p}INV/26/{before['INV'] + 1}"
    assert booking_no == f"{p}BKG/26/{before['BKG'] + 1}"
    assert receipt_no == f"{p}RCT/26/{before['RCT'] + 1}"


def test_the_sales_check_notices_a_gap_in_the_receipt_numbers(app, engine, make_branch):
    make_branch()
    with engine.begin() as conn:
        generate_history(conn, Sizes(units=30, parts=3, moves=20, sales=25), today=TODAY)
    with engine.begin() as conn:
        _check_sales(conn)
        conn.execute(sa.text("SET LOCAL session_replication_role = replica"))  # past the permanence trigger
        conn.execute(sa.text(
            "DELETE FROM billing.receipt WHERE receipt_id = (SELECT min(receipt_id) FROM billing.receipt)"))
        with pytest.raises(RuntimeError, match="document series with a gap"):
            _check_sales(conn)
        conn.rollback()


def test_generating_a_second_history_is_refused(app, engine, make_branch):
    make_branch()
    with engine.begin() as conn:
        generate_history(conn, Sizes(units=5, parts=3, moves=20, sales=0), today=TODAY)
    with engine.begin() as conn, pytest.raises(RuntimeError, match="already holds a generated history"):
        generate_history(conn, Sizes(units=5, parts=3, moves=20, sales=0), today=TODAY)


def test_generating_into_a_showrooms_own_stock_is_refused(app, engine, make_branch):
    branch_id = make_branch()
    with engine.begin() as conn:  # a scooter the showroom received itself (not one of seed-demo's)
        cat = b.vehicle_catalog(conn)
        b.unit(conn, cat.variant_id, cat.colours[0], branch_id)
    with engine.begin() as conn, pytest.raises(RuntimeError, match="already has stock or sales of its own"):
        generate_history(conn, Sizes(units=5, parts=3, moves=20, sales=0), today=TODAY)


def _workshop(engine) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(sa.text(
            """SELECT (SELECT count(*) FROM service.job_card WHERE state = 'DELIVERED') AS delivered,
                      (SELECT count(*) FROM service.job_card j JOIN billing.invoice i ON i.invoice_id = j.invoice_id
                        WHERE i.service_reference = j.job_card_no) AS billed,
                      (SELECT count(*) FROM service.job_card j JOIN service.gate_pass g USING (job_card_id)
                        WHERE g.invoice_id = j.invoice_id AND g.paid_in_full) AS released,
                      (SELECT count(*) FROM service.battery_reading) AS readings,
                      (SELECT count(*) FROM service.job_line l JOIN service.part_issue p USING (job_line_id)
                         JOIN inventory.stock_move m ON m.move_id = p.move_id
                         JOIN service.job_card j ON j.job_card_id = l.job_card_id
                        WHERE m.kind = 'ISSUE_JOB' AND m.part_id = l.part_id AND -m.qty = l.issued_qty
                          AND m.reference = j.job_card_no AND m.branch_id = j.branch_id) AS parts_from_ledger,
                      (SELECT count(*) FROM service.job_line WHERE part_id IS NOT NULL) AS part_lines,
                      (SELECT count(*) FROM billing.invoice i JOIN billing.invoice_balance k USING (invoice_id)
                        WHERE i.kind = 'SERVICE' AND k.balance = 0 AND k.due > 0) AS paid,
                      (SELECT count(*) FROM billing.invoice WHERE kind = 'SERVICE') AS service_invoices,
                      (SELECT count(*) FROM billing.invoice i JOIN billing.invoice_line l USING (invoice_id)
                        WHERE i.kind = 'JOB_SHEET' AND l.coverage = 'FREE_SERVICE' AND l.claimable_value > 0
                          AND i.grand_total = 0) AS free_service_lines,
                      (SELECT count(DISTINCT split_part(invoice_no, '/', 1)) FROM billing.invoice
                        WHERE kind = 'SERVICE') AS si_prefixes,
                      (SELECT bool_and(invoice_no LIKE '%SI/%') FROM billing.invoice WHERE kind = 'SERVICE') AS si_series,
                      (SELECT count(*) FROM (SELECT DISTINCT ON (vehicle_id) vehicle_id, soh_pct
                                               FROM service.battery_reading r JOIN service.job_card j USING (job_card_id)
                                              ORDER BY vehicle_id, r.read_at) first
                         JOIN (SELECT DISTINCT ON (vehicle_id) vehicle_id, soh_pct
                                 FROM service.battery_reading r JOIN service.job_card j USING (job_card_id)
                                ORDER BY vehicle_id, r.read_at DESC) last USING (vehicle_id)
                        WHERE last.soh_pct < first.soh_pct) AS soh_falling""")).mappings().one())


def test_the_workshop_history_has_every_delivered_card_billed_released_and_its_parts_from_the_ledger(
        app, engine, make_branch):
    make_branch()
    with engine.begin() as conn:
        made = generate_history(conn, Sizes(units=120, parts=8, moves=4_000, sales=100), seed=5, today=TODAY)
    w = _workshop(engine)
    assert made["job_cards"] == w["delivered"] > 300
    assert w["billed"] == w["released"] == w["readings"] == w["delivered"]
    assert w["part_lines"] > 20 and w["parts_from_ledger"] == w["part_lines"]  # no part line without its move
    assert w["service_invoices"] > 200 and w["paid"] == w["service_invoices"] and w["si_series"]
    assert w["free_service_lines"] > 0  # the free services: a job sheet, the value claimable
    assert w["soh_falling"] > 20  # the SoH chart of a vehicle goes down with its age
    with engine.connect() as conn:
        _check_ledger(conn)  # the part issues took no stock beyond the ledger's own moves
        check_workshop(conn)


@pytest.mark.parametrize("damage, message", [
    ("DELETE FROM service.gate_pass WHERE gate_pass_id = (SELECT min(gate_pass_id) FROM service.gate_pass)",
     "without a gate pass"),
    ("""UPDATE billing.invoice SET taxable_value = taxable_value + 1, grand_total = grand_total + 1
         WHERE invoice_id = (SELECT min(invoice_id) FROM billing.invoice WHERE kind = 'SERVICE')""",
     "do not add up to the header"),
    ("""DELETE FROM billing.receipt
         WHERE receipt_id = (SELECT max(receipt_id) FROM billing.receipt WHERE invoice_id IS NOT NULL)""",
     "not paid in full"),
    ("""UPDATE service.job_line SET issued_qty = issued_qty + 1, qty = qty + 1
         WHERE job_line_id = (SELECT min(job_line_id) FROM service.job_line WHERE part_id IS NOT NULL)""",
     "not a job issue of the ledger"),
])
def test_the_workshop_check_notices_what_the_triggers_would_have_refused(app, engine, make_branch, damage, message):
    make_branch()
    with engine.begin() as conn:
        generate_history(conn, Sizes(units=40, parts=4, moves=1_500, sales=30), seed=2, today=TODAY)
    with engine.begin() as conn:
        check_workshop(conn)
        conn.execute(sa.text("SET LOCAL session_replication_role = replica"))  # past the permanence triggers
        conn.execute(sa.text(damage))
        conn.execute(sa.text("SELECT billing.rebuild_invoice_balance()"))
        with pytest.raises(RuntimeError, match=message):
            check_workshop(conn)
        conn.rollback()


# Two years, so that a few of the units are recent enough to be demo units (test rides).
CRM_SIZES = Sizes(units=400, parts=3, moves=200, sales=150, years=2)


def _crm(engine) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(sa.text(
            """SELECT (SELECT count(*) FROM crm.lead) AS leads,
                      (SELECT count(DISTINCT lead_id) FROM crm.contact) AS leads_called,
                      (SELECT array_agg(DISTINCT outcome ORDER BY outcome) FROM crm.contact) AS outcomes,
                      (SELECT count(*) FROM crm.contact c JOIN crm.lead l USING (lead_id)
                        WHERE l.status = 'LOST' AND c.outcome = 'NOT_INTERESTED') AS lost_not_interested,
                      (SELECT count(*) FROM crm.test_ride) AS rides,
                      (SELECT count(*) FROM crm.test_ride WHERE in_at IS NULL) AS rides_out,
                      (SELECT count(DISTINCT unit_id) FROM crm.test_ride) AS ride_units,
                      (SELECT count(*) FROM crm.lead WHERE status NOT IN ('BOOKED', 'LOST')
                          AND follow_up_on IS NOT NULL) AS open_with_follow_up,
                      (SELECT array_agg(DISTINCT outcome ORDER BY outcome) FROM communication.reminder) AS reminder_outcomes,
                      (SELECT array_agg(DISTINCT r.event ORDER BY r.event) FROM communication.reminder m
                         JOIN communication.rule r USING (rule_id)) AS events,
                      (SELECT array_agg(DISTINCT status ORDER BY status) FROM communication.outbox) AS statuses,
                      (SELECT count(*) FROM communication.outbox WHERE body LIKE 'Dear %') AS filled,
                      (SELECT count(*) FROM communication.consent) AS consent,
                      (SELECT count(*) FROM communication.reminder m
                         LEFT JOIN communication.outbox o USING (reminder_id)
                        WHERE (m.outcome = 'QUEUED') <> (o.message_id IS NOT NULL)) AS unmatched""")).mappings().one())


def test_the_crm_history_has_calls_returned_test_rides_and_five_years_of_reminders(app, engine, make_branch):
    make_branch()
    with engine.begin() as conn:
        made = generate_history(conn, CRM_SIZES, seed=4, today=TODAY)
    c = _crm(engine)
    assert made["contacts"] > c["leads"] and c["leads_called"] == c["leads"]
    assert set(c["outcomes"]) == {"CALL_BACK", "NO_ANSWER", "NOT_INTERESTED", "REACHED", "VISIT_PLANNED"}
    assert c["lost_not_interested"] > 0
    assert made["test_rides"] == c["rides"] > 10 and c["rides_out"] == 0 and c["ride_units"] >= 1
    assert c["reminder_outcomes"] == ["NO_CONSENT", "QUEUED"], c["reminder_outcomes"]
    assert {"DELIVERY_PROMISED", "SERVICE_DUE"} <= set(c["events"]), c["events"]
    assert {"DELIVERED", "SENT", "GIVEN_UP"} <= set(c["statuses"])
    assert made["messages"] == c["filled"] > 100 and c["unmatched"] == 0 and c["consent"] > 0
    with engine.connect() as conn:
        check_crm(conn)
        # Today's follow-ups pick up after the calls: an open lead waits for its next call.
        open_leads = conn.execute(sa.text("SELECT count(*) FROM crm.lead WHERE status NOT IN ('BOOKED', 'LOST')")).scalar()
    assert c["open_with_follow_up"] == open_leads


@pytest.mark.parametrize("damage, message", [
    ("""INSERT INTO crm.test_ride (lead_id, branch_id, unit_id, licence_no, licence_valid_until, ride_on, out_at,
                                   odometer_out, in_at, odometer_in, staff_id)
        SELECT lead_id, branch_id, unit_id, licence_no, licence_valid_until, ride_on, out_at + interval '5 minutes',
               odometer_in, in_at + interval '5 minutes', odometer_in + 1, staff_id
          FROM crm.test_ride ORDER BY test_ride_id LIMIT 1""", "overlapping_rides"),
    ("""UPDATE communication.reminder SET outcome = 'NO_ADDRESS'
         WHERE reminder_id = (SELECT min(reminder_id) FROM communication.outbox)""", "reminders_without_message"),
    ("""UPDATE crm.contact SET contacted_at = contacted_at - interval '30 days'
         WHERE contact_id = (SELECT min(contact_id) FROM crm.contact)""", "bad_contacts"),
])
def test_the_crm_check_notices_what_the_triggers_would_have_refused(app, engine, make_branch, damage, message):
    make_branch()
    with engine.begin() as conn:
        generate_history(conn, CRM_SIZES, seed=4, today=TODAY)
    with engine.begin() as conn:
        check_crm(conn)
        conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
        conn.execute(sa.text(damage))
        with pytest.raises(RuntimeError, match=message):
            check_crm(conn)
        conn.rollback()


def test_the_history_sells_at_six_digit_hsn_so_a_big_showroom_s_gstr1_takes_every_document(app, engine, make_branch):
    """Five years of a busy showroom are above Rs 5 crore a year: its HSN summary needs six digits
    (finance.hsn_digits_rule), and GSTR-1 refuses a document with fewer."""
    make_branch()
    with engine.begin() as conn:
        made = generate_history(conn, Sizes(units=60, parts=6, moves=300, sales=60), seed=4, today=TODAY)
    assert made["invoices"] > 0
    with engine.connect() as conn:
        short = conn.execute(sa.text(
            """SELECT (SELECT count(*) FROM billing.invoice_line WHERE length(hsn_code) < 6),
                      (SELECT count(*) FROM sales.booking_item WHERE length(hsn_code) < 6),
                      (SELECT count(*) FROM master.part WHERE part_no LIKE 'GP-%' AND length(hsn_code) < 6),
                      (SELECT count(DISTINCT l.hsn_code) FROM billing.invoice_line l)""")).one()
        assert short[:3] == (0, 0, 0) and short[3] >= 3   # the scooters, their accessories, the workshop's parts and labour
        # Six digits asked at any turnover: no document of the five years is refused for its HSN.
        conn.execute(sa.text("UPDATE finance.hsn_digits_rule SET digits = 6"))
        gstin_ = conn.execute(sa.text("SELECT min(gstin) FROM master.branch")).scalar_one()
        refused = conn.execute(sa.text(
            """SELECT count(*) FROM finance.gstr1_problems(:g, :from, :to) WHERE problem LIKE 'HSN/SAC%'"""),
            {"g": gstin_, "from": date(TODAY.year - 5, 4, 1), "to": TODAY}).scalar()
        assert refused == 0
        conn.rollback()
