"""A believable demo showroom for trying the ERP (flask --app wsgi seed-demo)."""
from __future__ import annotations

import uuid
from typing import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from webapp.master import queries
from webapp.security import hash_pin
from webapp.validators import gstin_check_character

from .finance_cash_demo import seed_bank_account, seed_finance_cash
from .finance_month_demo import seed_finance_month

# What seed-demo's stock is known by: generate-history adds five years to a demo showroom, never to
# a showroom whose stock or sales are its own (seed/history.py).
DEMO_VIN_PREFIX = "MD9DEM0"
DEMO_OPENING_REFERENCE = "DEMO OPENING"


def _gstin(first14: str) -> str:
    return first14 + gstin_check_character(first14)


BRANCHES = [
    {"branch_code": "BLR1", "legal_name": "Volt Motors Private Limited", "trade_name": "Volt EV Indiranagar",
     "gstin": _gstin("29AAJCV4821K1Z"), "address_line1": "No. 14, 100 Feet Road, HAL 2nd Stage",
     "address_line2": "Indiranagar", "city": "Bengaluru", "pincode": "560038", "phone": "080-41234567",
     "email": "indiranagar@voltev.example", "upi_id": "voltev.blr@okaxis", "invoice_prefix": "BLR"},
    # A second place of business under the same registration: stock moves between the two on a
    # delivery challan, not a tax invoice.
    {"branch_code": "MYS1", "legal_name": "Volt Motors Private Limited", "trade_name": "Volt EV Mysuru",
     "gstin": _gstin("29AAJCV4821K1Z"), "address_line1": "27, Kalidasa Road, Jayalakshmipuram",
     "address_line2": None, "city": "Mysuru", "pincode": "570012", "phone": "0821-2345678",
     "email": "mysuru@voltev.example", "upi_id": None, "invoice_prefix": "MYS"},
]

STAFF = [
    ("ADMIN", "Ramesh Gowda", "ADMIN", "BLR1", "9845012345"),
    ("MGR1", "Kavitha Rao", "MANAGER", "BLR1", "9845023456"),
    ("S01", "Arjun Shetty", "SALES", "BLR1", "9880034567"),
    ("S02", "Priya Nair", "SALES", "BLR1", "9880045678"),
    ("SA01", "Manjunath K", "SERVICE_ADVISOR", "BLR1", "9900056789"),
    ("T01", "Imran Pasha", "TECHNICIAN", "BLR1", "9900067890"),
    ("T02", "Suresh Naik", "TECHNICIAN", "BLR1", "9900078901"),
    ("AC01", "Lakshmi Iyer", "ACCOUNTS", "BLR1", "9741089012"),
    ("D01", "Sri Sai Automobiles (sub-dealer)", "DEALER", "BLR1", "9741090123"),
    ("MGR2", "Deepak Hegde", "MANAGER", "MYS1", "9611001234"),
    ("S11", "Ananya Prasad", "SALES", "MYS1", "9611012345"),
    ("T11", "Girish M", "TECHNICIAN", "MYS1", "9611023456"),
]


def seed_demo(conn: Connection, new_pin: Callable[[], str], *, month: bool = True) -> list[tuple[str, str, str, str]]:
    """Insert the demo branches and staff unless present; returns (code, name, role, PIN) created.
    ``month``: with last month's documents (seed/finance_month_demo.py); a generated history
    (seed-demo --history) has its own months instead."""
    if conn.execute(sa.text("SELECT EXISTS (SELECT 1 FROM master.branch WHERE branch_code = 'BLR1')")).scalar():
        return []
    branch_ids = {b["branch_code"]: queries.insert_branch(conn, b) for b in BRANCHES}
    existing = {r[0] for r in conn.execute(sa.text("SELECT staff_code FROM master.staff"))}
    created = []
    for code, name, role, branch, phone in STAFF:
        if code in existing:
            continue
        pin = new_pin()
        queries.insert_staff(conn, {"staff_code": code, "name": name, "designation": role,
                                    "branch_id": branch_ids[branch], "phone": phone}, hash_pin(pin))
        created.append((code, name, role, pin))
    _seed_catalog_and_stock(conn, branch_ids)
    seed_bank_account(conn, branch_ids)   # before the sales: their receipts go to it
    _seed_workshop(conn, branch_ids)
    _seed_sold_here(conn, branch_ids)
    _seed_crm(conn, branch_ids)
    _seed_communication(conn)
    _seed_hr(conn, branch_ids)
    if month:
        seed_finance_month(conn, branch_ids)   # before the bank statement is written: its lines are on it
    seed_finance_cash(conn, branch_ids)
    _seed_payroll(conn)
    _seed_payroll_tax(conn)
    _seed_incentives(conn)
    return created


# A small catalog with prices on the day, scooters in stock, parts, and the parties a sale needs.
OEMS = [("Ather Energy", "Ather Energy Limited", _gstin("29AAJCA1234K1Z"), "Whitefield, Bengaluru"),
        ("Bajaj Auto", "Bajaj Auto Limited", _gstin("27AAACB1234K1Z"), "Akurdi, Pune")]
MODELS = [  # oem, model, segment, variant, kWh, range, price, subsidy per kWh, cap, colours
    ("Ather Energy", "Rizta", "E2W", "Z 3.7", "3.70", 160, "157000.00", "5000.00", "10000.00",
     ("Pearl White", "Deccan Grey")),
    ("Ather Energy", "450X", "E2W", "2.9 kWh", "2.90", 126, "149999.00", "5000.00", "10000.00", ("Cosmic Black",)),
    ("Bajaj Auto", "Chetak", "E2W", "3501", "3.50", 153, "127243.00", "5000.00", "10000.00",
     ("Brooklyn Black", "Indigo Metallic")),
]
PARTIES = {
    "master.financier": ["HDFC Bank", "Bajaj Finance", "IDFC FIRST Bank"],
    "master.insurer": ["ICICI Lombard General Insurance", "Digit General Insurance", "Tata AIG General Insurance"],
}
CUSTOMERS = [("Meera Krishnan", "9845098450", "12, 4th Cross, Jayanagar", "Bengaluru", "560011"),
             ("Rahul Deshpande", "9900199001", "88, Koramangala 5th Block", "Bengaluru", "560095"),
             ("Fathima Begum", "9741297412", "3, Frazer Town Main Road", "Bengaluru", "560005")]
PARTS = [("ATH-BRK-PAD-F", "Front brake pad set", "871410", "SET", "850.00", "560.00"),
         ("ATH-MIRROR-L", "Rear view mirror, left", "871410", "NOS", "420.00", "260.00"),
         ("CHK-CHARGER-650", "Portable charger 650 W", "850440", "NOS", "9500.00", "7200.00")]


