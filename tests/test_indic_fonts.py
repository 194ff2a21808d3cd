"""Kannada and Hindi on a machine with no Indian font (this one has none): the vendored Noto Sans Kannada
and Noto Sans Devanagari under static/fonts are embedded in a printed call list, declared by the screens'
stylesheet for their scripts only, and served from /static, allowed by the pages' CSP, kept by browsers."""
from __future__ import annotations

import io
import os
import re
from datetime import timedelta
from importlib.metadata import requires
from pathlib import Path

import communication_builders as cb
import sqlalchemy as sa
from builders import scalar
from pypdf import PdfReader

from webapp.formatting import today_ist

STATIC = Path(__file__).resolve().parent.parent / "static"
KANNADA = "ಪ್ರಿಯ {customer_name}, ನಿಮ್ಮ ವಾಹನದ ಸೇವೆ ಬಾಕಿ ಇದೆ. ದಯವಿಟ್ಟು ಕರೆ ಮಾಡಿ"
HINDI = "प्रिय {customer_name}, आपकी गाड़ी की सर्विस बाकी है। कृपया कॉल करें"


def embedded_fonts(pdf: bytes) -> dict[str, str]:
    """Each font of the PDF's pages: its name (less the subset's tag) -> the key its file is under
    in its descriptor (FontFile2: TrueType, FontFile3: CFF), "" for a font that is not embedded."""
    found = {}
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor") or font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            descriptor = descriptor.get_object()
            name = str(font["/BaseFont"]).lstrip("/").split("+", 1)[-1]
            found[name] = next((key for key in ("/FontFile", "/FontFile2", "/FontFile3") if key in descriptor), "")
    return found


def _call_names(engine) -> list[tuple[str, str]]:
    """Each call's customer by the language of its text."""
    with engine.connect() as conn:
        return conn.execute(sa.text("""
            SELECT coalesce(l.language, 'en'), o.to_name FROM communication.outbox o
              JOIN master.customer c ON c.customer_id = o.customer_id
              LEFT JOIN communication.customer_language l ON l.customer_id = c.customer_id""")).all()


