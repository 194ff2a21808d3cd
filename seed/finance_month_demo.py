"""The demo's month of documents (seed-demo): last month at Indiranagar, posted through the same
services staff use, so that the books, GSTR-1 and the Tally export of a whole month can be tried at
once. Last month is left open (nothing closes it), so it can also be closed.

* Purchases: an order to each OEM, approved and sent; the scooters received on a dispatch list;
  the OEM's tax invoice for each receipt (Ather Energy in Karnataka: CGST and SGST input; Bajaj Auto
  in Maharashtra: IGST input); Ather's invoice paid by NEFT, Bajaj's still payable.
* Vehicle sales, each booked, allotted, invoiced and paid: two to individuals in Bengaluru
  (GSTR-1 b2cs), one to a delivery company registered for GST (b2b), one delivered to a buyer in
  Hosur, Tamil Nadu, above the B2C-large limit (b2cl, IGST). One of the Bengaluru scooters is
  financed: the financier's delivery order comes before the invoice, the buyer pays the down payment
  and the loan is disbursed into the bank a few days later.
* Each scooter handed over after its invoice, as the showroom does it: insured from the invoice day
  (own damage 1 year, third party by the segment), Form 20 filed, the PDI checklist passed, and the
  delivery note. Sold by S01 and S02, so last month's sales incentives (seed/demo.py
  _seed_incentives) have their deliveries, policies and finance case to count.
* Counter sales of parts and accessories at two rates (brake pads 18 %, a charger 5 %): one to a
  buyer in Bengaluru (b2cs), one to the delivery company on credit, returned and reversed by a
  credit note (cdnr).

The HSN summary and the documents issued (doc_issue) follow from the above. The ERP has no
cancelled invoice numbers (an invoice is reversed by a credit note), so doc_issue cancels none.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from webapp.billing import posting
from webapp.formatting import IST, today_ist
from webapp.insurance import queries as insurance
from webapp.insurance.forms import OD_YEARS, TP_YEARS, cover_ends
from webapp.procurement import dispatch
from webapp.procurement import queries as procurement_queries
from webapp.procurement import services as procurement
from webapp.sales import services as sales
from webapp.sales import step_queries
from webapp.validators import gstin_check_character


def _gstin(first14: str) -> str:
    return first14 + gstin_check_character(first14)


FLEET_GSTIN = _gstin("29AAHCG4417L1Z")


@dataclass(frozen=True)
class Buyer:
    name: str
    mobile: str
    address: str
    city: str
    state: str
    pincode: str
    gstin: str | None = None


BUYERS = {
    "nanda": Buyer("Nandakumar S", "9845011122", "7, 3rd Cross, HSR Layout Sector 2", "Bengaluru", "29", "560102"),
    "shalini": Buyer("Shalini Rao", "9900133244", "22, 9th Main, Jayanagar 4th Block", "Bengaluru", "29", "560011"),
    "fleet": Buyer("Greenline Last Mile Private Limited", "8041556677", "Plot 18, KIADB Industrial Area, Bommasandra",
                   "Bengaluru", "29", "560099", FLEET_GSTIN),
    "karthik": Buyer("Karthik Subramanian", "9443055566", "14, Gandhi Road, Mathigiri", "Hosur", "33", "635110"),
}
# The month's customers, by mobile (seed/history.py: their sales are the demo's own).
DEMO_MONTH_MOBILES = tuple(b.mobile for b in BUYERS.values())

# day of last month, buyer, model, colour, mode of payment, its reference; the Hosur buyer takes
# delivery at home in Tamil Nadu (the place of supply), the rest at the showroom.
VEHICLE_SALES = [
    (5, "nanda", "Rizta", "Pearl White", "UPI", "633512004417"),
    (9, "shalini", "450X", "Cosmic Black", "CARD", "CARD 418820"),
    (13, "fleet", "Rizta", "Deccan Grey", "BANK_TRANSFER", "HDFCN52026110088"),
    (17, "karthik", "Chetak", "Brooklyn Black", "UPI", "633517229081"),
]
# The hand-over of each sale: days after the invoice, who signs for the scooter, the insurer (of
# master.insurer, by its name) and the policies' numbers.
HANDOVERS = {
    "nanda": (1, "Nandakumar S", "ICICI Lombard General Insurance", "3005/2811/0417"),
    "shalini": (1, "Shalini Rao", "Digit General Insurance", "D1288455120"),
    "fleet": (2, "Ravi Kumar (fleet supervisor, Greenline)", "Tata AIG General Insurance", "6201-48817703"),
    "karthik": (2, "Karthik Subramanian", "ICICI Lombard General Insurance", "3005/2811/0509"),   # at home, Hosur
}
# The financed sale: buyer, financier, loan, loan account, delivery order's number, the days before the
# invoice it came, the days after the invoice the loan is disbursed, the bank's reference.
FINANCED = ("shalini", "HDFC Bank", Decimal("100000.00"), "TWL0098812044", "HDFC/TW/DO/441902", 1, 3,
            "HDFCN52026110417")
# The salesperson of each sale, in the order of VEHICLE_SALES.
SELLERS = ("S01", "S02", "S01", "S02")
# The OEMs' orders: brand, model, colour per scooter; ordered on the 2nd, received on the day given.
PURCHASES = [("Ather Energy", 3, [("Rizta", "Pearl White"), ("450X", "Cosmic Black"), ("Rizta", "Deccan Grey")]),
             ("Bajaj Auto", 4, [("Chetak", "Brooklyn Black")])]


def seed_finance_month(conn: Connection, branch_ids: dict[str, int]) -> None:
    """Last month's documents at BLR1, each as the role that posts it."""
    blr = branch_ids["BLR1"]
    first = (today_ist().replace(day=1) - timedelta(days=1)).replace(day=1)

    def day(n: int) -> date:
        return first + timedelta(days=n - 1)

    staff = dict(conn.execute(sa.text("SELECT staff_code, staff_id FROM master.staff WHERE staff_code IN "
                                      "('S01', 'S02', 'MGR1', 'AC01', 'T01')")).all())

    def acting(code: str) -> None:
        conn.execute(sa.text("SELECT set_config('erp.staff_id', :s, true)"), {"s": str(staff[code])})

    _price_last_month(conn, first)
    acting("MGR1")
    units = _purchases(conn, blr, day, staff["MGR1"])
    customers = {key: _customer(conn, blr, b) for key, b in BUYERS.items()}

    bookings: dict[str, int] = {}

    def vehicle_sale(on: int, buyer: str, model: str, colour: str, mode: str, reference: str, seller: str) -> None:
        b = BUYERS[buyer]
        acting(seller)
        variant_id = conn.execute(sa.text("""
            SELECT v.variant_id FROM oem.variant v JOIN oem.model m USING (model_id) WHERE m.name = :m"""),
            {"m": model}).scalar_one()
        quote = sales.on_road_price(conn, variant_id, colour, day(on) - timedelta(days=2), subsidy=False)
        away = b.state != "29"
        booking = sales.create_booking(
            conn, branch_id=blr, customer_id=customers[buyer], salesperson_id=staff[seller], quote=quote,
            booked_on=day(on) - timedelta(days=2), key=str(uuid.uuid4()), expected_delivery=day(on),
            delivery_state_code=b.state if away else None,
            delivery_address=f"{b.address}, {b.city} {b.pincode}" if away else None)
        bookings[buyer] = booking
        sales.allot(conn, booking, units[(model, colour)].pop())
        if buyer == FINANCED[0]:
            _finance(conn, booking, FINANCED, day(on))
        acting("AC01")
        posting.post_vehicle_invoice(conn, booking, on=day(on), key=str(uuid.uuid4()))
        owed = posting.booking_balance(conn, booking)["customer_balance"]   # a financed sale: the down payment
        posting.post_receipt(conn, on=day(on), mode=mode, amount=Decimal(owed), key=str(uuid.uuid4()),
                             received_from=b.name, booking_id=booking, reference=reference)
        # Insured and Form 20 filed on the invoice's day, by the salesperson.
        acting(seller)
        _insure(conn, blr, booking, customers[buyer], HANDOVERS[buyer], day(on))
        step_queries.upsert_step(conn, "sales.registration", booking, {"form20_on": day(on)})

    def hand_over(buyer: str, on: date, seller: str) -> None:
        """The PDI passed by the technician, then the delivery note signed by the buyer."""
        booking = bookings[buyer]
        acting("T01")
        # Each item of the checklist as the sale page's PDI form saves it, stamped with the morning of the
        # hand-over (seed-demo writes the month today), which the delivery note prints.
        for item in conn.execute(sa.text("SELECT pdi_item_id FROM sales.pdi_item WHERE is_active")).scalars().all():
            step_queries.save_pdi_check(conn, booking, item, True, None, staff["T01"],
                                        at=datetime.combine(on, time(10, 30), IST))
        acting(seller)
        sales.deliver(conn, booking, on=on, received_by_name=HANDOVERS[buyer][1], key=str(uuid.uuid4()),
                      odometer_km=2 if BUYERS[buyer].state == "29" else 41)

    def disbursed(buyer: str, on: date) -> None:
        """The financier's loan, into the bank against the sale."""
        _, financier, loan, *_, reference = FINANCED
        acting("AC01")
        posting.post_receipt(conn, on=on, mode="FINANCE", amount=loan, key=str(uuid.uuid4()),
                             received_from=financier, booking_id=bookings[buyer], reference=reference)

    parts = dict(conn.execute(sa.text("SELECT part_no, part_id FROM master.part WHERE part_no = ANY(:p)"),
                              {"p": ["ATH-BRK-PAD-F", "ATH-MIRROR-L", "CHK-CHARGER-650"]}).all())

    def spares_for_nanda() -> None:
        """A spare charger and brake pads for the first buyer, paid in cash at the counter."""
        acting("AC01")
        invoice = posting.post_counter_invoice(
            conn, blr, [posting.CounterLine(parts["CHK-CHARGER-650"], Decimal(1)),
                        posting.CounterLine(parts["ATH-BRK-PAD-F"], Decimal(1))],
            on=day(8), key=str(uuid.uuid4()), customer_id=customers["nanda"])
        total = conn.execute(sa.text("SELECT grand_total FROM billing.invoice WHERE invoice_id = :i"),
                             {"i": invoice}).scalar_one()
        posting.post_receipt(conn, on=day(8), mode="CASH", amount=total, key=str(uuid.uuid4()),
                             received_from=BUYERS["nanda"].name, invoice_id=invoice)

    def spares_for_the_fleet() -> None:
        """Mirrors and pads for the delivery company's scooters, on credit; sent back unused, reversed."""
        acting("AC01")
        invoice = posting.post_counter_invoice(
            conn, blr, [posting.CounterLine(parts["ATH-MIRROR-L"], Decimal(4)),
                        posting.CounterLine(parts["ATH-BRK-PAD-F"], Decimal(2))],
            on=day(20), key=str(uuid.uuid4()), customer_id=customers["fleet"])
        posting.post_credit_note(conn, invoice, on=day(24), key=str(uuid.uuid4()),
                                 reason="Returned unused: the mirrors and pads do not fit the fleet's scooters")

    # In the order of their dates: the database keeps a series' documents in date order.
    events = []
    for sale, seller in zip(VEHICLE_SALES, SELLERS):
        on, buyer = sale[0], sale[1]
        events.append((day(on), lambda sale=sale, seller=seller: vehicle_sale(*sale, seller)))
        handed = day(on) + timedelta(days=HANDOVERS[buyer][0])
        events.append((handed, lambda buyer=buyer, handed=handed, seller=seller: hand_over(buyer, handed, seller)))
        if buyer == FINANCED[0]:
            paid = day(on) + timedelta(days=FINANCED[6])
            events.append((paid, lambda buyer=buyer, paid=paid: disbursed(buyer, paid)))
    events += [(day(8), spares_for_nanda), (day(20), spares_for_the_fleet)]
    for _, post in sorted(events, key=lambda e: e[0]):
        post()
    conn.execute(sa.text("SELECT set_config('erp.staff_id', '', true)"))


