"""The steps of a sale after booking: allotment, discount approval, finance, exchange,
subsidy, registration, PDI and delivery, cancellation, and the settings they run on.

Each step has its own page under /sales/bookings/<booking_id>/...; a successful POST goes back
to the sale's page. The rules (stages, the allotment race, the PDI gate, the order of the subsidy
steps, who decides a discount) are the database's (sql/0006, 0007): the views here only turn
its constraint names into what the showroom reads.
"""
from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..billing import posting
from ..billing.documents import branch_for_print
from ..db import contains_pattern, get_conn
from ..formatting import inr, today_ist
from ..forms import apply_db_error, constraint_name, save_or_field_error
from ..money import parse_amount
from ..pages import rows_or_page, search_text
from ..paging import paged
from ..pdf import pdf_response, render_pdf
from ..security import roles
from ..submit_once import twin_posted
from . import bp, queries, services
from .accessories import accessory_lines
from .queries import sale_url
from .step_forms import (
    AllotForm,
    CancelForm,
    DeallotForm,
    DeliveryForm,
    DiscountDecisionForm,
    ExchangeForm,
    FinanceForm,
    HandoverReleaseForm,
    RegistrationForm,
    SubsidyForm,
)

SELLERS = ("SALES", "MANAGER", "ADMIN")
READERS = (*SELLERS, "ACCOUNTS")           # accounts may look at every step's page
DECIDERS = ("MANAGER", "ADMIN")
SUBSIDY_REGISTER = ("MANAGER", "ADMIN", "ACCOUNTS")


# --------------------------------------------------------------------------- helpers


def _booking(booking_id: int, *, lock: bool = False):
    return queries.booking_or_404(get_conn(), booking_id, lock=lock)


def _may_change() -> bool:
    return current_user.role in SELLERS


READ_ONLY = "Your role reads this page; a salesperson or a manager records the step."


def _may_post(form) -> bool:
    """ACCOUNTS reads the step pages; only the sellers change them (the page says so, 422)."""
    if _may_change():
        return True
    form.form_errors.append(READ_ONLY)
    return False


def _to_sale(booking_id: int):
    return redirect(sale_url(booking_id), 303)


def _db_message(exc: sa.exc.DBAPIError) -> str:
    diag = getattr(getattr(exc, "orig", None), "diag", None)
    return getattr(diag, "message_primary", None) or str(exc.orig)


def _page(template: str, form, booking, failed: bool = False, **context):
    status = 422 if request.method == "POST" and (failed or form.errors or form.form_errors) else 200
    return render_template(template, form=form, booking=booking, sale_url=sale_url(booking["booking_id"]),
                           **context), status


def _upsert(conn, table: str, booking_id: int, values: dict) -> None:
    """Insert the step's row of the booking or replace its fields (the table's key is booking_id)."""
    cols = list(values)
    conn.execute(sa.text(f"""
        INSERT INTO {table} (booking_id, {', '.join(cols)})
        VALUES (:booking_id, {', '.join(':' + c for c in cols)})
        ON CONFLICT (booking_id) DO UPDATE SET {', '.join(f'{c} = EXCLUDED.{c}' for c in cols)}"""),
        {"booking_id": booking_id, **values})


def _save_step(conn, form, table: str, booking_id: int, values: dict, errors: dict, message: str):
    """Save one step's row (finance, exchange, subsidy, registration): back to the sale page with the
    message, or None with the database's refusal shown on the form."""
    _, saved = save_or_field_error(conn, form, errors, lambda: _upsert(conn, table, booking_id, values))
    if not saved:
        return None
    flash(message, "success")
    return _to_sale(booking_id)


def _row(conn, table: str, booking_id: int):
    return conn.execute(sa.text(f"SELECT * FROM {table} WHERE booking_id = :b"), {"b": booking_id}).mappings().first()


# --------------------------------------------------------------------------- the panel on the sale's page


PANEL_SQL = """
    SELECT al.allotted_at, alb.name AS allotted_by_name,
           dby.name AS discount_by_name, dlim.max_discount AS discount_limit,
           ddec.name AS discount_decided_by_name,
           fin.financier_id, fr.name AS financier_name, fin.loan_amount, fin.down_payment, fin.do_number,
           fin.do_received_on, fin.noc_received_on,
           ex.make_model AS exchange_make_model, ex.valuation AS exchange_valuation, ex.purchased_on,
           sc.eligible_amount, sc.voucher_id, sc.buyer_signed_on, sc.dealer_uploaded_on, sc.claim_no,
           sc.claim_raised_on, sc.credited_amount, sc.credited_on,
           rg.booking_id IS NOT NULL AS has_registration, rg.form20_on, rg.form21_on, rg.form22_on, rg.temp_reg_no, rg.fees_paid_on,
           rg.reg_no, rg.reg_on, rg.rc_received_on, rg.hsrp_ordered_on, rg.hsrp_fitted_on,
           pdi.items AS pdi_items, pdi.ok AS pdi_ok, pdi.faults AS pdi_faults, pdi.last_at AS pdi_at,
           pdi.checked_by AS pdi_by,
           dl.delivery_id, dl.delivery_no, dl.delivered_on, dl.received_by_name,
           rf.refund_id, rf.refund_no, rf.amount AS refund_amount, rf.cancellation_charge
      FROM sales.booking b
      LEFT JOIN sales.allotment al ON al.booking_id = b.booking_id AND al.released_at IS NULL
      LEFT JOIN master.staff alb ON alb.staff_id = al.allotted_by
      LEFT JOIN master.staff dby ON dby.staff_id = b.discount_by
      LEFT JOIN sales.discount_limit dlim ON dlim.role_code = dby.designation
      LEFT JOIN master.staff ddec ON ddec.staff_id = b.discount_decided_by
      LEFT JOIN sales.finance fin ON fin.booking_id = b.booking_id
      LEFT JOIN master.financier fr ON fr.financier_id = fin.financier_id
      LEFT JOIN sales.exchange ex ON ex.booking_id = b.booking_id
      LEFT JOIN sales.subsidy_claim sc ON sc.booking_id = b.booking_id
      LEFT JOIN sales.registration rg ON rg.booking_id = b.booking_id
      LEFT JOIN LATERAL (
          SELECT count(*) AS items, count(c.pdi_item_id) FILTER (WHERE c.is_ok) AS ok,
                 count(c.pdi_item_id) FILTER (WHERE NOT c.is_ok) AS faults, max(c.checked_at) AS last_at,
                 (SELECT string_agg(DISTINCT s.name, ', ') FROM sales.pdi_check c2
                    JOIN master.staff s ON s.staff_id = c2.checked_by WHERE c2.booking_id = b.booking_id) AS checked_by
            FROM sales.pdi_item i
            LEFT JOIN sales.pdi_check c ON c.pdi_item_id = i.pdi_item_id AND c.booking_id = b.booking_id
           WHERE i.is_active) pdi ON true
      LEFT JOIN LATERAL (
          SELECT * FROM sales.delivery d WHERE d.booking_id = b.booking_id
           ORDER BY d.delivered_at DESC LIMIT 1) dl ON true
      LEFT JOIN LATERAL (
          SELECT * FROM billing.refund r WHERE r.booking_id = b.booking_id
           ORDER BY r.refund_id DESC LIMIT 1) rf ON true
     WHERE b.booking_id = :b"""


