"""Every CHECK, UNIQUE, EXCLUDE and foreign-key constraint of the database, and every constraint name a
trigger raises (RAISE ... USING CONSTRAINT in sql/), is either mapped to a message next to its field
in one of the webapp's error dictionaries, or is listed here with the reason no user can cause it.
(What slips through anyway is answered 422 by the safety net in webapp/errors.py, never a 500.)"""
from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent

# ----------------------------------------------------------------------------- why a user cannot cause them

SYSTEM_SCHEMAS = {"audit": "the audit trail is written by triggers, never by a form",
                  "platform": "migration bookkeeping, written by init-db"}
SYSTEM_TABLES = {
    "master.staff_session": "session rows are written by the app at login, never from a form",
    "master.document_counter": "document counters move only inside master.next_document_no",
    "master.document_series": "document series are seeded by the migrations",
    "master.role": "roles are seeded by the migrations",
    "master.state": "the list of states is seeded by the migrations",
}
# Columns the app fills from the logged-in staff member, never from what was typed.
STAFF_COLUMNS = {"created_by", "posted_by", "approved_by", "handed_over_by", "valued_by", "checked_by",
                 "released_by", "dispatched_by", "received_by", "started_by", "discount_by", "discount_decided_by",
                 "allotted_by", "decided_by", "staff_id", "raised_by", "cancelled_by",
                 "advisor_id", "recorded_by", "added_by", "taken_by", "registered_by", "changed_by",
                 "odometer_override_by"}
# Parents taken from the address (/bookings/<id>/...) and loaded, 404 when absent, in the same
# transaction before the insert that refers to them; or rows the posting service itself wrote.
PARENT_COLUMNS = {"booking_id", "invoice_id", "po_id", "grn_id", "pinv_id", "count_id", "transfer_id",
                  "quotation_id", "lead_id", "test_ride_id", "move_id", "pack_id", "policy_id", "credit_note_id",
                  "receipt_id", "refund_id", "po_line_id", "price_id", "branch_id", "transfer_line_id",
                  "job_card_id", "vehicle_id", "unit_id"}
# Numbered by the document's own BEFORE INSERT trigger (master.next_document_no), never typed.
NUMBER_COLUMNS = {"booking_no", "invoice_no", "receipt_no", "refund_no", "credit_note_no", "delivery_no",
                  "quotation_no", "po_no", "grn_no", "transfer_no", "count_no", "job_card_no"}
# Amounts and tax computed by the GST kernel and the posting services from the document, never typed.
COMPUTED = re.compile(r"(cgst|sgst|igst|tcs|round_off|grand_total|taxable|adds_up|halves|tax_at_rate|tax_heads|"
                      r"tax_kind|one_item|one_kind_of_item|line_no|system_qty|direction|value_not_negative|"
                      r"empty_has_no_value|not_negative|through_moves|whole_units|for_one_sale|something)")