def _seed_catalog_and_stock(conn: Connection, branch_ids: dict[str, int]) -> None:
    from webapp.formatting import today_ist

    today = today_ist()
    blr = branch_ids["BLR1"]
    oem_ids = {}
    for brand, legal, gstin, address in OEMS:
        oem_ids[brand] = conn.execute(sa.text("""
            INSERT INTO oem.oem (brand, legal_name, gstin, address) VALUES (:b, :l, :g, :a) RETURNING oem_id"""),
            {"b": brand, "l": legal, "g": gstin, "a": address}).scalar_one()
    serial = 0
    for brand, model, segment, variant, kwh, rng, price, per_kwh, cap, colours in MODELS:
        model_id = conn.execute(sa.text("""
            INSERT INTO oem.model (oem_id, name, segment) VALUES (:o, :n, :s) RETURNING model_id"""),
            {"o": oem_ids[brand], "n": model, "s": segment}).scalar_one()
        variant_id = conn.execute(sa.text("""
            INSERT INTO oem.variant (model_id, name, hsn_code, battery_chemistry, battery_kwh, certified_range_km,
                                     vehicle_warranty_years, vehicle_warranty_km, battery_warranty_years,
                                     battery_warranty_km, battery_min_soh_pct)
            VALUES (:m, :n, '871160', 'LFP', :kwh, :rng, 3, 30000, 5, 60000, 70) RETURNING variant_id"""),
            {"m": model_id, "n": variant, "kwh": kwh, "rng": rng}).scalar_one()
        for colour in colours:
            conn.execute(sa.text("INSERT INTO oem.variant_colour (variant_id, colour) VALUES (:v, :c)"),
                         {"v": variant_id, "c": colour})
        conn.execute(sa.text("""
            INSERT INTO oem.price_list (variant_id, ex_showroom, ex_factory, subsidy_rule, subsidy_per_kwh, subsidy_cap,
                                        subsidy_cap_pct, effective_from)
            VALUES (:v, :p, :p * 0.8, 'PER_KWH', :per, :cap, 15, :from)"""),
            {"v": variant_id, "p": price, "per": per_kwh, "cap": cap, "from": today.replace(day=1)})
        for colour in colours:
            for _ in range(3):
                serial += 1
                vin = f"{DEMO_VIN_PREFIX}{today:%y}{serial:08d}"[:17]
                conn.execute(sa.text("""
                    INSERT INTO inventory.vehicle_unit (vin, motor_no, charger_serial, key_no, variant_id, colour,
                                                        mfg_month, branch_id, status, received_on)
                    VALUES (:vin, :motor, :charger, :key, :v, :c, :mfg, :b, 'IN_STOCK', :rec)"""),
                    {"vin": vin, "motor": f"MTR{today:%y}{serial:06d}", "charger": f"CHG{today:%y}{serial:06d}",
                     "key": f"K{serial:03d}", "v": variant_id, "c": colour, "mfg": today.replace(day=1),
                     "b": blr, "rec": today})
    # What this showroom usually charges besides the scooter (the on-road breakdown's defaults).
    for code, amount in (("INSURANCE", "6500.00"), ("REGISTRATION", "1200.00"), ("HSRP", "450.00")):
        conn.execute(sa.text("UPDATE sales.onroad_item SET default_amount = :a WHERE item_code = :c"),
                     {"a": amount, "c": code})
    for table, names in PARTIES.items():
        for name in names:
            conn.execute(sa.text(f"INSERT INTO {table} (name) VALUES (:n)"), {"n": name})
    for name, mobile, address, city, pincode in CUSTOMERS:
        conn.execute(sa.text("""
            INSERT INTO master.customer (branch_id, name, mobile, address_line1, city, state_code, pincode)
            VALUES (:b, :n, :m, :a, :c, '29', :p)"""), {"b": blr, "n": name, "m": mobile, "a": address, "c": city,
                                                       "p": pincode})
    for part_no, name, hsn, unit, mrp, cost in PARTS:
        part_id = conn.execute(sa.text("""
            INSERT INTO master.part (part_no, name, hsn_code, unit, mrp, purchase_price, reorder_level, reorder_qty)
            VALUES (:no, :n, :h, :u, :mrp, :cost, 2, 10) RETURNING part_id"""),
            {"no": part_no, "n": name, "h": hsn, "u": unit, "mrp": mrp, "cost": cost}).scalar_one()
        conn.execute(sa.text("""
            INSERT INTO inventory.stock_move (branch_id, part_id, kind, qty, unit_cost, reference)
            VALUES (:b, :p, 'OPENING', 10, :cost, :ref)"""),
            {"b": blr, "p": part_id, "cost": cost, "ref": DEMO_OPENING_REFERENCE})
    _seed_warranty(conn, oem_ids, today)


def _seed_warranty(conn: Connection, oem_ids: dict[str, int], today) -> None:
    """The OEMs' free-service schedules, an extended battery plan on sale and an open recall."""
    conn.execute(sa.text("""
        INSERT INTO oem.free_service (model_id, service_no, due_months, due_km)
        SELECT m.model_id, s.n, s.months, s.km FROM oem.model m
         CROSS JOIN (VALUES (1, 1, 1000), (2, 6, 5000), (3, 12, 10000)) s (n, months, km)
        ON CONFLICT (model_id, service_no) DO NOTHING"""))
    conn.execute(sa.text("""
        INSERT INTO warranty.plan (oem_id, name, battery_extra_years, battery_extra_km, price, buy_within_months,
                                   valid_from)
        VALUES (:o, 'Battery Protect (3 more years)', 3, 30000, 6999, 12, :from)"""),
        {"o": oem_ids["Ather Energy"], "from": today.replace(day=1)})
    first = today.replace(day=1)
    # What each OEM pays an hour of warranty labour (its claims' labour lines are priced at it).
    for brand, rate in (("Ather Energy", "450.00"), ("Bajaj Auto", "400.00")):
        conn.execute(sa.text("""
            INSERT INTO warranty.labour_rate (oem_id, rate_per_hour, effective_from) VALUES (:o, :r, :from)"""),
            {"o": oem_ids[brand], "r": rate, "from": first})
    conn.execute(sa.text("""
        INSERT INTO warranty.campaign (oem_id, code, title, kind, opened_on, match_by, model_id, mfg_from, mfg_to,
                                       instructions)
        SELECT :o, 'CHK-RC-2601', 'Side-stand sensor harness re-routing', 'RECALL', :first, 'MFG_RANGE', model_id,
               (:first - interval '2 months')::date, :first,
               'Re-route the harness away from the stand pivot and fit the new clip (kit in the OEM parcel).'
          FROM oem.model WHERE oem_id = :o AND name = 'Chetak'"""), {"o": oem_ids["Bajaj Auto"], "first": first})


# The workshop: scooters bought elsewhere that come here for service, each with its earlier visits
# (odometer and battery readings, the pack's state of health slowly falling) and, for most, a job
# card open today in one of the board's states.
WORKSHOP = [  # owner, mobile, registration, model, colour, sold months ago, km a month, open card's state
    ("Vikram Hegde", "9886012121", "KA01HX4821", "Rizta", "Pearl White", 22, 650, "IN_PROGRESS"),
    ("Sneha Kulkarni", "9886023232", "KA03MV1190", "450X", "Cosmic Black", 30, 900, "WAITING_PARTS"),
    ("Abdul Rahman", "9886034343", "KA05JT7730", "Chetak", "Indigo Metallic", 14, 500, "APPROVED"),
    ("Divya Menon", "9886045454", "KA51EZ0042", "Rizta", "Deccan Grey", 9, 700, "OPEN"),
    ("Naveen Reddy", "9886056565", "KA53AB9911", "Chetak", "Brooklyn Black", 26, 800, "QC"),
    ("Pooja Bhat", "9886067676", "KA02HM3456", "450X", "Cosmic Black", 18, 600, "READY"),
    ("Harish Kumar", "9886078787", "KA04PQ6620", "Rizta", "Pearl White", 12, 550, None),
]
MOVES = {"OPEN": [], "APPROVED": ["APPROVED"], "IN_PROGRESS": ["APPROVED", "IN_PROGRESS"],
         "WAITING_PARTS": ["APPROVED", "IN_PROGRESS", "WAITING_PARTS"], "QC": ["APPROVED", "IN_PROGRESS", "QC"],
         "READY": ["APPROVED", "IN_PROGRESS", "QC", "READY"]}
DONE = ["APPROVED", "IN_PROGRESS", "QC", "READY"]
COMPLAINTS = ["Range has dropped by about 15 km", "Brakes squeak when cold", "Display freezes after charging",
              "Periodic service", "Rattle from the rear at low speed", "Charger fan is noisy"]


# Leads of the demo showroom in every state (crm.lead): name, mobile, source, model, status, follow-up
# in days from today (negative: overdue), the salesperson's code, the next action.
LEADS = [
    ("Sneha Kulkarni", "9886011223", "WEBSITE", "Rizta", "NEW", 0, "S01", "First call"),
    ("Vikram Joshi", "9886022334", "PHONE", "450X", "CONTACTED", -2, "S01", "Send the EMI options"),
    ("Ayesha Siddiqui", "9886033445", "WALK_IN", "Chetak", "TEST_RIDE", 0, "S01", "Call after the test ride"),
    ("Karthik Reddy", "9886044556", "REFERRAL", "Rizta", "NEGOTIATION", 1, "S01", "Revised quotation"),
    ("Divya Menon", "9886055667", "EVENT", "Chetak", "CONTACTED", -5, "S02", "Visit with family"),
    ("Harish Gowda", "9886066778", "OEM_PORTAL", "450X", "NEW", 0, "S02", "First call"),
    ("Nandini Rao", "9886077889", "WALK_IN", "Rizta", "BOOKED", None, "S01", None),
    ("Prakash Bhat", "9886088990", "PHONE", "450X", "LOST", None, "S02", None),
]

