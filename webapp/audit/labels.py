"""What a manager reads in the audit log instead of table names, ids and column names.

``DOCUMENTS`` is the one place that says, per audited table, what a row is called ("Invoice",
"Exchange vehicle of booking") and how its natural number or name is found ("BLRINV/26/12").
The log page looks the labels up once per table for the rows it shows (``document_labels``),
never once per row. A table not listed here still shows, as its name in words and its key.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..formatting import ddmmyyyy, ddmmyyyy_hhmm, group_indian


@dataclass(frozen=True)
class Document:
    """An audited table's rows as a manager names them.

    ``sql`` returns (key, label) for the keys in :keys (an array of the key column's type);
    ``int_key`` says the audited table's key is a number; ``column`` is the row's own column that
    names it, read from the logged row when the row itself is gone."""

    noun: str
    sql: str
    int_key: bool = True
    column: str | None = None


def _own(noun: str, table: str, key: str, label: str, joins: str = "", *, int_key: bool = True,
         column: str | None = None) -> Document:
    """Rows named by their own table's columns (alias t) or the tables joined to it."""
    return Document(noun, f"SELECT CAST(t.{key} AS text) AS key, {label} AS label FROM {table} t {joins} "
                          f"WHERE t.{key} = ANY(:keys)", int_key, column)


def _of_booking(noun: str) -> Document:
    """A sale's step kept under its booking's key (finance, exchange, registration ...)."""
    return _own(noun, "sales.booking", "booking_id", "t.booking_no")


_MODEL = "JOIN oem.model m ON m.model_id = t.model_id JOIN oem.oem o ON o.oem_id = m.oem_id"
_VARIANT = ("JOIN oem.variant v ON v.variant_id = t.variant_id JOIN oem.model m ON m.model_id = v.model_id "
            "JOIN oem.oem o ON o.oem_id = m.oem_id")
_PO_NO = "coalesce(po.po_no, 'draft ' || po.po_id)"

DOCUMENTS: dict[str, Document] = {
    # master
    "master.branch": _own("Branch", "master.branch", "branch_id",
                          "t.branch_code || ' ' || coalesce(t.trade_name, t.legal_name)", column="branch_code"),
    "master.staff": _own("Staff", "master.staff", "staff_id", "t.staff_code || ' ' || t.name", column="staff_code"),
    "master.hsn": _own("HSN/SAC", "master.hsn", "hsn_code", "t.hsn_code || ' ' || t.description", int_key=False,
                       column="hsn_code"),
    "master.hsn_rate": _own("GST rate", "master.hsn_rate", "hsn_rate_id",
                            "t.hsn_code || ' from ' || to_char(t.effective_from, 'DD-MM-YYYY')", column="hsn_code"),
    "master.customer": _own("Customer", "master.customer", "customer_id", "t.name", column="name"),
    "master.financier": _own("Financier", "master.financier", "financier_id", "t.name", column="name"),
    "master.insurer": _own("Insurer", "master.insurer", "insurer_id", "t.name", column="name"),
    "master.part": _own("Part", "master.part", "part_id", "t.part_no || ' ' || t.name", column="part_no"),
    "master.labour_operation": _own("Labour operation", "master.labour_operation", "operation_code",
                                    "t.operation_code || ' ' || t.name", int_key=False, column="operation_code"),
    # OEMs and the catalog
    "oem.oem": _own("OEM", "oem.oem", "oem_id", "t.brand", column="brand"),
    "oem.model": _own("Model", "oem.model", "model_id", "o.brand || ' ' || t.name",
                      "JOIN oem.oem o ON o.oem_id = t.oem_id", column="name"),
    "oem.free_service": _own("Free services of model", "oem.model", "model_id", "o.brand || ' ' || t.name",
                             "JOIN oem.oem o ON o.oem_id = t.oem_id"),
    "oem.variant": _own("Variant", "oem.variant", "variant_id", "o.brand || ' ' || m.name || ' ' || t.name",
                        _MODEL, column="name"),
    "oem.variant_colour": _own("Colours of variant", "oem.variant", "variant_id",
                               "o.brand || ' ' || m.name || ' ' || t.name", _MODEL),
    "oem.price_list": _own("Price", "oem.price_list", "price_id",
                           "m.name || ' ' || v.name || coalesce(' ' || t.colour, '') || ' from ' "
                           "|| to_char(t.effective_from, 'DD-MM-YYYY')", _VARIANT),
    "oem.scheme": _own("Scheme", "oem.scheme", "scheme_id", "t.name", column="name"),
    # stock
    "inventory.vehicle_unit": _own("Vehicle", "inventory.vehicle_unit", "unit_id", "t.vin", column="vin"),
    "inventory.battery_pack": _own("Battery pack", "inventory.battery_pack", "pack_id", "t.serial", column="serial"),
    "inventory.battery_fitment": _own("Battery fitment", "inventory.battery_fitment", "fitment_id",
                                      "p.serial || ' in ' || u.vin",
                                      "JOIN inventory.battery_pack p ON p.pack_id = t.pack_id "
                                      "JOIN inventory.vehicle_unit u ON u.unit_id = t.unit_id"),
    "inventory.stock_transfer": _own("Stock transfer", "inventory.stock_transfer", "transfer_id", "t.transfer_no",
                                     column="transfer_no"),
    "inventory.stock_count": _own("Stock count", "inventory.stock_count", "count_id", "t.count_no",
                                  column="count_no"),
    "inventory.stock_count_line": _own("Line of stock count", "inventory.stock_count", "count_id", "t.count_no"),
    # purchasing
    "procurement.purchase_order": _own("Purchase order", "procurement.purchase_order", "po_id",
                                       "coalesce(t.po_no, 'draft ' || t.po_id)", column="po_no"),
    "procurement.po_line": _own("Purchase order line", "procurement.po_line", "po_line_id",
                                f"{_PO_NO} || ' line ' || t.line_no",
                                "JOIN procurement.purchase_order po ON po.po_id = t.po_id"),
    "procurement.goods_receipt": _own("Goods receipt", "procurement.goods_receipt", "grn_id", "t.grn_no",
                                      column="grn_no"),
    "procurement.purchase_invoice": _own("Purchase invoice", "procurement.purchase_invoice", "pinv_id",
                                         "t.supplier_invoice_no || ' of ' || o.brand",
                                         "JOIN oem.oem o ON o.oem_id = t.oem_id", column="supplier_invoice_no"),
    "procurement.supplier_payment": _own("Payment of purchase invoice", "procurement.supplier_payment", "payment_id",
                                         "pi.supplier_invoice_no || ' of ' || o.brand",
                                         "JOIN procurement.purchase_invoice pi ON pi.pinv_id = t.pinv_id "
                                         "JOIN oem.oem o ON o.oem_id = pi.oem_id"),
    # sales
    "sales.discount_limit": _own("Discount limit of", "master.role", "role_code", "t.name", int_key=False),
    "sales.onroad_item": _own("On-road charge", "sales.onroad_item", "item_code", "t.name", int_key=False,
                              column="name"),
    "sales.pdi_item": _own("PDI checklist item", "sales.pdi_item", "pdi_item_id", "t.name", column="name"),
    "crm.lead": _own("Lead of", "crm.lead", "lead_id", "t.name", column="name"),
    "crm.contact": _own("Call to", "crm.contact", "contact_id", "l.name",
                        "JOIN crm.lead l ON l.lead_id = t.lead_id"),
    "crm.test_ride": _own("Test ride of", "crm.test_ride", "test_ride_id", "l.name || ' · ' || u.vin",
                          "JOIN crm.lead l ON l.lead_id = t.lead_id "
                          "JOIN inventory.vehicle_unit u ON u.unit_id = t.unit_id"),
    "crm.lost_reason": _own("Lost reason", "crm.lost_reason", "reason_code", "t.label", int_key=False,
                            column="label"),
    # hr: a punch and a leave by the person and the day (a correction's reason is in the row itself)
    "hr.employee": _own("Employment of", "master.staff", "staff_id", "t.staff_code || ' ' || t.name"),
    "hr.punch": _own("Punch of", "hr.punch", "punch_id",
                     "s.staff_code || ' ' || s.name || ' · ' || t.kind || ' ' || "
                     "to_char(t.punched_at AT TIME ZONE 'Asia/Kolkata', 'DD-MM-YYYY HH24:MI')",
                     "JOIN master.staff s ON s.staff_id = t.staff_id"),
    "hr.leave_application": _own("Leave of", "hr.leave_application", "leave_id",
                                 "s.staff_code || ' ' || s.name || ' · ' || t.leave_code || ' from ' || "
                                 "to_char(t.from_date, 'DD-MM-YYYY')", "JOIN master.staff s ON s.staff_id = t.staff_id"),
    "hr.terminal": _own("Punching terminal", "hr.terminal", "terminal_id", "t.name", column="name"),
    "hr.shift": _own("Shift", "hr.shift", "shift_id", "t.name", column="name"),
    "sales.quotation": _own("Quotation", "sales.quotation", "quotation_id", "t.quotation_no", column="quotation_no"),
    "sales.booking": _own("Booking", "sales.booking", "booking_id", "t.booking_no", column="booking_no"),
    "sales.booking_item": _of_booking("Charges of booking"),
    "sales.booking_accessory": _of_booking("Accessories of booking"),
    "sales.allotment": _own("Allotment", "sales.allotment", "allotment_id", "b.booking_no || ' · ' || u.vin",
                            "JOIN sales.booking b ON b.booking_id = t.booking_id "
                            "JOIN inventory.vehicle_unit u ON u.unit_id = t.unit_id"),
    "sales.finance": _of_booking("Finance of booking"),
    "sales.exchange": _of_booking("Exchange vehicle of booking"),
    "sales.subsidy_claim": _of_booking("PM E-DRIVE subsidy of booking"),
    "sales.registration": _of_booking("Registration of booking"),
    "sales.pdi_check": _of_booking("PDI of booking"),
    "sales.handover_release": _own("Hand-over released for booking", "sales.handover_release", "release_id",
                                   "b.booking_no", "JOIN sales.booking b ON b.booking_id = t.booking_id"),
    "sales.delivery": _own("Delivery note", "sales.delivery", "delivery_id", "t.delivery_no", column="delivery_no"),
    # billing and insurance
    "billing.threshold": _own("Limit", "billing.threshold", "threshold_id",
                              "t.code || ' from ' || to_char(t.effective_from, 'DD-MM-YYYY')", column="code"),
    "billing.tcs_rule": _own("TCS rule", "billing.tcs_rule", "tcs_rule_id",
                             "t.description || ' from ' || to_char(t.effective_from, 'DD-MM-YYYY')",
                             column="description"),
    "billing.invoice": _own("Invoice", "billing.invoice", "invoice_id", "t.invoice_no", column="invoice_no"),
    "billing.credit_note": _own("Credit note", "billing.credit_note", "credit_note_id", "t.credit_note_no",
                                column="credit_note_no"),
    "billing.receipt": _own("Receipt", "billing.receipt", "receipt_id", "t.receipt_no", column="receipt_no"),
    "billing.refund": _own("Refund", "billing.refund", "refund_id", "t.refund_no", column="refund_no"),
    "insurance.policy": _own("Insurance policy", "insurance.policy", "policy_id",
                             "coalesce(t.od_policy_no, t.tp_policy_no, 'no. not yet given')", column="od_policy_no"),
}


# Tables moved or renamed since their rows were logged (audit.log keeps the name of the day): their
# rows are named as the table's now. The sales enquiry became the CRM lead, same key (sql/0035).
FORMER_NAMES = {"sales.enquiry": "crm.lead"}


def _document_of(table: str) -> Document | None:
    return DOCUMENTS.get(FORMER_NAMES.get(table, table))


def table_noun(table: str | None) -> str:
    """'billing.invoice' -> 'Invoice'; a table not in DOCUMENTS in words ('Handover release')."""
    if not table:
        return ""
    if _document_of(table) is not None:
        return _document_of(table).noun
    return column_words(table.rsplit(".", 1)[-1])


def document_labels(conn: Connection, wanted: dict[str, set[str]]) -> dict[tuple[str, str], str]:
    """{(table, key): 'BLRINV/26/12'} for the keys wanted per table: one query per look-up (tables
    named by their booking share one), whatever the number of rows."""
    by_sql: dict[str, tuple[Document, set[str], list[str]]] = {}
    for table, keys in wanted.items():
        doc = _document_of(table)
        if doc is not None and keys:
            _, all_keys, tables = by_sql.setdefault(doc.sql, (doc, set(), []))
            all_keys.update(keys)
            tables.append(table)
    found: dict[tuple[str, str], str] = {}
    for sql, (doc, keys, tables) in by_sql.items():
        typed = sorted(int(k) for k in keys if k.isdigit() and len(k) < 10) if doc.int_key else sorted(keys)
        if not typed:
            continue
        for row in conn.execute(sa.text(sql), {"keys": typed}):
            for table in tables:
                found[(table, row.key)] = row.label
    return found


def document(table: str | None, key: str | None, labels: dict, row_data: dict | None) -> str:
    """'Invoice BLRINV/26/12'; for a row gone since, its name as logged; else the noun and key."""
    if not table or key is None:   # e.g. a login with a code no staff member has
        return ""
    noun = table_noun(table)
    label = labels.get((table, key))
    doc = _document_of(table)
    if label is None and doc is not None and doc.column and row_data and row_data.get(doc.column):
        label = str(row_data[doc.column])
    return f"{noun} {label}" if label else f"{noun} #{key}"


# --------------------------------------------------------------------------- column names and values in words

_WORDS = {
    "gstin": "GSTIN", "pan": "PAN", "hsn": "HSN", "sac": "SAC", "upi": "UPI", "ifsc": "IFSC", "irn": "IRN",
    "qr": "QR", "tcs": "TCS", "gst": "GST", "cgst": "CGST", "sgst": "SGST", "igst": "IGST", "od": "own damage",
    "tp": "third party", "idv": "IDV", "pdi": "PDI", "vin": "VIN", "mrp": "MRP", "po": "PO", "grn": "GRN",
    "do": "DO", "noc": "NOC", "rc": "RC", "hsrp": "HSRP", "kwh": "kWh", "kw": "kW", "kmph": "km/h", "soh": "SoH",
    "pct": "%", "qty": "quantity", "reg": "registration", "temp": "temporary", "mfg": "manufacture", "no": "no.",
    "pos": "place of supply", "fy": "financial year", "oem": "OEM", "ack": "acknowledgement", "ex": "ex-",
    "pinv": "purchase invoice", "designation": "role",
}
_WHOLE = {
    "aadhaar_last4": "Aadhaar (last 4 digits)", "address_line1": "Address", "address_line2": "Address (line 2)",
    "ex_showroom": "Ex-showroom price", "ex_factory": "Ex-factory price", "pin_hash": "PIN",
    "idempotency_key": "Form key",
}


def column_words(name: str) -> str:
    """'reg_no' -> 'Registration no.', 'customer_id' -> 'Customer (id)', 'form20_on' -> 'Form 20 on'."""
    if name in _WHOLE:
        return _WHOLE[name]
    parts = re.sub(r"([a-z])([0-9])", r"\1 \2", name).replace("_", " ").split()
    if parts and parts[0] == "is" and len(parts) > 1:
        parts = parts[1:]
    suffix = ""
    if len(parts) > 1 and parts[-1] == "id":
        parts, suffix = parts[:-1], " (id)"
    words = " ".join(_WORDS.get(p, p) for p in parts).replace("ex- ", "ex-") + suffix
    return words[:1].upper() + words[1:]


# Columns left out of the changes shown: a form's one-time key means nothing to a reader.
NOT_SHOWN = {"idempotency_key"}


def names_staff(column: str) -> bool:
    """Columns holding a staff member's id: posted_by, approved_by, salesperson_id ..."""
    return column.endswith("_by") or column == "salesperson_id"


_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ISO_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}.*")
_HIDDEN = {"[redacted]": "(hidden)", "[changed]": "(changed, hidden)"}