# One by one: constraints a rule above does not cover, with the reason.
_WHY = {
    "a document's state, moved only by its own service or trigger in one statement (never typed)": [
        "stock_count_check", "stock_count_status_check", "stock_transfer_check1", "stock_transfer_status_check",
        "vehicle_unit_received", "vehicle_unit_status_fkey", "unit_status_sort_order_key",
        "unit_status_transition_from_status_fkey", "unit_status_transition_to_status_fkey",
        "purchase_order_approved", "purchase_order_numbered", "purchase_order_status_check", "purchase_order_fixed",
        "allotment_release", "allotment_release_once", "booking_cancelled", "booking_discount_decided",
        "booking_discount_status", "booking_discount_status_check", "booking_invoiced", "booking_stage_check",
        "booking_number_fixed", "lead_status_check", "lead_booked_final", "lead_customer_fixed", "test_ride_returned", "handover_release_missing_check",
        "refund_charge_on_booking", "refund_charge_on_cancelled", "vehicle_unit_vin_fixed", "part_stock_through_moves",
        "transfer_needs_tax_invoice", "invoice_transfer", "invoice_transfer_id_key", "invoice_transfer_registered",
        "invoice_transfer_distinct_gstin", "invoice_transfer_sender", "stock_transfer_line_check",
        "branch_logo_needs_type", "staff_failed_pin_count_check", "staff_pin_hash_check"],
    "computed by the sale's services (subsidy eligibility, the invoice's lines and totals), not typed": [
        "booking_subsidy_eligible_check", "quotation_subsidy_check", "invoice_line_tax_heads", "invoice_lines_add_up",
        "invoice_vehicle_has_booking", "invoice_vehicle_has_customer"],
    "the OEM of a subsidy claim is its booking's model's maker, set by trigger (sql/functions/95_finance_oem.sql)": [
        "subsidy_claim_oem_id_fkey"],
    "copied onto the invoice from the customer, branch and booking, whose own forms check them": [
        "invoice_buyer_mobile_check", "invoice_buyer_state_code_fkey",
        "invoice_customer_id_fkey", "invoice_supplier_state_code_fkey",
        "invoice_delivery_state_code_fkey", "invoice_unit_id_fkey", "invoice_line_unit_id_fkey",
        "lead_customer_id_fkey", "policy_customer_id_fkey", "booking_salesperson_id_fkey"],
    "the unit is the booking's allotted unit, or found by its VIN in the same request": [
        "policy_unit_id_fkey", "delivery_unit_id_fkey", "battery_fitment_unit_id_fkey", "grn_vehicle_unit_id_fkey",
        "grn_vehicle_unit_id_key", "stock_transfer_line_unit_id_fkey", "battery_fitment_check"],
    "the part is found by the part number typed, in the same request (an unknown number is said so)": [
        "invoice_line_part_id_fkey", "part_stock_part_id_fkey", "stock_count_line_part_id_fkey",
        "stock_move_part_id_fkey", "stock_transfer_line_part_id_fkey", "po_line_part_id_fkey",
        "booking_accessory_part_id_fkey", "part_model_part_id_fkey"],
    "the model is the one in the address (/oem/models/<id>/...), loaded first": [
        "variant_model_id_fkey", "free_service_model_id_fkey"],
    "the goods receipt is built from the order's own lines in one transaction (RECEIPT_ERRORS names the races)": [
        "goods_receipt_branch", "goods_receipt_po_open", "grn_line_same_po", "grn_part_matches_line",
        "grn_part_matches_move", "grn_vehicle_matches_line", "grn_part_move_id_key", "po_line_received_qty_check",
        "po_line_variant_id_colour_fkey", "vehicle_unit_variant_id_colour_fkey"],
    "every row of the OEM's dispatch list is checked by webapp/procurement/dispatch.py before the receipt": [
        "vehicle_unit_vin_check", "vehicle_unit_motor_no_check", "vehicle_unit_key_no_check",
        "vehicle_unit_charger_serial_check", "vehicle_unit_mfg_month_check", "vehicle_unit_purchase_cost_check",
        "battery_pack_mfg_month_check"],
    "checked by the form first under another field name (a validate_ method or the field's Length/NumberRange)": [
        "stock_transfer_check", "quotation_check", "booking_discount_note_check",
        "allotment_release_reason_check", "battery_pack_chemistry_check"],
    "the settings screens list only rows that exist (roles, PDI items, on-road items); thresholds have no form (the "
    "B2CL limit's new value is dated by finance.add_return_parameter, its overlap mapped)": [
        "discount_limit_role_code_fkey", "pdi_check_pdi_item_id_fkey", "booking_item_item_code_fkey",
        "quotation_item_item_code_fkey", "onroad_item_item_code_check", "threshold_check", "threshold_code_check"],
    "a job card's state, history and the vehicle's last reading are kept by the job card's triggers; the screens "
    "offer only the moves of service.job_state_transition": [
        "job_card_closed", "job_card_state_fkey", "job_card_previous_odometer_km_check", "job_card_fixed",
        "job_state_transition_check", "job_state_sort_order_key", "vehicle_last_odometer_km_check",
        "vehicle_odometer_dated", "vehicle_last_odometer_job_card_fk", "job_card_customer_id_fkey"],
    "a vehicle sold here takes its facts from its unit and its sale (the check-in page loads the delivered unit "
    "first and sends a second check-in to the existing record)": [
        "vehicle_matches_unit", "vehicle_sale_date_is_delivery", "vehicle_unit_delivered", "vehicle_unit_id_key",
        "vehicle_vin_fixed", "vehicle_mfg_month_check", "vehicle_customer_id_fkey"],
    "a vehicle sold elsewhere gets its pack fitted on its sale date when it is registered; a pack swapped under "
    "warranty (warranty.swap_pack) is removed and fitted today, never before its own fitment (the sale is past)": [
        "pack_fitment_removed_after_fitted", "pack_fitment_outside_vehicle"],
    "a warranty claim's status, numbers, amounts and history are moved only by its triggers and the step forms, "
    "each of which sets every column its move needs (submitted: reference and day; decided: day, amount, reason; "
    "settled: amount and day); a move not in warranty.claim_transition is refused, the page drawn in an older "
    "status is answered 'moved on meanwhile'": [
        "claim_approved_amount", "claim_claim_no_key", "claim_claimed_amount_check", "claim_decided", "claim_settled",
        "claim_status_fkey", "claim_submitted", "claim_fixed", "claim_status_change_claim_id_fkey",
        "claim_status_change_from_status_fkey", "claim_status_change_to_status_fkey",
        "claim_transition_from_status_fkey", "claim_transition_to_status_fkey"],
    "a claim's lines and evidence are reached through their claim in the address (loaded first, 404 when not "
    "this branch's); evidence is chosen from the vehicle's own readings and photos listed (a stale id is refused "
    "by the checklist); a line's hours, rate, price, pack serials and kind columns are set by its trigger or the "
    "form's kind; a return is recorded only on a failed part, by a form asking both the day and the reference": [
        "claim_evidence_claim_id_fkey", "claim_evidence_claim_id_photo_id_key", "claim_evidence_claim_id_reading_id_key",
        "claim_evidence_one_thing", "claim_evidence_photo_id_fkey", "claim_evidence_reading_id_fkey",
        "claim_line_claim_id_fkey", "claim_line_failed_pack_id_fkey", "claim_line_hours_check",
        "claim_line_job_line_id_fkey", "claim_line_labour_or_part", "claim_line_replacement_pack_id_fkey",
        "claim_line_returned", "claim_line_returned_failed_part", "claim_line_serials_on_parts"],
    "the checklist lists the items of service.inspection_item and refuses any other answer before saving; the "
    "workshop settings check an item's order before saving; a second reading of a pack replaces the first": [
        "inspection_result_item_id_fkey", "inspection_result_result_check", "inspection_item_sort_order_check",
        "battery_reading_job_card_id_pack_id_key"],
    "a photo's type, checksum and thumbnail are worked out by the app from the file; the same photo again is "
    "kept once (ON CONFLICT)": [
        "job_photo_checksum", "job_photo_content_type_check", "job_photo_sha256_check", "job_photo_thumbnail_check",
        "job_photo_job_card_id_sha256_key"],
    "a job line's approval is written by the approval screen for its own card's lines, and a line's status moves "
    "only by the estimate's and my work's buttons": [
        "job_line_approval_id_fkey", "job_line_status_check", "job_line_approval_same_card"],
}
CANNOT_BE_CAUSED: dict[str, str] = {name: why for why, names in _WHY.items() for name in names}