def _finance(conn: Connection, booking: int, financed: tuple, invoice_day: date) -> None:
    """The finance step of the sale (the sale page's Finance form): the loan and the financier's delivery order."""
    _, financier, loan, account, do_number, do_days_before, *_ = financed
    financier_id = conn.execute(sa.text("SELECT financier_id FROM master.financier WHERE name = :n"),
                                {"n": financier}).scalar_one()
    price = posting.booking_balance(conn, booking)["due"]
    step_queries.upsert_step(conn, "sales.finance", booking, {
        "financier_id": financier_id, "loan_amount": loan, "down_payment": price - loan, "loan_account_no": account,
        "do_number": do_number, "do_received_on": invoice_day - timedelta(days=do_days_before),
        "noc_received_on": None})


def _insure(conn: Connection, branch_id: int, booking: int, customer_id: int, handover: tuple, on: date) -> int:
    """The policy sold with the scooter (the sale page's insurance form): covers from `on`, own damage for a
    year, third party for the segment's years."""
    _, _, insurer, number = handover
    insurer_id = conn.execute(sa.text("SELECT insurer_id FROM master.insurer WHERE name = :n"),
                              {"n": insurer}).scalar_one()
    unit_id = conn.execute(sa.text("SELECT unit_id FROM sales.allotment WHERE booking_id = :b AND released_at IS NULL"),
                           {"b": booking}).scalar_one()
    years = TP_YEARS.get(insurance.model_segment(conn, unit_id), 1)
    return insurance.insert_policy(conn, branch_id=branch_id, booking_id=booking, unit_id=unit_id,
                                   customer_id=customer_id, data={
        "insurer_id": insurer_id, "od_policy_no": f"OD-{number}", "od_from": on, "od_to": cover_ends(on, OD_YEARS),
        "tp_policy_no": f"TP-{number}", "tp_from": on, "tp_to": cover_ends(on, years), "premium": Decimal("6850.00"),
        "idv": None, "nominee_name": None, "nominee_relation": None, "commission_amount": Decimal("0.00"),
        "commission_received_on": None})


