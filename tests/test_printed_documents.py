"""A posted document's PDF is laid out once and kept (platform.printed_document, webapp/pdf.py); a
reprint reads it back. Layouts run in render processes of their own (webapp/pdf_render.py)."""
from __future__ import annotations

import hashlib
import os
import signal

import builders as b
import pytest
import sqlalchemy as sa
from conftest import APP_ROLE
from test_billing_invoices import TODAY, hidden, invoiced, one, pdf_text, scalar, shop, squeezed, text  # noqa: F401 (fixture)

from webapp import pdf_render
from webapp.pdf_render import Renderer


@pytest.fixture
def layouts(app, monkeypatch):
    """Counts the layouts the app asks its render pool for (each one a WeasyPrint run)."""
    made = []
    real = Renderer.lay_out

    def counted(self, html, static_root, stamps=()):
        made.append(html)
        return real(self, html, static_root, stamps)

    monkeypatch.setattr(Renderer, "lay_out", counted)
    return made


def kept_rows(engine, kind: str, document_id: int) -> list:
    with engine.connect() as conn:
        return conn.execute(sa.text(
            """SELECT pdf, pdf_sha256, pdf_bytes, branch_id FROM platform.printed_document
                WHERE document_kind = :k AND document_id = :d ORDER BY printed_at, layout_sha256"""),
            {"k": kind, "d": document_id}).all()


def test_an_invoice_is_laid_out_at_its_first_print_and_read_back_at_every_reprint(engine, shop, layouts):
    _, invoice_id = invoiced(engine, shop)
    first = shop.client.get(f"/billing/invoices/{invoice_id}/pdf")
    assert first.status_code == 200 and first.mimetype == "application/pdf"
    assert len(layouts) == 1
    [row] = kept_rows(engine, "invoice", invoice_id)
    assert bytes(row.pdf) == first.get_data() and row.pdf_bytes == len(first.get_data())
    assert bytes(row.pdf_sha256) == hashlib.sha256(first.get_data()).digest()
    assert row.branch_id == shop.branch

    again = shop.client.get(f"/billing/invoices/{invoice_id}/pdf")
    assert again.get_data() == first.get_data()
    assert len(layouts) == 1  # the reprint laid nothing out
    # One copy is another printout: laid out once too, and kept beside the three-copy one.
    original = shop.client.get(f"/billing/invoices/{invoice_id}/pdf?copy=original")
    shop.client.get(f"/billing/invoices/{invoice_id}/pdf?copy=original")
    assert len(layouts) == 2 and len(kept_rows(engine, "invoice", invoice_id)) == 2
    assert "ORIGINALFORRECIPIENT" in squeezed(pdf_text(original))


def test_what_changes_the_printout_is_laid_out_again_and_the_earlier_printout_stays(engine, shop, layouts):
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE master.customer SET gstin = :g, kind = 'BUSINESS' WHERE customer_id = :c"),
                     {"g": b.make_gstin("29"), "c": shop.sale.customer_id})
    _, invoice_id = invoiced(engine, shop)
    before = squeezed(pdf_text(shop.client.get(f"/billing/invoices/{invoice_id}/pdf?copy=original")))
    assert "IRN:" not in before
    page = shop.client.get(f"/billing/invoices/{invoice_id}")
    irn = "ab" * 32
    response = shop.client.post(f"/billing/invoices/{invoice_id}/einvoice", data={
        "csrf_token": hidden(text(page), "csrf_token"), "irn": irn, "ack_no": "112510000012345",
        "ack_date": "2026-06-02T10:30", "signed_qr": "eyJhbGciOiJSUzI1NiJ9.signed"})
    assert response.status_code == 303
    after = squeezed(pdf_text(shop.client.get(f"/billing/invoices/{invoice_id}/pdf?copy=original")))
    assert f"IRN:{irn}" in after  # never the kept printout from before the IRN
    assert len(layouts) == 2 and len(kept_rows(engine, "invoice", invoice_id)) == 2


def test_a_receipt_and_a_credit_note_are_kept_like_an_invoice(engine, shop, layouts):
    from decimal import Decimal
    from uuid import uuid4

    from webapp.billing import posting

    booking_id, invoice_id = invoiced(engine, shop)
    with engine.begin() as conn:
        b.act_as(conn, shop.sale.manager_id)
        receipt_id = posting.post_receipt(conn, on=TODAY, mode="CASH", amount=Decimal("5000.00"),
                                          key=str(uuid4()), received_from="Asha Rao", booking_id=booking_id)
        credit_note_id = posting.post_credit_note(conn, invoice_id, on=TODAY, reason="Wrong colour billed",
                                                  key=str(uuid4()))
    for url, kind, document_id in ((f"/billing/receipts/{receipt_id}/pdf", "receipt", receipt_id),
                                   (f"/billing/credit-notes/{credit_note_id}/pdf", "credit_note", credit_note_id)):
        before = len(layouts)
        printed = [shop.client.get(url) for _ in range(2)]
        assert [p.status_code for p in printed] == [200, 200] and printed[0].get_data() == printed[1].get_data()
        assert len(layouts) == before + 1, kind
        assert len(kept_rows(engine, kind, document_id)) == 1


