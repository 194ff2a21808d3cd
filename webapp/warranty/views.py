"""Warranty screens: the warranty check of a vehicle sold here (by VIN, at a day and odometer),
the extended warranty plans (master data) and selling one to a VIN, and the OEM's recall /
service campaigns (list, new by a pasted or uploaded VIN list or a model's manufacture months,
the report of done / pending per VIN, marking one done, closing).

Who: the workshop (SERVICE_ADVISOR, MANAGER, ADMIN) and ACCOUNTS read; MANAGER and ADMIN set the
plans; the workshop runs the campaigns.
"""
from __future__ import annotations

import re
import uuid

from flask import flash, render_template, request, url_for
from flask_login import current_user

from ..billing import api as billing_api
from ..db import get_conn
from ..errors import redirect_response
from ..formatting import inr, today_ist
from ..forms import date_arg, overlap_message, save_or_field_error
from ..master import api as master_api
from ..pages import choice_arg, form_page, found_or_404, rows_or_page
from ..paging import Page, paged
from ..security import allow, can, may_open
from ..submit_once import earlier_redirect, post_once
from . import bp, queries
from .facts import subject_of_sold_unit, vehicle_facts
from .forms import (
    CAMPAIGN_DONE_ERRORS,
    CAMPAIGN_ERRORS,
    PLAN_ERRORS,
    PLAN_SALE_ERRORS,
    RULE_ERRORS,
    CampaignDoneForm,
    CampaignForm,
    CloseCampaignForm,
    PlanForm,
    PlanSaleForm,
    ReplacementRuleForm,
)

CHECK_TARGET = "check-result"
REPORT_TARGET = "campaign-vins"
CAMPAIGN_STATES = (("open", "Open"), ("closed", "Closed"), ("all", "All"))
REPORT_STATES = (("all", "Every vehicle"), ("pending", "Pending"), ("done", "Done"))
VIN_TYPED = re.compile(r"[A-HJ-NPR-Z0-9]{17}")


# --------------------------------------------------------------------------- the panel on the arrival page


def service_vehicle_context(conn, subject) -> dict:
    """The "service_vehicle" panel (templates/warranty/_vehicle_panel.html): the facts for the
    vehicle the service page is about (see facts.vehicle_facts for the subject's keys)."""
    return {"warranty": vehicle_facts(conn, subject), "sell_plan_url": _sell_url(subject.get("vin"))}


def _sell_url(vin: str | None) -> str | None:
    return url_for("warranty.plan_sell", vin=vin) if vin and may_open("warranty.plan_sell") else None


# --------------------------------------------------------------------------- the warranty check


def _km_arg() -> tuple[int | None, str, str | None]:
    """(km, as typed, error) from ?km=; blank: the odometer as handed over."""
    typed = request.args.get("km", "").strip()
    plain = typed.replace(",", "").replace(" ", "")
    if not typed:
        return None, "", None
    if not plain.isascii() or not plain.isdigit() or int(plain) > 2_000_000:
        return None, typed, "Enter the odometer in km, in figures (e.g. 12,500)"
    return int(plain), typed, None


@bp.get("/check")
@allow("warranty.read")
def check():
    conn = get_conn()
    typed_vin = request.args.get("vin", "").strip()
    vin = re.sub(r"[\s-]+", "", typed_vin).upper()
    km, km_typed, km_error = _km_arg()
    on = date_arg("on", today_ist())
    unit, facts, vin_error = None, None, None
    if vin and not VIN_TYPED.fullmatch(vin):
        vin_error = "A VIN is 17 letters and digits, without I, O or Q"
    elif vin:
        unit = queries.sold_unit(conn, vin)
        if unit is None:
            vin_error = "No vehicle sold by this showroom has this VIN (a vehicle sold elsewhere is looked up in the workshop)"
        else:
            subject = subject_of_sold_unit(conn, unit)
            if km is not None:
                subject["last_odometer_km"] = km
            facts = vehicle_facts(conn, subject, on.value)
    return rows_or_page("warranty/check.html", "warranty/_check_result.html", CHECK_TARGET,
                        typed_vin=typed_vin, vin=vin, vin_error=vin_error, km_typed=km_typed, km_error=km_error,
                        on=on, unit=unit, warranty=facts, sell_plan_url=_sell_url(vin) if unit else None,
                        results_id=CHECK_TARGET)


# --------------------------------------------------------------------------- extended warranty plans


