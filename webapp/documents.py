"""Numbered, idempotent, permanent documents: the one mechanism every module's documents share.

The database numbers a document in its own BEFORE INSERT trigger (master.next_document_no, see
docs/ARCHITECTURE.md) and keeps it unchanged once posted. A document posted from a form carries
the form's idempotency key in a UNIQUE column ``idempotency_key``; its module registers the
table here when it is imported (``register_document``), so a second submission of the form
finds the document the first one posted (``already_posted``, used by webapp.submit_once).
This module knows no module's tables: each module names its own.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

_NAME = re.compile(r"^[a-z_]+(\.[a-z_]+)?$")


class Refused(Exception):
    """The document cannot be posted as asked; the message says why."""


@dataclass(frozen=True)
class Document:
    name: str        # what callers call it: "invoice", "booking"...
    table: str       # schema.table
    id_column: str   # its primary key, returned to the caller


_REGISTRY: dict[str, Document] = {}


def register_document(name: str, table: str, id_column: str) -> Document:
    """Make a document posted from a form findable by its idempotency key. Registering the same
    document again (a module imported twice) is harmless; another table under a taken name is not."""
    if not (_NAME.match(table) and _NAME.match(id_column)):
        raise ValueError(f"{table}.{id_column} is not a table and column name")
    document = Document(name, table, id_column)
    known = _REGISTRY.setdefault(name, document)
    if known != document:
        raise ValueError(f"document {name!r} is already registered for {known.table}")
    return document


def registered(name: str) -> Document:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"no document is registered as {name!r}") from None


def registered_documents() -> dict[str, Document]:
    return dict(_REGISTRY)


def new_key() -> str:
    """An idempotency key for a form about to be shown."""
    return str(uuid.uuid4())


def already_posted(conn: Connection, document: str, key: str | uuid.UUID) -> int | None:
    """The id of the document an earlier submission with this key posted, if any."""
    doc = registered(document)
    return conn.execute(sa.text(f"SELECT {doc.id_column} FROM {doc.table} WHERE idempotency_key = :k"),
                        {"k": str(key)}).scalar()


def is_duplicate_key(exc: sa.exc.IntegrityError) -> bool:
    """A unique violation on an idempotency key: the same form was posted twice at once."""
    diag = getattr(getattr(exc, "orig", None), "diag", None)
    return (getattr(diag, "constraint_name", None) or "").endswith("idempotency_key_key")
