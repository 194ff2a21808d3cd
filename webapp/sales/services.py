"""Sales documents that change several tables at once, in the caller's transaction: quotation
(the on-road breakdown), booking, allotment and de-allotment, discount decision, delivery.
The stage rules, the allotment race and the PDI gate are held by the database (sql/0006)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..documents import Refused, already_posted, register_document

# Sales documents posted from a form, found again by the form's idempotency key.
register_document("booking", "sales.booking", "booking_id")
register_document("quotation", "sales.quotation", "quotation_id")
register_document("delivery", "sales.delivery", "delivery_id")

ZERO = Decimal("0.00")


# --------------------------------------------------------------------------- on-road price


@dataclass(frozen=True)
class Charge:
    item_code: str
    description: str
    amount: Decimal
    hsn_code: str | None          # None: collected for others (insurer, RTO, plate maker)
    gst_rate: Decimal | None = None

    @property
    def taxable(self) -> bool:
        return self.hsn_code is not None


@dataclass(frozen=True)
class OnRoadPrice:
    """The breakdown a customer is quoted for a variant and colour on a date."""
    variant_id: int
    colour: str
    on: date
    price_id: int
    ex_showroom: Decimal      # GST-inclusive
    vehicle_gst_rate: Decimal
    discount: Decimal
    subsidy: Decimal          # PM E-DRIVE, shown as a deduction
    charges: tuple[Charge, ...] = field(default_factory=tuple)

    @property
    def vehicle_price(self) -> Decimal:
        return self.ex_showroom - self.discount

    @property
    def taxable_charges(self) -> Decimal:
        return sum((c.amount for c in self.charges if c.taxable), ZERO)

    @property
    def other_charges(self) -> Decimal:
        return sum((c.amount for c in self.charges if not c.taxable), ZERO)

    @property
    def on_road(self) -> Decimal:
        """What the sale comes to: vehicle after discount plus every charge."""
        return self.vehicle_price + self.taxable_charges + self.other_charges

    @property
    def customer_pays(self) -> Decimal:
        """On-road less the subsidy (the OEM reimburses that part to the dealer)."""
        return self.on_road - self.subsidy


def price_on(conn: Connection, variant_id: int, colour: str, on: date):
    """The price-list row in force with its subsidy for the variant's battery, or None."""
    return conn.execute(sa.text("""
        SELECT p.price_id, p.ex_showroom, oem.subsidy_amount(p, v.battery_kwh) AS subsidy,
               master.gst_rate_on(v.hsn_code, :on) AS gst_rate
          FROM oem.price_on(:v, :c, :on) p JOIN oem.variant v ON v.variant_id = p.variant_id"""),
        {"v": variant_id, "c": colour, "on": on}).mappings().first()


def onroad_items(conn: Connection, on: date):
    """Active on-road charge items with their GST rate on the day (None: collected for others)."""
    return conn.execute(sa.text("""
        SELECT item_code, name, kind, hsn_code, default_amount, collected_for_others,
               CASE WHEN hsn_code IS NOT NULL THEN master.gst_rate_on(hsn_code, :on) END AS gst_rate
          FROM sales.onroad_item WHERE is_active ORDER BY sort_order, item_code"""), {"on": on}).mappings().all()


def on_road_price(conn: Connection, variant_id: int, colour: str, on: date, *, discount: Decimal = ZERO,
                  amounts: dict[str, Decimal] | None = None, subsidy: bool = True) -> OnRoadPrice:
    """Build the breakdown: price list on the day, discount, subsidy, and the charge items with
    the amounts given (an item left out or at zero is not charged)."""
    price = price_on(conn, variant_id, colour, on)
    if price is None:
        raise Refused(f"No price on {on:%d-%m-%Y} for this variant and colour: add one to the price list")
    if price["gst_rate"] is None:
        raise Refused(f"The tax master has no GST rate for the vehicle on {on:%d-%m-%Y}")
    if discount < 0 or discount >= price["ex_showroom"]:
        raise Refused("The discount must be less than the ex-showroom price")
    amounts = amounts or {}
    charges = []
    for item in onroad_items(conn, on):
        amount = amounts.get(item["item_code"], ZERO)
        if amount and amount > 0:
            if item["hsn_code"] and item["gst_rate"] is None:
                raise Refused(f"The tax master has no GST rate for {item['name']} on {on:%d-%m-%Y}")
            charges.append(Charge(item["item_code"], item["name"], amount, item["hsn_code"], item["gst_rate"]))
    return OnRoadPrice(variant_id, colour, on, price["price_id"], price["ex_showroom"], price["gst_rate"],
                       discount, price["subsidy"] if subsidy else ZERO, tuple(charges))


