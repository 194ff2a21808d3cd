"""Dashboard: who is logged in, what the modules put on it for them (panels), and the modules this
role may open."""
from __future__ import annotations

from flask import render_template

from .. import panels
from ..db import get_conn
from ..navigation import visible_sections
from ..security import allow
from . import bp


@bp.get("/")
@allow("dashboard.read")
def home():
    # Modules hang their own panels here ("dashboard" slot, webapp/panels.py): crm's follow-ups due.
    drawn = panels.draw("dashboard", get_conn(), {}) if panels.registered("dashboard") else []
    return render_template("dashboard/home.html", sections=visible_sections(), panels=drawn)
