"""Communication with customers and staff: reminder rules and templates, consent, the outbox and its
channels (e-mail, SMS, WhatsApp, the call list), and the staff bell in the top bar."""
from flask import Blueprint

from ..panels import register_panel

bp = Blueprint("communication", __name__, url_prefix="/communication")

from . import hooks, views  # noqa: E402,F401


@bp.record_once
def _add_command(state) -> None:
    """`flask --app wsgi reminders run` (cron, Windows Task Scheduler)."""
    from .commands import reminders_group  # its command reports a database error in one line (webapp/cli.py)

    state.app.cli.add_command(reminders_group)


@bp.record_once
def _hang_panels(state) -> None:
    """Panels this module draws on other modules' pages (webapp/panels.py)."""
    register_panel(state.app, "customer", "communication.consent", "communication/_customer_consent.html",
                   views.consent_panel_context, order=40)
