"""HR forms: employment details, a document, the terminal's punch, a correction punch, leave, and the
settings (shifts, holidays, departments, quotas). The database holds the rules; its refusals come back
next to the field through CONSTRAINT_MESSAGES."""
from __future__ import annotations

import re
from datetime import time
from decimal import Decimal

from wtforms import BooleanField, FileField, HiddenField, IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional, Regexp, ValidationError

from ..forms import AmountField, DateField, DateTimeField, FlaskForm, Length, blank_to_none, strip, upper, upper_or_none
from ..validators import BANK_ACCOUNT, IFSC, PAN, PHONE

DOCUMENT_KINDS = {"APPOINTMENT_LETTER": "Appointment letter", "ID_PROOF": "ID proof",
                  "ADDRESS_PROOF": "Address proof", "OTHER": "Other"}
WEEKDAYS = {1: "Monday", 2: "Tuesday", 3: "Wednesday", 4: "Thursday", 5: "Friday", 6: "Saturday", 7: "Sunday"}


def digits_only(value):
    """'1001 2345 6789' -> '100123456789'; blank -> None."""
    value = blank_to_none(value)
    return re.sub(r"[\s-]", "", value) if isinstance(value, str) else value


def pf_number(value):
    """'KN/BNG/0012345/000/0001234' -> 'KNBNG00123450000001234' (the member id without separators)."""
    value = blank_to_none(value)
    return re.sub(r"[\s/-]", "", value).upper() if isinstance(value, str) else value


def optional_choice(value):
    return None if value in (None, "", "0", 0) else int(value)


class PersonForm(FlaskForm):
    joined_on = DateField("Date of joining", validators=[DataRequired("Enter the date of joining")])
    left_on = DateField("Date of leaving", validators=[Optional()],
                        description="A date on or before today deactivates the staff member: never deleted")
    department_id = SelectField("Department", coerce=optional_choice, validators=[Optional()])
    manager_id = SelectField("Reporting manager", coerce=optional_choice, validators=[Optional()],
                             description="Approves their leave and regularises their punches")
    shift_id = SelectField("Shift", coerce=optional_choice, validators=[Optional()],
                           description="None: the branch's default shift")
    uan = StringField("UAN", filters=[digits_only], validators=[Optional(), Regexp(r"^[0-9]{12}\Z",
                      message="The UAN is 12 digits")], render_kw={"inputmode": "numeric", "autocomplete": "off"})
    pf_number = StringField("PF member id", filters=[pf_number], validators=[Optional(), Regexp(
        r"^[A-Z]{5}[0-9]{17}\Z", message="The PF member id is like KN/BNG/0012345/000/0001234")],
        render_kw={"autocapitalize": "characters", "autocomplete": "off"})
    esi_ip_number = StringField("ESI IP number", filters=[digits_only], validators=[Optional(), Regexp(
        r"^[0-9]{10}\Z", message="The ESI insurance number is 10 digits")], render_kw={"inputmode": "numeric"})
    pan = StringField("PAN", filters=[upper_or_none], validators=[Optional(), PAN], render_kw={"autocapitalize": "characters"})
    bank_account_no = StringField("Bank account no.", filters=[digits_only], validators=[Optional(), BANK_ACCOUNT],
                                  render_kw={"inputmode": "numeric", "autocomplete": "off"})
    ifsc = StringField("IFSC", filters=[upper_or_none], validators=[Optional(), IFSC],
                       render_kw={"autocapitalize": "characters"})
    emergency_name = StringField("Emergency contact", filters=[strip, blank_to_none],
                                 validators=[Optional(), Length(min=2, max=120)])
    emergency_relation = StringField("Relation", filters=[strip, blank_to_none], validators=[Optional(), Length(min=2, max=40)])
    emergency_phone = StringField("Emergency phone", filters=[strip, blank_to_none], validators=[Optional(), PHONE],
                                  render_kw={"inputmode": "tel"})

    def validate_ifsc(self, field):
        if bool(field.data) != bool(self.bank_account_no.data):
            raise ValidationError("Give the bank account number and its IFSC together")

    def data_for_db(self) -> dict:
        return {name: self[name].data for name in (
            "joined_on", "left_on", "department_id", "manager_id", "shift_id", "uan", "pf_number", "esi_ip_number",
            "pan", "bank_account_no", "ifsc", "emergency_name", "emergency_relation", "emergency_phone")}


