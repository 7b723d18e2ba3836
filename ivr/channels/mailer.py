"""E-mail for `notify` nodes and reports: plain SMTP to a configured relay, sent off the event loop."""

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

    async def send(self, to: str, subject: str, text: str, html: str | None = None,
                   images: dict[str, bytes] | None = None) -> bool:
        """True when the relay accepted the message: plain `text`, or also `html` showing PNG `images` by their
        Content-ID (`<img src="cid:ID">`), attached inline (multipart/alternative with multipart/related)."""
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, to, subject
        message.set_content(text)
        if html is not None:
            message.add_alternative(html, subtype="html")
            page = message.get_payload()[-1]
            for cid, png in (images or {}).items():
                page.add_related(png, maintype="image", subtype="png", cid=f"<{cid}>", filename=f"{cid.split('@')[0]}.png")
        try:
            await asyncio.to_thread(self._send, message)
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("e-mail to %s not sent: %s", to, exc)
            return False
        return True

    def _send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            smtp.send_message(message)