def subsidy_pending_step(claim) -> str | None:
    """The next step a subsidy claim waits for, or None when the OEM has credited it."""
    if claim["voucher_id"] is None:
        return "voucher"
    if claim["buyer_signed_on"] is None:
        return "signature"
    if claim["dealer_uploaded_on"] is None:
        return "upload"
    if claim["claim_raised_on"] is None:
        return "claim"
    if claim["credited_on"] is None:
        return "credit"
    return None


SUBSIDY_STEPS = {
    "voucher": "e-voucher id", "signature": "buyer's signature", "upload": "upload on the portal",
    "claim": "claim to the OEM", "credit": "OEM's credit",
}


def steps_context(conn, booking, accessories=None) -> dict:
    """What the sale page's steps panel (templates/sales/_steps.html) needs: one name, ``steps``."""
    row = conn.execute(sa.text(PANEL_SQL), {"b": booking["booking_id"]}).mappings().one()
    role = current_user.role
    stage = booking["stage"]
    subsidy = None
    if row["eligible_amount"] is not None:
        subsidy = {"pending": subsidy_pending_step(row)}
        subsidy["pending_label"] = SUBSIDY_STEPS.get(subsidy["pending"])
    return {"steps": {
        "row": row,
        "subsidy": subsidy,
        "open": stage in ("BOOKED", "ALLOTTED"),
        "show_registration": not booking["is_low_speed"],
        "may_change": role in SELLERS,
        "may_decide": role in DECIDERS,
        "may_cancel": role in SELLERS,
        # The sale page has read the accessory lines already (its agreed terms list them).
        "accessories": accessories if accessories is not None else accessory_lines(conn, booking["booking_id"]),
        "gate": (queries.handover_gate(conn, booking["booking_id"], outstanding=stage == "INVOICED")
                 if stage in ("INVOICED", "DELIVERED") else None),
        "refund_pdf": "billing.refund_pdf" in current_app.view_functions,
    }}


# --------------------------------------------------------------------------- 1. allotment

ALLOT_ERRORS = {
    "allotment_unit_in_stock": ("unit_id", "This unit was just allotted to another booking; pick another"),
    "allotment_unit_once": ("unit_id", "This unit was just allotted to another booking; pick another"),
    "allotment_booking_waiting": ("unit_id", "This booking is no longer waiting for a unit (allotted or closed)"),
    "allotment_booking_once": ("unit_id", "This booking already holds a unit: de-allot it first"),
    "allotment_unit_matches": ("unit_id", "That unit is not the booked variant and colour at this branch"),
    "allotment_unit_id_fkey": ("unit_id", "That unit is not one of those listed: choose one of them"),
}


def _allot_page(booking, form, deallot_form, failed=False):
    units = services.suggested_units(get_conn(), booking["booking_id"])
    form.unit_id.choices = [
        (u["unit_id"], f"{u['vin']} · motor {u['motor_no']} · made {u['mfg_month']:%m-%Y}"
                       + (f" · in stock {u['age_days']} days" if u["age_days"] is not None else ""))
        for u in units]
    ids = [u["unit_id"] for u in units]
    if ids and form.unit_id.data not in ids:
        form.unit_id.data = ids[0]   # oldest first, pre-selected
    return _page("sales/step_allot.html", form, booking, failed, units=units, deallot_form=deallot_form)


@bp.route("/bookings/<int:booking_id>/allot", methods=["GET", "POST"])
@roles(*READERS)
def allot(booking_id: int):
    booking = _booking(booking_id)
    form = AllotForm()
    if request.method == "POST" and _may_post(form) and form.validate_on_submit():
        conn = get_conn()
        _, saved = save_or_field_error(conn, form, ALLOT_ERRORS,
                                       lambda: services.allot(conn, booking_id, form.unit_id.data))
        if saved:
            vin = conn.execute(sa.text("SELECT vin FROM inventory.vehicle_unit WHERE unit_id = :u"),
                               {"u": form.unit_id.data}).scalar()
            flash(f"Unit {vin} allotted to booking {booking['booking_no']}.", "success")
            return _to_sale(booking_id)
        booking = _booking(booking_id)
    return _allot_page(booking, form, DeallotForm(formdata=None))


