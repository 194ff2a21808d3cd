"""Screens of the oem module: OEMs, models with their free-service schedule, variants and their
colours, dated price lists with the subsidy they give, OEM schemes.

Every staff role but the sub-dealer reads the catalog and its prices (sales quote from it);
ADMIN and MANAGER change it.
"""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for

from .. import validators as v
from ..db import get_conn
from ..formatting import ddmmyyyy, inr, today_ist
from ..forms import overlap_message, save_or_field_error
from ..master import api as master_api
from ..pages import choice_arg, form_page, found_or_404, rows_or_page
from ..security import allow, can
from . import bp, queries
from .forms import (
    COLOUR_ERRORS,
    MODEL_ERRORS,
    OEM_ERRORS,
    PRICE_ERRORS,
    SCHEME_ERRORS,
    SEGMENTS,
    VARIANT_ERRORS,
    ColourForm,
    ModelForm,
    OemForm,
    PriceForm,
    PriceOnForm,
    SchemeForm,
    VariantForm,
    ordinal,
)

SCHEME_WHEN = (("current", "In force today"), ("coming", "Coming"), ("past", "Ended"), ("all", "All"))
SEGMENT_NAMES = dict(SEGMENTS)
BLANK_SCHEDULE_ROWS = 2  # empty lines under the schedule for the next services


def _can_edit() -> bool:
    return can("catalog.edit")


# --------------------------------------------------------------------------- OEMs


@bp.get("/")
@allow("catalog.read")
def oem_list():
    return render_template("oem/oem_list.html", oems=queries.list_oems(get_conn()), can_edit=_can_edit())


@bp.route("/new", methods=["GET", "POST"])
@allow("catalog.edit")
def oem_new():
    form = OemForm()
    if form.validate_on_submit():
        conn = get_conn()
        oem_id, saved = save_or_field_error(conn, form, OEM_ERRORS, lambda: queries.insert_oem(conn, form.data))
        if saved:
            flash(f"{form.brand.data} added. Now add its models.", "success")
            return redirect(url_for("oem.oem_detail", oem_id=oem_id), 303)
    return _oem_form_page(form, None)


@bp.get("/<int:oem_id>")
@allow("catalog.read")
def oem_detail(oem_id: int):
    conn = get_conn()
    oem = found_or_404(queries.get_oem(conn, oem_id))
    return render_template("oem/oem_detail.html", oem=oem, models=queries.list_models(conn, oem_id),
                           schemes=queries.list_schemes(conn, oem_id, "current", today_ist()), segments=SEGMENT_NAMES,
                           can_edit=_can_edit())


@bp.route("/<int:oem_id>/edit", methods=["GET", "POST"])
@allow("catalog.edit")
def oem_edit(oem_id: int):
    conn = get_conn()
    oem = found_or_404(queries.get_oem(conn, oem_id))
    form = OemForm(obj=oem)
    if form.validate_on_submit():
        _, saved = save_or_field_error(conn, form, OEM_ERRORS, lambda: queries.update_oem(conn, oem_id, form.data))
        if saved:
            flash(f"Saved {form.brand.data}.", "success")
            return redirect(url_for("oem.oem_detail", oem_id=oem_id), 303)
    return _oem_form_page(form, oem)


def _oem_form_page(form: OemForm, oem):
    """The OEM form, with the state its GSTIN (as typed, once valid) belongs to."""
    gstin = form.gstin.data or ""
    state = master_api.state_label(get_conn(), gstin[:2]) if v.is_gstin(gstin) else None
    return form_page("oem/oem_form.html", form, oem=oem, gstin_state=state)


# --------------------------------------------------------------------------- models


@bp.get("/models")
@allow("catalog.read")
def model_list():
    return render_template("oem/model_list.html", models=queries.list_models(get_conn()), segments=SEGMENT_NAMES,
                           can_edit=_can_edit())


def _model_form(model=None, schedule=()) -> ModelForm:
    if request.method == "POST":
        form = ModelForm()
    else:
        data = {"schedule": [{"due_months": r.due_months, "due_km": r.due_km} for r in schedule]}
        form = ModelForm(obj=model, data=data)
    if request.method == "GET" or request.form.get("more_rows"):
        for _ in range(BLANK_SCHEDULE_ROWS):
            if len(form.schedule.entries) < form.schedule.max_entries:
                form.schedule.append_entry()
    return form