class DocumentForm(FlaskForm):
    kind = SelectField("Document", choices=list(DOCUMENT_KINDS.items()), validators=[DataRequired()])
    file = FileField("File", render_kw={"accept": "application/pdf,image/jpeg,image/png"})


class PunchForm(FlaskForm):
    staff_code = StringField("Staff code", filters=[upper],
                             validators=[DataRequired("Enter your staff code"), Length(max=12)],
                             render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"})
    pin = PasswordField("PIN", validators=[DataRequired("Enter your PIN"),
                                           Regexp(r"^[0-9]{4,6}\Z", message="A PIN is 4 to 6 digits")],
                        render_kw={"inputmode": "numeric", "autocomplete": "off"})
    kind = HiddenField(validators=[DataRequired("Tap In or Out"), Regexp(r"^(IN|OUT)\Z", message="Tap In or Out")])


class TerminalForm(FlaskForm):
    name = StringField("Name of this terminal", filters=[strip], default="Front desk",
                       validators=[DataRequired("Name this terminal"), Length(min=2, max=40)])


class CorrectionForm(FlaskForm):
    staff_id = SelectField("Staff member", coerce=optional_choice, validators=[DataRequired("Choose the staff member")])
    kind = SelectField("Punch", choices=[("OUT", "Out (a forgotten out-punch)"), ("IN", "In")],
                       validators=[DataRequired()])
    punched_at = DateTimeField("Date and time", validators=[DataRequired("Enter the date and time of the punch")])
    reason = StringField("Reason", filters=[strip], validators=[DataRequired("Give the reason"), Length(min=5, max=200)],
                         render_kw={"placeholder": "Left at 18:30, forgot to punch out (seen on CCTV)"})


class LeaveForm(FlaskForm):
    leave_code = SelectField("Leave", validators=[DataRequired("Choose the leave")])
    from_date = DateField("From", validators=[DataRequired("Enter the first day")])
    to_date = DateField("To", validators=[Optional()], description="Blank: one day")
    half = SelectField("Full or half day", choices=[("", "Full day(s)"), ("FIRST", "First half (morning)"),
                                                   ("SECOND", "Second half (afternoon)")], validators=[Optional()])
    reason = StringField("Reason", filters=[strip], validators=[DataRequired("Give a reason"), Length(min=3, max=200)])

    def validate_to_date(self, field):
        if field.data and self.from_date.data and field.data < self.from_date.data:
            raise ValidationError("The last day is before the first")
        if self.half.data and field.data and field.data != self.from_date.data:
            raise ValidationError("A half day is one day: leave 'To' blank")


class DecisionForm(FlaskForm):
    note = StringField("Note", filters=[strip, blank_to_none], validators=[Optional(), Length(max=200)])


class ShiftForm(FlaskForm):
    name = StringField("Name", filters=[strip], validators=[DataRequired("Name the shift"), Length(min=2, max=40)])
    starts_at = StringField("Starts (HH:MM)", filters=[strip], validators=[DataRequired(), Regexp(
        r"^([01][0-9]|2[0-3]):[0-5][0-9]\Z", message="HH:MM, e.g. 09:30")])
    ends_at = StringField("Ends (HH:MM)", filters=[strip], validators=[DataRequired(), Regexp(
        r"^([01][0-9]|2[0-3]):[0-5][0-9]\Z", message="HH:MM, e.g. 18:30")],
        description="Before the start: a night shift, ending the next morning (its punches count on the day it starts)")
    grace_minutes = IntegerField("Grace minutes", default=10, validators=[
        InputRequired("Enter the grace minutes"), NumberRange(min=0, max=120, message="0 to 120")])
    half_day_hours = AmountField("Half day below (hours)", places=2, default=Decimal("8"), validators=[
        InputRequired("Enter the hours"), NumberRange(min=Decimal("0.25"), max=Decimal(24), message="0.25 to 24")])
    absent_hours = AmountField("Absent below (hours)", places=2, default=Decimal("4"), validators=[
        InputRequired("Enter the hours"), NumberRange(min=Decimal(0), max=Decimal(24), message="0 to 24")])
    weekly_off = SelectField("Weekly off", coerce=int, choices=list(WEEKDAYS.items()), default=2)
    is_default = BooleanField("The branch's default shift")

    def data_for_db(self) -> dict:
        data = {f: self[f].data for f in ("name", "grace_minutes", "half_day_hours", "absent_hours", "weekly_off",
                                          "is_default")}
        data["starts_at"] = time.fromisoformat(self.starts_at.data)
        data["ends_at"] = time.fromisoformat(self.ends_at.data)
        return data


class HolidayForm(FlaskForm):
    on_date = DateField("Date", validators=[DataRequired("Enter the date")])
    name = StringField("Holiday", filters=[strip], validators=[DataRequired("Name the holiday"), Length(min=2, max=60)])


class DepartmentForm(FlaskForm):
    name = StringField("Department", filters=[strip], validators=[DataRequired("Name the department"),
                                                                   Length(min=2, max=60)])


class QuotaForm(FlaskForm):
    leave_code = SelectField("Leave", validators=[DataRequired()])
    year = IntegerField("Year", validators=[InputRequired(), NumberRange(min=2000, max=2200, message="2000 to 2200")])
    days = AmountField("Days a year", places=1, validators=[InputRequired("Enter the days"),
                                                          NumberRange(min=Decimal(0), max=Decimal(366), message="0 to 366")])
    carry_forward_max = AmountField("Carried into next year, at most", places=1, default=Decimal(0), validators=[
        InputRequired("Enter 0 for none"), NumberRange(min=Decimal(0), max=Decimal(366), message="0 to 366")])


CONSTRAINT_MESSAGES = {
    # people
    "employee_left_after_joining": ("left_on", "The date of leaving is before the date of joining"),
    "employee_not_own_manager": ("manager_id", "A person is not their own reporting manager"),
    "employee_manager_cycle": ("manager_id", "This manager reports (through others) to this person: choose another"),
    "employee_shift_of_branch": ("shift_id", "Choose a shift of this person's branch"),
    "employee_uan_once": ("uan", "This UAN is already someone else's"),
    "employee_esi_once": ("esi_ip_number", "This ESI number is already someone else's"),
    "employee_uan_check": ("uan", "The UAN is 12 digits"),
    "employee_pf_number_check": ("pf_number", "The PF member id is like KN/BNG/0012345/000/0001234"),
    "employee_esi_ip_number_check": ("esi_ip_number", "The ESI insurance number is 10 digits"),
    "employee_emergency_complete": ("emergency_phone", "Give the emergency contact's name and phone together"),
    "employee_emergency_name_check": ("emergency_name", "2 to 120 characters"),
    "employee_emergency_relation_check": ("emergency_relation", "2 to 40 characters"),
    "employee_emergency_phone_check": ("emergency_phone", "Phone number: digits, spaces or dashes"),
    "staff_pan_check": ("pan", "PAN is 5 letters, 4 digits, 1 letter (e.g. ABCDE1234F)"),
    "staff_bank_account_no_check": ("bank_account_no", "Account number is 9 to 18 digits"),
    "staff_ifsc_check": ("ifsc", "IFSC is 4 letters, 0, then 6 letters or digits (e.g. HDFC0001234)"),
    "staff_bank_account_needs_ifsc": ("ifsc", "Give the bank account number and its IFSC together"),
    "staff_keep_an_admin": ("left_on", "The last active administrator cannot leave: make another administrator first"),
    # documents
    "employee_document_once": ("file", "This file is already among the person's documents"),
    "employee_document_content_check": ("file", "A file of at most 6 MB"),
    "employee_document_file_name_check": ("file", "Rename the file: at most 200 characters"),
    "employee_document_content_type_check": ("file", "A PDF, JPEG or PNG file"),
    # punches
    "punch_alternates": ("kind", "Two punches of the same kind in a row: the last one was the same"),
    "punch_by_active_staff": ("staff_code", "Not working here on this day: no punch is taken"),
    "punch_at_own_branch": ("staff_code", "Punch at your own branch's terminal"),
    "punch_month_open": ("punched_at", "This month's attendance is closed: nothing more is recorded in it"),
    "punch_terminal_enabled": (None, "This terminal was switched off: ask a manager to enable it again"),
    "punch_not_in_future": ("punched_at", "A correction is for a time already past"),
    "punch_not_by_self": ("staff_id", "Someone else marks a correction for you"),
    "punch_marked_by_manager": ("staff_id", "Only this person's reporting manager, or a manager of the branch, "
                                            "marks a correction for them"),
    "punch_reason_check": ("reason", "5 to 200 characters"),
    "punch_terminal_or_correction": ("reason", "Give the reason"),
    "terminal_name_check": ("name", "2 to 40 characters"),
    # leave
    "leave_no_overlap": ("from_date", "You already have leave applied for or approved on some of these days"),
    "leave_within_balance": ("leave_code", "More days than the balance of this leave: choose loss of pay for the rest"),
    "leave_has_working_days": ("from_date", "No working day in these dates (weekly off or holidays)"),
    "leave_by_active_staff": ("from_date", "Not employed here on these dates"),
    "leave_at_own_branch": ("from_date", "Leave is applied for at one's own branch"),
    "leave_month_open": ("from_date", "The attendance of this month is closed"),
    "leave_period": ("to_date", "At most 62 days, the last on or after the first"),
    "leave_within_one_year": ("to_date", "Apply for each calendar year separately"),
    "leave_half_is_one_day": ("to_date", "A half day is one day"),
    "leave_type_in_use": ("leave_code", "This leave is no longer in use"),
    "leave_reason_check": ("reason", "3 to 200 characters"),
    "leave_decided_by_manager": (None, "Only the reporting manager decides this leave"),
    "leave_status_move": (None, "This leave was already decided or cancelled"),
    "leave_is_fixed": (None, "This leave was already decided"),
    "leave_decision_note_check": ("note", "At most 200 characters"),
    # settings
    "shift_has_length": ("ends_at", "The shift ends at another time than it starts (an end before the start "
                                    "crosses midnight: a night shift)"),
    "shift_thresholds": ("absent_hours", "Absent hours are below half-day hours, which are at most the shift's length"),
    "shift_branch_id_name_key": ("name", "The branch has a shift of this name"),
    "shift_one_default": ("is_default", "The branch has another default shift"),
    "shift_grace_minutes_check": ("grace_minutes", "0 to 120"),
    "shift_half_day_hours_check": ("half_day_hours", "0.25 to 24"),
    "shift_absent_hours_check": ("absent_hours", "0 to 24"),
    "shift_name_check": ("name", "2 to 40 characters"),
    "holiday_once_a_day": ("on_date", "The branch has a holiday on this date already"),
    "holiday_name_check": ("name", "2 to 60 characters"),
    "department_name_once": ("name", "This department is on the list already"),
    "department_name_check": ("name", "2 to 60 characters"),
    "leave_quota_days_check": ("days", "0 to 366"),
    "leave_quota_carry_forward_max_check": ("carry_forward_max", "0 to 366"),
    "leave_quota_year_check": ("year", "2000 to 2200"),
    # the month
    "month_close_after_month_end": (None, "The month is not over yet"),
    "month_close_regularised": (None, "Forgotten out-punches of the month are not regularised yet"),
    "month_close_no_pending_leave": (None, "Leave of the month is still waiting for a decision"),
    "month_close_pkey": (None, "This month is already closed"),
}