# The customers of the demo's booked leads: their bookings are the demo's own (seed/history.py).
DEMO_BOOKED_MOBILES = tuple(mobile for _, mobile, _, _, status, *_ in LEADS if status == "BOOKED")

def _seed_crm(conn: Connection, branch_ids: dict[str, int]) -> None:
    """Leads in every state, follow-ups due today and overdue for S01 and S02, and a demo scooter for test
    rides (one of the demo's own units, so generate-history still takes this showroom) that took a ride."""
    from datetime import timedelta

    from webapp.formatting import today_ist

    today = today_ist()
    blr = branch_ids["BLR1"]
    staff = dict(conn.execute(sa.text("SELECT staff_code, staff_id FROM master.staff WHERE branch_id = :b"),
                              {"b": blr}).all())
    models = dict(conn.execute(sa.text("SELECT name, model_id FROM oem.model")).all())
    leads = {}
    for name, mobile, source, model, status, due, seller, action in LEADS:
        leads[name] = conn.execute(sa.text("""
            INSERT INTO crm.lead (branch_id, lead_date, source, name, mobile, model_id, salesperson_id, status,
                                  budget, finance_needed, follow_up_on, next_action, lost_reason_code, lost_remark,
                                  oem_lead_ref)
            VALUES (:b, :on, :source, :name, :mobile, :model, :s, :status, 150000, :finance, :due, :action,
                    :reason, :remark, :ref) RETURNING lead_id"""),
            {"b": blr, "on": today - timedelta(days=10), "source": source, "name": name, "mobile": mobile,
             "model": models[model], "s": staff[seller], "finance": source in ("PHONE", "EVENT"),
             # The booked lead is booked by its booking (below), as at the counter.
             "status": "NEGOTIATION" if status == "BOOKED" else status,
             "due": None if due is None else today + timedelta(days=due), "action": action,
             "reason": "PRICE" if status == "LOST" else None,
             "remark": "Chose a petrol scooter ₹20,000 cheaper" if status == "LOST" else None,
             "ref": "ATH-LD-000123" if source == "OEM_PORTAL" else None}).scalar_one()
    for name, *_, status, _due, seller, _action in LEADS:
        if status == "BOOKED":
            _book_demo_lead(conn, leads[name], staff[seller], today)
    conn.execute(sa.text("""
        INSERT INTO crm.contact (lead_id, branch_id, outcome, note, staff_id, contacted_at)
        VALUES (:l, :b, 'NO_ANSWER', NULL, :s, now() - interval '3 days'),
               (:l, :b, 'REACHED', 'Wants to compare EMI with the bank', :s, now() - interval '2 days')"""),
        {"l": leads["Vikram Joshi"], "b": blr, "s": staff["S01"]})
    unit_id = conn.execute(sa.text("""
        SELECT unit_id FROM inventory.vehicle_unit WHERE branch_id = :b AND status = 'IN_STOCK'
         ORDER BY unit_id DESC LIMIT 1"""), {"b": blr}).scalar_one()
    conn.execute(sa.text("UPDATE inventory.vehicle_unit SET status = 'DEMO' WHERE unit_id = :u"), {"u": unit_id})
    ride = conn.execute(sa.text("""
        INSERT INTO crm.test_ride (lead_id, branch_id, unit_id, licence_no, licence_valid_until, out_at,
                                   odometer_out, staff_id)
        VALUES (:l, :b, :u, 'KA0520190012345', :valid, now() - interval '3 hours', 35, :s)
        RETURNING test_ride_id"""),
        {"l": leads["Ayesha Siddiqui"], "b": blr, "u": unit_id, "valid": today + timedelta(days=900),
         "s": staff["S01"]}).scalar_one()
    conn.execute(sa.text("""
        UPDATE crm.test_ride SET in_at = now() - interval '2 hours', odometer_in = 43,
                                 feedback = 'Liked the pick-up; worried about the boot space', rating = 4
         WHERE test_ride_id = :r"""), {"r": ride})


def _book_demo_lead(conn: Connection, lead_id: int, salesperson_id: int, today) -> None:
    """The booked lead's booking, made from it through the sales services as at the counter: its
    customer (from the lead's name and mobile), the scooter it came for at today's price; the
    booking moves the lead to BOOKED (sql/functions/93_crm.sql), so the funnel counts it."""
    from datetime import timedelta

    from webapp.sales import services

    lead = conn.execute(sa.text("""
        SELECT l.branch_id, l.name, l.mobile, l.finance_needed, br.state_code,
               (SELECT v.variant_id FROM oem.variant v WHERE v.model_id = l.model_id ORDER BY v.variant_id LIMIT 1)
                   AS variant_id
          FROM crm.lead l JOIN master.branch br ON br.branch_id = l.branch_id WHERE l.lead_id = :l"""),
        {"l": lead_id}).mappings().one()
    conn.execute(sa.text("SELECT set_config('erp.staff_id', :s, true)"), {"s": str(salesperson_id)})
    customer = conn.execute(sa.text("""
        INSERT INTO master.customer (branch_id, name, mobile, city, state_code)
        VALUES (:b, :n, :m, 'Bengaluru', :st) RETURNING customer_id"""),
        {"b": lead["branch_id"], "n": lead["name"], "m": lead["mobile"], "st": lead["state_code"]}).scalar_one()
    quote = services.on_road_price(conn, lead["variant_id"], SOLD_HERE["colour"], today, subsidy=False)
    services.create_booking(conn, branch_id=lead["branch_id"], customer_id=customer, salesperson_id=salesperson_id,
                            quote=quote, booked_on=today, key=str(uuid.uuid4()), lead_id=lead_id,
                            finance_needed=lead["finance_needed"], expected_delivery=today + timedelta(days=21))


