"""What arrives on the operator links: delivery receipts update the outbox; mobile-originated parts are
decoded and reassembled, and each whole message runs the campaign through `SmsGateway.inbound`, the
same way as a message from the HTTP gateway (naming the operator of the link it came on, for charges). A receipt can overtake the write of its submit_sm_resp:
one naming no part yet is looked up again a few times before it counts as unmatched."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from typing import TYPE_CHECKING, Any

from ..sms_metrics import SmsMetrics
from ..sms_outbox import ROUTE_SMPP
from . import receipts
from .concat import Assembled, Reassembler
from .encoding import ESM_UDHI, EncodingError, Segment, decode, split_udh
from .link import Inbound

if TYPE_CHECKING:
    from ..sms import SmsGateway

log = logging.getLogger(__name__)

TLV_SAR_MSG_REF_NUM = 0x020C
TLV_SAR_TOTAL_SEGMENTS = 0x020E
TLV_SAR_SEGMENT_SEQNUM = 0x020F
TLV_MESSAGE_PAYLOAD = 0x0424
RECEIPT_LOOKS = (0.2, 0.5, 1.0, 2.0, 4.0, 8.0)   # seconds between looks for a receipt's part
EXPIRY_POLL = 5.0


class SmppReceiver:
    def __init__(self, gateway: "SmsGateway", store: Any, metrics: SmsMetrics,
                 reassembler: Reassembler | None = None, link_operators: dict[str, str] | None = None) -> None:
        self.gateway = gateway
        self.link_operators = link_operators or {}       # link → the operator whose subscribers it carries
        self.store = store
        self.metrics = metrics
        self.reassembler = reassembler or Reassembler()
        self._background: set[asyncio.Task[None]] = set()
        self._expiry: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._expiry = asyncio.ensure_future(self._expire_loop())

    async def stop(self) -> None:
        for task in [*self._background, *([self._expiry] if self._expiry else [])]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def __call__(self, inbound: Inbound) -> None:
        if receipts.is_receipt(inbound.esm_class):
            receipt = receipts.parse(inbound.short_message, inbound.tlvs)
            if receipt is None:
                log.warning("link %s: a delivery receipt without a message id", inbound.link)
                return
            if not await self._apply(inbound.link, receipt):
                self._spawn(self._apply_later(inbound.link, receipt))
            return
        body = inbound.short_message or inbound.tlvs.get(TLV_MESSAGE_PAYLOAD, b"")
        segment = None
        try:
            if inbound.esm_class & ESM_UDHI:
                segment, body = split_udh(body)
        except EncodingError as exc:
            log.warning("link %s: a message from %s with a bad header (%s): taken as it is", inbound.link,
                        inbound.source, exc)
        if segment is None and TLV_SAR_MSG_REF_NUM in inbound.tlvs:
            segment = Segment(int.from_bytes(inbound.tlvs[TLV_SAR_MSG_REF_NUM], "big"),
                              int.from_bytes(inbound.tlvs.get(TLV_SAR_TOTAL_SEGMENTS, b"\x01"), "big"),
                              int.from_bytes(inbound.tlvs.get(TLV_SAR_SEGMENT_SEQNUM, b"\x01"), "big"))
        whole = self.reassembler.add(inbound.link, inbound.source, inbound.destination, segment,
                                     decode(body, inbound.data_coding), uuid.uuid4().hex, time.monotonic())
        if whole is not None:
            await self._deliver(whole)

    async def _deliver(self, whole: Assembled) -> None:
        self.metrics.inbound[ROUTE_SMPP] += 1
        try:
            await self.gateway.inbound(f"smpp-{whole.first_id}", whole.sender, whole.number, whole.text,
                                       route=ROUTE_SMPP, operator=self.link_operators.get(whole.link))
        except LookupError as exc:
            log.info("SMS from %s to %s not handled: %s", whole.sender, whole.number, exc)

    async def _apply(self, link: str, receipt: receipts.Receipt) -> bool:
        found = await self.store.sms_receipt(link=link, smsc_id=receipt.message_id, state=receipt.state,
                                             error=receipt.error and f"{receipt.stat} err:{receipt.error}")
        if found is None:
            return False
        self.metrics.receipts[receipt.state] += 1
        return True

    async def _apply_later(self, link: str, receipt: receipts.Receipt) -> None:
        for delay in RECEIPT_LOOKS:
            await asyncio.sleep(delay)
            if await self._apply(link, receipt):
                return
        self.metrics.unmatched_receipts += 1
        log.info("link %s: a receipt for %s names no message we sent", link, receipt.message_id)

    async def _expire_loop(self) -> None:
        while True:
            await asyncio.sleep(EXPIRY_POLL)
            for whole in self.reassembler.expired(time.monotonic()):
                log.info("SMS from %s: %d parts came of a long message; handled as it is", whole.sender, whole.parts)
                await self._deliver(whole)

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
