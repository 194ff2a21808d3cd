"""Forms of the master module: showroom (branch) profile and staff."""
from __future__ import annotations

from flask_wtf.file import FileAllowed, FileField
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Optional, Regexp

from .. import validators as v
from ..forms import FlaskForm, Length, blank_to_none, new_pin_fields, strip, upper, upper_or_none


def gstin_state_known(form, field):
    """A GSTIN's first two digits must be a GST state code: the state comes from the GSTIN (a branch's,
    an OEM's), and the database refuses codes that are not GST states."""
    from ..db import get_conn
    from .queries import state_name

    if field.data and v.is_gstin(field.data) and state_name(get_conn(), field.data[:2]) is None:
        raise v.ValidationError(f"{field.data[:2]} is not a GST state code")


class BranchForm(FlaskForm):
    branch_code = StringField("Branch code", filters=[upper],
                              validators=[DataRequired(), Regexp(r"^[A-Z0-9]{2,10}$",
                                          message="2 to 10 letters or digits, e.g. BLR1")])
    legal_name = StringField("Legal name (as on GST registration)", filters=[strip],
                             validators=[DataRequired(), Length(2, 200)])
    trade_name = StringField("Trade name (shown on screens)", filters=[blank_to_none],
                             validators=[Optional(), Length(2, 200)])
    gstin = StringField("GSTIN", filters=[upper], validators=[DataRequired(), Length(15, 15), v.GSTIN],
                        render_kw={"autocapitalize": "characters"})
    address_line1 = StringField("Address", filters=[strip], validators=[DataRequired(), Length(2, 200)])
    address_line2 = StringField("Address (line 2)", filters=[blank_to_none], validators=[Optional(), Length(max=200)])
    city = StringField("City", filters=[strip], validators=[DataRequired(), Length(2, 100)])
    pincode = StringField("PIN code", filters=[strip], validators=[DataRequired(), v.PINCODE],
                          render_kw={"inputmode": "numeric"})
    phone = StringField("Phone", filters=[strip], validators=[DataRequired(), v.PHONE],
                        render_kw={"inputmode": "tel"})
    email = StringField("E-mail", filters=[blank_to_none], validators=[Optional(), v.EMAIL],
                        render_kw={"inputmode": "email"})
    upi_id = StringField("UPI id (for payment QR codes)", filters=[blank_to_none], validators=[Optional(), v.UPI_ID])
    head_office = BooleanField("Head office: its managers work across every branch")
    invoice_prefix = StringField("Invoice series prefix", filters=[upper],
                                 validators=[DataRequired(), Regexp(r"^[A-Z0-9]{1,4}$",
                                             message="1 to 4 letters or digits, e.g. BLR")],
                                 description="Starts every document number of this branch, e.g. BLR/INV/26/1")

    validate_gstin = gstin_state_known


LOGO_MAX_BYTES = 256 * 1024  # as master.branch's branch_logo_size_check
# What an image file starts with: its magic bytes say what it is, whatever its name or the
# content type the browser sent.
LOGO_SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))


def logo_type_of(data: bytes) -> str | None:
    """image/png or image/jpeg by the file's first bytes, None for anything else."""
    return next((kind for magic, kind in LOGO_SIGNATURES if data.startswith(magic)), None)


class BranchEditForm(BranchForm):
    """The branch profile with its logo for printed documents (upload, replace or remove)."""

    logo_file = FileField("Logo for printed documents",
                          validators=[FileAllowed(["png", "jpg", "jpeg"], "Choose a PNG or JPEG image")],
                          render_kw={"accept": "image/png,image/jpeg"},
                          description="PNG or JPEG, at most 256 KB; printed at the top left of invoices "
                                      "and vouchers")
    remove_logo = BooleanField("Remove the logo")

    # Set by validate_logo_file: the uploaded image (bytes, content type), or None.
    logo: tuple[bytes, str] | None = None

    def validate_logo_file(self, field):
        self.logo = None
        upload = field.data
        if not upload or not getattr(upload, "filename", None):
            return
        data = upload.stream.read(LOGO_MAX_BYTES + 1)
        if not data:
            raise v.ValidationError("The file is empty")
        if len(data) > LOGO_MAX_BYTES:
            raise v.ValidationError("The logo may be at most 256 KB")
        kind = logo_type_of(data)
        if kind is None:
            raise v.ValidationError("This file is not a PNG or JPEG image")
        self.logo = (data, kind)