# The work on a job card (sql/0027_service_parts.sql): what the estimate, approval and parts screens never
# let a user cause (their refusals are mapped in webapp/service/work_forms.py).
CANNOT_BE_CAUSED.update({name: why for why, names in {
    "kept by the job line's and the part issue's triggers (who marked a line done and when, what is issued "
    "and by which stock move), never typed": [
        "job_line_done_by_fkey", "job_line_done_dated", "job_line_labour_issues_nothing", "job_line_issued_fixed",
        "job_line_issued_through_issues", "part_issue_issued_by_fkey", "part_issue_move_id_key"],
    "a parts request is raised by the parts page for the line it names, by the acting staff member, and moves "
    "only by the buttons of its list (REQUEST_MOVES in webapp/service/work_forms.py)": [
        "parts_request_job_line_id_fkey", "parts_request_requested_by_fkey", "parts_request_status_changed_by_fkey",
        "parts_request_status_check"],
    "the gate pass is numbered by its own trigger (series GP) and issued by the acting staff member; the next "
    "service due is computed by the delivery's trigger (sql/0028_service_bill.sql)": [
        "gate_pass_gate_pass_no_key", "gate_pass_issued_by_fkey", "vehicle_next_service_due_km_check"],
}.items() for name in names})

# Extended plans on invoice lines and campaigns as job lines (sql/0032, sql/0033).
CANNOT_BE_CAUSED.update({name: why for why, names in {
    "a plan's invoice line is drafted by billing's posting from the plan and VIN chosen on the plan screen "
    "(webapp/billing/plans.py) or the booking's charge, one line of quantity 1 naming both; the plan sale is "
    "written by that line's trigger, and ended only by its invoice's credit note": [
        "invoice_line_plan_alone", "invoice_line_plan_names_vin", "invoice_line_plan_vin_check",
        "invoice_line_plan_invoice_kind", "plan_sale_ended", "plan_sale_ended_after_sale", "plan_sale_invoice_line",
        "plan_sale_line_once", "plan_sale_fixed"],
    "a campaign is recorded done by its job line's trigger when the line is marked done, once per line": [
        "campaign_done_job_line_id_fkey", "campaign_done_job_line_id_key"],
}.items() for name in names})

