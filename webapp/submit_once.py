"""A document posted from a form exactly once.

Every document form carries an idempotency key made when the form is drawn; the document's
table holds it under a UNIQUE constraint, and its module registers the table
(webapp.documents.register_document). A second click or a resubmission finds the document the
first one posted; two submissions at the same moment collide on the constraint, and the loser
is sent to what the winner posted.
"""
from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import request, url_for

from . import documents
from .errors import redirect_response
from .forms import save_or_field_error


def earlier_document(conn, document: str, key: str | None) -> int | None:
    """The document an earlier submission of this form posted; None for a key this app did not make
    (the form then says it expired)."""
    try:
        key = str(uuid.UUID(key or ""))
    except ValueError:
        return None
    return documents.already_posted(conn, document, key)


def earlier_redirect(conn, document: str, key: str | None, endpoint: str, id_arg: str):
    """A form sent again (a second click, a reload): the redirect to the document its first
    sending posted, on the ``endpoint`` page taking the id as ``id_arg``; else None."""
    if request.method != "POST":
        return None
    earlier = earlier_document(conn, document, key)
    return redirect_response(url_for(endpoint, **{id_arg: earlier})) if earlier else None


def post_once(conn, form, document: str, messages: dict, post, key: str | None = None) -> tuple[int | None, bool]:
    """Run ``post()`` in a savepoint. A known refusal becomes a message on the form (a constraint
    in ``messages``, or documents.Refused); a submission that lost the race to its twin returns what
    the twin posted. The key is the form's ``key`` field unless given. Returns (id, saved)."""
    try:
        return save_or_field_error(conn, form, messages, post)
    except documents.Refused as exc:
        form.form_errors.append(str(exc))
        return None, False
    except sa.exc.IntegrityError as exc:
        found = twin_posted(conn, exc, document, key or form.key.data)
        if found is None:
            raise
        return found, True


def twin_posted(conn, exc: sa.exc.IntegrityError, document: str, key: str) -> int | None:
    """After a unique violation: the document the same form's other submission posted, or None when
    the violation was something else."""
    if not documents.is_duplicate_key(exc):
        return None
    return documents.already_posted(conn, document, key)
