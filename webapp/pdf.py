"""Printable documents (purchase orders now, tax invoices later) as A4 PDFs made by WeasyPrint.

A document is an ordinary Jinja template that links static/css/pdf.css; the fonts it uses are
the vendored DejaVu files under static/fonts (they carry the ₹ glyph), so a PDF looks the same
on every machine and never depends on the fonts installed there. WeasyPrint may read only files
under static/ and data: URIs (the branch logo, which the page carries itself): a template can
never make the server fetch a URL or read another file.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app, make_response, render_template

# The PDF viewer built into Chromium runs as a plugin: the app's usual policy (object-src 'none')
# would show a blocked page instead of the document. Nothing in a PDF needs scripts or frames.
PDF_CSP = "default-src 'none'; object-src 'self'; frame-ancestors 'none'"


def _static_root() -> Path:
    return Path(current_app.static_folder).resolve()


def _static_file(root: Path, url: str) -> str:
    """The file: URL of a file under static/, a data: URI as it is (its bytes are in the URI:
    nothing is read or fetched), or ValueError for anything else (http, other files)."""
    parts = urlsplit(url)
    if parts.scheme == "data":
        return url
    path = Path(unquote(parts.path)).resolve() if parts.scheme == "file" else None
    if path is None or not path.is_relative_to(root) or not path.is_file():
        raise ValueError(f"a printed document may only use the app's static files, not {url}")
    return path.as_uri()


def _static_only_fetcher(root: Path):
    """A URL fetcher for WeasyPrint that serves files under static/ and refuses everything else."""
    import weasyprint

    if hasattr(weasyprint, "URLFetcher"):  # WeasyPrint 68 and later: a fetcher class

        class StaticOnly(weasyprint.URLFetcher):
            def fetch(self, url, headers=None):
                return super().fetch(_static_file(root, url), headers)

        return StaticOnly(allowed_protocols={"file", "data"})

    def fetch(url: str, *args, **kwargs):  # earlier WeasyPrint: a function
        return weasyprint.default_url_fetcher(_static_file(root, url), *args, **kwargs)

    return fetch


def render_pdf(template: str, **context) -> bytes:
    """Render a Jinja template to PDF bytes (A4 and fonts come from static/css/pdf.css)."""
    from weasyprint import HTML

    root = _static_root()
    html = render_template(template, **context)
    # base_url: "css/pdf.css" and "fonts/..." in the template resolve inside static/.
    return HTML(string=html, base_url=root.as_uri() + "/", url_fetcher=_static_only_fetcher(root)).write_pdf()


def render_pdf_copies(template: str, titles: list[str], **context) -> bytes:
    """One document printed as several marked copies ("ORIGINAL FOR RECIPIENT", "DUPLICATE FOR
    TRANSPORTER", ...): laid out once by WeasyPrint with a blank title line (``copy_title`` is
    ""), then each copy's pages get their title stamped into that line. Laying the document
    out once instead of once per copy halves the time of a three-copy invoice, and each
    copy's pages are numbered on their own ("Page 1 of 1")."""
    from io import BytesIO

    from pypdf import PdfReader, PdfWriter

    body = render_pdf(template, copy_title="", **context)
    writer = PdfWriter()
    for title in titles:
        stamp = PdfReader(BytesIO(_title_stamp(title))).pages[0]
        # A fresh reader per copy: pages added twice from one reader would share their stamps.
        for page in PdfReader(BytesIO(body)).pages:
            writer.add_page(page).merge_page(stamp)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


_stamps: dict[str, bytes] = {}


def _title_stamp(title: str) -> bytes:
    """A page holding only the copy title where the document leaves its blank title line."""
    if title not in _stamps:
        _stamps[title] = render_pdf("pdf_copy_title.html", title=title)
    return _stamps[title]


def pdf_response(pdf: bytes, filename: str):
    """Serve a PDF inline, so it opens in the browser's viewer with its Print button."""
    safe_name = "".join(c if c.isalnum() or c in "-_." else "-" for c in filename)
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{safe_name}"'
    response.headers["Content-Security-Policy"] = PDF_CSP
    return response