def save_quotation(conn: Connection, lead_id: int, branch_id: int, quote: OnRoadPrice, valid_until: date, *,
                   key: str) -> int:
    """A quotation as handed to the customer; a repeated form (same key) finds the first one."""
    found = already_posted(conn, "quotation", key)
    if found:
        return found
    quotation_id = conn.execute(sa.text("""
        INSERT INTO sales.quotation (quotation_no, branch_id, lead_id, quoted_on, valid_until, variant_id, colour,
                                     price_id, ex_showroom, gst_rate, discount, subsidy, idempotency_key)
        VALUES (NULL, :branch, :lead, :on, :valid, :variant, :colour, :price, :ex, :rate, :discount, :subsidy, :key)
        RETURNING quotation_id"""), {"key": key,
        "branch": branch_id, "lead": lead_id, "on": quote.on, "valid": valid_until,
        "variant": quote.variant_id, "colour": quote.colour, "price": quote.price_id, "ex": quote.ex_showroom,
        "rate": quote.vehicle_gst_rate, "discount": quote.discount, "subsidy": quote.subsidy}).scalar_one()
    if quote.charges:
        conn.execute(sa.text("""
            INSERT INTO sales.quotation_item (quotation_id, line_no, item_code, description, amount, hsn_code, gst_rate)
            VALUES (:q, :n, :code, :description, :amount, :hsn, :rate)"""), [
            {"q": quotation_id, "n": n, "code": c.item_code, "description": c.description, "amount": c.amount,
             "hsn": c.hsn_code, "rate": c.gst_rate} for n, c in enumerate(quote.charges, start=1)])
    return quotation_id  # its lead moves to NEGOTIATION by trigger (sql/functions/93_crm.sql)


# --------------------------------------------------------------------------- booking


def create_booking(conn: Connection, *, branch_id: int, customer_id: int, salesperson_id: int, quote: OnRoadPrice,
                   booked_on: date, key: str, expected_delivery: date | None = None, finance_needed: bool = False,
                   lead_id: int | None = None, quotation_id: int | None = None,
                   delivery_state_code: str | None = None, delivery_address: str | None = None) -> int:
    """A booking at the quoted terms. The discount is judged against the giver's role limit by
    the database (PENDING when above it)."""
    found = already_posted(conn, "booking", key)
    if found:
        return found
    booking_id = conn.execute(sa.text("""
        INSERT INTO sales.booking (booking_no, branch_id, booked_on, customer_id, lead_id, quotation_id,
                                   salesperson_id, variant_id, colour, expected_delivery, finance_needed,
                                   ex_showroom, discount, subsidy_eligible, delivery_state_code, delivery_address,
                                   idempotency_key)
        VALUES (NULL, :branch, :on, :customer, :lead, :quotation, :salesperson, :variant, :colour, :expected,
                :finance, :ex, :discount, :subsidy, :dstate, :daddress, :key)
        RETURNING booking_id"""), {
        "branch": branch_id, "on": booked_on, "customer": customer_id, "lead": lead_id,
        "quotation": quotation_id, "salesperson": salesperson_id, "variant": quote.variant_id,
        "colour": quote.colour, "expected": expected_delivery, "finance": finance_needed,
        "ex": quote.ex_showroom, "discount": quote.discount, "subsidy": quote.subsidy,
        "dstate": delivery_state_code, "daddress": delivery_address, "key": key}).scalar_one()
    replace_booking_items(conn, booking_id, quote.charges)
    # Its lead is booked (and given the customer) by trigger (sql/functions/93_crm.sql).
    if quote.subsidy > 0:
        conn.execute(sa.text("INSERT INTO sales.subsidy_claim (booking_id, eligible_amount) VALUES (:b, :a)"),
                     {"b": booking_id, "a": quote.subsidy})
    return booking_id


