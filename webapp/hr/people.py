"""People: the branch's staff with their employment details (joining, leaving, department, reporting
manager, shift, UAN / PF, ESI, PAN, bank account, emergency contact) and their documents, kept as files
with their SHA-256 (checked by PostgreSQL). A date of leaving deactivates the staff record; nobody is
deleted. Who: MANAGER and ADMIN (hr.people), of their own branch."""
from __future__ import annotations

import io

from flask import abort, flash, make_response, render_template, request, url_for
from flask_login import current_user

from ..db import get_conn
from ..errors import redirect_response
from ..forms import save_or_field_error
from ..pages import found_or_404, rows_or_page, search_text
from ..security import allow
from . import bp, queries
from .forms import CONSTRAINT_MESSAGES, DOCUMENT_KINDS, DocumentForm, PersonForm

PEOPLE_TARGET = "people-results"
MAX_DOCUMENT_BYTES = 6 * 1024 * 1024
PDF_MAGIC, JPEG_MAGIC, PNG_MAGIC = b"%PDF-", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n"


@bp.get("/people")
@allow("hr.people")
def people():
    q = search_text()
    rows = queries.people(get_conn(), current_user.branch_id, q)
    return rows_or_page("hr/people.html", "hr/_people_rows.html", PEOPLE_TARGET, rows=rows, q=q,
                        results_id=PEOPLE_TARGET)


def _person_or_404(conn, staff_id: int):
    row = found_or_404(queries.person(conn, staff_id))
    if row["branch_id"] != current_user.branch_id:
        abort(404)
    return row


def _choices(conn, form, person) -> None:
    none = [(0, "—")]
    form.department_id.choices = none + queries.department_choices(conn, person["department_id"])
    form.manager_id.choices = none + queries.manager_choices(conn, person["branch_id"], person["staff_id"])
    form.shift_id.choices = [(0, "The branch's default")] + queries.shift_choices(conn, person["branch_id"])


@bp.route("/people/<int:staff_id>", methods=["GET", "POST"])
@allow("hr.people")
def person(staff_id: int):
    conn = get_conn()
    row = _person_or_404(conn, staff_id)
    form = PersonForm(data=dict(row) if request.method == "GET" else None)
    _choices(conn, form, row)
    if form.validate_on_submit():
        _, saved = save_or_field_error(conn, form, CONSTRAINT_MESSAGES, lambda: queries.save_person(
            conn, staff_id, form.data_for_db(), row["has_details"]))
        if saved:
            flash(f"{row['name']}: employment details saved.", "success")
            return redirect_response(url_for("hr.person", staff_id=staff_id))
    return render_template("hr/person.html", person=row, form=form, doc_form=DocumentForm(),
                           documents=queries.documents(conn, staff_id) if row["has_details"] else [],
                           kinds=DOCUMENT_KINDS), 422 if form.errors else 200


def _content_type(data: bytes) -> str | None:
    if data.startswith(PDF_MAGIC):
        return "application/pdf"
    if data.startswith(JPEG_MAGIC):
        return "image/jpeg"
    if data.startswith(PNG_MAGIC):
        return "image/png"
    return None


@bp.post("/people/<int:staff_id>/documents")
@allow("hr.people")
def document_add(staff_id: int):
    conn = get_conn()
    row = _person_or_404(conn, staff_id)
    form = DocumentForm()
    problem = None
    if not row["has_details"]:
        problem = "Save the employment details first"
    elif not form.validate_on_submit():
        problem = "; ".join(e for errs in form.errors.values() for e in errs) or "The form expired: try again"
    else:
        upload = form.file.data
        data = upload.read(MAX_DOCUMENT_BYTES + 1) if upload and hasattr(upload, "read") else b""
        kind = _content_type(data)
        if not data:
            problem = "Choose the file first"
        elif len(data) > MAX_DOCUMENT_BYTES:
            problem = "A file of at most 6 MB"
        elif kind is None:
            problem = "A PDF, JPEG or PNG file"
        else:
            name = (getattr(upload, "filename", "") or "document").replace("\\", "/").rsplit("/", 1)[-1][:200]
            _, saved = save_or_field_error(conn, form, CONSTRAINT_MESSAGES, lambda: queries.add_document(
                conn, staff_id, form.kind.data, name or "document", kind, data))
            if not saved:
                problem = "; ".join(form.form_errors or [e for errs in form.errors.values() for e in errs])
    flash(problem or "Document added.", "error" if problem else "success")
    return redirect_response(url_for("hr.person", staff_id=staff_id) + "#documents")


@bp.get("/documents/<int:document_id>")
@allow("hr.people")
def document_file(document_id: int):
    found = found_or_404(queries.document(get_conn(), document_id))
    if found["branch_id"] != current_user.branch_id:
        abort(404)
    response = make_response(io.BytesIO(bytes(found["content"])).getvalue())
    response.headers["Content-Type"] = found["content_type"]
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in found["file_name"])
    response.headers["Content-Disposition"] = f'inline; filename="{safe}"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Checksum-SHA256"] = found["sha256"]
    return response