def value_words(value) -> str:
    """A logged value as a person reads it: dates DD-MM-YYYY, yes/no, hidden columns stay hidden."""
    if value is None:
        return "∅"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, Decimal):   # amounts as logged (numeric keeps its paise): 1,57,000.00
        sign, text = ("-", f"{-value:f}") if value < 0 else ("", f"{value:f}")
        whole, _, fraction = text.partition(".")
        return sign + group_indian(whole) + (f".{fraction}" if fraction else "")
    if isinstance(value, str):
        if value in _HIDDEN:
            return _HIDDEN[value]
        try:
            if _ISO_DAY.fullmatch(value):
                return ddmmyyyy(date.fromisoformat(value))
            if _ISO_TIME.fullmatch(value):
                return ddmmyyyy_hhmm(datetime.fromisoformat(value))
        except ValueError:
            return value
        return value
    if isinstance(value, (dict, list)):
        import json

        return json.dumps(value, ensure_ascii=False)
    return str(value)


# --------------------------------------------------------------------------- events, people and terminals

EVENTS = {
    "LOGIN": "Logged in",
    "LOGIN_FAILED": "Login failed",
    "LOGIN_REFUSED_LOCKED": "Login refused: the staff code is locked",
    "LOCKED_OUT": "Locked out after wrong PINs (at one terminal)",
    "LOGIN_FAILURES_FROM_ADDRESS": "Repeated failed logins from one terminal",
    "CHANGE_PIN_FAILED": "Wrong current PIN when changing the PIN",
    "LOGOUT": "Logged out",
    "SWITCH_USER": "Logged out for the next person",
    "PIN_CHANGED": "Changed their own PIN",
    "place_of_supply_override": "Place of supply overridden",
}
ACTIONS = {"INSERT": "Added", "UPDATE": "Changed", "DELETE": "Removed"}
# Events of someone not (yet) logged in: the staff code is only what was typed at the login.
LOGIN_ATTEMPTS = {"LOGIN_FAILED", "LOGIN_REFUSED_LOCKED", "LOCKED_OUT"}


