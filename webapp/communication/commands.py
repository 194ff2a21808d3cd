"""flask --app wsgi reminders run [--on DD-MM-YYYY] [--no-send]

Makes the reminders due today (or on --on) and sends what the outbox holds that is due. Safe to
run as often as wished and twice at once: a reminder is made once per (rule, subject, due date),
and a message is locked by the sender that takes it. Schedule it every 15 minutes or so (README:
cron and Windows Task Scheduler)."""
from __future__ import annotations

from datetime import datetime

import click
from flask import current_app
from flask.cli import AppGroup

from ..cli import _database_errors_as_message
from ..formatting import IST, today_ist
from ..forms import parse_date
from . import engine

reminders_group = AppGroup("reminders", help="Customer reminders: make what is due and send the outbox.")


@reminders_group.command("run")
@click.option("--on", "on_text", default=None, help="The day to run for (DD-MM-YYYY); default today")
@click.option("--send/--no-send", default=True, show_default=True, help="Also send the outbox's due messages")
def run_command(on_text: str | None, send: bool):
    """Make the reminders due and send the outbox."""
    try:
        on = parse_date(on_text) if on_text else today_ist()
    except ValueError as exc:
        raise click.ClickException(f"--on: {exc}")
    now = datetime.now(IST)
    database = current_app.extensions["erp_db"]
    with database.owner_engine.begin() as conn:
        results = engine.run_reminders(conn, on, now)
    made = sum(r["made"] for r in results)
    queued = sum(r["queued"] for r in results)
    click.echo(f"reminders for {on:%d-%m-%Y}: {made} made, {queued} queued")
    if send:
        outcome = engine.send_pending(database.owner_engine.begin, now, current_app.instance_path)
        click.echo(f"outbox: {outcome.sent} sent, {outcome.failed} to try again, {outcome.given_up} given up, "
                   f"{outcome.deferred} waiting for allowed hours"
                   + (f"; not reachable now: {', '.join(sorted(outcome.channels_down))}" if outcome.channels_down
                      else ""))


# A database error is one line, as for every command (webapp/cli.py); add_commands wraps only the group.
run_command.callback = _database_errors_as_message(run_command.callback)
