"""Warranty claims to the OEM: raised from a job card (warranty repair, battery, free-service labour,
recall labour) with the card's covered lines, its evidence chosen (battery readings with the pack's
SoH trend, fault codes, photos), lines of labour and parts with the failed and replacement serials;
submitted with the OEM's reference, the OEM's decision (approved, partly approved, rejected with its
reason) and its settlement (the amount credited, which may differ); the claim PDF in the form the
OEM's portal asks; the claims register with ageing and the amount pending from each OEM; the failed
parts held for return to the OEM; the battery pack swap under warranty on a job card; and the OEMs'
dated warranty labour rates.

Who: the workshop (SERVICE_ADVISOR, MANAGER, ADMIN) raises and moves claims (warranty.claim),
ACCOUNTS records the OEM's decision and settles them (warranty.claim, warranty.settle), the counter
swaps a pack (battery.fit); MANAGER and ADMIN set the labour rates (warranty.settings).
"""
from __future__ import annotations

import base64
from types import SimpleNamespace

from flask import flash, render_template, request, url_for
from flask_login import current_user

from ..db import get_conn
from ..documents import new_key, register_document
from ..errors import redirect_response
from ..formatting import ddmmyyyy, inr, plain_number, today_ist
from ..forms import choices, save_or_field_error
from ..master import api as master_api
from ..pages import choice_arg, form_page, found_or_404
from ..pdf import pdf_response, render_pdf
from ..security import allow, can, may_open
from ..service import api as service_api
from ..submit_once import earlier_redirect, post_once
from . import bp
from . import claim_queries as queries
from .claim_forms import (
    CLAIM_ERRORS,
    LINE_ERRORS,
    MOVE_ERRORS,
    OUTCOMES,
    RATE_ERRORS,
    RECALL_CLAIM_ERRORS,
    RETURN_ERRORS,
    SWAP_ERRORS,
    WORDS_ERRORS,
    ClaimForm,
    ClaimLineForm,
    ClaimWordsForm,
    DecisionForm,
    LabourRateForm,
    PackSwapForm,
    RecallClaimForm,
    ReturnForm,
    SettleForm,
    SubmitForm,
)

register_document("warranty_claim", "warranty.claim", "claim_id")

REGISTER_STATES = (("pending", "Pending with the OEM"), ("draft", "Drafts"), ("closed", "Settled or rejected"),
                   ("all", "All"))
HELD_STATES = (("held", "Held for the OEM"), ("returned", "Returned"))
OUTCOME_LABELS = dict(OUTCOMES)
OPEN_CARD = ("DELIVERED", "CANCELLED")


def _claim_or_404(conn, claim_id: int):
    return found_or_404(queries.claim(conn, claim_id))


def _card_or_404(conn, job_card_id: int):
    return found_or_404(queries.job_card(conn, job_card_id))


def _back_to(claim_id: int):
    return redirect_response(url_for("warranty.claim_detail", claim_id=claim_id))


def _not_draft(claim):
    """None for a draft; otherwise back to the claim's page saying what it claims is fixed."""
    if claim["status"] == "DRAFT":
        return None
    flash(f"Claim {claim['claim_no']} is {claim['status_label'].lower()}: what it claims is fixed.", "error")
    return _back_to(claim["claim_id"])


# --------------------------------------------------------------------------- the panel on the job card


def job_card_context(conn, subject) -> dict | None:
    """The "service_job_card" panel (templates/warranty/_job_card_claims.html): the card's claims and
    the links to raise one and to swap its battery pack under warranty."""
    if not can("warranty.read"):
        return None
    job_card_id = subject["job_card_id"]
    is_open = subject["state"] not in OPEN_CARD
    return {"claims": queries.card_claims(conn, job_card_id), "job_card_id": job_card_id,
            "may_raise": subject["state"] != "CANCELLED" and may_open("warranty.claim_new", "POST"),
            "may_swap": is_open and may_open("warranty.pack_swap", "POST"), "kinds": queries.KINDS,
            "campaigns": queries.card_open_campaigns(conn, job_card_id),
            "may_add_campaign": is_open and may_open("warranty.campaign_line_add", "POST")}


