"""Forms of the communication screens: reminder rules, templates (with the placeholder check the
database makes, said next to the text), the channels' settings, consent and a call's outcome. What
PostgreSQL refuses comes back next to its field (the *_MESSAGES dicts)."""
from __future__ import annotations

import re

from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional, Regexp, ValidationError

from ..forms import FlaskForm, Length, blank_to_none, strip, upper

EVENTS = {
    "SERVICE_DUE": "Service due (by date or km)",
    "FREE_SERVICE_LAPSE": "Free service about to lapse",
    "INSURANCE_OD": "Insurance: own damage ends",
    "INSURANCE_TP": "Insurance: third party ends",
    "WARRANTY_VEHICLE": "Vehicle warranty ends",
    "WARRANTY_BATTERY": "Battery warranty ends",
    "RECALL": "Open recall / campaign",
    "DELIVERY_PROMISED": "Promised delivery of a booking",
    "FOLLOW_UP": "Follow-up of a lead",
    "BIRTHDAY": "Birthday wishes",
}
CHANNELS = {"SMS": "SMS", "WHATSAPP": "WhatsApp", "EMAIL": "E-mail", "CALL": "Phone call (call list)"}
LANGUAGES = {"en": "English", "hi": "हिन्दी (Hindi)", "kn": "ಕನ್ನಡ (Kannada)", "ta": "தமிழ் (Tamil)",
             "te": "తెలుగు (Telugu)", "ml": "മലയാളം (Malayalam)", "mr": "मराठी (Marathi)", "gu": "ગુજરાતી (Gujarati)",
             "bn": "বাংলা (Bengali)", "pa": "ਪੰਜਾਬੀ (Punjabi)", "or": "ଓଡ଼ିଆ (Odia)"}
CONSENT_HOW = {"SIGNED_FORM": "Signed form", "IN_PERSON": "In person", "PHONE_CALL": "Phone call",
               "SMS_REPLY": "SMS reply (STOP / START)", "WHATSAPP_REPLY": "WhatsApp reply", "EMAIL_REPLY": "E-mail reply"}
CALL_OUTCOMES = {"REACHED": "Reached, informed", "NOT_INTERESTED": "Reached, not interested",
                 "NO_ANSWER": "No answer", "CALL_BACK": "Asked to call back", "WRONG_NUMBER": "Wrong number"}

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
PLACEHOLDERS = ("customer_name", "vehicle_no", "vin", "model", "due_date", "due_km", "branch_name", "branch_phone",
                "policy_no", "cover", "campaign_title", "booking_no", "free_service_no")


def template_problems(text: str | None) -> list[str]:
    """What communication.template_problems says: unknown placeholder names, and '{' for a stray brace."""
    text = text or ""
    unknown = sorted({name for name in PLACEHOLDER.findall(text) if name not in PLACEHOLDERS})
    if re.search(r"[{}]", PLACEHOLDER.sub("", text)):
        unknown.append("{")
    return unknown


def problems_message(problems: list[str]) -> str:
    names = [p for p in problems if p != "{"]
    parts = []
    if names:
        parts.append("Unknown placeholder " + ", ".join("{" + n + "}" for n in names))
    if "{" in problems:
        parts.append("a brace is not closed: write placeholders as {customer_name}")
    return "; ".join(parts) + ". Known: " + ", ".join("{" + p + "}" for p in PLACEHOLDERS)


def fill(text: str | None, facts: dict) -> str:
    """communication.fill in Python, for the preview."""
    return PLACEHOLDER.sub(lambda m: str(facts.get(m.group(1), "")) if m.group(1) in PLACEHOLDERS else m.group(0),
                           text or "")


def _known_placeholders(_form, field):
    problems = template_problems(field.data)
    if problems:
        raise ValidationError(problems_message(problems))


class RuleForm(FlaskForm):
    event = SelectField("Event", choices=list(EVENTS.items()), validators=[DataRequired("Choose the event")])
    days_before = IntegerField("Days before", default=7, validators=[
        InputRequired("Enter the days before"), NumberRange(min=0, max=120, message="0 to 120 days")])
    channel = SelectField("Channel", choices=list(CHANNELS.items()), validators=[DataRequired("Choose the channel")])
    template_code = SelectField("Template", validators=[DataRequired("Choose the template")])
    promotional = BooleanField("Promotional (only to customers who opted in, in the promotional hours)")
    quiet_from = TimeField("Quiet from", validators=[Optional()], description="Nothing of this rule is sent between")
    quiet_to = TimeField("Quiet to", validators=[Optional()])
    is_active = BooleanField("Active", default=True)

    def data_for_db(self) -> dict:
        data = {name: self[name].data for name in ("event", "days_before", "channel", "template_code", "promotional",
                                                   "quiet_from", "quiet_to", "is_active")}
        data["days_before"] = data["days_before"] or 0
        return data