def _price_last_month(conn: Connection, first: date) -> None:
    """The demo's price list starts this month: last month's prices, the same, for the variants that
    have none then (the scooter sold here has its own since its sale)."""
    conn.execute(sa.text("""
        INSERT INTO oem.price_list (variant_id, ex_showroom, ex_factory, subsidy_rule, subsidy_per_kwh, subsidy_cap,
                                    subsidy_cap_pct, effective_from, effective_to)
        SELECT p.variant_id, p.ex_showroom, p.ex_factory, p.subsidy_rule, p.subsidy_per_kwh, p.subsidy_cap,
               p.subsidy_cap_pct, :first, p.effective_from - 1
          FROM oem.price_list p
         WHERE p.effective_to IS NULL AND p.effective_from > :first
           AND NOT EXISTS (SELECT 1 FROM oem.price_list q
                            WHERE q.variant_id = p.variant_id AND q.effective_from <= :first
                              AND coalesce(q.effective_to, :first) >= :first)"""), {"first": first})


def _customer(conn: Connection, branch_id: int, b: Buyer) -> int:
    return conn.execute(sa.text("""
        INSERT INTO master.customer (branch_id, kind, name, mobile, address_line1, city, state_code, pincode, gstin)
        VALUES (:br, :kind, :n, :m, :a, :c, :s, :p, :g) RETURNING customer_id"""),
        {"br": branch_id, "kind": "BUSINESS" if b.gstin else "INDIVIDUAL", "n": b.name, "m": b.mobile,
         "a": b.address, "c": b.city, "s": b.state, "p": b.pincode, "g": b.gstin}).scalar_one()