CAMPAIGN_LINE_ERRORS = {
    "job_line_campaign_operation": (None, "This campaign names no labour operation: the OEM's work is not known"),
    "job_line_campaign_open": (None, "The campaign was not open on the day this job card was opened"),
    "job_line_campaign_covers": (None, "The campaign does not cover this vehicle"),
    "job_line_campaign_once": (None, "The campaign is already done on this vehicle or on one of its job cards"),
    "job_line_campaign_recall": (None, "A campaign's line is the OEM's labour operation, paid by the OEM"),
    "job_line_card_open": (None, "The job card is closed: its work does not change"),
    "job_line_card_billed": (None, "The job card is billed: its work does not change"),
}


@bp.post("/job-cards/<int:job_card_id>/campaigns/<int:campaign_id>")
@allow("jobcard.manage")
def campaign_line_add(job_card_id: int, campaign_id: int):
    """An open campaign that covers the card's vehicle becomes a line of the card: its labour
    operation, paid by the OEM (RECALL). Marking the line done records the campaign done on the VIN."""
    conn = get_conn()
    card = _card_or_404(conn, job_card_id)
    holder = SimpleNamespace(form_errors=[])
    line, saved = save_or_field_error(conn, holder, CAMPAIGN_LINE_ERRORS,
                                      lambda: queries.add_campaign_line(conn, job_card_id, campaign_id))
    if saved and line is None:
        flash("No such campaign.", "error")
    elif saved:
        flash(f"Campaign added to job card {card['job_card_no']}.", "success")
    else:
        flash(" ".join(holder.form_errors) or "The campaign could not be added.", "error")
    return redirect_response(url_for("service.job_card_detail", job_card_id=job_card_id) + "#claims")


# --------------------------------------------------------------------------- raising a claim


@bp.route("/campaigns/<int:campaign_id>/claims/new", methods=["GET", "POST"])
@allow("warranty.claim")
def recall_claim_new(campaign_id: int):
    """A recall claimed from its campaign for a VIN it was done on (no job card): the campaign's labour
    operation at the OEM's rate. The database checks the campaign covers the VIN and was done on it."""
    conn = get_conn()
    campaign = found_or_404(queries.campaign(conn, campaign_id))
    form = RecallClaimForm(data={"vin": request.args.get("vin", "").strip().upper(), "complaint": campaign["title"]}
                           if request.method == "GET" else None)
    earlier = earlier_redirect(conn, "warranty_claim", form.key.data, "warranty.claim_detail", "claim_id")
    if earlier:
        return earlier
    if not form.key.data:
        form.key.data = new_key()
    if request.method == "POST" and campaign["kind"] != "RECALL":
        form.form_errors.append("A service campaign is not claimed as a recall")
    elif form.validate_on_submit():
        claim_id, saved = post_once(conn, form, "warranty_claim", RECALL_CLAIM_ERRORS, lambda: queries.insert_recall_claim(
            conn, branch_id=current_user.branch_id, campaign_id=campaign_id, vin=form.vin.data,
            complaint=form.complaint.data, correction=form.correction.data, key=form.key.data))
        if saved and claim_id is None:
            form.vin.errors = [*form.vin.errors, "The workshop does not know this VIN: register the vehicle first"]
        elif saved:
            flash("Recall claim raised as a draft: check its lines, then submit it on the OEM's portal.", "success")
            return _back_to(claim_id)
    return form_page("warranty/recall_claim_form.html", form, campaign=campaign)


@bp.route("/job-cards/<int:job_card_id>/claims/new", methods=["GET", "POST"])
@allow("warranty.claim")
def claim_new(job_card_id: int):
    """A claim from the job card: the card's covered lines of its kind go on it."""
    conn = get_conn()
    card = _card_or_404(conn, job_card_id)
    default_kind = {"FREE_SERVICE": "FREE_SERVICE_LABOUR", "RECALL": "RECALL",
                    "BATTERY_CHECK": "BATTERY"}.get(card["service_type"], "WARRANTY_REPAIR")
    form = ClaimForm(data={"kind": default_kind, "complaint": card["complaints"]} if request.method == "GET" else None)
    form.campaign_id.choices = choices([(0, "Not a recall")] + queries.card_campaigns(
        conn, card["vin"], card["model_id"], card["mfg_month"], today_ist(), card["oem_id"]))
    earlier = earlier_redirect(conn, "warranty_claim", form.key.data, "warranty.claim_detail", "claim_id")
    if earlier:
        return earlier
    if not form.key.data:
        form.key.data = new_key()
    if card["state"] == "CANCELLED" and request.method == "POST":
        form.form_errors.append("This job card was cancelled: nothing on it is claimed")
    elif form.validate_on_submit():
        claim_id, saved = post_once(conn, form, "warranty_claim", CLAIM_ERRORS, lambda: queries.insert_claim(
            conn, branch_id=current_user.branch_id, job_card_id=job_card_id, kind=form.kind.data,
            campaign_id=form.campaign_id.data if form.kind.data == "RECALL" else None,
            complaint=form.complaint.data, cause=form.cause.data, correction=form.correction.data, key=form.key.data))
        if saved:
            flash("Claim raised as a draft: check its lines and evidence, then submit it on the OEM's portal.", "success")
            return _back_to(claim_id)
    return form_page("warranty/claim_form.html", form, card=card)