def test_a_kept_printout_is_permanent_and_its_checksum_is_the_databases(engine, shop):
    _, invoice_id = invoiced(engine, shop)
    printed = shop.client.get(f"/billing/invoices/{invoice_id}/pdf").get_data()
    for sql in ("UPDATE platform.printed_document SET pdf = pdf || '\\x00'::bytea",
                "DELETE FROM platform.printed_document"):
        with pytest.raises(sa.exc.DBAPIError, match="permanent"), engine.begin() as conn:
            conn.execute(sa.text(sql))
    insert = sa.text("""INSERT INTO platform.printed_document (document_kind, document_id, branch_id, layout_sha256,
                                                                pdf, pdf_sha256)
                        VALUES ('invoice', :d, :b, :layout, :pdf, :sha)""")
    damaged = printed[:-10] + b"0123456789"
    cases = [(damaged, hashlib.sha256(printed).digest(), "printed_document_checksum"),
             (b"<html>not a pdf</html>", hashlib.sha256(b"<html>not a pdf</html>").digest(), "printed_document_is_pdf")]
    for pdf, sha, constraint in cases:
        with pytest.raises(sa.exc.IntegrityError, match=constraint), engine.begin() as conn:
            conn.execute(insert, {"d": invoice_id, "b": shop.branch, "layout": os.urandom(32), "pdf": pdf, "sha": sha})
    assert len(kept_rows(engine, "invoice", invoice_id)) == 1


def test_another_branch_never_reads_a_kept_printout(engine, shop):
    _, invoice_id = invoiced(engine, shop)
    shop.client.get(f"/billing/invoices/{invoice_id}/pdf")
    with engine.begin() as conn:
        other = b.branch(conn, state="29")
        seen = {}
        for branch in (shop.branch, other):
            with conn.begin_nested() as sp:
                conn.execute(sa.text(f"SET LOCAL ROLE {APP_ROLE}"))
                conn.execute(sa.text("SELECT set_config('erp.branch_id', :b, true)"), {"b": str(branch)})
                seen[branch] = conn.execute(sa.text("SELECT count(*) FROM platform.printed_document")).scalar()
                sp.rollback()
    assert seen == {shop.branch: 1, other: 0}


# ----------------------------------------------------------------------------- the render processes

PAGE = '<html><head><link rel="stylesheet" href="css/pdf.css"></head><body><p>Volt Motors ₹1,57,000.00</p></body></html>'


def static_root(app) -> str:
    from webapp.pdf import _static_root

    with app.app_context():
        return _static_root()


def test_a_render_process_lays_out_what_the_request_thread_would(app):
    pool = Renderer(workers=1, timeout=120)
    try:
        there = pool.lay_out(PAGE, static_root(app))
        here = Renderer(workers=0, timeout=120).lay_out(PAGE, static_root(app))
        assert there.startswith(b"%PDF-") and here.startswith(b"%PDF-")
        from io import BytesIO

        from pypdf import PdfReader
        read = [squeezed(PdfReader(BytesIO(pdf)).pages[0].extract_text()) for pdf in (there, here)]
        assert read[0] == read[1] == "VoltMotors₹1,57,000.00Page1of1"
        assert pool._pool is not None and all(p.pid != os.getpid() for p in pool._pool._processes.values())
    finally:
        pool.shutdown()


def test_a_render_process_that_dies_is_replaced_and_the_print_still_comes_out(app):
    pool = Renderer(workers=1, timeout=120)
    try:
        assert pool.lay_out(PAGE, static_root(app)).startswith(b"%PDF-")
        for process in list(pool._pool._processes.values()):
            os.kill(process.pid, signal.SIGKILL)
            process.join(30)
        assert pool.lay_out(PAGE, static_root(app)).startswith(b"%PDF-")
    finally:
        pool.shutdown()


def test_one_font_configuration_serves_every_document_of_a_render_process(app):
    pdf_render.lay_out(PAGE, static_root(app))
    fonts = pdf_render._font_config()
    pdf_render.lay_out(PAGE.replace("Volt", "Watt"), static_root(app))
    assert pdf_render._font_config() is fonts


KILLED_PARENT = """
import sys, time
from webapp.pdf_render import Renderer
pool = Renderer(workers=1, timeout=120)
pool.warm(sys.argv[1])
time.sleep(0.5)
print(*[p.pid for p in pool._pool._processes.values()], flush=True)
time.sleep(600)
"""


def test_a_render_process_ends_when_the_server_process_that_started_it_is_killed(app, tmp_path):
    import subprocess
    import sys
    import time

    from conftest import ROOT

    server = subprocess.Popen([sys.executable, "-c", KILLED_PARENT, static_root(app)], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)
    try:
        renderers = [int(pid) for pid in server.stdout.readline().split()]
        assert renderers and all(os.path.exists(f"/proc/{pid}") for pid in renderers)
    finally:
        server.kill()  # as kill -9: nothing of the server process runs any more
        server.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(os.path.exists(f"/proc/{pid}") for pid in renderers):
        time.sleep(0.2)
    alive = [pid for pid in renderers if os.path.exists(f"/proc/{pid}")
             and "zombie" not in open(f"/proc/{pid}/status").read().lower()]
    assert alive == []
