"""The channels a message leaves by, each one small adapter with one method, ``send(message)``,
returning the provider's message id or raising ``SendError`` (``permanent``: trying again cannot
help, e.g. the provider refused the number; otherwise the message is tried again later).

- e-mail: an SMTP server (host, port, STARTTLS, user from communication.setting; the password
  from ERP_SMTP_PASSWORD or instance/smtp_password, never the database);
- SMS: an HTTP provider taking the DLT fields (principal entity id, sender header, the template's
  registered id) and the registered text with only its variables filled; API key from
  ERP_SMS_API_KEY or instance/sms_api_key;
- WhatsApp: the Business Cloud API's template message (name, language, body parameters); token
  from ERP_WHATSAPP_TOKEN or instance/whatsapp_token.
Calls are not sent: they are the call list's lines (webapp/communication/views.py).
"""
from __future__ import annotations

import json
import os
import smtplib
import socket
import urllib.error
import urllib.request
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path


class SendError(Exception):
    def __init__(self, message: str, permanent: bool = False):
        super().__init__(message[:480])
        self.permanent = permanent


def secret(instance_path: str | None, env_name: str, file_name: str) -> str | None:
    """A provider's password or token: the environment first, else a file in the instance folder."""
    value = os.environ.get(env_name)
    if value:
        return value
    if instance_path:
        path = Path(instance_path) / file_name
        if path.is_file():
            return path.read_text(encoding="utf-8").strip() or None
    return None


class EmailChannel:
    def __init__(self, settings, password: str | None):
        self.settings = settings
        self.password = password

    def send(self, message) -> str:
        s = self.settings
        mail = EmailMessage()
        mail["From"] = s["email_from"]
        mail["To"] = message["to_address"]
        mail["Subject"] = message["subject"] or ""
        domain = s["email_from"].rsplit("@", 1)[-1]
        mail["Message-ID"] = make_msgid(idstring=f"erp{message['message_id']}", domain=domain)
        mail.set_content(message["body"])
        try:
            with smtplib.SMTP(s["smtp_host"], s["smtp_port"], timeout=s["timeout_seconds"]) as smtp:
                if s["smtp_starttls"]:
                    smtp.starttls()
                if s["smtp_user"]:
                    smtp.login(s["smtp_user"], self.password or "")
                refused = smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            raise SendError(f"the mail server refused the address: {_first(exc.recipients)}", permanent=True)
        except smtplib.SMTPResponseException as exc:
            raise SendError(f"the mail server said {exc.smtp_code}", permanent=500 <= exc.smtp_code < 600
                            and exc.smtp_code not in (530, 535))
        except (OSError, smtplib.SMTPException) as exc:
            raise SendError(f"the mail server could not be reached: {type(exc).__name__}")
        if refused:
            raise SendError("the mail server refused the address", permanent=True)
        return mail["Message-ID"]


def _first(mapping) -> str:
    for value in (mapping or {}).values():
        return str(value)[:200]
    return ""


def _post_json(url: str, payload: dict, headers: dict, timeout: int) -> dict:
    """POST a JSON body; the answer's JSON. HTTP 4xx (but 408/429) is a permanent refusal, the rest
    (5xx, a timeout, no connection) is tried again later."""
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read(65536)
    except urllib.error.HTTPError as exc:
        raise SendError(f"the provider answered HTTP {exc.code}",
                        permanent=400 <= exc.code < 500 and exc.code not in (408, 429))
    except (TimeoutError, socket.timeout):
        raise SendError("the provider did not answer in time")
    except (urllib.error.URLError, OSError) as exc:
        raise SendError(f"the provider could not be reached: {type(exc).__name__}")
    try:
        return json.loads(body or b"{}")
    except ValueError:
        raise SendError("the provider's answer was not JSON")


class SmsChannel:
    def __init__(self, settings, api_key: str | None):
        self.settings = settings
        self.api_key = api_key

    def payload(self, message) -> dict:
        s = self.settings
        return {"to": "91" + message["to_address"], "entity_id": s["dlt_entity_id"], "sender": s["sms_sender"],
                "template_id": message["dlt_template_id"], "text": message["body"]}

    def send(self, message) -> str:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        answer = _post_json(self.settings["sms_url"], self.payload(message), headers, self.settings["timeout_seconds"])
        message_id = answer.get("message_id") or answer.get("id")
        if not message_id:
            raise SendError("the provider gave no message id")
        return str(message_id)[:200]


class WhatsAppChannel:
    def __init__(self, settings, token: str | None):
        self.settings = settings
        self.token = token

    def payload(self, message) -> dict:
        return {
            "messaging_product": "whatsapp", "to": "91" + message["to_address"], "type": "template",
            "template": {
                "name": message["wa_template_name"], "language": {"code": message["wa_language"]},
                "components": [{"type": "body",
                                "parameters": [{"type": "text", "text": str(v)} for v in message["params"]]}],
            },
        }

    def send(self, message) -> str:
        url = self.settings["whatsapp_url"].rstrip("/") + f"/{self.settings['whatsapp_phone_id']}/messages"
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        answer = _post_json(url, self.payload(message), headers, self.settings["timeout_seconds"])
        try:
            return str(answer["messages"][0]["id"])[:200]
        except (KeyError, IndexError, TypeError):
            raise SendError("the provider gave no message id")


def channels_for(settings, instance_path: str | None) -> dict:
    """The adapters of the channels turned on in the settings."""
    found = {}
    if settings["email_enabled"]:
        found["EMAIL"] = EmailChannel(settings, secret(instance_path, "ERP_SMTP_PASSWORD", "smtp_password"))
    if settings["sms_enabled"]:
        found["SMS"] = SmsChannel(settings, secret(instance_path, "ERP_SMS_API_KEY", "sms_api_key"))
    if settings["whatsapp_enabled"]:
        found["WHATSAPP"] = WhatsAppChannel(settings, secret(instance_path, "ERP_WHATSAPP_TOKEN", "whatsapp_token"))
    return found