# --------------------------------------------------------------------------- one claim


def _evidence(conn, claim):
    rows = queries.evidence(conn, claim["claim_id"], claim["vehicle_id"])
    readings = [r for r in rows if r["what"] == "reading"]
    photos = [r for r in rows if r["what"] == "photo"]
    floor = claim["battery_min_soh_pct"]
    chosen_packs = {r["pack_id"] for r in readings if r["chosen"]} or ({claim["pack_id"]} if claim["pack_id"] else set())
    trend_rows = [dict(r, read_at=r["at"]) for r in readings if r["pack_id"] in chosen_packs]
    return SimpleNamespace(readings=readings, photos=photos, chosen_readings=[r for r in readings if r["chosen"]],
                           chosen_photos=[p for p in photos if p["chosen"]],
                           trends=service_api.pack_trends(trend_rows, floor) if trend_rows else [],
                           fault_codes=sorted({c for r in readings if r["chosen"] for c in (r["fault_codes"] or [])}))


def _claim_page(conn, claim_id: int) -> dict:
    claim = _claim_or_404(conn, claim_id)
    return {"claim": claim, "lines": queries.claim_lines(conn, claim_id), "evidence": _evidence(conn, claim),
            "history": queries.claim_history(conn, claim_id), "kinds": queries.KINDS,
            "flag_labels": service_api.FLAG_LABELS}


@bp.get("/claims/<int:claim_id>")
@allow("warranty.read")
def claim_detail(claim_id: int):
    conn = get_conn()
    page = _claim_page(conn, claim_id)
    status = page["claim"]["status"]
    return render_template(
        "warranty/claim_detail.html", **page,
        may_edit=status == "DRAFT" and can("warranty.claim"),
        may_submit=status == "DRAFT" and can("warranty.claim"),
        may_decide=status == "SUBMITTED" and can("warranty.claim"),
        may_settle=status in ("APPROVED", "PARTLY_APPROVED") and can("warranty.settle"),
        job_card_url=service_api.job_card_url(page["claim"]["job_card_id"]) if page["claim"]["job_card_id"] else None)


@bp.get("/claims/<int:claim_id>/pdf")
@allow("warranty.read")
def claim_pdf(claim_id: int):
    """The claim as the OEM's portal asks for it (not kept: a draft changes; the OEM's copy is on its portal)."""
    conn = get_conn()
    page = _claim_page(conn, claim_id)
    thumbs = queries.photo_thumbnails(conn, claim_id)
    thumb_uris = {pid: "data:image/jpeg;base64," + base64.b64encode(data).decode() for pid, data in thumbs.items()}
    pdf = render_pdf("warranty/claim_pdf.html", **page, thumbs=thumb_uris, printed_on=today_ist(),
                     branch=master_api.branch_for_print(conn, page["claim"]["branch_id"]))
    return pdf_response(pdf, f"{page['claim']['claim_no'].replace('/', '-')}.pdf")


@bp.route("/claims/<int:claim_id>/edit", methods=["GET", "POST"])
@allow("warranty.claim")
def claim_edit(claim_id: int):
    """A draft's words (complaint, cause, correction) and the evidence chosen for it."""
    conn = get_conn()
    claim = _claim_or_404(conn, claim_id)
    if fixed := _not_draft(claim):
        return fixed
    rows = queries.evidence(conn, claim_id, claim["vehicle_id"])
    readings = [r for r in rows if r["what"] == "reading"]
    photos = [r for r in rows if r["what"] == "photo"]
    form = ClaimWordsForm(data={**claim, "reading_ids": [r["id"] for r in readings if r["chosen"]],
                                "photo_ids": [p["id"] for p in photos if p["chosen"]]}
                          if request.method == "GET" else None)
    form.reading_ids.choices = [(r["id"], _reading_label(r)) for r in readings]
    form.photo_ids.choices = [(p["id"], f"{p['caption'] or 'Photo'} · job card {p['job_card_no']}") for p in photos]
    if form.validate_on_submit():
        def save():
            queries.update_claim_words(conn, claim_id, complaint=form.complaint.data, cause=form.cause.data,
                                       correction=form.correction.data)
            queries.set_evidence(conn, claim_id, form.reading_ids.data or [], form.photo_ids.data or [])
        _, saved = save_or_field_error(conn, form, WORDS_ERRORS, save)
        if saved:
            flash("Claim saved.", "success")
            return _back_to(claim_id)
    return form_page("warranty/claim_edit.html", form, claim=claim, photos={p["id"]: p for p in photos})


