"""Kannada and Hindi in a real browser on a machine with no Indian font (Debian's Chromium here has
none): the outbox and a Kannada template's preview draw their text in the vendored Noto faces the
stylesheet declares (loaded from /static, allowed by the CSP), Latin text stays in the system font.
Photographed at 768x1024 and 1366x768 (into $INDIC_SCREENSHOTS when set, else the test's folder)."""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import communication_builders as cb
import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from webapp.formatting import today_ist

from .pages.auth import LoginPage
from .pages.communication import TemplateFormPage
from .pages.layout import loaded_font_faces, this_screen_too_wide

pytestmark = pytest.mark.browser

TABLET = {"width": 768, "height": 1024}
KANNADA = "ಪ್ರಿಯ {customer_name}, ನಿಮ್ಮ {model} ಸರ್ವೀಸ್ {due_date} ರಂದು ಬಾಕಿ ಇದೆ. ಕರೆ ಮಾಡಿ {branch_phone}"
HINDI = "प्रिय {customer_name}, आपके {model} की सर्विस {due_date} को देय है। कॉल करें {branch_phone}"


def test_the_outbox_and_a_kannada_preview_show_real_glyphs(new_page, engine, make_staff, make_branch, console,
                                                            tmp_path):
    branch = make_branch()
    make_staff("ADM1", "ADMIN", "482913", name="Asha Rao", branch_id=branch)
    with engine.begin() as conn:
        cb.rule(conn, "SERVICE_DUE", 7, "SMS", code="SERVICE_DUE")
        kannada = cb.template(conn, "SERVICE_DUE", "SMS", "kn", body=KANNADA)
        cb.template(conn, "SERVICE_DUE", "SMS", "hi", body=HINDI)
        for name, language in (("Meera Krishnan", "kn"), ("Rahul Sharma", "hi"), ("Fathima Khan", None)):
            _, customer = cb.vehicle(conn, branch, due_on=today_ist() + timedelta(days=2), due_km=5000)
            conn.execute(sa.text("UPDATE master.customer SET name = :n WHERE customer_id = :c"),
                         {"n": name, "c": customer})
            if language:
                conn.execute(sa.text("INSERT INTO communication.customer_language (customer_id, language) "
                                     "VALUES (:c, :l)"), {"c": customer, "l": language})
        cb.run(conn, on=today_ist())
    folder = Path(os.environ.get("INDIC_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)

    page = new_page(viewport=TABLET, has_touch=True)
    LoginPage.open(page).log_in("ADM1", "482913")
    page.goto("/communication/outbox")
    main = page.get_by_role("main")
    expect(main.get_by_role("row").filter(has_text="Meera Krishnan")).to_contain_text("ಪ್ರಿಯ Meera Krishnan")
    expect(main.get_by_role("row").filter(has_text="Rahul Sharma")).to_contain_text("प्रिय Rahul Sharma")
    expect(main.get_by_role("row").filter(has_text="Fathima Khan")).to_contain_text("Dear Fathima Khan")
    faces = loaded_font_faces(page)
    assert {"Noto Sans Kannada 400", "Noto Sans Devanagari 400"} <= faces, faces
    assert this_screen_too_wide(page, folder, "h19-outbox") == []

    # A page with no Indian text fetches no Indian font.
    page.goto("/communication/settings")
    assert not {f for f in loaded_font_faces(page) if f.startswith("Noto Sans ")}

    page.goto(f"/communication/templates/{kannada}")
    form = TemplateFormPage(page).show_preview()
    expect(form.preview).to_contain_text("ಪ್ರಿಯ")
    expect(form.preview).to_contain_text("ಬಾಕಿ ಇದೆ")
    faces = loaded_font_faces(page)
    assert "Noto Sans Kannada 400" in faces, faces
    assert this_screen_too_wide(page, folder, "h19-kannada-preview") == []
    console.assert_clean()                                     # no font refused by the CSP, none missing