# Communication (sql/0037_communication.sql): the reminders and the outbox are written by the reminder run and
# the sender, never typed; the call outcome's screen maps what it can cause (webapp/communication/forms.py).
CANNOT_BE_CAUSED.update({name: why for why, names in {
    "made by communication.run_reminders from the data (rule, subject, due date, once by reminder_once ON "
    "CONFLICT DO NOTHING), never typed": [
        "reminder_customer_id_fkey", "reminder_once", "reminder_rule_id_fkey", "reminder_subject_kind_check"],
    "an outbox row is queued by the run with an address it checked (master.is_mobile / is_email) and moved only "
    "by the sender and the call list's outcome (one UPDATE each, on messages still QUEUED or FAILED)": [
        "outbox_address", "outbox_attempts_check", "outbox_call_outcome", "outbox_call_outcome_by",
        "outbox_called_by_fkey", "outbox_customer_id_fkey", "outbox_delivered", "outbox_last_error_check",
        "outbox_params_check", "outbox_provider_message_id_check", "outbox_reminder_id_fkey",
        "outbox_reminder_id_key", "outbox_sent", "outbox_status_check", "outbox_template_id_fkey", "outbox_final",
        "outbox_fixed"],
    "a provider's delivery report (webapp/communication/hooks.py) is mapped to SENT, DELIVERED, READ or FAILED "
    "before communication.delivery_report is called; another status is answered 400 and never reaches it": [
        "delivery_report_status"],
    "the consent page is opened for a customer loaded first (404 when absent); the channel settings are one row": [
        "consent_customer_id_fkey", "customer_language_customer_id_fkey", "setting_setting_id_check"],
}.items() for name in names})

# HR (sql/0043_hr.sql): what the app writes itself, never typed; the forms' own refusals are in webapp/hr/forms.py.
CANNOT_BE_CAUSED.update({name: why for why, names in {
    "a document's file is read by the upload, its type from its first bytes and its SHA-256 computed by the app "
    "(webapp/hr/people.py); the uploader is the acting staff member": [
        "employee_document_checksum", "employee_document_sha256_check", "employee_document_uploaded_by_fkey"],
    "a leave's status moves only by the decide and cancel buttons (one UPDATE each, from PENDING or APPROVED), "
    "its decider being the acting staff member": [
        "leave_application_status_check", "leave_decided", "leave_application_decision_note_check"],
    "the leave types are reference rows of the migration, not edited on a screen": ["leave_type_unpaid_has_no_quota"],
    "a month is closed by the close button for the first day of the month shown, by the acting staff member; its "
    "lines are written by the close's own trigger from hr.attendance_totals": [
        "month_close_closed_by_fkey", "month_close_month_check", "month_close_line_branch_id_month_fkey",
        "month_close_line_days_employed_check", "month_close_line_lop_days_check",
        "month_close_line_payment_days_check"],
    "a punch's day is set by its own trigger from its time; its terminal is the enabled one of the browser's signed "
    "cookie, looked up first; a correction is marked by the acting staff member": [
        "punch_day_of_shift", "punch_marked_by_fkey", "punch_terminal_id_fkey"],
    "a terminal is enabled by the acting manager with a random token the app makes (secrets.token_urlsafe), "
    "kept as its SHA-256": ["terminal_enabled_by_fkey", "terminal_token_sha256_check", "terminal_token_sha256_key"],
}.items() for name in names})