@bp.post("/bookings/<int:booking_id>/deallot")
@roles(*SELLERS)
def deallot(booking_id: int):
    booking = _booking(booking_id)
    form = DeallotForm()
    if form.validate_on_submit():
        conn = get_conn()
        try:
            with conn.begin_nested():
                released = services.deallot(conn, booking_id, form.reason.data)
        except posting.Refused as exc:
            form.form_errors.append(str(exc))
        else:
            if released:
                flash(f"Unit {booking['vin']} is back in stock; booking {booking['booking_no']} waits for a unit.",
                      "success")
            return _to_sale(booking_id)
    page, _ = _allot_page(booking, AllotForm(formdata=None), form)
    return page, 422


# --------------------------------------------------------------------------- 2. discount approval


@bp.get("/discounts")
@roles(*DECIDERS)
def discount_list():
    rows = get_conn().execute(sa.text("""
        SELECT b.booking_id, b.booking_no, b.booked_on, b.ex_showroom, b.discount, c.name AS customer_name,
               m.name AS model_name, v.name AS variant_name, b.colour, g.name AS given_by, l.max_discount AS role_limit,
               sp.name AS salesperson_name
          FROM sales.booking b
          JOIN master.customer c USING (customer_id)
          JOIN oem.variant v ON v.variant_id = b.variant_id
          JOIN oem.model m ON m.model_id = v.model_id
          JOIN master.staff sp ON sp.staff_id = b.salesperson_id
          LEFT JOIN master.staff g ON g.staff_id = b.discount_by
          LEFT JOIN sales.discount_limit l ON l.role_code = g.designation
         WHERE b.branch_id = :branch AND b.discount_status = 'PENDING' AND b.stage <> 'CANCELLED'
         ORDER BY b.booked_on, b.booking_id"""), {"branch": current_user.branch_id}).mappings().all()
    return render_template("sales/step_discounts.html", rows=rows, sale_link=sale_url)


DISCOUNT_ERRORS = {
    "booking_discount_decider": ("decision", "Only a manager or an administrator decides on a discount."),
    "booking_discount_decision": ("decision", "This discount is not waiting for a decision any more."),
}


@bp.post("/bookings/<int:booking_id>/discount")
@roles(*DECIDERS)
def discount_decide(booking_id: int):
    booking = _booking(booking_id)
    form = DiscountDecisionForm()
    back_to_list = form.back.data == "list"
    if form.validate_on_submit():
        conn = get_conn()
        approve = form.decision.data == "approve"
        _, saved = save_or_field_error(conn, form, DISCOUNT_ERRORS, lambda: services.decide_discount(
            conn, booking_id, approve, current_user.staff_id, form.note.data))
        if saved:
            flash(f"Discount of {inr(booking['discount'])} on booking {booking['booking_no']} "
                  f"{'approved' if approve else 'rejected'}.", "success")
    for errors in form.errors.values():
        for error in errors:
            flash(error, "error")
    for error in form.form_errors:
        flash(error, "error")
    if back_to_list:
        return redirect(url_for("sales.discount_list"), 303)
    return _to_sale(booking_id)


# --------------------------------------------------------------------------- 3. PDI and delivery


def _pdi_rows(conn, booking_id: int):
    return conn.execute(sa.text("""
        SELECT i.pdi_item_id, i.name, c.is_ok, c.remark, c.checked_at, s.name AS checked_by_name
          FROM sales.pdi_item i
          LEFT JOIN sales.pdi_check c ON c.pdi_item_id = i.pdi_item_id AND c.booking_id = :b
          LEFT JOIN master.staff s ON s.staff_id = c.checked_by
         WHERE i.is_active ORDER BY i.sort_order, i.pdi_item_id"""), {"b": booking_id}).mappings().all()


PDI_ERRORS = {
    "pdi_check_fault_remark": "Describe the fault (at least 3 characters)",
    "pdi_check_remark_check": "A remark is at most 200 characters",
}


@bp.route("/bookings/<int:booking_id>/pdi", methods=["GET", "POST"])
@roles(*READERS)
def pdi(booking_id: int):
    booking = _booking(booking_id)
    conn = get_conn()
    items = _pdi_rows(conn, booking_id)
    typed, errors, failed = {}, {}, False
    if request.method == "POST" and not _may_change():
        failed = True
        flash(READ_ONLY, "error")
    elif request.method == "POST":
        if booking["unit_id"] is None:
            flash("Allot a unit before its pre-delivery inspection.", "error")
            return _to_sale(booking_id)
        for item in items:
            n = item["pdi_item_id"]
            typed[n] = {"result": request.form.get(f"result_{n}", ""),
                        "remark": request.form.get(f"remark_{n}", "").strip() or None}
        outer = conn.begin_nested()
        for item in items:
            n = item["pdi_item_id"]
            result = typed[n]["result"]
            if result not in ("OK", "FAULT"):
                continue   # not checked yet
            try:
                with conn.begin_nested():
                    conn.execute(sa.text("""
                        INSERT INTO sales.pdi_check (booking_id, pdi_item_id, is_ok, remark, checked_by, checked_at)
                        VALUES (:b, :i, :ok, :remark, :by, now())
                        ON CONFLICT (booking_id, pdi_item_id) DO UPDATE
                           SET is_ok = EXCLUDED.is_ok, remark = EXCLUDED.remark, checked_by = EXCLUDED.checked_by,
                               checked_at = EXCLUDED.checked_at"""),
                        {"b": booking_id, "i": n, "ok": result == "OK", "remark": typed[n]["remark"],
                         "by": current_user.staff_id})
            except sa.exc.IntegrityError as exc:
                if constraint_name(exc) not in PDI_ERRORS:
                    raise
                errors[n] = PDI_ERRORS[constraint_name(exc)]
        if errors:
            outer.rollback()
            failed = True
        else:
            outer.commit()
            done = sum(1 for t in typed.values() if t["result"] in ("OK", "FAULT"))
            flash(f"PDI saved: {done} of {len(items)} items checked.", "success")
            return _to_sale(booking_id)
    rows = []
    for item in items:
        shown, t = dict(item), typed.get(item["pdi_item_id"])
        if t and t["result"]:   # what was typed, on a refused save
            shown.update(is_ok=t["result"] == "OK", remark=t["remark"])
        shown["error"] = errors.get(item["pdi_item_id"])
        rows.append(shown)
    return render_template("sales/step_pdi.html", booking=booking, items=rows, sale_url=sale_url(booking_id),
                           may_change=_may_change()), 422 if failed else 200