RULE_MESSAGES = {
    "rule_once": ("days_before", "There is already a rule for this event, days and channel"),
    "rule_template": ("template_code", "This template has no English text for the channel: add it first"),
    "rule_quiet_complete": ("quiet_to", "Give both ends of the quiet hours, or neither"),
    "rule_quiet_not_empty": ("quiet_to", "The quiet hours must end at another time than they start"),
    "rule_days_before_check": ("days_before", "0 to 120 days"),
    "rule_template_code_check": ("template_code", "Capital letters, digits and _"),
    "rule_event_check": ("event", "Choose the event"),
    "rule_channel_check": ("channel", "Choose the channel"),
}


class TemplateForm(FlaskForm):
    code = StringField("Code", filters=[strip, upper], validators=[
        DataRequired("Enter the code"), Regexp(r"^[A-Z0-9_]{2,40}\Z", message="2 to 40 capital letters, digits or _")],
        description="The rules name it; one text per channel and language")
    channel = SelectField("Channel", choices=list(CHANNELS.items()))
    language = SelectField("Language")
    subject = StringField("Subject (e-mail)", filters=[blank_to_none],
                          validators=[Optional(), Length(min=2, max=200), _known_placeholders])
    body = TextAreaField("Text", validators=[DataRequired("Enter the text"), Length(min=2, max=2000),
                                             _known_placeholders],
                         render_kw={"rows": 6})
    dlt_template_id = StringField("DLT template id (SMS)", filters=[blank_to_none], validators=[
        Optional(), Regexp(r"^[0-9]{10,30}\Z", message="10 to 30 digits, as registered on the DLT platform")])
    wa_template_name = StringField("WhatsApp template name", filters=[blank_to_none], validators=[
        Optional(), Regexp(r"^[a-z0-9_]{1,200}\Z", message="Small letters, digits and _, as approved by Meta")])
    wa_language = StringField("WhatsApp language code", filters=[blank_to_none], validators=[
        Optional(), Regexp(r"^[a-z]{2,3}(_[A-Z]{2})?\Z", message="e.g. en, hi, kn or en_US")])

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        channel = self.channel.data
        if channel == "EMAIL" and not self.subject.data and not self.subject.errors:
            self.subject.errors.append("An e-mail needs its subject")
            ok = False
        if channel == "SMS" and not self.dlt_template_id.data and not self.dlt_template_id.errors:
            self.dlt_template_id.errors.append("An SMS needs the template id registered on the DLT platform")
            ok = False
        if channel == "WHATSAPP" and not self.wa_template_name.data and not self.wa_template_name.errors:
            self.wa_template_name.errors.append("A WhatsApp message needs its approved template's name")
            ok = False
        return ok

    def data_for_db(self) -> dict:
        data = {name: self[name].data for name in ("code", "channel", "language", "subject", "body",
                                                   "dlt_template_id", "wa_template_name", "wa_language")}
        channel = data["channel"]
        if channel != "EMAIL":
            data["subject"] = None
        if channel != "SMS":
            data["dlt_template_id"] = None
        if channel != "WHATSAPP":
            data["wa_template_name"] = data["wa_language"] = None
        elif not data["wa_language"]:
            data["wa_language"] = data["language"]
        return data


TEMPLATE_MESSAGES = {
    "template_once": ("language", "This code already has a text for the channel in this language"),
    "template_placeholders": ("body", "Unknown placeholder or an unclosed brace"),
    "template_email_subject": ("subject", "An e-mail needs its subject"),
    "template_sms_dlt": ("dlt_template_id", "An SMS needs the template id registered on the DLT platform"),
    "template_whatsapp": ("wa_template_name", "A WhatsApp message needs its approved template's name and language"),
    "template_code_check": ("code", "2 to 40 capital letters, digits or _"),
    "template_channel_check": ("channel", "Choose the channel"),
    "template_language_check": ("language", "Choose the language"),
    "template_subject_check": ("subject", "2 to 200 characters"),
    "template_body_check": ("body", "2 to 2000 characters"),
    "template_dlt_template_id_check": ("dlt_template_id", "10 to 30 digits"),
    "template_wa_template_name_check": ("wa_template_name", "Small letters, digits and _"),
    "template_wa_language_check": ("wa_language", "e.g. en, hi, kn or en_US"),
}