# The home screen's kept figures (sql/0058_monthly_totals.sql): written by triggers and rebuild functions only.
CANNOT_BE_CAUSED.update({name: why for why, names in {
    "the invoices' monthly totals and the OEM's pending dues per day are kept by the documents' and the claims' "
    "own triggers (billing.add_to_invoice_month, finance.keep_oem_pending), never written by a form": [
        "invoice_month_check", "invoice_month_cost_check", "invoice_month_doc_check", "invoice_month_documents_check",
        "oem_pending_day_claims_check"],
}.items() for name in names})

# The books (sql/0041_finance.sql, sql/0047_books.sql): what the chart of accounts' and the journal's forms never
# write (webapp/finance/ledgers.py, journal.py map the rest).
CANNOT_BE_CAUSED.update({name: why for why, names in {
    "a ledger's party (customer, OEM, financier, insurer), branch, GST duty head and system key are set only by "
    "finance.party_ledger and the migrations; the ledger and bank account forms write name, group, opening "
    "balance, GSTIN and active only": [
        "ledger_customer_branch", "ledger_customer_id_fkey", "ledger_customer_id_key", "ledger_financier_id_fkey",
        "ledger_financier_id_key", "ledger_insurer_id_key", "ledger_oem_id_key", "ledger_one_party",
        "ledger_duty_pair", "ledger_gst_duty_head_check", "ledger_system_key_check", "ledger_system_key_key"],
    "a group's nature and gross-profit side are its parent's, copied by finance.check_account_group; the form "
    "chooses the parent only": ["account_group_nature_check", "account_group_profit_side"],
    "a bank account's ledger is made in the same transaction, just before it (webapp/finance/ledgers.py)": [
        "bank_account_ledger_id_fkey"],
    "the monthly ledger and group totals are kept by the voucher lines' trigger (finance.add_to_ledger_month) and "
    "a ledger's move to another group (finance.move_group_months)": [
        "ledger_month_ledger_id_fkey", "ledger_month_month_check", "group_month_group_id_fkey",
        "group_month_month_check"],
    "a voucher is numbered by its trigger in its series, and its source (table, id) is set by the document that "
    "posts it; a journal keyed in has none": [
        "voucher_number_key", "voucher_voucher_no_check", "voucher_source_pair",
        "voucher_source_table_check"],
}.items() for name in names})
# Payroll (sql/0052_payroll.sql): the statutory rates are master data of the migration; the run's lines are
# computed by hr.payroll_compute; its steps are buttons; the forms' own refusals are in webapp/payroll/forms.py.
SYSTEM_TABLES.update({
    "hr.pay_regime": "no screen writes the regime yet (NEW by default)",
    "hr.pay_loan": "no screen writes advances and loans yet",
    "hr.payroll_line_tax": "how a line's TDS was worked out, written by hr.payroll_compute with the line",
    "hr.payroll_line": "a run's lines are computed by hr.payroll_compute from the closed month and the structures",
    "hr.payroll_loan_recovery": "a run's recoveries are computed by hr.payroll_compute",
})
CANNOT_BE_CAUSED.update({name: why for why, names in {
    "a run's status moves only by its step buttons (one UPDATE each), its checker, approver and paid date set by "
    "the app from the acting staff member and today": [
        "payroll_run_approval", "payroll_run_paid", "payroll_run_status_check"],
    "a declaration's maker is the acting staff member (its default and the upsert's)": [
        "pay_tax_declaration_declared_by_fkey"],
    "a regime year's slabs are inserted just after the regime row, in the same transaction (webapp/payroll/rate_queries.py)": [
        "pay_tds_slab_regime_effective_from_fkey"],
}.items() for name in names})

