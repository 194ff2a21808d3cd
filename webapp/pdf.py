"""Printable documents (tax invoices, receipts, challans, orders...) as A4 PDFs made by WeasyPrint.

A document is an ordinary Jinja template that links static/css/pdf.css; the fonts it uses are
the vendored DejaVu files under static/fonts (they carry the ₹ glyph), so a PDF looks the same
on every machine and never depends on the fonts installed there. WeasyPrint may read only files
under static/ and data: URIs (the branch logo, which the page carries itself): a template can
never make the server fetch a URL or read another file.

The request renders the template; the layout (the slow part) runs in a render process
(webapp/pdf_render.py). A posted document's PDF is kept (``Kept``): laid out at its first print,
read back at every reprint (platform.printed_document, sql/0019).
"""
from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import NamedTuple

import sqlalchemy as sa
from flask import current_app, make_response, render_template
from flask_login import current_user

from .db import get_conn
from .pdf_render import Renderer

log = logging.getLogger(__name__)

# The PDF viewer built into Chromium runs as a plugin: the app's usual policy (object-src 'none')
# would show a blocked page instead of the document. Nothing in a PDF needs scripts or frames.
PDF_CSP = "default-src 'none'; object-src 'self'; frame-ancestors 'none'"


class Kept(NamedTuple):
    """A posted document whose PDF is kept: its kind ("invoice", "receipt"...) and id. It is kept
    for the branch that prints it (a transfer's challan: either end), under that branch's rows."""
    kind: str
    document_id: int


def _static_root() -> str:
    return str(Path(current_app.static_folder).resolve())


def renderer() -> Renderer:
    """The render pool of this server process (one, whichever app instance asks; its processes
    start with the first PDF)."""
    return Renderer.shared(current_app.config["PDF_WORKERS"], current_app.config["PDF_TIMEOUT_SECONDS"])


def warm_up(app) -> None:
    """A server process starts its render processes as it starts serving (webapp/cli.py serve)."""
    with app.app_context():
        renderer().warm(_static_root())


def render_pdf(template: str, *, kept: Kept | None = None, **context) -> bytes:
    """Render a Jinja template to PDF bytes (A4 and fonts come from static/css/pdf.css); with
    ``kept``, a posted document's PDF laid out once and read back afterwards."""
    return _pdf(render_template(template, **context), (), kept)


def render_pdf_copies(template: str, titles: list[str], *, kept: Kept | None = None, **context) -> bytes:
    """One document printed as several marked copies ("ORIGINAL FOR RECIPIENT", "DUPLICATE FOR
    TRANSPORTER", ...): laid out once with a blank title line (``copy_title`` is ""), then each
    copy's pages get their title stamped into that line (webapp.pdf_render.lay_out)."""
    stamps = tuple(render_template("pdf_copy_title.html", title=title) for title in titles)
    return _pdf(render_template(template, copy_title="", **context), stamps, kept)


_FIND_KEPT = sa.text(
    """SELECT pdf, pdf_sha256 FROM platform.printed_document
        WHERE document_kind = :kind AND document_id = :id AND branch_id = :branch AND layout_sha256 = :layout""")
_KEEP = sa.text(
    """INSERT INTO platform.printed_document (document_kind, document_id, branch_id, layout_sha256, pdf, pdf_sha256)
       VALUES (:kind, :id, :branch, :layout, :pdf, :pdf_sha256) ON CONFLICT DO NOTHING""")


def _pdf(html: str, stamps: tuple[str, ...], kept: Kept | None) -> bytes:
    if kept is None:
        return renderer().lay_out(html, _static_root(), stamps)
    digest = hashlib.sha256(html.encode())
    for stamp in stamps:
        digest.update(b"\0" + stamp.encode())
    key = {"kind": kept.kind, "id": kept.document_id, "branch": current_user.branch_id, "layout": digest.digest()}
    conn = get_conn()
    row = conn.execute(_FIND_KEPT, key).first()
    if row is not None:
        if hashlib.sha256(row.pdf).digest() == bytes(row.pdf_sha256):
            return bytes(row.pdf)
        log.error("the kept PDF of %s %s does not match its checksum; laid out again", kept.kind, kept.document_id)
        return renderer().lay_out(html, _static_root(), stamps)
    pdf = renderer().lay_out(html, _static_root(), stamps)
    # Two prints of a new document at once: both lay it out, the first one is kept.
    conn.execute(_KEEP, {**key, "pdf": pdf, "pdf_sha256": hashlib.sha256(pdf).digest()})
    return pdf


def pdf_response(pdf: bytes, filename: str):
    """Serve a PDF inline, so it opens in the browser's viewer with its Print button."""
    safe_name = "".join(c if c.isalnum() or c in "-_." else "-" for c in filename)
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{safe_name}"'
    response.headers["Content-Security-Policy"] = PDF_CSP
    return response
