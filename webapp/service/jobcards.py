"""Job cards: opened from the vehicle's page (service type, odometer with a manager's override,
complaints in the customer's words, promised time), the job card page, its edit and cancellation,
the inspection checklist, battery readings per pack, photos from the tablet camera.

Who: the counter (jobcard.manage) opens, edits and cancels; the workshop floor (jobcard.work)
also records the checklist, readings and photos; everyone in the workshop reads (workshop.read)."""
from __future__ import annotations

import hashlib
import io
from types import SimpleNamespace

from flask import flash, make_response, render_template, request, url_for
from flask_login import current_user
from PIL import Image, UnidentifiedImageError

from .. import panels
from ..db import get_conn
from ..documents import new_key
from ..errors import redirect_response
from ..formatting import to_ist
from ..forms import choices, save_or_field_error
from ..pages import found_or_404
from ..security import allow, can
from ..submit_once import earlier_redirect, post_once
from . import bp, queries
from .bill import bill_summary
from .board import since
from .forms import (
    CHECKLIST_MESSAGES,
    JOB_CARD_MESSAGES,
    PHOTO_MESSAGES,
    READING_MESSAGES,
    SERVICE_TYPE_LABELS,
    CancelForm,
    JobCardForm,
    PhotoForm,
    ReadingForm,
)
from .vehicles import FLAG_LABELS

MAX_PHOTO_BYTES = 6 * 1024 * 1024
PHOTO_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
THUMB_PX = 240


def _card_or_404(conn, job_card_id: int):
    """The job card if this branch may see it (another branch's is no row: 404)."""
    return found_or_404(queries.get_job_card(conn, job_card_id))


def _closed(card):
    """None while the card is open; for a delivered or cancelled card, back to its page saying so."""
    if card["state"] not in ("DELIVERED", "CANCELLED"):
        return None
    flash(f"Job card {card['job_card_no']} is {card['state_label'].lower()}: it does not change any more.", "error")
    return redirect_response(url_for("service.job_card_detail", job_card_id=card["job_card_id"]))


def _card_data(form: JobCardForm) -> dict:
    """The columns from the form; the override is recorded in the name of the manager typing it."""
    data = {name: form[name].data for name in ("service_type", "free_service_no", "odometer_km", "complaints")}
    data["free_service_no"] = data["free_service_no"] if data["service_type"] == "FREE_SERVICE" else None
    data["promised_at"] = to_ist(form.promised_at.data) if form.promised_at.data else None
    data["technician_id"] = form.technician_id.data or None
    reason = form.odometer_override_reason.data if can("workshop.override") else None
    data["odometer_override_reason"] = reason
    data["odometer_override_by"] = current_user.staff_id if reason else None
    return data


def _say_where_free_service_was_used(conn, form: JobCardForm, vehicle_id: int, job_card_id: int | None = None) -> None:
    """A free service refused as used: which visit used it (at any branch, whose card this branch may not
    see), in place of the general words."""
    general = JOB_CARD_MESSAGES["job_card_free_service_once_idx"][1]
    field = form.free_service_no
    if general not in (field.errors or ()) or not field.data:
        return
    used = queries.free_service_used(conn, vehicle_id, field.data, job_card_id)
    if used:
        field.errors = [e if e != general else
                        (f"Free service {used['free_service_no']} was already used on this vehicle on "
                         f"{used['used_on']:%d-%m-%Y} at {used['branch_name']} (job card {used['job_card_no']})")
                        for e in field.errors]


def _job_card_form(conn, **kw) -> JobCardForm:
    form = JobCardForm(**kw)
    form.technician_id.choices = choices([(0, "Not yet assigned")] + queries.technician_choices(conn, current_user.branch_id))
    if not can("workshop.override"):
        del form.odometer_override_reason
    return form


@bp.route("/vehicles/<int:vehicle_id>/job-cards/new", methods=["GET", "POST"])
@allow("jobcard.manage")
def job_card_new(vehicle_id: int):
    conn = get_conn()
    vehicle = found_or_404(queries.get_vehicle(conn, vehicle_id))
    form = _job_card_form(conn)
    earlier = earlier_redirect(conn, "job_card", form.key.data, "service.job_card_detail", "job_card_id")
    if earlier:
        return earlier
    if not form.key.data:
        form.key.data = new_key()
    if form.validate_on_submit():
        job_card_id, saved = post_once(conn, form, "job_card", JOB_CARD_MESSAGES, lambda: queries.insert_job_card(
            conn, branch_id=current_user.branch_id, vehicle_id=vehicle_id, key=form.key.data, data=_card_data(form)))
        if saved:
            flash("Job card opened.", "success")
            return redirect_response(url_for("service.job_card_detail", job_card_id=job_card_id))
        _say_where_free_service_was_used(conn, form, vehicle_id)
    status = 422 if request.method == "POST" else 200
    return render_template("service/job_card_form.html", vehicle=vehicle, form=form, card=None), status