def _reading_label(r) -> str:
    codes = f" · faults {', '.join(r['fault_codes'])}" if r["fault_codes"] else ""
    return (f"Pack {r['serial']} · {ddmmyyyy(r['at'])} · job card {r['job_card_no']} · SoH {plain_number(r['soh_pct'])} %"
            f" · cell delta {plain_number(r['cell_delta_mv'])} mV{codes}")


@bp.route("/claims/<int:claim_id>/lines/new", methods=["GET", "POST"])
@allow("warranty.claim")
def claim_line_new(claim_id: int):
    conn = get_conn()
    claim = _claim_or_404(conn, claim_id)
    if fixed := _not_draft(claim):
        return fixed
    form = ClaimLineForm(data={"kind": "LABOUR" if claim["kind"] == "FREE_SERVICE_LABOUR" else "PART"}
                         if request.method == "GET" else None)
    form.operation_code.choices = choices([("", "Choose…")] + master_api.labour_choices(conn))
    form.part_id.choices = choices([(0, "Choose…")] + queries.parts(conn))
    if form.validate_on_submit():
        _, saved = save_or_field_error(conn, form, LINE_ERRORS, lambda: queries.add_line(conn, claim_id, form.data))
        if saved:
            flash("Line added.", "success")
            return _back_to(claim_id)
    return form_page("warranty/claim_line_form.html", form, claim=claim)


@bp.post("/claims/<int:claim_id>/lines/<int:line_id>/delete")
@allow("warranty.claim")
def claim_line_delete(claim_id: int, line_id: int):
    conn = get_conn()
    claim = _claim_or_404(conn, claim_id)
    if fixed := _not_draft(claim):
        return fixed
    problem = SimpleNamespace(form_errors=[])
    removed, saved = save_or_field_error(conn, problem, LINE_ERRORS, lambda: queries.delete_line(conn, claim_id, line_id))
    if saved and not removed:
        problem.form_errors.append("This line is not on the claim any more")
    flash("Line removed." if removed else "; ".join(problem.form_errors), "success" if removed else "error")
    return _back_to(claim_id)


# --------------------------------------------------------------------------- moves: submitted, decided, settled


def _move(conn, claim, form, to_status: str, data: dict):
    """Move the claim from the status it was drawn in; a refusal comes back next to its field."""
    moved, saved = save_or_field_error(conn, form, MOVE_ERRORS, lambda: queries.move_claim(
        conn, claim["claim_id"], claim["status"], {"status": to_status, **data}))
    if saved and not moved:
        form.form_errors.append("The claim has moved on meanwhile: see its page")
        return False
    return saved


def _step_page(claim, form, step: str, title: str, button: str):
    return form_page("warranty/claim_step.html", form, claim=claim, step=step, title=title, button=button,
                     not_now=None)


def _not_now(claim, form, step: str, title: str, why: str):
    """The step's page for a claim not at that step: it says why (a link kept from before); a form
    sent anyway goes back to the claim's page saying so."""
    not_now = f"Claim {claim['claim_no']} is {claim['status_label'].lower()}: {why}."
    if request.method == "POST":
        flash(not_now, "error")
        return _back_to(claim["claim_id"])
    return render_template("warranty/claim_step.html", form=form, claim=claim, step=step, title=title, button=None,
                           not_now=not_now)