DELIVERY_ERRORS = {
    "delivery_needs_invoice": (None, "Post the tax invoice before handing over the vehicle."),
    "delivery_gate": (None, "The vehicle cannot be handed over yet: see what is outstanding above, "
                            "or ask a manager to release it with a reason."),
    "delivery_odometer_km_check": ("odometer_km", "A new vehicle shows 0 to 1,000 km"),
    "delivery_invoice_id_key": (None, "This vehicle was handed over a moment ago: open the sale again."),
}


def _default_accessories(conn, booking_id: int) -> str | None:
    names = conn.execute(sa.text("""
        SELECT description FROM (
            SELECT 1 AS part, i.line_no, i.description FROM sales.booking_item i JOIN sales.onroad_item o USING (item_code)
             WHERE i.booking_id = :b AND o.kind = 'ACCESSORY'
            UNION ALL
            SELECT 2, a.line_no, a.description || CASE WHEN a.qty <> 1 THEN ' x ' || trim_scale(a.qty) ELSE '' END
              FROM sales.booking_accessory a WHERE a.booking_id = :b) x
         ORDER BY part, line_no"""), {"b": booking_id}).scalars().all()
    return ", ".join(names) or None


@bp.route("/bookings/<int:booking_id>/deliver", methods=["GET", "POST"])
@roles(*READERS)
def deliver(booking_id: int):
    booking = _booking(booking_id)
    conn = get_conn()
    form = DeliveryForm()
    if request.method == "GET":
        form.received_by_name.data = booking["customer_name"]
        form.accessories_fitted.data = _default_accessories(conn, booking_id)
    if not form.key.data:
        form.key.data = posting.new_key()
    if request.method == "POST" and _may_post(form) and form.validate_on_submit():
        try:
            with conn.begin_nested():
                services.deliver(conn, booking_id, on=form.delivered_on.data,
                                 received_by_name=form.received_by_name.data, key=form.key.data,
                                 accessories_fitted=form.accessories_fitted.data,
                                 odometer_km=form.odometer_km.data)
        except sa.exc.IntegrityError as exc:
            if twin_posted(conn, exc, "delivery", form.key.data):
                return _to_sale(booking_id)
            if constraint_name(exc) == "delivery_needs_pdi":
                missing = _db_message(exc).split(":", 1)[-1].strip()
                form.form_errors.append(f"PDI is not complete. Still to be checked OK: {missing}")
            elif not apply_db_error(form, exc, DELIVERY_ERRORS):
                raise
        else:
            flash(f"Vehicle handed over to {form.received_by_name.data}. Print the delivery note and gate pass.",
                  "success")
            return _to_sale(booking_id)
    return _deliver_page(conn, form, booking)


def _deliver_page(conn, form, booking, release_form=None):
    booking_id = booking["booking_id"]
    delivery_id = conn.execute(sa.text("""
        SELECT delivery_id FROM sales.delivery WHERE booking_id = :b ORDER BY delivered_at DESC LIMIT 1"""),
        {"b": booking_id}).scalar()
    gate = queries.handover_gate(conn, booking_id) if booking["stage"] == "INVOICED" else None
    if release_form is None and gate and gate["missing"] and not gate["release"] and current_user.role in DECIDERS:
        release_form = HandoverReleaseForm(formdata=None)
    failed = bool(release_form is not None and release_form.errors)
    return _page("sales/step_deliver.html", form, booking, failed=failed, delivery_id=delivery_id, gate=gate,
                 release_form=release_form)


RELEASE_ERRORS = {
    "handover_release_invoiced": (None, "Only an invoiced sale waiting for its hand-over is released."),
    "handover_release_by_manager": (None, "Only a manager or an administrator releases a vehicle."),
    "handover_release_invoice_id_key": (None, "This sale's hand-over is already released."),
    "handover_release_reason_check": ("reason", "5 to 300 characters"),
}


@bp.post("/bookings/<int:booking_id>/deliver/release")
@roles(*DECIDERS)
def release_handover(booking_id: int):
    """A manager lets the vehicle go with something outstanding: the reason and what was missing are
    kept (audited) and shown on the sale page."""
    booking = _booking(booking_id, lock=True)
    conn = get_conn()
    release_form = HandoverReleaseForm()
    if release_form.validate_on_submit():
        _, saved = save_or_field_error(conn, release_form, RELEASE_ERRORS, lambda: conn.execute(sa.text("""
            INSERT INTO sales.handover_release (booking_id, invoice_id, reason, missing)
            VALUES (:b, 0, :r, '')"""), {"b": booking_id, "r": release_form.reason.data}))
        if saved:
            flash("Hand-over released: the vehicle may go with what is outstanding.", "success")
            return redirect(url_for("sales.deliver", booking_id=booking_id), 303)
    form = DeliveryForm(formdata=None)
    form.received_by_name.data = booking["customer_name"]
    form.key.data = posting.new_key()
    return _deliver_page(conn, form, booking, release_form)


