"""Full and final settlement: a leaver's notice shortfall entered by accounts (on their salary structure page),
and the statement of the settlement their last run carries (PDF): the days paid, leave encashment, gratuity, the
notice pay and loans recovered, and the net amount in words. The figures are hr.settlement_compute's, kept per run
and person in hr.settlement."""
from __future__ import annotations

from flask import abort, flash, url_for

from ..db import get_conn
from ..errors import redirect_response
from ..forms import save_or_field_error
from ..master.api import branch_for_print
from ..money import amount_in_words
from ..pdf import pdf_response, render_pdf
from ..security import allow
from . import bp, queries
from . import incentive_queries as iq
from .incentive_forms import INCENTIVE_MESSAGES, NoticeForm
from .views import _person_or_404, _person_page, _run_or_404


@bp.get("/runs/<int:run_id>/settlements/<int:leaver_id>.pdf")
@allow("payroll.review")
def settlement_pdf(run_id: int, leaver_id: int):
    conn = get_conn()
    run = _run_or_404(conn, run_id)
    settled = iq.settlement(conn, run_id, leaver_id)
    if settled is None:
        abort(404)
    line = queries.line(conn, run_id, leaver_id)
    pdf = render_pdf("payroll/settlement_pdf.html", branch=branch_for_print(conn, run["branch_id"]), run=run,
                     line=line, s=settled, words=amount_in_words(line["net_pay"]))
    return pdf_response(pdf, f"full-and-final-{settled['staff_code']}-{run['month']:%Y-%m}.pdf")


@bp.post("/structures/<int:staff_id>/notice")
@allow("payroll.run")
def notice_shortfall(staff_id: int):
    conn = get_conn()
    person = _person_or_404(conn, staff_id)
    form = NoticeForm()
    if form.validate_on_submit():
        _, saved = save_or_field_error(conn, form, INCENTIVE_MESSAGES, lambda: iq.set_notice_shortfall(
            conn, branch_id=person["branch_id"], staff_id=staff_id, days=form.days.data, reason=form.reason.data))
        if saved:
            flash("Notice shortfall recorded: the last run recovers it in the settlement.", "success")
            return redirect_response(url_for("payroll.structures", staff_id=staff_id))
    return _person_page(conn, person, notice_form=form), 422
