"""What other modules may use of communication (webapp/communication): the reminder run and the sender
(for the command line and a scheduler), a customer's consent page, and whether a customer may be sent
a message by a channel. These functions take the caller's connection and never commit."""
from __future__ import annotations

import sqlalchemy as sa
from flask import url_for

from .engine import run_reminders, send_pending

__all__ = ["consent_url", "may_send", "run_reminders", "send_pending"]


def consent_url(customer_id: int) -> str:
    """The page where a customer's consent per channel and language are recorded."""
    return url_for("communication.consent", customer_id=customer_id)


def may_send(conn, customer_id: int | None, channel: str, promotional: bool = False) -> bool:
    """communication.may_send: not after an opt-out; WhatsApp and promotional messages only after an opt-in."""
    return bool(conn.execute(sa.text("SELECT communication.may_send(:c, :ch, :p)"),
                             {"c": customer_id, "ch": channel, "p": promotional}).scalar())