def delivery_note(conn, delivery_id: int):
    """Everything the delivery note and gate pass prints."""
    return conn.execute(sa.text("""
        SELECT d.delivery_id, d.delivery_no, d.delivered_on, d.delivered_at, d.received_by_name,
               d.accessories_fitted, d.odometer_km, hb.name AS handed_over_by_name,
               b.booking_no, b.colour, c.name AS customer_name, c.mobile AS customer_mobile,
               concat_ws(', ', c.address_line1, c.address_line2, c.city, c.pincode) AS customer_address,
               sp.name AS salesperson_name,
               br.legal_name, br.trade_name, br.address_line1, br.address_line2, br.city, br.pincode, br.gstin,
               br.phone, br.email, br.state_code, st.name AS state_name,
               o.brand AS oem_name, m.name AS model_name, v.name AS variant_name, v.battery_kwh,
               u.vin, u.motor_no, u.charger_serial, u.key_no,
               (SELECT string_agg(p.serial, ', ' ORDER BY p.serial) FROM inventory.battery_fitment f
                  JOIN inventory.battery_pack p USING (pack_id)
                 WHERE f.unit_id = u.unit_id AND f.removed_on IS NULL) AS battery_serials,
               i.invoice_no, i.invoice_date,
               (SELECT string_agg(DISTINCT s.name, ', ') FROM sales.pdi_check pc
                  JOIN master.staff s ON s.staff_id = pc.checked_by WHERE pc.booking_id = b.booking_id) AS pdi_by,
               (SELECT max(pc.checked_at) FROM sales.pdi_check pc WHERE pc.booking_id = b.booking_id) AS pdi_at,
               rg.temp_reg_no, rg.reg_no
          FROM sales.delivery d
          JOIN sales.booking b ON b.booking_id = d.booking_id
          JOIN master.customer c ON c.customer_id = b.customer_id
          JOIN master.staff sp ON sp.staff_id = b.salesperson_id
          JOIN master.branch br ON br.branch_id = b.branch_id
          JOIN master.state st ON st.state_code = br.state_code
          JOIN oem.variant v ON v.variant_id = b.variant_id
          JOIN oem.model m ON m.model_id = v.model_id
          JOIN oem.oem o ON o.oem_id = m.oem_id
          JOIN inventory.vehicle_unit u ON u.unit_id = d.unit_id
          JOIN billing.invoice i ON i.invoice_id = d.invoice_id
          LEFT JOIN master.staff hb ON hb.staff_id = d.handed_over_by
          LEFT JOIN sales.registration rg ON rg.booking_id = b.booking_id
         WHERE d.delivery_id = :d"""), {"d": delivery_id}).mappings().one()


@bp.get("/deliveries/<int:delivery_id>/delivery-note.pdf")
@roles(*READERS)
def delivery_pdf(delivery_id: int):
    conn = get_conn()
    booking_id = conn.execute(sa.text("SELECT booking_id FROM sales.delivery WHERE delivery_id = :d"),
                              {"d": delivery_id}).scalar()
    if booking_id is None:
        abort(404)
    _booking(booking_id)   # the branch's, and a salesperson's own
    note = delivery_note(conn, delivery_id)
    pdf = render_pdf("sales/delivery_pdf.html", note=note, branch=branch_for_print(conn, current_user.branch_id))
    return pdf_response(pdf, f"delivery-{note['delivery_no']}.pdf".replace("/", "-"))


# --------------------------------------------------------------------------- 4. finance

FINANCE_ERRORS = {
    "finance_do_complete": ("do_received_on", "A delivery order has both its number and the date it came"),
    "finance_loan_amount_check": ("loan_amount", "More than zero"),
    "finance_financier_id_fkey": ("financier_id", "Choose a financier from the list"),
}


def _financier_choices(conn, current: int | None):
    rows = conn.execute(sa.text("""
        SELECT financier_id, name FROM master.financier WHERE is_active OR financier_id = :c ORDER BY name"""),
        {"c": current}).all()
    return [(-1, "— choose —")] + [(r.financier_id, r.name) for r in rows]


@bp.route("/bookings/<int:booking_id>/finance", methods=["GET", "POST"])
@roles(*READERS)
def finance(booking_id: int):
    booking = _booking(booking_id)
    conn = get_conn()
    saved_row = _row(conn, "sales.finance", booking_id)
    form = FinanceForm(data=dict(saved_row) if saved_row and request.method == "GET" else None)
    form.financier_id.choices = _financier_choices(conn, saved_row["financier_id"] if saved_row else None)
    if request.method == "POST" and _may_post(form) and form.validate_on_submit():
        if form.financier_id.data not in {c for c, _ in form.financier_id.choices[1:]}:
            form.financier_id.errors.append("Choose a financier from the list")
        else:
            values = {k: form[k].data for k in ("financier_id", "loan_amount", "loan_account_no", "do_number",
                                                 "do_received_on", "noc_received_on")}
            values["down_payment"] = form.down_payment.data or Decimal(0)
            saved = _save_step(conn, form, "sales.finance", booking_id, values, FINANCE_ERRORS,
                               "Finance details saved.")
            if saved:
                return saved
    return _page("sales/step_form.html", form, booking, failed=bool(form.financier_id.errors),
                 title="Finance and hypothecation", action=url_for("sales.finance", booking_id=booking_id),
                 hint="The loan amount caps the finance disbursement receipts taken on the money panel.")


# --------------------------------------------------------------------------- 5. exchange