def _save_model(form: ModelForm, oem_id: int, model_id: int | None, done_message: str):
    """Save on 'Save'; on 'More rows' just draw the form again with empty schedule lines."""
    if request.form.get("more_rows"):
        return None
    if form.validate_on_submit():
        conn = get_conn()
        saved_id, saved = save_or_field_error(
            conn, form, MODEL_ERRORS,
            lambda: queries.save_model(conn, oem_id, model_id, form.data, form.schedule_rows()))
        if saved:
            flash(done_message, "success")
            return redirect(url_for("oem.model_detail", model_id=saved_id), 303)
    return None


@bp.route("/<int:oem_id>/models/new", methods=["GET", "POST"])
@allow("catalog.edit")
def model_new(oem_id: int):
    oem = found_or_404(queries.get_oem(get_conn(), oem_id))
    form = _model_form()
    done = _save_model(form, oem_id, None, f"{oem.brand} {form.name.data} added. Now add its variants.")
    return done or form_page("oem/model_form.html", form, oem=oem, model=None)


@bp.get("/models/<int:model_id>")
@allow("catalog.read")
def model_detail(model_id: int):
    conn, today = get_conn(), today_ist()
    model = found_or_404(queries.get_model(conn, model_id))
    return render_template("oem/model_detail.html", model=model, schedule=queries.free_services(conn, model_id),
                           variants=queries.variants_of_model(conn, model_id, today), today=today,
                           segments=SEGMENT_NAMES, ordinal=ordinal, can_edit=_can_edit())


@bp.route("/models/<int:model_id>/edit", methods=["GET", "POST"])
@allow("catalog.edit")
def model_edit(model_id: int):
    conn = get_conn()
    model = found_or_404(queries.get_model(conn, model_id))
    oem = queries.get_oem(conn, model.oem_id)
    form = _model_form(model, queries.free_services(conn, model_id))
    done = _save_model(form, model.oem_id, model_id, f"Saved {model.brand} {form.name.data}.")
    return done or form_page("oem/model_form.html", form, oem=oem, model=model)


# --------------------------------------------------------------------------- variants


def _variant_form(low_speed: bool, **kwargs) -> VariantForm:
    form = VariantForm(low_speed=low_speed, **kwargs)
    form.hsn_code.choices = [("", "Choose the HSN code"), *master_api.hsn_choices(get_conn(), today_ist(), services=False)]
    return form


def _default_hsn(segment: str) -> str:
    return {"E4W": "870380", "E3W_PASSENGER": "87038040", "E3W_GOODS": "8704"}.get(segment, "871160")


@bp.route("/models/<int:model_id>/variants/new", methods=["GET", "POST"])
@allow("catalog.edit")
def variant_new(model_id: int):
    conn = get_conn()
    model = found_or_404(queries.get_model(conn, model_id))
    form = _variant_form(model.is_low_speed, data={"hsn_code": _default_hsn(model.segment)})
    if form.validate_on_submit():
        variant_id, saved = save_or_field_error(conn, form, VARIANT_ERRORS,
                                                lambda: queries.insert_variant(conn, model_id, form.data))
        if saved:
            flash(f"{model.brand} {model.name} {form.name.data} added. Now its colours and price.", "success")
            return redirect(url_for("oem.variant_detail", variant_id=variant_id), 303)
    return form_page("oem/variant_form.html", form, model=model, variant=None)


def _variant_page(variant_id: int, colour_form: ColourForm | None = None, status: int = 200):
    """The variant page: specs, colours, the price in force today, every price row, the look-up."""
    conn, today = get_conn(), today_ist()
    variant = found_or_404(queries.get_variant(conn, variant_id, today))
    colours = queries.colours(conn, variant_id)
    lookup = _price_lookup(variant, colours, today)
    if request.htmx.target == "price-on-answer":  # the look-up asks for its answer only
        return _lookup_response("oem/_price_on.html", variant=variant, lookup=lookup)
    return _lookup_response(
        "oem/variant_detail.html", status=status, variant=variant, colours=colours, today=today, lookup=lookup,
        prices_today=queries.prices_today(conn, variant_id, today),
        prices=queries.prices_of_variant(conn, variant_id, today),
        schemes=queries.schemes_for_variant(conn, variant_id, variant.oem_id, today),
        colour_form=colour_form or ColourForm(formdata=None), can_edit=_can_edit())