def replace_booking_items(conn: Connection, booking_id: int, charges: tuple[Charge, ...]) -> None:
    conn.execute(sa.text("DELETE FROM sales.booking_item WHERE booking_id = :b"), {"b": booking_id})
    if charges:
        conn.execute(sa.text("""
            INSERT INTO sales.booking_item (booking_id, line_no, item_code, description, amount, hsn_code)
            VALUES (:b, :n, :code, :description, :amount, :hsn)"""), [
            {"b": booking_id, "n": n, "code": c.item_code, "description": c.description, "amount": c.amount,
             "hsn": c.hsn_code} for n, c in enumerate(charges, start=1)])


def suggested_units(conn: Connection, booking_id: int, limit: int = 20):
    """In-stock units of the booked variant and colour at the booking's branch, oldest first."""
    return conn.execute(sa.text("""
        SELECT u.unit_id, u.vin, u.motor_no, u.mfg_month, u.received_on, (CURRENT_DATE - u.received_on) AS age_days
          FROM sales.booking b
          JOIN inventory.vehicle_unit u ON (u.variant_id, u.colour, u.branch_id) = (b.variant_id, b.colour, b.branch_id)
         WHERE b.booking_id = :b AND u.status = 'IN_STOCK'
         ORDER BY u.received_on, u.mfg_month, u.unit_id
         LIMIT :limit"""), {"b": booking_id, "limit": limit}).mappings().all()


def allot(conn: Connection, booking_id: int, unit_id: int) -> int:
    """Allot a unit: the database locks the unit row, so of two people allotting the same unit
    exactly one succeeds; the other gets the constraint 'allotment_unit_in_stock'."""
    return conn.execute(sa.text("""
        INSERT INTO sales.allotment (booking_id, unit_id) VALUES (:b, :u) RETURNING allotment_id"""),
        {"b": booking_id, "u": unit_id}).scalar_one()


def deallot(conn: Connection, booking_id: int, reason: str) -> bool:
    """Release the booking's unit back to stock (only before the invoice)."""
    stage = conn.execute(sa.text("SELECT stage FROM sales.booking WHERE booking_id = :b FOR UPDATE"),
                         {"b": booking_id}).scalar_one()
    if stage != "ALLOTTED":
        raise Refused("Only an allotted booking that is not yet invoiced can give its unit back")
    return conn.execute(sa.text("""
        UPDATE sales.allotment SET released_at = now(), release_reason = :r
         WHERE booking_id = :b AND released_at IS NULL"""), {"b": booking_id, "r": reason}).rowcount == 1


def decide_discount(conn: Connection, booking_id: int, approve: bool, decided_by: int, note: str | None) -> None:
    conn.execute(sa.text("""
        UPDATE sales.booking SET discount_status = :s, discount_decided_by = :by, discount_note = :note
         WHERE booking_id = :b"""), {"b": booking_id, "s": "APPROVED" if approve else "REJECTED",
                                     "by": decided_by, "note": note})


def deliver(conn: Connection, booking_id: int, *, on: date, received_by_name: str, key: str,
            accessories_fitted: str | None = None, odometer_km: int | None = None) -> int:
    """Hand over: the database checks the invoice and the PDI, numbers the delivery note and
    marks the unit DELIVERED."""
    found = already_posted(conn, "delivery", key)
    if found:
        return found
    return conn.execute(sa.text("""
        INSERT INTO sales.delivery (delivery_no, booking_id, delivered_on, unit_id, invoice_id, received_by_name,
                                    accessories_fitted, odometer_km, idempotency_key)
        VALUES (NULL, :b, :on, 0, 0, :name, :acc, :odo, :key) RETURNING delivery_id"""), {
        "b": booking_id, "on": on, "name": received_by_name, "acc": accessories_fitted, "odo": odometer_km,
        "key": key}).scalar_one()
