"""The showroom's logo: uploaded on the branch profile, printed at the top of its documents."""
from __future__ import annotations

import binascii
import io
import re
import struct
import uuid
import zlib
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import builders as b
import pytest
import sqlalchemy as sa
from conftest import login

from webapp.billing import posting
from webapp.formatting import today_ist

TODAY = today_ist()

BRANCH_FIELDS = ("branch_code", "legal_name", "trade_name", "gstin", "address_line1", "address_line2", "city",
                 "pincode", "phone", "email", "upi_id", "invoice_prefix")


def tiny_png() -> bytes:
    """A valid 1x1 red PNG, made here so the test needs no image library."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", binascii.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8 bits, RGB
    pixels = zlib.compress(b"\x00\xff\x00\x00")  # filter byte, then one red pixel
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).scalar()


def images_on_first_page(response) -> int:
    from pypdf import PdfReader

    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return len(PdfReader(io.BytesIO(response.get_data())).pages[0].images)


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


class Shop(dict):
    __getattr__ = dict.__getitem__


@pytest.fixture
def shop(app, engine, client, make_staff):
    """A Karnataka showroom with a scooter invoiced and paid for in part; its administrator logged in."""
    with engine.begin() as conn:
        s = b.sale_setup(conn, state="29", price_from=str(TODAY - timedelta(days=60)))
    make_staff("ADM1", "ADMIN", branch_id=s.branch_id)
    assert login(client, "ADM1", "2580").status_code == 303
    from webapp.sales import services

    with engine.begin() as conn:
        booking_id = b.booking(conn, s, on=str(TODAY))
        services.allot(conn, booking_id, s.unit_id)
        b.act_as(conn, s.manager_id)
        invoice_id = posting.post_vehicle_invoice(conn, booking_id, on=TODAY, key=str(uuid.uuid4()))
        receipt_id = posting.post_receipt(conn, on=TODAY, mode="UPI", amount=Decimal("10000.00"),
                                          key=str(uuid.uuid4()), received_from="Customer",
                                          booking_id=booking_id, reference="UPI123456")
        b.act_as(conn, None)  # act_as is session-wide: leave no one acting on the pooled connection
    return Shop(client=client, branch_id=s.branch_id, invoice_id=invoice_id, receipt_id=receipt_id)


def save_branch(engine, shop, **extra):
    """Submit the branch edit form as it stands, with a file and/or the remove box."""
    path = f"/master/branches/{shop.branch_id}/edit"
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT * FROM master.branch WHERE branch_id = :b"),
                           {"b": shop.branch_id}).mappings().one()
    data = {f: row[f] or "" for f in BRANCH_FIELDS}
    data["csrf_token"] = csrf(shop.client.get(path).get_data(as_text=True))
    data.update(extra)
    return shop.client.post(path, data=data, content_type="multipart/form-data")


def test_the_branch_edit_form_takes_a_file(shop):
    page = shop.client.get(f"/master/branches/{shop.branch_id}/edit").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page
    assert re.search(r'<input[^>]*type="file"[^>]*name="logo_file"|<input[^>]*name="logo_file"[^>]*type="file"', page)
    assert "No logo yet" in page and 'name="remove_logo"' not in page


def test_an_uploaded_logo_is_printed_on_the_invoice_and_the_receipt(shop, engine):
    logo = tiny_png()
    response = save_branch(engine, shop, logo_file=(io.BytesIO(logo), "logo.png", "application/octet-stream"))
    assert response.status_code == 303, response.get_data(as_text=True)
    assert scalar(engine, "SELECT logo FROM master.branch WHERE branch_id = :b", b=shop.branch_id) == logo
    assert scalar(engine, "SELECT logo_type FROM master.branch WHERE branch_id = :b", b=shop.branch_id) == "image/png"
    assert scalar(engine, "SELECT logo_updated_at IS NOT NULL FROM master.branch WHERE branch_id = :b",
                  b=shop.branch_id)

    assert images_on_first_page(shop.client.get(f"/billing/invoices/{shop.invoice_id}/pdf")) == 1
    assert images_on_first_page(shop.client.get(f"/billing/receipts/{shop.receipt_id}/pdf")) == 1
    # On screen too: the same header, as a data: URI the page's CSP allows (img-src 'self' data:).
    page = shop.client.get(f"/billing/invoices/{shop.invoice_id}")
    assert page.status_code == 200
    assert 'class="logo" src="data:image/png;base64,' in page.get_data(as_text=True)
    assert "data:" in page.headers["Content-Security-Policy"].split("img-src")[1].split(";")[0]
    # The edit form shows the logo and offers to remove it.
    form = shop.client.get(f"/master/branches/{shop.branch_id}/edit").get_data(as_text=True)
    assert 'src="data:image/png;base64,' in form and 'name="remove_logo"' in form


def test_a_document_of_a_branch_without_a_logo_has_no_image(shop):
    # The UPI QR and the e-invoice QR are inline SVG drawings, not images.
    assert images_on_first_page(shop.client.get(f"/billing/invoices/{shop.invoice_id}/pdf")) == 0
    assert images_on_first_page(shop.client.get(f"/billing/receipts/{shop.receipt_id}/pdf")) == 0


def test_a_text_file_named_png_is_refused_and_nothing_is_stored(shop, engine):
    response = save_branch(engine, shop, city="Mysuru",
                           logo_file=(io.BytesIO(b"GSTIN list\nnot an image at all"), "logo.png", "image/png"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "This file is not a PNG or JPEG image" in page
    assert scalar(engine, "SELECT logo IS NULL AND city <> 'Mysuru' FROM master.branch WHERE branch_id = :b",
                  b=shop.branch_id)


def test_a_file_that_is_not_named_as_an_image_is_refused(shop, engine):
    response = save_branch(engine, shop, logo_file=(io.BytesIO(tiny_png()), "logo.gif", "image/gif"))
    assert response.status_code == 422
    assert "Choose a PNG or JPEG image" in response.get_data(as_text=True)
    assert scalar(engine, "SELECT logo IS NULL FROM master.branch WHERE branch_id = :b", b=shop.branch_id)


def test_a_logo_above_256_kb_is_refused(shop, engine):
    big = tiny_png() + b"\x00" * (256 * 1024)
    response = save_branch(engine, shop, logo_file=(io.BytesIO(big), "logo.png", "image/png"))
    assert response.status_code == 422
    assert "The logo may be at most 256 KB" in response.get_data(as_text=True)
    assert scalar(engine, "SELECT logo IS NULL FROM master.branch WHERE branch_id = :b", b=shop.branch_id)


def test_removing_the_logo_takes_it_off_the_documents_and_saving_without_a_file_keeps_it(shop, engine):
    assert save_branch(engine, shop, logo_file=(io.BytesIO(tiny_png()), "logo.png", "image/png")).status_code == 303
    # An ordinary edit of the branch leaves the logo alone.
    assert save_branch(engine, shop, phone="080-49999999").status_code == 303
    assert scalar(engine, "SELECT logo IS NOT NULL FROM master.branch WHERE branch_id = :b", b=shop.branch_id)

    assert save_branch(engine, shop, remove_logo="y").status_code == 303
    assert scalar(engine, "SELECT logo IS NULL AND logo_type IS NULL AND logo_updated_at IS NULL "
                          "FROM master.branch WHERE branch_id = :b", b=shop.branch_id)
    assert images_on_first_page(shop.client.get(f"/billing/invoices/{shop.invoice_id}/pdf")) == 0


def test_the_audit_trail_notes_a_new_logo_without_copying_the_image(shop, engine):
    assert save_branch(engine, shop, logo_file=(io.BytesIO(tiny_png()), "logo.png", "image/png")).status_code == 303
    with engine.connect() as conn:
        change = conn.execute(sa.text(
            "SELECT before, after FROM audit.log WHERE table_name = 'master.branch' AND row_key = :b "
            "ORDER BY audit_id DESC LIMIT 1"), {"b": str(shop.branch_id)}).mappings().one()
    assert "logo" not in change["after"] and "logo" not in change["before"]
    assert (change["before"]["logo_type"], change["after"]["logo_type"]) == (None, "image/png")
    assert change["after"]["logo_updated_at"] is not None


def test_the_database_refuses_a_logo_without_its_type_or_of_another_type(engine, make_branch):
    branch_id = make_branch()
    for sql in ("UPDATE master.branch SET logo = '\\x89504e47' WHERE branch_id = :b",
                "UPDATE master.branch SET logo = '\\x89504e47', logo_type = 'image/gif' WHERE branch_id = :b",
                ("UPDATE master.branch SET logo = decode(repeat('00', 262145), 'hex'), logo_type = 'image/png' "
                 "WHERE branch_id = :b")):
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
            conn.execute(sa.text(sql), {"b": branch_id})


# ----------------------------------------------------------------------------- what a PDF may read


def test_a_printed_document_reads_static_files_and_data_uris_but_nothing_else(app):
    from webapp.pdf_render import _static_file

    with app.app_context():
        root = Path(app.static_folder).resolve()
        css = (root / "css" / "pdf.css").as_uri()
        assert _static_file(root, css) == css
        data = "data:image/png;base64,iVBORw0KGgo="
        assert _static_file(root, data) == data
        for url in ("http://example.com/logo.png", "https://example.com/logo.png", "file:///etc/passwd",
                    (root / ".." / "webapp" / "config.py").as_uri(), "ftp://example.com/x"):
            with pytest.raises(ValueError, match="may only use the app's static files"):
                _static_file(root, url)


def test_a_pdf_with_a_data_uri_image_carries_it_and_one_with_a_web_address_does_not(app):
    import base64

    from pypdf import PdfReader

    from webapp import pdf
    from webapp.pdf_render import lay_out

    uri = "data:image/png;base64," + base64.b64encode(tiny_png()).decode()
    with app.app_context():
        root = pdf._static_root()

        def images(src: str) -> int:
            out = lay_out(f'<p>x</p><img src="{src}">', root)
            return len(PdfReader(io.BytesIO(out)).pages[0].images)

        assert images(uri) == 1
        assert images("http://127.0.0.1:9/logo.png") == 0