def _lookup_response(template: str, status: int = 200, **context):
    """The variant page or the look-up's answer alone, from one URL: caches must keep them apart."""
    response = current_app.make_response((render_template(template, **context), status))
    response.vary.update(("HX-Request", "HX-Target"))
    return response


def _price_lookup(variant, colours, today):
    """The 'price on a date' look-up: the form (from the query string) and its answer."""
    form = PriceOnForm(request.args if "on" in request.args else None, data={"on": today})
    form.colour.choices = [("", "Every colour"), *((c.colour, c.colour) for c in colours)]
    asked = "on" in request.args
    answer = None
    if asked and form.validate():
        answer = queries.price_on(get_conn(), variant.variant_id, form.colour.data or None, form.on.data)
    return {"form": form, "asked": asked and not form.errors, "answer": answer}


@bp.get("/variants/<int:variant_id>")
@allow("catalog.read")
def variant_detail(variant_id: int):
    return _variant_page(variant_id)


@bp.route("/variants/<int:variant_id>/edit", methods=["GET", "POST"])
@allow("catalog.edit")
def variant_edit(variant_id: int):
    conn = get_conn()
    variant = found_or_404(queries.get_variant(conn, variant_id, today_ist()))
    model = queries.get_model(conn, variant.model_id)
    form = _variant_form(model.is_low_speed, obj=variant)
    if form.validate_on_submit():
        _, saved = save_or_field_error(conn, form, VARIANT_ERRORS,
                                       lambda: queries.update_variant(conn, variant_id, form.data))
        if saved:
            flash(f"Saved {model.brand} {model.name} {form.name.data}.", "success")
            return redirect(url_for("oem.variant_detail", variant_id=variant_id), 303)
    return form_page("oem/variant_form.html", form, model=model, variant=variant)


@bp.post("/variants/<int:variant_id>/colours")
@allow("catalog.edit")
def colour_add(variant_id: int):
    conn = get_conn()
    found_or_404(queries.get_variant(conn, variant_id, today_ist()))
    form = ColourForm()
    if form.validate_on_submit():
        _, saved = save_or_field_error(conn, form, COLOUR_ERRORS,
                                       lambda: queries.insert_colour(conn, variant_id, form.data))
        if saved:
            flash(f"Colour {form.colour.data} added.", "success")
            return redirect(url_for("oem.variant_detail", variant_id=variant_id, _anchor="colours"), 303)
    return _variant_page(variant_id, colour_form=form, status=422)


@bp.post("/variants/<int:variant_id>/colours/active")
@allow("catalog.edit")
def colour_set_active(variant_id: int):
    """Stop or resume offering a colour. Never deleted: units and price rows refer to it."""
    conn = get_conn()
    colour = found_or_404(queries.get_colour(conn, variant_id, request.form.get("colour", "")))
    active = request.form.get("active") == "1"
    queries.set_colour_active(conn, variant_id, colour.colour, active)
    flash(f"{colour.colour} is {'offered again' if active else 'no longer offered'}.", "success")
    return redirect(url_for("oem.variant_detail", variant_id=variant_id, _anchor="colours"), 303)


# --------------------------------------------------------------------------- price lists


def _price_form(variant_id: int, keep_colour: str | None = None, **kwargs) -> PriceForm:
    form = PriceForm(**kwargs)
    colours = [c for c in queries.colours(get_conn(), variant_id) if c.is_active or c.colour == keep_colour]
    form.colour.choices = [("", "Every colour"), *((c.colour, c.colour) for c in colours)]
    return form


def _save_price(conn, form: PriceForm, variant_id: int, price_id: int | None, action):
    data = form.price_data()
    clashes = queries.overlapping_prices(conn, variant_id, data["colour"], data["effective_from"],
                                         data["effective_to"], price_id)
    what = f"{data['colour']} price" if data["colour"] else "every-colour price"
    messages = {**PRICE_ERRORS,
                "price_list_no_overlap": ("effective_from", overlap_message(clashes, what,
                                                                            lambda r: inr(r.ex_showroom)))}
    return save_or_field_error(conn, form, messages, action)