def _purchases(conn: Connection, branch_id: int, day, manager: int) -> dict[tuple[str, str], list[int]]:
    """Each OEM's order, receipt, tax invoice; Ather's paid. Returns the units received by (model, colour)."""
    from seed.demo import DEMO_VIN_PREFIX

    units: dict[tuple[str, str], list[int]] = {}
    serial = 0
    for brand, received, scooters in PURCHASES:
        oem_id = conn.execute(sa.text("SELECT oem_id FROM oem.oem WHERE brand = :b"), {"b": brand}).scalar_one()
        variants = {model: (variant_id, f"{model} {name}") for model, variant_id, name in conn.execute(sa.text("""
            SELECT m.name, v.variant_id, v.name FROM oem.variant v JOIN oem.model m USING (model_id)
             WHERE m.oem_id = :o"""), {"o": oem_id})}
        lines: dict[tuple[str, str], int] = {}
        for model, colour in scooters:
            lines[(model, colour)] = lines.get((model, colour), 0) + 1
        po = procurement.save_purchase_order(
            conn, branch_id=branch_id, oem_id=oem_id,
            header={"order_date": day(2), "expected_date": day(received), "notes": "Stock for the month's bookings"},
            lines=[{"variant_id": variants[model][0], "colour": colour, "part_id": None, "qty": Decimal(qty),
                    "unit_price": None} for (model, colour), qty in lines.items()])
        procurement.approve_purchase_order(conn, po, manager)
        procurement_queries.set_po_status(conn, po, ("APPROVED",), "SENT")
        rows = [dispatch.header_line()]
        for model, colour in scooters:
            serial += 1
            mark = f"{day(received):%y}8{serial:07d}"
            rows.append(dispatch.vehicle_line({
                "vin": f"{DEMO_VIN_PREFIX}{mark}"[:17], "motor_no": f"MTR{mark}", "batteries": f"DEMPK{mark}",
                "charger_serial": f"CHG{mark}", "key_no": f"K8{serial:02d}", "colour": colour, "variant": variants[model][1],
                "mfg_month": f"{day(1) - timedelta(days=20):%m-%Y}"}))
        grn_id, _ = procurement.post_goods_receipt(conn, po_id=po, received_on=day(received),
                                                   dispatch_ref=f"{brand[:3].upper()}-DSP-{serial:05d}",
                                                   dispatch_text="\n".join(rows), parts=[])
        for unit_id, model, colour in conn.execute(sa.text("""
                SELECT u.unit_id, m.name, u.colour FROM procurement.grn_vehicle g
                  JOIN inventory.vehicle_unit u USING (unit_id) JOIN oem.variant v USING (variant_id)
                  JOIN oem.model m USING (model_id) WHERE g.grn_id = :g ORDER BY u.unit_id"""), {"g": grn_id}):
            units.setdefault((model, colour), []).append(unit_id)
        figures = procurement.invoice_figures(conn, branch_id=branch_id, oem_id=oem_id, grn_ids=[grn_id],
                                              on=day(received))
        pinv = procurement.post_purchase_invoice(conn, branch_id=branch_id, oem_id=oem_id, grn_ids=[grn_id], data={
            "supplier_invoice_no": f"{brand[:3].upper()}/KA/{day(received):%y%m}{serial:03d}",
            "invoice_date": day(received), "due_date": day(received) + timedelta(days=30),
            "taxable_value": figures.taxable, "cgst": figures.cgst, "sgst": figures.sgst, "igst": figures.igst,
            "round_off": figures.round_off, "total": figures.total})
        if brand == "Ather Energy":
            procurement_queries.insert_payment(conn, pinv, branch_id, {
                "paid_on": day(18), "amount": figures.total, "mode": "BANK_TRANSFER",
                "reference": "HDFCN52026111877"})
    return units