BRANCH_ERRORS = {
    "branch_branch_code_key": ("branch_code", "Another branch already uses this code"),
    "branch_invoice_prefix_key": ("invoice_prefix", "Another branch already uses this prefix"),
    "branch_gstin_check": ("gstin", "Not a valid GSTIN"),
    "branch_state_code_fkey": ("gstin", "The GSTIN's first two digits are not a GST state code"),
    "branch_logo_size_check": ("logo_file", "The logo may be at most 256 KB"),
    "branch_logo_type_check": ("logo_file", "This file is not a PNG or JPEG image"),
}


class StaffForm(FlaskForm):
    staff_code = StringField("Staff code", filters=[upper],
                             validators=[DataRequired(), Regexp(r"^[A-Z0-9]{2,12}$",
                                         message="2 to 12 letters or digits, e.g. S014")],
                             description="Used to log in; letters and digits",
                             render_kw={"autocapitalize": "characters"})
    name = StringField("Name", filters=[strip], validators=[DataRequired(), Length(2, 120)])
    designation = SelectField("Role", validators=[DataRequired()])
    branch_id = SelectField("Branch", coerce=int, validators=[DataRequired()])
    phone = StringField("Mobile", filters=[lambda s: v.normalise_mobile(s) or None],
                        validators=[Optional(), v.MOBILE], render_kw={"inputmode": "tel"})
    email = StringField("E-mail", filters=[blank_to_none], validators=[Optional(), v.EMAIL],
                        render_kw={"inputmode": "email"})
    pan = StringField("PAN", filters=[upper_or_none], validators=[Optional(), v.PAN],
                      render_kw={"autocapitalize": "characters"})
    upi_id = StringField("UPI id", filters=[blank_to_none], validators=[Optional(), v.UPI_ID])
    bank_account_no = StringField("Bank account number", filters=[blank_to_none],
                                  validators=[Optional(), v.BANK_ACCOUNT], render_kw={"inputmode": "numeric"})
    ifsc = StringField("IFSC", filters=[upper_or_none], validators=[Optional(), v.IFSC],
                       render_kw={"autocapitalize": "characters"})

    def validate_ifsc(self, field):
        if bool(field.data) != bool(self.bank_account_no.data):
            raise v.ValidationError("Give both the account number and the IFSC, or neither")


class NewStaffForm(StaffForm):
    pin, pin_confirm = new_pin_fields("First PIN")


STAFF_ERRORS = {
    "staff_staff_code_key": ("staff_code", "Another staff member already has this code"),
    "staff_phone_check": ("phone", "Mobile number is 10 digits starting with 6-9"),
    "staff_email_check": ("email", "Not a valid e-mail address"),
    "staff_pan_check": ("pan", "Not a valid PAN"),
    "staff_upi_id_check": ("upi_id", "Not a valid UPI id"),
    "staff_ifsc_check": ("ifsc", "Not a valid IFSC"),
    "staff_bank_account_no_check": ("bank_account_no", "Account number is 9 to 18 digits"),
    "staff_bank_account_needs_ifsc": ("ifsc", "Give both the account number and the IFSC, or neither"),
    "staff_keep_an_admin": ("designation", "At least one active administrator must remain"),
    "staff_designation_fkey": ("designation", "Unknown role"),
    "staff_branch_id_fkey": ("branch_id", "Unknown branch"),
}