# Incentives and the full and final settlement (sql/0055_payroll_incentives.sql): lines and settlements are
# computed by hr.incentive_compute and hr.settlement_compute; the settlement rates are master data of the migration;
# the forms' own refusals are in webapp/payroll/incentive_forms.py.
SYSTEM_TABLES.update({
    "hr.incentive_line": "a month's incentive lines are computed by hr.incentive_compute from its documents",
    "hr.settlement": "a leaver's settlement is computed by hr.settlement_compute with the run",
    "hr.pay_settlement_rate": "the settlement rates are dated master data of the migrations; no form writes them yet",
})
CANNOT_BE_CAUSED.update({name: why for why, names in {
    "who made an adjustment or entered a shortfall is the acting staff member, set by the database's default": [
        "incentive_adjustment_made_by_fkey", "notice_shortfall_entered_by_fkey"],
    "a rule's slabs are written with the rule, of the kind chosen from the form's list": [
        "incentive_rule_kind_key", "incentive_slab_rule_id_kind_fkey"],
}.items() for name in names})


def form_checks() -> dict[str, str]:
    """Field name -> how some form of the webapp checks it before anything reaches the database: a
    list it must be chosen from (a stale or made-up id, a kind or mode not listed, is refused by
    WTForms), or validators of its own (Length, Regexp, NumberRange, the shared validators that
    mirror PostgreSQL's functions)."""
    from flask_wtf import FlaskForm
    from test_typed_input import _all_form_classes
    from wtforms.validators import DataRequired, InputRequired, Optional

    plain = (Optional, DataRequired, InputRequired)
    found: dict[str, str] = {}
    for form_class in _all_form_classes():
        form = form_class(meta={"csrf": False}) if issubclass(form_class, FlaskForm) else form_class()
        for field in form:
            if getattr(field, "validate_choice", False) and hasattr(field, "choices"):
                found.setdefault(field.short_name, f"{form_class.__name__}.{field.short_name}: chosen from its list")
            elif (any(not isinstance(v, plain) for v in field.validators)
                  or hasattr(form, f"validate_{field.short_name}")):
                found.setdefault(field.short_name, f"{form_class.__name__}.{field.short_name}: its validators")
    return found


def _why_not(name: str, kind: str, schema: str, table: str, columns: list[str], checked=None) -> str | None:
    if schema in SYSTEM_SCHEMAS:
        return SYSTEM_SCHEMAS[schema]
    if f"{schema}.{table}" in SYSTEM_TABLES:
        return SYSTEM_TABLES[f"{schema}.{table}"]
    if re.search(r"session|login|throttl|attempt|lockout", table):
        return "login bookkeeping, written by the app"
    if name.endswith("idempotency_key_key"):
        return "a repeated submission: webapp.submit_once finds the document the first one posted"
    if columns and set(columns) <= NUMBER_COLUMNS:
        return "document numbers come from the document's trigger"
    if kind == "f" and columns and set(columns) <= STAFF_COLUMNS:
        return "the acting staff member, set by the app"
    if kind == "f" and columns and set(columns) <= PARENT_COLUMNS:
        return "the parent row is loaded (404 if absent) before the insert"
    if COMPUTED.search(name):
        return "computed by the GST kernel or a posting service, not typed"
    if kind in ("c", "f") and len(columns) == 1 and checked and columns[0] in checked:
        return checked[columns[0]]
    return CANNOT_BE_CAUSED.get(name)


# ----------------------------------------------------------------------------- what the webapp maps