@bp.route("/variants/<int:variant_id>/prices/new", methods=["GET", "POST"])
@allow("catalog.edit")
def price_new(variant_id: int):
    conn = get_conn()
    variant = found_or_404(queries.get_variant(conn, variant_id, today_ist()))
    form = _price_form(variant_id, data={"colour": request.args.get("colour", "")})
    if form.validate_on_submit():
        _, saved = _save_price(conn, form, variant_id, None,
                               lambda: queries.insert_price(conn, variant_id, form.price_data()))
        if saved:
            flash(f"Price {inr(form.ex_showroom.data)} from {ddmmyyyy(form.effective_from.data)} saved.", "success")
            return redirect(url_for("oem.variant_detail", variant_id=variant_id, _anchor="prices"), 303)
    return form_page("oem/price_form.html", form, variant=variant, price=None)


@bp.route("/prices/<int:price_id>/edit", methods=["GET", "POST"])
@allow("catalog.edit")
def price_edit(price_id: int):
    conn = get_conn()
    price = found_or_404(queries.get_price(conn, price_id))
    variant = queries.get_variant(conn, price.variant_id, today_ist())
    form = _price_form(price.variant_id, keep_colour=price.colour, obj=price)
    if request.method != "POST":
        form.colour.data = price.colour or ""  # "" is the "every colour" choice
    if form.validate_on_submit():
        _, saved = _save_price(conn, form, price.variant_id, price_id,
                               lambda: queries.update_price(conn, price_id, form.price_data()))
        if saved:
            flash("Price saved.", "success")
            return redirect(url_for("oem.variant_detail", variant_id=price.variant_id, _anchor="prices"), 303)
    return form_page("oem/price_form.html", form, variant=variant, price=price)


# --------------------------------------------------------------------------- schemes


def _scheme_form(keep_variant: int | None = None, keep_oem: int | None = None, **kwargs) -> SchemeForm:
    conn = get_conn()
    variants = queries.variant_options(conn, keep_variant)
    form = SchemeForm(variant_oems={r.variant_id: r.oem_id for r in variants}, **kwargs)
    form.oem_id.choices = [(0, "Choose the OEM"), *queries.oem_choices(conn, keep_oem)]
    form.variant_id.choices = [("", "Every variant of the OEM"), *((r.variant_id, r.label) for r in variants)]
    return form


def _requested_oem() -> int | None:
    raw = request.args.get("oem", "")
    return int(raw) if raw.isdigit() and int(raw) < 2**31 else None


@bp.get("/schemes")
@allow("catalog.read")
def scheme_list():
    conn = get_conn()
    when = choice_arg("when", dict(SCHEME_WHEN), "current")
    oem_id = _requested_oem()
    rows = queries.list_schemes(conn, oem_id, when, today_ist())
    return rows_or_page("oem/scheme_list.html", "oem/_scheme_rows.html", "scheme-results", rows=rows, when=when,
                        whens=SCHEME_WHEN, oem=oem_id, oems=queries.oem_choices(conn), can_edit=_can_edit())


@bp.route("/schemes/new", methods=["GET", "POST"])
@allow("catalog.edit")
def scheme_new():
    form = _scheme_form(data={"oem_id": _requested_oem() or 0})
    if form.validate_on_submit():
        conn = get_conn()
        _, saved = save_or_field_error(conn, form, SCHEME_ERRORS, lambda: queries.insert_scheme(conn, form.data))
        if saved:
            flash(f"Scheme {form.name.data} saved.", "success")
            return redirect(url_for("oem.scheme_list", when="all"), 303)
    return form_page("oem/scheme_form.html", form, scheme=None)


@bp.route("/schemes/<int:scheme_id>/edit", methods=["GET", "POST"])
@allow("catalog.edit")
def scheme_edit(scheme_id: int):
    conn = get_conn()
    scheme = found_or_404(queries.get_scheme(conn, scheme_id))
    form = _scheme_form(scheme.variant_id, scheme.oem_id, obj=scheme)
    if form.validate_on_submit():
        _, saved = save_or_field_error(conn, form, SCHEME_ERRORS,
                                       lambda: queries.update_scheme(conn, scheme_id, form.data))
        if saved:
            flash(f"Scheme {form.name.data} saved.", "success")
            return redirect(url_for("oem.scheme_list", when="all"), 303)
    return form_page("oem/scheme_form.html", form, scheme=scheme)
