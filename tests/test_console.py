"""The server's console: the address it listens on, warnings and errors; not a line per request and
not the PDF libraries' progress (WeasyPrint's steps, fontTools' subsetting of every font table)."""
from __future__ import annotations

import logging

import builders as b
import sqlalchemy as sa
from conftest import app_config, login

from webapp import QUIET_LIBRARIES, create_app
from webapp.security import hash_pin


def test_the_app_factory_quiets_the_pdf_libraries(database_url, caplog):
    caplog.set_level(logging.DEBUG)   # the root logger lets everything through, as with ERP_LOG_LEVEL=DEBUG
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.NOTSET)
    app = create_app(app_config(database_url))
    try:
        for name in ("weasyprint", "weasyprint.progress", "fontTools", "fontTools.subset", "fontTools.ttLib"):
            assert logging.getLogger(name).getEffectiveLevel() == logging.WARNING, name
    finally:
        app.extensions["erp_db"].dispose()


def test_printing_an_invoice_logs_nothing_below_a_warning(app, engine, caplog):
    with engine.begin() as conn:
        s = b.sale_setup(conn)
        accounts = b.staff(conn, s.branch_id, "ACCOUNTS")
        _, invoice_id = b.invoiced_booking(conn, s)
        with app.app_context():
            pin_hash = hash_pin("2580")
        conn.execute(sa.text("UPDATE master.staff SET pin_hash = :h, must_change_pin = false WHERE staff_id = :s"),
                     {"h": pin_hash, "s": accounts})
        code = conn.execute(sa.text("SELECT staff_code FROM master.staff WHERE staff_id = :s"),
                            {"s": accounts}).scalar()
    client = app.test_client()
    assert login(client, code, "2580").status_code == 303

    caplog.set_level(logging.DEBUG)   # everything any logger lets through reaches the capture
    response = client.get(f"/billing/invoices/{invoice_id}/pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    chatter = [f"{r.name} {r.levelname}: {r.getMessage()}" for r in caplog.records
               if r.name.split(".")[0] in ("weasyprint", "fontTools") and r.levelno < logging.WARNING]
    assert chatter == []
    # Nor a line per request from the app itself.
    assert [r for r in caplog.records if r.levelno < logging.WARNING] == []