def _plan_form(conn, keep_oem: int | None = None, **kwargs) -> PlanForm:
    models = queries.model_options(conn)
    form = PlanForm(model_oems={m["model_id"]: m["oem_id"] for m in models}, **kwargs)
    form.oem_id.choices = [(0, "Choose the OEM"), *queries.oem_choices(conn, keep_oem)]
    form.model_ids.choices = [(m["model_id"], m["label"]) for m in models]
    form.sac_code.choices = queries.service_codes(conn)
    return form


@bp.get("/plans")
@allow("warranty.read")
def plan_list():
    return render_template("warranty/plan_list.html", plans=queries.list_plans(get_conn(), today_ist()),
                           can_edit=can("warranty.settings"), can_sell=may_open("warranty.plan_sell"))


@bp.route("/plans/new", methods=["GET", "POST"])
@allow("warranty.settings")
def plan_new():
    conn = get_conn()
    form = _plan_form(conn, data={"valid_from": today_ist()} if request.method == "GET" else None)
    if form.validate_on_submit():
        _, saved = save_or_field_error(conn, form, PLAN_ERRORS, lambda: queries.insert_plan(
            conn, form.data_for_db(), form.model_ids.data or []))
        if saved:
            flash(f"Plan {form.name.data} saved.", "success")
            return redirect_response(url_for("warranty.plan_list"))
    return form_page("warranty/plan_form.html", form, plan=None)


@bp.route("/plans/<int:plan_id>/edit", methods=["GET", "POST"])
@allow("warranty.settings")
def plan_edit(plan_id: int):
    conn = get_conn()
    plan = found_or_404(queries.get_plan(conn, plan_id))
    form = _plan_form(conn, plan["oem_id"],
                      data=dict(plan, model_ids=list(plan["model_ids"])) if request.method == "GET" else None)
    if form.validate_on_submit():
        _, saved = save_or_field_error(conn, form, PLAN_ERRORS, lambda: queries.update_plan(
            conn, plan_id, form.data_for_db(), form.model_ids.data or []))
        if saved:
            flash(f"Plan {form.name.data} saved.", "success")
            return redirect_response(url_for("warranty.plan_list"))
    return form_page("warranty/plan_form.html", form, plan=plan)


@bp.route("/plans/sell", methods=["GET", "POST"])
@allow("counter_sale.post")
def plan_sell():
    """Sell an extended plan for a vehicle this showroom sold: the plans on sale for its model on
    the day. Sold here, it is a counter invoice of one line naming the plan and the VIN (billing
    posts it; the line's trigger records the plan sale); bought from another dealer, it is recorded
    with that dealer's invoice. The database checks the plan's dates, model, months since the sale
    and cover."""
    conn = get_conn()
    today = today_ist()
    form = PlanSaleForm(data={"vin": request.args.get("vin", "").strip().upper(), "key": str(uuid.uuid4())}
                        if request.method == "GET" else None)
    vin = (form.vin.data or "").strip().upper()
    unit = queries.sold_unit(conn, vin) if VIN_TYPED.fullmatch(vin) else None
    here = form.sold_by.data != "ELSEWHERE"
    sold_on = today if here else (form.sold_on.data or today)
    plans = queries.plans_for_model(conn, unit["model_id"], sold_on) if unit else []
    form.plan_id.choices = [(0, "Choose the plan")] + [(p["plan_id"], f"{p['name']} · {inr(p['price'])} + GST")
                                                        for p in plans]
    if request.method == "POST":
        earlier = earlier_redirect(conn, "invoice", form.key.data, "billing.invoice_detail", "invoice_id")
        if earlier:
            return earlier
        valid = form.validate_on_submit()
        if not form.vin.errors and unit is None:
            form.vin.errors = [*form.vin.errors, "No vehicle sold by this showroom has this VIN"]
            valid = False
        elif not form.vin.errors and unit["customer_id"] is None:
            form.vin.errors = [*form.vin.errors, "This vehicle was sold by another branch: sell the plan there"]
            valid = False
        if valid and not here and form.sold_on.data > today:
            form.sold_on.errors = [*form.sold_on.errors, "This day has not come yet"]
            valid = False
        if valid and here:
            invoice_id, saved = post_once(conn, form, "invoice", PLAN_SALE_ERRORS, lambda: billing_api.post_plan_invoice(
                conn, current_user.branch_id, plan_id=form.plan_id.data, vin=vin, customer_id=unit["customer_id"],
                on=today, key=form.key.data, paid_by=form.paid_by.data, reference=form.payment_reference.data))
            if saved:
                flash(f"Plan sold for {vin}: invoice below.", "success")
                return redirect_response(url_for("billing.invoice_detail", invoice_id=invoice_id))
        elif valid:
            _, saved = save_or_field_error(conn, form, PLAN_SALE_ERRORS, lambda: queries.insert_plan_sale(
                conn, branch_id=current_user.branch_id, plan_id=form.plan_id.data, vin=vin,
                model_id=unit["model_id"], vehicle_sold_on=unit["sale_date"], sold_on=form.sold_on.data,
                customer_id=unit["customer_id"], invoice_ref=form.invoice_ref.data))
            if saved:
                flash(f"Plan bought elsewhere recorded for {vin}.", "success")
                return redirect_response(url_for("warranty.check", vin=vin) if may_open("warranty.check")
                                         else url_for("warranty.plan_list"))
    return form_page("warranty/plan_sell.html", form, unit=unit, plans=plans)