def _seed_workshop(conn: Connection, branch_ids: dict[str, int]) -> None:
    from datetime import timedelta

    from webapp.formatting import today_ist

    today = today_ist()
    blr = branch_ids["BLR1"]
    technicians = conn.execute(sa.text(
        "SELECT staff_id FROM master.staff WHERE branch_id = :b AND designation = 'TECHNICIAN' ORDER BY staff_code"),
        {"b": blr}).scalars().all()
    for n, (owner, mobile, reg, model, colour, months, km_month, open_state) in enumerate(WORKSHOP, 1):
        variant_id, kwh = conn.execute(sa.text("""
            SELECT v.variant_id, v.battery_kwh FROM oem.variant v JOIN oem.model m USING (model_id)
             WHERE m.name = :m"""), {"m": model}).one()
        customer = conn.execute(sa.text("""
            INSERT INTO master.customer (branch_id, name, mobile, city, state_code) VALUES (:b, :n, :m, 'Bengaluru', '29')
            RETURNING customer_id"""), {"b": blr, "n": owner, "m": mobile}).scalar_one()
        sold = today - timedelta(days=30 * months)
        vehicle = conn.execute(sa.text("""
            INSERT INTO service.vehicle (vin, motor_no, variant_id, colour, customer_id, registration_no, sale_date,
                                         mfg_month, branch_id)
            VALUES (:vin, :motor, :v, :c, :o, :reg, :sold, :mfg, :b) RETURNING vehicle_id"""),
            {"vin": f"MD9SRV0{today:%y}{n:08d}", "motor": f"SRVM{n:08d}", "v": variant_id, "c": colour, "o": customer,
             "reg": reg, "sold": sold, "mfg": (sold - timedelta(days=60)).replace(day=1), "b": blr}).scalar_one()
        pack = conn.execute(sa.text("""
            INSERT INTO inventory.battery_pack (serial, chemistry, kwh) VALUES (:s, 'LFP', :k) RETURNING pack_id"""),
            {"s": f"SRVPK{today:%y}{n:06d}", "k": kwh}).scalar_one()
        conn.execute(sa.text("""
            INSERT INTO service.pack_fitment (pack_id, vehicle_id, fitted_on, reason)
            VALUES (:p, :v, :d, 'in the vehicle when first seen by the workshop')"""), {"p": pack, "v": vehicle, "d": sold})
        visits = [m for m in (3, 9, 15, 21, 27) if m < months]
        for visit, month in enumerate(visits, 1):
            opened = sold + timedelta(days=30 * month)
            # A free service when the model's schedule has one due on the day at the odometer.
            due = conn.execute(sa.text("""
                SELECT f.service_no FROM oem.variant va
                 CROSS JOIN LATERAL warranty.free_services(va.model_id, :sold, :on, :km, ARRAY(
                     SELECT free_service_no FROM service.job_card
                      WHERE vehicle_id = :v AND service_type = 'FREE_SERVICE' AND state <> 'CANCELLED')) f
                 WHERE va.variant_id = :variant AND f.state = 'DUE'"""),
                {"sold": sold, "on": opened, "km": km_month * month, "v": vehicle, "variant": variant_id}).scalar()
            card = _demo_card(conn, blr, vehicle, opened, km_month * month, due or visit,
                              "FREE_SERVICE" if due else "PAID_SERVICE", COMPLAINTS[(n + visit) % 4 + 2])
            _demo_reading(conn, card, pack, opened, 99 - 1.2 * month / 3 - n % 3, 20 + month * 9)
            for state in DONE:
                conn.execute(sa.text("UPDATE service.job_card SET state = :s WHERE job_card_id = :j"),
                             {"s": state, "j": card})
            # Nothing was billed on these earlier visits: the gate pass lets the scooter out (and
            # moves the card to DELIVERED).
            conn.execute(sa.text("""
                INSERT INTO service.gate_pass (job_card_id, issued_at, received_by_name, idempotency_key)
                VALUES (:j, (SELECT opened_at + interval '5 hours' FROM service.job_card WHERE job_card_id = :j),
                        :owner, :key)"""), {"j": card, "owner": owner, "key": str(uuid.uuid4())})
        if open_state is None:
            continue
        card = _demo_card(conn, blr, vehicle, today, km_month * months, len(visits) + 1, "PAID_SERVICE",
                          COMPLAINTS[n % len(COMPLAINTS)], hours_promised=2 + n % 5,
                          technician=technicians[n % len(technicians)] if open_state != "OPEN" else None)
        if open_state not in ("OPEN",):
            _demo_reading(conn, card, pack, today, 99 - 1.2 * months / 3 - n % 3, 20 + months * 9,
                          imbalance=open_state == "WAITING_PARTS")
        if open_state == "READY":
            # Ready with its estimate approved: a new user makes the invoice, takes the payment and
            # issues the gate pass at once (Bill and gate pass on the job card).
            _demo_paid_service(conn, card, technicians[n % len(technicians)], owner)
        for state in MOVES[open_state]:
            conn.execute(sa.text("UPDATE service.job_card SET state = :s WHERE job_card_id = :j"), {"s": state, "j": card})
        if open_state == "WAITING_PARTS":
            _seed_pending_claim(conn, blr, card, n)


def _seed_pending_claim(conn: Connection, branch: int, card: int, n: int) -> None:
    """The card waiting for parts waits for the OEM: its warranty claim (labour and the battery
    management board, with the failed and the replacement serials, the card's battery reading as
    evidence) submitted on the OEM's portal today and not yet decided."""
    from webapp.formatting import today_ist

    today = today_ist()
    conn.execute(sa.text("""
        INSERT INTO master.labour_operation (operation_code, name, standard_hours, rate)
        VALUES ('BMS-RPL', 'Battery management board replacement and pack re-balance', 2.0, 600)
        ON CONFLICT DO NOTHING"""))
    part = conn.execute(sa.text("""
        INSERT INTO master.part (part_no, name, hsn_code, unit, mrp, purchase_price)
        VALUES ('ATH-BMS-29', 'Battery management board, 2.9 kWh pack', '8714', 'NOS', 8900, 6400)
        RETURNING part_id""")).scalar_one()
    claim = conn.execute(sa.text("""
        INSERT INTO warranty.claim (branch_id, kind, job_card_id, vehicle_id, complaint, cause, correction,
                                    idempotency_key)
        SELECT j.branch_id, 'WARRANTY_REPAIR', j.job_card_id, j.vehicle_id, j.complaints,
               'Battery management board reports a cell imbalance (fault P0A7F) after each full charge',
               'Replace the battery management board and re-balance the pack', :key
          FROM service.job_card j WHERE j.job_card_id = :j
        RETURNING claim_id"""), {"j": card, "key": str(uuid.uuid4())}).scalar_one()
    conn.execute(sa.text("""
        INSERT INTO warranty.claim_line (claim_id, kind, operation_code, description)
        VALUES (:c, 'LABOUR', 'BMS-RPL', '')"""), {"c": claim})
    conn.execute(sa.text("""
        INSERT INTO warranty.claim_line (claim_id, kind, part_id, qty, unit_price, description, failed_serial,
                                         replacement_serial)
        VALUES (:c, 'PART', :p, 1, 0, '', :failed, :new)"""),
        {"c": claim, "p": part, "failed": f"BMS{today:%y}A{n:05d}", "new": f"BMS{today:%y}R{n:05d}"})
    conn.execute(sa.text("""
        INSERT INTO warranty.claim_evidence (claim_id, reading_id)
        SELECT :c, reading_id FROM service.battery_reading WHERE job_card_id = :j"""), {"c": claim, "j": card})
    conn.execute(sa.text("""
        UPDATE warranty.claim SET status = 'SUBMITTED', oem_claim_ref = :ref, submitted_on = raised_on
         WHERE claim_id = :c"""), {"c": claim, "ref": f"ATH-WC-{today:%y%m}{n:04d}"})


def _demo_card(conn: Connection, branch: int, vehicle: int, opened, odometer: int, visit: int, service_type: str,
               complaints: str, hours_promised: int = 6, technician: int | None = None) -> int:
    import uuid
    from datetime import datetime, time, timedelta

    from webapp.formatting import IST

    at = datetime.combine(opened, time(9, 30), IST)
    if opened >= datetime.now(IST).date():
        at = datetime.now(IST) - timedelta(hours=1 + visit % 3)
    return conn.execute(sa.text("""
        INSERT INTO service.job_card (branch_id, vehicle_id, opened_at, service_type, free_service_no, odometer_km,
                                      complaints, promised_at, technician_id, idempotency_key)
        VALUES (:b, :v, :at, :t, :free, :km, :c, :promised, :tech, :key) RETURNING job_card_id"""),
        {"b": branch, "v": vehicle, "at": at, "t": service_type, "free": visit if service_type == "FREE_SERVICE" else None,
         "km": odometer, "c": complaints, "promised": at + timedelta(hours=hours_promised), "tech": technician,
         "key": str(uuid.uuid4())}).scalar_one()


def _demo_paid_service(conn: Connection, card: int, technician: int, owner: str) -> None:
    """A periodic service's labour line on the card (1.5 h at Rs 450, GST on top), approved in person
    by the owner for Rs 797."""
    import uuid

    conn.execute(sa.text("""
        INSERT INTO master.labour_operation (operation_code, name, standard_hours, rate)
        VALUES ('PSV-GEN', 'Periodic service (general check, brakes, electricals)', 1.5, 450)
        ON CONFLICT DO NOTHING"""))
    conn.execute(sa.text("""
        INSERT INTO service.job_line (job_card_id, operation_code, qty, unit_price, price_includes_gst, technician_id)
        VALUES (:j, 'PSV-GEN', 1.5, 450, false, :t)"""), {"j": card, "t": technician})
    conn.execute(sa.text("""
        INSERT INTO service.job_approval (job_card_id, approved_by_name, mode, amount, idempotency_key)
        VALUES (:j, :n, 'IN_PERSON', 797, :k)"""), {"j": card, "n": owner, "k": str(uuid.uuid4())})