EXCHANGE_ERRORS = {
    "exchange_reg_no_check": ("reg_no", "4 to 12 letters and digits, e.g. KA05AB1234"),
    "exchange_valuation_check": ("valuation", "More than zero"),
}


@bp.route("/bookings/<int:booking_id>/exchange", methods=["GET", "POST"])
@roles(*READERS)
def exchange(booking_id: int):
    booking = _booking(booking_id)
    conn = get_conn()
    saved_row = _row(conn, "sales.exchange", booking_id)
    form = ExchangeForm(data=dict(saved_row) if saved_row and request.method == "GET" else None)
    if request.method == "POST" and _may_post(form) and form.validate_on_submit():
        values = {k: form[k].data for k in ("make_model", "reg_no", "mfg_year", "odometer_km", "valuation",
                                             "purchased_on", "notes")}
        values["valued_by"] = current_user.staff_id
        saved = _save_step(conn, form, "sales.exchange", booking_id, values, EXCHANGE_ERRORS,
                           "Exchange vehicle saved. Its value reaches the sale as an exchange receipt.")
        if saved:
            return saved
    return _page("sales/step_form.html", form, booking, title="Exchange of an old vehicle",
                 action=url_for("sales.exchange", booking_id=booking_id),
                 hint="The old vehicle is bought from the customer at this valuation; take it against the sale as a "
                      "receipt of mode Exchange on the money panel.")


# --------------------------------------------------------------------------- 6. subsidy

SUBSIDY_ERRORS = {
    "subsidy_signed_needs_voucher": ("buyer_signed_on", "The buyer signs the e-voucher: enter its id first"),
    "subsidy_upload_after_sign": ("dealer_uploaded_on", "Upload after the buyer has signed: enter that date first"),
    "subsidy_claim_after_upload": ("claim_raised_on", "The claim follows the upload: enter the upload date first"),
    "subsidy_claim_no": ("claim_no", "A claim has both its number and the date it was raised"),
    "subsidy_credit_after_claim": ("credited_on", "The OEM credits a claim: raise the claim first"),
    "subsidy_credit_complete": ("credited_amount", "Enter both the amount credited and the date"),
    "subsidy_claim_voucher_id_check": ("voucher_id", "4 to 40 letters, digits, / or -"),
    "subsidy_claim_eligible_amount_check": ("eligible_amount", "More than zero"),
}


@bp.route("/bookings/<int:booking_id>/subsidy", methods=["GET", "POST"])
@roles(*READERS)
def subsidy(booking_id: int):
    booking = _booking(booking_id)
    conn = get_conn()
    saved_row = _row(conn, "sales.subsidy_claim", booking_id)
    if request.method == "GET":
        data = dict(saved_row) if saved_row else {"eligible_amount": booking["subsidy_eligible"] or None}
        form = SubsidyForm(data=data)
    else:
        form = SubsidyForm()
        if _may_post(form) and form.validate_on_submit():
            values = {k: form[k].data for k in ("eligible_amount", "voucher_id", "buyer_signed_on",
                                                 "dealer_uploaded_on", "claim_no", "claim_raised_on",
                                                 "credited_amount", "credited_on")}
            saved = _save_step(conn, form, "sales.subsidy_claim", booking_id, values, SUBSIDY_ERRORS,
                               "Subsidy claim saved.")
            if saved:
                return saved
    return _page("sales/step_form.html", form, booking, title="PM E-DRIVE subsidy claim",
                 action=url_for("sales.subsidy", booking_id=booking_id),
                 hint="Steps in order: e-voucher id, buyer's signature, upload on the portal, claim to the OEM, "
                      "the OEM's credit. The subsidy reaches the sale as a receipt of mode Subsidy.")


SUBSIDY_FILTERS = {
    "": "All claims", "pending": "Not yet credited", **{k: f"Waiting for the {v}" for k, v in SUBSIDY_STEPS.items()},
    "credited": "Credited",
}
PENDING_SQL = {
    "pending": "sc.credited_on IS NULL",
    "voucher": "sc.voucher_id IS NULL",
    "signature": "sc.voucher_id IS NOT NULL AND sc.buyer_signed_on IS NULL",
    "upload": "sc.buyer_signed_on IS NOT NULL AND sc.dealer_uploaded_on IS NULL",
    "claim": "sc.dealer_uploaded_on IS NOT NULL AND sc.claim_raised_on IS NULL",
    "credit": "sc.claim_raised_on IS NOT NULL AND sc.credited_on IS NULL",
    "credited": "sc.credited_on IS NOT NULL",
}


@bp.get("/subsidy-claims")
@roles(*SUBSIDY_REGISTER)
def subsidy_list():
    conn = get_conn()
    step = request.args.get("step", "pending")
    step = step if step in SUBSIDY_FILTERS else "pending"
    q = search_text()
    where = ["b.branch_id = :branch", "b.stage <> 'CANCELLED'"]
    params = {"branch": current_user.branch_id}
    if step:
        where.append(PENDING_SQL[step])
    if q:
        where.append("(b.booking_no ILIKE :q OR c.name ILIKE :q OR sc.voucher_id ILIKE :q OR sc.claim_no ILIKE :q)")
        params["q"] = contains_pattern(q)
    base = f"""
        FROM sales.subsidy_claim sc
        JOIN sales.booking b ON b.booking_id = sc.booking_id
        JOIN master.customer c ON c.customer_id = b.customer_id
        JOIN oem.variant v ON v.variant_id = b.variant_id
        JOIN oem.model m ON m.model_id = v.model_id
        LEFT JOIN billing.invoice i ON i.invoice_id = b.invoice_id
       WHERE {' AND '.join(where)}"""
    totals = conn.execute(sa.text(f"""
        SELECT count(*) AS claims, coalesce(sum(sc.eligible_amount), 0) AS eligible,
               coalesce(sum(sc.credited_amount), 0) AS credited {base}"""), params).mappings().one()

    def search(number, size):
        rows = conn.execute(sa.text(f"""
            SELECT sc.*, b.booking_no, b.stage, c.name AS customer_name, m.name AS model_name,
                   v.name AS variant_name, i.invoice_no, i.invoice_date {base}
             ORDER BY coalesce(i.invoice_date, b.booked_on), b.booking_id
             LIMIT :limit OFFSET :offset"""), {**params, "limit": size, "offset": (number - 1) * size}).mappings().all()
        return [{**r, "pending_label": SUBSIDY_STEPS.get(subsidy_pending_step(r))} for r in rows], totals["claims"]

    rows, page = paged(search)
    return rows_or_page("sales/step_subsidy_list.html", "sales/step_subsidy_rows.html", "subsidy-results",
                        rows=rows, page=page, totals=totals, step=step, q=q, filters=SUBSIDY_FILTERS,
                        sale_link=sale_url)


