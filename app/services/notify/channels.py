"""The senders behind the outbox: e-mail over SMTP (from the settings) and a pluggable SMS gateway."""

from __future__ import annotations

import importlib
import logging
import smtplib
from email.message import EmailMessage
from email.utils import formatdate

log = logging.getLogger(__name__)


class DeliveryError(Exception):
    """A channel could not hand the message over; the outbox tries again later."""


class SmtpSender:
    """Sends plain-text mail through the SMTP server named in the settings."""

    def __init__(self, settings):
        self.settings = settings

    def send(self, address: str, subject: str, body: str, message_id: str) -> None:
        """Hand one message to the server (raises ``DeliveryError`` when it is not accepted)."""
        s = self.settings
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = s.MAIL_FROM, address, subject
        message["Date"], message["Message-ID"] = formatdate(localtime=False), message_id
        message.set_content(body)
        connect = smtplib.SMTP_SSL if s.SMTP_SSL else smtplib.SMTP
        try:
            with connect(s.SMTP_HOST, s.SMTP_PORT, timeout=s.SMTP_TIMEOUT_SECONDS) as smtp:
                if s.SMTP_STARTTLS and not s.SMTP_SSL:
                    smtp.starttls()
                if s.SMTP_USER:
                    smtp.login(s.SMTP_USER, s.SMTP_PASSWORD)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"{exc.__class__.__name__}: {exc}") from exc


class LogGateway:
    """An SMS gateway that only writes the message to the log (development and demos)."""

    def __init__(self, settings=None):
        self.settings = settings

    def send(self, phone: str, text: str) -> None:
        """Log the message instead of sending it."""
        log.info("SMS to %s: %s", phone, text)


def sms_gateway(settings):
    """The gateway named by ``SMS_GATEWAY`` (``package.module:factory``, called with the settings)."""
    spec = settings.SMS_GATEWAY
    if not spec:
        return None
    module_name, _, attribute = spec.partition(":")
    if not attribute:
        raise ValueError(f"SMS_GATEWAY must read 'package.module:factory', not {spec!r}")
    factory = getattr(importlib.import_module(module_name), attribute)
    return factory(settings)