def event_words(event: str) -> str:
    """'LOGIN_FAILED' -> 'Login failed'; an event raised by the database ('handover_released') in words."""
    return EVENTS.get(event) or (column_words(event) if event.islower() else event)


def actor(row) -> tuple[str, str | None]:
    """(who, a note): the staff member; for a login attempt, the code typed; never the database role
    as if it were a person."""
    details = row.after if isinstance(row.after, dict) else {}
    if row.staff_id is not None:
        return (f"{row.staff_code} {row.staff_name}" if row.staff_code else f"Staff #{row.staff_id}"), None
    if row.event in LOGIN_ATTEMPTS:
        return f"unknown / typed code {details.get('staff_code', '')}".rstrip(), None
    if row.event == "LOGIN_FAILURES_FROM_ADDRESS":
        return "No one logged in", f"codes typed: {details.get('codes_tried', '')}"
    if row.client_addr:
        return "No one logged in", "e.g. the first-run setup"
    return "Outside the ERP", f"directly in the database or a command (database login {row.db_user})"


_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("SamsungBrowser/", "Samsung Internet"), ("Firefox/", "Firefox"),
             ("Chrome/", "Chrome"), ("Chromium/", "Chromium"), ("Safari/", "Safari"))
_SYSTEMS = (("Android", "Android"), ("iPad", "iPad"), ("iPhone", "iPhone"), ("Windows", "Windows"),
            ("CrOS", "ChromeOS"), ("Mac OS X", "macOS"), ("Linux", "Linux"))


def browser_words(user_agent: str | None) -> str | None:
    """'Mozilla/5.0 (Linux; Android 14; ...) Chrome/126 ...' -> 'Chrome on Android'."""
    if not user_agent:
        return None
    browser = next((name for mark, name in _BROWSERS if mark in user_agent), None)
    system = next((name for mark, name in _SYSTEMS if mark in user_agent), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or user_agent[:60]