def mapped_constraint_names() -> set[str]:
    """Every key of a dict written in the webapp's source ({constraint: message} or {constraint: (field,
    message)}, at module level or built in a view), and every name compared with constraint_name(exc)."""
    names: set[str] = set()
    for path in (ROOT / "webapp").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict):
                names |= {k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
                names |= {"re:" + "".join(re.escape(p.value) if isinstance(p, ast.Constant) else "[a-z_]+"
                                          for p in k.values) for k in node.keys if isinstance(k, ast.JoinedStr)}
            elif isinstance(node, ast.Compare) and "constraint_name(" in ast.unparse(node):
                names |= {c.value for c in ast.walk(node) if isinstance(c, ast.Constant) and isinstance(c.value, str)}
    return names


def database_constraints(engine) -> list[tuple[str, str, str, str, list[str]]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("""
            SELECT c.conname, c.contype::text, n.nspname, t.relname,
                   coalesce((SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a
                              WHERE a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)), '{}')
              FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace JOIN pg_class t ON t.oid = c.conrelid
             WHERE c.contype IN ('c', 'u', 'f', 'x') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
            UNION ALL
            SELECT i.relname, 'u', n.nspname, t.relname,
                   coalesce((SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a
                              WHERE a.attrelid = x.indrelid AND a.attnum = ANY (x.indkey)), '{}')
              FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
              JOIN pg_namespace n ON n.oid = i.relnamespace
             WHERE x.indisunique AND NOT x.indisprimary
               AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
               AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)""")).all()
    return [(r[0], r[1], r[2], r[3], list(r[4])) for r in rows]


def raised_constraint_names() -> dict[str, str]:
    """Constraint names raised by triggers (RAISE ... USING CONSTRAINT = 'name'), with their file."""
    found = {}
    for path in sorted((ROOT / "sql").glob("*.sql")):
        for name in re.findall(r"CONSTRAINT\s*=\s*'([^']+)'", path.read_text()):
            found.setdefault(name, path.name)
    return found


class _Mapped(set):
    """The mapped names, and the patterns of keys made with f-strings (party_errors)."""

    def __contains__(self, name) -> bool:
        return set.__contains__(self, name) or any(
            p.startswith("re:") and re.fullmatch(p[3:], name) for p in set.__iter__(self))


def test_every_constraint_a_user_can_cause_has_a_message_next_to_its_field(app, engine):
    mapped = _Mapped(mapped_constraint_names())
    with app.test_request_context():
        checked = form_checks()
    constraints = database_constraints(engine)
    assert len(constraints) > 300 and len(raised_constraint_names()) > 20   # the queries see the schema
    unexplained = sorted(f"{schema}.{table} {name} ({kind}: {', '.join(columns)})"
                         for name, kind, schema, table, columns in constraints
                         if name not in mapped and _why_not(name, kind, schema, table, columns, checked) is None)
    unexplained += sorted(f"{name} (raised in {where})" for name, where in raised_constraint_names().items()
                          if name not in mapped and name not in CANNOT_BE_CAUSED
                          and name not in {c[0] for c in constraints})
    assert not unexplained, (f"{len(unexplained)} constraints neither mapped to a field nor explained:\n"
                             + "\n".join(unexplained))


def test_the_reasons_listed_name_constraints_that_exist_and_are_not_mapped_as_well(engine):
    existing = {c[0] for c in database_constraints(engine)} | set(raised_constraint_names())
    assert set(CANNOT_BE_CAUSED) <= existing, set(CANNOT_BE_CAUSED) - existing
    mapped = _Mapped(mapped_constraint_names())
    assert [name for name in CANNOT_BE_CAUSED if name in mapped] == []


def test_a_mapped_constraint_names_a_field_of_a_form_or_none():
    """Every mapping's field exists on some form of the webapp (a typo would put the message nowhere)."""
    from test_typed_input import _all_form_classes

    import webapp

    fields = {name for form in _all_form_classes() for name in dir(form) if not name.startswith("_")}
    wrong = []
    for module in pkgutil.walk_packages(webapp.__path__, "webapp."):
        for dict_name, value in vars(importlib.import_module(module.name)).items():
            if (re.search(r"(ERRORS|MESSAGES)$", dict_name) and isinstance(value, dict)
                    and all(isinstance(v, tuple) and len(v) == 2 for v in value.values())):
                wrong += [f"{module.name}.{dict_name}[{k}] -> {v[0]}" for k, v in value.items()
                          if v[0] is not None and v[0] not in fields]
    assert wrong == []
