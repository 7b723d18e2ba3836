"""The SMPP transport of the outbox: a message goes out on the link of its recipient's operator, part
after part (the parts a dropped link already delivered are not sent again, and the resent ones keep the
message's concatenation reference, so the handset still joins them)."""

from __future__ import annotations

from ivr.store.outbox import ClaimedSms

from ..sms_outbox import ROUTE_SMPP, Delivery, PartSent
from .encoding import encode
from .link import THROTTLING, LinkDown, SmppLink
from .router import NoRoute, Router


class SmppTransport:
    route = ROUTE_SMPP

    def __init__(self, links: dict[str, SmppLink], router: Router) -> None:
        self.links = links
        self.router = router

    async def deliver(self, message: ClaimedSms, part_sent: PartSent) -> Delivery:
        try:
            link = self.links[self.router.link_for(message.recipient)]
        except NoRoute as exc:
            return Delivery("rejected", error=str(exc))
        encoded = encode(message.text, message.reference)
        destination = self.router.international(message.recipient)
        for seq, payload in enumerate(encoded.parts, 1):
            if seq in message.sent:
                continue
            try:
                outcome = await link.submit(source=message.number, destination=destination, short_message=payload,
                                            data_coding=encoded.data_coding, esm_class=encoded.esm_class)
            except LinkDown as exc:
                return Delivery("retry", link.name, str(exc), counted=False)
            if not outcome.accepted:
                error = f"part {seq}: SMSC answered 0x{outcome.status:02x}"
                if not outcome.transient:
                    return Delivery("rejected", link.name, error)
                return Delivery("retry", link.name, error, counted=outcome.status not in THROTTLING)
            await part_sent(seq, link.name, outcome.message_id or "")
        return Delivery("accepted", link.name)