@bp.get("/job-cards/<int:job_card_id>")
@allow("workshop.read")
def job_card_detail(job_card_id: int):
    conn = get_conn()
    card = _card_or_404(conn, job_card_id)
    moves = [t for t in queries.transitions(conn) if t["from_state"] == card["state"] and t["by_tap"]
             and (can("jobcard.manage") or not t["advisor_only"])] if can("jobcard.work") else []
    return render_template(
        "service/job_card_detail.html", card=card, moves=moves,
        history=[{**h, "in_state": since(h["time_in_state"]) if h["time_in_state"] is not None else None}
                 for h in queries.state_history(conn, job_card_id)],
        checklist=queries.checklist(conn, job_card_id), readings=queries.card_readings(conn, job_card_id),
        photos=queries.card_photos(conn, job_card_id), service_types=SERVICE_TYPE_LABELS, flag_labels=FLAG_LABELS,
        is_open=card["state"] not in ("DELIVERED", "CANCELLED"), photo_form=PhotoForm(), **bill_summary(conn, card),
        panels=panels.draw("service_job_card", conn, {"job_card_id": job_card_id, "vehicle_id": card["vehicle_id"],
                                                      "state": card["state"], "service_type": card["service_type"]}))


@bp.route("/job-cards/<int:job_card_id>/edit", methods=["GET", "POST"])
@allow("jobcard.manage")
def job_card_edit(job_card_id: int):
    conn = get_conn()
    card = _card_or_404(conn, job_card_id)
    if closed := _closed(card):
        return closed
    form = _job_card_form(conn, data={**card, "promised_at": to_ist(card["promised_at"]).replace(tzinfo=None)
                                      if card["promised_at"] else None,
                                      "technician_id": card["technician_id"] or 0} if request.method == "GET" else None)
    if form.validate_on_submit():
        data = _card_data(form)
        if not data["odometer_override_reason"] and "odometer_override_reason" not in form:
            # Someone who may not override keeps the card's override as it is.
            data.pop("odometer_override_reason")
            data.pop("odometer_override_by")
        _, saved = save_or_field_error(conn, form, JOB_CARD_MESSAGES,
                                       lambda: queries.update_job_card(conn, job_card_id, data))
        if saved:
            flash("Job card saved.", "success")
            return redirect_response(url_for("service.job_card_detail", job_card_id=job_card_id))
        _say_where_free_service_was_used(conn, form, card["vehicle_id"], job_card_id)
    status = 422 if request.method == "POST" else 200
    vehicle = queries.get_vehicle(conn, card["vehicle_id"])
    return render_template("service/job_card_form.html", vehicle=vehicle, form=form, card=card), status


@bp.route("/job-cards/<int:job_card_id>/cancel", methods=["GET", "POST"])
@allow("jobcard.manage")
def job_card_cancel(job_card_id: int):
    conn = get_conn()
    card = _card_or_404(conn, job_card_id)
    if closed := _closed(card):
        return closed
    form = CancelForm()
    if form.validate_on_submit():
        _, saved = save_or_field_error(conn, form, JOB_CARD_MESSAGES,
                                       lambda: queries.cancel_job_card(conn, job_card_id, form.cancel_reason.data))
        if saved:
            flash(f"Job card {card['job_card_no']} cancelled.", "success")
            return redirect_response(url_for("service.job_card_detail", job_card_id=job_card_id))
    status = 422 if request.method == "POST" else 200
    return render_template("service/job_card_cancel.html", card=card, form=form), status


# --------------------------------------------------------------------------- inspection checklist


@bp.route("/job-cards/<int:job_card_id>/checklist", methods=["GET", "POST"])
@allow("workshop.read", write="jobcard.work")
def checklist(job_card_id: int):
    """OK / not OK / remark per item; an item left unanswered is cleared."""
    conn = get_conn()
    card = _card_or_404(conn, job_card_id)
    items = queries.checklist(conn, job_card_id)
    errors: dict[int, str] = {}
    form_errors: list[str] = []
    typed = {}
    if request.method == "POST" and (closed := _closed(card)):
        return closed
    if request.method == "POST":
        answers = {}
        for item in items:
            result = request.form.get(f"result_{item['item_id']}", "")
            remark = request.form.get(f"remark_{item['item_id']}", "").strip() or None
            typed[item["item_id"]] = (result, remark)
            if result not in ("", "OK", "NOT_OK"):
                errors[item["item_id"]] = "Choose OK or Not OK"
            elif remark and len(remark) > 300:
                errors[item["item_id"]] = "A remark of at most 300 characters"
            elif result == "NOT_OK" and not remark:
                errors[item["item_id"]] = "Say what is wrong"
            elif remark and not result:
                errors[item["item_id"]] = "Choose OK or Not OK for this remark"
            else:
                answers[item["item_id"]] = (result or None, remark)
        if not errors:
            # The database's refusals go above the checklist.
            _, saved = save_or_field_error(conn, SimpleNamespace(form_errors=form_errors), CHECKLIST_MESSAGES,
                                           lambda: queries.save_checklist(conn, job_card_id, answers))
            if saved:
                flash("Checklist saved.", "success")
                return redirect_response(url_for("service.job_card_detail", job_card_id=job_card_id))
    status = 422 if errors or form_errors else 200
    return render_template("service/checklist.html", card=card, items=items, errors=errors, typed=typed,
                           form_errors=form_errors, may_edit=can("jobcard.work")
                           and card["state"] not in ("DELIVERED", "CANCELLED")), status


