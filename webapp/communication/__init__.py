"""Communication with customers and staff: reminder rules and templates, consent, the outbox and its
channels (e-mail, SMS, WhatsApp, the call list), and the staff bell in the top bar."""
from flask import Blueprint

bp = Blueprint("communication", __name__, url_prefix="/communication")

from . import views  # noqa: E402,F401


@bp.record_once
def _add_command(state) -> None:
    """`flask --app wsgi reminders run` (cron, Windows Task Scheduler)."""
    from .commands import reminders_group  # its command reports a database error in one line (webapp/cli.py)

    state.app.cli.add_command(reminders_group)
