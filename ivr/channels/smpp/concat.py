"""Reassembly of long mobile-originated messages: the flow sees one text once every part is in.

A part names its long message by a reference (UDH element 0x00 or 0x08, or the sar_msg_ref_num TLV), the
part count and its number. Parts are kept per (link, sender, short number, reference) until all are in
or `hold` seconds pass; a message whose parts never all arrive is handed on with what came (in order),
so a subscriber's text is never silently lost. Pure: the caller passes the time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .encoding import Segment

Key = tuple[str, str, str, int]
DEFAULT_HOLD = 60.0
MAX_PENDING = 10_000         # long messages being assembled at once: a flood of first parts cannot grow memory


@dataclass(frozen=True)
class Assembled:
    """A whole message: its sender, short number, text, the parts it came in, the first part's id, and the
    link it came on."""

    sender: str
    number: str
    text: str
    parts: int
    first_id: str
    complete: bool = True
    link: str = ""


@dataclass
class _Pending:
    total: int
    started: float
    first_id: str
    texts: dict[int, str] = field(default_factory=dict)


class Reassembler:
    def __init__(self, hold: float = DEFAULT_HOLD) -> None:
        self.hold = hold
        self._pending: dict[Key, _Pending] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def add(self, link: str, sender: str, number: str, segment: Segment | None, text: str, part_id: str,
            now: float) -> Assembled | None:
        """One received part; the whole message when this part completes it (a single part at once)."""
        if segment is None or segment.total <= 1:
            return Assembled(sender, number, text, 1, part_id, link=link)
        key = (link, sender, number, segment.reference)
        pending = self._pending.get(key)
        if pending is None or pending.total != segment.total:
            if len(self._pending) >= MAX_PENDING:
                self._pending.pop(next(iter(self._pending)))
            pending = self._pending[key] = _Pending(segment.total, now, part_id)
        if not 1 <= segment.number <= segment.total:
            return None
        pending.texts[segment.number] = text
        if len(pending.texts) < pending.total:
            return None
        del self._pending[key]
        return Assembled(sender, number, "".join(pending.texts[i] for i in sorted(pending.texts)), pending.total,
                         pending.first_id, link=link)

    def expired(self, now: float) -> list[Assembled]:
        """Messages whose parts stopped coming `hold` seconds ago: what arrived, in order."""
        out = []
        for key, pending in list(self._pending.items()):
            if now - pending.started >= self.hold:
                del self._pending[key]
                link, sender, number, _ = key
                out.append(Assembled(sender, number, "".join(pending.texts[i] for i in sorted(pending.texts)),
                                     len(pending.texts), pending.first_id, complete=False, link=link))
        return out