@bp.route("/claims/<int:claim_id>/submit", methods=["GET", "POST"])
@allow("warranty.claim")
def claim_submit(claim_id: int):
    """Submitted on the OEM's portal: its reference and the day."""
    conn = get_conn()
    claim = _claim_or_404(conn, claim_id)
    if fixed := _not_draft(claim):
        return fixed
    form = SubmitForm(data={"submitted_on": today_ist()} if request.method == "GET" else None)
    if form.validate_on_submit():
        if form.submitted_on.data > today_ist():
            form.submitted_on.errors = ["This day has not come yet"]
        elif _move(conn, claim, form, "SUBMITTED", {"oem_claim_ref": form.oem_claim_ref.data,
                                                    "submitted_on": form.submitted_on.data}):
            flash(f"Claim {claim['claim_no']} submitted to {claim['oem_name']}.", "success")
            return _back_to(claim_id)
    return _step_page(claim, form, "submit", "Submitted to the OEM", "Record the submission")


@bp.route("/claims/<int:claim_id>/decision", methods=["GET", "POST"])
@allow("warranty.claim")
def claim_decide(claim_id: int):
    """The OEM's decision: approved in full, partly (the amount and the reason) or rejected (the reason)."""
    conn = get_conn()
    claim = _claim_or_404(conn, claim_id)
    if claim["status"] != "SUBMITTED":
        return _not_now(claim, DecisionForm(), "decide", "The OEM's decision", "no decision is awaited")
    form = DecisionForm(data={"decided_on": today_ist()} if request.method == "GET" else None)
    if form.validate_on_submit():
        outcome = form.outcome.data
        if form.decided_on.data > today_ist():
            form.decided_on.errors = ["This day has not come yet"]
        elif _move(conn, claim, form, outcome, {
                "decided_on": form.decided_on.data,
                "approved_amount": form.approved_amount.data if outcome == "PARTLY_APPROVED" else
                (claim["claimed_amount"] if outcome == "APPROVED" else None),
                "decision_reason": form.decision_reason.data}):
            flash(f"Claim {claim['claim_no']}: {OUTCOME_LABELS[outcome].lower()}.", "success")
            return _back_to(claim_id)
    return _step_page(claim, form, "decide", "The OEM's decision", "Record the decision")


@bp.route("/claims/<int:claim_id>/settle", methods=["GET", "POST"])
@allow("warranty.read", write="warranty.settle")
def claim_settle(claim_id: int):
    """The amount the OEM credited (which may differ from the approved amount) and the day."""
    conn = get_conn()
    claim = _claim_or_404(conn, claim_id)
    if claim["status"] not in ("APPROVED", "PARTLY_APPROVED"):
        return _not_now(claim, SettleForm(), "settle", "Settled by the OEM", "it is settled once the OEM approves it")
    form = SettleForm(data={"settled_on": today_ist(), "settled_amount": claim["approved_amount"]}
                      if request.method == "GET" else None)
    if form.validate_on_submit():
        if form.settled_on.data > today_ist():
            form.settled_on.errors = ["This day has not come yet"]
        elif _move(conn, claim, form, "SETTLED", {"settled_amount": form.settled_amount.data,
                                                  "settled_on": form.settled_on.data,
                                                  "settlement_ref": form.settlement_ref.data}):
            flash(f"Claim {claim['claim_no']} settled: {inr(form.settled_amount.data)} credited.", "success")
            return _back_to(claim_id)
    return _step_page(claim, form, "settle", "Settled by the OEM", "Record the credit")


# --------------------------------------------------------------------------- the register and the parts held


@bp.get("/claims")
@allow("warranty.read")
def claim_register():
    conn = get_conn()
    today = today_ist()
    state = choice_arg("state", dict(REGISTER_STATES), "pending")
    oem_choices = queries.claim_oems(conn)
    oem_id = request.args.get("oem", type=int)
    oem_id = oem_id if oem_id in {o for o, _ in oem_choices} else None
    ageing = queries.ageing(conn, today)
    totals = {k: sum((a[k] for a in ageing), start=0) for k in ("d0_30", "d31_60", "d61_90", "d90_plus", "total")}
    return render_template("warranty/claim_register.html", claims=queries.register(
        conn, status=state, oem_id=oem_id, today=today), ageing=ageing, totals=totals, state=state,
        states=REGISTER_STATES, oem_choices=oem_choices, oem_id=oem_id, kinds=queries.KINDS, today=today)


@bp.get("/returnable-parts")
@allow("warranty.read")
def returnable_parts():
    conn = get_conn()
    state = choice_arg("state", dict(HELD_STATES), "held")
    return render_template("warranty/returnable_parts.html", parts=queries.returnable_parts(conn, held=state == "held"),
                           state=state, states=HELD_STATES, may_return=can("warranty.claim"))


