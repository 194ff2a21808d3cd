"""What the quotation and booking forms share: the variants and on-road charges they offer, the
on-road breakdown of what is typed (services.on_road_price) or of a booking at its agreed price,
and the GST worked back out of an amount."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import request

from ..formatting import inr
from ..gst import taxable_within
from . import queries, services

ZERO = Decimal("0.00")


def int_arg(name: str) -> int | None:
    raw = request.args.get(name, "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def form_failed(form) -> bool:
    return bool(form.errors or form.form_errors)


def gst_inside(amount: Decimal, rate: Decimal | None) -> Decimal | None:
    """The GST contained in a GST-inclusive amount, worked back as the invoice works it (taxable value
    to the paisa, the tax the rest), so the quotation shows the tax the invoice will carry."""
    if rate is None:
        return None
    return amount - taxable_within(amount, rate)


def vehicle_options(conn, on: date, model_id: int | None = None, keep: str | None = None):
    """(value, label) of the variants and colours with a price on the day; `keep` stays listed."""
    rows = queries.vehicle_choices(conn, on, model_id)
    choices = [("", "— choose —")] + [
        (f"{r['variant_id']}:{r['colour']}",
         f"{r['brand']} {r['model_name']} {r['variant_name']} · {r['colour']} · {inr(r['ex_showroom'])}")
        for r in rows]
    return choices


def charge_items(conn, on: date):
    return services.onroad_items(conn, on)


def prefill_charges(form, items, amounts: dict | None = None) -> None:
    """Each charge field at the amount given, else the item's default amount."""
    amounts = amounts if amounts is not None else {i["item_code"]: i["default_amount"] for i in items}
    for code, field in form.charges():
        value = amounts.get(code)
        field.data = value if value else None


def quote_from(conn, form, on: date):
    """The on-road breakdown for what the form holds, or None after marking what is wrong."""
    vehicle = form.vehicle()
    valid = {value for value, _ in form.item.choices if value}
    if vehicle is None or form.item.data not in valid:
        form.item.errors = [*form.item.errors, "Choose the variant and colour from the list"]
        return None
    try:
        return services.on_road_price(conn, vehicle[0], vehicle[1], on, discount=form.discount.data or ZERO,
                                      amounts=form.amounts())
    except services.Refused as exc:
        target = form.discount if "discount" in str(exc) else form.item
        target.errors = [*target.errors, str(exc)]
        return None


def booking_quote(conn, booking, discount: Decimal, amounts: dict, on: date) -> services.OnRoadPrice:
    """The breakdown of a booking at its agreed price, with the discount and charges given."""
    rate = queries.gst_rate_on(conn, booking["hsn_code"], on)
    charges = []
    for item in charge_items(conn, on):
        amount = amounts.get(item["item_code"])
        if amount and amount > 0:
            if item["hsn_code"] and item["gst_rate"] is None:
                raise services.Refused(f"The tax master has no GST rate for {item['name']} on {on:%d-%m-%Y}")
            charges.append(services.Charge(item["item_code"], item["name"], amount, item["hsn_code"],
                                           item["gst_rate"]))
    return services.OnRoadPrice(booking["variant_id"], booking["colour"], on, 0, booking["ex_showroom"], rate,
                                discount, booking["subsidy_eligible"], tuple(charges))


def quote_or_none(conn, form, on: date):
    """The breakdown for what is typed so far, quietly None when it is not complete yet."""
    vehicle = form.vehicle()
    if vehicle is None or form.item.data not in {value for value, _ in form.item.choices if value}:
        return None
    try:
        return services.on_road_price(conn, vehicle[0], vehicle[1], on, discount=form.discount.data or ZERO,
                                      amounts=form.amounts())
    except services.Refused:
        return None