class SettingsForm(FlaskForm):
    email_enabled = BooleanField("Send e-mail")
    smtp_host = StringField("SMTP server", filters=[blank_to_none], validators=[
        Optional(), Regexp(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,252}\Z", message="A host name such as smtp.example.in")])
    smtp_port = IntegerField("Port", default=587, validators=[DataRequired("Enter the port"),
                                                              NumberRange(min=1, max=65535, message="1 to 65535")])
    smtp_starttls = BooleanField("STARTTLS", default=True)
    smtp_user = StringField("SMTP user", filters=[blank_to_none], validators=[Optional(), Length(max=200)],
                            description="The password is read from ERP_SMTP_PASSWORD or instance/smtp_password")
    email_from = StringField("From address", filters=[blank_to_none], validators=[
        Optional(), Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+\Z", message="An e-mail address")])
    sms_enabled = BooleanField("Send SMS")
    sms_url = StringField("SMS provider URL", filters=[blank_to_none], validators=[
        Optional(), Regexp(r"^https?://\S+\Z", message="An http:// or https:// address"), Length(max=300)],
        description="The API key is read from ERP_SMS_API_KEY or instance/sms_api_key")
    dlt_entity_id = StringField("DLT principal entity id", filters=[blank_to_none], validators=[
        Optional(), Regexp(r"^[0-9]{10,30}\Z", message="10 to 30 digits")])
    sms_sender = StringField("Sender header", filters=[blank_to_none, upper], validators=[
        Optional(), Regexp(r"^[A-Z]{6}\Z", message="6 letters, as registered")])
    whatsapp_enabled = BooleanField("Send WhatsApp")
    whatsapp_url = StringField("WhatsApp Cloud API URL", filters=[blank_to_none], validators=[
        Optional(), Regexp(r"^https?://\S+\Z", message="An http:// or https:// address"), Length(max=300)],
        description="e.g. https://graph.facebook.com/v20.0; the token is read from ERP_WHATSAPP_TOKEN")
    whatsapp_phone_id = StringField("WhatsApp phone number id", filters=[blank_to_none], validators=[
        Optional(), Regexp(r"^[0-9]{5,30}\Z", message="Digits")])
    promo_from = TimeField("Promotional messages from", validators=[DataRequired("Enter the time")])
    promo_to = TimeField("Promotional messages to", validators=[DataRequired("Enter the time")])
    max_attempts = IntegerField("Attempts before giving up", default=5, validators=[
        DataRequired("Enter the attempts"), NumberRange(min=1, max=20, message="1 to 20")])
    retry_minutes = IntegerField("First retry after (minutes)", default=5, validators=[
        DataRequired("Enter the minutes"), NumberRange(min=1, max=1440, message="1 to 1440")])
    timeout_seconds = IntegerField("Provider timeout (seconds)", default=10, validators=[
        DataRequired("Enter the seconds"), NumberRange(min=1, max=120, message="1 to 120")])


SETTING_MESSAGES = {
    "setting_email_complete": ("smtp_host", "E-mail needs the SMTP server and the from address"),
    "setting_sms_complete": ("sms_url", "SMS needs the provider URL, the DLT entity id and the sender header"),
    "setting_whatsapp_complete": ("whatsapp_url", "WhatsApp needs the API URL and the phone number id"),
    "setting_promo_hours": ("promo_to", "The promotional hours must end after they start"),
    "setting_email_from_check": ("email_from", "An e-mail address"),
    "setting_smtp_host_check": ("smtp_host", "A host name such as smtp.example.in"),
    "setting_smtp_port_check": ("smtp_port", "1 to 65535"),
    "setting_smtp_user_check": ("smtp_user", "1 to 200 characters"),
    "setting_sms_url_check": ("sms_url", "An http:// or https:// address"),
    "setting_dlt_entity_id_check": ("dlt_entity_id", "10 to 30 digits"),
    "setting_sms_sender_check": ("sms_sender", "6 letters"),
    "setting_whatsapp_url_check": ("whatsapp_url", "An http:// or https:// address"),
    "setting_whatsapp_phone_id_check": ("whatsapp_phone_id", "Digits"),
    "setting_max_attempts_check": ("max_attempts", "1 to 20"),
    "setting_retry_minutes_check": ("retry_minutes", "1 to 1440"),
    "setting_timeout_seconds_check": ("timeout_seconds", "1 to 120"),
}


CONSENT_CHOICES = [("", "Not asked"), ("in", "Opted in"), ("out", "Opted out")]


class ConsentForm(FlaskForm):
    email = SelectField("E-mail", choices=CONSENT_CHOICES, validators=[Optional()])
    sms = SelectField("SMS", choices=CONSENT_CHOICES, validators=[Optional()])
    whatsapp = SelectField("WhatsApp", choices=CONSENT_CHOICES, validators=[Optional()])
    call = SelectField("Phone calls", choices=CONSENT_CHOICES, validators=[Optional()])
    how = SelectField("How it was given", choices=list(CONSENT_HOW.items()), validators=[DataRequired("Choose how")])
    note = StringField("Note", filters=[blank_to_none], validators=[Optional(), Length(max=300)])
    language = SelectField("Messages in", validators=[Optional()])


CONSENT_MESSAGES = {
    "consent_note_check": ("note", "At most 300 characters"),
    "consent_how_check": ("how", "Choose how"),
    "customer_language_language_check": ("language", "Choose the language"),
}


class CallOutcomeForm(FlaskForm):
    outcome = SelectField("Outcome", choices=[("", "Choose…"), *CALL_OUTCOMES.items()],
                          validators=[DataRequired("Choose the outcome")])
    note = StringField("Note", filters=[blank_to_none], validators=[Optional(), Length(max=300)])


CALL_MESSAGES = {
    "outbox_call_note_check": ("note", "At most 300 characters"),
    "outbox_call_outcome_check": ("outcome", "Choose the outcome"),
}