def _demo_reading(conn: Connection, card: int, pack: int, on, soh: float, cycles: int, imbalance: bool = False) -> None:
    from datetime import datetime, time

    from webapp.formatting import IST

    conn.execute(sa.text("""
        INSERT INTO service.battery_reading (job_card_id, pack_id, read_at, soh_pct, soc_pct, cycle_count, cell_v_max,
                                             cell_v_min, pack_temp_max_c, insulation_mohm, fault_codes, charger_ok)
        VALUES (:j, :p, least(now(), greatest(:at, (SELECT opened_at FROM service.job_card WHERE job_card_id = :j))),
                :soh, 64, :cycles,
                :vmax, 3.352, 33.5, 18, :faults, true)"""),
        {"j": card, "p": pack, "at": datetime.combine(on, time(10, 15), IST), "soh": round(soh, 2), "cycles": cycles,
         "vmax": 3.481 if imbalance else 3.371, "faults": ["P0A7F"] if imbalance else []})


# A scooter sold here, through the sales flow, that has come back to the workshop ever since: its
# booking, tax invoice, payment, insurance, registration, PDI and delivery; its first and second free
# services and a paid service billed on a service invoice and paid, each with a battery reading (the
# vehicle page draws its SoH trend), each let out on a gate pass; and today it is in again. Sold on the
# first day of a financial year (at least eight months ago), so its invoice is that year's first and a
# generated history numbers its own after it, never dated before it (seed/history.py).
SOLD_HERE = {"owner": "Kiran Patil", "mobile": "9886089898", "address": "41, 2nd Main, Indiranagar",
             "pincode": "560038", "registration": "KA03NE2468", "model": "Rizta", "colour": "Deccan Grey",
             "km_a_day": 26}