def test_the_call_list_prints_kannada_and_hindi_texts_in_the_fonts_it_embeds(logged_in, engine):
    client, staff_id = logged_in("SERVICE_ADVISOR")
    with engine.begin() as conn:
        branch = scalar(conn, "SELECT branch_id FROM master.staff WHERE staff_id = :s", s=staff_id)
        cb.rule(conn, "SERVICE_DUE", 7, "CALL")
        cb.template(conn, "T_SERVICE_DUE", "CALL", "kn", body=KANNADA)
        cb.template(conn, "T_SERVICE_DUE", "CALL", "hi", body=HINDI)
        for language in ("kn", "hi", "en"):
            _, customer_id = cb.vehicle(conn, branch, due_on=today_ist() + timedelta(days=3))
            if language != "en":
                conn.execute(sa.text("INSERT INTO communication.customer_language (customer_id, language) "
                                     "VALUES (:c, :l)"), {"c": customer_id, "l": language})
        cb.run(conn, on=today_ist())
        assert scalar(conn, "SELECT count(*) FROM communication.outbox WHERE channel = 'CALL'") == 3
    response = client.get("/communication/calls.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = response.get_data()
    if os.environ.get("INDIC_SCREENSHOTS"):                        # for whoever wants to look at it
        (Path(os.environ["INDIC_SCREENSHOTS"]) / "h19-call-list.pdf").write_bytes(pdf)
    # Without white space: the text layer places a vowel sign positioned apart as a word of its own.
    text = re.sub(r"\s+", "", "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))
    names = dict(_call_names(engine))
    for language, body in (("kn", KANNADA), ("hi", HINDI)):
        said = re.sub(r"\s+", "", body.format(customer_name=names[language]))
        assert said in text, (language, said, text)
    assert re.sub(r"\s+", "", f"Tell {names['en']}:") in text and "CALLLIST" in text  # as before
    fonts = embedded_fonts(pdf)
    for name in ("Noto-Sans-Kannada", "Noto-Sans-Devanagari", "ERP-Sans"):
        assert fonts.get(name), (name, fonts)                     # there, with its glyphs in the file
    assert all(fonts.values()), fonts                              # nothing left to the reader's fonts


def test_the_screens_declare_the_indian_fonts_for_their_scripts_and_serve_them_for_a_year(client):
    css = client.get("/static/css/app.css")
    assert css.status_code == 200
    sheet = css.get_data(as_text=True)
    faces = re.findall(r"@font-face\s*{([^}]*)}", sheet)
    declared = {}
    for face in faces:
        family = re.search(r'font-family:\s*"([^"]+)"', face).group(1)
        url = re.search(r'url\("\.\./(fonts/[^"]+)"\)', face).group(1)
        weight = re.search(r"font-weight:\s*(\d+)", face).group(1)
        ranges = re.search(r"unicode-range:\s*([^;]+);", face).group(1)
        declared[(family, weight)] = (url, ranges)
    assert set(declared) == {("Noto Sans Kannada", "400"), ("Noto Sans Kannada", "700"),
                             ("Noto Sans Devanagari", "400"), ("Noto Sans Devanagari", "700")}
    for (family, _), (_url, ranges) in declared.items():
        assert ("U+0C80-0CF3" in ranges) == (family == "Noto Sans Kannada")
        assert ("U+0900-097F" in ranges) == (family == "Noto Sans Devanagari")
        assert "U+0000" not in ranges and "U+0020" not in ranges   # Latin text keeps the system font
    root = re.search(r":root\s*{[^}]*font-family:\s*([^;]+);", sheet).group(1)
    chain = [name.strip().strip('"') for name in root.split(",")]
    assert chain[0] == "system-ui" and chain[-1] == "sans-serif"
    assert {"Noto Sans Kannada", "Noto Sans Devanagari"} <= set(chain)

    for url, _ in declared.values():
        font = client.get(f"/static/{url}")
        assert font.status_code == 200, url
        assert font.mimetype == "font/woff2" and font.get_data()[:4] == b"wOF2", url
        assert font.cache_control.max_age == 365 * 24 * 3600 and not font.cache_control.no_cache, url
        font.close()
    # A stylesheet changes in place with a new release: browsers still ask whether it did.
    assert css.cache_control.max_age in (None, 0) or css.cache_control.no_cache
    # The pages' policy lets them load the app's own fonts (and nobody else's).
    page = client.get("/login")
    assert "font-src 'self';" in page.headers["Content-Security-Policy"]


def test_the_printed_documents_stylesheet_falls_back_to_the_vendored_indian_fonts():
    sheet = (STATIC / "css" / "pdf.css").read_text()
    urls = re.findall(r'@font-face\s*{\s*font-family:\s*"([^"]+)";\s*src:\s*url\("\.\./(fonts/[^"]+)"\)', sheet)
    families = {family for family, _ in urls}
    assert families == {"ERP Sans", "Noto Sans Kannada", "Noto Sans Devanagari"}
    for _, url in urls:
        assert (STATIC / url).is_file(), url                       # under static/: WeasyPrint may read it
    html = re.search(r"html\s*{[^}]*font-family:\s*([^;]+);", sheet).group(1)
    assert [name.strip().strip('"') for name in html.split(",")] == [
        "ERP Sans", "Noto Sans Kannada", "Noto Sans Devanagari"]   # Latin text and ₹ stay DejaVu
    for family in ("Kannada", "Devanagari"):
        assert (STATIC / "fonts" / f"NotoSans{family}-LICENSE.txt").read_text().count("SIL Open Font License") >= 1
    # WeasyPrint reads a woff2 file through fontTools' woff extra (brotli): the wheelhouse built from
    # requirements.txt carries it because WeasyPrint asks for it.
    assert any(re.match(r"fonttools\[woff\]", req.replace(" ", "")) for req in requires("weasyprint"))
