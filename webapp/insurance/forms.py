"""The policy form: insurer, own-damage and third-party covers with their periods, premium, IDV,
nominee and commission. The periods are checked by the database (policy_od_period,
policy_tp_period); its refusals are shown next to the fields (CONSTRAINT_MESSAGES)."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, NumberRange, Optional, Regexp

from ..finance.api import CONSTRAINT_MESSAGES as BOOKS_MESSAGES
from ..forms import AmountField, DateField, FlaskForm, Length, blank_to_none, upper_or_none

POLICY_NO = Regexp(r"^[A-Za-z0-9/-]{4,40}\Z", message="4 to 40 letters, digits, / or -")

# Years of third-party cover sold with a new vehicle (IRDAI long-term TP): a two-wheeler 5, a
# car 3; commercial three-wheelers renew yearly.
TP_YEARS = {"E2W": 5, "E2W_LOW_SPEED": 5, "E4W": 3, "E3W_PASSENGER": 1, "E3W_GOODS": 1}
OD_YEARS = 1


def cover_ends(start: date, years: int) -> date:
    """The last day of a cover of whole years from ``start``: 24-11-2026 for 1 year -> 23-11-2027."""
    try:
        same_day = start.replace(year=start.year + years)
    except ValueError:   # 29 February: the cover runs to 28 February
        same_day = start.replace(year=start.year + years, day=28) + timedelta(days=1)
    return same_day - timedelta(days=1)


def _money(label: str, **kwargs):
    return AmountField(label, places=2, render_kw={"inputmode": "decimal", "autocomplete": "off"}, **kwargs)


class PolicyForm(FlaskForm):
    insurer_id = SelectField("Insurer", coerce=int, validators=[DataRequired("Choose the insurer")])
    od_policy_no = StringField("Own-damage policy no.", filters=[upper_or_none], validators=[Optional(), POLICY_NO],
                               render_kw={"autocomplete": "off"})
    od_from = DateField("Own damage from", validators=[Optional()])
    od_to = DateField("Own damage to", validators=[Optional()])
    tp_policy_no = StringField("Third-party policy no.", filters=[upper_or_none], validators=[Optional(), POLICY_NO],
                               description="The same number as own damage when one policy covers both",
                               render_kw={"autocomplete": "off"})
    tp_from = DateField("Third party from", validators=[Optional()])
    tp_to = DateField("Third party to", validators=[Optional()])
    premium = _money("Premium (₹)", validators=[DataRequired("Enter the premium"),
                                               NumberRange(min=Decimal("0.01"), message="More than zero"),
                                               NumberRange(max=Decimal("9999999999.99"), message="Too large")])
    idv = _money("IDV (₹)", description="Insured declared value", validators=[
        Optional(), NumberRange(min=Decimal(0), max=Decimal("9999999999.99"), message="0 or more")])
    nominee_name = StringField("Nominee", filters=[blank_to_none], validators=[Optional(), Length(min=2, max=120)])
    nominee_relation = StringField("Nominee's relation", filters=[blank_to_none],
                                   validators=[Optional(), Length(min=2, max=40)],
                                   render_kw={"placeholder": "Spouse, son, mother..."})
    commission_amount = _money("Commission receivable (₹)", default=Decimal("0.00"), validators=[
        Optional(), NumberRange(min=Decimal(0), max=Decimal("9999999999.99"), message="0 or more")])
    commission_received_on = DateField("Commission received on", validators=[Optional()])

    def data_for_db(self) -> dict:
        """The columns; a cover without its policy number has no period either."""
        data = {name: self[name].data for name in (
            "insurer_id", "od_policy_no", "od_from", "od_to", "tp_policy_no", "tp_from", "tp_to", "premium", "idv",
            "nominee_name", "nominee_relation", "commission_amount", "commission_received_on")}
        for cover in ("od", "tp"):
            if not data[f"{cover}_policy_no"] and not self[f"{cover}_policy_no"].errors:
                data[f"{cover}_from"] = data[f"{cover}_to"] = None
        data["commission_amount"] = data["commission_amount"] or Decimal("0.00")
        return data


CONSTRAINT_MESSAGES = {
    "period_closed": ("commission_received_on", BOOKS_MESSAGES["period_closed"]),
    "policy_commission_posted": ("commission_amount", "The commission received is posted in the books: it no longer changes"),
    "policy_od_period": ("od_to", "Own damage must end after it starts and last at most 5 years"),
    "policy_tp_period": ("tp_to", "Third party must end after it starts and last at most 5 years"),
    "policy_od_complete": ("od_policy_no", "Own-damage cover needs its policy number and both dates"),
    "policy_tp_complete": ("tp_policy_no", "Third-party cover needs its policy number and both dates"),
    "policy_has_cover": ("od_policy_no", "Enter the own-damage or the third-party policy number (or both)"),
    "policy_commission_received": ("commission_received_on", "Enter the commission amount first"),
    "policy_nominee": ("nominee_relation", "Give the nominee's name and relation together"),
    "policy_od_no_idx": ("od_policy_no", "This insurer's policy number is already recorded"),
    "policy_matches_booking": (None, "The policy must cover the unit allotted to this booking and its customer"),
    "policy_od_policy_no_check": ("od_policy_no", "4 to 40 letters, digits, / or -"),
    "policy_tp_policy_no_check": ("tp_policy_no", "4 to 40 letters, digits, / or -"),
    "policy_premium_check": ("premium", "More than zero"),
    "policy_idv_check": ("idv", "0 or more"),
    "policy_commission_amount_check": ("commission_amount", "0 or more"),
    "policy_nominee_name_check": ("nominee_name", "2 to 120 characters"),
    "policy_nominee_relation_check": ("nominee_relation", "2 to 40 characters"),
}