# --------------------------------------------------------------------------- the replacement pack rule

TERM_LABELS = {"REMAINING": "the rest of the replaced pack's term", "FRESH": "a fresh term from fitment"}


def _rule_form(conn, keep_oem: int | None = None, **kwargs) -> ReplacementRuleForm:
    form = ReplacementRuleForm(**kwargs)
    form.oem_id.choices = [(0, "Every OEM"), *queries.oem_choices(conn, keep_oem)]
    return form


def _save_rule(conn, form, rule_id: int | None):
    data = form.data
    clashes = queries.overlapping_rules(conn, data["oem_id"] or None, data["effective_from"], data["effective_to"],
                                        rule_id)
    messages = {**RULE_ERRORS, "replacement_rule_no_overlap": ("effective_from", overlap_message(
        clashes, "rule", lambda r: f"“{TERM_LABELS.get(r.pack_term, r.pack_term)}”"))}
    return save_or_field_error(conn, form, messages, lambda: queries.save_rule(conn, rule_id, data))


@bp.route("/pack-rules", methods=["GET", "POST"])
@allow("warranty.settings")
def rule_list():
    """Whose term a pack fitted as a warranty replacement takes, per OEM and dated; a new rule below."""
    conn = get_conn()
    form = _rule_form(conn, data={"effective_from": today_ist()} if request.method == "GET" else None)
    if form.validate_on_submit():
        _, saved = _save_rule(conn, form, None)
        if saved:
            flash("Rule saved.", "success")
            return redirect_response(url_for("warranty.rule_list"))
    return form_page("warranty/rule_list.html", form, rules=queries.list_rules(conn, today_ist()), terms=TERM_LABELS,
                     rule=None)


@bp.route("/pack-rules/<int:rule_id>/edit", methods=["GET", "POST"])
@allow("warranty.settings")
def rule_edit(rule_id: int):
    conn = get_conn()
    rule = found_or_404(queries.get_rule(conn, rule_id))
    form = _rule_form(conn, rule["oem_id"], data=dict(rule, oem_id=rule["oem_id"] or 0)
                      if request.method == "GET" else None)
    if form.validate_on_submit():
        _, saved = _save_rule(conn, form, rule_id)
        if saved:
            flash("Rule saved.", "success")
            return redirect_response(url_for("warranty.rule_list"))
    return form_page("warranty/rule_form.html", form, rule=rule)


# --------------------------------------------------------------------------- campaigns


def _campaign_form(conn, **kwargs) -> CampaignForm:
    models = queries.model_options(conn)
    form = CampaignForm(model_oems={m["model_id"]: m["oem_id"] for m in models}, **kwargs)
    form.oem_id.choices = [(0, "Choose the OEM"), *queries.oem_choices(conn)]
    form.model_id.choices = [("", "Choose the model"), *((m["model_id"], m["label"]) for m in models)]
    form.operation_code.choices = [("", "None"), *master_api.labour_choices(conn)]
    return form


@bp.get("/campaigns")
@allow("warranty.read")
def campaign_list():
    state = choice_arg("state", dict(CAMPAIGN_STATES), "open")
    return render_template("warranty/campaign_list.html", state=state, states=CAMPAIGN_STATES,
                           campaigns=queries.list_campaigns(get_conn(), state, today_ist()),
                           can_manage=can("campaign.manage"))