# --------------------------------------------------------------------------- battery readings


@bp.route("/job-cards/<int:job_card_id>/readings", methods=["GET", "POST"])
@allow("workshop.read", write="jobcard.work")
def reading_new(job_card_id: int):
    """The card's battery reading of a pack (a second reading of the same pack replaces it)."""
    conn = get_conn()
    card = _card_or_404(conn, job_card_id)
    form = ReadingForm()
    packs = queries.card_packs(conn, job_card_id)
    form.pack_id.choices = choices([(0, "Choose…")] + packs)
    if request.method == "GET" and len(packs) == 1:
        form.pack_id.data = packs[0][0]
    if request.method == "POST" and (closed := _closed(card)):
        return closed
    if form.validate_on_submit():
        _, saved = save_or_field_error(conn, form, READING_MESSAGES, lambda: queries.save_reading(
            conn, job_card_id, form.pack_id.data, form.data_for_db()))
        if saved:
            flash("Battery reading saved.", "success")
            return redirect_response(url_for("service.job_card_detail", job_card_id=job_card_id))
    status = 422 if request.method == "POST" else 200
    return render_template("service/reading_form.html", card=card, form=form, has_packs=bool(packs),
                           readings=queries.card_readings(conn, job_card_id), flag_labels=FLAG_LABELS,
                           may_edit=can("jobcard.work") and card["state"] not in ("DELIVERED", "CANCELLED")), status


# --------------------------------------------------------------------------- photos


def _photo(data: bytes) -> tuple[str, bytes]:
    """(content type, JPEG thumbnail) of an image; ValueError when it is not a JPEG, PNG or WebP."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = PHOTO_TYPES.get(image.format)
            if kind is None:
                raise ValueError("A photo is a JPEG, PNG or WebP image")
            image.thumbnail((THUMB_PX, THUMB_PX))
            out = io.BytesIO()
            image.convert("RGB").save(out, "JPEG", quality=75)
            return kind, out.getvalue()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError):
        raise ValueError("This file is not a photo: a JPEG, PNG or WebP image") from None


@bp.post("/job-cards/<int:job_card_id>/photos")
@allow("jobcard.work")
def photo_add(job_card_id: int):
    conn = get_conn()
    card = _card_or_404(conn, job_card_id)
    if closed := _closed(card):
        return closed
    form = PhotoForm()
    problem = None
    if not form.validate_on_submit():
        problem = "; ".join(e for errs in form.errors.values() for e in errs) or "The form expired: try again"
    else:
        upload = form.photo.data
        data = upload.read(MAX_PHOTO_BYTES + 1) if upload and hasattr(upload, "read") else b""
        if not data:
            problem = "Take or choose a photo first"
        elif len(data) > MAX_PHOTO_BYTES:
            problem = "A photo of at most 6 MB: take it again at a lower resolution"
        else:
            try:
                content_type, thumbnail = _photo(data)
            except ValueError as exc:
                problem = str(exc)
            else:
                _, saved = save_or_field_error(conn, form, PHOTO_MESSAGES, lambda: queries.add_photo(
                    conn, job_card_id, content_type=content_type, image=data,
                    sha256=hashlib.sha256(data).hexdigest(), thumbnail=thumbnail, caption=form.caption.data))
                if not saved:
                    problem = "; ".join(form.form_errors or [e for errs in form.errors.values() for e in errs])
    flash(problem or "Photo added.", "error" if problem else "success")
    return redirect_response(url_for("service.job_card_detail", job_card_id=job_card_id) + "#photos")


def _photo_response(photo_id: int, thumbnail: bool):
    found = found_or_404(queries.photo(get_conn(), photo_id, thumbnail))
    response = make_response(bytes(found["data"]))
    response.headers["Content-Type"] = found["content_type"]
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/photos/<int:photo_id>")
@allow("workshop.read")
def photo_image(photo_id: int):
    return _photo_response(photo_id, thumbnail=False)


@bp.get("/photos/<int:photo_id>/thumbnail")
@allow("workshop.read")
def photo_thumbnail(photo_id: int):
    return _photo_response(photo_id, thumbnail=True)


@bp.post("/job-cards/<int:job_card_id>/take")
@allow("jobcard.work")
def job_card_take(job_card_id: int):
    """A technician takes the card into their bay (it then shows under "my jobs")."""
    conn = get_conn()
    card = _card_or_404(conn, job_card_id)
    if closed := _closed(card):
        return closed
    queries.update_job_card(conn, job_card_id, {"technician_id": current_user.staff_id})
    flash(f"Job card {card['job_card_no']} is yours.", "success")
    return redirect_response(url_for("service.job_card_detail", job_card_id=job_card_id))