# --------------------------------------------------------------------------- 7. registration

REGISTRATION_ERRORS = {
    "registration_not_low_speed": (None, "A low-speed model is not registered with the RTO: nothing to record."),
    "registration_fees_complete": ("fees_paid_on", "Enter both the fees and the date they were paid"),
    "registration_number_dated": ("reg_on", "Enter both the permanent number and the date of registration"),
    "registration_rc_after_number": ("rc_received_on", "The RC comes after the permanent number: enter it first"),
    "registration_hsrp_order": ("hsrp_ordered_on", "A plate is fitted after it is ordered: enter the order date"),
    "registration_reg_no_idx": ("reg_no", "This registration number is already recorded on another sale"),
    "registration_reg_no_check": ("reg_no", "Not a registration number: e.g. KA05AB1234 or 22BH1234AA"),
    "registration_temp_reg_no_check": ("temp_reg_no", "4 to 20 letters, digits, / or -"),
}


@bp.route("/bookings/<int:booking_id>/registration", methods=["GET", "POST"])
@roles(*READERS)
def registration(booking_id: int):
    booking = _booking(booking_id)
    conn = get_conn()
    saved_row = _row(conn, "sales.registration", booking_id)
    form = RegistrationForm(data=dict(saved_row) if saved_row and request.method == "GET" else None)
    if request.method == "POST" and _may_post(form) and form.validate_on_submit():
        values = {k: form[k].data for k in ("form20_on", "form21_on", "form22_on", "temp_reg_no", "fees_amount",
                                             "fees_paid_on", "reg_no", "reg_on", "rc_received_on",
                                             "hsrp_ordered_on", "hsrp_fitted_on")}
        if saved_row is None and all(v is None for v in values.values()):
            flash("Nothing to record yet: enter a date or a number.", "error")
            return _to_sale(booking_id)
        saved = _save_step(conn, form, "sales.registration", booking_id, values, REGISTRATION_ERRORS,
                           "Registration details saved.")
        if saved:
            return saved
    hint = ("This is a low-speed model (up to 25 km/h): it needs no RTO registration, number plate or RC."
            if booking["is_low_speed"] else
            "Form 20 is the application, Form 21 the sale certificate, Form 22 the OEM's roadworthiness certificate.")
    return _page("sales/step_form.html", form, booking, title="RTO registration",
                 action=url_for("sales.registration", booking_id=booking_id), hint=hint,
                 closed=booking["is_low_speed"])


# --------------------------------------------------------------------------- 8. cancellation

CANCEL_ERRORS = {
    "refund_reference": ("reference", "Give the UTR or cheque number of the refund"),
    "refund_not_above_excess": ("cancellation_charge", "More than was received on this booking"),
    "booking_cancel_reason_check": ("reason", "3 to 200 characters"),
    "booking_cancel_without_unit": (None, "De-allot the unit before cancelling"),
    "booking_stage_transition": (None, "This booking can no longer be cancelled"),
}


@bp.route("/bookings/<int:booking_id>/cancel", methods=["GET", "POST"])
@roles(*SELLERS)
def cancel(booking_id: int):
    booking = _booking(booking_id)
    conn = get_conn()
    form = CancelForm()
    if not form.key.data:
        form.key.data = posting.new_key()
    if request.method == "POST" and booking["stage"] in ("BOOKED", "ALLOTTED") and form.validate_on_submit():
        try:
            with conn.begin_nested():
                refund_id = posting.cancel_booking(
                    conn, booking_id, on=today_ist(), reason=form.reason.data, key=form.key.data,
                    cancellation_charge=form.cancellation_charge.data or Decimal(0),
                    refund_mode=form.refund_mode.data, reference=form.reference.data)
        except posting.Refused as exc:
            form.form_errors.append(str(exc))
        except sa.exc.IntegrityError as exc:
            if twin_posted(conn, exc, "refund", form.key.data):
                return _to_sale(booking_id)
            if not apply_db_error(form, exc, CANCEL_ERRORS):
                raise
        else:
            refund = conn.execute(sa.text("SELECT refund_no, amount FROM billing.refund WHERE refund_id = :r"),
                                  {"r": refund_id}).mappings().first() if refund_id else None
            flash(f"Booking {booking['booking_no']} cancelled."
                  + (f" Refund voucher {refund['refund_no']} for {inr(refund['amount'])}." if refund else ""),
                  "success")
            return _to_sale(booking_id)
    elif request.method == "POST" and booking["stage"] not in ("BOOKED", "ALLOTTED"):
        form.form_errors.append(f"Booking {booking['booking_no']} is {booking['stage'].lower()}: only a booking "
                                "not yet invoiced is cancelled here (after the invoice, a credit note).")
    received = posting.booking_balance(conn, booking_id)["received"]
    return _page("sales/step_cancel.html", form, booking, received=received)


