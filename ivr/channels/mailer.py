"""E-mail for `notify` nodes: plain SMTP to a configured relay, sent off the event loop."""

from __future__ import annotations

import asyncio
import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

log = logging.getLogger(__name__)


@dataclass
class Mailer:
    host: str
    port: int = 25
    sender: str = "ivr@localhost"
    timeout: float = 10.0

    async def send(self, to: str, subject: str, text: str) -> bool:
        """True when the relay accepted the message."""
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, to, subject
        message.set_content(text)
        try:
            await asyncio.to_thread(self._send, message)
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("e-mail to %s not sent: %s", to, exc)
            return False
        return True

    def _send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            smtp.send_message(message)