@bp.route("/claim-lines/<int:line_id>/returned", methods=["GET", "POST"])
@allow("warranty.claim")
def part_returned(line_id: int):
    """The failed part sent back to the OEM: the day and the docket / challan."""
    conn = get_conn()
    line = found_or_404(queries.claim_line(conn, line_id))
    if line["failed_serial"] is None:
        flash("This line has no failed part to return.", "error")
        return _back_to(line["claim_id"])
    form = ReturnForm(data={"returned_on": today_ist()} if request.method == "GET" else None)
    if line["returned_on"] is not None and request.method == "POST":
        form.form_errors.append("Its return to the OEM is already recorded")
    elif form.validate_on_submit():
        if form.returned_on.data > today_ist():
            form.returned_on.errors = ["This day has not come yet"]
        else:
            _, saved = save_or_field_error(conn, form, RETURN_ERRORS, lambda: queries.mark_returned(
                conn, line_id, form.returned_on.data, form.return_ref.data))
            if saved:
                flash(f"{line['failed_serial']} recorded as returned to {line['oem_name']}.", "success")
                return redirect_response(url_for("warranty.returnable_parts"))
    return form_page("warranty/part_returned.html", form, line=line)


# --------------------------------------------------------------------------- the pack swap under warranty


@bp.route("/job-cards/<int:job_card_id>/pack-swap", methods=["GET", "POST"])
@allow("warranty.read", write="battery.fit")
def pack_swap(job_card_id: int):
    """Replace the vehicle's pack with a new one (its serial typed) on the job card, today: the unit's
    battery history (sold here) or the workshop's (sold elsewhere); the old pack goes on the card's
    BATTERY claim as its failed part."""
    conn = get_conn()
    card = _card_or_404(conn, job_card_id)
    packs = queries.fitted_packs(conn, card["vehicle_id"])
    part_choices = queries.pack_parts(conn)
    form = PackSwapForm(data={"old_pack_id": packs[0][0] if len(packs) == 1 else 0,
                              "part_id": part_choices[0][0] if len(part_choices) == 1 else 0}
                        if request.method == "GET" else None)
    form.old_pack_id.choices = choices([(0, "Choose…")] + packs)
    form.part_id.choices = choices([(0, "Choose…")] + part_choices)
    earlier = earlier_redirect(conn, "warranty_claim", form.key.data, "warranty.claim_detail", "claim_id")
    if earlier:
        return earlier
    if not form.key.data:
        form.key.data = new_key()
    is_open = card["state"] not in OPEN_CARD
    if request.method == "POST" and not is_open:
        form.form_errors.append("The job card is closed: a pack is swapped on an open card")
    elif form.validate_on_submit():
        claim_id, saved = post_once(conn, form, "warranty_claim", SWAP_ERRORS, lambda: queries.swap_pack(
            conn, job_card_id=job_card_id, old_pack_id=form.old_pack_id.data, new_serial=form.new_serial.data,
            part_id=form.part_id.data, on=today_ist(), key=form.key.data))
        if saved:
            flash(f"Pack {form.new_serial.data} fitted; the old pack is on the battery claim as its failed part.",
                  "success")
            return _back_to(claim_id)
    return form_page("warranty/pack_swap.html", form, card=card, is_open=is_open, has_parts=bool(part_choices),
                     vehicle_url=service_api.vehicle_url(card["vehicle_id"]))


# --------------------------------------------------------------------------- the OEMs' warranty labour rates


@bp.get("/labour-rates")
@allow("warranty.read")
def labour_rates():
    return render_template("warranty/labour_rates.html", rates=queries.labour_rates(get_conn()), today=today_ist(),
                           may_edit=can("warranty.settings"))


@bp.route("/labour-rates/new", methods=["GET", "POST"])
@allow("warranty.settings")
def labour_rate_new():
    """A rate from a day: the OEM's rate in force before it ends the day before."""
    conn = get_conn()
    form = LabourRateForm(data={"effective_from": today_ist()} if request.method == "GET" else None)
    form.oem_id.choices = choices([(0, "Choose…")] + queries.oem_choices(conn))
    if form.validate_on_submit():
        _, saved = save_or_field_error(conn, form, RATE_ERRORS, lambda: queries.add_labour_rate(
            conn, oem_id=form.oem_id.data, rate_per_hour=form.rate_per_hour.data,
            effective_from=form.effective_from.data))
        if saved:
            flash("Labour rate saved.", "success")
            return redirect_response(url_for("warranty.labour_rates"))
    return form_page("warranty/labour_rate_form.html", form)