@bp.route("/campaigns/new", methods=["GET", "POST"])
@allow("campaign.manage")
def campaign_new():
    conn = get_conn()
    form = _campaign_form(conn, data={"opened_on": today_ist()} if request.method == "GET" else None)
    if form.validate_on_submit():
        campaign_id, saved = save_or_field_error(conn, form, CAMPAIGN_ERRORS, lambda: queries.insert_campaign(
            conn, form.data_for_db(), form.vins if form.match_by.data == "VIN_LIST" else []))
        if saved:
            flash(f"Campaign {form.code.data} recorded" + (f" with {len(form.vins):,} VINs." if form.match_by.data
                                                           == "VIN_LIST" else "."), "success")
            return redirect_response(url_for("warranty.campaign_detail", campaign_id=campaign_id))
    return form_page("warranty/campaign_form.html", form)


def _campaign_page(conn, campaign, done_form=None, close_form=None, status: int = 200):
    state = choice_arg("state", dict(REPORT_STATES), "all")
    rows, page = paged(lambda number, size: queries.campaign_report(conn, campaign, state, number, size))
    page = Page.counted(page.number, page.size, page.total)
    today = today_ist()
    is_open = campaign["closed_on"] is None or campaign["closed_on"] >= today
    manage = can("campaign.manage")
    context = dict(campaign=campaign, rows=rows, page=page, state=state, states=REPORT_STATES,
                   results_id=REPORT_TARGET, is_open=is_open,
                   may_claim=campaign["kind"] == "RECALL" and may_open("warranty.recall_claim_new"),
                   done_form=(done_form or CampaignDoneForm(data={"done_on": today})) if manage and is_open else None,
                   close_form=(close_form or CloseCampaignForm(data={"closed_on": today}))
                   if manage and is_open else None)
    if request.method == "GET":
        response = rows_or_page("warranty/campaign_detail.html", "warranty/_campaign_vins.html", REPORT_TARGET,
                                totals=None if request.htmx.target == REPORT_TARGET
                                else queries.campaign_totals(conn, campaign), **context)
        return response
    return render_template("warranty/campaign_detail.html", totals=queries.campaign_totals(conn, campaign),
                           **context), status


@bp.get("/campaigns/<int:campaign_id>")
@allow("warranty.read")
def campaign_detail(campaign_id: int):
    conn = get_conn()
    return _campaign_page(conn, found_or_404(queries.get_campaign(conn, campaign_id)))


@bp.post("/campaigns/<int:campaign_id>/done")
@allow("campaign.manage")
def campaign_done(campaign_id: int):
    """Mark the campaign done on a VIN at this branch (a job card does it in the workshop; this is
    for work recorded afterwards or done before the job cards)."""
    conn = get_conn()
    campaign = found_or_404(queries.get_campaign(conn, campaign_id))
    form = CampaignDoneForm()
    if form.validate_on_submit():
        if form.done_on.data > today_ist():
            form.done_on.errors = [*form.done_on.errors, "This day has not come yet"]
        else:
            unit = queries.unit_for_campaign(conn, form.vin.data)
            _, saved = save_or_field_error(conn, form, CAMPAIGN_DONE_ERRORS, lambda: queries.insert_campaign_done(
                conn, campaign_id=campaign_id, vin=form.vin.data, model_id=unit["model_id"] if unit else None,
                mfg_month=unit["mfg_month"] if unit else None, done_on=form.done_on.data,
                branch_id=current_user.branch_id, job_ref=form.job_ref.data))
            if saved:
                flash(f"{campaign['code']} done on {form.vin.data}.", "success")
                return redirect_response(url_for("warranty.campaign_detail", campaign_id=campaign_id))
    return _campaign_page(conn, campaign, done_form=form, status=422)


@bp.post("/campaigns/<int:campaign_id>/close")
@allow("campaign.manage")
def campaign_close(campaign_id: int):
    conn = get_conn()
    campaign = found_or_404(queries.get_campaign(conn, campaign_id))
    form = CloseCampaignForm()
    if form.validate_on_submit():
        _, saved = save_or_field_error(conn, form, {"campaign_period": ("closed_on", "Before the campaign opened")},
                                       lambda: queries.close_campaign(conn, campaign_id, form.closed_on.data))
        if saved:
            flash(f"{campaign['code']} closed from {form.closed_on.data:%d-%m-%Y}.", "success")
            return redirect_response(url_for("warranty.campaign_detail", campaign_id=campaign_id))
    return _campaign_page(conn, campaign, close_form=form, status=422)