# --------------------------------------------------------------------------- 9. settings

SETTINGS_ROLES = ("ADMIN", "MANAGER")
SETTINGS_ERRORS = {
    "discount_limit_max_discount_check": "A discount limit cannot be negative.",
    "pdi_item_name_key": "Two checklist items cannot have the same name.",
    "pdi_item_name_check": "A checklist item's name is 2 to 120 characters.",
    "pdi_item_sort_order_check": "The order is a whole number.",
    "onroad_item_default_amount_check": "A default amount cannot be negative.",
}


def _settings_page(errors: list[str] | None = None, typed=None):
    conn = get_conn()
    limits = conn.execute(sa.text("""
        SELECT r.role_code, r.name, l.max_discount FROM master.role r
          LEFT JOIN sales.discount_limit l USING (role_code) ORDER BY r.role_code""")).mappings().all()
    pdi_items = conn.execute(sa.text(
        "SELECT * FROM sales.pdi_item ORDER BY sort_order, pdi_item_id")).mappings().all()
    onroad = conn.execute(sa.text(
        "SELECT * FROM sales.onroad_item ORDER BY sort_order, item_code")).mappings().all()
    return render_template("sales/step_settings.html", limits=limits, pdi_items=pdi_items, onroad=onroad,
                           errors=errors or [], typed=typed or {}), 422 if errors else 200


def _amount(raw: str | None):
    """'5,000' -> Decimal('5000'); '' -> None; anything else (e.g. '1e5') -> ValueError."""
    value = parse_amount(raw)
    if value is not None and value >= 10**10:
        raise ValueError(raw)
    return value


def _save_settings(action, done: str):
    """Run the change in a savepoint: saved -> back to the page; refused -> the page with the reason."""
    conn = get_conn()
    errors: list[str] = []
    try:
        with conn.begin_nested():
            action(conn, errors)
            if errors:
                raise _Undo
    except _Undo:
        pass
    except sa.exc.IntegrityError as exc:
        name = constraint_name(exc)
        if name not in SETTINGS_ERRORS:
            raise
        errors.append(SETTINGS_ERRORS[name])
    if errors:
        return _settings_page(errors, request.form)
    flash(done, "success")
    return redirect(url_for("sales.settings"), 303)


class _Undo(Exception):
    """Leave the savepoint without saving (the form had errors)."""


@bp.get("/settings")
@roles(*SETTINGS_ROLES)
def settings():
    return _settings_page()


@bp.post("/settings/discount-limits")
@roles(*SETTINGS_ROLES)
def settings_discount_limits():
    def save(conn, errors):
        roles_known = conn.execute(sa.text("SELECT role_code FROM master.role")).scalars().all()
        for role in roles_known:
            field = f"limit_{role}"
            if field not in request.form:
                continue   # not on the form that was sent: left as it is
            try:
                limit = _amount(request.form[field])
            except (ValueError, ArithmeticError):
                errors.append(f"The limit for {role.replace('_', ' ').title()} is not an amount.")
                continue
            conn.execute(sa.text("""
                INSERT INTO sales.discount_limit (role_code, max_discount) VALUES (:r, :m)
                ON CONFLICT (role_code) DO UPDATE SET max_discount = EXCLUDED.max_discount"""),
                {"r": role, "m": limit})

    return _save_settings(save, "Discount limits saved. New discounts are judged against them.")


@bp.post("/settings/pdi-items")
@roles(*SETTINGS_ROLES)
def settings_pdi_items():
    def save(conn, errors):
        for item_id in conn.execute(sa.text("SELECT pdi_item_id FROM sales.pdi_item")).scalars().all():
            if f"name_{item_id}" not in request.form:
                continue
            order = request.form.get(f"sort_{item_id}", "").strip()
            if not order.isdigit() or int(order) > 30000:
                errors.append(f"The order of “{request.form[f'name_{item_id}']}” is a whole number.")
                continue
            conn.execute(sa.text("""
                UPDATE sales.pdi_item SET name = :n, sort_order = :o, is_active = :a WHERE pdi_item_id = :i"""),
                {"i": item_id, "n": request.form[f"name_{item_id}"].strip(), "o": int(order),
                 "a": request.form.get(f"active_{item_id}") == "y"})
        new_name = request.form.get("new_name", "").strip()
        if new_name:
            order = request.form.get("new_sort", "").strip() or "100"
            if not order.isdigit() or int(order) > 30000:
                errors.append("The new item's order is a whole number.")
                return
            conn.execute(sa.text("INSERT INTO sales.pdi_item (name, sort_order) VALUES (:n, :o)"),
                         {"n": new_name, "o": int(order)})

    return _save_settings(save, "PDI checklist saved.")


@bp.post("/settings/onroad-items")
@roles(*SETTINGS_ROLES)
def settings_onroad_items():
    def save(conn, errors):
        for code in conn.execute(sa.text("SELECT item_code FROM sales.onroad_item")).scalars().all():
            if f"default_{code}" not in request.form:
                continue
            try:
                amount = _amount(request.form[f"default_{code}"]) or Decimal(0)
            except (ValueError, ArithmeticError):
                errors.append(f"The default amount of {code} is not an amount.")
                continue
            conn.execute(sa.text("""
                UPDATE sales.onroad_item SET default_amount = :d, is_active = :a WHERE item_code = :c"""),
                {"c": code, "d": amount, "a": request.form.get(f"active_{code}") == "y"})

    return _save_settings(save, "On-road items saved. New quotations use these amounts.")
