"""Delivery receipts: a deliver_sm whose esm_class says "SMSC delivery receipt" (bits 2-5 = 0b0001),
read from the receipted_message_id and message_state TLVs when present, else from the text format of
SMPP 3.4 appendix B ("id:IIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DDDDDDD
err:E text: ..."). What the receipt says becomes one of our message states."""

from __future__ import annotations

import re
from dataclasses import dataclass

RECEIPT_TYPES = (0x04, 0x08, 0x20)   # esm_class message type: delivery receipt, delivery ack, intermediate
TLV_RECEIPTED_MESSAGE_ID = 0x001E
TLV_MESSAGE_STATE = 0x0427
TLV_NETWORK_ERROR_CODE = 0x0423

# message_state TLV values (SMPP 3.4 §5.2.28) and the stat: words of the text format.
STATE_VALUES = {1: "ENROUTE", 2: "DELIVRD", 3: "EXPIRED", 4: "DELETED", 5: "UNDELIV", 6: "ACCEPTD",
                7: "UNKNOWN", 8: "REJECTD"}
OUR_STATE = {"DELIVRD": "delivered", "EXPIRED": "expired", "DELETED": "undeliverable", "UNDELIV": "undeliverable",
             "REJECTD": "rejected", "ACCEPTD": "accepted", "ENROUTE": "accepted", "UNKNOWN": "accepted"}
FINAL = ("delivered", "expired", "undeliverable", "rejected")
_FIELD = re.compile(r"(id|sub|dlvrd|submit date|done date|stat|err):\s*(\S*)", re.IGNORECASE)


@dataclass(frozen=True)
class Receipt:
    message_id: str          # the SMSC's id of the part, as its submit_sm_resp gave it
    state: str               # accepted | delivered | undeliverable | expired | rejected
    stat: str                # the SMSC's own word (DELIVRD, UNDELIV, ...)
    error: str | None


def is_receipt(esm_class: int) -> bool:
    return esm_class & 0x3C in RECEIPT_TYPES


def parse(short_message: bytes, tlvs: dict[int, bytes]) -> Receipt | None:
    """The receipt a deliver_sm carries (None when it names no message)."""
    text = short_message.decode("latin-1")
    fields = {name.lower(): value for name, value in _FIELD.findall(text)}
    raw_id = tlvs.get(TLV_RECEIPTED_MESSAGE_ID)
    message_id = raw_id.rstrip(b"\x00").decode("latin-1") if raw_id else fields.get("id", "")
    if not message_id:
        return None
    state_tlv = tlvs.get(TLV_MESSAGE_STATE)
    stat = STATE_VALUES.get(state_tlv[0], "UNKNOWN") if state_tlv else fields.get("stat", "UNKNOWN").upper()
    error = fields.get("err")
    return Receipt(message_id, OUR_STATE.get(stat, "accepted"), stat, error if error not in (None, "", "000") else None)
