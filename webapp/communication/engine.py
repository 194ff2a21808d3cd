"""A reminder run and the sender.

``run_reminders`` asks PostgreSQL (communication.run_reminders, sql/functions/94_communication.sql)
to make the reminders due on a day and queue their messages; it is idempotent: every reminder is a
row under a UNIQUE key per (rule, subject, due date).

``send_pending`` sends what the outbox holds that is due, one message per transaction: the message
row is locked (FOR UPDATE SKIP LOCKED, so two senders never take the same one), consent and the
allowed hours are checked again, the channel's adapter is called and the outcome written. A failure
is tried again after retry_minutes x 2^attempts, until the setting's last attempt (then GIVEN_UP); a
permanent refusal gives up at once. A channel that fails for a reason that may pass (a timeout, HTTP
500) is left alone for the rest of the run, so one provider that is down never holds up the others.
The command line sends everything due; the screen's run a small batch in a bounded time, with short
provider timeouts (webapp/communication/views.py: run_now), and leaves the rest queued for it.
"""
from __future__ import annotations

import itertools
import json
import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa

from .channels import SendError, channels_for

log = logging.getLogger(__name__)

RUN = sa.text("SELECT rule_id, event, made, queued FROM communication.run_reminders(:on, :now)")

SETTINGS = sa.text("SELECT * FROM communication.setting WHERE setting_id = 1")

CLAIM = sa.text("""
    SELECT o.message_id, o.channel, o.to_address, o.subject, o.body, o.params, o.customer_id, o.promotional,
           o.attempts, t.dlt_template_id, t.wa_template_name, t.wa_language,
           communication.may_send(o.customer_id, o.channel, o.promotional) AS allowed,
           communication.next_send_time(:now, o.quiet_from, o.quiet_to, o.promotional, s.promo_from, s.promo_to)
               AS may_go_at
      FROM communication.outbox o
      JOIN communication.template t ON t.template_id = o.template_id
      CROSS JOIN communication.setting s
     WHERE o.status IN ('QUEUED', 'FAILED') AND o.next_attempt_at <= :now
       AND o.channel = ANY (CAST(:channels AS text[])) AND NOT o.message_id = ANY (CAST(:seen AS bigint[]))
     ORDER BY o.next_attempt_at, o.message_id
     LIMIT 1
       FOR UPDATE OF o SKIP LOCKED""")

SENT = sa.text("""
    UPDATE communication.outbox
       SET status = 'SENT', sent_at = :now, attempts = attempts + 1, provider_message_id = :pid, last_error = NULL
     WHERE message_id = :id""")

FAILED = sa.text("""
    UPDATE communication.outbox o
       SET attempts = o.attempts + 1, last_error = :error,
           status = CASE WHEN :permanent OR o.attempts + 1 >= s.max_attempts THEN 'GIVEN_UP' ELSE 'FAILED' END,
           next_attempt_at = communication.next_send_time(
               CAST(:now AS timestamptz) + make_interval(mins => s.retry_minutes * (2 ^ least(o.attempts, 12))::integer),
               o.quiet_from, o.quiet_to, o.promotional, s.promo_from, s.promo_to)
      FROM communication.setting s
     WHERE o.message_id = :id
 RETURNING o.status""")

GIVE_UP = sa.text("UPDATE communication.outbox SET status = 'GIVEN_UP', last_error = :error WHERE message_id = :id")
DEFER = sa.text("UPDATE communication.outbox SET next_attempt_at = :at WHERE message_id = :id")


@dataclass
class Sent:
    sent: int = 0
    failed: int = 0
    given_up: int = 0
    deferred: int = 0
    channels_down: set[str] = field(default_factory=set)
    channels: list[str] = field(default_factory=list)      # the channels turned on (the adapters used)


def run_reminders(conn, on: date, now: datetime) -> list[dict]:
    """Make the reminders due on ``on``; one row per active rule: made, queued."""
    return [dict(r) for r in conn.execute(RUN, {"on": on, "now": now}).mappings()]


def settings(conn):
    return conn.execute(SETTINGS).mappings().one()


def send_pending(transaction, now: datetime, instance_path: str | None = None, *, channels: dict | None = None,
                 limit: int | None = None, timeout_seconds: int | None = None, seconds: float | None = None,
                 clock=time.monotonic) -> Sent:
    """Send the due messages: all of them, or at most ``limit``, and none more once ``seconds`` have
    passed (by ``clock``); each provider given at most ``timeout_seconds`` to answer when set (else the
    setting's). ``transaction()`` is a context manager yielding a connection, one per message (the
    command line: a committed transaction each; a screen: a savepoint of its request)."""
    outcome = Sent()
    if channels is None:
        with transaction() as conn:
            found = dict(settings(conn))
        if timeout_seconds is not None:
            found["timeout_seconds"] = min(found["timeout_seconds"], timeout_seconds)
        channels = channels_for(found, instance_path)
    outcome.channels = sorted(channels)
    seen: list[int] = []
    started = clock()
    for _ in itertools.count() if limit is None else range(limit):
        live = [name for name in channels if name not in outcome.channels_down]
        if not live or (seconds is not None and clock() - started >= seconds):
            break
        with transaction() as conn:
            message = conn.execute(CLAIM, {"now": now, "channels": live, "seen": seen}).mappings().first()
            if message is None:
                break
            seen.append(message["message_id"])
            _send_one(conn, message, channels[message["channel"]], now, outcome)
    return outcome


def _send_one(conn, message, channel, now: datetime, outcome: Sent) -> None:
    if not message["allowed"]:
        why = ("the customer has not opted in to this channel"
               if message["channel"] == "WHATSAPP" or message["promotional"]
               else "the customer opted out of this channel")
        conn.execute(GIVE_UP, {"id": message["message_id"], "error": why})
        outcome.given_up += 1
        return
    if message["may_go_at"] > now:
        conn.execute(DEFER, {"id": message["message_id"], "at": message["may_go_at"]})
        outcome.deferred += 1
        return
    payload = dict(message)
    if isinstance(payload["params"], str):
        payload["params"] = json.loads(payload["params"])
    try:
        provider_id = channel.send(payload)
    except SendError as exc:
        status = conn.execute(FAILED, {"id": message["message_id"], "error": str(exc), "now": now,
                                       "permanent": exc.permanent}).scalar_one()
        log.warning("message %s by %s not sent: %s", message["message_id"], message["channel"], exc)
        if status == "GIVEN_UP":
            outcome.given_up += 1
        else:
            outcome.failed += 1
        if not exc.permanent:
            outcome.channels_down.add(message["channel"])
        return
    conn.execute(SENT, {"id": message["message_id"], "pid": provider_id, "now": now})
    outcome.sent += 1


LEFT = sa.text("""
    SELECT count(*) FROM communication.outbox
     WHERE status IN ('QUEUED', 'FAILED') AND next_attempt_at <= :now AND channel = ANY (CAST(:channels AS text[]))""")


def still_due(conn, now: datetime, channels: list[str]) -> int:
    """The messages of these channels due by ``now`` and not sent (left for the next run)."""
    return conn.execute(LEFT, {"now": now, "channels": channels}).scalar_one()


def savepoints(conn):
    """A transaction factory over one connection (a request's): each message in its own savepoint."""
    @contextmanager
    def transaction():
        with conn.begin_nested():
            yield conn
    return transaction
