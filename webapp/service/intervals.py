"""The paid-service interval (months and km, whichever first) the workshop reminds a customer by once
the model's free services are over: dated master data (service.service_interval, sql/0028), one in
force on any day. A new interval starts on a day and the one in force before it ends the day before;
rows are never overwritten, so a delivered card's next-service date stays what its day gave.

Who: the settings page is read by the workshop (workshop.read); a new interval is set by whoever
sets the warranty's rules (warranty.settings: MANAGER, ADMIN)."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import flash, url_for
from sqlalchemy.engine import Connection
from wtforms import IntegerField
from wtforms.validators import DataRequired, InputRequired, NumberRange

from ..db import get_conn
from ..errors import redirect_response
from ..forms import DateField, FlaskForm, save_or_field_error
from ..security import allow
from . import bp

INTERVAL_MESSAGES = {
    "service_interval_no_overlap": ("effective_from", "An interval already starts on or after this day: "
                                                      "a new interval starts after the latest one"),
    "service_interval_period": ("effective_from", "A new interval starts after the latest one"),
    "service_interval_months_check": ("months", "1 to 36 months"),
    "service_interval_km_check": ("km", "500 to 50,000 km"),
}


PREFIX = "interval"   # its fields sit on the settings page beside the reading limit's


class ServiceIntervalForm(FlaskForm):
    months = IntegerField("Every (months)", render_kw={"inputmode": "numeric"}, validators=[InputRequired("Enter the months"),
                                                        NumberRange(1, 36, "1 to 36 months")])
    km = IntegerField("Or every (km)", render_kw={"inputmode": "numeric"}, validators=[InputRequired("Enter the km"),
                                                   NumberRange(500, 50000, "500 to 50,000 km")])
    effective_from = DateField("From", validators=[DataRequired("Enter the day it starts")])


def interval_rows(conn: Connection):
    return conn.execute(sa.text("""
        SELECT interval_id, months, km, effective_from, effective_to
          FROM service.service_interval ORDER BY effective_from DESC""")).mappings().all()


def new_interval(conn: Connection, months: int, km: int, effective_from: date) -> int:
    """An interval from a day on: the one in force until then ends the day before."""
    conn.execute(sa.text("""
        UPDATE service.service_interval SET effective_to = CAST(:f AS date) - 1
         WHERE effective_from < :f AND (effective_to IS NULL OR effective_to >= :f)"""), {"f": effective_from})
    return conn.execute(sa.text("""
        INSERT INTO service.service_interval (months, km, effective_from) VALUES (:m, :k, :f)
        RETURNING interval_id"""), {"m": months, "k": km, "f": effective_from}).scalar_one()


@bp.post("/settings/interval")
@allow("warranty.settings")
def settings_interval_new():
    from .settings import _page  # the page this form sits on
    conn = get_conn()
    form = ServiceIntervalForm(prefix=PREFIX)
    if form.validate_on_submit():
        _, saved = save_or_field_error(conn, form, INTERVAL_MESSAGES, lambda: new_interval(
            conn, form.months.data, form.km.data, form.effective_from.data))
        if saved:
            flash(f"Paid service every {form.months.data} months or {form.km.data:,} km from "
                  f"{form.effective_from.data:%d-%m-%Y}.", "success")
            return redirect_response(url_for("service.settings"))
    return _page(interval_form=form, status=422)