def _seed_sold_here(conn: Connection, branch_ids: dict[str, int]) -> None:
    from datetime import date, datetime, time, timedelta
    from decimal import Decimal

    from webapp.billing import api as billing
    from webapp.billing import posting
    from webapp.formatting import IST, today_ist
    from webapp.sales import services

    today = today_ist()
    blr = branch_ids["BLR1"]
    eight_months_ago = today - timedelta(days=240)
    sold = date(eight_months_ago.year - (eight_months_ago.month < 4), 4, 1)   # the financial year's first day
    staff = dict(conn.execute(sa.text("SELECT staff_code, staff_id FROM master.staff WHERE staff_code IN "
                                      "('S01', 'MGR1', 'AC01', 'SA01', 'T01')")).all())

    def acting(code: str) -> None:
        conn.execute(sa.text("SELECT set_config('erp.staff_id', :s, true)"), {"s": str(staff[code])})

    variant_id = conn.execute(sa.text("""
        SELECT v.variant_id FROM oem.variant v JOIN oem.model m USING (model_id) WHERE m.name = :m"""),
        {"m": SOLD_HERE["model"]}).scalar_one()
    # The price on the day it was sold (the demo's list starts this month).
    conn.execute(sa.text("""
        INSERT INTO oem.price_list (variant_id, ex_showroom, ex_factory, subsidy_rule, subsidy_per_kwh, subsidy_cap,
                                    subsidy_cap_pct, effective_from, effective_to)
        SELECT variant_id, ex_showroom, ex_factory, subsidy_rule, subsidy_per_kwh, subsidy_cap, subsidy_cap_pct,
               :sold, effective_from - 1
          FROM oem.price_list WHERE variant_id = :v"""), {"v": variant_id, "sold": sold})
    vin = f"{DEMO_VIN_PREFIX}{sold:%y}90000001"[:17]
    unit = conn.execute(sa.text("""
        INSERT INTO inventory.vehicle_unit (vin, motor_no, charger_serial, key_no, variant_id, colour, mfg_month,
                                            branch_id, status, received_on)
        VALUES (:vin, :motor, :charger, 'K901', :v, :c, :mfg, :b, 'IN_STOCK', :received) RETURNING unit_id"""),
        {"vin": vin, "motor": f"MTR{sold:%y}900001",
         "charger": f"CHG{sold:%y}900001", "v": variant_id, "c": SOLD_HERE["colour"],
         "mfg": (sold - timedelta(days=45)).replace(day=1), "b": blr, "received": sold - timedelta(days=10)}
    ).scalar_one()
    pack = conn.execute(sa.text("""
        INSERT INTO inventory.battery_pack (serial, chemistry, kwh)
        SELECT :s, 'LFP', battery_kwh FROM oem.variant WHERE variant_id = :v RETURNING pack_id"""),
        {"s": f"DEMPK{sold:%y}900001", "v": variant_id}).scalar_one()
    conn.execute(sa.text("""
        INSERT INTO inventory.battery_fitment (pack_id, unit_id, fitted_on, reason)
        VALUES (:p, :u, :d, 'fitted at the factory')"""), {"p": pack, "u": unit, "d": sold - timedelta(days=10)})
    customer = conn.execute(sa.text("""
        INSERT INTO master.customer (branch_id, name, mobile, address_line1, city, state_code, pincode)
        VALUES (:b, :n, :m, :a, 'Bengaluru', '29', :p) RETURNING customer_id"""),
        {"b": blr, "n": SOLD_HERE["owner"], "m": SOLD_HERE["mobile"], "a": SOLD_HERE["address"],
         "p": SOLD_HERE["pincode"]}).scalar_one()

    # The sale: booked, allotted, invoiced, paid, insured, registered, checked and handed over on one day.
    acting("S01")
    quote = services.on_road_price(conn, variant_id, SOLD_HERE["colour"], sold, subsidy=False)
    booking = services.create_booking(conn, branch_id=blr, customer_id=customer, salesperson_id=staff["S01"],
                                      quote=quote, booked_on=sold, key=str(uuid.uuid4()))
    services.allot(conn, booking, unit)
    acting("AC01")
    posting.post_vehicle_invoice(conn, booking, on=sold, key=str(uuid.uuid4()))
    owed = conn.execute(sa.text("SELECT customer_balance FROM billing.booking_balance WHERE booking_id = :b"),
                        {"b": booking}).scalar_one()
    billing.post_receipt(conn, on=sold, mode="UPI", amount=Decimal(owed), key=str(uuid.uuid4()),
                         received_from=SOLD_HERE["owner"], booking_id=booking, reference="UPI 610045872211")
    insurer = conn.execute(sa.text("SELECT insurer_id FROM master.insurer ORDER BY insurer_id LIMIT 1")).scalar_one()
    conn.execute(sa.text("""
        INSERT INTO insurance.policy (branch_id, booking_id, unit_id, customer_id, insurer_id, od_policy_no, od_from,
                                      od_to, tp_policy_no, tp_from, tp_to, premium)
        VALUES (:b, :k, :u, :c, :i, :od, :d, :d + 364, :tp, :d, :d + 1824, 6500)"""),
        {"b": blr, "k": booking, "u": unit, "c": customer, "i": insurer, "d": sold,
         "od": f"OD-{sold:%y}-900001", "tp": f"TP-{sold:%y}-900001"})
    conn.execute(sa.text("""
        INSERT INTO sales.registration (booking_id, form20_on, reg_no, reg_on) VALUES (:b, :d, :r, :d)"""),
        {"b": booking, "d": sold, "r": SOLD_HERE["registration"]})
    conn.execute(sa.text("""
        INSERT INTO sales.pdi_check (booking_id, pdi_item_id, is_ok)
        SELECT :b, pdi_item_id, true FROM sales.pdi_item WHERE is_active"""), {"b": booking})
    acting("S01")
    services.deliver(conn, booking, on=sold, received_by_name=SOLD_HERE["owner"], key=str(uuid.uuid4()),
                     odometer_km=3)
    vehicle = conn.execute(sa.text("""
        INSERT INTO service.vehicle (unit_id, branch_id) VALUES (:u, :b) RETURNING vehicle_id"""),
        {"u": unit, "b": blr}).scalar_one()

    # Its visits: two free services, then a paid service billed and paid; each let out on a gate pass.
    km_a_day = SOLD_HERE["km_a_day"]
    acting("SA01")
    for visit, (days, service_type, soh) in enumerate(((25, "FREE_SERVICE", 99.6), (165, "FREE_SERVICE", 98.4),
                                                       (225, "PAID_SERVICE", 97.7)), 1):
        opened = sold + timedelta(days=days)
        card = _demo_card(conn, blr, vehicle, opened, km_a_day * days, visit, service_type,
                          "Periodic service" if service_type == "FREE_SERVICE" else "Brakes squeak when cold")
        _demo_reading(conn, card, pack, opened, soh, 12 + days // 3)
        paid = service_type == "PAID_SERVICE"
        if paid:
            _demo_paid_service(conn, card, staff["T01"], SOLD_HERE["owner"])
        for state in (["IN_PROGRESS", "QC", "READY"] if paid else DONE):
            conn.execute(sa.text("UPDATE service.job_card SET state = :s WHERE job_card_id = :j"),
                         {"s": state, "j": card})
        if paid:
            number = conn.execute(sa.text("SELECT job_card_no FROM service.job_card WHERE job_card_id = :j"),
                                  {"j": card}).scalar_one()
            invoice = billing.post_service_invoice(
                conn, branch_id=blr, customer_id=customer, invoice_date=opened,
                lines=[{"kind": "LABOUR", "code": "PSV-GEN", "qty": Decimal("1.5"), "unit_price": Decimal("450"),
                        "price_includes_gst": False, "coverage": "CUSTOMER"}],
                idempotency_key=str(uuid.uuid4()),
                vehicle=f"{SOLD_HERE['registration']} · VIN {vin} · {km_a_day * days:,} km", reference=number)
            conn.execute(sa.text("UPDATE service.job_card SET invoice_id = :i WHERE job_card_id = :j"),
                         {"i": invoice, "j": card})
            balance = billing.service_invoice_balance(conn, invoice)["balance"]
            billing.post_receipt(conn, on=opened, mode="UPI", amount=balance, key=str(uuid.uuid4()),
                                 received_from=SOLD_HERE["owner"], invoice_id=invoice, reference="UPI 610045990012")
        conn.execute(sa.text("""
            INSERT INTO service.gate_pass (job_card_id, issued_at, received_by_name, idempotency_key)
            VALUES (:j, :at, :owner, :key)"""),
            {"j": card, "at": datetime.combine(opened, time(16, 30), IST), "owner": SOLD_HERE["owner"],
             "key": str(uuid.uuid4())})
    # In again today: the advisor finds it at arrival by its registration number.
    _demo_card(conn, blr, vehicle, today, km_a_day * (today - sold).days, 4, "PAID_SERVICE",
               "Range has dropped by about 15 km")
    conn.execute(sa.text("SELECT set_config('erp.staff_id', '', true)"))
# Reminder templates in English, Hindi and Kannada (the demo branches are in Karnataka), the rules that use
# them, and customers with and without consent. SMS texts are as registered on the DLT platform (demo ids).
DEMO_TEMPLATES = {  # code: {language: text}; each code for SMS and WhatsApp, some also e-mail and call
    "SERVICE_DUE": {
        "en": "Dear {customer_name}, your {model} ({vehicle_no}) is due for service on {due_date} or at {due_km} km. "
              "Book a slot: {branch_phone} - {branch_name}",
        "hi": "प्रिय {customer_name}, आपके {model} ({vehicle_no}) की सर्विस {due_date} या {due_km} किमी पर देय है। "
              "बुकिंग: {branch_phone} - {branch_name}",
        "kn": "ಪ್ರಿಯ {customer_name}, ನಿಮ್ಮ {model} ({vehicle_no}) ಸರ್ವೀಸ್ {due_date} ಅಥವಾ {due_km} ಕಿ.ಮೀ.ಗೆ ಬಾಕಿ ಇದೆ. "
              "ಬುಕ್ ಮಾಡಲು: {branch_phone} - {branch_name}",
    },
    "FREE_SERVICE": {
        "en": "Dear {customer_name}, free service {free_service_no} of your {model} ({vehicle_no}) lapses on {due_date}. "
              "Call {branch_phone} - {branch_name}",
        "hi": "प्रिय {customer_name}, आपके {model} ({vehicle_no}) की मुफ्त सर्विस {free_service_no} {due_date} को समाप्त "
              "होगी। कॉल करें {branch_phone} - {branch_name}",
        "kn": "ಪ್ರಿಯ {customer_name}, ನಿಮ್ಮ {model} ({vehicle_no}) ಉಚಿತ ಸರ್ವೀಸ್ {free_service_no} {due_date} ರಂದು "
              "ಮುಗಿಯುತ್ತದೆ. ಕರೆ ಮಾಡಿ {branch_phone} - {branch_name}",
    },
    "INSURANCE": {
        "en": "Dear {customer_name}, the {cover} cover of {vehicle_no} (policy {policy_no}) ends on {due_date}. "
              "Renew with us: {branch_phone} - {branch_name}",
        "hi": "प्रिय {customer_name}, {vehicle_no} का {cover} बीमा (पॉलिसी {policy_no}) {due_date} को समाप्त होगा। "
              "नवीनीकरण: {branch_phone} - {branch_name}",
        "kn": "ಪ್ರಿಯ {customer_name}, {vehicle_no} ನ {cover} ವಿಮೆ (ಪಾಲಿಸಿ {policy_no}) {due_date} ರಂದು ಮುಗಿಯುತ್ತದೆ. "
              "ನವೀಕರಿಸಿ: {branch_phone} - {branch_name}",
    },
    "RECALL": {
        "en": "Dear {customer_name}, your {model} ({vehicle_no}) is part of the '{campaign_title}' campaign. The work "
              "is free: call {branch_phone} - {branch_name}",
        "hi": "प्रिय {customer_name}, आपका {model} ({vehicle_no}) '{campaign_title}' अभियान में है। काम मुफ्त है: "
              "{branch_phone} - {branch_name}",
        "kn": "ಪ್ರಿಯ {customer_name}, ನಿಮ್ಮ {model} ({vehicle_no}) '{campaign_title}' ಅಭಿಯಾನದಲ್ಲಿದೆ. ಕೆಲಸ ಉಚಿತ: "
              "{branch_phone} - {branch_name}",
    },
    "BIRTHDAY": {
        "en": "Happy birthday, {customer_name}! Best wishes from all of us at {branch_name}.",
        "hi": "जन्मदिन की शुभकामनाएँ, {customer_name}! {branch_name} की ओर से हार्दिक बधाई।",
        "kn": "ಹುಟ್ಟುಹಬ್ಬದ ಶುಭಾಶಯಗಳು, {customer_name}! {branch_name} ಕಡೆಯಿಂದ ಶುಭ ಹಾರೈಕೆಗಳು.",
    },
}
DEMO_CALLS = {
    "FOLLOW_UP": "Follow up with {customer_name} about their enquiry (due {due_date}).",
    "DELIVERY": "Tell {customer_name} their {model} (booking {booking_no}) is due for delivery on {due_date}.",
    "WARRANTY_END": "Tell {customer_name} the warranty of {vehicle_no} ends on {due_date}; offer an extended plan.",
}
DEMO_RULES = [  # event, days before, channel, template, promotional, quiet hours
    ("SERVICE_DUE", 7, "SMS", "SERVICE_DUE", False, ("21:00", "09:00")),
    ("SERVICE_DUE", 2, "WHATSAPP", "SERVICE_DUE", False, ("21:00", "09:00")),
    ("SERVICE_DUE", 7, "EMAIL", "SERVICE_DUE", False, None),
    ("FREE_SERVICE_LAPSE", 10, "SMS", "FREE_SERVICE", False, ("21:00", "09:00")),
    ("INSURANCE_OD", 15, "SMS", "INSURANCE", False, ("21:00", "09:00")),
    ("INSURANCE_TP", 15, "SMS", "INSURANCE", False, ("21:00", "09:00")),
    ("RECALL", 0, "SMS", "RECALL", False, ("21:00", "09:00")),
    ("BIRTHDAY", 0, "SMS", "BIRTHDAY", True, None),
    ("FOLLOW_UP", 0, "CALL", "FOLLOW_UP", False, None),
    ("DELIVERY_PROMISED", 2, "CALL", "DELIVERY", False, None),
    ("WARRANTY_VEHICLE", 30, "CALL", "WARRANTY_END", False, None),
    ("WARRANTY_BATTERY", 30, "CALL", "WARRANTY_END", False, None),
]


def _seed_communication(conn: Connection) -> None:
    insert = sa.text("""
        INSERT INTO communication.template (code, channel, language, subject, body, dlt_template_id, wa_template_name,
                                            wa_language)
        VALUES (:code, :channel, :lang, :subject, :body, :dlt, :wa, :wal)""")
    n = 0
    for code, texts in DEMO_TEMPLATES.items():
        for language, body in texts.items():
            n += 1
            conn.execute(insert, {"code": code, "channel": "SMS", "lang": language, "subject": None, "body": body,
                                  "dlt": f"1107{170000000000000 + n}", "wa": None, "wal": None})
            conn.execute(insert, {"code": code, "channel": "WHATSAPP", "lang": language, "subject": None, "body": body,
                                  "dlt": None, "wa": code.lower(), "wal": language})
        conn.execute(insert, {"code": code, "channel": "EMAIL", "lang": "en", "body": texts["en"], "dlt": None,
                              "subject": "A reminder from {branch_name}", "wa": None, "wal": None})
    for code, body in DEMO_CALLS.items():
        conn.execute(insert, {"code": code, "channel": "CALL", "lang": "en", "subject": None, "body": body, "dlt": None,
                              "wa": None, "wal": None})
    for event, days, channel, code, promotional, quiet in DEMO_RULES:
        conn.execute(sa.text("""
            INSERT INTO communication.rule (event, days_before, channel, template_code, promotional, quiet_from, quiet_to)
            VALUES (:e, :d, :c, :t, :p, :qf, :qt)"""), {"e": event, "d": days, "c": channel, "t": code, "p": promotional,
                                                        "qf": quiet and quiet[0], "qt": quiet and quiet[1]})
    # Customers with and without consent: Meera opted in to SMS and WhatsApp and reads Kannada (birthday
    # today, so the demo's run wishes her); Rahul opted out of SMS; Fathima was never asked.
    from webapp.formatting import today_ist

    today = today_ist()
    people = dict(conn.execute(sa.text(
        "SELECT mobile, customer_id FROM master.customer WHERE mobile IN ('9845098450', '9900199001')")).all())
    meera, rahul = people.get("9845098450"), people.get("9900199001")
    if meera:
        born = today.replace(year=today.year - 34) if (today.month, today.day) != (2, 29) else today.replace(
            year=today.year - 36)
        conn.execute(sa.text("UPDATE master.customer SET date_of_birth = :d, email = 'meera.k@example.in' "
                             "WHERE customer_id = :c"), {"d": born, "c": meera})
        conn.execute(sa.text("""INSERT INTO communication.consent (customer_id, channel, opted_in, how, note)
                                VALUES (:c, 'SMS', true, 'SIGNED_FORM', 'Booking form'),
                                       (:c, 'WHATSAPP', true, 'SIGNED_FORM', 'Booking form')"""), {"c": meera})
        conn.execute(sa.text("INSERT INTO communication.customer_language VALUES (:c, 'kn')"), {"c": meera})
    if rahul:
        conn.execute(sa.text("""INSERT INTO communication.consent (customer_id, channel, opted_in, how, note)
                                VALUES (:c, 'SMS', false, 'SMS_REPLY', 'Replied STOP')"""), {"c": rahul})


# HR: departments, the branches' shifts and holidays, employment details, leave quotas, a month of punches at the
# front-desk terminal with late marks, and leave applications (one pending, one approved).
DEPARTMENTS = {"Management": ("ADMIN", "MGR1", "MGR2"), "Sales": ("S01", "S02", "S11"), "Service": ("SA01", "T01", "T02", "T11"),
               "Accounts": ("AC01",)}
HOLIDAYS = [("01-26", "Republic Day"), ("05-01", "May Day"), ("08-15", "Independence Day"), ("10-02", "Gandhi Jayanti"),
            ("11-01", "Kannada Rajyotsava"), ("12-25", "Christmas")]


def _seed_hr(conn: Connection, branch_ids: dict[str, int]) -> None:
    """Last month complete (S02 late on four days, T01 a half day, one forgotten out-punch of S01 regularised by
    the manager with its reason, casual leave of S02 approved) and not closed, so accounts can close it; this
    month up to yesterday, with S01's out-punch of the last working day forgotten (on MGR1's team page);
    T01's casual leave next week waiting for MGR1."""
    import hashlib
    import secrets
    from datetime import datetime, timedelta

    from webapp.formatting import IST, today_ist

    today = today_ist()
    staff = dict(conn.execute(sa.text("SELECT staff_code, staff_id FROM master.staff")).all())
    branch_of = dict(conn.execute(sa.text("SELECT staff_code, branch_id FROM master.staff")).all())

    def run(sql: str, **params):
        return conn.execute(sa.text(sql), params)

    departments = {name: run("INSERT INTO hr.department (name) VALUES (:n) RETURNING department_id", n=name).scalar_one()
                   for name in DEPARTMENTS}
    terminals = {}
    for code, branch in branch_ids.items():
        run("""INSERT INTO hr.shift (branch_id, name, starts_at, ends_at, grace_minutes, half_day_hours, absent_hours,
                                     weekly_off, is_default)
               VALUES (:b, 'General', '09:30', '18:30', 10, 6, 3, 2, true)""", b=branch)   # weekly off: Tuesday
        for year in (today.year - 1, today.year):
            for day, name in HOLIDAYS:
                run("INSERT INTO hr.holiday (branch_id, on_date, name) VALUES (:b, :d, :n)", b=branch,
                    d=f"{year}-{day}", n=name)
        manager = staff["MGR1" if code == "BLR1" else "MGR2"]
        terminals[branch] = run("""INSERT INTO hr.terminal (branch_id, name, token_sha256, enabled_by)
                                   VALUES (:b, 'Front desk', :h, :m) RETURNING terminal_id""", b=branch, m=manager,
                                h=hashlib.sha256(secrets.token_bytes(32)).hexdigest()).scalar_one()
    reports_to = {"ADMIN": None, "MGR1": "ADMIN", "MGR2": "ADMIN"}
    for n, (department, codes) in enumerate(DEPARTMENTS.items()):
        for code in codes:
            boss = reports_to.get(code, "MGR1" if branch_of[code] == branch_ids["BLR1"] else "MGR2")
            run("""INSERT INTO hr.employee (staff_id, joined_on, department_id, manager_id, emergency_name,
                                            emergency_relation, emergency_phone)
                   VALUES (:s, :j, :d, :m, 'Family contact', 'Spouse', '9845000000')""",
                s=staff[code], j=today.replace(day=1) - timedelta(days=400 + 30 * n), d=departments[department],
                m=staff[boss] if boss else None)
    for year in (today.year - 1, today.year):
        for code, days, carry in (("CL", 12, 0), ("SL", 12, 0), ("EL", 15, 30)):
            run("INSERT INTO hr.leave_quota (leave_code, year, days, carry_forward_max) VALUES (:c, :y, :d, :f)",
                c=code, y=year, d=days, f=carry)

    first = (today.replace(day=1) - timedelta(days=1)).replace(day=1)   # last month
    holidays = {d for (d,) in run("SELECT on_date FROM hr.holiday WHERE branch_id = :b", b=branch_ids["BLR1"])}
    working = [first + timedelta(days=n) for n in range((today - first).days)
               if (first + timedelta(days=n)).isoweekday() != 2 and first + timedelta(days=n) not in holidays]
    last_month = [d for d in working if d < today.replace(day=1)]
    s02_leave = last_month[6]
    forgotten_regularised = last_month[9]
    forgotten_open = working[-1]

    def at(day, hh: int, mm: int):
        return datetime(day.year, day.month, day.day, hh, mm, tzinfo=IST)

    def as_staff(code: str | None, sql: str, **params):
        """A statement in the name of a staff member, as their request runs it: a correction punch is marked, and
        leave decided, by the reporting manager acting as such (hr.check_punch, hr.check_leave)."""
        if code is None:
            return run(sql, **params)
        acting = run("SELECT current_setting('erp.staff_id', true)").scalar()
        run("SELECT set_config('erp.staff_id', :s, true)", s=str(staff[code]))
        result = run(sql, **params)
        run("SELECT set_config('erp.staff_id', :s, true)", s=acting or "")
        return result

    def punch(code: str, kind: str, when, reason: str | None = None, by: str | None = None):
        branch = branch_of[code]
        as_staff(by, """INSERT INTO hr.punch (branch_id, staff_id, kind, punched_at, terminal_id, reason, marked_by)
                        VALUES (:b, :s, :k, :at, :t, :r, :m)""", b=branch, s=staff[code], k=kind, at=when,
                 t=None if reason else terminals[branch], r=reason, m=staff[by] if by else None)

    for n, code in enumerate(c for codes in DEPARTMENTS.values() for c in codes):
        for day in working:
            if code == "S02" and day == s02_leave:
                continue
            late = code == "S02" and day in last_month[2:12:3]          # four late marks
            arrive = at(day, 9, 52) if late else at(day, 9, 15 + (n * 7 + day.day) % 14)
            punch(code, "IN", arrive)
            if code == "T01" and day == last_month[4]:
                punch(code, "OUT", at(day, 14, 10))                      # a half day
            elif code == "S01" and day == forgotten_regularised:
                punch(code, "OUT", at(day, 18, 40), "Forgot to punch out; left at 18:40 with the last customer", "MGR1")
            elif code == "S01" and day == forgotten_open:
                pass                                                     # forgotten: on MGR1's team page
            else:
                punch(code, "OUT", at(day, 18, 30 + (n * 5 + day.day) % 25))

    def leave(code: str, start, reason: str, half: str | None = None, approve: str | None = None):
        leave_id = run("""INSERT INTO hr.leave_application (branch_id, staff_id, leave_code, from_date, to_date, half, reason)
                          VALUES (:b, :s, 'CL', :f, :f, :h, :r) RETURNING leave_id""",
                       b=branch_of[code], s=staff[code], f=start, h=half, r=reason).scalar_one()
        if approve:
            as_staff(approve, """UPDATE hr.leave_application SET status = 'APPROVED', decided_by = :d, decided_at = now()
                                  WHERE leave_id = :l""", d=staff[approve], l=leave_id)

    leave("S02", s02_leave, "Sister's wedding", approve="MGR1")
    next_week = today + timedelta(days=7)
    if next_week.isoweekday() == 2:
        next_week += timedelta(days=1)
    leave("T01", next_week, "Child's school day")


# Salary structures (from the first of last year) for everyone with employment details, by role, so that a
# payroll run can be tried once accounts close last month's attendance; one salary advance of S01.
PAY_BY_ROLE = {  # monthly gross: basic, HRA, conveyance, special
    "ADMIN": ("120000", "48000", "24000", "1600", "46400"),
    "MANAGER": ("65000", "26000", "13000", "1600", "24400"),
    "ACCOUNTS": ("32000", "15000", "6000", "1600", "9400"),
    "SALES": ("21000", "15000", "3000", "1600", "1400"),
    "SERVICE_ADVISOR": ("26000", "15000", "5200", "1600", "4200"),
    "TECHNICIAN": ("19000", "12000", "3800", "1600", "1600"),
}


def _seed_payroll(conn: Connection) -> None:
    from datetime import timedelta

    from webapp.formatting import today_ist

    today = today_ist()
    start = today.replace(year=today.year - 1, month=1, day=1)
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    people = conn.execute(sa.text("""SELECT s.staff_id, s.staff_code, s.designation, s.branch_id
                                       FROM hr.employee e JOIN master.staff s USING (staff_id)""")).all()
    for staff_id, code, role, branch_id in people:
        gross, basic, hra, conveyance, special = PAY_BY_ROLE.get(role, PAY_BY_ROLE["SALES"])
        conn.execute(sa.text("""INSERT INTO hr.pay_structure (staff_id, effective_from, monthly_gross, basic, hra,
                                                              conveyance, special)
                                VALUES (:s, :f, :g, :b, :h, :c, :x)"""),
                     {"s": staff_id, "f": start, "g": gross, "b": basic, "h": hra, "c": conveyance, "x": special})
        if code == "S01":
            conn.execute(sa.text("""INSERT INTO hr.pay_loan (branch_id, staff_id, kind, amount, instalment, first_month,
                                                             given_on, reason)
                                    VALUES (:b, :s, 'ADVANCE', 6000, 2000, :m, :g, 'Festival advance')"""),
                         {"b": branch_id, "s": staff_id, "m": last_month, "g": last_month})


# The manager MGR1 is on the old tax regime this financial year, with a declaration (80C, 80D, rent in a metro),
# so the run's TDS, payslip and register show the old regime's deductions (webapp/payroll/tax.py).
def _seed_payroll_tax(conn: Connection) -> None:
    from webapp.formatting import today_ist
    from webapp.payroll import queries as payroll
    from webapp.payroll import tax_queries
    from webapp.payroll.tax_forms import fy_start

    fy = fy_start(today_ist())
    manager = conn.execute(sa.text("SELECT staff_id FROM master.staff WHERE staff_code = 'MGR1'")).scalar_one()
    payroll.choose_regime(conn, manager, fy, "OLD")
    tax_queries.declare(conn, manager, fy, section_80c="100000", section_80d="25000", home_loan_interest="0",
                        rent_paid="120000", metro=True)
# Incentive rules from the first of last year: Rs 500 a scooter delivered by a salesperson (Rs 750 a Rizta), Rs 300
# a finance case, Rs 200 a policy; 1 % of a service advisor's service revenue above Rs 50,000 a month. The run
# computes them from the month's documents (a generated history brings many); a manager's adjustment of S01's last
# month (an OEM scheme's exchange bonus) shows one at once.
DEMO_INCENTIVES = [  # role, kind, model, amount, slabs (revenue from, pct)
    ("SALES", "PER_VEHICLE_DELIVERED", None, "500", ()),
    ("SALES", "PER_VEHICLE_DELIVERED", "Rizta", "750", ()),
    ("SALES", "PER_FINANCE_CASE", None, "300", ()),
    ("SALES", "PER_INSURANCE_CASE", None, "200", ()),
    ("SERVICE_ADVISOR", "SERVICE_REVENUE_SLAB", None, None, (("0", "0"), ("50000", "1"))),
]


def _seed_incentives(conn: Connection) -> None:
    from datetime import timedelta
    from decimal import Decimal

    from webapp.formatting import today_ist
    from webapp.payroll import incentive_queries

    today = today_ist()
    start = today.replace(year=today.year - 1, month=1, day=1)
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    for role, kind, model, amount, slabs in DEMO_INCENTIVES:
        model_id = model and conn.execute(sa.text("SELECT model_id FROM oem.model WHERE name = :m"),
                                          {"m": model}).scalar_one()
        incentive_queries.add_rule(conn, role_code=role, kind=kind, model_id=model_id,
                                   amount=amount and Decimal(amount), valid_from=start, valid_to=None, note=None,
                                   slabs=[(Decimal(f), Decimal(p), None) for f, p in slabs])
    staff = dict(conn.execute(sa.text("SELECT staff_code, staff_id FROM master.staff "
                                      "WHERE staff_code IN ('S01', 'MGR1')")).all())
    conn.execute(sa.text("SELECT set_config('erp.staff_id', :s, true)"), {"s": str(staff["MGR1"])})
    seller = conn.execute(sa.text("SELECT branch_id FROM master.staff WHERE staff_id = :s"), {"s": staff["S01"]}).scalar_one()
    incentive_queries.adjust(conn, branch_id=seller, staff_id=staff["S01"], month=last_month, amount=Decimal(1000),
                             reason="OEM exchange-bonus scheme: two scooters taken in exchange")
    conn.execute(sa.text("SELECT set_config('erp.staff_id', '', true)"))
